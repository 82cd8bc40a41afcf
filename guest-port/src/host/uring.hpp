// SPDX-License-Identifier: GPL-2.0
//
// io_uring for the host I/O of guest threads that may block: the
// request goes to one ring of the guest port's, the guest thread waits
// on its Waiter (wait.hpp, the one way a guest thread blocks: so a
// scheduler of guest threads sees it blocked), and the ring's reaper
// thread wakes it with the completion.  A signal for the thread (its
// Waiter interrupted) cancels the request (IORING_OP_ASYNC_CANCEL) and
// the call returns EINTR, the guest port's interrupt, which the run
// loop turns into a restart or the guest's EINTR, as for a direct host
// call; data that came before the cancel took is returned.
//
// Which calls use it is chosen by measurement (README.md, "Host I/O"):
// fsync and fdatasync, by default; every read, write, pread, pwrite and
// sync of files, pipes and sockets with --host-io=all.  The others, and
// every call where io_uring cannot be set up (ENOSYS; EPERM under
// kernel.io_uring_disabled or a seccomp filter) or --host-io=direct
// asks for none, are direct host calls.
//
// Locks: the ring's submission lock and its completion lock are leaves,
// but that the completion lock is held while a Waiter is notified
// (Waiter::lock_ under it), so that a guest thread that saw its request
// done cannot be gone before the reaper is done with it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "common.hpp"

namespace guest {

class Waiter;

namespace host {

// What a descriptor is, for the choice of path.
enum class Route : std::uint8_t {
	file,		// a regular file or a block device
	stream,		// a pipe, a socket, a terminal: may wait for a peer
	nonblocking,	// O_NONBLOCK: never waits, always direct (io_uring
			// would wait for a pipe where the call says EAGAIN)
};

// --host-io: which calls go through the ring.
enum class UringUse : std::uint8_t {
	none,		// direct: every call direct
	measured,	// uring: those that measured no slower (fsync)
	all,		// all: every call that may block
};

// Set up the ring, once, before guest threads run: false (and every
// call direct) when io_uring is not there or use is none.  The errno of
// io_uring_queue_init when it failed is in *why.
bool uring_start(UringUse use, int *why);
// Whether the ring is up.
[[nodiscard]] bool uring_active() noexcept;
// For --stats: "io_uring: N requests, M cancelled", or "direct" and why.
[[nodiscard]] std::string uring_summary();

// The Waiter of the guest thread that runs on the calling host thread
// (null: none, as on the guest port's own threads: their calls are
// direct).
void set_thread_waiter(Waiter *w) noexcept;

// The calls, through the ring when it is up, the calling thread has a
// Waiter and route is one the ring takes; nullopt otherwise (the
// caller then makes the call directly).  off < 0: at the file position.
std::optional<KResult<std::size_t>> uring_read(int fd, std::span<std::byte> buf,
					       std::int64_t off, Route route);
std::optional<KResult<std::size_t>> uring_write(int fd, std::span<const std::byte> buf,
						std::int64_t off, Route route);
std::optional<KResult<void>> uring_fsync(int fd, bool data_only);

} // namespace host
} // namespace guest
