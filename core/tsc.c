// SPDX-License-Identifier: GPL-2.0
/*
 * tsc.c - the guest TSC across vCPUs: the VMM's writes that synchronize.
 *
 * Theory.  Each vCPU's guest TSC is the host TSC plus an offset the backend
 * keeps (AMD: the VMCB's TSC_OFFSET).  A VMM sets the TSC of every vCPU one
 * after the other (QEMU writes 0 to each at every reset; a migration writes
 * the saved values), and offsets computed one write at a time differ by
 * the time between the writes: an SMP guest then finds its TSCs out of
 * step, gives up the TSC as its clock and reads the HPET, every read an exit
 * to the VMM.  As Linux does, a write by the VMM that matches the previous
 * one takes the previous one's offset, so that the vCPUs share it exactly:
 * it matches when it writes 0, or a value within one second (of guest TSC
 * ticks) of where the previous value has got to since it was written.  A
 * new vCPU is given TSC 0 that way (so vCPUs agree before any write), and
 * INIT keeps a vCPU's offset as it is.  A guest's own WRMSR moves only its
 * vCPU (Linux: the same).  The guest TSC runs at the host's rate (no
 * scaling), so "one second" is host_tsc_khz() * 1000 ticks; without a known
 * host rate only writes of 0 match.
 *
 * Locks: vm->tsc_lock, a spin lock taken alone, guards vm->tsc_last; the
 * caller holds the vCPU's lock, under which the backend's offset changes.
 */
#include "xkvm.h"

int xk_tsc_set_host(struct xk_vcpu *v, u64 val)
{
	struct xk_vm *vm = v->vm;
	struct xk_tsc_write *last = &vm->tsc_last;
	u32 khz = host_tsc_khz();
	u64 now = host_time_ns(), host_tsc = xk_rdtsc(), off, expect, window;
	bool match = false;

	host_spin_lock(vm->tsc_lock);
	if (last->valid) {
		expect = last->value + xk_ns_to_tsc(now - last->ns, khz);
		window = (u64)khz * 1000ULL;
		match = val == 0 ||
			(khz && val + window > expect && val < expect + window);
	}
	off = match ? last->offset : val - host_tsc;
	last->valid = true;
	last->ns = now;
	last->value = val;
	last->offset = off;
	host_spin_unlock(vm->tsc_lock);
	xk_ops->set_tsc_offset(v, off);
	return 0;
}
