// SPDX-License-Identifier: GPL-2.0
/*
 * unpriv: the mode switch.  Swapping a thread's user registers, segment
 * selectors and bases, TLS descriptors, PKRU, FPU state, mm, rseq and
 * the synchronous signals' mask for a vcpu's guest's, and back: RUN's
 * way in (unpriv_vcpu_enter(), or park.c's re-run) and every exit's way
 * out (unpriv_vcpu_leave()).  See vcpu.h for the state they move.
 */
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/task_work.h>
#include <asm/debugreg.h>
#include <asm/desc.h>
#include <asm/fsgsbase.h>
#include <asm/pkru.h>
#include <asm/segment.h>

#include "vcpu.h"
#include "compat.h"
#include "fpu.h"
#include "segs.h"
#include "trace.h"

/* The flags guest code may set, as sigreturn allows. */
#define UNPRIV_RFLAGS_USER \
	(X86_EFLAGS_CF | X86_EFLAGS_PF | X86_EFLAGS_AF | X86_EFLAGS_ZF | \
	 X86_EFLAGS_SF | X86_EFLAGS_TF | X86_EFLAGS_DF | X86_EFLAGS_OF | \
	 X86_EFLAGS_RF | X86_EFLAGS_AC | X86_EFLAGS_ID)

/* --- guest registers -------------------------------------------------- */

/*
 * A data selector (ds, es, fs, gs) is fine if the guest could have
 * loaded it itself, since an exit reports what it loaded and the next
 * RUN must take that back: at CPL 3, with no LDT and no TLS descriptors,
 * that is a null selector (index 0, any RPL) or one of the GDT's user
 * segments, with any RPL: the 32- and 64-bit code segments (readable),
 * the data segment and the CPU-number segment.
 */
static bool unpriv_data_selector_ok(u16 sel)
{
	if (sel & SEGMENT_TI_MASK)
		return false;
	switch (sel >> 3) {
	case 0:
	case GDT_ENTRY_DEFAULT_USER32_CS:
	case GDT_ENTRY_DEFAULT_USER_DS:
	case GDT_ENTRY_DEFAULT_USER_CS:
	case GDT_ENTRY_CPUNODE:
		return true;
	default:
		return false;
	}
}

/*
 * Copy the guest's registers from the shared run page into pt_regs and
 * segs (all but PKRU, which is not in the run page), then check the
 * copies: userspace may change the page at any time, the copies it
 * cannot.
 */
static int unpriv_load_guest(const struct unpriv_regs *g, struct pt_regs *regs,
			     struct unpriv_cpu_segs *segs)
{
	regs->ax = g->rax;
	regs->bx = g->rbx;
	regs->cx = g->rcx;
	regs->dx = g->rdx;
	regs->si = g->rsi;
	regs->di = g->rdi;
	regs->bp = g->rbp;
	regs->sp = g->rsp;
	regs->r8 = g->r8;
	regs->r9 = g->r9;
	regs->r10 = g->r10;
	regs->r11 = g->r11;
	regs->r12 = g->r12;
	regs->r13 = g->r13;
	regs->r14 = g->r14;
	regs->r15 = g->r15;
	regs->ip = g->rip;
	regs->flags = (g->rflags & UNPRIV_RFLAGS_USER) | X86_EFLAGS_IF |
		      X86_EFLAGS_FIXED;
	regs->cs = READ_ONCE(g->cs) ?: __USER_CS;
	regs->ss = READ_ONCE(g->ss) ?: __USER_DS;
	regs->orig_ax = -1;
	segs->ds = READ_ONCE(g->ds);
	segs->es = READ_ONCE(g->es);
	segs->fs = READ_ONCE(g->fs);
	segs->gs = READ_ONCE(g->gs);
	segs->fsbase = READ_ONCE(g->fs_base);
	segs->gsbase = READ_ONCE(g->gs_base);

	if (regs->cs != __USER_CS && regs->cs != __USER32_CS)
		return -EINVAL;
	if (regs->ss != __USER_DS)
		return -EINVAL;
	if (regs->ip >= TASK_SIZE_MAX || regs->sp >= TASK_SIZE_MAX)
		return -EINVAL;
	if (regs->cs == __USER32_CS && (regs->ip > U32_MAX || regs->sp > U32_MAX))
		return -EINVAL;
	/* All null, as a 64-bit guest's mostly are: one test. */
	if ((segs->ds | segs->es | segs->fs | segs->gs) > 3 &&
	    (!unpriv_data_selector_ok(segs->ds) ||
	     !unpriv_data_selector_ok(segs->es) ||
	     !unpriv_data_selector_ok(segs->fs) ||
	     !unpriv_data_selector_ok(segs->gs)))
		return -EINVAL;
	/*
	 * Any canonical base, kernel half included: the guest may set one
	 * itself (wrfsbase), and the next RUN must take back what its exit
	 * reported.  Only a non-canonical one would fault in WRFSBASE or
	 * WRMSR.
	 */
	if (!__is_canonical_address(segs->fsbase, __VIRTUAL_MASK_SHIFT + 1) ||
	    !__is_canonical_address(segs->gsbase, __VIRTUAL_MASK_SHIFT + 1))
		return -EINVAL;
	return 0;
}

static void unpriv_store_guest(struct unpriv_regs *g, const struct pt_regs *regs)
{
	g->rax = regs->ax;
	g->rbx = regs->bx;
	g->rcx = regs->cx;
	g->rdx = regs->dx;
	g->rsi = regs->si;
	g->rdi = regs->di;
	g->rbp = regs->bp;
	g->rsp = regs->sp;
	g->r8 = regs->r8;
	g->r9 = regs->r9;
	g->r10 = regs->r10;
	g->r11 = regs->r11;
	g->r12 = regs->r12;
	g->r13 = regs->r13;
	g->r14 = regs->r14;
	g->r15 = regs->r15;
	g->rip = regs->ip;
	g->rflags = regs->flags;
	g->cs = regs->cs;
	g->ss = regs->ss;
}

/*
 * The thread's TLS descriptors (set_thread_area(), which a 64-bit
 * program such as Wine reaches with int $0x80) are GDT entries loaded
 * per thread: in guest mode the guest could load them and read their
 * base.  It has no LDT, and no TLS descriptors either: they are emptied
 * while it runs, in thread_struct too, which a context switch loads
 * from.  Most threads have none, and then nothing is done.
 *
 * Whether it has any is looked at on RUN's way in, not on a re-run from
 * the parked state: only a system call of the thread or a ptrace stop
 * change them, both of which unpark it, and leaving put back the ones
 * seen here.
 */
static void unpriv_tls_check(struct unpriv_host *h)
{
	struct thread_struct *t = &current->thread;
	u64 any = 0;
	int i;

	/* Three loads, not a memchr_inv() call. */
	BUILD_BUG_ON(sizeof(t->tls_array[0]) != sizeof(u64));
	for (i = 0; i < GDT_ENTRY_TLS_ENTRIES; i++)
		any |= *(u64 *)&t->tls_array[i];
	h->tls_set = any;
}

static void unpriv_tls_to_guest(struct unpriv_host *h)
{
	struct thread_struct *t = &current->thread;

	if (likely(!h->tls_set))
		return;
	memcpy(h->tls, t->tls_array, sizeof(h->tls));
	memset(t->tls_array, 0, sizeof(t->tls_array));
	load_TLS(t, smp_processor_id());
}

static void unpriv_tls_to_host(struct unpriv_host *h)
{
	struct thread_struct *t = &current->thread;

	if (likely(!h->tls_set))
		return;
	memcpy(t->tls_array, h->tls, sizeof(h->tls));
	load_TLS(t, smp_processor_id());
}

/* Both with interrupts off. */
static __always_inline void
unpriv_swap_segments_to_guest(struct unpriv_vcpu *vcpu,
			      const struct unpriv_cpu_segs *guest)
{
	struct unpriv_host *h = &vcpu->host;

	unpriv_segs_read(&h->segs);
	unpriv_tls_to_guest(h);
	unpriv_segs_load(&h->segs, guest);
}

static __always_inline void unpriv_swap_segments_to_host(struct unpriv_vcpu *vcpu)
{
	struct unpriv_cpu_segs *guest = &vcpu->segs;
	struct unpriv_regs *g = &vcpu->run->regs;
	struct unpriv_host *h = &vcpu->host;

	unpriv_segs_read(guest);
	/* The host's selectors may name its TLS descriptors: first those. */
	unpriv_tls_to_host(h);
	unpriv_segs_load(guest, &h->segs);

	g->ds = guest->ds;
	g->es = guest->es;
	g->fs = guest->fs;
	g->gs = guest->gs;
	g->fs_base = guest->fsbase;
	g->gs_base = guest->gsbase;
	vcpu->pkru = guest->pkru;
}

/* --- the synchronous signals ------------------------------------------- */

/*
 * A fault or trap raises its signal by force: if the host blocks it,
 * the kernel unblocks it, and if the host ignores or blocks it, resets
 * the process-wide handler to SIG_DFL; with a handler left at SIG_DFL
 * it also takes SIGNAL_UNKILLABLE from an init process.  Unblock them
 * for guest mode, and note which are ignored, and whether the process
 * is unkillable, so that the guest's signal changes none of it.
 *
 * One already pending for the thread while blocked stays blocked: it is
 * the host's, and unblocked it would end every run at once.
 */
static void unpriv_signals_to_guest(struct unpriv_host *h)
{
	struct k_sigaction *action = current->sighand->action;
	unsigned long unblock;

#define UNPRIV_IGNORED(sig) (action[(sig) - 1].sa.sa_handler == SIG_IGN)
	h->ignored = 0;
	if (unlikely(UNPRIV_IGNORED(SIGSEGV) || UNPRIV_IGNORED(SIGBUS) ||
		     UNPRIV_IGNORED(SIGILL) || UNPRIV_IGNORED(SIGTRAP) ||
		     UNPRIV_IGNORED(SIGFPE) || UNPRIV_IGNORED(SIGSYS))) {
		int sig;

		for (sig = 1; sig <= _NSIG_BPW; sig++)
			if ((sigmask(sig) & UNPRIV_SYNC_SIGNALS) &&
			    UNPRIV_IGNORED(sig))
				h->ignored |= sigmask(sig);
	}
#undef UNPRIV_IGNORED

	h->unkillable = current->signal->flags & SIGNAL_UNKILLABLE;
	h->blocked_changed = current->blocked.sig[0] & UNPRIV_SYNC_SIGNALS;
	if (h->blocked_changed) {
		spin_lock_irq(&current->sighand->siglock);
		h->blocked = current->blocked;
		unblock = UNPRIV_SYNC_SIGNALS &
			  ~current->pending.signal.sig[0];
		sigdelsetmask(&current->blocked, unblock);
		recalc_sigpending();
		spin_unlock_irq(&current->sighand->siglock);
	}
}

static void unpriv_signals_to_host(struct unpriv_host *h)
{
	if (h->blocked_changed) {
		spin_lock_irq(&current->sighand->siglock);
		current->blocked = h->blocked;
		recalc_sigpending();
		spin_unlock_irq(&current->sighand->siglock);
	}
}

/* --- entering and leaving guest mode ---------------------------------- */

static void unpriv_sud_to_host(struct unpriv_host *h)
{
	current->syscall_dispatch = h->sud;
	if (!h->sud_on)
		clear_task_syscall_work(current, SYSCALL_USER_DISPATCH);
}

/*
 * Swap the thread's user registers, mm and per-thread state for the
 * guest's.  Fails, with nothing changed, on bad guest registers, or
 * with -EBUSY while hardware breakpoints are armed: they would apply to
 * guest code.  cpu_dr7 holds the running thread's (ptrace's and perf's,
 * set by the thread or by another task at any time until now, RUN's
 * own syscall-exit stop included) and the CPU's own.  One made by
 * another task (perf_event_open() with ptrace rights over the thread)
 * while the thread is in guest mode is not seen.
 */
int unpriv_vcpu_switch_in(struct unpriv_vcpu *vcpu, struct pt_regs *regs)
{
	struct unpriv_cpu_segs *segs = &vcpu->segs;
	struct unpriv_host *h = &vcpu->host;
	int ret;

	/*
	 * Hardware breakpoints would apply to guest code.  RUN refused a
	 * thread with ptrace breakpoints, but a tracer may set some at
	 * RUN's own syscall-exit stop, after that check; and a perf
	 * breakpoint event on the thread is none of ptrace's.  What is
	 * armed on this CPU is the thread's, or a CPU-wide event's.
	 */
	if (unlikely(this_cpu_read(cpu_dr7) & DR_GLOBAL_ENABLE_MASK))
		return -EBUSY;

	h->regs = *regs;
	ret = unpriv_load_guest(&vcpu->run->regs, regs, segs);
	segs->pkru = vcpu->pkru;
	if (ret) {
		*regs = h->regs;
		return ret;
	}

	unpriv_signals_to_guest(h);
	/*
	 * A trap in guest mode sets it: unpriv_unqueued_sync_signal().  The
	 * host's was saved on RUN's way in (a re-run finds it as it was).
	 */
	current->thread.trap_nr = UNPRIV_NO_TRAP;
	h->mm = current->mm;

	/* Per-CPU state: FPU, segments, mm; the mm under task_lock. */
	if (!unpriv_fpu_is_own())
		fpu_swap_kvm_fpstate(&vcpu->fpu, true);
	task_lock(current);
	local_irq_disable();
	if (unpriv_fpu_is_own())
		unpriv_fpu_swap(&vcpu->fpu, true);
	unpriv_swap_segments_to_guest(vcpu, segs);
	unpriv_switch_mm_locked(vcpu->as->mm);
	/*
	 * The kernel would update rseq through the guest's mm: park it.
	 * Migrations while it is parked go unseen; leaving checks the CPU,
	 * read here, with no migration possible in between.  An update
	 * already due (a migration since the last return to user mode,
	 * which this exit to user mode would make, with rseq parked) is
	 * made on the way back.
	 */
	h->rseq = current->rseq;
	current->rseq = NULL;
	h->cpu = test_thread_flag(TIF_NOTIFY_RESUME) ? -1 : smp_processor_id();
	local_irq_enable();
	task_unlock(current);
	trace_unpriv_enter(regs->ip);
	return 0;
}

/*
 * Per-mm concurrency ids (CONFIG_SCHED_MM_CID, 6.12): each mm holds one
 * id per CPU, which the scheduler gives the task running its mm there,
 * from the task's mm of the moment, at every context switch; rseq shows
 * it to the program, which may index per-id data with it.  A switch in
 * guest mode gives the thread one of the address space's, and leaving
 * guest mode is no context switch: the thread takes its own mm's id for
 * this CPU again here, as the next switch would, on its own mm, with
 * interrupts off.  False when the mm holds none for the CPU (unset, or
 * freed by a scan of the mm while its thread was in guest mode): then
 * unpriv_mm_cid_get() takes one, with the runqueue lock.
 */
static __always_inline bool unpriv_mm_cid_reclaim(struct task_struct *t)
{
#ifdef CONFIG_SCHED_MM_CID
	int cid;

	if (!t->mm_cid_active)
		return true;
	cid = __this_cpu_read(t->mm->pcpu_cid->cid);
	if (!mm_cid_is_valid(cid))
		return false;
	if (t->mm_cid != cid) {
		t->mm_cid = cid;
		t->last_mm_cid = cid;
		rseq_set_notify_resume(t);
	}
#endif
	return true;
}

static void unpriv_mm_cid_get(struct task_struct *t)
{
#ifdef CONFIG_SCHED_MM_CID
	/* What exec does for the new mm: take the CPU's id, tell rseq. */
	static_call(unpriv_sched_mm_cid_after_execve)(t);
#endif
}

/* RUN did not get to the guest: return err from it. */
static void unpriv_vcpu_abort(struct unpriv_vcpu *vcpu, struct pt_regs *regs,
			      int err)
{
	unpriv_sud_to_host(&vcpu->host);
	unpriv_vcpu_put_old_as(vcpu);
	vcpu->run->exit_reason = UNPRIV_EXIT_INTR;
	regs->ax = err;
	unpriv_vcpu_release_idle(vcpu);
	unpriv_vcpu_put(vcpu);
}

/* RUN's way in, on the thread's way back to user mode after the ioctl. */
void unpriv_vcpu_enter(struct unpriv_vcpu *vcpu, struct pt_regs *regs)
{
	struct unpriv_host *h = &vcpu->host;
	int ret;

	/*
	 * As get_signal() does: clear the flag first, then look (a full
	 * barrier between), so that a kick or task work raised in between
	 * is either seen here or raises the flag again, which the exit loop
	 * then finds.  Looking first would erase it: the guest would run
	 * with a kick or task work pending and nothing to stop it.
	 */
	clear_notify_signal();
	if (unlikely(task_sigpending(current) || task_work_pending(current) ||
		     test_bit(UNPRIV_VCPU_KICKED, &vcpu->flags))) {
		/* Back to the kernel's own function, for task work too. */
		set_thread_flag(TIF_NOTIFY_SIGNAL);
		/*
		 * Task work alone, which the kernel runs on this same way
		 * out, right after this (resume_user_mode_work() runs all of
		 * it): let it, and enter on the next round, which the flag
		 * asks for.  The scheduler queues such work every 100 ms on
		 * 6.12 (the per-mm concurrency id scan): not worth an exit.
		 */
		if (!task_sigpending(current) &&
		    !test_bit(UNPRIV_VCPU_KICKED, &vcpu->flags) &&
		    test_thread_flag(TIF_NOTIFY_RESUME))
			return;
		clear_bit(UNPRIV_VCPU_KICKED, &vcpu->flags);
		unpriv_vcpu_abort(vcpu, regs, -EINTR);
		return;
	}

	h->sud_on = test_task_syscall_work(current, SYSCALL_USER_DISPATCH);
	/* What a re-run from the parked state finds as it was left. */
	h->trap_nr = current->thread.trap_nr;
	unpriv_tls_check(h);
	h->task = current;
	ret = unpriv_vcpu_switch_in(vcpu, regs);
	if (ret) {
		unpriv_vcpu_abort(vcpu, regs, ret);
		return;
	}
	set_task_syscall_work(current, SYSCALL_USER_DISPATCH);
	unpriv_vcpu_entered(vcpu);
}

/*
 * Back to host mode, with ret as what UNPRIV_RUN returns.  The thread
 * parks on the vcpu when its host program does not use dispatch itself;
 * otherwise it gets its own settings back and drops the vcpu, which may
 * free it.
 */
void unpriv_vcpu_leave(struct unpriv_vcpu *vcpu, struct pt_regs *regs,
		       int ret, u64 info)
{
	struct unpriv_host *h = &vcpu->host;
	bool park = !h->sud_on;
	bool cid_lost;

	trace_unpriv_exit(vcpu->run->exit_reason, regs->ip, info);

	unpriv_store_guest(&vcpu->run->regs, regs);
	task_lock(current);
	local_irq_disable();
	unpriv_switch_mm_locked(h->mm);
	/*
	 * Return predictions the guest left would steer the host's
	 * returns: overwrite them, as a context switch does (rsb.S).  An
	 * IBPB, where the thread or the system asks for one between
	 * processes, came with the switch of mm (cond_mitigation()).
	 */
	unpriv_fill_rsb();
	unpriv_swap_segments_to_host(vcpu);
	if (unpriv_fpu_is_own())
		unpriv_fpu_swap(&vcpu->fpu, false);
	/* A migration from here on refreshes rseq by itself. */
	current->rseq = h->rseq;
	if (h->cpu != smp_processor_id())
		rseq_set_notify_resume(current);
	cid_lost = !unpriv_mm_cid_reclaim(current);
	local_irq_enable();
	task_unlock(current);
	if (unlikely(cid_lost))
		unpriv_mm_cid_get(current);
	if (!unpriv_fpu_is_own())
		fpu_swap_kvm_fpstate(&vcpu->fpu, false);
	unpriv_signals_to_host(h);
	current->thread.trap_nr = h->trap_nr;
	unpriv_vcpu_put_old_as(vcpu);
	if (park)
		unpriv_sel_set_parked(vcpu);
	else
		unpriv_sud_to_host(h);

	*regs = h->regs;
	regs->ax = ret;
	/* From here on another thread may run the vcpu. */
	unpriv_vcpu_release_idle(vcpu);
	if (!park)
		unpriv_vcpu_put(vcpu);
}

