// SPDX-License-Identifier: GPL-2.0
/*
 * test_emul.c - core/emul.c: the exit/re-run protocol, REP string
 * instructions element by element, address sizes and wrapping, segments
 * and modes, exceptions from the emulator and faults from the callbacks,
 * LOCK, unsupported instructions, and the caller's read cache.  The
 * results of the operations themselves are compared with the CPU in
 * test_emul_native.c.
 *
 * The fake guest memory is a few regions of linear addresses, each RAM
 * (callbacks complete) or MMIO (a read exits and is answered before the
 * next run; a write is deferred to DONE, or exits when wexit is set), with
 * a log of every callback.
 */
#include <stdio.h>
#include <string.h>

#include "emul.h"
#include "xtest.h"

#define CF 0x001ULL
#define PF 0x004ULL
#define AF 0x010ULL
#define ZF 0x040ULL
#define SF 0x080ULL
#define DF 0x400ULL
#define OF 0x800ULL

#define RAX 0
#define RCX 1
#define RDX 2
#define RBX 3
#define RSP 4
#define RBP 5
#define RSI 6
#define RDI 7

struct region {
	u64 base;
	u32 size;
	bool mmio;
	u8 bytes[0x28000];
};

struct logent {
	bool write;
	u64 la;
	u32 len;
	u64 val;
	int ret;
	bool rmw;
};

struct fake {
	struct region *rg[4];
	unsigned int nrg;
	bool wexit;    /* MMIO writes exit (else deferred to DONE) */
	int read_ret;  /* forced answer of the next read (0: none) */
	int write_ret; /* forced answer of the next write (0: none) */
	struct xk_emul e;
	struct xk_emul_cache cache;
	/* what the last run asked of the VMM */
	bool pend_read, pend_write;
	u64 pend_la;
	u32 pend_len;
	u64 pend_val;
	bool write_out; /* wexit: the write of this instruction went out */
	/* log of callbacks, all runs */
	struct logent log[32];
	unsigned int nlog;
	unsigned int vmm_reads, vmm_writes;
};

static struct region *find(struct fake *f, u64 la, u32 len)
{
	unsigned int i;

	for (i = 0; i < f->nrg; i++)
		if (la >= f->rg[i]->base &&
		    la - f->rg[i]->base + len <= f->rg[i]->size)
			return f->rg[i];
	return NULL;
}

static u64 le(const u8 *p, u32 len)
{
	u64 v = 0;
	u32 i;

	for (i = 0; i < len && i < 8; i++) /* 16-byte: the low half */
		v |= (u64)p[i] << (8 * i);
	return v;
}

static void logit(struct fake *f, bool write, u64 la, u32 len, u64 val, int ret)
{
	if (f->nlog < XK_ARRAY_SIZE(f->log)) {
		struct logent *l = &f->log[f->nlog++];

		l->write = write;
		l->la = la;
		l->len = len;
		l->val = val;
		l->ret = ret;
		l->rmw = f->e.rmw;
	}
}

static int f_read(void *ctx, u64 la, void *buf, u32 len)
{
	struct fake *f = ctx;
	struct region *r;
	int ret;

	if (len < 1 || len > XK_EMUL_MAX_ACCESS)
		XT_FAIL("read of %u bytes", len);
	if (xk_emul_cache_get(&f->cache, la, buf, len)) {
		logit(f, false, la, len, le(buf, len), 0);
		return 0;
	}
	if (f->read_ret) {
		ret = f->read_ret;
		f->read_ret = 0;
		logit(f, false, la, len, 0, ret);
		return ret;
	}
	r = find(f, la, len);
	if (!r) {
		logit(f, false, la, len, 0, XK_EMUL_FAULT);
		return XK_EMUL_FAULT; /* as if a #PF was queued */
	}
	if (r->mmio) {
		f->pend_read = true;
		f->pend_la = la;
		f->pend_len = len;
		logit(f, false, la, len, 0, XK_EMUL_EXIT);
		return XK_EMUL_EXIT;
	}
	memcpy(buf, r->bytes + (la - r->base), len);
	XT_ASSERT(xk_emul_cache_put(&f->cache, la, buf, len));
	logit(f, false, la, len, le(buf, len), 0);
	return 0;
}

static int f_write(void *ctx, u64 la, const void *buf, u32 len)
{
	struct fake *f = ctx;
	struct region *r;
	int ret;

	if (len < 1 || len > XK_EMUL_MAX_ACCESS)
		XT_FAIL("write of %u bytes", len);
	if (f->write_ret) {
		ret = f->write_ret;
		f->write_ret = 0;
		logit(f, true, la, len, le(buf, len), ret);
		return ret;
	}
	r = find(f, la, len);
	if (!r) {
		logit(f, true, la, len, le(buf, len), XK_EMUL_FAULT);
		return XK_EMUL_FAULT;
	}
	if (r->mmio && f->wexit && f->write_out) {
		logit(f, true, la, len, le(buf, len), 0);
		return 0; /* went out in an earlier run */
	}
	if (r->mmio) {
		f->pend_write = true;
		f->pend_la = la;
		f->pend_len = len;
		f->pend_val = le(buf, len);
		ret = f->wexit ? XK_EMUL_EXIT : 0;
		logit(f, true, la, len, f->pend_val, ret);
		return ret;
	}
	memcpy(r->bytes + (la - r->base), buf, len);
	logit(f, true, la, len, le(buf, len), 0);
	return 0;
}

static const struct xk_emul_ops fops = { f_read, f_write };

static void seg_flat(struct kvm_segment *s, u8 type)
{
	memset(s, 0, sizeof(*s));
	s->type = type;
	s->present = 1;
	s->s = 1;
	s->limit = 0xffffffff;
	s->g = 1;
	s->db = 1;
}

static struct kvm_sregs sregs64(void)
{
	struct kvm_sregs s;

	memset(&s, 0, sizeof(s));
	seg_flat(&s.cs, 0xb);
	s.cs.l = 1;
	s.cs.db = 0;
	seg_flat(&s.ds, 3);
	seg_flat(&s.es, 3);
	seg_flat(&s.ss, 3);
	seg_flat(&s.fs, 3);
	seg_flat(&s.gs, 3);
	s.cr0 = 0x80000011;
	s.efer = 0x500;
	return s;
}

static struct kvm_sregs sregs_real(u16 ds, u16 es, u16 ss)
{
	struct kvm_sregs s;

	memset(&s, 0, sizeof(s));
	s.cs.limit = s.ds.limit = s.es.limit = s.ss.limit = 0xffff;
	s.fs.limit = s.gs.limit = 0xffff;
	s.cs.type = 0xb;
	s.ds.type = s.es.type = s.ss.type = s.fs.type = s.gs.type = 3;
	s.cs.present = s.ds.present = s.es.present = s.ss.present = 1;
	s.fs.present = s.gs.present = 1;
	s.cs.s = s.ds.s = s.es.s = s.ss.s = s.fs.s = s.gs.s = 1;
	s.ds.base = (u64)ds << 4;
	s.es.base = (u64)es << 4;
	s.ss.base = (u64)ss << 4;
	s.cr0 = 0x10;
	return s;
}

static struct fake *fake_new(enum xk_cpu_mode mode,
			     const struct kvm_sregs *sregs)
{
	static struct fake f;

	memset(&f, 0, sizeof(f));
	f.e.ops = &fops;
	f.e.ctx = &f;
	f.e.mode = mode;
	f.e.decode_flags = XK_DEC_AMD;
	f.e.sregs = sregs;
	xk_emul_cache_reset(&f.cache);
	return &f;
}

static struct region *region_add(struct fake *f, unsigned int slot, u64 base,
				 u32 size, bool mmio)
{
	static struct region rgs[4];
	struct region *r = &rgs[slot];

	XT_ASSERT(size <= sizeof(r->bytes));
	memset(r, 0, sizeof(*r));
	r->base = base;
	r->size = size;
	r->mmio = mmio;
	f->rg[slot] = r;
	if (f->nrg <= slot)
		f->nrg = slot + 1;
	return r;
}

/* One run; the caller looks at what it asked for. */
static int run1(struct fake *f, struct xk_emul_regs *regs, const u8 *insn,
		u32 n)
{
	f->pend_read = f->pend_write = false;
	xk_emul_cache_begin(&f->cache);
	return xk_emulate(&f->e, regs, insn, n);
}

/* The VMM answers the pending access; the next run may go on. */
static void vmm_answer(struct fake *f)
{
	if (f->pend_read) {
		struct region *r = find(f, f->pend_la, f->pend_len);

		XT_ASSERT(r);
		XT_ASSERT(xk_emul_cache_put(&f->cache, f->pend_la,
					    r->bytes + (f->pend_la - r->base),
					    f->pend_len));
		f->vmm_reads++;
	} else if (f->pend_write) {
		struct region *r = find(f, f->pend_la, f->pend_len);
		u32 i;

		XT_ASSERT(r);
		for (i = 0; i < f->pend_len; i++)
			r->bytes[f->pend_la - r->base + i] =
				(u8)(f->pend_val >> (8 * i));
		f->vmm_writes++;
		f->write_out = true;
	}
	f->pend_read = f->pend_write = false;
}

/*
 * The whole protocol for one instruction (one REP element): runs until
 * the result is not EXIT; returns it, *runs the number of runs.
 */
static int run_all(struct fake *f, struct xk_emul_regs *regs, const u8 *insn,
		   u32 n, int *runs)
{
	struct xk_emul_regs before = *regs;
	int r, k = 0;

	xk_emul_cache_reset(&f->cache);
	f->write_out = false;
	for (;;) {
		k++;
		r = run1(f, regs, insn, n);
		if (r != XK_EMUL_EXIT)
			break;
		XT_MEMEQ(regs, &before, sizeof(before));
		XT_ASSERT(f->pend_read || f->pend_write);
		vmm_answer(f);
		XT_ASSERT(k < 8);
	}
	if (r == XK_EMUL_DONE && f->pend_write)
		vmm_answer(f); /* the deferred MMIO write */
	if (r != XK_EMUL_DONE)
		XT_MEMEQ(regs, &before, sizeof(before));
	if (runs)
		*runs = k;
	return r;
}

static struct xk_emul_regs regs_init(u64 rip)
{
	struct xk_emul_regs r;
	unsigned int i;

	for (i = 0; i < 16; i++)
		r.gpr[i] = 0x1111111111111111ULL * (i + 1);
	r.rip = rip;
	r.rflags = 0x2;
	return r;
}

static u32 rd32(const struct region *r, u64 la)
{
	return (u32)le(r->bytes + (la - r->base), 4);
}

static void wr32(struct region *r, u64 la, u32 v)
{
	memcpy(r->bytes + (la - r->base), &v, 4);
}

#define BYTES(...) ((const u8[]){ __VA_ARGS__ })
#define NB(...) sizeof((const u8[]){ __VA_ARGS__ })
#define EMU(f, regs, ...) \
	run_all((f), (regs), BYTES(__VA_ARGS__), NB(__VA_ARGS__), NULL)

/* ---- the protocol ---------------------------------------------------- */

/* or dword [rbx], 4 on MMIO: a read exit, then the (deferred) write */
XT_TEST(emul, rmw_read_exit_then_write)
{
	struct kvm_sregs s = sregs64();
	struct fake *f = fake_new(XK_MODE_LONG64, &s);
	struct region *mm = region_add(f, 0, 0xfee00000, 0x1000, true);
	struct xk_emul_regs regs = regs_init(0x401000), r0;
	static const u8 insn[] = { 0x83, 0x0b, 0x04 };
	int r;

	wr32(mm, 0xfee00010, 0x80000001);
	regs.gpr[RBX] = 0xfee00010;
	r0 = regs;
	/* run 1: the read goes to the VMM, nothing changes */
	r = run1(f, &regs, insn, sizeof(insn));
	XT_EQ(r, XK_EMUL_EXIT);
	XT_ASSERT(f->pend_read);
	XT_EQ(f->pend_la, 0xfee00010);
	XT_EQ(f->pend_len, 4);
	XT_ASSERT(f->log[0].rmw); /* the read of a read-modify-write */
	XT_EQ(f->e.reads, 0);
	XT_EQ(f->e.writes, 0);
	XT_MEMEQ(&regs, &r0, sizeof(regs));
	vmm_answer(f);
	/* run 2: the read comes from the cache; the write is the last step */
	r = run1(f, &regs, insn, sizeof(insn));
	XT_EQ(r, XK_EMUL_DONE);
	XT_ASSERT(f->pend_write);
	XT_EQ(f->pend_la, 0xfee00010);
	XT_EQ(f->pend_val, 0x80000005);
	XT_EQ(f->e.reads, 1);
	XT_EQ(f->e.writes, 1);
	XT_EQ(f->e.len, 3);
	XT_EQ(regs.rip, 0x401003);
	XT_EQ(regs.rflags & (CF | ZF | SF | OF | PF), SF | PF);
	XT_EQ(regs.gpr[RBX], r0.gpr[RBX]);
	vmm_answer(f);
	XT_EQ(rd32(mm, 0xfee00010), 0x80000005);
	XT_EQ(f->vmm_reads, 1);
	XT_EQ(f->vmm_writes, 1);
}

/* The same with writes that exit: read exit, write exit, then DONE without
 * sending the write again. */
XT_TEST(emul, rmw_write_exit_not_repeated)
{
	struct kvm_sregs s = sregs64();
	struct fake *f = fake_new(XK_MODE_LONG64, &s);
	struct region *mm = region_add(f, 0, 0xfee00000, 0x1000, true);
	struct xk_emul_regs regs = regs_init(0x401000);
	int runs = 0, r;

	f->wexit = true;
	wr32(mm, 0xfee00020, 0xfffffffe);
	regs.gpr[RSI] = 0xfee00020;
	/* lock inc dword [rsi] */
	r = run_all(f, &regs, BYTES(0xf0, 0xff, 0x06), 3, &runs);
	XT_EQ(r, XK_EMUL_DONE);
	XT_EQ(runs, 3);
	XT_EQ(f->vmm_reads, 1);
	XT_EQ(f->vmm_writes, 1);
	XT_EQ(rd32(mm, 0xfee00020), 0xffffffff);
	XT_EQ(regs.rip, 0x401003);
	XT_EQ(regs.rflags & (ZF | SF | CF), SF);
}

/* MOV forms: a read is one exit; a write needs none (deferred) */
XT_TEST(emul, mov_forms)
{
	struct kvm_sregs s = sregs64();
	struct fake *f = fake_new(XK_MODE_LONG64, &s);
	struct region *mm = region_add(f, 0, 0xfed00000, 0x1000, true);
	struct xk_emul_regs regs = regs_init(0x1000);
	int runs = 0;

	wr32(mm, 0xfed00100, 0xdeadbeef);
	regs.gpr[RDI] = 0xfed00100;
	/* mov eax, [rdi]: zero-extends */
	XT_EQ(run_all(f, &regs, BYTES(0x8b, 0x07), 2, &runs), XK_EMUL_DONE);
	XT_EQ(runs, 2);
	XT_EQ(regs.gpr[RAX], 0xdeadbeef);
	/* mov ah, [rdi] (no REX: AH) */
	XT_EQ(EMU(f, &regs, 0x8a, 0x27), XK_EMUL_DONE);
	XT_EQ(regs.gpr[RAX], 0xdeadefef);
	/* movsx rcx, word [rdi] */
	XT_EQ(EMU(f, &regs, 0x48, 0x0f, 0xbf, 0x0f), XK_EMUL_DONE);
	XT_EQ(regs.gpr[RCX], 0xffffffffffffbeefULL);
	/* movzx edx, byte [rdi+3] */
	XT_EQ(EMU(f, &regs, 0x0f, 0xb6, 0x57, 0x03), XK_EMUL_DONE);
	XT_EQ(regs.gpr[RDX], 0xde);
	/* mov [rdi+4], sil (REX: SIL, not DH) */
	regs.gpr[RSI] = 0x1234567890abcd42ULL;
	XT_EQ(run_all(f, &regs, BYTES(0x40, 0x88, 0x77, 0x04), 4, &runs),
	      XK_EMUL_DONE);
	XT_EQ(runs, 1);
	XT_EQ(mm->bytes[0x104], 0x42);
	/* mov [rdi+8], dh */
	regs.gpr[RDX] = 0x9a00;
	XT_EQ(EMU(f, &regs, 0x88, 0x77, 0x08), XK_EMUL_DONE);
	XT_EQ(mm->bytes[0x108], 0x9a);
	/* mov qword [rdi+16], imm32 sign-extended */
	XT_EQ(EMU(f, &regs, 0x48, 0xc7, 0x47, 0x10, 0x00, 0x00, 0x00, 0x80),
	      XK_EMUL_DONE);
	XT_EQ(le(mm->bytes + 0x110, 8), 0xffffffff80000000ULL);
	/* movabs eax, [moffs64] */
	XT_EQ(EMU(f, &regs, 0xa1, 0x00, 0x01, 0xd0, 0xfe, 0, 0, 0, 0),
	      XK_EMUL_DONE);
	XT_EQ(regs.gpr[RAX], 0xdeadbeef);
	/* movnti [rdi+0x20], rsi */
	XT_EQ(EMU(f, &regs, 0x48, 0x0f, 0xc3, 0x77, 0x20), XK_EMUL_DONE);
	XT_EQ(le(mm->bytes + 0x120, 8), 0x1234567890abcd42ULL);
	/* movbe eax, [rdi]; movbe [rdi+0x28], si */
	XT_EQ(EMU(f, &regs, 0x0f, 0x38, 0xf0, 0x07), XK_EMUL_DONE);
	XT_EQ(regs.gpr[RAX], 0xefbeadde);
	XT_EQ(EMU(f, &regs, 0x66, 0x0f, 0x38, 0xf1, 0x77, 0x28), XK_EMUL_DONE);
	XT_EQ(le(mm->bytes + 0x128, 2), 0x42cd);
	/* without MOVBE in the guest's CPUID: #UD, nothing changes; the
	 * source is read first, as Linux does (a load: one read exit) */
	f->e.movbe_ud = true;
	f->vmm_reads = f->vmm_writes = 0;
	regs.gpr[RAX] = 0;
	XT_EQ(EMU(f, &regs, 0x0f, 0x38, 0xf0, 0x07), XK_EMUL_EXCEPTION);
	XT_EQ(f->e.vector, 6);
	XT_ASSERT(!f->e.has_error);
	XT_EQ(regs.gpr[RAX], 0);
	XT_EQ(f->vmm_reads, 1);
	XT_EQ(EMU(f, &regs, 0x66, 0x0f, 0x38, 0xf1, 0x77, 0x28),
	      XK_EMUL_EXCEPTION);
	XT_EQ(f->e.vector, 6);
	XT_EQ(f->vmm_writes, 0);
	f->e.movbe_ud = false;
	/* mov eax, [rip+disp32] */
	regs.rip = 0xfed00000 - 6 - 0x10;
	XT_EQ(EMU(f, &regs, 0x8b, 0x05, 0x10, 0x01, 0, 0), XK_EMUL_DONE);
	XT_EQ(regs.gpr[RAX], 0xdeadbeef);
	XT_EQ(regs.rip, 0xfed00000 - 0x10);
}

/* XCHG, XADD, CMPXCHG to MMIO: one read exit, one write */
XT_TEST(emul, xchg_xadd_cmpxchg)
{
	struct kvm_sregs s = sregs64();
	struct fake *f = fake_new(XK_MODE_LONG64, &s);
	struct region *mm = region_add(f, 0, 0xc0000000, 0x1000, true);
	struct xk_emul_regs regs = regs_init(0x1000);
	int runs = 0;

	regs.gpr[RBX] = 0xc0000040;
	wr32(mm, 0xc0000040, 10);
	regs.gpr[RCX] = 0xffffffff00000005ULL;
	/* xchg [rbx], ecx */
	XT_EQ(run_all(f, &regs, BYTES(0x87, 0x0b), 2, &runs), XK_EMUL_DONE);
	XT_EQ(runs, 2);
	XT_EQ(regs.gpr[RCX], 10);
	XT_EQ(rd32(mm, 0xc0000040), 5);
	/* lock xadd [rbx], ecx */
	XT_EQ(EMU(f, &regs, 0xf0, 0x0f, 0xc1, 0x0b), XK_EMUL_DONE);
	XT_EQ(regs.gpr[RCX], 5);
	XT_EQ(rd32(mm, 0xc0000040), 15);
	/* lock cmpxchg [rbx], edx: equal */
	regs.gpr[RAX] = 0xaaaaaaaa0000000fULL;
	regs.gpr[RDX] = 77;
	XT_EQ(EMU(f, &regs, 0xf0, 0x0f, 0xb1, 0x13), XK_EMUL_DONE);
	XT_ASSERT(regs.rflags & ZF);
	XT_EQ(regs.gpr[RAX], 0xaaaaaaaa0000000fULL);
	XT_EQ(rd32(mm, 0xc0000040), 77);
	/* not equal: EAX loaded (zero-extended), and the value read is
	 * written back (Linux: "create write-cycle to dest") */
	f->nlog = 0;
	wr32(mm, 0xc0000040, 78);
	XT_EQ(EMU(f, &regs, 0xf0, 0x0f, 0xb1, 0x13), XK_EMUL_DONE);
	XT_ASSERT(!(regs.rflags & ZF));
	XT_EQ(regs.gpr[RAX], 78);
	XT_EQ(f->vmm_writes, 4);
	XT_EQ(rd32(mm, 0xc0000040), 78);
	XT_EQ(f->nlog, 3); /* read exit, the read from the cache, the write */
	XT_ASSERT(f->log[2].write);
	XT_EQ(f->log[2].val, 78);
}

/* BT/BTS with a register bit offset reach around EA, signed */
XT_TEST(emul, bt_bit_offset_addressing)
{
	struct kvm_sregs s = sregs64();
	struct fake *f = fake_new(XK_MODE_LONG64, &s);
	struct region *mm = region_add(f, 0, 0x10000, 0x1000, true);
	struct xk_emul_regs regs = regs_init(0x1000);

	regs.gpr[RBX] = 0x10800;
	/* bts dword [rbx], eax with eax = 35: dword at +4, bit 3 */
	regs.gpr[RAX] = 35;
	XT_EQ(EMU(f, &regs, 0x0f, 0xab, 0x03), XK_EMUL_DONE);
	XT_EQ(rd32(mm, 0x10804), 8);
	XT_ASSERT(!(regs.rflags & CF));
	/* bt [rbx], eax with eax = -29: dword at -4, bit 3 */
	wr32(mm, 0x107fc, 8);
	regs.gpr[RAX] = (u32)-29;
	XT_EQ(EMU(f, &regs, 0x0f, 0xa3, 0x03), XK_EMUL_DONE);
	XT_ASSERT(regs.rflags & CF);
	XT_EQ(f->log[f->nlog - 1].la, 0x107fc);
	/* 64-bit: btr qword [rbx], rax with rax = -1: qword at -8, bit 63 */
	regs.gpr[RAX] = ~0ULL;
	mm->bytes[0x7ff] = 0x80;
	XT_EQ(EMU(f, &regs, 0x48, 0x0f, 0xb3, 0x03), XK_EMUL_DONE);
	XT_ASSERT(regs.rflags & CF);
	XT_EQ(mm->bytes[0x7ff], 0);
	/* 16-bit: btc word [rbx], ax with ax = 0x8000 (-32768): -4096 bytes
	 * is outside the region: the callback faults */
	regs.gpr[RAX] = 0x8000;
	XT_EQ(EMU(f, &regs, 0x66, 0x0f, 0xbb, 0x03), XK_EMUL_FAULT);
	XT_EQ(f->log[f->nlog - 1].la, 0x10800 - 4096);
	/* immediate form: no address adjustment, bit mod 32 */
	wr32(mm, 0x10800, 0);
	XT_EQ(EMU(f, &regs, 0x0f, 0xba, 0x2b, 0x21), XK_EMUL_DONE);
	XT_EQ(rd32(mm, 0x10800), 2);
}

/* ---- REP string instructions ---------------------------------------- */

/* rep stosd to MMIO, DF=0 then DF=1: one element per run, RIP stays */
XT_TEST(emul, rep_stos_elementwise)
{
	struct kvm_sregs s = sregs64();
	struct fake *f = fake_new(XK_MODE_LONG64, &s);
	struct region *mm = region_add(f, 0, 0xa0000, 0x1000, true);
	struct xk_emul_regs regs = regs_init(0x7c00);
	unsigned int i, df;

	for (df = 0; df < 2; df++) {
		regs.rip = 0x7c00;
		regs.gpr[RCX] = 4;
		regs.gpr[RDI] = df ? 0xa010c : 0xa0100;
		regs.gpr[RAX] = 0x11223344 + df;
		regs.rflags = df ? 0x2 | DF : 0x2;
		for (i = 0; i < 4; i++) {
			XT_EQ(EMU(f, &regs, 0xf3, 0xab), XK_EMUL_DONE);
			XT_EQ(f->e.more, i < 3);
			XT_EQ(regs.rip, i < 3 ? 0x7c00 : 0x7c02);
			XT_EQ(regs.gpr[RCX], 3 - i);
		}
		XT_EQ(regs.gpr[RDI], df ? 0xa00fc : 0xa0110);
		for (i = 0; i < 4; i++)
			XT_EQ(rd32(mm, 0xa0100 + 4 * i), 0x11223344 + df);
	}
	/* rcx = 0: no access, RIP moves on */
	f->nlog = 0;
	regs.gpr[RCX] = 0;
	regs.rip = 0x7c00;
	XT_EQ(EMU(f, &regs, 0xf3, 0xab), XK_EMUL_DONE);
	XT_EQ(f->nlog, 0);
	XT_ASSERT(!f->e.more);
	XT_EQ(regs.rip, 0x7c02);
}

/* rep movsb from RAM to MMIO and MMIO to MMIO */
XT_TEST(emul, rep_movs_ram_and_mmio)
{
	struct kvm_sregs s = sregs64();
	struct fake *f = fake_new(XK_MODE_LONG64, &s);
	struct region *ram = region_add(f, 0, 0x100000, 0x1000, false);
	struct region *mm = region_add(f, 1, 0xe0000000, 0x1000, true);
	struct xk_emul_regs regs = regs_init(0x5000);
	unsigned int i;
	int runs = 0;

	memcpy(ram->bytes + 0x10, "hello, mmio", 11);
	regs.gpr[RSI] = 0x100010;
	regs.gpr[RDI] = 0xe0000200;
	regs.gpr[RCX] = 11;
	for (i = 0; i < 11; i++) {
		XT_EQ(run_all(f, &regs, BYTES(0xf3, 0xa4), 2, &runs),
		      XK_EMUL_DONE);
		XT_EQ(runs, 1); /* RAM read, deferred MMIO write */
	}
	XT_ASSERT(!f->e.more);
	XT_MEMEQ(mm->bytes + 0x200, "hello, mmio", 11);
	XT_EQ(regs.gpr[RSI], 0x10001b);
	XT_EQ(regs.gpr[RDI], 0xe000020b);
	/* MMIO to MMIO, qwords: a read exit per element */
	regs.gpr[RSI] = 0xe0000200;
	regs.gpr[RDI] = 0xe0000400;
	regs.gpr[RCX] = 1;
	regs.rip = 0x5000;
	XT_EQ(run_all(f, &regs, BYTES(0xf3, 0x48, 0xa5), 3, &runs),
	      XK_EMUL_DONE);
	XT_EQ(runs, 2);
	XT_MEMEQ(mm->bytes + 0x400, "hello, m", 8);
	XT_EQ(regs.rip, 0x5003);
}

/* 16-bit addressing (real mode): SI/DI/CX wrap at 64 KiB, ES:DI, DS:SI */
XT_TEST(emul, rep_string_addr16_wrap)
{
	struct kvm_sregs s = sregs_real(0x1000, 0xa000, 0);
	struct fake *f = fake_new(XK_MODE_REAL, &s);
	struct region *vga = region_add(f, 0, 0xa0000, 0x10000, true);
	struct region *ram = region_add(f, 1, 0x10000, 0x10000, false);
	struct xk_emul_regs regs = regs_init(0x100);

	XT_ASSERT(vga);
	ram->bytes[0xffff] = 0x5a;
	ram->bytes[0] = 0xa5;
	regs.gpr[RSI] = 0xdead0000ffffULL; /* only SI counts */
	regs.gpr[RDI] = 0xbeef0000ffffULL;
	regs.gpr[RCX] = 0x12340002; /* only CX counts */
	/* rep movsb: DS:FFFF -> ES:FFFF, then DS:0000 -> ES:0000 */
	XT_EQ(EMU(f, &regs, 0xf3, 0xa4), XK_EMUL_DONE);
	XT_ASSERT(f->e.more);
	XT_EQ(regs.gpr[RSI], 0xdead00000000ULL);
	XT_EQ(regs.gpr[RDI], 0xbeef00000000ULL);
	XT_EQ(regs.gpr[RCX], 0x12340001);
	XT_EQ(regs.rip, 0x100);
	XT_EQ(EMU(f, &regs, 0xf3, 0xa4), XK_EMUL_DONE);
	XT_ASSERT(!f->e.more);
	XT_EQ(regs.gpr[RCX], 0x12340000);
	XT_EQ(regs.rip, 0x102);
	/* The data page writes went to 0xaffff and 0xa0000 (deferred) */
	XT_EQ(vga->bytes[0xffff], 0x5a);
	XT_EQ(vga->bytes[0], 0xa5);
	/* a word at offset FFFF crosses the 64 KiB limit: #GP(0) */
	regs.gpr[RDI] = 0xffff;
	XT_EQ(EMU(f, &regs, 0xab), XK_EMUL_EXCEPTION);
	XT_EQ(f->e.vector, 13);
	XT_ASSERT(f->e.has_error);
	XT_EQ(f->e.error, 0);
	/* 67: 32-bit addressing in real mode, within the limit */
	regs.gpr[RDI] = 0xffffffff00000010ULL;
	regs.gpr[RAX] = 0x77;
	XT_EQ(EMU(f, &regs, 0x67, 0xaa), XK_EMUL_DONE);
	XT_EQ(vga->bytes[0x10], 0x77);
	XT_EQ(regs.gpr[RDI], 0x11); /* EDI written: zero-extended */
}

/* 32-bit address size in 64-bit mode: ESI/EDI/ECX, DF=1 wrap below 0 */
XT_TEST(emul, rep_string_addr32_df)
{
	struct kvm_sregs s = sregs64();
	struct fake *f = fake_new(XK_MODE_LONG64, &s);
	struct region *mm = region_add(f, 0, 0xfffff000, 0x1000, true);
	struct region *lo = region_add(f, 1, 0, 0x1000, false);
	struct xk_emul_regs regs = regs_init(0x1000);

	regs.rflags |= DF;
	regs.gpr[RDI] = 0x5555555500000000ULL; /* EDI = 0 */
	regs.gpr[RCX] = 0xffffffff00000002ULL;
	regs.gpr[RAX] = 0xab;
	/* rep stosb a32: [0], then [ffffffff] */
	XT_EQ(EMU(f, &regs, 0x67, 0xf3, 0xaa), XK_EMUL_DONE);
	XT_EQ(lo->bytes[0], 0xab);
	XT_EQ(regs.gpr[RDI], 0xffffffff);
	XT_EQ(regs.gpr[RCX], 1);
	XT_EQ(EMU(f, &regs, 0x67, 0xf3, 0xaa), XK_EMUL_DONE);
	XT_EQ(mm->bytes[0xfff], 0xab);
	XT_EQ(regs.gpr[RDI], 0xfffffffe);
	XT_EQ(regs.gpr[RCX], 0);
	XT_ASSERT(!f->e.more);
}

/* repe cmpsb stops at the first difference; repne scasw at a match */
XT_TEST(emul, repe_cmps_repne_scas)
{
	struct kvm_sregs s = sregs64();
	struct fake *f = fake_new(XK_MODE_LONG64, &s);
	struct region *a = region_add(f, 0, 0x1000, 0x100, true);
	struct region *b = region_add(f, 1, 0x2000, 0x100, true);
	struct xk_emul_regs regs = regs_init(0x9000);
	int runs = 0, n = 0, r;

	memcpy(a->bytes, "abcdef", 6);
	memcpy(b->bytes, "abcxef", 6);
	regs.gpr[RSI] = 0x1000;
	regs.gpr[RDI] = 0x2000;
	regs.gpr[RCX] = 6;
	do {
		r = run_all(f, &regs, BYTES(0xf3, 0xa6), 2, &runs);
		XT_EQ(r, XK_EMUL_DONE);
		XT_EQ(runs, 3); /* two read exits */
		n++;
	} while (f->e.more);
	XT_EQ(n, 4);
	XT_EQ(regs.gpr[RCX], 2);
	XT_EQ(regs.gpr[RSI], 0x1004);
	XT_ASSERT(!(regs.rflags & ZF));
	XT_ASSERT(regs.rflags & CF); /* 'd' < 'x' */
	XT_EQ(regs.rip, 0x9002);
	/* repne scasw for 'ef' */
	regs.gpr[RDI] = 0x2000;
	regs.gpr[RCX] = 10;
	regs.gpr[RAX] = 0x6665;
	regs.rip = 0x9000;
	n = 0;
	do {
		XT_EQ(EMU(f, &regs, 0x66, 0xf2, 0xaf), XK_EMUL_DONE);
		n++;
	} while (f->e.more);
	XT_EQ(n, 3);
	XT_ASSERT(regs.rflags & ZF);
	XT_EQ(regs.gpr[RDI], 0x2006);
	XT_EQ(regs.gpr[RCX], 7);
	/* lodsd */
	regs.gpr[RSI] = 0x1000;
	regs.gpr[RAX] = ~0ULL;
	XT_EQ(EMU(f, &regs, 0xad), XK_EMUL_DONE);
	XT_EQ(regs.gpr[RAX], 0x64636261);
	XT_EQ(regs.gpr[RSI], 0x1004);
}

/* ---- modes, segments, exceptions ------------------------------------ */

/* Real mode: 16-bit ModRM, SS for BP, overrides, 16-bit IP wrap */
XT_TEST(emul, real_mode_addressing)
{
	struct kvm_sregs s = sregs_real(0x2000, 0x3000, 0x4000);
	struct fake *f = fake_new(XK_MODE_REAL, &s);
	struct region *m = region_add(f, 0, 0x20000, 0x28000, true);
	struct xk_emul_regs regs = regs_init(0xfffe);

	XT_ASSERT(m);
	s.fs.base = 0x38000;
	regs.gpr[RBX] = 0x100;
	regs.gpr[RSI] = 0x20;
	regs.gpr[RBP] = 0x300;
	regs.gpr[RAX] = 0x1234;
	/* mov [bx+si+4], ax: DS:0124; IP wraps to 0000 */
	XT_EQ(EMU(f, &regs, 0x89, 0x40, 0x04), XK_EMUL_DONE);
	XT_EQ(f->pend_la, 0x20124);
	XT_EQ(regs.rip, 0x0001);
	/* mov [bp+2], al: SS:0302 */
	XT_EQ(EMU(f, &regs, 0x88, 0x46, 0x02), XK_EMUL_DONE);
	XT_EQ(f->pend_la, 0x40302);
	/* es: mov [bp], ax */
	XT_EQ(EMU(f, &regs, 0x26, 0x89, 0x46, 0x00), XK_EMUL_DONE);
	XT_EQ(f->pend_la, 0x30300);
	/* fs: add [bx], ax (FS base 0x38000) */
	XT_EQ(EMU(f, &regs, 0x64, 0x01, 0x07), XK_EMUL_DONE);
	XT_EQ(f->pend_la, 0x38100);
	/* mov al, [1234] (moffs16) */
	XT_EQ(EMU(f, &regs, 0xa0, 0x34, 0x12), XK_EMUL_DONE);
	XT_EQ(f->log[f->nlog - 1].la, 0x21234);
	/* [bx+si] wraps at 64 KiB */
	regs.gpr[RBX] = 0xfff0;
	regs.gpr[RSI] = 0x20;
	XT_EQ(EMU(f, &regs, 0x88, 0x00), XK_EMUL_DONE);
	XT_EQ(f->pend_la, 0x20010);
	/* 66: a dword in real mode */
	regs.gpr[RAX] = 0x89abcdef;
	XT_EQ(EMU(f, &regs, 0x66, 0x89, 0x00), XK_EMUL_DONE);
	XT_EQ(f->pend_len, 4);
	XT_EQ(f->pend_val, 0x89abcdef);
}

/* PUSH/POP r/m with a 16-bit stack (SS.B=0): SP wraps, [mmio] operands */
XT_TEST(emul, push_pop_stack16)
{
	struct kvm_sregs s = sregs_real(0x1000, 0, 0x2000);
	struct fake *f = fake_new(XK_MODE_REAL, &s);
	struct region *mm = region_add(f, 0, 0x10000, 0x1000, true);
	struct region *st = region_add(f, 1, 0x20000, 0x10000, false);
	struct xk_emul_regs regs = regs_init(0x100);

	mm->bytes[0x40] = 0x34;
	mm->bytes[0x41] = 0x12;
	regs.gpr[RBX] = 0x40;
	regs.gpr[RSP] = 0xffff0000; /* SP = 0 */
	/* push word [bx]: SP wraps to FFFE */
	XT_EQ(EMU(f, &regs, 0xff, 0x37), XK_EMUL_DONE);
	XT_EQ(regs.gpr[RSP], 0xfffffffe);
	XT_EQ(le(st->bytes + 0xfffe, 2), 0x1234);
	/* pop word [bx+2] */
	XT_EQ(EMU(f, &regs, 0x8f, 0x47, 0x02), XK_EMUL_DONE);
	XT_EQ(regs.gpr[RSP], 0xffff0000);
	XT_EQ(le(mm->bytes + 0x42, 2), 0x1234);
}

/* Protected mode: limits, read-only and expand-down segments */
XT_TEST(emul, prot32_segments)
{
	struct kvm_sregs s = sregs64();
	struct fake *f;
	struct region *m;
	struct xk_emul_regs regs = regs_init(0x1000);

	s.cs.l = 0;
	s.cs.db = 1;
	s.efer = 0;
	s.ds.base = 0x100000;
	s.ds.limit = 0xfff;
	s.ds.g = 0;
	f = fake_new(XK_MODE_PROT32, &s);
	m = region_add(f, 0, 0x100000, 0x1000, true);
	XT_ASSERT(m);
	regs.gpr[RBX] = 0xffc;
	XT_EQ(EMU(f, &regs, 0x89, 0x03), XK_EMUL_DONE);
	XT_EQ(f->pend_la, 0x100ffc);
	/* one byte past the limit */
	regs.gpr[RBX] = 0xffd;
	f->nlog = 0;
	XT_EQ(EMU(f, &regs, 0x89, 0x03), XK_EMUL_EXCEPTION);
	XT_EQ(f->e.vector, 13);
	XT_EQ(f->nlog, 0);
	/* read-only data: reads fine, writes and RMW #GP before any access */
	s.ds.type = 1;
	regs.gpr[RBX] = 0x10;
	XT_EQ(EMU(f, &regs, 0x8b, 0x03), XK_EMUL_DONE);
	f->nlog = 0;
	XT_EQ(EMU(f, &regs, 0x83, 0x03, 0x01), XK_EMUL_EXCEPTION);
	XT_EQ(f->nlog, 0);
	XT_EQ(EMU(f, &regs, 0x89, 0x03), XK_EMUL_EXCEPTION);
	/* SS limit: #SS(0) through [ebp] */
	s.ds.type = 3;
	s.ss.limit = 0xff;
	s.ss.g = 0;
	regs.gpr[RBP] = 0x200;
	XT_EQ(EMU(f, &regs, 0x89, 0x45, 0x00), XK_EMUL_EXCEPTION);
	XT_EQ(f->e.vector, 12);
	/* EIP wraps at 4 GiB */
	regs.rip = 0xffffffff;
	regs.gpr[RBX] = 0;
	XT_EQ(EMU(f, &regs, 0x89, 0x03), XK_EMUL_DONE);
	XT_EQ(regs.rip, 1);
	/* 16-bit protected mode: IP wraps at 64 KiB */
	f->e.mode = XK_MODE_PROT16;
	regs.rip = 0xffff;
	XT_EQ(EMU(f, &regs, 0x89, 0x07), XK_EMUL_DONE);
	XT_EQ(regs.rip, 1);
}

/* 64-bit mode: FS/GS bases, canonical checks, #SS through RSP/RBP */
XT_TEST(emul, long64_bases_canonical)
{
	struct kvm_sregs s = sregs64();
	struct fake *f = fake_new(XK_MODE_LONG64, &s);
	struct region *m = region_add(f, 0, 0x7fff0000, 0x1000, true);
	struct xk_emul_regs regs = regs_init(0x1000);

	XT_ASSERT(m);
	s.ds.base = 0x12345; /* ignored in 64-bit mode */
	s.gs.base = 0x7fff0000;
	regs.gpr[RBX] = 0x80;
	XT_EQ(EMU(f, &regs, 0x65, 0x89, 0x03), XK_EMUL_DONE);
	XT_EQ(f->pend_la, 0x7fff0080);
	regs.gpr[RBX] = 0x00007ffffffffffeULL;
	XT_EQ(EMU(f, &regs, 0x89, 0x03), XK_EMUL_EXCEPTION);
	XT_EQ(f->e.vector, 13);
	regs.gpr[RBP] = 0x8000000000000000ULL;
	XT_EQ(EMU(f, &regs, 0x89, 0x45, 0x00), XK_EMUL_EXCEPTION);
	XT_EQ(f->e.vector, 12);
	/* LA57: 57-bit canonical */
	s.cr4 |= 1ULL << 12;
	regs.gpr[RBX] = 0x00ff000000000000ULL;
	XT_EQ(EMU(f, &regs, 0x89, 0x03), XK_EMUL_FAULT); /* no memory */
}

/* Faults and failures from the callbacks change nothing */
XT_TEST(emul, callback_faults)
{
	struct kvm_sregs s = sregs64();
	struct fake *f = fake_new(XK_MODE_LONG64, &s);
	struct region *m = region_add(f, 0, 0x1000, 0x1000, true);
	struct xk_emul_regs regs = regs_init(0x1000);

	XT_ASSERT(m);
	regs.gpr[RBX] = 0x1100;
	f->read_ret = XK_EMUL_FAULT;
	XT_EQ(EMU(f, &regs, 0x01, 0x03), XK_EMUL_FAULT);
	f->write_ret = XK_EMUL_FAULT;
	XT_EQ(EMU(f, &regs, 0x89, 0x03), XK_EMUL_FAULT);
	/* the write faults after the read exit was answered */
	f->write_ret = XK_EMUL_FAULT;
	XT_EQ(EMU(f, &regs, 0x01, 0x03), XK_EMUL_FAULT);
	f->read_ret = XK_EMUL_UNHANDLED;
	XT_EQ(EMU(f, &regs, 0x8b, 0x03), XK_EMUL_UNHANDLED);
	f->read_ret = -14; /* not a callback result: unhandled */
	XT_EQ(EMU(f, &regs, 0x8b, 0x03), XK_EMUL_UNHANDLED);
	f->write_ret = 12345;
	XT_EQ(EMU(f, &regs, 0x89, 0x03), XK_EMUL_UNHANDLED);
	/* push to an unmapped stack: the write faults, RSP unchanged */
	regs.gpr[RSP] = 0x900000;
	XT_EQ(EMU(f, &regs, 0xff, 0x33), XK_EMUL_FAULT);
	/* the first of two reads faults */
	regs.gpr[RSI] = 0x5000;
	regs.gpr[RDI] = 0x1000;
	XT_EQ(EMU(f, &regs, 0xa6), XK_EMUL_FAULT);
}

/* LOCK where the CPU does not allow it is #UD, decoded or not */
XT_TEST(emul, lock_ud)
{
	static const struct {
		u8 b[8];
		u8 n;
		int want;
	} c[] = {
		{ { 0xf0, 0x89, 0x03 }, 3, XK_EMUL_EXCEPTION },       /* mov */
		{ { 0xf0, 0x01, 0xd8 }, 3, XK_EMUL_EXCEPTION },       /* reg */
		{ { 0xf0, 0x39, 0x03 }, 3, XK_EMUL_EXCEPTION },       /* cmp */
		{ { 0xf0, 0x0f, 0xa3, 0x03 }, 4, XK_EMUL_EXCEPTION }, /* bt */
		{ { 0xf0, 0xa4 }, 2, XK_EMUL_EXCEPTION },             /* movs */
		{ { 0xf0, 0xd1, 0x23 }, 3, XK_EMUL_EXCEPTION },       /* shl */
		{ { 0x66, 0xf0, 0x48, 0x8b, 0x03 }, 5, XK_EMUL_EXCEPTION },
		{ { 0xf0, 0x01, 0x03 }, 3, XK_EMUL_DONE },       /* add */
		{ { 0xf0, 0x0f, 0xab, 0x03 }, 4, XK_EMUL_DONE }, /* bts */
		{ { 0xf0, 0x86, 0x03 }, 3, XK_EMUL_DONE },       /* xchg */
		{ { 0xf0, 0xf7, 0x1b }, 3, XK_EMUL_DONE },       /* neg */
		{ { 0xf0, 0xf0 }, 2, XK_EMUL_UNHANDLED },        /* short */
		{ { 0xf0, 0x0f, 0x0b }, 3, XK_EMUL_EXCEPTION },  /* lock ud2 */
	};
	struct kvm_sregs s = sregs64();
	struct fake *f = fake_new(XK_MODE_LONG64, &s);
	struct region *m = region_add(f, 0, 0x1000, 0x1000, false);
	struct xk_emul_regs regs = regs_init(0x1000);
	unsigned int i;

	XT_ASSERT(m);
	regs.gpr[RBX] = 0x1100;
	regs.gpr[RAX] = 3; /* a small bit offset for BTS */
	for (i = 0; i < XK_ARRAY_SIZE(c); i++) {
		xt_ctx("case %u", i);
		XT_EQ(run_all(f, &regs, c[i].b, c[i].n, NULL), c[i].want);
		if (c[i].want == XK_EMUL_EXCEPTION) {
			XT_EQ(f->e.vector, 6);
			XT_ASSERT(!f->e.has_error);
		}
	}
}

/* Not emulated: UNHANDLED, registers untouched, no access */
XT_TEST(emul, unhandled)
{
	static const struct {
		u8 b[8];
		u8 n;
	} c[] = {
		{ { 0xd1, 0x23 }, 2 },             /* shl dword [rbx] */
		{ { 0xf7, 0x23 }, 2 },             /* mul dword [rbx] */
		{ { 0xf7, 0x33 }, 2 },             /* div */
		{ { 0x0f, 0xc7, 0x0b }, 3 },       /* cmpxchg8b */
		{ { 0x66, 0x0f, 0x6f, 0x03 }, 4 }, /* movdqa (no e.xmm) */
		{ { 0x0f, 0x28, 0x03 }, 3 },       /* movaps (no e.xmm) */
		{ { 0xf3, 0x0f, 0x7e, 0x03 }, 4 }, /* movq xmm */
		{ { 0xc5, 0xf9, 0x6f, 0x03 }, 4 }, /* vmovdqa */
		{ { 0x62, 0xf1, 0x7d, 0x48, 0x6f, 0x03 }, 6 }, /* evex */
		{ { 0xf2, 0x0f, 0x38, 0xf1, 0x03 }, 5 },       /* crc32 */
		{ { 0xf3, 0x0f, 0x38, 0xf0, 0x03 }, 5 },
		{ { 0x66, 0x0f, 0xc3, 0x03 }, 4 }, /* 66 movnti */
		{ { 0x66, 0x63, 0x03 }, 3 },       /* movsxd r16 */
		{ { 0xff, 0x13 }, 2 },             /* call [rbx] */
		{ { 0xff, 0x2b }, 2 },             /* jmp far */
		{ { 0x8c, 0x03 }, 2 },             /* mov [rbx], es */
		{ { 0xd9, 0x03 }, 2 },             /* fld */
		{ { 0x0f, 0xae, 0x03 }, 3 },       /* fxsave */
		{ { 0x6c }, 1 },                   /* insb */
		{ { 0x0f, 0x01, 0x13 }, 3 },       /* lgdt */
		{ { 0x8b }, 1 },                   /* truncated */
		{ { 0x0f }, 1 },
		{ { 0x06 }, 1 }, /* invalid in 64 */
		{ { 0x90 }, 1 }, /* nop: no row */
	};
	struct kvm_sregs s = sregs64();
	struct fake *f = fake_new(XK_MODE_LONG64, &s);
	struct region *m = region_add(f, 0, 0x1000, 0x1000, false);
	struct xk_emul_regs regs = regs_init(0x1000);
	unsigned int i;

	XT_ASSERT(m);
	regs.gpr[RBX] = 0x1100;
	for (i = 0; i < XK_ARRAY_SIZE(c); i++) {
		xt_ctx("case %u", i);
		f->nlog = 0;
		XT_EQ(run_all(f, &regs, c[i].b, c[i].n, NULL),
		      XK_EMUL_UNHANDLED);
		XT_EQ(f->nlog, 0);
	}
	/* ARPL outside 64-bit mode */
	f->e.mode = XK_MODE_PROT32;
	XT_EQ(EMU(f, &regs, 0x63, 0x03), XK_EMUL_UNHANDLED);
	/* MOVBE with a register operand is #UD */
	f->e.mode = XK_MODE_LONG64;
	XT_EQ(EMU(f, &regs, 0x0f, 0x38, 0xf0, 0xc3), XK_EMUL_EXCEPTION);
	XT_EQ(f->e.vector, 6);
	/* no callbacks or segments: unhandled, not a crash */
	f->e.sregs = NULL;
	XT_EQ(EMU(f, &regs, 0x89, 0x03), XK_EMUL_UNHANDLED);
}

/* ---- flags beyond the native comparison ----------------------------- */

/* INC/DEC keep CF; NEG sets it for nonzero; SETcc/CMOVcc to memory */
XT_TEST(emul, flags_and_conditions)
{
	struct kvm_sregs s = sregs64();
	struct fake *f = fake_new(XK_MODE_LONG64, &s);
	struct region *m = region_add(f, 0, 0x1000, 0x1000, true);
	struct xk_emul_regs regs = regs_init(0x1000);
	unsigned int cc;

	regs.gpr[RBX] = 0x1000;
	m->bytes[0] = 0xff;
	regs.rflags = 0x2 | CF;
	XT_EQ(EMU(f, &regs, 0xfe, 0x03), XK_EMUL_DONE); /* inc byte [rbx] */
	XT_EQ(m->bytes[0], 0);
	XT_EQ(regs.rflags & (CF | ZF | AF | PF | OF | SF), CF | ZF | AF | PF);
	regs.rflags = 0x2;
	XT_EQ(EMU(f, &regs, 0xfe, 0x0b), XK_EMUL_DONE); /* dec byte [rbx] */
	XT_EQ(m->bytes[0], 0xff);
	XT_EQ(regs.rflags & (CF | ZF | AF | PF | OF | SF), SF | AF | PF);
	m->bytes[0] = 0x80;
	XT_EQ(EMU(f, &regs, 0xf6, 0x1b), XK_EMUL_DONE); /* neg byte [rbx] */
	XT_EQ(m->bytes[0], 0x80);
	XT_EQ(regs.rflags & (CF | OF | SF | ZF), CF | OF | SF);
	/* setcc byte [rbx+cc] for every cc with ZF=1, CF=0, SF=1, OF=0 */
	regs.rflags = 0x2 | ZF | SF | PF;
	for (cc = 0; cc < 16; cc++) {
		static const u8 want[16] = { 0, 1, 0, 1, 1, 0, 1, 0,
					     1, 0, 1, 0, 1, 0, 1, 0 };

		XT_EQ(EMU(f, &regs, 0x0f, (u8)(0x90 + cc), 0x43, (u8)cc),
		      XK_EMUL_DONE);
		xt_ctx("cc %u", cc);
		XT_EQ(m->bytes[cc], want[cc]);
	}
	/* cmovne eax, [rbx] with ZF=1: not moved, but RAX zero-extended; the
	 * memory is read all the same */
	regs.gpr[RAX] = 0xffffffff12345678ULL;
	f->nlog = 0;
	XT_EQ(EMU(f, &regs, 0x0f, 0x45, 0x03), XK_EMUL_DONE);
	XT_EQ(regs.gpr[RAX], 0x12345678);
	XT_EQ(f->nlog, 2);
	/* arithmetic flags only: IF, DF, TF... are kept */
	regs.rflags = 0x2 | 0x200 | DF | 0x100 | 0x40000;
	XT_EQ(EMU(f, &regs, 0x38, 0x03), XK_EMUL_DONE);
	XT_EQ(regs.rflags & ~(CF | PF | AF | ZF | SF | OF),
	      0x2 | 0x200 | DF | 0x100 | 0x40000);
}

/* ---- the read cache ----------------------------------------------------- */

XT_TEST(emul, read_cache)
{
	struct xk_emul_cache c;
	u8 d[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, out[8];

	xk_emul_cache_reset(&c);
	xk_emul_cache_begin(&c);
	XT_ASSERT(!xk_emul_cache_get(&c, 0x100, out, 4));
	XT_ASSERT(xk_emul_cache_put(&c, 0x100, d, 4));
	XT_ASSERT(!xk_emul_cache_get(&c, 0x200, out, 2));
	XT_ASSERT(xk_emul_cache_put(&c, 0x200, d + 4, 2));
	/* the next run: in order */
	xk_emul_cache_begin(&c);
	XT_ASSERT(xk_emul_cache_get(&c, 0x100, out, 4));
	XT_MEMEQ(out, d, 4);
	XT_ASSERT(xk_emul_cache_get(&c, 0x200, out, 2));
	XT_MEMEQ(out, d + 4, 2);
	XT_ASSERT(!xk_emul_cache_get(&c, 0x300, out, 1));
	/* a different first read drops everything after it */
	xk_emul_cache_begin(&c);
	XT_ASSERT(!xk_emul_cache_get(&c, 0x100, out, 8));
	XT_EQ(c.n, 0);
	XT_ASSERT(!xk_emul_cache_put(&c, 0x100, d, 17)); /* too long */
	xk_emul_cache_reset(&c);
	XT_EQ(c.n, 0);
	/* room for every piece of XK_EMUL_MAX_READS reads, no more */
	xk_emul_cache_begin(&c);
	for (unsigned int i = 0; i < XK_EMUL_CACHE_MAX; i++)
		XT_ASSERT(xk_emul_cache_put(&c, 0x100 + 8 * i, d, 8));
	XT_ASSERT(!xk_emul_cache_put(&c, 0x400, d, 1)); /* full */
}

/* A run repeated with the full cache gives the same result. */
XT_TEST(emul, rerun_deterministic)
{
	struct kvm_sregs s = sregs64();
	struct fake *f = fake_new(XK_MODE_LONG64, &s);
	struct region *a = region_add(f, 0, 0x1000, 0x100, true);
	struct xk_emul_regs regs = regs_init(0x1000), r1, r2;
	static const u8 insn[] = { 0xa7 }; /* cmpsd */
	int r;

	wr32(a, 0x1000, 7);
	wr32(a, 0x1010, 9);
	regs.gpr[RSI] = 0x1000;
	regs.gpr[RDI] = 0x1010;
	xk_emul_cache_reset(&f->cache);
	while ((r = run1(f, &regs, insn, 1)) == XK_EMUL_EXIT)
		vmm_answer(f);
	XT_EQ(r, XK_EMUL_DONE);
	r1 = regs;
	/* the same instruction state again, answered from the cache only */
	regs.gpr[RSI] = 0x1000;
	regs.gpr[RDI] = 0x1010;
	regs.rip = 0x1000;
	regs.rflags = 0x2;
	wr32(a, 0x1000, 0); /* memory changed: the cache still answers */
	XT_EQ(run1(f, &regs, insn, 1), XK_EMUL_DONE);
	r2 = regs;
	XT_MEMEQ(&r1, &r2, sizeof(r1));
	XT_ASSERT(r1.rflags & CF);
}

/* ---- SSE moves ------------------------------------------------------------ */

/*
 * The 16-byte moves Linux's emulator does (MOVUPS/MOVUPD, MOVAPS/MOVAPD,
 * MOVNTPS, MOVDQA/MOVDQU, MOVNTDQ): XMM0-15 in e.xmm, written only on
 * DONE; alignment #GP(0) for the aligned forms; #UD without CR4.OSFXSR or
 * with CR0.EM; #NM with CR0.TS; other mandatory prefixes (MOVSS, MOVSD,
 * MMX MOVQ) and a missing e.xmm not emulated.
 */
XT_TEST(emul, sse_moves)
{
	static u8 xmm[256];
	struct kvm_sregs s = sregs64();
	struct xk_emul_regs regs;
	struct fake *f;
	struct region *ram, *dev;
	u8 want[16];
	int i;

	s.cr4 = 0x620;
	f = fake_new(XK_MODE_LONG64, &s);
	f->e.xmm = xmm;
	ram = region_add(f, 0, 0x1000, 64, false);
	dev = region_add(f, 1, 0x2000, 64, true);
	for (i = 0; i < 64; i++) {
		ram->bytes[i] = (u8)(0x40 + i);
		dev->bytes[i] = (u8)(0x80 + i);
	}
	for (i = 0; i < 256; i++)
		xmm[i] = (u8)i;

	/* movdqu xmm9, [rax] (F3 44 0F 6F 08), unaligned, from the device */
	regs = regs_init(0x100);
	regs.gpr[RAX] = 0x2003;
	XT_EQ(EMU(f, &regs, 0xf3, 0x44, 0x0f, 0x6f, 0x08), XK_EMUL_DONE);
	XT_MEMEQ(xmm + 16 * 9, dev->bytes + 3, 16);
	XT_ASSERT(f->e.xmm_written);
	XT_EQ(regs.rip, 0x105);
	/* movaps [rax], xmm1 (0F 29 08) to RAM, aligned */
	regs = regs_init(0x100);
	regs.gpr[RAX] = 0x1010;
	XT_EQ(EMU(f, &regs, 0x0f, 0x29, 0x08), XK_EMUL_DONE);
	XT_MEMEQ(ram->bytes + 0x10, xmm + 16, 16);
	XT_ASSERT(!f->e.xmm_written);
	/* movupd [rax+1], xmm2 (66 0F 11 50 01): unaligned is fine */
	regs = regs_init(0x100);
	regs.gpr[RAX] = 0x1020;
	XT_EQ(EMU(f, &regs, 0x66, 0x0f, 0x11, 0x50, 0x01), XK_EMUL_DONE);
	XT_MEMEQ(ram->bytes + 0x21, xmm + 32, 16);
	/* movdqa xmm3, [rax] misaligned: #GP(0), nothing changes */
	memcpy(want, xmm + 48, 16);
	regs = regs_init(0x100);
	regs.gpr[RAX] = 0x2008;
	XT_EQ(EMU(f, &regs, 0x66, 0x0f, 0x6f, 0x18), XK_EMUL_EXCEPTION);
	XT_EQ(f->e.vector, 13);
	XT_ASSERT(f->e.has_error);
	XT_EQ(f->e.error, 0);
	XT_MEMEQ(xmm + 48, want, 16);
	XT_EQ(regs.rip, 0x100);
	/* movntdq [rax], xmm3 (66 0F E7 18) aligned, and its register form */
	regs.gpr[RAX] = 0x1020;
	XT_EQ(EMU(f, &regs, 0x66, 0x0f, 0xe7, 0x18), XK_EMUL_DONE);
	XT_MEMEQ(ram->bytes + 0x20, xmm + 48, 16);
	regs = regs_init(0x100);
	XT_EQ(EMU(f, &regs, 0x66, 0x0f, 0xe7, 0xd8), XK_EMUL_EXCEPTION);
	XT_EQ(f->e.vector, 6);
	/* movaps xmm4, xmm5 (register form) */
	XT_EQ(EMU(f, &regs, 0x0f, 0x28, 0xe5), XK_EMUL_DONE);
	XT_MEMEQ(xmm + 64, xmm + 80, 16);
	/* movss, movsd, MMX movq, LOCK: not these instructions */
	regs = regs_init(0x100);
	regs.gpr[RAX] = 0x1000;
	XT_EQ(EMU(f, &regs, 0xf3, 0x0f, 0x10, 0x00), XK_EMUL_UNHANDLED);
	XT_EQ(EMU(f, &regs, 0xf2, 0x0f, 0x11, 0x00), XK_EMUL_UNHANDLED);
	XT_EQ(EMU(f, &regs, 0x0f, 0x6f, 0x00), XK_EMUL_UNHANDLED);
	XT_EQ(EMU(f, &regs, 0xf0, 0x0f, 0x10, 0x00), XK_EMUL_EXCEPTION);
	XT_EQ(f->e.vector, 6);
	/* CR0.TS: #NM; CR0.EM or no CR4.OSFXSR: #UD */
	s.cr0 |= 0x8;
	XT_EQ(EMU(f, &regs, 0x0f, 0x10, 0x00), XK_EMUL_EXCEPTION);
	XT_EQ(f->e.vector, 7);
	s.cr0 &= ~0x8ULL;
	s.cr0 |= 0x4;
	XT_EQ(EMU(f, &regs, 0x0f, 0x10, 0x00), XK_EMUL_EXCEPTION);
	XT_EQ(f->e.vector, 6);
	s.cr0 &= ~0x4ULL;
	s.cr4 = 0x20;
	XT_EQ(EMU(f, &regs, 0x0f, 0x10, 0x00), XK_EMUL_EXCEPTION);
	XT_EQ(f->e.vector, 6);
	s.cr4 = 0x620;
	/* without the caller's XMM registers: not emulated */
	f->e.xmm = NULL;
	XT_EQ(EMU(f, &regs, 0x0f, 0x10, 0x00), XK_EMUL_UNHANDLED);
}
