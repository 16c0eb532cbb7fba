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
static const char *xt_bug; /* XT_KNOWN_BUG of the running test */

#define XT_MAX_CLEANUPS 32
static struct {
	void (*fn)(void *);
	void *arg;
} xt_cleanups[XT_MAX_CLEANUPS];
static unsigned int xt_ncleanups;

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

void xt_cleanup(void (*fn)(void *), void *arg)
{
	if (xt_ncleanups == XT_MAX_CLEANUPS) {
		fn(arg);
		XT_FAIL("more than %d cleanups", XT_MAX_CLEANUPS);
	}
	xt_cleanups[xt_ncleanups].fn = fn;
	xt_cleanups[xt_ncleanups].arg = arg;
	xt_ncleanups++;
}

void xt_cleanup_cancel(void (*fn)(void *), void *arg)
{
	unsigned int i;

	for (i = xt_ncleanups; i-- > 0;) {
		if (xt_cleanups[i].fn == fn && xt_cleanups[i].arg == arg) {
			xt_cleanups[i] = xt_cleanups[--xt_ncleanups];
			return;
		}
	}
}

void xt_known_bug(const char *what)
{
	xt_bug = what;
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
	host_user_set_user_window(0, 0);
	host_user_set_signal_pending(false);
	host_user_signal_after(0);
	host_user_cpu_reset();
}

/* Runs the registered cleanups, last first; false if one failed. */
static bool run_cleanups(void)
{
	/* volatile: read after longjmp */
	volatile bool ok = true;

	while (xt_ncleanups) {
		unsigned int i = --xt_ncleanups;

		if (setjmp(xt_jmp) == 0)
			xt_cleanups[i].fn(xt_cleanups[i].arg);
		else
			ok = false;
	}
	return ok;
}

enum {
	XT_PASS,
	XT_FAILED,
	XT_XFAIL
};

/* Runs one test: XT_PASS, XT_FAILED or XT_XFAIL. */
static int run_one(struct xt_test *t)
{
	struct host_held before, after;
	/* volatile: read after longjmp */
	volatile bool ok = true;

	xt_context[0] = 0;
	xt_msg[0] = 0;
	xt_bug = NULL;
	xt_ncleanups = 0;
	reset_knobs();
	host_held(&before);
	if (setjmp(xt_jmp) == 0)
		t->fn();
	else
		ok = false;
	reset_knobs();
	if (!run_cleanups())
		ok = false; /* a cleanup's message only if the body passed */
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
	if (xt_bug) {
		if (!ok)
			return XT_XFAIL;
		snprintf(xt_msg, sizeof(xt_msg),
			 "%s:%d: known bug fixed (\"%s\"): remove XT_KNOWN_BUG",
			 t->file, t->line, xt_bug);
		return XT_FAILED;
	}
	return ok ? XT_PASS : XT_FAILED;
}

int main(int argc, char **argv)
{
	struct xt_test **v, *t;
	unsigned int i, n = 0, passed = 0, failed = 0, xfail = 0;
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
		switch (run_one(t)) {
		case XT_PASS:
			printf("PASS unit/%s/%s\n", t->suite, t->name);
			passed++;
			break;
		case XT_XFAIL:
			printf("XFAIL unit/%s/%s: known bug: %s: %s\n",
			       t->suite, t->name, xt_bug, xt_msg);
			xfail++;
			break;
		default:
			printf("FAIL unit/%s/%s: %s\n", t->suite, t->name,
			       xt_msg);
			failed++;
			break;
		}
	}
	free(v);
	if (!list && xfail)
		printf("%u passed, %u failed, %u xfail (known bugs)\n", passed,
		       failed, xfail);
	else if (!list)
		printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
