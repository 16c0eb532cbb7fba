#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/packaging/run.sh - the installation files, checked on the host.
#
# Theory.  Four checks, each one "PASS name" / "FAIL name: why" line (the
# form scripts/run-all-tests.sh counts):
#   packaging/install       make install DESTDIR=<tmp> puts exactly the
#                           expected files where they belong, equal to
#                           their sources, with their modes
#   packaging/modprobe-conf every parameter modinfo lists for build/xkvm.ko
#                           is documented in packaging/modprobe.d/xkvm.conf
#                           and has its box check in tests/ops/modparams.sh
#   packaging/udev-rule     the rule gives /dev/kvm to group kvm, mode 0660
#   packaging/dkms-build    `dkms build` of the sources `make dkms-src`
#                           copies, against Debian's kernel headers, in a
#                           throwaway DKMS tree (--dkmstree, --sourcetree,
#                           --installtree, and a throwaway signing key
#                           through the environment: dkms would otherwise
#                           create /var/lib/dkms/mok.key); the host's DKMS
#                           state (dkms status, /var/lib/dkms) must be as
#                           before.
# Needs build/xkvm.ko (make module) and, for the last check, dkms
# (testbed/deps.sh).
set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
cd "$TOP" || exit 1
TMP=$(mktemp -d /tmp/xkvm-packaging.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
failed=0

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; failed=1; }

KO=$BUILD/xkvm.ko
[ -f "$KO" ] || { fail packaging/setup "no $KO (make module)"; exit 1; }
KVER=$(modinfo -F vermagic "$KO" | cut -d' ' -f1)

check_install() {
	local d=$TMP/destdir want got f src mode why=
	if ! make -s install DESTDIR="$d" >"$TMP/install.log" 2>&1; then
		fail packaging/install "make install failed: $(tail -n 3 "$TMP/install.log")"
		return
	fi
	# destination  source  mode
	want="lib/modules/$KVER/updates/xkvm.ko $KO 644
lib/udev/rules.d/65-xkvm.rules packaging/udev/65-xkvm.rules 644
etc/modprobe.d/xkvm.conf packaging/modprobe.d/xkvm.conf 644
usr/local/share/xkvm/bpftrace/guest-time.bt tools/bpftrace/guest-time.bt 755"
	if [ -x "$BUILD/kvmstat" ]; then
		want+=$'\n'"usr/local/bin/kvmstat $BUILD/kvmstat 755"
	elif [ -f tools/kvmstat/kvmstat ]; then
		want+=$'\n'"usr/local/bin/kvmstat tools/kvmstat/kvmstat 755"
	fi
	while read -r f src mode; do
		if [ ! -f "$d/$f" ]; then
			why+="no /$f; "
		elif ! cmp -s "$d/$f" "$src"; then
			why+="/$f differs from $src; "
		elif [ "$(stat -c %a "$d/$f")" != "$mode" ]; then
			why+="/$f has mode $(stat -c %a "$d/$f"), not $mode; "
		fi
	done <<<"$want"
	got=$(cd "$d" && find . -type f | sed 's|^\./||' | sort)
	if [ "$got" != "$(cut -d' ' -f1 <<<"$want" | sort)" ]; then
		why+="installed files: $(echo "$got" | tr '\n' ' ')"
	fi
	if [ -n "$why" ]; then fail packaging/install "$why"; else pass packaging/install; fi
}

check_modprobe_conf() {
	local p why=
	for p in $(modinfo -F parm "$KO" | cut -d: -f1); do
		grep -qE "^#   $p " packaging/modprobe.d/xkvm.conf ||
			why+="parameter $p not documented in packaging/modprobe.d/xkvm.conf; "
		grep -qE "^[[:space:]]*$p\)" tests/ops/modparams.sh ||
			why+="parameter $p has no check in tests/ops/modparams.sh; "
	done
	if [ -n "$why" ]; then fail packaging/modprobe-conf "$why"; else pass packaging/modprobe-conf; fi
}

check_udev_rule() {
	local r=packaging/udev/65-xkvm.rules
	if grep -v '^#' "$r" | grep 'KERNEL=="kvm"' | grep 'GROUP="kvm"' |
		grep -q 'MODE="0660"'; then
		pass packaging/udev-rule
	else
		fail packaging/udev-rule "$r does not give /dev/kvm to group kvm, mode 0660"
	fi
}

dkms_state() { dkms status 2>&1; ls -lA /var/lib/dkms 2>&1; }

check_dkms() {
	local ver src before after ko
	if ! command -v dkms >/dev/null; then
		fail packaging/dkms-build "no dkms (testbed/deps.sh installs it)"
		return
	fi
	ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
	src=$TMP/src/xkvm-$ver
	mkdir -p "$TMP/dkms" "$TMP/install"
	before=$(dkms_state)
	make -s dkms-src DESTDIR="$src" >"$TMP/dkms.log" 2>&1 &&
		mok_signing_key=$TMP/mok.key mok_certificate=$TMP/mok.pub \
		dkms build -m xkvm -v "$ver" -k "$KVER" \
			--dkmstree "$TMP/dkms" --sourcetree "$TMP/src" \
			--installtree "$TMP/install" \
			--kernelsourcedir "/usr/src/linux-headers-$KVER" \
			>>"$TMP/dkms.log" 2>&1
	local rc=$?
	after=$(dkms_state)
	ko=$(find "$TMP/dkms/xkvm/$ver/$KVER" -name 'xkvm.ko*' 2>/dev/null | head -n 1)
	if [ $rc != 0 ]; then
		fail packaging/dkms-build "dkms build: exit status $rc: $(tail -n 5 "$TMP/dkms.log" | tr '\n' ' ')"
	elif [ -z "$ko" ]; then
		fail packaging/dkms-build "dkms build made no xkvm.ko"
	elif [ "$(modinfo -F vermagic "$ko" | cut -d' ' -f1)" != "$KVER" ]; then
		fail packaging/dkms-build "the module DKMS built is not for $KVER"
	elif [ "$before" != "$after" ]; then
		fail packaging/dkms-build "the host's DKMS state changed: $(diff <(echo "$before") <(echo "$after") | tr '\n' ' ')"
	else
		pass packaging/dkms-build
		echo "packaging: dkms built ${ko#"$TMP"/} for $KVER"
	fi
}

check_install
check_modprobe_conf
check_udev_rule
check_dkms
exit $failed
