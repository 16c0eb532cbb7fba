// SPDX-License-Identifier: GPL-2.0
/*
 * stats.c - the statistics tables, and the Linux binary statistics layout.
 *
 * Theory.  Every publisher walks the same two tables built here from the
 * X-macro lists of stats.h: the per-vCPU set (every counter of
 * XK_VCPU_STATS, then id, pid, crtime, snaptime) and the per-VM set (the
 * counters of XK_VM_STATS, then pid, vcpus, memory, crtime, snaptime).
 * Entry i of a table is value i of a snapshot (xk_stats_*_values), so a
 * snapshot is a plain array of u64 whichever way it is published.
 *
 * Names.  The tables hold the original driver's hyphenated names (the
 * debugfs tree, kvmstat); the binary statistics fd wants C identifiers, so
 * there '-' becomes '_' (io-exits -> io_exits), as in Linux's own names.
 *
 * The binary statistics file (KVM_GET_STATS_FD), as Linux lays it out:
 *   struct kvm_stats_header                       at 0
 *   id string, name_size bytes ("kvm-<pid>",      at id_offset
 *     "kvm-<pid>/vcpu-<id>")
 *   num_desc x (struct kvm_stats_desc + name)     at desc_offset
 *   num_desc x u64 values                         at data_offset
 * Each descriptor has size 1 (one u64) and the offset of its value within
 * the data block.  Everything before the data block is fixed for the life
 * of the file; the values are taken afresh at every read, so a VMM that
 * preads the data block again sees new values (QEMU's query-stats).
 *
 * Reading, and why no reader waits for a VM.  Nothing here takes
 * vm->lock: its holder may keep it across a user copy or pinning, which can
 * wait on the VMM's memory for as long as the VMM likes (a userfaultfd
 * nobody answers), and the tree's readers walk every VM under the global
 * list lock (xk_vm_for_each), so one stuck VM would stall every reader,
 * and behind them every other user's KVM_CREATE_VM and close, which need
 * that list lock too.  Instead every value is read without locks, one
 * aligned load each (XK_READ_ONCE): vCPU counters are written by the vCPU
 * thread alone, VM counters under vm->lock or vm->mmu_lock, the levels
 * (vcpus, memory) under vm->lock; a reader sees each value as it was at
 * some moment of the read, not one instant of the whole VM (a snapshot
 * may pair a new vcpus with an old memory), which statistics allow.  The
 * vCPU list is walked without vm->lock as well: a vCPU joins it at the
 * head, published with a release store (vcpu.c), and leaves it only when
 * the VM is destroyed.
 *
 * Lifetime.  The tree's lookups and sums run under the list lock, and a
 * VM leaves the list (under that lock) before anything of it is freed, so
 * a VM or vCPU found there stays intact until the callback returns; a VM
 * whose destruction has begun is no longer found.  A binary statistics
 * file holds a reference on its VM instead.  Nothing here touches a freed
 * VM, and nothing here can block: the list lock is held for a walk of
 * memory, bounded by the VMs and their vCPUs.
 */
#include "xkvm.h"

#define T_CUM KVM_STATS_TYPE_CUMULATIVE
#define T_INST KVM_STATS_TYPE_INSTANT
#define U_NONE KVM_STATS_UNIT_NONE
#define U_BYTES KVM_STATS_UNIT_BYTES
#define U_SECS KVM_STATS_UNIT_SECONDS

#define XK_STAT_INFO(f, n, d) { n, d, T_CUM | U_NONE, 0, true },

static const struct xk_stat_info vcpu_info[] = {
	XK_VCPU_STATS(XK_STAT_INFO){ "id", "vCPU id", T_INST | U_NONE, 0,
				     false },
	{ "pid", "process that runs the vCPU (its creator before)",
	  T_INST | U_NONE, 0, false },
	{ "crtime", "creation time (host monotonic clock)", T_INST | U_SECS, -9,
	  false },
	{ "snaptime", "time of this snapshot (host monotonic clock)",
	  T_INST | U_SECS, -9, false },
};

static const struct xk_stat_info vm_info[] = {
	XK_VM_STATS(XK_STAT_INFO){ "pid", "process that created the VM",
				   T_INST | U_NONE, 0, false },
	{ "vcpus", "vCPUs", T_INST | U_NONE, 0, false },
	{ "memory", "guest memory in all slots", T_INST | U_BYTES, 0, false },
	{ "crtime", "creation time (host monotonic clock)", T_INST | U_SECS, -9,
	  false },
	{ "snaptime", "time of this snapshot (host monotonic clock)",
	  T_INST | U_SECS, -9, false },
};

static bool streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* VM counters that are levels, not event counts */
static bool vm_stat_instant(const char *name)
{
	return streq(name, "mmu-pages") || streq(name, "lpages");
}

u32 xk_stats_count(enum xk_stats_kind kind)
{
	return kind == XK_STATS_VCPU ? XK_ARRAY_SIZE(vcpu_info) :
				       XK_ARRAY_SIZE(vm_info);
}

int xk_stats_info(enum xk_stats_kind kind, u32 i, struct xk_stat_info *out)
{
	if (i >= xk_stats_count(kind))
		return -ENOENT;
	*out = kind == XK_STATS_VCPU ? vcpu_info[i] : vm_info[i];
	if (kind == XK_STATS_VM && out->counter && vm_stat_instant(out->name))
		out->flags = T_INST | U_NONE;
	return 0;
}

void xk_stats_vcpu_values(struct xk_vcpu *v, u64 *out)
{
	u32 i = 0;
	int pid = XK_READ_ONCE(v->pid);

#define XK_VCPU_GET(f, n, d) out[i++] = XK_READ_ONCE(v->stats.f);
	XK_VCPU_STATS(XK_VCPU_GET)
#undef XK_VCPU_GET
	out[i++] = v->id;
	out[i++] = (u64)(pid ? pid : v->vm->pid);
	out[i++] = v->stats.created_ns;
	out[i++] = host_time_ns();
}

/* Without locks (see the theory): each value loaded once. */
void xk_stats_vm_values(struct xk_vm *vm, u64 *out)
{
	u32 i = 0;

#define XK_VM_GET(f, n, d) out[i++] = XK_READ_ONCE(vm->stats.f);
	XK_VM_STATS(XK_VM_GET)
#undef XK_VM_GET
	out[i++] = (u64)vm->pid;
	out[i++] = XK_READ_ONCE(vm->nvcpus);
	out[i++] = XK_READ_ONCE(vm->npages) << XK_PAGE_SHIFT;
	out[i++] = vm->created_ns;
	out[i++] = host_time_ns();
}

/* The VM's vCPUs, newest first, without vm->lock (see the theory). */
static struct xk_vcpu *first_vcpu(struct xk_vm *vm)
{
	return __atomic_load_n(&vm->vcpus, __ATOMIC_ACQUIRE);
}

/* ---- the binary statistics file ---------------------------------------- */

#define DESC_BYTES (sizeof(struct kvm_stats_desc) + XK_STATS_NAME_SIZE)

u32 xk_stats_data_offset(enum xk_stats_kind kind)
{
	return sizeof(struct kvm_stats_header) + XK_STATS_NAME_SIZE +
	       xk_stats_count(kind) * DESC_BYTES;
}

u32 xk_stats_file_size(enum xk_stats_kind kind)
{
	return xk_stats_data_offset(kind) + xk_stats_count(kind) * 8;
}

/* Decimal digits of n at p; returns the number written. */
static u32 put_dec(char *p, u64 n)
{
	char tmp[24];
	u32 k = 0, i;

	do {
		tmp[k++] = (char)('0' + n % 10);
		n /= 10;
	} while (n);
	for (i = 0; i < k; i++)
		p[i] = tmp[k - 1 - i];
	return k;
}

static u32 put_str(char *p, const char *s)
{
	u32 k = 0;

	while (s[k]) {
		p[k] = s[k];
		k++;
	}
	return k;
}

/* "kvm-<pid>" or "kvm-<pid>/vcpu-<id>", as Linux names them */
static void stats_id(char *id, struct xk_vm *vm, struct xk_vcpu *v)
{
	u32 k = put_str(id, "kvm-");

	k += put_dec(id + k, (u64)(u32)vm->pid);
	if (v) {
		k += put_str(id + k, "/vcpu-");
		k += put_dec(id + k, v->id);
	}
	id[k] = 0;
}

/*
 * Build the whole file into buf (xk_stats_file_size bytes, zeroed by the
 * caller) from a snapshot vals.
 */
void xk_stats_build(enum xk_stats_kind kind, const char *id, const u64 *vals,
		    u8 *buf)
{
	struct kvm_stats_header *h = (struct kvm_stats_header *)buf;
	u32 n = xk_stats_count(kind), i, k;

	h->flags = 0;
	h->name_size = XK_STATS_NAME_SIZE;
	h->num_desc = n;
	h->id_offset = sizeof(*h);
	h->desc_offset = h->id_offset + XK_STATS_NAME_SIZE;
	h->data_offset = xk_stats_data_offset(kind);
	for (k = 0; k < XK_STATS_NAME_SIZE - 1 && id[k]; k++)
		buf[h->id_offset + k] = (u8)id[k];
	for (i = 0; i < n; i++) {
		struct kvm_stats_desc *d =
			(struct kvm_stats_desc *)(buf + h->desc_offset +
						  i * DESC_BYTES);
		struct xk_stat_info info;

		xk_stats_info(kind, i, &info);
		d->flags = info.flags;
		d->exponent = info.exponent;
		d->size = 1;
		d->offset = i * 8;
		d->bucket_size = 0;
		for (k = 0; k < XK_STATS_NAME_SIZE - 1 && info.name[k]; k++)
			d->name[k] = info.name[k] == '-' ? '_' : info.name[k];
		xk_memcpy(buf + h->data_offset + i * 8, &vals[i], 8);
	}
}

/*
 * read/pread of a statistics file: up to len bytes at *pos to the user
 * address udst; *pos advances.  v is NULL for the VM's file.  The caller
 * holds a reference on vm (the file's), which keeps v alive too.
 */
long xk_stats_read(struct xk_vm *vm, struct xk_vcpu *v, u64 udst, u64 len,
		   u64 *pos)
{
	enum xk_stats_kind kind = v ? XK_STATS_VCPU : XK_STATS_VM;
	u32 size = xk_stats_file_size(kind);
	u64 vals[XK_STATS_MAX];
	char id[XK_STATS_NAME_SIZE];
	u8 *buf;
	long r;

	if (*pos >= size || !len)
		return 0;
	len = XK_MIN(len, size - *pos);
	buf = host_zalloc(size);
	if (!buf)
		return -ENOMEM;
	if (v)
		xk_stats_vcpu_values(v, vals);
	else
		xk_stats_vm_values(vm, vals);
	stats_id(id, vm, v);
	xk_stats_build(kind, id, vals, buf);
	r = (long)len;
	if (host_copy_to_user(udst, buf + *pos, len))
		r = -EFAULT;
	else
		*pos += len;
	host_free(buf, size);
	return r;
}

/* ---- the tree: lookups and sums over the live VMs ------------------------ */

struct stats_find {
	const struct xk_vm *key;
	s64 vcpu; /* id, or -1 for the VM itself */
	u64 *vals;
	int found;
};

/* Under the list lock: never vm->lock, never a sleep (see the theory). */
static void find_one(struct xk_vm *vm, void *arg)
{
	struct stats_find *f = arg;
	struct xk_vcpu *v;

	if (vm != f->key || f->found)
		return;
	if (f->vcpu < 0) {
		xk_stats_vm_values(vm, f->vals);
		f->found = 1;
		return;
	}
	for (v = first_vcpu(vm); v; v = v->next)
		if (v->id == (u64)f->vcpu) {
			xk_stats_vcpu_values(v, f->vals);
			f->found = 1;
			return;
		}
}

/*
 * The snapshot of VM key (its vCPU vcpu, or the VM itself for -1) if that
 * VM is still alive: key is compared, never followed, so a stale one is
 * harmless.  0 or -ENOENT.
 */
int xk_stats_lookup(const struct xk_vm *key, s64 vcpu, u64 *vals)
{
	struct stats_find f = { key, vcpu, vals, 0 };

	xk_vm_for_each(find_one, &f);
	return f.found ? 0 : -ENOENT;
}

struct stats_sum {
	enum xk_stats_kind kind;
	u32 idx;
	u64 sum;
};

/* Under the list lock, as find_one. */
static void sum_one(struct xk_vm *vm, void *arg)
{
	struct stats_sum *s = arg;
	struct xk_vcpu *v;
	u64 vals[XK_STATS_MAX];

	if (s->kind == XK_STATS_VM) {
		xk_stats_vm_values(vm, vals);
		s->sum += vals[s->idx];
		return;
	}
	for (v = first_vcpu(vm); v; v = v->next) {
		xk_stats_vcpu_values(v, vals);
		s->sum += vals[s->idx];
	}
}

/* Counter idx of kind summed over every live VM (and all their vCPUs). */
u64 xk_stats_sum(enum xk_stats_kind kind, u32 idx)
{
	struct stats_sum s = { kind, idx, 0 };

	if (idx >= xk_stats_count(kind))
		return 0;
	xk_vm_for_each(sum_one, &s);
	return s.sum;
}

_Static_assert(XK_ARRAY_SIZE(vcpu_info) <= XK_STATS_MAX, "vCPU stats table");
_Static_assert(XK_ARRAY_SIZE(vm_info) <= XK_STATS_MAX, "VM stats table");
