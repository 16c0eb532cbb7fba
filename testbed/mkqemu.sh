#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# testbed/mkqemu.sh - build the qemu box's initramfs,
# build/testbed/initramfs-qemu.cpio.gz: the test box's initramfs (from
# testbed/mkinitramfs.sh, run that first) followed by a second archive that
# adds stock QEMU and a guest for it.  The kernel unpacks both archives into
# one root file system, so the default test box's initramfs stays small.
#
# The second archive (build/testbed/qemu-extra.cpio.gz) holds:
#   /usr/bin/qemu-system-x86_64     the host's own, unmodified (Debian 7.2)
#   /lib/x86_64-linux-gnu/*.so*     its shared libraries (from ldd), and
#   /lib64/ld-linux-x86-64.so.2     the dynamic loader, at the host's paths
#   /usr/share/seabios/*            firmware: SeaBIOS (bios-256k.bin) and the
#   /usr/share/qemu/<x86 roms>      option ROMs a -kernel boot loads
#   /qemu/vmlinuz                   the guest's kernel: the box's own kernel
#   /qemu/guest.cpio.gz             the guest's initramfs: busybox and
#                                   testbed/guest-init as /init
#   /qemu/expected-sum              md5 of that busybox (the guest prints it)
#   /bin/boot-watch                 testbed/boot-watch.c, built here (static)
#   /etc/qemu-box.conf              the settings below, read by /init
#
# Settings (environment, all optional; they end up in /etc/qemu-box.conf):
#   XKVM_QEMU_CPU           the guest's -cpu (qemu64)
#   XKVM_QEMU_MEM           the guest's -m in MiB (256)
#   XKVM_QEMU_SMP           the guest's -smp (1)
#   XKVM_QEMU_APPEND        more guest kernel command line
#   XKVM_QEMU_EXTRA         more QEMU arguments (split at spaces)
#   XKVM_QEMU_TIMEOUT       seconds a kvm_amd boot may take to the marker (150)
#   XKVM_QEMU_XKVM_TIMEOUT  the same for xkvm (120)
#   XKVM_QEMU_REF_IRQCHIP_TIMEOUT  the same for kvm_amd with its in-kernel
#                           irqchip (100): a reference that hangs in this
#                           nested box now and then; no marker is a SKIP
#   XKVM_QEMU_RUNS          which boots, in order, each
#                           DRIVER[-irqchip][-smpN][-x2apic] (default: kvm_amd,
#                           kvm_amd-irqchip, then xkvm, xkvm-irqchip,
#                           xkvm-irqchip-smp2-x2apic):
#                           -irqchip leaves the irqchip
#                           to the driver (QEMU's default machine), -smpN
#                           overrides XKVM_QEMU_SMP, -x2apic adds +x2apic and
#                           +tsc-deadline to the guest CPU; see testbed/init
#   XKVM_QEMU_TRACE         1: record xkvm's tracepoints during its boot and
#                           show the last exits when it fails (0)
# Takes about 5 s (most of it gzip).

set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
STAGE=$TB/qemu-stage
GSTAGE=$TB/qemu-guest-stage
EXTRA=$TB/qemu-extra.cpio.gz
BASE=$TB/initramfs.cpio.gz
OUT=$TB/initramfs-qemu.cpio.gz
QEMU_BIN=${XKVM_QEMU_BIN:-/usr/bin/qemu-system-x86_64}
BUSYBOX=${XKVM_BUSYBOX:-/bin/busybox}

# Firmware a pc machine with -kernel and -vga none reads (SeaBIOS, the
# linuxboot option ROMs, kvmvapic), plus the rest of the small x86 ones so
# that a changed command line (XKVM_QEMU_EXTRA) does not fail on a file.
QEMU_ROMS="kvmvapic.bin linuxboot.bin linuxboot_dma.bin multiboot.bin
	multiboot_dma.bin pvh.bin sgabios.bin"
# The busybox applets testbed/guest-init uses.
GUEST_APPLETS="sh mount sed head md5sum cut sleep poweroff grep taskset dmesg tr cat"

log() { echo "mkqemu: $*"; }
die() { echo "mkqemu: error: $*" >&2; exit 1; }

# Pack directory $1 into the gzip'd newc cpio $2.
pack() {
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort |
		cpio --quiet -o -H newc -R 0:0) | gzip -1 >"$2.tmp"
	mv "$2.tmp" "$2"
}

# Copy file $1 (following symbolic links) to the same path under $STAGE.
copy_as_is() {
	mkdir -p "$STAGE$(dirname "$1")"
	cp -L "$1" "$STAGE$1"
}

install_qemu() {
	local lib f
	[ -x "$QEMU_BIN" ] || die "no $QEMU_BIN: run testbed/deps.sh"
	copy_as_is "$QEMU_BIN"
	# Every library at the path ldd resolved it to; the loader as named.
	while read -r lib; do
		copy_as_is "$lib"
	done < <(ldd "$QEMU_BIN" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }
				     $1 ~ /^\// { print $1 }')
	[ -e "$STAGE/lib64/ld-linux-x86-64.so.2" ] ||
		die "ldd did not name the dynamic loader of $QEMU_BIN"
	for f in /usr/share/seabios/*; do
		[ -f "$f" ] && copy_as_is "$f"
	done
	[ -f "$STAGE/usr/share/seabios/bios-256k.bin" ] ||
		die "no /usr/share/seabios/bios-256k.bin (package seabios)"
	for f in $QEMU_ROMS; do
		[ -f "/usr/share/qemu/$f" ] && copy_as_is "/usr/share/qemu/$f"
	done
	[ -f "$STAGE/usr/share/qemu/linuxboot_dma.bin" ] ||
		die "no /usr/share/qemu/linuxboot_dma.bin"
}

# The guest's initramfs: busybox, the few applet links, /init.
build_guest() {
	local a
	rm -rf "$GSTAGE"
	mkdir -p "$GSTAGE"/{bin,proc,sys,dev}
	readelf -d "$BUSYBOX" 2>/dev/null | grep NEEDED >/dev/null &&
		die "$BUSYBOX is not static (install busybox-static)"
	cp "$BUSYBOX" "$GSTAGE/bin/busybox"
	for a in $GUEST_APPLETS; do
		ln -s busybox "$GSTAGE/bin/$a"
	done
	install -m 0755 "$TOP/testbed/guest-init" "$GSTAGE/init"
	mkdir -p "$STAGE/qemu"
	pack "$GSTAGE" "$STAGE/qemu/guest.cpio.gz"
	md5sum "$BUSYBOX" | cut -d ' ' -f 1 >"$STAGE/qemu/expected-sum"
	cp "$TB/kernel/vmlinuz" "$STAGE/qemu/vmlinuz"
}

build_boot_watch() {
	local src=$TOP/testbed/boot-watch.c bin=$TB/boot-watch
	if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ]; then
		log "building boot-watch"
		gcc -std=gnu11 -O2 -Wall -Wextra -Werror -static -o "$bin" "$src"
	fi
	mkdir -p "$STAGE/bin"
	install -m 0755 "$bin" "$STAGE/bin/boot-watch"
}

# VAR=value with the value single-quoted for sh.
conf_line() {
	printf "%s='%s'\n" "$1" "$(printf '%s' "$2" | sed "s/'/'\\\\''/g")"
}

write_conf() {
	mkdir -p "$STAGE/etc"
	{
		echo "# written by testbed/mkqemu.sh; read by /init (qemu mode)"
		conf_line QEMU_CPU "${XKVM_QEMU_CPU:-qemu64}"
		conf_line QEMU_MEM "${XKVM_QEMU_MEM:-256}"
		conf_line QEMU_SMP "${XKVM_QEMU_SMP:-1}"
		conf_line QEMU_APPEND "${XKVM_QEMU_APPEND:-}"
		conf_line QEMU_EXTRA "${XKVM_QEMU_EXTRA:-}"
		conf_line QEMU_TIMEOUT "${XKVM_QEMU_TIMEOUT:-150}"
		conf_line QEMU_XKVM_TIMEOUT "${XKVM_QEMU_XKVM_TIMEOUT:-120}"
		conf_line QEMU_REF_IRQCHIP_TIMEOUT "${XKVM_QEMU_REF_IRQCHIP_TIMEOUT:-100}"
		conf_line QEMU_RUNS "${XKVM_QEMU_RUNS:-kvm_amd kvm_amd-irqchip xkvm xkvm-irqchip xkvm-irqchip-smp2-x2apic}"
		conf_line QEMU_TRACE "${XKVM_QEMU_TRACE:-0}"
		conf_line QEMU_VERSION "$("$QEMU_BIN" --version | head -n 1)"
	} >"$STAGE/etc/qemu-box.conf"
}

main() {
	[ -f "$BASE" ] || die "no ${BASE#"$TOP"/}: run testbed/mkinitramfs.sh first"
	[ -f "$TB/kernel/vmlinuz" ] || die "no kernel: run testbed/deps.sh first"
	rm -rf "$STAGE"
	mkdir -p "$STAGE"
	install_qemu
	build_guest
	build_boot_watch
	write_conf
	pack "$STAGE" "$EXTRA"
	cat "$BASE" "$EXTRA" >"$OUT.tmp"
	mv "$OUT.tmp" "$OUT"
	log "${OUT#"$TOP"/}: $(du -k "$OUT" | cut -f1) KiB" \
		"(QEMU part $(du -k "$EXTRA" | cut -f1) KiB, $(du -sk "$STAGE" | cut -f1) KiB unpacked)"
}

main "$@"
