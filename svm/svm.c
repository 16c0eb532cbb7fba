// SPDX-License-Identifier: GPL-2.0
/*
 * svm.c - the AMD SVM backend (AMD64 APM vol. 2, chapter 15).
 *
 * Theory.
 *
 * Enabling.  Each host CPU gets a host save area (VM_HSAVE_PA) and a host
 * VMCB for VMSAVE/VMLOAD, allocated at load for every possible CPU, and
 * EFER.SVME is set when the CPU comes online (cpu_enable).  A CPU whose
 * EFER.SVME is already set belongs to another hypervisor: we refuse.
 *
 * Guests.  One VMCB per vCPU, with nested paging always on.  The intercepts
 * are what keeps the host safe and the guest correct; everything else,
 * including the guest's own exceptions, CRs and paging, stays in the guest:
 *  - physical interrupts, NMIs and SMIs: the host's (INTR, NMI, SMI);
 *  - CPUID, HLT, all port I/O and all MSRs (the permission maps are all
 *    ones), so no guest reaches a host port or MSR; RDPMC (#GP: no PMU);
 *  - INVD (a no-op: dropping caches would lose the host's lines) and
 *    WBINVD/WBNOINVD (a no-op, as Linux without non-coherent DMA: guest
 *    memory is coherent, and a guest flushing the shared caches in a loop
 *    would slow everybody);
 *  - every SVM instruction (VMRUN, VMLOAD, VMSAVE, STGI, CLGI, SKINIT,
 *    INVLPGA) and RSM: #UD, no nested SVM; VMMCALL: no hypercalls yet
 *    (-KVM_ENOSYS in RAX); RDPRU (#UD: the host's APERF/MPERF); INVLPGB
 *    and TLBSYNC where the CPU has them (#UD; they are #UD in guests anyway
 *    unless the VMCB enables them);
 *  - MONITOR/MONITORX and MWAIT/MWAITX (a NOP when the guest's CPUID
 *    offers MONITOR, else #UD), XSETBV (checked, the guest's XCR0 is
 *    switched with its FPU state), RDTSCP (emulated from the guest's
 *    TSC_AUX), triple fault (SHUTDOWN);
 *  - #AC and #DB, which a guest can otherwise have the CPU deliver
 *    forever without an instruction boundary (CVE-2015-5307, -8104): each
 *    is a VM exit and goes back into the guest through its IDT; #MC, which
 *    is the host's: its handler takes it (host_machine_check);
 *  - MOV to and from DR0-7 until the guest uses them (below).
 * Not intercepted, and why that is safe: PAUSE (the guest spins on its own
 * time, interrupts still exit), ICEBP (its #DB is intercepted), RDTSC (the
 * TSC offset), CR and segment
 * accesses, INVPCID (the guest's ASID only), CLZERO (a store through the
 * nested tables), MCOMMIT (needs EFER.MCOMMIT, which no guest may set),
 * XSAVES/XRSTORS (they cannot be intercepted: the guest's IA32_XSS is the
 * CPU's while it runs), RDPID (it cannot be intercepted: the guest's
 * TSC_AUX is in the MSR while it runs).
 *
 * Debug registers.  #DB is always intercepted; its causes are the DR6 bits
 * the CPU set (the VMCB holds DR6's initial value while the guest does not
 * own its debug registers) and go into the guest's DR6 as a delivered #DB
 * leaves it before the #DB is reinjected.  DR0-3 live in vcpu->dr, DR6 in
 * svm_vcpu, DR7 in the VMCB.  Accesses are intercepted until the guest
 * makes one: it then owns its debug registers for one run, without
 * intercepts (the MOV runs again natively, with the CPU's own checks), and
 * the exit that ends the run takes DR0-3 and DR6 back and intercepts again
 * (Linux does the same), so a guest that leaves them alone costs nothing.
 * Whenever the guest owns them or its DR7 arms a breakpoint, its DR0-3 are
 * in the CPU while it runs, so its breakpoints fire at its own addresses.
 * The host's own breakpoints (perf, ptrace) are disabled by #VMEXIT: when
 * the host has any, DR7 is cleared before the guest's DR0-3 go in and
 * host_debugregs_restore() puts them all back after every exit.
 *
 * Other CPU state of the guest, loaded with interrupts and GIF off right
 * around VMRUN and the host's put back before GIF is set again: XCR0,
 * IA32_XSS and PKRU (core/vcpu.c, only when they differ), VIRT_SPEC_CTRL
 * (host_virt_ssbd), SPEC_CTRL (in the VMCB with V_SPEC_CTRL, else written
 * by svm_entry.S with no return or indirect branch before VMRUN), an IBPB
 * the guest asked for through PRED_CMD.  TSC_AUX goes in when it differs
 * from what the CPU holds and the host's comes back before the CPU returns
 * to user space (host_uret_msr_set), which costs nothing between exits.
 *
 * Speculation.  The host kernel's own choices (host_mitigations(), printed
 * at load) decide what svm_entry.S does around VMRUN (svm_choose_run_flags:
 * VERW before, RSB filling, SPEC_CTRL, return untraining and IBPB after),
 * and whether a CPU that runs another VMCB than the one it ran last issues
 * an IBPB (svm_vcpu_load), so that no guest steers another's, or the
 * host's, predictions.
 *
 * ASIDs.  Each CPU hands out ASIDs from 1 up; when they run out the CPU
 * starts a new generation and flushes all of them.  A vCPU takes a fresh
 * ASID whenever it moves to another CPU or its generation is stale, so two
 * vCPUs never share TLB entries.  A TLB flush request flushes the vCPU's
 * own ASID.
 *
 * Without NRIP save (QEMU's emulated EPYC lacks it) the next RIP of an
 * intercepted instruction comes from decoding it (core/decode.c); IOIO exits
 * report it in EXITINFO2 on every CPU.  An event whose delivery was cut off
 * by an exit (EXITINTINFO) is delivered again at the next entry, except
 * software interrupts and INT3/INTO without NRIP save, which are simply
 * re-executed because the CPU could not compute their return address.
 */
#include "svm.h"

static struct svm_cpu **svm_cpus; /* by CPU id, set up at load */
static unsigned int svm_ncpus;
static u32 svm_max_asid;
static bool svm_has_nrips;
static bool svm_has_flush_asid;
static bool svm_has_v_spec_ctrl;  /* the VMCB holds the guest's SPEC_CTRL */
static bool svm_has_invlpgb;      /* INVLPGB/TLBSYNC exist: intercepted */
static int svm_tsc_aux_slot = -1; /* host_uret slot, where TSC_AUX exists */
static u64 svm_run_flags;         /* SVM_RUN_F_*, from the mitigations */
static void *iopm;                /* all ones: every port intercepted */
static u64 iopm_pa;
static void *msrpm; /* all ones: every MSR intercepted */
static u64 msrpm_pa;

#define IOPM_ORDER 2  /* 12 KiB used */
#define MSRPM_ORDER 1 /* 8 KiB */

static inline struct svm_vcpu *to_svm(struct xk_vcpu *v)
{
	return v->vendor;
}

static inline struct svm_vm *to_svm_vm(struct xk_vm *vm)
{
	return vm->vendor;
}

/* ---- module and CPUs ---------------------------------------------- */

static int svm_probe(void)
{
	u32 a, b, c, d;

	xk_cpuid(0x80000000, 0, &a, &b, &c, &d);
	if (a >= 0x80000001)
		xk_cpuid(0x80000001, 0, &a, &b, &c, &d);
	else
		c = 0;
	if (!(c & CPUID_80000001_ECX_SVM))
		return xk_refuse_no_hw();
	xk_cpuid(0x8000000a, 0, &a, &b, &c, &d);
	if (!(d & CPUID_8000000A_EDX_NP)) {
		host_log(HOST_LOG_ERR,
			 "not loaded: AMD SVM without nested paging (NPT)");
		return -ENODEV;
	}
	svm_max_asid = b ? b - 1 : 0;
	svm_has_nrips = !!(d & CPUID_8000000A_EDX_NRIPS);
	svm_has_flush_asid = !!(d & CPUID_8000000A_EDX_FLUSHBYASID);
	svm_has_v_spec_ctrl = !!(d & CPUID_8000000A_EDX_V_SPEC_CTRL);
	if (svm_max_asid < 1) {
		host_log(HOST_LOG_ERR, "not loaded: SVM reports no ASIDs");
		return -ENODEV;
	}
	if (host_cpu_rdmsr(XK_MSR_VM_CR) & XK_MSR_VM_CR_SVMDIS) {
		host_log(
			HOST_LOG_ERR,
			"not loaded: SVM is disabled by firmware (VM_CR.SVMDIS)");
		return -ENODEV;
	}
	if (host_cpu_rdmsr(XK_MSR_EFER) & XK_EFER_SVME) {
		host_log(
			HOST_LOG_ERR,
			"not loaded: SVM is already in use by another hypervisor (EFER.SVME is set)");
		return -EBUSY;
	}
	host_log(
		HOST_LOG_INFO,
		"AMD SVM with nested paging, %u ASIDs, NRIP save %s, flush by ASID %s",
		svm_max_asid, svm_has_nrips ? "yes" : "no",
		svm_has_flush_asid ? "yes" : "no");
	return 0;
}

static void svm_unsetup(void)
{
	unsigned int i;

	for (i = 0; svm_cpus && i < svm_ncpus; i++) {
		struct svm_cpu *sc = svm_cpus[i];

		if (!sc)
			continue;
		if (sc->hsave)
			host_pages_free(sc->hsave, 0);
		if (sc->host_vmcb)
			host_pages_free(sc->host_vmcb, 0);
		host_free(sc, sizeof(*sc));
	}
	if (svm_cpus)
		host_free(svm_cpus, svm_ncpus * sizeof(*svm_cpus));
	svm_cpus = NULL;
	if (iopm)
		host_pages_free(iopm, IOPM_ORDER);
	if (msrpm)
		host_pages_free(msrpm, MSRPM_ORDER);
	iopm = msrpm = NULL;
}

/* What svm_vmrun does around VMRUN on a host with mitigations m. */
static u64 svm_choose_run_flags(const struct host_mitigations *m,
				bool v_spec_ctrl)
{
	u64 f = 0;

	if ((m->flags & HOST_MIT_SPEC_CTRL) && !v_spec_ctrl)
		f |= SVM_RUN_F_SPEC_CTRL;
	if (m->flags & HOST_MIT_VERW)
		f |= SVM_RUN_F_VERW;
	if (m->flags & HOST_MIT_RSB_FILL)
		f |= SVM_RUN_F_RSB_FILL;
	if (m->flags & HOST_MIT_UNTRAIN_RET)
		f |= SVM_RUN_F_UNTRAIN;
	if (m->flags & HOST_MIT_IBPB_VMEXIT)
		f |= SVM_RUN_F_IBPB;
	return f;
}

static const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}

/* The one load line: what is done against guests, as kvm_amd would. */
static void svm_log_mitigations(const struct host_mitigations *m, u64 f)
{
	u64 mf = m->flags;

	host_log(
		HOST_LOG_INFO,
		"mitigations: rsb_fill=%s untrain_ret=%s ibpb_vmexit=%s ibpb_vmcb_switch=%s verw=%s spec_ctrl=%s virt_ssbd=%s ibpb_exit_to_user=%s",
		yes_no(f & SVM_RUN_F_RSB_FILL), yes_no(f & SVM_RUN_F_UNTRAIN),
		yes_no(f & SVM_RUN_F_IBPB), yes_no(mf & HOST_MIT_IBPB_SWITCH),
		yes_no(f & SVM_RUN_F_VERW),
		(f & SVM_RUN_F_SPEC_CTRL) ? "msr" :
		(mf & HOST_MIT_SPEC_CTRL) ? "vmcb" :
					    "no",
		yes_no(mf & HOST_MIT_VIRT_SSBD),
		yes_no(mf & HOST_MIT_IBPB_TO_USER));
}

/* Host features the intercepts and the switched state depend on. */
static int svm_setup_features(void)
{
	u32 a, b, c, d, ext;
	bool tsc_aux = false;

	xk_cpuid(0x80000000, 0, &ext, &b, &c, &d);
	if (ext >= 0x80000001) {
		xk_cpuid(0x80000001, 0, &a, &b, &c, &d);
		tsc_aux = !!(d & CPUID_80000001_EDX_RDTSCP);
	}
	if (ext >= 0x80000008) {
		xk_cpuid(0x80000008, 0, &a, &b, &c, &d);
		svm_has_invlpgb = !!(b & CPUID_80000008_EBX_INVLPGB);
	}
	xk_cpuid(0, 0, &a, &b, &c, &d);
	if (a >= 7) {
		xk_cpuid(7, 0, &a, &b, &c, &d);
		tsc_aux = tsc_aux || (c & CPUID_7_ECX_RDPID);
	}
	svm_tsc_aux_slot = -1;
	if (tsc_aux) {
		svm_tsc_aux_slot = host_uret_msr_register(XK_MSR_TSC_AUX);
		if (svm_tsc_aux_slot < 0)
			return svm_tsc_aux_slot;
	}
	svm_run_flags =
		svm_choose_run_flags(&xk_mitigations, svm_has_v_spec_ctrl);
	svm_log_mitigations(&xk_mitigations, svm_run_flags);
	return 0;
}

static int svm_setup(void)
{
	unsigned int i;

	if (svm_setup_features())
		return -ENOSPC;

	svm_ncpus = host_ncpus();
	svm_cpus = host_zalloc(svm_ncpus * sizeof(*svm_cpus));
	if (!svm_cpus)
		return -ENOMEM;
	for (i = 0; i < svm_ncpus; i++) {
		struct svm_cpu *sc = host_zalloc(sizeof(*sc));

		if (!sc)
			goto fail;
		svm_cpus[i] = sc;
		sc->hsave = host_pages_alloc(0, &sc->hsave_pa);
		sc->host_vmcb = host_pages_alloc(0, &sc->host_vmcb_pa);
		if (!sc->hsave || !sc->host_vmcb)
			goto fail;
		sc->next_asid = svm_max_asid + 1; /* forces a new generation */
	}
	iopm = host_pages_alloc(IOPM_ORDER, &iopm_pa);
	msrpm = host_pages_alloc(MSRPM_ORDER, &msrpm_pa);
	if (!iopm || !msrpm)
		goto fail;
	xk_memset(iopm, 0xff, XK_PAGE_SIZE << IOPM_ORDER);
	xk_memset(msrpm, 0xff, XK_PAGE_SIZE << MSRPM_ORDER);
	return 0;
fail:
	svm_unsetup();
	return -ENOMEM;
}

static int svm_cpu_enable(unsigned int cpu)
{
	struct svm_cpu *sc = svm_cpus[cpu];
	u64 efer = host_cpu_rdmsr(XK_MSR_EFER);

	if (sc->enabled)
		return 0;
	if (efer & XK_EFER_SVME) {
		host_log(
			HOST_LOG_ERR,
			"CPU %u: SVM is already in use by another hypervisor (EFER.SVME is set)",
			cpu);
		return -EBUSY;
	}
	host_cpu_wrmsr(XK_MSR_EFER, efer | XK_EFER_SVME);
	host_cpu_wrmsr(XK_MSR_VM_HSAVE_PA, sc->hsave_pa);
	sc->next_asid = svm_max_asid + 1;
	__atomic_store_n(&sc->last_vmcb_pa, 0, __ATOMIC_RELAXED);
	sc->enabled = true;
	return 0;
}

static void svm_cpu_disable(unsigned int cpu)
{
	struct svm_cpu *sc = svm_cpus[cpu];

	if (!sc->enabled)
		return;
	host_uret_msr_drop(); /* the host's TSC_AUX back, no notifier left */
	host_cpu_wrmsr(XK_MSR_VM_HSAVE_PA, 0);
	host_cpu_wrmsr(XK_MSR_EFER,
		       host_cpu_rdmsr(XK_MSR_EFER) & ~XK_EFER_SVME);
	sc->enabled = false;
}

/* ---- VMs ------------------------------------------------------------ */

static int svm_vm_init(struct xk_vm *vm)
{
	struct svm_vm *sv = host_zalloc(sizeof(*sv));
	int r;

	if (!sv)
		return -ENOMEM;
	sv->vm = vm;
	vm->vendor = sv;
	r = npt_init(sv);
	if (r) {
		host_free(sv, sizeof(*sv));
		vm->vendor = NULL;
	}
	return r;
}

static void svm_vm_destroy(struct xk_vm *vm)
{
	struct svm_vm *sv = to_svm_vm(vm);

	npt_destroy(sv);
	host_free(sv, sizeof(*sv));
	vm->vendor = NULL;
}

static int svm_map_page(struct xk_vm *vm, u64 gpa, u64 hpa, bool writable)
{
	return npt_map(to_svm_vm(vm), gpa, hpa, writable);
}

static void svm_unmap_range(struct xk_vm *vm, u64 gpa, u64 npages)
{
	npt_unmap(to_svm_vm(vm), gpa, npages);
}

static void svm_protect_range(struct xk_vm *vm, u64 gpa, u64 npages,
			      bool writable)
{
	npt_protect(to_svm_vm(vm), gpa, npages, writable);
}

static int svm_map_prepare(struct xk_vm *vm, u64 gpa, u64 npages)
{
	return npt_prepare(to_svm_vm(vm), gpa, npages);
}

static bool svm_translate(struct xk_vm *vm, u64 gpa, u64 *hpa)
{
	return npt_translate(to_svm_vm(vm), gpa, hpa);
}

static bool svm_prune(struct xk_vm *vm, u32 max)
{
	return npt_prune(to_svm_vm(vm), max);
}

static void svm_free_pruned(struct xk_vm *vm)
{
	npt_free_pruned(to_svm_vm(vm));
}

/* ---- segments ------------------------------------------------------- */

static void seg_to_kvm(const struct vmcb_seg *s, struct kvm_segment *k)
{
	xk_memset(k, 0, sizeof(*k));
	k->base = s->base;
	k->limit = s->limit;
	k->selector = s->selector;
	k->type = s->attrib & 0xf;
	k->s = (s->attrib >> 4) & 1;
	k->dpl = (s->attrib >> 5) & 3;
	k->present = (s->attrib >> 7) & 1;
	k->avl = (s->attrib >> 8) & 1;
	k->l = (s->attrib >> 9) & 1;
	k->db = (s->attrib >> 10) & 1;
	/* the CPU ignores G in the cache: report the one the limit implies */
	k->g = s->limit > 0xfffff;
	k->unusable = !k->present;
}

static void seg_from_kvm(struct vmcb_seg *s, const struct kvm_segment *k)
{
	s->base = k->base;
	s->limit = k->limit;
	s->selector = k->selector;
	if (k->unusable) {
		s->attrib = 0;
		return;
	}
	s->attrib = (k->type & 0xf) | ((k->s & 1) << 4) | ((k->dpl & 3) << 5) |
		    ((k->present & 1) << 7) | ((k->avl & 1) << 8) |
		    ((k->l & 1) << 9) | ((k->db & 1) << 10) |
		    ((k->g & 1) << 11);
}

static void svm_get_sregs(struct xk_vcpu *v, struct kvm_sregs *s)
{
	struct vmcb_save *g = &to_svm(v)->vmcb->save;

	xk_memset(s, 0, sizeof(*s));
	seg_to_kvm(&g->cs, &s->cs);
	seg_to_kvm(&g->ds, &s->ds);
	seg_to_kvm(&g->es, &s->es);
	seg_to_kvm(&g->fs, &s->fs);
	seg_to_kvm(&g->gs, &s->gs);
	seg_to_kvm(&g->ss, &s->ss);
	seg_to_kvm(&g->tr, &s->tr);
	seg_to_kvm(&g->ldtr, &s->ldt);
	/* the cached accessed bit of data segments is always set */
	if (!s->ds.unusable)
		s->ds.type |= 1;
	if (!s->es.unusable)
		s->es.type |= 1;
	if (!s->fs.unusable)
		s->fs.type |= 1;
	if (!s->gs.unusable)
		s->gs.type |= 1;
	/* TR is always busy in the cache */
	s->tr.type |= 2;
	if (s->ss.unusable)
		s->ss.db = 0;
	s->ss.dpl = g->cpl;
	s->gdt.base = g->gdtr.base;
	s->gdt.limit = (u16)g->gdtr.limit;
	s->idt.base = g->idtr.base;
	s->idt.limit = (u16)g->idtr.limit;
	s->cr0 = g->cr0;
	s->cr2 = g->cr2;
	s->cr3 = g->cr3;
	s->cr4 = g->cr4;
	s->efer = g->efer & ~XK_EFER_SVME;
}

static int svm_set_sregs(struct xk_vcpu *v, const struct kvm_sregs *s)
{
	struct vmcb_save *g = &to_svm(v)->vmcb->save;

	seg_from_kvm(&g->cs, &s->cs);
	seg_from_kvm(&g->ds, &s->ds);
	seg_from_kvm(&g->es, &s->es);
	seg_from_kvm(&g->fs, &s->fs);
	seg_from_kvm(&g->gs, &s->gs);
	seg_from_kvm(&g->ss, &s->ss);
	seg_from_kvm(&g->tr, &s->tr);
	seg_from_kvm(&g->ldtr, &s->ldt);
	g->cpl = s->ss.dpl & 3;
	g->gdtr.base = s->gdt.base;
	g->gdtr.limit = s->gdt.limit;
	g->idtr.base = s->idt.base;
	g->idtr.limit = s->idt.limit;
	g->cr0 = s->cr0;
	g->cr2 = s->cr2;
	g->cr3 = s->cr3;
	g->cr4 = s->cr4;
	g->efer = s->efer | XK_EFER_SVME;
	return 0;
}

static bool svm_paging_enabled(struct xk_vcpu *v)
{
	return !!(to_svm(v)->vmcb->save.cr0 & XK_CR0_PG);
}

/* ---- vCPUs ---------------------------------------------------------- */

static void vmcb_init_seg(struct vmcb_seg *s, u16 sel, u64 base, u16 attrib)
{
	s->selector = sel;
	s->base = base;
	s->limit = 0xffff;
	s->attrib = attrib;
}

/* Architectural state after RESET (and after INIT, bar a few fields). */
static void svm_vcpu_reset(struct xk_vcpu *v)
{
	struct svm_vcpu *s = to_svm(v);
	struct vmcb *vmcb = s->vmcb;
	struct vmcb_control *c = &vmcb->control;
	struct vmcb_save *g = &vmcb->save;

	xk_memset(vmcb, 0, sizeof(*vmcb));
	c->intercept_exc = XK_BIT(XK_EXC_DB) | XK_BIT(XK_EXC_AC) |
			   XK_BIT(XK_EXC_MC);
	c->intercept_misc1 = SVM_I1_INTR | SVM_I1_NMI | SVM_I1_SMI |
			     SVM_I1_CPUID | SVM_I1_RDPMC | SVM_I1_INVD |
			     SVM_I1_HLT | SVM_I1_INVLPGA | SVM_I1_IOIO |
			     SVM_I1_MSR | SVM_I1_SHUTDOWN | SVM_I1_RSM;
	c->intercept_misc2 = SVM_I2_VMRUN | SVM_I2_VMMCALL | SVM_I2_VMLOAD |
			     SVM_I2_VMSAVE | SVM_I2_STGI | SVM_I2_CLGI |
			     SVM_I2_SKINIT | SVM_I2_RDTSCP | SVM_I2_WBINVD |
			     SVM_I2_MONITOR | SVM_I2_MWAIT | SVM_I2_MWAIT_COND |
			     SVM_I2_XSETBV | SVM_I2_RDPRU;
	if (svm_has_invlpgb)
		c->intercept_misc3 = SVM_I3_INVLPGB | SVM_I3_INVLPGB_ILLEGAL |
				     SVM_I3_TLBSYNC;
	/* the guest's debug registers: intercepted until it uses them */
	c->intercept_dr = SVM_DR_INTERCEPT_ALL;
	s->dr6 = XK_DR6_INIT;
	s->dr_passthrough = false;
	c->iopm_base = iopm_pa;
	c->msrpm_base = msrpm_pa;
	c->tsc_offset = -xk_rdtsc(); /* the guest's TSC starts near 0 */
	c->v_intr = SVM_V_INTR_MASKING;
	c->np_enable = 1;
	c->n_cr3 = npt_root_hpa(to_svm_vm(v->vm));
	c->clean = 0;
	s->asid_gen = 0;
	s->asid_cpu = -1;
	s->reinject = 0;
	s->awaiting_iret = false;
	s->nmi_singlestep = false;

	vmcb_init_seg(&g->cs, 0xf000, 0xffff0000, 0x9b);
	vmcb_init_seg(&g->ds, 0, 0, 0x93);
	vmcb_init_seg(&g->es, 0, 0, 0x93);
	vmcb_init_seg(&g->fs, 0, 0, 0x93);
	vmcb_init_seg(&g->gs, 0, 0, 0x93);
	vmcb_init_seg(&g->ss, 0, 0, 0x93);
	vmcb_init_seg(&g->ldtr, 0, 0, 0x82);
	vmcb_init_seg(&g->tr, 0, 0, 0x8b);
	g->gdtr.limit = 0xffff;
	g->idtr.limit = 0xffff;
	g->cr0 = XK_CR0_ET | XK_CR0_CD | XK_CR0_NW;
	g->efer = XK_EFER_SVME;
	g->dr6 = XK_DR6_INIT;
	g->dr7 = XK_DR7_INIT;
	g->g_pat = XK_PAT_DEFAULT;
	xk_memset(v->dr, 0, sizeof(v->dr));
	s->tsc_aux = 0;
	s->sysenter_eip_hi = s->sysenter_esp_hi = 0;
}

static int svm_vcpu_init(struct xk_vcpu *v)
{
	struct svm_vcpu *s = host_zalloc(sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->v = v;
	s->vmcb = host_pages_alloc(0, &s->vmcb_pa);
	if (!s->vmcb) {
		host_free(s, sizeof(*s));
		return -ENOMEM;
	}
	v->vendor = s;
	return 0;
}

static void svm_vcpu_destroy(struct xk_vcpu *v)
{
	struct svm_vcpu *s = to_svm(v);
	unsigned int i;

	/*
	 * The VMCB's page may come back as another vCPU's: no CPU may take
	 * that one for the VMCB it ran last and skip the IBPB.
	 */
	for (i = 0; i < svm_ncpus; i++) {
		u64 pa = s->vmcb_pa;

		__atomic_compare_exchange_n(&svm_cpus[i]->last_vmcb_pa, &pa, 0,
					    false, __ATOMIC_SEQ_CST,
					    __ATOMIC_SEQ_CST);
	}

	host_pages_free(s->vmcb, 0);
	host_free(s, sizeof(*s));
	v->vendor = NULL;
}

/* Interrupts off.  Give the vCPU an ASID valid on this CPU. */
static void svm_vcpu_load(struct xk_vcpu *v, unsigned int cpu)
{
	struct svm_vcpu *s = to_svm(v);
	struct svm_cpu *sc = svm_cpus[cpu];
	struct vmcb_control *c = &s->vmcb->control;

	/* another VMCB than this CPU ran last: no prediction crosses over */
	if (__atomic_load_n(&sc->last_vmcb_pa, __ATOMIC_RELAXED) !=
	    s->vmcb_pa) {
		__atomic_store_n(&sc->last_vmcb_pa, s->vmcb_pa,
				 __ATOMIC_RELAXED);
		if (xk_mitigations.flags & HOST_MIT_IBPB_SWITCH)
			host_cpu_wrmsr(XK_MSR_IA32_PRED_CMD,
				       xk_mitigations.pred_cmd);
	}
	c->tlb_control = SVM_TLB_NONE;
	if (s->asid_cpu != (int)cpu || s->asid_gen != sc->asid_gen) {
		if (sc->next_asid > svm_max_asid) {
			sc->asid_gen++;
			sc->next_asid = 1;
			c->tlb_control = SVM_TLB_FLUSH_ALL;
		}
		c->asid = sc->next_asid++;
		s->asid_gen = sc->asid_gen;
		s->asid_cpu = (int)cpu;
	}
}

static bool svm_interrupt_shadow(struct xk_vcpu *v)
{
	return !!(to_svm(v)->vmcb->control.int_state & SVM_INT_SHADOW);
}

static bool svm_interrupt_allowed(struct xk_vcpu *v)
{
	struct svm_vcpu *s = to_svm(v);

	return (v->rflags & XK_RFLAGS_IF) && !svm_interrupt_shadow(v) &&
	       !s->reinject && !v->exception.pending;
}

/* The xkvm_inject probe: what inject_event put in for this entry. */
static void trace_inject(struct xk_vcpu *v, struct svm_vcpu *s, bool reinjected)
{
	u64 ev = s->vmcb->control.event_inj;
	u32 kind;

	if (s->virq) {
		host_trace_inject(v->pid, v->id, v->irq_vector,
				  XK_TRACE_INJ_IRQ, false);
		return;
	}
	if (!(ev & SVM_EV_VALID))
		return;
	switch ((ev & SVM_EV_TYPE_MASK) >> SVM_EV_TYPE_SHIFT) {
	case SVM_EV_TYPE_INTR:
		kind = XK_TRACE_INJ_IRQ;
		break;
	case SVM_EV_TYPE_NMI:
		kind = XK_TRACE_INJ_NMI;
		break;
	case SVM_EV_TYPE_EXC:
		kind = XK_TRACE_INJ_EXCEPTION;
		break;
	default:
		kind = XK_TRACE_INJ_SOFT;
		break;
	}
	host_trace_inject(v->pid, v->id, (u8)(ev & SVM_EV_VECTOR_MASK), kind,
			  reinjected);
}

/*
 * Put the next event into EVENTINJ, in priority order: an event whose
 * delivery an exit cut short, an exception, an NMI, an external interrupt
 * the guest can take now.  An interrupt it cannot take yet, or a VMM that
 * asked for the interrupt window, arms the virtual-interrupt intercept:
 * the CPU exits (VINTR) as soon as the guest can take one.  Interrupts off.
 */
static void inject_event(struct xk_vcpu *v, struct svm_vcpu *s)
{
	struct vmcb_control *c = &s->vmcb->control;
	struct xk_event *e = &v->exception;
	bool window, reinjected = false;

	c->event_inj = 0;
	if (s->reinject) {
		c->event_inj = s->reinject;
		s->reinject = 0;
		reinjected = true;
		if (((c->event_inj & SVM_EV_TYPE_MASK) >> SVM_EV_TYPE_SHIFT) ==
		    SVM_EV_TYPE_NMI) {
			/* e.g. from SET_VCPU_EVENTS: masked until its IRET */
			v->nmi_masked = true;
			s->awaiting_iret = false;
		}
	} else if (e->pending) {
		c->event_inj = e->vector |
			       ((u64)SVM_EV_TYPE_EXC << SVM_EV_TYPE_SHIFT) |
			       SVM_EV_VALID;
		if (e->has_error)
			c->event_inj |= SVM_EV_ERR_VALID |
					((u64)e->error << 32);
		if (e->vector == XK_EXC_PF)
			s->vmcb->save.cr2 = e->cr2;
		e->pending = false;
	} else if (v->nmi_pending && !v->nmi_masked) {
		c->event_inj = XK_EXC_NMI |
			       ((u64)SVM_EV_TYPE_NMI << SVM_EV_TYPE_SHIFT) |
			       SVM_EV_VALID;
		v->nmi_pending--;
		v->nmi_masked = true;
		c->intercept_misc1 |= SVM_I1_IRET; /* to see the NMI end */
		v->stats.nmi_injections++;
	} else if (v->irq_pending && (v->rflags & XK_RFLAGS_IF) &&
		   !(c->int_state & SVM_INT_SHADOW)) {
		/*
		 * KVM_INTERRUPT hands over an interrupt the VMM found the
		 * guest ready for.  The guest can take it now, so it goes in
		 * as a virtual interrupt (V_IRQ with its vector, above any
		 * TPR), which the CPU delivers before the first instruction:
		 * the same for the guest as EVENTINJ.  QEMU's SVM (the test
		 * bed) mishandles an injected INTR: it leaves the vector as a
		 * pending exception and may deliver it a second time, with
		 * interrupts off; its V_IRQ path is sound.  Whether it was
		 * taken is read back at the exit (svm_virq_done).
		 */
		s->virq = true;
	} else if (v->irq_pending && !v->apic) {
		/*
		 * Not takeable (IF clear or in a shadow): KVM_INTERRUPT still
		 * means "deliver at the next entry", as in Linux.  (With the
		 * in-kernel APIC the acked vector waits for the window.)
		 */
		c->event_inj = v->irq_vector |
			       ((u64)SVM_EV_TYPE_INTR << SVM_EV_TYPE_SHIFT) |
			       SVM_EV_VALID;
		v->irq_pending = false;
		v->stats.irq_injections++;
	}
	/*
	 * The IRET intercept follows the NMI mask, which KVM_SET_VCPU_EVENTS
	 * may also set or clear: armed while masked, until the IRET is seen.
	 */
	if (!v->nmi_masked) {
		s->awaiting_iret = false;
		c->intercept_misc1 &= ~SVM_I1_IRET;
	} else if (!s->awaiting_iret) {
		c->intercept_misc1 |= SVM_I1_IRET;
	}
	trace_inject(v, s, reinjected);
	window = (v->run->request_interrupt_window || v->irq_window ||
		  (v->irq_pending && v->apic)) &&
		 !c->event_inj && !s->virq;
	c->v_intr &= ~(SVM_V_IRQ | SVM_V_IGN_TPR | SVM_V_INTR_PRIO_MAX |
		       SVM_V_INTR_VECTOR_MASK);
	if (s->virq) {
		/* the VMM's interrupt, delivered by the CPU: no intercept */
		c->v_intr |= SVM_V_IRQ | SVM_V_IGN_TPR | SVM_V_INTR_PRIO_MAX |
			     ((u64)v->irq_vector << SVM_V_INTR_VECTOR_SHIFT);
		c->intercept_misc1 &= ~SVM_I1_VINTR;
	} else if (window) {
		/* a dummy virtual interrupt at the highest priority */
		c->v_intr |= SVM_V_IRQ | SVM_V_IGN_TPR | SVM_V_INTR_PRIO_MAX;
		c->intercept_misc1 |= SVM_I1_VINTR;
	} else {
		c->intercept_misc1 &= ~SVM_I1_VINTR;
	}
}

/*
 * Interrupts and GIF off, right before VMRUN: the guest's debug registers
 * into the CPU when it may use them (it owns them for this run, or its DR7
 * arms a breakpoint, which must match the guest's addresses, not whatever
 * DR0-3 hold).  DR7 is the VMCB's; the host's DR7 is cleared first when
 * the host has breakpoints, so none of them fires on a guest address
 * before VMRUN.
 */
static void dr_enter(struct xk_vcpu *v, struct svm_vcpu *s, bool host_dr)
{
	struct vmcb_save *g = &s->vmcb->save;
	bool load = s->dr_passthrough || (g->dr7 & XK_DR7_ENABLES);
	unsigned int i;

	if (host_dr)
		host_cpu_set_dr(7, 0);
	if (load)
		for (i = 0; i < 4; i++)
			host_cpu_set_dr(i, v->dr[i]);
	/*
	 * Without the pass-through the guest cannot read DR6 itself, and
	 * the VMCB holds DR6's initial value, so a #DB's causes show up as
	 * the bits that changed (handle_db).
	 */
	g->dr6 = s->dr_passthrough ? s->dr6 : XK_DR6_INIT;
}

/*
 * Right after #VMEXIT: a guest that owned its debug registers may have
 * changed DR0-3 and DR6: keep them and intercept its accesses again (the
 * next one gives them back; see the theory).  The host's breakpoints
 * come back when it has any: #VMEXIT disabled them all in DR7.
 */
static void dr_exit(struct xk_vcpu *v, struct svm_vcpu *s, bool host_dr)
{
	unsigned int i;

	if (s->dr_passthrough) {
		for (i = 0; i < 4; i++)
			v->dr[i] = host_cpu_get_dr(i);
		s->dr6 = s->vmcb->save.dr6;
		s->dr_passthrough = false;
		s->vmcb->control.intercept_dr = SVM_DR_INTERCEPT_ALL;
	}
	if (host_dr)
		host_debugregs_restore();
}

static void svm_vcpu_enter(struct xk_vcpu *v)
{
	struct svm_vcpu *s = to_svm(v);
	struct vmcb *vmcb = s->vmcb;
	unsigned int cpu = (unsigned int)v->cpu;
	struct svm_run run;
	bool host_dr, virt_ssbd = xk_mitigations.flags & HOST_MIT_VIRT_SSBD;

	vmcb->save.rax = v->gpr[XK_RAX];
	vmcb->save.rsp = v->gpr[XK_RSP];
	vmcb->save.rip = v->rip;
	vmcb->save.rflags = v->rflags;
	vmcb->control.v_intr = (vmcb->control.v_intr & ~SVM_V_TPR_MASK) |
			       (v->cr8 & 0xf);
	if (v->skipped) {
		vmcb->control.int_state &= ~SVM_INT_SHADOW;
		v->skipped = false;
	}
	inject_event(v, s);
	if (__atomic_fetch_and(&v->requests, ~(1UL << XK_REQ_TLB_FLUSH),
			       __ATOMIC_SEQ_CST) &
	    (1UL << XK_REQ_TLB_FLUSH)) {
		if (vmcb->control.tlb_control == SVM_TLB_NONE)
			vmcb->control.tlb_control = svm_has_flush_asid ?
							    SVM_TLB_FLUSH_ASID :
							    SVM_TLB_FLUSH_ALL;
	}
	v->has_run = true;
	xk_memset(&run, 0, sizeof(run));
	run.vmcb_pa = s->vmcb_pa;
	run.host_vmcb_pa = svm_cpus[cpu]->host_vmcb_pa;
	run.gprs = v->gpr;
	run.flags = svm_run_flags;
	run.guest_spec_ctrl = v->spec_ctrl;
	run.verw_sel = xk_mitigations.verw_sel;
	if (svm_has_v_spec_ctrl)
		vmcb->save.spec_ctrl = v->spec_ctrl;

	svm_clgi();
	xk_guest_xstate_enter(v);
	if (run.flags & SVM_RUN_F_SPEC_CTRL)
		run.host_spec_ctrl = host_spec_ctrl();
	if (virt_ssbd)
		host_virt_ssbd(v->virt_spec_ctrl, true);
	if (svm_tsc_aux_slot >= 0)
		host_uret_msr_set(svm_tsc_aux_slot, s->tsc_aux);
	if (v->ibpb_pending) { /* the guest's PRED_CMD, on its CPU */
		host_cpu_wrmsr(XK_MSR_IA32_PRED_CMD, xk_mitigations.pred_cmd);
		v->ibpb_pending = false;
	}
	host_dr = host_debugregs_active();
	dr_enter(v, s, host_dr);

	svm_vmrun(&run);

	dr_exit(v, s, host_dr);
	if (virt_ssbd)
		host_virt_ssbd(v->virt_spec_ctrl, false);
	xk_guest_xstate_exit(v);
	svm_stgi();
	if (svm_has_v_spec_ctrl)
		v->spec_ctrl = vmcb->save.spec_ctrl;
	/* a machine check the guest's run took is the host's to handle */
	if (vmcb->control.exit_code == SVM_EXIT_EXCP_BASE + XK_EXC_MC)
		host_machine_check();
	host_guest_ran();
	v->stats.host_state_reload++; /* svm_vmrun's VMLOAD of the host's */

	vmcb->control.tlb_control = SVM_TLB_NONE;
	v->gpr[XK_RAX] = vmcb->save.rax;
	v->gpr[XK_RSP] = vmcb->save.rsp;
	v->rip = vmcb->save.rip;
	v->rflags = vmcb->save.rflags;
	v->cr8 = vmcb->control.v_intr & 0xf;
}

static int svm_next_rip(struct xk_vcpu *v, u64 *next)
{
	struct vmcb_control *c = &to_svm(v)->vmcb->control;

	if (svm_has_nrips && c->next_rip) {
		*next = c->next_rip;
		return 0;
	}
	return xk_next_rip(v, next);
}

/* Keep an event the exit interrupted, to be delivered again. */
static void save_exit_int_info(struct xk_vcpu *v, struct svm_vcpu *s)
{
	u64 info = s->vmcb->control.exit_int_info;
	u32 type = (info & SVM_EV_TYPE_MASK) >> SVM_EV_TYPE_SHIFT;
	u8 vec = info & SVM_EV_VECTOR_MASK;

	s->vmcb->control.event_inj = 0;
	if (!(info & SVM_EV_VALID))
		return;
	if (!svm_has_nrips && (type == SVM_EV_TYPE_SOFT ||
			       (type == SVM_EV_TYPE_EXC &&
				(vec == XK_EXC_BP || vec == XK_EXC_OF))))
		return; /* RIP still points at INTn/INT3/INTO: re-executed */
	s->reinject = info &
		      (SVM_EV_VECTOR_MASK | SVM_EV_TYPE_MASK |
		       SVM_EV_ERR_VALID | SVM_EV_VALID | (0xffffffffULL << 32));
	/*
	 * An "exception" above 31 is an external interrupt as QEMU's SVM
	 * records it; EVENTINJ refuses that type for such a vector.
	 */
	if (type == SVM_EV_TYPE_EXC && vec >= 32)
		s->reinject &= ~(SVM_EV_TYPE_MASK | SVM_EV_ERR_VALID |
				 (0xffffffffULL << 32));
	(void)v;
}

/*
 * After an entry that offered the VMM's interrupt through V_IRQ: the CPU
 * clears V_IRQ when the guest takes it.  Still set means not taken (an exit
 * came first): it stays queued for the next entry.
 */
static void svm_virq_done(struct xk_vcpu *v, struct svm_vcpu *s)
{
	struct vmcb_control *c = &s->vmcb->control;

	if (!s->virq)
		return;
	s->virq = false;
	if (!(c->v_intr & SVM_V_IRQ)) {
		v->irq_pending = false;
		v->stats.irq_injections++;
	}
	c->v_intr &= ~(SVM_V_IRQ | SVM_V_IGN_TPR | SVM_V_INTR_PRIO_MAX |
		       SVM_V_INTR_VECTOR_MASK);
}

static int skip_insn(struct xk_vcpu *v)
{
	u64 next;
	int r = svm_next_rip(v, &next);

	if (r)
		return r < 0 ? xk_emulation_failed(v) : 1;
	xk_skip_to(v, next);
	return 1;
}

static int handle_ioio(struct xk_vcpu *v, struct vmcb_control *c)
{
	u64 info = c->exit_info1;
	u8 size = (info >> SVM_IO_SZ_SHIFT) & 7;
	u8 asz = (info >> SVM_IO_A_SHIFT) & 7;

	size = size == 4 ? 4 : size == 2 ? 2 : 1;
	asz = asz == 4 ? 8 : asz == 2 ? 4 : 2;
	return xk_handle_pio(v, (u16)(info >> SVM_IO_PORT_SHIFT), size,
			     !!(info & SVM_IO_IN), !!(info & SVM_IO_STR),
			     !!(info & SVM_IO_REP), asz, c->exit_info2);
}

static int handle_npf(struct xk_vcpu *v, struct vmcb_control *c)
{
	u64 gpa = c->exit_info2, err = c->exit_info1;

	v->stats.npt_violations++;
	/*
	 * A write to a page its slot's dirty log write-protected; also the
	 * CPU setting accessed/dirty bits in guest page tables kept there
	 * (a walk only faults on a present page to write it).
	 */
	if ((err & (SVM_NPF_W | SVM_NPF_GUEST_TABLE)) && xk_dirty_fault(v, gpa))
		return 1;
	if (err & SVM_NPF_GUEST_TABLE)
		/* the guest keeps its page tables outside its memory */
		return xk_internal_error(v, KVM_INTERNAL_ERROR_EMULATION,
					 SVM_EXIT_NPF, err, gpa);
	if (xk_vm_gpa_is_ram(v->vm, gpa, !!(err & SVM_NPF_W))) {
		/* raced with a slot being mapped: just try again */
		v->stats.pf_fixed++;
		return 1;
	}
	return xk_handle_mmio(v, gpa, !!(err & SVM_NPF_W));
}

static int handle_xsetbv(struct xk_vcpu *v)
{
	struct vmcb_save *g = &to_svm(v)->vmcb->save;
	u64 val = ((v->gpr[XK_RDX] & 0xffffffffULL) << 32) |
		  (v->gpr[XK_RAX] & 0xffffffffULL);
	u64 next;
	int r;

	if (!(g->cr4 & XK_CR4_OSXSAVE)) {
		xk_queue_exception(v, XK_EXC_UD, false, 0);
		return 1;
	}
	if (g->cpl != 0 || (u32)v->gpr[XK_RCX] != 0 || !xk_xcr0_valid(val)) {
		xk_queue_exception(v, XK_EXC_GP, true, 0);
		return 1;
	}
	r = svm_next_rip(v, &next);
	if (r)
		return r < 0 ? xk_emulation_failed(v) : 1;
	v->xcr0 = val;
	xk_skip_to(v, next);
	return 1;
}

static int handle_rdtscp(struct xk_vcpu *v)
{
	struct svm_vcpu *s = to_svm(v);
	u64 tsc = xk_rdtsc() + s->vmcb->control.tsc_offset;
	u64 next;
	int r;

	r = svm_next_rip(v, &next);

	if (r)
		return r < 0 ? xk_emulation_failed(v) : 1;
	v->gpr[XK_RAX] = (u32)tsc;
	v->gpr[XK_RDX] = tsc >> 32;
	v->gpr[XK_RCX] = (u32)s->tsc_aux;
	xk_skip_to(v, next);
	return 1;
}

/*
 * An intercepted #DB.  The CPU has already updated DR6 (the VMCB's) and
 * cleared DR7.GD as the exception requires; the causes are the DR6 bits
 * that are set now (the VMCB held DR6's initial value, or the guest's own
 * DR6 when it owned its debug registers, whose cause bits are sticky
 * anyway).  They go into the guest's DR6 as a delivered #DB leaves it
 * (B0-B3 replaced, BD/BS/BT added) and the #DB is delivered through the
 * guest's IDT at the next entry.  Our own single step after an NMI
 * handler's IRET is not the guest's: its BS is dropped.
 */
static int handle_db(struct xk_vcpu *v, struct svm_vcpu *s)
{
	u64 causes = s->vmcb->save.dr6 & XK_DR6_CAUSES;

	v->stats.exception_exits++;
	if (s->nmi_singlestep) {
		/* our single step after the NMI's IRET: NMIs unmask */
		s->nmi_singlestep = false;
		s->awaiting_iret = false;
		v->nmi_masked = false;
		causes &= ~XK_DR6_BS;
		if (!causes)
			return 1;
	}
	s->dr6 = ((s->dr6 & ~XK_DR6_B0_3) | XK_DR6_INIT | causes) & ~XK_BIT(12);
	xk_queue_exception(v, XK_EXC_DB, false, 0);
	return 1;
}

static int svm_handle_exit(struct xk_vcpu *v)
{
	struct svm_vcpu *s = to_svm(v);
	struct vmcb_control *c = &s->vmcb->control;
	u64 code = c->exit_code;

	host_trace_exit(v->pid, v->id, XK_TRACE_ISA_SVM, code, v->rip,
			c->exit_info1, c->exit_info2, c->exit_int_info);
	save_exit_int_info(v, s);
	svm_virq_done(v, s);
	if (s->awaiting_iret && v->rip != s->nmi_iret_rip) {
		s->awaiting_iret = false;
		v->nmi_masked = false;
	}

	/*
	 * VMRUN refused the state.  The APM's exit code is -1 in 64 bits; QEMU
	 * writes only the low half and Linux compares only that, so do we.
	 */
	if ((u32)code == (u32)SVM_EXIT_INVALID) {
		v->run->exit_reason = KVM_EXIT_FAIL_ENTRY;
		v->run->fail_entry.hardware_entry_failure_reason = (u32)code;
		v->run->fail_entry.cpu = (u32)v->cpu;
		return 0;
	}
	if (code >= SVM_EXIT_READ_DR0 && code <= SVM_EXIT_WRITE_DR15) {
		/*
		 * The guest uses its debug registers: it owns them for the
		 * next run, without intercepts, and the MOV runs again there,
		 * natively, with every check the CPU makes (CPL, DR7.GD,
		 * CR4.DE, reserved bits).
		 */
		s->dr_passthrough = true;
		c->intercept_dr = 0;
		return 1;
	}
	switch (code) {
	case SVM_EXIT_INTR:
		v->stats.irq_exits++;
		return 1;
	case SVM_EXIT_VINTR:
		/* the guest can take an interrupt: the window is open */
		c->v_intr &= ~(SVM_V_IRQ | SVM_V_IGN_TPR | SVM_V_INTR_PRIO_MAX);
		c->intercept_misc1 &= ~SVM_I1_VINTR;
		v->stats.irq_window_exits++;
		return 1;
	case SVM_EXIT_IRET:
		/*
		 * The guest leaves its NMI handler.  The IRET has not run yet;
		 * NMIs stay blocked until it has, so unmasking waits for the
		 * next exit at another RIP.
		 */
		c->intercept_misc1 &= ~SVM_I1_IRET;
		s->nmi_iret_rip = v->rip;
		s->awaiting_iret = true;
		v->stats.nmi_window_exits++;
		if (v->nmi_pending && !(v->rflags & XK_RFLAGS_TF)) {
			/*
			 * Another NMI waits: single-step the IRET, as Linux
			 * does, so the trap after it gives an exit at once.
			 */
			s->nmi_singlestep = true;
			v->rflags |= XK_RFLAGS_TF | XK_RFLAGS_RF;
		}
		return 1;
	case SVM_EXIT_EXCP_BASE + XK_EXC_DB:
		return handle_db(v, s);
	case SVM_EXIT_EXCP_BASE + XK_EXC_MC:
		/* svm_vcpu_enter gave it to the host's handler already */
		v->stats.exception_exits++;
		return 1;
	case SVM_EXIT_NMI:
	case SVM_EXIT_SMI:
		return 1;
	case SVM_EXIT_CPUID:
		return xk_handle_cpuid(v);
	case SVM_EXIT_HLT:
		return xk_handle_hlt(v);
	case SVM_EXIT_IOIO:
		return handle_ioio(v, c);
	case SVM_EXIT_MSR:
		return c->exit_info1 ? xk_handle_wrmsr(v) : xk_handle_rdmsr(v);
	case SVM_EXIT_NPF:
		return handle_npf(v, c);
	case SVM_EXIT_SHUTDOWN:
		/* the VMCB is undefined after a shutdown: start it afresh */
		v->stats.shutdown_exits++;
		svm_vcpu_reset(v);
		v->run->exit_reason = KVM_EXIT_SHUTDOWN;
		return 0;
	case SVM_EXIT_EXCP_BASE + XK_EXC_AC:
		v->stats.exception_exits++;
		xk_queue_exception(v, XK_EXC_AC, true, (u32)c->exit_info1);
		return 1;
	case SVM_EXIT_INVD:
		/* caches stay coherent; dropping them would hurt the host */
		return skip_insn(v);
	case SVM_EXIT_WBINVD:
		/*
		 * WBINVD and WBNOINVD: guest memory is coherent (no device
		 * DMA bypasses the caches here), and a guest flushing the
		 * shared caches in a loop would slow every other tenant: a
		 * no-op that skips the instruction, as Linux does without
		 * non-coherent DMA.
		 */
		return skip_insn(v);
	case SVM_EXIT_VMMCALL:
		/* no hypercalls yet: Linux's answer for an unknown one */
		v->stats.hypercalls++;
		v->gpr[XK_RAX] = (u64)-1000; /* -KVM_ENOSYS */
		return skip_insn(v);
	case SVM_EXIT_RDTSCP:
		return handle_rdtscp(v);
	case SVM_EXIT_XSETBV:
		return handle_xsetbv(v);
	case SVM_EXIT_MONITOR:
	case SVM_EXIT_MWAIT:
	case SVM_EXIT_MWAIT_COND:
		if (xk_guest_cpuid_has(v, 1, 2, XK_BIT(3)))
			return skip_insn(v); /* a NOP, as Linux makes it */
		xk_queue_exception(v, XK_EXC_UD, false, 0);
		return 1;
	case SVM_EXIT_RDPMC:
		xk_queue_exception(v, XK_EXC_GP, true, 0);
		return 1;
	case SVM_EXIT_INVLPGB:
	case SVM_EXIT_INVLPGB_ILLEGAL:
	case SVM_EXIT_TLBSYNC:
	case SVM_EXIT_VMRUN:
	case SVM_EXIT_VMLOAD:
	case SVM_EXIT_VMSAVE:
	case SVM_EXIT_STGI:
	case SVM_EXIT_CLGI:
	case SVM_EXIT_SKINIT:
	case SVM_EXIT_INVLPGA:
	case SVM_EXIT_RDPRU:
	case SVM_EXIT_RSM:
		xk_queue_exception(v, XK_EXC_UD, false, 0);
		return 1;
	default:
		return xk_internal_error(
			v, KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON, code,
			c->exit_info1, c->exit_info2);
	}
}

/* ---- KVM_GET/SET_VCPU_EVENTS: the event in flight, the shadow ---------- */

static void svm_get_injected(struct xk_vcpu *v, struct xk_injected *e)
{
	u64 ev = to_svm(v)->reinject;

	xk_memset(e, 0, sizeof(*e));
	if (!(ev & SVM_EV_VALID))
		return;
	switch ((ev & SVM_EV_TYPE_MASK) >> SVM_EV_TYPE_SHIFT) {
	case SVM_EV_TYPE_EXC:
		e->type = XK_INJ_EXC;
		break;
	case SVM_EV_TYPE_NMI:
		e->type = XK_INJ_NMI;
		break;
	case SVM_EV_TYPE_INTR:
		e->type = XK_INJ_INTR;
		break;
	case SVM_EV_TYPE_SOFT:
		e->type = XK_INJ_SOFT;
		break;
	default:
		return;
	}
	e->vector = ev & SVM_EV_VECTOR_MASK;
	e->has_error = !!(ev & SVM_EV_ERR_VALID);
	e->error = e->has_error ? (u32)(ev >> 32) : 0;
}

static void svm_set_injected(struct xk_vcpu *v, const struct xk_injected *e)
{
	struct svm_vcpu *s = to_svm(v);
	u64 type;

	switch (e->type) {
	case XK_INJ_EXC:
		type = SVM_EV_TYPE_EXC;
		break;
	case XK_INJ_NMI:
		type = SVM_EV_TYPE_NMI;
		break;
	case XK_INJ_INTR:
		type = SVM_EV_TYPE_INTR;
		break;
	case XK_INJ_SOFT:
		type = SVM_EV_TYPE_SOFT;
		/* no INT n to skip: the handler returns to RIP as it is */
		s->vmcb->control.next_rip = v->rip;
		break;
	default:
		s->reinject = 0;
		return;
	}
	s->reinject = e->vector | (type << SVM_EV_TYPE_SHIFT) | SVM_EV_VALID;
	if (e->has_error)
		s->reinject |= SVM_EV_ERR_VALID | ((u64)e->error << 32);
}

static void svm_set_interrupt_shadow(struct xk_vcpu *v, bool shadow)
{
	struct vmcb_control *c = &to_svm(v)->vmcb->control;

	if (shadow)
		c->int_state |= SVM_INT_SHADOW;
	else
		c->int_state &= ~SVM_INT_SHADOW;
}

/* ---- MSRs kept in the VMCB -------------------------------------------- */

static int svm_get_msr(struct xk_vcpu *v, u32 msr, u64 *val)
{
	struct svm_vcpu *s = to_svm(v);
	struct vmcb_save *g = &s->vmcb->save;
	bool intel = xk_guest_is_intel(v);

	switch (msr) {
	case XK_MSR_EFER:
		*val = g->efer & ~XK_EFER_SVME;
		break;
	case XK_MSR_STAR:
		*val = g->star;
		break;
	case XK_MSR_LSTAR:
		*val = g->lstar;
		break;
	case XK_MSR_CSTAR:
		*val = g->cstar;
		break;
	case XK_MSR_SFMASK:
		*val = g->sfmask;
		break;
	case XK_MSR_KERNEL_GS_BASE:
		*val = g->kernel_gs_base;
		break;
	case XK_MSR_FS_BASE:
		*val = g->fs.base;
		break;
	case XK_MSR_GS_BASE:
		*val = g->gs.base;
		break;
	case XK_MSR_IA32_SYSENTER_CS:
		*val = g->sysenter_cs;
		break;
	case XK_MSR_IA32_SYSENTER_ESP:
		*val = (u32)g->sysenter_esp;
		if (intel)
			*val |= s->sysenter_esp_hi << 32;
		break;
	case XK_MSR_IA32_SYSENTER_EIP:
		*val = (u32)g->sysenter_eip;
		if (intel)
			*val |= s->sysenter_eip_hi << 32;
		break;
	case XK_MSR_IA32_CR_PAT:
		*val = g->g_pat;
		break;
	case XK_MSR_IA32_TSC:
		*val = xk_rdtsc() + s->vmcb->control.tsc_offset;
		break;
	case XK_MSR_TSC_AUX:
		*val = s->tsc_aux;
		break;
	default:
		return -ENOENT;
	}
	return 0;
}

static int svm_set_msr(struct xk_vcpu *v, u32 msr, u64 val, bool host)
{
	struct svm_vcpu *s = to_svm(v);
	struct vmcb_save *g = &s->vmcb->save;
	bool intel = xk_guest_is_intel(v);

	(void)host;
	switch (msr) {
	case XK_MSR_EFER:
		g->efer = val | XK_EFER_SVME;
		break;
	case XK_MSR_STAR:
		g->star = val;
		break;
	case XK_MSR_LSTAR:
		g->lstar = val;
		break;
	case XK_MSR_CSTAR:
		g->cstar = val;
		break;
	case XK_MSR_SFMASK:
		g->sfmask = val;
		break;
	case XK_MSR_KERNEL_GS_BASE:
		g->kernel_gs_base = val;
		break;
	case XK_MSR_FS_BASE:
		g->fs.base = val;
		break;
	case XK_MSR_GS_BASE:
		g->gs.base = val;
		break;
	case XK_MSR_IA32_SYSENTER_CS:
		g->sysenter_cs = val;
		break;
	case XK_MSR_IA32_SYSENTER_ESP:
		g->sysenter_esp = (u32)val;
		s->sysenter_esp_hi = intel ? val >> 32 : 0;
		break;
	case XK_MSR_IA32_SYSENTER_EIP:
		g->sysenter_eip = (u32)val;
		s->sysenter_eip_hi = intel ? val >> 32 : 0;
		break;
	case XK_MSR_IA32_CR_PAT:
		g->g_pat = val;
		break;
	case XK_MSR_IA32_TSC:
		s->vmcb->control.tsc_offset = val - xk_rdtsc();
		break;
	case XK_MSR_TSC_AUX:
		if (val >> 32)
			return -EINVAL;
		s->tsc_aux = val;
		break;
	default:
		return -ENOENT;
	}
	return 0;
}

static void svm_dump(struct xk_vcpu *v)
{
	struct vmcb *vmcb = to_svm(v)->vmcb;

	host_log(
		HOST_LOG_INFO,
		"vcpu %u: exit %llx info1 %llx info2 %llx intinfo %llx rip %llx cr0 %llx cr3 %llx cr4 %llx efer %llx",
		v->id, (unsigned long long)vmcb->control.exit_code,
		(unsigned long long)vmcb->control.exit_info1,
		(unsigned long long)vmcb->control.exit_info2,
		(unsigned long long)vmcb->control.exit_int_info,
		(unsigned long long)vmcb->save.rip,
		(unsigned long long)vmcb->save.cr0,
		(unsigned long long)vmcb->save.cr3,
		(unsigned long long)vmcb->save.cr4,
		(unsigned long long)vmcb->save.efer);
}

/* ---- KVM_GET/SET_DEBUGREGS ------------------------------------------- */

static void svm_get_dr67(struct xk_vcpu *v, u64 *dr6, u64 *dr7)
{
	struct svm_vcpu *s = to_svm(v);

	*dr6 = s->dr6;
	*dr7 = s->vmcb->save.dr7;
}

/* The ioctl checked what VMRUN requires (bits 63:32 clear). */
static void svm_set_dr67(struct xk_vcpu *v, u64 dr6, u64 dr7)
{
	struct svm_vcpu *s = to_svm(v);

	s->dr6 = dr6;
	s->vmcb->save.dr7 = dr7;
}

static u64 svm_get_tsc_offset(struct xk_vcpu *v)
{
	return to_svm(v)->vmcb->control.tsc_offset;
}

static void svm_set_tsc_offset(struct xk_vcpu *v, u64 offset)
{
	to_svm(v)->vmcb->control.tsc_offset = offset;
}

const struct xk_vendor_ops xk_svm_ops = {
	.name = "svm",
	.probe = svm_probe,
	.setup = svm_setup,
	.unsetup = svm_unsetup,
	.cpu_enable = svm_cpu_enable,
	.cpu_disable = svm_cpu_disable,
	.vm_init = svm_vm_init,
	.vm_destroy = svm_vm_destroy,
	.map_page = svm_map_page,
	.unmap_range = svm_unmap_range,
	.protect_range = svm_protect_range,
	.map_prepare = svm_map_prepare,
	.translate = svm_translate,
	.prune = svm_prune,
	.free_pruned = svm_free_pruned,
	.vcpu_init = svm_vcpu_init,
	.vcpu_destroy = svm_vcpu_destroy,
	.vcpu_reset = svm_vcpu_reset,
	.vcpu_load = svm_vcpu_load,
	.vcpu_enter = svm_vcpu_enter,
	.handle_exit = svm_handle_exit,
	.next_rip = svm_next_rip,
	.interrupt_allowed = svm_interrupt_allowed,
	.interrupt_shadow = svm_interrupt_shadow,
	.paging_enabled = svm_paging_enabled,
	.get_sregs = svm_get_sregs,
	.set_sregs = svm_set_sregs,
	.get_msr = svm_get_msr,
	.set_msr = svm_set_msr,
	.get_tsc_offset = svm_get_tsc_offset,
	.set_tsc_offset = svm_set_tsc_offset,
	.dump = svm_dump,
	.get_injected = svm_get_injected,
	.set_injected = svm_set_injected,
	.set_interrupt_shadow = svm_set_interrupt_shadow,
	.get_dr67 = svm_get_dr67,
	.set_dr67 = svm_set_dr67,
};
