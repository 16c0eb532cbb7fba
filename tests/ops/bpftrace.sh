#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# bpftrace - tools/bpftrace/guest-time.bt runs on xkvm's tracepoints and
# prints one histogram of guest time per VMM pid and vCPU.
#
# Theory.  bpftrace (Debian's, with LLVM: some 200 MB of libraries) is not
# copied into the box: testbed/box.sh shares the host's root file system
# read-only over virtio-9p (mount tag "hostroot"), and the script runs
# bpftrace from there with chroot, after mounting the box's own proc, sys,
# tracefs, dev and a tmpfs into that tree.  While bpftrace traces (the
# script's own 6-second limit), trace_guest runs five times, each a new
# process; the output must hold a histogram keyed [pid, 0] for each of them
# with at least one "[lo, hi) count |@...|" line.  Skipped when the box has
# no host share or the host has no bpftrace (testbed/deps.sh installs it).
# shellcheck shell=dash
# shellcheck source-path=SCRIPTDIR source=lib.sh
. /ops/lib.sh

H=/host
BT_OUT=/tmp/ops-bpftrace.out
# shellcheck disable=SC2013 # one module name a line
for m in $(cat /lib/9p/order 2>/dev/null); do
	[ -d "/sys/module/$m" ] || insmod "/lib/9p/$m.ko" 2>/dev/null
done
mkdir -p $H
is_mounted $H ||
	mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144 hostroot $H 2>/dev/null ||
	skip "no host file system shared with the box (9p tag hostroot)"
[ -x $H/usr/bin/bpftrace ] || skip "no bpftrace on the host (testbed/deps.sh installs it)"
mount_tracefs
is_mounted $H/proc || mount -t proc proc $H/proc || fail "mount proc in $H"
is_mounted $H/sys || mount -t sysfs sysfs $H/sys || fail "mount sysfs in $H"
is_mounted $H/sys/kernel/tracing ||
	mount -t tracefs tracefs $H/sys/kernel/tracing || fail "mount tracefs in $H"
is_mounted $H/sys/kernel/debug || mount -t debugfs debugfs $H/sys/kernel/debug
is_mounted $H/dev || mount -t devtmpfs devtmpfs $H/dev || fail "mount dev in $H"
is_mounted $H/tmp || mount -t tmpfs tmpfs $H/tmp || fail "mount tmpfs in $H"
# bpftrace holds a reference on xkvm while it traces: never leave it behind
bt=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	[ -n "$bt" ] && kill "$bt" 2>/dev/null && sleep 1 && kill -9 "$bt" 2>/dev/null
	for m in tmp dev sys/kernel/debug sys/kernel/tracing sys proc; do
		is_mounted "$H/$m" && umount "$H/$m"
	done
	return 0
}
trap cleanup EXIT
cp /ops/guest-time.bt $H/tmp/guest-time.bt || fail "no /ops/guest-time.bt"

ulimit -l unlimited 2>/dev/null
chroot $H /usr/bin/bpftrace /tmp/guest-time.bt 6 >$BT_OUT 2>&1 &
bt=$!
i=0
while ! grep -q '^Tracing' $BT_OUT && kill -0 $bt 2>/dev/null && [ $i -lt 1200 ]; do
	sleep 0.1
	i=$((i + 1))
done
grep -q '^Tracing' $BT_OUT || {
	kill $bt 2>/dev/null
	tail -n 15 $BT_OUT
	fail "bpftrace did not start tracing"
}
say "bpftrace attached after $((i / 10)) s"
pids=
for i in 1 2 3 4 5; do
	"$OPS_BIN/trace_guest" >/tmp/ops-bt-guest.out 2>&1 &
	p=$!
	wait $p || { tail -n 5 /tmp/ops-bt-guest.out; fail "trace_guest failed"; }
	pids="$pids $p"
done
i=0
while kill -0 $bt 2>/dev/null && [ $i -lt 600 ]; do
	sleep 0.1
	i=$((i + 1))
done
if kill -0 $bt 2>/dev/null; then
	kill -INT $bt
	sleep 2
	kill $bt 2>/dev/null
	fail "bpftrace did not stop after its 6 seconds"
fi
wait $bt
rc=$?
bt=
sed -n 's/^/ops: | /p' $BT_OUT | head -n 40
[ $rc = 0 ] || fail "bpftrace: exit status $rc"
for p in $pids; do
	grep -q "^@guest_ns\[$p, 0\]:" $BT_OUT ||
		fail "no histogram @guest_ns[$p, 0] for trace_guest pid $p"
done
n=$(grep -c '^\[[0-9]*[KMG]\{0,1\}, [0-9]*[KMG]\{0,1\}) *[0-9][0-9]* |@*|$' $BT_OUT)
[ "$n" -ge 5 ] || fail "$n histogram lines, not at least one per guest"
[ "$(grep -c '^@guest_ns\[' $BT_OUT)" = 5 ] ||
	fail "other keys than the five guests: $(grep '^@guest_ns\[' $BT_OUT)"
say "five histograms, keys [pid, 0] of the five trace_guest runs"
exit 0
