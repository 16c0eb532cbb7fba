/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xtest.h - the unit-test harness.  No framework: a test is a function
 * declared with XT_TEST(suite, name) { ... } in any tests/unit/test_*.c;
 * a constructor registers it, and the runner (main.c) runs every test in
 * file and line order, printing
 *
 *	PASS unit/<suite>/<test>
 *	FAIL unit/<suite>/<test>: <file>:<line>: <message>
 *
 * and finally "N passed, M failed, K xfail".  The first failed assertion
 * ends its test.  After each test the runner runs the cleanups the test
 * registered (xt_cleanup, last first, also after a failure), checks that
 * host_held() is back where it was before the test (a leak fails the test)
 * and resets the knobs of host/user (fault injection, bug counting, ...).
 *
 * Known core bugs.  A test that shows a bug in code this suite may not
 * change (core/, svm/...) calls XT_KNOWN_BUG("what is wrong") first.  If it
 * then fails it is reported as
 *
 *	XFAIL unit/<suite>/<test>: known bug: <what>: <file>:<line>: <message>
 *
 * and does not fail the run; once the bug is fixed the test passes and is
 * reported as a FAIL ("known bug fixed: remove XT_KNOWN_BUG"), so the
 * marker cannot outlive the bug.
 *
 * Arguments: substrings of "suite/test" select tests; -l lists them.
 */
#ifndef XKVM_XTEST_H
#define XKVM_XTEST_H

#include "host_user.h"

struct xt_test {
	const char *suite;
	const char *name;
	const char *file;
	int line;
	void (*fn)(void);
	struct xt_test *next;
};

void xt_register(struct xt_test *t);
void xt_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 3, 4)));
/* Context added to a failure message (e.g. the table row); per test. */
void xt_ctx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Run fn(arg) when the test ends, passed or failed (last registered first) */
void xt_cleanup(void (*fn)(void *), void *arg);
/* Forget a cleanup registered with these arguments (it ran already). */
void xt_cleanup_cancel(void (*fn)(void *), void *arg);
/* This test shows a known bug outside tests/unit; see the theory above. */
void xt_known_bug(const char *what);
#define XT_KNOWN_BUG(what) xt_known_bug(what)

#define XT_TEST(suite, name)                                                    \
	static void xt_fn_##suite##_##name(void);                               \
	static struct xt_test xt_t_##suite##_##name = {                         \
		#suite, #name, __FILE__, __LINE__, xt_fn_##suite##_##name, NULL \
	};                                                                      \
	__attribute__((constructor)) static void xt_reg_##suite##_##name(void)  \
	{                                                                       \
		xt_register(&xt_t_##suite##_##name);                            \
	}                                                                       \
	static void xt_fn_##suite##_##name(void)

#define XT_FAIL(...) xt_fail(__FILE__, __LINE__, __VA_ARGS__)

#define XT_ASSERT(c)                                         \
	do {                                                 \
		if (!(c))                                    \
			XT_FAIL("assertion failed: %s", #c); \
	} while (0)

/* Integer equality, printed in hex and decimal. */
#define XT_EQ(a, b)                                                         \
	do {                                                                \
		unsigned long long xa_ = (unsigned long long)(a);           \
		unsigned long long xb_ = (unsigned long long)(b);           \
		if (xa_ != xb_)                                             \
			XT_FAIL("%s == %s: got 0x%llx (%lld), want 0x%llx " \
				"(%lld)",                                   \
				#a, #b, xa_, (long long)xa_, xb_,           \
				(long long)xb_);                            \
	} while (0)

#define XT_NE(a, b)                                                    \
	do {                                                           \
		unsigned long long xa_ = (unsigned long long)(a);      \
		unsigned long long xb_ = (unsigned long long)(b);      \
		if (xa_ == xb_)                                        \
			XT_FAIL("%s != %s: both 0x%llx", #a, #b, xa_); \
	} while (0)

#define XT_MEMEQ(a, b, n)                                   \
	do {                                                \
		if (__builtin_memcmp((a), (b), (n)) != 0)   \
			XT_FAIL("memory %s != %s", #a, #b); \
	} while (0)

#endif /* XKVM_XTEST_H */
