// SPDX-License-Identifier: GPL-2.0
/*
 * pio_long - port I/O of sizes 1, 2 and 4 in both directions from a 64-bit
 * guest, with immediate and DX port forms (including ports above 0xff).
 *
 * The host checks every exit (port, size, direction, count and the OUT data)
 * and supplies IN data; the guest checks that the IN data arrived in AL/AX/EAX
 * with the architectural merge rules (IN AL/AX keep the rest of RAX, IN EAX
 * zero-extends into RAX) and reports the raw RAX values back.
 */
#include "kvmtest.h"

#include <string.h>

static uint64_t guest_in_rax(int size, uint16_t port)
{
	uint64_t rax = 0x1122334455667788ull;

	switch (size) {
	case 1:
		__asm__ volatile("inb %w1, %%al" : "+a"(rax) : "d"(port));
		break;
	case 2:
		__asm__ volatile("inw %w1, %%ax" : "+a"(rax) : "d"(port));
		break;
	case 4:
		__asm__ volatile("inl %w1, %%eax" : "+a"(rax) : "d"(port));
		break;
	}
	return rax;
}

static void guest_main(void)
{
	/* OUT, immediate port. */
	outb(0x10, 0x5a);
	outw(0x12, 0x1234);
	outl(0x14, 0xdeadbeef);
	/* OUT through DX, high ports. */
	outb(0x3f8, 0xa5);
	outw(0xcfc, 0xbeef);
	outl(0xfffc, 0x01020304);

	/* IN, immediate port. */
	GUEST_ASSERT_EQ(inb(0x20), 0x77);
	GUEST_ASSERT_EQ(inw(0x22), 0x8899);
	GUEST_ASSERT_EQ(inl(0x24), 0xcafef00d);
	/* IN merge rules. */
	uint64_t a = guest_in_rax(1, 0x1f0);
	uint64_t b = guest_in_rax(2, 0x1f2);
	uint64_t c = guest_in_rax(4, 0xfff0);

	GUEST_ASSERT_EQ(a, 0x11223344556677abull);
	GUEST_ASSERT_EQ(b, 0x112233445566abcdull);
	GUEST_ASSERT_EQ(c, 0x00000000abcdef01ull);
	GUEST_SYNC(1, a, b);
	GUEST_SYNC(2, c, 0);
	GUEST_DONE();
	guest_hlt_forever();
}

static void expect_out(struct kt_vcpu *v, uint16_t port, uint8_t size,
		       uint32_t val)
{
	uint32_t got = 0;
	uint8_t *d;

	KT_ASSERT_EQ(kt_run(v), KVM_EXIT_IO);
	d = kt_check_io(v, port, size, KVM_EXIT_IO_OUT, 1);
	memcpy(&got, d, size);
	printf("out port=0x%04x size=%u data=0x%x\n", port, size, got);
	KT_ASSERT_EQ(got, val);
}

static void supply_in(struct kt_vcpu *v, uint16_t port, uint8_t size,
		      uint32_t val)
{
	uint8_t *d;

	KT_ASSERT_EQ(kt_run(v), KVM_EXIT_IO);
	d = kt_check_io(v, port, size, KVM_EXIT_IO_IN, 1);
	memcpy(d, &val, size);
	printf("in  port=0x%04x size=%u supplied=0x%x\n", port, size, val);
}

int main(void)
{
	struct kt_vcpu *v;
	struct kt_ucall uc;

	kt_init("pio_long");
	v = kt_create_default();
	kt_setup_long(v, (uint64_t)(uintptr_t)guest_main, KT_STACK_ENTRY);

	expect_out(v, 0x10, 1, 0x5a);
	expect_out(v, 0x12, 2, 0x1234);
	expect_out(v, 0x14, 4, 0xdeadbeef);
	expect_out(v, 0x3f8, 1, 0xa5);
	expect_out(v, 0xcfc, 2, 0xbeef);
	expect_out(v, 0xfffc, 4, 0x01020304);
	supply_in(v, 0x20, 1, 0x77);
	supply_in(v, 0x22, 2, 0x8899);
	supply_in(v, 0x24, 4, 0xcafef00d);
	supply_in(v, 0x1f0, 1, 0xab);
	supply_in(v, 0x1f2, 2, 0xabcd);
	supply_in(v, 0xfff0, 4, 0xabcdef01);
	kt_expect_sync(v, 1, &uc);
	printf("guest rax after inb=0x%llx inw=0x%llx\n",
	       (unsigned long long)uc.args[1], (unsigned long long)uc.args[2]);
	kt_expect_sync(v, 2, &uc);
	printf("guest rax after inl=0x%llx\n", (unsigned long long)uc.args[1]);
	kt_expect_done(v);
	kt_pass();
}
