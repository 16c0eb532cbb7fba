// SPDX-License-Identifier: GPL-2.0
/*
 * test_seg.c - core/seg.c: segment + offset to linear address, limits,
 * types, canonical form.
 */
#include "seg.h"
#include "xtest.h"

static struct kvm_segment seg(u64 base, u32 limit, u8 type, bool db)
{
	struct kvm_segment s = { 0 };

	s.base = base;
	s.limit = limit;
	s.type = type;
	s.present = 1;
	s.s = 1;
	s.db = db;
	return s;
}

#define RD XK_SEGACC_READ
#define WR XK_SEGACC_WRITE
#define EX XK_SEGACC_FETCH

XT_TEST(seg, long64)
{
	struct kvm_segment ds = seg(0x1000, 0, 3, 0), fs = seg(0x7000, 0, 3, 0);
	u64 lin = 0;

	/* only FS and GS have a base; no limit */
	XT_EQ(xk_seg_linear(&ds, XK_SEG_DS, XK_MODE_LONG64, false, 8,
			    0x123456789ULL, 8, WR, &lin),
	      0);
	XT_EQ(lin, 0x123456789ULL);
	XT_EQ(xk_seg_linear(&fs, XK_SEG_FS, XK_MODE_LONG64, false, 8, 0x10, 8,
			    RD, &lin),
	      0);
	XT_EQ(lin, 0x7010);
	XT_EQ(xk_seg_linear(&fs, XK_SEG_GS, XK_MODE_LONG64, false, 8, 0x10, 8,
			    RD, &lin),
	      0);
	XT_EQ(lin, 0x7010);
	/* 32-bit address size: the offset wraps at 4 GiB, then the base */
	XT_EQ(xk_seg_linear(&fs, XK_SEG_FS, XK_MODE_LONG64, false, 4,
			    0x100000010ULL, 1, RD, &lin),
	      0);
	XT_EQ(lin, 0x7010);
	/* canonical form, every byte; #SS for SS */
	XT_EQ(xk_seg_linear(&ds, XK_SEG_DS, XK_MODE_LONG64, false, 8,
			    0x0000800000000000ULL, 1, RD, &lin),
	      XK_VEC_GP);
	XT_EQ(xk_seg_linear(&ds, XK_SEG_SS, XK_MODE_LONG64, false, 8,
			    0x0000800000000000ULL, 1, RD, &lin),
	      XK_VEC_SS);
	XT_EQ(xk_seg_linear(&ds, XK_SEG_DS, XK_MODE_LONG64, false, 8,
			    0x00007ffffffffffeULL, 4, RD, &lin),
	      XK_VEC_GP);
	XT_EQ(xk_seg_linear(&ds, XK_SEG_DS, XK_MODE_LONG64, false, 8,
			    0x00007ffffffffffcULL, 4, RD, &lin),
	      0);
	XT_EQ(xk_seg_linear(&ds, XK_SEG_DS, XK_MODE_LONG64, false, 8,
			    0xffff800000000000ULL, 8, RD, &lin),
	      0);
	/* 57-bit with LA57 */
	XT_EQ(xk_seg_linear(&ds, XK_SEG_DS, XK_MODE_LONG64, true, 8,
			    0x00ff000000000000ULL, 8, RD, &lin),
	      0);
	XT_EQ(xk_seg_linear(&ds, XK_SEG_DS, XK_MODE_LONG64, true, 8,
			    0x0100000000000000ULL, 8, RD, &lin),
	      XK_VEC_GP);
	XT_EQ(xk_seg_linear(&fs, XK_SEG_FS, XK_MODE_LONG64, false, 8,
			    0x00007fffffffa000ULL, 0x1000, RD, &lin),
	      XK_VEC_GP);
	XT_ASSERT(xk_canonical(0xffff800000000000ULL, 48));
	XT_ASSERT(!xk_canonical(0xfff0800000000000ULL, 48));
}

XT_TEST(seg, real_mode)
{
	struct kvm_segment cs = seg(0xf0000, 0xffff, 0xb, 0);
	struct kvm_segment big = seg(0x10000, 0xffffffff, 3, 0);
	u64 lin = 0;

	XT_EQ(xk_seg_linear(&cs, XK_SEG_CS, XK_MODE_REAL, false, 2, 0xfff0, 1,
			    EX, &lin),
	      0);
	XT_EQ(lin, 0xffff0);
	/* 16-bit offsets wrap before the limit check */
	XT_EQ(xk_seg_linear(&cs, XK_SEG_DS, XK_MODE_REAL, false, 2, 0x10005, 2,
			    RD, &lin),
	      0);
	XT_EQ(lin, 0xf0005);
	/* a word at 0xffff crosses the limit: #GP, or #SS on SS */
	XT_EQ(xk_seg_linear(&cs, XK_SEG_DS, XK_MODE_REAL, false, 2, 0xffff, 2,
			    RD, &lin),
	      XK_VEC_GP);
	XT_EQ(xk_seg_linear(&cs, XK_SEG_SS, XK_MODE_VM86, false, 2, 0xffff, 2,
			    WR, &lin),
	      XK_VEC_SS);
	/* types do not matter in real mode: writes to "code" are fine */
	XT_EQ(xk_seg_linear(&cs, XK_SEG_CS, XK_MODE_REAL, false, 2, 0x10, 1, WR,
			    &lin),
	      0);
	/* "unreal" mode: 32-bit offsets up to a big cached limit */
	XT_EQ(xk_seg_linear(&big, XK_SEG_DS, XK_MODE_REAL, false, 4, 0x00200000,
			    4, RD, &lin),
	      0);
	XT_EQ(lin, 0x00210000);
}

XT_TEST(seg, protected_limits)
{
	struct kvm_segment ds = seg(0x100000, 0xfff, 3, 1);
	struct kvm_segment down = seg(0, 0xfff, 7, 1); /* RW expand-down */
	struct kvm_segment down16 = seg(0, 0xfff, 7, 0);
	struct kvm_segment flat = seg(0xfffff000, 0xffffffff, 3, 1);
	u64 lin = 0;

	XT_EQ(xk_seg_linear(&ds, XK_SEG_DS, XK_MODE_PROT32, false, 4, 0xffc, 4,
			    WR, &lin),
	      0);
	XT_EQ(lin, 0x100ffc);
	XT_EQ(xk_seg_linear(&ds, XK_SEG_DS, XK_MODE_PROT32, false, 4, 0xffd, 4,
			    WR, &lin),
	      XK_VEC_GP);
	XT_EQ(xk_seg_linear(&ds, XK_SEG_SS, XK_MODE_PROT32, false, 4, 0x1000, 1,
			    RD, &lin),
	      XK_VEC_SS);

	/* expand-down: valid offsets are (limit, 4G-1] or (limit, 64K-1] */
	XT_EQ(xk_seg_linear(&down, XK_SEG_SS, XK_MODE_PROT32, false, 4, 0x1000,
			    4, WR, &lin),
	      0);
	XT_EQ(xk_seg_linear(&down, XK_SEG_SS, XK_MODE_PROT32, false, 4, 0xfff,
			    4, WR, &lin),
	      XK_VEC_SS);
	XT_EQ(xk_seg_linear(&down, XK_SEG_DS, XK_MODE_PROT32, false, 4,
			    0xfffffffc, 4, RD, &lin),
	      0);
	XT_EQ(xk_seg_linear(&down, XK_SEG_DS, XK_MODE_PROT32, false, 4,
			    0xfffffffd, 4, RD, &lin),
	      XK_VEC_GP);
	XT_EQ(xk_seg_linear(&down16, XK_SEG_DS, XK_MODE_PROT16, false, 2,
			    0xfffe, 2, RD, &lin),
	      0);
	XT_EQ(xk_seg_linear(&down16, XK_SEG_DS, XK_MODE_PROT16, false, 2,
			    0xffff, 2, RD, &lin),
	      XK_VEC_GP);

	/* the linear address wraps at 4 GiB */
	XT_EQ(xk_seg_linear(&flat, XK_SEG_DS, XK_MODE_PROT32, false, 4, 0x2000,
			    4, RD, &lin),
	      0);
	XT_EQ(lin, 0x1000);
	/* a flat segment still ends at 4G-1 */
	XT_EQ(xk_seg_linear(&flat, XK_SEG_DS, XK_MODE_PROT32, false, 4,
			    0xfffffffe, 4, RD, &lin),
	      XK_VEC_GP);
	/* 16-bit address size in a 32-bit segment */
	XT_EQ(xk_seg_linear(&ds, XK_SEG_DS, XK_MODE_PROT32, false, 2, 0x10010,
			    1, RD, &lin),
	      0);
	XT_EQ(lin, 0x100010);
}

XT_TEST(seg, protected_types)
{
	struct kvm_segment code_xo = seg(0, 0xffffffff, 0x8, 1);
	struct kvm_segment code_xr = seg(0, 0xffffffff, 0xa, 1);
	struct kvm_segment data_ro = seg(0, 0xffffffff, 0x1, 1);
	struct kvm_segment data_rw = seg(0, 0xffffffff, 0x3, 1);
	struct kvm_segment unusable = seg(0, 0xffffffff, 0x3, 1);
	u64 lin;

	unusable.unusable = 1;
	XT_EQ(xk_seg_linear(&code_xo, XK_SEG_CS, XK_MODE_PROT32, false, 4, 0, 1,
			    EX, &lin),
	      0);
	XT_EQ(xk_seg_linear(&code_xo, XK_SEG_CS, XK_MODE_PROT32, false, 4, 0, 1,
			    RD, &lin),
	      XK_VEC_GP);
	XT_EQ(xk_seg_linear(&code_xr, XK_SEG_CS, XK_MODE_PROT32, false, 4, 0, 1,
			    RD, &lin),
	      0);
	XT_EQ(xk_seg_linear(&code_xr, XK_SEG_ES, XK_MODE_PROT32, false, 4, 0, 1,
			    WR, &lin),
	      XK_VEC_GP);
	XT_EQ(xk_seg_linear(&data_ro, XK_SEG_DS, XK_MODE_PROT32, false, 4, 0, 1,
			    RD, &lin),
	      0);
	XT_EQ(xk_seg_linear(&data_ro, XK_SEG_DS, XK_MODE_PROT32, false, 4, 0, 1,
			    WR, &lin),
	      XK_VEC_GP);
	XT_EQ(xk_seg_linear(&data_rw, XK_SEG_DS, XK_MODE_PROT32, false, 4, 0, 1,
			    EX, &lin),
	      XK_VEC_GP);
	XT_EQ(xk_seg_linear(&unusable, XK_SEG_FS, XK_MODE_PROT32, false, 4, 0,
			    1, RD, &lin),
	      XK_VEC_GP);
	XT_EQ(xk_seg_linear(&unusable, XK_SEG_SS, XK_MODE_PROT32, false, 4, 0,
			    1, RD, &lin),
	      XK_VEC_SS);
}
