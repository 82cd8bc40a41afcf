/* SPDX-License-Identifier: GPL-2.0 */
/*
 * unpriv: switching the FPU state, inline in the switch (see fpu.c).
 */
#ifndef UNPRIV_FPU_H
#define UNPRIV_FPU_H

#include <linux/jiffies.h>
#include <linux/jump_label.h>
#include <linux/percpu.h>
#include <asm/alternative.h>
#include <asm/fpu/api.h>
#include <asm/fpu/xstate.h>

#include "unpriv.h"

extern bool unpriv_fpu_own;
extern u64 unpriv_fpu_restore_mask;
extern struct fpu * __percpu *unpriv_fpu_owner;
DECLARE_STATIC_KEY_FALSE(unpriv_fpu_owner_known);

/* Whether unpriv_fpu_swap() is used, rather than KVM's helper. */
static __always_inline bool unpriv_fpu_is_own(void)
{
	return unpriv_fpu_own;
}

/* The FPU core's encodings (arch/x86/kernel/fpu/xstate.h). */
#define UNPRIV_XSAVE	".byte 0x48,0x0f,0xae,0x27"
#define UNPRIV_XSAVEOPT	".byte 0x48,0x0f,0xae,0x37"
#define UNPRIV_XSAVEC	".byte 0x48,0x0f,0xc7,0x27"
#define UNPRIV_XSAVES	".byte 0x48,0x0f,0xc7,0x2f"
#define UNPRIV_XRSTOR	".byte 0x48,0x0f,0xae,0x2f"
#define UNPRIV_XRSTORS	".byte 0x48,0x0f,0xc7,0x1f"

/* As os_xsave(): a fault on a kernel buffer would be a bug, and is caught. */
static __always_inline void unpriv_xsave(struct fpstate *fps)
{
	u64 mask = fps->xfeatures;
	int err;

	asm volatile("1: " ALTERNATIVE_3(UNPRIV_XSAVE,
				   UNPRIV_XSAVEOPT, X86_FEATURE_XSAVEOPT,
				   UNPRIV_XSAVEC, X86_FEATURE_XSAVEC,
				   UNPRIV_XSAVES, X86_FEATURE_XSAVES)
		     "\n"
		     "xor %[err], %[err]\n"
		     "3:\n"
		     _ASM_EXTABLE_TYPE_REG(1b, 3b, EX_TYPE_EFAULT_REG, %[err])
		     : [err] "=r" (err)
		     : "D" (&fps->regs.xsave), "m" (fps->regs.xsave),
		       "a" ((u32)mask), "d" ((u32)(mask >> 32))
		     : "memory");
	WARN_ON_ONCE(err);
}

/* As os_xrstor(); a fault resets the registers to the initial state. */
static __always_inline void unpriv_xrstor(struct fpstate *fps, u64 mask)
{
	asm volatile("1: " ALTERNATIVE(UNPRIV_XRSTOR, UNPRIV_XRSTORS,
				 X86_FEATURE_XSAVES)
		     "\n"
		     "3:\n"
		     _ASM_EXTABLE_TYPE(1b, 3b, EX_TYPE_FPU_RESTORE)
		     :
		     : "D" (&fps->regs.xsave), "m" (fps->regs.xsave),
		       "a" ((u32)mask), "d" ((u32)(mask >> 32))
		     : "memory");
}

/*
 * fpu_swap_kvm_fpstate() with interrupts off.  The FPU core's
 * save_fpregs_to_fpstate(), restore_fpregs_from_fpstate() and
 * fpregs_mark_activate(), for an XSAVE CPU without XFD, with neither
 * the debug checks nor the legacy paths.
 */
static __always_inline void unpriv_fpu_swap(struct fpu_guest *gfpu,
					    bool to_guest)
{
	struct fpu *fpu = &current->thread.fpu;
	struct fpstate *guest = gfpu->fpstate;
	struct fpstate *cur = fpu->fpstate;

	lockdep_assert_irqs_disabled();

	/* The registers hold cur's state unless a switch saved it already. */
	if (!test_thread_flag(TIF_NEED_FPU_LOAD)) {
		unpriv_xsave(cur);
		if (cur->regs.xsave.header.xfeatures &
		    (XFEATURE_MASK_ZMM_Hi256 | XFEATURE_MASK_Hi16_ZMM))
			fpu->avx512_timestamp = jiffies;
	}

	if (to_guest) {
		fpu->__task_fpstate = cur;
		fpu->fpstate = guest;
		guest->in_use = true;
	} else {
		guest->in_use = false;
		fpu->fpstate = fpu->__task_fpstate;
		fpu->__task_fpstate = NULL;
	}

	/* AMD's FXSAVE leak: see restore_fpregs_from_fpstate(). */
	if (unlikely(static_cpu_has_bug(X86_BUG_FXSAVE_LEAK)))
		asm volatile("fnclex\n\temms\n\tfildl %[addr]"
			     : : [addr] "m" (*fpu->fpstate));
	unpriv_xrstor(fpu->fpstate, unpriv_fpu_restore_mask);

	/* fpregs_mark_activate(), without its tracepoint. */
	if (static_branch_likely(&unpriv_fpu_owner_known)) {
		this_cpu_write(*unpriv_fpu_owner, fpu);
		fpu->last_cpu = smp_processor_id();
		clear_thread_flag(TIF_NEED_FPU_LOAD);
	} else {
		static_call(unpriv_fpregs_mark_activate)();
	}
}

#endif /* UNPRIV_FPU_H */
