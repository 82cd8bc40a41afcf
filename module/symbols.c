// SPDX-License-Identifier: GPL-2.0
/*
 * unpriv: the kernel functions the module needs that are not exported.
 *
 * This is the only file that finds kernel functions by name.  Each is
 * listed once, in unpriv_symbol_table, with the static call the module
 * calls it through; loading fails with a message naming any that is
 * missing.  No function found by name is ever called through a pointer:
 * on a kernel built with IBT, an indirect call must land on an ENDBR,
 * and the kernel seals (overwrites) the ENDBR of every function nothing
 * takes the address of, which is most of these.  A static call is a
 * direct call, patched at load.  tools/tests/ibt-call-test checks the
 * built module for indirect calls.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kallsyms.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/static_call.h>

#include "unpriv.h"

DEFINE_STATIC_CALL_NULL(unpriv_kallsyms_lookup_name, kallsyms_lookup_name);
DEFINE_STATIC_CALL_NULL(unpriv_mm_alloc, mm_alloc);
DEFINE_STATIC_CALL_NULL(unpriv_switch_mm_irqs_off, switch_mm_irqs_off);
DEFINE_STATIC_CALL_NULL(unpriv_membarrier_update_current_mm,
			membarrier_update_current_mm);
DEFINE_STATIC_CALL_NULL(unpriv_do_mprotect_pkey, unpriv_mprotect_fn);
DEFINE_STATIC_CALL_NULL(unpriv_fpregs_mark_activate, fpregs_mark_activate);
DEFINE_STATIC_CALL_NULL(unpriv_unhandled_signal, unhandled_signal);
DEFINE_STATIC_CALL_NULL(unpriv_syscall_user_dispatch_fn, unpriv_dispatch_fn);
#ifdef SPLIT_RSS_COUNTING
DEFINE_STATIC_CALL_NULL(unpriv_sync_mm_rss, sync_mm_rss);
#endif
#ifdef CONFIG_SCHED_MM_CID
DEFINE_STATIC_CALL_NULL(unpriv_sched_mm_cid_after_execve,
			sched_mm_cid_after_execve);
#endif

#define SYM(sym, call) \
	{ #sym, &STATIC_CALL_KEY(call), STATIC_CALL_TRAMP_ADDR(call) }

static const struct {
	const char *name;
	struct static_call_key *key;
	void *tramp;
} unpriv_symbol_table[] = {
	SYM(mm_alloc, unpriv_mm_alloc),
	SYM(switch_mm_irqs_off, unpriv_switch_mm_irqs_off),
	SYM(membarrier_update_current_mm, unpriv_membarrier_update_current_mm),
	SYM(do_mprotect_pkey, unpriv_do_mprotect_pkey),
	SYM(fpregs_mark_activate, unpriv_fpregs_mark_activate),
	SYM(unhandled_signal, unpriv_unhandled_signal),
	SYM(syscall_user_dispatch, unpriv_syscall_user_dispatch_fn),
#ifdef SPLIT_RSS_COUNTING
	SYM(sync_mm_rss, unpriv_sync_mm_rss),
#endif
#ifdef CONFIG_SCHED_MM_CID
	SYM(sched_mm_cid_after_execve, unpriv_sched_mm_cid_after_execve),
#endif
};

/*
 * kallsyms_lookup_name() is not exported.  A kprobe on it gives an
 * address inside it, without arming anything (past its ENDBR, sealed or
 * not, on an IBT kernel); kallsyms itself, through the exported
 * sprint_symbol(), says how far into the function that is.  It must
 * answer its own name with the start found.
 */
static int unpriv_find_kallsyms(void)
{
	struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };
	char sym[KSYM_SYMBOL_LEN], *plus;
	unsigned long addr, off;
	int ret;

	ret = register_kprobe(&kp);
	if (ret) {
		pr_err("cannot locate kallsyms_lookup_name (kprobes: %d)\n", ret);
		return ret;
	}
	addr = (unsigned long)kp.addr;
	unregister_kprobe(&kp);

	/* "kallsyms_lookup_name+0x4/0x90" */
	sprint_symbol(sym, addr);
	plus = strchr(sym, '+');
	if (!plus || strncmp(sym, "kallsyms_lookup_name+", plus - sym + 1)) {
		pr_err("kallsyms_lookup_name's kprobe is in %s\n", sym);
		return -ENOENT;
	}
	*strchrnul(plus, '/') = '\0';
	if (kstrtoul(plus + 1, 0, &off) || off > addr) {
		pr_err("cannot read kallsyms_lookup_name's offset from %s\n", sym);
		return -ENOENT;
	}
	addr -= off;
	static_call_update(unpriv_kallsyms_lookup_name, (void *)addr);
	if (static_call(unpriv_kallsyms_lookup_name)("kallsyms_lookup_name") != addr) {
		pr_err("kallsyms_lookup_name is not where kallsyms said\n");
		return -ENOENT;
	}
	return 0;
}

/* The address of a kernel function, 0 (and a message) when not found. */
unsigned long unpriv_symbol_address(const char *name)
{
	unsigned long addr = static_call(unpriv_kallsyms_lookup_name)(name);

	if (!addr)
		pr_err("kernel symbol %s not found\n", name);
	return addr;
}

/* The address of a kernel variable, 0 when kallsyms does not list it. */
unsigned long unpriv_symbol_lookup_data(const char *name)
{
	return static_call(unpriv_kallsyms_lookup_name)(name);
}

int unpriv_symbols_resolve(void)
{
	unsigned int i;
	int ret;

	ret = unpriv_find_kallsyms();
	if (ret)
		return ret;

	for (i = 0; i < ARRAY_SIZE(unpriv_symbol_table); i++) {
		unsigned long addr;

		addr = unpriv_symbol_address(unpriv_symbol_table[i].name);
		if (!addr)
			return -ENOENT;
		__static_call_update(unpriv_symbol_table[i].key,
				     unpriv_symbol_table[i].tramp, (void *)addr);
	}
	return 0;
}
