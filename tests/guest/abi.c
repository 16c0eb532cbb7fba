// SPDX-License-Identifier: GPL-2.0
/*
 * abi - KVM ioctl ABI checks that need no guest: the API version, and the
 * errno of calls every KVM must reject (bad VM type, bad memory-region
 * arguments, overlapping slots, duplicate vCPU ids, oversized CPUID tables,
 * unknown ioctls), plus calls that must succeed.  Each result is printed as
 * "name -> ok" or "name -> errno NAME" and asserted to be kvm_amd's.
 */
#define _GNU_SOURCE
#include "kvmtest.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static const char *errname(int e)
{
	switch (e) {
	case 0:
		return "ok";
	case EINVAL:
		return "EINVAL";
	case EEXIST:
		return "EEXIST";
	case E2BIG:
		return "E2BIG";
	case ENOTTY:
		return "ENOTTY";
	case EFAULT:
		return "EFAULT";
	case ENOMEM:
		return "ENOMEM";
	case EBUSY:
		return "EBUSY";
	case ENXIO:
		return "ENXIO";
	case EPERM:
		return "EPERM";
	default:
		return strerror(e);
	}
}

static void expect(const char *what, long r, int want)
{
	int got = r < 0 ? errno : 0;

	printf("%-48s -> %s\n", what, errname(got));
	if (got != want)
		kt_fail(__FILE__, __LINE__, "%s: expected %s, got %s", what,
			errname(want), errname(got));
}

static long region(int vm, uint32_t slot, uint32_t flags, uint64_t gpa,
		   uint64_t size, void *hva)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)hva,
	};

	return ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r);
}

int main(void)
{
	int kvm, vm, vcpu;
	long r;
	char *mem;
	struct kvm_cpuid2 *c;

	kt_init("abi");
	kvm = kt_open_kvm();
	r = ioctl(kvm, KVM_GET_API_VERSION, 0);
	printf("KVM_GET_API_VERSION = %ld\n", r);
	KT_ASSERT_EQ(r, 12);

	r = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY);
	printf("KVM_CAP_USER_MEMORY %s\n", r > 0 ? "yes" : "no");
	KT_ASSERT(r > 0);
	r = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_SET_TSS_ADDR);
	printf("KVM_CAP_SET_TSS_ADDR %s\n", r > 0 ? "yes" : "no");
	KT_ASSERT(r > 0);
	r = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_EXT_CPUID);
	printf("KVM_CAP_EXT_CPUID %s\n", r > 0 ? "yes" : "no");
	KT_ASSERT(r > 0);
	r = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_IMMEDIATE_EXIT);
	printf("KVM_CAP_IMMEDIATE_EXIT %s\n", r > 0 ? "yes" : "no");
	KT_ASSERT(r > 0);
	r = ioctl(kvm, KVM_CHECK_EXTENSION, 0x7fffffff);
	printf("KVM_CHECK_EXTENSION(unknown) = %ld\n", r);
	KT_ASSERT_EQ(r, 0);

	r = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	printf("KVM_GET_VCPU_MMAP_SIZE >= 2 pages and page multiple: %s\n",
	       r >= 8192 && r % 4096 == 0 ? "yes" : "no");
	KT_ASSERT(r >= 8192 && r % 4096 == 0);

	expect("KVM_CREATE_VM type 1", ioctl(kvm, KVM_CREATE_VM, 1), EINVAL);
	expect("unknown ioctl on /dev/kvm", ioctl(kvm, _IO(KVMIO, 0xfe), 0),
	       EINVAL);
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	expect("KVM_CREATE_VM type 0", vm, 0);
	expect("KVM_SET_TSS_ADDR 0xfffbd000",
	       ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000ul), 0);
	expect("unknown ioctl on a VM", ioctl(vm, _IO(KVMIO, 0xfe), 0), ENOTTY);

	mem = mmap(NULL, 0x400000, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	KT_ASSERT(mem != MAP_FAILED);
	expect("memory region: unknown flag 0x80",
	       region(vm, 0, 0x80, 0, 0x100000, mem), EINVAL);
	expect("memory region: gpa not page aligned",
	       region(vm, 0, 0, 0x1001, 0x100000, mem), EINVAL);
	expect("memory region: size not page aligned",
	       region(vm, 0, 0, 0, 0x100001, mem), EINVAL);
	expect("memory region: host address not page aligned",
	       region(vm, 0, 0, 0, 0x100000, mem + 1), EINVAL);
	expect("memory region: slot id 40000",
	       region(vm, 40000, 0, 0, 0x100000, mem), EINVAL);
	expect("memory region: delete a slot that does not exist",
	       region(vm, 5, 0, 0, 0, mem), EINVAL);
	expect("memory region: slot 0 [0, 1M)",
	       region(vm, 0, 0, 0, 0x100000, mem), 0);
	expect("memory region: slot 1 overlapping slot 0",
	       region(vm, 1, 0, 0x80000, 0x100000, mem + 0x100000), EEXIST);
	expect("memory region: slot 1 [1M, 2M)",
	       region(vm, 1, 0, 0x100000, 0x100000, mem + 0x100000), 0);
	expect("memory region: slot 1 resized",
	       region(vm, 1, 0, 0x100000, 0x200000, mem + 0x100000), EINVAL);
	expect("memory region: slot 1 set again unchanged",
	       region(vm, 1, 0, 0x100000, 0x100000, mem + 0x100000), 0);
	expect("memory region: slot 2 at 4G",
	       region(vm, 2, 0, 0x100000000ull, 0x100000, mem + 0x200000), 0);
	expect("memory region: delete slot 2",
	       region(vm, 2, 0, 0x100000000ull, 0, NULL), 0);
	expect("memory region: slot 2 again where slot 2 was",
	       region(vm, 2, 0, 0x100000000ull, 0x100000, mem + 0x200000), 0);

	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	expect("KVM_CREATE_VCPU id 0", vcpu, 0);
	expect("KVM_CREATE_VCPU id 0 again", ioctl(vm, KVM_CREATE_VCPU, 0),
	       EEXIST);
	expect("KVM_CREATE_VCPU id 1",
	       ioctl(vm, KVM_CREATE_VCPU, 1) < 0 ? -1 : 0, 0);
	expect("unknown ioctl on a vCPU", ioctl(vcpu, _IO(KVMIO, 0xfe), 0),
	       EINVAL);

	c = calloc(1, sizeof(*c) + 300 * sizeof(c->entries[0]));
	KT_ASSERT(c != NULL);
	c->nent = 1;
	expect("KVM_GET_SUPPORTED_CPUID with nent 1",
	       ioctl(kvm, KVM_GET_SUPPORTED_CPUID, c), E2BIG);
	c->nent = 300;
	expect("KVM_SET_CPUID2 with 300 entries",
	       ioctl(vcpu, KVM_SET_CPUID2, c), E2BIG);
	c->nent = 0;
	expect("KVM_SET_CPUID2 with 0 entries", ioctl(vcpu, KVM_SET_CPUID2, c),
	       0);
	free(c);
	kt_pass();
}
