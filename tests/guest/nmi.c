// SPDX-License-Identifier: GPL-2.0
/*
 * nmi - KVM_NMI: an NMI is delivered through the guest's IDT (vector 2)
 * whatever RFLAGS.IF says, and NMIs are blocked from the delivery of one
 * until the IRET that ends its handler.
 *
 * The 64-bit guest's NMI handler counts, records the frame (RIP, RFLAGS) and
 * whether it was entered while another NMI handler had not finished yet
 * (in_nmi), and reports through a ucall before it returns.  The main code
 * spins on the count, so a late NMI shows as spins (bounded: the guest gives
 * up after 2^26 spins and the host then fails on the count).
 *   1. IF=0 (the guest never executed STI): KVM_NMI at a ucall exit; the
 *      handler runs at once, frame RIP right after the OUT, frame IF=0;
 *      if_flag 0 and ready 0 inside.
 *   2. The same after STI: frame IF=1, and inside the handler if_flag 0
 *      (the IDT gate is an interrupt gate), ready 0.
 *   3. KVM_NMI twice while the guest is inside its NMI handler: nothing is
 *      delivered before the handler's IRET; right at the IRET (before the
 *      interrupted code runs one more instruction: same frame RIP as the
 *      first NMI, no spins) exactly one more NMI arrives, not nested
 *      (in_nmi=0 at entry); a CPU holds at most one NMI pending.
 *   4. KVM_NMI twice before running, outside any handler: two NMIs, the
 *      second right at the first one's IRET (Linux keeps one NMI in
 *      delivery plus one pending).
 */
#define _GNU_SOURCE
#include "kvmtest.h"

#include <string.h>
#include <sys/ioctl.h>

#define S_NMI \
	100 /* from the handler: a1 = NMI number (from 0), a2 = frame RIP */
#define MAX_NMI 16
#define SPIN_LIMIT (1ull << 26)

static volatile uint64_t nmi_count, in_nmi, spins;
static volatile uint64_t nmi_rflags[MAX_NMI], nmi_nested[MAX_NMI],
	nmi_spins[MAX_NMI];

static void nmi_handler(struct guest_frame *f)
{
	uint64_t n = nmi_count;

	if (n < MAX_NMI) {
		nmi_rflags[n] = f->rflags;
		nmi_nested[n] = in_nmi;
		nmi_spins[n] = spins;
	}
	in_nmi = 1;
	nmi_count = n + 1;
	GUEST_SYNC(S_NMI, n, f->rip);
	in_nmi = 0;
}

/* Spin until the handler has run `target` times in all. */
static void wait_for(uint64_t target)
{
	spins = 0;
	while (nmi_count < target && spins < SPIN_LIMIT)
		spins++;
}

extern const char n_after1[], n_after2[], n_after3[], n_after4[];

static void guest_main(void)
{
	guest_idt_init();
	guest_handlers[2] = nmi_handler;

	__asm__ volatile(KT_ASM_SYNC(1) "n_after1:" ::: KT_ASM_SYNC_CLOBBERS);
	wait_for(1);
	GUEST_SYNC(11, nmi_count, spins);

	__asm__ volatile("sti\n\t" KT_ASM_SYNC(2) "n_after2:"
			 :
			 :
			 : KT_ASM_SYNC_CLOBBERS);
	wait_for(2);
	GUEST_SYNC(12, nmi_count, spins);

	__asm__ volatile(KT_ASM_SYNC(3) "n_after3:" ::: KT_ASM_SYNC_CLOBBERS);
	wait_for(4);
	GUEST_SYNC(13, nmi_count, spins);

	__asm__ volatile(KT_ASM_SYNC(4) "n_after4:" ::: KT_ASM_SYNC_CLOBBERS);
	wait_for(6);
	GUEST_SYNC(14, nmi_count, spins);
	GUEST_DONE();
	guest_hlt_forever();
}

#define ADDR(sym) ((uint64_t)(uintptr_t)(sym))

static void flags(struct kt_vcpu *v, const char *where, int want_if,
		  int want_ready)
{
	printf("%s: if_flag=%u ready_for_interrupt_injection=%u\n", where,
	       v->run->if_flag, v->run->ready_for_interrupt_injection);
	KT_ASSERT_EQ(v->run->if_flag, want_if);
	KT_ASSERT_EQ(v->run->ready_for_interrupt_injection, want_ready);
}

static void nmi(struct kt_vcpu *v)
{
	printf("KVM_NMI\n");
	KT_IOCTL(v->fd, KVM_NMI, NULL);
}

/*
 * The next exit must be the handler's ucall for NMI number n, interrupting
 * the code at frame_rip with this IF, not nested, after `spun` main spins.
 */
static void expect_nmi(struct kt_vcpu *v, uint64_t n, uint64_t frame_rip,
		       int frame_if)
{
	struct kt_ucall uc;
	volatile uint64_t *rf = *KT_GUEST_VAR(v->vm, nmi_rflags);
	volatile uint64_t *nested = *KT_GUEST_VAR(v->vm, nmi_nested);
	volatile uint64_t *sp = *KT_GUEST_VAR(v->vm, nmi_spins);

	kt_expect_sync(v, S_NMI, &uc);
	printf("  NMI handler #%llu: frame rip as expected: %s, frame IF=%llu, "
	       "inside another NMI handler: %s, main code ran on: %s\n",
	       (unsigned long long)uc.args[1],
	       uc.args[2] == frame_rip ? "yes" : "NO",
	       (unsigned long long)(rf[n] >> 9) & 1, nested[n] ? "YES" : "no",
	       sp[n] ? "YES" : "no");
	KT_ASSERT_EQ(uc.args[1], n);
	KT_ASSERT_EQ(uc.args[2], frame_rip);
	KT_ASSERT_EQ((rf[n] >> 9) & 1, frame_if);
	KT_ASSERT_EQ(nested[n], 0);
	KT_ASSERT_EQ(sp[n], 0);
	flags(v, "  inside the handler", 0, 0);
}

static void expect_count(struct kt_vcpu *v, uint64_t stage, uint64_t count)
{
	struct kt_ucall uc;

	kt_expect_sync(v, stage, &uc);
	printf("guest counted %llu NMIs\n", (unsigned long long)uc.args[1]);
	KT_ASSERT_EQ(uc.args[1], count);
}

int main(void)
{
	struct kt_vcpu *v;
	struct kt_ucall uc;

	kt_init("nmi");
	v = kt_create_default();
	kt_setup_long(v, ADDR(guest_main), KT_STACK_ENTRY);

	printf("-- NMI with IF=0\n");
	kt_expect_sync(v, 1, &uc);
	flags(v, "ucall", 0, 0);
	nmi(v);
	expect_nmi(v, 0, ADDR(n_after1), 0);
	expect_count(v, 11, 1);

	printf("-- NMI with IF=1\n");
	kt_expect_sync(v, 2, &uc);
	flags(v, "ucall", 1, 1);
	nmi(v);
	expect_nmi(v, 1, ADDR(n_after2), 1);
	expect_count(v, 12, 2);

	printf("-- KVM_NMI twice inside the NMI handler\n");
	kt_expect_sync(v, 3, &uc);
	nmi(v);
	expect_nmi(v, 2, ADDR(n_after3), 1);
	nmi(v);
	nmi(v);
	expect_nmi(v, 3, ADDR(n_after3), 1);
	expect_count(v, 13, 4);

	printf("-- KVM_NMI twice before running\n");
	kt_expect_sync(v, 4, &uc);
	nmi(v);
	nmi(v);
	expect_nmi(v, 4, ADDR(n_after4), 1);
	expect_nmi(v, 5, ADDR(n_after4), 1);
	expect_count(v, 14, 6);
	kt_expect_done(v);
	kt_pass();
}
