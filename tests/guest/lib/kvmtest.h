/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvmtest.h - shared host and guest helpers of the guest test suite.
 *
 * Theory.  Each test is one C file holding a guest payload and a host checker
 * that drives /dev/kvm through the raw ioctls and checks every exit.  The
 * host program is linked static and non-PIE at 0x400000, and its whole image
 * ([__executable_start, _end)) is copied into guest memory at the SAME guest
 * physical addresses; long-mode guests run on identity-mapped page tables, so
 * guest C code (and 32-bit asm, which is flat) can call functions and use
 * string literals exactly as linked.  Real-mode payloads are copied below 1 MiB
 * and address themselves with label differences.
 *
 * Guest memory layout (slot 0, KT_MAIN_SIZE bytes at GPA 0):
 *   0x00000  real-mode IVT            0x01000  GDT (built by the host)
 *   0x02000  IDT (guest-built)        0x08000  real-mode payload
 *   0x10000  page tables (PML4, PDPT, 8 PDs: identity map of 8 GiB, 2 MiB pages)
 *   0x3ff000 initial stack top        0x400000 the test image (identity)
 *
 * The guest reports through "ucalls": a 32-bit OUT of a command to KT_UCALL_PORT
 * with arguments in rdi, rsi, rdx (di/si/dx, edi/esi/edx in 16/32-bit code).
 * Port 0xE9 is a byte console whose lines the host copies to the transcript.
 * Everything printed on stdout is a transcript compared between drivers, so it
 * must only hold facts every correct KVM implementation agrees on.
 */
#ifndef KVMTEST_H
#define KVMTEST_H

#include <stdint.h>
#include <stddef.h>

#define KT_STR_(x) #x
#define KT_STR(x) KT_STR_(x)

/* Ports and ucall commands (shared by host and guest). */
#define KT_CONSOLE_PORT 0xe9
#define KT_UCALL_PORT 0xf1
#define UC_SYNC 1   /* a0 = stage, a1 = value, a2 = value */
#define UC_ASSERT 2 /* a0 = message (guest address), a1, a2 = values */
#define UC_DONE 3
#define UC_EXCEPTION \
	4 /* unexpected exception: a0 = vector, a1 = rip, a2 = error code */

/* Guest physical layout. */
#define KT_GDT_GPA 0x1000
#define KT_IDT_GPA 0x2000
#define KT_REAL_GPA 0x8000
#define KT_PT_GPA 0x10000
#define KT_STACK_TOP 0x3ff000
#define KT_STACK_ENTRY (KT_STACK_TOP - 8) /* rsp at a C function entry */
#define KT_MAIN_SIZE (32ull << 20)
#define KT_MAP_GIB 8

/* GDT selectors built by the host. */
#define KT_SEL_CODE64 0x08
#define KT_SEL_DATA 0x10
#define KT_SEL_CODE32 0x18
#define KT_SEL_CODE16 0x20
#define KT_SEL_DATA16 0x28

#define KT_EXIT_SKIP 77

#ifndef KT_GUEST_ONLY
#include <stdio.h>
#include <stdlib.h>
#include <linux/kvm.h>

/* ---------------------------------------------------------------- host -- */

struct kt_slot {
	int used;
	uint32_t flags;
	uint64_t gpa, size;
	void *hva;
};

#define KT_MAX_SLOTS 16
struct kt_vm {
	int kvm_fd, fd;
	int run_size;
	struct kt_slot slots[KT_MAX_SLOTS];
};

struct kt_vcpu {
	struct kt_vm *vm;
	int fd, id;
	struct kvm_run *run;
	char line[256]; /* console line being assembled */
	size_t line_len;
};

struct kt_ucall {
	uint32_t cmd;
	uint64_t args[3];
};

extern const char *kt_test_name;

/* Loud failures: print on stdout (the transcript) and stderr, exit 1. */
void kt_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 3, 4)));
void kt_skip(const char *fmt, ...)
	__attribute__((noreturn, format(printf, 1, 2)));

void kt_fail_cond(const char *file, int line, const char *cond, const char *fmt,
		  ...) __attribute__((noreturn, format(printf, 4, 5)));
#define KT_ASSERT(cond, ...)                                    \
	do {                                                    \
		if (!(cond))                                    \
			kt_fail_cond(__FILE__, __LINE__, #cond, \
				     " " __VA_ARGS__);          \
	} while (0)

// clang-format off
#define KT_ASSERT_EQ(a, b) do {						\
	unsigned long long a_ = (unsigned long long)(a);		\
	unsigned long long b_ = (unsigned long long)(b);		\
	if (a_ != b_)							\
		kt_fail(__FILE__, __LINE__, "%s == %s: 0x%llx != 0x%llx", #a, #b, a_, b_); \
} while (0)
// clang-format on

/* ioctl that must succeed. */
#define KT_IOCTL(fd, req, arg) \
	kt_ioctl_ok(__FILE__, __LINE__, #req, fd, req, arg)
long kt_ioctl_ok(const char *file, int line, const char *name, int fd,
		 unsigned long req, void *arg);

void kt_init(const char *name); /* sets up stdout buffering, names the test */
int kt_open_kvm(void);          /* open /dev/kvm or skip (77) */
struct kt_vm *kt_vm_create(void);
void *kt_mem_add(struct kt_vm *vm, int slot, uint64_t gpa, uint64_t size,
		 uint32_t flags);
void kt_mem_del(struct kt_vm *vm, int slot);
void *kt_gpa2hva(struct kt_vm *vm, uint64_t gpa);
void kt_load_image(struct kt_vm *vm);
void kt_load_blob(struct kt_vm *vm, uint64_t gpa, const void *start,
		  const void *end);
struct kt_vcpu *kt_vcpu_create(struct kt_vm *vm, int id);

/* A VM with slot 0 (KT_MAIN_SIZE at GPA 0), the image loaded, one vCPU. */
struct kt_vcpu *kt_create_default(void);

/* Standard CPUID table used by most tests (AuthenticAMD, LM, NX, SYSCALL). */
void kt_set_cpuid(struct kt_vcpu *vcpu, const struct kvm_cpuid_entry2 *e,
		  int n);
void kt_set_default_cpuid(struct kt_vcpu *vcpu);

/* Mode setup: write GDT/page tables into guest memory and set REGS/SREGS. */
void kt_setup_real(struct kt_vcpu *vcpu, uint16_t cs, uint16_t ip, uint16_t sp);
void kt_setup_prot(struct kt_vcpu *vcpu, uint32_t eip, uint32_t esp);
void kt_setup_long(struct kt_vcpu *vcpu, uint64_t rip, uint64_t rsp);
void kt_build_gdt(struct kt_vm *vm);
void kt_build_page_tables(struct kt_vm *vm);

void kt_get_regs(struct kt_vcpu *vcpu, struct kvm_regs *r);
void kt_set_regs(struct kt_vcpu *vcpu, struct kvm_regs *r);
void kt_get_sregs(struct kt_vcpu *vcpu, struct kvm_sregs *s);
void kt_set_sregs(struct kt_vcpu *vcpu, struct kvm_sregs *s);

/* KVM_RUN once; no console handling.  Returns the exit reason; fails if
 * KVM_RUN returns an error. */
uint32_t kt_run_raw(struct kt_vcpu *vcpu);
/* KVM_RUN until an exit that is not a console byte (checked and relayed). */
uint32_t kt_run(struct kt_vcpu *vcpu);
/* The current exit is a console byte: relay it (1), or not one (0). */
int kt_handle_console(struct kt_vcpu *vcpu);
/* Run and require a given exit reason. */
void kt_run_expect(struct kt_vcpu *vcpu, uint32_t reason);
/* Run and require a ucall; ASSERT and EXCEPTION ucalls fail the test. */
uint32_t kt_get_ucall(struct kt_vcpu *vcpu, struct kt_ucall *uc);
/* Decode the current exit (already run) as a ucall. */
uint32_t kt_decode_ucall(struct kt_vcpu *vcpu, struct kt_ucall *uc);
/* Run and require SYNC with this stage; returns the ucall. */
void kt_expect_sync(struct kt_vcpu *vcpu, uint64_t stage, struct kt_ucall *uc);
void kt_expect_done(struct kt_vcpu *vcpu);

/* Check the current exit is KVM_EXIT_IO with these fields; returns data. */
uint8_t *kt_check_io(struct kt_vcpu *vcpu, uint16_t port, uint8_t size,
		     uint8_t dir, uint32_t count);
const char *kt_exit_name(uint32_t reason);
void kt_dump_regs(struct kt_vcpu *vcpu, FILE *f);

/* Pass: print the closing transcript line and exit 0. */
void kt_pass(void) __attribute__((noreturn));
/*
 * xkvm's count of what it holds (/sys/module/xkvm/parameters/held: objects,
 * pages, pinned pages) into h: 1, or 0 where the driver publishes none.
 */
int kt_read_held(long long h[3]);

/* Host view of a guest global (the guest's copy in guest memory). */
#define KT_GUEST_VAR(vm, sym) \
	((__typeof__(&(sym)))kt_gpa2hva((vm), (uint64_t)(uintptr_t) & (sym)))

#endif /* !KT_GUEST_ONLY */

/* --------------------------------------------------------------- guest -- */
/* Inline helpers usable from 64-bit guest C code. */

static inline void guest_ucall(uint32_t cmd, uint64_t a0, uint64_t a1,
			       uint64_t a2)
{
	__asm__ volatile("outl %%eax, $" KT_STR(KT_UCALL_PORT)
			 :
			 : "a"(cmd), "D"(a0), "S"(a1), "d"(a2)
			 : "memory");
}

#define GUEST_SYNC(stage, a, b) \
	guest_ucall(UC_SYNC, (stage), (uint64_t)(a), (uint64_t)(b))
#define GUEST_DONE() guest_ucall(UC_DONE, 0, 0, 0)
/*
 * GUEST_SYNC(stage, 0, 0) as a string for extended inline asm, so that a
 * label can follow the OUT exactly (the address the guest resumes at).
 */
// clang-format off
#define KT_ASM_SYNC(stage)						\
	"mov $" #stage ", %%edi\n\txor %%esi, %%esi\n\t"		\
	"xor %%edx, %%edx\n\tmov $" KT_STR(UC_SYNC) ", %%eax\n\t"	\
	"out %%eax, $" KT_STR(KT_UCALL_PORT) "\n"
// clang-format on
#define KT_ASM_SYNC_CLOBBERS "rax", "rdi", "rsi", "rdx", "memory"
#define GUEST_ASSERT(cond)                                                     \
	do {                                                                   \
		if (!(cond))                                                   \
			guest_ucall(UC_ASSERT,                                 \
				    (uint64_t)(uintptr_t)(__FILE__ ":" KT_STR( \
					    __LINE__) ": " #cond),             \
				    0, 0);                                     \
	} while (0)
#define GUEST_ASSERT_EQ(a, b)                                                  \
	do {                                                                   \
		uint64_t ga_ = (uint64_t)(a), gb_ = (uint64_t)(b);             \
		if (ga_ != gb_)                                                \
			guest_ucall(UC_ASSERT,                                 \
				    (uint64_t)(uintptr_t)(__FILE__ ":" KT_STR( \
					    __LINE__) ": " #a " == " #b),      \
				    ga_, gb_);                                 \
	} while (0)

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint16_t inw(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void guest_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}

static inline uint64_t guest_rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return lo | ((uint64_t)hi << 32);
}

static inline void guest_wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr"
			 :
			 : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
			 : "memory");
}

static inline uint64_t guest_read_cr(int n)
{
	uint64_t v = 0;
	switch (n) {
	case 0:
		__asm__ volatile("mov %%cr0, %0" : "=r"(v));
		break;
	case 2:
		__asm__ volatile("mov %%cr2, %0" : "=r"(v));
		break;
	case 3:
		__asm__ volatile("mov %%cr3, %0" : "=r"(v));
		break;
	case 4:
		__asm__ volatile("mov %%cr4, %0" : "=r"(v));
		break;
	}
	return v;
}

static inline void guest_puts(const char *s)
{
	while (*s)
		outb(KT_CONSOLE_PORT, (uint8_t)*s++);
}

/* Exceptions in 64-bit guests (lib/guest64.c). */
struct guest_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss;
};

struct guest_exc_info {
	uint64_t vector; /* 0xff: none seen */
	uint64_t error_code;
	uint64_t cr2;
	uint64_t rip;
	uint64_t count;
};

typedef void (*guest_handler_t)(struct guest_frame *f);
extern volatile uint64_t guest_fixup;
extern volatile struct guest_exc_info guest_exc;
extern guest_handler_t guest_handlers[256];

void guest_idt_init(void); /* build and load the 64-bit IDT (256 vectors) */
void guest_idt_set_ist(int vector, int ist); /* after guest_idt_init */
void guest_hlt_forever(void) __attribute__((noreturn));
void guest_print_hex(uint64_t v);

/*
 * GUEST_TRY: an asm fragment that arms the fixup so that a fault in the
 * instruction(s) resumes at the end, with guest_exc describing the fault.
 * Use inside asm volatile(GUEST_TRY("insn") : ...).
 */
#define GUEST_TRY(insn)                         \
	"movq $1f, guest_fixup(%%rip)\n\t" insn \
	"\n1:\n\tmovq $0, guest_fixup(%%rip)\n\t"

static inline void guest_exc_reset(void)
{
	guest_exc.vector = 0xff;
	guest_exc.error_code = 0;
	guest_exc.cr2 = 0;
	guest_exc.rip = 0;
}

#endif /* KVMTEST_H */
