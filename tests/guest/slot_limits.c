// SPDX-License-Identifier: GPL-2.0
/*
 * slot_limits - memory slots end within the guest-physical width, and the
 * guest cannot write a read-only file through an alias.
 *
 * The width is what KVM_GET_SUPPORTED_CPUID's leaf 0x80000008 says
 * (GuestPhysAddrSize, or PhysAddrSize when that is 0): Linux refuses a
 * slot that ends beyond it (kvm_mmu_max_gfn) with EINVAL.  A slot ending
 * exactly there is accepted, one page more is not, nor one at 2^48 or
 * beyond 2^52; a move follows the same rule.
 *
 * The exploit of xkvm's defect 1 (issue 10): the nested tables walk 4
 * levels and reach 48 bits, so a slot at X + 2^48 shared X's leaves.  A
 * read-only slot of a read-only file mapping at X (1 GiB here), a
 * dirty-logging slot at X + 2^48 (and at X + the width: the first gpa
 * beyond it): both must be EINVAL.  Should one be accepted, the test goes
 * on as the attacker would (the file slot made after it takes the shared
 * leaf, logging off makes that leaf writable, the guest writes X) and
 * fails on the file's changed bytes.  Then the same with the
 * logging slot at the real top page (width - 4 KiB, mapped by the guest's
 * own tables): the guest dirties it (the log says so), logging goes off,
 * and the guest's write to X is an MMIO exit while the file stays as it
 * was; deleting either slot leaves the other as it was (a read of X sees
 * the file; the top page is MMIO), no fault retried for ever (an alarm
 * ends a guest that makes no progress).
 */
#include "kvmtest.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PG 4096ull
#define X 0x40000000ull /* the file's slot */
#define FILE_BYTE 0x46
#define OP_WRITE 1
#define OP_READ 2
#define OP_DONE 3

/* ---- guest: one access per command from the host ---- */

static volatile struct {
	uint64_t op, addr, val;
} cmd;

static void guest_main(void)
{
	for (;;) {
		uint64_t r = 0, op = cmd.op;

		if (op == OP_WRITE)
			*(volatile uint8_t *)(uintptr_t)cmd.addr =
				(uint8_t)cmd.val;
		else if (op == OP_READ)
			r = *(volatile uint8_t *)(uintptr_t)cmd.addr;
		else
			GUEST_DONE();
		GUEST_SYNC(op, r, 0);
	}
}

/* ---- host ---- */

static int vmfd;
static struct kt_vcpu *vcpu;

static void on_alarm(int sig)
{
	static const char m[] = "FAIL slot_limits: the guest made no progress "
				"for 60 s (a fault retried for ever?)\n";

	(void)sig;
	if (write(1, m, sizeof(m) - 1) < 0 || write(2, m, sizeof(m) - 1) < 0)
		_exit(1);
	_exit(1);
}

static const char *errname(int e)
{
	return e == 0      ? "ok" :
	       e == EINVAL ? "EINVAL" :
	       e == EEXIST ? "EEXIST" :
			     strerror(e);
}

static int region(uint32_t slot, uint32_t flags, uint64_t gpa, uint64_t size,
		  void *hva)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)hva,
	};

	return ioctl(vmfd, KVM_SET_USER_MEMORY_REGION, &r) < 0 ? errno : 0;
}

static int expect(const char *what, int got, int want)
{
	printf("%-60s -> %s\n", what, errname(got));
	if (got != want)
		fprintf(stderr, "%s: expected %s\n", what, errname(want));
	return got == want;
}

/*
 * One guest access; returns what a read saw.  A write to a read-only slot
 * exits as MMIO (counted in *mmio, the VMM drops it); a read of unbacked
 * memory exits as MMIO and reads 0xee.
 */
static uint64_t guest_op(uint64_t op, uint64_t addr, uint64_t val, int *mmio)
{
	struct kt_ucall uc;

	*KT_GUEST_VAR(vcpu->vm, cmd.op) = op;
	*KT_GUEST_VAR(vcpu->vm, cmd.addr) = addr;
	*KT_GUEST_VAR(vcpu->vm, cmd.val) = val;
	*mmio = 0;
	alarm(60);
	for (;;) {
		uint32_t r = kt_run(vcpu);
		struct kvm_run *run = vcpu->run;

		if (r != KVM_EXIT_MMIO)
			break;
		KT_ASSERT_EQ(run->mmio.phys_addr, addr);
		KT_ASSERT_EQ(run->mmio.len, 1);
		KT_ASSERT_EQ(run->mmio.is_write, op == OP_WRITE);
		if (op == OP_WRITE)
			KT_ASSERT_EQ(run->mmio.data[0], (uint8_t)val);
		else
			run->mmio.data[0] = 0xee;
		(*mmio)++;
	}
	alarm(0);
	kt_decode_ucall(vcpu, &uc);
	KT_ASSERT_EQ(uc.cmd, UC_SYNC);
	KT_ASSERT_EQ(uc.args[0], op);
	return uc.args[1];
}

/* The guest-physical width the driver announces. */
static unsigned int gpa_bits(int kvm)
{
	struct {
		struct kvm_cpuid2 c;
		struct kvm_cpuid_entry2 e[100];
	} t;
	unsigned int i;

	memset(&t, 0, sizeof(t));
	t.c.nent = 100;
	KT_IOCTL(kvm, KVM_GET_SUPPORTED_CPUID, &t);
	for (i = 0; i < t.c.nent; i++)
		if (t.c.entries[i].function == 0x80000008) {
			unsigned int a = t.c.entries[i].eax;

			return (a >> 16) & 0xff ? (a >> 16) & 0xff : a & 0xff;
		}
	kt_fail(__FILE__, __LINE__, "no CPUID leaf 0x80000008");
}

/* Map [va, va + 2 MiB) to the same gpa with one more 2 MiB page. */
static void map_2m(uint64_t va)
{
	uint64_t *pml4 = kt_gpa2hva(vcpu->vm, KT_PT_GPA);
	uint64_t pdpt_gpa = KT_PT_GPA + 0x2000 + KT_MAP_GIB * 0x1000;
	uint64_t pd_gpa = pdpt_gpa + 0x1000;
	uint64_t *pdpt = kt_gpa2hva(vcpu->vm, pdpt_gpa);
	uint64_t *pd = kt_gpa2hva(vcpu->vm, pd_gpa);
	unsigned int i4 = (va >> 39) & 511, i3 = (va >> 30) & 511;

	KT_ASSERT(i4 != 0, "the identity map's PML4 entry");
	memset(pdpt, 0, PG);
	memset(pd, 0, PG);
	pml4[i4] = pdpt_gpa | 3;
	pdpt[i3] = pd_gpa | 3;
	pd[(va >> 21) & 511] = (va & ~((1ull << 21) - 1)) | 0x83;
}

/* A read-only file of one page of FILE_BYTE, mapped read-only. */
static uint8_t *ro_file(void)
{
	char name[] = "/tmp/slot_limits.XXXXXX";
	uint8_t page[PG];
	int fd = mkstemp(name);
	uint8_t *p;

	KT_ASSERT(fd >= 0, "mkstemp: %s", strerror(errno));
	memset(page, FILE_BYTE, sizeof(page));
	KT_ASSERT(write(fd, page, sizeof(page)) == (ssize_t)sizeof(page));
	close(fd);
	KT_ASSERT(chmod(name, 0444) == 0);
	fd = open(name, O_RDONLY);
	KT_ASSERT(fd >= 0);
	unlink(name);
	p = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);
	KT_ASSERT(p != MAP_FAILED);
	close(fd);
	return p;
}

static int file_intact(const uint8_t *f)
{
	for (uint64_t i = 0; i < PG; i++)
		if (f[i] != FILE_BYTE)
			return 0;
	return 1;
}

static void *anon(uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	KT_ASSERT(p != MAP_FAILED);
	return p;
}

/*
 * What an attacker does once a logging slot aliases X: logging off, the
 * guest writes X.  Reports whether the file survived.
 */
static int attack(uint32_t slot, uint64_t gpa, void *hva, const uint8_t *f)
{
	int mmio;

	region(slot, 0, gpa, PG, hva); /* logging off */
	guest_op(OP_WRITE, X + 8, 0x58, &mmio);
	fprintf(stderr, "accepted alias at 0x%llx: the guest's write %s\n",
		(unsigned long long)gpa,
		file_intact(f) ? "did not reach the file" :
				 "CHANGED the read-only file");
	return file_intact(f);
}

int main(void)
{
	uint64_t lim, top, bm[1], v, alias;
	struct kvm_dirty_log log;
	uint8_t *f, *mem;
	int ok = 1, mmio, r;
	unsigned int bits;

	kt_init("slot_limits");
	signal(SIGALRM, on_alarm);
	vcpu = kt_create_default();
	vmfd = vcpu->vm->fd;
	bits = gpa_bits(vcpu->vm->kvm_fd);
	lim = 1ull << bits;
	top = lim - PG;
	printf("guest-physical width: %u bits\n", bits);
	kt_setup_long(vcpu, (uint64_t)(uintptr_t)guest_main, KT_STACK_ENTRY);
	mem = anon(4 * PG);

	/* the limits, for a new slot and for a move */
	ok &= expect("slot 2: 2 pages crossing the limit",
		     region(2, 0, top, 2 * PG, mem), EINVAL);
	ok &= expect("slot 1: 1 page ending at the limit",
		     region(1, 0, top, PG, mem), 0);
	ok &= expect("slot 2: 2 pages crossing the limit, overlapping",
		     region(2, 0, top - PG, 2 * PG, mem + PG), EEXIST);
	ok &= expect("slot 2: 1 page at the limit",
		     region(2, 0, lim, PG, mem + PG), EINVAL);
	ok &= expect("slot 2: 1 page at 2^48",
		     region(2, 0, 1ull << 48, PG, mem + PG), EINVAL);
	ok &= expect("slot 2: 1 page below 2^52",
		     region(2, 0, (1ull << 52) - PG, PG, mem + PG), EINVAL);
	ok &= expect("slot 1: moved to the limit", region(1, 0, lim, PG, mem),
		     EINVAL);
	ok &= expect("slot 1: moved to 2^48", region(1, 0, 1ull << 48, PG, mem),
		     EINVAL);
	ok &= expect("slot 1: moved below the limit",
		     region(1, 0, top - PG, PG, mem), 0);
	ok &= expect("slot 1: deleted", region(1, 0, top - PG, 0, mem), 0);

	/*
	 * The exploit: a logging slot aliasing X, then a read-only file at
	 * X (its pages took the shared leaves), then logging off.
	 */
	f = ro_file();
	r = region(4, KVM_MEM_LOG_DIRTY_PAGES, X + (1ull << 48), PG, mem);
	ok &= expect("slot 4: logging, at X + 2^48", r, EINVAL);
	alias = r ? 0 : X + (1ull << 48);
	r = region(5, KVM_MEM_LOG_DIRTY_PAGES, X + lim, PG, mem + PG);
	ok &= expect("slot 5: logging, at X + the width", r, EINVAL);
	ok &= expect("slot 3: read-only file at X",
		     region(3, KVM_MEM_READONLY, X, PG, f), 0);
	KT_ASSERT_EQ(guest_op(OP_READ, X + 8, 0, &mmio), FILE_BYTE);
	if (alias)
		ok &= attack(4, alias, mem, f);
	if (!r)
		ok &= attack(5, X + lim, mem + PG, f);
	if (alias) /* the retry for ever of the issue comes after this */
		region(4, 0, alias, 0, mem);
	if (!r)
		region(5, 0, X + lim, 0, mem + PG);
	printf("the guest reads X: 0x%llx\n",
	       (unsigned long long)guest_op(OP_READ, X + 8, 0, &mmio));

	/* the same with a logging slot at the real top page */
	map_2m(top);
	ok &= expect("slot 4: logging, the top page",
		     region(4, KVM_MEM_LOG_DIRTY_PAGES, top, PG, mem), 0);
	guest_op(OP_WRITE, top + 16, 0x7a, &mmio);
	KT_ASSERT_EQ(mmio, 0);
	KT_ASSERT_EQ(mem[16], 0x7a);
	memset(&log, 0, sizeof(log));
	log.slot = 4;
	log.dirty_bitmap = bm;
	bm[0] = 0;
	KT_IOCTL(vmfd, KVM_GET_DIRTY_LOG, &log);
	printf("the guest wrote the top page; its log: 0x%llx\n",
	       (unsigned long long)bm[0]);
	ok &= expect("slot 4: logging off", region(4, 0, top, PG, mem), 0);
	guest_op(OP_WRITE, X + 8, 0x58, &mmio);
	printf("the guest writes X: %d MMIO exit(s); the file %s\n", mmio,
	       file_intact(f) ? "is intact" : "CHANGED");
	ok &= file_intact(f) && mmio == 1;
	guest_op(OP_WRITE, top + 24, 0x7b, &mmio);
	KT_ASSERT_EQ(mmio, 0);
	KT_ASSERT_EQ(mem[24], 0x7b);

	/* deleting either leaves the other as it was */
	ok &= expect("slot 4: deleted", region(4, 0, top, 0, mem), 0);
	printf("the guest reads X: 0x%llx\n",
	       (unsigned long long)guest_op(OP_READ, X + 8, 0, &mmio));
	v = guest_op(OP_READ, top + 16, 0, &mmio);
	printf("the guest reads the top page: 0x%llx, %d MMIO exit(s)\n",
	       (unsigned long long)v, mmio);
	ok &= expect("slot 4: logging, the top page again",
		     region(4, KVM_MEM_LOG_DIRTY_PAGES, top, PG, mem), 0);
	ok &= expect("slot 3: deleted", region(3, 0, X, 0, f), 0);
	printf("the guest reads the top page: 0x%llx\n",
	       (unsigned long long)guest_op(OP_READ, top + 16, 0, &mmio));
	v = guest_op(OP_READ, X + 8, 0, &mmio);
	printf("the guest reads X: 0x%llx, %d MMIO exit(s)\n",
	       (unsigned long long)v, mmio);
	guest_op(OP_WRITE, top + 32, 0x7c, &mmio);
	KT_ASSERT_EQ(mem[32], 0x7c);
	printf("the file %s\n", file_intact(f) ? "is intact" : "CHANGED");
	ok &= file_intact(f);

	*KT_GUEST_VAR(vcpu->vm, cmd.op) = OP_DONE;
	kt_expect_done(vcpu);
	KT_ASSERT(ok, "see the lines above");
	kt_pass();
}
