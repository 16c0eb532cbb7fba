// SPDX-License-Identifier: GPL-2.0
/*
 * mem_limits - what a local user can make the driver hold, and how long it
 * holds locks, stays bounded (issue 10, defect 6).
 *
 *  - A 1 TiB slot (a MAP_NORESERVE mapping) fails cleanly or is taken:
 *    kvm_amd takes it (it pins nothing), a driver that pins answers
 *    ENOMEM; no warning in the kernel log either way (before the fix
 *    xkvm's page array overflowed kvcalloc's INT_MAX and the kernel
 *    WARNed, a panic where panic_on_warn is set).  The test reads
 *    /dev/kmsg around each part and fails on a WARNING, BUG or trace.
 *  - An unprivileged VMM (a uid and gid of its own, in the group that
 *    /dev/kvm is given to for the test, RLIMIT_MEMLOCK 1 MiB, no
 *    CAP_IPC_LOCK): under xkvm, which pins, a 256 KiB slot is charged to
 *    its locked_vm (VmLck) and a 2 MiB slot is ENOMEM; the charge goes
 *    when the slot goes, also when another process frees the VM, and
 *    also when that happens after the VMM that pinned has exited.  kvm_amd pins nothing and
 *    takes both slots: those facts go to stderr, the transcript only says
 *    what both drivers agree on.
 *  - 100,000 create/delete cycles of a slot at fresh gpas (a new 2 MiB
 *    region each time, a new 1 GiB region every 512, alternating 512 GiB
 *    halves): xkvm's held pages (nested table pages) come back to where
 *    they were (2,000 cycles under kvm_amd, whose every slot update waits
 *    for an SRCU grace period).
 *  - The biggest slot the 2 GiB box holds comfortably, 1.25 GiB (327,680
 *    pages, all pinned by xkvm), logging dirty pages: the guest writes
 *    every 16th page, the log says exactly those, again after more
 *    writes, with logging off and on, then the slot goes.  Each of these
 *    walks every page in the kernel; box/kernel-log catches a soft lockup.
 */
#define _GNU_SOURCE
#include "kvmtest.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096ull
#define TIB (1ull << 40)
#define BIG_GPA (4ull << 30)
#define BIG_SIZE (1280ull << 20)
#define BIG_PAGES (BIG_SIZE / PG)
#define STRIDE 16
#define KVM_GID 4242 /* the test's kvm group and user */
#define USER_UID 4243
#define MEMLOCK (1ull << 20)

/* ---- guest: strided writes, one read ---- */

static volatile struct {
	uint64_t addr, count, stride, val;
} cmd;

static void guest_main(void)
{
	for (;;) {
		uint64_t i, r = 0;

		if (!cmd.count)
			GUEST_DONE();
		for (i = 0; i < cmd.count; i++)
			*(volatile uint8_t *)(uintptr_t)(cmd.addr +
							 i * cmd.stride) =
				(uint8_t)cmd.val;
		if (cmd.stride == 0)
			r = *(volatile uint8_t *)(uintptr_t)cmd.addr;
		GUEST_SYNC(1, r, 0);
	}
}

/* ---- host ---- */

static int xkvm; /* the driver is xkvm (it publishes its held counts) */

static void fail(const char *fmt, const char *arg)
{
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	kt_fail(__FILE__, __LINE__, "%s", "see stderr");
}

static int region(int vmfd, uint32_t slot, uint32_t flags, uint64_t gpa,
		  uint64_t size, void *hva)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)hva,
	};

	return ioctl(vmfd, KVM_SET_USER_MEMORY_REGION, &r) < 0 ? errno : 0;
}

static void *anon(uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	KT_ASSERT(p != MAP_FAILED, "mmap of %llu bytes",
		  (unsigned long long)size);
	return p;
}

/* ---- the kernel log ---- */

static int kmsg = -1;

static void kmsg_mark(void)
{
	if (kmsg < 0)
		kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (kmsg >= 0)
		lseek(kmsg, 0, SEEK_END);
}

/* Fail on trouble the kernel logged since kmsg_mark(). */
static void kmsg_check(const char *part)
{
	static const char *const bad[] = { "WARNING:", "BUG:", "Call Trace",
					   "soft lockup", "invariant failed" };
	char rec[2048];
	ssize_t n;
	int trouble = 0;

	if (kmsg < 0)
		return;
	while ((n = read(kmsg, rec, sizeof(rec) - 1)) > 0 || errno == EPIPE) {
		if (n <= 0)
			continue; /* records overwritten meanwhile */
		rec[n] = 0;
		for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			if (strstr(rec, bad[i])) {
				fprintf(stderr, "kernel: %s", rec);
				trouble = 1;
			}
	}
	if (trouble)
		fail("the kernel logged trouble during: %s", part);
	printf("%s: nothing in the kernel log\n", part);
}

static long long held_pinned(void)
{
	long long h[3] = { 0, 0, 0 };

	return kt_read_held(h) ? h[2] : 0;
}

static long long held_pages(void)
{
	long long h[3] = { 0, 0, 0 };

	return kt_read_held(h) ? h[1] : 0;
}

/* ---- 1 TiB ---- */

static void one_tib(int kvm)
{
	void *p = anon(TIB);
	long long pin0 = held_pinned();
	int r, vmfd = (int)KT_IOCTL(kvm, KVM_CREATE_VM, (void *)0);

	kmsg_mark();
	r = region(vmfd, 5, 0, 0, TIB, p);
	fprintf(stderr, "1 TiB slot at gpa 0: %s\n", r ? strerror(r) : "ok");
	if (r && r != ENOMEM)
		fail("1 TiB slot: %s, not ENOMEM", strerror(r));
	if (xkvm && !r)
		fail("1 TiB slot: %s (xkvm pins: it cannot)", "accepted");
	if (!r)
		KT_ASSERT_EQ(region(vmfd, 5, 0, 0, 0, p), 0);
	KT_ASSERT_EQ(held_pinned(), pin0);
	close(vmfd);
	munmap(p, TIB);
	printf("1 TiB slot: taken (no pinning) or refused with ENOMEM\n");
	kmsg_check("1 TiB slot");
}

/* ---- an unprivileged VMM and RLIMIT_MEMLOCK ---- */

static long vmlck_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	KT_ASSERT(f != NULL);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* In a child: a check that failed ends it with status 1. */
#define CHILD_CHECK(c, ...)                                              \
	do {                                                             \
		if (!(c)) {                                              \
			fprintf(stderr, "mem_limits: %s:%d: ", __FILE__, \
				__LINE__);                               \
			fprintf(stderr, __VA_ARGS__);                    \
			fputc('\n', stderr);                             \
			_exit(1);                                        \
		}                                                        \
	} while (0)

static void child_wait(pid_t pid, const char *who)
{
	int st;

	KT_ASSERT(waitpid(pid, &st, 0) == pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		fail("the %s failed (see above)", who);
}

/* Wait for one byte (or EOF) on fd. */
static void await(int fd)
{
	char c;

	(void)!read(fd, &c, 1);
}

static void signal_fd(int fd)
{
	(void)!write(fd, "x", 1);
}

static void unprivileged_vmm(void)
{
	int kvm, vmfd, to_b[2], to_a[2];
	long lck0, lck;
	uint8_t *small, *large;
	pid_t b;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	CHILD_CHECK(kvm >= 0, "open /dev/kvm as uid %d: %s", USER_UID,
		    strerror(errno));
	vmfd = ioctl(kvm, KVM_CREATE_VM, 0);
	CHILD_CHECK(vmfd >= 0, "KVM_CREATE_VM: %s", strerror(errno));
	small = anon(64 * PG);
	large = anon(512 * PG);
	lck0 = vmlck_kb();

	/* within the limit: charged while it lives */
	CHILD_CHECK(region(vmfd, 0, 0, 0, 64 * PG, small) == 0,
		    "a 256 KiB slot: %s", strerror(errno));
	lck = vmlck_kb();
	CHILD_CHECK(lck == lck0 + (xkvm ? 256 : 0), "VmLck %ld kB, was %ld",
		    lck, lck0);
	/* beyond it: ENOMEM where memory is pinned */
	errno = region(vmfd, 1, 0, 1ull << 20, 512 * PG, large);
	fprintf(stderr, "unprivileged, RLIMIT_MEMLOCK 1 MiB: 2 MiB slot: %s\n",
		errno ? strerror(errno) : "ok");
	CHILD_CHECK(errno == (xkvm ? ENOMEM : 0), "2 MiB slot: %s",
		    strerror(errno));
	if (!errno)
		region(vmfd, 1, 0, 1ull << 20, 0, large);
	CHILD_CHECK(vmlck_kb() == lck, "VmLck %ld kB after the refusal",
		    vmlck_kb());
	CHILD_CHECK(region(vmfd, 0, 0, 0, 0, small) == 0, "delete");
	CHILD_CHECK(vmlck_kb() == lck0,
		    "VmLck %ld kB after the delete, was %ld", vmlck_kb(), lck0);

	/*
	 * The VM freed by another process (Linux lets only the creator use
	 * a VM's ioctls, but any holder of the file may close it last):
	 * the charge leaves this process all the same.
	 */
	CHILD_CHECK(region(vmfd, 0, 0, 0, 64 * PG, small) == 0, "again");
	CHILD_CHECK(pipe(to_b) == 0 && pipe(to_a) == 0, "pipe");
	b = fork();
	CHILD_CHECK(b >= 0, "fork");
	if (b == 0) {
		close(to_b[1]);
		close(to_a[0]);
		await(to_b[0]);
		close(vmfd); /* the last reference: the VM goes here */
		signal_fd(to_a[1]);
		_exit(0);
	}
	close(to_b[0]);
	close(to_a[1]);
	close(vmfd);
	signal_fd(to_b[1]);
	await(to_a[0]);
	child_wait(b, "process that freed the VM");
	CHILD_CHECK(vmlck_kb() == lck0,
		    "VmLck %ld kB after another process freed the VM, was %ld",
		    vmlck_kb(), lck0);

	/* the pinning VMM exits first; another process frees the VM after */
	vmfd = ioctl(kvm, KVM_CREATE_VM, 0);
	CHILD_CHECK(vmfd >= 0, "KVM_CREATE_VM: %s", strerror(errno));
	CHILD_CHECK(region(vmfd, 0, 0, 0, 64 * PG, small) == 0, "again");
	CHILD_CHECK(pipe(to_b) == 0, "pipe");
	b = fork();
	CHILD_CHECK(b >= 0, "fork");
	if (b == 0) {
		close(to_b[1]);
		await(to_b[0]); /* EOF: the VMM has exited (its mm first) */
		close(vmfd);
		_exit(0);
	}
	_exit(0); /* the VMM: its mm goes, the VM stays with b */
}

static void memlock(void)
{
	struct stat st;
	struct rlimit rl = { MEMLOCK, MEMLOCK };
	long long pin0 = held_pinned();
	pid_t a, w;
	int status, n = 0;

	KT_ASSERT(stat("/dev/kvm", &st) == 0);
	KT_ASSERT(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
	KT_ASSERT(chown("/dev/kvm", 0, KVM_GID) == 0);
	KT_ASSERT(chmod("/dev/kvm", 0660) == 0);
	kmsg_mark();
	a = fork();
	KT_ASSERT(a >= 0);
	if (a == 0) {
		gid_t g = KVM_GID;

		CHILD_CHECK(setrlimit(RLIMIT_MEMLOCK, &rl) == 0, "setrlimit");
		CHILD_CHECK(setgroups(1, &g) == 0, "setgroups");
		CHILD_CHECK(setresgid(KVM_GID, KVM_GID, KVM_GID) == 0,
			    "setresgid");
		CHILD_CHECK(setresuid(USER_UID, USER_UID, USER_UID) == 0,
			    "setresuid");
		unprivileged_vmm();
	}
	/* the VMM and the process it left the VM to (reaped here) */
	while ((w = wait(&status)) > 0) {
		n++;
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			chown("/dev/kvm", st.st_uid, st.st_gid);
			chmod("/dev/kvm", st.st_mode & 07777);
			fail("an unprivileged VMM process %s", "failed");
		}
	}
	KT_ASSERT(chown("/dev/kvm", st.st_uid, st.st_gid) == 0);
	KT_ASSERT(chmod("/dev/kvm", st.st_mode & 07777) == 0);
	KT_ASSERT_EQ(n, 2);
	KT_ASSERT_EQ(held_pinned(), pin0);
	printf("unprivileged VMM with RLIMIT_MEMLOCK 1 MiB: slots created "
	       "and deleted, VMs freed by another process, also after the "
	       "VMM exited\n");
	kmsg_check("unprivileged VMM");
}

/* ---- fresh gpas ---- */

static void cycles(int vmfd)
{
	long i, n = xkvm ? 100000 : 2000;
	long long pages0 = held_pages(), peak = pages0, p;
	uint8_t *m = anon(PG);

	kmsg_mark();
	for (i = 0; i < n; i++) {
		uint64_t gpa = (uint64_t)(i & 1) << 39 |
			       (uint64_t)(i >> 1) << 21 | 1ull << 38;

		if (region(vmfd, 6, 0, gpa, PG, m) ||
		    region(vmfd, 6, 0, gpa, 0, m))
			fail("a create/delete cycle failed: %s",
			     strerror(errno));
		if (xkvm && i % 10000 == 9999) {
			p = held_pages();
			peak = p > peak ? p : peak;
		}
	}
	p = held_pages();
	fprintf(stderr,
		"%ld cycles: held pages %lld before, %lld after, "
		"%lld at most (sampled)\n",
		n, pages0, p, peak);
	if (p != pages0 || peak > pages0 + 4)
		fail("%s", "the table pages grew with the cycles");
	munmap(m, PG);
	printf("create/delete cycles at fresh gpas: the driver gave back "
	       "its table pages\n");
	kmsg_check("create/delete cycles");
}

/* ---- the big slot ---- */

static struct kt_vcpu *vcpu;

static uint64_t guest_writes(uint64_t addr, uint64_t count, uint64_t stride,
			     uint8_t val)
{
	struct kt_ucall uc;

	*KT_GUEST_VAR(vcpu->vm, cmd.addr) = addr;
	*KT_GUEST_VAR(vcpu->vm, cmd.count) = count;
	*KT_GUEST_VAR(vcpu->vm, cmd.stride) = stride;
	*KT_GUEST_VAR(vcpu->vm, cmd.val) = val;
	kt_get_ucall(vcpu, &uc);
	KT_ASSERT_EQ(uc.cmd, UC_SYNC);
	return uc.args[1];
}

static uint64_t *big_log(int vmfd)
{
	static uint64_t bm[BIG_PAGES / 64];
	struct kvm_dirty_log l;

	memset(&l, 0, sizeof(l));
	memset(bm, 0, sizeof(bm));
	l.slot = 7;
	l.dirty_bitmap = bm;
	KT_IOCTL(vmfd, KVM_GET_DIRTY_LOG, &l);
	return bm;
}

/* The log names exactly the pages first + k * stride, k < count. */
static void expect_log(int vmfd, const char *what, uint64_t first,
		       uint64_t count, uint64_t stride)
{
	uint64_t *bm = big_log(vmfd), i, n = 0;

	for (i = 0; i < BIG_PAGES; i++) {
		int want = i >= first && (i - first) % stride == 0 &&
			   (i - first) / stride < count;

		if (!!(bm[i / 64] & (1ull << (i % 64))) != want) {
			fprintf(stderr, "%s: page %llu: dirty %d\n", what,
				(unsigned long long)i, !want);
			fail("%s: the log is wrong", what);
		}
		n += want;
	}
	printf("%s: %llu dirty pages, as written\n", what,
	       (unsigned long long)n);
}

static void big_slot(int vmfd)
{
	uint8_t *m = anon(BIG_SIZE);
	uint64_t n16 = BIG_PAGES / STRIDE;
	struct kvm_run *run;

	kmsg_mark();
	KT_ASSERT_EQ(region(vmfd, 7, KVM_MEM_LOG_DIRTY_PAGES, BIG_GPA, BIG_SIZE,
			    m),
		     0);
	if (xkvm)
		fprintf(stderr, "1.25 GiB slot: %lld pages pinned\n",
			held_pinned());
	guest_writes(BIG_GPA, n16, STRIDE * PG, 0x5a);
	guest_writes(BIG_GPA + BIG_SIZE - PG, 1, PG, 0x5b);
	KT_ASSERT_EQ(m[0], 0x5a);
	KT_ASSERT_EQ(m[BIG_SIZE - PG], 0x5b);
	{
		uint64_t *bm = big_log(vmfd);
		uint64_t i, n = 0;

		for (i = 0; i < BIG_PAGES; i++)
			if (!!(bm[i / 64] & (1ull << (i % 64))) !=
			    (i % STRIDE == 0 || i == BIG_PAGES - 1))
				fail("the first log is wrong%s", "");
			else
				n += i % STRIDE == 0 || i == BIG_PAGES - 1;
		printf("1.25 GiB slot logging: %llu dirty pages, as "
		       "written\n",
		       (unsigned long long)n);
	}
	guest_writes(BIG_GPA + 3 * PG, 1000, 7 * PG, 0x5c);
	expect_log(vmfd, "after 1000 more writes", 3, 1000, 7);
	expect_log(vmfd, "after none", 0, 0, 1);
	KT_ASSERT_EQ(region(vmfd, 7, 0, BIG_GPA, BIG_SIZE, m), 0);
	guest_writes(BIG_GPA + PG, n16, STRIDE * PG, 0x5d);
	KT_ASSERT_EQ(region(vmfd, 7, KVM_MEM_LOG_DIRTY_PAGES, BIG_GPA, BIG_SIZE,
			    m),
		     0);
	guest_writes(BIG_GPA + 5 * PG, 10, 4096 * PG, 0x5e);
	expect_log(vmfd, "logging off, on, 10 writes", 5, 10, 4096);
	KT_ASSERT_EQ(region(vmfd, 7, 0, BIG_GPA, 0, m), 0);
	/* gone: a read is MMIO */
	*KT_GUEST_VAR(vcpu->vm, cmd.addr) = BIG_GPA + 8;
	*KT_GUEST_VAR(vcpu->vm, cmd.count) = 1;
	*KT_GUEST_VAR(vcpu->vm, cmd.stride) = 0;
	run = vcpu->run;
	kt_run_expect(vcpu, KVM_EXIT_MMIO);
	KT_ASSERT_EQ(run->mmio.phys_addr, BIG_GPA + 8);
	KT_ASSERT(run->mmio.is_write);
	kt_run_expect(vcpu, KVM_EXIT_MMIO);
	KT_ASSERT(!run->mmio.is_write);
	run->mmio.data[0] = 0x77;
	{
		struct kt_ucall uc;

		kt_get_ucall(vcpu, &uc);
		KT_ASSERT_EQ(uc.args[1], 0x77);
	}
	munmap(m, BIG_SIZE);
	printf("1.25 GiB slot: deleted, its gpas are MMIO\n");
	kmsg_check("1.25 GiB slot");
}

int main(void)
{
	long long h[3];

	kt_init("mem_limits");
	alarm(110); /* the box's limit is 120 s */
	xkvm = kt_read_held(h);
	vcpu = kt_create_default();
	kt_setup_long(vcpu, (uint64_t)(uintptr_t)guest_main, KT_STACK_ENTRY);
	one_tib(vcpu->vm->kvm_fd);
	memlock();
	cycles(vcpu->vm->fd);
	big_slot(vcpu->vm->fd);
	*KT_GUEST_VAR(vcpu->vm, cmd.count) = 0;
	kt_expect_done(vcpu);
	kt_pass();
}
