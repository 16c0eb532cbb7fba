/* SPDX-License-Identifier: GPL-2.0 */
/*
 * x86.h - architectural constants of x86-64 (AMD APM vol. 2, Intel SDM
 * vol. 3): control register and EFER bits, RFLAGS, MSR numbers, exception
 * vectors, and a few instructions the core and the vendor backends execute.
 */
#ifndef XKVM_X86_H
#define XKVM_X86_H

#include "host.h"

/* general purpose register numbers, in ModRM/REX order */
enum {
	XK_RAX,
	XK_RCX,
	XK_RDX,
	XK_RBX,
	XK_RSP,
	XK_RBP,
	XK_RSI,
	XK_RDI,
	XK_R8,
	XK_R9,
	XK_R10,
	XK_R11,
	XK_R12,
	XK_R13,
	XK_R14,
	XK_R15,
	XK_NR_GPRS
};

/* segment registers, in the order of the instruction encoding */
enum {
	XK_ES,
	XK_CS,
	XK_SS,
	XK_DS,
	XK_FS,
	XK_GS,
	XK_NR_SREGS
};

#define XK_CR0_PE XK_BIT(0)
#define XK_CR0_MP XK_BIT(1)
#define XK_CR0_EM XK_BIT(2)
#define XK_CR0_TS XK_BIT(3)
#define XK_CR0_ET XK_BIT(4)
#define XK_CR0_NE XK_BIT(5)
#define XK_CR0_WP XK_BIT(16)
#define XK_CR0_AM XK_BIT(18)
#define XK_CR0_NW XK_BIT(29)
#define XK_CR0_CD XK_BIT(30)
#define XK_CR0_PG XK_BIT(31)

#define XK_CR4_VME XK_BIT(0)
#define XK_CR4_PVI XK_BIT(1)
#define XK_CR4_TSD XK_BIT(2)
#define XK_CR4_DE XK_BIT(3)
#define XK_CR4_PSE XK_BIT(4)
#define XK_CR4_PAE XK_BIT(5)
#define XK_CR4_MCE XK_BIT(6)
#define XK_CR4_PGE XK_BIT(7)
#define XK_CR4_PCE XK_BIT(8)
#define XK_CR4_OSFXSR XK_BIT(9)
#define XK_CR4_OSXMMEXCPT XK_BIT(10)
#define XK_CR4_UMIP XK_BIT(11)
#define XK_CR4_LA57 XK_BIT(12)
#define XK_CR4_FSGSBASE XK_BIT(16)
#define XK_CR4_PCIDE XK_BIT(17)
#define XK_CR4_OSXSAVE XK_BIT(18)
#define XK_CR4_SMEP XK_BIT(20)
#define XK_CR4_SMAP XK_BIT(21)
#define XK_CR4_PKE XK_BIT(22)

#define XK_EFER_SCE XK_BIT(0)
#define XK_EFER_LME XK_BIT(8)
#define XK_EFER_LMA XK_BIT(10)
#define XK_EFER_NXE XK_BIT(11)
#define XK_EFER_SVME XK_BIT(12)
#define XK_EFER_LMSLE XK_BIT(13)
#define XK_EFER_FFXSR XK_BIT(14)
#define XK_EFER_TCE XK_BIT(15)

#define XK_RFLAGS_CF XK_BIT(0)
#define XK_RFLAGS_FIXED XK_BIT(1)
#define XK_RFLAGS_PF XK_BIT(2)
#define XK_RFLAGS_AF XK_BIT(4)
#define XK_RFLAGS_ZF XK_BIT(6)
#define XK_RFLAGS_SF XK_BIT(7)
#define XK_RFLAGS_TF XK_BIT(8)
#define XK_RFLAGS_IF XK_BIT(9)
#define XK_RFLAGS_DF XK_BIT(10)
#define XK_RFLAGS_OF XK_BIT(11)
#define XK_RFLAGS_RF XK_BIT(16)
#define XK_RFLAGS_VM XK_BIT(17)

#define XK_DR6_INIT 0xffff0ff0ULL /* also the bits that always read 1 */
#define XK_DR6_B0_3 0xfULL        /* breakpoint conditions met */
#define XK_DR6_BD XK_BIT(13)      /* a MOV DR with DR7.GD set */
#define XK_DR6_BS XK_BIT(14)      /* single step (RFLAGS.TF) */
#define XK_DR6_BT XK_BIT(15)      /* task switch with the TSS's T bit */
#define XK_DR6_CAUSES (XK_DR6_B0_3 | XK_DR6_BD | XK_DR6_BS | XK_DR6_BT)
#define XK_DR7_INIT 0x400ULL
#define XK_DR7_ENABLES 0xffULL /* L0-G3: a breakpoint is armed */
#define XK_DR7_GD XK_BIT(13)

/* exception vectors */
#define XK_EXC_DE 0
#define XK_EXC_DB 1
#define XK_EXC_NMI 2
#define XK_EXC_BP 3
#define XK_EXC_OF 4
#define XK_EXC_BR 5
#define XK_EXC_UD 6
#define XK_EXC_NM 7
#define XK_EXC_DF 8
#define XK_EXC_TS 10
#define XK_EXC_NP 11
#define XK_EXC_SS 12
#define XK_EXC_GP 13
#define XK_EXC_PF 14
#define XK_EXC_MF 16
#define XK_EXC_AC 17
#define XK_EXC_MC 18
#define XK_EXC_XM 19

/* MSRs the core knows by name */
#define XK_MSR_IA32_TSC 0x00000010
#define XK_MSR_KVM_WALL_CLOCK 0x00000011 /* Linux's paravirtual clock */
#define XK_MSR_KVM_SYSTEM_TIME 0x00000012
#define XK_MSR_IA32_APICBASE 0x0000001b
#define XK_MSR_IA32_SYSENTER_CS 0x00000174
#define XK_MSR_IA32_SYSENTER_ESP 0x00000175
#define XK_MSR_IA32_SYSENTER_EIP 0x00000176
#define XK_MSR_IA32_CR_PAT 0x00000277
#define XK_MSR_MTRRCAP 0x000000fe
#define XK_MSR_MCG_CAP 0x00000179
#define XK_MSR_MCG_STATUS 0x0000017a
#define XK_MSR_MCG_CTL 0x0000017b
#define XK_MSR_MTRR_PHYS_BASE0 0x00000200 /* 0x200-0x20f: base, mask pairs */
#define XK_MSR_MTRR_FIX64K 0x00000250
#define XK_MSR_MTRR_FIX16K_80000 0x00000258
#define XK_MSR_MTRR_FIX16K_A0000 0x00000259
#define XK_MSR_MTRR_FIX4K_C0000 0x00000268 /* 0x268-0x26f */
#define XK_MSR_MTRR_DEF_TYPE 0x000002ff
#define XK_MTRR_NVAR 8
#define XK_MSR_EFER 0xc0000080
#define XK_MSR_STAR 0xc0000081
#define XK_MSR_LSTAR 0xc0000082
#define XK_MSR_CSTAR 0xc0000083
#define XK_MSR_SFMASK 0xc0000084
#define XK_MSR_FS_BASE 0xc0000100
#define XK_MSR_GS_BASE 0xc0000101
#define XK_MSR_KERNEL_GS_BASE 0xc0000102
#define XK_MSR_TSC_AUX 0xc0000103
#define XK_MSR_IA32_SPEC_CTRL 0x00000048
#define XK_MSR_IA32_PRED_CMD 0x00000049
#define XK_MSR_IA32_XSS 0x00000da0
#define XK_MSR_VIRT_SPEC_CTRL 0xc001011f
#define XK_MSR_VM_CR 0xc0010114
#define XK_MSR_VM_HSAVE_PA 0xc0010117

#define XK_MSR_VM_CR_SVMDIS XK_BIT(4)

#define XK_APICBASE_BSP XK_BIT(8)
#define XK_APICBASE_ENABLE XK_BIT(11)
#define XK_APICBASE_DEFAULT 0xfee00000ULL

#define XK_PAT_DEFAULT 0x0007040600070406ULL

/* CPUID bits the core tests */
#define CPUID_80000001_ECX_SVM XK_BIT(2)
#define CPUID_80000001_EDX_SYSCALL XK_BIT(11)
#define CPUID_80000001_EDX_NX XK_BIT(20)
#define CPUID_80000001_EDX_FFXSR XK_BIT(25)
#define CPUID_80000001_EDX_LM XK_BIT(29)
#define CPUID_1_ECX_VMX XK_BIT(5)
#define CPUID_1_ECX_XSAVE XK_BIT(26)
#define CPUID_8000000A_EDX_NP XK_BIT(0)
#define CPUID_8000000A_EDX_NRIPS XK_BIT(3)
#define CPUID_8000000A_EDX_FLUSHBYASID XK_BIT(6)
#define CPUID_8000000A_EDX_DECODEASSISTS XK_BIT(7)
#define CPUID_8000000A_EDX_V_SPEC_CTRL XK_BIT(20)
#define CPUID_80000008_EBX_INVLPGB XK_BIT(3)
#define CPUID_80000001_EDX_RDTSCP XK_BIT(27)
#define CPUID_7_ECX_RDPID XK_BIT(22)
#define CPUID_7_ECX_PKU XK_BIT(3)
/* AMD's speculation controls, leaf 0x80000008 EBX */
#define CPUID_80000008_EBX_IBPB XK_BIT(12)
#define CPUID_80000008_EBX_IBRS XK_BIT(14)
#define CPUID_80000008_EBX_STIBP XK_BIT(15)
#define CPUID_80000008_EBX_SSBD XK_BIT(24)
#define CPUID_80000008_EBX_VIRT_SSBD XK_BIT(25)

/* IA32_SPEC_CTRL bits */
#define XK_SPEC_CTRL_IBRS XK_BIT(0)
#define XK_SPEC_CTRL_STIBP XK_BIT(1)
#define XK_SPEC_CTRL_SSBD XK_BIT(2)

/* instructions every x86 host can execute the same way */
static inline void xk_cpuid(u32 leaf, u32 sub, u32 *a, u32 *b, u32 *c, u32 *d)
{
	__asm__ volatile("cpuid"
			 : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d)
			 : "a"(leaf), "c"(sub));
}

static inline u64 xk_rdmsr(u32 msr)
{
	u32 lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}

static inline void xk_wrmsr(u32 msr, u64 v)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((u32)v), "d"((u32)(v >> 32))
			 : "memory");
}

static inline u64 xk_rdtsc(void)
{
	u32 lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

/* TSC ticks at khz in ns nanoseconds (split so as not to overflow). */
static inline u64 xk_ns_to_tsc(u64 ns, u32 khz)
{
	return ns / 1000000ULL * khz + ns % 1000000ULL * khz / 1000000ULL;
}

static inline u64 xk_xgetbv(u32 idx)
{
	u32 lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(idx));
	return ((u64)hi << 32) | lo;
}

static inline bool xk_is_canonical(u64 va)
{
	return (u64)(((s64)(va << 16)) >> 16) == va;
}

#endif /* XKVM_X86_H */
