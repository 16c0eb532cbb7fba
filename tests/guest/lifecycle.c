// SPDX-License-Identifier: GPL-2.0
/*
 * lifecycle - 1,000 VM create/run/destroy cycles must give everything back.
 *
 * This is a self-check of xkvm's bookkeeping, so it runs only where the
 * driver publishes what it holds (/sys/module/xkvm/parameters/held) and
 * skips (77) under any other driver.  It was differential at first, but
 * under kvm_amd the emulated test bed froze (both box CPUs in soft lockup)
 * every time, three runs out of three, right after the first VM was made:
 * a hazard of the TCG box that TESTBED.md describes, not a result.
 *
 * Each cycle creates a VM with two memory slots and two vCPUs, runs a tiny
 * real-mode guest on each (OUT to port 0xE9, then HLT: both exits are
 * checked), and tears it down closing the files in one of four orders (VM
 * first, vCPUs first, interleaved, and with kvm_run still mapped).  Every
 * 100th cycle a child process runs a guest that exits to it without end and
 * is killed with SIGKILL in the middle of that.  At the end the box's free
 * memory must be within 2 MiB of where it was after a warm-up cycle, and
 * every count the driver publishes must be back where it was after the
 * warm-up: what remains is only what the driver allocated when it was
 * loaded (per-CPU save areas and permission maps); no VM leaves anything.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define CYCLES 1000
#define SLOT_SIZE (1UL << 20)

static void die(const char *what)
{
	printf("FAIL lifecycle: %s: %s\n", what, strerror(errno));
	exit(1);
}

static long xioctl(int fd, unsigned long cmd, unsigned long arg,
		   const char *what)
{
	long r = ioctl(fd, cmd, arg);

	if (r < 0)
		die(what);
	return r;
}

/* out 0xe9, al ('x'); hlt; jmp back to hlt */
static const uint8_t guest_code[] = { 0xb0, 'x', 0xe6, 0xe9, 0xf4, 0xeb, 0xfd };
/* 1: out 0xe9, al; jmp 1b -- exits to the VMM without end */
static const uint8_t spin_code[] = { 0xe6, 0xe9, 0xeb, 0xfc };

struct vm {
	int fd;
	int vcpu[2];
	struct kvm_run *run[2];
	uint8_t *mem;
};

static int kvm_fd;
static long run_size;

static void vm_setup(struct vm *vm, const uint8_t *code, size_t len, int nvcpus)
{
	struct kvm_userspace_memory_region r;
	int i;

	vm->fd = (int)xioctl(kvm_fd, KVM_CREATE_VM, 0, "KVM_CREATE_VM");
	vm->mem = mmap(NULL, 2 * SLOT_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (vm->mem == MAP_FAILED)
		die("mmap guest memory");
	memcpy(vm->mem, code, len);
	for (i = 0; i < 2; i++) {
		r.slot = i;
		r.flags = 0;
		r.guest_phys_addr = i * SLOT_SIZE;
		r.memory_size = SLOT_SIZE;
		r.userspace_addr =
			(uint64_t)(uintptr_t)(vm->mem + i * SLOT_SIZE);
		xioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, (unsigned long)&r,
		       "KVM_SET_USER_MEMORY_REGION");
	}
	for (i = 0; i < nvcpus; i++) {
		struct kvm_sregs s;
		struct kvm_regs regs;

		vm->vcpu[i] = (int)xioctl(vm->fd, KVM_CREATE_VCPU, i,
					  "KVM_CREATE_VCPU");
		vm->run[i] = mmap(NULL, run_size, PROT_READ | PROT_WRITE,
				  MAP_SHARED, vm->vcpu[i], 0);
		if (vm->run[i] == MAP_FAILED)
			die("mmap kvm_run");
		xioctl(vm->vcpu[i], KVM_GET_SREGS, (unsigned long)&s,
		       "KVM_GET_SREGS");
		s.cs.base = 0;
		s.cs.selector = 0;
		xioctl(vm->vcpu[i], KVM_SET_SREGS, (unsigned long)&s,
		       "KVM_SET_SREGS");
		memset(&regs, 0, sizeof(regs));
		regs.rip = 0;
		regs.rflags = 2;
		xioctl(vm->vcpu[i], KVM_SET_REGS, (unsigned long)&regs,
		       "KVM_SET_REGS");
	}
}

static void run_guest(struct vm *vm, int i)
{
	struct kvm_run *run = vm->run[i];

	xioctl(vm->vcpu[i], KVM_RUN, 0, "KVM_RUN");
	if (run->exit_reason != KVM_EXIT_IO || run->io.port != 0xe9 ||
	    run->io.direction != KVM_EXIT_IO_OUT || run->io.size != 1 ||
	    ((uint8_t *)run)[run->io.data_offset] != 'x') {
		printf("FAIL lifecycle: expected OUT 'x' to 0xe9, got exit %u\n",
		       run->exit_reason);
		exit(1);
	}
	xioctl(vm->vcpu[i], KVM_RUN, 0, "KVM_RUN");
	if (run->exit_reason != KVM_EXIT_HLT) {
		printf("FAIL lifecycle: expected HLT, got exit %u\n",
		       run->exit_reason);
		exit(1);
	}
}

static void vm_teardown(struct vm *vm, int order)
{
	switch (order) {
	case 0: /* the VM file first */
		close(vm->fd);
		munmap(vm->run[0], run_size);
		munmap(vm->run[1], run_size);
		close(vm->vcpu[0]);
		close(vm->vcpu[1]);
		break;
	case 1: /* vCPUs first */
		munmap(vm->run[0], run_size);
		munmap(vm->run[1], run_size);
		close(vm->vcpu[1]);
		close(vm->vcpu[0]);
		close(vm->fd);
		break;
	case 2: /* interleaved */
		close(vm->vcpu[0]);
		close(vm->fd);
		munmap(vm->run[0], run_size);
		close(vm->vcpu[1]);
		munmap(vm->run[1], run_size);
		break;
	default: /* files closed while kvm_run is still mapped */
		close(vm->vcpu[0]);
		close(vm->vcpu[1]);
		close(vm->fd);
		munmap(vm->run[0], run_size);
		munmap(vm->run[1], run_size);
		break;
	}
	munmap(vm->mem, 2 * SLOT_SIZE);
}

/* A child runs a guest that never exits on its own; we kill it. */
static void kill_mid_run(void)
{
	int p[2], status;
	pid_t pid;
	char c;

	if (pipe(p))
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		struct vm vm;

		close(p[0]);
		vm_setup(&vm, spin_code, sizeof(spin_code), 1);
		if (write(p[1], "r", 1) != 1)
			_exit(3);
		for (;;)
			if (ioctl(vm.vcpu[0], KVM_RUN, 0) < 0 && errno != EINTR)
				_exit(2);
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1) {
		printf("FAIL lifecycle: child did not start its guest\n");
		exit(1);
	}
	close(p[0]);
	usleep(20000); /* let it enter the guest; correctness needs no wait */
	kill(pid, SIGKILL);
	if (waitpid(pid, &status, 0) != pid || !WIFSIGNALED(status) ||
	    WTERMSIG(status) != SIGKILL) {
		printf("FAIL lifecycle: child was not killed in KVM_RUN (status 0x%x)\n",
		       status);
		exit(1);
	}
}

/* Pages sitting on the per-CPU free lists, which MemFree leaves out. */
static long pcp_free_kib(void)
{
	FILE *f = fopen("/proc/zoneinfo", "r");
	char line[256];
	long n, sum = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " count: %ld", &n) == 1)
			sum += n;
	fclose(f);
	return sum * 4;
}

/*
 * Free memory, counting the per-CPU free lists, once the kernel's
 * reclaimable caches (page cache, dentries and inodes of the anonymous
 * files) are dropped: only memory somebody holds counts as used.
 */
static long mem_free_kib(void)
{
	FILE *d = fopen("/proc/sys/vm/drop_caches", "w");
	char line[128];
	long v = -1;
	FILE *f;

	sync();
	if (d) {
		fputs("3\n", d);
		fclose(d);
	}
	f = fopen("/proc/meminfo", "r");
	if (!f)
		die("/proc/meminfo");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemFree: %ld kB", &v) == 1)
			break;
	fclose(f);
	return v + pcp_free_kib();
}

struct held {
	long long objects, pages, pinned;
};

/* The driver's own counts, if it publishes them (xkvm does). */
static int read_held(struct held *h)
{
	FILE *f = fopen("/sys/module/xkvm/parameters/held", "r");
	int n;

	if (!f)
		return 0;
	n = fscanf(f, "objects %lld pages %lld pinned %lld", &h->objects,
		   &h->pages, &h->pinned);
	fclose(f);
	if (n != 3) {
		printf("FAIL lifecycle: cannot parse the driver's held counts\n");
		exit(1);
	}
	return 1;
}

int main(void)
{
	struct held h0 = { 0 }, h1 = { 0 };
	long before, after;
	struct vm vm;
	int i, have_held;

	setvbuf(stdout, NULL, _IONBF, 0);
	printf("TEST lifecycle\n");
	if (access("/sys/module/xkvm/parameters/held", R_OK)) {
		printf("SKIP lifecycle: the driver publishes no held counts (not xkvm)\n");
		return 77;
	}
	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0) {
		printf("SKIP lifecycle: no /dev/kvm\n");
		return 77;
	}
	run_size = xioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0,
			  "KVM_GET_VCPU_MMAP_SIZE");

	/* warm-up: let caches and per-CPU pools reach their working size */
	vm_setup(&vm, guest_code, sizeof(guest_code), 2);
	run_guest(&vm, 0);
	vm_teardown(&vm, 0);
	kill_mid_run();
	sync();
	before = mem_free_kib();
	have_held = read_held(&h0);

	for (i = 0; i < CYCLES; i++) {
		vm_setup(&vm, guest_code, sizeof(guest_code), 2);
		run_guest(&vm, 0);
		run_guest(&vm, 1);
		vm_teardown(&vm, i % 4);
		if (i % 100 == 99) {
			kill_mid_run();
			fprintf(stderr, "lifecycle: %d cycles\n", i + 1);
		}
	}
	printf("%d cycles: every guest did OUT 0xe9 then HLT\n", CYCLES);

	if (have_held) {
		read_held(&h1);
		fprintf(stderr,
			"lifecycle: driver holds objects %lld pages %lld pinned %lld (after warm-up: %lld %lld %lld)\n",
			h1.objects, h1.pages, h1.pinned, h0.objects, h0.pages,
			h0.pinned);
		if (h1.objects != h0.objects || h1.pages != h0.pages ||
		    h1.pinned != 0 || h0.pinned != 0) {
			printf("FAIL lifecycle: the driver did not give back what the VMs held\n");
			return 1;
		}
	}
	after = mem_free_kib();
	fprintf(stderr,
		"lifecycle: free (MemFree + per-CPU lists) %ld kB before, %ld kB after\n",
		before, after);
	if (after < before - 2048) {
		printf("FAIL lifecycle: free memory dropped by %ld kB\n",
		       before - after);
		return 1;
	}
	printf("free memory back within 2 MiB\n");
	printf("PASS lifecycle\n");
	return 0;
}
