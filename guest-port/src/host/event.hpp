// SPDX-License-Identifier: GPL-2.0
//
// host::  the host's event descriptors the guest's are made of:
// eventfd, timerfd and epoll instances, and epoll's interest lists.
// Waiting on them is host::read() and host::epoll_wait() (host/io.hpp).
// None of these wait.
#pragma once

#include <sys/epoll.h>
#include <time.h>

#include "common.hpp"

namespace guest::host {

// New descriptors (EFD_CLOEXEC, TFD_CLOEXEC, EPOLL_CLOEXEC are the
// caller's to ask for).
KResult<int> eventfd(unsigned initval, int flags);
KResult<int> timerfd_create(int clock, int flags);
// The old value.
KResult<struct itimerspec> timerfd_settime(int fd, int flags, const struct itimerspec& value);
KResult<struct itimerspec> timerfd_gettime(int fd);
KResult<int> epoll_create1(int flags);
// ev: null for EPOLL_CTL_DEL.
KResult<void> epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev);

} // namespace guest::host
