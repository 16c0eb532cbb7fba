// SPDX-License-Identifier: GPL-2.0
/*
 * absent_backends.c - stand-ins for the SVM and VMX backends, which cannot
 * run in a user process (VMRUN, VMXON, MSR writes).  core/core.c picks one
 * of them by CPU vendor; here both refuse in probe, so xk_core_init() takes
 * its refusal path, and the tests install the fake backend themselves
 * (fake_install()).
 */
#include "xkvm.h"

static int absent_probe(void)
{
	host_log(HOST_LOG_ERR, "not loaded: no hardware backend in user space");
	return -ENODEV;
}

static int absent_setup(void)
{
	return -ENODEV;
}

static void absent_unsetup(void)
{
}

const struct xk_vendor_ops xk_svm_ops = {
	.name = "svm (absent)",
	.probe = absent_probe,
	.setup = absent_setup,
	.unsetup = absent_unsetup,
};

const struct xk_vendor_ops xk_vmx_ops = {
	.name = "vmx (absent)",
	.probe = absent_probe,
	.setup = absent_setup,
	.unsetup = absent_unsetup,
};
