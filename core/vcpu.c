// SPDX-License-Identifier: GPL-2.0
/*
 * vcpu.c - vCPU lifetime, the run loop, and kicking a vCPU out of the guest.
 *
 * Theory.
 *
 * The run loop (xk_vcpu_run) first completes whatever the VMM answered since
 * the last exit (the data of a port or MMIO read, or just the RIP advance of
 * a write), then honours immediate_exit, then enters the guest until an exit
 * handler wants the VMM (0) or fails (< 0).
 *
 * Entering: preemption off, the guest's FPU state loaded, interrupts off,
 * then vcpu->mode = IN_GUEST, then requests are checked, then the backend
 * runs the guest.  The backend keeps the global interrupt flag clear until
 * VMRUN, so an interrupt that arrives after the mode was published is held
 * until the guest runs and then forces an immediate exit.
 *
 * Kicking (xk_vcpu_kick): the sender sets the request bit, then reads mode;
 * the vCPU publishes mode, then reads the request bits.  Both sides use
 * sequentially consistent atomics, so either the vCPU sees the request
 * before it enters or the sender sees IN_GUEST and sends an IPI, which makes
 * the guest exit.  A signal for the vCPU thread works the same way through
 * the host's own process kick.
 *
 * Waiting for a kicked vCPU (xk_vm_flush_all) must not wait for mode to
 * read OUTSIDE: a vCPU that spins in the guest leaves it for a moment and
 * goes straight back, and the waiter may never look at the right moment
 * (on an emulated or overcommitted host it practically never does).  It
 * waits instead for exit_seq to move on, which every exit from the guest
 * does; the new entry has seen the request.
 */
#include "xkvm.h"
#include "irqchip.h"

static u32 fpu_size;  /* bytes of the guest XSAVE area */
static u64 host_xcr0; /* host XCR0; the guest's features are its subset */
static bool have_xsave;
static bool have_pku; /* the host uses PKRU: switched around the guest */
static u64 host_xss;  /* the host's IA32_XSS, where XSAVES exists */
static bool have_xss;
static u64 xsave_mask; /* what our XSAVE/XRSTOR switch: host XCR0 - PKRU */

#define XFEATURE_PKRU XK_BIT(9)
#define MSR_IA32_XSS 0x00000da0

void xk_fpu_setup(void)
{
	u32 a, b, c, d;

	xk_cpuid(1, 0, &a, &b, &c, &d);
	have_xsave = (c & CPUID_1_ECX_XSAVE) && (c & XK_BIT(27)); /* OSXSAVE */
	if (have_xsave) {
		host_xcr0 = xk_xgetbv(0);
		xk_cpuid(0xd, 0, &a, &b, &c, &d);
		fpu_size = b;
		xk_cpuid(0xd, 1, &a, &b, &c, &d);
		have_xss = !!(a & XK_BIT(3)); /* XSAVES */
	} else {
		host_xcr0 = 3;
		fpu_size = 512;
		have_xss = false;
	}
	if (fpu_size < 576)
		fpu_size = 576;
	have_pku = host_pkru_enabled();
	host_xss = have_xss ? host_cpu_rdmsr(MSR_IA32_XSS) : 0;
	xsave_mask = host_xcr0 & ~XFEATURE_PKRU;
	xk_fpu_setup_mxcsr();
}

bool xk_host_has_pku(void)
{
	return have_pku;
}

u64 xk_host_xss(void)
{
	return host_xss;
}

/*
 * The guest's FPU image goes in and out with the host's XCR0, so every
 * component the guest can touch (SSE does not depend on XCR0) is switched,
 * except PKRU: the host kernel keeps the thread's PKRU in the register
 * whatever its FPU state does (it is not restored from an XSAVE image on
 * the way to user space), so PKRU is switched on its own around the guest
 * (xk_guest_xstate_enter) and the guest's value lives in vcpu->pkru.
 */
static void fpu_load(struct xk_vcpu *v)
{
	host_fpu_begin();
	if (have_xsave)
		__asm__ volatile("xrstor64 %0" ::"m"(*(u8 *)v->fpu),
				 "a"((u32)xsave_mask),
				 "d"((u32)(xsave_mask >> 32)));
	else
		__asm__ volatile("fxrstor64 %0" ::"m"(*(u8 *)v->fpu));
	v->stats.fpu_reload++;
}

/*
 * Interrupts and GIF off, just around the guest.  XCR0 and IA32_XSS are
 * written only when the guest's differ from the host's; PKRU only where the
 * host uses it, and only when the guest's differs from the thread's, which
 * is read each time (the thread may have changed it since the last entry).
 * On the way out the guest's PKRU is read back (WRPKRU in the guest does
 * not exit) and the thread's restored.
 */
void xk_guest_xstate_enter(struct xk_vcpu *v)
{
	if (have_xsave && v->xcr0 != host_xcr0)
		host_cpu_xsetbv(0, v->xcr0);
	if (have_xss && v->xss != host_xss)
		host_cpu_wrmsr(MSR_IA32_XSS, v->xss);
	if (have_pku) {
		v->host_pkru = host_cpu_rdpkru();
		if (v->pkru != v->host_pkru)
			host_cpu_wrpkru(v->pkru);
	}
}

void xk_guest_xstate_exit(struct xk_vcpu *v)
{
	if (have_pku) {
		v->pkru = host_cpu_rdpkru();
		if (v->pkru != v->host_pkru)
			host_cpu_wrpkru(v->host_pkru);
	}
	if (have_xss && v->xss != host_xss)
		host_cpu_wrmsr(MSR_IA32_XSS, host_xss);
	if (have_xsave && v->xcr0 != host_xcr0)
		host_cpu_xsetbv(0, host_xcr0);
}

static void fpu_save(struct xk_vcpu *v)
{
	if (have_xsave)
		__asm__ volatile("xsave64 %0"
				 : "=m"(*(u8 *)v->fpu)
				 : "a"((u32)xsave_mask),
				   "d"((u32)(xsave_mask >> 32))
				 : "memory");
	else
		__asm__ volatile("fxsave64 %0" : "=m"(*(u8 *)v->fpu)::"memory");
	host_fpu_end();
}

u32 xk_fpu_size(void)
{
	return fpu_size;
}

u64 xk_host_xcr0(void)
{
	return host_xcr0;
}

/* Reset the architectural state every backend shares. */
static void vcpu_reset_common(struct xk_vcpu *v)
{
	xk_memset(v->gpr, 0, sizeof(v->gpr));
	v->gpr[XK_RDX] = 0x600; /* family/model/stepping before CPUID */
	v->rip = 0xfff0;
	v->rflags = XK_RFLAGS_FIXED;
	v->apic_base = XK_APICBASE_DEFAULT | XK_APICBASE_ENABLE;
	if (v->id == 0)
		v->apic_base |= XK_APICBASE_BSP;
	v->cr8 = 0;
	v->irq_pending = false;
	v->nmi_pending = 0;
	v->nmi_masked = false;
	v->pkru = 0;
	v->xss = 0;
	v->spec_ctrl = 0;
	v->virt_spec_ctrl = 0;
	v->ibpb_pending = false;
	xk_fpu_reset(v);
}

int xk_vcpu_create(struct xk_vm *vm, u32 id, struct xk_vcpu **out)
{
	struct xk_vcpu *v, *it;
	u64 hpa;
	int r;

	if (id >= XK_MAX_VCPU_ID)
		return -EINVAL;
	host_mutex_lock(vm->lock);
	r = -EINVAL;
	if (vm->nvcpus >= XK_MAX_VCPUS)
		goto out_unlock;
	r = -EEXIST;
	for (it = vm->vcpus; it; it = it->next)
		if (it->id == id)
			goto out_unlock;
	r = -ENOMEM;
	v = host_zalloc(sizeof(*v));
	if (!v)
		goto out_unlock;
	v->vm = vm;
	v->id = id;
	v->cpu = -1;
	v->stats.created_ns = host_time_ns();
	v->lock = host_mutex_create();
	v->run = host_pages_alloc(0, &hpa);
	v->pio_data = host_pages_alloc(0, &hpa);
	v->fpu = host_pages_alloc(fpu_size > 4096 ? 1 : 0, &hpa);
	if (!v->lock || !v->run || !v->pio_data || !v->fpu)
		goto out_free;
	r = xk_ops->vcpu_init(v);
	if (r)
		goto out_free;
	vcpu_reset_common(v);
	xk_ops->vcpu_reset(v);
	xk_tsc_set_host(v, 0); /* in step with the vCPUs before it */
	r = xk_irqchip_vcpu_init(v);
	if (r) {
		xk_ops->vcpu_destroy(v);
		goto out_free;
	}
	v->next = vm->vcpus;
	/* published whole: the statistics walk the list without vm->lock */
	__atomic_store_n(&vm->vcpus, v, __ATOMIC_RELEASE);
	XK_WRITE_ONCE(vm->nvcpus, vm->nvcpus + 1);
	host_mutex_unlock(vm->lock);
	*out = v;
	return 0;

out_free:
	if (v->fpu)
		host_pages_free(v->fpu, fpu_size > 4096 ? 1 : 0);
	if (v->pio_data)
		host_pages_free(v->pio_data, 0);
	if (v->run)
		host_pages_free(v->run, 0);
	if (v->lock)
		host_mutex_destroy(v->lock);
	host_free(v, sizeof(*v));
out_unlock:
	host_mutex_unlock(vm->lock);
	return r;
}

/* Called when the VM dies; nobody else can reach the vCPU any more. */
void xk_vcpu_free(struct xk_vcpu *v)
{
	xk_irqchip_vcpu_free(v);
	xk_ops->vcpu_destroy(v);
	xk_cpuid_table_free(v);
	host_pages_free(v->fpu, fpu_size > 4096 ? 1 : 0);
	host_pages_free(v->pio_data, 0);
	host_pages_free(v->run, 0);
	host_mutex_destroy(v->lock);
	host_free(v, sizeof(*v));
}

/*
 * INIT (from the local APIC): the architectural reset but for the APIC
 * base and the TSC, which keep running (as Linux's kvm_vcpu_reset(init)).
 */
void xk_vcpu_init_reset(struct xk_vcpu *v)
{
	u64 base = v->apic_base, tsc_offset = xk_ops->get_tsc_offset(v);

	vcpu_reset_common(v);
	xk_ops->vcpu_reset(v);
	v->apic_base = base;
	xk_ops->set_tsc_offset(v, tsc_offset); /* exactly: see tsc.c */
	v->exception.pending = false;
	v->mmio.active = false;
	v->mmio.pending_read = false;
	v->pio.pending = false;
}

/* The page behind offset pgoff of the vCPU's mmap, or NULL. */
void *xk_vcpu_mmap_page(struct xk_vcpu *v, u64 pgoff)
{
	if (pgoff == 0)
		return v->run;
	if (pgoff == 1)
		return v->pio_data;
	return NULL;
}

void xk_vcpu_kick(struct xk_vcpu *v, int req)
{
	int cpu;

	__atomic_fetch_or(&v->requests, 1UL << req, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&v->mode, __ATOMIC_SEQ_CST) != XK_IN_GUEST)
		return;
	cpu = __atomic_load_n(&v->cpu, __ATOMIC_RELAXED);
	if (cpu >= 0)
		host_kick_cpu((unsigned int)cpu);
}

/* Finish, on behalf of the VMM, the access the last exit handed it. */
static int complete_userspace(struct xk_vcpu *v);

static void sync_run_fields(struct xk_vcpu *v)
{
	struct kvm_run *run = v->run;

	run->if_flag = !!(v->rflags & XK_RFLAGS_IF);
	run->cr8 = v->cr8;
	run->apic_base = v->apic_base;
	run->flags = 0;
	run->ready_for_interrupt_injection = xk_ready_for_interrupt(v);
}

/*
 * A user-space interrupt controller may hand over an interrupt now: the
 * guest takes interrupts and none is queued already.
 */
bool xk_ready_for_interrupt(struct xk_vcpu *v)
{
	return !v->irq_pending && xk_ops->interrupt_allowed(v);
}

int xk_vcpu_run(struct xk_vcpu *v)
{
	struct kvm_run *run = v->run;
	bool rechecked = false;
	unsigned long kicked;
	int r;

	v->pid = host_current_pid();
	if (v->apic && v->mp_state == KVM_MP_STATE_UNINITIALIZED) {
		/* Linux: wait for an INIT/SIPI, take it, return EAGAIN */
		r = xk_irqchip_wait_uninit(v);
		goto out;
	}
	r = complete_userspace(v);
	if (r <= 0)
		goto out;
	if (run->immediate_exit) { /* Linux leaves exit_reason alone */
		r = -EINTR;
		goto out;
	}
	for (;;) {
		if (v->shutdown_pending) { /* e.g. a machine check in one */
			v->shutdown_pending = false;
			run->exit_reason = KVM_EXIT_SHUTDOWN;
			r = 0;
			break;
		}
		if (host_signal_pending()) {
			run->exit_reason = KVM_EXIT_INTR;
			v->stats.signal_exits++;
			r = -EINTR;
			break;
		}
		r = xk_irqchip_runnable(v);
		if (r <= 0)
			break;
		xk_irqchip_inject(v);
		host_cond_resched();
		host_preempt_disable();
		fpu_load(v);
		host_irq_disable();
		__atomic_store_n(&v->cpu, (int)host_cpu_id(), __ATOMIC_RELAXED);
		xk_ops->vcpu_load(v, host_cpu_id());
		__atomic_store_n(&v->mode, XK_IN_GUEST, __ATOMIC_SEQ_CST);
		/*
		 * A kick since the checks above (a new interrupt for the
		 * in-kernel APIC): look again, but only once in a row, so
		 * that a fast device timer cannot keep the guest from
		 * running; later kicks see IN_GUEST and force an exit.
		 */
		kicked = __atomic_fetch_and(&v->requests, ~(1UL << XK_REQ_KICK),
					    __ATOMIC_SEQ_CST) &
			 (1UL << XK_REQ_KICK);
		if ((kicked && v->apic && !rechecked) ||
		    host_signal_pending() || host_need_resched()) {
			rechecked = kicked && v->apic;
			__atomic_store_n(&v->mode, XK_OUTSIDE_GUEST,
					 __ATOMIC_SEQ_CST);
			__atomic_fetch_add(&v->exit_seq, 1, __ATOMIC_SEQ_CST);
			host_irq_enable();
			fpu_save(v);
			host_preempt_enable();
			continue;
		}
		rechecked = false;
		host_trace_entry(v->pid, v->id, v->rip);
		xk_ops->vcpu_enter(v);
		__atomic_store_n(&v->mode, XK_OUTSIDE_GUEST, __ATOMIC_RELEASE);
		__atomic_fetch_add(&v->exit_seq, 1, __ATOMIC_SEQ_CST);
		host_irq_enable();
		fpu_save(v);
		host_preempt_enable();
		v->stats.exits++;
		xk_irqchip_after_exit(v);
		r = xk_ops->handle_exit(v);
		if (r <= 0)
			break;
		/* the VMM asked to hear when it may inject: tell it now */
		if (v->run->request_interrupt_window &&
		    xk_ready_for_interrupt(v)) {
			v->run->exit_reason = KVM_EXIT_IRQ_WINDOW_OPEN;
			v->stats.request_irq_exits++;
			r = 0;
			break;
		}
	}
out:
	sync_run_fields(v);
	v->stats.vmm_exits++;
	host_trace_userspace_exit(v->pid, v->id, run->exit_reason, r);
	return r;
}

/* ------------------------------------------------------------------ */
/* Completion of port and MMIO reads handed to the VMM.                */

static int complete_userspace(struct xk_vcpu *v)
{
	if (v->pio.pending) {
		struct xk_pio *p = &v->pio;

		p->pending = false;
		if (p->string)
			return xk_pio_string_complete(v);
		if (v->rip != p->rip)
			return 1; /* the VMM moved the vCPU: drop the access */
		if (p->in) {
			u64 val = 0;

			xk_memcpy(&val, v->pio_data, p->size);
			if (p->size == 4)
				v->gpr[XK_RAX] = val; /* zero-extends */
			else if (p->size == 2)
				v->gpr[XK_RAX] = (v->gpr[XK_RAX] & ~0xffffULL) |
						 val;
			else
				v->gpr[XK_RAX] = (v->gpr[XK_RAX] & ~0xffULL) |
						 val;
		}
		xk_skip_to(v, p->next_rip);
	}
	if (v->mmio.wfrag_next < v->mmio.nwfrag)
		return xk_mmio_next_write(v);
	if (v->mmio.pending_read)
		return xk_mmio_complete(v);
	return 1;
}
