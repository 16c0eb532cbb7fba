// SPDX-License-Identifier: GPL-2.0
/*
 * stats_linux.c - publishing the core's statistics on Linux.
 *
 * Theory.  Two faces over the tables of core/stats.c:
 *
 * 1. KVM_GET_STATS_FD gives a read-only anonymous file per VM or vCPU whose
 *    contents are Linux's binary statistics layout (header, id, descriptors,
 *    data), built by the core at every read; read and pread both work (the
 *    file position, or pread's offset).  The file holds a reference on the
 *    VM, which keeps the VM and all its vCPUs alive.
 *
 * 2. debugfs: /sys/kernel/debug/xkvm/ (mode 0500, files 0400, root only):
 *      <counter>                       the sum over all live VMs and vCPUs
 *      <pid>-<fd>/<stat>               per VM (fd: the VM's file descriptor
 *                                      number in the process that made it)
 *      <pid>-<fd>/vcpu<id>/<stat>      per vCPU
 *    under the original driver's hyphenated names, one decimal number per
 *    file (crtime and snaptime in nanoseconds of the host's monotonic
 *    clock).  If "<pid>-<fd>" is taken (the VM file was closed while its
 *    vCPU files keep the VM alive, and the process got the same number for a
 *    new VM) the directory is "<pid>-<fd>.<n>" with n a global sequence.
 *
 *    A file never points at a VM: its private data is a struct
 *    xkvm_stat_file naming the VM by address (a key, never followed), the
 *    vCPU id and the table index, and a read asks the core to find the VM in
 *    the list of live VMs (xk_stats_lookup), which a VM leaves when its
 *    destruction begins.  A read racing with the destruction therefore gets
 *    -ENOENT, never freed memory.  The directory is removed when the VM's
 *    host part is freed (after it left the list); debugfs_remove waits for
 *    reads in progress, so the xkvm_stat_file records are freed after that.
 *
 *    No read waits for a VM: the core reads the values without any VM's
 *    lock, under the global list lock held only for that walk of memory
 *    (core/stats.c), and the copy to the reader's buffer comes after, with
 *    nothing held.  A VM stuck on its VMM's memory (a userfaultfd nobody
 *    answers, with vm->lock held) therefore holds up neither these files,
 *    nor, through the list lock, anyone's KVM_CREATE_VM or close; so
 *    debugfs_remove, which waits for reads of the VM's own files, never
 *    waits on another VM either.
 */
#include <linux/anon_inodes.h>
#include <linux/debugfs.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "stats_linux.h"

/* What one debugfs file shows.  (c): set at creation, immutable. */
struct xkvm_stat_file {
	const struct xk_vm *vm; /* (c) key of the VM, NULL for a sum */
	s64 vcpu;               /* (c) vCPU id, -1 for the VM */
	u8 kind;                /* (c) enum xk_stats_kind */
	u8 idx;                 /* (c) index in the kind's table */
};

struct xkvm_vcpu_stats {
	struct xkvm_vcpu_stats *next;              /* (s) the VM's list */
	struct xkvm_stat_file files[XK_STATS_MAX]; /* (c) */
};

/* Per VM, owned by the VM's host part; (s) = xkvm_stats_lock. */
struct xkvm_vm_stats {
	struct dentry *dir;                        /* (c) */
	struct xkvm_stat_file files[XK_STATS_MAX]; /* (c) */
	struct xkvm_vcpu_stats *vcpus;             /* (s) */
};

static DEFINE_MUTEX(xkvm_stats_lock);
static struct dentry *xkvm_debugfs;           /* (c) at load */
static struct xkvm_stat_file *xkvm_sum_files; /* (c) at load */
static atomic_t xkvm_dir_seq = ATOMIC_INIT(0);

static ssize_t stat_file_read(struct file *f, char __user *ubuf, size_t len,
			      loff_t *pos)
{
	const struct xkvm_stat_file *sf = f->private_data;
	u64 vals[XK_STATS_MAX], val;
	char buf[24];
	int n;

	if (!sf->vm) {
		val = xk_stats_sum(sf->kind, sf->idx);
	} else {
		if (xk_stats_lookup(sf->vm, sf->vcpu, vals))
			return -ENOENT;
		val = vals[sf->idx];
	}
	n = scnprintf(buf, sizeof(buf), "%llu\n", (unsigned long long)val);
	return simple_read_from_buffer(ubuf, len, pos, buf, n);
}

static const struct file_operations stat_file_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = stat_file_read,
	.llseek = default_llseek,
};

/* One file per entry of the kind's table in dir. */
static void make_files(struct dentry *dir, struct xkvm_stat_file *files,
		       const struct xk_vm *vm, s64 vcpu,
		       enum xk_stats_kind kind, bool counters_only)
{
	struct xk_stat_info info;
	u32 i;

	for (i = 0; i < xk_stats_count(kind); i++) {
		xk_stats_info(kind, i, &info);
		if (counters_only && !info.counter)
			continue;
		files[i].vm = vm;
		files[i].vcpu = vcpu;
		files[i].kind = kind;
		files[i].idx = i;
		debugfs_create_file(info.name, 0400, dir, &files[i],
				    &stat_file_fops);
	}
}

void xkvm_stats_init(void)
{
	struct dentry *d;

	d = debugfs_create_dir("xkvm", NULL);
	if (IS_ERR_OR_NULL(d))
		return;
	xkvm_sum_files =
		kcalloc(2 * XK_STATS_MAX, sizeof(*xkvm_sum_files), GFP_KERNEL);
	if (!xkvm_sum_files) {
		debugfs_remove(d);
		return;
	}
	/* mode 0500: root only (debugfs itself usually is) */
	d->d_inode->i_mode = S_IFDIR | 0500;
	xkvm_debugfs = d;
	make_files(d, xkvm_sum_files, NULL, -1, XK_STATS_VCPU, true);
	make_files(d, xkvm_sum_files + XK_STATS_MAX, NULL, -1, XK_STATS_VM,
		   true);
}

void xkvm_stats_exit(void)
{
	debugfs_remove(xkvm_debugfs); /* waits for reads in progress */
	xkvm_debugfs = NULL;
	kfree(xkvm_sum_files);
	xkvm_sum_files = NULL;
}

static struct dentry *make_dir(const char *name, struct dentry *parent)
{
	struct dentry *d = debugfs_create_dir(name, parent);

	if (IS_ERR_OR_NULL(d))
		return NULL;
	d->d_inode->i_mode = S_IFDIR | 0500;
	return d;
}

struct xkvm_vm_stats *xkvm_stats_vm_add(struct xk_vm *vm, int fd)
{
	struct xkvm_vm_stats *s;
	struct dentry *old;
	char name[48];

	if (!xkvm_debugfs)
		return NULL;
	s = kzalloc(sizeof(*s), GFP_KERNEL_ACCOUNT);
	if (!s)
		return NULL;
	snprintf(name, sizeof(name), "%d-%d", vm->pid, fd);
	/* a name in use (see the theory) gives an error, not a dentry */
	old = debugfs_lookup(name, xkvm_debugfs);
	if (old) {
		dput(old);
		snprintf(name, sizeof(name), "%d-%d.%d", vm->pid, fd,
			 atomic_inc_return(&xkvm_dir_seq));
	}
	s->dir = make_dir(name, xkvm_debugfs);
	if (!s->dir) {
		kfree(s);
		return NULL;
	}
	make_files(s->dir, s->files, vm, -1, XK_STATS_VM, false);
	return s;
}

void xkvm_stats_vcpu_add(struct xkvm_vm_stats *s, struct xk_vcpu *v)
{
	struct xkvm_vcpu_stats *vs;
	struct dentry *d;
	char name[24];

	if (!s)
		return;
	vs = kzalloc(sizeof(*vs), GFP_KERNEL_ACCOUNT);
	if (!vs)
		return;
	snprintf(name, sizeof(name), "vcpu%u", v->id);
	d = make_dir(name, s->dir);
	if (!d) {
		kfree(vs);
		return;
	}
	make_files(d, vs->files, v->vm, v->id, XK_STATS_VCPU, false);
	mutex_lock(&xkvm_stats_lock);
	vs->next = s->vcpus;
	s->vcpus = vs;
	mutex_unlock(&xkvm_stats_lock);
}

void xkvm_stats_vm_remove(struct xkvm_vm_stats *s)
{
	struct xkvm_vcpu_stats *vs, *next;

	if (!s)
		return;
	debugfs_remove(s->dir); /* recursive; waits for reads in progress */
	mutex_lock(&xkvm_stats_lock);
	vs = s->vcpus;
	s->vcpus = NULL;
	mutex_unlock(&xkvm_stats_lock);
	for (; vs; vs = next) {
		next = vs->next;
		kfree(vs);
	}
	kfree(s);
}

/* ---- the binary statistics fd ---------------------------------------- */

struct xkvm_stats_fd {
	struct xk_vm *vm;  /* (c) one reference held */
	struct xk_vcpu *v; /* (c) NULL for the VM's file */
};

static ssize_t stats_fd_read(struct file *f, char __user *ubuf, size_t len,
			     loff_t *pos)
{
	struct xkvm_stats_fd *sf = f->private_data;
	u64 p;
	long r;

	if (*pos < 0)
		return -EINVAL;
	p = (u64)*pos;
	r = xk_stats_read(sf->vm, sf->v, (u64)(uintptr_t)ubuf, len, &p);
	if (r > 0)
		*pos = (loff_t)p;
	return r;
}

static int stats_fd_release(struct inode *inode, struct file *f)
{
	struct xkvm_stats_fd *sf = f->private_data;

	xk_vm_put(sf->vm);
	kfree(sf);
	return 0;
}

static const struct file_operations stats_fd_fops = {
	.owner = THIS_MODULE,
	.read = stats_fd_read,
	.release = stats_fd_release,
	.llseek = noop_llseek,
};

int xkvm_stats_get_fd(struct xk_vm *vm, struct xk_vcpu *v)
{
	struct xkvm_stats_fd *sf;
	struct file *file;
	int fd;

	sf = kzalloc(sizeof(*sf), GFP_KERNEL_ACCOUNT);
	if (!sf)
		return -ENOMEM;
	sf->vm = vm;
	sf->v = v;
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		kfree(sf);
		return fd;
	}
	xk_vm_get(vm);
	file = anon_inode_getfile(v ? "kvm-vcpu-stats" : "kvm-vm-stats",
				  &stats_fd_fops, sf, O_RDONLY);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		xk_vm_put(vm);
		kfree(sf);
		return PTR_ERR(file);
	}
	file->f_mode |= FMODE_PREAD; /* as Linux: pread at any offset */
	fd_install(fd, file);
	return fd;
}
