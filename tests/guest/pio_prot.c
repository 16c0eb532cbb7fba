// SPDX-License-Identifier: GPL-2.0
/*
 * pio_prot - port I/O of sizes 1, 2 and 4 in both directions from a
 * 32-bit protected-mode guest (flat segments, no paging; 16-bit accesses
 * through the operand-size prefix), immediate and DX port forms, then HLT.
 *
 * The host checks every exit and supplies IN data; the guest compares the
 * IN results, including the untouched upper bits of EAX after IN AL / IN AX,
 * and reports them.  The final HLT must exit with EIP just past the HLT.
 * The payload runs in place (flat 32-bit code at its link address).
 */
#include "guest_asm.h"

#include <string.h>

PAYLOAD(pio_prot);
extern const char pio_prot_after[];
// clang-format off
__asm__(".pushsection .text.guest32, \"ax\"\n"
	".code32\n"
	"pio_prot_start:\n\t"
	"mov $0x5a, %al\n\t"
	"out %al, $0x10\n\t"
	"mov $0x1234, %ax\n\t"
	"out %ax, $0x12\n\t"
	"mov $0xdeadbeef, %eax\n\t"
	"out %eax, $0x14\n\t"
	"mov $0x3f8, %dx\n\t"
	"mov $0xa5, %al\n\t"
	"out %al, %dx\n\t"
	"mov $0xcfc, %dx\n\t"
	"mov $0xbeef, %ax\n\t"
	"out %ax, %dx\n\t"
	"mov $0xfffc, %dx\n\t"
	"mov $0x01020304, %eax\n\t"
	"out %eax, %dx\n\t"
	/* IN with merge checks */
	"mov $0x55667788, %eax\n\t"
	"in $0x20, %al\n\t"
	A_CHECK(1, %eax, 0x55667777)
	A_SYNC(1, %eax)
	"mov $0x55667788, %eax\n\t"
	"in $0x22, %ax\n\t"
	A_CHECK(2, %eax, 0x55668899)
	A_SYNC(2, %eax)
	"in $0x24, %eax\n\t"
	A_CHECK(3, %eax, 0xcafef00d)
	A_SYNC(3, %eax)
	"mov $0x1f0, %dx\n\t"
	"mov $0x11111111, %eax\n\t"
	"in %dx, %al\n\t"
	A_CHECK(4, %eax, 0x111111ab)
	"mov $0xfff0, %dx\n\t"
	"in %dx, %eax\n\t"
	A_CHECK(5, %eax, 0xabcdef01)
	A_SYNC(4, %eax)
	"pio_prot_hlt:\n\t"
	"hlt\n\t"
	"pio_prot_after:\n\t"
	A_DONE
	"1: hlt\n\t"
	"jmp 1b\n"
	"pio_prot_end:\n"
	".code64\n"
	".popsection\n");
// clang-format on

static void expect_out(struct kt_vcpu *v, uint16_t port, uint8_t size,
		       uint32_t val)
{
	uint32_t got = 0;

	KT_ASSERT_EQ(kt_run(v), KVM_EXIT_IO);
	memcpy(&got, kt_check_io(v, port, size, KVM_EXIT_IO_OUT, 1), size);
	printf("out port=0x%04x size=%u data=0x%x\n", port, size, got);
	KT_ASSERT_EQ(got, val);
}

static void supply_in(struct kt_vcpu *v, uint16_t port, uint8_t size,
		      uint32_t val)
{
	KT_ASSERT_EQ(kt_run(v), KVM_EXIT_IO);
	memcpy(kt_check_io(v, port, size, KVM_EXIT_IO_IN, 1), &val, size);
	printf("in  port=0x%04x size=%u supplied=0x%x\n", port, size, val);
}

static void expect_sync(struct kt_vcpu *v, int stage, uint32_t val)
{
	struct kt_ucall uc;

	kt_expect_sync(v, (uint64_t)stage, &uc);
	printf("sync %d: guest eax=0x%x\n", stage, (uint32_t)uc.args[1]);
	KT_ASSERT_EQ((uint32_t)uc.args[1], val);
}

int main(void)
{
	struct kt_vcpu *v;
	struct kvm_regs r;
	uint64_t hlt_off = (uint64_t)(uintptr_t)pio_prot_after;

	kt_init("pio_prot");
	v = kt_create_default();
	kt_setup_prot(v, (uint32_t)(uintptr_t)pio_prot_start, KT_STACK_TOP);

	expect_out(v, 0x10, 1, 0x5a);
	expect_out(v, 0x12, 2, 0x1234);
	expect_out(v, 0x14, 4, 0xdeadbeef);
	expect_out(v, 0x3f8, 1, 0xa5);
	expect_out(v, 0xcfc, 2, 0xbeef);
	expect_out(v, 0xfffc, 4, 0x01020304);
	supply_in(v, 0x20, 1, 0x77);
	expect_sync(v, 1, 0x55667777);
	supply_in(v, 0x22, 2, 0x8899);
	expect_sync(v, 2, 0x55668899);
	supply_in(v, 0x24, 4, 0xcafef00d);
	expect_sync(v, 3, 0xcafef00d);
	supply_in(v, 0x1f0, 1, 0xab);
	supply_in(v, 0xfff0, 4, 0xabcdef01);
	expect_sync(v, 4, 0xabcdef01);
	kt_run_expect(v, KVM_EXIT_HLT);
	kt_get_regs(v, &r);
	printf("hlt exit: eip is %s the HLT\n",
	       r.rip == hlt_off ? "just past" : "NOT past");
	KT_ASSERT_EQ(r.rip, hlt_off);
	kt_expect_done(v);
	kt_pass();
}
