#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/run-all-tests.sh - everything `make test` runs, with one closing
# line counting every test of every stage:
#   1. make check            style, cppcheck, header hygiene (one result)
#   2. builds                module, tools, guest tests (one result each)
#   3. make unit             the core's unit tests under ASan/UBSan
#   4. fuzzers               each libFuzzer target of tests/unit for
#                            XKVM_FUZZ_TIME seconds (15; 0 skips them)
#   5. tests/packaging/run.sh  make install DESTDIR, the modprobe.d file,
#                            the udev rule, dkms build in a throwaway tree
#   6. testbed/run-tests     guest tests under kvm_amd and xkvm in the box,
#                            refusal tests, xkvm-only operator checks
#                            (tests/ops: tracepoints, module parameters,
#                            bpftrace), load/unload, kernel-log scan,
#                            stock QEMU booting Linux on both drivers
#   7. testbed/run-gdb-test  the gdb commands (tools/gdb) against a live VM
#                            in the box, through QEMU's gdbstub
# Each stage prints lines "PASS name" / "FAIL name: why"; this script counts
# them all and ends with "N passed, M failed".  Exit status 1 on any failure.
set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$TOP"
BUILD=${BUILD:-$TOP/build}
mkdir -p "$BUILD"
LOG=$BUILD/all-tests.log
: > "$LOG"

# Run a stage, show its output, keep its result lines.
stage() {
	local name=$1; shift
	echo "=== $name: $*"
	"$@" 2>&1 | tee -a "$LOG.raw" | sed -u -E 's/^([0-9]+ passed, [0-9]+ failed.*)$/'"$name"': \1/'
	return "${PIPESTATUS[0]}"
}

result() { # result NAME STATUS [why]
	if [ "$2" -eq 0 ]; then echo "PASS $1"; else echo "FAIL $1${3:+: $3}"; fi | tee -a "$LOG"
}

: > "$LOG.raw"
stage check ./scripts/check.sh; result check/make-check $? "see the lines above"
stage build make -s module; result build/module $?
stage build make -s tools; result build/tools $?
stage build make -s guest-tests; result build/guest-tests $?
stage unit make -s unit

# A short run of every fuzzer (the corpora grow in build/unit/corpus-*).
FUZZ_TIME=${XKVM_FUZZ_TIME:-15}
for src in tests/unit/fuzz_*.c; do
	f=$(basename "$src" .c)
	f=${f#fuzz_}
	if [ "$FUZZ_TIME" = 0 ]; then
		echo "SKIP fuzz/$f: XKVM_FUZZ_TIME=0" | tee -a "$LOG"
		continue
	fi
	echo "=== fuzz: $f for $FUZZ_TIME s (log: build/fuzz-$f.log)"
	make -s -C tests/unit fuzz F="$f" FUZZ_TIME="$FUZZ_TIME" >"$BUILD/fuzz-$f.log" 2>&1
	rc=$?
	grep -E '^Done [0-9]+ runs' "$BUILD/fuzz-$f.log" | tail -n 1
	result "fuzz/$f" "$rc" "see build/fuzz-$f.log"
done
stage packaging ./tests/packaging/run.sh
# Single-threaded TCG: multi-threaded TCG froze the box now and then while
# kvm_amd ran a guest test (soft lockups on both box CPUs, a hazard of the
# emulator that TESTBED.md describes); with one TCG thread the same runs
# passed every time, in about the same wall time.
export XKVM_TCG_THREAD=${XKVM_TCG_THREAD:-single}
stage testbed ./testbed/run-tests
stage gdb ./testbed/run-gdb-test

count() { cat "$LOG.raw" "$LOG" | awk -v w="$1" '$1 == w { n++ } END { print n + 0 }'; }
pass=$(count PASS)
fail=$(count FAIL)
skip=$(count SKIP)
echo
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
