/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gwalk.h - the guest page-table walker: guest linear to guest physical,
 * as the CPU translates, with its #PF error codes and A/D bit updates.
 * The theory is at the top of gwalk.c.
 */
#ifndef XKVM_GWALK_H
#define XKVM_GWALK_H

#include "host.h"

/* Access kinds, or'ed */
#define XK_ACC_WRITE 0x1u /* data write (else a read) */
#define XK_ACC_USER 0x2u  /* user-mode access (CPL 3, not implicit) */
#define XK_ACC_FETCH 0x4u /* instruction fetch */
/* A supervisor data access that SMAP lets through: explicit (not an
 * implicit access such as a descriptor-table read) with EFLAGS.AC=1. */
#define XK_ACC_SMAP_AC 0x8u

/* #PF error code bits */
#define XK_PF_P 0x1u    /* protection violation (else not present) */
#define XK_PF_W 0x2u    /* write */
#define XK_PF_U 0x4u    /* user-mode access */
#define XK_PF_RSVD 0x8u /* reserved bit set in a paging-structure entry */
#define XK_PF_ID 0x10u  /* instruction fetch (when NX or SMEP is on) */
#define XK_PF_PK 0x20u  /* protection key */

/* xk_gva_to_gpa() and friends: the guest takes a #PF */
#define XK_WALK_FAULT 1

/*
 * Guest physical memory, as the walker sees it.  read/write return 0 or a
 * negative errno (e.g. -EFAULT outside the guest's memory slots).
 * cmpxchg is optional: if set, A/D bits are set with it (atomically against
 * other vCPUs); it returns 0 if *gpa held old and now holds new, 1 if it
 * held something else (nothing written), or a negative errno.  Without it
 * the walker writes the entry's low byte, which holds A and D.
 */
struct xk_gmem {
	int (*read)(void *opaque, u64 gpa, void *buf, u32 len);
	int (*write)(void *opaque, u64 gpa, const void *buf, u32 len);
	int (*cmpxchg)(void *opaque, u64 gpa, u64 old, u64 new, u32 len);
	void *opaque;
};

/* The guest state that selects and controls paging. */
struct xk_paging {
	u64 cr0, cr3, cr4, efer;
	u8 maxphyaddr; /* guest MAXPHYADDR; 0 means 52 */
	u8 flags;      /* XK_PGF_* */
	u32 pkru;      /* for CR4.PKE (user pages) */
	u32 pkrs;      /* IA32_PKRS, for CR4.PKS (supervisor pages) */
};
#define XK_PGF_NO_1G 0x1u /* no 1 GiB pages: PS in a PDPTE is reserved */

/* Details of one translation, for callers that want more than the gpa. */
struct xk_walk {
	u64 gpa;
	u32 pf_error;   /* valid when XK_WALK_FAULT is returned */
	u8 levels;      /* 0 paging off, 2 32-bit, 3 PAE, 4, 5 */
	u8 leaf_level;  /* level of the entry that mapped the page: 1..3 */
	u64 page_size;  /* 4 KiB, 2 or 4 MiB, 1 GiB; 0 when paging is off */
	bool writable;  /* R/W=1 at every level */
	bool user;      /* U/S=1 at every level */
	bool nx;        /* XD=1 at some level (EFER.NXE=1) */
	u64 pte[5];     /* entries read, by level - 1 (PAE PDPTE at [2]) */
	u64 pte_gpa[5]; /* and where they live */
};

/*
 * Translates gva for an access of the given kind.  Returns 0 (*gpa set),
 * XK_WALK_FAULT (*pf_error set; CR2 would be gva) or a negative errno if
 * a paging-structure entry could not be read or updated.
 */
int xk_gva_to_gpa(const struct xk_paging *pg, const struct xk_gmem *mem,
		  u64 gva, unsigned int access, u64 *gpa, u32 *pf_error);
int xk_walk(const struct xk_paging *pg, const struct xk_gmem *mem, u64 gva,
	    unsigned int access, struct xk_walk *w);

/*
 * Copy len bytes from/to guest linear memory at gva, across pages.  Every
 * page is translated (and A/D set) before any byte is copied, so a fault
 * on a later page leaves guest memory untouched.  access: XK_ACC_USER,
 * XK_ACC_FETCH, XK_ACC_SMAP_AC as for a single access (write adds
 * XK_ACC_WRITE itself).  Returns 0, XK_WALK_FAULT with *pf_error and
 * *fault_gva (the CR2 value) set, or a negative errno from mem.
 */
int xk_read_guest_linear(const struct xk_paging *pg, const struct xk_gmem *mem,
			 u64 gva, void *buf, u32 len, unsigned int access,
			 u32 *pf_error, u64 *fault_gva);
int xk_write_guest_linear(const struct xk_paging *pg, const struct xk_gmem *mem,
			  u64 gva, const void *buf, u32 len,
			  unsigned int access, u32 *pf_error, u64 *fault_gva);

#endif /* XKVM_GWALK_H */
