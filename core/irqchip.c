// SPDX-License-Identifier: GPL-2.0
/*
 * irqchip.c - the in-kernel irqchip: KVM_CREATE_IRQCHIP and its friends,
 * and the glue between the device models and the vCPUs.
 *
 * Theory.
 *
 * Wiring.  KVM_CREATE_IRQCHIP makes the PIC pair, the I/O APIC, the APIC
 * bus and the GSI router with Linux's default routes.  The router's sinks
 * are the PIC pins, the IOAPIC pins and MSI messages; the IOAPIC sends MSI
 * messages too, and every message is decoded (xk_apic_msi_decode) and put
 * on the APIC bus (xk_apic_deliver).  A level-triggered vector's EOI in a
 * local APIC comes back to the IOAPIC (the bus's EOI callback).  The PIC's
 * INTR output is wired to LINT0 of the BSP's local APIC (vCPU 0), which
 * kicks that vCPU; the vCPU then asks the PIC for the vector (INTA) when
 * its LAPIC accepts ExtINT (LVT0 in ExtINT mode, or the APIC disabled).
 * KVM_CREATE_PIT2 adds the PIT, whose channel 0 pulses GSI 0 with source
 * PIT from its hard-interrupt timer: the router and the models it calls
 * all take their locks with interrupts off (the PIC's _irqsoff path).
 *
 * vCPUs.  A vCPU created after KVM_CREATE_IRQCHIP gets a local APIC whose
 * kick wakes the vCPU thread if it sleeps (host_wait) and kicks it out of
 * the guest if it runs.  Before each entry the run loop calls
 * xk_irqchip_runnable(): the APIC's events are taken (NMI -> the NMI
 * queue, INIT -> reset and INIT_RECEIVED, SIPI -> real mode at the
 * vector's page), and a vCPU that is halted or waits for its SIPI sleeps
 * until something may make it runnable.  Then xk_irqchip_inject() acks the
 * highest interrupt (PIC first when ExtINT is accepted, else the LAPIC's)
 * into the same queue KVM_INTERRUPT uses (v->irq_pending), only when the
 * guest can take it at this very entry; otherwise it asks the backend for
 * the interrupt window (v->irq_window), whose exit brings us back here.
 *
 * Acknowledgements (Linux's ack notifiers).  A chip's acknowledgement of
 * a pin is reported per GSI, the GSI being the one the routing table maps
 * that chip's pin to (xk_irq_pin_gsi, Linux's chip map), to two
 * listeners: irqfd.c (xk_irqfd_acked: resampling irqfds lower their line
 * there and tell the VMM), for EOIs that end a level-triggered interrupt,
 * and the PIT (xk_pit_ack, lost-tick reinjection), for any acknowledgement
 * of GSI 0.  The IOAPIC reports from its EOI with its lock dropped
 * (ioapic_acked): level pins at the LAPIC's EOI of a level vector, edge
 * pins that sent a message at the EOI of an edge vector (the bus's edge
 * EOI callback, apic_edge_eoi).  The PIC reports under its lock, where
 * the router cannot be entered, so pic_eoi only records the pin in
 * c->pic_acked, and pic_acks_report() reports after each call into the
 * PIC that may have cleared an in-service bit (port writes and reads,
 * INTA), before the vCPU goes back to the guest.  Unmasking (Linux's mask
 * notifiers) takes the same two roads: an IOAPIC entry's mask bit cleared
 * by the guest (ioapic_unmasked, lock dropped) and a PIC IMR bit cleared
 * by OCW1 (recorded in c->pic_unmasked, reported by pic_acks_report());
 * an unmasked GSI 0 restarts the PIT's reinjection (xk_pit_unmasked).
 * KVM_REINJECT_CONTROL only switches the PIT's mode (xk_pit_set_reinject);
 * the reports always flow, and the PIT ignores them with reinject off.
 * Not as Linux: a PIC's ICW1 that drops a latched edge request does not
 * count as its acknowledgement (Linux's PIC reset reports one when a
 * vCPU takes PIC interrupts); a tick lost that way is recovered when IRQ0
 * is unmasked or channel 0 reprogrammed, or by an IOAPIC EOI of the same
 * pulse.
 *
 * Locks.  Everything that runs in the vCPU thread holds vcpu->lock; the
 * models have their own locks (see their headers).  The order, outermost
 * first: irqfd's rs_lock, the router's lock, then the IOAPIC's or the
 * PIC's (never both), then what deliveries touch (LAPIC atomics).  The
 * PIT's lock is a leaf: its timer callback drives the router with no PIT
 * lock held, and nothing is called under it but the host timer.  The
 * acknowledgement and unmask reports run in the vCPU thread with no model
 * lock held (the IOAPIC's and PIC's are dropped before), take the
 * router's lock for the GSI lookup and release it, then call xk_irqfd_acked
 * (rs_lock, then the router again) and xk_pit_ack (the PIT's lock only).
 * Objects live until
 * the VM dies: xk_irqchip_stop() first destroys the PIT (its timer is the
 * only asynchronous source into the router), then the vCPUs go (their
 * APIC timers with them), then xk_irqchip_destroy() frees the rest.
 */
#include "irqchip.h"
#include "lapic.h"
#include "pic.h"
#include "pit.h"
#include "ioapic.h"
#include "irq.h"
#include "irqfd.h"

static struct xk_irqchip *chip_of(struct xk_vm *vm)
{
	return __atomic_load_n(&vm->irqchip, __ATOMIC_ACQUIRE);
}

/* ---- wiring callbacks ---- */

static int chip_msi(void *opaque, u64 addr, u32 data)
{
	struct xk_irqchip *c = opaque;
	struct xk_apic_irq irq;

	if (xk_apic_msi_decode(c->vm->apic_bus, addr, data, &irq))
		return -1;
	return xk_apic_deliver(c->vm, &irq);
}

static int sink_pic(void *opaque, unsigned int pin, int level)
{
	struct xk_irqchip *c = opaque;

	/* the router's lock is held with interrupts off */
	return xk_pic_set_irq_irqsoff(c->pic, pin, level);
}

static int sink_ioapic(void *opaque, unsigned int pin, int level)
{
	struct xk_irqchip *c = opaque;

	return xk_ioapic_set_irq(c->ioapic, pin, level);
}

static void pic_intr(void *opaque, bool level)
{
	struct xk_irqchip *c = opaque;
	struct xk_vcpu *bsp = __atomic_load_n(&c->bsp, __ATOMIC_ACQUIRE);

	if (bsp && bsp->apic)
		xk_lapic_lint(bsp->apic, 0, level);
}

static void apic_eoi(void *arg, u8 vector)
{
	struct xk_irqchip *c = arg;

	if (c->ioapic)
		xk_ioapic_eoi(c->ioapic, vector);
}

static void apic_edge_eoi(void *arg, u8 vector)
{
	struct xk_irqchip *c = arg;

	if (c->ioapic)
		xk_ioapic_eoi_edge(c->ioapic, vector);
}

/* The PIT, if it was created (it goes first at the VM's end). */
static struct xk_pit *chip_pit(struct xk_irqchip *c)
{
	return __atomic_load_n(&c->pit, __ATOMIC_ACQUIRE);
}

/* An acknowledgement of the chip's pin reached gsi. */
static void gsi_acked(struct xk_irqchip *c, int gsi, bool level)
{
	struct xk_pit *pit;

	if (gsi < 0)
		return;
	if (level)
		xk_irqfd_acked(c->vm, (u32)gsi);
	pit = chip_pit(c);
	if (gsi == 0 && pit)
		xk_pit_ack(pit);
}

/* The IOAPIC's EOI of a pin (its lock dropped). */
static void ioapic_acked(void *opaque, unsigned int pin, bool level)
{
	struct xk_irqchip *c = opaque;

	if (!level && !chip_pit(c))
		return; /* nobody listens to edge EOIs */
	gsi_acked(c, xk_irq_pin_gsi(c->router, KVM_IRQCHIP_IOAPIC, pin), level);
}

static void gsi_unmasked(struct xk_irqchip *c, int gsi)
{
	struct xk_pit *pit = chip_pit(c);

	if (gsi == 0 && pit)
		xk_pit_unmasked(pit);
}

/* The guest cleared an IOAPIC entry's mask bit (lock dropped). */
static void ioapic_unmasked(void *opaque, unsigned int pin)
{
	struct xk_irqchip *c = opaque;

	if (chip_pit(c))
		gsi_unmasked(c, xk_irq_pin_gsi(c->router, KVM_IRQCHIP_IOAPIC,
					       pin));
}

/* Under the PIC's lock: recorded, reported by pic_acks_report(). */
static void pic_eoi(void *opaque, unsigned int irq)
{
	struct xk_irqchip *c = opaque;

	__atomic_fetch_or(&c->pic_acked, 1u << irq, __ATOMIC_ACQ_REL);
}

static void pic_unmask(void *opaque, unsigned int irq)
{
	struct xk_irqchip *c = opaque;

	__atomic_fetch_or(&c->pic_unmasked, 1u << irq, __ATOMIC_ACQ_REL);
}

/*
 * The PIC's acknowledgements, then its unmasks, since the last report.
 * As Linux's PIC, every EOI counts, whatever the pin's trigger mode.
 */
static void pic_acks_report(struct xk_irqchip *c)
{
	u32 pins = __atomic_exchange_n(&c->pic_acked, 0, __ATOMIC_ACQ_REL);
	unsigned int pin;

	for (pin = 0; pins; pin++, pins >>= 1)
		if (pins & 1)
			gsi_acked(c,
				  xk_irq_pin_gsi(c->router,
						 KVM_IRQCHIP_PIC_MASTER, pin),
				  true);
	pins = __atomic_exchange_n(&c->pic_unmasked, 0, __ATOMIC_ACQ_REL);
	for (pin = 0; pins; pin++, pins >>= 1)
		if (pins & 1)
			gsi_unmasked(c, xk_irq_pin_gsi(c->router,
						       KVM_IRQCHIP_PIC_MASTER,
						       pin));
}

static void pit_irq0(void *opaque, int level)
{
	struct xk_irqchip *c = opaque;

	xk_irq_set(c->router, 0, level, XK_IRQ_SRC_PIT);
}

static void chip_free(struct xk_irqchip *c)
{
	if (c->router)
		xk_irq_router_destroy(c->router);
	if (c->ioapic)
		xk_ioapic_destroy(c->ioapic);
	xk_pic_destroy(c->pic);
	host_free(c, sizeof(*c));
}

int xk_irqchip_create(struct xk_vm *vm)
{
	struct xk_irq_sinks sinks = { sink_pic, sink_ioapic, chip_msi, NULL };
	struct xk_pic_ops pops = { pic_intr, pic_eoi, pic_unmask, NULL };
	struct xk_apic_bus *bus = NULL;
	struct xk_irqchip *c;
	int r;

	host_mutex_lock(vm->lock);
	r = -EEXIST;
	if (vm->irqchip)
		goto out;
	r = -EINVAL;
	if (vm->nvcpus)
		goto out;
	r = -ENOMEM;
	c = host_zalloc(sizeof(*c));
	if (!c)
		goto out;
	c->vm = vm;
	sinks.opaque = c;
	pops.opaque = c;
	if (xk_pic_create(&pops, &c->pic))
		goto fail;
	c->ioapic = xk_ioapic_create(chip_msi, c);
	c->router = xk_irq_router_create(&sinks);
	if (!c->ioapic || !c->router)
		goto fail;
	xk_ioapic_set_ack(c->ioapic, ioapic_acked, ioapic_unmasked);
	r = xk_irq_default_routing(c->router);
	if (r)
		goto fail;
	r = xk_apic_bus_create(apic_eoi, c, &bus);
	if (r)
		goto fail;
	xk_apic_bus_set_edge_eoi(bus, apic_edge_eoi);
	__atomic_store_n(&vm->apic_bus, bus, __ATOMIC_RELEASE);
	__atomic_store_n(&vm->irqchip, c, __ATOMIC_RELEASE);
	r = 0;
	goto out;
fail:
	chip_free(c);
out:
	host_mutex_unlock(vm->lock);
	return r;
}

int xk_irqchip_stop(struct xk_vm *vm)
{
	struct xk_irqchip *c = vm->irqchip;
	struct xk_pit *pit;

	if (!c)
		return 0;
	pit = __atomic_exchange_n(&c->pit, NULL, __ATOMIC_ACQ_REL);
	xk_pit_destroy(pit);
	__atomic_store_n(&c->bsp, NULL, __ATOMIC_RELEASE);
	return 0;
}

void xk_irqchip_destroy(struct xk_vm *vm)
{
	struct xk_irqchip *c = vm->irqchip;

	if (!c)
		return;
	xk_irqchip_stop(vm);
	vm->irqchip = NULL;
	if (vm->apic_bus)
		xk_apic_bus_destroy(vm->apic_bus);
	vm->apic_bus = NULL;
	chip_free(c);
}

/* ---- VM ioctls ---- */

int xk_irqchip_irq_line(struct xk_vm *vm, u32 irq, u32 level, s32 *status)
{
	struct xk_irqchip *c = chip_of(vm);

	if (!c)
		return -ENXIO;
	*status = xk_irq_set(c->router, irq, level ? 1 : 0, XK_IRQ_SRC_USER);
	return 0;
}

int xk_irqchip_set_routing(struct xk_vm *vm, u64 uarg)
{
	struct xk_irqchip *c = chip_of(vm);
	struct kvm_irq_routing hdr;
	struct kvm_irq_routing_entry *e = NULL;
	size_t bytes;
	int r;

	if (!c)
		return -EINVAL; /* Linux: no irqchip, nothing to route */
	if (host_copy_from_user(&hdr, uarg, sizeof(hdr)))
		return -EFAULT;
	if (hdr.nr > XK_MAX_IRQ_ROUTES || hdr.flags)
		return -EINVAL;
	bytes = (size_t)hdr.nr * sizeof(*e);
	if (hdr.nr) {
		e = host_zalloc(bytes);
		if (!e)
			return -ENOMEM;
		if (host_copy_from_user(e, uarg + sizeof(hdr), bytes)) {
			host_free(e, bytes);
			return -EFAULT;
		}
	}
	r = xk_irq_set_routing(c->router, e, hdr.nr, hdr.flags);
	if (e)
		host_free(e, bytes);
	return r;
}

int xk_irqchip_get(struct xk_vm *vm, struct kvm_irqchip *k)
{
	struct xk_irqchip *c = chip_of(vm);

	if (!c)
		return -ENXIO;
	switch (k->chip_id) {
	case KVM_IRQCHIP_PIC_MASTER:
	case KVM_IRQCHIP_PIC_SLAVE:
		return xk_pic_get_state(c->pic, k->chip_id, &k->chip.pic);
	case KVM_IRQCHIP_IOAPIC:
		xk_ioapic_get_state(c->ioapic, &k->chip.ioapic);
		return 0;
	default:
		return -EINVAL;
	}
}

int xk_irqchip_set(struct xk_vm *vm, const struct kvm_irqchip *k)
{
	struct xk_irqchip *c = chip_of(vm);

	if (!c)
		return -ENXIO;
	switch (k->chip_id) {
	case KVM_IRQCHIP_PIC_MASTER:
	case KVM_IRQCHIP_PIC_SLAVE:
		return xk_pic_set_state(c->pic, k->chip_id, &k->chip.pic);
	case KVM_IRQCHIP_IOAPIC:
		xk_ioapic_set_state(c->ioapic, &k->chip.ioapic);
		return 0;
	default:
		return -EINVAL;
	}
}

/*
 * KVM_SIGNAL_MSI: >0 delivered; -1 (EPERM) when nothing took it.  Linux
 * answers 0 instead when an APIC matched but did not accept (software
 * disabled): the bus does not tell the two apart yet.
 */
int xk_irqchip_signal_msi(struct xk_vm *vm, const struct kvm_msi *m)
{
	struct xk_irqchip *c = chip_of(vm);
	struct xk_apic_irq irq;
	int n;

	if (m->flags & ~KVM_MSI_VALID_DEVID)
		return -EINVAL;
	if (!c)
		return -EPERM;
	if (xk_apic_msi_decode(vm->apic_bus,
			       ((u64)m->address_hi << 32) | m->address_lo,
			       m->data, &irq))
		return -EPERM;
	n = xk_apic_deliver(vm, &irq);
	return n > 0 ? n : -EPERM;
}

int xk_irqchip_create_pit(struct xk_vm *vm, u32 flags)
{
	struct xk_irqchip *c;
	struct xk_pit_ops ops = { pit_irq0, NULL };
	struct xk_pit *pit;
	int r;

	host_mutex_lock(vm->lock);
	c = vm->irqchip;
	r = -EEXIST;
	if (c && c->pit)
		goto out;
	r = -ENOENT; /* as Linux since 6.9: no PIC to take IRQ0 */
	if (!c)
		goto out;
	ops.opaque = c;
	r = xk_pit_create(flags, &ops, &pit);
	if (r)
		goto out;
	__atomic_store_n(&c->pit, pit, __ATOMIC_RELEASE); /* reinject on */
out:
	host_mutex_unlock(vm->lock);
	return r;
}

static struct xk_pit *pit_of(struct xk_vm *vm)
{
	struct xk_irqchip *c = chip_of(vm);

	return c ? __atomic_load_n(&c->pit, __ATOMIC_ACQUIRE) : NULL;
}

int xk_irqchip_get_pit2(struct xk_vm *vm, struct kvm_pit_state2 *s)
{
	struct xk_pit *pit = pit_of(vm);

	if (!pit)
		return -ENXIO;
	xk_pit_get_state(pit, s);
	return 0;
}

int xk_irqchip_set_pit2(struct xk_vm *vm, const struct kvm_pit_state2 *s)
{
	struct xk_pit *pit = pit_of(vm);

	if (!pit)
		return -ENXIO;
	xk_pit_set_state(pit, s);
	return 0;
}

int xk_irqchip_get_pit(struct xk_vm *vm, struct kvm_pit_state *s)
{
	struct xk_pit *pit = pit_of(vm);
	struct kvm_pit_state2 s2;

	if (!pit)
		return -ENXIO;
	xk_pit_get_state(pit, &s2);
	xk_memcpy(s->channels, s2.channels, sizeof(s->channels));
	return 0;
}

int xk_irqchip_set_pit(struct xk_vm *vm, const struct kvm_pit_state *s)
{
	struct xk_pit *pit = pit_of(vm);
	struct kvm_pit_state2 s2;

	if (!pit)
		return -ENXIO;
	xk_pit_get_state(pit, &s2);
	xk_memcpy(s2.channels, s->channels, sizeof(s->channels));
	xk_pit_set_state(pit, &s2);
	return 0;
}

/*
 * KVM_REINJECT_CONTROL: the PIT's lost-tick policy (pit.c), as Linux:
 * ENXIO without a PIT, any non-zero pit_reinject is on, the reserved
 * bytes are not looked at.
 */
int xk_irqchip_reinject(struct xk_vm *vm, u64 uarg)
{
	struct kvm_reinject_control rc;
	struct xk_pit *pit;

	if (host_copy_from_user(&rc, uarg, sizeof(rc)))
		return -EFAULT;
	pit = pit_of(vm);
	if (!pit)
		return -ENXIO;
	xk_pit_set_reinject(pit, rc.pit_reinject != 0);
	return 0;
}

/* ---- vCPUs ---- */

static void vcpu_apic_kick(void *arg)
{
	struct xk_vcpu *v = arg;

	host_wait_wake(v->wait);
	xk_vcpu_kick(v, XK_REQ_KICK);
}

/* vm->lock held, at vCPU creation, before the vCPU is on the list. */
int xk_irqchip_vcpu_init(struct xk_vcpu *v)
{
	struct xk_irqchip *c = v->vm->irqchip;
	int r;

	v->mp_state = KVM_MP_STATE_RUNNABLE;
	if (!c)
		return 0;
	v->wait = host_wait_create();
	if (!v->wait)
		return -ENOMEM;
	r = xk_lapic_create(v->vm->apic_bus, v->id, v->id == 0, vcpu_apic_kick,
			    v, &v->apic);
	if (r) {
		host_wait_destroy(v->wait);
		v->wait = NULL;
		return r;
	}
	v->apic_base = xk_lapic_get_base(v->apic);
	if (v->id != 0)
		v->mp_state = KVM_MP_STATE_UNINITIALIZED;
	else
		__atomic_store_n(&c->bsp, v, __ATOMIC_RELEASE);
	return 0;
}

void xk_irqchip_vcpu_free(struct xk_vcpu *v)
{
	xk_lapic_destroy(v->apic);
	v->apic = NULL;
	if (v->wait)
		host_wait_destroy(v->wait);
	v->wait = NULL;
}

/* The guest TSC as the LAPIC's TSC-deadline timer computes it. */
static void sync_tsc(struct xk_vcpu *v)
{
	u32 khz = host_tsc_khz();
	u64 tsc = 0, ns;

	if (!khz || xk_ops->get_msr(v, XK_MSR_IA32_TSC, &tsc))
		return;
	ns = host_time_ns();
	xk_lapic_set_tsc(v->apic, khz, (s64)(tsc - xk_ns_to_tsc(ns, khz)));
}

/* ---- exits ---- */

bool xk_irqchip_pio(struct xk_vcpu *v, u16 port, u8 size, bool in, u32 *val)
{
	struct xk_irqchip *c = chip_of(v->vm);
	struct xk_pit *pit;

	if (!c)
		return false;
	if (xk_pic_port(port)) {
		if (in)
			xk_pic_read(c->pic, port, size, val);
		else
			xk_pic_write(c->pic, port, size, *val);
		pic_acks_report(c); /* an EOI, or a poll's auto-EOI */
		return true;
	}
	pit = __atomic_load_n(&c->pit, __ATOMIC_ACQUIRE);
	if (pit && xk_pit_port(pit, port)) {
		if (in)
			xk_pit_read(pit, port, size, val);
		else
			xk_pit_write(pit, port, size, *val);
		return true;
	}
	return false;
}

bool xk_irqchip_mmio(struct xk_vcpu *v, u64 gpa, void *buf, u32 len, bool write)
{
	struct xk_irqchip *c = chip_of(v->vm);

	if (!c)
		return false;
	if (v->apic && xk_lapic_mmio_decodes(v->apic, gpa)) {
		u32 off = (u32)(gpa & 0xfff);

		if (write) {
			xk_lapic_mmio_write(v->apic, off, buf, len);
		} else {
			xk_memset(buf, 0, len);
			xk_lapic_mmio_read(v->apic, off, buf, len);
		}
		return true;
	}
	if (xk_ioapic_in_range(c->ioapic, gpa)) {
		u64 off = gpa - c->ioapic->base;

		if (write) {
			xk_ioapic_mmio_write(c->ioapic, off, buf, len);
		} else {
			xk_memset(buf, 0, len);
			xk_ioapic_mmio_read(c->ioapic, off, buf, len);
		}
		return true;
	}
	return false;
}

int xk_irqchip_get_msr(struct xk_vcpu *v, u32 msr, u64 *val)
{
	if (!v->apic)
		return -ENOENT;
	if (msr == XK_MSR_IA32_APICBASE) {
		*val = xk_lapic_get_base(v->apic);
		return 0;
	}
	if (msr == XK_MSR_TSC_DEADLINE) {
		*val = xk_lapic_get_tsc_deadline(v->apic);
		return 0;
	}
	if (msr >= XK_MSR_X2APIC_FIRST && msr <= XK_MSR_X2APIC_LAST)
		return xk_lapic_msr_read(v->apic, msr, val) ? -EINVAL : 0;
	return -ENOENT;
}

int xk_irqchip_set_msr(struct xk_vcpu *v, u32 msr, u64 val, bool host)
{
	if (!v->apic)
		return -ENOENT;
	if (msr == XK_MSR_IA32_APICBASE) {
		if (xk_lapic_set_base(v->apic, val, host))
			return -EINVAL;
		v->apic_base = xk_lapic_get_base(v->apic);
		return 0;
	}
	if (msr == XK_MSR_TSC_DEADLINE) {
		sync_tsc(v);
		xk_lapic_set_tsc_deadline(v->apic, val);
		return 0;
	}
	if (msr >= XK_MSR_X2APIC_FIRST && msr <= XK_MSR_X2APIC_LAST)
		return xk_lapic_msr_write(v->apic, msr, val) ? -EINVAL : 0;
	return -ENOENT;
}

/* ---- the run loop ---- */

static bool extint_ready(struct xk_vcpu *v, struct xk_irqchip *c)
{
	return xk_lapic_accepts_pic(v->apic) && xk_pic_has_interrupt(c->pic);
}

/* Something that ends a HLT: an interrupt the guest takes, an NMI. */
static bool halt_wakes(struct xk_vcpu *v)
{
	struct xk_irqchip *c = chip_of(v->vm);

	if (v->nmi_pending || xk_lapic_has_events(v->apic))
		return true;
	if (!(v->rflags & XK_RFLAGS_IF))
		return false;
	return v->irq_pending || xk_lapic_pending(v->apic) >= 0 ||
	       extint_ready(v, c);
}

static bool vcpu_ready(void *arg)
{
	struct xk_vcpu *v = arg;

	if (xk_lapic_has_events(v->apic))
		return true;
	return v->mp_state == KVM_MP_STATE_HALTED && halt_wakes(v);
}

static void sipi_start(struct xk_vcpu *v, u8 vector)
{
	struct kvm_sregs s;

	xk_ops->get_sregs(v, &s);
	s.cs.selector = (u16)(vector << 8);
	s.cs.base = (u64)vector << 12;
	xk_ops->set_sregs(v, &s);
	v->rip = 0;
}

static void accept_events(struct xk_vcpu *v)
{
	struct xk_lapic_events ev;

	xk_lapic_take_events(v->apic, &ev);
	if (ev.nmis) {
		u32 n = v->nmi_pending + ev.nmis;

		v->nmi_pending = (u8)XK_MIN(n, 2u);
	}
	if (ev.init) {
		bool bsp = v->apic_base & XK_APICBASE_BSP;

		xk_vcpu_init_reset(v);
		xk_lapic_reset(v->apic, true, bsp);
		v->mp_state = bsp ? KVM_MP_STATE_RUNNABLE :
				    KVM_MP_STATE_INIT_RECEIVED;
	}
	if (ev.sipi && v->mp_state == KVM_MP_STATE_INIT_RECEIVED) {
		sipi_start(v, ev.sipi_vector);
		v->mp_state = KVM_MP_STATE_RUNNABLE;
	}
}

int xk_irqchip_runnable(struct xk_vcpu *v)
{
	if (!v->apic)
		return 1;
	accept_events(v);
	while (v->mp_state != KVM_MP_STATE_RUNNABLE) {
		if (v->mp_state == KVM_MP_STATE_HALTED && halt_wakes(v)) {
			v->mp_state = KVM_MP_STATE_RUNNABLE;
			v->stats.halt_wakeup++;
			break;
		}
		if (host_wait_event(v->wait, vcpu_ready, v)) {
			v->run->exit_reason = KVM_EXIT_INTR;
			v->stats.signal_exits++;
			return -EINTR;
		}
		accept_events(v);
	}
	return 1;
}

static bool has_events(void *arg)
{
	struct xk_vcpu *v = arg;

	return xk_lapic_has_events(v->apic);
}

int xk_irqchip_wait_uninit(struct xk_vcpu *v)
{
	if (host_wait_event(v->wait, has_events, v)) {
		v->run->exit_reason = KVM_EXIT_INTR;
		v->stats.signal_exits++;
		return -EINTR;
	}
	accept_events(v);
	if (host_signal_pending()) {
		v->run->exit_reason = KVM_EXIT_INTR;
		v->stats.signal_exits++;
		return -EINTR;
	}
	return -EAGAIN;
}

int xk_irqchip_hlt(struct xk_vcpu *v)
{
	if (!halt_wakes(v))
		v->mp_state = KVM_MP_STATE_HALTED;
	return 1;
}

void xk_irqchip_inject(struct xk_vcpu *v)
{
	struct xk_irqchip *c;
	bool ext;
	int vec;

	v->irq_window = false;
	if (!v->apic)
		return;
	c = chip_of(v->vm);
	v->cr8 = xk_lapic_get_cr8(v->apic);
	if (v->irq_pending)
		return; /* acked, offered again until the guest takes it */
	ext = extint_ready(v, c);
	if (!ext && xk_lapic_pending(v->apic) < 0)
		return;
	if (!xk_ops->interrupt_allowed(v) ||
	    (v->nmi_pending && !v->nmi_masked)) {
		v->irq_window = true;
		return;
	}
	vec = ext ? xk_pic_ack(c->pic) : xk_lapic_ack(v->apic);
	if (ext)
		pic_acks_report(c); /* auto-EOI */
	if (vec < 0)
		return;
	v->irq_pending = true;
	v->irq_vector = (u8)vec; /* counted when the guest takes it (svm) */
}

void xk_irqchip_after_exit(struct xk_vcpu *v)
{
	if (v->apic && xk_lapic_get_cr8(v->apic) != v->cr8)
		xk_lapic_set_cr8(v->apic, v->cr8);
}

/* ---- vCPU ioctls ---- */

int xk_irqchip_get_mp_state(struct xk_vcpu *v, struct kvm_mp_state *mp)
{
	if (v->apic)
		accept_events(v);
	mp->mp_state = v->mp_state;
	return 0;
}

int xk_irqchip_set_mp_state(struct xk_vcpu *v, const struct kvm_mp_state *mp)
{
	if (!v->apic)
		return mp->mp_state == KVM_MP_STATE_RUNNABLE ? 0 : -EINVAL;
	switch (mp->mp_state) {
	case KVM_MP_STATE_RUNNABLE:
	case KVM_MP_STATE_UNINITIALIZED:
	case KVM_MP_STATE_INIT_RECEIVED:
	case KVM_MP_STATE_HALTED:
		v->mp_state = mp->mp_state;
		return 0;
	case KVM_MP_STATE_SIPI_RECEIVED:
		/* as Linux: waits for its SIPI again */
		v->mp_state = KVM_MP_STATE_INIT_RECEIVED;
		return 0;
	default:
		return -EINVAL;
	}
}

int xk_irqchip_get_lapic(struct xk_vcpu *v, struct kvm_lapic_state *s)
{
	if (!v->apic)
		return -EINVAL;
	xk_lapic_get_state(v->apic, s);
	return 0;
}

int xk_irqchip_set_lapic(struct xk_vcpu *v, const struct kvm_lapic_state *s)
{
	int r;

	if (!v->apic)
		return -EINVAL;
	r = xk_lapic_set_state(v->apic, s);
	if (!r)
		v->cr8 = xk_lapic_get_cr8(v->apic);
	return r;
}

void xk_irqchip_cpuid_changed(struct xk_vcpu *v)
{
	if (!v->apic)
		return;
	xk_lapic_set_features(
		v->apic, xk_guest_cpuid_has(v, 1, 2, 1u << 21), /* x2APIC */
		xk_guest_cpuid_has(v, 1, 2, 1u << 24));         /* TSC-DL */
	sync_tsc(v);
}
