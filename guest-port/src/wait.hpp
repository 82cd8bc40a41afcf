// SPDX-License-Identifier: GPL-2.0
//
// Waiter: the one way a guest thread blocks in the guest port (Linux's
// schedule() in TASK_INTERRUPTIBLE, gVisor's Task.block).  A queue that
// holds the waiter (a futex's) notifies it; a signal for its thread, a
// kill or an exec interrupts it; a deadline ends the wait.  Each guest
// thread has one (Task::waiter()); a system call that blocks on it
// returns a restart when interrupted (SysResult::restart_sys(), or
// -EINTR, which the run loop takes for it), and the run loop takes the
// signal.
//
// The protocol, as prepare_to_wait() and schedule(): prepare() (a
// stale notification is forgotten), then join the queue under the
// queue's lock and check the condition, then block().  A notify() or
// interrupt() between the check and block() is not lost: block()
// returns at once.  interrupt() stays in force until clear_interrupt(),
// which the run loop calls before the guest runs again; so a signal
// that comes before the thread blocks still ends the wait.
//
// WaitQueue: the waiters for something that is not a futex (a
// process's children changing state, its group stop ending, a vfork
// child letting go): notify_all() notifies each queued Waiter and
// counts a generation, which a waiter that rescans what it waits for
// compares.  Kernel::block_locked() is the one loop around both.
//
// Locks: WaitQueue::lock_ is taken before a Waiter's; both are leaves
// otherwise.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

namespace guest {

using Deadline = std::optional<std::chrono::steady_clock::time_point>;

class Waiter {
public:
	enum class Wake { notified, interrupted, timed_out };

	void prepare()
	{
		std::lock_guard lock(lock_);
		notified_ = false;
	}

	void notify()
	{
		std::lock_guard lock(lock_);
		notified_ = true;
		cv_.notify_all();
	}

	void interrupt()
	{
		std::lock_guard lock(lock_);
		interrupted_ = true;
		cv_.notify_all();
	}

	void clear_interrupt()
	{
		std::lock_guard lock(lock_);
		interrupted_ = false;
	}

	// Until notified, interrupted or the deadline; notified wins over
	// interrupted when both are there.
	Wake block(Deadline deadline)
	{
		std::unique_lock lock(lock_);
		auto done = [&] { return notified_ || interrupted_; };
		if (deadline) {
			if (!cv_.wait_until(lock, *deadline, done))
				return Wake::timed_out;
		} else {
			cv_.wait(lock, done);
		}
		if (notified_) {
			notified_ = false;
			return Wake::notified;
		}
		return Wake::interrupted;
	}

private:
	std::mutex lock_;	// a leaf
	std::condition_variable cv_;
	bool notified_ = false;		// lock_
	bool interrupted_ = false;	// lock_
};

class WaitQueue {
public:
	void add(Waiter& w)
	{
		std::lock_guard lock(lock_);
		waiters_.push_back(&w);
	}

	void remove(Waiter& w)
	{
		std::lock_guard lock(lock_);
		std::erase(waiters_, &w);
	}

	// Each waiter queued now, in the order they came.
	void notify_all()
	{
		std::lock_guard lock(lock_);
		generation_++;
		for (Waiter *w : waiters_)
			w->notify();
	}

	// notify_all() calls so far.
	[[nodiscard]] std::uint64_t generation()
	{
		std::lock_guard lock(lock_);
		return generation_;
	}

private:
	std::mutex lock_;
	std::vector<Waiter *> waiters_;	// lock_
	std::uint64_t generation_ = 0;	// lock_
};

} // namespace guest
