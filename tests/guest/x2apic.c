// SPDX-License-Identifier: GPL-2.0
/*
 * x2apic - the in-kernel local APIC in x2APIC mode, and HLT wake-ups by
 * IPI: two 64-bit vCPUs on a VM with KVM_CREATE_IRQCHIP, both given the
 * x2APIC (CPUID.1:ECX[21], from KVM_GET_SUPPORTED_CPUID) and TSC-deadline
 * (ECX[24], KVM_CAP_TSC_DEADLINE_TIMER) bits; the AP is made RUNNABLE by
 * KVM_SET_MP_STATE and starts in long mode like the BSP.
 *
 * The BSP (vCPU 0):
 *   - switches its APIC to x2APIC mode (APIC_BASE bits 10 and 11) and
 *     reads the mode back; reads its ID (MSR 0x802: 0), version (0x803:
 *     0x14, 6 LVT entries) and logical destination (0x80d: cluster 0,
 *     bit 0);
 *   - #GP on WRMSR to the read-only version register and on RDMSR of the
 *     write-only SELF IPI register (0x83f);
 *   - a SELF IPI (0x83f) and an ICR (0x830, one 64-bit write, destination
 *     in bits 63:32) fixed IPI to itself: the handlers run with the vectors;
 *   - the timer through the MSRs: one-shot (0x832, 0x838, 0x83e) wakes its
 *     HLT, the current count (0x839) reads 0 after; TSC-deadline mode
 *     (IA32_TSC_DEADLINE) wakes its HLT once, the MSR reads 0 after;
 *   - waits (ucall) while the host lets the AP go to sleep, then sends the
 *     AP a fixed IPI by ICR (physical destination 1), waits again, then an
 *     NMI IPI.
 * The AP (vCPU 1): switches to x2APIC mode (ID 1, logical destination
 * bit 1), then HLTs with interrupts enabled: the fixed IPI must wake it
 * (its handler ran with the vector) and, halted again with interrupts
 * disabled, so must the NMI.
 * The host gives each halted vCPU 100 ms before the BSP sends it the IPI, so
 * that the AP is asleep in KVM_RUN (no exit reaches the VMM for HLT: any
 * exit other than the ucalls fails the test).  The checks do not depend on
 * that delay, only which path they take.
 */
#define _GNU_SOURCE
#include "kvmtest.h"
#include "irqchip.h"

#include <pthread.h>
#include <semaphore.h>
#include <string.h>
#include <time.h>

#define MSR_APIC_BASE 0x1b
#define MSR_TSC_DEADLINE 0x6e0
#define X2_ID 0x802
#define X2_VER 0x803
#define X2_EOI 0x80b
#define X2_LDR 0x80d
#define X2_SVR 0x80f
#define X2_ICR 0x830
#define X2_LVTT 0x832
#define X2_TMICT 0x838
#define X2_TMCCT 0x839
#define X2_TDCR 0x83e
#define X2_SELF_IPI 0x83f

#define TIMER_VEC 0x50
#define SELF_VEC 0x61
#define ICR_VEC 0x62
#define AP_VEC 0x63

/* per CPU (index: x2APIC ID) where both run the handler */
static volatile uint64_t ticks, last_vec[2], irqs[2], nmis;

static void timer_handler(struct guest_frame *f)
{
	(void)f;
	ticks++;
	guest_wrmsr(X2_EOI, 0);
}

static void irq_handler(struct guest_frame *f)
{
	uint64_t cpu = guest_rdmsr(X2_ID) & 1;

	last_vec[cpu] = f->vector;
	irqs[cpu]++;
	guest_wrmsr(X2_EOI, 0);
}

static void nmi_handler(struct guest_frame *f)
{
	(void)f;
	nmis++;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return lo | (uint64_t)hi << 32;
}

/* Enable the x2APIC mode and software-enable the APIC. */
static uint64_t x2apic_on(void)
{
	uint64_t base = guest_rdmsr(MSR_APIC_BASE);

	guest_wrmsr(MSR_APIC_BASE, base | (1u << 11) | (1u << 10));
	guest_wrmsr(X2_SVR, 0x1ff);
	return guest_rdmsr(MSR_APIC_BASE) & (3u << 10);
}

/* The vector of the fault of a WRMSR (write) or RDMSR, 0xff for none. */
static uint64_t msr_fault(uint32_t msr, int write)
{
	uint32_t lo = 0, hi = 0;

	guest_exc_reset();
	if (write)
		__asm__ volatile(GUEST_TRY("wrmsr")::"c"(msr), "a"(lo), "d"(hi)
				 : "memory");
	else
		__asm__ volatile(GUEST_TRY("rdmsr")
				 : "+a"(lo), "+d"(hi)
				 : "c"(msr)
				 : "memory");
	return guest_exc.vector;
}

/* HLT with interrupts enabled until *counter reaches n (bounded). */
static void wait_for(volatile uint64_t *counter, uint64_t n)
{
	int i;

	for (i = 0; i < 1000 && *counter < n; i++)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
}

static void bsp_main(void)
{
	uint64_t ver;

	GUEST_SYNC(1, x2apic_on(), 0);
	ver = guest_rdmsr(X2_VER);
	GUEST_SYNC(2, guest_rdmsr(X2_ID), guest_rdmsr(X2_LDR));
	GUEST_SYNC(3, ver & 0xff, (ver >> 16) & 0xff);
	GUEST_SYNC(4, msr_fault(X2_VER, 1), msr_fault(X2_SELF_IPI, 0));

	guest_wrmsr(X2_SELF_IPI, SELF_VEC);
	__asm__ volatile("sti; nop; cli" ::: "memory");
	GUEST_SYNC(5, last_vec[0], irqs[0]);
	guest_wrmsr(X2_ICR, ICR_VEC); /* fixed, physical, destination 0 */
	__asm__ volatile("sti; nop; cli" ::: "memory");
	GUEST_SYNC(6, last_vec[0], irqs[0]);

	/* one-shot timer, divide by 1 */
	guest_wrmsr(X2_TDCR, 0xb);
	guest_wrmsr(X2_LVTT, TIMER_VEC);
	guest_wrmsr(X2_TMICT, 1000000);
	wait_for(&ticks, 1);
	GUEST_SYNC(7, ticks, guest_rdmsr(X2_TMCCT));
	/* TSC deadline */
	ticks = 0;
	guest_wrmsr(X2_LVTT, TIMER_VEC | (2u << 17));
	guest_wrmsr(MSR_TSC_DEADLINE, rdtsc() + 1000000);
	wait_for(&ticks, 1);
	GUEST_SYNC(8, ticks, guest_rdmsr(MSR_TSC_DEADLINE));
	guest_wrmsr(X2_LVTT, TIMER_VEC | 0x10000);

	/* the AP sleeps in HLT: wake it */
	GUEST_SYNC(9, 0, 0);
	guest_wrmsr(X2_ICR, (1ull << 32) | AP_VEC);
	GUEST_SYNC(10, 0, 0);
	guest_wrmsr(X2_ICR, (1ull << 32) | 0x400); /* NMI */
	GUEST_DONE();
	guest_hlt_forever();
}

static void ap_main(void)
{
	GUEST_SYNC(20, x2apic_on(), 0);
	GUEST_SYNC(21, guest_rdmsr(X2_ID), guest_rdmsr(X2_LDR));
	wait_for(&irqs[1], 1);
	GUEST_SYNC(22, last_vec[1], irqs[1]);
	/* interrupts off: only the NMI can end this HLT */
	__asm__ volatile("cli; hlt" ::: "memory");
	GUEST_SYNC(23, nmis, 0);
	GUEST_DONE();
	guest_hlt_forever();
}

static void guest_main(void)
{
	guest_idt_init();
	guest_handlers[TIMER_VEC] = timer_handler;
	guest_handlers[SELF_VEC] = irq_handler;
	guest_handlers[ICR_VEC] = irq_handler;
	guest_handlers[AP_VEC] = irq_handler;
	guest_handlers[2] = nmi_handler;
	/* xAPIC ID register: bits 31:24 */
	if (apic_read(APIC_ID) >> 24)
		ap_main();
	bsp_main();
}

#define ADDR(sym) ((uint64_t)(uintptr_t)(sym))

static struct kt_vcpu *ap;
static sem_t ap_halting, ap_woken;
static struct kt_ucall ap_uc[4];

static void pause_ms(long ms)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = ms * 1000000L };

	nanosleep(&ts, NULL);
}

/* The AP's thread: its ucalls, in order; the main thread checks them. */
static void *ap_thread(void *arg)
{
	(void)arg;
	kt_expect_sync(ap, 20, &ap_uc[0]);
	kt_expect_sync(ap, 21, &ap_uc[1]);
	sem_post(&ap_halting);
	kt_expect_sync(ap, 22, &ap_uc[2]);
	sem_post(&ap_woken);
	kt_expect_sync(ap, 23, &ap_uc[3]);
	kt_expect_done(ap);
	return NULL;
}

/* KVM_GET_SUPPORTED_CPUID with x2APIC, plus TSC deadline if announced. */
static void set_cpuid(int kvm, struct kt_vcpu *v)
{
	struct {
		struct kvm_cpuid2 c;
		struct kvm_cpuid_entry2 e[100];
	} cp;
	uint32_t i;

	memset(&cp, 0, sizeof(cp));
	cp.c.nent = 100;
	KT_IOCTL(kvm, KVM_GET_SUPPORTED_CPUID, &cp);
	for (i = 0; i < cp.c.nent; i++) {
		if (cp.e[i].function != 1)
			continue;
		KT_ASSERT(cp.e[i].ecx & (1u << 21),
			  "KVM_GET_SUPPORTED_CPUID without x2APIC");
		cp.e[i].ecx |= 1u << 24;
	}
	KT_IOCTL(v->fd, KVM_SET_CPUID2, &cp);
}

int main(void)
{
	struct kt_vm *vm;
	struct kt_vcpu *bsp;
	struct kt_ucall uc;
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };
	pthread_t t;
	int kvm;

	kt_init("x2apic");
	kvm = kt_open_kvm();
	printf("KVM_CAP_TSC_DEADLINE_TIMER: %s\n",
	       ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0 ?
		       "yes" :
		       "no");
	KT_ASSERT(ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) >
			  0,
		  "no KVM_CAP_TSC_DEADLINE_TIMER");
	vm = kt_vm_irqchip();
	bsp = kt_vcpu_create(vm, 0);
	ap = kt_vcpu_create(vm, 1);
	set_cpuid(kvm, bsp);
	set_cpuid(kvm, ap);
	KT_IOCTL(ap->fd, KVM_SET_MP_STATE, &mp);
	kt_setup_long(bsp, ADDR(guest_main), KT_STACK_ENTRY);
	kt_setup_long(ap, ADDR(guest_main), KT_STACK_ENTRY - 0x100000);
	KT_ASSERT(sem_init(&ap_halting, 0, 0) == 0, "sem");
	KT_ASSERT(sem_init(&ap_woken, 0, 0) == 0, "sem");

	kt_expect_sync(bsp, 1, &uc);
	printf("BSP: APIC_BASE mode bits 0x%llx\n",
	       (unsigned long long)uc.args[1]);
	KT_ASSERT_EQ(uc.args[1], 3u << 10);
	kt_expect_sync(bsp, 2, &uc);
	printf("BSP: x2APIC ID %llu, LDR 0x%llx\n",
	       (unsigned long long)uc.args[1], (unsigned long long)uc.args[2]);
	KT_ASSERT_EQ(uc.args[1], 0);
	KT_ASSERT_EQ(uc.args[2], 1);
	kt_expect_sync(bsp, 3, &uc);
	printf("BSP: version 0x%llx, max LVT %llu\n",
	       (unsigned long long)uc.args[1], (unsigned long long)uc.args[2]);
	KT_ASSERT_EQ(uc.args[1], 0x14);
	kt_expect_sync(bsp, 4, &uc);
	printf("BSP: WRMSR version -> vector %llu, RDMSR SELF IPI -> vector "
	       "%llu\n",
	       (unsigned long long)uc.args[1], (unsigned long long)uc.args[2]);
	KT_ASSERT_EQ(uc.args[1], 13);
	KT_ASSERT_EQ(uc.args[2], 13);
	kt_expect_sync(bsp, 5, &uc);
	printf("BSP: SELF IPI -> vector 0x%llx (%llu interrupt)\n",
	       (unsigned long long)uc.args[1], (unsigned long long)uc.args[2]);
	KT_ASSERT_EQ(uc.args[1], SELF_VEC);
	KT_ASSERT_EQ(uc.args[2], 1);
	kt_expect_sync(bsp, 6, &uc);
	printf("BSP: ICR fixed to self -> vector 0x%llx (%llu interrupts)\n",
	       (unsigned long long)uc.args[1], (unsigned long long)uc.args[2]);
	KT_ASSERT_EQ(uc.args[1], ICR_VEC);
	KT_ASSERT_EQ(uc.args[2], 2);
	kt_expect_sync(bsp, 7, &uc);
	printf("BSP: one-shot by MSR: ticks %llu, current count %llu\n",
	       (unsigned long long)uc.args[1], (unsigned long long)uc.args[2]);
	KT_ASSERT_EQ(uc.args[1], 1);
	KT_ASSERT_EQ(uc.args[2], 0);
	kt_expect_sync(bsp, 8, &uc);
	printf("BSP: TSC deadline: ticks %llu, MSR after 0x%llx\n",
	       (unsigned long long)uc.args[1], (unsigned long long)uc.args[2]);
	KT_ASSERT_EQ(uc.args[1], 1);
	KT_ASSERT_EQ(uc.args[2], 0);
	kt_expect_sync(bsp, 9, &uc);

	KT_ASSERT(pthread_create(&t, NULL, ap_thread, NULL) == 0, "thread");
	sem_wait(&ap_halting);
	pause_ms(100);                /* the AP goes to sleep in its HLT */
	kt_expect_sync(bsp, 10, &uc); /* the BSP sent the fixed IPI */
	sem_wait(&ap_woken);
	pause_ms(100);
	kt_expect_done(bsp); /* and the NMI */
	KT_ASSERT(pthread_join(t, NULL) == 0, "join");

	printf("AP: APIC_BASE mode bits 0x%llx\n",
	       (unsigned long long)ap_uc[0].args[1]);
	KT_ASSERT_EQ(ap_uc[0].args[1], 3u << 10);
	printf("AP: x2APIC ID %llu, LDR 0x%llx\n",
	       (unsigned long long)ap_uc[1].args[1],
	       (unsigned long long)ap_uc[1].args[2]);
	KT_ASSERT_EQ(ap_uc[1].args[1], 1);
	KT_ASSERT_EQ(ap_uc[1].args[2], 2);
	printf("AP: woken from HLT by vector 0x%llx (%llu interrupt)\n",
	       (unsigned long long)ap_uc[2].args[1],
	       (unsigned long long)ap_uc[2].args[2]);
	KT_ASSERT_EQ(ap_uc[2].args[1], AP_VEC);
	KT_ASSERT_EQ(ap_uc[2].args[2], 1);
	printf("AP: woken from HLT (IF=0) by %llu NMI\n",
	       (unsigned long long)ap_uc[3].args[1]);
	KT_ASSERT_EQ(ap_uc[3].args[1], 1);
	kt_pass();
}
