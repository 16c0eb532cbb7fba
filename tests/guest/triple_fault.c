// SPDX-License-Identifier: GPL-2.0
/*
 * triple_fault - a guest that loads an IDT with limit 0 and then faults
 * (UD2) cannot deliver #UD, nor the #GP that follows, nor #DF: the processor
 * shuts down and KVM reports KVM_EXIT_SHUTDOWN.  Checked in real mode (via
 * INT3 with an empty IVT limit), protected mode and long mode.  The guest
 * first reports with a GUEST_SYNC so we know it ran up to the fault.
 */
#include "guest_asm.h"

// clang-format off
__asm__(".pushsection .rodata\n"
	".align 8\n"
	"tf_null_idt: .word 0\n\t.quad 0\n"
	".popsection\n");
// clang-format on

#define TF_BODY(m, fault)                                                      \
	"tf_" #m "_start:\n\t" A_SYNC(1, $0) fault A_DONE "1: hlt\n\tjmp 1b\n" \
							  "tf_" #m "_end:\n"

// clang-format off
__asm__(".pushsection .text.guest, \"ax\"\n"
	".code16\n" TF_BODY(real, "lidt %cs:" A_REAL(tf_real_idt, tf_real_start) "\n\tint3\n\t"
			    "jmp 2f\n" "tf_real_idt: .word 0\n\t.long 0\n" "2:\n\t")
	".code32\n" TF_BODY(prot, "lidt tf_null_idt\n\tud2\n\t")
	".code64\n" TF_BODY(long, "lidt tf_null_idt(%rip)\n\tud2\n\t")
	".popsection\n");
// clang-format on

extern const char tf_real_start[], tf_real_end[], tf_prot_start[],
	tf_long_start[];

static void expect_shutdown(const char *mode, struct kt_vcpu *v)
{
	struct kt_ucall uc;
	uint32_t r;

	kt_expect_sync(v, 1, &uc);
	r = kt_run(v);
	printf("%s: exit %s (%u)\n", mode, kt_exit_name(r), r);
	KT_ASSERT_EQ(r, KVM_EXIT_SHUTDOWN);
}

int main(void)
{
	struct kt_vcpu *v;

	kt_init("triple_fault");
	v = kt_create_default();
	kt_load_blob(v->vm, KT_REAL_GPA, tf_real_start, tf_real_end);
	kt_setup_real(v, 0, KT_REAL_GPA, 0x7000);
	expect_shutdown("real", v);

	v = kt_create_default();
	kt_setup_prot(v, (uint32_t)(uintptr_t)tf_prot_start, KT_STACK_TOP);
	expect_shutdown("prot", v);

	v = kt_create_default();
	kt_setup_long(v, (uint64_t)(uintptr_t)tf_long_start, KT_STACK_TOP);
	expect_shutdown("long", v);
	kt_pass();
}
