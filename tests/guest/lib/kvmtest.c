// SPDX-License-Identifier: GPL-2.0
/*
 * kvmtest.c - host side of the guest test suite: VM, memory slots, vCPUs,
 * mode setup through REGS/SREGS, the run loop with the console relay, and
 * the ucall decoder.  Every helper fails loudly (kt_fail) on anything it did
 * not expect, so a test never silently continues on a broken driver.
 */
#define _GNU_SOURCE
#include "kvmtest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

const char *kt_test_name = "?";

extern char __executable_start[], _end[];

void kt_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	char buf[1024];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	printf("FAIL %s: %s:%d: %s\n", kt_test_name, file, line, buf);
	fflush(stdout);
	fprintf(stderr, "FAIL %s: %s:%d: %s\n", kt_test_name, file, line, buf);
	exit(1);
}

void kt_fail_cond(const char *file, int line, const char *cond, const char *fmt,
		  ...)
{
	va_list ap;
	char buf[768];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	kt_fail(file, line, "assertion '%s' failed:%s", cond, buf);
}

void kt_skip(const char *fmt, ...)
{
	va_list ap;
	char buf[512];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	printf("SKIP %s: %s\n", kt_test_name, buf);
	fflush(stdout);
	exit(KT_EXIT_SKIP);
}

void kt_pass(void)
{
	printf("PASS %s\n", kt_test_name);
	fflush(stdout);
	exit(0);
}

void kt_init(const char *name)
{
	kt_test_name = name;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TEST %s\n", name);
}

long kt_ioctl_ok(const char *file, int line, const char *name, int fd,
		 unsigned long req, void *arg)
{
	long r = ioctl(fd, req, arg);

	if (r < 0)
		kt_fail(file, line, "ioctl %s failed: %s (errno %d)", name,
			strerror(errno), errno);
	return r;
}

int kt_open_kvm(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		kt_skip("cannot open /dev/kvm: %s", strerror(errno));
	return fd;
}

struct kt_vm *kt_vm_create(void)
{
	struct kt_vm *vm = calloc(1, sizeof(*vm));

	KT_ASSERT(vm != NULL);
	vm->kvm_fd = kt_open_kvm();
	KT_ASSERT_EQ(ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0), 12);
	vm->fd = (int)KT_IOCTL(vm->kvm_fd, KVM_CREATE_VM, (void *)0);
	vm->run_size = (int)KT_IOCTL(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, NULL);
	KT_ASSERT(vm->run_size >= (int)sizeof(struct kvm_run));
	/* KVM wants a TSS address on Intel; harmless elsewhere. */
	KT_IOCTL(vm->fd, KVM_SET_TSS_ADDR, (void *)0xfffbd000ul);
	return vm;
}

void *kt_mem_add(struct kt_vm *vm, int slot, uint64_t gpa, uint64_t size,
		 uint32_t flags)
{
	struct kvm_userspace_memory_region r;
	void *p;

	KT_ASSERT(slot >= 0 && slot < KT_MAX_SLOTS);
	KT_ASSERT(!vm->slots[slot].used, "slot %d in use", slot);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	KT_ASSERT(p != MAP_FAILED, "mmap %llu bytes", (unsigned long long)size);
	memset(&r, 0, sizeof(r));
	r.slot = (uint32_t)slot;
	r.flags = flags;
	r.guest_phys_addr = gpa;
	r.memory_size = size;
	r.userspace_addr = (uint64_t)(uintptr_t)p;
	KT_IOCTL(vm->fd, KVM_SET_USER_MEMORY_REGION, &r);
	vm->slots[slot] = (struct kt_slot){ 1, flags, gpa, size, p };
	return p;
}

void kt_mem_del(struct kt_vm *vm, int slot)
{
	struct kvm_userspace_memory_region r;
	struct kt_slot *s = &vm->slots[slot];

	KT_ASSERT(s->used, "slot %d not in use", slot);
	memset(&r, 0, sizeof(r));
	r.slot = (uint32_t)slot;
	r.guest_phys_addr = s->gpa;
	r.memory_size = 0;
	r.userspace_addr = (uint64_t)(uintptr_t)s->hva;
	KT_IOCTL(vm->fd, KVM_SET_USER_MEMORY_REGION, &r);
	munmap(s->hva, s->size);
	s->used = 0;
}

void *kt_gpa2hva(struct kt_vm *vm, uint64_t gpa)
{
	for (int i = 0; i < KT_MAX_SLOTS; i++) {
		struct kt_slot *s = &vm->slots[i];

		if (s->used && gpa >= s->gpa && gpa - s->gpa < s->size)
			return (char *)s->hva + (gpa - s->gpa);
	}
	kt_fail(__FILE__, __LINE__, "guest physical 0x%llx is in no slot",
		(unsigned long long)gpa);
}

void kt_load_blob(struct kt_vm *vm, uint64_t gpa, const void *start,
		  const void *end)
{
	size_t n = (size_t)((const char *)end - (const char *)start);

	kt_gpa2hva(vm, gpa + n - 1); /* bounds check */
	memcpy(kt_gpa2hva(vm, gpa), start, n);
}

void kt_load_image(struct kt_vm *vm)
{
	uintptr_t s = (uintptr_t)__executable_start & ~0xfffull;
	uintptr_t e = ((uintptr_t)_end + 0xfff) & ~0xfffull;

	KT_ASSERT(e < KT_MAIN_SIZE, "image too large for slot 0");
	/* Copy page by page: the holes between segments are not mapped. */
	for (uintptr_t p = s; p < e; p += 4096) {
		if (msync((void *)p, 4096, MS_ASYNC) == 0)
			memcpy(kt_gpa2hva(vm, p), (void *)p, 4096);
	}
}

struct kt_vcpu *kt_vcpu_create(struct kt_vm *vm, int id)
{
	struct kt_vcpu *v = calloc(1, sizeof(*v));

	KT_ASSERT(v != NULL);
	v->vm = vm;
	v->id = id;
	v->fd = (int)KT_IOCTL(vm->fd, KVM_CREATE_VCPU, (void *)(uintptr_t)id);
	v->run = mmap(NULL, (size_t)vm->run_size, PROT_READ | PROT_WRITE,
		      MAP_SHARED, v->fd, 0);
	KT_ASSERT(v->run != MAP_FAILED, "mmap kvm_run");
	return v;
}

struct kt_vcpu *kt_create_default(void)
{
	struct kt_vm *vm = kt_vm_create();
	struct kt_vcpu *v;

	/* slot 0's host memory stays reachable through vm->slots[0] */
	void *main_mem = kt_mem_add(vm, 0, 0, KT_MAIN_SIZE, 0);

	KT_ASSERT(main_mem != NULL);
	kt_load_image(vm);
	v = kt_vcpu_create(vm, 0);
	kt_set_default_cpuid(v);
	return v;
}

void kt_set_cpuid(struct kt_vcpu *vcpu, const struct kvm_cpuid_entry2 *e, int n)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + (size_t)n * sizeof(*e));

	KT_ASSERT(c != NULL);
	c->nent = (uint32_t)n;
	memcpy(c->entries, e, (size_t)n * sizeof(*e));
	KT_IOCTL(vcpu->fd, KVM_SET_CPUID2, c);
	free(c);
}

/* "AuthenticAMD" as three registers (ebx, edx, ecx). */
#define AMD_EBX 0x68747541
#define AMD_EDX 0x69746e65
#define AMD_ECX 0x444d4163

void kt_set_default_cpuid(struct kt_vcpu *vcpu)
{
	const struct kvm_cpuid_entry2 e[] = {
		{ .function = 0,
		  .eax = 1,
		  .ebx = AMD_EBX,
		  .ecx = AMD_ECX,
		  .edx = AMD_EDX },
		/* family 0x17; FPU TSC MSR PAE CX8 SEP PGE CMOV PAT PSE FXSR SSE SSE2 */
		{ .function = 1,
		  .eax = 0x00800f12,
		  .ecx = 0x00000001,
		  .edx = (1u << 0) | (1u << 3) | (1u << 4) | (1u << 5) |
			 (1u << 6) | (1u << 8) | (1u << 11) | (1u << 13) |
			 (1u << 15) | (1u << 16) | (1u << 24) | (1u << 25) |
			 (1u << 26) },
		{ .function = 0x80000000,
		  .eax = 0x80000008,
		  .ebx = AMD_EBX,
		  .ecx = AMD_ECX,
		  .edx = AMD_EDX },
		/* LM, NX, SYSCALL */
		{ .function = 0x80000001,
		  .eax = 0x00800f12,
		  .edx = (1u << 29) | (1u << 20) | (1u << 11) },
		{ .function = 0x80000008, .eax = 0x3028 },
	};

	kt_set_cpuid(vcpu, e, (int)(sizeof(e) / sizeof(e[0])));
}

static void put_desc(uint64_t *gdt, int sel, uint32_t base, uint32_t limit,
		     uint8_t access, uint8_t flags)
{
	gdt[sel / 8] = (uint64_t)(limit & 0xffff) |
		       ((uint64_t)(base & 0xffffff) << 16) |
		       ((uint64_t)access << 40) |
		       ((uint64_t)((limit >> 16) & 0xf) << 48) |
		       ((uint64_t)(flags & 0xf) << 52) |
		       ((uint64_t)(base >> 24) << 56);
}

void kt_build_gdt(struct kt_vm *vm)
{
	uint64_t *gdt = kt_gpa2hva(vm, KT_GDT_GPA);

	memset(gdt, 0, 0x100);
	/* flags nibble: G(8) D/B(4) L(2) */
	put_desc(gdt, KT_SEL_CODE64, 0, 0xfffff, 0x9b, 0xa);
	put_desc(gdt, KT_SEL_DATA, 0, 0xfffff, 0x93, 0xc);
	put_desc(gdt, KT_SEL_CODE32, 0, 0xfffff, 0x9b, 0xc);
	put_desc(gdt, KT_SEL_CODE16, 0, 0xffff, 0x9b, 0x0);
	put_desc(gdt, KT_SEL_DATA16, 0, 0xffff, 0x93, 0x0);
}

void kt_build_page_tables(struct kt_vm *vm)
{
	uint64_t *pml4 = kt_gpa2hva(vm, KT_PT_GPA);
	uint64_t *pdpt = kt_gpa2hva(vm, KT_PT_GPA + 0x1000);

	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = (KT_PT_GPA + 0x1000) | 3;
	for (uint64_t g = 0; g < KT_MAP_GIB; g++) {
		uint64_t pd_gpa = KT_PT_GPA + 0x2000 + g * 0x1000;
		uint64_t *pd = kt_gpa2hva(vm, pd_gpa);

		pdpt[g] = pd_gpa | 3;
		for (uint64_t i = 0; i < 512; i++)
			pd[i] = ((g << 30) | (i << 21)) | 0x83; /* P RW PS */
	}
}

static struct kvm_segment seg(uint16_t sel, uint64_t base, uint32_t limit,
			      uint8_t type, uint8_t db, uint8_t l, uint8_t g)
{
	struct kvm_segment s;

	memset(&s, 0, sizeof(s));
	s.base = base;
	s.limit = limit;
	s.selector = sel;
	s.type = type;
	s.present = 1;
	s.dpl = 0;
	s.db = db;
	s.s = 1;
	s.l = l;
	s.g = g;
	return s;
}

static void set_data_segs(struct kvm_sregs *s, struct kvm_segment d)
{
	s->ds = s->es = s->fs = s->gs = s->ss = d;
}

static void set_entry(struct kt_vcpu *vcpu, uint64_t ip, uint64_t sp)
{
	struct kvm_regs r;

	memset(&r, 0, sizeof(r));
	r.rip = ip;
	r.rsp = sp;
	r.rflags = 2;
	kt_set_regs(vcpu, &r);
}

void kt_setup_real(struct kt_vcpu *vcpu, uint16_t cs, uint16_t ip, uint16_t sp)
{
	struct kvm_sregs s;

	kt_get_sregs(vcpu, &s);
	s.cs = seg(cs, (uint64_t)cs << 4, 0xffff, 0xb, 0, 0, 0);
	set_data_segs(&s, seg(0, 0, 0xffff, 0x3, 0, 0, 0));
	s.cr0 = 0x60000010;
	s.cr4 = 0;
	s.efer = 0;
	s.idt.base = 0;
	s.idt.limit = 0x3ff;
	kt_set_sregs(vcpu, &s);
	set_entry(vcpu, ip, sp);
}

void kt_setup_prot(struct kt_vcpu *vcpu, uint32_t eip, uint32_t esp)
{
	struct kvm_sregs s;

	kt_build_gdt(vcpu->vm);
	kt_get_sregs(vcpu, &s);
	s.cs = seg(KT_SEL_CODE32, 0, 0xffffffff, 0xb, 1, 0, 1);
	set_data_segs(&s, seg(KT_SEL_DATA, 0, 0xffffffff, 0x3, 1, 0, 1));
	s.gdt.base = KT_GDT_GPA;
	s.gdt.limit = 0xff;
	s.idt.base = 0;
	s.idt.limit = 0;
	s.cr0 = 0x11; /* PE ET */
	s.cr4 = 0;
	s.efer = 0;
	kt_set_sregs(vcpu, &s);
	set_entry(vcpu, eip, esp);
}

void kt_setup_long(struct kt_vcpu *vcpu, uint64_t rip, uint64_t rsp)
{
	struct kvm_sregs s;

	kt_build_gdt(vcpu->vm);
	kt_build_page_tables(vcpu->vm);
	kt_get_sregs(vcpu, &s);
	s.cs = seg(KT_SEL_CODE64, 0, 0xffffffff, 0xb, 0, 1, 1);
	set_data_segs(&s, seg(KT_SEL_DATA, 0, 0xffffffff, 0x3, 1, 0, 1));
	s.gdt.base = KT_GDT_GPA;
	s.gdt.limit = 0xff;
	s.idt.base = 0;
	s.idt.limit = 0;
	s.cr0 = 0x80050033; /* PG WP NE ET MP PE */
	s.cr3 = KT_PT_GPA;
	s.cr4 = 0x620;  /* OSXMMEXCPT OSFXSR PAE */
	s.efer = 0x500; /* LMA LME */
	kt_set_sregs(vcpu, &s);
	set_entry(vcpu, rip, rsp);
}

void kt_get_regs(struct kt_vcpu *v, struct kvm_regs *r)
{
	KT_IOCTL(v->fd, KVM_GET_REGS, r);
}
void kt_set_regs(struct kt_vcpu *v, struct kvm_regs *r)
{
	KT_IOCTL(v->fd, KVM_SET_REGS, r);
}
void kt_get_sregs(struct kt_vcpu *v, struct kvm_sregs *s)
{
	KT_IOCTL(v->fd, KVM_GET_SREGS, s);
}
void kt_set_sregs(struct kt_vcpu *v, struct kvm_sregs *s)
{
	KT_IOCTL(v->fd, KVM_SET_SREGS, s);
}

const char *kt_exit_name(uint32_t r)
{
	static const char *names[] = {
		[KVM_EXIT_UNKNOWN] = "UNKNOWN",
		[KVM_EXIT_EXCEPTION] = "EXCEPTION",
		[KVM_EXIT_IO] = "IO",
		[KVM_EXIT_HYPERCALL] = "HYPERCALL",
		[KVM_EXIT_DEBUG] = "DEBUG",
		[KVM_EXIT_HLT] = "HLT",
		[KVM_EXIT_MMIO] = "MMIO",
		[KVM_EXIT_IRQ_WINDOW_OPEN] = "IRQ_WINDOW_OPEN",
		[KVM_EXIT_SHUTDOWN] = "SHUTDOWN",
		[KVM_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
		[KVM_EXIT_INTR] = "INTR",
		[KVM_EXIT_SET_TPR] = "SET_TPR",
		[KVM_EXIT_TPR_ACCESS] = "TPR_ACCESS",
		[KVM_EXIT_NMI] = "NMI",
		[KVM_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
		[KVM_EXIT_SYSTEM_EVENT] = "SYSTEM_EVENT",
	};

	if (r < sizeof(names) / sizeof(names[0]) && names[r])
		return names[r];
	return "?";
}

void kt_dump_regs(struct kt_vcpu *vcpu, FILE *f)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &r) < 0 ||
	    ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0) {
		fprintf(f, "  (cannot read registers)\n");
		return;
	}
	fprintf(f,
		"  rip=%llx rsp=%llx rflags=%llx rax=%llx rbx=%llx rcx=%llx rdx=%llx\n"
		"  rsi=%llx rdi=%llx cr0=%llx cr3=%llx cr4=%llx efer=%llx cs=%x\n",
		r.rip, r.rsp, r.rflags, r.rax, r.rbx, r.rcx, r.rdx, r.rsi,
		r.rdi, s.cr0, s.cr3, s.cr4, s.efer, s.cs.selector);
	if (vcpu->run->exit_reason == KVM_EXIT_INTERNAL_ERROR) {
		struct kvm_run *run = vcpu->run;
		uint32_t i, n = run->internal.ndata;

		fprintf(f, "  internal error: suberror %u, %u data:",
			run->internal.suberror, n);
		for (i = 0; i < n && i < 16; i++)
			fprintf(f, " %llx",
				(unsigned long long)run->internal.data[i]);
		fprintf(f, "\n");
	}
}

uint32_t kt_run_raw(struct kt_vcpu *vcpu)
{
	if (ioctl(vcpu->fd, KVM_RUN, NULL) < 0) {
		int e = errno;

		kt_dump_regs(vcpu, stderr);
		kt_fail(__FILE__, __LINE__,
			"KVM_RUN failed: %s (errno %d), exit_reason %u",
			strerror(e), e, vcpu->run->exit_reason);
	}
	return vcpu->run->exit_reason;
}

uint8_t *kt_check_io(struct kt_vcpu *vcpu, uint16_t port, uint8_t size,
		     uint8_t dir, uint32_t count)
{
	struct kvm_run *run = vcpu->run;

	if (run->exit_reason != KVM_EXIT_IO)
		kt_fail(__FILE__, __LINE__,
			"expected IO exit (port 0x%x), got %s (%u)", port,
			kt_exit_name(run->exit_reason), run->exit_reason);
	if (run->io.port != port || run->io.size != size ||
	    run->io.direction != dir || run->io.count != count)
		kt_fail(__FILE__, __LINE__,
			"IO exit mismatch: port 0x%x size %u dir %u count %u, "
			"expected port 0x%x size %u dir %u count %u",
			run->io.port, run->io.size, run->io.direction,
			run->io.count, port, size, dir, count);
	return (uint8_t *)run + run->io.data_offset;
}

static void console_bytes(struct kt_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *d = (uint8_t *)run + run->io.data_offset;

	KT_ASSERT(run->io.size == 1 && run->io.direction == KVM_EXIT_IO_OUT,
		  "console port 0x%x: size %u dir %u", run->io.port,
		  run->io.size, run->io.direction);
	KT_ASSERT(run->io.count >= 1 && run->io.data_offset >= 4096 - 1 &&
			  run->io.data_offset + run->io.count <=
				  (uint32_t)vcpu->vm->run_size,
		  "console count %u data_offset %llu", run->io.count,
		  (unsigned long long)run->io.data_offset);
	for (uint32_t i = 0; i < run->io.count; i++) {
		char c = (char)d[i];

		if (c == '\n' || vcpu->line_len == sizeof(vcpu->line) - 1) {
			vcpu->line[vcpu->line_len] = 0;
			printf("guest: %s\n", vcpu->line);
			vcpu->line_len = 0;
			if (c == '\n')
				continue;
		}
		vcpu->line[vcpu->line_len++] = c;
	}
}

int kt_handle_console(struct kt_vcpu *vcpu)
{
	if (vcpu->run->exit_reason != KVM_EXIT_IO ||
	    vcpu->run->io.port != KT_CONSOLE_PORT)
		return 0;
	console_bytes(vcpu);
	return 1;
}

uint32_t kt_run(struct kt_vcpu *vcpu)
{
	for (;;) {
		uint32_t r = kt_run_raw(vcpu);

		if (r == KVM_EXIT_IO && vcpu->run->io.port == KT_CONSOLE_PORT) {
			console_bytes(vcpu);
			continue;
		}
		return r;
	}
}

void kt_run_expect(struct kt_vcpu *vcpu, uint32_t reason)
{
	uint32_t r = kt_run(vcpu);

	if (r != reason) {
		kt_dump_regs(vcpu, stderr);
		if (r == KVM_EXIT_IO)
			fprintf(stderr,
				"  io: port 0x%x size %u dir %u count %u\n",
				vcpu->run->io.port, vcpu->run->io.size,
				vcpu->run->io.direction, vcpu->run->io.count);
		kt_fail(__FILE__, __LINE__, "expected exit %s, got %s (%u)",
			kt_exit_name(reason), kt_exit_name(r), r);
	}
}

static void guest_string(struct kt_vcpu *vcpu, uint64_t gva, char *buf,
			 size_t n)
{
	size_t i;

	/* Strings live in the identity-mapped image: gva == gpa. */
	for (i = 0; i + 1 < n; i++) {
		char c = *(char *)kt_gpa2hva(vcpu->vm, gva + i);

		if (!c)
			break;
		buf[i] = c;
	}
	buf[i] = 0;
}

uint32_t kt_get_ucall(struct kt_vcpu *vcpu, struct kt_ucall *uc)
{
	kt_run(vcpu);
	return kt_decode_ucall(vcpu, uc);
}

uint32_t kt_decode_ucall(struct kt_vcpu *vcpu, struct kt_ucall *uc)
{
	struct kvm_regs r;
	uint8_t *d;
	uint32_t r_exit = vcpu->run->exit_reason;
	char msg[256];

	if (r_exit != KVM_EXIT_IO || vcpu->run->io.port != KT_UCALL_PORT) {
		kt_dump_regs(vcpu, stderr);
		if (r_exit == KVM_EXIT_IO)
			kt_fail(__FILE__, __LINE__,
				"expected ucall, got IO port 0x%x size %u dir %u",
				vcpu->run->io.port, vcpu->run->io.size,
				vcpu->run->io.direction);
		kt_fail(__FILE__, __LINE__, "expected ucall, got exit %s (%u)",
			kt_exit_name(r_exit), r_exit);
	}
	d = kt_check_io(vcpu, KT_UCALL_PORT, 4, KVM_EXIT_IO_OUT, 1);
	kt_get_regs(vcpu, &r);
	memcpy(&uc->cmd, d, 4);
	uc->args[0] = r.rdi;
	uc->args[1] = r.rsi;
	uc->args[2] = r.rdx;
	KT_ASSERT_EQ(uc->cmd, (uint32_t)r.rax);
	switch (uc->cmd) {
	case UC_SYNC:
	case UC_DONE:
		return uc->cmd;
	case UC_ASSERT:
		if (uc->args[0] <
		    0x10000) /* asm payloads pass a check number */
			snprintf(msg, sizeof(msg), "asm check #%llu",
				 (unsigned long long)uc->args[0]);
		else
			guest_string(vcpu, uc->args[0], msg, sizeof(msg));
		kt_fail(__FILE__, __LINE__,
			"GUEST_ASSERT: %s (values 0x%llx, 0x%llx)", msg,
			(unsigned long long)uc->args[1],
			(unsigned long long)uc->args[2]);
	case UC_EXCEPTION:
		kt_fail(__FILE__, __LINE__,
			"unexpected guest exception vector %llu at rip 0x%llx error code 0x%llx",
			(unsigned long long)uc->args[0],
			(unsigned long long)uc->args[1],
			(unsigned long long)uc->args[2]);
	default:
		kt_fail(__FILE__, __LINE__, "unknown ucall %u", uc->cmd);
	}
}

void kt_expect_sync(struct kt_vcpu *vcpu, uint64_t stage, struct kt_ucall *uc)
{
	struct kt_ucall tmp;

	if (!uc)
		uc = &tmp;
	if (kt_get_ucall(vcpu, uc) != UC_SYNC)
		kt_fail(__FILE__, __LINE__,
			"expected GUEST_SYNC(%llu), got ucall %u",
			(unsigned long long)stage, uc->cmd);
	if (uc->args[0] != stage)
		kt_fail(__FILE__, __LINE__,
			"expected GUEST_SYNC stage %llu, got %llu",
			(unsigned long long)stage,
			(unsigned long long)uc->args[0]);
}

void kt_expect_done(struct kt_vcpu *vcpu)
{
	struct kt_ucall uc;

	if (kt_get_ucall(vcpu, &uc) != UC_DONE)
		kt_fail(__FILE__, __LINE__,
			"expected GUEST_DONE, got ucall %u stage %llu", uc.cmd,
			(unsigned long long)uc.args[0]);
	printf("guest done\n");
}

int kt_read_held(long long h[3])
{
	FILE *f = fopen("/sys/module/xkvm/parameters/held", "r");
	int n;

	if (!f)
		return 0;
	n = fscanf(f, "objects %lld pages %lld pinned %lld", &h[0], &h[1],
		   &h[2]);
	fclose(f);
	KT_ASSERT(n == 3, "cannot parse the driver's held counts");
	return 1;
}
