// SPDX-License-Identifier: GPL-2.0
/*
 * unpriv: signals and exits.  The two kernel functions every way out of
 * guest mode passes (hooks.c) come here: a system call to
 * unpriv_vcpu_syscall() (unpriv.h), a signal (a fault's, a trap's, a
 * host's, a kick) to unpriv_vcpu_signal(), which also enters the guest
 * for RUN.  Each exit is recorded in the run page and the thread goes
 * back to host mode (switch.c).
 */
#include <linux/sched/signal.h>
#include <linux/uaccess.h>
#include <linux/uprobes.h>
#include <asm/syscall.h>
#include <asm/traps.h>

#include "stats.h"
#include "vcpu.h"
#include "compat.h"

/*
 * The kernel sends a trap's signal even when it cannot allocate the
 * signal's queue entry (GFP_ATOMIC, under memory pressure): the signal
 * is then a pending bit alone, and dequeue_signal() makes up SI_USER
 * details for it.  A synchronous signal pending for the thread with no
 * queue entry is the guest's when the guest trapped since it entered,
 * as the caller checks (a host thread's tkill() of one, unqueued too,
 * while the guest did not trap, stays the host's).  Called with the
 * siglock held.
 */
static int unpriv_unqueued_sync_signal(void)
{
	unsigned long bare = current->pending.signal.sig[0] & UNPRIV_SYNC_SIGNALS;
	struct sigqueue *q;

	list_for_each_entry(q, &current->pending.list, list)
		bare &= ~sigmask(q->info.si_signo);
	return bare ? __ffs(bare) + 1 : 0;
}

/*
 * Whether a queued signal is one a guest fault or trap raised: a
 * synchronous signal the kernel sent, while the guest trapped since it
 * entered (the trap handlers set thread.trap_nr), and none of those the
 * kernel sends for other reasons: a perf event's SIGTRAP, a memory
 * error's early notice (BUS_MCEERR_AO, for a page found poisoned by a
 * scan or another access), which are the host's.  A guest access to a
 * poisoned page is a page fault of the guest's: BUS_MCEERR_AR.
 */
static bool unpriv_is_guest_signal(const kernel_siginfo_t *info)
{
	int sig = info->si_signo;

	if (!(sigmask(sig) & UNPRIV_SYNC_SIGNALS) || !SI_FROMKERNEL(info))
		return false;
	if (sig == SIGTRAP && info->si_code == TRAP_PERF)
		return false;
	if (sig == SIGBUS && info->si_code == BUS_MCEERR_AO)
		return false;
	return true;
}

/*
 * Take the signal a guest fault or trap raised off the thread's queue.
 * Host signals stay.  What forcing the signal changed in the process
 * (an ignored signal's handler reset to SIG_DFL, an init process made
 * killable) is undone; a handler a sibling installed meanwhile stays.
 */
static int unpriv_take_guest_signal(struct unpriv_host *h,
				    kernel_siginfo_t *info)
{
	struct sighand_struct *sighand = current->sighand;
	struct k_sigaction *action;
	struct sigqueue *q;
	enum pid_type type;
	sigset_t mask;
	int sig = 0;

	if (current->thread.trap_nr == UNPRIV_NO_TRAP)
		return 0;
	spin_lock_irq(&sighand->siglock);
	list_for_each_entry(q, &current->pending.list, list) {
		if (unpriv_is_guest_signal(&q->info)) {
			sig = q->info.si_signo;
			break;
		}
	}
	if (!sig)
		sig = unpriv_unqueued_sync_signal();
	if (sig) {
		siginitsetinv(&mask, sigmask(sig));
		sig = unpriv_dequeue_signal(&mask, info, &type);
	}
	if (sig) {
		action = &sighand->action[sig - 1];
		if ((h->ignored & sigmask(sig)) &&
		    action->sa.sa_handler == SIG_DFL)
			action->sa.sa_handler = SIG_IGN;
		if (h->unkillable)
			current->signal->flags |= SIGNAL_UNKILLABLE;
	}
	spin_unlock_irq(&sighand->siglock);
	return sig;
}

static void unpriv_exit_fault(struct unpriv_vcpu *vcpu,
			      const kernel_siginfo_t *info)
{
	struct thread_struct *t = &current->thread;
	struct unpriv_run *run = vcpu->run;

	if (t->trap_nr == X86_TRAP_PF &&
	    (info->si_signo == SIGSEGV || info->si_signo == SIGBUS)) {
		run->exit_reason = UNPRIV_EXIT_FAULT;
		run->fault.address = t->cr2;
		run->fault.error_code = t->error_code;
		run->fault.trap = X86_TRAP_PF;
		run->fault.signo = info->si_signo;
		run->fault.si_code = info->si_code;
		run->fault.padding = 0;
		unpriv_stats_exit(vcpu, UNPRIV_STAT_EXITS_FAULT);
		return;
	}
	unpriv_stats_exit(vcpu, UNPRIV_STAT_EXITS_TRAP);
	run->exit_reason = UNPRIV_EXIT_TRAP;
	run->trap.trap = t->trap_nr;
	run->trap.signo = info->si_signo;
	run->trap.si_code = info->si_code;
	run->trap.padding = 0;
	run->trap.address = (unsigned long)info->si_addr;
	run->trap.error_code = t->error_code;
	run->trap.dr6 = t->trap_nr == X86_TRAP_DB ? t->virtual_dr6 : 0;
	t->virtual_dr6 = 0;
}

/*
 * syscall_user_dispatch(), redirected (through unpriv_vcpu_syscall()),
 * for a thread in guest mode: its system call is the exit.
 */
void unpriv_vcpu_exit_syscall(struct unpriv_vcpu *vcpu, struct pt_regs *regs)
{
	struct unpriv_run *run = vcpu->run;
	u16 insn;

	unpriv_stats_exit(vcpu, UNPRIV_STAT_EXITS_SYSCALL);
	run->exit_reason = UNPRIV_EXIT_SYSCALL;
	if (in_ia32_syscall()) {
		run->syscall.nr = (u32)regs->orig_ax;
		run->syscall.args[0] = (u32)regs->bx;
		run->syscall.args[1] = (u32)regs->cx;
		run->syscall.args[2] = (u32)regs->dx;
		run->syscall.args[3] = (u32)regs->si;
		run->syscall.args[4] = (u32)regs->di;
		run->syscall.args[5] = (u32)regs->bp;
		run->syscall.compat = 1;
		/*
		 * int $0x80 leaves rip after itself; sysenter and 32-bit
		 * syscall leave it at the (absent) vDSO's landing pad.
		 */
		if (regs->ip >= 2 && !get_user(insn, (u16 __user *)(regs->ip - 2)) &&
		    insn == 0x80cd)
			run->syscall.insn = UNPRIV_SYSCALL_INSN_INT80;
		else
			run->syscall.insn = UNPRIV_SYSCALL_INSN_FAST32;
	} else {
		run->syscall.nr = regs->orig_ax;
		run->syscall.args[0] = regs->di;
		run->syscall.args[1] = regs->si;
		run->syscall.args[2] = regs->dx;
		run->syscall.args[3] = regs->r10;
		run->syscall.args[4] = regs->r8;
		run->syscall.args[5] = regs->r9;
		run->syscall.compat = 0;
		run->syscall.insn = UNPRIV_SYSCALL_INSN_SYSCALL;
	}
	regs->ax = run->syscall.nr;
	unpriv_vcpu_leave(vcpu, regs, 0, run->syscall.nr);
	/*
	 * Dispatch stays armed, the host's or guest mode's: as for a call
	 * syscall_user_dispatch() takes, its exit work reports nothing to
	 * tracers, which did not see it enter either.
	 */
	current->syscall_dispatch.on_dispatch = true;
}

/*
 * A uprobe on guest code steps the probed instruction out of line, in a
 * slot of an area the kernel adds to the guest's mm, with TF set; the
 * thread's uprobe_task holds the step.  An exit in the middle of it (the
 * stepped instruction faults, or a signal or kick comes first) would
 * leave the guest at that slot and take the step to host mode, where
 * uprobe_deny_signal() would hold back the host's signals and a host
 * fault would abort the step onto the host's registers.  So the step is
 * aborted first, in guest mode, as get_signal() does for a fatal signal:
 * the guest is put back at the probed instruction, which hits the probe
 * again when it next runs.  The kernel aborts it on the way out once
 * TIF_UPROBE is set, then calls arch_do_signal_or_restart() again, for
 * TIF_NOTIFY_SIGNAL.  Returns true when the exit has to wait for that.
 */
static bool unpriv_uprobe_abort_step(void)
{
#ifdef CONFIG_UPROBES
	struct uprobe_task *utask = current->utask;

	if (likely(!utask || !utask->active_uprobe))
		return false;
	utask->state = UTASK_SSTEP_TRAPPED;
	set_thread_flag(TIF_UPROBE);
	set_thread_flag(TIF_NOTIFY_SIGNAL);
	return true;
#else
	return false;
#endif
}

/*
 * arch_do_signal_or_restart(), redirected: the thread is on its way to
 * user mode, entering guest mode, in it or parked, with a signal or
 * notification pending.
 */
void unpriv_vcpu_signal(unsigned long sel, struct pt_regs *regs)
{
	struct unpriv_vcpu *vcpu = unpriv_sel_vcpu(sel);
	struct unpriv_run *run = vcpu->run;
	kernel_siginfo_t info;
	int ret = 0;
	u64 what = 0;

	/*
	 * Whatever brought the thread here that is the host's (a signal,
	 * task work) is left pending: the kernel's exit loop calls
	 * arch_do_signal_or_restart() again while it is, and with the
	 * thread in host mode and unparked, runs its own.  Never called
	 * from here: it may sleep, and the vcpu reference that held the
	 * module may be gone (vcpu.h).
	 */
	if (sel & UNPRIV_SEL_PARKED) {
		unpriv_vcpu_unpark(vcpu);
		return;
	}
	if (unpriv_vcpu_phase(vcpu) == UNPRIV_VCPU_ENTERING) {
		unpriv_vcpu_enter(vcpu, regs);
		return;
	}

	if (test_and_clear_bit(UNPRIV_VCPU_EXIT_TAKEN, &vcpu->flags)) {
		/* Taken before a uprobe step was aborted (just below). */
		ret = vcpu->exit_ret;
		what = vcpu->exit_info;
	} else if (unpriv_take_guest_signal(&vcpu->host, &info)) {
		unpriv_exit_fault(vcpu, &info);
		what = run->exit_reason == UNPRIV_EXIT_FAULT ?
		       run->fault.address : run->trap.trap;
	} else {
		unpriv_stats_exit(vcpu, UNPRIV_STAT_EXITS_INTR);
		run->exit_reason = UNPRIV_EXIT_INTR;
		clear_bit(UNPRIV_VCPU_KICKED, &vcpu->flags);
		ret = -EINTR;
	}
	/* The fault's details are taken: aborting the step changes them. */
	if (unlikely(unpriv_uprobe_abort_step())) {
		vcpu->exit_ret = ret;
		vcpu->exit_info = what;
		set_bit(UNPRIV_VCPU_EXIT_TAKEN, &vcpu->flags);
		return;
	}
	/* Host signals and task work: back here parked, then as above. */
	unpriv_vcpu_leave(vcpu, regs, ret, what);
}

