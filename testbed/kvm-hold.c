// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-hold - keep a KVM virtual machine open until killed.
 *
 * Used by the test bed's /init: while Linux's kvm_amd serves /dev/kvm, a VM
 * held open makes kvm_amd turn SVM on (EFER.SVME) on every CPU, so the test
 * bed can check that xkvm refuses to load beside another hypervisor.
 *
 * Usage: kvm-hold [-c] [READY-FILE]
 *   -c          also create vCPU 0
 *   READY-FILE  created once the VM (and vCPU) exist, so a caller can wait
 * Prints one status line, then sleeps until a signal ends it.
 * Exit status: 1 if /dev/kvm or an ioctl fails (message on stderr).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>

static int fail(const char *what)
{
	fprintf(stderr, "kvm-hold: %s: %s\n", what, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	const char *ready = NULL;
	int want_vcpu = 0;
	int kvm, vm, vcpu = -1, api, i, fd;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0)
			want_vcpu = 1;
		else
			ready = argv[i];
	}

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return fail("open /dev/kvm");
	api = ioctl(kvm, KVM_GET_API_VERSION, 0);
	if (api < 0)
		return fail("KVM_GET_API_VERSION");
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return fail("KVM_CREATE_VM");
	if (want_vcpu) {
		vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
		if (vcpu < 0)
			return fail("KVM_CREATE_VCPU");
	}

	printf("kvm-hold: api %d, holding vm fd %d, vcpu fd %d (pid %d)\n", api,
	       vm, vcpu, (int)getpid());
	fflush(stdout);

	if (ready) {
		fd = open(ready, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			  0644);
		if (fd < 0)
			return fail("create ready file");
		close(fd);
	}

	for (;;)
		pause();
}
