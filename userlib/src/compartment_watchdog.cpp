// SPDX-License-Identifier: MIT
//
// The watchdog of Compartment::call() with a deadline: one thread for the
// process, started on first use, that kicks each watched vcpu once its
// deadline has passed.  The kick is made with the lock held, and
// unwatch() takes it, so a vcpu is never kicked after its call ended.
//
// The thread is detached and never ends, so that nothing joins it at
// exit; a child of fork() has no such thread (and maybe a copy of a lock
// held at the fork), so it starts a watchdog of its own on first use.
#include <pthread.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "compartment_impl.hpp"

namespace unpriv::detail {
namespace {

struct Watched {
	Vcpu *vcpu;
	std::chrono::steady_clock::time_point deadline;
	bool kicked = false;
};

class Thread {
public:
	void start()
	{
		std::thread([this] { loop(); }).detach();
	}

	Watchdog::Id watch(Vcpu& vcpu, std::chrono::steady_clock::time_point t)
	{
		std::lock_guard lk(lock_);
		Watchdog::Id id = next_id_++;

		watched_.emplace(id, Watched{&vcpu, t});
		wake_.notify_one();
		return id;
	}

	void unwatch(Watchdog::Id id)
	{
		std::lock_guard lk(lock_);

		watched_.erase(id);
	}

private:
	void loop()
	{
		std::unique_lock lk(lock_);

		for (;;) {
			auto now = std::chrono::steady_clock::now();
			auto next = std::chrono::steady_clock::time_point::max();

			for (auto& [id, w] : watched_) {
				if (w.kicked)
					continue;
				if (w.deadline <= now) {
					// A failed kick leaves the call running
					// to its end; kick() fails only for a
					// stub that died, which ends the call.
					(void)w.vcpu->kick();
					w.kicked = true;
				} else if (w.deadline < next) {
					next = w.deadline;
				}
			}
			if (next == std::chrono::steady_clock::time_point::max())
				wake_.wait(lk);
			else
				wake_.wait_until(lk, next);
		}
	}

	// Lock order: lock_, then whatever Vcpu::kick() takes.
	std::mutex lock_;
	std::condition_variable wake_;
	std::map<Watchdog::Id, Watched> watched_;	// lock_
	Watchdog::Id next_id_ = 1;			// lock_
};

// This process's watchdog, made on first use, never freed.
std::atomic<Thread *> instance;

void forget_after_fork()
{
	instance.store(nullptr, std::memory_order_relaxed);
}

Thread& thread()
{
	static const int at_fork = pthread_atfork(nullptr, nullptr, forget_after_fork);
	Thread *t = instance.load(std::memory_order_acquire);

	(void)at_fork;
	if (t)
		return *t;
	// The first to install one starts it; the others use it.
	auto *mine = new Thread;
	if (!instance.compare_exchange_strong(t, mine, std::memory_order_acq_rel)) {
		delete mine;
		return *t;
	}
	mine->start();
	return *mine;
}

} // namespace

Watchdog::Id Watchdog::watch(Vcpu& vcpu,
			     std::chrono::steady_clock::time_point deadline)
{
	return thread().watch(vcpu, deadline);
}

void Watchdog::unwatch(Id id)
{
	thread().unwatch(id);
}

} // namespace unpriv::detail
