// SPDX-License-Identifier: GPL-2.0
//
// Process and Task: a guest process and a guest thread, cut where
// clone(2)'s flags cut Linux's task_struct, with Linux's names:
//
//   Process     the thread group (Linux's signal_struct, with the
//               process tree and the wait state of task_struct's
//               group leader): pending signals, timers, children,
//               exit status, rlimits, credentials.  CLONE_THREAD.
//   Mm          the memory (mm/mm.hpp), Linux's mm_struct.  CLONE_VM.
//   FdTable     the descriptors (fs/fdtable.hpp), Linux's
//               files_struct.  CLONE_FILES; a thread's own.
//   FsStruct    the current directory and umask (fs/fs_struct.hpp),
//               Linux's fs_struct.  CLONE_FS; a thread's own.
//   SigHand     the signal dispositions, Linux's sighand_struct.
//               CLONE_SIGHAND; the same for every thread of a group.
//   Task        a thread (its registers: a vcpu, its signal mask and
//               pending set).
//
// A Task holds its FdTable and FsStruct (shared with its threads
// unless made without CLONE_FILES, CLONE_FS, or unshared since), a
// Process its Mm and SigHand (shared with other processes made with
// CLONE_VM, CLONE_SIGHAND).  Each thread runs on a host thread of its
// own (see kernel.hpp for why, and for the lock order).
//
// Locks: [own] fields of a Task are touched by its own host thread
// only (and by the thread that makes it, before it runs); [group]
// fields of a Process by its threads, unlocked: they are set by calls
// (setrlimit, prctl, execve) that Linux guards with locks a racing
// thread can see either side of, and the guest port too, but for the
// torn read such a race could make, which is the guest's own doing;
// [tasks] fields are guarded by Kernel::tasks_lock_; [fs] by
// FsStruct::lock_.  The FdTable and the Mm lock themselves.
#pragma once

#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <string>
#include <thread>
#include <vector>

#include <unpriv/backend.hpp>

#include "cputime.hpp"
#include "fs/fdtable.hpp"
#include "fs/fs_struct.hpp"
#include "mm/mm.hpp"
#include "sched.hpp"
#include "sigqueue.hpp"
#include "stats.hpp"
#include "sys/syscall.hpp"
#include "wait.hpp"

namespace guest {

class Kernel;
class Task;

// The credentials, Linux's struct cred.  Linux keeps them per thread,
// and a raw setuid(2) changes the caller's alone; but every C library
// makes setuid() and its kin a change of the whole process (glibc's
// SIGSETXID broadcast, musl's __synccall), so that the guest sees
// them as one per process, and the guest port keeps them so: in the
// Process, [group], changed by any of its threads for all.  A new
// process copies them (fork, clone; no clone flag shares them).
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

inline constexpr int ss_autodisarm = 1 << 31;	// the kernel's SS_AUTODISARM

// An interval timer (setitimer's ITIMER_REAL, alarm) or a POSIX timer
// (timer_create), Linux's k_itimer.  Times are the host's
// CLOCK_MONOTONIC in nanoseconds; expires 0: disarmed.
struct GuestTimer {
	int clock = 0;			// CLOCK_REALTIME or CLOCK_MONOTONIC
	int notify = 0;			// SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD_ID
	int signo = 0;
	int tid = 0;			// SIGEV_THREAD_ID: the thread's; 0: the process
	std::uint64_t value = 0;	// sigev_value, the signal's si_value
	std::int64_t expires = 0;
	std::int64_t interval = 0;
	bool queued = false;		// its signal is pending, not yet taken
	int overrun = 0;		// expiries since it was queued
	int last_overrun = 0;		// timer_getoverrun(): the last taken's
};

// The signal dispositions, Linux's sighand_struct: a process's threads
// share them, and so do processes made with CLONE_SIGHAND (with
// CLONE_VM); execve() makes a private copy of shared ones before it
// resets them (Linux's unshare_sighand() in de_thread()).  Linux's
// sighand->siglock is the kernel's tasks_lock_ here.  [tasks]
struct SigHand {
	std::array<SigAction, nsig> actions{};
};

// What the run loop does with a signal nobody handles (signal(7)).
enum class SigDefault { ignore, terminate, core, stop };
SigDefault sig_default(int signo) noexcept;

class Process {
public:
	Process(int pid, std::unique_ptr<Mm> mm);
	// The child of fork(): parent's state but for memory (mm, made on
	// the child's thread) and what fork() does not copy (pending
	// signals, the process tree); a copy of its signal dispositions
	// (clone() shares them for CLONE_SIGHAND).  Under tasks_lock_.
	Process(int pid, const Process& parent);

	const int pid;		// the thread group's id: its leader's tid
	Credentials cred;	// [group], see above
	std::array<struct rlimit, RLIM_NLIMITS> rlimits;	// [group]

	// The threads, Linux's thread_group list.  [tasks]
	std::vector<Task *> tasks;
	// The host threads of its threads, by tid, to join once they end
	// (the first process's first thread is unpriv-run's own).  [tasks]
	std::map<int, std::thread> host_threads;
	// The thread in execve() that the others wait to die for.  [tasks]
	Task *execing = nullptr;
	// Threads clone() is making, not in tasks yet.  [tasks]
	int starting = 0;

	// The process tree and its ids, Linux's task_struct and
	// signal_struct fields of those names.  [tasks]
	Process *parent = nullptr;	// null for init and when reaped
	std::vector<Process *> children;
	int pgid, sid;
	int exit_signal = SIGCHLD;	// what the parent gets at our exit
	dev_t ctty = 0;			// the controlling terminal, 0: none
	bool did_exec = false;		// setpgid() on us then is EACCES

	// What wait4() reports.  [tasks]
	enum class State { running, stopped, zombie };
	State state = State::running;
	bool stop_unreported = false;	// stopped since the parent last looked
	bool cont_unreported = false;	// continued since then (WCONTINUED)
	int stop_signal = 0;

	// Signals: the dispositions (shared by the threads, and with
	// processes made with CLONE_SIGHAND; never null), the process's
	// pending set (Linux's shared_pending: kill(2), sigqueue and the
	// guest port's own; each thread has its own too).  [tasks], the
	// dispositions too.
	std::shared_ptr<SigHand> sighand;
	SigPending pending;
	// The interval timer (ITIMER_REAL, alarm) and the POSIX timers by
	// id (Linux's signal_struct real_timer and posix_timers).  [tasks]
	GuestTimer real_timer;
	std::map<int, GuestTimer> timers;
	int next_timer_id = 0;
	// A blocking call of the process's threads waits here
	// (Kernel::block_locked()): notified at a change of state of one of
	// its children, a vfork child's exec or exit, a thread's exit or
	// start, a stop's end; the conditions are [tasks].  A signal
	// interrupts a thread's Waiter directly.  Locks itself.
	WaitQueue wake;
	// Made by clone(CLONE_VFORK): whether we let go of the process
	// that made us (at our exec or exit), and that process while its
	// thread waits for it, Linux's vfork_done.  Not our parent with
	// CLONE_PARENT.  [tasks]
	bool vfork_done = false;
	Process *vfork_waiter = nullptr;
	// Threads waiting on a signalfd (a read, poll, select, epoll_wait:
	// fs/signalfd.hpp), Linux's sighand->signalfd_wqh: each signal
	// queued for the process or one of its threads writes their
	// Task::signal_wake, and counts in signal_events (epoll's edge
	// triggering).  A thread may be here more than once.  [tasks]
	std::vector<Task *> signal_watchers;
	std::uint64_t signal_events = 0;

	// The thread group is ending (exit_group, a fatal signal, the end
	// of the guest): each thread leaves the run loop.  Set under
	// tasks_lock_, read by the threads' run loops without it.
	std::atomic<bool> exited = false;

	[[nodiscard]] Mm& mm() noexcept { return *mm_; }
	[[nodiscard]] bool has_mm() const noexcept { return mm_ != nullptr; }
	[[nodiscard]] const std::shared_ptr<Mm>& shared_mm() const noexcept { return mm_; }
	// execve() and the end: the new memory in, the old out.  Only
	// when the process has one thread, the caller.
	std::shared_ptr<Mm> replace_mm(std::shared_ptr<Mm> mm) noexcept
	{
		std::swap(mm, mm_);
		return mm;
	}

	// [group], set by execve (the process has one thread then):
	std::string exe;	// the executable's guest path
	// The running executable's host identity (st_dev, st_ino): it may
	// not be written (ETXTBSY), as Linux's deny_write_access().
	std::optional<std::pair<dev_t, ino_t>> exe_id;
	std::string comm;	// the thread name, 15 bytes at most
	// Where execve put the arguments and environment in the guest's
	// stack, for /proc/self/cmdline and environ.
	std::uint64_t arg_start = 0, arg_end = 0, env_start = 0, env_end = 0;

	// The wait status once the process is gone: exit code << 8, or
	// the signal that ended it: the first exit_group() or fatal signal
	// sets it, with exited.  [tasks]
	int wait_status = 0;

	// What others see of the process (/proc/PID, getrusage, wait4,
	// getpriority, sched_getaffinity: resource.cpp).  [tasks]
	struct Shown {
		std::string comm, exe;		// as comm and exe above
		std::string cmdline, environ;	// at exec: argv, envp, NUL after each
	} shown;
	std::uint64_t start_ns = 0;	// CLOCK_BOOTTIME when it was made
	// Its first thread's host thread and stub (ptrace, seccomp), while
	// it runs: the CPU time counted (the other threads' is not yet).
	pid_t host_tid = 0;
	pid_t stub_pid = 0;
	CpuTimes cpu_gone;		// of stubs gone at exec; all of it once a zombie
	CpuTimes cpu_children;		// of the children it reaped, theirs included
	int nice = 0;			// setpriority()
	std::uint64_t cpu_mask = ~0ull;	// sched_setaffinity(), of the guest's CPUs
	// Its memory's size, kept by its thread at each change.  Atomic.
	std::atomic<std::uint64_t> vsize = 0;

private:
	std::shared_ptr<Mm> mm_;	// [tasks] to change; its threads' while they run
};

class Task {
public:
	Task(Kernel& kernel, Process& process, unpriv::Vcpu vcpu, int tid,
	     std::shared_ptr<FdTable> files, std::shared_ptr<FsStruct> fs)
		: tid(tid), kernel_(kernel), process_(process), vcpu_(std::move(vcpu)),
		  files_(std::move(files)), fs_(std::move(fs))
	{
	}

	[[nodiscard]] Kernel& kernel() noexcept { return kernel_; }
	[[nodiscard]] Process& process() noexcept { return process_; }
	// The memory: the process's, or while execve() loads a program the
	// new memory it loads into.
	[[nodiscard]] Mm& mm() noexcept { return exec_mm_ ? *exec_mm_ : process_.mm(); }
	void set_exec_mm(Mm *mm) noexcept { exec_mm_ = mm; }
	// Its descriptors and its directory and umask: its own thread's
	// to use, until the thread ends (end_task()).
	[[nodiscard]] FdTable& files() noexcept { return *files_; }
	[[nodiscard]] FsStruct& fs() noexcept { return *fs_; }
	// The pointers, to share (clone) or replace (unshare, execve,
	// the end: null then): [tasks] to change, and for another thread
	// to read; its own thread reads them unlocked.
	[[nodiscard]] const std::shared_ptr<FdTable>& shared_files() const noexcept { return files_; }
	[[nodiscard]] const std::shared_ptr<FsStruct>& shared_fs() const noexcept { return fs_; }
	std::shared_ptr<FdTable> replace_files(std::shared_ptr<FdTable> files) noexcept
	{
		std::swap(files, files_);
		return files;
	}
	std::shared_ptr<FsStruct> replace_fs(std::shared_ptr<FsStruct> fs) noexcept
	{
		std::swap(fs, fs_);
		return fs;
	}
	[[nodiscard]] unpriv::Vcpu& vcpu() noexcept { return vcpu_; }
	[[nodiscard]] unpriv::Regs& regs() noexcept { return vcpu_.regs(); }
	// execve(): a vcpu in its initial state, the registers kept.
	void replace_vcpu(unpriv::Vcpu vcpu) noexcept
	{
		vcpu.regs() = vcpu_.regs();
		vcpu_ = std::move(vcpu);
	}

	// The system call being made, for a restart after a signal: its
	// number, and the restart its handler asked for (ret: none; see
	// Kernel::finish_restart()).
	std::uint64_t syscall_nr = 0;
	SysResult::Control restart = SysResult::Control::ret;
	// rt_sigsuspend's caller's mask, for the handler's frame.  [own]
	std::optional<std::uint64_t> saved_mask;
	// What a call returning SysResult::restart_block() leaves for
	// restart_syscall (Linux's restart_block): a sleep's end on its
	// clock (host nanoseconds, the guest's for CLOCK_REALTIME) and
	// where the time left goes.  [own]
	struct RestartBlock {
		SysResult (*fn)(Task&) = nullptr;
		int clock = 0;
		std::int64_t expires = 0;
		std::uint64_t rmtp = 0;
	} restart_block;

	// The last trap's number, error code and address, for the next
	// frame's sigcontext (Linux's thread.trap_nr, error_code, cr2).
	// [own]
	std::uint64_t trap_nr = 0, trap_err = 0, trap_cr2 = 0;
	// sigaltstack(2): the alternate stack, Linux's sas_ss_sp,
	// sas_ss_size and sas_ss_flags.  [own]
	std::uint64_t sas_sp = 0, sas_size = 0;
	int sas_flags = SS_DISABLE;
	// Whether sp is on the alternate stack (on_sig_stack()), and the
	// flags sigaltstack() reports for it (sas_ss_flags()).
	[[nodiscard]] bool on_sig_stack(std::uint64_t sp) const noexcept
	{
		return !(sas_flags & ss_autodisarm) && sp > sas_sp && sp - sas_sp <= sas_size;
	}
	[[nodiscard]] int sas_ss_flags(std::uint64_t sp) const noexcept
	{
		return !sas_size ? SS_DISABLE : on_sig_stack(sp) ? SS_ONSTACK : 0;
	}

	Stats stats;	// [own]; merged into the kernel's at the end

	// The thread id: a new one, or the process's pid for its first
	// thread, and for the thread that execs.  [tasks] (its own thread
	// may read it unlocked: only its execve() changes it)
	int tid;
	std::uint64_t clear_child_tid = 0;	// [own] set_tid_address
	std::uint64_t robust_list = 0;		// [own] set_robust_list
	std::uint64_t robust_list_len = 0;	// [own]

	// Signals: the thread's mask, its mask before rt_sigtimedwait
	// unblocked what it waits for (Linux's real_blocked), and what was
	// sent to it alone: tkill, tgkill, and the synchronous signals of
	// its own instructions (a fault, a trap: force_signal()), which are
	// taken before any other (Linux's task->pending).  [tasks]
	std::uint64_t blocked = 0;
	std::uint64_t real_blocked = 0;
	SigPending pending;
	// This thread alone ends (exit(2), or another thread's execve).
	// [tasks], read unlocked by its own run loop.
	std::atomic<bool> exiting = false;
	int exit_code = 0;	// [tasks] exit(2)'s, the process's if last

	// Its host thread, while it runs the guest or the guest port for
	// it: signalled (interrupt_signal) to break a blocking host call.
	// [tasks]
	pthread_t host_id{};
	bool host_running = false;

	// Any signal pending for the thread and not blocked by it (SIGKILL
	// and SIGSTOP cannot be).  [tasks]
	[[nodiscard]] std::uint64_t deliverable() const noexcept
	{
		return (pending.set | process_.pending.set) &
		       ~(blocked & ~(sigbit(SIGKILL) | sigbit(SIGSTOP)));
	}

	// The one way to block (wait.hpp).
	[[nodiscard]] Waiter& waiter() noexcept { return waiter_; }
	// Its place among the guest's CPUs (sched.hpp): it waits for one on
	// its Waiter, and a preemption kicks its vcpu.
	[[nodiscard]] CpuScheduler::Slot& cpu_slot() noexcept { return cpu_slot_; }
	// What the thread waits on, in a host call, for signals to come to
	// a signalfd (Process::signal_watchers); made at its first such
	// wait.  [tasks] (made by its own thread, which reads it unlocked)
	WakeFd signal_wake;

private:
	Kernel& kernel_;
	Process& process_;
	// Replaced by execve() only while it holds no CPU (the scheduler
	// kicks a holder's).
	unpriv::Vcpu vcpu_;
	Mm *exec_mm_ = nullptr;		// [own]
	std::shared_ptr<FdTable> files_;	// see shared_files()
	std::shared_ptr<FsStruct> fs_;
	Waiter waiter_;
	CpuScheduler::Slot cpu_slot_{waiter_, [this] { (void)vcpu_.kick(); }};
};

} // namespace guest
