#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# modparams - every module parameter of xkvm (packaging/modprobe.d/xkvm.conf
# documents them) does what it says, in the box.
#
# Theory.  xkvm has one parameter today, held (read-only): the objects,
# pages and pinned guest pages the driver holds.  So the checks are that it
# reads in its format; that it follows a VM (trace_guest pins its 32 MiB of
# guest memory: 8192 more pinned pages while its VM lives, none after); that
# a write through sysfs is refused; and that giving it a value at load time
# (insmod xkvm.ko held=1, what an "options xkvm held=..." line does) makes
# the load fail with EPERM and a log line instead of crashing the kernel.
# A parameter added later gets its check here.
# shellcheck shell=dash
# shellcheck source-path=SCRIPTDIR source=lib.sh
. /ops/lib.sh

P=/sys/module/xkvm/parameters
[ -d /sys/module/xkvm ] || fail "xkvm is not loaded"
for p in "$P"/*; do
	case ${p##*/} in
	held) ;;
	*) fail "parameter ${p##*/} has no check in modparams.sh" ;;
	esac
done

# held: objects N pages N pinned N
fmt='^objects -\{0,1\}[0-9][0-9]* pages -\{0,1\}[0-9][0-9]* pinned -\{0,1\}[0-9][0-9]*$'
before=$(cat "$P/held") || fail "cannot read $P/held"
echo "$before" | grep -q "$fmt" || fail "held reads '$before'"
say "held (idle): $before"
pinned0=$(echo "$before" | awk '{ print $6 }')
"$OPS_BIN/trace_guest" >/tmp/ops-held.out 2>&1 ||
	{ tail -n 5 /tmp/ops-held.out; fail "trace_guest failed"; }
live=$(key /tmp/ops-held.out held_live)
echo "$live" | grep -q "$fmt" || fail "held read while a VM lived: '$live'"
say "held (a VM with 32 MiB alive): $live"
pinned=$(echo "$live" | awk '{ print $6 }')
[ $((pinned - pinned0)) -ge 8192 ] ||
	fail "held: pinned $pinned with a 32 MiB VM alive, $pinned0 before"
after=$(cat "$P/held")
say "held (VM gone): $after"
[ "$after" = "$before" ] || fail "held after the VM: '$after', before: '$before'"

# a write through sysfs is refused
if (echo 1 >"$P/held") 2>/dev/null; then
	fail "writing $P/held succeeded"
fi
[ "$(cat "$P/held")" = "$before" ] || fail "held changed by a write"
say "held: a write through sysfs is refused"

# a value at load time: the load fails with EPERM, and says why
rmmod xkvm || fail "rmmod xkvm"
dmesg -c >/dev/null
if out=$(insmod "$XKVM_KO" held=1 2>&1); then
	fail "insmod xkvm.ko held=1 succeeded"
fi
case $out in
*"Operation not permitted"*) ;;
*) fail "insmod xkvm.ko held=1: '$out' (want EPERM)" ;;
esac
dmesg | grep -q 'xkvm: the parameter held is read-only' ||
	fail "no kernel line for held=1: $(dmesg | tail -n 3)"
! dmesg | grep -qE 'Oops|BUG:|Call Trace' || fail "kernel trouble: $(dmesg | tail -n 5)"
[ ! -d /sys/module/xkvm ] || fail "xkvm loaded with held=1"
say "insmod xkvm.ko held=1: refused ($out)"
insmod "$XKVM_KO" || fail "insmod xkvm.ko again"
[ -c /dev/kvm ] || fail "no /dev/kvm after loading again"
exit 0
