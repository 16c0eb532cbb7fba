// SPDX-License-Identifier: GPL-2.0
/*
 * slot_delete - deleting a memory slot (memory_size 0) while the vCPU is
 * stopped turns later guest accesses to that range into KVM_EXIT_MMIO, and
 * adding a slot back makes them plain memory again.
 *
 * Sequence: the guest writes to slot 1 (host checks its buffer); the host
 * deletes slot 1; the guest does a 4-byte read (host completes it through
 * kvm_run->mmio.data and the guest must get that value), an 8-byte write, a
 * 1-byte write and a 2-byte read, all plain MOVs; every exit's phys_addr,
 * len, is_write and data are checked.  Then the host adds a new slot 1 with
 * different contents and the guest reads them without any exit.
 */
#include "kvmtest.h"

#include <string.h>

#define BASE 0x10000000ull

static void guest_main(void)
{
	uint64_t v8;
	uint32_t v4;
	uint16_t v2;

	__asm__ volatile("movq %0, (%1)"
			 :
			 : "r"(0x1111222233334444ull), "r"(BASE)
			 : "memory");
	GUEST_SYNC(1, 0, 0);
	/* slot 1 is gone now */
	__asm__ volatile("movl (%1), %0"
			 : "=r"(v4)
			 : "r"(BASE + 0x10)
			 : "memory");
	GUEST_ASSERT_EQ(v4, 0xfeedface);
	__asm__ volatile("movq %0, (%1)"
			 :
			 : "r"(0x0123456789abcdefull), "r"(BASE + 0x20)
			 : "memory");
	__asm__ volatile("movb %0, (%1)"
			 :
			 : "q"((uint8_t)0x5a), "r"(BASE + 0x30)
			 : "memory");
	__asm__ volatile("movw (%1), %0"
			 : "=r"(v2)
			 : "r"(BASE + 0x40)
			 : "memory");
	GUEST_ASSERT_EQ(v2, 0xbeef);
	GUEST_SYNC(2, v4, v2);
	/* a new slot 1 */
	__asm__ volatile("movq (%1), %0"
			 : "=r"(v8)
			 : "r"(BASE + 0x100)
			 : "memory");
	GUEST_ASSERT_EQ(v8, 0x7777777777777777ull);
	GUEST_SYNC(3, v8, 0);
	GUEST_DONE();
	guest_hlt_forever();
}

static void expect_mmio(struct kt_vcpu *v, uint64_t gpa, uint32_t len,
			int is_write, uint64_t wdata, uint64_t rdata)
{
	struct kvm_run *run = v->run;
	uint32_t r = kt_run(v);
	uint64_t d = 0;

	KT_ASSERT(r == KVM_EXIT_MMIO, "expected MMIO exit at 0x%llx, got %s",
		  (unsigned long long)gpa, kt_exit_name(r));
	printf("MMIO exit: phys_addr=0x%llx len=%u is_write=%u",
	       (unsigned long long)run->mmio.phys_addr, run->mmio.len,
	       run->mmio.is_write);
	KT_ASSERT_EQ(run->mmio.phys_addr, gpa);
	KT_ASSERT_EQ(run->mmio.len, len);
	KT_ASSERT_EQ(run->mmio.is_write, is_write);
	if (is_write) {
		memcpy(&d, run->mmio.data, len);
		printf(" data=0x%llx\n", (unsigned long long)d);
		KT_ASSERT_EQ(d, wdata);
	} else {
		memcpy(run->mmio.data, &rdata, len);
		printf(" supplied=0x%llx\n", (unsigned long long)rdata);
	}
}

int main(void)
{
	struct kt_vcpu *v;
	struct kt_ucall uc;
	uint64_t *b;

	kt_init("slot_delete");
	v = kt_create_default();
	b = kt_mem_add(v->vm, 1, BASE, 0x200000, 0);
	kt_setup_long(v, (uint64_t)(uintptr_t)guest_main, KT_STACK_ENTRY);
	kt_expect_sync(v, 1, &uc);
	printf("guest write landed in slot 1's buffer: %s\n",
	       b[0] == 0x1111222233334444ull ? "yes" : "no");
	KT_ASSERT_EQ(b[0], 0x1111222233334444ull);

	kt_mem_del(v->vm, 1);
	printf("slot 1 deleted\n");
	expect_mmio(v, BASE + 0x10, 4, 0, 0, 0xfeedface);
	expect_mmio(v, BASE + 0x20, 8, 1, 0x0123456789abcdefull, 0);
	expect_mmio(v, BASE + 0x30, 1, 1, 0x5a, 0);
	expect_mmio(v, BASE + 0x40, 2, 0, 0, 0xbeef);
	kt_expect_sync(v, 2, &uc);
	printf("guest got the MMIO read data: 0x%llx 0x%llx\n",
	       (unsigned long long)uc.args[1], (unsigned long long)uc.args[2]);

	b = kt_mem_add(v->vm, 1, BASE, 0x200000, 0);
	memset(b, 0x77, 0x200000);
	printf("slot 1 added again\n");
	kt_expect_sync(v, 3, &uc);
	printf("guest read the new slot without an exit: 0x%llx\n",
	       (unsigned long long)uc.args[1]);
	kt_expect_done(v);
	kt_pass();
}
