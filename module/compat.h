/* SPDX-License-Identifier: GPL-2.0 */
/*
 * unpriv: where the kernels this source supports differ, one helper each.
 *
 * The module builds for Linux 6.1 and 6.12 (main.c refuses any other
 * version at load).  Everything that changed between them that the
 * module uses is here, keyed on what the headers define where they say,
 * on the version otherwise; the mechanism itself has no #if of its own.
 */
#ifndef UNPRIV_COMPAT_H
#define UNPRIV_COMPAT_H

#include <linux/ftrace.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/version.h>

#define UNPRIV_KERNEL_MAJOR	(LINUX_VERSION_CODE >> 16)
#define UNPRIV_KERNEL_MINOR	((LINUX_VERSION_CODE >> 8) & 0xff)

/*
 * The kernels this source was written for, whose code the module's
 * hooks and recipes were checked against (Documentation/unpriv-api.rst).
 */
static inline bool unpriv_kernel_supported(void)
{
	return UNPRIV_KERNEL_MAJOR == 6 &&
	       (UNPRIV_KERNEL_MINOR == 1 || UNPRIV_KERNEL_MINOR == 12);
}

/* 6.12 declares rseq_set_notify_resume() apart. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
#include <linux/rseq.h>
#endif

/* 6.1's ftrace_instruction_pointer_set(), renamed by 6.12. */
#ifdef ftrace_regs_set_instruction_pointer
#define unpriv_ftrace_set_ip(fregs, ip) \
	ftrace_regs_set_instruction_pointer(fregs, ip)
#else
#define unpriv_ftrace_set_ip(fregs, ip) ftrace_instruction_pointer_set(fregs, ip)
#endif

/* The first argument of a function ftrace stopped at. */
static __always_inline unsigned long
unpriv_ftrace_arg0(struct ftrace_regs *fregs)
{
#ifdef ftrace_regs_get_argument
	return ftrace_regs_get_argument(fregs, 0);
#else
	return fregs->regs.di;
#endif
}

/* vm_flags is written through helpers since 6.3. */
static inline void unpriv_vm_flags_set(struct vm_area_struct *vma,
				       vm_flags_t flags)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

/* One page of another mm; get_user_pages_remote() lost its vmas in 6.5. */
static inline long unpriv_get_remote_page(struct mm_struct *mm,
					  unsigned long addr,
					  unsigned int gup_flags,
					  struct page **page)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
	return get_user_pages_remote(mm, addr, 1, gup_flags, page, NULL);
#else
	return get_user_pages_remote(mm, addr, 1, gup_flags, page, NULL, NULL);
#endif
}

/* dequeue_signal() of current: 6.12's has no task argument. */
static inline int unpriv_dequeue_signal(sigset_t *mask, kernel_siginfo_t *info,
					enum pid_type *type)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
	return dequeue_signal(mask, info, type);
#else
	return dequeue_signal(current, mask, info, type);
#endif
}

/*
 * Give mm the mmap layout of host: a get_unmapped_area method until
 * 6.10, the MMF_TOPDOWN flag since.
 */
static inline void unpriv_mm_copy_topdown(struct mm_struct *mm,
					  struct mm_struct *host)
{
#ifdef MMF_TOPDOWN
	if (test_bit(MMF_TOPDOWN, &host->flags))
		set_bit(MMF_TOPDOWN, &mm->flags);
	else
		clear_bit(MMF_TOPDOWN, &mm->flags);
#else
	mm->get_unmapped_area = host->get_unmapped_area;
#endif
}

#endif /* UNPRIV_COMPAT_H */
