// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_ioctl.c - libFuzzer target for the ioctl layer and everything
 * behind it (slots, the run loop, the emulators), on the fake backend.
 *
 * Each input is a program for a VMM: a VM with vCPU 0 is created, then
 * the input's operations run in turn: ioctls on /dev/kvm, the VM or a
 * vCPU with known or random numbers and argument bytes, writes to the
 * VMM's memory (guest memory, page tables, ioctl arguments), a script of
 * exits for the fake backend, kvm_run fields, signals, allocation
 * failures, structured memory regions, special registers and CPUID
 * tables.  At the end the VM is released and everything the driver holds
 * must be back where it was, no atomic context left, and the fake backend
 * must have seen no rule broken; otherwise the target aborts, which
 * libFuzzer reports as a crash (as it does ASan and UBSan findings).
 *
 * The VMM's address space is one arena: host/user's user window makes
 * every copy or pin outside it fail with -EFAULT, so a pointer the fuzzer
 * invents is never dereferenced.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fakes/fake_vendor.h"
#include "host_user.h"

#define PG 4096u
#define ARENA_PAGES 64u
#define GUEST_PAGES 48u /* pages [0, 48) usually become guest memory */
#define ARG_OFF (GUEST_PAGES * PG)
#define MAX_OPS 96

static u8 *arena;

struct in {
	const u8 *p;
	size_t n;
};

static u64 get(struct in *in, unsigned int bytes)
{
	u64 v = 0;

	while (bytes--) {
		v <<= 8;
		if (in->n) {
			v |= *in->p++;
			in->n--;
		}
	}
	return v;
}

#define G8(in) ((u8)get((in), 1))
#define G16(in) ((u16)get((in), 2))
#define G32(in) ((u32)get((in), 4))
#define G64(in) get((in), 8)

static u64 ua(const void *p)
{
	return (u64)(uintptr_t)p;
}

static const unsigned int dev_cmds[] = {
	KVM_GET_API_VERSION,     KVM_CHECK_EXTENSION,    KVM_GET_VCPU_MMAP_SIZE,
	KVM_GET_SUPPORTED_CPUID, KVM_GET_MSR_INDEX_LIST, KVM_CREATE_VM,
};

static const unsigned int vm_cmds[] = {
	KVM_SET_USER_MEMORY_REGION,
	KVM_SET_TSS_ADDR,
	KVM_CHECK_EXTENSION,
	KVM_CREATE_VCPU,
	KVM_SET_IDENTITY_MAP_ADDR,
	KVM_CREATE_IRQCHIP,
	KVM_GET_DIRTY_LOG,
	KVM_IRQ_LINE,
	KVM_IOEVENTFD,
	KVM_GET_CLOCK,
	KVM_SET_CLOCK,
};

static const unsigned int vcpu_cmds[] = {
	KVM_RUN,
	KVM_GET_REGS,
	KVM_SET_REGS,
	KVM_GET_SREGS,
	KVM_SET_SREGS,
	KVM_SET_CPUID2,
	KVM_GET_CPUID2,
	KVM_GET_MSRS,
	KVM_SET_MSRS,
	KVM_INTERRUPT,
	KVM_NMI,
	KVM_GET_MP_STATE,
	KVM_SET_MP_STATE,
	KVM_GET_FPU,
	KVM_SET_FPU,
	KVM_GET_LAPIC,
	KVM_GET_XCRS,
	KVM_GET_VCPU_EVENTS,
	KVM_SET_VCPU_EVENTS,
	KVM_TRANSLATE,
	KVM_SET_SIGNAL_MASK,
};

/* An ioctl argument: mostly in the argument area, sometimes anything. */
static u64 arg_of(struct in *in)
{
	switch (G8(in) & 7) {
	case 0:
		return G64(in); /* a raw value (CHECK_EXTENSION...) */
	case 1:
		return 0;
	case 2: /* near the end of the window: partial copies fault */
		return ua(arena) + ARENA_PAGES * PG - (G16(in) & 0x3ff);
	default:
		return ua(arena) + ARG_OFF +
		       (G16(in) % (ARENA_PAGES * PG - ARG_OFF));
	}
}

static unsigned int cmd_of(struct in *in, const unsigned int *tab,
			   unsigned int n)
{
	u8 sel = G8(in);

	if (sel < 224)
		return tab[sel % n];
	return G32(in); /* anything */
}

static void op_write(struct in *in)
{
	u32 off = G32(in) % (ARENA_PAGES * PG);
	u32 len = G8(in);

	if (len > ARENA_PAGES * PG - off)
		len = ARENA_PAGES * PG - off;
	if (len > in->n)
		len = (u32)in->n;
	memcpy(arena + off, in->p, len);
	in->p += len;
	in->n -= len;
}

static const enum fake_kind kinds[] = {
	FAKE_IO,    FAKE_IO,  FAKE_IO,  FAKE_CPUID, FAKE_RDMSR,
	FAKE_WRMSR, FAKE_HLT, FAKE_NPF, FAKE_NPF,   FAKE_INTR,
};

static void op_script(struct in *in, struct xk_vcpu *v)
{
	struct fake_step s[8];
	unsigned int n = G8(in) % 9, i;

	memset(s, 0, sizeof(s));
	for (i = 0; i < n; i++) {
		u8 f = G8(in);

		s[i].kind = kinds[G8(in) % (sizeof(kinds) / sizeof(kinds[0]))];
		s[i].port = G16(in);
		s[i].size = G8(in);
		s[i].io = G8(in);
		s[i].addr_size = G8(in);
		s[i].repeat = f & 1;
		s[i].write = f & 2;
		if (f & 4)
			s[i].rip = G64(in);
		if (f & 8)
			s[i].nrip = G64(in);
		s[i].gpa = (f & 16) ? G64(in) : (u64)G32(in) % (64 * PG);
	}
	fake_set_script(v, s, n);
}

static void op_run_fields(struct in *in, struct xk_vcpu *v)
{
	u8 f = G8(in);
	u32 i, n;

	v->run->immediate_exit = f & 1;
	v->run->request_interrupt_window = (f >> 1) & 1;
	n = G8(in) % 64;
	for (i = 0; i < n; i++)
		((u8 *)v->pio_data)[G16(in) % PG] = G8(in);
	memcpy(v->run->mmio.data, &(u64){ G64(in) }, 8);
}

static void op_region(struct in *in, struct xk_vm *vm)
{
	struct kvm_userspace_memory_region *r = (void *)(arena + ARG_OFF);
	u8 f = G8(in);

	r->slot = G8(in) % 8;
	if (f & 1)
		r->slot = G32(in);
	r->flags = ((f & 2) ? KVM_MEM_READONLY : 0) |
		   ((f & 64) ? KVM_MEM_LOG_DIRTY_PAGES : 0);
	if (f & 4)
		r->flags = G32(in);
	r->guest_phys_addr = (u64)(G8(in) % 64) * PG;
	if (f & 8)
		r->guest_phys_addr = G64(in);
	r->memory_size = (u64)(G8(in) % 33) * PG;
	r->userspace_addr = ua(arena) + (u64)(G8(in) % ARENA_PAGES) * PG;
	if (f & 16)
		r->userspace_addr += G16(in) & 0xfff;
	if (f & 32)
		r->userspace_addr = G64(in);
	xk_vm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, ua(r));
}

static void seg(struct kvm_segment *s, u64 base, u32 limit, u8 type, bool db,
		bool l)
{
	memset(s, 0, sizeof(*s));
	s->base = base;
	s->limit = limit;
	s->type = type;
	s->s = 1;
	s->present = 1;
	s->db = db;
	s->l = l;
	s->g = limit > 0xfffff;
}

static void op_sregs(struct in *in, struct xk_vcpu *v)
{
	struct kvm_sregs *s = (void *)(arena + ARG_OFF + 2 * PG);
	u8 mode = G8(in);

	if (xk_vcpu_ioctl(v, KVM_GET_SREGS, ua(s)))
		return;
	switch (mode & 3) {
	case 0: /* real */
		seg(&s->cs, (u64)G16(in) << 4, 0xffff, 0xb, false, false);
		seg(&s->ds, (u64)G16(in) << 4, 0xffff, 0x3, false, false);
		s->cr0 = XK_CR0_ET;
		s->cr4 = 0;
		s->efer = 0;
		break;
	case 1: /* 32-bit protected, maybe paging */
		seg(&s->cs, G8(in), 0xffffffff, 0xb, true, false);
		seg(&s->ds, G8(in), 0xffffffff, 0x3, true, false);
		s->cr0 = XK_CR0_ET | XK_CR0_PE | ((mode & 4) ? XK_CR0_PG : 0);
		s->cr3 = (u64)(G8(in) % GUEST_PAGES) * PG;
		s->cr4 = (mode & 8) ? XK_CR4_PAE : 0;
		s->efer = 0;
		break;
	case 2: /* 64-bit with 4-level paging */
		seg(&s->cs, 0, 0xffffffff, 0xb, false, true);
		seg(&s->ds, 0, 0xffffffff, 0x3, true, false);
		s->cr0 = XK_CR0_ET | XK_CR0_PE | XK_CR0_PG;
		s->cr3 = (u64)(G8(in) % GUEST_PAGES) * PG;
		s->cr4 = XK_CR4_PAE | ((mode & 4) ? XK_CR4_SMEP : 0);
		s->efer = XK_EFER_LME | XK_EFER_LMA |
			  ((mode & 8) ? XK_EFER_NXE : 0);
		break;
	default: /* a few raw fields */
		s->cr0 = G64(in);
		s->cr4 = G64(in);
		s->efer = G64(in);
		s->cs.l = G8(in) & 1;
		break;
	}
	s->es = s->fs = s->gs = s->ss = s->ds;
	s->ss.dpl = (mode >> 4) & 3;
	xk_vcpu_ioctl(v, KVM_SET_SREGS, ua(s));
}

static const u32 leaves[] = { 0,          1,          4,          7,
			      0xb,        0xd,        0x40000000, 0x80000000,
			      0x80000001, 0x80000008, 0xc0000000, 0x1f };

static void op_cpuid(struct in *in, struct xk_vcpu *v)
{
	struct kvm_cpuid2 *c = (void *)(arena + ARG_OFF + 4 * PG);
	unsigned int n = G8(in) % 12, i;

	c->nent = n;
	c->padding = 0;
	for (i = 0; i < n; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		memset(e, 0, sizeof(*e));
		e->function = leaves[G8(in) % (sizeof(leaves) / 4)];
		e->index = G8(in) % 4;
		e->flags = G8(in) & 1;
		e->eax = G32(in);
		e->ebx = G32(in);
		e->ecx = G32(in);
		e->edx = G32(in);
	}
	xk_vcpu_ioctl(v, KVM_SET_CPUID2, ua(c));
}

static void op_regs(struct in *in, struct xk_vcpu *v)
{
	struct kvm_regs *r = (void *)(arena + ARG_OFF + 6 * PG);
	u8 f = G8(in);

	if (xk_vcpu_ioctl(v, KVM_GET_REGS, ua(r)))
		return;
	r->rip = (f & 1) ? G64(in) : (u64)G16(in);
	r->rax = G64(in);
	r->rcx = (f & 2) ? G64(in) : G8(in);
	r->rsi = (f & 4) ? G64(in) : (u64)G16(in) % (GUEST_PAGES * PG);
	r->rdi = (f & 8) ? G64(in) : (u64)G16(in) % (GUEST_PAGES * PG);
	r->rflags = (f & 16) ? G64(in) : ((f & 32) ? XK_RFLAGS_DF : 0);
	xk_vcpu_ioctl(v, KVM_SET_REGS, ua(r));
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	arena = aligned_alloc(PG, ARENA_PAGES * PG);
	if (!arena)
		abort();
	host_user_set_log_level(0); /* quiet: the fuzzer makes errors */
	fake_install();
	return 0;
}

static void reset_knobs(void)
{
	host_user_fail_nth(0, HOST_USER_FAIL_ALL);
	host_user_set_signal_pending(false);
	host_user_signal_after(0);
	host_user_set_efault_range(0, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	struct host_held h0, h1;
	struct xk_vm *vm;
	struct xk_vcpu *v[2] = { NULL, NULL };
	unsigned int ops;

	memset(arena, 0, ARENA_PAGES * PG);
	host_user_set_user_window(ua(arena), ARENA_PAGES * PG);
	reset_knobs();
	fake_clear_error();
	host_held(&h0);
	if (xk_vm_create(0, &vm))
		abort();
	if (xk_vcpu_create(vm, 0, &v[0]))
		abort();
	xk_vm_get(vm);
	fake_set_repeat_cap(v[0], 64);

	for (ops = 0; ops < MAX_OPS && in.n; ops++) {
		struct xk_vcpu *cur = v[1] && (G8(&in) & 1) ? v[1] : v[0];
		unsigned int cmd;

		switch (G8(&in) % 14) {
		case 0:
			cmd = cmd_of(&in, dev_cmds, 6);
			xk_dev_ioctl(cmd, arg_of(&in));
			break;
		case 1:
			cmd = cmd_of(&in, vm_cmds,
				     sizeof(vm_cmds) / sizeof(vm_cmds[0]));
			xk_vm_ioctl(vm, cmd, arg_of(&in));
			break;
		case 2:
		case 3:
			cmd = cmd_of(&in, vcpu_cmds,
				     sizeof(vcpu_cmds) / sizeof(vcpu_cmds[0]));
			xk_vcpu_ioctl(cur, cmd, arg_of(&in));
			break;
		case 4:
			xk_vcpu_ioctl(cur, KVM_RUN, 0);
			break;
		case 5:
			op_write(&in);
			break;
		case 6:
			op_script(&in, cur);
			break;
		case 7:
			op_run_fields(&in, cur);
			break;
		case 8: {
			u8 f = G8(&in);

			host_user_set_signal_pending(f & 1);
			host_user_signal_after((f >> 1) & 3);
			break;
		}
		case 9:
			host_user_fail_nth(G8(&in) % 12,
					   G8(&in) & HOST_USER_FAIL_ALL);
			break;
		case 10:
			if (!v[1] && !xk_vcpu_create(vm, G16(&in), &v[1])) {
				xk_vm_get(vm);
				fake_set_repeat_cap(v[1], 64);
			}
			break;
		case 11:
			op_region(&in, vm);
			break;
		case 12:
			if (G8(&in) & 1)
				op_sregs(&in, cur);
			else
				op_regs(&in, cur);
			break;
		default:
			op_cpuid(&in, cur);
			break;
		}
	}

	reset_knobs();
	if (v[1])
		xk_vm_put(vm);
	xk_vm_put(vm); /* vCPU 0's file */
	xk_vm_put(vm); /* the VM file: destroyed */
	host_held(&h1);
	if (h1.objects != h0.objects || h1.pages != h0.pages ||
	    h1.pinned != h0.pinned)
		abort(); /* a leak the counters see */
	if (host_user_atomic_depth() || host_user_irqs_disabled() ||
	    host_user_in_fpu())
		abort();
	if (fake_error())
		abort(); /* the core broke a rule of the backend interface */
	return 0;
}
