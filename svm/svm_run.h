/* SPDX-License-Identifier: GPL-2.0 */
/*
 * svm_run.h - what svm.c hands svm_vmrun (svm_entry.S) for one guest
 * entry: the layout of struct svm_run (svm.h checks it at compile time)
 * and its flags.  Plain numbers only, so the assembler reads it too.
 */
#ifndef XKVM_SVM_RUN_H
#define XKVM_SVM_RUN_H

/* offsets in struct svm_run */
#define SVM_RUN_VMCB 0x00       /* u64: the guest VMCB's physical address */
#define SVM_RUN_HOST_VMCB 0x08  /* u64: this CPU's host VMCB (VMSAVE/VMLOAD) */
#define SVM_RUN_GPRS 0x10       /* u64 *: the guest's GPRs, ModRM order */
#define SVM_RUN_FLAGS 0x18      /* u64: SVM_RUN_F_* */
#define SVM_RUN_GUEST_SPEC 0x20 /* u64: the guest's IA32_SPEC_CTRL */
#define SVM_RUN_HOST_SPEC 0x28  /* u64: this CPU's, as the host keeps it */
#define SVM_RUN_VERW_SEL 0x30   /* u16: a data selector for VERW */
#define SVM_RUN_SIZE 0x38

/* flags: what the entry code does around VMRUN (svm.c decides) */
#define SVM_RUN_F_SPEC_CTRL 0x01 /* switch IA32_SPEC_CTRL by WRMSR */
#define SVM_RUN_F_VERW 0x02      /* VERW right before VMRUN */
#define SVM_RUN_F_RSB_FILL 0x04  /* overwrite the RSB after #VMEXIT */
#define SVM_RUN_F_UNTRAIN 0x08   /* call host_untrain_ret() after it */
#define SVM_RUN_F_IBPB 0x10      /* call host_ibpb() after it */

#define SVM_MSR_SPEC_CTRL 0x48

#endif /* XKVM_SVM_RUN_H */
