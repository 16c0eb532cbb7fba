// SPDX-License-Identifier: GPL-2.0
/*
 * test_tsc - the VMM's writes of the guest TSC synchronize the vCPUs
 * (core/tsc.c): a new vCPU, a write of 0 and a write within a second of
 * the last one's course take the last offset exactly; a distant value, a
 * guest's own write and INIT behave as Linux's do.  The user-space host
 * reports a 2 GHz TSC; the clock is stopped and moved by hand.
 */
#include "fx.h"

#define KHZ 2000000ULL /* host_tsc_khz() in user space */

static u64 offset_of(struct xk_vcpu *v)
{
	return xk_ops->get_tsc_offset(v);
}

static struct xk_vcpu *second_vcpu(struct fx *f)
{
	struct xk_vcpu *v = NULL;

	XT_EQ(xk_vcpu_create(f->vm, 1, &v), 0);
	return v;
}

XT_TEST(tsc, new_vcpus_share_the_offset)
{
	struct fx *f = fx_new();
	struct xk_vcpu *v1;

	host_user_clock_set(1000000000ULL);
	host_user_clock_advance(3000000); /* 3 ms between the creations */
	v1 = second_vcpu(f);
	XT_EQ(offset_of(v1), offset_of(f->v));
	host_user_clock_real();
}

XT_TEST(tsc, vmm_writes_of_zero_match)
{
	struct fx *f = fx_new();
	struct xk_vcpu *v1 = second_vcpu(f);
	u64 off;

	host_user_clock_set(5000000000ULL);
	XT_EQ(xk_msr_set(f->v, XK_MSR_IA32_TSC, 0, true), 0);
	off = offset_of(f->v);
	host_user_clock_advance(500000000); /* half a second later */
	XT_EQ(xk_msr_set(v1, XK_MSR_IA32_TSC, 0, true), 0);
	XT_EQ(offset_of(v1), off);
	XT_EQ(offset_of(f->v), off);
	host_user_clock_real();
}

XT_TEST(tsc, vmm_write_within_a_second_matches)
{
	struct fx *f = fx_new();
	struct xk_vcpu *v1 = second_vcpu(f);
	u64 off, val = 123456789000ULL;

	host_user_clock_set(7000000000ULL);
	XT_EQ(xk_msr_set(f->v, XK_MSR_IA32_TSC, val, true), 0);
	off = offset_of(f->v);
	host_user_clock_advance(10000000); /* 10 ms: 2e7 ticks at 2 GHz */
	/* where the first value has got to, give or take half a second */
	XT_EQ(xk_msr_set(v1, XK_MSR_IA32_TSC, val + 20000000 + KHZ * 500, true),
	      0);
	XT_EQ(offset_of(v1), off);
	host_user_clock_real();
}

XT_TEST(tsc, distant_vmm_write_and_guest_write_do_not_match)
{
	struct fx *f = fx_new();
	struct xk_vcpu *v1 = second_vcpu(f);
	u64 off, val = 123456789000ULL, tsc = 0;

	host_user_clock_set(9000000000ULL);
	XT_EQ(xk_msr_set(f->v, XK_MSR_IA32_TSC, val, true), 0);
	off = offset_of(f->v);
	/* two seconds of ticks ahead of the first write: its own offset */
	XT_EQ(xk_msr_set(v1, XK_MSR_IA32_TSC, val + KHZ * 2000, true), 0);
	XT_ASSERT(offset_of(v1) != off);
	XT_EQ(xk_msr_get(v1, XK_MSR_IA32_TSC, &tsc, true), 0);
	XT_ASSERT(tsc >= val + KHZ * 2000);
	/* the guest's WRMSR of the very value the VMM wrote: not synced */
	XT_EQ(xk_msr_set(f->v, XK_MSR_IA32_TSC, val, false), 0);
	XT_EQ(xk_msr_get(f->v, XK_MSR_IA32_TSC, &tsc, true), 0);
	XT_ASSERT(tsc >= val && tsc < val + KHZ * 1000);
	host_user_clock_real();
}

XT_TEST(tsc, init_keeps_the_offset)
{
	struct fx *f = fx_new();
	u64 off;

	XT_EQ(xk_msr_set(f->v, XK_MSR_IA32_TSC, 42, true), 0);
	off = offset_of(f->v);
	xk_vcpu_init_reset(f->v);
	XT_EQ(offset_of(f->v), off);
}
