#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/check.sh - the static checks of `make check`.
#
#   ./scripts/check.sh              all checks
#   ./scripts/check.sh NAME...      only these: format cppcheck headers
#                                   kheaders hostrule nostdinc werror
#
# Each check prints one line "PASS check/NAME", "FAIL check/NAME: why" or
# "SKIP check/NAME: why", with details above it; the exit status is 1 if any
# check failed.  The checks:
#   format    clang-format --dry-run --Werror on every .c/.h (not build/),
#             style in .clang-format (Linux kernel style)
#   cppcheck  cppcheck on core/ svm/ vmx/ host/ tools/ tests/
#   headers   every .h of core/ svm/ vmx/ host/user/ tests/unit/ compiles
#             alone
#   kheaders  every .h of host/linux/ compiles alone against the kernel
#             headers (through kbuild)
#   hostrule  core/ svm/ vmx/ include only their own headers and
#             <linux/kvm.h> (host.h also <stdbool.h> <stddef.h>)
#   nostdinc  core/ svm/ vmx/ compile with -nostdinc and an include dir
#             holding only <linux/kvm.h>, its UAPI dependencies and the
#             compiler's stdbool.h/stddef.h
#   werror    user-space -std=gnu11 -Wall -Wextra -Werror compile of every
#             .c in core/ svm/ vmx/
# Nothing is installed: the tools come from testbed/deps.sh.
set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$TOP" || exit 1
CC=${CC:-gcc}
JOBS=$(nproc 2>/dev/null || echo 2)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

CFLAGS_USER=(-std=gnu11 -Wall -Wextra -Werror -I core)
NEUTRAL_DIRS=(core svm vmx)
ALL=(format cppcheck headers kheaders hostrule nostdinc werror)
failed=0

pass() { echo "PASS check/$1"; }
fail() { echo "FAIL check/$1: $2"; failed=1; }
skip() { echo "SKIP check/$1: $2"; }

# Files under the given dirs with the given name patterns, sorted.
files() { # files 'dir...' 'pattern...'
	local d p args=()
	for p in $2; do args+=(-o -name "$p"); done
	for d in $1; do
		[ -d "$d" ] && find "$d" -path ./build -prune -o \
			-path ./.git -prune -o -type f \
			\( -false "${args[@]}" \) -print
	done | sed 's|^\./||' | sort
}

need() { # need TOOL CHECK
	command -v "$1" >/dev/null 2>&1 && return 0
	fail "$2" "$1 is not installed (testbed/deps.sh installs it)"
	return 1
}

check_format() {
	local cf=clang-format out bad
	command -v clang-format-14 >/dev/null 2>&1 && cf=clang-format-14
	need "$cf" format || return
	# tracked and new files, minus what .gitignore hides (build/ ...)
	if git rev-parse --git-dir >/dev/null 2>&1; then
		mapfile -t srcs < <(git ls-files --cached --others \
			--exclude-standard -- '*.c' '*.h' | sort -u |
			while read -r f; do [ -f "$f" ] && echo "$f"; done)
	else
		mapfile -t srcs < <(files . '*.c *.h' | grep -v '^build/')
	fi
	[ ${#srcs[@]} -gt 0 ] || { pass format; return; }
	out=$("$cf" --dry-run --Werror "${srcs[@]}" 2>&1)
	if [ $? -eq 0 ]; then
		pass format
		return
	fi
	bad=$(echo "$out" | sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: error:.*/\1/p' |
		sort -u)
	echo "$out" | head -40
	echo "files to fix with '$cf -i FILE':"
	echo "$bad" | sed 's/^/  /'
	fail format "$(echo "$bad" | wc -l) file(s) not clang-formatted"
}

check_cppcheck() {
	need cppcheck cppcheck || return
	local common=(--enable=warning,portability,performance
		--error-exitcode=1 --inline-suppr --quiet --std=c11
		--platform=unix64 -D__x86_64__ -j "$JOBS"
		--suppress=missingIncludeSystem --suppress=unmatchedSuppression
		# cppcheck's own parser limits, not findings about the code
		--suppress=internalAstError
		--template='{file}:{line}: {severity}/{id}: {message}')
	local bad=0 dirs

	# The OS-neutral code: only our headers exist for it.
	mapfile -t dirs < <(for d in "${NEUTRAL_DIRS[@]}"; do [ -d "$d" ] && echo "$d"; done)
	if [ ${#dirs[@]} -gt 0 ]; then
		cppcheck "${common[@]}" -I core "${dirs[@]}" || bad=1
	fi
	# User space: the host library, tools and tests, with libc/POSIX
	# knowledge (plus our mmap fix).  Guest payloads are located by
	# subtracting linker symbols, which cppcheck calls comparePointers.
	mapfile -t dirs < <(for d in host/user tools tests; do [ -d "$d" ] && echo "$d"; done)
	if [ ${#dirs[@]} -gt 0 ]; then
		cppcheck "${common[@]}" --library=posix \
			--library=scripts/cppcheck-xkvm.cfg \
			--suppress='comparePointers:tests/guest/*' \
			-I core -I host/user -I tests/unit -I tests/guest/lib \
			"${dirs[@]}" || bad=1
	fi
	# The Linux glue: the kernel headers cannot be preprocessed outside
	# kbuild, so cppcheck runs without them, with the kernel's
	# annotation macros defined away (scripts/cppcheck-kernel.h).
	if [ -d host/linux ] && [ -n "$(files host/linux '*.c *.h')" ]; then
		cppcheck "${common[@]}" -D__KERNEL__ -DMODULE \
			--include=scripts/cppcheck-kernel.h \
			--suppress=unknownMacro -I core host/linux || bad=1
	fi
	if [ $bad -eq 0 ]; then
		pass cppcheck
	else
		fail cppcheck "findings above (fix, or suppress inline with // cppcheck-suppress ID)"
	fi
}

# Compiles "#include <header>" alone; $1 header, rest: compiler flags.
compile_alone() {
	local h=$1
	shift
	printf '#include "%s"\n' "$TOP/$h" >"$TMP/alone.c"
	"$CC" "$@" -fsyntax-only "$TMP/alone.c" 2>&1
}

check_headers() {
	local h out bad=0
	for h in $(files "${NEUTRAL_DIRS[*]}" '*.h'); do
		out=$(compile_alone "$h" "${CFLAGS_USER[@]}") ||
			{ echo "$h:"; echo "$out" | head -20; bad=1; }
	done
	for h in $(files 'host/user tests/unit' '*.h'); do
		out=$(compile_alone "$h" "${CFLAGS_USER[@]}" -I host/user) ||
			{ echo "$h:"; echo "$out" | head -20; bad=1; }
	done
	if [ $bad -eq 0 ]; then
		pass headers
	else
		fail headers "headers above do not compile alone"
	fi
}

# The kernel headers: one object per header, built by kbuild as part of a
# throw-away module (which is compiled, never loaded).
check_kheaders() {
	local hdrs kdir kver i h objs=""
	mapfile -t hdrs < <(files host/linux '*.h')
	if [ ${#hdrs[@]} -eq 0 ]; then
		skip kheaders "no headers under host/linux"
		return
	fi
	kdir=${KDIR:-}
	if [ -z "$kdir" ]; then
		kver=$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null |
			sort -V | tail -1 | sed 's|/usr/src/linux-headers-||')
		[ -n "$kver" ] && kdir=/usr/src/linux-headers-$kver
	fi
	if [ -z "$kdir" ] || [ ! -d "$kdir" ]; then
		fail kheaders "no kernel headers (testbed/deps.sh installs them; or set KDIR)"
		return
	fi
	mkdir -p "$TMP/k"
	i=0
	for h in "${hdrs[@]}"; do
		printf '#include "%s"\n' "$TOP/$h" >"$TMP/k/h$i.c"
		objs="$objs h$i.o"
		i=$((i + 1))
	done
	printf '#include <linux/module.h>\nMODULE_LICENSE("GPL");\n' >"$TMP/k/main.c"
	cat >"$TMP/k/Kbuild" <<-EOF
		obj-m := xkvm_hdrcheck.o
		xkvm_hdrcheck-y := main.o $objs
		ccflags-y := -I$TOP/core -I$TOP/host/linux -Werror
	EOF
	if make -s -C "$kdir" M="$TMP/k" modules >"$TMP/k.log" 2>&1; then
		pass kheaders
	else
		grep -E 'error|warning' "$TMP/k.log" | head -30
		for i in $(seq 0 $((${#hdrs[@]} - 1))); do
			grep -q "h$i\.c" "$TMP/k.log" && echo "  ${hdrs[$i]} (h$i.c)"
		done
		fail kheaders "host/linux headers do not compile alone in kbuild"
	fi
}

# Does the quoted include $2 of file $1 resolve inside core/ svm/ vmx/?
include_ok() {
	local f=$1 inc=$2 p
	for p in "$(dirname "$f")/$inc" "core/$inc"; do
		if [ -f "$p" ]; then
			p=$(realpath "$p")
			case "$p" in
			"$TOP"/core/* | "$TOP"/svm/* | "$TOP"/vmx/*) return 0 ;;
			*) return 1 ;;
			esac
		fi
	done
	return 1
}

check_hostrule() {
	local f line inc bad=0
	for f in $(files "${NEUTRAL_DIRS[*]}" '*.c *.h *.S'); do
		while IFS= read -r line; do
			inc=$(echo "$line" | sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*\(["<][^">]*[">]\).*/\1/p')
			[ -n "$inc" ] || { echo "$f: unparsable: $line"; bad=1; continue; }
			case "$inc" in
			"<linux/kvm.h>") continue ;;
			"<stdbool.h>" | "<stddef.h>")
				[ "$f" = core/host.h ] && continue ;;
			\"*\")
				include_ok "$f" "${inc//\"/}" && continue ;;
			esac
			echo "$f: $line"
			bad=1
		done < <(grep -E '^[[:space:]]*#[[:space:]]*include' "$f")
	done
	if [ $bad -eq 0 ]; then
		pass hostrule
	else
		fail hostrule "core/ svm/ vmx/ may include only their own headers and <linux/kvm.h>"
	fi
}

# An include dir with nothing but linux/kvm.h, what it needs, and the
# compiler's freestanding stdbool.h and stddef.h.
make_kvm_include_dir() {
	local inc=$1 dep rel gccinc
	mkdir -p "$inc"
	for dep in $(echo '#include <linux/kvm.h>' |
		"$CC" -M -x c - 2>/dev/null | tr -d '\\' | tr ' ' '\n' |
		grep '^/'); do
		case "$dep" in
		*/stdc-predef.h) continue ;;
		/usr/include/x86_64-linux-gnu/*) rel=${dep#/usr/include/x86_64-linux-gnu/} ;;
		/usr/include/*) rel=${dep#/usr/include/} ;;
		*) continue ;;
		esac
		mkdir -p "$inc/$(dirname "$rel")"
		ln -sf "$dep" "$inc/$rel"
	done
	gccinc=$("$CC" -print-file-name=include)
	ln -sf "$gccinc/stdbool.h" "$inc/stdbool.h"
	ln -sf "$gccinc/stddef.h" "$inc/stddef.h"
	[ -e "$inc/linux/kvm.h" ]
}

check_nostdinc() {
	local inc=$TMP/kvminc f out bad=0
	if ! make_kvm_include_dir "$inc"; then
		fail nostdinc "no <linux/kvm.h> (linux-libc-dev)"
		return
	fi
	for f in $(files "${NEUTRAL_DIRS[*]}" '*.c *.h'); do
		out=$("$CC" -std=gnu11 -ffreestanding -nostdinc -isystem "$inc" \
			-I core -fsyntax-only -x c "$f" 2>&1) ||
			{ echo "$f:"; echo "$out" | head -10; bad=1; }
	done
	if [ $bad -eq 0 ]; then
		pass nostdinc
	else
		fail nostdinc "needs a header beyond <linux/kvm.h> (see above)"
	fi
}

check_werror() {
	local f out bad=0
	for f in $(files "${NEUTRAL_DIRS[*]}" '*.c'); do
		out=$("$CC" "${CFLAGS_USER[@]}" -c -o /dev/null "$f" 2>&1) ||
			{ echo "$out" | head -30; bad=1; }
	done
	if [ $bad -eq 0 ]; then
		pass werror
	else
		fail werror "warnings in a -Wall -Wextra -Werror user-space build"
	fi
}

checks=("$@")
[ ${#checks[@]} -gt 0 ] || checks=("${ALL[@]}")
for c in "${checks[@]}"; do
	case " ${ALL[*]} " in
	*" $c "*) "check_$c" ;;
	*) echo "unknown check '$c' (checks: ${ALL[*]})" >&2; exit 2 ;;
	esac
done
exit $failed
