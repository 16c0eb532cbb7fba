// SPDX-License-Identifier: GPL-2.0
/*
 * vm.c - VM lifetime and guest memory slots.
 *
 * Theory.  KVM_SET_USER_MEMORY_REGION follows Linux's rules exactly (they are
 * part of the ABI that QEMU relies on): slot ids below XK_MAX_SLOTS, page
 * aligned addresses and sizes, at most 2^31 - 1 pages, size 0 deletes (an
 * error for an empty slot), an existing slot may only change its base (a
 * move) or its flags, a new or moved slot may not overlap another (EEXIST)
 * and must end within the guest-physical width, else EINVAL: 2^xk_gpa_bits(),
 * the smaller of what the nested tables reach and the host's MAXPHYADDR, as
 * Linux's kvm_mmu_max_gfn().  Nothing beyond it may be mapped: four-level
 * tables would alias X + 2^48 onto X.
 *
 * A slot's pages are pinned and mapped in the nested page tables before the
 * ioctl returns.  Pinning faults the VMM's memory in and may block for as
 * long as the VMM likes (userfaultfd), so it runs without vm->lock: the
 * region is checked under the lock, the lock is dropped, the range pinned,
 * and the region checked again under the lock (another thread of the VMM
 * may have changed the slots meanwhile: a pin no longer needed is dropped
 * afterwards, and a change that now needs one pins first).  Unpinning also
 * waits until vm->lock is dropped.  The rest of a change runs under
 * vm->lock; page table edits also take vm->mmu_lock.
 *
 * Deleting or moving a slot unpublishes it, unmaps it, prunes the table
 * pages left empty (svm/npt.c), flushes all vCPUs' TLBs (xk_vm_flush_all
 * waits until no vCPU can still use an old translation), frees those table
 * pages, and unpins the old pages last.  A new slot is mapped before it is
 * published and needs no flush.
 *
 * Long loops.  Mapping, unmapping, write-protecting and pruning hold
 * vm->mmu_lock for XK_MMU_BATCH pages at a time and offer to reschedule in
 * between (as does dirty-log collection, dirty.c).  vm->lock stays held, so
 * no other slot change, dirty-log collection or emulated guest access
 * (gpa_copy) sees a change half done.  Only a vCPU in the guest runs
 * between batches: it finds each page mapped to the page of the slot that
 * is or was there (still pinned until after the flush), or not mapped, and
 * then its fault handler waits for vm->lock (xk_vm_gpa_is_ram), by which
 * time the change is complete.  Write access only goes away, with a flush
 * before the ioctl returns, or comes as the slot allows (see dirty.c).
 *
 * A slot with KVM_MEM_LOG_DIRTY_PAGES is mapped read-only and has a dirty
 * bitmap (dirty.c); the flag may be turned on and off on an existing slot,
 * and a moved slot keeps its bitmap, as in Linux.
 */
#include "xkvm.h"
#include "irqchip.h"
#include "irqfd.h"

#define XK_VALID_MEM_FLAGS (KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY)

/*
 * Every live VM, for whoever looks at all of them (the statistics tree and
 * kvmstat through it, the debugger): a VM is on the list from creation
 * until its destruction begins.  vm_destroy() takes it off first, under
 * xk_vms_lock, so a VM seen on the list while the lock is held is not
 * freed (nor are its vCPUs) before the lock is dropped: that, not a
 * reference, is what keeps a reader off freed memory.
 *
 * xk_vms_lock guards the list and nothing else.  Every KVM_CREATE_VM and
 * every VM's end takes it, whoever the user: it is a lock other users
 * need, so it is held only across bounded walks of kernel memory (the
 * list, and xk_vm_for_each's callbacks, which read counters without
 * locks, see stats.c): never across a vm->lock (which its holder may keep
 * across a user copy), a user copy, pinning, or anything else that can
 * sleep on user memory or wait for another VM.  Nothing is taken under
 * it and it is taken under nothing of ours.
 */
static struct xk_vm *xk_vms;           /* (g) newest first */
static struct host_mutex *xk_vms_lock; /* created by xk_vm_list_init */

int xk_vm_list_init(void)
{
	if (!xk_vms_lock)
		xk_vms_lock = host_mutex_create();
	return xk_vms_lock ? 0 : -ENOMEM;
}

void xk_vm_list_fini(void)
{
	XK_WARN_ON(xk_vms);
	if (xk_vms_lock)
		host_mutex_destroy(xk_vms_lock);
	xk_vms_lock = NULL;
}

/*
 * fn(vm, arg) for every VM on the list, under the list's lock (see above
 * for what fn may do: read, never sleep on anything but the CPU).  A VM
 * whose last reference went but which vm_destroy() has not taken off yet
 * is still visited: it is intact until then.
 */
void xk_vm_for_each(void (*fn)(struct xk_vm *vm, void *arg), void *arg)
{
	struct xk_vm *vm;

	host_mutex_lock(xk_vms_lock);
	for (vm = xk_vms; vm; vm = vm->next_vm) {
		fn(vm, arg);
		host_cond_resched(); /* many VMs: a long walk yields */
	}
	host_mutex_unlock(xk_vms_lock);
}

static void vm_list_add(struct xk_vm *vm)
{
	host_mutex_lock(xk_vms_lock);
	vm->next_vm = xk_vms;
	xk_vms = vm;
	host_mutex_unlock(xk_vms_lock);
}

static void vm_list_del(struct xk_vm *vm)
{
	struct xk_vm **pp;

	host_mutex_lock(xk_vms_lock);
	for (pp = &xk_vms; *pp; pp = &(*pp)->next_vm) {
		if (*pp == vm) {
			*pp = vm->next_vm;
			break;
		}
	}
	host_mutex_unlock(xk_vms_lock);
}

int xk_vm_create(unsigned long type, struct xk_vm **out)
{
	struct xk_vm *vm;
	int r;

	if (type != 0)
		return -EINVAL;
	vm = host_zalloc(sizeof(*vm));
	if (!vm)
		return -ENOMEM;
	vm->refs = 1;
	vm->pid = host_current_pid();
	vm->created_ns = host_time_ns();
	vm->clock_offset = -(s64)vm->created_ns; /* the VM clock starts at 0 */
	vm->lock = host_mutex_create();
	vm->mmu_lock = host_spin_create();
	vm->ioev_lock = host_spin_create();
	vm->tsc_lock = host_spin_create();
	r = -ENOMEM;
	if (!vm->lock || !vm->mmu_lock || !vm->ioev_lock || !vm->tsc_lock)
		goto fail;
	r = xk_ops->vm_init(vm);
	if (r)
		goto fail;
	vm_list_add(vm);
	*out = vm;
	return 0;
fail:
	if (vm->tsc_lock)
		host_spin_destroy(vm->tsc_lock);
	if (vm->ioev_lock)
		host_spin_destroy(vm->ioev_lock);
	if (vm->mmu_lock)
		host_spin_destroy(vm->mmu_lock);
	if (vm->lock)
		host_mutex_destroy(vm->lock);
	host_free(vm, sizeof(*vm));
	return r;
}

void xk_vm_get(struct xk_vm *vm)
{
	__atomic_add_fetch(&vm->refs, 1, __ATOMIC_RELAXED);
}

/* Unpin and free a slot that is no longer published.  vm->lock not held. */
static void slot_free(struct xk_slot *s)
{
	host_unpin_user(s->pin);
	xk_dirty_free(s);
	host_free(s, sizeof(*s));
}

static u64 slot_gpa(const struct xk_slot *s)
{
	return s->base_gfn << XK_PAGE_SHIFT;
}

/*
 * Unmap a range, or change its pages' write access, XK_MMU_BATCH pages a
 * hold of mmu_lock; no flush.
 */
static void mmu_range(struct xk_vm *vm, u64 gpa, u64 npages, bool unmap,
		      bool writable)
{
	while (npages) {
		u64 n = XK_MIN(npages, (u64)XK_MMU_BATCH);

		host_spin_lock(vm->mmu_lock);
		if (unmap)
			xk_ops->unmap_range(vm, gpa, n);
		else
			xk_ops->protect_range(vm, gpa, n, writable);
		host_spin_unlock(vm->mmu_lock);
		gpa += n << XK_PAGE_SHIFT;
		npages -= n;
		if (npages)
			host_cond_resched();
	}
}

static void mmu_unmap(struct xk_vm *vm, u64 gpa, u64 npages)
{
	mmu_range(vm, gpa, npages, true, false);
}

void xk_mmu_protect(struct xk_vm *vm, u64 gpa, u64 npages, bool writable)
{
	mmu_range(vm, gpa, npages, false, writable);
}

/*
 * The end of a slot change: unlink the table pages it left empty; then, if
 * it took mappings away (flush), wait until no vCPU can use an old
 * translation and free those pages.  vm->lock held.
 */
static void mmu_settle(struct xk_vm *vm, bool flush)
{
	bool more = xk_ops->prune != NULL;

	while (more) {
		host_spin_lock(vm->mmu_lock);
		more = xk_ops->prune(vm, XK_MMU_BATCH);
		host_spin_unlock(vm->mmu_lock);
		if (more)
			host_cond_resched();
	}
	if (!flush)
		return;
	xk_vm_flush_all(vm);
	if (xk_ops->free_pruned)
		xk_ops->free_pruned(vm);
}

static void vm_destroy(struct xk_vm *vm)
{
	struct xk_vcpu *v, *next;
	u32 i;

	vm_list_del(vm);
	xk_irqfd_free_all(vm); /* signals into the router stop first */
	xk_irqchip_stop(vm);   /* the PIT's timer: before the APICs go */
	for (v = vm->vcpus; v; v = next) {
		next = v->next;
		xk_vcpu_free(v);
	}
	xk_irqchip_destroy(vm);
	/* No vCPU can run any more: unmapping needs no flush broadcast. */
	for (i = 0; i < XK_MAX_SLOTS; i++) {
		struct xk_slot *s = vm->slots[i];

		if (!s)
			continue;
		mmu_unmap(vm, slot_gpa(s), s->npages);
		vm->slots[i] = NULL;
		slot_free(s);
	}
	xk_ioeventfd_free_all(vm);
	xk_ops->vm_destroy(vm);
	if (vm->host_free)
		vm->host_free(vm);
	host_spin_destroy(vm->ioev_lock);
	host_spin_destroy(vm->tsc_lock);
	host_spin_destroy(vm->mmu_lock);
	host_mutex_destroy(vm->lock);
	host_free(vm, sizeof(*vm));
}

void xk_vm_put(struct xk_vm *vm)
{
	if (__atomic_sub_fetch(&vm->refs, 1, __ATOMIC_ACQ_REL) == 0)
		vm_destroy(vm);
}

/* The slot holding gfn, or NULL.  Caller holds vm->lock. */
struct xk_slot *xk_vm_find_slot(struct xk_vm *vm, u64 gfn)
{
	u32 i;

	for (i = 0; i < XK_MAX_SLOTS; i++) {
		struct xk_slot *s = XK_READ_ONCE(vm->slots[i]);

		if (s && gfn >= s->base_gfn && gfn - s->base_gfn < s->npages)
			return s;
	}
	return NULL;
}

u8 xk_gpa_bits(void)
{
	return XK_MIN((u8)XK_TDP_GPA_BITS, xk_host_maxphyaddr());
}

/*
 * Is this guest physical address ordinary memory (for a write: writable)?
 * For vCPU threads handling an exit: they are outside the guest, so a slot
 * being deleted does not wait for them, and the slot must only be looked at
 * under vm->lock.  Outside a slot change every page of a published slot is
 * mapped, so a fault on one raced with a change now complete and the vCPU
 * retries; a page of a slot without its entry would make it retry for
 * ever: that bug ends as MMIO, loudly.
 */
bool xk_vm_gpa_is_ram(struct xk_vm *vm, u64 gpa, bool write)
{
	struct xk_slot *s;
	bool ram;
	u64 hpa;

	host_mutex_lock(vm->lock);
	s = xk_vm_find_slot(vm, gpa >> XK_PAGE_SHIFT);
	ram = s && !(write && (s->flags & KVM_MEM_READONLY));
	if (ram && xk_ops->translate) {
		host_spin_lock(vm->mmu_lock);
		if (XK_WARN_ON(!xk_ops->translate(vm, gpa, &hpa)))
			ram = false;
		host_spin_unlock(vm->mmu_lock);
	}
	host_mutex_unlock(vm->lock);
	return ram;
}

static bool slot_overlaps(struct xk_vm *vm, u32 self, u64 gfn, u64 npages)
{
	u32 i;

	for (i = 0; i < XK_MAX_SLOTS; i++) {
		struct xk_slot *s = vm->slots[i];

		if (!s || i == self)
			continue;
		if (gfn < s->base_gfn + s->npages && s->base_gfn < gfn + npages)
			return true;
	}
	return false;
}

/* Map pages of a slot whose tables are prepared.  vm->lock held. */
static int slot_map_prepared(struct xk_vm *vm, struct xk_slot *s)
{
	bool writable =
		!(s->flags & (KVM_MEM_READONLY | KVM_MEM_LOG_DIRTY_PAGES));
	u64 gpa = slot_gpa(s), i = 0;
	int r = 0;

	while (!r && i < s->npages) {
		u64 end = XK_MIN(s->npages, i + XK_MMU_BATCH);

		host_spin_lock(vm->mmu_lock);
		for (; !r && i < end; i++)
			r = xk_ops->map_page(vm, gpa + (i << XK_PAGE_SHIFT),
					     host_pin_hpa(s->pin, i), writable);
		host_spin_unlock(vm->mmu_lock);
		if (!r && i < s->npages)
			host_cond_resched();
	}
	return r;
}

/*
 * Map every page of a new slot.  On failure nothing of it stays mapped and
 * no vCPU can still use what was (it ran unpublished, but a vCPU may have
 * reached its pages meanwhile).  vm->lock held.
 */
static int slot_map(struct xk_vm *vm, struct xk_slot *s)
{
	int r;

	r = xk_ops->map_prepare(vm, slot_gpa(s), s->npages);
	if (r) {
		mmu_settle(vm, true);
		return r;
	}
	r = slot_map_prepared(vm, s);
	if (r)
		mmu_unmap(vm, slot_gpa(s), s->npages);
	mmu_settle(vm, r != 0);
	return r;
}

static void slot_publish(struct xk_vm *vm, struct xk_slot *s)
{
	vm->npages += s->npages;
	vm->nslots++;
	XK_WRITE_ONCE(vm->slots[s->id], s);
}

/* Unpublish: vCPU faults no longer find it; its pages stay mapped. */
static void slot_unpublish(struct xk_vm *vm, struct xk_slot *s)
{
	XK_WRITE_ONCE(vm->slots[s->id], NULL);
	vm->npages -= s->npages;
	vm->nslots--;
}

/* A new slot holding the pin (taken from *pin), not yet mapped. */
static int slot_alloc(const struct kvm_userspace_memory_region *r,
		      struct host_pin **pin, struct xk_slot **out)
{
	struct xk_slot *s;
	int err;

	s = host_zalloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->id = r->slot & 0xffff;
	s->flags = r->flags;
	s->base_gfn = r->guest_phys_addr >> XK_PAGE_SHIFT;
	s->npages = r->memory_size >> XK_PAGE_SHIFT;
	s->uaddr = r->userspace_addr;
	if (r->flags & KVM_MEM_LOG_DIRTY_PAGES) {
		err = xk_dirty_alloc(s);
		if (err) {
			host_free(s, sizeof(*s));
			return err;
		}
	}
	s->pin = *pin;
	*pin = NULL;
	*out = s;
	return 0;
}

/* Free a slot that was never published; its pin goes back to *pin. */
static void slot_discard(struct xk_slot *s, struct host_pin **pin)
{
	*pin = s->pin;
	xk_dirty_free(s);
	host_free(s, sizeof(*s));
}

static int slot_create(struct xk_vm *vm,
		       const struct kvm_userspace_memory_region *r,
		       struct host_pin **pin)
{
	struct xk_slot *s;
	int err;

	err = slot_alloc(r, pin, &s);
	if (err)
		return err;
	err = slot_map(vm, s);
	if (err) {
		slot_discard(s, pin);
		return err;
	}
	slot_publish(vm, s);
	return 0;
}

/* Unpublish, unmap and flush; the caller frees it after vm->lock. */
static void slot_delete(struct xk_vm *vm, struct xk_slot *s)
{
	slot_unpublish(vm, s);
	mmu_unmap(vm, slot_gpa(s), s->npages);
	mmu_settle(vm, true);
}

/*
 * A move.  Everything that can fail (the slot, its bitmap, page table
 * pages) is done first, so a failed move leaves the old slot as it was;
 * then the old range is unmapped and the new one mapped, and one flush
 * covers both.  The old slot goes to *gone.
 */
static int slot_move(struct xk_vm *vm, struct xk_slot *old,
		     const struct kvm_userspace_memory_region *r,
		     struct host_pin **pin, struct xk_slot **gone)
{
	struct xk_slot *moved;
	int err;

	err = slot_alloc(r, pin, &moved);
	if (err)
		return err;
	err = xk_ops->map_prepare(vm, slot_gpa(moved), moved->npages);
	if (err) {
		slot_discard(moved, pin);
		mmu_settle(vm, true);
		return err;
	}
	if (moved->dirty && old->dirty) {
		/* logging goes on: the moved slot keeps the old bitmap */
		xk_dirty_free(moved);
		host_spin_lock(vm->mmu_lock);
		moved->dirty = old->dirty;
		old->dirty = NULL;
		host_spin_unlock(vm->mmu_lock);
	}
	slot_unpublish(vm, old);
	mmu_unmap(vm, slot_gpa(old), old->npages);
	*gone = old;
	err = slot_map_prepared(vm, moved);
	if (XK_WARN_ON(err)) { /* prepared above: cannot fail */
		mmu_unmap(vm, slot_gpa(moved), moved->npages);
		mmu_settle(vm, true);
		slot_discard(moved, pin);
		return err;
	}
	slot_publish(vm, moved);
	mmu_settle(vm, true);
	return 0;
}

enum slot_change {
	SC_NONE,
	SC_FLAGS,
	SC_DELETE,
	SC_CREATE,
	SC_MOVE
};

/* Linux's checks of the region alone. */
static int region_valid(const struct kvm_userspace_memory_region *r)
{
	u32 id = r->slot & 0xffff, as_id = r->slot >> 16;

	if (r->flags & ~XK_VALID_MEM_FLAGS)
		return -EINVAL;
	if (as_id != 0 || id >= XK_MAX_SLOTS)
		return -EINVAL;
	if ((r->memory_size & ~XK_PAGE_MASK) ||
	    (r->guest_phys_addr & ~XK_PAGE_MASK) ||
	    (r->userspace_addr & ~XK_PAGE_MASK))
		return -EINVAL;
	if (r->guest_phys_addr + r->memory_size < r->guest_phys_addr)
		return -EINVAL;
	/* the VMM's address range must be a user range (access_ok) */
	if (r->userspace_addr + r->memory_size < r->userspace_addr ||
	    r->userspace_addr + r->memory_size > 0x00007ffffffff000ULL)
		return -EINVAL;
	if ((r->memory_size >> XK_PAGE_SHIFT) > XK_MAX_SLOT_PAGES)
		return -EINVAL;
	return 0;
}

/*
 * The change a valid region asks of the slots as they are, or Linux's
 * errno, in Linux's order.  vm->lock held.
 */
static int region_change(struct xk_vm *vm,
			 const struct kvm_userspace_memory_region *r,
			 enum slot_change *ch)
{
	u32 id = r->slot & 0xffff;
	u64 npages = r->memory_size >> XK_PAGE_SHIFT;
	u64 gfn = r->guest_phys_addr >> XK_PAGE_SHIFT;
	struct xk_slot *old = vm->slots[id];

	if (npages == 0) {
		*ch = SC_DELETE;
		return old ? 0 : -EINVAL;
	}
	if (old) {
		/* an existing slot may change its base or its flags only */
		if (r->userspace_addr != old->uaddr || npages != old->npages ||
		    ((r->flags ^ old->flags) & KVM_MEM_READONLY))
			return -EINVAL;
		if (gfn == old->base_gfn) {
			*ch = r->flags == old->flags ? SC_NONE : SC_FLAGS;
			return 0;
		}
		*ch = SC_MOVE;
	} else {
		*ch = SC_CREATE;
	}
	if (slot_overlaps(vm, id, gfn, npages))
		return -EEXIST;
	/* within the guest-physical width (Linux: kvm_mmu_max_gfn) */
	if (gfn + npages > XK_BIT(xk_gpa_bits() - XK_PAGE_SHIFT))
		return -EINVAL;
	return 0;
}

int xk_vm_set_memory(struct xk_vm *vm,
		     const struct kvm_userspace_memory_region *r)
{
	struct xk_slot *old, *gone = NULL;
	struct host_pin *pin = NULL;
	enum slot_change ch;
	int err;

	err = region_valid(r);
	if (err)
		return err;
	for (;;) {
		host_mutex_lock(vm->lock);
		err = region_change(vm, r, &ch);
		if (err || pin || (ch != SC_CREATE && ch != SC_MOVE))
			break;
		host_mutex_unlock(vm->lock);
		/* may fault the VMM's memory in, and wait for it: unlocked */
		err = host_pin_user(r->userspace_addr,
				    r->memory_size >> XK_PAGE_SHIFT,
				    !(r->flags & KVM_MEM_READONLY), &pin);
		if (err)
			return err;
	}
	old = vm->slots[r->slot & 0xffff];
	if (!err) {
		switch (ch) {
		case SC_NONE:
			break;
		case SC_FLAGS: /* only the dirty-log flag may change */
			err = xk_dirty_set_log(
				vm, old, r->flags & KVM_MEM_LOG_DIRTY_PAGES);
			break;
		case SC_DELETE:
			slot_delete(vm, old);
			gone = old;
			break;
		case SC_CREATE:
			err = slot_create(vm, r, &pin);
			break;
		case SC_MOVE:
			err = slot_move(vm, old, r, &pin, &gone);
			break;
		}
	}
	host_mutex_unlock(vm->lock);
	if (pin) /* a failure's, or the slots changed meanwhile */
		host_unpin_user(pin);
	if (gone)
		slot_free(gone);
	return err;
}

/*
 * Copy between guest physical memory and a kernel buffer.  Only slot memory
 * is reachable (-EFAULT otherwise).  Called by the vCPU thread, which keeps
 * the slots alive because slot changes wait for running vCPUs to leave the
 * guest.  XXX: a slot change concurrent with a vCPU emulating an access is
 * serialised by vm->lock being taken here.
 */
static int gpa_copy(struct xk_vm *vm, u64 gpa, void *buf, u32 len, bool write)
{
	int r = 0;

	host_mutex_lock(vm->lock);
	while (len) {
		u64 gfn = gpa >> XK_PAGE_SHIFT;
		u32 off = gpa & ~XK_PAGE_MASK;
		u32 n = XK_MIN(len, (u32)(XK_PAGE_SIZE - off));
		struct xk_slot *s = xk_vm_find_slot(vm, gfn);
		u8 *p;

		if (!s || (write && (s->flags & KVM_MEM_READONLY))) {
			r = -EFAULT;
			break;
		}
		p = (u8 *)host_pin_va(s->pin, gfn - s->base_gfn) + off;
		if (write) {
			xk_memcpy(p, buf, n);
			xk_dirty_mark(s, gfn); /* vm->lock keeps s->dirty */
		} else {
			xk_memcpy(buf, p, n);
		}
		buf = (u8 *)buf + n;
		gpa += n;
		len -= n;
	}
	host_mutex_unlock(vm->lock);
	return r;
}

int xk_gpa_read(struct xk_vm *vm, u64 gpa, void *buf, u32 len)
{
	return gpa_copy(vm, gpa, buf, len, false);
}

int xk_gpa_write(struct xk_vm *vm, u64 gpa, const void *buf, u32 len)
{
	return gpa_copy(vm, gpa, (void *)buf, len, true);
}

/*
 * Make every vCPU drop its cached nested translations before it next runs,
 * and wait until none of them can be in the guest with an old one.  The
 * request is seen at the next entry (see xk_vcpu_run); a vCPU in the guest
 * is kicked out by an IPI and we wait until it has left the guest once
 * (exit_seq moved), not until it is outside: it may be back in already,
 * with the request seen (see vcpu.c's theory).
 */
void xk_vm_flush_all(struct xk_vm *vm)
{
	struct xk_vcpu *v;
	unsigned long seq;
	int cpu;

	vm->stats.remote_tlb_flush++;
	for (v = vm->vcpus; v; v = v->next)
		xk_vcpu_kick(v, XK_REQ_TLB_FLUSH);
	for (v = vm->vcpus; v; v = v->next) {
		seq = __atomic_load_n(&v->exit_seq, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&v->mode, __ATOMIC_SEQ_CST) != XK_IN_GUEST)
			continue;
		/*
		 * In the guest now: its entry may predate the request, or have
		 * come after a kick that found it outside.  Kick its CPU again
		 * so this stay ends soon, and wait for the end.
		 */
		cpu = __atomic_load_n(&v->cpu, __ATOMIC_RELAXED);
		if (cpu >= 0)
			host_kick_cpu((unsigned int)cpu);
		while (__atomic_load_n(&v->exit_seq, __ATOMIC_SEQ_CST) == seq &&
		       __atomic_load_n(&v->mode, __ATOMIC_SEQ_CST) ==
			       XK_IN_GUEST)
			__builtin_ia32_pause();
	}
}
