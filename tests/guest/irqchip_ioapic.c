// SPDX-License-Identifier: GPL-2.0
/*
 * irqchip_ioapic - the in-kernel irqchip: KVM_CREATE_IRQCHIP and the VM
 * ioctls around it, and a 64-bit guest that programs its local APIC and the
 * I/O APIC, then takes interrupts the VMM raises with KVM_IRQ_LINE_STATUS.
 * Checked:
 *   - without an irqchip: KVM_IRQ_LINE ENXIO, KVM_GET_IRQCHIP ENXIO,
 *     KVM_SET_GSI_ROUTING EINVAL; CREATE_IRQCHIP twice: EEXIST;
 *     GET_IRQCHIP of chip 3: EINVAL;
 *   - MP_STATE of the BSP: RUNNABLE; KVM_GET_LAPIC's ID and version;
 *   - the guest reads the LAPIC version and ID, the IOAPIC version; masks
 *     the PIC (in-kernel ports: no exit) and LVT0; programs pin 4 edge
 *     (vector 0x40) and pin 5 level (vector 0x41);
 *   - edge: IRQ_LINE_STATUS 4 high -> status, the handler runs with vector
 *     0x40 at the instruction after the ucall; 4 low, high again: a second
 *     delivery;
 *   - level: 5 high -> delivered; asserting again while the guest has not
 *     sent EOI: coalesced status; the handler's EOI with the line still
 *     high re-delivers; after the line goes low, the EOI ends it;
 *   - a masked pin: status, no delivery;
 *   - GET_IRQCHIP of the IOAPIC (redirection entries, IRR) and the PIC
 *     master's IMR; SET_IRQCHIP of the same state and GET again: equal.
 */
#define _GNU_SOURCE
#include "kvmtest.h"
#include "irqchip.h"

#include <string.h>

#define S_IRQ 100

static volatile uint64_t irq_count;

static void irq_handler(struct guest_frame *f)
{
	irq_count++;
	GUEST_SYNC(S_IRQ, f->vector, f->rip);
	apic_write(APIC_EOI, 0);
}

extern const char io_after2[], io_after3[], io_after5[], io_after6[],
	io_after7[];

static void guest_main(void)
{
	guest_idt_init();
	guest_handlers[0x40] = irq_handler;
	guest_handlers[0x41] = irq_handler;
	guest_handlers[0x42] = irq_handler;

	/* the PIC pair masked (ports handled in the kernel) */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	apic_write(APIC_SVR, 0x1ff);
	apic_write(APIC_LVT0, 0x10700); /* ExtINT, masked */
	apic_write(APIC_TPR, 0);
	GUEST_SYNC(1, apic_read(APIC_VER), apic_read(APIC_ID));
	GUEST_SYNC(10, ioapic_read(1), inb(0x21) | (uint64_t)inb(0xa1) << 8);
	ioapic_rte(4, 0x40, 0);           /* edge, fixed, physical 0 */
	ioapic_rte(5, 0x41 | 0x8000, 0);  /* level */
	ioapic_rte(6, 0x42 | 0x10000, 0); /* masked */
	__asm__ volatile("sti" ::: "memory");

	__asm__ volatile(KT_ASM_SYNC(2) "io_after2:" ::: KT_ASM_SYNC_CLOBBERS);
	GUEST_SYNC(20, irq_count, 0);
	__asm__ volatile(KT_ASM_SYNC(3) "io_after3:" ::: KT_ASM_SYNC_CLOBBERS);
	GUEST_SYNC(30, irq_count, 0);
	__asm__ volatile(KT_ASM_SYNC(5) "io_after5:" ::: KT_ASM_SYNC_CLOBBERS);
	GUEST_SYNC(50, irq_count, 0);
	__asm__ volatile(KT_ASM_SYNC(6) "io_after6:" ::: KT_ASM_SYNC_CLOBBERS);
	GUEST_SYNC(60, irq_count, 0);
	__asm__ volatile(KT_ASM_SYNC(7) "io_after7:" ::: KT_ASM_SYNC_CLOBBERS);
	GUEST_SYNC(70, irq_count, 0);
	GUEST_DONE();
	guest_hlt_forever();
}

#define ADDR(sym) ((uint64_t)(uintptr_t)(sym))

static void expect_irq(struct kt_vcpu *v, uint64_t vector, uint64_t rip)
{
	struct kt_ucall uc;

	kt_expect_sync(v, S_IRQ, &uc);
	printf("  handler: vector 0x%llx, frame rip as expected: %s\n",
	       (unsigned long long)uc.args[1],
	       uc.args[2] == rip ? "yes" : "NO");
	KT_ASSERT_EQ(uc.args[1], vector);
	KT_ASSERT_EQ(uc.args[2], rip);
}

static void expect_count(struct kt_vcpu *v, uint64_t stage, uint64_t n)
{
	struct kt_ucall uc;

	kt_expect_sync(v, stage, &uc);
	printf("guest counted %llu interrupts\n",
	       (unsigned long long)uc.args[1]);
	KT_ASSERT_EQ(uc.args[1], n);
}

static void line(struct kt_vm *vm, uint32_t irq, int level)
{
	int st = kt_irq_line_status(vm, irq, level);

	printf("IRQ_LINE_STATUS gsi %u level %d -> status %d\n", irq, level,
	       st);
}

int main(void)
{
	struct kt_vm *vm;
	struct kt_vcpu *v;
	struct kt_ucall uc;
	struct kvm_irq_level il = { .irq = 4, .level = 1 };
	struct kvm_irqchip chip, chip2;
	struct kvm_irq_routing rt = { 0 };
	struct kvm_mp_state mp;
	struct kvm_lapic_state ls;
	uint64_t rte;
	long r;
	int e;

	kt_init("irqchip_ioapic");
	vm = kt_vm_create();
	KT_ASSERT(kt_mem_add(vm, 0, 0, KT_MAIN_SIZE, 0) != NULL);
	kt_load_image(vm);

	printf("-- before KVM_CREATE_IRQCHIP\n");
	r = kt_try(vm->fd, KVM_IRQ_LINE, &il, &e);
	printf("KVM_IRQ_LINE -> %s\n", kt_errname(r, e));
	memset(&chip, 0, sizeof(chip));
	r = kt_try(vm->fd, KVM_GET_IRQCHIP, &chip, &e);
	printf("KVM_GET_IRQCHIP -> %s\n", kt_errname(r, e));
	r = kt_try(vm->fd, KVM_SET_GSI_ROUTING, &rt, &e);
	printf("KVM_SET_GSI_ROUTING -> %s\n", kt_errname(r, e));
	r = kt_try(vm->fd, KVM_CREATE_IRQCHIP, NULL, &e);
	printf("KVM_CREATE_IRQCHIP -> %s\n", kt_errname(r, e));
	KT_ASSERT(r == 0, "CREATE_IRQCHIP errno %d", e);
	r = kt_try(vm->fd, KVM_CREATE_IRQCHIP, NULL, &e);
	printf("KVM_CREATE_IRQCHIP again -> %s\n", kt_errname(r, e));
	chip.chip_id = 3;
	r = kt_try(vm->fd, KVM_GET_IRQCHIP, &chip, &e);
	printf("KVM_GET_IRQCHIP chip 3 -> %s\n", kt_errname(r, e));

	v = kt_vcpu_irqchip(vm, 0);
	KT_IOCTL(v->fd, KVM_GET_MP_STATE, &mp);
	printf("BSP mp_state %u\n", mp.mp_state);
	KT_IOCTL(v->fd, KVM_GET_LAPIC, &ls);
	printf("KVM_GET_LAPIC: id 0x%x version 0x%x\n",
	       *(uint32_t *)&ls.regs[APIC_ID], *(uint32_t *)&ls.regs[APIC_VER]);
	kt_setup_long(v, ADDR(guest_main), KT_STACK_ENTRY);

	kt_expect_sync(v, 1, &uc);
	printf("guest: LAPIC version 0x%llx id 0x%llx\n",
	       (unsigned long long)uc.args[1], (unsigned long long)uc.args[2]);
	kt_expect_sync(v, 10, &uc);
	printf("guest: IOAPIC version 0x%llx, PIC IMRs 0x%llx\n",
	       (unsigned long long)uc.args[1], (unsigned long long)uc.args[2]);

	printf("-- edge, pin 4\n");
	kt_expect_sync(v, 2, &uc);
	line(vm, 4, 1);
	expect_irq(v, 0x40, ADDR(io_after2));
	expect_count(v, 20, 1);
	kt_expect_sync(v, 3, &uc);
	line(vm, 4, 1); /* no edge: nothing */
	line(vm, 4, 0);
	line(vm, 4, 1);
	expect_irq(v, 0x40, ADDR(io_after3));
	line(vm, 4, 0);
	expect_count(v, 30, 2);

	printf("-- level, pin 5\n");
	kt_expect_sync(v, 5, &uc);
	line(vm, 5, 1);
	expect_irq(v, 0x41, ADDR(io_after5));
	line(vm, 5, 1); /* in service, remote IRR set: coalesced */
	/* the EOI with the line high delivers again, in the handler's tail */
	kt_expect_sync(v, S_IRQ, &uc);
	printf("  re-delivered: vector 0x%llx\n",
	       (unsigned long long)uc.args[1]);
	KT_ASSERT_EQ(uc.args[1], 0x41);
	line(vm, 5, 0);
	expect_count(v, 50, 4);

	printf("-- masked pin 6\n");
	kt_expect_sync(v, 6, &uc);
	line(vm, 6, 1);
	line(vm, 6, 0);
	expect_count(v, 60, 4);

	printf("-- GET/SET_IRQCHIP\n");
	kt_expect_sync(v, 7, &uc);
	memset(&chip, 0, sizeof(chip));
	chip.chip_id = KVM_IRQCHIP_IOAPIC;
	KT_IOCTL(vm->fd, KVM_GET_IRQCHIP, &chip);
	printf("IOAPIC: base 0x%llx id %u irr 0x%x\n",
	       (unsigned long long)chip.chip.ioapic.base_address,
	       chip.chip.ioapic.id, chip.chip.ioapic.irr);
	for (int pin = 4; pin <= 6; pin++) {
		rte = chip.chip.ioapic.redirtbl[pin].bits;
		printf("  pin %d: rte 0x%016llx\n", pin,
		       (unsigned long long)rte);
	}
	KT_IOCTL(vm->fd, KVM_SET_IRQCHIP, &chip);
	memset(&chip2, 0, sizeof(chip2));
	chip2.chip_id = KVM_IRQCHIP_IOAPIC;
	KT_IOCTL(vm->fd, KVM_GET_IRQCHIP, &chip2);
	printf("IOAPIC round trip equal: %s\n",
	       memcmp(&chip, &chip2, sizeof(chip)) ? "NO" : "yes");
	KT_ASSERT(!memcmp(&chip, &chip2, sizeof(chip)), "IOAPIC state");
	memset(&chip, 0, sizeof(chip));
	chip.chip_id = KVM_IRQCHIP_PIC_MASTER;
	KT_IOCTL(vm->fd, KVM_GET_IRQCHIP, &chip);
	printf("PIC master: imr 0x%x irq_base 0x%x elcr_mask 0x%x\n",
	       chip.chip.pic.imr, chip.chip.pic.irq_base,
	       chip.chip.pic.elcr_mask);
	KT_IOCTL(vm->fd, KVM_SET_IRQCHIP, &chip);
	memset(&chip2, 0, sizeof(chip2));
	chip2.chip_id = KVM_IRQCHIP_PIC_MASTER;
	KT_IOCTL(vm->fd, KVM_GET_IRQCHIP, &chip2);
	printf("PIC round trip equal: %s\n",
	       memcmp(&chip, &chip2, sizeof(chip)) ? "NO" : "yes");
	expect_count(v, 70, 4);
	kt_expect_done(v);
	kt_pass();
}
