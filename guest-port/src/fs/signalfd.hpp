// SPDX-License-Identifier: GPL-2.0
//
// signalfd(2): a file whose reads take the reading thread's pending
// signals of a mask, as struct signalfd_siginfo, and which is readable
// while one is pending.  Like Linux's, it has no signals of its own:
// whoever reads or polls it (Linux's current) sees their own, the
// thread's and then its process's, so after fork() the child's are the
// child's.  No host object can say that, so it is the guest port's own
// file: a wait on it watches the process's signals (Kernel::
// signalfd_take(), signalfd_poll()), woken by each signal queued.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "fs/file.hpp"
#include "sigqueue.hpp"

namespace guest {

class SignalFile final : public File {
public:
	SignalFile(std::uint64_t mask, int flags) : File(O_RDWR | (flags & O_NONBLOCK)), mask_(mask) {}

	[[nodiscard]] std::string path() const override { return "anon_inode:[signalfd]"; }
	KResult<struct stat> stat() override;
	[[nodiscard]] bool pollable() const noexcept override { return true; }
	// Plain read(2) and poll(2), with no thread: nothing to give.
	KResult<std::size_t> read(std::span<std::byte> buf) override;
	short poll(short events) override;
	// Linux's noop_llseek(): the offset stays 0.
	KResult<std::int64_t> lseek(std::int64_t, int) override { return 0; }

	std::optional<KResult<std::size_t>> read_guest(Task& task, std::uint64_t addr,
							std::uint64_t count) override;
	short poll_for(Task& task, short events, int *wake_fd) override;
	void unwatch(Task& task) override;
	std::uint64_t changes(Task& task) override;

	// signalfd4(2) on this file: the new mask (SIGKILL and SIGSTOP
	// never in it).
	void set_mask(std::uint64_t mask) noexcept { mask_ = mask; }
	[[nodiscard]] std::uint64_t mask() const noexcept { return mask_; }

private:
	std::atomic<std::uint64_t> mask_;
};

// signalfd4(2)'s new file: flags SFD_NONBLOCK and SFD_CLOEXEC (the
// descriptor's, the caller's to set); EINVAL for others.
KResult<std::shared_ptr<SignalFile>> make_signalfd(std::uint64_t mask, int flags);

} // namespace guest
