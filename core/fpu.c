// SPDX-License-Identifier: GPL-2.0
/*
 * fpu.c - the guest's FPU, SSE and AVX state as the VMM sees it:
 * KVM_GET/SET_FPU (the legacy FXSAVE fields), KVM_GET/SET_XSAVE (the whole
 * standard-format XSAVE image) and KVM_GET/SET_XCRS (XCR0).
 *
 * Theory.  The guest's state lives in vcpu->fpu in the standard
 * (non-compacted) XSAVE format, saved and restored around every guest entry
 * by vcpu.c with the host's XCR0, so every component the guest can touch is
 * in the image.  The VMM's views are windows on that one image: the legacy
 * region for GET/SET_FPU (without MXCSR, which Linux's KVM_GET_FPU leaves 0
 * and KVM_SET_FPU ignores), the image itself for GET/SET_XSAVE.  Writing a
 * component marks it in XSTATE_BV so that XRSTOR loads it rather than its
 * initial state.  An image the CPU would refuse (unknown components, a
 * compacted header, reserved header bytes, reserved MXCSR bits) is refused
 * with EINVAL before anything changes, so the guest can never make XRSTOR
 * fault in the host.
 *
 * PKRU is not switched through the image (vcpu.c): the guest's lives in
 * vcpu->pkru, and GET/SET_XSAVE carry it in the PKRU component of the
 * image as Linux 6.1 does (XSTATE_BV bit 9 set on GET; on SET the
 * component's value when the bit is set, PKRU unchanged when it is not).
 */
#include "xkvm.h"

/* offsets in the XSAVE image (legacy region, then the header) */
#define FX_FCW 0
#define FX_FSW 2
#define FX_FTW 4
#define FX_FOP 6
#define FX_FIP 8
#define FX_FDP 16
#define FX_MXCSR 24
#define FX_ST 32
#define FX_XMM 160
#define XS_BV 512
#define XS_COMP 520
#define XS_HDR_END 576
#define XFEATURE_X87 XK_BIT(0)
#define XFEATURE_SSE XK_BIT(1)
#define XFEATURE_PKRU XK_BIT(9)

static u32 mxcsr_mask = 0xffbf; /* the architectural default */

/* Called once at load: the host's MXCSR_MASK, from an FXSAVE image. */
void xk_fpu_setup_mxcsr(void)
{
	u8 img[512] __attribute__((aligned(16)));
	u32 m;

	xk_memset(img, 0, sizeof(img));
	__asm__ volatile("fxsave64 %0" : "=m"(img));
	xk_memcpy(&m, img + 28, 4);
	if (m)
		mxcsr_mask = m;
}

static u8 *img(struct xk_vcpu *v)
{
	return v->fpu;
}

/* The state after RESET: XSTATE_BV 0, so every component is initial. */
void xk_fpu_reset(struct xk_vcpu *v)
{
	u16 fcw = 0x37f;
	u32 mxcsr = 0x1f80;

	xk_memset(img(v), 0, xk_fpu_size());
	xk_memcpy(img(v) + FX_FCW, &fcw, sizeof(fcw));
	xk_memcpy(img(v) + FX_MXCSR, &mxcsr, sizeof(mxcsr));
	v->xcr0 = 1; /* x87 only */
}

#define GET(v, off, var) xk_memcpy(&(var), img(v) + (off), sizeof(var))
#define PUT(v, off, var) xk_memcpy(img(v) + (off), &(var), sizeof(var))

int xk_get_fpu(struct xk_vcpu *v, struct kvm_fpu *f)
{
	u16 ftw16 = 0;
	int i;

	xk_memset(f, 0, sizeof(*f));
	GET(v, FX_FCW, f->fcw);
	GET(v, FX_FSW, f->fsw);
	xk_memcpy(&ftw16, img(v) + FX_FTW, 1);
	f->ftwx = (u8)ftw16;
	GET(v, FX_FOP, f->last_opcode);
	GET(v, FX_FIP, f->last_ip);
	GET(v, FX_FDP, f->last_dp);
	/* f->mxcsr stays 0: Linux does not report MXCSR here (only in XSAVE) */
	for (i = 0; i < 8; i++)
		xk_memcpy(f->fpr[i], img(v) + FX_ST + 16 * i, 16);
	for (i = 0; i < 16; i++)
		xk_memcpy(f->xmm[i], img(v) + FX_XMM + 16 * i, 16);
	return 0;
}

int xk_set_fpu(struct xk_vcpu *v, const struct kvm_fpu *f)
{
	u64 bv;
	int i;

	PUT(v, FX_FCW, f->fcw);
	PUT(v, FX_FSW, f->fsw);
	xk_memcpy(img(v) + FX_FTW, &f->ftwx, 1);
	PUT(v, FX_FOP, f->last_opcode);
	PUT(v, FX_FIP, f->last_ip);
	PUT(v, FX_FDP, f->last_dp);
	/*
	 * f->mxcsr is ignored, as Linux does: GET_FPU reports 0 there, so a
	 * VMM's GET, change, SET must not zero the guest's MXCSR.
	 */
	for (i = 0; i < 8; i++)
		xk_memcpy(img(v) + FX_ST + 16 * i, f->fpr[i], 16);
	for (i = 0; i < 16; i++)
		xk_memcpy(img(v) + FX_XMM + 16 * i, f->xmm[i], 16);
	GET(v, XS_BV, bv);
	bv |= XFEATURE_X87 | XFEATURE_SSE;
	PUT(v, XS_BV, bv);
	return 0;
}

/* Offset of the PKRU component in a standard-format image, or 0. */
static u32 pkru_offset(void)
{
	u32 a, b, c, d;

	if (!(xk_supported_xcr0() & XFEATURE_PKRU))
		return 0;
	xk_cpuid(0xd, 9, &a, &b, &c, &d);
	if (a < 4 || b + 4 > XK_MIN(xk_fpu_size(), 4096u))
		return 0;
	return b;
}

int xk_get_xsave(struct xk_vcpu *v, struct kvm_xsave *x)
{
	u32 n = XK_MIN(xk_fpu_size(), (u32)sizeof(x->region));
	u32 off = pkru_offset();
	u64 bv;

	xk_memset(x, 0, sizeof(*x));
	xk_memcpy(x->region, img(v), n);
	if (off) {
		u8 *p = (u8 *)x->region;

		xk_memcpy(p + off, &v->pkru, 4);
		xk_memcpy(&bv, p + XS_BV, 8);
		bv |= XFEATURE_PKRU;
		xk_memcpy(p + XS_BV, &bv, 8);
	}
	return 0;
}

int xk_set_xsave(struct xk_vcpu *v, const struct kvm_xsave *x)
{
	const u8 *p = (const u8 *)x->region;
	u32 n = XK_MIN(xk_fpu_size(), (u32)sizeof(x->region)), mx, i;
	u64 bv, comp;

	xk_memcpy(&bv, p + XS_BV, 8);
	xk_memcpy(&comp, p + XS_COMP, 8);
	xk_memcpy(&mx, p + FX_MXCSR, 4);
	if (bv & ~xk_supported_xcr0())
		return -EINVAL;
	if (comp)
		return -EINVAL;
	for (i = XS_COMP + 8; i < XS_HDR_END; i++)
		if (p[i])
			return -EINVAL;
	if (mx & ~mxcsr_mask)
		return -EINVAL;
	xk_memcpy(img(v), p, n);
	if (pkru_offset() && (bv & XFEATURE_PKRU))
		xk_memcpy(&v->pkru, p + pkru_offset(), 4);
	return 0;
}

/* XCR0 as XSETBV would accept it: x87 on, AVX only with SSE, known bits. */
bool xk_xcr0_valid(u64 val)
{
	if (!(val & XFEATURE_X87) || (val & ~xk_supported_xcr0()))
		return false;
	if ((val & 4) && !(val & XFEATURE_SSE))
		return false;
	if ((val & 0xe0) && ((val & 0xe0) != 0xe0 || !(val & 4)))
		return false;
	return true;
}

int xk_get_xcrs(struct xk_vcpu *v, struct kvm_xcrs *x)
{
	xk_memset(x, 0, sizeof(*x));
	x->nr_xcrs = 1;
	x->xcrs[0].xcr = 0;
	x->xcrs[0].value = v->xcr0;
	return 0;
}

int xk_set_xcrs(struct xk_vcpu *v, const struct kvm_xcrs *x)
{
	u32 i;

	if (x->nr_xcrs > KVM_MAX_XCRS || x->flags)
		return -EINVAL;
	for (i = 0; i < x->nr_xcrs; i++)
		if (x->xcrs[i].xcr != 0 || !xk_xcr0_valid(x->xcrs[i].value))
			return -EINVAL;
	for (i = 0; i < x->nr_xcrs; i++)
		v->xcr0 = x->xcrs[i].value;
	return 0;
}
