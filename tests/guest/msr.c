// SPDX-License-Identifier: GPL-2.0
/*
 * msr - RDMSR/WRMSR from a 64-bit guest: EFER (SCE and NX set on top of
 * LME|LMA; values allowed by the guest CPUID table, which has LM, NX and
 * SYSCALL), STAR, LSTAR, CSTAR, SFMASK, KERNEL_GS_BASE and SYSENTER_CS/ESP/EIP
 * are written, read back and compared in the guest; then the host reads them
 * with KVM_GET_MSRS and EFER with KVM_GET_SREGS and checks they agree.
 *
 * Negative cases, each of which must raise #GP(0) in the guest (caught by the
 * guest's own IDT) and leave the MSR unchanged: RDMSR and WRMSR of unknown
 * MSRs, an EFER reserved bit, clearing EFER.LME while paging is on.
 *
 * Not tested: a non-canonical LSTAR.  kvm_amd passes LSTAR through to the
 * CPU, so the #GP is the processor's business, and QEMU's TCG (the CPU in the
 * test box) accepts the write where real hardware faults.
 */
#include "kvmtest.h"

#include <string.h>

#define MSR_EFER 0xc0000080
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SFMASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176

static const struct {
	const char *name;
	uint32_t msr;
	uint64_t val;
} msrs[] = {
	{ "STAR", MSR_STAR, 0x0023001000000000ull },
	{ "LSTAR", MSR_LSTAR, 0xffffffff81000000ull },
	{ "CSTAR", MSR_CSTAR, 0xffffffff81000100ull },
	{ "SFMASK", MSR_SFMASK, 0x47700 },
	{ "KERNEL_GS_BASE", MSR_KERNEL_GS_BASE, 0xffff888012345000ull },
	{ "SYSENTER_CS", MSR_SYSENTER_CS, 0x10 },
	{ "SYSENTER_ESP", MSR_SYSENTER_ESP, 0x12345678 },
	{ "SYSENTER_EIP", MSR_SYSENTER_EIP, 0x87654321 },
};
#define NMSRS (int)(sizeof(msrs) / sizeof(msrs[0]))

#define EFER_WANT 0xd01ull /* SCE | LME | LMA | NX */

/* MSRs a Linux guest reads on any AMD model: 0 under KVM, no #GP. */
static const uint32_t zero_msrs[] = {
	0x17,       0x2a,       0x1d9,      0xc0010010, 0xc0010015,
	0xc001001f, 0xc0010112, 0xc0010113, 0xc0010000, 0xc0010004,
};
#define NZERO (int)(sizeof(zero_msrs) / sizeof(zero_msrs[0]))

static uint64_t rdmsr_safe(uint32_t msr, uint64_t *val)
{
	uint32_t lo = 0, hi = 0;

	guest_exc_reset();
	__asm__ volatile(GUEST_TRY("rdmsr")
			 : "+a"(lo), "+d"(hi)
			 : "c"(msr)
			 : "memory");
	*val = lo | ((uint64_t)hi << 32);
	return guest_exc.vector;
}

static uint64_t wrmsr_safe(uint32_t msr, uint64_t val)
{
	guest_exc_reset();
	__asm__ volatile(GUEST_TRY("wrmsr")
			 :
			 : "c"(msr), "a"((uint32_t)val),
			   "d"((uint32_t)(val >> 32))
			 : "memory");
	return guest_exc.vector;
}

static void expect_gp(int stage, uint64_t vector)
{
	GUEST_ASSERT_EQ(vector, 13);
	GUEST_ASSERT_EQ(guest_exc.error_code, 0);
	GUEST_SYNC((uint64_t)stage, vector, guest_exc.error_code);
}

static void guest_main(void)
{
	uint64_t v;

	guest_idt_init();
	GUEST_ASSERT_EQ(rdmsr_safe(MSR_EFER, &v), 0xff);
	GUEST_SYNC(1, v, 0);
	GUEST_ASSERT_EQ(wrmsr_safe(MSR_EFER, EFER_WANT), 0xff);
	GUEST_ASSERT_EQ(rdmsr_safe(MSR_EFER, &v), 0xff);
	GUEST_ASSERT_EQ(v, EFER_WANT);
	GUEST_SYNC(2, v, 0);
	for (int i = 0; i < NMSRS; i++) {
		GUEST_ASSERT_EQ(wrmsr_safe(msrs[i].msr, msrs[i].val), 0xff);
		GUEST_ASSERT_EQ(rdmsr_safe(msrs[i].msr, &v), 0xff);
		GUEST_ASSERT_EQ(v, msrs[i].val);
		GUEST_SYNC(3, msrs[i].msr, v);
	}
	for (int i = 0; i < NZERO; i++) {
		uint64_t vec = rdmsr_safe(zero_msrs[i], &v);

		GUEST_SYNC(4, vec, v);
	}
	/* HWCR and DEBUGCTL take 0; SYSCFG takes no write */
	GUEST_SYNC(5, wrmsr_safe(0xc0010015, 0), wrmsr_safe(0x1d9, 0));
	GUEST_SYNC(6, wrmsr_safe(0xc0010010, 0), 0);
	/* Negative cases. */
	expect_gp(10, rdmsr_safe(0xdeadbeef, &v));
	expect_gp(11, wrmsr_safe(0x12345678, 1));
	expect_gp(12, wrmsr_safe(MSR_EFER, EFER_WANT | (1ull << 3)));
	expect_gp(13, wrmsr_safe(MSR_EFER, EFER_WANT & ~(1ull << 8)));
	GUEST_ASSERT_EQ(guest_rdmsr(MSR_EFER), EFER_WANT);
	GUEST_DONE();
	guest_hlt_forever();
}

int main(void)
{
	struct kt_vcpu *v;
	struct kt_ucall uc;
	struct kvm_sregs s;
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[NMSRS + 1];
	} m;
	static const char *neg[] = { "RDMSR 0xdeadbeef", "WRMSR 0x12345678",
				     "WRMSR EFER reserved bit 3",
				     "WRMSR EFER clearing LME while paging" };

	kt_init("msr");
	v = kt_create_default();
	kt_setup_long(v, (uint64_t)(uintptr_t)guest_main, KT_STACK_ENTRY);

	kt_expect_sync(v, 1, &uc);
	printf("guest EFER at start 0x%llx\n", (unsigned long long)uc.args[1]);
	KT_ASSERT_EQ(uc.args[1], 0x500);
	kt_expect_sync(v, 2, &uc);
	printf("guest EFER after write 0x%llx\n",
	       (unsigned long long)uc.args[1]);
	for (int i = 0; i < NMSRS; i++) {
		kt_expect_sync(v, 3, &uc);
		printf("guest %-14s (0x%08x) reads back 0x%llx\n", msrs[i].name,
		       msrs[i].msr, (unsigned long long)uc.args[2]);
		KT_ASSERT_EQ(uc.args[1], msrs[i].msr);
		KT_ASSERT_EQ(uc.args[2], msrs[i].val);
	}
	for (int i = 0; i < NZERO; i++) {
		kt_expect_sync(v, 4, &uc);
		printf("guest RDMSR 0x%08x: vector %s, value 0x%llx\n",
		       zero_msrs[i], uc.args[1] == 0xff ? "none" : "raised",
		       (unsigned long long)uc.args[2]);
		KT_ASSERT_EQ(uc.args[1], 0xff);
		KT_ASSERT_EQ(uc.args[2], 0);
	}
	kt_expect_sync(v, 5, &uc);
	printf("guest WRMSR 0 to HWCR: vector %llu, to DEBUGCTL: vector %llu\n",
	       (unsigned long long)uc.args[1], (unsigned long long)uc.args[2]);
	kt_expect_sync(v, 6, &uc);
	printf("guest WRMSR 0 to SYSCFG: vector %llu\n",
	       (unsigned long long)uc.args[1]);
	for (int i = 0; i < 4; i++) {
		kt_expect_sync(v, 10 + (uint64_t)i, &uc);
		printf("%-38s -> vector %llu error code %llu\n", neg[i],
		       (unsigned long long)uc.args[1],
		       (unsigned long long)uc.args[2]);
		KT_ASSERT_EQ(uc.args[1], 13);
	}
	kt_expect_done(v);

	/* The host's view after the guest is done. */
	kt_get_sregs(v, &s);
	printf("host KVM_GET_SREGS efer=0x%llx\n", (unsigned long long)s.efer);
	KT_ASSERT_EQ(s.efer, EFER_WANT);
	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = NMSRS + 1;
	for (int i = 0; i < NMSRS; i++)
		m.e[i].index = msrs[i].msr;
	m.e[NMSRS].index = MSR_EFER;
	KT_ASSERT_EQ(KT_IOCTL(v->fd, KVM_GET_MSRS, &m), NMSRS + 1);
	for (int i = 0; i < NMSRS; i++) {
		printf("host KVM_GET_MSRS %-14s 0x%llx\n", msrs[i].name,
		       (unsigned long long)m.e[i].data);
		KT_ASSERT_EQ(m.e[i].data, msrs[i].val);
	}
	printf("host KVM_GET_MSRS EFER 0x%llx\n",
	       (unsigned long long)m.e[NMSRS].data);
	KT_ASSERT_EQ(m.e[NMSRS].data, EFER_WANT);
	kt_pass();
}
