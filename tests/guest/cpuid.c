// SPDX-License-Identifier: GPL-2.0
/*
 * cpuid - the guest sees exactly the CPUID table set with KVM_SET_CPUID2.
 *
 * The table has an AuthenticAMD vendor, basic and extended leaves, a brand
 * string, and two indexed leaves (4 and 7, KVM_CPUID_FLAG_SIGNIFCANT_INDEX).
 * A 64-bit guest executes CPUID for every (leaf, subleaf) in the query list
 * and stores the results in memory; the guest compares them with the
 * expected values and the host compares them again.  Queries include
 * entries absent from the table, which read as zeros for an AMD-vendor
 * table (in range or above the maximum leaf), a subleaf of a non-indexed leaf
 * (ECX ignored), and absent subleaves of indexed leaves.  A second VM in real
 * mode reads leaf 0 and a brand-string leaf to show CPUID works there too.
 *
 * Bits KVM rewrites at run time are masked from the comparison (leaf 1
 * ECX.OSXSAVE, EDX.APIC: kvm_amd sets APIC since the APIC base MSR is enabled
 * at reset; leaf 7 ECX.OSPKE) or kept clear (leaf 1 ECX.MONITOR, leaf 7
 * EBX.HLE/RTM).
 */
#include "guest_asm.h"

#include <string.h>

#define IDX KVM_CPUID_FLAG_SIGNIFCANT_INDEX
static const struct kvm_cpuid_entry2 table[] = {
	{ .function = 0,
	  .eax = 7,
	  .ebx = 0x68747541,
	  .ecx = 0x444d4163,
	  .edx = 0x69746e65 },
	{ .function = 1,
	  .eax = 0x00a00f11,
	  .ebx = 0x00020800,
	  .ecx = 0x80802201,
	  .edx = 0x078bf9ff },
	{ .function = 4,
	  .index = 0,
	  .flags = IDX,
	  .eax = 0x121,
	  .ebx = 0x1c0003f,
	  .ecx = 0x3f,
	  .edx = 1 },
	{ .function = 4,
	  .index = 1,
	  .flags = IDX,
	  .eax = 0x122,
	  .ebx = 0x1c0003f,
	  .ecx = 0x7f,
	  .edx = 2 },
	{ .function = 7,
	  .index = 0,
	  .flags = IDX,
	  .eax = 1,
	  .ebx = 0x219c91a9,
	  .ecx = 0x00400004 & ~0x10u,
	  .edx = 0x10 },
	{ .function = 7,
	  .index = 1,
	  .flags = IDX,
	  .eax = 0x20,
	  .ebx = 0,
	  .ecx = 0,
	  .edx = 0 },
	{ .function = 0x80000000,
	  .eax = 0x80000008,
	  .ebx = 0x68747541,
	  .ecx = 0x444d4163,
	  .edx = 0x69746e65 },
	{ .function = 0x80000001,
	  .eax = 0x00a00f11,
	  .ebx = 0x40000000,
	  .ecx = 0x000001f3,
	  .edx = 0x2fd3fbff },
	/* "xkvm guest test CPU, no hardware at all" padded with NULs */
	{ .function = 0x80000002,
	  .eax = 0x6d766b78,
	  .ebx = 0x65756720,
	  .ecx = 0x74207473,
	  .edx = 0x20747365 },
	{ .function = 0x80000003,
	  .eax = 0x2c555043,
	  .ebx = 0x206f6e20,
	  .ecx = 0x64726168,
	  .edx = 0x65726177 },
	{ .function = 0x80000004,
	  .eax = 0x20746120,
	  .ebx = 0x006c6c61,
	  .ecx = 0,
	  .edx = 0 },
	{ .function = 0x80000008,
	  .eax = 0x3030,
	  .ebx = 0x1000,
	  .ecx = 0x3,
	  .edx = 0 },
};
#define NTABLE (int)(sizeof(table) / sizeof(table[0]))

static const struct {
	uint32_t leaf, sub;
} queries[] = {
	{ 0, 0 },          { 1, 0 },          { 1, 5 },
	{ 2, 0 },          { 4, 0 },          { 4, 1 },
	{ 4, 7 },          { 7, 0 },          { 7, 1 },
	{ 7, 2 },          { 0x80000000, 0 }, { 0x80000001, 0 },
	{ 0x80000002, 0 }, { 0x80000003, 0 }, { 0x80000004, 0 },
	{ 0x80000008, 0 }, { 0x80000009, 0 }, { 0x8000001f, 0 },
};
#define NQ (int)(sizeof(queries) / sizeof(queries[0]))

static uint32_t results[NQ][4];

/*
 * Bits KVM may rewrite at run time (leaf 1 EDX.APIC follows the APIC base
 * MSR's enable bit, ECX.OSXSAVE follows CR4; leaf 7 ECX.OSPKE follows CR4):
 * masked out of every comparison and of the transcript.
 */
static void mask_runtime(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	if (leaf == 1) {
		r[2] &= ~(1u << 27);
		r[3] &= ~(1u << 9);
	}
	if (leaf == 7 && sub == 0)
		r[2] &= ~(1u << 4);
}

/* Expected result of a query: the matching table entry, or zeros. */
static void expected(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	r[0] = r[1] = r[2] = r[3] = 0;
	for (int i = 0; i < NTABLE; i++) {
		if (table[i].function != leaf)
			continue;
		if ((table[i].flags & IDX) && table[i].index != sub)
			continue;
		r[0] = table[i].eax;
		r[1] = table[i].ebx;
		r[2] = table[i].ecx;
		r[3] = table[i].edx;
		mask_runtime(leaf, sub, r);
		return;
	}
}

static void guest_main(void)
{
	uint32_t e[4];

	for (int q = 0; q < NQ; q++) {
		guest_cpuid(queries[q].leaf, queries[q].sub, results[q]);
		mask_runtime(queries[q].leaf, queries[q].sub, results[q]);
		expected(queries[q].leaf, queries[q].sub, e);
		for (int k = 0; k < 4; k++)
			GUEST_ASSERT_EQ(results[q][k], e[k]);
	}
	GUEST_SYNC(1, 0, 0);
	GUEST_DONE();
	guest_hlt_forever();
}

PAYLOAD(cpuid_real);
// clang-format off
__asm__(".pushsection .text.guest16, \"ax\"\n"
	".code16\n"
	"cpuid_real_start:\n\t"
	"xor %eax, %eax\n\txor %ecx, %ecx\n\tcpuid\n\t"
	A_CHECK(1, %eax, 7) A_CHECK(2, %ebx, 0x68747541)
	A_CHECK(3, %edx, 0x69746e65) A_CHECK(4, %ecx, 0x444d4163)
	"mov $0x80000002, %eax\n\tcpuid\n\t"
	A_CHECK(5, %eax, 0x6d766b78) A_CHECK(6, %edx, 0x20747365)
	A_SYNC(1, %ebx)
	A_DONE
	"1: hlt\n\tjmp 1b\n"
	"cpuid_real_end:\n"
	".code64\n"
	".popsection\n");
// clang-format on

int main(void)
{
	struct kt_vcpu *v;
	struct kt_ucall uc;
	uint32_t(*res)[4];
	char brand[49];

	kt_init("cpuid");
	v = kt_create_default(); /* sets the default table first: replace it */
	kt_set_cpuid(v, table, NTABLE);
	kt_setup_long(v, (uint64_t)(uintptr_t)guest_main, KT_STACK_ENTRY);
	kt_expect_sync(v, 1, &uc);
	res = (uint32_t(*)[4])KT_GUEST_VAR(v->vm, results);
	for (int q = 0; q < NQ; q++) {
		uint32_t e[4];

		expected(queries[q].leaf, queries[q].sub, e);
		printf("cpuid 0x%08x.%u: eax=%08x ebx=%08x ecx=%08x edx=%08x\n",
		       queries[q].leaf, queries[q].sub, res[q][0], res[q][1],
		       res[q][2], res[q][3]);
		KT_ASSERT(memcmp(res[q], e, sizeof(e)) == 0,
			  "query %d differs from the table", q);
	}
	memcpy(brand, res[12], 16);
	memcpy(brand + 16, res[13], 16);
	memcpy(brand + 32, res[14], 16);
	brand[48] = 0;
	printf("brand string seen by the guest: \"%s\"\n", brand);
	kt_expect_done(v);

	/* Real mode. */
	v = kt_create_default();
	kt_set_cpuid(v, table, NTABLE);
	kt_load_blob(v->vm, KT_REAL_GPA, cpuid_real_start, cpuid_real_end);
	kt_setup_real(v, 0, KT_REAL_GPA, 0x7000);
	kt_expect_sync(v, 1, &uc);
	printf("real mode: leaf 0 ebx=%08x as set\n", (uint32_t)uc.args[1]);
	kt_expect_done(v);
	kt_pass();
}
