// SPDX-License-Identifier: GPL-2.0
//
// host::  what the guest port asks of host files besides their data
// (host/io.hpp): their status, owner, mode and times, locks, advice,
// new descriptors (a reopen, a pipe, a memfd), extended attributes.
// Thin wrappers of one host call each, returning KResult, as io.hpp's.
//
// EINTR: of these only open (of a FIFO), flock and fcntl's F_SETLKW
// block, on the guest's behalf: their EINTR goes up to the run loop
// like io.hpp's guest calls.  The others do not wait, but read_file(),
// the guest port's own, which retries.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "common.hpp"

namespace guest::host {

KResult<struct stat> fstat(int fd);
// statx(2) of fd itself (AT_EMPTY_PATH is added).
KResult<struct statx> fstatx(int fd, int flags, unsigned mask);
KResult<struct statfs> fstatfs(int fd);
KResult<void> fchmod(int fd, mode_t mode);
KResult<void> fchown(int fd, uid_t uid, gid_t gid);
KResult<void> fchownat(int dirfd, const char *path, uid_t uid, gid_t gid, int flags);
KResult<void> futimens(int fd, const struct timespec *times);
KResult<void> fadvise(int fd, std::uint64_t off, std::uint64_t len, int advice);
KResult<void> flock(int fd, int op);
// fcntl(2) of a record lock: F_GETLK, F_SETLK, F_SETLKW and the OFD ones.
KResult<void> fcntl_lock(int fd, int cmd, struct flock *fl);
// A new descriptor (O_CLOEXEC is the caller's to ask for).
KResult<int> open(const char *path, int flags);
KResult<void> access(const char *path, int mode);
// Two new descriptors, fds[0] the read end.
KResult<void> pipe2(int (&fds)[2], int flags);
KResult<int> memfd_create(const char *name, unsigned flags);
// The whole of a host file the guest port reads for itself (/proc,
// /sys).
KResult<std::string> read_file(const char *path);

// Extended attributes, of a host path (l*: of a symlink itself) or of a
// descriptor; get and list return the size, or the size needed when
// the buffer is empty.
KResult<std::size_t> getxattr(const char *path, const char *name, std::span<std::byte> out);
KResult<std::size_t> listxattr(const char *path, std::span<std::byte> out);
KResult<void> setxattr(const char *path, const char *name, std::span<const std::byte> in,
		       int flags);
KResult<void> removexattr(const char *path, const char *name);
KResult<std::size_t> fgetxattr(int fd, const char *name, std::span<std::byte> out);
KResult<std::size_t> flistxattr(int fd, std::span<std::byte> out);
KResult<void> fsetxattr(int fd, const char *name, std::span<const std::byte> in, int flags);
KResult<void> fremovexattr(int fd, const char *name);

} // namespace guest::host
