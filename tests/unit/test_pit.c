// SPDX-License-Identifier: GPL-2.0
/*
 * test_pit.c - the 8254 model (core/pit.c) on the stopped clock of
 * host/user: every mode's counter and OUT over time, latches and
 * read-back, access modes, BCD, gates, port 0x61, channel 0's IRQ0 pulses
 * counted while the clock is moved on (periods, one-shots, clamping,
 * reprogramming, late timers, HPET legacy mode), KVM_GET/SET_PIT2 round
 * trips, and lost-tick reinjection (KVM_REINJECT_CONTROL): ticks held
 * until acknowledged, one pulse per acknowledgement, the bound, what
 * drops them, switching the mode.  Leaks, timers included, are checked by
 * the harness.  The timing tests run with reinject off (Linux's
 * coalescing policy: every expiry pulses); mk_re() keeps the default.
 */
#include <string.h>

#include "pic.h"
#include "pit.h"
#include "xtest.h"

#define T0 1000000000000ull /* 1000 s: the clock at the start */
#define MS 1000000ull

/* The first nanosecond at which t input clocks have passed. */
static u64 tns(u64 t)
{
	unsigned __int128 n = (unsigned __int128)t * 1000000000u;

	return (u64)((n + XK_PIT_HZ - 1) / XK_PIT_HZ);
}

struct pitfx {
	struct xk_pit *pit;
	unsigned int raises, lowers;
	int level;
	u64 at[256]; /* when each pulse rose */
	u64 last;    /* when the last one rose */
	struct xk_pic *pic;
};

static void on_irq0(void *opaque, int level)
{
	struct pitfx *f = opaque;

	XT_ASSERT(host_user_atomic_depth() > 0); /* timer context */
	XT_ASSERT(level != f->level);            /* pulses: 1 then 0 */
	f->level = level;
	if (level) {
		if (f->raises < 256)
			f->at[f->raises] = host_time_ns();
		f->raises++;
		f->last = host_time_ns();
	} else {
		f->lowers++;
	}
	if (f->pic)
		xk_pic_set_irq_irqsoff(f->pic, 0, level);
}

static void destroy_pit(void *arg)
{
	xk_pit_destroy(arg);
}

static void clock_real(void *arg)
{
	(void)arg;
	host_user_clock_real();
}

/* A PIT as KVM_CREATE_PIT2 makes it: reinject on. */
static struct xk_pit *mk_re(struct pitfx *f, u32 flags)
{
	struct xk_pit_ops ops = { on_irq0, f };

	memset(f, 0, sizeof(*f));
	host_user_clock_set(T0);
	xt_cleanup(clock_real, NULL);
	XT_EQ(xk_pit_create(flags, &ops, &f->pit), 0);
	xt_cleanup(destroy_pit, f->pit);
	XT_ASSERT(xk_pit_reinject(f->pit));
	return f->pit;
}

/* The same with reinject off: every expiry pulses IRQ0. */
static struct xk_pit *mk(struct pitfx *f, u32 flags)
{
	struct xk_pit *pit = mk_re(f, flags);

	xk_pit_set_reinject(pit, false);
	return pit;
}

static void out(struct xk_pit *pit, u16 port, u8 val)
{
	XT_EQ(xk_pit_write(pit, port, 1, val), 0);
}

static u8 in(struct xk_pit *pit, u16 port)
{
	u32 v = 0xdeadbeef;

	XT_EQ(xk_pit_read(pit, port, 1, &v), 0);
	XT_ASSERT(v <= 0xff);
	return (u8)v;
}

/* Control word cw for its channel, then a 16-bit count as LSB, MSB. */
static void program(struct xk_pit *pit, u8 cw, u16 count)
{
	u16 port = 0x40 + (cw >> 6);

	out(pit, 0x43, cw);
	out(pit, port, count & 0xff);
	out(pit, port, count >> 8);
}

static void at(u64 ns)
{
	host_user_clock_set(ns);
}

#define COUNT(ch, t) xk_pit_count_at(pit, (ch), T0 + tns(t))
#define OUT(ch, t) xk_pit_out_at(pit, (ch), T0 + tns(t))

XT_TEST(pit, reset_state_and_ports)
{
	struct pitfx f, g;
	struct xk_pit *pit = mk(&f, 0), *p2;
	struct kvm_pit_state2 s;
	u32 v;
	int i;

	xk_pit_get_state(pit, &s);
	XT_EQ(s.flags, 0);
	for (i = 0; i < 3; i++) {
		XT_EQ(s.channels[i].mode, 0xff);
		XT_EQ(s.channels[i].count, 0x10000);
		XT_EQ(s.channels[i].gate, i != 2);
		XT_EQ(s.channels[i].rw_mode, 0);
		XT_EQ(s.channels[i].count_load_time, T0);
	}
	XT_ASSERT(xk_pit_port(pit, 0x40) && xk_pit_port(pit, 0x43));
	XT_ASSERT(!xk_pit_port(pit, 0x44) && !xk_pit_port(pit, 0x61));
	XT_EQ(xk_pit_read(pit, 0x61, 1, &v), -EOPNOTSUPP);
	XT_EQ(xk_pit_write(pit, 0x61, 1, 3), -EOPNOTSUPP);
	XT_EQ(xk_pit_write(pit, 0x3f, 1, 3), -EOPNOTSUPP);
	XT_EQ(in(pit, 0x43), 0xff); /* the control word cannot be read */
	XT_EQ(xk_pit_create(2, NULL, &p2), -EINVAL);
	XT_ASSERT(p2 == NULL);
	p2 = mk(&g, KVM_PIT_SPEAKER_DUMMY);
	XT_ASSERT(xk_pit_port(p2, 0x61) && !xk_pit_port(p2, 0x62));
	/* an unprogrammed channel 0 never interrupts */
	XT_EQ(host_user_clock_advance(1000 * MS), 0);
	XT_EQ(f.raises + g.raises, 0);
	/* wide accesses: the low byte is written, one byte comes back */
	XT_EQ(xk_pit_write(pit, 0x43, 4, 0x12345634), 0);
	XT_EQ(xk_pit_write(pit, 0x40, 2, 0x1234), 0);
	XT_EQ(xk_pit_write(pit, 0x40, 2, 0x5600), 0);
	XT_EQ(xk_pit_read(pit, 0x40, 4, &v), 0);
	XT_EQ(v, 0x34);
	xk_pit_get_state(pit, &s);
	XT_EQ(s.channels[0].count, 0x0034);
	XT_EQ(s.channels[0].mode, 2);
}

XT_TEST(pit, create_failure_leaks_nothing)
{
	struct xk_pit *pit;
	unsigned long n, i;

	host_user_fail_nth(0, HOST_USER_FAIL_ALL);
	XT_EQ(xk_pit_create(0, NULL, &pit), 0);
	n = host_user_fail_points();
	xk_pit_destroy(pit);
	XT_EQ(n, 3); /* the PIT, its lock, its timer */
	for (i = 1; i <= n; i++) {
		host_user_fail_nth(i, HOST_USER_FAIL_ALL);
		XT_EQ(xk_pit_create(0, NULL, &pit), -ENOMEM);
		XT_ASSERT(pit == NULL);
	}
	host_user_fail_nth(0, HOST_USER_FAIL_ALL);
	xk_pit_destroy(NULL);
}

XT_TEST(pit, mode0_interrupt_on_terminal_count)
{
	struct pitfx f;
	struct xk_pit *pit = mk(&f, KVM_PIT_SPEAKER_DUMMY);

	out(pit, 0x61, 0x01);
	out(pit, 0x43, 0xb0);
	XT_ASSERT(!OUT(2, 0)); /* low from the control word */
	out(pit, 0x42, 0xe8);
	XT_ASSERT(!OUT(2, 0));
	out(pit, 0x42, 0x03); /* 1000 loaded now */
	XT_EQ(COUNT(2, 0), 1000);
	XT_EQ(COUNT(2, 1), 999);
	XT_EQ(COUNT(2, 999), 1);
	XT_ASSERT(!OUT(2, 999));
	XT_EQ(COUNT(2, 1000), 0);
	XT_ASSERT(OUT(2, 1000));
	XT_EQ(COUNT(2, 1001), 0xffff); /* wraps, OUT stays high */
	XT_ASSERT(OUT(2, 70000));
	/* through the ports: the LSB/MSB flip-flop and port 0x61 bit 5 */
	at(T0 + tns(500));
	XT_EQ(in(pit, 0x42), 0xf4);
	XT_EQ(in(pit, 0x42), 0x01);
	XT_EQ(in(pit, 0x61) & 0x20, 0);
	at(T0 + tns(1000));
	XT_EQ(in(pit, 0x61) & 0x20, 0x20);
	/* a new count sets OUT low again */
	out(pit, 0x42, 0x10);
	out(pit, 0x42, 0x00);
	XT_EQ(in(pit, 0x61) & 0x20, 0);
}

XT_TEST(pit, mode1_gate_triggered_one_shot)
{
	struct pitfx f;
	struct xk_pit *pit = mk(&f, KVM_PIT_SPEAKER_DUMMY);
	u64 t1 = T0 + 5 * MS, t2;

	program(pit, 0xb2, 100); /* gate 2 low */
	XT_ASSERT(OUT(2, 0));
	XT_EQ(COUNT(2, 500), 100); /* waits for a trigger */
	at(t1);
	out(pit, 0x61, 0x01); /* rising edge */
	XT_ASSERT(!xk_pit_out_at(pit, 2, t1));
	XT_EQ(xk_pit_count_at(pit, 2, t1 + tns(50)), 50);
	XT_ASSERT(!xk_pit_out_at(pit, 2, t1 + tns(99)));
	XT_ASSERT(xk_pit_out_at(pit, 2, t1 + tns(100)));
	/* retriggered: a new pulse of N clocks */
	t2 = t1 + tns(300);
	at(t2);
	out(pit, 0x61, 0x00);
	XT_ASSERT(
		xk_pit_out_at(pit, 2, t2)); /* the gate level does not matter */
	out(pit, 0x61, 0x01);
	XT_ASSERT(!xk_pit_out_at(pit, 2, t2 + tns(99)));
	XT_EQ(xk_pit_count_at(pit, 2, t2 + tns(10)), 90);
	XT_ASSERT(xk_pit_out_at(pit, 2, t2 + tns(100)));
	/* on channel 0, whose gate is tied high, it never triggers */
	program(pit, 0x32, 1000);
	XT_EQ(host_user_clock_advance(100 * MS), 0);
	XT_EQ(f.raises, 0);
}

XT_TEST(pit, mode2_rate_generator)
{
	struct pitfx f;
	struct xk_pit *pit = mk(&f, 0);

	program(pit, 0x34, 100);
	XT_EQ(COUNT(0, 0), 100);
	XT_EQ(COUNT(0, 1), 99);
	XT_EQ(COUNT(0, 98), 2);
	XT_ASSERT(OUT(0, 98));
	XT_EQ(COUNT(0, 99), 1);
	XT_ASSERT(!OUT(0, 99)); /* low for the clock at count 1 */
	XT_EQ(COUNT(0, 100), 100);
	XT_ASSERT(OUT(0, 100));
	XT_ASSERT(!OUT(0, 199));
	XT_EQ(COUNT(0, 1234), 66);
	/* mode 6 is mode 2 */
	program(pit, 0x3c, 100);
	XT_EQ(COUNT(0, 99), 1);
	XT_ASSERT(!OUT(0, 99));
}

XT_TEST(pit, mode3_square_wave)
{
	struct pitfx f;
	struct xk_pit *pit = mk(&f, 0);
	static const u16 even[] = { 10, 8, 6, 4, 2, 10, 8, 6, 4, 2, 10 };
	static const u16 odd[] = { 10, 8, 6, 4, 2, 0, 10, 8, 6, 4, 2, 10 };
	int d;

	program(pit, 0x76, 10);
	for (d = 0; d <= 10; d++) {
		xt_ctx("even d=%d", d);
		XT_EQ(COUNT(1, d), even[d]);
		XT_EQ(OUT(1, d), d < 5 || d == 10);
	}
	program(pit, 0x76, 11); /* high 6 clocks, low 5 */
	for (d = 0; d <= 11; d++) {
		xt_ctx("odd d=%d", d);
		XT_EQ(COUNT(1, d), odd[d]);
		XT_EQ(OUT(1, d), d < 6 || d == 11);
	}
	program(pit, 0x7e, 10); /* mode 7 is mode 3 */
	XT_EQ(xk_pit_count_at(pit, 1, T0 + tns(6)), 8);
	XT_ASSERT(!xk_pit_out_at(pit, 1, T0 + tns(6)));
}

XT_TEST(pit, mode4_and_mode5_strobes)
{
	struct pitfx f;
	struct xk_pit *pit = mk(&f, KVM_PIT_SPEAKER_DUMMY);
	u64 t1 = T0 + 3 * MS;

	program(pit, 0x78, 50);
	XT_ASSERT(OUT(1, 0));
	XT_ASSERT(OUT(1, 49));
	XT_ASSERT(!OUT(1, 50)); /* one clock low */
	XT_ASSERT(OUT(1, 51));
	XT_EQ(COUNT(1, 20), 30);
	XT_EQ(COUNT(1, 51), 0xffff);
	/* mode 5 waits for the gate's rising edge */
	program(pit, 0xba, 50);
	XT_ASSERT(OUT(2, 50));
	XT_EQ(COUNT(2, 60), 50);
	at(t1);
	out(pit, 0x61, 0x01);
	XT_EQ(xk_pit_count_at(pit, 2, t1 + tns(20)), 30);
	XT_ASSERT(xk_pit_out_at(pit, 2, t1 + tns(49)));
	XT_ASSERT(!xk_pit_out_at(pit, 2, t1 + tns(50)));
	XT_ASSERT(xk_pit_out_at(pit, 2, t1 + tns(51)));
}

XT_TEST(pit, gate_pauses_and_restarts)
{
	struct pitfx f;
	struct xk_pit *pit = mk(&f, KVM_PIT_SPEAKER_DUMMY);
	u64 lo = T0 + tns(100), hi = T0 + tns(600);

	out(pit, 0x61, 0x01);
	program(pit, 0xb0, 1000); /* mode 0 */
	at(lo);
	out(pit, 0x61, 0x00);
	XT_EQ(xk_pit_count_at(pit, 2, lo), 900);
	XT_EQ(xk_pit_count_at(pit, 2, hi), 900); /* paused */
	at(hi);
	out(pit, 0x61, 0x01);
	XT_EQ(xk_pit_count_at(pit, 2, hi + tns(100)), 800);
	XT_ASSERT(!xk_pit_out_at(pit, 2, hi + tns(899)));
	XT_ASSERT(xk_pit_out_at(pit, 2, hi + 2 * tns(900)));
	/* a count written with the gate low waits for it */
	out(pit, 0x61, 0x00);
	program(pit, 0xb0, 1000);
	XT_EQ(xk_pit_count_at(pit, 2, hi + tns(5000)), 1000);

	/* mode 2: gate low forces OUT high, the rising edge reloads N */
	at(T0);
	out(pit, 0x61, 0x01);
	program(pit, 0xb4, 100);
	XT_ASSERT(!OUT(2, 99));
	at(T0 + tns(99));
	out(pit, 0x61, 0x00);
	XT_ASSERT(OUT(2, 99));
	XT_EQ(COUNT(2, 150), 1);
	at(T0 + tns(150));
	out(pit, 0x61, 0x01);
	XT_EQ(COUNT(2, 150), 100);
	XT_EQ(COUNT(2, 160), 90);
}

XT_TEST(pit, latch_and_read_back)
{
	struct pitfx f;
	struct xk_pit *pit = mk(&f, 0);

	program(pit, 0x34, 1000);
	at(T0 + tns(100));
	out(pit, 0x43, 0x00); /* latch channel 0 */
	at(T0 + tns(300));
	out(pit, 0x43, 0x00); /* ignored: one is pending */
	XT_EQ(in(pit, 0x40), 900 & 0xff);
	XT_EQ(in(pit, 0x40), 900 >> 8);
	XT_EQ(in(pit, 0x40), 700 & 0xff); /* live again */
	XT_EQ(in(pit, 0x40), 700 >> 8);
	/* read-back of count and status: the status comes first */
	out(pit, 0x43, 0xc2);
	at(T0 + tns(400));
	XT_EQ(in(pit, 0x40), 0xb4); /* OUT high, word, mode 2, binary */
	XT_EQ(in(pit, 0x40), 700 & 0xff);
	XT_EQ(in(pit, 0x40), 700 >> 8);
	XT_EQ(in(pit, 0x40), 600 & 0xff);
	/* status only, after a control word: null count */
	out(pit, 0x43, 0x34);
	out(pit, 0x43, 0xe2);
	XT_EQ(in(pit, 0x40), 0xf4);
	out(pit, 0x40, 0x10);
	out(pit, 0x40, 0x00);
	out(pit, 0x43, 0xe2);
	XT_EQ(in(pit, 0x40), 0xb4);
	/* several channels at once, count only */
	program(pit, 0x70, 2000); /* channel 1, mode 0 */
	at(T0 + tns(400) + tns(20));
	out(pit, 0x43, 0xd6); /* the counts of channels 0 and 1 */
	XT_EQ(in(pit, 0x41), (2000 - 20) & 0xff);
	XT_EQ(in(pit, 0x41), (2000 - 20) >> 8);
	XT_EQ(in(pit, 0x40), 16 - 20 % 16);
	XT_EQ(in(pit, 0x40), 0);
	/* channel 2 unprogrammed: no access mode, the latch is a no-op */
	XT_EQ(f.raises, 0);
}

XT_TEST(pit, access_modes)
{
	struct pitfx f;
	struct xk_pit *pit = mk(&f, 0);
	struct kvm_pit_state2 s;

	out(pit, 0x43, 0x54); /* channel 1, LSB only, mode 2 */
	out(pit, 0x41, 0x80);
	xk_pit_get_state(pit, &s);
	XT_EQ(s.channels[1].count, 0x80);
	XT_EQ(s.channels[1].rw_mode, 1);
	XT_EQ(in(pit, 0x41), 0x80);
	XT_EQ(in(pit, 0x41), 0x80); /* no flip-flop */
	out(pit, 0x43, 0x64);       /* MSB only */
	out(pit, 0x41, 0x02);
	xk_pit_get_state(pit, &s);
	XT_EQ(s.channels[1].count, 0x200);
	XT_EQ(in(pit, 0x41), 0x02);
	XT_EQ(in(pit, 0x41), 0x02);
	out(pit, 0x43, 0x74); /* LSB then MSB */
	out(pit, 0x41, 0x34);
	xk_pit_get_state(pit, &s);
	XT_EQ(s.channels[1].write_state, 4);
	XT_EQ(s.channels[1].write_latch, 0x34);
	XT_EQ(s.channels[1].count, 0x200); /* not loaded yet */
	out(pit, 0x41, 0x12);
	xk_pit_get_state(pit, &s);
	XT_EQ(s.channels[1].count, 0x1234);
	XT_EQ(s.channels[1].write_state, 3);
	XT_EQ(in(pit, 0x41), 0x34);
	XT_EQ(in(pit, 0x41), 0x12);
	/* count 0 is 65536 */
	program(pit, 0x74, 0);
	xk_pit_get_state(pit, &s);
	XT_EQ(s.channels[1].count, 0x10000);
	XT_EQ(COUNT(1, 0), 0);
	XT_EQ(COUNT(1, 1), 0xffff);
}

XT_TEST(pit, bcd_counting)
{
	struct pitfx f;
	struct xk_pit *pit = mk(&f, 0);

	program(pit, 0x75, 0x1000); /* mode 2, BCD 1000 */
	XT_EQ(COUNT(1, 0), 0x1000);
	XT_EQ(COUNT(1, 1), 0x0999);
	XT_EQ(COUNT(1, 999), 0x0001);
	XT_ASSERT(!OUT(1, 999));
	XT_EQ(COUNT(1, 1000), 0x1000);
	program(pit, 0x71, 0); /* mode 0, BCD 0 = 10000 */
	XT_EQ(COUNT(1, 1), 0x9999);
	XT_EQ(COUNT(1, 1234), 0x8766);
	XT_EQ(COUNT(1, 10000), 0x0000);
	XT_ASSERT(OUT(1, 10000));
	XT_EQ(COUNT(1, 10001), 0x9999);    /* wraps in decimal */
	out(pit, 0x43, 0xe4);              /* status of channel 1 */
	XT_EQ(in(pit, 0x41), 0x30 | 0x01); /* OUT low, word, mode 0, BCD */
	/* a BCD periodic interrupt on channel 0: 0x1193 = 1193 clocks */
	program(pit, 0x35, 0x1193);
	XT_EQ(host_user_clock_advance(tns(1193) * 3), 3);
	XT_EQ(f.raises, 3);
	XT_EQ(f.at[2], T0 + tns(3 * 1193));
}

XT_TEST(pit, port_61)
{
	struct pitfx f;
	struct xk_pit *pit = mk(&f, KVM_PIT_SPEAKER_DUMMY);
	struct kvm_pit_state2 s;
	u64 t = T0 & ~((1ull << 15) - 1); /* bit 14 clear */

	at(t);
	XT_EQ(in(pit, 0x61), 0x00);
	at(t + (1 << 14));
	XT_EQ(in(pit, 0x61), 0x10); /* the refresh toggle */
	at(t);
	out(pit, 0x61, 0xfe); /* only bits 0 and 1 mean anything */
	XT_EQ(in(pit, 0x61), 0x02);
	xk_pit_get_state(pit, &s);
	XT_EQ(s.flags, KVM_PIT_FLAGS_SPEAKER_DATA_ON);
	XT_EQ(s.channels[2].gate, 0);
	out(pit, 0x61, 0x01);
	XT_EQ(in(pit, 0x61), 0x01);
	xk_pit_get_state(pit, &s);
	XT_EQ(s.flags, 0);
	XT_EQ(s.channels[2].gate, 1);
	/* OUT2 as Linux's calibration loop waits for it */
	program(pit, 0xb0, 10);
	XT_EQ(in(pit, 0x61), 0x01);
	at(t + tns(10));
	XT_EQ(in(pit, 0x61), 0x21);
	/* a square wave on the speaker */
	at(t);
	out(pit, 0x61, 0x03);
	program(pit, 0xb6, 1193);
	XT_EQ(in(pit, 0x61), 0x23);
	at(t + tns(600));
	XT_EQ(in(pit, 0x61), 0x03);
}

XT_TEST(pit, irq0_periodic_without_drift)
{
	struct pitfx f;
	struct xk_pit *pit = mk(&f, 0);
	unsigned int want = 0, i;
	u64 delivered, skipped;

	program(pit, 0x34, 11932); /* 10.0001 ms */
	while (tns((u64)(want + 1) * 11932) <= 1000 * MS)
		want++;
	XT_EQ(want, 99);
	for (i = 0; i < 1000; i++)
		host_user_clock_advance(MS);
	XT_EQ(f.raises, want);
	XT_EQ(f.lowers, want);
	for (i = 0; i < want; i++) {
		xt_ctx("pulse %u", i);
		XT_EQ(f.at[i], T0 + tns((u64)(i + 1) * 11932));
	}
	/* after a day's worth of ticks the next expiry is still exact */
	for (i = 0; i < 2000; i++)
		host_user_clock_advance(10 * MS);
	XT_EQ(f.raises, want + 2000);
	xk_pit_ticks(pit, &delivered, &skipped);
	XT_EQ(delivered, want + 2000);
	XT_EQ(skipped, 0);
	XT_EQ(f.last, T0 + tns((u64)(want + 2000) * 11932));
	/* mode 3 interrupts at the same rate */
	program(pit, 0x36, 11932);
	f.raises = 0;
	host_user_clock_advance(100 * MS);
	XT_EQ(f.raises, 9);
}

XT_TEST(pit, irq0_one_shots)
{
	struct pitfx f;
	struct xk_pit *pit = mk(&f, 0);

	program(pit, 0x30, 1193); /* mode 0: once at terminal count */
	XT_EQ(host_user_clock_advance(100 * MS), 1);
	XT_EQ(f.raises, 1);
	XT_EQ(f.at[0], T0 + tns(1193));
	XT_EQ(host_user_clock_advance(100 * MS), 0);
	/* again: a new count is a new one-shot */
	out(pit, 0x40, 0xa9);
	out(pit, 0x40, 0x04);
	host_user_clock_advance(100 * MS);
	XT_EQ(f.raises, 2);
	XT_EQ(f.at[1], T0 + 200 * MS + tns(1193));
	/* mode 4: one strobe */
	program(pit, 0x38, 100);
	host_user_clock_advance(100 * MS);
	XT_EQ(f.raises, 3);
	XT_EQ(f.at[2], T0 + 300 * MS + tns(100));
	/* mode 5 needs a gate edge channel 0 never sees */
	program(pit, 0x3a, 100);
	host_user_clock_advance(100 * MS);
	XT_EQ(f.raises, 3);
}

XT_TEST(pit, irq0_small_period_is_clamped)
{
	struct pitfx f;
	struct xk_pit *pit = mk(&f, 0);

	program(pit, 0x34, 2); /* 1.7 us asked */
	host_user_clock_advance(10 * MS);
	XT_EQ(f.raises, 10 * MS / XK_PIT_MIN_PERIOD_NS);
	XT_EQ(f.at[0], T0 + XK_PIT_MIN_PERIOD_NS);
	XT_EQ(f.at[49], T0 + 50 * XK_PIT_MIN_PERIOD_NS);
	/* the counter itself still runs at the asked rate */
	XT_EQ(xk_pit_count_at(pit, 0, T0 + tns(11933)), 1);
	XT_EQ(xk_pit_count_at(pit, 0, T0 + tns(11934)), 2);
	/* just above the limit: not clamped */
	program(pit, 0x34, 240);
	f.raises = 0;
	host_user_clock_advance(tns(240) * 10);
	XT_EQ(f.raises, 10);
	XT_EQ(f.at[9], T0 + 10 * MS + tns(2400));
}

XT_TEST(pit, irq0_reprogrammed_while_running)
{
	struct pitfx f;
	struct xk_pit *pit = mk(&f, 0);
	u64 t;

	program(pit, 0x34, 11932);
	host_user_clock_advance(25 * MS);
	XT_EQ(f.raises, 2);
	out(pit, 0x40, 5966 & 0xff); /* LSB alone changes nothing yet */
	host_user_clock_advance(1 * MS);
	t = host_time_ns();
	out(pit, 0x40, 5966 >> 8);
	host_user_clock_advance(tns(5966) * 2);
	XT_EQ(f.raises, 4);
	XT_EQ(f.at[2], t + tns(5966));
	XT_EQ(f.at[3], t + tns(2 * 5966));
	/* a control word stops it until the count is written */
	out(pit, 0x43, 0x34);
	host_user_clock_advance(100 * MS); /* its expiry fires, unheard */
	XT_EQ(f.raises, 4);
	t = host_time_ns();
	out(pit, 0x40, 0x00);
	out(pit, 0x40, 0x00); /* 65536: 54.9 ms */
	host_user_clock_advance(100 * MS);
	XT_EQ(f.raises, 5);
	XT_EQ(f.at[4], t + tns(65536));
	/* a reset silences it */
	xk_pit_reset(pit);
	XT_EQ(host_user_clock_advance(100 * MS), 1); /* the stale expiry */
	XT_EQ(f.raises, 5);
}

XT_TEST(pit, irq0_late_timer_skips_periods)
{
	struct pitfx f;
	struct xk_pit *pit = mk(&f, 0);
	u64 delivered, skipped;

	program(pit, 0x34, 11932);
	at(T0 + 105 * MS); /* the host slept through ten expiries */
	XT_EQ(host_user_clock_advance(0), 1);
	XT_EQ(f.raises, 1);
	xk_pit_ticks(pit, &delivered, &skipped);
	XT_EQ(delivered, 1);
	XT_EQ(skipped, 9);
	host_user_clock_advance(10 * MS); /* back in phase */
	XT_EQ(f.raises, 2);
	XT_EQ(f.at[1], T0 + tns(11 * 11932));
}

XT_TEST(pit, hpet_legacy_silences_channel0)
{
	struct pitfx f;
	struct xk_pit *pit = mk(&f, 0);
	struct kvm_pit_state2 s;
	u64 t;

	program(pit, 0x34, 11932);
	xk_pit_get_state(pit, &s);
	s.flags = KVM_PIT_FLAGS_HPET_LEGACY;
	xk_pit_set_state(pit, &s);
	host_user_clock_advance(100 * MS);
	XT_EQ(f.raises, 0);
	xk_pit_get_state(pit, &s);
	XT_EQ(s.flags, KVM_PIT_FLAGS_HPET_LEGACY);
	/* the guest may still program it; it stays silent */
	program(pit, 0x34, 1193);
	host_user_clock_advance(100 * MS);
	XT_EQ(f.raises, 0);
	s.flags = 0;
	t = host_time_ns();
	xk_pit_set_state(pit, &s); /* restarts from now with 11932 */
	host_user_clock_advance(25 * MS);
	XT_EQ(f.raises, 2);
	XT_EQ(f.at[0], t + tns(11932));
}

XT_TEST(pit, pit2_get_set_round_trip)
{
	struct pitfx f, g;
	struct xk_pit *a = mk(&f, KVM_PIT_SPEAKER_DUMMY), *b;
	struct kvm_pit_state2 s, s2;
	int i;

	b = mk(&g, KVM_PIT_SPEAKER_DUMMY);
	program(a, 0x36, 1234);   /* channel 0, mode 3 */
	program(a, 0x74, 0x4321); /* channel 1 */
	out(a, 0x61, 0x03);       /* gate 2, speaker */
	out(a, 0x43, 0xb4);       /* channel 2, mode 2, word */
	out(a, 0x42, 0x11);       /* half a count */
	at(T0 + tns(34));
	out(a, 0x43, 0x40); /* latch channel 1 */
	XT_EQ(in(a, 0x41), (0x4321 - 34) & 0xff);
	out(a, 0x43, 0xe8); /* status of channel 2 */
	xk_pit_get_state(a, &s);
	XT_EQ(s.channels[1].count_latched, 2); /* the MSB is next */
	XT_EQ(s.channels[2].status_latched, 1);
	XT_EQ(s.channels[2].write_state, 4);
	XT_EQ(s.flags, KVM_PIT_FLAGS_SPEAKER_DATA_ON);
	for (i = 0; i < 3; i++)
		XT_EQ(s.reserved[i], 0);

	at(T0 + 7 * MS);
	xk_pit_set_state(b, &s);
	xk_pit_get_state(b, &s2);
	XT_EQ(s2.flags, s.flags);
	for (i = 0; i < 3; i++) {
		xt_ctx("channel %d", i);
		XT_EQ(s2.channels[i].count_load_time, T0 + 7 * MS);
		s2.channels[i].count_load_time = s.channels[i].count_load_time;
	}
	XT_MEMEQ(&s, &s2, sizeof(s));
	/* the half-read latch and the pending status carry over */
	XT_EQ(in(b, 0x41), (0x4321 - 34) >> 8);
	XT_EQ(in(b, 0x42) & 0x3f, 0x34);
	out(b, 0x42, 0x00); /* the second half of the count */
	xk_pit_get_state(b, &s2);
	XT_EQ(s2.channels[2].count, 0x0011);
	/* channel 0 restarted at the set */
	host_user_clock_advance(tns(1234) * 2);
	XT_EQ(g.raises, 2);
	XT_EQ(g.at[0], T0 + 7 * MS + tns(1234));
	/* a count of 0 is 65536 */
	s.channels[1].count = 0;
	xk_pit_set_state(b, &s);
	xk_pit_get_state(b, &s2);
	XT_EQ(s2.channels[1].count, 0x10000);
}

XT_TEST(pit, irq0_drives_the_pic)
{
	struct pitfx f;
	struct xk_pit *pit = mk(&f, 0);
	struct xk_pic *pic;
	int i;

	XT_EQ(xk_pic_create(NULL, &pic), 0);
	f.pic = pic;
	/* SeaBIOS's PIC setup, IRQ0 open */
	xk_pic_write(pic, 0x20, 1, 0x11);
	xk_pic_write(pic, 0x21, 1, 0x08);
	xk_pic_write(pic, 0x21, 1, 0x04);
	xk_pic_write(pic, 0x21, 1, 0x01);
	xk_pic_write(pic, 0x21, 1, 0xfe);
	program(pit, 0x34, 11932);
	for (i = 0; i < 3; i++) {
		host_user_clock_advance(i ? 10 * MS : 11 * MS);
		XT_ASSERT(xk_pic_has_interrupt(pic));
		XT_EQ(xk_pic_ack(pic), 0x08);
		XT_ASSERT(!xk_pic_has_interrupt(pic));
		xk_pic_write(pic, 0x20, 1, 0x20);
	}
	xk_pit_destroy(pit);
	xt_cleanup_cancel(destroy_pit, pit);
	xk_pic_destroy(pic);
}

/* ---- lost-tick reinjection ---- */

/* How many periods of n clocks have ended by ns after the load. */
static unsigned int periods_by(u64 n, u64 ns)
{
	unsigned int k = 0;

	while (tns((u64)(k + 1) * n) <= ns)
		k++;
	return k;
}

XT_TEST(pit, reinject_stall_one_interrupt_per_ack)
{
	struct pitfx f;
	struct xk_pit *pit = mk_re(&f, 0);
	u64 delivered, skipped;
	unsigned int i;

	program(pit, 0x34, 11932); /* 10 ms */
	XT_EQ(host_user_clock_advance(11 * MS), 1);
	XT_EQ(f.raises, 1);
	XT_EQ(xk_pit_pending(pit), 1); /* in flight until acked */
	xk_pit_ack(pit);
	XT_EQ(xk_pit_pending(pit), 0);
	XT_EQ(host_user_clock_advance(0), 0); /* nothing more was due */
	/* the host stalls through ten expiries (20 ms ... 110 ms) */
	at(T0 + 115 * MS);
	XT_EQ(host_user_clock_advance(0), 1);
	XT_EQ(f.raises, 2);
	XT_EQ(xk_pit_pending(pit), 10);
	/* no second pulse before the guest acknowledges the first */
	XT_EQ(host_user_clock_advance(2 * MS), 0);
	XT_EQ(f.raises, 2);
	for (i = 1; i < 10; i++) {
		xt_ctx("ack %u", i);
		xk_pit_ack(pit);
		XT_EQ(f.raises, 1 + i); /* the pulse is the timer's ... */
		XT_EQ(host_user_clock_advance(0), 1); /* ... due at once */
		XT_EQ(f.raises, 2 + i);
		XT_EQ(f.at[1 + i], T0 + 117 * MS); /* not a period later */
		XT_EQ(xk_pit_pending(pit), 10 - i);
		XT_EQ(host_user_clock_advance(0), 0); /* one per ack */
	}
	xk_pit_ack(pit); /* the tenth: nothing left */
	XT_EQ(xk_pit_pending(pit), 0);
	XT_EQ(host_user_clock_advance(0), 0);
	XT_EQ(f.raises, 11);
	/* back in phase: the next expiry at 120 ms */
	XT_EQ(host_user_clock_advance(4 * MS), 1);
	XT_EQ(f.raises, 12);
	XT_EQ(f.at[11], T0 + tns(12 * 11932));
	xk_pit_ticks(pit, &delivered, &skipped);
	XT_EQ(delivered, 12);
	XT_EQ(skipped, 0);
	/* acks nobody asked for change nothing */
	xk_pit_ack(pit);
	xk_pit_ack(pit);
	XT_EQ(xk_pit_pending(pit), 0);
	XT_EQ(host_user_clock_advance(0), 0);
}

XT_TEST(pit, reinject_off_stall_gives_one)
{
	struct pitfx f;
	struct xk_pit *pit = mk(&f, 0);
	u64 delivered, skipped;

	program(pit, 0x34, 11932);
	at(T0 + 105 * MS); /* ten expiries */
	XT_EQ(host_user_clock_advance(0), 1);
	XT_EQ(f.raises, 1);
	xk_pit_ack(pit); /* acks mean nothing in this mode */
	xk_pit_ack(pit);
	XT_EQ(host_user_clock_advance(0), 0);
	XT_EQ(f.raises, 1);
	XT_EQ(xk_pit_pending(pit), 0);
	xk_pit_ticks(pit, &delivered, &skipped);
	XT_EQ(delivered, 1);
	XT_EQ(skipped, 9);
	/* and the next expiries pulse without any ack */
	XT_EQ(host_user_clock_advance(20 * MS), 2);
	XT_EQ(f.raises, 3);
}

XT_TEST(pit, reinject_control_switching)
{
	struct pitfx f;
	struct xk_pit *pit = mk_re(&f, 0);
	u64 delivered, skipped;

	program(pit, 0x34, 11932);
	at(T0 + 55 * MS); /* five expiries */
	XT_EQ(host_user_clock_advance(0), 1);
	XT_EQ(xk_pit_pending(pit), 5);
	/* off: every expiry pulses, unacknowledged, pending unused */
	xk_pit_set_reinject(pit, false);
	XT_ASSERT(!xk_pit_reinject(pit));
	XT_EQ(host_user_clock_advance(30 * MS), 3);
	XT_EQ(f.raises, 4);
	xk_pit_ack(pit);
	XT_EQ(host_user_clock_advance(0), 0);
	/* on again: a clean start, the next expiry pulses, then waits */
	xk_pit_set_reinject(pit, true);
	XT_ASSERT(xk_pit_reinject(pit));
	XT_EQ(xk_pit_pending(pit), 0);
	XT_EQ(host_user_clock_advance(10 * MS), 1);
	XT_EQ(f.raises, 5);
	XT_EQ(host_user_clock_advance(20 * MS), 2); /* expiries, no pulse */
	XT_EQ(f.raises, 5);
	XT_EQ(xk_pit_pending(pit), 3);
	/* on while on changes nothing */
	xk_pit_set_reinject(pit, true);
	XT_EQ(xk_pit_pending(pit), 3);
	xk_pit_ack(pit);
	XT_EQ(host_user_clock_advance(0), 1);
	XT_EQ(f.raises, 6);
	xk_pit_ticks(pit, &delivered, &skipped);
	XT_EQ(delivered, 6);
	XT_EQ(skipped, 0);
}

XT_TEST(pit, reinject_pending_dropped_by_reprogramming)
{
	struct pitfx f;
	struct xk_pit *pit = mk_re(&f, 0);
	struct kvm_pit_state2 s;
	u64 t;

	program(pit, 0x34, 11932);
	at(T0 + 105 * MS);
	host_user_clock_advance(0);
	XT_EQ(xk_pit_pending(pit), 10);
	/* a new count for channel 0: the backlog goes, the in-flight too */
	t = host_time_ns();
	program(pit, 0x34, 5966);
	XT_EQ(xk_pit_pending(pit), 0);
	xk_pit_ack(pit); /* the old pulse's late ack */
	XT_EQ(host_user_clock_advance(0), 0);
	XT_EQ(host_user_clock_advance(tns(5966)), 1); /* no ack needed */
	XT_EQ(f.raises, 2);
	XT_EQ(f.at[1], t + tns(5966));
	/* again with KVM_SET_PIT2 (Linux reloads the counts: same) */
	at(host_time_ns() + 100 * MS);
	host_user_clock_advance(0);
	XT_ASSERT(xk_pit_pending(pit) > 10);
	xk_pit_get_state(pit, &s);
	xk_pit_set_state(pit, &s);
	XT_EQ(xk_pit_pending(pit), 0);
	XT_EQ(f.raises, 2); /* the stall's ticks waited for an ack */
	XT_EQ(host_user_clock_advance(tns(5966)), 1);
	XT_EQ(f.raises, 3); /* restarted: pulses without one */
	/* a control word alone stops channel 0: nothing stays pending */
	at(host_time_ns() + 100 * MS);
	host_user_clock_advance(0);
	XT_ASSERT(xk_pit_pending(pit) > 10);
	out(pit, 0x43, 0x34);
	XT_EQ(xk_pit_pending(pit), 0);
	/* a reset too, and IRQ0's pin unmasked (the mask notifier) */
	program(pit, 0x34, 5966);
	at(host_time_ns() + 100 * MS);
	host_user_clock_advance(0);
	XT_ASSERT(xk_pit_pending(pit) > 10);
	xk_pit_unmasked(pit);
	XT_EQ(xk_pit_pending(pit), 0);
	XT_EQ(host_user_clock_advance(tns(5966)), 1); /* pulses, no ack */
	XT_EQ(xk_pit_pending(pit), 1);
	at(host_time_ns() + 100 * MS);
	host_user_clock_advance(0);
	XT_ASSERT(xk_pit_pending(pit) > 10);
	xk_pit_reset(pit);
	XT_EQ(xk_pit_pending(pit), 0);
	f.raises = 0;
	host_user_clock_advance(100 * MS);
	XT_EQ(f.raises, 0);
	XT_EQ(xk_pit_pending(pit), 0);
}

XT_TEST(pit, reinject_pending_is_bounded)
{
	struct pitfx f;
	struct xk_pit *pit = mk_re(&f, 0);
	u64 delivered, skipped;
	unsigned int due, i;

	program(pit, 0x34, 11932); /* 10.0001 ms: 99 periods a second */
	at(T0 + 3000 * MS);        /* a three-second stall */
	due = periods_by(11932, 3000 * MS);
	XT_EQ(due, 299);
	XT_EQ(host_user_clock_advance(0), 1);
	XT_EQ(xk_pit_pending(pit), 1000 * MS / tns(11932));
	XT_EQ(xk_pit_pending(pit), 99);
	xk_pit_ticks(pit, &delivered, &skipped);
	XT_EQ(delivered, 1);
	XT_EQ(skipped, due - 99);
	/* the 99 kept are all delivered, one per ack */
	for (i = 0; i < 99; i++) {
		xk_pit_ack(pit);
		host_user_clock_advance(0);
	}
	XT_EQ(f.raises, 99);
	XT_EQ(xk_pit_pending(pit), 0);
	/* clamped to 200 us: 5000 a second */
	program(pit, 0x34, 2);
	at(host_time_ns() + 3000 * MS);
	host_user_clock_advance(0);
	XT_EQ(xk_pit_pending(pit), 5000);
	/* a one-shot keeps its one */
	program(pit, 0x30, 1193);
	at(host_time_ns() + 3000 * MS);
	XT_EQ(host_user_clock_advance(0), 1);
	XT_EQ(xk_pit_pending(pit), 1);
	xk_pit_ack(pit);
	XT_EQ(xk_pit_pending(pit), 0);
	XT_EQ(host_user_clock_advance(1000 * MS), 0);
}

XT_TEST(pit, reinject_destroy_with_ticks_pending)
{
	struct pitfx f;
	struct xk_pit *pit;
	struct host_held h0, h1;

	host_held(&h0);
	pit = mk_re(&f, 0);
	program(pit, 0x34, 11932);
	at(T0 + 105 * MS);
	host_user_clock_advance(0);
	XT_EQ(xk_pit_pending(pit), 10);
	xk_pit_ack(pit); /* a reinjection is armed */
	xk_pit_destroy(pit);
	xt_cleanup_cancel(destroy_pit, pit);
	host_held(&h1);
	XT_EQ(h1.objects, h0.objects); /* the PIT, its lock, its timer */
	XT_EQ(h1.pages, h0.pages);
	XT_EQ(host_user_clock_advance(1000 * MS), 0); /* nothing fires */
	XT_EQ(f.raises, 1);
}
