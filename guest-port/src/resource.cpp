// SPDX-License-Identifier: GPL-2.0
//
// What a process uses and what others see of it: CPU time (getrusage,
// times, wait4's rusage), priority (getpriority, setpriority), the
// guest's CPUs (sched_getaffinity), and the figures /proc shows of every
// process.  The fields are Process's [tasks] ones (task.hpp).
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "host/thread.hpp"
#include "host/time.hpp"
#include "kernel.hpp"

namespace guest {
namespace {

// Bytes [start, end) of the process's memory: its argument strings.
std::string guest_bytes(Task& t, std::uint64_t start, std::uint64_t end)
{
	std::string s(end > start ? end - start : 0, '\0');
	if (!t.mm().read(start, std::as_writable_bytes(std::span(s))))
		return {};
	return s;
}

} // namespace

unsigned Kernel::host_cpus() noexcept
{
	return std::clamp(std::thread::hardware_concurrency(), 1u, CpuScheduler::max_cpus);
}

// The mask of every guest CPU.
std::uint64_t Kernel::all_cpus() const noexcept
{
	return cpus() == 64 ? ~0ull : (1ull << cpus()) - 1;
}

std::uint64_t Kernel::now_since_boot_ns() noexcept
{
	struct timespec ts = host::clock_gettime(CLOCK_BOOTTIME);
	return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000 + static_cast<std::uint64_t>(ts.tv_nsec);
}

void Kernel::note_host_locked(Process& p)
{
	p.host_tid = host::gettid();
	p.stub_pid = stub_pid(p.mm().address_space());
}

void Kernel::note_exec(Task& t)
{
	Process& p = t.process();
	Process::Shown shown{p.comm, p.exe, guest_bytes(t, p.arg_start, p.arg_end),
			     guest_bytes(t, p.env_start, p.env_end)};
	pid_t stub = stub_pid(p.mm().address_space());
	p.vsize = p.mm().size();
	// The old stub's time, read while it is still there.
	CpuTimes gone = stub != p.stub_pid ? host_cpu_times(p.stub_pid) : CpuTimes{};
	std::lock_guard lock(tasks_lock_);
	p.shown = std::move(shown);
	p.cpu_gone += gone;
	p.stub_pid = stub;
}

void Kernel::note_name(Task& t)
{
	std::lock_guard lock(tasks_lock_);
	t.process().shown.comm = t.process().comm;
}

void Kernel::note_exit_locked(Process& p)
{
	p.cpu_gone = cpu_now_locked(p);
	// A zombie has no memory: no arguments, no environment, no size.
	p.shown.cmdline.clear();
	p.shown.environ.clear();
	p.vsize = 0;
	p.host_tid = 0;
	p.stub_pid = 0;
}

CpuTimes Kernel::cpu_now_locked(const Process& p)
{
	return p.cpu_gone + host_cpu_times(p.host_tid) + host_cpu_times(p.stub_pid);
}

CpuTimes Kernel::cpu_times(Task& t, bool children)
{
	Process& p = t.process();
	CpuTimes gone;
	pid_t tid = 0, stub = 0;
	{
		std::lock_guard lock(tasks_lock_);
		if (children)
			return p.cpu_children;
		gone = p.cpu_gone;
		tid = p.host_tid;
		stub = p.stub_pid;
	}
	// The host's figures, read unlocked.
	return gone + host_cpu_times(tid) + host_cpu_times(stub);
}

// --- priority ---------------------------------------------------------------

namespace {

// The processes which and who name (getpriority(2)); who 0: the caller's.
template <class Procs, class Fn>
bool for_each_named(Procs& procs, Process& self, int which, int who, Fn fn)
{
	bool any = false;
	for (auto& [pid, p] : procs) {
		if (p->state == Process::State::zombie)
			continue;
		bool match = which == PRIO_PROCESS ? p->pid == (who ? who : self.pid)
			     : which == PRIO_PGRP  ? p->pgid == (who ? who : self.pgid)
						   : p->cred.ruid == static_cast<uid_t>(who ? who : static_cast<int>(self.cred.ruid));
		if (match) {
			fn(*p);
			any = true;
		}
	}
	return any;
}

} // namespace

KResult<int> Kernel::getpriority(Task& t, int which, int who)
{
	if (which != PRIO_PROCESS && which != PRIO_PGRP && which != PRIO_USER)
		return kerr(EINVAL);
	std::lock_guard lock(tasks_lock_);
	int best = 20;
	if (!for_each_named(procs_, t.process(), which, who,
			    [&](Process& p) { best = std::min(best, p.nice); }))
		return kerr(ESRCH);
	return 20 - best;	// the system call's: 40 .. 1
}

KResult<void> Kernel::change_ids(Task& t, const std::function<bool(Credentials&)>& change)
{
	std::lock_guard lock(tasks_lock_);
	Credentials& c = t.process().cred;
	Credentials n = c;
	if (!change(n))
		return kerr(EPERM);
	c.ruid = n.ruid, c.euid = n.euid, c.suid = n.suid, c.fsuid = n.fsuid;
	c.rgid = n.rgid, c.egid = n.egid, c.sgid = n.sgid, c.fsgid = n.fsgid;
	return {};
}

KResult<void> Kernel::setpriority(Task& t, int which, int who, int nice)
{
	if (which != PRIO_PROCESS && which != PRIO_PGRP && which != PRIO_USER)
		return kerr(EINVAL);
	nice = std::clamp(nice, -20, 19);
	std::lock_guard lock(tasks_lock_);
	int err = 0;
	// The guest's priority is its host thread's and its stub's: the host
	// says whether it may be raised (EACCES without CAP_SYS_NICE).
	bool any = for_each_named(procs_, t.process(), which, who, [&](Process& p) {
		for (pid_t tid : {p.host_tid, p.stub_pid}) {
			if (!tid)
				continue;
			if (auto r = host::set_nice(tid, nice); !r && r.error() != ESRCH) {
				err = r.error();
				return;
			}
		}
		p.nice = nice;
	});
	if (!any)
		return kerr(ESRCH);
	if (err)
		return kerr(err);
	return {};
}

// --- CPUs -------------------------------------------------------------------

KResult<std::uint64_t> Kernel::affinity(Task& t, int pid)
{
	std::lock_guard lock(tasks_lock_);
	Process *p = pid ? find_locked(pid) : &t.process();
	if (!p)
		return kerr(ESRCH);
	return p->cpu_mask & all_cpus();
}

KResult<void> Kernel::set_affinity(Task& t, int pid, std::uint64_t mask)
{
	std::uint64_t all = all_cpus();
	if (!(mask & all))
		return kerr(EINVAL);
	std::lock_guard lock(tasks_lock_);
	Process *p = pid ? find_locked(pid) : &t.process();
	if (!p)
		return kerr(ESRCH);
	p->cpu_mask = mask & all;
	return {};
}

// --- what /proc shows ---------------------------------------------------------

std::vector<int> Kernel::pids()
{
	std::lock_guard lock(tasks_lock_);
	std::vector<int> v;
	for (const auto& [pid, p] : procs_)
		v.push_back(pid);
	return v;
}

namespace {

// What fs/proc/array.c's task_sig() shows: the thread group leader's own
// pending set and mask (here the thread whose tid is the pid; none once
// it has gone), the process's pending set, and which signals its
// handlers ignore (SIG_IGN) and catch.  Under tasks_lock_.
void signal_figures(const Process& p, Kernel::ProcInfo& i)
{
	i.sig_shared = p.pending.set;
	i.sig_queued = p.pending.queued_rt();
	for (const Task *t : p.tasks) {
		i.sig_queued += t->pending.queued_rt();
		if (t->tid == p.pid) {
			i.sig_pending = t->pending.set;
			i.sig_blocked = t->blocked;
		}
	}
	for (int signo = 1; signo <= nsig; signo++) {
		std::uint64_t h = p.sighand->actions[signo - 1].handler;
		if (h == reinterpret_cast<std::uint64_t>(SIG_IGN))
			i.sig_ignored |= sigbit(signo);
		else if (h != reinterpret_cast<std::uint64_t>(SIG_DFL))
			i.sig_caught |= sigbit(signo);
	}
}

} // namespace

std::optional<Kernel::ProcInfo> Kernel::proc_info(int pid)
{
	ProcInfo i;
	pid_t tid = 0, stub = 0;
	{
		std::lock_guard lock(tasks_lock_);
		Process *p = find_locked(pid);
		if (!p)
			return std::nullopt;
		i.pid = p->pid;
		i.ppid = p->parent ? p->parent->pid : 0;
		i.pgid = p->pgid;
		i.sid = p->sid;
		i.state = p->state == Process::State::zombie  ? 'Z'
			  : p->state == Process::State::stopped ? 'T'
								: 'S';
		i.nice = p->nice;
		i.start_ns = p->start_ns;
		i.cpu = p->cpu_gone;
		i.children = p->cpu_children;
		i.shown = p->shown;
		i.cred = p->cred;
		i.cpu_mask = p->cpu_mask & all_cpus();
		i.vsize = p->vsize;
		i.threads = static_cast<int>(p->tasks.size());
		signal_figures(*p, i);
		if (p->state != Process::State::zombie) {
			tid = p->host_tid;
			stub = p->stub_pid;
		}
	}
	// The host's figures, read unlocked: a running process runs on its
	// host thread (the module; and while the guest port handles its
	// system call) or in its stub (ptrace, seccomp); else it sleeps.
	bool thread_runs = false, stub_runs = false;
	i.cpu += host_cpu_times(tid, &thread_runs);
	i.cpu += host_cpu_times(stub, &stub_runs);
	if (i.state == 'S' && (thread_runs || stub_runs))
		i.state = 'R';
	return i;
}

Kernel::Load Kernel::load()
{
	Load l;
	std::vector<std::pair<pid_t, pid_t>> hosts;
	{
		std::lock_guard lock(tasks_lock_);
		l.last_pid = last_pid_;
		l.forks = forks_;
		l.cpu = reaped_cpu_;
		for (const auto& [pid, p] : procs_) {
			l.total++;
			l.cpu += p->cpu_gone;
			if (p->state != Process::State::zombie)
				hosts.emplace_back(p->host_tid, p->stub_pid);
		}
	}
	for (auto [tid, stub] : hosts) {
		bool thread_runs = false, stub_runs = false;
		l.cpu += host_cpu_times(tid, &thread_runs);
		l.cpu += host_cpu_times(stub, &stub_runs);
		l.running += thread_runs || stub_runs;
	}
	return l;
}

} // namespace guest
