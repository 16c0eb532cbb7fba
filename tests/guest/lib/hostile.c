// SPDX-License-Identifier: GPL-2.0
/*
 * hostile.c - the host-side checks of hostile-guest tests: a heartbeat on
 * another CPU, KVM_RUN bounded by a signal, and the VMM thread's own CPU
 * state before and after the guest ran (see hostile.h for the theory).
 */
#define _GNU_SOURCE
#include "hostile.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MSR_IA32_SPEC_CTRL 0x48
#define MSR_IA32_XSS 0xda0

/* ---- CPUs ---------------------------------------------------------------- */

void kt_pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	KT_ASSERT(sched_setaffinity(0, sizeof(set), &set) == 0,
		  "cannot pin to CPU %d: %s", cpu, strerror(errno));
}

int kt_ncpus(void)
{
	cpu_set_t set;

	KT_ASSERT(sched_getaffinity(0, sizeof(set), &set) == 0);
	return CPU_COUNT(&set);
}

int kt_other_cpu(int cpu)
{
	cpu_set_t set;
	int i;

	KT_ASSERT(sched_getaffinity(0, sizeof(set), &set) == 0);
	for (i = 0; i < CPU_SETSIZE; i++)
		if (i != cpu && CPU_ISSET(i, &set))
			return i;
	return cpu;
}

/* ---- heartbeat ----------------------------------------------------------- */

static void *heartbeat_main(void *arg)
{
	struct kt_heartbeat *hb = arg;
	struct timespec ts = { 0, 1000 * 1000 };
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(hb->cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
	while (!hb->stop) {
		nanosleep(&ts, NULL);
		hb->beats++;
	}
	return NULL;
}

void kt_heartbeat_start(struct kt_heartbeat *hb, int cpu)
{
	memset(hb, 0, sizeof(*hb));
	hb->cpu = cpu;
	KT_ASSERT(pthread_create(&hb->thread, NULL, heartbeat_main, hb) == 0);
}

unsigned long kt_heartbeat_stop(struct kt_heartbeat *hb)
{
	hb->stop = 1;
	KT_ASSERT(pthread_join(hb->thread, NULL) == 0);
	KT_ASSERT(hb->beats > 0, "the heartbeat on CPU %d never beat", hb->cpu);
	return hb->beats;
}

/* ---- the VMM thread's CPU state ----------------------------------------- */

static void cpuid2(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}

static uint32_t rdpkru(void)
{
	uint32_t eax, edx;

	__asm__ volatile(".byte 0x0f, 0x01, 0xee" /* RDPKRU */
			 : "=a"(eax), "=d"(edx)
			 : "c"(0));
	return eax;
}

/* An MSR of one CPU through the msr driver: 1 and *val, or 0 if absent. */
static int read_msr(int cpu, uint32_t msr, uint64_t *val)
{
	char path[64];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/dev/cpu/%d/msr", cpu);
	fd = open(path, O_RDONLY);
	if (fd < 0 && errno == ENOENT) {
		/* the box keeps the module in /lib/msr (testbed/init) */
		if (system("insmod /lib/msr/msr.ko >/dev/null 2>&1") == -1)
			return 0;
		fd = open(path, O_RDONLY);
	}
	if (fd < 0)
		return 0;
	n = pread(fd, val, sizeof(*val), msr);
	close(fd);
	return n == (ssize_t)sizeof(*val); /* EIO: the CPU has no such MSR */
}

static volatile uint32_t wp_target; /* the thread's own watchpoint */

static int open_watchpoint(void)
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_BREAKPOINT;
	a.size = sizeof(a);
	a.bp_type = HW_BREAKPOINT_W;
	a.bp_addr = (uint64_t)(uintptr_t)&wp_target;
	a.bp_len = HW_BREAKPOINT_LEN_4;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	return (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
}

static uint64_t watchpoint_count(int fd)
{
	uint64_t c = 0;

	KT_ASSERT(read(fd, &c, sizeof(c)) == (ssize_t)sizeof(c),
		  "reading the watchpoint count: %s", strerror(errno));
	return c;
}

static void vmm_state_save(struct kt_vmm_state *s, int watch);

void kt_vmm_state_save(struct kt_vmm_state *s)
{
	vmm_state_save(s, 1);
}

void kt_vmm_state_save_nowatch(struct kt_vmm_state *s)
{
	vmm_state_save(s, 0);
}

static void vmm_state_save(struct kt_vmm_state *s, int watch)
{
	uint32_t r[4];

	memset(s, 0, sizeof(*s));
	s->cpu = sched_getcpu();
	KT_ASSERT(s->cpu >= 0);
	cpuid2(7, 0, r);
	s->has_pkru = !!(r[2] & (1u << 4)); /* OSPKE */
	s->has_rdpid = !!(r[2] & (1u << 22));
	cpuid2(0x80000000, 0, r);
	if (r[0] >= 0x80000001) {
		cpuid2(0x80000001, 0, r);
		s->has_rdtscp = !!(r[3] & (1u << 27));
	}
	if (s->has_pkru)
		s->pkru = rdpkru();
	if (s->has_rdtscp)
		s->tsc_aux = kt_rdtscp_aux();
	else if (s->has_rdpid)
		s->tsc_aux = (uint32_t)kt_rdpid();
	s->has_xss = read_msr(s->cpu, MSR_IA32_XSS, &s->xss);
	s->has_spec_ctrl = read_msr(s->cpu, MSR_IA32_SPEC_CTRL, &s->spec_ctrl);
	s->wp_fd = watch ? open_watchpoint() : -1;
	if (s->wp_fd >= 0) {
		wp_target++;
		s->wp_count = watchpoint_count(s->wp_fd);
		KT_ASSERT(
			s->wp_count == 1,
			"the thread's own watchpoint counted %llu writes, not 1",
			(unsigned long long)s->wp_count);
	}
}

#define STATE_EQ(what, a, b)                                                     \
	do {                                                                     \
		if ((uint64_t)(a) != (uint64_t)(b))                              \
			kt_fail(__FILE__, __LINE__,                              \
				"%s: the VMM thread's %s is 0x%llx, was 0x%llx", \
				when, what, (unsigned long long)(b),             \
				(unsigned long long)(a));                        \
	} while (0)

void kt_vmm_state_check(struct kt_vmm_state *s, const char *when)
{
	uint64_t v;
	int cpu = sched_getcpu();

	KT_ASSERT(cpu == s->cpu, "%s: the thread moved from CPU %d to %d", when,
		  s->cpu, cpu);
	if (s->has_pkru)
		STATE_EQ("PKRU", s->pkru, rdpkru());
	if (s->has_rdtscp)
		STATE_EQ("TSC_AUX (RDTSCP)", s->tsc_aux, kt_rdtscp_aux());
	if (s->has_rdpid)
		STATE_EQ("TSC_AUX (RDPID)", s->tsc_aux, (uint32_t)kt_rdpid());
	if (s->has_xss) {
		KT_ASSERT(read_msr(s->cpu, MSR_IA32_XSS, &v));
		STATE_EQ("IA32_XSS", s->xss, v);
	}
	if (s->has_spec_ctrl) {
		KT_ASSERT(read_msr(s->cpu, MSR_IA32_SPEC_CTRL, &v));
		STATE_EQ("IA32_SPEC_CTRL", s->spec_ctrl, v);
	}
	if (s->wp_fd >= 0) {
		/* DR0-3/DR7 must be the thread's again: the write must count */
		wp_target++;
		v = watchpoint_count(s->wp_fd);
		STATE_EQ("hardware watchpoint count (DR0-3, DR7)",
			 s->wp_count + 1, v);
		s->wp_count = v;
	}
}

void kt_vmm_state_release(struct kt_vmm_state *s)
{
	if (s->wp_fd >= 0)
		close(s->wp_fd);
	s->wp_fd = -1;
}

/* ---- statistics ----------------------------------------------------------- */

uint64_t kt_vcpu_stat(struct kt_vcpu *vcpu, const char *name)
{
	struct kvm_stats_header h;
	struct kvm_stats_desc *d;
	size_t dsz;
	char *descs;
	uint64_t val = 0;
	int fd, found = 0;
	uint32_t i;

	fd = ioctl(vcpu->fd, KVM_GET_STATS_FD, NULL);
	KT_ASSERT(fd >= 0, "KVM_GET_STATS_FD: %s", strerror(errno));
	KT_ASSERT(pread(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h));
	dsz = sizeof(*d) + h.name_size;
	descs = calloc(h.num_desc, dsz);
	KT_ASSERT(descs != NULL);
	KT_ASSERT(pread(fd, descs, dsz * h.num_desc, h.desc_offset) ==
		  (ssize_t)(dsz * h.num_desc));
	for (i = 0; i < h.num_desc && !found; i++) {
		d = (void *)(descs + i * dsz);
		if (strcmp(d->name, name))
			continue;
		KT_ASSERT(pread(fd, &val, 8, h.data_offset + d->offset) == 8);
		found = 1;
	}
	free(descs);
	close(fd);
	KT_ASSERT(found, "no vCPU statistic %s", name);
	return val;
}

/* ---- CPUID and MSRs ---------------------------------------------------- */

struct kvm_cpuid2 *kt_set_supported_cpuid(struct kt_vcpu *vcpu)
{
	struct kvm_cpuid2 *c;
	int n = 256;

	c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
	KT_ASSERT(c != NULL);
	c->nent = (uint32_t)n;
	KT_IOCTL(vcpu->vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c);
	KT_IOCTL(vcpu->fd, KVM_SET_CPUID2, c);
	return c;
}

int kt_cpuid_has(const struct kvm_cpuid2 *c, uint32_t leaf, uint32_t index,
		 int reg, int bit)
{
	uint32_t i, r;

	for (i = 0; i < c->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function != leaf ||
		    ((e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) &&
		     e->index != index))
			continue;
		r = reg == 0 ? e->eax :
		    reg == 1 ? e->ebx :
		    reg == 2 ? e->ecx :
			       e->edx;
		return !!(r & (1u << bit));
	}
	return 0;
}

/* One MSR through KVM_SET_MSRS (set) or KVM_GET_MSRS: 1 if taken. */
static int one_msr(struct kt_vcpu *vcpu, int set, uint32_t msr, uint64_t *val)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} m;

	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = 1;
	m.e.index = msr;
	m.e.data = *val;
	if (ioctl(vcpu->fd, set ? KVM_SET_MSRS : KVM_GET_MSRS, &m) != 1)
		return 0;
	*val = m.e.data;
	return 1;
}

int kt_set_msr(struct kt_vcpu *vcpu, uint32_t msr, uint64_t val)
{
	return one_msr(vcpu, 1, msr, &val);
}

int kt_get_msr(struct kt_vcpu *vcpu, uint32_t msr, uint64_t *val)
{
	*val = 0;
	return one_msr(vcpu, 0, msr, val);
}

/* ---- KVM_RUN bounded by a signal ---------------------------------------- */

struct alarm {
	pthread_t target;
	unsigned int ms;
	volatile int done;
};

static struct kvm_run *volatile sig_run;
static volatile sig_atomic_t sig_fired;

static void on_sigusr1(int sig)
{
	struct kvm_run *run = sig_run;

	(void)sig;
	sig_fired = 1;
	if (run)
		run->immediate_exit = 1;
}

static void *alarm_main(void *arg)
{
	struct alarm *a = arg;
	struct timespec slice = { 0, 10 * 1000 * 1000 };
	unsigned int waited = 0;

	while (!a->done && waited < a->ms) {
		nanosleep(&slice, NULL);
		waited += 10;
	}
	/* again every 10 ms until the vCPU thread saw it */
	while (!a->done) {
		pthread_kill(a->target, SIGUSR1);
		nanosleep(&slice, NULL);
	}
	return NULL;
}

unsigned long kt_run_until_signal(struct kt_vcpu *vcpu, unsigned int ms,
				  kt_exit_fn on_exit, void *arg)
{
	struct sigaction sa;
	struct alarm a = { pthread_self(), ms, 0 };
	pthread_t th;
	unsigned long n = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigusr1; /* no SA_RESTART: KVM_RUN gets EINTR */
	KT_ASSERT(sigaction(SIGUSR1, &sa, NULL) == 0);
	sig_fired = 0;
	sig_run = vcpu->run;
	KT_ASSERT(pthread_create(&th, NULL, alarm_main, &a) == 0);
	while (!sig_fired) {
		if (ioctl(vcpu->fd, KVM_RUN, NULL) < 0) {
			KT_ASSERT(errno == EINTR, "KVM_RUN: %s",
				  strerror(errno));
			break;
		}
		n++;
		if (on_exit(vcpu, arg))
			break;
	}
	a.done = 1;
	KT_ASSERT(pthread_join(th, NULL) == 0);
	sig_run = NULL;
	vcpu->run->immediate_exit = 0;
	return n;
}
