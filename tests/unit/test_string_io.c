// SPDX-License-Identifier: GPL-2.0
/*
 * test_string_io.c - INS/OUTS and their REP forms (core/emulate.c):
 * batches that never cross a guest page nor exceed the 4 KiB data page,
 * RSI/RDI/RCX moved at completion (on the next KVM_RUN), DF=1, a zero
 * count, 16- and 32-bit address sizes, segment overrides, and page faults
 * of a guest with 4-level paging.  The guest's instruction bytes are in
 * its memory; the core decodes them (address size, segment) itself.
 */
#include <stdint.h>
#include <string.h>

#include "fx.h"
#include "gwalk.h"

#define RIP0 0x1000ULL
#define MEMPAGES 64 /* 256 KiB at gpa 0 */

static const u8 rep_outsb[] = { 0xf3, 0x6e };
static const u8 rep_insb[] = { 0xf3, 0x6c };

struct gprs {
	u64 rsi, rdi, rcx, rflags, rip;
};

static void set_gprs(struct fx *f, u64 rsi, u64 rdi, u64 rcx, bool df)
{
	struct kvm_regs r;

	fx_get_regs(f, &r);
	r.rsi = rsi;
	r.rdi = rdi;
	r.rcx = rcx;
	r.rflags = XK_RFLAGS_FIXED | (df ? XK_RFLAGS_DF : 0);
	fx_set_regs(f, &r);
}

static struct gprs get_gprs(struct fx *f)
{
	struct kvm_regs r;
	struct gprs g;

	fx_get_regs(f, &r);
	g.rsi = r.rsi;
	g.rdi = r.rdi;
	g.rcx = r.rcx;
	g.rflags = r.rflags;
	g.rip = r.rip;
	return g;
}

/* guest memory at gpa 0, each byte a hash of its address */
static struct fx *mem_fx(void)
{
	struct fx *f = fx_new();
	u8 *m = fx_mem(f, 0, 0, MEMPAGES, 0);
	u32 i;

	for (i = 0; i < MEMPAGES * XK_PAGE_SIZE; i++)
		m[i] = (u8)((i * 0x9e3779b1u) >> 24);
	return f;
}

static u8 byte_at(struct fx *f, u64 gpa)
{
	return *(u8 *)fx_gpa(f, gpa);
}

/* One REP string I/O step, taken again while RIP stays (each batch). */
static struct fake_step str_step(u16 port, u8 size, bool in, bool rep)
{
	struct fake_step s = { .kind = FAKE_IO };

	s.port = port;
	s.size = size;
	s.io = FAKE_IO_STR | (in ? FAKE_IO_IN : 0) | (rep ? FAKE_IO_REP : 0);
	s.repeat = true;
	return s;
}

/* An exit of an OUTS batch: count elements, from la (ascending or not). */
static void expect_out_batch(struct fx *f, u8 size, u32 count, u64 la,
			     bool down)
{
	u8 *d = fx_io_data(f);
	u32 i, b;

	XT_EQ(f->run->exit_reason, KVM_EXIT_IO);
	XT_EQ(f->run->io.direction, KVM_EXIT_IO_OUT);
	XT_EQ(f->run->io.size, size);
	XT_EQ(f->run->io.count, count);
	XT_ASSERT(count * size <= XK_PAGE_SIZE);
	for (i = 0; i < count; i++) {
		u64 a = down ? la - (u64)i * size : la + (u64)i * size;

		for (b = 0; b < size; b++) {
			xt_ctx("element %u byte %u", i, b);
			XT_EQ(d[i * size + b], byte_at(f, a + b));
		}
	}
	xt_ctx("%s", "");
}

XT_TEST(string_io, rep_outsb_real_mode)
{
	struct fx *f = mem_fx();
	struct fake_step s = str_step(0x3f8, 1, false, true);
	struct gprs g;

	fx_real_mode(f, RIP0);
	fx_poke(f, RIP0, rep_outsb, 2);
	set_gprs(f, 0x2000, 0, 10, false);
	fx_script(f, &s, 1);
	fx_run_expect(f, KVM_EXIT_IO);
	XT_EQ(f->run->io.port, 0x3f8);
	/* the pio probe: the REP count the instruction asks for */
	XT_EQ(host_user_trace.last_pio.port, 0x3f8);
	XT_EQ(host_user_trace.last_pio.in, false);
	XT_EQ(host_user_trace.last_pio.count, 10);
	expect_out_batch(f, 1, 10, 0x2000, false);
	/* nothing moves before the VMM comes back */
	g = get_gprs(f);
	XT_EQ(g.rsi, 0x2000);
	XT_EQ(g.rcx, 10);
	XT_EQ(g.rip, RIP0);
	fx_run_to_end(f);
	g = get_gprs(f);
	XT_EQ(g.rsi, 0x200a);
	XT_EQ(g.rcx, 0);
	XT_EQ(g.rip, RIP0 + 2);
	XT_EQ(fake_steps_taken(f->v), 1);
}

XT_TEST(string_io, outsb_without_rep)
{
	struct fx *f = mem_fx();
	struct fake_step s = str_step(0x80, 1, false, false);
	static const u8 outsb[] = { 0x6e };
	struct gprs g;

	fx_prot32(f, RIP0);
	fx_poke(f, RIP0, outsb, 1);
	set_gprs(f, 0x3000, 0, 77, false);
	fx_script(f, &s, 1);
	fx_run_expect(f, KVM_EXIT_IO);
	expect_out_batch(f, 1, 1, 0x3000, false);
	fx_run_to_end(f);
	g = get_gprs(f);
	XT_EQ(g.rsi, 0x3001);
	XT_EQ(g.rcx, 77); /* no REP: RCX is not a count */
	XT_EQ(g.rip, RIP0 + 1);
}

struct batch_case {
	const char *what;
	u8 op; /* 0x6e outsb, 0x6f outsd (32-bit code) */
	u8 size;
	u64 rsi;
	u64 rcx;
	u32 batches[6]; /* element counts, 0-terminated */
};

/* Batches end at page boundaries and at 4 KiB of data. */
XT_TEST(string_io, batches_respect_pages_and_data_page)
{
	static const struct batch_case cases[] = {
		{ "outsb from mid-page",
		  0x6e,
		  1,
		  0x1ff0,
		  10000,
		  { 16, 4096, 4096, 1792 } },
		{ "outsd from mid-page",
		  0x6f,
		  4,
		  0x1ff8,
		  2000,
		  { 2, 1024, 974 } },
		{ "outsd straddling a page", 0x6f, 4, 0x1ffe, 3, { 1, 2 } },
		{ "outsb short", 0x6e, 1, 0x2100, 5, { 5 } },
	};
	unsigned int i, b;

	for (i = 0; i < XK_ARRAY_SIZE(cases); i++) {
		const struct batch_case *c = &cases[i];
		struct fx *f = mem_fx();
		struct fake_step s = str_step(0x510, c->size, false, true);
		u8 code[2] = { 0xf3, c->op };
		u64 rsi = c->rsi, left = c->rcx;
		struct gprs g;

		xt_ctx("%s", c->what);
		fx_prot32(f, RIP0);
		fx_poke(f, RIP0, code, 2);
		set_gprs(f, c->rsi, 0, c->rcx, false);
		fx_script(f, &s, 1);
		for (b = 0; c->batches[b]; b++) {
			xt_ctx("%s: batch %u", c->what, b);
			fx_run_expect(f, KVM_EXIT_IO);
			expect_out_batch(f, c->size, c->batches[b], rsi, false);
			g = get_gprs(f);
			XT_EQ(g.rsi, rsi); /* moved only at completion */
			XT_EQ(g.rcx, left);
			XT_EQ(g.rip, RIP0);
			rsi += (u64)c->batches[b] * c->size;
			left -= c->batches[b];
		}
		fx_run_to_end(f);
		g = get_gprs(f);
		XT_EQ(g.rsi, rsi);
		XT_EQ(g.rcx, 0);
		XT_EQ(g.rip, RIP0 + 2);
		XT_EQ(left, 0);
		fx_destroy(f);
	}
}

XT_TEST(string_io, rep_insb_writes_at_completion)
{
	struct fx *f = mem_fx();
	struct fake_step s = str_step(0x60, 1, true, true);
	u8 before[24], *d;
	struct gprs g;
	u32 i;

	fx_prot32(f, RIP0);
	fx_poke(f, RIP0, rep_insb, 2);
	set_gprs(f, 0, 0x4ff8, 24, false);
	memcpy(before, fx_gpa(f, 0x4ff8), 24);
	fx_script(f, &s, 1);
	fx_run_expect(f, KVM_EXIT_IO);
	XT_EQ(f->run->io.direction, KVM_EXIT_IO_IN);
	XT_EQ(f->run->io.count, 8); /* to the end of the page */
	d = fx_io_data(f);
	for (i = 0; i < 8; i++)
		d[i] = (u8)(0xa0 + i);
	XT_MEMEQ(fx_gpa(f, 0x4ff8), before, 24); /* not yet */
	fx_run_expect(f, KVM_EXIT_IO);           /* the second batch */
	XT_EQ(f->run->io.count, 16);
	for (i = 0; i < 8; i++)
		XT_EQ(byte_at(f, 0x4ff8 + i), 0xa0 + i);
	XT_MEMEQ(fx_gpa(f, 0x5000), before + 8, 16);
	g = get_gprs(f);
	XT_EQ(g.rdi, 0x5000);
	XT_EQ(g.rcx, 16);
	d = fx_io_data(f);
	for (i = 0; i < 16; i++)
		d[i] = (u8)(0xb0 + i);
	fx_run_to_end(f);
	for (i = 0; i < 16; i++)
		XT_EQ(byte_at(f, 0x5000 + i), 0xb0 + i);
	g = get_gprs(f);
	XT_EQ(g.rdi, 0x5010);
	XT_EQ(g.rcx, 0);
	XT_EQ(g.rip, RIP0 + 2);
}

XT_TEST(string_io, df_descending)
{
	struct fx *f = mem_fx();
	struct fake_step s = str_step(0x61, 1, false, true);
	struct gprs g;

	fx_prot32(f, RIP0);
	fx_poke(f, RIP0, rep_outsb, 2);
	set_gprs(f, 0x2010, 0, 0x20, true);
	fx_script(f, &s, 1);
	fx_run_expect(f, KVM_EXIT_IO);
	/* 0x2010 down to the page start: 0x11 bytes */
	expect_out_batch(f, 1, 0x11, 0x2010, true);
	fx_run_expect(f, KVM_EXIT_IO);
	expect_out_batch(f, 1, 0xf, 0x1fff, true);
	g = get_gprs(f);
	XT_EQ(g.rsi, 0x1fff);
	XT_EQ(g.rcx, 0xf);
	fx_run_to_end(f);
	g = get_gprs(f);
	XT_EQ(g.rsi, 0x1ff0);
	XT_EQ(g.rcx, 0);
	XT_EQ(g.rip, RIP0 + 2);
}

XT_TEST(string_io, df_descending_insw)
{
	struct fx *f = mem_fx();
	struct fake_step s = str_step(0x62, 2, true, true);
	static const u8 rep_insw[] = { 0xf3, 0x66, 0x6d }; /* 32-bit code */
	struct gprs g;
	u16 *d;

	fx_prot32(f, RIP0);
	fx_poke(f, RIP0, rep_insw, 3);
	set_gprs(f, 0, 0x6004, 3, true);
	fx_script(f, &s, 1);
	fx_run_expect(f, KVM_EXIT_IO);
	XT_EQ(f->run->io.size, 2);
	XT_EQ(f->run->io.count, 3);
	d = (u16 *)fx_io_data(f);
	d[0] = 0x1111;
	d[1] = 0x2222;
	d[2] = 0x3333;
	fx_run_to_end(f);
	XT_EQ(*(u16 *)fx_gpa(f, 0x6004), 0x1111);
	XT_EQ(*(u16 *)fx_gpa(f, 0x6002), 0x2222);
	XT_EQ(*(u16 *)fx_gpa(f, 0x6000), 0x3333);
	g = get_gprs(f);
	XT_EQ(g.rdi, 0x5ffe);
	XT_EQ(g.rcx, 0);
	XT_EQ(g.rip, RIP0 + 3);
}

/*
 * DF=1 with a first element that straddles a page boundary: like the DF=0
 * case (batches_respect_pages_and_data_page), that element must be a batch
 * of its own, or the batch spans two pages.
 */
XT_TEST(string_io, df_descending_straddling_element)
{
	struct fx *f = mem_fx();
	struct fake_step s = str_step(0x62, 2, false, true);
	static const u8 rep_outsw[] = { 0xf3, 0x66, 0x6f }; /* 32-bit code */

	fx_prot32(f, RIP0);
	fx_poke(f, RIP0, rep_outsw, 3);
	set_gprs(f, 0x2fff, 0, 4, true);
	fx_script(f, &s, 1);
	fx_run_expect(f, KVM_EXIT_IO);
	XT_EQ(f->run->io.count, 1);
	expect_out_batch(f, 2, 1, 0x2fff, true);
}

XT_TEST(string_io, zero_count_just_skips)
{
	struct fx *f = mem_fx();
	struct fake_step s = str_step(0x80, 1, false, true);
	struct gprs g;

	fx_prot32(f, RIP0);
	fx_poke(f, RIP0, rep_outsb, 2);
	set_gprs(f, 0x2000, 0, 0, false);
	fx_script(f, &s, 1);
	fx_run_to_end(f); /* no exit to the VMM */
	g = get_gprs(f);
	XT_EQ(g.rip, RIP0 + 2);
	XT_EQ(g.rsi, 0x2000);
	XT_EQ(g.rcx, 0);
	XT_EQ(f->v->stats.io_exits, 0);
}

/* 16-bit addressing: SI wraps at 64 KiB, the rest of RSI is kept. */
XT_TEST(string_io, addr16_si_wraps)
{
	struct fx *f = mem_fx();
	struct fake_step s = str_step(0x80, 1, false, true);
	struct gprs g;

	fx_real_mode(f, RIP0);
	fx_poke(f, RIP0, rep_outsb, 2);
	set_gprs(f, 0xabcd0000ffffULL, 0, 0x12340003ULL, false);
	fx_script(f, &s, 1);
	fx_run_expect(f, KVM_EXIT_IO);
	expect_out_batch(f, 1, 1, 0xffff, false);
	fx_run_expect(f, KVM_EXIT_IO);
	expect_out_batch(f, 1, 2, 0, false);
	g = get_gprs(f);
	XT_EQ(g.rsi, 0xabcd00000000ULL);
	XT_EQ(g.rcx, 0x12340002ULL); /* CX only */
	fx_run_to_end(f);
	g = get_gprs(f);
	XT_EQ(g.rsi, 0xabcd00000002ULL);
	XT_EQ(g.rcx, 0x12340000ULL);
	XT_EQ(g.rip, RIP0 + 2);
}

/*
 * The same wrap with a segment base that is not page aligned (any real-
 * mode segment): DS:FFFE, DS:FFFF, DS:0000, DS:0001 are two runs of linear
 * addresses 64 KiB apart, so one batch cannot hold them.
 */
XT_TEST(string_io, addr16_wrap_with_unaligned_base)
{
	struct fx *f = mem_fx();
	struct fake_step s = str_step(0x80, 1, false, true);
	struct kvm_sregs sr;
	u8 want[4], *d;
	u32 got = 0, i;

	fx_real_mode(f, RIP0);
	fx_get_sregs(f, &sr);
	sr.ds.selector = 0x1234;
	sr.ds.base = 0x12340;
	fx_set_sregs(f, &sr);
	fx_poke(f, RIP0, rep_outsb, 2);
	set_gprs(f, 0xfffe, 0, 4, false);
	want[0] = byte_at(f, 0x12340 + 0xfffe);
	want[1] = byte_at(f, 0x12340 + 0xffff);
	want[2] = byte_at(f, 0x12340);
	want[3] = byte_at(f, 0x12341);
	fx_script(f, &s, 1);
	while (got < 4) {
		fx_run_expect(f, KVM_EXIT_IO);
		d = fx_io_data(f);
		for (i = 0; i < f->run->io.count && got < 4; i++) {
			xt_ctx("byte %u", got);
			XT_EQ(d[i], want[got]);
			got++;
		}
	}
	fx_run_to_end(f);
	XT_EQ(get_gprs(f).rsi, 2);
}

/* Segment overrides: ES in real mode, FS in 64-bit mode. */
XT_TEST(string_io, segment_override)
{
	struct fx *f = mem_fx();
	struct fake_step s = str_step(0x80, 1, false, true);
	static const u8 es_outsb[] = { 0x26, 0xf3, 0x6e };
	struct kvm_sregs sr;

	fx_real_mode(f, RIP0);
	fx_get_sregs(f, &sr);
	sr.es.selector = 0x300;
	sr.es.base = 0x3000;
	fx_set_sregs(f, &sr);
	fx_poke(f, RIP0, es_outsb, 3);
	set_gprs(f, 0x10, 0, 4, false);
	fx_script(f, &s, 1);
	fx_run_expect(f, KVM_EXIT_IO);
	expect_out_batch(f, 1, 4, 0x3010, false);
	fx_run_to_end(f);
	XT_EQ(get_gprs(f).rip, RIP0 + 3);
}

XT_TEST(string_io, vmm_moved_rip_drops_batch)
{
	struct fx *f = mem_fx();
	struct fake_step s = str_step(0x80, 1, false, true);
	struct gprs g;

	fx_prot32(f, RIP0);
	fx_poke(f, RIP0, rep_outsb, 2);
	set_gprs(f, 0x2000, 0, 8, false);
	fx_script(f, &s, 1);
	fx_run_expect(f, KVM_EXIT_IO);
	fx_set_rip(f, 0x1800);
	fx_run_to_end(f);
	g = get_gprs(f);
	XT_EQ(g.rip, 0x1800);
	XT_EQ(g.rsi, 0x2000);
	XT_EQ(g.rcx, 8);
}

XT_TEST(string_io, immediate_exit_completes_ins)
{
	struct fx *f = mem_fx();
	struct fake_step s = str_step(0x60, 1, true, true);
	struct gprs g;

	fx_prot32(f, RIP0);
	fx_poke(f, RIP0, rep_insb, 2);
	set_gprs(f, 0, 0x7000, 2, false);
	fx_script(f, &s, 1);
	fx_run_expect(f, KVM_EXIT_IO);
	fx_io_data(f)[0] = 0x11;
	fx_io_data(f)[1] = 0x22;
	f->run->immediate_exit = 1;
	XT_EQ(fx_run(f), -EINTR);
	XT_EQ(byte_at(f, 0x7000), 0x11);
	XT_EQ(byte_at(f, 0x7001), 0x22);
	g = get_gprs(f);
	XT_EQ(g.rdi, 0x7002);
	XT_EQ(g.rcx, 0);
	XT_EQ(g.rip, RIP0 + 2);
}

/* ---- 64-bit mode with paging ---- */

#define CODE_LA 0x400000ULL
#define DATA_LA 0x7ff000ULL /* mapped; the next page is not */
#define DATA_GPA 0x3000ULL

static struct fx *long_fx(const u8 *code, size_t n)
{
	struct fx *f = mem_fx();
	u64 cr3 = fx_pt_init(f, 0x20000, 16);

	fx_pt_map(f, cr3, CODE_LA, 0x1000, 0);
	fx_pt_map(f, cr3, DATA_LA, DATA_GPA, 0);
	fx_pt_map(f, cr3, 0x900000, 0x8000, 0);
	fx_long64(f, cr3, CODE_LA);
	fx_poke(f, 0x1000, code, n);
	return f;
}

XT_TEST(string_io, long_mode_outs_fault_on_second_page)
{
	struct fx *f = long_fx(rep_outsb, 2);
	struct fake_step s = str_step(0x80, 1, false, true);
	struct fake_event ev[2];
	struct gprs g;

	set_gprs(f, DATA_LA + 0xff0, 0, 32, false);
	fx_script(f, &s, 1);
	fx_run_expect(f, KVM_EXIT_IO);
	expect_out_batch(f, 1, 16, DATA_GPA + 0xff0, false);
	/* the next batch faults: a #PF for the guest, no exit */
	fx_run_to_end(f);
	XT_EQ(fake_events(f->v, ev, 2), 1);
	XT_EQ(ev[0].vector, XK_EXC_PF);
	XT_ASSERT(ev[0].has_error);
	XT_EQ(ev[0].error, 0); /* not present, read, supervisor */
	XT_EQ(ev[0].cr2, DATA_LA + 0x1000);
	XT_EQ(ev[0].rip, CODE_LA); /* the instruction restarts */
	g = get_gprs(f);
	XT_EQ(g.rsi, DATA_LA + 0x1000);
	XT_EQ(g.rcx, 16);
	XT_EQ(g.rip, CODE_LA);
	XT_EQ(f->v->stats.io_exits, 1);
	XT_EQ(f->v->stats.pf_guest, 1);
}

XT_TEST(string_io, long_mode_ins_fault_writes_nothing)
{
	struct fx *f = long_fx(rep_insb, 2);
	struct fake_step s = str_step(0x60, 1, true, true);
	struct fake_event ev[2];
	u8 snapshot[MEMPAGES * 4096 / 16];
	struct gprs g;
	u32 i;

	set_gprs(f, 0, DATA_LA + 0xff8, 16, false);
	fx_script(f, &s, 1);
	fx_run_expect(f, KVM_EXIT_IO);
	XT_EQ(f->run->io.count, 8);
	for (i = 0; i < 8; i++)
		fx_io_data(f)[i] = (u8)(0xc0 + i);
	fx_run_expect(f, KVM_EXIT_IO); /* the port is read... */
	XT_EQ(f->run->io.count, 8);
	for (i = 0; i < 8; i++)
		XT_EQ(byte_at(f, DATA_GPA + 0xff8 + i), 0xc0 + i);
	memcpy(snapshot, fx_gpa(f, 0), sizeof(snapshot));
	for (i = 0; i < 8; i++)
		fx_io_data(f)[i] = 0xee;
	fx_run_to_end(f); /* ...but storing it faults */
	XT_MEMEQ(fx_gpa(f, 0), snapshot, sizeof(snapshot));
	XT_EQ(fake_events(f->v, ev, 2), 1);
	XT_EQ(ev[0].vector, XK_EXC_PF);
	XT_EQ(ev[0].error, XK_PF_W);
	XT_EQ(ev[0].cr2, DATA_LA + 0x1000);
	g = get_gprs(f);
	XT_EQ(g.rdi, DATA_LA + 0x1000);
	XT_EQ(g.rcx, 8);
	XT_EQ(g.rip, CODE_LA);
}

XT_TEST(string_io, long_mode_straddling_element_faults)
{
	static const u8 rep_outsw[] = { 0xf3, 0x66, 0x6f };
	struct fx *f = long_fx(rep_outsw, 3);
	struct fake_step s = str_step(0x80, 2, false, true);
	struct fake_event ev[2];

	set_gprs(f, DATA_LA + 0xfff, 0, 4, false);
	fx_script(f, &s, 1);
	fx_run_to_end(f);
	XT_EQ(f->v->stats.io_exits, 0);
	XT_EQ(fake_events(f->v, ev, 2), 1);
	XT_EQ(ev[0].vector, XK_EXC_PF);
	XT_EQ(ev[0].cr2, DATA_LA + 0x1000);
	XT_EQ(get_gprs(f).rsi, DATA_LA + 0xfff);
}

XT_TEST(string_io, long_mode_fs_override_and_addr32)
{
	/* fs rep outsb; then addr32 rep outsb (ESI, zero-extended) */
	static const u8 code[] = { 0x64, 0xf3, 0x6e, 0x67, 0xf3, 0x6e };
	struct fx *f = long_fx(code, sizeof(code));
	struct fake_step s[2] = { str_step(0x80, 1, false, true),
				  str_step(0x81, 1, false, true) };
	struct kvm_sregs sr;
	struct gprs g;

	fx_get_sregs(f, &sr);
	sr.fs.base = 0x900000 - 0x100;
	fx_set_sregs(f, &sr);
	set_gprs(f, 0x120, 0, 4, false);
	fx_script(f, s, 2);
	fx_run_expect(f, KVM_EXIT_IO);
	XT_EQ(f->run->io.port, 0x80);
	expect_out_batch(f, 1, 4, 0x8020, false);
	set_gprs(f, 0xffffffff00000000ULL | (DATA_LA + 0x10), 0, 2, false);
	fx_set_rip(f, CODE_LA + 3);
	fx_run_expect(f, KVM_EXIT_IO);
	XT_EQ(f->run->io.port, 0x81);
	expect_out_batch(f, 1, 2, DATA_GPA + 0x10, false);
	fx_run_to_end(f);
	g = get_gprs(f);
	XT_EQ(g.rsi, DATA_LA + 0x12); /* a 32-bit write zero-extends */
	XT_EQ(g.rip, CODE_LA + 6);
}
