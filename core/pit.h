/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pit.h - the 8254 programmable interval timer of a PC, one per VM: three
 * channels at ports 0x40-0x42, the control word at 0x43, and (with
 * KVM_PIT_SPEAKER_DUMMY) port 0x61's speaker/gate bits.  Channel 0 drives
 * IRQ0.  See pit.c for the theory.
 *
 * Contexts.  The PIT's lock is taken by its timer callback (hard interrupt
 * context on Linux), so the functions here, all for process context with
 * interrupts enabled, disable local interrupts around it.  None sleeps but
 * xk_pit_create() and xk_pit_destroy().
 */
#ifndef XKVM_PIT_H
#define XKVM_PIT_H

#include "host.h"

#define XK_PIT_HZ 1193182u /* the input clock of every channel */
/*
 * The shortest period of channel 0's periodic interrupt, as Linux's
 * min_timer_period_us default: a guest cannot make the host take timer
 * interrupts faster than every 200 us.
 */
#define XK_PIT_MIN_PERIOD_NS 200000ull

/*
 * What the integration gives the PIT.
 *  - irq0(opaque, level): channel 0's interrupt, delivered as Linux does
 *    as a pulse: irq0(1) then irq0(0) at each expiry.  It runs in the
 *    timer callback, in interrupt context with local interrupts off and
 *    no PIT lock held: it may call xk_pic_set_irq_irqsoff() and its IOAPIC
 *    counterpart, must not sleep and must not call into this PIT.  It is
 *    never called from the port, state or acknowledgement functions (a
 *    reinjected tick is a pulse of the timer callback too).
 */
struct xk_pit_ops {
	void (*irq0)(void *opaque, int level);
	void *opaque;
};

struct xk_pit;

/*
 * A PIT in Linux's reset state (channels unprogrammed, mode 0xff, gates
 * high but channel 2's).  flags: those of struct kvm_pit_config, i.e.
 * KVM_PIT_SPEAKER_DUMMY to serve port 0x61 (-EINVAL for other bits).
 * ops is copied.  0, -EINVAL or -ENOMEM.  May sleep.
 */
int xk_pit_create(u32 flags, const struct xk_pit_ops *ops, struct xk_pit **out);
void xk_pit_destroy(struct xk_pit *pit); /* stops the timer; may sleep */
void xk_pit_reset(struct xk_pit *pit);

/* Is port served by this PIT (0x40-0x43, 0x61 with SPEAKER_DUMMY)? */
bool xk_pit_port(const struct xk_pit *pit, u16 port);
/*
 * Guest port I/O, any size: writes use the low byte, reads return one byte
 * zero-extended.  0 when handled, -EOPNOTSUPP if the port is not served.
 */
int xk_pit_read(struct xk_pit *pit, u16 port, u8 size, u32 *val);
int xk_pit_write(struct xk_pit *pit, u16 port, u8 size, u32 val);

/* KVM_GET_PIT2 / KVM_SET_PIT2 with Linux's semantics (see pit.c). */
void xk_pit_get_state(struct xk_pit *pit, struct kvm_pit_state2 *out);
void xk_pit_set_state(struct xk_pit *pit, const struct kvm_pit_state2 *in);

/*
 * Channel ch's counter (as the guest would read it, 16 bits, BCD-encoded
 * in BCD mode) and OUT pin at time now_ns (host_time_ns() clock, not
 * before the last load).  For tests and the debugger.
 */
u16 xk_pit_count_at(struct xk_pit *pit, unsigned int ch, u64 now_ns);
bool xk_pit_out_at(struct xk_pit *pit, unsigned int ch, u64 now_ns);

/*
 * Channel 0 interrupts delivered (pulses), and periods that never got
 * one: coalesced into a late pulse with reinject off, beyond the pending
 * bound with reinject on (see pit.c).
 */
void xk_pit_ticks(struct xk_pit *pit, u64 *delivered, u64 *skipped);
/* Reinject mode: ticks due and not yet acknowledged (the one in flight too). */
u32 xk_pit_pending(struct xk_pit *pit);

/*
 * Lost-tick reinjection (KVM_REINJECT_CONTROL), on after xk_pit_create()
 * as in Linux.  Turning it on starts with nothing pending.
 */
void xk_pit_set_reinject(struct xk_pit *pit, bool on);
bool xk_pit_reinject(struct xk_pit *pit);
/*
 * From the integration, which maps chips' pins to GSI 0 (see irqchip.c):
 *  - xk_pit_ack(): the guest acknowledged an interrupt of IRQ0 (PIC EOI or
 *    auto-EOI, IOAPIC EOI).  In reinject mode one pending tick goes, and
 *    if more are due the next pulse comes from the timer callback soon
 *    after (the host timer is re-armed for now).
 *  - xk_pit_unmasked(): IRQ0's pin was unmasked (PIC IMR, IOAPIC entry):
 *    in reinject mode pending ticks are dropped and the pulse in flight
 *    forgotten, as Linux's mask notifier does.
 * Any context, any locks held: they take only the PIT's lock (interrupts
 * off), a leaf under which nothing but the host timer is touched.
 */
void xk_pit_ack(struct xk_pit *pit);
void xk_pit_unmasked(struct xk_pit *pit);

#endif /* XKVM_PIT_H */
