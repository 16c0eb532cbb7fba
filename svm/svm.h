/* SPDX-License-Identifier: GPL-2.0 */
/*
 * svm.h - the AMD SVM backend's private objects.
 */
#ifndef XKVM_SVM_H
#define XKVM_SVM_H

#include "../core/xkvm.h"
#include "vmcb.h"

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
};

/* svm_entry.S: VMLOAD guest, VMRUN, VMSAVE guest, with GPRs switched */
void svm_vmrun(u64 vmcb_pa, u64 *gprs, u64 host_vmcb_pa);

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
