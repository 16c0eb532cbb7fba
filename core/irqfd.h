/* SPDX-License-Identifier: GPL-2.0 */
/*
 * irqfd.h - KVM_IRQFD (irqfd.c): eventfds of the VMM that raise a GSI of
 * the in-kernel irqchip when written, without a system call into the VM.
 *
 * One struct xk_irqfds per VM, made by the first assignment and freed with
 * the VM; vm->irqfds is written once under vm->lock and read atomically.
 */
#ifndef XKVM_IRQFD_H
#define XKVM_IRQFD_H

#include "xkvm.h"

struct xk_irqfd;
struct xk_irqfd_resampler;

struct xk_irqfds {
	struct host_mutex *lock;   /* (c) serialises assign and deassign */
	struct host_spin *rs_lock; /* (c) the resamplers, interrupts off */
	struct xk_irqfd *list;     /* (l) every assigned irqfd, newest first */
	/* (l) and (r): changed with both locks held, read under either */
	struct xk_irqfd_resampler *resamplers;
	u32 nresamplers; /* (l)+(r) as the list; also read atomically */
	/* (c) drops the irqfds whose eventfd hung up (irqfd.c's theory) */
	struct host_work *hup_work;
};

/* KVM_IRQFD: assign or (KVM_IRQFD_FLAG_DEASSIGN) deassign; Linux's errnos. */
int xk_irqfd(struct xk_vm *vm, const struct kvm_irqfd *args);

/*
 * The irqchip: an EOI (or the PIC's EOI/auto-EOI) ended an interrupt of
 * gsi.  Resampling irqfds of gsi lower their line and signal their
 * resamplefds.  Any context but the device models' locks must not be held.
 */
void xk_irqfd_acked(struct xk_vm *vm, u32 gsi);

/*
 * VM death, before the irqchip goes: every irqfd stops and is freed, and
 * the hang-up work is flushed, so nothing of ours runs after the VM.
 */
void xk_irqfd_free_all(struct xk_vm *vm);

#endif /* XKVM_IRQFD_H */
