// SPDX-License-Identifier: GPL-2.0
/*
 * host_user.c - core/host.h implemented in user space, for unit tests and
 * fuzzers.  See host_user.h for the test knobs.
 *
 * Theory.  The point of this host is to make the core's mistakes loud, not
 * to be fast: allocations carry a header recording their size so host_free()
 * can check the size it is given; page allocations are kept in a list so
 * host_pages_free() and host_va_to_pa() can check their arguments; mutexes
 * are error-checking pthread mutexes; a per-thread depth counter stands for
 * "preemption disabled" (host_preempt_disable, spin locks, FPU sections) and
 * every function documented "may sleep" calls might_sleep(), which reports a
 * bug when that depth is not zero.  All counters are atomics so tests may
 * use threads.
 *
 * FPU sections really switch state: host_fpu_begin() XSAVEs the thread's
 * registers into a per-thread area and host_fpu_end() XRSTORs them, because
 * the core loads the guest's FPU image in between (XSAVE, XRSTOR and XGETBV
 * work in ring 3; the core's XSETBV does not, see tests/unit/fakes/).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <linux/kcmp.h>
#include <time.h>
#include <unistd.h>

#include "host_user.h"

/* ------------------------------------------------------------------ */
/* Counters and knobs */

static s64 held_objects, held_pages, held_pinned;

static unsigned long fail_target; /* 0: disarmed */
static unsigned long fail_count;  /* failure points seen since arming */
static unsigned int fail_mask = HOST_USER_FAIL_ALL;
static bool fail_fired;

static bool bug_count_mode;
static unsigned long bug_count;
static unsigned long kick_count;
static bool signal_pending;
static int log_level = -1; /* -1: not yet read from the environment */
static u64 efault_lo, efault_len;
static u64 window_lo, window_len;
static unsigned long signal_after, signal_checks;

static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static char last_log[512];

static __thread int atomic_depth;

#define ADD(var, n) __atomic_add_fetch(&(var), (n), __ATOMIC_SEQ_CST)
#define LOAD(var) __atomic_load_n(&(var), __ATOMIC_SEQ_CST)
#define STORE(var, v) __atomic_store_n(&(var), (v), __ATOMIC_SEQ_CST)

void host_user_fail_nth(unsigned long n, unsigned int mask)
{
	pthread_mutex_lock(&state_lock);
	fail_target = n;
	fail_mask = mask;
	fail_count = 0;
	fail_fired = false;
	pthread_mutex_unlock(&state_lock);
}

unsigned long host_user_fail_points(void)
{
	unsigned long n;

	pthread_mutex_lock(&state_lock);
	n = fail_count;
	pthread_mutex_unlock(&state_lock);
	return n;
}

bool host_user_fail_fired(void)
{
	return LOAD(fail_fired);
}

/* One failure point of class cls: true if this call must fail. */
static bool should_fail(unsigned int cls)
{
	bool fail = false;

	pthread_mutex_lock(&state_lock);
	if (fail_mask & cls) {
		fail_count++;
		if (fail_target && fail_count == fail_target) {
			fail = true;
			fail_fired = true;
			fail_target = 0;
		}
	}
	pthread_mutex_unlock(&state_lock);
	return fail;
}

void host_user_bug_count_mode(bool on)
{
	STORE(bug_count_mode, on);
}

unsigned long host_user_bugs(void)
{
	return LOAD(bug_count);
}

void host_user_set_log_level(int level)
{
	STORE(log_level, level);
}

const char *host_user_last_log(void)
{
	return last_log;
}

void host_user_set_efault_range(u64 uaddr, u64 len)
{
	pthread_mutex_lock(&state_lock);
	efault_lo = uaddr;
	efault_len = len;
	pthread_mutex_unlock(&state_lock);
}

void host_user_set_user_window(u64 uaddr, u64 len)
{
	pthread_mutex_lock(&state_lock);
	window_lo = uaddr;
	window_len = len;
	pthread_mutex_unlock(&state_lock);
}

void host_user_set_signal_pending(bool pending)
{
	STORE(signal_pending, pending);
}

void host_user_signal_after(unsigned long n)
{
	pthread_mutex_lock(&state_lock);
	signal_after = n;
	signal_checks = 0;
	pthread_mutex_unlock(&state_lock);
}

unsigned long host_user_signal_checks(void)
{
	unsigned long n;

	pthread_mutex_lock(&state_lock);
	n = signal_checks;
	pthread_mutex_unlock(&state_lock);
	return n;
}

unsigned long host_user_kicks(void)
{
	return LOAD(kick_count);
}

int host_user_atomic_depth(void)
{
	return atomic_depth;
}

void *host_user_pa_to_va(u64 pa)
{
	return (void *)(uintptr_t)pa;
}

/* ------------------------------------------------------------------ */
/* Logging and bugs */

static int current_log_level(void)
{
	int l = LOAD(log_level);

	if (l < 0) {
		const char *e = getenv("XKVM_LOG");

		l = e ? atoi(e) : HOST_LOG_WARN;
		STORE(log_level, l);
	}
	return l;
}

void host_log(int level, const char *fmt, ...)
{
	char msg[sizeof(last_log)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&state_lock);
	memcpy(last_log, msg, sizeof(last_log));
	pthread_mutex_unlock(&state_lock);
	if (level <= current_log_level())
		fprintf(stderr, "xkvm: %s%s", msg,
			msg[0] && msg[strlen(msg) - 1] == '\n' ? "" : "\n");
}

void host_bug(const char *file, int line, const char *cond)
{
	fprintf(stderr, "xkvm: BUG at %s:%d: %s\n", file, line, cond);
	ADD(bug_count, 1);
	if (!LOAD(bug_count_mode))
		abort();
}

#define BUG_IF(c)                                         \
	do {                                              \
		if (c)                                    \
			host_bug(__FILE__, __LINE__, #c); \
	} while (0)

static void might_sleep(const char *what)
{
	if (atomic_depth != 0)
		host_bug(__FILE__, __LINE__, what);
}

/* ------------------------------------------------------------------ */
/* Memory */

#define ZMAGIC 0x786b766d7a616c6cULL /* "xkvmzall" */

struct zhdr {
	u64 magic;
	u64 size;
};

void *host_zalloc(size_t size)
{
	struct zhdr *h;

	might_sleep("host_zalloc in atomic context");
	if (should_fail(HOST_USER_FAIL_ZALLOC))
		return NULL;
	h = calloc(1, sizeof(*h) + size);
	if (!h)
		return NULL;
	h->magic = ZMAGIC;
	h->size = size;
	ADD(held_objects, 1);
	return h + 1;
}

void host_free(void *p, size_t size)
{
	struct zhdr *h;

	if (!p)
		return;
	h = (struct zhdr *)p - 1;
	BUG_IF(h->magic != ZMAGIC);
	BUG_IF(h->size != size);
	h->magic = 0;
	ADD(held_objects, -1);
	free(h);
}

struct pages {
	struct pages *next;
	void *va;
	unsigned int order;
};

static struct pages *pages_list;

void *host_pages_alloc(unsigned int order, u64 *hpa)
{
	size_t bytes;
	struct pages *pg;
	void *va;

	might_sleep("host_pages_alloc in atomic context");
	BUG_IF(order > 10);
	if (should_fail(HOST_USER_FAIL_PAGES))
		return NULL;
	bytes = (size_t)XK_PAGE_SIZE << order;
	pg = malloc(sizeof(*pg));
	if (!pg)
		return NULL;
	va = aligned_alloc(bytes, bytes);
	if (!va) {
		free(pg);
		return NULL;
	}
	memset(va, 0, bytes);
	pg->va = va;
	pg->order = order;
	pthread_mutex_lock(&state_lock);
	pg->next = pages_list;
	pages_list = pg;
	pthread_mutex_unlock(&state_lock);
	ADD(held_pages, 1LL << order);
	if (hpa)
		*hpa = (u64)(uintptr_t)va;
	return va;
}

void host_pages_free(void *va, unsigned int order)
{
	struct pages **pp, *pg = NULL;

	if (!va)
		return;
	pthread_mutex_lock(&state_lock);
	for (pp = &pages_list; *pp; pp = &(*pp)->next) {
		if ((*pp)->va == va) {
			pg = *pp;
			*pp = pg->next;
			break;
		}
	}
	pthread_mutex_unlock(&state_lock);
	BUG_IF(!pg);
	if (!pg)
		return;
	BUG_IF(pg->order != order);
	ADD(held_pages, -(1LL << pg->order));
	free(pg->va);
	free(pg);
}

u64 host_va_to_pa(const void *va)
{
	const char *p = va;
	struct pages *pg;
	bool found = false;

	pthread_mutex_lock(&state_lock);
	for (pg = pages_list; pg; pg = pg->next) {
		const char *start = pg->va;

		if (p >= start && p < start + (XK_PAGE_SIZE << pg->order)) {
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&state_lock);
	BUG_IF(!found);
	return (u64)(uintptr_t)va;
}

/* ------------------------------------------------------------------ */
/* Pinned user memory: in user space the VMM's memory is our memory. */

struct host_pin {
	u64 magic;
	u64 uaddr;
	u64 npages;
	bool writable;
};

#define PMAGIC 0x786b766d70696e21ULL /* "xkvmpin!" */
#define USER_TOP 0x0000800000000000ULL

/* Is [uaddr, uaddr + len) outside the user window, when one is set? */
static bool outside_window(u64 uaddr, u64 len)
{
	bool out;

	pthread_mutex_lock(&state_lock);
	out = window_len && (uaddr < window_lo || len > window_len ||
			     uaddr - window_lo > window_len - len);
	pthread_mutex_unlock(&state_lock);
	return out;
}

/*
 * The test hooks: where the kernel could block on the VMM's memory (pins
 * and user copies), and where the core offers to reschedule.
 */
static void (*user_access_hook)(void *arg);
static void *user_access_arg;
static void (*resched_hook)(void *arg);
static void *resched_arg;

void host_user_set_user_access_hook(void (*fn)(void *arg), void *arg)
{
	pthread_mutex_lock(&state_lock);
	user_access_hook = fn;
	user_access_arg = arg;
	pthread_mutex_unlock(&state_lock);
}

void host_user_set_resched_hook(void (*fn)(void *arg), void *arg)
{
	pthread_mutex_lock(&state_lock);
	resched_hook = fn;
	resched_arg = arg;
	pthread_mutex_unlock(&state_lock);
}

static void run_hook(void (**fn)(void *), void **arg)
{
	void (*f)(void *);
	void *a;

	pthread_mutex_lock(&state_lock);
	f = *fn;
	a = *arg;
	pthread_mutex_unlock(&state_lock);
	if (f)
		f(a);
}

static void user_access(void)
{
	run_hook(&user_access_hook, &user_access_arg);
}

int host_pin_user(u64 uaddr, u64 npages, bool writable, struct host_pin **out)
{
	struct host_pin *pin;

	might_sleep("host_pin_user in atomic context");
	user_access();
	*out = NULL;
	if (uaddr & (XK_PAGE_SIZE - 1) || !npages)
		return -EINVAL;
	if (!uaddr || npages > (USER_TOP >> XK_PAGE_SHIFT) ||
	    uaddr > USER_TOP - (npages << XK_PAGE_SHIFT))
		return -EFAULT;
	if (outside_window(uaddr, npages << XK_PAGE_SHIFT))
		return -EFAULT;
	if (should_fail(HOST_USER_FAIL_PIN))
		return -ENOMEM;
	pin = malloc(sizeof(*pin));
	if (!pin)
		return -ENOMEM;
	pin->magic = PMAGIC;
	pin->uaddr = uaddr;
	pin->npages = npages;
	pin->writable = writable;
	ADD(held_pinned, (s64)npages);
	*out = pin;
	return 0;
}

void host_unpin_user(struct host_pin *pin)
{
	might_sleep("host_unpin_user in atomic context");
	user_access();
	if (!pin)
		return;
	BUG_IF(pin->magic != PMAGIC);
	pin->magic = 0;
	ADD(held_pinned, -(s64)pin->npages);
	free(pin);
}

u64 host_pin_hpa(const struct host_pin *pin, u64 idx)
{
	BUG_IF(pin->magic != PMAGIC);
	BUG_IF(idx >= pin->npages);
	return pin->uaddr + (idx << XK_PAGE_SHIFT);
}

void *host_pin_va(const struct host_pin *pin, u64 idx)
{
	BUG_IF(pin->magic != PMAGIC);
	BUG_IF(idx >= pin->npages);
	return (void *)(uintptr_t)(pin->uaddr + (idx << XK_PAGE_SHIFT));
}

void host_held(struct host_held *out)
{
	out->objects = LOAD(held_objects);
	out->pages = LOAD(held_pages);
	out->pinned = LOAD(held_pinned);
}

/* What a user-space copy can detect without touching the memory. */
static bool bad_user_range(u64 uaddr, size_t len)
{
	bool bad;

	if (!len)
		return false;
	if (uaddr < XK_PAGE_SIZE || len > USER_TOP || uaddr > USER_TOP - len)
		return true;
	if (outside_window(uaddr, len))
		return true;
	pthread_mutex_lock(&state_lock);
	bad = efault_len && uaddr < efault_lo + efault_len &&
	      efault_lo < uaddr + len;
	pthread_mutex_unlock(&state_lock);
	return bad;
}

int host_copy_from_user(void *dst, u64 usrc, size_t len)
{
	might_sleep("host_copy_from_user in atomic context");
	user_access();
	if (bad_user_range(usrc, len))
		return -EFAULT;
	if (len)
		memcpy(dst, (const void *)(uintptr_t)usrc, len);
	return 0;
}

int host_copy_to_user(u64 udst, const void *src, size_t len)
{
	might_sleep("host_copy_to_user in atomic context");
	user_access();
	if (bad_user_range(udst, len))
		return -EFAULT;
	if (len)
		memcpy((void *)(uintptr_t)udst, src, len);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Locks */

struct host_mutex {
	pthread_mutex_t m;
};

struct host_mutex *host_mutex_create(void)
{
	struct host_mutex *m;
	pthread_mutexattr_t a;

	might_sleep("host_mutex_create in atomic context");
	if (should_fail(HOST_USER_FAIL_MUTEX))
		return NULL;
	m = malloc(sizeof(*m));
	if (!m)
		return NULL;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_init(&m->m, &a);
	pthread_mutexattr_destroy(&a);
	ADD(held_objects, 1);
	return m;
}

void host_mutex_destroy(struct host_mutex *m)
{
	if (!m)
		return;
	BUG_IF(pthread_mutex_destroy(&m->m) != 0); /* fails if locked */
	ADD(held_objects, -1);
	free(m);
}

void host_mutex_lock(struct host_mutex *m)
{
	might_sleep("host_mutex_lock in atomic context");
	BUG_IF(pthread_mutex_lock(&m->m) != 0); /* EDEADLK: recursion */
}

void host_mutex_unlock(struct host_mutex *m)
{
	BUG_IF(pthread_mutex_unlock(&m->m) != 0); /* EPERM: not owner */
}

bool host_mutex_trylock(struct host_mutex *m)
{
	return pthread_mutex_trylock(&m->m) == 0;
}

struct host_spin {
	pthread_mutex_t m;
};

struct host_spin *host_spin_create(void)
{
	struct host_spin *s;
	pthread_mutexattr_t a;

	if (should_fail(HOST_USER_FAIL_SPIN))
		return NULL;
	s = malloc(sizeof(*s));
	if (!s)
		return NULL;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_init(&s->m, &a);
	pthread_mutexattr_destroy(&a);
	ADD(held_objects, 1);
	return s;
}

void host_spin_destroy(struct host_spin *s)
{
	if (!s)
		return;
	BUG_IF(pthread_mutex_destroy(&s->m) != 0);
	ADD(held_objects, -1);
	free(s);
}

void host_spin_lock(struct host_spin *s)
{
	BUG_IF(pthread_mutex_lock(&s->m) != 0);
	atomic_depth++;
}

void host_spin_unlock(struct host_spin *s)
{
	BUG_IF(atomic_depth <= 0);
	atomic_depth--;
	BUG_IF(pthread_mutex_unlock(&s->m) != 0);
}

/* No interrupts in user space: the same as the plain lock. */
void host_spin_lock_irq(struct host_spin *s)
{
	host_spin_lock(s);
}

void host_spin_unlock_irq(struct host_spin *s)
{
	host_spin_unlock(s);
}

/* ------------------------------------------------------------------ */
/* CPUs, preemption, time */

unsigned int host_ncpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_CONF);

	return n > 0 ? (unsigned int)n : 1;
}

unsigned int host_cpu_id(void)
{
	int c;

	BUG_IF(atomic_depth <= 0); /* caller must have preemption disabled */
	c = sched_getcpu();
	if (c < 0 || (unsigned int)c >= host_ncpus())
		return 0;
	return (unsigned int)c;
}

void host_preempt_disable(void)
{
	atomic_depth++;
}

void host_preempt_enable(void)
{
	BUG_IF(atomic_depth <= 0);
	atomic_depth--;
}

bool host_signal_pending(void)
{
	bool late = false;

	pthread_mutex_lock(&state_lock);
	signal_checks++;
	if (signal_after && signal_checks >= signal_after)
		late = true;
	pthread_mutex_unlock(&state_lock);
	return late || LOAD(signal_pending);
}

static __thread bool irqs_off;

void host_irq_disable(void)
{
	BUG_IF(irqs_off); /* the core never nests these */
	irqs_off = true;
	atomic_depth++;
}

void host_irq_enable(void)
{
	if (!irqs_off) {
		host_bug(__FILE__, __LINE__, "host_irq_enable: not disabled");
		return;
	}
	irqs_off = false;
	atomic_depth--;
}

bool host_user_irqs_disabled(void)
{
	return irqs_off;
}

bool host_need_resched(void)
{
	return false;
}

void host_cond_resched(void)
{
	might_sleep("host_cond_resched in atomic context");
	run_hook(&resched_hook, &resched_arg);
}

void host_kick_cpu(unsigned int cpu)
{
	(void)cpu;
	ADD(kick_count, 1);
}

void host_mb(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

int host_current_pid(void)
{
	return (int)getpid();
}

void host_on_each_cpu(void (*fn)(void *), void *arg)
{
	might_sleep("host_on_each_cpu in atomic context");
	atomic_depth++; /* fn runs with interrupts disabled */
	fn(arg);
	atomic_depth--;
}

/*
 * The thread's own FPU state while the guest's is loaded.  XSAVE needs 64
 * bytes of alignment and a zeroed header (XRSTOR of the standard format
 * faults on a non-zero XCOMP_BV), which a zero-initialised area has.
 */
#define FPU_AREA 16384
static __thread u8 fpu_area[FPU_AREA] __attribute__((aligned(64)));
static __thread bool in_fpu;
static int fpu_xsave = -1; /* -1 unknown, 0 FXSAVE, 1 XSAVE */
static u64 fpu_mask;

static void fpu_probe(void)
{
	u32 a, b, c, d, lo, hi;
	int x = 0;

	__asm__ volatile("cpuid"
			 : "=a"(a), "=b"(b), "=c"(c), "=d"(d)
			 : "a"(1), "c"(0));
	if ((c & (1u << 26)) && (c & (1u << 27))) { /* XSAVE, OSXSAVE */
		__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
		__asm__ volatile("cpuid"
				 : "=a"(a), "=b"(b), "=c"(c), "=d"(d)
				 : "a"(0xd), "c"(0));
		if (b <= FPU_AREA) {
			fpu_mask = ((u64)hi << 32) | lo;
			x = 1;
		}
	}
	STORE(fpu_xsave, x);
}

void host_fpu_begin(void)
{
	BUG_IF(in_fpu); /* no nesting */
	in_fpu = true;
	atomic_depth++;
	if (LOAD(fpu_xsave) < 0)
		fpu_probe();
	if (LOAD(fpu_xsave))
		__asm__ volatile("xsave64 %0"
				 : "=m"(fpu_area)
				 : "a"((u32)fpu_mask),
				   "d"((u32)(fpu_mask >> 32))
				 : "memory");
	else
		__asm__ volatile("fxsave64 %0" : "=m"(fpu_area)::"memory");
}

void host_fpu_end(void)
{
	BUG_IF(!in_fpu);
	if (LOAD(fpu_xsave))
		__asm__ volatile("xrstor64 %0" ::"m"(fpu_area),
				 "a"((u32)fpu_mask), "d"((u32)(fpu_mask >> 32))
				 : "memory");
	else
		__asm__ volatile("fxrstor64 %0" ::"m"(fpu_area) : "memory");
	in_fpu = false;
	atomic_depth--;
}

bool host_user_in_fpu(void)
{
	return in_fpu;
}

/* user space has no TSC frequency to hand: a fixed, plausible one */
u32 host_tsc_khz(void)
{
	return 2000000;
}

/* A test may stop the clock and move it by hand (host_user_clock_*). */
static bool fake_clock;
static u64 fake_now;

u64 host_time_ns(void)
{
	struct timespec ts;

	if (__atomic_load_n(&fake_clock, __ATOMIC_ACQUIRE))
		return __atomic_load_n(&fake_now, __ATOMIC_ACQUIRE);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}

/*
 * Waits: a condition variable.  A "signal" is host_signal_pending(); the
 * sleeper re-checks both at least every millisecond, so a test that raises
 * the fake signal is seen without a wake-up.
 */
struct host_wait {
	pthread_mutex_t m;
	pthread_cond_t c;
	unsigned long wakes; /* guarded by m */
};

struct host_wait *host_wait_create(void)
{
	struct host_wait *w = host_zalloc(sizeof(*w));

	if (!w)
		return NULL;
	pthread_mutex_init(&w->m, NULL);
	pthread_cond_init(&w->c, NULL);
	return w;
}

void host_wait_destroy(struct host_wait *w)
{
	if (!w)
		return;
	pthread_cond_destroy(&w->c);
	pthread_mutex_destroy(&w->m);
	host_free(w, sizeof(*w));
}

int host_wait_event(struct host_wait *w, bool (*ready)(void *arg), void *arg)
{
	might_sleep("host_wait_event in atomic context");
	for (;;) {
		struct timespec ts;
		unsigned long seen;

		pthread_mutex_lock(&w->m);
		seen = w->wakes;
		pthread_mutex_unlock(&w->m);
		if (ready(arg))
			return 0;
		if (host_signal_pending())
			return -EINTR;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_mutex_lock(&w->m);
		if (w->wakes == seen)
			pthread_cond_timedwait(&w->c, &w->m, &ts);
		pthread_mutex_unlock(&w->m);
	}
}

void host_wait_wake(struct host_wait *w)
{
	pthread_mutex_lock(&w->m);
	w->wakes++;
	pthread_cond_broadcast(&w->c);
	pthread_mutex_unlock(&w->m);
}

/*
 * Timers.  Nothing fires by itself in user space: host_user_clock_advance()
 * runs the callbacks of the timers that fall due, in expiry order, on the
 * calling thread, as if from an interrupt (atomic context).
 */
struct host_timer {
	void (*fn)(void *arg);
	void *arg;
	bool armed;              /* guarded by timer_lock */
	u64 when;                /* guarded by timer_lock */
	struct host_timer *next; /* the list of all timers */
};

static pthread_mutex_t timer_lock = PTHREAD_MUTEX_INITIALIZER;
static struct host_timer *timers;

struct host_timer *host_timer_create(void (*fn)(void *arg), void *arg)
{
	struct host_timer *t = host_zalloc(sizeof(*t));

	if (!t)
		return NULL;
	t->fn = fn;
	t->arg = arg;
	pthread_mutex_lock(&timer_lock);
	t->next = timers;
	timers = t;
	pthread_mutex_unlock(&timer_lock);
	return t;
}

void host_timer_start(struct host_timer *t, u64 when_ns)
{
	pthread_mutex_lock(&timer_lock);
	t->armed = true;
	t->when = when_ns;
	pthread_mutex_unlock(&timer_lock);
}

void host_timer_cancel(struct host_timer *t)
{
	pthread_mutex_lock(&timer_lock);
	t->armed = false;
	pthread_mutex_unlock(&timer_lock);
}

void host_timer_destroy(struct host_timer *t)
{
	struct host_timer **pp;

	if (!t)
		return;
	pthread_mutex_lock(&timer_lock);
	for (pp = &timers; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	pthread_mutex_unlock(&timer_lock);
	host_free(t, sizeof(*t));
}

void host_user_clock_set(u64 now_ns)
{
	__atomic_store_n(&fake_now, now_ns, __ATOMIC_RELEASE);
	__atomic_store_n(&fake_clock, true, __ATOMIC_RELEASE);
}

void host_user_clock_real(void)
{
	__atomic_store_n(&fake_clock, false, __ATOMIC_RELEASE);
}

bool host_user_timer_armed(const struct host_timer *t, u64 *when)
{
	bool armed;

	pthread_mutex_lock(&timer_lock);
	armed = t->armed;
	if (when)
		*when = t->when;
	pthread_mutex_unlock(&timer_lock);
	return armed;
}

unsigned int host_user_clock_advance(u64 delta_ns)
{
	u64 end = host_time_ns() + delta_ns;
	unsigned int fired = 0;

	for (;;) {
		struct host_timer *t, *due = NULL;

		pthread_mutex_lock(&timer_lock);
		for (t = timers; t; t = t->next)
			if (t->armed && t->when <= end &&
			    (!due || t->when < due->when))
				due = t;
		if (due) {
			due->armed = false;
			if (due->when > host_time_ns())
				__atomic_store_n(&fake_now, due->when,
						 __ATOMIC_RELEASE);
		}
		pthread_mutex_unlock(&timer_lock);
		if (!due)
			break;
		atomic_depth++;
		due->fn(due->arg);
		atomic_depth--;
		fired++;
	}
	__atomic_store_n(&fake_now, end, __ATOMIC_RELEASE);
	return fired;
}

/* Trace probes: counted, and the last exit kept, for the unit tests. */
struct host_user_trace host_user_trace;

void host_trace_entry(int vm, u32 vcpu, u64 rip)
{
	(void)vm;
	(void)vcpu;
	host_user_trace.entries++;
	host_user_trace.last_entry_rip = rip;
}

void host_trace_exit(int vm, u32 vcpu, u32 isa, u64 reason, u64 rip, u64 info1,
		     u64 info2, u64 intinfo)
{
	(void)vm;
	(void)vcpu;
	(void)isa;
	(void)rip;
	(void)info1;
	(void)info2;
	(void)intinfo;
	host_user_trace.exits++;
	host_user_trace.last_exit_reason = reason;
}

void host_trace_userspace_exit(int vm, u32 vcpu, u32 reason, int err)
{
	(void)vm;
	(void)vcpu;
	host_user_trace.userspace_exits++;
	host_user_trace.last_userspace_reason = reason;
	host_user_trace.last_userspace_err = err;
}

void host_trace_pio(int vm, u32 vcpu, u16 port, u8 size, bool in, u64 count)
{
	(void)vm;
	(void)vcpu;
	host_user_trace.pios++;
	host_user_trace.last_pio.port = port;
	host_user_trace.last_pio.size = size;
	host_user_trace.last_pio.in = in;
	host_user_trace.last_pio.count = count;
}

void host_trace_mmio(int vm, u32 vcpu, u64 gpa, u32 len, bool write,
		     bool has_value, u64 value)
{
	(void)vm;
	(void)vcpu;
	host_user_trace.mmios++;
	host_user_trace.last_mmio.gpa = gpa;
	host_user_trace.last_mmio.len = len;
	host_user_trace.last_mmio.write = write;
	host_user_trace.last_mmio.has_value = has_value;
	host_user_trace.last_mmio.value = value;
}

void host_trace_inject(int vm, u32 vcpu, u8 vector, u32 kind, bool reinjected)
{
	(void)vm;
	(void)vcpu;
	host_user_trace.injects++;
	host_user_trace.last_inject.vector = vector;
	host_user_trace.last_inject.kind = kind;
	host_user_trace.last_inject.reinjected = reinjected;
}

void host_trace_emulation_failure(int vm, u32 vcpu, u64 rip, const u8 *bytes,
				  u32 len)
{
	(void)vm;
	(void)vcpu;
	if (len > sizeof(host_user_trace.last_emulation_failure.bytes))
		len = sizeof(host_user_trace.last_emulation_failure.bytes);
	host_user_trace.emulation_failures++;
	host_user_trace.last_emulation_failure.rip = rip;
	host_user_trace.last_emulation_failure.len = len;
	memset(host_user_trace.last_emulation_failure.bytes, 0,
	       sizeof(host_user_trace.last_emulation_failure.bytes));
	if (len)
		memcpy(host_user_trace.last_emulation_failure.bytes, bytes,
		       len);
}

u64 host_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}

/*
 * Eventfds: the reference is a duplicate of the VMM's descriptor, so the
 * eventfd lives on after the VMM closes its own, as in the kernel; an
 * eventfd is recognised by its /proc link, as eventfd_ctx_fdget() does by
 * its file operations.
 */
struct host_eventfd {
	int fd;
};

int host_eventfd_get(int fd, struct host_eventfd **out)
{
	struct host_eventfd *e;
	char path[64], link[64];
	ssize_t n;
	int dup_fd;

	might_sleep("host_eventfd_get in atomic context");
	if (fd < 0 || fcntl(fd, F_GETFD) < 0)
		return -EBADF;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -EBADF;
	link[n] = 0;
	if (strcmp(link, "anon_inode:[eventfd]"))
		return -EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dup_fd < 0) {
		free(e);
		return -EBADF;
	}
	e->fd = dup_fd;
	ADD(held_objects, 1);
	*out = e;
	return 0;
}

static void watches_run(const struct host_eventfd *only);

void host_eventfd_signal(struct host_eventfd *e)
{
	eventfd_write(e->fd, 1);
	watches_run(e); /* as Linux: the watchers run inside the signal */
}

void host_eventfd_put(struct host_eventfd *e)
{
	might_sleep("host_eventfd_put in atomic context");
	close(e->fd);
	free(e);
	ADD(held_objects, -1);
}

/* the same open file: the duplicates of one eventfd compare equal */
bool host_eventfd_same(const struct host_eventfd *a,
		       const struct host_eventfd *b)
{
	pid_t me = getpid();

	return syscall(SYS_kcmp, me, me, KCMP_FILE, a->fd, b->fd) == 0;
}

/*
 * Watches.  User space has no wake-up callback on an eventfd, so the
 * watchers run when something looks: host_eventfd_signal() runs those of
 * the eventfd it signals (as the kernel would, inside the signal), and a
 * test that wrote an eventfd itself calls host_user_eventfd_poll().  A
 * watcher whose eventfd is readable gets its counter read (consumed) and
 * its callback called as the kernel calls it: in atomic context (the depth
 * counter raised, so a sleeping call in it is a loud bug) and, like Linux,
 * never nested inside another watcher's callback.  Each watch holds its
 * own duplicate of the descriptor.  The list's lock is held across the
 * callbacks, so host_eventfd_unwatch() never returns while one runs.
 *
 * Hang-up.  Our duplicates keep the eventfd's file open, so its last close
 * never happens by itself here: a test closes the VMM's descriptor with
 * host_user_eventfd_hangup(), which stands for the last close(2) and calls
 * the hang-up callback of every watch of that eventfd once, in atomic
 * context, as the kernel's release does.
 */
struct host_eventfd_watch {
	int fd; /* our duplicate */
	void (*fn)(void *arg);
	void (*hup)(void *arg);
	void *arg;
	bool hung;                       /* hup called, under watch_lock */
	struct host_eventfd_watch *next; /* watch_list, under watch_lock */
};

static pthread_mutex_t watch_lock = PTHREAD_MUTEX_INITIALIZER;
static struct host_eventfd_watch *watch_list;
static __thread bool in_watch;

/* Consume the counter if it is non-zero. */
static bool eventfd_take(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	eventfd_t v;

	if (poll(&p, 1, 0) != 1 || !(p.revents & POLLIN))
		return false;
	return eventfd_read(fd, &v) == 0 && v != 0;
}

static void watch_call(struct host_eventfd_watch *w, void (*fn)(void *arg))
{
	atomic_depth++; /* the kernel holds the eventfd's lock, irqs off */
	in_watch = true;
	fn(w->arg);
	in_watch = false;
	atomic_depth--;
}

static unsigned int watches_run_locked(const struct host_eventfd *only)
{
	struct host_eventfd_watch *w;
	pid_t me = getpid();
	unsigned int n = 0;

	for (w = watch_list; w; w = w->next) {
		if (only &&
		    syscall(SYS_kcmp, me, me, KCMP_FILE, only->fd, w->fd) != 0)
			continue;
		if (eventfd_take(w->fd)) {
			watch_call(w, w->fn);
			n++;
		}
	}
	return n;
}

static void watches_run(const struct host_eventfd *only)
{
	if (in_watch)
		return; /* Linux refuses to signal from inside a wake-up */
	pthread_mutex_lock(&watch_lock);
	watches_run_locked(only);
	pthread_mutex_unlock(&watch_lock);
}

unsigned int host_user_eventfd_poll(void)
{
	unsigned int n;

	BUG_IF(in_watch);
	pthread_mutex_lock(&watch_lock);
	n = watches_run_locked(NULL);
	pthread_mutex_unlock(&watch_lock);
	return n;
}

unsigned int host_user_eventfd_hangup(int fd)
{
	struct host_eventfd_watch *w;
	pid_t me = getpid();
	unsigned int n = 0;

	BUG_IF(in_watch);
	pthread_mutex_lock(&watch_lock);
	for (w = watch_list; w; w = w->next) {
		if (w->hung ||
		    syscall(SYS_kcmp, me, me, KCMP_FILE, fd, w->fd) != 0)
			continue;
		w->hung = true;
		if (w->hup) {
			watch_call(w, w->hup);
			n++;
		}
	}
	pthread_mutex_unlock(&watch_lock);
	close(fd);
	return n;
}

int host_eventfd_watch(struct host_eventfd *e, int fd, void (*fn)(void *arg),
		       void (*hup)(void *arg), void *arg,
		       struct host_eventfd_watch **out)
{
	struct host_eventfd_watch *w;
	pid_t me = getpid();

	might_sleep("host_eventfd_watch in atomic context");
	BUG_IF(in_watch);
	if (fd < 0 || syscall(SYS_kcmp, me, me, KCMP_FILE, e->fd, fd) != 0)
		return -EBADF;
	w = host_zalloc(sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (w->fd < 0) {
		host_free(w, sizeof(*w));
		return -EBADF;
	}
	w->fn = fn;
	w->hup = hup;
	w->arg = arg;
	*out = w;
	pthread_mutex_lock(&watch_lock);
	w->next = watch_list;
	watch_list = w;
	/* signalled before the watch: one call now (the count is taken) */
	if (eventfd_take(w->fd))
		watch_call(w, w->fn);
	pthread_mutex_unlock(&watch_lock);
	return 0;
}

void host_eventfd_unwatch(struct host_eventfd_watch *w)
{
	struct host_eventfd_watch **pp;

	if (!w)
		return;
	might_sleep("host_eventfd_unwatch in atomic context");
	BUG_IF(in_watch);
	pthread_mutex_lock(&watch_lock);
	for (pp = &watch_list; *pp; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	pthread_mutex_unlock(&watch_lock);
	close(w->fd);
	host_free(w, sizeof(*w));
}

/*
 * Deferred work.  No thread runs it by itself: queued items wait in a FIFO
 * until a test calls host_user_work_run() (every queued item, on the
 * calling thread, in process context) or someone flushes that item
 * (host_work_flush runs it on the flushing thread if it is still queued,
 * or waits for the thread running it).  So a test decides when the
 * "worker" runs, and can look at the state in between.
 */
struct host_work {
	void (*fn)(void *arg);
	void *arg;
	bool queued, running;   /* under work_lock */
	struct host_work *next; /* the FIFO, under work_lock */
	pthread_t runner;       /* while running */
};

static pthread_mutex_t work_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work_done = PTHREAD_COND_INITIALIZER;
static struct host_work *work_head, **work_tail = &work_head;

struct host_work *host_work_create(void (*fn)(void *arg), void *arg)
{
	struct host_work *w;

	might_sleep("host_work_create in atomic context");
	w = host_zalloc(sizeof(*w));
	if (!w)
		return NULL;
	w->fn = fn;
	w->arg = arg;
	return w;
}

void host_work_queue(struct host_work *w)
{
	pthread_mutex_lock(&work_lock);
	if (!w->queued) {
		w->queued = true;
		w->next = NULL;
		*work_tail = w;
		work_tail = &w->next;
	}
	pthread_mutex_unlock(&work_lock);
}

/* Take w off the FIFO.  work_lock held, w queued. */
static void work_unqueue(struct host_work *w)
{
	struct host_work **pp;

	for (pp = &work_head; *pp != w; pp = &(*pp)->next)
		BUG_IF(!*pp);
	*pp = w->next;
	if (work_tail == &w->next)
		work_tail = pp;
	w->queued = false;
}

/* Run queued w here.  work_lock held; dropped around fn. */
static void work_run_locked(struct host_work *w)
{
	work_unqueue(w);
	w->running = true;
	w->runner = pthread_self();
	pthread_mutex_unlock(&work_lock);
	w->fn(w->arg); /* process context: may sleep */
	pthread_mutex_lock(&work_lock);
	w->running = false;
	pthread_cond_broadcast(&work_done);
}

unsigned int host_user_work_run(void)
{
	unsigned int n = 0;

	might_sleep("host_user_work_run in atomic context");
	pthread_mutex_lock(&work_lock);
	while (work_head) {
		struct host_work *w = work_head;

		if (w->running) { /* another thread has it: let it finish */
			pthread_cond_wait(&work_done, &work_lock);
			continue;
		}
		work_run_locked(w);
		n++;
	}
	pthread_mutex_unlock(&work_lock);
	return n;
}

void host_work_flush(struct host_work *w)
{
	might_sleep("host_work_flush in atomic context");
	pthread_mutex_lock(&work_lock);
	for (;;) {
		if (w->running) {
			BUG_IF(pthread_equal(w->runner, pthread_self()));
			pthread_cond_wait(&work_done, &work_lock);
		} else if (w->queued) {
			work_run_locked(w);
		} else {
			break;
		}
	}
	pthread_mutex_unlock(&work_lock);
}

void host_work_destroy(struct host_work *w)
{
	if (!w)
		return;
	host_work_flush(w);
	host_free(w, sizeof(*w));
}

/* ------------------------------------------------------------------ */
/* The CPU around the guest: a fake CPU that records (host_user.h)     */

struct host_user_cpu host_user_cpu;
static pthread_mutex_t cpu_lock = PTHREAD_MUTEX_INITIALIZER;

void host_user_cpu_reset(void)
{
	pthread_mutex_lock(&cpu_lock);
	memset(&host_user_cpu, 0, sizeof(host_user_cpu));
	host_user_cpu.dr[6] = 0xffff0ff0;
	host_user_cpu.dr[7] = 0x400;
	pthread_mutex_unlock(&cpu_lock);
}

static void cpu_log(char kind, u32 reg, u64 val)
{
	struct host_user_cpu *c = &host_user_cpu;

	if (c->nlog < HOST_USER_CPU_LOG) {
		c->log[c->nlog].kind = kind;
		c->log[c->nlog].reg = reg;
		c->log[c->nlog].val = val;
		c->log[c->nlog].irqs_off = host_user_irqs_disabled();
	}
	c->nlog++;
}

static u64 *cpu_msr_slot(u32 msr, bool create)
{
	struct host_user_cpu *c = &host_user_cpu;
	unsigned int i;

	for (i = 0; i < c->nmsr; i++)
		if (c->msr[i].msr == msr)
			return &c->msr[i].val;
	if (!create || c->nmsr == HOST_USER_CPU_MSRS)
		return NULL;
	c->msr[c->nmsr].msr = msr;
	c->msr[c->nmsr].val = 0;
	return &c->msr[c->nmsr++].val;
}

u64 host_user_cpu_msr(u32 msr)
{
	u64 *p = cpu_msr_slot(msr, false);

	return p ? *p : 0;
}

void host_user_cpu_set_msr(u32 msr, u64 val)
{
	u64 *p = cpu_msr_slot(msr, true);

	BUG_IF(!p);
	if (p)
		*p = val;
}

u64 host_cpu_rdmsr(u32 msr)
{
	return host_user_cpu_msr(msr); /* unknown MSRs read 0 */
}

void host_cpu_wrmsr(u32 msr, u64 val)
{
	cpu_log('w', msr, val);
	host_user_cpu_set_msr(msr, val);
}

u64 host_cpu_get_dr(unsigned int n)
{
	BUG_IF(n > 7 || n == 4 || n == 5);
	return host_user_cpu.dr[n & 7];
}

void host_cpu_set_dr(unsigned int n, u64 val)
{
	BUG_IF(n > 7 || n == 4 || n == 5);
	cpu_log('d', n, val);
	host_user_cpu.dr[n & 7] = val;
}

bool host_pkru_enabled(void)
{
	return host_user_cpu.pkru_enabled;
}

u32 host_cpu_rdpkru(void)
{
	BUG_IF(!host_user_cpu.pkru_enabled);
	return host_user_cpu.pkru;
}

void host_cpu_wrpkru(u32 pkru)
{
	BUG_IF(!host_user_cpu.pkru_enabled);
	cpu_log('p', 0, pkru);
	host_user_cpu.pkru = pkru;
}

void host_cpu_xsetbv(u32 xcr, u64 val)
{
	cpu_log('x', xcr, val);
	host_user_cpu.xcr0 = val;
}

bool host_debugregs_active(void)
{
	return host_user_cpu.debugregs_active;
}

void host_debugregs_restore(void)
{
	struct host_user_cpu *c = &host_user_cpu;
	unsigned int i;

	BUG_IF(!host_user_irqs_disabled());
	c->dr_restores++;
	for (i = 0; i < 4; i++)
		c->dr[i] = c->host_dr[i];
	c->dr[6] = 0xffff0ff0;
	c->dr[7] = c->host_dr[7];
}

int host_uret_msr_register(u32 msr)
{
	struct host_user_cpu *c = &host_user_cpu;
	int i;

	for (i = 0; i < c->nuret; i++)
		if (c->uret_msr[i] == msr)
			return i;
	if (c->nuret == HOST_URET_MAX)
		return -ENOSPC;
	c->uret_msr[c->nuret] = msr;
	return c->nuret++;
}

void host_uret_msr_set(int slot, u64 val)
{
	struct host_user_cpu *c = &host_user_cpu;

	BUG_IF(slot < 0 || slot >= c->nuret);
	BUG_IF(atomic_depth <= 0); /* preemption off */
	if (!c->uret_known[slot]) {
		c->uret_host[slot] = host_user_cpu_msr(c->uret_msr[slot]);
		c->uret_known[slot] = true;
	}
	if (host_user_cpu_msr(c->uret_msr[slot]) == val)
		return;
	host_cpu_wrmsr(c->uret_msr[slot], val);
	c->uret_armed = true;
}

static void uret_restore(void)
{
	struct host_user_cpu *c = &host_user_cpu;
	int i;

	for (i = 0; i < c->nuret; i++)
		if (c->uret_known[i] &&
		    host_user_cpu_msr(c->uret_msr[i]) != c->uret_host[i])
			host_cpu_wrmsr(c->uret_msr[i], c->uret_host[i]);
	c->uret_armed = false;
}

void host_uret_msr_drop(void)
{
	struct host_user_cpu *c = &host_user_cpu;
	int i;

	uret_restore();
	for (i = 0; i < HOST_URET_MAX; i++)
		c->uret_known[i] = false;
}

void host_user_return_to_user(void)
{
	if (host_user_cpu.uret_armed)
		uret_restore();
}

void host_machine_check(void)
{
	host_user_cpu.machine_checks++;
	host_user_cpu.mc_irqs_off = host_user_irqs_disabled();
}

void host_mitigations(struct host_mitigations *m)
{
	*m = host_user_cpu.mit;
}

u64 host_spec_ctrl(void)
{
	return host_user_cpu.host_spec_ctrl;
}

void host_virt_ssbd(u64 guest_virt_spec_ctrl, bool guest)
{
	cpu_log(guest ? 'S' : 's', 0, guest_virt_spec_ctrl);
}

void host_guest_ran(void)
{
	host_user_cpu.guest_ran++;
}

void host_untrain_ret(void)
{
	host_user_cpu.untrains++;
}

void host_ibpb(void)
{
	host_user_cpu.ibpbs++;
}
