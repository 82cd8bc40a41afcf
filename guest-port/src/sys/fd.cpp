// SPDX-License-Identifier: GPL-2.0
//
// Descriptors: the table (close, dup*, fcntl, ioctl, pipe2), and calls
// on the open file a descriptor names (fstat, getdents64, fchmod,
// fchown, ftruncate, fsync, fstatfs, fadvise64, flock, fchdir).
#include <fcntl.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "kernel.hpp"
#include "sys/handlers.hpp"
#include "sys/io.hpp"
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

// The host descriptor behind a guest one: EBADF for none, EINVAL for
// one of the guest port's own files, which have nothing to change.
KResult<int> host_fd_of(Task& t, std::uint64_t fd)
{
	auto f = t.process().fds.get(fd_arg(fd));
	if (!f)
		return kerr(EBADF);
	if (f->host_fd() < 0)
		return kerr(EINVAL);
	return f->host_fd();
}

SysResult host_call(int ret)
{
	return ret < 0 ? -errno : ret;
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

namespace guest {

GUEST_SYSCALL(getdents64)
{
	auto f = t.process().fds.get(fd_arg(a[0]));
	if (!f)
		return -EBADF;
	return read_to_guest(t, a[1], a[2], [&](std::span<std::byte> b) { return f->getdents64(b); });
}

GUEST_SYSCALL(fchmod)
{
	auto fd = host_fd_of(t, a[0]);
	if (!fd)
		return fd.error() == EINVAL ? -EPERM : -fd.error();
	return host_call(::fchmod(*fd, static_cast<mode_t>(a[1]) & 07777));
}

GUEST_SYSCALL(fchown)
{
	auto fd = host_fd_of(t, a[0]);
	if (!fd)
		return fd.error() == EINVAL ? -EPERM : -fd.error();
	return host_call(::fchown(*fd, static_cast<uid_t>(a[1]), static_cast<gid_t>(a[2])));
}

GUEST_SYSCALL(ftruncate)
{
	if (static_cast<std::int64_t>(a[1]) < 0)
		return -EINVAL;
	auto fd = host_fd_of(t, a[0]);
	if (!fd)
		return -fd.error();
	return host_call(::ftruncate(*fd, static_cast<off_t>(a[1])));
}

GUEST_SYSCALL(fsync)
{
	auto fd = host_fd_of(t, a[0]);
	if (!fd)
		return -fd.error();
	return host_call(::fsync(*fd));
}

GUEST_SYSCALL(fdatasync)
{
	auto fd = host_fd_of(t, a[0]);
	if (!fd)
		return -fd.error();
	return host_call(::fdatasync(*fd));
}

GUEST_SYSCALL(fstatfs)
{
	auto f = t.process().fds.get(fd_arg(a[0]));
	if (!f)
		return -EBADF;
	struct statfs st{};
	if (f->host_fd() >= 0) {
		if (::fstatfs(f->host_fd(), &st) < 0)
			return -errno;
	} else {
		st.f_type = f->path().starts_with("/proc") ? 0x9fa0 : 0x01021994;
		st.f_bsize = st.f_frsize = 4096;
		st.f_namelen = 255;
	}
	return sys_ret(t.mm().write_obj(a[1], st));
}

GUEST_SYSCALL(fadvise64)
{
	auto f = t.process().fds.get(fd_arg(a[0]));
	if (!f)
		return -EBADF;
	if (a[3] > POSIX_FADV_NOREUSE)
		return -EINVAL;
	if (f->host_fd() < 0)
		return 0;
	// posix_fadvise returns the error, not -1.
	return -posix_fadvise(f->host_fd(), static_cast<off_t>(a[1]), static_cast<off_t>(a[2]),
			      static_cast<int>(a[3]));
}

GUEST_SYSCALL(flock)
{
	auto fd = host_fd_of(t, a[0]);
	if (!fd)
		return -fd.error();
	return host_call(::flock(*fd, static_cast<int>(a[1])));
}

GUEST_SYSCALL(fchdir)
{
	auto f = t.process().fds.get(fd_arg(a[0]));
	if (!f)
		return -EBADF;
	if (!f->is_directory())
		return -ENOTDIR;
	t.process().cwd = std::move(f);
	return 0;
}

static SysResult do_pipe(Task& t, std::uint64_t fds_addr, std::uint64_t flags)
{
	if (flags & ~std::uint64_t{O_CLOEXEC | O_NONBLOCK | O_DIRECT})
		return -EINVAL;
	int p[2];
	int status = static_cast<int>(flags & (O_NONBLOCK | O_DIRECT));
	if (::pipe2(p, O_CLOEXEC | status) < 0)
		return -errno;
	// A host pipe: the guest port's to read and write for the guest.
	auto r = std::make_shared<HostFile>(unpriv::Fd(p[0]), O_RDONLY | status,
					    &t.kernel().vfs(), false);
	auto w = std::make_shared<HostFile>(unpriv::Fd(p[1]), O_WRONLY | status,
					    &t.kernel().vfs(), false);
	FdTable& fds = t.process().fds;
	bool cloexec = flags & O_CLOEXEC;
	auto rfd = fds.install(r, cloexec);
	if (!rfd)
		return -rfd.error();
	auto wfd = fds.install(w, cloexec);
	if (!wfd) {
		(void)fds.close(*rfd);
		return -wfd.error();
	}
	int out[2] = {*rfd, *wfd};
	if (!t.mm().write(fds_addr, std::as_bytes(std::span(out)))) {
		(void)fds.close(*rfd);
		(void)fds.close(*wfd);
		return -EFAULT;
	}
	return 0;
}

GUEST_SYSCALL(pipe)
{
	return do_pipe(t, a[0], 0);
}

GUEST_SYSCALL(pipe2)
{
	return do_pipe(t, a[0], a[1]);
}

} // namespace guest
