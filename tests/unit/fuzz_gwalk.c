// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_gwalk.c - libFuzzer target for core/gwalk.c (make -C tests/unit
 * fuzz).  The input is the paging state, an address and access, then the
 * guest memory: 16 pages that every guest physical address aliases onto,
 * so walks of any depth stay in memory.  Checks: only the documented
 * results, a translation inside MAXPHYADDR, error codes with defined bits
 * only (a not-present fault has neither RSVD nor PK), the Dirty bit of the
 * leaf set after a successful write, and a second identical walk giving
 * the same answer without writing (except in PAE mode, see below).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gwalk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NPG 16

struct mem {
	u8 pg[NPG][4096];
	unsigned int writes;
};

static u8 *at(struct mem *m, u64 gpa)
{
	return &m->pg[(gpa >> 12) % NPG][gpa & 0xfff];
}

static int mread(void *o, u64 gpa, void *buf, u32 len)
{
	u32 i;

	for (i = 0; i < len; i++)
		((u8 *)buf)[i] = *at(o, gpa + i);
	return 0;
}

static int mwrite(void *o, u64 gpa, const void *buf, u32 len)
{
	struct mem *m = o;
	u32 i;

	m->writes++;
	for (i = 0; i < len; i++)
		*at(m, gpa + i) = ((const u8 *)buf)[i];
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mem m;
	struct xk_gmem g = { mread, mwrite, NULL, &m };
	struct xk_paging pg;
	struct xk_walk w, w2;
	unsigned int acc, maxpa;
	u64 gva, e;
	size_t hdr = 8 * 5 + 4 + 4;
	int r, r2;

	if (size < hdr)
		return 0;
	memset(&m, 0, sizeof(m));
	memcpy(&pg.cr0, data, 8);
	memcpy(&pg.cr3, data + 8, 8);
	memcpy(&pg.cr4, data + 16, 8);
	memcpy(&pg.efer, data + 24, 8);
	memcpy(&gva, data + 32, 8);
	memcpy(&pg.pkru, data + 40, 4);
	pg.pkrs = pg.pkru >> 16;
	pg.maxphyaddr = data[44] % 64;
	pg.flags = data[45] & 1;
	acc = data[46] & 0xf;
	pg.cr0 |= 1ULL << 31; /* paging on */
	memcpy(m.pg, data + hdr, XK_MIN(size - hdr, sizeof(m.pg)));

	r = xk_walk(&pg, &g, gva, acc, &w);
	if (r != 0 && r != XK_WALK_FAULT && r != -EAGAIN)
		abort();
	maxpa = pg.maxphyaddr && pg.maxphyaddr < 52 ? pg.maxphyaddr : 52;
	if (maxpa < 32)
		maxpa = 32;
	if (r == 0) {
		if (w.levels != 2 && w.gpa >> maxpa)
			abort();
		if (w.levels == 2 && w.gpa >> 40)
			abort();
		e = 0;
		mread(&m, w.pte_gpa[w.leaf_level - 1], &e,
		      w.levels == 2 ? 4 : 8);
		if (!(e & 0x20) || ((acc & XK_ACC_WRITE) && !(e & 0x40)))
			abort();
		/* PAE excepted: a PDE or PTE may alias a PDPTE, whose bits 5
		 * and 6 are reserved, and the A/D update then breaks it */
		if (w.levels == 3)
			return 0;
		m.writes = 0;
		r2 = xk_walk(&pg, &g, gva, acc, &w2);
		if (r2 != 0 || w2.gpa != w.gpa || m.writes)
			abort();
	} else if (r == XK_WALK_FAULT) {
		if (w.pf_error & ~0x3fu)
			abort();
		if (!(w.pf_error & XK_PF_P) &&
		    (w.pf_error & (XK_PF_RSVD | XK_PF_PK)))
			abort();
		if (!!(w.pf_error & XK_PF_W) != !!(acc & XK_ACC_WRITE) ||
		    !!(w.pf_error & XK_PF_U) != !!(acc & XK_ACC_USER))
			abort();
	}
	return 0;
}
