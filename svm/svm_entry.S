/* SPDX-License-Identifier: GPL-2.0 */
/*
 * svm_entry.S - enter the guest once.
 *
 *   void svm_vmrun(u64 vmcb_pa, u64 *gprs, u64 host_vmcb_pa)
 *
 * Called with interrupts off and GIF clear (CLGI).  VMRUN saves only part of
 * the host state; the rest (FS, GS, TR, LDTR, KernelGSBase and the SYSCALL
 * and SYSENTER MSRs) is saved with VMSAVE into the per-CPU host VMCB and
 * restored with VMLOAD afterwards.  The guest's general purpose registers
 * other than RAX and RSP (which live in the VMCB) are loaded from and stored
 * to gprs[], indexed in ModRM order.  IF is set just around VMRUN: with
 * V_INTR_MASKING the host's IF decides whether a physical interrupt makes
 * the guest exit, while GIF=0 keeps it pending in the host until STGI.
 */
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
	push	%rdx			/* 16(%rsp): host VMCB */
	push	%rsi			/*  8(%rsp): gprs */
	push	%rdi			/*  0(%rsp): guest VMCB */

	mov	%rdx, %rax
	vmsave	%rax
	mov	%rdi, %rax
	/*
	 * IF on now, not right before VMRUN: the one-instruction shadow of STI
	 * must end on the host side (QEMU's emulated SVM carries a shadow
	 * that is still open at VMRUN into the guest).  GIF=0 keeps
	 * interrupts pending all the same.
	 */
	sti
	vmload	%rax

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

	vmrun	%rax
	cli

	push	%rsi
	mov	16(%rsp), %rsi		/* gprs */
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
	mov	16(%rsp), %rax
	vmload	%rax

	/* leave no guest value in a register */
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%esi, %esi
	xor	%edi, %edi
	xor	%r8d, %r8d
	xor	%r9d, %r9d
	xor	%r10d, %r10d
	xor	%r11d, %r11d

	add	$24, %rsp
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
	.section .note.GNU-stack,"",@progbits
