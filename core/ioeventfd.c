// SPDX-License-Identifier: GPL-2.0
/*
 * ioeventfd.c - KVM_IOEVENTFD: a guest write to a registered port or MMIO
 * address signals an eventfd of the VMM instead of exiting to it.
 *
 * Theory.  The rules are Linux 6.1's (virt/kvm/eventfd.c), as QEMU relies on
 * them:
 *  - assign: len 0, 1, 2, 4 or 8, addr + len must not wrap, only flags of
 *    KVM_IOEVENTFD_VALID_FLAG_MASK (EINVAL otherwise, checked in that
 *    order); len 0 ("any length") cannot be combined with DATAMATCH but is
 *    allowed on both buses; then the fd must be an eventfd (EBADF / EINVAL);
 *    then a registration on the same bus and address that a write could
 *    also match is EEXIST: either has len 0, or the lengths are equal and
 *    either is a wildcard or both match the same data.
 *  - deassign (DEASSIGN set) checks nothing but the fd, and removes the one
 *    registration with the same bus, eventfd, address, length, wildcard-ness
 *    and, for DATAMATCH, data; ENOENT if there is none.
 *  - the bus is PIO if FLAG_PIO, else virtio-ccw if FLAG_VIRTIO_CCW_NOTIFY
 *    (accepted by Linux on x86 too, on a bus nothing writes), else MMIO.
 *  - a write hits when the address is the registered one, the length is
 *    the registered one (or that is 0), and without wildcard the written
 *    value, zero-extended, equals datamatch.  By the collision rule at most
 *    one registration can be hit by any write.  Reads are never matched.
 *  - Linux does not count ioeventfds against its 1000 devices per bus
 *    (kvm_io_bus_register_dev excludes them); here a bus holds at most
 *    XK_MAX_IOEVENTFDS, far above what a VMM uses, so that one VMM cannot
 *    make a vCPU's lookup (under a spin lock) arbitrarily long.
 *
 * Locking.  The registrations are a singly linked list guarded by
 * vm->ioev_lock, a spin lock: the ioctl takes it to check and link or
 * unlink, a vCPU thread takes it to look a write up and signals the eventfd
 * while still holding it (signalling never sleeps), so an entry, and the
 * eventfd reference it holds, is never freed under a vCPU using it.  The
 * eventfd lookup and the allocation happen before the lock, the reference
 * is dropped after it.  Registrations die with the VM.
 */
#include "xkvm.h"

#define XK_MAX_IOEVENTFDS 16384 /* per bus; see the theory */

/* The flags of Linux 6.1's uapi: DATAMATCH, PIO, DEASSIGN, VIRTIO_CCW_NOTIFY
 * and the reserved FAST_MMIO bit, which it accepts and ignores. */
#define XK_IOEVENTFD_VALID_FLAGS 0x1fu

struct xk_ioeventfd {
	struct xk_ioeventfd *next; /* (e) vm->ioevs */
	u64 addr;                  /* (c) */
	u64 datamatch;             /* (c) meaningful unless wildcard */
	u32 len;                   /* (c) 0: any length */
	u8 bus;                    /* (c) enum xk_iobus */
	bool wildcard;             /* (c) no DATAMATCH */
	struct host_eventfd *efd;  /* (c) our reference */
};

static enum xk_iobus bus_of(u32 flags)
{
	if (flags & KVM_IOEVENTFD_FLAG_PIO)
		return XK_IOBUS_PIO;
	if (flags & KVM_IOEVENTFD_FLAG_VIRTIO_CCW_NOTIFY)
		return XK_IOBUS_CCW;
	return XK_IOBUS_MMIO;
}

/* Could one write hit both a and b?  Linux's collision rule. */
static bool collides(const struct xk_ioeventfd *a, const struct xk_ioeventfd *b)
{
	if (a->bus != b->bus || a->addr != b->addr)
		return false;
	if (!a->len || !b->len)
		return true;
	if (a->len != b->len)
		return false;
	return a->wildcard || b->wildcard || a->datamatch == b->datamatch;
}

static void entry_free(struct xk_ioeventfd *p)
{
	host_eventfd_put(p->efd);
	host_free(p, sizeof(*p));
}

static int assign(struct xk_vm *vm, const struct kvm_ioeventfd *args)
{
	struct xk_ioeventfd *p, *q;
	int r;

	switch (args->len) {
	case 0:
	case 1:
	case 2:
	case 4:
	case 8:
		break;
	default:
		return -EINVAL;
	}
	if (args->addr + args->len < args->addr)
		return -EINVAL;
	if (args->flags & ~XK_IOEVENTFD_VALID_FLAGS)
		return -EINVAL;
	if (!args->len && (args->flags & KVM_IOEVENTFD_FLAG_DATAMATCH))
		return -EINVAL;

	p = host_zalloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	r = host_eventfd_get(args->fd, &p->efd);
	if (r) {
		host_free(p, sizeof(*p));
		return r;
	}
	p->addr = args->addr;
	p->len = args->len;
	p->bus = (u8)bus_of(args->flags);
	p->wildcard = !(args->flags & KVM_IOEVENTFD_FLAG_DATAMATCH);
	p->datamatch = p->wildcard ? 0 : args->datamatch;

	r = 0;
	host_spin_lock(vm->ioev_lock);
	for (q = vm->ioevs; q; q = q->next)
		if (collides(p, q)) {
			r = -EEXIST;
			break;
		}
	if (!r && vm->nioevs[p->bus] >= XK_MAX_IOEVENTFDS)
		r = -ENOSPC;
	if (!r) {
		p->next = vm->ioevs;
		XK_WRITE_ONCE(vm->ioevs, p);
		vm->nioevs[p->bus]++;
	}
	host_spin_unlock(vm->ioev_lock);
	if (r)
		entry_free(p);
	return r;
}

static int deassign(struct xk_vm *vm, const struct kvm_ioeventfd *args)
{
	bool wildcard = !(args->flags & KVM_IOEVENTFD_FLAG_DATAMATCH);
	u8 bus = (u8)bus_of(args->flags);
	struct xk_ioeventfd **pp, *p = NULL;
	struct host_eventfd *efd;
	int r;

	r = host_eventfd_get(args->fd, &efd);
	if (r)
		return r;
	host_spin_lock(vm->ioev_lock);
	for (pp = &vm->ioevs; *pp; pp = &(*pp)->next) {
		struct xk_ioeventfd *q = *pp;

		if (q->bus != bus || q->addr != args->addr ||
		    q->len != args->len || q->wildcard != wildcard)
			continue;
		if (!wildcard && q->datamatch != args->datamatch)
			continue;
		if (!host_eventfd_same(q->efd, efd))
			continue;
		p = q;
		*pp = q->next;
		vm->nioevs[bus]--;
		break;
	}
	host_spin_unlock(vm->ioev_lock);
	host_eventfd_put(efd);
	if (!p)
		return -ENOENT;
	entry_free(p);
	return 0;
}

int xk_ioeventfd(struct xk_vm *vm, const struct kvm_ioeventfd *args)
{
	if (args->flags & KVM_IOEVENTFD_FLAG_DEASSIGN)
		return deassign(vm, args);
	return assign(vm, args);
}

static bool hits(const struct xk_ioeventfd *p, u64 addr, u32 len, u64 val)
{
	if (p->addr != addr)
		return false;
	if (!p->len)
		return true;
	if (p->len != len)
		return false;
	return p->wildcard || val == p->datamatch;
}

static bool lookup(struct xk_vm *vm, enum xk_iobus bus, u64 addr, u32 len,
		   const void *data, bool signal)
{
	struct xk_ioeventfd *p;
	bool hit = false;
	u64 val = 0;

	if (!XK_READ_ONCE(vm->ioevs) || len > sizeof(val))
		return false;
	xk_memcpy(&val, data, len);
	host_spin_lock(vm->ioev_lock);
	for (p = vm->ioevs; p; p = p->next)
		if (p->bus == bus && hits(p, addr, len, val)) {
			if (signal)
				host_eventfd_signal(p->efd);
			hit = true;
			break;
		}
	host_spin_unlock(vm->ioev_lock);
	return hit;
}

/*
 * A guest write of len bytes (little-endian, at data) to addr on a bus:
 * signal the registration it hits and return true, or return false (the
 * write goes to the VMM as before).  Called by the vCPU thread.
 */
bool xk_ioeventfd_write(struct xk_vm *vm, enum xk_iobus bus, u64 addr, u32 len,
			const void *data)
{
	return lookup(vm, bus, addr, len, data, true);
}

/* Would that write be taken?  Nothing is signalled. */
bool xk_ioeventfd_would_take(struct xk_vm *vm, enum xk_iobus bus, u64 addr,
			     u32 len, const void *data)
{
	return lookup(vm, bus, addr, len, data, false);
}

/* The VM is going away: no vCPU and no ioctl can use the list any more. */
void xk_ioeventfd_free_all(struct xk_vm *vm)
{
	struct xk_ioeventfd *p, *next;
	u32 i;

	for (p = vm->ioevs; p; p = next) {
		next = p->next;
		entry_free(p);
	}
	vm->ioevs = NULL;
	for (i = 0; i < XK_IOBUS_COUNT; i++)
		vm->nioevs[i] = 0;
}
