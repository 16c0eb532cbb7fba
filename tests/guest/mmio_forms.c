// SPDX-License-Identifier: GPL-2.0
/*
 * mmio_forms - every instruction form a long-mode guest (a Linux driver, a
 * virtio device) may use on device memory, against guest-physical addresses
 * no slot covers, so that each one is emulated and exits as KVM_EXIT_MMIO.
 *
 * Theory.  The host checks every exit: phys_addr, len, is_write and, for a
 * write, the data; it answers every read with known data.  The answers
 * are checked against the CPU itself: the table of "one-access" forms
 * (MOV in all sizes and registers incl. AH..BH, SIL and r8-r15, MOV imm,
 * MOVZX/MOVSX/MOVSXD, the ALU ops in both directions and with 0x80/0x81/
 * 0x83 immediates, TEST, INC/DEC, NEG/NOT, XCHG, CMPXCHG, XADD, BT/BTS/BTR/
 * BTC, SETcc, CMOVcc, MOVNTI, LOCK OR/AND/INC/DEC as set_bit() and
 * atomic_inc() do, SIB addressing with a negative index, PUSH m / POP m,
 * SCAS, MOVBE with MOVBE in the guest's CPUID) is run by the guest on MMIO
 * and by this same program natively, on the host, on an ordinary buffer
 * holding what the device answers.  The written data, RAX/RCX/RDX and the
 * defined flags (pushfq) must be the same; for BT with a register offset
 * the native run shows which operand-sized unit (EA + (offset >> 3 &
 * ~(size - 1))) is accessed, and the exit's phys_addr must be that one.
 * Flags an instruction leaves undefined (AF for logic ops, all but CF for
 * BTx) are not compared or printed.  Left out: the 16-bit (66) MOVBE,
 * which Linux's emulator does not know (KVM_EXIT_INTERNAL_ERROR).
 *
 * Then, with explicit expectations: MOVS of every size with and without
 * REP, MMIO to RAM, RAM to MMIO and MMIO to MMIO, DF=0 and DF=1, count 0
 * (no exit), MOVS between two device pages at the same page offset and
 * from RAM to a device page at the RAM's page offset (the nested fault's
 * GPA is the address of one operand only); STOS and REP STOS; LODS and
 * REP LODS (one exit per element, final RSI/RDI/RCX and RAM checked by
 * the guest); the 16-byte SSE moves MOVDQU/MOVDQA/MOVUPS/MOVAPS (KVM
 * splits a 16-byte access into two 8-byte exits); moffs MOV (A1/A3); FS
 * and GS base overrides (also on MOVS's source); accesses through a 4 KiB
 * mapping whose virtual address is not the GPA, two pages mapped in
 * reverse order, and 8-byte accesses that cross from one to the other (a
 * read: two 4-byte exits; a write: 6 + 2 bytes; in address order).  Then
 * FLD m64 from MMIO, which neither Linux's emulator nor ours does:
 * KVM_EXIT_INTERNAL_ERROR with suberror KVM_INTERNAL_ERROR_EMULATION (only
 * the reason and suberror are printed: the data words are the driver's).
 * Last, in a second VM whose CPUID lacks MOVBE: MOVBE on MMIO raises #UD
 * (Linux's emulator checks the guest's CPUID; the load form's read exit
 * comes first), though the CPU itself executes the instruction.
 *
 * A read's data is pat(gpa): byte i of an access at gpa is (gpa+i)*7+0x3d,
 * unless the case table says otherwise.  Transcript: every exit and every
 * result, no addresses but GPAs.
 */
#include "kvmtest.h"

#include <string.h>

#define HOLE 0xd0000000ull
#define ALU_BASE HOLE                /* case i at ALU_BASE + 0x100 * i + 0x80 */
#define STR_BASE (HOLE + 0x40000ull) /* string instructions */
#define SSE_BASE (HOLE + 0x50000ull)
#define SEG_BASE (HOLE + 0x60000ull)
#define MAP_GPA (HOLE + 0x70000ull) /* two pages, mapped in reverse order */
#define BAD_GPA (HOLE + 0x80000ull)
#define MOFFS_GPA (HOLE + 0x90000ull)
#define MAP_VA 0x8000000000ull  /* PML4 entry 1 */
#define MAP_PT_GPA 0x1800000ull /* PDPT, PD, PT built by the host */

#define MSR_FS_BASE 0xc0000100
#define MSR_GS_BASE 0xc0000101

#define FA 0x8d5ull /* CF PF AF ZF SF OF */
#define FL 0x8c5ull /* logic: AF undefined */
#define FC 0x001ull /* BTx: only CF defined */
#define F_ALL 0x8d7ull
#define F0 0x002ull
#define F_CF 0x003ull
#define F_ZF 0x042ull

static uint8_t pat(uint64_t gpa)
{
	return (uint8_t)(gpa * 7 + 0x3d);
}

static uint64_t pat_val(uint64_t gpa, uint32_t len)
{
	uint64_t v = 0;

	for (uint32_t i = 0; i < len; i++)
		v |= (uint64_t)pat(gpa + i) << (8 * i);
	return v;
}

/* ------------------------------------------------------ one-access forms */

struct st {
	uint64_t fl, rax, rcx, rdx;
};

/*
 * name, instruction (memory operand at (%rdi); RAX, RCX, RDX and the
 * flags are inputs and outputs), access length, reads, writes, byte offset
 * of the access from EA, device data, RAX, RCX, RDX, flags in, flags
 * compared.
 */
// clang-format off
#define CASES(C) \
C(mov_st1,    "movb %%cl, (%%rdi)",  1, 0, 1, 0, 0, 0, 0x1122334455667788, 0, F_ALL, FA) \
C(mov_st1h,   "movb %%ch, (%%rdi)",  1, 0, 1, 0, 0, 0, 0x1122334455667788, 0, F0, FA) \
C(mov_st1dh,  "movb %%dh, (%%rdi)",  1, 0, 1, 0, 0, 0, 0, 0xa5c3, F0, FA) \
C(mov_st1sil, "mov %%rcx, %%rsi; movb %%sil, (%%rdi)", 1, 0, 1, 0, 0, 0, 0x99, 0, F0, FA) \
C(mov_st1r,   "mov %%rcx, %%r9; movb %%r9b, (%%rdi)", 1, 0, 1, 0, 0, 0, 0x4d, 0, F0, FA) \
C(mov_st2,    "movw %%cx, (%%rdi)",  2, 0, 1, 0, 0, 0, 0x1122334455667788, 0, F0, FA) \
C(mov_st4,    "movl %%ecx, (%%rdi)", 4, 0, 1, 0, 0, 0, 0x1122334455667788, 0, F0, FA) \
C(mov_st8,    "movq %%rcx, (%%rdi)", 8, 0, 1, 0, 0, 0, 0x1122334455667788, 0, F_ALL, FA) \
C(mov_st2r,   "mov %%rcx, %%r9; mov %%rdi, %%r10; movw %%r9w, (%%r10)", 2, 0, 1, 0, 0, 0, 0xfedc, 0, F0, FA) \
C(mov_st4r,   "mov %%rcx, %%r9; mov %%rdi, %%r10; movl %%r9d, (%%r10)", 4, 0, 1, 0, 0, 0, 0x8badf00d, 0, F0, FA) \
C(mov_st8r,   "mov %%rcx, %%r15; mov %%rdi, %%r8; movq %%r15, (%%r8)", 8, 0, 1, 0, 0, 0, 0x0123456789abcdef, 0, F0, FA) \
C(mov_ld1,    "movb (%%rdi), %%cl",  1, 1, 0, 0, 0x8e, 0, ~0ull, 0, F_ALL, FA) \
C(mov_ld1h,   "movb (%%rdi), %%ch",  1, 1, 0, 0, 0x8e, 0, ~0ull, 0, F0, FA) \
C(mov_ld1dh,  "movb (%%rdi), %%dh",  1, 1, 0, 0, 0x17, 0, 0, ~0ull, F0, FA) \
C(mov_ld1sil, "mov %%rcx, %%rsi; movb (%%rdi), %%sil; mov %%rsi, %%rcx", 1, 1, 0, 0, 0x61, 0, ~0ull, 0, F0, FA) \
C(mov_ld1r,   "mov %%rcx, %%r8; movb (%%rdi), %%r8b; mov %%r8, %%rcx", 1, 1, 0, 0, 0x62, 0, ~0ull, 0, F0, FA) \
C(mov_ld2,    "movw (%%rdi), %%cx",  2, 1, 0, 0, 0x8e9f, 0, ~0ull, 0, F0, FA) \
C(mov_ld4,    "movl (%%rdi), %%ecx", 4, 1, 0, 0, 0x8e9fa0b1, 0, ~0ull, 0, F0, FA) \
C(mov_ld8,    "movq (%%rdi), %%rcx", 8, 1, 0, 0, 0xf1e2d3c4b5a69788, 0, 0, 0, F_ALL, FA) \
C(mov_ld2r,   "mov %%rcx, %%r9; mov %%rdi, %%r10; movw (%%r10), %%r9w; mov %%r9, %%rcx", 2, 1, 0, 0, 0x1357, 0, ~0ull, 0, F0, FA) \
C(mov_ld4r,   "mov %%rcx, %%r11; movl (%%rdi), %%r11d; mov %%r11, %%rcx", 4, 1, 0, 0, 0x87654321, 0, ~0ull, 0, F0, FA) \
C(mov_ld8r,   "mov %%rdi, %%r12; movq (%%r12), %%r13; mov %%r13, %%rcx", 8, 1, 0, 0, 0x7766554433221100, 0, 0, 0, F0, FA) \
C(mov_ld4rax, "movl (%%rdi), %%eax", 4, 1, 0, 0, 0xcafef00d, ~0ull, 0, 0, F0, FA) \
C(mov_imm1,   "movb $0x5a, (%%rdi)", 1, 0, 1, 0, 0, 0, 0, 0, F0, FA) \
C(mov_imm2,   "movw $0x1234, (%%rdi)", 2, 0, 1, 0, 0, 0, 0, 0, F0, FA) \
C(mov_imm4,   "movl $0x89abcdef, (%%rdi)", 4, 0, 1, 0, 0, 0, 0, 0, F0, FA) \
C(mov_imm8n,  "movq $-2, (%%rdi)", 8, 0, 1, 0, 0, 0, 0, 0, F0, FA) \
C(mov_imm8p,  "movq $0x7fffffff, (%%rdi)", 8, 0, 1, 0, 0, 0, 0, 0, F0, FA) \
C(movzbw,     "movzbw (%%rdi), %%cx",  1, 1, 0, 0, 0xf3, 0, ~0ull, 0, F0, FA) \
C(movzbl,     "movzbl (%%rdi), %%ecx", 1, 1, 0, 0, 0xf3, 0, ~0ull, 0, F0, FA) \
C(movzbq,     "movzbq (%%rdi), %%rcx", 1, 1, 0, 0, 0xf3, 0, ~0ull, 0, F0, FA) \
C(movzwl,     "movzwl (%%rdi), %%ecx", 2, 1, 0, 0, 0x8765, 0, ~0ull, 0, F0, FA) \
C(movzwq,     "movzwq (%%rdi), %%rcx", 2, 1, 0, 0, 0x8765, 0, ~0ull, 0, F0, FA) \
C(movzbl_r,   "movzbl (%%rdi), %%r9d; mov %%r9, %%rcx", 1, 1, 0, 0, 0x80, 0, 0, 0, F0, FA) \
C(movsbw,     "movsbw (%%rdi), %%cx",  1, 1, 0, 0, 0xf3, 0, 0, 0, F0, FA) \
C(movsbl,     "movsbl (%%rdi), %%ecx", 1, 1, 0, 0, 0xf3, 0, ~0ull, 0, F0, FA) \
C(movsbq,     "movsbq (%%rdi), %%rcx", 1, 1, 0, 0, 0xf3, 0, 0, 0, F0, FA) \
C(movsbl_p,   "movsbl (%%rdi), %%ecx", 1, 1, 0, 0, 0x73, 0, ~0ull, 0, F0, FA) \
C(movswl,     "movswl (%%rdi), %%ecx", 2, 1, 0, 0, 0x8765, 0, ~0ull, 0, F0, FA) \
C(movswq,     "movswq (%%rdi), %%rcx", 2, 1, 0, 0, 0x8765, 0, 0, 0, F0, FA) \
C(movsxd,     "movslq (%%rdi), %%rcx", 4, 1, 0, 0, 0x80000001, 0, 0, 0, F0, FA) \
C(movsxd_p,   "movslq (%%rdi), %%rcx", 4, 1, 0, 0, 0x7ffffffe, 0, ~0ull, 0, F0, FA) \
C(add_mr1,    "addb %%cl, (%%rdi)",  1, 1, 1, 0, 0xff, 0, 1, 0, F0, FA) \
C(add_mr2,    "addw %%cx, (%%rdi)",  2, 1, 1, 0, 0x7fff, 0, 1, 0, F0, FA) \
C(add_mr4,    "addl %%ecx, (%%rdi)", 4, 1, 1, 0, 0x7fffffff, 0, 1, 0, F0, FA) \
C(add_mr8,    "addq %%rcx, (%%rdi)", 8, 1, 1, 0, 0x8000000000000000, 0, 0x8000000000000000, 0, F0, FA) \
C(add_rm4,    "addl (%%rdi), %%ecx", 4, 1, 0, 0, 0xfffffff0, 0, 0xffffffff00000010, 0, F0, FA) \
C(add_rm8,    "addq (%%rdi), %%rcx", 8, 1, 0, 0, 0x0f0f0f0f0f0f0f0f, 0, 0x0101010101010101, 0, F0, FA) \
C(add_rm1h,   "addb (%%rdi), %%ch",  1, 1, 0, 0, 0x88, 0, 0x8800, 0, F0, FA) \
C(or_mr4,     "orl %%ecx, (%%rdi)",  4, 1, 1, 0, 0x80000000, 0, 0x0000f00f, 0, F_ALL, FL) \
C(or_rm2,     "orw (%%rdi), %%cx",   2, 1, 0, 0, 0, 0, 0xffff0000, 0, F_ALL, FL) \
C(adc_mr4,    "adcl %%ecx, (%%rdi)", 4, 1, 1, 0, 0xfffffffe, 0, 1, 0, F_CF, FA) \
C(adc_rm8,    "adcq (%%rdi), %%rcx", 8, 1, 0, 0, 0x7fffffffffffffff, 0, 0, 0, F_CF, FA) \
C(sbb_mr4,    "sbbl %%ecx, (%%rdi)", 4, 1, 1, 0, 1, 0, 0, 0, F_CF, FA) \
C(sbb_rm1,    "sbbb (%%rdi), %%cl",  1, 1, 0, 0, 0x7f, 0, 0x80, 0, F_CF, FA) \
C(and_mr8,    "andq %%rcx, (%%rdi)", 8, 1, 1, 0, 0xff00ff00ff00ff00, 0, 0x0ff00ff00ff00ff0, 0, F_ALL, FL) \
C(and_rm4,    "andl (%%rdi), %%ecx", 4, 1, 0, 0, 0x0000ffff, 0, 0xffffffffffff0000, 0, F0, FL) \
C(sub_mr4,    "subl %%ecx, (%%rdi)", 4, 1, 1, 0, 0x80000000, 0, 1, 0, F0, FA) \
C(sub_rm2,    "subw (%%rdi), %%cx",  2, 1, 0, 0, 0x0001, 0, 0, 0, F0, FA) \
C(xor_mr2,    "xorw %%cx, (%%rdi)",  2, 1, 1, 0, 0xa5a5, 0, 0xa5a5, 0, F0, FL) \
C(xor_rm8,    "xorq (%%rdi), %%rcx", 8, 1, 0, 0, 0x8000000000000001, 0, 1, 0, F0, FL) \
C(cmp_mr4,    "cmpl %%ecx, (%%rdi)", 4, 1, 0, 0, 5, 0, 7, 0, F0, FA) \
C(cmp_rm8,    "cmpq (%%rdi), %%rcx", 8, 1, 0, 0, 0x8000000000000000, 0, 1, 0, F0, FA) \
C(cmp_mr1,    "cmpb %%cl, (%%rdi)",  1, 1, 0, 0, 0x42, 0, 0x42, 0, F0, FA) \
C(add_i80,    "addb $0x80, (%%rdi)", 1, 1, 1, 0, 0x80, 0, 0, 0, F0, FA) \
C(sbb_i80,    "sbbb $1, (%%rdi)",    1, 1, 1, 0, 1, 0, 0, 0, F_CF, FA) \
C(cmp_i80,    "cmpb $0x10, (%%rdi)", 1, 1, 0, 0, 0x0f, 0, 0, 0, F0, FA) \
C(or_i81w,    "orw $0x1234, (%%rdi)", 2, 1, 1, 0, 0x8001, 0, 0, 0, F0, FL) \
C(and_i81l,   "andl $0xffff0000, (%%rdi)", 4, 1, 1, 0, 0x1234abcd, 0, 0, 0, F0, FL) \
C(sub_i81q,   "subq $0x7fffffff, (%%rdi)", 8, 1, 1, 0, 0x7ffffffe, 0, 0, 0, F0, FA) \
C(adc_i81l,   "adcl $0x10000, (%%rdi)", 4, 1, 1, 0, 0xffff0000, 0, 0, 0, F_CF, FA) \
C(xor_i83l,   "xorl $-1, (%%rdi)",   4, 1, 1, 0, 0x0f0f0f0f, 0, 0, 0, F0, FL) \
C(cmp_i83q,   "cmpq $-5, (%%rdi)",   8, 1, 0, 0, 0xfffffffffffffffb, 0, 0, 0, F0, FA) \
C(adc_i83w,   "adcw $3, (%%rdi)",    2, 1, 1, 0, 0xfffc, 0, 0, 0, F_CF, FA) \
C(add_i83q,   "addq $-1, (%%rdi)",   8, 1, 1, 0, 0, 0, 0, 0, F0, FA) \
C(test_mr4,   "testl %%ecx, (%%rdi)", 4, 1, 0, 0, 0x80000000, 0, 0x80000001, 0, F_ALL, FL) \
C(test_i8,    "testb $0x81, (%%rdi)", 1, 1, 0, 0, 0x7e, 0, 0, 0, F0, FL) \
C(test_i64,   "testq $-16, (%%rdi)", 8, 1, 0, 0, 0x800000000000000f, 0, 0, 0, F0, FL) \
C(inc4,       "incl (%%rdi)",        4, 1, 1, 0, 0x7fffffff, 0, 0, 0, F_CF, FA) \
C(inc8,       "incq (%%rdi)",        8, 1, 1, 0, ~0ull, 0, 0, 0, F0, FA) \
C(dec1,       "decb (%%rdi)",        1, 1, 1, 0, 0, 0, 0, 0, F0, FA) \
C(dec2,       "decw (%%rdi)",        2, 1, 1, 0, 1, 0, 0, 0, F_CF, FA) \
C(neg4,       "negl (%%rdi)",        4, 1, 1, 0, 0x80000000, 0, 0, 0, F0, FA) \
C(neg1,       "negb (%%rdi)",        1, 1, 1, 0, 0, 0, 0, 0, F_ALL, FA) \
C(not8,       "notq (%%rdi)",        8, 1, 1, 0, 0x00ff00ff00ff00ff, 0, 0, 0, F_ALL, FA) \
C(not2,       "notw (%%rdi)",        2, 1, 1, 0, 0x1234, 0, 0, 0, F0, FA) \
C(xchg4,      "xchgl %%ecx, (%%rdi)", 4, 1, 1, 0, 0xdeadbeef, 0, 0xffffffff01234567, 0, F_ALL, FA) \
C(xchg8l,     "lock xchgq %%rcx, (%%rdi)", 8, 1, 1, 0, 0x1111111122222222, 0, 0x3333333344444444, 0, F0, FA) \
C(xchg1h,     "xchgb %%ch, (%%rdi)", 1, 1, 1, 0, 0x5e, 0, 0xabcd, 0, F0, FA) \
C(xchg2r,     "mov %%rcx, %%r10; xchgw (%%rdi), %%r10w; mov %%r10, %%rcx", 2, 1, 1, 0, 0x7777, 0, 0x1234, 0, F0, FA) \
C(cmpxchg4_ok, "cmpxchgl %%ecx, (%%rdi)", 4, 1, 1, 0, 0x600d, 0x600d, 0xbeef, 0, F0, FA) \
C(cmpxchg8_okl, "lock cmpxchgq %%rcx, (%%rdi)", 8, 1, 1, 0, 0x8000000000000000, 0x8000000000000000, 7, 0, F0, FA) \
C(cmpxchg4_bad, "cmpxchgl %%ecx, (%%rdi)", 4, 1, 1, 0, 0x5555, 0xffffffff00005556, 0xbeef, 0, F0, FA) \
C(cmpxchg1_badl, "lock cmpxchgb %%cl, (%%rdi)", 1, 1, 1, 0, 0x80, 0x7f, 0x11, 0, F0, FA) \
C(xadd4,      "xaddl %%ecx, (%%rdi)", 4, 1, 1, 0, 0xffffffff, 0, 2, 0, F0, FA) \
C(xadd8l,     "lock xaddq %%rcx, (%%rdi)", 8, 1, 1, 0, 0x4000000000000000, 0, 0x4000000000000000, 0, F0, FA) \
C(xadd2,      "xaddw %%cx, (%%rdi)", 2, 1, 1, 0, 0x10, 0, 0xfff0, 0, F0, FA) \
C(bt4_r,      "btl %%ecx, (%%rdi)",  4, 1, 0, 0, 0x20, 0, 5, 0, F0, FC) \
C(bt4_rfar,   "btl %%ecx, (%%rdi)",  4, 1, 0, 4, 0x20, 0, 37, 0, F_CF, FC) \
C(bt4_rneg,   "btl %%ecx, (%%rdi)",  4, 1, 0, -4, 0x80000000, 0, -1ull, 0, F0, FC) \
C(bts8_rfar,  "btsq %%rcx, (%%rdi)", 8, 1, 1, 8, 0, 0, 67, 0, F0, FC) \
C(btr2_rfar,  "btrw %%cx, (%%rdi)",  2, 1, 1, 2, 0xffff, 0, 0x13, 0, F0, FC) \
C(btc4_rneg,  "btcl %%ecx, (%%rdi)", 4, 1, 1, -8, 0x7fffffff, 0, -33ull, 0, F_CF, FC) \
C(btr4_rl,    "lock btrl %%ecx, (%%rdi)", 4, 1, 1, 0, 0x0f, 0, 2, 0, F0, FC) \
C(bt4_i,      "btl $37, (%%rdi)",    4, 1, 0, 0, 0x20, 0, 0, 0, F0, FC) \
C(bts2_i,     "btsw $3, (%%rdi)",    2, 1, 1, 0, 0, 0, 0, 0, F_CF, FC) \
C(btr8_i,     "btrq $63, (%%rdi)",   8, 1, 1, 0, 0x8000000000000001, 0, 0, 0, F0, FC) \
C(btc4_il,    "lock btcl $0, (%%rdi)", 4, 1, 1, 0, 0x10, 0, 0, 0, F0, FC) \
C(setz_t,     "setz (%%rdi)",        1, 0, 1, 0, 0, 0, 0, 0, F_ZF, FA) \
C(setc_f,     "setc (%%rdi)",        1, 0, 1, 0, 0, 0, 0, 0, F_ZF, FA) \
C(setnle,     "setg (%%rdi)",        1, 0, 1, 0, 0, 0, 0, 0, F0, FA) \
C(cmovz4_t,   "cmovzl (%%rdi), %%ecx", 4, 1, 0, 0, 0x12345678, 0, ~0ull, 0, F_ZF, FA) \
C(cmovz4_f,   "cmovzl (%%rdi), %%ecx", 4, 1, 0, 0, 0x12345678, 0, ~0ull, 0, F0, FA) \
C(cmovnz8_f,  "cmovnzq (%%rdi), %%rcx", 8, 1, 0, 0, 0x12345678, 0, ~0ull, 0, F_ZF, FA) \
C(cmovc2_t,   "cmovcw (%%rdi), %%cx", 2, 1, 0, 0, 0x5678, 0, ~0ull, 0, F_CF, FA) \
C(movnti4,    "movnti %%ecx, (%%rdi)", 4, 0, 1, 0, 0, 0, 0xffffffff76543210, 0, F0, FA) \
C(movnti8,    "movnti %%rcx, (%%rdi)", 8, 0, 1, 0, 0, 0, 0xfedcba9876543210, 0, F0, FA) \
C(lock_orb,   "lock orb $4, (%%rdi)", 1, 1, 1, 0, 0x81, 0, 0, 0, F0, FL) \
C(lock_andl,  "lock andl $-9, (%%rdi)", 4, 1, 1, 0, 0xffffffff, 0, 0, 0, F0, FL) \
C(lock_incl,  "lock incl (%%rdi)",   4, 1, 1, 0, 0xffffffff, 0, 0, 0, F_CF, FA) \
C(lock_decq,  "lock decq (%%rdi)",   8, 1, 1, 0, 1, 0, 0, 0, F0, FA) \
C(sib_ld4,    "movl 8(%%rdi,%%rdx,4), %%ecx", 4, 1, 0, 0, 0x31415926, 0, 0, -2ull, F0, FA) \
C(sib_st2,    "movw %%cx, -0x10(%%rdi,%%rdx,8)", 2, 0, 1, 0, 0, 0, 0x2718, 2, F0, FA) \
C(push_m,     "pushq (%%rdi); popq %%rcx", 8, 1, 0, 0, 0x0123456789abcdef, 0, 0, 0, F0, FA) \
C(pop_m,      "pushq %%rcx; popq (%%rdi)", 8, 0, 1, 0, 0, 0, 0xfedcba9876543210, 0, F0, FA) \
C(scasl,      "scasl",               4, 1, 0, 0, 0x80000000, 0x7fffffff, 0, 0, F0, FA) \
C(scasb,      "scasb",               1, 1, 0, 0, 0x42, 0x42, 0, 0, F0, FA) \
C(movbe_ld4,  "movbe (%%rdi), %%ecx", 4, 1, 0, 0, 0x11223344, 0, ~0ull, 0, F0, FA) \
C(movbe_ld8,  "movbe (%%rdi), %%rcx", 8, 1, 0, 0, 0x0102030405060708, 0, 0, 0, F0, FA) \
C(movbe_st4,  "movbe %%ecx, (%%rdi)", 4, 0, 1, 0, 0, 0, 0xa1b2c3d4, 0, F0, FA) \
C(movbe_st8,  "movbe %%rcx, (%%rdi)", 8, 0, 1, 0, 0, 0, 0x8877665544332211, 0, F0, FA)
// clang-format on

#define C_ENUM(n, ...) CASE_##n,
enum {
	CASES(C_ENUM) NCASES
};

struct acase {
	const char *name;
	uint8_t len, rd, wr;
	int8_t delta;
	uint64_t init, rax, rcx, rdx, fl, fmask;
};

#define C_ROW(n, insn, len, rd, wr, delta, init, rax, rcx, rdx, fl, fm) \
	{ #n, len, rd, wr, delta, init, rax, rcx, rdx, fl, fm },
static const struct acase cases[NCASES] = { CASES(C_ROW) };

// clang-format off
#define RUN(insn)							\
	__asm__ volatile("push %[fl]\n\tpopfq\n\t" insn "\n\t"		\
			 "pushfq\n\tpop %[fl]"				\
			 : [fl] "+r"(s->fl), "+a"(s->rax), "+c"(s->rcx),\
			   "+d"(s->rdx), "+D"(mem) /* SCAS moves RDI */	\
			 :						\
			 : "rsi", "r8", "r9", "r10", "r11", "r12", "r13",\
			   "r15", "memory", "cc")
#define C_SWITCH(n, insn, ...) case CASE_##n: RUN(insn); break;
// clang-format on

/* Runs case id with its memory operand at mem, on the guest or the host. */
static void __attribute__((noinline))
do_case(int id, uint64_t mem, struct st *s)
{
	switch (id) {
		CASES(C_SWITCH)
	}
}

static uint64_t case_ea(int id)
{
	return ALU_BASE + 0x100ull * id + 0x80;
}

/* ------------------------------------------------------------ the guest */

static struct st gres;    /* a case's result, read by the host */
static uint8_t gram[256]; /* RAM side of MOVS/STOS */
static uint8_t gsse[32] __attribute__((aligned(16)));

static void guest_cases(void)
{
	for (int i = 0; i < NCASES; i++) {
		struct st s = { cases[i].fl, cases[i].rax, cases[i].rcx,
				cases[i].rdx };

		do_case(i, case_ea(i), &s);
		gres = s;
		GUEST_SYNC(1000 + i, 0, 0);
	}
}

struct sregs_out {
	uint64_t rsi, rdi, rcx, rax;
};

// clang-format off
/* A string instruction with RSI, RDI, RCX, RAX in and out; DF from df. */
#define STR(insn, df, o)						\
	__asm__ volatile("mov %[si], %%rsi\n\tmov %[di], %%rdi\n\t"	\
			 "mov %[cx], %%rcx\n\tmov %[ax], %%rax\n\t"	\
			 "test %[d], %[d]\n\tjz 1f\n\tstd\n1:\n\t"	\
			 insn "\n\tcld\n\t"				\
			 "mov %%rsi, %[si]\n\tmov %%rdi, %[di]\n\t"	\
			 "mov %%rcx, %[cx]\n\tmov %%rax, %[ax]"	\
			 : [si] "+m"((o).rsi), [di] "+m"((o).rdi),	\
			   [cx] "+m"((o).rcx), [ax] "+m"((o).rax)	\
			 : [d] "r"((uint64_t)(df))			\
			 : "rsi", "rdi", "rcx", "rax", "memory", "cc")
// clang-format on

/* A device address in STR_BASE + 0x2000's page with la's page offset */
static uint64_t same_off(uint64_t la)
{
	return STR_BASE + 0x2000 + (la & 0xfff);
}

static void str_sync(int stage, struct sregs_out *o)
{
	gres.rax = o->rax;
	gres.rcx = o->rcx;
	gres.rdx = o->rsi;
	gres.fl = o->rdi;
	GUEST_SYNC(stage, 0, 0);
}

static uint64_t ram_val(uint64_t off, uint32_t len)
{
	uint64_t v = 0;

	for (uint32_t i = 0; i < len; i++) /* no memcpy in guest code */
		v |= (uint64_t)gram[off + i] << (8 * i);
	return v;
}

static void guest_strings(void)
{
	struct sregs_out o;
	uint64_t r = (uint64_t)(uintptr_t)gram;

	for (int i = 0; i < 256; i++)
		gram[i] = (uint8_t)(0xc0 + i);

	/* MOVSB MMIO -> RAM */
	o = (struct sregs_out){ STR_BASE, r, 0x55, 0 };
	STR("movsb", 0, o);
	GUEST_ASSERT_EQ(gram[0], pat(STR_BASE));
	str_sync(2001, &o);
	/* REP MOVSW MMIO -> RAM, 3 elements */
	o = (struct sregs_out){ STR_BASE + 0x10, r + 0x10, 3, 0 };
	STR("rep movsw", 0, o);
	GUEST_ASSERT_EQ(ram_val(0x10, 6) & 0xffffffffffffull,
			pat_val(STR_BASE + 0x10, 6));
	str_sync(2002, &o);
	/* REP MOVSL MMIO -> RAM, DF=1 */
	o = (struct sregs_out){ STR_BASE + 0x28, r + 0x28, 3, 0 };
	STR("rep movsl", 1, o);
	GUEST_ASSERT_EQ(ram_val(0x20, 4), pat_val(STR_BASE + 0x20, 4));
	GUEST_ASSERT_EQ(ram_val(0x24, 4), pat_val(STR_BASE + 0x24, 4));
	GUEST_ASSERT_EQ(ram_val(0x28, 4), pat_val(STR_BASE + 0x28, 4));
	str_sync(2003, &o);
	/* MOVSQ MMIO -> RAM */
	o = (struct sregs_out){ STR_BASE + 0x38, r + 0x38, 0, 0 };
	STR("movsq", 0, o);
	GUEST_ASSERT_EQ(ram_val(0x38, 8), pat_val(STR_BASE + 0x38, 8));
	str_sync(2004, &o);
	/* REP MOVSQ RAM -> MMIO, 2 elements */
	o = (struct sregs_out){ r + 0x80, STR_BASE + 0x80, 2, 0 };
	STR("rep movsq", 0, o);
	str_sync(2005, &o);
	/* MOVSL RAM -> MMIO, DF=1 */
	o = (struct sregs_out){ r + 0x90, STR_BASE + 0x90, 7, 0 };
	STR("movsl", 1, o);
	str_sync(2006, &o);
	/* REP MOVSB RAM -> MMIO, DF=1, 2 elements */
	o = (struct sregs_out){ r + 0xa1, STR_BASE + 0xa1, 2, 0 };
	STR("rep movsb", 1, o);
	str_sync(2007, &o);
	/* REP MOVSW with count 0: no access */
	o = (struct sregs_out){ STR_BASE + 0xb0, STR_BASE + 0xc0, 0, 0 };
	STR("rep movsw", 0, o);
	str_sync(2008, &o);
	/* MOVSL MMIO -> MMIO */
	o = (struct sregs_out){ STR_BASE + 0xd0, STR_BASE + 0xe0, 0, 0 };
	STR("movsl", 0, o);
	str_sync(2009, &o);
	/* STOSB, REP STOSL, REP STOSQ DF=1, REP STOSW count 0 */
	o = (struct sregs_out){ 0, STR_BASE + 0x100, 9, 0x1234567890abcdefull };
	STR("stosb", 0, o);
	str_sync(2010, &o);
	o = (struct sregs_out){ 0, STR_BASE + 0x110, 3, 0x1234567890abcdefull };
	STR("rep stosl", 0, o);
	str_sync(2011, &o);
	o = (struct sregs_out){ 0, STR_BASE + 0x138, 2, 0x1234567890abcdefull };
	STR("rep stosq", 1, o);
	str_sync(2012, &o);
	o = (struct sregs_out){ 0, STR_BASE + 0x140, 0, 0x1234567890abcdefull };
	STR("rep stosw", 0, o);
	str_sync(2013, &o);
	/* LODSB (RAX bits 8-63 kept), LODSQ, REP LODSL DF=1 (EAX zero-ext) */
	o = (struct sregs_out){ STR_BASE + 0x150, 0, 5, ~0ull };
	STR("lodsb", 0, o);
	str_sync(2014, &o);
	o = (struct sregs_out){ STR_BASE + 0x158, 0, 5, 0 };
	STR("lodsq", 0, o);
	str_sync(2015, &o);
	o = (struct sregs_out){ STR_BASE + 0x168, 0, 2, ~0ull };
	STR("rep lodsl", 1, o);
	str_sync(2016, &o);
	/* MOVSL between two device pages at the same page offset, and from
	 * RAM to a device page at the RAM's page offset: the fault's GPA is
	 * one operand's only */
	o = (struct sregs_out){ STR_BASE + 0x1d0, STR_BASE + 0x11d0, 0, 0 };
	STR("movsl", 0, o);
	str_sync(2017, &o);
	o = (struct sregs_out){ r + 0xf0, same_off(r + 0xf0), 0, 0 };
	STR("movsl", 0, o);
	str_sync(2018, &o);
}

/* -mgeneral-regs-only: the compiler never uses xmm registers, so these
 * asm blocks cannot (and need not) list them as clobbers. */
static void guest_sse(void)
{
	uint64_t lo, hi;

	/* loads: MOVDQU, MOVDQA, MOVUPS, MOVAPS into xmm0 / xmm9 */
	__asm__ volatile("movdqu (%2), %%xmm0\n\tmovq %%xmm0, %0\n\t"
			 "movhlps %%xmm0, %%xmm0\n\tmovq %%xmm0, %1"
			 : "=r"(lo), "=r"(hi)
			 : "r"(SSE_BASE + 0x8)
			 : "memory");
	GUEST_ASSERT_EQ(lo, pat_val(SSE_BASE + 0x8, 8));
	GUEST_ASSERT_EQ(hi, pat_val(SSE_BASE + 0x10, 8));
	GUEST_SYNC(3001, lo, hi);
	__asm__ volatile("movdqa (%2), %%xmm9\n\tmovq %%xmm9, %0\n\t"
			 "movhlps %%xmm9, %%xmm9\n\tmovq %%xmm9, %1"
			 : "=r"(lo), "=r"(hi)
			 : "r"(SSE_BASE + 0x20)
			 : "memory");
	GUEST_SYNC(3002, lo, hi);
	__asm__ volatile("movups (%2), %%xmm1\n\tmovq %%xmm1, %0\n\t"
			 "movhlps %%xmm1, %%xmm1\n\tmovq %%xmm1, %1"
			 : "=r"(lo), "=r"(hi)
			 : "r"(SSE_BASE + 0x34)
			 : "memory");
	GUEST_SYNC(3003, lo, hi);
	__asm__ volatile("movaps (%2), %%xmm2\n\tmovq %%xmm2, %0\n\t"
			 "movhlps %%xmm2, %%xmm2\n\tmovq %%xmm2, %1"
			 : "=r"(lo), "=r"(hi)
			 : "r"(SSE_BASE + 0x40)
			 : "memory");
	GUEST_SYNC(3004, lo, hi);
	/* stores of a known xmm value */
	for (int i = 0; i < 32; i++)
		gsse[i] = (uint8_t)(0x10 + i);
	__asm__ volatile("movdqa (%0), %%xmm3\n\tmovdqu %%xmm3, (%1)"
			 :
			 : "r"(gsse), "r"(SSE_BASE + 0x58)
			 : "memory");
	__asm__ volatile("movdqa 16(%0), %%xmm12\n\tmovdqa %%xmm12, (%1)"
			 :
			 : "r"(gsse), "r"(SSE_BASE + 0x60)
			 : "memory");
	__asm__ volatile("movdqa (%0), %%xmm4\n\tmovups %%xmm4, (%1)"
			 :
			 : "r"(gsse), "r"(SSE_BASE + 0x74)
			 : "memory");
	__asm__ volatile("movdqa 16(%0), %%xmm5\n\tmovaps %%xmm5, (%1)"
			 :
			 : "r"(gsse), "r"(SSE_BASE + 0x80)
			 : "memory");
	GUEST_SYNC(3005, 0, 0);
}

static void guest_seg_and_paging(void)
{
	uint64_t a, b;
	uint32_t c;

	/* moffs forms (A1 / A3 with a 64-bit address) */
	_Static_assert(MOFFS_GPA == 0xd0090000ull, "the moffs below");
	__asm__ volatile("movabs 0xd0090004, %%eax" : "=a"(c) : : "memory");
	__asm__ volatile("movabs %%rax, 0xd0090008"
			 :
			 : "a"(0x0102030405060708ull)
			 : "memory");
	GUEST_SYNC(4001, c, 0);
	/* FS and GS bases */
	guest_wrmsr(MSR_FS_BASE, SEG_BASE);
	guest_wrmsr(MSR_GS_BASE, SEG_BASE + 0x100);
	__asm__ volatile("movl %%fs:0x10, %0" : "=r"(c) : : "memory");
	__asm__ volatile("movq %0, %%gs:8"
			 :
			 : "r"(0xabcdef0123456789ull)
			 : "memory");
	__asm__ volatile("addw $1, %%gs:0x20" : : : "memory", "cc");
	a = 0;
	__asm__ volatile("mov $0x30, %%rsi\n\tmov %1, %%rdi\n\t"
			 "movsw %%fs:(%%rsi), %%es:(%%rdi)\n\tmov %%rsi, %0"
			 : "=r"(b)
			 : "r"(&a)
			 : "rsi", "rdi", "memory");
	guest_wrmsr(MSR_FS_BASE, 0);
	guest_wrmsr(MSR_GS_BASE, 0);
	GUEST_SYNC(4002, c, a | (b << 32));
	/* a mapping that is not the identity */
	__asm__ volatile("movl (%1), %0"
			 : "=r"(c)
			 : "r"(MAP_VA + 0x3010)
			 : "memory");
	__asm__ volatile("movw %0, (%1)"
			 :
			 : "r"((uint16_t)0xbeef), "r"(MAP_VA + 0x4020)
			 : "memory");
	__asm__ volatile("movq (%1), %0"
			 : "=r"(a)
			 : "r"(MAP_VA + 0x3ffc)
			 : "memory");
	__asm__ volatile("movq %0, (%1)"
			 :
			 : "r"(0x8877665544332211ull), "r"(MAP_VA + 0x3ffa)
			 : "memory");
	GUEST_SYNC(4003, c, a);
	/* FLD m64: emulated by neither driver */
	__asm__ volatile("fldl (%0)" : : "r"(BAD_GPA) : "memory");
	GUEST_ASSERT(0);
}

/* The second VM: MOVBE without MOVBE in the guest's CPUID */
static void guest_movbe_ud(void)
{
	uint32_t c = 0x5a5a5a5a;

	guest_idt_init();
	guest_exc_reset();
	__asm__ volatile(GUEST_TRY("movbe (%1), %0")
			 : "+r"(c)
			 : "r"(BAD_GPA + 0x10)
			 : "memory");
	GUEST_SYNC(5001, guest_exc.vector, c);
	guest_exc_reset();
	__asm__ volatile(GUEST_TRY("movbe %0, (%1)")
			 :
			 : "r"(c), "r"(BAD_GPA + 0x20)
			 : "memory");
	GUEST_SYNC(5002, guest_exc.vector, 0);
	GUEST_DONE();
	guest_hlt_forever();
}

static void guest_main(void)
{
	guest_cases();
	guest_strings();
	guest_sse();
	guest_seg_and_paging(); /* ends in the internal error */
	guest_hlt_forever();
}

/* ------------------------------------------------------------- the host */

static struct kt_vcpu *vc;
static uint64_t last_write; /* data of the last write exit */

static void expect(uint64_t gpa, uint32_t len, int is_write, uint64_t wdata)
{
	struct kvm_run *run = vc->run;
	uint32_t r = kt_run(vc);
	uint64_t d = 0;

	KT_ASSERT(r == KVM_EXIT_MMIO, "expected MMIO %s at 0x%llx, got %s",
		  is_write ? "write" : "read", (unsigned long long)gpa,
		  kt_exit_name(r));
	if (run->mmio.phys_addr != gpa || run->mmio.len != len ||
	    run->mmio.is_write != is_write)
		kt_fail(__FILE__, __LINE__,
			"MMIO exit phys_addr 0x%llx len %u is_write %u, "
			"expected 0x%llx %u %u",
			(unsigned long long)run->mmio.phys_addr, run->mmio.len,
			run->mmio.is_write, (unsigned long long)gpa, len,
			is_write);
	if (is_write) {
		memcpy(&d, run->mmio.data, len);
		last_write = d;
		KT_ASSERT_EQ(d, wdata);
	} else {
		d = wdata;
		memcpy(run->mmio.data, &d, len);
	}
	printf("  MMIO %-5s 0x%llx len %u data 0x%llx\n",
	       is_write ? "write" : "read", (unsigned long long)gpa, len,
	       (unsigned long long)d);
}

static void rd(uint64_t gpa, uint32_t len)
{
	expect(gpa, len, 0, pat_val(gpa, len));
}

static void wr(uint64_t gpa, uint32_t len, uint64_t data)
{
	expect(gpa, len, 1, data);
}

static void sync(uint64_t stage, struct kt_ucall *uc)
{
	kt_expect_sync(vc, stage, uc);
}

static void host_cases(void)
{
	struct st *g = KT_GUEST_VAR(vc->vm, gres);

	printf("one-access forms (checked against the CPU on RAM)\n");
	for (int i = 0; i < NCASES; i++) {
		const struct acase *c = &cases[i];
		uint8_t buf[64];
		struct st n = { c->fl, c->rax, c->rcx, c->rdx };
		uint64_t gpa = case_ea(i) + c->delta, w = 0;

		memset(buf, 0, sizeof(buf));
		memcpy(buf + 32 + c->delta, &c->init, c->len);
		do_case(i, (uint64_t)(uintptr_t)(buf + 32), &n);
		memcpy(&w, buf + 32 + c->delta, c->len);
		printf("%s\n", c->name);
		if (c->rd)
			expect(gpa, c->len, 0, c->init);
		if (c->wr)
			expect(gpa, c->len, 1, w);
		sync(1000 + i, NULL);
		KT_ASSERT_EQ(g->rax, n.rax);
		KT_ASSERT_EQ(g->rcx, n.rcx);
		KT_ASSERT_EQ(g->rdx, n.rdx);
		KT_ASSERT_EQ(g->fl & c->fmask, n.fl & c->fmask);
		printf("  rax 0x%llx rcx 0x%llx rdx 0x%llx flags 0x%llx\n",
		       (unsigned long long)g->rax, (unsigned long long)g->rcx,
		       (unsigned long long)g->rdx,
		       (unsigned long long)(g->fl & c->fmask));
	}
}

/* the string results: rax, rcx, rsi, rdi */
static void str_check(uint64_t stage, uint64_t rsi, uint64_t rdi, uint64_t rcx,
		      uint64_t rax)
{
	struct st *g = KT_GUEST_VAR(vc->vm, gres);

	sync(stage, NULL);
	KT_ASSERT_EQ(g->rdx, rsi);
	KT_ASSERT_EQ(g->fl, rdi);
	KT_ASSERT_EQ(g->rcx, rcx);
	KT_ASSERT_EQ(g->rax, rax);
	printf("  rcx 0x%llx rax 0x%llx\n", (unsigned long long)rcx,
	       (unsigned long long)rax);
}

static uint64_t gram_val(uint64_t off, uint32_t len)
{
	uint64_t v = 0;

	for (uint32_t i = 0; i < len; i++)
		v |= (uint64_t)(uint8_t)(0xc0 + off + i) << (8 * i);
	return v;
}

static void host_strings(void)
{
	uint64_t r0 = (uint64_t)(uintptr_t)gram;
	uint64_t S = STR_BASE, ax = 0x1234567890abcdefull;

	printf("movsb mmio->ram\n");
	rd(S, 1);
	str_check(2001, S + 1, r0 + 1, 0x55, 0);
	printf("rep movsw mmio->ram x3\n");
	rd(S + 0x10, 2);
	rd(S + 0x12, 2);
	rd(S + 0x14, 2);
	str_check(2002, S + 0x16, r0 + 0x16, 0, 0);
	printf("rep movsl mmio->ram x3 df=1\n");
	rd(S + 0x28, 4);
	rd(S + 0x24, 4);
	rd(S + 0x20, 4);
	str_check(2003, S + 0x1c, r0 + 0x1c, 0, 0);
	printf("movsq mmio->ram\n");
	rd(S + 0x38, 8);
	str_check(2004, S + 0x40, r0 + 0x40, 0, 0);
	printf("rep movsq ram->mmio x2\n");
	wr(S + 0x80, 8, gram_val(0x80, 8));
	wr(S + 0x88, 8, gram_val(0x88, 8));
	str_check(2005, r0 + 0x90, S + 0x90, 0, 0);
	printf("movsl ram->mmio df=1\n");
	wr(S + 0x90, 4, gram_val(0x90, 4));
	str_check(2006, r0 + 0x8c, S + 0x8c, 7, 0);
	printf("rep movsb ram->mmio x2 df=1\n");
	wr(S + 0xa1, 1, gram_val(0xa1, 1));
	wr(S + 0xa0, 1, gram_val(0xa0, 1));
	str_check(2007, r0 + 0x9f, S + 0x9f, 0, 0);
	printf("rep movsw count 0\n");
	str_check(2008, S + 0xb0, S + 0xc0, 0, 0);
	printf("movsl mmio->mmio\n");
	rd(S + 0xd0, 4);
	wr(S + 0xe0, 4, pat_val(S + 0xd0, 4));
	str_check(2009, S + 0xd4, S + 0xe4, 0, 0);
	printf("stosb\n");
	wr(S + 0x100, 1, ax & 0xff);
	str_check(2010, 0, S + 0x101, 9, ax);
	printf("rep stosl x3\n");
	wr(S + 0x110, 4, ax & 0xffffffff);
	wr(S + 0x114, 4, ax & 0xffffffff);
	wr(S + 0x118, 4, ax & 0xffffffff);
	str_check(2011, 0, S + 0x11c, 0, ax);
	printf("rep stosq x2 df=1\n");
	wr(S + 0x138, 8, ax);
	wr(S + 0x130, 8, ax);
	str_check(2012, 0, S + 0x128, 0, ax);
	printf("rep stosw count 0\n");
	str_check(2013, 0, S + 0x140, 0, ax);
	printf("lodsb\n");
	rd(S + 0x150, 1);
	str_check(2014, S + 0x151, 0, 5,
		  0xffffffffffffff00ull | pat_val(S + 0x150, 1));
	printf("lodsq\n");
	rd(S + 0x158, 8);
	str_check(2015, S + 0x160, 0, 5, pat_val(S + 0x158, 8));
	printf("rep lodsl x2 df=1\n");
	rd(S + 0x168, 4);
	rd(S + 0x164, 4);
	str_check(2016, S + 0x160, 0, 0, pat_val(S + 0x164, 4));
	printf("movsl mmio->mmio, same page offset\n");
	rd(S + 0x1d0, 4);
	wr(S + 0x11d0, 4, pat_val(S + 0x1d0, 4));
	str_check(2017, S + 0x1d4, S + 0x11d4, 0, 0);
	printf("movsl ram->mmio, same page offset\n");
	wr(same_off(r0 + 0xf0), 4, gram_val(0xf0, 4));
	str_check(2018, r0 + 0xf4, same_off(r0 + 0xf0) + 4, 0, 0);
}

static void host_seg_and_paging(void)
{
	struct kt_ucall uc;

	printf("moffs\n");
	rd(MOFFS_GPA + 4, 4);
	wr(MOFFS_GPA + 8, 8, 0x0102030405060708ull);
	sync(4001, &uc);
	KT_ASSERT_EQ(uc.args[1], pat_val(MOFFS_GPA + 4, 4));
	printf("fs/gs base\n");
	rd(SEG_BASE + 0x10, 4);
	wr(SEG_BASE + 0x108, 8, 0xabcdef0123456789ull);
	rd(SEG_BASE + 0x120, 2);
	wr(SEG_BASE + 0x120, 2, (pat_val(SEG_BASE + 0x120, 2) + 1) & 0xffff);
	rd(SEG_BASE + 0x30, 2);
	sync(4002, &uc);
	KT_ASSERT_EQ(uc.args[1], pat_val(SEG_BASE + 0x10, 4));
	KT_ASSERT_EQ(uc.args[2], pat_val(SEG_BASE + 0x30, 2) | (0x32ull << 32));
	printf("  fs:0x10 0x%llx, movsw fs:(rsi) 0x%llx\n",
	       (unsigned long long)uc.args[1], (unsigned long long)uc.args[2]);
	printf("mapping va != gpa\n");
	rd(MAP_GPA + 0x1010, 4);         /* VA page 3 -> GPA page 1 */
	wr(MAP_GPA + 0x0020, 2, 0xbeef); /* VA page 4 -> GPA page 0 */
	rd(MAP_GPA + 0x1ffc, 4); /* 8 bytes across the VA page boundary */
	rd(MAP_GPA + 0x0000, 4);
	wr(MAP_GPA + 0x1ffa, 6, 0x665544332211ull);
	wr(MAP_GPA + 0x0000, 2, 0x8877);
	sync(4003, &uc);
	KT_ASSERT_EQ(uc.args[1], pat_val(MAP_GPA + 0x1010, 4));
	KT_ASSERT_EQ(uc.args[2],
		     pat_val(MAP_GPA + 0x1ffc, 4) | pat_val(MAP_GPA, 4) << 32);
}

static void host_sse(void)
{
	struct kt_ucall uc;
	uint64_t lo, hi;

	printf("sse\n");
	rd(SSE_BASE + 0x8, 8);
	rd(SSE_BASE + 0x10, 8);
	sync(3001, &uc);
	rd(SSE_BASE + 0x20, 8);
	rd(SSE_BASE + 0x28, 8);
	sync(3002, &uc);
	KT_ASSERT_EQ(uc.args[1], pat_val(SSE_BASE + 0x20, 8));
	KT_ASSERT_EQ(uc.args[2], pat_val(SSE_BASE + 0x28, 8));
	rd(SSE_BASE + 0x34, 8);
	rd(SSE_BASE + 0x3c, 8);
	sync(3003, &uc);
	KT_ASSERT_EQ(uc.args[1], pat_val(SSE_BASE + 0x34, 8));
	KT_ASSERT_EQ(uc.args[2], pat_val(SSE_BASE + 0x3c, 8));
	rd(SSE_BASE + 0x40, 8);
	rd(SSE_BASE + 0x48, 8);
	sync(3004, &uc);
	KT_ASSERT_EQ(uc.args[1], pat_val(SSE_BASE + 0x40, 8));
	KT_ASSERT_EQ(uc.args[2], pat_val(SSE_BASE + 0x48, 8));
	lo = 0x1716151413121110ull;
	hi = 0x1f1e1d1c1b1a1918ull;
	wr(SSE_BASE + 0x58, 8, lo);
	wr(SSE_BASE + 0x60, 8, hi);
	lo += 0x1010101010101010ull;
	hi += 0x1010101010101010ull;
	wr(SSE_BASE + 0x60, 8, lo);
	wr(SSE_BASE + 0x68, 8, hi);
	wr(SSE_BASE + 0x74, 8, lo - 0x1010101010101010ull);
	wr(SSE_BASE + 0x7c, 8, hi - 0x1010101010101010ull);
	wr(SSE_BASE + 0x80, 8, lo);
	wr(SSE_BASE + 0x88, 8, hi);
	sync(3005, &uc);
}

static void host_bad(void)
{
	struct kvm_run *run = vc->run;
	uint32_t r = kt_run(vc);

	printf("fld m64 from mmio\n");
	KT_ASSERT(r == KVM_EXIT_INTERNAL_ERROR, "got %s", kt_exit_name(r));
	KT_ASSERT_EQ(run->internal.suberror, KVM_INTERNAL_ERROR_EMULATION);
	printf("  exit %s suberror %u\n", kt_exit_name(r),
	       run->internal.suberror);
}

/*
 * MOVBE in a guest whose CPUID lacks it: the CPU executes it, the nested
 * fault sends it to the emulator, and Linux's raises #UD -- after reading
 * the source of the load form (one read exit).  A fresh VM: CPUID cannot
 * change once a vCPU has run.
 */
static void host_movbe_ud(void)
{
	struct kt_ucall uc;
	uint64_t ld;

	printf("movbe without cpuid movbe (second VM)\n");
	vc = kt_create_default();
	kt_setup_long(vc, (uint64_t)(uintptr_t)guest_movbe_ud, KT_STACK_ENTRY);
	rd(BAD_GPA + 0x10, 4);
	sync(5001, &uc);
	KT_ASSERT_EQ(uc.args[1], 6);
	KT_ASSERT_EQ(uc.args[2], 0x5a5a5a5a);
	ld = uc.args[1];
	sync(5002, &uc);
	KT_ASSERT_EQ(uc.args[1], 6);
	printf("  load: vector %llu, register kept; store: vector %llu, no "
	       "exit\n",
	       (unsigned long long)ld, (unsigned long long)uc.args[1]);
	kt_expect_done(vc);
}

/* The default table with MOVBE (leaf 1 ECX bit 22) for the main VM. */
static void set_cpuid_movbe(struct kt_vcpu *v)
{
	const struct kvm_cpuid_entry2 e[] = {
		{ .function = 0,
		  .eax = 1,
		  .ebx = 0x68747541,
		  .ecx = 0x444d4163,
		  .edx = 0x69746e65 },
		{ .function = 1,
		  .eax = 0x00800f12,
		  .ecx = 0x00000001 | (1u << 22),
		  .edx = (1u << 0) | (1u << 3) | (1u << 4) | (1u << 5) |
			 (1u << 6) | (1u << 8) | (1u << 11) | (1u << 13) |
			 (1u << 15) | (1u << 16) | (1u << 24) | (1u << 25) |
			 (1u << 26) },
		{ .function = 0x80000000,
		  .eax = 0x80000008,
		  .ebx = 0x68747541,
		  .ecx = 0x444d4163,
		  .edx = 0x69746e65 },
		{ .function = 0x80000001,
		  .eax = 0x00800f12,
		  .edx = (1u << 29) | (1u << 20) | (1u << 11) },
		{ .function = 0x80000008, .eax = 0x3028 },
	};

	kt_set_cpuid(v, e, (int)(sizeof(e) / sizeof(e[0])));
}

/* VA MAP_VA + 0x3000 -> MAP_GPA + 0x1000, + 0x4000 -> MAP_GPA (4 KiB). */
static void build_map(struct kt_vm *vm)
{
	uint64_t *pml4 = kt_gpa2hva(vm, KT_PT_GPA);
	uint64_t *pdpt = kt_gpa2hva(vm, MAP_PT_GPA);
	uint64_t *pd = kt_gpa2hva(vm, MAP_PT_GPA + 0x1000);
	uint64_t *pt = kt_gpa2hva(vm, MAP_PT_GPA + 0x2000);

	memset(pdpt, 0, 0x3000);
	pml4[MAP_VA >> 39 & 511] = MAP_PT_GPA | 3;
	pdpt[0] = (MAP_PT_GPA + 0x1000) | 3;
	pd[0] = (MAP_PT_GPA + 0x2000) | 3;
	pt[3] = (MAP_GPA + 0x1000) | 3;
	pt[4] = MAP_GPA | 3;
}

int main(void)
{
	kt_init("mmio_forms");
	vc = kt_create_default();
	set_cpuid_movbe(vc);
	kt_setup_long(vc, (uint64_t)(uintptr_t)guest_main, KT_STACK_ENTRY);
	build_map(vc->vm);
	host_cases();
	host_strings();
	host_sse();
	host_seg_and_paging();
	host_bad();
	host_movbe_ud();
	kt_pass();
}
