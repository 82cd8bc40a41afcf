// SPDX-License-Identifier: GPL-2.0
//
// Processes and threads: fork (clone, clone3, vfork), threads (clone
// with CLONE_THREAD), execve (de_thread), exit and exit_group, wait,
// the process tree (reparenting to init, zombies and reaping), process
// groups and sessions, and signals between processes and threads with
// their default actions.  The locks are described in kernel.hpp.
#include <linux/futex.h>
#include <linux/sched.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdio>

#include "host/thread.hpp"
#include "kernel.hpp"
#include "loader/exec.hpp"

namespace guest {
namespace {

constexpr int pid_max = 4194304;	// kernel.pid_max on 64-bit

// What clone() may be asked for.  The namespaces, CLONE_PIDFD and
// CLONE_CLEAR_SIGHAND are not here (EINVAL); CLONE_PTRACE (the guest
// has no tracer), CLONE_UNTRACED, CLONE_IO and CLONE_SYSVSEM (no
// System V semaphores) change nothing.
constexpr std::uint64_t clone_known =
	CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_PTRACE | CLONE_VFORK |
	CLONE_PARENT | CLONE_THREAD | CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID |
	CLONE_CHILD_CLEARTID | CLONE_DETACHED | CLONE_UNTRACED | CLONE_CHILD_SETTID | CLONE_IO;

// What unshare() may be asked for: what it unshares, and the
// namespaces it refuses (EPERM).
constexpr std::uint64_t unshare_namespaces =
	CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWUSER |
	CLONE_NEWPID | CLONE_NEWCGROUP | CLONE_NEWTIME;
constexpr std::uint64_t unshare_known =
	CLONE_THREAD | CLONE_FS | CLONE_SIGHAND | CLONE_VM | CLONE_FILES | CLONE_SYSVSEM |
	unshare_namespaces;

} // namespace

// --- fork and threads -------------------------------------------------------

int Kernel::alloc_pid_locked()
{
	int pid = last_pid_;
	do
		pid = pid >= pid_max ? 2 : pid + 1;
	while (procs_.count(pid) || tasks_.count(pid));
	last_pid_ = pid;
	return pid;
}

// Host threads of guest threads that have ended, released to
// unjoined_, are joined here, by the next clone, outside the lock.
void Kernel::join_released_threads()
{
	std::vector<std::thread> finished;
	{
		std::lock_guard lock(tasks_lock_);
		finished.swap(unjoined_);
	}
	for (auto& th : finished)
		th.join();
}

SysKResult<int> Kernel::clone(Task& t, const CloneArgs& args)
{
	// As Linux's copy_process() checks them.
	if ((args.flags & CLONE_THREAD) && !(args.flags & CLONE_SIGHAND))
		return kerr(EINVAL);
	if ((args.flags & CLONE_SIGHAND) && !(args.flags & CLONE_VM))
		return kerr(EINVAL);
	if (args.flags & ~clone_known)
		return kerr(EINVAL);
	if (args.exit_signal < 0 || args.exit_signal > nsig)
		return kerr(EINVAL);
	Process& parent = t.process();
	{
		// Init's siblings would be outside the guest (SIGNAL_UNKILLABLE).
		std::lock_guard lock(tasks_lock_);
		if ((args.flags & CLONE_PARENT) && &parent == init_)
			return kerr(EINVAL);
	}
	if (args.flags & CLONE_THREAD)
		return clone_thread(t, args);

	std::shared_ptr<Process> child;
	{
		std::lock_guard lock(tasks_lock_);
		// A parent on its way out makes no child: one made now would
		// miss the SIGKILL that ends everyone when init goes.
		if (killed_locked(t))
			return kerr(SysResult::restart_nointr());
		if (procs_.size() + nr_threads_ >= config_.max_procs)
			return kerr(EAGAIN);
		int pid = alloc_pid_locked();
		forks_++;
		child = std::make_shared<Process>(pid, parent);
		if (args.flags & CLONE_SIGHAND)
			child->sighand = parent.sighand;
		Process *tree_parent = (args.flags & CLONE_PARENT) && parent.parent
					       ? parent.parent : &parent;
		child->parent = tree_parent;
		child->exit_signal = args.exit_signal;
		if (args.flags & CLONE_VFORK)
			child->vfork_waiter = &parent;
		tree_parent->children.push_back(child.get());
		procs_.emplace(pid, child);
		running_++;
	}
	join_released_threads();

	std::vector<std::byte> fpu(t.vcpu().fpu_size());
	int err = 0;
	if (auto r = t.vcpu().get_fpu(fpu); !r)
		err = ENOMEM;
	std::promise<int> started;
	auto ready = started.get_future();
	std::shared_ptr<Mm> vm = (args.flags & CLONE_VM) ? parent.shared_mm() : nullptr;
	TaskFiles files = copy_files(t, args.flags);
	std::uint64_t blocked;
	{
		std::lock_guard lock(tasks_lock_);
		blocked = t.blocked;
	}
	AltStack sas{0, SS_DISABLE, 0};
	if ((args.flags & (CLONE_VM | CLONE_VFORK)) != CLONE_VM)
		sas = {t.sas_sp, t.sas_flags, t.sas_size};
	if (!err) {
		try {
			// Made with the lock held, so that it is in host_threads
			// before child_main can register the child: a child that
			// ran and exited before it was in there and was released
			// (SIGCHLD ignored, or another thread's wait) would leave
			// its host thread unjoined in a process on its way out,
			// and std::terminate with it.
			std::lock_guard lock(tasks_lock_);
			child->host_threads.emplace(
				child->pid,
				std::thread(&Kernel::child_main, this, child, std::ref(parent),
					    t.regs(), std::move(fpu), args, blocked, sas,
					    std::move(vm), std::move(files), std::move(started)));
		} catch (const std::system_error&) {
			err = EAGAIN;
		}
		if (!err)
			err = ready.get();
	}
	if (err) {
		std::vector<std::thread> ths;
		{
			std::lock_guard lock(tasks_lock_);
			if (child->host_threads.empty())
				running_--;
			ths = release_locked(*child);
		}
		for (auto& th : ths)
			th.join();
		return kerr(err);
	}

	if ((args.flags & CLONE_PARENT_SETTID) && !(args.flags & CLONE_VM))
		(void)t.mm().write_obj<int>(args.parent_tid, child->pid);
	if (args.flags & CLONE_VFORK) {
		// The parent sleeps until the child execs or exits: killable,
		// as Linux's wait_for_vfork_done().
		std::unique_lock lock(tasks_lock_);
		(void)block_locked(t, lock, parent.wake, {}, BlockBy::kill,
				   [&] { return child->vfork_done; });
		child->vfork_waiter = nullptr;
	}
	return child->pid;
}

void Kernel::child_main(std::shared_ptr<Process> child, Process& parent, unpriv::Regs regs,
			std::vector<std::byte> fpu, CloneArgs args, std::uint64_t blocked,
			AltStack sas, std::shared_ptr<Mm> vm, TaskFiles files,
			std::promise<int> start)
{
	auto fail = [&](int err) {
		std::lock_guard lock(tasks_lock_);
		running_--;
		all_done_.notify_all();
		start.set_value(err);
	};
	// Made here: ptrace's address space is its maker thread's.  A
	// CLONE_VM child shares the parent's memory, with a mirror of its
	// own where threads need one.
	std::optional<unpriv::AddressSpace> as;
	if (!vm || vm->per_thread()) {
		auto a = backend_->create_address_space();
		if (!a) {
			std::fprintf(stderr, "unpriv-run: cannot make a process: %s\n",
				     a.error().message().c_str());
			return fail(EAGAIN);
		}
		as.emplace(std::move(*a));
	}
	auto vcpu = backend_->create_vcpu();
	if (!vcpu) {
		std::fprintf(stderr, "unpriv-run: cannot make a process: %s\n",
			     vcpu.error().message().c_str());
		return fail(EAGAIN);
	}
	if (vm) {
		if (as) {
			if (auto r = vm->attach(std::move(*as)); !r)
				return fail(r.error());
		}
		child->replace_mm(std::move(vm));
	} else {
		auto mm = parent.mm().fork(std::move(*as));
		if (!mm)
			return fail(mm.error());
		child->replace_mm(std::move(*mm));
	}
	child->vsize = child->mm().size();
	Task t(*this, *child, std::move(*vcpu), child->pid, std::move(files.files),
	       std::move(files.fs));
	(void)t.vcpu().set_fpu(fpu);
	regs.rax = 0;
	if (args.stack)
		regs.rsp = args.stack;
	if (args.flags & CLONE_SETTLS)
		regs.fs_base = args.tls;
	t.regs() = regs;
	if ((args.flags & CLONE_PARENT_SETTID) && (args.flags & CLONE_VM))
		(void)t.mm().write_obj<int>(args.parent_tid, child->pid);
	if (args.flags & CLONE_CHILD_SETTID)
		(void)t.mm().write_obj<int>(args.child_tid, child->pid);
	if (args.flags & CLONE_CHILD_CLEARTID)
		t.clear_child_tid = args.child_tid;
	{
		std::lock_guard lock(tasks_lock_);
		// The parent's alternate signal stack, as copy_process()
		// leaves it (the clone() caller's; none for CLONE_VM without
		// CLONE_VFORK).
		t.sas_sp = sas.sp;
		t.sas_flags = sas.flags;
		t.sas_size = sas.size;
		t.blocked = blocked;
		t.host_id = pthread_self();
		t.host_running = true;
		child->tasks.push_back(&t);
		tasks_[t.tid] = &t;
		note_host_locked(*child);
		child->vfork_done = !(args.flags & CLONE_VFORK);
	}
	// From here the parent may run again, and is gone for us.
	start.set_value(0);
	run_task(t);
}

Kernel::TaskFiles Kernel::copy_files(Task& t, std::uint64_t flags)
{
	return {(flags & CLONE_FILES) ? t.shared_files() : std::make_shared<FdTable>(t.files()),
		(flags & CLONE_FS) ? t.shared_fs() : std::make_shared<FsStruct>(t.fs())};
}

SysKResult<int> Kernel::clone_thread(Task& t, const CloneArgs& args)
{
	Process& p = t.process();
	int tid;
	std::uint64_t blocked;
	{
		std::lock_guard lock(tasks_lock_);
		// A group on its way out, or an exec, makes no thread.
		if (killed_locked(t) || p.execing)
			return kerr(SysResult::restart_nointr());
		if (procs_.size() + nr_threads_ >= config_.max_procs)
			return kerr(EAGAIN);
		tid = alloc_pid_locked();
		tasks_.emplace(tid, nullptr);	// the id is taken
		nr_threads_++;
		p.starting++;
		running_++;
		blocked = t.blocked;
	}
	join_released_threads();

	std::vector<std::byte> fpu(t.vcpu().fpu_size());
	int err = t.vcpu().get_fpu(fpu) ? 0 : ENOMEM;
	std::promise<int> started;
	auto ready = started.get_future();
	bool made = false;
	if (!err) {
		TaskFiles files = copy_files(t, args.flags);
		try {
			// In host_threads before thread_main can run, as in
			// clone(): a thread that ended before it was in there
			// would stay there unjoined, and its tid, free again,
			// could be a later thread's, whose emplace would then
			// leave that one's std::thread joinable (std::terminate).
			std::lock_guard lock(tasks_lock_);
			p.host_threads.emplace(
				tid, std::thread(&Kernel::thread_main, this, std::ref(p), tid,
						 t.regs(), std::move(fpu), blocked, args,
						 std::move(files), std::move(started)));
			made = true;
		} catch (const std::system_error&) {
			err = EAGAIN;
		}
		if (!err)
			err = ready.get();
	}
	if (err) {
		std::thread th;
		{
			std::lock_guard lock(tasks_lock_);
			if (!made) {
				// thread_main never ran: its undoing is ours.
				tasks_.erase(tid);
				nr_threads_--;
				p.starting--;
				running_--;
				all_done_.notify_all();
			}
			if (auto h = p.host_threads.extract(tid))
				th = std::move(h.mapped());
		}
		if (th.joinable())
			th.join();
		return kerr(err);
	}
	return tid;
}

void Kernel::thread_main(Process& p, int tid, unpriv::Regs regs, std::vector<std::byte> fpu,
			 std::uint64_t blocked, CloneArgs args, TaskFiles files,
			 std::promise<int> start)
{
	// The creator waits in clone() until start is set: p and its
	// memory stay.
	auto fail = [&](int err) {
		std::lock_guard lock(tasks_lock_);
		tasks_.erase(tid);
		nr_threads_--;
		p.starting--;
		running_--;
		p.wake.notify_all();
		all_done_.notify_all();
		start.set_value(err);
	};
	Mm& mm = p.mm();
	if (mm.per_thread()) {
		auto as = backend_->create_address_space();
		if (!as) {
			std::fprintf(stderr, "unpriv-run: cannot make a thread: %s\n",
				     as.error().message().c_str());
			return fail(EAGAIN);
		}
		if (auto r = mm.attach(std::move(*as)); !r)
			return fail(r.error());
	}
	auto vcpu = backend_->create_vcpu();
	if (!vcpu) {
		std::fprintf(stderr, "unpriv-run: cannot make a thread: %s\n",
			     vcpu.error().message().c_str());
		mm.detach();
		return fail(EAGAIN);
	}
	Task t(*this, p, std::move(*vcpu), tid, std::move(files.files), std::move(files.fs));
	(void)t.vcpu().set_fpu(fpu);
	regs.rax = 0;
	if (args.stack)
		regs.rsp = args.stack;
	if (args.flags & CLONE_SETTLS)
		regs.fs_base = args.tls;
	t.regs() = regs;
	// Before the thread runs, as Linux writes them.
	if (args.flags & CLONE_PARENT_SETTID)
		(void)mm.write_obj<int>(args.parent_tid, tid);
	if (args.flags & CLONE_CHILD_SETTID)
		(void)mm.write_obj<int>(args.child_tid, tid);
	if (args.flags & CLONE_CHILD_CLEARTID)
		t.clear_child_tid = args.child_tid;
	{
		std::lock_guard lock(tasks_lock_);
		p.starting--;
		t.blocked = blocked;
		t.host_id = pthread_self();
		t.host_running = true;
		tasks_[tid] = &t;
		p.tasks.push_back(&t);
		// An exit_group or execve that came meanwhile: this one ends too.
		if (p.exited || p.execing)
			t.exiting = true;
		p.wake.notify_all();
	}
	start.set_value(0);
	run_task(t);
}

// As Linux's ksys_unshare(): each flag implies what it cannot go
// without, what cannot be unshared must not be shared, and nothing
// changes unless everything asked can be done.
KResult<void> Kernel::unshare(Task& t, std::uint64_t flags)
{
	if (flags & CLONE_NEWUSER)
		flags |= CLONE_THREAD | CLONE_FS;
	if (flags & CLONE_VM)
		flags |= CLONE_SIGHAND;
	if (flags & CLONE_SIGHAND)
		flags |= CLONE_THREAD;
	if (flags & CLONE_NEWNS)
		flags |= CLONE_FS;
	if (flags & ~unshare_known)
		return kerr(EINVAL);

	Process& p = t.process();
	{
		std::lock_guard lock(tasks_lock_);
		// Linux's check_unshare_flags(): the thread group, the
		// signal dispositions and the memory are not unshared, only
		// found not shared.
		if ((flags & (CLONE_THREAD | CLONE_SIGHAND | CLONE_VM)) &&
		    p.tasks.size() + static_cast<std::size_t>(p.starting) > 1)
			return kerr(EINVAL);
		if ((flags & (CLONE_SIGHAND | CLONE_VM)) && p.sighand.use_count() > 1)
			return kerr(EINVAL);
		if (flags & CLONE_VM)
			for (const auto& [pid, o] : procs_)
				if (o.get() != &p && o->has_mm() && o->shared_mm() == p.shared_mm())
					return kerr(EINVAL);
	}
	// No capability for a namespace (CAP_SYS_ADMIN), nor a user
	// namespace in a chroot (create_user_ns()), which the guest is.
	if (flags & unshare_namespaces)
		return kerr(EPERM);

	// Linux's unshare_fs() and unshare_fd(): a copy, when shared (a
	// stale count makes a copy not needed, nothing worse).
	std::shared_ptr<FsStruct> fs;
	std::shared_ptr<FdTable> files;
	if ((flags & CLONE_FS) && t.shared_fs().use_count() > 1)
		fs = std::make_shared<FsStruct>(t.fs());
	if ((flags & CLONE_FILES) && t.shared_files().use_count() > 1)
		files = std::make_shared<FdTable>(t.files());
	std::lock_guard lock(tasks_lock_);
	if (fs)
		fs = t.replace_fs(std::move(fs));
	if (files)
		files = t.replace_files(std::move(files));
	return {};
}

// --- execve -----------------------------------------------------------------

SysKResult<void> Kernel::execve(Task& t, const std::string& path, std::vector<std::string> argv,
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
	// has loaded, for a failed exec returns to it, and the other
	// threads run in it meanwhile.
	auto mm = std::make_shared<Mm>(*phys_, std::move(*as), std::move(reserved));
	unpriv::Regs regs = t.regs();
	t.set_exec_mm(mm.get());
	SysKResult<void> r;
	if (auto loaded = exec(t, path, std::move(argv), std::move(envp)); !loaded)
		r = kerr(SysError(loaded.error()));
	t.set_exec_mm(nullptr);
	if (r && !de_thread(t))
		r = kerr(SysResult::restart_sys());	// killed meanwhile
	if (!r) {
		{
			std::lock_guard lock(stats_lock_);
			mm_stats_ += mm->stats();
		}
		t.regs() = regs;
		return r;
	}
	// The point of no return: t is the process's only thread.
	std::shared_ptr<Mm> old;
	{
		std::lock_guard lock(tasks_lock_);
		old = p.replace_mm(std::move(mm));
		// The first thread's CPU time is counted: this one's now.
		p.host_tid = host::gettid();
	}
	note_exec(t);	// while the old stub is there
	old->detach();
	{
		std::lock_guard lock(stats_lock_);
		mm_stats_ += old->stats();
	}
	old.reset();
	{
		// A sender may kick the vcpu meanwhile (interrupt_locked()).
		std::lock_guard lock(tasks_lock_);
		t.replace_vcpu(std::move(*vcpu));
	}
	// The old memory's futex registrations are gone with it.
	t.clear_child_tid = 0;
	t.robust_list = 0;
	t.robust_list_len = 0;

	// Descriptors and dispositions shared with another process become
	// this one's own (Linux's unshare_files() and unshare_sighand():
	// the other's stay as they are), then close-on-exec descriptors
	// close, and caught signals go back to their default action
	// (ignored ones stay ignored).  No other thread of t's shares
	// them now: a count above one is another process's, or a
	// thread's on its way out (a copy then is merely not needed).
	std::shared_ptr<FdTable> old_files;
	if (t.shared_files().use_count() > 1) {
		auto files = std::make_shared<FdTable>(t.files());
		std::lock_guard lock(tasks_lock_);
		old_files = t.replace_files(std::move(files));
	}
	old_files.reset();
	t.files().close_on_exec();
	std::lock_guard lock(tasks_lock_);
	if (p.sighand.use_count() > 1)
		p.sighand = std::make_shared<SigHand>(*p.sighand);
	for (auto& a : p.sighand->actions)
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
		if (p.vfork_waiter)
			p.vfork_waiter->wake.notify_all();
	}
	return {};
}

// Linux's de_thread(): every other thread ends, and t, if it is not the
// first, takes the process's pid.
bool Kernel::de_thread(Task& t)
{
	Process& p = t.process();
	std::unique_lock lock(tasks_lock_);
	if (p.execing || p.exited || t.exiting)
		return false;	// another thread execs, or the group ends
	p.execing = &t;
	for (Task *o : p.tasks)
		if (o != &t) {
			o->exiting = true;
			interrupt_locked(*o);
		}
	(void)block_locked(t, lock, p.wake, {}, BlockBy::kill,
			   [&] { return p.tasks.size() == 1 && p.starting == 0; });
	p.execing = nullptr;
	if (p.tasks.size() != 1 || p.starting)
		return false;
	if (t.tid != p.pid) {
		tasks_.erase(t.tid);
		if (auto h = p.host_threads.extract(t.tid)) {
			// The first thread's host thread has ended; join it later.
			if (auto old = p.host_threads.extract(p.pid))
				unjoined_.push_back(std::move(old.mapped()));
			h.key() = p.pid;
			p.host_threads.insert(std::move(h));
		}
		t.tid = p.pid;
		tasks_[p.pid] = &t;
	}
	return true;
}

// --- exit -------------------------------------------------------------------

void Kernel::exit_thread(Task& t, int code)
{
	std::lock_guard lock(tasks_lock_);
	t.exit_code = code;
	t.exiting = true;
}

void Kernel::exit_group(Task& t, int code)
{
	std::lock_guard lock(tasks_lock_);
	group_exit_locked(t.process(), (code & 0xff) << 8);
}

void Kernel::group_exit_locked(Process& p, int ws)
{
	if (!p.exited) {
		p.wait_status = ws;
		p.exited = true;
	}
	for (Task *o : p.tasks)
		if (!pthread_equal(o->host_id, pthread_self()))
			interrupt_locked(*o);
	p.wake.notify_all();
}

void Kernel::end_task(Task& t)
{
	Process& p = t.process();

	// What the thread registered with the kernel for its end: the
	// robust futexes it holds are marked and their waiters woken; its
	// clear_child_tid word is cleared and woken (pthread_join).
	if (p.has_mm()) {
		exit_robust_list(t);
		if (t.clear_child_tid && t.mm().write_obj<int>(t.clear_child_tid, 0)) {
			if (auto key = t.mm().futex_key(t.clear_child_tid, false))
				futexes_.wake(*key, 1, FUTEX_BITSET_MATCH_ANY);
		}
	}
	{
		std::lock_guard lock(stats_lock_);
		stats_.merge(t.stats);
	}

	// Whether it is the last is decided with its leaving, under the lock.
	std::unique_lock lock(tasks_lock_);
	if (p.tasks.size() > 1) {
		// Its mirror goes; the memory, held here meanwhile, stays for
		// the others (the last one's exit_process() or an execve() may
		// drop the process's hold as soon as this one has left).
		std::shared_ptr<Mm> mm = p.shared_mm();
		// Its descriptors and directory: dropped with the lock
		// released, the files closing if they were its own.
		std::shared_ptr<FdTable> files = t.replace_files(nullptr);
		std::shared_ptr<FsStruct> fs = t.replace_fs(nullptr);
		flush_thread_pending_locked(t);
		std::erase(p.tasks, &t);
		if (tasks_.count(t.tid) && tasks_[t.tid] == &t)
			tasks_.erase(t.tid);
		t.host_running = false;
		if (auto h = p.host_threads.extract(t.tid))
			unjoined_.push_back(std::move(h.mapped()));
		nr_threads_--;
		p.wake.notify_all();
		lock.unlock();
		files.reset();
		fs.reset();
		if (mm)
			mm->detach();
		mm.reset();
		lock.lock();
		running_--;
		all_done_.notify_all();
		return;
	}
	// The last thread: its exit is the process's, unless exit_group or
	// a signal said otherwise first.
	if (!p.exited) {
		p.wait_status = (t.exit_code & 0xff) << 8;
		p.exited = true;
	}
	lock.unlock();
	exit_process(t);
}

void Kernel::exit_process(Task& t)
{
	Process& p = t.process();

	{
		std::lock_guard lock(tasks_lock_);
		note_exit_locked(p);
	}
	// A zombie keeps its status only: the memory and the files go now
	// (the last writer of a pipe gone, its reader sees the end), unless
	// another process shares them (CLONE_FILES, CLONE_FS).
	{
		std::shared_ptr<FdTable> files;
		std::shared_ptr<FsStruct> fs;
		{
			std::lock_guard lock(tasks_lock_);
			files = t.replace_files(nullptr);
			fs = t.replace_fs(nullptr);
		}
	}
	{
		std::shared_ptr<Mm> mm;
		if (p.has_mm())
			p.mm().detach();	// a CLONE_VM parent may keep it
		{
			std::lock_guard lock(tasks_lock_);
			mm = p.replace_mm(nullptr);
		}
		std::lock_guard lock(stats_lock_);
		if (mm && mm.use_count() == 1)
			mm_stats_ += mm->stats();
	}

	std::lock_guard lock(tasks_lock_);
	std::erase(p.tasks, &t);
	if (tasks_.count(t.tid) && tasks_[t.tid] == &t)
		tasks_.erase(t.tid);
	t.host_running = false;
	p.state = Process::State::zombie;
	p.pending = {};
	t.pending = {};
	p.timers.clear();
	p.real_timer = {};
	if (!p.vfork_done) {
		p.vfork_done = true;
		if (p.vfork_waiter)
			p.vfork_waiter->wake.notify_all();
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
		const SigAction& a = p.parent->sighand->actions[SIGCHLD - 1];
		bool autoreap = a.handler == reinterpret_cast<std::uint64_t>(SIG_IGN) ||
				(a.flags & SA_NOCLDWAIT);
		// The parent's handler runs even so for SA_NOCLDWAIT.
		notify_parent_locked(p, !WIFEXITED(p.wait_status) ? CLD_KILLED : CLD_EXITED);
		// Nobody will wait: no zombie (this thread cannot join
		// itself: a later fork, or the end, does).
		if (autoreap && p.parent)
			for (auto& th : release_locked(p))
				unjoined_.push_back(std::move(th));
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
	if (!exit && (parent->sighand->actions[SIGCHLD - 1].flags & SA_NOCLDSTOP))
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

std::vector<std::thread> Kernel::release_locked(Process& p)
{
	if (p.parent) {
		auto& c = p.parent->children;
		c.erase(std::remove(c.begin(), c.end(), &p), c.end());
		p.parent->wake.notify_all();
	}
	p.parent = nullptr;
	reaped_cpu_ += p.cpu_gone;
	std::vector<std::thread> ths;
	for (auto& [tid, th] : p.host_threads)
		ths.push_back(std::move(th));
	p.host_threads.clear();
	// Its hold on the signal dispositions goes with it, as Linux's
	// __cleanup_sighand() in release_task(): a process that shared
	// them (CLONE_SIGHAND) may unshare(CLONE_SIGHAND) now.
	p.sighand = std::make_shared<SigHand>();
	procs_.erase(p.pid);	// may be the last reference to p
	return ths;
}

// --- wait -------------------------------------------------------------------

SysKResult<Kernel::WaitResult> Kernel::wait(Task& t, int idtype, int id, int options)
{
	Process& p = t.process();
	std::unique_lock lock(tasks_lock_);
	int pgid = idtype == P_PGID && id == 0 ? p.pgid : id;

	for (;;) {
		// A change of a child's after this scan notifies p.wake.
		const std::uint64_t seen = p.wake.generation();
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
					auto ths = release_locked(*c);
					lock.unlock();
					for (auto& th : ths)
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
		if (block_locked(t, lock, p.wake, {}, BlockBy::signal,
				 [&] { return p.wake.generation() != seen; }) == Block::interrupted)
			return kerr(SysResult::restart_sys());
	}
}

// --- signals between processes ---------------------------------------------

// The process pid names: its own, or one of its threads' (kill(2)
// takes a tid for its process, as Linux does).
Process *Kernel::find_locked(int pid)
{
	if (auto it = procs_.find(pid); it != procs_.end())
		return it->second.get();
	if (auto it = tasks_.find(pid); it != tasks_.end() && it->second)
		return &it->second->process();
	return nullptr;
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

KResult<void> Kernel::tkill(Task& t, int tgid, int tid, int signo)
{
	if (signo < 0 || signo > nsig)
		return kerr(EINVAL);
	std::lock_guard lock(tasks_lock_);
	Task *to = find_task_locked(tgid, tid);
	if (!to)
		return kerr(ESRCH);
	if (signo)
		signal_locked(*to, SigInfo::from_process(signo, SI_TKILL, t.process().pid,
							 t.process().cred.ruid),
			      t.process().pid);
	return {};
}

KResult<void> Kernel::sigqueue(Task& t, int pid, const SigInfo& info, int tid)
{
	if (info.signo < 0 || info.signo > nsig)
		return kerr(EINVAL);
	Process& self = t.process();
	// Nobody may pretend to be the kernel or kill(), but to itself
	// (Linux's do_rt_sigqueueinfo() and do_rt_tgsigqueueinfo(): the
	// caller's tid is what is compared).
	if ((info.code >= 0 || info.code == SI_TKILL) && (tid ? tid : pid) != t.tid)
		return kerr(EPERM);
	std::lock_guard lock(tasks_lock_);
	Process *p = nullptr;
	Task *to = nullptr;
	if (tid) {
		to = find_task_locked(pid, tid);
		if (to)
			p = &to->process();
	} else {
		p = find_locked(pid);
	}
	if (!p)
		return kerr(ESRCH);
	if (!info.signo)
		return {};
	// A real-time signal past RLIMIT_SIGPENDING, or past what the
	// guest port keeps, is not queued.
	std::uint64_t room = std::min<std::uint64_t>(self.rlimits[RLIMIT_SIGPENDING].rlim_cur,
						      SigPending::max_queued_rt);
	const SigPending& into = to ? to->pending : p->pending;
	if (info.signo >= sigrtmin && info.code < 0 && into.queued_rt() >= room)
		return kerr(EAGAIN);
	if (to)
		signal_locked(*to, info, self.pid);
	else
		signal_locked(*p, info, self.pid);
	return {};
}

Task *Kernel::find_task_locked(int tgid, int tid)
{
	auto it = tasks_.find(tid);
	if (it == tasks_.end() || !it->second || (tgid && it->second->process().pid != tgid))
		return nullptr;
	return it->second;
}

bool Kernel::prepare_signal_locked(Process& p, Task *to, int signo, int from)
{
	if (p.state == Process::State::zombie || p.exited)
		return false;
	// The thread it is for, or the process's first thread: whose mask
	// says whether it is blocked.
	if (!to && !p.tasks.empty())
		to = p.tasks.front();
	const std::uint64_t masked = to ? to->blocked | to->real_blocked : 0;
	// Init takes from the guest's processes only the signals it has
	// handlers for, as a pid namespace's init does (SIGNAL_UNKILLABLE):
	// no guest process can stop or end the guest.  The guest port's own
	// (SIGPIPE, the end of the run) still reach it.  A blocked one is
	// queued, and dropped when taken if it has no handler then.
	if (&p == init_ && from && p.sighand->actions[signo - 1].handler == 0 &&
	    !(masked & sigbit(signo)))
		return false;
	// SIGCONT and SIGKILL undo a stop, pending or in force; a stop
	// signal undoes a pending SIGCONT: in the process and each thread.
	const std::uint64_t stops = sigbit(SIGSTOP) | sigbit(SIGTSTP) | sigbit(SIGTTIN) |
				    sigbit(SIGTTOU);
	if (signo == SIGCONT || signo == SIGKILL)
		discard_locked(p, stops);
	else if (sigbit(signo) & stops)
		discard_locked(p, sigbit(SIGCONT));
	if ((signo == SIGCONT || signo == SIGKILL) && p.state == Process::State::stopped) {
		p.state = Process::State::running;
		p.stop_unreported = false;
		if (signo == SIGCONT) {
			p.cont_unreported = true;
			notify_parent_locked(p, CLD_CONTINUED);
		}
		p.wake.notify_all();
	}

	// A signal that would be ignored is dropped when sent, unless it
	// is blocked by the thread it is for (the mask or the action may
	// change before it is taken), or waited for by rt_sigtimedwait.
	const SigAction& a = p.sighand->actions[signo - 1];
	bool ignored = a.handler == reinterpret_cast<std::uint64_t>(SIG_IGN) ||
		       (a.handler == 0 && sig_default(signo) == SigDefault::ignore);
	return !ignored || signo == SIGKILL || signo == SIGSTOP || (masked & sigbit(signo));
}

bool Kernel::signal_locked(Process& p, const SigInfo& info, int from)
{
	const int signo = info.signo;
	if (!prepare_signal_locked(p, nullptr, signo, from))
		return false;
	if (!p.pending.add(info))
		return false;
	wake_signal_watchers_locked(p);
	// Linux's complete_signal(): a thread that does not block it takes
	// it; if all do, it waits for one to unblock it.
	for (Task *t : p.tasks)
		if (t->deliverable() & sigbit(signo)) {
			interrupt_locked(*t);
			break;
		}
	return true;
}

bool Kernel::signal_locked(Task& t, const SigInfo& info, int from)
{
	const int signo = info.signo;
	if (!prepare_signal_locked(t.process(), &t, signo, from))
		return false;
	if (!t.pending.add(info))
		return false;
	wake_signal_watchers_locked(t.process());
	if (t.deliverable() & sigbit(signo))
		interrupt_locked(t);
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
	for (Task *o : p.tasks)
		o->pending.discard(mask);
	for (auto& [id, tm] : p.timers)
		if (tm.queued && (mask & sigbit(tm.signo)))
			tm.queued = false;
}

void Kernel::flush_thread_pending_locked(Task& t)
{
	Process& p = t.process();
	// A SIGEV_THREAD_ID timer's signal goes with its thread: the timer
	// may queue another (for a thread that is gone, none).
	for (const SigInfo& info : t.pending.queue)
		if (info.code == SI_TIMER) {
			auto it = p.timers.find(info.f.timer.tid);
			if (it != p.timers.end())
				it->second.queued = false;
		}
	t.pending = {};
}

bool Kernel::interrupted_locked(Task& t) const
{
	return t.exiting || t.process().exited || t.deliverable();
}

bool Kernel::killed_locked(Task& t) const
{
	const Process& p = t.process();
	return p.exited || t.exiting || ((t.pending.set | p.pending.set) & sigbit(SIGKILL));
}

Kernel::Block Kernel::block_locked(Task& t, std::unique_lock<std::mutex>& lock, WaitQueue& q,
				   Deadline deadline, BlockBy by, const std::function<bool()>& done)
{
	Waiter& w = t.waiter();
	auto stop = [&] { return by == BlockBy::signal ? interrupted_locked(t) : killed_locked(t); };
	// A CPU kept through the exit (a group stop after a getpid) goes
	// back before the thread sleeps.
	sched_.release(t.cpu_slot());
	for (;;) {
		// Queued before the check: a notify after it is not lost.
		w.prepare();
		q.add(w);
		if (done() || stop()) {
			q.remove(w);
			return done() ? Block::done : Block::interrupted;
		}
		lock.unlock();
		Waiter::Wake why = w.block(deadline);
		q.remove(w);
		lock.lock();
		if (why == Waiter::Wake::timed_out && !done())
			return Block::timed_out;
		// An interrupt for what this wait does not end for (a signal
		// in a killable wait; one another thread took): forgotten,
		// under the lock every interrupt is sent with, or it would
		// end each block() at once.  The signal stays pending.
		if (why == Waiter::Wake::interrupted && !stop())
			w.clear_interrupt();
	}
}

// Make t's thread look at its signals: out of a guest run (a kick), of
// a host call (interrupt_signal), of a wait on its Waiter (a futex's,
// block_locked()'s, a CPU's).
void Kernel::interrupt_locked(Task& t)
{
	t.waiter().interrupt();
	if (!t.host_running)
		return;
	(void)t.vcpu().kick();
	(void)host::kill_thread(t.host_id, interrupt_signal);
}

// The run loop, before the guest runs: each deliverable signal's action.
void Kernel::handle_signals(Task& t)
{
	Process& p = t.process();
	std::unique_lock lock(tasks_lock_);
	// From here a signal interrupts the thread again.
	t.waiter().clear_interrupt();
	for (;;) {
		// A group stop holds every thread until SIGCONT or SIGKILL.
		(void)block_locked(t, lock, p.wake, {}, BlockBy::kill,
				   [&] { return p.state != Process::State::stopped; });
		if (p.exited || t.exiting)
			return;
		std::uint64_t ready = t.deliverable();
		if (!ready)
			break;
		// The thread's own synchronous signal first (force_signal()
		// made it deliverable), then SIGKILL, then the lowest number,
		// the thread's own (tkill) before the process's, as Linux's
		// dequeue_signal() takes them.
		const std::uint64_t own = ready & t.pending.set;
		int n;
		if (own & synchronous_mask)
			n = __builtin_ctzll(own & synchronous_mask) + 1;
		else if (ready & sigbit(SIGKILL))
			n = SIGKILL;
		else
			n = __builtin_ctzll(own ? own : ready) + 1;
		const bool mine = t.pending.set & sigbit(n);
		SigInfo info = dequeue_locked(p, mine ? t.pending : p.pending, n);
		const int signo = info.signo;
		// A fault or trap of its own (SI_FROMKERNEL), as force_sig()
		// sends it.
		const bool fault = mine && (synchronous_mask & sigbit(signo)) && info.code > 0;
		SigAction a = p.sighand->actions[signo - 1];
		if (a.handler == reinterpret_cast<std::uint64_t>(SIG_IGN) && signo != SIGKILL &&
		    signo != SIGSTOP)
			continue;
		if (a.handler > 1 && signo != SIGKILL && signo != SIGSTOP) {
			std::uint64_t old = t.saved_mask.value_or(t.blocked);
			t.saved_mask.reset();
			t.blocked |= a.mask | ((a.flags & SA_NODEFER) ? 0 : sigbit(signo));
			t.blocked &= ~(sigbit(SIGKILL) | sigbit(SIGSTOP));
			if (a.flags & SA_RESETHAND)
				p.sighand->actions[signo - 1] = {};
			lock.unlock();
			if (tracer_)
				tracer_->signal(p.pid, info);
			finish_restart(t, &a);
			if (setup_frame(t, info, a, old))
				return;
			// No frame could be written: the SIGSEGV that
			// force_signal() made for it, now.
			lock.lock();
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
			stop_locked(p, signo);
			continue;
		case SigDefault::terminate:
		case SigDefault::core:
			if (tracer_)
				tracer_->signal(p.pid, info);
			// A fault or trap that nobody handles: the user is
			// told where, as a shell says "Segmentation fault".
			// The name is the guest's (PR_SET_NAME): escaped, as
			// --trace does.  It ends the whole thread group.
			if (fault)
				std::fprintf(stderr, "unpriv-run: %s killed by %s at rip %#llx "
					     "(address %#llx)\n",
					     escape(p.comm).c_str(), signal_name(signo).c_str(),
					     static_cast<unsigned long long>(t.regs().rip),
					     static_cast<unsigned long long>(info.f.fault.addr));
			group_exit_locked(p, signo & 0x7f);
			return;
		}
	}
	lock.unlock();
	finish_restart(t, nullptr);
}

// A synchronous signal of the thread's own instruction (a fault, a
// trap, a frame that cannot be written), Linux's force_sig_info(): for
// the faulting thread; blocked or ignored, it is unblocked and set back
// to its default action, which kills the thread group; reset says to do
// that anyway (force_sigsegv() for a handler that could not be run).
void Kernel::force_signal(Task& t, const SigInfo& info, bool reset)
{
	Process& p = t.process();
	std::lock_guard lock(tasks_lock_);
	SigAction& a = p.sighand->actions[info.signo - 1];
	bool blocked = t.blocked & sigbit(info.signo);
	if (blocked || reset || a.handler == reinterpret_cast<std::uint64_t>(SIG_IGN)) {
		a.handler = 0;
		t.blocked &= ~sigbit(info.signo);
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

// A stop signal's default action: the parent is told, and every thread
// of the process sleeps (in handle_signals()) until SIGCONT or SIGKILL.
void Kernel::stop_locked(Process& p, int signo)
{
	if (p.state == Process::State::stopped)
		return;
	p.state = Process::State::stopped;
	p.stop_signal = signo;
	p.stop_unreported = true;
	p.cont_unreported = false;
	notify_parent_locked(p, CLD_STOPPED);
	for (Task *o : p.tasks)
		interrupt_locked(*o);
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
