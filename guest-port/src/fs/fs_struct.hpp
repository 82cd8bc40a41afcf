// SPDX-License-Identifier: GPL-2.0
//
// FsStruct: what CLONE_FS shares (task.hpp).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <utility>

namespace guest {

class File;

// The current directory and the umask, Linux's fs_struct: a process's
// threads share it, and so do processes made with CLONE_FS, until one
// calls unshare(CLONE_FS).  The guest's root is the guest port's one
// (Vfs), the same for all: chroot(2) is not there.  lock_ (Linux's
// fs->lock, a leaf) guards the directory; the umask is an atomic,
// umask(2) an exchange as Linux's xchg().
class FsStruct {
public:
	FsStruct() = default;
	FsStruct(const FsStruct& o) : umask(o.umask.load()), cwd_(o.cwd()) {}
	FsStruct& operator=(const FsStruct&) = delete;

	[[nodiscard]] std::shared_ptr<File> cwd() const
	{
		std::lock_guard lock(lock_);
		return cwd_;
	}
	// The old directory, for the caller to drop outside the lock.
	std::shared_ptr<File> set_cwd(std::shared_ptr<File> dir)
	{
		std::lock_guard lock(lock_);
		std::swap(dir, cwd_);
		return dir;
	}

	std::atomic<mode_t> umask = 022;

private:
	mutable std::mutex lock_;
	std::shared_ptr<File> cwd_;	// [fs] a directory file, a host one or one of the guest port's own
};

} // namespace guest
