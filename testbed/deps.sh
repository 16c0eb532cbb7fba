#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# testbed/deps.sh - install what the xkvm project needs on a Debian 12 machine.
#
# 1. Installs the Debian packages the build, the checks and the test bed use
#    (apt-get update is run only when an install or download fails, e.g. on a
#    fresh machine whose package lists are empty or stale).
# 2. Fetches the Debian kernel image that matches the installed kernel headers
#    (the ones build/xkvm.ko is built against) WITHOUT installing it: the .deb
#    is downloaded into build/testbed/cache/ and unpacked with dpkg-deb, so no
#    postinst runs and the host's /boot is untouched.
# 3. Copies out of it what the test box needs, into build/testbed/kernel/:
#      vmlinuz                  the kernel the box boots
#      VERSION                  e.g. 6.1.0-56-amd64
#      modules/kvm_amd/*.ko     Linux's kvm_amd and its dependencies (reference)
#      modules/kvm_amd/order    their names, one a line, in load order
#      modules/9p/*.ko, order   virtio-pci + 9p, to share host files (optional)
#      modules/msr/msr.ko       /dev/cpu/N/msr, so /init can show EFER (optional)
#    Modules are stored uncompressed (busybox insmod may not read .ko.xz).
#
# Idempotent: when everything is already in place it takes about a second.
# Environment: BUILD (default <repo>/build), XKVM_KVER (override the version).

set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
TB=$BUILD/testbed
CACHE=$TB/cache
KOUT=$TB/kernel

# Debian packages the project needs.  kmod (modinfo) and xz-utils/zstd (to
# unpack compressed modules) are used by this script itself.  dkms and
# bpftrace: the packaging test (dkms build) and tools/bpftrace/ checks.
PACKAGES=(
	qemu-system-x86 linux-headers-amd64 busybox-static cpio gzip make gcc
	libc6-dev clang libclang-rt-14-dev clang-format cppcheck
	kmod xz-utils
	dkms bpftrace
)

# Module groups: group name -> the modules wanted; their dependencies are
# added automatically (modinfo -F depends, recursively).
declare -A GROUPS_WANTED=(
	[kvm_amd]="kvm_amd"
	[9p]="virtio_pci 9pnet_virtio 9p"
	[msr]="msr"
)
# Groups that must be complete; the others are copied only as far as found.
REQUIRED_GROUPS="kvm_amd"

log() { echo "deps: $*"; }
die() { echo "deps: error: $*" >&2; exit 1; }

apt_updated=0
apt_update_once() {
	if [ "$apt_updated" = 0 ]; then
		log "apt-get update"
		apt-get update -qq
		apt_updated=1
	fi
}

is_installed() {
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

install_packages() {
	local missing=() p
	for p in "${PACKAGES[@]}"; do
		is_installed "$p" || missing+=("$p")
	done
	[ ${#missing[@]} = 0 ] && return 0
	[ "$(id -u)" = 0 ] || die "missing packages (${missing[*]}); run as root"
	log "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
		apt_update_once
		apt-get install -y -qq --no-install-recommends "${missing[@]}"
	fi
}

# The kernel version that build/xkvm.ko is built for: the one the
# linux-headers-amd64 meta-package points at, else the newest headers tree.
kernel_version() {
	local v
	if [ -n "${XKVM_KVER:-}" ]; then
		echo "$XKVM_KVER"
		return
	fi
	v=$(dpkg-query -W -f='${Depends}' linux-headers-amd64 2>/dev/null |
		grep -o 'linux-headers-[0-9][^ ,]*-amd64' | head -n1 |
		sed 's/^linux-headers-//') || true
	if [ -z "$v" ]; then
		v=$(find /usr/src -maxdepth 1 -name 'linux-headers-*-amd64' \
			-printf '%f\n' 2>/dev/null | sed 's/^linux-headers-//' |
			sort -V | tail -n1)
	fi
	[ -n "$v" ] || die "cannot find installed linux-headers-*-amd64"
	echo "$v"
}

# Download linux-image-<ver>-amd64 (or its -unsigned twin) into $CACHE and
# print the .deb's path.  Prefers the exact Debian version of the headers.
download_image() {
	local kver=$1 hver pkg deb attempt spec
	hver=$(dpkg-query -W -f='${Version}' "linux-headers-$kver" 2>/dev/null) || hver=
	mkdir -p "$CACHE"
	for pkg in "linux-image-$kver" "linux-image-$kver-unsigned"; do
		deb=$(find "$CACHE" -maxdepth 1 -name "${pkg}_${hver:-*}_amd64.deb" -print -quit)
		if [ -n "$deb" ]; then
			echo "$deb"
			return 0
		fi
	done
	for attempt in 1 2; do
		for pkg in "linux-image-$kver" "linux-image-$kver-unsigned"; do
			for spec in "$pkg${hver:+=$hver}" "$pkg"; do
				if (cd "$CACHE" && apt-get download -q \
					-o APT::Sandbox::User=root "$spec") \
					>>"$CACHE/download.log" 2>&1; then
					deb=$(find "$CACHE" -maxdepth 1 -name "${pkg}_*_amd64.deb" |
						sort -V | tail -n1)
					[ -n "$deb" ] && { echo "$deb"; return 0; }
				fi
			done
		done
		[ "$attempt" = 1 ] && apt_update_once >&2
	done
	tail -n 5 "$CACHE/download.log" >&2
	die "cannot download linux-image-$kver (tried the signed and -unsigned packages)"
}

# Copy module $1 (by name) and, first, its dependencies into $2, appending
# names to $2/order in load order.  $modroot is the unpacked module tree.
declare -A MODPATH=()   # module name -> file in the unpacked tree
declare -A BUILTIN=()   # module name -> 1 if built into vmlinuz
declare -A COPIED=()      # "<group>:<name>" -> 1 once copied
copy_module() {
	local name=$1 dir=$2 src dst dep
	[ -n "${COPIED["$dir:$name"]:-}" ] && return 0
	COPIED["$dir:$name"]=1
	if [ -n "${BUILTIN[$name]:-}" ]; then
		return 0
	fi
	src=${MODPATH[$name]:-}
	[ -n "$src" ] || { log "warning: module $name not found"; return 1; }
	dst=$dir/$name.ko
	case $src in
	*.ko)     cp "$src" "$dst" ;;
	*.ko.xz)  xz -dc "$src" >"$dst" ;;
	*.ko.zst) zstd -qdc "$src" >"$dst" || die "need zstd for $src" ;;
	*.ko.gz)  gzip -dc "$src" >"$dst" ;;
	*) die "unknown module format: $src" ;;
	esac
	for dep in $(modinfo -F depends "$dst" | tr ',' ' '); do
		copy_module "$dep" "$dir" || return 1
	done
	echo "$name" >>"$dir/order"
}

extract_kernel() {
	local kver=$1 deb=$2 tmp modroot f name group m ok
	tmp=$CACHE/unpack
	rm -rf "$tmp" "$KOUT.new"
	log "unpacking $(basename "$deb")"
	dpkg-deb -x "$deb" "$tmp"
	modroot=$tmp/lib/modules/$kver
	[ -f "$tmp/boot/vmlinuz-$kver" ] || die "no vmlinuz-$kver in $deb"
	[ -d "$modroot" ] || die "no lib/modules/$kver in $deb"

	mkdir -p "$KOUT.new/modules"
	cp "$tmp/boot/vmlinuz-$kver" "$KOUT.new/vmlinuz"
	cp "$tmp/boot/config-$kver" "$KOUT.new/config" 2>/dev/null || true

	while IFS= read -r f; do
		name=$(basename "$f")
		name=${name%%.ko*}
		MODPATH[${name//-/_}]=$f
	done < <(find "$modroot/kernel" -name '*.ko*')
	if [ -f "$modroot/modules.builtin" ]; then
		while IFS= read -r f; do
			name=$(basename "$f")
			name=${name%%.ko*}
			BUILTIN[${name//-/_}]=1
		done <"$modroot/modules.builtin"
	fi

	for group in "${!GROUPS_WANTED[@]}"; do
		mkdir -p "$KOUT.new/modules/$group"
		: >"$KOUT.new/modules/$group/order"
		ok=1
		for m in ${GROUPS_WANTED[$group]}; do
			copy_module "$m" "$KOUT.new/modules/$group" || ok=0
		done
		if [ "$ok" = 0 ]; then
			case " $REQUIRED_GROUPS " in
			*" $group "*) die "module group $group is incomplete" ;;
			esac
			log "warning: group $group incomplete, left out"
			rm -rf "${KOUT:?}.new/modules/$group"
			continue
		fi
		log "modules/$group: $(tr '\n' ' ' <"$KOUT.new/modules/$group/order")"
	done

	echo "$kver" >"$KOUT.new/VERSION"
	stamp "$kver" >"$KOUT.new/STAMP"
	basename "$deb" >"$KOUT.new/SOURCE"
	rm -rf "$KOUT" "$tmp"
	mv "$KOUT.new" "$KOUT"
}

# What build/testbed/kernel/ must have been made from: the version and the
# module groups (so a change to GROUPS_WANTED redoes the extraction).
stamp() {
	local g
	echo "kernel $1"
	for g in $(printf '%s\n' "${!GROUPS_WANTED[@]}" | sort); do
		echo "group $g: ${GROUPS_WANTED[$g]}"
	done
}

main() {
	local kver deb
	install_packages
	kver=$(kernel_version)
	# Fast path: already unpacked for this version and these groups.
	if [ -f "$KOUT/STAMP" ] && [ "$(cat "$KOUT/STAMP")" = "$(stamp "$kver")" ] &&
	   [ -f "$KOUT/vmlinuz" ] && [ -s "$KOUT/modules/kvm_amd/order" ]; then
		log "kernel $kver ready in ${KOUT#"$TOP"/}"
		return 0
	fi
	log "fetching the Debian kernel image for $kver"
	deb=$(download_image "$kver")
	extract_kernel "$kver" "$deb"
	log "kernel $kver ready in ${KOUT#"$TOP"/}"
}

main "$@"
