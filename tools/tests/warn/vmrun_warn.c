// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only module: loading it prints a kernel WARNING and fails, so that
 * tools/tests/vmrun-test can check that tools/vmrun fails such a run.
 */
#include <linux/bug.h>
#include <linux/module.h>

static int __init vmrun_warn_init(void)
{
	WARN(1, "vmrun_warn: deliberate warning for tools/vmrun's tests\n");
	return -ENODEV;
}
module_init(vmrun_warn_init);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("tools/vmrun test: WARN on load");
