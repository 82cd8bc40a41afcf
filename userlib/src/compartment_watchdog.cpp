// SPDX-License-Identifier: MIT
//
// The watchdog of Compartment::call() with a deadline: one thread for the
// process, started on first use, that kicks each watched vcpu once its
// deadline has passed.  The kick is made with the lock held, and
// unwatch() takes it, so a vcpu is never kicked after its call ended.
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
	Thread() : thread_([this] { loop(); }) {}

	~Thread()
	{
		{
			std::lock_guard lk(lock_);
			stop_ = true;
		}
		wake_.notify_one();
		thread_.join();
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

		while (!stop_) {
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
	bool stop_ = false;				// lock_
	std::thread thread_;
};

Thread& thread()
{
	static Thread t;
	return t;
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
