# SPDX-License-Identifier: GPL-2.0
#
# The core sources linked into the unit-test binary, relative to the top
# of the tree.  Adding a core file to the tests: add one line here.
# Adding a test file: create tests/unit/test_<something>.c; nothing else.
UNIT_CORE_SRCS += core/decode.c
UNIT_CORE_SRCS += core/gwalk.c
UNIT_CORE_SRCS += core/seg.c
