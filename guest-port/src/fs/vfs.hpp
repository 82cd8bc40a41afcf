// SPDX-License-Identifier: GPL-2.0
//
// Vfs: the guest's file system, and its confinement.
//
// The guest's / is a host directory, the root.  Every host lookup is
// done by the host kernel with openat2(2), so that it is atomic and race
// free:
//
//   - an absolute path, from the root with RESOLVE_IN_ROOT: "..", absolute
//     symlinks and symlinks full of ".." all stay inside the root, as in
//     a chroot;
//   - a relative path, from its starting directory (the current
//     directory or a dirfd) with RESOLVE_BENEATH, which fails (EXDEV)
//     rather than leave that directory; then again from the root, with
//     the starting directory's path in front, RESOLVE_IN_ROOT.
//
// Magic links (/proc/PID/fd/N and the like, were the root to hold a
// procfs) are refused everywhere (RESOLVE_NO_MAGICLINKS).
//
// Operations on a name rather than an open file (mkdir, unlink, rename,
// stat...) open the parent directory that way, and act on the last
// component relative to it, which is never "." or ".." there.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include <unpriv/fd.hpp>

#include "common.hpp"
#include "fs/file.hpp"

namespace guest {

class Task;

class Vfs {
public:
	// The guest's root is the host directory root.  Errors: those of
	// opening it; ENOTDIR.
	static KResult<std::unique_ptr<Vfs>> create(const std::string& root);

	// The root as a directory file: a process's first current directory.
	KResult<std::shared_ptr<File>> root_dir() const;

	// openat(2) for task: dirfd is a descriptor or AT_FDCWD.
	KResult<std::shared_ptr<File>> open(Task& t, int dirfd, const std::string& path,
					    int flags, mode_t mode) const;

	// The guest path of host descriptor fd, when it lies under the root
	// (ENOENT when not, or when it was deleted).
	KResult<std::string> guest_path(int fd) const;
	// How the guest sees host descriptor fd: its guest path, or for
	// what lies outside the root (the descriptors the guest port was
	// started with), what the host's /proc says.
	[[nodiscard]] std::string describe(int fd) const;

	[[nodiscard]] int root_fd() const noexcept { return root_.get(); }

private:
	Vfs(unpriv::Fd root, std::string host_root)
		: root_(std::move(root)), host_root_(std::move(host_root))
	{
	}

	// Open path on the host, relative to the task's dirfd.
	KResult<unpriv::Fd> host_open(Task& t, int dirfd, const std::string& path,
				      int flags, mode_t mode,
				      std::uint64_t resolve = 0) const;

	unpriv::Fd root_;
	std::string host_root_;	// as the host's /proc/self/fd shows it
};

} // namespace guest
