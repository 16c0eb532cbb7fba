# SPDX-License-Identifier: GPL-2.0
#
# The core sources linked into the unit-test binary and the fuzzers,
# relative to the top of the tree: all of core/, so a new core file is
# tested (and must build in user space, against host/user) from the day it
# appears.  The backends the core refers to but user space cannot run are
# stood in for by tests/unit/fakes/ (absent_backends.c, fake_vendor.c).
# Adding a test file: create tests/unit/test_<something>.c; nothing else.
# Test helpers shared by several test files are tests/unit/lib_*.c; code a
# fuzzer may link too (no harness) goes in tests/unit/fakes/.
UNIT_CORE_SRCS := $(sort $(patsubst $(TOP)/%,%,$(wildcard $(TOP)/core/*.c)))
