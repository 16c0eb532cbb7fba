// SPDX-License-Identifier: GPL-2.0
/*
 * npt.c - AMD nested page tables: guest physical to host physical.
 *
 * Theory.  Four levels of 512 eight-byte entries, the long-mode format (APM
 * vol. 2, 15.25): the tables reach guest physical addresses below 2^48
 * (NPT_GPA_BITS) and nothing above.  An index taken from bits 47:12 alone
 * would make X and X + 2^48 share a leaf, so every entry point refuses a
 * range that does not end below that reach (map and prepare with -EINVAL,
 * the others do nothing and warn: the core never asks, its slots end below
 * 2^xk_gpa_bits()).  Every nested access counts as a user access, so every
 * entry has U set; leaves are 4 KiB, writable unless the slot is read-only,
 * with PAT index 0 (write-back): the guest's own PAT and MTRRs pick the
 * memory type on top of it.  While a slot logs dirty pages its leaves are
 * read-only, and npt_protect() gives a page write access back at its first
 * write fault (core/dirty.c); there are no large pages to split.
 *
 * Each table is a struct npt_table: the hardware page plus, for the upper
 * levels, an array of the child tables' descriptors, so walking and freeing
 * never needs to turn a physical address back into a pointer (a host
 * service the core does not have).  Each table counts its present entries
 * (used: leaves, or linked children).
 *
 * Life of a table.  npt_prepare() (may sleep) allocates the tables a range
 * needs, links each one under mmu_lock and queues it as a prune candidate;
 * npt_unmap() queues a leaf table it left empty.  npt_prune() (under
 * mmu_lock, a bounded number per call) unlinks the candidates that are
 * still empty, a parent following once its own count falls to zero, and
 * moves them to the pruned list: a vCPU may still hold their entries in
 * its TLB or page-walk cache, so they are freed by npt_free_pruned() only,
 * which the core calls after xk_vm_flush_all().  The core prunes at the end
 * of every slot change, so outside one a VM holds exactly the tables its
 * mapped pages need: the root, and one table per 512 GiB, 1 GiB and 2 MiB
 * region holding a mapped page (mmu_pages counts them).
 *
 * Locking.  Counts, child arrays and both lists change only in slot
 * changes, which hold vm->lock throughout, and under vm->mmu_lock (table
 * allocation itself sleeps, outside it); VM destruction runs alone.  The
 * one other writer is a vCPU's dirty-log write fault, which holds only
 * mmu_lock and flips the write bit of one present leaf.  Entries are
 * written with atomics: the CPU walks them concurrently and sets their
 * accessed and dirty bits.
 */
#include "svm.h"

#define NPT_P XK_BIT(0)
#define NPT_RW XK_BIT(1)
#define NPT_US XK_BIT(2)
#define NPT_ADDR 0x000ffffffffff000ULL
#define NPT_LEVELS 4
#define NPT_ENTRIES 512
#define NPT_GPA_BITS (XK_PAGE_SHIFT + 9 * NPT_LEVELS)
#define NPT_LEAF_SPAN (XK_PAGE_SIZE * NPT_ENTRIES) /* one leaf table: 2 MiB */
#define NPT_RESCHED 512 /* tables allocated or freed between resched points */

_Static_assert(NPT_GPA_BITS == XK_TDP_GPA_BITS,
	       "the core's guest-physical limit is these tables' reach");

struct npt_table {
	u64 *hw; /* the page the CPU walks */
	u64 hpa;
	struct npt_table **child; /* levels 4..2: 512 children */
	struct npt_table *parent; /* NULL: the root, or unlinked */
	struct npt_table *next;   /* on sv->prune or sv->pruned */
	u16 index;                /* in the parent */
	u16 used;                 /* present entries */
	u8 level;                 /* 4 = root ... 1 = leaf table */
	bool queued;              /* on sv->prune */
};

static unsigned int npt_index(u64 gpa, int level)
{
	return (gpa >> (XK_PAGE_SHIFT + 9 * (level - 1))) & (NPT_ENTRIES - 1);
}

/* Does [gpa, gpa + npages pages) end within the tables' reach? */
static bool npt_in_reach(u64 gpa, u64 npages)
{
	u64 top = 1ULL << NPT_GPA_BITS;

	return gpa < top && npages <= (top - gpa) >> XK_PAGE_SHIFT;
}

static struct npt_table *table_alloc(struct svm_vm *sv, int level)
{
	struct npt_table *t = host_zalloc(sizeof(*t));

	if (!t)
		return NULL;
	t->level = (u8)level;
	t->hw = host_pages_alloc(0, &t->hpa);
	if (level > 1)
		t->child = host_zalloc(NPT_ENTRIES * sizeof(*t->child));
	if (!t->hw || (level > 1 && !t->child)) {
		if (t->child)
			host_free(t->child, NPT_ENTRIES * sizeof(*t->child));
		if (t->hw)
			host_pages_free(t->hw, 0);
		host_free(t, sizeof(*t));
		return NULL;
	}
	sv->vm->stats.mmu_pages++;
	return t;
}

static void table_free(struct svm_vm *sv, struct npt_table *t)
{
	int i;

	if (t->child) {
		for (i = 0; i < NPT_ENTRIES; i++)
			if (t->child[i])
				table_free(sv, t->child[i]);
		host_free(t->child, NPT_ENTRIES * sizeof(*t->child));
		if (t->level == 2)
			host_cond_resched(); /* up to 512 leaf tables freed */
	}
	host_pages_free(t->hw, 0);
	host_free(t, sizeof(*t));
	sv->vm->stats.mmu_pages--;
}

/* A table worth a look at the next prune.  mmu_lock held. */
static void queue_prune(struct svm_vm *sv, struct npt_table *t)
{
	if (t->queued || !t->parent)
		return;
	t->queued = true;
	t->next = sv->prune;
	sv->prune = t;
}

int npt_init(struct svm_vm *sv)
{
	sv->npt_root = table_alloc(sv, NPT_LEVELS);
	return sv->npt_root ? 0 : -ENOMEM;
}

void npt_destroy(struct svm_vm *sv)
{
	npt_free_pruned(sv);
	if (sv->npt_root)
		table_free(sv, sv->npt_root); /* the candidates are in it */
	sv->npt_root = NULL;
	sv->prune = NULL;
}

u64 npt_root_hpa(struct svm_vm *sv)
{
	return sv->npt_root->hpa;
}

/* The tables down to gpa's leaf table, allocated where missing. */
static int prepare_path(struct svm_vm *sv, u64 gpa, u64 *made)
{
	struct npt_table *t = sv->npt_root;

	while (t->level > 1) {
		unsigned int i = npt_index(gpa, t->level);
		struct npt_table *c = t->child[i];

		if (!c) {
			c = table_alloc(sv, t->level - 1);
			if (!c)
				return -ENOMEM;
			host_spin_lock(sv->vm->mmu_lock);
			c->parent = t;
			c->index = (u16)i;
			t->child[i] = c;
			t->used++;
			__atomic_store_n(&t->hw[i],
					 c->hpa | NPT_P | NPT_RW | NPT_US,
					 __ATOMIC_RELEASE);
			/* pruned again if nothing comes to use it */
			queue_prune(sv, c);
			host_spin_unlock(sv->vm->mmu_lock);
			if (++*made % NPT_RESCHED == 0)
				host_cond_resched();
		}
		t = c;
	}
	return 0;
}

/*
 * Allocate the tables down to the leaf level for [gpa, gpa + n pages).
 * May sleep; vm->lock held.  What it made and nothing used goes at the
 * next npt_prune(), so a failure leaves nothing behind for long.
 */
int npt_prepare(struct svm_vm *sv, u64 gpa, u64 npages)
{
	u64 end, made = 0;
	int r;

	if (!npt_in_reach(gpa, npages))
		return -EINVAL;
	end = gpa + (npages << XK_PAGE_SHIFT);
	while (gpa < end) {
		r = prepare_path(sv, gpa, &made);
		if (r)
			return r;
		/* next leaf table: the next 2 MiB boundary */
		gpa = (gpa | (NPT_LEAF_SPAN - 1)) + 1;
	}
	return 0;
}

/* The leaf table holding gpa's entry, or NULL.  gpa within reach. */
static struct npt_table *leaf_table(struct svm_vm *sv, u64 gpa)
{
	struct npt_table *t = sv->npt_root;

	while (t && t->level > 1)
		t = t->child[npt_index(gpa, t->level)];
	return t;
}

int npt_map(struct svm_vm *sv, u64 gpa, u64 hpa, bool writable)
{
	struct npt_table *t;
	u64 *pte;

	if (!npt_in_reach(gpa, 1))
		return -EINVAL;
	t = leaf_table(sv, gpa);
	if (!t)
		return -ENOMEM;
	pte = &t->hw[npt_index(gpa, 1)];
	if (!(__atomic_load_n(pte, __ATOMIC_RELAXED) & NPT_P))
		t->used++;
	__atomic_store_n(pte,
			 (hpa & NPT_ADDR) | NPT_P | NPT_US |
				 (writable ? NPT_RW : 0),
			 __ATOMIC_RELEASE);
	sv->vm->stats.mmu_pte_write++;
	return 0;
}

/*
 * Call fn on every present leaf of [gpa, gpa + npages pages), one leaf
 * table at a time; fn returns whether it cleared the entry.  Missing leaf
 * tables are skipped whole.
 */
static void for_each_leaf(struct svm_vm *sv, u64 gpa, u64 npages,
			  bool (*fn)(struct svm_vm *sv, u64 *pte, bool arg),
			  bool arg)
{
	u64 end = gpa + (npages << XK_PAGE_SHIFT);

	while (gpa < end) {
		u64 stop = XK_MIN(end, (gpa | (NPT_LEAF_SPAN - 1)) + 1);
		struct npt_table *t = leaf_table(sv, gpa);

		for (; t && gpa < stop; gpa += XK_PAGE_SIZE) {
			u64 *pte = &t->hw[npt_index(gpa, 1)];

			if (!(__atomic_load_n(pte, __ATOMIC_RELAXED) & NPT_P))
				continue;
			if (fn(sv, pte, arg) && --t->used == 0)
				queue_prune(sv, t);
		}
		gpa = stop;
	}
}

static bool leaf_zap(struct svm_vm *sv, u64 *pte, bool unused)
{
	(void)unused;
	__atomic_store_n(pte, 0, __ATOMIC_RELEASE);
	sv->vm->stats.mmu_pte_zap++;
	return true;
}

/* Clear the leaves of a range.  mmu_lock held; no TLB flush here. */
void npt_unmap(struct svm_vm *sv, u64 gpa, u64 npages)
{
	if (XK_WARN_ON(!npt_in_reach(gpa, npages)))
		return;
	for_each_leaf(sv, gpa, npages, leaf_zap, false);
}

static bool leaf_protect(struct svm_vm *sv, u64 *pte, bool writable)
{
	u64 old = __atomic_load_n(pte, __ATOMIC_RELAXED);

	if (!!(old & NPT_RW) == writable)
		return false;
	/* atomic: the CPU may set the entry's A/D bits meanwhile */
	if (writable)
		__atomic_fetch_or(pte, NPT_RW, __ATOMIC_RELEASE);
	else
		__atomic_fetch_and(pte, ~NPT_RW, __ATOMIC_RELEASE);
	sv->vm->stats.mmu_pte_write++;
	return false;
}

/* Set or clear write access on the present leaves of a range (dirty log). */
void npt_protect(struct svm_vm *sv, u64 gpa, u64 npages, bool writable)
{
	if (XK_WARN_ON(!npt_in_reach(gpa, npages)))
		return;
	for_each_leaf(sv, gpa, npages, leaf_protect, writable);
}

bool npt_translate(struct svm_vm *sv, u64 gpa, u64 *hpa)
{
	struct npt_table *t;
	u64 pte;

	if (!npt_in_reach(gpa & XK_PAGE_MASK, 1))
		return false;
	t = leaf_table(sv, gpa);
	if (!t)
		return false;
	pte = __atomic_load_n(&t->hw[npt_index(gpa, 1)], __ATOMIC_RELAXED);
	if (!(pte & NPT_P))
		return false;
	*hpa = (pte & NPT_ADDR) | (gpa & ~XK_PAGE_MASK);
	return true;
}

/*
 * Unlink up to max candidates that are still empty (see the theory); true
 * while candidates are left.  mmu_lock and vm->lock held.
 */
bool npt_prune(struct svm_vm *sv, u32 max)
{
	while (sv->prune && max) {
		struct npt_table *t = sv->prune, *p = t->parent;

		sv->prune = t->next;
		t->next = NULL;
		t->queued = false;
		max--;
		if (t->used)
			continue;
		__atomic_store_n(&p->hw[t->index], 0, __ATOMIC_RELEASE);
		p->child[t->index] = NULL;
		t->parent = NULL;
		t->next = sv->pruned;
		sv->pruned = t;
		if (--p->used == 0)
			queue_prune(sv, p); /* never the root: no parent */
	}
	return sv->prune != NULL;
}

/* Free what npt_prune() unlinked: only once no vCPU can walk it. */
void npt_free_pruned(struct svm_vm *sv)
{
	u64 n = 0;

	while (sv->pruned) {
		struct npt_table *t = sv->pruned;

		sv->pruned = t->next;
		table_free(sv, t);
		if (++n % NPT_RESCHED == 0)
			host_cond_resched();
	}
}
