// SPDX-License-Identifier: GPL-2.0
/*
 * pio_string_real - INS/OUTS and REP INS/OUTS of sizes 1, 2 and 4 in
 * real mode (16-bit addressing through DS:SI and ES:DI), including a zero count, descending copies (DF=1) and
 * buffers that cross a page boundary.  The payload and the host checker
 * are shared by the three modes: see lib/string_io.h for the stages and
 * for why only the accumulated data and the final registers are compared,
 * never the number of exits.
 */
#include "string_io.h"

PAYLOAD(sio_real);
// clang-format off
__asm__(".pushsection .text.guest, \"ax\"\n"
	".code16\n"
	"sio_real_start:\n\t"
	STRING_IO_BODY(0x9f00, 0xbf00)
	"1: hlt\n\tjmp 1b\n"
	"sio_real_end:\n"
	".code64\n"
	".popsection\n");
// clang-format on

int main(void)
{
	struct kt_vcpu *v;

	kt_init("pio_string_real");
	v = kt_create_default();
	kt_load_blob(v->vm, KT_REAL_GPA, sio_real_start, sio_real_end);
	kt_setup_real(v, 0, KT_REAL_GPA, 0x7000);
	sio_check(v, 0x9f00, 0xbf00);
	kt_pass();
}
