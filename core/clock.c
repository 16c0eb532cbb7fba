// SPDX-License-Identifier: GPL-2.0
/*
 * clock.c - the VM clock of KVM_GET_CLOCK / KVM_SET_CLOCK.
 *
 * Theory.  As in Linux without a master clock, the VM clock is a count of
 * nanoseconds: the host's monotonic time plus a per-VM offset, which starts
 * at minus the VM's creation time (the clock starts at 0) and which
 * KVM_SET_CLOCK moves so that the clock reads the value given.  With
 * KVM_CLOCK_REALTIME in SET_CLOCK the clock is moved on by the wall-clock
 * time elapsed since the `realtime` given (never back), which is how a
 * migration accounts for its downtime.  SET_CLOCK accepts the flags Linux
 * accepts (KVM_CLOCK_TSC_STABLE | KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC,
 * so GET_CLOCK's answer may be passed back); only REALTIME does anything.
 *
 * GET_CLOCK returns the clock together with the host's wall-clock time and
 * TSC (flags KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC), read back to back with
 * interrupts off; Linux reads all three from one TSC value, here they are
 * within a few hundred nanoseconds of each other.  KVM_CLOCK_TSC_STABLE is
 * never returned: there is no paravirtual kvmclock for a guest to see.
 * The offset is guarded by vm->lock.
 */
#include "xkvm.h"

#define XK_CLOCK_SET_FLAGS \
	(KVM_CLOCK_TSC_STABLE | KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC)

int xk_vm_get_clock(struct xk_vm *vm, struct kvm_clock_data *d)
{
	u64 now, real, tsc;
	s64 off;

	host_mutex_lock(vm->lock);
	off = vm->clock_offset;
	host_mutex_unlock(vm->lock);
	host_irq_disable();
	tsc = xk_rdtsc();
	now = host_time_ns();
	real = host_realtime_ns();
	host_irq_enable();
	xk_memset(d, 0, sizeof(*d));
	d->clock = now + (u64)off;
	d->flags = KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC;
	d->realtime = real;
	d->host_tsc = tsc;
	return 0;
}

int xk_vm_set_clock(struct xk_vm *vm, const struct kvm_clock_data *d)
{
	u64 clock = d->clock;

	if (d->flags & ~XK_CLOCK_SET_FLAGS)
		return -EINVAL;
	host_mutex_lock(vm->lock);
	if (d->flags & KVM_CLOCK_REALTIME) {
		u64 real = host_realtime_ns();

		if (real > d->realtime)
			clock += real - d->realtime;
	}
	vm->clock_offset = (s64)(clock - host_time_ns());
	host_mutex_unlock(vm->lock);
	return 0;
}
