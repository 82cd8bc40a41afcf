// SPDX-License-Identifier: GPL-2.0
//
// host::  the host sockets the guest's AF_UNIX sockets are made of:
// making, naming, listening, options.  Their data goes through
// host::sendmsg(), host::recvmsg(), host::accept4() and host::connect()
// (host/io.hpp), which may wait; none of these wait.
#pragma once

#include <sys/socket.h>

#include "common.hpp"

namespace guest::host {

// A new descriptor (SOCK_CLOEXEC is the caller's to ask for).
KResult<int> socket(int domain, int type, int protocol);
KResult<void> socketpair(int domain, int type, int protocol, int (&sv)[2]);
KResult<void> bind(int fd, const struct sockaddr *addr, socklen_t len);
KResult<void> listen(int fd, int backlog);
KResult<void> shutdown(int fd, int how);
KResult<void> getsockname(int fd, struct sockaddr *addr, socklen_t *len);
KResult<void> getpeername(int fd, struct sockaddr *addr, socklen_t *len);
KResult<void> getsockopt(int fd, int level, int name, void *val, socklen_t *len);
KResult<void> setsockopt(int fd, int level, int name, const void *val, socklen_t len);

} // namespace guest::host
