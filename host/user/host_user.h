/* SPDX-License-Identifier: GPL-2.0 */
/*
 * host_user.h - knobs of the user-space host (host/user/host_user.c) that
 * only tests and fuzzers use.  The core never includes this file.
 *
 * The user-space host implements core/host.h on libc and pthreads:
 *  - every allocation is counted (host_held()) and checked on free (size
 *    and order must match what was allocated);
 *  - "physical" addresses are fake but consistent: the physical address of
 *    a page is its virtual address, so host_user_pa_to_va() inverts
 *    host_va_to_pa() and host_pin_hpa();
 *  - a per-thread preemption/spin-lock depth makes every "may sleep"
 *    function complain (host_bug) when called in atomic context, like the
 *    kernel's might_sleep();
 *  - host_bug() prints and aborts by default, so a broken invariant is loud;
 *  - host_irq_disable() is a per-thread flag that also counts as atomic
 *    context;
 *  - host_fpu_begin()/host_fpu_end() save and restore the calling thread's
 *    own FPU/SSE/AVX state (XSAVE of every feature enabled in XCR0, or
 *    FXSAVE without XSAVE), as the kernel does for the task it interrupts:
 *    the core loads the guest's image into the registers in between, and a
 *    test's MXCSR, x87 control word or vector registers must survive that.
 */
#ifndef XKVM_HOST_USER_H
#define XKVM_HOST_USER_H

#include "host.h"

/*
 * Fault injection.  Every fallible host call (host_zalloc, host_pages_alloc,
 * host_mutex_create, host_spin_create, host_pin_user) whose class is in the
 * armed mask counts as one "failure point".  host_user_fail_nth(n, mask)
 * makes the n-th such call from now on fail (n >= 1), once; n == 0 disarms.
 * host_user_fail_points() counts the calls of those classes since the last
 * host_user_fail_nth(), so a test can run an operation once to learn how
 * many failure points it has, then fail each in turn and check that
 * host_held() returns to where it was.
 */
#define HOST_USER_FAIL_ZALLOC 0x01u
#define HOST_USER_FAIL_PAGES 0x02u
#define HOST_USER_FAIL_MUTEX 0x04u
#define HOST_USER_FAIL_SPIN 0x08u
#define HOST_USER_FAIL_PIN 0x10u
#define HOST_USER_FAIL_ALL 0x1fu

void host_user_fail_nth(unsigned long n, unsigned int mask);
unsigned long host_user_fail_points(void);
bool host_user_fail_fired(void); /* the armed failure has happened */

/* Addresses the host says are physical, back to pointers. */
void *host_user_pa_to_va(u64 pa);

/*
 * host_bug() behaviour.  Default: print and abort().  With counting
 * enabled it prints, counts and returns, so a test can check that an
 * XK_WARN_ON() fired.
 */
void host_user_bug_count_mode(bool on);
unsigned long host_user_bugs(void);

/* Log level printed on stderr (default HOST_LOG_WARN; env XKVM_LOG=N). */
void host_user_set_log_level(int level);
/* The last message logged at any level (without "xkvm: "), for tests. */
const char *host_user_last_log(void);

/* Make host_copy_{from,to}_user fail on [uaddr, uaddr + len), len 0: off */
void host_user_set_efault_range(u64 uaddr, u64 len);

/*
 * The VMM's address space.  By default every address from the second page
 * to the top of the user half counts as mapped.  With a window set (len
 * != 0) only [uaddr, uaddr + len) does: host_copy_{from,to}_user and
 * host_pin_user on anything outside it fail with -EFAULT, as they would on
 * unmapped memory in the kernel.  The ioctl fuzzer sets it so that no
 * address it invents is ever dereferenced.
 */
void host_user_set_user_window(u64 uaddr, u64 len);

/*
 * Hooks, NULL: none.  The user-access hook runs at the start of every
 * host_pin_user, host_unpin_user (which takes the VMM's memory-map lock
 * in the kernel), host_copy_from_user and host_copy_to_user, where the
 * kernel could fault the VMM's memory in and wait (userfaultfd): a test
 * checks there which locks the core holds.  The resched hook runs in
 * host_cond_resched (outside every spin lock: might_sleep checks), where
 * the core's long loops pause between batches: a test looks at the state
 * a vCPU could see there.  Both may call into the core.
 */
void host_user_set_user_access_hook(void (*fn)(void *arg), void *arg);
void host_user_set_resched_hook(void (*fn)(void *arg), void *arg);

/* host_signal_pending() result for all threads. */
void host_user_set_signal_pending(bool pending);

/*
 * host_signal_pending() answers true from its n-th call on (n >= 1), as if
 * a signal arrived just then; 0 disarms.  host_user_signal_checks() counts
 * the calls since the last host_user_signal_after().
 */
void host_user_signal_after(unsigned long n);
unsigned long host_user_signal_checks(void);

/* Are interrupts off on this thread (host_irq_disable)? */
bool host_user_irqs_disabled(void);

/* Is this thread between host_fpu_begin() and host_fpu_end()? */
bool host_user_in_fpu(void);

/* How many times host_kick_cpu() was called. */
unsigned long host_user_kicks(void);

/* Per-thread atomic-context depth (preempt_disable + spin locks + fpu). */
int host_user_atomic_depth(void);

/*
 * The clock and timers.  host_user_clock_set() stops host_time_ns() at
 * now_ns (host_user_clock_real() restarts the real clock).  With the clock
 * stopped, host_user_clock_advance() moves it on by delta_ns, running the
 * callback of every timer that falls due on the way, in expiry order, with
 * the clock at that timer's expiry; it returns how many fired.  Timers
 * never fire otherwise in user space.
 */
void host_user_clock_set(u64 now_ns);
void host_user_clock_real(void);
unsigned int host_user_clock_advance(u64 delta_ns);
bool host_user_timer_armed(const struct host_timer *t, u64 *when);

/*
 * Eventfd watches (host_eventfd_watch): user space has no wake-up on a
 * write, so a test that wrote a watched eventfd itself calls this to run
 * the watchers of every readable one (their counters consumed), as the
 * kernel would have inside the write.  Returns how many ran.
 * host_eventfd_signal() runs the watchers of its eventfd by itself.
 */
unsigned int host_user_eventfd_poll(void);

/*
 * The last close(2) of an eventfd: closes fd and calls the hang-up
 * callback of every watch of that eventfd (once each, in atomic context),
 * as the kernel does when the file is released.  The host's own
 * duplicates keep the file open in user space, so this is the only way a
 * hang-up happens here.  Returns how many callbacks ran.
 */
unsigned int host_user_eventfd_hangup(int fd);

/*
 * Deferred work (host_work_*): nothing runs it by itself.  This runs
 * every queued item on the calling thread, in process context, and
 * returns how many ran; host_work_flush() runs its own item if queued.
 */
unsigned int host_user_work_run(void);

/* What the trace probes saw (host_trace_*), for the unit tests. */
struct host_user_trace {
	unsigned long entries, exits, userspace_exits;
	u64 last_entry_rip;
	u64 last_exit_reason;
	u32 last_userspace_reason;
	int last_userspace_err;
	/* the probes inside an exit's handling */
	unsigned long pios, mmios, injects, emulation_failures;
	struct {
		u16 port;
		u8 size;
		bool in;
		u64 count;
	} last_pio;
	struct {
		u64 gpa, value;
		u32 len;
		bool write, has_value;
	} last_mmio;
	struct {
		u8 vector;
		u32 kind;
		bool reinjected;
	} last_inject;
	struct {
		u64 rip;
		u32 len;
		u8 bytes[15];
	} last_emulation_failure;
};
extern struct host_user_trace host_user_trace;

/*
 * The CPU around the guest (host.h's host_cpu_*, host_debugregs_*,
 * host_uret_*, host_machine_check, host_mitigations...): one fake CPU for
 * the whole process, which the backend's unit tests play.  MSRs read 0
 * until written; every write of an MSR, a debug register, PKRU or XCR0 is
 * logged in order with whether interrupts were off.  What the host answers
 * (its breakpoints active, its mitigations, its SPEC_CTRL) is set by the
 * test in the fields below.  host_user_cpu_reset() puts it all back
 * (DR6 0xffff0ff0, DR7 0x400, the rest 0); the unit-test runner calls it
 * before every test.
 */
#define HOST_USER_CPU_MSRS 32
#define HOST_USER_CPU_LOG 256
struct host_user_cpu_op {
	char kind; /* 'w' MSR, 'd' debug register, 'p' PKRU, 'x' XCR,
		    * 'S'/'s' host_virt_ssbd(guest / host) */
	u32 reg;   /* MSR number, DR number, XCR number */
	u64 val;
	bool irqs_off;
};
struct host_user_cpu {
	struct {
		u32 msr;
		u64 val;
	} msr[HOST_USER_CPU_MSRS];
	unsigned int nmsr;
	u64 dr[8]; /* DR0-3, DR6, DR7 (4 and 5 unused) */
	u32 pkru;
	u64 xcr0; /* as last written by host_cpu_xsetbv */
	/* the host's side, set by the test */
	bool pkru_enabled;     /* host_pkru_enabled() (then xk_fpu_setup()) */
	bool debugregs_active; /* host_debugregs_active() */
	u64 host_dr[8]; /* DR0-3 and DR7 host_debugregs_restore() loads */
	struct host_mitigations mit;
	u64 host_spec_ctrl;
	/* what happened */
	unsigned long dr_restores, machine_checks, untrains, ibpbs, guest_ran;
	bool mc_irqs_off;
	/* user-return MSRs */
	u32 uret_msr[HOST_URET_MAX];
	int nuret;
	bool uret_known[HOST_URET_MAX];
	u64 uret_host[HOST_URET_MAX];
	bool uret_armed; /* a value waits for host_user_return_to_user() */
	struct host_user_cpu_op log[HOST_USER_CPU_LOG];
	unsigned int nlog; /* may exceed HOST_USER_CPU_LOG: the rest lost */
};
extern struct host_user_cpu host_user_cpu;
void host_user_cpu_reset(void);
u64 host_user_cpu_msr(u32 msr);
void host_user_cpu_set_msr(u32 msr, u64 val);
/* The thread returns to user space: user-return MSRs get the host's. */
void host_user_return_to_user(void);

#endif /* XKVM_HOST_USER_H */
