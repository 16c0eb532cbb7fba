// SPDX-License-Identifier: GPL-2.0
/*
 * fpu_state - the guest's x87, SSE and AVX registers survive every kind of
 * exit, the VMM sees and changes them through KVM_GET/SET_FPU,
 * KVM_GET/SET_XSAVE and KVM_GET/SET_XCRS, and neither side's registers ever
 * leak into the other's.
 *
 * Theory.  A driver that switches FPU state wrongly fails in one of three
 * ways: it does not save the guest's registers at an exit (the guest later
 * sees stale or foreign values), it does not restore the host's (the guest's
 * values show up in the VMM or in another task), or its VMM views are not the
 * state the guest runs with.  The test makes each of these visible by making
 * every party hold DIFFERENT, known values all the time:
 *
 *   - the guest (long mode, CR4.OSFXSR/OSXMMEXCPT from kt_setup_long, and
 *     CR4.OSXSAVE with XCR0 = x87|SSE|AVX when its CPUID, the driver's
 *     KVM_GET_SUPPORTED_CPUID table, has XSAVE and AVX) loads a pattern of
 *     round r into the x87 stack (8 normal 80-bit values, all tags valid),
 *     FCW, MXCSR, XMM0-15 and the upper halves of YMM0-15, then exits by OUT,
 *     IN, HLT, CPUID (in-kernel), an MMIO write and read, and a long spin
 *     (timer interrupts, and preemption by the spinners below), and after
 *     each reads every register back (FXSAVE, VEXTRACTF128) and compares
 *     with the pattern; a mismatch is a ucall naming the register and value;
 *   - the host thread loads a fresh pattern of its own into the same
 *     registers right before every KVM_RUN and checks it right after (no
 *     libc code runs in between: the test is built -mgeneral-regs-only and
 *     the window holds only the ioctl), so a guest value leaking to user
 *     space, or a host value leaking into the guest, is caught at once;
 *   - one spinner thread per CPU (at most two), pinned there beside the vCPU
 *     thread, loops loading its own pattern, spinning and checking it, so
 *     the vCPU thread is preempted in and out of KVM_RUN and the driver's
 *     state switch races with another FPU user; the vCPU thread also moves
 *     between the spinners' CPUs from round to round.
 *
 * Host and guest patterns never agree (the host's FCW has RC=3 and its
 * MXCSR the PE flag, which the guest's never have; the rest is random).
 * The VMM views: at a sync in each round the host reads KVM_GET_FPU and
 * KVM_GET_XSAVE and requires the guest's pattern (FCW, MXCSR, abridged FTW
 * 0xff, ST0-7, XMM0-15, and YMM_Hi128 from the XSAVE image's AVX area);
 * in rounds 1, 4, ... it writes a new pattern with KVM_SET_FPU (the YMM
 * upper halves must stay), in rounds 2, 5, ... with KVM_SET_XSAVE (all of
 * it), and the guest, which knows the schedule, checks it sees exactly that
 * across further exits; the host reads it back after the guest ran.  XCR0:
 * 0x1 at reset, set to 0x7 before the first entry (the guest's XGETBV sees
 * it), later set to 0x3 (invalid values 0x0 and 0x5 refused with EINVAL,
 * XCR0 unchanged), the guest then sees 0x3 and keeps x87/SSE state across
 * exits, then 0x7 again.  (The guest never runs XSETBV: QEMU's TCG does not
 * take SVM's XSETBV intercept, so the hypervisor would not see it.)
 * KVM_GET_FPU's mxcsr field is 0 and KVM_SET_FPU's is ignored, as in Linux
 * (MXCSR travels only in the XSAVE image); the test does a VMM's GET,
 * change, SET and requires the guest's MXCSR to be unchanged.
 *
 * The transcript holds only what every correct KVM agrees on: the patterns'
 * deterministic FCW/MXCSR/XCR0 values, "ok" verdicts and errnos; how often
 * a spinner preempted the vCPU goes to stderr.
 */
#define _GNU_SOURCE
#include "kvmtest.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* -------------------------------------------------- shared: patterns -- */

/* Register values to load; offsets are used by fp_load below. */
struct fp_pat {
	uint64_t st[8][2];   /*   0: ST(i): mantissa, sign|exponent */
	uint64_t xmm[16][2]; /* 128 */
	uint64_t yh[16][2];  /* 384: bits 255:128 of YMMi */
	uint32_t mxcsr;      /* 640 */
	uint16_t fcw;        /* 644 */
	uint16_t pad;
} __attribute__((aligned(64)));

/* Registers as read back: an FXSAVE image, then the YMM upper halves. */
struct fp_state {
	uint64_t fx[64];    /* 0: FXSAVE64 image */
	uint64_t yh[16][2]; /* 512 */
} __attribute__((aligned(64)));

void fp_load(const struct fp_pat *p, int avx);
void fp_read(struct fp_state *s, int avx);
void fp_clean(int avx);

// clang-format off
__asm__(".pushsection .text\n"
	".p2align 4\n"
	".globl fp_load\n"
	"fp_load:\n"
	"  fninit\n"
	"  fldcw 644(%rdi)\n"
	"  .irp i,7,6,5,4,3,2,1,0\n"
	"  fldt 16*\\i(%rdi)\n"
	"  .endr\n"
	"  ldmxcsr 640(%rdi)\n"
	"  .irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
	"  movdqu 128+16*\\i(%rdi), %xmm\\i\n"
	"  .endr\n"
	"  test %esi, %esi\n"
	"  jz 1f\n"
	"  .irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
	"  vinsertf128 $1, 384+16*\\i(%rdi), %ymm\\i, %ymm\\i\n"
	"  .endr\n"
	"1: ret\n"
	".p2align 4\n"
	".globl fp_read\n"
	"fp_read:\n"
	"  fxsave64 (%rdi)\n"
	"  test %esi, %esi\n"
	"  jz 1f\n"
	"  .irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
	"  vextractf128 $1, %ymm\\i, 512+16*\\i(%rdi)\n"
	"  .endr\n"
	"1: ret\n"
	".p2align 4\n"
	".globl fp_clean\n"
	"fp_clean:\n"
	"  fninit\n"
	"  pushq $0x1f80\n"
	"  ldmxcsr (%rsp)\n"
	"  popq %rax\n"
	"  test %edi, %edi\n"
	"  jz 1f\n"
	"  vzeroupper\n"
	"1: ret\n"
	".popsection\n");
// clang-format on

static uint64_t mix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/*
 * The pattern of a seed.  Guest flavour: FCW RC 0-2, MXCSR without PE;
 * host flavour: FCW RC 3, MXCSR with PE, so the two never agree there.  All
 * exceptions stay masked; x87 values are normal numbers near 1.0.
 */
static void make_pattern(struct fp_pat *p, uint64_t seed, int host)
{
	static const uint16_t pc[3] = { 0, 2, 3 };
	uint64_t s = seed * 0x100000001b3ull + (host ? 0x5a5a : 1), m;
	int i;

	for (i = 0; i < 8; i++) {
		p->st[i][0] = mix(&s) | (1ull << 63);
		m = mix(&s);
		p->st[i][1] = (0x3fc0 + (m & 0x7f)) | (m & 0x8000);
	}
	for (i = 0; i < 16; i++) {
		p->xmm[i][0] = mix(&s);
		p->xmm[i][1] = mix(&s);
		p->yh[i][0] = mix(&s);
		p->yh[i][1] = mix(&s);
	}
	m = mix(&s);
	p->mxcsr = 0x1f80 | (uint32_t)(m & 0xe01f) | (host ? 0x20 : 0);
	p->fcw = (uint16_t)(0x7f | pc[(m >> 16) % 3] << 8 |
			    (host ? 3 : (m >> 20) % 3) << 10);
	p->pad = 0;
}

static void pat_copy(struct fp_pat *d, const struct fp_pat *s, int with_yh)
{
	int i;

	for (i = 0; i < 8; i++) {
		d->st[i][0] = s->st[i][0];
		d->st[i][1] = s->st[i][1];
	}
	for (i = 0; i < 16; i++) {
		d->xmm[i][0] = s->xmm[i][0];
		d->xmm[i][1] = s->xmm[i][1];
		if (with_yh) {
			d->yh[i][0] = s->yh[i][0];
			d->yh[i][1] = s->yh[i][1];
		}
	}
	d->mxcsr = s->mxcsr;
	d->fcw = s->fcw;
}

/* Mismatch codes of fp_check. */
#define BAD_FCW 1
#define BAD_MXCSR 2
#define BAD_FTW 3
#define BAD_ST 0x10  /* + i */
#define BAD_XMM 0x20 /* + i, + 0x100 for the high qword */
#define BAD_YMMH 0x30

/* 0 when s holds p; else a BAD_ code with the value read and expected. */
static int fp_check(const struct fp_pat *p, const struct fp_state *s, int avx,
		    uint64_t *got, uint64_t *want)
{
	int i, h;

	*got = s->fx[0] & 0xffff;
	*want = p->fcw;
	if (*got != *want)
		return BAD_FCW;
	*got = (s->fx[0] >> 32) & 0xff;
	*want = 0xff;
	if (*got != *want)
		return BAD_FTW;
	*got = s->fx[3] & 0xffffffff;
	*want = p->mxcsr;
	if (*got != *want)
		return BAD_MXCSR;
	for (i = 0; i < 8; i++) {
		*got = s->fx[4 + 2 * i];
		*want = p->st[i][0];
		if (*got != *want)
			return BAD_ST + i;
		*got = s->fx[5 + 2 * i] & 0xffff;
		*want = p->st[i][1];
		if (*got != *want)
			return BAD_ST + i + 0x100;
	}
	for (i = 0; i < 16; i++)
		for (h = 0; h < 2; h++) {
			*got = s->fx[20 + 2 * i + h];
			*want = p->xmm[i][h];
			if (*got != *want)
				return BAD_XMM + i + 0x100 * h;
		}
	for (i = 0; avx && i < 16; i++)
		for (h = 0; h < 2; h++) {
			*got = s->yh[i][h];
			*want = p->yh[i][h];
			if (*got != *want)
				return BAD_YMMH + i + 0x100 * h;
		}
	return 0;
}

/* ------------------------------------------------------------ guest -- */

#define NROUNDS 12
#define PORT_OUT 0x80
#define PORT_IN 0x81
#define MMIO_GPA 0xc0000000ull
#define SPIN_LOOPS 3000000
#define CPUID_EXITS 16

#define ST_INIT 1
#define ST_CHECK 2
#define ST_END 3
#define ST_BAD 4
#define ST_XCR_A 5
#define ST_XCR_B 6
#define ST_XCR_C 7
#define ST_XCR_D 8

/* Where the guest checked: after which exit. */
enum {
	W_LOAD,
	W_OUT,
	W_IN,
	W_HLT,
	W_CPUID,
	W_MMIO_W,
	W_MMIO_R,
	W_SPIN,
	W_SET,
	W_OUT2,
	W_XCR_OUT,
	W_XCR_HLT,
	W_XCR7_OUT,
};
static const char *const where_name[] = {
	"load",         "out",          "in",           "hlt",         "cpuid",
	"mmio write",   "mmio read",    "spin",         "set by host", "out 2",
	"out (xcr0 3)", "hlt (xcr0 3)", "out (xcr0 7)",
};

static uint32_t in_val(int r)
{
	return 0xa5a50000u + (uint32_t)r * 3;
}
static uint64_t mmio_val(int r)
{
	return 0x0123456789abcdefull ^ ((uint64_t)r << 40);
}
static uint64_t set_seed(int r)
{
	return 0x5e7000 + (uint64_t)r;
}

static struct fp_pat g_exp, g_tmp;
static struct fp_state g_st;
static int g_avx;

static void g_check(int round, int where)
{
	uint64_t got, want;
	int c;

	fp_read(&g_st, g_avx);
	c = fp_check(&g_exp, &g_st, g_avx, &got, &want);
	if (c)
		GUEST_SYNC(ST_BAD,
			   (uint64_t)round << 24 | (uint64_t)where << 16 |
				   (uint64_t)c,
			   got);
}

static uint64_t g_xgetbv(void)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return lo | (uint64_t)hi << 32;
}

static void g_exits(int r)
{
	uint32_t c[4];
	uint64_t x;
	int i;

	outl(PORT_OUT, (uint32_t)r);
	g_check(r, W_OUT);
	GUEST_ASSERT_EQ(inl(PORT_IN), in_val(r));
	g_check(r, W_IN);
	__asm__ volatile("hlt");
	g_check(r, W_HLT);
	for (i = 0; i < CPUID_EXITS; i++)
		guest_cpuid(0, 0, c);
	g_check(r, W_CPUID);
	*(volatile uint64_t *)MMIO_GPA = mmio_val(r);
	g_check(r, W_MMIO_W);
	x = *(volatile uint64_t *)(MMIO_GPA + 8);
	GUEST_ASSERT_EQ(x, ~mmio_val(r));
	g_check(r, W_MMIO_R);
	for (i = 0; i < SPIN_LOOPS; i++)
		__asm__ volatile("" ::: "memory");
	g_check(r, W_SPIN);
}

static void guest_main(void)
{
	uint32_t c[4];
	uint64_t cr4;
	int r, xsave;

	guest_idt_init();
	guest_cpuid(1, 0, c);
	xsave = !!(c[2] & (1u << 26));
	g_avx = xsave && (c[2] & (1u << 28));
	if (xsave) {
		cr4 = guest_read_cr(4) | (1u << 18); /* OSXSAVE */
		__asm__ volatile("mov %0, %%cr4" ::"r"(cr4));
	}
	GUEST_SYNC(ST_INIT, g_avx, xsave ? g_xgetbv() : 0);

	for (r = 0; r < NROUNDS; r++) {
		make_pattern(&g_exp, (uint64_t)r, 0);
		fp_load(&g_exp, g_avx);
		g_check(r, W_LOAD);
		g_exits(r);
		GUEST_SYNC(ST_CHECK, r, 0);
		if (r % 3 == 1) { /* KVM_SET_FPU: YMM upper halves kept */
			uint32_t mx = g_exp.mxcsr; /* not in KVM_SET_FPU */

			make_pattern(&g_tmp, set_seed(r), 0);
			pat_copy(&g_exp, &g_tmp, 0);
			g_exp.mxcsr = mx;
		} else if (r % 3 == 2) { /* KVM_SET_XSAVE: everything */
			make_pattern(&g_exp, set_seed(r), 0);
		}
		g_check(r, W_SET);
		outl(PORT_OUT, 0x100 | (uint32_t)r);
		g_check(r, W_OUT2);
		GUEST_SYNC(ST_END, r, 0);
	}

	if (g_avx) {
		GUEST_SYNC(ST_XCR_A, 0, 0); /* the host sets XCR0 = 3 */
		GUEST_SYNC(ST_XCR_B, g_xgetbv(), 0);
		g_avx = 0; /* AVX instructions would #UD now */
		make_pattern(&g_exp, 0x3c3, 0);
		fp_load(&g_exp, 0);
		outl(PORT_OUT, 0x200);
		g_check(NROUNDS, W_XCR_OUT);
		__asm__ volatile("hlt");
		g_check(NROUNDS, W_XCR_HLT);
		GUEST_SYNC(ST_XCR_C, 0, 0); /* the host sets XCR0 = 7 */
		GUEST_SYNC(ST_XCR_D, g_xgetbv(), 0);
		g_avx = 1;
		make_pattern(&g_exp, 0x3c7, 0);
		fp_load(&g_exp, 1);
		outl(PORT_OUT, 0x201);
		g_check(NROUNDS, W_XCR7_OUT);
	}
	GUEST_DONE();
	guest_hlt_forever();
}

/* ------------------------------------------------------------- host -- */

static int host_avx;
static unsigned long host_runs, host_preempted;
static struct fp_pat h_pat;
static struct fp_state h_st;

/* Spinners: one per CPU the vCPU thread visits. */
#define MAX_SPIN 2
static int ncpus, cpus[MAX_SPIN];
static volatile int spin_stop;
static volatile unsigned long spin_iters[MAX_SPIN];
static volatile int spin_bad[MAX_SPIN];
static volatile uint64_t spin_bad_got[MAX_SPIN];
static pthread_t spin_thr[MAX_SPIN];

static const char *reg_name(int code, char *buf, size_t n)
{
	const char *half = code & 0x100 ? " (high part)" : "";
	int i = code & 0xf;

	switch (code & 0xf0) {
	case 0:
		snprintf(buf, n, "%s",
			 code == BAD_FCW   ? "fcw" :
			 code == BAD_MXCSR ? "mxcsr" :
					     "ftw");
		break;
	case BAD_ST:
		snprintf(buf, n, "st%d%s", i, half);
		break;
	case BAD_XMM:
		snprintf(buf, n, "xmm%d%s", i, half);
		break;
	default:
		snprintf(buf, n, "ymm%d bits 255:128%s", i, half);
	}
	return buf;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	KT_ASSERT(sched_setaffinity(0, sizeof(set), &set) == 0);
}

static void *spinner(void *arg)
{
	int k = (int)(intptr_t)arg, j;
	struct fp_pat p;
	struct fp_state s;
	uint64_t got, want;
	unsigned long n = 0;

	pin(cpus[k]);
	while (!spin_stop) {
		make_pattern(&p, 0xabc000 + (uint64_t)k * 0x10000 + (n & 7), 1);
		fp_load(&p, host_avx);
		for (j = 0; j < 20000; j++)
			__asm__ volatile("" ::: "memory");
		fp_read(&s, host_avx);
		fp_clean(host_avx);
		j = fp_check(&p, &s, host_avx, &got, &want);
		if (j && !spin_bad[k]) {
			spin_bad_got[k] = got;
			spin_bad[k] = j;
		}
		spin_iters[k] = ++n;
	}
	return NULL;
}

/*
 * KVM_RUN with the host's own pattern in every FPU register, checked right
 * after: nothing but the ioctl runs in between.  A guest mismatch report
 * fails the test with the register, values and place.
 */
static uint32_t host_run(struct kt_vcpu *v)
{
	unsigned long spins = 0;
	uint64_t got, want;
	int r, e, c, k;
	char name[64];

	for (k = 0; k < ncpus; k++)
		spins += spin_iters[k];
	make_pattern(&h_pat, 0x4000000 + host_runs++, 1);
	fp_load(&h_pat, host_avx);
	r = ioctl(v->fd, KVM_RUN, NULL);
	fp_read(&h_st, host_avx);
	e = errno;
	fp_clean(host_avx);
	c = fp_check(&h_pat, &h_st, host_avx, &got, &want);
	if (c)
		kt_fail(__FILE__, __LINE__,
			"host %s changed across KVM_RUN: 0x%llx, was 0x%llx",
			reg_name(c, name, sizeof(name)),
			(unsigned long long)got, (unsigned long long)want);
	if (r < 0)
		kt_fail(__FILE__, __LINE__, "KVM_RUN failed: %s (errno %d)",
			strerror(e), e);
	for (k = 0; k < ncpus; k++) {
		spins -= spin_iters[k];
		if (spin_bad[k])
			kt_fail(__FILE__, __LINE__,
				"spinner %d saw its %s changed: 0x%llx", k,
				reg_name(spin_bad[k], name, sizeof(name)),
				(unsigned long long)spin_bad_got[k]);
	}
	if (spins)
		host_preempted++;
	if (v->run->exit_reason == KVM_EXIT_IO &&
	    v->run->io.port == KT_UCALL_PORT) {
		struct kt_ucall uc;

		if (kt_decode_ucall(v, &uc) == UC_SYNC &&
		    uc.args[0] == ST_BAD) {
			struct fp_pat *gp = KT_GUEST_VAR(v->vm, g_exp);
			struct fp_state *gs = KT_GUEST_VAR(v->vm, g_st);
			int gavx = *KT_GUEST_VAR(v->vm, g_avx);

			c = fp_check(gp, gs, gavx, &got, &want);
			kt_fail(__FILE__, __LINE__,
				"guest round %llu after %s: %s = 0x%llx, expected 0x%llx (code 0x%llx)",
				(unsigned long long)(uc.args[1] >> 24),
				where_name[(uc.args[1] >> 16) & 0xff],
				reg_name((int)(uc.args[1] & 0xffff), name,
					 sizeof(name)),
				(unsigned long long)uc.args[2],
				(unsigned long long)want,
				(unsigned long long)(uc.args[1] & 0xffff));
		}
	}
	return v->run->exit_reason;
}

static void h_expect(struct kt_vcpu *v, uint32_t reason)
{
	uint32_t r = host_run(v);

	if (r != reason) {
		kt_dump_regs(v, stderr);
		if (r == KVM_EXIT_INTERNAL_ERROR)
			fprintf(stderr, "  internal error suberror %u\n",
				v->run->internal.suberror);
		kt_fail(__FILE__, __LINE__, "expected exit %s, got %s (%u)",
			kt_exit_name(reason), kt_exit_name(r), r);
	}
}

static void h_sync(struct kt_vcpu *v, uint64_t stage, struct kt_ucall *uc)
{
	h_expect(v, KVM_EXIT_IO);
	if (kt_decode_ucall(v, uc) != UC_SYNC || uc->args[0] != stage)
		kt_fail(__FILE__, __LINE__,
			"expected GUEST_SYNC(%llu), got ucall %u stage %llu",
			(unsigned long long)stage, uc->cmd,
			(unsigned long long)uc->args[0]);
}

static void h_out(struct kt_vcpu *v, uint32_t val)
{
	uint32_t got;

	h_expect(v, KVM_EXIT_IO);
	memcpy(&got, kt_check_io(v, PORT_OUT, 4, KVM_EXIT_IO_OUT, 1), 4);
	KT_ASSERT_EQ(got, val);
}

static void h_mmio(struct kt_vcpu *v, uint64_t gpa, int write, uint64_t val)
{
	struct kvm_run *run = v->run;
	uint64_t d;

	h_expect(v, KVM_EXIT_MMIO);
	KT_ASSERT_EQ(run->mmio.phys_addr, gpa);
	KT_ASSERT_EQ(run->mmio.len, 8);
	KT_ASSERT_EQ(run->mmio.is_write, write);
	if (write) {
		memcpy(&d, run->mmio.data, 8);
		KT_ASSERT_EQ(d, val);
	} else {
		memcpy(run->mmio.data, &val, 8);
	}
}

static uint32_t avx_offset(void)
{
	uint32_t a, b, c, d;

	__asm__ volatile("cpuid"
			 : "=a"(a), "=b"(b), "=c"(c), "=d"(d)
			 : "a"(0xd), "c"(2));
	return b ? b : 576;
}

/* The VMM's views of the guest registers must be exactly pattern p. */
static void check_views(struct kt_vcpu *v, const struct fp_pat *p, int avx,
			const char *what, int r)
{
	static struct kvm_xsave xs;
	struct kvm_fpu f;
	struct fp_state s;
	uint64_t got, want, bv;
	int c;
	char name[64];

	KT_IOCTL(v->fd, KVM_GET_FPU, &f);
	memset(&s, 0, sizeof(s));
	memcpy((char *)s.fx + 0, &f.fcw, 2);
	memcpy((char *)s.fx + 4, &f.ftwx, 1);
	/* MXCSR is not in KVM_GET_FPU (Linux leaves it 0): XSAVE has it */
	memcpy((char *)s.fx + 24, &p->mxcsr, 4);
	memcpy((char *)s.fx + 32, f.fpr, 128);
	memcpy((char *)s.fx + 160, f.xmm, 256);
	c = fp_check(p, &s, 0, &got, &want);
	if (c)
		kt_fail(__FILE__, __LINE__,
			"round %d %s: KVM_GET_FPU %s = 0x%llx, expected 0x%llx",
			r, what, reg_name(c, name, sizeof(name)),
			(unsigned long long)got, (unsigned long long)want);
	printf("round %d %s: KVM_GET_FPU fcw=0x%04x ftwx=0x%02x st0-7 xmm0-15 ok, mxcsr field 0x%x\n",
	       r, what, f.fcw, f.ftwx, f.mxcsr);

	KT_IOCTL(v->fd, KVM_GET_XSAVE, &xs);
	memset(&s, 0, sizeof(s));
	memcpy(s.fx, xs.region, 512);
	memcpy(&bv, (char *)xs.region + 512, 8);
	if (avx && (bv & 4))
		memcpy(s.yh, (char *)xs.region + avx_offset(), 256);
	c = fp_check(p, &s, avx, &got, &want);
	if (c)
		kt_fail(__FILE__, __LINE__,
			"round %d %s: KVM_GET_XSAVE %s = 0x%llx, expected 0x%llx (xstate_bv 0x%llx)",
			r, what, reg_name(c, name, sizeof(name)),
			(unsigned long long)got, (unsigned long long)want,
			(unsigned long long)bv);
	printf("round %d %s: KVM_GET_XSAVE xstate_bv&7=0x%llx mxcsr=0x%04x x87 sse%s ok\n",
	       r, what, (unsigned long long)(bv & 7), p->mxcsr,
	       avx ? " ymm_hi0-15" : "");
}

static void set_fpu(struct kt_vcpu *v, const struct fp_pat *p)
{
	struct kvm_fpu f;

	KT_IOCTL(v->fd, KVM_GET_FPU, &f);
	f.fcw = p->fcw; /* f.mxcsr as read: a VMM's GET, change, SET */
	f.ftwx = 0xff;
	memset(f.fpr, 0, sizeof(f.fpr));
	for (int i = 0; i < 8; i++)
		memcpy(f.fpr[i], p->st[i], 10);
	memcpy(f.xmm, p->xmm, sizeof(f.xmm));
	KT_IOCTL(v->fd, KVM_SET_FPU, &f);
}

static void set_xsave(struct kt_vcpu *v, const struct fp_pat *p, int avx)
{
	static struct kvm_xsave xs;
	char *img = (char *)xs.region;
	uint64_t bv;

	KT_IOCTL(v->fd, KVM_GET_XSAVE, &xs);
	memcpy(img + 0, &p->fcw, 2);
	img[4] = (char)0xff;
	memcpy(img + 24, &p->mxcsr, 4);
	for (int i = 0; i < 8; i++) {
		memset(img + 32 + 16 * i, 0, 16);
		memcpy(img + 32 + 16 * i, p->st[i], 10);
	}
	memcpy(img + 160, p->xmm, 256);
	memcpy(&bv, img + 512, 8);
	bv |= 3;
	if (avx) {
		memcpy(img + avx_offset(), p->yh, 256);
		bv |= 4;
	}
	memcpy(img + 512, &bv, 8);
	KT_IOCTL(v->fd, KVM_SET_XSAVE, &xs);
}

static uint64_t get_xcr0(struct kt_vcpu *v)
{
	struct kvm_xcrs x;

	memset(&x, 0, sizeof(x));
	KT_IOCTL(v->fd, KVM_GET_XCRS, &x);
	KT_ASSERT_EQ(x.nr_xcrs, 1);
	KT_ASSERT_EQ(x.xcrs[0].xcr, 0);
	return x.xcrs[0].value;
}

static int set_xcr0(struct kt_vcpu *v, uint64_t val)
{
	struct kvm_xcrs x;

	memset(&x, 0, sizeof(x));
	x.nr_xcrs = 1;
	x.xcrs[0].xcr = 0;
	x.xcrs[0].value = val;
	return ioctl(v->fd, KVM_SET_XCRS, &x) < 0 ? errno : 0;
}

static void set_supported_cpuid(struct kt_vcpu *v, int *xsave, int *avx)
{
	struct kvm_cpuid2 *c;
	int n = 256;

	c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
	KT_ASSERT(c != NULL);
	c->nent = (uint32_t)n;
	KT_IOCTL(v->vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c);
	*xsave = *avx = 0;
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == 1) {
			*xsave = !!(c->entries[i].ecx & (1u << 26));
			*avx = *xsave && (c->entries[i].ecx & (1u << 28));
		}
	KT_IOCTL(v->fd, KVM_SET_CPUID2, c);
	free(c);
}

static void host_features(void)
{
	uint32_t a, b, c, d, lo, hi;

	__asm__ volatile("cpuid"
			 : "=a"(a), "=b"(b), "=c"(c), "=d"(d)
			 : "a"(1), "c"(0));
	if ((c & (1u << 27)) && (c & (1u << 28))) {
		__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
		host_avx = (lo & 6) == 6;
	}
}

static void start_spinners(void)
{
	cpu_set_t set;

	KT_ASSERT(sched_getaffinity(0, sizeof(set), &set) == 0);
	for (int i = 0; i < CPU_SETSIZE && ncpus < MAX_SPIN; i++)
		if (CPU_ISSET(i, &set))
			cpus[ncpus++] = i;
	pin(cpus[0]);
	for (int k = 0; k < ncpus; k++)
		KT_ASSERT(pthread_create(&spin_thr[k], NULL, spinner,
					 (void *)(intptr_t)k) == 0);
}

static void stop_spinners(void)
{
	spin_stop = 1;
	for (int k = 0; k < ncpus; k++) {
		pthread_join(spin_thr[k], NULL);
		KT_ASSERT(!spin_bad[k], "spinner %d", k);
	}
	fprintf(stderr,
		"fpu_state: %lu KVM_RUNs, %lu with a spinner running meanwhile, %d cpus, host avx %d\n",
		host_runs, host_preempted, ncpus, host_avx);
}

int main(void)
{
	struct kt_vcpu *v;
	struct kt_ucall uc;
	struct fp_pat p;
	int xsave, avx, r;

	kt_init("fpu_state");
	host_features();
	v = kt_create_default();
	set_supported_cpuid(v, &xsave, &avx);
	kt_setup_long(v, (uint64_t)(uintptr_t)guest_main, KT_STACK_ENTRY);
	printf("supported cpuid: xsave %d avx %d\n", xsave, avx);
	KT_ASSERT(!avx || host_avx, "the guest has AVX, the host not");
	printf("xcr0 at reset: 0x%llx\n", (unsigned long long)get_xcr0(v));
	if (avx) {
		KT_ASSERT_EQ(set_xcr0(v, 7), 0);
		printf("xcr0 set to 0x%llx\n", (unsigned long long)get_xcr0(v));
	}
	start_spinners();

	h_sync(v, ST_INIT, &uc);
	printf("guest: avx %llu, xgetbv(0) 0x%llx\n",
	       (unsigned long long)uc.args[1], (unsigned long long)uc.args[2]);
	KT_ASSERT_EQ(uc.args[1], avx);
	if (avx)
		KT_ASSERT_EQ(uc.args[2], 7);

	for (r = 0; r < NROUNDS; r++) {
		h_out(v, (uint32_t)r);
		h_expect(v, KVM_EXIT_IO);
		memcpy(kt_check_io(v, PORT_IN, 4, KVM_EXIT_IO_IN, 1),
		       &(uint32_t){ in_val(r) }, 4);
		h_expect(v, KVM_EXIT_HLT);
		h_mmio(v, MMIO_GPA, 1, mmio_val(r));
		h_mmio(v, MMIO_GPA + 8, 0, ~mmio_val(r));
		h_sync(v, ST_CHECK, &uc);
		KT_ASSERT_EQ(uc.args[1], r);
		printf("round %d: guest registers ok after out, in, hlt, cpuid, mmio write, mmio read, spin\n",
		       r);
		make_pattern(&p, (uint64_t)r, 0);
		check_views(v, &p, avx, "guest's", r);
		if (r % 3 == 1) {
			struct fp_pat n;
			uint32_t mx = p.mxcsr; /* the guest's own, untouched */

			make_pattern(&n, set_seed(r), 0);
			set_fpu(v, &n);
			pat_copy(&p, &n, 0);
			p.mxcsr = mx;
			printf("round %d: KVM_SET_FPU fcw=0x%04x (mxcsr field as read)\n",
			       r, p.fcw);
		} else if (r % 3 == 2) {
			make_pattern(&p, set_seed(r), 0);
			set_xsave(v, &p, avx);
			printf("round %d: KVM_SET_XSAVE fcw=0x%04x mxcsr=0x%04x\n",
			       r, p.fcw, p.mxcsr);
		}
		h_out(v, 0x100 | (uint32_t)r);
		h_sync(v, ST_END, &uc);
		KT_ASSERT_EQ(uc.args[1], r);
		check_views(v, &p, avx, r % 3 ? "after set" : "again", r);
		printf("round %d: guest registers ok after the sync and out\n",
		       r);
		pin(cpus[(r + 1) % ncpus]);
	}
	pin(cpus[0]);

	if (avx) {
		h_sync(v, ST_XCR_A, &uc);
		printf("xcr0 from KVM_GET_XCRS: 0x%llx\n",
		       (unsigned long long)get_xcr0(v));
		KT_ASSERT_EQ(set_xcr0(v, 3), 0);
		printf("KVM_SET_XCRS 0x0: errno %d, 0x5: errno %d\n",
		       set_xcr0(v, 0), set_xcr0(v, 5));
		printf("xcr0 set to 0x%llx\n", (unsigned long long)get_xcr0(v));
		KT_ASSERT_EQ(get_xcr0(v), 3);
		h_sync(v, ST_XCR_B, &uc);
		printf("guest xgetbv(0): 0x%llx\n",
		       (unsigned long long)uc.args[1]);
		KT_ASSERT_EQ(uc.args[1], 3);
		h_out(v, 0x200);
		h_expect(v, KVM_EXIT_HLT);
		h_sync(v, ST_XCR_C, &uc);
		KT_ASSERT_EQ(set_xcr0(v, 7), 0);
		printf("xcr0 set to 0x%llx\n", (unsigned long long)get_xcr0(v));
		h_sync(v, ST_XCR_D, &uc);
		printf("guest xgetbv(0): 0x%llx\n",
		       (unsigned long long)uc.args[1]);
		KT_ASSERT_EQ(uc.args[1], 7);
		h_out(v, 0x201);
		printf("x87 and sse kept with xcr0 0x3, all kept with 0x7\n");
	}
	h_expect(v, KVM_EXIT_IO);
	KT_ASSERT_EQ(kt_decode_ucall(v, &uc), UC_DONE);
	printf("guest done\n");
	stop_spinners();
	kt_pass();
}
