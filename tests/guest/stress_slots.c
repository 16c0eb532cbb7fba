// SPDX-License-Identifier: GPL-2.0
/*
 * stress_slots - everything at once on one VM, for STRESS_SECONDS (20)
 * with the random choices of every thread drawn from STRESS_SEED (1):
 *   - two vCPU threads: each guest vCPU writes pages of its own half of a
 *     dirty-logged slot (512 pages at 4 GiB), in a seeded random order,
 *     and records every write in a log in guest memory: the page, then
 *     "intent" published, the write, then "done" published; vCPU 0 takes
 *     interrupts (IF=1) and vCPU 1 also reads and writes at random in the
 *     windows of the churned slots (memory, or MMIO exits when no slot is
 *     there);
 *   - the dirty-log checker: rounds of GET_DIRTY_LOG; a write whose intent
 *     was first seen at round i and whose done at round d was made after
 *     round i-1 began and before round d's GET, so one of the GETs from
 *     round i-1 to round d must report its page (each GET reports what
 *     was written since the one before): checked for every write;
 *   - a slot churner: three more slots created, moved, deleted,
 *     recreated, their dirty logging turned on and off and their logs
 *     fetched;
 *   - a router: KVM_SET_GSI_ROUTING (in-kernel irqchip) moving GSIs 20
 *     and 21 between MSIs (vectors 0x50-0x53) and IOAPIC pin 4, and
 *     KVM_IRQ_LINE pulses;
 *   - an irqfd thread: plain irqfds on GSIs 4, 20, 21 and resampling ones
 *     on GSI 5 (level pin) assigned, signalled, then deassigned and
 *     closed, only closed (the driver drops them on the hang-up), or kept;
 *   - a statistics reader: the VM's and vCPUs' binary statistics fds and
 *     every file of the driver's debugfs tree, again and again.
 * Then: every thread stops, the last dirty-log rounds are checked, every
 * kept irqfd is deassigned or its eventfd closed and every churned slot
 * deleted: under xkvm (stderr) the VM must hold what it held before the
 * stress (a hung-up irqfd left behind fails here; each churned slot was
 * made and deleted once at each of its places before that baseline, so
 * nested table pages kept for them are in it).  Fresh irqfds are
 * assigned, and every descriptor and mapping (VM, vCPUs, kvm_run,
 * statistics fds, eventfds, /dev/kvm) is closed in a seeded random order:
 * under xkvm everything held is given back.  No new warning in the kernel
 * log (/dev/kmsg).  Counts go to stderr; the transcript holds only facts.
 */
#define _GNU_SOURCE
#include "kvmtest.h"
#include "irqchip.h"
#include "sectest.h"

#include <pthread.h>
#include <sys/mman.h>

#define NV 2
#define PPV 256 /* pages each vCPU writes */
#define DSLOT 1
#define DGPA 0x100000000ull
#define DPAGES (NV * PPV)
#define RING 4096

#define NCHURN 3
#define CHURN_SLOT0 2
#define CHURN_BASE 0x140000000ull
#define CHURN_WIN 0x1000000ull
#define CHURN_POS 0x100000ull /* 4 positions in a window */
#define CHURN_PAGES 16

#define S_STOPPED 1

/* ---- guest -------------------------------------------------------------- */

struct wlog {
	volatile uint64_t intent;   /* entries published: guest */
	volatile uint64_t done;     /* entries whose write is done: guest */
	volatile uint64_t consumed; /* entries checked: host */
	volatile uint32_t page[RING];
} __attribute__((aligned(64)));

static struct wlog wlogs[NV];
static volatile uint64_t stop;      /* host: finish */
static volatile uint64_t seed_base; /* host: STRESS_SEED */
static volatile uint64_t irqs;      /* interrupts vCPU 0 took */

static void on_irq(struct guest_frame *f)
{
	(void)f;
	irqs++;
	apic_write(APIC_EOI, 0);
}

static void on_spurious(struct guest_frame *f)
{
	(void)f;
}

static uint64_t guest_rand(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* A random access in the churned slots' windows: memory or MMIO. */
static void churn_poke(uint64_t *x, uint64_t s)
{
	uint64_t r = guest_rand(x);
	uint64_t a = CHURN_BASE + (r % NCHURN) * CHURN_WIN +
		     ((r >> 8) % 4) * CHURN_POS +
		     ((r >> 16) % CHURN_PAGES) * 4096 + ((r >> 24) % 512) * 8;

	if (r >> 63)
		*(volatile uint64_t *)(uintptr_t)a = s;
	else
		(void)*(volatile uint64_t *)(uintptr_t)a;
}

static void guest_main(uint64_t id)
{
	struct wlog *l = &wlogs[id];
	uint64_t x = seed_base * 2 + id + 1, s;
	uint32_t p;
	int v;

	guest_idt_init();
	if (id == 0) {
		guest_handlers[0x44] = on_irq;
		guest_handlers[0x45] = on_irq;
		for (v = 0x50; v <= 0x53; v++)
			guest_handlers[v] = on_irq;
		guest_handlers[0xff] = on_spurious;
		outb(0x21, 0xff);
		outb(0xa1, 0xff);
		apic_write(APIC_SVR, 0x1ff);
		apic_write(APIC_LVT0, 0x10700);
		apic_write(APIC_TPR, 0);
		ioapic_rte(4, 0x44, 0);
		ioapic_rte(5, 0x45 | 0x8000, 0); /* level */
		__asm__ volatile("sti" ::: "memory");
	}
	while (!stop) {
		s = l->intent;
		while (s - l->consumed >= RING && !stop)
			__asm__ volatile("pause");
		if (stop)
			break;
		p = (uint32_t)(id * PPV + guest_rand(&x) % PPV);
		l->page[s % RING] = p;
		l->intent = s + 1;
		*(volatile uint64_t *)(uintptr_t)(DGPA + (uint64_t)p * 4096 +
						  (s % 512) * 8) = s;
		l->done = s + 1;
		if (id == 1 && !(s & 3))
			churn_poke(&x, s);
	}
	__asm__ volatile("cli" ::: "memory");
	GUEST_SYNC(S_STOPPED, id, l->done);
	GUEST_DONE();
	guest_hlt_forever();
}

/* ---- host --------------------------------------------------------------- */

static struct kt_vm *vm;
static struct kt_vcpu *vcpus[NV];
static uint64_t seed;
static volatile int host_stop;   /* the stress threads finish */
static volatile int vcpus_ended; /* vCPU threads that saw DONE */
static int stats_fds[NV + 1];
static const char *tree;

#define COUNT(c) __atomic_add_fetch(&(c), 1, __ATOMIC_RELAXED)
static unsigned long n_mmio, n_rounds, n_writes, n_churn, n_routes, n_irqfds,
	n_hangups, n_stat_reads;

static void *vcpu_thread(void *arg)
{
	struct kt_vcpu *v = arg;
	struct kvm_run *run = v->run;
	struct kt_ucall uc;
	uint64_t a;

	for (;;) {
		if (ioctl(v->fd, KVM_RUN, 0)) {
			KT_ASSERT(errno == EINTR, "vCPU %d: KVM_RUN errno %d",
				  v->id, errno);
			continue;
		}
		if (run->exit_reason == KVM_EXIT_MMIO) {
			a = run->mmio.phys_addr;
			KT_ASSERT(v->id == 1 && a >= CHURN_BASE &&
					  a < CHURN_BASE + NCHURN * CHURN_WIN,
				  "vCPU %d: MMIO exit at 0x%llx", v->id,
				  (unsigned long long)a);
			if (!run->mmio.is_write)
				memset(run->mmio.data, 0,
				       sizeof(run->mmio.data));
			COUNT(n_mmio);
			continue;
		}
		switch (kt_decode_ucall(v, &uc)) {
		case UC_SYNC:
			KT_ASSERT_EQ(uc.args[0], S_STOPPED);
			KT_ASSERT_EQ(uc.args[1], v->id);
			break;
		case UC_DONE:
			__atomic_add_fetch(&vcpus_ended, 1, __ATOMIC_SEQ_CST);
			return NULL;
		default:
			kt_fail(__FILE__, __LINE__, "vCPU %d: ucall %u", v->id,
				uc.cmd);
		}
	}
}

/* ---- the dirty-log checker ---- */

static int last_reported[DPAGES]; /* round of the last GET with the page */
static int intent_round[NV][RING];
static uint64_t seen_intent[NV], seen_done[NV];
static unsigned long misses;

static void dirty_round(int k)
{
	struct wlog *l = KT_GUEST_VAR(vm, wlogs[0]);
	uint64_t bm[DPAGES / 64] = { 0 }, dh[NV], ih, s;
	struct kvm_dirty_log d;
	int i, p;

	for (i = 0; i < NV; i++) {
		dh[i] = l[i].done; /* first: intent >= done then */
		ih = l[i].intent;
		for (s = seen_intent[i]; s < ih; s++)
			intent_round[i][s % RING] = k;
		seen_intent[i] = ih;
	}
	memset(&d, 0, sizeof(d));
	d.slot = DSLOT;
	d.dirty_bitmap = bm;
	KT_IOCTL(vm->fd, KVM_GET_DIRTY_LOG, &d);
	for (p = 0; p < DPAGES; p++)
		if (bm[p / 64] >> (p % 64) & 1)
			last_reported[p] = k;
	for (i = 0; i < NV; i++) {
		for (s = seen_done[i]; s < dh[i]; s++) {
			p = (int)l[i].page[s % RING];
			KT_ASSERT(p >= i * PPV && p < (i + 1) * PPV);
			n_writes++;
			if (last_reported[p] >= intent_round[i][s % RING] - 1)
				continue;
			if (!misses++)
				fprintf(stderr,
					"vCPU %d write %llu of page %d (intent "
					"seen at round %d, done at %d): not in "
					"any dirty log since; last reported at "
					"round %d\n",
					i, (unsigned long long)s, p,
					intent_round[i][s % RING], k,
					last_reported[p]);
		}
		seen_done[i] = dh[i];
		l[i].consumed = dh[i];
	}
	n_rounds++;
}

static void *dirty_thread(void *arg)
{
	int k = 1, p;

	(void)arg;
	for (p = 0; p < DPAGES; p++)
		last_reported[p] = -100;
	while (__atomic_load_n(&vcpus_ended, __ATOMIC_SEQ_CST) < NV)
		dirty_round(k++);
	/* the vCPUs are out: what they did last is done and checked */
	dirty_round(k++);
	dirty_round(k++);
	return NULL;
}

/* ---- the slot churner ---- */

struct churn {
	int present, pos;
	uint32_t flags;
	void *mem;
};

static struct churn churn[NCHURN];

static long set_region(int slot, uint32_t flags, uint64_t gpa, uint64_t size,
		       void *mem)
{
	const struct kvm_userspace_memory_region r = {
		.slot = (uint32_t)slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)mem,
	};

	return ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r);
}

static uint64_t churn_gpa(int k, int pos)
{
	return CHURN_BASE + (uint64_t)k * CHURN_WIN + (uint64_t)pos * CHURN_POS;
}

static void churn_set(int k)
{
	struct churn *c = &churn[k];

	KT_ASSERT(set_region(CHURN_SLOT0 + k, c->flags, churn_gpa(k, c->pos),
			     CHURN_PAGES * 4096ull, c->mem) == 0,
		  "churned slot %d: errno %d", k, errno);
}

static void churn_delete(int k)
{
	struct churn *c = &churn[k];

	KT_ASSERT(set_region(CHURN_SLOT0 + k, c->flags, churn_gpa(k, c->pos), 0,
			     c->mem) == 0,
		  "deleting churned slot %d: errno %d", k, errno);
	munmap(c->mem, CHURN_PAGES * 4096ull);
	c->present = 0;
}

static void churn_once(uint64_t *rs)
{
	int k = (int)st_below(rs, NCHURN);
	struct churn *c = &churn[k];
	uint64_t bm[1];
	struct kvm_dirty_log d;
	long r;

	if (!c->present) {
		c->mem = mmap(NULL, CHURN_PAGES * 4096ull,
			      PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		KT_ASSERT(c->mem != MAP_FAILED);
		c->pos = (int)st_below(rs, 4);
		c->flags = st_below(rs, 2) ? KVM_MEM_LOG_DIRTY_PAGES : 0;
		churn_set(k);
		c->present = 1;
		return;
	}
	switch (st_below(rs, 4)) {
	case 0:
		churn_delete(k);
		break;
	case 1: /* a move: another position in its window */
		c->pos = (c->pos + 1 + (int)st_below(rs, 3)) % 4;
		churn_set(k);
		break;
	case 2:
		c->flags ^= KVM_MEM_LOG_DIRTY_PAGES;
		churn_set(k);
		break;
	default:
		memset(&d, 0, sizeof(d));
		d.slot = (uint32_t)(CHURN_SLOT0 + k);
		d.dirty_bitmap = bm;
		r = ioctl(vm->fd, KVM_GET_DIRTY_LOG, &d);
		KT_ASSERT(c->flags ? r == 0 : r < 0 && errno == ENOENT,
			  "GET_DIRTY_LOG of churned slot %d: %ld errno %d", k,
			  r, errno);
	}
}

static void *churn_thread(void *arg)
{
	uint64_t rs = seed * 16 + 3;
	int k;

	(void)arg;
	while (!host_stop) {
		churn_once(&rs);
		COUNT(n_churn);
		if (!st_below(&rs, 8))
			st_sleep_ms(1);
	}
	for (k = 0; k < NCHURN; k++)
		if (churn[k].present)
			churn_delete(k);
	return NULL;
}

/* ---- the router ---- */

/*
 * GSI 4 and 5 to IOAPIC pins 4 and 5, always; GSIs 20 and 21 each to pin
 * 4 or to an MSI of vector 0x50-0x53, as the dice say.
 */
static void set_routes(uint64_t *rs)
{
	static const uint32_t gsis[4] = { 4, 5, 20, 21 };
	struct kvm_irq_routing *rt =
		calloc(1, sizeof(*rt) + 4 * sizeof(rt->entries[0]));
	struct kvm_irq_routing_entry *e;

	KT_ASSERT(rt != NULL);
	rt->nr = 4;
	for (e = rt->entries; e < rt->entries + 4; e++) {
		e->gsi = gsis[e - rt->entries];
		if (e->gsi >= 20 && st_below(rs, 2)) {
			e->type = KVM_IRQ_ROUTING_MSI;
			e->u.msi.address_lo = 0xfee00000;
			e->u.msi.data = 0x50 + (uint32_t)st_below(rs, 4);
			continue;
		}
		e->type = KVM_IRQ_ROUTING_IRQCHIP;
		e->u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		e->u.irqchip.pin = e->gsi == 5 ? 5 : 4;
	}
	KT_IOCTL(vm->fd, KVM_SET_GSI_ROUTING, rt);
	free(rt);
}

static void *route_thread(void *arg)
{
	uint64_t rs = seed * 16 + 5;
	struct kvm_irq_level il = { .irq = 4 };

	(void)arg;
	while (!host_stop) {
		set_routes(&rs);
		if (!st_below(&rs, 4)) {
			il.level = 1;
			KT_IOCTL(vm->fd, KVM_IRQ_LINE, &il);
			il.level = 0;
			KT_IOCTL(vm->fd, KVM_IRQ_LINE, &il);
		}
		COUNT(n_routes);
		st_sleep_ms(2);
	}
	return NULL;
}

/* ---- irqfds ---- */

#define NKEPT 8
struct kept {
	int e, r; /* eventfd, resamplefd (-1 for a plain irqfd) */
	uint32_t gsi;
};

static struct kept kept[NKEPT];
static int nkept;

static void irqfd_ctl(int e, uint32_t gsi, int r, uint32_t flags)
{
	struct kvm_irqfd a;

	memset(&a, 0, sizeof(a));
	a.fd = (uint32_t)e;
	a.gsi = gsi;
	a.flags = flags | (r >= 0 && !flags ? KVM_IRQFD_FLAG_RESAMPLE : 0);
	a.resamplefd = (uint32_t)(r >= 0 ? r : 0);
	KT_ASSERT(ioctl(vm->fd, KVM_IRQFD, &a) == 0,
		  "KVM_IRQFD fd %d gsi %u flags 0x%x: errno %d", e, gsi,
		  a.flags, errno);
}

/* An irqfd goes: deassigned then closed, or only closed (a hang-up). */
static void irqfd_end(struct kept *k, int hangup)
{
	if (!hangup)
		irqfd_ctl(k->e, k->gsi, -1, KVM_IRQFD_FLAG_DEASSIGN);
	else
		COUNT(n_hangups);
	close(k->e);
	if (k->r >= 0)
		close(k->r);
}

static void irqfd_once(uint64_t *rs)
{
	static const uint32_t plain_gsis[] = { 4, 20, 21 };
	struct kept k;
	uint64_t what = st_below(rs, 6), i;

	if (what >= 4 && nkept) { /* use or end a kept one */
		i = st_below(rs, (uint64_t)nkept);
		if (what == 4) {
			KT_ASSERT(eventfd_write(kept[i].e, 1) == 0);
			return;
		}
		irqfd_end(&kept[i], (int)st_below(rs, 2));
		kept[i] = kept[--nkept];
		return;
	}
	k.e = st_eventfd();
	k.r = what == 3 ? st_eventfd() : -1;
	k.gsi = k.r >= 0 ? 5 : plain_gsis[st_below(rs, 3)];
	irqfd_ctl(k.e, k.gsi, k.r, 0);
	COUNT(n_irqfds);
	for (i = st_below(rs, 3); i; i--)
		KT_ASSERT(eventfd_write(k.e, 1) == 0);
	switch (st_below(rs, 3)) {
	case 0:
		irqfd_end(&k, 0);
		break;
	case 1:
		irqfd_end(&k, 1);
		break;
	default:
		if (nkept < NKEPT)
			kept[nkept++] = k;
		else
			irqfd_end(&k, 1);
	}
}

static void *irqfd_thread(void *arg)
{
	uint64_t rs = seed * 16 + 7;

	(void)arg;
	while (!host_stop) {
		irqfd_once(&rs);
		st_sleep_ms(1);
	}
	return NULL;
}

/* ---- statistics ---- */

static void read_stats_fd(int fd)
{
	struct kvm_stats_header h;
	char buf[8192];
	size_t size;

	KT_ASSERT(pread(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h));
	size = h.data_offset + (size_t)h.num_desc * 8;
	KT_ASSERT(size <= sizeof(buf));
	KT_ASSERT(pread(fd, buf, size, 0) == (ssize_t)size);
}

static void *stats_thread(void *arg)
{
	int i;

	(void)arg;
	while (!host_stop) {
		for (i = 0; i <= NV; i++)
			read_stats_fd(stats_fds[i]);
		if (tree)
			st_read_tree(tree, 2);
		COUNT(n_stat_reads);
		st_sleep_ms(5);
	}
	return NULL;
}

/* ---- the end: everything closed in a random order ---- */

struct closable {
	int fd; /* or -1: a mapping */
	void *addr;
	size_t len;
};

static void close_all(struct closable *c, int n, uint64_t *rs)
{
	struct closable t;
	int i, j;

	for (i = n - 1; i > 0; i--) {
		j = (int)st_below(rs, (uint64_t)i + 1);
		t = c[i];
		c[i] = c[j];
		c[j] = t;
	}
	for (i = 0; i < n; i++) {
		if (c[i].fd >= 0)
			KT_ASSERT(close(c[i].fd) == 0, "close: errno %d",
				  errno);
		else
			KT_ASSERT(munmap(c[i].addr, c[i].len) == 0);
	}
}

static unsigned long env_num(const char *name, unsigned long dflt)
{
	const char *s = getenv(name);

	return s && *s ? strtoul(s, NULL, 0) : dflt;
}

int main(void)
{
	pthread_t tv[NV], td, tc, tr, ti, ts;
	struct closable cl[32];
	long long held0[3], held_vm[3];
	unsigned long secs, t;
	uint64_t rs;
	int kmsg, i, n, e;

	kt_init("stress_slots");
	seed = env_num("STRESS_SEED", 1);
	secs = env_num("STRESS_SECONDS", 20);
	printf("seed %llu, %lu s of stress\n", (unsigned long long)seed, secs);
	st_watchdog((unsigned int)secs + 90);
	kmsg = st_kmsg_open();
	kt_read_held(held0);
	tree = st_stats_tree();

	vm = kt_vm_irqchip();
	KT_ASSERT(kt_mem_add(vm, DSLOT, DGPA, DPAGES * 4096ull,
			     KVM_MEM_LOG_DIRTY_PAGES) != NULL);
	*KT_GUEST_VAR(vm, seed_base) = seed;
	for (i = 0; i < NV; i++) {
		struct kvm_regs regs;

		vcpus[i] = kt_vcpu_irqchip(vm, i);
		kt_setup_long(vcpus[i], (uint64_t)(uintptr_t)guest_main,
			      KT_STACK_ENTRY - (uint64_t)i * 0x100000);
		kt_get_regs(vcpus[i], &regs);
		regs.rdi = (uint64_t)i;
		kt_set_regs(vcpus[i], &regs);
		if (i) { /* an AP starts waiting for INIT/SIPI: not this one */
			struct kvm_mp_state mp = { KVM_MP_STATE_RUNNABLE };

			KT_IOCTL(vcpus[i]->fd, KVM_SET_MP_STATE, &mp);
		}
		stats_fds[i + 1] = ioctl(vcpus[i]->fd, KVM_GET_STATS_FD, 0);
		KT_ASSERT(stats_fds[i + 1] >= 0);
	}
	stats_fds[0] = ioctl(vm->fd, KVM_GET_STATS_FD, 0);
	KT_ASSERT(stats_fds[0] >= 0);
	rs = seed * 16 + 1;
	set_routes(&rs);
	/*
	 * Every churned slot once at each of its places: what the nested
	 * tables keep of them (today they keep their table pages until the
	 * VM's end) is then in the baseline below, which is about irqfds.
	 */
	for (i = 0; i < NCHURN * 4; i++) {
		churn[i / 4].mem = mmap(NULL, CHURN_PAGES * 4096ull,
					PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		KT_ASSERT(churn[i / 4].mem != MAP_FAILED);
		churn[i / 4].pos = i % 4;
		churn_set(i / 4);
		churn_delete(i / 4);
	}
	/* the VM's irqfd state is made by its first irqfd and stays */
	e = st_eventfd();
	irqfd_ctl(e, 4, -1, 0);
	irqfd_ctl(e, 4, -1, KVM_IRQFD_FLAG_DEASSIGN);
	close(e);
	kt_read_held(held_vm);
	printf("a VM with the in-kernel irqchip, %d vCPUs, a dirty-logged slot "
	       "of %d pages\n",
	       NV, DPAGES);

	for (i = 0; i < NV; i++)
		KT_ASSERT(pthread_create(&tv[i], NULL, vcpu_thread, vcpus[i]) ==
			  0);
	KT_ASSERT(pthread_create(&td, NULL, dirty_thread, NULL) == 0);
	KT_ASSERT(pthread_create(&tc, NULL, churn_thread, NULL) == 0);
	KT_ASSERT(pthread_create(&tr, NULL, route_thread, NULL) == 0);
	KT_ASSERT(pthread_create(&ti, NULL, irqfd_thread, NULL) == 0);
	KT_ASSERT(pthread_create(&ts, NULL, stats_thread, NULL) == 0);
	for (t = 0; t < secs * 10; t++)
		st_sleep_ms(100);
	host_stop = 1;
	pthread_join(tc, NULL);
	pthread_join(tr, NULL);
	pthread_join(ti, NULL);
	pthread_join(ts, NULL);
	*KT_GUEST_VAR(vm, stop) = 1;
	if (!ST_WAIT(vcpus_ended == NV, 60000)) {
		for (i = 0; i < NV; i++)
			fprintf(stderr, "vCPU %d: %llu writes published\n", i,
				(unsigned long long)KT_GUEST_VAR(vm, wlogs[i])
					->intent);
		kt_fail(__FILE__, __LINE__, "the vCPUs did not stop (%d of %d)",
			vcpus_ended, NV);
	}
	for (i = 0; i < NV; i++)
		pthread_join(tv[i], NULL);
	pthread_join(td, NULL);
	fprintf(stderr,
		"%lu dirty-log rounds, %lu writes checked, %lu MMIO exits, "
		"%lu slot changes, %lu routing tables, %lu irqfds (%lu hung "
		"up), %lu statistics sweeps, %llu interrupts taken\n",
		n_rounds, n_writes, n_mmio, n_churn, n_routes, n_irqfds,
		n_hangups, n_stat_reads,
		(unsigned long long)*KT_GUEST_VAR(vm, irqs));
	printf("the stress threads and both vCPUs stopped\n");
	KT_ASSERT(n_writes > 0);
	printf("every page the guest wrote was in a later dirty log: %s\n",
	       misses ? "no" : "yes");
	KT_ASSERT(!misses, "%lu writes missing from the dirty logs", misses);

	rs = seed * 16 + 9;
	for (i = 0; i < nkept; i++)
		irqfd_end(&kept[i], (int)st_below(&rs, 2));
	nkept = 0;
	printf("kept irqfds deassigned or their eventfds closed, churned slots "
	       "deleted\n");
	st_held_back(held_vm, "after the stress, as before it");

	/* fresh irqfds, then everything closed in a random order */
	n = 0;
	for (i = 0; i < 3; i++) {
		int r = i == 2 ? st_eventfd() : -1;

		e = st_eventfd();
		irqfd_ctl(e, r >= 0 ? 5 : 20 + (uint32_t)i, r, 0);
		KT_ASSERT(eventfd_write(e, 1) == 0);
		cl[n++] = (struct closable){ e, NULL, 0 };
		if (r >= 0)
			cl[n++] = (struct closable){ r, NULL, 0 };
	}
	for (i = 0; i <= NV; i++)
		cl[n++] = (struct closable){ stats_fds[i], NULL, 0 };
	for (i = 0; i < NV; i++) {
		cl[n++] = (struct closable){ vcpus[i]->fd, NULL, 0 };
		cl[n++] = (struct closable){ -1, vcpus[i]->run,
					     (size_t)vm->run_size };
	}
	cl[n++] = (struct closable){ vm->fd, NULL, 0 };
	cl[n++] = (struct closable){ vm->kvm_fd, NULL, 0 };
	close_all(cl, n, &rs);
	printf("%d descriptors and mappings closed in a random order\n", n);
	st_held_back(held0, "everything closed");
	n = st_kmsg_trouble(kmsg);
	printf("kernel log: %s\n", n > 0  ? "new warnings" :
				   n == 0 ? "nothing new that means trouble" :
					    "cannot be read");
	KT_ASSERT(n <= 0, "%d kernel log lines mean trouble", n);
	kt_pass();
}
