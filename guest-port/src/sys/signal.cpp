// SPDX-License-Identifier: GPL-2.0
//
// Signals: rt_sigaction, rt_sigprocmask, rt_sigpending, rt_sigsuspend,
// pause, rt_sigreturn, rt_sigtimedwait, rt_sigqueueinfo,
// rt_tgsigqueueinfo, sigaltstack.  (kill, tkill and tgkill are with the
// processes, in proc.cpp; delivery is the kernel's, in signal.cpp.)
#include <signal.h>
#include <time.h>

#include <algorithm>
#include <chrono>

#include <climits>
#include <cstring>

#include "kernel.hpp"
#include "sys/handlers.hpp"
#include "task.hpp"

namespace guest {
namespace {

constexpr std::uint64_t sigset_size = 8;	// the kernel's sigset_t
constexpr std::size_t kernel_siginfo_size = 48;	// what the kernel keeps of one

// Whether the kernel knows the layout of a siginfo with this code
// (known_siginfo_layout()): one it does not must be zero past the part
// it keeps, to be passed on whole.
bool known_layout(int signo, int code)
{
	if (code == SI_KERNEL)
		return true;
	if (code > SI_USER) {
		switch (signo) {
		case SIGILL: return code <= ILL_BADIADDR;
		case SIGFPE: return code <= 15;		// FPE_CONDTRAP
		case SIGSEGV: return code <= 9;		// SEGV_MTESERR
		case SIGBUS: return code <= BUS_MCEERR_AO;
		case SIGTRAP: return code <= 6;		// TRAP_PERF
		case SIGCHLD: return code <= CLD_CONTINUED;
		case SIGSYS: return code <= 1;		// SYS_SECCOMP
		default: return code <= POLL_HUP;
		}
	}
	return code >= SI_DETHREAD || code == SI_ASYNCNL;
}

// rt_sigqueueinfo's and rt_tgsigqueueinfo's siginfo, for signal signo.
KResult<SigInfo> read_siginfo(Task& t, int signo, std::uint64_t addr)
{
	auto whole = t.mm().read_obj<SigInfo>(addr);
	if (!whole)
		return kerr(EFAULT);
	SigInfo info;
	std::memcpy(static_cast<void *>(&info), &*whole, kernel_siginfo_size);
	info.signo = signo;
	const auto *tail = reinterpret_cast<const std::byte *>(&*whole) + kernel_siginfo_size;
	if (!known_layout(signo, info.code) &&
	    std::any_of(tail, tail + (sizeof(info) - kernel_siginfo_size),
			[](std::byte b) { return b != std::byte{0}; }))
		return kerr(E2BIG);
	return info;
}

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

GUEST_SYSCALL(rt_sigtimedwait)
{
	if (a[3] != sigset_size)
		return -EINVAL;
	auto set = t.mm().read_obj<std::uint64_t>(a[0]);
	if (!set)
		return -EFAULT;
	std::optional<std::int64_t> deadline;
	if (a[2]) {
		auto ts = t.mm().read_obj<struct timespec>(a[2]);
		if (!ts)
			return -EFAULT;
		if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000)
			return -EINVAL;
		std::int64_t ns = ts->tv_sec > INT64_MAX / 1000000000 / 2
					  ? INT64_MAX / 2
					  : ts->tv_sec * 1000000000 + ts->tv_nsec;
		deadline = ns == 0 ? 0
				   : std::chrono::duration_cast<std::chrono::nanoseconds>(
					     std::chrono::steady_clock::now().time_since_epoch())
						     .count() + ns;
	}
	auto info = t.kernel().sigtimedwait(t, *set, deadline);
	if (!info)
		return info.error().result();
	if (a[1] && !t.mm().write_obj(a[1], *info))
		return -EFAULT;
	return info->signo;
}

GUEST_SYSCALL(rt_sigqueueinfo)
{
	auto signo = static_cast<int>(a[1]);
	auto info = read_siginfo(t, signo, a[2]);
	if (!info)
		return -info.error();
	return sys_ret(t.kernel().sigqueue(t, static_cast<int>(a[0]), *info));
}

GUEST_SYSCALL(rt_tgsigqueueinfo)
{
	auto tgid = static_cast<int>(a[0]), tid = static_cast<int>(a[1]);
	auto signo = static_cast<int>(a[2]);
	auto info = read_siginfo(t, signo, a[3]);
	if (!info)
		return -info.error();
	if (tgid <= 0 || tid <= 0)
		return -EINVAL;
	return sys_ret(t.kernel().sigqueue(t, tgid, *info, tid));
}

GUEST_SYSCALL(sigaltstack)
{
	// The kernel's stack_t: ss_sp, ss_flags, ss_size.
	struct GuestStack {
		std::uint64_t sp;
		std::int32_t flags, pad;
		std::uint64_t size;
	};
	std::optional<Kernel::AltStack> ss;
	if (a[0]) {
		auto v = t.mm().read_obj<GuestStack>(a[0]);
		if (!v)
			return -EFAULT;
		ss = Kernel::AltStack{v->sp, v->flags, v->size};
	}
	auto old = t.kernel().sigaltstack(t, ss ? &*ss : nullptr);
	if (!old)
		return -old.error();
	if (a[1] && !t.mm().write_obj(a[1], GuestStack{old->sp, old->flags, 0, old->size}))
		return -EFAULT;
	return 0;
}

} // namespace guest
