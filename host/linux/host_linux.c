// SPDX-License-Identifier: GPL-2.0
/*
 * host_linux.c - core/host.h implemented with Linux kernel services.
 *
 * Everything the OS-neutral core needs from its host is here: allocation
 * (counted, so a test can prove the driver gave everything back), pinning of
 * guest memory with pin_user_pages_fast(FOLL_LONGTERM), user copies, locks,
 * preemption and interrupt control, IPIs and the kernel-mode FPU.
 */
#include <linux/atomic.h>
#include <linux/err.h>
#include <linux/errno.h>
#include <linux/hrtimer.h>
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/io.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/printk.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <asm/fpu/api.h>
#include <asm/tsc.h>

#include "../../core/host.h"

static atomic64_t held_objects = ATOMIC64_INIT(0);
static atomic64_t held_pages = ATOMIC64_INIT(0);
static atomic64_t held_pinned = ATOMIC64_INIT(0);

void host_log(int level, const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	printk("%c%cxkvm: %pV\n", KERN_SOH_ASCII, '0' + (level & 7), &vaf);
	va_end(args);
}

void host_bug(const char *file, int line, const char *cond)
{
	WARN(1, "xkvm: invariant failed at %s:%d: %s\n", file, line, cond);
}

void *host_zalloc(size_t size)
{
	void *p = kvzalloc(size, GFP_KERNEL_ACCOUNT);

	if (p)
		atomic64_inc(&held_objects);
	return p;
}

void host_free(void *p, size_t size)
{
	(void)size;
	if (!p)
		return;
	kvfree(p);
	atomic64_dec(&held_objects);
}

void *host_pages_alloc(unsigned int order, u64 *hpa)
{
	unsigned long va =
		__get_free_pages(GFP_KERNEL_ACCOUNT | __GFP_ZERO, order);

	if (!va)
		return NULL;
	atomic64_add(1LL << order, &held_pages);
	*hpa = virt_to_phys((void *)va);
	return (void *)va;
}

void host_pages_free(void *va, unsigned int order)
{
	if (!va)
		return;
	free_pages((unsigned long)va, order);
	atomic64_sub(1LL << order, &held_pages);
}

u64 host_va_to_pa(const void *va)
{
	return virt_to_phys((void *)va);
}

/*
 * Pinned guest memory.  The page pointers are kept in chunks of
 * PIN_CHUNK, so no allocation grows with the slot beyond what kvmalloc
 * takes without complaint (a slot may have 2^31 - 1 pages; one array of
 * them would be 16 GiB, and kvmalloc WARNs past INT_MAX bytes).  Pinned
 * pages are charged to the pinning process's locked_vm against its
 * RLIMIT_MEMLOCK, as VFIO does (CAP_IPC_LOCK goes past the limit), before
 * any is pinned; the charge stays with that mm (held by mmgrab) until the
 * unpin, whoever unpins and whether the process still runs.  A slot of
 * more pages than the host has cannot be pinned by anyone: ENOMEM at
 * once, before the attempt would drive the host out of memory.
 */
#define PIN_CHUNK_SHIFT 15 /* 32768 pointers, 256 KiB a chunk */
#define PIN_CHUNK (1ULL << PIN_CHUNK_SHIFT)

struct host_pin {
	struct page ***chunks; /* chunks[i]: pages i * PIN_CHUNK ... */
	u64 npages;
	struct mm_struct *mm; /* charged for npages pages */
};

static u64 pin_chunk_len(u64 npages, u64 i)
{
	return min_t(u64, npages - (i << PIN_CHUNK_SHIFT), PIN_CHUNK);
}

/* Unpin the first done pages and free everything; uncharge the mm. */
static void pin_release(struct host_pin *pin, u64 done)
{
	u64 nchunks = DIV_ROUND_UP(pin->npages, PIN_CHUNK), i;

	for (i = 0; i < nchunks && pin->chunks[i]; i++) {
		u64 n = min_t(u64, pin_chunk_len(pin->npages, i),
			      done - min(done, i << PIN_CHUNK_SHIFT));

		unpin_user_pages(pin->chunks[i], n);
		kvfree(pin->chunks[i]);
		cond_resched();
	}
	kvfree(pin->chunks);
	if (pin->mm) {
		account_locked_vm(pin->mm, pin->npages, false);
		mmdrop(pin->mm);
	}
	kfree(pin);
}

/* Pin n pages at uaddr into pages; 0 or a negative errno. */
static int pin_range(u64 uaddr, u64 n, bool writable, struct page **pages)
{
	unsigned int gup = FOLL_LONGTERM;
	u64 done = 0;
	int r;

	while (done < n) {
		int want = (int)min_t(u64, n - done, 1 << 18);

		r = pin_user_pages_fast(uaddr + (done << PAGE_SHIFT), want,
					gup | FOLL_WRITE, pages + done);
		/*
		 * Even a read-only slot is pinned for writing where the VMM
		 * may write: a read pin of untouched anonymous memory takes
		 * the shared zero page, and the VMM's later write (QEMU copies
		 * its BIOS into ROM after creating the slot) would go to a new
		 * page the guest never sees.  Only a range the VMM cannot
		 * write is pinned for reading.
		 */
		if (r <= 0 && !writable)
			r = pin_user_pages_fast(uaddr + (done << PAGE_SHIFT),
						want, gup, pages + done);
		if (r <= 0) {
			unpin_user_pages(pages, done);
			return r ? r : -EFAULT;
		}
		done += r;
		if (fatal_signal_pending(current)) {
			unpin_user_pages(pages, done);
			return -EINTR;
		}
		cond_resched();
	}
	return 0;
}

int host_pin_user(u64 uaddr, u64 npages, bool writable, struct host_pin **out)
{
	u64 nchunks = DIV_ROUND_UP(npages, PIN_CHUNK), i, done = 0;
	struct host_pin *pin;
	int r;

	if (!npages || npages > totalram_pages())
		return -ENOMEM;
	if (!current->mm)
		return -EFAULT;
	pin = kzalloc(sizeof(*pin), GFP_KERNEL_ACCOUNT);
	if (!pin)
		return -ENOMEM;
	pin->npages = npages;
	pin->chunks =
		kvcalloc(nchunks, sizeof(*pin->chunks), GFP_KERNEL_ACCOUNT);
	if (!pin->chunks) {
		kfree(pin);
		return -ENOMEM;
	}
	/* RLIMIT_MEMLOCK: -ENOMEM past it, unless CAP_IPC_LOCK */
	r = account_locked_vm(current->mm, npages, true);
	if (r) {
		kvfree(pin->chunks);
		kfree(pin);
		return r;
	}
	pin->mm = current->mm;
	mmgrab(pin->mm);
	for (i = 0; i < nchunks && !r; i++) {
		u64 n = pin_chunk_len(npages, i);

		pin->chunks[i] = kvmalloc_array(n, sizeof(struct page *),
						GFP_KERNEL_ACCOUNT);
		if (!pin->chunks[i]) {
			r = -ENOMEM;
			break;
		}
		r = pin_range(uaddr + (done << PAGE_SHIFT), n, writable,
			      pin->chunks[i]);
		if (!r)
			done += n;
	}
	if (r) {
		pin_release(pin, done);
		/* Linux reports an unusable VMM range as EFAULT at run time */
		return r == -ENOMEM || r == -EINTR ? r : -EFAULT;
	}
	atomic64_add(npages, &held_pinned);
	*out = pin;
	return 0;
}

void host_unpin_user(struct host_pin *pin)
{
	atomic64_sub(pin->npages, &held_pinned);
	pin_release(pin, pin->npages);
}

u64 host_pin_hpa(const struct host_pin *pin, u64 idx)
{
	return page_to_phys(
		pin->chunks[idx >> PIN_CHUNK_SHIFT][idx & (PIN_CHUNK - 1)]);
}

void *host_pin_va(const struct host_pin *pin, u64 idx)
{
	return page_address(
		pin->chunks[idx >> PIN_CHUNK_SHIFT][idx & (PIN_CHUNK - 1)]);
}

void host_held(struct host_held *out)
{
	out->objects = atomic64_read(&held_objects);
	out->pages = atomic64_read(&held_pages);
	out->pinned = atomic64_read(&held_pinned);
}

int host_copy_from_user(void *dst, u64 usrc, size_t len)
{
	return copy_from_user(dst, u64_to_user_ptr(usrc), len) ? -EFAULT : 0;
}

int host_copy_to_user(u64 udst, const void *src, size_t len)
{
	return copy_to_user(u64_to_user_ptr(udst), src, len) ? -EFAULT : 0;
}

struct host_mutex {
	struct mutex m;
};

struct host_mutex *host_mutex_create(void)
{
	struct host_mutex *m = kzalloc(sizeof(*m), GFP_KERNEL_ACCOUNT);

	if (m)
		mutex_init(&m->m);
	return m;
}

void host_mutex_destroy(struct host_mutex *m)
{
	mutex_destroy(&m->m);
	kfree(m);
}

void host_mutex_lock(struct host_mutex *m)
{
	mutex_lock(&m->m);
}

void host_mutex_unlock(struct host_mutex *m)
{
	mutex_unlock(&m->m);
}

bool host_mutex_trylock(struct host_mutex *m)
{
	return mutex_trylock(&m->m);
}

struct host_spin {
	spinlock_t s;
	unsigned long flags; /* host_spin_lock_irq: the holder's saved state */
};

struct host_spin *host_spin_create(void)
{
	struct host_spin *s = kzalloc(sizeof(*s), GFP_KERNEL_ACCOUNT);

	if (s)
		spin_lock_init(&s->s);
	return s;
}

void host_spin_destroy(struct host_spin *s)
{
	kfree(s);
}

void host_spin_lock(struct host_spin *s)
{
	spin_lock(&s->s);
}

void host_spin_unlock(struct host_spin *s)
{
	spin_unlock(&s->s);
}

void host_spin_lock_irq(struct host_spin *s)
{
	unsigned long flags;

	spin_lock_irqsave(&s->s, flags);
	s->flags = flags;
}

void host_spin_unlock_irq(struct host_spin *s)
{
	spin_unlock_irqrestore(&s->s, s->flags);
}

unsigned int host_ncpus(void)
{
	return nr_cpu_ids;
}

unsigned int host_cpu_id(void)
{
	return smp_processor_id();
}

void host_preempt_disable(void)
{
	preempt_disable();
}

void host_preempt_enable(void)
{
	preempt_enable();
}

void host_irq_disable(void)
{
	local_irq_disable();
}

void host_irq_enable(void)
{
	local_irq_enable();
}

bool host_signal_pending(void)
{
	return signal_pending(current);
}

bool host_need_resched(void)
{
	return need_resched();
}

void host_cond_resched(void)
{
	cond_resched();
}

void host_kick_cpu(unsigned int cpu)
{
	if (cpu != raw_smp_processor_id() && cpu_online(cpu))
		smp_send_reschedule(cpu);
}

void host_mb(void)
{
	smp_mb();
}

int host_current_pid(void)
{
	return task_tgid_nr(current);
}

void host_on_each_cpu(void (*fn)(void *), void *arg)
{
	on_each_cpu(fn, arg, 1);
}

void host_fpu_begin(void)
{
	kernel_fpu_begin();
}

void host_fpu_end(void)
{
	kernel_fpu_end();
}

u32 host_tsc_khz(void)
{
	return tsc_khz;
}

u64 host_time_ns(void)
{
	return ktime_get_ns();
}

/* Waits: a wait queue; the condition is the caller's. */
struct host_wait {
	wait_queue_head_t wq;
};

struct host_wait *host_wait_create(void)
{
	struct host_wait *w = host_zalloc(sizeof(*w));

	if (w)
		init_waitqueue_head(&w->wq);
	return w;
}

void host_wait_destroy(struct host_wait *w)
{
	if (w)
		host_free(w, sizeof(*w));
}

int host_wait_event(struct host_wait *w, bool (*ready)(void *arg), void *arg)
{
	return wait_event_interruptible(w->wq, ready(arg)) ? -EINTR : 0;
}

void host_wait_wake(struct host_wait *w)
{
	wake_up_interruptible(&w->wq);
}

/* Timers: hrtimers on CLOCK_MONOTONIC (ktime_get_ns), in hard-IRQ context. */
struct host_timer {
	struct hrtimer hr;
	void (*fn)(void *arg);
	void *arg;
};

static enum hrtimer_restart host_timer_fire(struct hrtimer *hr)
{
	struct host_timer *t = container_of(hr, struct host_timer, hr);

	t->fn(t->arg);
	return HRTIMER_NORESTART;
}

struct host_timer *host_timer_create(void (*fn)(void *arg), void *arg)
{
	struct host_timer *t = host_zalloc(sizeof(*t));

	if (!t)
		return NULL;
	hrtimer_init(&t->hr, CLOCK_MONOTONIC, HRTIMER_MODE_ABS_HARD);
	t->hr.function = host_timer_fire;
	t->fn = fn;
	t->arg = arg;
	return t;
}

void host_timer_start(struct host_timer *t, u64 when_ns)
{
	hrtimer_start(&t->hr, ns_to_ktime(when_ns), HRTIMER_MODE_ABS_HARD);
}

void host_timer_cancel(struct host_timer *t)
{
	hrtimer_cancel(&t->hr);
}

void host_timer_destroy(struct host_timer *t)
{
	if (!t)
		return;
	hrtimer_cancel(&t->hr);
	host_free(t, sizeof(*t));
}

u64 host_realtime_ns(void)
{
	return ktime_get_real_ns();
}

/* struct host_eventfd is the kernel's struct eventfd_ctx itself. */
int host_eventfd_get(int fd, struct host_eventfd **out)
{
	struct eventfd_ctx *ctx = eventfd_ctx_fdget(fd);

	if (IS_ERR(ctx))
		return PTR_ERR(ctx); /* -EBADF, or -EINVAL: not an eventfd */
	atomic64_inc(&held_objects);
	*out = (struct host_eventfd *)ctx;
	return 0;
}

void host_eventfd_signal(struct host_eventfd *e)
{
	eventfd_signal((struct eventfd_ctx *)e, 1);
}

void host_eventfd_put(struct host_eventfd *e)
{
	eventfd_ctx_put((struct eventfd_ctx *)e);
	atomic64_dec(&held_objects);
}

bool host_eventfd_same(const struct host_eventfd *a,
		       const struct host_eventfd *b)
{
	return a == b;
}

/*
 * Watches: an entry on the eventfd's wait queue, put there by the file's
 * own poll method (vfs_poll calls our queueing function with the queue).
 * Every wake-up of the queue calls watch_wake() with the queue's lock held
 * and interrupts off; a write or eventfd_signal() wakes with EPOLLIN, a
 * read with EPOLLOUT, the release of the file (its last close) with
 * EPOLLHUP, once: EPOLLIN calls fn, EPOLLHUP calls hup.  Our context
 * reference keeps the queue alive after the file is gone.  Removing the
 * entry takes the same lock, so once it is off the queue no call is
 * running or can start.
 */
struct host_eventfd_watch {
	wait_queue_entry_t wait;
	poll_table pt;
	struct eventfd_ctx *ctx;
	void (*fn)(void *arg);
	void (*hup)(void *arg);
	void *arg;
};

static int watch_wake(wait_queue_entry_t *wait, unsigned int mode, int sync,
		      void *key)
{
	struct host_eventfd_watch *w =
		container_of(wait, struct host_eventfd_watch, wait);
	__poll_t flags = key_to_poll(key);
	u64 cnt;

	if (flags & EPOLLIN) {
		eventfd_ctx_do_read(w->ctx,
				    &cnt); /* the queue's lock is held */
		w->fn(w->arg);
	}
	if ((flags & EPOLLHUP) && w->hup)
		w->hup(w->arg);
	return 0;
}

static void watch_queue(struct file *file, wait_queue_head_t *wqh,
			poll_table *pt)
{
	struct host_eventfd_watch *w =
		container_of(pt, struct host_eventfd_watch, pt);

	add_wait_queue(wqh, &w->wait);
}

int host_eventfd_watch(struct host_eventfd *e, int fd, void (*fn)(void *arg),
		       void (*hup)(void *arg), void *arg,
		       struct host_eventfd_watch **out)
{
	struct eventfd_ctx *ctx;
	struct host_eventfd_watch *w;
	struct file *file;
	__poll_t events;

	file = fget(fd);
	if (!file)
		return -EBADF;
	ctx = eventfd_ctx_fileget(file);
	if (IS_ERR(ctx)) {
		fput(file);
		return -EBADF; /* no longer an eventfd */
	}
	eventfd_ctx_put(ctx); /* only compared: e holds the reference */
	if (ctx != (struct eventfd_ctx *)e) {
		fput(file);
		return -EBADF;
	}
	w = host_zalloc(sizeof(*w));
	if (!w) {
		fput(file);
		return -ENOMEM;
	}
	w->ctx = ctx;
	w->fn = fn;
	w->hup = hup;
	w->arg = arg;
	init_waitqueue_func_entry(&w->wait, watch_wake);
	init_poll_funcptr(&w->pt, watch_queue);
	events = vfs_poll(file, &w->pt);
	/* *out first: a release right after this fput may call hup */
	*out = w;
	fput(file);
	if (events & EPOLLIN)
		fn(arg); /* signalled before the watch */
	return 0;
}

void host_eventfd_unwatch(struct host_eventfd_watch *w)
{
	u64 cnt;

	if (!w)
		return;
	eventfd_ctx_remove_wait_queue(w->ctx, &w->wait, &cnt);
	host_free(w, sizeof(*w));
}

/*
 * Deferred work: a work item of the system workqueue.  Its function is
 * ours, so every item must be flushed before the module goes: the core
 * destroys each with the object that owns it (a VM), and no VM outlives
 * the module.
 */
struct host_work {
	struct work_struct work;
	void (*fn)(void *arg);
	void *arg;
};

static void host_work_run(struct work_struct *ws)
{
	struct host_work *w = container_of(ws, struct host_work, work);

	w->fn(w->arg);
}

struct host_work *host_work_create(void (*fn)(void *arg), void *arg)
{
	struct host_work *w = host_zalloc(sizeof(*w));

	if (!w)
		return NULL;
	INIT_WORK(&w->work, host_work_run);
	w->fn = fn;
	w->arg = arg;
	return w;
}

void host_work_queue(struct host_work *w)
{
	queue_work(system_wq, &w->work);
}

void host_work_flush(struct host_work *w)
{
	flush_work(&w->work);
}

void host_work_destroy(struct host_work *w)
{
	if (!w)
		return;
	flush_work(&w->work);
	host_free(w, sizeof(*w));
}
