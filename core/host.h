/* SPDX-License-Identifier: GPL-2.0 */
/*
 * host.h - the host services the OS-neutral core may use.
 *
 * Theory.  Everything in core/, svm/ and vmx/ is written against this header
 * and the KVM ABI header <linux/kvm.h>, and nothing else: no host OS header is
 * ever included there.  Each host supplies the functions declared here in its
 * own folder: host/linux/ for the Linux kernel module, host/user/ for the
 * user-space build that runs the core's unit tests and fuzzers (and, later,
 * host/illumos/).  This follows OpenZFS's zfs_context.h idea, except that the
 * host's own types never leak in: every host object is opaque here.
 *
 * Conventions.
 *  - Errors are negative errno values (-EINVAL...), with the numbers of the
 *    Linux ABI, because that is the ABI the ioctls speak.  A host whose own
 *    numbers differ translates at its boundary.
 *  - "May sleep" functions must not be called with preemption or interrupts
 *    disabled, or with a host_spin held.
 *  - Host physical addresses are u64 ("hpa"), guest physical are u64 ("gpa").
 */
#ifndef XKVM_HOST_H
#define XKVM_HOST_H

#include <linux/kvm.h> /* the ABI; also gives __u8 ... __u64 */

/*
 * Basic types.  The Linux kernel's <linux/types.h> (pulled in by linux/kvm.h
 * when building the module) already defines these names with the same
 * underlying types; user space gets them from the compiler here.
 */
#ifndef __KERNEL__
#include <stdbool.h> /* compiler-provided, freestanding */
#include <stddef.h>  /* compiler-provided, freestanding */
typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s8 s8;
typedef __s16 s16;
typedef __s32 s32;
typedef __s64 s64;
typedef __UINTPTR_TYPE__ uintptr_t;
#endif

#ifndef NULL
#define NULL ((void *)0)
#endif

/* errno values of the Linux ABI (user space headers are not ours to include) */
#ifndef EPERM
#define EPERM 1
#define ENOENT 2
#define EINTR 4
#define EIO 5
#define ENXIO 6
#define E2BIG 7
#define EBADF 9
#define EAGAIN 11
#define ENOMEM 12
#define EFAULT 14
#define EBUSY 16
#define EEXIST 17
#define ENODEV 19
#define EINVAL 22
#define ENOSPC 28
#define ERANGE 34
#define ENOSYS 38
#define ENOTTY 25
#define EOPNOTSUPP 95
#endif

#define XK_PAGE_SHIFT 12
#define XK_PAGE_SIZE (1ULL << XK_PAGE_SHIFT)
#define XK_PAGE_MASK (~(XK_PAGE_SIZE - 1))

#define XK_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define XK_MIN(a, b) ((a) < (b) ? (a) : (b))
#define XK_MAX(a, b) ((a) > (b) ? (a) : (b))
#define XK_BIT(n) (1ULL << (n))
#define xk_offsetof(t, m) __builtin_offsetof(t, m)
#define xk_container_of(p, t, m) ((t *)((char *)(p)-xk_offsetof(t, m)))
#define xk_likely(x) __builtin_expect(!!(x), 1)
#define xk_unlikely(x) __builtin_expect(!!(x), 0)

/* plain memory helpers; the compiler lowers these to the host's own */
#define xk_memcpy(d, s, n) __builtin_memcpy((d), (s), (n))
#define xk_memset(d, c, n) __builtin_memset((d), (c), (n))
#define xk_memcmp(a, b, n) __builtin_memcmp((a), (b), (n))

#define XK_READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define XK_WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

/* ---------------------------------------------------------------------
 * Logging.  Levels follow syslog: 3 error, 4 warning, 6 info, 7 debug.
 * Messages are prefixed with "xkvm: " by the host.
 */
#define HOST_LOG_ERR 3
#define HOST_LOG_WARN 4
#define HOST_LOG_INFO 6
#define HOST_LOG_DEBUG 7
void host_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * An internal invariant failed.  Never used for anything a guest or a user
 * can cause; those end the VM or return an errno instead.  The host logs the
 * location and a backtrace (WARN on Linux) but does not stop.
 */
void host_bug(const char *file, int line, const char *cond);
#define XK_WARN_ON(c)                                     \
	({                                                \
		bool __c = !!(c);                         \
		if (xk_unlikely(__c))                     \
			host_bug(__FILE__, __LINE__, #c); \
		__c;                                      \
	})

/* ---------------------------------------------------------------------
 * Memory.  All allocations are counted by the host so tests can check that
 * everything is given back (see host_held()).
 */
void *host_zalloc(size_t size); /* may sleep; zeroed; NULL on failure */
void host_free(void *p, size_t size);

/* Zeroed, physically contiguous, naturally aligned 2^order pages. */
void *host_pages_alloc(unsigned int order, u64 *hpa); /* may sleep */
void host_pages_free(void *va, unsigned int order);
u64 host_va_to_pa(const void *va); /* for memory from host_pages_alloc */

/*
 * Guest memory: a range of the VMM's address space, pinned for as long as a
 * memory slot refers to it.  npages pages starting at page-aligned uaddr.
 * writable: the guest may write the range.  Without it the pinned pages
 * must still be the ones the VMM writes later (no shared zero page for
 * untouched memory the VMM may fill in: QEMU loads ROMs that way).
 *
 * Limits.  Pinned pages count against the pinning process's locked memory
 * (Linux: locked_vm and RLIMIT_MEMLOCK, as VFIO; CAP_IPC_LOCK goes past
 * it): -ENOMEM past the limit, and also for more pages than the host has;
 * the charge stays with that process's memory until host_unpin_user(),
 * whichever process unpins, even once the pinning one has exited.  No
 * allocation grows with npages beyond what the host's allocator takes.
 * Both calls may fault or wait on the VMM's memory (userfaultfd) and take
 * its memory-map lock: the caller holds no lock another VM or vCPU needs.
 */
struct host_pin;
int host_pin_user(u64 uaddr, u64 npages, bool writable, struct host_pin **out);
void host_unpin_user(struct host_pin *pin); /* may sleep */
u64 host_pin_hpa(const struct host_pin *pin, u64 idx);
void *host_pin_va(const struct host_pin *pin, u64 idx);

/* Counters of what the driver holds, for leak checks. */
struct host_held {
	s64 objects; /* host_zalloc'ed objects */
	s64 pages;   /* pages from host_pages_alloc */
	s64 pinned;  /* guest pages pinned */
};
void host_held(struct host_held *out);

/* Copies to and from the calling process; 0 or -EFAULT.  May sleep. */
int host_copy_from_user(void *dst, u64 usrc, size_t len);
int host_copy_to_user(u64 udst, const void *src, size_t len);

/* ---------------------------------------------------------------------
 * Locks.  A mutex may be held across sleeping calls; a spin lock may not.
 */
struct host_mutex;
struct host_mutex *host_mutex_create(void); /* may sleep; NULL on failure */
void host_mutex_destroy(struct host_mutex *m);
void host_mutex_lock(struct host_mutex *m);
void host_mutex_unlock(struct host_mutex *m);
bool host_mutex_trylock(struct host_mutex *m);

struct host_spin;
struct host_spin *host_spin_create(void);
void host_spin_destroy(struct host_spin *s);
void host_spin_lock(struct host_spin *s);
void host_spin_unlock(struct host_spin *s);
/*
 * The same for a lock also taken in interrupt context (timer callbacks,
 * eventfd wake-ups): local interrupts are off while it is held, whatever
 * their state at the call, and come back as they were at the unlock.
 */
void host_spin_lock_irq(struct host_spin *s);
void host_spin_unlock_irq(struct host_spin *s);

/* ---------------------------------------------------------------------
 * CPUs, preemption and the current thread.
 */
unsigned int host_ncpus(void);  /* number of possible CPU ids */
unsigned int host_cpu_id(void); /* caller has preemption disabled */
void host_preempt_disable(void);
void host_preempt_enable(void);
void host_irq_disable(void); /* local interrupts off */
void host_irq_enable(void);
bool host_signal_pending(void); /* for the current thread */
bool host_need_resched(void);
void host_cond_resched(void);         /* may sleep */
void host_kick_cpu(unsigned int cpu); /* IPI: make that CPU leave the guest */
void host_mb(void);                   /* full memory barrier */
int host_current_pid(void);

/*
 * Run fn(arg) on every online CPU and wait.  Used for cross-CPU work such as
 * TLB flush broadcasts; fn runs with interrupts disabled.
 */
void host_on_each_cpu(void (*fn)(void *), void *arg);

/*
 * The host's floating-point state.  Between host_fpu_begin() and
 * host_fpu_end() the caller may load any FPU/SSE/AVX state (the guest's);
 * the host saves its own first and restores it before returning to the
 * user.  Preemption is disabled in between.
 */
void host_fpu_begin(void);
void host_fpu_end(void);

/*
 * Trace probes, cheap when nobody listens: Linux tracepoints xkvm:xkvm_entry,
 * xkvm:xkvm_exit and xkvm:xkvm_userspace_exit (SDT probes on illumos).
 * vm is the VMM's pid (one VM a process in practice), vcpu the vCPU id.
 *  - entry: right before the vendor's guest entry (interrupts off).
 *  - exit: right after it, with the vendor's own exit code and details
 *    (isa: KVM_X86_... style, 1 = VMX, 2 = SVM, as Linux's kvm_exit).
 *  - userspace_exit: KVM_RUN returns to the VMM with exit_reason (or err).
 */
#define XK_TRACE_ISA_VMX 1
#define XK_TRACE_ISA_SVM 2
void host_trace_entry(int vm, u32 vcpu, u64 rip);
void host_trace_exit(int vm, u32 vcpu, u32 isa, u64 reason, u64 rip, u64 info1,
		     u64 info2, u64 intinfo);
void host_trace_userspace_exit(int vm, u32 vcpu, u32 reason, int err);

/*
 * Probes inside an exit's handling (xkvm:xkvm_pio, xkvm_mmio, xkvm_inject,
 * xkvm_emulation_failure):
 *  - pio: a port access the guest made (each exit of one, also those an
 *    ioeventfd takes): port, size in bytes, in (1) or out (0), count the
 *    elements it asks for (RCX of a REP string form, else 1; a string
 *    batch the VMM finished is traced again with the rest).
 *  - mmio: a guest access to device memory (not ordinary RAM): gpa, len,
 *    write, and the value of a write (has_value); a read's value comes
 *    from the VMM later, so has_value is false for reads.
 *  - inject: an event put in for the guest at an entry: vector, kind
 *    (XK_TRACE_INJ_*), reinjected when it is an event whose delivery an
 *    exit cut short.  An interrupt offered again because the guest did not
 *    take it yet is traced at each offer.
 *  - emulation_failure: an instruction the driver could not emulate (the
 *    VMM gets KVM_INTERNAL_ERROR_EMULATION): rip and up to 15 bytes of it
 *    (len 0 when even the fetch failed).
 */
#define XK_TRACE_INJ_IRQ 0
#define XK_TRACE_INJ_NMI 1
#define XK_TRACE_INJ_EXCEPTION 2
#define XK_TRACE_INJ_SOFT 3 /* INTn, INT3, INTO re-delivered */
void host_trace_pio(int vm, u32 vcpu, u16 port, u8 size, bool in, u64 count);
void host_trace_mmio(int vm, u32 vcpu, u64 gpa, u32 len, bool write,
		     bool has_value, u64 value);
void host_trace_inject(int vm, u32 vcpu, u8 vector, u32 kind, bool reinjected);
void host_trace_emulation_failure(int vm, u32 vcpu, u64 rip, const u8 *bytes,
				  u32 len);

/* Time: monotonic nanoseconds; wall-clock (realtime) nanoseconds. */
u64 host_time_ns(void);

/*
 * A place for one thread (a halted vCPU's) to sleep.  host_wait_event()
 * returns 0 as soon as ready(arg) is true (checked before sleeping and
 * after every wake-up), or -EINTR when a signal is pending.
 * host_wait_wake() may be called from any context, interrupts included.
 */
struct host_wait;
struct host_wait *host_wait_create(void); /* may sleep; NULL on failure */
void host_wait_destroy(struct host_wait *w);
int host_wait_event(struct host_wait *w, bool (*ready)(void *arg),
		    void *arg); /* may sleep */
void host_wait_wake(struct host_wait *w);

/*
 * One-shot timers on host_time_ns()'s clock, for the device models (local
 * APIC timer, PIT).  fn(arg) runs in interrupt context: it must not sleep
 * and may take a host_spin.  host_timer_start() (re)arms for an absolute
 * time, replacing a pending expiry; a time already past fires at once.
 * host_timer_cancel() returns once fn is neither pending nor running; it
 * must not be called from fn itself.  Each timer counts as a held object.
 */
struct host_timer;
struct host_timer *host_timer_create(void (*fn)(void *arg), void *arg);
void host_timer_start(struct host_timer *t, u64 when_ns);
void host_timer_cancel(struct host_timer *t);
void host_timer_destroy(struct host_timer *t); /* cancels first; may sleep */
u64 host_realtime_ns(void);
u32 host_tsc_khz(void); /* the host's TSC frequency, 0 if unknown */

/* ---------------------------------------------------------------------
 * Eventfds of the VMM (for KVM_IOEVENTFD).  host_eventfd_get() takes a
 * reference on the eventfd behind file descriptor fd of the calling process:
 * -EBADF if fd is not open, -EINVAL if it is not an eventfd (Linux's
 * errnos).  It counts as one held object until host_eventfd_put().
 * host_eventfd_signal() adds 1 to its counter and wakes its readers; it
 * never sleeps, so it may be called with a host_spin held.
 */
struct host_eventfd;
int host_eventfd_get(int fd, struct host_eventfd **out); /* may sleep */
void host_eventfd_signal(struct host_eventfd *e);
/* Do a and b refer to the same eventfd (as Linux compares contexts)? */
bool host_eventfd_same(const struct host_eventfd *a,
		       const struct host_eventfd *b);
void host_eventfd_put(struct host_eventfd *e); /* may sleep */

/*
 * Watching an eventfd (for KVM_IRQFD).  host_eventfd_watch() arranges for
 * fn(arg) to run each time eventfd e is signalled (its counter written, by
 * write(2) or host_eventfd_signal()); the host consumes the counter (back
 * to 0) right before each call.  fn runs in the signaller's context, which
 * may be interrupt context, always with the eventfd's own lock held and
 * local interrupts off: it must not sleep, may take host_spin locks, and
 * must not signal an eventfd itself (Linux refuses that nesting).  If the
 * counter is already non-zero (a signal sent before the watch), fn also
 * runs once before host_eventfd_watch() returns, in the caller's context,
 * possibly at the same time as a call for a new signal on another CPU.
 * That count may stay (Linux cannot consume it there: the next signal
 * does), so a signal sent before the watch may be seen twice, never lost.
 *
 * Hang-up.  hup(arg), if hup is not NULL, runs once when the eventfd's
 * last descriptor is gone: on Linux when its file is released (the last
 * close(2) of it in any process, the wake-up with EPOLLHUP); references
 * taken with host_eventfd_get() do not keep the file, so e does not
 * prevent it.  It runs in the context of that release, as fn does (the
 * eventfd's lock held, interrupts off, no sleeping), possibly before
 * host_eventfd_watch() has returned if the last descriptor went meanwhile,
 * and never after host_eventfd_unwatch() has returned.  It cannot undo the
 * watch itself: it hands that to a thread (host_work_queue below), as
 * Linux drops an irqfd.  fn may still run after hup, until the unwatch (a
 * kernel holder of the eventfd may signal it).
 *
 * fd is the descriptor e was taken from with host_eventfd_get() (Linux
 * polls the file behind it): -EBADF if the process has meanwhile closed it
 * or made it another file.  The watch borrows e: host_eventfd_unwatch()
 * must come before host_eventfd_put(e).  A watch counts as one held object.
 * After host_eventfd_unwatch() returns, neither fn nor hup is running, nor
 * will they run again for this watch.  Neither call may be made from fn or
 * hup.
 */
struct host_eventfd_watch;
int host_eventfd_watch(struct host_eventfd *e, int fd, void (*fn)(void *arg),
		       void (*hup)(void *arg), void *arg,
		       struct host_eventfd_watch **out); /* may sleep */
void host_eventfd_unwatch(struct host_eventfd_watch *w); /* may sleep */

/*
 * Deferred work: fn(arg) run later by a host thread, in process context
 * (it may sleep and take mutexes), for what cannot be done where the need
 * is noticed (an eventfd's hang-up runs with interrupts off).  On Linux a
 * work item of the system workqueue.
 *  - host_work_queue() may be called from any context (interrupts off,
 *    host_spin held).  Work queued and not yet started is not queued
 *    twice: fn then runs once for both; work queued while fn runs runs
 *    again after it.
 *  - host_work_flush() returns once the work is neither queued nor running
 *    (running a queued one first, or waiting for it).  May sleep; not from
 *    fn itself.
 *  - host_work_destroy() flushes, then frees.  The caller must first make
 *    sure nothing can queue it any more (stop what calls host_work_queue),
 *    so that fn never runs after the objects it uses are gone.
 * Each work item counts as one held object.
 */
struct host_work;
struct host_work *host_work_create(void (*fn)(void *arg),
				   void *arg); /* may sleep; NULL on failure */
void host_work_queue(struct host_work *w);
void host_work_flush(struct host_work *w);   /* may sleep */
void host_work_destroy(struct host_work *w); /* may sleep */

/* ---------------------------------------------------------------------
 * The CPU around the guest (svm/svm.c, core/vcpu.c).
 *
 * A few registers of the CPU hold the guest's values only while it runs:
 * the guest's DR0-3 when it uses breakpoints, its PKRU, XCR0, IA32_XSS,
 * IA32_SPEC_CTRL and TSC_AUX.  The backend and the run loop switch them
 * with interrupts off (and, on SVM, the global interrupt flag clear), from
 * just before the guest runs until just after it exits, and never leave a
 * guest value behind for the host: after KVM_RUN the VMM thread sees
 * exactly its own.  Every access goes through these calls, not through
 * inline instructions, so that host/user can play the CPU in unit tests
 * and record what was loaded when; the kernel hosts execute the
 * instruction.  All of them: interrupts off unless said.
 */
u64 host_cpu_rdmsr(u32 msr);
void host_cpu_wrmsr(u32 msr, u64 val);
u64 host_cpu_get_dr(unsigned int n); /* n: 0-3, 6 or 7 */
void host_cpu_set_dr(unsigned int n, u64 val);
/* PKRU: only where the host set CR4.PKE, which host_pkru_enabled() says */
bool host_pkru_enabled(void); /* any context */
u32 host_cpu_rdpkru(void);
void host_cpu_wrpkru(u32 pkru);
void host_cpu_xsetbv(u32 xcr, u64 val);

/*
 * The host's own hardware breakpoints on this CPU (perf and ptrace
 * watchpoints of the current thread, or of the CPU).  A #VMEXIT leaves
 * every breakpoint disabled in DR7, and a guest that used its debug
 * registers leaves its DR0-3 and DR6 in the CPU: when
 * host_debugregs_active(), host_debugregs_restore() puts DR0-3, DR6 and
 * DR7 back as the host keeps them.  When it is not active the host does
 * not care what they hold (it reloads them when it arms a breakpoint).
 */
bool host_debugregs_active(void);
void host_debugregs_restore(void);

/*
 * MSRs the guest's values may stay in until the CPU returns to user space
 * (TSC_AUX: RDPID in the guest cannot be intercepted, so the MSR must hold
 * the guest's value; the host kernel itself never reads it).  At load,
 * host_uret_msr_register(msr) gives a slot (or -errno); host_uret_msr_set
 * (slot, val), preemption off, writes val on this CPU unless the CPU holds
 * it already, and makes the host write its own value back before this CPU
 * next returns to user space, whatever thread that is (on Linux a
 * user-return notifier).  host_uret_msr_drop(), on the CPU concerned with
 * preemption off, puts the host's values back at once and forgets the
 * CPU's state: the backend calls it when the CPU leaves virtualization
 * (CPU offline, module unload).
 */
#define HOST_URET_MAX 4
int host_uret_msr_register(u32 msr);
void host_uret_msr_set(int slot, u64 val);
void host_uret_msr_drop(void);

/*
 * A machine check that arrived while a guest ran (SVM reports it as an
 * intercepted #MC): the host's own handler takes it as if it had happened
 * in the user mode of the current thread, as Linux's kvm_amd does.
 * Interrupts off, the global interrupt flag set again.
 */
void host_machine_check(void);

/*
 * Speculative-execution mitigations.  The host kernel decides what it
 * needs against attacks from its guests (Spectre v2 RSB, Retbleed, SRSO,
 * TSA/MDS, VMSCAPE, SSB); host_mitigations() tells the backend, once at
 * load, what that kernel's own hypervisor does, and the backend does the
 * same.  Flags:
 *  - RSB_FILL: overwrite the return stack buffer after #VMEXIT, before any
 *    RET (the backend's own entry code does it, from the manuals).
 *  - UNTRAIN_RET: call host_untrain_ret() after #VMEXIT, before any RET
 *    (Retbleed untraining, SRSO safe RET).
 *  - IBPB_VMEXIT: call host_ibpb() after every #VMEXIT (retbleed=ibpb,
 *    srso=ibpb_vmexit).
 *  - IBPB_SWITCH: an IBPB (write pred_cmd to IA32_PRED_CMD) when a CPU
 *    runs a vCPU whose VMCB is not the one it ran last, so one guest
 *    cannot steer another's indirect branches.
 *  - VERW: VERW of verw_sel right before VMRUN (clears the CPU buffers:
 *    TSA, MDS).
 *  - SPEC_CTRL: the CPU has IA32_SPEC_CTRL: the guest's value is loaded
 *    around VMRUN and host_spec_ctrl() is the host's, per CPU.
 *  - VIRT_SSBD: the host disables speculative store bypass through
 *    VIRT_SPEC_CTRL or LS_CFG: host_virt_ssbd() switches it around VMRUN.
 *  - IBPB_TO_USER: after a guest ran on a CPU, an IBPB before that CPU
 *    next returns to user space (VMSCAPE): host_guest_ran() asks for it.
 *  - HAS_IBPB: the CPU can do an IBPB at all (a guest's PRED_CMD write).
 * spec_ctrl_bits are the IA32_SPEC_CTRL bits this host lets a guest set
 * (IBRS, STIBP, SSBD as the CPU has them).
 */
#define HOST_MIT_RSB_FILL XK_BIT(0)
#define HOST_MIT_UNTRAIN_RET XK_BIT(1)
#define HOST_MIT_IBPB_VMEXIT XK_BIT(2)
#define HOST_MIT_IBPB_SWITCH XK_BIT(3)
#define HOST_MIT_VERW XK_BIT(4)
#define HOST_MIT_SPEC_CTRL XK_BIT(5)
#define HOST_MIT_VIRT_SSBD XK_BIT(6)
#define HOST_MIT_IBPB_TO_USER XK_BIT(7)
#define HOST_MIT_HAS_IBPB XK_BIT(8)
struct host_mitigations {
	u64 flags;          /* HOST_MIT_* */
	u64 pred_cmd;       /* the value that makes IA32_PRED_CMD an IBPB */
	u64 spec_ctrl_bits; /* IA32_SPEC_CTRL bits a guest may set */
	u16 verw_sel;       /* a data segment selector for VERW */
};
void host_mitigations(struct host_mitigations *m); /* at load */
u64 host_spec_ctrl(void); /* this CPU's IA32_SPEC_CTRL, as the host keeps it */
/* the guest's VIRT_SPEC_CTRL (SSBD bit) in force (guest) or the host's */
void host_virt_ssbd(u64 guest_virt_spec_ctrl, bool guest);
void host_guest_ran(void);

/*
 * Called by the backend's entry code right after #VMEXIT, with interrupts
 * and the global interrupt flag off, on the host's stack, before any RET
 * instruction: host_untrain_ret() does the host's return untraining
 * (Retbleed/SRSO), host_ibpb() an indirect branch prediction barrier that
 * also clears the return predictions where the CPU needs it.  Register
 * contract: both may clobber RAX, RCX, RDX, RSI, RDI, R8-R11 and the
 * flags; they preserve RBX, RBP, RSP, R12-R15.
 */
void host_untrain_ret(void);
void host_ibpb(void);

#endif /* XKVM_HOST_H */
