// SPDX-License-Identifier: GPL-2.0
/*
 * pic_pit - the in-kernel 8259 pair and 8254 PIT, with the local APIC in
 * its reset state (LVT0 ExtINT on the BSP: the PIC reaches the CPU):
 *   - KVM_CREATE_PIT2 twice: EEXIST; KVM_GET_PIT2 after creation
 *     (channel 0 mode, gate, count);
 *   - the guest programs both PICs (ICW1-4, vector bases 0x20/0x28), masks
 *     all but IRQ0 and reads the masks back, all without exits;
 *   - the guest programs channel 0 as a rate generator (mode 2, 1193
 *     counts, about 1 ms) and halts in a bounded loop until at least 5
 *     ticks arrived through the PIC (vector 0x20, EOI to port 0x20); no
 *     rates are asserted;
 *   - a latched count of channel 0 is at most 1193;
 *   - KVM_GET_PIT2 then: mode 2, count 1193, read/write mode 3; KVM_GET_PIT
 *     agrees; KVM_SET_PIT2 of the same state is taken;
 *   - under xkvm (silently): once the VM's files are closed, the driver
 *     holds what it held before the test (PIT timer, APIC, irqchip freed);
 *   - the PIC master's state (GET_IRQCHIP) after the guest masked all:
 *     IMR 0xff, vector base 0x20.
 */
#define _GNU_SOURCE
#include "kvmtest.h"
#include "irqchip.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static volatile uint64_t ticks;

static void tick_handler(struct guest_frame *f)
{
	(void)f;
	ticks++;
	outb(0x20, 0x20); /* non-specific EOI */
}

static void guest_main(void)
{
	uint64_t i;
	uint16_t cnt;

	guest_idt_init();
	guest_handlers[0x20] = tick_handler;
	guest_pic_init(0xfe, 0xff); /* IRQ 0 only */
	GUEST_SYNC(1, inb(0x21), inb(0xa1));

	/* channel 0, lobyte/hibyte, mode 2, binary: 1193 */
	outb(0x43, 0x34);
	outb(0x40, 1193 & 0xff);
	outb(0x40, 1193 >> 8);
	for (i = 0; i < 1000 && ticks < 5; i++)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	GUEST_SYNC(2, ticks >= 5, 0);

	outb(0x43, 0x00); /* latch channel 0 */
	cnt = inb(0x40);
	cnt |= (uint16_t)inb(0x40) << 8;
	GUEST_SYNC(3, cnt <= 1193, 0);
	outb(0x21, 0xff);
	GUEST_DONE();
	guest_hlt_forever();
}

static void print_ch0(const char *what, const struct kvm_pit_channel_state *c)
{
	printf("%s: channel 0 mode %u gate %u count %u rw_mode %u\n", what,
	       c->mode, c->gate, c->count, c->rw_mode);
}

int main(void)
{
	struct kt_vm *vm;
	struct kt_vcpu *v;
	struct kt_ucall uc;
	struct kvm_pit_config pc = { .flags = 0 };
	struct kvm_pit_state2 ps;
	struct kvm_pit_state ps1;
	struct kvm_irqchip chip;
	long r;
	int err;

	long long h0[3], h1[3];
	int have_held;

	kt_init("pic_pit");
	have_held = kt_read_held(h0);
	vm = kt_vm_irqchip();
	r = kt_try(vm->fd, KVM_CREATE_PIT2, &pc, &err);
	printf("KVM_CREATE_PIT2 -> %s\n", kt_errname(r, err));
	KT_ASSERT_EQ(r, 0);
	r = kt_try(vm->fd, KVM_CREATE_PIT2, &pc, &err);
	printf("KVM_CREATE_PIT2 again -> %s\n", kt_errname(r, err));
	KT_IOCTL(vm->fd, KVM_GET_PIT2, &ps);
	print_ch0("after creation", &ps.channels[0]);
	v = kt_vcpu_irqchip(vm, 0);
	kt_setup_long(v, (uint64_t)(uintptr_t)guest_main, KT_STACK_ENTRY);

	kt_expect_sync(v, 1, &uc);
	printf("guest: IMRs master 0x%llx slave 0x%llx\n",
	       (unsigned long long)uc.args[1], (unsigned long long)uc.args[2]);
	KT_ASSERT_EQ(uc.args[1], 0xfe);
	kt_expect_sync(v, 2, &uc);
	printf("at least 5 PIT ticks through the PIC: %s\n",
	       uc.args[1] ? "yes" : "NO");
	KT_ASSERT_EQ(uc.args[1], 1);
	kt_expect_sync(v, 3, &uc);
	printf("latched count <= 1193: %s\n", uc.args[1] ? "yes" : "NO");
	KT_ASSERT_EQ(uc.args[1], 1);

	KT_IOCTL(vm->fd, KVM_GET_PIT2, &ps);
	print_ch0("KVM_GET_PIT2", &ps.channels[0]);
	KT_ASSERT_EQ(ps.channels[0].mode, 2);
	KT_ASSERT_EQ(ps.channels[0].count, 1193);
	KT_IOCTL(vm->fd, KVM_GET_PIT, &ps1);
	print_ch0("KVM_GET_PIT", &ps1.channels[0]);
	KT_IOCTL(vm->fd, KVM_SET_PIT2, &ps);
	memset(&chip, 0, sizeof(chip));
	chip.chip_id = KVM_IRQCHIP_PIC_MASTER;
	KT_IOCTL(vm->fd, KVM_GET_IRQCHIP, &chip);
	printf("PIC master: imr 0x%x irq_base 0x%x\n", chip.chip.pic.imr,
	       chip.chip.pic.irq_base);
	kt_expect_done(v);
	/* the VM goes: its PIT timer, irqchip and APIC with it */
	munmap(v->run, (size_t)vm->run_size);
	close(v->fd);
	close(vm->fd);
	for (int i = 0; i < KT_MAX_SLOTS; i++)
		if (vm->slots[i].used)
			munmap(vm->slots[i].hva, vm->slots[i].size);
	if (have_held) {
		for (int i = 0;
		     i < 100 && kt_read_held(h1) &&
		     (h1[0] != h0[0] || h1[1] != h0[1] || h1[2] != h0[2]);
		     i++)
			usleep(10000);
		KT_ASSERT(h1[0] == h0[0] && h1[1] == h0[1] && h1[2] == h0[2],
			  "held objects %lld -> %lld, pages %lld -> %lld, "
			  "pinned %lld -> %lld",
			  h0[0], h1[0], h0[1], h1[1], h0[2], h1[2]);
	}
	kt_pass();
}
