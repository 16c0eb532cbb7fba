// SPDX-License-Identifier: GPL-2.0
/*
 * pio_string_long - INS/OUTS and REP INS/OUTS of sizes 1, 2 and 4 in
 * 64-bit long mode (identity paging, RSI/RDI/RCX), including a zero count, descending copies (DF=1) and
 * buffers that cross a page boundary.  The payload and the host checker
 * are shared by the three modes: see lib/string_io.h for the stages and
 * for why only the accumulated data and the final registers are compared,
 * never the number of exits.
 */
#include "string_io.h"

PAYLOAD(sio_long);
// clang-format off
__asm__(".pushsection .text.guest, \"ax\"\n"
	".code64\n"
	"sio_long_start:\n\t"
	STRING_IO_BODY(0x100f00, 0x102f00)
	"1: hlt\n\tjmp 1b\n"
	"sio_long_end:\n"
	".code64\n"
	".popsection\n");
// clang-format on

int main(void)
{
	struct kt_vcpu *v;

	kt_init("pio_string_long");
	v = kt_create_default();
	kt_setup_long(v, (uint64_t)(uintptr_t)sio_long_start, KT_STACK_TOP);
	sio_check(v, 0x100f00, 0x102f00);
	kt_pass();
}
