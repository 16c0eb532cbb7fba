// SPDX-License-Identifier: GPL-2.0
/*
 * test_gwalk.c - core/gwalk.c against page tables built in a fake guest
 * memory, for every paging mode.
 *
 * The fake memory is sparse: only pages the test created exist; reads and
 * writes anywhere else fail with -EFAULT, as an address outside the
 * guest's memory slots would.
 */
#include <string.h>

#include "gwalk.h"
#include "xtest.h"

#define NPAGES 48

struct fmem {
	u64 gpa[NPAGES];
	u8 data[NPAGES][4096];
	unsigned int n;
	unsigned int writes;    /* write callbacks */
	unsigned int cmpxchgs;  /* cmpxchg callbacks */
	unsigned int conflicts; /* cmpxchg calls that must report a change */
	u64 next_table;
};

static u8 *fm_page(struct fmem *m, u64 gpa, bool create)
{
	unsigned int i;

	gpa &= ~0xfffULL;
	for (i = 0; i < m->n; i++)
		if (m->gpa[i] == gpa)
			return m->data[i];
	if (!create)
		return NULL;
	if (m->n == NPAGES)
		XT_FAIL("fake memory full");
	m->gpa[m->n] = gpa;
	memset(m->data[m->n], 0, 4096);
	return m->data[m->n++];
}

static int fm_read(void *opaque, u64 gpa, void *buf, u32 len)
{
	struct fmem *m = opaque;
	u32 i;

	for (i = 0; i < len; i++) {
		u8 *p = fm_page(m, gpa + i, false);

		if (!p)
			return -EFAULT;
		((u8 *)buf)[i] = p[(gpa + i) & 0xfff];
	}
	return 0;
}

static int fm_write(void *opaque, u64 gpa, const void *buf, u32 len)
{
	struct fmem *m = opaque;
	u32 i;

	m->writes++;
	for (i = 0; i < len; i++) {
		u8 *p = fm_page(m, gpa + i, false);

		if (!p)
			return -EFAULT;
		p[(gpa + i) & 0xfff] = ((const u8 *)buf)[i];
	}
	return 0;
}

static int fm_cmpxchg(void *opaque, u64 gpa, u64 old, u64 new, u32 len)
{
	struct fmem *m = opaque;
	u64 cur = 0;
	int r;

	m->cmpxchgs++;
	r = fm_read(m, gpa, &cur, len);
	if (r)
		return r;
	if (m->conflicts) {
		m->conflicts--;
		return 1;
	}
	if (cur != old)
		return 1;
	m->writes--; /* counted by fm_write below, not a plain write */
	return fm_write(m, gpa, &new, len);
}

static void fm_put(struct fmem *m, u64 gpa, u64 v, unsigned int size)
{
	u8 *p = fm_page(m, gpa, true);

	memcpy(p + (gpa & 0xfff), &v, size);
}

static u64 fm_get(struct fmem *m, u64 gpa, unsigned int size)
{
	u8 *p = fm_page(m, gpa, false);
	u64 v = 0;

	XT_ASSERT(p);
	memcpy(&v, p + (gpa & 0xfff), size);
	return v;
}

static struct fmem *fm_new(void)
{
	static struct fmem m;

	memset(&m, 0, sizeof(m));
	m.next_table = 0x100000;
	return &m;
}

static struct xk_gmem fm_gmem(struct fmem *m, bool with_cmpxchg)
{
	struct xk_gmem g = { fm_read, fm_write,
			     with_cmpxchg ? fm_cmpxchg : NULL, m };

	return g;
}

static u64 fm_table(struct fmem *m)
{
	u64 gpa = m->next_table;

	m->next_table += 0x1000;
	fm_page(m, gpa, true);
	return gpa;
}

/* Page-table entry bits */
#define P 0x1ULL
#define RW 0x2ULL
#define US 0x4ULL
#define A 0x20ULL
#define D 0x40ULL
#define PS 0x80ULL
#define XD (1ULL << 63)

#define CR0_PE 0x1ULL
#define CR0_WP (1ULL << 16)
#define CR0_PG (1ULL << 31)
#define CR4_PSE (1ULL << 4)
#define CR4_PAE (1ULL << 5)
#define CR4_LA57 (1ULL << 12)
#define CR4_SMEP (1ULL << 20)
#define CR4_SMAP (1ULL << 21)
#define CR4_PKE (1ULL << 22)
#define CR4_PKS (1ULL << 24)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)
#define EFER_NXE (1ULL << 11)

/*
 * Maps gva in a tree rooted at root: levels of esize-byte entries, the
 * leaf at leaf_level (1 = 4K, 2 = PDE, 3 = PDPTE) holding leaf (address
 * and flags), intermediate entries get upper flags.  Returns the gpa of
 * the leaf entry.
 */
static u64 map(struct fmem *m, u64 root, unsigned int levels,
	       unsigned int esize, u64 gva, unsigned int leaf_level, u64 leaf,
	       u64 upper)
{
	unsigned int level, bits = esize == 4 ? 10 : 9;
	u64 table = root, egpa = 0, e;

	for (level = levels; level >= leaf_level; level--) {
		unsigned int shift = 12 + bits * (level - 1);

		egpa = table + ((gva >> shift) & ((1u << bits) - 1)) * esize;
		if (level == leaf_level) {
			fm_put(m, egpa, leaf, esize);
			break;
		}
		e = fm_get(m, egpa, esize);
		if (!(e & P)) {
			e = fm_table(m) | upper;
			fm_put(m, egpa, e, esize);
		}
		table = e & 0x000ffffffffff000ULL;
	}
	return egpa;
}

struct res {
	int r;
	u64 gpa;
	u32 err;
};

static struct res tr(const struct xk_paging *pg, struct fmem *m, u64 gva,
		     unsigned int acc)
{
	struct xk_gmem g = fm_gmem(m, false);
	struct res s = { 0, ~0ULL, ~0u };

	s.r = xk_gva_to_gpa(pg, &g, gva, acc, &s.gpa, &s.err);
	return s;
}

#define OK_GPA(s, want)                \
	do {                           \
		struct res s_ = (s);   \
		XT_EQ(s_.r, 0);        \
		XT_EQ(s_.gpa, (want)); \
	} while (0)

#define PF(s, want)                         \
	do {                                \
		struct res s_ = (s);        \
		XT_EQ(s_.r, XK_WALK_FAULT); \
		XT_EQ(s_.err, (want));      \
	} while (0)

#define R_ 0
#define W_ XK_ACC_WRITE
#define U_ XK_ACC_USER
#define X_ XK_ACC_FETCH

XT_TEST(gwalk, paging_off)
{
	struct fmem *m = fm_new();
	struct xk_paging pg = { .cr0 = CR0_PE };

	OK_GPA(tr(&pg, m, 0x12345678, W_ | U_), 0x12345678);
	OK_GPA(tr(&pg, m, 0x1ffffffffULL, R_), 0xffffffff);
	XT_EQ(m->writes, 0);
}

XT_TEST(gwalk, legacy32_4k)
{
	struct fmem *m = fm_new();
	u64 cr3 = fm_table(m);
	struct xk_paging pg = { .cr0 = CR0_PE | CR0_PG, .cr3 = cr3 };
	u64 pte = map(m, cr3, 2, 4, 0x00401000, 1, 0x5000 | P | RW | US,
		      P | RW | US);
	u64 pde = cr3 + 1 * 4;

	OK_GPA(tr(&pg, m, 0x00401abc, U_), 0x5abc);
	XT_EQ(fm_get(m, pde, 4) & (A | D), A);
	XT_EQ(fm_get(m, pte, 4) & (A | D), A);
	OK_GPA(tr(&pg, m, 0x00401000, W_ | U_), 0x5000);
	XT_EQ(fm_get(m, pte, 4) & (A | D), A | D);
	XT_EQ(fm_get(m, pde, 4) & D, 0);
	/* upper linear bits are ignored (32-bit) */
	OK_GPA(tr(&pg, m, 0xf00401004ULL, R_), 0x5004);

	/* not present: PDE and PTE */
	PF(tr(&pg, m, 0x00800000, R_), 0);
	PF(tr(&pg, m, 0x00800000, W_ | U_), XK_PF_W | XK_PF_U);
	PF(tr(&pg, m, 0x00402000, W_), XK_PF_W);
	/* fetch: no I/D bit without PAE+NXE or SMEP */
	PF(tr(&pg, m, 0x00402000, X_), 0);
	pg.cr4 = CR4_SMEP;
	PF(tr(&pg, m, 0x00402000, X_), XK_PF_ID);
	/* the walk does not set A bits when it faults */
	XT_EQ(fm_get(m, cr3 + 2 * 4, 4), 0);
}

XT_TEST(gwalk, legacy32_permissions)
{
	struct fmem *m = fm_new();
	u64 cr3 = fm_table(m);
	struct xk_paging pg = { .cr0 = CR0_PE | CR0_PG, .cr3 = cr3 };

	/* 0x1000: supervisor RW; 0x2000: user RO; 0x3000: user RW behind a
	 * read-only PDE */
	map(m, cr3, 2, 4, 0x1000, 1, 0x11000 | P | RW, P | RW | US);
	map(m, cr3, 2, 4, 0x2000, 1, 0x12000 | P | US, P | RW | US);
	map(m, cr3, 2, 4, 0x00c03000, 1, 0x13000 | P | RW | US, P | US);

	PF(tr(&pg, m, 0x1000, U_), XK_PF_P | XK_PF_U);
	PF(tr(&pg, m, 0x1000, U_ | W_), XK_PF_P | XK_PF_U | XK_PF_W);
	OK_GPA(tr(&pg, m, 0x1000, W_), 0x11000);
	OK_GPA(tr(&pg, m, 0x2000, U_), 0x12000);
	PF(tr(&pg, m, 0x2000, U_ | W_), XK_PF_P | XK_PF_U | XK_PF_W);
	PF(tr(&pg, m, 0x00c03000, U_ | W_), XK_PF_P | XK_PF_U | XK_PF_W);
	/* supervisor writes to read-only pages: only with CR0.WP */
	OK_GPA(tr(&pg, m, 0x2000, W_), 0x12000);
	OK_GPA(tr(&pg, m, 0x00c03000, W_), 0x13000);
	pg.cr0 |= CR0_WP;
	PF(tr(&pg, m, 0x2000, W_), XK_PF_P | XK_PF_W);
	PF(tr(&pg, m, 0x00c03000, W_), XK_PF_P | XK_PF_W);
	/* no NX in 32-bit paging: user fetch from a user page is fine */
	OK_GPA(tr(&pg, m, 0x2000, U_ | X_), 0x12000);
}

XT_TEST(gwalk, legacy32_pse)
{
	struct fmem *m = fm_new();
	u64 cr3 = fm_table(m);
	struct xk_paging pg = { .cr0 = CR0_PE | CR0_PG | CR0_WP,
				.cr3 = cr3,
				.cr4 = CR4_PSE,
				.maxphyaddr = 36 };
	u64 pde = cr3 + (0x00800000 >> 22) * 4;
	struct xk_gmem g = fm_gmem(m, false);
	struct xk_walk w;

	fm_put(m, pde, 0x00c00000 | PS | P | RW | US, 4);
	OK_GPA(tr(&pg, m, 0x00812345, U_ | W_), 0x00c12345);
	XT_EQ(fm_get(m, pde, 4) & (A | D), A | D);
	XT_EQ(xk_walk(&pg, &g, 0x00812345, R_, &w), 0);
	XT_EQ(w.page_size, 4ULL << 20);
	XT_EQ(w.leaf_level, 2);
	XT_EQ(w.levels, 2);

	/* PSE-36: PDE bits 16:13 are address bits 35:32 */
	fm_put(m, pde, 0x00c00000 | (0x5ULL << 13) | PS | P | RW, 4);
	OK_GPA(tr(&pg, m, 0x00800010, R_), 0x500c00010ULL);
	/* bit 17 is address bit 36, beyond MAXPHYADDR 36: reserved */
	fm_put(m, pde, 0x00c00000 | (1ULL << 17) | PS | P | RW, 4);
	PF(tr(&pg, m, 0x00800010, W_), XK_PF_P | XK_PF_RSVD | XK_PF_W);
	pg.maxphyaddr = 40;
	OK_GPA(tr(&pg, m, 0x00800010, R_), 0x1000c00010ULL);
	/* bit 21 is always reserved */
	fm_put(m, pde, 0x00c00000 | (1ULL << 21) | PS | P | RW, 4);
	PF(tr(&pg, m, 0x00800010, U_), XK_PF_P | XK_PF_RSVD | XK_PF_U);

	/* without CR4.PSE, PS is ignored: the PDE points to a page table,
	 * here outside guest memory: the walker reports the read error */
	pg.cr4 = 0;
	fm_put(m, pde, 0x00c00000 | PS | P | RW, 4);
	XT_EQ(tr(&pg, m, 0x00800010, R_).r, -EFAULT);
}

XT_TEST(gwalk, pae)
{
	struct fmem *m = fm_new();
	u64 pdpt = fm_table(m) + 0x20; /* 32-byte aligned is enough */
	u64 pd = fm_table(m), pt = fm_table(m);
	struct xk_paging pg = { .cr0 = CR0_PE | CR0_PG | CR0_WP,
				.cr3 = pdpt,
				.cr4 = CR4_PAE,
				.efer = EFER_NXE,
				.maxphyaddr = 36 };
	struct xk_gmem g = fm_gmem(m, false);
	struct xk_walk w;
	u64 gva = 0xc0201000; /* PDPTE 3, PDE 1, PTE 1 */

	fm_put(m, pdpt + 3 * 8, pd | P, 8);
	fm_put(m, pd + 1 * 8, pt | P | RW | US, 8);
	fm_put(m, pt + 1 * 8, 0x87654000ULL | P | RW | US, 8);
	/* 2 MiB page at PDE 2, no-execute */
	fm_put(m, pd + 2 * 8, 0x40000000ULL | PS | P | RW | US | XD, 8);

	OK_GPA(tr(&pg, m, gva + 0x123, U_ | W_), 0x87654123);
	/* PDPTEs have no A bit; the PDE and PTE got theirs */
	XT_EQ(fm_get(m, pdpt + 3 * 8, 8), pd | P);
	XT_EQ(fm_get(m, pd + 8, 8) & (A | D), A);
	XT_EQ(fm_get(m, pt + 8, 8) & (A | D), A | D);
	XT_EQ(xk_walk(&pg, &g, gva, R_, &w), 0);
	XT_EQ(w.levels, 3);
	XT_EQ(w.pte_gpa[2], pdpt + 3 * 8);

	/* 2 MiB page, XD */
	OK_GPA(tr(&pg, m, 0xc0412345, U_), 0x40012345);
	PF(tr(&pg, m, 0xc0412345, X_), XK_PF_P | XK_PF_ID);
	PF(tr(&pg, m, 0xc0412345, X_ | U_), XK_PF_P | XK_PF_ID | XK_PF_U);
	/* not present with NXE on: the fetch error code has I/D */
	PF(tr(&pg, m, 0xc0600000, X_), XK_PF_ID);
	/* XD is reserved without EFER.NXE */
	pg.efer = 0;
	PF(tr(&pg, m, 0xc0412345, R_), XK_PF_P | XK_PF_RSVD);
	PF(tr(&pg, m, 0xc0412345, X_), XK_PF_P | XK_PF_RSVD);
	pg.efer = EFER_NXE;
	/* bits 20:13 of a 2 MiB PDE are reserved */
	fm_put(m, pd + 2 * 8, 0x40000000ULL | (1 << 13) | PS | P, 8);
	PF(tr(&pg, m, 0xc0412345, R_), XK_PF_P | XK_PF_RSVD);
	/* address bits at and above MAXPHYADDR are reserved */
	fm_put(m, pd + 2 * 8, (1ULL << 36) | PS | P, 8);
	PF(tr(&pg, m, 0xc0412345, R_), XK_PF_P | XK_PF_RSVD);
	pg.maxphyaddr = 40;
	OK_GPA(tr(&pg, m, 0xc0412345, R_), (1ULL << 36) | 0x12345);

	/* PDPTE: not present, reserved bits (R/W, U/S, XD, PS, high) */
	PF(tr(&pg, m, 0x00001000, W_), XK_PF_W);
	fm_put(m, pdpt, pd | P | RW, 8);
	PF(tr(&pg, m, 0x00001000, R_), XK_PF_P | XK_PF_RSVD);
	fm_put(m, pdpt, pd | P | US, 8);
	PF(tr(&pg, m, 0x00001000, R_), XK_PF_P | XK_PF_RSVD);
	fm_put(m, pdpt, pd | P | XD, 8);
	PF(tr(&pg, m, 0x00001000, R_), XK_PF_P | XK_PF_RSVD);
	fm_put(m, pdpt, pd | P | (1ULL << 45), 8);
	PF(tr(&pg, m, 0x00001000, R_), XK_PF_P | XK_PF_RSVD);
	/* a PDPTE takes no part in the rights: user access through it */
	fm_put(m, pdpt, pd | P, 8);
	fm_put(m, pd, pt | P | RW | US, 8);
	fm_put(m, pt + 1 * 8, 0x9000 | P | RW | US, 8);
	OK_GPA(tr(&pg, m, 0x00001008, U_ | W_), 0x9008);
}

static u64 setup_long(struct fmem *m, struct xk_paging *pg, bool la57)
{
	u64 root = fm_table(m);

	pg->cr0 = CR0_PE | CR0_PG | CR0_WP;
	pg->cr3 = root;
	pg->cr4 = CR4_PAE | (la57 ? CR4_LA57 : 0);
	pg->efer = EFER_LME | EFER_LMA | EFER_NXE;
	pg->maxphyaddr = 46;
	return root;
}

XT_TEST(gwalk, long4)
{
	struct fmem *m = fm_new();
	struct xk_paging pg;
	u64 root = setup_long(m, &pg, false);
	struct xk_gmem g = fm_gmem(m, false);
	struct xk_walk w;
	u64 gva4k = 0x00007f1234567000ULL, gva2m = 0xffff800000200000ULL;
	u64 gva1g = 0x0000004080000000ULL, leaf;
	unsigned int i;

	leaf = map(m, root, 4, 8, gva4k, 1, 0x3456789000ULL | P | RW | US,
		   P | RW | US);
	OK_GPA(tr(&pg, m, gva4k + 0xabc, U_ | W_), 0x3456789abcULL);
	XT_EQ(xk_walk(&pg, &g, gva4k, R_, &w), 0);
	XT_EQ(w.levels, 4);
	XT_EQ(w.leaf_level, 1);
	XT_EQ(w.page_size, 4096);
	for (i = 1; i < 4; i++)
		XT_EQ(w.pte[i] & (A | D), A);
	XT_EQ(fm_get(m, leaf, 8) & (A | D), A | D);

	/* 2 MiB page in the upper half */
	map(m, root, 4, 8, gva2m, 2, 0x40000000ULL | PS | P | RW, P | RW | US);
	OK_GPA(tr(&pg, m, gva2m + 0x1abcde, W_), 0x401abcdeULL);
	PF(tr(&pg, m, gva2m, U_), XK_PF_P | XK_PF_U);

	/* 1 GiB page */
	leaf = map(m, root, 4, 8, gva1g, 3, 0x1c0000000ULL | PS | P | RW | US,
		   P | RW | US);
	OK_GPA(tr(&pg, m, gva1g + 0x3ffffff0, U_), 0x1fffffff0ULL);
	XT_EQ(xk_walk(&pg, &g, gva1g, R_, &w), 0);
	XT_EQ(w.page_size, 1ULL << 30);
	XT_EQ(w.leaf_level, 3);
	pg.flags = XK_PGF_NO_1G;
	PF(tr(&pg, m, gva1g, R_), XK_PF_P | XK_PF_RSVD);
	pg.flags = 0;
	/* bits 29:13 of a 1 GiB PDPTE are reserved */
	fm_put(m, leaf, 0x1c0000000ULL | (1ULL << 20) | PS | P, 8);
	PF(tr(&pg, m, gva1g, R_), XK_PF_P | XK_PF_RSVD);

	/* PS in a PML4E is reserved */
	fm_put(m, root + 0xff * 8, 0x200000ULL | PS | P | RW, 8);
	PF(tr(&pg, m, 0x00007f8000000000ULL, R_), XK_PF_P | XK_PF_RSVD);

	/* address bits above MAXPHYADDR (46) in a PTE; bits 62:52 are not
	 * reserved in 4-level paging */
	leaf = map(m, root, 4, 8, 0x5000, 1, (1ULL << 47) | 0x1000 | P,
		   P | RW | US);
	PF(tr(&pg, m, 0x5000, R_), XK_PF_P | XK_PF_RSVD);
	fm_put(m, leaf, (0x7ffULL << 52) | 0x1000 | P, 8);
	OK_GPA(tr(&pg, m, 0x5000, R_), 0x1000);
	pg.maxphyaddr = 52;
	fm_put(m, leaf, (1ULL << 51) | 0x1000 | P, 8);
	OK_GPA(tr(&pg, m, 0x5000, R_), (1ULL << 51) | 0x1000);

	/* XD: fetch faults; reserved without NXE */
	fm_put(m, leaf, 0x1000 | P | XD, 8);
	PF(tr(&pg, m, 0x5000, X_), XK_PF_P | XK_PF_ID);
	OK_GPA(tr(&pg, m, 0x5000, R_), 0x1000);
	pg.efer &= ~EFER_NXE;
	PF(tr(&pg, m, 0x5000, X_), XK_PF_P | XK_PF_RSVD);

	/* a reserved bit is reported even where the rights fail too */
	fm_put(m, leaf, 0x1000 | P | XD, 8);
	PF(tr(&pg, m, 0x5000, U_ | W_),
	   XK_PF_P | XK_PF_RSVD | XK_PF_U | XK_PF_W);
	/* PS in a PTE is PAT, not reserved */
	pg.efer |= EFER_NXE;
	fm_put(m, leaf, 0x1000 | P | PS, 8);
	OK_GPA(tr(&pg, m, 0x5000, R_), 0x1000);
}

XT_TEST(gwalk, long5)
{
	struct fmem *m = fm_new();
	struct xk_paging pg;
	u64 root = setup_long(m, &pg, true);
	u64 gva = 0x00ab123456789000ULL; /* bits 56:48 select the PML5E */
	struct xk_gmem g = fm_gmem(m, false);
	struct xk_walk w;

	map(m, root, 5, 8, gva, 1, 0x7000 | P | RW | US, P | RW | US);
	OK_GPA(tr(&pg, m, gva + 0x10, U_), 0x7010);
	XT_EQ(xk_walk(&pg, &g, gva, R_, &w), 0);
	XT_EQ(w.levels, 5);
	XT_EQ(w.pte_gpa[4], root + ((gva >> 48) & 0x1ff) * 8);
	XT_EQ(w.pte[4] & A, A);
	/* the same address with 4-level paging misses */
	pg.cr4 &= ~CR4_LA57;
	XT_NE(tr(&pg, m, gva, U_).r, 0);
	/* PS in a PML5E is reserved */
	pg.cr4 |= CR4_LA57;
	fm_put(m, root + ((gva >> 48) & 0x1ff) * 8,
	       fm_get(m, root + ((gva >> 48) & 0x1ff) * 8, 8) | PS, 8);
	PF(tr(&pg, m, gva, R_), XK_PF_P | XK_PF_RSVD);
}

XT_TEST(gwalk, smep_smap)
{
	struct fmem *m = fm_new();
	struct xk_paging pg;
	u64 root = setup_long(m, &pg, false);

	map(m, root, 4, 8, 0x400000, 1, 0x8000 | P | RW | US, P | RW | US);
	map(m, root, 4, 8, 0xffffffff81000000ULL, 1, 0x9000 | P | RW, P | RW);

	OK_GPA(tr(&pg, m, 0x400000, X_), 0x8000);
	OK_GPA(tr(&pg, m, 0x400000, W_), 0x8000);
	pg.cr4 |= CR4_SMEP;
	PF(tr(&pg, m, 0x400000, X_), XK_PF_P | XK_PF_ID);
	OK_GPA(tr(&pg, m, 0x400000, X_ | U_), 0x8000);
	OK_GPA(tr(&pg, m, 0xffffffff81000000ULL, X_), 0x9000);
	pg.cr4 |= CR4_SMAP;
	PF(tr(&pg, m, 0x400000, R_), XK_PF_P);
	PF(tr(&pg, m, 0x400000, W_), XK_PF_P | XK_PF_W);
	OK_GPA(tr(&pg, m, 0x400000, W_ | XK_ACC_SMAP_AC), 0x8000);
	OK_GPA(tr(&pg, m, 0x400000, U_), 0x8000);
	OK_GPA(tr(&pg, m, 0xffffffff81000000ULL, W_), 0x9000);
}

XT_TEST(gwalk, protection_keys)
{
	struct fmem *m = fm_new();
	struct xk_paging pg;
	u64 root = setup_long(m, &pg, false);
	u64 key3 = 3ULL << 59;

	map(m, root, 4, 8, 0x400000, 1, key3 | 0x8000 | P | RW | US,
	    P | RW | US);
	map(m, root, 4, 8, 0xffffffff81000000ULL, 1, key3 | 0x9000 | P | RW,
	    P | RW);

	pg.pkru = 1u << 6; /* AD for key 3; PKE still off */
	OK_GPA(tr(&pg, m, 0x400000, U_), 0x8000);
	pg.cr4 |= CR4_PKE;
	PF(tr(&pg, m, 0x400000, U_), XK_PF_P | XK_PF_U | XK_PF_PK);
	PF(tr(&pg, m, 0x400000, R_), XK_PF_P | XK_PF_PK);
	OK_GPA(tr(&pg, m, 0x400000, U_ | X_), 0x8000); /* fetches exempt */
	pg.pkru = 2u << 6;                             /* WD for key 3 */
	OK_GPA(tr(&pg, m, 0x400000, U_), 0x8000);
	PF(tr(&pg, m, 0x400000, U_ | W_),
	   XK_PF_P | XK_PF_U | XK_PF_W | XK_PF_PK);
	PF(tr(&pg, m, 0x400000, W_), XK_PF_P | XK_PF_W | XK_PF_PK);
	pg.cr0 &= ~CR0_WP;
	OK_GPA(tr(&pg, m, 0x400000, W_), 0x8000);
	pg.cr0 |= CR0_WP;
	/* PKRU does not apply to supervisor pages; PKRS does with PKS */
	OK_GPA(tr(&pg, m, 0xffffffff81000000ULL, W_), 0x9000);
	pg.pkrs = 1u << 6;
	OK_GPA(tr(&pg, m, 0xffffffff81000000ULL, R_), 0x9000);
	pg.cr4 |= CR4_PKS;
	PF(tr(&pg, m, 0xffffffff81000000ULL, R_), XK_PF_P | XK_PF_PK);
}

XT_TEST(gwalk, accessed_dirty)
{
	struct fmem *m = fm_new();
	struct xk_paging pg;
	u64 root = setup_long(m, &pg, false);
	u64 leaf = map(m, root, 4, 8, 0x1000, 1, 0x2000 | P, P | RW | US);
	struct xk_gmem g;
	u64 gpa;
	u32 err;

	/* a faulting walk writes nothing */
	PF(tr(&pg, m, 0x1000, W_), XK_PF_P | XK_PF_W);
	XT_EQ(m->writes, 0);
	XT_EQ(fm_get(m, leaf, 8) & A, 0);
	/* the first read sets A on 4 levels, the second writes nothing */
	OK_GPA(tr(&pg, m, 0x1000, R_), 0x2000);
	XT_EQ(m->writes, 4);
	OK_GPA(tr(&pg, m, 0x1000, R_), 0x2000);
	XT_EQ(m->writes, 4);
	XT_EQ(fm_get(m, leaf, 8), 0x2000 | P | A);

	/* with cmpxchg: a changed entry makes the walk start over */
	fm_put(m, leaf, 0x2000 | P | RW, 8);
	g = fm_gmem(m, true);
	m->conflicts = 2;
	XT_EQ(xk_gva_to_gpa(&pg, &g, 0x1000, W_, &gpa, &err), 0);
	XT_EQ(gpa, 0x2000);
	XT_EQ(m->cmpxchgs, 3);
	XT_EQ(fm_get(m, leaf, 8), 0x2000 | P | RW | A | D);
	/* an entry that keeps changing: give up with -EAGAIN */
	fm_put(m, leaf, 0x2000 | P | RW, 8);
	m->conflicts = 1000;
	XT_EQ(xk_gva_to_gpa(&pg, &g, 0x1000, W_, &gpa, &err), -EAGAIN);
}

XT_TEST(gwalk, table_outside_memory)
{
	struct fmem *m = fm_new();
	struct xk_paging pg;
	u64 root = setup_long(m, &pg, false);

	fm_put(m, root, 0x7770000ULL | P | RW, 8); /* PDPT not in memory */
	XT_EQ(tr(&pg, m, 0x1000, R_).r, -EFAULT);
	pg.cr3 = 0xdead000; /* root not in memory */
	XT_EQ(tr(&pg, m, 0x1000, R_).r, -EFAULT);
}

XT_TEST(gwalk, linear_copy)
{
	struct fmem *m = fm_new();
	struct xk_paging pg;
	u64 root = setup_long(m, &pg, false);
	struct xk_gmem g = fm_gmem(m, false);
	u8 buf[16], pat[16];
	u64 fault = 0;
	u32 err = 0;
	unsigned int i;

	/* 0x10000 -> 0x30000 (RW), 0x11000 -> 0x20000 (read-only) */
	map(m, root, 4, 8, 0x10000, 1, 0x30000 | P | RW | US, P | RW | US);
	map(m, root, 4, 8, 0x11000, 1, 0x20000 | P | US, P | RW | US);
	fm_page(m, 0x30000, true);
	fm_page(m, 0x20000, true);
	for (i = 0; i < 16; i++)
		pat[i] = (u8)(0xa0 + i);
	fm_put(m, 0x30ff8, 0x0706050403020100ULL, 8);
	fm_put(m, 0x20000, 0x0f0e0d0c0b0a0908ULL, 8);

	XT_EQ(xk_read_guest_linear(&pg, &g, 0x10ff8, buf, 16, U_, &err, &fault),
	      0);
	for (i = 0; i < 16; i++)
		XT_EQ(buf[i], i);

	/* writing across into the read-only page: nothing is written */
	XT_EQ(xk_write_guest_linear(&pg, &g, 0x10ffc, pat, 8, U_, &err, &fault),
	      XK_WALK_FAULT);
	XT_EQ(err, XK_PF_P | XK_PF_W | XK_PF_U);
	XT_EQ(fault, 0x11000);
	XT_EQ(fm_get(m, 0x30ffc, 4), 0x07060504);

	/* within the RW page */
	XT_EQ(xk_write_guest_linear(&pg, &g, 0x10ff0, pat, 16, U_, &err,
				    &fault),
	      0);
	XT_EQ(fm_get(m, 0x30ff0, 8), 0xa7a6a5a4a3a2a1a0ULL);
	XT_EQ(fm_get(m, 0x30ff8, 8), 0xafaeadacabaaa9a8ULL);

	/* unmapped second page: not present, CR2 = its first byte */
	XT_EQ(xk_read_guest_linear(&pg, &g, 0x11ffe, buf, 4, R_, &err, &fault),
	      XK_WALK_FAULT);
	XT_EQ(err, 0);
	XT_EQ(fault, 0x12000);
	/* zero length touches nothing */
	XT_EQ(xk_read_guest_linear(&pg, &g, 0xdead0000, buf, 0, R_, &err,
				   &fault),
	      0);
}

XT_TEST(gwalk, linear_wrap_32)
{
	struct fmem *m = fm_new();
	u64 cr3 = fm_table(m);
	struct xk_paging pg = { .cr0 = CR0_PE | CR0_PG, .cr3 = cr3 };
	struct xk_gmem g = fm_gmem(m, false);
	u8 buf[4];
	u64 fault;
	u32 err;

	/* the last page of the 4 GiB space and page 0 */
	map(m, cr3, 2, 4, 0xfffff000, 1, 0x40000 | P | RW, P | RW);
	map(m, cr3, 2, 4, 0x00000000, 1, 0x41000 | P | RW, P | RW);
	fm_put(m, 0x40ffe, 0x2211, 2);
	fm_put(m, 0x41000, 0x4433, 2);
	XT_EQ(xk_read_guest_linear(&pg, &g, 0xfffffffe, buf, 4, R_, &err,
				   &fault),
	      0);
	XT_EQ(buf[0], 0x11);
	XT_EQ(buf[3], 0x44);
}
