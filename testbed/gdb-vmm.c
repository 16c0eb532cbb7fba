// SPDX-License-Identifier: GPL-2.0
/*
 * gdb-vmm - a VM that stays alive for the debugger test (testbed/run-gdb-test).
 *
 * Theory.  The gdb commands of tools/gdb/xkvm.py read the driver's state from
 * the box's memory; to check them we need a VM whose facts are known from the
 * VMM's side.  This program creates one VM with two memory slots and two
 * vCPUs, writes random bytes at one guest physical address, and prints what
 * it knows on stdout, one "gdb-vmm: " line each (its pid, each slot's id,
 * flags, guest physical range and its own address of the slot's memory, the
 * bytes and their GPA).  vCPU 0 spins in the guest (jmp $), vCPU 1 runs until
 * it halts, so one vCPU is in the guest and one is not.
 *
 * Then it waits for the debugger: the test writes FLAG_VALUE at FLAG_GPA
 * through the kernel address that `xkvm gpa2hpa` computed, which must land in
 * this process's memory.  Exit status 0 once it sees the byte, 1 when the
 * wait (first argument, seconds, default 300) ends or anything fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>

#define SLOT0_ID 0
#define SLOT0_GPA 0x0ULL
#define SLOT0_SIZE 0x10000ULL /* 64 KiB: code and the flag */
#define SLOT1_ID 3
#define SLOT1_GPA 0x100000ULL
#define SLOT1_SIZE 0x100000ULL /* 1 MiB, read-only for the guest */
#define CODE_GPA 0x1000ULL
#define PATTERN_GPA (SLOT1_GPA + 0x3450)
#define PATTERN_LEN 16
#define FLAG_GPA (SLOT0_GPA + 0x8008)
#define FLAG_VALUE 0x5a

static int vm_fd;
static int run_size;

static void die(const char *what)
{
	printf("gdb-vmm: error: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void *guest_mem(uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	memset(p, 0, size); /* every page its own, before pinning */
	return p;
}

static void add_slot(uint32_t id, uint32_t flags, uint64_t gpa, uint64_t size,
		     void *mem)
{
	struct kvm_userspace_memory_region r = {
		.slot = id,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)mem,
	};

	if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		die("KVM_SET_USER_MEMORY_REGION");
	printf("gdb-vmm: slot %u flags 0x%x gpa 0x%llx-0x%llx uaddr 0x%llx\n",
	       id, flags, (unsigned long long)gpa,
	       (unsigned long long)(gpa + size - 1),
	       (unsigned long long)(uintptr_t)mem);
}

struct vcpu {
	int id;
	int fd;
	struct kvm_run *run;
	int exit_reason; /* of the first return of KVM_RUN */
	volatile int returned;
};

static void vcpu_create(struct vcpu *c, int id, uint64_t rip)
{
	struct kvm_sregs s;
	struct kvm_regs r;

	c->id = id;
	c->fd = ioctl(vm_fd, KVM_CREATE_VCPU, id);
	if (c->fd < 0)
		die("KVM_CREATE_VCPU");
	c->run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd,
		      0);
	if (c->run == MAP_FAILED)
		die("mmap kvm_run");
	if (ioctl(c->fd, KVM_GET_SREGS, &s) < 0)
		die("KVM_GET_SREGS");
	s.cs.base = 0;
	s.cs.selector = 0;
	if (ioctl(c->fd, KVM_SET_SREGS, &s) < 0)
		die("KVM_SET_SREGS");
	memset(&r, 0, sizeof(r));
	r.rip = rip;
	r.rflags = 2;
	if (ioctl(c->fd, KVM_SET_REGS, &r) < 0)
		die("KVM_SET_REGS");
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *c = arg;

	if (ioctl(c->fd, KVM_RUN, 0) < 0)
		c->exit_reason = -errno;
	else
		c->exit_reason = (int)c->run->exit_reason;
	c->returned = 1;
	return NULL;
}

/*
 * A second VM, made first (so the newest VM is the one with the vCPUs): an
 * in-kernel irqchip and three GSI routes for `xkvm gsi`: GSI 0 -> IOAPIC
 * pin 2, GSI 5 -> PIC master pin 5, GSI 30 -> MSI 0xfee00000/0x4041.  Its
 * file stays open until the process ends.
 */
static void irqchip_vm(int kvm)
{
	struct {
		struct kvm_irq_routing r;
		struct kvm_irq_routing_entry e[3];
	} rt;
	int fd = ioctl(kvm, KVM_CREATE_VM, 0);

	if (fd < 0)
		die("KVM_CREATE_VM (irqchip)");
	if (ioctl(fd, KVM_CREATE_IRQCHIP, 0))
		die("KVM_CREATE_IRQCHIP");
	memset(&rt, 0, sizeof(rt));
	rt.r.nr = 3;
	rt.e[0].gsi = 0;
	rt.e[0].type = KVM_IRQ_ROUTING_IRQCHIP;
	rt.e[0].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
	rt.e[0].u.irqchip.pin = 2;
	rt.e[1].gsi = 5;
	rt.e[1].type = KVM_IRQ_ROUTING_IRQCHIP;
	rt.e[1].u.irqchip.irqchip = KVM_IRQCHIP_PIC_MASTER;
	rt.e[1].u.irqchip.pin = 5;
	rt.e[2].gsi = 30;
	rt.e[2].type = KVM_IRQ_ROUTING_MSI;
	rt.e[2].u.msi.address_lo = 0xfee00000;
	rt.e[2].u.msi.data = 0x4041;
	if (ioctl(fd, KVM_SET_GSI_ROUTING, &rt))
		die("KVM_SET_GSI_ROUTING");
	printf("gdb-vmm: irqchip vm: 3 GSI routes\n");
}

int main(int argc, char **argv)
{
	static const unsigned char code[] = {
		0xeb, 0xfe,       /* 0x1000 vCPU 0: jmp $ */
		0x90, 0x90, 0xf4, /* nop nop; 0x1004 vCPU 1: hlt */
		0xeb, 0xfe,       /* jmp $ (not reached: hlt exits to us) */
	};
	int wait_s = argc > 1 ? atoi(argv[1]) : 300;
	unsigned char pattern[PATTERN_LEN];
	struct vcpu vcpus[2];
	pthread_t threads[2];
	unsigned char *mem0, *mem1;
	volatile unsigned char *flag;
	int kvm, i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		die("open /dev/kvm");
	irqchip_vm(kvm);
	vm_fd = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm_fd < 0)
		die("KVM_CREATE_VM");
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size <= 0)
		die("KVM_GET_VCPU_MMAP_SIZE");
	printf("gdb-vmm: pid %d\n", (int)getpid());

	mem0 = guest_mem(SLOT0_SIZE);
	mem1 = guest_mem(SLOT1_SIZE);
	memcpy(mem0 + CODE_GPA, code, sizeof(code));
	if (getrandom(pattern, sizeof(pattern), 0) != sizeof(pattern))
		die("getrandom");
	memcpy(mem1 + (PATTERN_GPA - SLOT1_GPA), pattern, sizeof(pattern));
	add_slot(SLOT0_ID, 0, SLOT0_GPA, SLOT0_SIZE, mem0);
	add_slot(SLOT1_ID, KVM_MEM_READONLY, SLOT1_GPA, SLOT1_SIZE, mem1);
	printf("gdb-vmm: bytes at gpa 0x%llx:",
	       (unsigned long long)PATTERN_GPA);
	for (i = 0; i < PATTERN_LEN; i++)
		printf(" %02x", pattern[i]);
	printf("\n");

	vcpu_create(&vcpus[0], 0, CODE_GPA);
	vcpu_create(&vcpus[1], 1, CODE_GPA + 4);
	for (i = 0; i < 2; i++)
		if (pthread_create(&threads[i], NULL, vcpu_thread, &vcpus[i]))
			die("pthread_create");
	/* vCPU 1 halts at once; vCPU 0 spins in the guest for good */
	for (i = 0; i < 600 && !vcpus[1].returned; i++)
		usleep(100000);
	if (vcpus[0].returned || vcpus[1].exit_reason != KVM_EXIT_HLT) {
		printf("gdb-vmm: error: vCPU 0 %s, vCPU 1 exit %d (want HLT)\n",
		       vcpus[0].returned ? "left the guest" : "runs",
		       vcpus[1].exit_reason);
		return 1;
	}
	printf("gdb-vmm: vcpus 2: vcpu 0 spins in the guest, vcpu 1 halted\n");
	printf("gdb-vmm: flag gpa 0x%llx value 0x%x\n",
	       (unsigned long long)FLAG_GPA, FLAG_VALUE);
	printf("gdb-vmm: ready\n");

	flag = mem0 + (FLAG_GPA - SLOT0_GPA);
	for (i = 0; i < wait_s * 10; i++) {
		if (*flag == FLAG_VALUE) {
			printf("gdb-vmm: the debugger wrote the flag\n");
			return 0;
		}
		usleep(100000);
	}
	printf("gdb-vmm: no flag from the debugger in %d s\n", wait_s);
	return 1;
}
