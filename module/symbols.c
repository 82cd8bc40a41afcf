// SPDX-License-Identifier: GPL-2.0
/*
 * unpriv: the kernel functions the module needs that are not exported.
 *
 * This is the only file that finds kernel functions by name.  Each is
 * listed once, in unpriv_symbol_table; loading fails with a message
 * naming any that is missing.  On a kernel built with IBT an indirect
 * call to a function lacking ENDBR would crash, so each is checked
 * (endbr.h).
 * Those called on every switch between host and guest mode are then
 * also the targets of static calls (direct calls, patched at load).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/static_call.h>

#include "unpriv.h"
#include "endbr.h"

#define UNPRIV_IBT	IS_ENABLED(CONFIG_X86_KERNEL_IBT)

struct unpriv_symbols unpriv_sym;

DEFINE_STATIC_CALL_NULL(unpriv_switch_mm_irqs_off, switch_mm_irqs_off);
DEFINE_STATIC_CALL_NULL(unpriv_membarrier_update_current_mm,
			membarrier_update_current_mm);
DEFINE_STATIC_CALL_NULL(unpriv_fpregs_mark_activate, fpregs_mark_activate);

#define SYM(name) { #name, (void **)&unpriv_sym.name }

static const struct {
	const char *name;
	void **addr;
} unpriv_symbol_table[] = {
	SYM(mm_alloc),
	SYM(switch_mm_irqs_off),
	SYM(membarrier_update_current_mm),
	SYM(sync_mm_rss),
	SYM(do_mprotect_pkey),
	SYM(fpregs_mark_activate),
};

static unsigned long (*unpriv_kallsyms_lookup_name)(const char *name);

/*
 * kallsyms_lookup_name() is not exported; a kprobe on it tells where it
 * is, without arming anything: past its ENDBR on an IBT kernel (see
 * endbr.h).  It must answer its own name with the same address.
 */
static int unpriv_find_kallsyms(void)
{
	struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };
	unsigned long addr;
	int ret;

	ret = register_kprobe(&kp);
	if (ret) {
		pr_err("cannot locate kallsyms_lookup_name (kprobes: %d)\n", ret);
		return ret;
	}
	addr = (unsigned long)kp.addr;
	unregister_kprobe(&kp);
	if (UNPRIV_IBT) {
		u32 before = *(u32 *)(addr - UNPRIV_ENDBR_SIZE);

		addr = unpriv_endbr_func_start(addr, before, true);
	}
	if (!unpriv_endbr_callable(*(u32 *)addr, UNPRIV_IBT)) {
		pr_err("kallsyms_lookup_name has no ENDBR: cannot call it with IBT\n");
		return -ENOENT;
	}
	unpriv_kallsyms_lookup_name = (void *)addr;
	if (unpriv_kallsyms_lookup_name("kallsyms_lookup_name") != addr) {
		pr_err("kallsyms_lookup_name is not where its kprobe said\n");
		return -ENOENT;
	}
	return 0;
}

/* The address of a kernel function, 0 (and a message) when not found. */
unsigned long unpriv_symbol_address(const char *name)
{
	unsigned long addr = unpriv_kallsyms_lookup_name(name);

	if (!addr)
		pr_err("kernel symbol %s not found\n", name);
	return addr;
}

/*
 * The address of a kernel function the module calls, 0 (and a message)
 * when not found or not callable.
 */
unsigned long unpriv_symbol_lookup(const char *name)
{
	unsigned long addr = unpriv_symbol_address(name);

	if (!addr)
		return 0;
	/* is_endbr() would take a sealed ENDBR for one. */
	if (!unpriv_endbr_callable(*(u32 *)addr, UNPRIV_IBT)) {
		pr_err("kernel symbol %s has no ENDBR: cannot call it with IBT\n",
		       name);
		return 0;
	}
	return addr;
}

/* The address of a kernel variable, 0 when kallsyms does not list it. */
unsigned long unpriv_symbol_lookup_data(const char *name)
{
	return unpriv_kallsyms_lookup_name(name);
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

		addr = unpriv_symbol_lookup(unpriv_symbol_table[i].name);
		if (!addr)
			return -ENOENT;
		*unpriv_symbol_table[i].addr = (void *)addr;
	}
	static_call_update(unpriv_switch_mm_irqs_off,
			   unpriv_sym.switch_mm_irqs_off);
	static_call_update(unpriv_membarrier_update_current_mm,
			   unpriv_sym.membarrier_update_current_mm);
	static_call_update(unpriv_fpregs_mark_activate,
			   unpriv_sym.fpregs_mark_activate);
	return 0;
}
