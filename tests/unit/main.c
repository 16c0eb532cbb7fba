// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - the unit-test runner; see xtest.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xtest.h"

static struct xt_test *tests;
static unsigned int ntests;
static jmp_buf xt_jmp;
static char xt_msg[2048];
static char xt_context[256];

void xt_register(struct xt_test *t)
{
	t->next = tests;
	tests = t;
	ntests++;
}

void xt_ctx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(xt_context, sizeof(xt_context), fmt, ap);
	va_end(ap);
}

void xt_fail(const char *file, int line, const char *fmt, ...)
{
	char m[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	snprintf(xt_msg, sizeof(xt_msg), "%s:%d: %s%s%s%s", file, line, m,
		 xt_context[0] ? " [" : "", xt_context,
		 xt_context[0] ? "]" : "");
	longjmp(xt_jmp, 1);
}

static int cmp_test(const void *a, const void *b)
{
	const struct xt_test *x = *(struct xt_test *const *)a;
	const struct xt_test *y = *(struct xt_test *const *)b;
	int c = strcmp(x->file, y->file);

	return c ? c : x->line - y->line;
}

static bool selected(const struct xt_test *t, int argc, char **argv)
{
	char full[256];
	bool any = false;
	int i;

	snprintf(full, sizeof(full), "%s/%s", t->suite, t->name);
	for (i = 1; i < argc; i++) {
		if (argv[i][0] == '-')
			continue;
		any = true;
		if (strstr(full, argv[i]))
			return true;
	}
	return !any;
}

static void reset_knobs(void)
{
	host_user_fail_nth(0, HOST_USER_FAIL_ALL);
	host_user_bug_count_mode(false);
	host_user_set_efault_range(0, 0);
	host_user_set_signal_pending(false);
}

/* Runs one test; returns true if it passed. */
static bool run_one(struct xt_test *t)
{
	struct host_held before, after;
	/* volatile: read after longjmp */
	volatile bool ok = true;

	xt_context[0] = 0;
	xt_msg[0] = 0;
	reset_knobs();
	host_held(&before);
	if (setjmp(xt_jmp) == 0)
		t->fn();
	else
		ok = false;
	reset_knobs();
	if (host_user_atomic_depth() != 0 && ok) {
		snprintf(xt_msg, sizeof(xt_msg),
			 "%s:%d: left atomic context (depth %d)", t->file,
			 t->line, host_user_atomic_depth());
		ok = false;
	}
	host_held(&after);
	if (ok &&
	    (after.objects != before.objects || after.pages != before.pages ||
	     after.pinned != before.pinned)) {
		snprintf(xt_msg, sizeof(xt_msg),
			 "%s:%d: leaked %lld objects, %lld pages, %lld pinned",
			 t->file, t->line,
			 (long long)(after.objects - before.objects),
			 (long long)(after.pages - before.pages),
			 (long long)(after.pinned - before.pinned));
		ok = false;
	}
	return ok;
}

int main(int argc, char **argv)
{
	struct xt_test **v, *t;
	unsigned int i, n = 0, passed = 0, failed = 0;
	bool list = false;
	int a;

	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "-l")) {
			list = true;
		} else if (argv[a][0] == '-') {
			fprintf(stderr,
				"usage: %s [-l] [suite/test substring...]\n",
				argv[0]);
			return 2;
		}
	}
	v = calloc(ntests ? ntests : 1, sizeof(*v));
	if (!v)
		return 2;
	for (t = tests; t; t = t->next)
		v[n++] = t;
	qsort(v, n, sizeof(*v), cmp_test);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < n; i++) {
		t = v[i];
		if (!selected(t, argc, argv))
			continue;
		if (list) {
			printf("unit/%s/%s\n", t->suite, t->name);
			continue;
		}
		if (run_one(t)) {
			printf("PASS unit/%s/%s\n", t->suite, t->name);
			passed++;
		} else {
			printf("FAIL unit/%s/%s: %s\n", t->suite, t->name,
			       xt_msg);
			failed++;
		}
	}
	free(v);
	if (!list)
		printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
