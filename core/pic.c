// SPDX-License-Identifier: GPL-2.0
/*
 * pic.c - the dual 8259A PIC of a PC (see pic.h for the API).
 *
 * Theory, from the Intel 8259A datasheet.  Each chip has eight request
 * inputs IR0-7 and three registers: IRR (requests), ISR (in service) and
 * IMR (mask).  The priority of IRn is (n - priority_add) mod 8, 0 highest:
 * priority_add is the IR with the highest priority, 0 after initialisation
 * and moved by the rotate commands.  A chip requests (its INT output) when
 * the highest-priority unmasked IRR bit has a higher priority than every
 * in-service level; in special mask mode, masked in-service levels do not
 * count; in special fully nested mode the master also lets a request on IR2
 * (the slave) through while IR2 itself is in service, so that the slave's
 * higher-priority requests nest.  The master's INT is the CPU's INTR.
 *
 * The slave's INT drives the master's IR2.  As in Linux, whenever the slave
 * requests, the master's IRR bit 2 is set, and only an INTA (or ICW1)
 * clears it; so a slave request that goes away before the INTA cycle (a
 * level-triggered device deasserting) gives the slave's spurious IR7, i.e.
 * IRQ15, with the master's IR2 in service, as on real hardware.  With no
 * request at all at INTA the master answers its own spurious IR7 without
 * setting an ISR bit.
 *
 * Triggering.  The PIIX ELCR selects, per pin, edge (0) or level (1); the
 * pins that cannot be level-triggered on a PC (0, 1, 2, 8, 13) are masked
 * out by elcr_mask (0xf8 master, 0xde slave).  last_irr holds the input
 * levels: an edge pin latches IRR on a 0-to-1 change of its input; a level
 * pin's IRR follows the input, and INTA does not clear it (the device must
 * deassert before the EOI or it interrupts again).
 *
 * Commands.  ICW1 (A0 = 0, bit 4) starts initialisation: IMR, the edge
 * detectors, edge-latched requests, rotation, special mask and the read
 * select are reset, ICW4's options too when ICW4 will not follow; then
 * ICW2 (vector base, low 3 bits ignored), ICW3 (cascade wiring, fixed here)
 * and ICW4 if ICW1 asked for it (SFNM bit 4, AEOI bit 1).  As Linux, single
 * mode (SNGL) and the global level-triggered mode (LTIM) are not supported:
 * the pair is always cascaded and the ELCR decides.  OCW1 (A0 = 1) is the
 * IMR.  OCW2 (A0 = 0, bits 4-3 = 00): 001 non-specific EOI, 011 specific
 * EOI, 101 rotate on non-specific EOI, 111 rotate on specific EOI, 110 set
 * priority, 100/000 set/clear rotate in auto-EOI mode, 010 no operation.
 * OCW3 (bits 4-3 = 01): read IRR/ISR (RR, RIS), poll (P), special mask
 * (ESMM, SMM).  A poll makes the next read of the chip an INTA of that
 * chip alone: the request goes in service and the read returns 0x80 | IR,
 * or 0 with no request (datasheet poll word; Linux returns the bare level,
 * or 7, and clears the in-service bit instead).
 *
 * State.  Each chip's state is struct kvm_pic_state itself, with Linux's
 * meanings (init_state: 0 ready, 1 expects ICW2, 2 ICW3, 3 ICW4), so
 * KVM_GET/SET_IRQCHIP copy it verbatim as Linux does.
 *
 * Locking.  pic->lock guards both chips and the INTR level; it is taken
 * with local interrupts off (see pic.h), and the ops callbacks run under
 * it, so they must not re-enter the PIC.
 */
#include "pic.h"

struct xk_pic {
	struct host_spin *lock;    /* (c) */
	struct kvm_pic_state c[2]; /* (l) 0 master, 1 slave */
	bool intr;                 /* (l) INTR; read lock-free */
	struct xk_pic_ops ops;     /* (c) */
};

#define MASTER 0
#define SLAVE 1

static void lock(struct xk_pic *pic, bool irqs_off)
{
	if (!irqs_off)
		host_irq_disable();
	host_spin_lock(pic->lock);
}

static void unlock(struct xk_pic *pic, bool irqs_off)
{
	host_spin_unlock(pic->lock);
	if (!irqs_off)
		host_irq_enable();
}

/* The best priority (0 highest) among the IRs in mask, 8 for none. */
static int best_priority(const struct kvm_pic_state *s, u8 mask)
{
	int p;

	for (p = 0; p < 8; p++)
		if (mask & (1u << ((p + s->priority_add) & 7)))
			return p;
	return 8;
}

/* The IR that chip i asks the CPU (or the master) for, -1 for none. */
static int chip_request(const struct xk_pic *pic, int i)
{
	const struct kvm_pic_state *s = &pic->c[i];
	u8 in_service = s->isr;
	int p, cur, ir;

	p = best_priority(s, s->irr & ~s->imr);
	if (p == 8)
		return -1;
	if (s->special_mask)
		in_service &= ~s->imr;
	cur = best_priority(s, in_service);
	ir = (p + s->priority_add) & 7;
	if (p < cur)
		return ir;
	if (i == MASTER && s->special_fully_nested_mode && ir == 2 && p == cur)
		return ir;
	return -1;
}

/* Recompute the cascade and INTR; call after anything that may change. */
static void update(struct xk_pic *pic)
{
	bool intr;

	if (chip_request(pic, SLAVE) >= 0)
		pic->c[MASTER].irr |= 1u << 2;
	intr = chip_request(pic, MASTER) >= 0;
	if (intr != pic->intr) {
		XK_WRITE_ONCE(pic->intr, intr);
		if (pic->ops.intr)
			pic->ops.intr(pic->ops.opaque, intr);
	}
}

static void clear_isr(struct xk_pic *pic, int i, int ir)
{
	pic->c[i].isr &= ~(1u << ir);
	if (pic->ops.eoi)
		pic->ops.eoi(pic->ops.opaque, (unsigned int)(ir + 8 * i));
}

/* The chip's side of an INTA (or of a poll read) for request ir. */
static void intack(struct xk_pic *pic, int i, int ir)
{
	struct kvm_pic_state *s = &pic->c[i];
	u8 m = 1u << ir;

	s->isr |= m;
	if (!(s->elcr & m))
		s->irr &=
			~m; /* a level request stays while the input is high */
	if (s->auto_eoi) {
		if (s->rotate_on_auto_eoi)
			s->priority_add = (ir + 1) & 7;
		clear_isr(pic, i, ir);
	}
}

/*
 * The input of IRn goes to level.  The answer is Linux's (pic_set_irq1),
 * what KVM_IRQ_LINE_STATUS adds up: -1 for a masked pin, 0 when a rising
 * level or edge finds its request already pending (coalesced), else 1 --
 * also when nothing was requested: a line going low, or an edge pin raised
 * again while still high.
 */
static int set_input(struct kvm_pic_state *s, int ir, bool level)
{
	u8 m = 1u << ir;
	int ret = 1;

	if (s->elcr & m) {
		if (level) {
			ret = !(s->irr & m);
			s->irr |= m;
			s->last_irr |= m;
		} else {
			s->irr &= ~m;
			s->last_irr &= ~m;
		}
	} else if (level) {
		if (!(s->last_irr & m)) {
			ret = !(s->irr & m);
			s->irr |= m;
		}
		s->last_irr |= m;
	} else {
		s->last_irr &= ~m;
	}
	return (s->imr & m) ? -1 : ret;
}

static int set_irq(struct xk_pic *pic, unsigned int irq, bool level,
		   bool irqs_off)
{
	int ret;

	if (irq >= XK_PIC_NR_PINS)
		return -EINVAL;
	lock(pic, irqs_off);
	ret = set_input(&pic->c[irq >> 3], irq & 7, level);
	update(pic);
	unlock(pic, irqs_off);
	return ret;
}

int xk_pic_set_irq(struct xk_pic *pic, unsigned int irq, bool level)
{
	return set_irq(pic, irq, level, false);
}

int xk_pic_set_irq_irqsoff(struct xk_pic *pic, unsigned int irq, bool level)
{
	return set_irq(pic, irq, level, true);
}

bool xk_pic_has_interrupt(const struct xk_pic *pic)
{
	return XK_READ_ONCE(pic->intr);
}

static u8 ack(struct xk_pic *pic, bool irqs_off)
{
	int ir, ir2;
	u8 vec;

	lock(pic, irqs_off);
	ir = chip_request(pic, MASTER);
	if (ir < 0) {
		vec = pic->c[MASTER].irq_base + 7; /* spurious IRQ7 */
	} else {
		intack(pic, MASTER, ir);
		if (ir == 2) {
			ir2 = chip_request(pic, SLAVE);
			if (ir2 >= 0)
				intack(pic, SLAVE, ir2);
			else
				ir2 = 7; /* spurious IRQ15 */
			vec = pic->c[SLAVE].irq_base + ir2;
		} else {
			vec = pic->c[MASTER].irq_base + ir;
		}
	}
	update(pic);
	unlock(pic, irqs_off);
	return vec;
}

u8 xk_pic_ack(struct xk_pic *pic)
{
	return ack(pic, false);
}

u8 xk_pic_ack_irqsoff(struct xk_pic *pic)
{
	return ack(pic, true);
}

static void icw1(struct kvm_pic_state *s, u8 val)
{
	s->init4 = val & 1;
	s->last_irr = 0;
	s->irr &= s->elcr;
	s->imr = 0;
	s->priority_add = 0;
	s->special_mask = 0;
	s->read_reg_select = 0;
	s->poll = 0;
	if (!s->init4) {
		s->special_fully_nested_mode = 0;
		s->auto_eoi = 0;
	}
	s->init_state = 1;
}

static void ocw2(struct xk_pic *pic, int i, u8 val)
{
	struct kvm_pic_state *s = &pic->c[i];
	int p, ir = val & 7;

	switch (val >> 5) {
	case 0: /* clear rotate in auto-EOI mode */
	case 4: /* set rotate in auto-EOI mode */
		s->rotate_on_auto_eoi = val >> 7;
		break;
	case 1: /* non-specific EOI */
	case 5: /* rotate on non-specific EOI */
		p = best_priority(s, s->isr);
		if (p == 8)
			break;
		ir = (p + s->priority_add) & 7;
		if (val >> 7)
			s->priority_add = (ir + 1) & 7;
		clear_isr(pic, i, ir);
		break;
	case 3: /* specific EOI */
		clear_isr(pic, i, ir);
		break;
	case 7: /* rotate on specific EOI */
		s->priority_add = (ir + 1) & 7;
		clear_isr(pic, i, ir);
		break;
	case 6: /* set priority: ir becomes the lowest */
		s->priority_add = (ir + 1) & 7;
		break;
	default: /* 2: no operation */
		break;
	}
}

/* OCW1 cleared the IMR bits of chip i in unmasked: tell the integration. */
static void report_unmasked(struct xk_pic *pic, int i, u8 unmasked)
{
	int ir;

	if (!pic->ops.unmask)
		return;
	for (ir = 0; ir < 8; ir++)
		if (unmasked & (1u << ir))
			pic->ops.unmask(pic->ops.opaque,
					(unsigned int)(ir + 8 * i));
}

static void chip_write(struct xk_pic *pic, int i, bool a0, u8 val)
{
	struct kvm_pic_state *s = &pic->c[i];
	u8 unmasked;

	if (!a0) {
		if (val & 0x10) {
			icw1(s, val);
		} else if (val & 0x08) { /* OCW3 */
			if (val & 0x04)
				s->poll = 1;
			if (val & 0x02)
				s->read_reg_select = val & 1;
			if (val & 0x40)
				s->special_mask = (val >> 5) & 1;
		} else {
			ocw2(pic, i, val);
		}
	} else {
		switch (s->init_state) {
		case 0: /* OCW1 */
			unmasked = s->imr & ~val;
			s->imr = val;
			report_unmasked(pic, i, unmasked);
			break;
		case 1: /* ICW2 */
			s->irq_base = val & 0xf8;
			s->init_state = 2;
			break;
		case 2: /* ICW3: the wiring is fixed */
			s->init_state = s->init4 ? 3 : 0;
			break;
		default: /* ICW4; 8086 mode and buffering do not matter */
			s->special_fully_nested_mode = (val >> 4) & 1;
			s->auto_eoi = (val >> 1) & 1;
			s->init_state = 0;
			break;
		}
	}
	update(pic);
}

static u8 chip_read(struct xk_pic *pic, int i, bool a0)
{
	struct kvm_pic_state *s = &pic->c[i];
	int ir;

	if (s->poll) {
		s->poll = 0;
		ir = chip_request(pic, i);
		if (ir < 0)
			return 0;
		intack(pic, i, ir);
		update(pic);
		return 0x80 | ir;
	}
	if (a0)
		return s->imr;
	return s->read_reg_select ? s->isr : s->irr;
}

bool xk_pic_port(u16 port)
{
	switch (port) {
	case 0x20:
	case 0x21:
	case 0xa0:
	case 0xa1:
	case 0x4d0:
	case 0x4d1:
		return true;
	default:
		return false;
	}
}

/* The chip behind a command/data port (0x20, 0x21, 0xa0, 0xa1). */
static int chip_of(u16 port)
{
	return port >= 0xa0 ? SLAVE : MASTER;
}

int xk_pic_read(struct xk_pic *pic, u16 port, u8 size, u32 *val)
{
	if (!xk_pic_port(port))
		return -EOPNOTSUPP;
	*val = 0;
	if (size != 1)
		return 0;
	lock(pic, false);
	if (port >= 0x4d0)
		*val = pic->c[port & 1].elcr;
	else
		*val = chip_read(pic, chip_of(port), port & 1);
	unlock(pic, false);
	return 0;
}

int xk_pic_write(struct xk_pic *pic, u16 port, u8 size, u32 val)
{
	if (!xk_pic_port(port))
		return -EOPNOTSUPP;
	if (size != 1)
		return 0;
	lock(pic, false);
	if (port >= 0x4d0) {
		struct kvm_pic_state *s = &pic->c[port & 1];

		s->elcr = val & s->elcr_mask;
		update(pic);
	} else {
		chip_write(pic, chip_of(port), port & 1, (u8)val);
	}
	unlock(pic, false);
	return 0;
}

int xk_pic_get_state(struct xk_pic *pic, u32 chip, struct kvm_pic_state *out)
{
	if (chip > KVM_IRQCHIP_PIC_SLAVE)
		return -EINVAL;
	lock(pic, false);
	*out = pic->c[chip];
	unlock(pic, false);
	return 0;
}

int xk_pic_set_state(struct xk_pic *pic, u32 chip,
		     const struct kvm_pic_state *in)
{
	if (chip > KVM_IRQCHIP_PIC_SLAVE)
		return -EINVAL;
	lock(pic, false);
	pic->c[chip] = *in;
	update(pic);
	unlock(pic, false);
	return 0;
}

static void power_on(struct xk_pic *pic)
{
	xk_memset(pic->c, 0, sizeof(pic->c));
	pic->c[MASTER].elcr_mask = 0xf8;
	pic->c[SLAVE].elcr_mask = 0xde;
}

void xk_pic_reset(struct xk_pic *pic)
{
	lock(pic, false);
	power_on(pic);
	update(pic);
	unlock(pic, false);
}

int xk_pic_create(const struct xk_pic_ops *ops, struct xk_pic **out)
{
	struct xk_pic *pic = host_zalloc(sizeof(*pic));

	*out = NULL;
	if (!pic)
		return -ENOMEM;
	pic->lock = host_spin_create();
	if (!pic->lock) {
		host_free(pic, sizeof(*pic));
		return -ENOMEM;
	}
	if (ops)
		pic->ops = *ops;
	power_on(pic);
	*out = pic;
	return 0;
}

void xk_pic_destroy(struct xk_pic *pic)
{
	if (!pic)
		return;
	host_spin_destroy(pic->lock);
	host_free(pic, sizeof(*pic));
}
