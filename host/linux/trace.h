/* SPDX-License-Identifier: GPL-2.0 */
/*
 * trace.h - xkvm's tracepoints (the Linux side of host_trace_* in host.h).
 *
 * Events under /sys/kernel/tracing/events/xkvm/: xkvm_entry before every
 * guest entry, xkvm_exit after every VM exit (the vendor's raw exit code and
 * details, as Linux's kvm:kvm_exit gives them), xkvm_userspace_exit when
 * KVM_RUN returns to the VMM; inside an exit's handling xkvm_pio (port
 * I/O), xkvm_mmio (device memory), xkvm_inject (an event put in for the
 * guest) and xkvm_emulation_failure (with the instruction bytes).  host.h
 * says what each field means.  bpftrace and perf attach to them by these
 * names (tracepoint:xkvm:xkvm_exit; tools/bpftrace/).
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

TRACE_EVENT(xkvm_pio,
	TP_PROTO(int vm, u32 vcpu, u16 port, u8 size, bool in, u64 count),
	TP_ARGS(vm, vcpu, port, size, in, count),
	TP_STRUCT__entry(
		__field(int, vm)
		__field(u32, vcpu)
		__field(u16, port)
		__field(u8, size)
		__field(u8, in)
		__field(u64, count)
	),
	TP_fast_assign(
		__entry->vm = vm;
		__entry->vcpu = vcpu;
		__entry->port = port;
		__entry->size = size;
		__entry->in = in;
		__entry->count = count;
	),
	TP_printk("vm %d vcpu %u pio_%s at 0x%x size %u count %llu",
		  __entry->vm, __entry->vcpu, __entry->in ? "read" : "write",
		  __entry->port, __entry->size, __entry->count)
);

TRACE_EVENT(xkvm_mmio,
	TP_PROTO(int vm, u32 vcpu, u64 gpa, u32 len, bool write,
		 bool has_value, u64 value),
	TP_ARGS(vm, vcpu, gpa, len, write, has_value, value),
	TP_STRUCT__entry(
		__field(int, vm)
		__field(u32, vcpu)
		__field(u64, gpa)
		__field(u32, len)
		__field(u8, write)
		__field(u8, has_value)
		__field(u64, value)
	),
	TP_fast_assign(
		__entry->vm = vm;
		__entry->vcpu = vcpu;
		__entry->gpa = gpa;
		__entry->len = len;
		__entry->write = write;
		__entry->has_value = has_value;
		__entry->value = value;
	),
	TP_printk("vm %d vcpu %u mmio_%s gpa 0x%llx len %u value %s0x%llx",
		  __entry->vm, __entry->vcpu,
		  __entry->write ? "write" : "read", __entry->gpa,
		  __entry->len, __entry->has_value ? "" : "(unknown) ",
		  __entry->value)
);

TRACE_EVENT(xkvm_inject,
	TP_PROTO(int vm, u32 vcpu, u8 vector, u32 kind, bool reinjected),
	TP_ARGS(vm, vcpu, vector, kind, reinjected),
	TP_STRUCT__entry(
		__field(int, vm)
		__field(u32, vcpu)
		__field(u8, vector)
		__field(u8, reinjected)
		__field(u32, kind)
	),
	TP_fast_assign(
		__entry->vm = vm;
		__entry->vcpu = vcpu;
		__entry->vector = vector;
		__entry->reinjected = reinjected;
		__entry->kind = kind;
	),
	TP_printk("vm %d vcpu %u %s vector %u%s", __entry->vm, __entry->vcpu,
		  __print_symbolic(__entry->kind,
				   { XK_TRACE_INJ_IRQ, "irq" },
				   { XK_TRACE_INJ_NMI, "nmi" },
				   { XK_TRACE_INJ_EXCEPTION, "exception" },
				   { XK_TRACE_INJ_SOFT, "soft" }),
		  __entry->vector,
		  __entry->reinjected ? " (reinjected)" : "")
);

TRACE_EVENT(xkvm_emulation_failure,
	TP_PROTO(int vm, u32 vcpu, u64 rip, const u8 *bytes, u32 len),
	TP_ARGS(vm, vcpu, rip, bytes, len),
	TP_STRUCT__entry(
		__field(int, vm)
		__field(u32, vcpu)
		__field(u64, rip)
		__field(u8, len)
		__array(u8, insn, 15)
	),
	TP_fast_assign(
		__entry->vm = vm;
		__entry->vcpu = vcpu;
		__entry->rip = rip;
		__entry->len = len > 15 ? 15 : len;
		memset(__entry->insn, 0, 15);
		memcpy(__entry->insn, bytes, __entry->len);
	),
	TP_printk("vm %d vcpu %u rip 0x%llx insn %s", __entry->vm,
		  __entry->vcpu, __entry->rip,
		  __print_hex(__entry->insn, __entry->len))
);

/* clang-format on */

#endif /* XKVM_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
