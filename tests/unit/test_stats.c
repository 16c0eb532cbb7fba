// SPDX-License-Identifier: GPL-2.0
/*
 * test_stats.c - the statistics tables and Linux's binary statistics layout
 * (core/stats.c): header and offsets, the id strings, descriptor names as C
 * identifiers made from the original's hyphenated names, types and units,
 * values that follow the counters, reads at any offset and length (pread),
 * and the tree's lookups and sums over the live VMs.  No reader waits for
 * a VM: with a VM's lock held by a thread that does not let it go (as a
 * VMM stuck in a userfaultfd would), every reader and another VM's
 * creation and end complete, the lock still held when they are done.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

#include "fx.h"

#define DESC_BYTES (sizeof(struct kvm_stats_desc) + XK_STATS_NAME_SIZE)

/* Read the whole file of vm (or its vCPU v) through xk_stats_read. */
static u8 *read_all(struct xk_vm *vm, struct xk_vcpu *v, u32 *size)
{
	enum xk_stats_kind kind = v ? XK_STATS_VCPU : XK_STATS_VM;
	u32 n = xk_stats_file_size(kind);
	u8 *buf = fx_alloc_pages((n + 4095) / 4096);
	u64 pos = 0;

	XT_EQ(xk_stats_read(vm, v, (u64)(uintptr_t)buf, n + 100, &pos), n);
	XT_EQ(pos, n);
	*size = n;
	return buf;
}

static const struct kvm_stats_desc *desc(const u8 *buf, u32 i)
{
	const struct kvm_stats_header *h = (const void *)buf;

	return (const void *)(buf + h->desc_offset + i * DESC_BYTES);
}

static u64 value(const u8 *buf, const char *name)
{
	const struct kvm_stats_header *h = (const void *)buf;
	u32 i;
	u64 val;

	for (i = 0; i < h->num_desc; i++)
		if (!strcmp(desc(buf, i)->name, name)) {
			memcpy(&val,
			       buf + h->data_offset + desc(buf, i)->offset, 8);
			return val;
		}
	XT_FAIL("no statistic %s", name);
}

static void check_layout(const u8 *buf, u32 size, enum xk_stats_kind kind)
{
	const struct kvm_stats_header *h = (const void *)buf;
	u32 i, j, k;

	XT_EQ(h->flags, 0);
	XT_EQ(h->name_size, 48); /* KVM_STATS_NAME_SIZE */
	XT_EQ(h->num_desc, xk_stats_count(kind));
	XT_EQ(h->id_offset, sizeof(*h));
	XT_EQ(h->desc_offset, h->id_offset + h->name_size);
	XT_EQ(h->data_offset, h->desc_offset + h->num_desc * DESC_BYTES);
	XT_EQ(size, h->data_offset + h->num_desc * 8);
	for (i = 0; i < h->num_desc; i++) {
		const struct kvm_stats_desc *d = desc(buf, i);
		struct xk_stat_info info;
		u32 type = d->flags & KVM_STATS_TYPE_MASK;
		u32 unit = d->flags & KVM_STATS_UNIT_MASK;

		xt_ctx("stat %u (%s)", i, d->name);
		XT_EQ(xk_stats_info(kind, i, &info), 0);
		XT_EQ(d->size, 1);
		XT_EQ(d->offset, i * 8);
		XT_EQ(d->bucket_size, 0);
		XT_EQ(d->flags & KVM_STATS_BASE_MASK, KVM_STATS_BASE_POW10);
		XT_ASSERT(type == KVM_STATS_TYPE_CUMULATIVE ||
			  type == KVM_STATS_TYPE_INSTANT);
		XT_ASSERT(unit == KVM_STATS_UNIT_NONE ||
			  unit == KVM_STATS_UNIT_BYTES ||
			  unit == KVM_STATS_UNIT_SECONDS);
		XT_EQ(d->exponent, unit == KVM_STATS_UNIT_SECONDS ? -9 : 0);
		/* a C identifier: the original's name with '-' -> '_' */
		XT_ASSERT(strlen(d->name) > 0 && strlen(d->name) < 48);
		XT_EQ(strlen(d->name), strlen(info.name));
		for (k = 0; d->name[k]; k++) {
			char c = d->name[k];

			XT_ASSERT((c >= 'a' && c <= 'z') || c == '_' ||
				  (c >= '0' && c <= '9'));
			XT_EQ(c, info.name[k] == '-' ? '_' : info.name[k]);
		}
		/* the rest of the name field is zero */
		for (k = strlen(d->name); k < 48; k++)
			XT_EQ(d->name[k], 0);
		for (j = 0; j < i; j++)
			XT_ASSERT(strcmp(desc(buf, j)->name, d->name) != 0);
	}
}

XT_TEST(stats, vcpu_layout_and_values)
{
	struct fx *f = fx_new();
	char id[64];
	u32 size;
	u8 *buf;

	f->v->stats.io_exits = 7;
	f->v->stats.mmio_exits = 5;
	f->v->stats.halt_exits = 3;
	f->v->stats.npt_violations = 11;
	f->v->stats.exits = 1ULL << 40;
	buf = read_all(f->vm, f->v, &size);
	check_layout(buf, size, XK_STATS_VCPU);
	snprintf(id, sizeof(id), "kvm-%d/vcpu-0", (int)getpid());
	XT_ASSERT(!strcmp((char *)buf + sizeof(struct kvm_stats_header), id));
	XT_EQ(value(buf, "io_exits"), 7);
	XT_EQ(value(buf, "mmio_exits"), 5);
	XT_EQ(value(buf, "halt_exits"), 3);
	XT_EQ(value(buf, "npt_violations"), 11);
	XT_EQ(value(buf, "exits"), 1ULL << 40);
	XT_EQ(value(buf, "irq_window_exits"), 0);
	XT_EQ(value(buf, "id"), 0);
	XT_EQ(value(buf, "pid"), getpid()); /* the creator before any run */
	XT_EQ(value(buf, "crtime"), f->v->stats.created_ns);
	XT_ASSERT(value(buf, "snaptime") >= value(buf, "crtime"));
	/* every counter of stats.h is there, under its binary name */
#define CHECK_NAME(fld, n, d) (void)value(buf, #fld);
	XK_VCPU_STATS(CHECK_NAME)
}

XT_TEST(stats, vm_layout_and_values)
{
	struct fx *f = fx_new();
	struct xk_vcpu *v2;
	char id[64];
	u32 size;
	u8 *buf;

	fx_mem(f, 0, 0, 16, 0);
	fx_mem(f, 1, 0x100000, 4, 0);
	XT_EQ(xk_vcpu_create(f->vm, 5, &v2), 0);
	f->vm->stats.remote_tlb_flush = 9;
	buf = read_all(f->vm, NULL, &size);
	check_layout(buf, size, XK_STATS_VM);
	snprintf(id, sizeof(id), "kvm-%d", (int)getpid());
	XT_ASSERT(!strcmp((char *)buf + sizeof(struct kvm_stats_header), id));
	XT_EQ(value(buf, "memory"), 20 * 4096);
	XT_EQ(value(buf, "vcpus"), 2);
	XT_EQ(value(buf, "pid"), getpid());
	XT_EQ(value(buf, "remote_tlb_flush"), 9);
	XT_EQ(value(buf, "crtime"), f->vm->created_ns);
	XT_EQ(desc(buf, 0)->flags & KVM_STATS_TYPE_MASK,
	      KVM_STATS_TYPE_CUMULATIVE);
	/* levels are instant values, the memory is in bytes */
	{
		const struct kvm_stats_header *h = (const void *)buf;
		u32 i;

		for (i = 0; i < h->num_desc; i++) {
			const struct kvm_stats_desc *d = desc(buf, i);

			if (!strcmp(d->name, "mmu_pages") ||
			    !strcmp(d->name, "lpages") ||
			    !strcmp(d->name, "vcpus"))
				XT_EQ(d->flags, KVM_STATS_TYPE_INSTANT |
							KVM_STATS_UNIT_NONE);
			if (!strcmp(d->name, "memory"))
				XT_EQ(d->flags, KVM_STATS_TYPE_INSTANT |
							KVM_STATS_UNIT_BYTES);
			if (!strcmp(d->name, "remote_tlb_flush"))
				XT_EQ(d->flags, KVM_STATS_TYPE_CUMULATIVE);
		}
	}
	/* the second vCPU's id string */
	buf = read_all(f->vm, v2, &size);
	snprintf(id, sizeof(id), "kvm-%d/vcpu-5", (int)getpid());
	XT_ASSERT(!strcmp((char *)buf + sizeof(struct kvm_stats_header), id));
	XT_EQ(value(buf, "id"), 5);
}

/* pread at every offset with odd lengths gives the same bytes (but the
 * snapshot time, which moves) */
XT_TEST(stats, reads_at_any_offset)
{
	struct fx *f = fx_new();
	u32 size, off, len;
	const struct kvm_stats_header *h;
	u8 *all, *part = fx_alloc_pages(2);
	u64 pos;

	f->v->stats.io_exits = 0x1122334455667788ULL;
	all = read_all(f->vm, f->v, &size);
	h = (const void *)all;
	for (off = 0; off < size; off += 37) {
		len = off % 13 + 1;
		pos = off;
		XT_EQ(xk_stats_read(f->vm, f->v, (u64)(uintptr_t)part, len,
				    &pos),
		      XK_MIN(len, size - off));
		XT_EQ(pos, off + XK_MIN(len, size - off));
		if (off + len <= h->data_offset + (h->num_desc - 1) * 8)
			XT_MEMEQ(part, all + off, XK_MIN(len, size - off));
	}
	pos = size;
	XT_EQ(xk_stats_read(f->vm, f->v, (u64)(uintptr_t)part, 8, &pos), 0);
	pos = ~0ULL;
	XT_EQ(xk_stats_read(f->vm, f->v, (u64)(uintptr_t)part, 8, &pos), 0);
	pos = 0;
	XT_EQ(xk_stats_read(f->vm, f->v, (u64)(uintptr_t)part, 0, &pos), 0);
	/* a bad buffer: EFAULT, the position stays */
	XT_EQ(xk_stats_read(f->vm, f->v, 8, 16, &pos), -EFAULT);
	XT_EQ(pos, 0);
}

XT_TEST(stats, lookup_and_sums)
{
	struct fx *a = fx_new(), *b = fx_new();
	u64 vals[XK_STATS_MAX];
	struct xk_stat_info info;
	u32 io = ~0u, i;
	int stale;

	for (i = 0; i < xk_stats_count(XK_STATS_VCPU); i++) {
		XT_EQ(xk_stats_info(XK_STATS_VCPU, i, &info), 0);
		if (!strcmp(info.name, "io-exits"))
			io = i;
		/* the counters are summed, the identities are not */
		XT_EQ(info.counter, i < xk_stats_count(XK_STATS_VCPU) - 4);
	}
	XT_EQ(xk_stats_info(XK_STATS_VCPU, i, &info), -ENOENT);
	XT_ASSERT(io != ~0u);
	a->v->stats.io_exits = 100;
	b->v->stats.io_exits = 23;
	XT_EQ(xk_stats_sum(XK_STATS_VCPU, io), 123);
	XT_EQ(xk_stats_sum(XK_STATS_VCPU, 1000), 0);
	XT_EQ(xk_stats_lookup(a->vm, 0, vals), 0);
	XT_EQ(vals[io], 100);
	XT_EQ(xk_stats_lookup(b->vm, 0, vals), 0);
	XT_EQ(vals[io], 23);
	XT_EQ(xk_stats_lookup(b->vm, 1, vals), -ENOENT); /* no vCPU 1 */
	XT_EQ(xk_stats_lookup(b->vm, -1, vals), 0);
	XT_EQ(vals[xk_stats_count(XK_STATS_VM) - 4], 1); /* vcpus */
	XT_EQ(xk_stats_lookup((struct xk_vm *)&stale, 0, vals), -ENOENT);
	/* a VM that is gone is no longer found nor summed */
	{
		struct xk_vm *key = b->vm;

		fx_destroy(b);
		XT_EQ(xk_stats_lookup(key, 0, vals), -ENOENT);
	}
	XT_EQ(xk_stats_sum(XK_STATS_VCPU, io), 100);
}

/* A thread that takes a VM's lock and keeps it until told to let go. */
struct holder {
	struct host_mutex *m;
	pthread_mutex_t lk;
	pthread_cond_t cv;
	bool held, release;
};

static void *hold(void *arg)
{
	struct holder *h = arg;

	host_mutex_lock(h->m);
	pthread_mutex_lock(&h->lk);
	h->held = true;
	pthread_cond_broadcast(&h->cv);
	while (!h->release)
		pthread_cond_wait(&h->cv, &h->lk);
	pthread_mutex_unlock(&h->lk);
	host_mutex_unlock(h->m);
	return NULL;
}

/* Everything that reads statistics, then another user's VM comes and goes */
struct reader {
	struct fx *a;
	u32 io;
	u8 *buf;
	u64 sum, vcpus, io_a, vm_pid;
	int lookup_vm, lookup_vcpu, create;
	long read;
};

static void *read_all_stats(void *arg)
{
	struct reader *r = arg;
	u64 vals[XK_STATS_MAX], pos = 0;
	struct xk_vm *other;

	r->sum = xk_stats_sum(XK_STATS_VCPU, r->io); /* the debugfs sums */
	r->lookup_vm = xk_stats_lookup(r->a->vm, -1, vals); /* per-VM files */
	r->vcpus = vals[xk_stats_count(XK_STATS_VM) - 4];
	r->lookup_vcpu = xk_stats_lookup(r->a->vm, 0, vals);
	r->io_a = vals[r->io];
	xk_stats_vm_values(r->a->vm, vals); /* the binary stats fd */
	r->vm_pid = vals[xk_stats_count(XK_STATS_VM) - 5];
	r->read = xk_stats_read(r->a->vm, NULL, (u64)(uintptr_t)r->buf,
				xk_stats_file_size(XK_STATS_VM), &pos);
	r->create = xk_vm_create(0, &other); /* the list lock is free */
	if (!r->create)
		xk_vm_put(other);
	return NULL;
}

XT_TEST(stats, readers_never_wait_for_a_vm_lock)
{
	struct fx *a = fx_new(), *b = fx_new();
	struct holder h = { .m = a->vm->lock };
	struct reader r = { .a = a };
	struct xk_stat_info info;
	pthread_t th, tr;
	struct timespec until;
	int joined;

	pthread_mutex_init(&h.lk, NULL);
	pthread_cond_init(&h.cv, NULL);
	for (r.io = 0; r.io < xk_stats_count(XK_STATS_VCPU); r.io++) {
		XT_EQ(xk_stats_info(XK_STATS_VCPU, r.io, &info), 0);
		if (!strcmp(info.name, "io-exits"))
			break;
	}
	r.buf = fx_alloc_pages((xk_stats_file_size(XK_STATS_VM) + 4095) / 4096);
	a->v->stats.io_exits = 5;
	b->v->stats.io_exits = 2;
	XT_EQ(pthread_create(&th, NULL, hold, &h), 0);
	pthread_mutex_lock(&h.lk);
	while (!h.held)
		pthread_cond_wait(&h.cv, &h.lk);
	pthread_mutex_unlock(&h.lk);
	XT_EQ(pthread_create(&tr, NULL, read_all_stats, &r), 0);
	/*
	 * A watchdog, not a measure: a correct reader is done at once; one
	 * that waits for the lock would wait forever.
	 */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 30;
	joined = pthread_timedjoin_np(tr, NULL, &until);
	/* the fact: the lock was still held when the readers were done */
	if (!joined)
		XT_ASSERT(!host_mutex_trylock(a->vm->lock));
	pthread_mutex_lock(&h.lk);
	h.release = true;
	pthread_cond_broadcast(&h.cv);
	pthread_mutex_unlock(&h.lk);
	pthread_join(th, NULL);
	if (joined) {
		pthread_join(tr, NULL);
		XT_FAIL("a statistics reader waited for a VM's lock");
	}
	XT_EQ(r.sum, 7);
	XT_EQ(r.lookup_vm, 0);
	XT_EQ(r.vcpus, 1);
	XT_EQ(r.lookup_vcpu, 0);
	XT_EQ(r.io_a, 5);
	XT_EQ(r.vm_pid, (u64)getpid());
	XT_EQ(r.read, xk_stats_file_size(XK_STATS_VM));
	XT_EQ(r.create, 0);
	pthread_cond_destroy(&h.cv);
	pthread_mutex_destroy(&h.lk);
}
