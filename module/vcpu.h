/* SPDX-License-Identifier: GPL-2.0 */
/*
 * unpriv: the vcpu's life cycle, shared by the files that implement it:
 *
 *   vcpu.c    the vcpu file and its ioctls (RUN claims, KICK, FPU)
 *   switch.c  the mode switch: registers, segments, TLS, FPU, mm, and
 *             the per-thread state set aside for guest mode
 *   exit.c    signals and exits: the two hooked functions' replacements
 *   park.c    a thread parked on its vcpu, and the fast re-run
 *
 * THE STATE MACHINE
 *
 * vcpu->state says who owns the vcpu; only the owner touches the rest of
 * it (registers, host state, address space binding):
 *
 *   IDLE      no owner.  The run page is userspace's.
 *   ENTERING  a thread called RUN; it enters the guest on its way back to
 *             user mode, in unpriv_vcpu_signal().  vcpu->task is set.
 *   GUEST     that thread is in guest mode.  vcpu->task is set.
 *   BUSY      an ioctl (GET_FPU, SET_FPU) reads or writes the vcpu.
 *
 * Transitions: one helper each, below; no other code writes the state
 * (but unpriv_vcpu_create(), which starts it IDLE).
 *
 *   from      to        event                      who            helper
 *   IDLE      ENTERING  UNPRIV_RUN                 the caller     claim
 *   IDLE      GUEST     RUN, from the parked state the parked     claim
 *                       (park.c: the fast re-run)  thread
 *   IDLE      BUSY      GET_FPU, SET_FPU           the caller     claim
 *   ENTERING  GUEST     guest entered              the owner      entered
 *   ENTERING  IDLE      RUN fails, or the entry    the owner      release_idle
 *                       is aborted (kick, signal,
 *                       bad registers)
 *   GUEST     IDLE      any exit, a refused or     the owner      release_idle
 *                       failed re-run
 *   BUSY      IDLE      the ioctl is done          the owner      release_idle
 *
 * Barriers: a claim is an ACQUIRE (a cmpxchg from IDLE), every return to
 * IDLE a RELEASE, so whatever one owner wrote into the vcpu is seen by
 * the next, on whichever thread.  ENTERING -> GUEST needs none: only the
 * owner moves the vcpu out of ENTERING, and nothing else waits for it.
 *
 * Beside the state, and following from it:
 *
 *  - The thread's side, in its Syscall User Dispatch selector (which
 *    guest mode owns from RUN to the exit; the host's settings are in
 *    vcpu->host.sud): the vcpu while ENTERING or GUEST; the vcpu with
 *    UNPRIV_SEL_PARKED once the thread left guest mode and stays parked
 *    on the vcpu (park.c), whatever state the vcpu is in by then.  A
 *    thread holds a reference to the vcpu's file from RUN until it is
 *    neither on the vcpu nor parked on it.  Written by the thread alone.
 *  - vcpu->host.sud_on: whether the host program uses dispatch itself,
 *    which decides, on the exit, between parking and giving the
 *    selector back.  The owner's, written at the entry.
 *  - vcpu->host.task: the thread whose host state (TLS check, trap
 *    number) vcpu->host holds, from RUN's way in.  A re-run by any other
 *    thread would find that thread's, and takes RUN's full way instead.
 *    Compared, never followed: a thread parks on a vcpu only after a
 *    full RUN of its own, which sets it, so an old thread's address
 *    reused by a new one cannot match.
 *  - UNPRIV_VCPU_KICKED in vcpu->flags: set by UNPRIV_KICK in any state,
 *    which then raises TIF_NOTIFY_SIGNAL on vcpu->task unless IDLE.
 *    Cleared by the owner when it turns the kick into -EINTR: at RUN, at
 *    the entry, at a re-run, at an INTR exit.  The kicker sets the bit
 *    and then reads vcpu->task (full barrier); the owner sets vcpu->task
 *    and then tests the bit (test_and_clear_bit() is fully ordered):
 *    either the owner sees the bit, or the kicker sees the thread.
 *  - TIF_NOTIFY_SIGNAL: raised by RUN (to reach unpriv_vcpu_signal()),
 *    by a kick and by task_work_add(TWA_SIGNAL).  The owner clears it on
 *    the way in as get_signal() does: first, and only then looks for
 *    signals, task work and kicks (clear_notify_signal() is followed by
 *    a full barrier), so that one raised in between is not erased.
 *  - UNPRIV_VCPU_EXIT_TAKEN in vcpu->flags: the owner's, in GUEST only
 *    (an exit held back while a uprobe step is aborted: exit.c).
 *
 * Module lifetime: a thread in module code holds a vcpu reference, and
 * with it the module, except on its way out after dropping it, which
 * never sleeps.  So module code never calls the kernel's
 * arch_do_signal_or_restart(), which may sleep (group stop, ptrace stop,
 * the freezer) and runs the task work whose final __fput() puts the
 * module: the thread returns to the kernel's exit loop, which calls it
 * again for whatever is still pending, from kernel text.
 */
#ifndef UNPRIV_VCPU_H
#define UNPRIV_VCPU_H

#include <linux/atomic.h>
#include <linux/file.h>

#include "unpriv.h"

/* vcpu->flags */
#define UNPRIV_VCPU_KICKED	0
#define UNPRIV_VCPU_EXIT_TAKEN	1	/* exit_ret and exit_info hold it */

/* The signals a fault or trap raises (kernel/signal.c's SYNCHRONOUS_MASK). */
#define UNPRIV_SYNC_SIGNALS \
	(sigmask(SIGSEGV) | sigmask(SIGBUS) | sigmask(SIGILL) | \
	 sigmask(SIGTRAP) | sigmask(SIGFPE) | sigmask(SIGSYS))

/* thread.trap_nr in guest mode until the guest traps: no vector */
#define UNPRIV_NO_TRAP		(~0UL)

/* --- the transitions: see the table above ------------------------------ */

static __always_inline int unpriv_vcpu_phase(struct unpriv_vcpu *vcpu)
{
	return atomic_read(&vcpu->state);
}

/* IDLE -> to (ENTERING, GUEST or BUSY); false when not IDLE. */
static __always_inline bool unpriv_vcpu_claim(struct unpriv_vcpu *vcpu, int to)
{
	return atomic_cmpxchg_acquire(&vcpu->state, UNPRIV_VCPU_IDLE, to) ==
	       UNPRIV_VCPU_IDLE;
}

/* ENTERING -> GUEST, by the owner. */
static __always_inline void unpriv_vcpu_entered(struct unpriv_vcpu *vcpu)
{
	atomic_set(&vcpu->state, UNPRIV_VCPU_GUEST);
}

/* ENTERING, GUEST or BUSY -> IDLE: another thread may then claim it. */
static __always_inline void unpriv_vcpu_release_idle(struct unpriv_vcpu *vcpu)
{
	WRITE_ONCE(vcpu->task, NULL);
	atomic_set_release(&vcpu->state, UNPRIV_VCPU_IDLE);
}

/* The thread's side: its selector. */
static __always_inline void unpriv_sel_set_vcpu(struct unpriv_vcpu *vcpu)
{
	current->syscall_dispatch.selector = (char __user *)vcpu;
}

static __always_inline void unpriv_sel_set_parked(struct unpriv_vcpu *vcpu)
{
	current->syscall_dispatch.selector =
		(char __user *)((unsigned long)vcpu | UNPRIV_SEL_PARKED);
}

/* --- references ---------------------------------------------------------- */

/* The thread is done with the vcpu: drop the reference RUN took. */
static __always_inline void unpriv_vcpu_put(struct unpriv_vcpu *vcpu)
{
	fput(vcpu->file);
}

/*
 * Let go of the address space the vcpu ran in before this RUN, in host
 * mode: when it was the last reference, the final fput() queues task
 * work, which would otherwise stop the entry with -EINTR (or run in
 * guest mode).
 */
static __always_inline void unpriv_vcpu_put_old_as(struct unpriv_vcpu *vcpu)
{
	if (vcpu->old_as_file) {
		fput(vcpu->old_as_file);
		vcpu->old_as_file = NULL;
	}
}

/* switch.c */
int unpriv_vcpu_switch_in(struct unpriv_vcpu *vcpu, struct pt_regs *regs);
void unpriv_vcpu_enter(struct unpriv_vcpu *vcpu, struct pt_regs *regs);
void unpriv_vcpu_leave(struct unpriv_vcpu *vcpu, struct pt_regs *regs,
		       int ret, u64 info);

/* park.c */
void unpriv_vcpu_unpark(struct unpriv_vcpu *vcpu);

#endif /* UNPRIV_VCPU_H */
