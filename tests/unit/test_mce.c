// SPDX-License-Identifier: GPL-2.0
/*
 * test_mce.c - the guest machine-check architecture (core/mce.c) against
 * Linux's rules: KVM_X86_SETUP_MCE limits, the MCG and bank MSRs'
 * checks, and KVM_X86_SET_MCE delivering #MC, or shutting the guest down
 * when the CPU would (CR4.MCE clear, or MCIP already set).
 */
#include <string.h>

#include "fx.h"

#define MCG_CTL_P (1ULL << 8)
#define MC0_CTL 0x400
#define MCI_VAL (1ULL << 63)
#define MCI_UC (1ULL << 61)

struct one_msr {
	struct kvm_msrs hdr;
	struct kvm_msr_entry e;
};

/* KVM_GET_MSRS / KVM_SET_MSRS of one MSR: the count done (0 or 1). */
static long msr_io(struct fx *f, u32 index, u64 *data, bool set)
{
	struct one_msr m;
	long r;

	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = 1;
	m.e.index = index;
	m.e.data = set ? *data : 0;
	r = fx_vcpu_ioctl(f, set ? KVM_SET_MSRS : KVM_GET_MSRS, &m);
	if (!set && r == 1)
		*data = m.e.data;
	return r;
}

static u64 get(struct fx *f, u32 index)
{
	u64 v = 0;

	XT_EQ(msr_io(f, index, &v, false), 1);
	return v;
}

static long set(struct fx *f, u32 index, u64 v)
{
	return msr_io(f, index, &v, true);
}

XT_TEST(mce, setup_limits)
{
	struct fx *f = fx_new();
	u64 cap;

	XT_EQ(xk_dev_ioctl(KVM_CHECK_EXTENSION, KVM_CAP_MCE), 32);
	cap = 0;
	XT_EQ(fx_vcpu_ioctl(f, KVM_X86_SETUP_MCE, &cap), -EINVAL);
	cap = 33;
	XT_EQ(fx_vcpu_ioctl(f, KVM_X86_SETUP_MCE, &cap), -EINVAL);
	cap = 10 | (1ULL << 11); /* not a supported capability bit */
	XT_EQ(fx_vcpu_ioctl(f, KVM_X86_SETUP_MCE, &cap), -EINVAL);
	cap = 10 | MCG_CTL_P;
	XT_EQ(fx_vcpu_ioctl(f, KVM_X86_SETUP_MCE, &cap), 0);
	XT_EQ(get(f, 0x179), 10 | MCG_CTL_P);
	XT_EQ(get(f, 0x17b), ~0ULL);
	XT_EQ(get(f, MC0_CTL + 4 * 9), ~0ULL);
	/* past the last bank there is no such MSR */
	XT_EQ(msr_io(f, MC0_CTL + 4 * 10, &cap, false), 0);
	fx_destroy(f);
}

XT_TEST(mce, msr_rules)
{
	struct fx *f = fx_new();
	u64 cap = 2;

	/* without MCG_CTL_P, MCG_CTL is absent but for the VMM's zero */
	XT_EQ(fx_vcpu_ioctl(f, KVM_X86_SETUP_MCE, &cap), 0);
	XT_EQ(set(f, 0x17b, 0), 1);
	XT_EQ(set(f, 0x17b, ~0ULL), 0);
	XT_EQ(set(f, 0x179, 2), 1);   /* the same MCG_CAP: accepted */
	XT_EQ(set(f, 0x179, 3), 0);   /* another: refused */
	XT_EQ(set(f, MC0_CTL, 5), 0); /* neither all nor nothing */
	XT_EQ(set(f, MC0_CTL, ~0ULL & ~(1ULL << 10)), 1);
	XT_EQ(set(f, MC0_CTL + 1, MCI_VAL), 1); /* the VMM may */
	XT_EQ(get(f, MC0_CTL + 1), MCI_VAL);
	XT_EQ(set(f, MC0_CTL + 2, 0x1234), 1);
	XT_EQ(get(f, MC0_CTL + 2), 0x1234);
	XT_EQ(set(f, 0x17a, 4), 1);
	XT_EQ(get(f, 0x17a), 4);
	fx_destroy(f);
}

XT_TEST(mce, set_mce_delivers_or_shuts_down)
{
	struct fx *f = fx_new();
	struct kvm_x86_mce m;
	struct kvm_sregs s;
	u64 cap = 4 | MCG_CTL_P;

	XT_EQ(fx_vcpu_ioctl(f, KVM_X86_SETUP_MCE, &cap), 0);
	memset(&m, 0, sizeof(m));
	m.bank = 4;
	m.status = MCI_VAL;
	XT_EQ(fx_vcpu_ioctl(f, KVM_X86_SET_MCE, &m), -EINVAL);
	m.bank = 1;
	m.status = 0;
	XT_EQ(fx_vcpu_ioctl(f, KVM_X86_SET_MCE, &m), -EINVAL);

	/* corrected: logged in the bank, no exception */
	m.status = MCI_VAL | 0x17;
	m.addr = 0xabc000;
	XT_EQ(fx_vcpu_ioctl(f, KVM_X86_SET_MCE, &m), 0);
	XT_EQ(get(f, MC0_CTL + 4 + 1), MCI_VAL | 0x17);
	XT_EQ(get(f, MC0_CTL + 4 + 2), 0xabc000);
	XT_EQ(f->v->exception.pending, false);

	/* uncorrected with CR4.MCE set: #MC for the guest */
	fx_get_sregs(f, &s);
	s.cr4 |= XK_CR4_MCE;
	fx_set_sregs(f, &s);
	m.status = MCI_VAL | MCI_UC;
	m.mcg_status = 4; /* MCIP */
	XT_EQ(fx_vcpu_ioctl(f, KVM_X86_SET_MCE, &m), 0);
	XT_EQ(f->v->exception.pending, true);
	XT_EQ(f->v->exception.vector, XK_EXC_MC);
	XT_EQ(get(f, 0x17a), 4);
	/* the bank held a valid error: overflow is reported */
	XT_ASSERT(get(f, MC0_CTL + 4 + 1) & (1ULL << 62));
	f->v->exception.pending = false;

	/* another uncorrected one while MCIP is set: the guest shuts down */
	XT_EQ(fx_vcpu_ioctl(f, KVM_X86_SET_MCE, &m), 0);
	XT_EQ(fx_run(f), 0);
	XT_EQ(f->run->exit_reason, KVM_EXIT_SHUTDOWN);
	fx_destroy(f);
}
