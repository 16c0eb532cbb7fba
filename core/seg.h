/* SPDX-License-Identifier: GPL-2.0 */
/*
 * seg.h - segmentation: from segment and offset to a linear address, with
 * the checks the CPU makes on the way (SDM vol. 3 ch. 3 and 5.3, APM vol. 2
 * ch. 4).
 *
 * Theory.  The offset is first truncated to the address size (so 16-bit
 * addressing wraps at 64 KiB).  In 64-bit mode segmentation is flat: only
 * FS and GS have a base, there are no limits, and the linear address of
 * every byte accessed must be canonical (48 bits, or 57 with CR4.LA57).
 * In real and virtual-8086 mode the cached limit applies (normally 64 KiB;
 * "unreal" mode can raise it) and the type does not.  In protected mode
 * (including compatibility mode) the segment must be usable, its type must
 * allow the access (no writes to code or read-only data, no reads from
 * execute-only code, no fetches from data), and every byte must lie within
 * the limit: offset .. offset+size-1 <= limit for expand-up segments, and
 * limit < offset, offset+size-1 <= 64 KiB - 1 or 4 GiB - 1 (by D/B) for
 * expand-down data segments.  Outside 64-bit mode the linear address wraps
 * at 4 GiB.  A failed check is #SS(0) for the SS segment and #GP(0) for the
 * others.  The segment is the KVM ABI's struct kvm_segment, whose limit is
 * in bytes (already scaled by G).
 */
#ifndef XKVM_SEG_H
#define XKVM_SEG_H

#include "decode.h" /* enum xk_cpu_mode, XK_SEG_* */

#define XK_VEC_SS 12 /* stack-segment fault */
#define XK_VEC_GP 13 /* general protection */

/* Access kinds: the same values as gwalk.h's XK_ACC_* */
#define XK_SEGACC_READ 0x0u
#define XK_SEGACC_WRITE 0x1u
#define XK_SEGACC_FETCH 0x4u

/*
 * Linear address of size bytes at offset in segment s (whose register is
 * seg, XK_SEG_*), for an access of kind access, with addrsize (2, 4, 8)
 * the effective address size.  la57: CR4.LA57.  Returns 0 with *linear
 * set, or the exception vector (XK_VEC_GP or XK_VEC_SS, error code 0).
 */
int xk_seg_linear(const struct kvm_segment *s, int seg, enum xk_cpu_mode mode,
		  bool la57, unsigned int addrsize, u64 offset, u32 size,
		  unsigned int access, u64 *linear);

/* Is addr canonical for the given number of linear-address bits (48/57)? */
static inline bool xk_canonical(u64 addr, unsigned int bits)
{
	return (u64)((s64)(addr << (64 - bits)) >> (64 - bits)) == addr;
}

#endif /* XKVM_SEG_H */
