/* SPDX-License-Identifier: GPL-2.0 */
/*
 * unpriv: where a function found by name begins, and whether it may be
 * called indirectly, on a kernel built with indirect branch tracking.
 *
 * Plain arithmetic on instruction bytes, with no kernel header, so that
 * tools/tests/endbr-test.c checks it on the host: the kernels the test
 * VM boots have no IBT, so no run there takes these paths.
 *
 * With IBT (CONFIG_X86_KERNEL_IBT), an indirect call must land on an
 * ENDBR64.  At boot the kernel seals the ENDBRs of functions it finds
 * no indirect reference to, writing a 4-byte no-op over them (the
 * "poison", osp nopl (%rax)); a call into a sealed function faults.
 * register_kprobe() places a probe on a function's entry after its first
 * four bytes when they are an ENDBR, sealed or not (x86's
 * arch_adjust_kprobe_addr() and is_endbr()): the address it records is
 * then the function's plus four.
 */
#ifndef UNPRIV_ENDBR_H
#define UNPRIV_ENDBR_H

#include <linux/types.h>

#define UNPRIV_ENDBR64		0xfa1e0ff3U	/* f3 0f 1e fa */
#define UNPRIV_ENDBR_POISON	0x001f0f66U	/* 66 0f 1f 00 */
#define UNPRIV_ENDBR_SIZE	4

/*
 * The start of the function that a probe recorded at addr was placed
 * on, given the four bytes before addr.
 */
static inline unsigned long unpriv_endbr_func_start(unsigned long addr,
						    __u32 before, bool ibt)
{
	if (ibt && (before == UNPRIV_ENDBR64 || before == UNPRIV_ENDBR_POISON))
		return addr - UNPRIV_ENDBR_SIZE;
	return addr;
}

/* Whether a function whose first four bytes are first may be called. */
static inline bool unpriv_endbr_callable(__u32 first, bool ibt)
{
	return !ibt || first == UNPRIV_ENDBR64;
}

#endif /* UNPRIV_ENDBR_H */
