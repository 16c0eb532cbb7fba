// SPDX-License-Identifier: GPL-2.0
/*
 * mode_switch - the guest boots itself from real mode to long mode the way
 * a loader does, and the host checks the architectural state KVM keeps at
 * every step (KVM_GET_SREGS at each GUEST_SYNC):
 *
 *   1 real mode (CR0.PE=0)
 *   2 LGDT, CR0.PE=1, far jump: 32-bit protected mode, CS=0x18 D=1
 *   3 CR4.PAE, CR3, WRMSR EFER.LME: EFER = LME without LMA
 *   4 CR0.PG=1: EFER.LMA set by the CPU, still 32-bit code (compatibility)
 *   5 far jump to CS=0x08 (L=1): 64-bit mode, a full 64-bit register value
 *     reaches the host
 *
 * This exercises the intercepted CR0/CR3/CR4 writes and the EFER write, the
 * paths that move a vCPU between paging modes.  The GDT and the identity
 * page tables are prepared by the host in guest memory.
 */
#include "guest_asm.h"

#define R(sym) A_REAL(sym, ms_start)

// clang-format off
__asm__(".pushsection .text.guest16, \"ax\"\n"
	".code16\n"
	"ms_start:\n\t"
	"cli\n\t"
	A_SYNC(1, %cr0)
	"lgdtl " R(ms_gdtr) "\n\t"
	"mov %cr0, %eax\n\tor $1, %eax\n\tmov %eax, %cr0\n\t"
	"ljmpl $" KT_STR(KT_SEL_CODE32) ", $" R(ms_pm32) "\n"
	".code32\n"
	"ms_pm32:\n\t"
	"mov $" KT_STR(KT_SEL_DATA) ", %ax\n\tmov %ax, %ds\n\tmov %ax, %es\n\tmov %ax, %ss\n\t"
	"mov $0x7000, %esp\n\t"
	A_SYNC(2, %cr0)
	"mov %cr4, %eax\n\tor $0x20, %eax\n\tmov %eax, %cr4\n\t"
	"mov $" KT_STR(KT_PT_GPA) ", %eax\n\tmov %eax, %cr3\n\t"
	"mov $0xc0000080, %ecx\n\trdmsr\n\tor $0x100, %eax\n\twrmsr\n\t"
	"rdmsr\n\t"
	A_SYNC(3, %eax)
	"mov %cr0, %eax\n\tor $0x80000000, %eax\n\tmov %eax, %cr0\n\t"
	"mov $0xc0000080, %ecx\n\trdmsr\n\t"
	A_SYNC(4, %eax)
	"ljmp $" KT_STR(KT_SEL_CODE64) ", $" R(ms_lm64) "\n"
	".code64\n"
	"ms_lm64:\n\t"
	"movabs $0x123456789abcdef0, %rsi\n\tmov $5, %edi\n\t"
	A_UCALL(UC_SYNC)
	A_DONE
	"1: hlt\n\tjmp 1b\n"
	".align 8\n"
	"ms_gdtr: .word 0xff\n\t.long " KT_STR(KT_GDT_GPA) "\n"
	"ms_end:\n"
	".popsection\n");
// clang-format on
extern const char ms_start[], ms_end[];

static void show(struct kt_vcpu *v, int stage, struct kt_ucall *uc)
{
	struct kvm_sregs s;

	kt_expect_sync(v, (uint64_t)stage, uc);
	kt_get_sregs(v, &s);
	printf("stage %d: guest value 0x%llx | cr0=0x%llx cr4=0x%llx efer=0x%llx cs=0x%x l=%u db=%u\n",
	       stage, (unsigned long long)uc->args[1],
	       (unsigned long long)s.cr0, (unsigned long long)s.cr4,
	       (unsigned long long)s.efer, s.cs.selector, s.cs.l, s.cs.db);
	switch (stage) {
	case 1:
		KT_ASSERT_EQ(s.cr0 & 0x80000001, 0);
		KT_ASSERT_EQ(uc->args[1] & 1, 0);
		break;
	case 2:
		KT_ASSERT_EQ(s.cr0 & 0x80000001, 1);
		KT_ASSERT_EQ(s.cs.selector, KT_SEL_CODE32);
		KT_ASSERT_EQ(s.cs.db, 1);
		KT_ASSERT_EQ(s.efer, 0);
		break;
	case 3:
		KT_ASSERT_EQ(uc->args[1] & 0x500, 0x100);
		KT_ASSERT_EQ(s.efer & 0x500, 0x100);
		KT_ASSERT_EQ(s.cr4 & 0x20, 0x20);
		KT_ASSERT_EQ(s.cr3, KT_PT_GPA);
		break;
	case 4:
		KT_ASSERT_EQ(uc->args[1] & 0x500, 0x500);
		KT_ASSERT_EQ(s.efer & 0x500, 0x500);
		KT_ASSERT_EQ(s.cr0 & 0x80000001, 0x80000001);
		KT_ASSERT_EQ(s.cs.l, 0);
		break;
	case 5:
		KT_ASSERT_EQ(uc->args[1], 0x123456789abcdef0ull);
		KT_ASSERT_EQ(s.cs.selector, KT_SEL_CODE64);
		KT_ASSERT_EQ(s.cs.l, 1);
		break;
	}
}

int main(void)
{
	struct kt_vcpu *v;
	struct kt_ucall uc;

	kt_init("mode_switch");
	v = kt_create_default();
	kt_build_gdt(v->vm);
	kt_build_page_tables(v->vm);
	kt_load_blob(v->vm, KT_REAL_GPA, ms_start, ms_end);
	kt_setup_real(v, 0, KT_REAL_GPA, 0x7000);
	for (int stage = 1; stage <= 5; stage++)
		show(v, stage, &uc);
	kt_expect_done(v);
	kt_pass();
}
