// SPDX-License-Identifier: GPL-2.0
/*
 * memslots - guest memory spread over several KVM_SET_USER_MEMORY_REGION
 * slots, one of them above 4 GiB, and two adjacent ones.
 *
 * The host fills each slot's buffer with a pattern naming the slot; the
 * 64-bit guest reads the first and last qword of every slot, writes its own
 * values at offset 8 and at size-16, and writes a dword straddling the
 * boundary of two adjacent slots.  The guest reports what it read, and the
 * host checks every write landed in the right host buffer at the right
 * offset and nothing else changed there.
 */
#include "kvmtest.h"

#include <string.h>

static const struct {
	int slot;
	uint64_t gpa, size;
} slots[] = {
	{ 1, 0x10000000, 0x100000 },
	{ 2, 0x10100000, 0x100000 }, /* adjacent to slot 1 */
	{ 3, 0x20000000, 0x200000 },
	{ 4, 0x100000000ull, 0x100000 }, /* above 4 GiB */
	{ 5, 0x180000000ull, 0x10000 },
};
#define NSLOTS (int)(sizeof(slots) / sizeof(slots[0]))

static uint64_t host_pattern(int slot, uint64_t off)
{
	return 0x5100000000000000ull | ((uint64_t)slot << 48) | off;
}

static uint64_t guest_value(int slot, int which)
{
	return 0x6000000000000000ull | ((uint64_t)slot << 8) | (uint64_t)which;
}

static uint64_t rd64(uint64_t a)
{
	uint64_t v;

	__asm__ volatile("movq (%1), %0" : "=r"(v) : "r"(a) : "memory");
	return v;
}

static void wr64(uint64_t a, uint64_t v)
{
	__asm__ volatile("movq %0, (%1)" : : "r"(v), "r"(a) : "memory");
}

static void guest_main(void)
{
	for (int i = 0; i < NSLOTS; i++) {
		uint64_t g = slots[i].gpa, s = slots[i].size;
		uint64_t first = rd64(g), last = rd64(g + s - 8);

		GUEST_ASSERT_EQ(first, host_pattern(slots[i].slot, 0));
		GUEST_ASSERT_EQ(last, host_pattern(slots[i].slot, s - 8));
		wr64(g + 8, guest_value(slots[i].slot, 1));
		wr64(g + s - 16, guest_value(slots[i].slot, 2));
		GUEST_ASSERT_EQ(rd64(g + 8), guest_value(slots[i].slot, 1));
		GUEST_SYNC((uint64_t)i, first, last);
	}
	/* A dword across the slot 1 / slot 2 boundary. */
	__asm__ volatile("movl %0, (%1)"
			 :
			 : "r"(0xa1b2c3d4u), "r"(0x100ffffeull)
			 : "memory");
	GUEST_DONE();
	guest_hlt_forever();
}

int main(void)
{
	struct kt_vcpu *v;
	struct kt_ucall uc;
	uint64_t *buf[NSLOTS];

	kt_init("memslots");
	v = kt_create_default();
	for (int i = 0; i < NSLOTS; i++) {
		buf[i] = kt_mem_add(v->vm, slots[i].slot, slots[i].gpa,
				    slots[i].size, 0);
		for (uint64_t o = 0; o < slots[i].size; o += 8)
			buf[i][o / 8] = host_pattern(slots[i].slot, o);
	}
	kt_setup_long(v, (uint64_t)(uintptr_t)guest_main, KT_STACK_ENTRY);
	for (int i = 0; i < NSLOTS; i++) {
		kt_expect_sync(v, (uint64_t)i, &uc);
		printf("slot %d at gpa 0x%llx: guest read first 0x%llx last 0x%llx\n",
		       slots[i].slot, (unsigned long long)slots[i].gpa,
		       (unsigned long long)uc.args[1],
		       (unsigned long long)uc.args[2]);
	}
	kt_expect_done(v);

	for (int i = 0; i < NSLOTS; i++) {
		uint64_t s = slots[i].size;
		int changed = 0;

		KT_ASSERT_EQ(buf[i][1], guest_value(slots[i].slot, 1));
		KT_ASSERT_EQ(buf[i][(s - 16) / 8],
			     guest_value(slots[i].slot, 2));
		for (uint64_t o = 0; o < s; o += 8) {
			if (buf[i][o / 8] != host_pattern(slots[i].slot, o))
				changed++;
		}
		printf("slot %d: guest writes at +0x8 and +0x%llx landed in its host buffer; qwords changed: %d\n",
		       slots[i].slot, (unsigned long long)(s - 16), changed);
		/* slots 1 and 2 also hold the straddling dword */
		KT_ASSERT_EQ(changed, slots[i].slot <= 2 ? 3 : 2);
	}
	{
		uint16_t lo, hi;

		memcpy(&lo, (char *)buf[0] + 0xffffe, 2);
		memcpy(&hi, (char *)buf[1], 2);
		printf("straddling dword: slot 1 tail 0x%04x, slot 2 head 0x%04x\n",
		       lo, hi);
		KT_ASSERT_EQ(lo, 0xc3d4);
		KT_ASSERT_EQ(hi, 0xa1b2);
	}
	kt_pass();
}
