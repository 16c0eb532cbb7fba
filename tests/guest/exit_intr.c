// SPDX-License-Identifier: GPL-2.0
/*
 * exit_intr - a signal aimed at the vCPU thread while the guest spins makes
 * KVM_RUN return -1 with errno EINTR and exit_reason KVM_EXIT_INTR; setting
 * kvm_run->immediate_exit makes KVM_RUN return -1/EINTR at once, without
 * entering the guest.  (For immediate_exit kvm_amd in Linux 6.1 leaves
 * exit_reason as it was, e.g. 0 before the first run, so only the return
 * value and errno are checked there.)  The guest then resumes exactly where it was: it spins
 * on a flag in guest memory that the host sets, and reports how far its
 * spin counter got (only "more than zero" goes in the transcript).
 *
 * No timing is asserted: a helper thread keeps signalling (SIGUSR1, with an
 * empty handler installed) until the vCPU thread has seen EINTR, with a
 * generous bound on the number of attempts.
 */
#define _GNU_SOURCE
#include "kvmtest.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static volatile uint32_t go; /* guest copy is set by the host */
static volatile uint64_t spins;

static void guest_main(void)
{
	GUEST_SYNC(1, 0, 0);
	while (!go)
		spins++;
	GUEST_SYNC(2, spins, 0);
	GUEST_DONE();
	guest_hlt_forever();
}

static pthread_t vcpu_thread;
static volatile int got_eintr;

static void on_sigusr1(int sig)
{
	(void)sig;
}

/*
 * Signal the vCPU thread once the guest is seen spinning (its counter in
 * guest memory moved), so that the signal interrupts a running guest, not
 * a KVM_RUN that has not entered it yet; then until it took effect.
 */
static void *signaller(void *arg)
{
	volatile uint64_t *guest_spins = arg;
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int i;

	for (i = 0; i < 60000 && *guest_spins == 0; i++) /* up to ~10 min */
		nanosleep(&ts, NULL);
	for (i = 0; i < 60000 && !got_eintr; i++) {
		pthread_kill(vcpu_thread, SIGUSR1);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

int main(void)
{
	struct kt_vcpu *v;
	struct kt_ucall uc;
	struct sigaction sa;
	pthread_t t;
	long r;
	int e;

	kt_init("exit_intr");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigusr1;
	sigaction(SIGUSR1, &sa, NULL);

	v = kt_create_default();
	kt_setup_long(v, (uint64_t)(uintptr_t)guest_main, KT_STACK_ENTRY);

	/* immediate_exit before the guest ever ran */
	v->run->immediate_exit = 1;
	r = ioctl(v->fd, KVM_RUN, NULL);
	e = errno;
	printf("immediate_exit=1: KVM_RUN returned %ld errno %s\n", r,
	       r < 0 && e == EINTR ? "EINTR" : "other");
	KT_ASSERT(r == -1 && e == EINTR, "r=%ld errno=%d", r, e);
	v->run->immediate_exit = 0;

	kt_expect_sync(v, 1, NULL);

	/* The guest now spins: signal the vCPU thread until KVM_RUN is interrupted. */
	vcpu_thread = pthread_self();
	KT_ASSERT_EQ(pthread_create(&t, NULL, signaller,
				    (void *)KT_GUEST_VAR(v->vm, spins)),
		     0);
	for (;;) {
		r = ioctl(v->fd, KVM_RUN, NULL);
		if (r < 0) {
			e = errno;
			KT_ASSERT(e == EINTR, "KVM_RUN failed with errno %d",
				  e);
			break;
		}
		kt_fail(__FILE__, __LINE__,
			"unexpected exit %s while the guest spins",
			kt_exit_name(v->run->exit_reason));
	}
	got_eintr = 1;
	pthread_join(t, NULL);
	printf("signal during KVM_RUN: returned -1 errno EINTR exit_reason %s\n",
	       kt_exit_name(v->run->exit_reason));
	KT_ASSERT_EQ(v->run->exit_reason, KVM_EXIT_INTR);

	/* immediate_exit while the guest is mid-loop */
	v->run->immediate_exit = 1;
	r = ioctl(v->fd, KVM_RUN, NULL);
	e = errno;
	printf("immediate_exit=1 again: %s\n",
	       r == -1 && e == EINTR ? "EINTR" : "other");
	KT_ASSERT(r == -1 && e == EINTR);
	v->run->immediate_exit = 0;

	/* Let the guest finish. */
	*KT_GUEST_VAR(v->vm, go) = 1;
	kt_expect_sync(v, 2, &uc);
	printf("guest resumed and saw the flag; spun more than zero times: %s\n",
	       uc.args[1] > 0 ? "yes" : "no");
	KT_ASSERT(uc.args[1] > 0);
	kt_expect_done(v);
	kt_pass();
}
