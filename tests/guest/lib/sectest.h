/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sectest.h - host helpers of the lock and stress tests (uffd_lock,
 * stress_slots, irqfd_hup): bounded waits, xkvm's held counts, eventfds,
 * a seeded random generator, the statistics tree of either driver, and
 * the kernel log.
 *
 * Bounded waits are watchdogs, not measures: a correct driver gets there
 * at once (or as soon as a worker of its own has run); the bound only
 * ends the wait on a broken one, which then fails with what it was
 * waiting for.  Nothing here prints on stdout unless the test fails.
 */
#ifndef KT_SECTEST_H
#define KT_SECTEST_H

#include "kvmtest.h"

#include <dirent.h>
#include <stdio.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <time.h>
#include <unistd.h>

static inline void st_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

/* Wait at most about ms milliseconds for cond to hold; its final value. */
#define ST_WAIT(cond, ms)                                              \
	({                                                             \
		long st_n_;                                            \
		for (st_n_ = 0; st_n_ < (ms) / 10 && !(cond); st_n_++) \
			st_sleep_ms(10);                               \
		!!(cond);                                              \
	})

/* Does the driver hold exactly base (xkvm's held counts)? */
static inline int st_held_is(const long long base[3])
{
	long long h[3];

	return kt_read_held(h) && h[0] == base[0] && h[1] == base[1] &&
	       h[2] == base[2];
}

/*
 * xkvm only: wait (up to 30 s: a worker of the driver may still be
 * dropping something) until the driver holds exactly base again, or fail
 * saying what should have been given back.  A no-op under other drivers.
 */
static inline void st_held_back(const long long base[3], const char *what)
{
	long long h[3];

	if (!kt_read_held(h))
		return;
	if (ST_WAIT(st_held_is(base), 30000)) {
		fprintf(stderr, "xkvm: held counts back (%s)\n", what);
		return;
	}
	kt_read_held(h);
	kt_fail(__FILE__, __LINE__,
		"xkvm: %s: held objects %lld pages %lld pinned %lld, "
		"before %lld %lld %lld",
		what, h[0], h[1], h[2], base[0], base[1], base[2]);
}

static void st_watchdog_fire(int sig)
{
	static const char msg[] = "FAIL: the test's watchdog fired\n";

	(void)sig;
	if (write(1, msg, sizeof(msg) - 1) < 0 ||
	    write(2, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	_exit(1);
}

/* The whole test's watchdog: a FAIL line and exit 1 after secs seconds. */
static inline void st_watchdog(unsigned int secs)
{
	signal(SIGALRM, st_watchdog_fire);
	alarm(secs);
}

static inline int st_eventfd(void)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	KT_ASSERT(fd >= 0, "eventfd: errno %d", errno);
	return fd;
}

/* The counter of a non-blocking eventfd, taken (0 when it is not set). */
static inline uint64_t st_eventfd_take(int fd)
{
	eventfd_t n = 0;

	if (eventfd_read(fd, &n)) {
		KT_ASSERT(errno == EAGAIN, "eventfd read: errno %d", errno);
		return 0;
	}
	return n;
}

/* xorshift64*: a seeded, reproducible sequence per thread. */
static inline uint64_t st_rand(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ull;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

static inline uint64_t st_below(uint64_t *s, uint64_t n)
{
	return st_rand(s) % n;
}

/*
 * The driver's statistics tree in debugfs (mounted if it is not): xkvm's
 * /sys/kernel/debug/xkvm or Linux's /sys/kernel/debug/kvm; NULL if none.
 * Both have a sum file per counter at the top ("exits") and a directory
 * "<pid>-<vm fd>" per VM.
 */
static inline const char *st_stats_tree(void)
{
	if (access("/sys/kernel/debug/kvm", F_OK) &&
	    access("/sys/kernel/debug/xkvm", F_OK))
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	if (!access("/sys/kernel/debug/xkvm", F_OK))
		return "/sys/kernel/debug/xkvm";
	if (!access("/sys/kernel/debug/kvm", F_OK))
		return "/sys/kernel/debug/kvm";
	return NULL;
}

/* Read a file to its end and throw it away; 0, or -1 if it cannot be. */
static inline int st_read_file(const char *path)
{
	char buf[256];
	ssize_t n;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	do
		n = (ssize_t)fread(buf, 1, sizeof(buf), f);
	while (n > 0);
	n = ferror(f) ? -1 : 0;
	fclose(f);
	return (int)n;
}

/* Read every regular file below dir (depth up to 2); files read. */
static inline int st_read_tree(const char *dir, int depth)
{
	char path[512];
	struct dirent *d;
	DIR *dp = opendir(dir);
	int n = 0;

	if (!dp)
		return 0;
	// cppcheck-suppress readdirCalled ; each thread has its own DIR
	while ((d = readdir(dp))) {
		if (d->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
				     d->d_name) >= sizeof(path))
			continue; /* not ours: our paths are short */
		if (d->d_type == DT_DIR) {
			if (depth > 0)
				n += st_read_tree(path, depth - 1);
		} else if (!st_read_file(path)) {
			n++;
		}
	}
	closedir(dp);
	return n;
}

/*
 * The kernel log from now on: st_kmsg_open() skips what is logged
 * already; st_kmsg_trouble() reads what came since and counts the lines
 * that mean trouble (what box/kernel-log looks for), shown on stderr.
 * -1 where /dev/kmsg cannot be read.
 */
static inline int st_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

static inline int st_kmsg_trouble(int fd)
{
	static const char *const bad[] = { "WARNING:",
					   "BUG:",
					   "Oops",
					   "Call Trace",
					   "soft lockup",
					   "self-detected stall",
					   "blocked for more than",
					   "invariant failed" };
	char rec[2048];
	ssize_t n;
	size_t i;
	int count = 0;

	if (fd < 0)
		return -1;
	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue; /* overwritten records: go on */
		if (n <= 0)
			break;
		rec[n] = 0;
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			if (strstr(rec, bad[i])) {
				fprintf(stderr, "kernel log: %s", rec);
				count++;
				break;
			}
	}
	close(fd);
	return count;
}

#endif /* KT_SECTEST_H */
