// SPDX-License-Identifier: GPL-2.0
/*
 * unpriv: the kernel functions every exit from guest mode passes.
 *
 * A thread in guest mode enters the kernel by a system call, an
 * exception or an interrupt, and leaves through the generic entry code,
 * which is noinstr and cannot be hooked.  Two functions it calls can:
 *
 *  - syscall_user_dispatch(), which the entry code calls first for every
 *    system call of a task with SYSCALL_WORK_SYSCALL_USER_DISPATCH set,
 *    on every entry path (syscall, int $0x80, sysenter, 32-bit syscall).
 *    Guest mode sets that bit; returning true skips the system call,
 *    before ptrace, seccomp and audit see it.
 *  - arch_do_signal_or_restart(), called on the way back to user mode
 *    whenever TIF_SIGPENDING or TIF_NOTIFY_SIGNAL is set: for every
 *    signal, including those an unresolved fault or trap raises.
 *
 * And unhandled_signal(), which decides whether a fault is worth a line
 * in the kernel log: in guest mode it never is; and emulate_vsyscall(),
 * with which the page fault handler of a kernel booted with
 * vsyscall=emulate or vsyscall=xonly runs gettimeofday(), time() or
 * getcpu() for a call into the legacy vsyscall page, with no system
 * call entry: in guest mode that call is a fault like any other; and
 * fixup_umip_exception(), with which the #GP handler of a CPU with UMIP
 * emulates SGDT, SIDT, SMSW, SLDT and STR for a program, with a log line:
 * in guest mode those are a #GP trap like any other, for the guest
 * kernel to emulate; and xfd_enable_feature(), with which the #NM
 * handler of a CPU with XFD gives a process a dynamic feature (AMX's
 * tile data) at its first use, reallocating its fpstate: in guest mode
 * the fpstate is the vcpu's, and the use is a trap (fpu.c); and, on
 * kernels whose ptrace reads and writes a thread's dispatch settings,
 * syscall_user_dispatch_{get,set}_config(): for a thread in a vcpu
 * those are the module's, and a tracer gets EBUSY.
 *
 * Each is redirected with an ftrace_ops with IPMODIFY, as livepatch
 * does, but only for a thread that is entering, in or (the first two)
 * parked on guest mode (see vcpu.h and park.c), or, for the last two,
 * for a tracee that is: every other thread runs the kernel's function
 * untouched.  The replacements run in ordinary task
 * context.  IPMODIFY is exclusive, so a livepatch of one of these
 * functions and this module exclude each other.  The redirects are
 * permanent ftrace_ops: while the module is loaded, ftrace cannot be
 * turned off (sysctl kernel.ftrace_enabled), which would turn guest mode
 * into host mode, and the module does not load while it is off.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ftrace.h>
#include <linux/module.h>
#include <asm/trapnr.h>

#include "unpriv.h"
#include "compat.h"

/* The selector of unpriv_hooks_self_test(): an address of the module's. */
static const char unpriv_probe_sel;
#define UNPRIV_SEL_PROBE ((unsigned long)&unpriv_probe_sel)

static bool unpriv_syscall_user_dispatch(struct pt_regs *regs)
{
	unsigned long sel = unpriv_current_sel();

	if (unlikely(sel == UNPRIV_SEL_PROBE))
		return true;
	return unpriv_vcpu_syscall(sel, regs);
}

static void unpriv_arch_do_signal_or_restart(struct pt_regs *regs)
{
	unpriv_vcpu_signal(unpriv_current_sel(), regs);
}

/*
 * The rest matter for guest mode only: a parked thread, which is in host
 * mode, gets the kernel's own function from the thunk.
 */

/* Another task's fault is none of guest mode's. */
static bool unpriv_unhandled_signal(struct task_struct *tsk, int sig)
{
	char __user *sel = current->syscall_dispatch.selector;
	bool ret;

	if (tsk == current)
		return false;
	/* The selector out of the way, so that the thunk leaves it be. */
	current->syscall_dispatch.selector = NULL;
	ret = static_call(unpriv_unhandled_signal)(tsk, sig);
	current->syscall_dispatch.selector = sel;
	return ret;
}

#ifdef CONFIG_X86_VSYSCALL_EMULATION
/* A guest's call into the vsyscall page is a fault. */
static bool unpriv_emulate_vsyscall(unsigned long error_code,
				    struct pt_regs *regs, unsigned long address)
{
	return false;
}
#endif

#ifdef CONFIG_X86_UMIP
/* A guest's SGDT, SIDT, SMSW, SLDT and STR are a #GP. */
static bool unpriv_fixup_umip_exception(struct pt_regs *regs)
{
	return false;
}
#endif

#ifdef CONFIG_X86_64
/*
 * A guest's use of a feature XFD disarms: a #NM trap with SIGILL, what
 * a process without permission for the feature gets.  Hooked on every
 * CPU, though only one with XFD calls it, so that every kernel the
 * tests boot proves it can be.
 */
static int unpriv_xfd_enable_feature(u64 xfd_err)
{
	current->thread.trap_nr = X86_TRAP_NM;
	current->thread.error_code = 0;
	return -EPERM;
}
#endif

#ifdef PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG
/*
 * A tracer's view of a thread's dispatch settings (since 6.4): one
 * entering, in or parked on guest mode has the module's, whose selector
 * is the vcpu's kernel address; setting them would drop the vcpu the
 * thread holds.  The thread's dispatch is busy until it leaves.
 */
static int unpriv_sud_config_busy(struct task_struct *task,
				  unsigned long size, void __user *data)
{
	return -EBUSY;
}
#endif

/* Which threads a hook redirects. */
enum unpriv_hook_scope {
	UNPRIV_HOOK_VCPU,	/* current entering, in or parked on guest mode */
	UNPRIV_HOOK_GUEST,	/* current entering or in guest mode */
	UNPRIV_HOOK_TARGET,	/* the task in the first argument, likewise */
};

struct unpriv_hook {
	const char *name;
	void *replacement;
	enum unpriv_hook_scope scope;
	struct ftrace_ops ops;
	bool registered;
};

static struct unpriv_hook unpriv_hooks[] = {
	{ "syscall_user_dispatch", unpriv_syscall_user_dispatch, UNPRIV_HOOK_VCPU },
	{ "arch_do_signal_or_restart", unpriv_arch_do_signal_or_restart,
	  UNPRIV_HOOK_VCPU },
	{ "unhandled_signal", unpriv_unhandled_signal, UNPRIV_HOOK_GUEST },
#ifdef CONFIG_X86_VSYSCALL_EMULATION
	{ "emulate_vsyscall", unpriv_emulate_vsyscall, UNPRIV_HOOK_GUEST },
#endif
#ifdef CONFIG_X86_UMIP
	{ "fixup_umip_exception", unpriv_fixup_umip_exception, UNPRIV_HOOK_GUEST },
#endif
#ifdef CONFIG_X86_64
	{ "xfd_enable_feature", unpriv_xfd_enable_feature, UNPRIV_HOOK_GUEST },
#endif
#ifdef PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG
	{ "syscall_user_dispatch_get_config", unpriv_sud_config_busy,
	  UNPRIV_HOOK_TARGET },
	{ "syscall_user_dispatch_set_config", unpriv_sud_config_busy,
	  UNPRIV_HOOK_TARGET },
#endif
};

/*
 * Run at the hooked function's entry with preemption off: decide, and
 * nothing more.
 */
static void notrace unpriv_ftrace_thunk(unsigned long ip,
					unsigned long parent_ip,
					struct ftrace_ops *ops,
					struct ftrace_regs *fregs)
{
	struct unpriv_hook *hook = container_of(ops, struct unpriv_hook, ops);
	unsigned long sel = unpriv_current_sel();

	if (sel)
		unpriv_ftrace_set_ip(fregs, (unsigned long)hook->replacement);
}

static void notrace unpriv_ftrace_thunk_guest(unsigned long ip,
					      unsigned long parent_ip,
					      struct ftrace_ops *ops,
					      struct ftrace_regs *fregs)
{
	struct unpriv_hook *hook = container_of(ops, struct unpriv_hook, ops);
	unsigned long sel = unpriv_current_sel();

	if (sel && !(sel & UNPRIV_SEL_PARKED))
		unpriv_ftrace_set_ip(fregs, (unsigned long)hook->replacement);
}

/*
 * The target is a stopped tracee, or current: its selector does not
 * change under the tracer.
 */
static void notrace unpriv_ftrace_thunk_target(unsigned long ip,
					       unsigned long parent_ip,
					       struct ftrace_ops *ops,
					       struct ftrace_regs *fregs)
{
	struct unpriv_hook *hook = container_of(ops, struct unpriv_hook, ops);
	struct task_struct *task = (void *)unpriv_ftrace_arg0(fregs);

	if (unpriv_task_sel(task))
		unpriv_ftrace_set_ip(fregs, (unsigned long)hook->replacement);
}

static const ftrace_func_t unpriv_hook_thunks[] = {
	[UNPRIV_HOOK_VCPU] = unpriv_ftrace_thunk,
	[UNPRIV_HOOK_GUEST] = unpriv_ftrace_thunk_guest,
	[UNPRIV_HOOK_TARGET] = unpriv_ftrace_thunk_target,
};

/*
 * Whether kernel.ftrace_enabled is on, to tell why registering failed;
 * the variable is not exported, and where kallsyms does not list it the
 * answer is "on".
 */
static bool unpriv_ftrace_enabled(void)
{
	int *enabled = (int *)unpriv_symbol_lookup_data("ftrace_enabled");

	return !enabled || READ_ONCE(*enabled);
}

static int unpriv_hook_install(struct unpriv_hook *hook)
{
	unsigned long addr;
	int ret;

	addr = unpriv_symbol_address(hook->name);
	if (!addr)
		return -ENOENT;

	hook->ops.func = unpriv_hook_thunks[hook->scope];
	/*
	 * The thunk calls nothing: it needs no recursion protection.
	 * PERMANENT: with kernel.ftrace_enabled=0 every ftrace_ops is
	 * skipped, and a guest's system call would run as the host's.
	 * The sysctl is refused while a permanent ops is registered, and
	 * registering one fails while ftrace is off.
	 */
	hook->ops.flags = FTRACE_OPS_FL_IPMODIFY | FTRACE_OPS_FL_PERMANENT;
	if (!IS_ENABLED(CONFIG_HAVE_DYNAMIC_FTRACE_WITH_ARGS))
		hook->ops.flags |= FTRACE_OPS_FL_SAVE_REGS;

	ret = ftrace_set_filter_ip(&hook->ops, addr, 0, 0);
	if (ret) {
		pr_err("cannot trace %s: %d (is the kernel built with dynamic ftrace?)\n",
		       hook->name, ret);
		return ret;
	}
	ret = register_ftrace_function(&hook->ops);
	if (ret) {
		if (ret == -EBUSY && !unpriv_ftrace_enabled())
			pr_err("ftrace is off (sysctl kernel.ftrace_enabled=0): guest mode needs it\n");
		else if (ret == -EBUSY)
			pr_err("%s is already redirected by another module (a livepatch?)\n",
			       hook->name);
		else
			pr_err("cannot hook %s: %d\n", hook->name, ret);
		ftrace_set_filter_ip(&hook->ops, addr, 1, 0);
		return ret;
	}
	hook->registered = true;
	return 0;
}

static void unpriv_hook_remove(struct unpriv_hook *hook)
{
	if (!hook->registered)
		return;
	unregister_ftrace_function(&hook->ops);
	ftrace_free_filter(&hook->ops);
	hook->registered = false;
}

int unpriv_hooks_install(void)
{
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(unpriv_hooks); i++) {
		ret = unpriv_hook_install(&unpriv_hooks[i]);
		if (ret) {
			unpriv_hooks_remove();
			return ret;
		}
	}
	return 0;
}

void unpriv_hooks_remove(void)
{
	int i;

	for (i = ARRAY_SIZE(unpriv_hooks) - 1; i >= 0; i--)
		unpriv_hook_remove(&unpriv_hooks[i]);
}

/*
 * Whether the system call hook runs: the kernel's function, called with
 * a selector only the replacement knows and a range that makes the
 * kernel's own allow the call, answers "dispatched" only when it is
 * redirected.  Nothing of the calling thread's changes.
 */
int unpriv_hooks_self_test(void)
{
	struct syscall_user_dispatch saved = current->syscall_dispatch;
	struct pt_regs regs = {};
	bool redirected;

	current->syscall_dispatch.selector = (char __user *)UNPRIV_SEL_PROBE;
	current->syscall_dispatch.offset = 0;
	current->syscall_dispatch.len = ULONG_MAX;
	redirected = static_call(unpriv_syscall_user_dispatch_fn)(&regs);
	current->syscall_dispatch = saved;
	if (!redirected) {
		pr_err("self-test: the system call hook does not run\n");
		return -ENODEV;
	}
	return 0;
}
