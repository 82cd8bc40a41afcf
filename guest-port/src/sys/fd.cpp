// SPDX-License-Identifier: GPL-2.0
//
// Descriptors: the table (close, dup*, fcntl, ioctl, pipe2), and calls
// on the open file a descriptor names (fstat, getdents64, fchmod,
// fchown, ftruncate, fsync, fstatfs, fadvise64, flock, fchdir).
#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <sys/ioctl.h>

#include "fs/socket.hpp"
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

// fcntl's record locks.
SysResult record_lock(Task& t, File& f, int cmd, std::uint64_t arg)
{
	auto fl = t.mm().read_obj<struct flock>(arg);
	if (!fl)
		return -EFAULT;
	if (auto r = f.record_lock(cmd, *fl); !r)
		return -r.error();
	if ((cmd == F_GETLK || cmd == F_OFD_GETLK) && !t.mm().write_obj(arg, *fl))
		return -EFAULT;
	return 0;
}

std::shared_ptr<File> file_arg(Task& t, std::uint64_t fd)
{
	return t.files().get(fd_arg(fd));
}

} // namespace

GUEST_SYSCALL(close)
{
	return sys_ret(t.files().close(fd_arg(a[0])));
}

GUEST_SYSCALL(dup)
{
	auto f = t.files().get(fd_arg(a[0]));
	if (!f)
		return -EBADF;
	return sys_ret(t.files().install(std::move(f), false));
}

GUEST_SYSCALL(dup2)
{
	auto f = t.files().get(fd_arg(a[0]));
	if (!f)
		return -EBADF;
	if (a[0] == a[1])
		return fd_arg(a[1]);
	return sys_ret(t.files().install_at(fd_arg(a[1]), std::move(f), false));
}

GUEST_SYSCALL(dup3)
{
	if (a[2] & ~std::uint64_t{O_CLOEXEC})
		return -EINVAL;
	auto f = t.files().get(fd_arg(a[0]));
	if (!f)
		return -EBADF;
	if (a[0] == a[1])
		return -EINVAL;
	return sys_ret(t.files().install_at(fd_arg(a[1]), std::move(f), a[2] & O_CLOEXEC));
}

// close_range(2): CLOSE_RANGE_UNSHARE first gives the caller a table
// of its own (as unshare(CLONE_FILES)), then the range closes, or with
// CLOSE_RANGE_CLOEXEC is marked close-on-exec.
GUEST_SYSCALL(close_range)
{
	auto first = static_cast<unsigned>(a[0]), last = static_cast<unsigned>(a[1]);
	auto flags = static_cast<unsigned>(a[2]);
	if ((flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)) || first > last)
		return -EINVAL;
	if (flags & CLOSE_RANGE_UNSHARE)
		if (auto r = t.kernel().unshare(t, CLONE_FILES); !r)
			return -r.error();
	t.files().close_range(first, last, flags & CLOSE_RANGE_CLOEXEC);
	return 0;
}

GUEST_SYSCALL(fcntl)
{
	FdTable& fds = t.files();
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
		// 64-bit Linux opens everything O_LARGEFILE; a socket is not
		// opened.
		if (std::dynamic_pointer_cast<Socket>(f))
			return f->flags();
		return f->flags() | kernel_o_largefile;
	case F_SETFL:
		return sys_ret(f->set_status_flags(static_cast<int>(a[2])));
	case F_GETLK:
	case F_SETLK:
	case F_SETLKW:
	case F_OFD_GETLK:
	case F_OFD_SETLK:
	case F_OFD_SETLKW:
		return record_lock(t, *f, cmd, a[2]);
	case F_GETPIPE_SZ:
	case F_SETPIPE_SZ:
	case F_GET_SEALS:
	case F_ADD_SEALS:
		return sys_ret(f->fcntl_file(cmd, static_cast<int>(a[2])));
	default:
		return -EINVAL;
	}
}

namespace {

// Job control on a terminal is the guest's own: its foreground process
// group and session are the guest port's, never the host terminal's.
// None: an ioctl for the file itself.
std::optional<SysResult> terminal_ioctl(Task& t, File& f, dev_t tty, unsigned cmd,
					std::uint64_t arg)
{
	Kernel& k = t.kernel();
	switch (cmd) {
	case TIOCGPGRP:
	case TIOCGSID: {
		auto r = cmd == TIOCGPGRP ? k.tty_getpgrp(t, tty) : k.tty_getsid(t, tty);
		if (!r)
			return -r.error();
		return sys_ret(t.mm().write_obj<int>(arg, *r));
	}
	case TIOCSPGRP: {
		auto pgrp = t.mm().read_obj<int>(arg);
		if (!pgrp)
			return -EFAULT;
		return sys_ret(k.tty_setpgrp(t, tty, *pgrp));
	}
	case TIOCSCTTY:
		return sys_ret(k.tty_setctty(t, tty, f.readable(), static_cast<int>(arg)));
	case TIOCNOTTY:
		return sys_ret(k.tty_noctty(t, tty));
	case TCSETS: case TCSETSW: case TCSETSF: case TCFLSH: case TCXONC: case TIOCSWINSZ: {
		// What changes the terminal: SIGTTOU for a background
		// process (Linux's tty_check_change()).
		auto ok = k.tty_check(t, tty, SIGTTOU);
		if (!ok)
			return ok.error().result();
		return std::nullopt;
	}
	default:
		return std::nullopt;
	}
}

} // namespace

GUEST_SYSCALL(ioctl)
{
	FdTable& fds = t.files();
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
		if (dev_t tty = f->terminal()) {
			auto r = terminal_ioctl(t, *f, tty, cmd, a[2]);
			if (r)
				return *r;
		}
		return sys_ret(f->ioctl(t, cmd, a[2]));
	}
}

GUEST_SYSCALL(fstat)
{
	auto f = t.files().get(fd_arg(a[0]));
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
	auto f = t.files().get(fd_arg(a[0]));
	if (!f)
		return -EBADF;
	return read_to_guest(t, a[1], a[2], [&](std::span<std::byte> b) { return f->getdents64(b); });
}

GUEST_SYSCALL(fchmod)
{
	auto f = file_arg(t, a[0]);
	if (!f)
		return -EBADF;
	return sys_ret(f->chmod(static_cast<mode_t>(a[1])));
}

GUEST_SYSCALL(fchown)
{
	auto f = file_arg(t, a[0]);
	if (!f)
		return -EBADF;
	return sys_ret(f->chown(static_cast<uid_t>(a[1]), static_cast<gid_t>(a[2]), false));
}

GUEST_SYSCALL(ftruncate)
{
	if (static_cast<std::int64_t>(a[1]) < 0)
		return -EINVAL;
	auto f = file_arg(t, a[0]);
	if (!f)
		return -EBADF;
	return sys_ret(f->truncate(a[1]));
}

GUEST_SYSCALL(fsync)
{
	auto f = file_arg(t, a[0]);
	if (!f)
		return -EBADF;
	return sys_ret(f->sync(false));
}

GUEST_SYSCALL(fdatasync)
{
	auto f = file_arg(t, a[0]);
	if (!f)
		return -EBADF;
	return sys_ret(f->sync(true));
}

GUEST_SYSCALL(fstatfs)
{
	auto f = file_arg(t, a[0]);
	if (!f)
		return -EBADF;
	auto st = f->statfs();
	if (!st)
		return -st.error();
	return sys_ret(t.mm().write_obj(a[1], *st));
}

GUEST_SYSCALL(fadvise64)
{
	auto f = file_arg(t, a[0]);
	if (!f)
		return -EBADF;
	if (a[3] > POSIX_FADV_NOREUSE)
		return -EINVAL;
	return sys_ret(f->advise(a[1], a[2], static_cast<int>(a[3])));
}

GUEST_SYSCALL(flock)
{
	auto f = file_arg(t, a[0]);
	if (!f)
		return -EBADF;
	return sys_ret(f->flock(static_cast<int>(a[1])));
}

GUEST_SYSCALL(fchdir)
{
	auto f = t.files().get(fd_arg(a[0]));
	if (!f)
		return -EBADF;
	if (!f->is_directory())
		return -ENOTDIR;
	(void)t.fs().set_cwd(std::move(f));
	return 0;
}

static SysResult do_pipe(Task& t, std::uint64_t fds_addr, std::uint64_t flags)
{
	if (flags & ~std::uint64_t{O_CLOEXEC | O_NONBLOCK | O_DIRECT})
		return -EINVAL;
	auto ends = make_pipe(t.kernel().vfs(), static_cast<int>(flags));
	if (!ends)
		return -ends.error();
	FdTable& fds = t.files();
	bool cloexec = flags & O_CLOEXEC;
	auto rfd = fds.install(ends->first, cloexec);
	if (!rfd)
		return -rfd.error();
	auto wfd = fds.install(ends->second, cloexec);
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
