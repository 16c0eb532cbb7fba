// SPDX-License-Identifier: GPL-2.0
/*
 * exc_real - exceptions in real mode delivered through the guest's own IVT:
 * #DE (DIV by zero, a fault: the saved IP is the DIV), #BP (INT3, a trap:
 * the saved IP is past it) and #UD (UD2, a fault).  Each handler reports its
 * vector and the saved IP from the stack with a ucall, steps over the
 * faulting instruction when needed and IRETs; the main line then reports
 * that it resumed.  The host checks every saved IP against the payload's
 * layout and the order of the events.
 */
#include "guest_asm.h"

#define R(sym) A_REAL(sym, exr_start)

// clang-format off
#define HANDLER(name, vec, skip)					\
	#name ":\n\t"							\
	"push %bp\n\tmov %sp, %bp\n\t"					\
	"movzwl 2(%bp), %esi\n\tmov $" #vec "+100, %edi\n\t"		\
	A_UCALL(UC_SYNC)						\
	"addw $" #skip ", 2(%bp)\n\t"					\
	"pop %bp\n\tiret\n\t"
// clang-format on

// clang-format off
__asm__(".pushsection .text.guest16, \"ax\"\n"
	".code16\n"
	"exr_start:\n\t"
	"xor %ax, %ax\n\tmov %ax, %ds\n\tmov %ax, %ss\n\tmov $0x7000, %sp\n\t"
	"movw $" R(exr_h_de) ", 0\n\tmovw $0, 2\n\t"
	"movw $" R(exr_h_bp) ", 12\n\tmovw $0, 14\n\t"
	"movw $" R(exr_h_ud) ", 24\n\tmovw $0, 26\n\t"
	"mov $1, %ax\n\txor %bl, %bl\n"
	"exr_de:\n\t"
	"div %bl\n\t"
	A_SYNC(1, $0)
	"exr_bp:\n\t"
	"int3\n"
	"exr_bp_after:\n\t"
	A_SYNC(2, $0)
	"exr_ud:\n\t"
	"ud2\n\t"
	A_SYNC(3, $0)
	A_DONE
	"1: hlt\n\tjmp 1b\n\t"
	HANDLER(exr_h_de, 0, 2)
	HANDLER(exr_h_bp, 3, 0)
	HANDLER(exr_h_ud, 6, 2)
	"exr_end:\n"
	".code64\n"
	".popsection\n");
// clang-format on
extern const char exr_start[], exr_end[], exr_de[], exr_bp_after[], exr_ud[];

#define OFF(sym) (KT_REAL_GPA + (uint64_t)(sym - exr_start))

int main(void)
{
	static const struct {
		const char *what;
		uint64_t vec;
		int fault;
	} ev[] = {
		{ "div by zero", 0, 1 },
		{ "int3", 3, 0 },
		{ "ud2", 6, 1 },
	};
	uint64_t ip[3] = { OFF(exr_de), OFF(exr_bp_after), OFF(exr_ud) };
	struct kt_vcpu *v;
	struct kt_ucall uc;

	kt_init("exc_real");
	v = kt_create_default();
	kt_load_blob(v->vm, KT_REAL_GPA, exr_start, exr_end);
	kt_setup_real(v, 0, KT_REAL_GPA, 0x7000);
	for (int i = 0; i < 3; i++) {
		kt_expect_sync(v, 100 + ev[i].vec, &uc);
		printf("%-12s vector %llu via IVT, saved IP %s\n", ev[i].what,
		       (unsigned long long)ev[i].vec,
		       uc.args[1] == ip[i] ?
			       (ev[i].fault ? "= the faulting instruction" :
					      "= past the INT3") :
			       "WRONG");
		KT_ASSERT_EQ(uc.args[1], ip[i]);
		kt_expect_sync(v, (uint64_t)i + 1, &uc);
		printf("%-12s main line resumed after the handler\n",
		       ev[i].what);
	}
	kt_expect_done(v);
	kt_pass();
}
