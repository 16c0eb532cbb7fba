// SPDX-License-Identifier: GPL-2.0
/*
 * trace.c - host_trace_* of host.h as Linux tracepoints (see trace.h).
 */
#include <linux/types.h>

#include "../../core/host.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

void host_trace_entry(int vm, u32 vcpu, u64 rip)
{
	trace_xkvm_entry(vm, vcpu, rip);
}

void host_trace_exit(int vm, u32 vcpu, u32 isa, u64 reason, u64 rip, u64 info1,
		     u64 info2, u64 intinfo)
{
	trace_xkvm_exit(vm, vcpu, isa, reason, rip, info1, info2, intinfo);
}

void host_trace_userspace_exit(int vm, u32 vcpu, u32 reason, int err)
{
	trace_xkvm_userspace_exit(vm, vcpu, reason, err);
}

void host_trace_pio(int vm, u32 vcpu, u16 port, u8 size, bool in, u64 count)
{
	trace_xkvm_pio(vm, vcpu, port, size, in, count);
}

void host_trace_mmio(int vm, u32 vcpu, u64 gpa, u32 len, bool write,
		     bool has_value, u64 value)
{
	trace_xkvm_mmio(vm, vcpu, gpa, len, write, has_value, value);
}

void host_trace_inject(int vm, u32 vcpu, u8 vector, u32 kind, bool reinjected)
{
	trace_xkvm_inject(vm, vcpu, vector, kind, reinjected);
}

void host_trace_emulation_failure(int vm, u32 vcpu, u64 rip, const u8 *bytes,
				  u32 len)
{
	static const u8 none[1];

	if (!bytes) /* the fetch failed: no bytes */
		bytes = none, len = 0;
	trace_xkvm_emulation_failure(vm, vcpu, rip, bytes, len);
}
