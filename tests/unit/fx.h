/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fx.h - fixtures for the tests of the core: a VM (and vCPU 0) on the fake
 * backend, guest memory slots backed by this process's memory, the guest's
 * processor mode, guest page tables, and KVM_RUN through the ioctl layer.
 *
 * Everything an fx_ function creates is released by a cleanup the harness
 * runs when the test ends, passed or failed, so a failing test leaks
 * nothing; the same cleanup fails the test if the fake backend saw the core
 * break one of its rules (fake_error()).  "User" pointers are plain
 * pointers: host/user copies from and to this process.
 */
#ifndef XKVM_FX_H
#define XKVM_FX_H

#include "xtest.h"
#include "fakes/fake_vendor.h"

#define FX_MAX_MEM 16

struct fx_mem {
	u32 slot;
	u64 gpa;
	u64 npages;
	u8 *host; /* page-aligned, owned by the fixture */
};

struct fx {
	struct xk_vm *vm;
	struct xk_vcpu *v; /* vCPU 0, or NULL */
	struct kvm_run *run;
	struct fx_mem mem[FX_MAX_MEM];
	unsigned int nmem;
	u64 pt_next, pt_end; /* page-table pool (fx_pt_*) */
	bool dead;           /* the VM is gone */
};

/* A VM with vCPU 0 (fx_new) or none (fx_new_vm).  Fail the test on error. */
struct fx *fx_new(void);
struct fx *fx_new_vm(void);
/* Tear down and free now (f is gone), and check the fake saw nothing
 * wrong; otherwise the cleanup does that when the test ends. */
void fx_destroy(struct fx *f);

/* Page-aligned zeroed memory of this process, freed at the end. */
void *fx_alloc_pages(u64 npages);

/*
 * Guest memory: npages at gpa in slot, through KVM_SET_USER_MEMORY_REGION
 * (flags KVM_MEM_*).  Returns the host view.  Fails the test on error.
 */
u8 *fx_mem(struct fx *f, u32 slot, u64 gpa, u64 npages, u32 flags);
/* Host pointer of a guest physical address in one of the fx slots. */
void *fx_gpa(struct fx *f, u64 gpa);

/* ioctls with a "user" pointer argument (or a plain value). */
long fx_vm_ioctl(struct fx *f, unsigned int cmd, const void *arg);
long fx_vcpu_ioctl(struct fx *f, unsigned int cmd, const void *arg);
long fx_set_region(struct fx *f, u32 slot, u32 flags, u64 gpa, u64 size,
		   u64 uaddr);

void fx_get_regs(struct fx *f, struct kvm_regs *r);
void fx_set_regs(struct fx *f, const struct kvm_regs *r);
void fx_get_sregs(struct fx *f, struct kvm_sregs *s);
void fx_set_sregs(struct fx *f, const struct kvm_sregs *s);
u64 fx_rip(struct fx *f);
void fx_set_rip(struct fx *f, u64 rip);

/*
 * Processor modes, set with KVM_SET_SREGS/KVM_SET_REGS:
 *  real:   CS = DS = ES = SS = 0 (bases 0), RIP = rip
 *  prot32: flat 4 GiB 32-bit segments, no paging
 *  long64: 64-bit code, 4-level paging with root cr3 (fx_pt_*), EFER.LMA
 */
void fx_real_mode(struct fx *f, u64 rip);
void fx_prot32(struct fx *f, u64 rip);
void fx_long64(struct fx *f, u64 cr3, u64 rip);

/*
 * Guest page tables (4-level, 4 KiB pages) built in guest memory: tables
 * come from [pool_gpa, pool_gpa + npages * 4096), which must be in a slot.
 * fx_pt_init returns the root (CR3); fx_pt_map maps la -> gpa with
 * P|RW|US plus flags (an entry's low bits).
 */
u64 fx_pt_init(struct fx *f, u64 pool_gpa, u64 npages);
void fx_pt_map(struct fx *f, u64 cr3, u64 la, u64 gpa, u64 flags);

/* Copy bytes into guest memory at gpa (must be in an fx slot). */
void fx_poke(struct fx *f, u64 gpa, const void *bytes, size_t n);

/* The vCPU's script, and KVM_RUN: returns the ioctl's result. */
void fx_script(struct fx *f, const struct fake_step *steps, unsigned int n);
#define FX_SCRIPT(f, ...)                                                \
	do {                                                             \
		const struct fake_step fx_s_[] = { __VA_ARGS__ };        \
		fx_script((f), fx_s_, sizeof(fx_s_) / sizeof(fx_s_[0])); \
	} while (0)
long fx_run(struct fx *f);
/* KVM_RUN must return 0 with this exit reason. */
void fx_run_expect(struct fx *f, u32 exit_reason);
/* KVM_RUN must end at the end of the script. */
void fx_run_to_end(struct fx *f);

/* The data of the last KVM_EXIT_IO, through the vCPU's mmap pages. */
u8 *fx_io_data(struct fx *f);

/* Fail now if the fake recorded a rule broken. */
void fx_check_fake(void);

/* A CPUID table for KVM_SET_CPUID2. */
struct fx_cpuid {
	struct kvm_cpuid2 hdr;
	struct kvm_cpuid_entry2 e[XK_MAX_CPUID + 4];
};
/* Close fd at the end of the test. */
void fx_close_later(int fd);
/* A non-blocking eventfd, closed at the end of the test. */
int fx_eventfd(void);
/* An eventfd's counter, reset to 0 by the read (0 when it was 0). */
u64 fx_eventfd_count(int fd);

long fx_set_cpuid(struct fx *f, const struct kvm_cpuid_entry2 *e,
		  unsigned int n);

#endif /* XKVM_FX_H */
