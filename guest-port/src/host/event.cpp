// SPDX-License-Identifier: GPL-2.0
#include "host/event.hpp"

#include <sys/eventfd.h>
#include <sys/timerfd.h>

#include "host/result.hpp"

namespace guest::host {

using namespace detail;

KResult<int> eventfd(unsigned initval, int flags)
{
	return fd_result(::eventfd(initval, flags));
}

KResult<int> timerfd_create(int clock, int flags)
{
	return fd_result(::timerfd_create(clock, flags));
}

KResult<struct itimerspec> timerfd_settime(int fd, int flags, const struct itimerspec& value)
{
	struct itimerspec old;
	if (::timerfd_settime(fd, flags, &value, &old) < 0)
		return kerr(errno);
	return old;
}

KResult<struct itimerspec> timerfd_gettime(int fd)
{
	struct itimerspec cur;
	if (::timerfd_gettime(fd, &cur) < 0)
		return kerr(errno);
	return cur;
}

KResult<int> epoll_create1(int flags)
{
	return fd_result(::epoll_create1(flags));
}

KResult<void> epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	if (::epoll_ctl(epfd, op, fd, ev) < 0)
		return kerr(errno);
	return {};
}

} // namespace guest::host
