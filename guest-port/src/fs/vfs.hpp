// SPDX-License-Identifier: GPL-2.0
//
// Vfs: the guest's file system, and its confinement.
//
// The guest's / is a host directory, the root, with the guest port's own
// /dev and /proc (synth.hpp) over it.  Every host lookup is done by the
// host kernel with openat2(2), atomic and race free:
//
//   - an absolute path, from the root with RESOLVE_IN_ROOT: "..",
//     absolute symlinks and symlinks full of ".." all stay inside the
//     root, as in a chroot;
//   - a relative path without "..", from its starting directory (the
//     current directory or a dirfd) with RESOLVE_BENEATH, which fails
//     (EXDEV) rather than leave that directory; then as an absolute
//     path, the starting directory's guest path in front;
//   - a relative path with "..", as that absolute path at once.
//
// Magic links (/proc/PID/fd/N and the like, were the root to hold a
// procfs) are refused everywhere (RESOLVE_NO_MAGICLINKS).  What a
// lookup finds is looked at before it is opened (with O_PATH, then
// opened from that descriptor): a host device node, or anything on a
// file system that shows the host (procfs, sysfs, devpts, cgroup...
// mounted in the root), is not there for the guest (ENOENT), however
// it was named; bind mounts of ordinary file systems are the root's.
// A lookup that stayed on its starting directory's mount
// (RESOLVE_NO_XDEV, tried first) needs no fstatfs: the root and every
// directory a lookup starts at were looked at.
// Only directories opened through the root may start a lookup: a
// directory the guest port was handed on a standard descriptor may not.
//
// Which file system a path is in is decided on its lexically normalized
// absolute form (a relative one's too, when it may lead there: it has
// "..", or starts with dev or proc): under /dev or /proc, the guest
// port's; anywhere else, the root.  A symlink in the root is followed by the host, in the root:
// one that points into /dev or /proc reaches the root's own directories
// of those names, not the guest port's (and no device node there).
//
// Calls on a name rather than an open file open the parent directory
// that way and act on the last component relative to it (mkdirat,
// unlinkat, renameat2...), which is never "." or ".." there; calls that
// follow a final symlink (chmod, utimensat, truncate) open the file
// itself with O_PATH first and act on that descriptor.
#pragma once

#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <string>


#include "common.hpp"
#include "fs/file.hpp"
#include "fs/synth.hpp"
#include "host/fd.hpp"

namespace guest {

class Task;

// A struct stat as statx(2) would have filled it.
struct statx stat_to_statx(const struct stat& st);

// The mode bits a file of the guest's may have: no set-user-ID bit, and
// the set-group-ID bit on a directory only (where it only says which
// group new files get).  The root is a host directory: a set-ID file
// the guest made there would be one on the host.
constexpr mode_t allowed_mode(mode_t mode, bool dir) noexcept
{
	return mode & 07777 & ~(S_ISUID | (dir ? 0 : S_ISGID));
}

// An extended attribute call (xattr.cpp): getxattr, listxattr,
// setxattr or removexattr, and its arguments.
struct XattrOp {
	enum class Kind { get, list, set, remove };
	Kind kind;
	std::string name;		// get, set, remove
	std::span<std::byte> out;	// get, list: empty asks for the size
	std::span<const std::byte> in;	// set: the value
	int flags = 0;			// set: XATTR_CREATE, XATTR_REPLACE
};

// The f*xattr calls on an open file: the host file's attributes, as the
// host answers; the guest port's own files answer as Linux's procfs
// (ENOTSUP) and devtmpfs would.  Returns get's and list's size.
KResult<std::size_t> file_xattr(File& f, const XattrOp& op);

class Vfs {
public:
	// The guest's root is the host directory root.  Errors: those of
	// opening it; ENOTDIR; EACCES when it is on a file system that
	// shows the host (procfs, sysfs...).
	static KResult<std::unique_ptr<Vfs>> create(const std::string& root);

	// The root as a directory file: a process's first current directory.
	KResult<std::shared_ptr<File>> root_dir() const;

	// The guest's calls on names, with their flags and errors.  dirfd is
	// a descriptor or AT_FDCWD.
	KResult<std::shared_ptr<File>> open(Task& t, int dirfd, const std::string& path,
					    int flags, mode_t mode) const;
	KResult<struct stat> stat(Task& t, int dirfd, const std::string& path, bool follow) const;
	KResult<struct statx> statx(Task& t, int dirfd, const std::string& path, int flags,
				    unsigned mask) const;
	KResult<std::string> readlink(Task& t, int dirfd, const std::string& path) const;
	KResult<void> access(Task& t, int dirfd, const std::string& path, int mode, int flags) const;
	KResult<void> mkdir(Task& t, int dirfd, const std::string& path, mode_t mode) const;
	KResult<void> mknod(Task& t, int dirfd, const std::string& path, mode_t mode, dev_t dev) const;
	KResult<void> unlink(Task& t, int dirfd, const std::string& path, int flags) const;
	KResult<void> rename(Task& t, int olddirfd, const std::string& oldpath, int newdirfd,
			     const std::string& newpath, unsigned flags) const;
	KResult<void> symlink(Task& t, const std::string& target, int dirfd,
			      const std::string& path) const;
	KResult<void> link(Task& t, int olddirfd, const std::string& oldpath, int newdirfd,
			   const std::string& newpath, int flags) const;
	KResult<void> chmod(Task& t, int dirfd, const std::string& path, mode_t mode) const;
	KResult<void> chown(Task& t, int dirfd, const std::string& path, uid_t uid, gid_t gid,
			    int flags) const;
	KResult<void> utimens(Task& t, int dirfd, const std::string& path,
			      const struct timespec *times, int flags) const;
	KResult<void> truncate(Task& t, const std::string& path, off_t len) const;
	KResult<struct statfs> statfs(Task& t, const std::string& path) const;
	KResult<void> chdir(Task& t, const std::string& path) const;
	KResult<std::string> getcwd(Task& t) const;
	// The xattr calls by name (follow: not the l* ones), as file_xattr().
	KResult<std::size_t> xattr(Task& t, const std::string& path, bool follow,
				   const XattrOp& op) const;

	// The guest path of host descriptor fd, when it lies under the root
	// (ENOENT when not, or when it was deleted).
	KResult<std::string> guest_path(int fd) const;
	// How the guest sees host descriptor fd, never with a host path in
	// it: its guest path, with " (deleted)" after it as Linux shows a
	// deleted or O_TMPFILE file; what the host's /proc says of a file
	// that has no path (pipe:[N], socket:[N]); for a path outside the
	// root (what the guest port was handed), outside.
	[[nodiscard]] std::string describe(int fd, const std::string& outside) const;

	[[nodiscard]] int root_fd() const noexcept { return root_.get(); }

	// Where a path leads, before anything is opened: a host lookup
	// (openat2 of path relative to dirfd, with resolve), or a
	// normalized path in the guest port's own file systems.
	struct Loc {
		bool synth = false;
		std::string norm;
		int dirfd = -1;
		std::string path;
		std::uint64_t resolve = 0;
		std::shared_ptr<File> start;	// keeps dirfd open
	};
	// Where it ends, all symlinks of the guest port's own followed: a
	// host location, a synthetic node, or an open file (a magic link).
	struct Target {
		std::optional<Loc> host;
		std::optional<SynthNode> node;
		std::shared_ptr<File> file;
	};

private:
	Vfs(host::Fd root, std::string host_root)
		: root_(std::move(root)), host_root_(std::move(host_root))
	{
	}

	KResult<Loc> locate(Task& t, std::shared_ptr<File> start, int dirfd,
			    const std::string& path) const;
	KResult<Target> resolve(Task& t, int dirfd, const std::string& path, bool follow) const;
	// A file's identity: device and inode numbers.
	using FileId = std::pair<dev_t, ino_t>;
	// The host file at loc, opened with flags: ENOENT when it is one
	// the guest may not reach (a device node, a file on a file system
	// that shows the host), found before anything is opened; ETXTBSY
	// when it is the regular file running (when given).  type, when
	// given, gets its type (S_IFMT bits).
	KResult<host::Fd> host_open(const Loc& loc, int flags, mode_t mode,
				      mode_t *type = nullptr,
				      const FileId *running = nullptr) const;
	// host_open() of an O_PATH lookup, or one that opens nothing:
	// st, when given, gets the stat of what it found.
	KResult<host::Fd> find(const Loc& loc, int flags, mode_t mode, struct stat *st) const;
	// The openat2 of loc, and nothing more; same_mount, when given, says
	// whether it stayed on the mount of its starting directory.
	KResult<host::Fd> lookup(const Loc& loc, int flags, mode_t mode,
				   bool *same_mount = nullptr) const;
	static KResult<std::shared_ptr<File>> open_handed(const std::shared_ptr<File>& f,
							  int flags);
	// The host file a target names, opened O_PATH (a synthetic one: EPERM).
	KResult<host::Fd> host_path_fd(Task& t, int dirfd, const std::string& path,
					 bool follow) const;

	// The directory entry a name-changing call acts on.
	struct Entry {
		bool synth = false;	// in the guest port's file systems
		bool dot = false;	// the last component is "." or ".."
		bool exists = false;	// synth: something is there
		int dir = -1;		// host: the parent, O_PATH
		std::string name;	// host: the last component
		host::Fd opened;	// dir, when opened for the call
		std::shared_ptr<File> keep;	// dir, when it is a file's
	};
	KResult<Entry> entry(Task& t, int dirfd, const std::string& path) const;

	// The guest path of host path p, when it lies under the root.
	[[nodiscard]] std::optional<std::string> under_root(const std::string& p) const;

	host::Fd root_;
	std::string host_root_;	// as the host's /proc/self/fd shows it
};

} // namespace guest
