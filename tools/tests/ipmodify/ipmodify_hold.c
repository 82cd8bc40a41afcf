// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only module: take the ftrace IPMODIFY slot of a function (func=,
 * default syscall_user_dispatch), as a livepatch of it would.  Its
 * callback changes nothing.  tools/tests/module-load-test loads it to
 * check that unpriv then refuses to load, says why, and leaves nothing
 * behind.
 */
#include <linux/ftrace.h>
#include <linux/module.h>

static void notrace ipmodify_hold_thunk(unsigned long ip,
					unsigned long parent_ip,
					struct ftrace_ops *ops,
					struct ftrace_regs *fregs)
{
}

static char *func = "syscall_user_dispatch";
module_param(func, charp, 0444);

static struct ftrace_ops ipmodify_hold_ops = {
	.func = ipmodify_hold_thunk,
	.flags = FTRACE_OPS_FL_IPMODIFY,
};

static int __init ipmodify_hold_init(void)
{
	int ret;

	ret = ftrace_set_filter(&ipmodify_hold_ops, func, strlen(func), 0);
	if (ret)
		return ret;
	return register_ftrace_function(&ipmodify_hold_ops);
}

static void __exit ipmodify_hold_exit(void)
{
	unregister_ftrace_function(&ipmodify_hold_ops);
	ftrace_free_filter(&ipmodify_hold_ops);
}

module_init(ipmodify_hold_init);
module_exit(ipmodify_hold_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("test: hold the ftrace IPMODIFY slot of a function");
