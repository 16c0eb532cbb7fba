// SPDX-License-Identifier: GPL-2.0
/*
 * irq.c - the GSI router: KVM_SET_GSI_ROUTING's table and KVM_IRQ_LINE.
 *
 * Theory.  The table is a sorted array of routes, replaced whole by each
 * KVM_SET_GSI_ROUTING (validated first, so a bad table changes nothing).
 * Raising a GSI walks its routes: an irqchip route updates that pin's
 * per-source level and hands the OR of the sources to the chip; an MSI
 * route sends its message on a rising level only.  The results combine as
 * Linux's do: -1 if no route took it, else the sum of the non-negative
 * answers (how many CPUs got it; 0 means coalesced).
 *
 * Locking: one host_spin (interrupts off while held) guards the table
 * and the source levels, held
 * across the calls into the chips (each has its own lock, always taken
 * after this one).  xk_irq_set may be called from interrupt context (the
 * PIT's timer, irqfd wake-ups) as well as from ioctl threads.
 */
#include "irq.h"

static size_t table_size(u32 n)
{
	return sizeof(struct xk_irq_table) +
	       (size_t)n * sizeof(struct xk_irq_route);
}

static void map_reset(struct xk_irq_table *t)
{
	u32 i;

	for (i = 0; i < XK_PIC_PINS; i++)
		t->pic_gsi[i] = -1;
	for (i = 0; i < XK_IRQCHIP_PINS; i++)
		t->ioapic_gsi[i] = -1;
}

static void table_free(struct xk_irq_table *t)
{
	if (t)
		host_free(t, table_size(t->n));
}

struct xk_irq_router *xk_irq_router_create(const struct xk_irq_sinks *sinks)
{
	struct xk_irq_router *r = host_zalloc(sizeof(*r));

	if (!r)
		return NULL;
	r->lock = host_spin_create();
	r->table = host_zalloc(table_size(0));
	if (!r->lock || !r->table) {
		xk_irq_router_destroy(r);
		return NULL;
	}
	map_reset(r->table);
	r->sinks = *sinks;
	return r;
}

void xk_irq_router_destroy(struct xk_irq_router *r)
{
	if (!r)
		return;
	table_free(r->table);
	if (r->lock)
		host_spin_destroy(r->lock);
	host_free(r, sizeof(*r));
}

/* Check one entry and convert it; Linux's rules (kvm_set_routing_entry). */
static int convert(const struct kvm_irq_routing_entry *e,
		   struct xk_irq_route *o)
{
	xk_memset(o, 0, sizeof(*o));
	if (e->gsi >= XK_MAX_IRQ_ROUTES || e->flags)
		return -EINVAL; /* x86 has no MSI device ids: flags must be 0 */
	o->gsi = e->gsi;
	o->type = e->type;
	switch (e->type) {
	case KVM_IRQ_ROUTING_IRQCHIP:
		o->chip = e->u.irqchip.irqchip;
		o->pin = e->u.irqchip.pin;
		switch (o->chip) {
		case KVM_IRQCHIP_PIC_MASTER:
		case KVM_IRQCHIP_PIC_SLAVE:
			if (o->pin >= XK_PIC_PINS / 2)
				return -EINVAL;
			if (o->chip == KVM_IRQCHIP_PIC_SLAVE)
				o->pin += XK_PIC_PINS / 2;
			return 0;
		case KVM_IRQCHIP_IOAPIC:
			return o->pin < XK_IRQCHIP_PINS ? 0 : -EINVAL;
		default:
			return -EINVAL;
		}
	case KVM_IRQ_ROUTING_MSI:
		o->msi_addr = ((u64)e->u.msi.address_hi << 32) |
			      e->u.msi.address_lo;
		o->msi_data = e->u.msi.data;
		return 0;
	default:
		return -EINVAL;
	}
}

/* Is b a second route of a's GSI that Linux refuses? */
static bool clashes(const struct xk_irq_route *a, const struct xk_irq_route *b)
{
	if (a->gsi != b->gsi)
		return false;
	/* one non-irqchip route per GSI, and one pin per irqchip */
	if (a->type != KVM_IRQ_ROUTING_IRQCHIP ||
	    b->type != KVM_IRQ_ROUTING_IRQCHIP)
		return true;
	return a->chip == b->chip; /* master and slave are two chips */
}

static void sort_routes(struct xk_irq_route *v, u32 n)
{
	u32 i, j;

	for (i = 1; i < n; i++) { /* insertion sort: stable, tables are small */
		struct xk_irq_route x = v[i];

		for (j = i; j > 0 && v[j - 1].gsi > x.gsi; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

static void install(struct xk_irq_router *r, struct xk_irq_table *t)
{
	struct xk_irq_table *old;

	host_spin_lock_irq(r->lock);
	old = r->table;
	r->table = t;
	host_spin_unlock_irq(r->lock);
	table_free(old);
}

int xk_irq_set_routing(struct xk_irq_router *r,
		       const struct kvm_irq_routing_entry *e, u32 n, u32 flags)
{
	struct xk_irq_table *t;
	u32 i, j;
	int err;

	if (n > XK_MAX_IRQ_ROUTES || flags)
		return -EINVAL;
	t = host_zalloc(table_size(n));
	if (!t)
		return -ENOMEM;
	t->n = n;
	map_reset(t);
	for (i = 0; i < n; i++) {
		const struct xk_irq_route *o = &t->r[i];

		err = convert(&e[i], &t->r[i]);
		for (j = 0; !err && j < i; j++)
			if (clashes(&t->r[j], o))
				err = -EINVAL;
		if (err) {
			table_free(t);
			return err;
		}
		/* in the VMM's order: the last route to a pin names it */
		if (o->type != KVM_IRQ_ROUTING_IRQCHIP)
			continue;
		if (o->chip == KVM_IRQCHIP_IOAPIC)
			t->ioapic_gsi[o->pin] = (s32)o->gsi;
		else
			t->pic_gsi[o->pin] = (s32)o->gsi;
	}
	sort_routes(t->r, n);
	install(r, t);
	return 0;
}

int xk_irq_default_routing(struct xk_irq_router *r)
{
	struct kvm_irq_routing_entry e[16 + XK_IRQCHIP_PINS];
	u32 n = 0, i;

	xk_memset(e, 0, sizeof(e));
	for (i = 0; i < 16; i++, n++) {
		e[n].gsi = i;
		e[n].type = KVM_IRQ_ROUTING_IRQCHIP;
		e[n].u.irqchip.irqchip = i < 8 ? KVM_IRQCHIP_PIC_MASTER :
						 KVM_IRQCHIP_PIC_SLAVE;
		e[n].u.irqchip.pin = i % 8;
	}
	for (i = 0; i < XK_IRQCHIP_PINS; i++, n++) {
		e[n].gsi = i;
		e[n].type = KVM_IRQ_ROUTING_IRQCHIP;
		e[n].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		e[n].u.irqchip.pin = i;
	}
	return xk_irq_set_routing(r, e, n, 0);
}

/* The OR over sources of one pin, after source src goes to level. */
static int pin_level(u32 *src_mask, enum xk_irq_source src, int level)
{
	if (level)
		*src_mask |= 1U << src;
	else
		*src_mask &= ~(1U << src);
	return *src_mask != 0;
}

/* Lock held. */
static int route_one(struct xk_irq_router *r, const struct xk_irq_route *rt,
		     int level, enum xk_irq_source src)
{
	const struct xk_irq_sinks *k = &r->sinks;

	if (rt->type == KVM_IRQ_ROUTING_MSI)
		return level && k->msi ?
			       k->msi(k->opaque, rt->msi_addr, rt->msi_data) :
			       -1;
	if (rt->chip == KVM_IRQCHIP_IOAPIC)
		return k->ioapic ? k->ioapic(k->opaque, rt->pin,
					     pin_level(&r->ioapic_src[rt->pin],
						       src, level)) :
				   -1;
	return k->pic ? k->pic(k->opaque, rt->pin,
			       pin_level(&r->pic_src[rt->pin], src, level)) :
			-1;
}

int xk_irq_set(struct xk_irq_router *r, u32 gsi, int level,
	       enum xk_irq_source src)
{
	const struct xk_irq_table *t;
	int ret = -1, one;
	u32 i;

	if (src >= XK_IRQ_SOURCES)
		return -1;
	host_spin_lock_irq(r->lock);
	t = r->table;
	for (i = 0; i < t->n && t->r[i].gsi <= gsi; i++) {
		if (t->r[i].gsi != gsi)
			continue;
		one = route_one(r, &t->r[i], level, src);
		if (one < 0)
			continue;
		ret = one + (ret < 0 ? 0 : ret);
	}
	host_spin_unlock_irq(r->lock);
	return ret;
}

int xk_irq_pin_gsi(struct xk_irq_router *r, u32 chip, u32 pin)
{
	int gsi = -1;

	host_spin_lock_irq(r->lock);
	if (chip == KVM_IRQCHIP_IOAPIC && pin < XK_IRQCHIP_PINS)
		gsi = r->table->ioapic_gsi[pin];
	else if (chip == KVM_IRQCHIP_PIC_MASTER && pin < XK_PIC_PINS)
		gsi = r->table->pic_gsi[pin];
	host_spin_unlock_irq(r->lock);
	return gsi;
}

u32 xk_irq_routes(struct xk_irq_router *r, struct xk_irq_route *out, u32 max)
{
	u32 n;

	host_spin_lock_irq(r->lock);
	n = XK_MIN(max, r->table->n);
	xk_memcpy(out, r->table->r, n * sizeof(*out));
	host_spin_unlock_irq(r->lock);
	return n;
}
