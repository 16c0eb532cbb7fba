// SPDX-License-Identifier: GPL-2.0
/*
 * smp_kick - two vCPUs of one VM running at the same time, each KVM_RUN in
 * its own thread, and the ways another thread gets them out of the guest:
 *   1. both vCPUs are in the guest together: they play ping-pong through
 *      guest memory (vCPU 0 writes round r, waits for vCPU 1 to answer r),
 *      which no exit helps with; a side that waits too long (a bounded
 *      spin, far beyond any scheduling delay) reports the round it gave up
 *      at and the test fails;
 *   2. while both spin in the guest, a signal aimed at each vCPU thread
 *      (pthread_kill, a handler installed) makes its KVM_RUN return -1
 *      EINTR with KVM_EXIT_INTR; the thread runs again and the guest goes
 *      on where it was;
 *   3. immediate_exit set from the main thread, then the signal: KVM_RUN
 *      returns -1 EINTR (whether the signal found the thread in the guest
 *      or immediate_exit stopped the next entry; exit_reason is therefore
 *      not printed);
 *   4. while both spin reading a word of memory slot 1, the main thread
 *      deletes the slot: each vCPU's next read exits with KVM_EXIT_MMIO
 *      (that address, 8 bytes, read) exactly once, and the value the VMM
 *      gives is what the guest sees.  Without the vCPUs being taken out of
 *      the guest and their nested TLBs flushed they would keep reading the
 *      old page (and never exit);
 *   5. while both spin on memory of their own, a slot neither uses is added
 *      and deleted CYCLES times: every deletion must take both vCPUs out of
 *      the guest (a remote TLB flush) and return, and both go on spinning.
 * Nothing timing-dependent is printed: counters only as "moved".  The main
 * thread prints everything; the vCPU threads only record.
 */
#define _GNU_SOURCE
#include "kvmtest.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#define NVCPU 2
#define ROUNDS 16
#define PATIENCE (1ull << 31) /* guest spins before giving up */
#define PROBE_GPA 0x40000000ull
#define PROBE_OLD 0x1111
#define PROBE_NEW 0x2220 /* + vCPU id, from the VMM */
#define S_GAVE_UP 90
#define CYCLES 50
#define SPARE_GPA 0x60000000ull

static volatile uint64_t ping, pong, stop_b, stop_d;
static volatile uint64_t spin_b[NVCPU], spin_c[NVCPU], spin_d[NVCPU];

static uint64_t read_probe(void)
{
	uint64_t v;

	__asm__ volatile("movq (%1), %0"
			 : "=r"(v)
			 : "r"((uintptr_t)PROBE_GPA)
			 : "memory");
	return v;
}

/* Spin until *p == want; false if the peer never got there. */
static int wait_for(volatile uint64_t *p, uint64_t want)
{
	for (uint64_t i = 0; i < PATIENCE; i++)
		if (*p == want)
			return 1;
	return 0;
}

static void guest_main(uint64_t id)
{
	uint64_t r, val;

	GUEST_SYNC(1, id, 0);
	for (r = 1; r <= ROUNDS; r++) {
		if (id == 0) {
			ping = r;
			if (!wait_for(&pong, r))
				GUEST_SYNC(S_GAVE_UP, id, r);
		} else {
			if (!wait_for(&ping, r))
				GUEST_SYNC(S_GAVE_UP, id, r);
			pong = r;
		}
	}
	GUEST_SYNC(2, id, ROUNDS);
	while (!stop_b)
		spin_b[id]++;
	GUEST_SYNC(3, id, 0);
	for (;;) {
		val = read_probe();
		if (val != PROBE_OLD)
			break;
		spin_c[id]++;
	}
	GUEST_SYNC(4, id, val);
	while (!stop_d)
		spin_d[id]++;
	GUEST_SYNC(5, id, 0);
	GUEST_DONE();
	guest_hlt_forever();
}

/* ------------------------------------------------------------- host -- */

struct vt {
	struct kt_vcpu *v;
	pthread_t th;
	int id;
	/* written by the vCPU thread, read by main */
	volatile int stage;    /* last SYNC stage */
	volatile uint64_t arg; /* its a2 */
	volatile int eintr;    /* -1/EINTR with immediate_exit clear */
	volatile uint32_t intr_reason;
	volatile int ie_eintr; /* -1/EINTR with immediate_exit set */
	volatile int mmio;     /* MMIO exits */
	volatile uint64_t mmio_addr;
	volatile uint32_t mmio_len, mmio_write;
	volatile int done;
	/* written by main */
	volatile int release; /* stages the thread may run past */
};

static struct vt vts[NVCPU];

static void on_signal(int sig)
{
	(void)sig;
}

static void nap(void)
{
	struct timespec ts = { 0, 1000 * 1000 };

	nanosleep(&ts, NULL);
}

static void *vcpu_thread(void *arg)
{
	struct vt *t = arg;
	struct kvm_run *run = t->v->run;
	struct kt_ucall uc;
	long r;

	for (;;) {
		r = ioctl(t->v->fd, KVM_RUN, NULL);
		if (r < 0) {
			KT_ASSERT(errno == EINTR, "vCPU %d: KVM_RUN errno %d",
				  t->id, errno);
			if (__atomic_load_n(&run->immediate_exit,
					    __ATOMIC_SEQ_CST)) {
				run->immediate_exit = 0;
				__atomic_add_fetch(&t->ie_eintr, 1,
						   __ATOMIC_SEQ_CST);
			} else {
				if (!t->eintr)
					t->intr_reason = run->exit_reason;
				__atomic_add_fetch(&t->eintr, 1,
						   __ATOMIC_SEQ_CST);
			}
			continue;
		}
		if (run->exit_reason == KVM_EXIT_MMIO) {
			uint64_t val = PROBE_NEW + (uint64_t)t->id;

			if (!t->mmio) {
				t->mmio_addr = run->mmio.phys_addr;
				t->mmio_len = run->mmio.len;
				t->mmio_write = run->mmio.is_write;
			}
			memcpy(run->mmio.data, &val, sizeof(val));
			__atomic_add_fetch(&t->mmio, 1, __ATOMIC_SEQ_CST);
			continue;
		}
		switch (kt_decode_ucall(t->v, &uc)) {
		case UC_SYNC:
			if (uc.args[0] == S_GAVE_UP)
				kt_fail(__FILE__, __LINE__,
					"vCPU %d never saw its peer at round %llu: "
					"not in the guest together",
					t->id, (unsigned long long)uc.args[2]);
			KT_ASSERT_EQ(uc.args[1], t->id);
			t->arg = uc.args[2];
			__atomic_store_n(&t->stage, (int)uc.args[0],
					 __ATOMIC_SEQ_CST);
			while (__atomic_load_n(&t->release, __ATOMIC_SEQ_CST) <
			       (int)uc.args[0])
				nap();
			break;
		case UC_DONE:
			__atomic_store_n(&t->done, 1, __ATOMIC_SEQ_CST);
			return NULL;
		default:
			kt_fail(__FILE__, __LINE__, "vCPU %d: ucall %u", t->id,
				uc.cmd);
		}
	}
}

/* Poll (bounded, ~10 minutes) until cond holds. */
#define WAIT_UNTIL(cond, what)                                \
	do {                                                  \
		long n_;                                      \
		for (n_ = 0; n_ < 600000 && !(cond); n_++)    \
			nap();                                \
		KT_ASSERT(cond, "gave up waiting: %s", what); \
	} while (0)

static void wait_stage(int stage)
{
	for (int i = 0; i < NVCPU; i++)
		WAIT_UNTIL(__atomic_load_n(&vts[i].stage, __ATOMIC_SEQ_CST) ==
				   stage,
			   "a vCPU at a stage");
}

static void release(int stage)
{
	for (int i = 0; i < NVCPU; i++)
		__atomic_store_n(&vts[i].release, stage, __ATOMIC_SEQ_CST);
}

/* Signal vCPU i's thread until its KVM_RUN returned EINTR once more. */
static void kick_signal(int i)
{
	int before = __atomic_load_n(&vts[i].eintr, __ATOMIC_SEQ_CST);
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	for (int n = 0; n < 60000; n++) {
		if (__atomic_load_n(&vts[i].eintr, __ATOMIC_SEQ_CST) != before)
			break;
		pthread_kill(vts[i].th, SIGUSR1);
		nanosleep(&ts, NULL);
	}
	KT_ASSERT(vts[i].eintr != before, "vCPU %d never got EINTR", i);
}

/* Wait until the guest counter moves: the vCPU is running the guest. */
static void wait_moving(volatile uint64_t *ctr, const char *what)
{
	uint64_t c = *ctr;

	WAIT_UNTIL(*ctr != c, what);
}

int main(void)
{
	struct kt_vcpu *v0;
	struct kt_vm *vm;
	struct sigaction sa;
	struct kvm_regs regs;
	uint64_t *probe;
	int i;

	kt_init("smp_kick");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGUSR1, &sa, NULL);

	v0 = kt_create_default();
	vm = v0->vm;
	probe = kt_mem_add(vm, 1, PROBE_GPA, 4096, 0);
	*probe = PROBE_OLD;
	for (i = 0; i < NVCPU; i++) {
		struct kt_vcpu *v = i ? kt_vcpu_create(vm, i) : v0;

		if (i)
			kt_set_default_cpuid(v);
		/* each vCPU its own stack, 1 MiB apart */
		kt_setup_long(v, (uint64_t)(uintptr_t)guest_main,
			      KT_STACK_ENTRY - (uint64_t)i * 0x100000);
		kt_get_regs(v, &regs);
		regs.rdi = (uint64_t)i;
		kt_set_regs(v, &regs);
		vts[i].v = v;
		vts[i].id = i;
	}
	for (i = 0; i < NVCPU; i++)
		KT_ASSERT_EQ(pthread_create(&vts[i].th, NULL, vcpu_thread,
					    &vts[i]),
			     0);

	printf("-- 1. %d vCPUs in the guest together\n", NVCPU);
	wait_stage(1);
	printf("both vCPUs reached the guest\n");
	release(1);
	wait_stage(2);
	for (i = 0; i < NVCPU; i++)
		printf("vCPU %d: %llu ping-pong rounds with its peer\n", i,
		       (unsigned long long)vts[i].arg);
	release(2);

	printf("-- 2. a signal to each vCPU thread\n");
	for (i = 0; i < NVCPU; i++) {
		wait_moving(KT_GUEST_VAR(vm, spin_b[i]), "vCPU spins");
		kick_signal(i);
		printf("vCPU %d: KVM_RUN -1 EINTR, exit_reason %s\n", i,
		       kt_exit_name(vts[i].intr_reason));
		KT_ASSERT_EQ(vts[i].intr_reason, KVM_EXIT_INTR);
	}
	for (i = 0; i < NVCPU; i++) {
		wait_moving(KT_GUEST_VAR(vm, spin_b[i]), "vCPU spins again");
		printf("vCPU %d: back in the guest, its counter moves\n", i);
	}

	printf("-- 3. immediate_exit from another thread, then a signal\n");
	for (i = 0; i < NVCPU; i++) {
		int before = vts[i].ie_eintr;

		__atomic_store_n(&vts[i].v->run->immediate_exit, 1,
				 __ATOMIC_SEQ_CST);
		pthread_kill(vts[i].th, SIGUSR1);
		WAIT_UNTIL(vts[i].ie_eintr != before, "immediate_exit EINTR");
		printf("vCPU %d: KVM_RUN -1 EINTR\n", i);
		wait_moving(KT_GUEST_VAR(vm, spin_b[i]), "vCPU spins again");
		printf("vCPU %d: back in the guest, its counter moves\n", i);
	}
	*KT_GUEST_VAR(vm, stop_b) = 1;
	wait_stage(3);
	printf("both vCPUs left the spin loop\n");
	release(3);

	printf("-- 4. a memory slot deleted while both vCPUs read it\n");
	for (i = 0; i < NVCPU; i++)
		wait_moving(KT_GUEST_VAR(vm, spin_c[i]), "vCPU reads the slot");
	printf("both vCPUs are reading 0x%llx from slot 1\n",
	       (unsigned long long)*probe);
	kt_mem_del(vm, 1);
	printf("slot 1 deleted\n");
	wait_stage(4);
	for (i = 0; i < NVCPU; i++) {
		printf("vCPU %d: %d MMIO exit(s): gpa 0x%llx len %u %s; guest "
		       "read 0x%llx\n",
		       i, vts[i].mmio, (unsigned long long)vts[i].mmio_addr,
		       vts[i].mmio_len, vts[i].mmio_write ? "write" : "read",
		       (unsigned long long)vts[i].arg);
		KT_ASSERT_EQ(vts[i].mmio, 1);
		KT_ASSERT_EQ(vts[i].mmio_addr, PROBE_GPA);
		KT_ASSERT_EQ(vts[i].mmio_len, 8);
		KT_ASSERT_EQ(vts[i].mmio_write, 0);
		KT_ASSERT_EQ(vts[i].arg, PROBE_NEW + (uint64_t)i);
	}
	release(4);

	printf("-- 5. an unused slot added and deleted while both spin\n");
	for (i = 0; i < NVCPU; i++)
		wait_moving(KT_GUEST_VAR(vm, spin_d[i]), "vCPU spins");
	for (int n = 0; n < CYCLES; n++) {
		kt_mem_add(vm, 2, SPARE_GPA, 2 << 20, 0);
		kt_mem_del(vm, 2);
	}
	printf("%d add/delete cycles done\n", CYCLES);
	for (i = 0; i < NVCPU; i++) {
		wait_moving(KT_GUEST_VAR(vm, spin_d[i]), "vCPU spins again");
		printf("vCPU %d: still in the guest, its counter moves\n", i);
	}
	*KT_GUEST_VAR(vm, stop_d) = 1;
	wait_stage(5);
	release(5);
	for (i = 0; i < NVCPU; i++) {
		pthread_join(vts[i].th, NULL);
		KT_ASSERT(vts[i].done);
	}
	printf("both vCPUs done\n");
	kt_pass();
}
