// SPDX-License-Identifier: GPL-2.0
/*
 * xkvm_main.c - the Linux face of the driver: module load and unload, CPU
 * hotplug, /dev/kvm, and the VM and vCPU file descriptors.
 *
 * Theory.  Loading probes the CPU through the core (which logs the one
 * reason it refuses, if it does), turns SVM on in every online CPU through a
 * CPU hotplug state (so CPUs that come later are enabled and CPUs that leave
 * are disabled), and registers /dev/kvm as misc minor 232.  Unloading undoes
 * it in reverse order; it cannot happen while a VM or vCPU file is open,
 * because each file holds a reference on the module.
 *
 * Files.  KVM_CREATE_VM makes an anonymous-inode file whose private data is
 * the struct xk_vm (one reference); KVM_CREATE_VCPU makes one per vCPU,
 * each also holding a reference on its VM, so the VM dies only when its
 * last file is closed, in whatever order the VMM closes them.  As in Linux,
 * only the process that created a VM may use it (-EIO otherwise): guest
 * memory is that process's memory.  A vCPU file maps two pages: kvm_run,
 * then the port I/O data page.
 */
#include <linux/anon_inodes.h>
#include <linux/cpuhotplug.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "../../core/xkvm.h"
#include "stats_linux.h"

struct xkvm_vm_host {
	struct mm_struct *mm;        /* (c) the creator's, grabbed */
	struct xkvm_vm_stats *stats; /* (c) its debugfs directory, or NULL */
};

static enum cpuhp_state xkvm_hp_state;

static int xkvm_cpu_online(unsigned int cpu)
{
	int r;

	preempt_disable();
	r = xk_cpu_online(cpu);
	preempt_enable();
	return r;
}

static int xkvm_cpu_offline(unsigned int cpu)
{
	preempt_disable();
	xk_cpu_offline(cpu);
	preempt_enable();
	return 0;
}

static bool vm_owner_ok(struct xk_vm *vm)
{
	struct xkvm_vm_host *h = vm->host;

	return h->mm == current->mm;
}

/* ---- vCPU files ---- */

static long xkvm_vcpu_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	struct xk_vcpu *v = f->private_data;

	if (!vm_owner_ok(v->vm))
		return -EIO;
	if (cmd == KVM_GET_STATS_FD)
		return xkvm_stats_get_fd(v->vm, v);
	return xk_vcpu_ioctl(v, cmd, arg);
}

static vm_fault_t xkvm_vcpu_fault(struct vm_fault *vmf)
{
	struct xk_vcpu *v = vmf->vma->vm_file->private_data;
	void *p = xk_vcpu_mmap_page(v, vmf->pgoff);
	struct page *page;

	if (!p)
		return VM_FAULT_SIGBUS;
	page = virt_to_page(p);
	get_page(page);
	vmf->page = page;
	return 0;
}

static const struct vm_operations_struct xkvm_vcpu_vm_ops = {
	.fault = xkvm_vcpu_fault,
};

static int xkvm_vcpu_mmap(struct file *f, struct vm_area_struct *vma)
{
	vma->vm_ops = &xkvm_vcpu_vm_ops;
	return 0;
}

static int xkvm_vcpu_release(struct inode *inode, struct file *f)
{
	struct xk_vcpu *v = f->private_data;

	xk_vm_put(v->vm);
	return 0;
}

static const struct file_operations xkvm_vcpu_fops = {
	.owner = THIS_MODULE,
	.release = xkvm_vcpu_release,
	.unlocked_ioctl = xkvm_vcpu_ioctl,
	.compat_ioctl = xkvm_vcpu_ioctl,
	.mmap = xkvm_vcpu_mmap,
	.llseek = noop_llseek,
};

/* ---- VM files ---- */

static int xkvm_create_vcpu(struct xk_vm *vm, unsigned long id)
{
	struct xk_vcpu *v;
	char name[32];
	int r;

	if (id > U32_MAX)
		return -EINVAL;
	r = xk_vcpu_create(vm, (u32)id, &v);
	if (r)
		return r;
	xkvm_stats_vcpu_add(((struct xkvm_vm_host *)vm->host)->stats, v);
	xk_vm_get(vm);
	snprintf(name, sizeof(name), "kvm-vcpu:%lu", id);
	r = anon_inode_getfd(name, &xkvm_vcpu_fops, v, O_RDWR | O_CLOEXEC);
	if (r < 0) {
		/*
		 * The vCPU stays in the VM, unreachable, and is freed with
		 * it; its id is taken, as in Linux.
		 */
		xk_vm_put(vm);
	}
	return r;
}

static long xkvm_vm_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	struct xk_vm *vm = f->private_data;

	if (!vm_owner_ok(vm))
		return -EIO;
	if (cmd == KVM_CREATE_VCPU)
		return xkvm_create_vcpu(vm, arg);
	if (cmd == KVM_GET_STATS_FD)
		return xkvm_stats_get_fd(vm, NULL);
	return xk_vm_ioctl(vm, cmd, arg);
}

static void xkvm_vm_free_host(struct xk_vm *vm)
{
	struct xkvm_vm_host *h = vm->host;

	xkvm_stats_vm_remove(h->stats); /* the VM left the list already */
	mmdrop(h->mm);
	kfree(h);
}

static int xkvm_vm_release(struct inode *inode, struct file *f)
{
	struct xk_vm *vm = f->private_data;

	/* vCPU files may keep the VM (and its host part) alive a while */
	xk_vm_put(vm);
	return 0;
}

static const struct file_operations xkvm_vm_fops = {
	.owner = THIS_MODULE,
	.release = xkvm_vm_release,
	.unlocked_ioctl = xkvm_vm_ioctl,
	.compat_ioctl = xkvm_vm_ioctl,
	.llseek = noop_llseek,
};

static int xkvm_create_vm(unsigned long type)
{
	struct xkvm_vm_host *h;
	struct file *file;
	struct xk_vm *vm;
	int r, fd;

	h = kzalloc(sizeof(*h), GFP_KERNEL_ACCOUNT);
	if (!h)
		return -ENOMEM;
	r = xk_vm_create(type, &vm);
	if (r) {
		kfree(h);
		return r;
	}
	h->mm = current->mm;
	mmgrab(h->mm);
	vm->host = h;
	vm->host_free = xkvm_vm_free_host;
	/* the fd number first: it names the VM's statistics directory */
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		xk_vm_put(vm);
		return fd;
	}
	file = anon_inode_getfile("kvm-vm", &xkvm_vm_fops, vm,
				  O_RDWR | O_CLOEXEC);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		xk_vm_put(vm);
		return PTR_ERR(file);
	}
	h->stats = xkvm_stats_vm_add(vm, fd);
	fd_install(fd, file);
	return fd;
}

/* ---- /dev/kvm ---- */

static long xkvm_dev_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	if (cmd == KVM_CREATE_VM)
		return xkvm_create_vm(arg);
	return xk_dev_ioctl(cmd, arg);
}

static const struct file_operations xkvm_dev_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = xkvm_dev_ioctl,
	.compat_ioctl = xkvm_dev_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice xkvm_dev = {
	.minor = KVM_MINOR,
	.name = "kvm",
	.fops = &xkvm_dev_fops,
	.mode = 0660,
};

/* ---- what the driver holds, for leak checks ---- */

static int held_get(char *buf, const struct kernel_param *kp)
{
	struct host_held h;

	host_held(&h);
	return sysfs_emit(buf, "objects %lld pages %lld pinned %lld\n",
			  h.objects, h.pages, h.pinned);
}

/*
 * Read-only, but the module loader calls .set without looking for one
 * (insmod xkvm.ko held=1, or an "options xkvm held=..." line): refuse it.
 */
static int held_set(const char *val, const struct kernel_param *kp)
{
	host_log(HOST_LOG_ERR, "the parameter held is read-only");
	return -EPERM;
}

static const struct kernel_param_ops held_ops = {
	.set = held_set,
	.get = held_get,
};
module_param_cb(held, &held_ops, NULL, 0444);
MODULE_PARM_DESC(
	held,
	"objects, pages and pinned guest pages the driver holds (read-only)");

static int __init xkvm_init(void)
{
	int r;

	r = xk_core_init();
	if (r)
		return r;
	r = xk_vm_list_init();
	if (r)
		goto fail_core;
	r = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "xkvm:online",
			      xkvm_cpu_online, xkvm_cpu_offline);
	if (r < 0) {
		host_log(
			HOST_LOG_ERR,
			"not loaded: SVM could not be enabled on every CPU (%d)",
			r);
		goto fail_core;
	}
	xkvm_hp_state = r;
	r = misc_register(&xkvm_dev);
	if (r) {
		if (r == -EBUSY)
			host_log(
				HOST_LOG_ERR,
				"not loaded: /dev/kvm is already registered by another driver");
		else
			host_log(HOST_LOG_ERR,
				 "not loaded: cannot register /dev/kvm (%d)",
				 r);
		goto fail_hp;
	}
	xkvm_stats_init();
	host_log(HOST_LOG_INFO, "loaded: /dev/kvm served by the %s backend",
		 xk_ops->name);
	return 0;

fail_hp:
	cpuhp_remove_state(xkvm_hp_state);
fail_core:
	xk_vm_list_fini();
	xk_core_exit();
	return r;
}

static void __exit xkvm_exit(void)
{
	misc_deregister(&xkvm_dev);
	xkvm_stats_exit();
	cpuhp_remove_state(xkvm_hp_state);
	xk_vm_list_fini();
	xk_core_exit();
	host_log(HOST_LOG_INFO, "unloaded");
}

module_init(xkvm_init);
module_exit(xkvm_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("xkvm: a KVM-compatible hypervisor (AMD SVM)");
MODULE_ALIAS_MISCDEV(KVM_MINOR);
