// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_decode.c - libFuzzer target for core/decode.c (make -C tests/unit
 * fuzz).  Byte 0 picks the mode and vendor; the rest is the instruction.
 * Checks the decoder's invariants: it reads nothing past avail (ASan),
 * returns only 0, -EINVAL or XK_DECODE_SHORT, a decoded instruction fits
 * in 15 bytes and in avail, decodes the same from exactly its own bytes,
 * and is "short" with one byte less.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xk_insn a, b;
	enum xk_cpu_mode mode;
	unsigned int flags;
	u8 *copy;
	int r;

	if (size < 1)
		return 0;
	mode = (enum xk_cpu_mode)(data[0] % 5);
	flags = data[0] & 0x80 ? XK_DEC_AMD : 0;
	data++;
	size--;
	r = xk_decode_ex(data, size, mode, flags, &a);
	if (r != 0 && r != -EINVAL && r != XK_DECODE_SHORT)
		abort();
	if (r == XK_DECODE_SHORT && size >= XK_INSN_MAX)
		abort();
	if (r)
		return 0;
	if (a.len < 1 || a.len > XK_INSN_MAX || a.len > size ||
	    a.opc_off >= a.len || data[a.opc_off] != a.opcode)
		abort();
	copy = malloc(a.len);
	if (!copy)
		return 0;
	memcpy(copy, data, a.len);
	if (xk_decode_ex(copy, a.len, mode, flags, &b) != 0 ||
	    memcmp(&a, &b, sizeof(a)) != 0)
		abort();
	if (xk_decode_ex(copy, a.len - 1u, mode, flags, &b) != XK_DECODE_SHORT)
		abort();
	free(copy);
	return 0;
}
