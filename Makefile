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
#   make gdb-test   the gdb commands (tools/gdb) against a VM in the box
#   make test       everything above that tests, with one closing line
#   make demo       boot the test bed and run a guest on xkvm
#   make install    the module, udev rule, modprobe.d file, bpftrace script
#                   (DESTDIR-aware; depmod only when DESTDIR is empty)
#   make dkms-src DESTDIR=/usr/src/xkvm-0.1   the sources DKMS builds from

TOP   := $(CURDIR)
BUILD := $(TOP)/build
export TOP BUILD

.PHONY: all module tools guest-tests unit check testbed gdb-test test demo clean \
	install dkms-src

# make install: where each file goes (below DESTDIR).  The module goes to
# the kernel it was built for (its vermagic), under updates/ so that it is
# found before anything of the same name.
PREFIX       ?= /usr/local
UDEVRULESDIR ?= /lib/udev/rules.d
MODPROBEDIR  ?= /etc/modprobe.d
DATADIR      ?= $(PREFIX)/share/xkvm
BINDIR       ?= $(PREFIX)/bin
# what DKMS needs to build the module (see dkms.conf)
DKMS_FILES := dkms.conf Makefile core svm vmx host/linux

all: module tools

module:
	$(MAKE) -C host/linux

tools:
	$(MAKE) -C tools/kvmrun
	$(MAKE) -C tools/kvmstat

guest-tests:
	$(MAKE) -C tests/guest
	$(MAKE) -C tests/ops

unit:
	$(MAKE) -C tests/unit run

check:
	./scripts/check.sh

testbed: module tools guest-tests
	./testbed/run-tests
gdb-test: module
	./testbed/run-gdb-test
testbed-qemu: module ; XKVM_BOXES=qemu ./testbed/run-tests

test:
	./scripts/run-all-tests.sh

demo: module tools guest-tests
	./testbed/run-demo

install: module
	@kver=$$(modinfo -F vermagic $(BUILD)/xkvm.ko | cut -d' ' -f1) && \
	set -x && \
	install -D -m 0644 $(BUILD)/xkvm.ko \
		$(DESTDIR)/lib/modules/$$kver/updates/xkvm.ko && \
	install -D -m 0644 packaging/udev/65-xkvm.rules \
		$(DESTDIR)$(UDEVRULESDIR)/65-xkvm.rules && \
	install -D -m 0644 packaging/modprobe.d/xkvm.conf \
		$(DESTDIR)$(MODPROBEDIR)/xkvm.conf && \
	install -D -m 0755 tools/bpftrace/guest-time.bt \
		$(DESTDIR)$(DATADIR)/bpftrace/guest-time.bt && \
	if [ -x $(BUILD)/kvmstat ]; then \
		install -D -m 0755 $(BUILD)/kvmstat $(DESTDIR)$(BINDIR)/kvmstat; \
	elif [ -f tools/kvmstat/kvmstat ]; then \
		install -D -m 0755 tools/kvmstat/kvmstat $(DESTDIR)$(BINDIR)/kvmstat; \
	fi && \
	if [ -z "$(DESTDIR)" ]; then depmod -a $$kver; fi

dkms-src:
	@test -n "$(DESTDIR)" || { echo "usage: make dkms-src DESTDIR=/usr/src/xkvm-VERSION"; exit 1; }
	mkdir -p $(DESTDIR)
	cp -r --parents $(DKMS_FILES) $(DESTDIR)/

clean:
	rm -rf $(BUILD)
	$(MAKE) -C host/linux clean
