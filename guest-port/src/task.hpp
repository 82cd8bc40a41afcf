// SPDX-License-Identifier: GPL-2.0
//
// Process and Task: a guest process (a thread group, Linux's
// signal_struct, mm, files and fs together) and a guest thread (its
// registers: a vcpu).  A process has one thread, and that thread one
// host thread of its own (see kernel.hpp for why, and for the locks).
//
// Locks: [own] fields are touched by the process's own host thread only
// (and by the thread that forks it, before it runs); [tasks] fields are
// guarded by Kernel::tasks_lock_.
#pragma once

#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <string>
#include <thread>
#include <vector>

#include <unpriv/backend.hpp>

#include "cputime.hpp"
#include "fs/fdtable.hpp"
#include "mm/mm.hpp"
#include "stats.hpp"
#include "sys/syscall.hpp"

namespace guest {

class Kernel;

struct Credentials {
	uid_t ruid, euid, suid, fsuid;
	gid_t rgid, egid, sgid, fsgid;
	std::vector<gid_t> groups;

	// The guest port's own: files the guest creates belong to the
	// user that runs it, so the guest is that user.
	static Credentials of_host();
};

// A signal's disposition, as rt_sigaction(2) passes it (the kernel's
// struct sigaction on x86-64).
struct SigAction {
	std::uint64_t handler = 0;	// SIG_DFL (0), SIG_IGN (1) or an address
	std::uint64_t flags = 0;	// SA_*
	std::uint64_t restorer = 0;
	std::uint64_t mask = 0;
};

inline constexpr int nsig = 64;

constexpr std::uint64_t sigbit(int signo) noexcept
{
	return 1ull << (signo - 1);
}

// What the run loop does with a signal nobody handles (signal(7)).
enum class SigDefault { ignore, terminate, core, stop };
SigDefault sig_default(int signo) noexcept;

class Process {
public:
	Process(int pid, std::unique_ptr<Mm> mm);
	// The child of fork(): parent's state but for memory (mm, made on
	// the child's thread) and what fork() does not copy (pending
	// signals, the process tree).
	Process(int pid, const Process& parent);

	const int pid;
	Credentials cred;	// [own]
	std::array<struct rlimit, RLIM_NLIMITS> rlimits;	// [own]
	mode_t umask = 022;	// [own]

	// The process tree and its ids, Linux's task_struct and
	// signal_struct fields of those names.  [tasks]
	Process *parent = nullptr;	// null for init and when reaped
	std::vector<Process *> children;
	int pgid, sid;
	int exit_signal = SIGCHLD;	// what the parent gets at our exit
	bool did_exec = false;		// setpgid() on us then is EACCES

	// What wait4() reports.  [tasks]
	enum class State { running, stopped, zombie };
	State state = State::running;
	bool stop_unreported = false;	// stopped since the parent last looked
	bool cont_unreported = false;	// continued since then (WCONTINUED)
	int stop_signal = 0;

	// Signals: dispositions, the blocked and pending sets.  [tasks]
	std::array<SigAction, nsig> actions{};
	std::uint64_t blocked = 0;
	std::uint64_t pending = 0;
	std::array<int, nsig> pending_from{};	// the sender's pid (si_pid)
	// A blocking call of the process's thread waits here, with
	// tasks_lock_ held: woken by a signal for it, a change of state of
	// one of its children, a vfork child's exec or exit.
	std::condition_variable wake;
	bool vfork_done = false;	// our vfork child let go of us

	// The process's host thread (not the first process's: that runs on
	// unpriv-run's main thread).  [tasks]
	std::thread host_thread;
	pthread_t host_id{};
	bool host_running = false;	// host_id may be signalled
	class Task *task = nullptr;	// its thread, while host_running

	// Any signal pending and not blocked (SIGKILL and SIGSTOP cannot
	// be).  [tasks]
	[[nodiscard]] std::uint64_t deliverable() const noexcept
	{
		return pending & ~(blocked & ~(sigbit(SIGKILL) | sigbit(SIGSTOP)));
	}

	[[nodiscard]] Mm& mm() noexcept { return *mm_; }
	[[nodiscard]] bool has_mm() const noexcept { return mm_ != nullptr; }
	// execve(): the new memory in, the old out.
	std::unique_ptr<Mm> replace_mm(std::unique_ptr<Mm> mm) noexcept
	{
		std::swap(mm, mm_);
		return mm;
	}
	FdTable fds;
	// The current directory: a directory file, a host one or one of
	// the guest port's own.
	std::shared_ptr<File> cwd;

	std::string exe;	// the executable's guest path
	// The running executable's host identity (st_dev, st_ino): it may
	// not be written (ETXTBSY), as Linux's deny_write_access().
	std::optional<std::pair<dev_t, ino_t>> exe_id;
	std::string comm;	// the thread name, 15 bytes at most
	// Where execve put the arguments and environment in the guest's
	// stack, for /proc/self/cmdline and environ.
	std::uint64_t arg_start = 0, arg_end = 0, env_start = 0, env_end = 0;

	// The wait status once the process is gone: exit code << 8, or
	// the signal that ended it.  exited is [own]: the run loop ends
	// when it is set; wait_status is [tasks] once the process is a
	// zombie.
	bool exited = false;
	int wait_status = 0;

	// What others see of the process (/proc/PID, getrusage, wait4,
	// getpriority, sched_getaffinity: resource.cpp).  [tasks]
	struct Shown {
		std::string comm, exe;		// as comm and exe above
		std::string cmdline, environ;	// at exec: argv, envp, NUL after each
	} shown;
	std::uint64_t start_ns = 0;	// CLOCK_BOOTTIME when it was made
	pid_t host_tid = 0;		// its host thread, while host_running
	pid_t stub_pid = 0;		// ptrace, seccomp: its address space's stub
	CpuTimes cpu_gone;		// of stubs gone at exec; all of it once a zombie
	CpuTimes cpu_children;		// of the children it reaped, theirs included
	int nice = 0;			// setpriority()
	std::uint64_t cpu_mask = ~0ull;	// sched_setaffinity(), of the guest's CPUs
	// Its memory's size, kept by its thread at each change.  Atomic.
	std::atomic<std::uint64_t> vsize = 0;

	void exit(int code);		// exit_group()
	void kill(int signo);		// ended by a signal

private:
	std::unique_ptr<Mm> mm_;
};

class Task {
public:
	Task(Kernel& kernel, Process& process, unpriv::Vcpu vcpu, int tid)
		: tid(tid), kernel_(kernel), process_(process), vcpu_(std::move(vcpu))
	{
	}

	[[nodiscard]] Kernel& kernel() noexcept { return kernel_; }
	[[nodiscard]] Process& process() noexcept { return process_; }
	[[nodiscard]] Mm& mm() noexcept { return process_.mm(); }
	[[nodiscard]] unpriv::Vcpu& vcpu() noexcept { return vcpu_; }
	[[nodiscard]] unpriv::Regs& regs() noexcept { return vcpu_.regs(); }
	// execve(): a vcpu in its initial state, the registers kept.
	void replace_vcpu(unpriv::Vcpu vcpu) noexcept
	{
		vcpu.regs() = vcpu_.regs();
		vcpu_ = std::move(vcpu);
	}

	// The system call being made, for a restart after a signal: its
	// number, and whether its handler asked for one (-ERESTARTSYS).
	std::uint64_t syscall_nr = 0;
	SysResult restart = 0;	// -ERESTARTSYS, -ERESTARTNOHAND or 0
	// rt_sigsuspend's caller's mask, for the handler's frame.  [own]
	std::optional<std::uint64_t> saved_mask;

	Stats stats;	// [own]; merged into the kernel's at the end

	const int tid;
	std::uint64_t clear_child_tid = 0;	// set_tid_address
	std::uint64_t robust_list = 0;		// set_robust_list
	std::uint64_t robust_list_len = 0;

private:
	Kernel& kernel_;
	Process& process_;
	unpriv::Vcpu vcpu_;
};

} // namespace guest
