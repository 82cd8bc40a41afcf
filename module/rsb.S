/* SPDX-License-Identifier: GPL-2.0 */
/*
 * unpriv_fill_rsb(): overwrite the return stack buffer, as the kernel's
 * context switch does (__switch_to_asm, X86_FEATURE_RSB_CTXSW), so that
 * return predictions a guest left behind cannot steer the host's
 * returns once the thread is back in host mode.  Patched to a bare RET
 * where the kernel does not fill the RSB on context switch either.
 * Clobbers rax (and flags), as the kernel's FILL_RETURN_BUFFER does.
 */
#include <linux/linkage.h>
#include <asm/cpufeatures.h>
#include <asm/nospec-branch.h>

	.text
SYM_FUNC_START(unpriv_fill_rsb)
	FILL_RETURN_BUFFER %rax, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_CTXSW
	RET
SYM_FUNC_END(unpriv_fill_rsb)
