/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lapic.h - the in-kernel local APIC model (lapic.c): one per vCPU, and the
 * VM's "APIC bus" that carries IPIs, MSIs and (later) IOAPIC messages to
 * them.  OS-neutral: written from the Intel SDM vol. 3A ch. 10/11 and the
 * AMD APM vol. 2 ch. 16, with the guest-visible choices Linux's in-kernel
 * APIC makes where the ABI (KVM_GET/SET_LAPIC) or a guest can see them.
 *
 * Integration (what the run loop, svm.c and the ioctls will do; nothing here
 * is wired in yet):
 *  - KVM_CREATE_IRQCHIP: xk_apic_bus_create() into vm->apic_bus, with the
 *    IOAPIC's EOI callback; every vCPU then gets xk_lapic_create() into
 *    vcpu->apic (with vm->lock held: it registers on the bus), kick = a
 *    function calling xk_vcpu_kick(v, XK_REQ_KICK).
 *  - CPUID set: xk_lapic_set_features(x2APIC, TSC-deadline bits).  TSC
 *    offset or frequency changed: xk_lapic_set_tsc().
 *  - MSRs: IA32_APICBASE -> xk_lapic_get_base/set_base; 0x800-0x8ff ->
 *    xk_lapic_msr_read/write (-EINVAL = #GP); IA32_TSC_DEADLINE (0x6e0) ->
 *    xk_lapic_get/set_tsc_deadline.  A nested fault in
 *    xk_lapic_mmio_decodes() -> xk_lapic_mmio_read/write.  CR8 <->
 *    xk_lapic_get/set_cr8 (SVM's V_TPR).
 *  - Before each entry: xk_lapic_take_events() (NMI, INIT, SIPI), then, if
 *    the guest takes interrupts, xk_lapic_extint_pending() (ask the PIC for
 *    the vector) or xk_lapic_ack() (the vector to inject).  A kick arrives
 *    whenever one of these may have changed.
 *  - KVM_GET/SET_LAPIC: xk_lapic_get_state/set_state.  INIT and RESET:
 *    xk_lapic_reset().  KVM_SIGNAL_MSI / MSI routes: xk_apic_msi_decode()
 *    then xk_apic_deliver().  The PIC's INTR line: xk_lapic_lint(bsp, 0, l).
 *
 * Contexts.  Functions marked (o) are for the thread that owns the vCPU
 * (vcpu->lock held), in thread context with interrupts enabled.
 * xk_apic_deliver(), xk_lapic_set_irq() and xk_lapic_lint() may be called
 * from any context, interrupt handlers (device timers) included: they only
 * use atomics and never sleep.  See lapic.c for the locking.
 */
#ifndef XKVM_LAPIC_H
#define XKVM_LAPIC_H

#include "xkvm.h"

/* Register offsets in the 4 KiB page (x2APIC MSR = 0x800 + offset / 16). */
#define XK_APIC_ID 0x20
#define XK_APIC_VER 0x30
#define XK_APIC_TPR 0x80
#define XK_APIC_APR 0x90
#define XK_APIC_PPR 0xa0
#define XK_APIC_EOI 0xb0
#define XK_APIC_RRD 0xc0
#define XK_APIC_LDR 0xd0
#define XK_APIC_DFR 0xe0
#define XK_APIC_SVR 0xf0
#define XK_APIC_ISR 0x100 /* 8 registers, 16 bytes apart */
#define XK_APIC_TMR 0x180
#define XK_APIC_IRR 0x200
#define XK_APIC_ESR 0x280
#define XK_APIC_LVT_CMCI 0x2f0
#define XK_APIC_ICR 0x300
#define XK_APIC_ICR2 0x310
#define XK_APIC_LVTT 0x320
#define XK_APIC_LVT_THERMAL 0x330
#define XK_APIC_LVT_PMC 0x340
#define XK_APIC_LVT_LINT0 0x350
#define XK_APIC_LVT_LINT1 0x360
#define XK_APIC_LVT_ERROR 0x370
#define XK_APIC_TMICT 0x380
#define XK_APIC_TMCCT 0x390
#define XK_APIC_TDCR 0x3e0
#define XK_APIC_SELF_IPI 0x3f0 /* x2APIC only */

#define XK_MSR_X2APIC_FIRST 0x800
#define XK_MSR_X2APIC_LAST 0x8ff
#define XK_MSR_TSC_DEADLINE 0x6e0
#define XK_APICBASE_EXTD XK_BIT(10) /* x2APIC mode */

/* Version register: version 0x14, 6 LVT entries, as Linux reports it
 * without CMCI and without directed EOI (in-kernel IOAPIC). */
#define XK_APIC_VERSION 0x00050014u

/* LVT and ICR fields */
#define XK_APIC_VECTOR 0xffu
#define XK_APIC_DM_SHIFT 8
#define XK_APIC_DM_MASK 0x700u
#define XK_APIC_ICR_LOGICAL XK_BIT(11)
#define XK_APIC_DELIVERY_STATUS XK_BIT(12)
#define XK_APIC_POLARITY XK_BIT(13)
#define XK_APIC_REMOTE_IRR XK_BIT(14)
#define XK_APIC_ICR_ASSERT XK_BIT(14)
#define XK_APIC_LEVEL XK_BIT(15)
#define XK_APIC_MASKED XK_BIT(16)
#define XK_APIC_TIMER_MODE_MASK (3u << 17)
#define XK_APIC_TIMER_ONESHOT (0u << 17)
#define XK_APIC_TIMER_PERIODIC (1u << 17)
#define XK_APIC_TIMER_TSCDEADLINE (2u << 17)
#define XK_APIC_SH_SHIFT 18
#define XK_APIC_SVR_ENABLE XK_BIT(8)
#define XK_APIC_SVR_FOCUS_OFF XK_BIT(9)

/* ESR bits the model reports */
#define XK_APIC_ESR_SEND_ILLEGAL XK_BIT(5)
#define XK_APIC_ESR_RECV_ILLEGAL XK_BIT(6)

/* Delivery modes (ICR, LVT, MSI data, IOAPIC redirection entries) */
enum xk_apic_dm {
	XK_APIC_DM_FIXED = 0,
	XK_APIC_DM_LOWEST = 1,
	XK_APIC_DM_SMI = 2,
	XK_APIC_DM_NMI = 4,
	XK_APIC_DM_INIT = 5,
	XK_APIC_DM_SIPI = 6,
	XK_APIC_DM_EXTINT = 7
};

/* Destination shorthands (ICR bits 19:18) */
enum xk_apic_shorthand {
	XK_APIC_SH_NONE = 0,
	XK_APIC_SH_SELF = 1,
	XK_APIC_SH_ALL = 2,
	XK_APIC_SH_OTHERS = 3
};

/* Minimum period of the periodic timer (Linux's min_timer_period_us). */
#define XK_APIC_MIN_PERIOD_NS 200000ULL

struct xk_lapic;
struct xk_apic_bus;

/*
 * One interrupt message on the APIC bus: an IPI (ICR), an MSI, or an
 * IOAPIC redirection.  The single way into another APIC: xk_apic_deliver().
 */
struct xk_apic_irq {
	u32 dest;         /* destination ID / logical destination */
	u8 vector;        /* fixed, lowest priority; SIPI: start-up page */
	u8 delivery_mode; /* enum xk_apic_dm */
	u8 shorthand;     /* enum xk_apic_shorthand (IPIs only) */
	bool logical;     /* destination mode logical, else physical */
	bool level;       /* trigger mode: level (sets TMR), else edge */
	bool assert;      /* level signal: 1 assert, 0 de-assert (INIT) */
	bool x2apic_dest; /* dest is 32 bits (x2APIC), broadcast 0xffffffff;
			   * else 8 bits, broadcast 0xff */
	bool redir_hint;  /* MSI RH: lowest priority among the destinations */
	struct xk_lapic *src; /* the sender (shorthands), NULL: MSI, IOAPIC */
};

/* Events for the integration, taken (and cleared) by xk_lapic_take_events */
struct xk_lapic_events {
	u8 nmis;        /* NMIs received (at most 2 kept, as KVM_NMI) */
	bool init;      /* an INIT was received */
	bool sipi;      /* a start-up IPI was received ... */
	u8 sipi_vector; /* ... with this vector (the last one) */
};

/* ---- the bus (one per VM) ---- */
int xk_apic_bus_create(void (*eoi)(void *arg, u8 vector), void *eoi_arg,
		       struct xk_apic_bus **out);
/*
 * Before any APIC: the EOI of an edge-triggered vector (TMR clear) calls
 * eoi_edge(eoi_arg, vector), from the vCPU thread, no APIC lock held.
 */
void xk_apic_bus_set_edge_eoi(struct xk_apic_bus *bus,
			      void (*eoi_edge)(void *arg, u8 vector));
void xk_apic_bus_destroy(struct xk_apic_bus *bus); /* APICs gone first */
/* KVM_CAP_X2APIC_API: 32-bit IDs in the LAPIC state and MSI address_hi */
void xk_apic_bus_set_x2apic_api(struct xk_apic_bus *bus, bool on);
/* Deliver irq; returns how many APICs took it (0: nobody matched). */
int xk_apic_bus_deliver(struct xk_apic_bus *bus, const struct xk_apic_irq *i);
int xk_apic_deliver(struct xk_vm *vm, const struct xk_apic_irq *irq);
/* An MSI message into an irq; -EINVAL if the address is not 0xfeexxxxx. */
int xk_apic_msi_decode(struct xk_apic_bus *bus, u64 addr, u32 data,
		       struct xk_apic_irq *out);

/* ---- one APIC per vCPU ---- */
int xk_lapic_create(struct xk_apic_bus *bus, u32 vcpu_id, bool bsp,
		    void (*kick)(void *arg), void *kick_arg,
		    struct xk_lapic **out); /* may sleep; registers on bus */
void xk_lapic_destroy(struct xk_lapic *a);  /* may sleep; no delivery may run */
void xk_lapic_reset(struct xk_lapic *a, bool init, bool bsp); /* (o) */
void xk_lapic_set_features(struct xk_lapic *a, bool x2apic,
			   bool tscdl); /* (o) */
void xk_lapic_set_tsc(struct xk_lapic *a, u32 tsc_khz,
		      s64 tsc_offset); /* (o) */

/* registers (o); 0, or -EINVAL: #GP for the MSR forms */
bool xk_lapic_mmio_decodes(struct xk_lapic *a, u64 gpa);
int xk_lapic_mmio_read(struct xk_lapic *a, u32 offset, void *data, u32 len);
int xk_lapic_mmio_write(struct xk_lapic *a, u32 offset, const void *data,
			u32 len);
int xk_lapic_msr_read(struct xk_lapic *a, u32 msr, u64 *val);
int xk_lapic_msr_write(struct xk_lapic *a, u32 msr, u64 val);
u64 xk_lapic_get_base(struct xk_lapic *a);
int xk_lapic_set_base(struct xk_lapic *a, u64 val, bool host);
u64 xk_lapic_get_tsc_deadline(struct xk_lapic *a);
void xk_lapic_set_tsc_deadline(struct xk_lapic *a, u64 tsc);
u64 xk_lapic_get_cr8(struct xk_lapic *a);
void xk_lapic_set_cr8(struct xk_lapic *a, u64 cr8);
bool xk_lapic_x2apic_mode(struct xk_lapic *a);
bool xk_lapic_hw_enabled(struct xk_lapic *a);

/* interrupts */
int xk_lapic_set_irq(struct xk_lapic *a, u8 vector, bool level); /* any */
int xk_lapic_lint(struct xk_lapic *a, int pin, bool level);      /* any */
int xk_lapic_pending(struct xk_lapic *a); /* (o) vector to take, or -1 */
int xk_lapic_ack(struct xk_lapic *a);     /* (o) IRR -> ISR: vector, -1 */
void xk_lapic_eoi(struct xk_lapic *a);    /* (o) as a write to EOI */
void xk_lapic_take_events(struct xk_lapic *a, struct xk_lapic_events *ev);
bool xk_lapic_has_events(struct xk_lapic *a); /* any: would take find some? */
bool xk_lapic_accepts_pic(struct xk_lapic *a);
bool xk_lapic_extint_pending(struct xk_lapic *a);

/* KVM_GET_LAPIC / KVM_SET_LAPIC (o) */
void xk_lapic_get_state(struct xk_lapic *a, struct kvm_lapic_state *s);
int xk_lapic_set_state(struct xk_lapic *a, const struct kvm_lapic_state *s);

#endif /* XKVM_LAPIC_H */
