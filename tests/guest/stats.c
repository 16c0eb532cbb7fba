// SPDX-License-Identifier: GPL-2.0
/*
 * stats - xkvm's statistics: the binary statistics fd (KVM_GET_STATS_FD),
 * the debugfs tree /sys/kernel/debug/xkvm and kvmstat agree with what the
 * guest did.
 *
 * xkvm only: it needs the tree (and /bin/kvmstat) and skips (77) where there
 * is none, as under kvm_amd.  Nothing on stdout depends on timing.
 *
 * The guest loops: one OUT to port 0x80, one MOV to an address no slot
 * covers (an MMIO exit), one HLT, until the host sets a flag in guest
 * memory.  The host checks every exit and counts them.
 *  1. After WARMUP loops, with the vCPU outside the guest (at a HLT exit):
 *     every counter of the vCPU and of the VM reads the same in the binary
 *     file and in the tree, io/mmio/halt exits equal the host's counts
 *     (insn-emulation equals the MMIO count: only those ran the emulator),
 *     the tree's top-level sums equal the only VM's values, the id strings and
 *     directory names are right (kvm-<pid>/vcpu-0, <pid>-<vm fd>/vcpu0).
 *  2. A thread drives the guest at RATE loops a second (it waits at each
 *     HLT exit until the next tick of an absolute schedule), while
 *     `kvmstat 2 4` runs: in each of its reports but the first (which
 *     covers kvmstat's own start, a burst of work in the box that delays
 *     the pacing thread), the line of this process's vCPU 0 shows iox,
 *     mmiox and haltx within 10 % of RATE (the one timing assertion, which
 *     the issue asks for).  Two-second intervals halve the error of a
 *     window edge falling between two ticks.
 *  3. The guest stops, the counts are checked exactly again; `kvmstat -h`
 *     explains every column of kvmstat's header.
 *  4. Teardown: with the VM and vCPU files closed, the binary stats file
 *     still holds the VM (its directory stays); once it is closed the
 *     directory goes away, and a tree file opened before fails to read
 *     (no crash, no stale data).
 */
#include "kvmtest.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HOLE 0xd0000000ull
#define PORT 0x80
#define WARMUP 10
#define RATE 100 /* guest loops a second in step 2 */
#define TREE "/sys/kernel/debug/xkvm"

static volatile uint32_t stop_flag;

static void guest_main(void)
{
	uint32_t i = 0;

	for (;;) {
		outb(PORT, (uint8_t)i);
		__asm__ volatile("movl %0, (%1)"
				 :
				 : "r"(i), "r"(HOLE)
				 : "memory");
		__asm__ volatile("hlt" ::: "memory");
		i++;
		if (stop_flag)
			break;
	}
	GUEST_SYNC(1, i, 0);
	GUEST_DONE();
	guest_hlt_forever();
}

/* ---- host ---------------------------------------------------------- */

static struct kt_vcpu *vcpu;
static uint64_t n_io, n_mmio, n_hlt, loops; /* counted by the host */

/* One guest loop: OUT, MMIO write, HLT, each exit checked. */
static void one_loop(void)
{
	struct kvm_run *run = vcpu->run;
	uint32_t r, d = 0;

	r = kt_run_raw(vcpu);
	kt_check_io(vcpu, PORT, 1, KVM_EXIT_IO_OUT, 1);
	KT_ASSERT_EQ(*((uint8_t *)run + run->io.data_offset), (uint8_t)loops);
	n_io++;
	r = kt_run_raw(vcpu);
	KT_ASSERT(r == KVM_EXIT_MMIO, "got %s", kt_exit_name(r));
	KT_ASSERT_EQ(run->mmio.phys_addr, HOLE);
	KT_ASSERT_EQ(run->mmio.len, 4);
	KT_ASSERT_EQ(run->mmio.is_write, 1);
	memcpy(&d, run->mmio.data, 4);
	KT_ASSERT_EQ(d, (uint32_t)loops);
	n_mmio++;
	r = kt_run_raw(vcpu);
	KT_ASSERT(r == KVM_EXIT_HLT, "got %s", kt_exit_name(r));
	n_hlt++;
	loops++;
}

/* ---- the binary statistics file ---- */

struct bin {
	struct kvm_stats_header h;
	char id[256];
	int n;
	char names[64][64];
	uint32_t flags[64];
	uint64_t vals[64];
};

static void bin_read(int fd, struct bin *b)
{
	size_t dsz;
	char *descs;
	int i;

	memset(b, 0, sizeof(*b));
	KT_ASSERT(pread(fd, &b->h, sizeof(b->h), 0) == sizeof(b->h));
	KT_ASSERT(b->h.name_size < sizeof(b->id) && b->h.num_desc <= 64);
	KT_ASSERT(pread(fd, b->id, b->h.name_size, b->h.id_offset) ==
		  (ssize_t)b->h.name_size);
	dsz = sizeof(struct kvm_stats_desc) + b->h.name_size;
	descs = calloc(b->h.num_desc, dsz);
	KT_ASSERT(descs);
	KT_ASSERT(pread(fd, descs, dsz * b->h.num_desc, b->h.desc_offset) ==
		  (ssize_t)(dsz * b->h.num_desc));
	b->n = b->h.num_desc;
	for (i = 0; i < b->n; i++) {
		struct kvm_stats_desc *d = (void *)(descs + i * dsz);

		KT_ASSERT_EQ(d->size, 1);
		snprintf(b->names[i], sizeof(b->names[i]), "%s", d->name);
		b->flags[i] = d->flags;
		KT_ASSERT(pread(fd, &b->vals[i], 8,
				b->h.data_offset + d->offset) == 8);
	}
	free(descs);
}

static uint64_t bin_val(const struct bin *b, const char *name)
{
	int i;

	for (i = 0; i < b->n; i++)
		if (!strcmp(b->names[i], name))
			return b->vals[i];
	kt_fail(__FILE__, __LINE__, "no statistic %s in %s", name, b->id);
}

/* ---- the tree ---- */

static int tree_read(const char *path, uint64_t *val)
{
	unsigned long long v;
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -1;
	ok = fscanf(f, "%llu", &v) == 1;
	fclose(f);
	*val = v;
	return ok ? 0 : -1;
}

/* Every statistic of b equals its tree file in dir (the '-' name). */
static void compare(const struct bin *b, const char *dir)
{
	char path[512], name[64];
	uint64_t v;
	int i, k;

	for (i = 0; i < b->n; i++) {
		if (!strcmp(b->names[i], "snaptime"))
			continue;
		for (k = 0; b->names[i][k]; k++)
			name[k] = b->names[i][k] == '_' ? '-' : b->names[i][k];
		name[k] = 0;
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		KT_ASSERT(tree_read(path, &v) == 0, "cannot read %s", path);
		KT_ASSERT(v == b->vals[i], "%s: tree %llu, stats fd %llu", path,
			  (unsigned long long)v,
			  (unsigned long long)b->vals[i]);
	}
}

static int vm_stats_fd, vcpu_stats_fd;
static char vm_dir[256], vcpu_dir[300];

/* The checks at a quiescent moment (the vCPU is at an exit). */
static void quiescent_check(const char *when)
{
	struct bin vb, mb;
	char path[400], id[64];
	uint64_t sum;

	bin_read(vcpu_stats_fd, &vb);
	bin_read(vm_stats_fd, &mb);
	snprintf(id, sizeof(id), "kvm-%d/vcpu-0", (int)getpid());
	KT_ASSERT(!strcmp(vb.id, id), "vCPU id string %s", vb.id);
	snprintf(id, sizeof(id), "kvm-%d", (int)getpid());
	KT_ASSERT(!strcmp(mb.id, id), "VM id string %s", mb.id);
	KT_ASSERT_EQ(bin_val(&vb, "io_exits"), n_io);
	KT_ASSERT_EQ(bin_val(&vb, "mmio_exits"), n_mmio);
	KT_ASSERT_EQ(bin_val(&vb, "halt_exits"), n_hlt);
	KT_ASSERT(bin_val(&vb, "exits") >= n_io + n_mmio + n_hlt);
	/* each MMIO write exit is a nested page fault */
	KT_ASSERT(bin_val(&vb, "npt_violations") >= n_mmio);
	/* the emulator ran for the MMIO writes only (OUT, HLT: no) */
	KT_ASSERT_EQ(bin_val(&vb, "insn_emulation"), n_mmio);
	KT_ASSERT_EQ(bin_val(&vb, "id"), 0);
	KT_ASSERT_EQ(bin_val(&vb, "pid"), getpid());
	KT_ASSERT_EQ(bin_val(&mb, "pid"), getpid());
	KT_ASSERT_EQ(bin_val(&mb, "vcpus"), 1);
	KT_ASSERT_EQ(bin_val(&mb, "memory"), KT_MAIN_SIZE);
	compare(&vb, vcpu_dir);
	compare(&mb, vm_dir);
	/* the top of the tree sums over the live VMs: this one only */
	KT_ASSERT(tree_read(TREE "/io-exits", &sum) == 0);
	KT_ASSERT_EQ(sum, n_io);
	KT_ASSERT(tree_read(TREE "/halt-exits", &sum) == 0);
	KT_ASSERT_EQ(sum, n_hlt);
	KT_ASSERT(tree_read(TREE "/mmio-exits", &sum) == 0);
	KT_ASSERT_EQ(sum, n_mmio);
	snprintf(path, sizeof(path), TREE "/remote-tlb-flush");
	KT_ASSERT(tree_read(path, &sum) == 0);
	KT_ASSERT_EQ(sum, bin_val(&mb, "remote_tlb_flush"));
	printf("%s: io-exits %llu, mmio-exits %llu, halt-exits %llu: the "
	       "stats fd, the tree and the host's counts agree\n",
	       when, (unsigned long long)n_io, (unsigned long long)n_mmio,
	       (unsigned long long)n_hlt);
}

/* ---- step 2: the paced guest and kvmstat ---- */

static volatile int pacing_done;

static void *pace(void *arg)
{
	struct timespec t;
	uint64_t k = 0;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &t);
	while (!pacing_done) {
		one_loop();
		/* the next loop starts at tick k: RATE ticks a second */
		k++;
		t.tv_nsec += 1000000000L / RATE;
		if (t.tv_nsec >= 1000000000L) {
			t.tv_nsec -= 1000000000L;
			t.tv_sec++;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t,
				       NULL) == EINTR)
			;
	}
	return (void *)(uintptr_t)k;
}

static int within(uint64_t v)
{
	return v * 10 >= RATE * 9 && v * 10 <= RATE * 11;
}

static void run_kvmstat(char *header, size_t hsz)
{
	char line[256];
	int reports = 0, mine = 0, bad = 0;
	FILE *p = popen("kvmstat 2 4", "r");

	KT_ASSERT(p, "cannot run kvmstat");
	while (fgets(line, sizeof(line), p)) {
		long pid;
		unsigned id;
		unsigned long long ex, hx, iqx, iwx, iox, mx, irqs, emul, eptv;

		fprintf(stderr, "kvmstat: %s", line);
		if (strstr(line, "pid vcpu")) {
			reports++;
			snprintf(header, hsz, "%s", line);
			continue;
		}
		if (sscanf(line,
			   "%ld %u | %llu : %llu %llu %llu %llu %llu | %llu "
			   "%llu %llu",
			   &pid, &id, &ex, &hx, &iqx, &iwx, &iox, &mx, &irqs,
			   &emul, &eptv) != 11) {
			kt_fail(__FILE__, __LINE__, "kvmstat line: %s", line);
		}
		if (pid != getpid() || id != 0)
			continue;
		if (mine++ == 0)
			continue; /* kvmstat's start: see the theory */
		if (!within(iox) || !within(mx) || !within(hx)) {
			fprintf(stderr,
				"kvmstat: iox %llu mmiox %llu haltx %llu, "
				"want %d +- 10 %%\n",
				iox, mx, hx, RATE);
			bad++;
		}
	}
	KT_ASSERT(pclose(p) == 0, "kvmstat failed");
	KT_ASSERT_EQ(reports, 4);
	KT_ASSERT_EQ(mine, 4);
	KT_ASSERT(bad == 0,
		  "kvmstat's rates are not within 10 %% of %d a "
		  "second (see stderr)",
		  RATE);
	printf("kvmstat 2 4: four reports, iox, mmiox and haltx of vcpu 0 "
	       "within 10 %% of the guest's paced rate in the last three\n");
}

/* Every column of the header is explained by kvmstat -h. */
static void check_help(const char *header)
{
	char help[4096], col[32], want[40];
	const char *p = header;
	size_t n;
	int cols = 0, k;
	FILE *f = popen("kvmstat -h", "r");

	KT_ASSERT(f);
	n = fread(help, 1, sizeof(help) - 1, f);
	help[n] = 0;
	KT_ASSERT(pclose(f) == 0);
	while (*p) {
		while (*p == ' ' || *p == '|' || *p == ':' || *p == '\n')
			p++;
		if (!*p)
			break;
		for (k = 0; *p && *p != ' ' && *p != '\n' && k < 31; k++)
			col[k] = *p++;
		col[k] = 0;
		snprintf(want, sizeof(want), "\n  %-6s =>", col);
		KT_ASSERT(strstr(help, want), "kvmstat -h does not explain %s",
			  col);
		cols++;
	}
	KT_ASSERT_EQ(cols, 11);
	printf("kvmstat -h explains all %d columns of its header\n", cols);
}

int main(void)
{
	struct kt_ucall uc;
	char header[256] = "";
	struct stat st;
	pthread_t th;
	void *ticks;
	uint64_t v;
	int i, tree_fd;

	kt_init("stats");
	if (access(TREE, F_OK))
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	if (access(TREE, F_OK))
		kt_skip("no %s (the driver is not xkvm)", TREE);
	if (access("/bin/kvmstat", X_OK))
		kt_skip("no /bin/kvmstat");
	vcpu = kt_create_default();
	KT_ASSERT_EQ(ioctl(vcpu->vm->fd, KVM_CHECK_EXTENSION,
			   KVM_CAP_BINARY_STATS_FD),
		     1);
	kt_setup_long(vcpu, (uint64_t)(uintptr_t)guest_main, KT_STACK_ENTRY);
	vm_stats_fd = ioctl(vcpu->vm->fd, KVM_GET_STATS_FD, 0);
	vcpu_stats_fd = ioctl(vcpu->fd, KVM_GET_STATS_FD, 0);
	KT_ASSERT(vm_stats_fd >= 0 && vcpu_stats_fd >= 0);
	snprintf(vm_dir, sizeof(vm_dir), TREE "/%d-%d", (int)getpid(),
		 vcpu->vm->fd);
	snprintf(vcpu_dir, sizeof(vcpu_dir), "%s/vcpu0", vm_dir);
	KT_ASSERT(stat(vcpu_dir, &st) == 0 && S_ISDIR(st.st_mode),
		  "no directory %s", vcpu_dir);
	KT_ASSERT((st.st_mode & 0777) == 0500);
	printf("tree: <pid>-<vm fd>/vcpu0 present, mode 0500\n");

	/* 1 */
	for (i = 0; i < WARMUP; i++)
		one_loop();
	quiescent_check("after the warm-up");

	/* 2 */
	KT_ASSERT(pthread_create(&th, NULL, pace, NULL) == 0);
	sleep(1);
	run_kvmstat(header, sizeof(header));
	pacing_done = 1;
	pthread_join(th, &ticks);
	fprintf(stderr, "paced loops: %llu\n",
		(unsigned long long)(uintptr_t)ticks);
	quiescent_check("after the paced run");

	/* 3 */
	*KT_GUEST_VAR(vcpu->vm, stop_flag) = 1; /* seen after the HLT */
	kt_expect_sync(vcpu, 1, &uc);
	KT_ASSERT_EQ(uc.args[1], loops);
	n_io++; /* the ucall is a port write too */
	kt_expect_done(vcpu);
	n_io++;
	quiescent_check("after the guest stopped");
	check_help(header);

	/* 4 */
	{
		char path[400];

		snprintf(path, sizeof(path), "%s/io-exits", vcpu_dir);
		tree_fd = open(path, O_RDONLY);
		KT_ASSERT(tree_fd >= 0);
	}
	munmap(vcpu->run, vcpu->vm->run_size);
	close(vcpu->fd);
	close(vcpu->vm->fd);
	KT_ASSERT(stat(vcpu_dir, &st) == 0,
		  "the stats fd no longer holds the VM");
	KT_ASSERT(pread(vcpu_stats_fd, &v, 8, 0) == 8);
	close(vm_stats_fd);
	close(vcpu_stats_fd);
	KT_ASSERT(stat(vm_dir, &st) == -1 && errno == ENOENT,
		  "%s still there after the VM was destroyed", vm_dir);
	{
		char buf[32];

		KT_ASSERT(read(tree_fd, buf, sizeof(buf)) < 0,
			  "a file of a destroyed VM still reads");
	}
	close(tree_fd);
	KT_ASSERT(tree_read(TREE "/io-exits", &v) == 0);
	KT_ASSERT_EQ(v, 0);
	printf("teardown: the directory goes with the VM, a file kept open "
	       "fails to read, the sums are 0\n");
	kt_pass();
}
