// SPDX-License-Identifier: GPL-2.0
/*
 * cpuid.c - KVM_GET_SUPPORTED_CPUID: what a guest may be given.
 *
 * Theory.  The answer starts from the host's own CPUID and keeps, leaf by
 * leaf, only the feature bits this driver really delivers to a guest: bits
 * the guest uses without exits (SSE, AVX, RDRAND, 1 GiB pages under nested
 * paging...) when the host has them, and bits whose intercepts or MSRs the
 * driver implements (SYSENTER, SYSCALL, PAT, MTRR, MCE/MCA, RDTSCP, XSAVE
 * via the XSETBV intercept, the APIC base MSR for a user-space APIC).
 * x2APIC is offered whatever the host has, as Linux does: the in-kernel
 * local APIC (lapic.c) emulates it, and a VMM only gives it to a guest
 * with KVM_CREATE_IRQCHIP.  TSC deadline is announced, as in Linux 6.1, by
 * KVM_CAP_TSC_DEADLINE_TIMER rather than here.  Features whose MSRs or
 * devices are not written yet (PMU, nested SVM) are left out, so a VMM
 * never hands a guest a promise the driver cannot keep.  The hypervisor
 * bit is set, as Linux does.  Leaf 0x80000008 keeps the host's address
 * sizes, and says in GuestPhysAddrSize when slots may use fewer physical
 * bits than that (xk_gpa_bits(), vm.c: 48 on a host with more).  The VMM builds the guest's table from this and hands
 * it back with KVM_SET_CPUID2; the guest then sees exactly that table.
 */
#include "xkvm.h"

/* leaf 1 */
#define L1_ECX_OK                                                         \
	(XK_BIT(0) | XK_BIT(1) | XK_BIT(9) | XK_BIT(12) | XK_BIT(13) |    \
	 XK_BIT(17) | XK_BIT(19) | XK_BIT(20) | XK_BIT(22) | XK_BIT(23) | \
	 XK_BIT(25) | XK_BIT(26) | XK_BIT(28) | XK_BIT(29) | XK_BIT(30))
#define L1_ECX_HYPERVISOR XK_BIT(31)
#define L1_ECX_X2APIC XK_BIT(21)
/* leaf 1 EDX: FPU VME DE PSE TSC MSR PAE MCE CX8 APIC SEP MTRR PGE MCA CMOV
 * PAT PSE36 CLFSH MMX FXSR SSE SSE2 */
#define L1_EDX_OK                                                         \
	(XK_BIT(0) | XK_BIT(1) | XK_BIT(2) | XK_BIT(3) | XK_BIT(4) |      \
	 XK_BIT(5) | XK_BIT(6) | XK_BIT(7) | XK_BIT(8) | XK_BIT(9) |      \
	 XK_BIT(11) | XK_BIT(12) | XK_BIT(13) | XK_BIT(14) | XK_BIT(15) | \
	 XK_BIT(16) | XK_BIT(17) | XK_BIT(19) | XK_BIT(23) | XK_BIT(24) | \
	 XK_BIT(25) | XK_BIT(26))
/* leaf 7.0 EBX: FSGSBASE BMI1 AVX2 SMEP BMI2 ERMS ADX SMAP CLFLUSHOPT
 * CLWB SHA; RDSEED */
#define L7_EBX_OK                                                        \
	(XK_BIT(0) | XK_BIT(3) | XK_BIT(5) | XK_BIT(7) | XK_BIT(8) |     \
	 XK_BIT(9) | XK_BIT(18) | XK_BIT(19) | XK_BIT(20) | XK_BIT(23) | \
	 XK_BIT(24) | XK_BIT(29))
/* 0x80000001 ECX: LAHF_LM ABM SSE4A MISALIGNSSE PREFETCHW */
#define E1_ECX_OK (XK_BIT(0) | XK_BIT(5) | XK_BIT(6) | XK_BIT(7) | XK_BIT(8))
/* 0x80000001 EDX: the leaf-1 copies plus SYSCALL NX MMXEXT FFXSR PDPE1GB
 * RDTSCP LM */
#define E1_EDX_OK                                                             \
	((L1_EDX_OK & ~(XK_BIT(11) | XK_BIT(19))) | XK_BIT(11) | XK_BIT(20) | \
	 XK_BIT(22) | XK_BIT(25) | XK_BIT(26) | XK_BIT(27) | XK_BIT(29))
/*
 * XCR0 components the XSETBV intercept accepts: x87, SSE, AVX, AVX-512,
 * and PKRU where the host switches PKRU (vcpu.c).
 */
#define XCR0_OK 0xe7ULL
#define XCR0_PKRU XK_BIT(9)

u64 xk_supported_xcr0(void)
{
	u64 ok = XCR0_OK | (xk_host_has_pku() ? XCR0_PKRU : 0);

	return xk_host_xcr0() & ok;
}

/*
 * Speculation controls, in AMD's leaf 0x80000008 EBX: IA32_SPEC_CTRL and
 * PRED_CMD are virtualized (msr.c, svm.c) where the host has them, so
 * IBPB is offered where the CPU has it, the SPEC_CTRL bits the host lets
 * a guest set, and VIRT_SSBD where the host switches VIRT_SPEC_CTRL or
 * LS_CFG for its guests.
 */
static void spec_ctrl_e8_ebx(struct kvm_cpuid_entry2 *e, u32 n)
{
	u64 bits = xk_mitigations.spec_ctrl_bits;
	u32 i, ebx = 0;

	ebx |= CPUID_80000008_EBX_IBPB;
	if (xk_mitigations.flags & HOST_MIT_SPEC_CTRL) {
		if (bits & XK_SPEC_CTRL_IBRS)
			ebx |= CPUID_80000008_EBX_IBRS;
		if (bits & XK_SPEC_CTRL_STIBP)
			ebx |= CPUID_80000008_EBX_STIBP;
		if (bits & XK_SPEC_CTRL_SSBD)
			ebx |= CPUID_80000008_EBX_SSBD;
	}
	if (xk_mitigations.flags & HOST_MIT_VIRT_SSBD)
		ebx |= CPUID_80000008_EBX_VIRT_SSBD;
	for (i = 0; i < n; i++) {
		u32 a, b, c, d;

		if (e[i].function != 0x80000008)
			continue;
		xk_cpuid(0x80000008, 0, &a, &b, &c, &d);
		/* IBPB and the rest as the CPU has them; VIRT_SSBD emulated */
		e[i].ebx = (b & ebx) | (ebx & CPUID_80000008_EBX_VIRT_SSBD);
	}
}

struct cpuid_out {
	struct kvm_cpuid_entry2 *e;
	u32 max;
	u32 n;
};

static struct kvm_cpuid_entry2 *add(struct cpuid_out *o, u32 fn, u32 idx,
				    bool indexed)
{
	struct kvm_cpuid_entry2 *e;
	u32 a, b, c, d;

	if (o->n >= o->max)
		return NULL;
	e = &o->e[o->n++];
	xk_memset(e, 0, sizeof(*e));
	xk_cpuid(fn, idx, &a, &b, &c, &d);
	e->function = fn;
	e->index = idx;
	e->flags = indexed ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0;
	e->eax = a;
	e->ebx = b;
	e->ecx = c;
	e->edx = d;
	return e;
}

/* Bytes of a standard-format XSAVE image holding the components xcr0. */
static u32 xsave_size(u64 xcr0)
{
	u32 size = 576, a, b, c, d, i;

	for (i = 2; i < 63; i++) {
		if (!(xcr0 & XK_BIT(i)))
			continue;
		xk_cpuid(0xd, i, &a, &b, &c, &d);
		size = XK_MAX(size, a + b); /* EAX size, EBX offset */
	}
	return size;
}

/* Fill up to max entries; -E2BIG when they do not all fit. */
int xk_supported_cpuid(struct kvm_cpuid_entry2 *entries, u32 max, u32 *n)
{
	struct cpuid_out o = { entries, max, 0 };
	struct kvm_cpuid_entry2 *e;
	u32 basic, ext, b, c, d, fn;

	xk_cpuid(0, 0, &basic, &b, &c, &d);
	xk_cpuid(0x80000000, 0, &ext, &b, &c, &d);
	basic = XK_MIN(basic, 0xdu);
	ext = XK_MIN(ext, 0x80000008u);

	e = add(&o, 0, 0, false);
	if (!e)
		return -E2BIG;
	e->eax = basic;
	if (basic >= 1) {
		e = add(&o, 1, 0, false);
		if (!e)
			return -E2BIG;
		e->ecx = (e->ecx & L1_ECX_OK) | L1_ECX_X2APIC |
			 L1_ECX_HYPERVISOR;
		e->edx &= L1_EDX_OK;
		if (!(xk_supported_xcr0() & 4))
			e->ecx &= ~XK_BIT(28); /* AVX needs XCR0.AVX */
	}
	if (basic >= 7) {
		e = add(&o, 7, 0, true);
		if (!e)
			return -E2BIG;
		e->eax = 0; /* sub-leaf 0 only */
		e->ebx &= L7_EBX_OK;
		e->ecx &= CPUID_7_ECX_RDPID |
			  (xk_host_has_pku() ? CPUID_7_ECX_PKU : 0);
		e->edx = 0;
	}
	if (basic >= 0xd) {
		u64 xcr0 = xk_supported_xcr0();
		u32 i;

		e = add(&o, 0xd, 0, true);
		if (!e)
			return -E2BIG;
		e->eax = (u32)xcr0;
		e->edx = (u32)(xcr0 >> 32);
		/* sizes of an image holding every component offered */
		e->ebx = e->ecx = xsave_size(xcr0);
		e = add(&o, 0xd, 1, true);
		if (!e)
			return -E2BIG;
		e->eax &= XK_BIT(0); /* XSAVEOPT: no XSAVES/XSAVEC yet */
		e->ebx = e->ecx = e->edx = 0;
		for (i = 2; i < 63; i++) {
			if (!(xcr0 & XK_BIT(i)))
				continue;
			if (!add(&o, 0xd, i, true))
				return -E2BIG;
		}
	}
	for (fn = 0x80000000; fn <= ext; fn++) {
		if (fn == 0x80000007)
			continue;
		e = add(&o, fn, 0, false);
		if (!e)
			return -E2BIG;
		switch (fn) {
		case 0x80000000:
			e->eax = ext;
			break;
		case 0x80000001:
			e->ecx &= E1_ECX_OK;
			e->edx &= E1_EDX_OK;
			break;
		case 0x80000008:
			/*
			 * Address sizes: physical and linear as the host's;
			 * GuestPhysAddrSize (23:16) the width slots may use,
			 * where it is below the physical (else 0: the same)
			 */
			e->eax &= 0xffff;
			if (xk_gpa_bits() < (e->eax & 0xff))
				e->eax |= (u32)xk_gpa_bits() << 16;
			e->ebx = e->ecx = e->edx = 0;
			break;
		default: /* brand string, cache and TLB descriptions */
			break;
		}
	}
	spec_ctrl_e8_ebx(entries, o.n);
	*n = o.n;
	return 0;
}
