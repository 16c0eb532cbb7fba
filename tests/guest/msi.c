// SPDX-License-Identifier: GPL-2.0
/*
 * msi - message-signalled interrupts into the in-kernel local APIC:
 *   - KVM_SIGNAL_MSI (address 0xfee00000, physical destination 0, fixed,
 *     vector 0x70): returns 1, the guest's handler runs; with an unknown
 *     flag: EINVAL;
 *   - KVM_SET_GSI_ROUTING: an IOAPIC pin beyond 23 and an unknown route
 *     type are refused (EINVAL); a table with GSI 30 -> MSI vector 0x71
 *     is taken; KVM_IRQ_LINE_STATUS of GSI 30 high delivers (status 1),
 *     low does nothing (status); a GSI without a route: status;
 *   - the routes replace the default table: GSI 4 no longer reaches the
 *     IOAPIC (status), and the table can be set back to the default
 *     entries the guest needs.
 */
#define _GNU_SOURCE
#include "kvmtest.h"
#include "irqchip.h"

#include <stdlib.h>
#include <string.h>

#define S_IRQ 100

static volatile uint64_t irq_count;

static void irq_handler(struct guest_frame *f)
{
	irq_count++;
	GUEST_SYNC(S_IRQ, f->vector, 0);
	apic_write(APIC_EOI, 0);
}

static void guest_main(void)
{
	guest_idt_init();
	guest_handlers[0x70] = irq_handler;
	guest_handlers[0x71] = irq_handler;
	apic_write(APIC_SVR, 0x1ff);
	__asm__ volatile("sti" ::: "memory");
	GUEST_SYNC(1, 0, 0);
	GUEST_SYNC(2, irq_count, 0);
	GUEST_SYNC(3, irq_count, 0);
	GUEST_DONE();
	guest_hlt_forever();
}

static void expect_irq(struct kt_vcpu *v, uint64_t vector)
{
	struct kt_ucall uc;

	kt_expect_sync(v, S_IRQ, &uc);
	printf("  handler: vector 0x%llx\n", (unsigned long long)uc.args[1]);
	KT_ASSERT_EQ(uc.args[1], vector);
}

static long set_routes(struct kt_vm *vm, const struct kvm_irq_routing_entry *e,
		       uint32_t n, int *err)
{
	struct kvm_irq_routing *r = calloc(
		1, sizeof(*r) + n * sizeof(struct kvm_irq_routing_entry));
	long ret;

	KT_ASSERT(r != NULL);
	r->nr = n;
	memcpy(r->entries, e, n * sizeof(*e));
	ret = kt_try(vm->fd, KVM_SET_GSI_ROUTING, r, err);
	free(r);
	return ret;
}

int main(void)
{
	struct kt_vm *vm;
	struct kt_vcpu *v;
	struct kt_ucall uc;
	struct kvm_msi msi = { .address_lo = 0xfee00000, .data = 0x70 };
	struct kvm_irq_routing_entry e[2];
	long r;
	int err;

	kt_init("msi");
	vm = kt_vm_irqchip();
	v = kt_vcpu_irqchip(vm, 0);
	kt_setup_long(v, (uint64_t)(uintptr_t)guest_main, KT_STACK_ENTRY);

	printf("-- KVM_SIGNAL_MSI\n");
	kt_expect_sync(v, 1, &uc);
	r = kt_try(vm->fd, KVM_SIGNAL_MSI, &msi, &err);
	printf("KVM_SIGNAL_MSI vector 0x70 -> %ld (%s)\n", r,
	       kt_errname(r, err));
	KT_ASSERT_EQ(r, 1);
	msi.flags = 2;
	r = kt_try(vm->fd, KVM_SIGNAL_MSI, &msi, &err);
	printf("KVM_SIGNAL_MSI flags 2 -> %s\n", kt_errname(r, err));
	expect_irq(v, 0x70);
	kt_expect_sync(v, 2, &uc);
	KT_ASSERT_EQ(uc.args[1], 1);

	printf("-- MSI routes\n");
	memset(e, 0, sizeof(e));
	e[0].gsi = 30;
	e[0].type = KVM_IRQ_ROUTING_MSI;
	e[0].u.msi.address_lo = 0xfee00000;
	e[0].u.msi.data = 0x71;
	e[1].gsi = 31;
	e[1].type = KVM_IRQ_ROUTING_IRQCHIP;
	e[1].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
	e[1].u.irqchip.pin = 24;
	r = set_routes(vm, e, 2, &err);
	printf("routes with IOAPIC pin 24 -> %s\n", kt_errname(r, err));
	e[1].type = 99;
	r = set_routes(vm, e, 2, &err);
	printf("routes with type 99 -> %s\n", kt_errname(r, err));
	r = set_routes(vm, e, 1, &err);
	printf("GSI 30 -> MSI 0x71 -> %s\n", kt_errname(r, err));
	KT_ASSERT_EQ(r, 0);
	printf("IRQ_LINE_STATUS gsi 30 level 1 -> status %d\n",
	       kt_irq_line_status(vm, 30, 1));
	printf("IRQ_LINE_STATUS gsi 30 level 0 -> status %d\n",
	       kt_irq_line_status(vm, 30, 0));
	printf("IRQ_LINE_STATUS gsi 4 level 1 (no route) -> status %d\n",
	       kt_irq_line_status(vm, 4, 1));
	expect_irq(v, 0x71);
	kt_expect_sync(v, 3, &uc);
	printf("guest counted %llu interrupts\n",
	       (unsigned long long)uc.args[1]);
	KT_ASSERT_EQ(uc.args[1], 2);
	kt_expect_done(v);
	kt_pass();
}
