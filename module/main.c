// SPDX-License-Identifier: GPL-2.0
/*
 * unpriv: an unprivileged mode for ordinary Linux threads.
 *
 * Module entry points.  See Documentation/unpriv-api.rst for the ABI.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>

#include "unpriv.h"
#include "compat.h"

static int __init unpriv_init(void)
{
	int ret;

	if (!unpriv_kernel_supported()) {
		pr_err("Linux %u.%u is not supported: 6.1 and 6.12 are\n",
		       UNPRIV_KERNEL_MAJOR, UNPRIV_KERNEL_MINOR);
		return -EOPNOTSUPP;
	}
	ret = unpriv_symbols_resolve();
	if (ret)
		return ret;
	ret = unpriv_vcpu_init();
	if (ret)
		return ret;
	if (!unpriv_fpu_init())
		pr_info("using KVM's FPU switch: the CPU has no XSAVE, or has XFD\n");
	ret = unpriv_hooks_install();
	if (ret)
		return ret;
	ret = unpriv_hooks_self_test();
	if (ret) {
		unpriv_hooks_remove();
		return ret;
	}
	ret = unpriv_device_register();
	if (ret) {
		pr_err("cannot register /dev/unpriv: %d\n", ret);
		unpriv_hooks_remove();
		return ret;
	}
	return 0;
}

/*
 * Every vcpu and address space holds the module through its file, and a
 * thread in guest mode holds its vcpu: nothing of ours runs after this.
 */
static void __exit unpriv_exit(void)
{
	unpriv_device_unregister();
	unpriv_hooks_remove();
}

module_init(unpriv_init);
module_exit(unpriv_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The unpriv developers");
MODULE_DESCRIPTION("Unprivileged mode for ordinary threads (/dev/unpriv)");
MODULE_VERSION(__stringify(UNPRIV_API_VERSION));
