// SPDX-License-Identifier: GPL-2.0
/*
 * lib_fx.c - the fixtures of fx.h.
 */
#include <stdint.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "fx.h"

static void fx_cleanup(void *arg);

void fx_check_fake(void)
{
	const char *e = fake_error();

	if (e) {
		char m[512];

		strncpy(m, e, sizeof(m) - 1);
		m[sizeof(m) - 1] = 0;
		fake_clear_error();
		XT_FAIL("fake backend: %s", m);
	}
}

static void free_pages(void *p)
{
	free(p);
}

static void *pages(u64 npages)
{
	void *p = NULL;

	if (posix_memalign(&p, XK_PAGE_SIZE, npages * XK_PAGE_SIZE))
		XT_FAIL("out of memory for %llu pages",
			(unsigned long long)npages);
	memset(p, 0, npages * XK_PAGE_SIZE);
	return p;
}

void *fx_alloc_pages(u64 npages)
{
	void *p = pages(npages);

	xt_cleanup(free_pages, p);
	return p;
}

static struct fx *fx_alloc(void)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		XT_FAIL("out of memory");
	fake_install();
	fake_clear_error();
	xt_cleanup(fx_cleanup, f);
	return f;
}

struct fx *fx_new_vm(void)
{
	struct fx *f = fx_alloc();
	int r = xk_vm_create(0, &f->vm);

	if (r)
		XT_FAIL("xk_vm_create: %d", r);
	return f;
}

struct fx *fx_new(void)
{
	struct fx *f = fx_new_vm();
	int r = xk_vcpu_create(f->vm, 0, &f->v);

	if (r)
		XT_FAIL("xk_vcpu_create: %d", r);
	xk_vm_get(f->vm); /* the vCPU file's reference, as the glue takes */
	f->run = f->v->run;
	return f;
}

static void fx_teardown(struct fx *f)
{
	if (f->dead)
		return;
	f->dead = true;
	if (f->vm) {
		if (f->v)
			xk_vm_put(f->vm); /* the vCPU file */
		xk_vm_put(f->vm);         /* the VM file */
	}
}

static void fx_cleanup(void *arg)
{
	struct fx *f = arg;
	unsigned int i;

	fx_teardown(f); /* the VM goes before the memory it pinned */
	for (i = 0; i < f->nmem; i++)
		free(f->mem[i].host);
	free(f);
	fx_check_fake();
}

void fx_destroy(struct fx *f)
{
	xt_cleanup_cancel(fx_cleanup, f);
	fx_cleanup(f);
}

long fx_vm_ioctl(struct fx *f, unsigned int cmd, const void *arg)
{
	return xk_vm_ioctl(f->vm, cmd, (u64)(uintptr_t)arg);
}

long fx_vcpu_ioctl(struct fx *f, unsigned int cmd, const void *arg)
{
	return xk_vcpu_ioctl(f->v, cmd, (u64)(uintptr_t)arg);
}

long fx_set_region(struct fx *f, u32 slot, u32 flags, u64 gpa, u64 size,
		   u64 uaddr)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = uaddr,
	};

	return fx_vm_ioctl(f, KVM_SET_USER_MEMORY_REGION, &r);
}

u8 *fx_mem(struct fx *f, u32 slot, u64 gpa, u64 npages, u32 flags)
{
	u8 *host;
	long r;

	if (f->nmem == FX_MAX_MEM)
		XT_FAIL("too many fx_mem slots");
	host = pages(npages);
	r = fx_set_region(f, slot, flags, gpa, npages * XK_PAGE_SIZE,
			  (u64)(uintptr_t)host);
	if (r) {
		free(host);
		XT_FAIL("KVM_SET_USER_MEMORY_REGION slot %u gpa %#llx: %ld",
			slot, (unsigned long long)gpa, r);
	}
	f->mem[f->nmem].slot = slot;
	f->mem[f->nmem].gpa = gpa;
	f->mem[f->nmem].npages = npages;
	f->mem[f->nmem].host = host;
	f->nmem++;
	return host;
}

void *fx_gpa(struct fx *f, u64 gpa)
{
	unsigned int i;

	for (i = 0; i < f->nmem; i++) {
		struct fx_mem *m = &f->mem[i];

		if (gpa >= m->gpa && gpa - m->gpa < m->npages * XK_PAGE_SIZE)
			return m->host + (gpa - m->gpa);
	}
	XT_FAIL("gpa %#llx is in no fx slot", (unsigned long long)gpa);
}

void fx_poke(struct fx *f, u64 gpa, const void *bytes, size_t n)
{
	u8 *p = fx_gpa(f, gpa);

	(void)fx_gpa(f, gpa + n - 1);
	memcpy(p, bytes, n);
}

void fx_get_regs(struct fx *f, struct kvm_regs *r)
{
	long e = fx_vcpu_ioctl(f, KVM_GET_REGS, r);

	if (e)
		XT_FAIL("KVM_GET_REGS: %ld", e);
}

void fx_set_regs(struct fx *f, const struct kvm_regs *r)
{
	long e = fx_vcpu_ioctl(f, KVM_SET_REGS, r);

	if (e)
		XT_FAIL("KVM_SET_REGS: %ld", e);
}

void fx_get_sregs(struct fx *f, struct kvm_sregs *s)
{
	long e = fx_vcpu_ioctl(f, KVM_GET_SREGS, s);

	if (e)
		XT_FAIL("KVM_GET_SREGS: %ld", e);
}

void fx_set_sregs(struct fx *f, const struct kvm_sregs *s)
{
	long e = fx_vcpu_ioctl(f, KVM_SET_SREGS, s);

	if (e)
		XT_FAIL("KVM_SET_SREGS: %ld", e);
}

u64 fx_rip(struct fx *f)
{
	struct kvm_regs r;

	fx_get_regs(f, &r);
	return r.rip;
}

void fx_set_rip(struct fx *f, u64 rip)
{
	struct kvm_regs r;

	fx_get_regs(f, &r);
	r.rip = rip;
	fx_set_regs(f, &r);
}

static void seg(struct kvm_segment *s, u16 sel, u64 base, u32 limit, u8 type,
		bool db, bool l, bool g)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->base = base;
	s->limit = limit;
	s->type = type;
	s->s = 1;
	s->present = 1;
	s->db = db;
	s->l = l;
	s->g = g;
}

static void set_rip_flags(struct fx *f, u64 rip)
{
	struct kvm_regs r;

	fx_get_regs(f, &r);
	r.rip = rip;
	r.rflags = XK_RFLAGS_FIXED;
	fx_set_regs(f, &r);
}

void fx_real_mode(struct fx *f, u64 rip)
{
	struct kvm_sregs s;

	fx_get_sregs(f, &s);
	seg(&s.cs, 0, 0, 0xffff, 0xb, false, false, false);
	seg(&s.ds, 0, 0, 0xffff, 0x3, false, false, false);
	s.es = s.fs = s.gs = s.ss = s.ds;
	s.cr0 = XK_CR0_ET;
	s.cr4 = 0;
	s.efer = 0;
	fx_set_sregs(f, &s);
	set_rip_flags(f, rip);
}

void fx_prot32(struct fx *f, u64 rip)
{
	struct kvm_sregs s;

	fx_get_sregs(f, &s);
	seg(&s.cs, 0x08, 0, 0xffffffff, 0xb, true, false, true);
	seg(&s.ds, 0x10, 0, 0xffffffff, 0x3, true, false, true);
	s.es = s.fs = s.gs = s.ss = s.ds;
	s.cr0 = XK_CR0_ET | XK_CR0_PE;
	s.cr4 = 0;
	s.efer = 0;
	fx_set_sregs(f, &s);
	set_rip_flags(f, rip);
}

void fx_long64(struct fx *f, u64 cr3, u64 rip)
{
	/* long mode needs LM in the guest's CPUID (KVM_SET_SREGS checks) */
	static const struct kvm_cpuid_entry2 lm[] = {
		{ .function = 0x80000000, .eax = 0x80000001 },
		{ .function = 0x80000001,
		  .edx = CPUID_80000001_EDX_LM | CPUID_80000001_EDX_NX |
			 CPUID_80000001_EDX_SYSCALL },
	};
	struct kvm_sregs s;

	if (!f->v->ncpuid && fx_set_cpuid(f, lm, XK_ARRAY_SIZE(lm)))
		XT_FAIL("KVM_SET_CPUID2 for long mode");
	fx_get_sregs(f, &s);
	seg(&s.cs, 0x08, 0, 0xffffffff, 0xb, false, true, true);
	seg(&s.ds, 0x10, 0, 0xffffffff, 0x3, true, false, true);
	s.es = s.fs = s.gs = s.ss = s.ds;
	s.cr0 = XK_CR0_ET | XK_CR0_PE | XK_CR0_PG | XK_CR0_WP;
	s.cr3 = cr3;
	s.cr4 = XK_CR4_PAE;
	s.efer = XK_EFER_LME | XK_EFER_LMA | XK_EFER_SCE;
	fx_set_sregs(f, &s);
	set_rip_flags(f, rip);
}

static u64 pt_alloc(struct fx *f)
{
	u64 gpa = f->pt_next;

	if (gpa >= f->pt_end)
		XT_FAIL("page-table pool exhausted");
	f->pt_next += XK_PAGE_SIZE;
	memset(fx_gpa(f, gpa), 0, XK_PAGE_SIZE);
	return gpa;
}

u64 fx_pt_init(struct fx *f, u64 pool_gpa, u64 npages)
{
	f->pt_next = pool_gpa;
	f->pt_end = pool_gpa + npages * XK_PAGE_SIZE;
	(void)fx_gpa(f, f->pt_end - 1);
	return pt_alloc(f);
}

void fx_pt_map(struct fx *f, u64 cr3, u64 la, u64 gpa, u64 flags)
{
	u64 table = cr3 & XK_PAGE_MASK;
	int level;

	for (level = 4; level > 1; level--) {
		u64 *e = (u64 *)fx_gpa(f, table) +
			 ((la >> (12 + 9 * (level - 1))) & 511);

		if (!(*e & 1))
			*e = pt_alloc(f) | 0x7;
		table = *e & 0x000ffffffffff000ULL;
	}
	((u64 *)fx_gpa(f, table))[(la >> 12) & 511] = (gpa & XK_PAGE_MASK) |
						      0x7 | flags;
}

void fx_script(struct fx *f, const struct fake_step *steps, unsigned int n)
{
	if (fake_set_script(f->v, steps, n))
		XT_FAIL("fake_set_script failed");
}

long fx_run(struct fx *f)
{
	long r = fx_vcpu_ioctl(f, KVM_RUN, NULL);

	fx_check_fake();
	return r;
}

void fx_run_expect(struct fx *f, u32 exit_reason)
{
	long r = fx_run(f);

	if (r != 0)
		XT_FAIL("KVM_RUN returned %ld, want 0 (exit %u)", r,
			f->run->exit_reason);
	if (f->run->exit_reason != exit_reason)
		XT_FAIL("exit reason %u, want %u (suberror %u, hw %#llx)",
			f->run->exit_reason, exit_reason,
			f->run->internal.suberror,
			(unsigned long long)f->run->hw.hardware_exit_reason);
}

void fx_run_to_end(struct fx *f)
{
	fx_run_expect(f, KVM_EXIT_UNKNOWN);
	if (f->run->hw.hardware_exit_reason != FAKE_HW_END)
		XT_FAIL("KVM_EXIT_UNKNOWN but not the end of the script");
}

u8 *fx_io_data(struct fx *f)
{
	u64 off = f->run->io.data_offset;
	u8 *page = xk_vcpu_mmap_page(f->v, off >> XK_PAGE_SHIFT);

	if (!page)
		XT_FAIL("io.data_offset %#llx outside the vCPU mmap",
			(unsigned long long)off);
	return page + (off & ~XK_PAGE_MASK);
}

long fx_set_cpuid(struct fx *f, const struct kvm_cpuid_entry2 *e,
		  unsigned int n)
{
	static struct fx_cpuid c;

	memset(&c, 0, sizeof(c));
	if (n > XK_ARRAY_SIZE(c.e))
		XT_FAIL("too many CPUID entries");
	c.hdr.nent = n;
	if (n)
		memcpy(c.e, e, n * sizeof(*e));
	return fx_vcpu_ioctl(f, KVM_SET_CPUID2, &c);
}

static void close_fd(void *arg)
{
	close((int)(intptr_t)arg);
}

void fx_close_later(int fd)
{
	xt_cleanup(close_fd, (void *)(intptr_t)fd);
}

int fx_eventfd(void)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	XT_ASSERT(fd >= 0);
	fx_close_later(fd);
	return fd;
}

u64 fx_eventfd_count(int fd)
{
	u64 n = 0;

	if (read(fd, &n, sizeof(n)) != (ssize_t)sizeof(n)) {
		XT_EQ(errno, EAGAIN);
		return 0;
	}
	return n;
}
