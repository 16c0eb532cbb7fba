// SPDX-License-Identifier: GPL-2.0
/*
 * test_gsi.c - the GSI router (core/irq.c): Linux's default table, the
 * checks of KVM_SET_GSI_ROUTING, per-source levels OR'ed on a pin, MSI
 * routes, and how the answers of several routes combine.
 */
#include <string.h>

#include "xtest.h"
#include "irq.h"

struct sink_log {
	int pic_level[16], ioapic_level[24];
	int pic_calls, ioapic_calls, msi_calls;
	u64 msi_addr;
	u32 msi_data;
	int answer_pic, answer_ioapic, answer_msi;
};

static int sink_pic(void *o, unsigned int pin, int level)
{
	struct sink_log *l = o;

	XT_ASSERT(pin < 16);
	l->pic_level[pin] = level;
	l->pic_calls++;
	return l->answer_pic;
}

static int sink_ioapic(void *o, unsigned int pin, int level)
{
	struct sink_log *l = o;

	XT_ASSERT(pin < 24);
	l->ioapic_level[pin] = level;
	l->ioapic_calls++;
	return l->answer_ioapic;
}

static int sink_msi(void *o, u64 addr, u32 data)
{
	struct sink_log *l = o;

	l->msi_addr = addr;
	l->msi_data = data;
	l->msi_calls++;
	return l->answer_msi;
}

static struct xk_irq_router *router(struct sink_log *l)
{
	struct xk_irq_sinks k = { sink_pic, sink_ioapic, sink_msi, NULL };
	struct xk_irq_router *r;

	memset(l, 0, sizeof(*l));
	l->answer_pic = 1;
	l->answer_ioapic = 1;
	l->answer_msi = 1;
	k.opaque = l;
	r = xk_irq_router_create(&k);
	XT_ASSERT(r);
	return r;
}

static struct kvm_irq_routing_entry chip(u32 gsi, u32 c, u32 pin)
{
	struct kvm_irq_routing_entry e;

	memset(&e, 0, sizeof(e));
	e.gsi = gsi;
	e.type = KVM_IRQ_ROUTING_IRQCHIP;
	e.u.irqchip.irqchip = c;
	e.u.irqchip.pin = pin;
	return e;
}

static struct kvm_irq_routing_entry msi(u32 gsi, u64 addr, u32 data)
{
	struct kvm_irq_routing_entry e;

	memset(&e, 0, sizeof(e));
	e.gsi = gsi;
	e.type = KVM_IRQ_ROUTING_MSI;
	e.u.msi.address_lo = (u32)addr;
	e.u.msi.address_hi = (u32)(addr >> 32);
	e.u.msi.data = data;
	return e;
}

XT_TEST(gsi, empty_table_takes_nothing)
{
	struct sink_log l;
	struct xk_irq_router *r = router(&l);

	XT_EQ(xk_irq_set(r, 0, 1, XK_IRQ_SRC_USER), -1);
	XT_EQ(l.pic_calls + l.ioapic_calls + l.msi_calls, 0);
	xk_irq_router_destroy(r);
}

XT_TEST(gsi, default_routing_as_linux)
{
	struct sink_log l;
	struct xk_irq_router *r = router(&l);
	struct xk_irq_route v[64];

	XT_EQ(xk_irq_default_routing(r), 0);
	XT_EQ(xk_irq_routes(r, v, 64), 40);
	/* GSI 9: PIC pin 9 (slave pin 1) and I/O APIC pin 9, both answer */
	XT_EQ(xk_irq_set(r, 9, 1, XK_IRQ_SRC_USER), 2);
	XT_EQ(l.pic_level[9], 1);
	XT_EQ(l.ioapic_level[9], 1);
	/* GSI 20: the I/O APIC only */
	XT_EQ(xk_irq_set(r, 20, 1, XK_IRQ_SRC_USER), 1);
	XT_EQ(l.pic_calls, 1);
	XT_EQ(l.ioapic_level[20], 1);
	/* beyond the table */
	XT_EQ(xk_irq_set(r, 24, 1, XK_IRQ_SRC_USER), -1);
	xk_irq_router_destroy(r);
}

XT_TEST(gsi, sources_are_ored_per_pin)
{
	struct sink_log l;
	struct xk_irq_router *r = router(&l);

	XT_EQ(xk_irq_default_routing(r), 0);
	xk_irq_set(r, 0, 1, XK_IRQ_SRC_PIT);
	xk_irq_set(r, 0, 1, XK_IRQ_SRC_USER);
	xk_irq_set(r, 0, 0, XK_IRQ_SRC_USER); /* the PIT still holds it */
	XT_EQ(l.pic_level[0], 1);
	XT_EQ(l.ioapic_level[0], 1);
	xk_irq_set(r, 0, 0, XK_IRQ_SRC_PIT);
	XT_EQ(l.pic_level[0], 0);
	XT_EQ(l.ioapic_level[0], 0);
	XT_EQ(xk_irq_set(r, 0, 1, (enum xk_irq_source)7), -1);
	xk_irq_router_destroy(r);
}

XT_TEST(gsi, answers_combine_as_linux)
{
	struct sink_log l;
	struct xk_irq_router *r = router(&l);

	XT_EQ(xk_irq_default_routing(r), 0);
	l.answer_pic = -1;   /* masked there */
	l.answer_ioapic = 0; /* coalesced there */
	XT_EQ(xk_irq_set(r, 3, 1, XK_IRQ_SRC_USER), 0);
	l.answer_ioapic = -1;
	XT_EQ(xk_irq_set(r, 3, 1, XK_IRQ_SRC_USER), -1);
	l.answer_pic = 2;
	l.answer_ioapic = 3;
	XT_EQ(xk_irq_set(r, 3, 1, XK_IRQ_SRC_USER), 5);
	xk_irq_router_destroy(r);
}

XT_TEST(gsi, msi_routes_fire_on_assert_only)
{
	struct sink_log l;
	struct xk_irq_router *r = router(&l);
	struct kvm_irq_routing_entry e[2];

	e[0] = msi(30, 0xfee01000ULL, 0x4041);
	e[1] = chip(5, KVM_IRQCHIP_IOAPIC, 5);
	XT_EQ(xk_irq_set_routing(r, e, 2, 0), 0);
	XT_EQ(xk_irq_set(r, 30, 1, XK_IRQ_SRC_USER), 1);
	XT_EQ(l.msi_addr, 0xfee01000ULL);
	XT_EQ(l.msi_data, 0x4041);
	XT_EQ(xk_irq_set(r, 30, 0, XK_IRQ_SRC_USER), -1);
	XT_EQ(l.msi_calls, 1);
	XT_EQ(xk_irq_set(r, 5, 1, XK_IRQ_SRC_USER), 1);
	XT_EQ(l.pic_calls, 0); /* the old default routes are gone */
	xk_irq_router_destroy(r);
}

XT_TEST(gsi, set_routing_checks)
{
	struct sink_log l;
	struct xk_irq_router *r = router(&l);
	struct kvm_irq_routing_entry e[3];
	struct xk_irq_route v[4];

	e[0] = chip(1, KVM_IRQCHIP_PIC_MASTER, 8); /* PIC pins are 0-7 */
	XT_EQ(xk_irq_set_routing(r, e, 1, 0), -EINVAL);
	e[0] = chip(1, KVM_IRQCHIP_IOAPIC, 24);
	XT_EQ(xk_irq_set_routing(r, e, 1, 0), -EINVAL);
	e[0] = chip(1, 3, 0); /* no such chip */
	XT_EQ(xk_irq_set_routing(r, e, 1, 0), -EINVAL);
	e[0] = chip(4096, KVM_IRQCHIP_IOAPIC, 1);
	XT_EQ(xk_irq_set_routing(r, e, 1, 0), -EINVAL);
	e[0] = chip(1, KVM_IRQCHIP_IOAPIC, 1);
	e[0].flags = 1;
	XT_EQ(xk_irq_set_routing(r, e, 1, 0), -EINVAL);
	e[0] = msi(1, 0xfee00000ULL, 0x30);
	e[0].flags = KVM_MSI_VALID_DEVID;
	XT_EQ(xk_irq_set_routing(r, e, 1, 0), -EINVAL);
	e[0] = chip(1, KVM_IRQCHIP_IOAPIC, 1);
	e[0].type = 99;
	XT_EQ(xk_irq_set_routing(r, e, 1, 0), -EINVAL);
	/* the same chip twice for one GSI; an MSI beside another route */
	e[0] = chip(2, KVM_IRQCHIP_IOAPIC, 2);
	e[1] = chip(2, KVM_IRQCHIP_IOAPIC, 3);
	XT_EQ(xk_irq_set_routing(r, e, 2, 0), -EINVAL);
	e[1] = chip(2, KVM_IRQCHIP_PIC_MASTER, 2);
	e[2] = msi(2, 0xfee00000ULL, 0x30);
	XT_EQ(xk_irq_set_routing(r, e, 3, 0), -EINVAL);
	e[0] = chip(2, KVM_IRQCHIP_PIC_MASTER, 1);
	XT_EQ(xk_irq_set_routing(r, e, 2, 0), -EINVAL); /* both PIC */
	e[0] = chip(2, KVM_IRQCHIP_PIC_SLAVE, 1);       /* two chips: allowed */
	XT_EQ(xk_irq_set_routing(r, e, 2, 0), 0);
	XT_EQ(xk_irq_routes(r, v, 4), 2);
	XT_EQ(xk_irq_set_routing(r, e, 0, 0), 0);       /* an empty table */
	XT_EQ(xk_irq_set_routing(r, e, 0, 1), -EINVAL); /* flags */
	XT_EQ(xk_irq_set_routing(r, e, 4097, 0), -EINVAL);
	/* nothing above changed the (empty) table */
	XT_EQ(xk_irq_routes(r, v, 4), 0);
	/* a good one: GSI 0 to PIC pin 0 and I/O APIC pin 2 (QEMU's) */
	e[0] = chip(0, KVM_IRQCHIP_PIC_MASTER, 0);
	e[1] = chip(0, KVM_IRQCHIP_IOAPIC, 2);
	e[2] = chip(12, KVM_IRQCHIP_PIC_SLAVE, 4);
	XT_EQ(xk_irq_set_routing(r, e, 3, 0), 0);
	XT_EQ(xk_irq_set(r, 0, 1, XK_IRQ_SRC_USER), 2);
	XT_EQ(l.ioapic_level[2], 1);
	XT_EQ(xk_irq_set(r, 12, 1, XK_IRQ_SRC_USER), 1);
	XT_EQ(l.pic_level[12], 1);
	XT_EQ(xk_irq_routes(r, v, 4), 3);
	xk_irq_router_destroy(r);
}
