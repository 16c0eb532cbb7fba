// SPDX-License-Identifier: GPL-2.0
/*
 * hostile_tscaux - TSC_AUX is the guest's inside the guest and the VMM
 * thread's outside.  RDPID reads the MSR and cannot be intercepted on
 * SVM, so the guest's value must be in the CPU while it runs, and the
 * host's back before user space runs again.  A guest without RDTSCP in its
 * CPUID still runs RDTSCP (as on Linux 6.1) and reads its TSC_AUX, 0; one
 * with the supported CPUID:
 * the VMM sets TSC_AUX (KVM_SET_MSRS), the guest reads it with RDTSCP (and
 * RDPID where the CPU has it), writes its own with WRMSR and reads that,
 * KVM_GET_MSRS sees it, and the VMM thread's TSC_AUX (RDTSCP, RDPID) is
 * unchanged after every KVM_RUN.  Runs pinned to a CPU other than 0, whose
 * TSC_AUX (the CPU number) differs from the guest's.
 */
#define _GNU_SOURCE
#include "hostile.h"

#define MSR_TSC_AUX 0xc0000103

static void guest_no_rdtscp(void)
{
	uint32_t aux = 0x77;

	guest_idt_init();
	__asm__ volatile(GUEST_TRY("rdtscp")
			 : "=c"(aux)
			 : "c"(aux)
			 : "rax", "rdx", "memory");
	GUEST_SYNC(1, guest_exc.vector, aux);
	GUEST_DONE();
}

static void guest_main(void)
{
	uint32_t r[4];
	int has_rdpid;

	guest_cpuid(7, 0, r);
	has_rdpid = !!(r[2] & (1u << 22));
	GUEST_SYNC(1, kt_rdtscp_aux(), has_rdpid ? kt_rdpid() : ~0ULL);
	guest_wrmsr(MSR_TSC_AUX, 0x5678);
	GUEST_SYNC(2, kt_rdtscp_aux(), has_rdpid ? kt_rdpid() : ~0ULL);
	GUEST_SYNC(3, guest_rdmsr(MSR_TSC_AUX), 0);
	GUEST_DONE();
}

int main(void)
{
	struct kt_vmm_state st;
	struct kvm_cpuid2 *cpuid;
	struct kt_ucall uc;
	struct kt_vcpu *v;
	uint64_t val;
	int rdpid_ok;

	kt_init("hostile_tscaux");
	kt_pin_cpu(kt_other_cpu(0));
	kt_vmm_state_save(&st);

	v = kt_create_default(); /* no RDTSCP in this CPUID */
	kt_setup_long(v, (uint64_t)(uintptr_t)guest_no_rdtscp, KT_STACK_ENTRY);
	kt_expect_sync(v, 1, &uc);
	/* Linux 6.1 runs it all the same, with the guest's TSC_AUX, 0 */
	printf("RDTSCP without RDTSCP in CPUID: %s, TSC_AUX 0x%llx\n",
	       uc.args[1] == 0xff ? "no fault" : "a fault",
	       (unsigned long long)uc.args[2]);
	KT_ASSERT_EQ(uc.args[1], 0xff);
	KT_ASSERT_EQ(uc.args[2], 0);
	kt_expect_done(v);

	v = kt_create_default();
	cpuid = kt_set_supported_cpuid(v);
	KT_ASSERT(kt_cpuid_has(cpuid, 0x80000001, 0, 3, 27), "no RDTSCP");
	rdpid_ok = kt_cpuid_has(cpuid, 7, 0, 2, 22);
	KT_ASSERT(kt_set_msr(v, MSR_TSC_AUX, 0x1234));
	kt_setup_long(v, (uint64_t)(uintptr_t)guest_main, KT_STACK_ENTRY);
	kt_expect_sync(v, 1, &uc);
	kt_vmm_state_check(&st, "after the guest's RDTSCP");
	printf("KVM_SET_MSRS TSC_AUX 0x1234: the guest's RDTSCP reads 0x%llx\n",
	       (unsigned long long)uc.args[1]);
	KT_ASSERT_EQ(uc.args[1], 0x1234);
	if (rdpid_ok)
		KT_ASSERT_EQ(uc.args[2], 0x1234);
	kt_expect_sync(v, 2, &uc);
	kt_vmm_state_check(&st, "after the guest's WRMSR");
	printf("guest WRMSR TSC_AUX 0x5678: RDTSCP reads 0x%llx\n",
	       (unsigned long long)uc.args[1]);
	KT_ASSERT_EQ(uc.args[1], 0x5678);
	if (rdpid_ok)
		KT_ASSERT_EQ(uc.args[2], 0x5678);
	fprintf(stderr, "RDPID %s\n",
		rdpid_ok ? "checked too" : "not offered (not on this CPU)");
	kt_expect_sync(v, 3, &uc);
	KT_ASSERT_EQ(uc.args[1], 0x5678);
	KT_ASSERT(kt_get_msr(v, MSR_TSC_AUX, &val));
	printf("KVM_GET_MSRS TSC_AUX: 0x%llx\n", (unsigned long long)val);
	KT_ASSERT_EQ(val, 0x5678);
	kt_expect_done(v);
	kt_vmm_state_check(&st, "at the end");
	kt_vmm_state_release(&st);
	free(cpuid);
	kt_pass();
}
