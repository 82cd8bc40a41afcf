// SPDX-License-Identifier: GPL-2.0
#include "fs/signalfd.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernel.hpp"
#include "task.hpp"

namespace guest {
namespace {

constexpr std::uint64_t rw_max = 0x7ffff000;	// Linux's MAX_RW_COUNT

// Linux's enum siginfo_layout, as far as x86-64 has it.
enum class Layout { kill, timer, poll, fault, chld, rt, sys };

// Linux's siginfo_layout(): which of siginfo_t's union members a
// signal's information fills, by its signal and code.
Layout layout_of(int signo, int code)
{
	if (code > SI_USER && code < SI_KERNEL) {
		// The kernel's own codes for a signal, up to each one's last.
		int last = 0;
		Layout l = Layout::kill;
		switch (signo) {
		case SIGILL: last = 11; l = Layout::fault; break;	// NSIGILL
		case SIGFPE: last = 15; l = Layout::fault; break;	// NSIGFPE
		case SIGSEGV: last = 9; l = Layout::fault; break;	// NSIGSEGV
		case SIGBUS: last = 5; l = Layout::fault; break;	// NSIGBUS
		case SIGTRAP: last = 6; l = Layout::fault; break;	// NSIGTRAP
		case SIGCHLD: last = 6; l = Layout::chld; break;	// NSIGCHLD
		case SIGPOLL: last = 6; l = Layout::poll; break;	// NSIGPOLL
		case SIGSYS: last = 2; l = Layout::sys; break;		// NSIGSYS
		}
		if (code <= last)
			return l;
		return code <= 6 ? Layout::poll : Layout::kill;
	}
	if (code == SI_TIMER)
		return Layout::timer;
	if (code == SI_SIGIO)
		return Layout::poll;
	return code < 0 ? Layout::rt : Layout::kill;
}

template <class T>
T field(const SigInfo& info, std::size_t off)
{
	T v;
	std::memcpy(&v, info.f.raw + off, sizeof(v));
	return v;
}

} // namespace

struct signalfd_siginfo to_signalfd_siginfo(const SigInfo& info)
{
	struct signalfd_siginfo s {};
	s.ssi_signo = static_cast<std::uint32_t>(info.signo);
	s.ssi_errno = info.err;
	s.ssi_code = info.code;
	// Offsets in siginfo_t's union (include/uapi/asm-generic/siginfo.h
	// on x86-64).
	switch (layout_of(info.signo, info.code)) {
	case Layout::kill:
		s.ssi_pid = field<std::uint32_t>(info, 0);
		s.ssi_uid = field<std::uint32_t>(info, 4);
		break;
	case Layout::timer:
		s.ssi_tid = field<std::uint32_t>(info, 0);
		s.ssi_overrun = field<std::uint32_t>(info, 4);
		s.ssi_ptr = field<std::uint64_t>(info, 8);
		s.ssi_int = field<std::int32_t>(info, 8);
		break;
	case Layout::poll:
		s.ssi_band = static_cast<std::uint32_t>(field<std::int64_t>(info, 0));
		s.ssi_fd = field<std::int32_t>(info, 8);
		break;
	case Layout::fault:
		s.ssi_addr = field<std::uint64_t>(info, 0);
		break;
	case Layout::chld:
		s.ssi_pid = field<std::uint32_t>(info, 0);
		s.ssi_uid = field<std::uint32_t>(info, 4);
		s.ssi_status = field<std::int32_t>(info, 8);
		s.ssi_utime = field<std::uint64_t>(info, 16);
		s.ssi_stime = field<std::uint64_t>(info, 24);
		break;
	case Layout::rt:
		s.ssi_pid = field<std::uint32_t>(info, 0);
		s.ssi_uid = field<std::uint32_t>(info, 4);
		s.ssi_ptr = field<std::uint64_t>(info, 8);
		s.ssi_int = field<std::int32_t>(info, 8);
		break;
	case Layout::sys:
		s.ssi_call_addr = field<std::uint64_t>(info, 0);
		s.ssi_syscall = field<std::int32_t>(info, 8);
		s.ssi_arch = field<std::uint32_t>(info, 12);
		break;
	}
	return s;
}

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
		struct stat st {};
		int fd = ::eventfd(0, EFD_CLOEXEC);
		if (fd >= 0 && ::fstat(fd, &st) == 0) {
			::close(fd);
			return st;
		}
		if (fd >= 0)
			::close(fd);
		// A host without eventfd: what Linux's shows but its numbers.
		st = {};
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
			out.push_back(to_signalfd_siginfo(**got));
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
