// SPDX-License-Identifier: GPL-2.0
/*
 * regs - KVM_SET_REGS/KVM_GET_REGS and KVM_SET_SREGS/KVM_GET_SREGS round
 * trips, and register state flowing both ways through a running guest.
 *
 * 1. Every general register, RIP and RFLAGS set, read back identically.
 * 2. A long-mode SREGS with distinctive values in every segment field
 *    (selector, base, limit, type with the accessed bit, present, DPL 0,
 *    DB, S, L, G), CR0, CR2, CR3, CR4, CR8, EFER, APIC base, GDT and IDT,
 *    read back identically.  Only values both drivers must preserve are
 *    used: "canonical" attribute combinations as a CPU would cache them.
 * 3. The guest (64-bit asm) checks the GPRs the host set, then loads its own
 *    values and halts; the host reads them at the HLT exit.
 */
#include "guest_asm.h"

#include <string.h>

// clang-format off
__asm__(".pushsection .text.guest, \"ax\"\n"
	".code64\n"
	"regs_guest:\n\t"
	"cmp $0x1111, %rax\n\tjne 8f\n\t"
	"movabs $0x2222222222222222, %r11\n\tcmp %r11, %rbx\n\tjne 8f\n\t"
	"movabs $0x8888888888888888, %r11\n\tcmp %r11, %r8\n\tjne 8f\n\t"
	"movabs $0xfafafafafafafafa, %r11\n\tcmp %r11, %r15\n\tjne 8f\n\t"
	"movabs $0xa0a0a0a0a0a0a0a0, %rax\n\t"
	"movabs $0xb0b0b0b0b0b0b0b0, %rbx\n\t"
	"movabs $0xc0c0c0c0c0c0c0c0, %rcx\n\t"
	"movabs $0xd0d0d0d0d0d0d0d0, %rdx\n\t"
	"movabs $0x9999999999999999, %r9\n\t"
	"movabs $0xefefefefefefefef, %r14\n\t"
	"stc\n\t"
	"hlt\n"
	"regs_after_hlt:\n\t"
	A_DONE
	"8:\n\tmov $1, %edi\n\tmov %r11, %rsi\n\t" A_UCALL(UC_ASSERT)
	"1: hlt\n\tjmp 1b\n"
	".popsection\n");
// clang-format on
extern const char regs_guest[], regs_after_hlt[];

static void print_seg(const char *n, const struct kvm_segment *s)
{
	printf("  %-3s sel=0x%04x base=0x%llx limit=0x%x type=%u p=%u dpl=%u db=%u s=%u l=%u g=%u avl=%u\n",
	       n, s->selector, (unsigned long long)s->base, s->limit, s->type,
	       s->present, s->dpl, s->db, s->s, s->l, s->g, s->avl);
}

static void cmp_seg(const char *n, const struct kvm_segment *a,
		    const struct kvm_segment *b)
{
	KT_ASSERT(a->selector == b->selector && a->base == b->base &&
			  a->limit == b->limit && a->type == b->type &&
			  a->present == b->present && a->dpl == b->dpl &&
			  a->db == b->db && a->s == b->s && a->l == b->l &&
			  a->g == b->g && a->avl == b->avl,
		  "segment %s did not round-trip", n);
	print_seg(n, b);
}

static struct kvm_segment mkseg(uint16_t sel, uint64_t base, uint32_t limit,
				uint8_t type, uint8_t db, uint8_t l, uint8_t g,
				uint8_t s)
{
	struct kvm_segment x;

	memset(&x, 0, sizeof(x));
	x.selector = sel;
	x.base = base;
	x.limit = limit;
	x.type = type;
	x.present = 1;
	x.db = db;
	x.s = s;
	x.l = l;
	x.g = g;
	return x;
}

int main(void)
{
	struct kt_vcpu *v;
	struct kvm_regs r, g;
	struct kvm_sregs s, t;

	kt_init("regs");
	v = kt_create_default();

	/* Reset state, as the architecture defines it. */
	kt_get_sregs(v, &s);
	kt_get_regs(v, &r);
	printf("reset: rip=0x%llx rflags=0x%llx cs.sel=0x%x cs.base=0x%llx cs.limit=0x%x cr0=0x%llx\n",
	       (unsigned long long)r.rip, (unsigned long long)r.rflags,
	       s.cs.selector, (unsigned long long)s.cs.base, s.cs.limit,
	       (unsigned long long)s.cr0);
	KT_ASSERT_EQ(r.rip, 0xfff0);
	KT_ASSERT_EQ(s.cs.selector, 0xf000);
	KT_ASSERT_EQ(s.cs.base, 0xffff0000);

	/* 1. REGS */
	memset(&r, 0, sizeof(r));
	r.rax = 0x1111;
	r.rbx = 0x2222222222222222ull;
	r.rcx = 0x3333333333333333ull;
	r.rdx = 0x4444444444444444ull;
	r.rsi = 0x5555555555555555ull;
	r.rdi = 0x6666666666666666ull;
	r.rsp = KT_STACK_TOP;
	r.rbp = 0x7777777777777777ull;
	r.r8 = 0x8888888888888888ull;
	r.r9 = 0x9999;
	r.r10 = 0xa;
	r.r11 = 0xbbbb;
	r.r12 = 0xcccccccccccccccc;
	r.r13 = 0xdddd;
	r.r14 = 0xeeee;
	r.r15 = 0xfafafafafafafafaull;
	r.rip = (uint64_t)(uintptr_t)regs_guest;
	r.rflags = 0x2 | 0x1 | 0x4 | 0x40 | 0x80 | 0x800; /* CF PF ZF SF OF */
	kt_set_regs(v, &r);
	kt_get_regs(v, &g);
	KT_ASSERT(memcmp(&r, &g, sizeof(r)) == 0,
		  "KVM_GET_REGS differs from KVM_SET_REGS");
	printf("REGS round trip: all 18 fields identical (rflags=0x%llx)\n",
	       (unsigned long long)g.rflags);

	/* 2. SREGS */
	kt_build_gdt(v->vm);
	kt_build_page_tables(v->vm);
	kt_get_sregs(v, &s);
	s.cs = mkseg(KT_SEL_CODE64, 0, 0xffffffff, 0xb, 0, 1, 1, 1);
	s.ds = mkseg(KT_SEL_DATA, 0x1000, 0xfffff, 0x3, 1, 0, 0, 1);
	s.es = mkseg(KT_SEL_DATA, 0x2000, 0xffff, 0x3, 0, 0, 0, 1);
	s.fs = mkseg(KT_SEL_DATA, 0x7fff12345000ull, 0xffffffff, 0x3, 1, 0, 1,
		     1);
	s.gs = mkseg(KT_SEL_DATA, 0xffff888000001000ull, 0xffffffff, 0x3, 1, 0,
		     1, 1);
	s.ss = mkseg(KT_SEL_DATA, 0, 0xffffffff, 0x3, 1, 0, 1, 1);
	s.tr = mkseg(0x30, 0x3000, 0x67, 0xb, 0, 0, 0, 0);
	s.ldt = mkseg(0x38, 0x4000, 0xfff, 0x2, 0, 0, 0, 0);
	s.gdt.base = KT_GDT_GPA;
	s.gdt.limit = 0xff;
	s.idt.base = KT_IDT_GPA;
	s.idt.limit = 0xfff;
	s.cr0 = 0x80050033;
	s.cr2 = 0xdead0000beefull;
	s.cr3 = KT_PT_GPA;
	s.cr4 = 0x6a0;
	s.cr8 = 5;
	s.efer = 0xd01;
	s.apic_base = 0xfee00900;
	memset(s.interrupt_bitmap, 0, sizeof(s.interrupt_bitmap));
	kt_set_sregs(v, &s);
	kt_get_sregs(v, &t);
	printf("SREGS round trip:\n");
	cmp_seg("cs", &s.cs, &t.cs);
	cmp_seg("ds", &s.ds, &t.ds);
	cmp_seg("es", &s.es, &t.es);
	cmp_seg("fs", &s.fs, &t.fs);
	cmp_seg("gs", &s.gs, &t.gs);
	cmp_seg("ss", &s.ss, &t.ss);
	cmp_seg("tr", &s.tr, &t.tr);
	cmp_seg("ldt", &s.ldt, &t.ldt);
	printf("  gdt=0x%llx/0x%x idt=0x%llx/0x%x\n",
	       (unsigned long long)t.gdt.base, t.gdt.limit,
	       (unsigned long long)t.idt.base, t.idt.limit);
	printf("  cr0=0x%llx cr2=0x%llx cr3=0x%llx cr4=0x%llx cr8=0x%llx efer=0x%llx apic_base=0x%llx\n",
	       (unsigned long long)t.cr0, (unsigned long long)t.cr2,
	       (unsigned long long)t.cr3, (unsigned long long)t.cr4,
	       (unsigned long long)t.cr8, (unsigned long long)t.efer,
	       (unsigned long long)t.apic_base);
	KT_ASSERT_EQ(t.gdt.base, s.gdt.base);
	KT_ASSERT_EQ(t.gdt.limit, s.gdt.limit);
	KT_ASSERT_EQ(t.idt.base, s.idt.base);
	KT_ASSERT_EQ(t.idt.limit, s.idt.limit);
	KT_ASSERT_EQ(t.cr0, s.cr0);
	KT_ASSERT_EQ(t.cr2, s.cr2);
	KT_ASSERT_EQ(t.cr3, s.cr3);
	KT_ASSERT_EQ(t.cr4, s.cr4);
	KT_ASSERT_EQ(t.cr8, s.cr8);
	KT_ASSERT_EQ(t.efer, s.efer);
	KT_ASSERT_EQ(t.apic_base, s.apic_base);

	/* 3. Through the guest: the state above is runnable long mode. */
	kt_run_expect(v, KVM_EXIT_HLT);
	kt_get_regs(v, &g);
	printf("guest saw the host's registers and set its own: rax=0x%llx rbx=0x%llx rcx=0x%llx "
	       "rdx=0x%llx r9=0x%llx r14=0x%llx CF=%llu rip past hlt: %s\n",
	       (unsigned long long)g.rax, (unsigned long long)g.rbx,
	       (unsigned long long)g.rcx, (unsigned long long)g.rdx,
	       (unsigned long long)g.r9, (unsigned long long)g.r14,
	       (unsigned long long)(g.rflags & 1),
	       g.rip == (uint64_t)(uintptr_t)regs_after_hlt ? "yes" : "no");
	KT_ASSERT_EQ(g.rax, 0xa0a0a0a0a0a0a0a0ull);
	KT_ASSERT_EQ(g.rbx, 0xb0b0b0b0b0b0b0b0ull);
	KT_ASSERT_EQ(g.rcx, 0xc0c0c0c0c0c0c0c0ull);
	KT_ASSERT_EQ(g.rdx, 0xd0d0d0d0d0d0d0d0ull);
	KT_ASSERT_EQ(g.r9, 0x9999999999999999ull);
	KT_ASSERT_EQ(g.r14, 0xefefefefefefefefull);
	KT_ASSERT_EQ(g.r12, 0xccccccccccccccccull); /* untouched by the guest */
	KT_ASSERT_EQ(g.rflags & 1, 1);
	KT_ASSERT_EQ(g.rip, (uint64_t)(uintptr_t)regs_after_hlt);
	kt_expect_done(v);
	kt_pass();
}
