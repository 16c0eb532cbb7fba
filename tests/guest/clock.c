// SPDX-License-Identifier: GPL-2.0
/*
 * clock - KVM_GET_CLOCK / KVM_SET_CLOCK (the VM's kvmclock nanoseconds).
 * KVM_CAP_ADJUST_CLOCK is offered; GET_CLOCK never goes backwards across
 * calls; SET_CLOCK to a value then GET_CLOCK gives at least that value and
 * less than 60 s more (forward and backward jumps, with and without
 * vCPUs); GET_CLOCK's answer is accepted back by SET_CLOCK; unknown flags
 * are EINVAL.  Which flags GET_CLOCK reports depends on the host's clock
 * source, so they are only checked against the capability, not printed.
 */
#include "kvmtest.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#define SEC 1000000000ull

static int vm_fd;

static struct kvm_clock_data get_clock(void)
{
	struct kvm_clock_data c;

	memset(&c, 0xff, sizeof(c));
	KT_IOCTL(vm_fd, KVM_GET_CLOCK, &c);
	return c;
}

static int set_clock(uint64_t clock, uint32_t flags, uint64_t realtime)
{
	struct kvm_clock_data c;

	memset(&c, 0, sizeof(c));
	c.clock = clock;
	c.flags = flags;
	c.realtime = realtime;
	return ioctl(vm_fd, KVM_SET_CLOCK, &c) < 0 ? errno : 0;
}

static const char *errname(int e)
{
	return e == 0 ? "ok" : e == EINVAL ? "EINVAL" : strerror(e);
}

static void expect(const char *what, int got, int want)
{
	printf("%-40s -> %s\n", what, errname(got));
	if (got != want)
		kt_fail(__FILE__, __LINE__, "%s: expected %s, got %s", what,
			errname(want), errname(got));
}

/* SET_CLOCK to value, then GET_CLOCK: not below it, not 60 s above. */
static void set_and_check(const char *what, uint64_t value)
{
	struct kvm_clock_data c;

	expect(what, set_clock(value, 0, 0), 0);
	c = get_clock();
	KT_ASSERT(c.clock >= value, "clock 0x%llx < set 0x%llx",
		  (unsigned long long)c.clock, (unsigned long long)value);
	KT_ASSERT(c.clock - value < 60 * SEC, "clock 0x%llx far above 0x%llx",
		  (unsigned long long)c.clock, (unsigned long long)value);
	printf("  GET_CLOCK after it: >= the value set, < 60 s above\n");
}

static void monotonic(const char *when)
{
	struct kvm_clock_data a, b;
	int i;

	a = get_clock();
	for (i = 0; i < 1000; i++) {
		b = get_clock();
		KT_ASSERT(b.clock >= a.clock,
			  "clock went back: 0x%llx -> 0x%llx",
			  (unsigned long long)a.clock,
			  (unsigned long long)b.clock);
		a = b;
	}
	printf("1000 GET_CLOCKs %s: never backwards\n", when);
}

static void checks(int cap)
{
	struct kvm_clock_data c;

	c = get_clock();
	KT_ASSERT((c.flags & ~(uint32_t)cap) == 0,
		  "GET_CLOCK flags 0x%x outside the capability 0x%x", c.flags,
		  cap);
	KT_ASSERT(c.pad0 == 0 && !c.pad[0] && !c.pad[1] && !c.pad[2] &&
			  !c.pad[3],
		  "GET_CLOCK padding not zeroed");
	monotonic("in a row");
	set_and_check("SET_CLOCK 1000 s", 1000 * SEC);
	monotonic("after it");
	set_and_check("SET_CLOCK 5 s (backwards)", 5 * SEC);
	set_and_check("SET_CLOCK 0", 0);
	set_and_check("SET_CLOCK 2^62", 1ull << 62);
	c = get_clock();
	expect("SET_CLOCK with GET_CLOCK's own answer",
	       ioctl(vm_fd, KVM_SET_CLOCK, &c) < 0 ? errno : 0, 0);
	expect("SET_CLOCK flags 0x1", set_clock(SEC, 0x1, 0), EINVAL);
	expect("SET_CLOCK flags 0x10", set_clock(SEC, 0x10, 0), EINVAL);
	expect("SET_CLOCK flags 0x80000000", set_clock(SEC, 0x80000000u, 0),
	       EINVAL);
	expect("SET_CLOCK flags KVM_CLOCK_TSC_STABLE",
	       set_clock(SEC, KVM_CLOCK_TSC_STABLE, 0), 0);
	expect("SET_CLOCK flags KVM_CLOCK_HOST_TSC",
	       set_clock(SEC, KVM_CLOCK_HOST_TSC, 0), 0);
}

static void guest_main(void)
{
	GUEST_SYNC(1, 0, 0);
	GUEST_DONE();
	guest_hlt_forever();
}

int main(void)
{
	struct kvm_clock_data c;
	struct kt_vcpu *v;
	struct kt_ucall uc;
	struct kt_vm *vm;
	int kvm, cap;

	kt_init("clock");
	vm = kt_vm_create();
	kvm = vm->kvm_fd;
	vm_fd = vm->fd;
	cap = (int)ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_ADJUST_CLOCK);
	printf("KVM_CAP_ADJUST_CLOCK %s\n", cap > 0 ? "yes" : "no");
	KT_ASSERT(cap > 0);
	KT_ASSERT((cap & ~(KVM_CLOCK_TSC_STABLE | KVM_CLOCK_REALTIME |
			   KVM_CLOCK_HOST_TSC)) == 0,
		  "cap 0x%x", cap);

	printf("VM without vCPUs:\n");
	checks(cap);

	KT_ASSERT(kt_mem_add(vm, 0, 0, KT_MAIN_SIZE, 0) != NULL);
	kt_load_image(vm);
	v = kt_vcpu_create(vm, 0);
	kt_set_default_cpuid(v);
	kt_setup_long(v, (uint64_t)(uintptr_t)guest_main, KT_STACK_ENTRY);
	printf("VM with a vCPU that ran:\n");
	kt_expect_sync(v, 1, &uc);
	checks(cap);

	/* REALTIME: a realtime in the past moves the clock on by the time
	 * since then; one in the future does not move it back */
	if (cap & KVM_CLOCK_REALTIME) {
		c = get_clock();
		if (c.flags & KVM_CLOCK_REALTIME) {
			uint64_t want = 100 * SEC;

			/* silent: whether GET_CLOCK gives REALTIME
			 * depends on the host's clock source */
			KT_ASSERT_EQ(set_clock(want, KVM_CLOCK_REALTIME,
					       c.realtime - 10 * SEC),
				     0);
			c = get_clock();
			KT_ASSERT(c.clock >= want + 10 * SEC &&
					  c.clock < want + 60 * SEC,
				  "clock 0x%llx", (unsigned long long)c.clock);
			KT_ASSERT_EQ(set_clock(want, KVM_CLOCK_REALTIME,
					       c.realtime + 1000 * SEC),
				     0);
			c = get_clock();
			KT_ASSERT(c.clock >= want && c.clock < want + 60 * SEC,
				  "clock 0x%llx", (unsigned long long)c.clock);
		}
	}
	kt_expect_done(v);
	kt_pass();
}
