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
 *
 * CPU state of the guest that the backend switches around the guest lives
 * in the vCPU and is checked here: IA32_SPEC_CTRL (the bits the host lets
 * a guest set, of the features its CPUID offers), PRED_CMD (an IBPB the
 * next entry performs on the CPU the guest runs on), VIRT_SPEC_CTRL (SSBD
 * where the guest has VIRT_SSBD), IA32_XSS (no supervisor state is offered
 * to guests yet, so only 0; a guest may use XSAVES natively, which is why
 * its XSS, not the host's, is in the CPU while it runs).
 */
#include "xkvm.h"
#include "irqchip.h"

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

/* EFER bits the guest's CPUID offers (reserved bits apart) */
static bool efer_guest_ok(struct xk_vcpu *v, u64 val)
{
	if ((val & (XK_EFER_LME | XK_EFER_LMA)) &&
	    !xk_guest_cpuid_has(v, 0x80000001, 3, CPUID_80000001_EDX_LM))
		return false;
	if ((val & XK_EFER_NXE) &&
	    !xk_guest_cpuid_has(v, 0x80000001, 3, CPUID_80000001_EDX_NX))
		return false;
	if ((val & XK_EFER_FFXSR) &&
	    !xk_guest_cpuid_has(v, 0x80000001, 3, CPUID_80000001_EDX_FFXSR))
		return false;
	return true;
}

/* Linux's kvm_valid_efer: no reserved bit, only what the guest has. */
bool xk_efer_valid(struct xk_vcpu *v, u64 val)
{
	return !(val & ~efer_supported()) && efer_guest_ok(v, val);
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
		if (!efer_guest_ok(v, val))
			return -EINVAL;
		/* LME may not change while paging is on */
		if (xk_ops->paging_enabled(v) && ((cur ^ val) & XK_EFER_LME))
			return -EINVAL;
	}
	/* LMA is the CPU's to set (KVM_SET_SREGS may, as a whole state) */
	val = (val & ~XK_EFER_LMA) | (cur & XK_EFER_LMA);
	return xk_ops->set_msr(v, XK_MSR_EFER, val, host);
}

/* ---- speculation controls and XSS ---- */

static bool guest_e8(struct xk_vcpu *v, u32 bits)
{
	return xk_guest_cpuid_has(v, 0x80000008, 1, bits);
}

/* IA32_SPEC_CTRL bits a write may set: the host's, of the guest's too */
static u64 spec_ctrl_bits(struct xk_vcpu *v, bool host)
{
	u64 ok = xk_mitigations.spec_ctrl_bits;

	if (!(xk_mitigations.flags & HOST_MIT_SPEC_CTRL))
		return 0;
	if (host)
		return ok;
	if (!guest_e8(v, CPUID_80000008_EBX_IBRS))
		ok &= ~XK_SPEC_CTRL_IBRS;
	if (!guest_e8(v, CPUID_80000008_EBX_STIBP))
		ok &= ~XK_SPEC_CTRL_STIBP;
	if (!guest_e8(v, CPUID_80000008_EBX_SSBD))
		ok &= ~XK_SPEC_CTRL_SSBD;
	return ok;
}

static bool guest_has_xsaves(struct xk_vcpu *v)
{
	u32 i;

	for (i = 0; i < v->ncpuid; i++)
		if (v->cpuid[i].function == 0xd && v->cpuid[i].index == 1)
			return !!(v->cpuid[i].eax & XK_BIT(3));
	return false;
}

/*
 * Whether this is one of these MSRs (else -ENOENT), and whether the guest's
 * CPUID offers it (the VMM's accesses need not): 0 or -EINVAL (#GP).
 */
static int spec_msr_check(struct xk_vcpu *v, u32 msr, bool host)
{
	bool ok;

	switch (msr) {
	case XK_MSR_IA32_SPEC_CTRL:
		ok = guest_e8(v, CPUID_80000008_EBX_IBRS |
					 CPUID_80000008_EBX_STIBP |
					 CPUID_80000008_EBX_SSBD);
		break;
	case XK_MSR_IA32_PRED_CMD:
		ok = guest_e8(v, CPUID_80000008_EBX_IBPB);
		break;
	case XK_MSR_VIRT_SPEC_CTRL:
		ok = guest_e8(v, CPUID_80000008_EBX_VIRT_SSBD);
		break;
	case XK_MSR_IA32_XSS:
		ok = guest_has_xsaves(v);
		break;
	default:
		return -ENOENT;
	}
	return host || ok ? 0 : -EINVAL;
}

/* 0 and *val, -EINVAL (#GP), or -ENOENT: not one of these */
static int spec_get(struct xk_vcpu *v, u32 msr, u64 *val, bool host)
{
	int r = spec_msr_check(v, msr, host);

	if (r)
		return r;
	switch (msr) {
	case XK_MSR_IA32_SPEC_CTRL:
		*val = v->spec_ctrl;
		return 0;
	case XK_MSR_VIRT_SPEC_CTRL:
		*val = v->virt_spec_ctrl;
		return 0;
	case XK_MSR_IA32_XSS:
		*val = v->xss;
		return 0;
	default:
		return -EINVAL; /* PRED_CMD is write-only */
	}
}

static int spec_set(struct xk_vcpu *v, u32 msr, u64 val, bool host)
{
	int r = spec_msr_check(v, msr, host);

	if (r)
		return r;
	switch (msr) {
	case XK_MSR_IA32_SPEC_CTRL:
		if (val & ~spec_ctrl_bits(v, host))
			return -EINVAL;
		v->spec_ctrl = val;
		return 0;
	case XK_MSR_IA32_PRED_CMD:
		if ((val & ~1ULL) ||
		    (val && !(xk_mitigations.flags & HOST_MIT_HAS_IBPB)))
			return -EINVAL;
		if (val)
			v->ibpb_pending = true;
		return 0;
	case XK_MSR_VIRT_SPEC_CTRL:
		if (val & ~XK_SPEC_CTRL_SSBD)
			return -EINVAL;
		v->virt_spec_ctrl = val;
		return 0;
	default: /* XSS: no supervisor component is offered to guests */
		if (val)
			return -EINVAL;
		v->xss = val;
		return 0;
	}
}

/* ---- MTRRs ---- */

static bool mtrr_type_ok(u64 t)
{
	return t == 0 || t == 1 || t == 4 || t == 5 || t == 6;
}

/* The slot of an MTRR in the vCPU, or NULL when msr is not one. */
static u64 *mtrr_slot(struct xk_vcpu *v, u32 msr)
{
	if (msr == XK_MSR_MTRR_DEF_TYPE)
		return &v->mtrr_def_type;
	if (msr >= XK_MSR_MTRR_PHYS_BASE0 &&
	    msr < XK_MSR_MTRR_PHYS_BASE0 + 2 * XK_MTRR_NVAR)
		return &v->mtrr_var[msr - XK_MSR_MTRR_PHYS_BASE0];
	if (msr == XK_MSR_MTRR_FIX64K)
		return &v->mtrr_fixed[0];
	if (msr == XK_MSR_MTRR_FIX16K_80000)
		return &v->mtrr_fixed[1];
	if (msr == XK_MSR_MTRR_FIX16K_A0000)
		return &v->mtrr_fixed[2];
	if (msr >= XK_MSR_MTRR_FIX4K_C0000 &&
	    msr <= XK_MSR_MTRR_FIX4K_C0000 + 7)
		return &v->mtrr_fixed[3 + msr - XK_MSR_MTRR_FIX4K_C0000];
	return NULL;
}

/* The architecture's checks of an MTRR value (reserved bits, types). */
static bool mtrr_valid(u32 msr, u64 val)
{
	u64 phys = ~((1ULL << xk_host_maxphyaddr()) - 1);
	int i;

	if (msr == XK_MSR_MTRR_DEF_TYPE)
		return !(val & ~0xcffULL) && mtrr_type_ok(val & 0xff);
	if (msr >= XK_MSR_MTRR_PHYS_BASE0 &&
	    msr < XK_MSR_MTRR_PHYS_BASE0 + 2 * XK_MTRR_NVAR) {
		if ((msr - XK_MSR_MTRR_PHYS_BASE0) & 1) /* mask: V in bit 11 */
			return !(val & (phys | 0x7ffULL));
		return !(val & (phys | 0xf00ULL)) && mtrr_type_ok(val & 0xff);
	}
	for (i = 0; i < 8; i++) /* fixed ranges: a type per byte */
		if (!mtrr_type_ok((val >> (8 * i)) & 0xff))
			return false;
	return true;
}

/*
 * An APIC base the architecture allows: no address bits beyond
 * MAXPHYADDR, nothing in the reserved low bits, and not x2APIC mode (bit
 * 10), which needs the x2APIC the guest has not got yet.
 */
bool xk_apic_base_valid(u64 val)
{
	return !(val &
		 (~((1ULL << xk_host_maxphyaddr()) - 1) | 0x2ff | XK_BIT(10)));
}

static int apic_base_set(struct xk_vcpu *v, u64 val)
{
	if (!xk_apic_base_valid(val))
		return -EINVAL;
	v->apic_base = val;
	return 0;
}

/*
 * Model-specific MSRs a guest kernel reads at boot whatever the CPU model
 * (Linux's MTRR code reads SYSCFG, its AMD setup HWCR, NB_CFG...): they read
 * as 0, as in Linux's KVM, where a #GP would be an unchecked-MSR warning.
 */
static bool reads_as_zero(u32 msr)
{
	switch (msr) {
	case 0x17:  /* IA32_PLATFORM_ID */
	case 0x2a:  /* EBL_CR_POWERON */
	case 0x1d9: /* IA32_DEBUGCTL */
	case 0x1db: /* last branch / interrupt from-to */
	case 0x1dc:
	case 0x1dd:
	case 0x1de:
	case 0xc0010010: /* SYSCFG */
	case 0xc0010015: /* HWCR */
	case 0xc0010055: /* interrupt pending message */
	case 0xc0010058: /* MMIO configuration base (family 10h) */
	case 0xc0010112: /* TSEG base */
	case 0xc0010113: /* TSEG mask */
	case 0xc001001f: /* NB_CFG */
	case 0xc001102a: /* BU_CFG2 */
		return true;
	default:
		return msr >= 0xc0010000 && msr <= 0xc0010007; /* no PMU */
	}
}

/* Writes Linux's KVM takes without effect: 0 to these, anything to some. */
static bool write_ignored(u32 msr, u64 val)
{
	switch (msr) {
	case 0xc001001f: /* NB_CFG */
	case 0xc001102a: /* BU_CFG2 */
		return true;
	case 0xc0010015: /* HWCR: bits Linux lets through, as no-ops */
		return !(val &
			 ~(XK_BIT(3) | XK_BIT(6) | XK_BIT(8) | XK_BIT(18)));
	case 0x1d9: /* DEBUGCTL: no LBR or BTF for guests */
		return val == 0;
	default:
		return msr >= 0xc0010000 && msr <= 0xc0010007 && val == 0;
	}
}

int xk_msr_get(struct xk_vcpu *v, u32 msr, u64 *val, bool host)
{
	u64 *mtrr = mtrr_slot(v, msr);
	int r = xk_mce_get_msr(v, msr, val);

	if (r != -ENOENT)
		return r;
	r = xk_irqchip_get_msr(v, msr, val);
	if (r != -ENOENT)
		return r;
	r = spec_get(v, msr, val, host);
	if (r != -ENOENT)
		return r;
	if (mtrr) {
		*val = *mtrr;
		return 0;
	}
	switch (msr) {
	case XK_MSR_MTRRCAP:
		/* 8 variable ranges, fixed ranges, write-combining */
		*val = XK_MTRR_NVAR | XK_BIT(8) | XK_BIT(10);
		return 0;
	case XK_MSR_KVM_WALL_CLOCK:
	case XK_MSR_KVM_SYSTEM_TIME:
		/* kvmclock is off (see xk_msr_set) */
		if (!host)
			return -EINVAL;
		*val = 0;
		return 0;
	case XK_MSR_IA32_APICBASE:
		*val = v->apic_base;
		return 0;
	default:
		if (reads_as_zero(msr)) {
			*val = 0;
			return 0;
		}
		return xk_ops->get_msr(v, msr, val) ? -EINVAL : 0;
	}
}

int xk_msr_set(struct xk_vcpu *v, u32 msr, u64 val, bool host)
{
	u64 *mtrr = mtrr_slot(v, msr);
	int r = xk_mce_set_msr(v, msr, val, host);

	if (r != -ENOENT)
		return r;
	r = xk_irqchip_set_msr(v, msr, val, host);
	if (r != -ENOENT)
		return r;
	r = spec_set(v, msr, val, host);
	if (r != -ENOENT)
		return r;
	if (mtrr) {
		if (!mtrr_valid(msr, val))
			return -EINVAL;
		*mtrr = val;
		return 0;
	}
	switch (msr) {
	case XK_MSR_KVM_WALL_CLOCK:
	case XK_MSR_KVM_SYSTEM_TIME:
		/*
		 * Linux's paravirtual clock is not offered (no 0x40000001
		 * CPUID features), so a guest may not touch these (#GP, as in
		 * Linux); a VMM may only set the "off" value it restores at
		 * every reset (QEMU does).
		 */
		return host && val == 0 ? 0 : -EINVAL;
	case XK_MSR_EFER:
		return efer_set(v, val, host);
	case XK_MSR_IA32_TSC:
		if (host)
			return xk_tsc_set_host(v, val);
		break;
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
		if (reads_as_zero(msr))
			return write_ignored(msr, val) ? 0 : -EINVAL;
		break;
	}
	return xk_ops->set_msr(v, msr, val, host) ? -EINVAL : 0;
}
