// SPDX-License-Identifier: GPL-2.0
//
// Waiting for descriptors: poll, ppoll, select, pselect6, over
// poll_files().
#include <poll.h>
#include <sys/select.h>
#include <time.h>

#include <vector>

#include "kernel.hpp"
#include "sys/handlers.hpp"
#include "task.hpp"

namespace guest {
namespace {

constexpr std::int64_t ns_per_ms = 1000000;

struct GuestPollfd {
	int fd;
	short events;
	short revents;
};

// Fill in revents; the number of entries with some, or -errno.
// timeout_ms < 0 waits for ever.  A negative fd is left out.
SysResult poll_fds(Task& t, std::vector<GuestPollfd>& fds, int timeout_ms)
{
	std::vector<PollEntry> entries;
	std::vector<std::size_t> index;
	for (std::size_t i = 0; i < fds.size(); i++) {
		fds[i].revents = 0;
		if (fds[i].fd < 0)
			continue;
		entries.push_back({t.files().get(fds[i].fd), fds[i].events, 0});
		index.push_back(i);
	}
	auto n = poll_files(t, entries, timeout_ms);
	// A signal ends the wait; a handler's never restarts it (Linux's
	// -ERESTARTNOHAND, -ERESTART_RESTARTBLOCK for poll: the guest port
	// restarts it with its whole timeout).
	if (!n && n.error() == EINTR)
		return SysResult::restart_nohand();
	if (!n)
		return -n.error();
	for (std::size_t k = 0; k < entries.size(); k++)
		fds[index[k]].revents = entries[k].revents;
	return *n;
}

KResult<int> timeout_of(Task& t, std::uint64_t addr)
{
	if (!addr)
		return -1;
	auto ts = t.mm().read_obj<struct timespec>(addr);
	if (!ts)
		return kerr(EFAULT);
	if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000)
		return kerr(EINVAL);
	std::int64_t ms = ts->tv_sec * 1000 + (ts->tv_nsec + ns_per_ms - 1) / ns_per_ms;
	return static_cast<int>(std::min<std::int64_t>(ms, INT32_MAX));
}

SysResult do_poll(Task& t, std::uint64_t addr, std::uint64_t nfds, int timeout_ms)
{
	if (nfds > t.files().limit())
		return -EINVAL;
	std::vector<GuestPollfd> fds(nfds);
	if (!t.mm().read(addr, std::as_writable_bytes(std::span(fds))))
		return -EFAULT;
	SysResult n = poll_fds(t, fds, timeout_ms);
	if (n.failed())
		return n;
	if (!t.mm().write(addr, std::as_bytes(std::span(fds))))
		return -EFAULT;
	return n;
}

SysResult do_select(Task& t, const SysArgs& a, int timeout_ms)
{
	auto nfds = static_cast<int>(a[0]);
	if (nfds < 0)
		return -EINVAL;
	nfds = std::min<int>(nfds, static_cast<int>(t.files().limit()));
	constexpr int bits = 8 * sizeof(unsigned long);
	std::size_t words = static_cast<std::size_t>((nfds + bits - 1) / bits);

	std::vector<unsigned long> sets[3];
	for (int s = 0; s < 3; s++) {
		sets[s].assign(words, 0);
		if (a[1 + s] && words &&
		    !t.mm().read(a[1 + s], std::as_writable_bytes(std::span(sets[s]))))
			return -EFAULT;
	}
	auto isset = [&](int s, int fd) { return sets[s][fd / bits] >> (fd % bits) & 1; };

	std::vector<GuestPollfd> fds;
	for (int fd = 0; fd < nfds; fd++) {
		short ev = (isset(0, fd) ? POLLIN : 0) | (isset(1, fd) ? POLLOUT : 0) |
			   (isset(2, fd) ? POLLPRI : 0);
		if (ev)
			fds.push_back({fd, ev, 0});
	}
	SysResult n = poll_fds(t, fds, timeout_ms);
	if (n.failed())
		return n;

	for (auto& s : sets)
		std::fill(s.begin(), s.end(), 0);
	std::int64_t count = 0;
	for (const auto& p : fds) {
		if (p.revents & POLLNVAL)
			return -EBADF;
		auto set = [&](int s) {
			sets[s][p.fd / bits] |= 1ul << (p.fd % bits);
			count++;
		};
		if ((p.events & POLLIN) && (p.revents & (POLLIN | POLLHUP | POLLERR)))
			set(0);
		if ((p.events & POLLOUT) && (p.revents & (POLLOUT | POLLERR)))
			set(1);
		if ((p.events & POLLPRI) && (p.revents & POLLPRI))
			set(2);
	}
	for (int s = 0; s < 3; s++)
		if (a[1 + s] && words && !t.mm().write(a[1 + s], std::as_bytes(std::span(sets[s]))))
			return -EFAULT;
	return count;
}

} // namespace

GUEST_SYSCALL(poll)
{
	return do_poll(t, a[0], a[1], static_cast<int>(a[2]));
}

// ppoll's and pselect6's mask, in force while the call waits: call()
// with it, then the caller's again unless a signal ended the call (its
// handler's frame restores it).
template <class Call>
SysResult with_mask(Task& t, std::uint64_t addr, std::uint64_t size, Call call)
{
	if (!addr)
		return call();
	if (size != sizeof(std::uint64_t))
		return -EINVAL;
	auto mask = t.mm().read_obj<std::uint64_t>(addr);
	if (!mask)
		return -EFAULT;
	if (!t.kernel().set_wait_mask(t, *mask))
		return SysResult::restart_nohand();
	SysResult r = call();
	if (r.control() != SysResult::Control::restart_nohand)
		t.kernel().restore_wait_mask(t);
	return r;
}

GUEST_SYSCALL(ppoll)
{
	auto timeout = timeout_of(t, a[2]);
	if (!timeout)
		return -timeout.error();
	return with_mask(t, a[3], a[4], [&] { return do_poll(t, a[0], a[1], *timeout); });
}

GUEST_SYSCALL(select)
{
	int timeout = -1;
	if (a[4]) {
		auto tv = t.mm().read_obj<struct timeval>(a[4]);
		if (!tv)
			return -EFAULT;
		if (tv->tv_sec < 0 || tv->tv_usec < 0)
			return -EINVAL;
		timeout = static_cast<int>(std::min<std::int64_t>(
			tv->tv_sec * 1000 + (tv->tv_usec + 999) / 1000, INT32_MAX));
	}
	return do_select(t, a, timeout);
}

GUEST_SYSCALL(pselect6)
{
	auto timeout = timeout_of(t, a[4]);
	if (!timeout)
		return -timeout.error();
	// The sixth argument: the mask's address and size.
	std::uint64_t sig[2] = {0, 0};
	if (a[5] && !t.mm().read(a[5], std::as_writable_bytes(std::span(sig))))
		return -EFAULT;
	return with_mask(t, sig[0], sig[1], [&] { return do_select(t, a, *timeout); });
}

} // namespace guest
