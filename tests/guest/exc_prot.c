// SPDX-License-Identifier: GPL-2.0
/*
 * exc_prot - exceptions in 32-bit protected mode delivered through an IDT
 * the guest builds and loads itself (32-bit interrupt gates): #DE (DIV by
 * zero, fault), #BP (INT3, trap), #UD (UD2, fault) and #GP with an error
 * code (loading a selector beyond the GDT limit into DS: error code = the
 * selector).  Each handler reports the vector, the saved EIP from its stack
 * frame and the error code, steps over faulting instructions and IRETs; the
 * main line then reports that it resumed.  The host checks the saved EIPs
 * against the payload's symbols and the error code.
 */
#include "guest_asm.h"

// clang-format off
#define GATE(vec, handler)						\
	"mov $" #handler ", %eax\n\t"					\
	"mov %ax, " KT_STR(KT_IDT_GPA) "+" #vec "*8\n\t"		\
	"movw $" KT_STR(KT_SEL_CODE32) ", " KT_STR(KT_IDT_GPA) "+" #vec "*8+2\n\t" \
	"movw $0x8e00, " KT_STR(KT_IDT_GPA) "+" #vec "*8+4\n\t"	\
	"shr $16, %eax\n\t"						\
	"mov %ax, " KT_STR(KT_IDT_GPA) "+" #vec "*8+6\n\t"
// clang-format on

/* handler: report (vector + 100, saved EIP, error code or 0), skip, IRET */
// clang-format off
#define HANDLER(name, vec, errcode, skip)				\
	#name ":\n\t"							\
	".if " #errcode "\n\t"						\
	"mov (%esp), %edx\n\tadd $4, %esp\n\t"				\
	".else\n\t"							\
	"xor %edx, %edx\n\t"						\
	".endif\n\t"							\
	"mov (%esp), %esi\n\tmov $" #vec "+100, %edi\n\t"		\
	A_UCALL(UC_SYNC)						\
	"addl $" #skip ", (%esp)\n\t"					\
	"iret\n\t"
// clang-format on

// clang-format off
__asm__(".pushsection .text.guest, \"ax\"\n"
	".code32\n"
	"exp_start:\n\t"
	GATE(0, exp_h_de) GATE(3, exp_h_bp) GATE(6, exp_h_ud) GATE(13, exp_h_gp)
	"lidt exp_idtr\n\t"
	"mov $1, %eax\n\txor %ebx, %ebx\n\txor %edx, %edx\n"
	"exp_de:\n\t"
	"div %ebx\n\t"
	A_SYNC(1, $0)
	"exp_bp:\n\t"
	"int3\n"
	"exp_bp_after:\n\t"
	A_SYNC(2, $0)
	"exp_ud:\n\t"
	"ud2\n\t"
	A_SYNC(3, $0)
	"mov $0x1008, %eax\n"
	"exp_gp:\n\t"
	"mov %ax, %ds\n\t"
	"mov %ds, %eax\n\t"
	A_SYNC(4, %eax)
	A_DONE
	"1: hlt\n\tjmp 1b\n\t"
	HANDLER(exp_h_de, 0, 0, 2)
	HANDLER(exp_h_bp, 3, 0, 0)
	HANDLER(exp_h_ud, 6, 0, 2)
	HANDLER(exp_h_gp, 13, 1, 2)
	".code64\n"
	".popsection\n"
	".pushsection .rodata\n"
	".align 8\n"
	"exp_idtr: .word 14*8-1\n\t.long " KT_STR(KT_IDT_GPA) "\n"
	".popsection\n");
// clang-format on
extern const char exp_start[], exp_de[], exp_bp_after[], exp_ud[], exp_gp[];

#define A(sym) ((uint64_t)(uintptr_t)(sym))

int main(void)
{
	static const struct {
		const char *what;
		uint64_t vec, ec;
		int fault;
	} ev[] = {
		{ "div by zero", 0, 0, 1 },
		{ "int3", 3, 0, 0 },
		{ "ud2", 6, 0, 1 },
		{ "mov 0x1008 to ds", 13, 0x1008, 1 },
	};
	uint64_t eip[4] = { A(exp_de), A(exp_bp_after), A(exp_ud), A(exp_gp) };
	struct kt_vcpu *v;
	struct kt_ucall uc;

	kt_init("exc_prot");
	v = kt_create_default();
	kt_setup_prot(v, (uint32_t)A(exp_start), KT_STACK_TOP);
	for (int i = 0; i < 4; i++) {
		kt_expect_sync(v, 100 + ev[i].vec, &uc);
		printf("%-16s vector %llu via IDT, error code 0x%llx, saved EIP %s\n",
		       ev[i].what, (unsigned long long)ev[i].vec,
		       (unsigned long long)uc.args[2],
		       uc.args[1] == eip[i] ?
			       (ev[i].fault ? "= the faulting instruction" :
					      "= past the INT3") :
			       "WRONG");
		KT_ASSERT_EQ(uc.args[1], eip[i]);
		KT_ASSERT_EQ(uc.args[2], ev[i].ec);
		kt_expect_sync(v, (uint64_t)i + 1, &uc);
		printf("%-16s main line resumed", ev[i].what);
		if (i == 3) {
			printf(", DS still 0x%llx",
			       (unsigned long long)uc.args[1] & 0xffff);
			KT_ASSERT_EQ(uc.args[1] & 0xffff, KT_SEL_DATA);
		}
		printf("\n");
	}
	kt_expect_done(v);
	kt_pass();
}
