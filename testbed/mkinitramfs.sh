#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# testbed/mkinitramfs.sh - build the test box's root file system,
# build/testbed/initramfs.cpio.gz, from what is already built:
#
#   /bin/busybox + applet links     from the host's busybox-static
#   /init                           testbed/init
#   /bin/kvm-hold                   testbed/kvm-hold.c (built here, static)
#   /bin/gdb-vmm                    testbed/gdb-vmm.c (built here, static)
#   /lib/kvm_amd/*.ko, order        Linux's kvm_amd and deps (testbed/deps.sh)
#   /lib/9p/*.ko, order             virtio-pci + 9p modules, if deps.sh found them
#   /lib/xkvm/xkvm.ko               build/xkvm.ko, if it exists
#   /tests/<name>                   every executable in build/guest/
#   /bin/kvmrun                     build/kvmrun, if it exists
#   /bin/kvmstat                    build/kvmstat, if it exists
#   /demo/*                         build/demo/*, if it exists
#   /etc/testbed-info               what went in (printed by /init)
#
# XKVM_TESTS="a b" limits /tests to the named guest tests; names that do not
# exist in build/guest/ are listed in build/testbed/missing-tests.
# XKVM_MODULE, XKVM_GUEST_DIR, XKVM_KVMRUN and XKVM_DEMO_DIR replace the
# defaults build/xkvm.ko, build/guest, build/kvmrun and build/demo.
# Run testbed/deps.sh first.  Takes a second or two.

set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
TB=$BUILD/testbed
STAGE=$TB/initramfs
OUT=$TB/initramfs.cpio.gz
BUSYBOX=${XKVM_BUSYBOX:-/bin/busybox}
MODULE=${XKVM_MODULE:-$BUILD/xkvm.ko}
GUEST_DIR=${XKVM_GUEST_DIR:-$BUILD/guest}
KVMRUN=${XKVM_KVMRUN:-$BUILD/kvmrun}
KVMSTAT=${XKVM_KVMSTAT:-$BUILD/kvmstat}
DEMO_DIR=${XKVM_DEMO_DIR:-$BUILD/demo}

log() { echo "mkinitramfs: $*"; }
die() { echo "mkinitramfs: error: $*" >&2; exit 1; }

# Build build/testbed/kvm-hold when its source is newer than the binary.
build_kvm_hold() {
	local src=$TOP/testbed/kvm-hold.c bin=$TB/kvm-hold
	if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ]; then
		log "building kvm-hold"
		gcc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -static \
			-o "$bin" "$src"
	fi
	# the VM the debugger test inspects (testbed/run-gdb-test)
	src=$TOP/testbed/gdb-vmm.c bin=$TB/gdb-vmm
	if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ]; then
		log "building gdb-vmm"
		gcc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -static \
			-pthread -o "$bin" "$src"
	fi
}

install_busybox() {
	local applet
	readelf -d "$BUSYBOX" 2>/dev/null | grep NEEDED >/dev/null &&
		die "$BUSYBOX is not static (install busybox-static)"
	mkdir -p "$STAGE"/{bin,sbin,usr/bin,usr/sbin}
	cp "$BUSYBOX" "$STAGE/bin/busybox"
	# One link per applet, at the path busybox itself names (bin/ls, ...).
	while IFS= read -r applet; do
		[ -e "$STAGE/$applet" ] || ln -s /bin/busybox "$STAGE/$applet"
	done < <("$BUSYBOX" --list-full)
	[ -e "$STAGE/bin/sh" ] || ln -s busybox "$STAGE/bin/sh"
}

# Copy the selected guest tests; record names asked for but not found.
install_tests() {
	local f name want
	mkdir -p "$STAGE/tests"
	: >"$TB/missing-tests"
	if [ -n "${XKVM_TESTS:-}" ]; then
		for want in $XKVM_TESTS; do
			f=$GUEST_DIR/$want
			if [ -f "$f" ] && [ -x "$f" ]; then
				install_static "$f" "$STAGE/tests/$want"
			else
				echo "$want" >>"$TB/missing-tests"
			fi
		done
		return 0
	fi
	[ -d "$GUEST_DIR" ] || return 0
	for f in "$GUEST_DIR"/*; do
		name=$(basename "$f")
		[ -f "$f" ] && [ -x "$f" ] || continue
		case $name in .*|*.o|*.d) continue ;; esac
		install_static "$f" "$STAGE/tests/$name"
	done
}

# Copy a program into the box; the box has no C library, so warn when the
# program is dynamically linked (it would fail there with "not found").
# The operator checks (tests/ops/*.sh, their helpers in build/ops/): all,
# or those named in XKVM_OPS ("" for none).
install_ops() {
	local f want
	mkdir -p "$STAGE/ops/bin"
	cp "$TOP/tests/ops/lib.sh" "$TOP/tools/bpftrace/guest-time.bt" "$STAGE/ops/"
	for f in "$TOP"/tests/ops/*.sh; do
		want=$(basename "$f" .sh)
		[ "$want" = lib ] && continue
		case " ${XKVM_OPS-$want} " in *" $want "*) ;; *) continue ;; esac
		install -m 0755 "$f" "$STAGE/ops/"
	done
	[ -d "$BUILD/ops" ] || return 0
	for f in "$BUILD"/ops/*; do
		[ -f "$f" ] && [ -x "$f" ] && install_static "$f" "$STAGE/ops/bin/${f##*/}"
	done
	return 0
}

install_static() {
	if readelf -d "$1" 2>/dev/null | grep NEEDED >/dev/null; then
		log "warning: ${1#"$TOP"/} is dynamically linked and will not run in the box"
	fi
	install -m 0755 "$1" "$2"
}

write_info() {
	local rev
	rev=$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)
	{
		echo "commit: $rev$(git -C "$TOP" diff --quiet 2>/dev/null || echo ' (dirty tree)')"
		echo "kernel: $(cat "$TB/kernel/VERSION")"
		echo "built: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
		if [ -f "$STAGE/lib/xkvm/xkvm.ko" ]; then
			echo "xkvm.ko: $(stat -c '%s bytes, %y' "$MODULE")"
		else
			echo "xkvm.ko: missing (${MODULE#"$TOP"/} not built)"
		fi
		echo "tests: $(ls "$STAGE/tests" | tr '\n' ' ')"
	} >"$STAGE/etc/testbed-info"
}

main() {
	local group
	[ -s "$TB/kernel/modules/kvm_amd/order" ] ||
		die "no kernel modules in $TB/kernel: run testbed/deps.sh first"
	mkdir -p "$TB"
	build_kvm_hold

	rm -rf "$STAGE"
	mkdir -p "$STAGE"/{dev,proc,sys,tmp,etc,lib,root}
	install_busybox
	install -m 0755 "$TOP/testbed/init" "$STAGE/init"
	install -m 0755 "$TB/kvm-hold" "$STAGE/bin/kvm-hold"
	install -m 0755 "$TB/gdb-vmm" "$STAGE/bin/gdb-vmm"

	for group in "$TB"/kernel/modules/*/; do
		group=$(basename "$group")
		mkdir -p "$STAGE/lib/$group"
		cp "$TB/kernel/modules/$group"/* "$STAGE/lib/$group/"
	done
	if [ -f "$MODULE" ]; then
		mkdir -p "$STAGE/lib/xkvm"
		cp "$MODULE" "$STAGE/lib/xkvm/xkvm.ko"
	fi
	install_tests
	install_ops
	if [ -f "$KVMRUN" ]; then
		install_static "$KVMRUN" "$STAGE/bin/kvmrun"
	fi
	if [ -f "$KVMSTAT" ]; then
		install_static "$KVMSTAT" "$STAGE/bin/kvmstat"
	fi
	if [ -d "$DEMO_DIR" ]; then
		mkdir -p "$STAGE/demo"
		cp -r "$DEMO_DIR/." "$STAGE/demo/"
	fi
	write_info

	(cd "$STAGE" && find . -mindepth 1 | LC_ALL=C sort |
		cpio --quiet -o -H newc -R 0:0) | gzip -1 >"$OUT.tmp"
	mv "$OUT.tmp" "$OUT"
	log "${OUT#"$TOP"/}: $(du -k "$OUT" | cut -f1) KiB," \
		"$(ls "$STAGE/tests" | wc -l) guest test(s)," \
		"xkvm.ko $( [ -f "$STAGE/lib/xkvm/xkvm.ko" ] && echo present || echo MISSING)"
}

main "$@"
