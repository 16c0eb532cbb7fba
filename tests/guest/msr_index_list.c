// SPDX-License-Identifier: GPL-2.0
/*
 * msr_index_list - KVM_GET_MSR_INDEX_LIST and the MSRs it lists.
 *
 * Host part: nmsrs = 0 fails with E2BIG and stores the needed count n;
 * nmsrs = n - 1 fails the same way; nmsrs = n and nmsrs = n + 8 succeed and
 * return n; the list holds no MSR twice and holds the MSRs a VMM must save
 * for a 64-bit guest (SYSENTER_CS/ESP/EIP, STAR, LSTAR, CSTAR, SFMASK,
 * KERNEL_GS_BASE, TSC, PAT).  On a fresh vCPU every listed MSR is read with
 * KVM_GET_MSRS and written back with KVM_SET_MSRS, one at a time and all at
 * once (the count returned equals the count passed); reading them all again
 * gives the same values, running time counters apart (TSC, and the Hyper-V
 * VP runtime and reference time that Linux lists).  One exception, Linux's:
 * MSR_KVM_ASYNC_PF_INT is listed but every write fails without an in-kernel
 * local APIC (kvm_pv_enable_async_pf_int), so it is left out of the writes.
 * Then the vCPU still runs a 64-bit guest.
 *
 * The lists differ between drivers (emulated and feature MSRs), so the
 * transcript holds only these facts, never the count or the values.
 */
#define _GNU_SOURCE
#include "kvmtest.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#define MSR_IA32_TSC 0x10
#define MSR_IA32_CR_PAT 0x277

static const struct {
	const char *name;
	uint32_t index;
} basic[] = {
	{ "SYSENTER_CS", 0x174 },  { "SYSENTER_ESP", 0x175 },
	{ "SYSENTER_EIP", 0x176 }, { "STAR", 0xc0000081 },
	{ "LSTAR", 0xc0000082 },   { "CSTAR", 0xc0000083 },
	{ "SFMASK", 0xc0000084 },  { "KERNEL_GS_BASE", 0xc0000102 },
	{ "TSC", MSR_IA32_TSC },   { "PAT", MSR_IA32_CR_PAT },
};
#define NBASIC (int)(sizeof(basic) / sizeof(basic[0]))

/*
 * MSR_KVM_ASYNC_PF_INT: Linux lists it but refuses any write while the
 * vCPU has no in-kernel local APIC, as here.
 */
#define MSR_KVM_ASYNC_PF_INT 0x4b564d06

static int may_refuse(uint32_t msr)
{
	return msr == MSR_KVM_ASYNC_PF_INT;
}

/* Running time counters: TSC, Hyper-V VP runtime and reference time. */
static int is_counter(uint32_t msr)
{
	return msr == MSR_IA32_TSC || msr == 0x40000010 || msr == 0x40000020;
}

static void guest_main(void)
{
	GUEST_SYNC(1, guest_rdmsr(0xc0000081), 0);
	GUEST_DONE();
	guest_hlt_forever();
}

static const char *yes_no(int b)
{
	return b ? "yes" : "NO";
}

static struct kvm_msr_list *alloc_list(uint32_t n)
{
	struct kvm_msr_list *l = calloc(1, sizeof(*l) + n * sizeof(uint32_t));

	KT_ASSERT(l != NULL);
	l->nmsrs = n;
	return l;
}

static long get_list(int fd, struct kvm_msr_list *l, int *err)
{
	long r;

	errno = 0;
	r = ioctl(fd, KVM_GET_MSR_INDEX_LIST, l);
	*err = errno;
	return r;
}

static struct kvm_msrs *alloc_msrs(uint32_t n)
{
	struct kvm_msrs *m =
		calloc(1, sizeof(*m) + n * sizeof(struct kvm_msr_entry));

	KT_ASSERT(m != NULL);
	m->nmsrs = n;
	return m;
}

int main(void)
{
	struct kvm_msr_list *l, *t;
	struct kvm_msrs *m, *m2, *one;
	struct kt_vcpu *v;
	struct kt_ucall uc;
	uint32_t n;
	long r;
	int fd, err, unique = 1, ok_get = 1, ok_set = 1, same = 1;

	kt_init("msr_index_list");
	fd = kt_open_kvm();

	l = alloc_list(0);
	r = get_list(fd, l, &err);
	n = l->nmsrs;
	printf("nmsrs = 0: %s, needed count stored: %s\n",
	       r == -1 && err == E2BIG ? "E2BIG" : "other", yes_no(n > 0));
	KT_ASSERT(r == -1 && err == E2BIG, "r=%ld errno %d", r, err);
	KT_ASSERT(n > 0);
	free(l);

	t = alloc_list(n - 1);
	r = get_list(fd, t, &err);
	printf("nmsrs = count - 1: %s, count stored again: %s\n",
	       r == -1 && err == E2BIG ? "E2BIG" : "other",
	       yes_no(t->nmsrs == n));
	KT_ASSERT(r == -1 && err == E2BIG, "r=%ld errno %d", r, err);
	KT_ASSERT_EQ(t->nmsrs, n);
	free(t);

	t = alloc_list(n + 8);
	r = get_list(fd, t, &err);
	printf("nmsrs = count + 8: %s, count returned: %s\n",
	       r == 0 ? "ok" : "error", t->nmsrs == n ? "the count" : "other");
	KT_ASSERT(r == 0, "errno %d", err);
	KT_ASSERT_EQ(t->nmsrs, n);

	l = alloc_list(n);
	r = get_list(fd, l, &err);
	printf("nmsrs = count: %s, count returned: %s\n",
	       r == 0 ? "ok" : "error", l->nmsrs == n ? "the count" : "other");
	KT_ASSERT(r == 0, "errno %d", err);
	KT_ASSERT_EQ(l->nmsrs, n);
	KT_ASSERT(memcmp(l->indices, t->indices, n * sizeof(uint32_t)) == 0);
	free(t);
#ifdef KT_VERBOSE
	fprintf(stderr, "%u MSRs:", n);
	for (uint32_t i = 0; i < n; i++)
		fprintf(stderr, " %x", l->indices[i]);
	fprintf(stderr, "\n");
#endif

	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < i; j++)
			if (l->indices[i] == l->indices[j])
				unique = 0;
	printf("no MSR listed twice: %s\n", yes_no(unique));
	KT_ASSERT(unique);
	for (int b = 0; b < NBASIC; b++) {
		int found = 0;

		for (uint32_t i = 0; i < n; i++)
			found |= l->indices[i] == basic[b].index;
		printf("%s listed: %s\n", basic[b].name, yes_no(found));
		KT_ASSERT(found, "MSR 0x%x", basic[b].index);
	}

	/* Every listed MSR on a fresh vCPU: one by one, then all at once. */
	v = kt_create_default();
	one = alloc_msrs(1);
	for (uint32_t i = 0; i < n; i++) {
		one->nmsrs = 1;
		one->entries[0].index = l->indices[i];
		one->entries[0].data = 0;
		if (ioctl(v->fd, KVM_GET_MSRS, one) != 1) {
			fprintf(stderr, "KVM_GET_MSRS of 0x%x failed\n",
				l->indices[i]);
			ok_get = 0;
			continue;
		}
		if (ioctl(v->fd, KVM_SET_MSRS, one) != 1 &&
		    !may_refuse(l->indices[i])) {
			fprintf(stderr,
				"KVM_SET_MSRS of 0x%x = 0x%llx failed\n",
				l->indices[i],
				(unsigned long long)one->entries[0].data);
			ok_set = 0;
		}
	}
	printf("every listed MSR reads alone: %s\n", yes_no(ok_get));
	KT_ASSERT(ok_get);
	printf("every listed MSR writes its value back alone (MSR_KVM_ASYNC_PF_INT apart): %s\n",
	       yes_no(ok_set));
	KT_ASSERT(ok_set);

	m = alloc_msrs(n);
	for (uint32_t i = 0; i < n; i++)
		m->entries[i].index = l->indices[i];
	r = ioctl(v->fd, KVM_GET_MSRS, m);
	printf("KVM_GET_MSRS of the whole list returns the count: %s\n",
	       yes_no(r == (long)n));
	KT_ASSERT(r == (long)n, "returned %ld of %u (first failing 0x%x)", r, n,
		  r >= 0 && r < (long)n ? l->indices[r] : 0);
	/* the same values back, those an irqchip-less vCPU refuses left out */
	m2 = alloc_msrs(n);
	m2->nmsrs = 0;
	for (uint32_t i = 0; i < n; i++)
		if (!may_refuse(m->entries[i].index))
			m2->entries[m2->nmsrs++] = m->entries[i];
	r = ioctl(v->fd, KVM_SET_MSRS, m2);
	printf("KVM_SET_MSRS of those values returns the count: %s\n",
	       yes_no(r == (long)m2->nmsrs));
	KT_ASSERT(r == (long)m2->nmsrs,
		  "returned %ld of %u (first failing 0x%x)", r, m2->nmsrs,
		  r >= 0 && r < (long)m2->nmsrs ? m2->entries[r].index : 0);

	memset(m2->entries, 0, n * sizeof(m2->entries[0]));
	m2->nmsrs = n;
	for (uint32_t i = 0; i < n; i++)
		m2->entries[i].index = l->indices[i];
	r = ioctl(v->fd, KVM_GET_MSRS, m2);
	KT_ASSERT(r == (long)n, "returned %ld", r);
	for (uint32_t i = 0; i < n; i++) {
		if (is_counter(l->indices[i]))
			continue;
		if (m2->entries[i].data != m->entries[i].data) {
			fprintf(stderr, "MSR 0x%x: 0x%llx then 0x%llx\n",
				l->indices[i],
				(unsigned long long)m->entries[i].data,
				(unsigned long long)m2->entries[i].data);
			same = 0;
		}
	}
	printf("values read again unchanged (time counters apart): %s\n",
	       yes_no(same));
	KT_ASSERT(same);

	kt_setup_long(v, (uint64_t)(uintptr_t)guest_main, KT_STACK_ENTRY);
	kt_expect_sync(v, 1, &uc);
	printf("the vCPU then runs a 64-bit guest; its STAR reads 0x%llx\n",
	       (unsigned long long)uc.args[1]);
	kt_expect_done(v);
	kt_pass();
}
