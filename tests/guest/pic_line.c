// SPDX-License-Identifier: GPL-2.0
/*
 * pic_line - the in-kernel 8259 pair fed by the VMM's KVM_IRQ_LINE and
 * KVM_IRQ_LINE_STATUS, with the local APIC in its reset state (LVT0 ExtINT
 * on the BSP: the master's INT is the CPU's INTR) and the I/O APIC's pins
 * left masked, and the PIT's port 0x61 (KVM_PIT_SPEAKER_DUMMY, as QEMU).
 * The guest keeps IF=0 and takes interrupts only inside STI;NOP;CLI or
 * STI;HLT;CLI windows it opens at known points, so every delivery lands at
 * the end of a window whenever the driver (or another thread) injects it.
 * Its handler only records the vector and the frame's RIP; the guest sends
 * the EOIs itself, between windows.  Checked:
 *   - the LAPIC's reset LVT0 (ExtINT, unmasked) and SVR as the guest reads
 *     them; both PICs programmed (ICW1-4, bases 0x20/0x28, cascade on IR2),
 *     IRQ 3, IR2 and IRQ 10 unmasked (IMRs read back); ELCRs 0;
 *   - edge on the master: IRQ 3 high -> one interrupt, vector 0x23, master
 *     ISR 0x08 and IRR 0 before the EOI, nothing in service after it, and
 *     nothing more in a window after the line went low;
 *   - a pulse (high, high again, low) while the guest has IF=0: the edge
 *     stays latched in IRR and gives exactly one interrupt in the next
 *     window;
 *   - HLT woken in the kernel (no KVM_EXIT_HLT) by IRQ 3 raised from
 *     another thread while the vCPU waits in STI;HLT; plain KVM_IRQ_LINE
 *     lowers it;
 *   - the slave: IRQ 10 -> vector 0x2a, master ISR 0x04 (IR2) and slave ISR
 *     0x04, cleared by EOIs to the slave and the master;
 *   - level through the ELCR (0x4d1 = 0x04, read back): IRQ 10 held high
 *     -> delivered, slave IRR still 0x04 after the INTA; raised again:
 *     coalesced; EOI with the line still high -> delivered again; line
 *     low (IRR 0, ISR still set), EOI -> nothing more;
 *   - masked (IMR): an edge pulse on IRQ 3 while masked is not delivered,
 *     stays in IRR and is delivered once unmasked; a level IRQ 10 held high
 *     while masked is delivered once unmasked and again at the EOI while
 *     still high; a level pulse that ends while masked leaves nothing;
 *   - every KVM_IRQ_LINE_STATUS status is printed and asserted (the values
 *     of Linux 6.1: the sum over the GSI's PIC and I/O APIC routes of the
 *     non-negative answers, -1 if none: the PIC answers -1 for a masked
 *     pin, 0 for a request already pending, else 1, also for a line going
 *     low; the masked I/O APIC pin -1 for a new edge, 0 while its IRR is
 *     still set, 1 for a line going low);
 *   - port 0x61: gate 2 and speaker data (bits 0, 1) read back as written;
 *     PIT channel 2 in mode 0 with a count of 100: OUT2 (bit 5) eventually
 *     high in a bounded poll (no timing asserted);
 *   - KVM_GET_IRQCHIP of both PICs at the end (IMR, IRR, ISR, ELCR,
 *     last_irr, base).
 */
#define _GNU_SOURCE
#include "kvmtest.h"
#include "irqchip.h"

#include <pthread.h>
#include <string.h>
#include <unistd.h>

static volatile uint64_t irq_count, last_vector, last_rip;

static void pic_handler(struct guest_frame *f)
{
	irq_count++;
	last_vector = f->vector;
	last_rip = f->rip;
}

extern const char pl_nop_end[], pl_hlt_end[];

/* The only places where IF=1: one instruction after STI's shadow. */
static __attribute__((noinline, noclone)) void window_nop(void)
{
	__asm__ volatile("sti; nop; pl_nop_end: cli" ::: "memory");
}

static __attribute__((noinline, noclone)) void window_hlt(void)
{
	__asm__ volatile("sti; hlt; pl_hlt_end: cli" ::: "memory");
}

/* A window, then SYNC(stage, interrupts | last vector << 8, frame RIP). */
static void win(uint64_t stage, int hlt)
{
	uint64_t n = irq_count;

	last_vector = 0;
	last_rip = 0;
	if (hlt)
		window_hlt();
	else
		window_nop();
	GUEST_SYNC(stage, (irq_count - n) | last_vector << 8, last_rip);
}

/* IRR | ISR << 8 | IMR << 16 of the chip at command port cmd. */
static uint64_t chip_regs(uint16_t cmd)
{
	uint64_t irr, isr, imr;

	outb(cmd, 0x0a); /* OCW3: read IRR */
	irr = inb(cmd);
	outb(cmd, 0x0b); /* OCW3: read ISR */
	isr = inb(cmd);
	outb(cmd, 0x0a);
	imr = inb(cmd + 1);
	return irr | isr << 8 | imr << 16;
}

static void regs(uint64_t stage)
{
	GUEST_SYNC(stage, chip_regs(0x20), chip_regs(0xa0));
}

static void eoi_master(void)
{
	outb(0x20, 0x20);
}

static void eoi_both(void)
{
	outb(0xa0, 0x20);
	outb(0x20, 0x20);
}

static void guest_main(void)
{
	uint8_t v61;
	uint64_t i;
	int v;

	guest_idt_init();
	for (v = 0x20; v < 0x30; v++)
		guest_handlers[v] = pic_handler;
	GUEST_SYNC(1, apic_read(APIC_LVT0), apic_read(APIC_SVR));

	guest_pic_init(0xf3, 0xfb); /* IRQ 2, 3 and 10 open */
	GUEST_SYNC(2, inb(0x21), inb(0xa1));
	GUEST_SYNC(3, inb(0x4d0), inb(0x4d1));

	/* edge, master */
	GUEST_SYNC(10, 0, 0); /* the VMM raises IRQ 3 */
	win(11, 0);
	regs(12);
	eoi_master();
	regs(13);
	GUEST_SYNC(14, 0, 0); /* IRQ 3 low */
	win(15, 0);

	/* a pulse while IF=0 */
	GUEST_SYNC(20, 0, 0);
	regs(21);
	win(22, 0);
	eoi_master();
	win(23, 0);

	/* HLT woken by another thread */
	GUEST_SYNC(30, 0, 0);
	win(31, 1);
	eoi_master();
	GUEST_SYNC(32, 0, 0);
	win(33, 0);

	/* the slave, edge */
	GUEST_SYNC(40, 0, 0);
	win(41, 0);
	regs(42);
	eoi_both();
	regs(43);
	GUEST_SYNC(44, 0, 0);
	win(45, 0);

	/* the slave, level */
	outb(0x4d1, 0x04);
	GUEST_SYNC(50, inb(0x4d0), inb(0x4d1)); /* IRQ 10 high */
	win(51, 0);
	regs(52);
	GUEST_SYNC(53, 0, 0); /* high again */
	eoi_both();
	win(54, 0);
	GUEST_SYNC(55, 0, 0); /* IRQ 10 low */
	regs(56);
	eoi_both();
	win(57, 0);
	regs(58);

	/* masked edge */
	outb(0x21, 0xfb);
	GUEST_SYNC(60, inb(0x21), 0); /* pulse on IRQ 3 */
	win(61, 0);
	regs(62);
	outb(0x21, 0xf3);
	win(63, 0);
	eoi_master();
	win(64, 0);

	/* masked level, held high */
	outb(0xa1, 0xff);
	GUEST_SYNC(70, inb(0xa1), 0); /* IRQ 10 high */
	win(71, 0);
	regs(72);
	outb(0xa1, 0xfb);
	win(73, 0);
	eoi_both();
	win(74, 0);
	GUEST_SYNC(75, 0, 0); /* IRQ 10 low */
	eoi_both();
	win(76, 0);

	/* masked level, a pulse that ends while masked */
	outb(0xa1, 0xff);
	GUEST_SYNC(80, inb(0xa1), 0); /* IRQ 10 high, low */
	outb(0xa1, 0xfb);
	win(81, 0);
	regs(82);

	/* port 0x61 and PIT channel 2 */
	GUEST_SYNC(90, inb(0x61) & 3, 0);
	outb(0x61, 0x03); /* gate 2, speaker data */
	v61 = inb(0x61);
	outb(0x43, 0xb0); /* channel 2, LSB then MSB, mode 0, binary */
	outb(0x42, 100);
	outb(0x42, 0);
	for (i = 0; i < 200000 && !(inb(0x61) & 0x20); i++)
		;
	GUEST_SYNC(91, v61 & 3, i < 200000);
	outb(0x61, 0x02);
	GUEST_SYNC(92, inb(0x61) & 3, 0);
	outb(0x61, 0x01);
	GUEST_SYNC(93, inb(0x61) & 3, 0);
	outb(0x61, 0x00);
	GUEST_SYNC(94, inb(0x61) & 3, irq_count);
	GUEST_DONE();
	guest_hlt_forever();
}

#define ADDR(sym) ((uint64_t)(uintptr_t)(sym))

static struct kt_vm *vm;

/* KVM_IRQ_LINE_STATUS, the status printed and checked against Linux's. */
static void line(uint32_t irq, int level, int want)
{
	int st = kt_irq_line_status(vm, irq, level);

	printf("IRQ_LINE_STATUS irq %u level %d -> status %d\n", irq, level,
	       st);
	KT_ASSERT(st == want, "irq %u level %d: status %d, Linux gives %d", irq,
		  level, st, want);
}

static void sync_at(struct kt_vcpu *v, uint64_t stage, struct kt_ucall *uc)
{
	kt_expect_sync(v, stage, uc);
}

/* A window's report: n interrupts, the last with vector vec at end. */
static void expect_win(struct kt_vcpu *v, uint64_t stage, uint64_t n,
		       uint64_t vec, int hlt)
{
	struct kt_ucall uc;
	uint64_t got = 0, gvec = 0;
	uint64_t end = hlt ? ADDR(pl_hlt_end) : ADDR(pl_nop_end);

	kt_expect_sync(v, stage, &uc);
	got = uc.args[1] & 0xff;
	gvec = uc.args[1] >> 8;
	printf("  %s window: %llu interrupt(s)", hlt ? "STI;HLT" : "STI;NOP",
	       (unsigned long long)got);
	if (got)
		printf(", vector 0x%llx, at the window's end: %s",
		       (unsigned long long)gvec,
		       uc.args[2] == end ? "yes" : "NO");
	printf("\n");
	KT_ASSERT_EQ(got, n);
	if (n) {
		KT_ASSERT_EQ(gvec, vec);
		KT_ASSERT_EQ(uc.args[2], end);
	}
}

static void print_chip(const char *name, uint64_t r)
{
	printf("%s irr 0x%02llx isr 0x%02llx imr 0x%02llx", name,
	       (unsigned long long)(r & 0xff),
	       (unsigned long long)(r >> 8 & 0xff),
	       (unsigned long long)(r >> 16 & 0xff));
}

/* The guest's view of both chips: IRR | ISR << 8 | IMR << 16 each. */
static void expect_regs(struct kt_vcpu *v, uint64_t stage, uint64_t master,
			uint64_t slave)
{
	struct kt_ucall uc;

	kt_expect_sync(v, stage, &uc);
	printf("  ");
	print_chip("master", uc.args[1]);
	printf(", ");
	print_chip("slave", uc.args[2]);
	printf("\n");
	KT_ASSERT_EQ(uc.args[1], master);
	KT_ASSERT_EQ(uc.args[2], slave);
}

static int raised_status;

static void *raiser(void *arg)
{
	(void)arg;
	usleep(20000); /* most likely the vCPU halts in the meantime */
	raised_status = kt_irq_line_status(vm, 3, 1);
	return NULL;
}

static void dump_pic(uint32_t id, const char *name)
{
	struct kvm_irqchip chip;
	struct kvm_pic_state *p = &chip.chip.pic;

	memset(&chip, 0, sizeof(chip));
	chip.chip_id = id;
	KT_IOCTL(vm->fd, KVM_GET_IRQCHIP, &chip);
	printf("KVM_GET_IRQCHIP %s: imr 0x%02x irr 0x%02x isr 0x%02x "
	       "elcr 0x%02x last_irr 0x%02x irq_base 0x%02x\n",
	       name, p->imr, p->irr, p->isr, p->elcr, p->last_irr, p->irq_base);
}

int main(void)
{
	struct kt_vcpu *v;
	struct kt_ucall uc;
	struct kvm_pit_config pc = { .flags = KVM_PIT_SPEAKER_DUMMY };
	struct kvm_irq_level il;
	pthread_t t;

	kt_init("pic_line");
	vm = kt_vm_irqchip();
	KT_IOCTL(vm->fd, KVM_CREATE_PIT2, &pc);
	v = kt_vcpu_irqchip(vm, 0);
	kt_setup_long(v, ADDR(guest_main), KT_STACK_ENTRY);

	sync_at(v, 1, &uc);
	printf("guest: LAPIC LVT0 0x%llx SVR 0x%llx\n",
	       (unsigned long long)uc.args[1], (unsigned long long)uc.args[2]);
	KT_ASSERT_EQ(uc.args[1], 0x700); /* ExtINT, not masked */
	sync_at(v, 2, &uc);
	printf("guest: IMRs master 0x%llx slave 0x%llx\n",
	       (unsigned long long)uc.args[1], (unsigned long long)uc.args[2]);
	KT_ASSERT_EQ(uc.args[1], 0xf3);
	KT_ASSERT_EQ(uc.args[2], 0xfb);
	sync_at(v, 3, &uc);
	printf("guest: ELCRs 0x%llx 0x%llx\n", (unsigned long long)uc.args[1],
	       (unsigned long long)uc.args[2]);
	KT_ASSERT_EQ(uc.args[1], 0);
	KT_ASSERT_EQ(uc.args[2], 0);

	printf("-- edge, IRQ 3 (master)\n");
	sync_at(v, 10, &uc);
	line(3, 1, 1);
	expect_win(v, 11, 1, 0x23, 0);
	expect_regs(v, 12, 0xf30800, 0xfb0000);
	expect_regs(v, 13, 0xf30000, 0xfb0000);
	sync_at(v, 14, &uc);
	line(3, 0, 2);
	expect_win(v, 15, 0, 0, 0);

	printf("-- a pulse while IF=0\n");
	sync_at(v, 20, &uc);
	line(3, 1, 1);
	line(3, 1, 1); /* no new edge: the PIC 1, the I/O APIC 0 */
	line(3, 0, 2);
	expect_regs(v, 21, 0xf30008, 0xfb0000);
	expect_win(v, 22, 1, 0x23, 0);
	expect_win(v, 23, 0, 0, 0);

	printf("-- HLT woken by IRQ 3 from another thread\n");
	sync_at(v, 30, &uc);
	KT_ASSERT_EQ(pthread_create(&t, NULL, raiser, NULL), 0);
	expect_win(v, 31, 1, 0x23, 1);
	pthread_join(t, NULL);
	printf("IRQ_LINE_STATUS irq 3 level 1 (thread) -> status %d\n",
	       raised_status);
	KT_ASSERT_EQ(raised_status, 1);
	sync_at(v, 32, &uc);
	memset(&il, 0, sizeof(il));
	il.irq = 3;
	il.level = 0;
	KT_IOCTL(vm->fd, KVM_IRQ_LINE, &il);
	printf("KVM_IRQ_LINE irq 3 level 0 -> ok\n");
	expect_win(v, 33, 0, 0, 0);

	printf("-- edge, IRQ 10 (slave)\n");
	sync_at(v, 40, &uc);
	line(10, 1, 1);
	expect_win(v, 41, 1, 0x2a, 0);
	expect_regs(v, 42, 0xf30400, 0xfb0400);
	expect_regs(v, 43, 0xf30000, 0xfb0000);
	sync_at(v, 44, &uc);
	line(10, 0, 2);
	expect_win(v, 45, 0, 0, 0);

	printf("-- level, IRQ 10 (ELCR)\n");
	sync_at(v, 50, &uc);
	printf("guest: ELCRs 0x%llx 0x%llx\n", (unsigned long long)uc.args[1],
	       (unsigned long long)uc.args[2]);
	KT_ASSERT_EQ(uc.args[1], 0);
	KT_ASSERT_EQ(uc.args[2], 0x04);
	line(10, 1, 1);
	expect_win(v, 51, 1, 0x2a, 0);
	expect_regs(v, 52, 0xf30400, 0xfb0404); /* INTA leaves level IRR */
	sync_at(v, 53, &uc);
	line(10, 1, 0); /* pending already: the PIC 0, the I/O APIC 0 */
	expect_win(v, 54, 1, 0x2a, 0); /* EOI with the line high */
	sync_at(v, 55, &uc);
	line(10, 0, 2);
	expect_regs(v, 56, 0xf30400, 0xfb0400);
	expect_win(v, 57, 0, 0, 0);
	expect_regs(v, 58, 0xf30000, 0xfb0000);

	printf("-- masked edge, IRQ 3\n");
	sync_at(v, 60, &uc);
	printf("guest: master IMR 0x%llx\n", (unsigned long long)uc.args[1]);
	line(3, 1, -1);
	line(3, 0, 1); /* the PIC -1, the I/O APIC 1 */
	expect_win(v, 61, 0, 0, 0);
	expect_regs(v, 62, 0xfb0008, 0xfb0000);
	expect_win(v, 63, 1, 0x23, 0); /* unmasked */
	expect_win(v, 64, 0, 0, 0);

	printf("-- masked level, IRQ 10 held high\n");
	sync_at(v, 70, &uc);
	printf("guest: slave IMR 0x%llx\n", (unsigned long long)uc.args[1]);
	line(10, 1, -1);
	expect_win(v, 71, 0, 0, 0);
	expect_regs(v, 72, 0xf30000, 0xff0004);
	expect_win(v, 73, 1, 0x2a, 0); /* unmasked */
	expect_win(v, 74, 1, 0x2a, 0); /* EOI, still high */
	sync_at(v, 75, &uc);
	line(10, 0, 2);
	expect_win(v, 76, 0, 0, 0);

	printf("-- masked level, IRQ 10 pulse\n");
	sync_at(v, 80, &uc);
	line(10, 1, -1);
	line(10, 0, 1);
	expect_win(v, 81, 0, 0, 0);
	expect_regs(v, 82, 0xf30000, 0xfb0000);

	printf("-- port 0x61, PIT channel 2\n");
	sync_at(v, 90, &uc);
	printf("guest: port 0x61 bits 0-1 at reset 0x%llx\n",
	       (unsigned long long)uc.args[1]);
	KT_ASSERT_EQ(uc.args[1], 0);
	sync_at(v, 91, &uc);
	printf("guest: 0x03 written, bits 0-1 0x%llx; OUT2 went high: %s\n",
	       (unsigned long long)uc.args[1], uc.args[2] ? "yes" : "NO");
	KT_ASSERT_EQ(uc.args[1], 3);
	KT_ASSERT_EQ(uc.args[2], 1);
	sync_at(v, 92, &uc);
	printf("guest: 0x02 written, bits 0-1 0x%llx\n",
	       (unsigned long long)uc.args[1]);
	KT_ASSERT_EQ(uc.args[1], 2);
	sync_at(v, 93, &uc);
	printf("guest: 0x01 written, bits 0-1 0x%llx\n",
	       (unsigned long long)uc.args[1]);
	KT_ASSERT_EQ(uc.args[1], 1);
	sync_at(v, 94, &uc);
	printf("guest: 0x00 written, bits 0-1 0x%llx; %llu interrupts in all\n",
	       (unsigned long long)uc.args[1], (unsigned long long)uc.args[2]);
	KT_ASSERT_EQ(uc.args[1], 0);
	KT_ASSERT_EQ(uc.args[2], 9);

	dump_pic(KVM_IRQCHIP_PIC_MASTER, "master");
	dump_pic(KVM_IRQCHIP_PIC_SLAVE, "slave");
	kt_expect_done(v);
	kt_pass();
}
