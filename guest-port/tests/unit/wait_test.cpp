// SPDX-License-Identifier: GPL-2.0
//
// WaitQueue and Waiter, as Kernel::block_locked() uses them: a notify
// reaches every waiter queued and counts a generation, none that has
// left; a notify between a waiter's check and its sleep is not lost;
// an interrupt stays until cleared.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "wait.hpp"

using guest::WaitQueue;
using guest::Waiter;
using namespace std::chrono_literals;

TEST_SUITE("WaitQueue") {

TEST_CASE("notify_all notifies each waiter queued, and counts")
{
	WaitQueue q;
	Waiter a, b, gone;
	q.add(a);
	q.add(gone);
	q.add(b);
	q.remove(gone);
	CHECK(q.generation() == 0);
	q.notify_all();
	CHECK(q.generation() == 1);
	auto soon = std::chrono::steady_clock::now() + 10ms;
	CHECK(a.block(soon) == Waiter::Wake::notified);
	CHECK(b.block(soon) == Waiter::Wake::notified);
	CHECK(gone.block(soon) == Waiter::Wake::timed_out);
}

TEST_CASE("prepare() forgets an old notify; one after it is kept")
{
	Waiter w;
	w.notify();
	w.prepare();
	CHECK(w.block(std::chrono::steady_clock::now() + 10ms) == Waiter::Wake::timed_out);
	w.prepare();
	w.notify();
	CHECK(w.block({}) == Waiter::Wake::notified);
}

TEST_CASE("an interrupt ends every block until it is cleared")
{
	Waiter w;
	w.interrupt();
	CHECK(w.block({}) == Waiter::Wake::interrupted);
	CHECK(w.block({}) == Waiter::Wake::interrupted);
	w.clear_interrupt();
	CHECK(w.block(std::chrono::steady_clock::now() + 10ms) == Waiter::Wake::timed_out);
}

TEST_CASE("a condition under a lock, many waiters and wakers: no wake lost")
{
	// As block_locked(): queued and prepared before the check, under
	// the lock the condition's writers take before they notify.
	std::mutex m;
	int tickets = 0;	// m
	WaitQueue q;
	constexpr int waiters = 6, rounds = 200;
	std::atomic<int> taken = 0;
	std::vector<std::thread> ths;
	for (int i = 0; i < waiters; i++)
		ths.emplace_back([&] {
			Waiter w;
			for (int r = 0; r < rounds; r++) {
				std::unique_lock lock(m);
				for (;;) {
					w.prepare();
					q.add(w);
					if (tickets > 0) {
						q.remove(w);
						break;
					}
					lock.unlock();
					(void)w.block({});
					q.remove(w);
					lock.lock();
				}
				tickets--;
				taken++;
			}
		});
	for (int r = 0; r < waiters * rounds; r++) {
		{
			std::lock_guard lock(m);
			tickets++;
		}
		q.notify_all();
	}
	for (auto& th : ths)
		th.join();
	CHECK(taken == waiters * rounds);
	CHECK(tickets == 0);
	CHECK(q.generation() == static_cast<std::uint64_t>(waiters * rounds));
}

} // TEST_SUITE
