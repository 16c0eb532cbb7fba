// SPDX-License-Identifier: GPL-2.0
/*
 * hello - the demo guest for tools/kvmrun: a freestanding 64-bit ELF that
 * prints a greeting through the debug console port 0xE9, shows something
 * only the guest can compute (the CRC32 of its own code, and the CPU vendor
 * and brand strings that CPUID reports inside the VM), then ends the run
 * with status 0 through port 0xF4.
 *
 * Run it with:  kvmrun -s build/demo/hello.elf
 */
#include <stdint.h>

extern const uint8_t __text_start[], __text_end[];
void hello_main(void) __attribute__((noreturn));

static uint8_t stack[16384] __attribute__((aligned(16), used));

// clang-format off
__asm__(".pushsection .text.start, \"ax\"\n"
	".globl _start\n"
	"_start:\n\t"
	"lea stack+16384(%rip), %rsp\n\t"
	"call hello_main\n"
	"1:\n\thlt\n\tjmp 1b\n"
	".popsection\n");
// clang-format on

static void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static void puts_e9(const char *s)
{
	while (*s)
		outb(0xe9, (uint8_t)*s++);
}

static void puthex32(uint32_t v)
{
	for (int i = 28; i >= 0; i -= 4)
		outb(0xe9, (uint8_t) "0123456789abcdef"[(v >> i) & 0xf]);
}

static void cpuid(uint32_t leaf, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(0));
}

static uint32_t crc32(const uint8_t *p, const uint8_t *end)
{
	uint32_t crc = 0xffffffff;

	while (p < end) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320 & -(crc & 1));
	}
	return ~crc;
}

void hello_main(void)
{
	uint32_t r[4], brand[13];
	char vendor[13];

	puts_e9("Hello from a guest running on /dev/kvm\n");

	puts_e9("CRC32 of my own code (");
	puthex32((uint32_t)(__text_end - __text_start));
	puts_e9(" bytes at ");
	puthex32((uint32_t)(uintptr_t)__text_start);
	puts_e9("): ");
	puthex32(crc32(__text_start, __text_end));
	puts_e9("\n");

	cpuid(0, r);
	for (int i = 0; i < 4; i++) {
		vendor[i] = (char)(r[1] >> (8 * i));
		vendor[4 + i] = (char)(r[3] >> (8 * i));
		vendor[8 + i] = (char)(r[2] >> (8 * i));
	}
	vendor[12] = 0;
	puts_e9("CPU vendor (CPUID 0): ");
	puts_e9(vendor);
	puts_e9("\n");

	cpuid(0x80000000, r);
	if (r[0] >= 0x80000004) {
		for (uint32_t l = 0; l < 3; l++)
			cpuid(0x80000002 + l, &brand[4 * l]);
		brand[12] = 0;
		puts_e9("CPU brand (CPUID 0x80000002-4): ");
		puts_e9(((const char *)brand)[0] ? (const char *)brand :
						   "(empty)");
		puts_e9("\n");
	}
	puts_e9("Goodbye: exiting with status 0 through port 0xf4\n");
	outl(0xf4, 0);
	for (;;)
		__asm__ volatile("hlt");
}
