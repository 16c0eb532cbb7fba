// SPDX-License-Identifier: GPL-2.0
/*
 * vmx.c - the place of the Intel VT-x backend (VMX with EPT).
 *
 * Not written yet.  Its probe refuses to load with one clear line, so an
 * Intel host gets a graceful failure, never a half-working driver.  The
 * backend will fill the same struct xk_vendor_ops as svm/svm.c: vmcs.h
 * (encodings), ept.c (extended page tables), vmx_entry.S (VMLAUNCH/VMRESUME).
 */
#include "../core/xkvm.h"

static int vmx_probe(void)
{
	u32 a, b, c, d;

	xk_cpuid(1, 0, &a, &b, &c, &d);
	if (c & CPUID_1_ECX_VMX)
		host_log(
			HOST_LOG_ERR,
			"not loaded: this CPU has Intel VMX, whose backend is not written yet (AMD SVM only)");
	else
		host_log(
			HOST_LOG_ERR,
			"not loaded: this CPU has neither AMD SVM nor Intel VMX");
	return -ENODEV;
}

const struct xk_vendor_ops xk_vmx_ops = {
	.name = "vmx",
	.probe = vmx_probe,
};
