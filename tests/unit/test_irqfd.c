// SPDX-License-Identifier: GPL-2.0
/*
 * test_irqfd.c - KVM_IRQFD (core/irqfd.c) on the fake backend with the
 * in-kernel irqchip: Linux 6.1's errnos; a write of the eventfd (run by
 * host_user_eventfd_poll(), as the kernel would inside the write) pulses
 * an IOAPIC pin or sends an MSI route's message into the LAPIC; a signal
 * sent before the assignment; routes changed after it; resampling on an
 * IOAPIC level pin and on a PIC level pin (the EOI lowers the line and
 * signals the resamplefd, no re-delivery; a new signal delivers again);
 * deassign; every failure point of an assignment and the VM's end give
 * back everything.  Hang-up: the last close of an assigned eventfd
 * (host_user_eventfd_hangup) drops its irqfd through the VM's hang-up
 * work (host_user_work_run) as a deassign would: held objects back, a new
 * eventfd with the same number assigned, a resampling one's line lowered
 * and its resamplefd quiet; one eventfd on two VMs; a VM that dies with
 * the work queued.  And the deferred-work service itself (host_work).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "fx.h"
#include "host_user.h"
#include "irqchip.h"
#include "lapic.h"

#define RESAMPLE KVM_IRQFD_FLAG_RESAMPLE
#define DEASSIGN KVM_IRQFD_FLAG_DEASSIGN

/* The VMM writes the eventfd; the kernel would run the watchers now. */
static unsigned int efd_write(int fd)
{
	XT_EQ(eventfd_write(fd, 1), 0);
	return host_user_eventfd_poll();
}

static long irqfd(struct fx *f, int fd, u32 gsi, u32 flags, int rfd)
{
	struct kvm_irqfd a;

	memset(&a, 0, sizeof(a));
	a.fd = (u32)fd;
	a.gsi = gsi;
	a.flags = flags;
	a.resamplefd = (u32)rfd;
	return fx_vm_ioctl(f, KVM_IRQFD, &a);
}

static void mmio_w(struct xk_vcpu *v, u64 gpa, u32 val)
{
	XT_ASSERT(xk_irqchip_mmio(v, gpa, &val, 4, true));
}

static void ioapic_rte(struct xk_vcpu *v, unsigned int pin, u32 lo)
{
	mmio_w(v, 0xfec00000, 0x11 + 2 * pin);
	mmio_w(v, 0xfec00010, 0); /* physical destination 0 */
	mmio_w(v, 0xfec00000, 0x10 + 2 * pin);
	mmio_w(v, 0xfec00010, lo);
}

static struct kvm_ioapic_state ioapic_state(struct fx *f)
{
	struct kvm_irqchip c;

	memset(&c, 0, sizeof(c));
	c.chip_id = KVM_IRQCHIP_IOAPIC;
	XT_EQ(fx_vm_ioctl(f, KVM_GET_IRQCHIP, &c), 0);
	return c.chip.ioapic;
}

/*
 * A VM with the irqchip and vCPU 0 (f->v), its APIC on, IOAPIC pin 4 edge
 * vector 0x40, pin 5 level vector 0x41, the PIC masked.
 */
static struct fx *chip_vm(void)
{
	struct fx *f = fx_new_vm();
	u32 val = 0xff;

	XT_EQ(fx_vm_ioctl(f, KVM_CREATE_IRQCHIP, NULL), 0);
	XT_EQ(xk_vcpu_create(f->vm, 0, &f->v), 0);
	xk_vm_get(f->vm); /* the vCPU file's reference, as fx_new() */
	XT_ASSERT(xk_irqchip_pio(f->v, 0x21, 1, false, &val));
	XT_ASSERT(xk_irqchip_pio(f->v, 0xa1, 1, false, &val));
	mmio_w(f->v, 0xfee000f0, 0x1ff);
	ioapic_rte(f->v, 4, 0x40);
	ioapic_rte(f->v, 5, 0x41 | 0x8000);
	return f;
}

/* The guest takes the pending vector (IRR -> ISR) and sends EOI. */
static void take_and_eoi(struct fx *f, int vector)
{
	XT_EQ(xk_lapic_pending(f->v->apic), vector);
	XT_EQ(xk_lapic_ack(f->v->apic), vector);
	mmio_w(f->v, 0xfee000b0, 0);
}

XT_TEST(irqfd, caps)
{
	XT_EQ(xk_cap_value(KVM_CAP_IRQFD), 1);
	XT_EQ(xk_cap_value(KVM_CAP_IRQFD_RESAMPLE), 1);
}

XT_TEST(irqfd, errnos)
{
	struct fx *f = fx_new_vm();
	int e = fx_eventfd(), e2 = fx_eventfd(), r = fx_eventfd();
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC), edup;

	XT_ASSERT(null >= 0);
	fx_close_later(null);
	/* without an in-kernel irqchip: assigning is EINVAL, flags first */
	XT_EQ(irqfd(f, e, 4, 4, -1), -EINVAL);
	XT_EQ(irqfd(f, e, 4, 0, -1), -EINVAL);
	XT_EQ(irqfd(f, -1, 4, 0, -1), -EINVAL);
	XT_EQ(irqfd(f, e, 4, RESAMPLE, r), -EINVAL);
	/* deassigning only looks at the eventfd */
	XT_EQ(irqfd(f, e, 4, DEASSIGN, -1), 0);
	XT_EQ(irqfd(f, -1, 4, DEASSIGN, -1), -EBADF);
	XT_EQ(irqfd(f, null, 4, DEASSIGN, -1), -EINVAL);

	XT_EQ(fx_vm_ioctl(f, KVM_CREATE_IRQCHIP, NULL), 0);
	XT_EQ(irqfd(f, e, 4, 0x80000000u, -1), -EINVAL);
	XT_EQ(irqfd(f, -1, 4, 0, -1), -EBADF);
	XT_EQ(irqfd(f, 999, 4, 0, -1), -EBADF);
	XT_EQ(irqfd(f, null, 4, 0, -1), -EINVAL);
	XT_EQ(irqfd(f, e, 4, RESAMPLE, -1), -EBADF);
	XT_EQ(irqfd(f, e, 4, RESAMPLE, null), -EINVAL);
	XT_EQ(irqfd(f, -1, 4, RESAMPLE, null), -EBADF); /* fd first */
	/* any GSI is taken, with or without a route */
	XT_EQ(irqfd(f, e, 4, 0, -1), 0);
	XT_EQ(irqfd(f, e2, 5000, 0, -1), 0);
	/* one irqfd per eventfd, whatever the GSI; a dup is the same */
	XT_EQ(irqfd(f, e, 4, 0, -1), -EBUSY);
	XT_EQ(irqfd(f, e, 7, 0, -1), -EBUSY);
	XT_EQ(irqfd(f, e, 7, RESAMPLE, r), -EBUSY);
	edup = dup(e);
	XT_ASSERT(edup >= 0);
	fx_close_later(edup);
	XT_EQ(irqfd(f, edup, 9, 0, -1), -EBUSY);
	/* deassign of what is not there: 0, as Linux */
	XT_EQ(irqfd(f, r, 4, DEASSIGN, -1), 0);
	XT_EQ(irqfd(f, e, 5, DEASSIGN, -1), 0);
	XT_EQ(irqfd(f, e, 4, 0, -1), -EBUSY); /* still assigned */
	XT_EQ(irqfd(f, edup, 4, DEASSIGN | RESAMPLE, -1), 0);
	XT_EQ(irqfd(f, e, 7, 0, -1), 0); /* free again */
	/* the eventfd may serve as its own resamplefd's sibling elsewhere */
	XT_EQ(irqfd(f, r, 10, RESAMPLE, r), 0);
}

XT_TEST(irqfd, edge_to_ioapic_pin)
{
	struct fx *f = chip_vm();
	int e = fx_eventfd();

	XT_EQ(irqfd(f, e, 4, 0, -1), 0);
	XT_EQ(xk_lapic_pending(f->v->apic), -1);
	XT_EQ(efd_write(e), 1);
	XT_EQ(fx_eventfd_count(e), 0); /* consumed by the wake-up */
	/* an edge: delivered, the line low again */
	XT_EQ(ioapic_state(f).irr & (1u << 4), 0);
	take_and_eoi(f, 0x40);
	XT_EQ(xk_lapic_pending(f->v->apic), -1);
	/* each signal is a new edge */
	XT_EQ(efd_write(e), 1);
	take_and_eoi(f, 0x40);
	/* two writes before anyone looks: one wake-up, one interrupt */
	XT_EQ(eventfd_write(e, 1), 0);
	XT_EQ(eventfd_write(e, 1), 0);
	XT_EQ(host_user_eventfd_poll(), 1);
	take_and_eoi(f, 0x40);
	XT_EQ(xk_lapic_pending(f->v->apic), -1);
	/* KVM_IRQ_LINE shares the source: the pulse left the pin low */
	XT_EQ(ioapic_state(f).irr, 0);
	/* a signal from the kernel side (an ioeventfd) runs it too */
	{
		struct host_eventfd *h;

		XT_EQ(host_eventfd_get(e, &h), 0);
		host_eventfd_signal(h);
		host_eventfd_put(h);
	}
	take_and_eoi(f, 0x40);
}

XT_TEST(irqfd, signal_before_assign_is_delivered)
{
	struct fx *f = chip_vm();
	int e = fx_eventfd();

	XT_EQ(eventfd_write(e, 1), 0);
	XT_EQ(irqfd(f, e, 4, 0, -1), 0);
	XT_EQ(xk_lapic_pending(f->v->apic), 0x40);
}

XT_TEST(irqfd, msi_route_and_route_change)
{
	struct fx *f = chip_vm();
	struct {
		struct kvm_irq_routing h;
		struct kvm_irq_routing_entry e[1];
	} rt;
	int e = fx_eventfd();

	memset(&rt, 0, sizeof(rt));
	rt.h.nr = 1;
	rt.e[0].gsi = 30;
	rt.e[0].type = KVM_IRQ_ROUTING_MSI;
	rt.e[0].u.msi.address_lo = 0xfee00000;
	rt.e[0].u.msi.data = 0x71;
	XT_EQ(irqfd(f, e, 30, 0, -1), 0);
	/* no route yet: nothing */
	XT_EQ(efd_write(e), 1);
	XT_EQ(xk_lapic_pending(f->v->apic), -1);
	XT_EQ(fx_vm_ioctl(f, KVM_SET_GSI_ROUTING, &rt), 0);
	XT_EQ(efd_write(e), 1);
	take_and_eoi(f, 0x71);
	/* a new table applies to the next signal */
	rt.e[0].u.msi.data = 0x72;
	XT_EQ(fx_vm_ioctl(f, KVM_SET_GSI_ROUTING, &rt), 0);
	XT_EQ(efd_write(e), 1);
	take_and_eoi(f, 0x72);
	XT_EQ(xk_lapic_pending(f->v->apic), -1);
}

XT_TEST(irqfd, resample_on_ioapic_level_pin)
{
	struct fx *f = chip_vm();
	int e = fx_eventfd(), r = fx_eventfd(), e2 = fx_eventfd(),
	    r2 = fx_eventfd();
	struct kvm_ioapic_state st;

	XT_EQ(irqfd(f, e, 5, RESAMPLE, r), 0);
	XT_EQ(efd_write(e), 1);
	st = ioapic_state(f);
	XT_EQ(st.irr & (1u << 5), 1u << 5); /* the line stays up */
	XT_EQ(xk_lapic_pending(f->v->apic), 0x41);
	XT_EQ(fx_eventfd_count(r), 0);
	/* the EOI lowers it and tells the VMM; no second delivery */
	take_and_eoi(f, 0x41);
	st = ioapic_state(f);
	XT_EQ(st.irr & (1u << 5), 0);
	XT_EQ(st.redirtbl[5].bits & XK_BIT(14), 0); /* remote IRR */
	XT_EQ(fx_eventfd_count(r), 1);
	XT_EQ(xk_lapic_pending(f->v->apic), -1);
	/* the VMM signals again: delivered again */
	XT_EQ(efd_write(e), 1);
	XT_EQ(xk_lapic_pending(f->v->apic), 0x41);
	/* a second resampling irqfd on the GSI shares the line */
	XT_EQ(irqfd(f, e2, 5, RESAMPLE, r2), 0);
	XT_EQ(efd_write(e2), 1); /* already up, awaiting the EOI */
	take_and_eoi(f, 0x41);
	XT_EQ(fx_eventfd_count(r), 1);
	XT_EQ(fx_eventfd_count(r2), 1);
	XT_EQ(xk_lapic_pending(f->v->apic), -1);
	/* KVM_IRQ_LINE's source is separate: its level stays */
	{
		struct kvm_irq_level il = { .irq = 5, .level = 1 };

		XT_EQ(fx_vm_ioctl(f, KVM_IRQ_LINE, &il), 0);
		take_and_eoi(f, 0x41); /* still high: sent again */
		XT_EQ(fx_eventfd_count(r), 1);
		XT_EQ(xk_lapic_pending(f->v->apic), 0x41);
		XT_EQ(xk_lapic_ack(f->v->apic), 0x41);
		il.level = 0;
		XT_EQ(fx_vm_ioctl(f, KVM_IRQ_LINE, &il), 0);
		mmio_w(f->v, 0xfee000b0, 0);
		XT_EQ(fx_eventfd_count(r), 1);
		XT_EQ(fx_eventfd_count(r2), 2);
	}
	/* the last one out lowers the line */
	XT_EQ(efd_write(e), 1);
	XT_EQ(ioapic_state(f).irr & (1u << 5), 1u << 5);
	XT_EQ(irqfd(f, e, 5, DEASSIGN, -1), 0);
	XT_EQ(ioapic_state(f).irr & (1u << 5), 1u << 5);
	XT_EQ(irqfd(f, e2, 5, DEASSIGN, -1), 0);
	XT_EQ(ioapic_state(f).irr & (1u << 5), 0);
	/* gone: writes do nothing, nobody watches */
	XT_EQ(xk_lapic_ack(f->v->apic), 0x41);
	mmio_w(f->v, 0xfee000b0, 0);
	XT_EQ(fx_eventfd_count(r), 0);
	XT_EQ(efd_write(e), 0);
	XT_EQ(xk_lapic_pending(f->v->apic), -1);
}

XT_TEST(irqfd, resample_on_pic_level_pin)
{
	struct fx *f = fx_new_vm();
	int e = fx_eventfd(), r = fx_eventfd();
	struct kvm_irqchip c;
	u32 val;
	static const u8 init[][2] = {
		{ 0x20, 0x11 }, { 0x21, 0x30 }, { 0x21, 0x04 }, { 0x21, 0x01 },
		{ 0xa0, 0x11 }, { 0xa1, 0x38 }, { 0xa1, 0x02 }, { 0xa1, 0x01 },
		{ 0x21, 0xdf }, { 0xa1, 0xff }, /* pin 5 only */
	};
	unsigned int i;

	XT_EQ(fx_vm_ioctl(f, KVM_CREATE_IRQCHIP, NULL), 0);
	XT_EQ(xk_vcpu_create(f->vm, 0, &f->v), 0);
	xk_vm_get(f->vm); /* the vCPU file's reference, as fx_new() */
	for (i = 0; i < XK_ARRAY_SIZE(init); i++) {
		val = init[i][1];
		XT_ASSERT(xk_irqchip_pio(f->v, init[i][0], 1, false, &val));
	}
	val = 0x20; /* ELCR: pin 5 level-triggered */
	XT_ASSERT(xk_irqchip_pio(f->v, 0x4d0, 1, false, &val));
	XT_EQ(irqfd(f, e, 5, RESAMPLE, r), 0);
	XT_EQ(efd_write(e), 1);
	f->v->rflags = XK_RFLAGS_FIXED | XK_RFLAGS_IF;
	xk_irqchip_inject(f->v); /* INTA through LINT0 (ExtINT) */
	XT_ASSERT(f->v->irq_pending);
	XT_EQ(f->v->irq_vector, 0x35);
	f->v->irq_pending = false;
	XT_EQ(fx_eventfd_count(r), 0);
	val = 0x20; /* non-specific EOI */
	XT_ASSERT(xk_irqchip_pio(f->v, 0x20, 1, false, &val));
	XT_EQ(fx_eventfd_count(r), 1);
	memset(&c, 0, sizeof(c));
	c.chip_id = KVM_IRQCHIP_PIC_MASTER;
	XT_EQ(fx_vm_ioctl(f, KVM_GET_IRQCHIP, &c), 0);
	XT_EQ(c.chip.pic.irr & 0x20, 0);
	XT_EQ(c.chip.pic.isr, 0);
	xk_irqchip_inject(f->v);
	XT_ASSERT(!f->v->irq_pending); /* nothing more */
	XT_EQ(efd_write(e), 1);
	xk_irqchip_inject(f->v);
	XT_ASSERT(f->v->irq_pending);
	XT_EQ(f->v->irq_vector, 0x35);
}

XT_TEST(irqfd, deassign_stops_delivery)
{
	struct fx *f = chip_vm();
	int e = fx_eventfd(), m = fx_eventfd();

	XT_EQ(irqfd(f, e, 4, 0, -1), 0);
	XT_EQ(irqfd(f, m, 5, 0, -1), 0);
	XT_EQ(irqfd(f, e, 4, DEASSIGN, -1), 0);
	XT_EQ(efd_write(e), 0);
	XT_EQ(fx_eventfd_count(e), 1); /* nobody consumed it */
	XT_EQ(xk_lapic_pending(f->v->apic), -1);
	/* the other one still works; assigning e again too */
	XT_EQ(irqfd(f, e, 4, 0, -1), 0);
	XT_EQ(efd_write(e), 1);
	take_and_eoi(f, 0x40);
}

/* Every failure point of assignments, then the VM's end: nothing held. */
XT_TEST(irqfd, failures_and_vm_end_give_everything_back)
{
	struct host_held h0, h1;
	struct fx *f;
	unsigned long n, points;
	int e = fx_eventfd(), r = fx_eventfd(), e2 = fx_eventfd();

	fake_install();
	host_held(&h0);
	f = chip_vm();
	/* the VM's first assignment also makes its irqfd state */
	host_user_fail_nth(1, HOST_USER_FAIL_ALL);
	XT_EQ(irqfd(f, e, 5, RESAMPLE, r), -ENOMEM);
	host_user_fail_nth(2, HOST_USER_FAIL_ALL);
	XT_EQ(irqfd(f, e, 5, RESAMPLE, r), -ENOMEM);
	host_user_fail_nth(0, HOST_USER_FAIL_ALL);
	XT_EQ(irqfd(f, e, 5, 0, -1), 0);
	XT_EQ(irqfd(f, e, 5, DEASSIGN, -1), 0);
	/* then: the irqfd, its resampler, its watch */
	host_user_fail_nth(1000000, HOST_USER_FAIL_ALL);
	XT_EQ(irqfd(f, e, 5, RESAMPLE, r), 0);
	points = host_user_fail_points();
	host_user_fail_nth(0, HOST_USER_FAIL_ALL);
	XT_EQ(points, 3);
	XT_EQ(irqfd(f, e, 5, DEASSIGN, -1), 0);
	for (n = 1; n <= points; n++) {
		xt_ctx("failure point %lu of %lu", n, points);
		host_user_fail_nth(n, HOST_USER_FAIL_ALL);
		XT_EQ(irqfd(f, e, 5, RESAMPLE, r), -ENOMEM);
		host_user_fail_nth(0, HOST_USER_FAIL_ALL);
		XT_EQ(irqfd(f, e, 5, RESAMPLE, r), 0);
		XT_EQ(irqfd(f, e, 5, DEASSIGN, -1), 0);
	}
	/* a VM that dies with irqfds, a resampler and a raised line */
	XT_EQ(irqfd(f, e, 5, RESAMPLE, r), 0);
	XT_EQ(irqfd(f, e2, 4, 0, -1), 0);
	XT_EQ(efd_write(e), 1);
	fx_destroy(f);
	host_held(&h1);
	XT_EQ(h1.objects, h0.objects);
	XT_EQ(h1.pages, h0.pages);
	/* and nothing watches its eventfds any more */
	XT_EQ(efd_write(e), 0);
	XT_EQ(efd_write(e2), 0);
	XT_EQ(fx_eventfd_count(r), 0);
}

/* An eventfd the test hangs up itself (no cleanup that could close a
 * number reused since). */
static int efd_plain(void)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	XT_ASSERT(fd >= 0);
	return fd;
}

/*
 * The last close of an assigned eventfd: the hang-up marks the irqfd and
 * queues the work; the work drops it as a deassign would, and a new
 * eventfd that got the same number is assigned and delivers.
 */
XT_TEST(irqfd, hangup_drops_the_irqfd)
{
	struct fx *f = chip_vm();
	int keep = fx_eventfd(), e = efd_plain(), e2;
	struct host_held h0, h1, h2;

	XT_EQ(irqfd(f, keep, 4, 0, -1), 0); /* the VM's state exists */
	host_held(&h0);
	XT_EQ(irqfd(f, e, 4, 0, -1), 0);
	host_held(&h1);
	/* the irqfd, its eventfd reference, its watch */
	XT_EQ(h1.objects, h0.objects + 3);
	XT_EQ(host_user_eventfd_hangup(e), 1);
	/* nothing freed inside the wake-up: the work does it */
	host_held(&h2);
	XT_EQ(h2.objects, h1.objects);
	XT_EQ(host_user_work_run(), 1);
	host_held(&h2);
	XT_EQ(h2.objects, h0.objects);
	XT_EQ(host_user_work_run(), 0);
	/* the same number, a new eventfd: assigned (no EBUSY), delivers */
	e2 = efd_plain();
	XT_EQ(e2, e);
	fx_close_later(e2);
	XT_EQ(irqfd(f, e2, 4, 0, -1), 0);
	XT_EQ(efd_write(e2), 1);
	take_and_eoi(f, 0x40);
	XT_EQ(irqfd(f, e2, 4, 0, -1), -EBUSY);
	/* the other irqfd was not touched */
	XT_EQ(efd_write(keep), 1);
	XT_EQ(xk_lapic_pending(f->v->apic), 0x40);
}

/*
 * A resampling irqfd whose eventfd hangs up with its line up: the line
 * goes down with the last member, and EOIs of the GSI no longer signal
 * its resamplefd.  Before the work runs the irqfd still acts.
 */
XT_TEST(irqfd, hangup_with_resample_lowers_the_line)
{
	struct fx *f = chip_vm();
	int e = efd_plain(), r = fx_eventfd();
	struct kvm_irq_level il = { .irq = 5, .level = 1 };

	XT_EQ(irqfd(f, e, 5, RESAMPLE, r), 0);
	XT_EQ(efd_write(e), 1);
	XT_EQ(ioapic_state(f).irr & (1u << 5), 1u << 5);
	XT_EQ(host_user_eventfd_hangup(e), 1);
	/* not yet dropped: the EOI still resamples */
	take_and_eoi(f, 0x41);
	XT_EQ(fx_eventfd_count(r), 1);
	XT_EQ(ioapic_state(f).irr & (1u << 5), 0);
	/* dropped: an EOI of the GSI (its line raised by KVM_IRQ_LINE) */
	XT_EQ(host_user_work_run(), 1);
	XT_EQ(fx_vm_ioctl(f, KVM_IRQ_LINE, &il), 0);
	XT_EQ(xk_lapic_ack(f->v->apic), 0x41);
	il.level = 0;
	XT_EQ(fx_vm_ioctl(f, KVM_IRQ_LINE, &il), 0);
	mmio_w(f->v, 0xfee000b0, 0);
	XT_EQ(fx_eventfd_count(r), 0); /* no resampler any more */
	XT_EQ(xk_lapic_pending(f->v->apic), -1);
}

XT_TEST(irqfd, hangup_with_the_line_up_lowers_it)
{
	struct fx *f = chip_vm();
	int e = efd_plain(), r = fx_eventfd();

	XT_EQ(irqfd(f, e, 5, RESAMPLE, r), 0);
	XT_EQ(efd_write(e), 1);
	XT_EQ(ioapic_state(f).irr & (1u << 5), 1u << 5);
	XT_EQ(host_user_eventfd_hangup(e), 1);
	XT_EQ(host_user_work_run(), 1);
	XT_EQ(ioapic_state(f).irr & (1u << 5), 0); /* the last one lowered it */
}

/*
 * One eventfd on two VMs: its hang-up drops both irqfds.  A VM that dies
 * with its hang-up work queued flushes it (the work then finds nothing);
 * the other VM's work still runs.
 */
XT_TEST(irqfd, hangup_on_two_vms_and_vm_end_with_work_queued)
{
	struct fx *a = chip_vm(), *b = chip_vm();
	int e = efd_plain();
	struct host_held h0, h1;

	host_held(&h0);
	XT_EQ(irqfd(a, e, 4, 0, -1), 0);
	XT_EQ(irqfd(b, e, 4, 0, -1), 0);
	XT_EQ(host_user_eventfd_hangup(e), 2);
	fx_destroy(a); /* drops its irqfd, flushes its queued work */
	XT_EQ(host_user_work_run(), 1); /* b's */
	host_held(&h1);
	XT_ASSERT(h1.objects < h0.objects); /* a's whole VM went too */
	XT_EQ(irqfd(b, fx_eventfd(), 4, 0, -1), 0);
}

/* A hang-up before any work thread looks, then the VM's end: nothing left */
XT_TEST(irqfd, vm_end_flushes_the_hangup_work)
{
	struct fx *f = chip_vm();
	int e = efd_plain(), r = fx_eventfd();

	XT_EQ(irqfd(f, e, 5, RESAMPLE, r), 0);
	XT_EQ(efd_write(e), 1);
	XT_EQ(host_user_eventfd_hangup(e), 1);
	fx_destroy(f);
	XT_EQ(host_user_work_run(), 0);
}

/* The host's deferred work (host.h), as the irqfds use it. */
static void count_run(void *arg)
{
	(*(int *)arg)++;
}

XT_TEST(host_work, queue_flush_destroy)
{
	int runs = 0;
	struct host_work *w = host_work_create(count_run, &runs);

	XT_ASSERT(w);
	/* queued twice before it starts: one run */
	host_work_queue(w);
	host_work_queue(w);
	XT_EQ(runs, 0); /* nothing runs by itself */
	XT_EQ(host_user_work_run(), 1);
	XT_EQ(runs, 1);
	XT_EQ(host_user_work_run(), 0);
	/* a flush runs a queued item; an idle one returns at once */
	host_work_queue(w);
	host_work_flush(w);
	XT_EQ(runs, 2);
	host_work_flush(w);
	XT_EQ(runs, 2);
	/* destroy flushes first */
	host_work_queue(w);
	host_work_destroy(w);
	XT_EQ(runs, 3);
	XT_EQ(host_user_work_run(), 0);
}
