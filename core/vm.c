// SPDX-License-Identifier: GPL-2.0
/*
 * vm.c - VM lifetime and guest memory slots.
 *
 * Theory.  KVM_SET_USER_MEMORY_REGION follows Linux's rules exactly (they are
 * part of the ABI that QEMU relies on): slot ids below XK_MAX_SLOTS, page
 * aligned addresses and sizes, size 0 deletes (an error for an empty slot),
 * an existing slot may only change its base (a move) or its flags, and a new
 * or moved slot may not overlap another (EEXIST).
 *
 * A slot's pages are pinned and mapped in the nested page tables before the
 * ioctl returns.  Deleting or moving a slot unmaps it, flushes all vCPUs'
 * TLBs (xk_vm_flush_all waits until no vCPU can still use an old
 * translation) and then unpins.  All of it runs under vm->lock; the page
 * table edits themselves also take vm->mmu_lock.
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

static void slot_release(struct xk_vm *vm, struct xk_slot *s)
{
	host_unpin_user(s->pin);
	xk_dirty_free(s);
	vm->npages -= s->npages;
	vm->nslots--;
	host_free(s, sizeof(*s));
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
		host_spin_lock(vm->mmu_lock);
		xk_ops->unmap_range(vm, s->base_gfn << XK_PAGE_SHIFT,
				    s->npages);
		host_spin_unlock(vm->mmu_lock);
		vm->slots[i] = NULL;
		slot_release(vm, s);
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

/*
 * Is this guest physical address ordinary memory (for a write: writable)?
 * For vCPU threads handling an exit: they are outside the guest, so a slot
 * being deleted does not wait for them, and the slot must only be looked at
 * under vm->lock.
 */
bool xk_vm_gpa_is_ram(struct xk_vm *vm, u64 gpa, bool write)
{
	struct xk_slot *s;
	bool ram;

	host_mutex_lock(vm->lock);
	s = xk_vm_find_slot(vm, gpa >> XK_PAGE_SHIFT);
	ram = s && !(write && (s->flags & KVM_MEM_READONLY));
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

/* Map every page of a slot.  vm->lock held. */
static int slot_map(struct xk_vm *vm, struct xk_slot *s)
{
	u64 gpa = s->base_gfn << XK_PAGE_SHIFT;
	bool writable =
		!(s->flags & (KVM_MEM_READONLY | KVM_MEM_LOG_DIRTY_PAGES));
	u64 i;
	int r;

	r = xk_ops->map_prepare(vm, gpa, s->npages);
	if (r)
		return r;
	host_spin_lock(vm->mmu_lock);
	for (i = 0; i < s->npages; i++) {
		r = xk_ops->map_page(vm, gpa + (i << XK_PAGE_SHIFT),
				     host_pin_hpa(s->pin, i), writable);
		if (r)
			break;
	}
	if (r)
		xk_ops->unmap_range(vm, gpa, s->npages);
	host_spin_unlock(vm->mmu_lock);
	return r;
}

static void slot_unmap(struct xk_vm *vm, struct xk_slot *s)
{
	host_spin_lock(vm->mmu_lock);
	xk_ops->unmap_range(vm, s->base_gfn << XK_PAGE_SHIFT, s->npages);
	host_spin_unlock(vm->mmu_lock);
	xk_vm_flush_all(vm);
}

/* A new slot with its pages pinned, not yet mapped nor published. */
static int slot_alloc(struct xk_vm *vm, u32 id, u32 flags, u64 gfn, u64 npages,
		      u64 uaddr, struct xk_slot **out)
{
	struct xk_slot *s;
	int r;

	s = host_zalloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->id = id;
	s->flags = flags;
	s->base_gfn = gfn;
	s->npages = npages;
	s->uaddr = uaddr;
	if (flags & KVM_MEM_LOG_DIRTY_PAGES) {
		r = xk_dirty_alloc(s);
		if (r) {
			host_free(s, sizeof(*s));
			return r;
		}
	}
	r = host_pin_user(uaddr, npages, !(flags & KVM_MEM_READONLY), &s->pin);
	if (r) {
		xk_dirty_free(s);
		host_free(s, sizeof(*s));
		return r;
	}
	vm->npages += npages;
	vm->nslots++;
	*out = s;
	return 0;
}

static int slot_create(struct xk_vm *vm, u32 id, u32 flags, u64 gfn, u64 npages,
		       u64 uaddr)
{
	struct xk_slot *s;
	int r;

	r = slot_alloc(vm, id, flags, gfn, npages, uaddr, &s);
	if (r)
		return r;
	r = slot_map(vm, s);
	if (r) {
		slot_release(vm, s);
		return r;
	}
	XK_WRITE_ONCE(vm->slots[id], s);
	return 0;
}

static void slot_delete(struct xk_vm *vm, struct xk_slot *s)
{
	XK_WRITE_ONCE(vm->slots[s->id], NULL);
	slot_unmap(vm, s);
	slot_release(vm, s);
}

static int set_memory_locked(struct xk_vm *vm,
			     const struct kvm_userspace_memory_region *r)
{
	u32 id = r->slot & 0xffff, as_id = r->slot >> 16;
	u64 npages = r->memory_size >> XK_PAGE_SHIFT;
	u64 gfn = r->guest_phys_addr >> XK_PAGE_SHIFT;
	struct xk_slot *old, *moved;
	int err;

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
	if (npages > XK_MAX_SLOT_PAGES)
		return -EINVAL;
	if (r->guest_phys_addr + r->memory_size > (1ULL << XK_MAXPHYADDR))
		return -EINVAL;

	old = vm->slots[id];
	if (npages == 0) {
		if (!old)
			return -EINVAL;
		slot_delete(vm, old);
		return 0;
	}
	if (!old) {
		if (slot_overlaps(vm, id, gfn, npages))
			return -EEXIST;
		return slot_create(vm, id, r->flags, gfn, npages,
				   r->userspace_addr);
	}
	/* An existing slot may change its base or its flags, nothing else. */
	if (r->userspace_addr != old->uaddr || npages != old->npages ||
	    ((r->flags ^ old->flags) & KVM_MEM_READONLY))
		return -EINVAL;
	if (gfn == old->base_gfn) /* only the dirty-log flag may change */
		return xk_dirty_set_log(vm, old,
					r->flags & KVM_MEM_LOG_DIRTY_PAGES);
	if (slot_overlaps(vm, id, gfn, npages))
		return -EEXIST;
	/*
	 * A move.  Everything that can fail (pinning, page table pages) is
	 * done first, so a failed move leaves the old slot as it was; then the
	 * old range is unmapped (and flushed) and the new one mapped.
	 */
	err = slot_alloc(vm, id, r->flags, gfn, npages, r->userspace_addr,
			 &moved);
	if (err)
		return err;
	err = xk_ops->map_prepare(vm, gfn << XK_PAGE_SHIFT, npages);
	if (err) {
		slot_release(vm, moved);
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
	slot_delete(vm, old);
	err = slot_map(vm, moved);
	if (XK_WARN_ON(err)) { /* prepared above: cannot fail */
		slot_release(vm, moved);
		return err;
	}
	XK_WRITE_ONCE(vm->slots[id], moved);
	return 0;
}

int xk_vm_set_memory(struct xk_vm *vm,
		     const struct kvm_userspace_memory_region *r)
{
	int err;

	host_mutex_lock(vm->lock);
	err = set_memory_locked(vm, r);
	host_mutex_unlock(vm->lock);
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
