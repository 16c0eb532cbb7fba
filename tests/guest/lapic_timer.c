// SPDX-License-Identifier: GPL-2.0
/*
 * lapic_timer - the in-kernel local APIC timer wakes a halted vCPU, and
 * HLT does not exit to the VMM when the VM has an in-kernel irqchip.
 * The guest (64-bit) enables its APIC, then:
 *   - one-shot, divide by 1, initial count 1000000 (1 ms of APIC bus
 *     clock): HLT until the handler ran; TMCCT reads 0 afterwards;
 *   - periodic, count 200000: HLT in a bounded loop until 5 ticks arrived,
 *     then masks the timer and takes a tick still pending (no rates are
 *     asserted, only "at least");
 *   - TSC-deadline (CPUID.1:ECX[24] given to the guest): IA32_TSC_DEADLINE
 *     = TSC + 1000000, HLT until it fired; the MSR reads 0 after expiry;
 *   - the LVT timer masked with a count: no interrupt, HLT would sleep
 *     forever: the guest does not halt there, it checks IRR instead.
 * The VMM sees only ucalls: any KVM_EXIT_HLT fails the test.
 */
#define _GNU_SOURCE
#include "kvmtest.h"
#include "irqchip.h"

#include <string.h>

#define TIMER_VEC 0x50
#define MSR_TSC_DEADLINE 0x6e0

static volatile uint64_t ticks;

static void timer_handler(struct guest_frame *f)
{
	(void)f;
	ticks++;
	apic_write(APIC_EOI, 0);
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return lo | (uint64_t)hi << 32;
}

/* HLT with interrupts enabled until ticks reaches n (bounded). */
static uint64_t wait_ticks(uint64_t n)
{
	uint64_t i;

	for (i = 0; i < 1000 && ticks < n; i++)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	return i;
}

static void guest_main(void)
{
	uint32_t r[4];

	guest_idt_init();
	guest_handlers[TIMER_VEC] = timer_handler;
	apic_write(APIC_SVR, 0x1ff);
	apic_write(APIC_TDCR, 0xb); /* divide by 1 */

	/* one-shot */
	apic_write(APIC_LVTT, TIMER_VEC);
	apic_write(APIC_TMICT, 1000000);
	wait_ticks(1);
	GUEST_SYNC(1, ticks, apic_read(APIC_TMCCT));

	/* periodic */
	ticks = 0;
	apic_write(APIC_LVTT, TIMER_VEC | (1u << 17));
	apic_write(APIC_TMICT, 200000);
	wait_ticks(5);
	apic_write(APIC_LVTT, TIMER_VEC | 0x10000);
	apic_write(APIC_TMICT, 0);
	/*
	 * A period that ended after the fifth tick and before the mask may
	 * still wait in IRR: take it here, or the TSC-deadline step counts it.
	 */
	__asm__ volatile("sti; nop; nop; cli" ::: "memory");
	GUEST_SYNC(2, ticks >= 5, 0);

	/* TSC deadline, if the CPUID says so */
	guest_cpuid(1, 0, r);
	if (r[2] & (1u << 24)) {
		ticks = 0;
		apic_write(APIC_LVTT, TIMER_VEC | (2u << 17));
		guest_wrmsr(MSR_TSC_DEADLINE, rdtsc() + 1000000);
		wait_ticks(1);
		GUEST_SYNC(3, ticks, guest_rdmsr(MSR_TSC_DEADLINE));
	} else {
		GUEST_SYNC(3, 1, 0);
	}

	/* masked: the count runs out, no interrupt is requested */
	ticks = 0;
	apic_write(APIC_LVTT, TIMER_VEC | 0x10000);
	apic_write(APIC_TMICT, 1000);
	while (apic_read(APIC_TMCCT))
		;
	__asm__ volatile("sti; nop; nop; cli" ::: "memory");
	GUEST_SYNC(4, ticks, apic_read(APIC_IRR + (TIMER_VEC / 32) * 0x10));
	GUEST_DONE();
	guest_hlt_forever();
}

#define ADDR(sym) ((uint64_t)(uintptr_t)(sym))

int main(void)
{
	struct kt_vm *vm;
	struct kt_vcpu *v;
	struct kt_ucall uc;
	struct {
		struct kvm_cpuid2 c;
		struct kvm_cpuid_entry2 e[16];
	} cp;
	uint32_t i;

	kt_init("lapic_timer");
	vm = kt_vm_irqchip();
	v = kt_vcpu_irqchip(vm, 0);
	/* the default table plus TSC-deadline */
	memset(&cp, 0, sizeof(cp));
	cp.c.nent = 16;
	KT_IOCTL(v->fd, KVM_GET_CPUID2, &cp);
	for (i = 0; i < cp.c.nent; i++)
		if (cp.e[i].function == 1)
			cp.e[i].ecx |= 1u << 24;
	KT_IOCTL(v->fd, KVM_SET_CPUID2, &cp);
	kt_setup_long(v, ADDR(guest_main), KT_STACK_ENTRY);

	kt_expect_sync(v, 1, &uc);
	printf("one-shot: ticks %llu, current count after it %llu\n",
	       (unsigned long long)uc.args[1], (unsigned long long)uc.args[2]);
	KT_ASSERT_EQ(uc.args[1], 1);
	KT_ASSERT_EQ(uc.args[2], 0);
	kt_expect_sync(v, 2, &uc);
	printf("periodic: at least 5 ticks: %s\n", uc.args[1] ? "yes" : "NO");
	KT_ASSERT_EQ(uc.args[1], 1);
	kt_expect_sync(v, 3, &uc);
	printf("TSC deadline: ticks %llu, MSR after expiry 0x%llx\n",
	       (unsigned long long)uc.args[1], (unsigned long long)uc.args[2]);
	KT_ASSERT_EQ(uc.args[1], 1);
	KT_ASSERT_EQ(uc.args[2], 0);
	kt_expect_sync(v, 4, &uc);
	printf("masked: ticks %llu, IRR bit 0x%llx\n",
	       (unsigned long long)uc.args[1],
	       (unsigned long long)(uc.args[2] & (1u << (TIMER_VEC % 32))));
	KT_ASSERT_EQ(uc.args[1], 0);
	kt_expect_done(v);
	kt_pass();
}
