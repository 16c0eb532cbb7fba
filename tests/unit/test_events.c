// SPDX-License-Identifier: GPL-2.0
/*
 * test_events.c - KVM_GET_VCPU_EVENTS / KVM_SET_VCPU_EVENTS (core/events.c)
 * against the fake backend: the flags and checks Linux 6.1 applies without
 * the payload and triple-fault capabilities and without SMM, how the core's
 * queue (KVM_INTERRUPT, KVM_NMI, an exception an exit handler raised) and
 * the backend's event in flight are reported, and what SET leaves behind
 * for the next entry.
 */
#include <string.h>

#include "fx.h"

static struct fx *ev_fx(void)
{
	struct fx *f = fx_new();
	struct kvm_regs r;

	fx_mem(f, 0, 0, 16, 0);
	fx_real_mode(f, 0x1000);
	fx_get_regs(f, &r);
	r.rflags = XK_RFLAGS_FIXED | XK_RFLAGS_IF;
	fx_set_regs(f, &r);
	return f;
}

static void get(struct fx *f, struct kvm_vcpu_events *e)
{
	memset(e, 0xa5, sizeof(*e)); /* every byte must be written */
	XT_EQ(fx_vcpu_ioctl(f, KVM_GET_VCPU_EVENTS, e), 0);
}

static long set(struct fx *f, const struct kvm_vcpu_events *e)
{
	return fx_vcpu_ioctl(f, KVM_SET_VCPU_EVENTS, e);
}

XT_TEST(events, cap_and_reset_state)
{
	struct fx *f = ev_fx();
	struct kvm_vcpu_events e, zero;

	XT_EQ(xk_cap_value(KVM_CAP_VCPU_EVENTS), 1);
	XT_EQ(xk_cap_value(KVM_CAP_EXCEPTION_PAYLOAD), 0);
	get(f, &e);
	XT_EQ(e.flags, KVM_VCPUEVENT_VALID_NMI_PENDING |
			       KVM_VCPUEVENT_VALID_SHADOW |
			       KVM_VCPUEVENT_VALID_SMM);
	memset(&zero, 0, sizeof(zero));
	zero.flags = e.flags;
	XT_MEMEQ(&e, &zero, sizeof(e)); /* padding and reserved too */
}

XT_TEST(events, set_rejects_like_linux)
{
	struct fx *f = ev_fx();
	struct kvm_vcpu_events e;

	memset(&e, 0, sizeof(e));
	e.flags = KVM_VCPUEVENT_VALID_PAYLOAD;
	XT_EQ(set(f, &e), -EINVAL);
	e.flags = KVM_VCPUEVENT_VALID_TRIPLE_FAULT;
	XT_EQ(set(f, &e), -EINVAL);
	e.flags = 0x40;
	XT_EQ(set(f, &e), -EINVAL);
	e.flags = KVM_VCPUEVENT_VALID_SMM;
	e.smi.smm = 1;
	XT_EQ(set(f, &e), -EINVAL);
	e.smi.smm = 0;
	e.smi.pending = 1;
	XT_EQ(set(f, &e), -EINVAL);
	e.smi.pending = 0;
	e.smi.smm_inside_nmi = 1;
	XT_EQ(set(f, &e), -EINVAL);
	e.smi.smm_inside_nmi = 0;
	XT_EQ(set(f, &e), 0); /* not in SMM: fine */
	e.flags = 0;
	e.smi.smm = 1; /* ignored without the flag */
	XT_EQ(set(f, &e), 0);
	memset(&e, 0, sizeof(e));
	e.exception.injected = 1;
	e.exception.nr = 32;
	XT_EQ(set(f, &e), -EINVAL);
	e.exception.nr = XK_EXC_NMI;
	XT_EQ(set(f, &e), -EINVAL);
	/* nothing was changed by the refusals */
	XT_ASSERT(!f->v->exception.pending);
	/* exception.pending without the payload capability is ignored */
	memset(&e, 0, sizeof(e));
	e.exception.pending = 1;
	e.exception.nr = 200;
	XT_EQ(set(f, &e), 0);
	get(f, &e);
	XT_EQ(e.exception.injected, 0);
	XT_EQ(e.exception.pending, 0);
}

XT_TEST(events, kvm_interrupt_and_nmi_reported)
{
	struct fx *f = ev_fx();
	struct kvm_interrupt irq = { .irq = 0x41 };
	struct kvm_vcpu_events e;

	XT_EQ(fx_vcpu_ioctl(f, KVM_INTERRUPT, &irq), 0);
	XT_EQ(fx_vcpu_ioctl(f, KVM_NMI, NULL), 0);
	get(f, &e);
	XT_EQ(e.interrupt.injected, 1);
	XT_EQ(e.interrupt.nr, 0x41);
	XT_EQ(e.interrupt.soft, 0);
	XT_EQ(e.nmi.injected, 0);
	XT_EQ(e.nmi.pending, 1);
	XT_EQ(e.nmi.masked, 0);
	XT_EQ(e.exception.injected, 0);
	/* two NMIs still read as "pending" */
	XT_EQ(fx_vcpu_ioctl(f, KVM_NMI, NULL), 0);
	XT_EQ(f->v->nmi_pending, 2);
	get(f, &e);
	XT_EQ(e.nmi.pending, 1);
}

XT_TEST(events, queued_exception_is_injected)
{
	struct fx *f = ev_fx();
	struct kvm_vcpu_events e;
	struct fake_event ev[4];

	xk_queue_exception(f->v, XK_EXC_GP, true, 0x18);
	get(f, &e);
	XT_EQ(e.exception.injected, 1);
	XT_EQ(e.exception.pending, 0);
	XT_EQ(e.exception.nr, XK_EXC_GP);
	XT_EQ(e.exception.has_error_code, 1);
	XT_EQ(e.exception.error_code, 0x18);
	/* written back as it was read: still the core's queued one */
	XT_EQ(set(f, &e), 0);
	XT_ASSERT(f->v->exception.pending);
	/* #BP is never reported, as in Linux */
	xk_queue_exception(f->v, XK_EXC_BP, false, 0);
	get(f, &e);
	XT_EQ(e.exception.injected, 0);
	XT_EQ(e.exception.nr, XK_EXC_BP);
	/* SET with no exception drops the queued one */
	memset(&e, 0, sizeof(e));
	XT_EQ(set(f, &e), 0);
	XT_ASSERT(!f->v->exception.pending);
	FX_SCRIPT(f, { .kind = FAKE_INTR });
	fx_run_to_end(f);
	XT_EQ(fake_events(f->v, ev, 4), 0);
}

XT_TEST(events, page_fault_keeps_cr2_on_round_trip)
{
	struct fx *f = ev_fx();
	struct kvm_vcpu_events e;
	struct fake_event ev[4];

	xk_queue_exception(f->v, XK_EXC_PF, true, 2);
	f->v->exception.cr2 = 0x1234000;
	get(f, &e);
	XT_EQ(set(f, &e), 0);
	FX_SCRIPT(f, { .kind = FAKE_INTR });
	fx_run_to_end(f);
	XT_EQ(fake_events(f->v, ev, 4), 1);
	XT_EQ(ev[0].type, FAKE_EV_EXC);
	XT_EQ(ev[0].vector, XK_EXC_PF);
	XT_EQ(ev[0].cr2, 0x1234000);
}

XT_TEST(events, event_in_flight_reported)
{
	struct fx *f = ev_fx();
	struct kvm_vcpu_events e;
	struct xk_injected inj = { .type = XK_INJ_EXC,
				   .vector = XK_EXC_PF,
				   .has_error = true,
				   .error = 6 };

	fake_set_injected_raw(f->v, &inj);
	get(f, &e);
	XT_EQ(e.exception.injected, 1);
	XT_EQ(e.exception.nr, XK_EXC_PF);
	XT_EQ(e.exception.has_error_code, 1);
	XT_EQ(e.exception.error_code, 6);

	inj = (struct xk_injected){ .type = XK_INJ_NMI, .vector = 2 };
	fake_set_injected_raw(f->v, &inj);
	f->v->nmi_masked = true;
	get(f, &e);
	XT_EQ(e.exception.injected, 0);
	XT_EQ(e.nmi.injected, 1);
	XT_EQ(e.nmi.masked, 1);

	inj = (struct xk_injected){ .type = XK_INJ_INTR, .vector = 0x33 };
	fake_set_injected_raw(f->v, &inj);
	get(f, &e);
	XT_EQ(e.nmi.injected, 0);
	XT_EQ(e.interrupt.injected, 1);
	XT_EQ(e.interrupt.nr, 0x33);

	inj = (struct xk_injected){ .type = XK_INJ_SOFT, .vector = 0x80 };
	fake_set_injected_raw(f->v, &inj);
	get(f, &e);
	XT_EQ(e.interrupt.injected, 0);
	XT_EQ(e.interrupt.soft, 1);
	XT_EQ(e.interrupt.nr, 0x80);
}

XT_TEST(events, set_exception_delivered_next_entry)
{
	struct fx *f = ev_fx();
	struct kvm_vcpu_events e;
	struct fake_event ev[4];

	memset(&e, 0, sizeof(e));
	e.exception.injected = 1;
	e.exception.nr = XK_EXC_GP;
	e.exception.has_error_code = 1;
	e.exception.error_code = 0x10;
	e.interrupt.injected = 1; /* lower priority: follows */
	e.interrupt.nr = 0x30;
	XT_EQ(set(f, &e), 0);
	get(f, &e);
	XT_EQ(e.exception.injected, 1);
	XT_EQ(e.exception.error_code, 0x10);
	XT_EQ(e.interrupt.injected, 1);
	FX_SCRIPT(f, { .kind = FAKE_INTR }, { .kind = FAKE_INTR });
	fx_run_to_end(f);
	XT_EQ(fake_events(f->v, ev, 4), 2);
	XT_EQ(ev[0].type, FAKE_EV_INJ);
	XT_EQ(ev[0].inj_type, XK_INJ_EXC);
	XT_EQ(ev[0].vector, XK_EXC_GP);
	XT_EQ(ev[0].has_error, 1);
	XT_EQ(ev[0].error, 0x10);
	XT_EQ(ev[1].type, FAKE_EV_INTR);
	XT_EQ(ev[1].vector, 0x30);
	get(f, &e);
	XT_EQ(e.exception.injected, 0);
	XT_EQ(e.interrupt.injected, 0);
}

XT_TEST(events, set_interrupt_replaces_kvm_interrupt)
{
	struct fx *f = ev_fx();
	struct kvm_interrupt irq = { .irq = 0x41 };
	struct kvm_vcpu_events e;

	XT_EQ(fx_vcpu_ioctl(f, KVM_INTERRUPT, &irq), 0);
	get(f, &e);
	e.interrupt.nr = 0x42;
	XT_EQ(set(f, &e), 0);
	XT_ASSERT(f->v->irq_pending);
	XT_EQ(f->v->irq_vector, 0x42);
	e.interrupt.injected = 0;
	XT_EQ(set(f, &e), 0);
	XT_ASSERT(!f->v->irq_pending);
}

XT_TEST(events, nmi_pending_and_mask)
{
	struct fx *f = ev_fx();
	struct kvm_vcpu_events e;
	struct fake_event ev[4];

	memset(&e, 0, sizeof(e));
	e.nmi.pending = 1; /* no VALID_NMI_PENDING: ignored */
	XT_EQ(set(f, &e), 0);
	XT_EQ(f->v->nmi_pending, 0);
	e.flags = KVM_VCPUEVENT_VALID_NMI_PENDING;
	e.nmi.pending = 200; /* capped as KVM_NMI caps */
	XT_EQ(set(f, &e), 0);
	XT_EQ(f->v->nmi_pending, 2);
	e.nmi.masked = 1;
	XT_EQ(set(f, &e), 0);
	XT_EQ(f->v->nmi_pending, 1);
	get(f, &e);
	XT_EQ(e.nmi.masked, 1);
	XT_EQ(e.nmi.pending, 1);
	/* masked: the pending NMI waits for the IRET */
	FX_SCRIPT(f, { .kind = FAKE_INTR }, { .kind = FAKE_IRET },
		  { .kind = FAKE_INTR });
	fx_run_to_end(f);
	XT_EQ(fake_events(f->v, ev, 4), 1);
	XT_EQ(ev[0].type, FAKE_EV_NMI);
	XT_EQ(ev[0].rip, fx_rip(f));
	/* SET masked=0 lifts the mask without an IRET */
	get(f, &e);
	XT_EQ(e.nmi.masked, 1);
	e.nmi.masked = 0;
	XT_EQ(set(f, &e), 0);
	XT_ASSERT(!f->v->nmi_masked);
}

XT_TEST(events, nmi_injected_masks)
{
	struct fx *f = ev_fx();
	struct kvm_vcpu_events e;
	struct fake_event ev[4];

	memset(&e, 0, sizeof(e));
	e.nmi.injected = 1;
	e.flags = KVM_VCPUEVENT_VALID_NMI_PENDING;
	e.nmi.pending = 1;
	XT_EQ(set(f, &e), 0);
	XT_EQ(f->v->nmi_pending, 1); /* one behind the one in flight */
	get(f, &e);
	XT_EQ(e.nmi.injected, 1);
	XT_EQ(e.nmi.pending, 1);
	FX_SCRIPT(f, { .kind = FAKE_INTR });
	fx_run_to_end(f);
	XT_EQ(fake_events(f->v, ev, 4), 1);
	XT_EQ(ev[0].type, FAKE_EV_INJ);
	XT_EQ(ev[0].inj_type, XK_INJ_NMI);
	XT_ASSERT(f->v->nmi_masked);
}

XT_TEST(events, shadow_round_trip)
{
	struct fx *f = ev_fx();
	struct kvm_vcpu_events e;

	memset(&e, 0, sizeof(e));
	e.interrupt.shadow = KVM_X86_SHADOW_INT_STI; /* no VALID_SHADOW */
	XT_EQ(set(f, &e), 0);
	XT_ASSERT(!fake_shadow(f->v));
	e.flags = KVM_VCPUEVENT_VALID_SHADOW;
	XT_EQ(set(f, &e), 0);
	XT_ASSERT(fake_shadow(f->v));
	get(f, &e);
	XT_EQ(e.interrupt.shadow,
	      KVM_X86_SHADOW_INT_MOV_SS | KVM_X86_SHADOW_INT_STI);
	/* emulation moved RIP since: the shadow is over */
	f->v->skipped = true;
	get(f, &e);
	XT_EQ(e.interrupt.shadow, 0);
	/* setting it again cancels the pending clear */
	e.interrupt.shadow = KVM_X86_SHADOW_INT_MOV_SS;
	XT_EQ(set(f, &e), 0);
	XT_ASSERT(!f->v->skipped);
	e.interrupt.shadow = 0;
	XT_EQ(set(f, &e), 0);
	XT_ASSERT(!fake_shadow(f->v));
}
