/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pic.h - the dual 8259A programmable interrupt controller of a PC, one pair
 * per VM: master at ports 0x20/0x21, slave at 0xa0/0xa1 cascaded on the
 * master's IR2, and the PIIX edge/level control registers (ELCR) at
 * 0x4d0/0x4d1.  See pic.c for the theory.
 *
 * Inputs: xk_pic_set_irq() (pins 0-15) and the port handlers.  Output: the
 * INTR line, reported through ops->intr and readable with
 * xk_pic_has_interrupt(); the CPU's INTA cycle is xk_pic_ack().
 *
 * Contexts.  The pair's lock is always taken with local interrupts off, so
 * that a timer callback (hard interrupt context on Linux) may drive an
 * input.  Functions without a suffix are for process context with
 * interrupts enabled (port I/O exits, ioctls, the injection step before the
 * run loop disables interrupts); they disable interrupts around the lock.
 * The _irqsoff variants are for callers that already run with local
 * interrupts off (the PIT's IRQ0 callback, a run loop injecting with
 * interrupts off).  None of them sleeps.
 */
#ifndef XKVM_PIC_H
#define XKVM_PIC_H

#include "host.h"

#define XK_PIC_NR_PINS 16

/*
 * What the integration gives the PIC.  The callbacks run under the pair's
 * lock with local interrupts off: they must be short, must not sleep and
 * must not call back into this PIC (make a vCPU request and kick it).
 *  - intr(opaque, level): the INTR output changed to level, in the order
 *    of the changes.  Optional (NULL: poll xk_pic_has_interrupt()).
 *  - eoi(opaque, irq): an in-service bit of pin irq (0-15) was cleared by
 *    an EOI command or by auto-EOI (for ack notifiers: PIT tick
 *    reinjection, level-triggered re-assertion).  Optional.
 *  - unmask(opaque, irq): an OCW1 write cleared pin irq's IMR bit (for
 *    mask notifiers: the PIT's reinjection restarts).  Optional.
 */
struct xk_pic_ops {
	void (*intr)(void *opaque, bool level);
	void (*eoi)(void *opaque, unsigned int irq);
	void (*unmask)(void *opaque, unsigned int irq);
	void *opaque;
};

struct xk_pic;

/* A PIC pair in its power-on state; ops is copied.  0 or -ENOMEM. */
int xk_pic_create(const struct xk_pic_ops *ops, struct xk_pic **out);
void xk_pic_destroy(struct xk_pic *pic); /* NULL is fine */
/* Back to the power-on state (KVM's zeroed state with the ELCR masks). */
void xk_pic_reset(struct xk_pic *pic);

/*
 * Drive input pin irq (0-15) to level.  Edge-triggered pins (ELCR bit
 * clear) latch a request on a rising edge; level-triggered pins request
 * while high.  Returns -1 if the pin is masked, 0 if a rising level or
 * edge found its request already pending (coalesced), else 1 (a new
 * request, or none to make: the line low, an edge pin still high), as
 * Linux's kvm_pic_set_irq; -EINVAL for a bad pin.
 */
int xk_pic_set_irq(struct xk_pic *pic, unsigned int irq, bool level);
int xk_pic_set_irq_irqsoff(struct xk_pic *pic, unsigned int irq, bool level);

/* The INTR output; lock-free, may be stale by the time it returns. */
bool xk_pic_has_interrupt(const struct xk_pic *pic);

/*
 * The INTA cycle: the vector of the highest-priority request, which goes
 * in service (auto-EOI clears it again).  With nothing to deliver, the
 * spurious vector of IR7 of the master (irq_base + 7), or of the slave if
 * the master had latched its cascade request (master IR2 goes in service).
 */
u8 xk_pic_ack(struct xk_pic *pic);
u8 xk_pic_ack_irqsoff(struct xk_pic *pic);

/* Is port one of 0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1? */
bool xk_pic_port(u16 port);
/*
 * Port I/O of a guest (size 1, 2 or 4).  0 when handled, -EOPNOTSUPP for a
 * port that is not ours.  As Linux, only byte accesses do anything: a wider
 * read returns 0, a wider write is dropped.
 */
int xk_pic_read(struct xk_pic *pic, u16 port, u8 size, u32 *val);
int xk_pic_write(struct xk_pic *pic, u16 port, u8 size, u32 val);

/*
 * KVM_GET_IRQCHIP / KVM_SET_IRQCHIP for chip ids KVM_IRQCHIP_PIC_MASTER (0)
 * and KVM_IRQCHIP_PIC_SLAVE (1), -EINVAL otherwise.  As Linux, the state is
 * copied verbatim both ways (elcr_mask included), then INTR is recomputed.
 */
int xk_pic_get_state(struct xk_pic *pic, u32 chip, struct kvm_pic_state *out);
int xk_pic_set_state(struct xk_pic *pic, u32 chip,
		     const struct kvm_pic_state *in);

#endif /* XKVM_PIC_H */
