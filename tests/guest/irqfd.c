// SPDX-License-Identifier: GPL-2.0
/*
 * irqfd - KVM_IRQFD on the in-kernel irqchip: eventfds of the VMM that
 * raise a GSI when written.  A 64-bit guest programs its local APIC and
 * the I/O APIC (pin 4 edge, vector 0x40; pin 5 level, vector 0x41) and
 * waits with interrupts off except inside STI;HLT, so an interrupt is
 * taken exactly where the host asked the guest to wait for one, however
 * late the driver delivers it (Linux injects through a worker thread).
 * Checked:
 *   - KVM_CAP_IRQFD and KVM_CAP_IRQFD_RESAMPLE on the VM;
 *   - without an irqchip: assigning (plain and resampling) EINVAL,
 *     deassigning a valid eventfd succeeds;
 *   - errnos: an unknown flag EINVAL, fd -1 EBADF, not an eventfd EINVAL,
 *     a resamplefd -1 EBADF or not an eventfd EINVAL; an eventfd already
 *     assigned (same or other GSI, or a dup of it) EBUSY; deassigning an
 *     eventfd never assigned, or on another GSI: success; fd -1 EBADF;
 *   - an edge irqfd on GSI 4: each write of the eventfd runs the guest's
 *     handler with vector 0x40; a write made before the assignment is
 *     delivered at assignment;
 *   - GSI 30 routed to an MSI (vector 0x71): delivered; the route changed
 *     to vector 0x72: the next write uses it;
 *   - a resampling irqfd on GSI 5 (level pin): delivered, the guest's EOI
 *     lowers the line (IOAPIC IRR and remote IRR clear), the resamplefd
 *     counts 1, nothing is delivered again; a new write delivers again;
 *   - deassigned: a write does nothing, nobody consumes the count, the
 *     resamplefd stays quiet;
 *   - hang-up: an irqfd goes when the last descriptor of its eventfd is
 *     closed, exactly as a deassign (Linux drops it on the eventfd's
 *     EPOLLHUP, from a worker, so every wait for it is bounded): a
 *     resampling irqfd on GSI 5 closed with its line up: the line goes
 *     down (IOAPIC irr), the pending interrupt's EOI signals nobody, a new
 *     eventfd with the same number and the same resamplefd works; a plain
 *     irqfd on GSI 30 closed, a new eventfd that got the same number is
 *     assigned to GSI 4 and a write raises GSI 4 alone; an eventfd with two
 *     descriptors keeps its irqfd until both are closed.  Under xkvm
 *     (stderr) the held counts come back after every close.
 * At every guest stop the guest reports its interrupt count and its LAPIC
 * IRR for vectors 0x40-0x7f: nothing may be pending there.  At the end the
 * VM is closed with irqfds still assigned (a resampling one with its line
 * up) while the eventfds stay open: the driver's held counts come back to
 * what they were before the VM (xkvm only; silent, kvm_amd has none).
 */
#define _GNU_SOURCE
#include "kvmtest.h"
#include "irqchip.h"
#include "sectest.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#define S_READY 1
#define S_IRQ 100

#define CMD_STAY 0 /* stop again */
#define CMD_WAIT 1 /* wait for one interrupt, then stop again */
#define CMD_DONE 2

static volatile uint64_t irq_count;
static volatile uint64_t cmd; /* written by the host at each stop */

static void irq_handler(struct guest_frame *f)
{
	irq_count++;
	GUEST_SYNC(S_IRQ, f->vector, 0);
	apic_write(APIC_EOI, 0);
}

static void guest_main(void)
{
	uint64_t before;

	guest_idt_init();
	guest_handlers[0x40] = irq_handler;
	guest_handlers[0x41] = irq_handler;
	guest_handlers[0x71] = irq_handler;
	guest_handlers[0x72] = irq_handler;
	outb(0x21, 0xff); /* the PIC pair masked */
	outb(0xa1, 0xff);
	apic_write(APIC_SVR, 0x1ff);
	apic_write(APIC_LVT0, 0x10700); /* ExtINT, masked */
	apic_write(APIC_TPR, 0);
	ioapic_rte(4, 0x40, 0);          /* edge, fixed, physical 0 */
	ioapic_rte(5, 0x41 | 0x8000, 0); /* level */
	for (;;) {
		before = irq_count;
		/* IRR 0x40-0x5f, 0x60-0x7f */
		GUEST_SYNC(S_READY, before,
			   apic_read(APIC_IRR + 0x20) |
				   (uint64_t)apic_read(APIC_IRR + 0x30) << 32);
		if (cmd == CMD_DONE)
			break;
		if (cmd != CMD_WAIT)
			continue;
		while (irq_count == before)
			__asm__ volatile("sti; hlt; cli" ::: "memory");
	}
	GUEST_DONE();
	guest_hlt_forever();
}

static const char *errname(long r, int e)
{
	if (r >= 0)
		return "ok";
	if (e == EBADF)
		return "EBADF";
	if (e == EBUSY)
		return "EBUSY";
	return kt_errname(r, e);
}

static struct kt_vm *vm;
static struct kt_vcpu *vcpu;

static void irqfd(const char *what, int fd, uint32_t gsi, uint32_t flags,
		  int rfd, long want)
{
	struct kvm_irqfd a;
	long r;
	int e;

	memset(&a, 0, sizeof(a));
	a.fd = (uint32_t)fd;
	a.gsi = gsi;
	a.flags = flags;
	a.resamplefd = (uint32_t)rfd;
	r = kt_try(vm->fd, KVM_IRQFD, &a, &e);
	printf("KVM_IRQFD %s -> %s\n", what, errname(r, e));
	KT_ASSERT(r == 0 ? want == 0 : -e == want, "%s: %ld errno %d", what, r,
		  e);
}

static int efd_new(void)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	KT_ASSERT(fd >= 0);
	return fd;
}

static void efd_write(int fd)
{
	KT_ASSERT(eventfd_write(fd, 1) == 0);
}

/* The counter (0 when not readable), reset by the read. */
static uint64_t efd_count(int fd)
{
	uint64_t n = 0;

	if (read(fd, &n, sizeof(n)) != (ssize_t)sizeof(n)) {
		KT_ASSERT(errno == EAGAIN);
		return 0;
	}
	return n;
}

/* The guest's next stop: its count and the IRR, which must be empty. */
static uint64_t ready(void)
{
	struct kt_ucall uc;

	kt_expect_sync(vcpu, S_READY, &uc);
	printf("guest: %llu interrupts, IRR 0x40-0x7f 0x%llx\n",
	       (unsigned long long)uc.args[1], (unsigned long long)uc.args[2]);
	KT_ASSERT_EQ(uc.args[2], 0);
	return uc.args[1];
}

static void go(uint64_t c)
{
	*KT_GUEST_VAR(vm, cmd) = c;
}

/* The guest waits for one interrupt: its handler reports the vector. */
static void expect_irq(uint64_t vector)
{
	struct kt_ucall uc;

	go(CMD_WAIT);
	kt_expect_sync(vcpu, S_IRQ, &uc);
	printf("  handler: vector 0x%llx\n", (unsigned long long)uc.args[1]);
	KT_ASSERT_EQ(uc.args[1], vector);
}

static struct kvm_ioapic_state ioapic(void)
{
	struct kvm_irqchip c;

	memset(&c, 0, sizeof(c));
	c.chip_id = KVM_IRQCHIP_IOAPIC;
	KT_IOCTL(vm->fd, KVM_GET_IRQCHIP, &c);
	return c.chip.ioapic;
}

static void set_routes(uint32_t msi_vector)
{
	struct {
		struct kvm_irq_routing h;
		struct kvm_irq_routing_entry e[3];
	} rt;

	memset(&rt, 0, sizeof(rt));
	rt.h.nr = 3;
	rt.e[0].gsi = 4;
	rt.e[0].type = KVM_IRQ_ROUTING_IRQCHIP;
	rt.e[0].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
	rt.e[0].u.irqchip.pin = 4;
	rt.e[1] = rt.e[0];
	rt.e[1].gsi = 5;
	rt.e[1].u.irqchip.pin = 5;
	rt.e[2].gsi = 30;
	rt.e[2].type = KVM_IRQ_ROUTING_MSI;
	rt.e[2].u.msi.address_lo = 0xfee00000;
	rt.e[2].u.msi.data = msi_vector;
	KT_IOCTL(vm->fd, KVM_SET_GSI_ROUTING, &rt);
	printf("routes: GSI 4, 5 -> IOAPIC, GSI 30 -> MSI vector 0x%x\n",
	       msi_vector);
}

static unsigned int ioapic_irr(void)
{
	return ioapic().irr;
}

/* A plain irqfd whose eventfd is closed; its number, reused, works. */
static void hangup_plain(const long long held[3])
{
	int h = efd_new(), n = h;

	irqfd("gsi 30, to be closed", h, 30, 0, -1, 0);
	efd_write(h);
	expect_irq(0x72);
	ready();
	close(h);
	printf("its eventfd closed\n");
	st_held_back(held, "the closed eventfd's irqfd");
	h = efd_new();
	printf("a new eventfd got the same number: %s\n",
	       h == n ? "yes" : "no");
	KT_ASSERT_EQ(h, n);
	irqfd("new eventfd, gsi 4", h, 4, 0, -1, 0);
	efd_write(h);
	expect_irq(0x40); /* GSI 30 (0x72) would be pending at ready() */
	ready();
	irqfd("deassign it", h, 4, KVM_IRQFD_FLAG_DEASSIGN, -1, 0);
	close(h);
	st_held_back(held, "the deassigned irqfd");
}

/* A resampling irqfd closed with its line up: the line goes with it. */
static void hangup_resample(const long long held[3], int r)
{
	int h = efd_new(), n = h, up;

	irqfd("gsi 5 resample, to be closed", h, 5, KVM_IRQFD_FLAG_RESAMPLE, r,
	      0);
	efd_write(h);
	expect_irq(0x41);
	ready();
	printf("after the EOI: resamplefd %llu\n",
	       (unsigned long long)efd_count(r));
	/* up again; the guest takes it only when told to wait */
	efd_write(h);
	up = ST_WAIT(ioapic_irr() & (1u << 5), 30000);
	printf("written again: IOAPIC irr pin 5 %d\n", up);
	KT_ASSERT(up);
	close(h);
	printf("its eventfd closed\n");
	up = !ST_WAIT(!(ioapic_irr() & (1u << 5)), 30000);
	printf("after the close: IOAPIC irr pin 5 %d\n", up);
	KT_ASSERT(!up, "the irqfd of a closed eventfd still holds GSI 5 up");
	expect_irq(0x41); /* delivered before the close */
	ready();
	printf("after that EOI: resamplefd %llu, IOAPIC irr 0x%x\n",
	       (unsigned long long)efd_count(r), ioapic_irr());
	st_held_back(held, "the closed eventfd's resampling irqfd");
	h = efd_new();
	printf("a new eventfd got the same number: %s\n",
	       h == n ? "yes" : "no");
	KT_ASSERT_EQ(h, n);
	irqfd("new eventfd, gsi 5 resample, same resamplefd", h, 5,
	      KVM_IRQFD_FLAG_RESAMPLE, r, 0);
	efd_write(h);
	expect_irq(0x41);
	ready();
	printf("after the EOI: resamplefd %llu\n",
	       (unsigned long long)efd_count(r));
	close(h);
	printf("its eventfd closed\n");
	st_held_back(held, "the second resampling irqfd");
}

/* One descriptor of two closed: the irqfd stays; the other: it goes. */
static void hangup_two_descriptors(const long long held[3])
{
	int h = efd_new(), d = dup(h);

	KT_ASSERT(d >= 0);
	irqfd("gsi 30", h, 30, 0, -1, 0);
	close(h);
	printf("one of its two descriptors closed\n");
	efd_write(d);
	expect_irq(0x72);
	ready();
	close(d);
	printf("the other closed\n");
	st_held_back(held, "the irqfd of the eventfd closed twice");
}

int main(void)
{
	int e1, e2, e3, e4, e5, r5, edup, null;
	struct kvm_ioapic_state st;
	long long h0[3], h1[3];
	int have_held;
	long r;
	int err;

	kt_init("irqfd");
	have_held = kt_read_held(h0);
	st_watchdog(600); /* a lost interrupt would leave the guest in HLT */
	vm = kt_vm_create();
	KT_ASSERT(kt_mem_add(vm, 0, 0, KT_MAIN_SIZE, 0) != NULL);
	kt_load_image(vm);
	e1 = efd_new();
	e2 = efd_new();
	e3 = efd_new();
	e4 = efd_new();
	e5 = efd_new();
	r5 = efd_new();
	null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	KT_ASSERT(null >= 0);
	edup = dup(e1);
	KT_ASSERT(edup >= 0);

	r = ioctl(vm->fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQFD);
	printf("KVM_CAP_IRQFD: %ld\n", r);
	r = ioctl(vm->fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQFD_RESAMPLE);
	printf("KVM_CAP_IRQFD_RESAMPLE: %ld\n", r);

	printf("-- before KVM_CREATE_IRQCHIP\n");
	irqfd("gsi 4", e1, 4, 0, -1, -EINVAL);
	irqfd("gsi 5 resample", e5, 5, KVM_IRQFD_FLAG_RESAMPLE, r5, -EINVAL);
	irqfd("deassign gsi 4", e1, 4, KVM_IRQFD_FLAG_DEASSIGN, -1, 0);
	r = kt_try(vm->fd, KVM_CREATE_IRQCHIP, NULL, &err);
	KT_ASSERT(r == 0, "CREATE_IRQCHIP errno %d", err);
	vcpu = kt_vcpu_irqchip(vm, 0);
	kt_setup_long(vcpu, (uint64_t)(uintptr_t)guest_main, KT_STACK_ENTRY);

	printf("-- errnos\n");
	irqfd("flag 4", e1, 4, 4, -1, -EINVAL);
	irqfd("fd -1", -1, 4, 0, -1, -EBADF);
	irqfd("fd /dev/null", null, 4, 0, -1, -EINVAL);
	irqfd("resamplefd -1", e5, 5, KVM_IRQFD_FLAG_RESAMPLE, -1, -EBADF);
	irqfd("resamplefd /dev/null", e5, 5, KVM_IRQFD_FLAG_RESAMPLE, null,
	      -EINVAL);
	irqfd("gsi 4", e1, 4, 0, -1, 0);
	irqfd("gsi 4 again", e1, 4, 0, -1, -EBUSY);
	irqfd("same eventfd, gsi 6", e1, 6, 0, -1, -EBUSY);
	irqfd("a dup of it, gsi 6", edup, 6, 0, -1, -EBUSY);
	irqfd("same eventfd, gsi 6 resample", e1, 6, KVM_IRQFD_FLAG_RESAMPLE,
	      r5, -EBUSY);
	irqfd("deassign never assigned", e2, 4, KVM_IRQFD_FLAG_DEASSIGN, -1, 0);
	irqfd("deassign other gsi", e1, 6, KVM_IRQFD_FLAG_DEASSIGN, -1, 0);
	irqfd("deassign fd -1", -1, 4, KVM_IRQFD_FLAG_DEASSIGN, -1, -EBADF);

	printf("-- edge, GSI 4\n");
	ready();
	efd_write(e1);
	expect_irq(0x40);
	ready();
	efd_write(e1);
	expect_irq(0x40);
	ready();

	printf("-- written before the assignment\n");
	efd_write(e3);
	irqfd("gsi 4, second eventfd", e3, 4, 0, -1, 0);
	expect_irq(0x40);
	ready();
	irqfd("deassign it", e3, 4, KVM_IRQFD_FLAG_DEASSIGN, -1, 0);

	printf("-- MSI route, GSI 30\n");
	set_routes(0x71);
	irqfd("gsi 30", e4, 30, 0, -1, 0);
	efd_write(e4);
	expect_irq(0x71);
	ready();
	set_routes(0x72);
	efd_write(e4);
	expect_irq(0x72);
	ready();

	printf("-- resample, GSI 5 (level)\n");
	irqfd("gsi 5 resample", e5, 5, KVM_IRQFD_FLAG_RESAMPLE, r5, 0);
	printf("resamplefd before: %llu\n", (unsigned long long)efd_count(r5));
	efd_write(e5);
	expect_irq(0x41);
	ready();
	st = ioapic();
	printf("after the EOI: resamplefd %llu, IOAPIC irr pin 5 %u, remote "
	       "IRR %u\n",
	       (unsigned long long)efd_count(r5), (st.irr >> 5) & 1,
	       (unsigned)((st.redirtbl[5].bits >> 14) & 1));
	printf("resamplefd again: %llu\n", (unsigned long long)efd_count(r5));
	efd_write(e5);
	expect_irq(0x41);
	ready();
	printf("after the second EOI: resamplefd %llu\n",
	       (unsigned long long)efd_count(r5));

	printf("-- deassigned\n");
	irqfd("deassign gsi 4", e1, 4, KVM_IRQFD_FLAG_DEASSIGN, -1, 0);
	irqfd("deassign gsi 5", e5, 5, KVM_IRQFD_FLAG_DEASSIGN, -1, 0);
	irqfd("deassign gsi 30", e4, 30, KVM_IRQFD_FLAG_DEASSIGN, -1, 0);
	efd_write(e1);
	efd_write(e5);
	efd_write(e4);
	go(CMD_STAY);
	ready();
	st = ioapic();
	printf("eventfd counts %llu %llu %llu, resamplefd %llu, IOAPIC irr "
	       "0x%x\n",
	       (unsigned long long)efd_count(e1),
	       (unsigned long long)efd_count(e5),
	       (unsigned long long)efd_count(e4),
	       (unsigned long long)efd_count(r5), st.irr);
	irqfd("gsi 4 again after deassign", e1, 4, 0, -1, 0);

	printf("-- hang-up: the last descriptor of an eventfd closed\n");
	if (have_held)
		KT_ASSERT(kt_read_held(h1));
	hangup_resample(h1, r5);
	hangup_plain(h1);
	hangup_two_descriptors(h1);
	go(CMD_DONE);
	kt_expect_done(vcpu);

	/* the VM goes with irqfds assigned; the eventfds stay open */
	irqfd("gsi 5 resample, left assigned", e5, 5, KVM_IRQFD_FLAG_RESAMPLE,
	      r5, 0);
	irqfd("gsi 30, left assigned", e4, 30, 0, -1, 0);
	efd_write(e5);
	munmap(vcpu->run, (size_t)vm->run_size);
	close(vcpu->fd);
	close(vm->fd);
	if (have_held) {
		KT_ASSERT(kt_read_held(h1));
		KT_ASSERT(h0[0] == h1[0] && h0[1] == h1[1] && h0[2] == h1[2],
			  "held before %lld %lld %lld, after %lld %lld %lld",
			  h0[0], h0[1], h0[2], h1[0], h1[1], h1[2]);
	}
	kt_pass();
}
