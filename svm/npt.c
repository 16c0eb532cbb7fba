// SPDX-License-Identifier: GPL-2.0
/*
 * npt.c - AMD nested page tables: guest physical to host physical.
 *
 * Theory.  Four levels of 512 eight-byte entries, the long-mode format (APM
 * vol. 2, 15.25).  Every nested access counts as a user access, so every
 * entry has U set; leaves are 4 KiB, writable unless the slot is read-only,
 * with PAT index 0 (write-back): the guest's own PAT and MTRRs pick the
 * memory type on top of it.  While a slot logs dirty pages its leaves are
 * read-only, and npt_protect() gives a page write access back at its first
 * write fault (core/dirty.c); there are no large pages to split.
 *
 * Each table is a struct npt_table: the hardware page plus, for the upper
 * levels, an array of the child tables' descriptors, so walking and freeing
 * never needs to turn a physical address back into a pointer (a host
 * service the core does not have).  Tables are allocated by npt_prepare(),
 * which may sleep, under vm->lock; entries are set and cleared under
 * vm->mmu_lock, which keeps lookups from allocating.  Tables are only freed
 * with the VM.
 */
#include "svm.h"

#define NPT_P XK_BIT(0)
#define NPT_RW XK_BIT(1)
#define NPT_US XK_BIT(2)
#define NPT_ADDR 0x000ffffffffff000ULL
#define NPT_LEVELS 4

struct npt_table {
	u64 *hw; /* the page the CPU walks */
	u64 hpa;
	struct npt_table **child; /* levels 4..2: 512 children */
	int level;                /* 4 = root ... 1 = leaf table */
};

static unsigned int npt_index(u64 gpa, int level)
{
	return (gpa >> (12 + 9 * (level - 1))) & 511;
}

static struct npt_table *table_alloc(struct svm_vm *sv, int level)
{
	struct npt_table *t = host_zalloc(sizeof(*t));

	if (!t)
		return NULL;
	t->level = level;
	t->hw = host_pages_alloc(0, &t->hpa);
	if (level > 1)
		t->child = host_zalloc(512 * sizeof(*t->child));
	if (!t->hw || (level > 1 && !t->child)) {
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
		for (i = 0; i < 512; i++)
			if (t->child[i])
				table_free(sv, t->child[i]);
		host_free(t->child, 512 * sizeof(*t->child));
	}
	host_pages_free(t->hw, 0);
	host_free(t, sizeof(*t));
	sv->vm->stats.mmu_pages--;
}

int npt_init(struct svm_vm *sv)
{
	sv->npt_root = table_alloc(sv, NPT_LEVELS);
	return sv->npt_root ? 0 : -ENOMEM;
}

void npt_destroy(struct svm_vm *sv)
{
	if (sv->npt_root)
		table_free(sv, sv->npt_root);
	sv->npt_root = NULL;
}

u64 npt_root_hpa(struct svm_vm *sv)
{
	return sv->npt_root->hpa;
}

/* Allocate the tables down to the leaf level for [gpa, gpa + n pages). */
int npt_prepare(struct svm_vm *sv, u64 gpa, u64 npages)
{
	u64 end = gpa + (npages << XK_PAGE_SHIFT);

	while (gpa < end) {
		struct npt_table *t = sv->npt_root;

		while (t->level > 1) {
			unsigned int i = npt_index(gpa, t->level);
			struct npt_table *c = t->child[i];

			if (!c) {
				c = table_alloc(sv, t->level - 1);
				if (!c)
					return -ENOMEM;
				t->child[i] = c;
				__atomic_store_n(&t->hw[i],
						 c->hpa | NPT_P | NPT_RW |
							 NPT_US,
						 __ATOMIC_RELEASE);
			}
			t = c;
		}
		/* next leaf table: the next 2 MiB boundary */
		gpa = (gpa | ((1ULL << 21) - 1)) + 1;
	}
	return 0;
}

/* The leaf entry for gpa, or NULL when its tables do not exist. */
static u64 *npt_leaf(struct svm_vm *sv, u64 gpa)
{
	struct npt_table *t = sv->npt_root;

	while (t && t->level > 1)
		t = t->child[npt_index(gpa, t->level)];
	return t ? &t->hw[npt_index(gpa, 1)] : NULL;
}

int npt_map(struct svm_vm *sv, u64 gpa, u64 hpa, bool writable)
{
	u64 *pte = npt_leaf(sv, gpa);

	if (!pte)
		return -ENOMEM;
	__atomic_store_n(pte,
			 (hpa & NPT_ADDR) | NPT_P | NPT_US |
				 (writable ? NPT_RW : 0),
			 __ATOMIC_RELEASE);
	sv->vm->stats.mmu_pte_write++;
	return 0;
}

void npt_unmap(struct svm_vm *sv, u64 gpa, u64 npages)
{
	u64 i;

	for (i = 0; i < npages; i++) {
		u64 *pte = npt_leaf(sv, gpa + (i << XK_PAGE_SHIFT));

		if (pte && *pte) {
			__atomic_store_n(pte, 0, __ATOMIC_RELEASE);
			sv->vm->stats.mmu_pte_zap++;
		}
	}
}

/* Set or clear write access on the present leaves of a range (dirty log). */
void npt_protect(struct svm_vm *sv, u64 gpa, u64 npages, bool writable)
{
	u64 i;

	for (i = 0; i < npages; i++) {
		u64 *pte = npt_leaf(sv, gpa + (i << XK_PAGE_SHIFT));
		u64 old;

		if (!pte)
			continue;
		old = __atomic_load_n(pte, __ATOMIC_RELAXED);
		if (!(old & NPT_P) || !!(old & NPT_RW) == writable)
			continue;
		/* atomic: the CPU may set the entry's A/D bits meanwhile */
		if (writable)
			__atomic_fetch_or(pte, NPT_RW, __ATOMIC_RELEASE);
		else
			__atomic_fetch_and(pte, ~NPT_RW, __ATOMIC_RELEASE);
		sv->vm->stats.mmu_pte_write++;
	}
}

bool npt_translate(struct svm_vm *sv, u64 gpa, u64 *hpa)
{
	u64 *pte = npt_leaf(sv, gpa);

	if (!pte || !(*pte & NPT_P))
		return false;
	*hpa = (*pte & NPT_ADDR) | (gpa & ~XK_PAGE_MASK);
	return true;
}
