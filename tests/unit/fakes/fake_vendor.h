/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fake_vendor.h - a vendor backend (struct xk_vendor_ops) for user space,
 * so the core's VM, slot, run-loop and emulation code runs in unit tests
 * and fuzzers.  The theory is at the top of fake_vendor.c.
 *
 * Use: fake_install() once (sets xk_ops, sets up the FPU code), then the
 * core's own API or ioctls.  A vCPU runs the script given to
 * fake_set_script(): one step per guest entry.
 */
#ifndef XKVM_FAKE_VENDOR_H
#define XKVM_FAKE_VENDOR_H

#include "xkvm.h"

extern const struct xk_vendor_ops fake_ops;

/* xk_fpu_setup() once and xk_ops = &fake_ops; idempotent. */
void fake_install(void);

/* ---- the exit script ---- */

enum fake_kind {
	FAKE_END = 0,   /* end of the script: exit KVM_EXIT_UNKNOWN */
	FAKE_IO,        /* IOIO intercept -> xk_handle_pio() */
	FAKE_CPUID,     /* -> xk_handle_cpuid() */
	FAKE_RDMSR,     /* -> xk_handle_rdmsr() */
	FAKE_WRMSR,     /* -> xk_handle_wrmsr() */
	FAKE_HLT,       /* -> xk_handle_hlt() */
	FAKE_NPF,       /* nested page fault -> xk_handle_mmio() */
	FAKE_INTR,      /* a host interrupt: back into the guest */
	FAKE_WAIT_KICK, /* in the guest until kicked (then the guest callback
			 * runs), then as FAKE_INTR */
	FAKE_CALL,      /* the step's handler decides (1 / 0 / -errno) */
	FAKE_IRET,      /* the guest's IRET ends its NMI handler: back in */
};

/* fake_step.io */
#define FAKE_IO_IN 0x1u
#define FAKE_IO_STR 0x2u
#define FAKE_IO_REP 0x4u

/* run->hw.hardware_exit_reason of the exit at the end of a script */
#define FAKE_HW_END 0xfa4e0e0dULL

struct fake_step {
	enum fake_kind kind;
	u16 port;     /* FAKE_IO */
	u8 size;      /* FAKE_IO: 1, 2 or 4 */
	u8 io;        /* FAKE_IO: FAKE_IO_* */
	u8 addr_size; /* FAKE_IO: as the exit reports it (0: 8) */
	bool repeat;  /* taken again while RIP stays where it was (REP) */
	u64 rip;      /* if set: the guest ran to this RIP before exiting */
	u64 nrip;     /* next RIP as NRIP-save reports it; 0: decode */
	u64 gpa;      /* FAKE_NPF */
	bool write;   /* FAKE_NPF: a write fault */
	/* runs "in the guest" before the exit, interrupts off: may change
	 * registers or guest memory, must not sleep */
	void (*guest)(struct xk_vcpu *v, void *arg);
	/* FAKE_CALL: handles the exit, preemptible */
	int (*handler)(struct xk_vcpu *v, void *arg);
	void *arg;
};

/* An event the core asked the backend to inject, by kind. */
#define FAKE_EV_EXC 0  /* an exception (v->exception) */
#define FAKE_EV_NMI 1  /* an NMI (v->nmi_pending) */
#define FAKE_EV_INTR 2 /* an external interrupt (v->irq_pending) */
#define FAKE_EV_INJ 3  /* the backend's event in flight (set_injected) */

struct fake_event {
	u8 type;     /* FAKE_EV_* */
	u8 inj_type; /* FAKE_EV_INJ: enum xk_inj_type */
	u8 vector;
	bool has_error;
	u32 error;
	u64 cr2;
	u64 rip; /* guest RIP when it was delivered */
};

#define FAKE_MAX_EVENTS 16

/* The script runs from its first step; steps are copied. */
int fake_set_script(struct xk_vcpu *v, const struct fake_step *steps,
		    unsigned int n);
/* Steps taken (a repeat counts each time), entries, the step in use. */
unsigned int fake_steps_taken(struct xk_vcpu *v);
unsigned int fake_entries(struct xk_vcpu *v);
/* Taking a repeat step more than this in a row moves on (default 1000). */
void fake_set_repeat_cap(struct xk_vcpu *v, unsigned int cap);
/* Is the vCPU waiting in a FAKE_WAIT_KICK step (in the guest)? */
bool fake_in_wait(struct xk_vcpu *v);

/* Events delivered at entries so far (oldest first), up to the max. */
unsigned int fake_events(struct xk_vcpu *v, struct fake_event *out,
			 unsigned int max);
/* TLB flush requests consumed at entries, kicks seen by FAKE_WAIT_KICK. */
unsigned int fake_tlb_flushes(struct xk_vcpu *v);

/* The event in flight (as an exit would leave it) and the shadow. */
void fake_set_injected_raw(struct xk_vcpu *v, const struct xk_injected *e);
bool fake_shadow(struct xk_vcpu *v);

/* The backend's view of the registers it owns (segments, CRs, EFER). */
struct kvm_sregs *fake_sregs(struct xk_vcpu *v);

/* ---- the nested page tables, as the fake keeps them ---- */

/* 0 and *hpa, *writable if gpa's page is mapped; -ENOENT if not. */
int fake_map_lookup(struct xk_vm *vm, u64 gpa, u64 *hpa, bool *writable);
u64 fake_map_count(struct xk_vm *vm); /* pages mapped */
/* The n-th map_page from now fails with -ENOMEM (0: never). */
void fake_fail_map_page(struct xk_vm *vm, unsigned int n);
/* map_prepare refuses more pages than this at once (-ENOMEM). */
#define FAKE_MAX_PREPARE (1ULL << 20)
/* host_zalloc'ed objects the fake holds for this VM's tables. */
s64 fake_map_objects(struct xk_vm *vm);
/* Calls counted since the VM was created. */
struct fake_vm_calls {
	unsigned int vm_destroy, map_prepare, map_page, unmap_range;
	unsigned int protect_range;
};
struct fake_vm_calls fake_vm_calls(struct xk_vm *vm);
/* vm_destroy calls over all VMs since the program started. */
unsigned long fake_vm_destroyed(void);

/*
 * The first inconsistency the fake saw in how the core drives it (a page
 * mapped twice, map_page without map_prepare, entering the guest without
 * the vCPU lock...), or NULL.  fake_clear_error() forgets it.
 */
const char *fake_error(void);
void fake_clear_error(void);

#endif /* XKVM_FAKE_VENDOR_H */
