// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only module: loading it prints a kernel WARNING and fails, so that
 * tools/tests/vmrun-test can check that tools/vmrun fails such a run.
 * With alloc_failure=1 it prints instead the kernel's own report of a
 * failed allocation (warn_alloc, from a vmalloc that cannot succeed),
 * which 'tools/vmrun --allow-alloc-failures' lets pass.
 */
#include <linux/bug.h>
#include <linux/module.h>
#include <linux/vmalloc.h>

static bool alloc_failure;
module_param(alloc_failure, bool, 0444);
MODULE_PARM_DESC(alloc_failure, "report a failed vmalloc instead of a WARN");

static int __init vmrun_warn_init(void)
{
	if (alloc_failure) {
		/* more than the whole vmalloc area: "vmalloc error: ..." */
		void *p = vmalloc(1UL << 60);

		vfree(p);
		return -ENOMEM;
	}
	WARN(1, "vmrun_warn: deliberate warning for tools/vmrun's tests\n");
	return -ENODEV;
}
module_init(vmrun_warn_init);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("tools/vmrun test: WARN, or a failed allocation, on load");
