// SPDX-License-Identifier: GPL-2.0
/*
 * debug_guest - a debugger inside the guest works: its hardware
 * breakpoints fire at its own addresses with the DR6 it expects.  In long
 * mode, with a #DB handler that records DR6, DR7 and the frame's RIP:
 *
 *   1. DR6 and DR7 written with 0 read back their fixed bits;
 *   2. an execution breakpoint (DR0, RW=00) faults at the instruction,
 *      B0 in DR6; the handler sets RF and the instruction runs;
 *   3. a data write breakpoint (DR1, RW=01, 4 bytes): a read does not
 *      trap, a write traps after the store, B1;
 *   4. a data read/write breakpoint (DR2, RW=11, 8 bytes): a read traps, B2;
 *   5. single step (RFLAGS.TF): a trap after the next instruction, BS;
 *   6. general detect (DR7.GD): a MOV from DR0 faults before it runs, BD,
 *      and the handler finds GD clear (where the CPU implements GD: the
 *      test bed's QEMU 7.2 does not, under either driver);
 *   7. KVM_GET_DEBUGREGS shows the guest's DR3 and DR7, and KVM_SET_DEBUGREGS
 *      gives it a DR2 it reads back.
 *
 * The VMM thread's own state is checked after every exit (not its own
 * hardware watchpoint: the test bed's QEMU cannot have both, see
 * hostile.h; the unit tests of svm.c check the host's breakpoints).  A driver
 * that keeps the guest's DR0-3 out of the CPU fails at step 2: the
 * breakpoints watch whatever addresses the host left there.
 */
#define _GNU_SOURCE
#include "hostile.h"

#include <string.h>
#include <sys/ioctl.h>

#define TF 0x100ULL
#define RF 0x10000ULL
#define DR6_CAUSES 0xe00fULL

static volatile uint32_t watch_w;
static volatile uint64_t watch_rw;
static volatile struct {
	uint64_t hits, dr6, dr7, rip;
} db;

extern const char dbg_exec_target[], dbg_after_store[], dbg_after_nop[],
	dbg_mov_dr0[];

// clang-format off
__asm__(".pushsection .text\n"
	".globl dbg_exec_target\n"
	"dbg_exec_target:\n"
	"  nop\n"
	"  ret\n"
	".popsection\n");
// clang-format on

static void db_handler(struct guest_frame *f)
{
	uint64_t dr6, dr7;

	__asm__ volatile("mov %%dr6, %0" : "=r"(dr6));
	__asm__ volatile("mov %%dr7, %0" : "=r"(dr7));
	db.hits++;
	db.dr6 = dr6;
	db.dr7 = dr7;
	db.rip = f->rip;
	f->rflags = (f->rflags & ~TF) | RF; /* RF: an execution bp resumes */
	__asm__ volatile("mov %0, %%dr6" : : "r"(0ULL));
}

static void set_dr7(uint64_t v)
{
	__asm__ volatile("mov %0, %%dr7" : : "r"(v));
}

static void reset(void)
{
	set_dr7(0);
	db.hits = db.dr6 = db.dr7 = db.rip = 0;
}

static uint64_t rip_is(const char *label)
{
	return db.rip == (uint64_t)(uintptr_t)label;
}

static void __attribute__((noinline)) guest_main(void)
{
	uint64_t dr6, dr7, v, hits_read;

	guest_idt_init();
	guest_handlers[1] = db_handler;

	/* 1: the fixed bits */
	__asm__ volatile("mov %0, %%dr6" : : "r"(0ULL));
	set_dr7(0);
	__asm__ volatile("mov %%dr6, %0" : "=r"(dr6));
	__asm__ volatile("mov %%dr7, %0" : "=r"(dr7));
	GUEST_SYNC(1, dr6, dr7);

	/* 2: execution breakpoint */
	reset();
	__asm__ volatile("mov %0, %%dr0" : : "r"(dbg_exec_target));
	set_dr7(0x1);
	((void (*)(void))(uintptr_t)dbg_exec_target)();
	set_dr7(0);
	GUEST_SYNC(2, db.hits,
		   (db.dr6 & DR6_CAUSES) | rip_is(dbg_exec_target) << 32);

	/* 3: data write breakpoint, 4 bytes */
	reset();
	__asm__ volatile("mov %0, %%dr1" : : "r"(&watch_w));
	set_dr7(0x4 | (1ULL << 20) | (3ULL << 22));
	v = watch_w;
	hits_read = db.hits;
	__asm__ volatile("movl $5, %0\n\t"
			 ".globl dbg_after_store\n"
			 "dbg_after_store: nop"
			 : "=m"(watch_w));
	set_dr7(0);
	GUEST_SYNC(3, hits_read | db.hits << 8,
		   (db.dr6 & DR6_CAUSES) | rip_is(dbg_after_store) << 32);
	(void)v;

	/* 4: data read/write breakpoint, 8 bytes */
	reset();
	__asm__ volatile("mov %0, %%dr2" : : "r"(&watch_rw));
	set_dr7(0x10 | (3ULL << 24) | (2ULL << 26));
	v = watch_rw;
	set_dr7(0);
	GUEST_SYNC(4, db.hits, db.dr6 & DR6_CAUSES);

	/* 5: single step */
	reset();
	__asm__ volatile("pushfq\n\t"
			 "orq $0x100, (%%rsp)\n\t"
			 "popfq\n\t"
			 "nop\n"
			 ".globl dbg_after_nop\n"
			 "dbg_after_nop: nop" ::
				 : "memory", "cc");
	GUEST_SYNC(5, db.hits,
		   (db.dr6 & DR6_CAUSES) | rip_is(dbg_after_nop) << 32);

	/* 6: general detect */
	reset();
	set_dr7(0x2000);
	__asm__ volatile(".globl dbg_mov_dr0\n"
			 "dbg_mov_dr0: mov %%dr0, %0"
			 : "=r"(v));
	GUEST_SYNC(6, db.hits | (db.dr7 & 0x2000) << 8,
		   (db.dr6 & DR6_CAUSES) | rip_is(dbg_mov_dr0) << 32);

	/* 7: the VMM's view */
	reset();
	__asm__ volatile("mov %0, %%dr3" : : "r"(0x1234000ULL));
	set_dr7(0x40); /* L3: an execution breakpoint nothing runs into */
	GUEST_SYNC(7, 0, 0);
	__asm__ volatile("mov %%dr2, %0" : "=r"(v));
	set_dr7(0);
	GUEST_SYNC(8, v, db.hits);
	GUEST_DONE();
}

static void expect(struct kt_vcpu *v, struct kt_vmm_state *st, int stage,
		   struct kt_ucall *uc)
{
	char when[32];

	kt_expect_sync(v, stage, uc);
	snprintf(when, sizeof(when), "after stage %d", stage);
	kt_vmm_state_check(st, when);
}

static const char *yes(uint64_t b)
{
	return b ? "yes" : "no";
}

int main(void)
{
	struct kt_vmm_state st;
	struct kvm_debugregs d;
	struct kt_ucall uc;
	struct kt_vcpu *v;

	kt_init("debug_guest");
	kt_pin_cpu(kt_other_cpu(0));
	kt_vmm_state_save_nowatch(&st); /* hostile.h: QEMU 7.2 */
	v = kt_create_default();
	kt_setup_long(v, (uint64_t)(uintptr_t)guest_main, KT_STACK_ENTRY);

	expect(v, &st, 1, &uc);
	printf("DR6 and DR7 written with 0 read 0x%llx and 0x%llx\n",
	       (unsigned long long)uc.args[1], (unsigned long long)uc.args[2]);

	expect(v, &st, 2, &uc);
	printf("execution breakpoint: %llu #DB, DR6 causes 0x%llx, at the instruction: %s\n",
	       (unsigned long long)uc.args[1],
	       (unsigned long long)(uc.args[2] & 0xffffffff),
	       yes(uc.args[2] >> 32));
	KT_ASSERT_EQ(uc.args[1], 1);
	KT_ASSERT_EQ(uc.args[2], (1ULL << 32) | 0x1);

	expect(v, &st, 3, &uc);
	printf("write breakpoint: %llu #DB on a read, %llu on a write, DR6 causes 0x%llx, after the store: %s\n",
	       (unsigned long long)(uc.args[1] & 0xff),
	       (unsigned long long)(uc.args[1] >> 8),
	       (unsigned long long)(uc.args[2] & 0xffffffff),
	       yes(uc.args[2] >> 32));
	KT_ASSERT_EQ(uc.args[1], 1 << 8);
	KT_ASSERT_EQ(uc.args[2], (1ULL << 32) | 0x2);

	expect(v, &st, 4, &uc);
	printf("read/write breakpoint: %llu #DB on a read, DR6 causes 0x%llx\n",
	       (unsigned long long)uc.args[1], (unsigned long long)uc.args[2]);
	KT_ASSERT_EQ(uc.args[1], 1);
	KT_ASSERT_EQ(uc.args[2], 0x4);

	expect(v, &st, 5, &uc);
	printf("single step: %llu #DB, DR6 causes 0x%llx, after the instruction: %s\n",
	       (unsigned long long)uc.args[1],
	       (unsigned long long)(uc.args[2] & 0xffffffff),
	       yes(uc.args[2] >> 32));
	KT_ASSERT_EQ(uc.args[1], 1);
	KT_ASSERT_EQ(uc.args[2], (1ULL << 32) | 0x4000);

	expect(v, &st, 6, &uc);
	printf("general detect: %llu #DB, GD in the handler's DR7: %s, DR6 causes 0x%llx, at the MOV: %s\n",
	       (unsigned long long)(uc.args[1] & 0xff), yes(uc.args[1] >> 8),
	       (unsigned long long)(uc.args[2] & 0xffffffff),
	       yes(uc.args[2] >> 32));
	/*
	 * The test bed's QEMU 7.2 does not implement DR7.GD (0 #DB under
	 * both drivers); where the CPU raises it, it must look like this.
	 */
	if (uc.args[1] & 0xff) {
		KT_ASSERT_EQ(uc.args[1], 1);
		KT_ASSERT_EQ(uc.args[2], (1ULL << 32) | 0x2000);
	}

	expect(v, &st, 7, &uc);
	KT_IOCTL(v->fd, KVM_GET_DEBUGREGS, &d);
	printf("KVM_GET_DEBUGREGS: db[3] 0x%llx, dr7 0x%llx, flags %llu\n",
	       (unsigned long long)d.db[3], (unsigned long long)d.dr7,
	       (unsigned long long)d.flags);
	KT_ASSERT_EQ(d.db[3], 0x1234000);
	d.db[2] = 0x5678000;
	KT_IOCTL(v->fd, KVM_SET_DEBUGREGS, &d);
	expect(v, &st, 8, &uc);
	printf("KVM_SET_DEBUGREGS: the guest reads DR2 0x%llx, no #DB: %s\n",
	       (unsigned long long)uc.args[1], yes(!uc.args[2]));
	KT_ASSERT_EQ(uc.args[1], 0x5678000);
	kt_expect_done(v);
	kt_vmm_state_check(&st, "at the end");
	kt_vmm_state_release(&st);
	kt_pass();
}
