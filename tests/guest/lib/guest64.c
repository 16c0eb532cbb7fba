// SPDX-License-Identifier: GPL-2.0
/*
 * guest64.c - runtime for 64-bit guest C code: interrupt entry stubs, the
 * IDT (all 256 vectors, interrupt gates through the host-built GDT's 64-bit
 * code selector) and the dispatcher.  An exception or interrupt is either
 * handled by a registered per-vector handler, or (exceptions, vectors 0-31)
 * resumed at the address armed with GUEST_TRY (the fault is recorded in
 * guest_exc), or reported to the host as unexpected (UC_EXCEPTION), which
 * fails the test.  Vectors 32-255 are reached by injected interrupts (tests
 * of KVM_INTERRUPT) or INT n; their stubs push a zero error code, as do
 * those of exceptions without one.
 *
 * This code is linked into every test binary; it runs only inside the guest,
 * from the copy of the image in guest memory.
 */
#include "kvmtest.h"

volatile uint64_t guest_fixup;
volatile struct guest_exc_info guest_exc = { .vector = 0xff };
guest_handler_t guest_handlers[256];

struct idt_gate {
	uint16_t off0, sel;
	uint8_t ist, type;
	uint16_t off1;
	uint32_t off2, rsvd;
};

static struct idt_gate guest_idt[256] __attribute__((aligned(16)));
extern const char kt_exc_stubs[]; /* 256 stubs, 16 bytes apart */

/* Vectors that push an error code: 8, 10-14, 17, 21, 29, 30. */
#define EXC_HAS_ERR(v)                                                     \
	((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || \
	 (v) == 29 || (v) == 30)

// clang-format off
/*
 * Stub v sits at kt_exc_stubs + 16 * v: "pushq $0" unless the CPU pushes an
 * error code, "pushq $v" (imm32 from 128 on), "jmp kt_exc_common": at most
 * 12 bytes.
 */
__asm__(
	".pushsection .text\n"
	".p2align 4\n"
	"kt_exc_stubs:\n"
	".set kt_v, 0\n"
	".rept 256\n"
	"  .p2align 4\n"
	"  .if (kt_v == 8) || ((kt_v >= 10) && (kt_v <= 14)) || (kt_v == 17) || (kt_v == 21) || (kt_v == 29) || (kt_v == 30)\n"
	"  .else\n"
	"    pushq $0\n"
	"  .endif\n"
	"  pushq $kt_v\n"
	"  jmp kt_exc_common\n"
	"  .set kt_v, kt_v + 1\n"
	".endr\n"
	"kt_exc_common:\n"
	"  push %rax; push %rbx; push %rcx; push %rdx; push %rsi; push %rdi; push %rbp\n"
	"  push %r8; push %r9; push %r10; push %r11; push %r12; push %r13; push %r14; push %r15\n"
	"  mov %rsp, %rdi\n"
	"  cld\n"
	"  call guest_exc_dispatch\n"
	"  pop %r15; pop %r14; pop %r13; pop %r12; pop %r11; pop %r10; pop %r9; pop %r8\n"
	"  pop %rbp; pop %rdi; pop %rsi; pop %rdx; pop %rcx; pop %rbx; pop %rax\n"
	"  add $16, %rsp\n"
	"  iretq\n"
	".popsection\n");
// clang-format on

void guest_exc_dispatch(struct guest_frame *f);

void guest_exc_dispatch(struct guest_frame *f)
{
	uint64_t v = f->vector;

	if (v < 256 && guest_handlers[v]) {
		guest_handlers[v](f);
		return;
	}
	if (v < 32 && guest_fixup) {
		guest_exc.vector = v;
		guest_exc.error_code = f->error_code;
		guest_exc.cr2 = v == 14 ? guest_read_cr(2) : 0;
		guest_exc.rip = f->rip;
		guest_exc.count++;
		f->rip = guest_fixup;
		guest_fixup = 0;
		return;
	}
	guest_ucall(UC_EXCEPTION, v, f->rip, f->error_code);
	guest_hlt_forever();
}

void guest_idt_init(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) d;

	for (int v = 0; v < 256; v++) {
		uint64_t a =
			(uint64_t)(uintptr_t)kt_exc_stubs + 16 * (uint64_t)v;
		struct idt_gate *g = &guest_idt[v];

		g->off0 = (uint16_t)a;
		g->sel = KT_SEL_CODE64;
		g->ist = 0;
		g->type = 0x8e; /* present, DPL 0, 64-bit interrupt gate */
		g->off1 = (uint16_t)(a >> 16);
		g->off2 = (uint32_t)(a >> 32);
		g->rsvd = 0;
	}
	d.limit = sizeof(guest_idt) - 1;
	d.base = (uint64_t)(uintptr_t)guest_idt;
	__asm__ volatile("lidt %0" : : "m"(d));
	guest_exc_reset();
}

/* Vector v's gate switches to stack ist (1-7) of the TSS, 0: none. */
void guest_idt_set_ist(int v, int ist)
{
	guest_idt[v].ist = (uint8_t)ist;
}

void guest_hlt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

void guest_print_hex(uint64_t v)
{
	char buf[19];
	int i;

	buf[0] = '0';
	buf[1] = 'x';
	for (i = 0; i < 16; i++)
		buf[2 + i] = "0123456789abcdef"[(v >> (60 - 4 * i)) & 0xf];
	buf[18] = 0;
	guest_puts(buf);
}
