// SPDX-License-Identifier: GPL-2.0
/*
 * test_ioctl.c - the ioctl layer (core/ioctl.c) through xk_dev_ioctl,
 * xk_vm_ioctl and xk_vcpu_ioctl with "user" pointers: dispatch, argument
 * copies, capabilities, registers, special registers, CPUID tables and MSR
 * lists, against Linux's semantics (arch/x86/kvm/x86.c, kvm_main.c,
 * Documentation/virt/kvm/api.rst).
 */
#include <stdint.h>
#include <string.h>

#include "fx.h"

static u64 ua(const void *p)
{
	return (u64)(uintptr_t)p;
}

/* ---- /dev/kvm ---- */

XT_TEST(ioctl, dev_api_version_and_mmap_size)
{
	struct fx *f = fx_new();

	XT_EQ(xk_dev_ioctl(KVM_GET_API_VERSION, 0), KVM_API_VERSION);
	XT_EQ(xk_dev_ioctl(KVM_GET_VCPU_MMAP_SIZE, 0), 2 * XK_PAGE_SIZE);
	/* the two pages behind the vCPU's mmap: kvm_run, then PIO data */
	XT_ASSERT(xk_vcpu_mmap_page(f->v, 0) == (void *)f->run);
	XT_ASSERT(xk_vcpu_mmap_page(f->v, 1) == f->v->pio_data);
	XT_ASSERT(xk_vcpu_mmap_page(f->v, 2) == NULL);
	XT_ASSERT(xk_vcpu_mmap_page(f->v, ~0ULL) == NULL);
}

XT_TEST(ioctl, dev_nonzero_arg_einval)
{
	XT_EQ(xk_dev_ioctl(KVM_GET_API_VERSION, 1), -EINVAL);
	XT_EQ(xk_dev_ioctl(KVM_GET_VCPU_MMAP_SIZE, 1), -EINVAL);
}

/*
 * An ioctl nobody knows: Linux answers -ENOTTY on a VM but -EINVAL on
 * /dev/kvm and on a vCPU (the default cases of kvm_arch_vm_ioctl,
 * kvm_arch_dev_ioctl and kvm_arch_vcpu_ioctl).
 */
XT_TEST(ioctl, unknown_ioctl_errno_per_file)
{
	struct fx *f = fx_new();
	struct kvm_regs regs;
	static const unsigned int odd[] = {
		0,
		0xdeadbeef,
		_IO(KVMIO, 0xff),
		_IOR(KVMIO, 0x81, __u64), /* KVM_GET_REGS, wrong size */
		_IOW(KVMIO, 0x82, struct kvm_sregs), /* wrong number */
		_IOR('T', 0x81, struct kvm_regs), /* KVM_GET_REGS, wrong type */
	};
	unsigned int i;

	for (i = 0; i < XK_ARRAY_SIZE(odd); i++) {
		xt_ctx("cmd %#x", odd[i]);
		XT_EQ(xk_dev_ioctl(odd[i], ua(&regs)), -EINVAL);
		XT_EQ(fx_vm_ioctl(f, odd[i], &regs), -ENOTTY);
		XT_EQ(fx_vcpu_ioctl(f, odd[i], &regs), -EINVAL);
	}
	xt_ctx("%s", "");
	/* a command of another file */
	XT_EQ(fx_vm_ioctl(f, KVM_RUN, NULL), -ENOTTY);
	XT_EQ(fx_vm_ioctl(f, KVM_GET_REGS, &regs), -ENOTTY);
	XT_EQ(fx_vcpu_ioctl(f, KVM_SET_USER_MEMORY_REGION, &regs), -EINVAL);
	XT_EQ(xk_dev_ioctl(KVM_RUN, 0), -EINVAL);
	/* KVM_CREATE_VM/VCPU make file descriptors: the glue's business */
	XT_EQ(xk_dev_ioctl(KVM_CREATE_VM, 0), -EINVAL);
	XT_EQ(fx_vm_ioctl(f, KVM_CREATE_VCPU, NULL), -ENOTTY);
}

struct cap_case {
	long cap;
	int value;
};

XT_TEST(ioctl, check_extension)
{
	static const struct cap_case caps[] = {
		{ KVM_CAP_USER_MEMORY, 1 },
		{ KVM_CAP_SET_TSS_ADDR, 1 },
		{ KVM_CAP_IMMEDIATE_EXIT, 1 },
		{ KVM_CAP_READONLY_MEM, 1 },
		{ KVM_CAP_CHECK_EXTENSION_VM, 1 },
		{ KVM_CAP_DESTROY_MEMORY_REGION_WORKS, 1 },
		{ KVM_CAP_JOIN_MEMORY_REGIONS_WORKS, 1 },
		{ KVM_CAP_NR_VCPUS, XK_MAX_VCPUS },
		{ KVM_CAP_MAX_VCPUS, XK_MAX_VCPUS },
		{ KVM_CAP_MAX_VCPU_ID, XK_MAX_VCPU_ID },
		{ KVM_CAP_NR_MEMSLOTS, XK_MAX_SLOTS },
		/* the in-kernel irqchip; KVM_CAP_IRQCHIP is number 0 */
		{ KVM_CAP_IRQCHIP, 1 },
		{ KVM_CAP_PIT2, 1 },
		{ KVM_CAP_IRQ_ROUTING, 4096 },
		{ KVM_CAP_IRQFD, 1 },
		{ KVM_CAP_IRQFD_RESAMPLE, 1 },
		/* what xkvm does not do must answer 0 */
		{ KVM_CAP_COALESCED_MMIO, 0 },
		{ KVM_CAP_SYNC_REGS, 0 },
		{ KVM_CAP_MULTI_ADDRESS_SPACE, 0 },
		{ KVM_CAP_SET_GUEST_DEBUG, 0 },
		{ KVM_CAP_DIRTY_LOG_RING, 0 },
		{ KVM_CAP_EXIT_ON_EMULATION_FAILURE, 0 },
		{ -1, 0 },
		{ 0x7fffffff, 0 },
	};
	struct fx *f = fx_new_vm();
	unsigned int i;

	for (i = 0; i < XK_ARRAY_SIZE(caps); i++) {
		xt_ctx("cap %ld", caps[i].cap);
		XT_EQ(xk_dev_ioctl(KVM_CHECK_EXTENSION, (u64)caps[i].cap),
		      caps[i].value);
		XT_EQ(xk_vm_ioctl(f->vm, KVM_CHECK_EXTENSION, (u64)caps[i].cap),
		      caps[i].value);
		XT_EQ(xk_cap_value(caps[i].cap), caps[i].value);
	}
}

XT_TEST(ioctl, set_tss_addr)
{
	struct fx *f = fx_new_vm();

	XT_EQ(xk_vm_ioctl(f->vm, KVM_SET_TSS_ADDR, 0xfffbd000), 0);
	XT_EQ(f->vm->tss_addr, 0xfffbd000);
}

/* ---- KVM_GET_REGS / KVM_SET_REGS ---- */

XT_TEST(ioctl, regs_after_reset)
{
	struct fx *f = fx_new();
	struct kvm_regs r;

	fx_get_regs(f, &r);
	XT_EQ(r.rip, 0xfff0);
	XT_EQ(r.rflags, 0x2);
	XT_EQ(r.rdx, 0x600);
	XT_EQ(r.rax | r.rbx | r.rcx | r.rsi | r.rdi | r.rsp | r.rbp, 0);
	XT_EQ(r.r8 | r.r9 | r.r10 | r.r11 | r.r12 | r.r13 | r.r14 | r.r15, 0);
}

XT_TEST(ioctl, regs_round_trip)
{
	struct fx *f = fx_new();
	struct kvm_regs in, out;
	u64 *p = (u64 *)&in;
	unsigned int i;

	XT_EQ(sizeof(in), 18 * 8);
	for (i = 0; i < 18; i++)
		p[i] = 0x1111111111111111ULL * (i + 1);
	in.rflags = 0x245; /* bit 1 clear: KVM forces it */
	fx_set_regs(f, &in);
	memset(&out, 0xcc, sizeof(out));
	fx_get_regs(f, &out);
	in.rflags |= XK_RFLAGS_FIXED;
	XT_MEMEQ(&out, &in, sizeof(in));
	XT_EQ(f->v->gpr[XK_RSP], in.rsp);
	XT_EQ(f->v->gpr[XK_R13], in.r13);
}

XT_TEST(ioctl, regs_bad_pointer_efault)
{
	struct fx *f = fx_new();
	struct kvm_regs r, before, after;

	fx_get_regs(f, &before);
	r = before;
	r.rax = 0x1234;
	host_user_set_efault_range(ua(&r) + 64, 8);
	XT_EQ(fx_vcpu_ioctl(f, KVM_SET_REGS, &r), -EFAULT);
	XT_EQ(fx_vcpu_ioctl(f, KVM_GET_REGS, &r), -EFAULT);
	host_user_set_efault_range(0, 0);
	fx_get_regs(f, &after);
	XT_MEMEQ(&after, &before, sizeof(after)); /* nothing was set */
	XT_EQ(fx_vcpu_ioctl(f, KVM_GET_REGS, (void *)8), -EFAULT);
	XT_EQ(fx_vcpu_ioctl(f, KVM_SET_REGS, NULL), -EFAULT);
}

XT_TEST(ioctl, set_regs_drops_pending_exception)
{
	struct fx *f = fx_new();
	struct kvm_regs r;
	struct fake_event ev;

	xk_queue_exception(f->v, XK_EXC_GP, true, 0);
	fx_get_regs(f, &r);
	fx_set_regs(f, &r);
	fx_script(f, NULL, 0);
	fx_run_to_end(f);
	XT_EQ(fake_events(f->v, &ev, 1), 0);
}

/* ---- KVM_GET_SREGS / KVM_SET_SREGS ---- */

/* A guest CPUID with LM, NX, SYSCALL and FFXSR: EFER may have them. */
static void lm_cpuid(struct fx *f)
{
	static const struct kvm_cpuid_entry2 e[] = {
		{ .function = 0x80000000, .eax = 0x80000001 },
		{ .function = 0x80000001,
		  .edx = CPUID_80000001_EDX_LM | CPUID_80000001_EDX_NX |
			 CPUID_80000001_EDX_SYSCALL |
			 CPUID_80000001_EDX_FFXSR },
	};

	XT_EQ(fx_set_cpuid(f, e, XK_ARRAY_SIZE(e)), 0);
}

static void long_mode_sregs(struct fx *f, struct kvm_sregs *s)
{
	lm_cpuid(f);
	fx_get_sregs(f, s);
	s->cr0 = XK_CR0_PE | XK_CR0_PG | XK_CR0_ET;
	s->cr4 = XK_CR4_PAE;
	s->efer = XK_EFER_LME | XK_EFER_LMA;
	s->cr3 = 0x1000;
	s->cs.l = 1;
	s->cs.db = 0;
}

XT_TEST(ioctl, sregs_round_trip)
{
	struct fx *f = fx_new();
	struct kvm_sregs s, out;

	long_mode_sregs(f, &s);
	s.cs.base = 0x1000;
	s.fs.base = 0xffff888000000000ULL;
	s.gdt.base = 0x5000;
	s.gdt.limit = 0x37;
	s.cr2 = 0xdead000;
	s.cr8 = 0x1f; /* only the low four bits exist */
	s.apic_base = 0xfee00000 | XK_APICBASE_ENABLE;
	s.interrupt_bitmap[0] = 0; /* no pending interrupt */
	fx_set_sregs(f, &s);
	memset(&out, 0xcc, sizeof(out));
	fx_get_sregs(f, &out);
	XT_EQ(out.cr8, 0xf);
	XT_EQ(out.apic_base, s.apic_base);
	XT_EQ(out.interrupt_bitmap[0] | out.interrupt_bitmap[1] |
		      out.interrupt_bitmap[2] | out.interrupt_bitmap[3],
	      0);
	out.cr8 = s.cr8;
	XT_MEMEQ(&out, &s, sizeof(s));
	XT_EQ(fake_sregs(f->v)->efer, XK_EFER_LME | XK_EFER_LMA);
}

XT_TEST(ioctl, sregs_reset_state)
{
	struct fx *f = fx_new();
	struct xk_vcpu *v1;
	struct kvm_sregs s;

	fx_get_sregs(f, &s);
	XT_EQ(s.cs.selector, 0xf000);
	XT_EQ(s.cs.base, 0xffff0000);
	XT_EQ(s.cr0, XK_CR0_ET | XK_CR0_CD | XK_CR0_NW);
	XT_EQ(s.efer, 0);
	/* vCPU 0 is the bootstrap processor */
	XT_EQ(s.apic_base,
	      XK_APICBASE_DEFAULT | XK_APICBASE_ENABLE | XK_APICBASE_BSP);
	XT_EQ(xk_vcpu_create(f->vm, 1, &v1), 0);
	XT_EQ(xk_vcpu_ioctl(v1, KVM_GET_SREGS, ua(&s)), 0);
	XT_EQ(s.apic_base, XK_APICBASE_DEFAULT | XK_APICBASE_ENABLE);
}

struct sregs_case {
	const char *what;
	u64 cr0, cr3, cr4, efer, apic_base;
	bool cs_l;
	int want;
};

#define PE XK_CR0_PE
#define PG XK_CR0_PG
#define ET XK_CR0_ET
#define PAE XK_CR4_PAE
#define LME XK_EFER_LME
#define LMA XK_EFER_LMA
#define APIC (XK_APICBASE_DEFAULT | XK_APICBASE_ENABLE)

XT_TEST(ioctl, sregs_validation)
{
	static const struct sregs_case cases[] = {
		{ "real mode", ET, 0, 0, 0, APIC, false, 0 },
		{ "32-bit paging", PE | PG | ET, 0x1000, 0, 0, APIC, false, 0 },
		{ "PAE paging", PE | PG | ET, 0x1000, PAE, 0, APIC, false, 0 },
		{ "long mode", PE | PG | ET, 0x1000, PAE, LME | LMA, APIC, true,
		  0 },
		{ "compat mode", PE | PG | ET, 0x1000, PAE, LME | LMA, APIC,
		  false, 0 },
		{ "LME before paging", PE | ET, 0, 0, LME, APIC, false, 0 },
		{ "LME+PG without PAE", PE | PG | ET, 0x1000, 0, LME | LMA,
		  APIC, true, -EINVAL },
		{ "LME+PG without LMA", PE | PG | ET, 0x1000, PAE, LME, APIC,
		  true, -EINVAL },
		{ "LMA without PG", PE | ET, 0x1000, PAE, LME | LMA, APIC,
		  false, -EINVAL },
		{ "LMA without LME", PE | PG | ET, 0x1000, PAE, LMA, APIC,
		  false, -EINVAL },
		{ "CS.L outside long mode", PE | ET, 0, 0, 0, APIC, true,
		  -EINVAL },
		{ "CS.L with PAE paging", PE | PG | ET, 0x1000, PAE, 0, APIC,
		  true, -EINVAL },
		{ "CR3 beyond MAXPHYADDR", PE | PG | ET, 1ULL << 52, PAE,
		  LME | LMA, APIC, true, -EINVAL },
		{ "CR4 bit 15", ET, 0, XK_BIT(15), 0, APIC, false, -EINVAL },
		{ "CR4.VMXE", ET, 0, XK_BIT(13), 0, APIC, false, -EINVAL },
		{ "CR4 bit 25", ET, 0, XK_BIT(25), 0, APIC, false, -EINVAL },
		{ "CR4 bit 32", ET, 0, XK_BIT(32), 0, APIC, false, -EINVAL },
		{ "CR4 bit 63", ET, 0, XK_BIT(63), 0, APIC, false, -EINVAL },
		{ "APIC base reserved bit 9", ET, 0, 0, 0, APIC | XK_BIT(9),
		  false, -EINVAL },
		{ "APIC base beyond MAXPHYADDR", ET, 0, 0, 0, APIC | XK_BIT(52),
		  false, -EINVAL },
		/* EFER as the guest's CPUID allows (kvm_valid_efer) */
		{ "EFER.SCE|NXE", ET, 0, 0, XK_EFER_SCE | XK_EFER_NXE, APIC,
		  false, 0 },
		{ "EFER reserved bit 1", ET, 0, 0, XK_BIT(1), APIC, false,
		  -EINVAL },
		{ "EFER reserved bit 9", ET, 0, 0, XK_BIT(9), APIC, false,
		  -EINVAL },
		{ "EFER bit 63", ET, 0, 0, XK_BIT(63), APIC, false, -EINVAL },
		{ "EFER.SVME (no nested SVM)", ET, 0, 0, XK_EFER_SVME, APIC,
		  false, -EINVAL },
		{ "EFER.LMSLE", ET, 0, 0, XK_EFER_LMSLE, APIC, false, -EINVAL },
		{ "CR3 bit 32 outside long mode", PE | PG | ET, 1ULL << 32, PAE,
		  0, APIC, false, -EINVAL },
	};
	struct fx *f = fx_new();
	struct kvm_sregs base, s, now;
	unsigned int i;

	lm_cpuid(f);
	fx_get_sregs(f, &base);
	for (i = 0; i < XK_ARRAY_SIZE(cases); i++) {
		const struct sregs_case *c = &cases[i];

		xt_ctx("%s", c->what);
		s = base;
		s.cr0 = c->cr0;
		s.cr3 = c->cr3;
		s.cr4 = c->cr4;
		s.efer = c->efer;
		s.apic_base = c->apic_base;
		s.cs.l = c->cs_l;
		s.cs.db = 0;
		/* a refused call leaves everything as it was */
		fx_get_sregs(f, &base);
		XT_EQ(fx_vcpu_ioctl(f, KVM_SET_SREGS, &s), c->want);
		fx_get_sregs(f, &now);
		if (c->want)
			XT_MEMEQ(&now, &base, sizeof(now));
		else
			XT_EQ(now.efer, c->efer);
	}
}

/* EFER bits the guest's CPUID does not offer: EINVAL, as for WRMSR. */
XT_TEST(ioctl, sregs_efer_needs_guest_cpuid)
{
	static const struct kvm_cpuid_entry2 no_lm[] = {
		{ .function = 0x80000000, .eax = 0x80000001 },
		{ .function = 0x80000001, .edx = CPUID_80000001_EDX_SYSCALL },
	};
	struct fx *f = fx_new();
	struct kvm_sregs s;

	XT_EQ(fx_set_cpuid(f, no_lm, XK_ARRAY_SIZE(no_lm)), 0);
	fx_get_sregs(f, &s);
	s.efer = XK_EFER_SCE;
	XT_EQ(fx_vcpu_ioctl(f, KVM_SET_SREGS, &s), 0);
	s.efer = XK_EFER_NXE;
	XT_EQ(fx_vcpu_ioctl(f, KVM_SET_SREGS, &s), -EINVAL);
	s.efer = XK_EFER_FFXSR;
	XT_EQ(fx_vcpu_ioctl(f, KVM_SET_SREGS, &s), -EINVAL);
	s.efer = XK_EFER_LME;
	XT_EQ(fx_vcpu_ioctl(f, KVM_SET_SREGS, &s), -EINVAL);
	s.cr0 = XK_CR0_PE | XK_CR0_PG | XK_CR0_ET;
	s.cr4 = XK_CR4_PAE;
	s.efer = XK_EFER_LME | XK_EFER_LMA;
	s.cs.l = 1;
	XT_EQ(fx_vcpu_ioctl(f, KVM_SET_SREGS, &s), -EINVAL);
	/* no table at all: nothing but SCE's absence of a check */
	XT_EQ(fx_set_cpuid(f, NULL, 0), 0);
	XT_EQ(fx_vcpu_ioctl(f, KVM_SET_SREGS, &s), -EINVAL);
	fx_get_sregs(f, &s);
	XT_EQ(s.efer, XK_EFER_SCE);
}

/* KVM_GET/SET_DEBUGREGS as Linux: flags and bits 63:32 refused. */
XT_TEST(ioctl, debugregs)
{
	struct fx *f = fx_new();
	struct kvm_debugregs d, out;

	XT_EQ(xk_cap_value(KVM_CAP_DEBUGREGS), 1);
	memset(&d, 0xcc, sizeof(d));
	XT_EQ(fx_vcpu_ioctl(f, KVM_GET_DEBUGREGS, &d), 0);
	XT_EQ(d.db[0] | d.db[1] | d.db[2] | d.db[3], 0);
	XT_EQ(d.dr6, XK_DR6_INIT);
	XT_EQ(d.dr7, XK_DR7_INIT);
	XT_EQ(d.flags, 0);
	memset(&d, 0, sizeof(d));
	d.db[0] = 0x1000;
	d.db[3] = 0xffffffff80000000ULL;
	d.dr6 = 0xffff4ff1;
	d.dr7 = 0x401;
	XT_EQ(fx_vcpu_ioctl(f, KVM_SET_DEBUGREGS, &d), 0);
	XT_EQ(fx_vcpu_ioctl(f, KVM_GET_DEBUGREGS, &out), 0);
	XT_MEMEQ(&out, &d, sizeof(d));
	XT_EQ(f->v->dr[3], 0xffffffff80000000ULL);
	d.flags = 1;
	XT_EQ(fx_vcpu_ioctl(f, KVM_SET_DEBUGREGS, &d), -EINVAL);
	d.flags = 0;
	d.dr6 = 1ULL << 32;
	XT_EQ(fx_vcpu_ioctl(f, KVM_SET_DEBUGREGS, &d), -EINVAL);
	d.dr6 = XK_DR6_INIT;
	d.dr7 = 1ULL << 40;
	XT_EQ(fx_vcpu_ioctl(f, KVM_SET_DEBUGREGS, &d), -EINVAL);
	XT_EQ(fx_vcpu_ioctl(f, KVM_GET_DEBUGREGS, &out), 0);
	XT_EQ(out.dr6, 0xffff4ff1);
	XT_EQ(out.dr7, 0x401);
}

struct cr0_case {
	const char *what;
	u64 cr0;
};

XT_TEST(ioctl, sregs_bad_cr0_einval)
{
	static const struct cr0_case cases[] = {
		{ "bit 32", ET | XK_BIT(32) },
		{ "NW without CD", ET | XK_CR0_NW },
		{ "PG without PE", ET | PG },
	};
	struct fx *f = fx_new();
	struct kvm_sregs s;
	unsigned int i;

	for (i = 0; i < XK_ARRAY_SIZE(cases); i++) {
		xt_ctx("%s", cases[i].what);
		fx_get_sregs(f, &s);
		s.cr0 = cases[i].cr0;
		XT_EQ(fx_vcpu_ioctl(f, KVM_SET_SREGS, &s), -EINVAL);
	}
}

XT_TEST(ioctl, sregs_cr4_follows_guest_cpuid)
{
	struct fx *f = fx_new();
	struct kvm_cpuid_entry2 e[2];
	struct kvm_sregs s;

	/* a guest without XSAVE (leaf 1 ECX bit 26) or SMEP (leaf 7 EBX 7) */
	memset(e, 0, sizeof(e));
	e[0].function = 0;
	e[0].eax = 7;
	e[1].function = 1;
	XT_EQ(fx_set_cpuid(f, e, 2), 0);
	fx_get_sregs(f, &s);
	s.cr4 = XK_CR4_OSXSAVE;
	XT_EQ(fx_vcpu_ioctl(f, KVM_SET_SREGS, &s), -EINVAL);
	s.cr4 = XK_CR4_SMEP;
	XT_EQ(fx_vcpu_ioctl(f, KVM_SET_SREGS, &s), -EINVAL);
}

XT_TEST(ioctl, sregs_bad_pointer_efault)
{
	struct fx *f = fx_new();
	struct kvm_sregs s;

	fx_get_sregs(f, &s);
	host_user_set_efault_range(ua(&s) + sizeof(s) - 1, 1);
	XT_EQ(fx_vcpu_ioctl(f, KVM_GET_SREGS, &s), -EFAULT);
	XT_EQ(fx_vcpu_ioctl(f, KVM_SET_SREGS, &s), -EFAULT);
}

/* ---- KVM_SET_CPUID2 / KVM_GET_CPUID2 ---- */

static void cpuid_entries(struct kvm_cpuid_entry2 *e, unsigned int n)
{
	unsigned int i;

	memset(e, 0, n * sizeof(*e));
	for (i = 0; i < n; i++) {
		e[i].function = i < 0x40 ? i : 0x80000000 + i;
		e[i].eax = 0x1000 + i;
		e[i].ebx = 0x2000 + i;
		e[i].ecx = 0x3000 + i;
		e[i].edx = 0x4000 + i;
	}
}

static struct fx_cpuid cpuid_buf;

XT_TEST(ioctl, cpuid2_limits_e2big)
{
	struct fx *f = fx_new();
	struct fx_cpuid *c = &cpuid_buf;

	memset(c, 0, sizeof(*c));
	cpuid_entries(c->e, XK_MAX_CPUID + 1);
	c->hdr.nent = XK_MAX_CPUID + 1;
	XT_EQ(fx_vcpu_ioctl(f, KVM_SET_CPUID2, c), -E2BIG);
	c->hdr.nent = 0xffffffff;
	XT_EQ(fx_vcpu_ioctl(f, KVM_SET_CPUID2, c), -E2BIG);
	XT_EQ(f->v->ncpuid, 0);
	c->hdr.nent = XK_MAX_CPUID;
	XT_EQ(fx_vcpu_ioctl(f, KVM_SET_CPUID2, c), 0);
	XT_EQ(f->v->ncpuid, XK_MAX_CPUID);
}

XT_TEST(ioctl, cpuid2_get)
{
	struct fx *f = fx_new();
	struct fx_cpuid *c = &cpuid_buf;
	struct kvm_cpuid_entry2 e[5];

	cpuid_entries(e, 5);
	XT_EQ(fx_set_cpuid(f, e, 5), 0);
	memset(c, 0xee, sizeof(*c));
	/* too small: -E2BIG, and (Linux) the header is not written back */
	c->hdr.nent = 4;
	XT_EQ(fx_vcpu_ioctl(f, KVM_GET_CPUID2, c), -E2BIG);
	XT_EQ(c->hdr.nent, 4);
	c->hdr.nent = 5;
	XT_EQ(fx_vcpu_ioctl(f, KVM_GET_CPUID2, c), 0);
	XT_EQ(c->hdr.nent, 5);
	XT_MEMEQ(c->e, e, sizeof(e));
	/* larger: nent tells how many there are; the rest is untouched */
	memset(c, 0xee, sizeof(*c));
	c->hdr.nent = 100;
	XT_EQ(fx_vcpu_ioctl(f, KVM_GET_CPUID2, c), 0);
	XT_EQ(c->hdr.nent, 5);
	XT_MEMEQ(c->e, e, sizeof(e));
	XT_EQ(c->e[5].function, 0xeeeeeeee);
}

XT_TEST(ioctl, cpuid2_identical_table_after_run)
{
	struct fx *f = fx_new();
	struct fx_cpuid *c = &cpuid_buf;
	struct kvm_cpuid_entry2 e[4];

	cpuid_entries(e, 4);
	XT_EQ(fx_set_cpuid(f, e, 4), 0);
	e[2].ecx ^= 1;
	XT_EQ(fx_set_cpuid(f, e, 4), 0); /* before the first run: anything */
	fx_script(f, NULL, 0);
	fx_run_to_end(f);
	XT_EQ(fx_set_cpuid(f, e, 4), 0); /* the same table: fine */
	e[2].ecx ^= 1;
	XT_EQ(fx_set_cpuid(f, e, 4), -EINVAL);
	XT_EQ(fx_set_cpuid(f, e, 3), -EINVAL);
	XT_EQ(fx_set_cpuid(f, e, 0), -EINVAL);
	e[2].ecx ^= 1;
	memset(c, 0, sizeof(*c));
	c->hdr.nent = 4;
	XT_EQ(fx_vcpu_ioctl(f, KVM_GET_CPUID2, c), 0);
	XT_MEMEQ(c->e, e, sizeof(e)); /* the table in force is unchanged */
}

XT_TEST(ioctl, cpuid2_after_run_padding_ignored)
{
	struct fx *f = fx_new();
	struct kvm_cpuid_entry2 e[2];

	cpuid_entries(e, 2);
	XT_EQ(fx_set_cpuid(f, e, 2), 0);
	fx_script(f, NULL, 0);
	fx_run_to_end(f);
	e[1].padding[2] = 7;
	XT_EQ(fx_set_cpuid(f, e, 2), 0);
}

XT_TEST(ioctl, cpuid2_empty_table)
{
	struct fx *f = fx_new();
	struct fx_cpuid *c = &cpuid_buf;
	struct kvm_cpuid_entry2 e[1];
	unsigned long bugs0 = host_user_bugs();

	host_user_bug_count_mode(true); /* a size mismatch must not abort */
	cpuid_entries(e, 1);
	XT_EQ(fx_set_cpuid(f, e, 1), 0);
	XT_EQ(fx_set_cpuid(f, e, 0), 0);
	XT_EQ(f->v->ncpuid, 0);
	memset(c, 0, sizeof(*c));
	c->hdr.nent = 3;
	XT_EQ(fx_vcpu_ioctl(f, KVM_GET_CPUID2, c), 0);
	XT_EQ(c->hdr.nent, 0);
	fx_destroy(f);
	XT_EQ(host_user_bugs() - bugs0, 0);
}

XT_TEST(ioctl, cpuid2_efault_and_enomem_keep_old_table)
{
	struct fx *f = fx_new();
	struct fx_cpuid *c = &cpuid_buf;
	struct kvm_cpuid_entry2 e[3];

	cpuid_entries(e, 3);
	XT_EQ(fx_set_cpuid(f, e, 3), 0);
	memset(c, 0, sizeof(*c));
	cpuid_entries(c->e, 8);
	c->hdr.nent = 8;
	host_user_set_efault_range(ua(&c->e[7]), 4);
	XT_EQ(fx_vcpu_ioctl(f, KVM_SET_CPUID2, c), -EFAULT);
	host_user_set_efault_range(0, 0);
	host_user_fail_nth(1, HOST_USER_FAIL_ZALLOC);
	XT_EQ(fx_vcpu_ioctl(f, KVM_SET_CPUID2, c), -ENOMEM);
	host_user_fail_nth(0, HOST_USER_FAIL_ALL);
	XT_EQ(f->v->ncpuid, 3);
	XT_MEMEQ(f->v->cpuid, e, sizeof(e));
	/* GET_CPUID2 into memory it cannot write */
	c->hdr.nent = 3;
	host_user_set_efault_range(ua(&c->e[2]), 1);
	XT_EQ(fx_vcpu_ioctl(f, KVM_GET_CPUID2, c), -EFAULT);
}

/* ---- KVM_GET_MSRS / KVM_SET_MSRS ---- */

#define NMSR 300
static struct {
	struct kvm_msrs hdr;
	struct kvm_msr_entry e[NMSR];
} msrs;

static void msr_list(unsigned int n, const u32 *idx, const u64 *data)
{
	unsigned int i;

	memset(&msrs, 0, sizeof(msrs));
	msrs.hdr.nmsrs = n;
	for (i = 0; i < n; i++) {
		msrs.e[i].index = idx[i];
		msrs.e[i].data = data ? data[i] : 0x5a5a5a5a5a5a5a5aULL;
	}
}

static long set_msrs(struct fx *f)
{
	return fx_vcpu_ioctl(f, KVM_SET_MSRS, &msrs);
}

static long get_msrs(struct fx *f)
{
	return fx_vcpu_ioctl(f, KVM_GET_MSRS, &msrs);
}

static u64 get_msr(struct fx *f, u32 index)
{
	msr_list(1, &index, NULL);
	if (get_msrs(f) != 1)
		XT_FAIL("KVM_GET_MSRS of %#x failed", index);
	return msrs.e[0].data;
}

XT_TEST(ioctl, msrs_partial_counts)
{
	static const u32 idx[] = { XK_MSR_STAR, 0x12345678, XK_MSR_LSTAR };
	static const u64 val[] = { 0x0023001000000000ULL, 1,
				   0xffffffff81000000ULL };
	struct fx *f = fx_new();

	/* the number done, stopping at the first failure */
	msr_list(3, idx, val);
	XT_EQ(set_msrs(f), 1);
	XT_EQ(get_msr(f, XK_MSR_STAR), val[0]);
	XT_EQ(get_msr(f, XK_MSR_LSTAR), 0);
	msr_list(3, idx, NULL);
	XT_EQ(get_msrs(f), 1);
	XT_EQ(msrs.e[0].data, val[0]);
	XT_EQ(msrs.e[2].data, 0x5a5a5a5a5a5a5a5aULL); /* not reached */
	msr_list(0, idx, NULL);
	XT_EQ(get_msrs(f), 0);
	XT_EQ(set_msrs(f), 0);
}

XT_TEST(ioctl, msrs_e2big)
{
	struct fx *f = fx_new();
	u32 idx[NMSR];
	unsigned int i;

	for (i = 0; i < NMSR; i++)
		idx[i] = XK_MSR_STAR;
	msr_list(256, idx, NULL); /* MAX_IO_MSRS, and Linux says >= */
	XT_EQ(get_msrs(f), -E2BIG);
	XT_EQ(set_msrs(f), -E2BIG);
	msr_list(255, idx, NULL);
	XT_EQ(get_msrs(f), 255);
	XT_EQ(set_msrs(f), 255);
	msrs.hdr.nmsrs = 0xffffffff;
	XT_EQ(get_msrs(f), -E2BIG);
}

XT_TEST(ioctl, msrs_get_efault)
{
	static const u32 idx[] = { XK_MSR_STAR, XK_MSR_LSTAR };
	struct fx *f = fx_new();

	msr_list(2, idx, NULL);
	host_user_set_efault_range(ua(&msrs.e[1].data), 8);
	XT_EQ(get_msrs(f), -EFAULT);
	host_user_set_efault_range(ua(&msrs.hdr), 1);
	XT_EQ(get_msrs(f), -EFAULT);
}

XT_TEST(ioctl, msrs_set_efault_applies_nothing)
{
	static const u32 idx[] = { XK_MSR_STAR, XK_MSR_LSTAR };
	static const u64 val[] = { 0x1234, 0x5678 };
	struct fx *f = fx_new();

	msr_list(2, idx, val);
	host_user_set_efault_range(ua(&msrs.e[1]), 1);
	XT_EQ(set_msrs(f), -EFAULT);
	host_user_set_efault_range(0, 0);
	XT_EQ(get_msr(f, XK_MSR_STAR), 0);
}

XT_TEST(ioctl, msrs_host_efer)
{
	struct fx *f = fx_new();
	u32 idx = XK_MSR_EFER;
	u64 v = XK_EFER_LME | XK_EFER_SCE;

	/* the host is not bound by the guest's CPUID (no LM here) */
	msr_list(1, &idx, &v);
	XT_EQ(set_msrs(f), 1);
	XT_EQ(get_msr(f, XK_MSR_EFER), v);
	/* reserved bits are refused for the host too */
	v = XK_BIT(3);
	msr_list(1, &idx, &v);
	XT_EQ(set_msrs(f), 0);
	v = XK_EFER_SVME; /* no nested SVM */
	msr_list(1, &idx, &v);
	XT_EQ(set_msrs(f), 0);
	XT_EQ(get_msr(f, XK_MSR_EFER), XK_EFER_LME | XK_EFER_SCE);
}

XT_TEST(ioctl, msrs_host_efer_keeps_lma)
{
	struct fx *f = fx_new();
	u32 idx = XK_MSR_EFER;
	u64 v = XK_EFER_LME | XK_EFER_LMA;

	msr_list(1, &idx, &v);
	XT_EQ(set_msrs(f), 1);
	XT_EQ(get_msr(f, XK_MSR_EFER), XK_EFER_LME);
}

XT_TEST(ioctl, msrs_canonical_and_pat)
{
	struct fx *f = fx_new();
	u32 idx[1];
	u64 v[1];

	/* LSTAR, FS/GS base...: non-canonical refused, host or guest */
	idx[0] = XK_MSR_LSTAR;
	v[0] = 0x0000800000000000ULL;
	msr_list(1, idx, v);
	XT_EQ(set_msrs(f), 0);
	idx[0] = XK_MSR_GS_BASE;
	msr_list(1, idx, v);
	XT_EQ(set_msrs(f), 0);
	v[0] = 0xffff800000000000ULL;
	msr_list(1, idx, v);
	XT_EQ(set_msrs(f), 1);
	XT_EQ(get_msr(f, XK_MSR_GS_BASE), v[0]);
	/* SYSENTER_EIP/ESP are made canonical instead (Linux) */
	idx[0] = XK_MSR_IA32_SYSENTER_EIP;
	v[0] = 0x0000912345678000ULL;
	msr_list(1, idx, v);
	XT_EQ(set_msrs(f), 1);
	XT_EQ(get_msr(f, XK_MSR_IA32_SYSENTER_EIP), 0xffff912345678000ULL);
	/* PAT: memory types 2 and 3 and anything above 7 are reserved */
	idx[0] = XK_MSR_IA32_CR_PAT;
	v[0] = 0x0007040600070206ULL;
	msr_list(1, idx, v);
	XT_EQ(set_msrs(f), 0);
	v[0] = 0x0807040600070406ULL;
	msr_list(1, idx, v);
	XT_EQ(set_msrs(f), 0);
	v[0] = 0x0707070707070101ULL;
	msr_list(1, idx, v);
	XT_EQ(set_msrs(f), 1);
	XT_EQ(get_msr(f, XK_MSR_IA32_CR_PAT), v[0]);
}

XT_TEST(ioctl, msrs_apic_base)
{
	struct fx *f = fx_new();
	u32 idx = XK_MSR_IA32_APICBASE;
	u64 v;

	XT_EQ(get_msr(f, idx),
	      XK_APICBASE_DEFAULT | XK_APICBASE_ENABLE | XK_APICBASE_BSP);
	v = 0xfec00000 | XK_APICBASE_ENABLE;
	msr_list(1, &idx, &v);
	XT_EQ(set_msrs(f), 1);
	XT_EQ(get_msr(f, idx), v);
	v |= XK_BIT(10); /* x2APIC: not offered */
	msr_list(1, &idx, &v);
	XT_EQ(set_msrs(f), 0);
	v = 0xfec00000 | 1; /* reserved bit 0 */
	msr_list(1, &idx, &v);
	XT_EQ(set_msrs(f), 0);
}
