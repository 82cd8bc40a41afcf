// SPDX-License-Identifier: GPL-2.0
#include "sigqueue.hpp"

#include <signal.h>

#include <algorithm>
#include <cstring>

namespace guest {
namespace {

// Linux's enum siginfo_layout, as far as x86-64 has it.
enum class Layout { kill, timer, poll, fault, chld, rt, sys };

// Linux's siginfo_layout(): which of siginfo_t's union members a
// signal's information fills, by its signal and code.
Layout layout_of(int signo, int code) noexcept
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
T field(const SigInfo& info, std::size_t off) noexcept
{
	T v;
	std::memcpy(&v, info.f.raw + off, sizeof(v));
	return v;
}

} // namespace

SigInfo SigInfo::from_process(int signo, int code, int pid, std::uint32_t uid) noexcept
{
	SigInfo info;
	info.signo = signo;
	info.code = code;
	info.f.kill.pid = pid;
	info.f.kill.uid = uid;
	return info;
}

struct signalfd_siginfo SigInfo::to_signalfd() const noexcept
{
	const SigInfo& info = *this;
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

bool SigPending::add(const SigInfo& info)
{
	std::uint64_t bit = sigbit(info.signo);
	bool rt = info.signo >= sigrtmin;
	if (!rt && (set & bit))
		return false;
	set |= bit;
	if (rt && queued_rt_ >= max_queued_rt)
		return true;
	queue.push_back(info);
	queued_rt_ += rt;
	return true;
}

SigInfo SigPending::take(int signo)
{
	auto it = std::find_if(queue.begin(), queue.end(),
			       [&](const SigInfo& i) { return i.signo == signo; });
	SigInfo info;
	if (it == queue.end()) {
		info.signo = signo;
	} else {
		info = *it;
		queue.erase(it);
		queued_rt_ -= signo >= sigrtmin;
	}
	if (std::none_of(queue.begin(), queue.end(),
			 [&](const SigInfo& i) { return i.signo == signo; }))
		set &= ~sigbit(signo);
	return info;
}

void SigPending::discard(std::uint64_t mask)
{
	set &= ~mask;
	std::erase_if(queue, [&](const SigInfo& i) { return mask & sigbit(i.signo); });
	queued_rt_ = static_cast<std::size_t>(std::count_if(
		queue.begin(), queue.end(), [](const SigInfo& i) { return i.signo >= sigrtmin; }));
}

void SigPending::remove_timer(int id)
{
	auto it = std::find_if(queue.begin(), queue.end(), [&](const SigInfo& i) {
		return i.code == SI_TIMER && i.f.timer.tid == id;
	});
	if (it == queue.end())
		return;
	int signo = it->signo;
	queue.erase(it);
	queued_rt_ -= signo >= sigrtmin;
	if (std::none_of(queue.begin(), queue.end(),
			 [&](const SigInfo& i) { return i.signo == signo; }))
		set &= ~sigbit(signo);
}

} // namespace guest
