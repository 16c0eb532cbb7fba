/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stats.h - per-vCPU and per-VM counters, under the original driver's names.
 *
 * The lists are X-macros so that every publisher (the Linux binary stats fd
 * and tree, an illumos kstat later, the debugger) walks the same table of
 * names.  Per-vCPU counters are written only by the thread running the vCPU,
 * so plain increments suffice; readers may see a slightly stale value.
 *
 * Where they are counted: exits, signal-exits, request-irq-exits, vmm-exits
 * (every return of KVM_RUN: the exits an in-kernel device saves show here,
 * not in "exits"), fpu-reload in the run loop (vcpu.c); halt-, io-, mmio-, cpuid-, msr-exits, pf-guest
 * when the exit is handled, insn-emulation for every instruction the
 * emulator runs (an MMIO access, a batch of string I/O, MOV DR: as Linux
 * and the original count emulator runs, not RIP skips) (emulate.c); irq-, irq-window-,
 * nmi-window- (the IRET that ends an NMI), shutdown-, exception-exits,
 * hypercalls, npt-violations (every nested page fault: the original's
 * "eptv"), irq- and nmi-injections, host-state-reload (after every VMRUN)
 * in svm.c; pf-fixed for nested faults the driver resolves (dirty logging,
 * a slot mapped meanwhile); the mmu- counters in npt.c; remote-tlb-flush in
 * vm.c; halt-wakeup when a vCPU halted in the kernel (in-kernel irqchip)
 * wakes up runnable (irqchip.c).  Two stay 0 because their event does not
 * exist here yet: invlpg (not intercepted with nested paging), lpages
 * (nested tables map 4 KiB pages only).
 */
#ifndef XKVM_STATS_H
#define XKVM_STATS_H

#include "host.h"

/* X(field, "name", "description") */
#define XK_VCPU_STATS(X)                                                       \
	X(exits, "exits", "VM exits of any kind")                              \
	X(halt_exits, "halt-exits", "exits for HLT")                           \
	X(irq_exits, "irq-exits", "exits for host interrupts")                 \
	X(irq_window_exits, "irq-window-exits", "exits to open an IRQ window") \
	X(nmi_window_exits, "nmi-window-exits", "exits to open an NMI window") \
	X(io_exits, "io-exits", "exits for port I/O")                          \
	X(mmio_exits, "mmio-exits", "exits for memory-mapped I/O")             \
	X(request_irq_exits, "request-irq-exits",                              \
	  "returns to the VMM for an IRQ window")                              \
	X(signal_exits, "signal-exits", "returns to the VMM for a signal")     \
	X(vmm_exits, "vmm-exits",                                              \
	  "returns from KVM_RUN to the VMM, any reason")                       \
	X(halt_wakeup, "halt-wakeup", "wake-ups from HLT")                     \
	X(irq_injections, "irq-injections", "interrupts injected")             \
	X(nmi_injections, "nmi-injections", "NMIs injected")                   \
	X(insn_emulation, "insn-emulation", "instructions emulated")           \
	X(insn_emulation_fail, "insn-emulation-fail",                          \
	  "instructions that could not be emulated")                           \
	X(fpu_reload, "fpu-reload", "guest FPU state loads")                   \
	X(host_state_reload, "host-state-reload", "host state reloads")        \
	X(pf_fixed, "pf-fixed", "nested page faults fixed")                    \
	X(pf_guest, "pf-guest", "page faults reflected to the guest")          \
	X(invlpg, "invlpg", "INVLPG instructions")                             \
	X(hypercalls, "hypercalls", "hypercalls")                              \
	X(npt_violations, "npt-violations",                                    \
	  "nested page faults (the original's eptv)")                          \
	X(cpuid_exits, "cpuid-exits", "exits for CPUID")                       \
	X(msr_exits, "msr-exits", "exits for RDMSR and WRMSR")                 \
	X(shutdown_exits, "shutdown-exits", "triple faults")                   \
	X(exception_exits, "exception-exits", "intercepted exceptions")

#define XK_VM_STATS(X)                                                      \
	X(remote_tlb_flush, "remote-tlb-flush", "TLB flushes of all vCPUs") \
	X(mmu_pte_write, "mmu-pte-write", "nested page table entries set")  \
	X(mmu_pte_zap, "mmu-pte-zap", "nested page table entries cleared")  \
	X(mmu_pages, "mmu-pages", "nested page table pages held")           \
	X(lpages, "lpages", "large pages mapped")

#define XK_STAT_FIELD(f, n, d) u64 f;

struct xk_vcpu_stats {
	XK_VCPU_STATS(XK_STAT_FIELD)
	u64 created_ns;
};

struct xk_vm_stats {
	XK_VM_STATS(XK_STAT_FIELD)
};

/*
 * Publishing (stats.c).  A snapshot is an array of u64, one per entry of
 * the kind's table: the counters above in list order, then for a vCPU id,
 * pid, crtime, snaptime and for a VM pid, vcpus, memory, crtime, snaptime
 * (times in host monotonic nanoseconds).
 */
enum xk_stats_kind {
	XK_STATS_VM = 0,
	XK_STATS_VCPU = 1
};

struct xk_stat_info {
	const char *name; /* the original's hyphenated name */
	const char *desc;
	u32 flags;    /* KVM_STATS_TYPE_*, _UNIT_* and _BASE_* */
	s16 exponent; /* of ten */
	bool counter; /* one of the lists above: summed in the tree's top */
};

#define XK_STATS_NAME_SIZE 48 /* Linux's KVM_STATS_NAME_SIZE */
#define XK_STATS_MAX 64       /* entries in a table, at most */

struct xk_vm;
struct xk_vcpu;
u32 xk_stats_count(enum xk_stats_kind kind);
int xk_stats_info(enum xk_stats_kind kind, u32 i, struct xk_stat_info *out);
void xk_stats_vcpu_values(struct xk_vcpu *v, u64 *out);
void xk_stats_vm_values(struct xk_vm *vm, u64 *out); /* no lock taken */
u32 xk_stats_data_offset(enum xk_stats_kind kind);
u32 xk_stats_file_size(enum xk_stats_kind kind);
void xk_stats_build(enum xk_stats_kind kind, const char *id, const u64 *vals,
		    u8 *buf);
long xk_stats_read(struct xk_vm *vm, struct xk_vcpu *v, u64 udst, u64 len,
		   u64 *pos);
/* The tree's readers: under the list of VMs' lock, never a VM's (stats.c) */
int xk_stats_lookup(const struct xk_vm *key, s64 vcpu, u64 *vals);
u64 xk_stats_sum(enum xk_stats_kind kind, u32 idx);

#endif /* XKVM_STATS_H */
