// SPDX-License-Identifier: GPL-2.0
#include "fs/file.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cstdio>

#include "fs/vfs.hpp"
#include "task.hpp"

namespace guest {
namespace {

template <class T>
KResult<T> host_result(T ret)
{
	if (ret < 0)
		return kerr(errno);
	return ret;
}

// The terminal ioctls a shell and the usual tools make, with the size
// of what each reads from (in) or writes to (out) the guest at arg.
// The structs are the kernel's, the same on host and guest.
struct IoctlArg {
	unsigned long cmd;
	unsigned in, out;
	bool by_value;	// arg is an integer, not a pointer
};

constexpr unsigned kernel_termios_size = 36;	// struct termios in <asm/termbits.h>

constexpr std::array<IoctlArg, 14> tty_ioctls{{
	{TCGETS, 0, kernel_termios_size, false},
	{TCSETS, kernel_termios_size, 0, false},
	{TCSETSW, kernel_termios_size, 0, false},
	{TCSETSF, kernel_termios_size, 0, false},
	{TIOCGWINSZ, 0, sizeof(struct winsize), false},
	{TIOCSWINSZ, sizeof(struct winsize), 0, false},
	{TIOCGPGRP, 0, sizeof(int), false},
	{TIOCSPGRP, sizeof(int), 0, false},
	{FIONREAD, 0, sizeof(int), false},
	{TIOCOUTQ, 0, sizeof(int), false},
	{TCFLSH, 0, 0, true},
	{TCXONC, 0, 0, true},
	{TCSBRK, 0, 0, true},
	{TIOCGSID, 0, sizeof(int), false},
}};

} // namespace

// --- File: what a file without an operation answers -------------------------

namespace {
constexpr int changeable_flags = O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME;
}

KResult<void> File::set_status_flags(int flags)
{
	flags_ = (flags_ & ~changeable_flags) | (flags & changeable_flags);
	return {};
}

bool File::readable() const noexcept
{
	int mode = flags_ & O_ACCMODE;
	return !(flags_ & O_PATH) && (mode == O_RDONLY || mode == O_RDWR);
}

bool File::writable() const noexcept
{
	int mode = flags_ & O_ACCMODE;
	return !(flags_ & O_PATH) && (mode == O_WRONLY || mode == O_RDWR);
}

KResult<std::size_t> File::read(std::span<std::byte>)
{
	return kerr(EINVAL);
}

KResult<std::size_t> File::write(std::span<const std::byte>)
{
	return kerr(EINVAL);
}

KResult<std::size_t> File::pread(std::span<std::byte>, std::uint64_t)
{
	return kerr(ESPIPE);
}

KResult<std::size_t> File::pwrite(std::span<const std::byte>, std::uint64_t)
{
	return kerr(ESPIPE);
}

KResult<std::int64_t> File::lseek(std::int64_t, int)
{
	return kerr(ESPIPE);
}

KResult<std::size_t> File::getdents64(std::span<std::byte>)
{
	return kerr(ENOTDIR);
}

KResult<long> File::ioctl(Task&, unsigned long, std::uint64_t)
{
	return kerr(ENOTTY);
}

short File::poll(short events)
{
	return events & (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM);
}

KResult<std::shared_ptr<const MapFile>> File::map_file()
{
	return kerr(ENODEV);
}

// --- HostFile -----------------------------------------------------------------

std::string HostFile::path() const
{
	return vfs_->describe(fd_.get());
}

std::shared_ptr<HostFile> HostFile::reopen(int flags) const
{
	// Through the host's magic link to our own descriptor: a new open
	// file description, with the host's permission checks.
	char link[64];
	std::snprintf(link, sizeof(link), "/proc/self/fd/%d", fd_.get());
	int fd = ::open(link, (flags & ~O_CREAT) | O_CLOEXEC);
	if (fd < 0)
		return nullptr;
	return std::make_shared<HostFile>(unpriv::Fd(fd), flags & ~O_CLOEXEC, vfs_, under_root_);
}

KResult<void> HostFile::set_status_flags(int flags)
{
	int fl = (flags_ & ~changeable_flags) | (flags & changeable_flags);
	if (fcntl(fd_.get(), F_SETFL, fl & ~O_ACCMODE) < 0)
		return kerr(errno);
	flags_ = fl;
	return {};
}

KResult<std::size_t> HostFile::read(std::span<std::byte> buf)
{
	return host_result(::read(fd_.get(), buf.data(), buf.size()))
		.map([](ssize_t n) { return static_cast<std::size_t>(n); });
}

KResult<std::size_t> HostFile::write(std::span<const std::byte> buf)
{
	return host_result(::write(fd_.get(), buf.data(), buf.size()))
		.map([](ssize_t n) { return static_cast<std::size_t>(n); });
}

KResult<std::size_t> HostFile::pread(std::span<std::byte> buf, std::uint64_t off)
{
	return host_result(::pread(fd_.get(), buf.data(), buf.size(),
				   static_cast<off_t>(off)))
		.map([](ssize_t n) { return static_cast<std::size_t>(n); });
}

KResult<std::size_t> HostFile::pwrite(std::span<const std::byte> buf,
				      std::uint64_t off)
{
	return host_result(::pwrite(fd_.get(), buf.data(), buf.size(),
				    static_cast<off_t>(off)))
		.map([](ssize_t n) { return static_cast<std::size_t>(n); });
}

KResult<std::int64_t> HostFile::lseek(std::int64_t off, int whence)
{
	return host_result(::lseek(fd_.get(), off, whence))
		.map([](off_t o) { return static_cast<std::int64_t>(o); });
}

KResult<struct stat> HostFile::stat()
{
	struct stat st;
	if (::fstat(fd_.get(), &st) < 0)
		return kerr(errno);
	return st;
}

KResult<std::size_t> HostFile::getdents64(std::span<std::byte> buf)
{
	// The record format is the same for host and guest.
	return host_result(::syscall(SYS_getdents64, fd_.get(), buf.data(), buf.size()))
		.map([](long n) { return static_cast<std::size_t>(n); });
}

KResult<long> HostFile::ioctl(Task& task, unsigned long cmd, std::uint64_t arg)
{
	if (cmd == FIONBIO) {
		auto on = task.mm().read_obj<int>(arg);
		if (!on)
			return kerr(on.error());
		auto r = set_status_flags(*on ? flags_ | O_NONBLOCK : flags_ & ~O_NONBLOCK);
		if (!r)
			return kerr(r.error());
		return 0;
	}
	for (const IoctlArg& a : tty_ioctls) {
		if (a.cmd != cmd)
			continue;
		if (a.by_value)
			return host_result(::ioctl(fd_.get(), cmd, arg)).map([](int r) { return long{r}; });
		std::array<std::byte, 64> buf{};
		if (a.in) {
			auto r = task.mm().read(arg, std::span(buf).first(a.in));
			if (!r)
				return kerr(r.error());
		}
		int ret = ::ioctl(fd_.get(), cmd, buf.data());
		if (ret < 0)
			return kerr(errno);
		if (a.out) {
			auto r = task.mm().write(arg, std::span(buf).first(a.out));
			if (!r)
				return kerr(r.error());
		}
		return ret;
	}
	return kerr(ENOTTY);
}

short HostFile::poll(short events)
{
	struct pollfd p{.fd = fd_.get(), .events = events, .revents = 0};
	if (::poll(&p, 1, 0) < 0)
		return POLLERR;
	return p.revents;
}

KResult<std::shared_ptr<const MapFile>> HostFile::map_file()
{
	struct stat st;
	if (::fstat(fd_.get(), &st) < 0)
		return kerr(errno);
	if (!S_ISREG(st.st_mode))
		return kerr(ENODEV);
	if (!readable())
		return kerr(EACCES);
	// The mapping keeps a descriptor of its own, as a vma its file.
	int fd = fcntl(fd_.get(), F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return kerr(errno);
	return std::make_shared<const MapFile>(MapFile{unpriv::Fd(fd), path(), writable()});
}

bool HostFile::is_directory() const noexcept
{
	struct stat st;
	return under_root_ && ::fstat(fd_.get(), &st) == 0 && S_ISDIR(st.st_mode);
}

} // namespace guest
