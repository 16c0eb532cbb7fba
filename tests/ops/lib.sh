# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash
#
# tests/ops/lib.sh - shared by the operator checks (busybox sh in the box).
# A check prints "ops: ..." lines (shown by the box after its result), ends
# with exit 0 (pass), 77 (skip: the last line says why) or 1 (fail: the
# last lines say why).

OPS_BIN=${OPS_BIN:-/ops/bin}
TRACEFS=/sys/kernel/tracing
DEBUGFS=/sys/kernel/debug
XKVM_KO=${XKVM_KO:-/lib/xkvm/xkvm.ko}

say() { echo "ops: $*"; }
fail() { echo "FAILED: $*"; exit 1; }
skip() { echo "skipped: $*"; exit 77; }

# is_mounted DIR (busybox has no mountpoint applet)
is_mounted() { grep -q "^[^ ]* $1 " /proc/mounts; }

# tracefs at /sys/kernel/tracing (and debugfs), mounted when they are not.
mount_tracefs() {
	[ -d "$TRACEFS/events" ] ||
		mount -t tracefs tracefs "$TRACEFS" 2>/dev/null ||
		fail "cannot mount tracefs at $TRACEFS"
	[ -d "$DEBUGFS/tracing" ] || [ -n "$(ls -A "$DEBUGFS" 2>/dev/null)" ] ||
		mount -t debugfs debugfs "$DEBUGFS" 2>/dev/null
	return 0
}

# trace_on EVENT...: an empty ring buffer with only these xkvm events on.
trace_on() {
	local e
	echo 0 >"$TRACEFS/tracing_on"
	echo 0 >"$TRACEFS/events/enable"
	echo 8192 >"$TRACEFS/buffer_size_kb"
	echo 0 >"$TRACEFS/options/overwrite" # a full buffer drops the newest
	echo >"$TRACEFS/trace"
	for e in "$@"; do
		[ -d "$TRACEFS/events/xkvm/$e" ] || fail "no tracepoint xkvm:$e"
		echo 1 >"$TRACEFS/events/xkvm/$e/enable"
	done
	echo 1 >"$TRACEFS/tracing_on"
}

# trace_off FILE: stop, save the trace (no comments), events off.
trace_off() {
	echo 0 >"$TRACEFS/tracing_on"
	echo 0 >"$TRACEFS/events/xkvm/enable"
	grep -v '^#' "$TRACEFS/trace" >"$1"
	echo >"$TRACEFS/trace"
}

# count FILE EVENT: lines of that event in a saved trace.
count() { grep -c " $2: " "$1"; }

# key FILE NAME: the value of NAME=... in a trace_guest output.
key() { sed -n "s/^$2=//p" "$1" | head -n 1; }
