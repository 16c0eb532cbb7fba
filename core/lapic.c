// SPDX-License-Identifier: GPL-2.0
/*
 * lapic.c - the in-kernel local APIC: register page, interrupt acceptance
 * and priorities, the APIC timer, IPIs and the VM's APIC bus (lapic.h has
 * the API and how the integration uses it).
 *
 * Theory.
 *
 * Register page.  regs[] is the 4 KiB page of the xAPIC, a u32 per 4 bytes;
 * KVM_GET/SET_LAPIC's struct kvm_lapic_state is its first 1 KiB.  In x2APIC
 * mode the same page holds the x2APIC values (ID: 32 bits, LDR: derived from
 * the ID, ICR2: the 32-bit destination), so one set of accessors serves the
 * MMIO and the MSR forms; each form adds its own rules (which registers
 * exist, sizes, #GP).  PPR is kept up to date in the page whenever TPR or
 * ISR changes; APR and the timer's current count are computed when read.
 *
 * Priorities (SDM 10.8.3.1).  A vector's priority class is its bits 7:4.
 * PPR = TPR if TPR[7:4] >= ISRV[7:4], else ISRV[7:4]:0, where ISRV is the
 * highest vector in service.  The highest IRR vector is handed to the CPU
 * only when its class is above PPR's.  Acceptance sets IRR (and TMR for
 * level-triggered); the ack at injection moves it to ISR; EOI clears the
 * highest ISR bit and, if that vector was level-triggered (TMR), tells the
 * bus's EOI callback (the IOAPIC) and clears a LINT pin's remote IRR; an
 * edge vector's EOI goes to the bus's edge EOI callback, if any (the
 * IOAPIC again, for the PIT's lost-tick reinjection).
 *
 * Timer.  Counts at 1 GHz (one tick a nanosecond before the divider, as
 * Linux's APIC bus), so count * divide = nanoseconds.  One-shot and periodic
 * arm on a write of the initial count; periodic periods are at least
 * XK_APIC_MIN_PERIOD_NS (Linux's floor).  TSC-deadline arms on a write of
 * IA32_TSC_DEADLINE: guest TSC = tsc_offset + host_ns * tsc_khz / 10^6, both
 * supplied by the integration.  A deadline already past fires at once; 0
 * disarms; expiry clears the MSR.  Changing the timer mode stops the timer
 * and clears the initial count and the deadline (Linux).  The current count
 * is the remaining time divided by the divider, 0 once a one-shot expired.
 * Expiry (host_timer_* callback) sets IRR for the LVT timer vector unless
 * masked, re-arms a periodic timer and kicks the vCPU.
 *
 * Locking.  Three kinds of users run concurrently:
 *  - the owner: the vCPU thread (vcpu->lock held, thread context, interrupts
 *    on).  It alone writes the register page (but IRR, TMR and the LINT
 *    remote IRR bits), the APIC base and the timer settings;
 *  - other senders: other vCPUs' IPIs, MSIs from the VMM, later the IOAPIC
 *    and PIC, possibly from a device timer in interrupt context.  They set
 *    IRR/TMR bits, the ESR's pending errors and the pending events (NMI,
 *    INIT, SIPI) with atomic operations only, and read the target's ID, LDR,
 *    DFR, SVR, PPR and base locklessly: a message racing with a change of
 *    those lands on the old or the new value, as on hardware;
 *  - the timer callback, in interrupt context: it shares the timer state
 *    (t_* fields) with the owner under a->lock, a host_spin the owner takes
 *    with interrupts disabled (the callback may interrupt it on its CPU).
 *    host_timer_cancel() is only called after dropping the lock.
 * The bus's table of APICs is written at vCPU creation and destruction
 * (vm->lock held by the caller) and read locklessly (acquire): APICs are
 * destroyed only with the VM, once nothing can deliver any more.
 *
 * Choices the manuals leave open, made as Linux makes them: version 0x14
 * with 6 LVT entries (no CMCI, no directed EOI); the APIC ID is writable in
 * xAPIC mode; MMIO writes other than aligned 4-byte ones are ignored, reads
 * of 1, 2 or 4 bytes within the first dword of a register work, anything
 * else reads 0; in x2APIC mode the page reads all ones and ignores writes
 * (a hardware-disabled APIC does not decode it at all, the VMM gets the
 * access); fixed interrupts to a software-disabled APIC are dropped; INIT de-assert, SMI and ExtINT messages are ignored; LINT0 of the
 * BSP is ExtINT after reset (Linux's LINT0_REENABLED quirk); a lowest
 * priority message goes to the matching APIC with the lowest PPR (first
 * created on ties).  Not Linux: an illegal vector (< 16) sets the ESR's
 * send/receive illegal vector bit (and raises the LVT error interrupt)
 * instead of being delivered; clearing the APIC's global enable returns it
 * to its power-on register state (SDM 10.4.3 allows it), so x2APIC ->
 * disabled -> xAPIC starts clean.
 */
#include "lapic.h"

#define NREGS 1024
#define R(off) ((off) >> 2)
#define MAX_LVT 6
#define MSR_X2APIC_ICR_RSVD \
	(0xfff00000ULL | XK_BIT(16) | XK_BIT(17) | XK_BIT(13))
#define SIPI_VALID 0x100u

struct xk_apic_bus {
	/* slots; (m) written by create/destroy under vm->lock, read with
	 * acquire loads by deliveries (see theory) */
	struct xk_lapic *apics[XK_MAX_VCPUS];
	void (*eoi)(void *arg, u8 vector);      /* (c) level EOI, may be NULL */
	void (*eoi_edge)(void *arg, u8 vector); /* (c) edge EOI, or NULL */
	void *eoi_arg;                          /* (c) both's */
	bool x2apic_api;                        /* (m) KVM_CAP_X2APIC_API */
};

struct xk_lapic {
	/* (o) the register page; IRR, TMR and LINT remote IRR: (a) */
	u32 regs[NREGS];
	struct xk_apic_bus *bus; /* (c) */
	u32 vcpu_id;             /* (c) */
	int slot;                /* (c) index in bus->apics */
	void (*kick)(void *arg); /* (c) make the vCPU look at us, any context */
	void *kick_arg;          /* (c) */
	u64 base;                /* (o) IA32_APICBASE; others read it */
	bool has_x2apic;         /* (o) guest CPUID: x2APIC */
	bool has_tscdl;          /* (o) guest CPUID: TSC-deadline */
	u32 tsc_khz;             /* (o) guest TSC frequency */
	s64 tsc_offset;          /* (o) guest TSC at host time 0 */
	u32 divide;              /* (o) timer divider, 1..128 */
	u32 esr_pending;         /* (a) errors since the last ESR write */
	u32 nmis;                /* (a) pending events, see take_events */
	u32 init;                /* (a) */
	u32 sipi;                /* (a) SIPI_VALID | vector */
	u32 lint_level[2];       /* (a) LINT0/1 input levels */
	struct host_spin *lock;  /* (c) guards the t_* fields */
	struct host_timer *timer; /* (c) */
	bool t_armed;             /* (t) the timer will fire */
	bool t_periodic;          /* (t) re-arm after firing */
	bool t_tscdl;             /* (t) armed by IA32_TSC_DEADLINE */
	u64 t_deadline;           /* (t) host ns of the next expiry */
	u64 t_period;             /* (t) ns; one-shot: the whole count */
	u64 tsc_deadline;         /* (t) IA32_TSC_DEADLINE */
};

/* ---- register helpers ---- */

/* Relaxed atomics: plain loads and stores on x86, race-free for C11. */
static u32 reg(struct xk_lapic *a, u32 off)
{
	return __atomic_load_n(&a->regs[R(off)], __ATOMIC_RELAXED);
}

static void set_reg(struct xk_lapic *a, u32 off, u32 v)
{
	__atomic_store_n(&a->regs[R(off)], v, __ATOMIC_RELAXED);
}

static u64 get_base(struct xk_lapic *a)
{
	return __atomic_load_n(&a->base, __ATOMIC_RELAXED);
}

static void put_base(struct xk_lapic *a, u64 v)
{
	__atomic_store_n(&a->base, v, __ATOMIC_RELAXED);
}

static void vec_set(struct xk_lapic *a, u32 base, u8 v)
{
	__atomic_fetch_or(&a->regs[R(base + (v >> 5) * 0x10)], 1u << (v & 31),
			  __ATOMIC_SEQ_CST);
}

static void vec_clear(struct xk_lapic *a, u32 base, u8 v)
{
	__atomic_fetch_and(&a->regs[R(base + (v >> 5) * 0x10)],
			   ~(1u << (v & 31)), __ATOMIC_SEQ_CST);
}

static bool vec_test(struct xk_lapic *a, u32 base, u8 v)
{
	return reg(a, base + (v >> 5) * 0x10) & (1u << (v & 31));
}

/* Highest vector set in the 256-bit register at base, or -1. */
static int vec_highest(struct xk_lapic *a, u32 base)
{
	int i;

	for (i = 7; i >= 0; i--) {
		u32 w = reg(a, base + i * 0x10);

		if (w)
			return i * 32 + 31 - __builtin_clz(w);
	}
	return -1;
}

static bool hw_enabled(struct xk_lapic *a)
{
	return get_base(a) & XK_APICBASE_ENABLE;
}

static bool x2apic_mode(struct xk_lapic *a)
{
	return get_base(a) & XK_APICBASE_EXTD;
}

static bool sw_enabled(struct xk_lapic *a)
{
	return reg(a, XK_APIC_SVR) & XK_APIC_SVR_ENABLE;
}

static u32 x2apic_ldr(u32 id)
{
	return ((id >> 4) << 16) | (1u << (id & 0xf));
}

static void kick(struct xk_lapic *a)
{
	if (a->kick)
		a->kick(a->kick_arg);
}

static void update_ppr(struct xk_lapic *a)
{
	u32 tpr = reg(a, XK_APIC_TPR);
	int isrv = vec_highest(a, XK_APIC_ISR);
	u32 isr_class = isrv < 0 ? 0 : (u32)isrv & 0xf0;

	set_reg(a, XK_APIC_PPR, (tpr & 0xf0) >= isr_class ? tpr : isr_class);
}

/* APR (SDM 10.8.3.1, P6 family's arbitration priority), computed. */
static u32 compute_apr(struct xk_lapic *a)
{
	u32 tpr = reg(a, XK_APIC_TPR);
	int isrv = vec_highest(a, XK_APIC_ISR),
	    irrv = vec_highest(a, XK_APIC_IRR);
	u32 isr_class = isrv < 0 ? 0 : (u32)isrv & 0xf0;
	u32 irr_class = irrv < 0 ? 0 : (u32)irrv & 0xf0;

	if ((tpr & 0xf0) >= irr_class && (tpr & 0xf0) > isr_class)
		return tpr & 0xff;
	return XK_MAX(XK_MAX(tpr & 0xf0, isr_class), irr_class);
}

/* An error: latched for the next ESR write, and the LVT error interrupt. */
static void set_error(struct xk_lapic *a, u32 bits)
{
	u32 lvt = reg(a, XK_APIC_LVT_ERROR);

	__atomic_fetch_or(&a->esr_pending, bits, __ATOMIC_SEQ_CST);
	if (!(lvt & XK_APIC_MASKED) && (lvt & XK_APIC_VECTOR) >= 16 &&
	    sw_enabled(a)) {
		vec_clear(a, XK_APIC_TMR, lvt & XK_APIC_VECTOR);
		vec_set(a, XK_APIC_IRR, lvt & XK_APIC_VECTOR);
		kick(a);
	}
}

/* Fixed-mode acceptance into IRR (no kick): any context. */
static bool accept_fixed(struct xk_lapic *a, u8 vector, bool level)
{
	if (!hw_enabled(a) || !sw_enabled(a))
		return false;
	if (vector < 16) {
		set_error(a, XK_APIC_ESR_RECV_ILLEGAL);
		return false;
	}
	if (level)
		vec_set(a, XK_APIC_TMR, vector);
	else
		vec_clear(a, XK_APIC_TMR, vector);
	vec_set(a, XK_APIC_IRR, vector);
	return true;
}

/* ---- timer ---- */

static void tlock(struct xk_lapic *a)
{
	host_irq_disable();
	host_spin_lock(a->lock);
}

static void tunlock(struct xk_lapic *a)
{
	host_spin_unlock(a->lock);
	host_irq_enable();
}

static u32 timer_mode(struct xk_lapic *a)
{
	u32 m = reg(a, XK_APIC_LVTT) & XK_APIC_TIMER_MODE_MASK;

	/* the reserved mode 11b counts as one-shot */
	return m == (3u << 17) ? XK_APIC_TIMER_ONESHOT : m;
}

/* The LVT timer interrupt, after an expiry (no lock held). */
static void timer_expired(struct xk_lapic *a)
{
	u32 lvt = reg(a, XK_APIC_LVTT);

	if (!(lvt & XK_APIC_MASKED))
		accept_fixed(a, lvt & XK_APIC_VECTOR, false);
	kick(a);
}

static void timer_fn(void *arg)
{
	struct xk_lapic *a = arg;
	u64 now;

	host_spin_lock(a->lock); /* interrupt context: already irqs off */
	if (!a->t_armed) {
		host_spin_unlock(a->lock);
		return;
	}
	now = host_time_ns();
	if (now < a->t_deadline) { /* a stale start: run at the right time */
		host_timer_start(a->timer, a->t_deadline);
		host_spin_unlock(a->lock);
		return;
	}
	if (a->t_periodic) {
		/* missed periods coalesce into this one interrupt */
		a->t_deadline +=
			((now - a->t_deadline) / a->t_period + 1) * a->t_period;
		host_timer_start(a->timer, a->t_deadline);
	} else {
		a->t_armed = false;
		if (a->t_tscdl)
			a->tsc_deadline = 0;
	}
	host_spin_unlock(a->lock);
	timer_expired(a);
}

/* Stop the timer (owner). */
static void timer_stop(struct xk_lapic *a)
{
	tlock(a);
	a->t_armed = false;
	a->t_tscdl = false;
	tunlock(a);
	host_timer_cancel(a->timer);
}

/* Arm one-shot/periodic for count ticks from now (owner); 0 stops. */
static void timer_start_count(struct xk_lapic *a, u32 count, u32 initial)
{
	u64 now = host_time_ns();
	bool periodic = timer_mode(a) == XK_APIC_TIMER_PERIODIC;
	u64 period = (u64)initial * a->divide;
	u64 first = (u64)count * a->divide;

	if (!initial || (!count && !periodic)) {
		timer_stop(a);
		return;
	}
	if (periodic && period < XK_APIC_MIN_PERIOD_NS)
		period = XK_APIC_MIN_PERIOD_NS;
	if (!count || first > period)
		first = period;
	tlock(a);
	a->t_armed = true;
	a->t_periodic = periodic;
	a->t_tscdl = false;
	a->t_period = period;
	a->t_deadline = now + first;
	host_timer_start(a->timer, a->t_deadline);
	tunlock(a);
}

/* Remaining ns until the next expiry of a one-shot/periodic timer. */
static u64 timer_remaining(struct xk_lapic *a, u64 now)
{
	if (!a->t_armed || a->t_tscdl)
		return 0;
	if (now < a->t_deadline)
		return a->t_deadline - now;
	if (!a->t_periodic)
		return 0;
	return a->t_period - (now - a->t_deadline) % a->t_period;
}

static u32 timer_current(struct xk_lapic *a)
{
	u64 rem;

	tlock(a);
	rem = timer_remaining(a, host_time_ns());
	tunlock(a);
	return (u32)XK_MIN(rem / a->divide, 0xffffffffULL);
}

static u32 divide_value(u32 dcr)
{
	u32 v = (dcr & 3) | ((dcr & 8) >> 1);

	return 1u << ((v + 1) & 7); /* 111b: divide by 1 */
}

static void dcr_write(struct xk_lapic *a, u32 val)
{
	u32 old = a->divide;
	u64 now, rem;

	set_reg(a, XK_APIC_TDCR, val & 0xb);
	a->divide = divide_value(val);
	if (a->divide == old)
		return;
	/* a running count goes on at the new rate from where it is */
	tlock(a);
	if (a->t_armed && !a->t_tscdl) {
		now = host_time_ns();
		rem = timer_remaining(a, now) / old * a->divide;
		a->t_period = (u64)reg(a, XK_APIC_TMICT) * a->divide;
		if (a->t_periodic && a->t_period < XK_APIC_MIN_PERIOD_NS)
			a->t_period = XK_APIC_MIN_PERIOD_NS;
		a->t_deadline = now + rem;
		host_timer_start(a->timer, a->t_deadline);
	}
	tunlock(a);
}

/* Guest TSC ticks in ns nanoseconds, and back (saturating). */
static u64 ns_to_tsc(struct xk_lapic *a, u64 ns)
{
	return xk_ns_to_tsc(ns, a->tsc_khz);
}

static u64 tsc_to_ns(struct xk_lapic *a, u64 ticks)
{
	u64 q = ticks / a->tsc_khz, r = ticks % a->tsc_khz;

	if (q >= ~0ULL / 1000000ULL)
		return ~0ULL;
	return q * 1000000ULL + r * 1000000ULL / a->tsc_khz;
}

void xk_lapic_set_tsc_deadline(struct xk_lapic *a, u64 tsc)
{
	u64 when, now, gnow;

	if (timer_mode(a) != XK_APIC_TIMER_TSCDEADLINE || !hw_enabled(a))
		return; /* ignored, as Linux */
	tlock(a);
	now = host_time_ns();
	gnow = (u64)a->tsc_offset + ns_to_tsc(a, now); /* guest TSC now */
	when = now;
	if (tsc > gnow && a->tsc_khz) {
		when = now + tsc_to_ns(a, tsc - gnow);
		if (when < now)
			when = ~0ULL; /* saturate */
	}
	a->tsc_deadline = tsc;
	if (!tsc || when <= now) {
		a->t_armed = false;
		a->t_tscdl = false;
		if (tsc)
			a->tsc_deadline = 0; /* fired: the MSR clears */
		tunlock(a);
		host_timer_cancel(a->timer);
		if (tsc)
			timer_expired(a);
		return;
	}
	a->t_armed = true;
	a->t_periodic = false;
	a->t_tscdl = true;
	a->t_deadline = when;
	host_timer_start(a->timer, when);
	tunlock(a);
}

u64 xk_lapic_get_tsc_deadline(struct xk_lapic *a)
{
	u64 v;

	if (timer_mode(a) != XK_APIC_TIMER_TSCDEADLINE)
		return 0;
	tlock(a);
	v = a->tsc_deadline;
	tunlock(a);
	return v;
}

void xk_lapic_set_tsc(struct xk_lapic *a, u32 tsc_khz, s64 tsc_offset)
{
	u64 dl;

	a->tsc_khz = tsc_khz;
	a->tsc_offset = tsc_offset;
	dl = xk_lapic_get_tsc_deadline(a);
	if (dl)
		xk_lapic_set_tsc_deadline(a, dl); /* re-time the deadline */
}

/* ---- LVT ---- */

static u32 lvt_writable(struct xk_lapic *a, u32 off)
{
	u32 m = XK_APIC_VECTOR | XK_APIC_MASKED;

	switch (off) {
	case XK_APIC_LVTT:
		return m | (a->has_tscdl ? XK_APIC_TIMER_MODE_MASK :
					   XK_APIC_TIMER_PERIODIC);
	case XK_APIC_LVT_THERMAL:
	case XK_APIC_LVT_PMC:
		return m | XK_APIC_DM_MASK;
	case XK_APIC_LVT_LINT0:
	case XK_APIC_LVT_LINT1:
		return m | XK_APIC_DM_MASK | XK_APIC_POLARITY | XK_APIC_LEVEL;
	default: /* error */
		return m;
	}
}

static bool is_lvt(u32 off)
{
	return off >= XK_APIC_LVTT && off <= XK_APIC_LVT_ERROR;
}

/* Store an LVT keeping its read-only remote IRR bit (set by senders). */
static void lvt_store(struct xk_lapic *a, u32 off, u32 val)
{
	u32 *p = &a->regs[R(off)];
	u32 old = __atomic_load_n(p, __ATOMIC_SEQ_CST), new;

	do {
		new = (old & XK_APIC_REMOTE_IRR) | val;
	} while (!__atomic_compare_exchange_n(
		p, &old, new, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
}

static void lvt_write(struct xk_lapic *a, u32 off, u32 val)
{
	u32 old_mode = timer_mode(a);

	val &= lvt_writable(a, off);
	if (!sw_enabled(a))
		val |= XK_APIC_MASKED;
	lvt_store(a, off, val);
	if (off == XK_APIC_LVTT && timer_mode(a) != old_mode) {
		timer_stop(a);
		set_reg(a, XK_APIC_TMICT, 0);
		tlock(a);
		a->tsc_deadline = 0;
		tunlock(a);
	}
}

static void svr_write(struct xk_lapic *a, u32 val)
{
	u32 off;

	set_reg(a, XK_APIC_SVR, val & 0x3ff);
	if (val & XK_APIC_SVR_ENABLE)
		return;
	for (off = XK_APIC_LVTT; off <= XK_APIC_LVT_ERROR; off += 0x10)
		__atomic_fetch_or(&a->regs[R(off)], XK_APIC_MASKED,
				  __ATOMIC_SEQ_CST);
}

/* ---- events and delivery ---- */

static bool deliver_one(struct xk_lapic *t, const struct xk_apic_irq *irq)
{
	switch (irq->delivery_mode) {
	case XK_APIC_DM_FIXED:
	case XK_APIC_DM_LOWEST:
		if (!accept_fixed(t, irq->vector, irq->level))
			return false;
		break;
	case XK_APIC_DM_NMI:
		__atomic_fetch_add(&t->nmis, 1, __ATOMIC_SEQ_CST);
		break;
	case XK_APIC_DM_INIT:
		if (irq->level && !irq->assert)
			return false; /* INIT level de-assert: no effect */
		__atomic_store_n(&t->init, 1, __ATOMIC_SEQ_CST);
		break;
	case XK_APIC_DM_SIPI:
		__atomic_store_n(&t->sipi, SIPI_VALID | irq->vector,
				 __ATOMIC_SEQ_CST);
		break;
	default: /* SMI (no SMM), ExtINT (only through LINT0), reserved */
		return false;
	}
	kick(t);
	return true;
}

static bool is_broadcast(const struct xk_apic_irq *irq)
{
	return irq->dest == 0xffffffffu ||
	       (!irq->x2apic_dest && irq->dest == 0xff);
}

static bool match_dest(struct xk_lapic *t, const struct xk_apic_irq *irq)
{
	u32 id = reg(t, XK_APIC_ID), ldr = reg(t, XK_APIC_LDR);
	u32 mda = irq->dest;

	switch (irq->shorthand) {
	case XK_APIC_SH_SELF:
		return t == irq->src;
	case XK_APIC_SH_ALL:
		return true;
	case XK_APIC_SH_OTHERS:
		return t != irq->src;
	default:
		break;
	}
	if (is_broadcast(irq))
		return true;
	if (!irq->logical)
		return x2apic_mode(t) ? mda == id : mda == id >> 24;
	if (x2apic_mode(t)) /* cluster in 31:16, member bits in 15:0 */
		return (mda >> 16) == (ldr >> 16) && (mda & ldr & 0xffff);
	if (mda > 0xff)
		return false;
	ldr >>= 24;
	switch (reg(t, XK_APIC_DFR) >> 28) {
	case 0xf: /* flat: a bit per APIC */
		return mda & ldr;
	case 0x0: /* cluster: cluster in 7:4, member bits in 3:0 */
		return (mda >> 4) == (ldr >> 4) && (mda & ldr & 0xf);
	default:
		return false;
	}
}

int xk_apic_bus_deliver(struct xk_apic_bus *bus, const struct xk_apic_irq *irq)
{
	bool lowest = irq->delivery_mode == XK_APIC_DM_LOWEST ||
		      irq->redir_hint;
	bool fixed = irq->delivery_mode == XK_APIC_DM_FIXED ||
		     irq->delivery_mode == XK_APIC_DM_LOWEST;
	struct xk_lapic *best = NULL;
	int i, n = 0;

	for (i = 0; i < XK_MAX_VCPUS; i++) {
		struct xk_lapic *t =
			__atomic_load_n(&bus->apics[i], __ATOMIC_ACQUIRE);

		if (!t || !hw_enabled(t) || !match_dest(t, irq))
			continue;
		if (!lowest) {
			n += deliver_one(t, irq);
			continue;
		}
		if (fixed && !sw_enabled(t))
			continue;
		if (!best || reg(t, XK_APIC_PPR) < reg(best, XK_APIC_PPR))
			best = t;
	}
	if (best)
		n += deliver_one(best, irq);
	return n;
}

int xk_apic_deliver(struct xk_vm *vm, const struct xk_apic_irq *irq)
{
	struct xk_apic_bus *bus = XK_READ_ONCE(vm->apic_bus);

	return bus ? xk_apic_bus_deliver(bus, irq) : 0;
}

int xk_apic_msi_decode(struct xk_apic_bus *bus, u64 addr, u32 data,
		       struct xk_apic_irq *out)
{
	u32 lo = (u32)addr, hi = (u32)(addr >> 32);

	if ((lo & 0xfff00000u) != 0xfee00000u)
		return -EINVAL;
	xk_memset(out, 0, sizeof(*out));
	out->dest = (lo >> 12) & 0xff;
	if (bus->x2apic_api) {
		if (hi & 0xff)
			return -EINVAL; /* Linux refuses these routes */
		out->dest |= hi & 0xffffff00u;
	}
	out->x2apic_dest = out->dest > 0xff;
	out->redir_hint = lo & XK_BIT(3);
	out->logical = lo & XK_BIT(2);
	out->vector = data & 0xff;
	out->delivery_mode = (data >> 8) & 7;
	out->level = data & XK_BIT(15);
	out->assert = true; /* an MSI is always an assertion */
	return 0;
}

/* The ICR was written: send what it says (owner). */
static void send_ipi(struct xk_lapic *a, u32 lo, u32 hi)
{
	struct xk_apic_irq irq;

	xk_memset(&irq, 0, sizeof(irq));
	irq.vector = lo & XK_APIC_VECTOR;
	irq.delivery_mode = (lo >> XK_APIC_DM_SHIFT) & 7;
	irq.logical = lo & XK_APIC_ICR_LOGICAL;
	irq.assert = lo & XK_APIC_ICR_ASSERT;
	irq.level = lo & XK_APIC_LEVEL;
	irq.shorthand = (lo >> XK_APIC_SH_SHIFT) & 3;
	irq.x2apic_dest = x2apic_mode(a);
	irq.dest = irq.x2apic_dest ? hi : hi >> 24;
	irq.src = a;
	if ((irq.delivery_mode == XK_APIC_DM_FIXED ||
	     irq.delivery_mode == XK_APIC_DM_LOWEST) &&
	    irq.vector < 16) {
		set_error(a, XK_APIC_ESR_SEND_ILLEGAL);
		return;
	}
	xk_apic_bus_deliver(a->bus, &irq);
}

/* ---- EOI, ack, LINT ---- */

/* A level-triggered vector was EOIed: a LINT pin's remote IRR ends. */
static void lint_eoi(struct xk_lapic *a, u8 vector)
{
	int pin;

	for (pin = 0; pin < 2; pin++) {
		u32 off = XK_APIC_LVT_LINT0 + pin * 0x10;
		u32 lvt = reg(a, off);

		if (!(lvt & XK_APIC_REMOTE_IRR) ||
		    (lvt & XK_APIC_VECTOR) != vector)
			continue;
		__atomic_fetch_and(&a->regs[R(off)], ~(u32)XK_APIC_REMOTE_IRR,
				   __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&a->lint_level[pin], __ATOMIC_SEQ_CST))
			xk_lapic_lint(a, pin, true); /* still asserted */
	}
}

void xk_lapic_eoi(struct xk_lapic *a)
{
	int v = vec_highest(a, XK_APIC_ISR);

	if (v < 0)
		return;
	vec_clear(a, XK_APIC_ISR, v);
	update_ppr(a);
	if (vec_test(a, XK_APIC_TMR, v)) {
		lint_eoi(a, v);
		if (a->bus->eoi)
			a->bus->eoi(a->bus->eoi_arg, v);
	} else if (a->bus->eoi_edge) {
		a->bus->eoi_edge(a->bus->eoi_arg, v);
	}
}

int xk_lapic_pending(struct xk_lapic *a)
{
	int v;

	if (!hw_enabled(a))
		return -1;
	v = vec_highest(a, XK_APIC_IRR);
	if (v < 0 || ((u32)v & 0xf0) <= (reg(a, XK_APIC_PPR) & 0xf0))
		return -1;
	return v;
}

int xk_lapic_ack(struct xk_lapic *a)
{
	int v = xk_lapic_pending(a);

	if (v < 0)
		return -1;
	vec_clear(a, XK_APIC_IRR, v);
	vec_set(a, XK_APIC_ISR, v);
	update_ppr(a);
	return v;
}

int xk_lapic_set_irq(struct xk_lapic *a, u8 vector, bool level)
{
	if (vector < 16) {
		set_error(a, XK_APIC_ESR_RECV_ILLEGAL);
		return -EINVAL;
	}
	if (!accept_fixed(a, vector, level))
		return 0;
	kick(a);
	return 1;
}

bool xk_lapic_accepts_pic(struct xk_lapic *a)
{
	u32 lvt0 = reg(a, XK_APIC_LVT_LINT0);

	if (!hw_enabled(a))
		return true; /* virtual wire: the PIC goes straight to the CPU */
	return !(lvt0 & XK_APIC_MASKED) &&
	       ((lvt0 & XK_APIC_DM_MASK) >> XK_APIC_DM_SHIFT) ==
		       XK_APIC_DM_EXTINT;
}

bool xk_lapic_extint_pending(struct xk_lapic *a)
{
	return __atomic_load_n(&a->lint_level[0], __ATOMIC_SEQ_CST) &&
	       xk_lapic_accepts_pic(a);
}

int xk_lapic_lint(struct xk_lapic *a, int pin, bool level)
{
	u32 off, lvt, vec, prev;
	bool rising;

	if (pin != 0 && pin != 1)
		return -EINVAL;
	prev = __atomic_exchange_n(&a->lint_level[pin], level ? 1u : 0u,
				   __ATOMIC_SEQ_CST);
	rising = level && !prev;
	if (!hw_enabled(a)) {
		if (pin == 0 && rising)
			kick(a);
		return 0;
	}
	off = XK_APIC_LVT_LINT0 + pin * 0x10;
	lvt = reg(a, off);
	vec = lvt & XK_APIC_VECTOR;
	if (lvt & XK_APIC_MASKED)
		return 0;
	switch ((lvt & XK_APIC_DM_MASK) >> XK_APIC_DM_SHIFT) {
	case XK_APIC_DM_FIXED:
		if (lvt & XK_APIC_LEVEL) {
			u32 was;

			if (!level)
				return 0;
			was = __atomic_fetch_or(&a->regs[R(off)],
						XK_APIC_REMOTE_IRR,
						__ATOMIC_SEQ_CST);
			if (was & XK_APIC_REMOTE_IRR)
				return 0;
			if (!accept_fixed(a, vec, true))
				__atomic_fetch_and(&a->regs[R(off)],
						   ~(u32)XK_APIC_REMOTE_IRR,
						   __ATOMIC_SEQ_CST);
		} else if (!rising || !accept_fixed(a, vec, false)) {
			return 0;
		}
		break;
	case XK_APIC_DM_NMI:
		if (!rising)
			return 0;
		__atomic_fetch_add(&a->nmis, 1, __ATOMIC_SEQ_CST);
		break;
	case XK_APIC_DM_INIT:
		if (!rising)
			return 0;
		__atomic_store_n(&a->init, 1, __ATOMIC_SEQ_CST);
		break;
	case XK_APIC_DM_EXTINT:
		if (!rising)
			return 0;
		break; /* the integration asks the PIC for the vector */
	default:
		return 0;
	}
	kick(a);
	return 0;
}

void xk_lapic_take_events(struct xk_lapic *a, struct xk_lapic_events *ev)
{
	u32 n = __atomic_exchange_n(&a->nmis, 0, __ATOMIC_SEQ_CST);
	u32 s = __atomic_exchange_n(&a->sipi, 0, __ATOMIC_SEQ_CST);

	ev->nmis = (u8)XK_MIN(n, 2u);
	ev->init = __atomic_exchange_n(&a->init, 0, __ATOMIC_SEQ_CST);
	ev->sipi = s & SIPI_VALID;
	ev->sipi_vector = s & 0xff;
}

bool xk_lapic_has_events(struct xk_lapic *a)
{
	return __atomic_load_n(&a->nmis, __ATOMIC_SEQ_CST) ||
	       __atomic_load_n(&a->init, __ATOMIC_SEQ_CST) ||
	       __atomic_load_n(&a->sipi, __ATOMIC_SEQ_CST);
}

/* ---- register access ---- */

static bool is_vec_reg(u32 off)
{
	return off >= XK_APIC_ISR && off < XK_APIC_ESR;
}

/* Read a register at a 16-byte aligned offset; -EINVAL: no such. */
static int reg_read(struct xk_lapic *a, u32 off, u32 *val)
{
	bool x2 = x2apic_mode(a);

	if (is_vec_reg(off) || is_lvt(off)) {
		*val = reg(a, off);
		return 0;
	}
	switch (off) {
	case XK_APIC_ID:
	case XK_APIC_VER:
	case XK_APIC_TPR:
	case XK_APIC_PPR:
	case XK_APIC_LDR:
	case XK_APIC_SVR:
	case XK_APIC_ESR:
	case XK_APIC_ICR:
	case XK_APIC_TMICT:
	case XK_APIC_TDCR:
		*val = reg(a, off);
		return 0;
	case XK_APIC_DFR:
	case XK_APIC_ICR2:
		if (x2)
			return -EINVAL;
		*val = reg(a, off);
		return 0;
	case XK_APIC_APR:
		if (x2)
			return -EINVAL;
		*val = compute_apr(a);
		return 0;
	case XK_APIC_TMCCT:
		*val = timer_mode(a) == XK_APIC_TIMER_TSCDEADLINE ?
			       0 :
			       timer_current(a);
		return 0;
	default: /* EOI, RRD, SELF_IPI (write-only), CMCI, reserved */
		return -EINVAL;
	}
}

/* Write a register (16-byte aligned offset); -EINVAL: #GP in x2APIC. */
static int reg_write(struct xk_lapic *a, u32 off, u32 val)
{
	bool x2 = x2apic_mode(a);

	if (is_lvt(off)) {
		lvt_write(a, off, val);
		return 0;
	}
	switch (off) {
	case XK_APIC_ID:
		if (x2)
			return -EINVAL;
		set_reg(a, off, val & 0xff000000u);
		return 0;
	case XK_APIC_TPR:
		set_reg(a, off, val & 0xff);
		update_ppr(a);
		return 0;
	case XK_APIC_EOI:
		if (x2 && val)
			return -EINVAL;
		xk_lapic_eoi(a);
		return 0;
	case XK_APIC_LDR:
		if (x2)
			return -EINVAL;
		set_reg(a, off, val & 0xff000000u);
		return 0;
	case XK_APIC_DFR:
		if (x2)
			return -EINVAL;
		set_reg(a, off, val | 0x0fffffffu);
		return 0;
	case XK_APIC_SVR:
		svr_write(a, val);
		return 0;
	case XK_APIC_ESR:
		if (x2 && val)
			return -EINVAL;
		set_reg(a, off,
			__atomic_exchange_n(&a->esr_pending, 0,
					    __ATOMIC_SEQ_CST));
		return 0;
	case XK_APIC_ICR:
		if (x2) /* the 64-bit MSR, see xk_lapic_msr_write */
			return -EINVAL;
		set_reg(a, off, val & ~(u32)XK_APIC_DELIVERY_STATUS);
		send_ipi(a, val, reg(a, XK_APIC_ICR2));
		return 0;
	case XK_APIC_ICR2:
		if (x2)
			return -EINVAL;
		set_reg(a, off, val & 0xff000000u);
		return 0;
	case XK_APIC_TMICT:
		if (timer_mode(a) == XK_APIC_TIMER_TSCDEADLINE)
			return 0; /* ignored in TSC-deadline mode */
		set_reg(a, off, val);
		timer_start_count(a, val, val);
		return 0;
	case XK_APIC_TDCR:
		dcr_write(a, val);
		return 0;
	case XK_APIC_SELF_IPI:
		if (!x2)
			return -EINVAL;
		accept_fixed(a, val & XK_APIC_VECTOR, false);
		kick(a);
		return 0;
	default: /* read-only or reserved */
		return -EINVAL;
	}
}

bool xk_lapic_mmio_decodes(struct xk_lapic *a, u64 gpa)
{
	u64 base = get_base(a);

	/* x2APIC mode too: the page then reads all ones (Linux's MMIO hole
	 * quirk); a hardware-disabled APIC leaves it to the VMM */
	return (base & XK_APICBASE_ENABLE) &&
	       ((gpa ^ base) & ~0xfffULL &
		((1ULL << xk_host_maxphyaddr()) - 1)) == 0;
}

int xk_lapic_mmio_read(struct xk_lapic *a, u32 offset, void *data, u32 len)
{
	u32 align = offset & 0xf, v = 0;

	if (len > 8)
		return -EINVAL;
	if (!hw_enabled(a) || x2apic_mode(a)) {
		xk_memset(data, 0xff, len);
		return 0;
	}
	xk_memset(data, 0, len);
	if ((len != 1 && len != 2 && len != 4) || align + len > 4 ||
	    offset >= XK_PAGE_SIZE)
		return 0;
	if (reg_read(a, offset & 0xff0, &v))
		return 0;
	xk_memcpy(data, (u8 *)&v + align, len);
	return 0;
}

int xk_lapic_mmio_write(struct xk_lapic *a, u32 offset, const void *data,
			u32 len)
{
	u32 v;

	if (!hw_enabled(a) || x2apic_mode(a))
		return 0;
	if (len != 4 || (offset & 0xf) || offset >= XK_PAGE_SIZE)
		return 0;
	xk_memcpy(&v, data, 4);
	reg_write(a, offset, v); /* MMIO: a bad register is just ignored */
	return 0;
}

int xk_lapic_msr_read(struct xk_lapic *a, u32 msr, u64 *val)
{
	u32 off = (msr - XK_MSR_X2APIC_FIRST) << 4, v;

	if (msr < XK_MSR_X2APIC_FIRST || msr > XK_MSR_X2APIC_LAST ||
	    !x2apic_mode(a) || !hw_enabled(a))
		return -EINVAL;
	if (off == XK_APIC_ICR) {
		*val = (u64)reg(a, XK_APIC_ICR2) << 32 | reg(a, XK_APIC_ICR);
		return 0;
	}
	if (reg_read(a, off, &v))
		return -EINVAL;
	*val = v;
	return 0;
}

int xk_lapic_msr_write(struct xk_lapic *a, u32 msr, u64 val)
{
	u32 off = (msr - XK_MSR_X2APIC_FIRST) << 4;

	if (msr < XK_MSR_X2APIC_FIRST || msr > XK_MSR_X2APIC_LAST ||
	    !x2apic_mode(a) || !hw_enabled(a))
		return -EINVAL;
	if (off == XK_APIC_ICR) {
		if (val & MSR_X2APIC_ICR_RSVD)
			return -EINVAL;
		set_reg(a, XK_APIC_ICR,
			(u32)val & ~(u32)XK_APIC_DELIVERY_STATUS);
		set_reg(a, XK_APIC_ICR2, (u32)(val >> 32));
		send_ipi(a, (u32)val, (u32)(val >> 32));
		return 0;
	}
	if (val >> 32)
		return -EINVAL;
	return reg_write(a, off, (u32)val);
}

u64 xk_lapic_get_cr8(struct xk_lapic *a)
{
	return reg(a, XK_APIC_TPR) >> 4;
}

void xk_lapic_set_cr8(struct xk_lapic *a, u64 cr8)
{
	set_reg(a, XK_APIC_TPR, (cr8 & 0xf) << 4);
	update_ppr(a);
}

bool xk_lapic_x2apic_mode(struct xk_lapic *a)
{
	return x2apic_mode(a);
}

bool xk_lapic_hw_enabled(struct xk_lapic *a)
{
	return hw_enabled(a);
}

/* ---- reset, APIC base ---- */

/* The registers' reset values (SDM 10.4.7.1), with the given ID. */
static void regs_reset(struct xk_lapic *a, u32 id, bool bsp)
{
	u32 off;

	timer_stop(a);
	tlock(a);
	a->tsc_deadline = 0;
	tunlock(a);
	for (off = 0; off < XK_PAGE_SIZE; off += 4)
		set_reg(a, off, 0);
	set_reg(a, XK_APIC_ID, id);
	set_reg(a, XK_APIC_VER, XK_APIC_VERSION);
	set_reg(a, XK_APIC_DFR, 0xffffffffu);
	set_reg(a, XK_APIC_SVR, 0xff);
	for (off = XK_APIC_LVTT; off <= XK_APIC_LVT_ERROR; off += 0x10)
		set_reg(a, off, XK_APIC_MASKED);
	if (bsp) /* Linux's LINT0_REENABLED quirk (QEMU does the same) */
		set_reg(a, XK_APIC_LVT_LINT0,
			XK_APIC_DM_EXTINT << XK_APIC_DM_SHIFT);
	if (x2apic_mode(a))
		set_reg(a, XK_APIC_LDR, x2apic_ldr(id));
	a->divide = divide_value(0);
	__atomic_store_n(&a->esr_pending, 0, __ATOMIC_SEQ_CST);
	update_ppr(a);
}

void xk_lapic_reset(struct xk_lapic *a, bool init, bool bsp)
{
	if (init) { /* INIT: everything but the ID and the APIC base */
		regs_reset(a, reg(a, XK_APIC_ID), bsp);
		return;
	}
	put_base(a, XK_APICBASE_DEFAULT | XK_APICBASE_ENABLE |
			    (bsp ? XK_APICBASE_BSP : 0));
	regs_reset(a, a->vcpu_id << 24, bsp);
	__atomic_store_n(&a->nmis, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&a->init, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&a->sipi, 0, __ATOMIC_SEQ_CST);
}

u64 xk_lapic_get_base(struct xk_lapic *a)
{
	return get_base(a);
}

int xk_lapic_set_base(struct xk_lapic *a, u64 val, bool host)
{
	u64 rsvd = ~((1ULL << xk_host_maxphyaddr()) - 1) | 0x2ff;
	u64 old = get_base(a);
	bool en = val & XK_APICBASE_ENABLE, ext = val & XK_APICBASE_EXTD;
	bool old_en = old & XK_APICBASE_ENABLE;
	bool old_ext = old & XK_APICBASE_EXTD;

	if (!a->has_x2apic)
		rsvd |= XK_APICBASE_EXTD;
	if (val & rsvd)
		return -EINVAL;
	if (ext && !en)
		return -EINVAL; /* the invalid state */
	if (!host && ((old_ext && en && !ext) || (!old_en && ext)))
		return -EINVAL; /* x2APIC -> xAPIC, disabled -> x2APIC */
	if (old_en && !en) {
		/* hardware disable: back to the power-on registers */
		put_base(a, val);
		regs_reset(a, a->vcpu_id << 24, false);
		return 0;
	}
	put_base(a, val);
	if (en && ext && !old_ext) {
		set_reg(a, XK_APIC_ID, a->vcpu_id);
		set_reg(a, XK_APIC_LDR, x2apic_ldr(a->vcpu_id));
	} else if (en && !ext && (!old_en || old_ext)) {
		set_reg(a, XK_APIC_ID, a->vcpu_id << 24);
		if (old_ext)
			set_reg(a, XK_APIC_LDR, 0);
	}
	return 0;
}

void xk_lapic_set_features(struct xk_lapic *a, bool x2apic, bool tscdl)
{
	a->has_x2apic = x2apic;
	a->has_tscdl = tscdl;
}

/* ---- KVM_GET_LAPIC / KVM_SET_LAPIC ---- */

void xk_lapic_get_state(struct xk_lapic *a, struct kvm_lapic_state *s)
{
	u32 w[KVM_APIC_REG_SIZE / 4], v;
	unsigned int i;

	for (i = 0; i < XK_ARRAY_SIZE(w); i++)
		w[i] = reg(a, i * 4);
	reg_read(a, XK_APIC_TMCCT, &v);
	w[R(XK_APIC_TMCCT)] = v;
	w[R(XK_APIC_APR)] = compute_apr(a);
	if (x2apic_mode(a) && !a->bus->x2apic_api)
		w[R(XK_APIC_ID)] <<= 24; /* xAPIC format without X2APIC_API */
	xk_memcpy(s->regs, w, sizeof(w));
}

int xk_lapic_set_state(struct xk_lapic *a, const struct kvm_lapic_state *s)
{
	u32 w[KVM_APIC_REG_SIZE / 4];
	unsigned int i;
	u64 dl;

	xk_memcpy(w, s->regs, sizeof(w));
	if (x2apic_mode(a)) {
		if (a->bus->x2apic_api) {
			if (w[R(XK_APIC_ID)] != a->vcpu_id)
				return -EINVAL;
		} else {
			w[R(XK_APIC_ID)] >>= 24;
		}
		w[R(XK_APIC_LDR)] = x2apic_ldr(w[R(XK_APIC_ID)]);
	}
	timer_stop(a);
	for (i = 0; i < XK_ARRAY_SIZE(w); i++)
		set_reg(a, i * 4, w[i]);
	set_reg(a, XK_APIC_VER, XK_APIC_VERSION);
	set_reg(a, XK_APIC_TDCR, w[R(XK_APIC_TDCR)] & 0xb);
	a->divide = divide_value(w[R(XK_APIC_TDCR)]);
	update_ppr(a);
	/* restart the timer where the image says it was */
	if (timer_mode(a) == XK_APIC_TIMER_TSCDEADLINE) {
		tlock(a);
		dl = a->tsc_deadline;
		tunlock(a);
		if (dl)
			xk_lapic_set_tsc_deadline(a, dl);
	} else {
		timer_start_count(a, w[R(XK_APIC_TMCCT)], w[R(XK_APIC_TMICT)]);
	}
	set_reg(a, XK_APIC_TMCCT, 0);
	if (xk_lapic_pending(a) >= 0)
		kick(a);
	return 0;
}

/* ---- life cycle ---- */

int xk_apic_bus_create(void (*eoi)(void *arg, u8 vector), void *eoi_arg,
		       struct xk_apic_bus **out)
{
	struct xk_apic_bus *bus = host_zalloc(sizeof(*bus));

	if (!bus)
		return -ENOMEM;
	bus->eoi = eoi;
	bus->eoi_arg = eoi_arg;
	*out = bus;
	return 0;
}

void xk_apic_bus_set_edge_eoi(struct xk_apic_bus *bus,
			      void (*eoi_edge)(void *arg, u8 vector))
{
	bus->eoi_edge = eoi_edge;
}

void xk_apic_bus_destroy(struct xk_apic_bus *bus)
{
	int i;

	if (!bus)
		return;
	for (i = 0; i < XK_MAX_VCPUS; i++)
		XK_WARN_ON(bus->apics[i]);
	host_free(bus, sizeof(*bus));
}

void xk_apic_bus_set_x2apic_api(struct xk_apic_bus *bus, bool on)
{
	bus->x2apic_api = on;
}

int xk_lapic_create(struct xk_apic_bus *bus, u32 vcpu_id, bool bsp,
		    void (*kick_fn)(void *arg), void *kick_arg,
		    struct xk_lapic **out)
{
	struct xk_lapic *a;
	int slot;

	for (slot = 0; slot < XK_MAX_VCPUS; slot++)
		if (!bus->apics[slot])
			break;
	if (slot == XK_MAX_VCPUS)
		return -ENOSPC;
	a = host_zalloc(sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->lock = host_spin_create();
	if (!a->lock)
		goto fail;
	a->timer = host_timer_create(timer_fn, a);
	if (!a->timer)
		goto fail;
	a->bus = bus;
	a->vcpu_id = vcpu_id;
	a->slot = slot;
	a->kick = kick_fn;
	a->kick_arg = kick_arg;
	xk_lapic_reset(a, false, bsp);
	__atomic_store_n(&bus->apics[slot], a, __ATOMIC_RELEASE);
	*out = a;
	return 0;
fail:
	if (a->lock)
		host_spin_destroy(a->lock);
	host_free(a, sizeof(*a));
	return -ENOMEM;
}

void xk_lapic_destroy(struct xk_lapic *a)
{
	if (!a)
		return;
	__atomic_store_n(&a->bus->apics[a->slot], NULL, __ATOMIC_RELEASE);
	host_timer_destroy(a->timer);
	host_spin_destroy(a->lock);
	host_free(a, sizeof(*a));
}
