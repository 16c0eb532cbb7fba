// SPDX-License-Identifier: GPL-2.0
/*
 * ioapic.c - the in-kernel I/O APIC (82093AA register model, 24 pins).
 *
 * Theory.  The guest programs the chip through two MMIO registers: IOREGSEL
 * picks an indirect register and IOWIN reads or writes it (ID, version,
 * arbitration, and two dwords per redirection entry).  An input pin is
 * either edge-triggered, where a rising edge sets irr and is sent at once
 * (an edge while masked is lost, as in Linux; irr stays set until the
 * line goes low, so only a new edge sends again), or level-triggered,
 * where irr follows the line and a message is sent when the line is
 * asserted and no earlier message of that pin awaits its EOI (remote IRR).
 * The local APIC reports the EOI of a level-triggered vector through
 * xk_ioapic_eoi(): remote IRR clears, and a line still asserted sends
 * again.  Before that, the integration hears of the EOI of each such pin
 * (io->acked, Linux's ack notifiers: a resampling irqfd lowers the line
 * there, so that the EOI ends it).  An edge pin has no remote IRR, but
 * the PIT's lost-tick reinjection needs the EOI of its interrupt: a
 * delivered edge message marks its pin in edge_sent, and the local APIC
 * reports every edge EOI through xk_ioapic_eoi_edge(), which hands the
 * marked pins of that vector to io->acked (level false) and unmarks them.
 * (Linux makes the vector of such a pin an "EOI exit" vector while an ack
 * notifier listens on its GSI; the mark plays that part, for any pin.)
 * A guest write that clears an entry's mask bit is reported too
 * (io->unmasked, Linux's mask notifiers), after the lock is dropped.
 * Messages go out as MSIs, built from
 * the entry exactly as the chip's bus message would be decoded
 * (destination, logical mode, delivery mode, trigger, vector).
 *
 * Locking: one host_spin, taken with interrupts off (host_spin_lock_irq),
 * guards the chip; set_irq may come from any
 * context (a timer callback, an irqfd wake-up), MMIO from vCPU threads.
 * The delivery callback runs under the lock and must not re-enter the
 * chip; the local APIC calls xk_ioapic_eoi() from its vCPU thread with no
 * APIC lock held, so the order is always IOAPIC lock, then APIC lock.  The
 * EOI drops the lock around io->acked, which drives pins again (through
 * the GSI router, whose lock comes before ours); as in Linux, what changes
 * meanwhile is seen when the lock is back: the pin's remote IRR clears
 * after the callback, and a line still high then sends again.
 */
#include "ioapic.h"

static u32 pin_bit(unsigned int pin)
{
	return 1U << pin;
}

void xk_ioapic_rte_msi(u64 rte, u64 *addr, u32 *data)
{
	u64 dest = (rte >> XK_IOAPIC_RTE_DEST_SHIFT) & 0xff;

	*addr = 0xfee00000ULL | (dest << 12) |
		((rte & XK_IOAPIC_RTE_DESTLOG) ? XK_BIT(2) : 0);
	*data = (u32)(rte & (XK_IOAPIC_RTE_VECTOR | XK_IOAPIC_RTE_DELMODE)) |
		(u32)XK_BIT(14) /* assert */ |
		((rte & XK_IOAPIC_RTE_LEVEL) ? (u32)XK_BIT(15) : 0);
}

/*
 * Send pin's message if its entry allows.  Lock held.  Returns as set_irq:
 * -1 masked or (level) still awaiting its EOI, else how many local APICs
 * took it.  As Linux, a delivered edge leaves irr set until the line goes
 * low (which is what makes a second "high" coalesced), and a level entry
 * gets its remote IRR even when no APIC took the message.
 */
static int service(struct xk_ioapic *io, unsigned int pin)
{
	u64 rte = io->rte[pin];
	u64 addr;
	u32 data;
	int n;

	if (rte & XK_IOAPIC_RTE_MASK)
		return -1;
	if ((rte & XK_IOAPIC_RTE_LEVEL) && (rte & XK_IOAPIC_RTE_REMOTE_IRR))
		return -1;
	xk_ioapic_rte_msi(rte, &addr, &data);
	n = io->deliver(io->opaque, addr, data);
	io->delivered++;
	if (rte & XK_IOAPIC_RTE_LEVEL)
		io->rte[pin] |= XK_IOAPIC_RTE_REMOTE_IRR;
	else if (n > 0) /* an APIC took it: its EOI will come */
		__atomic_store_n(&io->edge_sent, io->edge_sent | pin_bit(pin),
				 __ATOMIC_RELEASE);
	return n > 0 ? n : 0;
}

void xk_ioapic_reset(struct xk_ioapic *io)
{
	unsigned int i;

	host_spin_lock_irq(io->lock);
	io->base = XK_IOAPIC_BASE;
	io->regsel = 0;
	io->id = 0;
	io->irr = 0;
	io->line = 0;
	__atomic_store_n(&io->edge_sent, 0, __ATOMIC_RELEASE);
	io->unmasked = 0;
	for (i = 0; i < XK_IOAPIC_PINS; i++)
		io->rte[i] = XK_IOAPIC_RTE_MASK;
	host_spin_unlock_irq(io->lock);
}

struct xk_ioapic *xk_ioapic_create(xk_msi_fn deliver, void *opaque)
{
	struct xk_ioapic *io = host_zalloc(sizeof(*io));

	if (!io)
		return NULL;
	io->lock = host_spin_create();
	if (!io->lock) {
		host_free(io, sizeof(*io));
		return NULL;
	}
	io->deliver = deliver;
	io->opaque = opaque;
	xk_ioapic_reset(io);
	return io;
}

void xk_ioapic_destroy(struct xk_ioapic *io)
{
	if (!io)
		return;
	host_spin_destroy(io->lock);
	host_free(io, sizeof(*io));
}

int xk_ioapic_set_irq(struct xk_ioapic *io, unsigned int pin, int level)
{
	u32 bit, old;
	int r;

	if (pin >= XK_IOAPIC_PINS)
		return -1;
	bit = pin_bit(pin);
	host_spin_lock_irq(io->lock);
	if (!level) {
		/* Linux: the line goes low, the request with it: "1" */
		io->irr &= ~bit;
		io->line &= ~bit;
		r = 1;
	} else {
		old = io->irr;
		io->irr |= bit;
		io->line |= bit;
		if (!(io->rte[pin] & XK_IOAPIC_RTE_LEVEL) && old == io->irr)
			r = 0; /* edge: no new edge since the last one */
		else
			r = service(io, pin);
	}
	host_spin_unlock_irq(io->lock);
	return r;
}

void xk_ioapic_set_ack(struct xk_ioapic *io, xk_ioapic_ack_fn acked,
		       xk_ioapic_unmask_fn unmasked)
{
	io->acked = acked;
	io->unmasked = 0;
	io->unmasked_fn = unmasked;
}

/*
 * EOI of vector: the integration hears of each pin that awaited it (lock
 * dropped), then remote IRR clears; a line still asserted sends again.
 */
static void eoi_locked(struct xk_ioapic *io, u8 vector)
{
	unsigned int pin;

	for (pin = 0; pin < XK_IOAPIC_PINS; pin++) {
		u64 rte = io->rte[pin];

		if ((rte & XK_IOAPIC_RTE_VECTOR) != vector ||
		    !(rte & XK_IOAPIC_RTE_REMOTE_IRR))
			continue;
		if (io->acked) {
			host_spin_unlock_irq(io->lock);
			io->acked(io->opaque, pin, true);
			host_spin_lock_irq(io->lock);
		}
		io->rte[pin] &= ~XK_IOAPIC_RTE_REMOTE_IRR;
		if (io->irr & pin_bit(pin))
			service(io, pin);
	}
}

void xk_ioapic_eoi(struct xk_ioapic *io, u8 vector)
{
	host_spin_lock_irq(io->lock);
	eoi_locked(io, vector);
	host_spin_unlock_irq(io->lock);
}

void xk_ioapic_eoi_edge(struct xk_ioapic *io, u8 vector)
{
	unsigned int pin;
	u32 sent;

	if (!__atomic_load_n(&io->edge_sent, __ATOMIC_ACQUIRE))
		return;
	host_spin_lock_irq(io->lock);
	for (pin = 0; pin < XK_IOAPIC_PINS; pin++) {
		u64 rte = io->rte[pin];

		sent = io->edge_sent;
		if (!(sent & pin_bit(pin)) || (rte & XK_IOAPIC_RTE_LEVEL) ||
		    (rte & XK_IOAPIC_RTE_VECTOR) != vector)
			continue;
		__atomic_store_n(&io->edge_sent, sent & ~pin_bit(pin),
				 __ATOMIC_RELEASE);
		if (io->acked) {
			host_spin_unlock_irq(io->lock);
			io->acked(io->opaque, pin, false);
			host_spin_lock_irq(io->lock);
		}
	}
	host_spin_unlock_irq(io->lock);
}

bool xk_ioapic_in_range(const struct xk_ioapic *io, u64 gpa)
{
	u64 base = XK_READ_ONCE(io->base);

	return gpa >= base && gpa - base < XK_IOAPIC_SIZE;
}

/* The indirect register regsel.  Lock held. */
static u32 read_reg(struct xk_ioapic *io)
{
	u32 reg = io->regsel & 0xff;
	unsigned int pin;

	switch (reg) {
	case XK_IOAPIC_REG_ID:
	case XK_IOAPIC_REG_ARB:
		return (io->id & 0xf) << 24;
	case XK_IOAPIC_REG_VER:
		return XK_IOAPIC_VERSION | ((XK_IOAPIC_PINS - 1) << 16);
	default:
		break;
	}
	if (reg < XK_IOAPIC_REG_TABLE)
		return 0;
	pin = (reg - XK_IOAPIC_REG_TABLE) / 2;
	if (pin >= XK_IOAPIC_PINS)
		return 0; /* reserved: reads as zero, as Linux's model */
	return (reg & 1) ? (u32)(io->rte[pin] >> 32) : (u32)io->rte[pin];
}

/* Lock held. */
static void write_reg(struct xk_ioapic *io, u32 val)
{
	u32 reg = io->regsel & 0xff;
	unsigned int pin;
	u64 old, rte;

	if (reg == XK_IOAPIC_REG_ID) {
		io->id = (val >> 24) & 0xf;
		return;
	}
	if (reg < XK_IOAPIC_REG_TABLE)
		return; /* version and arbitration are read-only */
	pin = (reg - XK_IOAPIC_REG_TABLE) / 2;
	if (pin >= XK_IOAPIC_PINS)
		return;
	old = io->rte[pin];
	if (reg & 1)
		rte = (old & 0xffffffffULL) | ((u64)val << 32);
	else
		rte = (old & ~0xffffffffULL) | val;
	/* the chip's own bits keep their state */
	rte = (rte & ~XK_IOAPIC_RTE_RO) | (old & XK_IOAPIC_RTE_RO);
	if (!(rte & XK_IOAPIC_RTE_LEVEL))
		rte &= ~XK_IOAPIC_RTE_REMOTE_IRR; /* edge has none */
	io->rte[pin] = rte;
	if ((old & XK_IOAPIC_RTE_MASK) && !(rte & XK_IOAPIC_RTE_MASK))
		io->unmasked |= pin_bit(pin); /* reported after the unlock */
	/*
	 * A level line asserted, now unmasked and not awaiting an EOI: send
	 * it.  An edge that came while masked is lost, as in Linux.
	 */
	if ((rte & XK_IOAPIC_RTE_LEVEL) && !(rte & XK_IOAPIC_RTE_MASK) &&
	    !(rte & XK_IOAPIC_RTE_REMOTE_IRR) && (io->irr & pin_bit(pin)))
		service(io, pin);
}

void xk_ioapic_mmio_read(struct xk_ioapic *io, u64 off, void *val, u32 len)
{
	u32 v = 0;
	u64 wide;

	host_spin_lock_irq(io->lock);
	switch (off & ~3ULL) {
	case XK_IOAPIC_REGSEL:
		v = io->regsel;
		break;
	case XK_IOAPIC_WINDOW:
		v = read_reg(io);
		break;
	default:
		break;
	}
	host_spin_unlock_irq(io->lock);
	/* narrower reads see the addressed bytes of the dword */
	wide = (u64)v >> (8 * (off & 3));
	xk_memcpy(val, &wide, XK_MIN(len, 8U));
}

void xk_ioapic_mmio_write(struct xk_ioapic *io, u64 off, const void *val,
			  u32 len)
{
	u32 v = 0, unmasked;
	unsigned int pin;

	if (len != 4 && len != 8)
		return; /* the chip decodes dword accesses only */
	if (off & 3)
		return;
	xk_memcpy(&v, val, 4); /* an 8-byte write: its low dword */
	host_spin_lock_irq(io->lock);
	switch (off) {
	case XK_IOAPIC_REGSEL:
		io->regsel = v & 0xff;
		break;
	case XK_IOAPIC_WINDOW:
		write_reg(io, v);
		break;
	case XK_IOAPIC_EOI:
		/* the directed-EOI register of later chips: Linux takes it */
		eoi_locked(io, (u8)v);
		break;
	default:
		break;
	}
	unmasked = io->unmasked;
	io->unmasked = 0;
	host_spin_unlock_irq(io->lock);
	for (pin = 0; unmasked && io->unmasked_fn; pin++, unmasked >>= 1)
		if (unmasked & 1)
			io->unmasked_fn(io->opaque, pin);
}

void xk_ioapic_get_state(struct xk_ioapic *io, struct kvm_ioapic_state *st)
{
	unsigned int i;

	xk_memset(st, 0, sizeof(*st));
	host_spin_lock_irq(io->lock);
	st->base_address = io->base;
	st->ioregsel = io->regsel;
	st->id = io->id;
	st->irr = io->irr;
	for (i = 0; i < XK_IOAPIC_PINS; i++)
		st->redirtbl[i].bits = io->rte[i];
	host_spin_unlock_irq(io->lock);
}

void xk_ioapic_set_state(struct xk_ioapic *io,
			 const struct kvm_ioapic_state *st)
{
	unsigned int i;

	host_spin_lock_irq(io->lock);
	io->base = st->base_address;
	io->regsel = st->ioregsel & 0xff;
	io->id = st->id & 0xf;
	io->irr = st->irr & ((1U << XK_IOAPIC_PINS) - 1);
	io->line = io->irr;
	__atomic_store_n(&io->edge_sent, 0, __ATOMIC_RELEASE);
	for (i = 0; i < XK_IOAPIC_PINS; i++)
		io->rte[i] = st->redirtbl[i].bits;
	/* what is pending and now deliverable goes out, as Linux does */
	for (i = 0; i < XK_IOAPIC_PINS; i++)
		if ((io->irr & pin_bit(i)) &&
		    !(io->rte[i] & XK_IOAPIC_RTE_MASK))
			service(io, i);
	host_spin_unlock_irq(io->lock);
}
