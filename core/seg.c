// SPDX-License-Identifier: GPL-2.0
/*
 * seg.c - segment + offset to linear address; the theory is in seg.h.
 */
#include "seg.h"

/* kvm_segment.type bits (descriptor type field) */
#define TYPE_CODE 0x8
#define TYPE_RW 0x2   /* data: writable; code: readable */
#define TYPE_DOWN 0x4 /* data: expand-down */

static int fault(int seg)
{
	return seg == XK_SEG_SS ? XK_VEC_SS : XK_VEC_GP;
}

int xk_seg_linear(const struct kvm_segment *s, int seg, enum xk_cpu_mode mode,
		  bool la57, unsigned int addrsize, u64 offset, u32 size,
		  unsigned int access, u64 *linear)
{
	u64 last, lin;

	if (!size)
		size = 1;
	if (addrsize == 2)
		offset &= 0xffff;
	else if (addrsize == 4)
		offset &= 0xffffffffULL;
	last = offset + size - 1;

	if (mode == XK_MODE_LONG64) {
		unsigned int bits = la57 ? 57 : 48;
		u64 base = seg == XK_SEG_FS || seg == XK_SEG_GS ? s->base : 0;

		lin = base + offset;
		if (!xk_canonical(lin, bits) ||
		    !xk_canonical(lin + size - 1, bits))
			return fault(seg);
		*linear = lin;
		return 0;
	}

	if (mode == XK_MODE_PROT16 || mode == XK_MODE_PROT32) {
		bool code = s->type & TYPE_CODE;

		if (s->unusable || !s->present || !s->s)
			return fault(seg);
		if (access & XK_SEGACC_FETCH) {
			if (!code)
				return fault(seg);
		} else if (access & XK_SEGACC_WRITE) {
			if (code || !(s->type & TYPE_RW))
				return fault(seg);
		} else if (code && !(s->type & TYPE_RW)) {
			return fault(seg); /* execute-only */
		}
		if (!code && (s->type & TYPE_DOWN)) {
			u64 upper = s->db ? 0xffffffffULL : 0xffffULL;

			if (offset <= s->limit || last > upper)
				return fault(seg);
		} else if (last > s->limit) {
			return fault(seg);
		}
	} else if (last > s->limit) {
		/* real and virtual-8086 mode: the cached limit only */
		return fault(seg);
	}
	*linear = (s->base + offset) & 0xffffffffULL;
	return 0;
}
