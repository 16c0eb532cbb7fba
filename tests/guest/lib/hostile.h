/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hostile.h - what a hostile-guest test checks around a guest that attacks
 * its host (issue 10).
 *
 * Theory.  A guest that tries to hang, flood or corrupt its host must cost
 * the host nothing but the time of its own vCPU thread.  Three facts are
 * checked around such a guest, the same under kvm_amd and xkvm:
 *
 *  1. The host stays responsive: a heartbeat thread pinned to another CPU
 *     keeps sleeping and waking while the guest runs (kt_heartbeat_*); a
 *     CPU stuck with interrupts off would stall it, and the box's kernel log
 *     (scanned by the test bed) would report the lockup.
 *  2. The vCPU thread gets its CPU back: KVM_RUN returns at the latest when
 *     a signal is sent to it (kt_run_until_signal), whatever the guest does.
 *  3. Nothing of the guest stays in the VMM thread's CPU state, and the
 *     thread's own state is back after KVM_RUN (kt_vmm_state_*): PKRU (if
 *     the OS enabled protection keys), TSC_AUX (RDTSCP, RDPID), the thread's
 *     own hardware watchpoint (DR0-3 and DR7: a perf breakpoint must still
 *     fire), and, through the msr driver, IA32_XSS and IA32_SPEC_CTRL of
 *     the CPU the thread is pinned to (where the CPU has them).
 *
 * Nothing here is printed on success, so transcripts stay comparable;
 * a difference fails the test with both values on stdout and stderr.
 */
#ifndef KVMTEST_HOSTILE_H
#define KVMTEST_HOSTILE_H

#include "kvmtest.h"

#include <pthread.h>

/* TSC_AUX as RDTSCP and RDPID read it (host and guest code alike). */
static inline uint32_t kt_rdtscp_aux(void)
{
	uint32_t lo, hi, aux;

	__asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
	return aux;
}

static inline uint64_t kt_rdpid(void)
{
	uint64_t v;

	__asm__ volatile(".byte 0xf3, 0x0f, 0xc7, 0xf8" /* RDPID %rax */
			 : "=a"(v));
	return v;
}

/* Pin the calling thread to one CPU (fails the test if it cannot). */
void kt_pin_cpu(int cpu);
int kt_ncpus(void);        /* CPUs this process may run on */
int kt_other_cpu(int cpu); /* another allowed CPU, or cpu if none */

struct kt_heartbeat {
	pthread_t thread;
	int cpu;
	volatile int stop;
	volatile unsigned long beats; /* wake-ups of the thread */
};

/* A thread on cpu that sleeps 1 ms and counts, until stopped. */
void kt_heartbeat_start(struct kt_heartbeat *hb, int cpu);
/* Stop it; fails the test if it never beat while the guest ran. */
unsigned long kt_heartbeat_stop(struct kt_heartbeat *hb);

struct kt_vmm_state {
	int cpu; /* the CPU the calling thread is pinned to */
	int has_pkru;
	uint32_t pkru;
	int has_rdtscp, has_rdpid;
	uint32_t tsc_aux;
	int has_xss, has_spec_ctrl;
	uint64_t xss, spec_ctrl;
	int wp_fd;         /* perf hardware watchpoint on a variable, or -1 */
	uint64_t wp_count; /* its count after our last write */
};

/*
 * Record the calling thread's state; the thread must be pinned (kt_pin_cpu)
 * and stay on that CPU until kt_vmm_state_check.  Arms a hardware write
 * watchpoint on a private variable of this library.
 */
void kt_vmm_state_save(struct kt_vmm_state *s);
/*
 * The same without the watchpoint, for tests whose guest uses its own
 * debug registers: the test bed's QEMU 7.2 keeps its breakpoints wrong
 * across VMRUN and #VMEXIT (it loads DR7 without re-arming them; fixed in
 * QEMU 9.1 by "target/i386: disable/enable breakpoints on vmentry/vmexit")
 * and crashes when the host re-arms a watchpoint after a guest used
 * breakpoints, under kvm_amd and xkvm alike.  The host's breakpoints
 * around such guests are covered by the unit tests of svm.c instead.
 */
void kt_vmm_state_save_nowatch(struct kt_vmm_state *s);
/* Compare with the saved state; `when` names the moment in a failure. */
void kt_vmm_state_check(struct kt_vmm_state *s, const char *when);
void kt_vmm_state_release(struct kt_vmm_state *s);

/*
 * KVM_RUN until a signal ends it: ms milliseconds after the call a helper
 * thread sends SIGUSR1 to the calling thread (an empty handler without
 * SA_RESTART is installed, and kvm_run's immediate_exit is set from it so
 * that a signal arriving between two KVM_RUNs is not lost).  Each exit is
 * handed to on_exit(vcpu, arg), which returns 0 to go on or non-zero to stop
 * early.  KVM_RUN failing with anything but EINTR fails the test.
 * Returns the number of exits handed to on_exit.
 */
typedef int (*kt_exit_fn)(struct kt_vcpu *vcpu, void *arg);
unsigned long kt_run_until_signal(struct kt_vcpu *vcpu, unsigned int ms,
				  kt_exit_fn on_exit, void *arg);

/*
 * A counter of the vCPU's binary statistics (KVM_GET_STATS_FD, Linux's
 * names: "exits", "halt_exits", ...), the same under kvm_amd and xkvm;
 * fails the test if there is no such statistic.
 */
uint64_t kt_vcpu_stat(struct kt_vcpu *vcpu, const char *name);

/*
 * Give the vCPU the whole KVM_GET_SUPPORTED_CPUID table as its CPUID;
 * returns the table (malloc'ed, the caller frees it) for kt_cpuid_has().
 */
struct kvm_cpuid2 *kt_set_supported_cpuid(struct kt_vcpu *vcpu);
/* Whether leaf.index's register (0 EAX .. 3 EDX) has bit in the table. */
int kt_cpuid_has(const struct kvm_cpuid2 *c, uint32_t leaf, uint32_t index,
		 int reg, int bit);

/* One MSR through KVM_SET_MSRS / KVM_GET_MSRS: 1 if it was taken. */
int kt_set_msr(struct kt_vcpu *vcpu, uint32_t msr, uint64_t val);
int kt_get_msr(struct kt_vcpu *vcpu, uint32_t msr, uint64_t *val);

#endif /* KVMTEST_HOSTILE_H */
