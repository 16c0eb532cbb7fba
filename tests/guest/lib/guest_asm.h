/* SPDX-License-Identifier: GPL-2.0 */
/*
 * guest_asm.h - string macros for guest payloads written as top-level
 * assembly (.code16/.code32/.code64).  The same text assembles in every mode:
 * gas adds the operand-size prefixes in 16-bit code.
 *
 *   A_UCALL(cmd)          ucall with whatever is in edi/esi/edx
 *   A_SYNC(stage, src)    GUEST_SYNC(stage, src): clobbers eax, edi, esi
 *   A_CHECK(id, reg, imm) if reg != imm: UC_ASSERT with check number id and
 *                         the value (host fails the test); clobbers eax/edi/esi
 *                         only on failure
 *   A_DONE                GUEST_DONE
 *
 * Real-mode payloads are copied to KT_REAL_GPA; A_REAL(sym, start) is the
 * address of sym there, as an assemble-time constant.
 */
#ifndef GUEST_ASM_H
#define GUEST_ASM_H

#include "kvmtest.h"

#define A_UCALL(cmd) \
	"mov $" KT_STR(cmd) ", %eax\n\tout %eax, $" KT_STR(KT_UCALL_PORT) "\n\t"
#define A_SYNC(stage, src) \
	"mov " #src ", %esi\n\tmov $" #stage ", %edi\n\t" A_UCALL(UC_SYNC)
#define A_SYNC2(stage, src, src2) "mov " #src2 ", %edx\n\t" A_SYNC(stage, src)
// clang-format off
#define A_CHECK(id, reg, imm) "cmp $" #imm ", " #reg "\n\tje 9f\n\tmov " #reg ", %esi\n\t" \
	"mov $" #id ", %edi\n\t" A_UCALL(UC_ASSERT) "9:\n\t"
// clang-format on
#define A_DONE A_UCALL(UC_DONE)
#define A_REAL(sym, start) "(" #sym " - " #start " + " KT_STR(KT_REAL_GPA) ")"

/* Declare the start/end symbols of a payload section. */
#define PAYLOAD(name) extern const char name##_start[], name##_end[]

#endif
