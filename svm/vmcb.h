/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmcb.h - the AMD Virtual Machine Control Block and SVM constants, from the
 * AMD64 Architecture Programmer's Manual vol. 2, chapter 15 and appendix B.
 *
 * The VMCB is one 4 KiB page: the control area (offsets 0x000-0x3ff) tells
 * the CPU what to intercept and reports why the guest exited; the state save
 * area (from 0x400) holds the guest state VMRUN loads and #VMEXIT stores.
 * Offsets are checked at compile time at the bottom of this file.
 */
#ifndef XKVM_VMCB_H
#define XKVM_VMCB_H

#include "../core/host.h"

struct vmcb_seg {
	u16 selector;
	u16 attrib; /* descriptor bits 40-47 then 52-55 */
	u32 limit;
	u64 base;
} __attribute__((packed));

struct vmcb_control {
	u32 intercept_cr;    /* 0x000: reads bits 0-15, writes 16-31 */
	u32 intercept_dr;    /* 0x004 */
	u32 intercept_exc;   /* 0x008: one bit per vector */
	u32 intercept_misc1; /* 0x00c */
	u32 intercept_misc2; /* 0x010 */
	u32 intercept_misc3; /* 0x014 */
	u8 rsvd1[0x3c - 0x18];
	u16 pause_threshold; /* 0x03c */
	u16 pause_count;     /* 0x03e */
	u64 iopm_base;       /* 0x040 */
	u64 msrpm_base;      /* 0x048 */
	u64 tsc_offset;      /* 0x050 */
	u32 asid;            /* 0x058 */
	u8 tlb_control;      /* 0x05c */
	u8 rsvd2[3];
	u64 v_intr;        /* 0x060: V_TPR, V_IRQ, V_INTR_MASKING, vector */
	u64 int_state;     /* 0x068: bit 0 interrupt shadow */
	u64 exit_code;     /* 0x070 */
	u64 exit_info1;    /* 0x078 */
	u64 exit_info2;    /* 0x080 */
	u64 exit_int_info; /* 0x088 */
	u64 np_enable;     /* 0x090: bit 0 nested paging */
	u64 avic_apic_bar; /* 0x098 */
	u64 ghcb_gpa;      /* 0x0a0 */
	u64 event_inj;     /* 0x0a8 */
	u64 n_cr3;         /* 0x0b0 */
	u64 virt_ext;      /* 0x0b8: LBR virtualization, VMSAVE/VMLOAD */
	u32 clean;         /* 0x0c0 */
	u32 rsvd3;
	u64 next_rip; /* 0x0c8: with NRIP save */
	u8 insn_len;  /* 0x0d0: with decode assists */
	u8 insn_bytes[15];
	u8 rsvd4[0x400 - 0x0e0];
} __attribute__((packed));

struct vmcb_save {
	struct vmcb_seg es, cs, ss, ds, fs, gs; /* 0x000 */
	struct vmcb_seg gdtr, ldtr, idtr, tr;   /* 0x060 */
	u8 rsvd1[0xcb - 0xa0];
	u8 cpl; /* 0x0cb */
	u32 rsvd2;
	u64 efer; /* 0x0d0 */
	u8 rsvd3[0x148 - 0xd8];
	u64 cr4; /* 0x148 */
	u64 cr3;
	u64 cr0;
	u64 dr7;
	u64 dr6;
	u64 rflags;
	u64 rip; /* 0x178 */
	u8 rsvd4[0x1d8 - 0x180];
	u64 rsp; /* 0x1d8 */
	u64 s_cet;
	u64 ssp;
	u64 isst_addr;
	u64 rax;  /* 0x1f8 */
	u64 star; /* 0x200 */
	u64 lstar;
	u64 cstar;
	u64 sfmask;
	u64 kernel_gs_base;
	u64 sysenter_cs;
	u64 sysenter_esp;
	u64 sysenter_eip;
	u64 cr2; /* 0x240 */
	u8 rsvd5[0x268 - 0x248];
	u64 g_pat; /* 0x268 */
	u64 dbgctl;
	u64 br_from;
	u64 br_to;
	u64 last_excp_from;
	u64 last_excp_to; /* 0x290 */
	u8 rsvd6[0x2e0 - 0x298];
	u64 spec_ctrl; /* 0x2e0: the guest's, with V_SPEC_CTRL */
} __attribute__((packed));

struct vmcb {
	struct vmcb_control control;
	struct vmcb_save save;
} __attribute__((packed));

_Static_assert(xk_offsetof(struct vmcb_control, iopm_base) == 0x40, "vmcb");
_Static_assert(xk_offsetof(struct vmcb_control, exit_code) == 0x70, "vmcb");
_Static_assert(xk_offsetof(struct vmcb_control, n_cr3) == 0xb0, "vmcb");
_Static_assert(xk_offsetof(struct vmcb_control, next_rip) == 0xc8, "vmcb");
_Static_assert(sizeof(struct vmcb_control) == 0x400, "vmcb");
_Static_assert(xk_offsetof(struct vmcb_save, cpl) == 0xcb, "vmcb");
_Static_assert(xk_offsetof(struct vmcb_save, efer) == 0xd0, "vmcb");
_Static_assert(xk_offsetof(struct vmcb_save, cr4) == 0x148, "vmcb");
_Static_assert(xk_offsetof(struct vmcb_save, rip) == 0x178, "vmcb");
_Static_assert(xk_offsetof(struct vmcb_save, rsp) == 0x1d8, "vmcb");
_Static_assert(xk_offsetof(struct vmcb_save, rax) == 0x1f8, "vmcb");
_Static_assert(xk_offsetof(struct vmcb_save, cr2) == 0x240, "vmcb");
_Static_assert(xk_offsetof(struct vmcb_save, g_pat) == 0x268, "vmcb");
_Static_assert(xk_offsetof(struct vmcb_save, spec_ctrl) == 0x2e0, "vmcb");

/* intercept_misc1 */
#define SVM_I1_INTR XK_BIT(0)
#define SVM_I1_NMI XK_BIT(1)
#define SVM_I1_SMI XK_BIT(2)
#define SVM_I1_INIT XK_BIT(3)
#define SVM_I1_VINTR XK_BIT(4)
#define SVM_I1_RDPMC XK_BIT(15)
#define SVM_I1_CPUID XK_BIT(18)
#define SVM_I1_RSM XK_BIT(19)
#define SVM_I1_INVD XK_BIT(22)
#define SVM_I1_IRET XK_BIT(20)
#define SVM_I1_HLT XK_BIT(24)
#define SVM_I1_INVLPGA XK_BIT(26)
#define SVM_I1_IOIO XK_BIT(27)
#define SVM_I1_MSR XK_BIT(28)
#define SVM_I1_SHUTDOWN XK_BIT(31)
/* intercept_misc2 */
#define SVM_I2_VMRUN XK_BIT(0)
#define SVM_I2_VMMCALL XK_BIT(1)
#define SVM_I2_VMLOAD XK_BIT(2)
#define SVM_I2_VMSAVE XK_BIT(3)
#define SVM_I2_STGI XK_BIT(4)
#define SVM_I2_CLGI XK_BIT(5)
#define SVM_I2_SKINIT XK_BIT(6)
#define SVM_I2_RDTSCP XK_BIT(7)
#define SVM_I2_ICEBP XK_BIT(8)
#define SVM_I2_WBINVD XK_BIT(9) /* WBINVD and WBNOINVD */
#define SVM_I2_MONITOR XK_BIT(10)
#define SVM_I2_MWAIT XK_BIT(11)
#define SVM_I2_MWAIT_COND XK_BIT(12)
#define SVM_I2_XSETBV XK_BIT(13)
#define SVM_I2_RDPRU XK_BIT(14)
/* intercept_misc3 */
#define SVM_I3_INVLPGB XK_BIT(0)
#define SVM_I3_INVLPGB_ILLEGAL XK_BIT(1)
#define SVM_I3_TLBSYNC XK_BIT(4)
/* intercept_dr: reads of DR0-7 in bits 0-7, writes in bits 16-23 */
#define SVM_DR_INTERCEPT_ALL 0x00ff00ffU

/* v_intr */
#define SVM_V_TPR_MASK 0xffULL
#define SVM_V_IRQ XK_BIT(8)
#define SVM_V_INTR_PRIO_MAX (0xfULL << 16)
#define SVM_V_IGN_TPR XK_BIT(20)
#define SVM_V_INTR_MASKING XK_BIT(24)
#define SVM_V_INTR_VECTOR_SHIFT 32
#define SVM_V_INTR_VECTOR_MASK (0xffULL << SVM_V_INTR_VECTOR_SHIFT)

#define SVM_INT_SHADOW XK_BIT(0)

/* tlb_control */
#define SVM_TLB_NONE 0
#define SVM_TLB_FLUSH_ALL 1
#define SVM_TLB_FLUSH_ASID 3

/* event_inj and exit_int_info */
#define SVM_EV_VECTOR_MASK 0xffULL
#define SVM_EV_TYPE_SHIFT 8
#define SVM_EV_TYPE_MASK (7ULL << SVM_EV_TYPE_SHIFT)
#define SVM_EV_TYPE_INTR 0
#define SVM_EV_TYPE_NMI 2
#define SVM_EV_TYPE_EXC 3
#define SVM_EV_TYPE_SOFT 4
#define SVM_EV_ERR_VALID XK_BIT(11)
#define SVM_EV_VALID XK_BIT(31)

/* exit codes */
#define SVM_EXIT_READ_DR0 0x020
#define SVM_EXIT_WRITE_DR15 0x03f
#define SVM_EXIT_EXCP_BASE 0x040
#define SVM_EXIT_INTR 0x060
#define SVM_EXIT_NMI 0x061
#define SVM_EXIT_SMI 0x062
#define SVM_EXIT_INIT 0x063
#define SVM_EXIT_VINTR 0x064
#define SVM_EXIT_RDPMC 0x06f
#define SVM_EXIT_IRET 0x074
#define SVM_EXIT_CPUID 0x072
#define SVM_EXIT_RSM 0x073
#define SVM_EXIT_INVD 0x076
#define SVM_EXIT_PAUSE 0x077
#define SVM_EXIT_HLT 0x078
#define SVM_EXIT_INVLPGA 0x07a
#define SVM_EXIT_IOIO 0x07b
#define SVM_EXIT_MSR 0x07c
#define SVM_EXIT_SHUTDOWN 0x07f
#define SVM_EXIT_VMRUN 0x080
#define SVM_EXIT_VMMCALL 0x081
#define SVM_EXIT_VMLOAD 0x082
#define SVM_EXIT_VMSAVE 0x083
#define SVM_EXIT_STGI 0x084
#define SVM_EXIT_CLGI 0x085
#define SVM_EXIT_SKINIT 0x086
#define SVM_EXIT_RDTSCP 0x087
#define SVM_EXIT_ICEBP 0x088
#define SVM_EXIT_WBINVD 0x089
#define SVM_EXIT_MONITOR 0x08a
#define SVM_EXIT_MWAIT 0x08b
#define SVM_EXIT_MWAIT_COND 0x08c
#define SVM_EXIT_XSETBV 0x08d
#define SVM_EXIT_RDPRU 0x08e
#define SVM_EXIT_INVLPGB 0x0a0
#define SVM_EXIT_INVLPGB_ILLEGAL 0x0a1
#define SVM_EXIT_TLBSYNC 0x0a4
#define SVM_EXIT_NPF 0x400
#define SVM_EXIT_INVALID ((u64)-1)

/* IOIO exit_info1 */
#define SVM_IO_IN XK_BIT(0)
#define SVM_IO_STR XK_BIT(2)
#define SVM_IO_REP XK_BIT(3)
#define SVM_IO_SZ_SHIFT 4 /* bits 4-6: 8, 16, 32-bit operand */
#define SVM_IO_A_SHIFT 7  /* bits 7-9: 16, 32, 64-bit address */
#define SVM_IO_PORT_SHIFT 16

/* NPF exit_info1 */
#define SVM_NPF_P XK_BIT(0)
#define SVM_NPF_W XK_BIT(1)
#define SVM_NPF_GUEST_FINAL XK_BIT(32)
#define SVM_NPF_GUEST_TABLE XK_BIT(33)

#endif /* XKVM_VMCB_H */
