// SPDX-License-Identifier: GPL-2.0
#include "host/file.hpp"

#include <sys/file.h>
#include <sys/mman.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "host/fd.hpp"
#include "host/result.hpp"

namespace guest::host {

using namespace detail;

void close(int fd) noexcept
{
	::close(fd);
}

KResult<struct stat> fstat(int fd)
{
	struct stat st;
	if (::fstat(fd, &st) < 0)
		return kerr(errno);
	return st;
}

KResult<struct statx> fstatx(int fd, int flags, unsigned mask)
{
	struct statx stx;
	if (::statx(fd, "", AT_EMPTY_PATH | flags, mask, &stx) < 0)
		return kerr(errno);
	return stx;
}

KResult<struct statfs> fstatfs(int fd)
{
	struct statfs st;
	if (::fstatfs(fd, &st) < 0)
		return kerr(errno);
	return st;
}

KResult<void> fchmod(int fd, mode_t mode)
{
	return void_result(::fchmod(fd, mode));
}

KResult<void> fchown(int fd, uid_t uid, gid_t gid)
{
	return void_result(::fchown(fd, uid, gid));
}

KResult<void> fchownat(int dirfd, const char *path, uid_t uid, gid_t gid, int flags)
{
	return void_result(::fchownat(dirfd, path, uid, gid, flags));
}

KResult<void> futimens(int fd, const struct timespec *times)
{
	return void_result(::futimens(fd, times));
}

KResult<void> fadvise(int fd, std::uint64_t off, std::uint64_t len, int advice)
{
	// posix_fadvise returns the error rather than setting errno.
	int e = ::posix_fadvise(fd, static_cast<off_t>(off), static_cast<off_t>(len), advice);
	if (e)
		return kerr(e);
	return {};
}

KResult<void> flock(int fd, int op)
{
	return void_result(::flock(fd, op));
}

KResult<void> fcntl_lock(int fd, int cmd, struct flock *fl)
{
	return void_result(::fcntl(fd, cmd, fl));
}

KResult<int> open(const char *path, int flags)
{
	return fd_result(::open(path, flags));
}

KResult<void> access(const char *path, int mode)
{
	return void_result(::access(path, mode));
}

KResult<void> pipe2(int (&fds)[2], int flags)
{
	return void_result(::pipe2(fds, flags));
}

KResult<int> memfd_create(const char *name, unsigned flags)
{
	return fd_result(::memfd_create(name, flags));
}

KResult<std::string> read_file(const char *path)
{
	int fd = again([&] { return ::open(path, O_RDONLY | O_CLOEXEC); });
	if (fd < 0)
		return kerr(errno);
	Fd owned(fd);
	std::string text;
	char buf[4096];
	for (;;) {
		ssize_t n = again([&] { return ::read(fd, buf, sizeof(buf)); });
		if (n < 0)
			return kerr(errno);
		if (n == 0)
			return text;
		text.append(buf, static_cast<std::size_t>(n));
	}
}

KResult<std::size_t> getxattr(const char *path, const char *name, std::span<std::byte> out)
{
	return size_result(::getxattr(path, name, out.data(), out.size()));
}

KResult<std::size_t> listxattr(const char *path, std::span<std::byte> out)
{
	return size_result(::listxattr(path, reinterpret_cast<char *>(out.data()), out.size()));
}

KResult<void> setxattr(const char *path, const char *name, std::span<const std::byte> in,
		       int flags)
{
	return void_result(::setxattr(path, name, in.data(), in.size(), flags));
}

KResult<void> removexattr(const char *path, const char *name)
{
	return void_result(::removexattr(path, name));
}

KResult<std::size_t> fgetxattr(int fd, const char *name, std::span<std::byte> out)
{
	return size_result(::fgetxattr(fd, name, out.data(), out.size()));
}

KResult<std::size_t> flistxattr(int fd, std::span<std::byte> out)
{
	return size_result(::flistxattr(fd, reinterpret_cast<char *>(out.data()), out.size()));
}

KResult<void> fsetxattr(int fd, const char *name, std::span<const std::byte> in, int flags)
{
	return void_result(::fsetxattr(fd, name, in.data(), in.size(), flags));
}

KResult<void> fremovexattr(int fd, const char *name)
{
	return void_result(::fremovexattr(fd, name));
}

} // namespace guest::host
