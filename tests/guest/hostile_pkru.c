// SPDX-License-Identifier: GPL-2.0
/*
 * hostile_pkru - protection keys: the guest's PKRU is the guest's, the VMM
 * thread's is its own.  The guest gets the supported CPUID (PKU where the
 * host switches PKRU), sets CR4.PKE itself, sees OSPKE in CPUID, writes
 * PKRU with WRPKRU and exits over and over: after every KVM_RUN the VMM
 * thread's PKRU (and the rest of its state) is what it was, and the guest
 * reads back its own value after each exit.  KVM_GET_XSAVE shows the
 * guest's PKRU in the PKRU component; KVM_SET_XSAVE sets it (and leaves it
 * alone when XSTATE_BV does not have the component, as Linux 6.1).  Skips (77)
 * where the host does not use protection keys (no OSPKE).
 */
#define _GNU_SOURCE
#include "hostile.h"

#include <string.h>
#include <sys/ioctl.h>

#define CR4_PKE (1ULL << 22)

static uint32_t rdpkru(void)
{
	uint32_t eax, edx;

	__asm__ volatile(".byte 0x0f, 0x01, 0xee"
			 : "=a"(eax), "=d"(edx)
			 : "c"(0));
	return eax;
}

static void wrpkru(uint32_t v)
{
	__asm__ volatile(".byte 0x0f, 0x01, 0xef" : : "a"(v), "c"(0), "d"(0));
}

static void guest_main(void)
{
	uint32_t r[4];
	int i;

	guest_cpuid(7, 0, r);
	GUEST_SYNC(1, !!(r[2] & (1u << 3)), !!(r[2] & (1u << 4)));
	__asm__ volatile("mov %%cr4, %%rax\n\t"
			 "or %0, %%rax\n\t"
			 "mov %%rax, %%cr4" ::"r"(CR4_PKE)
			 : "rax");
	guest_cpuid(7, 0, r);
	GUEST_SYNC(2, !!(r[2] & (1u << 4)), rdpkru());
	for (i = 0; i < 20; i++) {
		uint32_t want = 0x55555550u ^ (uint32_t)(i << 4);

		wrpkru(want);
		GUEST_SYNC(3, i, rdpkru() == want);
	}
	GUEST_SYNC(4, rdpkru(), 0);
	GUEST_SYNC(5, rdpkru(), 0);
	GUEST_DONE();
}

/* Offset of the PKRU component in the standard-format XSAVE image. */
static uint32_t pkru_offset(void)
{
	uint32_t a, b, c, d;

	__asm__ volatile("cpuid"
			 : "=a"(a), "=b"(b), "=c"(c), "=d"(d)
			 : "a"(0xd), "c"(9));
	return b;
}

int main(void)
{
	struct kt_vmm_state st;
	struct kvm_cpuid2 *cpuid;
	struct kvm_xsave *x;
	struct kt_ucall uc;
	struct kt_vcpu *v;
	uint32_t pkru, off;
	uint64_t bv;
	int i;

	kt_init("hostile_pkru");
	kt_pin_cpu(kt_other_cpu(0));
	kt_vmm_state_save(&st);
	if (!st.has_pkru)
		kt_skip("the host does not use protection keys (no OSPKE)");
	v = kt_create_default();
	cpuid = kt_set_supported_cpuid(v);
	printf("KVM_GET_SUPPORTED_CPUID offers PKU: %s, OSPKE: %s\n",
	       kt_cpuid_has(cpuid, 7, 0, 2, 3) ? "yes" : "no",
	       kt_cpuid_has(cpuid, 7, 0, 2, 4) ? "yes" : "no");
	KT_ASSERT(kt_cpuid_has(cpuid, 7, 0, 2, 3), "PKU not offered");
	kt_setup_long(v, (uint64_t)(uintptr_t)guest_main, KT_STACK_ENTRY);

	kt_expect_sync(v, 1, &uc);
	printf("guest CPUID: PKU %llu, OSPKE %llu before CR4.PKE\n",
	       (unsigned long long)uc.args[1], (unsigned long long)uc.args[2]);
	kt_expect_sync(v, 2, &uc);
	kt_vmm_state_check(&st, "after CR4.PKE");
	printf("after CR4.PKE: OSPKE %llu, PKRU 0x%llx\n",
	       (unsigned long long)uc.args[1], (unsigned long long)uc.args[2]);
	for (i = 0; i < 20; i++) {
		kt_expect_sync(v, 3, &uc);
		kt_vmm_state_check(&st, "after a WRPKRU");
		KT_ASSERT_EQ(uc.args[1], i);
		KT_ASSERT(uc.args[2], "the guest's PKRU changed at exit %d", i);
	}
	printf("20 WRPKRUs, each followed by an exit: the guest reads its own, the VMM thread keeps its own\n");

	x = calloc(1, sizeof(*x));
	KT_ASSERT(x != NULL);
	KT_IOCTL(v->fd, KVM_GET_XSAVE, x);
	off = pkru_offset();
	memcpy(&pkru, (char *)x->region + off, 4);
	memcpy(&bv, (char *)x->region + 512, 8);
	printf("KVM_GET_XSAVE: PKRU component 0x%x, XSTATE_BV bit 9 %d\n", pkru,
	       (int)((bv >> 9) & 1));
	KT_ASSERT_EQ(pkru, 0x55555550u ^ (19u << 4));
	pkru = 0x0000000c;
	memcpy((char *)x->region + off, &pkru, 4);
	bv |= 1ULL << 9;
	memcpy((char *)x->region + 512, &bv, 8);
	KT_IOCTL(v->fd, KVM_SET_XSAVE, x);
	kt_expect_sync(v, 4, &uc);
	printf("KVM_SET_XSAVE with PKRU 0xc: the guest reads 0x%llx\n",
	       (unsigned long long)uc.args[1]);
	KT_ASSERT_EQ(uc.args[1], 0xc);
	/* XSTATE_BV bit 9 clear: Linux 6.1 leaves PKRU as it was */
	bv &= ~(1ULL << 9);
	memcpy((char *)x->region + 512, &bv, 8);
	KT_IOCTL(v->fd, KVM_SET_XSAVE, x);
	kt_expect_sync(v, 5, &uc);
	printf("KVM_SET_XSAVE without the PKRU component: the guest reads 0x%llx\n",
	       (unsigned long long)uc.args[1]);
	kt_expect_done(v);
	kt_vmm_state_check(&st, "at the end");
	kt_vmm_state_release(&st);
	free(x);
	free(cpuid);
	kt_pass();
}
