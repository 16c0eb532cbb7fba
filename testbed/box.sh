#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# testbed/box.sh - boot one test box and watch it from outside.
#
#   testbed/box.sh MODE [LOG]     MODE is test, refuse, demo, gdb or qemu (see init)
#
# Boots Debian's kernel (build/testbed/kernel/vmlinuz) with the initramfs
# (build/testbed/initramfs.cpio.gz; run deps.sh and mkinitramfs.sh first;
# for MODE=qemu build/testbed/initramfs-qemu.cpio.gz, from mkqemu.sh) in
# QEMU TCG: -cpu EPYC,+pku (AMD SVM + NPT; protection keys for the PKRU
# tests), or qemu64,-svm (no SVM; plain qemu64 has SVM under TCG) for
# MODE=refuse.
# The serial console goes to LOG (default build/testbed/MODE.log) and is
# streamed to stdout as it arrives.  A watchdog kills QEMU when the console
# has been silent for XKVM_SILENCE_TIMEOUT seconds (the box can freeze under
# multi-threaded TCG) or the whole boot exceeds XKVM_BOX_TIMEOUT.
#
# A box whose kernel reports a lockup or stall keeps printing but gets no
# further: it is killed XKVM_WEDGE_GRACE seconds after the first such report.
#
# Exit status: 0  the box reached its end marker ("=== testbed: end ===")
#              2  hang: console silent too long, QEMU killed
#              3  overall timeout, QEMU killed
#              4  QEMU ended before the end marker (panic, crash, bad setup)
#              5  wedged: the kernel reported a lockup or stall, QEMU killed
#              1  usage or setup error
# The last line of LOG.status holds the same verdict in words.
#
# Environment (all optional):
#   XKVM_CPU              CPU model (EPYC,+pku; qemu64,-svm for refuse)
#   XKVM_SMP, XKVM_MEM    vCPUs (2) and MiB of memory (2048)
#   XKVM_TCG_THREAD       multi or single (multi)
#   XKVM_SILENCE_TIMEOUT  seconds of console silence that mean a hang (180)
#   XKVM_BOX_TIMEOUT      seconds for the whole boot (600; qemu mode 1200)
#   XKVM_WEDGE_GRACE      seconds between a lockup/stall report and the kill
#                         (30), to let the kernel print its traces
#   XKVM_TEST_TIMEOUT     per-guest-test timeout inside the box (120)
#   XKVM_LOGLEVEL         kernel console loglevel (7: up to KERN_INFO)
#   XKVM_APPEND           extra kernel command line
#   XKVM_QEMU_ARGS        extra QEMU arguments
#   XKVM_HOST_SHARE       1 (default): the test box sees the host's root
#                         read-only over virtio-9p (tag hostroot); 0: not
#   XKVM_STREAM           what to stream: all (default), marks (=== lines
#                         and results), phases (=== testbed: lines and the
#                         demo's output), none
#   XKVM_SHELL=1          interactive: a shell on the console at the end, no
#                         watchdog (type `exit` to power off)
#   XKVM_BOX_LOCK         lock file serialising boxes on this machine, since
#                         two TCG boxes slow each other 4-8x
#                         (/tmp/xkvm-testbed.lock; empty: no lock)

set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
KERNEL=$TB/kernel/vmlinuz

END_MARKER='=== testbed: end ==='

SILENCE_TIMEOUT=${XKVM_SILENCE_TIMEOUT:-180}
WEDGE_GRACE=${XKVM_WEDGE_GRACE:-30}
# Kernel reports after which a box makes no more progress.
WEDGED='soft lockup - CPU#|hard LOCKUP|rcu_(preempt|sched) detected stall|blocked for more than [0-9]+ seconds|Kernel panic'


usage() { echo "usage: $0 test|refuse|demo|gdb|qemu [LOG]" >&2; exit 1; }
die() { echo "box: error: $*" >&2; exit 1; }

MODE=${1:-}
case $MODE in test|refuse|demo|gdb|qemu) ;; *) usage ;; esac
LOG=${2:-$TB/$MODE.log}
# The qemu box boots stock QEMU from a bigger initramfs, and guests in it
# take minutes (see testbed/init).
if [ "$MODE" = qemu ]; then
	INITRD=$TB/initramfs-qemu.cpio.gz
	BOX_TIMEOUT=${XKVM_BOX_TIMEOUT:-1200}
else
	INITRD=$TB/initramfs.cpio.gz
	BOX_TIMEOUT=${XKVM_BOX_TIMEOUT:-600}
fi

qemu_cmd() {
	local cpu append
	# QEMU's qemu64 model has SVM under TCG: take it away explicitly.
	if [ "$MODE" = refuse ]; then cpu=${XKVM_CPU:-qemu64,-svm}; else cpu=${XKVM_CPU:-EPYC,+pku}; fi
	append="console=ttyS0 panic=-1 loglevel=${XKVM_LOGLEVEL:-7}"
	# a lockup report shows every CPU's stack, not only the one that saw it
	append+=" softlockup_all_cpu_backtrace=1"
	append+=" xkvm.mode=$MODE xkvm.timeout=${XKVM_TEST_TIMEOUT:-120}"
	[ "${XKVM_SHELL:-0}" = 1 ] && append+=" xkvm.shell=1"
	append+=${XKVM_APPEND:+ $XKVM_APPEND}
	QEMU=(qemu-system-x86_64
		-accel "tcg,thread=${XKVM_TCG_THREAD:-multi}"
		-cpu "$cpu" -smp "${XKVM_SMP:-2}" -m "${XKVM_MEM:-2048}"
		-nographic -no-reboot -nic none
		-kernel "$KERNEL" -initrd "$INITRD" -append "$append")
	# the host's root, read-only, for tools run from it (tests/ops/bpftrace.sh)
	[ "$MODE" = test ] && [ "${XKVM_HOST_SHARE:-1}" = 1 ] &&
		QEMU+=(-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap")
	# shellcheck disable=SC2206 # word splitting of extra args is intended
	[ -n "${XKVM_QEMU_ARGS:-}" ] && QEMU+=($XKVM_QEMU_ARGS)
	return 0
}

# Print the console as it grows, filtered by XKVM_STREAM, until QEMU is gone.
# Carriage returns and terminal escapes (from the firmware) are dropped.
# "phases" also shows a demo's own output (between its two markers).
stream() {
	local qpid=$1 mode=${XKVM_STREAM:-all} line in_demo=0
	[ "$mode" = none ] && return 0
	tail -n +1 -F --pid="$qpid" "$LOG" 2>/dev/null |
		sed -u -e 's/\r//g' -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1bc//g' |
		while IFS= read -r line; do
			case $mode:$line in
			all:*) ;;
			*:"=== testbed: demo exit status "*) in_demo=0 ;;
			*:"=== testbed: demo: "*) in_demo=1 ;;
			*:"=== testbed: "*) ;;
			marks:"=== "* | marks:"PASS "* | marks:"FAIL "* | marks:"SKIP "*) ;;
			*) [ "$in_demo" = 1 ] || continue ;;
			esac
			printf '%s\n' "$line"
		done
}

QPID='' SPID=''
cleanup() {
	if [ -n "$QPID" ]; then kill "$QPID" 2>/dev/null || true; fi
	if [ -n "$SPID" ]; then kill "$SPID" 2>/dev/null || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Stop QEMU: TERM first, KILL if it lingers.
stop_qemu() {
	local _
	kill "$QPID" 2>/dev/null || return 0
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		kill -0 "$QPID" 2>/dev/null || return 0
		sleep 0.5
	done
	kill -9 "$QPID" 2>/dev/null || true
}

# Watch QEMU until it exits or the console stalls; sets VERDICT to 0, or to
# 2 (hang), 3 (overall timeout) or 5 (wedged) after killing QEMU.
VERDICT=0
watch_box() {
	local start now last_size=-1 size last_change wedged_at='' what
	start=$(date +%s)
	last_change=$start
	while kill -0 "$QPID" 2>/dev/null; do
		sleep 2
		now=$(date +%s)
		size=$(stat -c %s "$LOG" 2>/dev/null || echo 0)
		if [ "$size" != "$last_size" ]; then
			last_size=$size
			last_change=$now
			if [ -z "$wedged_at" ] &&
			   what=$(grep -a -m1 -oE "$WEDGED" "$LOG"); then
				wedged_at=$now
				echo "box: the kernel reports '$what'; stopping the box in $WEDGE_GRACE s"
			fi
		fi
		if [ -n "$wedged_at" ] && [ $((now - wedged_at)) -ge "$WEDGE_GRACE" ]; then
			VERDICT=5
			stop_qemu
			return
		fi
		if [ $((now - last_change)) -ge "$SILENCE_TIMEOUT" ]; then
			VERDICT=2
			echo "box: no console output for $SILENCE_TIMEOUT s: hang, killing QEMU"
			stop_qemu
			return
		fi
		if [ $((now - start)) -ge "$BOX_TIMEOUT" ]; then
			VERDICT=3
			echo "box: still running after $BOX_TIMEOUT s: killing QEMU"
			stop_qemu
			return
		fi
	done
}

run_interactive() {
	echo "box: interactive $MODE box; the console is yours (Ctrl-A x quits QEMU)"
	"${QEMU[@]}" 2>&1 | tee "$LOG"
}

main() {
	local rc=0 elapsed t0 qrc=0
	[ -f "$KERNEL" ] || die "no $KERNEL: run testbed/deps.sh"
	[ -f "$INITRD" ] || die "no $INITRD: run testbed/$([ "$MODE" = qemu ] && echo mkqemu.sh || echo mkinitramfs.sh)"
	command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing: run testbed/deps.sh"
	mkdir -p "$(dirname "$LOG")"
	qemu_cmd

	if [ "${XKVM_SHELL:-0}" = 1 ]; then
		run_interactive
		return 0
	fi

	take_box_lock box

	echo "box: $MODE box: ${QEMU[*]}" >"$LOG.status"
	: >"$LOG"
	t0=$(date +%s)
	"${QEMU[@]}" </dev/null >"$LOG" 2>&1 &
	QPID=$!
	stream "$QPID" &
	SPID=$!

	watch_box
	wait "$QPID" || qrc=$?
	QPID=
	wait "$SPID" 2>/dev/null || true
	SPID=
	elapsed=$(( $(date +%s) - t0 ))

	if [ "$VERDICT" != 0 ]; then
		rc=$VERDICT
	elif tr -d '\r' <"$LOG" | grep -xF "$END_MARKER" >/dev/null; then
		rc=0
	else
		rc=4
	fi
	case $rc in
	0) echo "box: $MODE box finished in $elapsed s" ;;
	2) echo "box: $MODE box HUNG (console silent ${SILENCE_TIMEOUT} s), killed after $elapsed s" ;;
	3) echo "box: $MODE box TIMED OUT after $elapsed s" ;;
	4) echo "box: $MODE box ended after $elapsed s without its end marker (QEMU status $qrc)" ;;
	5) echo "box: $MODE box WEDGED (kernel lockup or stall), killed after $elapsed s" ;;
	esac | tee -a "$LOG.status"
	return "$rc"
}

main "$@"
