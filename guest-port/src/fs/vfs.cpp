// SPDX-License-Identifier: GPL-2.0
#include "fs/vfs.hpp"
#include "host/file.hpp"
#include "host/io.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <sys/sysmacros.h>

#include <algorithm>
#include <utility>
#include <array>
#include <climits>
#include <cstdio>

#include "fs/path.hpp"
#include "task.hpp"

namespace guest {
namespace {

// open(2) ignores flag bits it does not know; openat2(2) refuses them.
constexpr int valid_open_flags =
	O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK |
	O_DSYNC | O_ASYNC | O_DIRECT | kernel_o_largefile | O_DIRECTORY | O_NOFOLLOW |
	O_NOATIME | O_CLOEXEC | O_PATH | __O_TMPFILE | kernel_o_sync;

// The host's magic link to our own descriptor fd: how the calls that
// have no AT_EMPTY_PATH act on a file opened with O_PATH.
std::string proc_fd(int fd)
{
	return "/proc/self/fd/" + std::to_string(fd);
}

KResult<SynthLookup> synth_lookup(Task& t, const std::string& norm)
{
	if (norm == "/dev" || norm.starts_with("/dev/"))
		return devfs_lookup(t, norm);
	return procfs_lookup(t, norm);
}

// Whether relative path p, taken from the root, would lead into /dev or
// /proc: its first component other than "." is one of them.  (A path
// with ".." may lead anywhere, and is taken as absolute anyway.)
bool names_mount(std::string_view p)
{
	for (std::size_t i = 0; i < p.size();) {
		std::size_t j = p.find('/', i);
		if (j == std::string_view::npos)
			j = p.size();
		std::string_view c = p.substr(i, j - i);
		if (!c.empty() && c != ".")
			return c == "dev" || c == "proc";
		i = j + 1;
	}
	return false;
}

// Whether the host's walk of absolute path abs would start in the
// root's own /dev or /proc: its first component other than "." and ".."
// (which stay at the root) is one of them.
bool enters_mount(std::string_view abs)
{
	for (std::size_t i = 0;;) {
		while (i < abs.size() && abs[i] == '/')
			i++;
		std::string_view rest = abs.substr(i);
		if (rest == ".." || rest.starts_with("../"))
			i += 2;
		else if (rest == "." || rest.starts_with("./"))
			i += 1;
		else
			return names_mount(rest);
	}
}

std::string host_fd_path(int fd)
{
	auto p = host::readlinkat(AT_FDCWD, proc_fd(fd).c_str());
	return p ? std::move(*p) : std::string();
}

KResult<int> openat2(int dirfd, const std::string& path, int flags, mode_t mode,
		     std::uint64_t resolve)
{
	struct open_how how{};
	how.flags = static_cast<std::uint64_t>((flags & valid_open_flags) | O_CLOEXEC);
	// openat2 refuses a mode without O_CREAT or O_TMPFILE.
	if (flags & (O_CREAT | __O_TMPFILE))
		how.mode = mode & 07777;
	how.resolve = resolve | RESOLVE_NO_MAGICLINKS;
	for (;;) {
		auto fd = host::openat2(dirfd, path.c_str(), how);
		// EAGAIN: a rename raced with a ".." walk; the kernel asks
		// for a retry rather than risk an escape.
		if (fd || fd.error() != EAGAIN)
			return fd;
	}
}

// openat2 that stays on dirfd's mount first (RESOLVE_NO_XDEV), and
// says whether it did (same): what it finds is then on a file system
// already looked at, for every lookup starts at the root or at a
// directory host_open() looked at, and a mount's file system never
// changes.  Only a path that crosses a mount is walked twice.
KResult<int> openat2_mount(int dirfd, const std::string& path, int flags, mode_t mode,
			   std::uint64_t resolve, bool& same)
{
	auto fd = openat2(dirfd, path, flags, mode, resolve | RESOLVE_NO_XDEV);
	same = fd || fd.error() != EXDEV;
	if (same)
		return fd;
	return openat2(dirfd, path, flags, mode, resolve);
}

// As Linux's path walk: at most 40 symlinks.
constexpr int max_links = 40;

// File systems that show the host rather than hold files: its processes
// and kernel settings (proc, sysfs, debugfs, tracefs, securityfs and the
// security modules' own, bpf, configfs, cgroup, resctrl, binfmt_misc,
// efivarfs, pstore, fusectl, nfsd, rpc_pipefs, xenfs), its terminals and
// IPC (devpts, mqueue, binderfs, nsfs), and its devices (usbfs,
// openpromfs).  Ordinary file systems (ext4, xfs, btrfs, tmpfs, overlay,
// fuse, nfs...) are the root's, bind mounted or not.  devtmpfs calls
// itself tmpfs: its devices are refused as devices.
constexpr std::array<unsigned long, 26> host_fs_magic{
	PROC_SUPER_MAGIC, SYSFS_MAGIC, DEBUGFS_MAGIC, TRACEFS_MAGIC, SECURITYFS_MAGIC,
	SELINUX_MAGIC, SMACK_MAGIC, AAFS_MAGIC, BPF_FS_MAGIC,
	0x62656570,	// configfs
	CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC, RDTGROUP_SUPER_MAGIC, BINFMTFS_MAGIC,
	EFIVARFS_MAGIC, PSTOREFS_MAGIC,
	0x65735543,	// fusectl
	0x6e667364,	// nfsd
	0x67596969,	// rpc_pipefs
	XENFS_SUPER_MAGIC, DEVPTS_SUPER_MAGIC,
	0x19800202,	// mqueue
	BINDERFS_SUPER_MAGIC, NSFS_MAGIC, USBDEVICE_SUPER_MAGIC, OPENPROM_SUPER_MAGIC,
};

// Whether the guest may reach what a host lookup found (fd): not a host
// device node (the guest port's /dev has the guest's devices), nothing
// on a file system that shows the host.  The guest sees neither as
// there: ENOENT, as for a name its /dev and /proc do not have.  What is
// known needs no look: same_mount, found on the mount of a directory
// already looked at (openat2_mount()); dir, a directory (O_DIRECTORY
// found it), never a device.  st, when given, gets fd's stat.
KResult<void> reachable(int fd, bool same_mount, bool dir, struct stat *st = nullptr)
{
	if (!dir || st) {
		auto s = host::fstat(fd);
		if (!s)
			return kerr(s.error());
		if (S_ISCHR(s->st_mode) || S_ISBLK(s->st_mode))
			return kerr(ENOENT);
		if (st)
			*st = *s;
	}
	if (same_mount)
		return {};
	auto fs = host::fstatfs(fd);
	if (!fs)
		return kerr(fs.error());
	if (std::ranges::find(host_fs_magic, static_cast<unsigned long>(fs->f_type)) !=
	    host_fs_magic.end())
		return kerr(ENOENT);
	return {};
}

} // namespace

KResult<std::unique_ptr<Vfs>> Vfs::create(const std::string& root)
{
	auto opened = host::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (!opened)
		return kerr(opened.error());
	int fd = *opened;
	host::Fd rootfd(fd);
	// Every lookup starts at the root (or below it): it is one the
	// guest may reach, which lookups that stay on its mount rely on.
	if (auto r = reachable(fd, false, true); !r)
		return kerr(EACCES);
	auto host_root = host::readlinkat(AT_FDCWD, proc_fd(fd).c_str());
	if (!host_root)
		return kerr(host_root.error());
	if (host_root->empty())
		return kerr(ENOENT);
	return std::unique_ptr<Vfs>(new Vfs(std::move(rootfd), std::move(*host_root)));
}

KResult<std::shared_ptr<File>> Vfs::root_dir() const
{
	auto fd = host::fcntl(root_.get(), F_DUPFD_CLOEXEC, 0);
	if (!fd)
		return kerr(fd.error());
	return std::make_shared<HostFile>(host::Fd(*fd), O_PATH | O_DIRECTORY, this,
					  HostFile::Origin::root);
}

std::optional<std::string> Vfs::under_root(const std::string& p) const
{
	if (p.empty() || p[0] != '/')
		return std::nullopt;
	if (host_root_ == "/")
		return p;
	if (p == host_root_)
		return std::string("/");
	if (p.size() > host_root_.size() && p.starts_with(host_root_) &&
	    p[host_root_.size()] == '/')
		return p.substr(host_root_.size());
	return std::nullopt;
}

KResult<std::string> Vfs::guest_path(int fd) const
{
	std::string p = host_fd_path(fd);
	constexpr std::string_view deleted = " (deleted)";
	if (p.size() > deleted.size() && p.ends_with(deleted))
		return kerr(ENOENT);
	auto g = under_root(p);
	if (!g)
		return kerr(ENOENT);
	return *g;
}

std::string Vfs::describe(int fd, const std::string& outside) const
{
	std::string p = host_fd_path(fd);
	if (p.empty() || p[0] != '/')
		return p;
	constexpr std::string_view deleted = " (deleted)";
	bool gone = p.size() > deleted.size() && p.ends_with(deleted);
	auto g = under_root(gone ? p.substr(0, p.size() - deleted.size()) : p);
	if (!g)
		return outside;
	return gone ? *g + std::string(deleted) : *g;
}

KResult<Vfs::Loc> Vfs::locate(Task& t, std::shared_ptr<File> start, int dirfd,
			      const std::string& p) const
{
	if (p.empty())
		return kerr(ENOENT);
	if (p[0] == '/') {
		Loc loc;
		std::string norm = path::normalize(p);
		if (path::synthetic(norm)) {
			loc.synth = true;
			loc.norm = std::move(norm);
			return loc;
		}
		loc.dirfd = root_.get();
		loc.path = p;
		loc.resolve = RESOLVE_IN_ROOT;
		// One that starts in /dev or /proc and leaves it again
		// ("/proc/self/../../etc") is in the root by its normalized
		// form: the host walks that, not the root's own directories
		// of those names (a procfs, as a chroot setup has).
		if (enters_mount(p)) {
			bool dir = p.ends_with('/') || p.ends_with("/.") || p.ends_with("/..");
			loc.path = dir && norm != "/" ? norm + "/" : norm;
		}
		return loc;
	}
	if (!start) {
		start = dirfd == AT_FDCWD ? t.fs().cwd() : t.files().get(dirfd);
		if (!start)
			return kerr(EBADF);
	}
	if (!start->is_directory())
		return kerr(ENOTDIR);
	if (start->host_fd() < 0)	// one of the guest port's directories
		return locate(t, nullptr, AT_FDCWD, path::join(start->path(), p));
	// Where the path may lead to /dev or /proc, its absolute form
	// decides which file system it is in, as for an absolute path.
	if (path::has_dotdot(p) || names_mount(p)) {
		auto dir = guest_path(start->host_fd());
		if (dir)
			return locate(t, nullptr, AT_FDCWD, path::join(*dir, p));
		if (path::has_dotdot(p))
			return kerr(dir.error());
		// A removed directory: not the root, nothing lexical to find.
	}
	Loc loc;
	loc.dirfd = start->host_fd();
	loc.path = p;
	loc.resolve = RESOLVE_BENEATH;
	loc.start = std::move(start);
	return loc;
}

KResult<Vfs::Target> Vfs::resolve(Task& t, int dirfd, const std::string& path_in,
				  bool follow) const
{
	std::shared_ptr<File> start;
	std::string p = path_in;

	for (int links = 0; links <= max_links; links++) {
		auto loc = locate(t, start, dirfd, p);
		if (!loc)
			return kerr(loc.error());
		if (!loc->synth) {
			Target tg;
			tg.host = std::move(*loc);
			return tg;
		}
		auto r = synth_lookup(t, loc->norm);
		if (!r)
			return kerr(r.error());
		// A trailing slash follows the last symlink, and wants a directory.
		bool slash = p.ends_with('/') || p.ends_with("/.");
		if (auto *red = std::get_if<Redirect>(&*r)) {
			start = std::move(red->start);
			p = std::move(red->path);
			if (start && p.empty()) {
				Target tg;
				tg.file = std::move(start);
				return tg;
			}
			continue;
		}
		SynthNode& n = std::get<SynthNode>(*r);
		if (n.kind == SynthNode::Kind::symlink && (follow || slash)) {
			if (n.magic) {
				if (slash && !n.magic->is_directory())
					return kerr(ENOTDIR);
				Target tg;
				tg.file = n.magic;
				return tg;
			}
			start = nullptr;
			p = n.target[0] == '/' ? n.target
					       : path::join(n.path.substr(0, n.path.rfind('/')), n.target);
			continue;
		}
		if (slash && n.kind != SynthNode::Kind::dir)
			return kerr(ENOTDIR);
		Target tg;
		tg.node = std::move(n);
		return tg;
	}
	return kerr(ELOOP);
}

KResult<host::Fd> Vfs::find(const Loc& loc, int flags, mode_t mode, struct stat *st) const
{
	bool same;
	auto fd = lookup(loc, flags, mode, &same);
	if (!fd)
		return kerr(fd.error());
	auto r = reachable(fd->get(), same, flags & O_DIRECTORY, st);
	if (!r)
		return kerr(r.error());
	return fd;
}

KResult<host::Fd> Vfs::host_open(const Loc& loc, int flags, mode_t mode, mode_t *type,
				   const FileId *running) const
{
	// O_PATH opens nothing: what it found is looked at afterwards.
	// Nor does O_CREAT of a name with a trailing slash: it fails
	// (EISDIR, or the error of the path before it).
	if ((flags & O_PATH) || ((flags & O_CREAT) && loc.path.ends_with('/'))) {
		struct stat st;
		auto fd = find(loc, flags, mode, type ? &st : nullptr);
		if (fd && type)
			*type = st.st_mode & S_IFMT;
		return fd;
	}
	// Anything else is looked at before it is opened: opening a device
	// runs its driver, and a file that shows the host may act on open
	// (tracefs's trace empties on O_TRUNC).  So the file is found with
	// O_PATH, looked at, and opened from that descriptor, which no
	// rename can change.  A file O_CREAT makes is made in a directory
	// that was looked at, with O_EXCL, so that it is a new one (mqueue
	// would make a host message queue).  O_CREAT | O_EXCL makes one or
	// fails: it is made first, and what is there looked at only when
	// something is.
	bool tmpfile = (flags & __O_TMPFILE) == __O_TMPFILE;
	bool create = (flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL) &&
		      !path::split(loc.path).dot();
	Loc at = loc;
	for (int links = 0, tries = 0; links <= max_links && tries <= max_links; tries++) {
		bool first = std::exchange(create, false);
		if (!first) {
			bool same;
			auto obj = lookup(at, O_PATH | (flags & (O_NOFOLLOW | O_DIRECTORY)), 0, &same);
			if (obj) {
				struct stat st;
				auto r = reachable(obj->get(), same, false, &st);
				if (!r)
					return kerr(r.error());
				if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
					return kerr(EEXIST);
				if (S_ISLNK(st.st_mode))	// O_NOFOLLOW
					return kerr(ELOOP);
				if ((flags & O_CREAT) && S_ISDIR(st.st_mode))
					return kerr(EISDIR);
				if (running && S_ISREG(st.st_mode) && st.st_dev == running->first &&
				    st.st_ino == running->second)
					return kerr(ETXTBSY);
				// (O_TMPFILE: a new file in the directory found.)
				auto fd = host::reopen(obj->get(),
						       flags & ~(O_CREAT | O_EXCL | O_NOFOLLOW),
						       mode & 07777);
				if (!fd)
					return kerr(fd.error());
				if (type)
					*type = tmpfile ? S_IFREG : st.st_mode & S_IFMT;
				return host::Fd(*fd);
			}
			if (obj.error() != ENOENT || !(flags & O_CREAT))
				return kerr(obj.error());
		}

		path::Split s = path::split(at.path);
		if (s.trailing_slash || s.dot())
			return kerr(EISDIR);
		host::Fd opened;
		int dir = at.dirfd;	// a name in the starting directory: looked at
		if (!s.dir.empty() || at.resolve != RESOLVE_BENEATH) {
			Loc up = at;
			up.path = s.dir.empty() ? "." : s.dir;
			auto d = find(up, O_PATH | O_DIRECTORY, 0, nullptr);
			if (!d)
				return kerr(d.error());
			opened = std::move(*d);
			dir = opened.get();
		}
		auto fd = openat2(dir, s.name, flags | O_EXCL, mode, RESOLVE_BENEATH);
		if (fd) {
			if (type)
				*type = S_IFREG;
			return host::Fd(*fd);
		}
		if (fd.error() != EEXIST)
			return kerr(fd.error());
		if (first)
			continue;	// look at what is there
		if (flags & O_EXCL)
			return kerr(EEXIST);
		// There is a name after all: a symlink to nothing, whose
		// target O_CREAT makes, as on Linux; or one made since.
		auto target = host::readlinkat(dir, s.name.c_str());
		if (!target || target->empty() || (flags & O_NOFOLLOW))
			continue;	// made since: look again
		links++;
		std::string t = std::move(*target);
		if (t[0] == '/') {
			at = Loc();
			at.dirfd = root_.get();
			at.path = std::move(t);
			at.resolve = RESOLVE_IN_ROOT;
		} else {
			at.path = s.dir.empty() ? t : path::join(s.dir, t);
		}
	}
	return kerr(ELOOP);
}

KResult<host::Fd> Vfs::lookup(const Loc& loc, int flags, mode_t mode, bool *same_mount) const
{
	bool same;
	auto fd = openat2_mount(loc.dirfd, loc.path, flags, mode, loc.resolve, same);
	if (!fd && fd.error() == EXDEV && loc.resolve == RESOLVE_BENEATH) {
		// The path leaves its starting directory (an absolute symlink,
		// one with ".."): resolve it from the root instead.
		auto dir = guest_path(loc.dirfd);
		if (!dir)
			return kerr(dir.error());
		fd = openat2_mount(root_.get(), path::join(*dir, loc.path), flags, mode,
				   RESOLVE_IN_ROOT, same);
	}
	if (!fd)
		return kerr(fd.error());
	if (same_mount)
		*same_mount = same;
	return host::Fd(*fd);
}

KResult<host::Fd> Vfs::host_path_fd(Task& t, int dirfd, const std::string& p,
				      bool follow) const
{
	auto tg = resolve(t, dirfd, p, follow);
	if (!tg)
		return kerr(tg.error());
	if (tg->host)
		return host_open(*tg->host, O_PATH | (follow ? 0 : O_NOFOLLOW), 0);
	if (tg->file && tg->file->host_fd() >= 0) {
		// A file handed to the guest port is not changed by name.
		if (auto *hf = dynamic_cast<HostFile *>(tg->file.get()); hf && hf->handed())
			return kerr(EPERM);
		auto fd = host::fcntl(tg->file->host_fd(), F_DUPFD_CLOEXEC, 0);
		if (!fd)
			return kerr(fd.error());
		return host::Fd(*fd);
	}
	return kerr(EPERM);	// the guest port's own files do not change
}

// A file handed to the guest port, opened by name (/dev/stdin,
// /proc/self/fd/N): the same open file, as /dev/fd/N is on the BSDs,
// for no more access than it was handed with; never a new file in it
// (O_TMPFILE).  O_TRUNC truncates a regular file handed for writing, as
// ftruncate(2) on it would.
KResult<std::shared_ptr<File>> Vfs::open_handed(const std::shared_ptr<File>& f, int flags)
{
	if (flags & O_PATH)
		return f;
	if ((flags & __O_TMPFILE) == __O_TMPFILE)
		return kerr(EACCES);
	int acc = flags & O_ACCMODE;
	bool read = acc == O_RDONLY || acc == O_RDWR;
	bool write = acc == O_WRONLY || acc == O_RDWR || (flags & O_TRUNC);
	if ((read && !f->readable()) || (write && !f->writable()))
		return kerr(EACCES);
	auto st = f->stat();
	if (!st)
		return kerr(st.error());
	if ((flags & O_DIRECTORY) && !S_ISDIR(st->st_mode))
		return kerr(ENOTDIR);
	if ((flags & O_TRUNC) && S_ISREG(st->st_mode)) {
		auto r = f->truncate(0);
		if (!r)
			return kerr(r.error());
	}
	return f;
}

KResult<std::shared_ptr<File>> Vfs::open(Task& t, int dirfd, const std::string& p, int flags,
					 mode_t mode) const
{
	auto tg = resolve(t, dirfd, p, !(flags & O_NOFOLLOW));
	if (!tg)
		return kerr(tg.error());
	int fflags = flags & ~O_CLOEXEC;
	bool write = !(flags & O_PATH) &&
		     ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC));
	if (tg->host) {
		const auto& exe = t.process().exe_id;
		mode_t type = 0;
		auto fd = host_open(*tg->host, flags,
				    allowed_mode(mode & ~t.fs().umask.load(), false), &type,
				    write && exe ? &*exe : nullptr);
		if (!fd)
			return kerr(fd.error());
		return std::make_shared<HostFile>(std::move(*fd), fflags, this, type);
	}

	if ((flags & O_CREAT) && (flags & O_EXCL))
		return kerr(EEXIST);
	if (tg->file) {
		// A magic link: the file itself, opened again.
		auto *hf = dynamic_cast<HostFile *>(tg->file.get());
		if (hf && hf->handed())
			return open_handed(tg->file, flags);
		if (hf) {
			auto f = hf->reopen(fflags);
			if (!f)
				return kerr(errno);
			return f;
		}
		return tg->file;
	}

	const SynthNode& n = *tg->node;
	if ((flags & O_DIRECTORY) && n.kind != SynthNode::Kind::dir)
		return kerr(ENOTDIR);
	switch (n.kind) {
	case SynthNode::Kind::dir:
		if (write)
			return kerr(EISDIR);
		return open_synth(n, fflags, std::string());
	case SynthNode::Kind::symlink:
		if (!(flags & O_PATH))
			return kerr(ELOOP);
		return open_synth(n, fflags, std::string());
	case SynthNode::Kind::device: {
		if (n.magic)
			return open_handed(n.magic, flags);
		auto f = n.open_device(fflags);
		if (!f)
			return kerr(ENXIO);
		return f;
	}
	case SynthNode::Kind::file:
		break;
	}
	if (write && !(n.perm & 0200))
		return kerr(EACCES);
	if (flags & O_PATH)
		return open_synth(n, fflags, std::string());
	auto content = n.content();
	if (!content)
		return kerr(content.error());
	return open_synth(n, fflags, std::move(*content));
}

KResult<struct stat> Vfs::stat(Task& t, int dirfd, const std::string& p, bool follow) const
{
	auto tg = resolve(t, dirfd, p, follow);
	if (!tg)
		return kerr(tg.error());
	if (tg->node)
		return tg->node->stat();
	if (tg->file)
		return tg->file->stat();
	struct stat st;
	auto fd = find(*tg->host, O_PATH | (follow ? 0 : O_NOFOLLOW), 0, &st);
	if (!fd)
		return kerr(fd.error());
	return st;
}

KResult<struct statx> Vfs::statx(Task& t, int dirfd, const std::string& p, int flags,
				 unsigned mask) const
{
	bool follow = !(flags & AT_SYMLINK_NOFOLLOW);
	auto tg = resolve(t, dirfd, p, follow);
	if (!tg)
		return kerr(tg.error());
	if (tg->node)
		return stat_to_statx(tg->node->stat());
	if (tg->file)
		return tg->file->statx(mask, flags);
	auto fd = host_open(*tg->host, O_PATH | (follow ? 0 : O_NOFOLLOW), 0);
	if (!fd)
		return kerr(fd.error());
	return host::fstatx(fd->get(), flags & AT_STATX_SYNC_TYPE, mask);
}

KResult<std::string> Vfs::readlink(Task& t, int dirfd, const std::string& p) const
{
	auto tg = resolve(t, dirfd, p, false);
	if (!tg)
		return kerr(tg.error());
	if (tg->node) {
		if (tg->node->kind != SynthNode::Kind::symlink)
			return kerr(EINVAL);
		return tg->node->target;
	}
	if (!tg->host)
		return kerr(EINVAL);
	// Mostly asked of directories (realpath(3)): the stat answers those.
	struct stat st;
	auto fd = find(*tg->host, O_PATH | O_NOFOLLOW, 0, &st);
	if (!fd)
		return kerr(fd.error());
	if (!S_ISLNK(st.st_mode))
		return kerr(EINVAL);
	return host::readlinkat(fd->get(), "");
}

KResult<void> Vfs::access(Task& t, int dirfd, const std::string& p, int mode, int flags) const
{
	if (mode & ~(R_OK | W_OK | X_OK))
		return kerr(EINVAL);
	auto tg = resolve(t, dirfd, p, !(flags & AT_SYMLINK_NOFOLLOW));
	if (!tg)
		return kerr(tg.error());
	int fd = -1;
	host::Fd opened;
	if (tg->host) {
		auto r = host_open(*tg->host, O_PATH | (flags & AT_SYMLINK_NOFOLLOW ? O_NOFOLLOW : 0), 0);
		if (!r)
			return kerr(r.error());
		opened = std::move(*r);
		fd = opened.get();
	} else if (tg->file) {
		fd = tg->file->host_fd();
	}
	if (fd < 0) {
		mode_t perm = tg->node ? tg->node->perm : 0666;
		if (((mode & W_OK) && !(perm & 0222)) || ((mode & X_OK) && !(perm & 0111)))
			return kerr(EACCES);
		return {};
	}
	return host::faccessat2(fd, "", mode, AT_EMPTY_PATH | (flags & AT_EACCESS));
}

KResult<Vfs::Entry> Vfs::entry(Task& t, int dirfd, const std::string& p) const
{
	if (p.empty())
		return kerr(ENOENT);
	path::Split s = path::split(p);
	Entry e;
	e.dot = s.dot();

	// Where the guest port's own file systems may be reached lexically,
	// the whole path decides.
	std::string abs;
	std::shared_ptr<File> start;
	if (p[0] == '/') {
		abs = p;
	} else {
		start = dirfd == AT_FDCWD ? t.fs().cwd() : t.files().get(dirfd);
		if (!start)
			return kerr(EBADF);
		if (!start->is_directory())
			return kerr(ENOTDIR);
		if (start->host_fd() < 0) {
			abs = path::join(start->path(), p);
		} else if (path::has_dotdot(p) || names_mount(p)) {
			auto dir = guest_path(start->host_fd());
			if (dir)
				abs = path::join(*dir, p);
			else if (path::has_dotdot(p))
				return kerr(dir.error());
		}
	}
	if (!abs.empty()) {
		std::string norm = path::normalize(abs);
		if (path::synthetic(norm)) {
			e.synth = true;
			e.exists = synth_lookup(t, norm).has_value();
			return e;
		}
	}
	if (e.dot)
		return e;

	e.name = s.name + (s.trailing_slash ? "/" : "");
	if (s.dir.empty() && start && start->host_fd() >= 0) {
		// A name in the starting directory, looked at when it was opened.
		e.dir = start->host_fd();
		e.keep = std::move(start);
		return e;
	}
	auto tg = resolve(t, dirfd, s.dir.empty() ? "." : s.dir, true);
	if (!tg)
		return kerr(tg.error());
	if (tg->host) {
		auto fd = host_open(*tg->host, O_PATH | O_DIRECTORY, 0);
		if (!fd)
			return kerr(fd.error());
		e.opened = std::move(*fd);
		e.dir = e.opened.get();
	} else if (tg->file && tg->file->host_fd() >= 0) {
		if (!tg->file->is_directory())
			return kerr(ENOTDIR);
		e.dir = tg->file->host_fd();
		e.keep = tg->file;
	} else {
		// The parent is one of the guest port's directories.
		e.synth = true;
		e.name.clear();
		std::string norm = tg->node ? tg->node->path : tg->file->path();
		e.exists = synth_lookup(t, path::join(norm, s.name)).has_value();
		return e;
	}
	return e;
}

KResult<void> Vfs::mkdir(Task& t, int dirfd, const std::string& p, mode_t mode) const
{
	auto e = entry(t, dirfd, p);
	if (!e)
		return kerr(e.error());
	if (e->dot || (e->synth && e->exists))
		return kerr(EEXIST);
	if (e->synth)
		return kerr(EPERM);
	return host::mkdirat(e->dir, e->name.c_str(), mode & 07777 & ~t.fs().umask.load());
}

KResult<void> Vfs::mknod(Task& t, int dirfd, const std::string& p, mode_t mode, dev_t) const
{
	mode_t type = mode & S_IFMT;
	if (type == 0)
		type = S_IFREG;
	// No device nodes: through one the guest would reach the host's
	// devices.  Files, FIFOs and sockets are only names.
	if (type == S_IFCHR || type == S_IFBLK)
		return kerr(EPERM);
	if (type != S_IFREG && type != S_IFIFO && type != S_IFSOCK)
		return kerr(EINVAL);
	auto e = entry(t, dirfd, p);
	if (!e)
		return kerr(e.error());
	if (e->dot || (e->synth && e->exists))
		return kerr(EEXIST);
	if (e->synth)
		return kerr(EPERM);
	return host::mknodat(e->dir, e->name.c_str(),
			     type | allowed_mode(mode & ~t.fs().umask.load(), false));
}

KResult<void> Vfs::unlink(Task& t, int dirfd, const std::string& p, int flags) const
{
	if (flags & ~AT_REMOVEDIR)
		return kerr(EINVAL);
	auto e = entry(t, dirfd, p);
	if (!e)
		return kerr(e.error());
	if (e->dot) {
		if (!(flags & AT_REMOVEDIR))
			return kerr(EISDIR);
		return kerr(path::split(p).name == "." ? EINVAL : ENOTEMPTY);
	}
	if (e->synth)
		return kerr(e->exists ? EPERM : ENOENT);
	return host::unlinkat(e->dir, e->name.c_str(), flags);
}

KResult<void> Vfs::rename(Task& t, int olddirfd, const std::string& oldpath, int newdirfd,
			  const std::string& newpath, unsigned flags) const
{
	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT))
		return kerr(EINVAL);
	if (flags & RENAME_WHITEOUT)	// makes a device node
		return kerr(EPERM);
	auto from = entry(t, olddirfd, oldpath);
	if (!from)
		return kerr(from.error());
	auto to = entry(t, newdirfd, newpath);
	if (!to)
		return kerr(to.error());
	if (from->synth || to->synth)
		return kerr(from->synth && to->synth ? EPERM : EXDEV);
	if (from->dot || to->dot)
		return kerr(EBUSY);
	return host::renameat2(from->dir, from->name.c_str(), to->dir, to->name.c_str(), flags);
}

KResult<void> Vfs::symlink(Task& t, const std::string& target, int dirfd,
			   const std::string& p) const
{
	if (target.empty())
		return kerr(ENOENT);
	auto e = entry(t, dirfd, p);
	if (!e)
		return kerr(e.error());
	if (e->dot || (e->synth && e->exists))
		return kerr(EEXIST);
	if (e->synth)
		return kerr(EPERM);
	// The target is only a string; following it stays in the root.
	return host::symlinkat(target.c_str(), e->dir, e->name.c_str());
}

KResult<void> Vfs::link(Task& t, int olddirfd, const std::string& oldpath, int newdirfd,
			const std::string& newpath, int flags) const
{
	if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
		return kerr(EINVAL);
	// AT_EMPTY_PATH takes CAP_DAC_READ_SEARCH; the guest has none.
	if (oldpath.empty())
		return kerr(ENOENT);
	auto to = entry(t, newdirfd, newpath);
	if (!to)
		return kerr(to.error());
	if (to->dot || (to->synth && to->exists))
		return kerr(EEXIST);
	if (to->synth)
		return kerr(EPERM);

	if (flags & AT_SYMLINK_FOLLOW) {
		auto fd = host_path_fd(t, olddirfd, oldpath, true);
		if (!fd)
			return kerr(fd.error() == EPERM ? EXDEV : fd.error());
		return host::linkat(AT_FDCWD, proc_fd(fd->get()).c_str(), to->dir, to->name.c_str(),
				    AT_SYMLINK_FOLLOW);
	}
	auto from = entry(t, olddirfd, oldpath);
	if (!from)
		return kerr(from.error());
	if (from->synth)
		return kerr(from->exists ? EXDEV : ENOENT);
	if (from->dot)
		return kerr(EPERM);	// a directory
	return host::linkat(from->dir, from->name.c_str(), to->dir, to->name.c_str(), 0);
}

KResult<void> Vfs::chmod(Task& t, int dirfd, const std::string& p, mode_t mode) const
{
	auto fd = host_path_fd(t, dirfd, p, true);
	if (!fd)
		return kerr(fd.error());
	auto st = host::fstat(fd->get());
	if (!st)
		return kerr(st.error());
	return host::chmod(proc_fd(fd->get()).c_str(), allowed_mode(mode, S_ISDIR(st->st_mode)));
}

KResult<void> Vfs::chown(Task& t, int dirfd, const std::string& p, uid_t uid, gid_t gid,
			 int flags) const
{
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return kerr(EINVAL);
	auto fd = host_path_fd(t, dirfd, p, !(flags & AT_SYMLINK_NOFOLLOW));
	if (!fd)
		return kerr(fd.error());
	return host::fchownat(fd->get(), "", uid, gid, AT_EMPTY_PATH);
}

KResult<void> Vfs::utimens(Task& t, int dirfd, const std::string& p,
			   const struct timespec *times, int flags) const
{
	if (flags & ~AT_SYMLINK_NOFOLLOW)
		return kerr(EINVAL);
	if (flags & AT_SYMLINK_NOFOLLOW) {
		// On the name itself, which is not followed.
		auto e = entry(t, dirfd, p);
		if (!e)
			return kerr(e.error());
		if (e->synth)
			return kerr(e->exists ? EPERM : ENOENT);
		int dir = e->dir;
		host::Fd self;
		if (!e->dot) {
			// The name may be a device node or a mount point.
			if (auto fd = host::openat(dir, e->name.c_str(),
						   O_PATH | O_NOFOLLOW | O_CLOEXEC)) {
				self = host::Fd(*fd);
				auto r = reachable(*fd, false, false);
				if (!r)
					return kerr(r.error());
			}
		} else {
			auto fd = host_path_fd(t, dirfd, p, false);
			if (!fd)
				return kerr(fd.error());
			self = std::move(*fd);
		}
		return e->dot ? host::utimensat(AT_FDCWD, proc_fd(self.get()).c_str(), times, 0)
			      : host::utimensat(dir, e->name.c_str(), times, AT_SYMLINK_NOFOLLOW);
	}
	auto fd = host_path_fd(t, dirfd, p, true);
	if (!fd)
		return kerr(fd.error());
	return host::utimensat(AT_FDCWD, proc_fd(fd->get()).c_str(), times, 0);
}

KResult<void> Vfs::truncate(Task& t, const std::string& p, off_t len) const
{
	if (len < 0)
		return kerr(EINVAL);
	auto tg = resolve(t, AT_FDCWD, p, true);
	if (!tg)
		return kerr(tg.error());
	if (!tg->host)
		return kerr(tg->node && tg->node->kind == SynthNode::Kind::dir ? EISDIR : EACCES);
	const auto& exe = t.process().exe_id;
	auto fd = host_open(*tg->host, O_WRONLY | O_NONBLOCK, 0, nullptr, exe ? &*exe : nullptr);
	if (!fd)
		return kerr(fd.error());
	return host::ftruncate(fd->get(), static_cast<std::uint64_t>(len));
}

KResult<struct statfs> Vfs::statfs(Task& t, const std::string& p) const
{
	auto tg = resolve(t, AT_FDCWD, p, true);
	if (!tg)
		return kerr(tg.error());
	if (tg->file)
		return tg->file->statfs();
	if (tg->node)
		return synth_statfs(tg->node->path);
	auto fd = host_open(*tg->host, O_PATH, 0);
	if (!fd)
		return kerr(fd.error());
	return host::fstatfs(fd->get());
}

KResult<void> Vfs::chdir(Task& t, const std::string& p) const
{
	auto f = open(t, AT_FDCWD, p, O_PATH | O_DIRECTORY, 0);
	if (!f)
		return kerr(f.error());
	int fd = (*f)->host_fd();
	if (fd >= 0)
		if (auto r = host::faccessat2(fd, "", X_OK, AT_EMPTY_PATH); !r)
			return r;
	(void)t.fs().set_cwd(std::move(*f));
	return {};
}

KResult<std::string> Vfs::getcwd(Task& t) const
{
	auto cwd = t.fs().cwd();
	if (cwd->host_fd() < 0)
		return cwd->path();
	return guest_path(cwd->host_fd());
}

struct statx stat_to_statx(const struct stat& st)
{
	struct statx x{};
	x.stx_mask = STATX_BASIC_STATS;
	x.stx_blksize = static_cast<std::uint32_t>(st.st_blksize);
	x.stx_nlink = static_cast<std::uint32_t>(st.st_nlink);
	x.stx_uid = st.st_uid;
	x.stx_gid = st.st_gid;
	x.stx_mode = static_cast<std::uint16_t>(st.st_mode);
	x.stx_ino = st.st_ino;
	x.stx_size = static_cast<std::uint64_t>(st.st_size);
	x.stx_blocks = static_cast<std::uint64_t>(st.st_blocks);
	x.stx_atime = {st.st_atim.tv_sec, static_cast<std::uint32_t>(st.st_atim.tv_nsec), 0};
	x.stx_mtime = {st.st_mtim.tv_sec, static_cast<std::uint32_t>(st.st_mtim.tv_nsec), 0};
	x.stx_ctime = {st.st_ctim.tv_sec, static_cast<std::uint32_t>(st.st_ctim.tv_nsec), 0};
	x.stx_rdev_major = major(st.st_rdev);
	x.stx_rdev_minor = minor(st.st_rdev);
	x.stx_dev_major = major(st.st_dev);
	x.stx_dev_minor = minor(st.st_dev);
	return x;
}

} // namespace guest
