// SPDX-License-Identifier: GPL-2.0
//
// host::  the guest port's door to the host kernel for I/O (UML's os.h):
// the calls that move data between host descriptors and memory, and
// the few the C library has no wrapper for.  Each is a thin wrapper of
// one host call that returns KResult (the value, or the host's errno),
// never errno itself.
//
// Blocking file I/O (read, write, pread, pwrite, fsync) may go through
// io_uring (host/uring.hpp), the calling guest thread waiting on its
// Waiter; where io_uring is not there, the call is made directly.
//
// EINTR, in one place: a host call that blocks on the guest's behalf
// (read, write, recvmsg, sendmsg, poll, epoll_wait, fsync...) is broken
// by the guest port's interrupt (Kernel::interrupt_locked(): a signal
// for the guest thread), and returns EINTR, which the run loop turns
// into the guest's restart or EINTR (kernel.cpp).  Calls the guest port
// makes for itself (pread_full() for the loader and file mappings,
// write_all() for --trace, openat2()) are not the guest's to break:
// they retry on EINTR here.
#pragma once

#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "common.hpp"
#include "host/uring.hpp"

namespace guest::host {

// The guest's I/O on a host descriptor: EINTR when interrupted.  route
// says what fd is, for the choice of io_uring or a direct call.
KResult<std::size_t> read(int fd, std::span<std::byte> buf, Route route);
KResult<std::size_t> write(int fd, std::span<const std::byte> buf, Route route);
KResult<std::size_t> pread(int fd, std::span<std::byte> buf, std::uint64_t off, Route route);
KResult<std::size_t> pwrite(int fd, std::span<const std::byte> buf, std::uint64_t off,
			    Route route);
KResult<std::size_t> recvmsg(int fd, struct msghdr *msg, int flags);
KResult<std::size_t> sendmsg(int fd, const struct msghdr *msg, int flags);
// fsync(2), fdatasync(2) for the guest; sync_own() for the guest port.
KResult<void> fsync(int fd, bool data_only);
// A new descriptor (SOCK_CLOEXEC is the caller's to ask for).
KResult<int> accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
KResult<void> connect(int fd, const struct sockaddr *addr, socklen_t len);
KResult<void> sync_own(int fd, bool data_only);
KResult<std::size_t> sendfile(int out, int in, off_t *off, std::size_t count);
KResult<std::size_t> getdents64(int fd, std::span<std::byte> buf);
KResult<int> poll(std::span<struct pollfd> fds, int timeout_ms);
KResult<int> epoll_wait(int epfd, std::span<struct epoll_event> out, int timeout_ms);
// arg: an integer or a pointer, as the command takes.
KResult<int> ioctl(int fd, unsigned long cmd, unsigned long arg);
KResult<int> ioctl(int fd, unsigned long cmd, void *arg);
KResult<std::int64_t> lseek(int fd, std::int64_t off, int whence);
// fcntl(2) with an integer argument (F_GETFL, F_SETFL, F_GETPIPE_SZ...).
KResult<int> fcntl(int fd, int cmd, int arg);

// The guest port's own: no EINTR.
// One read of what is there (0 at the end).
KResult<std::size_t> read_own(int fd, std::span<std::byte> buf);
// All of buf from off, unless the file ends first: the bytes read.
KResult<std::size_t> pread_full(int fd, std::span<std::byte> buf, std::uint64_t off);
// All of buf at off (EIO if the file takes no more).
KResult<void> pwrite_full(int fd, std::span<const std::byte> buf, std::uint64_t off);
// All of buf.
KResult<void> write_all(int fd, std::span<const std::byte> buf);
KResult<void> ftruncate(int fd, std::uint64_t len);
KResult<void> fallocate(int fd, int mode, std::uint64_t off, std::uint64_t len);
KResult<std::size_t> copy_file_range(int in, std::uint64_t *in_off, int out,
				     std::uint64_t *out_off, std::size_t len);
// A new descriptor (O_CLOEXEC is the caller's to ask for).
KResult<int> openat2(int dirfd, const char *path, const struct open_how& how);
KResult<void> faccessat2(int dirfd, const char *path, int mode, int flags);
// The target of the symlink name relative to dirfd ("" with AT_EMPTY_PATH
// semantics: the O_PATH descriptor dirfd itself).
KResult<std::string> readlinkat(int dirfd, const char *name);
KResult<void> unlinkat(int dirfd, const char *name, int flags);
KResult<void> mkdirat(int dirfd, const char *name, mode_t mode);
KResult<void> mknodat(int dirfd, const char *name, mode_t mode);	// no device
KResult<void> renameat2(int olddirfd, const char *oldname, int newdirfd, const char *newname,
			unsigned flags);
KResult<void> symlinkat(const char *target, int dirfd, const char *name);
KResult<void> linkat(int olddirfd, const char *oldname, int newdirfd, const char *newname,
		     int flags);
// A new descriptor (O_CLOEXEC is the caller's to ask for).
KResult<int> openat(int dirfd, const char *name, int flags);
KResult<void> chmod(const char *path, mode_t mode);
KResult<void> utimensat(int dirfd, const char *path, const struct timespec *times, int flags);
// The file of descriptor fd (an O_PATH one, say) opened anew with flags,
// through the host's magic link /proc/self/fd/FD: a new open file
// description, with the host's permission checks.  The guest port's
// /proc/self/fd directory is opened once (again in a child after fork),
// so that each call walks one name of it.  mode: O_TMPFILE's.  The
// guest's (a FIFO's open waits): EINTR when interrupted.
KResult<int> reopen(int fd, int flags, mode_t mode = 0);
// Whether a and b (descriptors of this process) are one open file.
KResult<bool> same_file(int a, int b);

} // namespace guest::host
