// SPDX-License-Identifier: GPL-2.0
/*
 * hostile_wbinvd - a guest that flushes the caches in a loop: WBINVD,
 * WBNOINVD (F3 0F 09; plain WBINVD on CPUs without it) and INVD, N times
 * each.  On the bare CPU each would write back or drop the caches every
 * other tenant of the machine shares; a driver intercepts them all and
 * skips them as no-ops (guest memory is coherent: no device writes behind
 * the caches here), as Linux does.  Checked: the guest goes on past every
 * one, the vCPU's VM exit count (the binary statistics' "exits", the same
 * under kvm_amd and xkvm) rose by at least 3N, the heartbeat on the other
 * CPU beat, and the VMM thread's own state is unchanged.
 */
#define _GNU_SOURCE
#include "hostile.h"

#define N 2000

static void guest_main(void)
{
	int i;

	GUEST_SYNC(1, 0, 0);
	for (i = 0; i < N; i++)
		__asm__ volatile("wbinvd" ::: "memory");
	for (i = 0; i < N; i++)
		__asm__ volatile(".byte 0xf3, 0x0f, 0x09" ::: "memory");
	for (i = 0; i < N; i++)
		__asm__ volatile("invd" ::: "memory");
	GUEST_SYNC(2, i, 0);
	GUEST_DONE();
}

int main(void)
{
	struct kt_heartbeat hb;
	struct kt_vmm_state st;
	struct kt_ucall uc;
	struct kt_vcpu *v;
	uint64_t before, after;
	int cpu;

	kt_init("hostile_wbinvd");
	cpu = kt_other_cpu(0);
	kt_pin_cpu(cpu);
	kt_heartbeat_start(&hb, kt_other_cpu(cpu));
	kt_vmm_state_save(&st);
	v = kt_create_default();
	kt_setup_long(v, (uint64_t)(uintptr_t)guest_main, KT_STACK_ENTRY);
	kt_expect_sync(v, 1, NULL);
	before = kt_vcpu_stat(v, "exits");
	kt_expect_sync(v, 2, &uc);
	after = kt_vcpu_stat(v, "exits");
	kt_vmm_state_check(&st, "after the flushes");
	printf("WBINVD, WBNOINVD, INVD %d times each: the guest went on, VM exits at least %d: %s\n",
	       N, 3 * N, after - before >= 3 * N ? "yes" : "no");
	fprintf(stderr, "VM exits during the loop: %llu\n",
		(unsigned long long)(after - before));
	KT_ASSERT(after - before >= 3 * N,
		  "only %llu VM exits: the flushes ran on the CPU",
		  (unsigned long long)(after - before));
	kt_expect_done(v);
	kt_heartbeat_stop(&hb);
	kt_vmm_state_check(&st, "at the end");
	kt_vmm_state_release(&st);
	kt_pass();
}
