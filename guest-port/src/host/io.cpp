// SPDX-License-Identifier: GPL-2.0
#include "host/io.hpp"

#include <linux/kcmp.h>
#include <climits>
#include <cstdio>
#include <mutex>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <unistd.h>

#include "host/result.hpp"

namespace guest::host {

using namespace detail;

namespace {

template <class T>
KResult<T> result(T ret)
{
	if (ret < 0)
		return kerr(errno);
	return ret;
}

} // namespace

KResult<std::size_t> read(int fd, std::span<std::byte> buf, Route route)
{
	if (auto r = uring_read(fd, buf, -1, route))
		return *r;
	return size_result(::read(fd, buf.data(), buf.size()));
}

KResult<std::size_t> write(int fd, std::span<const std::byte> buf, Route route)
{
	if (auto r = uring_write(fd, buf, -1, route))
		return *r;
	return size_result(::write(fd, buf.data(), buf.size()));
}

KResult<std::size_t> pread(int fd, std::span<std::byte> buf, std::uint64_t off, Route route)
{
	if (auto r = uring_read(fd, buf, static_cast<std::int64_t>(off), route))
		return *r;
	return size_result(::pread(fd, buf.data(), buf.size(), static_cast<off_t>(off)));
}

KResult<std::size_t> pwrite(int fd, std::span<const std::byte> buf, std::uint64_t off,
			    Route route)
{
	if (auto r = uring_write(fd, buf, static_cast<std::int64_t>(off), route))
		return *r;
	return size_result(::pwrite(fd, buf.data(), buf.size(), static_cast<off_t>(off)));
}

KResult<std::size_t> recvmsg(int fd, struct msghdr *msg, int flags)
{
	return size_result(::recvmsg(fd, msg, flags));
}

KResult<std::size_t> sendmsg(int fd, const struct msghdr *msg, int flags)
{
	return size_result(::sendmsg(fd, msg, flags));
}

KResult<void> fsync(int fd, bool data_only)
{
	if (auto r = uring_fsync(fd, data_only))
		return *r;
	return void_result(data_only ? ::fdatasync(fd) : ::fsync(fd));
}

KResult<void> sync_own(int fd, bool data_only)
{
	return void_result(again([&] { return data_only ? ::fdatasync(fd) : ::fsync(fd); }));
}

KResult<int> accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	return result(::accept4(fd, addr, len, flags));
}

KResult<void> connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	return void_result(::connect(fd, addr, len));
}

KResult<std::size_t> sendfile(int out, int in, off_t *off, std::size_t count)
{
	return size_result(::sendfile(out, in, off, count));
}

KResult<std::size_t> getdents64(int fd, std::span<std::byte> buf)
{
	// The record format is the same for host and guest.
	return size_result(::syscall(SYS_getdents64, fd, buf.data(), buf.size()));
}

KResult<int> poll(std::span<struct pollfd> fds, int timeout_ms)
{
	return result(::poll(fds.data(), fds.size(), timeout_ms));
}

KResult<int> epoll_wait(int epfd, std::span<struct epoll_event> out, int timeout_ms)
{
	return result(::epoll_wait(epfd, out.data(), static_cast<int>(out.size()), timeout_ms));
}

KResult<int> ioctl(int fd, unsigned long cmd, unsigned long arg)
{
	return result(::ioctl(fd, cmd, arg));
}

KResult<int> ioctl(int fd, unsigned long cmd, void *arg)
{
	return result(::ioctl(fd, cmd, arg));
}

KResult<std::int64_t> lseek(int fd, std::int64_t off, int whence)
{
	return result(::lseek(fd, static_cast<off_t>(off), whence)).map([](off_t o) {
		return static_cast<std::int64_t>(o);
	});
}

KResult<int> fcntl(int fd, int cmd, int arg)
{
	return result(::fcntl(fd, cmd, arg));
}

KResult<std::size_t> read_own(int fd, std::span<std::byte> buf)
{
	return size_result(again([&] { return ::read(fd, buf.data(), buf.size()); }));
}

KResult<std::size_t> pread_full(int fd, std::span<std::byte> buf, std::uint64_t off)
{
	std::size_t done = 0;
	while (done < buf.size()) {
		ssize_t n = again([&] {
			return ::pread(fd, buf.data() + done, buf.size() - done,
				       static_cast<off_t>(off + done));
		});
		if (n < 0)
			return kerr(errno);
		if (n == 0)
			break;
		done += static_cast<std::size_t>(n);
	}
	return done;
}

KResult<void> pwrite_full(int fd, std::span<const std::byte> buf, std::uint64_t off)
{
	while (!buf.empty()) {
		ssize_t n = again([&] {
			return ::pwrite(fd, buf.data(), buf.size(), static_cast<off_t>(off));
		});
		if (n < 0)
			return kerr(errno);
		if (n == 0)
			return kerr(EIO);
		buf = buf.subspan(static_cast<std::size_t>(n));
		off += static_cast<std::uint64_t>(n);
	}
	return {};
}

KResult<void> write_all(int fd, std::span<const std::byte> buf)
{
	while (!buf.empty()) {
		ssize_t n = again([&] { return ::write(fd, buf.data(), buf.size()); });
		if (n < 0)
			return kerr(errno);
		if (n == 0)
			return kerr(EIO);
		buf = buf.subspan(static_cast<std::size_t>(n));
	}
	return {};
}

KResult<void> ftruncate(int fd, std::uint64_t len)
{
	return void_result(again([&] { return ::ftruncate(fd, static_cast<off_t>(len)); }));
}

KResult<void> fallocate(int fd, int mode, std::uint64_t off, std::uint64_t len)
{
	return void_result(again([&] {
		return ::fallocate(fd, mode, static_cast<off_t>(off), static_cast<off_t>(len));
	}));
}

KResult<std::size_t> copy_file_range(int in, std::uint64_t *in_off, int out,
				     std::uint64_t *out_off, std::size_t len)
{
	loff_t i = static_cast<loff_t>(*in_off), o = static_cast<loff_t>(*out_off);
	ssize_t n = again([&] { return ::copy_file_range(in, &i, out, &o, len, 0); });
	if (n < 0)
		return kerr(errno);
	*in_off = static_cast<std::uint64_t>(i);
	*out_off = static_cast<std::uint64_t>(o);
	return static_cast<std::size_t>(n);
}

KResult<int> openat2(int dirfd, const char *path, const struct open_how& how)
{
	long fd = again([&] { return ::syscall(SYS_openat2, dirfd, path, &how, sizeof(how)); });
	if (fd < 0)
		return kerr(errno);
	return static_cast<int>(fd);
}

KResult<void> faccessat2(int dirfd, const char *path, int mode, int flags)
{
	return void_result(::syscall(SYS_faccessat2, dirfd, path, mode, flags));
}

KResult<std::string> readlinkat(int dirfd, const char *name)
{
	char buf[PATH_MAX];
	ssize_t n = ::readlinkat(dirfd, name, buf, sizeof(buf));
	if (n < 0)
		return kerr(errno);
	return std::string(buf, static_cast<std::size_t>(n));
}

KResult<void> unlinkat(int dirfd, const char *name, int flags)
{
	return void_result(::unlinkat(dirfd, name, flags));
}

KResult<void> mkdirat(int dirfd, const char *name, mode_t mode)
{
	return void_result(::mkdirat(dirfd, name, mode));
}

KResult<void> mknodat(int dirfd, const char *name, mode_t mode)
{
	return void_result(::mknodat(dirfd, name, mode, 0));
}

KResult<void> renameat2(int olddirfd, const char *oldname, int newdirfd, const char *newname,
			unsigned flags)
{
	return void_result(::renameat2(olddirfd, oldname, newdirfd, newname, flags));
}

KResult<void> symlinkat(const char *target, int dirfd, const char *name)
{
	return void_result(::symlinkat(target, dirfd, name));
}

KResult<void> linkat(int olddirfd, const char *oldname, int newdirfd, const char *newname,
		     int flags)
{
	return void_result(::linkat(olddirfd, oldname, newdirfd, newname, flags));
}

KResult<int> openat(int dirfd, const char *name, int flags)
{
	int fd = again([&] { return ::openat(dirfd, name, flags); });
	if (fd < 0)
		return kerr(errno);
	return fd;
}

KResult<void> chmod(const char *path, mode_t mode)
{
	return void_result(::chmod(path, mode));
}

KResult<void> utimensat(int dirfd, const char *path, const struct timespec *times, int flags)
{
	return void_result(::utimensat(dirfd, path, times, flags));
}

namespace {

std::mutex self_fd_lock;
int self_fd_dir = -1;	// under self_fd_lock; -1: not open yet

void forget_self_fd_dir()
{
	// The child of a fork: the descriptor shows the parent's table.
	if (self_fd_dir >= 0)
		::close(self_fd_dir);
	self_fd_dir = -1;
}

KResult<int> self_fd()
{
	static const int at_fork = pthread_atfork(nullptr, nullptr, forget_self_fd_dir);
	(void)at_fork;
	std::lock_guard lock(self_fd_lock);
	if (self_fd_dir < 0) {
		int fd = ::open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return kerr(errno);
		self_fd_dir = fd;
	}
	return self_fd_dir;
}

} // namespace

KResult<int> reopen(int fd, int flags, mode_t mode)
{
	auto dir = self_fd();
	if (!dir)
		return kerr(dir.error());
	char name[16];
	std::snprintf(name, sizeof(name), "%d", fd);
	int r = ::openat(*dir, name, flags | O_CLOEXEC, mode);
	if (r < 0)
		return kerr(errno);
	return r;
}

KResult<bool> same_file(int a, int b)
{
	pid_t self = getpid();
	long r = ::syscall(SYS_kcmp, self, self, KCMP_FILE, a, b);
	if (r < 0)
		return kerr(errno);
	return r == 0;
}

} // namespace guest::host
