// SPDX-License-Identifier: GPL-2.0
#include "fs/vfs.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <cstdio>

#include "task.hpp"

namespace guest {
namespace {

// open(2) ignores flag bits it does not know; openat2(2) refuses them.
constexpr int valid_open_flags =
	O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK |
	O_DSYNC | O_ASYNC | O_DIRECT | kernel_o_largefile | O_DIRECTORY | O_NOFOLLOW |
	O_NOATIME | O_CLOEXEC | O_PATH | __O_TMPFILE | kernel_o_sync;

std::string host_fd_path(int fd)
{
	char link[64], buf[PATH_MAX];
	std::snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, buf, sizeof(buf));
	return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

long openat2(int dirfd, const std::string& path, int flags, mode_t mode,
	     std::uint64_t resolve)
{
	struct open_how how{};
	how.flags = static_cast<std::uint64_t>((flags & valid_open_flags) | O_CLOEXEC);
	// openat2 refuses a mode without O_CREAT or O_TMPFILE.
	if (flags & (O_CREAT | __O_TMPFILE))
		how.mode = mode & 07777;
	how.resolve = resolve | RESOLVE_NO_MAGICLINKS;
	for (;;) {
		long fd = syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof(how));
		// EAGAIN: a rename raced with a ".." walk; the kernel asks
		// for a retry rather than risk an escape.
		if (fd >= 0 || (errno != EAGAIN && errno != EINTR))
			return fd;
	}
}

} // namespace

KResult<std::unique_ptr<Vfs>> Vfs::create(const std::string& root)
{
	int fd = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return kerr(errno);
	unpriv::Fd rootfd(fd);
	std::string host_root = host_fd_path(fd);
	if (host_root.empty())
		return kerr(errno ? errno : ENOENT);
	return std::unique_ptr<Vfs>(new Vfs(std::move(rootfd), std::move(host_root)));
}

KResult<std::shared_ptr<File>> Vfs::root_dir() const
{
	int fd = fcntl(root_.get(), F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return kerr(errno);
	return std::make_shared<HostFile>(unpriv::Fd(fd), O_PATH | O_DIRECTORY, this);
}

KResult<std::string> Vfs::guest_path(int fd) const
{
	std::string p = host_fd_path(fd);
	constexpr std::string_view deleted = " (deleted)";
	if (p.empty() || p[0] != '/' ||
	    (p.size() > deleted.size() && p.ends_with(deleted)))
		return kerr(ENOENT);
	if (host_root_ == "/")
		return p;
	if (p == host_root_)
		return std::string("/");
	if (p.size() > host_root_.size() && p.starts_with(host_root_) &&
	    p[host_root_.size()] == '/')
		return p.substr(host_root_.size());
	return kerr(ENOENT);
}

std::string Vfs::describe(int fd) const
{
	auto p = guest_path(fd);
	return p ? *p : host_fd_path(fd);
}

KResult<unpriv::Fd> Vfs::host_open(Task& t, int dirfd, const std::string& path,
				   int flags, mode_t mode, std::uint64_t resolve) const
{
	if (path.empty())
		return kerr(ENOENT);

	long fd;
	if (path[0] == '/') {
		fd = openat2(root_.get(), path, flags, mode, resolve | RESOLVE_IN_ROOT);
		if (fd < 0)
			return kerr(errno);
		return unpriv::Fd(static_cast<int>(fd));
	}

	std::shared_ptr<File> start = dirfd == AT_FDCWD ? t.process().cwd
							 : t.process().fds.get(dirfd);
	if (!start)
		return kerr(EBADF);
	if (!start->is_directory())
		return kerr(ENOTDIR);
	fd = openat2(start->host_fd(), path, flags, mode, resolve | RESOLVE_BENEATH);
	if (fd >= 0)
		return unpriv::Fd(static_cast<int>(fd));
	if (errno != EXDEV)
		return kerr(errno);

	// The path leaves its starting directory: resolve it from the root.
	auto dir = guest_path(start->host_fd());
	if (!dir)
		return kerr(dir.error());
	fd = openat2(root_.get(), *dir + "/" + path, flags, mode, resolve | RESOLVE_IN_ROOT);
	if (fd < 0)
		return kerr(errno);
	return unpriv::Fd(static_cast<int>(fd));
}

KResult<std::shared_ptr<File>> Vfs::open(Task& t, int dirfd, const std::string& path,
					 int flags, mode_t mode) const
{
	mode &= ~t.process().umask;
	auto fd = host_open(t, dirfd, path, flags, mode);
	if (!fd)
		return kerr(fd.error());
	return std::make_shared<HostFile>(std::move(*fd), flags & ~O_CLOEXEC, this);
}

} // namespace guest
