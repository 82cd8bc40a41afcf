// SPDX-License-Identifier: GPL-2.0
#include "fs/signalfd.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "host/event.hpp"
#include "host/fd.hpp"
#include "host/file.hpp"
#include "kernel.hpp"
#include "task.hpp"

namespace guest {
namespace {

constexpr std::uint64_t rw_max = 0x7ffff000;	// Linux's MAX_RW_COUNT

} // namespace

KResult<std::shared_ptr<SignalFile>> make_signalfd(std::uint64_t mask, int flags)
{
	if (flags & ~(SFD_NONBLOCK | SFD_CLOEXEC))
		return kerr(EINVAL);
	return std::make_shared<SignalFile>(mask, flags);
}

KResult<struct stat> SignalFile::stat()
{
	// Linux's signalfd is a file of the one anonymous inode every
	// eventfd, timerfd and signalfd shares: the host's, as its
	// eventfds are the guest's.
	static const struct stat anon = [] {
		if (auto fd = host::eventfd(0, EFD_CLOEXEC)) {
			host::Fd owned(*fd);
			if (auto st = host::fstat(owned.get()))
				return *st;
		}
		// A host without eventfd: what Linux's shows but its numbers.
		struct stat st {};
		st.st_mode = S_IRUSR | S_IWUSR;
		st.st_nlink = 1;
		st.st_blksize = 4096;
		return st;
	}();
	return anon;
}

KResult<std::size_t> SignalFile::read(std::span<std::byte>)
{
	// Only read(2) and readv(2) read it (read_guest()): splice and
	// sendfile cannot, as on Linux 6.1, where it has no read_iter.
	return kerr(EINVAL);
}

short SignalFile::poll(short)
{
	return 0;
}

std::optional<KResult<std::size_t>> SignalFile::read_guest(Task& t, std::uint64_t addr,
							    std::uint64_t count)
{
	constexpr std::size_t size = sizeof(struct signalfd_siginfo);
	// vfs_read()'s access_ok(), then signalfd_read()'s own check.
	if (addr >= user_end || count > user_end - addr)
		return kerr(EFAULT);
	const std::size_t n = std::min(count, rw_max) / size;
	if (!n)
		return kerr(EINVAL);

	Kernel& k = t.kernel();
	const bool nonblock = flags() & O_NONBLOCK;
	std::vector<struct signalfd_siginfo> out;
	bool watching = false;
	int err = 0;
	// The first may wait; the others are what is pending then.
	while (out.size() < n) {
		const bool wait = !nonblock && out.empty();
		auto got = k.signalfd_take(t, mask(), wait && !watching);
		if (!got) {
			err = got.error();
			break;
		}
		if (*got) {
			out.push_back((*got)->to_signalfd());
			continue;
		}
		if (!wait)
			break;
		// Watching now: a signal queued from here writes signal_wake.
		watching = true;
		if (k.interrupted(t) || !t.signal_wake.wait()) {
			err = EINTR;	// -ERESTARTSYS
			break;
		}
		t.signal_wake.drain();
	}
	if (watching)
		k.unwatch_signals(t);
	if (out.empty())
		return kerr(err ? err : EAGAIN);
	// Taken already: a bad buffer loses them, as on Linux.
	if (!t.mm().write(addr, std::as_bytes(std::span(out))))
		return kerr(EFAULT);
	return out.size() * size;
}

short SignalFile::poll_for(Task& t, short events, int *wake_fd)
{
	auto ready = t.kernel().signalfd_poll(t, mask(), wake_fd != nullptr);
	// Without a wake-up to spare (no host descriptor left), the wait
	// sees only what interrupts it.
	if (!ready)
		return 0;
	if (*ready)
		return events & POLLIN;
	if (wake_fd)
		*wake_fd = t.signal_wake.fd();
	return 0;
}

void SignalFile::unwatch(Task& t)
{
	t.kernel().unwatch_signals(t);
}

std::uint64_t SignalFile::changes(Task& t)
{
	return t.kernel().signal_events(t);
}

} // namespace guest
