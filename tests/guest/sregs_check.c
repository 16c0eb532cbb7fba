// SPDX-License-Identifier: GPL-2.0
/*
 * sregs_check - KVM_SET_SREGS never hands VMRUN a state it refuses, and
 * EFER is checked as a guest's WRMSR would be (Linux's kvm_valid_efer).
 * Each case takes a fresh VM whose vCPU is set up for long mode (or
 * protected mode), changes one register and calls KVM_SET_SREGS:
 *
 *  - states every driver refuses one way or another: EFER reserved bits,
 *    CR0 bits 63:32: the transcript says "refused" whether the ioctl
 *    failed with EINVAL or the next KVM_RUN gave KVM_EXIT_FAIL_ENTRY
 *    (Linux 6.1's kvm_amd checks neither and lets VMRUN refuse them);
 *  - states every driver takes (a valid EFER): "taken", and the guest runs.
 *
 * xkvm-only, on stderr: xkvm refuses all of the first kind with EINVAL at
 * the ioctl (an errno, never a broken VMCB), and also EFER bits the
 * guest's CPUID does not offer (NXE without NX, LME without LM, SVME: no
 * nested SVM), which 6.1's kvm_amd takes.
 */
#define _GNU_SOURCE
#include "kvmtest.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

static void guest_main(void)
{
	GUEST_SYNC(1, 0, 0);
	GUEST_DONE();
}

enum {
	REG_EFER,
	REG_CR0,
	REG_CR3
};
enum {
	CPUID_DEFAULT,
	NO_LM,
	NO_NX
};

struct sregs_case {
	const char *what;
	int reg;
	uint64_t set, clear; /* bits of the register */
	int protected_mode;  /* start from 32-bit protected mode */
	int cpuid;           /* 0 default, NO_LM, NO_NX */
	int common;          /* every driver agrees: print it */
	int want_ok;         /* the state is valid */
};

static const struct sregs_case cases[] = {
	{ "EFER with SCE and NXE", REG_EFER, 0x801, 0, 0, 0, 1, 1 },
	{ "EFER reserved bit 1", REG_EFER, 1ULL << 1, 0, 0, 0, 1, 0 },
	{ "EFER reserved bit 9", REG_EFER, 1ULL << 9, 0, 0, 0, 1, 0 },
	{ "EFER reserved bit 20", REG_EFER, 1ULL << 20, 0, 0, 0, 1, 0 },
	{ "EFER bit 63", REG_EFER, 1ULL << 63, 0, 0, 0, 1, 0 },
	{ "CR0 bit 32", REG_CR0, 1ULL << 32, 0, 0, 0, 1, 0 },
	{ "CR0 bit 63", REG_CR0, 1ULL << 63, 0, 0, 0, 1, 0 },
	/* xkvm only: Linux 6.1 takes these */
	{ "EFER.SVME (no nested SVM)", REG_EFER, 1ULL << 12, 0, 0, 0, 0, 0 },
	{ "EFER.NXE without NX", REG_EFER, 1ULL << 11, 0, 0, NO_NX, 0, 0 },
	{ "EFER.LME|LMA without LM", REG_EFER, 0, 0, 0, NO_LM, 0, 0 },
	{ "CR3 bit 40 outside long mode", REG_CR3, 1ULL << 40, 0, 1, 0, 0, 0 },
};

/* A CPUID without LM (but NX) or without NX (but LM). */
static void set_cpuid_without(struct kt_vcpu *v, int which)
{
	const struct kvm_cpuid_entry2 e[] = {
		{ .function = 0, .eax = 1 },
		{ .function = 0x80000000, .eax = 0x80000001 },
		{ .function = 0x80000001,
		  .edx = (1u << 11) | (which == NO_LM ? 1u << 20 : 1u << 29) },
	};

	kt_set_cpuid(v, e, 3);
}

/*
 * 0: taken and the guest ran; 1: EINVAL from KVM_SET_SREGS; 2: taken but
 * KVM_RUN gave FAIL_ENTRY.
 */
static int try_case(const struct sregs_case *c)
{
	struct kt_vcpu *v = kt_create_default();
	struct kvm_sregs s;
	struct kt_ucall uc;
	uint32_t r;

	if (c->protected_mode)
		kt_setup_prot(v, (uint32_t)(uintptr_t)guest_main, KT_STACK_TOP);
	else
		kt_setup_long(v, (uint64_t)(uintptr_t)guest_main,
			      KT_STACK_ENTRY);
	/* a CPUID set after the state: SET_SREGS below checks against it */
	if (c->cpuid != CPUID_DEFAULT)
		set_cpuid_without(v, c->cpuid);
	kt_get_sregs(v, &s);
	switch (c->reg) {
	case REG_EFER:
		s.efer = (s.efer | c->set) & ~c->clear;
		break;
	case REG_CR0:
		s.cr0 = (s.cr0 | c->set) & ~c->clear;
		break;
	case REG_CR3:
		s.cr3 = (s.cr3 | c->set) & ~c->clear;
		break;
	}
	if (ioctl(v->fd, KVM_SET_SREGS, &s) < 0) {
		KT_ASSERT(errno == EINVAL, "%s: %s", c->what, strerror(errno));
		return 1;
	}
	r = kt_run_raw(v);
	if (r == KVM_EXIT_FAIL_ENTRY)
		return 2;
	KT_ASSERT(r == KVM_EXIT_IO, "%s: exit %s", c->what, kt_exit_name(r));
	kt_decode_ucall(v, &uc);
	KT_ASSERT_EQ(uc.cmd, UC_SYNC);
	return 0;
}

int main(void)
{
	long long held[3];
	int xkvm, i, bad = 0;

	kt_init("sregs_check");
	xkvm = kt_read_held(held);
	for (i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++) {
		const struct sregs_case *c = &cases[i];
		int r = try_case(c);

		if (c->common) {
			printf("%s: %s\n", c->what, r ? "refused" : "taken");
			KT_ASSERT((r == 0) == c->want_ok, "%s: %d", c->what, r);
		}
		fprintf(stderr, "%s: %s\n", c->what,
			r == 1 ? "EINVAL" :
			r == 2 ? "taken, then FAIL_ENTRY" :
				 "taken, the guest ran");
		if (xkvm && r != (c->want_ok ? 0 : 1)) {
			fprintf(stderr, "FAIL: xkvm must %s\n",
				c->want_ok ? "take it" :
					     "refuse it with EINVAL");
			bad++;
		}
	}
	KT_ASSERT(!bad, "%d cases wrong under xkvm (see stderr)", bad);
	kt_pass();
}
