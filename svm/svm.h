/* SPDX-License-Identifier: GPL-2.0 */
/*
 * svm.h - the AMD SVM backend's private objects.
 */
#ifndef XKVM_SVM_H
#define XKVM_SVM_H

#include "../core/xkvm.h"
#include "vmcb.h"
#include "svm_run.h"

struct npt_table;

/* Per VM: the nested page tables.  Guarded as said in npt.c. */
struct svm_vm {
	struct xk_vm *vm;           /* (c) */
	struct npt_table *npt_root; /* (c) */
	struct npt_table *prune;    /* candidates for npt_prune (npt.c) */
	struct npt_table *pruned;   /* unlinked, freed after a TLB flush */
};

/* Per vCPU.  (l) = owned by the holder of the vCPU lock. */
struct svm_vcpu {
	struct xk_vcpu *v;   /* (c) */
	struct vmcb *vmcb;   /* (c) */
	u64 vmcb_pa;         /* (c) */
	u64 asid_gen;        /* (l) generation of asid on cpu */
	int asid_cpu;        /* (l) CPU the asid belongs to */
	u64 reinject;        /* (l) EXITINTINFO to deliver again */
	u64 sysenter_eip_hi; /* (l) Intel-vendor guests only */
	u64 sysenter_esp_hi; /* (l) */
	u64 tsc_aux;         /* (l) */
	u64 nmi_iret_rip;    /* (l) RIP of the IRET ending an NMI */
	bool awaiting_iret;  /* (l) NMIs unmask once RIP moves on */
	bool nmi_singlestep; /* (l) TF set by us to see the IRET end */
	bool virq;           /* (l) irq_vector offered through V_IRQ */
	/*
	 * Debug registers (svm.c's theory): the guest's DR6 while the VMCB
	 * holds the value that catches a #DB's causes, and whether the next
	 * entry gives the guest its debug registers without intercepts.
	 * DR0-3 live in vcpu->dr, DR7 in the VMCB.  (l)
	 */
	u64 dr6;
	bool dr_passthrough;
};

/* Per host CPU, set up at load (svm.c). */
struct svm_cpu {
	void *hsave; /* VM_HSAVE_PA page */
	u64 hsave_pa;
	struct vmcb *host_vmcb; /* host state for VMSAVE/VMLOAD */
	u64 host_vmcb_pa;
	u32 next_asid;
	u64 asid_gen;
	bool enabled;
	/* the VMCB this CPU ran last (IBPB when it changes); atomic */
	u64 last_vmcb_pa;
};

/* One entry's orders for svm_vmrun; offsets in svm_run.h. */
struct svm_run {
	u64 vmcb_pa;
	u64 host_vmcb_pa;
	u64 *gprs;
	u64 flags; /* SVM_RUN_F_* */
	u64 guest_spec_ctrl;
	u64 host_spec_ctrl;
	u16 verw_sel;
	u8 pad[6];
};
_Static_assert(xk_offsetof(struct svm_run, vmcb_pa) == SVM_RUN_VMCB, "run");
_Static_assert(xk_offsetof(struct svm_run, host_vmcb_pa) == SVM_RUN_HOST_VMCB,
	       "run");
_Static_assert(xk_offsetof(struct svm_run, gprs) == SVM_RUN_GPRS, "run");
_Static_assert(xk_offsetof(struct svm_run, flags) == SVM_RUN_FLAGS, "run");
_Static_assert(xk_offsetof(struct svm_run, guest_spec_ctrl) ==
		       SVM_RUN_GUEST_SPEC,
	       "run");
_Static_assert(xk_offsetof(struct svm_run, host_spec_ctrl) == SVM_RUN_HOST_SPEC,
	       "run");
_Static_assert(xk_offsetof(struct svm_run, verw_sel) == SVM_RUN_VERW_SEL,
	       "run");
_Static_assert(sizeof(struct svm_run) == SVM_RUN_SIZE, "run");

/*
 * svm_entry.S: VMLOAD guest, VMRUN, VMSAVE guest, with GPRs switched and
 * the speculation barriers run->flags asks for; CLGI and STGI.
 */
void svm_vmrun(struct svm_run *run);
void svm_clgi(void);
void svm_stgi(void);

/* npt.c */
int npt_init(struct svm_vm *sv);
void npt_destroy(struct svm_vm *sv);
u64 npt_root_hpa(struct svm_vm *sv);
int npt_prepare(struct svm_vm *sv, u64 gpa, u64 npages);
int npt_map(struct svm_vm *sv, u64 gpa, u64 hpa, bool writable);
void npt_unmap(struct svm_vm *sv, u64 gpa, u64 npages);
void npt_protect(struct svm_vm *sv, u64 gpa, u64 npages, bool writable);
bool npt_translate(struct svm_vm *sv, u64 gpa, u64 *hpa);
bool npt_prune(struct svm_vm *sv, u32 max);
void npt_free_pruned(struct svm_vm *sv);

#endif /* XKVM_SVM_H */
