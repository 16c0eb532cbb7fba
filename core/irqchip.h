/* SPDX-License-Identifier: GPL-2.0 */
/*
 * irqchip.h - the in-kernel irqchip of a VM (irqchip.c): the glue that
 * wires the device models (pic.c, ioapic.c, irq.c, pit.c, lapic.c) to each
 * other, to the ioctls, to the exit handlers and to the run loop.
 *
 * One struct xk_irqchip per VM, created by KVM_CREATE_IRQCHIP and freed
 * with the VM.  vm->irqchip and vm->apic_bus are written once, under
 * vm->lock, before any vCPU exists, and read locklessly afterwards.
 */
#ifndef XKVM_IRQCHIP_H
#define XKVM_IRQCHIP_H

#include "xkvm.h"

struct xk_pic;
struct xk_pit;
struct xk_ioapic;
struct xk_irq_router;

struct xk_irqchip {
	struct xk_vm *vm;             /* (c) */
	struct xk_pic *pic;           /* (c) */
	struct xk_ioapic *ioapic;     /* (c) */
	struct xk_irq_router *router; /* (c) */
	struct xk_pit *pit;           /* (m) once, KVM_CREATE_PIT2; atomic */
	struct xk_vcpu *bsp;          /* (m) vCPU 0, the PIC's INTR; atomic */
	/* atomic: PIC pins whose in-service bit an EOI or auto-EOI cleared,
	 * and PIC pins OCW1 unmasked, not yet reported (irqchip.c) */
	u32 pic_acked;
	u32 pic_unmasked;
};

/* VM ioctls (vm->lock taken inside as needed) */
int xk_irqchip_create(struct xk_vm *vm);
int xk_irqchip_stop(struct xk_vm *vm);     /* VM death, before the vCPUs */
void xk_irqchip_destroy(struct xk_vm *vm); /* VM death, after the vCPUs */
int xk_irqchip_irq_line(struct xk_vm *vm, u32 irq, u32 level, s32 *status);
int xk_irqchip_set_routing(struct xk_vm *vm, u64 uarg);
int xk_irqchip_get(struct xk_vm *vm, struct kvm_irqchip *c);
int xk_irqchip_set(struct xk_vm *vm, const struct kvm_irqchip *c);
int xk_irqchip_signal_msi(struct xk_vm *vm, const struct kvm_msi *m);
int xk_irqchip_create_pit(struct xk_vm *vm, u32 flags);
int xk_irqchip_get_pit2(struct xk_vm *vm, struct kvm_pit_state2 *s);
int xk_irqchip_set_pit2(struct xk_vm *vm, const struct kvm_pit_state2 *s);
int xk_irqchip_get_pit(struct xk_vm *vm, struct kvm_pit_state *s);
int xk_irqchip_set_pit(struct xk_vm *vm, const struct kvm_pit_state *s);
int xk_irqchip_reinject(struct xk_vm *vm, u64 uarg);

/* vCPUs: creation (vm->lock held) and freeing */
int xk_irqchip_vcpu_init(struct xk_vcpu *v);
void xk_irqchip_vcpu_free(struct xk_vcpu *v);

/*
 * Exit handlers: a port or MMIO access the in-kernel devices take.
 * true = handled (a read's data in *val / buf).
 */
bool xk_irqchip_pio(struct xk_vcpu *v, u16 port, u8 size, bool in, u32 *val);
bool xk_irqchip_mmio(struct xk_vcpu *v, u64 gpa, void *buf, u32 len,
		     bool write);
int xk_irqchip_hlt(struct xk_vcpu *v); /* after RIP moved past the HLT */
/* MSRs: -ENOENT = not an irqchip MSR (or no LAPIC), else 0 / -EINVAL */
int xk_irqchip_get_msr(struct xk_vcpu *v, u32 msr, u64 *val);
int xk_irqchip_set_msr(struct xk_vcpu *v, u32 msr, u64 val, bool host);

/*
 * The run loop, before each entry (thread context, interrupts on):
 * runnable() takes the LAPIC's events (NMI, INIT, SIPI) and sleeps while
 * the vCPU is halted or waits for a SIPI: 1 go on, -EINTR for a signal.
 * inject() hands the CPU the interrupt to deliver, or asks for the window.
 * after_exit() syncs the TPR the guest may have changed through CR8.
 */
int xk_irqchip_runnable(struct xk_vcpu *v);
/* KVM_RUN of an UNINITIALIZED vCPU: sleep until an APIC event, take it,
 * -EAGAIN (or -EINTR for a signal), as Linux */
int xk_irqchip_wait_uninit(struct xk_vcpu *v);
void xk_irqchip_inject(struct xk_vcpu *v);
void xk_irqchip_after_exit(struct xk_vcpu *v);

/* vCPU ioctls (vcpu->lock held) */
int xk_irqchip_get_mp_state(struct xk_vcpu *v, struct kvm_mp_state *mp);
int xk_irqchip_set_mp_state(struct xk_vcpu *v, const struct kvm_mp_state *mp);
int xk_irqchip_get_lapic(struct xk_vcpu *v, struct kvm_lapic_state *s);
int xk_irqchip_set_lapic(struct xk_vcpu *v, const struct kvm_lapic_state *s);
void xk_irqchip_cpuid_changed(struct xk_vcpu *v);

#endif /* XKVM_IRQCHIP_H */
