// SPDX-License-Identifier: GPL-2.0
/*
 * test_ioapic.c - the I/O APIC model (core/ioapic.c): the indirect register
 * window, redirection entries and their read-only bits, edge and level
 * pins, remote IRR and EOI, masking, the MSI messages sent, directed EOI,
 * KVM_GET/SET_IRQCHIP state, the acknowledgement and unmask reports
 * (level and edge EOIs, mask bit cleared).  References: the 82093AA datasheet; Linux's
 * virt/kvm ioapic for what the KVM ABI expects.
 */
#include <string.h>

#include "xtest.h"
#include "ioapic.h"

struct sent {
	u64 addr[16];
	u32 data[16];
	int n;
	int answer; /* what the "local APICs" report */
};

static int record(void *opaque, u64 addr, u32 data)
{
	struct sent *s = opaque;

	XT_ASSERT(s->n < 16);
	s->addr[s->n] = addr;
	s->data[s->n] = data;
	s->n++;
	return s->answer;
}

static u32 rd(struct xk_ioapic *io, u32 reg)
{
	u32 v = 0;

	xk_ioapic_mmio_write(io, XK_IOAPIC_REGSEL, &reg, 4);
	xk_ioapic_mmio_read(io, XK_IOAPIC_WINDOW, &v, 4);
	return v;
}

static void wr(struct xk_ioapic *io, u32 reg, u32 val)
{
	xk_ioapic_mmio_write(io, XK_IOAPIC_REGSEL, &reg, 4);
	xk_ioapic_mmio_write(io, XK_IOAPIC_WINDOW, &val, 4);
}

/* Program pin: low dword and destination. */
static void route(struct xk_ioapic *io, unsigned int pin, u32 low, u8 dest)
{
	wr(io, XK_IOAPIC_REG_TABLE + 2 * pin + 1, (u32)dest << 24);
	wr(io, XK_IOAPIC_REG_TABLE + 2 * pin, low);
}

static struct xk_ioapic *new_ioapic(struct sent *s)
{
	struct xk_ioapic *io;

	memset(s, 0, sizeof(*s));
	s->answer = 1;
	io = xk_ioapic_create(record, s);
	XT_ASSERT(io);
	return io;
}

XT_TEST(ioapic, reset_registers)
{
	struct sent s;
	struct xk_ioapic *io = new_ioapic(&s);
	unsigned int pin;

	XT_EQ(rd(io, XK_IOAPIC_REG_VER), 0x00170011);
	XT_EQ(rd(io, XK_IOAPIC_REG_ID), 0);
	for (pin = 0; pin < XK_IOAPIC_PINS; pin++) {
		XT_EQ(rd(io, XK_IOAPIC_REG_TABLE + 2 * pin), 0x10000);
		XT_EQ(rd(io, XK_IOAPIC_REG_TABLE + 2 * pin + 1), 0);
	}
	XT_EQ(rd(io, XK_IOAPIC_REG_TABLE + 2 * 24), 0); /* beyond: zero */
	XT_ASSERT(xk_ioapic_in_range(io, 0xfec00000));
	XT_ASSERT(xk_ioapic_in_range(io, 0xfec000ff));
	XT_ASSERT(!xk_ioapic_in_range(io, 0xfec00100));
	/* no pin is unmasked: nothing goes out */
	XT_EQ(xk_ioapic_set_irq(io, 4, 1), -1);
	XT_EQ(s.n, 0);
	xk_ioapic_destroy(io);
}

XT_TEST(ioapic, id_version_arbitration)
{
	struct sent s;
	struct xk_ioapic *io = new_ioapic(&s);

	wr(io, XK_IOAPIC_REG_ID, 0x0a000000);
	XT_EQ(rd(io, XK_IOAPIC_REG_ID), 0x0a000000);
	XT_EQ(rd(io, XK_IOAPIC_REG_ARB), 0x0a000000);
	wr(io, XK_IOAPIC_REG_ID, 0xffffffff); /* only the 4 ID bits */
	XT_EQ(rd(io, XK_IOAPIC_REG_ID), 0x0f000000);
	wr(io, XK_IOAPIC_REG_VER, 0); /* read-only */
	XT_EQ(rd(io, XK_IOAPIC_REG_VER), 0x00170011);
	xk_ioapic_destroy(io);
}

XT_TEST(ioapic, edge_pin_sends_one_message_per_rising_edge)
{
	struct sent s;
	struct xk_ioapic *io = new_ioapic(&s);

	/* pin 2: vector 0x30, fixed, physical destination 3 */
	route(io, 2, 0x30, 3);
	XT_EQ(xk_ioapic_set_irq(io, 2, 1), 1);
	XT_EQ(s.n, 1);
	XT_EQ(s.addr[0], 0xfee03000ULL);
	XT_EQ(s.data[0], 0x4030); /* assert, edge, fixed, vector 0x30 */
	/* held high: no edge, "coalesced" (Linux's status, kvm_amd's too) */
	XT_EQ(xk_ioapic_set_irq(io, 2, 1), 0);
	XT_EQ(s.n, 1);
	XT_EQ(xk_ioapic_set_irq(io, 2, 0), 1); /* low: always 1, as Linux */
	XT_EQ(xk_ioapic_set_irq(io, 2, 1), 1); /* the next pulse */
	XT_EQ(s.n, 2);
	XT_EQ(rd(io, XK_IOAPIC_REG_TABLE + 4) & XK_IOAPIC_RTE_REMOTE_IRR, 0);
	xk_ioapic_destroy(io);
}

XT_TEST(ioapic, masked_edge_is_lost_masked_level_is_sent_at_unmask)
{
	struct sent s;
	struct xk_ioapic *io = new_ioapic(&s);

	/* as Linux: an edge while masked is lost */
	route(io, 1, 0x10000 | 0x31, 0);
	XT_EQ(xk_ioapic_set_irq(io, 1, 1), -1);
	XT_EQ(s.n, 0);
	route(io, 1, 0x31, 0);
	XT_EQ(s.n, 0);
	XT_EQ(xk_ioapic_set_irq(io, 1, 1), 0); /* still high: no new edge */
	XT_EQ(xk_ioapic_set_irq(io, 1, 0), 1);
	XT_EQ(xk_ioapic_set_irq(io, 1, 1), 1);
	XT_EQ(s.n, 1);
	/* a level line asserted while masked goes out at the unmask */
	route(io, 3, 0x10000 | 0x8000 | 0x33, 0);
	XT_EQ(xk_ioapic_set_irq(io, 3, 1), -1);
	XT_EQ(s.n, 1);
	route(io, 3, 0x8000 | 0x33, 0);
	XT_EQ(s.n, 2);
	XT_EQ(s.data[1] & 0xff, 0x33);
	route(io, 3, 0x8000 | 0x33, 0); /* awaiting its EOI: not again */
	XT_EQ(s.n, 2);
	xk_ioapic_destroy(io);
}

XT_TEST(ioapic, level_pin_waits_for_eoi)
{
	struct sent s;
	struct xk_ioapic *io = new_ioapic(&s);
	u32 lo = 0x8000 | 0x800 | 0x100 | 0x41; /* level, logical, lowest */

	route(io, 9, lo, 0x0f);
	XT_EQ(xk_ioapic_set_irq(io, 9, 1), 1);
	XT_EQ(s.n, 1);
	XT_EQ(s.addr[0], 0xfee0f004ULL); /* destination 0x0f, logical */
	XT_EQ(s.data[0], 0xc141);        /* level, assert, lowest, 0x41 */
	XT_ASSERT(rd(io, XK_IOAPIC_REG_TABLE + 18) & XK_IOAPIC_RTE_REMOTE_IRR);
	/* still asserted, awaiting EOI: -1, as Linux's ioapic_service */
	XT_EQ(xk_ioapic_set_irq(io, 9, 1), -1);
	XT_EQ(s.n, 1);
	xk_ioapic_eoi(io, 0x40); /* another vector: nothing */
	XT_EQ(s.n, 1);
	xk_ioapic_eoi(io, 0x41); /* line still high: sent again */
	XT_EQ(s.n, 2);
	xk_ioapic_set_irq(io, 9, 0);
	xk_ioapic_eoi(io, 0x41); /* line low now: quiet, remote IRR clear */
	XT_EQ(s.n, 2);
	XT_EQ(rd(io, XK_IOAPIC_REG_TABLE + 18) & XK_IOAPIC_RTE_REMOTE_IRR, 0);
	xk_ioapic_destroy(io);
}

XT_TEST(ioapic, read_only_bits_and_guest_writes)
{
	struct sent s;
	struct xk_ioapic *io = new_ioapic(&s);

	route(io, 5, 0x8000 | 0x50, 0);
	xk_ioapic_set_irq(io, 5, 1);
	XT_EQ(s.n, 1);
	/* the guest tries to clear remote IRR and set delivery status */
	wr(io, XK_IOAPIC_REG_TABLE + 10, 0x8000 | 0x1000 | 0x50);
	XT_EQ(rd(io, XK_IOAPIC_REG_TABLE + 10), 0x8000 | 0x4000 | 0x50);
	/* switching the pin to edge drops remote IRR */
	wr(io, XK_IOAPIC_REG_TABLE + 10, 0x10050);
	XT_EQ(rd(io, XK_IOAPIC_REG_TABLE + 10), 0x10050);
	/* high dword: the destination */
	wr(io, XK_IOAPIC_REG_TABLE + 11, 0xab000000);
	XT_EQ(rd(io, XK_IOAPIC_REG_TABLE + 11), 0xab000000);
	xk_ioapic_destroy(io);
}

XT_TEST(ioapic, directed_eoi_register)
{
	struct sent s;
	struct xk_ioapic *io = new_ioapic(&s);
	u32 v = 0x61;

	route(io, 10, 0x8000 | 0x61, 0);
	xk_ioapic_set_irq(io, 10, 1);
	XT_EQ(s.n, 1);
	xk_ioapic_mmio_write(io, XK_IOAPIC_EOI, &v, 4);
	XT_EQ(s.n, 2); /* still asserted */
	xk_ioapic_destroy(io);
}

XT_TEST(ioapic, mmio_sizes)
{
	struct sent s;
	struct xk_ioapic *io = new_ioapic(&s);
	u8 b = 0;
	u64 q = 0;
	u32 reg = XK_IOAPIC_REG_VER;
	u16 w = 0x1234;

	xk_ioapic_mmio_write(io, XK_IOAPIC_REGSEL, &reg, 4);
	xk_ioapic_mmio_read(io, XK_IOAPIC_WINDOW + 2, &b, 1);
	XT_EQ(b, 0x17); /* byte 2 of the version register */
	xk_ioapic_mmio_read(io, XK_IOAPIC_WINDOW, &q, 8);
	XT_EQ(q, 0x00170011);
	/* a 2-byte write is not decoded */
	xk_ioapic_mmio_write(io, XK_IOAPIC_REGSEL, &w, 2);
	xk_ioapic_mmio_read(io, XK_IOAPIC_REGSEL, &q, 4);
	XT_EQ(q & 0xffffffff, XK_IOAPIC_REG_VER);
	xk_ioapic_destroy(io);
}

XT_TEST(ioapic, state_round_trip_and_pending_on_set)
{
	struct sent s;
	struct xk_ioapic *io = new_ioapic(&s);
	struct kvm_ioapic_state st, st2;

	route(io, 3, 0x33, 1);
	route(io, 7, 0x8000 | 0x10000 | 0x37, 2); /* level, masked */
	wr(io, XK_IOAPIC_REG_ID, 0x02000000);
	xk_ioapic_set_irq(io, 7, 1);
	xk_ioapic_get_state(io, &st);
	XT_EQ(st.base_address, 0xfec00000ULL);
	XT_EQ(st.id, 2);
	XT_EQ(st.irr, 1U << 7);
	XT_EQ(st.redirtbl[3].fields.vector, 0x33);
	XT_EQ(st.redirtbl[3].fields.dest_id, 1);
	XT_EQ(st.redirtbl[7].fields.trig_mode, 1);
	XT_EQ(st.redirtbl[7].fields.mask, 1);
	/* into a fresh chip, unmasked: the asserted level goes out */
	xk_ioapic_reset(io);
	s.n = 0;
	st.redirtbl[7].fields.mask = 0;
	xk_ioapic_set_state(io, &st);
	XT_EQ(s.n, 1);
	XT_EQ(s.data[0] & 0xff, 0x37);
	xk_ioapic_get_state(io, &st2);
	XT_ASSERT(st2.redirtbl[7].fields.remote_irr);
	XT_EQ(st2.irr, 1U << 7);
	XT_EQ(st2.redirtbl[3].bits, st.redirtbl[3].bits);
	xk_ioapic_destroy(io);
}

XT_TEST(ioapic, msi_from_entry)
{
	u64 addr;
	u32 data;

	/* NMI delivery (4), logical, edge, destination 0xff */
	xk_ioapic_rte_msi(0xff00000000000000ULL | 0x800 | 0x400 | 0x02, &addr,
			  &data);
	XT_EQ(addr, 0xfeeff004ULL);
	XT_EQ(data, 0x4402);
	/* polarity and mask do not reach the message */
	xk_ioapic_rte_msi(0x2000 | 0x20, &addr, &data);
	XT_EQ(addr, 0xfee00000ULL);
	XT_EQ(data, 0x4020);
}

XT_TEST(ioapic, bad_pin)
{
	struct sent s;
	struct xk_ioapic *io = new_ioapic(&s);

	XT_EQ(xk_ioapic_set_irq(io, 24, 1), -1);
	XT_EQ(xk_ioapic_set_irq(io, 1000, 1), -1);
	XT_EQ(s.n, 0);
	xk_ioapic_destroy(io);
}

/* ---- acknowledgement and unmask reports ---- */

static struct {
	int acks, unmasks;
	unsigned int pin;
	bool level;
} rep;

static void on_ack(void *opaque, unsigned int pin, bool level)
{
	(void)opaque;
	rep.acks++;
	rep.pin = pin;
	rep.level = level;
}

static void on_unmask(void *opaque, unsigned int pin)
{
	(void)opaque;
	rep.unmasks++;
	rep.pin = pin;
}

XT_TEST(ioapic, edge_eoi_reported_once_per_message)
{
	struct sent s;
	struct xk_ioapic *io = new_ioapic(&s);

	memset(&rep, 0, sizeof(rep));
	xk_ioapic_set_ack(io, on_ack, on_unmask);
	route(io, 2, 0x30, 0); /* edge, vector 0x30 */
	XT_EQ(rep.unmasks, 1); /* reset's mask bit cleared */
	XT_EQ(rep.pin, 2);
	xk_ioapic_eoi_edge(io, 0x30); /* nothing sent yet: not reported */
	XT_EQ(rep.acks, 0);
	XT_EQ(xk_ioapic_set_irq(io, 2, 1), 1);
	xk_ioapic_set_irq(io, 2, 0);
	xk_ioapic_eoi_edge(io, 0x31); /* another vector */
	XT_EQ(rep.acks, 0);
	xk_ioapic_eoi(io, 0x30); /* a level EOI: not this pin's */
	XT_EQ(rep.acks, 0);
	xk_ioapic_eoi_edge(io, 0x30);
	XT_EQ(rep.acks, 1);
	XT_EQ(rep.pin, 2);
	XT_ASSERT(!rep.level);
	xk_ioapic_eoi_edge(io, 0x30); /* once per message */
	XT_EQ(rep.acks, 1);
	/* a message nobody took awaits no EOI */
	s.answer = 0;
	xk_ioapic_set_irq(io, 2, 1);
	xk_ioapic_set_irq(io, 2, 0);
	xk_ioapic_eoi_edge(io, 0x30);
	XT_EQ(rep.acks, 1);
	/* masked: lost, nothing to acknowledge; unmasking is reported */
	s.answer = 1;
	route(io, 2, 0x10030, 0);
	xk_ioapic_set_irq(io, 2, 1);
	xk_ioapic_set_irq(io, 2, 0);
	xk_ioapic_eoi_edge(io, 0x30);
	XT_EQ(rep.acks, 1);
	XT_EQ(rep.unmasks, 1);
	route(io, 2, 0x30, 0);
	XT_EQ(rep.unmasks, 2);
	route(io, 2, 0x30, 0); /* already unmasked: no report */
	XT_EQ(rep.unmasks, 2);
	/* a level pin's EOI is reported as level */
	route(io, 9, 0x8041, 0);
	xk_ioapic_set_irq(io, 9, 1);
	xk_ioapic_eoi(io, 0x41);
	XT_EQ(rep.acks, 2);
	XT_EQ(rep.pin, 9);
	XT_ASSERT(rep.level);
	xk_ioapic_destroy(io);
}
