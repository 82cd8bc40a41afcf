// SPDX-License-Identifier: GPL-2.0
//
// Pending signals and their information: the kernel's siginfo_t and
// struct sigpending.  The locks are their holders' (task.hpp).
#pragma once

#include <signal.h>
#include <sys/signalfd.h>

#include <cstddef>
#include <cstdint>
#include <deque>

namespace guest {

inline constexpr int nsig = 64;

constexpr std::uint64_t sigbit(int signo) noexcept
{
	return 1ull << (signo - 1);
}

inline constexpr int sigrtmin = 32;	// the kernel's SIGRTMIN

// The signals a thread's own instruction raises (Linux's
// SYNCHRONOUS_MASK).
inline constexpr std::uint64_t synchronous_mask = sigbit(SIGSEGV) | sigbit(SIGBUS) |
						  sigbit(SIGILL) | sigbit(SIGTRAP) |
						  sigbit(SIGFPE) | sigbit(SIGSYS);

// The signal of pending to take first (Linux's next_signal()): a
// synchronous one, else the lowest; 0 for none.
constexpr int next_signal(std::uint64_t pending) noexcept
{
	std::uint64_t s = pending & synchronous_mask;
	return pending ? __builtin_ctzll(s ? s : pending) + 1 : 0;
}

// A signal's information, the kernel's siginfo_t on x86-64 (its
// _sifields union: which member holds depends on signo and code).
struct SigInfo {
	std::int32_t signo = 0, err = 0, code = 0, pad = 0;
	union {
		std::byte raw[112];
		// kill, sigqueue (value: si_value), a SIGALRM from the kernel
		struct { std::int32_t pid; std::uint32_t uid; std::uint64_t value; } kill;
		struct { std::int32_t tid, overrun; std::uint64_t value; } timer;
		struct {
			std::int32_t pid;
			std::uint32_t uid;
			std::int32_t status, pad;
			std::int64_t utime, stime;
		} chld;
		struct { std::uint64_t addr; } fault;
	} f{};

	// Sent by a process (kill: SI_USER; tkill: SI_TKILL), or by the
	// kernel (SI_KERNEL, pid 0).
	static SigInfo from_process(int signo, int code, int pid, std::uint32_t uid) noexcept;

	// As signalfd(2) gives it: Linux's signalfd_copyinfo(), the fields
	// that siginfo_layout() says the signal's code fills.
	[[nodiscard]] struct signalfd_siginfo to_signalfd() const noexcept;
};
static_assert(sizeof(SigInfo) == 128);

// Signals pending for a process or a thread (Linux's struct
// sigpending): the set, and each one's information in the order sent.
// A standard signal is pending once however often it is sent; a
// real-time one is queued each time.
struct SigPending {
	// At most this many real-time signals keep their information; past
	// it a real-time signal is pending without (Linux's "silent loss of
	// information" when its sigqueue cannot be allocated), so that a
	// guest cannot grow the guest port's memory without bound: 128 KiB
	// a process at most.
	static constexpr std::size_t max_queued_rt = 1024;

	std::uint64_t set = 0;
	std::deque<SigInfo> queue;

	// False when info's signal is a standard one already pending.
	bool add(const SigInfo& info);
	// The first pending signo's information; its bit goes with the
	// last.
	SigInfo take(int signo);
	// Forget the signals in mask.
	void discard(std::uint64_t mask);
	// Forget POSIX timer id's signal (timer_delete).
	void remove_timer(int id);
	// The real-time signals queued with their information.
	[[nodiscard]] std::size_t queued_rt() const noexcept { return queued_rt_; }

private:
	std::size_t queued_rt_ = 0;
};

} // namespace guest
