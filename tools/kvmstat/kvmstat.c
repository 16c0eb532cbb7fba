// SPDX-License-Identifier: GPL-2.0
/*
 * kvmstat - per-vCPU statistics of the VMs running on xkvm, as the
 * original illumos-kvm kvmstat(1) shows them.
 *
 *	kvmstat [interval [count]]
 *
 * Theory.  The driver publishes one directory per VM under
 * /sys/kernel/debug/xkvm/ ("<pid>-<fd>"), one subdirectory per vCPU
 * ("vcpu<id>") and one file per counter, named as the original's kstats
 * (exits, halt-exits, io-exits, ...), plus pid, crtime and snaptime (ns).
 * kvmstat takes a sample of every vCPU, sleeps for the interval, takes
 * another and prints one line per vCPU with each counter's change divided
 * by the time between the two snapshots of that vCPU (its own snaptime
 * file, read before and after its counters: the middle is taken, so the
 * rate does not depend on how long the reading took).  A
 * vCPU that appeared since the last sample is measured from its creation
 * (crtime); one that went away is no longer printed.  A vCPU is known
 * across samples by its VM directory, its id and its creation time, so a
 * new VM that reuses a name is not mistaken for the old one.
 *
 * The statistics directory can be changed with KVMSTAT_DIR (for tests).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_DIR "/sys/kernel/debug/xkvm"

/* The counters shown, in column order, under the driver's file names. */
enum {
	C_EXITS,
	C_HALTX,
	C_IRQX,
	C_IRQWX,
	C_IOX,
	C_MMIOX,
	C_IRQS,
	C_EMUL,
	C_EPTV,
	NCOLS
};

static const char *const files[NCOLS] = {
	"exits",          "halt-exits", "irq-exits",      "irq-window-exits",
	"io-exits",       "mmio-exits", "irq-injections", "insn-emulation",
	"npt-violations",
};

struct vcpu {
	char vm[NAME_MAX + 1]; /* the VM's directory */
	unsigned id;
	long pid;
	uint64_t crtime, snaptime; /* ns */
	uint64_t c[NCOLS];
};

struct sample {
	struct vcpu *v;
	size_t n, cap;
};

static const char *dir = DEFAULT_DIR;

static void usage(FILE *f)
{
	fprintf(f, "Usage: kvmstat [interval [count]]\n");
}

static void help(void)
{
	usage(stdout);
	printf("\n"
	       "Displays statistics for running virtual machines on xkvm, one "
	       "line per\n"
	       "virtual CPU.  All statistics are reported as per-second "
	       "rates.\n"
	       "\n"
	       "The columns are as follows:\n"
	       "\n"
	       "  pid    =>  identifier of process controlling the virtual "
	       "CPU\n"
	       "  vcpu   =>  virtual CPU identifier relative to its virtual "
	       "machine\n"
	       "  exits  =>  virtual machine exits for the virtual CPU\n"
	       "  haltx  =>  virtual machine exits due to the HLT "
	       "instruction\n"
	       "  irqx   =>  virtual machine exits due to a pending external "
	       "interrupt\n"
	       "  irqwx  =>  virtual machine exits due to an open interrupt "
	       "window\n"
	       "  iox    =>  virtual machine exits due to an I/O "
	       "instruction\n"
	       "  mmiox  =>  virtual machine exits due to memory mapped I/O\n"
	       "  irqs   =>  interrupts injected into the virtual CPU\n"
	       "  emul   =>  instructions emulated in the kernel\n"
	       "  eptv   =>  extended page table violations (on AMD: nested "
	       "page faults)\n");
}

/* The number in file dir/sub/name; -1 if it cannot be read. */
static int read_u64(const char *vm, const char *sub, const char *name,
		    uint64_t *out)
{
	char path[PATH_MAX];
	unsigned long long val;
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s/%s/%s", dir, vm, sub, name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	ok = fscanf(f, "%llu", &val) == 1;
	fclose(f);
	if (!ok)
		return -1;
	*out = val;
	return 0;
}

static void add(struct sample *s, const struct vcpu *v)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (!s->v) {
			perror("kvmstat");
			exit(1);
		}
	}
	s->v[s->n++] = *v;
}

/* One vCPU; a VM or vCPU that vanishes while being read is skipped. */
static void take_vcpu(struct sample *s, const char *vm, const char *sub)
{
	struct vcpu v;
	uint64_t pid, before;
	int i;

	memset(&v, 0, sizeof(v));
	snprintf(v.vm, sizeof(v.vm), "%s", vm);
	if (sscanf(sub, "vcpu%u", &v.id) != 1)
		return;
	/* the counters are read one file at a time: their time is the
	 * middle of the snapshot times read before and after them */
	if (read_u64(vm, sub, "snaptime", &before))
		return;
	for (i = 0; i < NCOLS; i++)
		if (read_u64(vm, sub, files[i], &v.c[i]))
			return;
	if (read_u64(vm, sub, "pid", &pid) ||
	    read_u64(vm, sub, "crtime", &v.crtime) ||
	    read_u64(vm, sub, "snaptime", &v.snaptime))
		return;
	v.snaptime = before + (v.snaptime - before) / 2;
	v.pid = (long)pid;
	add(s, &v);
}

static int by_pid_vcpu(const void *a, const void *b)
{
	const struct vcpu *x = a, *y = b;
	int c;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	c = strcmp(x->vm, y->vm);
	if (c)
		return c;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int take(struct sample *s)
{
	char path[PATH_MAX];
	struct dirent *e, *ve;
	DIR *d, *vd;

	s->n = 0;
	d = opendir(dir);
	if (!d)
		return -1;
	// cppcheck-suppress readdirCalled ; single-threaded
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		vd = opendir(path); /* the counters at the top are files */
		if (!vd)
			continue;
		// cppcheck-suppress readdirCalled
		while ((ve = readdir(vd)))
			if (!strncmp(ve->d_name, "vcpu", 4))
				take_vcpu(s, e->d_name, ve->d_name);
		closedir(vd);
	}
	closedir(d);
	qsort(s->v, s->n, sizeof(*s->v), by_pid_vcpu);
	return 0;
}

static const struct vcpu *find(const struct sample *s, const struct vcpu *v)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i].id == v->id && s->v[i].crtime == v->crtime &&
		    !strcmp(s->v[i].vm, v->vm))
			return &s->v[i];
	return NULL;
}

static void report(const struct sample *old, const struct sample *cur)
{
	size_t i;
	int k;

	printf("%5s %4s | %6s : %6s %6s %6s %6s %6s | %6s %6s %6s\n", "pid",
	       "vcpu", "exits", "haltx", "irqx", "irqwx", "iox", "mmiox",
	       "irqs", "emul", "eptv");
	for (i = 0; i < cur->n; i++) {
		const struct vcpu *v = &cur->v[i], *p = find(old, v);
		uint64_t since = p ? p->snaptime : v->crtime;
		double secs = v->snaptime > since ?
				      (double)(v->snaptime - since) / 1e9 :
				      0;
		uint64_t r[NCOLS];

		for (k = 0; k < NCOLS; k++) {
			uint64_t d = v->c[k] - (p ? p->c[k] : 0);

			r[k] = secs > 0 ? (uint64_t)(d / secs + 0.5) : 0;
		}
		printf("%5ld %4u | %6llu : %6llu %6llu %6llu %6llu %6llu | "
		       "%6llu %6llu %6llu\n",
		       v->pid, v->id, (unsigned long long)r[C_EXITS],
		       (unsigned long long)r[C_HALTX],
		       (unsigned long long)r[C_IRQX],
		       (unsigned long long)r[C_IRQWX],
		       (unsigned long long)r[C_IOX],
		       (unsigned long long)r[C_MMIOX],
		       (unsigned long long)r[C_IRQS],
		       (unsigned long long)r[C_EMUL],
		       (unsigned long long)r[C_EPTV]);
	}
	fflush(stdout);
}

static long number(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v <= 0) {
		fprintf(stderr, "kvmstat: invalid number: %s\n", s);
		usage(stderr);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	struct sample a = { 0 }, b = { 0 }, t;
	long interval = 1, count = -1;
	struct timespec next;
	int opt;

	while ((opt = getopt(argc, argv, "h")) != -1) {
		if (opt == 'h') {
			help();
			return 0;
		}
		usage(stderr);
		return 2;
	}
	if (argc - optind > 2) {
		usage(stderr);
		return 2;
	}
	if (optind < argc)
		interval = number(argv[optind]);
	if (optind + 1 < argc)
		count = number(argv[optind + 1]);
	if (getenv("KVMSTAT_DIR"))
		dir = getenv("KVMSTAT_DIR");
	if (take(&a)) {
		fprintf(stderr, "kvmstat: cannot read %s: %s\n", dir,
			strerror(errno));
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (count < 0 || count-- > 0) {
		next.tv_sec += interval;
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next,
				       NULL) == EINTR)
			;
		if (take(&b)) {
			fprintf(stderr, "kvmstat: cannot read %s: %s\n", dir,
				strerror(errno));
			return 1;
		}
		report(&a, &b);
		t = a;
		a = b;
		b = t;
	}
	free(a.v);
	free(b.v);
	return 0;
}
