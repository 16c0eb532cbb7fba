/* SPDX-License-Identifier: GPL-2.0 */
/*
 * decode.h - x86 instruction decoder: length and operand structure.
 *
 * xk_decode() splits one instruction into prefixes, opcode, ModRM/SIB,
 * displacement and immediates, and describes its memory operand, without
 * executing anything.  It serves to skip intercepted instructions on CPUs
 * without NRIP-save and as the front end of the MMIO emulator.  The theory
 * (tables, vendor differences, what is and is not validated) is at the top
 * of decode.c.
 */
#ifndef XKVM_DECODE_H
#define XKVM_DECODE_H

#include "host.h"

#define XK_INSN_MAX 15 /* architectural limit on instruction length */

enum xk_cpu_mode {
	XK_MODE_REAL,   /* CR0.PE=0 */
	XK_MODE_VM86,   /* EFLAGS.VM=1 */
	XK_MODE_PROT16, /* protected (or compatibility) mode, CS.D=0 */
	XK_MODE_PROT32, /* protected (or compatibility) mode, CS.D=1 */
	XK_MODE_LONG64, /* 64-bit mode: EFER.LMA=1, CS.L=1 */
};

/* Opcode maps, xk_insn.map. */
#define XK_MAP_ONE 0   /* one-byte opcodes */
#define XK_MAP_0F 1    /* 0F xx (also VEX/EVEX map 1; 0F 0F is 3DNow!) */
#define XK_MAP_0F38 2  /* 0F 38 xx, VEX/EVEX map 2 */
#define XK_MAP_0F3A 3  /* 0F 3A xx, VEX/EVEX map 3 */
#define XK_MAP_EVEX5 5 /* EVEX map 5 (AVX512-FP16) */
#define XK_MAP_EVEX6 6 /* EVEX map 6 (AVX512-FP16) */
#define XK_MAP_XOP8 8  /* AMD XOP maps 8, 9 and 0Ah */
#define XK_MAP_XOP9 9
#define XK_MAP_XOPA 10

/* Segment registers, in the order of the SDM's Sreg encoding. */
#define XK_SEG_NONE (-1)
#define XK_SEG_ES 0
#define XK_SEG_CS 1
#define XK_SEG_SS 2
#define XK_SEG_DS 3
#define XK_SEG_FS 4
#define XK_SEG_GS 5

/* Extended-prefix kinds, xk_insn.vex_kind. */
#define XK_VEX_NONE 0
#define XK_VEX_VEX 1  /* C4 (3-byte) or C5 (2-byte) */
#define XK_VEX_XOP 2  /* AMD 8F, 3 bytes */
#define XK_VEX_EVEX 3 /* 62, 4 bytes */

/* xk_decode_ex() flags */
#define XK_DEC_AMD 0x1u /* AMD semantics where the vendors differ */

/* xk_decode() errors besides -EINVAL (invalid, #UD, or longer than 15) */
#define XK_DECODE_SHORT (-E2BIG) /* avail ended before the instruction */

struct xk_insn {
	u8 len;     /* total length in bytes, 1..15 */
	u8 map;     /* XK_MAP_* */
	u8 opcode;  /* the opcode byte within its map */
	u8 opc_off; /* offset of the opcode byte: buf[opc_off] == opcode */

	/* Legacy prefixes */
	bool lock, rep, repne; /* F0, F3, F2 seen (both F2 and F3 may be) */
	bool opsize_prefix;    /* 66 */
	bool addrsize_prefix;  /* 67 */
	s8 seg;                /* last segment override, XK_SEG_*; -1 none */
	u8 last_rep;           /* 0, 0xF2 or 0xF3: the last of F2/F3 */
	u8 mandatory; /* SSE mandatory prefix: last_rep, else 0x66, else 0 */

	/* REX and VEX/XOP/EVEX */
	u8 rex;      /* the REX byte in effect (40-4F), 0 if none */
	u8 vex_kind; /* XK_VEX_* */
	u8 vex_len;  /* bytes of the VEX/XOP/EVEX prefix incl. C4/C5/8F/62 */
	u8 vex[3];   /* its payload bytes, as encoded */
	u8 vvvv;     /* VEX/EVEX register specifier, un-inverted (0-31) */
	u8 vl;       /* vector length: 0 = 128, 1 = 256, 2 = 512 bits */
	u8 pp;       /* VEX/EVEX implied prefix: 0 none, 1 66, 2 F3, 3 F2 */
	bool w;      /* REX.W or VEX/XOP/EVEX.W */

	/* Effective sizes in bytes */
	u8 opsize;   /* operand size: 2, 4 or 8 */
	u8 addrsize; /* address size: 2, 4 or 8 */
	u8 width;    /* size of the r/m (or only) data operand, 0 unknown */

	/* ModRM and SIB.  reg and rm include REX.R/REX.B (VEX.R/B, EVEX.R')
	 * and, for AMD's LOCK MOV CRn, the +8 of CR8.  rm is the register
	 * number only when mod == 3. */
	bool has_modrm;
	u8 modrm, mod, reg, rm;
	bool has_sib;
	u8 sib;

	/* The memory operand of ModRM or moffs (A0-A3): linear address =
	 * seg base + ((base + index * scale + disp) mod 2^(8*addrsize)),
	 * with base = next RIP for rip_rel. */
	bool has_mem;
	bool rip_rel; /* RIP/EIP-relative (64-bit mode, mod=00 rm=101) */
	s8 base;      /* general register 0-15, -1 none */
	s8 index;     /* general (or VSIB vector) register, -1 none */
	u8 scale;     /* 1, 2, 4 or 8 */
	s8 ea_seg;    /* segment of the memory operand: override or default */

	/* Displacement (sign-extended; moffs zero-extended) and immediates
	 * (raw value, zero-extended: use xk_insn_simm() when the instruction
	 * sign-extends).  imm2 is the second immediate of ENTER (ib), far
	 * pointers (the selector), EXTRQ/INSERTQ (ib); 3DNow!'s opcode suffix
	 * is imm. */
	u8 disp_bytes;
	s64 disp;
	u8 imm_bytes;
	u8 imm2_bytes;
	u64 imm;
	u64 imm2;
};

/*
 * Decodes the instruction at buf[0..avail).  Returns 0 and fills *out, or
 *  -EINVAL          undefined or invalid in this mode (the CPU would raise
 *                   #UD), or longer than 15 bytes (#GP);
 *  XK_DECODE_SHORT  avail (< 15) ended before the instruction did: fetch
 *                   more bytes and retry.
 * xk_decode() uses Intel semantics where vendors differ (see decode.c);
 * xk_decode_ex(..., XK_DEC_AMD, ...) AMD's.
 */
int xk_decode_ex(const u8 *buf, size_t avail, enum xk_cpu_mode mode,
		 unsigned int flags, struct xk_insn *out);

static inline int xk_decode(const u8 *buf, size_t avail, enum xk_cpu_mode mode,
			    struct xk_insn *out)
{
	return xk_decode_ex(buf, avail, mode, 0, out);
}

/* The immediate sign-extended from its encoded width. */
static inline s64 xk_insn_simm(const struct xk_insn *in)
{
	switch (in->imm_bytes) {
	case 1:
		return (s8)in->imm;
	case 2:
		return (s16)in->imm;
	case 4:
		return (s32)in->imm;
	default:
		return (s64)in->imm;
	}
}

/*
 * The effective address (offset within ea_seg) of the memory operand:
 * base + index * scale + disp, plus next_rip (RIP after this instruction)
 * when rip_rel, truncated to the address size.  gpr[] holds RAX..R15 in
 * encoding order.  Not for VSIB operands, whose index is a vector.
 */
u64 xk_insn_ea(const struct xk_insn *in, const u64 gpr[16], u64 next_rip);

#endif /* XKVM_DECODE_H */
