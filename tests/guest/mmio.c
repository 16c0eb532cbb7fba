// SPDX-License-Identifier: GPL-2.0
/*
 * mmio - guest accesses to guest-physical addresses that no slot covers
 * (below and above 4 GiB) exit as KVM_EXIT_MMIO.  Reads and writes of 1, 2,
 * 4 and 8 bytes with plain MOVs; each exit's phys_addr, len, is_write and
 * data are checked; read data is supplied by the host through
 * kvm_run->mmio.data and must arrive in the guest register.
 */
#include "kvmtest.h"

#include <string.h>

#define HOLE 0xd0000000ull
#define HIGH \
	0x1c0000000ull /* 7 GiB: mapped by the guest page tables, no slot */

static void guest_main(void)
{
	uint64_t v8;
	uint32_t v4;
	uint16_t v2;
	uint8_t v1;

	__asm__ volatile("movb %0, (%1)"
			 :
			 : "q"((uint8_t)0x11), "r"(HOLE)
			 : "memory");
	__asm__ volatile("movw %0, (%1)"
			 :
			 : "r"((uint16_t)0x2233), "r"(HOLE + 2)
			 : "memory");
	__asm__ volatile("movl %0, (%1)"
			 :
			 : "r"(0x44556677u), "r"(HOLE + 4)
			 : "memory");
	__asm__ volatile("movq %0, (%1)"
			 :
			 : "r"(0x8899aabbccddeeffull), "r"(HOLE + 8)
			 : "memory");
	__asm__ volatile("movb (%1), %0"
			 : "=q"(v1)
			 : "r"(HOLE + 0x10)
			 : "memory");
	__asm__ volatile("movw (%1), %0"
			 : "=r"(v2)
			 : "r"(HOLE + 0x12)
			 : "memory");
	__asm__ volatile("movl (%1), %0"
			 : "=r"(v4)
			 : "r"(HOLE + 0x14)
			 : "memory");
	__asm__ volatile("movq (%1), %0"
			 : "=r"(v8)
			 : "r"(HOLE + 0x18)
			 : "memory");
	GUEST_ASSERT_EQ(v1, 0xa1);
	GUEST_ASSERT_EQ(v2, 0xb2b3);
	GUEST_ASSERT_EQ(v4, 0xc4c5c6c7);
	GUEST_ASSERT_EQ(v8, 0xd8d9dadbdcdddedfull);
	GUEST_SYNC(1, v1 | ((uint64_t)v2 << 8) | ((uint64_t)v4 << 24), v8);
	__asm__ volatile("movl %0, (%1)"
			 :
			 : "r"(0x600dcafeu), "r"(HIGH + 0x40)
			 : "memory");
	__asm__ volatile("movq (%1), %0"
			 : "=r"(v8)
			 : "r"(HIGH + 0x48)
			 : "memory");
	GUEST_ASSERT_EQ(v8, 0x0102030405060708ull);
	GUEST_SYNC(2, v8, 0);
	GUEST_DONE();
	guest_hlt_forever();
}

static void expect_mmio(struct kt_vcpu *v, uint64_t gpa, uint32_t len,
			int is_write, uint64_t val)
{
	struct kvm_run *run = v->run;
	uint32_t r = kt_run(v);
	uint64_t d = 0;

	KT_ASSERT(r == KVM_EXIT_MMIO, "expected MMIO exit at 0x%llx, got %s",
		  (unsigned long long)gpa, kt_exit_name(r));
	KT_ASSERT_EQ(run->mmio.phys_addr, gpa);
	KT_ASSERT_EQ(run->mmio.len, len);
	KT_ASSERT_EQ(run->mmio.is_write, is_write);
	if (is_write) {
		memcpy(&d, run->mmio.data, len);
		KT_ASSERT_EQ(d, val);
	} else {
		memcpy(run->mmio.data, &val, len);
	}
	printf("MMIO %-5s phys_addr=0x%llx len=%u data=0x%llx\n",
	       is_write ? "write" : "read", (unsigned long long)gpa, len,
	       (unsigned long long)val);
}

int main(void)
{
	struct kt_vcpu *v;
	struct kt_ucall uc;

	kt_init("mmio");
	v = kt_create_default();
	kt_setup_long(v, (uint64_t)(uintptr_t)guest_main, KT_STACK_ENTRY);
	expect_mmio(v, HOLE, 1, 1, 0x11);
	expect_mmio(v, HOLE + 2, 2, 1, 0x2233);
	expect_mmio(v, HOLE + 4, 4, 1, 0x44556677);
	expect_mmio(v, HOLE + 8, 8, 1, 0x8899aabbccddeeffull);
	expect_mmio(v, HOLE + 0x10, 1, 0, 0xa1);
	expect_mmio(v, HOLE + 0x12, 2, 0, 0xb2b3);
	expect_mmio(v, HOLE + 0x14, 4, 0, 0xc4c5c6c7);
	expect_mmio(v, HOLE + 0x18, 8, 0, 0xd8d9dadbdcdddedfull);
	kt_expect_sync(v, 1, &uc);
	printf("guest read back 0x%llx 0x%llx\n",
	       (unsigned long long)uc.args[1], (unsigned long long)uc.args[2]);
	expect_mmio(v, HIGH + 0x40, 4, 1, 0x600dcafe);
	expect_mmio(v, HIGH + 0x48, 8, 0, 0x0102030405060708ull);
	kt_expect_sync(v, 2, &uc);
	kt_expect_done(v);
	kt_pass();
}
