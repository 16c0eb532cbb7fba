// SPDX-License-Identifier: GPL-2.0
/*
 * hostile_db - a #DB storm: the guest arms a hardware breakpoint that the
 * delivery of #DB itself hits again, so that #DB is delivered over and
 * over without the guest retiring an instruction.  CVE-2015-8104's form
 * is a data write breakpoint on the top slot of the IST stack its #DB
 * handler uses (the delivery writes SS there): on a CPU that delivers #DB
 * to the guest by itself that never reaches an instruction boundary and
 * the host never gets its CPU back.  The test bed's QEMU 7.2 cannot run
 * that form (it aborts on a watchpoint hit inside an exception delivery,
 * under kvm_amd and xkvm alike), so the guest here puts an execution
 * breakpoint on the first instruction of its #DB handler, which runs on
 * IST 1, and single-steps an instruction: every delivery of #DB lands on
 * the breakpoint, which raises the next one before the handler runs.
 *
 * With #DB intercepted every delivery is a VM exit: the guest makes no
 * progress, but KVM_RUN returns when the VMM thread is signalled, the
 * heartbeat on the other CPU keeps beating, and the VMM thread's own state
 * (PKRU, TSC_AUX, XSS, SPEC_CTRL; not its watchpoint, see hostile.h) is
 * unchanged.  Afterwards the VMM takes the breakpoint away
 * (KVM_SET_DEBUGREGS), drops the event in flight (KVM_SET_VCPU_EVENTS) and
 * moves the guest on: it runs normally and sees the debug registers the
 * VMM left it.
 *
 * The guest's breakpoint only fires where the driver loads the guest's
 * debug registers into the CPU: a driver that keeps DR0-3 to itself never
 * has the storm, the #DB handler runs, and this test fails (the guest's
 * debugger would not work either).
 */
#define _GNU_SOURCE
#include "hostile.h"

#include <string.h>
#include <sys/ioctl.h>

#define DR7_STORM 0x1ULL /* L0: an execution breakpoint */

/* A 64-bit TSS; TR points here (KVM_SET_SREGS) and IST1 is its 2nd stack. */
static struct {
	uint32_t rsvd0;
	uint64_t rsp[3];
	uint64_t rsvd1;
	uint64_t ist[7];
	uint64_t rsvd2;
	uint16_t rsvd3, iomap;
} __attribute__((packed, aligned(16))) guest_tss;

static uint8_t ist_stack[4096] __attribute__((aligned(16)));

#define IST_TOP ((uint64_t)(uintptr_t)(ist_stack + sizeof(ist_stack)))

/* The first instruction of the #DB handler, from the guest's IDT. */
static uint64_t db_entry(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) d;
	const uint8_t *g;
	uint32_t hi;

	__asm__ volatile("sidt %0" : "=m"(d));
	g = (const uint8_t *)(uintptr_t)(d.base + 16);
	memcpy(&hi, g + 8, 4);
	return (uint64_t)(g[0] | g[1] << 8) |
	       (uint64_t)(g[6] | g[7] << 8) << 16 | (uint64_t)hi << 32;
}

static volatile uint64_t armed_at;

static void storm_handler(struct guest_frame *f)
{
	uint64_t dr6;

	f->rflags &= ~0x100ULL; /* no further single step */
	__asm__ volatile("mov %%dr6, %0" : "=r"(dr6));
	GUEST_SYNC(98, dr6, f->rip);
}

static void guest_storm(void)
{
	guest_idt_init();
	guest_idt_set_ist(1, 1);
	guest_handlers[1] = storm_handler;
	guest_tss.ist[0] = IST_TOP;
	armed_at = db_entry();
	__asm__ volatile("mov %0, %%dr0\n\t"
			 "mov %1, %%dr7"
			 :
			 : "r"(armed_at), "r"(DR7_STORM));
	GUEST_SYNC(1, 0, 0);
	/* TF: a #DB after the NOP, delivered on the IST stack */
	__asm__ volatile("pushfq\n\t"
			 "orq $0x100, (%%rsp)\n\t"
			 "popfq\n\t"
			 "nop" ::
				 : "memory", "cc");
	GUEST_SYNC(99, 0, 0);
	guest_hlt_forever();
}

static void guest_after(void)
{
	uint64_t dr0, dr7;

	__asm__ volatile("mov %%dr0, %0" : "=r"(dr0));
	__asm__ volatile("mov %%dr7, %0" : "=r"(dr7));
	GUEST_SYNC(2, dr0 == armed_at, dr7);
	/* a MOV to DR7 here too: QEMU 7.2 disarms its breakpoint only then */
	__asm__ volatile("mov %0, %%dr7" : : "r"(0ULL));
	GUEST_DONE();
	guest_hlt_forever();
}

struct storm {
	unsigned long exits;
	struct kt_ucall uc;
};

static int storm_exit(struct kt_vcpu *v, void *arg)
{
	struct storm *s = arg;

	s->exits++;
	if (v->run->exit_reason == KVM_EXIT_IO &&
	    v->run->io.port == KT_UCALL_PORT)
		kt_decode_ucall(v, &s->uc);
	return 1; /* anything at all: the storm did not hold the guest */
}

int main(void)
{
	struct kt_heartbeat hb;
	struct kt_vmm_state st;
	struct storm storm;
	struct kvm_vcpu_events ev;
	struct kvm_debugregs dbg;
	struct kvm_sregs s;
	struct kvm_regs r;
	struct kt_ucall uc;
	struct kt_vcpu *v;
	uint64_t entry;
	int cpu;

	kt_init("hostile_db");
	cpu = kt_other_cpu(0);
	kt_pin_cpu(cpu);
	kt_heartbeat_start(&hb, kt_other_cpu(cpu));
	kt_vmm_state_save_nowatch(&st);

	v = kt_create_default();
	kt_setup_long(v, (uint64_t)(uintptr_t)guest_storm, KT_STACK_ENTRY);
	kt_get_sregs(v, &s);
	memset(&s.tr, 0, sizeof(s.tr));
	s.tr.base = (uint64_t)(uintptr_t)&guest_tss;
	s.tr.limit = sizeof(guest_tss) - 1;
	s.tr.selector = 0x30;
	s.tr.type = 11; /* busy 64-bit TSS */
	s.tr.present = 1;
	kt_set_sregs(v, &s);
	kt_expect_sync(v, 1, NULL);
	kt_vmm_state_check(&st, "with the breakpoint armed");
	/* the guest's copy of armed_at, in guest memory */
	memcpy(&entry, kt_gpa2hva(v->vm, (uint64_t)(uintptr_t)&armed_at), 8);
	printf("armed: DR0 on the first instruction of the #DB handler (IST 1), DR7 0x%llx\n",
	       (unsigned long long)DR7_STORM);

	memset(&storm, 0, sizeof(storm));
	kt_run_until_signal(v, 1000, storm_exit, &storm);
	kt_vmm_state_check(&st, "after the storm");
	if (storm.exits)
		kt_fail(__FILE__, __LINE__,
			"the guest got out of the storm: %s, ucall %u stage %llu dr6 0x%llx rip 0x%llx",
			kt_exit_name(v->run->exit_reason), storm.uc.cmd,
			(unsigned long long)storm.uc.args[0],
			(unsigned long long)storm.uc.args[1],
			(unsigned long long)storm.uc.args[2]);
	printf("storm: KVM_RUN ended by the signal, no exit to the VMM before it\n");

	KT_IOCTL(v->fd, KVM_GET_DEBUGREGS, &dbg);
	printf("KVM_GET_DEBUGREGS: db[0] is the handler's entry: %s, dr7 0x%llx\n",
	       dbg.db[0] == entry ? "yes" : "no", (unsigned long long)dbg.dr7);
	dbg.dr7 = 0x400;
	KT_IOCTL(v->fd, KVM_SET_DEBUGREGS, &dbg);
	memset(&ev, 0, sizeof(ev));
	KT_IOCTL(v->fd, KVM_SET_VCPU_EVENTS, &ev);
	kt_get_regs(v, &r);
	r.rip = (uint64_t)(uintptr_t)guest_after;
	r.rsp = KT_STACK_ENTRY;
	r.rflags = 2;
	kt_set_regs(v, &r);
	kt_expect_sync(v, 2, &uc);
	kt_vmm_state_check(&st, "after the VM moved on");
	printf("the guest runs on: DR0 kept %s, DR7 0x%llx\n",
	       uc.args[1] ? "yes" : "no", (unsigned long long)uc.args[2]);
	KT_ASSERT_EQ(uc.args[1], 1);
	KT_ASSERT_EQ(uc.args[2], 0x400);
	kt_expect_done(v);

	kt_heartbeat_stop(&hb);
	kt_vmm_state_check(&st, "at the end");
	kt_vmm_state_release(&st);
	kt_pass();
}
