// SPDX-License-Identifier: GPL-2.0
/*
 * test_memslot.c - KVM_SET_USER_MEMORY_REGION through the VM ioctl, with
 * Linux's rules (virt/kvm/kvm_main.c, __kvm_set_memory_region) as the
 * reference, and what the nested page tables hold afterwards (the fake
 * backend's map): every page of a slot mapped to the right host page,
 * read-only slots not writable, nothing left after a delete, pins released.
 */
#include <cpuid.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "fx.h"

#define GPA 0x100000ULL
#define NP 8
#define PG XK_PAGE_SIZE

/* Host addresses nobody touches: slots that are only mapped, never used. */
#define FAR_UADDR 0x500000000000ULL

static u64 ua(const void *p)
{
	return (u64)(uintptr_t)p;
}

static s64 pinned(void)
{
	struct host_held h;

	host_held(&h);
	return h.pinned;
}

/* Every page of [gpa, gpa + n pages) maps host + i pages, writable or not. */
static void expect_mapped(struct fx *f, u64 gpa, u64 n, u64 host, bool w)
{
	u64 i, hpa;
	bool wr;

	for (i = 0; i < n; i++) {
		xt_ctx("page %llu", (unsigned long long)i);
		XT_EQ(fake_map_lookup(f->vm, gpa + i * PG, &hpa, &wr), 0);
		XT_EQ(hpa, host + i * PG);
		XT_EQ(wr, w);
	}
	xt_ctx("%s", "");
}

static void expect_unmapped(struct fx *f, u64 gpa, u64 n)
{
	u64 i;

	for (i = 0; i < n; i++) {
		xt_ctx("page %llu", (unsigned long long)i);
		XT_EQ(fake_map_lookup(f->vm, gpa + i * PG, NULL, NULL),
		      -ENOENT);
	}
	xt_ctx("%s", "");
}

XT_TEST(memslot, create_maps_every_page)
{
	struct fx *f = fx_new_vm();
	s64 pin0 = pinned();
	u8 *h = fx_mem(f, 3, GPA, NP, 0);
	struct xk_slot *s;

	expect_mapped(f, GPA, NP, ua(h), true);
	expect_unmapped(f, GPA - PG, 1);
	expect_unmapped(f, GPA + NP * PG, 1);
	XT_EQ(fake_map_count(f->vm), NP);
	XT_EQ(pinned() - pin0, NP);
	s = xk_vm_find_slot(f->vm, (GPA >> 12) + NP - 1);
	XT_ASSERT(s && s->id == 3 && s->npages == NP);
	XT_ASSERT(!xk_vm_find_slot(f->vm, (GPA >> 12) + NP));
	XT_EQ(f->vm->nslots, 1);
	XT_EQ(f->vm->npages, NP);
}

XT_TEST(memslot, readonly_slot_mapped_not_writable)
{
	struct fx *f = fx_new_vm();
	u8 *h = fx_mem(f, 0, GPA, NP, KVM_MEM_READONLY);
	u32 v = 0x12345678, got = 0;

	expect_mapped(f, GPA, NP, ua(h), false);
	memcpy(h + 16, &v, 4);
	XT_EQ(xk_gpa_read(f->vm, GPA + 16, &got, 4), 0);
	XT_EQ(got, v);
	XT_EQ(xk_gpa_write(f->vm, GPA + 16, &got, 4), -EFAULT);
}

XT_TEST(memslot, delete_unmaps_and_unpins)
{
	struct fx *f = fx_new_vm();
	s64 pin0 = pinned();
	u8 *h = fx_mem(f, 5, GPA, NP, 0);

	(void)h;
	XT_EQ(fx_set_region(f, 5, 0, 0, 0, 0), 0); /* size 0: delete */
	expect_unmapped(f, GPA, NP);
	XT_EQ(fake_map_count(f->vm), 0);
	XT_EQ(pinned(), pin0);
	XT_ASSERT(!xk_vm_find_slot(f->vm, GPA >> 12));
	XT_EQ(f->vm->nslots, 0);
	XT_EQ(f->vm->npages, 0);
	/* deleting it again: the slot is empty */
	XT_EQ(fx_set_region(f, 5, 0, GPA, 0, ua(h)), -EINVAL);
}

XT_TEST(memslot, delete_empty_slot_einval)
{
	struct fx *f = fx_new_vm();

	XT_EQ(fx_set_region(f, 0, 0, 0, 0, 0), -EINVAL);
	XT_EQ(fx_set_region(f, 508, 0, GPA, 0, FAR_UADDR), -EINVAL);
	XT_EQ(fake_vm_calls(f->vm).unmap_range, 0);
}

XT_TEST(memslot, move_remaps_same_pages)
{
	struct fx *f = fx_new_vm();
	s64 pin0 = pinned();
	u8 *h = fx_mem(f, 1, GPA, NP, 0);
	u64 to = 0x40000000;
	u32 v = 0xfeedface, got = 0;

	memcpy(h + PG + 8, &v, 4);
	XT_EQ(fx_set_region(f, 1, 0, to, NP * PG, ua(h)), 0);
	expect_unmapped(f, GPA, NP);
	expect_mapped(f, to, NP, ua(h), true);
	XT_EQ(fake_map_count(f->vm), NP);
	XT_EQ(pinned() - pin0, NP);
	XT_EQ(xk_gpa_read(f->vm, to + PG + 8, &got, 4), 0);
	XT_EQ(got, v);
	XT_EQ(xk_gpa_read(f->vm, GPA + PG + 8, &got, 4), -EFAULT);
	/* moving onto part of its own old range is no overlap */
	XT_EQ(fx_set_region(f, 1, 0, to + 2 * PG, NP * PG, ua(h)), 0);
	expect_mapped(f, to + 2 * PG, NP, ua(h), true);
	expect_unmapped(f, to, 2);
	XT_EQ(fake_map_count(f->vm), NP);
}

XT_TEST(memslot, move_readonly_stays_readonly)
{
	struct fx *f = fx_new_vm();
	u8 *h = fx_mem(f, 2, GPA, 2, KVM_MEM_READONLY);

	XT_EQ(fx_set_region(f, 2, KVM_MEM_READONLY, 2 * GPA, 2 * PG, ua(h)), 0);
	expect_mapped(f, 2 * GPA, 2, ua(h), false);
}

XT_TEST(memslot, unchanged_region_is_a_noop)
{
	struct fx *f = fx_new_vm();
	u8 *h = fx_mem(f, 7, GPA, NP, 0);
	struct fake_vm_calls c0 = fake_vm_calls(f->vm);
	struct fake_vm_calls c1;

	XT_EQ(fx_set_region(f, 7, 0, GPA, NP * PG, ua(h)), 0);
	c1 = fake_vm_calls(f->vm);
	XT_EQ(c1.map_page, c0.map_page);
	XT_EQ(c1.unmap_range, c0.unmap_range);
	expect_mapped(f, GPA, NP, ua(h), true);
}

XT_TEST(memslot, modify_size_uaddr_or_readonly_einval)
{
	struct fx *f = fx_new_vm();
	u8 *h = fx_mem(f, 4, GPA, NP, 0);
	struct fake_vm_calls c0 = fake_vm_calls(f->vm);

	/* Linux: only the base (a move) or the flags may change */
	XT_EQ(fx_set_region(f, 4, 0, GPA, (NP - 1) * PG, ua(h)), -EINVAL);
	XT_EQ(fx_set_region(f, 4, 0, GPA, (NP + 1) * PG, ua(h)), -EINVAL);
	XT_EQ(fx_set_region(f, 4, 0, GPA, NP * PG, ua(h) + PG), -EINVAL);
	XT_EQ(fx_set_region(f, 4, KVM_MEM_READONLY, GPA, NP * PG, ua(h)),
	      -EINVAL);
	/* with a move at the same time: still refused */
	XT_EQ(fx_set_region(f, 4, 0, 2 * GPA, NP * PG, ua(h) + PG), -EINVAL);
	XT_EQ(fake_vm_calls(f->vm).map_page, c0.map_page);
	expect_mapped(f, GPA, NP, ua(h), true);
}

struct overlap_case {
	u64 gfn, n;
	int want;
};

XT_TEST(memslot, overlap_eexist)
{
	/* the existing slot covers gfns [0x100, 0x108) */
	static const struct overlap_case cases[] = {
		{ 0xfc, 4, 0 },         /* adjacent below */
		{ 0x108, 8, 0 },        /* adjacent above */
		{ 0xfc, 5, -EEXIST },   /* over the first page */
		{ 0x107, 3, -EEXIST },  /* over the last page */
		{ 0x102, 2, -EEXIST },  /* inside */
		{ 0xf0, 0x30, -EEXIST } /* around */
	};
	unsigned int i;

	for (i = 0; i < XK_ARRAY_SIZE(cases); i++) {
		struct fx *f = fx_new_vm();

		xt_ctx("case %u", i);
		fx_mem(f, 0, 0x100 * PG, 8, 0);
		XT_EQ(fx_set_region(f, 1, 0, cases[i].gfn * PG, cases[i].n * PG,
				    FAR_UADDR),
		      cases[i].want);
		XT_EQ(fake_map_count(f->vm),
		      8 + (cases[i].want ? 0 : cases[i].n));
		fx_destroy(f);
	}
}

XT_TEST(memslot, move_onto_another_slot_eexist)
{
	struct fx *f = fx_new_vm();
	u8 *a = fx_mem(f, 0, 0x100 * PG, 8, 0);
	u8 *b = fx_mem(f, 1, 0x200 * PG, 8, 0);

	XT_EQ(fx_set_region(f, 0, 0, 0x1fc * PG, 8 * PG, ua(a)), -EEXIST);
	expect_mapped(f, 0x100 * PG, 8, ua(a), true);
	expect_mapped(f, 0x200 * PG, 8, ua(b), true);
	XT_EQ(fake_map_count(f->vm), 16);
}

XT_TEST(memslot, flags_only_readonly_and_log_accepted)
{
	struct fx *f = fx_new_vm();
	unsigned int bit;

	for (bit = 0; bit < 32; bit++) {
		u32 flags = 1u << bit;

		xt_ctx("flag bit %u", bit);
		/* the two flags Linux 6.1 takes on x86 (test_dirty.c) */
		if (flags == KVM_MEM_READONLY ||
		    flags == KVM_MEM_LOG_DIRTY_PAGES)
			continue;
		XT_EQ(fx_set_region(f, 0, flags, GPA, PG, FAR_UADDR), -EINVAL);
	}
	XT_EQ(fake_map_count(f->vm), 0);
	XT_EQ(fx_set_region(f, 0, KVM_MEM_READONLY, GPA, PG, FAR_UADDR), 0);
	/* an invalid flag is refused for a delete too */
	XT_EQ(fx_set_region(f, 0, 1u << 5, 0, 0, 0), -EINVAL);
	XT_EQ(fake_map_count(f->vm), 1);
}

XT_TEST(memslot, misaligned_einval)
{
	static const u64 offs[] = { 1, 0x800, 0xfff };
	struct fx *f = fx_new_vm();
	unsigned int i;

	for (i = 0; i < XK_ARRAY_SIZE(offs); i++) {
		u64 o = offs[i];

		xt_ctx("offset %#llx", (unsigned long long)o);
		XT_EQ(fx_set_region(f, 0, 0, GPA + o, PG, FAR_UADDR), -EINVAL);
		XT_EQ(fx_set_region(f, 0, 0, GPA, PG + o, FAR_UADDR), -EINVAL);
		XT_EQ(fx_set_region(f, 0, 0, GPA, PG, FAR_UADDR + o), -EINVAL);
		/* a delete is checked the same way */
		XT_EQ(fx_set_region(f, 0, 0, GPA + o, 0, FAR_UADDR), -EINVAL);
	}
	XT_EQ(fake_map_count(f->vm), 0);
	XT_EQ(f->vm->nslots, 0);
}

XT_TEST(memslot, address_ranges_einval)
{
	struct fx *f = fx_new_vm();

	/* guest range wraps */
	XT_EQ(fx_set_region(f, 0, 0, 0xfffffffffffff000ULL, 2 * PG, FAR_UADDR),
	      -EINVAL);
	/* guest range beyond 52 bits, beyond the nested tables' 48 */
	XT_EQ(fx_set_region(f, 0, 0, (1ULL << 52) - PG, 2 * PG, FAR_UADDR),
	      -EINVAL);
	XT_EQ(fx_set_region(f, 0, 0, 1ULL << 48, PG, FAR_UADDR), -EINVAL);
	/* VMM range not a user range (access_ok), or wrapping */
	XT_EQ(fx_set_region(f, 0, 0, GPA, 2 * PG, 0x00007ffffffff000ULL - PG),
	      -EINVAL);
	XT_EQ(fx_set_region(f, 0, 0, GPA, 2 * PG, 0xffffffffffffe000ULL),
	      -EINVAL);
	XT_EQ(fx_set_region(f, 0, 0, GPA, 2 * PG, 0xffff800000000000ULL),
	      -EINVAL);
	/* more pages than a slot may have */
	XT_EQ(fx_set_region(f, 0, 0, 0, (XK_MAX_SLOT_PAGES + 1) * PG,
			    0x100000000000ULL),
	      -EINVAL);
	XT_EQ(f->vm->nslots, 0);
	XT_EQ(fake_vm_calls(f->vm).map_prepare, 0);
}

XT_TEST(memslot, slot_of_2g_pages_einval)
{
	struct fx *f = fx_new_vm();
	s64 pin0 = pinned();

	/* 2^31 pages: Linux refuses before anything else happens */
	XT_EQ(fx_set_region(f, 0, 0, 0, (1ULL << 31) * PG, 0x100000000000ULL),
	      -EINVAL);
	XT_EQ(pinned(), pin0);
}

XT_TEST(memslot, slot_id_and_address_space_limits)
{
	struct fx *f = fx_new_vm();

	XT_EQ(xk_vm_ioctl(f->vm, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS),
	      XK_MAX_SLOTS);
	XT_EQ(fx_set_region(f, XK_MAX_SLOTS, 0, GPA, PG, FAR_UADDR), -EINVAL);
	XT_EQ(fx_set_region(f, 0xffff, 0, GPA, PG, FAR_UADDR), -EINVAL);
	/* address space 1 (SMM in Linux): xkvm has a single one */
	XT_EQ(xk_vm_ioctl(f->vm, KVM_CHECK_EXTENSION,
			  KVM_CAP_MULTI_ADDRESS_SPACE),
	      0);
	XT_EQ(fx_set_region(f, 1u << 16, 0, GPA, PG, FAR_UADDR), -EINVAL);
	XT_EQ(fx_set_region(f, XK_MAX_SLOTS - 1, 0, GPA, PG, FAR_UADDR), 0);
	XT_EQ(fake_map_count(f->vm), 1);
}

XT_TEST(memslot, all_slots_in_use)
{
	struct fx *f = fx_new_vm();
	s64 pin0 = pinned();
	u32 i;

	for (i = 0; i < XK_MAX_SLOTS; i++) {
		xt_ctx("slot %u", i);
		XT_EQ(fx_set_region(f, i, 0, (u64)i * 2 * PG, PG,
				    FAR_UADDR + (u64)i * PG),
		      0);
	}
	XT_EQ(f->vm->nslots, XK_MAX_SLOTS);
	XT_EQ(fake_map_count(f->vm), XK_MAX_SLOTS);
	XT_EQ(pinned() - pin0, XK_MAX_SLOTS);
	expect_mapped(f, 2 * 100 * PG, 1, FAR_UADDR + 100 * PG, true);
	for (i = 0; i < XK_MAX_SLOTS; i += 2)
		XT_EQ(fx_set_region(f, i, 0, 0, 0, 0), 0);
	XT_EQ(fake_map_count(f->vm), XK_MAX_SLOTS / 2);
	fx_destroy(f);
	XT_EQ(pinned(), pin0);
}

XT_TEST(memslot, large_slot)
{
	struct fx *f = fx_new_vm();
	u64 n = 1ULL << 16; /* 256 MiB, never touched */

	XT_EQ(fx_set_region(f, 9, 0, 1ULL << 32, n * PG, FAR_UADDR), 0);
	XT_EQ(fake_map_count(f->vm), n);
	expect_mapped(f, (1ULL << 32) + (n - 1) * PG, 1,
		      FAR_UADDR + (n - 1) * PG, true);
	XT_EQ(f->vm->npages, n);
}

XT_TEST(memslot, guest_copies_across_slots)
{
	struct fx *f = fx_new_vm();
	u8 *a = fx_mem(f, 0, GPA, 1, 0);
	u8 *b = fx_mem(f, 1, GPA + PG, 1, 0);
	u8 buf[16], out[16];
	unsigned int i;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (u8)(0xa0 + i);
	XT_EQ(xk_gpa_write(f->vm, GPA + PG - 8, buf, 16), 0);
	XT_MEMEQ(a + PG - 8, buf, 8);
	XT_MEMEQ(b, buf + 8, 8);
	XT_EQ(xk_gpa_read(f->vm, GPA + PG - 8, out, 16), 0);
	XT_MEMEQ(out, buf, 16);
	/* into the hole after the second slot */
	XT_EQ(xk_gpa_read(f->vm, GPA + 2 * PG - 8, out, 16), -EFAULT);
	XT_EQ(xk_gpa_write(f->vm, GPA - 4, buf, 8), -EFAULT);
}

/*
 * xkvm pins a slot's pages when it is created (its design; Linux pins on
 * first use and accepts the region): memory the VMM does not have is
 * -EFAULT at once, and nothing stays held.
 */
XT_TEST(memslot, unmapped_vmm_memory_efault)
{
	struct fx *f = fx_new_vm();
	u8 *h = fx_alloc_pages(5);
	/* the VMM's memory: 4 pages of guest memory, then the ioctl argument */
	struct kvm_userspace_memory_region *r = (void *)(h + 4 * PG);
	struct host_held h0, h1;

	host_held(&h0);
	host_user_set_user_window(ua(h), 5 * PG);
	*r = (struct kvm_userspace_memory_region){ .slot = 0,
						   .guest_phys_addr = GPA,
						   .memory_size = 4 * PG,
						   .userspace_addr =
							   ua(h) + 2 * PG };
	XT_EQ(fx_vm_ioctl(f, KVM_SET_USER_MEMORY_REGION, r), -EFAULT);
	host_held(&h1);
	XT_EQ(h1.pinned, h0.pinned);
	XT_EQ(h1.objects - h0.objects, fake_map_objects(f->vm));
	XT_EQ(fake_map_count(f->vm), 0);
	XT_EQ(f->vm->nslots, 0);
	r->userspace_addr = ua(h);
	XT_EQ(fx_vm_ioctl(f, KVM_SET_USER_MEMORY_REGION, r), 0);
	XT_EQ(fake_map_count(f->vm), 4);
	/* the argument itself out of reach */
	XT_EQ(fx_set_region(f, 1, 0, 2 * GPA, PG, ua(h)), -EFAULT);
	XT_EQ(f->vm->nslots, 1);
}

/* Every allocation and pin of a slot creation, failed in turn. */
XT_TEST(memslot, create_fault_injection)
{
	unsigned long n, i;
	struct fx *f = fx_new_vm();

	host_user_fail_nth(0, HOST_USER_FAIL_ALL);
	XT_EQ(fx_set_region(f, 0, 0, GPA, NP * PG, FAR_UADDR), 0);
	n = host_user_fail_points();
	XT_ASSERT(n >= 3); /* the slot, the pin, the fake's tables */
	fx_destroy(f);

	for (i = 1; i <= n; i++) {
		struct host_held h0, h1;
		long r;

		xt_ctx("failure point %lu of %lu", i, n);
		f = fx_new_vm();
		host_held(&h0);
		host_user_fail_nth(i, HOST_USER_FAIL_ALL);
		r = fx_set_region(f, 0, 0, GPA, NP * PG, FAR_UADDR);
		XT_ASSERT(host_user_fail_fired());
		host_user_fail_nth(0, HOST_USER_FAIL_ALL);
		XT_ASSERT(r == -ENOMEM || r == -EFAULT);
		host_held(&h1);
		XT_EQ(h1.pinned, h0.pinned);
		XT_EQ(h1.pages, h0.pages);
		/* only table storage the fake keeps until the VM dies */
		XT_EQ(h1.objects - h0.objects, fake_map_objects(f->vm));
		XT_EQ(fake_map_count(f->vm), 0);
		XT_EQ(f->vm->nslots, 0);
		XT_EQ(f->vm->npages, 0);
		XT_ASSERT(!xk_vm_find_slot(f->vm, GPA >> 12));
		/* and the same call works now */
		XT_EQ(fx_set_region(f, 0, 0, GPA, NP * PG, FAR_UADDR), 0);
		XT_EQ(fake_map_count(f->vm), NP);
		fx_destroy(f);
	}
}

XT_TEST(memslot, map_failure_midway_unmaps_all)
{
	struct fx *f = fx_new_vm();
	s64 pin0 = pinned();

	fake_fail_map_page(f->vm, 5);
	XT_EQ(fx_set_region(f, 0, 0, GPA, NP * PG, FAR_UADDR), -ENOMEM);
	XT_EQ(fake_map_count(f->vm), 0);
	XT_EQ(pinned(), pin0);
	XT_EQ(f->vm->nslots, 0);
	XT_EQ(fx_set_region(f, 0, 0, GPA, NP * PG, FAR_UADDR), 0);
	XT_EQ(fake_map_count(f->vm), NP);
}

/*
 * Linux's KVM_MR_MOVE installs the new slot only once everything for it is
 * ready, and a failure leaves the old one in place: every allocation and
 * pin of a move, failed in turn.
 */
XT_TEST(memslot, failed_move_keeps_old_slot)
{
	unsigned long n, i;
	struct fx *f = fx_new_vm();
	u8 *h = fx_mem(f, 0, GPA, NP, 0);

	host_user_fail_nth(0, HOST_USER_FAIL_ALL);
	XT_EQ(fx_set_region(f, 0, 0, 4 * GPA, NP * PG, ua(h)), 0);
	n = host_user_fail_points();
	XT_ASSERT(n >= 2); /* the new slot, its pin */
	fx_destroy(f);

	for (i = 1; i <= n; i++) {
		s64 pin0;
		long r;

		xt_ctx("failure point %lu of %lu", i, n);
		f = fx_new_vm();
		h = fx_mem(f, 0, GPA, NP, 0);
		pin0 = pinned();
		host_user_fail_nth(i, HOST_USER_FAIL_ALL);
		r = fx_set_region(f, 0, 0, 4 * GPA, NP * PG, ua(h));
		XT_ASSERT(host_user_fail_fired());
		host_user_fail_nth(0, HOST_USER_FAIL_ALL);
		XT_ASSERT(r == -ENOMEM || r == -EFAULT);
		XT_ASSERT(xk_vm_find_slot(f->vm, GPA >> 12) != NULL);
		XT_ASSERT(!xk_vm_find_slot(f->vm, (4 * GPA) >> 12));
		expect_mapped(f, GPA, NP, ua(h), true);
		expect_unmapped(f, 4 * GPA, NP);
		XT_EQ(fake_map_count(f->vm), NP);
		XT_EQ(pinned(), pin0);
		XT_EQ(f->vm->nslots, 1);
		XT_EQ(f->vm->npages, NP);
		fx_destroy(f);
	}
}

XT_TEST(memslot, delete_and_move_flush_tlbs)
{
	struct fx *f = fx_new();
	u8 *h = fx_mem(f, 0, GPA, NP, 0);

	fx_script(f, NULL, 0);
	fx_run_to_end(f);
	XT_EQ(fake_tlb_flushes(f->v), 0); /* a new slot needs no flush */
	XT_EQ(fx_set_region(f, 0, 0, 2 * GPA, NP * PG, ua(h)), 0);
	fx_script(f, NULL, 0);
	fx_run_to_end(f);
	XT_EQ(fake_tlb_flushes(f->v), 1);
	XT_EQ(fx_set_region(f, 0, 0, 0, 0, 0), 0);
	fx_script(f, NULL, 0);
	fx_run_to_end(f);
	XT_EQ(fake_tlb_flushes(f->v), 2);
	XT_EQ(f->vm->stats.remote_tlb_flush, 2);
}

/*
 * A slot deleted while a vCPU is in the guest: the pages leave the nested
 * tables first, the vCPU is kicked out, and the pages are unpinned only
 * once it has left (xk_vm_flush_all).
 */
struct in_guest_view {
	struct fx *f;
	int lookup;   /* fake_map_lookup of the slot, seen in the guest */
	s64 pinned;   /* pinned pages then */
	bool checked; /* the callback ran */
};

static void look_after_kick(struct xk_vcpu *v, void *arg)
{
	struct in_guest_view *g = arg;

	(void)v;
	g->lookup = fake_map_lookup(g->f->vm, GPA, NULL, NULL);
	g->pinned = pinned();
	g->checked = true;
}

static void *vcpu_thread(void *arg)
{
	struct fx *f = arg;

	return (void *)(intptr_t)xk_vcpu_ioctl(f->v, KVM_RUN, 0);
}

XT_TEST(memslot, delete_waits_for_running_vcpu)
{
	struct fx *f = fx_new();
	s64 pin0 = pinned();
	struct in_guest_view g = { .f = f };
	unsigned long kicks0 = host_user_kicks();
	pthread_t t;
	void *ret;

	fx_mem(f, 0, GPA, NP, 0);
	FX_SCRIPT(f, { .kind = FAKE_WAIT_KICK,
		       .guest = look_after_kick,
		       .arg = &g });
	XT_EQ(pthread_create(&t, NULL, vcpu_thread, f), 0);
	while (!fake_in_wait(f->v))
		__builtin_ia32_pause();
	XT_EQ(fx_set_region(f, 0, 0, 0, 0, 0), 0);
	/* the vCPU left the guest before the delete returned */
	XT_ASSERT(g.checked);
	XT_EQ(pthread_join(t, &ret), 0);
	XT_EQ((intptr_t)ret, 0);
	fx_check_fake();
	XT_EQ(f->run->exit_reason, KVM_EXIT_UNKNOWN);
	XT_EQ(g.lookup, -ENOENT);   /* unmapped before the kick */
	XT_EQ(g.pinned - pin0, NP); /* still pinned while in the guest */
	XT_EQ(pinned(), pin0);
	XT_ASSERT(host_user_kicks() > kicks0);
}

/* min(48, MAXPHYADDR), from CPUID here, not from the code under test. */
static u8 want_gpa_bits(void)
{
	unsigned int a, b, c, d, bits = 36;

	if (__get_cpuid(0x80000000, &a, &b, &c, &d) && a >= 0x80000008 &&
	    __get_cpuid(0x80000008, &a, &b, &c, &d))
		bits = a & 0xff;
	return (u8)(bits < 48 ? bits : 48);
}

/*
 * Slots end within the guest-physical width (Linux: kvm_mmu_max_gfn):
 * the four-level nested tables reach 48 bits, and X + 2^48 would share
 * X's leaf.  Exactly at the limit is fine, a page beyond is EINVAL, for
 * a new slot and a move; EEXIST is checked first, as in Linux.
 */
XT_TEST(memslot, guest_physical_limit)
{
	struct fx *f = fx_new_vm();
	u64 lim = 1ULL << want_gpa_bits();
	s64 pin0 = pinned();

	XT_EQ(xk_gpa_bits(), want_gpa_bits());
	XT_EQ(fx_set_region(f, 0, 0, lim - 2 * PG, 2 * PG, FAR_UADDR), 0);
	expect_mapped(f, lim - 2 * PG, 2, FAR_UADDR, true);
	XT_EQ(fx_set_region(f, 1, 0, lim - PG, 2 * PG, FAR_UADDR + 4 * PG),
	      -EEXIST);
	XT_EQ(fx_set_region(f, 1, 0, lim, PG, FAR_UADDR + 4 * PG), -EINVAL);
	XT_EQ(fx_set_region(f, 1, 0, lim + (1ULL << 30), PG,
			    FAR_UADDR + 4 * PG),
	      -EINVAL);
	/* an alias of slot 0 through the tables' reach */
	XT_EQ(fx_set_region(f, 1, KVM_MEM_LOG_DIRTY_PAGES,
			    (lim - 2 * PG) + (1ULL << 48), PG,
			    FAR_UADDR + 4 * PG),
	      -EINVAL);
	XT_EQ(fx_set_region(f, 1, 0, 0, PG, FAR_UADDR + 4 * PG), 0);
	/* a move beyond the limit leaves the slot where it was */
	XT_EQ(fx_set_region(f, 1, 0, lim, PG, FAR_UADDR + 4 * PG), -EINVAL);
	XT_EQ(fx_set_region(f, 1, 0, 1ULL << 48, PG, FAR_UADDR + 4 * PG),
	      -EINVAL);
	expect_mapped(f, 0, 1, FAR_UADDR + 4 * PG, true);
	XT_EQ(fake_map_count(f->vm), 3);
	XT_EQ(pinned() - pin0, 3);
}

/* KVM_GET_SUPPORTED_CPUID's 0x80000008 says the same width. */
XT_TEST(memslot, supported_cpuid_gives_the_width)
{
	struct {
		struct kvm_cpuid2 c;
		struct kvm_cpuid_entry2 e[XK_MAX_CPUID];
	} t;
	unsigned int a, b, c, d, i;
	u8 host;

	XT_ASSERT(__get_cpuid(0x80000000, &a, &b, &c, &d));
	if (a < 0x80000008)
		return; /* no leaf: nothing to say */
	__get_cpuid(0x80000008, &a, &b, &c, &d);
	host = a & 0xff;
	memset(&t, 0, sizeof(t));
	t.c.nent = XK_MAX_CPUID;
	XT_EQ(xk_dev_ioctl(KVM_GET_SUPPORTED_CPUID, (u64)(uintptr_t)&t), 0);
	for (i = 0; i < t.c.nent; i++) {
		const struct kvm_cpuid_entry2 *e = &t.c.entries[i];

		if (e->function != 0x80000008)
			continue;
		XT_EQ(e->eax & 0xff, host);
		/* GuestPhysAddrSize: 0 means "as PhysAddrSize" */
		XT_EQ((e->eax >> 16) & 0xff,
		      want_gpa_bits() < host ? want_gpa_bits() : 0);
		return;
	}
	XT_FAIL("no leaf 0x80000008");
}

/*
 * Pinning faults the VMM's memory in and may wait on it (userfaultfd):
 * vm->lock, which every vCPU of the VM needs, is free meanwhile, and a
 * change made by another thread meanwhile is seen.
 */
struct pin_probe {
	struct fx *f;
	unsigned long calls, locked;
	u64 other_uaddr; /* when set: the "other thread" creates slot 1 */
	long other;
};

static void probe_user_access(void *arg)
{
	struct pin_probe *p = arg;

	p->calls++;
	if (!host_mutex_trylock(p->f->vm->lock))
		p->locked++;
	else
		host_mutex_unlock(p->f->vm->lock);
	if (p->other_uaddr) {
		u64 ua2 = p->other_uaddr;

		p->other_uaddr = 0;
		p->other = fx_set_region(p->f, 1, 0, 2 * GPA, NP * PG, ua2);
	}
}

static void unhook(void *arg)
{
	(void)arg;
	host_user_set_user_access_hook(NULL, NULL);
}

XT_TEST(memslot, pin_without_vm_lock)
{
	struct fx *f = fx_new_vm();
	struct pin_probe p = { .f = f };

	xt_cleanup(unhook, NULL);
	host_user_set_user_access_hook(probe_user_access, &p);
	XT_EQ(fx_set_region(f, 0, 0, GPA, NP * PG, FAR_UADDR), 0); /* new */
	XT_EQ(fx_set_region(f, 0, 0, 2 * GPA, NP * PG, FAR_UADDR),
	      0);                                  /* move */
	XT_EQ(fx_set_region(f, 0, 0, 0, 0, 0), 0); /* delete */
	host_user_set_user_access_hook(NULL, NULL);
	XT_ASSERT(p.calls >= 2);
	XT_EQ(p.locked, 0);
}

/* Another thread made the same slot while this one pinned: a move now. */
XT_TEST(memslot, slot_changed_while_pinning)
{
	struct fx *f = fx_new_vm();
	struct pin_probe p = { .f = f, .other_uaddr = FAR_UADDR };
	s64 pin0 = pinned();

	xt_cleanup(unhook, NULL);
	host_user_set_user_access_hook(probe_user_access, &p);
	XT_EQ(fx_set_region(f, 1, 0, GPA, NP * PG, FAR_UADDR), 0);
	XT_EQ(p.other, 0);
	expect_mapped(f, GPA, NP, FAR_UADDR, true);
	expect_unmapped(f, 2 * GPA, NP);
	XT_EQ(pinned() - pin0, NP); /* one pin: the other went */
	XT_EQ(f->vm->nslots, 1);

	/* the other thread moves slot 1 where this one puts slot 2 */
	p.other_uaddr = FAR_UADDR;
	XT_EQ(fx_set_region(f, 2, 0, 2 * GPA, NP * PG, FAR_UADDR + 4 * NP * PG),
	      -EEXIST);
	XT_EQ(p.other, 0);
	expect_mapped(f, 2 * GPA, NP, FAR_UADDR, true);
	XT_EQ(pinned() - pin0, NP); /* slot 2's pin was dropped */
	XT_EQ(f->vm->nslots, 1);
	host_user_set_user_access_hook(NULL, NULL);
}
