// SPDX-License-Identifier: GPL-2.0
/*
 * guest64.c - runtime for 64-bit guest C code: exception entry stubs, the
 * IDT (vectors 0-31, interrupt gates through the host-built GDT's 64-bit code
 * selector) and the dispatcher.  A fault is either handled by a registered
 * per-vector handler, or resumed at the address armed with GUEST_TRY (the
 * fault is recorded in guest_exc), or reported to the host as an unexpected
 * exception (UC_EXCEPTION), which fails the test.
 *
 * This code is linked into every test binary; it runs only inside the guest,
 * from the copy of the image in guest memory.
 */
#include "kvmtest.h"

volatile uint64_t guest_fixup;
volatile struct guest_exc_info guest_exc = { .vector = 0xff };
guest_handler_t guest_handlers[32];

struct idt_gate {
	uint16_t off0, sel;
	uint8_t ist, type;
	uint16_t off1;
	uint32_t off2, rsvd;
};

static struct idt_gate guest_idt[32] __attribute__((aligned(16)));
extern const uint64_t guest_exc_stubs[32];

/* Vectors that push an error code: 8, 10-14, 17, 21, 29, 30. */
#define EXC_HAS_ERR(v)                                                     \
	((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || \
	 (v) == 29 || (v) == 30)

// clang-format off
__asm__(
	".pushsection .text\n"
	".macro kt_stub v\n"
	"  .align 16\n"
	"  kt_exc_stub_\\v:\n"
	"  .if (\\v == 8) || ((\\v >= 10) && (\\v <= 14)) || (\\v == 17) || (\\v == 21) || (\\v == 29) || (\\v == 30)\n"
	"  .else\n"
	"    pushq $0\n"
	"  .endif\n"
	"  pushq $\\v\n"
	"  jmp kt_exc_common\n"
	".endm\n"
	".irp v,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
	"  kt_stub \\v\n"
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
	".popsection\n"
	".pushsection .rodata\n"
	".align 8\n"
	"guest_exc_stubs:\n"
	".irp v,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
	"  .quad kt_exc_stub_\\v\n"
	".endr\n"
	".popsection\n");
// clang-format on

void guest_exc_dispatch(struct guest_frame *f);

void guest_exc_dispatch(struct guest_frame *f)
{
	uint64_t v = f->vector;

	if (v < 32 && guest_handlers[v]) {
		guest_handlers[v](f);
		return;
	}
	if (guest_fixup) {
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

	for (int v = 0; v < 32; v++) {
		uint64_t a = guest_exc_stubs[v];
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
