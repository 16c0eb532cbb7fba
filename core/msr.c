// SPDX-License-Identifier: GPL-2.0
/*
 * msr.c - model-specific registers as the guest and the VMM see them.
 *
 * Theory.  Every guest RDMSR/WRMSR is intercepted (the backend's MSR
 * permission map passes nothing through yet), so a guest can never reach a
 * host MSR.  The value of an MSR lives either in the vendor's state area
 * (the VMCB: EFER, STAR, LSTAR, CSTAR, SFMASK, KERNEL_GS_BASE, SYSENTER_*,
 * FS/GS base, PAT, the TSC offset), asked for through xk_ops->get_msr and
 * set_msr, or in the core (APIC base).  This file applies the architectural
 * checks that decide between storing a value and a #GP, with Linux's rules
 * where they are part of the ABI a VMM sees: the guest may set an EFER bit
 * only if its CPUID table announces the feature, addresses must be
 * canonical, and an MSR nobody knows is a #GP for the guest and an error for
 * the VMM.  "host" means the access comes from KVM_SET_MSRS, which is not
 * bound by the guest's CPUID.
 */
#include "xkvm.h"

static bool pat_valid(u64 pat)
{
	int i;

	for (i = 0; i < 8; i++) {
		u8 t = (pat >> (8 * i)) & 0xff;

		if (t != 0 && t != 1 && t != 4 && t != 5 && t != 6 && t != 7)
			return false;
	}
	return true;
}

/* EFER bits this host can give any guest (SVME: no nested SVM yet). */
static u64 efer_supported(void)
{
	u32 a, b, c, d;
	u64 bits = XK_EFER_SCE | XK_EFER_LME | XK_EFER_LMA;

	xk_cpuid(0x80000001, 0, &a, &b, &c, &d);
	if (d & CPUID_80000001_EDX_NX)
		bits |= XK_EFER_NXE;
	if (d & CPUID_80000001_EDX_FFXSR)
		bits |= XK_EFER_FFXSR;
	return bits;
}

static int efer_set(struct xk_vcpu *v, u64 val, bool host)
{
	u64 cur;
	int r;

	if (val & ~efer_supported())
		return -EINVAL;
	r = xk_ops->get_msr(v, XK_MSR_EFER, &cur);
	if (r)
		return r;
	if (!host) {
		if ((val & (XK_EFER_LME | XK_EFER_LMA)) &&
		    !xk_guest_cpuid_has(v, 0x80000001, 3,
					CPUID_80000001_EDX_LM))
			return -EINVAL;
		if ((val & XK_EFER_NXE) &&
		    !xk_guest_cpuid_has(v, 0x80000001, 3,
					CPUID_80000001_EDX_NX))
			return -EINVAL;
		if ((val & XK_EFER_FFXSR) &&
		    !xk_guest_cpuid_has(v, 0x80000001, 3,
					CPUID_80000001_EDX_FFXSR))
			return -EINVAL;
		/* LME may not change while paging is on */
		if (xk_ops->paging_enabled(v) && ((cur ^ val) & XK_EFER_LME))
			return -EINVAL;
	}
	/* LMA is the CPU's to set (KVM_SET_SREGS may, as a whole state) */
	val = (val & ~XK_EFER_LMA) | (cur & XK_EFER_LMA);
	return xk_ops->set_msr(v, XK_MSR_EFER, val, host);
}

static int apic_base_set(struct xk_vcpu *v, u64 val)
{
	u64 reserved = ~((1ULL << XK_MAXPHYADDR) - 1) | 0x2ff;

	/* x2APIC mode (bit 10) needs the x2APIC the guest has not got yet */
	reserved |= XK_BIT(10);
	if (val & reserved)
		return -EINVAL;
	v->apic_base = val;
	return 0;
}

int xk_msr_get(struct xk_vcpu *v, u32 msr, u64 *val, bool host)
{
	(void)host;
	switch (msr) {
	case XK_MSR_IA32_APICBASE:
		*val = v->apic_base;
		return 0;
	default:
		return xk_ops->get_msr(v, msr, val) ? -EINVAL : 0;
	}
}

int xk_msr_set(struct xk_vcpu *v, u32 msr, u64 val, bool host)
{
	switch (msr) {
	case XK_MSR_EFER:
		return efer_set(v, val, host);
	case XK_MSR_IA32_APICBASE:
		return apic_base_set(v, val);
	case XK_MSR_LSTAR:
	case XK_MSR_CSTAR:
	case XK_MSR_KERNEL_GS_BASE:
	case XK_MSR_FS_BASE:
	case XK_MSR_GS_BASE:
		if (!xk_is_canonical(val))
			return -EINVAL;
		break;
	case XK_MSR_IA32_SYSENTER_EIP:
	case XK_MSR_IA32_SYSENTER_ESP:
		/* Linux makes these canonical instead of refusing */
		val = (u64)((s64)(val << 16) >> 16);
		break;
	case XK_MSR_IA32_CR_PAT:
		if (!pat_valid(val))
			return -EINVAL;
		break;
	default:
		break;
	}
	return xk_ops->set_msr(v, msr, val, host) ? -EINVAL : 0;
}
