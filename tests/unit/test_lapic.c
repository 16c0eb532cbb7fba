// SPDX-License-Identifier: GPL-2.0
/*
 * test_lapic.c - the local APIC model (core/lapic.c) on its own: a bus with
 * up to four APICs (vCPU ids 0-3, 0 the BSP), a kick counter per APIC and a
 * recorder for the bus's level EOI callback.  Timers run on the stopped
 * clock of host/user (host_user_clock_set/advance).
 */
#include <pthread.h>

#include "xtest.h"
#include "lapic.h"

#define T0 1000000000ULL /* the clock at the start of timer tests */

struct fx {
	struct xk_apic_bus *bus;
	struct xk_lapic *a[4];
	int n;
	int kicks[4];
	int eois;
	u8 last_eoi;
};

static void fx_kick(void *arg)
{
	__atomic_fetch_add((int *)arg, 1, __ATOMIC_SEQ_CST);
}

static void fx_eoi(void *arg, u8 vector)
{
	struct fx *f = arg;

	f->eois++;
	f->last_eoi = vector;
}

static void fx_free(void *arg)
{
	struct fx *f = arg;
	int i;

	for (i = 0; i < f->n; i++)
		xk_lapic_destroy(f->a[i]);
	xk_apic_bus_destroy(f->bus);
	host_user_clock_real();
}

static struct fx fx_static;

/* n APICs, software-enabled (SVR 0x1ff) unless raw, clock stopped at T0. */
static struct fx *fx_make(int n, bool raw)
{
	struct fx *f = &fx_static;
	int i;

	xk_memset(f, 0, sizeof(*f));
	host_user_clock_set(T0);
	XT_EQ(xk_apic_bus_create(fx_eoi, f, &f->bus), 0);
	xt_cleanup(fx_free, f);
	for (i = 0; i < n; i++) {
		XT_EQ(xk_lapic_create(f->bus, i, i == 0, fx_kick, &f->kicks[i],
				      &f->a[i]),
		      0);
		f->n++;
		xk_lapic_set_features(f->a[i], true, true);
		xk_lapic_set_tsc(f->a[i], 1000000, 0); /* 1 GHz: TSC = ns */
		if (!raw) {
			u32 svr = 0x1ff;

			xk_lapic_mmio_write(f->a[i], XK_APIC_SVR, &svr, 4);
		}
	}
	return f;
}

static u32 rd(struct xk_lapic *a, u32 off)
{
	u32 v = 0xdeadbeef;

	XT_EQ(xk_lapic_mmio_read(a, off, &v, 4), 0);
	return v;
}

static void wr(struct xk_lapic *a, u32 off, u32 v)
{
	XT_EQ(xk_lapic_mmio_write(a, off, &v, 4), 0);
}

static bool irr(struct xk_lapic *a, u8 v)
{
	return rd(a, XK_APIC_IRR + (v >> 5) * 0x10) & (1u << (v & 31));
}

static bool isr(struct xk_lapic *a, u8 v)
{
	return rd(a, XK_APIC_ISR + (v >> 5) * 0x10) & (1u << (v & 31));
}

static bool tmr(struct xk_lapic *a, u8 v)
{
	return rd(a, XK_APIC_TMR + (v >> 5) * 0x10) & (1u << (v & 31));
}

/* Clear every IRR by acking and EOIing all that is deliverable. */
static void drain(struct xk_lapic *a)
{
	u32 tpr = rd(a, XK_APIC_TPR);

	int i;

	if (!xk_lapic_hw_enabled(a))
		return;
	wr(a, XK_APIC_TPR, 0);
	while (xk_lapic_ack(a) >= 0)
		;
	for (i = 0; i < 256 && rd(a, XK_APIC_PPR); i++)
		xk_lapic_eoi(a);
	wr(a, XK_APIC_TPR, tpr);
}

static void to_x2apic(struct xk_lapic *a)
{
	XT_EQ(xk_lapic_set_base(a, xk_lapic_get_base(a) | XK_APICBASE_EXTD,
				false),
	      0);
}

/* ---------------------------------------------------------------------- */

XT_TEST(lapic, reset_values)
{
	struct fx *f = fx_make(2, true);
	struct xk_lapic *a = f->a[0], *b = f->a[1];
	u32 off;

	XT_EQ(xk_lapic_get_base(a),
	      0xfee00000ULL | XK_APICBASE_ENABLE | XK_APICBASE_BSP);
	XT_EQ(xk_lapic_get_base(b), 0xfee00000ULL | XK_APICBASE_ENABLE);
	XT_EQ(rd(b, XK_APIC_ID), 1u << 24);
	XT_EQ(rd(a, XK_APIC_VER), 0x50014);
	XT_EQ(rd(a, XK_APIC_TPR), 0);
	XT_EQ(rd(a, XK_APIC_PPR), 0);
	XT_EQ(rd(a, XK_APIC_APR), 0);
	XT_EQ(rd(a, XK_APIC_LDR), 0);
	XT_EQ(rd(a, XK_APIC_DFR), 0xffffffff);
	XT_EQ(rd(a, XK_APIC_SVR), 0xff);
	for (off = XK_APIC_ISR; off < XK_APIC_ESR; off += 0x10)
		XT_EQ(rd(a, off), 0);
	for (off = XK_APIC_LVTT; off <= XK_APIC_LVT_ERROR; off += 0x10) {
		xt_ctx("lvt 0x%x", off);
		if (off == XK_APIC_LVT_LINT0)
			continue;
		XT_EQ(rd(a, off), XK_APIC_MASKED);
		XT_EQ(rd(b, off), XK_APIC_MASKED);
	}
	/* the BSP's LINT0 is ExtINT, unmasked (Linux's quirk) */
	XT_EQ(rd(a, XK_APIC_LVT_LINT0), 0x700);
	XT_EQ(rd(b, XK_APIC_LVT_LINT0), XK_APIC_MASKED);
	XT_EQ(rd(a, XK_APIC_TMICT), 0);
	XT_EQ(rd(a, XK_APIC_TMCCT), 0);
	XT_EQ(rd(a, XK_APIC_TDCR), 0);
	XT_EQ(rd(a, XK_APIC_ICR), 0);
	XT_EQ(rd(a, XK_APIC_ESR), 0);
	XT_EQ(xk_lapic_get_cr8(a), 0);

	/* INIT keeps the ID and the base, resets the rest */
	wr(b, XK_APIC_ID, 7u << 24);
	wr(b, XK_APIC_TPR, 0x20);
	wr(b, XK_APIC_SVR, 0x1ff);
	XT_EQ(xk_lapic_set_irq(b, 0x40, true), 1);
	XT_EQ(xk_lapic_set_base(b, 0xfed00000ULL | XK_APICBASE_ENABLE, false),
	      0);
	xk_lapic_reset(b, true, false);
	XT_EQ(rd(b, XK_APIC_ID), 7u << 24);
	XT_EQ(xk_lapic_get_base(b), 0xfed00000ULL | XK_APICBASE_ENABLE);
	XT_EQ(rd(b, XK_APIC_TPR), 0);
	XT_EQ(rd(b, XK_APIC_SVR), 0xff);
	XT_ASSERT(!irr(b, 0x40) && !tmr(b, 0x40));
	/* power-on: the ID and the base too */
	xk_lapic_reset(b, false, false);
	XT_EQ(rd(b, XK_APIC_ID), 1u << 24);
	XT_EQ(xk_lapic_get_base(b), 0xfee00000ULL | XK_APICBASE_ENABLE);
}

XT_TEST(lapic, mmio_register_rules)
{
	struct fx *f = fx_make(1, true);
	struct xk_lapic *a = f->a[0];
	u32 off;
	u8 b1;
	u16 b2;
	u64 b8 = 0;

	wr(a, XK_APIC_ID, 0xffffffff);
	XT_EQ(rd(a, XK_APIC_ID), 0xff000000); /* writable, bits 31:24 */
	wr(a, XK_APIC_ID, 0);
	wr(a, XK_APIC_VER, 0);
	XT_EQ(rd(a, XK_APIC_VER), 0x50014); /* read-only */
	wr(a, XK_APIC_TPR, 0xfff);
	XT_EQ(rd(a, XK_APIC_TPR), 0xff);
	XT_EQ(rd(a, XK_APIC_PPR), 0xff);
	wr(a, XK_APIC_PPR, 0);
	XT_EQ(rd(a, XK_APIC_PPR), 0xff); /* read-only */
	XT_EQ(xk_lapic_get_cr8(a), 0xf);
	xk_lapic_set_cr8(a, 3);
	XT_EQ(rd(a, XK_APIC_TPR), 0x30);
	wr(a, XK_APIC_TPR, 0);
	XT_EQ(rd(a, XK_APIC_EOI), 0); /* write-only: reads 0 */
	XT_EQ(rd(a, XK_APIC_RRD), 0);
	wr(a, XK_APIC_LDR, 0xffffffff);
	XT_EQ(rd(a, XK_APIC_LDR), 0xff000000);
	wr(a, XK_APIC_DFR, 0);
	XT_EQ(rd(a, XK_APIC_DFR), 0x0fffffff);
	wr(a, XK_APIC_DFR, 0xffffffff);

	/* SVR: bits 9:0; while software-disabled every LVT stays masked */
	wr(a, XK_APIC_SVR, 0xffffffff);
	XT_EQ(rd(a, XK_APIC_SVR), 0x3ff);
	wr(a, XK_APIC_LVT_LINT1, 0x400);
	XT_EQ(rd(a, XK_APIC_LVT_LINT1), 0x400);
	wr(a, XK_APIC_SVR, 0x0ff); /* disable */
	for (off = XK_APIC_LVTT; off <= XK_APIC_LVT_ERROR; off += 0x10)
		XT_ASSERT(rd(a, off) & XK_APIC_MASKED);
	wr(a, XK_APIC_LVT_LINT1, 0x400);
	XT_EQ(rd(a, XK_APIC_LVT_LINT1), 0x10400);
	wr(a, XK_APIC_SVR, 0x1ff);

	/* LVT writable bits (delivery status and remote IRR read-only) */
	wr(a, XK_APIC_LVTT, 0xffffffff);
	XT_EQ(rd(a, XK_APIC_LVTT), 0x700ff);
	wr(a, XK_APIC_LVTT, 0);
	wr(a, XK_APIC_LVT_THERMAL, 0xffffffff);
	XT_EQ(rd(a, XK_APIC_LVT_THERMAL), 0x107ff);
	wr(a, XK_APIC_LVT_PMC, 0xffffffff);
	XT_EQ(rd(a, XK_APIC_LVT_PMC), 0x107ff);
	wr(a, XK_APIC_LVT_LINT0, 0xffffffff);
	XT_EQ(rd(a, XK_APIC_LVT_LINT0), 0x1a7ff);
	wr(a, XK_APIC_LVT_LINT1, 0xffffffff);
	XT_EQ(rd(a, XK_APIC_LVT_LINT1), 0x1a7ff);
	wr(a, XK_APIC_LVT_ERROR, 0xffffffff);
	XT_EQ(rd(a, XK_APIC_LVT_ERROR), 0x100ff);
	/* without TSC-deadline the timer mode is one bit */
	xk_lapic_set_features(a, true, false);
	wr(a, XK_APIC_LVTT, 0xffffffff);
	XT_EQ(rd(a, XK_APIC_LVTT), 0x300ff);
	/* no CMCI LVT (max LVT 5) */
	wr(a, XK_APIC_LVT_CMCI, 0x30);
	XT_EQ(rd(a, XK_APIC_LVT_CMCI), 0);

	/* ISR, TMR, IRR are read-only */
	for (off = XK_APIC_ISR; off < XK_APIC_ESR; off += 0x10) {
		wr(a, off, 0xffffffff);
		XT_EQ(rd(a, off), 0);
	}
	/* ICR: the delivery status reads 0; ICR2 bits 31:24 */
	wr(a, XK_APIC_ICR2, 0xffffffff);
	XT_EQ(rd(a, XK_APIC_ICR2), 0xff000000);
	wr(a, XK_APIC_ICR2, 0x05000000); /* nobody there */
	wr(a, XK_APIC_ICR, 0x1030);
	XT_EQ(rd(a, XK_APIC_ICR), 0x0030);
	/* timer registers */
	wr(a, XK_APIC_TDCR, 0xffffffff);
	XT_EQ(rd(a, XK_APIC_TDCR), 0xb);
	wr(a, XK_APIC_TMCCT, 5);
	XT_EQ(rd(a, XK_APIC_TMCCT), 0);
	wr(a, XK_APIC_SELF_IPI, 0x40); /* no such register in xAPIC mode */
	XT_ASSERT(!irr(a, 0x40));

	/* partial reads inside the first dword; other sizes and places 0 */
	wr(a, XK_APIC_TPR, 0xa5);
	XT_EQ(xk_lapic_mmio_read(a, XK_APIC_VER + 2, &b2, 2), 0);
	XT_EQ(b2, 0x5);
	XT_EQ(xk_lapic_mmio_read(a, XK_APIC_TPR, &b1, 1), 0);
	XT_EQ(b1, 0xa5);
	XT_EQ(xk_lapic_mmio_read(a, XK_APIC_VER + 3, &b2, 2), 0);
	XT_EQ(b2, 0);
	XT_EQ(xk_lapic_mmio_read(a, XK_APIC_VER + 4, &b1, 1), 0);
	XT_EQ(b1, 0);
	XT_EQ(xk_lapic_mmio_read(a, XK_APIC_VER, &b8, 8), 0);
	XT_EQ(b8, 0);
	/* writes: only aligned dwords */
	b1 = 0x10;
	XT_EQ(xk_lapic_mmio_write(a, XK_APIC_TPR, &b1, 1), 0);
	XT_EQ(rd(a, XK_APIC_TPR), 0xa5);
	XT_EQ(xk_lapic_mmio_write(a, XK_APIC_TPR + 4, &off, 4), 0);
	XT_EQ(rd(a, XK_APIC_TPR), 0xa5);

	/* hardware-disabled: the page reads all ones, writes vanish */
	XT_ASSERT(xk_lapic_mmio_decodes(a, 0xfee00380));
	XT_ASSERT(!xk_lapic_mmio_decodes(a, 0xfee01000));
	XT_EQ(xk_lapic_set_base(a, 0xfee00000, false), 0);
	XT_ASSERT(!xk_lapic_mmio_decodes(a, 0xfee00380));
	XT_EQ(rd(a, XK_APIC_VER), 0xffffffff);
	wr(a, XK_APIC_TPR, 0x20);
	XT_EQ(xk_lapic_set_base(a, 0xfee00000 | XK_APICBASE_ENABLE, false), 0);
	XT_EQ(rd(a, XK_APIC_TPR), 0); /* and power-on state after disable */
	XT_EQ(rd(a, XK_APIC_ID), 0);
}

XT_TEST(lapic, esr_write_then_read)
{
	struct fx *f = fx_make(1, false);
	struct xk_lapic *a = f->a[0];

	wr(a, XK_APIC_LVT_ERROR, 0xfe);
	wr(a, XK_APIC_ICR2, 0);
	wr(a, XK_APIC_ICR, 0x40005);  /* self, fixed, vector 5: illegal */
	XT_EQ(rd(a, XK_APIC_ESR), 0); /* not visible before a write */
	XT_ASSERT(irr(a, 0xfe));      /* the LVT error interrupt */
	XT_ASSERT(!irr(a, 5));
	XT_EQ(xk_lapic_set_irq(a, 7, false), -EINVAL); /* receive illegal */
	wr(a, XK_APIC_ESR, 0);
	XT_EQ(rd(a, XK_APIC_ESR),
	      XK_APIC_ESR_SEND_ILLEGAL | XK_APIC_ESR_RECV_ILLEGAL);
	wr(a, XK_APIC_ESR, 0x1234);
	XT_EQ(rd(a, XK_APIC_ESR), 0); /* nothing new since */
}

XT_TEST(lapic, x2apic_msr_rules)
{
	struct fx *f = fx_make(1, false);
	struct xk_lapic *a = f->a[0], *b;
	u64 v;

	XT_EQ(xk_lapic_create(f->bus, 0x35, false, fx_kick, &f->kicks[1],
			      &f->a[1]),
	      0);
	f->n++;
	b = f->a[1];
	xk_lapic_set_features(b, true, true);
	xk_lapic_set_tsc(b, 1000000, 0);
	/* MSRs #GP in xAPIC mode */
	XT_EQ(xk_lapic_msr_read(b, 0x802, &v), -EINVAL);
	XT_EQ(xk_lapic_msr_write(b, 0x808, 0), -EINVAL);
	to_x2apic(b);
	XT_ASSERT(xk_lapic_x2apic_mode(b));
	XT_ASSERT(xk_lapic_mmio_decodes(b, 0xfee00000));
	XT_EQ(rd(b, XK_APIC_VER), 0xffffffff); /* the MMIO hole */
	wr(b, XK_APIC_TPR, 0x20);
	XT_EQ(xk_lapic_msr_read(b, 0x808, &v), 0);
	XT_EQ(v, 0);
	XT_EQ(xk_lapic_msr_read(b, 0x802, &v), 0);
	XT_EQ(v, 0x35); /* 32-bit ID */
	XT_EQ(xk_lapic_msr_read(b, 0x80d, &v), 0);
	XT_EQ(v, (3u << 16) | (1u << 5)); /* LDR from the ID */
	XT_EQ(xk_lapic_msr_read(b, 0x803, &v), 0);
	XT_EQ(v, 0x50014);
	XT_EQ(xk_lapic_msr_write(b, 0x80f, 0x1ff), 0); /* SVR */
	XT_EQ(xk_lapic_msr_read(b, 0x80f, &v), 0);
	XT_EQ(v, 0x1ff);
	/* read-only: #GP on write */
	XT_EQ(xk_lapic_msr_write(b, 0x802, 0x35), -EINVAL);
	XT_EQ(xk_lapic_msr_write(b, 0x803, 0), -EINVAL);
	XT_EQ(xk_lapic_msr_write(b, 0x80a, 0), -EINVAL);
	XT_EQ(xk_lapic_msr_write(b, 0x80d, 0), -EINVAL);
	XT_EQ(xk_lapic_msr_write(b, 0x810, 0), -EINVAL);
	XT_EQ(xk_lapic_msr_write(b, 0x818, 0), -EINVAL);
	XT_EQ(xk_lapic_msr_write(b, 0x820, 0), -EINVAL);
	XT_EQ(xk_lapic_msr_write(b, 0x839, 0), -EINVAL);
	/* write-only: #GP on read */
	XT_EQ(xk_lapic_msr_read(b, 0x80b, &v), -EINVAL);
	XT_EQ(xk_lapic_msr_read(b, 0x83f, &v), -EINVAL);
	/* absent in x2APIC: APR, RRD, DFR, ICR2, CMCI, reserved */
	XT_EQ(xk_lapic_msr_read(b, 0x809, &v), -EINVAL);
	XT_EQ(xk_lapic_msr_read(b, 0x80c, &v), -EINVAL);
	XT_EQ(xk_lapic_msr_read(b, 0x80e, &v), -EINVAL);
	XT_EQ(xk_lapic_msr_write(b, 0x80e, 0), -EINVAL);
	XT_EQ(xk_lapic_msr_read(b, 0x831, &v), -EINVAL);
	XT_EQ(xk_lapic_msr_write(b, 0x831, 0), -EINVAL);
	XT_EQ(xk_lapic_msr_read(b, 0x82f, &v), -EINVAL);
	XT_EQ(xk_lapic_msr_read(b, 0x801, &v), -EINVAL);
	XT_EQ(xk_lapic_msr_read(b, 0x8ff, &v), -EINVAL);
	XT_EQ(xk_lapic_msr_read(b, 0x900, &v), -EINVAL);
	/* bits 63:32 are reserved but in the ICR */
	XT_EQ(xk_lapic_msr_write(b, 0x808, 1ULL << 32), -EINVAL);
	XT_EQ(xk_lapic_msr_write(b, 0x808, 0x20), 0);
	XT_EQ(xk_lapic_msr_read(b, 0x808, &v), 0);
	XT_EQ(v, 0x20);
	XT_EQ(xk_lapic_msr_read(b, 0x80a, &v), 0);
	XT_EQ(v, 0x20);
	XT_EQ(xk_lapic_msr_write(b, 0x808, 0), 0);
	/* EOI and ESR: only 0 */
	XT_EQ(xk_lapic_msr_write(b, 0x80b, 1), -EINVAL);
	XT_EQ(xk_lapic_msr_write(b, 0x80b, 0), 0);
	XT_EQ(xk_lapic_msr_write(b, 0x828, 1), -EINVAL);
	XT_EQ(xk_lapic_msr_write(b, 0x828, 0), 0);
	/* SELF_IPI */
	XT_EQ(xk_lapic_msr_write(b, 0x83f, 0x61), 0);
	XT_EQ(xk_lapic_ack(b), 0x61);
	XT_EQ(xk_lapic_msr_read(b, 0x810 + (0x61 >> 5), &v), 0);
	XT_EQ(v, 1u << (0x61 & 31));
	XT_EQ(xk_lapic_msr_write(b, 0x80b, 0), 0);
	/* ICR: one 64-bit register, reserved bits #GP */
	XT_EQ(xk_lapic_msr_write(b, 0x830, (0x35ULL << 32) | 0x1062), 0);
	XT_EQ(xk_lapic_msr_read(b, 0x830, &v), 0);
	XT_EQ(v, (0x35ULL << 32) | 0x62); /* busy bit ignored */
	XT_EQ(xk_lapic_ack(b), 0x62);
	XT_EQ(xk_lapic_msr_write(b, 0x830, 0x62 | XK_BIT(13)), -EINVAL);
	XT_EQ(xk_lapic_msr_write(b, 0x830, 0x62 | XK_BIT(16)), -EINVAL);
	XT_EQ(xk_lapic_msr_write(b, 0x830, 0x62 | XK_BIT(20)), -EINVAL);
	/* LVT, timer registers */
	XT_EQ(xk_lapic_msr_write(b, 0x835, 0xffffffff), 0);
	XT_EQ(xk_lapic_msr_read(b, 0x835, &v), 0);
	XT_EQ(v, 0x1a7ff);
	XT_EQ(xk_lapic_msr_write(b, 0x83e, 0xb), 0);
	XT_EQ(xk_lapic_msr_read(b, 0x83e, &v), 0);
	XT_EQ(v, 0xb);
	XT_EQ(xk_lapic_msr_write(b, 0x838, 1000), 0);
	XT_EQ(xk_lapic_msr_read(b, 0x839, &v), 0);
	XT_EQ(v, 1000);
	/* the xAPIC one is unaffected */
	XT_EQ(xk_lapic_msr_read(a, 0x802, &v), -EINVAL);
}

XT_TEST(lapic, apic_base_transitions)
{
	struct fx *f = fx_make(2, false);
	struct xk_lapic *a = f->a[1];
	const u64 B = 0xfee00000ULL, EN = XK_APICBASE_ENABLE,
		  X = XK_APICBASE_EXTD;

	/* reserved bits */
	XT_EQ(xk_lapic_set_base(a, B | EN | 1, false), -EINVAL);
	XT_EQ(xk_lapic_set_base(a, B | EN | XK_BIT(9), false), -EINVAL);
	XT_EQ(xk_lapic_set_base(a, B | EN | XK_BIT(52), false), -EINVAL);
	/* the invalid state, from anywhere, even for the host */
	XT_EQ(xk_lapic_set_base(a, B | X, false), -EINVAL);
	XT_EQ(xk_lapic_set_base(a, B | X, true), -EINVAL);
	/* x2APIC needs the feature */
	xk_lapic_set_features(a, false, true);
	XT_EQ(xk_lapic_set_base(a, B | EN | X, false), -EINVAL);
	xk_lapic_set_features(a, true, true);
	/* xAPIC -> x2APIC -> (not xAPIC) -> disabled -> xAPIC */
	XT_EQ(xk_lapic_set_base(a, B | EN | X, false), 0);
	XT_EQ(xk_lapic_set_base(a, B | EN, false), -EINVAL);
	XT_EQ(xk_lapic_get_base(a), B | EN | X);
	XT_EQ(xk_lapic_set_base(a, B, false), 0);
	XT_ASSERT(!xk_lapic_hw_enabled(a));
	/* disabled -> x2APIC is refused for the guest */
	XT_EQ(xk_lapic_set_base(a, B | EN | X, false), -EINVAL);
	XT_EQ(xk_lapic_set_base(a, B | EN, false), 0);
	XT_EQ(rd(a, XK_APIC_ID), 1u << 24);
	XT_EQ(rd(a, XK_APIC_LDR), 0);
	XT_EQ(rd(a, XK_APIC_SVR), 0xff); /* power-on registers */
	/* the host may do what the guest may not */
	XT_EQ(xk_lapic_set_base(a, B | EN | X, true), 0);
	XT_EQ(xk_lapic_set_base(a, B | EN, true), 0);
	XT_EQ(rd(a, XK_APIC_ID), 1u << 24);
	XT_EQ(xk_lapic_set_base(a, B, true), 0);
	XT_EQ(xk_lapic_set_base(a, B | EN | X, true), 0);
	XT_ASSERT(xk_lapic_x2apic_mode(a));
	/* relocation */
	XT_EQ(xk_lapic_set_base(a, 0xfe000000ULL | EN | X, false), 0);
	XT_EQ(xk_lapic_set_base(a, 0xfe000000ULL, false), 0);
	XT_EQ(xk_lapic_set_base(a, 0xfe000000ULL | EN, false), 0);
	XT_ASSERT(xk_lapic_mmio_decodes(a, 0xfe000020));
	XT_ASSERT(!xk_lapic_mmio_decodes(a, 0xfee00020));
	/* a disabled APIC takes no interrupts */
	XT_EQ(xk_lapic_set_base(a, 0xfe000000ULL, false), 0);
	XT_EQ(xk_lapic_set_irq(a, 0x40, false), 0);
	XT_EQ(xk_lapic_pending(a), -1);
}

XT_TEST(lapic, priorities_ppr_apr)
{
	struct fx *f = fx_make(1, false);
	struct xk_lapic *a = f->a[0];

	XT_EQ(xk_lapic_pending(a), -1);
	XT_EQ(xk_lapic_set_irq(a, 0x35, false), 1);
	XT_EQ(f->kicks[0], 1);
	XT_EQ(rd(a, XK_APIC_APR), 0x30); /* max(TPR, ISRV, IRRV) classes */
	wr(a, XK_APIC_TPR, 0x3f);
	XT_EQ(rd(a, XK_APIC_PPR), 0x3f);
	XT_EQ(xk_lapic_pending(a), -1);  /* class 3 is not above 3 */
	XT_EQ(rd(a, XK_APIC_APR), 0x3f); /* TPR >= IRRV, > ISRV: TPR */
	wr(a, XK_APIC_TPR, 0x48);
	XT_EQ(rd(a, XK_APIC_APR), 0x48); /* TPR above IRRV and ISRV */
	wr(a, XK_APIC_TPR, 0x2f);
	XT_EQ(xk_lapic_pending(a), 0x35);
	XT_EQ(xk_lapic_set_irq(a, 0x45, false), 1);
	XT_EQ(xk_lapic_pending(a), 0x45);
	XT_EQ(xk_lapic_ack(a), 0x45);
	XT_ASSERT(isr(a, 0x45) && !irr(a, 0x45));
	XT_EQ(rd(a, XK_APIC_PPR), 0x40); /* ISRV class above TPR */
	XT_EQ(rd(a, XK_APIC_APR), 0x40);
	XT_EQ(xk_lapic_pending(a), -1); /* 0x35 below the one in service */
	XT_EQ(xk_lapic_ack(a), -1);
	XT_EQ(xk_lapic_set_irq(a, 0x41, false), 1);
	XT_EQ(xk_lapic_pending(a), -1); /* same class as in service */
	XT_EQ(xk_lapic_set_irq(a, 0x50, false), 1);
	XT_EQ(xk_lapic_ack(a), 0x50); /* nests */
	XT_EQ(rd(a, XK_APIC_PPR), 0x50);
	wr(a, XK_APIC_TPR, 0x6f);
	XT_EQ(rd(a, XK_APIC_PPR), 0x6f);
	wr(a, XK_APIC_TPR, 0x00);
	wr(a, XK_APIC_EOI, 0); /* the highest in service first */
	XT_ASSERT(!isr(a, 0x50) && isr(a, 0x45));
	XT_EQ(rd(a, XK_APIC_PPR), 0x40);
	xk_lapic_eoi(a);
	XT_EQ(rd(a, XK_APIC_PPR), 0);
	XT_EQ(xk_lapic_ack(a), 0x41);
	xk_lapic_eoi(a);
	XT_EQ(xk_lapic_ack(a), 0x35);
	xk_lapic_eoi(a);
	xk_lapic_eoi(a);   /* nothing in service: no effect */
	XT_EQ(f->eois, 0); /* all edge */
	/* software-disabled: new fixed interrupts are dropped */
	wr(a, XK_APIC_SVR, 0xff);
	XT_EQ(xk_lapic_set_irq(a, 0x80, false), 0);
	XT_EQ(xk_lapic_pending(a), -1);
}

XT_TEST(lapic, level_eoi_callback)
{
	struct fx *f = fx_make(1, false);
	struct xk_lapic *a = f->a[0];

	XT_EQ(xk_lapic_set_irq(a, 0x71, true), 1);
	XT_EQ(xk_lapic_set_irq(a, 0x62, false), 1);
	XT_ASSERT(tmr(a, 0x71) && !tmr(a, 0x62));
	XT_EQ(xk_lapic_ack(a), 0x71);
	XT_ASSERT(tmr(a, 0x71)); /* TMR stays until the EOI */
	XT_EQ(f->eois, 0);
	wr(a, XK_APIC_EOI, 0);
	XT_EQ(f->eois, 1);
	XT_EQ(f->last_eoi, 0x71);
	XT_EQ(xk_lapic_ack(a), 0x62);
	xk_lapic_eoi(a);
	XT_EQ(f->eois, 1); /* edge: no callback */
	/* the same vector edge-triggered later clears TMR */
	XT_EQ(xk_lapic_set_irq(a, 0x71, false), 1);
	XT_ASSERT(!tmr(a, 0x71));
	XT_EQ(xk_lapic_ack(a), 0x71);
	xk_lapic_eoi(a);
	XT_EQ(f->eois, 1);
}

XT_TEST(lapic, timer_oneshot_and_divide)
{
	struct fx *f = fx_make(1, false);
	struct xk_lapic *a = f->a[0];
	static const struct {
		u32 dcr, div;
	} divs[] = { { 0, 2 },  { 1, 4 },  { 2, 8 },    { 3, 16 },
		     { 8, 32 }, { 9, 64 }, { 10, 128 }, { 11, 1 } };
	unsigned int i;

	for (i = 0; i < XK_ARRAY_SIZE(divs); i++) {
		xt_ctx("dcr %u", divs[i].dcr);
		wr(a, XK_APIC_TDCR, divs[i].dcr);
		wr(a, XK_APIC_LVTT, 0x10040); /* masked, one-shot */
		wr(a, XK_APIC_TMICT, 1000);
		XT_EQ(rd(a, XK_APIC_TMCCT), 1000);
		XT_EQ(host_user_clock_advance(300 * divs[i].div), 0);
		XT_EQ(rd(a, XK_APIC_TMCCT), 700);
		XT_EQ(host_user_clock_advance(700 * divs[i].div), 1);
		XT_EQ(rd(a, XK_APIC_TMCCT), 0);
		XT_EQ(rd(a, XK_APIC_TMICT), 1000);
		XT_ASSERT(!irr(a, 0x40)); /* masked: counts, no interrupt */
	}
	xt_ctx("unmasked");
	wr(a, XK_APIC_TDCR, 0xb);
	wr(a, XK_APIC_LVTT, 0x40);
	f->kicks[0] = 0;
	wr(a, XK_APIC_TMICT, 5000);
	XT_EQ(host_user_clock_advance(4999), 0);
	XT_ASSERT(!irr(a, 0x40));
	XT_EQ(host_user_clock_advance(1), 1);
	XT_ASSERT(irr(a, 0x40) && !tmr(a, 0x40));
	XT_EQ(f->kicks[0], 1);
	XT_EQ(host_user_clock_advance(100000), 0); /* one-shot: once */
	drain(a);
	/* rewriting the count restarts it; 0 stops it */
	wr(a, XK_APIC_TMICT, 5000);
	XT_EQ(host_user_clock_advance(3000), 0);
	wr(a, XK_APIC_TMICT, 5000);
	XT_EQ(host_user_clock_advance(3000), 0);
	XT_EQ(rd(a, XK_APIC_TMCCT), 2000);
	wr(a, XK_APIC_TMICT, 0);
	XT_EQ(rd(a, XK_APIC_TMCCT), 0);
	XT_EQ(host_user_clock_advance(100000), 0);
	/* changing the divider mid-count keeps the count going */
	wr(a, XK_APIC_TMICT, 1000);
	XT_EQ(host_user_clock_advance(400), 0);
	wr(a, XK_APIC_TDCR, 1); /* by 4 */
	XT_EQ(rd(a, XK_APIC_TMCCT), 600);
	XT_EQ(host_user_clock_advance(2399), 0);
	XT_EQ(host_user_clock_advance(1), 1);
	XT_ASSERT(irr(a, 0x40));
}

XT_TEST(lapic, timer_periodic)
{
	struct fx *f = fx_make(1, false);
	struct xk_lapic *a = f->a[0];

	wr(a, XK_APIC_TDCR, 0xb);
	wr(a, XK_APIC_LVTT, XK_APIC_TIMER_PERIODIC | 0x50);
	wr(a, XK_APIC_TMICT, 1000000); /* 1 ms */
	XT_EQ(host_user_clock_advance(3500000), 3);
	XT_ASSERT(irr(a, 0x50));
	XT_EQ(f->kicks[0], 3);
	XT_EQ(rd(a, XK_APIC_TMCCT), 500000); /* reloads each period */
	XT_EQ(xk_lapic_ack(a), 0x50);
	xk_lapic_eoi(a);
	XT_EQ(host_user_clock_advance(500000), 1);
	XT_ASSERT(irr(a, 0x50));
	XT_EQ(rd(a, XK_APIC_TMCCT), 1000000);
	drain(a);
	/* masked: keeps counting, no interrupt */
	wr(a, XK_APIC_LVTT, XK_APIC_TIMER_PERIODIC | XK_APIC_MASKED | 0x50);
	XT_EQ(host_user_clock_advance(2000000), 2);
	XT_ASSERT(!irr(a, 0x50));
	wr(a, XK_APIC_LVTT, XK_APIC_TIMER_PERIODIC | 0x50);
	XT_EQ(host_user_clock_advance(1000000), 1);
	XT_ASSERT(irr(a, 0x50));
	drain(a);
	/* a tiny period is raised to the floor */
	wr(a, XK_APIC_TMICT, 10);
	XT_EQ(host_user_clock_advance(XK_APIC_MIN_PERIOD_NS * 5), 5);
	/* a mode change stops the timer and clears the count */
	wr(a, XK_APIC_LVTT, 0x50);
	XT_EQ(rd(a, XK_APIC_TMICT), 0);
	XT_EQ(host_user_clock_advance(XK_APIC_MIN_PERIOD_NS * 5), 0);
}

XT_TEST(lapic, timer_tsc_deadline)
{
	struct fx *f = fx_make(1, false);
	struct xk_lapic *a = f->a[0];
	u64 now = host_time_ns();

	/* not in TSC-deadline mode: the MSR reads 0, writes are ignored */
	xk_lapic_set_tsc_deadline(a, now + 1000);
	XT_EQ(xk_lapic_get_tsc_deadline(a), 0);
	XT_EQ(host_user_clock_advance(5000), 0);
	now += 5000;

	wr(a, XK_APIC_LVTT, XK_APIC_TIMER_TSCDEADLINE | 0x60);
	xk_lapic_set_tsc_deadline(a, now + 3000);
	XT_EQ(xk_lapic_get_tsc_deadline(a), now + 3000);
	XT_EQ(rd(a, XK_APIC_TMCCT), 0);
	wr(a, XK_APIC_TMICT, 10); /* ignored in this mode */
	XT_EQ(rd(a, XK_APIC_TMICT), 0);
	XT_EQ(host_user_clock_advance(2999), 0);
	XT_EQ(host_user_clock_advance(1), 1);
	now += 3000;
	XT_ASSERT(irr(a, 0x60));
	XT_EQ(xk_lapic_get_tsc_deadline(a), 0); /* cleared on expiry */
	drain(a);
	/* in the past: at once, without the clock moving */
	xk_lapic_set_tsc_deadline(a, now - 1);
	XT_ASSERT(irr(a, 0x60));
	XT_EQ(xk_lapic_get_tsc_deadline(a), 0);
	drain(a);
	/* 0 disarms */
	xk_lapic_set_tsc_deadline(a, now + 1000);
	xk_lapic_set_tsc_deadline(a, 0);
	XT_EQ(host_user_clock_advance(5000), 0);
	now += 5000;
	XT_ASSERT(!irr(a, 0x60));
	/* another TSC rate and offset: TSC = 1000 + 2 * ns */
	xk_lapic_set_tsc(a, 2000000, 1000);
	xk_lapic_set_tsc_deadline(a, 1000 + 2 * (now + 4000));
	XT_EQ(host_user_clock_advance(3999), 0);
	XT_EQ(host_user_clock_advance(1), 1);
	now += 4000;
	XT_ASSERT(irr(a, 0x60));
	drain(a);
	/* a far deadline saturates instead of wrapping */
	xk_lapic_set_tsc_deadline(a, ~0ULL);
	XT_EQ(host_user_clock_advance(1000000000ULL), 0);
	/* leaving the mode disarms and clears the MSR */
	wr(a, XK_APIC_LVTT, 0x60);
	wr(a, XK_APIC_LVTT, XK_APIC_TIMER_TSCDEADLINE | 0x60);
	XT_EQ(xk_lapic_get_tsc_deadline(a), 0);
	/* masked: fires, no interrupt */
	wr(a, XK_APIC_LVTT, XK_APIC_TIMER_TSCDEADLINE | XK_APIC_MASKED | 0x60);
	xk_lapic_set_tsc_deadline(a, 1);
	XT_ASSERT(!irr(a, 0x60));
}

/* ICR write from a (xAPIC): destination in ICR2 bits 31:24. */
static void ipi(struct xk_lapic *a, u32 dest, u32 lo)
{
	wr(a, XK_APIC_ICR2, dest << 24);
	wr(a, XK_APIC_ICR, lo);
}

/* Bit i set: APIC i has vector v pending; clears them all. */
static unsigned int who(struct fx *f, u8 v)
{
	unsigned int m = 0;
	int i;

	for (i = 0; i < f->n; i++) {
		if (xk_lapic_hw_enabled(f->a[i]) && irr(f->a[i], v))
			m |= 1u << i;
		drain(f->a[i]);
	}
	return m;
}

XT_TEST(lapic, ipi_physical_broadcast_shorthand)
{
	struct fx *f = fx_make(4, false);

	ipi(f->a[0], 2, 0x30);
	XT_EQ(who(f, 0x30), 0x4);
	ipi(f->a[1], 0, 0x31);
	XT_EQ(who(f, 0x31), 0x1);
	ipi(f->a[0], 9, 0x32); /* nobody */
	XT_EQ(who(f, 0x32), 0);
	ipi(f->a[0], 0xff, 0x33); /* broadcast, sender included */
	XT_EQ(who(f, 0x33), 0xf);
	ipi(f->a[1], 0, 0x40034); /* self */
	XT_EQ(who(f, 0x34), 0x2);
	ipi(f->a[1], 0, 0x80035); /* all including self */
	XT_EQ(who(f, 0x35), 0xf);
	ipi(f->a[1], 0, 0xc0036); /* all excluding self */
	XT_EQ(who(f, 0x36), 0xd);
	/* level-triggered fixed sets TMR */
	ipi(f->a[0], 3, 0xc037);
	XT_ASSERT(tmr(f->a[3], 0x37));
	XT_EQ(who(f, 0x37), 0x8);
	/* a changed APIC ID is where messages go */
	wr(f->a[3], XK_APIC_ID, 0x20u << 24);
	ipi(f->a[0], 0x20, 0x38);
	XT_EQ(who(f, 0x38), 0x8);
	/* hardware- or software-disabled targets do not take it */
	XT_EQ(xk_lapic_set_base(f->a[2], 0xfee00000, false), 0);
	wr(f->a[1], XK_APIC_SVR, 0xff);
	f->kicks[2] = 0;
	ipi(f->a[0], 0xff, 0x39);
	XT_EQ(who(f, 0x39), 0x9);
	XT_EQ(f->kicks[2], 0);
}

XT_TEST(lapic, ipi_logical_flat_cluster_lowest)
{
	struct fx *f = fx_make(4, false);
	int i;

	for (i = 0; i < 4; i++)
		wr(f->a[i], XK_APIC_LDR, (1u << i) << 24);
	ipi(f->a[0], 0x06, 0x840); /* logical flat: APICs 1 and 2 */
	XT_EQ(who(f, 0x40), 0x6);
	ipi(f->a[0], 0xff, 0x841);
	XT_EQ(who(f, 0x41), 0xf);
	ipi(f->a[0], 0x30, 0x842);
	XT_EQ(who(f, 0x42), 0);
	/* cluster: cluster 1 = APICs 0, 1; cluster 2 = APICs 2, 3 */
	for (i = 0; i < 4; i++) {
		wr(f->a[i], XK_APIC_DFR, 0x0fffffff);
		wr(f->a[i], XK_APIC_LDR,
		   (((i / 2 + 1) << 4) | (1u << (i % 2))) << 24);
	}
	ipi(f->a[0], 0x13, 0x843);
	XT_EQ(who(f, 0x43), 0x3);
	ipi(f->a[0], 0x22, 0x844);
	XT_EQ(who(f, 0x44), 0x8);
	ipi(f->a[0], 0x31, 0x845);
	XT_EQ(who(f, 0x45), 0);
	/* each APIC reads the destination with its own model */
	wr(f->a[3], XK_APIC_DFR, 0xffffffff); /* flat, LDR 0x22 */
	ipi(f->a[0], 0x12, 0x846);            /* cluster 1 bit 1; flat 0x02 */
	XT_EQ(who(f, 0x46), 0xa);
	/* lowest priority: the lowest PPR among the matches, first on ties */
	for (i = 0; i < 4; i++) {
		wr(f->a[i], XK_APIC_DFR, 0xffffffff);
		wr(f->a[i], XK_APIC_LDR, (1u << i) << 24);
	}
	wr(f->a[0], XK_APIC_TPR, 0x20);
	wr(f->a[1], XK_APIC_TPR, 0x30);
	wr(f->a[2], XK_APIC_TPR, 0x10);
	wr(f->a[3], XK_APIC_TPR, 0x10);
	ipi(f->a[0], 0x0f, 0x950);
	XT_EQ(who(f, 0x50), 0x4);
	ipi(f->a[0], 0x0b, 0x951); /* 0, 1, 3 */
	XT_EQ(who(f, 0x51), 0x8);
	ipi(f->a[0], 0x03, 0x952);
	XT_EQ(who(f, 0x52), 0x1);
	/* physical lowest priority to one APIC */
	ipi(f->a[0], 1, 0x153);
	XT_EQ(who(f, 0x53), 0x2);
}

XT_TEST(lapic, ipi_x2apic)
{
	struct fx *f = fx_make(4, false);
	int i;
	u64 v;

	for (i = 0; i < 4; i++)
		to_x2apic(f->a[i]);
	XT_EQ(xk_lapic_msr_write(f->a[0], 0x830, (3ULL << 32) | 0x30), 0);
	XT_EQ(xk_lapic_pending(f->a[3]), 0x30);
	XT_EQ(xk_lapic_ack(f->a[3]), 0x30);
	XT_EQ(xk_lapic_msr_write(f->a[3], 0x80b, 0), 0);
	/* broadcast 0xffffffff; 0xff is an ordinary ID in x2APIC */
	XT_EQ(xk_lapic_msr_write(f->a[0], 0x830, (0xffULL << 32) | 0x31), 0);
	for (i = 0; i < 4; i++)
		XT_EQ(xk_lapic_pending(f->a[i]), -1);
	XT_EQ(xk_lapic_msr_write(f->a[0], 0x830, (0xffffffffULL << 32) | 0x31),
	      0);
	for (i = 0; i < 4; i++) {
		XT_EQ(xk_lapic_ack(f->a[i]), 0x31);
		xk_lapic_eoi(f->a[i]);
	}
	/* logical: cluster 0, members 0 and 2 */
	XT_EQ(xk_lapic_msr_write(f->a[0], 0x830, (0x5ULL << 32) | 0x832), 0);
	for (i = 0; i < 4; i++) {
		xt_ctx("apic %d", i);
		XT_EQ(xk_lapic_ack(f->a[i]), i == 0 || i == 2 ? 0x32 : -1);
		xk_lapic_eoi(f->a[i]);
	}
	XT_EQ(xk_lapic_msr_write(f->a[0], 0x830, (0x10001ULL << 32) | 0x833),
	      0); /* cluster 1: nobody */
	for (i = 0; i < 4; i++)
		XT_EQ(xk_lapic_pending(f->a[i]), -1);
	/* others shorthand */
	XT_EQ(xk_lapic_msr_write(f->a[2], 0x830, 0xc0034), 0);
	for (i = 0; i < 4; i++) {
		XT_EQ(xk_lapic_ack(f->a[i]), i == 2 ? -1 : 0x34);
		xk_lapic_eoi(f->a[i]);
	}
	/* an xAPIC-format message (MSI) with 0xff reaches x2APIC ones */
	{
		struct xk_apic_irq irq = { .dest = 0xff, .vector = 0x35 };

		XT_EQ(xk_apic_bus_deliver(f->bus, &irq), 4);
	}
	XT_EQ(xk_lapic_msr_read(f->a[1], 0x830, &v), 0);
	XT_EQ(v, 0);
}

XT_TEST(lapic, msi_decode_and_deliver)
{
	struct fx *f = fx_make(4, false);
	struct xk_apic_irq irq;
	int i;

	XT_EQ(xk_apic_msi_decode(f->bus, 0xfee02000, 0x4031, &irq), 0);
	XT_EQ(irq.dest, 2);
	XT_EQ(irq.vector, 0x31);
	XT_EQ(irq.delivery_mode, XK_APIC_DM_FIXED);
	XT_ASSERT(!irq.logical && !irq.level && !irq.redir_hint);
	XT_ASSERT(irq.assert && !irq.x2apic_dest && !irq.src);
	XT_EQ(xk_apic_bus_deliver(f->bus, &irq), 1);
	XT_EQ(who(f, 0x31), 0x4);
	/* logical, RH, level: lowest priority among APICs 1 and 3 */
	for (i = 0; i < 4; i++)
		wr(f->a[i], XK_APIC_LDR, (1u << i) << 24);
	wr(f->a[1], XK_APIC_TPR, 0x40);
	XT_EQ(xk_apic_msi_decode(f->bus, 0xfee0a00c, 0x8032, &irq), 0);
	XT_ASSERT(irq.logical && irq.redir_hint && irq.level);
	XT_EQ(irq.dest, 0x0a);
	XT_EQ(xk_apic_bus_deliver(f->bus, &irq), 1);
	XT_ASSERT(tmr(f->a[3], 0x32));
	XT_EQ(who(f, 0x32), 0x8);
	/* NMI by MSI */
	XT_EQ(xk_apic_msi_decode(f->bus, 0xfee01000, 0x400, &irq), 0);
	XT_EQ(irq.delivery_mode, XK_APIC_DM_NMI);
	XT_EQ(xk_apic_bus_deliver(f->bus, &irq), 1);
	{
		struct xk_lapic_events ev;

		xk_lapic_take_events(f->a[1], &ev);
		XT_EQ(ev.nmis, 1);
	}
	/* not an MSI address */
	XT_EQ(xk_apic_msi_decode(f->bus, 0xfec00000, 0x31, &irq), -EINVAL);
	/* X2APIC_API: destination bits 31:8 in address_hi */
	XT_EQ(xk_apic_msi_decode(f->bus, (0x100ULL << 32) | 0xfee03000, 0x31,
				 &irq),
	      0);
	XT_EQ(irq.dest, 3); /* ignored without the API */
	xk_apic_bus_set_x2apic_api(f->bus, true);
	XT_EQ(xk_apic_msi_decode(f->bus, (0x100ULL << 32) | 0xfee03000, 0x31,
				 &irq),
	      0);
	XT_EQ(irq.dest, 0x103);
	XT_ASSERT(irq.x2apic_dest);
	XT_EQ(xk_apic_msi_decode(f->bus, (0x1ULL << 32) | 0xfee03000, 0x31,
				 &irq),
	      -EINVAL);
	/* and through the VM */
	{
		struct xk_vm vm;

		xk_memset(&vm, 0, sizeof(vm));
		XT_EQ(xk_apic_msi_decode(f->bus, 0xfee00000, 0x33, &irq), 0);
		XT_EQ(xk_apic_deliver(&vm, &irq), 0); /* no irqchip */
		vm.apic_bus = f->bus;
		XT_EQ(xk_apic_deliver(&vm, &irq), 1);
		XT_EQ(who(f, 0x33), 0x1);
	}
}

XT_TEST(lapic, init_sipi_nmi_events)
{
	struct fx *f = fx_make(2, false);
	struct xk_lapic_events ev;

	f->kicks[1] = 0;
	ipi(f->a[0], 1, 0xc500); /* INIT, level assert */
	XT_EQ(f->kicks[1], 1);
	ipi(f->a[0], 1, 0x8500); /* INIT level de-assert: nothing */
	XT_EQ(f->kicks[1], 1);
	ipi(f->a[0], 1, 0x0699); /* SIPI, vector 0x99 */
	ipi(f->a[0], 1, 0x069a); /* the last one counts */
	ipi(f->a[0], 1, 0x0400); /* NMI x3 */
	ipi(f->a[0], 1, 0x0400);
	ipi(f->a[0], 1, 0x0400);
	ipi(f->a[0], 1, 0x0200); /* SMI: ignored */
	ipi(f->a[0], 1, 0x0700); /* ExtINT: ignored */
	XT_EQ(f->kicks[1], 6);
	xk_lapic_take_events(f->a[1], &ev);
	XT_ASSERT(ev.init && ev.sipi);
	XT_EQ(ev.sipi_vector, 0x9a);
	XT_EQ(ev.nmis, 2);
	xk_lapic_take_events(f->a[1], &ev);
	XT_ASSERT(!ev.init && !ev.sipi && !ev.nmis);
	/* events reach a software-disabled APIC, fixed ones do not */
	wr(f->a[1], XK_APIC_SVR, 0xff);
	ipi(f->a[0], 1, 0x4500);
	ipi(f->a[0], 1, 0x0041);
	xk_lapic_take_events(f->a[1], &ev);
	XT_ASSERT(ev.init);
	XT_ASSERT(!irr(f->a[1], 0x41));
	/* no IRR side effects on the sender */
	XT_EQ(xk_lapic_pending(f->a[0]), -1);
	/* all-but-self INIT (the BSP waking APs) */
	ipi(f->a[0], 0, 0xc4500);
	xk_lapic_take_events(f->a[1], &ev);
	XT_ASSERT(ev.init);
	xk_lapic_take_events(f->a[0], &ev);
	XT_ASSERT(!ev.init);
}

XT_TEST(lapic, lint_pins)
{
	struct fx *f = fx_make(2, false);
	struct xk_lapic *a = f->a[0], *b = f->a[1];
	struct xk_lapic_events ev;

	/* BSP LINT0 ExtINT: the PIC's output is "ExtINT pending" */
	XT_ASSERT(xk_lapic_accepts_pic(a));
	XT_ASSERT(!xk_lapic_accepts_pic(b)); /* masked on the AP */
	XT_ASSERT(!xk_lapic_extint_pending(a));
	f->kicks[0] = 0;
	XT_EQ(xk_lapic_lint(a, 0, true), 0);
	XT_ASSERT(xk_lapic_extint_pending(a));
	XT_EQ(f->kicks[0], 1);
	XT_EQ(xk_lapic_lint(a, 0, false), 0);
	XT_ASSERT(!xk_lapic_extint_pending(a));
	wr(a, XK_APIC_LVT_LINT0, 0x10700);
	XT_ASSERT(!xk_lapic_accepts_pic(a));
	/* a hardware-disabled APIC is a virtual wire */
	XT_EQ(xk_lapic_set_base(b, 0xfee00000, false), 0);
	XT_ASSERT(xk_lapic_accepts_pic(b));
	XT_EQ(xk_lapic_lint(b, 0, true), 0);
	XT_ASSERT(xk_lapic_extint_pending(b));
	XT_EQ(xk_lapic_lint(b, 0, false), 0);
	/* LINT1 NMI: on rising edges only */
	wr(a, XK_APIC_LVT_LINT1, 0x400);
	XT_EQ(xk_lapic_lint(a, 1, true), 0);
	XT_EQ(xk_lapic_lint(a, 1, true), 0);
	xk_lapic_take_events(a, &ev);
	XT_EQ(ev.nmis, 1);
	XT_EQ(xk_lapic_lint(a, 1, false), 0);
	XT_EQ(xk_lapic_lint(a, 1, true), 0);
	xk_lapic_take_events(a, &ev);
	XT_EQ(ev.nmis, 1);
	XT_EQ(xk_lapic_lint(a, 2, true), -EINVAL);
	/* masked: nothing */
	wr(a, XK_APIC_LVT_LINT1, 0x10400);
	XT_EQ(xk_lapic_lint(a, 1, false), 0);
	XT_EQ(xk_lapic_lint(a, 1, true), 0);
	xk_lapic_take_events(a, &ev);
	XT_EQ(ev.nmis, 0);
	/* fixed edge */
	wr(a, XK_APIC_LVT_LINT1, 0x58);
	XT_EQ(xk_lapic_lint(a, 1, false), 0);
	XT_EQ(xk_lapic_lint(a, 1, true), 0);
	XT_ASSERT(irr(a, 0x58) && !tmr(a, 0x58));
	drain(a);
	/* fixed level: remote IRR until the EOI; re-delivered if still high */
	wr(a, XK_APIC_LVT_LINT0, XK_APIC_LEVEL | 0x60);
	XT_EQ(xk_lapic_lint(a, 0, true), 0);
	XT_ASSERT(irr(a, 0x60) && tmr(a, 0x60));
	XT_ASSERT(rd(a, XK_APIC_LVT_LINT0) & XK_APIC_REMOTE_IRR);
	wr(a, XK_APIC_LVT_LINT0, XK_APIC_LEVEL | 0x60); /* RO bit kept */
	XT_ASSERT(rd(a, XK_APIC_LVT_LINT0) & XK_APIC_REMOTE_IRR);
	XT_EQ(xk_lapic_ack(a), 0x60);
	XT_EQ(xk_lapic_lint(a, 0, true), 0); /* remote IRR: no second */
	XT_ASSERT(!irr(a, 0x60));
	xk_lapic_eoi(a);
	XT_EQ(f->eois, 1);
	XT_ASSERT(irr(a, 0x60)); /* still asserted: again */
	XT_EQ(xk_lapic_ack(a), 0x60);
	XT_EQ(xk_lapic_lint(a, 0, false), 0);
	xk_lapic_eoi(a);
	XT_ASSERT(!(rd(a, XK_APIC_LVT_LINT0) & XK_APIC_REMOTE_IRR));
	XT_ASSERT(!irr(a, 0x60));
}

XT_TEST(lapic, state_round_trip)
{
	struct fx *f = fx_make(2, false);
	struct xk_lapic *a = f->a[1];
	struct kvm_lapic_state s, s2;
	u32 w;

	wr(a, XK_APIC_TPR, 0x20);
	wr(a, XK_APIC_LDR, 0x04000000);
	wr(a, XK_APIC_DFR, 0x0fffffff);
	wr(a, XK_APIC_LVT_LINT1, 0x400);
	wr(a, XK_APIC_TDCR, 0xb);
	wr(a, XK_APIC_LVTT, 0x45);
	XT_EQ(xk_lapic_set_irq(a, 0x91, true), 1);
	XT_EQ(xk_lapic_set_irq(a, 0x55, false), 1);
	XT_EQ(xk_lapic_ack(a), 0x91);
	wr(a, XK_APIC_TMICT, 1000);
	XT_EQ(host_user_clock_advance(300), 0);
	xk_lapic_get_state(a, &s);
	xk_memcpy(&w, s.regs + XK_APIC_TMCCT, 4);
	XT_EQ(w, 700); /* the current count, computed */
	xk_memcpy(&w, s.regs + XK_APIC_PPR, 4);
	XT_EQ(w, 0x90);
	xk_memcpy(&w, s.regs + XK_APIC_ID, 4);
	XT_EQ(w, 1u << 24);

	xk_lapic_reset(a, false, false);
	XT_EQ(rd(a, XK_APIC_TPR), 0);
	XT_EQ(xk_lapic_set_state(a, &s), 0);
	XT_EQ(rd(a, XK_APIC_TPR), 0x20);
	XT_EQ(rd(a, XK_APIC_LDR), 0x04000000);
	XT_EQ(rd(a, XK_APIC_DFR), 0x0fffffff);
	XT_EQ(rd(a, XK_APIC_LVT_LINT1), 0x400);
	XT_EQ(rd(a, XK_APIC_PPR), 0x90); /* recomputed from ISR */
	XT_ASSERT(isr(a, 0x91) && tmr(a, 0x91) && irr(a, 0x55));
	XT_EQ(rd(a, XK_APIC_TMICT), 1000);
	XT_EQ(rd(a, XK_APIC_TMCCT), 700); /* restarts where it was */
	xk_lapic_get_state(a, &s2);
	XT_MEMEQ(s.regs, s2.regs, sizeof(s.regs));
	XT_EQ(host_user_clock_advance(699), 0);
	XT_EQ(host_user_clock_advance(1), 1);
	XT_ASSERT(irr(a, 0x45));
	xk_lapic_eoi(a);
	XT_EQ(f->eois, 1);
	XT_EQ(f->last_eoi, 0x91);
	/* a periodic timer resumes from the count, then full periods */
	wr(a, XK_APIC_LVTT, XK_APIC_TIMER_PERIODIC | 0x45);
	wr(a, XK_APIC_TMICT, 1000000);
	XT_EQ(host_user_clock_advance(250000), 0);
	xk_lapic_get_state(a, &s);
	XT_EQ(xk_lapic_set_state(a, &s), 0);
	XT_EQ(rd(a, XK_APIC_TMCCT), 750000);
	XT_EQ(host_user_clock_advance(750000), 1);
	XT_EQ(host_user_clock_advance(1000000), 1);
}

XT_TEST(lapic, state_x2apic_id_format)
{
	struct fx *f = fx_make(2, false);
	struct xk_lapic *a = f->a[1];
	struct kvm_lapic_state s;
	u32 w;

	to_x2apic(a);
	/* without KVM_CAP_X2APIC_API the ID is shown shifted, as xAPIC */
	xk_lapic_get_state(a, &s);
	xk_memcpy(&w, s.regs + XK_APIC_ID, 4);
	XT_EQ(w, 1u << 24);
	xk_memcpy(&w, s.regs + XK_APIC_LDR, 4);
	XT_EQ(w, 2);
	w = 0x12345678; /* LDR in the image is ignored: derived */
	xk_memcpy(s.regs + XK_APIC_LDR, &w, 4);
	XT_EQ(xk_lapic_set_state(a, &s), 0);
	XT_EQ(xk_lapic_msr_read(a, 0x802, &(u64){ 0 }), 0);
	{
		u64 v;

		XT_EQ(xk_lapic_msr_read(a, 0x802, &v), 0);
		XT_EQ(v, 1);
		XT_EQ(xk_lapic_msr_read(a, 0x80d, &v), 0);
		XT_EQ(v, 2);
	}
	/* with it: 32 bits, and it must be the vCPU's */
	xk_apic_bus_set_x2apic_api(f->bus, true);
	xk_lapic_get_state(a, &s);
	xk_memcpy(&w, s.regs + XK_APIC_ID, 4);
	XT_EQ(w, 1);
	XT_EQ(xk_lapic_set_state(a, &s), 0);
	w = 2;
	xk_memcpy(s.regs + XK_APIC_ID, &w, 4);
	XT_EQ(xk_lapic_set_state(a, &s), -EINVAL);
	/* x2APIC ICR: the 32-bit destination in ICR2 */
	XT_EQ(xk_lapic_msr_write(a, 0x830, (0x1234ULL << 32) | 0x40), 0);
	xk_lapic_get_state(a, &s);
	xk_memcpy(&w, s.regs + XK_APIC_ICR2, 4);
	XT_EQ(w, 0x1234);
}

XT_TEST(lapic, no_leak_and_failures)
{
	struct host_held h0, h;
	struct xk_apic_bus *bus;
	struct xk_lapic *a, *b;
	unsigned long n, i;
	int kicks = 0;
	u32 v = 1000;

	host_user_clock_set(T0);
	host_held(&h0);
	XT_EQ(xk_apic_bus_create(NULL, NULL, &bus), 0);
	XT_EQ(xk_lapic_create(bus, 0, true, fx_kick, &kicks, &a), 0);
	XT_EQ(xk_lapic_create(bus, 1, false, NULL, NULL, &b), 0);
	v = 0x1ff;
	xk_lapic_mmio_write(a, XK_APIC_SVR, &v, 4);
	v = 0x30;
	xk_lapic_mmio_write(a, XK_APIC_LVTT, &v, 4);
	v = 1000000;
	xk_lapic_mmio_write(a, XK_APIC_TMICT, &v, 4); /* armed */
	xk_lapic_destroy(a);
	xk_lapic_destroy(b);
	xk_apic_bus_destroy(bus);
	XT_EQ(host_user_clock_advance(2000000), 0); /* the timer went too */
	host_held(&h);
	XT_EQ(h.objects, h0.objects);

	/* every allocation failure of create leaves nothing behind */
	XT_EQ(xk_apic_bus_create(NULL, NULL, &bus), 0);
	host_user_fail_nth(0, HOST_USER_FAIL_ALL);
	XT_EQ(xk_lapic_create(bus, 0, true, NULL, NULL, &a), 0);
	n = host_user_fail_points();
	XT_ASSERT(n >= 2);
	xk_lapic_destroy(a);
	host_held(&h0);
	for (i = 1; i <= n; i++) {
		xt_ctx("failure point %lu", i);
		host_user_fail_nth(i, HOST_USER_FAIL_ALL);
		XT_EQ(xk_lapic_create(bus, 0, true, NULL, NULL, &a), -ENOMEM);
		host_held(&h);
		XT_EQ(h.objects, h0.objects);
	}
	host_user_fail_nth(0, HOST_USER_FAIL_ALL);
	/* a full bus */
	{
		struct xk_lapic *all[XK_MAX_VCPUS];

		for (i = 0; i < XK_MAX_VCPUS; i++)
			XT_EQ(xk_lapic_create(bus, i, i == 0, NULL, NULL,
					      &all[i]),
			      0);
		XT_EQ(xk_lapic_create(bus, 99, false, NULL, NULL, &a), -ENOSPC);
		for (i = 0; i < XK_MAX_VCPUS; i++)
			xk_lapic_destroy(all[i]);
	}
	xk_apic_bus_destroy(bus);
	host_user_clock_real();
}

/* ---- concurrency: senders on other threads, the timer on another ---- */

#define RACE_ITERS 2000

struct race {
	struct fx *f;
	int idx;          /* sender number: vector 0x40 + 0x10 * idx */
	int busy[3];      /* (a) a sender's interrupt is not acked yet */
	struct race *all; /* the shared one */
};

static void *race_sender(void *arg)
{
	struct race *r = arg, *sh = r->all;
	struct xk_apic_irq irq = { .dest = 0, .vector = 0x40 + 0x10 * r->idx };
	int i;

	for (i = 0; i < RACE_ITERS; i++) {
		while (__atomic_load_n(&sh->busy[r->idx], __ATOMIC_ACQUIRE))
			;
		__atomic_store_n(&sh->busy[r->idx], 1, __ATOMIC_RELEASE);
		if (xk_apic_bus_deliver(sh->f->bus, &irq) != 1)
			return (void *)1;
	}
	return NULL;
}

/* Every interrupt sent from three threads is acked exactly once. */
XT_TEST(lapic, race_senders_vs_owner)
{
	struct fx *f = fx_make(1, false);
	struct race sh = { .f = f }, r[3];
	pthread_t t[3];
	void *ret;
	int i, got = 0;

	for (i = 0; i < 3; i++) {
		r[i].idx = i;
		r[i].all = &sh;
		XT_EQ(pthread_create(&t[i], NULL, race_sender, &r[i]), 0);
	}
	while (got < 3 * RACE_ITERS) {
		int v = xk_lapic_ack(f->a[0]);

		if (v < 0)
			continue;
		XT_ASSERT(v == 0x40 || v == 0x50 || v == 0x60);
		xk_lapic_eoi(f->a[0]);
		__atomic_store_n(&sh.busy[(v >> 4) - 4], 0, __ATOMIC_RELEASE);
		got++;
	}
	for (i = 0; i < 3; i++) {
		XT_EQ(pthread_join(t[i], &ret), 0);
		XT_ASSERT(ret == NULL);
	}
	XT_EQ(xk_lapic_pending(f->a[0]), -1);
	XT_EQ(rd(f->a[0], XK_APIC_PPR), 0);
}

static int race_stop;

static void *race_clock(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&race_stop, __ATOMIC_ACQUIRE))
		host_user_clock_advance(50000);
	return NULL;
}

/* The timer callback (another thread here) against the owner's writes. */
XT_TEST(lapic, race_timer_vs_owner)
{
	struct fx *f = fx_make(1, false);
	struct xk_lapic *a = f->a[0];
	pthread_t t;
	int i;

	wr(a, XK_APIC_TDCR, 0xb);
	wr(a, XK_APIC_LVTT, XK_APIC_TIMER_PERIODIC | 0x70);
	race_stop = 0;
	XT_EQ(pthread_create(&t, NULL, race_clock, NULL), 0);
	for (i = 0; i < 2000; i++) {
		u32 c;

		wr(a, XK_APIC_TMICT, 200000 + (i % 7) * 1000);
		c = rd(a, XK_APIC_TMCCT);
		XT_ASSERT(c <= 206000);
		if (i % 3 == 0)
			wr(a, XK_APIC_TDCR, i % 2 ? 0xb : 0);
		if (i % 5 == 0)
			wr(a, XK_APIC_TMICT, 0);
		if (xk_lapic_ack(a) >= 0)
			xk_lapic_eoi(a);
	}
	__atomic_store_n(&race_stop, 1, __ATOMIC_RELEASE);
	XT_EQ(pthread_join(t, NULL), 0);
	/* and it still works, from a known state */
	wr(a, XK_APIC_TMICT, 0);
	drain(a);
	XT_ASSERT(!irr(a, 0x70));
	wr(a, XK_APIC_TDCR, 0xb);
	wr(a, XK_APIC_TMICT, 300000);
	XT_EQ(rd(a, XK_APIC_TMCCT), 300000);
	XT_EQ(host_user_clock_advance(900000), 3);
	XT_ASSERT(irr(a, 0x70));
}

/* ---- random operations: no crash, no leak, invariants hold ---- */

static u64 lcg(u64 *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 17;
}

static void check_invariants(struct xk_lapic *a)
{
	struct kvm_lapic_state s;
	u32 tpr, ppr, isr_w, cls = 0;
	int i, p;

	xk_lapic_get_state(a, &s);
	xk_memcpy(&tpr, s.regs + XK_APIC_TPR, 4);
	xk_memcpy(&ppr, s.regs + XK_APIC_PPR, 4);
	for (i = 7; i >= 0; i--) {
		xk_memcpy(&isr_w, s.regs + XK_APIC_ISR + i * 0x10, 4);
		if (isr_w) {
			cls = (i * 32 + 31 - __builtin_clz(isr_w)) & 0xf0;
			break;
		}
	}
	XT_EQ(ppr, (tpr & 0xf0) >= cls ? tpr : cls);
	p = xk_lapic_pending(a);
	XT_ASSERT(p < 0 || ((u32)p & 0xf0) > (ppr & 0xf0));
}

XT_TEST(lapic, random_operations)
{
	struct fx *f = fx_make(3, false);
	u64 seed = 12345, v;
	struct kvm_lapic_state st;
	int i;

	for (i = 0; i < 30000; i++) {
		struct xk_lapic *a = f->a[lcg(&seed) % 3];
		u64 r = lcg(&seed);
		u32 off = (lcg(&seed) % 0x40) << 4, val = (u32)lcg(&seed);
		u8 buf[8];

		xt_ctx("step %d op %llu", i, (unsigned long long)(r % 16));
		switch (r % 16) {
		case 0:
		case 1:
			xk_lapic_mmio_write(a, off, &val, 4);
			break;
		case 2:
			xk_lapic_mmio_read(a, off + lcg(&seed) % 16, buf,
					   1u << (lcg(&seed) % 4));
			break;
		case 3:
			xk_lapic_msr_write(a, 0x800 + off / 16,
					   lcg(&seed) % 4 ? val :
							    lcg(&seed) << 20);
			break;
		case 4:
			xk_lapic_msr_read(a, 0x800 + off / 16, &v);
			break;
		case 5: {
			static const u64 bases[] = { 0xfee00000, 0xfee00800,
						     0xfee00c00, 0xfee00c01 };

			xk_lapic_set_base(a, bases[lcg(&seed) % 4],
					  lcg(&seed) & 1);
			break;
		}
		case 6:
			xk_lapic_set_irq(a, val & 0xff, val & 0x100);
			break;
		case 7:
		case 8:
			xk_lapic_ack(a);
			break;
		case 9:
			xk_lapic_eoi(a);
			break;
		case 10:
			xk_lapic_lint(a, val & 1, val & 2);
			break;
		case 11:
			host_user_clock_advance(lcg(&seed) % 1000000);
			break;
		case 12:
			xk_lapic_set_tsc_deadline(
				a, host_time_ns() + lcg(&seed) % 2000000 -
					   1000000);
			break;
		case 13:
			xk_lapic_get_state(a, &st);
			XT_EQ(xk_lapic_set_state(a, &st), 0);
			break;
		case 14: {
			struct xk_apic_irq irq;

			if (!xk_apic_msi_decode(f->bus,
						0xfee00000 | (val & 0xff00c),
						val >> 8, &irq))
				xk_apic_bus_deliver(f->bus, &irq);
			break;
		}
		default:
			if (lcg(&seed) % 50 == 0)
				xk_lapic_reset(a, lcg(&seed) & 1, a == f->a[0]);
			else
				xk_lapic_take_events(
					a, &(struct xk_lapic_events){ 0 });
			break;
		}
		if (xk_lapic_hw_enabled(a))
			check_invariants(a);
	}
}
