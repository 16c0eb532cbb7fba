// SPDX-License-Identifier: GPL-2.0
/*
 * hostile_cli - a guest that spins forever with interrupts off (CLI; JMP .)
 * in long mode, and one that halts with interrupts off (CLI; HLT in a
 * loop, which without an in-kernel irqchip exits to the VMM each time).
 * The host must keep its CPU: KVM_RUN of the spinning guest returns EINTR
 * when the VMM thread is signalled, the heartbeat on the other CPU keeps
 * beating, and the VMM thread's own state (PKRU, TSC_AUX, its hardware
 * watchpoint, XSS, SPEC_CTRL) is unchanged after each KVM_RUN.  The VM
 * then still works: KVM_SET_REGS moves the guest on to a ucall.
 */
#define _GNU_SOURCE
#include "hostile.h"

#include <string.h>

static void guest_spin(void)
{
	GUEST_SYNC(1, 0, 0);
	__asm__ volatile("cli\n1: jmp 1b");
}

static void guest_cli_hlt(void)
{
	__asm__ volatile("cli\n1: hlt\n jmp 1b");
}

static void guest_after(void)
{
	GUEST_SYNC(2, 0, 0);
	GUEST_DONE();
	guest_hlt_forever();
}

struct hlt_count {
	unsigned long hlts, others;
};

static int count_exit(struct kt_vcpu *v, void *arg)
{
	struct hlt_count *c = arg;

	if (v->run->exit_reason == KVM_EXIT_HLT) {
		c->hlts++;
		return c->hlts >= 1000; /* enough */
	}
	c->others++;
	return 1;
}

static int no_exit_expected(struct kt_vcpu *v, void *arg)
{
	(void)arg;
	kt_fail(__FILE__, __LINE__, "the spinning guest exited: %s",
		kt_exit_name(v->run->exit_reason));
}

static void move_on(struct kt_vcpu *v)
{
	struct kvm_regs r;

	kt_get_regs(v, &r);
	r.rip = (uint64_t)(uintptr_t)guest_after;
	r.rsp = KT_STACK_ENTRY;
	r.rflags = 2;
	kt_set_regs(v, &r);
	kt_expect_sync(v, 2, NULL);
	kt_expect_done(v);
}

int main(void)
{
	struct kt_heartbeat hb;
	struct kt_vmm_state st;
	struct hlt_count hc = { 0, 0 };
	struct kt_vcpu *v;
	struct kvm_regs r;
	int cpu;

	kt_init("hostile_cli");
	/* not CPU 0, whose TSC_AUX is 0 like a fresh guest's */
	cpu = kt_other_cpu(0);
	kt_pin_cpu(cpu);
	kt_heartbeat_start(&hb, kt_other_cpu(cpu));
	kt_vmm_state_save(&st);

	v = kt_create_default();
	kt_setup_long(v, (uint64_t)(uintptr_t)guest_spin, KT_STACK_ENTRY);
	kt_expect_sync(v, 1, NULL);
	kt_vmm_state_check(&st, "after a ucall");

	/* CLI; JMP . : only the signal ends KVM_RUN */
	kt_run_until_signal(v, 500, no_exit_expected, NULL);
	kt_vmm_state_check(&st, "after the CLI loop");
	kt_get_regs(v, &r);
	printf("cli loop: KVM_RUN ended by the signal, IF=%d\n",
	       !!(r.rflags & 0x200));
	KT_ASSERT(!(r.rflags & 0x200));
	move_on(v);

	/* CLI; HLT in a loop: a KVM_EXIT_HLT each time, no interrupt */
	kt_setup_long(v, (uint64_t)(uintptr_t)guest_cli_hlt, KT_STACK_ENTRY);
	kt_run_until_signal(v, 60000, count_exit, &hc);
	kt_vmm_state_check(&st, "after the CLI; HLT loop");
	printf("cli hlt loop: %s HLT exits, other exits %lu\n",
	       hc.hlts >= 1000 ? "1000" : "fewer than 1000", hc.others);
	KT_ASSERT_EQ(hc.hlts, 1000);
	KT_ASSERT_EQ(hc.others, 0);
	move_on(v);

	kt_heartbeat_stop(&hb);
	kt_vmm_state_check(&st, "at the end");
	kt_vmm_state_release(&st);
	kt_pass();
}
