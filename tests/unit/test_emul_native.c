// SPDX-License-Identifier: GPL-2.0
/*
 * test_emul_native.c - core/emul.c against the CPU it runs on.
 *
 * Every case is one instruction, generated at random from a table of
 * encodings (operation, byte or full size, 66/REX.W/REX.R/X/B, ModRM with
 * a register, [base+disp8], [base+index*scale+disp32] or RIP-relative
 * operand, 67 address size, immediates), with random registers, flags and
 * memory around the operand.  The same bytes run twice:
 *  - natively, in a stub generated into an executable page: it loads all
 *    sixteen registers and RFLAGS from a state block, executes the
 *    instruction, and stores them back;
 *  - in xk_emulate(), with RIP set to the address the stub executed the
 *    instruction at (so RIP-relative operands agree) and the memory
 *    callbacks backed by a copy of the same pages at the same addresses,
 *    once as RAM and once as MMIO (every read exits and is answered on the
 *    next run; writes are deferred to the end, or exit, alternately).
 * Registers, the defined arithmetic flags and memory must be equal.  The
 * flags an instruction leaves undefined are compared too, but only counted
 * (and printed): vendors differ there.  All memory lives below 2 GiB
 * (MAP_32BIT), so 32-bit address sizes work natively.  x86-64 Linux only.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "emul.h"
#include "xtest.h"

#if defined(__x86_64__)

#define PG 4096u
#define CF 0x001ULL
#define PF 0x004ULL
#define AF 0x010ULL
#define ZF 0x040ULL
#define SF 0x080ULL
#define DF 0x400ULL
#define OF 0x800ULL
#define ARITH (CF | PF | AF | ZF | SF | OF)

/* Region layout: data slots, code, the operand buffer, a stack page. */
#define R_DATA 0
#define R_CODE (1 * PG)
#define R_BUF (2 * PG)
#define BUFSZ (2 * PG)
#define R_STACK (4 * PG)
#define R_SIZE (5 * PG)
#define MEM_OFF R_BUF /* the part of the region the memory model covers */
#define MEM_SIZE (R_SIZE - R_BUF)

#define SLOT_RSP 0x00
#define SLOT_STATE 0x08
#define SLOT_SCRATCH 0x10

struct nstate {
	u64 gpr[16];
	u64 rflags;
};

static u8 *region;
static u8 insn_at_off; /* offset of the test instruction in the code page */

static u8 *region_get(void)
{
	if (!region) {
		void *p = mmap(NULL, R_SIZE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);

		if (p == MAP_FAILED)
			XT_FAIL("mmap MAP_32BIT failed");
		region = p;
	}
	return region;
}

/* ---- the native stub ------------------------------------------------- */

struct cbuf {
	u8 *p;
	unsigned int n;
};

static void emit(struct cbuf *c, const u8 *b, unsigned int n)
{
	memcpy(c->p + c->n, b, n);
	c->n += n;
}

static void emit1(struct cbuf *c, u8 b)
{
	emit(c, &b, 1);
}

static void emit32(struct cbuf *c, u32 v)
{
	emit(c, (const u8 *)&v, 4);
}

/* op [rip+slot] with a 3-byte opcode head (REX, opcode, ModRM) */
static void emit_riprel(struct cbuf *c, u8 rex, u8 opc, u8 modrm, u32 slot)
{
	u8 *next = c->p + c->n + 7;

	emit1(c, rex);
	emit1(c, opc);
	emit1(c, modrm);
	emit32(c, (u32)((region + R_DATA + slot) - next));
}

/* mov r, [rdi+8*i] (load) or mov [rdi+8*i], r (store) */
static void emit_rdi(struct cbuf *c, bool store, unsigned int i, u32 disp)
{
	emit1(c, (u8)(0x48 | (i >= 8 ? 4 : 0)));
	emit1(c, store ? 0x89 : 0x8b);
	emit1(c, (u8)(0x80 | ((i & 7) << 3) | 7));
	emit32(c, disp);
}

/* Writes the stub with the instruction in the middle; returns its entry. */
static void (*build_stub(const u8 *insn, unsigned int len))(struct nstate *)
{
	static const u8 pro[] = { 0x53, 0x55, 0x41, 0x54, 0x41,
				  0x55, 0x41, 0x56, 0x41, 0x57 };
	static const u8 epi[] = { 0xfc, 0x41, 0x5f, 0x41, 0x5e, 0x41,
				  0x5d, 0x41, 0x5c, 0x5d, 0x5b, 0xc3 };
	static const u8 pushf_st[] = { 0xff, 0xb7, 0x80, 0, 0, 0, 0x9d };
	static const u8 popf_st[] = { 0x9c, 0x8f, 0x87, 0x80, 0, 0, 0 };
	static const u8 rax_to_rdi[] = { 0x48, 0x89, 0x87, 0x38, 0, 0, 0 };
	struct cbuf c = { region + R_CODE, 0 };
	unsigned int i;

	if (mprotect(region + R_CODE, PG, PROT_READ | PROT_WRITE))
		XT_FAIL("mprotect RW");
	memset(c.p, 0xcc, PG);
	emit(&c, pro, sizeof(pro));
	emit_riprel(&c, 0x48, 0x89, 0x25, SLOT_RSP);   /* mov [], rsp */
	emit_riprel(&c, 0x48, 0x89, 0x3d, SLOT_STATE); /* mov [], rdi */
	emit(&c, pushf_st, sizeof(pushf_st)); /* push [rdi+0x80]; popf */
	for (i = 0; i < 16; i++)
		if (i != 7)
			emit_rdi(&c, false, i, 8 * i);
	emit_rdi(&c, false, 7, 8 * 7);
	insn_at_off = (u8)c.n;
	emit(&c, insn, len);
	emit_riprel(&c, 0x48, 0x89, 0x3d, SLOT_SCRATCH); /* mov [], rdi */
	emit_riprel(&c, 0x48, 0x8b, 0x3d, SLOT_STATE);   /* mov rdi, [] */
	for (i = 0; i < 16; i++)
		if (i != 7)
			emit_rdi(&c, true, i, 8 * i);
	emit_riprel(&c, 0x48, 0x8b, 0x25, SLOT_RSP); /* mov rsp, [] */
	emit(&c, popf_st, sizeof(popf_st));          /* pushf; pop [rdi+0x80] */
	emit_riprel(&c, 0x48, 0x8b, 0x05, SLOT_SCRATCH); /* mov rax, [] */
	emit(&c, rax_to_rdi, sizeof(rax_to_rdi));
	emit(&c, epi, sizeof(epi));
	if (mprotect(region + R_CODE, PG, PROT_READ | PROT_EXEC))
		XT_FAIL("mprotect RX");
	return (void (*)(struct nstate *))(void *)(region + R_CODE);
}

/* The address the next stub will execute the instruction at. */
static u64 insn_addr(void)
{
	static const u8 nop = 0x90;

	if (!insn_at_off)
		build_stub(&nop, 1);
	return (u64)(uintptr_t)(region + R_CODE + insn_at_off);
}

/* ---- the emulator side --------------------------------------------- */

#define MODE_RAM 0
#define MODE_MMIO 1      /* reads exit; the write is deferred to DONE */
#define MODE_MMIO_EXIT 2 /* reads and writes exit */

struct mem {
	u8 *bytes; /* backing for la [base, base + MEM_SIZE) */
	u64 base;
	int mode;
	struct xk_emul_cache cache;
	bool pend_read;
	u64 pend_la;
	u32 pend_len;
	bool wrote_out; /* MODE_MMIO_EXIT: the write went to the "VMM" */
	bool deferred;  /* MODE_MMIO: a write waits for DONE */
	u64 def_la;
	u32 def_len;
	u8 def_data[8];
	int outside; /* accesses outside the buffer (fails the test) */
};

static bool in_mem(const struct mem *m, u64 la, u32 len)
{
	return la >= m->base && la - m->base + len <= MEM_SIZE;
}

static int mem_read_cb(void *ctx, u64 la, void *buf, u32 len)
{
	struct mem *m = ctx;

	if (xk_emul_cache_get(&m->cache, la, buf, len))
		return 0;
	if (!in_mem(m, la, len)) {
		m->outside++;
		return XK_EMUL_UNHANDLED;
	}
	if (m->mode != MODE_RAM) {
		m->pend_read = true;
		m->pend_la = la;
		m->pend_len = len;
		return XK_EMUL_EXIT;
	}
	memcpy(buf, m->bytes + (la - m->base), len);
	if (!xk_emul_cache_put(&m->cache, la, buf, len))
		return XK_EMUL_UNHANDLED;
	return 0;
}

static int mem_write_cb(void *ctx, u64 la, const void *buf, u32 len)
{
	struct mem *m = ctx;

	if (!in_mem(m, la, len)) {
		m->outside++;
		return XK_EMUL_UNHANDLED;
	}
	if (m->mode == MODE_MMIO) {
		m->deferred = true;
		m->def_la = la;
		m->def_len = len;
		memcpy(m->def_data, buf, len);
		return 0;
	}
	if (m->mode == MODE_MMIO_EXIT) {
		if (m->wrote_out)
			return 0;
		memcpy(m->bytes + (la - m->base), buf, len);
		m->wrote_out = true;
		return XK_EMUL_EXIT;
	}
	memcpy(m->bytes + (la - m->base), buf, len);
	return 0;
}

static const struct xk_emul_ops mem_ops = { mem_read_cb, mem_write_cb };

static struct kvm_sregs flat64(void)
{
	struct kvm_sregs s;

	memset(&s, 0, sizeof(s));
	s.cs.l = 1;
	s.cs.type = 0xb;
	s.cs.present = s.cs.s = 1;
	s.ds.type = s.es.type = s.ss.type = s.fs.type = s.gs.type = 3;
	s.ds.present = s.es.present = s.ss.present = 1;
	s.fs.present = s.gs.present = 1;
	s.ds.s = s.es.s = s.ss.s = s.fs.s = s.gs.s = 1;
	s.cr0 = 0x80000011;
	s.efer = 0x500;
	return s;
}

/*
 * One instruction through the exit/re-run protocol, REP elements included:
 * the result of the last run; *runs counts the runs.
 */
/* The CPU running the test is Intel's (its REP quirk, see emul.h). */
static bool host_is_intel(void)
{
	u32 a, b, c, d;

	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0));
	return b == 0x756e6547 && d == 0x49656e69 && c == 0x6c65746e;
}

static int emulate(struct mem *m, struct xk_emul_regs *regs, const u8 *insn,
		   unsigned int len, int *runs)
{
	struct kvm_sregs sregs = flat64();
	struct xk_emul e;
	int r = XK_EMUL_UNHANDLED, n = 0, elements = 0;

	memset(&e, 0, sizeof(e));
	e.ops = &mem_ops;
	e.ctx = m;
	e.mode = XK_MODE_LONG64;
	e.decode_flags = XK_DEC_AMD;
	e.intel_rep_quirk = host_is_intel();
	e.sregs = &sregs;
	xk_emul_cache_reset(&m->cache);
	m->wrote_out = false;
	while (n < 400) {
		n++;
		m->pend_read = false;
		m->deferred = false;
		xk_emul_cache_begin(&m->cache);
		r = xk_emulate(&e, regs, insn, len);
		if (r == XK_EMUL_EXIT) {
			if (m->pend_read) {
				u8 d[8];

				memcpy(d, m->bytes + (m->pend_la - m->base),
				       m->pend_len);
				if (!xk_emul_cache_put(&m->cache, m->pend_la, d,
						       m->pend_len))
					XT_FAIL("cache_put refused");
			}
			continue;
		}
		if (r != XK_EMUL_DONE)
			break;
		if (m->deferred)
			memcpy(m->bytes + (m->def_la - m->base), m->def_data,
			       m->def_len);
		xk_emul_cache_reset(&m->cache);
		m->wrote_out = false;
		if (!e.more)
			break;
		if (++elements > 64)
			XT_FAIL("REP does not end");
	}
	*runs = n;
	return r;
}

/* ---- random cases ---------------------------------------------------- */

static u64 rng_state = 0x9e3779b97f4a7c15ULL;

static u64 rnd(void)
{
	u64 x = rng_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static unsigned int rndn(unsigned int n)
{
	return (unsigned int)(rnd() % n);
}

/* A value with edges likely: 0, 1, -1, sign bits, carries... */
static u64 rnd_val(void)
{
	static const u64 edges[] = {
		0,
		1,
		2,
		0x7f,
		0x80,
		0xff,
		0x7fff,
		0x8000,
		0xffff,
		0x7fffffff,
		0x80000000,
		0xffffffffULL,
		0x7fffffffffffffffULL,
		0x8000000000000000ULL,
		~0ULL,
		~1ULL,
		0x0f,
		0x10,
		0x100,
	};

	switch (rndn(4)) {
	case 0:
		return edges[rndn(XK_ARRAY_SIZE(edges))];
	case 1:
		return rnd() & 0xff;
	default:
		return rnd();
	}
}

/* Encoding forms */
#define F_EG 1 /* r/m dst, reg src (also r/m only with /digit) */
#define F_GE 2 /* reg dst, r/m src */
#define F_AI 3 /* accumulator, immediate: no ModRM */
#define F_MO 4 /* moffs */

/* Flags the instruction leaves undefined (compared only for statistics) */
#define U_LOGIC AF
#define U_BT (OF | SF | AF | PF | ZF)

struct nop {
	const char *name;
	u8 map; /* 0 one-byte, 1 0F, 2 0F 38 */
	u8 opc;
	s8 digit;  /* ModRM.reg for group opcodes, -1 none */
	u8 form;   /* F_* */
	u8 byte;   /* the byte form (else 16/32/64) */
	u8 imm;    /* immediate bytes: 0, 1, 4 (iz: 2 with 66) */
	u8 nomem;  /* 1: memory forms only ("M"), 2: no memory form */
	u8 no16;   /* no 66 form (MOVNTI) */
	u8 bt;     /* BT reg form: reg is a bit offset */
	u64 undef; /* flags left undefined */
};

#define ALU_ROWS(name, o, undef)                                             \
	{ name " Eb,Gb", 0, o, -1, F_EG, 1, 0, 0, 0, 0, undef },             \
		{ name " Ev,Gv", 0, o + 1, -1, F_EG, 0, 0, 0, 0, 0, undef }, \
		{ name " Gb,Eb", 0, o + 2, -1, F_GE, 1, 0, 0, 0, 0, undef }, \
		{ name " Gv,Ev", 0, o + 3, -1, F_GE, 0, 0, 0, 0, 0, undef }, \
		{ name " AL,ib", 0, o + 4, -1, F_AI, 1, 1, 0, 0, 0, undef }, \
	{                                                                    \
		name " rAX,iz", 0, o + 5, -1, F_AI, 0, 4, 0, 0, 0, undef     \
	}

#define GRP1_ROWS(name, d, undef)                                          \
	{ name " Eb,ib", 0, 0x80, d, F_EG, 1, 1, 0, 0, 0, undef },         \
		{ name " Ev,iz", 0, 0x81, d, F_EG, 0, 4, 0, 0, 0, undef }, \
	{                                                                  \
		name " Ev,ib", 0, 0x83, d, F_EG, 0, 1, 0, 0, 0, undef      \
	}

static const struct nop nops[] = {
	ALU_ROWS("add", 0x00, 0),
	ALU_ROWS("or", 0x08, U_LOGIC),
	ALU_ROWS("adc", 0x10, 0),
	ALU_ROWS("sbb", 0x18, 0),
	ALU_ROWS("and", 0x20, U_LOGIC),
	ALU_ROWS("sub", 0x28, 0),
	ALU_ROWS("xor", 0x30, U_LOGIC),
	ALU_ROWS("cmp", 0x38, 0),
	GRP1_ROWS("add", 0, 0),
	GRP1_ROWS("or", 1, U_LOGIC),
	GRP1_ROWS("adc", 2, 0),
	GRP1_ROWS("sbb", 3, 0),
	GRP1_ROWS("and", 4, U_LOGIC),
	GRP1_ROWS("sub", 5, 0),
	GRP1_ROWS("xor", 6, U_LOGIC),
	GRP1_ROWS("cmp", 7, 0),
	{ "test Eb,Gb", 0, 0x84, -1, F_EG, 1, 0, 0, 0, 0, U_LOGIC },
	{ "test Ev,Gv", 0, 0x85, -1, F_EG, 0, 0, 0, 0, 0, U_LOGIC },
	{ "test AL,ib", 0, 0xa8, -1, F_AI, 1, 1, 0, 0, 0, U_LOGIC },
	{ "test rAX,iz", 0, 0xa9, -1, F_AI, 0, 4, 0, 0, 0, U_LOGIC },
	{ "test Eb,ib", 0, 0xf6, 0, F_EG, 1, 1, 0, 0, 0, U_LOGIC },
	{ "test Ev,iz", 0, 0xf7, 0, F_EG, 0, 4, 0, 0, 0, U_LOGIC },
	{ "xchg Eb,Gb", 0, 0x86, -1, F_EG, 1, 0, 0, 0, 0, 0 },
	{ "xchg Ev,Gv", 0, 0x87, -1, F_EG, 0, 0, 0, 0, 0, 0 },
	{ "mov Eb,Gb", 0, 0x88, -1, F_EG, 1, 0, 0, 0, 0, 0 },
	{ "mov Ev,Gv", 0, 0x89, -1, F_EG, 0, 0, 0, 0, 0, 0 },
	{ "mov Gb,Eb", 0, 0x8a, -1, F_GE, 1, 0, 0, 0, 0, 0 },
	{ "mov Gv,Ev", 0, 0x8b, -1, F_GE, 0, 0, 0, 0, 0, 0 },
	{ "mov Eb,ib", 0, 0xc6, 0, F_EG, 1, 1, 0, 0, 0, 0 },
	{ "mov Ev,iz", 0, 0xc7, 0, F_EG, 0, 4, 0, 0, 0, 0 },
	{ "mov AL,moffs", 0, 0xa0, -1, F_MO, 1, 0, 0, 0, 0, 0 },
	{ "mov rAX,moffs", 0, 0xa1, -1, F_MO, 0, 0, 0, 0, 0, 0 },
	{ "mov moffs,AL", 0, 0xa2, -1, F_MO, 1, 0, 0, 0, 0, 0 },
	{ "mov moffs,rAX", 0, 0xa3, -1, F_MO, 0, 0, 0, 0, 0, 0 },
	{ "not Eb", 0, 0xf6, 2, F_EG, 1, 0, 0, 0, 0, 0 },
	{ "neg Eb", 0, 0xf6, 3, F_EG, 1, 0, 0, 0, 0, 0 },
	{ "not Ev", 0, 0xf7, 2, F_EG, 0, 0, 0, 0, 0, 0 },
	{ "neg Ev", 0, 0xf7, 3, F_EG, 0, 0, 0, 0, 0, 0 },
	{ "inc Eb", 0, 0xfe, 0, F_EG, 1, 0, 0, 0, 0, 0 },
	{ "dec Eb", 0, 0xfe, 1, F_EG, 1, 0, 0, 0, 0, 0 },
	{ "inc Ev", 0, 0xff, 0, F_EG, 0, 0, 0, 0, 0, 0 },
	{ "dec Ev", 0, 0xff, 1, F_EG, 0, 0, 0, 0, 0, 0 },
	{ "movsxd Gv,Ed", 0, 0x63, -1, F_GE, 0, 0, 0, 1, 0, 0 },
	{ "movzx Gv,Eb", 1, 0xb6, -1, F_GE, 0, 0, 0, 0, 0, 0 },
	{ "movzx Gv,Ew", 1, 0xb7, -1, F_GE, 0, 0, 0, 0, 0, 0 },
	{ "movsx Gv,Eb", 1, 0xbe, -1, F_GE, 0, 0, 0, 0, 0, 0 },
	{ "movsx Gv,Ew", 1, 0xbf, -1, F_GE, 0, 0, 0, 0, 0, 0 },
	{ "bt Ev,Gv", 1, 0xa3, -1, F_EG, 0, 0, 0, 0, 1, U_BT },
	{ "bts Ev,Gv", 1, 0xab, -1, F_EG, 0, 0, 0, 0, 1, U_BT },
	{ "btr Ev,Gv", 1, 0xb3, -1, F_EG, 0, 0, 0, 0, 1, U_BT },
	{ "btc Ev,Gv", 1, 0xbb, -1, F_EG, 0, 0, 0, 0, 1, U_BT },
	{ "bt Ev,ib", 1, 0xba, 4, F_EG, 0, 1, 0, 0, 0, U_BT },
	{ "bts Ev,ib", 1, 0xba, 5, F_EG, 0, 1, 0, 0, 0, U_BT },
	{ "btr Ev,ib", 1, 0xba, 6, F_EG, 0, 1, 0, 0, 0, U_BT },
	{ "btc Ev,ib", 1, 0xba, 7, F_EG, 0, 1, 0, 0, 0, U_BT },
	{ "cmpxchg Eb,Gb", 1, 0xb0, -1, F_EG, 1, 0, 0, 0, 0, 0 },
	{ "cmpxchg Ev,Gv", 1, 0xb1, -1, F_EG, 0, 0, 0, 0, 0, 0 },
	{ "xadd Eb,Gb", 1, 0xc0, -1, F_EG, 1, 0, 0, 0, 0, 0 },
	{ "xadd Ev,Gv", 1, 0xc1, -1, F_EG, 0, 0, 0, 0, 0, 0 },
	{ "movnti My,Gy", 1, 0xc3, -1, F_EG, 0, 0, 1, 1, 0, 0 },
	{ "movbe Gv,Mv", 2, 0xf0, -1, F_GE, 0, 0, 1, 0, 0, 0 },
	{ "movbe Mv,Gv", 2, 0xf1, -1, F_EG, 0, 0, 1, 0, 0, 0 },
};

/* SETcc and CMOVcc: all sixteen conditions */
static const struct nop setcc = { "setcc Eb", 1, 0x90, -1, F_EG, 1,
				  0,          0, 0,    0,  0 };
static const struct nop cmovcc = {
	"cmovcc Gv,Ev", 1, 0x40, -1, F_GE, 0, 0, 0, 0, 0, 0
};

struct gen {
	u8 b[16];
	unsigned int n;
	int ripdisp; /* offset of a RIP-relative disp32, -1 none */
	struct nstate st;
	u8 mem[MEM_SIZE];
	char desc[160];
};

static bool is_rsp(unsigned int r, unsigned int size, bool rex)
{
	return r == 4 && (size > 1 || rex);
}

/* A register number for a data operand, never RSP/ESP/SP/SPL. */
static unsigned int pick_reg(unsigned int size, bool rex, unsigned int avoid1,
			     unsigned int avoid2)
{
	for (;;) {
		unsigned int r = rex ? rndn(16) : rndn(8);

		if (is_rsp(r, size, rex) || r == avoid1 || r == avoid2)
			continue;
		return r;
	}
}

/* Fills the buffer and the state with random values. */
static void gen_state(struct gen *g)
{
	unsigned int i;

	for (i = 0; i < MEM_SIZE; i++)
		g->mem[i] = (u8)rnd();
	for (i = 0; i < 16; i++)
		g->st.gpr[i] = rnd_val();
	g->st.gpr[4] = (u64)(uintptr_t)(region + R_STACK + PG - 256);
	g->st.rflags = 0x202 | (rnd() & ARITH);
}

static void put_le(struct gen *g, u64 v, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		g->b[g->n++] = (u8)(v >> (8 * i));
}

/*
 * Builds one instance of op with operand size size (1 for byte ops) and a
 * memory operand if mem; the operand lands somewhere in the buffer.
 * Byte operations either may use REX (registers 0-15, 4-7 are SPL..DIL)
 * or not (0-7, 4-7 are AH..BH).  RSP is never a data register.
 */
static void gen_insn(struct gen *g, const struct nop *op, unsigned int size,
		     bool mem, u8 opc)
{
	u64 buf = (u64)(uintptr_t)(region + R_BUF);
	u64 target = buf + 64 + rndn(BUFSZ - 128 - 16);
	bool a32 = mem && rndn(4) == 0;
	bool rexok = size != 1 || rndn(2);
	unsigned int nregs = rexok ? 16 : 8;
	unsigned int reg, rm = 0, base = 16, idx = 16, kind;
	u8 rex = 0x40;
	u64 amask = a32 ? 0xffffffffULL : ~0ULL;

	g->n = 0;
	g->ripdisp = -1;
	if (size == 2)
		g->b[g->n++] = 0x66;
	if (a32)
		g->b[g->n++] = 0x67;
	if (size == 8)
		rex |= 8;

	if (op->form == F_AI || op->form == F_MO) {
		if (rex != 0x40 || (rexok && rndn(2)))
			g->b[g->n++] = rex;
		g->b[g->n++] = opc;
		if (op->form == F_AI)
			put_le(g, rnd_val(),
			       op->imm == 4 && size == 2 ? 2 : op->imm);
		else
			put_le(g, target, a32 ? 4 : 8); /* below 2 GiB */
		snprintf(g->desc, sizeof(g->desc), "%s size %u%s", op->name,
			 size, a32 ? " a32" : "");
		return;
	}

	kind = mem ? rndn(3) : 3; /* [b+d8], [b+i*s+d32], [rip+d32], reg */
	if (kind == 0 || kind == 1) {
		do
			base = rndn(nregs);
		while ((base & 7) == 4);
	}
	if (kind == 1) {
		do
			idx = rndn(nregs);
		while (idx == 4 || idx == base);
	}
	if (op->digit >= 0)
		reg = (unsigned int)op->digit;
	else if (op->bt && mem) /* a bit offset, not an address */
		reg = pick_reg(size, rexok, base, idx);
	else
		reg = pick_reg(size, rexok, 16, 16);
	if (kind == 3)
		rm = pick_reg(size, rexok, 16, 16);
	if (!rexok) {
		reg &= 7;
		rm &= 7;
	}
	if (reg >= 8)
		rex |= 4;
	if (idx < 16 && idx >= 8)
		rex |= 2;
	if ((base < 16 && base >= 8) || rm >= 8)
		rex |= 1;
	if (rex != 0x40 || (rexok && rndn(2)))
		g->b[g->n++] = rex;

	if (op->map >= 1)
		g->b[g->n++] = 0x0f;
	if (op->map == 2)
		g->b[g->n++] = 0x38;
	g->b[g->n++] = opc;

	switch (kind) {
	case 0: {
		s8 d8 = (s8)rndn(256);

		g->b[g->n++] = (u8)(0x40 | ((reg & 7) << 3) | (base & 7));
		g->b[g->n++] = (u8)d8;
		g->st.gpr[base] = ((target - (u64)(s64)d8) & amask) |
				  (a32 ? rnd() << 32 : 0);
		break;
	}
	case 1: {
		s32 d32 = (s32)(rnd() & 0xffff) - 0x8000;
		unsigned int ss = rndn(4);
		u64 iv = rnd() & 0xff;

		g->b[g->n++] = (u8)(0x80 | ((reg & 7) << 3) | 4);
		g->b[g->n++] = (u8)((ss << 6) | ((idx & 7) << 3) | (base & 7));
		put_le(g, (u64)(s64)d32, 4);
		g->st.gpr[idx] = iv | (a32 ? rnd() << 32 : 0);
		g->st.gpr[base] =
			((target - (u64)(s64)d32 - (iv << ss)) & amask) |
			(a32 ? rnd() << 32 : 0);
		break;
	}
	case 2:
		g->b[g->n++] = (u8)(((reg & 7) << 3) | 5);
		g->ripdisp = (int)g->n;
		put_le(g, 0, 4);
		break;
	default:
		g->b[g->n++] = (u8)(0xc0 | ((reg & 7) << 3) | (rm & 7));
		break;
	}
	if (op->imm)
		put_le(g, rnd_val(), op->imm == 4 && size == 2 ? 2 : op->imm);
	if (g->ripdisp >= 0) {
		/* with 67 it is EIP-relative: the code is below 2 GiB */
		u64 next = insn_addr() + g->n;
		s32 d = (s32)(s64)(target - next);

		memcpy(g->b + g->ripdisp, &d, 4);
	}
	if (op->bt && mem) {
		/* a signed bit offset within +-64 bytes of the operand */
		u64 off = (u64)((s64)rndn(1024) - 512);

		if (size == 2)
			off = (off & 0xffff) | (rnd() << 16);
		else if (size == 4)
			off = (off & 0xffffffffULL) | (rnd() << 32);
		g->st.gpr[reg] = off;
	}
	snprintf(g->desc, sizeof(g->desc), "%s size %u kind %u%s%s", op->name,
		 size, kind, a32 ? " a32" : "", rexok ? " rex" : "");
}

static void hexdump(char *out, size_t outsz, const u8 *b, unsigned int n)
{
	unsigned int i;
	size_t k = 0;

	for (i = 0; i < n && k + 4 < outsz; i++)
		k += (size_t)snprintf(out + k, outsz - k, "%02x ", b[i]);
}

static unsigned long long undef_diff, undef_total, cases_run;

/* Runs g natively and in the emulator (3 memory modes); compares. */
static void compare(struct gen *g, u64 undef)
{
	void (*stub)(struct nstate *);
	struct nstate nat;
	static u8 nat_mem[MEM_SIZE];
	static struct mem m;
	static u8 emu_mem[MEM_SIZE];
	char hex[64];
	int mode;

	hexdump(hex, sizeof(hex), g->b, g->n);
	xt_ctx("%s: %s", g->desc, hex);
	stub = build_stub(g->b, g->n);
	memcpy(region + MEM_OFF, g->mem, MEM_SIZE);
	nat = g->st;
	stub(&nat);
	memcpy(nat_mem, region + MEM_OFF, MEM_SIZE);

	for (mode = MODE_RAM; mode <= MODE_MMIO_EXIT; mode++) {
		struct xk_emul_regs regs;
		int runs = 0, r;
		unsigned int i;

		memcpy(emu_mem, g->mem, MEM_SIZE);
		memset(&m, 0, sizeof(m));
		m.bytes = emu_mem;
		m.base = (u64)(uintptr_t)(region + MEM_OFF);
		m.mode = mode;
		memcpy(regs.gpr, g->st.gpr, sizeof(regs.gpr));
		regs.rip = insn_addr();
		regs.rflags = g->st.rflags;
		r = emulate(&m, &regs, g->b, g->n, &runs);
		xt_ctx("%s: %s mode %d runs %d", g->desc, hex, mode, runs);
		XT_EQ(r, XK_EMUL_DONE);
		XT_EQ(m.outside, 0);
		for (i = 0; i < 16; i++) {
			xt_ctx("%s: %s mode %d gpr %u", g->desc, hex, mode, i);
			XT_EQ(regs.gpr[i], nat.gpr[i]);
		}
		xt_ctx("%s: %s mode %d", g->desc, hex, mode);
		XT_EQ(regs.rflags & ARITH & ~undef,
		      nat.rflags & ARITH & ~undef);
		XT_EQ(regs.rflags & ~ARITH, g->st.rflags & ~ARITH);
		XT_EQ(regs.rip, insn_addr() + g->n);
		XT_MEMEQ(emu_mem, nat_mem, MEM_SIZE);
		if (mode == MODE_RAM && undef) {
			undef_total++;
			if ((regs.rflags ^ nat.rflags) & undef)
				undef_diff++;
		}
	}
	cases_run++;
}

static void run_op(const struct nop *op, u8 opc, unsigned int iters)
{
	static struct gen g;
	unsigned int it, s;

	for (it = 0; it < iters; it++) {
		for (s = 0; s < 4; s++) {
			unsigned int size = op->byte ? 1 : 2u << s;
			bool mem;

			if (op->byte && s)
				break;
			if (!op->byte && s == 3)
				break; /* sizes 2, 4, 8 */
			if (op->no16 && size == 2)
				continue;
			if (op->form == F_AI || op->form == F_MO)
				mem = op->form == F_MO;
			else if (op->nomem == 1)
				mem = true;
			else
				mem = rndn(2);
			gen_state(&g);
			gen_insn(&g, op, size, mem, opc);
			compare(&g, op->undef);
		}
	}
}

static void need_region(void)
{
	region_get();
	insn_addr();
}

XT_TEST(emul_native, alu_and_moves)
{
	unsigned int i;

	need_region();
	for (i = 0; i < XK_ARRAY_SIZE(nops); i++)
		run_op(&nops[i], nops[i].opc, 300);
	printf("emul_native: %llu cases; undefined flags differed in "
	       "%llu of %llu (info only)\n",
	       cases_run, undef_diff, undef_total);
}

XT_TEST(emul_native, setcc_cmovcc)
{
	unsigned int cc;

	need_region();
	for (cc = 0; cc < 16; cc++) {
		run_op(&setcc, (u8)(0x90 + cc), 60);
		run_op(&cmovcc, (u8)(0x40 + cc), 60);
	}
}

/* ---- string instructions --------------------------------------------- */

/*
 * MOVS/STOS/LODS/CMPS/SCAS, with and without REP/REPE/REPNE, DF 0/1, 64
 * and 32-bit address sizes, all element sizes; the emulator runs element
 * by element until it is done.
 */
XT_TEST(emul_native, strings)
{
	static const u8 ops[] = { 0xa4, 0xa6, 0xaa, 0xac, 0xae };
	static struct gen g;
	unsigned int it;

	need_region();
	for (it = 0; it < 3000; it++) {
		u8 opc = (u8)(ops[rndn(5)] + rndn(2));
		unsigned int size = opc & 1 ? 2u << rndn(3) : 1, i;
		unsigned int rep = rndn(3); /* none, F3, F2 */
		bool a32 = rndn(3) == 0, df = rndn(2);
		u64 buf = (u64)(uintptr_t)(region + R_BUF);
		u64 count = rndn(10);
		u64 si = buf + 256 + rndn(BUFSZ - 512);
		u64 di = buf + 256 + rndn(BUFSZ - 512);

		gen_state(&g);
		/* compare instructions must sometimes find equal elements */
		if (rndn(2))
			for (i = 0; i < MEM_SIZE; i++)
				g.mem[i] = (u8)(rndn(3) ? 0x5a : rnd());
		if ((opc == 0xae || opc == 0xaf) && rndn(2))
			g.st.gpr[0] = 0x5a5a5a5a5a5a5a5aULL;
		g.n = 0;
		if (size == 2)
			g.b[g.n++] = 0x66;
		if (a32)
			g.b[g.n++] = 0x67;
		if (rep)
			g.b[g.n++] = rep == 1 ? 0xf3 : 0xf2;
		if (size == 8)
			g.b[g.n++] = 0x48;
		g.b[g.n++] = opc;
		g.st.gpr[6] = a32 ? (si | rnd() << 32) : si;
		g.st.gpr[7] = a32 ? (di | rnd() << 32) : di;
		g.st.gpr[1] = a32 ? (count | rnd() << 32) : count;
		if (df)
			g.st.rflags |= DF;
		snprintf(g.desc, sizeof(g.desc),
			 "string %02x size %u rep %u "
			 "a32 %d df %d count %llu",
			 opc, size, rep, a32, df, (unsigned long long)count);
		compare(&g, 0);
	}
}

/* PUSH r/m and POP r/m, with RSP in the buffer ([rsp]-based operands too) */
XT_TEST(emul_native, push_pop)
{
	static struct gen g;
	unsigned int it;

	need_region();
	for (it = 0; it < 2000; it++) {
		bool push = rndn(2), o16 = rndn(4) == 0;
		u64 buf = (u64)(uintptr_t)(region + R_BUF);
		u64 sp = buf + 512 + 8 * rndn(64);
		u64 target = buf + 1024 + rndn(1024);
		unsigned int kind = rndn(3), r;

		gen_state(&g);
		g.n = 0;
		g.st.gpr[4] = sp;
		if (o16)
			g.b[g.n++] = 0x66;
		do /* never RSP; no SIB for [r12] */
			r = rndn(16);
		while (r == 4 || (kind == 0 && r == 12));
		if (kind == 0) { /* [r] */
			if (r >= 8)
				g.b[g.n++] = 0x41;
			g.b[g.n++] = push ? 0xff : 0x8f;
			g.b[g.n++] =
				(u8)((push ? 0x30 : 0x00) | 0x80 | (r & 7));
			put_le(&g, 0, 4);
			g.st.gpr[r] = target;
		} else if (kind == 1) { /* [rsp+disp32] */
			g.b[g.n++] = push ? 0xff : 0x8f;
			g.b[g.n++] = (u8)((push ? 0x30 : 0x00) | 0x84);
			g.b[g.n++] = 0x24;
			put_le(&g, 64 + rndn(256), 4);
		} else { /* register */
			if (r >= 8)
				g.b[g.n++] = 0x41;
			g.b[g.n++] = push ? 0xff : 0x8f;
			g.b[g.n++] = (u8)((push ? 0xf0 : 0xc0) | (r & 7));
		}
		snprintf(g.desc, sizeof(g.desc), "%s kind %u o16 %d",
			 push ? "push" : "pop", kind, o16);
		compare(&g, 0);
	}
}

#else /* !__x86_64__ */

XT_TEST(emul_native, skipped)
{
	printf("emul_native: not an x86-64 host, skipped\n");
}

#endif
