// SPDX-License-Identifier: GPL-2.0
/*
 * test_pic.c - the dual 8259A model (core/pic.c) through its ports, inputs
 * and INTA, as a guest and the integration would drive it: the init
 * sequences of Linux (arch/x86/kernel/i8259.c: vectors 0x30/0x38, specific
 * EOIs) and SeaBIOS (vectors 0x08/0x70, non-specific EOIs), masking,
 * priorities and rotation, the cascade, edge and level triggering, AEOI,
 * poll, special mask and fully nested modes, spurious IRQ7/IRQ15, and
 * KVM_GET/SET_IRQCHIP round trips.  Leaks are checked by the harness.
 */
#include <string.h>

#include "pic.h"
#include "xtest.h"

struct picfx {
	struct xk_pic *pic;
	unsigned int intr_calls;
	bool intr;
	unsigned int eois[16];
	unsigned int neoi;
};

static void on_intr(void *opaque, bool level)
{
	struct picfx *f = opaque;

	XT_ASSERT(host_user_atomic_depth() > 0); /* under the PIC lock */
	XT_ASSERT(level != f->intr);             /* only changes */
	f->intr = level;
	f->intr_calls++;
}

static void on_eoi(void *opaque, unsigned int irq)
{
	struct picfx *f = opaque;

	XT_ASSERT(irq < 16);
	f->eois[irq]++;
	f->neoi++;
}

static void destroy_pic(void *arg)
{
	xk_pic_destroy(arg);
}

static struct xk_pic *mk(struct picfx *f)
{
	struct xk_pic_ops ops = { .intr = on_intr, .eoi = on_eoi, .opaque = f };

	memset(f, 0, sizeof(*f));
	XT_EQ(xk_pic_create(&ops, &f->pic), 0);
	xt_cleanup(destroy_pic, f->pic);
	return f->pic;
}

static void out(struct xk_pic *pic, u16 port, u8 val)
{
	XT_EQ(xk_pic_write(pic, port, 1, val), 0);
}

static u8 in(struct xk_pic *pic, u16 port)
{
	u32 v = 0xdeadbeef;

	XT_EQ(xk_pic_read(pic, port, 1, &v), 0);
	XT_ASSERT(v <= 0xff);
	return (u8)v;
}

static struct kvm_pic_state st(struct xk_pic *pic, u32 chip)
{
	struct kvm_pic_state s;

	XT_EQ(xk_pic_get_state(pic, chip, &s), 0);
	return s;
}

/* Linux's init_8259A(auto_eoi), masks restored to master/slave. */
static void linux_init(struct xk_pic *pic, bool aeoi, u8 mmask, u8 smask)
{
	out(pic, 0x21, 0xff);
	out(pic, 0xa1, 0xff);
	out(pic, 0x20, 0x11);
	out(pic, 0x21, 0x30);
	out(pic, 0x21, 0x04);
	out(pic, 0x21, aeoi ? 0x03 : 0x01);
	out(pic, 0xa0, 0x11);
	out(pic, 0xa1, 0x38);
	out(pic, 0xa1, 0x02);
	out(pic, 0xa1, 0x01);
	out(pic, 0x21, mmask);
	out(pic, 0xa1, smask);
}

/* SeaBIOS's pic_setup(): vectors 0x08 and 0x70, all masked but IRQ2. */
static void seabios_init(struct xk_pic *pic)
{
	out(pic, 0x20, 0x11);
	out(pic, 0x21, 0x08);
	out(pic, 0x21, 0x04);
	out(pic, 0x21, 0x01);
	out(pic, 0xa0, 0x11);
	out(pic, 0xa1, 0x70);
	out(pic, 0xa1, 0x02);
	out(pic, 0xa1, 0x01);
	out(pic, 0x21, 0xfb);
	out(pic, 0xa1, 0xff);
}

static u8 read_isr(struct xk_pic *pic, u16 cmd)
{
	u8 v;

	out(pic, cmd, 0x0b);
	v = in(pic, cmd);
	out(pic, cmd, 0x0a);
	return v;
}

XT_TEST(pic, power_on_state_and_ports)
{
	struct picfx f;
	struct xk_pic *pic = mk(&f);
	struct kvm_pic_state s, zero;
	u32 v;

	memset(&zero, 0, sizeof(zero));
	s = st(pic, 0);
	XT_EQ(s.elcr_mask, 0xf8);
	s.elcr_mask = 0;
	XT_MEMEQ(&s, &zero, sizeof(s));
	s = st(pic, 1);
	XT_EQ(s.elcr_mask, 0xde);
	XT_EQ(xk_pic_get_state(pic, 2, &s), -EINVAL);
	XT_EQ(xk_pic_set_state(pic, 3, &s), -EINVAL);
	XT_ASSERT(!xk_pic_has_interrupt(pic));
	XT_ASSERT(xk_pic_port(0x20) && xk_pic_port(0x21) && xk_pic_port(0xa0));
	XT_ASSERT(xk_pic_port(0xa1) && xk_pic_port(0x4d0) &&
		  xk_pic_port(0x4d1));
	XT_ASSERT(!xk_pic_port(0x22) && !xk_pic_port(0x40));
	XT_EQ(xk_pic_read(pic, 0x22, 1, &v), -EOPNOTSUPP);
	XT_EQ(xk_pic_write(pic, 0x4d2, 1, 0), -EOPNOTSUPP);
	XT_EQ(xk_pic_set_irq(pic, 16, true), -EINVAL);
	/* non-byte accesses: reads give 0, writes are dropped (Linux) */
	XT_EQ(xk_pic_write(pic, 0x21, 2, 0xffff), 0);
	XT_EQ(in(pic, 0x21), 0);
	out(pic, 0x21, 0x5a);
	XT_EQ(xk_pic_read(pic, 0x21, 2, &v), 0);
	XT_EQ(v, 0);
	XT_EQ(xk_pic_read(pic, 0x21, 4, &v), 0);
	XT_EQ(v, 0);
	XT_EQ(in(pic, 0x21), 0x5a);
}

XT_TEST(pic, create_failure_leaks_nothing)
{
	struct xk_pic *pic;
	unsigned long n, i;

	host_user_fail_nth(0, HOST_USER_FAIL_ALL);
	XT_EQ(xk_pic_create(NULL, &pic), 0);
	n = host_user_fail_points();
	xk_pic_destroy(pic);
	XT_ASSERT(n >= 2);
	for (i = 1; i <= n; i++) {
		host_user_fail_nth(i, HOST_USER_FAIL_ALL);
		XT_EQ(xk_pic_create(NULL, &pic), -ENOMEM);
		XT_ASSERT(pic == NULL);
	}
	host_user_fail_nth(0, HOST_USER_FAIL_ALL);
	xk_pic_destroy(NULL);
}

XT_TEST(pic, linux_init_and_specific_eoi)
{
	struct picfx f;
	struct xk_pic *pic = mk(&f);
	struct kvm_pic_state s;

	linux_init(pic, false, 0xf8, 0xbf); /* IRQ0-2 and 14 open */
	XT_EQ(in(pic, 0x21), 0xf8);
	XT_EQ(in(pic, 0xa1), 0xbf);
	s = st(pic, 0);
	XT_EQ(s.irq_base, 0x30);
	XT_EQ(s.init_state, 0);
	XT_EQ(s.init4, 1);
	XT_EQ(s.auto_eoi, 0);
	XT_EQ(st(pic, 1).irq_base, 0x38);

	/* the timer */
	XT_EQ(xk_pic_set_irq(pic, 0, true), 1);
	XT_EQ(xk_pic_set_irq(pic, 0, false), 1); /* Linux: low answers 1 */
	XT_ASSERT(xk_pic_has_interrupt(pic) && f.intr && f.intr_calls == 1);
	XT_EQ(in(pic, 0x20), 0x01); /* IRR */
	XT_EQ(xk_pic_ack(pic), 0x30);
	XT_ASSERT(!xk_pic_has_interrupt(pic) && !f.intr);
	XT_EQ(read_isr(pic, 0x20), 0x01);
	XT_EQ(in(pic, 0x20), 0x00);
	out(pic, 0x20, 0x60); /* specific EOI, IR0 */
	XT_EQ(read_isr(pic, 0x20), 0x00);
	XT_EQ(f.eois[0], 1);

	/* IRQ14 on the slave: Linux EOIs the slave, then the master's IR2 */
	XT_EQ(xk_pic_set_irq(pic, 14, true), 1);
	XT_ASSERT(xk_pic_has_interrupt(pic));
	XT_EQ(xk_pic_ack(pic), 0x3e);
	XT_EQ(read_isr(pic, 0x20), 0x04);
	XT_EQ(read_isr(pic, 0xa0), 0x40);
	out(pic, 0xa0, 0x66);
	out(pic, 0x20, 0x62);
	XT_EQ(read_isr(pic, 0x20), 0);
	XT_EQ(read_isr(pic, 0xa0), 0);
	XT_EQ(f.eois[14], 1);
	XT_EQ(f.eois[2], 1);
	XT_ASSERT(!xk_pic_has_interrupt(pic));
}

XT_TEST(pic, linux_init_auto_eoi)
{
	struct picfx f;
	struct xk_pic *pic = mk(&f);

	linux_init(pic, true, 0xfa, 0xff);
	XT_EQ(st(pic, 0).auto_eoi, 1);
	XT_EQ(st(pic, 1).auto_eoi, 0);
	xk_pic_set_irq(pic, 0, true);
	XT_EQ(xk_pic_ack(pic), 0x30);
	XT_EQ(read_isr(pic, 0x20), 0); /* cleared at INTA */
	XT_EQ(f.eois[0], 1);
	XT_EQ(st(pic, 0).priority_add, 0); /* no rotation asked */
	/* rotate in AEOI mode: the acked IR becomes the lowest */
	out(pic, 0x20, 0x80);
	XT_EQ(st(pic, 0).rotate_on_auto_eoi, 1);
	xk_pic_set_irq(pic, 0, false);
	xk_pic_set_irq(pic, 0, true);
	XT_EQ(xk_pic_ack(pic), 0x30);
	XT_EQ(st(pic, 0).priority_add, 1);
	out(pic, 0x20, 0x00);
	XT_EQ(st(pic, 0).rotate_on_auto_eoi, 0);
}

XT_TEST(pic, seabios_init_cascade_nonspecific_eoi)
{
	struct picfx f;
	struct xk_pic *pic = mk(&f);

	seabios_init(pic);
	XT_EQ(in(pic, 0x21), 0xfb);
	XT_EQ(xk_pic_set_irq(pic, 8, true), -1); /* masked on the slave */
	XT_ASSERT(!xk_pic_has_interrupt(pic));
	out(pic, 0xa1, 0xfe); /* the RTC */
	XT_ASSERT(xk_pic_has_interrupt(pic));
	XT_EQ(in(pic, 0x20) & 0x04, 0x04); /* the cascade request */
	XT_EQ(xk_pic_ack(pic), 0x70);
	XT_EQ(read_isr(pic, 0x20), 0x04);
	XT_EQ(read_isr(pic, 0xa0), 0x01);
	out(pic, 0xa0, 0x20);
	out(pic, 0x20, 0x20);
	XT_EQ(read_isr(pic, 0x20), 0);
	XT_EQ(read_isr(pic, 0xa0), 0);
	/* IRQ1 masked: latched, delivered once unmasked */
	XT_EQ(xk_pic_set_irq(pic, 1, true), -1);
	XT_ASSERT(!xk_pic_has_interrupt(pic));
	XT_EQ(in(pic, 0x20), 0x02);
	out(pic, 0x21, 0xf9);
	XT_ASSERT(xk_pic_has_interrupt(pic));
	XT_EQ(xk_pic_ack(pic), 0x09);
	out(pic, 0x20, 0x20);
	XT_EQ(f.eois[1], 1);
}

XT_TEST(pic, priorities_nesting_and_rotation)
{
	struct picfx f;
	struct xk_pic *pic = mk(&f);

	seabios_init(pic);
	out(pic, 0x21, 0x00);
	xk_pic_set_irq(pic, 5, true);
	xk_pic_set_irq(pic, 3, true);
	xk_pic_set_irq(pic, 1, true);
	XT_EQ(xk_pic_ack(pic), 0x09);          /* IR1 first */
	XT_ASSERT(!xk_pic_has_interrupt(pic)); /* 3, 5 wait for the EOI */
	out(pic, 0x20, 0x20);
	XT_EQ(xk_pic_ack(pic), 0x0b);
	/* a higher priority nests over IR3 in service */
	xk_pic_set_irq(pic, 0, true);
	XT_ASSERT(xk_pic_has_interrupt(pic));
	XT_EQ(xk_pic_ack(pic), 0x08);
	XT_EQ(read_isr(pic, 0x20), 0x09);
	out(pic, 0x20, 0x20); /* non-specific: the highest, IR0 */
	XT_EQ(read_isr(pic, 0x20), 0x08);
	out(pic, 0x20, 0x20);
	XT_EQ(read_isr(pic, 0x20), 0x00);
	XT_EQ(xk_pic_ack(pic), 0x0d); /* IR5 */
	out(pic, 0x20, 0xa0);         /* rotate on non-specific EOI */
	XT_EQ(st(pic, 0).priority_add, 6);

	/* set priority: IR4 lowest, so IR5 beats IR3 */
	out(pic, 0x20, 0xc4);
	XT_EQ(st(pic, 0).priority_add, 5);
	xk_pic_set_irq(pic, 5, false);
	xk_pic_set_irq(pic, 3, false);
	xk_pic_set_irq(pic, 3, true);
	xk_pic_set_irq(pic, 5, true);
	XT_EQ(xk_pic_ack(pic), 0x0d);
	/* IR3 now has lower priority than IR5 in service */
	XT_ASSERT(!xk_pic_has_interrupt(pic));
	out(pic, 0x20, 0xe5); /* rotate on specific EOI of IR5 */
	XT_EQ(st(pic, 0).priority_add, 6);
	XT_EQ(read_isr(pic, 0x20), 0);
	XT_EQ(xk_pic_ack(pic), 0x0b);
	out(pic, 0x20, 0x63);
	out(pic, 0x20, 0x40); /* no operation */
	XT_EQ(st(pic, 0).priority_add, 6);
	XT_EQ(read_isr(pic, 0x20), 0);
	/* a non-specific EOI with nothing in service does nothing */
	f.neoi = 0;
	out(pic, 0x20, 0x20);
	XT_EQ(f.neoi, 0);
}

XT_TEST(pic, edge_and_level_triggering)
{
	struct picfx f;
	struct xk_pic *pic = mk(&f);
	u8 v;

	seabios_init(pic);
	out(pic, 0x21, 0x00);
	out(pic, 0xa1, 0x00);
	/* the ELCR keeps only the pins that may be level-triggered */
	out(pic, 0x4d0, 0xff);
	out(pic, 0x4d1, 0xff);
	XT_EQ(in(pic, 0x4d0), 0xf8);
	XT_EQ(in(pic, 0x4d1), 0xde);
	out(pic, 0x4d0, 0x00);
	out(pic, 0x4d1, 0x00);

	/* edge: one request per rising edge */
	XT_EQ(xk_pic_set_irq(pic, 4, true), 1);
	/* still high: no edge, no request, yet 1 as in Linux (not coalesced) */
	XT_EQ(xk_pic_set_irq(pic, 4, true), 1);
	XT_EQ(in(pic, 0x20), 0x10);
	XT_EQ(xk_pic_ack(pic), 0x0c);
	XT_EQ(in(pic, 0x20), 0x00);
	XT_EQ(xk_pic_set_irq(pic, 4, true), 1);
	XT_EQ(in(pic, 0x20), 0x00);
	out(pic, 0x20, 0x20);
	XT_ASSERT(!xk_pic_has_interrupt(pic));
	xk_pic_set_irq(pic, 4, false);
	XT_EQ(xk_pic_set_irq(pic, 4, true), 1);
	XT_EQ(xk_pic_ack(pic), 0x0c);
	out(pic, 0x20, 0x20);
	xk_pic_set_irq(pic, 4, false);
	/* a pulse latched while the pin is low again stays requested */
	XT_EQ(xk_pic_set_irq(pic, 4, true), 1);
	XT_EQ(xk_pic_set_irq(pic, 4, false), 1);
	/* a second edge before the INTA is coalesced: 0, then low 1 */
	XT_EQ(xk_pic_set_irq(pic, 4, true), 0);
	XT_EQ(xk_pic_set_irq(pic, 4, false), 1);
	XT_ASSERT(xk_pic_has_interrupt(pic));
	XT_EQ(xk_pic_ack(pic), 0x0c);
	out(pic, 0x20, 0x20);

	/* level (IRQ11 on the slave): requests while high, again after EOI */
	out(pic, 0x4d1, 0x08);
	XT_EQ(xk_pic_set_irq(pic, 11, true), 1);
	XT_EQ(xk_pic_set_irq(pic, 11, true), 0);
	XT_EQ(xk_pic_ack(pic), 0x73);
	XT_EQ(in(pic, 0xa0), 0x08); /* INTA leaves a level request */
	out(pic, 0xa0, 0x20);
	out(pic, 0x20, 0x20);
	XT_ASSERT(xk_pic_has_interrupt(pic)); /* still asserted */
	XT_EQ(xk_pic_ack(pic), 0x73);
	/* the handler quietens the device: low answers 1 (Linux) */
	XT_EQ(xk_pic_set_irq(pic, 11, false), 1);
	v = in(pic, 0xa0);
	XT_EQ(v, 0x00);
	out(pic, 0xa0, 0x20);
	out(pic, 0x20, 0x20);
	XT_ASSERT(!xk_pic_has_interrupt(pic));
	XT_EQ(f.eois[11], 2);
}

XT_TEST(pic, spurious_irq7_and_irq15)
{
	struct picfx f;
	struct xk_pic *pic = mk(&f);

	seabios_init(pic);
	out(pic, 0x21, 0x00);
	out(pic, 0xa1, 0x00);
	/* nothing at all: the master's IR7, nothing goes in service */
	XT_EQ(xk_pic_ack(pic), 0x0f);
	XT_EQ(read_isr(pic, 0x20), 0);
	/* a level request gone before the INTA */
	out(pic, 0x4d0, 0x08);
	xk_pic_set_irq(pic, 3, true);
	XT_ASSERT(xk_pic_has_interrupt(pic));
	xk_pic_set_irq(pic, 3, false);
	XT_ASSERT(!xk_pic_has_interrupt(pic));
	XT_EQ(xk_pic_ack(pic), 0x0f);
	XT_EQ(read_isr(pic, 0x20), 0);
	/* the same on the slave: IRQ15 with the master's IR2 in service */
	out(pic, 0x4d1, 0x02);
	xk_pic_set_irq(pic, 9, true);
	XT_ASSERT(xk_pic_has_interrupt(pic));
	xk_pic_set_irq(pic, 9, false);
	XT_ASSERT(xk_pic_has_interrupt(pic)); /* the master latched IR2 */
	XT_EQ(xk_pic_ack(pic), 0x77);
	XT_EQ(read_isr(pic, 0x20), 0x04);
	XT_EQ(read_isr(pic, 0xa0), 0x00);
	out(pic, 0x20, 0x20); /* the OS EOIs the master only */
	XT_EQ(read_isr(pic, 0x20), 0);
	XT_ASSERT(!xk_pic_has_interrupt(pic));
}

XT_TEST(pic, poll_mode)
{
	struct picfx f;
	struct xk_pic *pic = mk(&f);

	seabios_init(pic);
	out(pic, 0x21, 0x00);
	out(pic, 0x20, 0x0c); /* OCW3: poll */
	XT_EQ(st(pic, 0).poll, 1);
	XT_EQ(in(pic, 0x20), 0x00); /* nothing requested */
	XT_EQ(st(pic, 0).poll, 0);
	xk_pic_set_irq(pic, 6, true);
	xk_pic_set_irq(pic, 5, true);
	out(pic, 0x20, 0x0c);
	XT_EQ(in(pic, 0x21), 0x85); /* either port; IR5 goes in service */
	XT_EQ(read_isr(pic, 0x20), 0x20);
	XT_EQ(in(pic, 0x20), 0x40); /* IR6 still requested */
	out(pic, 0x20, 0x20);
	out(pic, 0x20, 0x0c);
	XT_EQ(in(pic, 0x20), 0x86);
	out(pic, 0x20, 0x20);
	XT_EQ(read_isr(pic, 0x20), 0);
	/* the slave polled directly */
	out(pic, 0xa1, 0x00);
	xk_pic_set_irq(pic, 13, true);
	out(pic, 0xa0, 0x0c);
	XT_EQ(in(pic, 0xa0), 0x85);
	XT_EQ(read_isr(pic, 0xa0), 0x20);
}

XT_TEST(pic, special_mask_mode)
{
	struct picfx f;
	struct xk_pic *pic = mk(&f);

	seabios_init(pic);
	out(pic, 0x21, 0x00);
	xk_pic_set_irq(pic, 3, true);
	XT_EQ(xk_pic_ack(pic), 0x0b);
	xk_pic_set_irq(pic, 5, true);
	XT_ASSERT(!xk_pic_has_interrupt(pic)); /* IR3 in service blocks */
	out(pic, 0x21, 0x08);                  /* mask IR3 */
	XT_ASSERT(!xk_pic_has_interrupt(pic));
	out(pic, 0x20, 0x68); /* set special mask */
	XT_EQ(st(pic, 0).special_mask, 1);
	XT_ASSERT(xk_pic_has_interrupt(pic));
	XT_EQ(xk_pic_ack(pic), 0x0d);
	XT_EQ(read_isr(pic, 0x20), 0x28);
	out(pic, 0x20, 0x65);
	out(pic, 0x20, 0x63);
	out(pic, 0x20, 0x48); /* reset special mask */
	XT_EQ(st(pic, 0).special_mask, 0);
	out(pic, 0x20, 0x08); /* ESMM clear: no change */
	XT_EQ(st(pic, 0).special_mask, 0);
}

XT_TEST(pic, special_fully_nested_mode)
{
	struct picfx f;
	struct xk_pic *pic = mk(&f);
	int sfnm;

	for (sfnm = 0; sfnm < 2; sfnm++) {
		xk_pic_reset(pic);
		seabios_init(pic);
		if (sfnm) { /* redo the master with SFNM in ICW4 */
			out(pic, 0x20, 0x11);
			out(pic, 0x21, 0x08);
			out(pic, 0x21, 0x04);
			out(pic, 0x21, 0x11);
			XT_EQ(st(pic, 0).special_fully_nested_mode, 1);
		}
		out(pic, 0x21, 0x00);
		out(pic, 0xa1, 0x00);
		xk_pic_set_irq(pic, 12, true);
		XT_EQ(xk_pic_ack(pic), 0x74);
		xk_pic_set_irq(pic, 9, true); /* higher, on the same slave */
		XT_EQ(xk_pic_has_interrupt(pic), sfnm);
		if (sfnm) {
			XT_EQ(xk_pic_ack(pic), 0x71);
			XT_EQ(read_isr(pic, 0xa0), 0x12);
		}
		/* the master's lower levels stay blocked by IR2 either way */
		xk_pic_set_irq(pic, 4, true);
		XT_EQ(xk_pic_has_interrupt(pic), false);
		xk_pic_set_irq(pic, 4, false);
		xk_pic_set_irq(pic, 9, false);
	}
}

XT_TEST(pic, icw1_resets_the_chip)
{
	struct picfx f;
	struct xk_pic *pic = mk(&f);
	struct kvm_pic_state s;

	seabios_init(pic);
	out(pic, 0x21, 0x00);
	out(pic, 0x4d0, 0x20);
	out(pic, 0x20, 0xc2);         /* priority */
	out(pic, 0x20, 0x6b);         /* special mask, read ISR */
	xk_pic_set_irq(pic, 5, true); /* level */
	xk_pic_set_irq(pic, 6, true); /* edge */
	out(pic, 0x21, 0x55);
	out(pic, 0x20, 0x10); /* ICW1 without ICW4 */
	s = st(pic, 0);
	XT_EQ(s.init_state, 1);
	XT_EQ(s.imr, 0);
	XT_EQ(s.irr, 0x20); /* the edge latch is gone, the level stays */
	XT_EQ(s.priority_add, 0);
	XT_EQ(s.special_mask, 0);
	XT_EQ(s.read_reg_select, 0);
	XT_EQ(s.init4, 0);
	out(pic, 0x21, 0x20); /* ICW2 */
	XT_EQ(st(pic, 0).init_state, 2);
	out(pic, 0x21, 0x04); /* ICW3; no ICW4 asked */
	XT_EQ(st(pic, 0).init_state, 0);
	XT_EQ(st(pic, 0).irq_base, 0x20);
	XT_EQ(xk_pic_ack(pic), 0x25);
}

XT_TEST(pic, irqchip_get_set_round_trip)
{
	struct picfx f, g;
	struct xk_pic *a = mk(&f), *b;
	struct kvm_pic_state m, s, m2, s2;

	b = mk(&g);
	linux_init(a, false, 0x00, 0x00);
	out(a, 0x4d1, 0x0c);
	xk_pic_set_irq(a, 10, true);
	xk_pic_set_irq(a, 3, true);
	XT_EQ(xk_pic_ack(a), 0x3a);
	out(a, 0x20, 0xc2);
	out(a, 0xa0, 0x0b);
	m = st(a, 0);
	s = st(a, 1);
	XT_EQ(m.isr, 0x04);
	XT_EQ(s.isr, 0x04);
	XT_EQ(s.elcr, 0x0c);
	XT_ASSERT(!g.intr);
	XT_EQ(xk_pic_set_state(b, 0, &m), 0);
	XT_EQ(xk_pic_set_state(b, 1, &s), 0);
	m2 = st(b, 0);
	s2 = st(b, 1);
	XT_MEMEQ(&m, &m2, sizeof(m));
	XT_MEMEQ(&s, &s2, sizeof(s));
	/* the restored pair behaves as the original: IR3 beats IR2 now */
	XT_EQ(xk_pic_has_interrupt(b), xk_pic_has_interrupt(a));
	XT_EQ(xk_pic_ack(b), xk_pic_ack(a));
	XT_EQ(in(b, 0xa0), in(a, 0xa0));
	/* a set raises INTR if the state asks for it */
	xk_pic_reset(b);
	XT_ASSERT(!xk_pic_has_interrupt(b));
	memset(&m, 0, sizeof(m));
	m.irr = 0x01;
	m.irq_base = 0x20;
	XT_EQ(xk_pic_set_state(b, 0, &m), 0);
	XT_ASSERT(xk_pic_has_interrupt(b) && g.intr);
	XT_EQ(xk_pic_ack(b), 0x20);
}

struct flood {
	struct xk_pic *pic;
	int n;
};

static void raise_from_timer(void *arg)
{
	struct flood *fl = arg;

	/* a timer callback: interrupts are off, the _irqsoff entry */
	XT_EQ(xk_pic_set_irq_irqsoff(fl->pic, 0, true), 1);
	XT_EQ(xk_pic_set_irq_irqsoff(fl->pic, 0, false), 1);
	fl->n++;
}

static void clock_real(void *arg)
{
	(void)arg;
	host_user_clock_real();
}

XT_TEST(pic, input_from_timer_context)
{
	struct picfx f;
	struct xk_pic *pic = mk(&f);
	struct flood fl = { pic, 0 };
	struct host_timer *t;

	seabios_init(pic);
	out(pic, 0x21, 0xfa);
	host_user_clock_set(1000000);
	xt_cleanup(clock_real, NULL);
	t = host_timer_create(raise_from_timer, &fl);
	XT_ASSERT(t);
	host_timer_start(t, 1500000);
	XT_EQ(host_user_clock_advance(1000000), 1);
	XT_EQ(fl.n, 1);
	XT_ASSERT(f.intr);
	host_irq_disable(); /* as a run loop injecting with interrupts off */
	XT_EQ(xk_pic_ack_irqsoff(pic), 0x08);
	host_irq_enable();
	host_timer_destroy(t);
}
