// SPDX-License-Identifier: GPL-2.0
//
// Files without a name (Linux's anon_inode files): eventfd, timerfd,
// and epoll.  Each is backed by the host object of the same kind, which
// has Linux's semantics because it is Linux's: an eventfd's counter and
// semaphore mode, a timerfd's expiration count, epoll's edge and level
// triggering, EPOLLONESHOT and EPOLLEXCLUSIVE, wake-ups from any host
// thread.  A guest process blocked in one blocks its host thread in the
// host call, which the guest port's interrupt breaks (EINTR) as it
// breaks a pipe read.
//
// The guest port's own files (/dev, /proc, signalfd) have no host object
// to hand to a host epoll: EpollFile keeps them in a list of its own and
// asks them (File::poll_for) at each wait.  Most never change, so such a
// file is ready at once and for ever, as /proc/meminfo is to Linux's
// epoll; a signalfd wakes the wait (its wake descriptor, polled with the
// host epoll's) when a signal comes.
#pragma once

#include <sys/epoll.h>
#include <time.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "fs/file.hpp"

namespace guest {

// A host anon_inode file: /proc/self/fd shows "anon_inode:[name]".
class AnonFile : public HostFile {
public:
	AnonFile(host::Fd fd, int flags, std::string name)
		: HostFile(std::move(fd), flags, nullptr, Origin::own), name_(std::move(name))
	{
	}
	[[nodiscard]] std::string path() const override { return "anon_inode:" + name_; }

private:
	std::string name_;
};

// eventfd2(2): flags EFD_SEMAPHORE, EFD_NONBLOCK (EFD_CLOEXEC is the
// descriptor's, the caller's to set).  EINVAL for others.
KResult<std::shared_ptr<File>> make_eventfd(unsigned initval, int flags);

// timerfd_create(2), timerfd_settime(2), timerfd_gettime(2).  The
// guest's CLOCK_REALTIME is the host's plus time_offset_ns
// (--time-offset): an absolute time on it is moved to the host's.
class TimerFile final : public AnonFile {
public:
	TimerFile(host::Fd fd, int flags, int clock, std::int64_t offset_ns)
		: AnonFile(std::move(fd), flags, "[timerfd]"), clock_(clock), offset_ns_(offset_ns)
	{
	}
	KResult<struct itimerspec> settime(int flags, const struct itimerspec& value);
	KResult<struct itimerspec> gettime();

private:
	int clock_;
	std::int64_t offset_ns_;
};
KResult<std::shared_ptr<TimerFile>> make_timerfd(int clock, int flags, std::int64_t offset_ns);

// epoll(7).  A registration is Linux's epitem: keyed by the descriptor
// and the open file, it lasts until EPOLL_CTL_DEL or until the open
// file is gone (every descriptor of it closed, in every process).
class EpollFile final : public AnonFile {
public:
	explicit EpollFile(host::Fd fd) : AnonFile(std::move(fd), O_RDWR, "[eventpoll]") {}

	// epoll_ctl(2): EEXIST, ENOENT, EPERM (a file that cannot be
	// polled: regular files, directories, /dev/null), ELOOP, EINVAL.
	KResult<void> ctl(int op, int fd, const std::shared_ptr<File>& file,
			  const struct epoll_event& ev);
	// epoll_wait(2) by task: up to out.size() events, waiting up to
	// timeout_ms (< 0: for ever) when none is ready.  EINTR when
	// interrupted.
	KResult<std::size_t> wait(Task& task, std::span<struct epoll_event> out, int timeout_ms);

private:
	struct Item {
		std::weak_ptr<File> file;
		host::Fd host;	// our own descriptor of the host file,
					// registered with the host epoll
		std::uint32_t events = 0;
		std::uint64_t data = 0;
		bool disabled = false;	// a guest port file's: EPOLLONESHOT fired
		// A guest port file's changes (File::changes()) when EPOLLET
		// last reported it: reported again only after another.
		std::optional<std::uint64_t> seen;
	};
	// The guest port's own files' events, into out: how many.  Those
	// that may change and are not ready yet are watched (wake set), to
	// be unwatched after the wait.  lock_ not held.
	std::size_t poll_own(Task& task, std::span<struct epoll_event> out, int *wake,
			     std::vector<std::shared_ptr<File>>& watched);
	using Key = std::pair<int, const File *>;

	// Items whose file is gone leave the host epoll.  lock_ held.
	void prune_locked();

	std::mutex lock_;
	std::map<Key, Item> items_;	// lock_
};
KResult<std::shared_ptr<EpollFile>> make_epoll();

} // namespace guest
