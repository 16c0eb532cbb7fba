// SPDX-License-Identifier: GPL-2.0
/*
 * cpu_linux.c - the "CPU around the guest" services of core/host.h on
 * Linux: the registers the backend switches around VMRUN, the host's own
 * hardware breakpoints, the user-return MSRs (TSC_AUX), machine checks,
 * and the kernel's speculative-execution mitigations as its own kvm_amd
 * follows them.
 *
 * Theory.
 *
 * Registers.  Plain wrappers of the kernel's accessors (rdmsrl, the debug
 * register and PKRU helpers, xsetbv), so that core/ and svm/ never execute
 * a privileged instruction themselves and can run in user space under
 * host/user's fake CPU.
 *
 * User-return MSRs.  Per CPU: for each registered MSR the host's value
 * (read on the CPU the first time it is needed while the CPU holds only
 * host values) and the value the CPU holds now.  Setting a guest value
 * that differs writes the MSR and registers a user-return notifier on that
 * CPU; the notifier (run by the kernel before any thread on that CPU
 * returns to user space, with interrupts off) writes the host's values
 * back and unregisters itself.  So the VMM thread, and every other
 * process that runs on the CPU meanwhile, sees the host's TSC_AUX (the
 * vDSO's getcpu reads it with RDPID/RDTSCP), while a vCPU that exits and
 * re-enters in the kernel pays no MSR write at all.  uret_drop() does the
 * same at once; the backend calls it when the CPU leaves virtualization,
 * so no notifier of this module outlives it.
 *
 * Mitigations.  Read once at load from the kernel's CPU feature words,
 * the synthetic X86_FEATURE_* bits its bugs.c set for its own hypervisor
 * (see host.h for what each HOST_MIT_* flag makes the backend do).  The
 * return untraining and the exit IBPB are the kernel's own exported
 * sequences (entry_untrain_ret picks retbleed or SRSO untraining by its
 * alternatives; entry_ibpb writes x86_pred_cmd and clears the return
 * predictions where IBPB does not); SPEC_CTRL is the kernel's per-CPU
 * x86_spec_ctrl_current; VIRT_SPEC_CTRL/LS_CFG go through
 * x86_virt_spec_ctrl(); VMSCAPE's IBPB on the way to user space through
 * the per-CPU x86_ibpb_exit_to_user flag.  Features a kernel lacks are
 * compiled out (#ifdef), so older 6.1 kernels still build.
 */
#include <linux/kernel.h>
#include <linux/percpu.h>
#include <linux/preempt.h>
#include <linux/user-return-notifier.h>
#include <asm/cpufeature.h>
#include <asm/debugreg.h>
#include <asm/fpu/xcr.h>
#include <asm/mce.h>
#include <asm/msr.h>
#include <asm/nospec-branch.h>
#include <asm/ptrace.h>
#include <asm/segment.h>
#include <asm/spec-ctrl.h>
#include <asm/special_insns.h>

#include "../../core/host.h"

u64 host_cpu_rdmsr(u32 msr)
{
	u64 v;

	rdmsrl(msr, v);
	return v;
}

void host_cpu_wrmsr(u32 msr, u64 val)
{
	wrmsrl(msr, val);
}

u64 host_cpu_get_dr(unsigned int n)
{
	unsigned long v;

	get_debugreg(v, n);
	return v;
}

void host_cpu_set_dr(unsigned int n, u64 val)
{
	set_debugreg(val, n);
}

bool host_pkru_enabled(void)
{
	return cpu_feature_enabled(X86_FEATURE_OSPKE);
}

u32 host_cpu_rdpkru(void)
{
	return rdpkru();
}

void host_cpu_wrpkru(u32 pkru)
{
	wrpkru(pkru);
}

void host_cpu_xsetbv(u32 xcr, u64 val)
{
	xsetbv(xcr, val);
}

bool host_debugregs_active(void)
{
	return hw_breakpoint_active();
}

void host_debugregs_restore(void)
{
	hw_breakpoint_restore();
}

/* ---- user-return MSRs ----------------------------------------------- */

static u32 uret_msrs[HOST_URET_MAX]; /* written at load only */
static int uret_count;

struct uret_cpu {
	struct user_return_notifier urn;
	bool armed;                /* the notifier is registered */
	bool known[HOST_URET_MAX]; /* host[] read on this CPU */
	u64 host[HOST_URET_MAX];   /* the host's value */
	u64 cur[HOST_URET_MAX];    /* what the CPU holds */
};

static DEFINE_PER_CPU(struct uret_cpu, uret_cpus);

int host_uret_msr_register(u32 msr)
{
	if (uret_count >= HOST_URET_MAX)
		return -ENOSPC;
	uret_msrs[uret_count] = msr;
	return uret_count++;
}

/* Interrupts off: the host's values back on this CPU, notifier gone. */
static void uret_restore(struct uret_cpu *c)
{
	int i;

	if (c->armed) {
		user_return_notifier_unregister(&c->urn);
		c->armed = false;
	}
	for (i = 0; i < uret_count; i++) {
		if (c->known[i] && c->cur[i] != c->host[i]) {
			wrmsrl(uret_msrs[i], c->host[i]);
			c->cur[i] = c->host[i];
		}
	}
}

static void uret_fire(struct user_return_notifier *urn)
{
	struct uret_cpu *c = container_of(urn, struct uret_cpu, urn);
	unsigned long flags;

	local_irq_save(flags);
	uret_restore(c);
	local_irq_restore(flags);
}

void host_uret_msr_set(int slot, u64 val)
{
	struct uret_cpu *c = this_cpu_ptr(&uret_cpus);

	if (WARN_ON_ONCE(slot < 0 || slot >= uret_count))
		return;
	if (!c->known[slot]) {
		/* only reached while the CPU holds the host's value */
		rdmsrl(uret_msrs[slot], c->host[slot]);
		c->cur[slot] = c->host[slot];
		c->known[slot] = true;
	}
	if (val == c->cur[slot])
		return;
	wrmsrl(uret_msrs[slot], val);
	c->cur[slot] = val;
	if (!c->armed) {
		c->urn.on_user_return = uret_fire;
		user_return_notifier_register(&c->urn);
		c->armed = true;
	}
}

void host_uret_msr_drop(void)
{
	struct uret_cpu *c = this_cpu_ptr(&uret_cpus);
	unsigned long flags;
	int i;

	local_irq_save(flags);
	uret_restore(c);
	for (i = 0; i < HOST_URET_MAX; i++)
		c->known[i] = false;
	local_irq_restore(flags);
}

/* ---- machine checks ------------------------------------------------- */

void host_machine_check(void)
{
#ifdef CONFIG_X86_MCE
	/* as if it had hit the thread in user mode: the guest is its code */
	struct pt_regs regs = {
		.cs = __USER_CS,
		.flags = X86_EFLAGS_IF,
	};

	do_machine_check(&regs);
#endif
}

/* ---- speculation mitigations ---------------------------------------- */

static bool has(unsigned int feature)
{
	return boot_cpu_has(feature);
}

void host_mitigations(struct host_mitigations *m)
{
	memset(m, 0, sizeof(*m));
	m->pred_cmd = x86_pred_cmd;
	m->verw_sel = x86_verw_sel;
	if (has(X86_FEATURE_RSB_VMEXIT) || has(X86_FEATURE_RETPOLINE))
		m->flags |= HOST_MIT_RSB_FILL;
	if (has(X86_FEATURE_UNRET) || has(X86_FEATURE_SRSO) ||
	    has(X86_FEATURE_SRSO_ALIAS))
		m->flags |= HOST_MIT_UNTRAIN_RET;
	if (has(X86_FEATURE_ENTRY_IBPB) || has(X86_FEATURE_IBPB_ON_VMEXIT))
		m->flags |= HOST_MIT_IBPB_VMEXIT;
	if (has(X86_FEATURE_IBPB))
		m->flags |= HOST_MIT_HAS_IBPB;
	if (has(X86_FEATURE_USE_IBPB) && !(m->flags & HOST_MIT_IBPB_VMEXIT))
		m->flags |= HOST_MIT_IBPB_SWITCH;
#ifdef X86_FEATURE_CLEAR_CPU_BUF_VM
	if (has(X86_FEATURE_CLEAR_CPU_BUF_VM))
		m->flags |= HOST_MIT_VERW;
#endif
	if (has(X86_FEATURE_MSR_SPEC_CTRL)) {
		m->flags |= HOST_MIT_SPEC_CTRL;
		if (has(X86_FEATURE_IBRS))
			m->spec_ctrl_bits |= SPEC_CTRL_IBRS;
		if (has(X86_FEATURE_STIBP))
			m->spec_ctrl_bits |= SPEC_CTRL_STIBP;
		if (has(X86_FEATURE_AMD_SSBD) ||
		    has(X86_FEATURE_SPEC_CTRL_SSBD))
			m->spec_ctrl_bits |= SPEC_CTRL_SSBD;
	}
	if (has(X86_FEATURE_VIRT_SSBD) || has(X86_FEATURE_LS_CFG_SSBD))
		m->flags |= HOST_MIT_VIRT_SSBD;
#ifdef X86_FEATURE_IBPB_EXIT_TO_USER
	if (has(X86_FEATURE_IBPB_EXIT_TO_USER))
		m->flags |= HOST_MIT_IBPB_TO_USER;
#endif
}

u64 host_spec_ctrl(void)
{
	return this_cpu_read(x86_spec_ctrl_current);
}

void host_virt_ssbd(u64 guest_virt_spec_ctrl, bool guest)
{
	x86_virt_spec_ctrl(guest_virt_spec_ctrl, guest);
}

void host_guest_ran(void)
{
#ifdef X86_FEATURE_IBPB_EXIT_TO_USER
	if (cpu_feature_enabled(X86_FEATURE_IBPB_EXIT_TO_USER))
		this_cpu_write(x86_ibpb_exit_to_user, true);
#endif
}

/*
 * The entry code calls these right after #VMEXIT (host.h has the register
 * contract: a C function may clobber every caller-saved register).  The
 * kernel's sequences are asm functions that return with an untrained or
 * barrier-protected RET themselves.
 */
void host_untrain_ret(void)
{
	asm volatile("call entry_untrain_ret"
		     : ASM_CALL_CONSTRAINT
		     :
		     : "memory");
}

void host_ibpb(void)
{
	asm volatile("call entry_ibpb"
		     : ASM_CALL_CONSTRAINT
		     :
		     : "rax", "rcx", "rdx", "memory");
}
