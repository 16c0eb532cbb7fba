// SPDX-License-Identifier: GPL-2.0
/*
 * test_irq.c - events from a user-space interrupt controller: KVM_INTERRUPT,
 * KVM_NMI, request_interrupt_window / KVM_EXIT_IRQ_WINDOW_OPEN,
 * ready_for_interrupt_injection and KVM_{GET,SET}_MP_STATE, as Linux
 * without an in-kernel irqchip (kvm_vcpu_ioctl_interrupt, inject_pending_
 * event, dm_request_for_irq_injection).  The fake backend injects in
 * svm.c's order: exception, NMI, external interrupt.
 */
#include <string.h>

#include "fx.h"

static struct fx *irq_fx(bool if_flag)
{
	struct fx *f = fx_new();
	struct kvm_regs r;

	fx_mem(f, 0, 0, 16, 0);
	fx_real_mode(f, 0x1000);
	fx_get_regs(f, &r);
	r.rflags = XK_RFLAGS_FIXED | (if_flag ? XK_RFLAGS_IF : 0);
	fx_set_regs(f, &r);
	return f;
}

static long interrupt(struct fx *f, u32 irq)
{
	struct kvm_interrupt i = { .irq = irq };

	return fx_vcpu_ioctl(f, KVM_INTERRUPT, &i);
}

static void set_if(struct xk_vcpu *v, void *arg)
{
	(void)arg;
	v->rflags |= XK_RFLAGS_IF; /* the guest runs STI */
}

XT_TEST(irq, interrupt_delivered_when_if_set)
{
	struct fx *f = irq_fx(true);
	struct fake_event ev[4];

	FX_SCRIPT(f, { .kind = FAKE_IO, .port = 0x80, .size = 1, .nrip = 1 });
	fx_run_expect(f, KVM_EXIT_IO);
	XT_EQ(f->run->ready_for_interrupt_injection, 1);
	XT_EQ(interrupt(f, 0x30), 0);
	FX_SCRIPT(f, { .kind = FAKE_INTR });
	fx_run_to_end(f);
	XT_EQ(fake_events(f->v, ev, 4), 1);
	XT_EQ(ev[0].type, FAKE_EV_INTR);
	XT_EQ(ev[0].vector, 0x30);
	XT_ASSERT(!f->v->irq_pending);
	XT_EQ(f->v->stats.irq_injections, 1);
	XT_EQ(f->run->ready_for_interrupt_injection, 1);
}

XT_TEST(irq, interrupt_waits_for_if)
{
	struct fx *f = irq_fx(false);
	struct fake_event ev[4];

	XT_EQ(interrupt(f, 0x31), 0);
	FX_SCRIPT(f, { .kind = FAKE_IO, .port = 0x80, .size = 1, .nrip = 1 });
	fx_run_expect(f, KVM_EXIT_IO);
	XT_EQ(fake_events(f->v, ev, 4), 0);
	XT_ASSERT(f->v->irq_pending);
	XT_EQ(f->run->ready_for_interrupt_injection, 0);
	XT_EQ(f->run->if_flag, 0);
	FX_SCRIPT(f, { .kind = FAKE_INTR, .guest = set_if },
		  { .kind = FAKE_INTR });
	fx_run_to_end(f);
	XT_EQ(fake_events(f->v, ev, 4), 1);
	XT_EQ(ev[0].vector, 0x31);
	XT_EQ(f->run->if_flag, 1);
}

XT_TEST(irq, interrupt_vector_range)
{
	struct fx *f = irq_fx(true);

	XT_EQ(interrupt(f, 256), -EINVAL);
	XT_EQ(interrupt(f, 0xffffffff), -EINVAL);
	XT_ASSERT(!f->v->irq_pending);
	XT_EQ(interrupt(f, 255), 0);
}

/*
 * Without an in-kernel irqchip Linux queues the vector whatever is queued
 * already (kvm_queue_interrupt); -EEXIST is for a split irqchip only.
 */
XT_TEST(irq, interrupt_while_one_queued)
{
	struct fx *f = irq_fx(false);
	struct fake_event ev[4];

	XT_EQ(interrupt(f, 0x40), 0);
	XT_EQ(interrupt(f, 0x41), 0);
	FX_SCRIPT(f, { .kind = FAKE_INTR, .guest = set_if },
		  { .kind = FAKE_INTR });
	fx_run_to_end(f);
	XT_EQ(fake_events(f->v, ev, 4), 1);
	XT_EQ(ev[0].vector, 0x41);
}

XT_TEST(irq, window_exit)
{
	struct fx *f = irq_fx(false);

	f->run->request_interrupt_window = 1;
	/* IF clear: the window stays shut, the script runs to its end */
	FX_SCRIPT(f, { .kind = FAKE_INTR }, { .kind = FAKE_INTR });
	fx_run_to_end(f);
	/* the guest enables interrupts: KVM_RUN stops at the next exit */
	FX_SCRIPT(f, { .kind = FAKE_INTR, .guest = set_if },
		  { .kind = FAKE_INTR });
	fx_run_expect(f, KVM_EXIT_IRQ_WINDOW_OPEN);
	XT_EQ(fake_steps_taken(f->v), 3);
	XT_EQ(f->run->ready_for_interrupt_injection, 1);
	XT_EQ(f->run->if_flag, 1);
	XT_EQ(f->v->stats.request_irq_exits, 1);
	/* the VMM injects and stops asking */
	XT_EQ(interrupt(f, 0x20), 0);
	f->run->request_interrupt_window = 0;
	fx_run_to_end(f);
	XT_EQ(f->v->stats.irq_injections, 1);
}

XT_TEST(irq, nmi_masked_until_iret)
{
	struct fx *f = irq_fx(false);
	struct fake_event ev[4];

	XT_EQ(fx_vcpu_ioctl(f, KVM_NMI, NULL), 0);
	FX_SCRIPT(f, { .kind = FAKE_INTR });
	fx_run_to_end(f);
	XT_EQ(fake_events(f->v, ev, 4), 1);
	XT_EQ(ev[0].type, FAKE_EV_NMI);
	XT_EQ(ev[0].vector, XK_EXC_NMI);
	XT_ASSERT(f->v->nmi_masked);
	/* a second NMI waits for the handler's IRET */
	XT_EQ(fx_vcpu_ioctl(f, KVM_NMI, NULL), 0);
	FX_SCRIPT(f, { .kind = FAKE_INTR }, { .kind = FAKE_IRET },
		  { .kind = FAKE_INTR });
	fx_run_to_end(f);
	XT_EQ(fake_events(f->v, ev, 4), 2);
	XT_EQ(ev[1].type, FAKE_EV_NMI);
	XT_EQ(f->v->stats.nmi_injections, 2);
}

XT_TEST(irq, exception_goes_first)
{
	struct fx *f = irq_fx(true);
	struct fake_event ev[4];

	XT_EQ(interrupt(f, 0x50), 0);
	XT_EQ(fx_vcpu_ioctl(f, KVM_NMI, NULL), 0);
	xk_queue_exception(f->v, XK_EXC_UD, false, 0);
	FX_SCRIPT(f, { .kind = FAKE_INTR }, { .kind = FAKE_INTR },
		  { .kind = FAKE_INTR });
	fx_run_to_end(f);
	XT_EQ(fake_events(f->v, ev, 4), 3);
	XT_EQ(ev[0].type, FAKE_EV_EXC);
	XT_EQ(ev[0].vector, XK_EXC_UD);
	XT_EQ(ev[1].type, FAKE_EV_NMI);
	XT_EQ(ev[2].type, FAKE_EV_INTR);
	XT_EQ(ev[2].vector, 0x50);
}

XT_TEST(irq, mp_state_runnable_only)
{
	struct fx *f = irq_fx(true);
	struct kvm_mp_state mp = { .mp_state = 0xff };

	XT_EQ(xk_dev_ioctl(KVM_CHECK_EXTENSION, KVM_CAP_MP_STATE), 1);
	XT_EQ(fx_vcpu_ioctl(f, KVM_GET_MP_STATE, &mp), 0);
	XT_EQ(mp.mp_state, KVM_MP_STATE_RUNNABLE);
	XT_EQ(fx_vcpu_ioctl(f, KVM_SET_MP_STATE, &mp), 0);
	/* Linux without an in-kernel LAPIC: only RUNNABLE */
	mp.mp_state = KVM_MP_STATE_HALTED;
	XT_EQ(fx_vcpu_ioctl(f, KVM_SET_MP_STATE, &mp), -EINVAL);
	mp.mp_state = KVM_MP_STATE_INIT_RECEIVED;
	XT_EQ(fx_vcpu_ioctl(f, KVM_SET_MP_STATE, &mp), -EINVAL);
}
