// SPDX-License-Identifier: GPL-2.0
#include "host/net.hpp"

#include "host/result.hpp"

namespace guest::host {

using namespace detail;

KResult<int> socket(int domain, int type, int protocol)
{
	int fd = ::socket(domain, type, protocol);
	if (fd < 0)
		return kerr(errno);
	return fd;
}

KResult<void> socketpair(int domain, int type, int protocol, int (&sv)[2])
{
	return void_result(::socketpair(domain, type, protocol, sv));
}

KResult<void> bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	return void_result(::bind(fd, addr, len));
}

KResult<void> listen(int fd, int backlog)
{
	return void_result(::listen(fd, backlog));
}

KResult<void> shutdown(int fd, int how)
{
	return void_result(::shutdown(fd, how));
}

KResult<void> getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	return void_result(::getsockname(fd, addr, len));
}

KResult<void> getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	return void_result(::getpeername(fd, addr, len));
}

KResult<void> getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	return void_result(::getsockopt(fd, level, name, val, len));
}

KResult<void> setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	return void_result(::setsockopt(fd, level, name, val, len));
}

} // namespace guest::host
