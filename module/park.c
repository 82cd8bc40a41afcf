// SPDX-License-Identifier: GPL-2.0
/*
 * unpriv: a thread parked on its vcpu, and the fast re-run.
 *
 * Leaving guest mode, a thread whose host program does not use Syscall
 * User Dispatch itself stays parked on the vcpu: its dispatch stays
 * armed, with the vcpu and UNPRIV_SEL_PARKED in the selector.  Its next
 * system call then comes to unpriv_vcpu_rerun() first.  When that is
 * UNPRIV_RUN of the same vcpu with the same address space, and nothing
 * else watches the thread's system calls (ptrace, seccomp, audit and
 * syscall tracepoints would all miss it), the guest is entered right
 * there and the ioctl does not run: no fd lookup, no LSM hook, no extra
 * pass through the exit-to-user loop, a third of a round trip.  Anything
 * else unparks the thread and runs as usual; so does a signal.
 */
#include <linux/fdtable.h>
#include <linux/sched/signal.h>
#include <linux/task_work.h>
#include <asm/syscall.h>

#include "vcpu.h"

/*
 * The thread leaves the vcpu it is parked on: its dispatch settings go
 * back to what a thread that never set any has.  Only a thread whose
 * host program had dispatch off parks, and with it off, the kernel
 * looks at none of them.
 */
void unpriv_vcpu_unpark(struct unpriv_vcpu *vcpu)
{
	clear_task_syscall_work(current, SYSCALL_USER_DISPATCH);
	memset(&current->syscall_dispatch, 0, sizeof(current->syscall_dispatch));
	unpriv_vcpu_put(vcpu);
}

/*
 * Whether a parked thread's system call can run the guest again at
 * once: a 64-bit ioctl(fd, UNPRIV_RUN, as_fd) on the vcpu it is parked
 * on, and nothing but guest mode's dispatch watches the thread's system
 * calls (ptrace, seccomp, audit and tracepoints must see every RUN).
 */
static bool unpriv_vcpu_is_rerun(const struct pt_regs *regs)
{
	return regs->orig_ax == __NR_ioctl && (u32)regs->si == UNPRIV_RUN &&
	       regs->dx <= INT_MAX && !in_ia32_syscall() &&
	       READ_ONCE(current_thread_info()->syscall_work) ==
	       SYSCALL_WORK_SYSCALL_USER_DISPATCH;
}

/*
 * Whether the claimed vcpu can be entered here, in the address space it
 * ran in last, or RUN must take its usual way (which binds the address
 * space and reports immediate_exit and pending signals; a kick is
 * caught later).  The fd table as unpriv_vcpu_rerun() says.
 *
 * unpriv_vcpu_check_thread() need not be repeated: only the thread
 * itself, by a system call, gets an I/O bitmap, and hardware
 * breakpoints are looked for again by unpriv_vcpu_switch_in().  Nor
 * need the TLS check and the trap number, which the vcpu keeps from
 * RUN's way in, as long as that was this thread's: when another thread
 * ran the vcpu since, they are that thread's.
 */
static bool unpriv_vcpu_rerun_ok(struct unpriv_vcpu *vcpu,
				 const struct pt_regs *regs,
				 struct files_struct *files)
{
	return !READ_ONCE(vcpu->run->immediate_exit) &&
	       !task_sigpending(current) && !task_work_pending(current) &&
	       !test_thread_flag(TIF_NOTIFY_SIGNAL) &&
	       vcpu->host.task == current && vcpu->as_file &&
	       files_lookup_fd_raw(files, regs->dx) == vcpu->as_file;
}

/*
 * A system call of a thread parked on vcpu: UNPRIV_RUN enters the guest
 * right here, skipping the system call (true); anything else unparks the
 * thread and runs as usual (false).
 */
bool unpriv_vcpu_rerun(struct unpriv_vcpu *vcpu, struct pt_regs *regs)
{
	struct files_struct *files = current->files;
	bool claimed, shared;
	int ret;

	if (!unpriv_vcpu_is_rerun(regs))
		goto unpark;
	/*
	 * The fds are only compared with the vcpu's files.  A table no
	 * other task shares changes only by this thread's system calls, as
	 * __fget_light() knows; a shared one is read under RCU.
	 */
	shared = atomic_read_acquire(&files->count) != 1;
	if (shared)
		rcu_read_lock();
	claimed = files_lookup_fd_raw(files, (u32)regs->di) == vcpu->file &&
		  unpriv_vcpu_claim(vcpu, UNPRIV_VCPU_GUEST);
	if (claimed && !unpriv_vcpu_rerun_ok(vcpu, regs, files)) {
		unpriv_vcpu_release_idle(vcpu);
		claimed = false;
	}
	if (shared)
		rcu_read_unlock();
	if (!claimed)
		goto unpark;

	/* As RUN and UNPRIV_KICK do: see unpriv_vcpu_kick(). */
	WRITE_ONCE(vcpu->task, current);
	if (test_and_clear_bit(UNPRIV_VCPU_KICKED, &vcpu->flags)) {
		ret = -EINTR;
		goto out;
	}
	unpriv_sel_set_vcpu(vcpu);
	vcpu->host.sud_on = false;
	ret = unpriv_vcpu_switch_in(vcpu, regs);
	if (!ret)
		goto skip;
	unpriv_sel_set_parked(vcpu);
out:
	vcpu->run->exit_reason = UNPRIV_EXIT_INTR;
	regs->ax = ret;
	unpriv_vcpu_release_idle(vcpu);
skip:
	/* As for a call syscall_user_dispatch() takes: see exit.c. */
	current->syscall_dispatch.on_dispatch = true;
	return true;

unpark:
	unpriv_vcpu_unpark(vcpu);
	return false;
}

