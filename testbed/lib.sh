# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# testbed/lib.sh - definitions shared by the test bed's host-side scripts
# (box.sh, run-tests, run-demo), which source it.  Sets TOP (the repository),
# BUILD (build/, or $BUILD) and TB (build/testbed).

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
# shellcheck disable=SC2034 # used by the scripts that source this file
TB=$BUILD/testbed
export BUILD

# take_box_lock WHO: let one test bed run at a time use the machine's boxes.
# Two TCG boxes on the same 2 cores slow each other 4-8x, and a run must not
# have its initramfs rebuilt under it.  The lock (XKVM_BOX_LOCK, default
# /tmp/xkvm-testbed.lock, empty for none) is held on file descriptor 9 until
# the caller exits; XKVM_LOCK_HELD=1 tells child scripts not to take it again.
take_box_lock() {
	local who=$1 lock=${XKVM_BOX_LOCK-/tmp/xkvm-testbed.lock} wait=1800
	[ -n "$lock" ] && [ -z "${XKVM_LOCK_HELD:-}" ] || return 0
	exec 9>>"$lock"
	if ! flock -n 9; then
		echo "$who: another test bed run is using the box (lock $lock); waiting"
		flock -w "$wait" 9 ||
			echo "$who: warning: lock still held after $wait s; going on"
	fi
	export XKVM_LOCK_HELD=1
}
