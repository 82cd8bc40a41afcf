// SPDX-License-Identifier: GPL-2.0
#include "kernel.hpp"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>
#include <variant>

#include "host/io.hpp"
#include "host/process.hpp"
#include "host/thread.hpp"
#include "host/uring.hpp"
#include "loader/exec.hpp"
#include "sys/syscall.hpp"

namespace guest {
namespace {

// Whether the guest port's handling of exit e cannot block, on the host
// or for another guest thread: its thread then keeps its CPU through it
// (CpuScheduler::exit()).  A fault (a copy on write, or the guest's
// signal), a trap, and system calls that only look at or change the
// guest port's own state; not a kick, which is for a preemption, a
// signal or a change of the memory, nor a call that may wait.
bool keeps_cpu(const unpriv::Exit& e)
{
	if (std::holds_alternative<unpriv::FaultExit>(e) ||
	    std::holds_alternative<unpriv::TrapExit>(e))
		return true;
	const auto *sc = std::get_if<unpriv::SyscallExit>(&e);
	if (!sc || sc->compat)
		return false;
	switch (sc->nr) {
	case SYS_getpid: case SYS_getppid: case SYS_gettid: case SYS_getuid:
	case SYS_geteuid: case SYS_getgid: case SYS_getegid: case SYS_getpgrp:
	case SYS_getresuid: case SYS_getresgid: case SYS_brk: case SYS_mmap:
	case SYS_munmap: case SYS_mprotect: case SYS_madvise: case SYS_mremap:
	case SYS_rt_sigprocmask: case SYS_rt_sigaction: case SYS_sigaltstack:
	case SYS_arch_prctl: case SYS_set_tid_address: case SYS_set_robust_list:
	case SYS_clock_gettime: case SYS_gettimeofday: case SYS_time: case SYS_uname:
	case SYS_getrlimit: case SYS_prlimit64: case SYS_sched_getaffinity:
	case SYS_umask: case SYS_getcwd:
		return true;
	default:
		return false;
	}
}

} // namespace

std::string signal_name(int signo)
{
	const char *n = sigabbrev_np(signo);
	return n ? std::string("SIG") + n : "signal " + std::to_string(signo);
}

Kernel::Kernel(Config config)
	: config_(std::move(config)),
	  sched_(config_.cpus ? config_.cpus : host_cpus(), config_.time_slice)
{
}

Kernel::~Kernel() = default;

int Kernel::run(const std::string& program, const std::vector<std::string>& argv)
{
	int status = start(program, argv);
	if (status >= 0)
		return status;

	// Once a second: the vDSO's clock data, for a guest that makes no
	// exit for long; and an interrupt again for a thread that has a
	// signal to take or must end (one sent just before it blocked in
	// the host may have found it not yet blocked).
	std::mutex m;
	std::condition_variable cv;
	bool done = false;
	std::thread ticker([&] {
		std::unique_lock lock(m);
		while (!cv.wait_for(lock, std::chrono::seconds(1), [&] { return done; })) {
			vdso_->refresh();
			std::lock_guard tl(tasks_lock_);
			for (auto& [tid, t] : tasks_)
				if (t && t->host_running && interrupted_locked(*t))
					interrupt_locked(*t);
		}
	});

	std::thread timers(&Kernel::timer_main, this);
	std::atomic<bool> tty_done = false;
	std::thread tty_signals(&Kernel::terminal_signals_main, this, std::cref(tty_done));

	run_task(*first_task_);
	first_task_.reset();

	// The guest's init is gone (its other threads too, when its first
	// ends alone): so is everyone else (a pid namespace's end).  Their
	// threads end, and are joined.
	std::vector<std::thread> threads;
	{
		std::unique_lock lock(tasks_lock_);
		all_done_.wait(lock, [&] { return init_ == nullptr; });
		for (auto& [pid, p] : procs_)
			signal_locked(*p, SIGKILL);
		all_done_.wait(lock, [&] { return running_ == 0; });
		for (auto& [pid, p] : procs_)
			for (auto& [tid, th] : p->host_threads)
				threads.push_back(std::move(th));
		for (auto& th : unjoined_)
			threads.push_back(std::move(th));
		unjoined_.clear();
	}
	for (auto& th : threads)
		th.join();
	{
		std::lock_guard lock(m);
		done = true;
	}
	cv.notify_one();
	ticker.join();
	tty_done = true;
	(void)host::kill_thread(tty_signals.native_handle(), SIGWINCH);
	tty_signals.join();
	{
		std::lock_guard lock(tasks_lock_);
		timers_done_ = true;
	}
	timers_changed_.notify_all();
	timers.join();

	if (tracer_)
		tracer_->exited(init_status_);
	if (config_.stats) {
		std::string outcome =
			WIFEXITED(init_status_)
				? "exited with status " + std::to_string(WEXITSTATUS(init_status_))
				: "killed by " + signal_name(WTERMSIG(init_status_));
		stats_.print(stderr, backend_->kind(), outcome, mm_stats_, cpus(), sched_.stats());
	}
	procs_.clear();
	return exit_status();
}

// Everything up to the first instruction of the guest; -1 when it is
// ready, or unpriv-run's exit status when it cannot be.
int Kernel::start(const std::string& program, const std::vector<std::string>& argv)
{
	auto fail = [](const std::string& what, const std::string& why, int status) {
		std::fprintf(stderr, "unpriv-run: %s: %s\n", what.c_str(), why.c_str());
		return status;
	};

	// The host terminal's signals are for terminal_signals_main(): no
	// other thread takes them (every one starts from here).
	host::thread_sigmask(SIG_BLOCK, terminal_signals());

	auto backend = config_.backend ? unpriv::Backend::open(*config_.backend)
				       : unpriv::Backend::open();
	if (!backend)
		return fail("cannot open the backend", backend.error().message(), status_failed);
	backend_.emplace(std::move(*backend));

	// Where io_uring cannot be set up, the host I/O is direct
	// (--stats says why).
	int why;
	(void)host::uring_start(config_.io_uring, &why);

	auto phys = PhysMemory::create(config_.memory);
	if (!phys)
		return fail("cannot make the guest's memory", strerror(phys.error()), status_failed);
	phys_.emplace(std::move(*phys));

	auto vdso = Vdso::create(*phys_, config_.time_offset_ns);
	if (!vdso)
		return fail("cannot make the guest's vDSO", strerror(vdso.error()), status_failed);
	vdso_.emplace(std::move(*vdso));

	auto vfs = Vfs::create(config_.root);
	if (!vfs)
		return fail(config_.root, strerror(vfs.error()), status_failed);
	vfs_ = std::move(*vfs);

	auto as = backend_->create_address_space();
	if (!as)
		return fail("cannot create an address space", as.error().message(), status_failed);
	auto vcpu = backend_->create_vcpu();
	if (!vcpu)
		return fail("cannot create a vcpu", vcpu.error().message(), status_failed);

	std::vector<AddrRange> reserved;
	if (auto r = backend_->reserved(); !r.empty())
		reserved.push_back({r.start, r.end});
	auto first = std::make_shared<Process>(
		1, std::make_unique<Mm>(*phys_, std::move(*as), std::move(reserved)));
	first_task_ = std::make_unique<Task>(*this, *first, std::move(*vcpu), first->pid,
					     std::make_shared<FdTable>(), std::make_shared<FsStruct>());
	{
		std::lock_guard lock(tasks_lock_);
		procs_.emplace(first->pid, first);
		init_ = first.get();
		first->tasks.push_back(first_task_.get());
		tasks_[first->pid] = first_task_.get();
		first_task_->host_id = pthread_self();
		first_task_->host_running = true;
		note_host_locked(*first);
		running_ = 1;
	}

	// The guest's umask is its own: the host's must not apply too.
	host::umask(0);
	// A write to a broken pipe is the guest's SIGPIPE, not ours.
	(void)host::ignore_signal(SIGPIPE);
	// The guest port's interrupt of a host call that blocks a process
	// (see interrupt_locked()): a handler that does nothing, without
	// SA_RESTART, so that the call fails with EINTR.
	(void)host::catch_signal(interrupt_signal);

	auto cwd = vfs_->root_dir();
	if (!cwd)
		return fail(config_.root, strerror(cwd.error()), status_failed);
	(void)first_task_->fs().set_cwd(std::move(*cwd));

	// The guest's standard descriptors are the guest port's; what lies
	// outside the root, the guest knows by their /dev names.
	static const char *const std_names[] = {"/dev/stdin", "/dev/stdout", "/dev/stderr"};
	for (int fd = 0; fd < 3; fd++) {
		auto flags = host::fcntl(fd, F_GETFL, 0);
		if (!flags || config_.std_closed[static_cast<std::size_t>(fd)])
			continue;
		auto dup = host::fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (!dup)
			return fail("cannot duplicate descriptor " + std::to_string(fd),
				    strerror(dup.error()), status_failed);
		auto file = std::make_shared<HostFile>(host::Fd(*dup), *flags, vfs_.get(),
						       HostFile::Origin::handed, std_names[fd]);
		// A terminal is the guest's: the controlling terminal of the
		// first process's session, its group in the foreground.
		if (dev_t tty = file->terminal()) {
			std::lock_guard lock(tasks_lock_);
			ttys_.try_emplace(tty, Terminal{first->sid, first->pgid, file});
			if (!first->ctty)
				first->ctty = tty;
		}
		(void)first_task_->files().install_at(fd, std::move(file), false);
	}

	if (config_.trace) {
		auto fd = host::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
		if (!fd)
			return fail("cannot duplicate stderr", strerror(fd.error()), status_failed);
		tracer_ = std::make_unique<Tracer>(*fd);
	}

	// execvp: a name without '/' is looked for in the guest's PATH.
	std::vector<std::string> candidates;
	if (program.find('/') != std::string::npos) {
		candidates.push_back(program);
	} else {
		std::string path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
		for (const auto& e : config_.env)
			if (e.starts_with("PATH="))
				path = e.substr(5);
		std::size_t i = 0;
		for (;;) {
			std::size_t j = path.find(':', i);
			std::string dir = path.substr(i, j == std::string::npos ? j : j - i);
			candidates.push_back((dir.empty() ? "." : dir) + "/" + program);
			if (j == std::string::npos)
				break;
			i = j + 1;
		}
	}
	int err = ENOENT;
	for (const auto& c : candidates) {
		auto r = exec(*first_task_, c, argv, config_.env);
		if (r) {
			note_exec(*first_task_);
			return -1;
		}
		if (r.error() != ENOENT && r.error() != ENOTDIR)
			err = r.error();
		if (err != ENOENT && err != EACCES)
			break;
	}
	return fail(program, strerror(err), err == ENOENT ? status_not_found : status_cannot_run);
}

int Kernel::exit_status() const
{
	if (failed_)
		return status_failed;
	int ws = init_status_;
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

void Kernel::run_task(Task& t)
{
	Process& p = t.process();
	host::set_thread_waiter(&t.waiter());

	for (;;) {
		handle_signals(t);
		if (p.exited || t.exiting)
			break;
		// An entry point or a stack where no guest may run (a
		// non-canonical address, the backend's own range): Linux
		// would start there and fault at once.  The guest's SIGSEGV,
		// not a backend error.
		const unpriv::Regs& r = t.regs();
		if (!t.mm().runnable(r.rip) || !t.mm().runnable(r.rsp)) {
			force_fault(t, SIGSEGV, SEGV_MAPERR,
				    t.mm().runnable(r.rip) ? r.rsp : r.rip);
			continue;
		}
		vdso_->refresh();
		// A virtual CPU to run on (sched.hpp), given back at an exit
		// whose handling may block: whatever blocks, does so on no
		// CPU of the guest's.  A signal or the thread's end that
		// comes while it waits is looked at first.
		if (!sched_.acquire(t.cpu_slot()))
			continue;
		unpriv::AddressSpace *as = t.mm().enter(t.vcpu());
		if (!as) {
			sched_.release(t.cpu_slot());
			std::fprintf(stderr, "unpriv-run: a thread has no address space\n");
			failed_ = true;
			kill_group(p, SIGKILL);
			break;
		}
		auto exit = t.vcpu().run(*as);
		t.mm().leave();
		sched_.exit(t.cpu_slot(), exit && keeps_cpu(*exit));
		if (!exit) {
			std::fprintf(stderr, "unpriv-run: the backend failed to run the guest: %s\n",
				     exit.error().message().c_str());
			failed_ = true;
			kill_group(p, SIGKILL);
			break;
		}
		std::visit([&](const auto& e) {
			using E = std::decay_t<decltype(e)>;
			if constexpr (std::is_same_v<E, unpriv::SyscallExit>)
				on_syscall(t, e);
			else if constexpr (std::is_same_v<E, unpriv::FaultExit>)
				on_fault(t, e);
			else if constexpr (std::is_same_v<E, unpriv::TrapExit>)
				on_trap(t, e);
			else
				t.stats.interrupted_exits++;
		}, *exit);

		if (t.mm().failure() && !failed_.exchange(true)) {
			std::fprintf(stderr, "unpriv-run: the backend failed to map guest memory: %s\n",
				     t.mm().failure().message().c_str());
			kill_group(p, SIGKILL);
		}
	}
	sched_.release(t.cpu_slot());
	host::set_thread_waiter(nullptr);
	end_task(t);
}

void Kernel::on_syscall(Task& t, const unpriv::SyscallExit& e)
{
	t.stats.syscall_exits++;

	const SyscallEntry *entry = nullptr;
	SysResult ret = -ENOSYS;
	t.syscall_nr = e.nr;
	if (e.compat) {
		// The 32-bit ABI (int $0x80, or 32-bit code): not implemented.
		t.stats.compat_syscalls++;
	} else {
		entry = syscall_entry(e.nr);
		if (entry && entry->handler) {
			t.stats.syscalls[e.nr]++;
			ret = entry->handler(t, e.args);
		} else {
			t.stats.unknown[e.nr]++;
		}
	}
	finish_syscall(t, e, entry, ret);
}

// What a handler's result does (sys/syscall.hpp), the one place besides
// finish_restart(), which decides a restart once the signal is known.
void Kernel::finish_syscall(Task& t, const unpriv::SyscallExit& e, const SyscallEntry *entry,
			    SysResult ret)
{
	using Control = SysResult::Control;
	// A host call our interrupt broke: the guest's call restarts, or
	// fails with EINTR, by the signal that came (handle_signals()).
	if (ret == -EINTR)
		ret = SysResult::restart_sys();
	switch (ret.control()) {
	case Control::restart_sys:
	case Control::restart_nointr:
	case Control::restart_nohand:
	case Control::restart_block:
		// Not traced: the call is traced again when made again.
		t.restart = ret.control();
		t.regs().rax = static_cast<std::uint64_t>(ret.value());
		return;
	case Control::ret:
	case Control::eintr:
	case Control::noreturn:
		break;
	}
	if (tracer_)
		tracer_->syscall(t, e.nr, e.compat, e.args, entry, ret);
	if (ret.control() != Control::noreturn)
		t.regs().rax = static_cast<std::uint64_t>(ret.value());
}

// A system call a signal interrupted (Task::restart): made again, or
// the guest gets EINTR, as restarts() decides for the signal's handler
// (null: none runs).
void Kernel::finish_restart(Task& t, const SigAction *handler)
{
	using Control = SysResult::Control;
	const Control how = t.restart;
	if (how == Control::ret)
		return;
	t.restart = Control::ret;
	if (!restarts(how, handler, handler && (handler->flags & SA_RESTART))) {
		t.regs().rax = static_cast<std::uint64_t>(-EINTR);
		return;
	}
	// rt_sigsuspend's mask was for the wait only.
	if (t.saved_mask) {
		std::lock_guard lock(tasks_lock_);
		t.blocked = *t.saved_mask;
		t.saved_mask.reset();
	}
	// -ERESTART_RESTARTBLOCK: restart_syscall() goes on with what
	// the call left in t.restart_block (a sleep's time left).
	t.regs().rax = how == Control::restart_block ? std::uint64_t{SYS_restart_syscall}
						    : t.syscall_nr;
	t.regs().rip -= 2;	// the syscall instruction, again
}

void Kernel::on_fault(Task& t, const unpriv::FaultExit& e)
{
	t.stats.fault_exits++;
	auto sig = t.mm().handle_fault(e.address, e.error_code, {e.signo, e.si_code});
	if (!sig) {
		t.stats.faults_resolved++;
		return;
	}
	// The frame's sigcontext, as Linux's set_signal_archinfo(): the
	// error code as seen from user mode, a kernel address a
	// protection fault.
	t.trap_nr = e.trap;
	t.trap_err = e.error_code | 4 | (e.address >= user_end ? 1 : 0);
	t.trap_cr2 = e.address;
	force_fault(t, sig->signo, sig->code, e.address);
}

void Kernel::on_trap(Task& t, const unpriv::TrapExit& e)
{
	t.stats.trap_exits++;
	t.trap_nr = e.trap;
	t.trap_err = e.error_code;
	force_fault(t, e.signo, e.si_code, e.address);
}

void Kernel::kill_group(Process& p, int signo)
{
	std::lock_guard lock(tasks_lock_);
	group_exit_locked(p, signo & 0x7f);
}

void Kernel::send_signal(Process& p, int signo)
{
	std::lock_guard lock(tasks_lock_);
	signal_locked(p, SigInfo::from_process(signo, SI_USER, p.pid, p.cred.ruid), 0);
}

void Kernel::send_signal(Task& t, int signo)
{
	Process& p = t.process();
	std::lock_guard lock(tasks_lock_);
	signal_locked(t, SigInfo::from_process(signo, SI_USER, p.pid, p.cred.ruid), 0);
}

} // namespace guest
