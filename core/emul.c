// SPDX-License-Identifier: GPL-2.0
/*
 * emul.c - table-driven emulation of the instructions that touch MMIO.
 *
 * Theory.
 *
 * Re-execution.  An instruction that reaches MMIO may need data from the
 * VMM (a read) or hand data to it (a write), and the VMM answers only
 * after the vCPU thread has returned to user space.  Instead of freezing
 * the emulator's state across that exit, xk_emulate() runs the whole
 * instruction from its bytes and the vCPU's registers every time, on a
 * private copy of the registers, and reaches memory only through the
 * caller's read and write callbacks.  A callback that cannot complete the
 * access returns XK_EMUL_EXIT (or XK_EMUL_FAULT after queueing an
 * exception): the run stops and nothing is committed.  The caller keeps the
 * data of the reads that completed (struct xk_emul_cache) and answers the
 * same reads of the next run from it, so the run that finally sees every
 * callback return 0 is the one that writes the register copy back.  An
 * `or dword [mmio], 4' thus takes a read exit, then completes its write.
 *
 * What the caller keeps between runs of one instruction:
 *  - the instruction bytes it passed (the guest may rewrite its code
 *    meanwhile; the runs must see the same instruction), and the vCPU's
 *    registers unchanged (if the VMM sets registers while an exit is
 *    pending, the caller drops the cache and starts afresh);
 *  - the reads: "read k of this instruction was (la, len) and returned
 *    data", in order, at most XK_EMUL_MAX_READS of at most
 *    XK_EMUL_MAX_ACCESS bytes (a caller may record a read as up to three
 *    pieces, as it exits).  Every completed read is recorded, RAM too,
 *    so that the k-th read of a run is the k-th entry whatever memory does
 *    meanwhile;
 *  - for writes, nothing, if it uses the rule below; else "the write of
 *    this instruction went out" so that the next run's write callback
 *    returns 0 without sending it again.
 * The rule for writes: an instruction makes at most one write callback,
 * after all its reads, and once the write callback has returned 0 the run
 * is certain to end in XK_EMUL_DONE.  So the write callback of an MMIO
 * write may store the access for the VMM and return 0; the caller then
 * commits and exits with the write, with RIP already past the instruction,
 * as KVM does.  (Returning XK_EMUL_EXIT for writes works too, at the cost
 * of one more run.)
 *
 * Segmentation is applied here (core/seg.c: limits, types, canonical form;
 * #GP(0) or #SS(0) as XK_EMUL_EXCEPTION) and the callbacks get linear
 * addresses.  Paging, the split of an access across pages or between RAM
 * and MMIO, and the 4 GiB wrap of an access that straddles it outside
 * 64-bit mode are the callbacks'.
 *
 * Table.  A row per opcode (one-byte map, 0F map, 0F 38 F0/F1) gives the
 * operation, the destination and source operands (ModRM r/m or moffs, ModRM
 * reg, accumulator, immediate) with their sizes, and whether LOCK is
 * allowed; group opcodes (80-83, 8F, C6/C7, F6/F7, FE/FF, 0F BA) take the
 * operation (and for some the operands) from a row per ModRM.reg.  The
 * register forms (mod=11) of these instructions are emulated too; they
 * cost nothing and let the unit tests compare every operation with the CPU
 * on registers alone.  Emulated:
 *
 *   MOV (88-8B, A0-A3 moffs, C6/C7), MOVZX, MOVSX, MOVSXD (64-bit mode),
 *   MOVNTI, MOVBE, ADD OR ADC SBB AND SUB XOR CMP (all forms), TEST,
 *   XCHG, XADD, CMPXCHG, INC, DEC, NOT, NEG, BT BTS BTR BTC (register and
 *   immediate; with a register bit offset and a memory operand the offset
 *   is signed and selects the operand-sized unit at EA + (offset >> n) *
 *   size), SETcc, CMOVcc, PUSH/POP r/m, MOVS STOS LODS CMPS SCAS with
 *   or without REP/REPE/REPNE, and the 16-byte SSE moves Linux's
 *   emulator does (MOVUPS/MOVUPD, MOVAPS/MOVAPD, MOVNTPS/MOVNTPD,
 *   MOVDQA/MOVDQU, MOVNTDQ) on the caller's copy of XMM0-15 (e->xmm),
 *   with their #UD (CR4.OSFXSR, CR0.EM), #NM (CR0.TS) and alignment
 *   #GP(0) rules.  A callback sees at most 16 bytes; cutting them into
 *   the 8-byte pieces KVM exits with is the caller's.
 *
 * Flags are computed as the SDM and APM define them: CF, PF, AF, ZF, SF,
 * OF for the arithmetic; logic operations clear CF, OF and (undefined) AF;
 * INC/DEC keep CF; BTx set CF only and leave the undefined flags as they
 * were.  Only these six bits of RFLAGS are ever written.
 *
 * Not emulated (XK_EMUL_UNHANDLED): everything else, notably VEX/EVEX,
 * the other SSE/MMX moves (MOVSS, MOVSD, MOVQ...), shifts and rotates, MUL/DIV, CMPXCHG8B/16B, far pointers and x87.
 * XK_EMUL_EXCEPTION is raised for LOCK where the CPU does not allow it
 * (#UD) and for segmentation (#GP(0), #SS(0)).  Alignment checks (#AC) are
 * not made.
 *
 * A failed CMPXCHG to memory writes the value it read back, as the CPU
 * does and as Linux's emulator does (the VMM sees a read, then a write of
 * the same data).  Deviation, as in KVM: LOCK is honoured only as far as
 * the callbacks are atomic: MMIO has no atomicity anyway.
 *
 * REP string instructions are emulated one element per run: DONE with
 * e->more set means the element was done and RSI/RDI/RCX moved, but the
 * instruction goes on and RIP stays; the caller runs it again (or lets the
 * guest execute it again, which also opens a window for interrupts, as
 * the CPU does between iterations).  One element per run keeps the
 * re-execution bookkeeping at two reads and one write.
 *
 * Robustness: the bytes and registers are the guest's and are not trusted;
 * the decoder bounds the instruction, every access is at most 8 bytes, a
 * run makes at most three callbacks and has no loops beyond that.  No
 * allocation; the stack frame is a decoded instruction and a few operands.
 */
#include "emul.h"
#include "seg.h"

/* RFLAGS bits (x86.h is not self-contained for this file's needs) */
#define FL_CF 0x0001ULL
#define FL_PF 0x0004ULL
#define FL_AF 0x0010ULL
#define FL_ZF 0x0040ULL
#define FL_SF 0x0080ULL
#define FL_DF 0x0400ULL
#define FL_OF 0x0800ULL
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

#define VEC_UD 6
#define VEC_NM 7
#define VEC_GP 13
#define CR0_EM 0x4ULL
#define CR0_TS 0x8ULL
#define CR4_OSFXSR 0x200ULL

/* Operations.  ADD..CMP are in the order of group 1's ModRM.reg. */
enum {
	OP_NONE,
	OP_ADD,
	OP_OR,
	OP_ADC,
	OP_SBB,
	OP_AND,
	OP_SUB,
	OP_XOR,
	OP_CMP,
	OP_TEST,
	OP_MOV,
	OP_MOVZX,
	OP_MOVSX,
	OP_MOVSXD,
	OP_MOVBE,
	OP_XCHG,
	OP_XADD,
	OP_CMPXCHG,
	OP_INC,
	OP_DEC,
	OP_NOT,
	OP_NEG,
	OP_BT,
	OP_BTS,
	OP_BTR,
	OP_BTC,
	OP_SETCC,
	OP_CMOVCC,
	OP_PUSH,
	OP_POP,
	OP_MOVS,
	OP_CMPS,
	OP_STOS,
	OP_LODS,
	OP_SCAS,
	OP_SSEMOV,
};

/* Operand specifiers: kind in bits 0-3, size in bits 4-7. */
#define K_NONE 0x0
#define K_E 0x1  /* ModRM r/m, or the moffs of A0-A3 */
#define K_G 0x2  /* ModRM reg */
#define K_A 0x3  /* the accumulator */
#define K_I 0x4  /* the immediate, sign-extended to the operand size */
#define Z_B 0x10 /* byte */
#define Z_W 0x20 /* word */
#define Z_D 0x30 /* dword */
#define Z_V 0x40 /* operand size: 2, 4 or 8 */

#define Eb (K_E | Z_B)
#define Ew (K_E | Z_W)
#define Ed (K_E | Z_D)
#define Ev (K_E | Z_V)
#define Gb (K_G | Z_B)
#define Gv (K_G | Z_V)
#define AL (K_A | Z_B)
#define AV (K_A | Z_V)
#define Ib (K_I | Z_B)
#define Iv (K_I | Z_V)

/* Row flags */
#define F_LOCK 0x01  /* LOCK allowed (with a memory destination) */
#define F_MEM 0x02   /* the r/m operand must be memory (else #UD) */
#define F_NOREP 0x04 /* F2/F3 make another instruction: not emulated */
#define F_NO66 0x08  /* 66 makes another instruction: not emulated */

struct row {
	u8 op;
	u8 dst;
	u8 src;
	u8 grp; /* 0, or the group: the op comes from grp_rows[grp][reg] */
	u8 f;
};

enum {
	G_NONE,
	G_1,
	G_1A,
	G_3,
	G_4,
	G_5,
	G_8,
	G_11,
	NGRP
};

#define ALU(o, op, lk)                                                  \
	[o] = { op, Eb, Gb, 0, lk }, [o + 1] = { op, Ev, Gv, 0, lk },   \
	[o + 2] = { op, Gb, Eb, 0, 0 }, [o + 3] = { op, Gv, Ev, 0, 0 }, \
	[o + 4] = { op, AL, Ib, 0, 0 }, [o + 5] = { op, AV, Iv, 0, 0 }

static const struct row one_byte[256] = {
	ALU(0x00, OP_ADD, F_LOCK),
	ALU(0x08, OP_OR, F_LOCK),
	ALU(0x10, OP_ADC, F_LOCK),
	ALU(0x18, OP_SBB, F_LOCK),
	ALU(0x20, OP_AND, F_LOCK),
	ALU(0x28, OP_SUB, F_LOCK),
	ALU(0x30, OP_XOR, F_LOCK),
	ALU(0x38, OP_CMP, 0),
	[0x63] = { OP_MOVSXD, Gv, Ed, 0, 0 },
	[0x80] = { OP_NONE, Eb, Ib, G_1, 0 },
	[0x81] = { OP_NONE, Ev, Iv, G_1, 0 },
	[0x82] = { OP_NONE, Eb, Ib, G_1, 0 },
	[0x83] = { OP_NONE, Ev, Iv, G_1, 0 }, /* ib, sign-extended */
	[0x84] = { OP_TEST, Eb, Gb, 0, 0 },
	[0x85] = { OP_TEST, Ev, Gv, 0, 0 },
	[0x86] = { OP_XCHG, Eb, Gb, 0, F_LOCK },
	[0x87] = { OP_XCHG, Ev, Gv, 0, F_LOCK },
	[0x88] = { OP_MOV, Eb, Gb, 0, 0 },
	[0x89] = { OP_MOV, Ev, Gv, 0, 0 },
	[0x8a] = { OP_MOV, Gb, Eb, 0, 0 },
	[0x8b] = { OP_MOV, Gv, Ev, 0, 0 },
	[0x8f] = { OP_NONE, 0, 0, G_1A, 0 },
	[0xa0] = { OP_MOV, AL, Eb, 0, 0 },
	[0xa1] = { OP_MOV, AV, Ev, 0, 0 },
	[0xa2] = { OP_MOV, Eb, AL, 0, 0 },
	[0xa3] = { OP_MOV, Ev, AV, 0, 0 },
	[0xa4] = { OP_MOVS, Z_B, 0, 0, 0 },
	[0xa5] = { OP_MOVS, Z_V, 0, 0, 0 },
	[0xa6] = { OP_CMPS, Z_B, 0, 0, 0 },
	[0xa7] = { OP_CMPS, Z_V, 0, 0, 0 },
	[0xa8] = { OP_TEST, AL, Ib, 0, 0 },
	[0xa9] = { OP_TEST, AV, Iv, 0, 0 },
	[0xaa] = { OP_STOS, Z_B, 0, 0, 0 },
	[0xab] = { OP_STOS, Z_V, 0, 0, 0 },
	[0xac] = { OP_LODS, Z_B, 0, 0, 0 },
	[0xad] = { OP_LODS, Z_V, 0, 0, 0 },
	[0xae] = { OP_SCAS, Z_B, 0, 0, 0 },
	[0xaf] = { OP_SCAS, Z_V, 0, 0, 0 },
	[0xc6] = { OP_NONE, 0, 0, G_11, 0 },
	[0xc7] = { OP_NONE, 0, 0, G_11, 0 },
	[0xf6] = { OP_NONE, 0, 0, G_3, 0 },
	[0xf7] = { OP_NONE, 0, 0, G_3, 0 },
	[0xfe] = { OP_NONE, 0, 0, G_4, 0 },
	[0xff] = { OP_NONE, 0, 0, G_5, 0 },
};

static const struct row two_byte[256] = {
	[0x40 ... 0x4f] = { OP_CMOVCC, Gv, Ev, 0, 0 },
	[0x90 ... 0x9f] = { OP_SETCC, Eb, 0, 0, 0 },
	[0xa3] = { OP_BT, Ev, Gv, 0, 0 },
	[0xab] = { OP_BTS, Ev, Gv, 0, F_LOCK },
	[0xb0] = { OP_CMPXCHG, Eb, Gb, 0, F_LOCK },
	[0xb1] = { OP_CMPXCHG, Ev, Gv, 0, F_LOCK },
	[0xb3] = { OP_BTR, Ev, Gv, 0, F_LOCK },
	[0xb6] = { OP_MOVZX, Gv, Eb, 0, 0 },
	[0xb7] = { OP_MOVZX, Gv, Ew, 0, 0 },
	[0xba] = { OP_NONE, Ev, Ib, G_8, 0 },
	[0xbb] = { OP_BTC, Ev, Gv, 0, F_LOCK },
	[0xbe] = { OP_MOVSX, Gv, Eb, 0, 0 },
	[0xbf] = { OP_MOVSX, Gv, Ew, 0, 0 },
	[0xc0] = { OP_XADD, Eb, Gb, 0, F_LOCK },
	[0xc1] = { OP_XADD, Ev, Gv, 0, F_LOCK },
	[0xc3] = { OP_MOV, Ev, Gv, 0, F_MEM | F_NOREP | F_NO66 }, /* MOVNTI */
	/* 16-byte SSE moves; do_sse() sorts out the mandatory prefixes */
	[0x10] = { OP_SSEMOV, 0, 0, 0, 0 },     /* MOVUPS/MOVUPD load */
	[0x11] = { OP_SSEMOV, 0, 0, 0, 0 },     /* MOVUPS/MOVUPD store */
	[0x28] = { OP_SSEMOV, 0, 0, 0, 0 },     /* MOVAPS/MOVAPD load */
	[0x29] = { OP_SSEMOV, 0, 0, 0, 0 },     /* MOVAPS/MOVAPD store */
	[0x2b] = { OP_SSEMOV, 0, 0, 0, F_MEM }, /* MOVNTPS/MOVNTPD */
	[0x6f] = { OP_SSEMOV, 0, 0, 0, 0 },     /* MOVDQA/MOVDQU load */
	[0x7f] = { OP_SSEMOV, 0, 0, 0, 0 },     /* MOVDQA/MOVDQU store */
	[0xe7] = { OP_SSEMOV, 0, 0, 0, F_MEM }, /* MOVNTDQ */
};

/* 0F 38 F0 and F1; F2 makes them CRC32 */
static const struct row movbe_rows[2] = {
	{ OP_MOVBE, Gv, Ev, 0, F_MEM | F_NOREP },
	{ OP_MOVBE, Ev, Gv, 0, F_MEM | F_NOREP },
};

/*
 * Group rows by ModRM.reg.  Operands given here replace the opcode row's;
 * C6/C7 and F6/F7 depend on the opcode's low bit (byte or full size), so
 * their rows say Z_B and the code widens them for the odd opcode.
 */
static const struct row grp_rows[NGRP][8] = {
	[G_1] = { { OP_ADD, 0, 0, 0, F_LOCK },
		  { OP_OR, 0, 0, 0, F_LOCK },
		  { OP_ADC, 0, 0, 0, F_LOCK },
		  { OP_SBB, 0, 0, 0, F_LOCK },
		  { OP_AND, 0, 0, 0, F_LOCK },
		  { OP_SUB, 0, 0, 0, F_LOCK },
		  { OP_XOR, 0, 0, 0, F_LOCK },
		  { OP_CMP, 0, 0, 0, 0 } },
	[G_1A] = { { OP_POP, Ev, 0, 0, 0 } },
	[G_3] = { { OP_TEST, Eb, Ib, 0, 0 },
		  { OP_TEST, Eb, Ib, 0, 0 },
		  { OP_NOT, Eb, 0, 0, F_LOCK },
		  { OP_NEG, Eb, 0, 0, F_LOCK } },
	[G_4] = { { OP_INC, Eb, 0, 0, F_LOCK }, { OP_DEC, Eb, 0, 0, F_LOCK } },
	[G_5] = { [0] = { OP_INC, Ev, 0, 0, F_LOCK },
		  [1] = { OP_DEC, Ev, 0, 0, F_LOCK },
		  [6] = { OP_PUSH, 0, Ev, 0, 0 } },
	[G_8] = { [4] = { OP_BT, 0, 0, 0, 0 },
		  [5] = { OP_BTS, 0, 0, 0, F_LOCK },
		  [6] = { OP_BTR, 0, 0, 0, F_LOCK },
		  [7] = { OP_BTC, 0, 0, 0, F_LOCK } },
	[G_11] = { { OP_MOV, Eb, Ib, 0, 0 } },
};

/* ---- operands and registers ----------------------------------------- */

#define O_REG 1
#define O_MEM 2
#define O_IMM 3

struct opnd {
	u8 kind; /* O_* */
	u8 size; /* bytes: 1, 2, 4, 8 */
	u8 reg;  /* O_REG: 0-15 */
	bool hi; /* O_REG: AH, CH, DH or BH (bits 8-15 of reg) */
	s8 seg;  /* O_MEM: XK_SEG_* */
	u64 off; /* O_MEM: effective address (offset in seg) */
	u64 val;
};

/* One run: the private register copy and what the run has done. */
struct run {
	struct xk_emul *e;
	struct xk_emul_regs r;
	struct xk_insn in;
	u64 next_rip;
	bool wrote; /* the write callback returned 0: only commit follows */
	u8 align;   /* memory accesses must be aligned to this (SSE), or 0 */
	s8 xmm_reg; /* an XMM register to commit from xmm_val, or -1 */
	u8 xmm_val[16];
};

static u64 mask_of(unsigned int size)
{
	return size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

static u64 sext_of(u64 v, unsigned int size)
{
	switch (size) {
	case 1:
		return (u64)(s64)(s8)v;
	case 2:
		return (u64)(s64)(s16)v;
	case 4:
		return (u64)(s64)(s32)v;
	default:
		return v;
	}
}

static u64 reg_get(const struct run *x, const struct opnd *o)
{
	u64 v = x->r.gpr[o->reg & 15];

	if (o->hi)
		return (v >> 8) & 0xff;
	return v & mask_of(o->size);
}

/* A register write of that size: 8 and 16 bits merge, 32 zero-extends. */
static void reg_set(struct run *x, const struct opnd *o, u64 val)
{
	u64 *p = &x->r.gpr[o->reg & 15];

	if (o->hi)
		*p = (*p & ~0xff00ULL) | ((val & 0xff) << 8);
	else if (o->size == 1)
		*p = (*p & ~0xffULL) | (val & 0xff);
	else if (o->size == 2)
		*p = (*p & ~0xffffULL) | (val & 0xffff);
	else if (o->size == 4)
		*p = val & 0xffffffffULL;
	else
		*p = val;
}

/* The same, for a register number and size (RSI, RDI, RCX, RSP, RAX). */
static void gpr_set(struct run *x, unsigned int reg, unsigned int size, u64 val)
{
	struct opnd o = { .kind = O_REG, .size = (u8)size, .reg = (u8)reg };

	reg_set(x, &o, val);
}

static void opnd_reg(const struct run *x, struct opnd *o, unsigned int reg,
		     unsigned int size)
{
	o->kind = O_REG;
	o->size = (u8)size;
	o->reg = reg & 15;
	o->hi = false;
	/* without REX, byte registers 4-7 are AH, CH, DH, BH */
	if (size == 1 && !x->in.rex && reg >= 4 && reg < 8) {
		o->reg = (u8)(reg - 4);
		o->hi = true;
	}
}

static unsigned int size_of(const struct run *x, u8 spec)
{
	switch (spec & 0xf0) {
	case Z_B:
		return 1;
	case Z_W:
		return 2;
	case Z_D:
		return 4;
	default:
		return x->in.opsize;
	}
}

/* The operand a row's specifier names (memory: address only, no access). */
static void opnd_resolve(const struct run *x, u8 spec, struct opnd *o)
{
	const struct xk_insn *in = &x->in;
	unsigned int size = size_of(x, spec);

	xk_memset(o, 0, sizeof(*o));
	switch (spec & 0xf) {
	case K_E:
		if (!in->has_mem) {
			opnd_reg(x, o, in->rm, size);
			break;
		}
		o->kind = O_MEM;
		o->size = (u8)size;
		o->seg = in->ea_seg;
		o->off = xk_insn_ea(in, x->r.gpr, x->next_rip);
		break;
	case K_G:
		opnd_reg(x, o, in->reg, size);
		break;
	case K_A:
		opnd_reg(x, o, 0, size);
		break;
	case K_I:
		o->kind = O_IMM;
		o->size = (u8)size;
		o->val = (u64)xk_insn_simm(in) & mask_of(size);
		break;
	default:
		break;
	}
}

/* ---- memory --------------------------------------------------------- */

static const struct kvm_segment *segment(const struct kvm_sregs *s, int seg)
{
	switch (seg) {
	case XK_SEG_ES:
		return &s->es;
	case XK_SEG_CS:
		return &s->cs;
	case XK_SEG_SS:
		return &s->ss;
	case XK_SEG_FS:
		return &s->fs;
	case XK_SEG_GS:
		return &s->gs;
	default:
		return &s->ds;
	}
}

static int exception(struct run *x, u8 vector, bool has_error, u32 error)
{
	x->e->vector = vector;
	x->e->has_error = has_error;
	x->e->error = error;
	return XK_EMUL_EXCEPTION;
}

/* Segment + offset (truncated to addrsize) to linear, with the checks. */
static int linear(struct run *x, int seg, u64 off, unsigned int addrsize,
		  unsigned int size, unsigned int acc, u64 *la)
{
	const struct kvm_sregs *s = x->e->sregs;
	bool la57 = !!(s->cr4 & XK_BIT(12));
	int vec;

	vec = xk_seg_linear(segment(s, seg), seg, x->e->mode, la57, addrsize,
			    off, size, acc, la);
	if (vec)
		return exception(x, (u8)vec, true, 0);
	return 0;
}

static int callback_result(int r)
{
	if (r == XK_EMUL_DONE || r == XK_EMUL_EXIT || r == XK_EMUL_FAULT)
		return r;
	return XK_EMUL_UNHANDLED;
}

/* The linear address of an access, with the alignment rule of x->align. */
static int linear_aligned(struct run *x, int seg, u64 off,
			  unsigned int addrsize, unsigned int size,
			  unsigned int acc, u64 *la)
{
	int r = linear(x, seg, off, addrsize, size, acc, la);

	if (!r && x->align && (*la & (x->align - 1)))
		return exception(x, VEC_GP, true, 0);
	return r;
}

/* Reads size bytes at seg:off into buf; rmw: the instruction will write
 * there. */
static int mem_read_buf(struct run *x, int seg, u64 off, unsigned int addrsize,
			unsigned int size, bool rmw, u8 *buf)
{
	u64 la = 0;
	int r;

	/* nothing may follow the write (see the theory) */
	if (XK_WARN_ON(x->wrote || x->e->reads >= XK_EMUL_MAX_READS ||
		       size > XK_EMUL_MAX_ACCESS))
		return XK_EMUL_UNHANDLED;
	r = linear_aligned(x, seg, off, addrsize, size,
			   rmw ? XK_SEGACC_WRITE : XK_SEGACC_READ, &la);
	if (r)
		return r;
	x->e->rmw = rmw;
	r = callback_result(x->e->ops->read(x->e->ctx, la, buf, size));
	x->e->rmw = false;
	if (r)
		return r;
	x->e->reads++;
	return 0;
}

static int mem_read(struct run *x, int seg, u64 off, unsigned int addrsize,
		    unsigned int size, bool rmw, u64 *val)
{
	u8 buf[8] = { 0 };
	unsigned int i;
	int r;

	if (XK_WARN_ON(size > 8))
		return XK_EMUL_UNHANDLED;
	r = mem_read_buf(x, seg, off, addrsize, size, rmw, buf);
	if (r)
		return r;
	*val = 0;
	for (i = 0; i < size; i++)
		*val |= (u64)buf[i] << (8 * i);
	return 0;
}

static int mem_write_buf(struct run *x, int seg, u64 off, unsigned int addrsize,
			 unsigned int size, const u8 *buf)
{
	u64 la = 0;
	int r;

	if (XK_WARN_ON(x->wrote || size > XK_EMUL_MAX_ACCESS))
		return XK_EMUL_UNHANDLED;
	r = linear_aligned(x, seg, off, addrsize, size, XK_SEGACC_WRITE, &la);
	if (r)
		return r;
	r = callback_result(x->e->ops->write(x->e->ctx, la, buf, size));
	if (r)
		return r;
	x->e->writes++;
	x->wrote = true;
	return 0;
}

static int mem_write(struct run *x, int seg, u64 off, unsigned int addrsize,
		     unsigned int size, u64 val)
{
	u8 buf[8];
	unsigned int i;

	if (XK_WARN_ON(size > 8))
		return XK_EMUL_UNHANDLED;
	for (i = 0; i < size; i++)
		buf[i] = (u8)(val >> (8 * i));
	return mem_write_buf(x, seg, off, addrsize, size, buf);
}

static int opnd_read(struct run *x, struct opnd *o, bool rmw)
{
	switch (o->kind) {
	case O_REG:
		o->val = reg_get(x, o);
		return 0;
	case O_MEM:
		return mem_read(x, o->seg, o->off, x->in.addrsize, o->size, rmw,
				&o->val);
	default:
		return 0; /* O_IMM: resolved */
	}
}

/* Register writes go to the copy; a memory write must be the last step. */
static int opnd_write(struct run *x, const struct opnd *o, u64 val)
{
	if (o->kind == O_REG) {
		reg_set(x, o, val);
		return 0;
	}
	if (o->kind == O_MEM)
		return mem_write(x, o->seg, o->off, x->in.addrsize, o->size,
				 val & mask_of(o->size));
	return XK_EMUL_UNHANDLED;
}

/* ---- flags ---------------------------------------------------------- */

static u64 parity_flag(u64 v)
{
	v &= 0xff;
	v ^= v >> 4;
	v ^= v >> 2;
	v ^= v >> 1;
	return (v & 1) ? 0 : FL_PF;
}

/* ZF, SF, PF of a result */
static u64 szp(u64 res, unsigned int size)
{
	u64 f = parity_flag(res);

	res &= mask_of(size);
	if (!res)
		f |= FL_ZF;
	if (res >> (8 * size - 1))
		f |= FL_SF;
	return f;
}

/*
 * ADD, OR, ADC, SBB, AND, SUB, XOR, CMP, TEST, INC, DEC, NEG (as 0 - b):
 * the result (size bits) and the new RFLAGS, exactly as the CPU.
 */
static u64 alu(unsigned int op, u64 a, u64 b, unsigned int size, u64 *rflags)
{
	u64 m = mask_of(size), msb = 1ULL << (8 * size - 1);
	u64 cin = 0, res, f = 0;

	a &= m;
	b &= m;
	if (op == OP_ADC || op == OP_SBB)
		cin = *rflags & FL_CF;
	switch (op) {
	case OP_ADC:
	case OP_ADD:
	case OP_INC:
		res = (a + b + cin) & m;
		if (((a & b) | ((a | b) & ~res)) & msb)
			f |= FL_CF;
		if ((a ^ res) & (b ^ res) & msb)
			f |= FL_OF;
		f |= (a ^ b ^ res) & FL_AF;
		break;
	case OP_SBB:
	case OP_SUB:
	case OP_CMP:
	case OP_DEC:
	case OP_NEG:
		res = (a - b - cin) & m;
		if (((~a & b) | ((~a ^ b) & res)) & msb)
			f |= FL_CF;
		if ((a ^ b) & (a ^ res) & msb)
			f |= FL_OF;
		f |= (a ^ b ^ res) & FL_AF;
		break;
	case OP_OR: /* logic: CF = OF = 0, AF (undefined) = 0 */
		res = a | b;
		break;
	case OP_XOR:
		res = a ^ b;
		break;
	default: /* AND, TEST */
		res = a & b;
		break;
	}
	f |= szp(res, size);
	if (op == OP_INC || op == OP_DEC) /* they keep CF */
		f = (f & ~FL_CF) | (*rflags & FL_CF);
	*rflags = (*rflags & ~FL_ARITH) | f;
	return res;
}

/* Condition cc (0-15, the low nibble of Jcc/SETcc/CMOVcc) */
static bool cond(u64 fl, unsigned int cc)
{
	bool r, sf = fl & FL_SF, of = fl & FL_OF;

	switch ((cc >> 1) & 7) {
	case 0:
		r = fl & FL_OF;
		break;
	case 1:
		r = fl & FL_CF;
		break;
	case 2:
		r = fl & FL_ZF;
		break;
	case 3:
		r = fl & (FL_CF | FL_ZF);
		break;
	case 4:
		r = sf;
		break;
	case 5:
		r = fl & FL_PF;
		break;
	case 6:
		r = sf != of;
		break;
	default:
		r = (fl & FL_ZF) || sf != of;
		break;
	}
	return (cc & 1) ? !r : r;
}

/* ---- operations ----------------------------------------------------- */

static u64 bswap(u64 v, unsigned int size)
{
	u64 r = 0;
	unsigned int i;

	for (i = 0; i < size; i++)
		r |= ((v >> (8 * i)) & 0xff) << (8 * (size - 1 - i));
	return r;
}

/* ADD..CMP, TEST, INC, DEC, NOT, NEG */
static int do_alu(struct run *x, unsigned int op, struct opnd *d,
		  struct opnd *s)
{
	bool writes = op != OP_CMP && op != OP_TEST;
	u64 res;
	int r;

	r = opnd_read(x, s, false);
	if (!r)
		r = opnd_read(x, d, writes);
	if (r)
		return r;
	switch (op) {
	case OP_INC:
	case OP_DEC:
		res = alu(op, d->val, 1, d->size, &x->r.rflags);
		break;
	case OP_NOT:
		res = ~d->val;
		break;
	case OP_NEG:
		res = alu(op, 0, d->val, d->size, &x->r.rflags);
		break;
	default:
		res = alu(op, d->val, s->val, d->size, &x->r.rflags);
		break;
	}
	return writes ? opnd_write(x, d, res) : 0;
}

/* BT, BTS, BTR, BTC: d is Ev, s is Gv or Ib */
static int do_bit(struct run *x, unsigned int op, struct opnd *d,
		  struct opnd *s)
{
	unsigned int bits = 8 * d->size, bit;
	u64 m;
	int r;

	r = opnd_read(x, s, false);
	if (r)
		return r;
	if (s->kind == O_REG && d->kind == O_MEM) {
		/* a signed bit offset: the unit holding it, around EA */
		s64 off = (s64)sext_of(s->val, s->size);
		s64 unit = off >= 0 ? off / (s64)bits :
				      -((-(off + 1)) / (s64)bits) - 1;

		d->off += (u64)unit * d->size;
	}
	bit = (unsigned int)(s->val & (bits - 1));
	r = opnd_read(x, d, op != OP_BT);
	if (r)
		return r;
	m = 1ULL << bit;
	x->r.rflags &= ~FL_CF;
	if (d->val & m)
		x->r.rflags |= FL_CF;
	switch (op) {
	case OP_BTS:
		return opnd_write(x, d, d->val | m);
	case OP_BTR:
		return opnd_write(x, d, d->val & ~m);
	case OP_BTC:
		return opnd_write(x, d, d->val ^ m);
	default:
		return 0;
	}
}

static int do_xchg(struct run *x, unsigned int op, struct opnd *d,
		   struct opnd *s)
{
	u64 sum;
	int r;

	r = opnd_read(x, s, false);
	if (!r)
		r = opnd_read(x, d, true);
	if (r)
		return r;
	if (op == OP_XCHG) {
		reg_set(x, s, d->val);
		return opnd_write(x, d, s->val);
	}
	/* XADD: SRC <- DEST, then DEST <- sum (wins when both are one reg) */
	sum = alu(OP_ADD, d->val, s->val, d->size, &x->r.rflags);
	reg_set(x, s, d->val);
	return opnd_write(x, d, sum);
}

static int do_cmpxchg(struct run *x, struct opnd *d, struct opnd *s)
{
	struct opnd acc;
	int r;

	opnd_reg(x, &acc, 0, d->size);
	acc.val = reg_get(x, &acc);
	r = opnd_read(x, s, false);
	if (!r)
		r = opnd_read(x, d, true);
	if (r)
		return r;
	alu(OP_CMP, acc.val, d->val, d->size, &x->r.rflags);
	if (acc.val == d->val)
		return opnd_write(x, d, s->val);
	/* The accumulator gets DEST (zero-extended if 32-bit); a register
	 * DEST keeps its upper half, as the CPUs do; memory is written back
	 * with the value read, as the CPU's locked cycle and Linux's
	 * emulator do (see the theory). */
	reg_set(x, &acc, d->val);
	if (d->kind == O_MEM)
		return opnd_write(x, d, d->val);
	return 0;
}

static unsigned int stack_size(const struct run *x)
{
	if (x->e->mode == XK_MODE_LONG64)
		return 8;
	return x->e->sregs->ss.db ? 4 : 2;
}

static int do_push(struct run *x, struct opnd *s)
{
	unsigned int ss = stack_size(x);
	u64 sp;
	int r;

	r = opnd_read(x, s, false);
	if (r)
		return r;
	sp = (x->r.gpr[4] - s->size) & mask_of(ss);
	r = mem_write(x, XK_SEG_SS, sp, ss, s->size, s->val);
	if (r)
		return r;
	gpr_set(x, 4, ss, sp);
	return 0;
}

static int do_pop(struct run *x, const struct row *row)
{
	unsigned int ss = stack_size(x);
	struct opnd d;
	u64 sp = x->r.gpr[4] & mask_of(ss), val = 0;
	int r;

	r = mem_read(x, XK_SEG_SS, sp, ss, x->in.opsize, false, &val);
	if (r)
		return r;
	/* RSP moves first: a [RSP]-based destination sees the new value */
	gpr_set(x, 4, ss, sp + x->in.opsize);
	opnd_resolve(x, row->dst, &d);
	return opnd_write(x, &d, val);
}

/*
 * Intel's REP with a 32-bit address size and ECX = 0 in 64-bit mode: no
 * element moves, but RCX and the pointers the instruction writes lose
 * their upper halves (observed on Intel CPUs; AMD's leave them).
 */
static void rep_zero_quirk(struct run *x, unsigned int op)
{
	x->r.gpr[1] = 0;
	if (op == OP_MOVS)
		x->r.gpr[6] &= 0xffffffffULL;
	if (op == OP_MOVS || op == OP_STOS)
		x->r.gpr[7] &= 0xffffffffULL;
}

/* One element of MOVS, CMPS, STOS, LODS or SCAS; REP handled here too. */
static int do_string(struct run *x, unsigned int op, const struct row *row)
{
	const struct xk_insn *in = &x->in;
	unsigned int size = size_of(x, row->dst), as = in->addrsize;
	int src_seg = in->seg >= 0 ? in->seg : XK_SEG_DS;
	u64 am = mask_of(as), si = x->r.gpr[6] & am, di = x->r.gpr[7] & am;
	u64 step = (x->r.rflags & FL_DF) ? 0 - (u64)size : size;
	bool rep = in->rep || in->repne, stop = false;
	struct opnd acc;
	u64 count = 0, a = 0, b = 0;
	int r = 0;

	if (rep) {
		count = x->r.gpr[1] & am;
		if (!count) {
			/* nothing at all; RIP moves on (see intel_rep_quirk) */
			if (x->e->intel_rep_quirk &&
			    x->e->mode == XK_MODE_LONG64 && as == 4)
				rep_zero_quirk(x, op);
			return 0;
		}
	}
	opnd_reg(x, &acc, 0, size);
	acc.val = reg_get(x, &acc);
	switch (op) {
	case OP_MOVS:
		r = mem_read(x, src_seg, si, as, size, false, &a);
		if (!r)
			r = mem_write(x, XK_SEG_ES, di, as, size, a);
		break;
	case OP_STOS:
		r = mem_write(x, XK_SEG_ES, di, as, size, acc.val);
		break;
	case OP_LODS:
		r = mem_read(x, src_seg, si, as, size, false, &a);
		if (!r)
			reg_set(x, &acc, a);
		break;
	case OP_CMPS:
		r = mem_read(x, src_seg, si, as, size, false, &a);
		if (!r)
			r = mem_read(x, XK_SEG_ES, di, as, size, false, &b);
		if (!r)
			alu(OP_CMP, a, b, size, &x->r.rflags);
		break;
	default: /* SCAS */
		r = mem_read(x, XK_SEG_ES, di, as, size, false, &b);
		if (!r)
			alu(OP_CMP, acc.val, b, size, &x->r.rflags);
		break;
	}
	if (r)
		return r;
	if (op == OP_MOVS || op == OP_LODS || op == OP_CMPS)
		gpr_set(x, 6, as, si + step);
	if (op != OP_LODS)
		gpr_set(x, 7, as, di + step);
	if (!rep)
		return 0;
	gpr_set(x, 1, as, count - 1);
	if (op == OP_CMPS || op == OP_SCAS) {
		bool zf = x->r.rflags & FL_ZF;

		stop = in->last_rep == 0xf3 ? !zf : zf;
	}
	if (count - 1 && !stop)
		x->e->more = true;
	return 0;
}

/*
 * The 16-byte SSE moves Linux's emulator does too: MOVUPS/MOVUPD (0F 10/11),
 * MOVAPS/MOVAPD (0F 28/29), MOVNTPS/MOVNTPD (0F 2B), MOVDQA/MOVDQU (66/F3
 * 0F 6F/7F) and MOVNTDQ (66 0F E7).  Other mandatory prefixes make other
 * instructions (MOVSS, MOVSD, MMX MOVQ, ...): not emulated.  #UD without
 * CR4.OSFXSR or with CR0.EM, #NM with CR0.TS, #GP(0) for a misaligned
 * operand of the aligned forms (all but MOVUPS/MOVUPD/MOVDQU).
 */
static int do_sse(struct run *x)
{
	const struct xk_insn *in = &x->in;
	const struct kvm_sregs *sr = x->e->sregs;
	u8 op = in->opcode, pfx = in->mandatory;
	bool store = op == 0x11 || op == 0x29 || op == 0x2b || op == 0x7f ||
		     op == 0xe7;
	bool aligned = true;
	u8 buf[16];
	int r;

	switch (op) {
	case 0x10:
	case 0x11:
	case 0x28:
	case 0x29:
	case 0x2b:
		if (pfx != 0 && pfx != 0x66)
			return XK_EMUL_UNHANDLED;
		aligned = op != 0x10 && op != 0x11;
		break;
	case 0x6f:
	case 0x7f:
		if (pfx != 0x66 && pfx != 0xf3)
			return XK_EMUL_UNHANDLED;
		aligned = pfx == 0x66;
		break;
	default: /* E7 */
		if (pfx != 0x66)
			return XK_EMUL_UNHANDLED;
		break;
	}
	if (!x->e->xmm)
		return XK_EMUL_UNHANDLED;
	if ((sr->cr0 & CR0_EM) || !(sr->cr4 & CR4_OSFXSR))
		return exception(x, VEC_UD, false, 0);
	if (sr->cr0 & CR0_TS)
		return exception(x, VEC_NM, false, 0);
	if (!in->has_mem) {
		/* register to register */
		x->xmm_reg = (s8)((store ? in->rm : in->reg) & 15);
		xk_memcpy(x->xmm_val,
			  x->e->xmm + 16 * ((store ? in->reg : in->rm) & 15),
			  16);
		return 0;
	}
	x->align = aligned ? 16 : 0;
	if (store) {
		xk_memcpy(buf, x->e->xmm + 16 * (in->reg & 15), 16);
		return mem_write_buf(x, in->ea_seg,
				     xk_insn_ea(in, x->r.gpr, x->next_rip),
				     in->addrsize, 16, buf);
	}
	r = mem_read_buf(x, in->ea_seg, xk_insn_ea(in, x->r.gpr, x->next_rip),
			 in->addrsize, 16, false, buf);
	if (r)
		return r;
	x->xmm_reg = (s8)(in->reg & 15);
	xk_memcpy(x->xmm_val, buf, 16);
	return 0;
}

/* The row for this instruction, groups merged; false if not emulated. */
static bool lookup(const struct xk_insn *in, struct row *out)
{
	const struct row *r;
	const struct row *g;

	if (in->vex_kind != XK_VEX_NONE)
		return false;
	if (in->map == XK_MAP_ONE)
		r = &one_byte[in->opcode];
	else if (in->map == XK_MAP_0F)
		r = &two_byte[in->opcode];
	else if (in->map == XK_MAP_0F38 &&
		 (in->opcode == 0xf0 || in->opcode == 0xf1))
		r = &movbe_rows[in->opcode & 1];
	else
		return false;
	*out = *r;
	if (r->grp) {
		if (!in->has_modrm || r->grp >= NGRP)
			return false;
		g = &grp_rows[r->grp][in->reg & 7];
		out->op = g->op;
		out->f |= g->f;
		if (g->dst || g->src) {
			out->dst = g->dst;
			out->src = g->src;
		}
		/* C6/C7, F6/F7: the odd opcode is the full-size form */
		if (in->map == XK_MAP_ONE &&
		    (in->opcode == 0xc7 || in->opcode == 0xf7)) {
			out->dst = (out->dst & 0xf) | Z_V;
			if ((out->src & 0xf) == K_I)
				out->src = Iv;
		}
	}
	return out->op != OP_NONE;
}

/*
 * The decoder refuses a LOCK the CPU would #UD on.  Tell that apart from
 * bytes that are invalid anyway: drop the F0 prefixes and decode again.
 */
static __attribute__((__noinline__)) bool lock_misuse(const struct xk_emul *e,
						      const u8 *insn, u32 n)
{
	u8 buf[XK_INSN_MAX];
	struct xk_insn in;
	u32 i, k = 0, locks = 0;

	n = XK_MIN(n, (u32)XK_INSN_MAX);
	for (i = 0; i < n; i++) {
		u8 b = insn[i];
		bool prefix = b == 0x26 || b == 0x2e || b == 0x36 ||
			      b == 0x3e || b == 0x64 || b == 0x65 ||
			      b == 0x66 || b == 0x67 || b == 0xf2 ||
			      b == 0xf3 || b == 0xf0 ||
			      (e->mode == XK_MODE_LONG64 && (b & 0xf0) == 0x40);

		if (!prefix)
			break;
		if (b == 0xf0)
			locks++;
		else
			buf[k++] = b;
	}
	if (!locks)
		return false;
	for (; i < n; i++)
		buf[k++] = insn[i];
	if (xk_decode_ex(buf, k, e->mode, e->decode_flags, &in))
		return false;
	return in.len + locks <= XK_INSN_MAX;
}

static int execute(struct run *x, const struct row *row)
{
	const struct xk_insn *in = &x->in;
	unsigned int op = row->op;
	struct opnd d, s;

	if ((row->f & F_NOREP) && (in->rep || in->repne))
		return XK_EMUL_UNHANDLED;
	if ((row->f & F_NO66) && in->opsize_prefix)
		return XK_EMUL_UNHANDLED;
	if ((row->f & F_MEM) && !in->has_mem)
		return exception(x, VEC_UD, false, 0);
	if (in->lock && (!(row->f & F_LOCK) || !in->has_mem))
		return exception(x, VEC_UD, false, 0);

	switch (op) {
	case OP_MOVS:
	case OP_CMPS:
	case OP_STOS:
	case OP_LODS:
	case OP_SCAS:
		return do_string(x, op, row);
	case OP_POP:
		return do_pop(x, row);
	case OP_SSEMOV:
		return do_sse(x);
	default:
		break;
	}

	opnd_resolve(x, row->dst, &d);
	opnd_resolve(x, row->src, &s);
	switch (op) {
	case OP_MOV:
	case OP_MOVZX:
	case OP_MOVSX:
	case OP_MOVSXD:
	case OP_MOVBE: {
		int r;

		if (op == OP_MOVSXD && x->e->mode != XK_MODE_LONG64)
			return XK_EMUL_UNHANDLED; /* ARPL */
		if (op == OP_MOVSXD && d.size == 2)
			return XK_EMUL_UNHANDLED; /* vendors differ */
		r = opnd_read(x, &s, false);
		if (r)
			return r;
		/* Linux reads the source first, then refuses MOVBE */
		if (op == OP_MOVBE && x->e->movbe_ud)
			return exception(x, VEC_UD, false, 0);
		if (op == OP_MOVSX || op == OP_MOVSXD)
			s.val = sext_of(s.val, s.size);
		else if (op == OP_MOVBE)
			s.val = bswap(s.val, s.size);
		return opnd_write(x, &d, s.val);
	}
	case OP_SETCC:
		return opnd_write(x, &d, cond(x->r.rflags, in->opcode & 15));
	case OP_CMOVCC: {
		int r = opnd_read(x, &s, false);

		if (r)
			return r;
		if (cond(x->r.rflags, in->opcode & 15))
			return opnd_write(x, &d, s.val);
		/* a 32-bit destination is zero-extended even so */
		if (d.size == 4)
			reg_set(x, &d, reg_get(x, &d));
		return 0;
	}
	case OP_XCHG:
	case OP_XADD:
		return do_xchg(x, op, &d, &s);
	case OP_CMPXCHG:
		return do_cmpxchg(x, &d, &s);
	case OP_BT:
	case OP_BTS:
	case OP_BTR:
	case OP_BTC:
		return do_bit(x, op, &d, &s);
	case OP_PUSH:
		return do_push(x, &s);
	default:
		return do_alu(x, op, &d, &s);
	}
}

int xk_emulate(struct xk_emul *e, struct xk_emul_regs *regs, const u8 *insn,
	       u32 n)
{
	struct run x;
	struct row row;
	int r;

	e->len = 0;
	e->more = false;
	e->vector = 0;
	e->has_error = false;
	e->error = 0;
	e->rmw = false;
	e->reads = 0;
	e->writes = 0;
	e->xmm_written = false;
	if (!e->ops || !e->ops->read || !e->ops->write || !e->sregs ||
	    e->mode > XK_MODE_LONG64)
		return XK_EMUL_UNHANDLED;

	xk_memset(&x, 0, sizeof(x));
	x.e = e;
	x.r = *regs;
	x.xmm_reg = -1;
	r = xk_decode_ex(insn, XK_MIN(n, (u32)XK_INSN_MAX), e->mode,
			 e->decode_flags, &x.in);
	if (r) {
		if (r == -EINVAL && lock_misuse(e, insn, n))
			return exception(&x, VEC_UD, false, 0);
		return XK_EMUL_UNHANDLED;
	}
	e->len = x.in.len;
	x.next_rip = x.r.rip + x.in.len;
	if (e->mode == XK_MODE_PROT32)
		x.next_rip &= 0xffffffffULL;
	else if (e->mode != XK_MODE_LONG64)
		x.next_rip &= 0xffffULL;
	if (!lookup(&x.in, &row))
		return XK_EMUL_UNHANDLED;

	r = execute(&x, &row);
	if (r) {
		e->more = false;
		return r;
	}
	if (!e->more)
		x.r.rip = x.next_rip;
	*regs = x.r;
	if (x.xmm_reg >= 0) {
		xk_memcpy(e->xmm + 16 * x.xmm_reg, x.xmm_val, 16);
		e->xmm_written = true;
	}
	return XK_EMUL_DONE;
}

/* ---- the caller's read cache ---------------------------------------- */

void xk_emul_cache_reset(struct xk_emul_cache *c)
{
	xk_memset(c, 0, sizeof(*c));
}

void xk_emul_cache_begin(struct xk_emul_cache *c)
{
	c->next = 0;
}

bool xk_emul_cache_get(struct xk_emul_cache *c, u64 la, void *buf, u32 len)
{
	if (c->next < c->n && c->next < XK_EMUL_CACHE_MAX &&
	    c->rd[c->next].la == la && c->rd[c->next].len == len &&
	    len <= XK_EMUL_MAX_ACCESS) {
		xk_memcpy(buf, c->rd[c->next].data, len);
		c->next++;
		return true;
	}
	if (c->n > c->next)
		c->n = c->next;
	return false;
}

bool xk_emul_cache_put(struct xk_emul_cache *c, u64 la, const void *buf,
		       u32 len)
{
	if (c->next >= XK_EMUL_CACHE_MAX || len > XK_EMUL_MAX_ACCESS)
		return false;
	c->rd[c->next].la = la;
	c->rd[c->next].len = len;
	xk_memset(c->rd[c->next].data, 0, XK_EMUL_MAX_ACCESS);
	xk_memcpy(c->rd[c->next].data, buf, len);
	c->next++;
	c->n = c->next;
	return true;
}
