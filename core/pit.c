// SPDX-License-Identifier: GPL-2.0
/*
 * pit.c - the 8254 PIT of a PC (see pit.h for the API).
 *
 * Theory, from the Intel 8254 datasheet.  Each channel counts down at
 * 1.193182 MHz from a reload value N written by the guest (0 means 65536,
 * or 10000 in BCD).  Nothing ticks here: a channel remembers when N was
 * loaded (count_load_time, host_time_ns() clock), and its counter and OUT
 * pin are computed when asked, from d = the input clocks since then:
 *
 *   mode 0 (interrupt on terminal count): counter N - d, wrapping; OUT low
 *          until d = N, then high.  Gate low pauses counting.
 *   mode 1 (retriggerable one-shot): a rising gate edge starts it; OUT low
 *          from the trigger until d = N.  Before a trigger OUT is high and
 *          the counter reads N.
 *   mode 2 (rate generator): counter N, N-1 ... 1, reload; OUT low for the
 *          clock at which the counter is 1.  Gate low forces OUT high and
 *          stops counting, a rising edge restarts from N.
 *   mode 3 (square wave): OUT high for ceil(N/2) clocks, low for floor(N/2);
 *          the counter goes down by two in each half.  Gate as mode 2.
 *   mode 4 (software strobe): counter as mode 0; OUT low for the one clock
 *          at d = N.  Gate low pauses counting.
 *   mode 5 (hardware strobe): mode 4 started by a rising gate edge.
 *
 * Modes 6 and 7 are 2 and 3.  A channel nobody programmed (mode 0xff
 * after reset, as Linux) counts as mode 0 and never interrupts.  After a
 * control word and until the count is written ("null count", status bit
 * 6) OUT holds the mode's initial level (low in mode 0, high otherwise) and
 * channel 0 does not interrupt.  A count written while counting takes
 * effect at once (the datasheet waits for the end of the period in modes 2
 * and 3; Linux does not either).  Simplifications as in Linux: the count
 * is loaded on the write, not on the next clock; mode 4/5's interrupt is at
 * d = N.
 *
 * Gates.  Channels 0 and 1 have their gate tied high; channel 2's is bit 0
 * of port 0x61.  Port 0x61 (only with KVM_PIT_SPEAKER_DUMMY, as Linux)
 * reads back bit 0 gate 2, bit 1 speaker data (kept in the PIT's flags as
 * KVM_PIT_FLAGS_SPEAKER_DATA_ON, as Linux), bit 4 the refresh-request
 * toggle, which Linux approximates by bit 14 of the nanosecond clock (a
 * 16.4 us half period for the PC's 15 us), and bit 5 channel 2's OUT.
 *
 * Reading.  The counter is read live or through a latch (counter latch
 * command, or read-back with COUNT clear), in the access mode of the
 * control word: LSB, MSB, or LSB then MSB with a flip-flop.  A read-back
 * with STATUS clear latches the status byte (OUT, null count, access
 * mode, mode, BCD); a latched status is read before a latched count.  The
 * latch and flip-flop states are those of struct kvm_pit_channel_state
 * with Linux's values (1 LSB, 2 MSB, 3 word/LSB next, 4 word/MSB next;
 * count_latched holds the access mode of the latch, 0 when none).
 *
 * IRQ0.  Channel 0's rising OUT edges are its interrupts: once at d = N in
 * modes 0, 1, 4 and 5, every N clocks in modes 2 and 3.  One host timer
 * fires at each, and the timer callback hands a pulse (raise, lower) to
 * ops->irq0, as Linux does.  The k-th periodic expiry is computed from
 * the load time as load + ns(k * N), never by adding a rounded period, so
 * interrupts do not drift from the counter the guest reads.  As Linux, a
 * periodic rate faster than XK_PIT_MIN_PERIOD_NS (200 us) is clamped to it
 * for the interrupts (then at load + k * 200 us); the counter and OUT still
 * follow N.  With KVM_PIT_FLAGS_HPET_LEGACY set, channel 0 never
 * interrupts.
 *
 * Lost ticks (KVM_REINJECT_CONTROL, Linux's two policies).  The host timer
 * may run late by whole periods (a busy or stalled host), and a guest may
 * not take an interrupt before the next one is due; a guest that counts
 * its time in ticks then loses time.
 *  - Reinject off: each callback delivers one pulse however many periods
 *    it covers; the missed ones are counted as skipped (coalesced).
 *  - Reinject on (the default after creation, as Linux's, and what QEMU's
 *    lost_tick_policy "delay" keeps): every expiry adds to pending, the
 *    ticks due and not yet acknowledged by the guest.  A pulse goes out
 *    only when pending > 0 and the previous pulse was acknowledged
 *    (irq_ack); the integration reports each acknowledgement of IRQ0 (the
 *    PIC's EOI or auto-EOI, the IOAPIC's EOI of the pin GSI 0 routes to)
 *    with xk_pit_ack(), which takes one tick off pending and, if more
 *    are due, re-arms the host timer for now: the timer callback sends
 *    the next pulse, so ops->irq0 keeps one calling context.  A stall of
 *    n periods is thus delivered as n interrupts, one per acknowledgement,
 *    never two at once.  Whatever reprograms channel 0 (control word,
 *    count, KVM_SET_PIT2, reset, HPET legacy) drops pending and forgets
 *    the pulse in flight (irq_ack true), as Linux does at each new timer
 *    (a control word alone stops channel 0 here, see above, so it drops
 *    them too, where Linux's timer runs on with its backlog);
 *    so does xk_pit_unmasked(), the integration's report that IRQ0's pin
 *    was unmasked (Linux's mask notifier: a pulse lost to a masked pin is
 *    never acknowledged, and would otherwise stop the ticks for good).
 *    Turning reinject on starts from the same clean state; turning it off
 *    leaves pending unused.
 *  - The bound.  Linux keeps an unbounded count: a host stall of an hour
 *    at 1 kHz would hand the guest 3.6 million back-to-back interrupts.
 *    Here pending holds at most one second's worth of periods
 *    (XK_PIT_MAX_BACKLOG_NS / period, at least 1); the ticks beyond are
 *    lost and counted as skipped.  A guest behind by more than a second
 *    has to be resynchronised anyway (NTP, a wall-clock read), and
 *    catching up a second of ticks costs it a short burst, not minutes.
 *    The bound also keeps pending within a u32.
 *
 * KVM_SET_PIT2 (Linux's semantics): the three channel states and the flags
 * are taken verbatim, then every channel's count is reloaded at the
 * current time (count_load_time given by the VMM is ignored, a count of 0
 * becomes 0x10000), which restarts channel 0's interrupt unless HPET
 * legacy mode is on.  Modes 1 and 5 count as triggered by a restore.
 * The ABI has no field for pending ticks: GET leaves them out, and SET
 * drops them with the rest of channel 0's old programming (Linux's set
 * reloads the counts, which resets its reinjection state the same way),
 * so a migrated guest starts with none.
 *
 * Locking.  pit->lock guards the channels, flags, timer bookkeeping and
 * the reinjection state.  The timer callback takes it in interrupt
 * context, so other callers take it with local interrupts disabled
 * (xk_pit_ack() and xk_pit_unmasked() come from a vCPU thread that holds
 * none of the irqchip's locks; see irqchip.c).  Nothing else is taken
 * under it but the host timer's own lock.  The host timer is never
 * cancelled under the lock (cancel waits for the callback): re-arming
 * replaces a pending expiry, disarming only clears next_ns, and every
 * callback does all that is due at its time (expiries, a reinjection)
 * and re-arms for next_ns, so an early or stale callback is harmless and
 * the last arm made under the lock is always the right one.  ops->irq0 is
 * called after the lock is dropped.
 */
#include "pit.h"

#define NSEC 1000000000ull
/* Reinject mode keeps at most this much time's worth of ticks pending. */
#define XK_PIT_MAX_BACKLOG_NS NSEC

#define RW_LSB 1
#define RW_MSB 2
#define RW_WORD0 3
#define RW_WORD1 4

struct pit_chan {
	struct kvm_pit_channel_state s; /* (l) the ABI part, as Linux */
	bool null_count;                /* (l) control word, no count yet */
	bool triggered;                 /* (l) modes 1, 5: gate edge seen */
	u64 gate_low_ns;                /* (l) when the gate last fell */
};

struct xk_pit {
	struct host_spin *lock;   /* (c) */
	struct host_timer *timer; /* (c) channel 0's interrupts */
	struct pit_chan ch[3];    /* (l) */
	u32 flags;                /* (l) KVM_PIT_FLAGS_* */
	u32 config;               /* (c) KVM_PIT_SPEAKER_DUMMY */
	u64 next_ns;              /* (l) channel 0's next expiry, 0: none */
	u64 k;                    /* (l) its index since the load, from 1 */
	bool periodic;            /* (l) modes 2, 3 */
	u64 delivered, skipped;   /* (l) channel 0 interrupts */
	bool reinject;            /* (l) KVM_REINJECT_CONTROL */
	bool irq_ack;             /* (l) reinject: no pulse awaits its ack */
	u32 pending;              /* (l) reinject: ticks due, not acked */
	struct xk_pit_ops ops;    /* (c) */
};

static void lock(struct xk_pit *pit)
{
	host_spin_lock_irq(pit->lock);
}

static void unlock(struct xk_pit *pit)
{
	host_spin_unlock_irq(pit->lock);
}

/* Input clocks in ns nanoseconds, rounded down. */
static u64 ns_to_ticks(u64 ns)
{
	return ns / NSEC * XK_PIT_HZ + ns % NSEC * XK_PIT_HZ / NSEC;
}

/* The first nanosecond at which t clocks have passed. */
static u64 ticks_to_ns(u64 t)
{
	return t / XK_PIT_HZ * NSEC +
	       (t % XK_PIT_HZ * NSEC + XK_PIT_HZ - 1) / XK_PIT_HZ;
}

static u32 bcd_decode(u32 v)
{
	u32 r = 0, mul = 1;
	int i;

	for (i = 0; i < 4; i++, mul *= 10)
		r += ((v >> (4 * i)) & 0xf) * mul;
	if (v & 0x10000)
		r += 10000;
	return r;
}

static u16 bcd_encode(u32 v)
{
	u16 r = 0;
	int i;

	for (i = 0; i < 4; i++, v /= 10)
		r |= (u16)((v % 10) << (4 * i));
	return r;
}

/* The mode the counting follows: 6, 7 are 2, 3; unprogrammed counts as 0 */
static int mode_of(const struct pit_chan *c)
{
	if (c->s.mode <= 5)
		return c->s.mode;
	if (c->s.mode <= 7)
		return c->s.mode - 4;
	return 0;
}

static bool programmed(const struct pit_chan *c)
{
	return c->s.mode <= 7;
}

static u32 wrap_of(const struct pit_chan *c)
{
	return c->s.bcd ? 10000 : 0x10000;
}

/* N, the reload value, in clocks. */
static u32 reload_of(const struct pit_chan *c)
{
	u32 n = c->s.bcd ? bcd_decode(c->s.count) : c->s.count;

	return n ? n : wrap_of(c);
}

static bool needs_trigger(const struct pit_chan *c)
{
	int m = mode_of(c);

	return m == 1 || m == 5;
}

/* Clocks counted since the load (or trigger) at now, gate pauses out. */
static u64 elapsed(const struct pit_chan *c, u64 now)
{
	u64 start = (u64)c->s.count_load_time, end = now;

	if (!c->s.gate && !needs_trigger(c) && c->gate_low_ns < end)
		end = c->gate_low_ns;
	return end > start ? ns_to_ticks(end - start) : 0;
}

/* The counter as a number (N down to 0 or 1), before BCD encoding. */
static u32 counter(const struct pit_chan *c, u64 now)
{
	u32 n = reload_of(c), w = wrap_of(c), half, even;
	u64 d, p;

	if (needs_trigger(c) && !c->triggered)
		return n;
	d = elapsed(c, now);
	switch (mode_of(c)) {
	case 2:
		return n - (u32)(d % n);
	case 3:
		p = d % n;
		half = (n + 1) / 2;
		even = n & ~1u;
		return p < half ? even - 2 * (u32)p :
				  even - 2 * (u32)(p - half);
	default:
		return (u32)((n % w + w - d % w) % w);
	}
}

static u16 read_value(const struct pit_chan *c, u64 now)
{
	u32 v = counter(c, now);

	return c->s.bcd ? bcd_encode(v % 10000) : (u16)v;
}

static bool out_of(const struct pit_chan *c, u64 now)
{
	int m = mode_of(c);
	u32 n = reload_of(c);
	u64 d;

	if (c->null_count)
		return m != 0;
	if (needs_trigger(c) && !c->triggered)
		return true;
	d = elapsed(c, now);
	switch (m) {
	case 0:
	case 1:
		return d >= n;
	case 2:
		return !c->s.gate || d % n != n - 1;
	case 3:
		return !c->s.gate || d % n < (n + 1) / 2;
	default: /* 4, 5 */
		return d != n;
	}
}

/* When channel 0's k-th interrupt since its load is due. */
static u64 event_ns(const struct xk_pit *pit, u64 k)
{
	const struct pit_chan *c = &pit->ch[0];
	u64 n = reload_of(c), load = (u64)c->s.count_load_time;

	if (pit->periodic && ticks_to_ns(n) < XK_PIT_MIN_PERIOD_NS)
		return load + k * XK_PIT_MIN_PERIOD_NS;
	return load + ticks_to_ns(k * n);
}

/* No tick pending, none in flight (Linux's state at each new timer). */
static void reinject_reset(struct xk_pit *pit)
{
	pit->pending = 0;
	pit->irq_ack = true;
}

/*
 * Schedule channel 0's first interrupt after a (re)load, or none; the
 * backlog of the old programming goes.
 */
static void arm(struct xk_pit *pit)
{
	const struct pit_chan *c = &pit->ch[0];
	int m = mode_of(c);

	pit->next_ns = 0;
	reinject_reset(pit);
	if ((pit->flags & KVM_PIT_FLAGS_HPET_LEGACY) || !programmed(c) ||
	    c->null_count)
		return;
	if (needs_trigger(c) ? !c->triggered : !c->s.gate)
		return;
	pit->periodic = m == 2 || m == 3;
	pit->k = 1;
	pit->next_ns = event_ns(pit, 1);
	host_timer_start(pit->timer, pit->next_ns);
}

/* The interrupt period of channel 0 in ns (periodic modes). */
static u64 period_ns(const struct xk_pit *pit)
{
	u64 p = ticks_to_ns(reload_of(&pit->ch[0]));

	return p < XK_PIT_MIN_PERIOD_NS ? XK_PIT_MIN_PERIOD_NS : p;
}

/*
 * Channel 0's expiries due at now (next_ns <= now): how many, the next
 * one scheduled (or none for a one-shot).  Lock held.
 */
static u64 expire(struct xk_pit *pit, u64 now)
{
	const struct pit_chan *c = &pit->ch[0];
	u64 k, d, since;

	if (!pit->periodic) {
		pit->next_ns = 0;
		return 1;
	}
	k = pit->k + 1;
	if (event_ns(pit, k) <= now) { /* late: whole periods went by */
		since = now - (u64)c->s.count_load_time;
		if (ticks_to_ns(reload_of(c)) < XK_PIT_MIN_PERIOD_NS)
			d = since / XK_PIT_MIN_PERIOD_NS;
		else
			d = ns_to_ticks(since) / reload_of(c);
		if (d + 1 > k)
			k = d + 1;
		while (event_ns(pit, k) <= now)
			k++;
	}
	d = k - pit->k;
	pit->k = k;
	pit->next_ns = event_ns(pit, k);
	return d;
}

/* Reinject mode: n more ticks due, within the bound.  Lock held. */
static void add_pending(struct xk_pit *pit, u64 n)
{
	u64 max = 1, want = pit->pending + n;

	if (pit->periodic)
		max = XK_MAX(XK_PIT_MAX_BACKLOG_NS / period_ns(pit), 1ull);
	if (want > max) {
		pit->skipped += want - max;
		want = max;
	}
	pit->pending = (u32)want;
}

static void pit_timer_fn(void *arg)
{
	struct xk_pit *pit = arg;
	bool fire = false;
	u64 now, n;

	host_spin_lock(pit->lock); /* interrupt context: interrupts are off */
	now = host_time_ns();
	if (pit->next_ns && now >= pit->next_ns) {
		n = expire(pit, now);
		if (pit->reinject) {
			add_pending(pit, n);
		} else {
			fire = true;
			pit->skipped += n - 1;
		}
	}
	if (pit->reinject && pit->pending && pit->irq_ack) {
		pit->irq_ack = false;
		fire = true;
	}
	if (fire)
		pit->delivered++;
	if (pit->next_ns) /* also after a stale or an early callback */
		host_timer_start(pit->timer, pit->next_ns);
	host_spin_unlock(pit->lock);
	if (fire && pit->ops.irq0) {
		pit->ops.irq0(pit->ops.opaque, 1);
		pit->ops.irq0(pit->ops.opaque, 0);
	}
}

static void load_count(struct xk_pit *pit, int i, u32 val, u64 now)
{
	struct pit_chan *c = &pit->ch[i];

	c->s.count = val ? val : 0x10000;
	c->s.count_load_time = (s64)now;
	c->null_count = false;
	c->triggered = false;
	if (!c->s.gate)
		c->gate_low_ns = now;
	if (i == 0)
		arm(pit);
}

static void set_gate(struct xk_pit *pit, int i, bool gate, u64 now)
{
	struct pit_chan *c = &pit->ch[i];

	if (!!c->s.gate == gate)
		return;
	if (!gate) {
		c->gate_low_ns = now;
	} else if (needs_trigger(c)) {
		c->triggered = true;
		c->s.count_load_time = (s64)now;
	} else if (mode_of(c) == 2 || mode_of(c) == 3) {
		c->s.count_load_time = (s64)now; /* restart from N */
	} else if (now > c->gate_low_ns) {
		/* 0, 4: resume, the paused time does not count */
		c->s.count_load_time += (s64)(now - c->gate_low_ns);
	}
	c->s.gate = gate;
	if (i == 0)
		arm(pit);
}

static void latch_count(struct pit_chan *c, u64 now)
{
	if (c->s.count_latched)
		return;
	c->s.latched_count = read_value(c, now);
	c->s.count_latched = c->s.rw_mode;
}

static void latch_status(struct pit_chan *c, u64 now)
{
	if (c->s.status_latched)
		return;
	c->s.status = (u8)(out_of(c, now) << 7 | c->null_count << 6 |
			   (c->s.rw_mode & 3) << 4 | (c->s.mode & 7) << 1 |
			   (c->s.bcd & 1));
	c->s.status_latched = 1;
}

static void control_word(struct xk_pit *pit, u8 val, u64 now)
{
	unsigned int i = val >> 6, rw = (val >> 4) & 3;
	struct pit_chan *c;

	if (i == 3) { /* read-back */
		for (i = 0; i < 3; i++) {
			if (!(val & (2u << i)))
				continue;
			if (!(val & 0x20))
				latch_count(&pit->ch[i], now);
			if (!(val & 0x10))
				latch_status(&pit->ch[i], now);
		}
		return;
	}
	c = &pit->ch[i];
	if (rw == 0) {
		latch_count(c, now);
		return;
	}
	c->s.rw_mode = rw;
	c->s.read_state = rw;
	c->s.write_state = rw;
	c->s.mode = (val >> 1) & 7;
	if (c->s.mode > 5)
		c->s.mode -= 4;
	c->s.bcd = val & 1;
	c->null_count = true;
	c->triggered = false;
	if (i == 0)
		arm(pit);
}

static void write_count(struct xk_pit *pit, int i, u8 val, u64 now)
{
	struct pit_chan *c = &pit->ch[i];

	switch (c->s.write_state) {
	case RW_MSB:
		load_count(pit, i, (u32)val << 8, now);
		break;
	case RW_WORD0:
		c->s.write_latch = val;
		c->s.write_state = RW_WORD1;
		break;
	case RW_WORD1:
		load_count(pit, i, c->s.write_latch | (u32)val << 8, now);
		c->s.write_state = RW_WORD0;
		break;
	default: /* RW_LSB, or unprogrammed */
		load_count(pit, i, val, now);
		break;
	}
}

static u8 read_count(struct pit_chan *c, u64 now)
{
	u8 ret;

	if (c->s.status_latched) {
		c->s.status_latched = 0;
		return c->s.status;
	}
	if (c->s.count_latched) {
		switch (c->s.count_latched) {
		case RW_MSB:
			ret = c->s.latched_count >> 8;
			c->s.count_latched = 0;
			break;
		case RW_WORD0:
			ret = c->s.latched_count & 0xff;
			c->s.count_latched = RW_MSB;
			break;
		default:
			ret = c->s.latched_count & 0xff;
			c->s.count_latched = 0;
			break;
		}
		return ret;
	}
	switch (c->s.read_state) {
	case RW_MSB:
		return read_value(c, now) >> 8;
	case RW_WORD0:
		c->s.read_state = RW_WORD1;
		return read_value(c, now) & 0xff;
	case RW_WORD1:
		c->s.read_state = RW_WORD0;
		return read_value(c, now) >> 8;
	default:
		return read_value(c, now) & 0xff;
	}
}

bool xk_pit_port(const struct xk_pit *pit, u16 port)
{
	if (port >= 0x40 && port <= 0x43)
		return true;
	return port == 0x61 && (pit->config & KVM_PIT_SPEAKER_DUMMY);
}

int xk_pit_read(struct xk_pit *pit, u16 port, u8 size, u32 *val)
{
	u64 now;

	(void)size;
	if (!xk_pit_port(pit, port))
		return -EOPNOTSUPP;
	lock(pit);
	now = host_time_ns();
	if (port == 0x61) {
		*val = pit->ch[2].s.gate |
		       !!(pit->flags & KVM_PIT_FLAGS_SPEAKER_DATA_ON) << 1 |
		       ((now >> 14) & 1) << 4 | out_of(&pit->ch[2], now) << 5;
	} else if (port == 0x43) {
		*val = 0xff; /* the control word cannot be read */
	} else {
		*val = read_count(&pit->ch[port - 0x40], now);
	}
	unlock(pit);
	return 0;
}

int xk_pit_write(struct xk_pit *pit, u16 port, u8 size, u32 val)
{
	u64 now;

	(void)size;
	if (!xk_pit_port(pit, port))
		return -EOPNOTSUPP;
	lock(pit);
	now = host_time_ns();
	if (port == 0x61) {
		if (val & 2)
			pit->flags |= KVM_PIT_FLAGS_SPEAKER_DATA_ON;
		else
			pit->flags &= ~KVM_PIT_FLAGS_SPEAKER_DATA_ON;
		set_gate(pit, 2, val & 1, now);
	} else if (port == 0x43) {
		control_word(pit, (u8)val, now);
	} else {
		write_count(pit, port - 0x40, (u8)val, now);
	}
	unlock(pit);
	return 0;
}

void xk_pit_get_state(struct xk_pit *pit, struct kvm_pit_state2 *out)
{
	int i;

	xk_memset(out, 0, sizeof(*out));
	lock(pit);
	for (i = 0; i < 3; i++)
		out->channels[i] = pit->ch[i].s;
	out->flags = pit->flags;
	unlock(pit);
}

void xk_pit_set_state(struct xk_pit *pit, const struct kvm_pit_state2 *in)
{
	u64 now;
	int i;

	lock(pit);
	now = host_time_ns();
	pit->flags = in->flags;
	for (i = 0; i < 3; i++) {
		struct pit_chan *c = &pit->ch[i];

		c->s = in->channels[i];
		c->s.count = c->s.count ? c->s.count : 0x10000;
		c->s.count_load_time = (s64)now;
		c->null_count = false;
		c->triggered = true;
		c->gate_low_ns = now;
	}
	arm(pit);
	unlock(pit);
}

u16 xk_pit_count_at(struct xk_pit *pit, unsigned int ch, u64 now_ns)
{
	u16 v;

	if (ch > 2)
		return 0;
	lock(pit);
	v = read_value(&pit->ch[ch], now_ns);
	unlock(pit);
	return v;
}

bool xk_pit_out_at(struct xk_pit *pit, unsigned int ch, u64 now_ns)
{
	bool o;

	if (ch > 2)
		return false;
	lock(pit);
	o = out_of(&pit->ch[ch], now_ns);
	unlock(pit);
	return o;
}

void xk_pit_ticks(struct xk_pit *pit, u64 *delivered, u64 *skipped)
{
	lock(pit);
	*delivered = pit->delivered;
	*skipped = pit->skipped;
	unlock(pit);
}

u32 xk_pit_pending(struct xk_pit *pit)
{
	u32 n;

	lock(pit);
	n = pit->pending;
	unlock(pit);
	return n;
}

void xk_pit_set_reinject(struct xk_pit *pit, bool on)
{
	lock(pit);
	if (on && !pit->reinject)
		reinject_reset(pit);
	pit->reinject = on;
	unlock(pit);
}

bool xk_pit_reinject(struct xk_pit *pit)
{
	bool on;

	lock(pit);
	on = pit->reinject;
	unlock(pit);
	return on;
}

void xk_pit_ack(struct xk_pit *pit)
{
	lock(pit);
	if (pit->reinject) {
		pit->irq_ack = true;
		if (pit->pending)
			pit->pending--;
		if (pit->pending) /* the next one, from the timer callback */
			host_timer_start(pit->timer, host_time_ns());
	}
	unlock(pit);
}

void xk_pit_unmasked(struct xk_pit *pit)
{
	lock(pit);
	if (pit->reinject)
		reinject_reset(pit);
	unlock(pit);
}

static void power_on(struct xk_pit *pit, u64 now)
{
	int i;

	pit->flags = 0;
	pit->next_ns = 0;
	reinject_reset(pit);
	for (i = 0; i < 3; i++) {
		struct pit_chan *c = &pit->ch[i];

		xk_memset(c, 0, sizeof(*c));
		c->s.mode = 0xff;
		c->s.gate = i != 2;
		c->s.count = 0x10000;
		c->s.count_load_time = (s64)now;
		c->gate_low_ns = now;
	}
}

void xk_pit_reset(struct xk_pit *pit)
{
	lock(pit);
	power_on(pit, host_time_ns());
	unlock(pit);
}

int xk_pit_create(u32 flags, const struct xk_pit_ops *ops, struct xk_pit **out)
{
	struct xk_pit *pit;

	*out = NULL;
	if (flags & ~KVM_PIT_SPEAKER_DUMMY)
		return -EINVAL;
	pit = host_zalloc(sizeof(*pit));
	if (!pit)
		return -ENOMEM;
	pit->lock = host_spin_create();
	if (!pit->lock)
		goto fail;
	pit->timer = host_timer_create(pit_timer_fn, pit);
	if (!pit->timer)
		goto fail;
	pit->config = flags;
	pit->reinject = true; /* as Linux after KVM_CREATE_PIT2 */
	if (ops)
		pit->ops = *ops;
	power_on(pit, host_time_ns());
	*out = pit;
	return 0;
fail:
	if (pit->lock)
		host_spin_destroy(pit->lock);
	host_free(pit, sizeof(*pit));
	return -ENOMEM;
}

void xk_pit_destroy(struct xk_pit *pit)
{
	if (!pit)
		return;
	host_timer_destroy(pit->timer);
	host_spin_destroy(pit->lock);
	host_free(pit, sizeof(*pit));
}
