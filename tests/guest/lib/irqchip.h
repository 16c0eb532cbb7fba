/* SPDX-License-Identifier: GPL-2.0 */
/*
 * irqchip.h - helpers of the in-kernel irqchip tests: a VM with
 * KVM_CREATE_IRQCHIP before its vCPUs, errno names, and the guest's view
 * of the local APIC and I/O APIC registers (identity-mapped MMIO).
 */
#ifndef KT_IRQCHIP_H
#define KT_IRQCHIP_H

#include "kvmtest.h"

#define APIC_BASE_GPA 0xfee00000ull
#define IOAPIC_BASE_GPA 0xfec00000ull
#define APIC_ID 0x20
#define APIC_VER 0x30
#define APIC_TPR 0x80
#define APIC_EOI 0xb0
#define APIC_SVR 0xf0
#define APIC_ISR 0x100
#define APIC_IRR 0x200
#define APIC_ICR 0x300
#define APIC_ICR2 0x310
#define APIC_LVTT 0x320
#define APIC_LVT0 0x350
#define APIC_LVT1 0x360
#define APIC_TMICT 0x380
#define APIC_TMCCT 0x390
#define APIC_TDCR 0x3e0

static inline uint32_t apic_read(uint32_t off)
{
	return *(volatile uint32_t *)(uintptr_t)(APIC_BASE_GPA + off);
}

static inline void apic_write(uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)(APIC_BASE_GPA + off) = v;
}

static inline uint32_t ioapic_read(uint32_t reg)
{
	*(volatile uint32_t *)(uintptr_t)IOAPIC_BASE_GPA = reg;
	return *(volatile uint32_t *)(uintptr_t)(IOAPIC_BASE_GPA + 0x10);
}

static inline void ioapic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)IOAPIC_BASE_GPA = reg;
	*(volatile uint32_t *)(uintptr_t)(IOAPIC_BASE_GPA + 0x10) = v;
}

/* A redirection entry: low dword, then the destination in the high one. */
static inline void ioapic_rte(unsigned int pin, uint32_t lo, uint8_t dest)
{
	ioapic_write(0x11 + 2 * pin, (uint32_t)dest << 24);
	ioapic_write(0x10 + 2 * pin, lo);
}

/*
 * Program both 8259s as a PC BIOS does (ICW1 edge + ICW4, vector bases
 * 0x20 and 0x28, the slave on IR2, 8086 mode), then the masks (OCW1).
 */
static inline void guest_pic_init(uint8_t master_mask, uint8_t slave_mask)
{
	outb(0x20, 0x11);
	outb(0x21, 0x20);
	outb(0x21, 0x04);
	outb(0x21, 0x01);
	outb(0xa0, 0x11);
	outb(0xa1, 0x28);
	outb(0xa1, 0x02);
	outb(0xa1, 0x01);
	outb(0x21, master_mask);
	outb(0xa1, slave_mask);
}

#ifndef KT_GUEST_ONLY
#include <errno.h>
#include <sys/ioctl.h>

static inline const char *kt_errname(long r, int e)
{
	if (r >= 0)
		return "ok";
	switch (e) {
	case EINVAL:
		return "EINVAL";
	case EEXIST:
		return "EEXIST";
	case ENXIO:
		return "ENXIO";
	case ENOENT:
		return "ENOENT";
	case EPERM:
		return "EPERM";
	case EINTR:
		return "EINTR";
	case EFAULT:
		return "EFAULT";
	case EAGAIN:
		return "EAGAIN";
	default:
		return "other";
	}
}

/* ioctl returning its value, errno in *e. */
static inline long kt_try(int fd, unsigned long req, void *arg, int *e)
{
	long r;

	errno = 0;
	r = ioctl(fd, req, arg);
	*e = errno;
	return r;
}

/* A VM with its main slot and image, the in-kernel irqchip, no vCPU. */
static inline struct kt_vm *kt_vm_irqchip(void)
{
	struct kt_vm *vm = kt_vm_create();

	KT_ASSERT(kt_mem_add(vm, 0, 0, KT_MAIN_SIZE, 0) != NULL);
	kt_load_image(vm);
	KT_IOCTL(vm->fd, KVM_CREATE_IRQCHIP, NULL);
	return vm;
}

static inline struct kt_vcpu *kt_vcpu_irqchip(struct kt_vm *vm, int id)
{
	struct kt_vcpu *v = kt_vcpu_create(vm, id);

	kt_set_default_cpuid(v);
	return v;
}

/* KVM_IRQ_LINE_STATUS: the status. */
static inline int kt_irq_line_status(struct kt_vm *vm, uint32_t irq, int level)
{
	struct kvm_irq_level l = { .irq = irq, .level = (uint32_t)level };

	KT_IOCTL(vm->fd, KVM_IRQ_LINE_STATUS, &l);
	return l.status;
}
#endif

#endif /* KT_IRQCHIP_H */
