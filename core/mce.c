// SPDX-License-Identifier: GPL-2.0
/*
 * mce.c - the guest's machine-check architecture, as Linux's KVM models it.
 *
 * Theory.  A machine check never comes from the host's hardware to a guest
 * directly: the VMM configures the guest's banks with KVM_X86_SETUP_MCE
 * (bank count and MCG_CAP bits, within KVM_X86_GET_MCE_CAP_SUPPORTED) and
 * reports an error with KVM_X86_SET_MCE, which fills a bank and raises #MC
 * in the guest.  The MSRs (MCG_CAP, MCG_STATUS, MCG_CTL, and MCi_CTL,
 * STATUS, ADDR, MISC at 0x400 + 4i) are plain per-vCPU state with the
 * architecture's checks.  An uncorrected error while a machine check is
 * already in progress (MCG_STATUS.MCIP), or with CR4.MCE clear, shuts the
 * guest down, as the CPU would.
 */
#include "xkvm.h"

#define MCG_CTL_P XK_BIT(8)
#define MCG_SER_P XK_BIT(24)
#define MCG_STATUS_MCIP XK_BIT(2)
#define MCI_STATUS_VAL XK_BIT(63)
#define MCI_STATUS_OVER XK_BIT(62)
#define MCI_STATUS_UC XK_BIT(61)
#define MSR_MC0_CTL 0x400

#define MCE_CAP_SUPPORTED (MCG_CTL_P | MCG_SER_P)

u64 xk_mce_cap_supported(void)
{
	return MCE_CAP_SUPPORTED;
}

static u32 nbanks(struct xk_vcpu *v)
{
	return (u32)(v->mcg_cap & 0xff);
}

int xk_mce_setup(struct xk_vcpu *v, u64 mcg_cap)
{
	u32 n = (u32)(mcg_cap & 0xff), i;

	if (!n || n > XK_MCE_BANKS)
		return -EINVAL;
	if (mcg_cap & ~(MCE_CAP_SUPPORTED | 0xffULL | 0xff0000ULL))
		return -EINVAL;
	v->mcg_cap = mcg_cap;
	v->mcg_ctl = (mcg_cap & MCG_CTL_P) ? ~0ULL : 0;
	xk_memset(v->mce_banks, 0, sizeof(v->mce_banks));
	for (i = 0; i < n; i++)
		v->mce_banks[4 * i] = ~0ULL; /* every error type reported */
	return 0;
}

/* Record m in a bank (CTL, STATUS, ADDR, MISC); OVER if it held one. */
static void bank_log(u64 *bank, const struct kvm_x86_mce *m)
{
	bank[1] = m->status |
		  ((bank[1] & MCI_STATUS_VAL) ? MCI_STATUS_OVER : 0);
	bank[2] = m->addr;
	bank[3] = m->misc;
}

int xk_mce_inject(struct xk_vcpu *v, const struct kvm_x86_mce *m)
{
	u64 *bank;
	struct kvm_sregs s;

	if (m->bank >= nbanks(v) || !(m->status & MCI_STATUS_VAL))
		return -EINVAL;
	bank = &v->mce_banks[4 * m->bank];
	if (m->status & MCI_STATUS_UC) {
		/* reporting disabled for this bank or globally: dropped */
		if ((v->mcg_cap & MCG_CTL_P) && v->mcg_ctl != ~0ULL)
			return 0;
		if (bank[0] != ~0ULL)
			return 0;
		xk_ops->get_sregs(v, &s);
		if ((v->mcg_status & MCG_STATUS_MCIP) ||
		    !(s.cr4 & XK_CR4_MCE)) {
			v->shutdown_pending = true;
			return 0;
		}
		bank_log(bank, m);
		v->mcg_status = m->mcg_status;
		xk_queue_exception(v, XK_EXC_MC, false, 0);
		return 0;
	}
	/* a corrected error never overwrites an uncorrected one */
	if (!(bank[1] & MCI_STATUS_VAL) || !(bank[1] & MCI_STATUS_UC)) {
		bank_log(bank, m);
	}
	return 0;
}

/* The bank register behind msr, or NULL when it is not a configured one. */
static u64 *bank_reg(struct xk_vcpu *v, u32 msr)
{
	if (msr < MSR_MC0_CTL || msr >= MSR_MC0_CTL + 4 * nbanks(v))
		return NULL;
	return &v->mce_banks[msr - MSR_MC0_CTL];
}

/* 0, or -ENOENT when msr is not a machine-check MSR, or -EINVAL. */
int xk_mce_get_msr(struct xk_vcpu *v, u32 msr, u64 *val)
{
	u64 *reg = bank_reg(v, msr);

	if (reg) {
		*val = *reg;
		return 0;
	}
	switch (msr) {
	case XK_MSR_MCG_CAP:
		*val = v->mcg_cap;
		return 0;
	case XK_MSR_MCG_CTL:
		if (!(v->mcg_cap & MCG_CTL_P))
			return -EINVAL;
		*val = v->mcg_ctl;
		return 0;
	case XK_MSR_MCG_STATUS:
		*val = v->mcg_status;
		return 0;
	default:
		return -ENOENT;
	}
}

int xk_mce_set_msr(struct xk_vcpu *v, u32 msr, u64 val, bool host)
{
	u64 *reg = bank_reg(v, msr);

	if (reg) {
		switch ((msr - MSR_MC0_CTL) & 3) {
		case 0: /* MCi_CTL: all or nothing (bits 10 and 0 may be off) */
			if (val && (val | XK_BIT(10) | 1) != ~0ULL)
				return -EINVAL;
			break;
		case 1: /* MCi_STATUS: only the VMM may set an error */
			if (!host && val)
				return -EINVAL;
			break;
		default:
			break;
		}
		*reg = val;
		return 0;
	}
	switch (msr) {
	case XK_MSR_MCG_CAP:
		/* fixed by KVM_X86_SETUP_MCE */
		return host && val == v->mcg_cap ? 0 : -EINVAL;
	case XK_MSR_MCG_CTL:
		if (!(v->mcg_cap & MCG_CTL_P) && (val || !host))
			return -EINVAL;
		if (val && val != ~0ULL)
			return -EINVAL;
		v->mcg_ctl = val;
		return 0;
	case XK_MSR_MCG_STATUS:
		v->mcg_status = val;
		return 0;
	default:
		return -ENOENT;
	}
}
