/* SPDX-License-Identifier: GPL-2.0 */
/*
 * string_io.h - the string port I/O payload and its host checker, shared by
 * pio_string_real, pio_string_prot and pio_string_long.  The payload text
 * assembles unchanged as .code16, .code32 and .code64 (it only uses
 * 32-bit immediates, and counts that fit in 16 bits), so all three modes run
 * the same cases:
 *
 *  stage 1  REP OUTSB   300 bytes, port 0x40, source crosses a page
 *  stage 2  REP OUTSW   100 words, port 0x42
 *  stage 3  REP OUTSD    50 dwords, port 0x44
 *  stage 4  OUTSB, OUTSW, OUTSD once each, port 0x46 (one exit each, count 1)
 *  stage 5  REP OUTSB with CX = 0: no exit at all
 *  stage 6  STD; REP OUTSW 10 words, port 0x48 (descending addresses)
 *  stage 7  REP INSB    300 bytes, port 0x50, destination crosses a page
 *  stage 8  REP INSW     64 words, port 0x52
 *  stage 9  REP INSD     33 dwords, port 0x54
 *  stage 10 INSB, INSW, INSD once each, port 0x56
 *  stage 11 STD; REP INSB 16 bytes, port 0x58 (descending)
 *
 * After each stage the guest reports (E)SI or (E)DI and (E)CX; for the IN
 * stages it first verifies the received stream itself.  KVM may split a REP
 * string instruction into any number of exits, so the host only requires
 * that every exit is an IO exit with the right port, size and direction,
 * accumulates the stream, and checks the totals and the final registers.
 *
 * Source pattern: byte i of SRC is (3 + 7 i) mod 256 (written by the guest).
 * IN stream of port P: byte k is (P + 13 k) mod 256.
 */
#ifndef STRING_IO_H
#define STRING_IO_H

#include "guest_asm.h"

#include <string.h>

/* Verify n bytes at addr against the IN stream of port (uses esi/ecx/al/bl). */
// clang-format off
#define S_VERIFY(id, addr, n, port)					\
	"mov $" #addr ", %esi\n\tmov $" #n ", %ecx\n\tmov $" #port ", %bl\n"	\
	"8:\n\tlodsb\n\tcmp %bl, %al\n\tje 7f\n\t"				\
	"movzbl %al, %esi\n\tmov $" #id ", %edi\n\t" A_UCALL(UC_ASSERT)	\
	"7:\n\tadd $13, %bl\n\tdec %ecx\n\tjnz 8b\n\t"
// clang-format on

// clang-format off
#define STRING_IO_BODY(SRC, DST)					\
	"cld\n\t"							\
	"mov $" #SRC ", %edi\n\tmov $1024, %ecx\n\tmov $3, %al\n"	\
	"1:\n\tstosb\n\tadd $7, %al\n\tdec %ecx\n\tjnz 1b\n\t"		\
	/* 1 */ "mov $" #SRC ", %esi\n\tmov $300, %ecx\n\tmov $0x40, %edx\n\t" \
	"rep outsb\n\t" A_SYNC2(1, %esi, %ecx)				\
	/* 2 */ "mov $" #SRC "+2, %esi\n\tmov $100, %ecx\n\tmov $0x42, %edx\n\t" \
	"rep outsw\n\t" A_SYNC2(2, %esi, %ecx)				\
	/* 3 */ "mov $" #SRC "+4, %esi\n\tmov $50, %ecx\n\tmov $0x44, %edx\n\t" \
	"rep outsl\n\t" A_SYNC2(3, %esi, %ecx)				\
	/* 4 */ "mov $" #SRC "+10, %esi\n\tmov $0x46, %edx\n\tmov $0x77, %ecx\n\t" \
	"outsb\n\toutsw\n\toutsl\n\t" A_SYNC2(4, %esi, %ecx)		\
	/* 5 */ "mov $" #SRC ", %esi\n\txor %ecx, %ecx\n\tmov $0x4a, %edx\n\t" \
	"rep outsb\n\t" A_SYNC2(5, %esi, %ecx)				\
	/* 6 */ "mov $" #SRC "+600, %esi\n\tmov $10, %ecx\n\tmov $0x48, %edx\n\t" \
	"std\n\trep outsw\n\tcld\n\t" A_SYNC2(6, %esi, %ecx)		\
	/* 7 */ "mov $" #DST ", %edi\n\tmov $300, %ecx\n\tmov $0x50, %edx\n\t" \
	"rep insb\n\t" "mov %ecx, %ebp\n\t"				\
	S_VERIFY(71, DST, 300, 0x50) A_SYNC2(7, %edi, %ebp)		\
	/* 8 */ "mov $" #DST "+0x140, %edi\n\tmov $64, %ecx\n\tmov $0x52, %edx\n\t" \
	"rep insw\n\t" "mov %ecx, %ebp\n\t"				\
	S_VERIFY(81, DST+0x140, 128, 0x52) A_SYNC2(8, %edi, %ebp)	\
	/* 9 */ "mov $" #DST "+0x1c0, %edi\n\tmov $33, %ecx\n\tmov $0x54, %edx\n\t" \
	"rep insl\n\t" "mov %ecx, %ebp\n\t"				\
	S_VERIFY(91, DST+0x1c0, 132, 0x54) A_SYNC2(9, %edi, %ebp)	\
	/* 10 */ "mov $" #DST "+0x250, %edi\n\tmov $0x56, %edx\n\tmov $0x99, %ecx\n\t" \
	"insb\n\tinsw\n\tinsl\n\t" A_SYNC2(10, %edi, %ecx)		\
	/* 11 */ "mov $" #DST "+0x30f, %edi\n\tmov $16, %ecx\n\tmov $0x58, %edx\n\t" \
	"std\n\trep insb\n\tcld\n\t" A_SYNC2(11, %edi, %ecx)		\
	A_DONE
// clang-format on

#ifndef KT_GUEST_ONLY
static uint8_t sio_src(uint32_t i)
{
	return (uint8_t)(3 + 7 * i);
}
static uint8_t sio_in(uint16_t port, uint32_t k)
{
	return (uint8_t)(port + 13 * k);
}

/*
 * Run until the next exit that is not IO on `port`; every exit on the port
 * must have this size and direction.  OUT data is appended to buf, IN data
 * is supplied from the port's stream.  Returns the number of bytes moved.
 */
static size_t sio_run(struct kt_vcpu *v, uint16_t port, uint8_t size,
		      uint8_t dir, uint8_t *buf, size_t max)
{
	size_t n = 0;
	unsigned exits = 0;

	for (;;) {
		struct kvm_run *run = v->run;
		uint8_t *d;
		size_t len;

		kt_run(v);
		if (run->exit_reason != KVM_EXIT_IO || run->io.port != port)
			break;
		exits++;
		KT_ASSERT(run->io.size == size && run->io.direction == dir &&
				  run->io.count >= 1,
			  "port 0x%x: size %u dir %u count %u", port,
			  run->io.size, run->io.direction, run->io.count);
		len = (size_t)run->io.count * size;
		KT_ASSERT(n + len <= max, "port 0x%x: more than %zu bytes",
			  port, max);
		KT_ASSERT(run->io.data_offset + len <= (size_t)v->vm->run_size);
		d = (uint8_t *)run + run->io.data_offset;
		if (dir == KVM_EXIT_IO_OUT) {
			memcpy(buf + n, d, len);
		} else {
			for (size_t i = 0; i < len; i++)
				d[i] = sio_in(port, (uint32_t)(n + i));
		}
		n += len;
	}
	/* Exit granularity is implementation-defined: stderr, not transcript. */
	fprintf(stderr, "port 0x%x size %u dir %u: %zu bytes in %u exits\n",
		port, size, dir, n, exits);
	return n;
}

static void sio_sync(struct kt_vcpu *v, int stage, uint64_t reg, uint64_t cx)
{
	struct kt_ucall uc;

	if (kt_decode_ucall(v, &uc) != UC_SYNC || uc.args[0] != (uint64_t)stage)
		kt_fail(__FILE__, __LINE__,
			"stage %d: expected GUEST_SYNC, got ucall %u/%llu",
			stage, uc.cmd, (unsigned long long)uc.args[0]);
	printf("stage %d: index register=0x%llx count register=0x%llx\n", stage,
	       (unsigned long long)uc.args[1], (unsigned long long)uc.args[2]);
	KT_ASSERT_EQ(uc.args[1], reg);
	KT_ASSERT_EQ(uc.args[2], cx);
}

static void sio_expect_out(struct kt_vcpu *v, int stage, uint16_t port,
			   uint8_t size, uint32_t units, uint32_t src,
			   uint64_t src_off, int down)
{
	uint8_t buf[4096];
	size_t n = sio_run(v, port, size, KVM_EXIT_IO_OUT, buf, sizeof(buf));
	uint32_t sum = 0;

	KT_ASSERT_EQ(n, (size_t)units * size);
	for (uint32_t u = 0; u < units; u++) {
		uint64_t off = down ? src_off - (uint64_t)u * size :
				      src_off + (uint64_t)u * size;

		for (uint32_t b = 0; b < size; b++) {
			KT_ASSERT(buf[u * size + b] ==
					  sio_src((uint32_t)off + b),
				  "stage %d: byte %u is 0x%x", stage,
				  u * size + b, buf[u * size + b]);
			sum = sum * 31 + buf[u * size + b];
		}
	}
	printf("stage %d: OUT port 0x%x size %u: %zu bytes, first 0x%02x last 0x%02x, hash 0x%08x\n",
	       stage, port, size, n, buf[0], buf[n - 1], sum);
	(void)src;
}

static void sio_expect_in(struct kt_vcpu *v, int stage, uint16_t port,
			  uint8_t size, uint32_t units, uint64_t dst, int down)
{
	size_t n = sio_run(v, port, size, KVM_EXIT_IO_IN, NULL,
			   (size_t)units * size);
	uint8_t *mem = kt_gpa2hva(v->vm, down ? dst - units + 1 : dst);

	KT_ASSERT_EQ(n, (size_t)units * size);
	for (uint32_t k = 0; k < n; k++) {
		uint8_t got = down ? mem[n - 1 - k] : mem[k];

		KT_ASSERT(got == sio_in(port, k),
			  "stage %d: guest byte %u is 0x%x", stage, k, got);
	}
	printf("stage %d: IN port 0x%x size %u: %zu bytes landed in guest memory\n",
	       stage, port, size, n);
}

/* The host side of STRING_IO_BODY; the vCPU is set up at the payload. */
static void sio_check(struct kt_vcpu *v, uint32_t src, uint32_t dst)
{
	uint8_t b[8];
	uint8_t *d;

	sio_expect_out(v, 1, 0x40, 1, 300, src, 0, 0);
	sio_sync(v, 1, src + 300, 0);
	sio_expect_out(v, 2, 0x42, 2, 100, src, 2, 0);
	sio_sync(v, 2, src + 202, 0);
	sio_expect_out(v, 3, 0x44, 4, 50, src, 4, 0);
	sio_sync(v, 3, src + 204, 0);
	/* Stage 4: non-REP forms, exactly one exit each. */
	kt_run(v);
	d = kt_check_io(v, 0x46, 1, KVM_EXIT_IO_OUT, 1);
	b[0] = d[0];
	kt_run(v);
	d = kt_check_io(v, 0x46, 2, KVM_EXIT_IO_OUT, 1);
	memcpy(b + 1, d, 2);
	kt_run(v);
	d = kt_check_io(v, 0x46, 4, KVM_EXIT_IO_OUT, 1);
	memcpy(b + 3, d, 4);
	for (int i = 0; i < 7; i++)
		KT_ASSERT_EQ(b[i], sio_src(10 + (uint32_t)i));
	printf("stage 4: OUTSB/OUTSW/OUTSD sent %02x | %02x %02x | %02x %02x %02x %02x\n",
	       b[0], b[1], b[2], b[3], b[4], b[5], b[6]);
	kt_run(v);
	sio_sync(v, 4, src + 17, 0x77);
	/* Stage 5: count 0, the next exit is the ucall. */
	kt_run(v);
	sio_sync(v, 5, src, 0);
	sio_expect_out(v, 6, 0x48, 2, 10, src, 600, 1);
	sio_sync(v, 6, src + 600 - 20, 0);
	sio_expect_in(v, 7, 0x50, 1, 300, dst, 0);
	sio_sync(v, 7, dst + 300, 0);
	sio_expect_in(v, 8, 0x52, 2, 64, dst + 0x140, 0);
	sio_sync(v, 8, dst + 0x140 + 128, 0);
	sio_expect_in(v, 9, 0x54, 4, 33, dst + 0x1c0, 0);
	sio_sync(v, 9, dst + 0x1c0 + 132, 0);
	/* Stage 10: non-REP INS, one exit each. */
	kt_run(v);
	kt_check_io(v, 0x56, 1, KVM_EXIT_IO_IN, 1)[0] = 0xa1;
	kt_run(v);
	memcpy(kt_check_io(v, 0x56, 2, KVM_EXIT_IO_IN, 1), "\xb2\xb3", 2);
	kt_run(v);
	memcpy(kt_check_io(v, 0x56, 4, KVM_EXIT_IO_IN, 1), "\xc4\xc5\xc6\xc7",
	       4);
	kt_run(v);
	sio_sync(v, 10, dst + 0x257, 0x99);
	d = kt_gpa2hva(v->vm, dst + 0x250);
	KT_ASSERT(memcmp(d, "\xa1\xb2\xb3\xc4\xc5\xc6\xc7", 7) == 0,
		  "stage 10 data");
	printf("stage 10: INSB/INSW/INSD data landed in guest memory\n");
	sio_expect_in(v, 11, 0x58, 1, 16, dst + 0x30f, 1);
	sio_sync(v, 11, dst + 0x30f - 16, 0);
	kt_expect_done(v);
}
#endif

#endif
