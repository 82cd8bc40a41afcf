/* SPDX-License-Identifier: GPL-2.0 */
/*
 * unpriv: definitions shared between the module's files.
 */
#ifndef UNPRIV_H
#define UNPRIV_H

#include <linux/compiler.h>
#include <linux/mm_types.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/signal.h>
#include <linux/static_call.h>
#include <linux/syscall_user_dispatch.h>
#include <linux/types.h>
#include <asm/desc_defs.h>
#include <asm/fpu/api.h>
#include <asm/mmu_context.h>
#include <asm/processor.h>
#include <asm/segment.h>

#include <linux/unpriv.h>

/* device.c */
int unpriv_device_register(void);
void unpriv_device_unregister(void);

/*
 * symbols.c: kernel functions that are not exported, found by name at
 * load and called through static calls only: direct calls, which need
 * no retpoline and which IBT lets land on a function whose ENDBR the
 * kernel sealed at boot (most of these: nothing takes their address).
 */
typedef int unpriv_mprotect_fn(unsigned long start, size_t len,
			       unsigned long prot, int pkey);
typedef bool unpriv_dispatch_fn(struct pt_regs *regs);

DECLARE_STATIC_CALL(unpriv_mm_alloc, mm_alloc);
DECLARE_STATIC_CALL(unpriv_switch_mm_irqs_off, switch_mm_irqs_off);
DECLARE_STATIC_CALL(unpriv_membarrier_update_current_mm,
		    membarrier_update_current_mm);
DECLARE_STATIC_CALL(unpriv_do_mprotect_pkey, unpriv_mprotect_fn);
DECLARE_STATIC_CALL(unpriv_fpregs_mark_activate, fpregs_mark_activate);
DECLARE_STATIC_CALL(unpriv_unhandled_signal, unhandled_signal);
DECLARE_STATIC_CALL(unpriv_syscall_user_dispatch_fn, unpriv_dispatch_fn);
#ifdef SPLIT_RSS_COUNTING
DECLARE_STATIC_CALL(unpriv_sync_mm_rss, sync_mm_rss);
#endif
#ifdef CONFIG_SCHED_MM_CID
DECLARE_STATIC_CALL(unpriv_sched_mm_cid_after_execve,
		    sched_mm_cid_after_execve);
#endif

int unpriv_symbols_resolve(void);
unsigned long unpriv_symbol_address(const char *name);
unsigned long unpriv_symbol_lookup_data(const char *name);

/* as.c: address spaces */
struct unpriv_as {
	struct mm_struct *mm;		/* an mm_users reference */
	struct task_struct *owner;	/* mm->owner: creator's group leader */
};

int unpriv_as_create(unsigned long flags);
struct unpriv_as *unpriv_as_from_file(struct file *file);
bool unpriv_as_may_run(const struct unpriv_as *as);
void unpriv_switch_mm(struct mm_struct *mm);

/*
 * The task's cached RSS counters belong to its current mm: flush them
 * into it before the mm changes, or its counters go wrong ("Bad
 * rss-counter state").  Mostly there is nothing to flush, and looking
 * costs a tenth of the call.
 */
static __always_inline void unpriv_sync_rss(struct mm_struct *mm)
{
#ifdef SPLIT_RSS_COUNTING
	const struct task_rss_stat *stat = &current->rss_stat;
	int i, cached = 0;

	for (i = 0; i < NR_MM_COUNTERS; i++)
		cached |= stat->count[i];
	if (cached)
		static_call(unpriv_sync_mm_rss)(mm);
#endif
}

/*
 * Make mm current's mm, as kthread_use_mm() does for kernel threads; for
 * a user thread, mm and active_mm are the same and the caller keeps the
 * old mm alive.  The caller holds task_lock(current), interrupts off.
 */
static __always_inline void unpriv_switch_mm_locked(struct mm_struct *mm)
{
	struct task_struct *tsk = current;
	struct mm_struct *prev = tsk->mm;

	unpriv_sync_rss(prev);
	tsk->active_mm = mm;
	tsk->mm = mm;
	/*
	 * The runqueue's membarrier state follows the running mm's, and
	 * is already right when both mms' are the same: an address space's
	 * is always 0, since registering is a system call of its own mm,
	 * which guest mode never runs; most host programs' is 0 too.
	 */
#ifdef CONFIG_MEMBARRIER
	if (atomic_read(&mm->membarrier_state) !=
	    atomic_read(&prev->membarrier_state))
		static_call(unpriv_membarrier_update_current_mm)(mm);
#endif
	static_call(unpriv_switch_mm_irqs_off)(prev, mm, tsk);
}

/* rsb.S: overwrite the return stack buffer, as a context switch does */
void unpriv_fill_rsb(void);

/* fpu.c: the guest's FPU state (the switch itself is in fpu.h) */
bool unpriv_fpu_init(void);
void unpriv_fpu_guest_init(struct fpu_guest *gfpu);

/* vcpu*.c, park.c, switch.c, exit.c: vcpus (see vcpu.h) */
enum unpriv_vcpu_phase {
	UNPRIV_VCPU_IDLE,	/* in no thread */
	UNPRIV_VCPU_ENTERING,	/* RUN called, guest not yet entered */
	UNPRIV_VCPU_GUEST,	/* its thread is in guest mode */
	UNPRIV_VCPU_BUSY,	/* an ioctl is reading or writing its state */
};

/* Selectors, FS/GS base and PKRU, as the CPU holds them. */
struct unpriv_cpu_segs {
	unsigned short ds, es, fs, gs;
	unsigned long fsbase, gsbase;
	u32 pkru;
};

/* The host thread's state set aside while it runs in guest mode. */
struct unpriv_host {
	struct pt_regs regs;
	struct mm_struct *mm;
	struct unpriv_cpu_segs segs;
	struct desc_struct tls[GDT_ENTRY_TLS_ENTRIES];
	bool tls_set;		/* tls holds the thread's TLS descriptors */
	int cpu;
	struct syscall_user_dispatch sud;
	bool sud_on;
	struct rseq __user *rseq;
	u32 rseq_len, rseq_sig;
	sigset_t blocked;
	bool blocked_changed;
	unsigned long ignored;	/* synchronous signals set to SIG_IGN */
	bool unkillable;	/* the process had SIGNAL_UNKILLABLE (init) */
	unsigned long trap_nr;	/* thread.trap_nr, until the guest traps */
	struct task_struct *task;	/* whose tls_set and trap_nr these are */
};

struct unpriv_vcpu {
	struct unpriv_run *run;		/* the page shared with userspace */
	struct unpriv_vcpu_stats *stats;	/* its counts: stats.h */
	atomic_t state;			/* phase: see vcpu.h */
	struct task_struct *task;	/* its thread, while not IDLE */
	unsigned long flags;		/* UNPRIV_VCPU_KICKED, _EXIT_TAKEN */
	int exit_ret;			/* an exit held back: see exit.c */
	u64 exit_info;
	struct file *file;		/* its own (no reference) */

	/* The address space it last ran in, held while bound. */
	struct file *as_file;
	struct unpriv_as *as;
	struct file *old_as_file;	/* replaced by this RUN: see vcpu.h */

	struct fpu_guest fpu;
	u32 pkru;
	/* The guest's, on their way between the run page and the CPU. */
	struct unpriv_cpu_segs segs;
	struct unpriv_host host;
};

int unpriv_vcpu_create(unsigned long flags);
int unpriv_vcpu_init(void);
int unpriv_vcpu_fpu_size(void);

/*
 * A thread's Syscall User Dispatch selector, while it is entering,
 * running or parked on a vcpu: the vcpu, with this bit when parked (see
 * vcpu.h and park.c).
 */
#define UNPRIV_SEL_PARKED	1UL

/* The selector when it is the module's, else 0. */
static __always_inline unsigned long unpriv_task_sel(struct task_struct *t)
{
	unsigned long sel = (unsigned long)t->syscall_dispatch.selector;

	/* A host's own selector is a user address: see vcpu.c. */
	if (likely(sel < TASK_SIZE_MAX))
		return 0;
	return sel;
}

static __always_inline unsigned long unpriv_current_sel(void)
{
	return unpriv_task_sel(current);
}

static __always_inline struct unpriv_vcpu *unpriv_sel_vcpu(unsigned long sel)
{
	return (struct unpriv_vcpu *)(sel & ~UNPRIV_SEL_PARKED);
}

bool unpriv_vcpu_rerun(struct unpriv_vcpu *vcpu, struct pt_regs *regs);
void unpriv_vcpu_exit_syscall(struct unpriv_vcpu *vcpu, struct pt_regs *regs);
void unpriv_vcpu_signal(unsigned long sel, struct pt_regs *regs);

/*
 * syscall_user_dispatch(), redirected: a system call of a thread in
 * guest mode (exit.c), or parked (park.c).  Inline in the hook, so that
 * each way costs one call.
 */
static __always_inline bool unpriv_vcpu_syscall(unsigned long sel,
						struct pt_regs *regs)
{
	struct unpriv_vcpu *vcpu = unpriv_sel_vcpu(sel);

	if (sel & UNPRIV_SEL_PARKED)
		return unpriv_vcpu_rerun(vcpu, regs);
	if (atomic_read(&vcpu->state) != UNPRIV_VCPU_GUEST)
		return false;
	unpriv_vcpu_exit_syscall(vcpu, regs);
	return true;
}

/* hooks.c: the kernel functions every exit from guest mode passes */
int unpriv_hooks_install(void);
int unpriv_hooks_self_test(void);
void unpriv_hooks_remove(void);

#endif /* UNPRIV_H */
