// SPDX-License-Identifier: GPL-2.0
/*
 * decode.c - table-driven x86 instruction decoder (length and operands).
 *
 * Theory.  An x86 instruction is
 *
 *	[legacy prefixes] [REX | VEX | XOP | EVEX] opcode [ModRM [SIB]]
 *	[displacement] [immediate(s)]
 *
 * and at most 15 bytes long.  Everything after the opcode is determined by
 * the opcode, the operating mode and the prefixes, so the decoder is a
 * small state machine driven by one row of flags per opcode, written from
 * the opcode maps of the Intel SDM vol. 2 appendix A and the AMD APM vol. 3
 * appendix A:
 *
 *  - map_one[] (one-byte opcodes) and map_0f[] (0F xx) give, per opcode:
 *    V (defined), M (has ModRM), the immediate kind (IB, IW, IZ = 16/32 by
 *    operand size, IV = 16/32/64, IA = moffs of address size, IP = far
 *    pointer, IE = ENTER's iw,ib), operand-size rules in 64-bit mode (D64
 *    default 64, F64 forced 64, FN native size for MOV CR/DR, OZ at most
 *    32 bits), validity (I64 invalid in 64-bit mode, NOREAL invalid in
 *    real and virtual-8086 mode, MEM needs a memory operand, REGO needs a
 *    register operand, NOMEM: mod is ignored and always means a register),
 *    LK (LOCK allowed), the data width of the r/m operand, and GRP(n): the
 *    ModRM.reg field selects a row of groups[n] whose flags are merged in.
 *  - map_0f38[] and map_0f3a[] mark the defined legacy-encoded opcodes;
 *    all have ModRM, 0F 3A ones an imm8.
 *  - VEX (C4/C5), AMD XOP (8F) and EVEX (62) encodings take the shape of
 *    their map (ModRM always except VZEROUPPER/VZEROALL; imm8 in map 3, XOP
 *    map 8 and where map_0f[] says IB; imm32 in XOP map 0Ah); their opcodes
 *    are not checked for being defined.  Outside 64-bit mode C4/C5/62 are
 *    VEX/EVEX only when the next byte has ModRM.mod == 11 (LES, LDS and
 *    BOUND need memory); in real and virtual-8086 mode never.
 *
 * Prefixes: any number of legacy prefixes, repeats included (only the 15
 * byte limit stops them); the last segment prefix wins; a REX byte counts
 * only when it immediately precedes the opcode (a legacy prefix after it
 * cancels it); LOCK is accepted only on the lockable instructions with a
 * memory destination; VEX/XOP/EVEX after 66, F2, F3, LOCK or REX is #UD.
 *
 * Vendor differences (xk_decode_ex flag XK_DEC_AMD):
 *  - near branches in 64-bit mode with 66: Intel ignores it (rel32, 64-bit
 *    operand), AMD uses a 16-bit operand size (rel16 for E8/E9/0F 8x);
 *  - 0F 78/79 are Intel's VMREAD/VMWRITE (no prefix) but AMD's SSE4a
 *    EXTRQ (66) and INSERTQ (F2), whose immediate forms take two imm8;
 *  - 8F with a map select >= 8 is AMD XOP; Intel has only POP Ev there;
 *  - AMD's LOCK MOV CR0 (F0 0F 20/22) means CR8; reg is reported as 8;
 *  - SYSCALL/SYSRET are invalid outside 64-bit mode on Intel, and
 *    SYSENTER/SYSEXIT invalid in 64-bit mode on AMD.
 *
 * What is checked: undefined opcodes of the one-byte, 0F, 0F 38 and 0F 3A
 * maps and of groups (where a group row is marked), opcodes invalid in the
 * mode, ModRM.mod restrictions, LOCK, VEX/EVEX maps.  Not checked: SSE
 * mandatory-prefix combinations, CPUID feature bits, privilege (CPL),
 * the byte-exact 0F 01 mod=11 space (all of it is accepted except SWAPGS
 * outside 64-bit mode: new instructions keep landing there and their length
 * is always 3), x87 reserved register forms.  For EVEX, disp8 is reported
 * as encoded (the CPU scales it by N).
 */
#include "decode.h"

/* Row flags */
#define V XK_BIT(0)       /* defined */
#define M XK_BIT(1)       /* ModRM follows */
#define IB XK_BIT(2)      /* imm8 */
#define IW XK_BIT(3)      /* imm16 */
#define IZ XK_BIT(4)      /* imm16 or imm32 by operand size */
#define IV XK_BIT(5)      /* imm16, imm32 or imm64 by operand size */
#define IA XK_BIT(6)      /* moffs: offset of address size */
#define IP XK_BIT(7)      /* far pointer: offset (16/32) then selector */
#define IE XK_BIT(8)      /* ENTER: imm16, imm8 */
#define I64 XK_BIT(9)     /* invalid in 64-bit mode */
#define D64 XK_BIT(10)    /* 64-bit mode: default operand size 64 */
#define F64 XK_BIT(11)    /* 64-bit mode: operand size 64 (near branch) */
#define FN XK_BIT(12)     /* operand size 64 in 64-bit mode, else 32 */
#define OZ XK_BIT(13)     /* operand size at most 32 bits */
#define LK XK_BIT(14)     /* LOCK allowed (with a memory operand) */
#define MEM XK_BIT(15)    /* ModRM must name memory */
#define REGO XK_BIT(16)   /* ModRM must name a register */
#define NOMEM XK_BIT(17)  /* ModRM.mod ignored: always a register */
#define NOREAL XK_BIT(18) /* invalid in real and virtual-8086 mode */
#define SPC XK_BIT(19)    /* needs the special checks in check_special() */

/* Data width of the r/m operand, bits 20-22 */
#define W_SHIFT 20
#define W_MASK (7ULL << W_SHIFT)
#define W_B (1ULL << W_SHIFT) /* byte */
#define W_W (2ULL << W_SHIFT) /* word */
#define W_D (3ULL << W_SHIFT) /* dword */
#define W_Q (4ULL << W_SHIFT) /* qword */
#define W_V (5ULL << W_SHIFT) /* operand size */
#define W_Z (6ULL << W_SHIFT) /* operand size, at most 4 */
#define W_P (7ULL << W_SHIFT) /* far pointer: operand size + 2 */

/* Group index, bits 24-31 */
#define G_SHIFT 24
#define GRP(n) (XK_BIT(23) | ((u64)(n) << G_SHIFT))
#define IS_GRP XK_BIT(23)

enum {
	G1,   /* 80-83: ADD OR ADC SBB AND SUB XOR CMP */
	G1A,  /* 8F: POP */
	G3B,  /* F6 */
	G3V,  /* F7 */
	G4,   /* FE: INC DEC */
	G5,   /* FF: INC DEC CALLN CALLF JMPN JMPF PUSH */
	G6,   /* 0F 00: SLDT STR LLDT LTR VERR VERW */
	G7,   /* 0F 01 with memory operand */
	G8,   /* 0F BA: BT BTS BTR BTC */
	G9,   /* 0F C7 */
	G11B, /* C6: MOV, XABORT */
	G11V, /* C7: MOV, XBEGIN */
	G12,  /* 0F 71: shifts by imm8 */
	G13,  /* 0F 72 */
	G14,  /* 0F 73 */
	NGROUPS
};

static const u32 groups[NGROUPS][8] = {
	[G1] = { V | LK, V | LK, V | LK, V | LK, V | LK, V | LK, V | LK, V },
	[G1A] = { V },
	[G3B] = { V | IB, V | IB, V | LK, V | LK, V, V, V, V },
	[G3V] = { V | IZ, V | IZ, V | LK, V | LK, V, V, V, V },
	[G4] = { V | LK, V | LK },
	[G5] = { V | LK, V | LK, V | F64, V | MEM | W_P, V | F64, V | MEM | W_P,
		 V | D64 },
	[G6] = { V, V, V, V, V, V },
	[G7] = { V, V, V, V, V | W_W, V, V | W_W, V | W_B },
	[G8] = { 0, 0, 0, 0, V, V | LK, V | LK, V | LK },
	[G9] = { 0, V | MEM | LK | W_Q, 0, V | MEM, V | MEM, V | MEM, V, V },
	[G11B] = { V, 0, 0, 0, 0, 0, 0, V | SPC },
	[G11V] = { V, 0, 0, 0, 0, 0, 0, V | SPC },
	[G12] = { 0, 0, V, 0, V, 0, V, 0 },
	[G13] = { 0, 0, V, 0, V, 0, V, 0 },
	[G14] = { 0, 0, V, V, 0, 0, V, V },
};

/* Arithmetic block 00-05, 08-0D, ...: Eb,Gb Ev,Gv Gb,Eb Gv,Ev AL,ib rAX,iz */
#define ALU(op, lk)                                               \
	[op] = V | M | (lk) | W_B, [op + 1] = V | M | (lk) | W_V, \
	[op + 2] = V | M | W_B, [op + 3] = V | M | W_V,           \
	[op + 4] = V | IB | W_B, [op + 5] = V | IZ | W_V

/* One-byte opcode map.  Prefixes (26 2E 36 3E 40-4F in 64-bit mode 64 65
 * 66 67 F0 F2 F3) and escapes (0F, and C4 C5 62 8F when they are VEX, EVEX
 * or XOP) are consumed before the table is consulted. */
static const u32 map_one[256] = {
	ALU(0x00, LK),                       /* ADD */
	[0x06] = V | I64,                    /* PUSH ES */
	[0x07] = V | I64,                    /* POP ES */
	ALU(0x08, LK),                       /* OR */
	[0x0e] = V | I64,                    /* PUSH CS */
	ALU(0x10, LK),                       /* ADC */
	[0x16] = V | I64,                    /* PUSH SS */
	[0x17] = V | I64,                    /* POP SS */
	ALU(0x18, LK),                       /* SBB */
	[0x1e] = V | I64,                    /* PUSH DS */
	[0x1f] = V | I64,                    /* POP DS */
	ALU(0x20, LK),                       /* AND */
	[0x27] = V | I64,                    /* DAA */
	ALU(0x28, LK),                       /* SUB */
	[0x2f] = V | I64,                    /* DAS */
	ALU(0x30, LK),                       /* XOR */
	[0x37] = V | I64,                    /* AAA */
	ALU(0x38, 0),                        /* CMP */
	[0x3f] = V | I64,                    /* AAS */
	[0x40 ... 0x4f] = V | W_V,           /* INC/DEC r (REX in 64-bit) */
	[0x50 ... 0x57] = V | D64 | W_V,     /* PUSH r */
	[0x58 ... 0x5f] = V | D64 | W_V,     /* POP r */
	[0x60] = V | I64,                    /* PUSHA */
	[0x61] = V | I64,                    /* POPA */
	[0x62] = V | M | MEM | I64,          /* BOUND Gv,Ma (EVEX) */
	[0x63] = V | M | W_W | NOREAL | SPC, /* ARPL Ew,Gw; MOVSXD Gv,Ed */
	[0x68] = V | IZ | D64,               /* PUSH iz */
	[0x69] = V | M | IZ | W_V,           /* IMUL Gv,Ev,iz */
	[0x6a] = V | IB | D64,               /* PUSH ib */
	[0x6b] = V | M | IB | W_V,           /* IMUL Gv,Ev,ib */
	[0x6c] = V | W_B,                    /* INSB */
	[0x6d] = V | OZ | W_Z,               /* INSW/INSD */
	[0x6e] = V | W_B,                    /* OUTSB */
	[0x6f] = V | OZ | W_Z,               /* OUTSW/OUTSD */
	[0x70 ... 0x7f] = V | IB | F64,      /* Jcc rel8 */
	[0x80] = V | M | IB | W_B | GRP(G1), /* grp1 Eb,ib */
	[0x81] = V | M | IZ | W_V | GRP(G1), /* grp1 Ev,iz */
	[0x82] = V | M | IB | W_B | I64 | GRP(G1), /* grp1 Eb,ib (alias) */
	[0x83] = V | M | IB | W_V | GRP(G1),       /* grp1 Ev,ib */
	[0x84] = V | M | W_B,                      /* TEST Eb,Gb */
	[0x85] = V | M | W_V,                      /* TEST Ev,Gv */
	[0x86] = V | M | LK | W_B,                 /* XCHG Eb,Gb */
	[0x87] = V | M | LK | W_V,                 /* XCHG Ev,Gv */
	[0x88] = V | M | W_B,                      /* MOV Eb,Gb */
	[0x89] = V | M | W_V,                      /* MOV Ev,Gv */
	[0x8a] = V | M | W_B,                      /* MOV Gb,Eb */
	[0x8b] = V | M | W_V,                      /* MOV Gv,Ev */
	[0x8c] = V | M | W_W,                      /* MOV Ev,Sw */
	[0x8d] = V | M | MEM,                      /* LEA Gv,M */
	[0x8e] = V | M | W_W,                      /* MOV Sw,Ew */
	[0x8f] = V | M | D64 | W_V | GRP(G1A),     /* POP Ev (XOP) */
	[0x90 ... 0x97] = V | W_V,                 /* NOP, PAUSE, XCHG r,rAX */
	[0x98] = V,                                /* CBW/CWDE/CDQE */
	[0x99] = V,                                /* CWD/CDQ/CQO */
	[0x9a] = V | IP | I64,                     /* CALLF Ap */
	[0x9b] = V,                                /* FWAIT */
	[0x9c] = V | D64,                          /* PUSHF */
	[0x9d] = V | D64,                          /* POPF */
	[0x9e] = V,                                /* SAHF */
	[0x9f] = V,                                /* LAHF */
	[0xa0] = V | IA | W_B,                     /* MOV AL,moffs */
	[0xa1] = V | IA | W_V,                     /* MOV rAX,moffs */
	[0xa2] = V | IA | W_B,                     /* MOV moffs,AL */
	[0xa3] = V | IA | W_V,                     /* MOV moffs,rAX */
	[0xa4] = V | W_B,                          /* MOVSB */
	[0xa5] = V | W_V,                          /* MOVSW/D/Q */
	[0xa6] = V | W_B,                          /* CMPSB */
	[0xa7] = V | W_V,                          /* CMPSW/D/Q */
	[0xa8] = V | IB | W_B,                     /* TEST AL,ib */
	[0xa9] = V | IZ | W_V,                     /* TEST rAX,iz */
	[0xaa] = V | W_B,                          /* STOSB */
	[0xab] = V | W_V,                          /* STOSW/D/Q */
	[0xac] = V | W_B,                          /* LODSB */
	[0xad] = V | W_V,                          /* LODSW/D/Q */
	[0xae] = V | W_B,                          /* SCASB */
	[0xaf] = V | W_V,                          /* SCASW/D/Q */
	[0xb0 ... 0xb7] = V | IB | W_B,            /* MOV r8,ib */
	[0xb8 ... 0xbf] = V | IV | W_V,        /* MOV r,iv (imm64 with REX.W) */
	[0xc0] = V | M | IB | W_B,             /* grp2 Eb,ib */
	[0xc1] = V | M | IB | W_V,             /* grp2 Ev,ib */
	[0xc2] = V | IW | F64,                 /* RET iw */
	[0xc3] = V | F64,                      /* RET */
	[0xc4] = V | M | MEM | I64 | W_P,      /* LES Gz,Mp (VEX) */
	[0xc5] = V | M | MEM | I64 | W_P,      /* LDS Gz,Mp (VEX) */
	[0xc6] = V | M | IB | W_B | GRP(G11B), /* MOV Eb,ib; XABORT ib */
	[0xc7] = V | M | IZ | W_V | GRP(G11V), /* MOV Ev,iz; XBEGIN rel */
	[0xc8] = V | IE | D64,                 /* ENTER iw,ib */
	[0xc9] = V | D64,                      /* LEAVE */
	[0xca] = V | IW,                       /* RETF iw */
	[0xcb] = V,                            /* RETF */
	[0xcc] = V,                            /* INT3 */
	[0xcd] = V | IB,                       /* INT ib */
	[0xce] = V | I64,                      /* INTO */
	[0xcf] = V,                            /* IRET */
	[0xd0] = V | M | W_B,                  /* grp2 Eb,1 */
	[0xd1] = V | M | W_V,                  /* grp2 Ev,1 */
	[0xd2] = V | M | W_B,                  /* grp2 Eb,CL */
	[0xd3] = V | M | W_V,                  /* grp2 Ev,CL */
	[0xd4] = V | IB | I64,                 /* AAM ib */
	[0xd5] = V | IB | I64,                 /* AAD ib */
	[0xd6] = V | I64,                      /* SALC (undocumented) */
	[0xd7] = V,                            /* XLAT */
	[0xd8 ... 0xdf] = V | M,               /* x87 escape */
	[0xe0 ... 0xe2] = V | IB | F64,        /* LOOPNE LOOPE LOOP rel8 */
	[0xe3] = V | IB | F64,                 /* JCXZ/JECXZ/JRCXZ rel8 */
	[0xe4] = V | IB | W_B,                 /* IN AL,ib */
	[0xe5] = V | IB | OZ | W_Z,            /* IN eAX,ib */
	[0xe6] = V | IB | W_B,                 /* OUT ib,AL */
	[0xe7] = V | IB | OZ | W_Z,            /* OUT ib,eAX */
	[0xe8] = V | IZ | F64,                 /* CALL rel */
	[0xe9] = V | IZ | F64,                 /* JMP rel */
	[0xea] = V | IP | I64,                 /* JMPF Ap */
	[0xeb] = V | IB | F64,                 /* JMP rel8 */
	[0xec] = V | W_B,                      /* IN AL,DX */
	[0xed] = V | OZ | W_Z,                 /* IN eAX,DX */
	[0xee] = V | W_B,                      /* OUT DX,AL */
	[0xef] = V | OZ | W_Z,                 /* OUT DX,eAX */
	[0xf1] = V,                            /* INT1 (ICEBP) */
	[0xf4] = V,                            /* HLT */
	[0xf5] = V,                            /* CMC */
	[0xf6] = V | M | W_B | GRP(G3B),       /* grp3 Eb */
	[0xf7] = V | M | W_V | GRP(G3V),       /* grp3 Ev */
	[0xf8 ... 0xfd] = V,                   /* CLC STC CLI STI CLD STD */
	[0xfe] = V | M | W_B | GRP(G4),        /* grp4 Eb */
	[0xff] = V | M | W_V | GRP(G5),        /* grp5 Ev */
};

/* Two-byte opcode map, 0F xx (0F 38 and 0F 3A escape to the maps below). */
static const u32 map_0f[256] = {
	[0x00] = V | M | NOREAL | W_W | GRP(G6), /* grp6 */
	[0x01] = V | M | SPC | GRP(G7),          /* grp7 */
	[0x02] = V | M | NOREAL | W_W,           /* LAR Gv,Ew */
	[0x03] = V | M | NOREAL | W_W,           /* LSL Gv,Ew */
	[0x05] = V | SPC,                        /* SYSCALL */
	[0x06] = V,                              /* CLTS */
	[0x07] = V | SPC,                        /* SYSRET */
	[0x08] = V,                              /* INVD */
	[0x09] = V,                              /* WBINVD, WBNOINVD */
	[0x0b] = V,                              /* UD2 */
	[0x0d] = V | M,                          /* PREFETCH/PREFETCHW, NOP */
	[0x0e] = V,                              /* FEMMS */
	[0x0f] = V | M | IB,     /* 3DNow!: suffix is the imm8 */
	[0x10 ... 0x17] = V | M, /* SSE moves, unpack */
	[0x18 ... 0x1f] = V | M, /* hint NOPs, prefetch, CET */
	[0x20 ... 0x23] = V | M | NOMEM | FN | SPC, /* MOV r,CR/DR; CR/DR,r */
	[0x28 ... 0x2f] = V | M,                    /* SSE */
	[0x30] = V,                                 /* WRMSR */
	[0x31] = V,                                 /* RDTSC */
	[0x32] = V,                                 /* RDMSR */
	[0x33] = V,                                 /* RDPMC */
	[0x34] = V | SPC,                           /* SYSENTER */
	[0x35] = V | SPC,                           /* SYSEXIT */
	[0x37] = V,                                 /* GETSEC */
	[0x40 ... 0x4f] = V | M | W_V,              /* CMOVcc */
	[0x50 ... 0x6f] = V | M,                    /* SSE/MMX */
	[0x70] = V | M | IB,                        /* PSHUFW/D/HW/LW */
	[0x71] = V | M | IB | REGO | GRP(G12),      /* grp12 */
	[0x72] = V | M | IB | REGO | GRP(G13),      /* grp13 */
	[0x73] = V | M | IB | REGO | GRP(G14),      /* grp14 */
	[0x74 ... 0x76] = V | M,                    /* PCMPEQx */
	[0x77] = V,                          /* EMMS (VEX: VZEROUPPER/ALL) */
	[0x78] = V | M | SPC,                /* VMREAD; EXTRQ/INSERTQ ib,ib */
	[0x79] = V | M | SPC,                /* VMWRITE; EXTRQ/INSERTQ */
	[0x7c ... 0x7f] = V | M,             /* HADD HSUB MOVD MOVQ */
	[0x80 ... 0x8f] = V | IZ | F64,      /* Jcc rel16/32 */
	[0x90 ... 0x9f] = V | M | W_B,       /* SETcc */
	[0xa0] = V | D64,                    /* PUSH FS */
	[0xa1] = V | D64,                    /* POP FS */
	[0xa2] = V,                          /* CPUID */
	[0xa3] = V | M | W_V,                /* BT Ev,Gv */
	[0xa4] = V | M | IB | W_V,           /* SHLD Ev,Gv,ib */
	[0xa5] = V | M | W_V,                /* SHLD Ev,Gv,CL */
	[0xa8] = V | D64,                    /* PUSH GS */
	[0xa9] = V | D64,                    /* POP GS */
	[0xaa] = V,                          /* RSM */
	[0xab] = V | M | LK | W_V,           /* BTS Ev,Gv */
	[0xac] = V | M | IB | W_V,           /* SHRD Ev,Gv,ib */
	[0xad] = V | M | W_V,                /* SHRD Ev,Gv,CL */
	[0xae] = V | M,                      /* grp15: FXSAVE... fences */
	[0xaf] = V | M | W_V,                /* IMUL Gv,Ev */
	[0xb0] = V | M | LK | W_B,           /* CMPXCHG Eb,Gb */
	[0xb1] = V | M | LK | W_V,           /* CMPXCHG Ev,Gv */
	[0xb2] = V | M | MEM | W_P,          /* LSS Gv,Mp */
	[0xb3] = V | M | LK | W_V,           /* BTR Ev,Gv */
	[0xb4] = V | M | MEM | W_P,          /* LFS Gv,Mp */
	[0xb5] = V | M | MEM | W_P,          /* LGS Gv,Mp */
	[0xb6] = V | M | W_B,                /* MOVZX Gv,Eb */
	[0xb7] = V | M | W_W,                /* MOVZX Gv,Ew */
	[0xb8] = V | M | W_V | SPC,          /* POPCNT (F3 only) */
	[0xb9] = V | M,                      /* UD1 */
	[0xba] = V | M | IB | W_V | GRP(G8), /* grp8 Ev,ib */
	[0xbb] = V | M | LK | W_V,           /* BTC Ev,Gv */
	[0xbc] = V | M | W_V,                /* BSF, TZCNT */
	[0xbd] = V | M | W_V,                /* BSR, LZCNT */
	[0xbe] = V | M | W_B,                /* MOVSX Gv,Eb */
	[0xbf] = V | M | W_W,                /* MOVSX Gv,Ew */
	[0xc0] = V | M | LK | W_B,           /* XADD Eb,Gb */
	[0xc1] = V | M | LK | W_V,           /* XADD Ev,Gv */
	[0xc2] = V | M | IB,                 /* CMPPS... ib */
	[0xc3] = V | M | MEM | W_V,          /* MOVNTI My,Gy */
	[0xc4] = V | M | IB,                 /* PINSRW ib */
	[0xc5] = V | M | IB,                 /* PEXTRW ib */
	[0xc6] = V | M | IB,                 /* SHUFPS/PD ib */
	[0xc7] = V | M | GRP(G9),            /* grp9 */
	[0xc8 ... 0xcf] = V | W_V,           /* BSWAP r */
	[0xd0 ... 0xff] = V | M,             /* SSE/MMX; FF is UD0 */
};

/* 0F 38 xx, legacy encoding: every opcode has ModRM and no immediate. */
static const u8 map_0f38[256] = {
	[0x00 ... 0x0b] = 1, /* PSHUFB ... PMULHRSW (SSSE3) */
	[0x10] = 1,          /* PBLENDVB */
	[0x14 ... 0x15] = 1, /* BLENDVPS/PD */
	[0x17] = 1,          /* PTEST */
	[0x1c ... 0x1e] = 1, /* PABSB/W/D */
	[0x20 ... 0x25] = 1, /* PMOVSX */
	[0x28 ... 0x2b] = 1, /* PMULDQ PCMPEQQ MOVNTDQA PACKUSDW */
	[0x30 ... 0x35] = 1, /* PMOVZX */
	[0x37 ... 0x41] = 1, /* PCMPGTQ, PMIN/PMAX, PMULLD, PHMINPOSUW */
	[0x80 ... 0x82] = 1, /* INVEPT INVVPID INVPCID */
	[0xc8 ... 0xcd] = 1, /* SHA */
	[0xcf] = 1,          /* GF2P8MULB */
	[0xd8] = 1,          /* AESENCWIDE/DECWIDE (Key Locker) */
	[0xdb ... 0xdf] = 1, /* AES, AES Key Locker */
	[0xf0 ... 0xf1] = 1, /* MOVBE, CRC32 */
	[0xf5 ... 0xf6] = 1, /* WRUSS; ADCX ADOX WRSS */
	[0xf8 ... 0xfc] = 1, /* MOVDIR64B ENQCMD(S) MOVDIRI ENCODEKEY AADD */
};

/* 0F 3A xx, legacy encoding: every opcode has ModRM and an imm8. */
static const u8 map_0f3a[256] = {
	[0x08 ... 0x0f] = 1, /* ROUND, BLEND, PALIGNR */
	[0x14 ... 0x17] = 1, /* PEXTRB/W/D/Q, EXTRACTPS */
	[0x20 ... 0x22] = 1, /* PINSRB INSERTPS PINSRD/Q */
	[0x40 ... 0x42] = 1, /* DPPS DPPD MPSADBW */
	[0x44] = 1,          /* PCLMULQDQ */
	[0x60 ... 0x63] = 1, /* PCMPESTRM/I PCMPISTRM/I */
	[0xcc] = 1,          /* SHA1RNDS4 */
	[0xce ... 0xcf] = 1, /* GF2P8AFFINE(INV)QB */
	[0xdf] = 1,          /* AESKEYGENASSIST */
};

/* The decoding cursor.  Byte 15 and beyond never exist. */
struct dec {
	const u8 *buf;
	size_t avail;
	u8 pos;
};

static int peek(const struct dec *d, unsigned int off, u8 *b)
{
	unsigned int at = d->pos + off;

	if (at >= XK_INSN_MAX)
		return -EINVAL;
	if (at >= d->avail)
		return XK_DECODE_SHORT;
	*b = d->buf[at];
	return 0;
}

static int next(struct dec *d, u8 *b)
{
	int r = peek(d, 0, b);

	if (!r)
		d->pos++;
	return r;
}

/* n little-endian bytes, zero-extended */
static int next_le(struct dec *d, unsigned int n, u64 *v)
{
	unsigned int i;
	u8 b;
	int r;

	*v = 0;
	for (i = 0; i < n; i++) {
		r = next(d, &b);
		if (r)
			return r;
		*v |= (u64)b << (8 * i);
	}
	return 0;
}

#define TRY(x)                     \
	do {                       \
		int r_ = (x);      \
		if (r_)            \
			return r_; \
	} while (0)

struct ctx {
	enum xk_cpu_mode mode;
	bool amd;
	bool m64;
	bool r, x, b, rp, vp; /* REX/VEX/EVEX register extensions */
};

static s64 sext(u64 v, unsigned int bytes)
{
	switch (bytes) {
	case 1:
		return (s8)v;
	case 2:
		return (s16)v;
	case 4:
		return (s32)v;
	default:
		return (s64)v;
	}
}

/* VSIB: gathers and scatters, whose SIB.index names a vector register. */
static bool is_vsib(const struct xk_insn *in)
{
	if (in->vex_kind != XK_VEX_VEX && in->vex_kind != XK_VEX_EVEX)
		return false;
	if (in->map != XK_MAP_0F38)
		return false;
	return (in->opcode >= 0x90 && in->opcode <= 0x93) ||
	       (in->opcode >= 0xa0 && in->opcode <= 0xa3) ||
	       in->opcode == 0xc6 || in->opcode == 0xc7;
}

/* ModRM, SIB and displacement.  regonly: mod is ignored (MOV CR/DR). */
static int decode_modrm(struct dec *d, const struct ctx *c, struct xk_insn *in,
			bool regonly)
{
	static const s8 base16[8] = { 3, 3, 5, 5, 6, 7, 5, 3 };
	static const s8 index16[8] = { 6, 7, 6, 7, -1, -1, -1, -1 };
	unsigned int dbytes = 0;
	bool vsib = is_vsib(in);
	u8 m;

	TRY(next(d, &m));
	in->has_modrm = true;
	in->modrm = m;
	in->mod = m >> 6;
	in->reg = ((m >> 3) & 7) | (c->r << 3) | (c->rp << 4);
	in->rm = (m & 7) | (c->b << 3);
	if (in->mod == 3 || regonly) {
		if (in->vex_kind == XK_VEX_EVEX)
			in->rm |= c->x << 4; /* EVEX.X extends a vector rm */
		return vsib ? -EINVAL : 0;
	}

	in->has_mem = true;
	in->scale = 1;
	in->base = -1;
	in->index = -1;
	if (in->addrsize == 2) {
		u8 rm = m & 7;

		if (vsib)
			return -EINVAL;
		if (in->mod == 0 && rm == 6) {
			dbytes = 2;
		} else {
			in->base = base16[rm];
			in->index = index16[rm];
			dbytes = in->mod == 1 ? 1 : in->mod == 2 ? 2 : 0;
		}
		if (in->base == 5) /* BP */
			in->ea_seg = XK_SEG_SS;
	} else {
		if ((m & 7) == 4) {
			u8 s, idx;

			TRY(next(d, &s));
			in->has_sib = true;
			in->sib = s;
			in->scale = 1 << (s >> 6);
			idx = ((s >> 3) & 7) | (c->x << 3);
			if (vsib)
				in->index = idx | (c->vp << 4);
			else if (idx != 4)
				in->index = idx;
			if ((s & 7) == 5 && in->mod == 0)
				dbytes = 4; /* no base */
			else
				in->base = (s & 7) | (c->b << 3);
		} else if (vsib) {
			return -EINVAL; /* VSIB needs a SIB byte */
		} else if ((m & 7) == 5 && in->mod == 0) {
			dbytes = 4;
			in->rip_rel = c->m64;
		} else {
			in->base = (m & 7) | (c->b << 3);
		}
		if (in->mod == 1)
			dbytes = 1;
		else if (in->mod == 2)
			dbytes = 4;
		if (in->base == 4 || in->base == 5) /* rSP, rBP */
			in->ea_seg = XK_SEG_SS;
	}
	if (dbytes) {
		u64 v;

		TRY(next_le(d, dbytes, &v));
		in->disp_bytes = dbytes;
		in->disp = sext(v, dbytes);
	}
	return 0;
}

static unsigned int width_of(u64 f, const struct xk_insn *in)
{
	switch (f & W_MASK) {
	case W_B:
		return 1;
	case W_W:
		return 2;
	case W_D:
		return 4;
	case W_Q:
		return 8;
	case W_V:
		return in->opsize;
	case W_Z:
		return XK_MIN(in->opsize, 4);
	case W_P:
		return in->opsize + 2;
	default:
		return 0;
	}
}

static unsigned int operand_size(u64 f, const struct ctx *c,
				 const struct xk_insn *in)
{
	unsigned int os;

	if (c->m64) {
		if (f & FN)
			os = 8;
		else if (in->w)
			os = 8;
		else if (f & F64)
			os = c->amd && in->opsize_prefix ? 2 : 8;
		else if (f & D64)
			os = in->opsize_prefix ? 2 : 8;
		else
			os = in->opsize_prefix ? 2 : 4;
	} else {
		unsigned int def = c->mode == XK_MODE_PROT32 ? 4 : 2;

		if (f & FN)
			os = 4;
		else if (in->opsize_prefix)
			os = 6 - def; /* 2 <-> 4 */
		else
			os = def;
	}
	if ((f & OZ) && os > 4)
		os = 4;
	return os;
}

/*
 * Checks and adjustments of the rows marked SPC, after ModRM.  *f may be
 * changed (immediates, width).  Returns 0 or -EINVAL.
 */
static int check_special(const struct ctx *c, struct xk_insn *in, u64 *f)
{
	if (in->map == XK_MAP_ONE) {
		switch (in->opcode) {
		case 0x63: /* MOVSXD Gv,Ed in 64-bit mode, else ARPL */
			if (c->m64)
				*f = (*f & ~W_MASK) | W_D;
			return 0;
		case 0xc6: /* /7 is XABORT ib, only as C6 F8 */
		case 0xc7: /* /7 is XBEGIN rel16/32, only as C7 F8 */
			return in->modrm == 0xf8 ? 0 : -EINVAL;
		}
		return 0;
	}
	switch (in->opcode) {
	case 0x01: /* grp7 with mod=11: byte-exact instructions */
		if (in->mod != 3)
			return 0;
		if (in->modrm == 0xf8 && !c->m64) /* SWAPGS */
			return -EINVAL;
		*f &= ~W_MASK;
		return 0;
	case 0x05: /* SYSCALL, SYSRET: Intel only in 64-bit mode */
	case 0x07:
		return !c->amd && !c->m64 ? -EINVAL : 0;
	case 0x34: /* SYSENTER, SYSEXIT: AMD not in long mode */
	case 0x35:
		return c->amd && c->m64 ? -EINVAL : 0;
	case 0x20: /* MOV CR: AMD's LOCK prefix selects CR8 */
	case 0x22:
		if (in->lock && c->amd) {
			in->reg |= 8;
			*f |= LK;
		}
		return 0;
	case 0x21:
	case 0x23:
		return 0;
	case 0x78: /* Intel VMREAD Ey,Gy; AMD EXTRQ/INSERTQ xmm,ib,ib */
	case 0x79: /* Intel VMWRITE Gy,Ey; AMD EXTRQ/INSERTQ xmm,xmm */
		if (!c->amd) {
			if (in->mandatory)
				return -EINVAL;
			*f |= FN;
			return 0;
		}
		if (in->mandatory != 0x66 && in->mandatory != 0xf2)
			return -EINVAL;
		if (in->mod != 3)
			return -EINVAL;
		if (in->opcode == 0x78) {
			if (in->mandatory == 0x66 && (in->modrm & 0x38))
				return -EINVAL; /* EXTRQ is 66 0F 78 /0 */
			*f |= IB | IE;          /* two imm8: see decode_imm() */
		}
		return 0;
	case 0xb8: /* POPCNT needs F3; without it JMPE, gone with IA-64 */
		return in->last_rep == 0xf3 ? 0 : -EINVAL;
	}
	return 0;
}

static int decode_imm(struct dec *d, u64 f, struct xk_insn *in)
{
	unsigned int n = 0, n2 = 0;
	u64 v;

	if ((f & IB) && (f & IE)) { /* EXTRQ/INSERTQ */
		n = 1;
		n2 = 1;
	} else if (f & IB) {
		n = 1;
	} else if (f & IW) {
		n = 2;
	} else if (f & IZ) {
		n = in->opsize == 2 ? 2 : 4;
	} else if (f & IV) {
		n = in->opsize;
	} else if (f & IP) {
		n = in->opsize == 2 ? 2 : 4;
		n2 = 2;
	} else if (f & IE) {
		n = 2;
		n2 = 1;
	} else if (f & IA) {
		TRY(next_le(d, in->addrsize, &v));
		in->has_mem = true;
		in->base = -1;
		in->index = -1;
		in->scale = 1;
		in->disp_bytes = in->addrsize;
		in->disp = (s64)v;
	}
	if (n) {
		TRY(next_le(d, n, &in->imm));
		in->imm_bytes = n;
	}
	if (n2) {
		TRY(next_le(d, n2, &in->imm2));
		in->imm2_bytes = n2;
	}
	return 0;
}

/* C4/C5 (VEX), 8F (XOP) and 62 (EVEX): is this one? */
static int is_vex_escape(const struct dec *d, const struct ctx *c, u8 op,
			 bool *yes)
{
	u8 b1;

	*yes = false;
	if (op != 0xc4 && op != 0xc5 && op != 0x62 && op != 0x8f)
		return 0;
	if (c->mode == XK_MODE_REAL || c->mode == XK_MODE_VM86)
		return 0;
	if (op == 0x8f && !c->amd)
		return 0;
	if (c->m64 && op != 0x8f) {
		*yes = true;
		return 0;
	}
	TRY(peek(d, 1, &b1));
	if (op == 0x8f)
		*yes = (b1 & 0x1f) >= 8;
	else
		*yes = (b1 & 0xc0) == 0xc0;
	return 0;
}

/* Decodes the VEX/XOP/EVEX prefix and the opcode after it into in. */
static int decode_vex(struct dec *d, struct ctx *c, u8 esc, struct xk_insn *in,
		      u64 *f)
{
	static const u8 pp_prefix[4] = { 0, 0x66, 0xf3, 0xf2 };
	u8 p[3] = { 0 }, map;
	unsigned int i, n = esc == 0xc5 ? 1 : esc == 0x62 ? 3 : 2;

	if (in->opsize_prefix || in->rep || in->repne || in->lock || in->rex)
		return -EINVAL;
	d->pos++; /* the escape byte */
	for (i = 0; i < n; i++)
		TRY(next(d, &p[i]));
	xk_memcpy(in->vex, p, sizeof(p));
	in->vex_len = n + 1;

	c->r = !(p[0] & 0x80);
	if (esc == 0xc5) {
		in->vex_kind = XK_VEX_VEX;
		map = 1;
		in->vvvv = (~p[0] >> 3) & 0xf;
		in->vl = (p[0] >> 2) & 1;
		in->pp = p[0] & 3;
	} else {
		c->x = !(p[0] & 0x40);
		c->b = !(p[0] & 0x20);
		in->w = p[1] >> 7;
		in->vvvv = (~p[1] >> 3) & 0xf;
		in->pp = p[1] & 3;
		if (esc == 0x62) {
			in->vex_kind = XK_VEX_EVEX;
			map = p[0] & 7;
			c->rp = !(p[0] & 0x10);
			c->vp = !(p[2] & 0x08);
			in->vvvv |= c->vp << 4;
			in->vl = (p[2] >> 5) & 3;
		} else {
			in->vex_kind = esc == 0x8f ? XK_VEX_XOP : XK_VEX_VEX;
			map = p[0] & 0x1f;
			in->vl = (p[1] >> 2) & 1;
		}
	}
	if (!c->m64) { /* only 8 registers outside 64-bit mode */
		c->r = c->x = c->b = c->rp = c->vp = false;
		in->vvvv &= 7;
	}
	in->mandatory = pp_prefix[in->pp];

	switch (in->vex_kind) {
	case XK_VEX_VEX:
		if (map < 1 || map > 3)
			return -EINVAL;
		break;
	case XK_VEX_EVEX:
		if (map != 1 && map != 2 && map != 3 && map != 5 && map != 6)
			return -EINVAL;
		break;
	default:
		if (map < 8 || map > 10)
			return -EINVAL;
		break;
	}
	in->map = map;
	in->opc_off = d->pos;
	TRY(next(d, &in->opcode));

	*f = V | M;
	if (map == 1 && in->opcode == 0x77 && in->vex_kind == XK_VEX_VEX)
		*f = V; /* VZEROUPPER, VZEROALL */
	else if (map == 1)
		*f |= map_0f[in->opcode] & IB;
	else if (map == 3 || map == XK_MAP_XOP8)
		*f |= IB;
	else if (map == XK_MAP_XOPA)
		*f |= IZ; /* imm32 */
	return 0;
}

int xk_decode_ex(const u8 *buf, size_t avail, enum xk_cpu_mode mode,
		 unsigned int flags, struct xk_insn *in)
{
	struct dec d = { .buf = buf, .avail = avail, .pos = 0 };
	struct ctx c = { .mode = mode, .amd = !!(flags & XK_DEC_AMD) };
	bool vex = false;
	u64 f;
	u8 b;

	xk_memset(in, 0, sizeof(*in));
	in->seg = XK_SEG_NONE;
	in->base = -1;
	in->index = -1;
	in->ea_seg = XK_SEG_DS;
	if (mode > XK_MODE_LONG64)
		return -EINVAL;
	c.m64 = mode == XK_MODE_LONG64;

	/* Legacy prefixes and REX */
	for (;;) {
		TRY(peek(&d, 0, &b));
		switch (b) {
		case 0xf0:
			in->lock = true;
			break;
		case 0xf2:
			in->repne = true;
			in->last_rep = b;
			break;
		case 0xf3:
			in->rep = true;
			in->last_rep = b;
			break;
		case 0x26:
			in->seg = XK_SEG_ES;
			break;
		case 0x2e:
			in->seg = XK_SEG_CS;
			break;
		case 0x36:
			in->seg = XK_SEG_SS;
			break;
		case 0x3e:
			in->seg = XK_SEG_DS;
			break;
		case 0x64:
			in->seg = XK_SEG_FS;
			break;
		case 0x65:
			in->seg = XK_SEG_GS;
			break;
		case 0x66:
			in->opsize_prefix = true;
			break;
		case 0x67:
			in->addrsize_prefix = true;
			break;
		default:
			if (c.m64 && (b & 0xf0) == 0x40) {
				d.pos++;
				in->rex = b;
				continue;
			}
			goto prefixes_done;
		}
		d.pos++;
		in->rex = 0; /* a REX not right before the opcode is ignored */
	}
prefixes_done:
	in->mandatory = in->last_rep      ? in->last_rep :
			in->opsize_prefix ? 0x66 :
					    0;
	if (in->rex) {
		in->w = in->rex & 8;
		c.r = in->rex & 4;
		c.x = in->rex & 2;
		c.b = in->rex & 1;
	}

	/* Address size */
	if (c.m64)
		in->addrsize = in->addrsize_prefix ? 4 : 8;
	else if (mode == XK_MODE_PROT32)
		in->addrsize = in->addrsize_prefix ? 2 : 4;
	else
		in->addrsize = in->addrsize_prefix ? 4 : 2;

	/* Opcode */
	TRY(peek(&d, 0, &b));
	TRY(is_vex_escape(&d, &c, b, &vex));
	if (vex) {
		TRY(decode_vex(&d, &c, b, in, &f));
	} else if (b == 0x0f) {
		d.pos++;
		TRY(next(&d, &b));
		if (b == 0x38 || b == 0x3a) {
			in->map = b == 0x38 ? XK_MAP_0F38 : XK_MAP_0F3A;
			in->opc_off = d.pos;
			TRY(next(&d, &in->opcode));
			if (b == 0x38)
				f = map_0f38[in->opcode] ? V | M : 0;
			else
				f = map_0f3a[in->opcode] ? V | M | IB : 0;
		} else {
			in->map = XK_MAP_0F;
			in->opc_off = d.pos - 1;
			in->opcode = b;
			f = map_0f[b];
		}
	} else {
		in->map = XK_MAP_ONE;
		in->opc_off = d.pos;
		in->opcode = b;
		d.pos++;
		f = map_one[b];
	}

	if (!(f & V))
		return -EINVAL;
	if ((f & I64) && c.m64)
		return -EINVAL;
	if ((f & NOREAL) && (mode == XK_MODE_REAL || mode == XK_MODE_VM86))
		return -EINVAL;

	if (f & M) {
		TRY(decode_modrm(&d, &c, in, f & NOMEM));
		if (f & IS_GRP) {
			u32 g = groups[(f >> G_SHIFT) & 0xff][in->reg & 7];

			if (!(g & V))
				return -EINVAL;
			if (g & W_MASK)
				f &= ~W_MASK;
			f |= g;
		}
		if ((f & MEM) && in->mod == 3)
			return -EINVAL;
		if ((f & REGO) && in->mod != 3)
			return -EINVAL;
	}
	if (f & SPC)
		TRY(check_special(&c, in, &f));
	if (in->lock) {
		/* LOCK needs a lockable instruction writing memory */
		if (!(f & LK) || (!in->has_mem && !(f & NOMEM)))
			return -EINVAL;
	}

	/* Sizes */
	if (in->vex_kind)
		in->opsize = c.m64 && in->w ? 8 : 4;
	else
		in->opsize = operand_size(f, &c, in);
	in->width = width_of(f, in);
	if (in->map == XK_MAP_0F && in->opcode == 0xc7 && in->reg == 1 && in->w)
		in->width = 16; /* CMPXCHG16B */

	/* Memory operand segment */
	if (in->seg >= 0 && (!c.m64 || in->seg >= XK_SEG_FS))
		in->ea_seg = in->seg;

	TRY(decode_imm(&d, f, in));
	in->len = d.pos;
	return 0;
}

u64 xk_insn_ea(const struct xk_insn *in, const u64 gpr[16], u64 next_rip)
{
	u64 ea = (u64)in->disp;

	if (in->rip_rel)
		ea += next_rip;
	if (in->base >= 0)
		ea += gpr[in->base & 15];
	if (in->index >= 0)
		ea += gpr[in->index & 15] * in->scale;
	if (in->addrsize == 2)
		return ea & 0xffff;
	if (in->addrsize == 4)
		return ea & 0xffffffffULL;
	return ea;
}
