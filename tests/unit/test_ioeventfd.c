// SPDX-License-Identifier: GPL-2.0
/*
 * test_ioeventfd.c - KVM_IOEVENTFD (core/ioeventfd.c and its hooks in
 * core/emulate.c) and KVM_GET_CLOCK / KVM_SET_CLOCK (core/clock.c).
 * Registration rules and errnos are Linux 6.1's (virt/kvm/eventfd.c);
 * writes that a registration takes signal a real eventfd of this process
 * (read back here) and do not exit, everything else exits as before.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "fx.h"

#define RIP0 0x1000ULL
#define NRIP 0x1002ULL
#define HOLE 0xd0000000ULL
#define PIO KVM_IOEVENTFD_FLAG_PIO
#define DM KVM_IOEVENTFD_FLAG_DATAMATCH
#define DEASSIGN KVM_IOEVENTFD_FLAG_DEASSIGN
#define CCW KVM_IOEVENTFD_FLAG_VIRTIO_CCW_NOTIFY

static long ioev(struct fx *f, u64 addr, u32 len, int fd, u32 flags, u64 data)
{
	struct kvm_ioeventfd a;

	memset(&a, 0, sizeof(a));
	a.addr = addr;
	a.len = len;
	a.fd = fd;
	a.flags = flags;
	a.datamatch = data;
	return fx_vm_ioctl(f, KVM_IOEVENTFD, &a);
}

XT_TEST(ioeventfd, caps)
{
	XT_EQ(xk_cap_value(KVM_CAP_IOEVENTFD), 1);
	XT_EQ(xk_cap_value(KVM_CAP_IOEVENTFD_ANY_LENGTH), 1);
	XT_EQ(xk_cap_value(KVM_CAP_ADJUST_CLOCK),
	      KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC);
}

XT_TEST(ioeventfd, assign_argument_errnos)
{
	struct fx *f = fx_new_vm();
	int e = fx_eventfd();
	int null = open("/dev/null", 0);
	static const struct {
		const char *what;
		u64 addr;
		u32 len, flags;
		int fd; /* -2: /dev/null, -3: the eventfd */
		long want;
	} cases[] = {
		{ "len 3", 0x1000, 3, 0, -3, -EINVAL },
		{ "len 16", 0x1000, 16, 0, -3, -EINVAL },
		{ "len 3, bad fd: len first", 0x1000, 3, 0, -1, -EINVAL },
		{ "wraps", ~0ULL - 3, 8, 0, -3, -EINVAL },
		{ "ends at 2^64 exactly: wraps to 0", ~0ULL - 3, 4, 0, -3,
		  -EINVAL },
		{ "flag 0x20", 0x1000, 4, 0x20, -3, -EINVAL },
		{ "flag bit 31", 0x1000, 4, 0x80000000u, -3, -EINVAL },
		{ "len 0 + DATAMATCH", 0x1000, 0, DM, -3, -EINVAL },
		{ "fd -1", 0x1000, 4, 0, -1, -EBADF },
		{ "fd not open", 0x1000, 4, 0, 999, -EBADF },
		{ "fd not an eventfd", 0x1000, 4, 0, -2, -EINVAL },
		{ "pio len 0", 0x10, 0, PIO, -3, 0 },
		{ "pio len 8", 0x18, 8, PIO, -3, 0 },
		{ "ccw notify (a bus nothing writes)", 0x10, 4, CCW, -3, 0 },
		{ "fast-mmio bit: accepted", 0x20, 4, 0x10, -3, 0 },
		{ "mmio len 0 near the top", ~0ULL, 0, 0, -3, 0 },
	};
	unsigned int i;

	XT_ASSERT(null >= 0);
	fx_close_later(null);
	for (i = 0; i < XK_ARRAY_SIZE(cases); i++) {
		int fd = cases[i].fd == -2 ? null :
			 cases[i].fd == -3 ? e :
					     cases[i].fd;

		xt_ctx("%s", cases[i].what);
		XT_EQ(ioev(f, cases[i].addr, cases[i].len, fd, cases[i].flags,
			   0),
		      cases[i].want);
	}
}

XT_TEST(ioeventfd, collisions_and_deassign)
{
	struct fx *f = fx_new_vm();
	int e1 = fx_eventfd(), e2 = fx_eventfd(), e1dup;

	XT_EQ(ioev(f, 0x1000, 4, e1, DM, 1), 0);
	XT_EQ(ioev(f, 0x1000, 4, e1, DM, 1), -EEXIST);
	XT_EQ(ioev(f, 0x1000, 4, e2, DM, 1), -EEXIST); /* any eventfd */
	XT_EQ(ioev(f, 0x1000, 4, e1, DM, 2), 0);
	XT_EQ(ioev(f, 0x1000, 4, e1, 0, 0), -EEXIST);  /* wildcard over data */
	XT_EQ(ioev(f, 0x1000, 0, e1, 0, 0), -EEXIST);  /* any length */
	XT_EQ(ioev(f, 0x1000, 2, e1, 0, 0), 0);        /* other length */
	XT_EQ(ioev(f, 0x1000, 4, e1, PIO | DM, 1), 0); /* other bus */
	XT_EQ(ioev(f, 0x1000, 4, e1, CCW | DM, 1), 0); /* and another */
	XT_EQ(ioev(f, 0x2000, 0, e1, 0, 0), 0);
	XT_EQ(ioev(f, 0x2000, 8, e1, DM, 5), -EEXIST);

	/* deassign: everything must be the same, the fd is all that is
	 * checked first */
	XT_EQ(ioev(f, 0x1000, 4, -1, DM | DEASSIGN, 1), -EBADF);
	XT_EQ(ioev(f, 0x1000, 3, e1, DM | DEASSIGN, 1), -ENOENT);
	XT_EQ(ioev(f, 0x1000, 4, e2, DM | DEASSIGN, 1), -ENOENT);
	XT_EQ(ioev(f, 0x1000, 4, e1, DM | DEASSIGN, 3), -ENOENT);
	XT_EQ(ioev(f, 0x1000, 4, e1, DEASSIGN, 1), -ENOENT);
	XT_EQ(ioev(f, 0x1001, 4, e1, DM | DEASSIGN, 1), -ENOENT);
	/* a duplicate of the descriptor is the same eventfd */
	e1dup = dup(e1);
	XT_ASSERT(e1dup >= 0);
	fx_close_later(e1dup);
	XT_EQ(ioev(f, 0x1000, 4, e1dup, DM | DEASSIGN, 1), 0);
	XT_EQ(ioev(f, 0x1000, 4, e1, DM | DEASSIGN, 1), -ENOENT);
	XT_EQ(ioev(f, 0x1000, 4, e1, DM, 1), 0); /* free again */
	XT_EQ(ioev(f, 0x1000, 4, e1, PIO | DM | DEASSIGN, 1), 0);
	XT_EQ(ioev(f, 0x1000, 4, e1, PIO | DM | DEASSIGN, 1), -ENOENT);
	XT_EQ(ioev(f, 0x2000, 0, e1, DEASSIGN, 0), 0);
	XT_EQ(ioev(f, 0x2000, 8, e1, DM, 5), 0);
	/* the rest, and the eventfd references, die with the VM (the
	 * harness checks that nothing is held after the test) */
}

XT_TEST(ioeventfd, registrations_hold_a_reference_until_the_vm_dies)
{
	struct host_held before, during, after;
	struct fx *f = fx_new_vm();
	int e = eventfd(0, EFD_CLOEXEC);
	int i;

	XT_ASSERT(e >= 0);
	host_held(&before);
	for (i = 0; i < 1100; i++)
		XT_EQ(ioev(f, 0x100000 + 8 * (u64)i, 4, e, 0, 0), 0);
	close(e); /* the registrations keep the eventfd */
	host_held(&during);
	/* each: the entry and the eventfd reference */
	XT_EQ(during.objects - before.objects, 2 * 1100);
	fx_destroy(f);
	host_held(&after);
	XT_EQ(before.objects - after.objects > 0, 1); /* the VM went too */
}

static void set_rax_cb(struct xk_vcpu *v, void *arg)
{
	v->gpr[XK_RAX] = (u64)(uintptr_t)arg;
}

#define OUT_STEP(p, sz, rax)                                              \
	{                                                                 \
		.kind = FAKE_IO, .port = (p), .size = (sz), .nrip = NRIP, \
		.guest = set_rax_cb, .arg = (void *)(uintptr_t)(rax)      \
	}

static struct fx *pio_fx(void)
{
	struct fx *f = fx_new();

	fx_mem(f, 0, 0, 16, 0);
	fx_real_mode(f, RIP0);
	return f;
}

XT_TEST(ioeventfd, pio_out_matching)
{
	struct fx *f = pio_fx();
	int a = fx_eventfd(), b = fx_eventfd(), c = fx_eventfd(),
	    d = fx_eventfd();
	u32 v = 0;

	XT_EQ(ioev(f, 0x700, 1, a, PIO | DM, 0x5a), 0);
	XT_EQ(ioev(f, 0x702, 2, b, PIO, 0), 0);
	XT_EQ(ioev(f, 0x704, 4, c, PIO | DM, 0x12345678), 0);
	XT_EQ(ioev(f, 0x708, 0, d, PIO, 0), 0);
	FX_SCRIPT(f, OUT_STEP(0x700, 1, 0xffffff5a), /* upper bits ignored */
		  OUT_STEP(0x702, 2, 0xbeef), OUT_STEP(0x704, 4, 0x12345678),
		  OUT_STEP(0x708, 1, 1), OUT_STEP(0x708, 2, 2),
		  OUT_STEP(0x708, 4, 3), OUT_STEP(0x700, 1, 0x5b));
	fx_run_expect(f, KVM_EXIT_IO);
	XT_EQ(f->run->io.port, 0x700);
	XT_EQ(f->run->io.size, 1);
	XT_EQ(*fx_io_data(f), 0x5b);
	XT_EQ(f->v->stats.io_exits, 1);
	XT_EQ(fake_steps_taken(f->v), 7);
	XT_EQ(fx_eventfd_count(a), 1);
	XT_EQ(fx_eventfd_count(b), 1);
	XT_EQ(fx_eventfd_count(c), 1);
	XT_EQ(fx_eventfd_count(d), 3);
	/* RIP moved past every taken OUT (NRIP), none is waiting */
	fx_run_to_end(f);
	XT_EQ(fx_rip(f), NRIP);

	/* wrong length, wrong data, IN: all exit, nothing signalled */
	FX_SCRIPT(f, OUT_STEP(0x702, 1, 0xef));
	fx_run_expect(f, KVM_EXIT_IO);
	FX_SCRIPT(f, OUT_STEP(0x704, 4, 0x12345679));
	fx_run_expect(f, KVM_EXIT_IO);
	memcpy(&v, fx_io_data(f), 4);
	XT_EQ(v, 0x12345679);
	FX_SCRIPT(f, { .kind = FAKE_IO,
		       .port = 0x708,
		       .size = 1,
		       .io = FAKE_IO_IN,
		       .nrip = NRIP });
	fx_run_expect(f, KVM_EXIT_IO);
	XT_EQ(f->run->io.direction, KVM_EXIT_IO_IN);
	XT_EQ(fx_eventfd_count(b) + fx_eventfd_count(c) + fx_eventfd_count(d),
	      0);

	/* deassigned: the write exits again */
	XT_EQ(ioev(f, 0x700, 1, a, PIO | DM | DEASSIGN, 0x5a), 0);
	FX_SCRIPT(f, OUT_STEP(0x700, 1, 0x5a));
	fx_run_expect(f, KVM_EXIT_IO);
	XT_EQ(*fx_io_data(f), 0x5a);
	XT_EQ(fx_eventfd_count(a), 0);
}

XT_TEST(ioeventfd, datamatch_compares_the_zero_extended_value)
{
	struct fx *f = pio_fx();
	int a = fx_eventfd();

	/* data with bits above the length never matches */
	XT_EQ(ioev(f, 0x710, 2, a, PIO | DM, 0x10000ULL | 0x1234), 0);
	FX_SCRIPT(f, OUT_STEP(0x710, 2, 0x1234));
	fx_run_expect(f, KVM_EXIT_IO);
	XT_EQ(fx_eventfd_count(a), 0);
}

XT_TEST(ioeventfd, ccw_bus_is_never_written)
{
	struct fx *f = pio_fx();
	int a = fx_eventfd();

	XT_EQ(ioev(f, 0x720, 1, a, CCW, 0), 0);
	FX_SCRIPT(f, OUT_STEP(0x720, 1, 0));
	fx_run_expect(f, KVM_EXIT_IO);
	XT_EQ(fx_eventfd_count(a), 0);
}

/* prot32, flat, no paging: "mov [eax], ecx/cx/cl" and "mov ecx, [eax]" */
static void mmio_insn(struct fx *f, const u8 *code, u32 n, u64 gpa, u64 rcx)
{
	struct kvm_regs r;

	fx_prot32(f, RIP0);
	fx_poke(f, RIP0, code, n);
	fx_get_regs(f, &r);
	r.rax = gpa;
	r.rcx = rcx;
	fx_set_regs(f, &r);
}

XT_TEST(ioeventfd, mmio_write_matching)
{
	static const u8 mov_d[] = { 0x89, 0x08 };       /* mov [eax], ecx */
	static const u8 mov_w[] = { 0x66, 0x89, 0x08 }; /* mov [eax], cx */
	static const u8 mov_b[] = { 0x88, 0x08 };       /* mov [eax], cl */
	static const u8 load_d[] = { 0x8b, 0x08 };      /* mov ecx, [eax] */
	struct fx *f = fx_new();
	int g = fx_eventfd(), any = fx_eventfd();
	u32 v = 0;

	fx_mem(f, 0, 0, 16, 0);
	XT_EQ(ioev(f, HOLE, 4, g, DM, 0xcafef00d), 0);
	XT_EQ(ioev(f, HOLE + 0x40, 0, any, 0, 0), 0);

	mmio_insn(f, mov_d, 2, HOLE, 0xcafef00d);
	FX_SCRIPT(f, { .kind = FAKE_NPF, .gpa = HOLE, .write = true });
	fx_run_to_end(f); /* no MMIO exit: the script's end */
	XT_EQ(fx_rip(f), RIP0 + 2);
	XT_EQ(f->v->stats.mmio_exits, 0);
	XT_EQ(fx_eventfd_count(g), 1);

	mmio_insn(f, mov_d, 2, HOLE, 0xcafef00e);
	FX_SCRIPT(f, { .kind = FAKE_NPF, .gpa = HOLE, .write = true });
	fx_run_expect(f, KVM_EXIT_MMIO);
	XT_EQ(f->run->mmio.is_write, 1);
	memcpy(&v, f->run->mmio.data, 4);
	XT_EQ(v, 0xcafef00e);
	XT_EQ(fx_eventfd_count(g), 0);

	/* reads are never taken */
	mmio_insn(f, load_d, 2, HOLE, 0);
	FX_SCRIPT(f, { .kind = FAKE_NPF, .gpa = HOLE });
	fx_run_expect(f, KVM_EXIT_MMIO);
	XT_EQ(f->run->mmio.is_write, 0);
	XT_EQ(fx_eventfd_count(g), 0);
	f->run->mmio.data[0] = 1;
	fx_run_to_end(f);

	/* any length: 1, 2 and 4 bytes taken; the next byte is not */
	mmio_insn(f, mov_b, 2, HOLE + 0x40, 1);
	FX_SCRIPT(f, { .kind = FAKE_NPF, .gpa = HOLE + 0x40, .write = true });
	fx_run_to_end(f);
	mmio_insn(f, mov_w, 3, HOLE + 0x40, 2);
	FX_SCRIPT(f, { .kind = FAKE_NPF, .gpa = HOLE + 0x40, .write = true });
	fx_run_to_end(f);
	mmio_insn(f, mov_d, 2, HOLE + 0x40, 3);
	FX_SCRIPT(f, { .kind = FAKE_NPF, .gpa = HOLE + 0x40, .write = true });
	fx_run_to_end(f);
	XT_EQ(fx_eventfd_count(any), 3);
	mmio_insn(f, mov_b, 2, HOLE + 0x41, 1);
	FX_SCRIPT(f, { .kind = FAKE_NPF, .gpa = HOLE + 0x41, .write = true });
	fx_run_expect(f, KVM_EXIT_MMIO);
	XT_EQ(fx_eventfd_count(any), 0);
}

XT_TEST(ioeventfd, rep_outsb_takes_matching_elements_only)
{
	static const u8 rep_outsb[] = { 0xf3, 0x6e };
	static const u8 data[] = { 0x5a, 0x11, 0x5a, 0x5a, 0x22, 0x33 };
	struct fake_step s = { .kind = FAKE_IO };
	struct fx *f = fx_new();
	u8 *mem = fx_mem(f, 0, 0, 16, 0);
	u8 got[8];
	u32 n = 0;
	struct kvm_regs r;
	int a = fx_eventfd();

	s.port = 0x700;
	s.size = 1;
	s.io = FAKE_IO_STR | FAKE_IO_REP;
	s.repeat = true;
	memcpy(mem + 0x2000, data, sizeof(data));
	fx_real_mode(f, RIP0);
	fx_poke(f, RIP0, rep_outsb, 2);
	fx_get_regs(f, &r);
	r.rsi = 0x2000;
	r.rcx = sizeof(data);
	fx_set_regs(f, &r);
	XT_EQ(ioev(f, 0x700, 1, a, PIO | DM, 0x5a), 0);
	fx_script(f, &s, 1);
	while (fx_run(f) == 0 && f->run->exit_reason == KVM_EXIT_IO) {
		XT_ASSERT(n + f->run->io.count <= sizeof(got));
		memcpy(got + n, fx_io_data(f), f->run->io.count);
		n += f->run->io.count;
	}
	XT_EQ(f->run->exit_reason, KVM_EXIT_UNKNOWN); /* the script's end */
	XT_EQ(n, 3);
	XT_EQ(got[0], 0x11);
	XT_EQ(got[1], 0x22);
	XT_EQ(got[2], 0x33);
	XT_EQ(fx_eventfd_count(a), 3);
	fx_get_regs(f, &r);
	XT_EQ(r.rsi, 0x2000 + sizeof(data));
	XT_EQ(r.rcx, 0);
	XT_EQ(r.rip, RIP0 + 2);
}

/* ---- KVM_GET_CLOCK / KVM_SET_CLOCK ---- */

XT_TEST(clock, get_set)
{
	struct fx *f = fx_new_vm();
	struct kvm_clock_data c, d;
	u64 real;

	memset(&c, 0xff, sizeof(c));
	XT_EQ(fx_vm_ioctl(f, KVM_GET_CLOCK, &c), 0);
	XT_EQ(c.flags, KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC);
	XT_EQ(c.pad0, 0);
	XT_EQ(c.pad[0] | c.pad[1] | c.pad[2] | c.pad[3], 0);
	XT_ASSERT(c.clock < 60ULL * 1000000000ULL); /* starts at 0 */
	XT_EQ(fx_vm_ioctl(f, KVM_GET_CLOCK, &d), 0);
	XT_ASSERT(d.clock >= c.clock);
	XT_ASSERT(d.realtime >= c.realtime);

	memset(&c, 0, sizeof(c));
	c.clock = 1ULL << 50;
	XT_EQ(fx_vm_ioctl(f, KVM_SET_CLOCK, &c), 0);
	XT_EQ(fx_vm_ioctl(f, KVM_GET_CLOCK, &d), 0);
	XT_ASSERT(d.clock >= c.clock && d.clock - c.clock < 60000000000ULL);

	/* REALTIME: moved on by the wall time since then, never back */
	real = host_realtime_ns();
	c.clock = 1000;
	c.flags = KVM_CLOCK_REALTIME;
	c.realtime = real - 5000000000ULL;
	XT_EQ(fx_vm_ioctl(f, KVM_SET_CLOCK, &c), 0);
	XT_EQ(fx_vm_ioctl(f, KVM_GET_CLOCK, &d), 0);
	XT_ASSERT(d.clock >= 1000 + 5000000000ULL);
	XT_ASSERT(d.clock < 1000 + 65000000000ULL);
	c.realtime = real + 5000000000ULL;
	XT_EQ(fx_vm_ioctl(f, KVM_SET_CLOCK, &c), 0);
	XT_EQ(fx_vm_ioctl(f, KVM_GET_CLOCK, &d), 0);
	XT_ASSERT(d.clock >= 1000 && d.clock < 1000 + 60000000000ULL);

	/* flags: Linux's three are accepted, anything else is EINVAL */
	c.flags = KVM_CLOCK_TSC_STABLE | KVM_CLOCK_HOST_TSC;
	XT_EQ(fx_vm_ioctl(f, KVM_SET_CLOCK, &c), 0);
	c.flags = 1;
	XT_EQ(fx_vm_ioctl(f, KVM_SET_CLOCK, &c), -EINVAL);
	c.flags = 0x10;
	XT_EQ(fx_vm_ioctl(f, KVM_SET_CLOCK, &c), -EINVAL);
}

/* ---- registration racing with a vCPU's writes ---- */

struct race {
	struct xk_vm *vm;
	volatile bool stop;
	u64 hits;
};

static void *race_writer(void *arg)
{
	struct race *r = arg;
	u8 val = 0x5a;

	while (!r->stop)
		if (xk_ioeventfd_write(r->vm, XK_IOBUS_PIO, 0x700, 1, &val))
			r->hits++;
	return NULL;
}

/*
 * One thread writes the port as a vCPU would while this one assigns and
 * deassigns the registration: no entry is used after it is freed (ASan),
 * and every write reported as taken was signalled exactly once.
 */
XT_TEST(ioeventfd, assign_deassign_race_with_writes)
{
	struct fx *f = fx_new_vm();
	struct race r = { .vm = f->vm };
	int a = fx_eventfd(), b = fx_eventfd(), i;
	pthread_t t;

	XT_EQ(pthread_create(&t, NULL, race_writer, &r), 0);
	for (i = 0; i < 3000; i++) {
		XT_EQ(ioev(f, 0x700, 1, a, PIO | DM, 0x5a), 0);
		XT_EQ(ioev(f, 0x701, 1, b, PIO, 0), 0);
		XT_EQ(ioev(f, 0x700, 1, a, PIO | DM | DEASSIGN, 0x5a), 0);
		XT_EQ(ioev(f, 0x701, 1, b, PIO | DEASSIGN, 0), 0);
	}
	r.stop = true;
	XT_EQ(pthread_join(t, NULL), 0);
	XT_EQ(fx_eventfd_count(a), r.hits);
	XT_EQ(fx_eventfd_count(b), 0);
}
