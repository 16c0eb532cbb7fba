/* SPDX-License-Identifier: GPL-2.0 */
/*
 * emul.h - the table-driven instruction emulator behind MMIO: it executes
 * one guest instruction on a private copy of the registers and reaches
 * memory only through the caller's callbacks.  The theory (re-execution,
 * what the caller keeps between runs, what is emulated) is at the top of
 * emul.c; the caller's side in short:
 *
 *	struct xk_emul e = { .ops = &ops, .ctx = my, .mode = mode,
 *			     .decode_flags = XK_DEC_AMD, .sregs = &sregs };
 *	struct xk_emul_regs regs = { gpr, rip, rflags of the vCPU };
 *
 *	xk_emul_cache_begin(&cache);    the read callback answers from it
 *	r = xk_emulate(&e, &regs, insn_bytes, n);
 *	XK_EMUL_DONE       copy regs back to the vCPU; forget the cache.
 *	                   e.more: a REP string instruction has elements
 *	                   left (RIP unchanged): run it again or re-enter
 *	                   the guest, which executes it again.
 *	XK_EMUL_EXIT       a callback sent an access to the VMM; nothing was
 *	                   committed.  When the VMM answers, add the read data
 *	                   to the cache and run again from the same bytes.
 *	XK_EMUL_FAULT      a callback queued an exception (#PF...); nothing
 *	                   committed; forget the cache.
 *	XK_EMUL_EXCEPTION  the emulator found one: queue e.vector (with
 *	                   e.error if e.has_error); nothing committed.
 *	XK_EMUL_UNHANDLED  not emulated (or a callback could not do the
 *	                   access): report the instruction bytes to the VMM.
 */
#ifndef XKVM_EMUL_H
#define XKVM_EMUL_H

#include "decode.h"

/* xk_emulate() results; 0, EXIT, FAULT, UNHANDLED are callback results too */
#define XK_EMUL_DONE 0
#define XK_EMUL_EXIT 1
#define XK_EMUL_FAULT 2
#define XK_EMUL_EXCEPTION 3
#define XK_EMUL_UNHANDLED 4

/* Limits the caller sizes its bookkeeping by (see emul.c) */
#define XK_EMUL_MAX_READS 2   /* read callbacks in one run */
#define XK_EMUL_MAX_WRITES 1  /* write callbacks in one run */
#define XK_EMUL_MAX_ACCESS 16 /* bytes in one callback (16: SSE moves) */
/* Entries of the read cache: the caller may record a read in pieces (KVM
 * splits an MMIO access at page boundaries and into 8-byte exits), at most
 * 3 for each read. */
#define XK_EMUL_CACHE_MAX (3 * XK_EMUL_MAX_READS)

/* The registers an instruction may change: RAX..R15 in encoding order. */
struct xk_emul_regs {
	u64 gpr[16];
	u64 rip;
	u64 rflags;
};

/*
 * Guest memory by linear address (segmentation already applied; paging is
 * the callback's).  len is 1..XK_EMUL_MAX_ACCESS; the access may cross a
 * page.  Return 0 (done: buf filled for a read), XK_EMUL_EXIT (the access
 * goes to the VMM: stop, run again later), XK_EMUL_FAULT (the callback
 * queued an exception for the guest) or XK_EMUL_UNHANDLED (the access
 * cannot be done, e.g. page tables outside guest memory).  Anything else
 * counts as XK_EMUL_UNHANDLED.
 */
struct xk_emul_ops {
	int (*read)(void *ctx, u64 la, void *buf, u32 len);
	int (*write)(void *ctx, u64 la, const void *buf, u32 len);
};

struct xk_emul {
	/* Set by the caller; not changed by xk_emulate(). */
	const struct xk_emul_ops *ops;
	void *ctx;                     /* the callbacks' first argument */
	enum xk_cpu_mode mode;         /* as for xk_decode() */
	unsigned int decode_flags;     /* XK_DEC_AMD: AMD decoding rules */
	const struct kvm_sregs *sregs; /* segments; CR0, CR4 */
	/* The guest's XMM0-15, 16 bytes each (the XMM area of an FXSAVE/XSAVE
	 * image), or NULL: the SSE moves are then not emulated.  Written only
	 * when XK_EMUL_DONE is returned, and then xmm_written is set. */
	u8 *xmm;
	/* The guest's CPUID lacks MOVBE: MOVBE raises #UD, as in Linux's
	 * emulator (the CPU itself may well execute it). */
	bool movbe_ud;
	/* The guest runs on an Intel CPU: a REP string instruction with a
	 * 32-bit address size and ECX = 0 in 64-bit mode clears RCX's upper
	 * half, and RDI's (STOS, MOVS) and RSI's (MOVS), as Intel's CPUs do;
	 * AMD's leave them.  Also Linux's emulator does this for Intel. */
	bool intel_rep_quirk;

	/* Set by xk_emulate(). */
	u8 len;         /* instruction length, once decoded (else 0) */
	bool more;      /* DONE: REP string not finished, RIP unchanged */
	u8 vector;      /* EXCEPTION: vector to raise */
	bool has_error; /* EXCEPTION: with an error code */
	u32 error;      /* EXCEPTION: the error code */
	/* True during a read callback whose location this instruction will
	 * write (a read-modify-write): a page walk for it should check write
	 * permission (a #PF then has W=1, as on the CPU). */
	bool rmw;
	u8 reads, writes; /* callbacks that returned 0 in this run */
	bool xmm_written; /* DONE: an XMM register in *xmm changed */
};

/*
 * Emulates the instruction in insn[0..n) (n <= 15 suffices; the bytes at
 * CS:RIP, fetched by the caller) with the registers *regs.  *regs changes
 * only when XK_EMUL_DONE is returned.  Returns XK_EMUL_*, see above.
 */
int xk_emulate(struct xk_emul *e, struct xk_emul_regs *regs, const u8 *insn,
	       u32 n);

/*
 * A read cache for the caller: the reads of one instruction, in the order
 * the runs make them.  Runs of the same instruction from the same registers
 * make the same reads in the same order as long as they get the same data,
 * so the k-th read of a run is answered by the k-th entry.  Usage:
 *  - xk_emul_cache_reset() when a new instruction starts (after DONE,
 *    FAULT, EXCEPTION, UNHANDLED, or if the vCPU's registers were changed
 *    by the VMM while an exit was pending);
 *  - xk_emul_cache_begin() before every xk_emulate() run;
 *  - in the read callback, xk_emul_cache_get() first; on a hit return 0;
 *    otherwise do the read, and if it completed (RAM) record it with
 *    xk_emul_cache_put() and return 0; if it goes to the VMM return
 *    XK_EMUL_EXIT and xk_emul_cache_put() the VMM's data before the next
 *    run.
 */
struct xk_emul_cache {
	u8 n;    /* reads recorded */
	u8 next; /* the next read of this run is entry [next] */
	struct {
		u64 la;
		u32 len;
		u8 data[XK_EMUL_MAX_ACCESS];
	} rd[XK_EMUL_CACHE_MAX];
};

void xk_emul_cache_reset(struct xk_emul_cache *c);
void xk_emul_cache_begin(struct xk_emul_cache *c);
/* Entry [next] if it is (la, len): copied to buf, true.  Else the entries
 * from [next] on are dropped (they belong to another history): false. */
bool xk_emul_cache_get(struct xk_emul_cache *c, u64 la, void *buf, u32 len);
/* Records the data of read [next] (la, len); false if there is no room or
 * len is too long (then answer XK_EMUL_UNHANDLED). */
bool xk_emul_cache_put(struct xk_emul_cache *c, u64 la, const void *buf,
		       u32 len);

#endif /* XKVM_EMUL_H */
