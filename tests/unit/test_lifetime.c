// SPDX-License-Identifier: GPL-2.0
/*
 * test_lifetime.c - VM and vCPU lifetime (core/vm.c, core/vcpu.c,
 * core/core.c): vCPU ids and limits as Linux's kvm_vm_ioctl_create_vcpu,
 * the VM kept alive by every reference (the VM file and each vCPU file) and
 * freed with the last, every allocation failing in turn, and the module's
 * start with no usable hardware backend.
 */
#include <string.h>

#include "fx.h"

static void held(struct host_held *h)
{
	host_held(h);
}

static void expect_held(const struct host_held *a, const struct host_held *b)
{
	XT_EQ(a->objects, b->objects);
	XT_EQ(a->pages, b->pages);
	XT_EQ(a->pinned, b->pinned);
}

XT_TEST(lifetime, vm_type_must_be_zero)
{
	struct xk_vm *vm = NULL;
	struct host_held h0, h1;

	fake_install();
	held(&h0);
	XT_EQ(xk_vm_create(1, &vm), -EINVAL);
	XT_EQ(xk_vm_create(~0UL, &vm), -EINVAL);
	XT_ASSERT(vm == NULL);
	held(&h1);
	expect_held(&h0, &h1);
}

XT_TEST(lifetime, vcpu_ids)
{
	struct fx *f = fx_new();
	struct xk_vcpu *v = NULL, *v2 = NULL;

	XT_EQ(xk_vcpu_create(f->vm, 0, &v), -EEXIST);
	XT_EQ(xk_vcpu_create(f->vm, XK_MAX_VCPU_ID, &v), -EINVAL);
	XT_EQ(xk_vcpu_create(f->vm, 0xffffffff, &v), -EINVAL);
	XT_ASSERT(v == NULL);
	XT_EQ(xk_vcpu_create(f->vm, XK_MAX_VCPU_ID - 1, &v), 0);
	XT_EQ(v->id, XK_MAX_VCPU_ID - 1);
	XT_EQ(xk_vcpu_create(f->vm, XK_MAX_VCPU_ID - 1, &v2), -EEXIST);
	XT_EQ(f->vm->nvcpus, 2);
	XT_ASSERT(f->vm->vcpus == v); /* newest first */
	XT_ASSERT(v->next == f->v);
	XT_EQ(v->cpu, -1);
	XT_ASSERT(!v->has_run);
}

XT_TEST(lifetime, vcpu_count_limit)
{
	struct fx *f = fx_new_vm();
	struct xk_vcpu *v;
	u32 i;

	for (i = 0; i < XK_MAX_VCPUS; i++) {
		xt_ctx("vcpu %u", i);
		XT_EQ(xk_vcpu_create(f->vm, i * 7, &v), 0);
	}
	XT_EQ(xk_vcpu_create(f->vm, 1000, &v), -EINVAL);
	XT_EQ(f->vm->nvcpus, XK_MAX_VCPUS);
	XT_EQ(xk_dev_ioctl(KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS),
	      XK_MAX_VCPUS);
}

/*
 * The VM file holds one reference and every vCPU file one (the Linux glue
 * takes it with xk_vm_get): the VM, its vCPUs and slots stay until the
 * last one goes, whatever the order.
 */
XT_TEST(lifetime, vm_freed_with_last_reference)
{
	struct host_held h0, h1, mid;
	struct xk_vm *vm;
	struct xk_vcpu *v0, *v1;
	struct kvm_regs regs;
	unsigned long destroyed;
	static u8 mem[4 * 4096] __attribute__((aligned(4096)));
	struct kvm_userspace_memory_region r = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = sizeof(mem),
		.userspace_addr = (u64)(uintptr_t)mem,
	};

	fake_install();
	fake_clear_error();
	held(&h0);
	destroyed = fake_vm_destroyed();
	XT_EQ(xk_vm_create(0, &vm), 0);
	XT_EQ(xk_vm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, (u64)(uintptr_t)&r),
	      0);
	XT_EQ(xk_vcpu_create(vm, 0, &v0), 0);
	xk_vm_get(vm);
	XT_EQ(xk_vcpu_create(vm, 1, &v1), 0);
	xk_vm_get(vm);
	XT_EQ(vm->refs, 3);
	held(&mid);

	xk_vm_put(vm); /* the VM file is closed first */
	XT_EQ(fake_vm_destroyed(), destroyed);
	held(&h1);
	expect_held(&h1, &mid);
	/* the vCPU still works */
	XT_EQ(xk_vcpu_ioctl(v1, KVM_GET_REGS, (u64)(uintptr_t)&regs), 0);
	XT_EQ(regs.rip, 0xfff0);
	XT_EQ(fake_set_script(v1, NULL, 0), 0);
	XT_EQ(xk_vcpu_ioctl(v1, KVM_RUN, 0), 0);
	XT_EQ(v1->run->exit_reason, KVM_EXIT_UNKNOWN);

	xk_vm_put(vm);
	XT_EQ(fake_vm_destroyed(), destroyed);
	xk_vm_put(vm); /* the last vCPU file */
	XT_EQ(fake_vm_destroyed(), destroyed + 1);
	held(&h1);
	expect_held(&h1, &h0);
	fx_check_fake();
}

XT_TEST(lifetime, destroy_after_runs_and_slots)
{
	struct host_held h0, h1;
	struct xk_vcpu *v1;
	struct fx *f;

	held(&h0);
	f = fx_new();
	fx_mem(f, 0, 0, 4, 0);
	fx_mem(f, 1, 0x100000, 4, KVM_MEM_READONLY);
	XT_EQ(xk_vcpu_create(f->vm, 3, &v1), 0);
	fx_real_mode(f, 0x100);
	FX_SCRIPT(f, { .kind = FAKE_IO, .port = 0x80, .size = 1, .nrip = 1 });
	fx_run_expect(f, KVM_EXIT_IO); /* a completion left pending */
	XT_EQ(fx_set_cpuid(f, NULL, 0), 0);
	fx_destroy(f); /* the fake checks nothing is left mapped */
	held(&h1);
	expect_held(&h0, &h1);
}

/* Every allocation of VM creation, failed in turn. */
XT_TEST(lifetime, vm_create_fault_injection)
{
	struct xk_vm *vm;
	unsigned long n, i;

	fake_install();
	host_user_fail_nth(0, HOST_USER_FAIL_ALL);
	XT_EQ(xk_vm_create(0, &vm), 0);
	n = host_user_fail_points();
	xk_vm_put(vm);
	XT_ASSERT(n >= 4); /* VM, lock, mmu lock, backend state */
	for (i = 1; i <= n; i++) {
		struct host_held h0, h1;

		xt_ctx("failure point %lu of %lu", i, n);
		held(&h0);
		vm = NULL;
		host_user_fail_nth(i, HOST_USER_FAIL_ALL);
		XT_EQ(xk_vm_create(0, &vm), -ENOMEM);
		XT_ASSERT(host_user_fail_fired());
		host_user_fail_nth(0, HOST_USER_FAIL_ALL);
		XT_ASSERT(vm == NULL);
		held(&h1);
		expect_held(&h0, &h1);
	}
}

/* Every allocation of vCPU creation, failed in turn: the VM is intact. */
XT_TEST(lifetime, vcpu_create_fault_injection)
{
	struct fx *f = fx_new_vm();
	struct xk_vcpu *v;
	unsigned long n, i;

	host_user_fail_nth(0, HOST_USER_FAIL_ALL);
	XT_EQ(xk_vcpu_create(f->vm, 5, &v), 0);
	n = host_user_fail_points();
	XT_ASSERT(n >= 5); /* vCPU, lock, run page, PIO page, FPU, backend */
	for (i = 1; i <= n; i++) {
		struct host_held h0, h1;

		xt_ctx("failure point %lu of %lu", i, n);
		held(&h0);
		host_user_fail_nth(i, HOST_USER_FAIL_ALL);
		XT_EQ(xk_vcpu_create(f->vm, 100 + (u32)i, &v), -ENOMEM);
		XT_ASSERT(host_user_fail_fired());
		host_user_fail_nth(0, HOST_USER_FAIL_ALL);
		held(&h1);
		expect_held(&h0, &h1);
		XT_EQ(f->vm->nvcpus, 1);
		XT_ASSERT(f->vm->vcpus->id == 5);
	}
	/* the ids that failed were not taken */
	XT_EQ(xk_vcpu_create(f->vm, 101, &v), 0);
	XT_EQ(f->vm->nvcpus, 2);
}

/* There is no hardware backend in user space: the module refuses. */
XT_TEST(lifetime, core_init_without_backend)
{
	struct host_held h0, h1;

	fake_install();
	held(&h0);
	XT_EQ(xk_core_init(), -ENODEV);
	XT_ASSERT(xk_ops == &fake_ops); /* left alone */
	XT_ASSERT(strstr(host_user_last_log(), "no hardware backend"));
	held(&h1);
	expect_held(&h0, &h1);
	XT_EQ(xk_cpu_online(0), 0); /* the fake backend's */
	xk_cpu_offline(0);
	xk_core_exit();
	XT_ASSERT(xk_ops == NULL);
	fake_install();
	XT_ASSERT(xk_ops == &fake_ops);
}
