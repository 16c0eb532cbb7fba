// SPDX-License-Identifier: GPL-2.0
/*
 * test_decode.c - core/decode.c: a table of encodings with the expected
 * result and fields, plus invariants over random bytes.
 *
 * A row is { mode, vendor flags, "hex bytes", expected, "checks" }:
 * expected > 0 is the length, < 0 the error; checks is a list of
 * "field=value" (value in C syntax, may be negative) compared with the
 * decoded struct xk_insn.  Bytes are copied into a heap buffer of exactly
 * that size, so ASan catches any read past avail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "xtest.h"

#define R XK_MODE_REAL
#define V86 XK_MODE_VM86
#define P16 XK_MODE_PROT16
#define P32 XK_MODE_PROT32
#define L64 XK_MODE_LONG64
#define AMD XK_DEC_AMD
#define INV (-EINVAL)
#define SHORT XK_DECODE_SHORT

struct dcase {
	enum xk_cpu_mode mode;
	unsigned int flags;
	const char *hex;
	int expect;
	const char *checks;
};

static const struct dcase cases[] = {
	/* Intercepted instructions: next RIP without NRIP-save */
	{ R, 0, "f4", 1, "map=0 op=0xf4 has_modrm=0 opsize=2 addrsize=2" },
	{ P32, 0, "f4", 1, "opsize=4 addrsize=4" },
	{ L64, 0, "f4", 1, "opsize=4 addrsize=8" },
	{ V86, 0, "f4", 1, "" },
	{ L64, 0, "0f a2", 2, "map=1 op=0xa2" },
	{ R, 0, "0f a2", 2, "map=1 op=0xa2" },
	{ L64, 0, "0f 32", 2, "op=0x32" },
	{ L64, 0, "0f 30", 2, "op=0x30" },
	{ L64, 0, "0f 31", 2, "op=0x31" },
	{ L64, 0, "0f 33", 2, "op=0x33" },
	{ L64, 0, "0f 08", 2, "op=0x08" },
	{ L64, 0, "0f 09", 2, "op=0x09" },
	{ L64, 0, "f3 0f 09", 3, "rep=1 mand=0xf3" },
	{ L64, AMD, "0f 01 d9", 3, "op=1 modrm=0xd9 mod=3 reg=3 rm=1" },
	{ P32, AMD, "0f 01 d9", 3, "op=1 modrm=0xd9 mem=0" },
	{ L64, 0, "0f 01 d1", 3, "modrm=0xd1 mem=0 width=0" },
	{ L64, 0, "0f 01 d0", 3, "modrm=0xd0" },
	{ L64, 0, "0f 01 f9", 3, "modrm=0xf9" },
	{ L64, 0, "0f 01 c8", 3, "modrm=0xc8" },
	{ L64, 0, "0f 01 c9", 3, "modrm=0xc9" },
	{ L64, 0, "0f 01 c1", 3, "modrm=0xc1" },
	{ L64, AMD, "0f 01 d8", 3, "modrm=0xd8" },
	{ L64, AMD, "0f 01 da", 3, "modrm=0xda" },
	{ L64, AMD, "0f 01 db", 3, "modrm=0xdb" },
	{ L64, AMD, "0f 01 dc", 3, "modrm=0xdc" },
	{ L64, AMD, "0f 01 dd", 3, "modrm=0xdd" },
	{ P32, AMD, "0f 01 de", 3, "modrm=0xde" },
	{ L64, AMD, "0f 01 df", 3, "modrm=0xdf" },
	{ L64, AMD, "0f 01 fc", 3, "modrm=0xfc" },
	{ L64, AMD, "f3 0f 01 ff", 4, "rep=1 modrm=0xff" },
	{ P32, 0, "0f 01 38", 3, "reg=7 mod=0 mem=1 base=0 width=1" },
	{ P32, 0, "0f 01 3d 00 10 00 00", 7, "reg=7 base=-1 disp=0x1000" },
	{ L64, 0, "0f 01 3d f0 ff ff ff", 7, "rip=1 disp=-16 base=-1" },
	{ L64, 0, "0f 01 f8", 3, "modrm=0xf8" },
	{ P32, 0, "0f 01 f8", INV, "" },
	{ P32, 0, "0f 01 f0", 3, "reg=6 mod=3 rm=0" },
	{ P32, 0, "0f 01 30", 3, "reg=6 mem=1 width=2" },
	{ R, 0, "0f 01 16 00 10", 5, "reg=2 disp=0x1000 base=-1" },
	{ L64, 0, "0f 06", 2, "op=6" },
	{ L64, 0, "0f 0b", 2, "op=0x0b" },
	{ L64, 0, "0f aa", 2, "op=0xaa" },
	{ L64, 0, "cc", 1, "" },
	{ L64, 0, "cd 80", 2, "imm=0x80 immb=1" },
	{ L64, 0, "f1", 1, "" },
	{ L64, 0, "cf", 1, "" },
	{ L64, 0, "48 cf", 2, "opsize=8 rex=0x48" },

	/* I/O: IN/OUT/INS/OUTS; operand size is at most 32 bits */
	{ P32, 0, "e4 60", 2, "imm=0x60 width=1" },
	{ P32, 0, "e5 60", 2, "opsize=4 width=4" },
	{ P16, 0, "e5 60", 2, "opsize=2 width=2" },
	{ P16, 0, "66 e5 60", 3, "opsize=4 width=4" },
	{ P32, 0, "66 e7 71", 3, "opsize=2 width=2 imm=0x71" },
	{ L64, 0, "48 e7 71", 3, "opsize=4 width=4" },
	{ R, 0, "ec", 1, "width=1" },
	{ R, 0, "ed", 1, "width=2" },
	{ P32, 0, "ee", 1, "width=1" },
	{ P32, 0, "ef", 1, "width=4" },
	{ L64, 0, "66 ef", 2, "width=2" },
	{ L64, 0, "48 ed", 2, "width=4 opsize=4" },
	{ P32, 0, "6c", 1, "width=1 easeg=3" },
	{ P32, 0, "f3 6d", 2, "rep=1 width=4" },
	{ P32, 0, "f3 66 6f", 3, "rep=1 width=2 opsize=2" },
	{ P32, 0, "2e f3 6e", 3, "seg=1 easeg=1" },
	{ L64, 0, "f3 67 6e", 3, "addrsize=4" },
	{ L64, 0, "f3 90", 2, "rep=1 op=0x90" },

	/* MOV CR/DR: mod is ignored, never a memory operand */
	{ P32, 0, "0f 20 c0", 3, "reg=0 rm=0 opsize=4 mem=0" },
	{ P32, 0, "0f 22 05", 3, "mod=0 reg=0 rm=5 mem=0 dispb=0" },
	{ L64, 0, "0f 22 d8", 3, "reg=3 rm=0 opsize=8" },
	{ L64, 0, "66 0f 20 c0", 4, "opsize=8" },
	{ R, 0, "0f 20 c0", 3, "opsize=4" },
	{ L64, 0, "44 0f 20 c0", 4, "reg=8" },
	{ L64, 0, "41 0f 22 c7", 4, "reg=0 rm=15" },
	{ P32, AMD, "f0 0f 20 c0", 4, "reg=8 lock=1" },
	{ P32, AMD, "f0 0f 22 c0", 4, "reg=8" },
	{ P32, 0, "f0 0f 20 c0", INV, "" },
	{ P32, AMD, "f0 0f 21 c0", INV, "" },
	{ P32, 0, "0f 23 f8", 3, "reg=7 rm=0" },

	/* Legacy prefixes */
	{ P32, 0, "66 66 66 90", 4, "opsize=2 opsize_prefix=1 opoff=3" },
	{ P32, 0, "26 64 8b 00", 4, "seg=4 easeg=4" },
	{ P32, 0, "64 26 8b 00", 4, "seg=0 easeg=0" },
	{ L64, 0, "26 8b 00", 3, "seg=0 easeg=3" },
	{ L64, 0, "36 8b 00", 3, "seg=2 easeg=3" },
	{ L64, 0, "65 48 8b 04 25 28 00 00 00", 9,
	  "seg=5 easeg=5 base=-1 index=-1 disp=0x28 opsize=8 sib=0x25" },
	{ P32, 0, "f2 f3 a4", 3, "rep=1 repne=1 lastrep=0xf3 width=1" },
	{ P32, 0, "f3 f2 a4", 3, "lastrep=0xf2" },
	{ P32, 0, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 90", 15,
	  "opoff=14" },
	{ P32, 0, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 90", INV, "" },
	{ P32, 0, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 66", INV, "" },
	{ P32, 0, "66 66 66 66 66 66 66 66 66 66 66 66 66 66", SHORT, "" },
	{ P32, 0, "26 26 26 26 26 26 26 26 26 26 b8 01 02 03 04", 15, "" },
	{ P32, 0, "26 26 26 26 26 26 26 26 26 26 26 b8 01 02 03 04", INV, "" },
	{ L64, 0,
	  "66 66 66 66 66 66 66 66 66 66 66 48 b8 01 02 03 04 05 06 "
	  "07 08",
	  INV, "" },

	/* REX */
	{ L64, 0, "48 89 c8", 3, "rex=0x48 w=1 opsize=8 reg=1 rm=0" },
	{ L64, 0, "48 66 89 c8", 4, "rex=0 opsize=2" },
	{ L64, 0, "66 48 89 c8", 4, "rex=0x48 opsize=8" },
	{ L64, 0, "40 4d 89 c8", 4, "rex=0x4d reg=9 rm=8" },
	{ L64, 0, "41 90", 2, "rex=0x41" },
	{ L64, 0, "4c 8b 3c 24", 4, "reg=15 base=4 easeg=2" },
	{ P32, 0, "40", 1, "op=0x40" },
	{ P32, 0, "48", 1, "op=0x48" },
	{ L64, 0, "48", SHORT, "" },

	/* MOV with immediates; imm64 */
	{ L64, 0, "48 b8 88 77 66 55 44 33 22 11", 10,
	  "imm=0x1122334455667788 immb=8 opsize=8" },
	{ L64, 0, "49 bb 88 77 66 55 44 33 22 11", 10, "immb=8" },
	{ L64, 0, "41 b8 44 33 22 11", 6, "imm=0x11223344 immb=4" },
	{ L64, 0, "66 b8 22 11", 4, "imm=0x1122 immb=2" },
	{ P32, 0, "b8 44 33 22 11", 5, "imm=0x11223344" },
	{ P32, 0, "66 b8 34 12", 4, "imm=0x1234 opsize=2" },
	{ R, 0, "b8 34 12", 3, "imm=0x1234" },
	{ R, 0, "66 b8 78 56 34 12", 6, "imm=0x12345678" },
	{ L64, 0, "b0 ff", 2, "imm=0xff width=1" },
	{ L64, 0, "48 c7 c0 ff ff ff ff", 7, "immb=4 imm=0xffffffff simm=-1" },
	{ P32, 0, "c7 05 00 10 00 00 78 56 34 12", 10,
	  "disp=0x1000 imm=0x12345678" },
	{ P32, 0, "c6 44 24 04 01", 5, "disp=4 imm=1 width=1" },
	{ L64, 0, "c7 80 00 01 00 00 01 00 00 00", 10, "disp=256 imm=1" },

	/* moffs: size follows the address size */
	{ P32, 0, "a1 78 56 34 12", 5,
	  "mem=1 dispb=4 disp=0x12345678 base=-1 immb=0" },
	{ P32, 0, "67 a1 34 12", 4, "dispb=2 disp=0x1234" },
	{ L64, 0, "a1 88 77 66 55 44 33 22 11", 9,
	  "dispb=8 disp=0x1122334455667788" },
	{ L64, 0, "67 a1 78 56 34 12", 6, "dispb=4" },
	{ L64, 0, "48 a3 88 77 66 55 44 33 22 11", 10, "opsize=8 width=8" },
	{ R, 0, "a0 34 12", 3, "dispb=2 width=1" },
	{ R, 0, "66 67 a1 78 56 34 12", 7, "dispb=4 opsize=4" },
	{ P32, 0, "a1 00 00 00 80", 5, "disp=0x80000000" },

	/* Group 3 TEST has an immediate, the rest of the group not */
	{ P32, 0, "f6 c0 12", 3, "imm=0x12 reg=0" },
	{ P32, 0, "f6 c8 12", 3, "imm=0x12 reg=1" },
	{ P32, 0, "f6 d0", 2, "immb=0 reg=2" },
	{ P32, 0, "f6 f1", 2, "reg=6" },
	{ P32, 0, "f7 c0 78 56 34 12", 6, "imm=0x12345678" },
	{ P32, 0, "66 f7 c0 34 12", 5, "imm=0x1234" },
	{ P32, 0, "f7 d8", 2, "immb=0 reg=3" },
	{ L64, 0, "48 f7 c0 ff ff ff ff", 7, "immb=4 simm=-1 opsize=8" },
	{ P32, 0, "f7 05 00 10 00 00 01 00 00 00", 10, "disp=0x1000 imm=1" },
	{ R, 0, "f7 06 00 10 34 12", 6, "disp=0x1000 imm=0x1234" },

	/* ENTER iw,ib; far pointers */
	{ P32, 0, "c8 10 00 01", 4, "imm=0x10 immb=2 imm2=1 imm2b=1" },
	{ L64, 0, "c8 10 00 01", 4, "opsize=8" },
	{ P32, 0, "9a 78 56 34 12 00 10", 7,
	  "imm=0x12345678 immb=4 imm2=0x1000 imm2b=2" },
	{ R, 0, "9a 34 12 00 10", 5, "imm=0x1234 immb=2 imm2=0x1000" },
	{ P32, 0, "66 ea 34 12 00 10", 6, "immb=2" },
	{ P16, 0, "ea 34 12 00 10", 5, "" },
	{ L64, 0, "ea 34 12 00 10 00 00", INV, "" },
	{ L64, 0, "9a 34 12 00 10 00 00", INV, "" },
	{ P32, 0, "ff 18", 2, "reg=3 width=6" },
	{ P32, 0, "66 ff 28", 3, "reg=5 width=4" },
	{ P32, 0, "ff d8", INV, "" },
	{ L64, 0, "ff f8", INV, "" },

	/* Invalid in 64-bit mode */
	{ L64, 0, "06", INV, "" },
	{ L64, 0, "07", INV, "" },
	{ L64, 0, "0e", INV, "" },
	{ L64, 0, "16", INV, "" },
	{ L64, 0, "17", INV, "" },
	{ L64, 0, "1e", INV, "" },
	{ L64, 0, "1f", INV, "" },
	{ L64, 0, "27", INV, "" },
	{ L64, 0, "2f", INV, "" },
	{ L64, 0, "37", INV, "" },
	{ L64, 0, "3f", INV, "" },
	{ L64, 0, "60", INV, "" },
	{ L64, 0, "61", INV, "" },
	{ L64, 0, "82 c0 01", INV, "" },
	{ L64, 0, "ce", INV, "" },
	{ L64, 0, "d4 0a", INV, "" },
	{ L64, 0, "d5 0a", INV, "" },
	{ L64, 0, "d6", INV, "" },
	{ P32, 0, "06", 1, "" },
	{ P32, 0, "37", 1, "" },
	{ P32, 0, "82 c0 01", 3, "imm=1" },
	{ P32, 0, "d4 0a", 2, "imm=10" },
	{ R, 0, "d6", 1, "" },
	{ P32, 0, "60", 1, "" },

	/* 16-bit addressing */
	{ R, 0, "8b 06 34 12", 4,
	  "mem=1 base=-1 index=-1 disp=0x1234 easeg=3" },
	{ R, 0, "8b 46 fe", 3, "base=5 index=-1 disp=-2 easeg=2" },
	{ R, 0, "8b 00", 2, "base=3 index=6 scale=1 easeg=3 dispb=0" },
	{ R, 0, "8b 02", 2, "base=5 index=6 easeg=2" },
	{ R, 0, "8b 87 34 12", 4, "base=3 index=-1 disp=0x1234 dispb=2" },
	{ R, 0, "8b 84 00 80", 4, "base=6 index=-1 disp=-32768" },
	{ R, 0, "3e 8b 46 00", 4, "easeg=3 base=5" },
	{ V86, 0, "8b 59 10", 3, "base=3 index=7 disp=16" },
	{ R, 0, "67 8b 04 24", 4, "addrsize=4 base=4 easeg=2 sib=0x24" },
	{ P32, 0, "67 8b 46 fe", 4, "addrsize=2 base=5 disp=-2" },
	{ P16, 0, "8b 0e 00 20", 4, "disp=0x2000" },

	/* 32-bit addressing */
	{ P32, 0, "8b 04 24", 3, "base=4 index=-1 easeg=2 has_sib=1" },
	{ P32, 0, "8b 05 78 56 34 12", 6, "base=-1 rip=0 disp=0x12345678" },
	{ P32, 0, "8b 04 25 78 56 34 12", 7, "base=-1 index=-1 dispb=4" },
	{ P32, 0, "8b 44 24 08", 4, "base=4 disp=8 dispb=1" },
	{ P32, 0, "8b 84 24 00 01 00 00", 7, "disp=256 dispb=4" },
	{ P32, 0, "8b 04 8d 00 10 00 00", 7,
	  "base=-1 index=1 scale=4 disp=0x1000 easeg=3" },
	{ P32, 0, "8b 45 00", 3, "base=5 disp=0 dispb=1 easeg=2" },
	{ P32, 0, "8b 04 65 00 10 00 00", 7, "base=-1 index=-1 scale=2" },
	{ P32, 0, "8b 44 cd 80", 4, "base=5 index=1 scale=8 disp=-128" },
	{ P32, 0, "8b 14 c3", 3, "base=3 index=0 scale=8 reg=2" },
	{ P32, 0, "8d 04 24", 3, "op=0x8d" },
	{ P32, 0, "8d c0", INV, "" },

	/* 64-bit addressing */
	{ L64, 0, "8b 05 78 56 34 12", 6, "rip=1 base=-1 disp=0x12345678" },
	{ L64, 0, "67 8b 05 00 00 00 00", 7, "rip=1 addrsize=4" },
	{ L64, 0, "41 8b 04 24", 4, "base=12 easeg=3" },
	{ L64, 0, "41 8b 45 00", 4, "base=13 easeg=3 dispb=1" },
	{ L64, 0, "41 8b 05 00 00 00 00", 7, "rip=1 base=-1" },
	{ L64, 0, "42 8b 04 25 00 10 00 00", 8, "base=-1 index=12" },
	{ L64, 0, "43 8b 04 24", 4, "base=12 index=12" },
	{ L64, 0, "48 8b 04 25 00 10 00 00", 8, "base=-1 index=-1 rip=0" },
	{ L64, 0, "48 8b 44 24 f8", 5, "base=4 disp=-8 easeg=2" },
	{ L64, 0, "48 8b 80 00 00 00 80", 7, "disp=-2147483648" },
	{ L64, 0, "4a 8b 84 e5 00 01 00 00", 8,
	  "base=5 index=12 scale=8 disp=256 easeg=2" },

	/* Branches */
	{ P32, 0, "74 fe", 2, "imm=0xfe simm=-2" },
	{ L64, 0, "74 fe", 2, "opsize=8" },
	{ P32, 0, "0f 84 00 01 00 00", 6, "immb=4" },
	{ R, 0, "0f 84 34 12", 4, "immb=2" },
	{ P32, 0, "66 0f 84 34 12", 5, "immb=2" },
	{ L64, 0, "0f 84 00 01 00 00", 6, "opsize=8 immb=4" },
	{ L64, 0, "66 0f 84 00 01 00 00", 7, "opsize=8 immb=4" },
	{ L64, AMD, "66 0f 84 34 12", 5, "opsize=2 immb=2" },
	{ L64, 0, "e8 00 00 00 00", 5, "opsize=8" },
	{ L64, 0, "66 e8 00 00 00 00", 6, "" },
	{ L64, AMD, "66 e8 34 12", 4, "opsize=2" },
	{ L64, AMD, "66 48 e8 00 00 00 00", 7, "opsize=8" },
	{ L64, 0, "ff d0", 2, "reg=2 opsize=8" },
	{ L64, 0, "66 ff d0", 3, "opsize=8" },
	{ L64, AMD, "66 ff d0", 3, "opsize=2" },
	{ L64, 0, "ff 15 00 10 00 00", 6, "rip=1 disp=0x1000" },
	{ L64, 0, "ff 30", 2, "reg=6 opsize=8" },
	{ L64, 0, "66 ff 30", 3, "opsize=2" },
	{ L64, 0, "c2 08 00", 3, "imm=8 immb=2" },
	{ P32, 0, "ca 08 00", 3, "imm=8" },
	{ L64, 0, "e3 10", 2, "" },
	{ L64, 0, "50", 1, "opsize=8" },
	{ L64, 0, "66 50", 2, "opsize=2" },
	{ L64, 0, "68 00 01 00 00", 5, "opsize=8 immb=4" },
	{ L64, 0, "66 68 00 01", 4, "opsize=2 immb=2" },
	{ L64, 0, "6a ff", 2, "simm=-1" },
	{ L64, 0, "8f c0", 2, "reg=0 opsize=8" },
	{ L64, 0, "8f 00", 2, "mem=1" },
	{ P32, 0, "8f 08", INV, "" },
	{ P32, 0, "c7 f8 00 01 00 00", 6, "immb=4" },
	{ P32, 0, "c6 f8 01", 3, "imm=1" },
	{ P32, 0, "c6 f9 01", INV, "" },
	{ P32, 0, "c6 38 01", INV, "" },
	{ P32, 0, "c6 08 01", INV, "" },

	/* 0F 38 and 0F 3A */
	{ P32, 0, "66 0f 38 00 c1", 5, "map=2 op=0 mand=0x66" },
	{ L64, 0, "66 0f 3a 0f c1 08", 6, "map=3 op=0x0f imm=8" },
	{ L64, 0, "66 0f 3a 0f 44 24 08 08", 8, "disp=8 imm=8" },
	{ L64, 0, "0f 38 50 c0", INV, "" },
	{ L64, 0, "0f 3a 00 c0 00", INV, "" },
	{ P32, 0, "0f 38 f0 06", 4, "map=2 op=0xf0 base=6" },
	{ P32, 0, "f2 0f 38 f1 c1", 5, "mand=0xf2" },
	{ L64, 0, "66 0f 38 82 00", 5, "op=0x82" },
	{ L64, 0, "66 0f 38", SHORT, "" },

	/* 3DNow!: the opcode suffix is an imm8 after ModRM/SIB/disp */
	{ P32, AMD, "0f 0f c1 b4", 4, "map=1 op=0x0f imm=0xb4" },
	{ P32, AMD, "0f 0f 44 24 08 9e", 6, "disp=8 imm=0x9e base=4" },
	{ R, AMD, "0f 0f 06 00 10 9e", 6, "disp=0x1000 imm=0x9e" },

	/* VEX */
	{ L64, 0, "c5 f8 77", 3, "vex=1 vexlen=2 has_modrm=0 map=1 op=0x77" },
	{ L64, 0, "c5 fc 77", 3, "vl=1" },
	{ L64, 0, "c5 f9 6f c1", 4, "map=1 op=0x6f pp=1 mand=0x66 reg=0 rm=1" },
	{ L64, 0, "c5 79 6f c1", 4, "reg=8" },
	{ L64, 0, "c5 f1 ef c2", 4, "vvvv=1" },
	{ L64, 0, "c4 e2 79 00 c1", 5, "map=2 op=0 vexlen=3" },
	{ L64, 0, "c4 e3 79 0f c1 08", 6, "map=3 imm=8" },
	{ L64, 0, "c5 f9 71 d0 04", 5, "imm=4 reg=2" },
	{ L64, 0, "c5 f8 c2 c1 00", 5, "immb=1" },
	{ L64, 0, "c4 c1 7a 6f 04 24", 6, "base=12 pp=2" },
	{ L64, 0, "c4 62 f9 f7 c0", 5, "map=2 w=1 opsize=8 reg=8" },
	{ L64, 0, "c4 e2 79 90 04 e0", 6, "index=4 base=0 scale=8" },
	{ L64, 0, "c4 e2 79 90 c0", INV, "" },
	{ L64, 0, "c4 e2 79 90 00", INV, "" },
	{ P32, 0, "c5 f9 6f c1", 4, "vex=1" },
	{ P32, 0, "c5 79 6f c1", 3, "vex=0 op=0xc5 disp=0x6f" },
	{ P32, 0, "c4 c1 79 6f 00", 5, "base=0" },
	{ P16, 0, "c5 f9 6f c1", 4, "vex=1" },
	{ P32, 0, "c5 06", 2, "vex=0 op=0xc5 width=6" },
	{ P16, 0, "c4 06 00 10", 4, "op=0xc4 width=4" },
	{ R, 0, "c4 06 34 12", 4, "op=0xc4 disp=0x1234" },
	{ R, 0, "c5 f9", INV, "" },
	{ V86, 0, "c5 f9 6f c1", INV, "" },
	{ P32, 0, "c5", SHORT, "" },
	{ L64, 0, "66 c5 f9 6f c1", INV, "" },
	{ L64, 0, "f3 c5 f9 6f c1", INV, "" },
	{ L64, 0, "f0 c5 f9 6f c1", INV, "" },
	{ L64, 0, "40 c5 f9 6f c1", INV, "" },
	{ L64, 0, "2e 67 c5 f9 6f 00", 6, "addrsize=4 seg=1" },
	{ L64, 0, "c4 e0 79 00 c1", INV, "" },
	{ L64, 0, "c4 e4 79 00 c1", INV, "" },

	/* EVEX */
	{ L64, 0, "62 f1 7c 48 10 c1", 6,
	  "vex=3 vexlen=4 map=1 op=0x10 vl=2 reg=0 rm=1" },
	{ L64, 0, "62 f1 7c 48 10 44 24 01", 8, "disp=1 dispb=1 base=4" },
	{ L64, 0, "62 f3 7d 48 0f c1 08", 7, "map=3 imm=8" },
	{ L64, 0, "62 71 7c 48 10 c1", 6, "reg=8" },
	{ L64, 0, "62 61 7c 48 10 c1", 6, "reg=24" },
	{ L64, 0, "62 e1 7c 48 10 c1", 6, "reg=16" },
	{ L64, 0, "62 b1 7c 48 10 c1", 6, "rm=17" },
	{ L64, 0, "62 f1 7c 40 10 c1", 6, "vvvv=16" },
	{ L64, 0, "62 f5 7c 48 58 c1", 6, "map=5" },
	{ L64, 0, "62 f6 7d 48 56 c1", 6, "map=6" },
	{ L64, 0, "62 f4 7c 48 10 c1", INV, "" },
	{ L64, 0, "62 f0 7c 48 10 c1", INV, "" },
	{ L64, 0, "62 f2 7d 49 90 04 e0", 7, "index=4 scale=8" },
	{ L64, 0, "62 f2 7d 41 90 04 e0", 7, "index=20" },
	{ P32, 0, "62 f1 7c 48 10 c1", 6, "vex=3" },
	{ P32, 0, "62 00", 2, "vex=0 op=0x62" },
	{ R, 0, "62 06 34 12", 4, "disp=0x1234" },
	{ R, 0, "62 c0", INV, "" },

	/* AMD XOP */
	{ L64, AMD, "8f e8 78 c0 c1 05", 6, "vex=2 map=8 op=0xc0 imm=5" },
	{ L64, AMD, "8f e9 78 80 c1", 5, "map=9 immb=0" },
	{ L64, AMD, "8f ea 78 10 c1 78 56 34 12", 9, "map=10 imm=0x12345678" },
	{ L64, AMD, "8f 68 78 c0 c1 05", 6, "reg=8" },
	{ P32, AMD, "8f e8 78 c0 c1 05", 6, "map=8" },
	{ L64, 0, "8f e8 78 c0 c1 05", INV, "" },
	{ L64, AMD, "8f e0 78", INV, "" },
	{ L64, AMD, "8f eb 78 10 c1", INV, "" },
	{ R, AMD, "8f e8 78 c0", INV, "" },
	{ L64, AMD, "8f c0", 2, "vex=0 reg=0" },
	{ L64, AMD, "66 8f e8 78 c0 c1 05", INV, "" },

	/* LOCK */
	{ P32, 0, "f0 01 00", 3, "lock=1" },
	{ P32, 0, "f0 01 c0", INV, "" },
	{ P32, 0, "f0 90", INV, "" },
	{ P32, 0, "f0 8b 00", INV, "" },
	{ P32, 0, "f0 0f c7 0e", 4, "reg=1 width=8" },
	{ L64, 0, "f0 48 0f c7 0e", 5, "width=16" },
	{ P32, 0, "f0 80 38 01", INV, "" },
	{ P32, 0, "f0 80 00 01", 4, "imm=1" },
	{ P32, 0, "f0 f6 10", 3, "reg=2" },
	{ P32, 0, "f0 f6 00 01", INV, "" },
	{ P32, 0, "f0 fe 00", 3, "" },
	{ P32, 0, "f0 ff 00", 3, "" },
	{ P32, 0, "f0 ff 10", INV, "" },
	{ P32, 0, "f0 0f ba 28 01", 5, "reg=5 imm=1" },
	{ P32, 0, "f0 0f ba 20 01", INV, "" },
	{ P32, 0, "f0 87 00", 3, "" },
	{ P32, 0, "f0 0f b1 0e", 4, "" },
	{ P32, 0, "f0 0f c1 0e", 4, "" },
	{ P32, 0, "f0 0f ab 0e", 4, "" },
	{ P32, 0, "f0 0f a3 0e", INV, "" },
	{ L64, 0, "f0 48 83 00 01", 5, "imm=1 opsize=8" },
	{ L64, 0, "f2 f0 48 0f b1 0e", 6, "repne=1 lock=1" },

	/* Groups and ModRM.mod restrictions */
	{ P32, 0, "fe 10", INV, "" },
	{ P32, 0, "0f ba 00 01", INV, "" },
	{ P32, 0, "0f ba e0 01", 4, "reg=4 imm=1" },
	{ P32, 0, "0f 00 38", INV, "" },
	{ P32, 0, "0f 00 00", 3, "reg=0 width=2" },
	{ R, 0, "0f 00 00", INV, "" },
	{ V86, 0, "0f 00 d8", INV, "" },
	{ R, 0, "0f 02 c0", INV, "" },
	{ P16, 0, "0f 02 c0", 3, "" },
	{ P32, 0, "63 c0", 2, "width=2" },
	{ R, 0, "63 c0", INV, "" },
	{ L64, 0, "48 63 c0", 3, "width=4 opsize=8" },
	{ L64, 0, "0f 71 d0 04", 4, "reg=2 imm=4" },
	{ L64, 0, "0f 71 10 04", INV, "" },
	{ L64, 0, "0f 71 c0 04", INV, "" },
	{ L64, 0, "66 0f 73 d8 04", 5, "reg=3" },
	{ L64, 0, "0f c7 f0", 3, "reg=6" },
	{ L64, 0, "0f c7 c8", INV, "" },
	{ L64, 0, "0f c7 00", INV, "" },
	{ L64, 0, "0f c7 30", 3, "reg=6 mem=1" },
	{ L64, 0, "0f b2 c0", INV, "" },
	{ P32, 0, "0f b2 00", 3, "width=6" },
	{ L64, 0, "0f c3 c0", INV, "" },
	{ L64, 0, "0f ae f0", 3, "" },
	{ L64, 0, "0f ae 38", 3, "" },

	/* Vendor differences */
	{ L64, 0, "0f 78 c1", 3, "opsize=8" },
	{ P32, 0, "0f 79 c1", 3, "opsize=4" },
	{ L64, 0, "66 0f 78 c0 04 08", INV, "" },
	{ L64, AMD, "66 0f 78 c0 04 08", 6, "imm=4 imm2=8 immb=1 imm2b=1" },
	{ L64, AMD, "f2 0f 78 c1 04 08", 6, "imm=4 imm2=8" },
	{ L64, AMD, "66 0f 79 c1", 4, "immb=0" },
	{ L64, AMD, "f2 0f 79 c1", 4, "" },
	{ L64, AMD, "0f 78 c1", INV, "" },
	{ L64, AMD, "66 0f 78 c8 04 08", INV, "" },
	{ L64, AMD, "66 0f 78 00 04 08", INV, "" },
	{ L64, 0, "f3 0f b8 c1", 4, "mand=0xf3" },
	{ L64, 0, "0f b8 c1", INV, "" },
	{ L64, 0, "0f 05", 2, "" },
	{ L64, AMD, "0f 05", 2, "" },
	{ P32, 0, "0f 05", INV, "" },
	{ P32, AMD, "0f 05", 2, "" },
	{ P32, AMD, "0f 07", 2, "" },
	{ L64, AMD, "0f 34", INV, "" },
	{ L64, 0, "0f 34", 2, "" },
	{ P32, AMD, "0f 34", 2, "" },
	{ L64, 0, "48 0f 35", 3, "w=1" },

	/* Undefined opcodes */
	{ L64, 0, "0f 04", INV, "" },
	{ L64, 0, "0f 0a", INV, "" },
	{ L64, 0, "0f 0c", INV, "" },
	{ L64, 0, "0f 24 c0", INV, "" },
	{ L64, 0, "0f 26 c0", INV, "" },
	{ L64, 0, "0f 36", INV, "" },
	{ L64, 0, "0f 39", INV, "" },
	{ L64, 0, "0f 3b", INV, "" },
	{ L64, 0, "0f 3f", INV, "" },
	{ L64, 0, "0f 7a c0", INV, "" },
	{ L64, 0, "0f a6", INV, "" },
	{ L64, 0, "0f a7", INV, "" },
	{ L64, 0, "0f ff c0", 3, "op=0xff" },
	{ L64, 0, "0f b9 c0", 3, "op=0xb9" },

	/* Operand widths */
	{ P32, 0, "88 00", 2, "width=1" },
	{ P32, 0, "66 89 00", 3, "width=2 opsize=2" },
	{ P32, 0, "0f b6 00", 3, "width=1 opsize=4" },
	{ P32, 0, "0f b7 00", 3, "width=2" },
	{ L64, 0, "48 0f be 00", 4, "width=1 opsize=8" },
	{ L64, 0, "8c d8", 2, "width=2" },
	{ L64, 0, "8e d8", 2, "width=2 reg=3" },
	{ L64, 0, "0f 94 c0", 3, "width=1" },
	{ L64, 0, "48 87 03", 3, "width=8" },
	{ L64, 0, "0f c3 03", 3, "width=4" },

	/* Misc encodings */
	{ L64, 0, "0f 1f 44 00 00", 5, "" },
	{ L64, 0, "66 0f 1f 84 00 00 00 00 00", 9, "" },
	{ L64, 0, "66 2e 0f 1f 84 00 00 00 00 00", 10, "" },
	{ L64, 0, "f3 0f 1e fa", 4, "" },
	{ P32, 0, "d9 c0", 2, "" },
	{ P32, 0, "dd 05 00 10 00 00", 6, "disp=0x1000" },
	{ L64, 0, "f3 48 a5", 3, "rep=1 opsize=8 width=8" },
	{ L64, 0, "0f 0d 08", 3, "" },
	{ L64, 0, "0f 18 08", 3, "" },
	{ P32, 0, "6b c0 10", 3, "imm=16" },
	{ P32, 0, "69 c0 00 01 00 00", 6, "imm=256" },
	{ P32, 0, "c1 e0 04", 3, "imm=4" },
	{ P32, 0, "d3 e0", 2, "" },
	{ L64, 0, "0f a4 c0 04", 4, "imm=4" },
	{ L64, 0, "0f c2 c1 01", 4, "imm=1" },

	/* Truncated */
	{ L64, 0, "", SHORT, "" },
	{ L64, 0, "0f", SHORT, "" },
	{ L64, 0, "8b", SHORT, "" },
	{ L64, 0, "8b 05 00", SHORT, "" },
	{ P32, 0, "b8 00 00", SHORT, "" },
	{ L64, 0, "66", SHORT, "" },
	{ L64, 0, "8b 04", SHORT, "" },
	{ L64, 0, "c8 10 00", SHORT, "" },
	{ L64, 0, "62 f1 7c", SHORT, "" },
	{ L64, 0, "48 b8 01 02 03 04 05 06 07", SHORT, "" },
};

static int hexbytes(const char *s, u8 *out, size_t max)
{
	size_t n = 0;
	unsigned int v;
	int used;

	while (*s) {
		if (*s == ' ') {
			s++;
			continue;
		}
		if (sscanf(s, "%2x%n", &v, &used) != 1 || used != 2 || n >= max)
			return -1;
		out[n++] = (u8)v;
		s += 2;
	}
	return (int)n;
}

static long long field(const struct xk_insn *in, const char *key, bool *ok)
{
	static const struct {
		const char *k;
		int which;
	} names[] = {
		{ "len", 0 },
		{ "map", 1 },
		{ "op", 2 },
		{ "modrm", 3 },
		{ "mod", 4 },
		{ "reg", 5 },
		{ "rm", 6 },
		{ "sib", 7 },
		{ "opsize", 8 },
		{ "addrsize", 9 },
		{ "width", 10 },
		{ "disp", 11 },
		{ "dispb", 12 },
		{ "imm", 13 },
		{ "immb", 14 },
		{ "imm2", 15 },
		{ "imm2b", 16 },
		{ "seg", 17 },
		{ "easeg", 18 },
		{ "base", 19 },
		{ "index", 20 },
		{ "scale", 21 },
		{ "rip", 22 },
		{ "mem", 23 },
		{ "lock", 24 },
		{ "rep", 25 },
		{ "repne", 26 },
		{ "rex", 27 },
		{ "vex", 28 },
		{ "vexlen", 29 },
		{ "vvvv", 30 },
		{ "vl", 31 },
		{ "w", 32 },
		{ "mand", 33 },
		{ "opoff", 34 },
		{ "pp", 35 },
		{ "simm", 36 },
		{ "has_modrm", 37 },
		{ "has_sib", 38 },
		{ "lastrep", 39 },
		{ "opsize_prefix", 40 },
	};
	unsigned int i;

	*ok = true;
	for (i = 0; i < XK_ARRAY_SIZE(names); i++) {
		if (strcmp(names[i].k, key))
			continue;
		switch (names[i].which) {
		case 0:
			return in->len;
		case 1:
			return in->map;
		case 2:
			return in->opcode;
		case 3:
			return in->modrm;
		case 4:
			return in->mod;
		case 5:
			return in->reg;
		case 6:
			return in->rm;
		case 7:
			return in->sib;
		case 8:
			return in->opsize;
		case 9:
			return in->addrsize;
		case 10:
			return in->width;
		case 11:
			return in->disp;
		case 12:
			return in->disp_bytes;
		case 13:
			return (long long)in->imm;
		case 14:
			return in->imm_bytes;
		case 15:
			return (long long)in->imm2;
		case 16:
			return in->imm2_bytes;
		case 17:
			return in->seg;
		case 18:
			return in->ea_seg;
		case 19:
			return in->base;
		case 20:
			return in->index;
		case 21:
			return in->scale;
		case 22:
			return in->rip_rel;
		case 23:
			return in->has_mem;
		case 24:
			return in->lock;
		case 25:
			return in->rep;
		case 26:
			return in->repne;
		case 27:
			return in->rex;
		case 28:
			return in->vex_kind;
		case 29:
			return in->vex_len;
		case 30:
			return in->vvvv;
		case 31:
			return in->vl;
		case 32:
			return in->w;
		case 33:
			return in->mandatory;
		case 34:
			return in->opc_off;
		case 35:
			return in->pp;
		case 36:
			return xk_insn_simm(in);
		case 37:
			return in->has_modrm;
		case 38:
			return in->has_sib;
		case 39:
			return in->last_rep;
		case 40:
			return in->opsize_prefix;
		}
	}
	*ok = false;
	return 0;
}

static const char *mode_name(enum xk_cpu_mode m)
{
	static const char *const n[] = { "real", "vm86", "prot16", "prot32",
					 "long64" };

	return m <= XK_MODE_LONG64 ? n[m] : "?";
}

static void run_case(const struct dcase *c)
{
	u8 tmp[32], *buf;
	struct xk_insn in;
	char checks[256], *tok, *save = NULL;
	int n, r;

	xt_ctx("%s%s \"%s\"", mode_name(c->mode),
	       c->flags & XK_DEC_AMD ? "/amd" : "", c->hex);
	n = hexbytes(c->hex, tmp, sizeof(tmp));
	XT_ASSERT(n >= 0);
	buf = malloc(n ? (size_t)n : 1);
	XT_ASSERT(buf);
	memcpy(buf, tmp, (size_t)n);
	r = xk_decode_ex(buf, (size_t)n, c->mode, c->flags, &in);
	free(buf);
	if (c->expect <= 0) {
		XT_EQ(r, c->expect);
		return;
	}
	XT_EQ(r, 0);
	XT_EQ(in.len, c->expect);
	snprintf(checks, sizeof(checks), "%s", c->checks);
	for (tok = strtok_r(checks, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '=');
		long long want, got;
		bool ok;

		XT_ASSERT(eq);
		*eq = 0;
		want = strtoll(eq + 1, NULL, 0);
		got = field(&in, tok, &ok);
		if (!ok)
			XT_FAIL("unknown field %s", tok);
		if (got != want)
			XT_FAIL("%s: got %lld (0x%llx), want %lld (0x%llx)",
				tok, got, (unsigned long long)got, want,
				(unsigned long long)want);
	}
}

XT_TEST(decode, table)
{
	unsigned int i;

	for (i = 0; i < XK_ARRAY_SIZE(cases); i++)
		run_case(&cases[i]);
}

/* The default segment and register fields of every 16-bit ModRM form. */
XT_TEST(decode, modrm16_all)
{
	static const s8 base[8] = { 3, 3, 5, 5, 6, 7, 5, 3 };
	static const s8 index[8] = { 6, 7, 6, 7, -1, -1, -1, -1 };
	unsigned int m;

	for (m = 0; m < 256; m++) {
		u8 b[4] = { 0x8b, (u8)m, 0x34, 0x12 };
		unsigned int mod = m >> 6, rm = m & 7, want;
		struct xk_insn in;

		xt_ctx("modrm %02x", m);
		want = mod == 1 ? 3 : mod == 2 ? 4 : 2;
		if (mod == 0 && rm == 6)
			want = 4;
		XT_EQ(xk_decode(b, sizeof(b), XK_MODE_REAL, &in), 0);
		XT_EQ(in.len, want);
		if (mod == 3) {
			XT_EQ(in.has_mem, 0);
			continue;
		}
		XT_EQ(in.has_mem, 1);
		if (mod == 0 && rm == 6) {
			XT_EQ(in.base, -1);
			XT_EQ(in.ea_seg, XK_SEG_DS);
			continue;
		}
		/* BX+SI BX+DI BP+SI BP+DI SI DI BP BX */
		XT_EQ(in.base, base[rm]);
		XT_EQ(in.index, index[rm]);
		XT_EQ(in.ea_seg, base[rm] == 5 ? XK_SEG_SS : XK_SEG_DS);
	}
}

/* Every 32/64-bit ModRM+SIB form: length by the SDM's table 2-2/2-3. */
XT_TEST(decode, modrm32_all)
{
	unsigned int m, s, mode;

	for (mode = XK_MODE_PROT32; mode <= XK_MODE_LONG64; mode++) {
		for (m = 0; m < 256; m++) {
			for (s = 0; s < 256; s++) {
				u8 b[8] = { 0x8b, (u8)m, (u8)s, 1, 2, 3, 4, 5 };
				unsigned int mod = m >> 6, rm = m & 7, want = 2;
				struct xk_insn in;

				if (mod != 3 && rm == 4) {
					want++;
					if (mod == 0 && (s & 7) == 5)
						want += 4;
				} else if (s) {
					continue; /* SIB byte unused */
				}
				if (mod == 0 && rm == 5)
					want += 4;
				want += mod == 1 ? 1 : mod == 2 ? 4 : 0;
				xt_ctx("mode %u modrm %02x sib %02x", mode, m,
				       s);
				XT_EQ(xk_decode(b, sizeof(b), mode, &in), 0);
				XT_EQ(in.len, want);
				XT_EQ(in.rip_rel, mode == XK_MODE_LONG64 &&
							  mod == 0 && rm == 5);
			}
		}
	}
}

/*
 * Invariants on random bytes: never reads past avail (ASan), len within
 * [1, min(avail, 15)], decoding exactly len bytes gives the same result,
 * len - 1 bytes is "short", and the result does not depend on bytes after
 * the instruction.
 */
XT_TEST(decode, random_invariants)
{
	static const u8 interesting[] = { 0x0f, 0x38, 0x3a, 0x66, 0x67, 0xf2,
					  0xf3, 0xf0, 0x48, 0x41, 0xc4, 0xc5,
					  0x62, 0x8f, 0x26, 0x64, 0x9a, 0xc8,
					  0xa1, 0xf7, 0x05, 0x04, 0x25 };
	u64 seed = 0x243f6a8885a308d3ULL;
	unsigned int iter, i, mode, flags;

	for (iter = 0; iter < 60000; iter++) {
		u8 b[20], *exact;
		struct xk_insn a, c;
		int r, r2;

		for (i = 0; i < sizeof(b); i++) {
			seed = seed * 6364136223846793005ULL +
			       1442695040888963407ULL;
			b[i] = (seed >> 59) < 12 ?
				       interesting[(seed >> 33) %
						   sizeof(interesting)] :
				       (u8)(seed >> 40);
		}
		mode = iter % 5;
		flags = (iter / 5) % 2 ? XK_DEC_AMD : 0;
		xt_ctx("iter %u mode %u flags %u", iter, mode, flags);
		r = xk_decode_ex(b, sizeof(b), mode, flags, &a);
		XT_ASSERT(r == 0 || r == -EINVAL);
		if (r)
			continue;
		XT_ASSERT(a.len >= 1 && a.len <= XK_INSN_MAX);
		XT_ASSERT(a.opc_off < a.len);
		XT_EQ(b[a.opc_off], a.opcode);
		XT_ASSERT(a.disp_bytes + a.imm_bytes + a.imm2_bytes < a.len);
		exact = malloc(a.len);
		XT_ASSERT(exact);
		memcpy(exact, b, a.len);
		r = xk_decode_ex(exact, a.len, mode, flags, &c);
		r2 = xk_decode_ex(exact, a.len - 1u, mode, flags, &c) ==
		     XK_DECODE_SHORT;
		if (!r)
			r = xk_decode_ex(exact, a.len, mode, flags, &c);
		free(exact);
		XT_EQ(r, 0);
		XT_ASSERT(r2);
		XT_ASSERT(memcmp(&a, &c, sizeof(a)) == 0);
		for (i = a.len; i < sizeof(b); i++)
			b[i] ^= 0xa5;
		XT_EQ(xk_decode_ex(b, sizeof(b), mode, flags, &c), 0);
		XT_ASSERT(memcmp(&a, &c, sizeof(a)) == 0);
	}
}

/* Every one-byte opcode in every mode: defined ones decode, and a 64-bit
 * invalid one fails only in 64-bit mode. */
XT_TEST(decode, one_byte_map_sweep)
{
	static const u8 inv64[] = { 0x06, 0x07, 0x0e, 0x16, 0x17, 0x1e, 0x1f,
				    0x27, 0x2f, 0x37, 0x3f, 0x60, 0x61, 0x82,
				    0x9a, 0xce, 0xd4, 0xd5, 0xd6, 0xea };
	unsigned int op, i;

	for (op = 0; op < 256; op++) {
		u8 b[15] = {
			(u8)op, 0xc0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
		};
		struct xk_insn in;
		bool is_inv64 = false;
		int r;

		for (i = 0; i < sizeof(inv64); i++)
			is_inv64 |= inv64[i] == op;
		xt_ctx("opcode %02x", op);
		r = xk_decode(b, sizeof(b), XK_MODE_LONG64, &in);
		if (is_inv64)
			XT_EQ(r, -EINVAL);
		/* 0x62 0xc0 is an EVEX with map 0: invalid */
		if (is_inv64 && op != 0x82 && op != 0xd4 && op != 0xd5) {
			b[1] = 0x00;
			r = xk_decode(b, sizeof(b), XK_MODE_PROT32, &in);
			XT_EQ(r, 0);
		}
	}
}

/*
 * The instructions SVM intercepts, in every mode, behind prefixes that do
 * not change their length: the length is the prefixes plus the bare
 * instruction (next RIP on CPUs without NRIP-save), and LOCK makes every
 * one of them invalid.
 */
XT_TEST(decode, intercepts_with_prefixes)
{
	static const struct {
		const char *hex;
		unsigned int len;
		bool not64; /* invalid or different in 64-bit mode */
	} insns[] = {
		{ "f4", 1, false },       /* HLT */
		{ "0f a2", 2, false },    /* CPUID */
		{ "0f 32", 2, false },    /* RDMSR */
		{ "0f 30", 2, false },    /* WRMSR */
		{ "0f 31", 2, false },    /* RDTSC */
		{ "0f 33", 2, false },    /* RDPMC */
		{ "0f 01 f9", 3, false }, /* RDTSCP */
		{ "0f 08", 2, false },    /* INVD */
		{ "0f 09", 2, false },    /* WBINVD */
		{ "0f 01 d9", 3, false }, /* VMMCALL */
		{ "0f 01 c1", 3, false }, /* VMCALL */
		{ "0f 01 d1", 3, false }, /* XSETBV */
		{ "0f 01 c8", 3, false }, /* MONITOR */
		{ "0f 01 c9", 3, false }, /* MWAIT */
		{ "0f 01 fa", 3, false }, /* MONITORX */
		{ "0f 01 fb", 3, false }, /* MWAITX */
		{ "0f 01 d8", 3, false }, /* VMRUN */
		{ "0f 01 da", 3, false }, /* VMLOAD */
		{ "0f 01 db", 3, false }, /* VMSAVE */
		{ "0f 01 dc", 3, false }, /* STGI */
		{ "0f 01 dd", 3, false }, /* CLGI */
		{ "0f 01 de", 3, false }, /* SKINIT */
		{ "0f 01 df", 3, false }, /* INVLPGA */
		{ "0f 01 f0", 3, false }, /* LMSW ax */
		{ "0f 01 e0", 3, false }, /* SMSW ax */
		{ "0f 06", 2, false },    /* CLTS */
		{ "0f aa", 2, false },    /* RSM */
		{ "0f 0b", 2, false },    /* UD2 */
		{ "0f 20 d8", 3, false }, /* MOV eax,CR3 */
		{ "0f 22 e0", 3, false }, /* MOV CR4,eax */
		{ "0f 21 f8", 3, false }, /* MOV eax,DR7 */
		{ "e4 60", 2, false },    /* IN al,60h */
		{ "e5 71", 2, false },    /* IN eax,71h */
		{ "e6 80", 2, false },    /* OUT 80h,al */
		{ "e7 70", 2, false },    /* OUT 70h,eax */
		{ "ec", 1, false },       /* IN al,dx */
		{ "ed", 1, false },       /* IN eax,dx */
		{ "ee", 1, false },       /* OUT dx,al */
		{ "ef", 1, false },       /* OUT dx,eax */
		{ "6c", 1, false },       /* INSB */
		{ "6d", 1, false },       /* INSD */
		{ "6e", 1, false },       /* OUTSB */
		{ "6f", 1, false },       /* OUTSD */
		{ "cc", 1, false },       /* INT3 */
		{ "cd 21", 2, false },    /* INT 21h */
		{ "f1", 1, false },       /* INT1 */
		{ "ce", 1, true },        /* INTO */
		{ "cf", 1, false },       /* IRET */
		{ "9c", 1, false },       /* PUSHF */
		{ "9d", 1, false },       /* POPF */
		{ "fa", 1, false },       /* CLI */
		{ "fb", 1, false },       /* STI */
		{ "0f 00 c0", 3, false }, /* SLDT eax (not real/vm86) */
		{ "0f 01 00", 3, false }, /* SGDT [bx+si] / [eax] */
	};
	static const char *const pfx[] = { "",   "2e", "3e", "26 64",      "66",
					   "67", "f3", "f2", "2e 66 67 36" };
	static const char *const pfx64[] = { "48", "41", "66 4f", "2e 40" };
	unsigned int i, j, mode;

	for (mode = 0; mode <= XK_MODE_LONG64; mode++) {
		for (i = 0; i < XK_ARRAY_SIZE(insns); i++) {
			unsigned int np = XK_ARRAY_SIZE(pfx) +
					  (mode == XK_MODE_LONG64 ?
						   XK_ARRAY_SIZE(pfx64) :
						   0);

			if (mode == XK_MODE_LONG64 && insns[i].not64)
				continue;
			if (mode <= XK_MODE_VM86 &&
			    !strcmp(insns[i].hex, "0f 00 c0"))
				continue;
			for (j = 0; j < np + 1; j++) {
				const char *p =
					j < XK_ARRAY_SIZE(pfx) ? pfx[j] :
					j < np ? pfx64[j - XK_ARRAY_SIZE(pfx)] :
						 "f0";
				char hex[64];
				u8 b[16];
				struct xk_insn in;
				int n, r;

				snprintf(hex, sizeof(hex), "%s %s", p,
					 insns[i].hex);
				n = hexbytes(hex, b, sizeof(b));
				xt_ctx("mode %u \"%s\"", mode, hex);
				r = xk_decode_ex(b, (size_t)n, mode, XK_DEC_AMD,
						 &in);
				if (!strcmp(p, "f0")) {
					/* AMD: LOCK MOV CR0 is MOV CR8 */
					if (!strncmp(insns[i].hex, "0f 2", 4) &&
					    insns[i].hex[4] != '1')
						continue;
					XT_EQ(r, -EINVAL);
					continue;
				}
				XT_EQ(r, 0);
				XT_EQ(in.len, (unsigned int)n);
				XT_EQ(b[in.opc_off], in.opcode);
			}
		}
	}
}

XT_TEST(decode, effective_address)
{
	u64 gpr[16];
	struct xk_insn in;
	unsigned int i;

	for (i = 0; i < 16; i++)
		gpr[i] = 0x1111111111111111ULL * i;
	/* mov eax,[ebx+ecx*4+0x10] */
	XT_EQ(xk_decode((const u8 *)"\x8b\x44\x8b\x10", 4, XK_MODE_PROT32, &in),
	      0);
	XT_EQ(xk_insn_ea(&in, gpr, 0),
	      (0x33333333ULL + 0x11111111ULL * 4 + 0x10) & 0xffffffffULL);
	/* mov rax,[rip-8] */
	XT_EQ(xk_decode((const u8 *)"\x48\x8b\x05\xf8\xff\xff\xff", 7,
			XK_MODE_LONG64, &in),
	      0);
	XT_EQ(xk_insn_ea(&in, gpr, 0x401007), 0x400fff);
	/* mov ax,[bp+di-2]: wraps at 64 KiB */
	gpr[5] = 0x0001;
	gpr[7] = 0x0000;
	XT_EQ(xk_decode((const u8 *)"\x8b\x43\xfe", 3, XK_MODE_REAL, &in), 0);
	XT_EQ(xk_insn_ea(&in, gpr, 0), 0xffff);
	XT_EQ(in.ea_seg, XK_SEG_SS);
	/* mov eax,[moffs] with 67 in 64-bit mode */
	XT_EQ(xk_decode((const u8 *)"\x67\xa1\x78\x56\x34\x12", 6,
			XK_MODE_LONG64, &in),
	      0);
	XT_EQ(xk_insn_ea(&in, gpr, 0), 0x12345678);
	/* mov rax,[r12+r13*2+0x100] */
	XT_EQ(xk_decode((const u8 *)"\x4b\x8b\x84\x6c\x00\x01\x00\x00", 8,
			XK_MODE_LONG64, &in),
	      0);
	XT_EQ(xk_insn_ea(&in, gpr, 0), 0x1111111111111111ULL * 12 +
					       0x1111111111111111ULL * 13 * 2 +
					       0x100);
}
