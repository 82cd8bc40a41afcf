// SPDX-License-Identifier: GPL-2.0
//
// Processes: fork (clone, clone3, vfork), execve, exit, wait, the
// process tree (reparenting to init, zombies and reaping), process
// groups and sessions, and signals between processes with their
// default actions.  The locks are described in kernel.hpp.
#include <linux/sched.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdio>

#include "kernel.hpp"
#include "loader/exec.hpp"

namespace guest {
namespace {

constexpr int pid_max = 4194304;	// kernel.pid_max on 64-bit

// What clone() may be asked for a new process; CLONE_VM, CLONE_THREAD,
// CLONE_SIGHAND, CLONE_FILES, CLONE_FS and the namespaces share what a
// guest process does not share yet (EINVAL).
constexpr std::uint64_t clone_process_flags =
	CLONE_VFORK | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID |
	CLONE_SETTLS | CLONE_PARENT | CLONE_DETACHED;

} // namespace

// --- fork -------------------------------------------------------------------

KResult<int> Kernel::clone(Task& t, const CloneArgs& args)
{
	if (args.flags & ~clone_process_flags)
		return kerr(EINVAL);
	if (args.exit_signal < 0 || args.exit_signal > nsig)
		return kerr(EINVAL);
	Process& parent = t.process();

	std::shared_ptr<Process> child;
	{
		std::lock_guard lock(tasks_lock_);
		// A parent on its way out makes no child: one made now would
		// miss the SIGKILL that ends everyone when init goes.
		if (parent.pending.set & sigbit(SIGKILL))
			return kerr(static_cast<int>(erestartsys));
		if (procs_.size() >= config_.max_procs)
			return kerr(EAGAIN);
		int pid = last_pid_;
		do
			pid = pid >= pid_max ? 2 : pid + 1;
		while (procs_.count(pid));
		last_pid_ = pid;
		forks_++;
		child = std::make_shared<Process>(pid, parent);
		Process *tree_parent = (args.flags & CLONE_PARENT) && parent.parent
					       ? parent.parent : &parent;
		child->parent = tree_parent;
		child->exit_signal = args.exit_signal;
		tree_parent->children.push_back(child.get());
		procs_.emplace(pid, child);
		running_++;
	}
	// Threads released since the last fork end now.
	std::vector<std::thread> finished;
	{
		std::lock_guard lock(tasks_lock_);
		finished.swap(unjoined_);
	}
	for (auto& th : finished)
		th.join();

	std::vector<std::byte> fpu(t.vcpu().fpu_size());
	int err = 0;
	if (auto r = t.vcpu().get_fpu(fpu); !r)
		err = ENOMEM;
	std::promise<int> started;
	auto ready = started.get_future();
	if (!err) {
		try {
			child->host_thread = std::thread(&Kernel::child_main, this, child,
							 std::ref(parent), t.regs(), std::move(fpu),
							 args, std::move(started));
			err = ready.get();
		} catch (const std::system_error&) {
			err = EAGAIN;
		}
	}
	if (err) {
		std::thread th;
		{
			std::lock_guard lock(tasks_lock_);
			if (!child->host_thread.joinable())
				running_--;
			th = release_locked(*child);
		}
		if (th.joinable())
			th.join();
		return kerr(err);
	}

	if (args.flags & CLONE_PARENT_SETTID)
		(void)t.mm().write_obj<int>(args.parent_tid, child->pid);
	if (args.flags & CLONE_VFORK) {
		// The parent sleeps until the child execs or exits: killable,
		// as Linux's wait_for_vfork_done().
		std::unique_lock lock(tasks_lock_);
		parent.wake.wait(lock, [&] {
			return child->vfork_done || (parent.pending.set & sigbit(SIGKILL));
		});
	}
	return child->pid;
}

void Kernel::child_main(std::shared_ptr<Process> child, Process& parent, unpriv::Regs regs,
			std::vector<std::byte> fpu, CloneArgs args, std::promise<int> start)
{
	// Made here: ptrace's address space is its maker thread's.
	auto as = backend_->create_address_space();
	auto vcpu = as ? backend_->create_vcpu() : tl::unexpected(as.error());
	if (!as || !vcpu) {
		std::fprintf(stderr, "unpriv-run: cannot make a process: %s\n",
			     (as ? vcpu.error() : as.error()).message().c_str());
		std::lock_guard lock(tasks_lock_);
		running_--;
		all_done_.notify_all();
		start.set_value(EAGAIN);
		return;
	}
	auto mm = parent.mm().fork(std::move(*as));
	if (!mm) {
		std::lock_guard lock(tasks_lock_);
		running_--;
		all_done_.notify_all();
		start.set_value(mm.error());
		return;
	}
	child->replace_mm(std::move(*mm));
	child->vsize = child->mm().size();
	Task t(*this, *child, std::move(*vcpu), child->pid);
	(void)t.vcpu().set_fpu(fpu);
	regs.rax = 0;
	if (args.stack)
		regs.rsp = args.stack;
	if (args.flags & CLONE_SETTLS)
		regs.fs_base = args.tls;
	t.regs() = regs;
	if (args.flags & CLONE_CHILD_SETTID)
		(void)t.mm().write_obj<int>(args.child_tid, child->pid);
	if (args.flags & CLONE_CHILD_CLEARTID)
		t.clear_child_tid = args.child_tid;
	{
		std::lock_guard lock(tasks_lock_);
		// The parent's alternate signal stack is the child's too
		// (the parent waits in clone() meanwhile).
		if (const Task *pt = parent.task) {
			t.sas_sp = pt->sas_sp;
			t.sas_size = pt->sas_size;
			t.sas_flags = pt->sas_flags;
		}
		child->task = &t;
		child->host_id = pthread_self();
		child->host_running = true;
		note_host_locked(*child);
		child->vfork_done = !(args.flags & CLONE_VFORK);
	}
	// From here the parent may run again, and is gone for us.
	start.set_value(0);
	run_task(t);
}

// --- execve -----------------------------------------------------------------

KResult<void> Kernel::execve(Task& t, const std::string& path, std::vector<std::string> argv,
			     std::vector<std::string> envp)
{
	Process& p = t.process();
	auto as = backend_->create_address_space();
	if (!as)
		return kerr(ENOMEM);
	auto vcpu = backend_->create_vcpu();
	if (!vcpu)
		return kerr(ENOMEM);
	std::vector<AddrRange> reserved;
	if (auto r = backend_->reserved(); !r.empty())
		reserved.push_back({r.start, r.end});

	// The new program goes into new memory; the old stays until it
	// has loaded, for a failed exec returns to it.
	auto old = p.replace_mm(std::make_unique<Mm>(*phys_, std::move(*as), std::move(reserved)));
	unpriv::Regs regs = t.regs();
	auto r = exec(t, path, std::move(argv), std::move(envp));
	if (!r) {
		{
			std::lock_guard lock(stats_lock_);
			mm_stats_ += p.mm().stats();
		}
		p.replace_mm(std::move(old));
		t.regs() = regs;
		return r;
	}
	{
		std::lock_guard lock(stats_lock_);
		mm_stats_ += old->stats();
	}
	note_exec(t);
	old.reset();
	t.replace_vcpu(std::move(*vcpu));

	// Close-on-exec descriptors close; caught signals go back to their
	// default action (ignored ones stay ignored).
	for (int fd : p.fds.fds())
		if (p.fds.cloexec(fd))
			(void)p.fds.close(fd);
	std::lock_guard lock(tasks_lock_);
	for (auto& a : p.actions)
		if (a.handler > 1)
			a = {};
	// The POSIX timers go (the interval timer stays), and the
	// alternate signal stack.
	p.timers.clear();
	t.sas_sp = t.sas_size = 0;
	t.sas_flags = SS_DISABLE;
	p.did_exec = true;
	if (!p.vfork_done) {
		p.vfork_done = true;
		if (p.parent)
			p.parent->wake.notify_all();
	}
	return {};
}

// --- exit -------------------------------------------------------------------

void Kernel::exit_process(Task& t)
{
	Process& p = t.process();

	{
		std::lock_guard lock(tasks_lock_);
		note_exit_locked(p);
	}
	// A zombie keeps its status only: the memory and the files go now
	// (the last writer of a pipe gone, its reader sees the end).
	p.fds = FdTable{};
	p.cwd.reset();
	{
		auto mm = p.replace_mm(nullptr);
		std::lock_guard lock(stats_lock_);
		stats_.merge(t.stats);
		if (mm)
			mm_stats_ += mm->stats();
	}

	std::lock_guard lock(tasks_lock_);
	p.host_running = false;
	p.task = nullptr;
	p.state = Process::State::zombie;
	p.pending = {};
	t.pending = {};
	p.timers.clear();
	p.real_timer = {};
	if (!p.vfork_done) {
		p.vfork_done = true;
		if (p.parent)
			p.parent->wake.notify_all();
	}

	// Children go to init; a zombie among them is init's to reap now.
	Process *reaper = init_ != &p ? init_ : nullptr;
	for (Process *c : p.children) {
		c->parent = reaper;
		if (!reaper)
			continue;
		reaper->children.push_back(c);
		if (c->state == Process::State::zombie)
			notify_parent_locked(*c, CLD_EXITED);
	}
	p.children.clear();

	if (&p == init_) {
		init_status_ = p.wait_status;
		init_ = nullptr;
	}
	if (p.sid == p.pid && p.ctty)
		disassociate_locked(p);
	if (p.parent) {
		const SigAction& a = p.parent->actions[SIGCHLD - 1];
		bool autoreap = a.handler == reinterpret_cast<std::uint64_t>(SIG_IGN) ||
				(a.flags & SA_NOCLDWAIT);
		// The parent's handler runs even so for SA_NOCLDWAIT.
		notify_parent_locked(p, !WIFEXITED(p.wait_status) ? CLD_KILLED : CLD_EXITED);
		// Nobody will wait: no zombie (this thread cannot join
		// itself: a later fork, or the end, does).
		if (autoreap && p.parent)
			unjoined_.push_back(release_locked(p));
	}
	running_--;
	all_done_.notify_all();
}

// The parent learns of a change in p: its wait wakes, and it gets p's
// exit signal (SIGCHLD) unless SA_NOCLDSTOP says not for a stop or a
// continue; the information says what changed (Linux's
// do_notify_parent() and do_notify_parent_cldstop()).
void Kernel::notify_parent_locked(Process& p, int why)
{
	Process *parent = p.parent;
	if (!parent)
		return;
	parent->wake.notify_all();
	bool exit = why == CLD_EXITED || why == CLD_KILLED || why == CLD_DUMPED;
	int signo = exit ? p.exit_signal : SIGCHLD;
	if (!exit && (parent->actions[SIGCHLD - 1].flags & SA_NOCLDSTOP))
		return;
	if (!signo)
		return;
	SigInfo info;
	info.signo = signo;
	info.code = why;
	info.f.chld.pid = p.pid;
	info.f.chld.uid = p.cred.ruid;
	switch (why) {
	case CLD_EXITED: info.f.chld.status = WEXITSTATUS(p.wait_status); break;
	case CLD_KILLED: case CLD_DUMPED: info.f.chld.status = WTERMSIG(p.wait_status); break;
	case CLD_STOPPED: info.f.chld.status = p.stop_signal; break;
	default: info.f.chld.status = SIGCONT; break;
	}
	// Its CPU time so far, in clock ticks (a zombie's is all there is).
	CpuTimes cpu = p.state == Process::State::zombie ? p.cpu_gone : cpu_now_locked(p);
	const std::int64_t ns_per_tick = 1000000000 / sysconf(_SC_CLK_TCK);
	info.f.chld.utime = cpu.user_ns / ns_per_tick;
	info.f.chld.stime = cpu.sys_ns / ns_per_tick;
	signal_locked(*parent, info, p.pid);
}

std::thread Kernel::release_locked(Process& p)
{
	if (p.parent) {
		auto& c = p.parent->children;
		c.erase(std::remove(c.begin(), c.end(), &p), c.end());
		p.parent->wake.notify_all();
	}
	p.parent = nullptr;
	reaped_cpu_ += p.cpu_gone;
	std::thread th = std::move(p.host_thread);
	procs_.erase(p.pid);	// may be the last reference to p
	return th;
}

// --- wait -------------------------------------------------------------------

KResult<Kernel::WaitResult> Kernel::wait(Task& t, int idtype, int id, int options)
{
	Process& p = t.process();
	std::unique_lock lock(tasks_lock_);
	int pgid = idtype == P_PGID && id == 0 ? p.pgid : id;

	for (;;) {
		bool any = false;
		for (Process *c : p.children) {
			if ((idtype == P_PID && c->pid != id) || (idtype == P_PGID && c->pgid != pgid))
				continue;
			// __WCLONE waits for the children that do not send
			// SIGCHLD, no flag for those that do, __WALL for both.
			if (!(options & __WALL) && ((c->exit_signal != SIGCHLD) != !!(options & __WCLONE)))
				continue;
			any = true;
			WaitResult r{.pid = c->pid, .cpu = {}};
			if (c->state == Process::State::zombie && (options & WEXITED)) {
				r.status = c->wait_status;
				if (WIFEXITED(r.status)) {
					r.code = CLD_EXITED;
					r.value = WEXITSTATUS(r.status);
				} else {
					r.code = (r.status & 0x80) ? CLD_DUMPED : CLD_KILLED;
					r.value = WTERMSIG(r.status);
				}
				r.cpu = c->cpu_gone + c->cpu_children;
				if (!(options & WNOWAIT)) {
					p.cpu_children += r.cpu;
					std::thread th = release_locked(*c);
					lock.unlock();
					if (th.joinable())
						th.join();
				}
				return r;
			}
			if (c->state == Process::State::stopped && c->stop_unreported &&
			    (options & WSTOPPED)) {
				r.status = (c->stop_signal << 8) | 0x7f;
				r.code = CLD_STOPPED;
				r.value = c->stop_signal;
				if (!(options & WNOWAIT))
					c->stop_unreported = false;
				return r;
			}
			if (c->cont_unreported && (options & WCONTINUED)) {
				r.status = 0xffff;
				r.code = CLD_CONTINUED;
				r.value = SIGCONT;
				if (!(options & WNOWAIT))
					c->cont_unreported = false;
				return r;
			}
		}
		if (!any)
			return kerr(ECHILD);
		if (options & WNOHANG)
			return WaitResult{};
		if (p.deliverable())
			return kerr(static_cast<int>(erestartsys));
		p.wake.wait(lock);
	}
}

// --- signals between processes ---------------------------------------------

Process *Kernel::find_locked(int pid)
{
	auto it = procs_.find(pid);
	return it != procs_.end() ? it->second.get() : nullptr;
}

KResult<void> Kernel::kill(Task& t, int pid, int signo)
{
	if (signo < 0 || signo > nsig)
		return kerr(EINVAL);
	if (pid == INT_MIN)
		return kerr(ESRCH);
	Process& self = t.process();
	std::lock_guard lock(tasks_lock_);
	std::vector<Process *> to;
	if (pid > 0) {
		if (Process *p = find_locked(pid))
			to.push_back(p);
	} else {
		int pgid = pid == 0 ? self.pgid : -pid;
		for (auto& [n, p] : procs_)
			if (pid == -1 ? (n > 1 && p.get() != &self) : p->pgid == pgid)
				to.push_back(p.get());
	}
	if (to.empty())
		return kerr(ESRCH);
	if (signo)
		for (Process *p : to)
			signal_locked(*p,
				      SigInfo::from_process(signo, SI_USER, self.pid, self.cred.ruid),
				      self.pid);
	return {};
}

KResult<void> Kernel::sigqueue(Task& t, int pid, const SigInfo& info)
{
	if (info.signo < 0 || info.signo > nsig)
		return kerr(EINVAL);
	Process& self = t.process();
	// Nobody may pretend to be the kernel or kill(), but to itself
	// (Linux's do_rt_sigqueueinfo()).
	if ((info.code >= 0 || info.code == SI_TKILL) && pid != self.pid)
		return kerr(EPERM);
	std::lock_guard lock(tasks_lock_);
	Process *p = find_locked(pid);
	if (!p)
		return kerr(ESRCH);
	if (!info.signo)
		return {};
	// A real-time signal past RLIMIT_SIGPENDING, or past what the
	// guest port keeps, is not queued.
	std::uint64_t room = std::min<std::uint64_t>(self.rlimits[RLIMIT_SIGPENDING].rlim_cur,
						      SigPending::max_queued_rt);
	if (info.signo >= sigrtmin && info.code < 0 && p->pending.queued_rt() >= room)
		return kerr(EAGAIN);
	signal_locked(*p, info, self.pid);
	return {};
}

bool Kernel::signal_locked(Process& p, const SigInfo& info, int from)
{
	const int signo = info.signo;
	if (p.state == Process::State::zombie)
		return false;
	// Init takes from the guest's processes only the signals it has
	// handlers for, as a pid namespace's init does (SIGNAL_UNKILLABLE):
	// no guest process can stop or end the guest.  The guest port's own
	// (SIGPIPE, the end of the run) still reach it.
	if (&p == init_ && from && p.actions[signo - 1].handler == 0 &&
	    !((p.blocked | p.real_blocked) & sigbit(signo)))
		return false;
	const std::uint64_t stops = sigbit(SIGSTOP) | sigbit(SIGTSTP) | sigbit(SIGTTIN) |
				    sigbit(SIGTTOU);
	if (signo == SIGCONT || signo == SIGKILL) {
		discard_locked(p, stops);
		if (p.state == Process::State::stopped) {
			p.state = Process::State::running;
			p.stop_unreported = false;
			if (signo == SIGCONT) {
				p.cont_unreported = true;
				notify_parent_locked(p, CLD_CONTINUED);
			}
			p.wake.notify_all();
		}
	} else if (sigbit(signo) & stops) {
		discard_locked(p, sigbit(SIGCONT));
	}

	// A signal that would be ignored is dropped when sent, unless it
	// is blocked (the mask or the action may change before it is
	// taken), or waited for by rt_sigtimedwait.
	const SigAction& a = p.actions[signo - 1];
	bool ignored = a.handler == reinterpret_cast<std::uint64_t>(SIG_IGN) ||
		       (a.handler == 0 && sig_default(signo) == SigDefault::ignore);
	if (ignored && signo != SIGKILL && signo != SIGSTOP &&
	    !((p.blocked | p.real_blocked) & sigbit(signo)))
		return false;
	if (!p.pending.add(info))
		return false;
	if (p.deliverable() & sigbit(signo))
		interrupt_locked(p);
	return true;
}

SigInfo Kernel::dequeue_locked(Process& p, SigPending& from, int signo)
{
	SigInfo info = from.take(signo);
	// A POSIX timer's signal: the expiries since it was queued.
	if (info.code == SI_TIMER) {
		auto it = p.timers.find(info.f.timer.tid);
		if (it != p.timers.end() && it->second.queued) {
			GuestTimer& tm = it->second;
			info.f.timer.overrun = tm.overrun;
			tm.last_overrun = tm.overrun;
			tm.overrun = 0;
			tm.queued = false;
		}
	}
	return info;
}

void Kernel::discard_locked(Process& p, std::uint64_t mask)
{
	p.pending.discard(mask);
	for (auto& [id, tm] : p.timers)
		if (tm.queued && (mask & sigbit(tm.signo)))
			tm.queued = false;
}

// Make p's thread look at its signals: out of a guest run (a kick), of
// a host call (interrupt_signal), of a wait on p.wake.
void Kernel::interrupt_locked(Process& p)
{
	p.wake.notify_all();
	if (!p.host_running)
		return;
	(void)p.task->vcpu().kick();
	pthread_kill(p.host_id, interrupt_signal);
}

// The run loop, before the guest runs: each deliverable signal's action.
void Kernel::handle_signals(Task& t)
{
	Process& p = t.process();
	std::unique_lock lock(tasks_lock_);
	for (;;) {
		// The thread's own synchronous signal first (force_signal()
		// made it deliverable), then SIGKILL, then the lowest number,
		// as Linux takes them.
		SigInfo info;
		bool sync = t.pending.set != 0;
		if (sync) {
			info = dequeue_locked(p, t.pending, __builtin_ctzll(t.pending.set) + 1);
		} else {
			std::uint64_t ready = p.deliverable();
			if (!ready)
				break;
			int n = (ready & sigbit(SIGKILL)) ? SIGKILL : __builtin_ctzll(ready) + 1;
			info = dequeue_locked(p, p.pending, n);
		}
		const int signo = info.signo;
		SigAction a = p.actions[signo - 1];
		if (a.handler == reinterpret_cast<std::uint64_t>(SIG_IGN) && signo != SIGKILL &&
		    signo != SIGSTOP)
			continue;
		if (a.handler > 1 && signo != SIGKILL && signo != SIGSTOP) {
			std::uint64_t old = t.saved_mask.value_or(p.blocked);
			t.saved_mask.reset();
			p.blocked |= a.mask | ((a.flags & SA_NODEFER) ? 0 : sigbit(signo));
			p.blocked &= ~(sigbit(SIGKILL) | sigbit(SIGSTOP));
			if (a.flags & SA_RESETHAND)
				p.actions[signo - 1] = {};
			lock.unlock();
			if (tracer_)
				tracer_->signal(p.pid, info);
			finish_restart(t, &a);
			setup_frame(t, info, a, old);
			// No frame could be written: the SIGSEGV that
			// force_signal() made for it, now.
			lock.lock();
			if (!t.pending.set)
				return;
			continue;
		}
		// One another process sent init while it was blocked:
		// ignored now, as it would have been when sent.
		if (&p == init_ && signo != SIGKILL && signo != SIGSTOP &&
		    (info.code == SI_USER || info.code == SI_QUEUE || info.code == SI_TKILL) &&
		    info.f.kill.pid != p.pid)
			continue;
		switch (signo == SIGKILL ? SigDefault::terminate : sig_default(signo)) {
		case SigDefault::ignore:
			continue;
		case SigDefault::stop:
			// The terminal's stop signals do not stop an orphaned
			// group: nobody would continue it.
			if (signo != SIGSTOP && orphaned_pgrp_locked(p.pgid))
				continue;
			stop_locked(p, signo, lock);
			continue;
		case SigDefault::terminate:
		case SigDefault::core:
			lock.unlock();
			if (tracer_)
				tracer_->signal(p.pid, info);
			// A fault or trap that nobody handles: the user is
			// told where, as a shell says "Segmentation fault".
			// The name is the guest's (PR_SET_NAME): escaped, as
			// --trace does.
			if (sync)
				std::fprintf(stderr, "unpriv-run: %s killed by %s at rip %#llx "
					     "(address %#llx)\n",
					     escape(p.comm).c_str(), signal_name(signo).c_str(),
					     static_cast<unsigned long long>(t.regs().rip),
					     static_cast<unsigned long long>(info.f.fault.addr));
			p.kill(signo);
			return;
		}
	}
	lock.unlock();
	finish_restart(t, nullptr);
}

// A synchronous signal of the thread's own instruction (a fault, a
// trap, a frame that cannot be written), Linux's force_sig_info(): a
// blocked or ignored one is unblocked and set back to its default
// action, which kills; reset says to do that anyway (force_sigsegv()
// for a handler that could not be run).
void Kernel::force_signal(Task& t, const SigInfo& info, bool reset)
{
	Process& p = t.process();
	std::lock_guard lock(tasks_lock_);
	SigAction& a = p.actions[info.signo - 1];
	bool blocked = p.blocked & sigbit(info.signo);
	if (blocked || reset || a.handler == reinterpret_cast<std::uint64_t>(SIG_IGN)) {
		a.handler = 0;
		p.blocked &= ~sigbit(info.signo);
	}
	t.pending.add(info);
}

void Kernel::force_fault(Task& t, int signo, int code, std::uint64_t addr)
{
	SigInfo info;
	info.signo = signo;
	info.code = code;
	info.f.fault.addr = addr;
	force_signal(t, info);
}

// A stop signal's default action: the parent is told, and the process
// sleeps until SIGCONT or SIGKILL.
void Kernel::stop_locked(Process& p, int signo, std::unique_lock<std::mutex>& lock)
{
	p.state = Process::State::stopped;
	p.stop_signal = signo;
	p.stop_unreported = true;
	p.cont_unreported = false;
	notify_parent_locked(p, CLD_STOPPED);
	p.wake.wait(lock, [&] {
		return p.state != Process::State::stopped || (p.pending.set & sigbit(SIGKILL));
	});
}

// A system call a signal interrupted: restarted when no handler runs,
// or one with SA_RESTART does (ERESTARTSYS); EINTR otherwise.
void Kernel::finish_restart(Task& t, const SigAction *handler)
{
	if (!t.restart)
		return;
	bool again = !handler || (t.restart == -erestartsys && (handler->flags & SA_RESTART));
	SysResult how = t.restart;
	t.restart = 0;
	if (!again) {
		t.regs().rax = static_cast<std::uint64_t>(-EINTR);
		return;
	}
	// rt_sigsuspend's mask was for the wait only.
	if (t.saved_mask) {
		std::lock_guard lock(tasks_lock_);
		t.process().blocked = *t.saved_mask;
		t.saved_mask.reset();
	}
	// -ERESTART_RESTARTBLOCK: restart_syscall() goes on with what
	// the call left in t.restart_block (a sleep's time left).
	t.regs().rax = how == -erestart_restartblock ? std::uint64_t{SYS_restart_syscall}
						      : t.syscall_nr;
	t.regs().rip -= 2;	// the syscall instruction, again
}

// --- process groups and sessions ------------------------------------------

int Kernel::ppid(Task& t)
{
	std::lock_guard lock(tasks_lock_);
	Process *parent = t.process().parent;
	return parent ? parent->pid : 0;
}

KResult<int> Kernel::pgid_of(Task& t, int pid)
{
	std::lock_guard lock(tasks_lock_);
	Process *p = pid ? find_locked(pid) : &t.process();
	if (!p)
		return kerr(ESRCH);
	return p->pgid;
}

KResult<int> Kernel::sid_of(Task& t, int pid)
{
	std::lock_guard lock(tasks_lock_);
	Process *p = pid ? find_locked(pid) : &t.process();
	if (!p)
		return kerr(ESRCH);
	return p->sid;
}

KResult<void> Kernel::setpgid(Task& t, int pid, int pgid)
{
	if (pgid < 0)
		return kerr(EINVAL);
	Process& self = t.process();
	std::lock_guard lock(tasks_lock_);
	Process *p = pid ? find_locked(pid) : &self;
	if (!p || (p != &self && p->parent != &self))
		return kerr(ESRCH);
	if (p != &self && p->did_exec)
		return kerr(EACCES);
	if (p->sid != self.sid || p->sid == p->pid)
		return kerr(EPERM);
	if (pgid == 0)
		pgid = p->pid;
	if (pgid != p->pid) {
		bool found = false;
		for (auto& [n, q] : procs_)
			found |= q->pgid == pgid && q->sid == self.sid;
		if (!found)
			return kerr(EPERM);
	}
	p->pgid = pgid;
	return {};
}

KResult<int> Kernel::setsid(Task& t)
{
	Process& self = t.process();
	std::lock_guard lock(tasks_lock_);
	for (auto& [n, q] : procs_)
		if (q->pgid == self.pid)
			return kerr(EPERM);
	self.sid = self.pgid = self.pid;
	self.ctty = 0;
	return self.pid;
}

std::size_t Kernel::nr_processes()
{
	std::lock_guard lock(tasks_lock_);
	return procs_.size();
}

} // namespace guest
