// SPDX-License-Identifier: GPL-2.0
/*
 * vcpu_events - KVM_GET_VCPU_EVENTS / KVM_SET_VCPU_EVENTS as Linux 6.1
 * reports and accepts them (no payload capability, no SMM entered):
 *   1. at a ucall exit nothing is pending (flags NMI_PENDING|SHADOW|SMM);
 *      refused: unknown flag, PAYLOAD and TRIPLE_FAULT flags (capabilities
 *      not enabled), exception vector 2 or > 31; accepted: SMM flag with
 *      smm = 0, exception.pending (ignored without the payload capability);
 *      KVM_INTERRUPT and KVM_NMI before running show as interrupt.injected
 *      and nmi.pending; a SET of all-clear cancels both (the guest sees
 *      nothing);
 *   2. an exception set as injected (#GP with error code, #UD without) is
 *      delivered at the next entry, frame RIP right after the OUT;
 *   3. an interrupt set as injected is delivered although IF=0;
 *   4. nmi.pending set is delivered; inside the handler nmi.masked = 1; a
 *      KVM_NMI there is pending until the handler's IRET;
 *   5. nmi.masked set from the host holds a pending NMI across exits and
 *      guest instructions until the guest executes an IRET of its own;
 *   6. interrupt.shadow set with VALID_SHADOW reads back (SVM has one bit:
 *      both kinds); the shadow GET reports at an OUT right after STI and
 *      right after MOV SS (as the CPU left it in the VMCB).
 * Fields are printed only when they mean something: Linux leaves stale
 * vector numbers in an event slot that is no longer injected.
 */
#define _GNU_SOURCE
#include "kvmtest.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#define S_EVENT 100 /* from a handler: a1 = vector, a2 = frame RIP */
#define SPIN 200000

static volatile uint64_t nev, last_vec, last_err, last_rflags;

static void ev_handler(struct guest_frame *f)
{
	nev++;
	last_vec = f->vector;
	last_err = f->error_code;
	last_rflags = f->rflags;
	GUEST_SYNC(S_EVENT, f->vector, f->rip);
}

extern const char e_after1[], e_after2[], e_after3[], e_after4[], e_after5[],
	e_after6[], e_iret_done[];

static void guest_main(void)
{
	uint64_t before;
	volatile uint64_t i;

	guest_idt_init();
	guest_handlers[2] = ev_handler;
	guest_handlers[6] = ev_handler;
	guest_handlers[13] = ev_handler;
	guest_handlers[0x41] = ev_handler;

	__asm__ volatile(KT_ASM_SYNC(1) "e_after1:" ::: KT_ASM_SYNC_CLOBBERS);
	GUEST_SYNC(11, nev, 0);
	__asm__ volatile(KT_ASM_SYNC(2) "e_after2:" ::: KT_ASM_SYNC_CLOBBERS);
	__asm__ volatile(KT_ASM_SYNC(3) "e_after3:" ::: KT_ASM_SYNC_CLOBBERS);
	__asm__ volatile(KT_ASM_SYNC(4) "e_after4:" ::: KT_ASM_SYNC_CLOBBERS);
	__asm__ volatile(KT_ASM_SYNC(5) "e_after5:" ::: KT_ASM_SYNC_CLOBBERS);
	GUEST_SYNC(15, nev, 0);

	/* 5: the host masks NMIs and queues one */
	__asm__ volatile(KT_ASM_SYNC(6) "e_after6:" ::: KT_ASM_SYNC_CLOBBERS);
	before = nev;
	for (i = 0; i < SPIN; i++)
		;
	GUEST_SYNC(16, nev - before, 0);
	for (i = 0; i < SPIN; i++)
		;
	/* an IRET to the next instruction ends the NMI blocking */
	__asm__ volatile("mov %%ss, %%eax\n\t"
			 "push %%rax\n\t"
			 "lea 8(%%rsp), %%rax\n\t"
			 "push %%rax\n\t"
			 "pushfq\n\t"
			 "mov %%cs, %%eax\n\t"
			 "push %%rax\n\t"
			 "lea e_iret_done(%%rip), %%rax\n\t"
			 "push %%rax\n\t"
			 "iretq\n"
			 "e_iret_done:" ::
				 : "rax", "memory");
	GUEST_SYNC(17, nev - before, 0);

	/* 6: the shadow */
	GUEST_SYNC(7, 0, 0);
	__asm__ volatile(
		"cli\n\t"
		"mov $8, %%edi\n\txor %%esi, %%esi\n\t"
		"xor %%edx, %%edx\n\tmov $" KT_STR(
			UC_SYNC) ", %%eax\n\t"
				 "sti\n\t"
				 "out %%eax, $" KT_STR(
					 KT_UCALL_PORT) "\n\t"
							"cli" ::
								: KT_ASM_SYNC_CLOBBERS);
	__asm__ volatile("mov %%ss, %%ecx\n\t"
			 "mov $9, %%edi\n\txor %%esi, %%esi\n\t"
			 "xor %%edx, %%edx\n\tmov $" KT_STR(
				 UC_SYNC) ", %%eax\n\t"
					  "mov %%ecx, %%ss\n\t"
					  "out %%eax, $" KT_STR(KT_UCALL_PORT)::
						  : KT_ASM_SYNC_CLOBBERS,
						    "rcx");
	GUEST_DONE();
	guest_hlt_forever();
}

#define ADDR(sym) ((uint64_t)(uintptr_t)(sym))

static void get(struct kt_vcpu *v, struct kvm_vcpu_events *e)
{
	memset(e, 0, sizeof(*e));
	KT_IOCTL(v->fd, KVM_GET_VCPU_EVENTS, e);
}

static void show(struct kt_vcpu *v, const char *where,
		 struct kvm_vcpu_events *e)
{
	get(v, e);
	printf("%s: flags=0x%x", where, e->flags);
	if (e->exception.injected)
		printf(" exception=%u", e->exception.nr);
	if (e->exception.injected && e->exception.has_error_code)
		printf("(err 0x%x)", e->exception.error_code);
	if (e->interrupt.injected)
		printf(" interrupt=0x%x", e->interrupt.nr);
	printf(" shadow=%u nmi injected=%u pending=%u masked=%u sipi=%u"
	       " smm=%u/%u/%u\n",
	       e->interrupt.shadow, e->nmi.injected, e->nmi.pending,
	       e->nmi.masked, e->sipi_vector, e->smi.smm, e->smi.pending,
	       e->smi.smm_inside_nmi);
	KT_ASSERT_EQ(e->flags, KVM_VCPUEVENT_VALID_NMI_PENDING |
				       KVM_VCPUEVENT_VALID_SHADOW |
				       KVM_VCPUEVENT_VALID_SMM);
}

static int set(struct kt_vcpu *v, struct kvm_vcpu_events *e)
{
	return ioctl(v->fd, KVM_SET_VCPU_EVENTS, e) ? errno : 0;
}

static void refuse(struct kt_vcpu *v, const char *what,
		   struct kvm_vcpu_events *e, int want)
{
	int r = set(v, e);

	printf("SET %s: %s\n", what,
	       r == 0      ? "ok" :
	       r == EINVAL ? "EINVAL" :
			     "other");
	KT_ASSERT_EQ(r, want);
}

/* The next exit: a handler's ucall for this vector at this frame RIP. */
static void expect_event(struct kt_vcpu *v, uint64_t vec, uint64_t rip)
{
	struct kt_ucall uc;

	kt_expect_sync(v, S_EVENT, &uc);
	printf("  guest handler: vector %llu, frame rip as expected: %s\n",
	       (unsigned long long)uc.args[1],
	       uc.args[2] == rip ? "yes" : "NO");
	KT_ASSERT_EQ(uc.args[1], vec);
	KT_ASSERT_EQ(uc.args[2], rip);
}

int main(void)
{
	struct kvm_vcpu_events e, z;
	struct kvm_interrupt irq = { .irq = 0x41 };
	struct kt_vcpu *v;
	struct kt_ucall uc;

	kt_init("vcpu_events");
	v = kt_create_default();
	kt_setup_long(v, ADDR(guest_main), KT_STACK_ENTRY);
	printf("KVM_CAP_VCPU_EVENTS: %d\n",
	       ioctl(v->vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_VCPU_EVENTS));

	printf("-- 1. nothing pending; refusals; KVM_INTERRUPT and KVM_NMI\n");
	kt_expect_sync(v, 1, &uc);
	show(v, "at a ucall", &e);
	memset(&z, 0, sizeof(z));
	z.flags = 0x40;
	refuse(v, "unknown flag 0x40", &z, EINVAL);
	z.flags = KVM_VCPUEVENT_VALID_PAYLOAD;
	refuse(v, "VALID_PAYLOAD", &z, EINVAL);
	z.flags = KVM_VCPUEVENT_VALID_TRIPLE_FAULT;
	refuse(v, "VALID_TRIPLE_FAULT", &z, EINVAL);
	z.flags = 0;
	z.exception.injected = 1;
	z.exception.nr = 2;
	refuse(v, "exception 2", &z, EINVAL);
	z.exception.nr = 32;
	refuse(v, "exception 32", &z, EINVAL);
	memset(&z, 0, sizeof(z));
	z.flags = KVM_VCPUEVENT_VALID_SMM;
	refuse(v, "VALID_SMM, not in SMM", &z, 0);
	z.flags = 0;
	z.exception.pending = 1;
	z.exception.nr = 13;
	refuse(v, "exception.pending only", &z, 0);
	show(v, "after it", &e);
	KT_IOCTL(v->fd, KVM_INTERRUPT, &irq);
	KT_IOCTL(v->fd, KVM_NMI, NULL);
	show(v, "after KVM_INTERRUPT 0x41 and KVM_NMI", &e);
	KT_ASSERT_EQ(e.interrupt.injected, 1);
	KT_ASSERT_EQ(e.interrupt.nr, 0x41);
	KT_ASSERT_EQ(e.nmi.pending, 1);
	KT_IOCTL(v->fd, KVM_NMI, NULL);
	show(v, "after a second KVM_NMI", &e);
	memset(&z, 0, sizeof(z));
	z.flags = KVM_VCPUEVENT_VALID_NMI_PENDING;
	refuse(v, "all clear", &z, 0);
	show(v, "after it", &e);
	kt_expect_sync(v, 11, &uc);
	printf("guest saw %llu events\n", (unsigned long long)uc.args[1]);
	KT_ASSERT_EQ(uc.args[1], 0);

	printf("-- 2. exceptions set as injected\n");
	kt_expect_sync(v, 2, &uc);
	memset(&z, 0, sizeof(z));
	z.exception.injected = 1;
	z.exception.nr = 13;
	z.exception.has_error_code = 1;
	z.exception.error_code = 0x1238;
	refuse(v, "#GP(0x1238)", &z, 0);
	show(v, "after it", &e);
	expect_event(v, 13, ADDR(e_after2));
	printf("  error code 0x%llx\n",
	       (unsigned long long)*KT_GUEST_VAR(v->vm, last_err));
	KT_ASSERT_EQ(*KT_GUEST_VAR(v->vm, last_err), 0x1238);
	show(v, "in the handler", &e);
	kt_expect_sync(v, 3, &uc);
	memset(&z, 0, sizeof(z));
	z.exception.injected = 1;
	z.exception.nr = 6;
	refuse(v, "#UD", &z, 0);
	expect_event(v, 6, ADDR(e_after3));

	printf("-- 3. an interrupt set as injected, IF=0\n");
	kt_expect_sync(v, 4, &uc);
	printf("if_flag=%u\n", v->run->if_flag);
	memset(&z, 0, sizeof(z));
	z.interrupt.injected = 1;
	z.interrupt.nr = 0x41;
	refuse(v, "interrupt 0x41", &z, 0);
	show(v, "after it", &e);
	expect_event(v, 0x41, ADDR(e_after4));
	printf("  frame IF=%llu\n",
	       (unsigned long long)(*KT_GUEST_VAR(v->vm, last_rflags) >> 9) &
		       1);

	printf("-- 4. NMI pending set; KVM_NMI in the handler\n");
	kt_expect_sync(v, 5, &uc);
	memset(&z, 0, sizeof(z));
	z.flags = KVM_VCPUEVENT_VALID_NMI_PENDING;
	z.nmi.pending = 1;
	refuse(v, "nmi.pending", &z, 0);
	show(v, "after it", &e);
	expect_event(v, 2, ADDR(e_after5));
	show(v, "in the NMI handler", &e);
	KT_ASSERT_EQ(e.nmi.masked, 1);
	KT_IOCTL(v->fd, KVM_NMI, NULL);
	show(v, "after KVM_NMI", &e);
	KT_ASSERT_EQ(e.nmi.pending, 1);
	expect_event(v, 2, ADDR(e_after5));
	show(v, "in the second NMI handler", &e);
	kt_expect_sync(v, 15, &uc);
	printf("guest saw %llu events\n", (unsigned long long)uc.args[1]);
	KT_ASSERT_EQ(uc.args[1], 5);
	show(v, "after the handler", &e);
	KT_ASSERT_EQ(e.nmi.masked, 0);

	printf("-- 5. NMIs masked from the host until the guest's IRET\n");
	kt_expect_sync(v, 6, &uc);
	memset(&z, 0, sizeof(z));
	z.flags = KVM_VCPUEVENT_VALID_NMI_PENDING;
	z.nmi.pending = 1;
	z.nmi.masked = 1;
	refuse(v, "nmi.masked + pending", &z, 0);
	show(v, "after it", &e);
	kt_expect_sync(v, 16, &uc);
	printf("NMIs seen while masked: %llu\n",
	       (unsigned long long)uc.args[1]);
	KT_ASSERT_EQ(uc.args[1], 0);
	show(v, "still", &e);
	KT_ASSERT_EQ(e.nmi.masked, 1);
	expect_event(v, 2, ADDR(e_iret_done));
	kt_expect_sync(v, 17, &uc);
	printf("NMIs seen after the IRET: %llu\n",
	       (unsigned long long)uc.args[1]);
	KT_ASSERT_EQ(uc.args[1], 1);
	show(v, "after it", &e);

	printf("-- 6. interrupt shadow\n");
	kt_expect_sync(v, 7, &uc);
	get(v, &z);
	z.flags = KVM_VCPUEVENT_VALID_SHADOW;
	z.interrupt.shadow = KVM_X86_SHADOW_INT_MOV_SS;
	refuse(v, "shadow MOV_SS", &z, 0);
	show(v, "after it", &e);
	KT_ASSERT(e.interrupt.shadow != 0);
	z.interrupt.shadow = 0;
	refuse(v, "shadow 0", &z, 0);
	show(v, "after it", &e);
	KT_ASSERT_EQ(e.interrupt.shadow, 0);
	kt_expect_sync(v, 8, &uc);
	show(v, "OUT right after STI", &e);
	kt_expect_sync(v, 9, &uc);
	show(v, "OUT right after MOV SS", &e);
	kt_expect_done(v);
	kt_pass();
}
