// SPDX-License-Identifier: GPL-2.0
/*
 * test_npt.c - a property test of the nested page tables: svm/npt.c itself,
 * built here against host/user's page allocator, wired into the vendor
 * operations as svm.c wires it, and driven by the core's own slot and
 * dirty-log code (vm.c, dirty.c) with random slot creations, moves and
 * deletions, read-only and dirty-log flags and toggles, guest writes and
 * dirty-log collections, at guest physical addresses anywhere: small, near
 * and beyond the guest-physical limit, near and beyond 2^48, and aliases
 * (X + 2^48) of existing slots.  A model of the slots says what every
 * ioctl must answer (Linux's rules) and what the tables must hold.
 *
 * After every step the hardware tables are walked and must hold exactly:
 * every page of every slot mapped to its own host page; nothing outside the
 * slots; a read-only slot's pages never writable; a logging slot's page
 * writable only if it was written since the last collection (its dirty bit
 * is set: moves keep the log and map it read-only, so the converse is not
 * required); any other slot's pages writable.  Each table's count of
 * present entries is right, and the table pages are exactly those the
 * mapped pages need (the root and one per 512 GiB, 1 GiB and 2 MiB region
 * holding a mapped page), as held pages and the mmu_pages statistic say.
 *
 * Between the batches of a slot change (host_cond_resched, where a vCPU
 * runs concurrently) the tables may hold the old and the new state, but
 * every leaf still maps a page of the slot that is or was at its address,
 * never writable where neither allows it, and a logging slot's writable
 * page has its bit; a simulated vCPU write fault is taken there too.  The
 * page-table work between two resched points is bounded.
 *
 * Reproducible: the seed is printed; XKVM_NPT_SEED=<n> replays one,
 * XKVM_NPT_SEED=random takes a fresh one, XKVM_NPT_STEPS=<n> runs longer
 * (default 10000 steps, a few seconds under the sanitizers).
 */
#include <cpuid.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xtest.h"
#include "fakes/fake_vendor.h"
#include "../../svm/npt.c"

#define PG XK_PAGE_SIZE
#define NSLOT 8
#define MAX_WORK 2048 /* page-table work allowed between resched points */
#define UADDR_BASE 0x100000000000ULL /* VMM addresses: never touched */

struct mslot {
	bool used;
	u32 flags;
	u64 gfn, npages, uaddr;
};

struct model {
	struct mslot s[NSLOT];
};

static struct {
	struct xk_vm *vm;
	u64 rng;
	u8 gpa_bits; /* the limit the driver must keep: min(48, MAXPHYADDR) */
	struct model cur;  /* the slots as they are */
	struct model next; /* as they will be once the change under way ends */
	/* pages written since the last collection, by slot id, for the
	 * driver's bitmap logp[id] (a new bitmap starts a new record) */
	u64 *dirtied[NSLOT];
	u64 *logp[NSLOT];
	u64 next_uaddr;
	struct host_held held0;
	/* work on the tables since the last resched point */
	u64 work, max_work;
	bool in_hook;
	/* what the run exercised */
	unsigned long hooks, hook_faults, faults, ok, einval, eexist, enomem;
	unsigned long collected, beyond;
	struct xk_vcpu vcpu; /* stands for the faulting vCPU */
	char err[512];
	bool failed;
} P;

static void __attribute__((format(printf, 1, 2))) perr(const char *fmt, ...)
{
	va_list ap;

	if (P.failed)
		return;
	P.failed = true;
	va_start(ap, fmt);
	vsnprintf(P.err, sizeof(P.err), fmt, ap);
	va_end(ap);
}

static u64 rnd(void)
{
	/* xorshift64* */
	P.rng ^= P.rng >> 12;
	P.rng ^= P.rng << 25;
	P.rng ^= P.rng >> 27;
	return P.rng * 0x2545f4914f6cdd1dULL;
}

static u64 rnd_below(u64 n)
{
	return n ? rnd() % n : 0;
}

/* ---- the vendor operations, as svm.c wires npt.c ---- */

static struct svm_vm *sv_of(struct xk_vm *vm)
{
	return vm->vendor;
}

static void add_work(u64 n)
{
	if (!P.in_hook)
		P.work += n;
}

static int t_vm_init(struct xk_vm *vm)
{
	struct svm_vm *sv = host_zalloc(sizeof(*sv));
	int r;

	if (!sv)
		return -ENOMEM;
	sv->vm = vm;
	vm->vendor = sv;
	r = npt_init(sv);
	if (r) {
		host_free(sv, sizeof(*sv));
		vm->vendor = NULL;
	}
	return r;
}

static void t_vm_destroy(struct xk_vm *vm)
{
	npt_destroy(sv_of(vm));
	host_free(sv_of(vm), sizeof(struct svm_vm));
	vm->vendor = NULL;
}

static int t_map_page(struct xk_vm *vm, u64 gpa, u64 hpa, bool writable)
{
	add_work(1);
	return npt_map(sv_of(vm), gpa, hpa, writable);
}

static void t_unmap_range(struct xk_vm *vm, u64 gpa, u64 npages)
{
	add_work(npages);
	npt_unmap(sv_of(vm), gpa, npages);
}

static void t_protect_range(struct xk_vm *vm, u64 gpa, u64 npages,
			    bool writable)
{
	add_work(npages);
	npt_protect(sv_of(vm), gpa, npages, writable);
}

static int t_map_prepare(struct xk_vm *vm, u64 gpa, u64 npages)
{
	return npt_prepare(sv_of(vm), gpa, npages);
}

static bool t_translate(struct xk_vm *vm, u64 gpa, u64 *hpa)
{
	return npt_translate(sv_of(vm), gpa, hpa);
}

static bool t_prune(struct xk_vm *vm, u32 max)
{
	struct npt_table *t;
	u64 n = 0;

	for (t = sv_of(vm)->prune; t && n < max; t = t->next)
		n++;
	add_work(n); /* at least this many looked at */
	return npt_prune(sv_of(vm), max);
}

static void t_free_pruned(struct xk_vm *vm)
{
	npt_free_pruned(sv_of(vm));
}

static const struct xk_vendor_ops npt_test_ops = {
	.name = "npt (user space)",
	.vm_init = t_vm_init,
	.vm_destroy = t_vm_destroy,
	.map_page = t_map_page,
	.unmap_range = t_unmap_range,
	.protect_range = t_protect_range,
	.map_prepare = t_map_prepare,
	.translate = t_translate,
	.prune = t_prune,
	.free_pruned = t_free_pruned,
};

/* ---- the model ---- */

static int model_find(const struct model *m, u64 gfn)
{
	int i;

	for (i = 0; i < NSLOT; i++)
		if (m->s[i].used && gfn >= m->s[i].gfn &&
		    gfn - m->s[i].gfn < m->s[i].npages)
			return i;
	return -1;
}

static u64 model_hpa(const struct mslot *s, u64 gfn)
{
	return s->uaddr + (gfn - s->gfn) * PG;
}

static bool dirtied(int id, u64 idx)
{
	return P.dirtied[id] && (P.dirtied[id][idx / 64] & XK_BIT(idx % 64));
}

/* Start slot id's record anew for the driver's bitmap log (or none). */
static void log_record(int id, u64 *log, u64 npages)
{
	free(P.dirtied[id]);
	P.dirtied[id] = log ? calloc((npages + 63) / 64, 8) : NULL;
	P.logp[id] = log;
	if (log && !P.dirtied[id])
		perr("out of memory");
}

/* A write fault set page idx's bit in slot s's log. */
static void dirtied_set(const struct xk_slot *s, u64 idx)
{
	int id = (int)s->id;

	if (P.logp[id] != s->dirty) /* a log that began in this change */
		log_record(id, s->dirty, s->npages);
	if (P.dirtied[id])
		P.dirtied[id][idx / 64] |= XK_BIT(idx % 64);
}

/* After a change: a new log has a clean record, a slot without none. */
static void sync_logs(void)
{
	int id;

	for (id = 0; id < NSLOT; id++) {
		struct xk_slot *s = P.vm->slots[id];
		u64 *log = s ? s->dirty : NULL;

		if (log != P.logp[id])
			log_record(id, log, s ? s->npages : 0);
	}
}

/* ---- walking the hardware tables ---- */

struct walk {
	u64 tables[NPT_LEVELS + 1]; /* by level */
	u64 empty;                  /* non-root tables with no entry */
	void (*leaf)(u64 gfn, u64 pte, void *arg);
	void *arg;
};

/* Check one table's structure and visit its entries.  mmu_lock held. */
static void walk_table(struct npt_table *t, u64 gfn0, struct walk *w)
{
	unsigned int i, present = 0;
	u64 span = 1ULL << (9 * (t->level - 1)); /* pages under an entry */

	w->tables[t->level]++;
	for (i = 0; i < NPT_ENTRIES; i++) {
		u64 e = __atomic_load_n(&t->hw[i], __ATOMIC_RELAXED);
		u64 gfn = gfn0 + i * span;

		if (t->level > 1) {
			struct npt_table *c = t->child[i];

			if (!!(e & NPT_P) != !!c) {
				perr("level %d entry %u: present %d, child %p",
				     t->level, i, !!(e & NPT_P), (void *)c);
				continue;
			}
			if (!c)
				continue;
			present++;
			if ((e & NPT_ADDR) != c->hpa ||
			    c->level != t->level - 1 || c->parent != t ||
			    c->index != i ||
			    (e & (NPT_RW | NPT_US)) != (NPT_RW | NPT_US))
				perr("level %d entry %u: bad link %#llx",
				     t->level, i, (unsigned long long)e);
			walk_table(c, gfn, w);
		} else if (e & NPT_P) {
			present++;
			if (!(e & NPT_US))
				perr("leaf %#llx without U",
				     (unsigned long long)gfn);
			w->leaf(gfn, e, w->arg);
		}
	}
	if (present != t->used)
		perr("level %d table at gfn %#llx counts %u entries, has %u",
		     t->level, (unsigned long long)gfn0, t->used, present);
	if (!present && t->parent)
		w->empty++;
}

static void walk_all(struct walk *w)
{
	host_spin_lock(P.vm->mmu_lock);
	walk_table(sv_of(P.vm)->npt_root, 0, w);
	host_spin_unlock(P.vm->mmu_lock);
}

/* The leaf of gpa (0 if none).  mmu_lock held. */
static u64 leaf_of(u64 gpa)
{
	struct npt_table *t;

	if (gpa >> NPT_GPA_BITS)
		return 0;
	t = leaf_table(sv_of(P.vm), gpa);
	return t ? __atomic_load_n(&t->hw[npt_index(gpa, 1)],
				   __ATOMIC_RELAXED) :
		   0;
}

/* ---- the checks ---- */

struct full {
	u64 leaves[NSLOT];
};

static void full_leaf(u64 gfn, u64 pte, void *arg)
{
	struct full *f = arg;
	int k = model_find(&P.cur, gfn);
	const struct mslot *s;
	bool w = pte & NPT_RW;

	if (k < 0) {
		perr("gfn %#llx mapped outside every slot",
		     (unsigned long long)gfn);
		return;
	}
	s = &P.cur.s[k];
	f->leaves[k]++;
	if ((pte & NPT_ADDR) != model_hpa(s, gfn))
		perr("gfn %#llx maps %#llx, not slot %d's %#llx",
		     (unsigned long long)gfn,
		     (unsigned long long)(pte & NPT_ADDR), k,
		     (unsigned long long)model_hpa(s, gfn));
	else if (w && (s->flags & KVM_MEM_READONLY))
		perr("gfn %#llx of read-only slot %d is writable",
		     (unsigned long long)gfn, k);
	else if (w && (s->flags & KVM_MEM_LOG_DIRTY_PAGES) &&
		 !dirtied(k, gfn - s->gfn))
		perr("gfn %#llx of logging slot %d writable, not dirtied",
		     (unsigned long long)gfn, k);
	else if (!w &&
		 !(s->flags & (KVM_MEM_READONLY | KVM_MEM_LOG_DIRTY_PAGES)))
		perr("gfn %#llx of writable slot %d is read-only",
		     (unsigned long long)gfn, k);
}

/* Distinct regions of 2^shift pages holding a page of some slot. */
static u64 regions(const struct model *m, unsigned int shift)
{
	u64 lo[NSLOT], hi[NSLOT], n = 0, count = 0, end = 0;
	unsigned int i, j;
	bool any = false;

	for (i = 0; i < NSLOT; i++) {
		if (!m->s[i].used)
			continue;
		lo[n] = m->s[i].gfn >> shift;
		hi[n] = (m->s[i].gfn + m->s[i].npages - 1) >> shift;
		n++;
	}
	for (i = 0; i < n; i++) /* sort by lo */
		for (j = i + 1; j < n; j++)
			if (lo[j] < lo[i]) {
				u64 a = lo[i], b = hi[i];

				lo[i] = lo[j];
				hi[i] = hi[j];
				lo[j] = a;
				hi[j] = b;
			}
	for (i = 0; i < n; i++) {
		u64 from = any && lo[i] <= end ? end + 1 : lo[i];

		if (hi[i] >= from)
			count += hi[i] - from + 1;
		if (!any || hi[i] > end)
			end = hi[i];
		any = true;
	}
	return count;
}

/* Every slot's state in the driver: the bitmap matches the model's. */
static void check_logs(void)
{
	int k;

	for (k = 0; k < NSLOT; k++) {
		const struct mslot *m = &P.cur.s[k];
		struct xk_slot *s = P.vm->slots[k];
		u64 i;

		if (!m->used) {
			if (s)
				perr("slot %d exists, the model has none", k);
			continue;
		}
		if (!s || s->base_gfn != m->gfn || s->npages != m->npages ||
		    s->flags != m->flags) {
			perr("slot %d differs from the model", k);
			continue;
		}
		if (!(m->flags & KVM_MEM_LOG_DIRTY_PAGES) != !s->dirty) {
			perr("slot %d: log %p with flags %#x", k,
			     (void *)s->dirty, m->flags);
			continue;
		}
		for (i = 0; s->dirty && i < m->npages; i++)
			if (!!(s->dirty[i / 64] & XK_BIT(i % 64)) !=
			    dirtied(k, i)) {
				perr("slot %d page %llu: dirty bit %d", k,
				     (unsigned long long)i, !dirtied(k, i));
				break;
			}
	}
}

static void check_full(const char *what)
{
	struct full f = { { 0 } };
	struct walk w = { .leaf = full_leaf, .arg = &f };
	struct svm_vm *sv = sv_of(P.vm);
	struct host_held h;
	u64 want[NPT_LEVELS + 1], tables = 0, pages = 0;
	int k, l;

	walk_all(&w);
	for (k = 0; k < NSLOT; k++) {
		if (!P.cur.s[k].used)
			continue;
		pages += P.cur.s[k].npages;
		if (f.leaves[k] != P.cur.s[k].npages)
			perr("slot %d: %llu of %llu pages mapped", k,
			     (unsigned long long)f.leaves[k],
			     (unsigned long long)P.cur.s[k].npages);
	}
	want[4] = 1;
	want[3] = regions(&P.cur, 27);
	want[2] = regions(&P.cur, 18);
	want[1] = regions(&P.cur, 9);
	for (l = 1; l <= NPT_LEVELS; l++) {
		tables += w.tables[l];
		if (w.tables[l] != want[l])
			perr("%llu level-%d tables, the mapped pages need %llu",
			     (unsigned long long)w.tables[l], l,
			     (unsigned long long)want[l]);
	}
	if (w.empty || sv->prune || sv->pruned)
		perr("%llu empty tables, prune list %p, pruned list %p",
		     (unsigned long long)w.empty, (void *)sv->prune,
		     (void *)sv->pruned);
	if (P.vm->stats.mmu_pages != tables)
		perr("mmu_pages %llu, tables %llu",
		     (unsigned long long)P.vm->stats.mmu_pages,
		     (unsigned long long)tables);
	host_held(&h);
	if ((u64)(h.pages - P.held0.pages) != tables ||
	    (u64)(h.pinned - P.held0.pinned) != pages)
		perr("held %lld pages, %lld pinned; want %llu, %llu",
		     (long long)(h.pages - P.held0.pages),
		     (long long)(h.pinned - P.held0.pinned),
		     (unsigned long long)tables, (unsigned long long)pages);
	if (P.vm->npages != pages)
		perr("vm->npages %llu, want %llu",
		     (unsigned long long)P.vm->npages,
		     (unsigned long long)pages);
	check_logs();
	if (P.max_work > MAX_WORK)
		perr("%llu pages of table work between resched points",
		     (unsigned long long)P.max_work);
	if (P.failed)
		XT_FAIL("after %s: %s", what, P.err);
}

/* Between batches: the old or the new state, page by page. */
static void between_leaf(u64 gfn, u64 pte, void *arg)
{
	int kb = model_find(&P.cur, gfn), ka = model_find(&P.next, gfn);
	u64 hpa = pte & NPT_ADDR;
	bool ob = kb >= 0 && hpa == model_hpa(&P.cur.s[kb], gfn);
	bool oa = ka >= 0 && hpa == model_hpa(&P.next.s[ka], gfn);
	struct xk_slot *s;

	(void)arg;
	if (!ob && !oa) {
		perr("between batches: gfn %#llx maps %#llx, no slot's page",
		     (unsigned long long)gfn, (unsigned long long)hpa);
		return;
	}
	if (!(pte & NPT_RW))
		return;
	if (!(ob && !(P.cur.s[kb].flags & KVM_MEM_READONLY)) &&
	    !(oa && !(P.next.s[ka].flags & KVM_MEM_READONLY)))
		perr("between batches: gfn %#llx of a read-only slot writable",
		     (unsigned long long)gfn);
	/* what a vCPU's fault would find: a logging slot has the bit */
	s = xk_vm_find_slot(P.vm, gfn);
	if (s && s->dirty && hpa == host_pin_hpa(s->pin, gfn - s->base_gfn) &&
	    !(s->dirty[(gfn - s->base_gfn) / 64] &
	      XK_BIT((gfn - s->base_gfn) % 64)))
		perr("between batches: gfn %#llx writable, its bit clear",
		     (unsigned long long)gfn);
}

/* A gpa in a slot of the model m (or 0). */
static u64 some_slot_gpa(const struct model *m)
{
	int k = (int)rnd_below(NSLOT), i;

	for (i = 0; i < NSLOT; i++, k = (k + 1) % NSLOT)
		if (m->s[k].used)
			return (m->s[k].gfn + rnd_below(m->s[k].npages)) * PG;
	return 0;
}

static void guest_write(u64 gpa, bool quiescent);

/* host_cond_resched: where the core pauses between batches. */
static void resched_hook(void *arg)
{
	struct walk w = { .leaf = between_leaf };
	u64 gpa;

	(void)arg;
	if (P.in_hook)
		return;
	P.in_hook = true;
	P.hooks++;
	if (P.work > P.max_work)
		P.max_work = P.work;
	P.work = 0;
	walk_all(&w);
	/* a vCPU writes meanwhile */
	gpa = some_slot_gpa(rnd() & 1 ? &P.cur : &P.next);
	if (gpa)
		guest_write(gpa, false);
	P.in_hook = false;
}

/* ---- the steps ---- */

/*
 * The guest writes gpa, as the NPF handler (svm.c) would take it: through
 * a writable leaf, or a write fault that the dirty log takes, or (outside
 * a change only) RAM/MMIO as xk_vm_gpa_is_ram says.
 */
static void guest_write(u64 gpa, bool quiescent)
{
	u64 gfn = gpa >> XK_PAGE_SHIFT, pte;
	struct xk_slot *s;
	int k = model_find(&P.cur, gfn);

	host_spin_lock(P.vm->mmu_lock);
	pte = leaf_of(gpa);
	s = xk_vm_find_slot(P.vm, gfn);
	host_spin_unlock(P.vm->mmu_lock);
	if ((pte & NPT_P) && (pte & NPT_RW)) {
		if (s && s->dirty &&
		    !(s->dirty[(gfn - s->base_gfn) / 64] &
		      XK_BIT((gfn - s->base_gfn) % 64)))
			perr("write through gfn %#llx: no dirty bit",
			     (unsigned long long)gfn);
		return;
	}
	if (xk_dirty_fault(&P.vcpu, gpa)) {
		if (!s || !s->dirty || (s->flags & KVM_MEM_READONLY)) {
			perr("dirty fault at %#llx taken without a log",
			     (unsigned long long)gpa);
			return;
		}
		host_spin_lock(P.vm->mmu_lock);
		pte = leaf_of(gpa);
		host_spin_unlock(P.vm->mmu_lock);
		if (!(pte & NPT_P) || !(pte & NPT_RW))
			perr("dirty fault at %#llx left it read-only",
			     (unsigned long long)gpa);
		dirtied_set(s, gfn - s->base_gfn);
		if (quiescent)
			P.faults++;
		else
			P.hook_faults++;
		return;
	}
	if (!quiescent)
		return; /* the handler would wait for vm->lock, then retry */
	if (xk_vm_gpa_is_ram(P.vm, gpa, true) !=
	    (k >= 0 && !(P.cur.s[k].flags & KVM_MEM_READONLY)))
		perr("write at %#llx: RAM %d, model slot %d",
		     (unsigned long long)gpa, !(k >= 0), k);
	else if (k >= 0 && !(P.cur.s[k].flags & KVM_MEM_READONLY))
		perr("write fault at %#llx of writable slot %d not taken",
		     (unsigned long long)gpa, k);
	if (xk_vm_gpa_is_ram(P.vm, gpa, false) != (k >= 0))
		perr("read at %#llx: RAM %d, model slot %d",
		     (unsigned long long)gpa, !(k >= 0), k);
}

/* An interesting guest physical address. */
static u64 rnd_gpa(void)
{
	u64 lim = 1ULL << P.gpa_bits, k = rnd_below(4) * PG, g;

	switch (rnd_below(11)) {
	case 0:
		return rnd_below(64) * PG;
	case 1:
		return lim - PG - k;
	case 2:
		return lim + k;
	case 3:
		return (1ULL << 48) - PG - k;
	case 4:
		return (1ULL << 48) + k;
	case 5: /* an alias of a slot */
		g = some_slot_gpa(&P.cur);
		return (g + (1ULL << (rnd() & 1 ? 48 : P.gpa_bits))) &
		       ((1ULL << 52) - 1);
	case 6:
		return rnd_below(1ULL << 40) & XK_PAGE_MASK;
	case 7: /* below a 2 MiB, 1 GiB or 512 GiB boundary */
		g = 1ULL << (21 + 9 * rnd_below(3));
		return g * (1 + rnd_below(8)) - PG - k;
	case 8:
		return some_slot_gpa(&P.cur) & ~((1ULL << 21) - 1);
	case 9:
		return rnd_below(lim) & XK_PAGE_MASK;
	default:
		return rnd_below(1ULL << 52) & XK_PAGE_MASK;
	}
}

static u64 rnd_npages(u64 big)
{
	switch (rnd_below(8)) {
	case 0:
		return 1;
	case 1:
		return 512 + rnd_below(3);
	case 2:
		return 1 + rnd_below(big);
	default:
		return 1 + rnd_below(64);
	}
}

/* Linux's answer to a new or moved slot id at gfn, against the model. */
static long expect_place(int id, u64 gfn, u64 npages)
{
	int i;

	for (i = 0; i < NSLOT; i++) {
		const struct mslot *s = &P.cur.s[i];

		if (i != id && s->used && gfn < s->gfn + s->npages &&
		    s->gfn < gfn + npages)
			return -EEXIST;
	}
	if (gfn + npages > 1ULL << (P.gpa_bits - XK_PAGE_SHIFT))
		return -EINVAL;
	return 0;
}

static long set_region(int id, u32 flags, u64 gpa, u64 npages, u64 uaddr)
{
	struct kvm_userspace_memory_region r = {
		.slot = (u32)id,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = npages * PG,
		.userspace_addr = uaddr,
	};
	long ret;

	if (npages && gpa + npages * PG > 1ULL << P.gpa_bits)
		P.beyond++;
	P.work = 0;
	ret = xk_vm_set_memory(P.vm, &r);
	P.ok += !ret;
	P.einval += ret == -EINVAL;
	P.eexist += ret == -EEXIST;
	P.enomem += ret == -ENOMEM;
	if (P.work > P.max_work)
		P.max_work = P.work;
	P.work = 0;
	return ret;
}

/* Maybe make one allocation or the pin of the next call fail. */
static bool arm_failure(void)
{
	static const unsigned int cls[] = { HOST_USER_FAIL_PAGES,
					    HOST_USER_FAIL_ZALLOC,
					    HOST_USER_FAIL_PIN };

	if (rnd_below(10))
		return false;
	host_user_fail_nth(1 + rnd_below(3), cls[rnd_below(3)]);
	return true;
}

static void disarm(void)
{
	host_user_fail_nth(0, HOST_USER_FAIL_ALL);
}

static void step_create(char *what, size_t len, u64 big)
{
	int id = (int)rnd_below(NSLOT);
	u32 flags = (u32)rnd_below(4); /* LOG_DIRTY_PAGES, READONLY */
	u64 gpa = rnd_gpa(), npages = rnd_npages(big), uaddr = P.next_uaddr;
	long want, got;
	bool armed;

	if (P.cur.s[id].used)
		return;
	want = expect_place(id, gpa >> XK_PAGE_SHIFT, npages);
	snprintf(what, len, "create slot %d flags %u at %#llx, %llu pages", id,
		 flags, (unsigned long long)gpa, (unsigned long long)npages);
	P.next = P.cur;
	if (!want)
		P.next.s[id] = (struct mslot){ true, flags,
					       gpa >> XK_PAGE_SHIFT, npages,
					       uaddr };
	armed = arm_failure();
	got = set_region(id, flags, gpa, npages, uaddr);
	if (armed && host_user_fail_fired() && !want) {
		disarm();
		if (got != -ENOMEM)
			XT_FAIL("%s, a failure armed: %ld", what, got);
		return;
	}
	disarm();
	if (got != want)
		XT_FAIL("%s: got %ld, want %ld", what, got, want);
	if (got)
		return;
	P.cur = P.next;
	P.next_uaddr += (npages + 1) * PG;
}

static void step_move(char *what, size_t len)
{
	int id = (int)rnd_below(NSLOT);
	struct mslot *s = &P.cur.s[id];
	u64 gpa = rnd_gpa();
	u32 flags;
	long want, got;
	bool armed;

	if (!s->used)
		return;
	/* a move may turn the log on or off too, never READONLY */
	flags = (s->flags & KVM_MEM_READONLY) | (u32)rnd_below(2);
	want = expect_place(id, gpa >> XK_PAGE_SHIFT, s->npages);
	if (gpa >> XK_PAGE_SHIFT == s->gfn)
		return;
	snprintf(what, len,
		 "move slot %d (%llu pages, flags %u) to %#llx "
		 "flags %u",
		 id, (unsigned long long)s->npages, s->flags,
		 (unsigned long long)gpa, flags);
	P.next = P.cur;
	if (!want) {
		P.next.s[id].gfn = gpa >> XK_PAGE_SHIFT;
		P.next.s[id].flags = flags;
	}
	armed = arm_failure();
	got = set_region(id, flags, gpa, s->npages, s->uaddr);
	if (armed && host_user_fail_fired() && !want) {
		disarm();
		if (got != -ENOMEM)
			XT_FAIL("%s, a failure armed: %ld", what, got);
		return; /* the old slot stays as it was */
	}
	disarm();
	if (got != want)
		XT_FAIL("%s: got %ld, want %ld", what, got, want);
	if (!got)
		P.cur = P.next; /* a log goes along with the slot */
}

static void step_delete(char *what, size_t len)
{
	int id = (int)rnd_below(NSLOT);
	long got;

	snprintf(what, len, "delete slot %d", id);
	P.next = P.cur;
	P.next.s[id].used = false;
	got = set_region(id, 0, 0, 0, 0);
	if (got != (P.cur.s[id].used ? 0 : -EINVAL))
		XT_FAIL("%s: got %ld", what, got);
	P.cur = P.next;
}

static void step_flags(char *what, size_t len)
{
	int id = (int)rnd_below(NSLOT);
	struct mslot *s = &P.cur.s[id];
	u32 flags;
	long want, got;

	if (!s->used)
		return;
	flags = s->flags ^
		(rnd_below(6) ? KVM_MEM_LOG_DIRTY_PAGES : KVM_MEM_READONLY);
	want = (flags ^ s->flags) & KVM_MEM_READONLY ? -EINVAL : 0;
	snprintf(what, len, "slot %d flags %u -> %u", id, s->flags, flags);
	P.next = P.cur;
	if (!want)
		P.next.s[id].flags = flags;
	got = set_region(id, flags, s->gfn * PG, s->npages, s->uaddr);
	if (got != want)
		XT_FAIL("%s: got %ld, want %ld", what, got, want);
	if (!got)
		P.cur = P.next;
}

static void step_collect(char *what, size_t len)
{
	int id = (int)rnd_below(NSLOT);
	struct mslot *s = &P.cur.s[id];
	bool logs = s->used && (s->flags & KVM_MEM_LOG_DIRTY_PAGES);
	u64 words = logs ? (s->npages + 63) / 64 : 1, i;
	u64 *buf = calloc(words, 8);
	struct kvm_dirty_log log = { .slot = (u32)id, .dirty_bitmap = buf };
	long got;

	if (!buf)
		XT_FAIL("out of memory");
	snprintf(what, len, "get dirty log of slot %d", id);
	P.next = P.cur;
	P.work = 0;
	got = xk_vm_get_dirty_log(P.vm, &log);
	if (P.work > P.max_work)
		P.max_work = P.work;
	if (got != (logs ? 0 : -ENOENT)) {
		free(buf);
		XT_FAIL("%s: got %ld", what, got);
	}
	for (i = 0; logs && i < s->npages; i++)
		if (!!(buf[i / 64] & XK_BIT(i % 64)) != dirtied(id, i)) {
			free(buf);
			XT_FAIL("%s: page %llu reported %d", what,
				(unsigned long long)i, !dirtied(id, i));
		}
	free(buf);
	if (logs && P.dirtied[id]) {
		for (i = 0; i < words; i++)
			P.collected +=
				(u64)__builtin_popcountll(P.dirtied[id][i]);
		memset(P.dirtied[id], 0, words * 8);
	}
}

static void step_write(char *what, size_t len)
{
	u64 gpa = rnd_below(3) ? some_slot_gpa(&P.cur) : rnd_gpa();

	snprintf(what, len, "guest write at %#llx", (unsigned long long)gpa);
	guest_write(gpa, true);
}

static u8 expected_gpa_bits(void)
{
	unsigned int a, b, c, d, bits = 36;

	if (__get_cpuid(0x80000000, &a, &b, &c, &d) && a >= 0x80000008 &&
	    __get_cpuid(0x80000008, &a, &b, &c, &d))
		bits = a & 0xff;
	return (u8)(bits < 48 ? bits : 48);
}

static u64 env_u64(const char *name, u64 dflt)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : dflt;
}

static void prop_cleanup(void *arg)
{
	int i;

	(void)arg;
	host_user_set_resched_hook(NULL, NULL);
	disarm();
	if (P.vm)
		xk_vm_put(P.vm);
	P.vm = NULL;
	for (i = 0; i < NSLOT; i++)
		log_record(i, NULL, 0);
	fake_install();
}

XT_TEST(npt, property)
{
	const char *s = getenv("XKVM_NPT_SEED");
	u64 seed = 0x6e7074, steps = env_u64("XKVM_NPT_STEPS", 10000), n;
	u64 big = steps > 10000 ? 40000 : 5000;
	char what[200] = "creating the VM";

	if (s && !strcmp(s, "random"))
		seed = (u64)time(NULL) ^ ((u64)clock() << 32);
	else if (s && *s)
		seed = strtoull(s, NULL, 0);
	memset(&P, 0, sizeof(P));
	P.rng = seed | 1;
	P.gpa_bits = expected_gpa_bits();
	P.next_uaddr = UADDR_BASE;
	printf("npt: seed %#llx (XKVM_NPT_SEED), %llu steps, guest-physical "
	       "limit 2^%u\n",
	       (unsigned long long)seed, (unsigned long long)steps, P.gpa_bits);
	fflush(stdout);
	xt_ctx("seed %#llx", (unsigned long long)seed);
	fake_install(); /* the FPU code, then our backend */
	xk_ops = &npt_test_ops;
	xt_cleanup(prop_cleanup, NULL);
	host_held(&P.held0);
	XT_EQ(xk_vm_create(0, &P.vm), 0);
	P.vcpu.vm = P.vm;
	host_user_set_resched_hook(resched_hook, NULL);
	host_held(&P.held0);
	P.held0.pages -= 1; /* the root */
	check_full(what);
	for (n = 0; n < steps; n++) {
		xt_ctx("seed %#llx step %llu", (unsigned long long)seed,
		       (unsigned long long)n);
		switch (rnd_below(16)) {
		case 0:
		case 1:
		case 2:
		case 3:
			step_create(what, sizeof(what), big);
			break;
		case 4:
		case 5:
			step_move(what, sizeof(what));
			break;
		case 6:
		case 7:
			step_delete(what, sizeof(what));
			break;
		case 8:
		case 9:
			step_flags(what, sizeof(what));
			break;
		case 10:
		case 11:
			step_collect(what, sizeof(what));
			break;
		default:
			step_write(what, sizeof(what));
			break;
		}
		xt_ctx("seed %#llx step %llu: %s", (unsigned long long)seed,
		       (unsigned long long)n, what);
		sync_logs();
		check_full(what);
		P.max_work = 0;
	}
	printf("npt: slot ioctls: %lu ok, %lu EINVAL (%lu reached beyond the "
	       "limit), %lu EEXIST, %lu ENOMEM (injected); %lu write faults "
	       "taken, %lu between batches (%lu resched points checked); %lu "
	       "dirty pages collected\n",
	       P.ok, P.einval, P.beyond, P.eexist, P.enomem, P.faults,
	       P.hook_faults, P.hooks, P.collected);
}
