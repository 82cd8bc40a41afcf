// SPDX-License-Identifier: GPL-2.0
//
// Signals: rt_sigaction, rt_sigprocmask, rt_sigpending, rt_sigsuspend,
// pause, rt_sigreturn.  (kill, tkill and tgkill are with the processes,
// in proc.cpp; delivery is the kernel's, in signal.cpp.)
#include <signal.h>

#include "kernel.hpp"
#include "sys/handlers.hpp"
#include "task.hpp"

namespace guest {
namespace {

constexpr std::uint64_t sigset_size = 8;	// the kernel's sigset_t

} // namespace

GUEST_SYSCALL(rt_sigaction)
{
	if (a[3] != sigset_size)
		return -EINVAL;
	std::optional<SigAction> act;
	if (a[1]) {
		auto v = t.mm().read_obj<SigAction>(a[1]);
		if (!v)
			return -EFAULT;
		act = *v;
	}
	auto old = t.kernel().sigaction(t, static_cast<int>(a[0]), act ? &*act : nullptr);
	if (!old)
		return -old.error();
	if (a[2] && !t.mm().write_obj(a[2], *old))
		return -EFAULT;
	return 0;
}

GUEST_SYSCALL(rt_sigprocmask)
{
	if (a[3] != sigset_size)
		return -EINVAL;
	auto how = static_cast<int>(a[0]);
	std::optional<std::uint64_t> set;
	if (a[1]) {
		if (how != SIG_BLOCK && how != SIG_UNBLOCK && how != SIG_SETMASK)
			return -EINVAL;
		auto v = t.mm().read_obj<std::uint64_t>(a[1]);
		if (!v)
			return -EFAULT;
		set = *v;
	}
	std::uint64_t old = t.kernel().sigprocmask(t, how, set ? &*set : nullptr);
	if (a[2] && !t.mm().write_obj(a[2], old))
		return -EFAULT;
	return 0;
}

GUEST_SYSCALL(rt_sigpending)
{
	if (a[1] > sigset_size)
		return -EINVAL;
	std::uint64_t set = t.kernel().sigpending(t);
	return sys_ret(t.mm().write(a[0], std::as_bytes(std::span(&set, 1)).first(a[1])));
}

GUEST_SYSCALL(rt_sigsuspend)
{
	if (a[1] != sigset_size)
		return -EINVAL;
	auto mask = t.mm().read_obj<std::uint64_t>(a[0]);
	if (!mask)
		return -EFAULT;
	return t.kernel().sigsuspend(t, *mask);
}

GUEST_SYSCALL(pause)
{
	(void)a;
	return t.kernel().sigsuspend(t, std::nullopt);
}

GUEST_SYSCALL(rt_sigreturn)
{
	(void)a;
	return t.kernel().sigreturn(t);
}

} // namespace guest
