/* SPDX-License-Identifier: GPL-2.0 */
/*
 * svm_entry.S - enter the guest once.
 *
 *   void svm_vmrun(struct svm_run *run)     (svm.h, svm_run.h)
 *   void svm_clgi(void), svm_stgi(void)     the global interrupt flag
 *
 * svm_vmrun is called with interrupts off and GIF clear (svm_clgi).  VMRUN
 * saves only part of the host state; the rest (FS, GS, TR, LDTR,
 * KernelGSBase and the SYSCALL and SYSENTER MSRs) is saved with VMSAVE into
 * the per-CPU host VMCB and restored with VMLOAD afterwards.  The guest's
 * general purpose registers other than RAX and RSP (which live in the VMCB)
 * are loaded from and stored to run->gprs[], indexed in ModRM order.  IF is
 * set just around VMRUN: with V_INTR_MASKING the host's IF decides whether
 * a physical interrupt makes the guest exit, while GIF=0 keeps it pending
 * in the host until STGI.
 *
 * Speculation (host.h's HOST_MIT_*, chosen per host by svm.c as flags):
 *  - before VMRUN: the guest's IA32_SPEC_CTRL is written when it differs
 *    from the host's (no RET or indirect branch between that write and
 *    VMRUN), and VERW clears the CPU buffers as the very last thing;
 *  - after #VMEXIT, before any RET: the return stack buffer is
 *    overwritten with 32 entries that lead to a trap (the guest may have
 *    filled it with its own return targets: AMD's "software techniques
 *    for managing speculation"), the host's IA32_SPEC_CTRL comes back,
 *    then the host's return untraining (Retbleed, SRSO) and IBPB run
 *    (host_untrain_ret, host_ibpb: register contract in host.h).  The
 *    choices are conditional branches on constant flags; one LFENCE after
 *    the last of them keeps a mispredicted skip from running anything,
 *    let alone a RET, before the branches resolve.
 * Every guest value is cleared from the registers before the return.
 */
#include "svm_run.h"

/* stack slots, from %rsp, between the pushes and the pops */
#define SLOT_RUN 0   /* struct svm_run * */
#define SLOT_FLAGS 8 /* run->flags */
#define SLOT_SEL 16  /* run->verw_sel, for VERW's memory operand */
#define SLOTS 24

/*
 * A CALL that is not a function call (the RSB filling): Linux's objtool
 * wants such calls listed in this section, which the linker discards.
 */
#define INTRA_CALL(target)                                                \
	999: call target;                                                 \
	.pushsection .discard.intra_function_calls;                        \
	.long 999b;                                                        \
	.popsection

/*
 * WRMSR IA32_SPEC_CTRL with the run's field \to when the flags ask for
 * the switch and it differs from the field \from.  Uses RAX, RCX, RDX, RDI.
 */
.macro SPEC_CTRL_SWITCH to, from
	testl	$SVM_RUN_F_SPEC_CTRL, SLOT_FLAGS(%rsp)
	jz	.Lspec_done\@
	mov	SLOT_RUN(%rsp), %rdi
	mov	\to(%rdi), %rax
	cmp	\from(%rdi), %rax
	je	.Lspec_done\@
	mov	%rax, %rdx
	shr	$32, %rdx
	mov	$SVM_MSR_SPEC_CTRL, %ecx
	wrmsr
.Lspec_done\@:
.endm

	.text
	.globl	svm_vmrun
	.type	svm_vmrun, @function
svm_vmrun:
	push	%rbp
	mov	%rsp, %rbp
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%rbx
	movzwl	SVM_RUN_VERW_SEL(%rdi), %eax
	push	%rax
	pushq	SVM_RUN_FLAGS(%rdi)
	push	%rdi

	mov	SVM_RUN_HOST_VMCB(%rdi), %rax
	vmsave	%rax

	/* the guest's SPEC_CTRL, if it differs from the host's */
	SPEC_CTRL_SWITCH SVM_RUN_GUEST_SPEC, SVM_RUN_HOST_SPEC
	mov	SVM_RUN_VMCB(%rdi), %rax
	/*
	 * IF on now, not right before VMRUN: the one-instruction shadow of STI
	 * must end on the host side (QEMU's emulated SVM carries a shadow
	 * that is still open at VMRUN into the guest).  GIF=0 keeps
	 * interrupts pending all the same.
	 */
	sti
	vmload	%rax

	mov	SVM_RUN_GPRS(%rdi), %rsi
	mov	1*8(%rsi), %rcx
	mov	2*8(%rsi), %rdx
	mov	3*8(%rsi), %rbx
	mov	5*8(%rsi), %rbp
	mov	7*8(%rsi), %rdi
	mov	8*8(%rsi), %r8
	mov	9*8(%rsi), %r9
	mov	10*8(%rsi), %r10
	mov	11*8(%rsi), %r11
	mov	12*8(%rsi), %r12
	mov	13*8(%rsi), %r13
	mov	14*8(%rsi), %r14
	mov	15*8(%rsi), %r15
	mov	6*8(%rsi), %rsi

	/* the last thing before the guest: clear the CPU buffers */
	testl	$SVM_RUN_F_VERW, SLOT_FLAGS(%rsp)
	jz	2f
	verw	SLOT_SEL(%rsp)
2:
	vmrun	%rax
	cli

	push	%rsi
	mov	8+SLOT_RUN(%rsp), %rsi
	mov	SVM_RUN_GPRS(%rsi), %rsi
	mov	%rcx, 1*8(%rsi)
	mov	%rdx, 2*8(%rsi)
	mov	%rbx, 3*8(%rsi)
	mov	%rbp, 5*8(%rsi)
	mov	%rdi, 7*8(%rsi)
	mov	%r8, 8*8(%rsi)
	mov	%r9, 9*8(%rsi)
	mov	%r10, 10*8(%rsi)
	mov	%r11, 11*8(%rsi)
	mov	%r12, 12*8(%rsi)
	mov	%r13, 13*8(%rsi)
	mov	%r14, 14*8(%rsi)
	mov	%r15, 15*8(%rsi)
	popq	6*8(%rsi)

	vmsave	%rax			/* RAX is the guest VMCB again */
	mov	SLOT_RUN(%rsp), %rdi
	mov	SVM_RUN_HOST_VMCB(%rdi), %rax
	vmload	%rax

	/* 32 harmless return predictions over whatever the guest left */
	testl	$SVM_RUN_F_RSB_FILL, SLOT_FLAGS(%rsp)
	jz	5f
	mov	$16, %ecx
3:	INTRA_CALL(4f)
	int3
4:	INTRA_CALL(6f)
	int3
6:	add	$16, %rsp
	dec	%ecx
	jnz	3b
5:
	/* the host's SPEC_CTRL */
	SPEC_CTRL_SWITCH SVM_RUN_HOST_SPEC, SVM_RUN_GUEST_SPEC
	testl	$SVM_RUN_F_UNTRAIN, SLOT_FLAGS(%rsp)
	jz	8f
	call	host_untrain_ret
8:
	testl	$SVM_RUN_F_IBPB, SLOT_FLAGS(%rsp)
	jz	9f
	call	host_ibpb
9:
	lfence

	/* leave no guest value in a register */
	xor	%eax, %eax
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%esi, %esi
	xor	%edi, %edi
	xor	%r8d, %r8d
	xor	%r9d, %r9d
	xor	%r10d, %r10d
	xor	%r11d, %r11d

	add	$SLOTS, %rsp
	pop	%rbx
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	pop	%rbp
#ifdef XK_RETHUNK
	jmp	__x86_return_thunk	/* the host's return mitigation */
#else
	ret
	int3
#endif
	.size	svm_vmrun, . - svm_vmrun

	.globl	svm_clgi
	.type	svm_clgi, @function
svm_clgi:
	clgi
#ifdef XK_RETHUNK
	jmp	__x86_return_thunk
#else
	ret
	int3
#endif
	.size	svm_clgi, . - svm_clgi

	.globl	svm_stgi
	.type	svm_stgi, @function
svm_stgi:
	stgi
#ifdef XK_RETHUNK
	jmp	__x86_return_thunk
#else
	ret
	int3
#endif
	.size	svm_stgi, . - svm_stgi

	.section .note.GNU-stack,"",@progbits
