// SPDX-License-Identifier: GPL-2.0
//
// CpuScheduler: the guest's virtual CPUs (--cpus N).  Each guest thread
// runs on a host thread of its own (kernel.hpp); at most N of them run
// guest code at once.  A thread takes one of N tokens before it enters
// the guest (Vcpu::run()) and gives it back at the exit, before the
// guest port handles it: so a thread that blocks in a system call (a
// pipe read, wait4, a futex, a sleep, a host call) holds no CPU.  An
// exit whose handling cannot block (getpid, mmap, a copy on write:
// the run loop says which) keeps the token, while the thread's slice
// lasts or nobody waits, so that two threads making such calls on one
// CPU do not pass it at every call; a wait in the guest port
// (Kernel::block_locked()) gives it back before it sleeps.
//
// Fairness: threads waiting for a token queue in arrival order (FIFO),
// and a token given back goes to the first of them.  Preemption: a
// thread that holds a token for a time slice (no exit meanwhile) while
// others wait is kicked out of the guest (its Vcpu's kick(), the same
// as a signal's), gives its token back at that exit and queues again
// behind the others: a spinning guest cannot starve them.  No thread
// of the guest port's own does this: the first waiter watches the
// holders' slices, with a deadline on its wait, and kicks the one
// whose slice has ended.
//
// Waiting for a token is a Waiter's wait (wait.hpp): a signal for the
// thread, or its end, interrupts it (acquire() says false), so that a
// thread queued behind spinners still dies at once when killed.
//
// Locks: lock_ is taken before a Waiter's lock and before a kick (the
// backend's); nothing else is taken under it, and it is taken alone or
// under Kernel::tasks_lock_ (block_locked()).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <vector>

#include "wait.hpp"

namespace guest {

class CpuScheduler {
public:
	using Clock = std::chrono::steady_clock;
	// The time a thread may run the guest without an exit while others
	// wait: Linux's CFS gives a thread a few milliseconds when a CPU
	// has two; a kick and an exit cost tens of microseconds on ptrace.
	static constexpr std::chrono::milliseconds default_slice{10};
	// The most CPUs a guest has (its affinity mask is one word).
	static constexpr unsigned max_cpus = 64;

	// A thread's place in the scheduler: its Waiter, to wait for a
	// token on, and what kicks it out of the guest.  Fields after
	// those are lock_'s.
	struct Slot {
		Slot(Waiter& w, std::function<void()> kick) : waiter(w), kick(std::move(kick)) {}

		Waiter& waiter;
		// Called under lock_, while the slot holds a token: make the
		// thread leave the guest soon (Vcpu::kick()).
		std::function<void()> kick;

		enum class State { idle, queued, running };
		State state = State::idle;	// lock_
		Clock::time_point since;	// lock_: when it took its token
		bool kicked = false;		// lock_: preempted in this slice
	};

	explicit CpuScheduler(unsigned cpus, Clock::duration slice = default_slice);
	CpuScheduler(const CpuScheduler&) = delete;
	CpuScheduler& operator=(const CpuScheduler&) = delete;

	// Take a token for s: at once when it holds one, or one is free
	// and nobody waits; else in turn.  False when s's waiter was
	// interrupted first (s is idle again, without a token).
	[[nodiscard]] bool acquire(Slot& s);
	// At an exit of s's: keep says the guest port's handling of it
	// cannot block (a getpid, a copy on write); s then keeps its token
	// through it, unless another thread waits and s's slice is over or
	// it was kicked for it.  Otherwise the token goes back.
	void exit(Slot& s, bool keep);
	// Give s's token back, if it holds one: to the first waiter, if
	// any.
	void release(Slot& s);

	[[nodiscard]] unsigned cpus() const noexcept { return cpus_; }
	[[nodiscard]] Clock::duration slice() const noexcept { return slice_; }

	struct Stats {
		std::uint64_t waits = 0;	// acquire() that had to queue
		std::uint64_t preemptions = 0;	// kicks at the end of a slice
	};
	[[nodiscard]] Stats stats();
	// Tokens held now, and threads queued (for tests).
	[[nodiscard]] unsigned running();
	[[nodiscard]] std::size_t queued();

private:
	void grant_locked(Slot& s);
	void release_locked(Slot& s);
	void remove_locked(Slot& s);
	// Kick each holder whose slice has ended; the end of the next
	// slice that has not (none: no holder left to watch).
	Deadline preempt_locked(Clock::time_point now);

	const unsigned cpus_;
	const Clock::duration slice_;
	std::mutex lock_;
	unsigned free_;			// lock_: tokens nobody holds
	std::deque<Slot *> queue_;	// lock_: waiting, first come first
	std::vector<Slot *> holders_;	// lock_: running
	Stats stats_;			// lock_
};

} // namespace guest
