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
	return xk_refuse_no_hw();
}

const struct xk_vendor_ops xk_vmx_ops = {
	.name = "vmx",
	.probe = vmx_probe,
};
