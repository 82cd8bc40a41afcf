// SPDX-License-Identifier: GPL-2.0
//
// FdTable: a thread's file descriptors, each an open file description
// and its close-on-exec flag: Linux's files_struct.  Shared by the
// threads of a process, and by processes made with CLONE_FILES (the
// tasks hold it by a shared_ptr, task.hpp); fork() copies it.  lock_,
// a leaf (Linux's file_lock), guards it; a file a call drops is
// released after it.
//
// The limit, RLIMIT_NOFILE's soft one, is the table's: setrlimit()
// sets the caller's table's, so that processes sharing a table share
// it too, where Linux checks each caller's own.
#pragma once

#include <memory>
#include <atomic>
#include <mutex>
#include <vector>

#include "common.hpp"
#include "fs/file.hpp"

namespace guest {

class FdTable {
public:
	// RLIMIT_NOFILE's soft limit, as the guest sees it.
	static constexpr unsigned default_limit = 1024;

	FdTable() = default;
	FdTable(const FdTable& o);
	FdTable& operator=(FdTable&& o) noexcept;

	// The lowest free descriptor >= min: EMFILE past the limit.
	KResult<int> install(std::shared_ptr<File> file, bool cloexec, int min = 0);
	// fd itself (dup2), closing what was there.  EBADF past the limit.
	KResult<int> install_at(int fd, std::shared_ptr<File> file, bool cloexec);

	// The file, or null (EBADF).
	[[nodiscard]] std::shared_ptr<File> get(int fd) const;
	KResult<void> close(int fd);
	// close_range(2): fd first to last (inclusive), those open; or,
	// with cloexec, their close-on-exec flags set instead.
	void close_range(unsigned first, unsigned last, bool cloexec);
	// execve(): the close-on-exec descriptors close.
	void close_on_exec();

	[[nodiscard]] bool cloexec(int fd) const;
	void set_cloexec(int fd, bool on);

	[[nodiscard]] unsigned limit() const noexcept { return limit_; }
	void set_limit(unsigned limit) noexcept { limit_ = limit; }

	// The open descriptors, in order (for /proc/self/fd).
	[[nodiscard]] std::vector<int> fds() const;

private:
	struct Slot {
		std::shared_ptr<File> file;
		bool cloexec = false;
	};
	[[nodiscard]] std::shared_ptr<File> get_locked(int fd) const;

	mutable std::mutex lock_;
	std::vector<Slot> slots_;		// lock_
	std::atomic<unsigned> limit_ = default_limit;	// setrlimit() of any sharer
};

} // namespace guest
