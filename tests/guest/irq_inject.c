// SPDX-License-Identifier: GPL-2.0
/*
 * irq_inject - interrupts from a user-space interrupt controller (no
 * KVM_CREATE_IRQCHIP): KVM_INTERRUPT queues a vector that is delivered
 * through the guest's IDT at the next entry, and kvm_run's if_flag and
 * ready_for_interrupt_injection tell the VMM when it may inject.
 *
 * The 64-bit guest (lib/guest64.c IDT, all 256 vectors) has handlers for
 * vectors 0x20, 0x31 and 0xfe that count, record the interrupt frame and
 * report through a ucall, so the host sees every delivery as an exit taken
 * inside the handler.  Checked, at each exit:
 *   - a ucall with IF=1 and nothing queued: if_flag 1, ready 1;
 *   - KVM_INTERRUPT there: the handler runs at once with the right vector,
 *     the frame's RIP is the instruction after the OUT, the frame's RFLAGS
 *     has IF=1, CS is the code selector; inside the handler (interrupt gate)
 *     if_flag 0 and ready 0;
 *   - HLT with IF=1: KVM_EXIT_HLT with RIP past the HLT, if_flag 1, ready 1;
 *     the injected vector's frame RIP is past the HLT;
 *   - nesting: a handler that executes STI reports if_flag 1 and ready 1, and
 *     a second vector injected then interrupts it (frame RIP inside the first
 *     handler), after which the first handler finishes;
 *   - KVM_INTERRUPT with irq 256 or 0xffffffff: EINVAL, nothing delivered;
 *   - a queued vector makes ready 0 (seen through an immediate_exit run);
 *   - KVM_INTERRUPT twice before running: both calls succeed and the second
 *     vector replaces the first, one delivery (Linux 6.1 without an in-kernel
 *     irqchip; api.rst's EEXIST is what it does only with a split irqchip);
 *   - KVM_INTERRUPT while the guest has IF=0 (ready 0): Linux does not wait
 *     for IF; the vector is delivered at the next entry, with IF=0 in the
 *     frame (honouring ready_for_interrupt_injection is the VMM's job);
 *   - a HLT that is the first instruction after an exit (right after a
 *     ucall) exits with ready 1 as well.
 * The last three come last: they are where a driver is most likely to
 * differ from Linux.
 */
#define _GNU_SOURCE
#include "kvmtest.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

/* Ucall stages. */
#define S_IRQ 100    /* from a handler: a1 = vector, a2 = frame RIP */
#define S_NESTED 101 /* from the 0xfe handler after its STI */

static volatile uint64_t irq_count, irq_rflags, irq_cs;

static void irq_handler(struct guest_frame *f)
{
	irq_count++;
	irq_rflags = f->rflags;
	irq_cs = f->cs;
	GUEST_SYNC(S_IRQ, f->vector, f->rip);
	if (f->vector == 0xfe) {
		__asm__ volatile("sti" ::: "memory");
		GUEST_SYNC(S_NESTED, irq_count, 0);
		__asm__ volatile("cli" ::: "memory");
	}
}

/* Addresses the guest resumes at after a ucall or a HLT. */
extern const char ii_after1[], ii_hlt_done[], ii_after3[], ii_after5[],
	ii_after6[], ii_after7[], ii_hlt2_done[];

static void guest_main(void)
{
	guest_idt_init();
	guest_handlers[0x20] = irq_handler;
	guest_handlers[0x31] = irq_handler;
	guest_handlers[0xfe] = irq_handler;
	__asm__ volatile("sti" ::: "memory");

	/* 1: KVM_INTERRUPT at a ucall */
	__asm__ volatile(KT_ASM_SYNC(1) "ii_after1:" ::: KT_ASM_SYNC_CLOBBERS);
	GUEST_SYNC(2, irq_count, 0);

	/* HLT with IF=1, a few instructions after the last exit */
	__asm__ volatile("mov $3, %%ecx\n1: dec %%ecx\n\tjnz 1b\n\t"
			 "hlt\nii_hlt_done:"
			 :
			 :
			 : "rcx", "memory");
	GUEST_SYNC(3, irq_count, 0);

	/* 4: nesting (0xfe, then 0x20 inside it) */
	__asm__ volatile(KT_ASM_SYNC(4) "ii_after3:" ::: KT_ASM_SYNC_CLOBBERS);
	GUEST_SYNC(5, irq_count, 0);

	/* 6: invalid vectors, then a vector queued over immediate_exit */
	__asm__ volatile(KT_ASM_SYNC(6) "ii_after5:" ::: KT_ASM_SYNC_CLOBBERS);
	GUEST_SYNC(7, irq_count, 0);

	/* 8: KVM_INTERRUPT twice before running */
	__asm__ volatile(KT_ASM_SYNC(8) "ii_after6:" ::: KT_ASM_SYNC_CLOBBERS);
	GUEST_SYNC(9, irq_count, 0);

	/* 10: KVM_INTERRUPT while IF=0 */
	__asm__ volatile("cli\n\t" KT_ASM_SYNC(10) "ii_after7:"
			 :
			 :
			 : KT_ASM_SYNC_CLOBBERS);
	GUEST_SYNC(11, irq_count, 0);

	/* 12: HLT right after a ucall, IF=1 */
	__asm__ volatile("sti\n\tnop\n\t" KT_ASM_SYNC(12) "hlt\nii_hlt2_done:"
			 :
			 :
			 : KT_ASM_SYNC_CLOBBERS);
	GUEST_SYNC(13, irq_count, 0);
	GUEST_DONE();
	guest_hlt_forever();
}

#define ADDR(sym) ((uint64_t)(uintptr_t)(sym))

static const char *errname(long r, int e)
{
	if (r == 0)
		return "ok";
	switch (e) {
	case EINVAL:
		return "EINVAL";
	case EEXIST:
		return "EEXIST";
	case EINTR:
		return "EINTR";
	default:
		return "other";
	}
}

static long interrupt(struct kt_vcpu *v, uint32_t irq, int *err)
{
	struct kvm_interrupt i = { .irq = irq };
	long r;

	errno = 0;
	r = ioctl(v->fd, KVM_INTERRUPT, &i);
	*err = errno;
	return r;
}

/* KVM_INTERRUPT that must succeed. */
static void inject(struct kt_vcpu *v, uint32_t irq)
{
	int e;
	long r = interrupt(v, irq, &e);

	printf("KVM_INTERRUPT 0x%x -> %s\n", irq, errname(r, e));
	KT_ASSERT(r == 0, "KVM_INTERRUPT 0x%x: r=%ld errno %d", irq, r, e);
}

static void flags(struct kt_vcpu *v, const char *where, int want_if,
		  int want_ready)
{
	printf("%s: if_flag=%u ready_for_interrupt_injection=%u\n", where,
	       v->run->if_flag, v->run->ready_for_interrupt_injection);
	KT_ASSERT_EQ(v->run->if_flag, want_if);
	KT_ASSERT_EQ(v->run->ready_for_interrupt_injection, want_ready);
}

/*
 * Run to the next exit, which must be a handler's ucall for this vector
 * with the frame RIP expected; check the exit's flags.
 */
static void expect_handler(struct kt_vcpu *v, uint32_t vector,
			   uint64_t frame_rip, int frame_if)
{
	struct kt_ucall uc;
	volatile uint64_t *rflags = KT_GUEST_VAR(v->vm, irq_rflags);
	volatile uint64_t *cs = KT_GUEST_VAR(v->vm, irq_cs);

	kt_expect_sync(v, S_IRQ, &uc);
	printf("  handler ran: vector 0x%llx, frame rip as expected: %s, "
	       "frame IF=%llu, frame cs=0x%llx\n",
	       (unsigned long long)uc.args[1],
	       uc.args[2] == frame_rip ? "yes" : "NO",
	       (unsigned long long)(*rflags >> 9) & 1, (unsigned long long)*cs);
	KT_ASSERT_EQ(uc.args[1], vector);
	KT_ASSERT_EQ(uc.args[2], frame_rip);
	KT_ASSERT_EQ((*rflags >> 9) & 1, frame_if);
	KT_ASSERT_EQ(*cs, KT_SEL_CODE64);
	flags(v, "  inside the handler", 0, 0);
}

/* The guest's count of handler runs, reported by GUEST_SYNC(stage, count). */
static void expect_count(struct kt_vcpu *v, uint64_t stage, uint64_t count)
{
	struct kt_ucall uc;

	kt_expect_sync(v, stage, &uc);
	printf("guest counted %llu handler runs\n",
	       (unsigned long long)uc.args[1]);
	KT_ASSERT_EQ(uc.args[1], count);
}

int main(void)
{
	struct kt_vcpu *v;
	struct kt_ucall uc;
	struct kvm_regs r;
	long ret;
	int e;

	kt_init("irq_inject");
	v = kt_create_default();
	kt_setup_long(v, ADDR(guest_main), KT_STACK_ENTRY);

	printf("-- KVM_INTERRUPT at a ucall exit, IF=1\n");
	kt_expect_sync(v, 1, &uc);
	flags(v, "ucall", 1, 1);
	inject(v, 0x20);
	expect_handler(v, 0x20, ADDR(ii_after1), 1);
	expect_count(v, 2, 1);
	flags(v, "after the handler's IRET", 1, 1);

	printf("-- HLT with IF=1\n");
	kt_run_expect(v, KVM_EXIT_HLT);
	kt_get_regs(v, &r);
	printf("KVM_EXIT_HLT, rip past the hlt: %s\n",
	       r.rip == ADDR(ii_hlt_done) ? "yes" : "NO");
	KT_ASSERT_EQ(r.rip, ADDR(ii_hlt_done));
	flags(v, "HLT exit", 1, 1);
	inject(v, 0x31);
	expect_handler(v, 0x31, ADDR(ii_hlt_done), 1);
	expect_count(v, 3, 2);

	printf("-- nested: 0x20 while the 0xfe handler runs with IF=1\n");
	kt_expect_sync(v, 4, &uc);
	inject(v, 0xfe);
	expect_handler(v, 0xfe, ADDR(ii_after3), 1);
	kt_expect_sync(v, S_NESTED, &uc);
	printf("0xfe handler after STI:\n");
	flags(v, "  ucall", 1, 1);
	kt_get_regs(v, &r);
	inject(v, 0x20);
	expect_handler(v, 0x20, r.rip + 2, 1); /* past the handler's OUT */
	expect_count(v, 5, 4);

	printf("-- invalid vectors\n");
	kt_expect_sync(v, 6, &uc);
	ret = interrupt(v, 256, &e);
	printf("KVM_INTERRUPT 256 -> %s\n", errname(ret, e));
	KT_ASSERT(ret == -1 && e == EINVAL, "r=%ld errno %d", ret, e);
	ret = interrupt(v, 0xffffffffu, &e);
	printf("KVM_INTERRUPT 0xffffffff -> %s\n", errname(ret, e));
	KT_ASSERT(ret == -1 && e == EINVAL, "r=%ld errno %d", ret, e);
	inject(v, 0x31);
	v->run->immediate_exit = 1;
	errno = 0;
	ret = ioctl(v->fd, KVM_RUN, NULL);
	e = errno;
	v->run->immediate_exit = 0;
	printf("KVM_RUN with immediate_exit -> %s\n", errname(ret, e));
	KT_ASSERT(ret == -1 && e == EINTR, "r=%ld errno %d", ret, e);
	flags(v, "with 0x31 queued", 1, 0);
	expect_handler(v, 0x31, ADDR(ii_after5), 1);
	expect_count(v, 7, 5);

	printf("-- KVM_INTERRUPT twice before running\n");
	kt_expect_sync(v, 8, &uc);
	inject(v, 0x20);
	inject(v, 0x31);
	expect_handler(v, 0x31, ADDR(ii_after6), 1);
	expect_count(v, 9, 6);

	printf("-- KVM_INTERRUPT while the guest has IF=0\n");
	kt_expect_sync(v, 10, &uc);
	flags(v, "ucall after CLI", 0, 0);
	inject(v, 0x20);
	expect_handler(v, 0x20, ADDR(ii_after7), 0);
	expect_count(v, 11, 7);

	printf("-- HLT as the first instruction after an exit\n");
	kt_expect_sync(v, 12, &uc);
	kt_run_expect(v, KVM_EXIT_HLT);
	kt_get_regs(v, &r);
	printf("KVM_EXIT_HLT, rip past the hlt: %s\n",
	       r.rip == ADDR(ii_hlt2_done) ? "yes" : "NO");
	KT_ASSERT_EQ(r.rip, ADDR(ii_hlt2_done));
	flags(v, "HLT exit", 1, 1);
	inject(v, 0xfe);
	expect_handler(v, 0xfe, ADDR(ii_hlt2_done), 1);
	kt_expect_sync(v, S_NESTED, &uc);
	expect_count(v, 13, 8);
	kt_expect_done(v);
	kt_pass();
}
