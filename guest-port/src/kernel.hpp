// SPDX-License-Identifier: GPL-2.0
//
// Kernel: the guest port itself.  It opens a backend, makes the guest's
// physical memory and file system, starts the first process, and runs
// it: every exit of the guest (a system call, a fault, a trap, a host
// signal) comes here and is handled, until the guest is gone.
//
// Threads and host threads.  Each guest thread runs on a host thread
// of its own, which made its vcpu and, on ptrace and seccomp, its
// mirror of the process's address space (mm/mm.hpp): ptrace's address
// space may be used by the thread that made it only, seccomp's by one
// vcpu at a time; on module the threads of a process share one.  A
// system call that blocks (a pipe read, wait4, a futex) then blocks
// that thread alone, in the host kernel or on its Waiter (wait.hpp:
// block_locked(), the futexes).  At most --cpus of these threads run
// guest code at once (sched.hpp): a thread holds one of the guest's
// CPUs from the entry into the guest to the exit, and through the
// handling of an exit that cannot block (keeps_cpu() in kernel.cpp),
// but through nothing that may block.  The first process runs on the
// thread that called run().  fork() makes the child's thread, which
// makes the child's address space and copies the parent's memory into
// it while the parent waits; clone() of a thread makes a thread that
// makes its vcpu and mirror.  One more host thread expires the guest's
// timers (timer.cpp), under tasks_lock_.
//
// Locks, in the order they are taken (no lock is held across a guest
// run or a host call that can block, but for block_locked() and the
// timer thread's wait on timers_changed_, which release it):
//
//   tasks_lock_             the process table and tree, the threads and
//                           their ids, process groups and sessions, wait
//                           states, signal dispositions (SigHand, shared
//                           by CLONE_SIGHAND), masks and pending sets
//                           (Linux's tasklist_lock and siglock in one);
//                           which FdTable, FsStruct and Mm a task uses
//                           (changed by clone, unshare, execve, exit as
//                           Linux's task_lock() guards them); fields
//                           marked [tasks] (task.hpp), and the
//                           conditions block_locked() waits for
//   FutexTable::lock_       the futex queues (futex.hpp); taken without
//                           tasks_lock_, before an Mm's lock
//   Mm::lock_               a process's mappings and mirrors (recursive)
//   PhysMemory::lock_,      leaves: the allocator of guest physical
//   FdTable::lock_,         memory, a descriptor table (Linux's
//   FsStruct::lock_,        files_struct), a current directory ([fs]:
//   Waiter::lock_,          fs_struct), a thread's Waiter, --trace's
//   Tracer::lock_,          output, the vDSO's data page, the merged
//   Vdso::lock_,            --stats, an epoll's items (fs/anon.hpp)
//   stats_lock_,
//   EpollFile::lock_
//   Socket::lock_           a socket's own state (fs/socket.hpp), then
//     SocketSpace::lock_    the guest's socket names (a leaf)
//   WaitQueue::lock_        a wait queue's waiters (Process::wake), taken
//                           under tasks_lock_ or alone, before a Waiter's
//   CpuScheduler::lock_     the guest's CPUs (sched.hpp): taken alone or
//                           under tasks_lock_; under it a Waiter's (a
//                           grant) and the backend's kick (a preemption)
//
// Waiter::lock_ is a leaf under all of these.  A vcpu's kick() (its
// backend's own locks) is called under tasks_lock_ (a signal) and
// under CpuScheduler::lock_ (a preemption), never the other way round.
//   io_uring's done lock    a request's completion (host/uring.cpp),
//     Waiter::lock_         then the waiting thread's Waiter, notified
//   io_uring's sq lock      the ring's submission queue (a leaf)
//
// What a thread alone touches ([own] in task.hpp: its registers, its
// futex registrations) takes no lock; what the threads of a process
// share unlocked is [group] there.  task.hpp says what clone() shares
// (thread group, Mm, FdTable, FsStruct, SigHand, credentials).
#pragma once

#include <array>
#include <chrono>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <functional>
#include <future>
#include <thread>
#include <vector>

#include <signal.h>

#include <unpriv/backend.hpp>

#include "fs/socket.hpp"
#include "fs/vfs.hpp"
#include "futex.hpp"
#include "host/uring.hpp"
#include "mm/phys.hpp"
#include "sched.hpp"
#include "stats.hpp"
#include "task.hpp"
#include "trace.hpp"
#include "vdso.hpp"

namespace guest {

struct Config {
	std::optional<unpriv::BackendKind> backend;	// none: Backend::open()'s choice
	std::string root;				// the guest's /, a host directory
	std::vector<std::string> env;			// the guest's environment
	std::int64_t time_offset_ns = 0;		// guest time - host time
	bool trace = false;				// --trace
	bool stats = false;				// --stats
	host::UringUse io_uring = host::UringUse::measured;	// --host-io
	std::uint64_t memory = 64ull << 30;		// guest physical memory
	std::string hostname = "unpriv";		// the guest's uname nodename
	// --max-procs: processes (zombies included) the guest may have at
	// once; fork() beyond it is EAGAIN, as RLIMIT_NPROC.
	std::uint64_t max_procs = 4096;
	// --cpus: guest threads that run guest code at once (sched.hpp);
	// 0: the host's CPUs, at most 64.
	unsigned cpus = 0;
	// --time-slice: how long a thread runs the guest without an exit
	// while others wait for a CPU, before it is kicked out.
	std::chrono::nanoseconds time_slice = CpuScheduler::default_slice;
	// unpriv-run's descriptors 0 to 2 that were closed when it started
	// (/dev/null now): the guest gets them closed.
	std::array<bool, 3> std_closed{};
};

// unpriv-run's exit status when it fails itself, as env(1) and
// chroot(1) have them.
inline constexpr int status_failed = 125;
inline constexpr int status_cannot_run = 126;
inline constexpr int status_not_found = 127;

// "SIGSEGV", or "signal N" for a number without a name.
std::string signal_name(int signo);

// The host signal that interrupts a process's thread blocked in a host
// call (a pipe read, a sleep): its handler does nothing, the call fails
// with EINTR, and the run loop takes the guest's signal.
inline const int interrupt_signal = SIGUSR2;

class Kernel {
public:
	explicit Kernel(Config config);
	~Kernel();
	Kernel(const Kernel&) = delete;
	Kernel& operator=(const Kernel&) = delete;

	// Run program (looked up in the guest's PATH when it has no '/')
	// with argv until the guest is gone.  Returns unpriv-run's exit
	// status: the guest's, 128 + the signal that ended it, or one of
	// the status_* above.
	int run(const std::string& program, const std::vector<std::string>& argv);

	[[nodiscard]] const Config& config() const noexcept { return config_; }
	[[nodiscard]] Vfs& vfs() noexcept { return *vfs_; }
	[[nodiscard]] PhysMemory& phys() noexcept { return *phys_; }
	[[nodiscard]] Stats& stats() noexcept { return stats_; }
	[[nodiscard]] const Vdso& vdso() const noexcept { return *vdso_; }
	// The guest's AF_UNIX names (fs/socket.hpp).
	[[nodiscard]] std::shared_ptr<SocketSpace>& sockets() noexcept { return sockets_; }

	[[nodiscard]] FutexTable& futexes() noexcept { return futexes_; }

	// A signal from the guest port on the guest's behalf (SIGPIPE for
	// a write to a broken pipe): as Linux's send_sig(), SI_USER from
	// the process itself; for process p, or for thread t alone
	// (SIGPIPE is the writer's).
	void send_signal(Process& p, int signo);
	void send_signal(Task& t, int signo);

	// The process calls (sys/proc.cpp, sys/signal.cpp hand them their
	// checked arguments).
	struct CloneArgs {
		std::uint64_t flags = 0;	// CLONE_*, without the exit signal
		int exit_signal = SIGCHLD;
		std::uint64_t stack = 0;	// the child's rsp, 0: the parent's
		std::uint64_t tls = 0;		// CLONE_SETTLS
		std::uint64_t parent_tid = 0;	// CLONE_PARENT_SETTID
		std::uint64_t child_tid = 0;	// CLONE_CHILD_SETTID, _CLEARTID
	};
	// The child's pid, or the new thread's tid (CLONE_THREAD).  The
	// new task shares t's descriptors with CLONE_FILES, its directory
	// and umask with CLONE_FS, its process's signal dispositions with
	// CLONE_SIGHAND, its memory with CLONE_VM (task.hpp), and has
	// copies of them otherwise.  EAGAIN past --max-procs (threads
	// count); EINVAL for flags Linux refuses together (CLONE_THREAD
	// without CLONE_SIGHAND, CLONE_SIGHAND without CLONE_VM), and for
	// the namespaces.
	SysKResult<int> clone(Task& t, const CloneArgs& args);
	// unshare(2), as Linux's ksys_unshare(): CLONE_FILES and CLONE_FS
	// give t a copy of its descriptors, its directory and umask when
	// they are shared; CLONE_THREAD, CLONE_SIGHAND and CLONE_VM (each
	// implying the others) are EINVAL unless t's process has one
	// thread and shares neither its signal dispositions nor its
	// memory, when there is nothing to do.  The namespaces are EPERM,
	// as to a process without CAP_SYS_ADMIN (CLONE_NEWUSER too, as
	// Linux refuses it in a chroot); other flags EINVAL.
	KResult<void> unshare(Task& t, std::uint64_t flags);
	// exit(2): this thread ends; exit_group(2): all of them.
	void exit_thread(Task& t, int code);
	void exit_group(Task& t, int code);
	SysKResult<void> execve(Task& t, const std::string& path,
				std::vector<std::string> argv, std::vector<std::string> envp);

	// wait4 and waitid: which children (P_ALL, P_PID, P_PGID and its
	// id, 0 for the caller's group), options as waitid's (WEXITED,
	// WSTOPPED, WCONTINUED, WNOHANG, WNOWAIT, __WALL, __WCLONE).
	struct WaitResult {
		int pid = 0;		// 0: WNOHANG and nothing to report
		int status = 0;		// wait4's status word
		int code = 0;		// waitid's si_code (CLD_*)
		int value = 0;		// waitid's si_status
		CpuTimes cpu;		// wait4's rusage: the child's and its children's
	};
	SysKResult<WaitResult> wait(Task& t, int idtype, int id, int options);

	// kill(2): ESRCH when pid names no process.
	KResult<void> kill(Task& t, int pid, int signo);
	// rt_sigqueueinfo: info (its signo the signal) to process pid;
	// rt_tgsigqueueinfo (tid not 0): to its thread tid.  EPERM for an
	// si_code the kernel's or kill()'s to another process or thread,
	// ESRCH, EAGAIN past RLIMIT_SIGPENDING or SigPending::max_queued_rt
	// real-time signals queued.
	KResult<void> sigqueue(Task& t, int pid, const SigInfo& info, int tid = 0);
	// tkill(2) (tgid 0) and tgkill(2): ESRCH when tid names no thread
	// (of tgid).
	KResult<void> tkill(Task& t, int tgid, int tid, int signo);
	KResult<void> setpgid(Task& t, int pid, int pgid);
	KResult<int> setsid(Task& t);
	// getppid, getpgid, getsid of pid (0: the caller).  ESRCH.
	int ppid(Task& t);
	KResult<int> pgid_of(Task& t, int pid);
	KResult<int> sid_of(Task& t, int pid);

	// Signal state (sys/signal.cpp).
	KResult<SigAction> sigaction(Task& t, int signo, const SigAction *act);
	std::uint64_t sigprocmask(Task& t, int how, const std::uint64_t *set);
	std::uint64_t sigpending(Task& t);
	// rt_sigsuspend and pause: wait for a signal with mask in force
	// (none: the current one).  Returns SysResult::restart_nohand().
	SysResult sigsuspend(Task& t, std::optional<std::uint64_t> mask);
	// ppoll, pselect6, epoll_pwait: mask in force while the call
	// waits, as rt_sigsuspend's (a handler's frame then saves the
	// caller's).  False when a signal it lets through is pending: the
	// call returns SysResult::restart_nohand() at once.
	bool set_wait_mask(Task& t, std::uint64_t mask);
	// The call ended for another reason: the caller's mask again.
	void restore_wait_mask(Task& t);
	// rt_sigreturn: the registers and mask the frame at rsp saved.
	SysResult sigreturn(Task& t);
	// rt_sigtimedwait: take a signal of set, waiting until the
	// deadline (host CLOCK_MONOTONIC ns; none: for ever; 0: not at
	// all).  EAGAIN at the deadline, SysResult::eintr() for another
	// signal.
	SysKResult<SigInfo> sigtimedwait(Task& t, std::uint64_t set,
					 std::optional<std::int64_t> deadline);
	// signalfd (fs/signalfd.hpp).  Take the first signal of mask
	// pending for t, its own before its process's (Linux's
	// dequeue_signal()); with none, when watch, t watches its process's
	// signals from then on (until unwatch_signals()): its signal_wake
	// is written at each signal queued for the process or one of its
	// threads, so that a wait on it misses none.  signalfd_poll() says
	// whether there is one to take (Linux's signalfd_poll()), watching
	// the same way.  Both -ENOMEM, -EMFILE without a signal_wake.
	KResult<std::optional<SigInfo>> signalfd_take(Task& t, std::uint64_t mask, bool watch);
	KResult<bool> signalfd_poll(Task& t, std::uint64_t mask, bool watch);
	void unwatch_signals(Task& t);
	// The signals queued for t's process so far, for epoll's edge
	// triggering.
	std::uint64_t signal_events(Task& t);
	// signalfd4 changed a mask: the watchers of t's process look again.
	void signalfd_changed(Task& t);
	// Whether t must stop waiting: a signal to take, or its end.
	bool interrupted(Task& t);
	// sigaltstack(2), with the thread's stack pointer sp: the old
	// stack as stack_t's fields, and the new one set.  EPERM while
	// on it, EINVAL for bad flags, ENOMEM below MINSIGSTKSZ.
	struct AltStack {
		std::uint64_t sp;
		int flags;
		std::uint64_t size;
	};
	KResult<AltStack> sigaltstack(Task& t, const AltStack *ss);

	// The guest's terminals (tty.cpp): the host terminals it was
	// handed, each with a session and a foreground process group of
	// the guest's own (the host terminal's are never changed).  tty is
	// the terminal's host device number.  As Linux's tiocgpgrp(),
	// tiocgsid(), tiocspgrp(), tiocsctty(), tiocnotty(); and
	// tty_check_change(): a process of a background group that reads
	// (SIGTTIN) or changes (SIGTTOU) its terminal stops its group
	// (SysResult::restart_sys()), or gets EIO.
	KResult<int> tty_getpgrp(Task& t, dev_t tty);
	KResult<int> tty_getsid(Task& t, dev_t tty);
	SysKResult<void> tty_setpgrp(Task& t, dev_t tty, int pgrp);
	KResult<void> tty_setctty(Task& t, dev_t tty, bool readable, int steal);
	KResult<void> tty_noctty(Task& t, dev_t tty);
	SysKResult<void> tty_check(Task& t, dev_t tty, int signo);
	// The host terminal's signals (tty.cpp): SIGINT, SIGQUIT, SIGTSTP
	// and SIGWINCH, blocked in every thread of unpriv-run, are taken by
	// a thread of their own.  One the terminal sent (^C, ^\, ^Z, a
	// resize) for unpriv-run's group goes to the guest's foreground
	// group on that terminal, as Linux's n_tty isig() sends it, unless
	// that is the group of the guest's init, which takes the signal's
	// default action: then, as one sent by kill(1) from outside, it is
	// unpriv-run's own (it ends, stops, or ignores it).
	static const sigset_t& terminal_signals();
	void terminal_signals_main(const std::atomic<bool>& done);
	// The caller's controlling terminal (/dev/tty), null for none.
	std::shared_ptr<File> controlling_terminal(Task& t);

	// Timers (timer.cpp): setitimer/getitimer's ITIMER_REAL and the
	// POSIX timers of the caller's process, in host CLOCK_MONOTONIC
	// nanoseconds; each returns the old value and interval.
	struct TimerValue {
		std::int64_t value = 0;		// time to the next expiry, 0: disarmed
		std::int64_t interval = 0;
	};
	TimerValue set_itimer(Task& t, const TimerValue *v);
	// timer_create: a new timer's id; EAGAIN past the limit.
	// value_is_id: its signal's si_value is the id (no sigevent).
	KResult<int> timer_create(Task& t, const GuestTimer& how, bool value_is_id);
	// timer_settime: v.value is absolute on the timer's clock when
	// abs (the guest's CLOCK_REALTIME for a CLOCK_REALTIME timer).
	// EINVAL for an id the process has not.
	KResult<TimerValue> timer_settime(Task& t, int id, const TimerValue *v, bool abs);
	KResult<int> timer_getoverrun(Task& t, int id);
	KResult<void> timer_delete(Task& t, int id);


	// The number of guest processes now, zombies included.
	[[nodiscard]] std::size_t nr_processes();

	// Resources (resource.cpp).  The guest's CPUs, --cpus (the
	// host's, at most 64, by default): sched_getaffinity, /proc/stat,
	// and how many threads run the guest at once.
	[[nodiscard]] unsigned cpus() const noexcept { return sched_.cpus(); }
	[[nodiscard]] static unsigned host_cpus() noexcept;
	[[nodiscard]] std::uint64_t all_cpus() const noexcept;
	[[nodiscard]] CpuScheduler& scheduler() noexcept { return sched_; }
	// CLOCK_BOOTTIME: the guest's uptime.
	[[nodiscard]] static std::uint64_t now_since_boot_ns() noexcept;
	// getrusage(2): the caller's CPU time, or its reaped children's.
	CpuTimes cpu_times(Task& t, bool children);
	// getpriority(2) (20 - nice), setpriority(2): EINVAL, ESRCH, and
	// the host's EACCES for a priority raised without CAP_SYS_NICE.
	KResult<int> getpriority(Task& t, int which, int who);
	KResult<void> setpriority(Task& t, int which, int who, int nice);
	// sched_getaffinity(2), sched_setaffinity(2) of pid (0: the caller):
	// a mask of the guest's CPUs.  ESRCH; EINVAL for none of them.
	KResult<std::uint64_t> affinity(Task& t, int pid);
	KResult<void> set_affinity(Task& t, int pid, std::uint64_t mask);
	// setuid(2) and its kin (sys/cred.cpp): the caller's process takes
	// change's ids (its groups stay), under tasks_lock_, where others
	// read them; change says whether it may, from the ids it had.
	KResult<void> change_ids(Task& t, const std::function<bool(Credentials&)>& change);
	// The caller's execve succeeded, or it named itself (PR_SET_NAME):
	// what others see of it (Process::shown).
	void note_exec(Task& t);
	void note_name(Task& t);

	// What /proc shows of a process (null: there is none).
	struct ProcInfo {
		int pid = 0, ppid = 0, pgid = 0, sid = 0, nice = 0;
		char state = 'R';
		std::uint64_t start_ns = 0;
		CpuTimes cpu, children;
		Process::Shown shown;
		Credentials cred;
		std::uint64_t cpu_mask = 0;
		std::uint64_t vsize = 0;	// bytes mapped
		// /proc/PID/status's signal lines: the first thread's pending
		// set and mask, the process's pending set, its ignored and
		// caught signals, its queued real-time signals.
		int threads = 0;
		std::uint64_t sig_pending = 0, sig_shared = 0, sig_blocked = 0;
		std::uint64_t sig_ignored = 0, sig_caught = 0;
		std::size_t sig_queued = 0;
	};
	std::optional<ProcInfo> proc_info(int pid);
	std::vector<int> pids();
	// /proc/loadavg's and /proc/stat's figures.
	struct Load {
		int total = 0, running = 0, last_pid = 0;
		std::uint64_t forks = 0;
		CpuTimes cpu;	// of every process, gone ones included
	};
	Load load();

private:
	int start(const std::string& program, const std::vector<std::string>& argv);
	void run_task(Task& t);
	void on_syscall(Task& t, const unpriv::SyscallExit& e);
	// The handler's result: the trace, the guest's rax, a restart for
	// finish_restart() (sys/syscall.hpp).
	void finish_syscall(Task& t, const unpriv::SyscallExit& e, const SyscallEntry *entry,
			    SysResult ret);
	void on_fault(Task& t, const unpriv::FaultExit& e);
	void on_trap(Task& t, const unpriv::TrapExit& e);
	// A synchronous signal from the guest's own instruction.
	// A synchronous signal from the guest's own instruction, for the
	// thread that ran it.
	void force_signal(Task& t, const SigInfo& info, bool reset = false);
	void force_fault(Task& t, int signo, int code, std::uint64_t addr);
	// The process ends as by signo's default action.
	void kill_group(Process& p, int signo);
	int exit_status() const;

	// The child's host thread: make its address space, vcpu and memory
	// (start says how that went, 0 or an errno), then run it.  start is
	// the thread's own: the parent may return, and destroy what it
	// has, while set_value() is still on its way out.
	// What a new task shares with its maker, or has a copy of:
	// Linux's copy_files() and copy_fs(), by CLONE_FILES and CLONE_FS.
	struct TaskFiles {
		std::shared_ptr<FdTable> files;
		std::shared_ptr<FsStruct> fs;
	};
	static TaskFiles copy_files(Task& t, std::uint64_t flags);
	void child_main(std::shared_ptr<Process> child, Process& parent, unpriv::Regs regs,
			std::vector<std::byte> fpu, CloneArgs args, std::uint64_t blocked,
			AltStack sas, std::shared_ptr<Mm> vm, TaskFiles files,
			std::promise<int> start);
	// A new thread's host thread: its vcpu and mirror, then run it.
	void thread_main(Process& p, int tid, unpriv::Regs regs, std::vector<std::byte> fpu,
			 std::uint64_t blocked, CloneArgs args, TaskFiles files,
			 std::promise<int> start);
	SysKResult<int> clone_thread(Task& t, const CloneArgs& args);
	// The run loop's end of a thread: its futex registrations (the
	// robust list, clear_child_tid), its place in the process; the
	// last one ends the process.
	void end_task(Task& t);
	// Linux's exit_robust_list(): each robust futex t holds is marked
	// FUTEX_OWNER_DIED and a waiter woken (sys/futex.cpp).
	void exit_robust_list(Task& t);
	// The end of a process: its memory and files go, it becomes a
	// zombie, its children go to init, its parent is told.
	void exit_process(Task& t);
	// execve(): the other threads end; t takes the pid.  false when t
	// is killed meanwhile.
	bool de_thread(Task& t);
	// Before the guest runs again: the pending signals' actions.
	void handle_signals(Task& t);
	// A handler's frame on the guest's stack (signal.cpp).
	// A handler's frame on the guest's stack (signal.cpp); false when
	// it could not be written (force_signal() then made SIGSEGV
	// pending).
	bool setup_frame(Task& t, const SigInfo& info, const SigAction& act,
			 std::uint64_t old_mask);
	// The system call's restart once no signal is delivered, or one
	// is (kernel.cpp).
	void finish_restart(Task& t, const SigAction *handler);

	// tasks_lock_ held:
	[[nodiscard]] Process *find_locked(int pid);
	[[nodiscard]] int alloc_pid_locked();
	void join_released_threads();
	// Thread tid (of process tgid, unless 0), or null.
	[[nodiscard]] Task *find_task_locked(int tgid, int tid);
	// info for p, or for its thread t alone, sent by process from (0:
	// by the guest port).  False when it was not queued (ignored; a
	// standard signal pending).
	bool signal_locked(Process& p, const SigInfo& info, int from);
	bool signal_locked(Task& t, const SigInfo& info, int from);
	void signal_locked(Process& p, int signo)
	{
		signal_locked(p, SigInfo::from_process(signo, SI_KERNEL, 0, 0), 0);
	}
	// What sending signo does before it is queued (SIGCONT and the stop
	// signals undo each other); false: it is dropped.  to: the thread
	// it is for (null: the process's).
	bool prepare_signal_locked(Process& p, Task *to, int signo, int from);
	// The first pending signo of from (p's or its thread's), and what
	// taking it does (a POSIX timer's overruns).
	SigInfo dequeue_locked(Process& p, SigPending& from, int signo);
	// Forget p's pending signals in mask, the process's and each
	// thread's.
	void discard_locked(Process& p, std::uint64_t mask);
	// A thread's end: its pending signals go.
	void flush_thread_pending_locked(Task& t);
	// The timer thread: expires each timer at its time (timer.cpp).
	void timer_main();
	void fire_locked(Process& p, GuestTimer& tm, int id, std::int64_t now);
	// Host CLOCK_MONOTONIC now, and a time on the guest's clock as one.
	[[nodiscard]] static std::int64_t monotonic_now() noexcept;
	[[nodiscard]] std::int64_t to_monotonic(int clock, std::int64_t guest_ns) const noexcept;
	void notify_parent_locked(Process& p, int why);
	// The zombie's last trace; its host threads, to join unlocked.
	std::vector<std::thread> release_locked(Process& p);
	void interrupt_locked(Task& t);
	// The process ends with wait status ws (exit_group, a fatal
	// signal): every thread leaves its run loop.
	void group_exit_locked(Process& p, int ws);
	// Whether t must stop blocking: a signal to take, or its end.
	[[nodiscard]] bool interrupted_locked(Task& t) const;
	// Whether t ends: its group's exit, its own, SIGKILL pending.
	[[nodiscard]] bool killed_locked(Task& t) const;
	// The one way a guest thread blocks in the guest kernel (Linux's
	// wait_event_interruptible() and wait_event_killable(), gVisor's
	// Task.block()): t sleeps on its Waiter, queued on q, with
	// tasks_lock_ (held by lock) released meanwhile, until done() holds
	// (checked under the lock; whoever makes it true notifies q after),
	// the deadline, or: by signal, a signal for t or its end
	// (interrupted_locked()); by kill, its end only (killed_locked()),
	// a signal then staying pending for after the call.
	enum class Block { done, interrupted, timed_out };
	enum class BlockBy { signal, kill };
	Block block_locked(Task& t, std::unique_lock<std::mutex>& lock, WaitQueue& q,
			   Deadline deadline, BlockBy by, const std::function<bool()>& done);
	// A signal was queued for p or one of its threads: its signalfd
	// watchers are woken.
	void wake_signal_watchers_locked(Process& p);
	// resource.cpp: p's first thread starts on this host thread; p's
	// CPU time now; p's last thread ends.
	void note_host_locked(Process& p);
	CpuTimes cpu_now_locked(const Process& p);
	void note_exit_locked(Process& p);
	void stop_locked(Process& p, int signo);

	Config config_;
	CpuScheduler sched_;	// the guest's CPUs; locks itself
	std::optional<unpriv::Backend> backend_;
	std::optional<PhysMemory> phys_;
	std::optional<Vdso> vdso_;
	std::unique_ptr<Vfs> vfs_;
	std::shared_ptr<SocketSpace> sockets_ = std::make_shared<SocketSpace>();
	std::unique_ptr<Tracer> tracer_;
	Stats stats_;			// stats_lock_; each task's, merged at its end
	Mm::Stats mm_stats_;		// stats_lock_
	std::mutex stats_lock_;
	std::atomic<bool> failed_ = false;	// the guest port gave up on the guest

	// The first process's thread, until it is gone: run() runs it.
	std::unique_ptr<Task> first_task_;
	FutexTable futexes_;

	std::mutex tasks_lock_;
	std::map<int, std::shared_ptr<Process>> procs_;	// [tasks] all, until reaped
	std::map<int, Task *> tasks_;	// [tasks] every thread, by tid, while it runs
	std::size_t nr_threads_ = 0;	// [tasks] threads beyond each process's first
	Process *init_ = nullptr;	// [tasks] pid 1, while it runs
	int init_status_ = 0;		// [tasks] its wait status, once gone
	int last_pid_ = 1;		// [tasks]
	std::uint64_t forks_ = 0;	// [tasks] processes made, as /proc/stat's
	CpuTimes reaped_cpu_;		// [tasks] CPU time of processes gone
	int running_ = 0;		// [tasks] host threads in run_task (or about to)
	std::condition_variable all_done_;	// running_ fell to 0
	std::vector<std::thread> unjoined_;	// [tasks] released, to join
	// A guest terminal: the session it is the controlling terminal of
	// (0: none) and its foreground process group.
	struct Terminal {
		int sid = 0;
		int pgrp = 0;
		std::shared_ptr<File> file;	// the handed file that is it
	};
	std::map<dev_t, Terminal> ttys_;	// [tasks]
	// A session leader lets go of its terminal: its foreground group
	// gets SIGHUP and SIGCONT, the session's processes lose it.
	void disassociate_locked(Process& leader);
	// Whether no process of group pgrp has a parent in another group
	// of its session (stop signals then do not stop it).
	[[nodiscard]] bool orphaned_pgrp_locked(int pgrp);

	// The timer thread waits here for the next expiry, or a change.
	std::condition_variable timers_changed_;
	bool timers_done_ = false;	// [tasks] the end of the run
};

} // namespace guest
