// SPDX-License-Identifier: GPL-2.0
/*
 * fail_entry - guest state that the processor refuses to enter must give
 * KVM_EXIT_FAIL_ENTRY (9), not a crash, a hang or an error from KVM_RUN.
 *
 * State used: long mode (EFER.LME|LMA, CR0.PG, CR4.PAE) with a code segment
 * that has both L=1 and D=1.  AMD's VMRUN consistency checks reject that
 * combination (APM vol. 2, "Canonicalization and Consistency Checks"), and
 * QEMU's TCG SVM, the processor in the test box, implements that check, so
 * kvm_amd reports FAIL_ENTRY with hardware_entry_failure_reason SVM_EXIT_ERR
 * as the 32-bit VMCB exit code, 0xffffffff (not sign-extended to 64 bits).  KVM_SET_SREGS itself accepts the state (it does not check CS).
 * The test then checks KVM_GET_SREGS still returns the state that was set.
 * (Re-running the same vCPU after repairing CS is not part of the test: in
 * the box kvm_amd then reports an MMIO exit at the entry point, an artefact
 * of the failed VMRUN under TCG, not something every KVM must agree on.)
 */
#include "guest_asm.h"

// clang-format off
__asm__(".pushsection .text.guest, \"ax\"\n"
	".code64\n"
	"fe_start:\n\t"
	A_SYNC(1, $0x600d)
	A_DONE
	"1: hlt\n\tjmp 1b\n"
	".popsection\n");
// clang-format on
extern const char fe_start[];

int main(void)
{
	struct kt_vcpu *v;
	struct kvm_sregs s;
	struct kt_ucall uc;
	uint32_t r;

	kt_init("fail_entry");
	v = kt_create_default();
	kt_setup_long(v, (uint64_t)(uintptr_t)fe_start, KT_STACK_TOP);
	kt_get_sregs(v, &s);
	s.cs.db = 1; /* L=1 and D=1: reserved combination */
	kt_set_sregs(v, &s);
	r = kt_run_raw(v);
	printf("long mode with CS.L=1 CS.D=1: exit %s (%u)\n", kt_exit_name(r),
	       r);
	KT_ASSERT_EQ(r, KVM_EXIT_FAIL_ENTRY);
	printf("hardware_entry_failure_reason=0x%llx\n",
	       (unsigned long long)
		       v->run->fail_entry.hardware_entry_failure_reason);
	KT_ASSERT_EQ(v->run->fail_entry.hardware_entry_failure_reason,
		     0xffffffffull);

	kt_get_sregs(v, &s);
	printf("KVM_GET_SREGS after the failure: cs.l=%u cs.db=%u efer=0x%llx\n",
	       s.cs.l, s.cs.db, (unsigned long long)s.efer);
	KT_ASSERT_EQ(s.cs.l, 1);
	KT_ASSERT_EQ(s.cs.db, 1);
	KT_ASSERT_EQ(s.efer, 0x500);

	/* The same payload in a fresh VM with a valid CS runs. */
	v = kt_create_default();
	kt_setup_long(v, (uint64_t)(uintptr_t)fe_start, KT_STACK_TOP);
	kt_expect_sync(v, 1, &uc);
	printf("with CS.D=0 the guest runs: sync value 0x%llx\n",
	       (unsigned long long)uc.args[1]);
	KT_ASSERT_EQ(uc.args[1], 0x600d);
	kt_expect_done(v);
	kt_pass();
}
