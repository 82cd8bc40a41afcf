// SPDX-License-Identifier: GPL-2.0
//
// The descriptor table: close, dup, dup2, dup3, fcntl, ioctl, fstat.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "sys/handlers.hpp"
#include "task.hpp"

namespace guest {
namespace {

int fd_arg(std::uint64_t v)
{
	return static_cast<int>(v);
}

// fcntl's record locks on a host file: struct flock is the same for
// host and guest.
SysResult host_lock(Task& t, File& f, int cmd, std::uint64_t arg)
{
	if (f.host_fd() < 0)
		return -EINVAL;
	auto fl = t.mm().read_obj<struct flock>(arg);
	if (!fl)
		return -EFAULT;
	if (fcntl(f.host_fd(), cmd, &*fl) < 0)
		return -errno;
	if (cmd == F_GETLK || cmd == F_OFD_GETLK) {
		if (!t.mm().write_obj(arg, *fl))
			return -EFAULT;
	}
	return 0;
}

} // namespace

GUEST_SYSCALL(close)
{
	return sys_ret(t.process().fds.close(fd_arg(a[0])));
}

GUEST_SYSCALL(dup)
{
	auto f = t.process().fds.get(fd_arg(a[0]));
	if (!f)
		return -EBADF;
	return sys_ret(t.process().fds.install(std::move(f), false));
}

GUEST_SYSCALL(dup2)
{
	auto f = t.process().fds.get(fd_arg(a[0]));
	if (!f)
		return -EBADF;
	if (a[0] == a[1])
		return fd_arg(a[1]);
	return sys_ret(t.process().fds.install_at(fd_arg(a[1]), std::move(f), false));
}

GUEST_SYSCALL(dup3)
{
	if (a[2] & ~std::uint64_t{O_CLOEXEC})
		return -EINVAL;
	auto f = t.process().fds.get(fd_arg(a[0]));
	if (!f)
		return -EBADF;
	if (a[0] == a[1])
		return -EINVAL;
	return sys_ret(t.process().fds.install_at(fd_arg(a[1]), std::move(f), a[2] & O_CLOEXEC));
}

GUEST_SYSCALL(fcntl)
{
	FdTable& fds = t.process().fds;
	int fd = fd_arg(a[0]);
	auto f = fds.get(fd);
	if (!f)
		return -EBADF;
	int cmd = static_cast<int>(a[1]);

	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		if (static_cast<int>(a[2]) < 0)
			return -EINVAL;
		return sys_ret(fds.install(std::move(f), cmd == F_DUPFD_CLOEXEC, static_cast<int>(a[2])));
	case F_GETFD:
		return fds.cloexec(fd) ? FD_CLOEXEC : 0;
	case F_SETFD:
		fds.set_cloexec(fd, a[2] & FD_CLOEXEC);
		return 0;
	case F_GETFL:
		// 64-bit Linux opens everything O_LARGEFILE.
		return f->flags() | kernel_o_largefile;
	case F_SETFL:
		return sys_ret(f->set_status_flags(static_cast<int>(a[2])));
	case F_GETLK:
	case F_SETLK:
	case F_SETLKW:
	case F_OFD_GETLK:
	case F_OFD_SETLK:
	case F_OFD_SETLKW:
		return host_lock(t, *f, cmd, a[2]);
	case F_GETPIPE_SZ:
	case F_SETPIPE_SZ:
	case F_GET_SEALS:
	case F_ADD_SEALS:
		// About the host file itself: asked of it.
		if (f->host_fd() < 0)
			return -EINVAL;
		if (int r = fcntl(f->host_fd(), cmd, static_cast<int>(a[2])); r >= 0)
			return r;
		return -errno;
	default:
		return -EINVAL;
	}
}

GUEST_SYSCALL(ioctl)
{
	FdTable& fds = t.process().fds;
	int fd = fd_arg(a[0]);
	auto f = fds.get(fd);
	if (!f)
		return -EBADF;
	auto cmd = static_cast<unsigned>(a[1]);
	switch (cmd) {
	case FIOCLEX:
	case FIONCLEX:
		fds.set_cloexec(fd, cmd == FIOCLEX);
		return 0;
	default:
		return sys_ret(f->ioctl(t, cmd, a[2]));
	}
}

GUEST_SYSCALL(fstat)
{
	auto f = t.process().fds.get(fd_arg(a[0]));
	if (!f)
		return -EBADF;
	auto st = f->stat();
	if (!st)
		return -st.error();
	return sys_ret(t.mm().write_obj(a[1], *st));
}

} // namespace guest
