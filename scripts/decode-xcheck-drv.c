// SPDX-License-Identifier: GPL-2.0
/*
 * decode-xcheck-drv.c - reads "mode amd hexbytes" lines, prints the decoded
 * length (or the negative error) per line.  Used by decode-xcheck.py.
 */
#include <stdio.h>
#include <string.h>

#include "decode.h"

int main(void)
{
	char line[256], hex[128];
	int mode, amd;

	while (fgets(line, sizeof(line), stdin)) {
		u8 buf[32];
		struct xk_insn in;
		size_t n = 0;
		int r;

		if (sscanf(line, "%d %d %127s", &mode, &amd, hex) != 3)
			continue;
		while (hex[2 * n] && hex[2 * n + 1] && n < sizeof(buf)) {
			unsigned int v;

			sscanf(hex + 2 * n, "%2x", &v);
			buf[n++] = (u8)v;
		}
		r = xk_decode_ex(buf, n, (enum xk_cpu_mode)mode,
				 amd ? XK_DEC_AMD : 0, &in);
		printf("%d\n", r ? r : in.len);
	}
	return 0;
}
