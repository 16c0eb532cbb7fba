// SPDX-License-Identifier: GPL-2.0
/*
 * dirty_log - KVM_MEM_LOG_DIRTY_PAGES and KVM_GET_DIRTY_LOG (Linux 6.1
 * semantics, no manual protect): each GET returns exactly the pages the
 * guest wrote since the previous one and re-arms the tracking.
 *
 * Slot 1 (80 pages: a two-word bitmap) is first written in full with
 * logging off, so every page is mapped writable under any KVM; turning
 * logging on then starts from a clean log.  Rounds of guest writes and
 * reads follow, each checked with an exact bitmap: pages only read are
 * clean, pages written again after a GET show up again, a GET with nothing
 * written is empty, the VMM's own stores are not logged, INS (single and
 * REP across a page boundary) into the slot dirties the pages it filled.
 * Slot 2 logs from its creation (the guest only writes it, because a first
 * read of a page may map it writable and count as a write under Linux).
 * A page table kept in a logging page: the accessed and dirty bits the CPU
 * sets in it dirty that page (the nested fault of a table walk).
 * Slot 3 is read-only and logs (allowed by Linux 6.1): a read keeps it
 * clean, a write is an MMIO exit and leaves it clean too.  Then: logging
 * off (GET is ENOENT) and on again (a fresh, empty log), the errnos of
 * GET_DIRTY_LOG (absent slot, slot without logging, bad ids and address
 * spaces, bad bitmap pointers: EFAULT loses the bits taken, as in Linux),
 * the flag rules, and that GET writes exactly the bitmap's rounded size.
 * Last, a second VM whose logs are torn down in every state must give back
 * all the driver held (xkvm's held counts; silent, as kvm_amd has none).
 * REP INS may be split into any number of exits: the host only checks the
 * port and direction and hands out one byte stream.
 */
#include "kvmtest.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define PG 4096ull
#define BASE1 0x40000000ull /* slot 1, NP1 pages */
#define NP1 80
#define BASE2 0x40100000ull /* slot 2, NP2 pages, logs from creation */
#define NP2 4
#define BASE3 0x40200000ull /* slot 3, read-only + logging */
#define NP3 2
#define INS_PORT 0x90
#define VA6 0x180000000ull /* 6 GiB: mapped by a table in slot 1 */

/* ---- guest ---- */

static volatile uint8_t *pg1(uint64_t page)
{
	return (volatile uint8_t *)(uintptr_t)(BASE1 + page * PG +
					       (page * 8) % PG);
}

static void wr1(uint64_t page)
{
	*pg1(page) = (uint8_t)(0x30 + page);
}

static void guest_main(void)
{
	uint64_t i, d = BASE1 + 20 * PG + 4094;
	uint64_t n = 4;
	uint32_t word;
	volatile uint64_t *pt;

	for (i = 0; i < NP1; i++) /* logging is off */
		*(volatile uint8_t *)(uintptr_t)(BASE1 + i * PG + 8) = 0x22;
	GUEST_SYNC(1, 0, 0);

	/* round 1 */
	wr1(0), wr1(1), wr1(5), wr1(63), wr1(64), wr1(79);
	GUEST_ASSERT_EQ(*pg1(2), 0x11);
	GUEST_ASSERT_EQ(*(volatile uint8_t *)(uintptr_t)(BASE1 + 3 * PG + 8),
			0x22);
	GUEST_ASSERT_EQ(*pg1(70), 0x11);
	*(volatile uint8_t *)(uintptr_t)(BASE2 + 0 * PG + 16) = 0x44;
	*(volatile uint64_t *)(uintptr_t)(BASE2 + 3 * PG + 8) = 0x4545;
	GUEST_SYNC(2, 0, 0);

	/* round 2: pages written in round 1 again, one new; reads */
	*pg1(1) = 0x61;
	*pg1(64) = 0x62;
	*pg1(10) = 0x63;
	GUEST_ASSERT_EQ(*pg1(0), 0x30);
	GUEST_ASSERT_EQ(*pg1(5), 0x35);
	GUEST_SYNC(3, 0, 0);

	/* round 3: the VMM wrote page 40; we read it */
	GUEST_ASSERT_EQ(*(volatile uint8_t *)(uintptr_t)(BASE1 + 40 * PG),
			0x77);
	GUEST_SYNC(4, 0, 0);

	/* round 4: string I/O into the slot */
	__asm__ volatile("cld; rep insb"
			 : "+D"(d), "+c"(n)
			 : "d"(INS_PORT)
			 : "memory");
	d = BASE1 + 30 * PG + 100;
	__asm__ volatile("insb" : "+D"(d) : "d"(INS_PORT) : "memory");
	word = *(volatile uint32_t *)(uintptr_t)(BASE1 + 20 * PG + 4094);
	GUEST_SYNC(5, word,
		   *(volatile uint8_t *)(uintptr_t)(BASE1 + 30 * PG + 100));

	/* round 5: a write whose bits an EFAULT GET takes */
	*pg1(50) = 0x50;
	GUEST_SYNC(6, 0, 0);

	/* logging off: write page 7 */
	*pg1(7) = 0x07;
	GUEST_SYNC(7, 0, 0);

	/* logging on again: write page 8, read page 7 */
	*pg1(8) = 0x08;
	GUEST_ASSERT_EQ(*pg1(7), 0x07);
	GUEST_SYNC(8, 0, 0);

	/* a page table in a logging page: the CPU's A/D updates log it */
	pt = (volatile uint64_t *)(uintptr_t)(BASE1 + 60 * PG);
	for (i = 0; i < 512; i++)
		pt[i] = 0;
	pt[0] = (BASE1 + 61 * PG) | 3;
	pt[1] = (BASE1 + 62 * PG) | 3;
	*(volatile uint64_t *)(uintptr_t)(KT_PT_GPA + 0x2000 + 6 * 0x1000) =
		(BASE1 + 60 * PG) | 3;
	__asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" ::
				 : "rax", "memory");
	GUEST_ASSERT_EQ(*(volatile uint8_t *)(uintptr_t)(VA6 + 16), 0x11);
	GUEST_SYNC(9, pt[0] & 0x60, 0);
	GUEST_ASSERT_EQ(*(volatile uint8_t *)(uintptr_t)(VA6 + PG + 16), 0x11);
	GUEST_SYNC(10, pt[1] & 0x60, 0);
	*(volatile uint8_t *)(uintptr_t)(VA6 + PG + 24) = 0x5d;
	GUEST_SYNC(11, pt[1] & 0x60, 0);

	/* slot 3, read-only: a read, then a write (an MMIO exit) */
	GUEST_ASSERT_EQ(*(volatile uint8_t *)(uintptr_t)(BASE3 + PG + 5), 0x33);
	*(volatile uint8_t *)(uintptr_t)(BASE3 + 0x10) = 0x99;
	GUEST_SYNC(12, 0, 0);
	GUEST_DONE();
	guest_hlt_forever();
}

/* ---- host ---- */

static const char *errname(int e)
{
	switch (e) {
	case 0:
		return "ok";
	case EINVAL:
		return "EINVAL";
	case ENOENT:
		return "ENOENT";
	case EFAULT:
		return "EFAULT";
	case EEXIST:
		return "EEXIST";
	case ENOTTY:
		return "ENOTTY";
	default:
		return strerror(e);
	}
}

static void expect(const char *what, long r, int want)
{
	int got = r < 0 ? errno : 0;

	printf("%-56s -> %s\n", what, errname(got));
	if (got != want)
		kt_fail(__FILE__, __LINE__, "%s: expected %s, got %s", what,
			errname(want), errname(got));
}

static int vmfd;

static long region(uint32_t slot, uint32_t flags, uint64_t gpa, uint64_t npages,
		   void *hva)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = npages * PG,
		.userspace_addr = (uint64_t)(uintptr_t)hva,
	};

	return ioctl(vmfd, KVM_SET_USER_MEMORY_REGION, &r);
}

static long get_log(uint32_t slot, void *bitmap)
{
	struct kvm_dirty_log l;

	memset(&l, 0, sizeof(l));
	l.slot = slot;
	l.dirty_bitmap = bitmap;
	return ioctl(vmfd, KVM_GET_DIRTY_LOG, &l);
}

/* Host memory for a slot, every page touched (present and writable). */
static uint8_t *slot_mem(uint64_t npages, int fill)
{
	uint8_t *p = mmap(NULL, npages * PG, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	KT_ASSERT(p != MAP_FAILED);
	memset(p, fill, npages * PG);
	return p;
}

#define CANARY 0xa5

/*
 * GET_DIRTY_LOG of a slot of npages; print the dirty pages; check they are
 * exactly want[] and that nothing beyond the rounded bitmap was written.
 */
static void check_log(const char *what, uint32_t slot, uint64_t npages,
		      const int *want, int nwant)
{
	uint64_t bm[4];
	size_t bytes = ((npages + 63) / 64) * 8, b;
	int i, n = 0;

	memset(bm, CANARY, sizeof(bm));
	expect("KVM_GET_DIRTY_LOG", get_log(slot, bm), 0);
	for (b = bytes; b < sizeof(bm); b++)
		KT_ASSERT(((uint8_t *)bm)[b] == CANARY,
			  "byte %zu beyond the bitmap written", b);
	printf("%s: dirty pages:", what);
	for (i = 0; i < (int)npages; i++)
		if (bm[i / 64] & (1ull << (i % 64))) {
			printf(" %d", i);
			KT_ASSERT(n < nwant && want[n] == i,
				  "page %d dirty, not expected", i);
			n++;
		}
	for (i = (int)npages; i < (int)(bytes * 8); i++)
		KT_ASSERT(!(bm[i / 64] & (1ull << (i % 64))),
			  "bit %d beyond the slot set", i);
	printf("%s\n", n ? "" : " none");
	KT_ASSERT(n == nwant, "%d dirty pages, expected %d", n, nwant);
}

/* Run to the next SYNC, answering INS from INS_PORT with a byte stream. */
static void run_to_sync(struct kt_vcpu *v, uint64_t stage, struct kt_ucall *uc)
{
	static uint8_t next = 0xc0;
	struct kvm_run *run = v->run;

	for (;;) {
		uint32_t r = kt_run(v);
		uint32_t i;
		uint8_t *data;

		if (r != KVM_EXIT_IO || run->io.port != INS_PORT)
			break;
		KT_ASSERT(run->io.direction == KVM_EXIT_IO_IN &&
			  run->io.size == 1);
		data = (uint8_t *)run + run->io.data_offset;
		for (i = 0; i < run->io.count; i++)
			data[i] = next++;
	}
	KT_ASSERT_EQ(kt_decode_ucall(v, uc), UC_SYNC);
	KT_ASSERT_EQ(uc->args[0], stage);
}

/*
 * Logs in every state a VM can be torn down in (on, toggled, moved, a
 * slot deleted) are freed with it: the driver's held counts come back
 * (checked only where they are published; nothing is printed).
 */
static void check_no_leak(int kvm)
{
	long long h0[3], h1[3];
	uint8_t *m = slot_mem(300, 0);
	uint64_t bm[5];
	int have = kt_read_held(h0);

	vmfd = ioctl(kvm, KVM_CREATE_VM, 0);
	KT_ASSERT(vmfd >= 0);
	KT_ASSERT(region(1, KVM_MEM_LOG_DIRTY_PAGES, BASE1, 200, m) == 0);
	KT_ASSERT(region(2, 0, BASE2, 100, m + 200 * PG) == 0);
	KT_ASSERT(region(2, KVM_MEM_LOG_DIRTY_PAGES, BASE2, 100,
			 m + 200 * PG) == 0);
	KT_ASSERT(region(2, 0, BASE2, 100, m + 200 * PG) == 0);
	KT_ASSERT(region(2, KVM_MEM_LOG_DIRTY_PAGES, BASE3, 100,
			 m + 200 * PG) == 0);
	KT_ASSERT(get_log(1, bm) == 0 && get_log(2, bm) == 0);
	KT_ASSERT(region(3, KVM_MEM_LOG_DIRTY_PAGES, 0x50000000ull, 1, m) == 0);
	KT_ASSERT(region(3, 0, 0x50000000ull, 0, NULL) == 0);
	close(vmfd);
	munmap(m, 300 * PG);
	if (have) {
		KT_ASSERT(kt_read_held(h1));
		KT_ASSERT(h0[0] == h1[0] && h0[1] == h1[1] && h0[2] == h1[2],
			  "held before %lld %lld %lld, after %lld %lld %lld",
			  h0[0], h0[1], h0[2], h1[0], h1[1], h1[2]);
	}
}

int main(void)
{
	static const int r1[] = { 0, 1, 5, 63, 64, 79 }, r2[] = { 1, 10, 64 };
	static const int s2[] = { 0, 3 }, ins[] = { 20, 21, 30 };
	static const int p8[] = { 8 }, p60[] = { 60 }, p6062[] = { 60, 62 };
	struct kt_vcpu *v;
	struct kt_ucall uc;
	uint8_t *m1, *m2, *m3;
	uint64_t bm[2];

	kt_init("dirty_log");
	v = kt_create_default();
	vmfd = v->vm->fd;
	m1 = slot_mem(NP1, 0x11);
	m2 = slot_mem(NP2, 0x22);
	m3 = slot_mem(NP3, 0x33);
	expect("slot 1 created, no logging", region(1, 0, BASE1, NP1, m1), 0);
	expect("GET_DIRTY_LOG of a slot that does not log", get_log(1, bm),
	       ENOENT);
	kt_setup_long(v, (uint64_t)(uintptr_t)guest_main, KT_STACK_ENTRY);
	run_to_sync(v, 1, &uc);
	printf("guest wrote every page of slot 1 with logging off\n");

	expect("slot 1: logging turned on",
	       region(1, KVM_MEM_LOG_DIRTY_PAGES, BASE1, NP1, m1), 0);
	check_log("slot 1 right after logging on", 1, NP1, NULL, 0);
	expect("slot 2 created with logging",
	       region(2, KVM_MEM_LOG_DIRTY_PAGES, BASE2, NP2, m2), 0);
	expect("slot 3 created read-only with logging",
	       region(3, KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY, BASE3, NP3,
		      m3),
	       0);
	check_log("slot 2 before the guest ran", 2, NP2, NULL, 0);

	run_to_sync(v, 2, &uc);
	check_log("round 1 (wrote 0 1 5 63 64 79, read 2 3 70)", 1, NP1, r1, 6);
	KT_ASSERT(m1[79 * PG + (79 * 8) % PG] == 0x30 + 79);
	check_log("round 1, again at once", 1, NP1, NULL, 0);
	check_log("slot 2 (wrote 0 3)", 2, NP2, s2, 2);
	KT_ASSERT(m2[3 * PG + 8] == 0x45 && m2[16] == 0x44);

	run_to_sync(v, 3, &uc);
	check_log("round 2 (wrote 1 64 10, read 0 5)", 1, NP1, r2, 3);

	m1[40 * PG] = 0x77;
	run_to_sync(v, 4, &uc);
	check_log("round 3 (the VMM wrote 40, the guest read it)", 1, NP1, NULL,
		  0);

	run_to_sync(v, 5, &uc);
	printf("INS data seen by the guest: 0x%08llx 0x%02llx\n",
	       (unsigned long long)uc.args[1], (unsigned long long)uc.args[2]);
	KT_ASSERT_EQ(uc.args[1], 0xc3c2c1c0);
	KT_ASSERT_EQ(uc.args[2], 0xc4);
	check_log("round 4 (REP INSB across 20/21, INSB into 30)", 1, NP1, ins,
		  3);

	run_to_sync(v, 6, &uc);
	expect("GET_DIRTY_LOG, bitmap NULL (guest wrote 50)", get_log(1, NULL),
	       EFAULT);
	expect("GET_DIRTY_LOG, bitmap at unmapped 0x1000",
	       get_log(1, (void *)0x1000), EFAULT);
	check_log("after the EFAULTs (their bits are lost)", 1, NP1, NULL, 0);
	expect("GET_DIRTY_LOG, struct at unmapped 0x1000",
	       ioctl(vmfd, KVM_GET_DIRTY_LOG, (void *)0x1000), EFAULT);
	expect("GET_DIRTY_LOG slot 0 (no logging)", get_log(0, bm), ENOENT);
	expect("GET_DIRTY_LOG slot 9 (absent)", get_log(9, bm), ENOENT);
	expect("GET_DIRTY_LOG slot 600 (absent)", get_log(600, bm), ENOENT);
	expect("GET_DIRTY_LOG slot 32763 (absent)", get_log(32763, bm), ENOENT);
	expect("GET_DIRTY_LOG slot 32764", get_log(32764, bm), EINVAL);
	expect("GET_DIRTY_LOG slot 0xffff", get_log(0xffff, bm), EINVAL);
	expect("GET_DIRTY_LOG address space 1, slot 1", get_log(0x10001, bm),
	       ENOENT);
	expect("GET_DIRTY_LOG address space 2, slot 1", get_log(0x20001, bm),
	       EINVAL);
	expect("slot 1: READONLY added",
	       region(1, KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY, BASE1, NP1,
		      m1),
	       EINVAL);
	expect("slot 3: READONLY dropped",
	       region(3, KVM_MEM_LOG_DIRTY_PAGES, BASE3, NP3, m3), EINVAL);
	expect("slot 4: flag 0x4", region(4, 0x4, 0x40300000ull, 1, m3),
	       EINVAL);
	expect("slot 1 set again, same flags",
	       region(1, KVM_MEM_LOG_DIRTY_PAGES, BASE1, NP1, m1), 0);
	check_log("slot 1 after that", 1, NP1, NULL, 0);

	expect("slot 1: logging turned off", region(1, 0, BASE1, NP1, m1), 0);
	expect("GET_DIRTY_LOG slot 1 with logging off", get_log(1, bm), ENOENT);
	run_to_sync(v, 7, &uc);
	expect("slot 1: logging turned on again (guest wrote 7)",
	       region(1, KVM_MEM_LOG_DIRTY_PAGES, BASE1, NP1, m1), 0);
	check_log("slot 1, fresh log", 1, NP1, NULL, 0);
	run_to_sync(v, 8, &uc);
	check_log("round 6 (wrote 8, read 7)", 1, NP1, p8, 1);
	KT_ASSERT(m1[7 * PG + 56] == 0x07);

	run_to_sync(v, 9, &uc);
	printf("page table in page 60, page 61 read through it: "
	       "PTE A/D 0x%02llx\n",
	       (unsigned long long)uc.args[1]);
	KT_ASSERT_EQ(uc.args[1], 0x20);
	check_log("round 7 (wrote the table in 60, read 61)", 1, NP1, p60, 1);
	run_to_sync(v, 10, &uc);
	printf("page 62 read: PTE A/D 0x%02llx\n",
	       (unsigned long long)uc.args[1]);
	KT_ASSERT_EQ(uc.args[1], 0x20);
	check_log("round 8 (the CPU set A in 60, read 62)", 1, NP1, p60, 1);
	run_to_sync(v, 11, &uc);
	printf("page 62 written: PTE A/D 0x%02llx\n",
	       (unsigned long long)uc.args[1]);
	KT_ASSERT_EQ(uc.args[1], 0x60);
	check_log("round 9 (the CPU set D in 60, wrote 62)", 1, NP1, p6062, 2);
	KT_ASSERT(m1[62 * PG + 24] == 0x5d);

	{
		struct kvm_run *run = v->run;
		uint32_t r = kt_run(v);

		KT_ASSERT(r == KVM_EXIT_MMIO, "got %s", kt_exit_name(r));
		printf("write to read-only slot 3: MMIO exit phys_addr=0x%llx "
		       "len=%u is_write=%u data=0x%02x\n",
		       (unsigned long long)run->mmio.phys_addr, run->mmio.len,
		       run->mmio.is_write, run->mmio.data[0]);
		KT_ASSERT_EQ(run->mmio.phys_addr, BASE3 + 0x10);
		KT_ASSERT(run->mmio.is_write && run->mmio.len == 1 &&
			  run->mmio.data[0] == 0x99);
	}
	run_to_sync(v, 12, &uc);
	check_log("slot 3 (read, then a refused write)", 3, NP3, NULL, 0);
	KT_ASSERT(m3[0x10] == 0x33);
	kt_expect_done(v);

	expect("slot 1 deleted while logging", region(1, 0, BASE1, 0, NULL), 0);
	expect("GET_DIRTY_LOG of the deleted slot", get_log(1, bm), ENOENT);
	expect("slot 2 deleted while logging", region(2, 0, BASE2, 0, NULL), 0);
	check_no_leak(v->vm->kvm_fd);
	kt_pass();
}
