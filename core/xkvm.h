/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xkvm.h - the OS-neutral core's objects: VMs, vCPUs, memory slots, and the
 * vendor operations table that binds them to AMD SVM (or, later, Intel VMX).
 *
 * Theory.
 *
 * Objects and lifetimes.  A struct xk_vm is created by KVM_CREATE_VM and is
 * reference counted: the VM file holds one reference and every vCPU file
 * holds one.  vCPUs are created by KVM_CREATE_VCPU and live until the VM is
 * destroyed (the last reference is dropped), as in Linux; a vCPU is always
 * handled through its pointer, never an index.
 *
 * Memory.  Guest memory is pinned when a slot is created (the original
 * driver's design) and every page of the slot is mapped in the nested page
 * tables at once, so a guest access to slot memory never exits (but for the
 * first write to a page of a slot logging dirty pages, see dirty.c).  An
 * access to a guest physical address outside every slot exits with a nested
 * page fault and is emulated as MMIO.  Removing or moving a slot first unmaps
 * it, then flushes every vCPU's TLB and waits until no vCPU can still be in
 * the guest with a stale translation, and only then frees the page-table
 * pages it emptied and unpins the pages.  Slots end within 2^xk_gpa_bits()
 * (see XK_TDP_GPA_BITS); pinning (charged to the VMM's locked memory) and
 * copies to the VMM run without vm->lock; per-page loops over the nested
 * tables pause every XK_MMU_BATCH pages (vm.c).
 *
 * Locks, outermost first:
 *   vcpu->lock    (mutex) one ioctl on a vCPU at a time; held across KVM_RUN.
 *   vm->lock      (mutex) slots, vCPU list, VM-wide settings; also taken by
 *                 a vCPU thread that copies guest memory while emulating.
 *   vm->mmu_lock  (spin)  the nested page tables.
 * The fields vcpu->mode and vcpu->requests are lock-free (atomics), see
 * xk_vcpu_kick() in vcpu.c for the protocol.
 * The lock of the list of all VMs (vm.c) is global, so it stands apart:
 * none of the above is taken under it, and it is never held across
 * anything that can wait for user memory or for another VM.
 *
 * Run loop convention (Linux's): an exit handler returns 1 to re-enter the
 * guest, 0 to return to the VMM with kvm_run filled in, or a negative errno.
 */
#ifndef XKVM_CORE_H
#define XKVM_CORE_H

#include "host.h"
#include "x86.h"
#include "stats.h"
#include "emul.h"

#define XK_API_VERSION 12
#define XK_MAX_VCPUS 64     /* KVM_CAP_MAX_VCPUS */
#define XK_MAX_VCPU_ID 1024 /* KVM_CAP_MAX_VCPU_ID */
#define XK_MAX_SLOTS 509    /* KVM_CAP_NR_MEMSLOTS */
#define XK_MAX_SLOT_PAGES ((1ULL << 31) - 1)
#define XK_MAX_CPUID 256
#define XK_RUN_PAGES 2 /* kvm_run, then the PIO data page */
#define XK_PIO_OFFSET XK_PAGE_SIZE
/*
 * Guest-physical width.  Four-level nested tables reach 48 bits; a slot
 * must also end within the host's MAXPHYADDR, the guest's physical width
 * (Linux's kvm_mmu_max_gfn).  xk_gpa_bits() is the smaller of the two:
 * every slot ends at or below 2^xk_gpa_bits(), KVM_GET_SUPPORTED_CPUID
 * says so in 0x80000008, and the nested tables refuse anything beyond
 * their own reach (svm/npt.c) rather than wrap around.
 */
#define XK_TDP_GPA_BITS 48
/*
 * Pages a per-page loop over the nested tables handles in one hold of
 * vm->mmu_lock (map, unmap, write-protect, dirty-log collection); between
 * batches it drops the lock and offers to reschedule (see vm.c).
 */
#define XK_MMU_BATCH 512
#define XK_MCE_BANKS 32 /* KVM_CAP_MCE */

struct xk_vm;
struct xk_vcpu;
struct xk_ioeventfd;
struct xk_lapic;
struct xk_apic_bus;
struct xk_irqchip;
struct xk_irqfds;

/* The buses an ioeventfd listens on (Linux's kvm_bus numbering). */
enum xk_iobus {
	XK_IOBUS_MMIO = 0,
	XK_IOBUS_PIO = 1,
	XK_IOBUS_CCW = 2, /* s390's virtio-ccw notify: never written on x86 */
	XK_IOBUS_COUNT = 3
};

/*
 * An event the CPU was delivering when an exit cut it short (SVM's
 * EXITINTINFO), or one KVM_SET_VCPU_EVENTS declared "injected": the backend
 * hands it to the CPU again, as it is, at the next entry.
 */
enum xk_inj_type {
	XK_INJ_NONE = 0,
	XK_INJ_EXC, /* hardware exception */
	XK_INJ_NMI,
	XK_INJ_INTR, /* external interrupt */
	XK_INJ_SOFT  /* software interrupt (INT n) */
};

struct xk_injected {
	u8 type; /* enum xk_inj_type */
	u8 vector;
	bool has_error;
	u32 error;
};

/* One guest memory slot (KVM_SET_USER_MEMORY_REGION). */
struct xk_slot {
	u32 id;               /* (c) slot number */
	u32 flags;            /* (m) KVM_MEM_* */
	u64 base_gfn;         /* (c) first guest frame */
	u64 npages;           /* (c) */
	u64 uaddr;            /* (c) VMM address of the first page */
	struct host_pin *pin; /* (c) the pinned pages */
	/*
	 * Dirty log (dirty.c) while KVM_MEM_LOG_DIRTY_PAGES is set, else NULL:
	 * one bit per page, then as many bytes again for GET_DIRTY_LOG's
	 * snapshot.  The pointer (and the LOG flag) change only with both
	 * vm->lock and vm->mmu_lock held, so holding either keeps it alive;
	 * bits are set and taken with atomics.
	 */
	u64 *dirty;
};

/* (c) = set at creation, immutable; (m) = guarded by vm->lock;
 * (g) = guarded by the list lock of all VMs (vm.c) */

/* Vendor backend: chosen once at load, never changes. */
struct xk_vendor_ops {
	const char *name;
	/* Module-wide.  probe logs its one clear reason for refusing. */
	int (*probe)(void);
	int (*setup)(void);
	void (*unsetup)(void);
	/* On the CPU concerned, preemption disabled. */
	int (*cpu_enable)(unsigned int cpu);
	void (*cpu_disable)(unsigned int cpu);

	/* Per VM. */
	int (*vm_init)(struct xk_vm *vm);
	void (*vm_destroy)(struct xk_vm *vm);
	/* Nested paging; called with vm->mmu_lock held (must not sleep). */
	int (*map_page)(struct xk_vm *vm, u64 gpa, u64 hpa, bool writable);
	void (*unmap_range)(struct xk_vm *vm, u64 gpa, u64 npages);
	/* Mapped leaves of the range made writable or read-only (dirty log);
	 * no TLB flush: the caller does it when taking write access away. */
	void (*protect_range)(struct xk_vm *vm, u64 gpa, u64 npages,
			      bool writable);
	/* May sleep: allocates the table pages a later map_page needs. */
	int (*map_prepare)(struct xk_vm *vm, u64 gpa, u64 npages);
	/* Host address behind a gpa, from the nested tables (debugging). */
	bool (*translate)(struct xk_vm *vm, u64 gpa, u64 *hpa);
	/*
	 * Table pages that unmap_range emptied, or that map_prepare made and
	 * nothing used: prune, under mmu_lock, unlinks up to max of them
	 * and answers whether more are left to look at (the caller drops
	 * the lock and calls again); free_pruned, outside it, frees what
	 * prune unlinked, and only once no vCPU can still walk those pages
	 * (after xk_vm_flush_all).  Both with vm->lock held.  Optional.
	 */
	bool (*prune)(struct xk_vm *vm, u32 max);
	void (*free_pruned)(struct xk_vm *vm);

	/* Per vCPU. */
	int (*vcpu_init)(struct xk_vcpu *v);
	void (*vcpu_destroy)(struct xk_vcpu *v);
	void (*vcpu_reset)(struct xk_vcpu *v);
	/* Interrupts off: make the vCPU current on this CPU. */
	void (*vcpu_load)(struct xk_vcpu *v, unsigned int cpu);
	/* Interrupts off: run the guest once, until the next exit. */
	void (*vcpu_enter)(struct xk_vcpu *v);
	/* Preemptible: handle the exit (1 / 0 / -errno, as above). */
	int (*handle_exit)(struct xk_vcpu *v);

	bool (*paging_enabled)(struct xk_vcpu *v);
	void (*get_sregs)(struct xk_vcpu *v, struct kvm_sregs *s);
	int (*set_sregs)(struct xk_vcpu *v, const struct kvm_sregs *s);
	/*
	 * Whether the guest takes an external interrupt now (RFLAGS.IF, no
	 * interrupt shadow, no event being delivered), and its shadow alone.
	 */
	bool (*interrupt_allowed)(struct xk_vcpu *v);
	bool (*interrupt_shadow)(struct xk_vcpu *v);
	/* RIP after the intercepted instruction: 0, 1 (#PF queued), <0 */
	int (*next_rip)(struct xk_vcpu *v, u64 *next);
	/* MSRs whose home is the vendor's state area; -ENOENT if not one */
	int (*get_msr)(struct xk_vcpu *v, u32 msr, u64 *val);
	int (*set_msr)(struct xk_vcpu *v, u32 msr, u64 val, bool host);
	/* guest TSC = host TSC + this offset (tsc.c) */
	u64 (*get_tsc_offset)(struct xk_vcpu *v);
	void (*set_tsc_offset)(struct xk_vcpu *v, u64 offset);
	/* vCPU statistics and state, for the debugger and dumps */
	void (*dump)(struct xk_vcpu *v);
	/*
	 * KVM_GET/SET_VCPU_EVENTS (core/events.c): the event an exit cut
	 * short, which the backend delivers again at the next entry, and the
	 * interrupt shadow.  vcpu->lock held, outside the guest.
	 */
	void (*get_injected)(struct xk_vcpu *v, struct xk_injected *e);
	void (*set_injected)(struct xk_vcpu *v, const struct xk_injected *e);
	void (*set_interrupt_shadow)(struct xk_vcpu *v, bool shadow);
	/*
	 * KVM_GET/SET_DEBUGREGS: the guest's DR6 and DR7 (DR0-3 are
	 * vcpu->dr).  vcpu->lock held, outside the guest.
	 */
	void (*get_dr67)(struct xk_vcpu *v, u64 *dr6, u64 *dr7);
	void (*set_dr67)(struct xk_vcpu *v, u64 dr6, u64 dr7);
};

extern const struct xk_vendor_ops *xk_ops;
extern const struct xk_vendor_ops xk_svm_ops;
extern const struct xk_vendor_ops xk_vmx_ops;

/* An exception the core wants delivered to the guest at the next entry. */
struct xk_event {
	bool pending;
	u8 vector;
	bool has_error;
	u32 error;
	u64 cr2; /* for #PF: the faulting linear address */
};

/* A port or MMIO access waiting for the VMM (completed by the next run). */
struct xk_pio {
	bool pending; /* the VMM owes us the data of an IN */
	bool in;
	bool string;
	bool rep;
	u8 size;      /* bytes per element */
	u8 addr_size; /* 2, 4 or 8 */
	u16 port;
	u32 count;    /* elements in this exit */
	u64 next_rip; /* where the guest goes once the access is done */
	u64 rip;      /* RIP at the exit; completion is dropped if moved */
};

/*
 * An instruction that touches MMIO, being emulated (core/emul.c): it is
 * re-run from the same bytes after each answer from the VMM, its reads
 * served from the cache, until it completes.
 */
struct xk_mmio {
	bool active;       /* an instruction is in progress */
	bool pending_read; /* its read at (la, len) waits for the VMM */
	u8 n;              /* bytes fetched at rip */
	u8 bytes[XK_INSN_MAX];
	u64 rip;           /* where the instruction starts */
	u64 fault_gpa;     /* the nested fault's address: saves a walk */
	bool fault_gpa_ok; /* ... if the instruction has one memory operand */
	u64 la;            /* the pending read */
	u32 len;
	struct xk_emul_cache cache;
	/* the pieces of a write after the one that exited: one exit each at
	 * the next KVM_RUNs, in order (as Linux's MMIO fragments) */
	u8 nwfrag, wfrag_next;
	struct {
		u64 gpa;
		u8 len;
		u8 data[8];
	} wfrag[2];
};

enum xk_vcpu_mode {
	XK_OUTSIDE_GUEST = 0,
	XK_IN_GUEST = 1
};

/* vcpu->requests bits */
#define XK_REQ_TLB_FLUSH 0
#define XK_REQ_KICK 1

struct xk_vcpu {
	struct xk_vm *vm;        /* (c) */
	u32 id;                  /* (c) vCPU id (the APIC id) */
	struct host_mutex *lock; /* (c) serialises this vCPU's ioctls */

	/* Guest register state: (l) owned by the holder of vcpu->lock. */
	u64 gpr[XK_NR_GPRS]; /* RSP too; the backend syncs it */
	u64 rip;
	u64 rflags;
	u64 apic_base;
	u64 cr8;
	u64 dr[4];    /* (l) DR0-3; in the CPU only while the guest runs */
	bool skipped; /* RIP moved by emulation: no int shadow */
	bool has_run; /* KVM_RUN entered the guest once */

	/* Memory type ranges: kept and checked; nested paging leaves the
	 * memory type to the guest's PAT, so they are not applied.  (l) */
	u64 mtrr_def_type;
	u64 mtrr_fixed[11];
	u64 mtrr_var[2 * XK_MTRR_NVAR];
	/* Machine-check architecture (mce.c), (l) */
	u64 mcg_cap;
	u64 mcg_ctl;
	u64 mcg_status;
	u64 mce_banks[4 * XK_MCE_BANKS]; /* CTL, STATUS, ADDR, MISC each */
	bool shutdown_pending; /* a triple fault the driver decided on */

	/*
	 * Events from a user-space interrupt controller, (l): an external
	 * interrupt queued by KVM_INTERRUPT and not yet handed to the CPU, and
	 * NMIs from KVM_NMI.  nmi_masked: an NMI was delivered and the guest
	 * has not returned from its handler yet (IRET).
	 */
	bool irq_pending;
	u8 irq_vector;
	u8 nmi_pending; /* NMIs to deliver: at most 2, see vcpu_nmi() */
	bool nmi_masked;

	struct kvm_run *run; /* (c) shared with the VMM via mmap */
	void *pio_data;      /* (c) the page after kvm_run */

	struct xk_event exception; /* (l) to inject at next entry */
	struct xk_pio pio;         /* (l) */
	struct xk_mmio mmio;       /* (l) */

	/* CPUID table from KVM_SET_CPUID2: (l) */
	struct kvm_cpuid_entry2 *cpuid;
	u32 ncpuid;

	/* Guest FPU/SSE/AVX state, XSAVE format, 64-byte aligned. (l) */
	void *fpu;
	u64 xcr0;
	/*
	 * CPU state of the guest kept out of the XSAVE image and switched
	 * around the guest (vcpu.c, svm.c): PKRU, IA32_XSS, IA32_SPEC_CTRL,
	 * VIRT_SPEC_CTRL, and an IBPB the guest asked for (PRED_CMD) that
	 * the next entry performs.  (l)
	 */
	u32 pkru;
	u32 host_pkru; /* the VMM thread's, while the guest's is loaded */
	u64 xss;
	u64 spec_ctrl;
	u64 virt_spec_ctrl;
	bool ibpb_pending;

	int mode;               /* atomic: enum xk_vcpu_mode */
	unsigned long exit_seq; /* atomic: +1 at every exit, see vcpu.c */
	unsigned long requests; /* atomic: XK_REQ_* bits */
	int cpu;                /* (a) CPU it last ran on, -1 never */
	int pid;                /* (l) pid of the last KVM_RUN caller */

	struct xk_vcpu_stats stats; /* (l) written only by the vCPU thread */

	/* in-kernel local APIC (lapic.h), NULL without an irqchip: (c) */
	struct xk_lapic *apic;
	/* with it (irqchip.c): where a halted vCPU sleeps (c), its
	 * KVM_MP_STATE_* (l), and a wish for the interrupt window (l) */
	struct host_wait *wait;
	u32 mp_state;
	bool irq_window;

	void *vendor;         /* (c) the backend's per-vCPU state */
	struct xk_vcpu *next; /* (m) list of the VM's vCPUs */
};

struct xk_vm {
	int refs;                   /* atomic */
	struct host_mutex *lock;    /* (c) see theory */
	struct host_spin *mmu_lock; /* (c) */
	int pid;                    /* (c) creator */
	u64 created_ns;             /* (c) */
	struct xk_vm *next_vm;      /* (g) the list of all VMs (vm.c) */

	struct xk_slot *slots[XK_MAX_SLOTS]; /* (m) by slot id */
	u32 nslots;                          /* (m) */
	u64 npages;                          /* (m) guest pages in all slots */

	/* vcpus: a vCPU joins at the head with a release store and leaves
	 * only when the VM is destroyed, so the statistics walk it without
	 * vm->lock (stats.c) */
	struct xk_vcpu *vcpus; /* (m) list, newest first */
	u32 nvcpus;            /* (m) */
	u64 tss_addr;          /* (m) KVM_SET_TSS_ADDR */
	s64 clock_offset;      /* (m) KVM_SET_CLOCK: VM clock - host ns */
	/* the VMM's last write of a guest TSC (tsc.c): (t) = tsc_lock */
	struct host_spin *tsc_lock; /* (c) */
	struct xk_tsc_write {
		bool valid;
		u64 ns;     /* host ns of the write */
		u64 value;  /* the TSC written */
		u64 offset; /* the offset it got */
	} tsc_last;         /* (t) */

	/* KVM_IOEVENTFD registrations (ioeventfd.c): (e) = ioev_lock */
	struct host_spin *ioev_lock; /* (c) */
	struct xk_ioeventfd *ioevs;  /* (e) list, newest first */
	u32 nioevs[XK_IOBUS_COUNT];  /* (e) per bus */

	/* the local APICs' bus (lapic.h), NULL without an irqchip: (m) */
	struct xk_apic_bus *apic_bus;
	/* KVM_CREATE_IRQCHIP (irqchip.h): written once, (m), read atomically */
	struct xk_irqchip *irqchip;
	/* KVM_IRQFD (irqfd.h): made at the first, (m), read atomically */
	struct xk_irqfds *irqfds;

	struct xk_vm_stats stats; /* (m) */
	void *vendor;             /* (c) the backend's per-VM state */
	void *host;               /* (c) the host glue's per-VM data */
	void (*host_free)(struct xk_vm *vm); /* (c) frees it, at the end */
};

/* ---- module ---- */
int xk_core_init(void);    /* probe the CPU, set up the backend */
int xk_refuse_no_hw(void); /* logs why this CPU cannot run us: -ENODEV */
void xk_core_exit(void);
int xk_cpu_online(unsigned int cpu);   /* on that CPU */
void xk_cpu_offline(unsigned int cpu); /* on that CPU */

/* ---- VMs (vm.c) ---- */
int xk_vm_list_init(void); /* the list of all VMs: host glue, at load */
void xk_vm_list_fini(void);
/* fn(vm) for every live VM, under the list's lock: fn reads without locks,
 * never takes vm->lock nor sleeps (see vm.c) */
void xk_vm_for_each(void (*fn)(struct xk_vm *vm, void *arg), void *arg);
int xk_vm_create(unsigned long type, struct xk_vm **out);
void xk_vm_get(struct xk_vm *vm);
void xk_vm_put(struct xk_vm *vm);
int xk_vm_set_memory(struct xk_vm *vm,
		     const struct kvm_userspace_memory_region *r);
struct xk_slot *xk_vm_find_slot(struct xk_vm *vm, u64 gfn);
bool xk_vm_gpa_is_ram(struct xk_vm *vm, u64 gpa, bool write);
u8 xk_gpa_bits(void); /* slots end at or below 2^xk_gpa_bits() */
/* Write access of a range's mapped pages, XK_MMU_BATCH pages a lock hold;
 * vm->lock held, mmu_lock not */
void xk_mmu_protect(struct xk_vm *vm, u64 gpa, u64 npages, bool writable);
int xk_gpa_read(struct xk_vm *vm, u64 gpa, void *buf, u32 len);
int xk_gpa_write(struct xk_vm *vm, u64 gpa, const void *buf, u32 len);
void xk_vm_flush_all(struct xk_vm *vm);

/* ---- ioeventfds (ioeventfd.c) and the VM clock (clock.c) ---- */
int xk_ioeventfd(struct xk_vm *vm, const struct kvm_ioeventfd *args);
bool xk_ioeventfd_write(struct xk_vm *vm, enum xk_iobus bus, u64 addr, u32 len,
			const void *data);
bool xk_ioeventfd_would_take(struct xk_vm *vm, enum xk_iobus bus, u64 addr,
			     u32 len, const void *data);
void xk_ioeventfd_free_all(struct xk_vm *vm);
int xk_vm_get_clock(struct xk_vm *vm, struct kvm_clock_data *d);
int xk_vm_set_clock(struct xk_vm *vm, const struct kvm_clock_data *d);

/* ---- dirty page logging (dirty.c) ---- */
u64 xk_dirty_bytes(u64 npages); /* one log's size: a bit per page, u64s */
int xk_dirty_alloc(struct xk_slot *s);
void xk_dirty_free(struct xk_slot *s);
void xk_dirty_mark(struct xk_slot *s, u64 gfn); /* vm->lock or mmu_lock */
int xk_dirty_set_log(struct xk_vm *vm, struct xk_slot *s, bool on);
bool xk_dirty_fault(struct xk_vcpu *v, u64 gpa); /* a write NPF: handled? */
long xk_vm_get_dirty_log(struct xk_vm *vm, const struct kvm_dirty_log *log);

/* ---- vCPUs (vcpu.c) ---- */
int xk_vcpu_create(struct xk_vm *vm, u32 id, struct xk_vcpu **out);
void xk_vcpu_free(struct xk_vcpu *v);
int xk_vcpu_run(struct xk_vcpu *v);
void xk_vcpu_kick(struct xk_vcpu *v, int req);
void xk_vcpu_init_reset(struct xk_vcpu *v); /* INIT: keeps TSC, APIC base */
void *xk_vcpu_mmap_page(struct xk_vcpu *v, u64 pgoff);

/* services the backends call while handling exits (emulate.c) */
int xk_handle_pio(struct xk_vcpu *v, u16 port, u8 size, bool in, bool string,
		  bool rep, u8 addr_size, u64 next_rip);
int xk_handle_mmio(struct xk_vcpu *v, u64 gpa, bool write_fault);
int xk_handle_cpuid(struct xk_vcpu *v);
int xk_handle_rdmsr(struct xk_vcpu *v);
int xk_handle_wrmsr(struct xk_vcpu *v);
int xk_handle_hlt(struct xk_vcpu *v);
bool xk_ready_for_interrupt(struct xk_vcpu *v);
int xk_internal_error(struct xk_vcpu *v, u32 suberror, u64 code, u64 info1,
		      u64 info2);
int xk_emulation_failed(struct xk_vcpu *v);
int xk_next_rip(struct xk_vcpu *v, u64 *next); /* decode at CS:RIP */
int xk_pio_string_complete(struct xk_vcpu *v);
int xk_mmio_complete(struct xk_vcpu *v);
int xk_mmio_next_write(struct xk_vcpu *v);
void xk_fpu_setup(void);
void xk_fpu_setup_mxcsr(void);
u32 xk_fpu_size(void);
bool xk_xcr0_valid(u64 val);
void xk_fpu_reset(struct xk_vcpu *v);
bool xk_apic_base_valid(u64 val);
int xk_get_fpu(struct xk_vcpu *v, struct kvm_fpu *f);
int xk_set_fpu(struct xk_vcpu *v, const struct kvm_fpu *f);
int xk_get_xsave(struct xk_vcpu *v, struct kvm_xsave *x);
int xk_set_xsave(struct xk_vcpu *v, const struct kvm_xsave *x);
int xk_get_xcrs(struct xk_vcpu *v, struct kvm_xcrs *x);
int xk_set_xcrs(struct xk_vcpu *v, const struct kvm_xcrs *x);
u64 xk_host_xcr0(void);
/*
 * The guest's XCR0, IA32_XSS and PKRU into the CPU and the host's back
 * (vcpu.c): called by the backend with interrupts and GIF off, right
 * around the guest.
 */
void xk_guest_xstate_enter(struct xk_vcpu *v);
void xk_guest_xstate_exit(struct xk_vcpu *v);
bool xk_host_has_pku(void); /* the host set CR4.PKE: PKRU is switched */
u64 xk_host_xss(void);      /* the host's IA32_XSS (0 without XSAVES) */
/* The host's mitigations (host_mitigations()), read at load (core.c). */
extern struct host_mitigations xk_mitigations;
void xk_skip_to(struct xk_vcpu *v, u64 next_rip);
void xk_queue_exception(struct xk_vcpu *v, u8 vector, bool has_error,
			u32 error);
int xk_msr_get(struct xk_vcpu *v, u32 msr, u64 *val, bool host);
int xk_msr_set(struct xk_vcpu *v, u32 msr, u64 val, bool host);
bool xk_efer_valid(struct xk_vcpu *v, u64 val); /* as a guest may set it */
/* A VMM's write of the guest TSC: synchronized with the last (tsc.c). */
int xk_tsc_set_host(struct xk_vcpu *v, u64 val);
bool xk_guest_cpuid_has(struct xk_vcpu *v, u32 leaf, int reg, u32 bit);
bool xk_guest_is_intel(struct xk_vcpu *v);
int xk_cap_value(long cap);
u8 xk_host_maxphyaddr(void);
u64 xk_mce_cap_supported(void);
int xk_mce_setup(struct xk_vcpu *v, u64 mcg_cap);
int xk_mce_inject(struct xk_vcpu *v, const struct kvm_x86_mce *m);
int xk_mce_get_msr(struct xk_vcpu *v, u32 msr, u64 *val);
int xk_mce_set_msr(struct xk_vcpu *v, u32 msr, u64 val, bool host);
void xk_cpuid_table_free(struct xk_vcpu *v);
int xk_supported_cpuid(struct kvm_cpuid_entry2 *entries, u32 max, u32 *n);
u64 xk_supported_xcr0(void);
int xk_get_vcpu_events(struct xk_vcpu *v, struct kvm_vcpu_events *e);
int xk_set_vcpu_events(struct xk_vcpu *v, const struct kvm_vcpu_events *e);

/* ---- ioctls (ioctl.c): the host glue creates the file descriptors ---- */
long xk_dev_ioctl(unsigned int cmd, u64 arg);
long xk_vm_ioctl(struct xk_vm *vm, unsigned int cmd, u64 arg);
long xk_vcpu_ioctl(struct xk_vcpu *v, unsigned int cmd, u64 arg);

#endif /* XKVM_CORE_H */
