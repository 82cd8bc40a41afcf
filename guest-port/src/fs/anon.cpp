// SPDX-License-Identifier: GPL-2.0
#include "fs/anon.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "host/event.hpp"
#include "host/io.hpp"
#include "task.hpp"

namespace guest {
namespace {

constexpr std::int64_t ns_per_s = 1000000000;

// The host's absolute time on the wall clock for the guest's, which is
// offset_ns ahead.  A time before the host's epoch is one long past: the
// earliest the host takes (0 would disarm the timer).
struct timespec to_host(struct timespec ts, std::int64_t offset_ns)
{
	std::int64_t sec = ts.tv_sec - offset_ns / ns_per_s;
	std::int64_t nsec = ts.tv_nsec - offset_ns % ns_per_s;
	if (nsec < 0) {
		nsec += ns_per_s;
		sec--;
	} else if (nsec >= ns_per_s) {
		nsec -= ns_per_s;
		sec++;
	}
	if (sec < 0 || (sec == 0 && nsec == 0))
		return {0, 1};
	return {sec, nsec};
}

} // namespace

KResult<std::shared_ptr<File>> make_eventfd(unsigned initval, int flags)
{
	if (flags & ~(EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC))
		return kerr(EINVAL);
	auto fd = host::eventfd(initval, (flags & (EFD_SEMAPHORE | EFD_NONBLOCK)) | EFD_CLOEXEC);
	if (!fd)
		return kerr(fd.error());
	return std::make_shared<AnonFile>(host::Fd(*fd), O_RDWR | (flags & EFD_NONBLOCK),
					  "[eventfd]");
}

// --- timerfd ------------------------------------------------------------------

KResult<std::shared_ptr<TimerFile>> make_timerfd(int clock, int flags, std::int64_t offset_ns)
{
	if (flags & ~(TFD_NONBLOCK | TFD_CLOEXEC))
		return kerr(EINVAL);
	switch (clock) {
	case CLOCK_REALTIME:
	case CLOCK_MONOTONIC:
	case CLOCK_BOOTTIME:
	case CLOCK_REALTIME_ALARM:
	case CLOCK_BOOTTIME_ALARM:
		break;
	default:
		return kerr(EINVAL);
	}
	auto fd = host::timerfd_create(clock, (flags & TFD_NONBLOCK) | TFD_CLOEXEC);
	if (!fd)
		return kerr(fd.error());
	return std::make_shared<TimerFile>(host::Fd(*fd), O_RDWR | (flags & TFD_NONBLOCK), clock,
					   offset_ns);
}

KResult<struct itimerspec> TimerFile::settime(int flags, const struct itimerspec& value)
{
	struct itimerspec v = value;
	bool wall = clock_ == CLOCK_REALTIME || clock_ == CLOCK_REALTIME_ALARM;
	// The value is checked by the host; a disarming zero stays zero.
	bool armed = v.it_value.tv_sec || v.it_value.tv_nsec;
	if ((flags & TFD_TIMER_ABSTIME) && wall && armed && v.it_value.tv_nsec >= 0 &&
	    v.it_value.tv_nsec < ns_per_s && v.it_value.tv_sec >= 0)
		v.it_value = to_host(v.it_value, offset_ns_);
	return host::timerfd_settime(host_fd(), flags, v);
}

KResult<struct itimerspec> TimerFile::gettime()
{
	// Relative: the time left, on any clock.
	return host::timerfd_gettime(host_fd());
}

// --- epoll --------------------------------------------------------------------

KResult<std::shared_ptr<EpollFile>> make_epoll()
{
	auto fd = host::epoll_create1(EPOLL_CLOEXEC);
	if (!fd)
		return kerr(fd.error());
	return std::make_shared<EpollFile>(host::Fd(*fd));
}

void EpollFile::prune_locked()
{
	for (auto it = items_.begin(); it != items_.end();) {
		if (!it->second.file.expired()) {
			++it;
			continue;
		}
		if (it->second.host)
			(void)host::epoll_ctl(host_fd(), EPOLL_CTL_DEL, it->second.host.get(), nullptr);
		it = items_.erase(it);
	}
}

KResult<void> EpollFile::ctl(int op, int fd, const std::shared_ptr<File>& file,
			     const struct epoll_event& ev)
{
	if (file.get() == this)
		return kerr(EINVAL);
	std::lock_guard lock(lock_);
	prune_locked();
	Key key{fd, file.get()};
	auto it = items_.find(key);

	switch (op) {
	case EPOLL_CTL_ADD: {
		if (it != items_.end())
			return kerr(EEXIST);
		Item item;
		item.file = file;
		item.events = ev.events;
		item.data = ev.data.u64;
		if (file->host_fd() >= 0) {
			// A descriptor of our own for each registration: the host
			// keys its items by descriptor too, and one open file may
			// be registered under several guest descriptors.
			auto dup = host::fcntl(file->host_fd(), F_DUPFD_CLOEXEC, 0);
			if (!dup)
				return kerr(dup.error());
			item.host = host::Fd(*dup);
			struct epoll_event hev = ev;
			if (auto r = host::epoll_ctl(host_fd(), EPOLL_CTL_ADD, *dup, &hev); !r)
				return kerr(r.error());
		} else {
			// The guest port's own files: those Linux can poll.
			if (!file->pollable())
				return kerr(EPERM);
			if ((ev.events & EPOLLEXCLUSIVE) &&
			    (ev.events & ~(EPOLLEXCLUSIVE | EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP |
					   EPOLLWAKEUP | EPOLLET)))
				return kerr(EINVAL);
		}
		items_.emplace(key, std::move(item));
		return {};
	}
	case EPOLL_CTL_MOD:
	case EPOLL_CTL_DEL:
		if (it == items_.end())
			return kerr(ENOENT);
		if (op == EPOLL_CTL_DEL) {
			if (it->second.host)
				(void)host::epoll_ctl(host_fd(), EPOLL_CTL_DEL, it->second.host.get(),
						      nullptr);
			items_.erase(it);
			return {};
		}
		if (it->second.host) {
			struct epoll_event hev = ev;
			auto r = host::epoll_ctl(host_fd(), EPOLL_CTL_MOD, it->second.host.get(), &hev);
			if (!r)
				return kerr(r.error());
		} else if ((ev.events | it->second.events) & EPOLLEXCLUSIVE) {
			return kerr(EINVAL);
		}
		it->second.events = ev.events;
		it->second.data = ev.data.u64;
		it->second.disabled = false;
		it->second.seen.reset();
		return {};
	default:
		return kerr(EINVAL);
	}
}

std::size_t EpollFile::poll_own(Task& task, std::span<struct epoll_event> out, int *wake,
				std::vector<std::shared_ptr<File>>& watched)
{
	// Asked without lock_ held: a signalfd's poll takes the kernel's
	// lock, which comes before lock_.
	struct Own {
		Key key;
		std::shared_ptr<File> file;
		std::uint32_t events;
		std::uint32_t ready = 0;
		std::uint64_t changes = 0;
	};
	std::vector<Own> own;
	{
		std::lock_guard lock(lock_);
		prune_locked();
		for (auto& [key, item] : items_)
			if (!item.host && !item.disabled)
				if (auto file = item.file.lock())	// closed since prune_locked()
					own.push_back({key, std::move(file), item.events});
	}
	constexpr std::uint32_t always = EPOLLERR | EPOLLHUP;
	for (Own& o : own) {
		int w = -1;
		auto mask = static_cast<std::uint32_t>(static_cast<std::uint16_t>(o.file->poll_for(
			task, static_cast<short>((o.events | always) & 0xffff), &w)));
		if (w >= 0) {
			*wake = w;
			watched.push_back(o.file);
		}
		o.ready = mask & (o.events | always);
		if (o.ready && (o.events & EPOLLET))
			o.changes = o.file->changes(task);
	}
	std::size_t n = 0;
	std::lock_guard lock(lock_);
	for (Own& o : own) {
		auto it = items_.find(o.key);
		if (!o.ready || n == out.size() || it == items_.end() || it->second.disabled ||
		    it->second.events != o.events)
			continue;
		Item& item = it->second;
		if (item.events & EPOLLET) {
			if (item.seen == o.changes)
				continue;
			item.seen = o.changes;
		}
		out[n].events = o.ready;
		out[n].data.u64 = item.data;
		n++;
		if (item.events & EPOLLONESHOT)
			item.disabled = true;
	}
	return n;
}

KResult<std::size_t> EpollFile::wait(Task& task, std::span<struct epoll_event> out,
				     int timeout_ms)
{
	using clock = std::chrono::steady_clock;
	const auto start = clock::now();
	std::vector<std::shared_ptr<File>> watched;
	for (;;) {
		// The guest port's own files first: ready now, or (a
		// signalfd) wake this wait when they may be.
		if (task.signal_wake)	// the thread's own: no lock
			task.signal_wake.drain();
		int wake = -1;
		std::size_t n = poll_own(task, out, &wake, watched);
		auto unwatch = [&] {
			for (auto& f : watched)
				f->unwatch(task);
			watched.clear();
		};
		if (n == out.size()) {
			unwatch();
			return n;
		}
		int timeout = timeout_ms;
		if (n) {
			timeout = 0;
		} else if (timeout_ms > 0) {
			auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(
				clock::now() - start).count();
			timeout = static_cast<int>(std::max<std::int64_t>(timeout_ms - spent, 0));
		}
		bool woken = false;
		if (!n && wake >= 0) {
			// Wait for the host's items or the wake-up, then take
			// the host's without waiting.
			struct pollfd p[2] = {{host_fd(), POLLIN, 0}, {wake, POLLIN, 0}};
			if (auto r = host::poll(p, timeout); !r) {
				unwatch();
				return kerr(r.error());
			}
			woken = p[1].revents;
			timeout = 0;
		}
		unwatch();
		auto got = host::epoll_wait(host_fd(), out.subspan(n), timeout);
		if (!got) {
			if (n)
				return n;
			return kerr(got.error());
		}
		n += static_cast<std::size_t>(*got);
		if (!n && woken)
			continue;
		return n;
	}
}

} // namespace guest
