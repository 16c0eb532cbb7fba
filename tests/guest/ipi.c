// SPDX-License-Identifier: GPL-2.0
/*
 * ipi - interprocessor interrupts through the in-kernel local APICs, and
 * the kernel's MP state: two vCPUs on a VM with KVM_CREATE_IRQCHIP.
 *   - KVM_GET_MP_STATE: the BSP (vCPU 0) RUNNABLE, the AP UNINITIALIZED;
 *   - the BSP sends a fixed IPI to itself by physical destination and by
 *     the "self" shorthand: its handler runs with the vector;
 *   - an NMI IPI to itself: the NMI handler (vector 2) runs;
 *   - INIT then SIPI (vector 8) to APIC 1: the AP's thread, blocked in
 *     KVM_RUN since the start, gets EAGAIN once the SIPI is taken (Linux:
 *     KVM_RUN of an UNINITIALIZED vCPU waits for an event), then starts in
 *     real mode at CS 0x800 (base 0x8000), IP 0, and its first exit is the
 *     OUT of the code placed there; then MP_STATE RUNNABLE;
 *   - KVM_SET_LAPIC software-enables the AP's APIC; a fixed IPI from the
 *     BSP to the AP is then pending in the AP's IRR (KVM_GET_LAPIC).
 */
#define _GNU_SOURCE
#include "kvmtest.h"
#include "irqchip.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/ioctl.h>

#define S_IRQ 100

static volatile uint64_t irq_count, nmi_count;

static void irq_handler(struct guest_frame *f)
{
	irq_count++;
	GUEST_SYNC(S_IRQ, f->vector, 0);
	apic_write(APIC_EOI, 0);
}

static void nmi_handler(struct guest_frame *f)
{
	nmi_count++;
	GUEST_SYNC(S_IRQ, f->vector, 0);
}

static void send_ipi(uint8_t dest, uint32_t icr)
{
	apic_write(APIC_ICR2, (uint32_t)dest << 24);
	apic_write(APIC_ICR, icr);
}

static void guest_main(void)
{
	guest_idt_init();
	guest_handlers[0x60] = irq_handler;
	guest_handlers[0x61] = irq_handler;
	guest_handlers[2] = nmi_handler;
	apic_write(APIC_SVR, 0x1ff);
	__asm__ volatile("sti" ::: "memory");

	send_ipi(0, 0x60); /* fixed, physical 0 */
	GUEST_SYNC(1, irq_count, 0);
	send_ipi(0, 0x40061); /* fixed, shorthand self */
	GUEST_SYNC(2, irq_count, 0);
	send_ipi(0, 0x400); /* NMI */
	GUEST_SYNC(3, nmi_count, 0);
	send_ipi(1, 0x4500); /* INIT, assert */
	send_ipi(1, 0x4608); /* SIPI, page 8 */
	GUEST_SYNC(4, 0, 0);
	send_ipi(1, 0x62); /* fixed to the AP, which has IF=0 */
	GUEST_SYNC(5, 0, 0);
	GUEST_DONE();
	guest_hlt_forever();
}

/*
 * The AP's code at 0x8000, real mode: a ucall SYNC(7) (OUT EAX to 0xf1
 * with EDI = 7), then CLI; HLT forever.
 */
static const uint8_t ap_code[] = {
	0xfa,                               /* cli */
	0x66, 0xbf, 0x07, 0x00, 0x00, 0x00, /* mov $7, %edi */
	0x66, 0xb8, 0x01, 0x00, 0x00, 0x00, /* mov $1, %eax (UC_SYNC) */
	0x66, 0x31, 0xf6,                   /* xor %esi, %esi */
	0x66, 0x31, 0xd2,                   /* xor %edx, %edx */
	0x66, 0xe7, 0xf1,                   /* out %eax, $0xf1 */
	0xf4,                               /* hlt */
	0xeb, 0xfd,                         /* jmp hlt */
};

struct ap_result {
	long first_ret;
	int first_errno;
	uint32_t exit_reason;
	uint16_t port;
	uint64_t rdi, rip;
	uint16_t cs_sel;
	uint64_t cs_base;
	uint32_t mp_state;
};

static struct kt_vcpu *ap;
static struct ap_result apr;

static void *ap_thread(void *arg)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	struct kvm_mp_state mp;

	(void)arg;
	/* UNINITIALIZED: KVM_RUN waits for INIT/SIPI, then says EAGAIN */
	errno = 0;
	apr.first_ret = ioctl(ap->fd, KVM_RUN, NULL);
	apr.first_errno = errno;
	apr.exit_reason = kt_run_raw(ap);
	apr.port = ap->run->io.port;
	kt_get_regs(ap, &r);
	kt_get_sregs(ap, &s);
	apr.rdi = r.rdi;
	apr.rip = r.rip;
	apr.cs_sel = s.cs.selector;
	apr.cs_base = s.cs.base;
	KT_IOCTL(ap->fd, KVM_GET_MP_STATE, &mp);
	apr.mp_state = mp.mp_state;
	return NULL;
}

static void expect_irq(struct kt_vcpu *v, uint64_t vector)
{
	struct kt_ucall uc;

	kt_expect_sync(v, S_IRQ, &uc);
	printf("  BSP handler: vector 0x%llx\n",
	       (unsigned long long)uc.args[1]);
	KT_ASSERT_EQ(uc.args[1], vector);
}

int main(void)
{
	struct kt_vm *vm;
	struct kt_vcpu *bsp;
	struct kt_ucall uc;
	struct kvm_mp_state mp;
	struct kvm_lapic_state ls;
	pthread_t t;
	uint32_t irr, svr;

	kt_init("ipi");
	vm = kt_vm_irqchip();
	bsp = kt_vcpu_irqchip(vm, 0);
	ap = kt_vcpu_irqchip(vm, 1);
	memcpy(kt_gpa2hva(vm, 0x8000), ap_code, sizeof(ap_code));
	KT_IOCTL(bsp->fd, KVM_GET_MP_STATE, &mp);
	printf("BSP mp_state %u\n", mp.mp_state);
	KT_ASSERT_EQ(mp.mp_state, KVM_MP_STATE_RUNNABLE);
	KT_IOCTL(ap->fd, KVM_GET_MP_STATE, &mp);
	printf("AP mp_state %u\n", mp.mp_state);
	KT_ASSERT_EQ(mp.mp_state, KVM_MP_STATE_UNINITIALIZED);
	KT_ASSERT(pthread_create(&t, NULL, ap_thread, NULL) == 0, "thread");

	kt_setup_long(bsp, (uint64_t)(uintptr_t)guest_main, KT_STACK_ENTRY);
	printf("-- fixed IPI to self (physical)\n");
	expect_irq(bsp, 0x60);
	kt_expect_sync(bsp, 1, &uc);
	KT_ASSERT_EQ(uc.args[1], 1);
	printf("-- fixed IPI, shorthand self\n");
	expect_irq(bsp, 0x61);
	kt_expect_sync(bsp, 2, &uc);
	KT_ASSERT_EQ(uc.args[1], 2);
	printf("-- NMI IPI to self\n");
	expect_irq(bsp, 2);
	kt_expect_sync(bsp, 3, &uc);
	KT_ASSERT_EQ(uc.args[1], 1);

	printf("-- INIT, SIPI to the AP\n");
	kt_expect_sync(bsp, 4, &uc);
	KT_ASSERT(pthread_join(t, NULL) == 0, "join");
	printf("AP: first KVM_RUN -> %s\n",
	       kt_errname(apr.first_ret, apr.first_errno));
	printf("AP: first exit %s port 0x%x, edi %llu, cs 0x%x base 0x%llx, "
	       "ip at the out: %s, mp_state %u\n",
	       kt_exit_name(apr.exit_reason), apr.port,
	       (unsigned long long)apr.rdi, apr.cs_sel,
	       (unsigned long long)apr.cs_base, apr.rip == 0x13 ? "yes" : "NO",
	       apr.mp_state);
	KT_ASSERT_EQ(apr.exit_reason, KVM_EXIT_IO);
	KT_ASSERT_EQ(apr.port, 0xf1);
	KT_ASSERT_EQ(apr.rdi, 7);
	KT_ASSERT_EQ(apr.cs_sel, 0x800);
	KT_ASSERT_EQ(apr.cs_base, 0x8000);
	KT_ASSERT_EQ(apr.mp_state, KVM_MP_STATE_RUNNABLE);

	printf("-- fixed IPI to the AP\n");
	/* the AP's APIC software-enabled by the VMM (KVM_SET_LAPIC) */
	KT_IOCTL(ap->fd, KVM_GET_LAPIC, &ls);
	svr = 0x1ff;
	memcpy(&ls.regs[APIC_SVR], &svr, 4);
	KT_IOCTL(ap->fd, KVM_SET_LAPIC, &ls);
	kt_expect_sync(bsp, 5, &uc);
	KT_IOCTL(ap->fd, KVM_GET_LAPIC, &ls);
	memcpy(&irr, &ls.regs[APIC_IRR + (0x62 / 32) * 0x10], 4);
	printf("AP IRR has 0x62: %s\n",
	       irr & (1u << (0x62 % 32)) ? "yes" : "NO");
	KT_ASSERT(irr & (1u << (0x62 % 32)), "IRR 0x%x", irr);
	kt_expect_done(bsp);
	kt_pass();
}
