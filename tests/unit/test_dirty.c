// SPDX-License-Identifier: GPL-2.0
/*
 * test_dirty.c - dirty page logging (core/dirty.c) on the fake backend:
 * the flag rules of KVM_SET_USER_MEMORY_REGION with KVM_MEM_LOG_DIRTY_PAGES
 * (Linux 6.1: with READONLY allowed, toggled on an existing slot), what
 * the nested tables hold (read-only while logging), write faults marking
 * pages and unprotecting them, GET_DIRTY_LOG's copy (exactly the rounded
 * bitmap size), re-arming, TLB flushes, errnos, the driver's own writes,
 * a moved slot keeping its log, and nothing leaked.
 */
#include <stdint.h>
#include <string.h>

#include "fx.h"

#define GPA 0x100000ULL
#define PG XK_PAGE_SIZE
#define LOG KVM_MEM_LOG_DIRTY_PAGES

static u64 ua(const void *p)
{
	return (u64)(uintptr_t)p;
}

static long get_log(struct fx *f, u32 slot, void *bitmap)
{
	struct kvm_dirty_log l;

	memset(&l, 0, sizeof(l));
	l.slot = slot;
	l.dirty_bitmap = bitmap;
	return fx_vm_ioctl(f, KVM_GET_DIRTY_LOG, &l);
}

static bool writable(struct fx *f, u64 gpa)
{
	bool w = true;

	XT_EQ(fake_map_lookup(f->vm, gpa, NULL, &w), 0);
	return w;
}

/* Run a script of write faults at these page indexes of the slot at GPA. */
static void guest_writes(struct fx *f, const unsigned int *pages,
			 unsigned int n)
{
	struct fake_step st[8];
	unsigned int i;

	XT_ASSERT(n <= 8);
	memset(st, 0, sizeof(st));
	for (i = 0; i < n; i++) {
		st[i].kind = FAKE_NPF;
		st[i].gpa = GPA + pages[i] * PG + 8;
		st[i].write = true;
	}
	fx_script(f, st, n);
	fx_run_to_end(f);
}

XT_TEST(dirty, bitmap_bytes_rounded_to_64_bits)
{
	XT_EQ(xk_dirty_bytes(1), 8);
	XT_EQ(xk_dirty_bytes(64), 8);
	XT_EQ(xk_dirty_bytes(65), 16);
	XT_EQ(xk_dirty_bytes(128), 16);
	XT_EQ(xk_dirty_bytes(129), 24);
	XT_EQ(xk_dirty_bytes((1ULL << 31) - 1), 1ULL << 28);
}

XT_TEST(dirty, flag_rules)
{
	struct fx *f = fx_new_vm();
	u8 *h = fx_alloc_pages(4);

	XT_EQ(fx_set_region(f, 0, LOG | 0x4, GPA, 4 * PG, ua(h)), -EINVAL);
	XT_EQ(fx_set_region(f, 0, LOG | KVM_MEM_READONLY, GPA, 4 * PG, ua(h)),
	      0);
	XT_ASSERT(f->vm->slots[0]->dirty);
	XT_ASSERT(!writable(f, GPA));
	/* READONLY may not change, with or without LOG */
	XT_EQ(fx_set_region(f, 0, LOG, GPA, 4 * PG, ua(h)), -EINVAL);
	XT_EQ(fx_set_region(f, 0, KVM_MEM_READONLY, GPA, 4 * PG, ua(h)), 0);
	XT_ASSERT(!f->vm->slots[0]->dirty);
	XT_ASSERT(!writable(f, GPA)); /* read-only stays read-only */
	XT_EQ(fx_set_region(f, 0, 0, 0, 0, 0), 0);
	/* a plain slot: logging on, same flags again, off */
	XT_EQ(fx_set_region(f, 1, 0, GPA, 4 * PG, ua(h)), 0);
	XT_ASSERT(writable(f, GPA + 3 * PG));
	XT_EQ(fx_set_region(f, 1, LOG, GPA, 4 * PG, ua(h)), 0);
	XT_EQ(f->vm->slots[1]->flags, LOG);
	XT_ASSERT(!writable(f, GPA) && !writable(f, GPA + 3 * PG));
	XT_EQ(fx_set_region(f, 1, LOG, GPA, 4 * PG, ua(h)), 0);
	XT_EQ(fx_set_region(f, 1, 0, GPA, 4 * PG, ua(h)), 0);
	XT_EQ(f->vm->slots[1]->flags, 0);
	XT_ASSERT(!f->vm->slots[1]->dirty);
	XT_ASSERT(writable(f, GPA) && writable(f, GPA + 3 * PG));
}

XT_TEST(dirty, get_log_errnos)
{
	struct fx *f = fx_new_vm();
	u64 bm[2];

	fx_mem(f, 0, GPA, 4, 0);
	fx_mem(f, 1, 2 * GPA, 4, LOG);
	XT_EQ(get_log(f, 0, bm), -ENOENT);   /* no logging */
	XT_EQ(get_log(f, 2, bm), -ENOENT);   /* absent */
	XT_EQ(get_log(f, 508, bm), -ENOENT); /* our last id */
	XT_EQ(get_log(f, 509, bm), -ENOENT); /* Linux has more */
	XT_EQ(get_log(f, 32763, bm), -ENOENT);
	XT_EQ(get_log(f, 32764, bm), -EINVAL); /* Linux x86's limit */
	XT_EQ(get_log(f, 0xffff, bm), -EINVAL);
	XT_EQ(get_log(f, 0x10001, bm), -ENOENT); /* SMM address space */
	XT_EQ(get_log(f, 0x20001, bm), -EINVAL);
	XT_EQ(get_log(f, 1, NULL), -EFAULT);
	XT_EQ(fx_vm_ioctl(f, KVM_GET_DIRTY_LOG, NULL), -EFAULT);
	XT_EQ(get_log(f, 1, bm), 0);
}

XT_TEST(dirty, faults_mark_unprotect_and_get_rearms)
{
	static const unsigned int w1[] = { 0, 63, 64, 69 }, w2[] = { 64, 2 };
	struct fx *f = fx_new();
	u64 bm[4];

	fx_mem(f, 1, GPA, 70, LOG); /* 70 pages: two words */
	XT_ASSERT(!writable(f, GPA) && !writable(f, GPA + 69 * PG));
	guest_writes(f, w1, 4);
	XT_ASSERT(writable(f, GPA) && writable(f, GPA + 63 * PG));
	XT_ASSERT(writable(f, GPA + 69 * PG) && !writable(f, GPA + PG));
	XT_EQ(fake_tlb_flushes(f->v), 0); /* unprotecting needs no flush */

	memset(bm, 0xa5, sizeof(bm));
	XT_EQ(get_log(f, 1, bm), 0);
	XT_EQ(bm[0], XK_BIT(0) | XK_BIT(63));
	XT_EQ(bm[1], XK_BIT(0) | XK_BIT(5));
	XT_EQ(bm[2], 0xa5a5a5a5a5a5a5a5ULL); /* 16 bytes, no more */
	XT_ASSERT(!writable(f, GPA) && !writable(f, GPA + 69 * PG));
	fx_script(f, NULL, 0);
	fx_run_to_end(f);
	XT_EQ(fake_tlb_flushes(f->v), 1);

	/* nothing written: empty, and no flush */
	XT_EQ(get_log(f, 1, bm), 0);
	XT_EQ(bm[0] | bm[1], 0);
	guest_writes(f, w2, 2);
	XT_EQ(get_log(f, 1, bm), 0);
	XT_EQ(bm[0], XK_BIT(2));
	XT_EQ(bm[1], XK_BIT(0));
	fx_script(f, NULL, 0);
	fx_run_to_end(f);
	XT_EQ(fake_tlb_flushes(f->v), 2);
}

XT_TEST(dirty, write_fault_on_readonly_slot_is_mmio)
{
	struct fx *f = fx_new();
	u64 bm = ~0ULL;

	fx_mem(f, 1, GPA, 2, LOG | KVM_MEM_READONLY);
	FX_SCRIPT(f, { .kind = FAKE_NPF, .gpa = GPA + 8, .write = true });
	/* the fake's NPF has no instruction to decode: the core cannot
	 * emulate it, but it must not call it a dirty page either */
	(void)fx_run(f);
	XT_EQ(get_log(f, 1, &bm), 0);
	XT_EQ(bm, 0);
	XT_ASSERT(!writable(f, GPA));
}

XT_TEST(dirty, driver_writes_mark_pages)
{
	struct fx *f = fx_new_vm();
	u8 *h = fx_mem(f, 1, GPA, 4, LOG);
	u32 val = 0x12345678;
	u64 bm;

	XT_EQ(xk_gpa_write(f->vm, GPA + 2 * PG - 2, &val, 4), 0);
	XT_EQ(xk_gpa_read(f->vm, GPA + 3 * PG, &val, 4), 0); /* a read */
	XT_EQ(get_log(f, 1, &bm), 0);
	XT_EQ(bm, XK_BIT(1) | XK_BIT(2));
	XT_EQ(h[2 * PG - 2], 0x78);
	/* logging off: not marked, no bitmap */
	XT_EQ(fx_set_region(f, 1, 0, GPA, 4 * PG, ua(h)), 0);
	XT_EQ(xk_gpa_write(f->vm, GPA, &val, 4), 0);
	XT_EQ(get_log(f, 1, &bm), -ENOENT);
	/* on again: a fresh log */
	XT_EQ(fx_set_region(f, 1, LOG, GPA, 4 * PG, ua(h)), 0);
	XT_EQ(get_log(f, 1, &bm), 0);
	XT_EQ(bm, 0);
}

XT_TEST(dirty, move_keeps_the_log)
{
	static const unsigned int w[] = { 3 };
	struct fx *f = fx_new();
	u8 *h = fx_mem(f, 1, GPA, 4, LOG);
	u64 bm;

	guest_writes(f, w, 1);
	XT_EQ(fx_set_region(f, 1, LOG, 4 * GPA, 4 * PG, ua(h)), 0);
	XT_ASSERT(!writable(f, 4 * GPA + 3 * PG)); /* mapped read-only */
	XT_EQ(get_log(f, 1, &bm), 0);
	XT_EQ(bm, XK_BIT(3));
	/* moved again, logging dropped at the same time */
	XT_EQ(fx_set_region(f, 1, 0, 2 * GPA, 4 * PG, ua(h)), 0);
	XT_ASSERT(writable(f, 2 * GPA));
	XT_EQ(get_log(f, 1, &bm), -ENOENT);
	/* and moved back with logging: a new, empty log */
	XT_EQ(fx_set_region(f, 1, LOG, GPA, 4 * PG, ua(h)), 0);
	XT_EQ(get_log(f, 1, &bm), 0);
	XT_EQ(bm, 0);
}

XT_TEST(dirty, nothing_leaks)
{
	struct host_held h0, h1;
	struct fx *f;
	u8 *h = fx_alloc_pages(200);

	host_held(&h0);
	f = fx_new_vm();
	XT_EQ(fx_set_region(f, 1, LOG, GPA, 200 * PG, ua(h)), 0);
	XT_EQ(fx_set_region(f, 2, 0, 4 * GPA, 100 * PG, ua(h)), 0);
	XT_EQ(fx_set_region(f, 2, LOG, 4 * GPA, 100 * PG, ua(h)), 0);
	XT_EQ(fx_set_region(f, 2, 0, 4 * GPA, 100 * PG, ua(h)), 0);
	XT_EQ(fx_set_region(f, 2, LOG, 4 * GPA, 100 * PG, ua(h)), 0);
	XT_EQ(fx_set_region(f, 2, LOG, 8 * GPA, 100 * PG, ua(h)), 0);
	XT_EQ(fx_set_region(f, 1, 0, 0, 0, 0), 0);
	fx_destroy(f); /* slot 2 goes with the VM, its log too */
	host_held(&h1);
	XT_EQ(h1.objects, h0.objects);
	XT_EQ(h1.pages, h0.pages);
	XT_EQ(h1.pinned, h0.pinned);
}

/*
 * GET_DIRTY_LOG copies the bitmap to the VMM, which may fault and wait
 * on its memory (userfaultfd): vm->lock is free by then.
 */
struct lock_probe {
	struct fx *f;
	unsigned long calls, locked;
};

static void probe_lock(void *arg)
{
	struct lock_probe *p = arg;

	p->calls++;
	if (!host_mutex_trylock(p->f->vm->lock))
		p->locked++;
	else
		host_mutex_unlock(p->f->vm->lock);
}

static void unhook(void *arg)
{
	(void)arg;
	host_user_set_user_access_hook(NULL, NULL);
}

XT_TEST(dirty, get_log_copies_without_vm_lock)
{
	static const unsigned int w[] = { 1, 3 };
	struct fx *f = fx_new();
	struct lock_probe p = { .f = f };
	u64 bm[1] = { 0 };

	fx_mem(f, 0, GPA, 8, LOG);
	guest_writes(f, w, 2);
	xt_cleanup(unhook, NULL);
	host_user_set_user_access_hook(probe_lock, &p);
	XT_EQ(get_log(f, 0, bm), 0);
	host_user_set_user_access_hook(NULL, NULL);
	XT_EQ(bm[0], 0xa);
	XT_ASSERT(p.calls >= 1);
	XT_EQ(p.locked, 0);
	XT_ASSERT(!writable(f, GPA + PG) && !writable(f, GPA + 3 * PG));
}
