// SPDX-License-Identifier: GPL-2.0
/*
 * ioctl.c - the KVM ioctl ABI, as tables.
 *
 * Theory.  Each of the three files (/dev/kvm, a VM, a vCPU) has a table of
 * the commands it knows.  An entry names the full ioctl number (several
 * commands share a command byte, so the whole number is compared), the
 * handler, and the lock the dispatcher takes around it.  The dispatcher
 * copies a fixed-size argument in before the call and out after it, as the
 * number's direction and size say; handlers with variable-length arguments
 * (CPUID tables, MSR lists) read the rest themselves from the user address.
 * Creating a VM or a vCPU makes a file descriptor, which is the host's
 * business: the Linux glue handles those two commands and calls
 * xk_vm_create() / xk_vcpu_create().
 *
 * Capabilities are answered truthfully from one table: a capability is
 * listed only once what it promises works.
 */
#include "xkvm.h"
#include "irqchip.h"
#include "irq.h"
#include "irqfd.h"
#include "lapic.h"

enum {
	XK_IOC_NOLOCK = 0,
	XK_IOC_VCPU = 1
};

struct xk_ioctl {
	unsigned int cmd;
	long (*fn)(void *obj, void *karg, u64 uarg);
	int lock;
};

#define XK_IOCTL_ARG_MAX 512

/*
 * unknown: the errno for a command the file does not know, which Linux
 * chose per file: EINVAL for /dev/kvm and vCPUs, ENOTTY for VMs.
 */
static long dispatch(const struct xk_ioctl *tab, u32 n, void *obj,
		     struct host_mutex *lock, unsigned int cmd, u64 uarg,
		     long unknown)
{
	u8 small[XK_IOCTL_ARG_MAX] __attribute__((aligned(8)));
	u8 *karg = small;
	const struct xk_ioctl *e = NULL;
	u32 size = _IOC_SIZE(cmd), dir = _IOC_DIR(cmd), i;
	long r;

	for (i = 0; i < n; i++)
		if (tab[i].cmd == cmd) {
			e = &tab[i];
			break;
		}
	if (!e)
		return unknown;
	if (dir == _IOC_NONE)
		size = 0;
	/* numbered _IOR by an old mistake, but their data goes in, as Linux */
	if (cmd == KVM_SET_IRQCHIP || cmd == KVM_SET_PIT)
		dir = _IOC_WRITE;
	if (size > sizeof(small)) {
		/* KVM_GET/SET_XSAVE carry 4 KiB */
		karg = host_zalloc(size);
		if (!karg)
			return -ENOMEM;
	} else {
		xk_memset(small, 0, sizeof(small));
	}
	r = 0;
	if ((dir & _IOC_WRITE) && size && host_copy_from_user(karg, uarg, size))
		r = -EFAULT;
	if (!r) {
		if (e->lock == XK_IOC_VCPU)
			host_mutex_lock(lock);
		r = e->fn(obj, karg, uarg);
		if (e->lock == XK_IOC_VCPU)
			host_mutex_unlock(lock);
	}
	if (r >= 0 && (dir & _IOC_READ) && size &&
	    host_copy_to_user(uarg, karg, size))
		r = -EFAULT;
	if (karg != small)
		host_free(karg, size);
	return r;
}

/* ---- capabilities ---- */

struct xk_cap {
	long cap;
	int value;
};

static const struct xk_cap caps[] = {
	{ KVM_CAP_USER_MEMORY, 1 },
	{ KVM_CAP_DESTROY_MEMORY_REGION_WORKS, 1 },
	{ KVM_CAP_JOIN_MEMORY_REGIONS_WORKS, 1 },
	{ KVM_CAP_SET_TSS_ADDR, 1 },
	{ KVM_CAP_EXT_CPUID, 1 },
	{ KVM_CAP_MP_STATE, 1 },
	{ KVM_CAP_MCE, XK_MCE_BANKS },
	{ KVM_CAP_IRQ_ROUTING, XK_MAX_IRQ_ROUTES }, /* the GSI count */
	/* the in-kernel irqchip (irqchip.c) */
	{ KVM_CAP_IRQCHIP, 1 },
	{ KVM_CAP_HLT, 1 },
	{ KVM_CAP_PIT, 1 },
	{ KVM_CAP_PIT2, 1 },
	{ KVM_CAP_PIT_STATE2, 1 },
	{ KVM_CAP_IRQ_INJECT_STATUS, 1 },
	{ KVM_CAP_SIGNAL_MSI, 1 },
	{ KVM_CAP_TSC_DEADLINE_TIMER, 1 },
	{ KVM_CAP_IRQFD, 1 },          /* irqfd.c */
	{ KVM_CAP_IRQFD_RESAMPLE, 1 }, /* irqfd.c, with the ack reports */
	{ KVM_CAP_GET_TSC_KHZ, 1 },
	{ KVM_CAP_XSAVE, 1 },
	{ KVM_CAP_XCRS, 1 },
	{ KVM_CAP_USER_NMI, 1 },
	{ KVM_CAP_VCPU_EVENTS, 1 },
	{ KVM_CAP_IMMEDIATE_EXIT, 1 },
	{ KVM_CAP_READONLY_MEM, 1 },
	{ KVM_CAP_CHECK_EXTENSION_VM, 1 },
	{ KVM_CAP_NR_VCPUS, XK_MAX_VCPUS },
	{ KVM_CAP_MAX_VCPUS, XK_MAX_VCPUS },
	{ KVM_CAP_MAX_VCPU_ID, XK_MAX_VCPU_ID },
	{ KVM_CAP_NR_MEMSLOTS, XK_MAX_SLOTS },
	{ KVM_CAP_IOEVENTFD, 1 },
	{ KVM_CAP_IOEVENTFD_ANY_LENGTH, 1 },
	{ KVM_CAP_ADJUST_CLOCK, KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC },
	{ KVM_CAP_BINARY_STATS_FD, 1 }, /* the host glue makes the fd */
	{ KVM_CAP_DEBUGREGS, 1 },
};

int xk_cap_value(long cap)
{
	u32 i;

	for (i = 0; i < XK_ARRAY_SIZE(caps); i++)
		if (caps[i].cap == cap)
			return caps[i].value;
	return 0;
}

/* ---- /dev/kvm ---- */

/* Linux refuses a non-zero argument to the two argument-less queries. */
static long dev_api_version(void *obj, void *karg, u64 uarg)
{
	(void)obj, (void)karg;
	return uarg ? -EINVAL : XK_API_VERSION;
}

static long dev_check_extension(void *obj, void *karg, u64 uarg)
{
	(void)obj, (void)karg;
	return xk_cap_value((long)uarg);
}

static long dev_mmap_size(void *obj, void *karg, u64 uarg)
{
	(void)obj, (void)karg;
	return uarg ? -EINVAL : (long)(XK_RUN_PAGES * XK_PAGE_SIZE);
}

static long dev_supported_cpuid(void *obj, void *karg, u64 uarg)
{
	struct kvm_cpuid2 *c = karg;
	struct kvm_cpuid_entry2 *e;
	u32 max = XK_MIN(c->nent, (u32)XK_MAX_CPUID), n = 0;
	long r;

	(void)obj;
	if (max < 1)
		return -E2BIG;
	e = host_zalloc(max * sizeof(*e));
	if (!e)
		return -ENOMEM;
	r = xk_supported_cpuid(e, max, &n);
	if (!r && host_copy_to_user(uarg + sizeof(*c), e, n * sizeof(*e)))
		r = -EFAULT;
	host_free(e, max * sizeof(*e));
	if (!r)
		c->nent = n;
	return r;
}

/* MSRs KVM_GET_MSRS and KVM_SET_MSRS both handle, for migration. */
static const u32 msrs_to_save[] = {
	XK_MSR_IA32_SYSENTER_CS,
	XK_MSR_IA32_SYSENTER_ESP,
	XK_MSR_IA32_SYSENTER_EIP,
	XK_MSR_STAR,
	XK_MSR_CSTAR,
	XK_MSR_KERNEL_GS_BASE,
	XK_MSR_SFMASK,
	XK_MSR_LSTAR,
	XK_MSR_IA32_TSC,
	XK_MSR_IA32_CR_PAT,
	XK_MSR_TSC_AUX,
};

static long dev_msr_index_list(void *obj, void *karg, u64 uarg)
{
	struct kvm_msr_list *l = karg;
	u32 want = l->nmsrs, n = XK_ARRAY_SIZE(msrs_to_save);

	(void)obj;
	/* Linux writes the count back even when the buffer is too small */
	l->nmsrs = n;
	if (host_copy_to_user(uarg, l, sizeof(*l)))
		return -EFAULT;
	if (want < n)
		return -E2BIG;
	if (host_copy_to_user(uarg + sizeof(*l), msrs_to_save,
			      sizeof(msrs_to_save)))
		return -EFAULT;
	return 0;
}

static long dev_mce_cap(void *obj, void *karg, u64 uarg)
{
	(void)obj, (void)uarg;
	*(u64 *)karg = xk_mce_cap_supported();
	return 0;
}

static const struct xk_ioctl dev_ioctls[] = {
	{ KVM_X86_GET_MCE_CAP_SUPPORTED, dev_mce_cap, XK_IOC_NOLOCK },
	{ KVM_GET_SUPPORTED_CPUID, dev_supported_cpuid, XK_IOC_NOLOCK },
	{ KVM_GET_MSR_INDEX_LIST, dev_msr_index_list, XK_IOC_NOLOCK },
	{ KVM_GET_API_VERSION, dev_api_version, XK_IOC_NOLOCK },
	{ KVM_CHECK_EXTENSION, dev_check_extension, XK_IOC_NOLOCK },
	{ KVM_GET_VCPU_MMAP_SIZE, dev_mmap_size, XK_IOC_NOLOCK },
};

long xk_dev_ioctl(unsigned int cmd, u64 arg)
{
	return dispatch(dev_ioctls, XK_ARRAY_SIZE(dev_ioctls), NULL, NULL, cmd,
			arg, -EINVAL);
}

/* ---- VM ---- */

static long vm_set_memory(void *obj, void *karg, u64 uarg)
{
	(void)uarg;
	return xk_vm_set_memory(obj, karg);
}

static long vm_set_tss_addr(void *obj, void *karg, u64 uarg)
{
	struct xk_vm *vm = obj;

	(void)karg;
	/* SVM needs no real-mode TSS; the address is only recorded. */
	host_mutex_lock(vm->lock);
	vm->tss_addr = uarg;
	host_mutex_unlock(vm->lock);
	return 0;
}

/*
 * GSI routes steer interrupts between in-kernel interrupt controllers;
 * until a VM has one (KVM_CREATE_IRQCHIP) there is nothing to route and
 * Linux answers EINVAL, as here.
 */
static long vm_set_gsi_routing(void *obj, void *karg, u64 uarg)
{
	(void)karg;
	return xk_irqchip_set_routing(obj, uarg);
}

static long vm_create_irqchip(void *obj, void *karg, u64 uarg)
{
	(void)karg, (void)uarg;
	return xk_irqchip_create(obj);
}

static long vm_irq_line(void *obj, void *karg, u64 uarg)
{
	struct kvm_irq_level *l = karg;
	s32 status;
	int r;

	(void)uarg;
	r = xk_irqchip_irq_line(obj, l->irq, l->level, &status);
	if (!r)
		l->status = status; /* copied out by KVM_IRQ_LINE_STATUS only */
	return r;
}

static long vm_get_irqchip(void *obj, void *karg, u64 uarg)
{
	(void)uarg;
	return xk_irqchip_get(obj, karg);
}

static long vm_set_irqchip(void *obj, void *karg, u64 uarg)
{
	(void)uarg;
	return xk_irqchip_set(obj, karg);
}

static long vm_signal_msi(void *obj, void *karg, u64 uarg)
{
	(void)uarg;
	return xk_irqchip_signal_msi(obj, karg);
}

static long vm_create_pit2(void *obj, void *karg, u64 uarg)
{
	const struct kvm_pit_config *pc = karg;

	(void)uarg;
	return xk_irqchip_create_pit(obj, pc->flags);
}

static long vm_create_pit(void *obj, void *karg, u64 uarg)
{
	(void)karg, (void)uarg;
	return xk_irqchip_create_pit(obj, KVM_PIT_SPEAKER_DUMMY); /* Linux */
}

static long vm_get_pit2(void *obj, void *karg, u64 uarg)
{
	(void)uarg;
	return xk_irqchip_get_pit2(obj, karg);
}

static long vm_set_pit2(void *obj, void *karg, u64 uarg)
{
	(void)uarg;
	return xk_irqchip_set_pit2(obj, karg);
}

static long vm_get_pit(void *obj, void *karg, u64 uarg)
{
	(void)uarg;
	return xk_irqchip_get_pit(obj, karg);
}

static long vm_set_pit(void *obj, void *karg, u64 uarg)
{
	(void)uarg;
	return xk_irqchip_set_pit(obj, karg);
}

static long vm_reinject_control(void *obj, void *karg, u64 uarg)
{
	(void)karg;
	return xk_irqchip_reinject(obj, uarg);
}

static long vm_irqfd(void *obj, void *karg, u64 uarg)
{
	(void)uarg;
	return xk_irqfd(obj, karg);
}

static long vm_ioeventfd(void *obj, void *karg, u64 uarg)
{
	(void)uarg;
	return xk_ioeventfd(obj, karg);
}

static long vm_get_clock(void *obj, void *karg, u64 uarg)
{
	(void)uarg;
	return xk_vm_get_clock(obj, karg);
}

static long vm_set_clock(void *obj, void *karg, u64 uarg)
{
	(void)uarg;
	return xk_vm_set_clock(obj, karg);
}

static long vm_get_dirty_log(void *obj, void *karg, u64 uarg)
{
	(void)uarg;
	return xk_vm_get_dirty_log(obj, karg);
}

static const struct xk_ioctl vm_ioctls[] = {
	{ KVM_IOEVENTFD, vm_ioeventfd, XK_IOC_NOLOCK },
	{ KVM_IRQFD, vm_irqfd, XK_IOC_NOLOCK },
	{ KVM_GET_CLOCK, vm_get_clock, XK_IOC_NOLOCK },
	{ KVM_SET_CLOCK, vm_set_clock, XK_IOC_NOLOCK },
	{ KVM_GET_DIRTY_LOG, vm_get_dirty_log, XK_IOC_NOLOCK },
	{ KVM_SET_GSI_ROUTING, vm_set_gsi_routing, XK_IOC_NOLOCK },
	{ KVM_CREATE_IRQCHIP, vm_create_irqchip, XK_IOC_NOLOCK },
	{ KVM_IRQ_LINE, vm_irq_line, XK_IOC_NOLOCK },
	{ KVM_IRQ_LINE_STATUS, vm_irq_line, XK_IOC_NOLOCK },
	{ KVM_GET_IRQCHIP, vm_get_irqchip, XK_IOC_NOLOCK },
	{ KVM_SET_IRQCHIP, vm_set_irqchip, XK_IOC_NOLOCK },
	{ KVM_SIGNAL_MSI, vm_signal_msi, XK_IOC_NOLOCK },
	{ KVM_CREATE_PIT2, vm_create_pit2, XK_IOC_NOLOCK },
	{ KVM_CREATE_PIT, vm_create_pit, XK_IOC_NOLOCK },
	{ KVM_GET_PIT2, vm_get_pit2, XK_IOC_NOLOCK },
	{ KVM_SET_PIT2, vm_set_pit2, XK_IOC_NOLOCK },
	{ KVM_GET_PIT, vm_get_pit, XK_IOC_NOLOCK },
	{ KVM_SET_PIT, vm_set_pit, XK_IOC_NOLOCK },
	{ KVM_REINJECT_CONTROL, vm_reinject_control, XK_IOC_NOLOCK },
	{ KVM_SET_USER_MEMORY_REGION, vm_set_memory, XK_IOC_NOLOCK },
	{ KVM_SET_TSS_ADDR, vm_set_tss_addr, XK_IOC_NOLOCK },
	{ KVM_CHECK_EXTENSION, dev_check_extension, XK_IOC_NOLOCK },
};

long xk_vm_ioctl(struct xk_vm *vm, unsigned int cmd, u64 arg)
{
	return dispatch(vm_ioctls, XK_ARRAY_SIZE(vm_ioctls), vm, NULL, cmd, arg,
			-ENOTTY);
}

/* ---- vCPU ---- */

static long vcpu_run(void *obj, void *karg, u64 uarg)
{
	(void)karg, (void)uarg;
	return xk_vcpu_run(obj);
}

static long vcpu_get_regs(void *obj, void *karg, u64 uarg)
{
	struct xk_vcpu *v = obj;
	struct kvm_regs *r = karg;

	(void)uarg;
	r->rax = v->gpr[XK_RAX];
	r->rbx = v->gpr[XK_RBX];
	r->rcx = v->gpr[XK_RCX];
	r->rdx = v->gpr[XK_RDX];
	r->rsi = v->gpr[XK_RSI];
	r->rdi = v->gpr[XK_RDI];
	r->rsp = v->gpr[XK_RSP];
	r->rbp = v->gpr[XK_RBP];
	r->r8 = v->gpr[XK_R8];
	r->r9 = v->gpr[XK_R9];
	r->r10 = v->gpr[XK_R10];
	r->r11 = v->gpr[XK_R11];
	r->r12 = v->gpr[XK_R12];
	r->r13 = v->gpr[XK_R13];
	r->r14 = v->gpr[XK_R14];
	r->r15 = v->gpr[XK_R15];
	r->rip = v->rip;
	r->rflags = v->rflags;
	return 0;
}

static long vcpu_set_regs(void *obj, void *karg, u64 uarg)
{
	struct xk_vcpu *v = obj;
	const struct kvm_regs *r = karg;

	(void)uarg;
	v->gpr[XK_RAX] = r->rax;
	v->gpr[XK_RBX] = r->rbx;
	v->gpr[XK_RCX] = r->rcx;
	v->gpr[XK_RDX] = r->rdx;
	v->gpr[XK_RSI] = r->rsi;
	v->gpr[XK_RDI] = r->rdi;
	v->gpr[XK_RSP] = r->rsp;
	v->gpr[XK_RBP] = r->rbp;
	v->gpr[XK_R8] = r->r8;
	v->gpr[XK_R9] = r->r9;
	v->gpr[XK_R10] = r->r10;
	v->gpr[XK_R11] = r->r11;
	v->gpr[XK_R12] = r->r12;
	v->gpr[XK_R13] = r->r13;
	v->gpr[XK_R14] = r->r14;
	v->gpr[XK_R15] = r->r15;
	v->rip = r->rip;
	v->rflags = r->rflags | XK_RFLAGS_FIXED;
	/* a new register state drops an exception not yet delivered */
	v->exception.pending = false;
	return 0;
}

static long vcpu_get_sregs(void *obj, void *karg, u64 uarg)
{
	struct xk_vcpu *v = obj;
	struct kvm_sregs *s = karg;

	(void)uarg;
	xk_ops->get_sregs(v, s);
	if (v->apic) /* the TPR lives in the LAPIC */
		v->cr8 = xk_lapic_get_cr8(v->apic);
	s->cr8 = v->cr8;
	s->apic_base = v->apic_base;
	xk_memset(s->interrupt_bitmap, 0, sizeof(s->interrupt_bitmap));
	return 0;
}

/*
 * CR4 bits the driver supports, less those whose feature the guest's CPUID
 * does not announce (Linux's rule: a bit for a feature the guest was not
 * given is reserved).
 */
static bool cr4_valid(struct xk_vcpu *v, u64 cr4)
{
	u64 ok = XK_CR4_VME | XK_CR4_PVI | XK_CR4_TSD | XK_CR4_DE | XK_CR4_PSE |
		 XK_CR4_PAE | XK_CR4_MCE | XK_CR4_PGE | XK_CR4_PCE |
		 XK_CR4_OSFXSR | XK_CR4_OSXMMEXCPT | XK_CR4_FSGSBASE |
		 XK_CR4_PCIDE | XK_CR4_OSXSAVE | XK_CR4_SMEP | XK_CR4_SMAP;

	if (!xk_guest_cpuid_has(v, 1, 2, CPUID_1_ECX_XSAVE))
		ok &= ~XK_CR4_OSXSAVE;
	if (!xk_guest_cpuid_has(v, 1, 2, XK_BIT(17)))
		ok &= ~XK_CR4_PCIDE;
	if (!xk_guest_cpuid_has(v, 7, 1, XK_BIT(0)))
		ok &= ~XK_CR4_FSGSBASE;
	if (!xk_guest_cpuid_has(v, 7, 1, XK_BIT(7)))
		ok &= ~XK_CR4_SMEP;
	if (!xk_guest_cpuid_has(v, 7, 1, XK_BIT(20)))
		ok &= ~XK_CR4_SMAP;
	/* PKRU is the guest's only where the host switches it */
	if (xk_host_has_pku() && xk_guest_cpuid_has(v, 7, 2, CPUID_7_ECX_PKU))
		ok |= XK_CR4_PKE;
	return !(cr4 & ~ok);
}

/* CR0: no bit above 31, NW only with CD, PG only with PE. */
static bool cr0_valid(u64 cr0)
{
	if (cr0 >> 32)
		return false;
	if ((cr0 & XK_CR0_NW) && !(cr0 & XK_CR0_CD))
		return false;
	if ((cr0 & XK_CR0_PG) && !(cr0 & XK_CR0_PE))
		return false;
	return true;
}

static long vcpu_set_sregs(void *obj, void *karg, u64 uarg)
{
	struct xk_vcpu *v = obj;
	const struct kvm_sregs *s = karg;
	int r;

	(void)uarg;
	/* Linux's consistency rules for the paging mode */
	if ((s->efer & XK_EFER_LME) && (s->cr0 & XK_CR0_PG)) {
		if (!(s->cr4 & XK_CR4_PAE) || !(s->efer & XK_EFER_LMA))
			return -EINVAL;
		if (s->cr3 >> xk_host_maxphyaddr())
			return -EINVAL;
	} else if ((s->efer & XK_EFER_LMA) || s->cs.l) {
		return -EINVAL;
	} else if (s->cr3 >> 32) {
		return -EINVAL; /* a 32-bit CR3 outside long mode */
	}
	/*
	 * EFER as a guest's WRMSR would have to be (Linux's kvm_valid_efer,
	 * which newer Linux applies to KVM_SET_SREGS too; 6.1's kvm_amd
	 * takes such an EFER and VMRUN then fails): no reserved bit, nothing
	 * the guest's CPUID does not offer.  With CR0, CR3 and CR4 checked
	 * too, VMRUN never sees a value of these registers it would refuse.
	 */
	if (!xk_efer_valid(v, s->efer))
		return -EINVAL;
	if (!cr4_valid(v, s->cr4) || !cr0_valid(s->cr0))
		return -EINVAL;
	if (!xk_apic_base_valid(s->apic_base))
		return -EINVAL;
	r = xk_ops->set_sregs(v, s);
	if (r)
		return r;
	v->cr8 = s->cr8 & 0xf;
	if (v->apic)
		xk_lapic_set_cr8(v->apic, v->cr8);
	v->apic_base = s->apic_base;
	return 0;
}

/*
 * KVM_GET/SET_DEBUGREGS, as Linux: DR0-3, DR6 and DR7 as the guest has
 * them; SET refuses flags and bits 63:32 of DR6 and DR7 (VMRUN would), and
 * takes the rest as given.
 */
static long vcpu_get_debugregs(void *obj, void *karg, u64 uarg)
{
	struct xk_vcpu *v = obj;
	struct kvm_debugregs *d = karg;

	(void)uarg;
	xk_memset(d, 0, sizeof(*d));
	xk_memcpy(d->db, v->dr, sizeof(d->db));
	xk_ops->get_dr67(v, &d->dr6, &d->dr7);
	return 0;
}

static long vcpu_set_debugregs(void *obj, void *karg, u64 uarg)
{
	struct xk_vcpu *v = obj;
	const struct kvm_debugregs *d = karg;

	(void)uarg;
	if (d->flags || (d->dr6 >> 32) || (d->dr7 >> 32))
		return -EINVAL;
	xk_memcpy(v->dr, d->db, sizeof(v->dr));
	xk_ops->set_dr67(v, d->dr6, d->dr7);
	return 0;
}

static size_t cpuid_bytes(u32 n)
{
	return n ? n * sizeof(struct kvm_cpuid_entry2) : 1;
}

void xk_cpuid_table_free(struct xk_vcpu *v)
{
	if (v->cpuid)
		host_free(v->cpuid, cpuid_bytes(v->ncpuid));
	v->cpuid = NULL;
	v->ncpuid = 0;
}

/* Linux's test of "the same table": the fields that mean something. */
static bool cpuid_same(const struct kvm_cpuid_entry2 *a,
		       const struct kvm_cpuid_entry2 *b, u32 n)
{
	u32 i;

	for (i = 0; i < n; i++)
		if (a[i].function != b[i].function ||
		    a[i].index != b[i].index || a[i].flags != b[i].flags ||
		    a[i].eax != b[i].eax || a[i].ebx != b[i].ebx ||
		    a[i].ecx != b[i].ecx || a[i].edx != b[i].edx)
			return false;
	return true;
}

static long vcpu_set_cpuid2(void *obj, void *karg, u64 uarg)
{
	struct xk_vcpu *v = obj;
	const struct kvm_cpuid2 *c = karg;
	struct kvm_cpuid_entry2 *e;

	if (c->nent > XK_MAX_CPUID)
		return -E2BIG;
	e = host_zalloc(cpuid_bytes(c->nent));
	if (!e)
		return -ENOMEM;
	if (c->nent &&
	    host_copy_from_user(e, uarg + sizeof(*c), c->nent * sizeof(*e))) {
		host_free(e, cpuid_bytes(c->nent));
		return -EFAULT;
	}
	/* Linux: once the vCPU ran, only the same table is accepted */
	if (v->has_run &&
	    (c->nent != v->ncpuid || !cpuid_same(e, v->cpuid, c->nent))) {
		host_free(e, cpuid_bytes(c->nent));
		return -EINVAL;
	}
	xk_cpuid_table_free(v);
	v->cpuid = e;
	v->ncpuid = c->nent;
	xk_irqchip_cpuid_changed(v);
	return 0;
}

static long vcpu_get_cpuid2(void *obj, void *karg, u64 uarg)
{
	struct xk_vcpu *v = obj;
	struct kvm_cpuid2 *c = karg;

	if (c->nent < v->ncpuid)
		return -E2BIG;
	if (v->ncpuid && host_copy_to_user(uarg + sizeof(*c), v->cpuid,
					   v->ncpuid * sizeof(*v->cpuid)))
		return -EFAULT;
	c->nent = v->ncpuid;
	return 0;
}

#define XK_MAX_IO_MSRS 256

/*
 * GET_MSRS / SET_MSRS: the number of entries done, stopping at the first
 * MSR that fails.  As in Linux the whole list is read in before anything
 * happens, so an unreadable list changes nothing (-EFAULT).
 */
static long msrs_io(struct xk_vcpu *v, const struct kvm_msrs *m, u64 uarg,
		    bool set)
{
	u64 base = uarg + sizeof(*m);
	size_t bytes = (size_t)m->nmsrs * sizeof(struct kvm_msr_entry);
	struct kvm_msr_entry *e;
	long r;
	u32 i;

	if (m->nmsrs >= XK_MAX_IO_MSRS)
		return -E2BIG;
	if (!m->nmsrs)
		return 0;
	e = host_zalloc(bytes);
	if (!e)
		return -ENOMEM;
	if (host_copy_from_user(e, base, bytes)) {
		host_free(e, bytes);
		return -EFAULT;
	}
	for (i = 0; i < m->nmsrs; i++) {
		if (set ? xk_msr_set(v, e[i].index, e[i].data, true) :
			  xk_msr_get(v, e[i].index, &e[i].data, true))
			break;
	}
	r = i;
	if (!set && host_copy_to_user(base, e, bytes))
		r = -EFAULT;
	host_free(e, bytes);
	return r;
}

static long vcpu_get_msrs(void *obj, void *karg, u64 uarg)
{
	return msrs_io(obj, karg, uarg, false);
}

static long vcpu_set_msrs(void *obj, void *karg, u64 uarg)
{
	return msrs_io(obj, karg, uarg, true);
}

/* KVM_INTERRUPT: a user-space interrupt controller raises a vector. */
static long vcpu_interrupt(void *obj, void *karg, u64 uarg)
{
	struct xk_vcpu *v = obj;
	const struct kvm_interrupt *irq = karg;

	(void)uarg;
	if (irq->irq >= 256)
		return -EINVAL;
	if (v->apic)
		return -ENXIO; /* Linux: the in-kernel PIC owns ExtINT */
	/* a vector not yet delivered is replaced, as in Linux */
	v->irq_pending = true;
	v->irq_vector = (u8)irq->irq;
	return 0;
}

static long vcpu_nmi(void *obj, void *karg, u64 uarg)
{
	struct xk_vcpu *v = obj;

	(void)karg, (void)uarg;
	/*
	 * As in Linux, at most one NMI waits behind the one in service (or
	 * being delivered), two when none is: more would be lost anyway.
	 */
	if (v->nmi_pending < (v->nmi_masked ? 1 : 2))
		v->nmi_pending++;
	return 0;
}

/*
 * Without an in-kernel local APIC every vCPU is simply runnable (INIT and
 * SIPI are the VMM's business, through the register ioctls), as in Linux;
 * with one the kernel keeps the state (irqchip.c).
 */
static long vcpu_get_mp_state(void *obj, void *karg, u64 uarg)
{
	(void)uarg;
	return xk_irqchip_get_mp_state(obj, karg);
}

static long vcpu_set_mp_state(void *obj, void *karg, u64 uarg)
{
	(void)uarg;
	return xk_irqchip_set_mp_state(obj, karg);
}

static long vcpu_get_lapic(void *obj, void *karg, u64 uarg)
{
	(void)uarg;
	return xk_irqchip_get_lapic(obj, karg);
}

static long vcpu_set_lapic(void *obj, void *karg, u64 uarg)
{
	(void)uarg;
	return xk_irqchip_set_lapic(obj, karg);
}

/* The paravirtual TPR page is not offered: only "none" (0) is taken. */
static long vcpu_set_vapic_addr(void *obj, void *karg, u64 uarg)
{
	struct xk_vcpu *v = obj;
	const struct kvm_vapic_addr *va = karg;

	(void)uarg;
	if (!v->apic)
		return -EINVAL;
	return va->vapic_addr ? -EINVAL : 0;
}

static long vcpu_get_fpu(void *obj, void *karg, u64 uarg)
{
	(void)uarg;
	return xk_get_fpu(obj, karg);
}

static long vcpu_set_fpu(void *obj, void *karg, u64 uarg)
{
	(void)uarg;
	return xk_set_fpu(obj, karg);
}

static long vcpu_get_xsave(void *obj, void *karg, u64 uarg)
{
	(void)uarg;
	return xk_get_xsave(obj, karg);
}

static long vcpu_set_xsave(void *obj, void *karg, u64 uarg)
{
	(void)uarg;
	return xk_set_xsave(obj, karg);
}

static long vcpu_get_xcrs(void *obj, void *karg, u64 uarg)
{
	(void)uarg;
	return xk_get_xcrs(obj, karg);
}

static long vcpu_set_xcrs(void *obj, void *karg, u64 uarg)
{
	(void)uarg;
	return xk_set_xcrs(obj, karg);
}

/* No TSC scaling: the guest's TSC runs at the host's rate. */
static long vcpu_get_tsc_khz(void *obj, void *karg, u64 uarg)
{
	u32 khz = host_tsc_khz();

	(void)obj, (void)karg, (void)uarg;
	return khz ? (long)khz : -EIO;
}

static long vcpu_setup_mce(void *obj, void *karg, u64 uarg)
{
	(void)uarg;
	return xk_mce_setup(obj, *(const u64 *)karg);
}

static long vcpu_set_mce(void *obj, void *karg, u64 uarg)
{
	(void)uarg;
	return xk_mce_inject(obj, karg);
}

static long vcpu_get_events(void *obj, void *karg, u64 uarg)
{
	(void)uarg;
	return xk_get_vcpu_events(obj, karg);
}

static long vcpu_set_events(void *obj, void *karg, u64 uarg)
{
	(void)uarg;
	return xk_set_vcpu_events(obj, karg);
}

static const struct xk_ioctl vcpu_ioctls[] = {
	{ KVM_GET_VCPU_EVENTS, vcpu_get_events, XK_IOC_VCPU },
	{ KVM_SET_VCPU_EVENTS, vcpu_set_events, XK_IOC_VCPU },
	{ KVM_X86_SETUP_MCE, vcpu_setup_mce, XK_IOC_VCPU },
	{ KVM_X86_SET_MCE, vcpu_set_mce, XK_IOC_VCPU },
	{ KVM_GET_TSC_KHZ, vcpu_get_tsc_khz, XK_IOC_VCPU },
	{ KVM_GET_FPU, vcpu_get_fpu, XK_IOC_VCPU },
	{ KVM_SET_FPU, vcpu_set_fpu, XK_IOC_VCPU },
	{ KVM_GET_XSAVE, vcpu_get_xsave, XK_IOC_VCPU },
	{ KVM_SET_XSAVE, vcpu_set_xsave, XK_IOC_VCPU },
	{ KVM_GET_XCRS, vcpu_get_xcrs, XK_IOC_VCPU },
	{ KVM_SET_XCRS, vcpu_set_xcrs, XK_IOC_VCPU },
	{ KVM_INTERRUPT, vcpu_interrupt, XK_IOC_VCPU },
	{ KVM_NMI, vcpu_nmi, XK_IOC_VCPU },
	{ KVM_GET_MP_STATE, vcpu_get_mp_state, XK_IOC_VCPU },
	{ KVM_SET_MP_STATE, vcpu_set_mp_state, XK_IOC_VCPU },
	{ KVM_GET_LAPIC, vcpu_get_lapic, XK_IOC_VCPU },
	{ KVM_SET_LAPIC, vcpu_set_lapic, XK_IOC_VCPU },
	{ KVM_SET_VAPIC_ADDR, vcpu_set_vapic_addr, XK_IOC_VCPU },
	{ KVM_RUN, vcpu_run, XK_IOC_VCPU },
	{ KVM_GET_REGS, vcpu_get_regs, XK_IOC_VCPU },
	{ KVM_SET_REGS, vcpu_set_regs, XK_IOC_VCPU },
	{ KVM_GET_SREGS, vcpu_get_sregs, XK_IOC_VCPU },
	{ KVM_SET_SREGS, vcpu_set_sregs, XK_IOC_VCPU },
	{ KVM_SET_CPUID2, vcpu_set_cpuid2, XK_IOC_VCPU },
	{ KVM_GET_CPUID2, vcpu_get_cpuid2, XK_IOC_VCPU },
	{ KVM_GET_MSRS, vcpu_get_msrs, XK_IOC_VCPU },
	{ KVM_SET_MSRS, vcpu_set_msrs, XK_IOC_VCPU },
	{ KVM_GET_DEBUGREGS, vcpu_get_debugregs, XK_IOC_VCPU },
	{ KVM_SET_DEBUGREGS, vcpu_set_debugregs, XK_IOC_VCPU },
};

long xk_vcpu_ioctl(struct xk_vcpu *v, unsigned int cmd, u64 arg)
{
	return dispatch(vcpu_ioctls, XK_ARRAY_SIZE(vcpu_ioctls), v, v->lock,
			cmd, arg, -EINVAL);
}
