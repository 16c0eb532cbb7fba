// SPDX-License-Identifier: GPL-2.0
/*
 * debug_regs - MOV to and from the debug registers in the guest.  A guest
 * writes DR0-DR3 with distinct 64-bit addresses through several general
 * registers (legacy and REX-extended, r8-r15) and reads them back through
 * others; the values survive VM exits (a ucall, a HLT) and stay per VM: a
 * second VM started in between sees the reset values (0) and its own writes,
 * and the first VM then still reads its own.  DR6 and DR7 read as their reset
 * values (0xffff0ff0 and 0x400) and DR7 keeps a value written with no
 * breakpoint enabled (condition and length bits for DR0, L0/G0 clear).  With
 * CR4.DE=0, DR4 and DR5 are aliases of DR6 and DR7.  A 32-bit protected-mode
 * guest does the same with 32-bit values.
 *
 * No breakpoint is ever enabled: whether one fires is not tested (a driver
 * may keep DR0-3 in software, as xkvm does).  The host checks every value
 * the guest saw (stored in guest memory) at each ucall.
 */
#include "guest_asm.h"

#include <string.h>

static const uint64_t vals_a[4] = { 0x00007f0012345670ull,
				    0xffff800000abcde8ull, 0x1234ull,
				    0xfffffffffffffff8ull };
static const uint64_t vals_b[4] = { 0x0000555555554000ull,
				    0xffffffff81000000ull,
				    0x00007ffffffff000ull, 0x4000ull };
#define DR7_CONDS 0x000f0400ull /* DR0: R/W=11, LEN=11; no enable bit */

/* What the guest read, for the host: dr[0..7] as read by MOV from DRn. */
static volatile uint64_t seen[8];

/* Read all eight through different registers (DR4/DR5: CR4.DE is 0). */
static void read_all(void)
{
	// clang-format off
	__asm__ volatile("mov %%dr0, %%r12\n\tmov %%r12, %0\n\t"
			 "mov %%dr1, %%rcx\n\tmov %%rcx, %1\n\t"
			 "mov %%dr2, %%r8\n\tmov %%r8, %2\n\t"
			 "mov %%dr3, %%rdx\n\tmov %%rdx, %3\n\t"
			 "mov %%dr4, %%r13\n\tmov %%r13, %4\n\t"
			 "mov %%dr5, %%rsi\n\tmov %%rsi, %5\n\t"
			 "mov %%dr6, %%r15\n\tmov %%r15, %6\n\t"
			 "mov %%dr7, %%rax\n\tmov %%rax, %7"
			 : "=m"(seen[0]), "=m"(seen[1]), "=m"(seen[2]),
			   "=m"(seen[3]), "=m"(seen[4]), "=m"(seen[5]),
			   "=m"(seen[6]), "=m"(seen[7])
			 :
			 : "rax", "rcx", "rdx", "rsi", "r8", "r12", "r13",
			   "r15");
	// clang-format on
}

static void write_0123(const uint64_t *v)
{
	// clang-format off
	__asm__ volatile("mov %0, %%rax\n\tmov %%rax, %%dr0\n\t"
			 "mov %1, %%r9\n\tmov %%r9, %%dr1\n\t"
			 "mov %2, %%rbx\n\tmov %%rbx, %%dr2\n\t"
			 "mov %3, %%r15\n\tmov %%r15, %%dr3"
			 :
			 : "m"(v[0]), "m"(v[1]), "m"(v[2]), "m"(v[3])
			 : "rax", "rbx", "r9", "r15", "memory");
	// clang-format on
}

static void write_dr7(uint64_t v)
{
	__asm__ volatile("mov %0, %%dr7" : : "r"(v) : "memory");
}

static void check_seen(const uint64_t *v, uint64_t dr7)
{
	for (int i = 0; i < 4; i++)
		GUEST_ASSERT_EQ(seen[i], v[i]);
	GUEST_ASSERT_EQ(seen[4], seen[6]);
	GUEST_ASSERT_EQ(seen[5], seen[7]);
	GUEST_ASSERT_EQ(seen[6], 0xffff0ff0);
	GUEST_ASSERT_EQ(seen[7], dr7);
}

static const uint64_t zeros[4];

static void guest_a(void)
{
	read_all();
	check_seen(zeros, 0x400);
	GUEST_SYNC(1, 0, 0);

	write_0123(vals_a);
	read_all();
	check_seen(vals_a, 0x400);
	GUEST_SYNC(2, 0, 0);

	/* after the exit above, a HLT exit, and with a DR7 value */
	__asm__ volatile("hlt" ::: "memory");
	write_dr7(DR7_CONDS);
	read_all();
	check_seen(vals_a, DR7_CONDS);
	write_dr7(0x400);
	GUEST_SYNC(3, 0, 0);

	/* the host ran another VM meanwhile */
	read_all();
	check_seen(vals_a, 0x400);
	GUEST_SYNC(4, 0, 0);
	GUEST_DONE();
	guest_hlt_forever();
}

static void guest_b(void)
{
	read_all();
	check_seen(zeros, 0x400);
	write_0123(vals_b);
	read_all();
	check_seen(vals_b, 0x400);
	GUEST_SYNC(1, 0, 0);
	GUEST_DONE();
	guest_hlt_forever();
}

/* 32-bit protected mode: write through eax/ebx/ecx/edx, read back crossed. */
PAYLOAD(dr_prot);
// clang-format off
__asm__(".pushsection .text.guest32, \"ax\"\n"
	".code32\n"
	"dr_prot_start:\n\t"
	"mov $0x11223340, %eax\n\tmov %eax, %dr0\n\t"
	"mov $0x55667788, %ebx\n\tmov %ebx, %dr1\n\t"
	"mov $0x99aabbc0, %ecx\n\tmov %ecx, %dr2\n\t"
	"mov $0xfffff000, %edx\n\tmov %edx, %dr3\n\t"
	"xor %eax, %eax\n\txor %ebx, %ebx\n\txor %ecx, %ecx\n\txor %edx, %edx\n\t"
	"mov %dr3, %eax\n\tmov %dr2, %ebx\n\tmov %dr1, %ecx\n\tmov %dr0, %edx\n\t"
	A_CHECK(1, %eax, 0xfffff000) A_CHECK(2, %ebx, 0x99aabbc0)
	A_CHECK(3, %ecx, 0x55667788) A_CHECK(4, %edx, 0x11223340)
	"mov %dr6, %eax\n\t" A_CHECK(5, %eax, 0xffff0ff0)
	"mov %dr7, %eax\n\t" A_CHECK(6, %eax, 0x400)
	"mov %dr1, %ebx\n\t"
	A_SYNC(1, %ebx)
	"mov %dr2, %ebx\n\t"
	A_SYNC(2, %ebx)
	A_DONE
	"1: hlt\n\tjmp 1b\n"
	"dr_prot_end:\n"
	".code64\n"
	".popsection\n");
// clang-format on

static void show(struct kt_vcpu *v, const char *what, const uint64_t *want,
		 uint64_t dr7)
{
	volatile uint64_t *s = *KT_GUEST_VAR(v->vm, seen);

	printf("%s: dr0=0x%llx dr1=0x%llx dr2=0x%llx dr3=0x%llx\n", what,
	       (unsigned long long)s[0], (unsigned long long)s[1],
	       (unsigned long long)s[2], (unsigned long long)s[3]);
	printf("  dr6=0x%llx dr7=0x%llx dr4=0x%llx dr5=0x%llx\n",
	       (unsigned long long)s[6], (unsigned long long)s[7],
	       (unsigned long long)s[4], (unsigned long long)s[5]);
	for (int i = 0; i < 4; i++)
		KT_ASSERT_EQ(s[i], want[i]);
	KT_ASSERT_EQ(s[6], 0xffff0ff0);
	KT_ASSERT_EQ(s[7], dr7);
	KT_ASSERT_EQ(s[4], s[6]);
	KT_ASSERT_EQ(s[5], s[7]);
}

int main(void)
{
	struct kt_vcpu *a, *b;
	struct kt_ucall uc;

	kt_init("debug_regs");
	a = kt_create_default();
	kt_setup_long(a, (uint64_t)(uintptr_t)guest_a, KT_STACK_ENTRY);
	kt_expect_sync(a, 1, &uc);
	show(a, "VM A at reset", zeros, 0x400);
	kt_expect_sync(a, 2, &uc);
	show(a, "VM A after writing DR0-3", vals_a, 0x400);
	kt_run_expect(a, KVM_EXIT_HLT);
	printf("HLT exit\n");
	kt_expect_sync(a, 3, &uc);
	show(a, "VM A after the exits, DR7 conditions set", vals_a, DR7_CONDS);

	b = kt_create_default();
	kt_setup_long(b, (uint64_t)(uintptr_t)guest_b, KT_STACK_ENTRY);
	kt_expect_sync(b, 1, &uc);
	show(b, "VM B after writing its own", vals_b, 0x400);
	kt_expect_done(b);

	kt_expect_sync(a, 4, &uc);
	show(a, "VM A again", vals_a, 0x400);
	kt_expect_done(a);

	a = kt_create_default();
	kt_setup_prot(a, (uint32_t)(uintptr_t)dr_prot_start, KT_STACK_TOP);
	kt_expect_sync(a, 1, &uc);
	printf("32-bit guest: dr1=0x%llx", (unsigned long long)uc.args[1]);
	KT_ASSERT_EQ(uc.args[1], 0x55667788);
	kt_expect_sync(a, 2, &uc);
	printf(" dr2=0x%llx (DR0-3, DR6, DR7 checked in the guest)\n",
	       (unsigned long long)uc.args[1]);
	KT_ASSERT_EQ(uc.args[1], 0x99aabbc0);
	kt_expect_done(a);
	kt_pass();
}
