// SPDX-License-Identifier: GPL-2.0
//
// Calls on names in the guest's file system: open and its kin, the stat
// family, readlink, access, mkdir, mknod, unlink, rmdir, rename, symlink,
// link, chmod, chown, utimensat, truncate, statfs, chdir, getcwd.  The
// work, and the confinement, is the Vfs's.
#include <fcntl.h>
#include <linux/limits.h>
#include <sys/stat.h>
#include <sys/time.h>

#include "kernel.hpp"
#include "sys/handlers.hpp"
#include "task.hpp"

namespace guest {
namespace {

int dirfd_arg(std::uint64_t v)
{
	return static_cast<int>(v);
}

KResult<std::string> path_arg(Task& t, std::uint64_t addr)
{
	if (!addr)
		return kerr(EFAULT);
	return t.mm().read_string(addr, PATH_MAX - 1);
}

Vfs& vfs(Task& t)
{
	return t.kernel().vfs();
}

SysResult do_open(Task& t, int dirfd, std::uint64_t path, int flags, mode_t mode)
{
	auto p = path_arg(t, path);
	if (!p)
		return -p.error();
	auto f = vfs(t).open(t, dirfd, *p, flags, mode);
	if (!f)
		return -f.error();
	return sys_ret(t.files().install(std::move(*f), flags & O_CLOEXEC));
}

// The file an AT_EMPTY_PATH call names: dirfd itself, or the cwd.
std::shared_ptr<File> empty_path_file(Task& t, int dirfd)
{
	return dirfd == AT_FDCWD ? t.fs().cwd() : t.files().get(dirfd);
}

SysResult do_stat(Task& t, int dirfd, std::uint64_t path, std::uint64_t buf, int flags)
{
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT))
		return -EINVAL;
	auto p = path_arg(t, path);
	if (!p)
		return -p.error();
	KResult<struct stat> st;
	if (p->empty() && (flags & AT_EMPTY_PATH)) {
		auto f = empty_path_file(t, dirfd);
		if (!f)
			return -EBADF;
		st = f->stat();
	} else {
		st = vfs(t).stat(t, dirfd, *p, !(flags & AT_SYMLINK_NOFOLLOW));
	}
	if (!st)
		return -st.error();
	return sys_ret(t.mm().write_obj(buf, *st));
}

SysResult do_readlink(Task& t, int dirfd, std::uint64_t path, std::uint64_t buf,
		      std::uint64_t size)
{
	if (static_cast<int>(size) <= 0)
		return -EINVAL;
	auto p = path_arg(t, path);
	if (!p)
		return -p.error();
	auto target = vfs(t).readlink(t, dirfd, *p);
	if (!target)
		return -target.error();
	std::size_t n = std::min<std::size_t>(target->size(), size);
	if (!t.mm().write(buf, std::as_bytes(std::span(target->data(), n))))
		return -EFAULT;
	return static_cast<SysResult>(n);
}

SysResult do_access(Task& t, int dirfd, std::uint64_t path, int mode, int flags)
{
	if (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	auto p = path_arg(t, path);
	if (!p)
		return -p.error();
	return sys_ret(vfs(t).access(t, dirfd, *p, mode, flags));
}

SysResult do_mkdir(Task& t, int dirfd, std::uint64_t path, mode_t mode)
{
	auto p = path_arg(t, path);
	if (!p)
		return -p.error();
	return sys_ret(vfs(t).mkdir(t, dirfd, *p, mode));
}

SysResult do_mknod(Task& t, int dirfd, std::uint64_t path, mode_t mode, dev_t dev)
{
	auto p = path_arg(t, path);
	if (!p)
		return -p.error();
	return sys_ret(vfs(t).mknod(t, dirfd, *p, mode, dev));
}

SysResult do_unlink(Task& t, int dirfd, std::uint64_t path, int flags)
{
	auto p = path_arg(t, path);
	if (!p)
		return -p.error();
	return sys_ret(vfs(t).unlink(t, dirfd, *p, flags));
}

SysResult do_rename(Task& t, int olddirfd, std::uint64_t oldpath, int newdirfd,
		    std::uint64_t newpath, unsigned flags)
{
	auto from = path_arg(t, oldpath);
	if (!from)
		return -from.error();
	auto to = path_arg(t, newpath);
	if (!to)
		return -to.error();
	return sys_ret(vfs(t).rename(t, olddirfd, *from, newdirfd, *to, flags));
}

SysResult do_symlink(Task& t, std::uint64_t target, int dirfd, std::uint64_t path)
{
	auto to = path_arg(t, target);
	if (!to)
		return -to.error();
	auto p = path_arg(t, path);
	if (!p)
		return -p.error();
	return sys_ret(vfs(t).symlink(t, *to, dirfd, *p));
}

SysResult do_link(Task& t, int olddirfd, std::uint64_t oldpath, int newdirfd,
		  std::uint64_t newpath, int flags)
{
	auto from = path_arg(t, oldpath);
	if (!from)
		return -from.error();
	auto to = path_arg(t, newpath);
	if (!to)
		return -to.error();
	return sys_ret(vfs(t).link(t, olddirfd, *from, newdirfd, *to, flags));
}

SysResult do_chmod(Task& t, int dirfd, std::uint64_t path, mode_t mode)
{
	auto p = path_arg(t, path);
	if (!p)
		return -p.error();
	return sys_ret(vfs(t).chmod(t, dirfd, *p, mode));
}

SysResult do_chown(Task& t, int dirfd, std::uint64_t path, std::uint64_t uid,
		   std::uint64_t gid, int flags)
{
	auto p = path_arg(t, path);
	if (!p)
		return -p.error();
	if (p->empty() && (flags & AT_EMPTY_PATH)) {
		auto f = empty_path_file(t, dirfd);
		if (!f)
			return -EBADF;
		return sys_ret(f->chown(static_cast<uid_t>(uid), static_cast<gid_t>(gid), true));
	}
	return sys_ret(vfs(t).chown(t, dirfd, *p, static_cast<uid_t>(uid),
				    static_cast<gid_t>(gid), flags));
}

// times: null for "now", else two timespecs (atime, mtime).
SysResult do_utimens(Task& t, int dirfd, std::uint64_t path, const struct timespec *times,
		     int flags)
{
	if (!path) {
		// Linux's extension: the file dirfd itself.
		auto f = empty_path_file(t, dirfd);
		if (!f)
			return -EBADF;
		return sys_ret(f->utimens(times));
	}
	auto p = path_arg(t, path);
	if (!p)
		return -p.error();
	return sys_ret(vfs(t).utimens(t, dirfd, *p, times, flags));
}

} // namespace

GUEST_SYSCALL(open)
{
	return do_open(t, AT_FDCWD, a[0], static_cast<int>(a[1]), static_cast<mode_t>(a[2]));
}

GUEST_SYSCALL(openat)
{
	return do_open(t, dirfd_arg(a[0]), a[1], static_cast<int>(a[2]), static_cast<mode_t>(a[3]));
}

GUEST_SYSCALL(creat)
{
	return do_open(t, AT_FDCWD, a[0], O_CREAT | O_WRONLY | O_TRUNC, static_cast<mode_t>(a[1]));
}

GUEST_SYSCALL(stat)
{
	return do_stat(t, AT_FDCWD, a[0], a[1], 0);
}

GUEST_SYSCALL(lstat)
{
	return do_stat(t, AT_FDCWD, a[0], a[1], AT_SYMLINK_NOFOLLOW);
}

GUEST_SYSCALL(newfstatat)
{
	return do_stat(t, dirfd_arg(a[0]), a[1], a[2], static_cast<int>(a[3]));
}

GUEST_SYSCALL(statx)
{
	int dirfd = dirfd_arg(a[0]);
	auto flags = static_cast<int>(a[2]);
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE) ||
	    (flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE)
		return -EINVAL;
	if (a[3] & STATX__RESERVED)
		return -EINVAL;
	auto p = path_arg(t, a[1]);
	if (!p)
		return -p.error();
	KResult<struct statx> stx;
	if (p->empty() && (flags & AT_EMPTY_PATH)) {
		auto f = empty_path_file(t, dirfd);
		if (!f)
			return -EBADF;
		stx = f->statx(static_cast<unsigned>(a[3]), flags);
	} else {
		stx = vfs(t).statx(t, dirfd, *p, flags, static_cast<unsigned>(a[3]));
	}
	if (!stx)
		return -stx.error();
	return sys_ret(t.mm().write_obj(a[4], *stx));
}

GUEST_SYSCALL(readlink)
{
	return do_readlink(t, AT_FDCWD, a[0], a[1], a[2]);
}

GUEST_SYSCALL(readlinkat)
{
	return do_readlink(t, dirfd_arg(a[0]), a[1], a[2], a[3]);
}

GUEST_SYSCALL(access)
{
	return do_access(t, AT_FDCWD, a[0], static_cast<int>(a[1]), 0);
}

GUEST_SYSCALL(faccessat)
{
	return do_access(t, dirfd_arg(a[0]), a[1], static_cast<int>(a[2]), 0);
}

GUEST_SYSCALL(faccessat2)
{
	return do_access(t, dirfd_arg(a[0]), a[1], static_cast<int>(a[2]), static_cast<int>(a[3]));
}

GUEST_SYSCALL(mkdir)
{
	return do_mkdir(t, AT_FDCWD, a[0], static_cast<mode_t>(a[1]));
}

GUEST_SYSCALL(mkdirat)
{
	return do_mkdir(t, dirfd_arg(a[0]), a[1], static_cast<mode_t>(a[2]));
}

GUEST_SYSCALL(mknod)
{
	return do_mknod(t, AT_FDCWD, a[0], static_cast<mode_t>(a[1]), static_cast<dev_t>(a[2]));
}

GUEST_SYSCALL(mknodat)
{
	return do_mknod(t, dirfd_arg(a[0]), a[1], static_cast<mode_t>(a[2]), static_cast<dev_t>(a[3]));
}

GUEST_SYSCALL(unlink)
{
	return do_unlink(t, AT_FDCWD, a[0], 0);
}

GUEST_SYSCALL(rmdir)
{
	return do_unlink(t, AT_FDCWD, a[0], AT_REMOVEDIR);
}

GUEST_SYSCALL(unlinkat)
{
	return do_unlink(t, dirfd_arg(a[0]), a[1], static_cast<int>(a[2]));
}

GUEST_SYSCALL(rename)
{
	return do_rename(t, AT_FDCWD, a[0], AT_FDCWD, a[1], 0);
}

GUEST_SYSCALL(renameat)
{
	return do_rename(t, dirfd_arg(a[0]), a[1], dirfd_arg(a[2]), a[3], 0);
}

GUEST_SYSCALL(renameat2)
{
	return do_rename(t, dirfd_arg(a[0]), a[1], dirfd_arg(a[2]), a[3], static_cast<unsigned>(a[4]));
}

GUEST_SYSCALL(symlink)
{
	return do_symlink(t, a[0], AT_FDCWD, a[1]);
}

GUEST_SYSCALL(symlinkat)
{
	return do_symlink(t, a[0], dirfd_arg(a[1]), a[2]);
}

GUEST_SYSCALL(link)
{
	return do_link(t, AT_FDCWD, a[0], AT_FDCWD, a[1], 0);
}

GUEST_SYSCALL(linkat)
{
	return do_link(t, dirfd_arg(a[0]), a[1], dirfd_arg(a[2]), a[3], static_cast<int>(a[4]));
}

GUEST_SYSCALL(chmod)
{
	return do_chmod(t, AT_FDCWD, a[0], static_cast<mode_t>(a[1]));
}

GUEST_SYSCALL(fchmodat)
{
	return do_chmod(t, dirfd_arg(a[0]), a[1], static_cast<mode_t>(a[2]));
}

GUEST_SYSCALL(chown)
{
	return do_chown(t, AT_FDCWD, a[0], a[1], a[2], 0);
}

GUEST_SYSCALL(lchown)
{
	return do_chown(t, AT_FDCWD, a[0], a[1], a[2], AT_SYMLINK_NOFOLLOW);
}

GUEST_SYSCALL(fchownat)
{
	return do_chown(t, dirfd_arg(a[0]), a[1], a[2], a[3], static_cast<int>(a[4]));
}

GUEST_SYSCALL(utimensat)
{
	struct timespec times[2];
	if (a[2] && !t.mm().read(a[2], std::as_writable_bytes(std::span(times))))
		return -EFAULT;
	return do_utimens(t, dirfd_arg(a[0]), a[1], a[2] ? times : nullptr, static_cast<int>(a[3]));
}

GUEST_SYSCALL(utimes)
{
	struct timeval tv[2];
	struct timespec times[2];
	if (a[1]) {
		if (!t.mm().read(a[1], std::as_writable_bytes(std::span(tv))))
			return -EFAULT;
		for (int i = 0; i < 2; i++) {
			if (tv[i].tv_usec < 0 || tv[i].tv_usec >= 1000000)
				return -EINVAL;
			times[i] = {tv[i].tv_sec, tv[i].tv_usec * 1000};
		}
	}
	if (!a[0])
		return -EFAULT;
	return do_utimens(t, AT_FDCWD, a[0], a[1] ? times : nullptr, 0);
}

GUEST_SYSCALL(truncate)
{
	auto p = path_arg(t, a[0]);
	if (!p)
		return -p.error();
	return sys_ret(vfs(t).truncate(t, *p, static_cast<off_t>(a[1])));
}

GUEST_SYSCALL(statfs)
{
	auto p = path_arg(t, a[0]);
	if (!p)
		return -p.error();
	auto st = vfs(t).statfs(t, *p);
	if (!st)
		return -st.error();
	return sys_ret(t.mm().write_obj(a[1], *st));
}

GUEST_SYSCALL(chdir)
{
	auto p = path_arg(t, a[0]);
	if (!p)
		return -p.error();
	return sys_ret(vfs(t).chdir(t, *p));
}

GUEST_SYSCALL(getcwd)
{
	auto cwd = vfs(t).getcwd(t);
	if (!cwd)
		return -cwd.error();
	if (a[1] < cwd->size() + 1)
		return -ERANGE;
	if (!t.mm().write(a[0], std::as_bytes(std::span(cwd->c_str(), cwd->size() + 1))))
		return -EFAULT;
	return static_cast<SysResult>(cwd->size() + 1);
}

} // namespace guest
