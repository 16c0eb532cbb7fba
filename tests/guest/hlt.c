// SPDX-License-Identifier: GPL-2.0
/*
 * hlt - HLT exits to user space as KVM_EXIT_HLT (no in-kernel irqchip) with
 * RIP just past the HLT, in real, protected and long mode.  Re-entering
 * resumes after the HLT (not on it): the guest continues to a GUEST_SYNC,
 * then two back-to-back HLTs (each its own exit, RIP advancing by one byte),
 * then GUEST_DONE.  The general registers the guest loaded before the HLT
 * must be visible to the host at the HLT exit.
 */
#include "guest_asm.h"

// clang-format off
#define HLT_BODY(m)							\
	"hlt_" #m "_start:\n\t"						\
	A_SYNC(1, $0)							\
	"mov $0x1234abcd, %ebx\n\tmov $0x55aa55aa, %ebp\n\t"		\
	"hlt_" #m "_h1: hlt\n"						\
	"hlt_" #m "_a1:\n\t"						\
	A_SYNC(2, %ebx)							\
	"hlt_" #m "_h2: hlt\n"						\
	"hlt_" #m "_h3: hlt\n"						\
	"hlt_" #m "_a3:\n\t"						\
	A_DONE								\
	"1: hlt\n\tjmp 1b\n"						\
	"hlt_" #m "_end:\n"
// clang-format on

// clang-format off
__asm__(".pushsection .text.guest, \"ax\"\n"
	".code16\n" HLT_BODY(real)
	".code32\n" HLT_BODY(prot)
	".code64\n" HLT_BODY(long)
	".popsection\n");
// clang-format on

#define SYMS(m)                                                               \
	extern const char hlt_##m##_start[], hlt_##m##_end[], hlt_##m##_a1[], \
		hlt_##m##_h3[], hlt_##m##_a3[]
SYMS(real);
SYMS(prot);
SYMS(long);

static void run_one(const char *mode, struct kt_vcpu *v, uint64_t a1,
		    uint64_t h3, uint64_t a3)
{
	struct kvm_regs r;
	struct kt_ucall uc;

	kt_expect_sync(v, 1, &uc);
	kt_run_expect(v, KVM_EXIT_HLT);
	kt_get_regs(v, &r);
	printf("%s: HLT exit 1, rip past the hlt: %s, ebx=0x%llx ebp=0x%llx\n",
	       mode, r.rip == a1 ? "yes" : "NO",
	       (unsigned long long)r.rbx & 0xffffffff,
	       (unsigned long long)r.rbp & 0xffffffff);
	KT_ASSERT_EQ(r.rip, a1);
	KT_ASSERT_EQ(r.rbx & 0xffffffff, 0x1234abcd);
	KT_ASSERT_EQ(r.rbp & 0xffffffff, 0x55aa55aa);
	kt_expect_sync(v, 2, &uc);
	KT_ASSERT_EQ(uc.args[1] & 0xffffffff, 0x1234abcd);
	kt_run_expect(v, KVM_EXIT_HLT);
	kt_get_regs(v, &r);
	printf("%s: HLT exit 2, rip on the next hlt: %s\n", mode,
	       r.rip == h3 ? "yes" : "NO");
	KT_ASSERT_EQ(r.rip, h3);
	kt_run_expect(v, KVM_EXIT_HLT);
	kt_get_regs(v, &r);
	printf("%s: HLT exit 3, rip past it: %s\n", mode,
	       r.rip == a3 ? "yes" : "NO");
	KT_ASSERT_EQ(r.rip, a3);
	kt_expect_done(v);
}

#define REAL(sym) (KT_REAL_GPA + (uint64_t)(sym - hlt_real_start))
#define ADDR(sym) ((uint64_t)(uintptr_t)(sym))

int main(void)
{
	struct kt_vcpu *v;

	kt_init("hlt");
	v = kt_create_default();
	kt_load_blob(v->vm, KT_REAL_GPA, hlt_real_start, hlt_real_end);
	kt_setup_real(v, 0, KT_REAL_GPA, 0x7000);
	run_one("real", v, REAL(hlt_real_a1), REAL(hlt_real_h3),
		REAL(hlt_real_a3));

	v = kt_create_default();
	kt_setup_prot(v, (uint32_t)ADDR(hlt_prot_start), KT_STACK_TOP);
	run_one("prot", v, ADDR(hlt_prot_a1), ADDR(hlt_prot_h3),
		ADDR(hlt_prot_a3));

	v = kt_create_default();
	kt_setup_long(v, ADDR(hlt_long_start), KT_STACK_TOP);
	run_one("long", v, ADDR(hlt_long_a1), ADDR(hlt_long_h3),
		ADDR(hlt_long_a3));
	kt_pass();
}
