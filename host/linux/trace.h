/* SPDX-License-Identifier: GPL-2.0 */
/*
 * trace.h - xkvm's tracepoints (the Linux side of host_trace_* in host.h).
 *
 * Three events under /sys/kernel/tracing/events/xkvm/: xkvm_entry before
 * every guest entry, xkvm_exit after every VM exit (the vendor's raw exit
 * code and details, as Linux's kvm:kvm_exit gives them), and
 * xkvm_userspace_exit when KVM_RUN returns to the VMM.  bpftrace and perf
 * attach to them by these names (tracepoint:xkvm:xkvm_exit).
 *
 * This header is read several times by <trace/define_trace.h>; the guard
 * below is the one that idiom requires.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM xkvm

#if !defined(XKVM_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define XKVM_TRACE_H

#include <linux/tracepoint.h>

/* the TRACE_EVENT idiom has a layout of its own */
/* clang-format off */

TRACE_EVENT(xkvm_entry,
	TP_PROTO(int vm, u32 vcpu, u64 rip),
	TP_ARGS(vm, vcpu, rip),
	TP_STRUCT__entry(
		__field(int, vm)
		__field(u32, vcpu)
		__field(u64, rip)
	),
	TP_fast_assign(
		__entry->vm = vm;
		__entry->vcpu = vcpu;
		__entry->rip = rip;
	),
	TP_printk("vm %d vcpu %u rip 0x%llx", __entry->vm, __entry->vcpu,
		  __entry->rip)
);

TRACE_EVENT(xkvm_exit,
	TP_PROTO(int vm, u32 vcpu, u32 isa, u64 reason, u64 rip, u64 info1,
		 u64 info2, u64 intinfo),
	TP_ARGS(vm, vcpu, isa, reason, rip, info1, info2, intinfo),
	TP_STRUCT__entry(
		__field(int, vm)
		__field(u32, vcpu)
		__field(u32, isa)
		__field(u64, reason)
		__field(u64, rip)
		__field(u64, info1)
		__field(u64, info2)
		__field(u64, intinfo)
	),
	TP_fast_assign(
		__entry->vm = vm;
		__entry->vcpu = vcpu;
		__entry->isa = isa;
		__entry->reason = reason;
		__entry->rip = rip;
		__entry->info1 = info1;
		__entry->info2 = info2;
		__entry->intinfo = intinfo;
	),
	TP_printk("vm %d vcpu %u %s reason 0x%llx rip 0x%llx info 0x%llx 0x%llx intinfo 0x%llx",
		  __entry->vm, __entry->vcpu,
		  __entry->isa == 2 ? "svm" : "vmx", __entry->reason,
		  __entry->rip, __entry->info1, __entry->info2,
		  __entry->intinfo)
);

TRACE_EVENT(xkvm_userspace_exit,
	TP_PROTO(int vm, u32 vcpu, u32 reason, int err),
	TP_ARGS(vm, vcpu, reason, err),
	TP_STRUCT__entry(
		__field(int, vm)
		__field(u32, vcpu)
		__field(u32, reason)
		__field(int, err)
	),
	TP_fast_assign(
		__entry->vm = vm;
		__entry->vcpu = vcpu;
		__entry->reason = reason;
		__entry->err = err;
	),
	TP_printk("vm %d vcpu %u reason %u err %d", __entry->vm,
		  __entry->vcpu, __entry->reason, __entry->err)
);

/* clang-format on */

#endif /* XKVM_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
