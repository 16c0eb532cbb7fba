// SPDX-License-Identifier: GPL-2.0
/*
 * irq_window - kvm_run->request_interrupt_window with a user-space interrupt
 * controller: KVM_RUN returns KVM_EXIT_IRQ_WINDOW_OPEN as soon as the guest
 * can take an external interrupt (RFLAGS.IF=1 and no interrupt shadow), and
 * not before; the VMM then injects with KVM_INTERRUPT.
 *
 *   1. The guest runs with IF=0 (CLI) while the window is requested: its port
 *      I/O (OUT, IN with data from the host) and a HLT with IF=0 are ordinary
 *      exits (if_flag 0, ready 0), never a window exit.  Then it executes
 *      STI; NOP.  STI's interrupt shadow covers the NOP (architectural), so
 *      the window exit comes with RIP after the NOP, not after the STI, with
 *      if_flag 1 and ready 1.  KVM_INTERRUPT then runs the handler with the
 *      frame's RIP at that same place.
 *   2. IF=1 already at a ucall exit: with the window requested, KVM_RUN
 *      returns KVM_EXIT_IRQ_WINDOW_OPEN before the guest runs a single
 *      instruction (RIP right after the OUT, a guest counter that the next
 *      instructions would bump untouched), and again on a second KVM_RUN
 *      while the request stays set; without the request the guest goes on.
 *   3. STI as the very first instruction after an exit, and STI followed by
 *      CPUID (an instruction KVM handles in the kernel, which exits and
 *      re-enters inside the shadow): the window still opens only after the
 *      instruction that follows the STI.
 * Phases 2 and 3 depend on what the guest's first instruction after an entry
 * looks like to the CPU, where a driver can leak state from its own entry
 * path; they come last.
 *
 * The MOV SS shadow is not tested: with IF=1 a requested window opens at the
 * entry itself, before any MOV SS could run, and KVM_INTERRUPT delivers at
 * the entry too, so no VMM-visible event can fall on the boundary after a
 * MOV SS.  In the test box an exit taken inside a shadow (an OUT right after
 * STI) reports ready 1 under kvm_amd although the shadow is still in effect
 * there, so such exits are not checked either.
 */
#define _GNU_SOURCE
#include "kvmtest.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#define S_IRQ 100 /* from the handler: a1 = vector, a2 = frame RIP */
#define PORT 0x80

static volatile uint64_t irq_count, counter, in_value;

static void irq_handler(struct guest_frame *f)
{
	irq_count++;
	GUEST_SYNC(S_IRQ, f->vector, f->rip);
}

extern const char w_out1[], w_in1[], w_hlt_done[], w_win1[], w_after3[],
	w_win5[], w_win6[];

static void guest_main(void)
{
	uint32_t in;

	guest_idt_init();
	guest_handlers[0x20] = irq_handler;

	// clang-format off
	/* 1 */
	__asm__ volatile("cli\n\t" KT_ASM_SYNC(1) : : : KT_ASM_SYNC_CLOBBERS);
	__asm__ volatile("mov $0x5a, %%al\n"
			 "w_out1: outb %%al, $" KT_STR(PORT) "\n"
			 "w_in1: inl $" KT_STR(PORT) ", %%eax\n\t"
			 "hlt\n"
			 "w_hlt_done:\n\t"
			 "mov $1, %%ecx\n\t"
			 "mov $2, %%edx\n\t"
			 "sti\n\t"
			 "nop\n"
			 "w_win1:"
			 : "=a"(in) : : "rcx", "rdx", "memory");
	in_value = in;
	GUEST_SYNC(2, irq_count, in_value);

	/* 2 */
	__asm__ volatile(KT_ASM_SYNC(3)
			 "w_after3:\n\t"
			 "incq counter(%%rip)\n\t"
			 "incq counter(%%rip)"
			 : : : KT_ASM_SYNC_CLOBBERS);
	GUEST_SYNC(4, irq_count, counter);

	/* 3 */
	__asm__ volatile("cli\n\t" KT_ASM_SYNC(5)
			 "sti\n\t"
			 "nop\n"
			 "w_win5:"
			 : : : KT_ASM_SYNC_CLOBBERS);
	__asm__ volatile("cli\n\t" KT_ASM_SYNC(6)
			 "nop\n\t"
			 "nop\n\t"
			 "xor %%eax, %%eax\n\t"
			 "xor %%ecx, %%ecx\n\t"
			 "sti\n\t"
			 "cpuid\n"
			 "w_win6:"
			 : : : KT_ASM_SYNC_CLOBBERS, "rbx", "rcx");
	// clang-format on
	GUEST_SYNC(7, irq_count, 0);
	GUEST_DONE();
	guest_hlt_forever();
}

#define ADDR(sym) ((uint64_t)(uintptr_t)(sym))

static void flags(struct kt_vcpu *v, const char *where, int want_if,
		  int want_ready)
{
	printf("%s: if_flag=%u ready_for_interrupt_injection=%u\n", where,
	       v->run->if_flag, v->run->ready_for_interrupt_injection);
	KT_ASSERT_EQ(v->run->if_flag, want_if);
	KT_ASSERT_EQ(v->run->ready_for_interrupt_injection, want_ready);
}

static uint64_t rip(struct kt_vcpu *v)
{
	struct kvm_regs r;

	kt_get_regs(v, &r);
	return r.rip;
}

/* The next exit must be the window opening at this RIP. */
static void expect_window(struct kt_vcpu *v, uint64_t at, const char *what)
{
	uint32_t reason = kt_run(v);
	uint64_t r = rip(v);

	printf("%s: exit %s, rip as expected: %s\n", what, kt_exit_name(reason),
	       r == at ? "yes" : "NO");
	if (reason != KVM_EXIT_IRQ_WINDOW_OPEN || r != at)
		kt_fail(__FILE__, __LINE__,
			"expected IRQ_WINDOW_OPEN at rip 0x%llx, got %s (%u) at 0x%llx",
			(unsigned long long)at, kt_exit_name(reason), reason,
			(unsigned long long)r);
	flags(v, "  window exit", 1, 1);
	KT_ASSERT_EQ(v->run->request_interrupt_window, 1);
}

static void inject(struct kt_vcpu *v, uint32_t irq)
{
	struct kvm_interrupt i = { .irq = irq };

	printf("KVM_INTERRUPT 0x%x\n", irq);
	KT_IOCTL(v->fd, KVM_INTERRUPT, &i);
}

static void expect_handler(struct kt_vcpu *v, uint64_t frame_rip)
{
	struct kt_ucall uc;

	kt_expect_sync(v, S_IRQ, &uc);
	printf("  handler ran: vector 0x%llx, frame rip as expected: %s\n",
	       (unsigned long long)uc.args[1],
	       uc.args[2] == frame_rip ? "yes" : "NO");
	KT_ASSERT_EQ(uc.args[1], 0x20);
	KT_ASSERT_EQ(uc.args[2], frame_rip);
}

int main(void)
{
	struct kt_vcpu *v;
	struct kt_ucall uc;
	uint8_t *d;
	uint32_t reason;

	kt_init("irq_window");
	v = kt_create_default();
	kt_setup_long(v, ADDR(guest_main), KT_STACK_ENTRY);

	printf("-- window requested while the guest has IF=0\n");
	kt_expect_sync(v, 1, &uc);
	flags(v, "ucall after CLI", 0, 0);
	v->run->request_interrupt_window = 1;
	reason = kt_run(v);
	printf("OUT: exit %s\n", kt_exit_name(reason));
	d = kt_check_io(v, PORT, 1, KVM_EXIT_IO_OUT, 1);
	KT_ASSERT_EQ(d[0], 0x5a);
	KT_ASSERT_EQ(rip(v), ADDR(w_out1));
	flags(v, "  OUT exit", 0, 0);
	reason = kt_run(v);
	printf("IN: exit %s\n", kt_exit_name(reason));
	d = kt_check_io(v, PORT, 4, KVM_EXIT_IO_IN, 1);
	KT_ASSERT_EQ(rip(v), ADDR(w_in1));
	memcpy(d, "\x78\x56\x34\x12", 4);
	flags(v, "  IN exit", 0, 0);
	reason = kt_run(v);
	printf("HLT with IF=0: exit %s, rip past the hlt: %s\n",
	       kt_exit_name(reason), rip(v) == ADDR(w_hlt_done) ? "yes" : "NO");
	KT_ASSERT_EQ(reason, KVM_EXIT_HLT);
	KT_ASSERT_EQ(rip(v), ADDR(w_hlt_done));
	flags(v, "  HLT exit", 0, 0);
	expect_window(v, ADDR(w_win1), "STI; NOP");
	v->run->request_interrupt_window = 0;
	inject(v, 0x20);
	expect_handler(v, ADDR(w_win1));
	kt_expect_sync(v, 2, &uc);
	printf("guest: %llu handler run(s), IN read 0x%llx\n",
	       (unsigned long long)uc.args[1], (unsigned long long)uc.args[2]);
	KT_ASSERT_EQ(uc.args[1], 1);
	KT_ASSERT_EQ(uc.args[2], 0x12345678);

	printf("-- window requested while the guest has IF=1\n");
	kt_expect_sync(v, 3, &uc);
	flags(v, "ucall", 1, 1);
	v->run->request_interrupt_window = 1;
	expect_window(v, ADDR(w_after3), "first KVM_RUN");
	printf("  guest instructions run before the exit: %s\n",
	       *KT_GUEST_VAR(v->vm, counter) ? "some" : "none");
	KT_ASSERT_EQ(*KT_GUEST_VAR(v->vm, counter), 0);
	expect_window(v, ADDR(w_after3), "request kept, KVM_RUN again");
	KT_ASSERT_EQ(*KT_GUEST_VAR(v->vm, counter), 0);
	v->run->request_interrupt_window = 0;
	kt_expect_sync(v, 4, &uc);
	printf("request dropped: the guest went on, counter %llu\n",
	       (unsigned long long)uc.args[2]);
	KT_ASSERT_EQ(uc.args[1], 1);
	KT_ASSERT_EQ(uc.args[2], 2);

	printf("-- STI as the first instruction after an exit\n");
	kt_expect_sync(v, 5, &uc);
	v->run->request_interrupt_window = 1;
	expect_window(v, ADDR(w_win5), "STI; NOP");
	printf("-- STI; CPUID (handled in the kernel)\n");
	reason = kt_run(v); /* the window stays open until the CLI */
	KT_ASSERT_EQ(reason, KVM_EXIT_IRQ_WINDOW_OPEN);
	KT_ASSERT_EQ(rip(v), ADDR(w_win5));
	v->run->request_interrupt_window = 0;
	kt_expect_sync(v, 6, &uc);
	v->run->request_interrupt_window = 1;
	expect_window(v, ADDR(w_win6), "STI; CPUID");
	v->run->request_interrupt_window = 0;
	inject(v, 0x20);
	expect_handler(v, ADDR(w_win6));
	kt_expect_sync(v, 7, &uc);
	KT_ASSERT_EQ(uc.args[1], 2);
	kt_expect_done(v);
	kt_pass();
}
