// SPDX-License-Identifier: GPL-2.0
/*
 * test_svm.c - the SVM backend (svm/svm.c) in user space: its intercepts,
 * its exit handlers, what it loads into the CPU around VMRUN and restores
 * after, and the speculation barriers it asks the entry code for, for each
 * state of the host's mitigations.
 *
 * Theory.  svm.c is compiled into this file (#include), so its static
 * functions and state are reachable, with the few things user space cannot
 * run replaced by fakes defined here: svm_vmrun (the entry code: here the
 * test plays the CPU), svm_clgi/svm_stgi (GIF), and the nested page tables
 * (npt_*, renamed to fakes so that they never meet the real npt.c that
 * test_npt.c includes; a root page is all svm.c needs of them: every npt_*
 * function svm.c calls needs its #define and fake here).  The
 * CPU's registers are host/user's fake CPU (host_user.h): svm.c and the
 * core reach them only through core/host.h, so every MSR, debug register,
 * PKRU and XCR0 access is recorded, with whether interrupts were off.
 *
 * The fake VMRUN records what the CPU holds when the guest would start
 * (DR0-3, DR7, PKRU, TSC_AUX, SPEC_CTRL, XSS, the injected event), applies
 * what svm_entry.S does on its side of the contract (the guest's SPEC_CTRL
 * in, the host's back, host_untrain_ret()/host_ibpb() when the flags say),
 * runs the test's "guest" (a callback that sets the exit code, DR6,
 * EXITINTINFO... in the VMCB, or changes the CPU as the guest's own
 * instructions would: WRPKRU, MOV DR), then does what #VMEXIT does to the
 * host: every breakpoint disabled in DR7.  A test drives the vCPU through
 * the core's own KVM_RUN (xk_vcpu_ioctl), so the run loop around the
 * backend is the real one; the guest ends each KVM_RUN with a HLT exit.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakes/fake_vendor.h"
#include "xtest.h"

/* what svm.c calls that user space cannot run: the fakes below */
#define xk_svm_ops xk_svm_ops_tested
#define svm_vmrun fake_svm_vmrun
#define svm_clgi fake_clgi
#define svm_stgi fake_stgi
#define npt_init fake_npt_init
#define npt_destroy fake_npt_destroy
#define npt_root_hpa fake_npt_root_hpa
#define npt_prepare fake_npt_prepare
#define npt_map fake_npt_map
#define npt_unmap fake_npt_unmap
#define npt_protect fake_npt_protect
#define npt_translate fake_npt_translate
/* the table pruning of issue 10's MMU work, where svm.c calls it */
#define npt_prune fake_npt_prune
#define npt_free_pruned fake_npt_free_pruned
#include "../../svm/svm.c"

/* ---- the nested page tables: a root page, nothing mapped ---- */

int fake_npt_init(struct svm_vm *sv)
{
	u64 pa;

	sv->npt_root = host_pages_alloc(0, &pa);
	return sv->npt_root ? 0 : -ENOMEM;
}

void fake_npt_destroy(struct svm_vm *sv)
{
	host_pages_free(sv->npt_root, 0);
}

u64 fake_npt_root_hpa(struct svm_vm *sv)
{
	return host_va_to_pa(sv->npt_root);
}

int fake_npt_prepare(struct svm_vm *sv, u64 gpa, u64 npages)
{
	(void)sv, (void)gpa, (void)npages;
	return 0;
}

int fake_npt_map(struct svm_vm *sv, u64 gpa, u64 hpa, bool writable)
{
	(void)sv, (void)gpa, (void)hpa, (void)writable;
	return 0;
}

void fake_npt_unmap(struct svm_vm *sv, u64 gpa, u64 npages)
{
	(void)sv, (void)gpa, (void)npages;
}

void fake_npt_protect(struct svm_vm *sv, u64 gpa, u64 npages, bool writable)
{
	(void)sv, (void)gpa, (void)npages, (void)writable;
}

bool fake_npt_translate(struct svm_vm *sv, u64 gpa, u64 *hpa)
{
	(void)sv, (void)gpa, (void)hpa;
	return false;
}

bool fake_npt_prune(struct svm_vm *sv, u32 max);
void fake_npt_free_pruned(struct svm_vm *sv);

bool fake_npt_prune(struct svm_vm *sv, u32 max)
{
	(void)sv, (void)max;
	return false;
}

void fake_npt_free_pruned(struct svm_vm *sv)
{
	(void)sv;
}

/* ---- the CPU: GIF and VMRUN ---- */

#define MSR_SPEC_CTRL 0x48
#define MSR_PRED_CMD 0x49
#define MSR_XSS 0xda0

static bool gif = true;
static char cpu_err[256]; /* the first misuse of the CPU, if any */

static void cpu_error(const char *what)
{
	if (!cpu_err[0])
		snprintf(cpu_err, sizeof(cpu_err), "%s", what);
}

void fake_clgi(void)
{
	if (!gif)
		cpu_error("CLGI with GIF clear");
	if (!host_user_irqs_disabled())
		cpu_error("CLGI with interrupts on");
	gif = false;
}

void fake_stgi(void)
{
	if (gif)
		cpu_error("STGI with GIF set");
	gif = true;
}

/* What the CPU held when the guest would have started, per run. */
struct seen {
	struct svm_run run;
	u64 dr[4], dr7, tsc_aux, spec_ctrl, xss, event_inj, vmcb_dr6;
	u32 pkru, intercept_dr;
	u64 xcr0;
	unsigned int untrains, ibpbs;
};

#define MAX_RUNS 16
static struct seen seen[MAX_RUNS];
static unsigned int nruns;

/* The guest of run n: sets the VMCB's exit, or the CPU, as a guest would. */
typedef void (*guest_fn)(struct vmcb *vmcb, unsigned int n);
static guest_fn guest;

void fake_svm_vmrun(struct svm_run *r)
{
	struct vmcb *vmcb = host_user_pa_to_va(r->vmcb_pa);
	struct seen *s = &seen[nruns < MAX_RUNS ? nruns : MAX_RUNS - 1];
	unsigned int i;

	if (gif)
		cpu_error("VMRUN with GIF set");
	if (!host_user_irqs_disabled())
		cpu_error("VMRUN with interrupts on");
	/* svm_entry.S: the guest's SPEC_CTRL when it differs */
	if ((r->flags & SVM_RUN_F_SPEC_CTRL) &&
	    r->guest_spec_ctrl != r->host_spec_ctrl)
		host_user_cpu_set_msr(MSR_SPEC_CTRL, r->guest_spec_ctrl);
	s->run = *r;
	for (i = 0; i < 4; i++)
		s->dr[i] = host_user_cpu.dr[i];
	s->dr7 = host_user_cpu.dr[7];
	s->pkru = host_user_cpu.pkru;
	s->xcr0 = host_user_cpu.xcr0;
	s->tsc_aux = host_user_cpu_msr(XK_MSR_TSC_AUX);
	s->spec_ctrl = host_user_cpu_msr(MSR_SPEC_CTRL);
	s->xss = host_user_cpu_msr(MSR_XSS);
	s->event_inj = vmcb->control.event_inj;
	s->vmcb_dr6 = vmcb->save.dr6;
	s->intercept_dr = vmcb->control.intercept_dr;

	vmcb->control.exit_int_info = 0;
	vmcb->control.next_rip = 0;
	if (guest)
		guest(vmcb, nruns);
	nruns++;

	/* #VMEXIT: the host's breakpoints are all disabled in DR7 */
	host_user_cpu.dr[7] = XK_DR7_INIT;
	if ((r->flags & SVM_RUN_F_SPEC_CTRL) &&
	    r->guest_spec_ctrl != r->host_spec_ctrl)
		host_user_cpu_set_msr(MSR_SPEC_CTRL, r->host_spec_ctrl);
	if (r->flags & SVM_RUN_F_UNTRAIN) {
		host_untrain_ret();
		s->untrains++;
	}
	if (r->flags & SVM_RUN_F_IBPB) {
		host_ibpb();
		s->ibpbs++;
	}
}

/* ---- set-up ---- */

struct sfx {
	struct xk_vm *vm;
	struct xk_vcpu *v;
	struct xk_vcpu *v2; /* a second vCPU, when asked for */
	cpu_set_t affinity;
};

static void sfx_cleanup(void *arg)
{
	struct sfx *f = arg;

	if (f->vm) {
		if (f->v)
			xk_vm_put(f->vm);
		if (f->v2)
			xk_vm_put(f->vm);
		xk_vm_put(f->vm);
	}
	svm_unsetup();
	host_user_cpu.pkru_enabled = false;
	fake_install(); /* the other tests' backend */
	xk_fpu_setup();
	guest = NULL;
	sched_setaffinity(0, sizeof(f->affinity), &f->affinity);
	free(f);
}

/*
 * The backend as svm_probe and svm_setup would leave it on a CPU with NRIP
 * save and these mitigations, one VM, one vCPU (two if asked), the test
 * pinned to the CPU it is on.
 */
static struct sfx *sfx_new(const struct host_mitigations *m, bool two)
{
	struct sfx *f = calloc(1, sizeof(*f));
	cpu_set_t one;
	int cpu = sched_getcpu();

	XT_ASSERT(f != NULL);
	sched_getaffinity(0, sizeof(f->affinity), &f->affinity);
	CPU_ZERO(&one);
	CPU_SET(cpu < 0 ? 0 : cpu, &one);
	sched_setaffinity(0, sizeof(one), &one);
	xt_cleanup(sfx_cleanup, f);
	nruns = 0;
	memset(seen, 0, sizeof(seen));
	cpu_err[0] = 0;
	gif = true;
	if (m)
		host_user_cpu.mit = *m;
	host_mitigations(&xk_mitigations);
	xk_fpu_setup();
	svm_max_asid = 15;
	svm_has_nrips = true;
	svm_has_flush_asid = true;
	XT_EQ(svm_setup(), 0);
	xk_ops = &xk_svm_ops_tested;
	XT_EQ(xk_vm_create(0, &f->vm), 0);
	XT_EQ(xk_vcpu_create(f->vm, 0, &f->v), 0);
	xk_vm_get(f->vm);
	if (two) {
		XT_EQ(xk_vcpu_create(f->vm, 1, &f->v2), 0);
		xk_vm_get(f->vm);
	}
	return f;
}

static struct vmcb *vmcb_of(struct xk_vcpu *v)
{
	return to_svm(v)->vmcb;
}

/* One KVM_RUN that must end in KVM_EXIT_HLT; the CPU was used right. */
static void run_to_hlt(struct xk_vcpu *v)
{
	long r = xk_vcpu_ioctl(v, KVM_RUN, 0);

	XT_EQ(r, 0);
	XT_EQ(v->run->exit_reason, KVM_EXIT_HLT);
	if (cpu_err[0])
		XT_FAIL("%s", cpu_err);
	XT_ASSERT(gif);
}

static void exit_with(struct vmcb *vmcb, u64 code, u64 len)
{
	vmcb->control.exit_code = code;
	vmcb->control.exit_info1 = 0;
	vmcb->control.exit_info2 = 0;
	vmcb->control.next_rip = vmcb->save.rip + len;
}

static void hlt(struct vmcb *vmcb)
{
	exit_with(vmcb, SVM_EXIT_HLT, 1);
}

/* ---- intercepts ---- */

XT_TEST(svm, intercepts)
{
	struct sfx *f = sfx_new(NULL, false);
	struct vmcb_control *c = &vmcb_of(f->v)->control;

	/* #DB (CVE-2015-8104), #AC (CVE-2015-5307), #MC (the host's) */
	XT_EQ(c->intercept_exc,
	      XK_BIT(XK_EXC_DB) | XK_BIT(XK_EXC_AC) | XK_BIT(XK_EXC_MC));
	XT_EQ(c->intercept_misc1 &
		      (SVM_I1_INTR | SVM_I1_NMI | SVM_I1_SMI | SVM_I1_CPUID |
		       SVM_I1_RDPMC | SVM_I1_INVD | SVM_I1_HLT | SVM_I1_IOIO |
		       SVM_I1_MSR | SVM_I1_SHUTDOWN | SVM_I1_RSM |
		       SVM_I1_INVLPGA),
	      SVM_I1_INTR | SVM_I1_NMI | SVM_I1_SMI | SVM_I1_CPUID |
		      SVM_I1_RDPMC | SVM_I1_INVD | SVM_I1_HLT | SVM_I1_IOIO |
		      SVM_I1_MSR | SVM_I1_SHUTDOWN | SVM_I1_RSM |
		      SVM_I1_INVLPGA);
	XT_EQ(c->intercept_misc2,
	      SVM_I2_VMRUN | SVM_I2_VMMCALL | SVM_I2_VMLOAD | SVM_I2_VMSAVE |
		      SVM_I2_STGI | SVM_I2_CLGI | SVM_I2_SKINIT |
		      SVM_I2_RDTSCP | SVM_I2_WBINVD | SVM_I2_MONITOR |
		      SVM_I2_MWAIT | SVM_I2_MWAIT_COND | SVM_I2_XSETBV |
		      SVM_I2_RDPRU);
	XT_EQ(c->intercept_misc3,
	      svm_has_invlpgb ?
		      SVM_I3_INVLPGB | SVM_I3_INVLPGB_ILLEGAL | SVM_I3_TLBSYNC :
		      0);
	/* every access to DR0-7 until the guest uses them */
	XT_EQ(c->intercept_dr, SVM_DR_INTERCEPT_ALL);
	XT_EQ(c->iopm_base, iopm_pa);
	XT_EQ(c->msrpm_base, msrpm_pa);
}

/* ---- WBINVD, INVD, #MC, INVLPGB ---- */

static void guest_flush(struct vmcb *vmcb, unsigned int n)
{
	if (n == 0)
		exit_with(vmcb, SVM_EXIT_WBINVD, 2);
	else if (n == 1)
		exit_with(vmcb, SVM_EXIT_WBINVD, 3); /* F3 0F 09: WBNOINVD */
	else if (n == 2)
		exit_with(vmcb, SVM_EXIT_INVD, 2);
	else
		hlt(vmcb);
}

XT_TEST(svm, wbinvd_invd_skipped)
{
	struct sfx *f = sfx_new(NULL, false);

	f->v->rip = 0x1000;
	guest = guest_flush;
	run_to_hlt(f->v);
	XT_EQ(nruns, 4);
	/* each skipped, nothing injected, no exit to the VMM before HLT */
	XT_EQ(f->v->rip, 0x1000 + 2 + 3 + 2 + 1);
	XT_EQ(seen[1].event_inj | seen[2].event_inj | seen[3].event_inj, 0);
	XT_EQ(f->v->stats.vmm_exits, 1);
}

/* A guest whose first run exits with once_code (once_len bytes), then HLT */
static u64 once_code, once_len;

static void guest_once(struct vmcb *vmcb, unsigned int n)
{
	if (n == 0)
		exit_with(vmcb, once_code, once_len);
	else
		hlt(vmcb);
}

XT_TEST(svm, machine_check_goes_to_the_host)
{
	struct sfx *f = sfx_new(NULL, false);

	f->v->rip = 0x2000;
	once_code = SVM_EXIT_EXCP_BASE + XK_EXC_MC;
	once_len = 0;
	guest = guest_once;
	run_to_hlt(f->v);
	XT_EQ(host_user_cpu.machine_checks, 1);
	XT_ASSERT(host_user_cpu.mc_irqs_off);
	/* not the guest's: nothing injected, the guest goes on */
	XT_EQ(seen[1].event_inj, 0);
	XT_EQ(f->v->rip, 0x2001);
}

XT_TEST(svm, invlpgb_is_ud)
{
	struct sfx *f = sfx_new(NULL, false);

	once_code = SVM_EXIT_INVLPGB;
	once_len = 3;
	guest = guest_once;
	run_to_hlt(f->v);
	XT_EQ(seen[1].event_inj,
	      SVM_EV_VALID | XK_EXC_UD |
		      ((u64)SVM_EV_TYPE_EXC << SVM_EV_TYPE_SHIFT));
}

/* ---- #DB ---- */

static void guest_db(struct vmcb *vmcb, unsigned int n)
{
	if (n == 0) {
		/* a data breakpoint in DR1 hit: the CPU set B1 */
		exit_with(vmcb, SVM_EXIT_EXCP_BASE + XK_EXC_DB, 0);
		vmcb->save.dr6 |= XK_BIT(1);
	} else if (n == 1) {
		/* then a single step */
		exit_with(vmcb, SVM_EXIT_EXCP_BASE + XK_EXC_DB, 0);
		vmcb->save.dr6 |= XK_DR6_BS;
	} else {
		hlt(vmcb);
	}
}

XT_TEST(svm, db_reflected_with_dr6)
{
	struct sfx *f = sfx_new(NULL, false);
	struct svm_vcpu *s = to_svm(f->v);
	u64 db = SVM_EV_VALID | XK_EXC_DB |
		 ((u64)SVM_EV_TYPE_EXC << SVM_EV_TYPE_SHIFT);
	u64 dr6, dr7;

	guest = guest_db;
	run_to_hlt(f->v);
	XT_EQ(nruns, 3);
	/* the VMCB's DR6 catches the causes: its initial value each time */
	XT_EQ(seen[0].vmcb_dr6, XK_DR6_INIT);
	XT_EQ(seen[1].vmcb_dr6, XK_DR6_INIT);
	/* each #DB goes back to the guest, through its IDT */
	XT_EQ(seen[1].event_inj, db);
	XT_EQ(seen[2].event_inj, db);
	/* B1 replaced by nothing (B0-3 are per #DB), BS added */
	XT_EQ(s->dr6, XK_DR6_INIT | XK_DR6_BS);
	xk_ops->get_dr67(f->v, &dr6, &dr7);
	XT_EQ(dr6, XK_DR6_INIT | XK_DR6_BS);
	XT_EQ(dr7, XK_DR7_INIT);
	XT_EQ(f->v->stats.exception_exits, 2);
}

static void guest_nmi_iret(struct vmcb *vmcb, unsigned int n)
{
	if (n == 0) {
		exit_with(vmcb, SVM_EXIT_IRET, 0); /* the NMI handler's IRET */
	} else if (n == 1) {
		/* our single step after it: BS, and a guest B0 with it */
		if (!(vmcb->save.rflags & XK_RFLAGS_TF))
			cpu_error("no single step after the NMI's IRET");
		exit_with(vmcb, SVM_EXIT_EXCP_BASE + XK_EXC_DB, 0);
		vmcb->save.dr6 |= XK_DR6_BS | XK_BIT(0);
		vmcb->save.rip += 1;
	} else {
		hlt(vmcb);
	}
}

/* The NMI window's single step is ours; a guest cause with it is not. */
XT_TEST(svm, db_after_nmi_single_step)
{
	struct sfx *f = sfx_new(NULL, false);
	struct svm_vcpu *s = to_svm(f->v);

	f->v->nmi_masked = true;
	f->v->nmi_pending = 1;
	guest = guest_nmi_iret;
	run_to_hlt(f->v);
	XT_ASSERT(!s->nmi_singlestep);
	/* the B0 went to the guest (before the NMI), our BS did not */
	XT_EQ(s->dr6, XK_DR6_INIT | XK_BIT(0));
	XT_EQ(seen[2].event_inj & SVM_EV_VECTOR_MASK, XK_EXC_DB);
	XT_ASSERT(!f->v->nmi_masked);
	XT_EQ(f->v->nmi_pending, 1);
}

/* ---- the guest's debug registers ---- */

static void guest_uses_drs(struct vmcb *vmcb, unsigned int n)
{
	switch (n) {
	case 0: /* MOV to DR0: intercepted */
		exit_with(vmcb, SVM_EXIT_READ_DR0 + 0x10, 0);
		break;
	case 1: /* runs again without intercepts: MOV DR0, MOV DR7 natively */
		host_user_cpu.dr[0] = 0x1234000;
		vmcb->save.dr7 = 0x401;
		vmcb->save.dr6 = 0xffff0ff8; /* and a B3 it never cleared */
		hlt(vmcb);
		break;
	default:
		hlt(vmcb);
		break;
	}
}

XT_TEST(svm, debug_registers_passed_through_once_used)
{
	struct sfx *f = sfx_new(NULL, false);
	struct svm_vcpu *s = to_svm(f->v);
	unsigned int i;

	f->v->dr[1] = 0x1111000;
	f->v->dr[2] = 0x2222000;
	f->v->rip = 0x3000;
	guest = guest_uses_drs;
	run_to_hlt(f->v);
	XT_EQ(nruns, 2);
	/* not used yet: intercepted, nothing loaded */
	XT_EQ(seen[0].intercept_dr, SVM_DR_INTERCEPT_ALL);
	XT_EQ(seen[0].dr[1], 0);
	/* the MOV runs again (RIP unchanged), the guest's DR0-3 and DR6 in */
	XT_EQ(seen[1].intercept_dr, 0);
	XT_EQ(seen[1].dr[1], 0x1111000);
	XT_EQ(seen[1].dr[2], 0x2222000);
	XT_EQ(seen[1].vmcb_dr6, XK_DR6_INIT);
	XT_EQ(seen[1].run.vmcb_pa, s->vmcb_pa);
	/* what the guest changed is kept, and intercepts are back */
	XT_EQ(f->v->dr[0], 0x1234000);
	XT_EQ(s->dr6, 0xffff0ff8);
	XT_EQ(vmcb_of(f->v)->control.intercept_dr, SVM_DR_INTERCEPT_ALL);
	XT_ASSERT(!s->dr_passthrough);
	XT_EQ(f->v->rip, 0x3001);

	/* DR7 arms a breakpoint: DR0-3 loaded each entry, intercepts on */
	nruns = 0;
	run_to_hlt(f->v);
	XT_EQ(seen[0].intercept_dr, SVM_DR_INTERCEPT_ALL);
	XT_EQ(seen[0].dr[0], 0x1234000);
	XT_EQ(seen[0].vmcb_dr6, XK_DR6_INIT);
	/* the host had no breakpoints: DR7 left alone, no restore */
	XT_EQ(host_user_cpu.dr_restores, 0);
	for (i = 0; i < XK_MIN(host_user_cpu.nlog, HOST_USER_CPU_LOG); i++)
		XT_ASSERT(!(host_user_cpu.log[i].kind == 'd' &&
			    host_user_cpu.log[i].reg == 7));
}

XT_TEST(svm, debug_registers_untouched_while_unused)
{
	struct sfx *f = sfx_new(NULL, false);
	unsigned int i;

	f->v->dr[0] = 0x5000;
	guest = NULL; /* the VMCB says HLT from the start */
	vmcb_of(f->v)->control.exit_code = SVM_EXIT_HLT;
	guest = guest_flush; /* WBINVD, WBNOINVD, INVD, HLT */
	run_to_hlt(f->v);
	for (i = 0; i < XK_MIN(host_user_cpu.nlog, HOST_USER_CPU_LOG); i++)
		if (host_user_cpu.log[i].kind == 'd')
			XT_FAIL("debug register %u written",
				host_user_cpu.log[i].reg);
	XT_EQ(seen[0].dr[0], 0);
}

XT_TEST(svm, host_breakpoints_restored)
{
	struct sfx *f = sfx_new(NULL, false);
	unsigned int i, dr7_zero = ~0u, dr0_guest = ~0u;

	host_user_cpu.debugregs_active = true;
	host_user_cpu.host_dr[0] = 0x7fff0000;
	host_user_cpu.host_dr[7] = 0x000d0401; /* L0, write, 4 bytes */
	host_user_cpu.dr[0] = 0x7fff0000;
	host_user_cpu.dr[7] = 0x000d0401;
	f->v->dr[0] = 0x1234000;
	vmcb_of(f->v)->save.dr7 = 0x401; /* the guest's own breakpoint */
	guest = guest_flush;
	run_to_hlt(f->v);
	XT_EQ(nruns, 4);
	/* in the guest: its DR0, no host breakpoint armed */
	XT_EQ(seen[0].dr[0], 0x1234000);
	XT_EQ(seen[0].dr7, 0);
	/* DR7 cleared before the guest's DR0 went in */
	for (i = 0; i < XK_MIN(host_user_cpu.nlog, HOST_USER_CPU_LOG); i++) {
		struct host_user_cpu_op *o = &host_user_cpu.log[i];

		XT_ASSERT(o->irqs_off);
		if (o->kind == 'd' && o->reg == 7 && o->val == 0 &&
		    dr7_zero == ~0u)
			dr7_zero = i;
		if (o->kind == 'd' && o->reg == 0 && o->val == 0x1234000 &&
		    dr0_guest == ~0u)
			dr0_guest = i;
	}
	XT_ASSERT(dr7_zero < dr0_guest);
	/* after every exit the host's are back */
	XT_EQ(host_user_cpu.dr_restores, 4);
	XT_EQ(host_user_cpu.dr[0], 0x7fff0000);
	XT_EQ(host_user_cpu.dr[7], 0x000d0401);
}

/* ---- TSC_AUX, SPEC_CTRL, PKRU, XSS ---- */

static void guest_halts(struct vmcb *vmcb, unsigned int n)
{
	(void)n;
	hlt(vmcb);
}

XT_TEST(svm, tsc_aux_loaded_and_restored_at_user_return)
{
	struct sfx *f = sfx_new(NULL, false);

	if (svm_tsc_aux_slot < 0) /* no RDTSCP/RDPID on this CPU: as svm.c */
		svm_tsc_aux_slot = host_uret_msr_register(XK_MSR_TSC_AUX);
	host_user_cpu_set_msr(XK_MSR_TSC_AUX, 3); /* the host's: CPU 3 */
	XT_EQ(xk_msr_set(f->v, XK_MSR_TSC_AUX, 0x1234, true), 0);
	guest = guest_halts;
	run_to_hlt(f->v);
	XT_EQ(seen[0].tsc_aux, 0x1234);
	/* still the guest's: the host's comes back on the way to user */
	XT_EQ(host_user_cpu_msr(XK_MSR_TSC_AUX), 0x1234);
	XT_ASSERT(host_user_cpu.uret_armed);
	host_user_return_to_user();
	XT_EQ(host_user_cpu_msr(XK_MSR_TSC_AUX), 3);
	/* equal values: no write at all */
	XT_EQ(xk_msr_set(f->v, XK_MSR_TSC_AUX, 3, true), 0);
	host_user_cpu.nlog = 0;
	run_to_hlt(f->v);
	XT_EQ(seen[1].tsc_aux, 3);
	XT_ASSERT(!host_user_cpu.uret_armed);
	for (unsigned int i = 0; i < host_user_cpu.nlog; i++)
		XT_ASSERT(!(host_user_cpu.log[i].kind == 'w' &&
			    host_user_cpu.log[i].reg == XK_MSR_TSC_AUX));
}

static const struct host_mitigations mit_spec = {
	.flags = HOST_MIT_SPEC_CTRL | HOST_MIT_HAS_IBPB,
	.pred_cmd = 1,
	.spec_ctrl_bits = 7, /* IBRS, STIBP, SSBD */
};

XT_TEST(svm, spec_ctrl_switched_around_vmrun)
{
	struct sfx *f = sfx_new(&mit_spec, false);

	host_user_cpu.host_spec_ctrl = 4; /* SSBD, this CPU's */
	host_user_cpu_set_msr(MSR_SPEC_CTRL, 4);
	XT_EQ(xk_msr_set(f->v, MSR_SPEC_CTRL, 1, true), 0); /* IBRS */
	XT_EQ(xk_msr_set(f->v, MSR_SPEC_CTRL, 8, true), -EINVAL);
	guest = guest_halts;
	run_to_hlt(f->v);
	XT_ASSERT(seen[0].run.flags & SVM_RUN_F_SPEC_CTRL);
	XT_EQ(seen[0].run.guest_spec_ctrl, 1);
	XT_EQ(seen[0].run.host_spec_ctrl, 4);
	XT_EQ(seen[0].spec_ctrl, 1);
	XT_EQ(host_user_cpu_msr(MSR_SPEC_CTRL), 4);
}

XT_TEST(svm, spec_ctrl_in_the_vmcb_with_v_spec_ctrl)
{
	struct sfx *f;

	svm_has_v_spec_ctrl = true;
	f = sfx_new(&mit_spec, false);
	svm_has_v_spec_ctrl = false; /* sfx_new computed the flags already */
	svm_run_flags = svm_choose_run_flags(&mit_spec, true);
	XT_EQ(xk_msr_set(f->v, MSR_SPEC_CTRL, 2, true), 0);
	svm_has_v_spec_ctrl = true;
	guest = guest_halts;
	run_to_hlt(f->v);
	svm_has_v_spec_ctrl = false;
	XT_ASSERT(!(seen[0].run.flags & SVM_RUN_F_SPEC_CTRL));
	XT_EQ(vmcb_of(f->v)->save.spec_ctrl, 2);
	XT_EQ(host_user_cpu_msr(MSR_SPEC_CTRL), 0); /* never written */
}

static void guest_wrpkru(struct vmcb *vmcb, unsigned int n)
{
	(void)n;
	host_user_cpu.pkru = 0x12; /* the guest's WRPKRU: no exit */
	hlt(vmcb);
}

XT_TEST(svm, pkru_is_the_guests_inside_and_the_threads_outside)
{
	struct sfx *f;

	host_user_cpu.pkru_enabled = true;
	host_user_cpu.pkru = 0x55555554;
	f = sfx_new(NULL, false);
	XT_ASSERT(xk_host_has_pku());
	XT_EQ(f->v->pkru, 0); /* RESET */
	guest = guest_wrpkru;
	run_to_hlt(f->v);
	XT_EQ(seen[0].pkru, 0);
	XT_EQ(f->v->pkru, 0x12);
	XT_EQ(host_user_cpu.pkru, 0x55555554);
	/* next time the guest's own comes in; the thread's changed meanwhile */
	host_user_cpu.pkru = 0x5555555c;
	run_to_hlt(f->v);
	XT_EQ(seen[1].pkru, 0x12);
	XT_EQ(host_user_cpu.pkru, 0x5555555c);
}

XT_TEST(svm, xss_is_the_guests_inside)
{
	struct sfx *f;
	u32 a, b, c, d;

	xk_cpuid(0xd, 1, &a, &b, &c, &d);
	if (!(a & XK_BIT(3)) || !xk_host_xcr0())
		return; /* no XSAVES on this machine: nothing to switch */
	host_user_cpu_set_msr(MSR_XSS, 0x100); /* a supervisor state */
	f = sfx_new(NULL, false);
	XT_EQ(xk_host_xss(), 0x100);
	guest = guest_halts;
	run_to_hlt(f->v);
	XT_EQ(seen[0].xss, 0);
	XT_EQ(host_user_cpu_msr(MSR_XSS), 0x100);
	/* only 0 for a guest: no supervisor component is offered */
	XT_EQ(xk_msr_set(f->v, MSR_XSS, 0x100, true), -EINVAL);
	XT_EQ(xk_msr_set(f->v, MSR_XSS, 0, true), 0);
}

XT_TEST(svm, xcr0_switched_only_when_different)
{
	struct sfx *f = sfx_new(NULL, false);
	unsigned int i, xsetbv = 0;

	f->v->xcr0 = xk_host_xcr0(); /* as the host's */
	guest = guest_halts;
	run_to_hlt(f->v);
	for (i = 0; i < XK_MIN(host_user_cpu.nlog, HOST_USER_CPU_LOG); i++)
		xsetbv += host_user_cpu.log[i].kind == 'x';
	XT_EQ(xsetbv, 0);
	f->v->xcr0 = 1; /* x87 only: in for the guest, the host's back */
	host_user_cpu.nlog = 0;
	run_to_hlt(f->v);
	XT_EQ(seen[1].xcr0, 1);
	XT_EQ(host_user_cpu.xcr0, xk_host_xcr0());
}

/* ---- speculation ---- */

XT_TEST(svm, run_flags_follow_the_host)
{
	static const struct {
		u64 host, want, want_vspec;
	} t[] = {
		{ 0, 0, 0 },
		{ HOST_MIT_RSB_FILL, SVM_RUN_F_RSB_FILL, SVM_RUN_F_RSB_FILL },
		{ HOST_MIT_UNTRAIN_RET, SVM_RUN_F_UNTRAIN, SVM_RUN_F_UNTRAIN },
		{ HOST_MIT_IBPB_VMEXIT, SVM_RUN_F_IBPB, SVM_RUN_F_IBPB },
		{ HOST_MIT_VERW, SVM_RUN_F_VERW, SVM_RUN_F_VERW },
		{ HOST_MIT_SPEC_CTRL, SVM_RUN_F_SPEC_CTRL, 0 },
		{ HOST_MIT_IBPB_SWITCH | HOST_MIT_VIRT_SSBD |
			  HOST_MIT_IBPB_TO_USER | HOST_MIT_HAS_IBPB,
		  0, 0 },
		{ HOST_MIT_RSB_FILL | HOST_MIT_UNTRAIN_RET | HOST_MIT_VERW |
			  HOST_MIT_SPEC_CTRL,
		  SVM_RUN_F_RSB_FILL | SVM_RUN_F_UNTRAIN | SVM_RUN_F_VERW |
			  SVM_RUN_F_SPEC_CTRL,
		  SVM_RUN_F_RSB_FILL | SVM_RUN_F_UNTRAIN | SVM_RUN_F_VERW },
	};
	struct host_mitigations m;
	unsigned int i;

	for (i = 0; i < XK_ARRAY_SIZE(t); i++) {
		xt_ctx("row %u", i);
		memset(&m, 0, sizeof(m));
		m.flags = t[i].host;
		XT_EQ(svm_choose_run_flags(&m, false), t[i].want);
		XT_EQ(svm_choose_run_flags(&m, true), t[i].want_vspec);
	}
}

static const struct host_mitigations mit_all = {
	.flags = HOST_MIT_RSB_FILL | HOST_MIT_UNTRAIN_RET |
		 HOST_MIT_IBPB_VMEXIT | HOST_MIT_VERW | HOST_MIT_VIRT_SSBD |
		 HOST_MIT_IBPB_TO_USER | HOST_MIT_HAS_IBPB,
	.pred_cmd = 1,
	.verw_sel = 0x18,
};

XT_TEST(svm, exit_barriers_every_exit)
{
	struct sfx *f = sfx_new(&mit_all, false);
	unsigned int i, ssbd_in = 0, ssbd_out = 0;

	guest = guest_flush;
	run_to_hlt(f->v);
	XT_EQ(nruns, 4);
	XT_EQ(host_user_cpu.untrains, 4);
	XT_EQ(host_user_cpu.ibpbs, 4);
	XT_EQ(host_user_cpu.guest_ran, 4);
	XT_EQ(seen[0].run.verw_sel, 0x18);
	XT_EQ(seen[0].run.flags, SVM_RUN_F_RSB_FILL | SVM_RUN_F_UNTRAIN |
					 SVM_RUN_F_IBPB | SVM_RUN_F_VERW);
	/* VIRT_SPEC_CTRL's SSBD: the guest's in, the host's out, each time */
	for (i = 0; i < XK_MIN(host_user_cpu.nlog, HOST_USER_CPU_LOG); i++) {
		ssbd_in += host_user_cpu.log[i].kind == 'S';
		ssbd_out += host_user_cpu.log[i].kind == 's';
	}
	XT_EQ(ssbd_in, 4);
	XT_EQ(ssbd_out, 4);
}

static unsigned int pred_cmd_writes(void)
{
	unsigned int i, n = 0;

	for (i = 0; i < XK_MIN(host_user_cpu.nlog, HOST_USER_CPU_LOG); i++)
		n += host_user_cpu.log[i].kind == 'w' &&
		     host_user_cpu.log[i].reg == MSR_PRED_CMD &&
		     host_user_cpu.log[i].val == 1;
	return n;
}

XT_TEST(svm, ibpb_when_the_cpu_changes_vmcb)
{
	static const struct host_mitigations m = {
		.flags = HOST_MIT_IBPB_SWITCH | HOST_MIT_HAS_IBPB,
		.pred_cmd = 1,
	};
	struct sfx *f = sfx_new(&m, true);

	guest = guest_halts;
	run_to_hlt(f->v); /* this CPU ran no VMCB before: one IBPB */
	XT_EQ(pred_cmd_writes(), 1);
	run_to_hlt(f->v); /* the same VMCB again: none */
	XT_EQ(pred_cmd_writes(), 1);
	run_to_hlt(f->v2); /* another vCPU's: one */
	XT_EQ(pred_cmd_writes(), 2);
	run_to_hlt(f->v); /* back: one */
	XT_EQ(pred_cmd_writes(), 3);
}

XT_TEST(svm, no_ibpb_on_switch_when_the_host_does_not)
{
	struct sfx *f = sfx_new(NULL, true);

	guest = guest_halts;
	run_to_hlt(f->v);
	run_to_hlt(f->v2);
	XT_EQ(pred_cmd_writes(), 0);
}

static void guest_pred_cmd(struct vmcb *vmcb, unsigned int n)
{
	(void)n;
	hlt(vmcb);
}

/* The guest's own IBPB (PRED_CMD) runs on the CPU it enters next. */
XT_TEST(svm, guest_pred_cmd_is_an_ibpb_at_entry)
{
	static const struct host_mitigations m = {
		.flags = HOST_MIT_HAS_IBPB,
		.pred_cmd = 1,
	};
	struct sfx *f = sfx_new(&m, false);

	XT_EQ(xk_msr_set(f->v, MSR_PRED_CMD, 2, true), -EINVAL);
	XT_EQ(xk_msr_set(f->v, MSR_PRED_CMD, 1, true), 0);
	XT_ASSERT(f->v->ibpb_pending);
	guest = guest_pred_cmd;
	run_to_hlt(f->v);
	XT_EQ(pred_cmd_writes(), 1);
	XT_ASSERT(!f->v->ibpb_pending);
}

/* ---- EFER from the guest ---- */

static u64 wrmsr_rax, wrmsr_rdx;

static void guest_wrmsr_efer(struct vmcb *vmcb, unsigned int n)
{
	if (n == 0) {
		exit_with(vmcb, SVM_EXIT_MSR, 2);
		vmcb->control.exit_info1 = 1; /* a write */
		vmcb->save.rax = wrmsr_rax;
	} else {
		hlt(vmcb);
	}
}

XT_TEST(svm, guest_efer_reserved_bits_gp)
{
	static const u64 bad[] = { XK_BIT(1), XK_EFER_SVME, XK_BIT(20) };
	struct sfx *f = sfx_new(NULL, false);
	u64 gp = SVM_EV_VALID | SVM_EV_ERR_VALID | XK_EXC_GP |
		 ((u64)SVM_EV_TYPE_EXC << SVM_EV_TYPE_SHIFT);
	unsigned int i;

	guest = guest_wrmsr_efer;
	for (i = 0; i < XK_ARRAY_SIZE(bad); i++) {
		xt_ctx("EFER %#llx", (unsigned long long)bad[i]);
		nruns = 0;
		f->v->gpr[XK_RCX] = XK_MSR_EFER;
		wrmsr_rax = bad[i];
		wrmsr_rdx = 0;
		f->v->gpr[XK_RDX] = wrmsr_rdx;
		run_to_hlt(f->v);
		XT_EQ(seen[1].event_inj, gp);
		XT_EQ(vmcb_of(f->v)->save.efer, XK_EFER_SVME);
	}
}
