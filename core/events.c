// SPDX-License-Identifier: GPL-2.0
/*
 * events.c - KVM_GET_VCPU_EVENTS / KVM_SET_VCPU_EVENTS: the vCPU's pending
 * and in-flight events, as Linux 6.1 on x86 reports and accepts them with
 * neither KVM_CAP_EXCEPTION_PAYLOAD nor KVM_CAP_X86_TRIPLE_FAULT_EVENT
 * enabled and without SMM.
 *
 * Theory.  The event state is spread over three places:
 *
 *  - the core's queue: an exception an exit handler raised (v->exception,
 *    with the #PF address), the vector of KVM_INTERRUPT (irq_pending), NMIs
 *    from KVM_NMI (nmi_pending) and the NMI mask (nmi_masked: an NMI was
 *    delivered and its handler has not returned yet);
 *  - the backend's "injected" event (struct xk_injected): what the CPU was
 *    delivering when an exit cut it short, delivered again as it is;
 *  - the backend's interrupt shadow (after STI or MOV SS).
 *
 * Linux's model has one exception slot (pending or injected), one interrupt
 * slot (injected; KVM_INTERRUPT puts its vector there directly), NMIs split
 * into injected/pending, the NMI mask and the shadow.  GET maps ours onto
 * that: an exception is reported injected whether it is queued or cut short
 * (Linux conflates pending and injected when the payload capability is
 * off), except #BP and #OF, which Linux never reports because their
 * instruction would have to be re-executed; an interrupt from KVM_INTERRUPT
 * or cut short is injected, a software one is reported with soft set and
 * injected clear.  The shadow is the backend's, unless emulation moved RIP
 * since (v->skipped), which ends it: Linux clears it when it skips.
 *
 * SET replaces all of it.  One event can be in flight at a time, so of the
 * injected ones the highest in the CPU's order goes to the backend
 * (exception, else NMI, else a software interrupt); an external interrupt
 * becomes the KVM_INTERRUPT vector.  Linux would drop the lower ones at the
 * first exit anyway.  An exception equal to the one the core already has
 * queued keeps the queued one, so that a #PF read by GET and written back
 * still sets CR2 when delivered (Linux writes CR2 at GET time instead).
 * NMI pending is capped as KVM_NMI caps it.  sipi_vector is ignored (there
 * is no in-kernel local APIC), as in Linux.
 */
#include "xkvm.h"

#define XK_EVENTS_FLAGS                                                      \
	(KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR | \
	 KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_SMM)

/* Software exceptions: GET never reports them (Linux's rule). */
static bool exc_is_soft(u8 nr)
{
	return nr == XK_EXC_BP || nr == XK_EXC_OF;
}

int xk_get_vcpu_events(struct xk_vcpu *v, struct kvm_vcpu_events *e)
{
	struct xk_injected inj;

	xk_memset(e, 0, sizeof(*e));
	xk_memset(&inj, 0, sizeof(inj));
	xk_ops->get_injected(v, &inj);

	if (inj.type == XK_INJ_EXC) {
		e->exception.injected = !exc_is_soft(inj.vector);
		e->exception.nr = inj.vector;
		e->exception.has_error_code = inj.has_error;
		e->exception.error_code = inj.error;
	} else if (v->exception.pending) {
		e->exception.injected = !exc_is_soft(v->exception.vector);
		e->exception.nr = v->exception.vector;
		e->exception.has_error_code = v->exception.has_error;
		e->exception.error_code = v->exception.error;
	}

	if (inj.type == XK_INJ_INTR || inj.type == XK_INJ_SOFT) {
		e->interrupt.injected = inj.type == XK_INJ_INTR;
		e->interrupt.soft = inj.type == XK_INJ_SOFT;
		e->interrupt.nr = inj.vector;
	} else if (v->irq_pending) {
		e->interrupt.injected = 1;
		e->interrupt.nr = v->irq_vector;
	}
	/* one shadow bit in SVM's VMCB: Linux reports it as both kinds */
	if (!v->skipped && xk_ops->interrupt_shadow(v))
		e->interrupt.shadow = KVM_X86_SHADOW_INT_MOV_SS |
				      KVM_X86_SHADOW_INT_STI;

	e->nmi.injected = inj.type == XK_INJ_NMI;
	e->nmi.pending = v->nmi_pending != 0;
	e->nmi.masked = v->nmi_masked;

	e->sipi_vector = 0; /* never valid when reported */
	e->flags = KVM_VCPUEVENT_VALID_NMI_PENDING |
		   KVM_VCPUEVENT_VALID_SHADOW |
		   KVM_VCPUEVENT_VALID_SMM; /* smi: all zero, never in SMM */
	return 0;
}

int xk_set_vcpu_events(struct xk_vcpu *v, const struct kvm_vcpu_events *e)
{
	struct xk_injected inj;
	bool exc = e->exception.injected;
	u8 limit;

	/* PAYLOAD and TRIPLE_FAULT need capabilities we do not offer */
	if (e->flags & ~XK_EVENTS_FLAGS)
		return -EINVAL;
	/* exception.pending is ignored without the payload capability */
	if (exc && (e->exception.nr > 31 || e->exception.nr == XK_EXC_NMI))
		return -EINVAL;
	/* no SMM: only "not in SMM, nothing pending" can be set */
	if ((e->flags & KVM_VCPUEVENT_VALID_SMM) &&
	    (e->smi.smm || e->smi.pending || e->smi.smm_inside_nmi))
		return -EINVAL;

	xk_memset(&inj, 0, sizeof(inj));
	if (exc && v->exception.pending &&
	    v->exception.vector == e->exception.nr &&
	    v->exception.has_error == !!e->exception.has_error_code &&
	    (!v->exception.has_error ||
	     v->exception.error == e->exception.error_code)) {
		/* the queued one, with its CR2: keep it queued */
	} else {
		v->exception.pending = false;
		if (exc) {
			inj.type = XK_INJ_EXC;
			inj.vector = e->exception.nr;
			inj.has_error = !!e->exception.has_error_code;
			inj.error = inj.has_error ? e->exception.error_code : 0;
		}
	}
	if (inj.type == XK_INJ_NONE && !v->exception.pending &&
	    e->nmi.injected) {
		inj.type = XK_INJ_NMI;
		inj.vector = XK_EXC_NMI;
	} else if (inj.type == XK_INJ_NONE && !v->exception.pending &&
		   e->interrupt.injected && e->interrupt.soft) {
		inj.type = XK_INJ_SOFT;
		inj.vector = e->interrupt.nr;
	}
	xk_ops->set_injected(v, &inj);

	v->irq_pending = e->interrupt.injected && !e->interrupt.soft;
	v->irq_vector = v->irq_pending ? e->interrupt.nr : 0;
	if (e->flags & KVM_VCPUEVENT_VALID_SHADOW) {
		xk_ops->set_interrupt_shadow(v, e->interrupt.shadow != 0);
		v->skipped = false;
	}

	v->nmi_masked = !!e->nmi.masked;
	if (e->flags & KVM_VCPUEVENT_VALID_NMI_PENDING) {
		/* as KVM_NMI: one behind an NMI in service or in flight */
		limit = (v->nmi_masked || inj.type == XK_INJ_NMI) ? 1 : 2;
		v->nmi_pending = XK_MIN(e->nmi.pending, limit);
	}
	return 0;
}
