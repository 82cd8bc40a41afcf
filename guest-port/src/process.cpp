// SPDX-License-Identifier: GPL-2.0
//
// Processes: fork (clone, clone3, vfork), execve, exit, wait, the
// process tree (reparenting to init, zombies and reaping), process
// groups and sessions, and signals between processes with their
// default actions.  The locks are described in kernel.hpp.
#include <linux/sched.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

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
		if (parent.pending & sigbit(SIGKILL))
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
			return child->vfork_done || (parent.pending & sigbit(SIGKILL));
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
	p.pending = 0;
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
	if (p.parent) {
		const SigAction& a = p.parent->actions[SIGCHLD - 1];
		if (a.handler == reinterpret_cast<std::uint64_t>(SIG_IGN) ||
		    (a.flags & SA_NOCLDWAIT)) {
			// Nobody will wait: no zombie (this thread cannot join
			// itself: a later fork, or the end, does).
			unjoined_.push_back(release_locked(p));
		} else {
			notify_parent_locked(p, WIFEXITED(p.wait_status) ? CLD_EXITED : CLD_KILLED);
		}
	}
	running_--;
	all_done_.notify_all();
}

// The parent learns of a change in p: its wait wakes, and it gets p's
// exit signal (SIGCHLD) unless SA_NOCLDSTOP says not for a stop or a
// continue.
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
	if (signo)
		signal_locked(*parent, signo, p.pid);
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
			signal_locked(*p, signo, self.pid);
	return {};
}

void Kernel::signal_locked(Process& p, int signo, int from)
{
	if (p.state == Process::State::zombie)
		return;
	// Init takes from the guest's processes only the signals it has
	// handlers for, as a pid namespace's init does (SIGNAL_UNKILLABLE):
	// no guest process can stop or end the guest.  The guest port's own
	// (SIGPIPE, the end of the run) still reach it.
	if (&p == init_ && from && p.actions[signo - 1].handler == 0)
		return;
	const std::uint64_t stops = sigbit(SIGSTOP) | sigbit(SIGTSTP) | sigbit(SIGTTIN) |
				    sigbit(SIGTTOU);
	if (signo == SIGCONT || signo == SIGKILL) {
		p.pending &= ~stops;
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
		p.pending &= ~sigbit(SIGCONT);
	}

	// A signal that would be ignored is dropped when sent, unless it
	// is blocked (the mask or the action may change before it is
	// taken).
	const SigAction& a = p.actions[signo - 1];
	bool ignored = a.handler == reinterpret_cast<std::uint64_t>(SIG_IGN) ||
		       (a.handler == 0 && sig_default(signo) == SigDefault::ignore);
	if (ignored && signo != SIGKILL && signo != SIGSTOP && !(p.blocked & sigbit(signo)))
		return;
	p.pending |= sigbit(signo);
	p.pending_from[signo - 1] = from;
	if (p.deliverable() & sigbit(signo))
		interrupt_locked(p);
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
		std::uint64_t ready = p.deliverable();
		if (!ready)
			break;
		// SIGKILL first, then the lowest number, as Linux takes them.
		int signo = (ready & sigbit(SIGKILL)) ? SIGKILL : __builtin_ctzll(ready) + 1;
		p.pending &= ~sigbit(signo);
		SigAction a = p.actions[signo - 1];
		if (a.handler == reinterpret_cast<std::uint64_t>(SIG_IGN) && signo != SIGKILL &&
		    signo != SIGSTOP)
			continue;
		if (a.handler > 1 && signo != SIGKILL && signo != SIGSTOP) {
			int from = p.pending_from[signo - 1];
			std::uint64_t old = t.saved_mask.value_or(p.blocked);
			t.saved_mask.reset();
			p.blocked |= a.mask | ((a.flags & SA_NODEFER) ? 0 : sigbit(signo));
			p.blocked &= ~(sigbit(SIGKILL) | sigbit(SIGSTOP));
			if (a.flags & SA_RESETHAND)
				p.actions[signo - 1] = {};
			lock.unlock();
			finish_restart(t, &a);
			setup_frame(t, signo, a, old, from);
			return;
		}
		switch (signo == SIGKILL ? SigDefault::terminate : sig_default(signo)) {
		case SigDefault::ignore:
			continue;
		case SigDefault::stop:
			stop_locked(p, signo, lock);
			continue;
		case SigDefault::terminate:
		case SigDefault::core:
			lock.unlock();
			if (tracer_)
				tracer_->signal(signo, SI_USER, 0);
			p.kill(signo);
			return;
		}
	}
	lock.unlock();
	finish_restart(t, nullptr);
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
		return p.state != Process::State::stopped || (p.pending & sigbit(SIGKILL));
	});
}

// A system call a signal interrupted: restarted when no handler runs,
// or one with SA_RESTART does (ERESTARTSYS); EINTR otherwise.
void Kernel::finish_restart(Task& t, const SigAction *handler)
{
	if (!t.restart)
		return;
	bool again = !handler || (t.restart == -erestartsys && (handler->flags & SA_RESTART));
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
	t.regs().rax = t.syscall_nr;
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
	return self.pid;
}

std::size_t Kernel::nr_processes()
{
	std::lock_guard lock(tasks_lock_);
	return procs_.size();
}

} // namespace guest
