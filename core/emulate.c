// SPDX-License-Identifier: GPL-2.0
/*
 * emulate.c - what the core does for an intercepted instruction: port I/O
 * (plain, string and REP forms), MMIO, CPUID, RDMSR/WRMSR, HLT, and the
 * next-RIP computation when the CPU does not report it.
 *
 * Theory.
 *
 * Port I/O.  The exit hands the VMM one batch: kvm_run->io with the data in
 * the page after kvm_run.  As in Linux, RIP (and for string forms RSI/RDI
 * and RCX) move only when the VMM calls KVM_RUN again, so a VMM that reads
 * the registers at the exit sees the instruction not yet executed; if the
 * VMM changed RIP meanwhile the completion is dropped.  A REP string
 * instruction is cut into batches that neither overflow the data page nor
 * cross a guest page; until RCX reaches zero the instruction restarts and
 * exits again.  Linux's quirk is kept: an OUT to port 0x7e advances RIP
 * before the exit.
 *
 * MMIO.  A guest access to a physical address outside every slot (or a write
 * to a read-only slot) is decoded by core/decode.c from the bytes at CS:RIP,
 * fetched through the guest's page tables (core/gwalk.c).  A write exits
 * with the data and RIP already past the instruction; a read exits and is
 * completed by the next KVM_RUN.  As in KVM, an access is cut at a page
 * boundary and into pieces of at most 8 bytes, each device piece its own
 * exit (a 16-byte MOVDQU store: two 8-byte write exits, the second at the
 * next KVM_RUN without entering the guest).  The nested fault's GPA saves
 * the page walk for an access at the same page offset, but only when the
 * instruction has a single memory operand (not MOVS, as Linux).  Anything
 * the small emulator does not know ends in KVM_EXIT_INTERNAL_ERROR with the
 * instruction bytes: the VM stops, the host does not.
 *
 * ioeventfds.  A port or MMIO write that a KVM_IOEVENTFD registration takes
 * (core/ioeventfd.c) signals its eventfd and completes at once, without an
 * exit; reads always go to the VMM.
 */
#include "xkvm.h"
#include "irqchip.h"
#include "decode.h"
#include "gwalk.h"

void xk_queue_exception(struct xk_vcpu *v, u8 vector, bool has_error, u32 error)
{
	v->exception.pending = true;
	v->exception.vector = vector;
	v->exception.has_error = has_error;
	v->exception.error = error;
}

void xk_skip_to(struct xk_vcpu *v, u64 next_rip)
{
	v->rip = next_rip;
	v->skipped = true;
}

int xk_internal_error(struct xk_vcpu *v, u32 suberror, u64 code, u64 info1,
		      u64 info2)
{
	struct kvm_run *run = v->run;

	run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	run->internal.suberror = suberror;
	run->internal.ndata = 4;
	run->internal.data[0] = code;
	run->internal.data[1] = (u64)(s64)v->cpu;
	run->internal.data[2] = info1;
	run->internal.data[3] = info2;
	return 0;
}

/* ---- guest memory by linear address -------------------------------- */

static int gmem_read(void *opaque, u64 gpa, void *buf, u32 len)
{
	return xk_gpa_read(opaque, gpa, buf, len);
}

static int gmem_write(void *opaque, u64 gpa, const void *buf, u32 len)
{
	return xk_gpa_write(opaque, gpa, buf, len);
}

struct xk_guest_view {
	struct kvm_sregs s;
	struct xk_paging pg;
	struct xk_gmem mem;
	unsigned int cpl;
	enum xk_cpu_mode mode;
};

/* The host's physical address width, which the guest's walks obey too. */
u8 xk_host_maxphyaddr(void)
{
	static u8 bits;
	u32 a, b, c, d;

	if (!bits) {
		xk_cpuid(0x80000000, 0, &a, &b, &c, &d);
		if (a >= 0x80000008) {
			xk_cpuid(0x80000008, 0, &a, &b, &c, &d);
			bits = a & 0xff;
		} else {
			bits = 36;
		}
	}
	return bits;
}

static void view_init(struct xk_vcpu *v, struct xk_guest_view *g)
{
	xk_memset(g, 0, sizeof(*g));
	xk_ops->get_sregs(v, &g->s);
	g->pg.cr0 = g->s.cr0;
	g->pg.cr3 = g->s.cr3;
	g->pg.cr4 = g->s.cr4;
	g->pg.efer = g->s.efer;
	g->pg.pkru = v->pkru; /* the guest's, read back at every exit */
	g->pg.maxphyaddr = xk_host_maxphyaddr();
	g->mem.read = gmem_read;
	g->mem.write = gmem_write;
	g->mem.opaque = v->vm;
	g->cpl = g->s.ss.dpl;
	if (!(g->s.cr0 & XK_CR0_PE))
		g->mode = XK_MODE_REAL;
	else if (v->rflags & XK_RFLAGS_VM)
		g->mode = XK_MODE_VM86;
	else if ((g->s.efer & XK_EFER_LMA) && g->s.cs.l)
		g->mode = XK_MODE_LONG64;
	else
		g->mode = g->s.cs.db ? XK_MODE_PROT32 : XK_MODE_PROT16;
	if (g->mode == XK_MODE_REAL)
		g->cpl = 0;
	else if (g->mode == XK_MODE_VM86)
		g->cpl = 3;
}

/* A page fault for the guest, at la with error code pfec. */
static void queue_pf(struct xk_vcpu *v, u32 pfec, u64 la)
{
	xk_queue_exception(v, XK_EXC_PF, true, pfec);
	v->exception.cr2 = la;
	v->stats.pf_guest++;
}

/*
 * Copy len bytes at guest linear address la.  Every page is translated
 * before a byte moves, so a fault leaves guest memory as it was.  Returns 0,
 * or 1 after queueing a #PF for the guest, or -EFAULT when the page tables
 * point outside the guest's memory.
 */
static int linear_copy(struct xk_vcpu *v, struct xk_guest_view *g, u64 la,
		       void *buf, u32 len, unsigned int acc)
{
	u64 fault_la = 0;
	u32 pfec = 0;
	int r;

	if (g->cpl == 3)
		acc |= XK_ACC_USER;
	if (acc & XK_ACC_WRITE)
		r = xk_write_guest_linear(&g->pg, &g->mem, la, buf, len,
					  acc & ~XK_ACC_WRITE, &pfec,
					  &fault_la);
	else
		r = xk_read_guest_linear(&g->pg, &g->mem, la, buf, len, acc,
					 &pfec, &fault_la);
	if (r == XK_WALK_FAULT) {
		queue_pf(v, pfec, fault_la);
		return 1;
	}
	return r ? -EFAULT : 0;
}

/*
 * Fetch and decode the instruction at CS:RIP: 0, 1 (#PF queued), <0.  The
 * bytes are fetched from the first page alone when that holds the whole
 * instruction, so an unmapped next page faults only if it is really needed.
 */
static int fetch_insn(struct xk_vcpu *v, struct xk_guest_view *g,
		      struct xk_insn *insn, u8 *bytes, u32 *nbytes)
{
	u64 la = g->s.cs.base + v->rip;
	u32 n;
	int r;

	if (g->mode != XK_MODE_LONG64)
		la &= 0xffffffffULL;
	n = XK_MIN((u32)XK_INSN_MAX,
		   (u32)(XK_PAGE_SIZE - (la & ~XK_PAGE_MASK)));
	r = linear_copy(v, g, la, bytes, n, XK_ACC_FETCH);
	if (r)
		return r;
	r = xk_decode_ex(bytes, n, g->mode, XK_DEC_AMD, insn);
	if (r == XK_DECODE_SHORT) {
		r = linear_copy(v, g, la + n, bytes + n, XK_INSN_MAX - n,
				XK_ACC_FETCH);
		if (r)
			return r;
		n = XK_INSN_MAX;
		r = xk_decode_ex(bytes, n, g->mode, XK_DEC_AMD, insn);
	}
	*nbytes = n;
	return r ? -EINVAL : 0;
}

/* Every emulation failure comes through here (the trace probe's one site). */
static void emulation_failure(struct xk_vcpu *v, const u8 *bytes, u32 n)
{
	struct kvm_run *run = v->run;

	v->stats.insn_emulation_fail++;
	host_trace_emulation_failure(v->pid, v->id, v->rip, bytes, n);
	run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	run->internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
	run->internal.ndata = 0;
}

int xk_emulation_failed(struct xk_vcpu *v)
{
	emulation_failure(v, NULL, 0);
	return 0;
}

/* Linux's report of an instruction it cannot emulate, with its bytes. */
static int emulation_failed_bytes(struct xk_vcpu *v, const u8 *bytes, u32 n)
{
	struct kvm_run *run = v->run;

	n = XK_MIN(n, (u32)sizeof(run->emulation_failure.insn_bytes));
	emulation_failure(v, bytes, n);
	run->emulation_failure.ndata = 3; /* flags and the two words of bytes */
	run->emulation_failure.flags =
		KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES;
	run->emulation_failure.insn_size = (u8)n;
	xk_memset(run->emulation_failure.insn_bytes, 0,
		  sizeof(run->emulation_failure.insn_bytes));
	xk_memcpy(run->emulation_failure.insn_bytes, bytes, n);
	return 0;
}

int xk_next_rip(struct xk_vcpu *v, u64 *next)
{
	struct xk_guest_view g;
	struct xk_insn insn;
	u8 bytes[16];
	u32 n = 0;
	int r;

	view_init(v, &g);
	r = fetch_insn(v, &g, &insn, bytes, &n);
	if (r)
		return r;
	*next = v->rip + insn.len;
	if (g.mode != XK_MODE_LONG64)
		*next &= g.mode == XK_MODE_PROT32 ? 0xffffffffULL : 0xffffULL;
	return 0;
}

/* ---- port I/O ------------------------------------------------------- */

static u64 addr_mask(u8 addr_size)
{
	return addr_size == 8 ? ~0ULL : (1ULL << (8 * addr_size)) - 1;
}

/* Write a register the way an instruction with that address size does. */
static void set_reg_sized(struct xk_vcpu *v, int reg, u64 val, u8 size)
{
	if (size == 8)
		v->gpr[reg] = val;
	else if (size == 4)
		v->gpr[reg] = val & 0xffffffffULL;
	else
		v->gpr[reg] = (v->gpr[reg] & ~0xffffULL) | (val & 0xffff);
}

static void pio_exit(struct xk_vcpu *v, const struct xk_pio *p)
{
	struct kvm_run *run = v->run;

	run->exit_reason = KVM_EXIT_IO;
	run->io.direction = p->in ? KVM_EXIT_IO_IN : KVM_EXIT_IO_OUT;
	run->io.size = p->size;
	run->io.port = p->port;
	run->io.count = p->count;
	run->io.data_offset = XK_PIO_OFFSET;
	v->stats.io_exits++;
}

/*
 * Segment, address size, base address and element step of this string
 * instruction, from our own decode: the exit's address-size bits are not
 * trusted (QEMU's emulated SVM reports them one bit off) and its segment
 * field needs decode assists.
 */
static int string_setup(struct xk_vcpu *v, struct xk_guest_view *g,
			struct xk_pio *p, u64 *la, s64 *step, u64 *offp)
{
	const struct kvm_segment *seg = p->in ? &g->s.es : &g->s.ds;
	struct xk_insn insn;
	u8 bytes[16];
	u32 n;
	u64 off;
	int r = fetch_insn(v, g, &insn, bytes, &n);

	if (r)
		return r;
	p->addr_size = insn.addrsize;
	off = v->gpr[p->in ? XK_RDI : XK_RSI] & addr_mask(p->addr_size);
	if (!p->in) {
		switch (insn.seg) {
		case XK_ES:
			seg = &g->s.es;
			break;
		case XK_CS:
			seg = &g->s.cs;
			break;
		case XK_SS:
			seg = &g->s.ss;
			break;
		case XK_FS:
			seg = &g->s.fs;
			break;
		case XK_GS:
			seg = &g->s.gs;
			break;
		default:
			break;
		}
	}
	if (g->mode == XK_MODE_LONG64 && seg != &g->s.fs && seg != &g->s.gs)
		*la = off;
	else
		*la = seg->base + off;
	if (g->mode != XK_MODE_LONG64)
		*la &= 0xffffffffULL;
	*step = (v->rflags & XK_RFLAGS_DF) ? -(s64)p->size : p->size;
	*offp = off;
	return 0;
}

/*
 * How many elements of this batch fit the data page, one guest page, and the
 * index register before it wraps at the address size.  A first element that
 * itself straddles two pages goes alone.
 */
static u32 string_batch(u64 la, s64 step, u8 size, u64 count, u64 off,
			u8 addr_size)
{
	u64 in_page, wrap, n;

	if ((la & ~XK_PAGE_MASK) + size > XK_PAGE_SIZE)
		return 1;
	in_page = step > 0 ? XK_PAGE_SIZE - (la & ~XK_PAGE_MASK) :
			     (la & ~XK_PAGE_MASK) + size;
	wrap = step > 0 ? (addr_mask(addr_size) - off + 1) / size :
			  off / size + 1;
	n = XK_MIN(count, XK_PAGE_SIZE / size);
	n = XK_MIN(n, in_page / size);
	n = XK_MIN(n, wrap);
	return n ? (u32)n : 1;
}

static int string_copy(struct xk_vcpu *v, struct xk_guest_view *g, u64 la,
		       s64 step, struct xk_pio *p, bool to_guest)
{
	u32 i;
	int r;

	for (i = 0; i < p->count; i++) {
		u8 *d = (u8 *)v->pio_data + i * p->size;

		u64 ea = la + (u64)(step * (s64)i);

		if (g->mode != XK_MODE_LONG64)
			ea &= 0xffffffffULL;
		r = linear_copy(v, g, ea, d, p->size,
				to_guest ? XK_ACC_WRITE : 0);
		if (r)
			return r;
	}
	return 0;
}

/* Move RSI/RDI and RCX on past p->count elements; done: RIP past it. */
static void string_advance(struct xk_vcpu *v, const struct xk_pio *p, s64 step)
{
	int ptr = p->in ? XK_RDI : XK_RSI;
	u64 left = 0;

	set_reg_sized(v, ptr, v->gpr[ptr] + (u64)(step * (s64)p->count),
		      p->addr_size);
	if (p->rep) {
		left = (v->gpr[XK_RCX] & addr_mask(p->addr_size)) - p->count;
		set_reg_sized(v, XK_RCX, left, p->addr_size);
	}
	if (left == 0)
		xk_skip_to(v, p->next_rip);
}

/*
 * OUTS elements that an ioeventfd takes.  Linux emulates a string OUT one
 * element at a time, each either taken in the kernel or sent to the VMM.
 * Here the leading elements of the batch that are taken are signalled and
 * done at once (true: re-enter; the guest's REP goes on from there); when
 * the first is not taken, the batch is cut before the first element that
 * would be, so the VMM gets only what Linux would give it.
 */
static bool string_out_ioeventfd(struct xk_vcpu *v, struct xk_pio *p, s64 step)
{
	const u8 *d = v->pio_data;
	u32 i;

	if (!XK_READ_ONCE(v->vm->ioevs))
		return false;
	if (!xk_ioeventfd_write(v->vm, XK_IOBUS_PIO, p->port, p->size, d)) {
		for (i = 1; i < p->count; i++)
			if (xk_ioeventfd_would_take(v->vm, XK_IOBUS_PIO,
						    p->port, p->size,
						    d + i * p->size))
				break;
		p->count = i;
		return false;
	}
	for (i = 1; i < p->count; i++)
		if (!xk_ioeventfd_write(v->vm, XK_IOBUS_PIO, p->port, p->size,
					d + i * p->size))
			break;
	p->count = i;
	string_advance(v, p, step);
	return true;
}

/* An IN's data into AL, AX or EAX (zero-extended to RAX). */
static void pio_merge_in(struct xk_vcpu *v, u8 size, u64 val)
{
	if (size == 4)
		v->gpr[XK_RAX] = val & 0xffffffffULL;
	else if (size == 2)
		v->gpr[XK_RAX] = (v->gpr[XK_RAX] & ~0xffffULL) | (val & 0xffff);
	else
		v->gpr[XK_RAX] = (v->gpr[XK_RAX] & ~0xffULL) | (val & 0xff);
}

int xk_handle_pio(struct xk_vcpu *v, u16 port, u8 size, bool in, bool string,
		  bool rep, u8 addr_size, u64 next_rip)
{
	struct xk_pio *p = &v->pio;
	struct xk_guest_view g;
	u64 la, count, off;
	s64 step;
	int r;

	host_trace_pio(v->pid, v->id, port, size, in,
		       string && rep ? v->gpr[XK_RCX] & addr_mask(addr_size) :
				       1);
	xk_memset(p, 0, sizeof(*p));
	p->in = in;
	p->size = size;
	p->port = port;
	p->string = string;
	p->rep = rep;
	p->addr_size = addr_size;
	p->next_rip = next_rip;
	p->count = 1;
	if (!string) {
		u32 dev = (u32)v->gpr[XK_RAX];

		/* the in-kernel PIC and PIT: no exit */
		if (xk_irqchip_pio(v, port, size, in, &dev)) {
			if (in)
				pio_merge_in(v, size, dev);
			xk_skip_to(v, next_rip);
			return 1;
		}
		if (!in) {
			u64 val = v->gpr[XK_RAX];

			xk_memcpy(v->pio_data, &val, size);
			/* an ioeventfd takes it: no exit (Linux: kernel_pio) */
			if (xk_ioeventfd_write(v->vm, XK_IOBUS_PIO, port, size,
					       &val)) {
				xk_skip_to(v, next_rip);
				return 1;
			}
		}
		if (!in && port == 0x7e) {
			/* Linux's KVM_X86_QUIRK_OUT_7E_INC_RIP */
			xk_skip_to(v, next_rip);
		} else {
			p->pending = true;
			p->rip = v->rip;
		}
		pio_exit(v, p);
		return 0;
	}

	v->stats.insn_emulation++; /* each batch of a string instruction */
	view_init(v, &g);
	r = string_setup(v, &g, p, &la, &step, &off);
	if (r)
		return r < 0 ? xk_emulation_failed(v) : 1;
	count = rep ? v->gpr[XK_RCX] & addr_mask(p->addr_size) : 1;
	if (count == 0) {
		xk_skip_to(v, next_rip);
		return 1;
	}
	p->count = string_batch(la, step, size, count, off, p->addr_size);
	if (!in) {
		r = string_copy(v, &g, la, step, p, false);
		if (r)
			return r < 0 ? xk_emulation_failed(v) : 1;
		if (string_out_ioeventfd(v, p, step))
			return 1;
	}
	p->pending = true;
	p->rip = v->rip;
	pio_exit(v, p);
	return 0;
}

/* The VMM is done with a string batch: move the registers on. */
int xk_pio_string_complete(struct xk_vcpu *v)
{
	struct xk_pio *p = &v->pio;
	struct xk_guest_view g;
	u64 la, off;
	s64 step;
	int r;

	if (v->rip != p->rip)
		return 1; /* the VMM moved the vCPU elsewhere */
	view_init(v, &g);
	r = string_setup(v, &g, p, &la, &step, &off);
	if (r)
		return r < 0 ? xk_emulation_failed(v) : 1;
	if (p->in) {
		r = string_copy(v, &g, la, step, p, true);
		if (r)
			return r < 0 ? xk_emulation_failed(v) : 1;
	}
	string_advance(v, p, step);
	return 1;
}

/* ---- MMIO ------------------------------------------------------------ */

/* The XMM registers and XSTATE_BV in the vCPU's FXSAVE/XSAVE image (the
 * image is at least 576 bytes: see vcpu.c) */
#define FX_XMM_OFF 160
#define XSTATE_BV_OFF 512

/* What the emulator's callbacks need: the vCPU and its guest view. */
struct mmio_ctx {
	struct xk_vcpu *v;
	struct xk_guest_view *g;
	struct xk_emul *e;
};

/*
 * Linear address to guest physical, for one access that stays in a page.
 * 0, XK_EMUL_FAULT (a #PF queued) or XK_EMUL_UNHANDLED.
 */
static int mmio_translate(struct mmio_ctx *c, u64 la, unsigned int acc,
			  u64 *gpa)
{
	u32 pfec = 0;
	int r;

	if (c->g->cpl == 3)
		acc |= XK_ACC_USER;
	r = xk_gva_to_gpa(&c->g->pg, &c->g->mem, la, acc, gpa, &pfec);
	if (r == XK_WALK_FAULT) {
		queue_pf(c->v, pfec, la);
		return XK_EMUL_FAULT;
	}
	return r ? XK_EMUL_UNHANDLED : 0;
}

/*
 * The pieces of an access, as KVM cuts them: at the page boundary (both
 * pages translated before anything is done), then into pieces of at most
 * 8 bytes, each one exit when it is device memory.  Returns the number of
 * pieces (at most 3 for 16 bytes), or minus XK_EMUL_FAULT / _UNHANDLED.
 */
#define MMIO_PIECE 8
#define MMIO_PIECES_MAX 3

struct mmio_piece {
	u64 la, gpa;
	u32 len, off; /* off: where in the access's buffer */
};

static int mmio_pieces(struct mmio_ctx *c, u64 la, u32 len, unsigned int acc,
		       struct mmio_piece *p)
{
	u64 part = la, gpa;
	u32 done = 0, o;
	int n = 0, r;

	if (len > XK_EMUL_MAX_ACCESS)
		return -XK_EMUL_UNHANDLED;
	while (done < len) {
		u32 plen = XK_MIN(len - done,
				  (u32)(XK_PAGE_SIZE - (part & ~XK_PAGE_MASK)));

		/*
		 * The nested fault already gave the physical address of the
		 * access that caused it: when the page offset agrees, as
		 * Linux does, take it rather than walk the tables again --
		 * unless the instruction has two memory operands (see
		 * two_mem_operands()).
		 */
		if (!done && c->v->mmio.fault_gpa_ok &&
		    (part & ~XK_PAGE_MASK) ==
			    (c->v->mmio.fault_gpa & ~XK_PAGE_MASK)) {
			gpa = c->v->mmio.fault_gpa;
		} else {
			r = mmio_translate(c, part, acc, &gpa);
			if (r)
				return -r;
		}
		for (o = 0; o < plen && n < MMIO_PIECES_MAX; o += MMIO_PIECE) {
			p[n].la = part + o;
			p[n].gpa = gpa + o;
			p[n].len = XK_MIN(plen - o, (u32)MMIO_PIECE);
			p[n].off = done + o;
			n++;
		}
		if (o < plen)
			return -XK_EMUL_UNHANDLED;
		done += plen;
		part += plen;
		if (c->g->mode != XK_MODE_LONG64)
			part &= 0xffffffffULL; /* the 4 GiB wrap */
	}
	return n;
}

static void mmio_exit(struct xk_vcpu *v, u64 gpa, u32 len, bool write,
		      const void *data)
{
	struct kvm_run *run = v->run;

	run->exit_reason = KVM_EXIT_MMIO;
	run->mmio.phys_addr = gpa;
	run->mmio.len = len;
	run->mmio.is_write = write;
	xk_memset(run->mmio.data, 0, sizeof(run->mmio.data));
	if (write)
		xk_memcpy(run->mmio.data, data, len);
	v->stats.mmio_exits++;
}

/*
 * A read: each piece from the cache (the runs before this one), from RAM
 * (recorded in the cache), or from the VMM: exit, and the next KVM_RUN
 * records the VMM's data and runs the instruction again.
 */
static int mmio_read(void *ctx, u64 la, void *buf, u32 len)
{
	struct mmio_ctx *c = ctx;
	struct xk_vcpu *v = c->v;
	struct xk_emul_cache *cache = &v->mmio.cache;
	struct mmio_piece p[MMIO_PIECES_MAX];
	u8 *b = buf;
	int n, i;

	n = mmio_pieces(c, la, len, c->e->rmw ? XK_ACC_WRITE : 0, p);
	if (n < 0)
		return -n;
	for (i = 0; i < n; i++) {
		if (xk_emul_cache_get(cache, p[i].la, b + p[i].off, p[i].len))
			continue;
		/* RAM (the copy fails where no slot is, atomically with
		 * the slot lookup: a slot may come or go meanwhile) */
		if (!xk_gpa_read(v->vm, p[i].gpa, b + p[i].off, p[i].len)) {
			if (!xk_emul_cache_put(cache, p[i].la, b + p[i].off,
					       p[i].len))
				return XK_EMUL_UNHANDLED;
			continue;
		}
		if (xk_irqchip_mmio(v, p[i].gpa, b + p[i].off, p[i].len,
				    false)) {
			if (!xk_emul_cache_put(cache, p[i].la, b + p[i].off,
					       p[i].len))
				return XK_EMUL_UNHANDLED;
			continue;
		}
		/* device memory: the VMM does the access */
		host_trace_mmio(v->pid, v->id, p[i].gpa, p[i].len, false, false,
				0);
		mmio_exit(v, p[i].gpa, p[i].len, false, NULL);
		v->mmio.pending_read = true;
		v->mmio.la = p[i].la;
		v->mmio.len = p[i].len;
		return XK_EMUL_EXIT;
	}
	return 0;
}

/*
 * A write: the last access of the instruction, which will complete.  RAM
 * pieces and pieces an ioeventfd takes (Linux: vcpu_mmio_write) are done
 * now; the first device piece exits with the data, the others wait in
 * v->mmio.wfrag for the next KVM_RUNs (xk_mmio_next_write), as Linux's
 * MMIO fragments do.
 */
static int mmio_write(void *ctx, u64 la, const void *buf, u32 len)
{
	struct mmio_ctx *c = ctx;
	struct xk_vcpu *v = c->v;
	struct xk_mmio *m = &v->mmio;
	struct mmio_piece p[MMIO_PIECES_MAX];
	const u8 *b = buf;
	bool exiting = false;
	u64 val;
	int n, i;

	n = mmio_pieces(c, la, len, XK_ACC_WRITE, p);
	if (n < 0)
		return -n;
	m->nwfrag = 0;
	m->wfrag_next = 0;
	for (i = 0; i < n; i++) {
		const u8 *d = b + p[i].off;

		/* writable RAM (a read-only slot's page is the VMM's) */
		if (!xk_gpa_write(v->vm, p[i].gpa, d, p[i].len))
			continue;
		val = 0;
		xk_memcpy(&val, d, XK_MIN(p[i].len, (u32)sizeof(val)));
		host_trace_mmio(v->pid, v->id, p[i].gpa, p[i].len, true, true,
				val);
		if (xk_irqchip_mmio(v, p[i].gpa, (void *)d, p[i].len, true))
			continue;
		if (xk_ioeventfd_write(v->vm, XK_IOBUS_MMIO, p[i].gpa, p[i].len,
				       d))
			continue;
		if (!exiting) {
			mmio_exit(v, p[i].gpa, p[i].len, true, d);
			exiting = true;
			continue;
		}
		m->wfrag[m->nwfrag].gpa = p[i].gpa;
		m->wfrag[m->nwfrag].len = (u8)p[i].len;
		xk_memcpy(m->wfrag[m->nwfrag].data, d, p[i].len);
		m->nwfrag++;
	}
	return 0;
}

/* KVM_RUN after a write exit with pieces left: exit with the next one. */
int xk_mmio_next_write(struct xk_vcpu *v)
{
	struct xk_mmio *m = &v->mmio;
	u8 k = m->wfrag_next++;

	mmio_exit(v, m->wfrag[k].gpa, m->wfrag[k].len, true, m->wfrag[k].data);
	return 0;
}

static const struct xk_emul_ops mmio_ops = {
	.read = mmio_read,
	.write = mmio_write,
};

/*
 * Run the instruction in v->mmio once: 1 to re-enter the guest, 0 to exit
 * to the VMM (an MMIO access in kvm_run), as the run loop wants.
 */
static int mmio_run(struct xk_vcpu *v, struct xk_guest_view *g)
{
	struct xk_mmio *m = &v->mmio;
	struct xk_emul e = { 0 };
	struct xk_emul_regs regs;
	struct mmio_ctx c = { v, g, &e };
	int r;

	e.ops = &mmio_ops;
	e.ctx = &c;
	e.mode = g->mode;
	e.decode_flags = XK_DEC_AMD;
	e.sregs = &g->s;
	e.xmm = (u8 *)v->fpu + FX_XMM_OFF;
	e.movbe_ud = !xk_guest_cpuid_has(v, 1, 2, XK_BIT(22)); /* MOVBE */
	xk_memcpy(regs.gpr, v->gpr, sizeof(regs.gpr));
	regs.rip = v->rip;
	regs.rflags = v->rflags;
	v->run->exit_reason = KVM_EXIT_UNKNOWN;
	xk_emul_cache_begin(&m->cache);
	r = xk_emulate(&e, &regs, m->bytes, m->n);
	if (r == XK_EMUL_EXIT)
		return 0;
	m->active = false;
	switch (r) {
	case XK_EMUL_DONE:
		xk_memcpy(v->gpr, regs.gpr, sizeof(v->gpr));
		v->rflags = regs.rflags;
		if (e.xmm_written) {
			/* XRSTOR must load the SSE state, not its init */
			u64 bv;

			xk_memcpy(&bv, (u8 *)v->fpu + XSTATE_BV_OFF, 8);
			bv |= XK_BIT(1);
			xk_memcpy((u8 *)v->fpu + XSTATE_BV_OFF, &bv, 8);
		}
		if (regs.rip != v->rip)
			xk_skip_to(v, regs.rip);
		/* a write went to the VMM: exit with it, RIP already past */
		return v->run->exit_reason == KVM_EXIT_MMIO ? 0 : 1;
	case XK_EMUL_FAULT:
		return 1;
	case XK_EMUL_EXCEPTION:
		xk_queue_exception(v, e.vector, e.has_error, e.error);
		return 1;
	default: /* the bytes of the instruction, when it was decoded */
		return emulation_failed_bytes(v, m->bytes,
					      e.len ? e.len : m->n);
	}
}

/*
 * MOVS, CMPS, INS, OUTS (one-byte 6C-6F, A4-A7) and PUSH/POP r/m (FF /6,
 * 8F /0) touch two places in memory, and the nested fault says which one
 * faulted only by its address: the other may have the same page offset in
 * another page (MOVS from one device page to the next), so both are
 * walked.  Linux: emulator_can_use_gpa().
 */
static bool two_mem_operands(const struct xk_insn *in)
{
	if (in->map != XK_MAP_ONE)
		return false;
	switch (in->opcode) {
	case 0x6c ... 0x6f:
	case 0xa4 ... 0xa7:
		return true;
	case 0x8f:
		return in->has_mem && (in->reg & 7) == 0;
	case 0xff:
		return in->has_mem && (in->reg & 7) == 6;
	default:
		return false;
	}
}

/*
 * A guest access to a physical address outside ordinary memory: emulate
 * the instruction at CS:RIP (see the theory at the top).
 */
int xk_handle_mmio(struct xk_vcpu *v, u64 gpa, bool write_fault)
{
	struct xk_mmio *m = &v->mmio;
	struct xk_guest_view g;
	struct xk_insn insn;
	u32 n = 0;
	int r;

	(void)write_fault; /* the emulator finds what each access does */
	view_init(v, &g);
	r = fetch_insn(v, &g, &insn, m->bytes, &n);
	if (r)
		return r < 0 ? emulation_failed_bytes(v, m->bytes, n) : 1;
	m->n = (u8)n;
	m->rip = v->rip;
	m->fault_gpa = gpa;
	m->fault_gpa_ok = !two_mem_operands(&insn);
	m->active = true;
	m->pending_read = false;
	m->nwfrag = 0;
	m->wfrag_next = 0;
	xk_emul_cache_reset(&m->cache);
	v->stats.insn_emulation++; /* once, however often it is re-run */
	return mmio_run(v, &g);
}

/* The VMM answered an MMIO read: run the instruction again with the data. */
int xk_mmio_complete(struct xk_vcpu *v)
{
	struct xk_mmio *m = &v->mmio;
	struct xk_guest_view g;

	m->pending_read = false;
	if (!m->active || v->rip != m->rip) {
		m->active = false; /* the VMM moved the vCPU: drop it */
		return 1;
	}
	if (!xk_emul_cache_put(&m->cache, m->la, v->run->mmio.data, m->len)) {
		m->active = false;
		return emulation_failed_bytes(v, m->bytes, m->n);
	}
	view_init(v, &g);
	return mmio_run(v, &g);
}

/* ---- CPUID ------------------------------------------------------------ */

static const struct kvm_cpuid_entry2 *cpuid_find(struct xk_vcpu *v, u32 fn,
						 u32 idx)
{
	u32 i;

	for (i = 0; i < v->ncpuid; i++) {
		const struct kvm_cpuid_entry2 *e = &v->cpuid[i];

		if (e->function != fn)
			continue;
		if ((e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) &&
		    e->index != idx)
			continue;
		return e;
	}
	return NULL;
}

bool xk_guest_cpuid_has(struct xk_vcpu *v, u32 leaf, int reg, u32 bit)
{
	const struct kvm_cpuid_entry2 *e = cpuid_find(v, leaf, 0);
	u32 r;

	if (!e)
		return false;
	r = reg == 0 ? e->eax : reg == 1 ? e->ebx : reg == 2 ? e->ecx : e->edx;
	return !!(r & bit);
}

bool xk_guest_is_intel(struct xk_vcpu *v)
{
	const struct kvm_cpuid_entry2 *e = cpuid_find(v, 0, 0);

	/* "GenuineIntel" */
	return e && e->ebx == 0x756e6547 && e->ecx == 0x6c65746e &&
	       e->edx == 0x49656e69;
}

/* "AuthenticAMD" or "HygonGenuine" in leaf 0 */
static bool guest_is_amd(const struct kvm_cpuid_entry2 *e)
{
	return (e->ebx == 0x68747541 && e->edx == 0x69746e65 &&
		e->ecx == 0x444d4163) ||
	       (e->ebx == 0x6f677948 && e->ecx == 0x656e6975 &&
		e->edx == 0x6e65476e);
}

/*
 * Intel CPUs answer a leaf above the maximum of its range with the highest
 * basic leaf; AMD CPUs answer zeros.  Linux follows the guest's vendor and
 * treats every vendor but AMD and Hygon the Intel way.
 */
static const struct kvm_cpuid_entry2 *cpuid_out_of_range(struct xk_vcpu *v,
							 u32 fn, u32 idx)
{
	const struct kvm_cpuid_entry2 *basic = cpuid_find(v, 0, 0), *cls;

	if (!basic || guest_is_amd(basic))
		return NULL;
	if (fn >= 0x40000000 && fn <= 0x4fffffff)
		cls = cpuid_find(v, fn & 0xffffff00, 0);
	else if (fn >= 0xc0000000)
		cls = cpuid_find(v, 0xc0000000, 0);
	else
		cls = cpuid_find(v, fn & 0x80000000, 0);
	if (cls && fn <= cls->eax)
		return NULL;
	return cpuid_find(v, basic->eax, idx);
}

/*
 * Bits that show the guest's own CR4, as the CPU (and Linux) computes
 * them: leaf 1 ECX.OSXSAVE is CR4.OSXSAVE, leaf 7 ECX.OSPKE is CR4.PKE
 * (where PKRU is the guest's at all).
 */
static u32 cpuid_os_bits(struct xk_vcpu *v, u32 fn, u32 ecx)
{
	struct kvm_sregs s;
	u32 bit = fn == 1 ? XK_BIT(27) : XK_BIT(4);
	u64 cr4bit = fn == 1 ? XK_CR4_OSXSAVE : XK_CR4_PKE;

	if (fn == 7 && !xk_host_has_pku())
		return ecx;
	xk_ops->get_sregs(v, &s);
	return (s.cr4 & cr4bit) ? ecx | bit : ecx & ~bit;
}

int xk_handle_cpuid(struct xk_vcpu *v)
{
	u32 fn = (u32)v->gpr[XK_RAX], idx = (u32)v->gpr[XK_RCX];
	const struct kvm_cpuid_entry2 *e = cpuid_find(v, fn, idx);
	u32 a = 0, b = 0, c = 0, d = 0;
	u64 next;
	int r;

	/* the next RIP first: a fault there must leave the inputs intact */
	v->stats.cpuid_exits++;
	r = xk_ops->next_rip(v, &next);
	if (r)
		return r < 0 ? xk_emulation_failed(v) : 1;
	if (!e)
		e = cpuid_out_of_range(v, fn, idx);
	if (e) {
		a = e->eax;
		b = e->ebx;
		c = e->ecx;
		d = e->edx;
		if (fn == 1 || (fn == 7 && idx == 0))
			c = cpuid_os_bits(v, fn, c);
	} else if (fn == 0xb || fn == 0x1f) {
		/*
		 * Topology leaves past the last level: the level number comes
		 * back in ECX and the x2APIC ID, the same in every sub-leaf,
		 * in EDX (Linux takes it from sub-leaf 1).
		 */
		const struct kvm_cpuid_entry2 *one = cpuid_find(v, fn, 1);

		c = idx & 0xff;
		d = one ? one->edx : 0;
	}
	v->gpr[XK_RAX] = a;
	v->gpr[XK_RBX] = b;
	v->gpr[XK_RCX] = c;
	v->gpr[XK_RDX] = d;
	xk_skip_to(v, next);
	return 1;
}

/* ---- MSRs -------------------------------------------------------------- */

static int rdwrmsr(struct xk_vcpu *v, bool write)
{
	u32 msr = (u32)v->gpr[XK_RCX];
	u64 val, next;
	int r;

	v->stats.msr_exits++;
	r = xk_ops->next_rip(v, &next);
	if (r)
		return r < 0 ? xk_emulation_failed(v) : 1;
	if (write) {
		val = (v->gpr[XK_RDX] << 32) | (u32)v->gpr[XK_RAX];
		r = xk_msr_set(v, msr, val, false);
	} else {
		r = xk_msr_get(v, msr, &val, false);
		if (!r) {
			v->gpr[XK_RAX] = (u32)val;
			v->gpr[XK_RDX] = val >> 32;
		}
	}
	if (r) {
		xk_queue_exception(v, XK_EXC_GP, true, 0);
		return 1;
	}
	xk_skip_to(v, next);
	return 1;
}

int xk_handle_rdmsr(struct xk_vcpu *v)
{
	return rdwrmsr(v, false);
}

int xk_handle_wrmsr(struct xk_vcpu *v)
{
	return rdwrmsr(v, true);
}

/* ---- HLT --------------------------------------------------------------- */

int xk_handle_hlt(struct xk_vcpu *v)
{
	u64 next;
	int r;

	v->stats.halt_exits++;
	r = xk_ops->next_rip(v, &next);
	if (r)
		return r < 0 ? xk_emulation_failed(v) : 1;
	xk_skip_to(v, next);
	/* with the in-kernel irqchip the vCPU sleeps in the kernel */
	if (v->apic)
		return xk_irqchip_hlt(v);
	/* else the VMM decides what a halt means */
	v->run->exit_reason = KVM_EXIT_HLT;
	return 0;
}
