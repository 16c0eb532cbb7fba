/* SPDX-License-Identifier: GPL-2.0 */
/*
 * irq.h - the GSI router of the in-kernel irqchip (irq.c).
 *
 * A global system interrupt (GSI) is what the VMM (KVM_IRQ_LINE, irqfd) and
 * the in-kernel PIT raise; the routing table of KVM_SET_GSI_ROUTING says
 * where it goes: pins of the PIC pair and of the I/O APIC, or an MSI
 * message.  Several sources may drive one pin (the VMM and the PIT both
 * drive GSI 0); a pin's level is the OR of its sources', as in Linux.
 */
#ifndef XKVM_IRQ_H
#define XKVM_IRQ_H

#include "host.h"

#define XK_MAX_IRQ_ROUTES 4096 /* Linux's KVM_MAX_IRQ_ROUTES */
#define XK_PIC_PINS 16         /* master 0-7, slave 8-15 */
#define XK_IRQCHIP_PINS 24     /* the I/O APIC's */

/* Who drives a pin; each keeps its own level. */
enum xk_irq_source {
	XK_IRQ_SRC_USER = 0, /* KVM_IRQ_LINE, irqfd */
	XK_IRQ_SRC_PIT = 1,
	XK_IRQ_SRC_RESAMPLE = 2, /* resampling irqfds (irqfd.c), all GSIs */
	XK_IRQ_SOURCES
};

/* Where the router sends; each returns as KVM_IRQ_LINE_STATUS counts. */
struct xk_irq_sinks {
	int (*pic)(void *opaque, unsigned int pin, int level);    /* 0-15 */
	int (*ioapic)(void *opaque, unsigned int pin, int level); /* 0-23 */
	int (*msi)(void *opaque, u64 addr, u32 data);
	void *opaque;
};

struct xk_irq_route {
	u32 gsi;
	u32 type; /* KVM_IRQ_ROUTING_IRQCHIP or KVM_IRQ_ROUTING_MSI */
	u32 chip; /* irqchip: KVM_IRQCHIP_PIC_MASTER, _SLAVE, _IOAPIC */
	u32 pin;  /* irqchip: the chip's pin (PIC: 0-15 over both) */
	u64 msi_addr;
	u32 msi_data;
};

struct xk_irq_table {
	u32 n;
	/* the GSI whose route to a pin came last in the VMM's table, or -1:
	 * the GSI an acknowledgement of that pin is reported for (Linux's
	 * chip map); PIC pins 0-15 over both chips */
	s32 pic_gsi[XK_PIC_PINS];
	s32 ioapic_gsi[XK_IRQCHIP_PINS];
	struct xk_irq_route r[]; /* sorted by gsi */
};

struct xk_irq_router {
	struct host_spin *lock;     /* (c) guards the rest */
	struct xk_irq_sinks sinks;  /* (c) */
	struct xk_irq_table *table; /* replaced whole by set_routing */
	u32 pic_src[XK_PIC_PINS];   /* per pin: sources asserting it */
	u32 ioapic_src[XK_IRQCHIP_PINS];
};

struct xk_irq_router *xk_irq_router_create(const struct xk_irq_sinks *sinks);
void xk_irq_router_destroy(struct xk_irq_router *r);

/* Linux's table at KVM_CREATE_IRQCHIP: GSI 0-15 to PIC and I/O APIC, 16-23 I/O APIC. */
int xk_irq_default_routing(struct xk_irq_router *r);

/* KVM_SET_GSI_ROUTING: Linux's checks and errnos; the table is replaced whole. */
int xk_irq_set_routing(struct xk_irq_router *r,
		       const struct kvm_irq_routing_entry *e, u32 n, u32 flags);

/*
 * Drive gsi from source to level.  Returns as KVM_IRQ_LINE_STATUS: the sum
 * of what the routes' sinks report (>0 delivered, 0 coalesced), -1 when
 * none took it (masked, no route).  Any context.
 */
int xk_irq_set(struct xk_irq_router *r, u32 gsi, int level,
	       enum xk_irq_source src);

/*
 * The GSI an acknowledgement (EOI) of a chip's pin belongs to, as Linux
 * maps it: chip KVM_IRQCHIP_PIC_MASTER with pin 0-15 for both PICs, or
 * KVM_IRQCHIP_IOAPIC with pin 0-23.  -1 when no route reaches the pin.
 * Any context.
 */
int xk_irq_pin_gsi(struct xk_irq_router *r, u32 chip, u32 pin);

/* Copy of the current routes, for the debugger: up to max, returns count. */
u32 xk_irq_routes(struct xk_irq_router *r, struct xk_irq_route *out, u32 max);

#endif /* XKVM_IRQ_H */
