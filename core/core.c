// SPDX-License-Identifier: GPL-2.0
/*
 * core.c - choosing the vendor backend and bringing CPUs in and out of
 * virtualization.
 *
 * The backend is picked once, at load, from the CPU's vendor: AMD (and
 * Hygon) get SVM, Intel gets VMX.  The backend's probe decides whether this
 * CPU can run us at all and, if not, logs the one line that says why.  The
 * host glue calls xk_cpu_online/offline on each CPU as CPUs come and go.
 */
#include "xkvm.h"

const struct xk_vendor_ops *xk_ops;
struct host_mitigations xk_mitigations;

static bool cpu_is_intel(void)
{
	u32 a, b, c, d;

	xk_cpuid(0, 0, &a, &b, &c, &d);
	/* "GenuineIntel" */
	return b == 0x756e6547 && d == 0x49656e69 && c == 0x6c65746e;
}

/*
 * The one refusal line for a CPU whose vendor backend cannot run: it names
 * what the CPU has and what this driver needs.  Returns -ENODEV.
 */
int xk_refuse_no_hw(void)
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

int xk_core_init(void)
{
	const struct xk_vendor_ops *ops;
	int r;

	ops = cpu_is_intel() ? &xk_vmx_ops : &xk_svm_ops;
	host_mitigations(&xk_mitigations);
	r = ops->probe();
	if (r)
		return r;
	r = ops->setup();
	if (r) {
		host_log(HOST_LOG_ERR, "not loaded: %s setup failed (%d)",
			 ops->name, r);
		return r;
	}
	xk_fpu_setup();
	xk_ops = ops;
	return 0;
}

void xk_core_exit(void)
{
	if (xk_ops)
		xk_ops->unsetup();
	xk_ops = NULL;
}

int xk_cpu_online(unsigned int cpu)
{
	return xk_ops->cpu_enable(cpu);
}

void xk_cpu_offline(unsigned int cpu)
{
	xk_ops->cpu_disable(cpu);
}
