// SPDX-License-Identifier: GPL-2.0
/*
 * dirty.c - dirty page logging (KVM_MEM_LOG_DIRTY_PAGES, KVM_GET_DIRTY_LOG),
 * as Linux 6.1 does it for x86 without KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2.
 *
 * Theory.  A slot that logs has a bitmap, one bit per page (rounded up to
 * 64 bits), and its pages are mapped read-only in the nested page tables.
 * The guest's first write to such a page is a nested page fault: the vCPU
 * sets the page's bit and makes the entry writable again (xk_dirty_fault),
 * so later writes to it run at full speed.  KVM_GET_DIRTY_LOG takes each
 * non-zero word of the bitmap atomically (leaving 0) into a snapshot,
 * write-protects the pages it named, flushes every vCPU's TLB and waits
 * until no vCPU can still write through an old writable translation
 * (xk_vm_flush_all), and copies the snapshot to the VMM once vm->lock is
 * dropped (the copy may fault and wait on the VMM's memory).  Writes the
 * driver itself makes into guest memory (emulation, string I/O) go through
 * gpa_copy() in vm.c, which sets the bits too.  Turning logging off makes
 * the pages writable and frees the bitmap; turning it on starts with a
 * clean bitmap, as in Linux.
 *
 * Locking.  vm->lock (mutex) serialises the ioctls (memory regions and
 * GET_DIRTY_LOG) and the vCPUs' own copies into guest memory.  A vCPU's
 * write fault does not take vm->lock: it looks the slot up and edits the
 * entry under vm->mmu_lock (spin).  Hence the slot's bitmap pointer and its
 * LOG flag change only with both locks held, and a page's bit and its
 * entry's write access change together under mmu_lock, so GET_DIRTY_LOG
 * (taking bits and write-protecting under mmu_lock) and a fault (setting
 * the bit and unprotecting under mmu_lock) never interleave: in a slot that
 * logs, a page is writable only while its bit is set.  The slot itself
 * stays alive while mmu_lock is held because deleting it unmaps it under
 * mmu_lock after unpublishing it, and frees it only after that.
 *
 * Long loops.  Write-protecting a slot and collecting its log hold
 * mmu_lock for about XK_MMU_BATCH pages at a time (vm.c's theory), and the
 * invariant above holds at every batch boundary: collection takes a word's
 * bits and protects its pages in one hold; turning logging on
 * write-protects every page first and only then installs the bitmap and the
 * flag, so a page written meanwhile either still was writable (a write
 * before logging began) or faults, finds no log yet, and waits for vm->lock
 * (xk_vm_gpa_is_ram) to retry once the log is there; turning it off removes
 * the log first and then gives write access back.
 *
 * Errnos as Linux: a slot id beyond KVM_USER_MEM_SLOTS (32764 on x86) or
 * an address space beyond the two x86 has is EINVAL; a slot that does not
 * exist or does not log is ENOENT; a bad bitmap pointer is EFAULT, after
 * the bits were taken (they are lost, as in Linux).
 */
#include "xkvm.h"

#define XK_LINUX_USER_SLOTS 32764 /* Linux x86's KVM_USER_MEM_SLOTS */
#define XK_LINUX_AS_NUM 2         /* x86: normal and SMM address spaces */

u64 xk_dirty_bytes(u64 npages)
{
	return ((npages + 63) / 64) * 8;
}

int xk_dirty_alloc(struct xk_slot *s)
{
	s->dirty = host_zalloc(xk_dirty_bytes(s->npages));
	return s->dirty ? 0 : -ENOMEM;
}

void xk_dirty_free(struct xk_slot *s)
{
	if (s->dirty)
		host_free(s->dirty, xk_dirty_bytes(s->npages));
	s->dirty = NULL;
}

void xk_dirty_mark(struct xk_slot *s, u64 gfn)
{
	u64 i = gfn - s->base_gfn;

	if (s->dirty && i < s->npages)
		__atomic_fetch_or(&s->dirty[i / 64], XK_BIT(i % 64),
				  __ATOMIC_RELAXED);
}

static u64 slot_gpa(const struct xk_slot *s)
{
	return s->base_gfn << XK_PAGE_SHIFT;
}

/*
 * Turn logging on or off for an existing, mapped slot.  vm->lock held.
 * The pages become read-only (and every vCPU's TLB is flushed) or
 * writable again (no flush needed: a stale read-only entry only costs a
 * spurious fault, which finds the entry writable and retries).  The order
 * of the steps keeps the theory's invariant between batches.
 */
int xk_dirty_set_log(struct xk_vm *vm, struct xk_slot *s, bool on)
{
	struct xk_slot tmp = *s;

	if (on == !!s->dirty)
		return 0;
	if (on) {
		int r = xk_dirty_alloc(&tmp);

		if (r)
			return r;
		xk_mmu_protect(vm, slot_gpa(s), s->npages, false);
		host_spin_lock(vm->mmu_lock);
		s->dirty = tmp.dirty;
		XK_WRITE_ONCE(s->flags, s->flags | KVM_MEM_LOG_DIRTY_PAGES);
		host_spin_unlock(vm->mmu_lock);
		xk_vm_flush_all(vm);
		return 0;
	}
	host_spin_lock(vm->mmu_lock);
	tmp.dirty = s->dirty;
	s->dirty = NULL;
	XK_WRITE_ONCE(s->flags, s->flags & ~KVM_MEM_LOG_DIRTY_PAGES);
	host_spin_unlock(vm->mmu_lock);
	if (!(s->flags & KVM_MEM_READONLY))
		xk_mmu_protect(vm, slot_gpa(s), s->npages, true);
	xk_dirty_free(&tmp);
	return 0;
}

/*
 * A guest write hit a write-protected page.  If the page belongs to a slot
 * that logs (and is not read-only), note it dirty, let the guest write it
 * from now on and have the vCPU retry: true.  Otherwise false, and the
 * caller goes on as for any other fault.
 */
bool xk_dirty_fault(struct xk_vcpu *v, u64 gpa)
{
	struct xk_vm *vm = v->vm;
	u64 gfn = gpa >> XK_PAGE_SHIFT;
	struct xk_slot *s;
	bool handled = false;

	if (gpa >> xk_gpa_bits()) /* beyond every slot and the tables */
		return false;
	host_spin_lock(vm->mmu_lock);
	s = xk_vm_find_slot(vm, gfn);
	if (s && s->dirty && !(s->flags & KVM_MEM_READONLY)) {
		xk_dirty_mark(s, gfn);
		xk_ops->protect_range(vm, gfn << XK_PAGE_SHIFT, 1, true);
		handled = true;
	}
	host_spin_unlock(vm->mmu_lock);
	if (handled)
		v->stats.pf_fixed++;
	return handled;
}

/*
 * Take word i of the log into snap and write-protect the pages it names;
 * returns how many.  mmu_lock held.
 */
static u64 collect_word(struct xk_vm *vm, struct xk_slot *s, u64 i, u64 *snap)
{
	u64 mask, pages = 0;

	if (!__atomic_load_n(&s->dirty[i], __ATOMIC_RELAXED))
		return 0;
	mask = __atomic_exchange_n(&s->dirty[i], 0, __ATOMIC_ACQ_REL);
	snap[i] = mask;
	while (mask) {
		u64 first = (u64)__builtin_ctzll(mask), n = 0;

		/* one call per run of consecutive dirty pages */
		while (first + n < 64 && (mask & XK_BIT(first + n)))
			n++;
		xk_ops->protect_range(
			vm, slot_gpa(s) + ((i * 64 + first) << XK_PAGE_SHIFT),
			n, false);
		pages += n;
		mask &= n == 64 ? 0 : ~(((XK_BIT(n) - 1)) << first);
	}
	return pages;
}

/*
 * Take the whole log into snap, a hold of mmu_lock per XK_MMU_BATCH units
 * of work (a word looked at, a page protected; a word's pages are never
 * split).  Whether any bit was set.
 */
static bool dirty_collect(struct xk_vm *vm, struct xk_slot *s, u64 *snap)
{
	u64 words = xk_dirty_bytes(s->npages) / 8, i = 0, n = 0;

	while (i < words) {
		u64 work = 0;

		host_spin_lock(vm->mmu_lock);
		while (i < words && work < XK_MMU_BATCH) {
			u64 pages = collect_word(vm, s, i++, snap);

			n += pages;
			work += 1 + pages;
		}
		host_spin_unlock(vm->mmu_lock);
		if (i < words)
			host_cond_resched();
	}
	return n != 0;
}

long xk_vm_get_dirty_log(struct xk_vm *vm, const struct kvm_dirty_log *log)
{
	u32 id = log->slot & 0xffff, as_id = log->slot >> 16;
	struct xk_slot *s = NULL;
	u64 *snap = NULL, bytes = 0;
	long r = 0;

	if (as_id >= XK_LINUX_AS_NUM || id >= XK_LINUX_USER_SLOTS)
		return -EINVAL;
	host_mutex_lock(vm->lock);
	if (as_id == 0 && id < XK_MAX_SLOTS)
		s = vm->slots[id];
	if (!s || !s->dirty) {
		r = -ENOENT;
		goto out;
	}
	bytes = xk_dirty_bytes(s->npages);
	snap = host_zalloc(bytes);
	if (!snap) {
		r = -ENOMEM;
		goto out;
	}
	if (dirty_collect(vm, s, snap))
		xk_vm_flush_all(vm);
out:
	host_mutex_unlock(vm->lock);
	if (snap) {
		/* after the unlock: the copy may wait on the VMM's memory */
		if (host_copy_to_user((u64)(uintptr_t)log->dirty_bitmap, snap,
				      bytes))
			r = -EFAULT;
		host_free(snap, bytes);
	}
	return r;
}
