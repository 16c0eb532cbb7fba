/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ioapic.h - the in-kernel I/O APIC model (ioapic.c).
 *
 * One per VM when the VMM asks for the in-kernel irqchip.  Its 24 input
 * pins are driven by the GSI router; what it sends to the local APICs is
 * handed to a delivery callback as an MSI message (address, data), the one
 * format every interrupt source shares, so the local APIC model needs a
 * single entry point.  Level-triggered sources wait for the local APIC's
 * EOI of their vector (xk_ioapic_eoi), as on real hardware.
 */
#ifndef XKVM_IOAPIC_H
#define XKVM_IOAPIC_H

#include "host.h"

#define XK_IOAPIC_PINS 24
#define XK_IOAPIC_BASE 0xfec00000ULL
#define XK_IOAPIC_SIZE 0x100ULL
#define XK_IOAPIC_VERSION 0x11 /* 82093AA, as Linux's model reports */

/* MMIO offsets and indirect register numbers */
#define XK_IOAPIC_REGSEL 0x00
#define XK_IOAPIC_WINDOW 0x10
#define XK_IOAPIC_EOI 0x40
#define XK_IOAPIC_REG_ID 0x00
#define XK_IOAPIC_REG_VER 0x01
#define XK_IOAPIC_REG_ARB 0x02
#define XK_IOAPIC_REG_TABLE 0x10 /* entry n: 0x10 + 2n (low), + 1 (high) */

/* redirection entry bits */
#define XK_IOAPIC_RTE_VECTOR 0xffULL
#define XK_IOAPIC_RTE_DELMODE_SHIFT 8
#define XK_IOAPIC_RTE_DELMODE (7ULL << 8)
#define XK_IOAPIC_RTE_DESTLOG XK_BIT(11)
#define XK_IOAPIC_RTE_DELIVS XK_BIT(12) /* read-only */
#define XK_IOAPIC_RTE_POLARITY XK_BIT(13)
#define XK_IOAPIC_RTE_REMOTE_IRR XK_BIT(14) /* read-only */
#define XK_IOAPIC_RTE_LEVEL XK_BIT(15)
#define XK_IOAPIC_RTE_MASK XK_BIT(16)
#define XK_IOAPIC_RTE_DEST_SHIFT 56
#define XK_IOAPIC_RTE_RO (XK_IOAPIC_RTE_DELIVS | XK_IOAPIC_RTE_REMOTE_IRR)

/* Sends one interrupt message; returns how many local APICs took it. */
typedef int (*xk_msi_fn)(void *opaque, u64 addr, u32 data);

/*
 * Acknowledgements (Linux's ack notifiers), called without the chip's
 * lock, from the vCPU thread that sent the EOI:
 *  - level: an EOI reached a level-triggered pin, before its remote IRR
 *    clears: the callee may lower the pin's line (so the EOI does not send
 *    again);
 *  - edge (level false): the EOI of the vector an edge-triggered pin sent
 *    (xk_ioapic_eoi_edge), once per message that some local APIC took.
 */
typedef void (*xk_ioapic_ack_fn)(void *opaque, unsigned int pin, bool level);
/*
 * A guest write of a redirection entry cleared its mask bit (Linux's mask
 * notifier), called after the chip's lock is dropped, from that vCPU
 * thread.
 */
typedef void (*xk_ioapic_unmask_fn)(void *opaque, unsigned int pin);

struct xk_ioapic {
	struct host_spin *lock;          /* (c) guards everything below */
	xk_msi_fn deliver;               /* (c) called with lock held */
	void *opaque;                    /* (c) */
	xk_ioapic_ack_fn acked;          /* (c) set once before use, or NULL */
	xk_ioapic_unmask_fn unmasked_fn; /* (c) the same */
	u64 base;     /* MMIO base (KVM_SET_IRQCHIP may move it) */
	u32 regsel;   /* IOREGSEL */
	u32 id;       /* APIC ID, bits 24-27 of the ID register */
	u32 irr;      /* pending: edge latched, or level asserted */
	u32 line;     /* input levels, for edge detection */
	u32 unmasked; /* pins unmasked by the MMIO write being served */
	/* edge pins whose message awaits its EOI: written under the lock,
	 * read without it by xk_ioapic_eoi_edge (atomic) */
	u32 edge_sent;
	u64 rte[XK_IOAPIC_PINS];
	u64 delivered; /* messages sent (statistics) */
};

struct xk_ioapic *xk_ioapic_create(xk_msi_fn deliver, void *opaque);
void xk_ioapic_destroy(struct xk_ioapic *io);
void xk_ioapic_reset(struct xk_ioapic *io);

/*
 * Drive input pin to level (1 asserted, 0 not; the VMM's levels are
 * logical, polarity is the guest's business, as in Linux).  Returns what
 * Linux's KVM_IRQ_LINE_STATUS reports: low 1; high: >0 delivered, 0 for an
 * edge pin already high (no new edge) or nobody took it, -1 masked or a
 * level pin awaiting its EOI.  Any context.
 */
int xk_ioapic_set_irq(struct xk_ioapic *io, unsigned int pin, int level);

/* Before any use: who hears of EOIs and unmasking (either may be NULL). */
void xk_ioapic_set_ack(struct xk_ioapic *io, xk_ioapic_ack_fn acked,
		       xk_ioapic_unmask_fn unmasked);

/* The local APIC's EOI of a level-triggered vector. */
void xk_ioapic_eoi(struct xk_ioapic *io, u8 vector);
/*
 * The local APIC's EOI of an edge-triggered vector: reported for the edge
 * pins of that vector that sent a message since their last EOI.  Cheap
 * (one atomic read) when no edge message awaits an EOI.
 */
void xk_ioapic_eoi_edge(struct xk_ioapic *io, u8 vector);

/* MMIO within [base, base + XK_IOAPIC_SIZE): offset from base. */
bool xk_ioapic_in_range(const struct xk_ioapic *io, u64 gpa);
void xk_ioapic_mmio_read(struct xk_ioapic *io, u64 off, void *val, u32 len);
void xk_ioapic_mmio_write(struct xk_ioapic *io, u64 off, const void *val,
			  u32 len);

/* KVM_GET_IRQCHIP / KVM_SET_IRQCHIP (chip KVM_IRQCHIP_IOAPIC) */
void xk_ioapic_get_state(struct xk_ioapic *io, struct kvm_ioapic_state *st);
void xk_ioapic_set_state(struct xk_ioapic *io,
			 const struct kvm_ioapic_state *st);

/* The MSI message a redirection entry sends (also for the debugger). */
void xk_ioapic_rte_msi(u64 rte, u64 *addr, u32 *data);

#endif /* XKVM_IOAPIC_H */
