// SPDX-License-Identifier: GPL-2.0
//
// The process and its thread: fork (clone, clone3, vfork), execve,
// exit, wait4 and waitid, the ids, process groups and sessions, the
// thread's registrations with the kernel (set_tid_address, robust
// futexes, rseq), arch_prctl, prctl, resource limits, sched_yield,
// umask.  The work is the kernel's (process.cpp): here the arguments
// are checked and the results written.
#include <asm/prctl.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstring>

#include "host/thread.hpp"
#include "kernel.hpp"
#include "sys/handlers.hpp"
#include "task.hpp"

namespace guest {
namespace {

// The rlimit of resource for pid (0 or the process itself): ESRCH
// for any other process, EINVAL for a resource Linux does not have.
KResult<struct rlimit *> rlimit_of(Task& t, std::uint64_t pid, std::uint64_t resource)
{
	if (pid != 0 && static_cast<int>(pid) != t.process().pid)
		return kerr(ESRCH);
	if (resource >= RLIM_NLIMITS)
		return kerr(EINVAL);
	return &t.process().rlimits[resource];
}

KResult<void> set_rlimit(Task& t, std::uint64_t resource, struct rlimit *lim,
			 const struct rlimit& to)
{
	if (to.rlim_cur > to.rlim_max)
		return kerr(EINVAL);
	// Raising the hard limit takes CAP_SYS_RESOURCE; the guest has the
	// guest port's user's.
	if (to.rlim_max > lim->rlim_max && t.process().cred.euid != 0)
		return kerr(EPERM);
	if (resource == RLIMIT_NOFILE) {
		constexpr rlim_t nr_open = 1 << 20;	// fs.nr_open
		if (to.rlim_max > nr_open)
			return kerr(EPERM);
		t.files().set_limit(static_cast<unsigned>(to.rlim_cur));
	}
	*lim = to;
	return {};
}

SysResult do_clone(Task& t, const Kernel::CloneArgs& args)
{
	return sys_ret(t.kernel().clone(t, args));
}

// execve's argv and envp: at most this many bytes of strings (Linux's
// limit is a quarter of the stack rlimit: 2 MiB), each at most
// MAX_ARG_STRLEN.
constexpr std::size_t arg_bytes_max = 2 << 20;
constexpr std::size_t arg_strlen_max = 32 * page_size;

KResult<std::vector<std::string>> read_strings(Task& t, std::uint64_t addr, std::size_t& total)
{
	std::vector<std::string> v;
	if (!addr)
		return v;
	for (std::uint64_t p = addr;; p += 8) {
		auto s = t.mm().read_obj<std::uint64_t>(p);
		if (!s)
			return kerr(EFAULT);
		if (!*s)
			return v;
		auto str = t.mm().read_string(*s, arg_strlen_max);
		if (!str)
			return kerr(str.error() == ENAMETOOLONG ? E2BIG : str.error());
		total += str->size() + 1 + 8;
		if (total > arg_bytes_max)
			return kerr(E2BIG);
		v.push_back(std::move(*str));
	}
}

// wait4's and waitid's id and options, as waitid's.
SysResult do_wait(Task& t, int idtype, int id, int options, std::uint64_t status_addr,
		  std::uint64_t info_addr, std::uint64_t rusage_addr)
{
	auto r = t.kernel().wait(t, idtype, id, options);
	if (!r)
		return r.error().result();
	if (status_addr && r->pid && !t.mm().write_obj<int>(status_addr, r->status))
		return -EFAULT;
	if (info_addr) {
		siginfo_t si{};
		if (r->pid) {
			si.si_signo = SIGCHLD;
			si.si_code = r->code;
			si.si_pid = r->pid;
			si.si_uid = t.process().cred.ruid;
			si.si_status = r->value;
		}
		if (!t.mm().write_obj(info_addr, si))
			return -EFAULT;
	}
	if (rusage_addr) {
		// The child's CPU time and its reaped children's.
		struct rusage ru = to_rusage(r->cpu);
		if (!t.mm().write_obj(rusage_addr, ru))
			return -EFAULT;
	}
	return idtype == P_ALL && info_addr ? 0 : r->pid;
}

} // namespace

GUEST_SYSCALL(fork)
{
	(void)a;
	return do_clone(t, {});
}

GUEST_SYSCALL(vfork)
{
	(void)a;
	// The child gets a copy of the memory, not the parent's own: what
	// a vfork child may do (exec or _exit) works the same.
	return do_clone(t, {.flags = CLONE_VFORK});
}

GUEST_SYSCALL(clone)
{
	// x86-64: flags, stack, parent_tid, child_tid, tls.
	return do_clone(t, {.flags = a[0] & ~std::uint64_t{0xff},
			    .exit_signal = static_cast<int>(a[0] & 0xff),
			    .stack = a[1],
			    .tls = a[4],
			    .parent_tid = a[2],
			    .child_tid = a[3]});
}

GUEST_SYSCALL(clone3)
{
	struct clone_args ca{};
	if (a[1] < CLONE_ARGS_SIZE_VER0 || a[1] > page_size)
		return -EINVAL;
	std::size_t n = std::min<std::size_t>(a[1], sizeof(ca));
	if (!t.mm().read(a[0], std::as_writable_bytes(std::span(&ca, 1)).first(n)))
		return -EFAULT;
	// A larger struct than ours: what we do not know must be zero.
	for (std::uint64_t off = sizeof(ca); off < a[1]; off++) {
		auto b = t.mm().read_obj<std::uint8_t>(a[0] + off);
		if (!b)
			return -EFAULT;
		if (*b)
			return -E2BIG;
	}
	// pidfd is read only with CLONE_PIDFD (which the guest port has not):
	// the C library passes one regardless.
	if (((ca.flags & (CLONE_THREAD | CLONE_PARENT)) && ca.exit_signal) ||
	    ca.exit_signal > 64 || (ca.flags & CLONE_PIDFD) || ca.set_tid_size ||
	    ca.cgroup || (ca.flags & 0xff) || (ca.stack_size && !ca.stack) || (!ca.stack_size && ca.stack))
		return -EINVAL;
	return do_clone(t, {.flags = ca.flags,
			    .exit_signal = static_cast<int>(ca.exit_signal),
			    .stack = ca.stack ? ca.stack + ca.stack_size : 0,
			    .tls = ca.tls,
			    .parent_tid = ca.parent_tid,
			    .child_tid = ca.child_tid});
}

GUEST_SYSCALL(execve)
{
	auto path = t.mm().read_string(a[0], PATH_MAX - 1);
	if (!path)
		return -path.error();
	std::size_t total = 0;
	auto argv = read_strings(t, a[1], total);
	if (!argv)
		return -argv.error();
	auto envp = read_strings(t, a[2], total);
	if (!envp)
		return -envp.error();
	auto r = t.kernel().execve(t, *path, std::move(*argv), std::move(*envp));
	if (!r)
		return r.error().result();
	return SysResult::noreturn();
}

GUEST_SYSCALL(wait4)
{
	auto pid = static_cast<int>(a[0]);
	auto options = static_cast<int>(a[2]);
	if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL))
		return -EINVAL;
	if (pid == INT_MIN)
		return -ESRCH;
	int idtype = pid > 0 ? P_PID : pid == -1 ? P_ALL : P_PGID;
	int id = pid > 0 ? pid : pid == -1 ? 0 : -pid;
	return do_wait(t, idtype, id, options | WEXITED, a[1], 0, a[3]);
}

GUEST_SYSCALL(waitid)
{
	auto idtype = static_cast<int>(a[0]);
	auto id = static_cast<int>(a[1]);
	auto options = static_cast<int>(a[3]);
	if (options & ~(WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED | __WNOTHREAD |
			__WCLONE | __WALL))
		return -EINVAL;
	if (!(options & (WEXITED | WSTOPPED | WCONTINUED)))
		return -EINVAL;
	if (idtype == P_PIDFD)
		return -EINVAL;	// no pidfds in the guest
	if (idtype != P_ALL && idtype != P_PID && idtype != P_PGID)
		return -EINVAL;
	if (idtype == P_PID && id <= 0)
		return -EINVAL;
	if (id < 0)
		return -EINVAL;
	auto r = do_wait(t, idtype, id, options, 0, a[2], a[4]);
	return r.failed() ? r : 0;
}

GUEST_SYSCALL(kill)
{
	return sys_ret(t.kernel().kill(t, static_cast<int>(a[0]), static_cast<int>(a[1])));
}

GUEST_SYSCALL(tkill)
{
	if (static_cast<int>(a[0]) <= 0)
		return -EINVAL;
	return sys_ret(t.kernel().tkill(t, 0, static_cast<int>(a[0]), static_cast<int>(a[1])));
}

GUEST_SYSCALL(tgkill)
{
	if (static_cast<int>(a[0]) <= 0 || static_cast<int>(a[1]) <= 0)
		return -EINVAL;
	return sys_ret(t.kernel().tkill(t, static_cast<int>(a[0]), static_cast<int>(a[1]),
					static_cast<int>(a[2])));
}

GUEST_SYSCALL(setpgid)
{
	return sys_ret(t.kernel().setpgid(t, static_cast<int>(a[0]), static_cast<int>(a[1])));
}

GUEST_SYSCALL(setsid)
{
	(void)a;
	return sys_ret(t.kernel().setsid(t));
}

GUEST_SYSCALL(exit)
{
	// This thread; the last one's ends the process.
	t.kernel().exit_thread(t, static_cast<int>(a[0]));
	return SysResult::noreturn();
}

GUEST_SYSCALL(exit_group)
{
	t.kernel().exit_group(t, static_cast<int>(a[0]));
	return SysResult::noreturn();
}

GUEST_SYSCALL(getpid)
{
	(void)a;
	return t.process().pid;
}

GUEST_SYSCALL(getppid)
{
	(void)a;
	return t.kernel().ppid(t);
}

GUEST_SYSCALL(gettid)
{
	(void)a;
	return t.tid;
}

GUEST_SYSCALL(getpgrp)
{
	(void)a;
	return sys_ret(t.kernel().pgid_of(t, 0));
}

GUEST_SYSCALL(getpgid)
{
	if (static_cast<int>(a[0]) < 0)
		return -ESRCH;
	return sys_ret(t.kernel().pgid_of(t, static_cast<int>(a[0])));
}

GUEST_SYSCALL(getsid)
{
	if (static_cast<int>(a[0]) < 0)
		return -ESRCH;
	return sys_ret(t.kernel().sid_of(t, static_cast<int>(a[0])));
}

GUEST_SYSCALL(set_tid_address)
{
	t.clear_child_tid = a[0];
	return t.tid;
}

GUEST_SYSCALL(rseq)
{
	// Restartable sequences need the kernel to rewrite the guest's
	// registers on preemption; the guest port declines, as a kernel
	// built without rseq does, and the C library does without.
	(void)t;
	(void)a;
	return -ENOSYS;
}

GUEST_SYSCALL(arch_prctl)
{
	unpriv::Regs& r = t.regs();
	switch (a[0]) {
	case ARCH_SET_FS:
	case ARCH_SET_GS:
		if (a[1] >= user_end)
			return -EPERM;
		(a[0] == ARCH_SET_FS ? r.fs_base : r.gs_base) = a[1];
		return 0;
	case ARCH_GET_FS:
	case ARCH_GET_GS:
		return sys_ret(t.mm().write_obj<std::uint64_t>(
			a[1], a[0] == ARCH_GET_FS ? r.fs_base : r.gs_base));
	case ARCH_GET_CPUID:
		return 1;	// cpuid works, and cannot be made to fault
	case ARCH_SET_CPUID:
		return -ENODEV;
	default:
		return -EINVAL;
	}
}

GUEST_SYSCALL(prctl)
{
	Process& p = t.process();
	switch (a[0]) {
	case PR_SET_NAME: {
		char name[16] = {};
		// The name is cut at 15 bytes; reading stops at the NUL.
		for (std::size_t i = 0; i < 15; i++) {
			auto c = t.mm().read_obj<char>(a[1] + i);
			if (!c)
				return -EFAULT;
			if (!*c)
				break;
			name[i] = *c;
		}
		p.comm = name;
		t.kernel().note_name(t);
		return 0;
	}
	case PR_GET_NAME: {
		char name[16] = {};
		std::memcpy(name, p.comm.data(), std::min<std::size_t>(p.comm.size(), 15));
		return sys_ret(t.mm().write(a[1], std::as_bytes(std::span(name))));
	}
	default:
		return -EINVAL;
	}
}

GUEST_SYSCALL(prlimit64)
{
	auto lim = rlimit_of(t, a[0], a[1]);
	if (!lim)
		return -lim.error();
	struct rlimit old = **lim;
	if (a[2]) {
		auto to = t.mm().read_obj<struct rlimit>(a[2]);
		if (!to)
			return -EFAULT;
		if (auto r = set_rlimit(t, a[1], *lim, *to); !r)
			return -r.error();
	}
	if (a[3] && !t.mm().write_obj(a[3], old))
		return -EFAULT;
	return 0;
}

GUEST_SYSCALL(getrlimit)
{
	auto lim = rlimit_of(t, 0, a[0]);
	if (!lim)
		return -lim.error();
	return sys_ret(t.mm().write_obj(a[1], **lim));
}

GUEST_SYSCALL(setrlimit)
{
	auto lim = rlimit_of(t, 0, a[0]);
	if (!lim)
		return -lim.error();
	auto to = t.mm().read_obj<struct rlimit>(a[1]);
	if (!to)
		return -EFAULT;
	return sys_ret(set_rlimit(t, a[0], *lim, *to));
}

GUEST_SYSCALL(sched_yield)
{
	(void)t;
	(void)a;
	host::yield();
	return 0;
}

GUEST_SYSCALL(unshare)
{
	return sys_ret(t.kernel().unshare(t, a[0]));
}

GUEST_SYSCALL(umask)
{
	return t.fs().umask.exchange(static_cast<mode_t>(a[0]) & 0777);
}

} // namespace guest
