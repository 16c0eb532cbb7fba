// SPDX-License-Identifier: GPL-2.0
/*
 * fake_vendor.c - a user-space vendor backend for the core's unit tests and
 * fuzzers.
 *
 * Theory.  The core drives the hardware only through struct xk_vendor_ops,
 * so a backend that keeps the same state in plain memory lets the whole
 * core (VMs, slots, the run loop, the emulators, the ioctl tables) run in a
 * test process against host/user.  This one plays three parts:
 *
 *  - The VMCB save area.  Segments, control registers and EFER live in a
 *    struct kvm_sregs per vCPU, the other MSRs an SVM guest keeps in the
 *    VMCB in a small table; get_sregs/set_sregs/get_msr/set_msr/
 *    paging_enabled read and write them as svm.c does, without checks of
 *    their own, so every check a test sees is the core's.
 *
 *  - The nested page tables.  map_prepare/map_page/unmap_range/protect_range edit a map
 *    gfn -> (hpa, writable) sorted by gfn, which tests read back
 *    (fake_map_lookup) to see exactly what the NPT would hold.  Like the
 *    real tables, storage is allocated only by map_prepare (may sleep) and
 *    kept until the VM dies, and map_page never allocates; the fake also
 *    checks the rules the real code relies on: map_page/unmap_range under
 *    mmu_lock, map_prepare outside it, every mapped page prepared first, no
 *    page mapped twice, nothing left mapped when the VM is destroyed.
 *
 *  - The guest.  Each entry takes the next step of a script the test gave
 *    (an IOIO, CPUID, MSR, HLT or nested-page-fault intercept, a host
 *    interrupt...), optionally runs a callback "in the guest" first, and
 *    handle_exit passes the step to the core's handler exactly as svm.c
 *    does.  A step marked repeat is taken again while the guest's RIP stays
 *    where the exit left it, which is how a REP string instruction that the
 *    core completes in batches comes back.  Events are "delivered" at the
 *    next entry in svm.c's order (inject_event): an exception the core
 *    queued, else an NMI unless one is being handled (then NMIs stay
 *    masked until a FAKE_IRET step), else an external interrupt from
 *    KVM_INTERRUPT if RFLAGS.IF allows; before all of them the event in
 *    flight that KVM_SET_VCPU_EVENTS (or a test, as an exit would) left
 *    with the backend.  Each is logged (kind, vector, error code, CR2,
 *    RIP) and cleared.  The interrupt shadow is a flag that only
 *    set_interrupt_shadow sets and the next entry clears.
 *    There is no VINTR intercept to model: the core itself reports an open
 *    interrupt window after each exit.  The next-RIP operation
 *    answers the step's NRIP when the test gave one (NRIP-save) and
 *    otherwise calls xk_next_rip(), the real decoder reading the guest's
 *    memory through the real page-table walker.
 *
 * The entry path checks the run loop's contract (interrupts off, the vCPU
 * lock held, mode IN_GUEST, the guest FPU loaded) and consumes TLB-flush
 * requests the way svm_vcpu_enter() does.  The guest's XCR0 is set to the
 * host's at reset: the core switches XCR0 with XSETBV around the guest when
 * they differ, and XSETBV is privileged, so in a user process they must
 * not (the XSAVE/XRSTOR of the guest image itself run fine in ring 3).
 *
 * Nothing here asserts: a test harness may longjmp, and this code runs
 * with the core's locks held.  Inconsistencies are recorded (fake_error())
 * and checked by the caller afterwards.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fake_vendor.h"
#include "host_user.h"

/* ------------------------------------------------------------------ */
/* Errors */

static pthread_mutex_t err_lock = PTHREAD_MUTEX_INITIALIZER;
static char err_msg[512];
static bool err_set;
static unsigned long vms_destroyed;

static void __attribute__((format(printf, 1, 2))) fake_err(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&err_lock);
	if (!err_set) {
		va_start(ap, fmt);
		vsnprintf(err_msg, sizeof(err_msg), fmt, ap);
		va_end(ap);
		err_set = true;
	}
	pthread_mutex_unlock(&err_lock);
}

const char *fake_error(void)
{
	const char *m;

	pthread_mutex_lock(&err_lock);
	m = err_set ? err_msg : NULL;
	pthread_mutex_unlock(&err_lock);
	return m;
}

void fake_clear_error(void)
{
	pthread_mutex_lock(&err_lock);
	err_set = false;
	err_msg[0] = 0;
	pthread_mutex_unlock(&err_lock);
}

unsigned long fake_vm_destroyed(void)
{
	return __atomic_load_n(&vms_destroyed, __ATOMIC_SEQ_CST);
}

/* ------------------------------------------------------------------ */
/* Per-VM state: the nested page tables */

struct fake_pte {
	u64 gfn;
	u64 hpa;
	bool writable;
};

struct fake_range {
	u64 gfn, n;
};

struct fake_vm {
	struct fake_pte *map; /* sorted by gfn */
	u64 nmap, cap;
	struct fake_range *prep; /* ranges map_prepare was called for */
	u32 nprep, prepcap;
	unsigned int fail_map_at;
	struct fake_vm_calls calls;
	s64 objects; /* host_zalloc'ed arrays held */
};

static struct fake_vm *to_fvm(struct xk_vm *vm)
{
	return vm->vendor;
}

/* Index of the first entry with gfn >= the given one. */
static u64 map_lower(const struct fake_vm *f, u64 gfn)
{
	u64 lo = 0, hi = f->nmap;

	while (lo < hi) {
		u64 mid = lo + (hi - lo) / 2;

		if (f->map[mid].gfn < gfn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int fake_map_lookup(struct xk_vm *vm, u64 gpa, u64 *hpa, bool *writable)
{
	struct fake_vm *f = to_fvm(vm);
	u64 gfn = gpa >> XK_PAGE_SHIFT, i;
	int r = -ENOENT;

	host_spin_lock(vm->mmu_lock);
	i = map_lower(f, gfn);
	if (i < f->nmap && f->map[i].gfn == gfn) {
		if (hpa)
			*hpa = f->map[i].hpa;
		if (writable)
			*writable = f->map[i].writable;
		r = 0;
	}
	host_spin_unlock(vm->mmu_lock);
	return r;
}

u64 fake_map_count(struct xk_vm *vm)
{
	struct fake_vm *f = to_fvm(vm);
	u64 n;

	host_spin_lock(vm->mmu_lock);
	n = f->nmap;
	host_spin_unlock(vm->mmu_lock);
	return n;
}

void fake_fail_map_page(struct xk_vm *vm, unsigned int n)
{
	to_fvm(vm)->fail_map_at = n;
}

s64 fake_map_objects(struct xk_vm *vm)
{
	return to_fvm(vm)->objects;
}

struct fake_vm_calls fake_vm_calls(struct xk_vm *vm)
{
	return to_fvm(vm)->calls;
}

/* Was [gfn, gfn + n) prepared by one map_prepare call? */
static bool prepared(const struct fake_vm *f, u64 gfn, u64 n)
{
	u32 i;

	for (i = 0; i < f->nprep; i++)
		if (gfn >= f->prep[i].gfn &&
		    gfn - f->prep[i].gfn + n <= f->prep[i].n)
			return true;
	return false;
}

static int fake_map_prepare(struct xk_vm *vm, u64 gpa, u64 npages)
{
	struct fake_vm *f = to_fvm(vm);
	u64 gfn = gpa >> XK_PAGE_SHIFT;
	struct fake_pte *nmap = NULL, *omap = NULL;
	struct fake_range *nprep = NULL, *oprep = NULL;
	u64 ncap = 0, ocap = 0;
	u32 npcap = 0, opcap = 0;

	f->calls.map_prepare++;
	if (host_user_atomic_depth())
		fake_err("map_prepare in atomic context");
	if (gpa & ~XK_PAGE_MASK)
		fake_err("map_prepare of unaligned gpa %#llx",
			 (unsigned long long)gpa);
	if (npages > FAKE_MAX_PREPARE)
		return -ENOMEM; /* keeps absurd slots from eating the host */
	if (f->nmap + npages > f->cap) {
		ncap = f->nmap + npages;
		ncap = ncap < 16 ? 16 : ncap + ncap / 4;
		nmap = host_zalloc(ncap * sizeof(*nmap));
		if (!nmap)
			return -ENOMEM;
	}
	if (!prepared(f, gfn, npages)) {
		if (f->nprep == f->prepcap) {
			npcap = f->prepcap ? 2 * f->prepcap : 8;
			nprep = host_zalloc(npcap * sizeof(*nprep));
			if (!nprep) {
				if (nmap)
					host_free(nmap, ncap * sizeof(*nmap));
				return -ENOMEM;
			}
		}
	}
	host_spin_lock(vm->mmu_lock);
	if (nmap) {
		if (f->nmap)
			memcpy(nmap, f->map, f->nmap * sizeof(*nmap));
		omap = f->map;
		ocap = f->cap;
		f->map = nmap;
		f->cap = ncap;
		f->objects += omap ? 0 : 1;
	}
	if (nprep) {
		if (f->nprep)
			memcpy(nprep, f->prep, f->nprep * sizeof(*nprep));
		oprep = f->prep;
		opcap = f->prepcap;
		f->prep = nprep;
		f->prepcap = npcap;
		f->objects += oprep ? 0 : 1;
	}
	if (!prepared(f, gfn, npages)) {
		f->prep[f->nprep].gfn = gfn;
		f->prep[f->nprep].n = npages;
		f->nprep++;
	}
	host_spin_unlock(vm->mmu_lock);
	if (omap)
		host_free(omap, ocap * sizeof(*omap));
	if (oprep)
		host_free(oprep, opcap * sizeof(*oprep));
	return 0;
}

static int fake_map_page(struct xk_vm *vm, u64 gpa, u64 hpa, bool writable)
{
	struct fake_vm *f = to_fvm(vm);
	u64 gfn = gpa >> XK_PAGE_SHIFT, i;

	f->calls.map_page++;
	if (!host_user_atomic_depth())
		fake_err("map_page without mmu_lock");
	if ((gpa | hpa) & ~XK_PAGE_MASK)
		fake_err("map_page of unaligned gpa %#llx / hpa %#llx",
			 (unsigned long long)gpa, (unsigned long long)hpa);
	if (f->fail_map_at && --f->fail_map_at == 0)
		return -ENOMEM;
	if (!prepared(f, gfn, 1)) {
		fake_err("map_page of gpa %#llx without map_prepare",
			 (unsigned long long)gpa);
		return -ENOMEM;
	}
	i = map_lower(f, gfn);
	if (i < f->nmap && f->map[i].gfn == gfn) {
		fake_err("gpa %#llx mapped twice", (unsigned long long)gpa);
		f->map[i].hpa = hpa;
		f->map[i].writable = writable;
		return 0;
	}
	if (f->nmap == f->cap) {
		fake_err("map_page of gpa %#llx beyond what was prepared",
			 (unsigned long long)gpa);
		return -ENOMEM;
	}
	memmove(&f->map[i + 1], &f->map[i], (f->nmap - i) * sizeof(*f->map));
	f->map[i].gfn = gfn;
	f->map[i].hpa = hpa;
	f->map[i].writable = writable;
	f->nmap++;
	return 0;
}

static void fake_unmap_range(struct xk_vm *vm, u64 gpa, u64 npages)
{
	struct fake_vm *f = to_fvm(vm);
	u64 gfn = gpa >> XK_PAGE_SHIFT, i, j;

	f->calls.unmap_range++;
	if (!host_user_atomic_depth())
		fake_err("unmap_range without mmu_lock");
	i = map_lower(f, gfn);
	j = i;
	while (j < f->nmap && f->map[j].gfn - gfn < npages)
		j++;
	memmove(&f->map[i], &f->map[j], (f->nmap - j) * sizeof(*f->map));
	f->nmap -= j - i;
}

static void fake_protect_range(struct xk_vm *vm, u64 gpa, u64 npages,
			       bool writable)
{
	struct fake_vm *f = to_fvm(vm);
	u64 gfn = gpa >> XK_PAGE_SHIFT, i;

	f->calls.protect_range++;
	if (!host_user_atomic_depth())
		fake_err("protect_range without mmu_lock");
	for (i = map_lower(f, gfn); i < f->nmap && f->map[i].gfn - gfn < npages;
	     i++)
		f->map[i].writable = writable;
}

static bool fake_translate(struct xk_vm *vm, u64 gpa, u64 *hpa)
{
	struct fake_vm *f = to_fvm(vm);
	u64 i = map_lower(f, gpa >> XK_PAGE_SHIFT);

	if (i >= f->nmap || f->map[i].gfn != gpa >> XK_PAGE_SHIFT)
		return false;
	*hpa = f->map[i].hpa + (gpa & ~XK_PAGE_MASK);
	return true;
}

static int fake_vm_init(struct xk_vm *vm)
{
	struct fake_vm *f = host_zalloc(sizeof(*f));

	if (!f)
		return -ENOMEM;
	vm->vendor = f;
	return 0;
}

static void fake_vm_destroy(struct xk_vm *vm)
{
	struct fake_vm *f = to_fvm(vm);

	f->calls.vm_destroy++;
	if (f->nmap)
		fake_err("%llu pages still mapped at vm_destroy",
			 (unsigned long long)f->nmap);
	if (f->map)
		host_free(f->map, f->cap * sizeof(*f->map));
	if (f->prep)
		host_free(f->prep, f->prepcap * sizeof(*f->prep));
	host_free(f, sizeof(*f));
	vm->vendor = NULL;
	__atomic_add_fetch(&vms_destroyed, 1, __ATOMIC_SEQ_CST);
}

/* ------------------------------------------------------------------ */
/* Per-vCPU state: the "VMCB" and the script */

enum {
	FM_STAR,
	FM_LSTAR,
	FM_CSTAR,
	FM_SFMASK,
	FM_KGSBASE,
	FM_SYSENTER_CS,
	FM_SYSENTER_ESP,
	FM_SYSENTER_EIP,
	FM_PAT,
	FM_TSC,
	FM_TSC_AUX,
	FM_NR
};

static const u32 fake_msr_index[FM_NR] = {
	[FM_STAR] = XK_MSR_STAR,
	[FM_LSTAR] = XK_MSR_LSTAR,
	[FM_CSTAR] = XK_MSR_CSTAR,
	[FM_SFMASK] = XK_MSR_SFMASK,
	[FM_KGSBASE] = XK_MSR_KERNEL_GS_BASE,
	[FM_SYSENTER_CS] = XK_MSR_IA32_SYSENTER_CS,
	[FM_SYSENTER_ESP] = XK_MSR_IA32_SYSENTER_ESP,
	[FM_SYSENTER_EIP] = XK_MSR_IA32_SYSENTER_EIP,
	[FM_PAT] = XK_MSR_IA32_CR_PAT,
	[FM_TSC] = XK_MSR_IA32_TSC,
	[FM_TSC_AUX] = XK_MSR_TSC_AUX,
};

struct fake_vcpu {
	struct kvm_sregs sregs;
	u64 msr[FM_NR];

	struct fake_step *script; /* malloc'ed: not the driver's memory */
	unsigned int nsteps, pos;
	int last, cur; /* step indexes, -1 none / end */
	u64 last_rip;
	unsigned int reps, repeat_cap;
	unsigned int taken, entries, loads, flushes;
	bool waiting; /* atomic: in FAKE_WAIT_KICK */
	struct fake_event events[FAKE_MAX_EVENTS];
	unsigned int nevents;
	struct xk_injected inj; /* the event in flight */
	bool shadow;            /* interrupt shadow */
	u64 tsc_offset;         /* guest TSC = host TSC + this */
	u64 dr6, dr7;           /* KVM_GET/SET_DEBUGREGS */
};

static struct fake_vcpu *to_fv(struct xk_vcpu *v)
{
	return v->vendor;
}

struct kvm_sregs *fake_sregs(struct xk_vcpu *v)
{
	return &to_fv(v)->sregs;
}

int fake_set_script(struct xk_vcpu *v, const struct fake_step *steps,
		    unsigned int n)
{
	struct fake_vcpu *fv = to_fv(v);
	struct fake_step *s = NULL;

	if (n) {
		s = calloc(n, sizeof(*s));
		if (!s)
			return -ENOMEM;
		memcpy(s, steps, n * sizeof(*s));
	}
	free(fv->script);
	fv->script = s;
	fv->nsteps = n;
	fv->pos = 0;
	fv->last = -1;
	fv->cur = -1;
	fv->reps = 0;
	return 0;
}

unsigned int fake_steps_taken(struct xk_vcpu *v)
{
	return to_fv(v)->taken;
}

unsigned int fake_entries(struct xk_vcpu *v)
{
	return to_fv(v)->entries;
}

void fake_set_repeat_cap(struct xk_vcpu *v, unsigned int cap)
{
	to_fv(v)->repeat_cap = cap;
}

unsigned int fake_events(struct xk_vcpu *v, struct fake_event *out,
			 unsigned int max)
{
	struct fake_vcpu *fv = to_fv(v);
	unsigned int n = XK_MIN(max, fv->nevents);

	if (n)
		memcpy(out, fv->events, n * sizeof(*out));
	return fv->nevents;
}

unsigned int fake_tlb_flushes(struct xk_vcpu *v)
{
	return to_fv(v)->flushes;
}

static int fake_vcpu_init(struct xk_vcpu *v)
{
	struct fake_vcpu *fv = host_zalloc(sizeof(*fv));

	if (!fv)
		return -ENOMEM;
	fv->last = -1;
	fv->cur = -1;
	fv->repeat_cap = 1000;
	v->vendor = fv;
	return 0;
}

static void fake_vcpu_destroy(struct xk_vcpu *v)
{
	struct fake_vcpu *fv = to_fv(v);

	free(fv->script);
	host_free(fv, sizeof(*fv));
	v->vendor = NULL;
}

static void seg_reset(struct kvm_segment *s, u16 sel, u64 base, u8 type,
		      bool code_or_data)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->base = base;
	s->limit = 0xffff;
	s->type = type;
	s->s = code_or_data;
	s->present = 1;
}

/* The state after RESET (Intel SDM 9.1.1, APM 14.1.3). */
static void fake_vcpu_reset(struct xk_vcpu *v)
{
	struct fake_vcpu *fv = to_fv(v);
	struct kvm_sregs *s = &fv->sregs;

	memset(&fv->inj, 0, sizeof(fv->inj));
	fv->shadow = false;
	memset(s, 0, sizeof(*s));
	seg_reset(&s->cs, 0xf000, 0xffff0000, 0xb, true);
	seg_reset(&s->ds, 0, 0, 0x3, true);
	seg_reset(&s->es, 0, 0, 0x3, true);
	seg_reset(&s->fs, 0, 0, 0x3, true);
	seg_reset(&s->gs, 0, 0, 0x3, true);
	seg_reset(&s->ss, 0, 0, 0x3, true);
	seg_reset(&s->ldt, 0, 0, 0x2, false);
	seg_reset(&s->tr, 0, 0, 0xb, false);
	s->gdt.limit = 0xffff;
	s->idt.limit = 0xffff;
	s->cr0 = XK_CR0_ET | XK_CR0_CD | XK_CR0_NW;
	memset(fv->msr, 0, sizeof(fv->msr));
	fv->msr[FM_PAT] = XK_PAT_DEFAULT;
	/* no XSETBV in ring 3: see the theory */
	v->xcr0 = xk_host_xcr0();
	fv->dr6 = XK_DR6_INIT;
	fv->dr7 = XK_DR7_INIT;
}

static void fake_get_dr67(struct xk_vcpu *v, u64 *dr6, u64 *dr7)
{
	*dr6 = to_fv(v)->dr6;
	*dr7 = to_fv(v)->dr7;
}

static void fake_set_dr67(struct xk_vcpu *v, u64 dr6, u64 dr7)
{
	to_fv(v)->dr6 = dr6;
	to_fv(v)->dr7 = dr7;
}

static void fake_vcpu_load(struct xk_vcpu *v, unsigned int cpu)
{
	(void)cpu;
	if (!host_user_irqs_disabled())
		fake_err("vcpu_load with interrupts on");
	to_fv(v)->loads++;
}

static void log_event(struct xk_vcpu *v, struct fake_vcpu *fv, u8 type,
		      u8 vector)
{
	struct fake_event *e;

	if (fv->nevents < FAKE_MAX_EVENTS) {
		e = &fv->events[fv->nevents];
		memset(e, 0, sizeof(*e));
		e->type = type;
		e->vector = vector;
		e->rip = v->rip;
		if (type == FAKE_EV_EXC) {
			e->has_error = v->exception.has_error;
			e->error = v->exception.error;
			e->cr2 = v->exception.cr2;
		}
	}
	fv->nevents++;
}

/* One event into the guest, in svm.c's order; true if one went in. */
static bool deliver_event(struct xk_vcpu *v, struct fake_vcpu *fv)
{
	if (fv->inj.type != XK_INJ_NONE) {
		if (fv->nevents < FAKE_MAX_EVENTS) {
			struct fake_event *e = &fv->events[fv->nevents];

			memset(e, 0, sizeof(*e));
			e->type = FAKE_EV_INJ;
			e->inj_type = fv->inj.type;
			e->vector = fv->inj.vector;
			e->has_error = fv->inj.has_error;
			e->error = fv->inj.error;
			e->rip = v->rip;
		}
		fv->nevents++;
		if (fv->inj.type == XK_INJ_NMI)
			v->nmi_masked = true;
		memset(&fv->inj, 0, sizeof(fv->inj));
		return true;
	}
	if (v->exception.pending) {
		log_event(v, fv, FAKE_EV_EXC, v->exception.vector);
		v->exception.pending = false;
		return true;
	}
	if (v->nmi_pending && !v->nmi_masked) {
		log_event(v, fv, FAKE_EV_NMI, XK_EXC_NMI);
		v->nmi_pending--;
		v->nmi_masked = true;
		v->stats.nmi_injections++;
		return true;
	}
	if (v->irq_pending && (v->rflags & XK_RFLAGS_IF)) {
		log_event(v, fv, FAKE_EV_INTR, v->irq_vector);
		v->irq_pending = false;
		v->stats.irq_injections++;
		return true;
	}
	return false;
}

static u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}

bool fake_in_wait(struct xk_vcpu *v)
{
	return __atomic_load_n(&to_fv(v)->waiting, __ATOMIC_SEQ_CST);
}

/*
 * In the guest until a request arrives, as a CPU in VMRUN until the IPI
 * that follows one: a request made after the mode was published but
 * before this entry consumed it (flush) counts as well.
 */
static void wait_kick(struct xk_vcpu *v, bool flushed)
{
	unsigned long want = (1UL << XK_REQ_KICK) | (1UL << XK_REQ_TLB_FLUSH);
	u64 end = now_ns() + 10ULL * 1000000000ULL;
	struct fake_vcpu *fv = to_fv(v);

	__atomic_store_n(&fv->waiting, true, __ATOMIC_SEQ_CST);
	while (!flushed &&
	       !(__atomic_load_n(&v->requests, __ATOMIC_SEQ_CST) & want)) {
		if (now_ns() > end) {
			fake_err("FAKE_WAIT_KICK: no kick in 10 s");
			break;
		}
		__builtin_ia32_pause();
	}
	__atomic_store_n(&fv->waiting, false, __ATOMIC_SEQ_CST);
}

static void fake_vcpu_step(struct xk_vcpu *v);

/* As svm.c: the guest's XCR0, XSS and PKRU in the CPU around the guest. */
static void fake_vcpu_enter(struct xk_vcpu *v)
{
	xk_guest_xstate_enter(v);
	fake_vcpu_step(v);
	xk_guest_xstate_exit(v);
}

static void fake_vcpu_step(struct xk_vcpu *v)
{
	struct fake_vcpu *fv = to_fv(v);
	unsigned long flush = 1UL << XK_REQ_TLB_FLUSH;
	bool delivered, flushed = false;
	const struct fake_step *st;

	if (!host_user_irqs_disabled())
		fake_err("vcpu_enter with interrupts on");
	if (__atomic_load_n(&v->mode, __ATOMIC_SEQ_CST) != XK_IN_GUEST)
		fake_err("vcpu_enter with mode != IN_GUEST");
	if (!host_user_in_fpu())
		fake_err("vcpu_enter without the guest FPU loaded");
	if (host_mutex_trylock(v->lock)) {
		fake_err("vcpu_enter without the vCPU lock");
		host_mutex_unlock(v->lock);
	}
	if (__atomic_fetch_and(&v->requests, ~flush, __ATOMIC_SEQ_CST) &
	    flush) {
		fv->flushes++;
		flushed = true;
	}
	v->skipped = false;
	v->has_run = true;
	fv->entries++;
	delivered = deliver_event(v, fv);
	fv->shadow = false; /* the instruction after it has run */

	if (fv->last >= 0 && fv->script[fv->last].repeat && !delivered &&
	    v->rip == fv->last_rip && fv->reps < fv->repeat_cap) {
		fv->reps++;
		fv->cur = fv->last;
	} else if (fv->pos < fv->nsteps) {
		fv->reps = 0;
		fv->cur = (int)fv->pos++;
	} else {
		fv->cur = -1;
		fv->last = -1;
		return;
	}
	st = &fv->script[fv->cur];
	fv->taken++;
	if (st->rip)
		v->rip = st->rip;
	fv->last = fv->cur;
	fv->last_rip = v->rip;
	if (st->kind == FAKE_WAIT_KICK)
		wait_kick(v, flushed);
	if (st->guest)
		st->guest(v, st->arg);
}

static const struct fake_step *cur_step(struct xk_vcpu *v)
{
	struct fake_vcpu *fv = to_fv(v);

	return fv->cur >= 0 ? &fv->script[fv->cur] : NULL;
}

static int fake_next_rip(struct xk_vcpu *v, u64 *next)
{
	const struct fake_step *st = cur_step(v);

	if (st && st->nrip) {
		*next = st->nrip;
		return 0;
	}
	return xk_next_rip(v, next);
}

static int handle_io(struct xk_vcpu *v, const struct fake_step *st)
{
	u8 size = st->size == 4 ? 4 : st->size == 2 ? 2 : 1;
	u8 asz = st->addr_size == 2 ? 2 : st->addr_size == 4 ? 4 : 8;
	u64 next;
	int r = fake_next_rip(v, &next);

	if (r)
		return r < 0 ? xk_emulation_failed(v) : 1;
	return xk_handle_pio(v, st->port, size, st->io & FAKE_IO_IN,
			     st->io & FAKE_IO_STR, st->io & FAKE_IO_REP, asz,
			     next);
}

static int fake_handle_exit(struct xk_vcpu *v)
{
	const struct fake_step *st = cur_step(v);

	if (host_user_atomic_depth())
		fake_err("handle_exit in atomic context");
	if (!st) {
		v->run->exit_reason = KVM_EXIT_UNKNOWN;
		v->run->hw.hardware_exit_reason = FAKE_HW_END;
		return 0;
	}
	switch (st->kind) {
	case FAKE_IO:
		return handle_io(v, st);
	case FAKE_CPUID:
		return xk_handle_cpuid(v);
	case FAKE_RDMSR:
		return xk_handle_rdmsr(v);
	case FAKE_WRMSR:
		return xk_handle_wrmsr(v);
	case FAKE_HLT:
		return xk_handle_hlt(v);
	case FAKE_NPF: /* as svm.c: a dirty-log write fault first */
		if (st->write && xk_dirty_fault(v, st->gpa))
			return 1;
		return xk_handle_mmio(v, st->gpa, st->write);
	case FAKE_INTR:
	case FAKE_WAIT_KICK:
		v->stats.irq_exits++;
		return 1;
	case FAKE_CALL:
		return st->handler ? st->handler(v, st->arg) : 1;
	case FAKE_IRET:
		v->nmi_masked = false;
		return 1;
	case FAKE_END:
	default:
		v->run->exit_reason = KVM_EXIT_UNKNOWN;
		v->run->hw.hardware_exit_reason = FAKE_HW_END;
		return 0;
	}
}

static bool fake_paging_enabled(struct xk_vcpu *v)
{
	return !!(to_fv(v)->sregs.cr0 & XK_CR0_PG);
}

static bool fake_interrupt_shadow(struct xk_vcpu *v)
{
	return to_fv(v)->shadow;
}

static bool fake_interrupt_allowed(struct xk_vcpu *v)
{
	struct fake_vcpu *fv = to_fv(v);

	return !!(v->rflags & XK_RFLAGS_IF) && !v->exception.pending &&
	       !fv->shadow && fv->inj.type == XK_INJ_NONE;
}

static void fake_get_injected(struct xk_vcpu *v, struct xk_injected *e)
{
	*e = to_fv(v)->inj;
}

static void fake_set_injected(struct xk_vcpu *v, const struct xk_injected *e)
{
	to_fv(v)->inj = *e;
}

void fake_set_injected_raw(struct xk_vcpu *v, const struct xk_injected *e)
{
	fake_set_injected(v, e);
}

static void fake_set_interrupt_shadow(struct xk_vcpu *v, bool shadow)
{
	to_fv(v)->shadow = shadow;
}

bool fake_shadow(struct xk_vcpu *v)
{
	return to_fv(v)->shadow;
}

static void fake_get_sregs(struct xk_vcpu *v, struct kvm_sregs *s)
{
	*s = to_fv(v)->sregs;
}

static int fake_set_sregs(struct xk_vcpu *v, const struct kvm_sregs *s)
{
	to_fv(v)->sregs = *s;
	return 0;
}

static int msr_slot(u32 msr)
{
	int i;

	for (i = 0; i < FM_NR; i++)
		if (fake_msr_index[i] == msr)
			return i;
	return -1;
}

static int fake_get_msr(struct xk_vcpu *v, u32 msr, u64 *val)
{
	struct fake_vcpu *fv = to_fv(v);
	int i;

	switch (msr) {
	case XK_MSR_EFER:
		*val = fv->sregs.efer;
		return 0;
	case XK_MSR_FS_BASE:
		*val = fv->sregs.fs.base;
		return 0;
	case XK_MSR_GS_BASE:
		*val = fv->sregs.gs.base;
		return 0;
	case XK_MSR_IA32_TSC:
		*val = xk_rdtsc() + fv->tsc_offset;
		return 0;
	default:
		i = msr_slot(msr);
		if (i < 0)
			return -ENOENT;
		*val = fv->msr[i];
		return 0;
	}
}

static int fake_set_msr(struct xk_vcpu *v, u32 msr, u64 val, bool host)
{
	struct fake_vcpu *fv = to_fv(v);
	int i;

	(void)host;
	switch (msr) {
	case XK_MSR_EFER:
		fv->sregs.efer = val;
		return 0;
	case XK_MSR_FS_BASE:
		fv->sregs.fs.base = val;
		return 0;
	case XK_MSR_GS_BASE:
		fv->sregs.gs.base = val;
		return 0;
	case XK_MSR_IA32_TSC:
		fv->tsc_offset = val - xk_rdtsc();
		return 0;
	default:
		i = msr_slot(msr);
		if (i < 0)
			return -ENOENT;
		fv->msr[i] = val;
		return 0;
	}
}

static u64 fake_get_tsc_offset(struct xk_vcpu *v)
{
	return to_fv(v)->tsc_offset;
}

static void fake_set_tsc_offset(struct xk_vcpu *v, u64 offset)
{
	to_fv(v)->tsc_offset = offset;
}

/* ------------------------------------------------------------------ */
/* Module-wide */

static int fake_probe(void)
{
	return 0;
}

static int fake_setup(void)
{
	return 0;
}

static void fake_unsetup(void)
{
}

static int fake_cpu_enable(unsigned int cpu)
{
	(void)cpu;
	return 0;
}

static void fake_cpu_disable(unsigned int cpu)
{
	(void)cpu;
}

static void fake_dump(struct xk_vcpu *v)
{
	struct fake_vcpu *fv = to_fv(v);

	host_log(HOST_LOG_INFO, "fake vcpu %u: rip %llx step %d entries %u",
		 v->id, (unsigned long long)v->rip, fv->cur, fv->entries);
}

const struct xk_vendor_ops fake_ops = {
	.name = "fake",
	.probe = fake_probe,
	.setup = fake_setup,
	.unsetup = fake_unsetup,
	.cpu_enable = fake_cpu_enable,
	.cpu_disable = fake_cpu_disable,
	.vm_init = fake_vm_init,
	.vm_destroy = fake_vm_destroy,
	.map_page = fake_map_page,
	.unmap_range = fake_unmap_range,
	.protect_range = fake_protect_range,
	.map_prepare = fake_map_prepare,
	.translate = fake_translate,
	.vcpu_init = fake_vcpu_init,
	.vcpu_destroy = fake_vcpu_destroy,
	.vcpu_reset = fake_vcpu_reset,
	.vcpu_load = fake_vcpu_load,
	.vcpu_enter = fake_vcpu_enter,
	.handle_exit = fake_handle_exit,
	.next_rip = fake_next_rip,
	.paging_enabled = fake_paging_enabled,
	.interrupt_allowed = fake_interrupt_allowed,
	.interrupt_shadow = fake_interrupt_shadow,
	.get_sregs = fake_get_sregs,
	.set_sregs = fake_set_sregs,
	.get_msr = fake_get_msr,
	.set_msr = fake_set_msr,
	.get_tsc_offset = fake_get_tsc_offset,
	.set_tsc_offset = fake_set_tsc_offset,
	.dump = fake_dump,
	.get_injected = fake_get_injected,
	.set_injected = fake_set_injected,
	.set_interrupt_shadow = fake_set_interrupt_shadow,
	.get_dr67 = fake_get_dr67,
	.set_dr67 = fake_set_dr67,
};

/* The module creates the list of all VMs at load: here before any test. */
__attribute__((constructor)) static void fake_vm_list(void)
{
	xk_vm_list_init();
}

void fake_install(void)
{
	static bool done;

	if (!done) {
		xk_fpu_setup();
		done = true;
	}
	xk_ops = &fake_ops;
}
