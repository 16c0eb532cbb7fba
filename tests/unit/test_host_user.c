// SPDX-License-Identifier: GPL-2.0
/*
 * test_host_user.c - the user-space host itself: counters, fault
 * injection, pinning, user copies, the atomic-context checks.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xtest.h"

/* An operation with several failure points, freeing all on error. */
static int make_three(void **a, void **b, struct host_mutex **mx)
{
	u64 hpa;

	*a = host_zalloc(64);
	if (!*a)
		return -ENOMEM;
	*b = host_pages_alloc(1, &hpa);
	if (!*b)
		goto free_a;
	*mx = host_mutex_create();
	if (!*mx)
		goto free_b;
	return 0;
free_b:
	host_pages_free(*b, 1);
free_a:
	host_free(*a, 64);
	return -ENOMEM;
}

XT_TEST(host_user, held_counters)
{
	struct host_held h0, h;
	void *p, *pg;
	u64 hpa;

	host_held(&h0);
	p = host_zalloc(100);
	pg = host_pages_alloc(2, &hpa);
	XT_ASSERT(p && pg);
	XT_EQ(hpa & 0x3fff, 0);
	XT_EQ(host_va_to_pa(pg), hpa);
	XT_EQ(host_va_to_pa((char *)pg + 0x1234), hpa + 0x1234);
	XT_ASSERT(host_user_pa_to_va(hpa) == pg);
	XT_EQ(((u8 *)p)[99], 0);
	XT_EQ(((u8 *)pg)[4 * 4096 - 1], 0);
	host_held(&h);
	XT_EQ(h.objects - h0.objects, 1);
	XT_EQ(h.pages - h0.pages, 4);
	host_free(p, 100);
	host_pages_free(pg, 2);
	host_held(&h);
	XT_EQ(h.objects, h0.objects);
	XT_EQ(h.pages, h0.pages);
}

/* The pattern other tests use: count failure points, fail each. */
XT_TEST(host_user, fault_injection_each_point)
{
	struct host_held h0, h;
	struct host_mutex *mx;
	unsigned long n, i;
	void *a, *b;

	host_user_fail_nth(0, HOST_USER_FAIL_ALL);
	XT_EQ(make_three(&a, &b, &mx), 0);
	n = host_user_fail_points();
	XT_EQ(n, 3);
	host_mutex_destroy(mx);
	host_pages_free(b, 1);
	host_free(a, 64);

	host_held(&h0);
	for (i = 1; i <= n; i++) {
		xt_ctx("failure point %lu", i);
		host_user_fail_nth(i, HOST_USER_FAIL_ALL);
		XT_EQ(make_three(&a, &b, &mx), -ENOMEM);
		XT_ASSERT(host_user_fail_fired());
		host_held(&h);
		XT_EQ(h.objects, h0.objects);
		XT_EQ(h.pages, h0.pages);
	}
	/* only the pages class armed: the second call fails */
	host_user_fail_nth(1, HOST_USER_FAIL_PAGES);
	XT_EQ(make_three(&a, &b, &mx), -ENOMEM);
	XT_EQ(host_user_fail_points(), 1);
}

XT_TEST(host_user, pin_and_copy)
{
	static u8 area[3 * 4096] __attribute__((aligned(4096)));
	u64 ua = (u64)(uintptr_t)area;
	struct host_pin *pin;
	struct host_held h;
	u8 buf[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	XT_EQ(host_pin_user(ua + 1, 1, true, &pin), -EINVAL);
	XT_EQ(host_pin_user(ua, 0, true, &pin), -EINVAL);
	XT_EQ(host_pin_user(0, 1, true, &pin), -EFAULT);
	XT_EQ(host_pin_user(0x00007ffffffff000ULL, 2, true, &pin), -EFAULT);
	XT_EQ(host_pin_user(ua, 3, true, &pin), 0);
	host_held(&h);
	XT_EQ(h.pinned, 3);
	XT_ASSERT(host_pin_va(pin, 2) == area + 2 * 4096);
	XT_EQ(host_pin_hpa(pin, 1), host_pin_hpa(pin, 0) + 4096);
	host_unpin_user(pin);

	XT_EQ(host_copy_to_user(ua + 10, buf, 8), 0);
	XT_EQ(area[17], 8);
	XT_EQ(host_copy_from_user(buf, ua + 11, 2), 0);
	XT_EQ(buf[0], 2);
	XT_EQ(host_copy_from_user(buf, 0, 8), -EFAULT);
	XT_EQ(host_copy_to_user(~0ULL - 3, buf, 8), -EFAULT);
	XT_EQ(host_copy_to_user(0, buf, 0), 0);
	host_user_set_efault_range(ua + 4096, 4096);
	XT_EQ(host_copy_from_user(buf, ua + 4090, 8), -EFAULT);
	XT_EQ(host_copy_from_user(buf, ua, 8), 0);
}

XT_TEST(host_user, atomic_context_checks)
{
	struct host_spin *s = host_spin_create();
	struct host_mutex *m = host_mutex_create();
	void *p;

	XT_ASSERT(s && m);
	host_user_bug_count_mode(true);
	host_spin_lock(s);
	XT_EQ(host_user_atomic_depth(), 1);
	p = host_zalloc(8); /* may sleep: a bug under a spin lock */
	XT_EQ(host_user_bugs(), 1);
	host_spin_unlock(s);
	host_free(p, 8);
	host_free(p == NULL ? NULL : NULL, 0);

	host_preempt_disable();
	(void)host_cpu_id();
	host_preempt_enable();
	XT_EQ(host_user_bugs(), 1);
	(void)host_cpu_id(); /* preemption enabled: a bug */
	XT_EQ(host_user_bugs(), 2);

	host_mutex_lock(m);
	XT_ASSERT(!host_mutex_trylock(m));
	host_mutex_unlock(m);
	host_mutex_unlock(m); /* not the owner any more: a bug */
	XT_EQ(host_user_bugs(), 3);

	host_fpu_begin();
	XT_EQ(host_user_atomic_depth(), 1);
	host_fpu_end();
	host_mutex_destroy(m);
	host_spin_destroy(s);
}

static void count_calls(void *arg)
{
	(*(int *)arg)++;
}

XT_TEST(host_user, misc)
{
	int calls = 0;
	u64 t0 = host_time_ns();

	host_on_each_cpu(count_calls, &calls);
	XT_EQ(calls, 1);
	XT_ASSERT(host_ncpus() >= 1);
	host_kick_cpu(0);
	XT_EQ(host_user_kicks() >= 1, 1);
	XT_ASSERT(!host_signal_pending());
	host_user_set_signal_pending(true);
	XT_ASSERT(host_signal_pending());
	XT_ASSERT(host_time_ns() >= t0);
	host_log(HOST_LOG_DEBUG, "hello %d", 42);
	XT_ASSERT(strcmp(host_user_last_log(), "hello 42") == 0);
	XT_ASSERT(host_current_pid() > 0);
}

XT_TEST(host_user, user_window)
{
	static u8 area[4 * 4096] __attribute__((aligned(4096)));
	u64 ua = (u64)(uintptr_t)area;
	struct host_pin *pin;
	u8 b[8] = { 0 };

	host_user_set_user_window(ua + 4096, 2 * 4096);
	XT_EQ(host_copy_from_user(b, ua + 4096, 8), 0);
	XT_EQ(host_copy_from_user(b, ua + 3 * 4096 - 8, 8), 0);
	XT_EQ(host_copy_from_user(b, ua + 3 * 4096 - 7, 8), -EFAULT);
	XT_EQ(host_copy_to_user(ua + 4095, b, 2), -EFAULT);
	XT_EQ(host_copy_to_user(ua, b, 0), 0); /* nothing to copy */
	XT_EQ(host_pin_user(ua + 4096, 2, true, &pin), 0);
	host_unpin_user(pin);
	XT_EQ(host_pin_user(ua + 4096, 3, true, &pin), -EFAULT);
	XT_EQ(host_pin_user(ua, 1, true, &pin), -EFAULT);
	XT_ASSERT(pin == NULL);
	host_user_set_user_window(0, 0);
	XT_EQ(host_copy_from_user(b, ua, 8), 0);
}

XT_TEST(host_user, late_signal)
{
	host_user_signal_after(3);
	XT_ASSERT(!host_signal_pending());
	XT_ASSERT(!host_signal_pending());
	XT_ASSERT(host_signal_pending());
	XT_ASSERT(host_signal_pending());
	XT_EQ(host_user_signal_checks(), 4);
	host_user_signal_after(0);
	XT_ASSERT(!host_signal_pending());
}

XT_TEST(host_user, irq_flag_is_atomic_context)
{
	XT_ASSERT(!host_user_irqs_disabled());
	host_irq_disable();
	XT_ASSERT(host_user_irqs_disabled());
	XT_EQ(host_user_atomic_depth(), 1);
	host_irq_enable();
	XT_EQ(host_user_atomic_depth(), 0);
	host_user_bug_count_mode(true);
	{
		unsigned long b0 = host_user_bugs();

		host_irq_enable(); /* not disabled: a bug */
		XT_EQ(host_user_bugs() - b0, 1);
	}
}

static u32 mxcsr(void)
{
	u32 m;

	__asm__ volatile("stmxcsr %0" : "=m"(m));
	return m;
}

static void set_mxcsr(u32 m)
{
	__asm__ volatile("ldmxcsr %0" ::"m"(m));
}

/* What the FPU section holds in between is the caller's business. */
XT_TEST(host_user, fpu_section_restores_state)
{
	u32 m0 = mxcsr();

	set_mxcsr(0x3f80);
	host_fpu_begin();
	XT_ASSERT(host_user_in_fpu());
	set_mxcsr(0x1f80); /* "the guest's" */
	host_fpu_end();
	XT_ASSERT(!host_user_in_fpu());
	XT_EQ(mxcsr(), 0x3f80);
	set_mxcsr(m0);
}

struct timer_log {
	u64 at[4];
	int who[4];
	int n;
};

static struct timer_log tlog;

static void timer_note(void *arg)
{
	XT_ASSERT(host_user_atomic_depth() > 0); /* as from an interrupt */
	tlog.at[tlog.n] = host_time_ns();
	tlog.who[tlog.n] = (int)(uintptr_t)arg;
	tlog.n++;
}

/* The user-space timers fire only as the stopped clock is moved on. */
XT_TEST(host_user, timers_fire_in_order_on_the_fake_clock)
{
	struct host_timer *a, *b;
	u64 when;

	memset(&tlog, 0, sizeof(tlog));
	host_user_clock_set(1000);
	a = host_timer_create(timer_note, (void *)1);
	b = host_timer_create(timer_note, (void *)2);
	XT_ASSERT(a && b);
	host_timer_start(a, 5000);
	host_timer_start(b, 3000);
	XT_ASSERT(host_user_timer_armed(a, &when));
	XT_EQ(when, 5000);
	XT_EQ(host_user_clock_advance(1000), 0); /* now 2000 */
	XT_EQ(host_user_clock_advance(2000), 1); /* now 4000: b */
	XT_EQ(tlog.who[0], 2);
	XT_EQ(tlog.at[0], 3000);
	XT_EQ(host_time_ns(), 4000);
	host_timer_start(a, 7000); /* re-arming replaces 5000 */
	XT_EQ(host_user_clock_advance(2000), 0);
	host_timer_start(b, 100); /* in the past: due at once */
	XT_EQ(host_user_clock_advance(0), 1);
	XT_EQ(tlog.who[1], 2);
	host_timer_cancel(a);
	XT_ASSERT(!host_user_timer_armed(a, NULL));
	XT_EQ(host_user_clock_advance(10000), 0);
	host_timer_destroy(a);
	host_timer_destroy(b);
	host_user_clock_real();
}

struct waiter {
	struct host_wait *w;
	int flag;
	int r;
};

static bool flag_set(void *arg)
{
	return __atomic_load_n(&((struct waiter *)arg)->flag, __ATOMIC_ACQUIRE);
}

static void *wait_thread(void *arg)
{
	struct waiter *wt = arg;

	wt->r = host_wait_event(wt->w, flag_set, wt);
	return NULL;
}

/* A sleeper wakes when its condition holds, never before. */
XT_TEST(host_user, wait_event_until_ready)
{
	struct waiter wt = { 0 };
	pthread_t t;

	wt.w = host_wait_create();
	XT_ASSERT(wt.w);
	wt.flag = 1; /* already true: no sleep */
	XT_EQ(host_wait_event(wt.w, flag_set, &wt), 0);
	wt.flag = 0;
	wt.r = 99;
	XT_EQ(pthread_create(&t, NULL, wait_thread, &wt), 0);
	host_wait_wake(wt.w); /* a wake-up alone does not end the wait */
	usleep(20000);
	XT_EQ(__atomic_load_n(&wt.r, __ATOMIC_ACQUIRE), 99);
	__atomic_store_n(&wt.flag, 1, __ATOMIC_RELEASE);
	host_wait_wake(wt.w);
	XT_EQ(pthread_join(t, NULL), 0);
	XT_EQ(wt.r, 0);
	/* a pending signal ends it with -EINTR */
	wt.flag = 0;
	host_user_set_signal_pending(true);
	XT_EQ(host_wait_event(wt.w, flag_set, &wt), -EINTR);
	host_user_set_signal_pending(false);
	host_wait_destroy(wt.w);
}
