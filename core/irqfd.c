// SPDX-License-Identifier: GPL-2.0
/*
 * irqfd.c - KVM_IRQFD: an eventfd of the VMM wired to a GSI of the
 * in-kernel irqchip.
 *
 * Theory.
 *
 * Signals.  An irqfd holds a reference on its eventfd and watches it
 * (host_eventfd_watch): every signal calls irqfd_fire() in the signaller's
 * context, which may be an interrupt handler, with the eventfd's lock held.
 * irqfd_fire() goes straight through the GSI router, whose locks and the
 * models' are all taken with interrupts off and never sleep (irqchip.c),
 * so nothing needs deferring to a thread.  A plain irqfd sends an edge:
 * the GSI goes to 1 then 0 as source XK_IRQ_SRC_USER, Linux's user-space
 * source, which KVM_IRQ_LINE shares; an MSI route sends its message on the
 * rising half.  The router looks the GSI up at each signal, so a new
 * KVM_SET_GSI_ROUTING applies to the next one.  A signal sent before the
 * assignment is delivered when the watch starts.
 *
 * Resampling (KVM_IRQFD_FLAG_RESAMPLE), for level-triggered devices: a
 * signal only raises the GSI, as source XK_IRQ_SRC_RESAMPLE, and it stays
 * up.  When the guest's EOI ends that interrupt (the irqchip reports it
 * with xk_irqfd_acked, see irqchip.c), the line goes down and every
 * resamplefd of that GSI is signalled, so the VMM looks at its device and
 * signals again if it still wants the interrupt.  The irqfds of one GSI
 * share a resampler (one line: the first EOI lowers it for all of them);
 * the last one to go lowers the line and frees the resampler.
 *
 * Errnos are Linux 6.1's (virt/kvm/eventfd.c, read for its behaviour):
 * unknown flags EINVAL; assigning without an in-kernel irqchip EINVAL; a
 * bad fd or resamplefd EBADF, one that is not an eventfd EINVAL; an
 * eventfd already assigned to any GSI of the VM EBUSY; any GSI number is
 * taken (one without a route raises nothing).  Deassigning needs only a
 * valid eventfd: it removes the irqfds of that eventfd and GSI, and
 * succeeds even when there is none.
 *
 * Hang-up.  When the last descriptor of an assigned eventfd is closed
 * (anywhere: the VMM, a process it passed the eventfd to), the irqfd goes
 * as if KVM_IRQFD_FLAG_DEASSIGN had removed it, as Linux drops an irqfd on
 * its eventfd's EPOLLHUP: the watch's hang-up callback (irqfd_hup) only
 * marks it and queues the VM's hang-up work, because it runs inside the
 * eventfd's wake-up, interrupts off, where nothing can be unwatched or
 * freed; the work (irqfd_hup_work, a host thread) takes irqfds->lock and
 * drops every marked irqfd exactly as a deassign does: unwatch, leave
 * the resampler (the last one lowers the line), give back the references.
 * Until then the irqfd is still listed, but no descriptor can name its
 * eventfd any more, so neither a deassign nor the EBUSY check can meet
 * it: a new eventfd that got the same number is another eventfd, and is
 * assigned as usual.  The VM's end drops every irqfd itself, then flushes
 * the work (which then finds nothing) before irqfds->lock and the list
 * go, so it never runs on a freed VM.
 *
 * EOIs are reported for pins
 * programmed level-triggered only, so a resampling irqfd on a GSI whose
 * IOAPIC pin the guest made edge-triggered is never resampled (Linux also
 * reports an edge vector's EOI when a resampler listens on its GSI).
 *
 * Locks.  irqfds->lock (a mutex) serialises assign and deassign, which may
 * sleep.  irqfds->rs_lock (a spin lock, interrupts off) guards the
 * resamplers, read by xk_irqfd_acked() from a vCPU thread; under it the
 * router is driven and eventfds are signalled, so the order is rs_lock,
 * then an eventfd's lock, then the router's and the models' locks.
 * irqfd_fire() and irqfd_hup() take none of ours.  An irqfd is freed only
 * after its watch is gone (host_eventfd_unwatch waits for a running
 * irqfd_fire or irqfd_hup), and all of them before the irqchip (vm.c), so
 * irqfd_fire() never sees a freed router.  No lock here is held across a
 * user copy or anything that waits for user memory (the ioctl's argument
 * is copied in before).
 */
#include "irqfd.h"
#include "irqchip.h"
#include "irq.h"

struct xk_irqfd {
	struct xk_irqfds *owner;          /* (c) the VM's irqfd state */
	struct xk_irq_router *router;     /* (c) the VM's, outlives us */
	u32 gsi;                          /* (c) */
	struct host_eventfd *efd;         /* (c) our reference */
	struct host_eventfd_watch *watch; /* (l) set at assignment */
	struct xk_irqfd_resampler *rs;    /* (c) NULL: a plain irqfd */
	struct host_eventfd *resamplefd;  /* (c) with rs: our reference */
	struct xk_irqfd *next;            /* (l) irqfds->list */
	struct xk_irqfd *rs_next;         /* (l)+(r) rs->members */
	bool hung_up; /* atomic: the eventfd's last descriptor went */
};

struct xk_irqfd_resampler {
	struct xk_irq_router *router;    /* (c) */
	u32 gsi;                         /* (c) */
	struct xk_irqfd *members;        /* (l)+(r) */
	struct xk_irqfd_resampler *next; /* (l)+(r) irqfds->resamplers */
};

static struct xk_irqfds *irqfds_of(struct xk_vm *vm)
{
	return __atomic_load_n(&vm->irqfds, __ATOMIC_ACQUIRE);
}

static void irqfd_hup_work(void *arg);

static void irqfds_free(struct xk_irqfds *s)
{
	if (s->hup_work)
		host_work_destroy(s->hup_work);
	if (s->lock)
		host_mutex_destroy(s->lock);
	if (s->rs_lock)
		host_spin_destroy(s->rs_lock);
	host_free(s, sizeof(*s));
}

/* The VM's irqfd state, made on first use (vm->lock). */
static struct xk_irqfds *irqfds_get(struct xk_vm *vm)
{
	struct xk_irqfds *s = irqfds_of(vm);

	if (s)
		return s;
	host_mutex_lock(vm->lock);
	s = vm->irqfds;
	if (!s) {
		s = host_zalloc(sizeof(*s));
		if (s) {
			s->lock = host_mutex_create();
			s->rs_lock = host_spin_create();
			s->hup_work = host_work_create(irqfd_hup_work, s);
		}
		if (s && (!s->lock || !s->rs_lock || !s->hup_work)) {
			irqfds_free(s);
			s = NULL;
		}
		if (s)
			__atomic_store_n(&vm->irqfds, s, __ATOMIC_RELEASE);
	}
	host_mutex_unlock(vm->lock);
	return s;
}

/* The eventfd was signalled (see theory for the context). */
static void irqfd_fire(void *arg)
{
	struct xk_irqfd *f = arg;

	if (f->rs) {
		xk_irq_set(f->router, f->gsi, 1, XK_IRQ_SRC_RESAMPLE);
		return;
	}
	xk_irq_set(f->router, f->gsi, 1, XK_IRQ_SRC_USER);
	xk_irq_set(f->router, f->gsi, 0, XK_IRQ_SRC_USER);
}

/*
 * The eventfd's last descriptor went (see theory for the context): the
 * work drops the irqfd.
 */
static void irqfd_hup(void *arg)
{
	struct xk_irqfd *f = arg;

	__atomic_store_n(&f->hung_up, true, __ATOMIC_RELEASE);
	host_work_queue(f->owner->hup_work);
}

static void irqfd_free(struct xk_irqfd *f)
{
	if (f->resamplefd)
		host_eventfd_put(f->resamplefd);
	host_eventfd_put(f->efd);
	host_free(f, sizeof(*f));
}

/*
 * Join gsi's resampler, made if there is none.  s->lock held.  0 or
 * -ENOMEM.
 */
static int resampler_join(struct xk_irqfds *s, struct xk_irqfd *f)
{
	struct xk_irqfd_resampler *rs, *fresh;

	for (rs = s->resamplers; rs; rs = rs->next)
		if (rs->gsi == f->gsi)
			break;
	fresh = NULL;
	if (!rs) {
		fresh = host_zalloc(sizeof(*fresh));
		if (!fresh)
			return -ENOMEM;
		fresh->router = f->router;
		fresh->gsi = f->gsi;
		rs = fresh;
	}
	f->rs = rs;
	host_spin_lock_irq(s->rs_lock);
	if (fresh) {
		fresh->next = s->resamplers;
		s->resamplers = fresh;
		__atomic_store_n(&s->nresamplers, s->nresamplers + 1,
				 __ATOMIC_RELEASE);
	}
	f->rs_next = rs->members;
	rs->members = f;
	host_spin_unlock_irq(s->rs_lock);
	return 0;
}

/*
 * Leave the resampler (f's watch is gone).  The last member lowers the
 * line and frees it.  s->lock held.
 */
static void resampler_leave(struct xk_irqfds *s, struct xk_irqfd *f)
{
	struct xk_irqfd_resampler *rs = f->rs, **rp;
	struct xk_irqfd **pp;
	bool last;

	host_spin_lock_irq(s->rs_lock);
	for (pp = &rs->members; *pp; pp = &(*pp)->rs_next)
		if (*pp == f) {
			*pp = f->rs_next;
			break;
		}
	last = !rs->members;
	if (last) {
		for (rp = &s->resamplers; *rp; rp = &(*rp)->next)
			if (*rp == rs) {
				*rp = rs->next;
				break;
			}
		__atomic_store_n(&s->nresamplers, s->nresamplers - 1,
				 __ATOMIC_RELEASE);
		xk_irq_set(rs->router, rs->gsi, 0, XK_IRQ_SRC_RESAMPLE);
	}
	host_spin_unlock_irq(s->rs_lock);
	if (last)
		host_free(rs, sizeof(*rs));
}

/*
 * Stop and free an irqfd taken off the list: what a deassign does.
 * s->lock held.
 */
static void irqfd_drop(struct xk_irqfds *s, struct xk_irqfd *f)
{
	host_eventfd_unwatch(f->watch); /* no irqfd_fire() nor _hup() after */
	if (f->rs)
		resampler_leave(s, f);
	irqfd_free(f);
}

/* Take the irqfds that match key off the list, as a chain; s->lock held. */
static struct xk_irqfd *irqfd_unlink(struct xk_irqfds *s,
				     bool (*match)(struct xk_irqfd *f,
						   const void *key),
				     const void *key)
{
	struct xk_irqfd *f, **pp, *gone = NULL;

	for (pp = &s->list; (f = *pp);) {
		if (!match(f, key)) {
			pp = &f->next;
			continue;
		}
		*pp = f->next;
		f->next = gone;
		gone = f;
	}
	return gone;
}

static bool hung_up(struct xk_irqfd *f, const void *key)
{
	(void)key;
	return __atomic_load_n(&f->hung_up, __ATOMIC_ACQUIRE);
}

/* The hang-up work: every irqfd whose eventfd hung up goes. */
static void irqfd_hup_work(void *arg)
{
	struct xk_irqfds *s = arg;
	struct xk_irqfd *f, *gone;

	host_mutex_lock(s->lock);
	gone = irqfd_unlink(s, hung_up, NULL);
	while ((f = gone)) {
		gone = f->next;
		irqfd_drop(s, f);
	}
	host_mutex_unlock(s->lock);
}

static int irqfd_assign(struct xk_vm *vm, const struct kvm_irqfd *args)
{
	struct xk_irqchip *chip =
		__atomic_load_n(&vm->irqchip, __ATOMIC_ACQUIRE);
	struct xk_irqfds *s;
	struct xk_irqfd *f, *q;
	int r;

	if (!chip)
		return -EINVAL; /* Linux: irqfds need the in-kernel irqchip */
	s = irqfds_get(vm);
	if (!s)
		return -ENOMEM;
	f = host_zalloc(sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->owner = s;
	f->router = chip->router;
	f->gsi = args->gsi;
	r = host_eventfd_get((int)args->fd, &f->efd);
	if (r) {
		host_free(f, sizeof(*f));
		return r;
	}
	if (args->flags & KVM_IRQFD_FLAG_RESAMPLE) {
		r = host_eventfd_get((int)args->resamplefd, &f->resamplefd);
		if (r) {
			f->resamplefd = NULL;
			irqfd_free(f);
			return r;
		}
	}
	host_mutex_lock(s->lock);
	r = -EBUSY; /* one eventfd, one irqfd, whatever the GSI */
	for (q = s->list; q; q = q->next)
		if (host_eventfd_same(q->efd, f->efd))
			goto fail;
	if (f->resamplefd) {
		r = resampler_join(s, f);
		if (r)
			goto fail;
	}
	/* may fire at once: everything irqfd_fire() reads is set */
	r = host_eventfd_watch(f->efd, (int)args->fd, irqfd_fire, irqfd_hup, f,
			       &f->watch);
	if (r) {
		if (f->rs)
			resampler_leave(s, f);
		goto fail;
	}
	f->next = s->list;
	s->list = f;
	host_mutex_unlock(s->lock);
	return 0;
fail:
	host_mutex_unlock(s->lock);
	irqfd_free(f);
	return r;
}

struct deassign_key {
	u32 gsi;
	struct host_eventfd *efd;
};

static bool deassign_match(struct xk_irqfd *f, const void *key)
{
	const struct deassign_key *k = key;

	return f->gsi == k->gsi && host_eventfd_same(f->efd, k->efd);
}

static int irqfd_deassign(struct xk_vm *vm, const struct kvm_irqfd *args)
{
	struct xk_irqfds *s = irqfds_of(vm);
	struct deassign_key k = { args->gsi, NULL };
	struct xk_irqfd *f, *gone;
	int r;

	r = host_eventfd_get((int)args->fd, &k.efd);
	if (r)
		return r;
	if (!s)
		goto out; /* nothing was ever assigned */
	host_mutex_lock(s->lock);
	gone = irqfd_unlink(s, deassign_match, &k);
	while ((f = gone)) {
		gone = f->next;
		irqfd_drop(s, f);
	}
	host_mutex_unlock(s->lock);
out:
	host_eventfd_put(k.efd);
	return 0; /* also when nothing matched, as Linux */
}

int xk_irqfd(struct xk_vm *vm, const struct kvm_irqfd *args)
{
	if (args->flags &
	    ~(u32)(KVM_IRQFD_FLAG_DEASSIGN | KVM_IRQFD_FLAG_RESAMPLE))
		return -EINVAL;
	if (args->flags & KVM_IRQFD_FLAG_DEASSIGN)
		return irqfd_deassign(vm, args);
	return irqfd_assign(vm, args);
}

void xk_irqfd_acked(struct xk_vm *vm, u32 gsi)
{
	struct xk_irqfds *s = irqfds_of(vm);
	struct xk_irqfd_resampler *rs;
	struct xk_irqfd *f;

	if (!s || !__atomic_load_n(&s->nresamplers, __ATOMIC_ACQUIRE))
		return;
	host_spin_lock_irq(s->rs_lock);
	for (rs = s->resamplers; rs; rs = rs->next) {
		if (rs->gsi != gsi)
			continue;
		/* down first: a VMM that re-signals raises it again */
		xk_irq_set(rs->router, gsi, 0, XK_IRQ_SRC_RESAMPLE);
		for (f = rs->members; f; f = f->rs_next)
			host_eventfd_signal(f->resamplefd);
		break;
	}
	host_spin_unlock_irq(s->rs_lock);
}

void xk_irqfd_free_all(struct xk_vm *vm)
{
	struct xk_irqfds *s = vm->irqfds;
	struct xk_irqfd *f;

	if (!s)
		return;
	/*
	 * No ioctl can come any more; signals and hang-ups can, until each
	 * unwatch, and the hang-up work may be running: it waits for the lock
	 * and then finds an empty list.
	 */
	host_mutex_lock(s->lock);
	while ((f = s->list)) {
		s->list = f->next;
		irqfd_drop(s, f);
	}
	host_mutex_unlock(s->lock);
	vm->irqfds = NULL;
	irqfds_free(s); /* flushes the hang-up work first */
}
