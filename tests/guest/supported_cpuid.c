// SPDX-License-Identifier: GPL-2.0
/*
 * supported_cpuid - KVM_GET_SUPPORTED_CPUID as a VMM uses it, then the
 * table it returns given to a guest.
 *
 * Host part (no guest): like QEMU, ask with nent = 1, 2, 4, ... until the
 * call succeeds; every smaller table must fail with E2BIG, and the success
 * returns the entry count n.  Asking with exactly n succeeds with n, with
 * n - 1 fails with E2BIG.  The entries are sane: no (function, index) pair
 * twice, flags only KVM_CPUID_FLAG_SIGNIFCANT_INDEX and index 0 without it,
 * leaves 7 and 0xd present with that flag (subleaves 0 and 1 of 0xd), every
 * basic and extended leaf within the range leaves 0 and 0x80000000 announce,
 * leaf 0's vendor equal to the host CPU's own CPUID, and leaf 0x80000001
 * announcing long mode.
 *
 * Drivers differ in the feature bits they can offer, so the transcript only
 * holds these facts and a few basic features both must offer for the long
 * mode guest (never counts or raw values).
 *
 * Guest part: the whole table goes to KVM_SET_CPUID2 and a 64-bit guest
 * reads leaves 0, 0x80000000 and 0x80000001, which must equal the table.
 */
#define _GNU_SOURCE
#include "kvmtest.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#define IDX KVM_CPUID_FLAG_SIGNIFCANT_INDEX
#define MAX_NENT 4096

static const uint32_t leaves[3] = { 0, 0x80000000, 0x80000001 };
static uint32_t results[3][4];

static void guest_main(void)
{
	for (int i = 0; i < 3; i++)
		guest_cpuid(leaves[i], 0, results[i]);
	GUEST_SYNC(1, 0, 0);
	GUEST_DONE();
	guest_hlt_forever();
}

static struct kvm_cpuid2 *alloc_cpuid(uint32_t nent)
{
	struct kvm_cpuid2 *c =
		calloc(1, sizeof(*c) + nent * sizeof(struct kvm_cpuid_entry2));

	KT_ASSERT(c != NULL);
	c->nent = nent;
	return c;
}

static long get_supported(int fd, struct kvm_cpuid2 *c, int *err)
{
	long r;

	errno = 0;
	r = ioctl(fd, KVM_GET_SUPPORTED_CPUID, c);
	*err = errno;
	return r;
}

static const struct kvm_cpuid_entry2 *find(const struct kvm_cpuid2 *c,
					   uint32_t fn, uint32_t index)
{
	for (uint32_t i = 0; i < c->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function == fn &&
		    (!(e->flags & IDX) || e->index == index))
			return e;
	}
	return NULL;
}

static const char *yes_no(int b)
{
	return b ? "yes" : "NO";
}

static void host_cpuid(uint32_t leaf, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(0));
}

int main(void)
{
	struct kvm_cpuid2 *c = NULL, *t;
	const struct kvm_cpuid_entry2 *e0, *e7, *ed0, *ed1, *e80, *e81, *e1;
	struct kt_vcpu *v;
	struct kt_ucall uc;
	uint32_t n, asked, hostr[4];
	int fd, err, sane = 1, in_range = 1;
	char vendor[13], host_vendor[13];
	long r;

	kt_init("supported_cpuid");
	fd = kt_open_kvm();

	for (asked = 1; asked <= MAX_NENT; asked *= 2) {
		free(c);
		c = alloc_cpuid(asked);
		r = get_supported(fd, c, &err);
		if (r == 0)
			break;
		KT_ASSERT(r == -1 && err == E2BIG, "nent %u: r=%ld errno %d",
			  asked, r, err);
	}
	KT_ASSERT(asked <= MAX_NENT, "no success up to nent %u", MAX_NENT);
	n = c->nent;
	printf("nent 1, 2, 4, ...: E2BIG until the table fits, then ok: %s\n",
	       yes_no(asked > 1));
	KT_ASSERT(asked > 1 && n > asked / 2 && n <= asked, "asked %u, got %u",
		  asked, n);
#ifdef KT_VERBOSE
	fprintf(stderr, "asked %u, got %u entries\n", asked, n);
	for (uint32_t i = 0; i < n; i++) {
		const struct kvm_cpuid_entry2 *e = &c->entries[i];

		fprintf(stderr, "  %08x.%u fl=%x %08x %08x %08x %08x\n",
			e->function, e->index, e->flags, e->eax, e->ebx, e->ecx,
			e->edx);
	}
#endif

	t = alloc_cpuid(n);
	r = get_supported(fd, t, &err);
	printf("nent = entry count: %s, count returned unchanged: %s\n",
	       r == 0 ? "ok" : "error", yes_no(r == 0 && t->nent == n));
	KT_ASSERT(r == 0 && t->nent == n, "r=%ld errno %d nent %u", r, err,
		  t->nent);
	KT_ASSERT(memcmp(t->entries, c->entries, n * sizeof(c->entries[0])) ==
		  0);
	free(t);
	t = alloc_cpuid(n - 1);
	r = get_supported(fd, t, &err);
	printf("nent = entry count - 1: %s\n",
	       r == -1 && err == E2BIG ? "E2BIG" : "other");
	KT_ASSERT(r == -1 && err == E2BIG, "r=%ld errno %d", r, err);
	free(t);

	for (uint32_t i = 0; i < n; i++) {
		const struct kvm_cpuid_entry2 *e = &c->entries[i];

		if ((e->flags & ~IDX) || (!(e->flags & IDX) && e->index))
			sane = 0;
		for (uint32_t j = 0; j < i; j++)
			if (c->entries[j].function == e->function &&
			    c->entries[j].index == e->index)
				sane = 0;
	}
	printf("flags only SIGNIFCANT_INDEX, index 0 without it, no entry twice: %s\n",
	       yes_no(sane));
	KT_ASSERT(sane);

	e0 = find(c, 0, 0);
	e80 = find(c, 0x80000000, 0);
	KT_ASSERT(e0 && e80, "leaf 0 or 0x80000000 missing");
	for (uint32_t i = 0; i < n; i++) {
		uint32_t f = c->entries[i].function;

		if (f < 0x40000000 && f > e0->eax)
			in_range = 0;
		if (f >= 0x80000000 && f > e80->eax)
			in_range = 0;
	}
	printf("every leaf within the ranges of leaves 0 and 0x80000000: %s\n",
	       yes_no(in_range));
	KT_ASSERT(in_range);

	e7 = find(c, 7, 0);
	ed0 = find(c, 0xd, 0);
	ed1 = find(c, 0xd, 1);
	printf("leaf 7 index 0 with SIGNIFCANT_INDEX: %s\n",
	       yes_no(e7 && (e7->flags & IDX)));
	KT_ASSERT(e7 && (e7->flags & IDX));
	printf("leaf 0xd indexes 0 and 1 with SIGNIFCANT_INDEX: %s\n",
	       yes_no(ed0 && ed1 && (ed0->flags & IDX) && (ed1->flags & IDX)));
	KT_ASSERT(ed0 && ed1 && (ed0->flags & IDX) && (ed1->flags & IDX));

	memcpy(vendor, &e0->ebx, 4);
	memcpy(vendor + 4, &e0->edx, 4);
	memcpy(vendor + 8, &e0->ecx, 4);
	vendor[12] = 0;
	host_cpuid(0, hostr);
	memcpy(host_vendor, &hostr[1], 4);
	memcpy(host_vendor + 4, &hostr[3], 4);
	memcpy(host_vendor + 8, &hostr[2], 4);
	host_vendor[12] = 0;
	printf("leaf 0 present, vendor %s, same as the host CPU's: %s\n",
	       vendor, yes_no(!strcmp(vendor, host_vendor)));
	KT_ASSERT(!strcmp(vendor, host_vendor));

	e1 = find(c, 1, 0);
	e81 = find(c, 0x80000001, 0);
	KT_ASSERT(e1 && e81, "leaf 1 or 0x80000001 missing");
	printf("leaf 1: FPU %s, PAE %s, CX8 %s, CMOV %s, FXSR %s, SSE2 %s\n",
	       yes_no(e1->edx & 1), yes_no(e1->edx & (1u << 6)),
	       yes_no(e1->edx & (1u << 8)), yes_no(e1->edx & (1u << 15)),
	       yes_no(e1->edx & (1u << 24)), yes_no(e1->edx & (1u << 26)));
	printf("leaf 0x80000001: LM %s, NX %s, SYSCALL %s\n",
	       yes_no(e81->edx & (1u << 29)), yes_no(e81->edx & (1u << 20)),
	       yes_no(e81->edx & (1u << 11)));
	KT_ASSERT(e81->edx & (1u << 29));

	/* The table given to a 64-bit guest. */
	v = kt_create_default();
	kt_set_cpuid(v, c->entries, (int)n);
	kt_setup_long(v, (uint64_t)(uintptr_t)guest_main, KT_STACK_ENTRY);
	kt_expect_sync(v, 1, &uc);
	for (int i = 0; i < 3; i++) {
		const struct kvm_cpuid_entry2 *e = find(c, leaves[i], 0);
		uint32_t(*res)[4] =
			(uint32_t(*)[4])KT_GUEST_VAR(v->vm, results);
		int same = res[i][0] == e->eax && res[i][1] == e->ebx &&
			   res[i][2] == e->ecx && res[i][3] == e->edx;

		printf("guest CPUID 0x%08x equals the table: %s\n", leaves[i],
		       yes_no(same));
		KT_ASSERT(
			same,
			"leaf 0x%x: guest %08x %08x %08x %08x, table %08x %08x %08x %08x",
			leaves[i], res[i][0], res[i][1], res[i][2], res[i][3],
			e->eax, e->ebx, e->ecx, e->edx);
	}
	kt_expect_done(v);
	free(c);
	kt_pass();
}
