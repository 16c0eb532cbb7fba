// SPDX-License-Identifier: GPL-2.0
/*
 * test_emulate.c - what the core does for intercepted CPUID, RDMSR/WRMSR
 * and for MMIO (a nested page fault outside every slot): the CPUID table
 * lookup of Linux's kvm_cpuid(), Linux's #GP rules for MSRs, and the MOV
 * forms the MMIO emulator knows, each producing KVM_EXIT_MMIO with the
 * right length, direction and data, reads completed into the right
 * register on the next KVM_RUN.  Guest code runs in 64-bit mode with
 * 4-level paging (or real mode); the core decodes it from guest memory.
 */
#include <stdint.h>
#include <string.h>

#include "fx.h"

#define CODE_LA 0x400000ULL
#define CODE_GPA 0x1000ULL
#define MMIO_GPA 0xfee00000ULL
#define MMIO_LA 0x600000ULL /* mapped to MMIO_GPA by long_fx() */
#define RO_LA 0x601000ULL   /* mapped to GPA 0x800000 by long_fx() */

static struct fx *long_fx(void)
{
	struct fx *f = fx_new();
	u64 cr3;

	fx_mem(f, 0, 0, 64, 0);
	cr3 = fx_pt_init(f, 0x20000, 16);
	fx_pt_map(f, cr3, CODE_LA, CODE_GPA, 0);
	fx_pt_map(f, cr3, CODE_LA + 0x1000, CODE_GPA + 0x1000, 0);
	fx_pt_map(f, cr3, MMIO_LA, MMIO_GPA, 0);
	fx_pt_map(f, cr3, RO_LA, 0x800000, 0);
	fx_long64(f, cr3, CODE_LA);
	return f;
}

/* Distinct values with every byte set in each GPR. */
static void fill_gprs(struct fx *f, struct kvm_regs *r)
{
	u64 *p = (u64 *)r;
	unsigned int i;

	fx_get_regs(f, r);
	for (i = 0; i < 16; i++)
		p[i] = 0x8070605040302010ULL + 0x0101010101010101ULL * i;
	fx_set_regs(f, r);
}

/* kvm_regs field of a GPR number (the two orders differ) */
static u64 *regs_gpr(struct kvm_regs *r, int n)
{
	u64 *map[16] = { &r->rax, &r->rcx, &r->rdx, &r->rbx, &r->rsp, &r->rbp,
			 &r->rsi, &r->rdi, &r->r8,  &r->r9,  &r->r10, &r->r11,
			 &r->r12, &r->r13, &r->r14, &r->r15 };

	return map[n];
}

/* ---- CPUID ---- */

#define SIG XK_BIT(0) /* KVM_CPUID_FLAG_SIGNIFCANT_INDEX */

static void ent(struct kvm_cpuid_entry2 *e, u32 fn, u32 idx, u32 flags, u32 a,
		u32 b, u32 c, u32 d)
{
	memset(e, 0, sizeof(*e));
	e->function = fn;
	e->index = idx;
	e->flags = flags;
	e->eax = a;
	e->ebx = b;
	e->ecx = c;
	e->edx = d;
}

/* "GenuineIntel", "AuthenticAMD", "CentaurHauls" as EBX, ECX, EDX */
#define INTEL 0x756e6547, 0x6c65746e, 0x49656e69
#define AMD 0x68747541, 0x444d4163, 0x69746e65
#define CENTAUR 0x746e6543, 0x736c7561, 0x48727561

struct cpuid_out {
	u32 a, b, c, d;
};

/* Run one CPUID (0F A2 at RIP) with EAX=fn, ECX=idx; the outputs. */
static struct cpuid_out do_cpuid(struct fx *f, u64 rax, u64 rcx)
{
	static const u8 cpuid[] = { 0x0f, 0xa2 };
	struct kvm_regs r;
	struct cpuid_out o;
	u64 rip = fx_rip(f);

	fx_poke(f, CODE_GPA + (rip - CODE_LA), cpuid, 2);
	fx_get_regs(f, &r);
	r.rax = rax;
	r.rcx = rcx;
	r.rbx = r.rdx = 0xdddddddddddddddd;
	fx_set_regs(f, &r);
	FX_SCRIPT(f, { .kind = FAKE_CPUID });
	fx_run_to_end(f);
	fx_get_regs(f, &r);
	if (r.rip != rip + 2)
		XT_FAIL("RIP %#llx after CPUID at %#llx",
			(unsigned long long)r.rip, (unsigned long long)rip);
	if ((r.rax | r.rbx | r.rcx | r.rdx) >> 32)
		XT_FAIL("CPUID left upper register halves set");
	o.a = (u32)r.rax;
	o.b = (u32)r.rbx;
	o.c = (u32)r.rcx;
	o.d = (u32)r.rdx;
	fx_set_rip(f, rip);
	return o;
}

/* XT_CPUID(o, eax, ebx, ecx, edx) */
#define XT_CPUID(o, ...)                                     \
	do {                                                 \
		const struct cpuid_out w_ = { __VA_ARGS__ }; \
		XT_EQ((o).a, w_.a);                          \
		XT_EQ((o).b, w_.b);                          \
		XT_EQ((o).c, w_.c);                          \
		XT_EQ((o).d, w_.d);                          \
	} while (0)

XT_TEST(cpuid, table_lookup)
{
	struct fx *f = long_fx();
	struct kvm_cpuid_entry2 e[8];
	struct cpuid_out o;

	ent(&e[0], 0, 0, 0, 0xd, AMD);
	ent(&e[1], 1, 0, 0, 0x00a00f11, 0x00040800, 0x7ed8320b, 0x178bfbff);
	ent(&e[2], 4, 0, SIG, 0x41, 0x42, 0x43, 0x44);
	ent(&e[3], 4, 1, SIG, 0x51, 0x52, 0x53, 0x54);
	ent(&e[4], 4, 2, SIG, 0x61, 0x62, 0x63, 0x64);
	ent(&e[5], 0x80000000, 0, 0, 0x80000008, AMD);
	ent(&e[6], 0x80000001, 0, 0, 1, 2, 3, XK_BIT(29));
	ent(&e[7], 7, 0, SIG, 0, 0x219c07a9, 0, 0);
	XT_EQ(fx_set_cpuid(f, e, 8), 0);

	o = do_cpuid(f, 0, 0);
	XT_CPUID(o, 0xd, AMD);
	/* OSXSAVE (ECX bit 27) shows the guest's CR4.OSXSAVE, clear here */
	o = do_cpuid(f, 1, 0);
	XT_CPUID(o, 0x00a00f11, 0x00040800, 0x76d8320b, 0x178bfbff);
	/* the index of a leaf without SIGNIFCANT_INDEX is ignored */
	o = do_cpuid(f, 1, 5);
	XT_CPUID(o, 0x00a00f11, 0x00040800, 0x76d8320b, 0x178bfbff);
	o = do_cpuid(f, 4, 2);
	XT_CPUID(o, 0x61, 0x62, 0x63, 0x64);
	o = do_cpuid(f, 4, 1);
	XT_CPUID(o, 0x51, 0x52, 0x53, 0x54);
	/* a significant index not in the table: zeros */
	o = do_cpuid(f, 4, 3);
	XT_CPUID(o, 0, 0, 0, 0);
	/* only the low 32 bits of RAX and RCX count */
	o = do_cpuid(f, 0xffffffff00000004ULL, 0xffffffff00000001ULL);
	XT_CPUID(o, 0x51, 0x52, 0x53, 0x54);
	/* AMD: a leaf out of range is all zeros */
	o = do_cpuid(f, 0x20, 0);
	XT_CPUID(o, 0, 0, 0, 0);
	o = do_cpuid(f, 0x80000020, 0);
	XT_CPUID(o, 0, 0, 0, 0);
	XT_EQ(f->v->stats.cpuid_exits, 9);
	/* what the core itself reads from the table */
	XT_ASSERT(xk_guest_cpuid_has(f->v, 0x80000001, 3, XK_BIT(29)));
	XT_ASSERT(!xk_guest_cpuid_has(f->v, 0x80000001, 3, XK_BIT(20)));
	XT_ASSERT(!xk_guest_is_intel(f->v));
}

XT_TEST(cpuid, no_table_all_zeros)
{
	struct fx *f = long_fx();
	struct cpuid_out o;

	XT_EQ(fx_set_cpuid(f, NULL, 0), 0); /* long_fx gave it LM */
	o = do_cpuid(f, 0, 0);

	XT_CPUID(o, 0, 0, 0, 0);
	o = do_cpuid(f, 0x80000001, 0);
	XT_CPUID(o, 0, 0, 0, 0);
}

/*
 * Intel's rule (Linux: get_out_of_range_cpuid_entry): a leaf above the
 * maximum of its class answers as the highest basic leaf, with the
 * requested index.
 */
XT_TEST(cpuid, intel_out_of_range_rule)
{
	struct fx *f = long_fx();
	struct kvm_cpuid_entry2 e[6];
	struct cpuid_out o;

	ent(&e[0], 0, 0, 0, 0xd, INTEL);
	ent(&e[1], 0xd, 0, SIG, 0xd0, 0xd1, 0xd2, 0xd3);
	ent(&e[2], 0xd, 1, SIG, 0xe0, 0xe1, 0xe2, 0xe3);
	ent(&e[3], 0x80000000, 0, 0, 0x80000008, 0, 0, 0);
	ent(&e[4], 0x80000008, 0, 0, 0x3030, 0, 0, 0);
	ent(&e[5], 0x40000000, 0, 0, 0x40000001, 0, 0, 0);
	XT_EQ(fx_set_cpuid(f, e, 6), 0);
	XT_ASSERT(xk_guest_is_intel(f->v));

	o = do_cpuid(f, 0xe, 0);
	XT_CPUID(o, 0xd0, 0xd1, 0xd2, 0xd3);
	o = do_cpuid(f, 0x7fffffff, 1); /* the index is kept */
	XT_CPUID(o, 0xe0, 0xe1, 0xe2, 0xe3);
	o = do_cpuid(f, 0x80000009, 0);
	XT_CPUID(o, 0xd0, 0xd1, 0xd2, 0xd3);
	o = do_cpuid(f, 0x80000008, 0); /* in range: the entry itself */
	XT_CPUID(o, 0x3030, 0, 0, 0);
	o = do_cpuid(f, 0x40000002, 1);
	XT_CPUID(o, 0xe0, 0xe1, 0xe2, 0xe3);
	o = do_cpuid(f, 0x40000100, 0); /* no such hypervisor class */
	XT_CPUID(o, 0xd0, 0xd1, 0xd2, 0xd3);
	o = do_cpuid(f, 0xc0000000, 0); /* no Centaur class */
	XT_CPUID(o, 0xd0, 0xd1, 0xd2, 0xd3);
	/* in range but absent (a hole), or a missing index: zeros */
	o = do_cpuid(f, 5, 0);
	XT_CPUID(o, 0, 0, 0, 0);
	o = do_cpuid(f, 0xd, 2);
	XT_CPUID(o, 0, 0, 0, 0);
}

/* Linux applies the rule to every vendor but AMD and Hygon. */
XT_TEST(cpuid, out_of_range_rule_for_other_vendors)
{
	struct fx *f = long_fx();
	struct kvm_cpuid_entry2 e[2];
	struct cpuid_out o;

	ent(&e[0], 0, 0, 0, 1, CENTAUR);
	ent(&e[1], 1, 0, 0, 0x11, 0x12, 0x13, 0x14);
	XT_EQ(fx_set_cpuid(f, e, 2), 0);
	o = do_cpuid(f, 0x20, 0);
	XT_CPUID(o, 0x11, 0x12, 0x13, 0x14);
}

/* Leaves 0xB and 0x1F: CL and the x2APIC ID for undefined subleaves. */
XT_TEST(cpuid, topology_leaf_undefined_subleaf)
{
	struct fx *f = long_fx();
	struct kvm_cpuid_entry2 e[3];
	struct cpuid_out o;

	ent(&e[0], 0, 0, 0, 0xb, AMD);
	ent(&e[1], 0xb, 0, SIG, 1, 1, 0x100, 7);
	ent(&e[2], 0xb, 1, SIG, 4, 8, 0x201, 7);
	XT_EQ(fx_set_cpuid(f, e, 3), 0);
	o = do_cpuid(f, 0xb, 1);
	XT_CPUID(o, 4, 8, 0x201, 7);
	o = do_cpuid(f, 0xb, 0x1234503);
	XT_CPUID(o, 0, 0, 0x03, 7);
}

/*
 * Without NRIP-save the next RIP comes from decoding CS:RIP.  If that
 * fetch faults (the guest changed its page tables), the instruction has
 * not completed: the #PF goes to the guest, which will run CPUID again,
 * and must find its inputs where it left them.
 */
XT_TEST(cpuid, fetch_fault_keeps_inputs)
{
	struct fx *f = long_fx();
	struct kvm_cpuid_entry2 e[1];
	struct fake_event ev[2];
	struct kvm_regs r;

	ent(&e[0], 0, 0, 0, 0xd, AMD);
	XT_EQ(fx_set_cpuid(f, e, 1), 0);
	fx_get_regs(f, &r);
	r.rip = 0x123000; /* not mapped */
	r.rax = 0;
	r.rcx = 0;
	fx_set_regs(f, &r);
	FX_SCRIPT(f, { .kind = FAKE_CPUID });
	fx_run_to_end(f);
	XT_EQ(fake_events(f->v, ev, 2), 1);
	XT_EQ(ev[0].vector, XK_EXC_PF);
	XT_EQ(ev[0].cr2, 0x123000);
	fx_get_regs(f, &r);
	XT_EQ(r.rip, 0x123000);
	XT_EQ(r.rax, 0);
	XT_EQ(r.rcx, 0);
}

/* ---- RDMSR / WRMSR ---- */

static const u8 rdmsr[] = { 0x0f, 0x32 };
static const u8 wrmsr[] = { 0x0f, 0x30 };

/* Run RDMSR or WRMSR of msr; the #GP count delivered since. */
static unsigned int do_msr(struct fx *f, bool wr, u32 msr, u64 rax, u64 rdx,
			   struct kvm_regs *out)
{
	struct kvm_regs r;
	unsigned int ev0 = fake_events(f->v, NULL, 0), n;
	struct fake_event ev[FAKE_MAX_EVENTS];

	fx_poke(f, CODE_GPA, wr ? wrmsr : rdmsr, 2);
	fx_get_regs(f, &r);
	r.rip = CODE_LA;
	r.rcx = 0xffffffff00000000ULL | msr; /* ECX only */
	r.rax = rax;
	r.rdx = rdx;
	fx_set_regs(f, &r);
	FX_SCRIPT(f, { .kind = wr ? FAKE_WRMSR : FAKE_RDMSR });
	fx_run_to_end(f);
	fx_get_regs(f, out);
	n = fake_events(f->v, ev, FAKE_MAX_EVENTS);
	if (n > ev0) {
		if (ev[n - 1].vector != XK_EXC_GP || !ev[n - 1].has_error ||
		    ev[n - 1].error != 0)
			XT_FAIL("MSR %#x: exception %u (%u) not #GP(0)", msr,
				ev[n - 1].vector, ev[n - 1].error);
		if (out->rip != CODE_LA)
			XT_FAIL("RIP moved on #GP");
	} else if (out->rip != CODE_LA + 2) {
		XT_FAIL("RIP %#llx after a good RDMSR/WRMSR",
			(unsigned long long)out->rip);
	}
	return n - ev0;
}

XT_TEST(msr, rdmsr_wrmsr)
{
	struct fx *f = long_fx();
	struct kvm_regs r;

	/* WRMSR takes EDX:EAX, the upper halves are ignored */
	XT_EQ(do_msr(f, true, XK_MSR_STAR, 0xaaaaaaaa11223344ULL,
		     0xbbbbbbbb00230010ULL, &r),
	      0);
	XT_EQ(do_msr(f, false, XK_MSR_STAR, ~0ULL, ~0ULL, &r), 0);
	XT_EQ(r.rax, 0x11223344); /* zero-extended halves */
	XT_EQ(r.rdx, 0x00230010);
	XT_EQ(f->v->stats.msr_exits, 2);
}

XT_TEST(msr, unknown_msr_gp)
{
	struct fx *f = long_fx();
	struct kvm_regs r;

	XT_EQ(do_msr(f, false, 0x12345678, 0x55, 0x66, &r), 1);
	XT_EQ(r.rax, 0x55); /* untouched */
	XT_EQ(r.rdx, 0x66);
	XT_EQ(do_msr(f, true, 0x12345678, 0, 0, &r), 1);
	XT_EQ(do_msr(f, false, XK_MSR_VM_HSAVE_PA, 0, 0, &r), 1);
}

XT_TEST(msr, canonical_checks)
{
	struct fx *f = long_fx();
	struct kvm_regs r;

	XT_EQ(do_msr(f, true, XK_MSR_LSTAR, 0, 0x00008000, &r), 1);
	XT_EQ(do_msr(f, true, XK_MSR_KERNEL_GS_BASE, 0, 0x00010000, &r), 1);
	XT_EQ(do_msr(f, true, XK_MSR_FS_BASE, 0, 0xffff7fff, &r), 1);
	XT_EQ(do_msr(f, true, XK_MSR_LSTAR, 0x81000000, 0xffffffff, &r), 0);
	XT_EQ(do_msr(f, false, XK_MSR_LSTAR, 0, 0, &r), 0);
	XT_EQ(r.rdx, 0xffffffff);
	XT_EQ(r.rax, 0x81000000);
	/* SYSENTER_EIP is made canonical, not refused */
	XT_EQ(do_msr(f, true, XK_MSR_IA32_SYSENTER_EIP, 0x1000, 0x00008000, &r),
	      0);
	XT_EQ(do_msr(f, false, XK_MSR_IA32_SYSENTER_EIP, 0, 0, &r), 0);
	XT_EQ(r.rdx, 0xffff8000);
}

XT_TEST(msr, guest_efer_rules)
{
	struct fx *f = long_fx(); /* in long mode: LME=LMA=1, paging on */
	struct kvm_cpuid_entry2 e[1];
	struct kvm_regs r;
	u64 efer = XK_EFER_LME | XK_EFER_LMA | XK_EFER_SCE;

	/* no CPUID table: no LM, so LME is refused to the guest */
	XT_EQ(fx_set_cpuid(f, NULL, 0), 0); /* long_fx gave it LM */
	XT_EQ(do_msr(f, true, XK_MSR_EFER, efer, 0, &r), 1);
	fx_destroy(f);
	f = long_fx();
	ent(&e[0], 0x80000001, 0, 0, 0, 0, 0, XK_BIT(29) | XK_BIT(11));
	XT_EQ(fx_set_cpuid(f, e, 1), 0);
	XT_EQ(do_msr(f, true, XK_MSR_EFER, efer, 0, &r), 0);
	/* LMA is the CPU's: a guest write does not change it */
	XT_EQ(do_msr(f, true, XK_MSR_EFER, XK_EFER_LME | XK_EFER_SCE, 0, &r),
	      0);
	XT_EQ(fake_sregs(f->v)->efer, efer);
	/* LME may not change while paging is on */
	XT_EQ(do_msr(f, true, XK_MSR_EFER, XK_EFER_SCE, 0, &r), 1);
	/* NX needs CPUID NX; SVME is not offered; reserved bits */
	XT_EQ(do_msr(f, true, XK_MSR_EFER, efer | XK_EFER_NXE, 0, &r), 1);
	XT_EQ(do_msr(f, true, XK_MSR_EFER, efer | XK_EFER_SVME, 0, &r), 1);
	XT_EQ(do_msr(f, true, XK_MSR_EFER, efer | XK_BIT(2), 0, &r), 1);
	XT_EQ(do_msr(f, false, XK_MSR_EFER, 0, 0, &r), 0);
	XT_EQ(r.rax, efer);
}

/* ---- MMIO ---- */

struct mmio_case {
	const char *what;
	u8 code[15];
	u8 len;     /* instruction length */
	bool write; /* expected direction */
	u8 size;    /* access size */
	int reg;    /* register read from or written to, -1: immediate */
	bool high8; /* AH..BH: bits 15:8 of reg */
	u64 imm;    /* the written data for immediates */
	u8 dst;     /* reads: bytes written to reg (1, 2, 4: zero-ext, 8) */
	bool sign;  /* reads: MOVSX */
};

#define RAX 0
#define RCX 1
#define RBX 3
#define RSP 4
#define R8 8
#define R9 9
#define R15 15

static const struct mmio_case mmio_cases[] = {
	/* writes */
	{ "mov [rax], cl", { 0x88, 0x08 }, 2, true, 1, RCX, false, 0, 0, 0 },
	{ "mov [rax], ah", { 0x88, 0x20 }, 2, true, 1, RAX, true, 0, 0, 0 },
	{ "mov [rax], spl",
	  { 0x40, 0x88, 0x20 },
	  3,
	  true,
	  1,
	  RSP,
	  false,
	  0,
	  0,
	  0 },
	{ "mov [rax], r8b", { 0x44, 0x88, 0x00 }, 3, true, 1, R8, false, 0, 0, 0 },
	{ "mov [rax], ecx", { 0x89, 0x08 }, 2, true, 4, RCX, false, 0, 0, 0 },
	{ "mov [rax], cx", { 0x66, 0x89, 0x08 }, 3, true, 2, RCX, false, 0, 0, 0 },
	{ "mov [rax], rcx",
	  { 0x48, 0x89, 0x08 },
	  3,
	  true,
	  8,
	  RCX,
	  false,
	  0,
	  0,
	  0 },
	{ "mov [rax+8], r15",
	  { 0x4c, 0x89, 0x78, 0x08 },
	  4,
	  true,
	  8,
	  R15,
	  false,
	  0,
	  0,
	  0 },
	{ "mov [moffs64], al",
	  { 0xa2, 1, 2, 3, 4, 5, 6, 7, 8 },
	  9,
	  true,
	  1,
	  RAX,
	  false,
	  0,
	  0,
	  0 },
	{ "mov [moffs64], eax",
	  { 0xa3, 1, 2, 3, 4, 5, 6, 7, 8 },
	  9,
	  true,
	  4,
	  RAX,
	  false,
	  0,
	  0,
	  0 },
	{ "mov [moffs64], rax",
	  { 0x48, 0xa3, 1, 2, 3, 4, 5, 6, 7, 8 },
	  10,
	  true,
	  8,
	  RAX,
	  false,
	  0,
	  0,
	  0 },
	{ "mov byte [rax], 0x9c",
	  { 0xc6, 0x00, 0x9c },
	  3,
	  true,
	  1,
	  -1,
	  false,
	  0x9c,
	  0,
	  0 },
	{ "mov word [rax], 0x8001",
	  { 0x66, 0xc7, 0x00, 0x01, 0x80 },
	  5,
	  true,
	  2,
	  -1,
	  false,
	  0x8001,
	  0,
	  0 },
	{ "mov dword [rax], 0x80000001",
	  { 0xc7, 0x00, 0x01, 0x00, 0x00, 0x80 },
	  6,
	  true,
	  4,
	  -1,
	  false,
	  0x80000001,
	  0,
	  0 },
	{ "mov qword [rax], imm32 (sign-extended)",
	  { 0x48, 0xc7, 0x00, 0x01, 0x00, 0x00, 0x80 },
	  7,
	  true,
	  8,
	  -1,
	  false,
	  0xffffffff80000001ULL,
	  0,
	  0 },
	{ "mov qword [rip+x], imm32",
	  { 0x48, 0xc7, 0x05, 0x10, 0, 0, 0, 0x78, 0x56, 0x34, 0x12 },
	  11,
	  true,
	  8,
	  -1,
	  false,
	  0x12345678,
	  0,
	  0 },
	/* reads */
	{ "mov cl, [rax]", { 0x8a, 0x08 }, 2, false, 1, RCX, false, 0, 1, 0 },
	{ "mov ah, [rax]", { 0x8a, 0x20 }, 2, false, 1, RAX, true, 0, 1, 0 },
	{ "mov bh, [rax]", { 0x8a, 0x38 }, 2, false, 1, RBX, true, 0, 1, 0 },
	{ "mov spl, [rax]",
	  { 0x40, 0x8a, 0x20 },
	  3,
	  false,
	  1,
	  RSP,
	  false,
	  0,
	  1,
	  0 },
	{ "mov ecx, [rax]", { 0x8b, 0x08 }, 2, false, 4, RCX, false, 0, 4, 0 },
	{ "mov cx, [rax]",
	  { 0x66, 0x8b, 0x08 },
	  3,
	  false,
	  2,
	  RCX,
	  false,
	  0,
	  2,
	  0 },
	{ "mov rcx, [rax]",
	  { 0x48, 0x8b, 0x08 },
	  3,
	  false,
	  8,
	  RCX,
	  false,
	  0,
	  8,
	  0 },
	{ "mov r9, [rax]", { 0x4c, 0x8b, 0x08 }, 3, false, 8, R9, false, 0, 8, 0 },
	{ "mov r9d, [rax]",
	  { 0x44, 0x8b, 0x08 },
	  3,
	  false,
	  4,
	  R9,
	  false,
	  0,
	  4,
	  0 },
	{ "mov al, [moffs64]",
	  { 0xa0, 1, 2, 3, 4, 5, 6, 7, 8 },
	  9,
	  false,
	  1,
	  RAX,
	  false,
	  0,
	  1,
	  0 },
	{ "mov eax, [moffs64]",
	  { 0xa1, 1, 2, 3, 4, 5, 6, 7, 8 },
	  9,
	  false,
	  4,
	  RAX,
	  false,
	  0,
	  4,
	  0 },
	{ "mov rax, [moffs64]",
	  { 0x48, 0xa1, 1, 2, 3, 4, 5, 6, 7, 8 },
	  10,
	  false,
	  8,
	  RAX,
	  false,
	  0,
	  8,
	  0 },
	{ "movzx ecx, byte [rax]",
	  { 0x0f, 0xb6, 0x08 },
	  3,
	  false,
	  1,
	  RCX,
	  false,
	  0,
	  4,
	  0 },
	{ "movzx cx, byte [rax]",
	  { 0x66, 0x0f, 0xb6, 0x08 },
	  4,
	  false,
	  1,
	  RCX,
	  false,
	  0,
	  2,
	  0 },
	{ "movzx rcx, word [rax]",
	  { 0x48, 0x0f, 0xb7, 0x08 },
	  4,
	  false,
	  2,
	  RCX,
	  false,
	  0,
	  8,
	  0 },
	{ "movsx ecx, byte [rax]",
	  { 0x0f, 0xbe, 0x08 },
	  3,
	  false,
	  1,
	  RCX,
	  false,
	  0,
	  4,
	  1 },
	{ "movsx cx, byte [rax]",
	  { 0x66, 0x0f, 0xbe, 0x08 },
	  4,
	  false,
	  1,
	  RCX,
	  false,
	  0,
	  2,
	  1 },
	{ "movsx rcx, word [rax]",
	  { 0x48, 0x0f, 0xbf, 0x08 },
	  4,
	  false,
	  2,
	  RCX,
	  false,
	  0,
	  8,
	  1 },
	{ "movsx r9, byte [rax]",
	  { 0x4c, 0x0f, 0xbe, 0x08 },
	  4,
	  false,
	  1,
	  R9,
	  false,
	  0,
	  8,
	  1 },
};

static u64 sext(u64 v, unsigned int bytes)
{
	unsigned int sh = 64 - 8 * bytes;

	return bytes >= 8 ? v : (u64)((s64)(v << sh) >> sh);
}

/* Point the memory operand of code at MMIO_LA + 0x30 (see below). */
static void aim_at_mmio(struct fx *f, u8 *code, u8 len, struct kvm_regs *r)
{
	u64 target = MMIO_LA + 0x30;
	struct xk_insn in;

	XT_EQ(xk_decode_ex(code, len, XK_MODE_LONG64, XK_DEC_AMD, &in), 0);
	XT_ASSERT(in.has_mem);
	if (in.rip_rel) { /* disp32 after the ModRM byte, from next RIP */
		s32 d = (s32)(target - (CODE_LA + len));

		memcpy(code + in.opc_off + 2, &d, 4);
		return;
	}
	if (in.base < 0) { /* moffs: the address is in the instruction */
		XT_EQ(in.disp_bytes, 8);
		memcpy(code + in.len - 8, &target, 8);
		return;
	}
	*regs_gpr(r, in.base) = target - (u64)in.disp;
	fx_set_regs(f, r);
}

static void check_mmio_case(struct fx *f, const struct mmio_case *c)
{
	struct kvm_regs before, after, want;
	u64 data = 0, val;
	u64 mask = c->size == 8 ? ~0ULL : (1ULL << (8 * c->size)) - 1;

	u8 code[15];

	/*
	 * The operand must really point at the device page, as it does on a
	 * CPU that faulted there: aim the base register (or the moffs) at
	 * MMIO_LA + 0x30, which the guest's page tables map to MMIO_GPA.
	 */
	memcpy(code, c->code, sizeof(code));
	fill_gprs(f, &before);
	aim_at_mmio(f, code, c->len, &before);
	fx_poke(f, CODE_GPA, code, c->len);
	FX_SCRIPT(f, { .kind = FAKE_NPF,
		       .gpa = MMIO_GPA + 0x30,
		       .write = c->write });
	fx_run_expect(f, KVM_EXIT_MMIO);
	XT_EQ(f->run->mmio.phys_addr, MMIO_GPA + 0x30);
	XT_EQ(f->run->mmio.len, c->size);
	XT_EQ(f->run->mmio.is_write, c->write);
	fx_get_regs(f, &after);
	if (c->write) {
		memcpy(&data, f->run->mmio.data, 8);
		if (c->reg < 0)
			val = c->imm;
		else if (c->high8)
			val = *regs_gpr(&before, c->reg) >> 8;
		else
			val = *regs_gpr(&before, c->reg);
		XT_EQ(data, val & mask);
		/* a write is done at the exit: RIP is already past it */
		XT_EQ(after.rip, CODE_LA + c->len);
		after.rip = before.rip;
		XT_MEMEQ(&after, &before, sizeof(after));
		fx_run_to_end(f);
		fx_get_regs(f, &after);
		XT_EQ(after.rip, CODE_LA + c->len);
		return;
	}
	/* a read waits for the data: nothing has changed yet */
	XT_MEMEQ(&after, &before, sizeof(after));
	val = 0xa5c3e1f08796b4d2ULL & mask; /* top bit set in every size */
	memcpy(f->run->mmio.data, &val, 8);
	fx_run_to_end(f);
	fx_get_regs(f, &after);
	want = before;
	want.rip = CODE_LA + c->len;
	{
		u64 *r = regs_gpr(&want, c->reg);
		u64 v = c->sign ? sext(val, c->size) : val;

		if (c->high8)
			*r = (*r & ~0xff00ULL) | ((v & 0xff) << 8);
		else if (c->dst == 1)
			*r = (*r & ~0xffULL) | (v & 0xff);
		else if (c->dst == 2)
			*r = (*r & ~0xffffULL) | (v & 0xffff);
		else if (c->dst == 4)
			*r = v & 0xffffffffULL;
		else
			*r = v;
	}
	XT_MEMEQ(&after, &want, sizeof(after));
	XT_EQ(f->v->stats.mmio_exits, 1);
}

XT_TEST(mmio, mov_forms)
{
	unsigned int i;

	for (i = 0; i < XK_ARRAY_SIZE(mmio_cases); i++) {
		struct fx *f = long_fx();

		xt_ctx("%s", mmio_cases[i].what);
		check_mmio_case(f, &mmio_cases[i]);
		fx_destroy(f);
	}
}

XT_TEST(mmio, real_mode_moves)
{
	struct fx *f = fx_new();
	static const u8 code[] = {
		0x8b, 0x07,             /* mov ax, [bx] */
		0x66, 0x89, 0x4f, 0x04, /* mov [bx+4], ecx */
	};
	struct kvm_regs r;
	u32 v = 0xbeef;

	fx_mem(f, 0, 0, 16, 0);
	struct kvm_sregs s;

	fx_real_mode(f, 0x100);
	/* DS at the VGA window, as a real-mode program aims at a device */
	fx_get_sregs(f, &s);
	s.ds.selector = 0xa000;
	s.ds.base = 0xa0000;
	fx_set_sregs(f, &s);
	fx_poke(f, 0x100, code, sizeof(code));
	fx_get_regs(f, &r);
	r.rax = 0x1111222233334444ULL;
	r.rcx = 0x5555666677778888ULL;
	fx_set_regs(f, &r);
	FX_SCRIPT(f, { .kind = FAKE_NPF, .gpa = 0xa0000 },
		  { .kind = FAKE_NPF, .gpa = 0xa0004, .write = true });
	fx_run_expect(f, KVM_EXIT_MMIO);
	XT_EQ(f->run->mmio.len, 2);
	XT_EQ(f->run->mmio.is_write, 0);
	memcpy(f->run->mmio.data, &v, 4);
	fx_run_expect(f, KVM_EXIT_MMIO);
	fx_get_regs(f, &r);
	XT_EQ(r.rax, 0x111122223333beefULL);
	XT_EQ(f->run->mmio.len, 4);
	XT_EQ(f->run->mmio.is_write, 1);
	XT_EQ(f->run->mmio.phys_addr, 0xa0004);
	XT_MEMEQ(f->run->mmio.data, &r.rcx, 4);
	XT_EQ(r.rip, 0x106);
}

/* The mmio probe: each device access once, a write with its value. */
XT_TEST(mmio, trace_probe)
{
	struct fx *f = fx_new();
	static const u8 code[] = {
		0x8b, 0x07,             /* mov ax, [bx] */
		0x66, 0x89, 0x4f, 0x04, /* mov [bx+4], ecx */
	};
	struct host_user_trace before = host_user_trace;
	struct kvm_sregs s;
	struct kvm_regs r;
	u32 v = 0xbeef;

	fx_mem(f, 0, 0, 16, 0);
	fx_real_mode(f, 0x100);
	fx_get_sregs(f, &s);
	s.ds.selector = 0xa000;
	s.ds.base = 0xa0000;
	fx_set_sregs(f, &s);
	fx_poke(f, 0x100, code, sizeof(code));
	fx_get_regs(f, &r);
	r.rcx = 0x5555666677778888ULL;
	fx_set_regs(f, &r);
	FX_SCRIPT(f, { .kind = FAKE_NPF, .gpa = 0xa0000 },
		  { .kind = FAKE_NPF, .gpa = 0xa0004, .write = true });
	fx_run_expect(f, KVM_EXIT_MMIO);
	XT_EQ(host_user_trace.mmios, before.mmios + 1);
	XT_EQ(host_user_trace.last_mmio.gpa, 0xa0000);
	XT_EQ(host_user_trace.last_mmio.len, 2);
	XT_EQ(host_user_trace.last_mmio.write, false);
	XT_EQ(host_user_trace.last_mmio.has_value, false);
	memcpy(f->run->mmio.data, &v, 4);
	/* the read completes from the VMM's data: no second probe for it */
	fx_run_expect(f, KVM_EXIT_MMIO);
	XT_EQ(host_user_trace.mmios, before.mmios + 2);
	XT_EQ(host_user_trace.last_mmio.gpa, 0xa0004);
	XT_EQ(host_user_trace.last_mmio.len, 4);
	XT_EQ(host_user_trace.last_mmio.write, true);
	XT_EQ(host_user_trace.last_mmio.has_value, true);
	XT_EQ(host_user_trace.last_mmio.value, 0x77778888);
	XT_EQ(host_user_trace.pios, before.pios);
	fx_destroy(f);
}

struct bad_case {
	const char *what;
	u8 code[8];
	u8 len;
	bool decodes; /* else #UD: no bytes are reported */
};

XT_TEST(mmio, unemulatable_internal_error)
{
	static const struct bad_case bad[] = {
		{ "fld dword [rax]", { 0xd9, 0x00 }, 2, true },
		{ "movsd [rax], xmm0", { 0xf2, 0x0f, 0x11, 0x00 }, 4, true },
		{ "fxsave [rax]", { 0x0f, 0xae, 0x00 }, 3, true },
		{ "c7 /1 (undefined)", { 0xc7, 0x08, 1, 2, 3, 4 }, 6, false },
	};
	unsigned long failures = host_user_trace.emulation_failures;
	unsigned long mmios = host_user_trace.mmios;
	unsigned int i;

	for (i = 0; i < XK_ARRAY_SIZE(bad); i++) {
		struct fx *f = long_fx();
		struct kvm_run *run = f->run;

		xt_ctx("%s", bad[i].what);
		fx_poke(f, CODE_GPA, bad[i].code, bad[i].len);
		FX_SCRIPT(f, { .kind = FAKE_NPF, .gpa = MMIO_GPA });
		fx_run_expect(f, KVM_EXIT_INTERNAL_ERROR);
		XT_EQ(run->internal.suberror, KVM_INTERNAL_ERROR_EMULATION);
		XT_EQ(fx_rip(f), CODE_LA);
		XT_EQ(f->v->stats.insn_emulation_fail, 1);
		/* the probe: once, at the instruction, with its bytes */
		XT_EQ(host_user_trace.emulation_failures, failures + 1);
		XT_EQ(host_user_trace.mmios, mmios); /* refused before access */
		failures = host_user_trace.emulation_failures;
		XT_EQ(host_user_trace.last_emulation_failure.rip, CODE_LA);
		if (bad[i].decodes) {
			XT_EQ(host_user_trace.last_emulation_failure.len,
			      bad[i].len);
			XT_MEMEQ(host_user_trace.last_emulation_failure.bytes,
				 bad[i].code, bad[i].len);
		}
		if (!bad[i].decodes) {
			fx_destroy(f);
			continue;
		}
		/* Linux's emulation_failure layout: flags, then the bytes */
		XT_EQ(run->emulation_failure.flags,
		      KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES);
		XT_ASSERT(run->emulation_failure.ndata >= 3);
		XT_EQ(run->emulation_failure.insn_size, bad[i].len);
		XT_MEMEQ(run->emulation_failure.insn_bytes, bad[i].code,
			 bad[i].len);
		fx_destroy(f);
	}
}

XT_TEST(mmio, write_to_readonly_slot_exits)
{
	struct fx *f = long_fx();
	static const u8 code[] = { 0x89, 0x08 }; /* mov [rax], ecx */
	struct kvm_regs r;

	fx_mem(f, 1, 0x800000, 1, KVM_MEM_READONLY);
	fx_poke(f, CODE_GPA, code, 2);
	fill_gprs(f, &r);
	r.rax = RO_LA + 0x10; /* mapped to 0x800000 by long_fx() */
	fx_set_regs(f, &r);
	FX_SCRIPT(f, { .kind = FAKE_NPF, .gpa = 0x800010, .write = true });
	fx_run_expect(f, KVM_EXIT_MMIO);
	XT_EQ(f->run->mmio.phys_addr, 0x800010);
	XT_EQ(f->run->mmio.is_write, 1);
	XT_MEMEQ(f->run->mmio.data, &r.rcx, 4);
}

XT_TEST(mmio, fetch_faults)
{
	struct fx *f = long_fx();
	static const u8 tail[] = { 0x89, 0x08 };        /* fits the page */
	static const u8 split[] = { 0x48, 0x89, 0x08 }; /* does not */
	struct fake_event ev[2];
	struct kvm_regs r;

	/* a 2-byte MOV at the end of the last mapped page: fine */
	fx_poke(f, CODE_GPA + 0x1ffe, tail, 2);
	fx_get_regs(f, &r);
	r.rip = CODE_LA + 0x1ffe;
	fx_set_regs(f, &r);
	FX_SCRIPT(f, { .kind = FAKE_NPF, .gpa = MMIO_GPA, .write = true });
	fx_run_expect(f, KVM_EXIT_MMIO);
	XT_EQ(fx_rip(f), CODE_LA + 0x2000);
	/* a 3-byte one that runs into the unmapped page: #PF, no exit */
	fx_poke(f, CODE_GPA + 0x1ffe, split, 2);
	fx_set_rip(f, CODE_LA + 0x1ffe);
	FX_SCRIPT(f, { .kind = FAKE_NPF, .gpa = MMIO_GPA, .write = true });
	fx_run_to_end(f);
	XT_EQ(fake_events(f->v, ev, 2), 1);
	XT_EQ(ev[0].vector, XK_EXC_PF);
	XT_EQ(ev[0].cr2, CODE_LA + 0x2000);
	XT_EQ(fx_rip(f), CODE_LA + 0x1ffe);
	/* code outside every slot: the emulator cannot even fetch it */
	fx_real_mode(f, 0);
	fx_get_regs(f, &r);
	r.rip = 0x0;
	fx_set_regs(f, &r);
	{
		struct kvm_sregs s;

		fx_get_sregs(f, &s);
		s.cs.base = 0xd0000; /* no slot there */
		fx_set_sregs(f, &s);
	}
	FX_SCRIPT(f, { .kind = FAKE_NPF, .gpa = 0xd0000 });
	fx_run_expect(f, KVM_EXIT_INTERNAL_ERROR);
	XT_EQ(f->run->internal.suberror, KVM_INTERNAL_ERROR_EMULATION);
}

/*
 * KVM's pieces of an MMIO access: at a page boundary and into 8-byte exits.
 * An 8-byte read across two device pages is two 4-byte read exits (the
 * second page mapped elsewhere); a 16-byte SSE store is two 8-byte write
 * exits, the second at the next KVM_RUN without guest entry; a 16-byte
 * load across the pages is two 8-byte read exits and lands in XMM12 (and
 * XSTATE_BV gets the SSE bit so that XRSTOR loads it).  The fake guest is
 * C code on the real CPU, between XRSTOR and XSAVE of the image: the test
 * compares the store's data with XMM1 in the image at the exit, and picks
 * XMM12 for the load, which the C library leaves alone.
 */
XT_TEST(mmio, pieces)
{
	struct fx *f = long_fx();
	static const u8 code[] = {
		0x48, 0x8b, 0x03,             /* mov rax, [rbx] */
		0xf3, 0x0f, 0x7f, 0x09,       /* movdqu [rcx], xmm1 */
		0xf3, 0x44, 0x0f, 0x6f, 0x22, /* movdqu xmm12, [rdx] */
	};
	u8 *xmm = (u8 *)f->v->fpu + 160, want[16];
	struct kvm_sregs s;
	struct kvm_regs r;
	u64 lo = 0x1122334455667788ULL, hi = 0x99aabbccddeeff00ULL, d, x, bv;
	u32 a = 0xdeadbeef, b = 0x0badf00d;

	fx_get_sregs(f, &s);
	fx_pt_map(f, s.cr3, MMIO_LA + 0x1000, MMIO_GPA + 0x5000, 0);
	s.cr4 |= 0x200; /* OSFXSR */
	fx_set_sregs(f, &s);
	fx_poke(f, CODE_GPA, code, sizeof(code));
	fx_get_regs(f, &r);
	r.rbx = MMIO_LA + 0xffc;
	r.rcx = MMIO_LA + 0x10;
	r.rdx = MMIO_LA + 0xff8;
	fx_set_regs(f, &r);
	FX_SCRIPT(f, { .kind = FAKE_NPF, .gpa = MMIO_GPA + 0xffc },
		  { .kind = FAKE_NPF, .gpa = MMIO_GPA + 0x10, .write = true },
		  { .kind = FAKE_NPF, .gpa = MMIO_GPA + 0xff8 });
	fx_run_expect(f, KVM_EXIT_MMIO);
	XT_EQ(f->run->mmio.phys_addr, MMIO_GPA + 0xffc);
	XT_EQ(f->run->mmio.len, 4);
	XT_EQ(f->run->mmio.is_write, 0);
	memcpy(f->run->mmio.data, &a, 4);
	fx_run_expect(f, KVM_EXIT_MMIO);
	XT_EQ(f->run->mmio.phys_addr, MMIO_GPA + 0x5000);
	XT_EQ(f->run->mmio.len, 4);
	XT_EQ(f->run->mmio.is_write, 0);
	memcpy(f->run->mmio.data, &b, 4);
	/* the store's two pieces */
	fx_run_expect(f, KVM_EXIT_MMIO);
	fx_get_regs(f, &r);
	XT_EQ(r.rax, (u64)b << 32 | a);
	XT_EQ(r.rip, CODE_LA + 7); /* a write exits with RIP past it */
	XT_EQ(f->run->mmio.phys_addr, MMIO_GPA + 0x10);
	XT_EQ(f->run->mmio.len, 8);
	XT_EQ(f->run->mmio.is_write, 1);
	memcpy(&d, f->run->mmio.data, 8);
	memcpy(&x, xmm + 16, 8);
	XT_EQ(d, x);
	fx_run_expect(f, KVM_EXIT_MMIO);
	XT_EQ(f->run->mmio.phys_addr, MMIO_GPA + 0x18);
	XT_EQ(f->run->mmio.len, 8);
	XT_EQ(f->run->mmio.is_write, 1);
	memcpy(&d, f->run->mmio.data, 8);
	memcpy(&x, xmm + 24, 8);
	XT_EQ(d, x);
	/* the load across the pages */
	fx_run_expect(f, KVM_EXIT_MMIO);
	XT_EQ(f->run->mmio.phys_addr, MMIO_GPA + 0xff8);
	XT_EQ(f->run->mmio.len, 8);
	XT_EQ(f->run->mmio.is_write, 0);
	memcpy(f->run->mmio.data, &lo, 8);
	fx_run_expect(f, KVM_EXIT_MMIO);
	XT_EQ(f->run->mmio.phys_addr, MMIO_GPA + 0x5000);
	XT_EQ(f->run->mmio.len, 8);
	XT_EQ(f->run->mmio.is_write, 0);
	memcpy(f->run->mmio.data, &hi, 8);
	fx_run_to_end(f);
	fx_get_regs(f, &r);
	XT_EQ(r.rip, CODE_LA + sizeof(code));
	memcpy(want, &lo, 8);
	memcpy(want + 8, &hi, 8);
	XT_MEMEQ(xmm + 16 * 12, want, 16);
	memcpy(&bv, (u8 *)f->v->fpu + 512, 8);
	XT_ASSERT(bv & 2);
	XT_EQ(f->v->stats.mmio_exits, 6);
	fx_destroy(f);
}

/*
 * MOVS has two memory operands and the nested fault's GPA belongs to only
 * one of them: the other, at the same page offset in another page, must be
 * walked (Linux: emulator_can_use_gpa).  Device page to device page with
 * the fault on the source; RAM to device with the fault on the destination.
 */
XT_TEST(mmio, movs_two_pages_same_offset)
{
	struct fx *f = long_fx();
	static const u8 code[] = { 0xa5, 0xa5 }; /* movsd; movsd */
	struct kvm_sregs s;
	struct kvm_regs r;
	u32 v = 0x13572468, ram = 0xa1b2c3d4;

	fx_get_sregs(f, &s);
	fx_pt_map(f, s.cr3, MMIO_LA + 0x1000, MMIO_GPA + 0x5000, 0);
	fx_poke(f, CODE_GPA, code, sizeof(code));
	fx_poke(f, CODE_GPA + 0x1040, &ram, 4);
	fx_get_regs(f, &r);
	r.rsi = MMIO_LA + 0x40;
	r.rdi = MMIO_LA + 0x1040;
	fx_set_regs(f, &r);
	FX_SCRIPT(f, { .kind = FAKE_NPF, .gpa = MMIO_GPA + 0x40 },
		  { .kind = FAKE_NPF,
		    .gpa = MMIO_GPA + 0x40,
		    .write = true,
		    .guest = NULL });
	fx_run_expect(f, KVM_EXIT_MMIO);
	XT_EQ(f->run->mmio.phys_addr, MMIO_GPA + 0x40);
	XT_EQ(f->run->mmio.is_write, 0);
	memcpy(f->run->mmio.data, &v, 4);
	fx_run_expect(f, KVM_EXIT_MMIO);
	XT_EQ(f->run->mmio.phys_addr, MMIO_GPA + 0x5040);
	XT_EQ(f->run->mmio.len, 4);
	XT_EQ(f->run->mmio.is_write, 1);
	XT_MEMEQ(f->run->mmio.data, &v, 4);
	/* the second MOVSD: from RAM at offset 0x40 of its page */
	fx_get_regs(f, &r);
	XT_EQ(r.rip, CODE_LA + 1);
	r.rsi = CODE_LA + 0x1040;
	r.rdi = MMIO_LA + 0x40;
	fx_set_regs(f, &r);
	fx_run_expect(f, KVM_EXIT_MMIO);
	XT_EQ(f->run->mmio.phys_addr, MMIO_GPA + 0x40);
	XT_EQ(f->run->mmio.is_write, 1);
	XT_MEMEQ(f->run->mmio.data, &ram, 4);
	fx_run_to_end(f);
	fx_destroy(f);
}
