#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# trace-counts - xkvm's tracepoints fire once per event they describe.
#
# Theory.  trace_guest (trace_guest.c) runs a guest whose exits to user space
# are known (5 CPUIDs handled in the driver, 8 OUTs, one MMIO write, one HLT, one injected interrupt, one
# emulation failure) while every xkvm event is recorded in tracefs.  Exits
# that stay in the kernel (host interrupts, NPT faults) are not known in
# advance, so the checks are:
#   xkvm_entry == xkvm_exit > 0           every entry has its exit
#   xkvm_exit >= KVM_RUN calls + CPUIDs   the 5 CPUIDs exit (reason 0x72)
#                                         without returning to the VMM
#   xkvm_exit == the driver's own count   /sys/kernel/debug/xkvm/exits and
#                                         <vm>/vcpu0/exits, read by
#                                         trace_guest while its VM lived
#                                         (each skipped while the statistics
#                                         tree does not provide the file)
#   xkvm_userspace_exit == KVM_RUN calls  one per return to the VMM
#   xkvm_pio == the guest's OUTs, with port, size, direction, count
#   xkvm_mmio == 1, the write's gpa, len and value
#   xkvm_inject: the vector given to KVM_INTERRUPT, as an irq
#   xkvm_emulation_failure == 1, with the instruction bytes (d9 00)
# The overwrite option is off, so a lost event would show as a mismatch;
# the buffer holds far more than this run makes.
# shellcheck shell=dash
# shellcheck source-path=SCRIPTDIR source=lib.sh
. /ops/lib.sh

mount_tracefs
[ -d "$TRACEFS/events/xkvm" ] || fail "no xkvm events in $TRACEFS/events"
OUT=/tmp/ops-trace-guest.out
TR=/tmp/ops-trace.txt
trace_on xkvm_entry xkvm_exit xkvm_userspace_exit xkvm_pio xkvm_mmio \
	xkvm_inject xkvm_emulation_failure
"$OPS_BIN/trace_guest" >"$OUT" 2>&1
rc=$?
trace_off "$TR"
[ $rc = 0 ] || { tail -n 5 "$OUT"; fail "trace_guest: exit status $rc"; }

entries=$(count "$TR" xkvm_entry)
exits=$(count "$TR" xkvm_exit)
uexits=$(count "$TR" xkvm_userspace_exit)
pios=$(count "$TR" xkvm_pio)
mmios=$(count "$TR" xkvm_mmio)
injects=$(count "$TR" xkvm_inject)
efails=$(count "$TR" xkvm_emulation_failure)
say "trace: entry $entries exit $exits userspace_exit $uexits pio $pios" \
	"mmio $mmios inject $injects emulation_failure $efails"
runs=$(key "$OUT" runs)
say "trace_guest: KVM_RUN calls $runs, port accesses $(key "$OUT" pios)," \
	"driver exits $(key "$OUT" driver_exits)"

[ "$entries" -gt 0 ] || fail "no xkvm_entry event"
[ "$entries" = "$exits" ] || fail "xkvm_entry $entries != xkvm_exit $exits"
# CPUID (SVM exit code 0x72) is handled in the driver: exits without a return
n=$(grep -c 'xkvm_exit: .* svm reason 0x72 ' "$TR")
[ "$n" = "$(key "$OUT" cpuids)" ] ||
	fail "$n CPUID exits (reason 0x72), the guest ran $(key "$OUT" cpuids)"
[ "$exits" -ge $((runs + n)) ] ||
	fail "xkvm_exit $exits < KVM_RUN calls $runs + CPUID exits $n"
say "exits: $n CPUID in the driver, $((exits - runs - n)) other exits not seen by the VMM"
drv=$(key "$OUT" driver_exits)
if [ "$drv" = absent ] || [ -z "$drv" ]; then
	say "check against /sys/kernel/debug/xkvm/exits skipped: no such file yet"
else
	[ "$drv" = "$exits" ] ||
		fail "xkvm_exit $exits != the driver's exits $drv"
	say "xkvm_exit == /sys/kernel/debug/xkvm/exits ($drv)"
fi
drv=$(key "$OUT" vcpu0_exits)
if [ "$drv" = absent ] || [ -z "$drv" ]; then
	say "check against /sys/kernel/debug/xkvm/<vm>/vcpu0/exits skipped: no such file yet"
else
	[ "$drv" = "$exits" ] ||
		fail "xkvm_exit $exits != the vCPU's exits $drv"
	say "xkvm_exit == /sys/kernel/debug/xkvm/<vm>/vcpu0/exits ($drv)"
fi
[ "$uexits" = "$runs" ] ||
	fail "xkvm_userspace_exit $uexits != KVM_RUN calls $runs"
[ "$pios" = "$(key "$OUT" pios)" ] ||
	fail "xkvm_pio $pios != port accesses $(key "$OUT" pios)"
n=$(grep -c 'xkvm_pio: .* pio_write at 0x80 size 1 count 1$' "$TR")
[ "$n" = 7 ] || fail "$n xkvm_pio lines 'pio_write at 0x80 size 1 count 1', not 7"
n=$(grep -c 'xkvm_pio: .* pio_write at 0x81 size 1 count 1$' "$TR")
[ "$n" = 1 ] || fail "$n xkvm_pio lines for the handler's OUT to 0x81, not 1"
[ "$mmios" = 1 ] || fail "xkvm_mmio $mmios, not 1"
grep -q "xkvm_mmio: .* mmio_write gpa $(key "$OUT" mmio_gpa) len 4 value $(key "$OUT" mmio_value)\$" "$TR" ||
	fail "xkvm_mmio: $(grep xkvm_mmio "$TR")"
n=$(grep -c "xkvm_inject: .* irq vector $(key "$OUT" vector)" "$TR")
[ "$n" -ge 1 ] || fail "no xkvm_inject of irq vector $(key "$OUT" vector)"
[ "$n" = "$injects" ] || fail "xkvm_inject: other events than the interrupt"
[ "$efails" = 1 ] || fail "xkvm_emulation_failure $efails, not 1"
grep -qE 'xkvm_emulation_failure: .* insn d9 ?00$' "$TR" ||
	fail "xkvm_emulation_failure: $(grep xkvm_emulation_failure "$TR")"
say "$(grep -m1 xkvm_emulation_failure "$TR" | sed 's/.*xkvm_emulation_failure: //')"
say "$(grep -m1 xkvm_inject "$TR" | sed 's/.*xkvm_inject: //')"
exit 0
