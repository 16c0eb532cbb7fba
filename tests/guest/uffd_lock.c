// SPDX-License-Identifier: GPL-2.0
/*
 * uffd_lock - a VM stuck on its VMM's memory holds up nobody else.
 *
 * Process A (this one) asks for its VM's dirty log (KVM_GET_DIRTY_LOG)
 * into a buffer registered with a userfaultfd in missing mode that nobody
 * answers: the driver's copy of the bitmap to A waits on that fault for as
 * long as A likes.  (A slot backed by such memory would not do: Linux 6.1
 * refuses a long-term pin of it at once, EFAULT, where kvm_amd would only
 * wait at the guest's first touch.)  The fault message on the userfaultfd
 * says A got there.  While A is stuck, and each within a bounded wait (a
 * watchdog: "it completed while A was still stuck" is the fact, no time
 * is measured):
 *   1. a reader reads the statistics everyone can reach: the driver's
 *      debugfs sum of "exits" (/sys/kernel/debug/xkvm or .../kvm), a file
 *      of A's own debugfs directory, and A's VM and vCPU binary statistics
 *      fds;
 *   2. process B, another user (uid and gid 65534, /dev/kvm opened to
 *      all for the test), creates a VM, gives it a memory slot, runs a
 *      vCPU to its OUT and HLT, and closes everything;
 *   3. another thread of A reads A's VM clock (KVM_GET_CLOCK).
 * Then A's fault is answered (UFFDIO_ZEROPAGE): A's KVM_GET_DIRTY_LOG
 * returns, everything is closed, and under xkvm (stderr) the held counts
 * are back where they were.  Whatever did not complete while A was stuck
 * fails the test (it completes after the answer, so the test ends).
 *
 * Which fix each part needs in xkvm: 1 and 2, the statistics readers
 * never waiting for a VM's lock under the global list lock (while readers
 * held the list lock waiting for A's vm->lock, every other user's
 * KVM_CREATE_VM and close waited too); 3, no user copy under vm->lock.
 */
#define _GNU_SOURCE
#include "kvmtest.h"
#include "sectest.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define UFFD_SIZE (16 * 4096ull)
#define B_UID 65534
#define WATCHDOG_MS 20000

/* ---- process B: another user's whole VM life ------------------------------ */

/* Its report of each step: the letter, and 0 or an errno. */
struct b_report {
	char step;
	int err;
};

static void b_say(int fd, char step, int err)
{
	struct b_report r = { step, err };

	if (write(fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
		_exit(2);
}

/* real mode at 0x8000: mov al, 0x42; out 0x10, al; hlt */
static const uint8_t b_code[] = { 0xb0, 0x42, 0xe6, 0x10, 0xf4 };

/* B's vCPU from reset to its OUT and HLT; 0 or -1. */
static int b_vcpu(int vcpu, struct kvm_run *run)
{
	struct kvm_sregs sr;
	struct kvm_regs regs;

	if (ioctl(vcpu, KVM_GET_SREGS, &sr))
		return -1;
	sr.cs.base = 0;
	sr.cs.selector = 0;
	memset(&regs, 0, sizeof(regs));
	regs.rip = 0x8000;
	regs.rflags = 2;
	if (ioctl(vcpu, KVM_SET_SREGS, &sr) || ioctl(vcpu, KVM_SET_REGS, &regs))
		return -1;
	if (ioctl(vcpu, KVM_RUN, 0) || run->exit_reason != KVM_EXIT_IO ||
	    run->io.port != 0x10 || run->io.direction != KVM_EXIT_IO_OUT ||
	    ((uint8_t *)run)[run->io.data_offset] != 0x42)
		return -1;
	if (ioctl(vcpu, KVM_RUN, 0) || run->exit_reason != KVM_EXIT_HLT)
		return -1;
	return 0;
}

/* B's whole VM; 0, or the letter of the step that failed. */
static int b_run(int kvm, int rep)
{
	struct kvm_userspace_memory_region mr;
	struct kvm_run *run;
	uint8_t *mem;
	int vm, vcpu, sz, bad;

	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return 'c';
	b_say(rep, 'c', 0);
	mem = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return 's';
	memcpy(mem + 0x8000, b_code, sizeof(b_code));
	memset(&mr, 0, sizeof(mr));
	mr.memory_size = 0x10000;
	mr.userspace_addr = (uint64_t)(uintptr_t)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &mr))
		return 's';
	b_say(rep, 's', 0);
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	sz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vcpu < 0 || sz <= 0)
		return 'r';
	run = mmap(NULL, (size_t)sz, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu,
		   0);
	if (run == MAP_FAILED)
		return 'r';
	bad = b_vcpu(vcpu, run);
	munmap(run, (size_t)sz);
	if (bad)
		return 'r';
	b_say(rep, 'r', 0);
	munmap(mem, 0x10000);
	if (close(vcpu) || close(vm) || close(kvm))
		return 'x';
	b_say(rep, 'x', 0);
	return 0;
}

/* B waits for a byte on go, then runs as another user, reporting on rep. */
static void b_main(int go, int rep)
{
	char c;
	int kvm, failed;

	if (read(go, &c, 1) != 1)
		_exit(2);
	if (setgroups(0, NULL) || setresgid(B_UID, B_UID, B_UID) ||
	    setresuid(B_UID, B_UID, B_UID)) {
		b_say(rep, 'u', errno);
		_exit(1);
	}
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		b_say(rep, 'o', errno);
		_exit(1);
	}
	failed = b_run(kvm, rep);
	if (failed)
		b_say(rep, (char)failed, errno ? errno : -1);
	_exit(failed ? 1 : 0);
}

/* ---- A's side: the stuck thread, the reader, the second vCPU ------------- */

static struct kt_vm *vm;
static struct kt_vcpu *vcpu;
static void *umem;
static int vm_sfd, vcpu_sfd;
static const char *tree;

static volatile int a_done; /* A's KVM_GET_DIRTY_LOG returned */
static volatile long a_ret;
static volatile int a_err;

static void *a_thread(void *arg)
{
	struct kvm_dirty_log d;
	long r;

	(void)arg;
	memset(&d, 0, sizeof(d));
	d.slot = 1;
	d.dirty_bitmap = umem; /* the userfaultfd's first page */
	r = ioctl(vm->fd, KVM_GET_DIRTY_LOG, &d);
	a_err = r < 0 ? errno : 0;
	a_ret = r;
	__atomic_store_n(&a_done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* What the reader did: each step's result, -1 while not there yet. */
static volatile int rd_sum = -1, rd_vmdir = -1, rd_fds = -1;

/* Read a whole binary statistics file; 0 or -1. */
static int read_stats_fd(int fd)
{
	struct kvm_stats_header h;
	char *buf;
	ssize_t n;
	size_t size;

	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		return -1;
	size = h.data_offset + (size_t)h.num_desc * 8;
	buf = malloc(size);
	KT_ASSERT(buf != NULL);
	n = pread(fd, buf, size, 0);
	free(buf);
	return n == (ssize_t)size ? 0 : -1;
}

static int read_vm_dir(void)
{
	char path[300];

	snprintf(path, sizeof(path), "%s/%d-%d/remote_tlb_flush", tree,
		 (int)getpid(), vm->fd);
	if (access(path, F_OK))
		snprintf(path, sizeof(path), "%s/%d-%d/remote-tlb-flush", tree,
			 (int)getpid(), vm->fd);
	return st_read_file(path);
}

static void *reader(void *arg)
{
	char path[300];

	(void)arg;
	snprintf(path, sizeof(path), "%s/exits", tree);
	rd_sum = st_read_file(path) ? 1 : 0;
	rd_vmdir = read_vm_dir() ? 1 : 0;
	rd_fds = read_stats_fd(vm_sfd) || read_stats_fd(vcpu_sfd) ? 1 : 0;
	return NULL;
}

static volatile int clock_done, clock_err;

static void *a_clock(void *arg)
{
	struct kvm_clock_data c;

	(void)arg;
	memset(&c, 0, sizeof(c));
	clock_err = ioctl(vm->fd, KVM_GET_CLOCK, &c) ? errno : 0;
	__atomic_store_n(&clock_done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* ---- the test ---------------------------------------------------------- */

static pid_t main_pid;
static int late; /* steps that did not complete while A was stuck */

static void verdict(const char *what, int completed, int result)
{
	if (!completed) {
		printf("%s: did not complete while A was stuck\n", what);
		late++;
		return;
	}
	printf("%s: completed while A was stuck%s\n", what,
	       result ? " (with an error)" : "");
	KT_ASSERT(!result, "%s failed", what);
}

/* B's next report, waiting until deadline_ms has passed; 0 if none. */
static int b_next(int rep, struct b_report *r, long *left_ms)
{
	struct pollfd p = { .fd = rep, .events = POLLIN };

	while (*left_ms > 0) {
		if (poll(&p, 1, 100) == 1)
			return read(rep, r, sizeof(*r)) == (ssize_t)sizeof(*r);
		*left_ms -= 100;
	}
	return 0;
}

static const char *b_step_name(char s)
{
	switch (s) {
	case 'c':
		return "B: KVM_CREATE_VM";
	case 's':
		return "B: KVM_SET_USER_MEMORY_REGION";
	case 'r':
		return "B: KVM_CREATE_VCPU, KVM_RUN to its OUT and HLT";
	default:
		return "B: closing its vCPU, VM and /dev/kvm";
	}
}

/* B's four steps, all while A is stuck (one watchdog for the lot). */
static void b_steps(int rep)
{
	static const char steps[] = "csrx";
	struct b_report r;
	long left = WATCHDOG_MS;
	int i;

	for (i = 0; steps[i]; i++) {
		if (!b_next(rep, &r, &left)) {
			for (; steps[i]; i++)
				verdict(b_step_name(steps[i]), 0, 0);
			return;
		}
		KT_ASSERT(r.step == steps[i] && r.err == 0,
			  "B: step %c failed at %c, errno %d", steps[i], r.step,
			  r.err);
		verdict(b_step_name(steps[i]), 1, 0);
	}
}

static int kvm_mode = -1; /* /dev/kvm's mode before the test */

static void restore_kvm_mode(void)
{
	if (kvm_mode >= 0 && getpid() == main_pid)
		chmod("/dev/kvm", (mode_t)kvm_mode);
}

static int make_uffd(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg;
	int fd = (int)syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		kt_skip("no userfaultfd: errno %d", errno);
	KT_ASSERT(ioctl(fd, UFFDIO_API, &api) == 0, "UFFDIO_API errno %d",
		  errno);
	umem = mmap(NULL, UFFD_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	KT_ASSERT(umem != MAP_FAILED);
	memset(&reg, 0, sizeof(reg));
	reg.range.start = (uint64_t)(uintptr_t)umem;
	reg.range.len = UFFD_SIZE;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	KT_ASSERT(ioctl(fd, UFFDIO_REGISTER, &reg) == 0,
		  "UFFDIO_REGISTER errno %d", errno);
	return fd;
}

/* The fault message that says A waits, on a non-blocking userfaultfd. */
static int a_faulted(int uffd)
{
	struct uffd_msg m;

	if (read(uffd, &m, sizeof(m)) != (ssize_t)sizeof(m))
		return 0;
	KT_ASSERT_EQ(m.event, UFFD_EVENT_PAGEFAULT);
	KT_ASSERT(m.arg.pagefault.address - (uint64_t)(uintptr_t)umem <
			  UFFD_SIZE,
		  "a fault outside the registered range");
	return 1;
}

int main(void)
{
	int go[2], rep[2], uffd, status;
	pthread_t ta, tr, tv;
	long long held0[3];
	struct uffdio_zeropage zp;
	struct stat st;
	pid_t b;

	kt_init("uffd_lock");
	st_watchdog(115);
	main_pid = getpid();
	kt_read_held(held0);
	tree = st_stats_tree();
	KT_ASSERT(tree, "no statistics tree in debugfs");
	KT_ASSERT(pipe2(go, O_CLOEXEC) == 0 && pipe2(rep, O_CLOEXEC) == 0);
	b = fork();
	KT_ASSERT(b >= 0);
	if (!b) {
		close(go[1]);
		close(rep[0]);
		b_main(go[0], rep[1]);
	}
	close(go[0]);
	close(rep[1]);

	vm = kt_vm_create();
	KT_ASSERT(kt_mem_add(vm, 1, 0x100000, 16 * 4096,
			     KVM_MEM_LOG_DIRTY_PAGES) != NULL);
	vcpu = kt_vcpu_create(vm, 0);
	vm_sfd = ioctl(vm->fd, KVM_GET_STATS_FD, 0);
	vcpu_sfd = ioctl(vcpu->fd, KVM_GET_STATS_FD, 0);
	KT_ASSERT(vm_sfd >= 0 && vcpu_sfd >= 0);
	uffd = make_uffd();
	printf("A: KVM_GET_DIRTY_LOG into a buffer whose pages wait on a "
	       "userfaultfd nobody answers\n");
	KT_ASSERT(pthread_create(&ta, NULL, a_thread, NULL) == 0);
	{
		struct pollfd p = { .fd = uffd, .events = POLLIN };

		KT_ASSERT(poll(&p, 1, 60000) == 1 && a_faulted(uffd),
			  "A never faulted on the userfaultfd");
	}
	printf("A is stuck in a userfaultfd fault\n");

	/* 1. the statistics */
	KT_ASSERT(pthread_create(&tr, NULL, reader, NULL) == 0);
	ST_WAIT(rd_fds >= 0, WATCHDOG_MS);
	verdict("reader: debugfs sum of exits", rd_sum >= 0, rd_sum);
	verdict("reader: a file of A's debugfs directory", rd_vmdir >= 0,
		rd_vmdir);
	verdict("reader: A's VM and vCPU statistics fds", rd_fds >= 0, rd_fds);

	/* 2. another user's VM, from creation to close */
	KT_ASSERT(stat("/dev/kvm", &st) == 0);
	kvm_mode = (int)(st.st_mode & 07777);
	atexit(restore_kvm_mode);
	KT_ASSERT(chmod("/dev/kvm", 0666) == 0);
	KT_ASSERT(write(go[1], "g", 1) == 1);
	b_steps(rep[0]);

	/* 3. A's own VM */
	KT_ASSERT(pthread_create(&tv, NULL, a_clock, NULL) == 0);
	ST_WAIT(clock_done, WATCHDOG_MS);
	verdict("A: KVM_GET_CLOCK of its VM from another thread", clock_done,
		clock_err);

	printf("A still stuck after all of that: %s\n", a_done ? "no" : "yes");
	KT_ASSERT(!a_done);

	memset(&zp, 0, sizeof(zp));
	zp.range.start = (uint64_t)(uintptr_t)umem;
	zp.range.len = UFFD_SIZE;
	KT_ASSERT(ioctl(uffd, UFFDIO_ZEROPAGE, &zp) == 0,
		  "UFFDIO_ZEROPAGE errno %d", errno);
	printf("A's fault answered (UFFDIO_ZEROPAGE)\n");
	KT_ASSERT(ST_WAIT(a_done, 60000), "A did not go on");
	pthread_join(ta, NULL);
	printf("A's KVM_GET_DIRTY_LOG returned %ld, bitmap 0x%llx\n", a_ret,
	       (unsigned long long)*(volatile uint64_t *)umem);
	KT_ASSERT(a_ret == 0, "errno %d", a_err);

	/* what waited for A (a broken driver) finishes now */
	pthread_join(tr, NULL);
	pthread_join(tv, NULL);
	KT_ASSERT(!clock_err, "KVM_GET_CLOCK errno %d", clock_err);
	KT_ASSERT(waitpid(b, &status, 0) == b);
	restore_kvm_mode();
	KT_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "B ended with status 0x%x", status);

	close(vm_sfd);
	close(vcpu_sfd);
	munmap(vcpu->run, (size_t)vm->run_size);
	close(vcpu->fd);
	close(vm->fd);
	close(vm->kvm_fd);
	close(uffd);
	munmap(umem, UFFD_SIZE);
	st_held_back(held0, "everything closed");
	if (late)
		kt_fail(__FILE__, __LINE__,
			"%d of the steps did not complete while A was stuck on "
			"its userfaultfd",
			late);
	kt_pass();
}
