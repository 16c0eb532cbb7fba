// SPDX-License-Identifier: GPL-2.0
/*
 * gwalk.c - guest page-table walker.
 *
 * Theory.  The walker does in software what the CPU's page walker does
 * (Intel SDM vol. 3 ch. 4 "Paging", AMD APM vol. 2 ch. 5), because the
 * emulator must see guest memory exactly as the guest's own instructions
 * would, faults included.  The paging mode follows from the guest's
 * control registers:
 *
 *	CR0.PG=0                    no paging: gpa = linear (32 bits)
 *	CR4.PAE=0                   32-bit paging: 2 levels of 4-byte entries,
 *	                            4 MiB pages if CR4.PSE (PSE-36 bits 20:13)
 *	CR4.PAE=1, EFER.LMA=0       PAE: 4 PDPTEs at CR3[31:5], then 2 levels
 *	                            of 8-byte entries, 2 MiB pages
 *	EFER.LMA=1                  4-level (or 5-level with CR4.LA57), 1 GiB
 *	                            pages at level 3, 2 MiB at level 2
 *
 * One walk reads one entry per level from the top.  An entry with P=0
 * ends the walk with a not-present fault; a present entry with a reserved
 * bit set ends it with a RSVD fault (reserved: address bits at and above
 * MAXPHYADDR, XD when EFER.NXE=0, PS where no large page may be, the low
 * address bits of a large page, PAE PDPTE bits 1,2,5-8).  The access
 * rights are the AND of R/W and U/S over all levels and the OR of XD; PAE
 * PDPTEs take no part in them.  The checks after the walk are the SDM's
 * 4.6: user accesses need U/S (and R/W for writes, no XD for fetches);
 * supervisor writes need R/W only when CR0.WP=1; supervisor fetches from
 * user pages fault with CR4.SMEP; supervisor data accesses to user pages
 * fault with CR4.SMAP unless the caller passes XK_ACC_SMAP_AC; protection
 * keys (CR4.PKE with PKRU for user pages, CR4.PKS with PKRS for supervisor
 * pages; 4/5-level paging only) restrict data accesses.
 *
 * The error code has P (protection, not "not present"), W/R, U/S, RSVD,
 * I/D (only when NXE is on with PAE/4-level paging, or SMEP is on) and PK.
 * The PAE PDPTEs are read from memory on every walk (AMD does so; Intel
 * caches them at MOV CR3 and would #GP there on reserved bits: we report a
 * RSVD #PF).
 *
 * Accessed flags are set in every entry used (not PAE PDPTEs) and Dirty in
 * the leaf for writes, only once the translation has succeeded, and only
 * where not set yet.  With mem->cmpxchg the update is atomic and a walk
 * whose entry changed under it starts over, as hardware does; otherwise
 * the entry's low byte (which holds A and D) is written.
 *
 * The walker does not check canonical form (segmentation does, before
 * paging: see seg.h) and ignores the linear address bits above the ones
 * the mode translates.  No allocation; the walk state lives on the stack.
 */
#include "gwalk.h"

#define CR0_WP XK_BIT(16)
#define CR0_PG XK_BIT(31)
#define CR4_PSE XK_BIT(4)
#define CR4_PAE XK_BIT(5)
#define CR4_LA57 XK_BIT(12)
#define CR4_SMEP XK_BIT(20)
#define CR4_SMAP XK_BIT(21)
#define CR4_PKE XK_BIT(22)
#define CR4_PKS XK_BIT(24)
#define EFER_LMA XK_BIT(10)
#define EFER_NXE XK_BIT(11)

#define PTE_P XK_BIT(0)
#define PTE_RW XK_BIT(1)
#define PTE_US XK_BIT(2)
#define PTE_A XK_BIT(5)
#define PTE_D XK_BIT(6)
#define PTE_PS XK_BIT(7)
#define PTE_XD XK_BIT(63)

/* bits lo..hi inclusive */
#define BITS(hi, lo) ((~0ULL >> (63 - (hi))) & ~((1ULL << (lo)) - 1))

#define WALK_RETRIES 8

struct walker {
	const struct xk_paging *pg;
	const struct xk_gmem *mem;
	unsigned int maxpa;
	bool nxe;
};

static int read_entry(const struct walker *k, u64 gpa, unsigned int size,
		      u64 *e)
{
	u8 b[8];
	unsigned int i;
	int r;

	r = k->mem->read(k->mem->opaque, gpa, b, size);
	if (r)
		return r < 0 ? r : -EIO;
	*e = 0;
	for (i = 0; i < size; i++)
		*e |= (u64)b[i] << (8 * i);
	return 0;
}

/*
 * Sets bits in the entry at gpa that held old (size 4 or 8).  Returns 0,
 * 1 if the entry changed meanwhile (walk again), or a negative errno.
 */
static int set_bits(const struct walker *k, u64 gpa, unsigned int size, u64 old,
		    u64 bits)
{
	u8 low;
	int r;

	if ((old & bits) == bits)
		return 0;
	if (k->mem->cmpxchg) {
		r = k->mem->cmpxchg(k->mem->opaque, gpa, old, old | bits, size);
		return r < 0 ? r : r ? 1 : 0;
	}
	low = (u8)(old | bits);
	r = k->mem->write(k->mem->opaque, gpa, &low, 1);
	return r < 0 ? r : r ? -EIO : 0;
}

/* Reserved bits of a present 8-byte entry (PAE, 4- and 5-level). */
static u64 rsvd_bits64(const struct walker *k, unsigned int level, u64 e,
		       bool long_mode)
{
	u64 r = 0;

	if (k->maxpa < (long_mode ? 52u : 63u))
		r |= BITS(long_mode ? 51 : 62, k->maxpa);
	if (!k->nxe)
		r |= PTE_XD;
	switch (level) {
	case 5:
	case 4:
		r |= PTE_PS;
		break;
	case 3:
		if (e & PTE_PS) {
			if (k->pg->flags & XK_PGF_NO_1G)
				r |= PTE_PS;
			else
				r |= BITS(29, 13);
		}
		break;
	case 2:
		if (e & PTE_PS)
			r |= BITS(20, 13);
		break;
	}
	return r;
}

/* Reserved bits of a 4 MiB PDE (32-bit paging with CR4.PSE). */
static u64 rsvd_bits_pse(const struct walker *k)
{
	unsigned int m = XK_MIN(k->maxpa, 40u);

	/* bits 20:13 are physical address bits 39:32; those >= m reserved */
	return BITS(21, 21) | (m > 32 ? BITS(20, 13 + (m - 32)) : BITS(20, 13));
}

static bool pkey_denies(u32 pkr, unsigned int key, unsigned int access, bool wp)
{
	bool ad = pkr >> (2 * key) & 1;
	bool wd = pkr >> (2 * key + 1) & 1;

	if (ad)
		return true;
	return (access & XK_ACC_WRITE) && wd && ((access & XK_ACC_USER) || wp);
}

/* The access checks of SDM 4.6 once the walk reached a leaf. */
static u32 check_access(const struct walker *k, const struct xk_walk *w,
			unsigned int access, u64 leaf)
{
	const struct xk_paging *pg = k->pg;
	bool wp = pg->cr0 & CR0_WP;
	bool write = access & XK_ACC_WRITE;
	bool fetch = access & XK_ACC_FETCH;
	u32 err = 0;

	if (access & XK_ACC_USER) {
		if (!w->user || (write && !w->writable) || (fetch && w->nx))
			err = XK_PF_P;
	} else if (fetch) {
		if (w->nx || (w->user && (pg->cr4 & CR4_SMEP)))
			err = XK_PF_P;
	} else {
		if (w->user && (pg->cr4 & CR4_SMAP) &&
		    !(access & XK_ACC_SMAP_AC))
			err = XK_PF_P;
		if (write && !w->writable && wp)
			err = XK_PF_P;
	}

	/* protection keys: data accesses, 4/5-level paging */
	if (!fetch && (pg->efer & EFER_LMA)) {
		unsigned int key = (leaf >> 59) & 0xf;
		bool deny = false;

		if (w->user && (pg->cr4 & CR4_PKE))
			deny = pkey_denies(pg->pkru, key, access, wp);
		else if (!w->user && (pg->cr4 & CR4_PKS))
			deny = pkey_denies(pg->pkrs, key, access, wp);
		if (deny)
			err |= XK_PF_P | XK_PF_PK;
	}
	return err;
}

static u32 access_bits(const struct walker *k, unsigned int access)
{
	u32 e = 0;

	if (access & XK_ACC_WRITE)
		e |= XK_PF_W;
	if (access & XK_ACC_USER)
		e |= XK_PF_U;
	if ((access & XK_ACC_FETCH) &&
	    ((k->pg->cr4 & CR4_SMEP) || (k->nxe && (k->pg->cr4 & CR4_PAE))))
		e |= XK_PF_ID;
	return e;
}

/*
 * One walk.  Returns 0, XK_WALK_FAULT, 1 + XK_WALK_FAULT (= "retry": an
 * entry changed while setting A/D) or a negative errno.
 */
#define WALK_RETRY (XK_WALK_FAULT + 1)

static int walk_once(const struct walker *k, u64 gva, unsigned int access,
		     struct xk_walk *w)
{
	const struct xk_paging *pg = k->pg;
	bool lm = pg->efer & EFER_LMA;
	unsigned int esize = 8, level, top, shift, i;
	u64 table, e = 0, mask;
	int r;

	w->writable = true;
	w->user = true;
	w->nx = false;
	w->levels = !(pg->cr4 & CR4_PAE) ? 2 :
		    !lm                  ? 3 :
		    (pg->cr4 & CR4_LA57) ? 5 :
					   4;

	if (!(pg->cr4 & CR4_PAE)) {
		/* 32-bit paging */
		gva &= 0xffffffffULL;
		esize = 4;
		top = 2;
		table = pg->cr3 & BITS(31, 12);
	} else if (!lm) {
		/* PAE: the PDPTE selects the page directory */
		u64 pdpte_gpa = (pg->cr3 & BITS(31, 5)) + ((gva >> 30) & 3) * 8;

		gva &= 0xffffffffULL;
		r = read_entry(k, pdpte_gpa, 8, &e);
		if (r)
			return r;
		w->pte[2] = e;
		w->pte_gpa[2] = pdpte_gpa;
		if (!(e & PTE_P))
			goto not_present;
		if (e & (BITS(2, 1) | BITS(8, 5) | BITS(63, k->maxpa)))
			goto reserved;
		top = 2;
		table = e & BITS(k->maxpa - 1, 12);
	} else {
		top = (pg->cr4 & CR4_LA57) ? 5 : 4;
		table = pg->cr3 & BITS(k->maxpa - 1, 12);
	}
	for (level = top; level >= 1; level--) {
		u64 egpa;

		if (esize == 4)
			shift = 12 + 10 * (level - 1);
		else
			shift = 12 + 9 * (level - 1);
		egpa = table +
		       ((gva >> shift) & ((esize == 4) ? 0x3ff : 0x1ff)) *
			       esize;
		r = read_entry(k, egpa, esize, &e);
		if (r)
			return r;
		w->pte[level - 1] = e;
		w->pte_gpa[level - 1] = egpa;
		if (!(e & PTE_P))
			goto not_present;

		if (esize == 4) {
			if (level == 2 && (e & PTE_PS) && (pg->cr4 & CR4_PSE)) {
				if (e & rsvd_bits_pse(k))
					goto reserved;
			}
		} else if (e & rsvd_bits64(k, level, e, lm)) {
			goto reserved;
		}

		w->writable &= !!(e & PTE_RW);
		w->user &= !!(e & PTE_US);
		if (k->nxe && (e & PTE_XD))
			w->nx = true;

		if (level == 1)
			break;
		if ((e & PTE_PS) && (level <= 3) &&
		    (esize == 8 || (pg->cr4 & CR4_PSE)))
			break; /* large page */
		table = e &
			(esize == 4 ? BITS(31, 12) : BITS(k->maxpa - 1, 12));
	}

	w->leaf_level = level;
	if (esize == 4 && level == 2) {
		/* 4 MiB page; PSE-36: PDE bits 20:13 are address bits 39:32 */
		w->page_size = 4ULL << 20;
		w->gpa = (e & BITS(31, 22)) | ((e >> 13) & 0xff) << 32 |
			 (gva & BITS(21, 0));
	} else {
		shift = 12 + 9 * (level - 1);
		w->page_size = 1ULL << shift;
		mask = BITS(k->maxpa - 1, shift);
		if (esize == 4)
			mask = BITS(31, 12);
		w->gpa = (e & mask) | (gva & (w->page_size - 1));
	}

	w->pf_error = check_access(k, w, access, e);
	if (w->pf_error) {
		w->pf_error |= access_bits(k, access);
		return XK_WALK_FAULT;
	}

	/* Success: Accessed on every level used, Dirty on the leaf. */
	for (i = top; i >= level; i--) {
		u64 bits = PTE_A;

		if (i == level && (access & XK_ACC_WRITE))
			bits |= PTE_D;
		r = set_bits(k, w->pte_gpa[i - 1], esize, w->pte[i - 1], bits);
		if (r)
			return r < 0 ? r : WALK_RETRY;
		w->pte[i - 1] |= bits;
	}
	return 0;

not_present:
	w->pf_error = access_bits(k, access);
	return XK_WALK_FAULT;
reserved:
	w->pf_error = XK_PF_P | XK_PF_RSVD | access_bits(k, access);
	return XK_WALK_FAULT;
}

int xk_walk(const struct xk_paging *pg, const struct xk_gmem *mem, u64 gva,
	    unsigned int access, struct xk_walk *w)
{
	struct walker k = { .pg = pg, .mem = mem };
	unsigned int tries;
	int r = -EAGAIN;

	xk_memset(w, 0, sizeof(*w));
	if (!(pg->cr0 & CR0_PG)) {
		w->gpa = (pg->efer & EFER_LMA) ? gva : gva & 0xffffffffULL;
		w->writable = true;
		w->user = true;
		return 0;
	}
	k.maxpa = pg->maxphyaddr && pg->maxphyaddr < 52 ? pg->maxphyaddr : 52;
	if (k.maxpa < 32)
		k.maxpa = 32;
	k.nxe = pg->efer & EFER_NXE;

	for (tries = 0; tries < WALK_RETRIES; tries++) {
		r = walk_once(&k, gva, access, w);
		if (r != WALK_RETRY)
			return r;
	}
	return -EAGAIN;
}

int xk_gva_to_gpa(const struct xk_paging *pg, const struct xk_gmem *mem,
		  u64 gva, unsigned int access, u64 *gpa, u32 *pf_error)
{
	struct xk_walk w;
	int r = xk_walk(pg, mem, gva, access, &w);

	if (r == 0)
		*gpa = w.gpa;
	else if (r == XK_WALK_FAULT)
		*pf_error = w.pf_error;
	return r;
}

/* The linear address off bytes after gva, wrapped as the mode wraps. */
static u64 linear_add(const struct xk_paging *pg, u64 gva, u64 off)
{
	u64 a = gva + off;

	return (pg->efer & EFER_LMA) ? a : a & 0xffffffffULL;
}

static int linear_copy(const struct xk_paging *pg, const struct xk_gmem *mem,
		       u64 gva, u8 *rbuf, const u8 *wbuf, u32 len,
		       unsigned int access, u32 *pf_error, u64 *fault_gva)
{
	unsigned int pass;
	u32 off, chunk;
	u64 lin, gpa;
	int r;

	if (wbuf)
		access |= XK_ACC_WRITE;
	/* pass 0: translate everything (sets A/D); pass 1: copy */
	for (pass = 0; pass < 2; pass++) {
		for (off = 0; off < len; off += chunk) {
			lin = linear_add(pg, gva, off);
			chunk = (u32)XK_MIN((u64)(len - off),
					    XK_PAGE_SIZE -
						    (lin & (XK_PAGE_SIZE - 1)));
			r = xk_gva_to_gpa(pg, mem, lin, access, &gpa, pf_error);
			if (r == XK_WALK_FAULT)
				*fault_gva = lin;
			if (r)
				return r;
			if (pass == 0)
				continue;
			if (wbuf)
				r = mem->write(mem->opaque, gpa, wbuf + off,
					       chunk);
			else
				r = mem->read(mem->opaque, gpa, rbuf + off,
					      chunk);
			if (r)
				return r < 0 ? r : -EIO;
		}
	}
	return 0;
}

int xk_read_guest_linear(const struct xk_paging *pg, const struct xk_gmem *mem,
			 u64 gva, void *buf, u32 len, unsigned int access,
			 u32 *pf_error, u64 *fault_gva)
{
	return linear_copy(pg, mem, gva, buf, NULL, len, access & ~XK_ACC_WRITE,
			   pf_error, fault_gva);
}

int xk_write_guest_linear(const struct xk_paging *pg, const struct xk_gmem *mem,
			  u64 gva, const void *buf, u32 len,
			  unsigned int access, u32 *pf_error, u64 *fault_gva)
{
	return linear_copy(pg, mem, gva, NULL, buf, len, access, pf_error,
			   fault_gva);
}
