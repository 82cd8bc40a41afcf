// SPDX-License-Identifier: GPL-2.0
//
// The process and its thread: exit, the ids, the thread's registrations
// with the kernel (set_tid_address, robust futexes, rseq), arch_prctl,
// prctl, resource limits, sched_yield, umask.
#include <asm/prctl.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstring>

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
		t.process().fds.set_limit(static_cast<unsigned>(to.rlim_cur));
	}
	*lim = to;
	return {};
}

} // namespace

GUEST_SYSCALL(exit)
{
	// The only thread: its exit ends the process.
	t.process().exit(static_cast<int>(a[0]));
	return sys_noreturn;
}

GUEST_SYSCALL(exit_group)
{
	t.process().exit(static_cast<int>(a[0]));
	return sys_noreturn;
}

GUEST_SYSCALL(getpid)
{
	(void)a;
	return t.process().pid;
}

GUEST_SYSCALL(getppid)
{
	(void)a;
	return t.process().ppid;
}

GUEST_SYSCALL(gettid)
{
	(void)a;
	return t.tid;
}

GUEST_SYSCALL(getpgrp)
{
	(void)a;
	return t.process().pgid;
}

GUEST_SYSCALL(getpgid)
{
	if (a[0] != 0 && static_cast<int>(a[0]) != t.process().pid)
		return -ESRCH;
	return t.process().pgid;
}

GUEST_SYSCALL(getsid)
{
	if (a[0] != 0 && static_cast<int>(a[0]) != t.process().pid)
		return -ESRCH;
	return t.process().sid;
}

GUEST_SYSCALL(set_tid_address)
{
	t.clear_child_tid = a[0];
	return t.tid;
}

GUEST_SYSCALL(set_robust_list)
{
	if (a[1] != sizeof(struct robust_list_head))
		return -EINVAL;
	t.robust_list = a[0];
	t.robust_list_len = a[1];
	return 0;
}

GUEST_SYSCALL(get_robust_list)
{
	if (a[0] != 0 && static_cast<int>(a[0]) != t.tid)
		return -ESRCH;
	if (!t.mm().write_obj<std::uint64_t>(a[1], t.robust_list) ||
	    !t.mm().write_obj<std::uint64_t>(a[2], sizeof(struct robust_list_head)))
		return -EFAULT;
	return 0;
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
	::sched_yield();
	return 0;
}

GUEST_SYSCALL(umask)
{
	mode_t old = t.process().umask;
	t.process().umask = static_cast<mode_t>(a[0]) & 0777;
	return old;
}

} // namespace guest
