// SPDX-License-Identifier: GPL-2.0
//
// Event files: epoll_create, epoll_create1, epoll_ctl, epoll_wait,
// epoll_pwait, epoll_pwait2, eventfd, eventfd2, timerfd_create,
// timerfd_settime, timerfd_gettime, signalfd, signalfd4.  The files are
// fs/anon.hpp's and fs/signalfd.hpp's.
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>

#include <algorithm>
#include <climits>

#include "fs/anon.hpp"
#include "fs/signalfd.hpp"
#include "kernel.hpp"
#include "sys/handlers.hpp"
#include "task.hpp"

namespace guest {
namespace {

constexpr std::int64_t ns_per_ms = 1000000;
// Linux's EP_MAX_EVENTS.
constexpr std::uint64_t ep_max_events = INT_MAX / sizeof(struct epoll_event);
// The events one call returns at most (the guest port's buffer).
constexpr std::size_t events_max = 4096;

SysResult install(Task& t, std::shared_ptr<File> file, bool cloexec)
{
	return sys_ret(t.files().install(std::move(file), cloexec));
}

SysResult do_epoll_wait(Task& t, const SysArgs& a, int timeout_ms, bool with_mask)
{
	auto ep = std::dynamic_pointer_cast<EpollFile>(t.files().get(static_cast<int>(a[0])));
	if (!ep)
		return t.files().get(static_cast<int>(a[0])) ? -EINVAL : -EBADF;
	auto maxevents = static_cast<int>(a[2]);
	if (maxevents <= 0 || static_cast<std::uint64_t>(maxevents) > ep_max_events)
		return -EINVAL;
	// As access_ok(): the range must lie in user space.
	std::uint64_t len = static_cast<std::uint64_t>(maxevents) * sizeof(struct epoll_event);
	if (a[1] >= user_end || len > user_end - a[1])
		return -EFAULT;

	if (with_mask && a[4]) {
		if (a[5] != sizeof(std::uint64_t))
			return -EINVAL;
		auto mask = t.mm().read_obj<std::uint64_t>(a[4]);
		if (!mask)
			return -EFAULT;
		if (!t.kernel().set_wait_mask(t, *mask))
			return SysResult::restart_nohand();
	}
	// A signal ends the wait with EINTR, handler or not, and it is not
	// restarted (as Linux's epoll_wait): the guest port's own wake-up
	// with no signal to take restarts it.
	// At most events_max at a time: fewer than asked for is a short
	// answer, as Linux gives when fewer are ready.
	std::vector<struct epoll_event> events(std::min<std::size_t>(
		static_cast<std::size_t>(maxevents), events_max));
	auto n = ep->wait(t, events, timeout_ms);
	if (!n && n.error() == EINTR)
		return SysResult::restart_nohand();
	if (with_mask && a[4])
		t.kernel().restore_wait_mask(t);
	if (!n)
		return -n.error();
	if (*n && !t.mm().write(a[1], std::as_bytes(std::span(events).first(*n))))
		return -EFAULT;
	return static_cast<SysResult>(*n);
}

KResult<struct timespec> read_timespec(Task& t, std::uint64_t addr)
{
	auto ts = t.mm().read_obj<struct timespec>(addr);
	if (!ts)
		return kerr(EFAULT);
	if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000)
		return kerr(EINVAL);
	return *ts;
}

std::shared_ptr<TimerFile> timer_of(Task& t, std::uint64_t fd, SysResult *err)
{
	auto f = t.files().get(static_cast<int>(fd));
	auto tf = std::dynamic_pointer_cast<TimerFile>(f);
	if (!tf)
		*err = f ? -EINVAL : -EBADF;
	return tf;
}

} // namespace

GUEST_SYSCALL(epoll_create)
{
	if (static_cast<int>(a[0]) <= 0)
		return -EINVAL;
	auto ep = make_epoll();
	if (!ep)
		return -ep.error();
	return install(t, std::move(*ep), false);
}

GUEST_SYSCALL(epoll_create1)
{
	if (a[0] & ~std::uint64_t{EPOLL_CLOEXEC})
		return -EINVAL;
	auto ep = make_epoll();
	if (!ep)
		return -ep.error();
	return install(t, std::move(*ep), a[0] & EPOLL_CLOEXEC);
}

GUEST_SYSCALL(epoll_ctl)
{
	auto epf = t.files().get(static_cast<int>(a[0]));
	auto fd = static_cast<int>(a[2]);
	auto file = t.files().get(fd);
	int op = static_cast<int>(a[1]);
	struct epoll_event ev{};
	if (op != EPOLL_CTL_DEL) {
		auto e = t.mm().read_obj<struct epoll_event>(a[3]);
		if (!e)
			return -EFAULT;
		ev = *e;
	}
	if (!epf || !file)
		return -EBADF;
	auto ep = std::dynamic_pointer_cast<EpollFile>(epf);
	if (!ep || epf == file)
		return -EINVAL;
	return sys_ret(ep->ctl(op, fd, file, ev));
}

GUEST_SYSCALL(epoll_wait)
{
	return do_epoll_wait(t, a, static_cast<int>(a[3]), false);
}

GUEST_SYSCALL(epoll_pwait)
{
	return do_epoll_wait(t, a, static_cast<int>(a[3]), true);
}

GUEST_SYSCALL(epoll_pwait2)
{
	int timeout = -1;
	if (a[3]) {
		auto ts = read_timespec(t, a[3]);
		if (!ts)
			return -ts.error();
		std::int64_t ms = ts->tv_sec * 1000 + (ts->tv_nsec + ns_per_ms - 1) / ns_per_ms;
		timeout = static_cast<int>(std::min<std::int64_t>(ms, INT_MAX));
	}
	return do_epoll_wait(t, a, timeout, true);
}

GUEST_SYSCALL(eventfd)
{
	auto f = make_eventfd(static_cast<unsigned>(a[0]), 0);
	if (!f)
		return -f.error();
	return install(t, std::move(*f), false);
}

GUEST_SYSCALL(eventfd2)
{
	int flags = static_cast<int>(a[1]);
	auto f = make_eventfd(static_cast<unsigned>(a[0]), flags);
	if (!f)
		return -f.error();
	return install(t, std::move(*f), flags & EFD_CLOEXEC);
}

GUEST_SYSCALL(timerfd_create)
{
	int flags = static_cast<int>(a[1]);
	auto f = make_timerfd(static_cast<int>(a[0]), flags, t.kernel().config().time_offset_ns);
	if (!f)
		return -f.error();
	return install(t, std::move(*f), flags & TFD_CLOEXEC);
}

GUEST_SYSCALL(timerfd_settime)
{
	if (a[1] & ~std::uint64_t{TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET})
		return -EINVAL;
	SysResult err = 0;
	auto tf = timer_of(t, a[0], &err);
	if (!tf)
		return err;
	auto v = t.mm().read_obj<struct itimerspec>(a[2]);
	if (!v)
		return -EFAULT;
	auto old = tf->settime(static_cast<int>(a[1]), *v);
	if (!old)
		return -old.error();
	if (a[3] && !t.mm().write_obj(a[3], *old))
		return -EFAULT;
	return 0;
}

GUEST_SYSCALL(timerfd_gettime)
{
	SysResult err = 0;
	auto tf = timer_of(t, a[0], &err);
	if (!tf)
		return err;
	auto cur = tf->gettime();
	if (!cur)
		return -cur.error();
	return sys_ret(t.mm().write_obj(a[1], *cur));
}

// signalfd4(2): a new signalfd (fd -1), or a new mask for signalfd fd.
// EINVAL for a mask size other than the kernel's sigset_t's, bad flags,
// or an fd that is no signalfd; EBADF, EFAULT.
static SysResult do_signalfd4(Task& t, const SysArgs& a, int flags)
{
	if (a[2] != sizeof(std::uint64_t))
		return -EINVAL;
	auto mask = t.mm().read_obj<std::uint64_t>(a[1]);
	if (!mask)
		return -EFAULT;
	if (flags & ~(SFD_NONBLOCK | SFD_CLOEXEC))
		return -EINVAL;
	*mask &= ~(sigbit(SIGKILL) | sigbit(SIGSTOP));
	auto fd = static_cast<int>(a[0]);
	if (fd == -1) {
		auto f = make_signalfd(*mask, flags);
		if (!f)
			return -f.error();
		return install(t, std::move(*f), flags & SFD_CLOEXEC);
	}
	auto f = t.files().get(fd);
	if (!f)
		return -EBADF;
	auto sf = std::dynamic_pointer_cast<SignalFile>(f);
	if (!sf)
		return -EINVAL;
	sf->set_mask(*mask);
	t.kernel().signalfd_changed(t);
	return fd;
}

GUEST_SYSCALL(signalfd)
{
	return do_signalfd4(t, a, 0);
}

GUEST_SYSCALL(signalfd4)
{
	return do_signalfd4(t, a, static_cast<int>(a[3]));
}

} // namespace guest
