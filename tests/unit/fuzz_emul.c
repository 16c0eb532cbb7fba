// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_emul.c - libFuzzer target for core/emul.c (make -C tests/unit fuzz
 * F=emul).  The input gives the mode and vendor, 15 instruction bytes, the
 * registers and the segment registers, and seeds the answers of the
 * memory callbacks: done, exit to the VMM, fault, unhandled or a value
 * that is no callback result.  Memory is 4 KiB repeated over the whole
 * linear address space.  A driver plays the caller's part of the protocol
 * (read cache, write went out, REP elements) and checks:
 *  - xk_emulate() returns XK_EMUL_*; the registers change only on DONE,
 *    and then only GPRs, RIP (to the next instruction, or unchanged when
 *    a REP instruction goes on) and the six arithmetic flags;
 *  - a run makes at most 2 reads and 1 write, each of 1..8 bytes, and no
 *    callback after a write that returned 0 (which is then a DONE);
 *  - an instruction takes at most 4 runs (each exit adds a cache entry or
 *    sends the write), so re-runs are deterministic;
 *  - a DONE run repeated from the same registers with the final cache
 *    gives the same registers and the same write;
 *  - exceptions are #UD without error code, or #GP/#SS with 0;
 *  - no crash, no undefined behaviour (ASan, UBSan), no host_bug().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "emul.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ARITH 0x8d5ULL /* CF PF AF ZF SF OF */

struct fz {
	struct xk_emul e;
	struct xk_emul_cache cache;
	u64 rng;
	u8 mem[4096];
	/* this run */
	unsigned int calls, reads, writes;
	bool wrote;
	bool pend_read;
	u64 pend_la;
	u32 pend_len;
	bool pend_write;
	bool write_out;
	/* the write of the last DONE run */
	bool have_w;
	u64 w_la;
	u32 w_len;
	u8 w_data[XK_EMUL_MAX_ACCESS];
	bool replay; /* every callback completes (the determinism run) */
};

static u64 next_rnd(struct fz *f)
{
	u64 x = f->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	f->rng = x ? x : 0x9e3779b97f4a7c15ULL;
	return x;
}

/* The answer to a callback: mostly done, sometimes anything. */
static int answer(struct fz *f)
{
	u64 r = next_rnd(f) % 64;

	if (f->replay || r < 40)
		return 0;
	if (r < 54)
		return XK_EMUL_EXIT;
	if (r < 60)
		return XK_EMUL_FAULT;
	if (r < 62)
		return XK_EMUL_UNHANDLED;
	return -14 - (int)r;
}

static void check_call(struct fz *f, u32 len)
{
	f->calls++;
	if (len < 1 || len > XK_EMUL_MAX_ACCESS)
		abort();
	if (f->wrote) /* nothing after the write */
		abort();
	if (f->calls > XK_EMUL_MAX_READS + XK_EMUL_MAX_WRITES)
		abort();
}

static int fz_read(void *ctx, u64 la, void *buf, u32 len)
{
	struct fz *f = ctx;
	u32 i;
	int a;

	check_call(f, len);
	if (++f->reads > XK_EMUL_MAX_READS)
		abort();
	if (xk_emul_cache_get(&f->cache, la, buf, len))
		return 0;
	if (f->replay)
		abort(); /* the repeated run read something new */
	a = answer(f);
	if (a == XK_EMUL_EXIT) {
		f->pend_read = true;
		f->pend_la = la;
		f->pend_len = len;
		return a;
	}
	if (a)
		return a;
	for (i = 0; i < len; i++)
		((u8 *)buf)[i] = f->mem[(la + i) & 4095];
	if (!xk_emul_cache_put(&f->cache, la, buf, len))
		abort();
	return 0;
}

static int fz_write(void *ctx, u64 la, const void *buf, u32 len)
{
	struct fz *f = ctx;
	int a;

	check_call(f, len);
	if (++f->writes > XK_EMUL_MAX_WRITES)
		abort();
	a = f->write_out ? 0 : answer(f);
	if (a == XK_EMUL_EXIT) {
		f->pend_write = true;
		return a;
	}
	if (a)
		return a;
	f->wrote = true;
	f->have_w = true;
	f->w_la = la;
	f->w_len = len;
	memcpy(f->w_data, buf, len);
	return 0;
}

static const struct xk_emul_ops fz_ops = { fz_read, fz_write };

/* Little-endian bytes from the input, zeros past its end. */
static u64 take(const uint8_t **p, size_t *n, unsigned int bytes)
{
	u64 v = 0;
	unsigned int i;

	for (i = 0; i < bytes; i++) {
		if (*n) {
			v |= (u64) * *p << (8 * i);
			(*p)++;
			(*n)--;
		}
	}
	return v;
}

static void take_seg(struct kvm_segment *s, const uint8_t **p, size_t *n)
{
	u64 v = take(p, n, 8);

	s->base = take(p, n, 1) & 1 ? v : v & 0xffffffffULL;
	s->limit = (u32)take(p, n, 4);
	v = take(p, n, 1);
	s->type = v & 15;
	s->present = !(v & 0x10);
	s->s = !(v & 0x20);
	s->db = !!(v & 0x40);
	s->unusable = !!(v & 0x80);
}

static void run_one(struct fz *f, struct xk_emul_regs *regs, const u8 *insn)
{
	unsigned int element, runs;

	for (element = 0; element < 3; element++) {
		struct xk_emul_regs start = *regs;
		int r = XK_EMUL_EXIT;

		xk_emul_cache_reset(&f->cache);
		f->write_out = false;
		for (runs = 0; r == XK_EMUL_EXIT; runs++) {
			if (runs >= 4)
				abort(); /* re-runs do not converge */
			f->calls = f->reads = f->writes = 0;
			f->wrote = f->pend_read = f->pend_write = false;
			f->have_w = false;
			xk_emul_cache_begin(&f->cache);
			r = xk_emulate(&f->e, regs, insn, XK_INSN_MAX);
			if (r < XK_EMUL_DONE || r > XK_EMUL_UNHANDLED)
				abort();
			/* e.reads counts the reads that returned 0 */
			if (f->e.reads > f->reads ||
			    f->e.reads + 1 < f->reads ||
			    f->e.writes != (f->wrote ? 1 : 0) ||
			    (r == XK_EMUL_DONE && f->e.reads != f->reads))
				abort();
			if (r != XK_EMUL_DONE &&
			    memcmp(regs, &start, sizeof(start)))
				abort();
			if (f->wrote && r != XK_EMUL_DONE)
				abort();
			if (r == XK_EMUL_EXIT) {
				if (f->pend_read) {
					u8 d[XK_EMUL_MAX_ACCESS];
					u32 i;

					for (i = 0; i < f->pend_len; i++)
						d[i] = f->mem[(f->pend_la + i) &
							      4095];
					if (!xk_emul_cache_put(&f->cache,
							       f->pend_la, d,
							       f->pend_len))
						abort();
				} else if (f->pend_write) {
					f->write_out = true;
				} else {
					abort(); /* EXIT not from a callback */
				}
			}
		}
		if (r == XK_EMUL_EXCEPTION) {
			/* #UD and #NM (the SSE moves) have no error code */
			if (f->e.vector == 6 || f->e.vector == 7 ?
				    f->e.has_error :
				    (f->e.vector != 12 && f->e.vector != 13) ||
					    !f->e.has_error || f->e.error)
				abort();
		}
		if (r != XK_EMUL_DONE)
			return;
		if ((regs->rflags ^ start.rflags) & ~ARITH)
			abort();
		if (f->e.len < 1 || f->e.len > XK_INSN_MAX)
			abort();
		if (f->e.more) {
			if (regs->rip != start.rip)
				abort();
		} else {
			u64 next = start.rip + f->e.len;

			if (f->e.mode == XK_MODE_PROT32)
				next &= 0xffffffffULL;
			else if (f->e.mode != XK_MODE_LONG64)
				next &= 0xffff;
			if (regs->rip != next)
				abort();
		}
		/* the same run again, from the cache: the same outcome */
		{
			struct xk_emul_regs again = start, done = *regs;
			bool had_w = f->have_w;
			u64 wla = f->w_la;
			u32 wlen = f->w_len;
			u8 wd[XK_EMUL_MAX_ACCESS];

			memcpy(wd, f->w_data, sizeof(wd));
			f->replay = true;
			f->write_out = true;
			f->calls = f->reads = f->writes = 0;
			f->wrote = f->have_w = false;
			xk_emul_cache_begin(&f->cache);
			r = xk_emulate(&f->e, &again, insn, XK_INSN_MAX);
			f->replay = false;
			if (r != XK_EMUL_DONE ||
			    memcmp(&again, &done, sizeof(done)) ||
			    had_w != f->have_w)
				abort();
			if (had_w && (wla != f->w_la || wlen != f->w_len ||
				      memcmp(wd, f->w_data, wlen)))
				abort();
		}
		if (!f->e.more)
			return;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz f;
	static u8 xmm[256];
	struct kvm_sregs sregs;
	struct xk_emul_regs regs;
	u8 insn[XK_INSN_MAX];
	const uint8_t *p = data;
	size_t n = size;
	unsigned int i;
	u64 b0;
	u8 c;

	if (size < 1 + 8 + XK_INSN_MAX)
		return 0;
	memset(&f, 0, sizeof(f));
	memset(&sregs, 0, sizeof(sregs));
	b0 = take(&p, &n, 1);
	f.rng = take(&p, &n, 8) | 1;
	for (i = 0; i < XK_INSN_MAX; i++)
		insn[i] = (u8)take(&p, &n, 1);
	for (i = 0; i < 16; i++)
		regs.gpr[i] = take(&p, &n, 8);
	regs.rip = take(&p, &n, 8);
	regs.rflags = take(&p, &n, 8);
	take_seg(&sregs.cs, &p, &n);
	take_seg(&sregs.ds, &p, &n);
	take_seg(&sregs.es, &p, &n);
	take_seg(&sregs.ss, &p, &n);
	take_seg(&sregs.fs, &p, &n);
	take_seg(&sregs.gs, &p, &n);
	c = (u8)take(&p, &n, 1);
	sregs.cr4 = (c & 1 ? 1ULL << 12 : 0) | (c & 2 ? 0x200 : 0); /* OSFXSR */
	sregs.cr0 = c & 4 ? 0x8 : 0;                                /* TS */
	for (i = 0; i < sizeof(f.mem); i++)
		f.mem[i] = (u8)(i * 131 + (b0 >> 4));

	f.e.ops = &fz_ops;
	f.e.ctx = &f;
	f.e.mode = (enum xk_cpu_mode)(b0 % 5);
	f.e.decode_flags = b0 & 0x80 ? XK_DEC_AMD : 0;
	f.e.sregs = &sregs;
	f.e.xmm = c & 8 ? xmm : NULL; /* the SSE moves */
	f.e.movbe_ud = c & 16;
	run_one(&f, &regs, insn);
	return 0;
}
