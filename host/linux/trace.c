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
