// SPDX-License-Identifier: GPL-2.0
/*
 * unpriv: the guest's FPU state in and out of the registers.
 *
 * A vcpu's FPU state lives in a guest fpstate from KVM's exported
 * fpu_alloc_guest_fpstate(), and entering or leaving guest mode swaps it
 * with the thread's as KVM's fpu_swap_kvm_fpstate() does: save the live
 * registers into the current fpstate, point the thread's struct fpu at
 * the other one, load the registers from it.  While the thread is in
 * guest mode its struct fpu points to the guest's fpstate, so a context
 * switch or migration saves and restores the guest's registers like any
 * task's, and nothing of them reaches the host's.
 *
 * KVM's helper costs 140 instructions a switch, most of it around its
 * one XSAVE and one XRSTOR (its calls, softirq disabling, XFD checks);
 * this does the same with interrupts off (which also keeps softirqs and
 * kernel_fpu_begin() away), using the same instructions the FPU core
 * uses for the fpstate format: XSAVES, XSAVEC, XSAVEOPT or XSAVE, and
 * XRSTORS or XRSTOR.  It needs an XSAVE CPU without XFD (which switches
 * dynamic features such as AMX per fpstate, with per-CPU state the
 * core does not export); elsewhere the module uses KVM's helper.
 *
 * A guest fpstate starts with XFD clear, the reset value KVM's guests
 * expect: guest mode would then run with AMX's tile data enabled but
 * never saved (the fpstate has no room for it), reading the tiles
 * another process left in the CPU.  So a vcpu's fpstate disarms every
 * dynamic feature with XFD, as the kernel does for a process that did
 * not ask for it, and the #NM a guest's use raises is a trap exit
 * (hooks.c), never the kernel's reallocation of the thread's fpstate,
 * which in guest mode is the vcpu's.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <asm/cpufeature.h>
#include <asm/fpu/xcr.h>
#include <asm/fpu/xstate.h>
#include <asm/msr.h>

#include "unpriv.h"
#include "fpu.h"

bool unpriv_fpu_own __ro_after_init;
u64 unpriv_fpu_restore_mask __ro_after_init;
struct fpu * __percpu *unpriv_fpu_owner __ro_after_init;
static u64 unpriv_fpu_xfd __ro_after_init;
DEFINE_STATIC_KEY_FALSE(unpriv_fpu_owner_known);

/*
 * fpregs_mark_activate() records the thread's struct fpu as the owner
 * of the CPU's registers in the per-CPU fpu_fpregs_owner_ctx.  Where
 * kallsyms knows that variable, and it holds what it must (this
 * thread, once switch_fpu_return() made its registers live), the switch
 * does the same inline; otherwise it calls the function.
 */
static void unpriv_fpu_find_owner(void)
{
	struct fpu * __percpu *owner;
	bool ok;

	owner = (void __percpu *)unpriv_symbol_lookup_data("fpu_fpregs_owner_ctx");
	if (!owner)
		return;
	fpregs_lock();
	if (test_thread_flag(TIF_NEED_FPU_LOAD))
		switch_fpu_return();
	ok = this_cpu_read(*owner) == &current->thread.fpu;
	fpregs_unlock();
	if (!ok)
		return;
	unpriv_fpu_owner = owner;
	static_branch_enable(&unpriv_fpu_owner_known);
}

/* Guest mode runs with every dynamic feature disarmed (see above). */
void unpriv_fpu_guest_init(struct fpu_guest *gfpu)
{
	if (unpriv_fpu_xfd)
		fpu_update_guest_xfd(gfpu, unpriv_fpu_xfd);
}

bool unpriv_fpu_init(void)
{
	u64 enabled;

	/* The dynamic features XCR0 enables (XFD must not name others). */
	if (cpu_feature_enabled(X86_FEATURE_XFD))
		unpriv_fpu_xfd = xgetbv(XCR_XFEATURE_ENABLED_MASK) &
				 XFEATURE_MASK_USER_DYNAMIC;
	unpriv_fpu_own = cpu_feature_enabled(X86_FEATURE_XSAVE) &&
			 !cpu_feature_enabled(X86_FEATURE_XFD);
	if (!unpriv_fpu_own)
		return false;
	/*
	 * What the core restores when it switches fpstates: every enabled
	 * component but PKRU (which the module switches itself).
	 */
	enabled = xgetbv(XCR_XFEATURE_ENABLED_MASK);
	if (cpu_feature_enabled(X86_FEATURE_XSAVES)) {
		u64 xss;

		rdmsrl(MSR_IA32_XSS, xss);
		enabled |= xss;
	}
	unpriv_fpu_restore_mask = enabled & XFEATURE_MASK_FPSTATE;
	unpriv_fpu_find_owner();
	return true;
}
