#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# mitigations - the speculation mitigations xkvm prints at load follow the
# box's kernel, as its own kvm_amd would have them.
#
# Theory.  xkvm logs one line at load:
#   xkvm: mitigations: rsb_fill=yes untrain_ret=yes ibpb_vmexit=no
#         ibpb_vmcb_switch=no verw=no spec_ctrl=no virt_ssbd=yes
#         ibpb_exit_to_user=no
# read from the kernel's synthetic CPU features (host/linux/cpu_linux.c).
# Most of those features are hidden from /proc/cpuinfo, but the kernel
# reports the mitigations they implement in
# /sys/devices/system/cpu/vulnerabilities/*, and the CPU's own features
# show in /proc/cpuinfo's flags: each key is checked against what those
# say it must be (a key they say nothing certain about is shown, not
# checked).  The line is taken from a fresh load of the module.
# shellcheck shell=dash
# shellcheck source-path=SCRIPTDIR source=lib.sh
. /ops/lib.sh

V=/sys/devices/system/cpu/vulnerabilities
[ -d "$V" ] || skip "no $V"
[ -d /sys/module/xkvm ] || fail "xkvm is not loaded"

rmmod xkvm || fail "rmmod xkvm"
mark=$(dmesg | wc -l)
insmod "$XKVM_KO" || fail "insmod xkvm.ko"
line=$(dmesg | tail -n +$((mark + 1)) | sed -n 's/.*xkvm: mitigations: //p' | tail -n 1)
[ -n "$line" ] || fail "no 'xkvm: mitigations:' line at load"
say "load line: $line"

# get KEY: the value of KEY=... in the load line
get() { echo "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
# vuln FILE: its text, or "absent"
vuln() { cat "$V/$1" 2>/dev/null || echo absent; }
flags=$(grep -m1 '^flags' /proc/cpuinfo)
has_flag() { echo "$flags" | tr ' ' '\n' | grep -qx "$1"; }

bad=0
# expect KEY WANT WHY
expect() {
	got=$(get "$1")
	if [ "$got" = "$2" ]; then
		say "$1=$got ($3)"
	else
		echo "FAILED: $1=$got, want $2 ($3)"
		bad=$((bad + 1))
	fi
}

v2=$(vuln spectre_v2)
rb=$(vuln retbleed)
srso=$(vuln spec_rstack_overflow)
tsa=$(vuln tsa)
vmscape=$(vuln vmscape)
ssb=$(vuln spec_store_bypass)
say "spectre_v2: $v2"
say "retbleed: $rb"
say "spec_rstack_overflow: $srso"
say "tsa: $tsa; vmscape: $vmscape; spec_store_bypass: $ssb"

# the RSB after VM exit: whenever Spectre v2 is mitigated
case $v2 in
Mitigation*) expect rsb_fill yes "spectre_v2 is mitigated" ;;
*) expect rsb_fill no "spectre_v2 is not mitigated" ;;
esac

# return untraining: Retbleed's untrained return thunk, SRSO's safe RET
want=no why="neither retbleed nor SRSO untrains returns"
case $rb in *"untrained return thunk"*) want=yes why="retbleed: $rb" ;; esac
case $srso in *"afe RET"*) want=yes why="spec_rstack_overflow: $srso" ;; esac
expect untrain_ret "$want" "$why"

# IBPB on every VM exit: retbleed=ibpb, srso=ibpb or ibpb_vmexit
want=no why="no IBPB on entry or VM exit"
case $rb in *"Mitigation: IBPB"*) want=yes why="retbleed: $rb" ;; esac
case $srso in *IBPB*) want=yes why="spec_rstack_overflow: $srso" ;; esac
expect ibpb_vmexit "$want" "$why"

# IBPB when a CPU changes VMCB: the kernel uses IBPB (and not on every exit)
if [ "$(get ibpb_vmexit)" = yes ]; then
	expect ibpb_vmcb_switch no "IBPB on every VM exit already"
else
	case $v2 in
	*"IBPB: conditional"* | *"IBPB: always-on"*)
		expect ibpb_vmcb_switch yes "spectre_v2 uses IBPB" ;;
	*) expect ibpb_vmcb_switch no "spectre_v2 does not use IBPB" ;;
	esac
fi

# VERW before VMRUN: TSA's CPU buffer clearing for VMs
case $tsa in
*"Clear CPU buffers"*) expect verw yes "tsa: $tsa" ;;
absent | "Not affected" | Vulnerable*) expect verw no "tsa: $tsa" ;;
*) say "verw=$(get verw) (tsa: $tsa, not checked)" ;;
esac

# SPEC_CTRL: the CPU has the MSR where it has IBRS, STIBP or SSBD
if has_flag ibrs || has_flag stibp || has_flag amd_ssbd; then
	case $(get spec_ctrl) in
	msr | vmcb) say "spec_ctrl=$(get spec_ctrl) (the CPU has SPEC_CTRL)" ;;
	*)
		echo "FAILED: spec_ctrl=$(get spec_ctrl), but the CPU has SPEC_CTRL"
		bad=$((bad + 1))
		;;
	esac
elif has_flag ssbd && ! has_flag virt_ssbd; then
	say "spec_ctrl=$(get spec_ctrl) (ssbd without the others: not checked)"
else
	expect spec_ctrl no "no ibrs, stibp or SSBD in SPEC_CTRL"
fi

# VIRT_SPEC_CTRL: visible as virt_ssbd; LS_CFG's SSBD is a hidden feature
if has_flag virt_ssbd; then
	expect virt_ssbd yes "the CPU has virt_ssbd"
else
	say "virt_ssbd=$(get virt_ssbd) (LS_CFG SSBD is not visible: not checked)"
fi

# VMSCAPE: IBPB before the next return to user space after a guest ran
case $vmscape in
*"IBPB before exit to userspace"*)
	expect ibpb_exit_to_user yes "vmscape: $vmscape" ;;
absent | "Not affected" | Vulnerable* | *"IBPB on VMEXIT"*)
	expect ibpb_exit_to_user no "vmscape: $vmscape" ;;
*) say "ibpb_exit_to_user=$(get ibpb_exit_to_user) (vmscape: $vmscape, not checked)" ;;
esac

[ "$bad" -eq 0 ] || fail "$bad key(s) differ from what the kernel reports"
exit 0
