// SPDX-License-Identifier: GPL-2.0
/*
 * boot-watch - run a VMM under a deadline, time its guest's boot to a marker
 * line, and read the hypervisor's VM-exit counter when the marker appears.
 *
 * Used by the qemu mode of the test bed's /init: stock QEMU runs a small
 * Linux guest on /dev/kvm, and the guest prints one marker line when it has
 * reached user space (testbed/guest-init).  A shell loop would react late
 * and time coarsely; this reads the output as it comes, so the counter is
 * read while the VM still exists (the guest waits a second before powering
 * off) and the time is taken to the millisecond.
 *
 * Usage: boot-watch [options] -- COMMAND [ARG...]
 *   -t SECONDS  deadline for the marker (300); past it the command's process
 *               group gets SIGTERM, and SIGKILL 5 s later; a command still
 *               there 30 s after that (stuck in the kernel) is left behind
 *   -a SECONDS  how long the command may run on after the marker (60)
 *   -m TEXT     the marker: the first output line containing TEXT
 *               ("xkvm-guest:")
 *   -e PATTERN  the exit counter: files matching this glob(3) pattern each
 *               hold a number, and their sum is the count; read when the
 *               marker appears and at every heartbeat.  No file: "n/a".
 *               May be given up to 12 times as NAME=PATTERN for more
 *               counters (reported as NAME=...); a bare PATTERN is "exits".
 *   -o FILE     where the command's output (stdout and stderr) goes
 *   -r FILE     the results, one KEY=VALUE a line (below)
 *   -h SECONDS  a progress line on stdout every SECONDS (30; 0: none), so
 *               that whoever watches the console sees life
 *   -p TEXT     prefix of the progress lines ("boot-watch: ")
 *   -s TEXT     stamp every output line containing TEXT: each one is
 *               written to the results as stamp=MS LINE (MS from starting
 *               the command, at most 16 lines), so that the guest's clock
 *               can be compared with the host's
 *   -v          also copy the command's output to stdout, after "| "
 *
 * Results (-r FILE):
 *   marker_ms=N|none        ms from starting the command to the marker line
 *   first_output_ms=N|none  ms to its first output line
 *   <counter>=N|n/a         each counter at the marker; without a marker,
 *                           the last value read while the command ran
 *   end=exit N | signal N | timeout | killed after marker | unkillable
 *   elapsed_ms=N            ms until the command was gone
 *   lines=N                 output lines
 *   marker=LINE             the marker line, without terminal escapes
 *                           (absent without a marker)
 *   stamp=MS LINE           each line containing the -s TEXT, in order
 * Exit status: 0 the marker was seen, 1 it was not, 2 usage or setup error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_COUNTERS 12
#define MAX_STAMPS 16
#define LINE_MAX_LEN 4096
#define KILL_GRACE_MS 5000
#define GIVE_UP_MS 30000

struct counter {
	const char *name;
	const char *pattern;
	long long value; /* -1: never read */
};

static struct counter counters[MAX_COUNTERS];
static int ncounters;

static const char *prefix = "boot-watch: ";
static int verbose;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void say(const char *fmt, ...)
{
	va_list ap;

	fputs(prefix, stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static int usage(void)
{
	fprintf(stderr,
		"usage: boot-watch [-t S] [-a S] [-m TEXT] [-e [NAME=]GLOB] "
		"[-o FILE] [-r FILE] [-h S] [-p TEXT] [-s TEXT] [-v] -- COMMAND...\n");
	return 2;
}

/* Sum of the numbers in the files matching @pattern; -1 if none was read. */
static long long read_counter(const char *pattern)
{
	long long sum = -1;
	glob_t g;
	size_t i;

	if (glob(pattern, 0, NULL, &g) != 0)
		return -1;
	for (i = 0; i < g.gl_pathc; i++) {
		char buf[64];
		ssize_t n;
		int fd = open(g.gl_pathv[i], O_RDONLY);

		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		sum = (sum < 0 ? 0 : sum) + strtoll(buf, NULL, 0);
	}
	globfree(&g);
	return sum;
}

/* Read every counter; a counter keeps its last value if it cannot be read
 * now (its VM is gone). */
static void read_counters(void)
{
	int i;

	for (i = 0; i < ncounters; i++) {
		long long v = read_counter(counters[i].pattern);

		if (v >= 0)
			counters[i].value = v;
	}
}

static void format_counter(char *buf, size_t len, long long v)
{
	if (v < 0)
		snprintf(buf, len, "n/a");
	else
		snprintf(buf, len, "%lld", v);
}

/* Everything we learn about the run. */
struct watch {
	long long start, marker_at, first_at, end_at;
	long long lines;
	int killed_for_timeout, killed_after_marker, unkillable;
	char marker_line[LINE_MAX_LEN];
	char last_line[LINE_MAX_LEN];
	int nstamps;
	long long stamp_at[MAX_STAMPS];
	char stamp_line[MAX_STAMPS][256];
};

static const char *stamp_text; /* -s TEXT, or NULL */

/* Drop carriage returns and the terminal escapes the firmware sends (ESC c,
 * ESC [ ... letter), in place. */
static void strip_escapes(char *line)
{
	char *in = line, *out = line;

	while (*in) {
		if (*in == '\r') {
			in++;
		} else if (in[0] == '\033' && in[1] == '[') {
			in += 2;
			in += strspn(in, "0123456789;?");
			if (*in)
				in++;
		} else if (in[0] == '\033') {
			in += in[1] ? 2 : 1;
		} else {
			*out++ = *in++;
		}
	}
	*out = '\0';
}

/* One complete output line (without its newline). */
static void on_line(struct watch *w, char *line, const char *marker)
{
	size_t len;

	strip_escapes(line);
	len = strlen(line);

	w->lines++;
	if (w->first_at < 0)
		w->first_at = now_ms();
	if (verbose)
		printf("| %s\n", line);
	if (len)
		snprintf(w->last_line, sizeof(w->last_line), "%s", line);
	if (w->marker_at < 0 && strstr(line, marker)) {
		w->marker_at = now_ms();
		read_counters(); /* first: the VM lives on only briefly */
		snprintf(w->marker_line, sizeof(w->marker_line), "%s", line);
		say("marker after %.1f s: %s",
		    (w->marker_at - w->start) / 1000.0, line);
	}
	if (stamp_text && w->nstamps < MAX_STAMPS && strstr(line, stamp_text)) {
		w->stamp_at[w->nstamps] = now_ms();
		snprintf(w->stamp_line[w->nstamps],
			 sizeof(w->stamp_line[w->nstamps]), "%s", line);
		w->nstamps++;
	}
	fflush(stdout);
}

/*
 * The guest's line for a progress line, with a leading printk timestamp
 * "[   11.646007] " written "(11.646007) ": the test bed scans the box's
 * console for kernel trouble by such timestamps, and a guest kernel's
 * warning is not the box's.
 */
static const char *guest_line(const char *line, char *buf, size_t len)
{
	const char *digits, *end;

	if (line[0] != '[')
		return line;
	digits = line + 1 + strspn(line + 1, " ");
	end = digits + strspn(digits, "0123456789.");
	if (end == digits || *end != ']')
		return line;
	snprintf(buf, len, "(%.*s)%s", (int)(end - digits), digits, end + 1);
	return buf;
}

static void heartbeat(struct watch *w)
{
	char c[32], shown[LINE_MAX_LEN];

	read_counters();
	format_counter(c, sizeof(c), ncounters ? counters[0].value : -1);
	say("%.0f s, %lld output line(s), %s %s, last: %.100s",
	    (now_ms() - w->start) / 1000.0, w->lines,
	    ncounters ? counters[0].name : "exits", c,
	    w->lines ? guest_line(w->last_line, shown, sizeof(shown)) :
		       "(none)");
}

static void write_results(const char *path, struct watch *w, int status)
{
	char buf[32];
	FILE *f;
	int i;

	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "boot-watch: %s: %s\n", path, strerror(errno));
		return;
	}
	if (w->marker_at >= 0)
		fprintf(f, "marker_ms=%lld\n", w->marker_at - w->start);
	else
		fprintf(f, "marker_ms=none\n");
	if (w->first_at >= 0)
		fprintf(f, "first_output_ms=%lld\n", w->first_at - w->start);
	else
		fprintf(f, "first_output_ms=none\n");
	for (i = 0; i < ncounters; i++) {
		format_counter(buf, sizeof(buf), counters[i].value);
		fprintf(f, "%s=%s\n", counters[i].name, buf);
	}
	if (w->unkillable)
		fprintf(f, "end=unkillable\n");
	else if (w->killed_for_timeout)
		fprintf(f, "end=timeout\n");
	else if (w->killed_after_marker)
		fprintf(f, "end=killed after marker\n");
	else if (WIFSIGNALED(status))
		fprintf(f, "end=signal %d\n", WTERMSIG(status));
	else
		fprintf(f, "end=exit %d\n", WEXITSTATUS(status));
	fprintf(f, "elapsed_ms=%lld\n", w->end_at - w->start);
	fprintf(f, "lines=%lld\n", w->lines);
	if (w->marker_at >= 0)
		fprintf(f, "marker=%s\n", w->marker_line);
	for (i = 0; i < w->nstamps; i++)
		fprintf(f, "stamp=%lld %s\n", w->stamp_at[i] - w->start,
			w->stamp_line[i]);
	fclose(f);
}

static void add_counter(char *arg)
{
	char *eq = strchr(arg, '=');

	if (ncounters == MAX_COUNTERS)
		return;
	/* NAME=PATTERN when the '=' comes before any '/'. */
	if (eq && eq != arg && arg[strcspn(arg, "/=")] == '=') {
		*eq = '\0';
		counters[ncounters].name = arg;
		counters[ncounters].pattern = eq + 1;
	} else {
		counters[ncounters].name = "exits";
		counters[ncounters].pattern = arg;
	}
	counters[ncounters].value = -1;
	ncounters++;
}

/* Start @argv in its own process group with stdout and stderr into a pipe;
 * returns its pid and the pipe's read end in @rfd. */
static pid_t start(char **argv, int *rfd)
{
	int p[2], null;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		null = open("/dev/null", O_RDONLY);
		if (null >= 0)
			dup2(null, 0);
		dup2(p[1], 1);
		dup2(p[1], 2);
		execvp(argv[0], argv);
		fprintf(stderr, "boot-watch: cannot run %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid); /* also here: no race with the first kill */
	close(p[1]);
	*rfd = p[0];
	return pid;
}

int main(int argc, char **argv)
{
	long long deadline_s = 300, after_s = 60, beat_s = 30;
	const char *marker = "xkvm-guest:", *out_path = NULL, *res_path = NULL;
	char buf[LINE_MAX_LEN], pending[LINE_MAX_LEN];
	size_t plen = 0;
	long long deadline, next_beat, kill_at = -1;
	struct watch w;
	int opt, rfd, status = 0, out = -1, open_pipe = 1, reaped = 0;
	int after_marker = 0, killed_hard = 0;
	pid_t pid;

	while ((opt = getopt(argc, argv, "+t:a:m:e:o:r:h:p:s:v")) != -1) {
		switch (opt) {
		case 't':
			deadline_s = atoll(optarg);
			break;
		case 'a':
			after_s = atoll(optarg);
			break;
		case 'm':
			marker = optarg;
			break;
		case 'e':
			add_counter(optarg);
			break;
		case 'o':
			out_path = optarg;
			break;
		case 'r':
			res_path = optarg;
			break;
		case 'h':
			beat_s = atoll(optarg);
			break;
		case 'p':
			prefix = optarg;
			break;
		case 's':
			stamp_text = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			return usage();
		}
	}
	if (optind >= argc)
		return usage();
	if (out_path) {
		out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			   0644);
		if (out < 0) {
			fprintf(stderr, "boot-watch: %s: %s\n", out_path,
				strerror(errno));
			return 2;
		}
	}

	memset(&w, 0, sizeof(w));
	w.marker_at = w.first_at = w.end_at = -1;
	w.start = now_ms();
	pid = start(argv + optind, &rfd);
	if (pid < 0) {
		fprintf(stderr, "boot-watch: cannot start %s: %s\n",
			argv[optind], strerror(errno));
		return 2;
	}
	deadline = w.start + deadline_s * 1000;
	next_beat = beat_s > 0 ? w.start + beat_s * 1000 : -1;

	while (open_pipe || !reaped) {
		long long now = now_ms(), wake;
		struct pollfd pfd = { .fd = rfd, .events = POLLIN };
		ssize_t n, i;

		/* Reap as soon as the command is gone. */
		if (!reaped && waitpid(pid, &status, WNOHANG) == pid) {
			reaped = 1;
			w.end_at = now;
			continue;
		}
		/* After the marker, the command has after_s more seconds. */
		if (w.marker_at >= 0 && !after_marker) {
			after_marker = 1;
			deadline = w.marker_at + after_s * 1000;
		}
		if (kill_at < 0 && now >= deadline) {
			if (w.marker_at < 0) {
				w.killed_for_timeout = 1;
				say("no marker after %lld s: stopping the "
				    "command",
				    deadline_s);
			} else {
				w.killed_after_marker = 1;
				say("still running %lld s after the marker: "
				    "stopping it",
				    after_s);
			}
			kill(-pid, SIGTERM);
			kill_at = now + KILL_GRACE_MS;
		}
		if (kill_at >= 0 && !killed_hard && now >= kill_at) {
			kill(-pid, SIGKILL);
			killed_hard = 1;
		}
		if (killed_hard && now >= kill_at + GIVE_UP_MS) {
			say("the command outlived SIGKILL by %d s (stuck in "
			    "the kernel?): leaving it",
			    GIVE_UP_MS / 1000);
			w.unkillable = 1;
			break;
		}
		if (next_beat >= 0 && now >= next_beat) {
			heartbeat(&w);
			next_beat = now + beat_s * 1000;
		}

		/* Sleep until output comes or the next event, at most 200 ms
		 * (the pipe may close before the command exits, or after). */
		wake = now + (open_pipe ? 200 : 10);
		if (kill_at < 0 && deadline < wake)
			wake = deadline;
		if (next_beat >= 0 && next_beat < wake)
			wake = next_beat;
		if (poll(&pfd, open_pipe ? 1 : 0,
			 wake > now ? (int)(wake - now) : 0) <= 0 ||
		    !open_pipe)
			continue;

		n = read(rfd, buf, sizeof(buf));
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			open_pipe = 0;
			close(rfd);
			continue;
		}
		if (out >= 0 && write(out, buf, n) != n)
			fprintf(stderr, "boot-watch: short write to %s\n",
				out_path);
		for (i = 0; i < n; i++) {
			if (buf[i] != '\n' && plen < sizeof(pending) - 1) {
				pending[plen++] = buf[i];
				continue;
			}
			pending[plen] = '\0';
			on_line(&w, pending, marker);
			plen = 0;
			if (buf[i] != '\n')
				pending[plen++] = buf[i];
		}
	}
	if (plen) {
		pending[plen] = '\0';
		on_line(&w, pending, marker);
	}
	if (w.end_at < 0)
		w.end_at = now_ms();
	if (out >= 0)
		close(out);
	if (res_path)
		write_results(res_path, &w, status);
	return w.marker_at >= 0 ? 0 : 1;
}
