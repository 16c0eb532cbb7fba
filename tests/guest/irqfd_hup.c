// SPDX-License-Identifier: GPL-2.0
/*
 * irqfd_hup - an irqfd goes when the last descriptor of its eventfd is
 * closed, exactly as if KVM_IRQFD_FLAG_DEASSIGN had removed it (Linux
 * drops it on the eventfd's EPOLLHUP, from a worker).  A 64-bit guest
 * programs its local APIC and the I/O APIC (pin 4 edge, vector 0x40;
 * pin 5 level, 0x41; pin 6 edge, 0x42) and waits for interrupts only
 * inside STI;HLT.  Checked:
 *   1. a plain irqfd on GSI 4 delivers; its eventfd is closed; a new
 *      eventfd gets the same descriptor number and is assigned to GSI 6:
 *      a write raises GSI 6 alone (the guest sees 0x42 and nothing from
 *      GSI 4); deassigned and closed;
 *   2. a resampling irqfd on GSI 5: delivered, the EOI signals the
 *      resamplefd; written again, the line stays up (IOAPIC irr); its
 *      eventfd closed: the line goes down (the last resampler lowers it,
 *      as a deassign does), the pending interrupt is taken and its EOI
 *      signals nobody; a new eventfd with the same number is assigned
 *      with the same resamplefd and works; then closed too;
 *   3. an eventfd with two descriptors: closing one leaves the irqfd
 *      working; closing the other drops it.
 * xkvm only, on stderr: after each close the driver's held counts come
 * back to what they were before the irqfd (the irqfd, its references and
 * its watch are freed), and at the end to what they were before the VM.
 * Waits for the driver's worker are bounded (a watchdog, not a measure).
 */
#define _GNU_SOURCE
#include "kvmtest.h"
#include "irqchip.h"
#include "sectest.h"

#include <sys/mman.h>

#define S_READY 1
#define S_IRQ 2

#define CMD_STAY 0
#define CMD_WAIT 1
#define CMD_DONE 2

static volatile uint64_t irq_count;
static volatile uint64_t cmd; /* set by the host at each stop */

static void on_irq(struct guest_frame *f)
{
	irq_count++;
	GUEST_SYNC(S_IRQ, f->vector, 0);
	apic_write(APIC_EOI, 0);
}

static void guest_main(void)
{
	uint64_t seen;

	guest_idt_init();
	guest_handlers[0x40] = on_irq;
	guest_handlers[0x41] = on_irq;
	guest_handlers[0x42] = on_irq;
	outb(0x21, 0xff); /* both 8259s masked */
	outb(0xa1, 0xff);
	apic_write(APIC_SVR, 0x1ff);
	apic_write(APIC_LVT0, 0x10700);
	apic_write(APIC_TPR, 0);
	ioapic_rte(4, 0x40, 0);
	ioapic_rte(5, 0x41 | 0x8000, 0); /* level */
	ioapic_rte(6, 0x42, 0);
	for (;;) {
		seen = irq_count;
		GUEST_SYNC(S_READY, seen,
			   apic_read(APIC_IRR + 0x20) |
				   (uint64_t)apic_read(APIC_IRR + 0x30) << 32);
		if (cmd == CMD_DONE)
			break;
		if (cmd == CMD_WAIT)
			while (irq_count == seen)
				__asm__ volatile("sti; hlt; cli" ::: "memory");
	}
	GUEST_DONE();
	guest_hlt_forever();
}

static struct kt_vm *vm;
static struct kt_vcpu *vcpu;
static long long held_irqfds[3]; /* xkvm: the VM with no irqfd assigned */

static void assign(const char *what, int fd, uint32_t gsi, int rfd,
		   uint32_t flags)
{
	struct kvm_irqfd a;
	long r;
	int e;

	memset(&a, 0, sizeof(a));
	a.fd = (uint32_t)fd;
	a.gsi = gsi;
	a.flags = flags | (rfd >= 0 ? KVM_IRQFD_FLAG_RESAMPLE : 0);
	a.resamplefd = (uint32_t)rfd;
	r = kt_try(vm->fd, KVM_IRQFD, &a, &e);
	printf("KVM_IRQFD %s -> %s\n", what, kt_errname(r, e));
	KT_ASSERT(r == 0, "%s: errno %d", what, e);
}

/* The guest's next stop; nothing may wait in its IRR there. */
static void ready(void)
{
	struct kt_ucall uc;

	kt_expect_sync(vcpu, S_READY, &uc);
	printf("guest: %llu interrupts, IRR 0x40-0x7f 0x%llx\n",
	       (unsigned long long)uc.args[1], (unsigned long long)uc.args[2]);
	KT_ASSERT_EQ(uc.args[2], 0);
}

/* Let the guest wait for an interrupt: its handler reports the vector. */
static void expect_irq(uint64_t vector)
{
	struct kt_ucall uc;

	*KT_GUEST_VAR(vm, cmd) = CMD_WAIT;
	kt_expect_sync(vcpu, S_IRQ, &uc);
	printf("  handler: vector 0x%llx\n", (unsigned long long)uc.args[1]);
	KT_ASSERT_EQ(uc.args[1], vector);
	ready();
}

static unsigned int ioapic_irr(void)
{
	struct kvm_irqchip c;

	memset(&c, 0, sizeof(c));
	c.chip_id = KVM_IRQCHIP_IOAPIC;
	KT_IOCTL(vm->fd, KVM_GET_IRQCHIP, &c);
	return c.chip.ioapic.irr;
}

static void plain(void)
{
	int e = st_eventfd(), e2, n = e;

	printf("-- 1. a plain irqfd, GSI 4\n");
	assign("gsi 4", e, 4, -1, 0);
	KT_ASSERT(eventfd_write(e, 1) == 0);
	expect_irq(0x40);
	close(e);
	printf("its eventfd closed\n");
	st_held_back(held_irqfds, "the closed eventfd's irqfd");
	e2 = st_eventfd();
	printf("a new eventfd got the same number: %s\n",
	       e2 == n ? "yes" : "no");
	KT_ASSERT_EQ(e2, n);
	assign("new eventfd, gsi 6", e2, 6, -1, 0);
	KT_ASSERT(eventfd_write(e2, 1) == 0);
	expect_irq(0x42); /* and not 0x40: the guest would have said so */
	assign("deassign gsi 6", e2, 6, -1, KVM_IRQFD_FLAG_DEASSIGN);
	close(e2);
	st_held_back(held_irqfds, "the deassigned irqfd");
}

static void resample(void)
{
	int e = st_eventfd(), r = st_eventfd(), e2, n = e;
	int up;

	printf("-- 2. a resampling irqfd, GSI 5 (level)\n");
	assign("gsi 5 resample", e, 5, r, 0);
	KT_ASSERT(eventfd_write(e, 1) == 0);
	expect_irq(0x41);
	printf("after the EOI: resamplefd %llu\n",
	       (unsigned long long)st_eventfd_take(r));
	/* up again; the guest does not take it yet (IF=0 at its stop) */
	KT_ASSERT(eventfd_write(e, 1) == 0);
	up = ST_WAIT(ioapic_irr() & (1u << 5), 30000);
	printf("written again: IOAPIC irr pin 5 %d\n", up);
	KT_ASSERT(up);
	close(e);
	printf("its eventfd closed\n");
	up = !ST_WAIT(!(ioapic_irr() & (1u << 5)), 30000);
	printf("then IOAPIC irr pin 5 %d (the irqfd went, and its line)\n", up);
	KT_ASSERT(!up, "the irqfd of a closed eventfd still holds GSI 5 up");
	expect_irq(0x41); /* delivered before the close */
	printf("after that EOI: resamplefd %llu, IOAPIC irr 0x%x\n",
	       (unsigned long long)st_eventfd_take(r), ioapic_irr());
	st_held_back(held_irqfds, "the closed eventfd's resampling irqfd");
	e2 = st_eventfd();
	printf("a new eventfd got the same number: %s\n",
	       e2 == n ? "yes" : "no");
	KT_ASSERT_EQ(e2, n);
	assign("new eventfd, gsi 5 resample, same resamplefd", e2, 5, r, 0);
	KT_ASSERT(eventfd_write(e2, 1) == 0);
	expect_irq(0x41);
	printf("after the EOI: resamplefd %llu\n",
	       (unsigned long long)st_eventfd_take(r));
	close(e2);
	printf("its eventfd closed\n");
	st_held_back(held_irqfds, "the second resampling irqfd");
	close(r);
}

static void two_descriptors(void)
{
	int e = st_eventfd(), d = dup(e);

	printf("-- 3. an eventfd with two descriptors, GSI 4\n");
	KT_ASSERT(d >= 0);
	assign("gsi 4", e, 4, -1, 0);
	close(e);
	printf("one descriptor closed\n");
	KT_ASSERT(eventfd_write(d, 1) == 0);
	expect_irq(0x40);
	close(d);
	printf("the other closed\n");
	st_held_back(held_irqfds, "the irqfd of the eventfd closed twice");
}

int main(void)
{
	long long held0[3];
	int warm, have_held;

	kt_init("irqfd_hup");
	st_watchdog(110); /* a lost interrupt would leave the guest in HLT */
	have_held = kt_read_held(held0);
	vm = kt_vm_irqchip();
	vcpu = kt_vcpu_irqchip(vm, 0);
	kt_setup_long(vcpu, (uint64_t)(uintptr_t)guest_main, KT_STACK_ENTRY);
	ready();
	/* the VM's first irqfd makes state that stays with the VM */
	warm = st_eventfd();
	assign("first, gsi 4", warm, 4, -1, 0);
	assign("deassign it", warm, 4, -1, KVM_IRQFD_FLAG_DEASSIGN);
	close(warm);
	if (have_held)
		kt_read_held(held_irqfds);

	plain();
	resample();
	two_descriptors();

	*KT_GUEST_VAR(vm, cmd) = CMD_DONE;
	kt_expect_done(vcpu);
	munmap(vcpu->run, (size_t)vm->run_size);
	close(vcpu->fd);
	close(vm->fd);
	close(vm->kvm_fd);
	st_held_back(held0, "the VM closed");
	kt_pass();
}
