// SPDX-License-Identifier: GPL-2.0
/*
 * test_run.c - KVM_RUN (core/vcpu.c) with scripted exits: plain port I/O
 * and its completion on the next run, immediate_exit, signals, HLT, the
 * fields of kvm_run, kicks, and the FPU switch around the guest.  The
 * reference is Linux: kvm_arch_vcpu_ioctl_run, kvm_fast_pio,
 * complete_fast_pio_in/out (arch/x86/kvm/x86.c).
 */
#include <stdint.h>
#include <string.h>

#include "fx.h"

#define RIP0 0x1000ULL
#define NRIP 0x1002ULL

static u64 reg(struct fx *f, int r)
{
	struct kvm_regs regs;
	u64 *p = (u64 *)&regs;

	fx_get_regs(f, &regs);
	/* struct kvm_regs: rax rbx rcx rdx rsi rdi rsp rbp r8..r15 rip */
	switch (r) {
	case XK_RAX:
		return p[0];
	case XK_RBX:
		return p[1];
	case XK_RCX:
		return p[2];
	case XK_RDX:
		return p[3];
	default:
		XT_FAIL("reg %d", r);
	}
}

static void set_rax(struct fx *f, u64 v)
{
	struct kvm_regs r;

	fx_get_regs(f, &r);
	r.rax = v;
	fx_set_regs(f, &r);
}

static struct fx *pio_fx(void)
{
	struct fx *f = fx_new();

	fx_mem(f, 0, 0, 16, 0);
	fx_real_mode(f, RIP0);
	return f;
}

#define OUT_STEP(p, sz)                                                  \
	{                                                                \
		.kind = FAKE_IO, .port = (p), .size = (sz), .nrip = NRIP \
	}
#define IN_STEP(p, sz)                                                        \
	{                                                                     \
		.kind = FAKE_IO, .port = (p), .size = (sz), .io = FAKE_IO_IN, \
		.nrip = NRIP                                                  \
	}

XT_TEST(run, pio_out_sizes)
{
	static const u8 sizes[] = { 1, 2, 4 };
	unsigned int i;

	for (i = 0; i < XK_ARRAY_SIZE(sizes); i++) {
		struct fx *f = pio_fx();
		u64 rax = 0x1122334455667788ULL;

		xt_ctx("size %u", sizes[i]);
		set_rax(f, rax);
		FX_SCRIPT(f, OUT_STEP(0x3f8, sizes[i]));
		fx_run_expect(f, KVM_EXIT_IO);
		XT_EQ(f->run->io.direction, KVM_EXIT_IO_OUT);
		XT_EQ(f->run->io.size, sizes[i]);
		XT_EQ(f->run->io.port, 0x3f8);
		XT_EQ(f->run->io.count, 1);
		XT_EQ(f->run->io.data_offset, XK_PIO_OFFSET);
		XT_MEMEQ(fx_io_data(f), &rax, sizes[i]);
		/* RIP moves only when the VMM calls KVM_RUN again */
		XT_EQ(fx_rip(f), RIP0);
		fx_run_to_end(f);
		XT_EQ(fx_rip(f), NRIP);
		XT_EQ(reg(f, XK_RAX), rax);
		XT_EQ(f->v->stats.io_exits, 1);
		fx_destroy(f);
	}
}

struct in_case {
	u8 size;
	u32 data;
	u64 want; /* RAX after, from all ones */
};

XT_TEST(run, pio_in_rax_merge)
{
	static const struct in_case cases[] = {
		{ 1, 0x5a, 0xffffffffffffff5aULL }, /* IN AL: upper bits kept */
		{ 2, 0x1234, 0xffffffffffff1234ULL },
		{ 4, 0xdeadbeef, 0x00000000deadbeefULL }, /* IN EAX: zero-ext */
	};
	unsigned int i;

	for (i = 0; i < XK_ARRAY_SIZE(cases); i++) {
		struct fx *f = pio_fx();

		xt_ctx("size %u", cases[i].size);
		set_rax(f, ~0ULL);
		FX_SCRIPT(f, IN_STEP(0x60, cases[i].size));
		fx_run_expect(f, KVM_EXIT_IO);
		XT_EQ(f->run->io.direction, KVM_EXIT_IO_IN);
		XT_EQ(f->run->io.size, cases[i].size);
		XT_EQ(f->run->io.port, 0x60);
		XT_EQ(f->run->io.count, 1);
		XT_EQ(reg(f, XK_RAX), ~0ULL); /* nothing yet */
		memcpy(fx_io_data(f), &cases[i].data, 4);
		fx_run_to_end(f);
		XT_EQ(reg(f, XK_RAX), cases[i].want);
		XT_EQ(fx_rip(f), NRIP);
		fx_destroy(f);
	}
}

/* The merge takes RAX as it is at completion (Linux reads it then too). */
XT_TEST(run, pio_in_merges_with_rax_at_completion)
{
	struct fx *f = pio_fx();

	set_rax(f, 0x1111111111111111ULL);
	FX_SCRIPT(f, IN_STEP(0x61, 1));
	fx_run_expect(f, KVM_EXIT_IO);
	set_rax(f, 0x2222222222222222ULL);
	*fx_io_data(f) = 0x33;
	fx_run_to_end(f);
	XT_EQ(reg(f, XK_RAX), 0x2222222222222233ULL);
}

XT_TEST(run, pio_vmm_moved_rip_drops_completion)
{
	struct fx *f = pio_fx();

	set_rax(f, 0x1111111111111111ULL);
	FX_SCRIPT(f, IN_STEP(0x61, 2), OUT_STEP(0x80, 1));
	fx_run_expect(f, KVM_EXIT_IO);
	fx_set_rip(f, 0x5000);
	*(u16 *)fx_io_data(f) = 0xabcd;
	/* the guest goes on at 0x5000 and the IN is dropped */
	fx_run_expect(f, KVM_EXIT_IO);
	XT_EQ(f->run->io.port, 0x80);
	XT_EQ(fx_rip(f), 0x5000);
	XT_EQ(reg(f, XK_RAX), 0x1111111111111111ULL);
	fx_set_rip(f, 0x6000);
	fx_run_to_end(f);
	XT_EQ(fx_rip(f), 0x6000);
}

/* Linux's KVM_X86_QUIRK_OUT_7E_INC_RIP: RIP moves before the exit. */
XT_TEST(run, pio_port_7e_quirk)
{
	struct fx *f = pio_fx();

	FX_SCRIPT(f, OUT_STEP(0x7e, 1), IN_STEP(0x7e, 1));
	fx_run_expect(f, KVM_EXIT_IO);
	XT_EQ(f->run->io.port, 0x7e);
	XT_EQ(f->run->io.direction, KVM_EXIT_IO_OUT);
	XT_EQ(fx_rip(f), NRIP);
	fx_set_rip(f, RIP0); /* the IN at the same place */
	fx_run_expect(f, KVM_EXIT_IO);
	XT_EQ(f->run->io.direction, KVM_EXIT_IO_IN);
	XT_EQ(fx_rip(f), RIP0); /* not for IN */
	fx_run_to_end(f);
	XT_EQ(fx_rip(f), NRIP);
}

/* Real-mode code: the next RIP comes from decoding the guest's bytes. */
XT_TEST(run, pio_next_rip_decoded)
{
	static const u8 code[] = { 0xe6, 0x80,       /* out 0x80, al */
				   0x66, 0xe5, 0x71, /* in eax, 0x71 */
				   0xee };           /* out dx, al */
	struct fx *f = pio_fx();

	fx_poke(f, RIP0, code, sizeof(code));
	FX_SCRIPT(
		f, { .kind = FAKE_IO, .port = 0x80, .size = 1 },
		{ .kind = FAKE_IO, .port = 0x71, .size = 4, .io = FAKE_IO_IN },
		{ .kind = FAKE_IO, .port = 0x3f8, .size = 1 });
	fx_run_expect(f, KVM_EXIT_IO);
	fx_run_expect(f, KVM_EXIT_IO);
	XT_EQ(fx_rip(f), RIP0 + 2);
	fx_run_expect(f, KVM_EXIT_IO);
	XT_EQ(fx_rip(f), RIP0 + 5);
	fx_run_to_end(f);
	XT_EQ(fx_rip(f), RIP0 + 6);
}

XT_TEST(run, immediate_exit_completes_io_then_eintr)
{
	struct fx *f = pio_fx();
	unsigned int entries;

	set_rax(f, 0);
	FX_SCRIPT(f, IN_STEP(0x60, 1));
	fx_run_expect(f, KVM_EXIT_IO);
	entries = fake_entries(f->v);
	*fx_io_data(f) = 0x42;
	f->run->immediate_exit = 1;
	XT_EQ(fx_run(f), -EINTR);
	XT_EQ(fake_entries(f->v), entries); /* the guest did not run */
	XT_EQ(reg(f, XK_RAX), 0x42);        /* but the IN is complete */
	XT_EQ(fx_rip(f), NRIP);
	XT_EQ(fx_run(f), -EINTR); /* as long as the flag is set */
	f->run->immediate_exit = 0;
	fx_run_to_end(f);
	XT_EQ(reg(f, XK_RAX), 0x42); /* completed once only */
}

/*
 * Linux leaves run->exit_reason alone for immediate_exit (selftests'
 * vcpu_run_complete_io relies on it); only a signal sets KVM_EXIT_INTR.
 */
XT_TEST(run, immediate_exit_keeps_exit_reason)
{
	struct fx *f = pio_fx();

	FX_SCRIPT(f, OUT_STEP(0x80, 1));
	fx_run_expect(f, KVM_EXIT_IO);
	f->run->immediate_exit = 1;
	XT_EQ(fx_run(f), -EINTR);
	XT_EQ(f->run->exit_reason, KVM_EXIT_IO);
}

XT_TEST(run, signal_pending_eintr)
{
	struct fx *f = pio_fx();

	FX_SCRIPT(f, OUT_STEP(0x80, 1));
	host_user_set_signal_pending(true);
	XT_EQ(fx_run(f), -EINTR);
	XT_EQ(f->run->exit_reason, KVM_EXIT_INTR);
	XT_EQ(fake_entries(f->v), 0);
	XT_EQ(f->v->stats.signal_exits, 1);
	host_user_set_signal_pending(false);
	fx_run_expect(f, KVM_EXIT_IO);
}

static void raise_signal(struct xk_vcpu *v, void *arg)
{
	(void)v;
	(void)arg;
	host_user_set_signal_pending(true);
}

/* A signal that arrives while the guest runs ends KVM_RUN at its exit. */
XT_TEST(run, signal_during_guest)
{
	struct fx *f = pio_fx();

	FX_SCRIPT(f, { .kind = FAKE_INTR, .guest = raise_signal },
		  OUT_STEP(0x80, 1));
	XT_EQ(fx_run(f), -EINTR);
	XT_EQ(f->run->exit_reason, KVM_EXIT_INTR);
	XT_EQ(fake_entries(f->v), 1);
	host_user_set_signal_pending(false);
	fx_run_expect(f, KVM_EXIT_IO);
}

/*
 * A signal that arrives after the vCPU published IN_GUEST but before it
 * entered: the entry is abandoned (Linux: kvm_vcpu_exit_request).
 */
XT_TEST(run, signal_after_mode_published_cancels_entry)
{
	struct fx *f = pio_fx();

	FX_SCRIPT(f, OUT_STEP(0x80, 1));
	host_user_signal_after(2); /* loop top: no; after IN_GUEST: yes */
	XT_EQ(fx_run(f), -EINTR);
	XT_EQ(f->run->exit_reason, KVM_EXIT_INTR);
	XT_EQ(fake_entries(f->v), 0);
	XT_EQ(f->v->mode, XK_OUTSIDE_GUEST);
	XT_ASSERT(host_user_signal_checks() >= 3);
	host_user_signal_after(0);
	fx_run_expect(f, KVM_EXIT_IO);
	XT_EQ(fake_entries(f->v), 1);
}

XT_TEST(run, interrupts_reenter_the_guest)
{
	struct fx *f = pio_fx();

	FX_SCRIPT(f, { .kind = FAKE_INTR }, { .kind = FAKE_INTR },
		  { .kind = FAKE_INTR }, OUT_STEP(0x80, 1));
	fx_run_expect(f, KVM_EXIT_IO);
	XT_EQ(fake_entries(f->v), 4);
	XT_EQ(f->v->stats.exits, 4);
}

static int fail_eio(struct xk_vcpu *v, void *arg)
{
	(void)v;
	(void)arg;
	return -EIO;
}

XT_TEST(run, handler_error_returned)
{
	struct fx *f = pio_fx();

	FX_SCRIPT(f, { .kind = FAKE_CALL, .handler = fail_eio });
	XT_EQ(fx_run(f), -EIO);
}

XT_TEST(run, hlt_exit_rip_past_hlt)
{
	struct fx *f = pio_fx();
	static const u8 hlt[] = { 0xf4 };

	fx_poke(f, RIP0, hlt, 1);
	FX_SCRIPT(f, { .kind = FAKE_HLT },
		  { .kind = FAKE_HLT, .nrip = 0x2345 });
	fx_run_expect(f, KVM_EXIT_HLT);
	XT_EQ(fx_rip(f), RIP0 + 1); /* already past it at the exit */
	fx_run_expect(f, KVM_EXIT_HLT);
	XT_EQ(fx_rip(f), 0x2345);
	XT_EQ(f->v->stats.halt_exits, 2);
	fx_run_to_end(f);
	XT_EQ(fx_rip(f), 0x2345);
}

XT_TEST(run, run_fields)
{
	struct fx *f = pio_fx();
	struct kvm_regs r;
	struct kvm_sregs s;

	fx_get_regs(f, &r);
	r.rflags |= XK_RFLAGS_IF;
	fx_set_regs(f, &r);
	fx_get_sregs(f, &s);
	s.cr8 = 5;
	s.apic_base = 0xfee00000 | XK_APICBASE_ENABLE;
	fx_set_sregs(f, &s);
	f->run->ready_for_interrupt_injection = 1;
	FX_SCRIPT(f, OUT_STEP(0x80, 1));
	fx_run_expect(f, KVM_EXIT_IO);
	XT_EQ(f->run->if_flag, 1);
	XT_EQ(f->run->cr8, 5);
	XT_EQ(f->run->apic_base, 0xfee00000 | XK_APICBASE_ENABLE);
	/* IF set, nothing queued: a user-space irqchip may inject now */
	XT_EQ(f->run->ready_for_interrupt_injection, 1);
	XT_EQ(f->run->flags, 0);
}

/* ---- kicks ---- */

struct kick_seen {
	unsigned long kicks_before, kicks_after;
	int mode;
};

static void kick_self(struct xk_vcpu *v, void *arg)
{
	struct kick_seen *k = arg;

	k->mode = __atomic_load_n(&v->mode, __ATOMIC_SEQ_CST);
	k->kicks_before = host_user_kicks();
	xk_vcpu_kick(v, XK_REQ_KICK);
	k->kicks_after = host_user_kicks();
}

XT_TEST(run, kick_in_guest_sends_ipi)
{
	struct fx *f = pio_fx();
	struct kick_seen k = { 0 };
	unsigned long kicks0 = host_user_kicks();

	/* outside the guest: only the request bit */
	xk_vcpu_kick(f->v, XK_REQ_KICK);
	XT_EQ(host_user_kicks(), kicks0);
	XT_ASSERT(f->v->requests & (1UL << XK_REQ_KICK));
	FX_SCRIPT(f, { .kind = FAKE_INTR, .guest = kick_self, .arg = &k });
	fx_run_to_end(f);
	XT_EQ(k.mode, XK_IN_GUEST);
	XT_EQ(k.kicks_after, k.kicks_before + 1);
	/* each entry clears the kick request (the one to reach the end of
	 * the script too) */
	XT_EQ(f->v->requests & (1UL << XK_REQ_KICK), 0);
	XT_EQ(fake_entries(f->v), 2);
	XT_ASSERT(f->v->cpu >= 0);
}

/* ---- the FPU ---- */

struct fpu_seen {
	u32 mxcsr[2];
	u16 fcw[2];
	unsigned int n;
};

static u32 get_mxcsr(void)
{
	u32 m;

	__asm__ volatile("stmxcsr %0" : "=m"(m));
	return m;
}

static void set_mxcsr(u32 m)
{
	__asm__ volatile("ldmxcsr %0" ::"m"(m));
}

static u16 get_fcw(void)
{
	u16 c;

	__asm__ volatile("fnstcw %0" : "=m"(c));
	return c;
}

static void set_fcw(u16 c)
{
	__asm__ volatile("fldcw %0" ::"m"(c));
}

/* "Guest code": look at the FPU state, then change it. */
static void guest_fpu(struct xk_vcpu *v, void *arg)
{
	struct fpu_seen *s = arg;

	(void)v;
	if (s->n < 2) {
		s->mxcsr[s->n] = get_mxcsr();
		s->fcw[s->n] = get_fcw();
	}
	s->n++;
	set_mxcsr(0x7f80); /* round toward zero */
	set_fcw(0x0f7f);   /* round toward zero, 64-bit precision */
}

/*
 * The guest's FPU state is loaded around each entry and saved after it;
 * the test process's own state (here MXCSR and the x87 control word) is
 * back afterwards: host/user's host_fpu_begin/end keep it, as the kernel
 * keeps the task's.
 */
XT_TEST(run, fpu_guest_state_switched)
{
	struct fx *f = pio_fx();
	struct fpu_seen s = { { 0 }, { 0 }, 0 };
	u32 mx0 = get_mxcsr();
	u16 fcw0 = get_fcw();

	set_mxcsr(0x5f80); /* round up */
	set_fcw(0x0b7f);   /* round up */
	FX_SCRIPT(f, { .kind = FAKE_INTR, .guest = guest_fpu, .arg = &s },
		  { .kind = FAKE_CALL, .handler = NULL },
		  { .kind = FAKE_INTR, .guest = guest_fpu, .arg = &s },
		  OUT_STEP(0x80, 1));
	fx_run_expect(f, KVM_EXIT_IO);
	XT_EQ(get_mxcsr(), 0x5f80);
	XT_EQ(get_fcw(), 0x0b7f);
	set_mxcsr(mx0);
	set_fcw(fcw0);
	XT_EQ(s.n, 2);
	/* first entry: the RESET state; second: what the guest left */
	XT_EQ(s.mxcsr[0], 0x1f80);
	XT_EQ(s.fcw[0], 0x037f);
	XT_EQ(s.mxcsr[1], 0x7f80);
	XT_EQ(s.fcw[1], 0x0f7f);
	XT_EQ(f->v->stats.fpu_reload, fake_entries(f->v));
}

/* The trace probes: one entry per guest entry, one return to the VMM. */
XT_TEST(run, trace_probes)
{
	struct fx *f = pio_fx();
	struct host_user_trace before = host_user_trace;

	FX_SCRIPT(f, OUT_STEP(0x80, 1));
	fx_run_expect(f, KVM_EXIT_IO);
	XT_EQ(host_user_trace.entries, before.entries + 1);
	XT_EQ(host_user_trace.last_entry_rip, RIP0);
	XT_EQ(host_user_trace.userspace_exits, before.userspace_exits + 1);
	XT_EQ(host_user_trace.last_userspace_reason, KVM_EXIT_IO);
	XT_EQ(host_user_trace.last_userspace_err, 0);
	/* the port access itself: one pio probe, with what the exit says */
	XT_EQ(host_user_trace.pios, before.pios + 1);
	XT_EQ(host_user_trace.last_pio.port, 0x80);
	XT_EQ(host_user_trace.last_pio.size, 1);
	XT_EQ(host_user_trace.last_pio.in, false);
	XT_EQ(host_user_trace.last_pio.count, 1);
	XT_EQ(host_user_trace.mmios, before.mmios);
	XT_EQ(host_user_trace.emulation_failures, before.emulation_failures);
	fx_destroy(f);
}

/* An IN traces its direction and size; the completion adds no probe. */
XT_TEST(run, trace_pio_in)
{
	struct fx *f = pio_fx();
	struct host_user_trace before = host_user_trace;

	FX_SCRIPT(f, IN_STEP(0x3fd, 2));
	fx_run_expect(f, KVM_EXIT_IO);
	XT_EQ(host_user_trace.pios, before.pios + 1);
	XT_EQ(host_user_trace.last_pio.port, 0x3fd);
	XT_EQ(host_user_trace.last_pio.size, 2);
	XT_EQ(host_user_trace.last_pio.in, true);
	XT_EQ(host_user_trace.last_pio.count, 1);
	fx_run_to_end(f);
	XT_EQ(host_user_trace.pios, before.pios + 1);
	XT_EQ(host_user_trace.userspace_exits, before.userspace_exits + 2);
	fx_destroy(f);
}
