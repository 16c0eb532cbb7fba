// SPDX-License-Identifier: GPL-2.0
/*
 * test_irqchip.c - the in-kernel irqchip glue (core/irqchip.c) on the fake
 * backend: the VM ioctls' errnos without and with KVM_CREATE_IRQCHIP, the
 * LAPIC given to vCPUs created after it, the IOAPIC reached by MMIO and
 * KVM_IRQ_LINE_STATUS into the LAPIC's pending vector and the injection
 * step, the PIC's ports, INIT/SIPI and MP_STATE, nothing held after
 * the VM is gone, and the PIT's lost-tick reinjection end to end
 * (KVM_REINJECT_CONTROL; acknowledgements by the PIC's EOI and by the
 * IOAPIC's edge EOI through QEMU's routes; the IOAPIC unmask restart).
 */
#include <string.h>

#include "fx.h"
#include "irqchip.h"
#include "lapic.h"
#include "pit.h"

static long vm_ioctl(struct xk_vm *vm, unsigned int cmd, const void *arg)
{
	return xk_vm_ioctl(vm, cmd, (u64)(uintptr_t)arg);
}

static long vcpu_ioctl(struct xk_vcpu *v, unsigned int cmd, const void *arg)
{
	return xk_vcpu_ioctl(v, cmd, (u64)(uintptr_t)arg);
}

XT_TEST(irqchip, errnos_without_and_with)
{
	struct fx *f = fx_new_vm();
	struct kvm_irq_level il = { .irq = 4, .level = 1 };
	struct kvm_irqchip chip;
	struct kvm_irq_routing rt = { 0 };
	struct kvm_pit_config pc = { 0 };
	struct kvm_pit_state2 ps;
	struct xk_vcpu *v = NULL;

	memset(&chip, 0, sizeof(chip));
	XT_EQ(vm_ioctl(f->vm, KVM_IRQ_LINE, &il), -ENXIO);
	XT_EQ(vm_ioctl(f->vm, KVM_GET_IRQCHIP, &chip), -ENXIO);
	XT_EQ(vm_ioctl(f->vm, KVM_SET_IRQCHIP, &chip), -ENXIO);
	XT_EQ(vm_ioctl(f->vm, KVM_SET_GSI_ROUTING, &rt), -EINVAL);
	XT_EQ(vm_ioctl(f->vm, KVM_CREATE_PIT2, &pc), -ENOENT);
	XT_EQ(vm_ioctl(f->vm, KVM_GET_PIT2, &ps), -ENXIO);
	XT_EQ(vm_ioctl(f->vm, KVM_CREATE_IRQCHIP, NULL), 0);
	XT_EQ(vm_ioctl(f->vm, KVM_CREATE_IRQCHIP, NULL), -EEXIST);
	XT_EQ(vm_ioctl(f->vm, KVM_SET_GSI_ROUTING, &rt), 0);
	chip.chip_id = 3;
	XT_EQ(vm_ioctl(f->vm, KVM_GET_IRQCHIP, &chip), -EINVAL);
	chip.chip_id = KVM_IRQCHIP_IOAPIC;
	XT_EQ(vm_ioctl(f->vm, KVM_GET_IRQCHIP, &chip), 0);
	XT_EQ(chip.chip.ioapic.base_address, 0xfec00000);
	pc.flags = 4;
	XT_EQ(vm_ioctl(f->vm, KVM_CREATE_PIT2, &pc), -EINVAL);
	pc.flags = 0;
	XT_EQ(vm_ioctl(f->vm, KVM_CREATE_PIT2, &pc), 0);
	XT_EQ(vm_ioctl(f->vm, KVM_CREATE_PIT2, &pc), -EEXIST);
	XT_EQ(vm_ioctl(f->vm, KVM_GET_PIT2, &ps), 0);
	XT_EQ(xk_vcpu_create(f->vm, 0, &v), 0);
	XT_ASSERT(v->apic != NULL);
}

XT_TEST(irqchip, create_after_vcpu_is_einval)
{
	struct fx *f = fx_new();

	XT_EQ(fx_vm_ioctl(f, KVM_CREATE_IRQCHIP, NULL), -EINVAL);
	XT_ASSERT(f->v->apic == NULL);
	/* no LAPIC: GET_LAPIC is EINVAL, MP_STATE only RUNNABLE */
	{
		struct kvm_lapic_state ls;
		struct kvm_mp_state mp = { KVM_MP_STATE_HALTED };

		XT_EQ(fx_vcpu_ioctl(f, KVM_GET_LAPIC, &ls), -EINVAL);
		XT_EQ(fx_vcpu_ioctl(f, KVM_SET_MP_STATE, &mp), -EINVAL);
	}
}

/* MMIO as the exit handlers do it */
static void mmio_w(struct xk_vcpu *v, u64 gpa, u32 val)
{
	XT_ASSERT(xk_irqchip_mmio(v, gpa, &val, 4, true));
}

static u32 mmio_r(struct xk_vcpu *v, u64 gpa)
{
	u32 val = 0;

	XT_ASSERT(xk_irqchip_mmio(v, gpa, &val, 4, false));
	return val;
}

XT_TEST(irqchip, ioapic_line_to_lapic_and_injection)
{
	struct fx *f;
	struct xk_vcpu *v = NULL;
	struct kvm_irq_level il = { .irq = 4, .level = 1 };
	struct host_held h0, h1;
	u32 val;

	fake_install();
	host_held(&h0);
	f = fx_new_vm();
	XT_EQ(vm_ioctl(f->vm, KVM_CREATE_IRQCHIP, NULL), 0);
	XT_EQ(xk_vcpu_create(f->vm, 0, &v), 0);
	XT_EQ(v->mp_state, KVM_MP_STATE_RUNNABLE);
	/* the PIC masked through its ports */
	val = 0xff;
	XT_ASSERT(xk_irqchip_pio(v, 0x21, 1, false, &val));
	val = 0;
	XT_ASSERT(xk_irqchip_pio(v, 0x21, 1, true, &val));
	XT_EQ(val, 0xff);
	XT_ASSERT(!xk_irqchip_pio(v, 0x40, 1, true, &val)); /* no PIT */
	/* the APIC on, pin 4 -> vector 0x40, physical 0 */
	mmio_w(v, 0xfee000f0, 0x1ff);
	mmio_w(v, 0xfec00000, 0x11);
	mmio_w(v, 0xfec00010, 0);
	mmio_w(v, 0xfec00000, 0x18);
	mmio_w(v, 0xfec00010, 0x40);
	mmio_w(v, 0xfec00000, 0x01);
	XT_EQ(mmio_r(v, 0xfec00010), 0x170011);
	XT_EQ(vm_ioctl(f->vm, KVM_IRQ_LINE_STATUS, &il), 0);
	XT_EQ(il.status, 1);
	XT_EQ(xk_lapic_pending(v->apic), 0x40);
	/* IF=0: the window, not the vector */
	v->rflags = XK_RFLAGS_FIXED;
	xk_irqchip_inject(v);
	XT_ASSERT(v->irq_window);
	XT_ASSERT(!v->irq_pending);
	v->rflags |= XK_RFLAGS_IF;
	xk_irqchip_inject(v);
	XT_ASSERT(!v->irq_window);
	XT_ASSERT(v->irq_pending);
	XT_EQ(v->irq_vector, 0x40);
	XT_EQ(xk_lapic_pending(v->apic), -1);
	/* HLT with nothing pending: halted; a new edge wakes it */
	v->irq_pending = false;
	mmio_w(v, 0xfee000b0, 0); /* EOI */
	XT_EQ(xk_irqchip_hlt(v), 1);
	XT_EQ(v->mp_state, KVM_MP_STATE_HALTED);
	il.irq = 4; /* status shares the union with irq */
	il.level = 0;
	XT_EQ(vm_ioctl(f->vm, KVM_IRQ_LINE_STATUS, &il), 0);
	il.irq = 4;
	il.level = 1;
	XT_EQ(vm_ioctl(f->vm, KVM_IRQ_LINE_STATUS, &il), 0);
	XT_EQ(il.status, 1);
	XT_EQ(xk_lapic_pending(v->apic), 0x40);
	XT_EQ(xk_irqchip_runnable(v), 1);
	XT_EQ(v->mp_state, KVM_MP_STATE_RUNNABLE);
	fx_destroy(f);
	host_held(&h1);
	/* the VM, its irqchip, APIC, timers: all given back */
	XT_EQ(h1.objects, h0.objects);
	XT_EQ(h1.pages, h0.pages);
}

/* KVM_IRQ_LINE_STATUS of a GSI below 16: its PIC and I/O APIC answers. */
static int line_status(struct xk_vm *vm, u32 irq, u32 level)
{
	struct kvm_irq_level il = { .irq = irq, .level = level };

	XT_EQ(vm_ioctl(vm, KVM_IRQ_LINE_STATUS, &il), 0);
	return il.status;
}

static void pic_out(struct xk_vcpu *v, u16 port, u32 val)
{
	XT_ASSERT(xk_irqchip_pio(v, port, 1, false, &val));
}

XT_TEST(irqchip, pic_line_status_is_linux_sum)
{
	struct fx *f = fx_new_vm();
	struct xk_vcpu *v = NULL;
	static const u8 init[][2] = {
		{ 0x20, 0x11 }, { 0x21, 0x20 }, { 0x21, 0x04 }, { 0x21, 0x01 },
		{ 0xa0, 0x11 }, { 0xa1, 0x28 }, { 0xa1, 0x02 }, { 0xa1, 0x01 },
		{ 0x21, 0xf3 }, { 0xa1, 0xfb },
	};
	size_t i;

	XT_EQ(vm_ioctl(f->vm, KVM_CREATE_IRQCHIP, NULL), 0);
	XT_EQ(xk_vcpu_create(f->vm, 0, &v), 0);
	for (i = 0; i < sizeof(init) / sizeof(init[0]); i++)
		pic_out(v, init[i][0], init[i][1]);
	/*
	 * IRQ 3 open on the PIC, its I/O APIC pin masked (reset): Linux 6.1
	 * sums the non-negative answers, the PIC's 1 for anything but a
	 * masked pin or a coalesced request, the I/O APIC's -1 for a masked
	 * new edge, 0 while its IRR is set, 1 for a line going low.
	 */
	XT_EQ(line_status(f->vm, 3, 1), 1);
	XT_EQ(line_status(f->vm, 3, 1), 1); /* no edge: PIC 1, I/O APIC 0 */
	XT_EQ(line_status(f->vm, 3, 0), 2);
	XT_EQ(line_status(f->vm, 3, 1), 0); /* still in IRR: coalesced */
	XT_EQ(line_status(f->vm, 3, 0), 2);
	/* level IRQ 10 on the slave */
	pic_out(v, 0x4d1, 0x04);
	XT_EQ(line_status(f->vm, 10, 1), 1);
	XT_EQ(line_status(f->vm, 10, 1), 0);
	XT_EQ(line_status(f->vm, 10, 0), 2);
	/* masked on the PIC: -1 up, the I/O APIC's 1 down */
	pic_out(v, 0x21, 0xfb);
	XT_EQ(line_status(f->vm, 3, 1), -1);
	XT_EQ(line_status(f->vm, 3, 0), 1);
	fx_destroy(f);
}

XT_TEST(irqchip, init_sipi_mp_state)
{
	struct fx *f = fx_new_vm();
	struct xk_vcpu *bsp = NULL, *ap = NULL;
	struct kvm_mp_state mp;
	struct kvm_sregs s;

	XT_EQ(vm_ioctl(f->vm, KVM_CREATE_IRQCHIP, NULL), 0);
	XT_EQ(xk_vcpu_create(f->vm, 0, &bsp), 0);
	XT_EQ(xk_vcpu_create(f->vm, 1, &ap), 0);
	XT_EQ(vcpu_ioctl(ap, KVM_GET_MP_STATE, &mp), 0);
	XT_EQ(mp.mp_state, KVM_MP_STATE_UNINITIALIZED);
	XT_EQ(vcpu_ioctl(bsp, KVM_GET_MP_STATE, &mp), 0);
	XT_EQ(mp.mp_state, KVM_MP_STATE_RUNNABLE);
	/* INIT, then SIPI vector 0x9a, from the BSP's ICR */
	mmio_w(bsp, 0xfee000f0, 0x1ff);
	mmio_w(bsp, 0xfee00310, 1u << 24);
	mmio_w(bsp, 0xfee00300, 0x4500);
	XT_EQ(vcpu_ioctl(ap, KVM_GET_MP_STATE, &mp), 0);
	XT_EQ(mp.mp_state, KVM_MP_STATE_INIT_RECEIVED);
	mmio_w(bsp, 0xfee00300, 0x469a);
	XT_EQ(xk_irqchip_runnable(ap), 1);
	XT_EQ(ap->mp_state, KVM_MP_STATE_RUNNABLE);
	xk_ops->get_sregs(ap, &s);
	XT_EQ(s.cs.selector, 0x9a00);
	XT_EQ(s.cs.base, 0x9a000);
	XT_EQ(ap->rip, 0);
	/* a second SIPI to a running AP is dropped */
	mmio_w(bsp, 0xfee00300, 0x4611);
	XT_EQ(xk_irqchip_runnable(ap), 1);
	xk_ops->get_sregs(ap, &s);
	XT_EQ(s.cs.selector, 0x9a00);
	/* SET_MP_STATE values */
	mp.mp_state = KVM_MP_STATE_STOPPED;
	XT_EQ(vcpu_ioctl(ap, KVM_SET_MP_STATE, &mp), -EINVAL);
	mp.mp_state = KVM_MP_STATE_HALTED;
	XT_EQ(vcpu_ioctl(ap, KVM_SET_MP_STATE, &mp), 0);
	XT_EQ(vcpu_ioctl(ap, KVM_GET_MP_STATE, &mp), 0);
	XT_EQ(mp.mp_state, KVM_MP_STATE_HALTED);
}

/* KVM_SET_IRQCHIP is numbered _IOR, yet its data goes in (and not out) */
XT_TEST(irqchip, set_irqchip_takes_its_argument)
{
	struct fx *f = fx_new_vm();
	struct kvm_irqchip a, b;

	XT_EQ(vm_ioctl(f->vm, KVM_CREATE_IRQCHIP, NULL), 0);
	memset(&a, 0, sizeof(a));
	a.chip_id = KVM_IRQCHIP_IOAPIC;
	XT_EQ(vm_ioctl(f->vm, KVM_GET_IRQCHIP, &a), 0);
	a.chip.ioapic.id = 5;
	a.chip.ioapic.redirtbl[3].bits = 0x8033;
	b = a;
	XT_EQ(vm_ioctl(f->vm, KVM_SET_IRQCHIP, &a), 0);
	XT_ASSERT(!memcmp(&a, &b, sizeof(a))); /* not written back */
	memset(&a, 0, sizeof(a));
	a.chip_id = KVM_IRQCHIP_IOAPIC;
	XT_EQ(vm_ioctl(f->vm, KVM_GET_IRQCHIP, &a), 0);
	XT_EQ(a.chip.ioapic.id, 5);
	XT_EQ(a.chip.ioapic.redirtbl[3].bits, 0x8033);
}

/* ---- the PIT's lost-tick reinjection, end to end ---- */

#define T0 1000000000000ull
#define MS 1000000ull

static void clock_real(void *arg)
{
	(void)arg;
	host_user_clock_real();
}

static void pio_w(struct xk_vcpu *v, u16 port, u32 val)
{
	XT_ASSERT(xk_irqchip_pio(v, port, 1, false, &val));
}

static u32 pio_r(struct xk_vcpu *v, u16 port)
{
	u32 val = 0;

	XT_ASSERT(xk_irqchip_pio(v, port, 1, true, &val));
	return val;
}

/* A VM with the irqchip, vCPU 0, the PIT, on the stopped clock at T0. */
static struct fx *pit_vm(struct xk_vcpu **v)
{
	struct fx *f = fx_new_vm();
	struct kvm_pit_config pc = { 0 };

	host_user_clock_set(T0);
	xt_cleanup(clock_real, NULL);
	XT_EQ(vm_ioctl(f->vm, KVM_CREATE_IRQCHIP, NULL), 0);
	XT_EQ(xk_vcpu_create(f->vm, 0, v), 0);
	XT_EQ(vm_ioctl(f->vm, KVM_CREATE_PIT2, &pc), 0);
	(*v)->rflags = XK_RFLAGS_FIXED | XK_RFLAGS_IF;
	return f;
}

static struct xk_pit *vm_pit(struct fx *f)
{
	return f->vm->irqchip->pit;
}

/* Channel 0, mode 2, 11932 clocks (10.0001 ms), by the guest's ports. */
static void pit_10ms(struct xk_vcpu *v)
{
	pio_w(v, 0x43, 0x34);
	pio_w(v, 0x40, 11932 & 0xff);
	pio_w(v, 0x40, 11932 >> 8);
}

/* The master PIC as SeaBIOS leaves it: vectors 8-15, IRQ0 open. */
static void pic_irq0_open(struct xk_vcpu *v)
{
	pio_w(v, 0x20, 0x11);
	pio_w(v, 0x21, 0x08);
	pio_w(v, 0x21, 0x04);
	pio_w(v, 0x21, 0x01);
	pio_w(v, 0x21, 0xfe);
}

static u8 pic_irr(struct xk_vcpu *v)
{
	pio_w(v, 0x20, 0x0a); /* OCW3: read IRR */
	return (u8)pio_r(v, 0x20);
}

/* The injection step; the guest takes the vector at once. */
static int take(struct xk_vcpu *v)
{
	xk_irqchip_inject(v);
	if (!v->irq_pending)
		return -1;
	v->irq_pending = false;
	return v->irq_vector;
}

XT_TEST(irqchip, pit_reinject_acked_by_pic_eoi)
{
	struct xk_vcpu *v = NULL;
	struct fx *f = pit_vm(&v);
	struct xk_pit *pit = vm_pit(f);
	u64 delivered, skipped;
	unsigned int i;

	pic_irq0_open(v);
	pit_10ms(v);
	XT_EQ(host_user_clock_advance(11 * MS), 1);
	XT_EQ(take(v), 0x08);
	pio_w(v, 0x20, 0x20); /* EOI */
	XT_EQ(xk_pit_pending(pit), 0);
	/* the host stalls through ten expiries */
	host_user_clock_set(T0 + 115 * MS);
	XT_EQ(host_user_clock_advance(0), 1);
	XT_EQ(xk_pit_pending(pit), 10);
	XT_EQ(take(v), 0x08);
	for (i = 1; i < 10; i++) {
		xt_ctx("tick %u", i);
		/* nothing before the guest's EOI */
		XT_EQ(host_user_clock_advance(0), 0);
		XT_EQ(pic_irr(v) & 1, 0);
		XT_EQ(take(v), -1);
		pio_w(v, 0x20, 0x20);
		XT_EQ(host_user_clock_advance(0), 1);
		XT_EQ(pic_irr(v) & 1, 1);
		XT_EQ(take(v), 0x08);
		XT_EQ(xk_pit_pending(pit), 10 - i);
	}
	pio_w(v, 0x20, 0x20);
	XT_EQ(xk_pit_pending(pit), 0);
	XT_EQ(host_user_clock_advance(0), 0);
	XT_EQ(take(v), -1);
	xk_pit_ticks(pit, &delivered, &skipped);
	XT_EQ(delivered, 11);
	XT_EQ(skipped, 0);
	/* auto-EOI mode, IRQ0 masked: a pulse waits in the PIC's IRR */
	pio_w(v, 0x20, 0x11);
	pio_w(v, 0x21, 0x08);
	pio_w(v, 0x21, 0x04);
	pio_w(v, 0x21, 0x03); /* ICW4: AEOI */
	pio_w(v, 0x21, 0xff);
	host_user_clock_set(T0 + 135 * MS); /* two expiries */
	XT_EQ(host_user_clock_advance(0), 1);
	XT_EQ(xk_pit_pending(pit), 2);
	XT_EQ(take(v), -1);
	/* OCW1 unmasks IRQ0: the backlog goes (Linux's mask notifier) */
	pio_w(v, 0x21, 0xfe);
	XT_EQ(xk_pit_pending(pit), 0);
	XT_EQ(take(v), 0x08); /* the latched request; INTA + auto-EOI */
	XT_EQ(host_user_clock_advance(0), 0);
	host_user_clock_set(T0 + 155 * MS); /* two more expiries */
	XT_EQ(host_user_clock_advance(0), 1);
	XT_EQ(xk_pit_pending(pit), 2);
	XT_EQ(take(v), 0x08); /* INTA + auto-EOI: the ack */
	XT_EQ(xk_pit_pending(pit), 1);
	XT_EQ(host_user_clock_advance(0), 1);
	XT_EQ(take(v), 0x08);
	XT_EQ(xk_pit_pending(pit), 0);
	XT_EQ(host_user_clock_advance(0), 0);
}

XT_TEST(irqchip, pit_reinject_control_ioctl)
{
	struct fx *f = fx_new_vm();
	struct kvm_reinject_control rc = { .pit_reinject = 0 };
	struct kvm_pit_config pc = { 0 };
	struct xk_vcpu *v = NULL;
	struct xk_pit *pit;
	u64 delivered, skipped;

	XT_EQ(vm_ioctl(f->vm, KVM_REINJECT_CONTROL, &rc), -ENXIO);
	XT_EQ(vm_ioctl(f->vm, KVM_CREATE_IRQCHIP, NULL), 0);
	XT_EQ(vm_ioctl(f->vm, KVM_REINJECT_CONTROL, &rc), -ENXIO);
	host_user_clock_set(T0);
	xt_cleanup(clock_real, NULL);
	XT_EQ(xk_vcpu_create(f->vm, 0, &v), 0);
	v->rflags = XK_RFLAGS_FIXED | XK_RFLAGS_IF;
	XT_EQ(vm_ioctl(f->vm, KVM_CREATE_PIT2, &pc), 0);
	pit = vm_pit(f);
	XT_ASSERT(xk_pit_reinject(pit)); /* Linux's default */
	XT_EQ(vm_ioctl(f->vm, KVM_REINJECT_CONTROL, &rc), 0);
	XT_ASSERT(!xk_pit_reinject(pit));
	/* off: a stall gives one interrupt, EOIs bring no more */
	pic_irq0_open(v);
	pit_10ms(v);
	host_user_clock_set(T0 + 105 * MS);
	XT_EQ(host_user_clock_advance(0), 1);
	XT_EQ(take(v), 0x08);
	pio_w(v, 0x20, 0x20);
	XT_EQ(host_user_clock_advance(0), 0);
	XT_EQ(take(v), -1);
	xk_pit_ticks(pit, &delivered, &skipped);
	XT_EQ(delivered, 1);
	XT_EQ(skipped, 9);
	/* on (any non-zero byte): the same stall waits for each EOI */
	rc.pit_reinject = 0x80;
	XT_EQ(vm_ioctl(f->vm, KVM_REINJECT_CONTROL, &rc), 0);
	XT_ASSERT(xk_pit_reinject(pit));
	host_user_clock_set(T0 + 205 * MS);
	XT_EQ(host_user_clock_advance(0), 1);
	XT_EQ(xk_pit_pending(pit), 10);
	XT_EQ(take(v), 0x08);
	pio_w(v, 0x20, 0x20);
	XT_EQ(host_user_clock_advance(0), 1);
	XT_EQ(take(v), 0x08);
	XT_EQ(xk_pit_pending(pit), 9);
}

/* QEMU's routes for GSI 0: PIC pin 0 and IOAPIC pin 2. */
static void qemu_gsi0(struct fx *f)
{
	struct {
		struct kvm_irq_routing h;
		struct kvm_irq_routing_entry e[2];
	} rt;

	memset(&rt, 0, sizeof(rt));
	rt.h.nr = 2;
	rt.e[0].gsi = 0;
	rt.e[0].type = KVM_IRQ_ROUTING_IRQCHIP;
	rt.e[0].u.irqchip.irqchip = KVM_IRQCHIP_PIC_MASTER;
	rt.e[0].u.irqchip.pin = 0;
	rt.e[1].gsi = 0;
	rt.e[1].type = KVM_IRQ_ROUTING_IRQCHIP;
	rt.e[1].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
	rt.e[1].u.irqchip.pin = 2;
	XT_EQ(vm_ioctl(f->vm, KVM_SET_GSI_ROUTING, &rt), 0);
}

XT_TEST(irqchip, pit_reinject_acked_by_ioapic_edge_eoi)
{
	struct xk_vcpu *v = NULL;
	struct fx *f = pit_vm(&v);
	struct xk_pit *pit = vm_pit(f);
	unsigned int i;

	qemu_gsi0(f);
	pio_w(v, 0x21, 0xff);         /* the PIC masked */
	mmio_w(v, 0xfee000f0, 0x1ff); /* the APIC on */
	mmio_w(v, 0xfec00000, 0x15);
	mmio_w(v, 0xfec00010, 0);
	mmio_w(v, 0xfec00000, 0x14);
	mmio_w(v, 0xfec00010, 0x30); /* pin 2: edge, vector 0x30, to APIC 0 */
	pit_10ms(v);
	host_user_clock_set(T0 + 55 * MS); /* five expiries */
	XT_EQ(host_user_clock_advance(0), 1);
	XT_EQ(xk_pit_pending(pit), 5);
	XT_EQ(take(v), 0x30);
	for (i = 1; i < 5; i++) {
		xt_ctx("tick %u", i);
		XT_EQ(host_user_clock_advance(0), 0);
		XT_EQ(xk_lapic_pending(v->apic), -1);
		mmio_w(v, 0xfee000b0, 0); /* EOI of the edge vector */
		XT_EQ(host_user_clock_advance(0), 1);
		XT_EQ(take(v), 0x30);
		XT_EQ(xk_pit_pending(pit), 5 - i);
	}
	mmio_w(v, 0xfee000b0, 0);
	XT_EQ(xk_pit_pending(pit), 0);
	XT_EQ(host_user_clock_advance(0), 0);
	XT_EQ(take(v), -1);
	/* the next tick is lost to a masked pin: it is never acknowledged */
	mmio_w(v, 0xfec00000, 0x14);
	mmio_w(v, 0xfec00010, 0x10030);
	XT_EQ(host_user_clock_advance(6 * MS), 1); /* 60 ms */
	XT_EQ(host_user_clock_advance(30 * MS), 3);
	XT_EQ(xk_pit_pending(pit), 4);
	XT_EQ(take(v), -1);
	/* unmasking the pin starts over: the next expiry is delivered */
	mmio_w(v, 0xfec00010, 0x30);
	XT_EQ(xk_pit_pending(pit), 0);
	XT_EQ(host_user_clock_advance(10 * MS), 1);
	XT_EQ(take(v), 0x30);
	XT_EQ(xk_pit_pending(pit), 1);
	mmio_w(v, 0xfee000b0, 0);
	XT_EQ(xk_pit_pending(pit), 0);
}

XT_TEST(irqchip, pit_ticks_pending_at_vm_end)
{
	struct host_held h0, h1;
	struct xk_vcpu *v = NULL;
	struct fx *f;

	fake_install();
	host_held(&h0);
	f = pit_vm(&v);
	pic_irq0_open(v);
	pit_10ms(v);
	host_user_clock_set(T0 + 105 * MS);
	XT_EQ(host_user_clock_advance(0), 1);
	XT_EQ(take(v), 0x08);
	pio_w(v, 0x20, 0x20); /* a reinjection armed, nine ticks pending */
	XT_EQ(xk_pit_pending(vm_pit(f)), 9);
	fx_destroy(f);
	host_held(&h1);
	XT_EQ(h1.objects, h0.objects);
	XT_EQ(h1.pages, h0.pages);
	XT_EQ(host_user_clock_advance(1000 * MS), 0); /* no timer left */
}
