# SPDX-License-Identifier: GPL-2.0
#
# xkvm top-level build.  Everything is built into build/.
#
#   make            the kernel module (build/xkvm.ko) and the tools
#   make module     build/xkvm.ko against Debian's kernel headers
#   make tools      build/kvmrun, the small VMM, and build/kvmstat
#   make guest-tests build/guest/*, the guest test programs (static)
#   make unit       user-space unit tests of the core (ASan + UBSan)
#   make check      style, cppcheck, header self-containment, -Werror
#   make testbed    guest tests under kvm_amd and xkvm in the nested box
#   make test       everything above that tests, with one closing line
#   make demo       boot the test bed and run a guest on xkvm

TOP   := $(CURDIR)
BUILD := $(TOP)/build
export TOP BUILD

.PHONY: all module tools guest-tests unit check testbed test demo clean

all: module tools

module:
	$(MAKE) -C host/linux

tools:
	$(MAKE) -C tools/kvmrun
	$(MAKE) -C tools/kvmstat

guest-tests:
	$(MAKE) -C tests/guest

unit:
	$(MAKE) -C tests/unit run

check:
	./scripts/check.sh

testbed: module tools guest-tests
	./testbed/run-tests
testbed-qemu: module ; XKVM_BOXES=qemu ./testbed/run-tests

test:
	./scripts/run-all-tests.sh

demo: module tools guest-tests
	./testbed/run-demo

clean:
	rm -rf $(BUILD)
	$(MAKE) -C host/linux clean
