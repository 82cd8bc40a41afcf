// SPDX-License-Identifier: GPL-2.0
//
// CpuScheduler: at most N threads hold a token, waiters get theirs in
// arrival order, a holder is kicked when its slice ends while others
// wait (and not when nobody waits), an interrupted waiter leaves the
// queue without a token, and no token is lost or doubled when many
// threads race for few.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "sched.hpp"

using guest::CpuScheduler;
using guest::Waiter;
using namespace std::chrono_literals;

namespace {

// A guest thread as the scheduler sees it: a Waiter and a kick that
// counts.
struct Thread {
	Waiter waiter;
	std::atomic<int> kicks = 0;
	CpuScheduler::Slot slot{waiter, [this] { kicks++; }};
};

void until_queued(CpuScheduler& s, std::size_t n)
{
	for (int i = 0; i < 5000 && s.queued() < n; i++)
		std::this_thread::sleep_for(1ms);
	REQUIRE(s.queued() == n);
}

} // namespace

TEST_SUITE("CpuScheduler") {

TEST_CASE("N tokens: the N+1st waits for one to be given back")
{
	CpuScheduler s(2, 1h);
	Thread a, b, c;
	REQUIRE(s.acquire(a.slot));
	REQUIRE(s.acquire(b.slot));
	CHECK(s.running() == 2);
	std::atomic<bool> got = false;
	std::thread th([&] {
		got = s.acquire(c.slot);
	});
	until_queued(s, 1);
	std::this_thread::sleep_for(20ms);
	CHECK_FALSE(got);
	s.release(a.slot);
	th.join();
	CHECK(got);
	CHECK(s.running() == 2);
	CHECK(s.queued() == 0);
	s.release(b.slot);
	s.release(c.slot);
	CHECK(s.running() == 0);
	CHECK(s.stats().waits == 1);
}

TEST_CASE("--cpus is 1 to 64")
{
	CHECK(CpuScheduler(0).cpus() == 1);
	CHECK(CpuScheduler(1000).cpus() == CpuScheduler::max_cpus);
}

TEST_CASE("waiters get the token first come, first served")
{
	CpuScheduler s(1, 1h);
	Thread holder;
	REQUIRE(s.acquire(holder.slot));
	constexpr int n = 5;
	std::vector<std::unique_ptr<Thread>> ts;
	std::vector<std::thread> ths;
	std::mutex m;
	std::vector<int> order;
	for (int i = 0; i < n; i++) {
		ts.push_back(std::make_unique<Thread>());
		ths.emplace_back([&, i] {
			REQUIRE(s.acquire(ts[i]->slot));
			{
				std::lock_guard lock(m);
				order.push_back(i);
			}
			s.release(ts[i]->slot);
		});
		until_queued(s, static_cast<std::size_t>(i) + 1);
	}
	s.release(holder.slot);
	for (auto& th : ths)
		th.join();
	CHECK(order == std::vector<int>{0, 1, 2, 3, 4});
	CHECK(s.running() == 0);
}

TEST_CASE("a holder is kicked once its slice ends while another waits")
{
	CpuScheduler s(1, 30ms);
	Thread holder, waiter;
	auto start = std::chrono::steady_clock::now();
	REQUIRE(s.acquire(holder.slot));
	std::atomic<bool> got = false;
	std::thread th([&] {
		got = s.acquire(waiter.slot);
	});
	// The holder "runs" until kicked, then gives its token back, as
	// the run loop does at the exit a kick makes.
	while (!holder.kicks)
		std::this_thread::sleep_for(1ms);
	auto kicked_after = std::chrono::steady_clock::now() - start;
	CHECK(kicked_after >= 30ms);
	CHECK(kicked_after < 2s);
	CHECK_FALSE(got);
	s.release(holder.slot);
	th.join();
	CHECK(got);
	CHECK(holder.kicks == 1);	// once a slice, however long the exit takes
	CHECK(s.stats().preemptions == 1);
	s.release(waiter.slot);
}

TEST_CASE("nobody waits: no kick, however long the slice")
{
	CpuScheduler s(1, 5ms);
	Thread holder;
	REQUIRE(s.acquire(holder.slot));
	std::this_thread::sleep_for(50ms);
	CHECK(holder.kicks == 0);
	s.release(holder.slot);
	// Given back and taken again: a new slice, no kick either.
	REQUIRE(s.acquire(holder.slot));
	CHECK(holder.kicks == 0);
	s.release(holder.slot);
	CHECK(s.stats().preemptions == 0);
	CHECK(s.stats().waits == 0);
}

TEST_CASE("each holder in its turn: two spinners on one CPU both run")
{
	CpuScheduler s(1, 5ms);
	Thread t[2];
	std::atomic<int> runs[2] = {0, 0};
	std::atomic<bool> stop = false;
	auto spin = [&](int i) {
		while (!stop) {
			// A kick is for the slice it comes in, however soon:
			// counted from before the token is taken, as a vcpu's
			// kick() before its run() ends that run at once.
			int k = t[i].kicks;
			if (!s.acquire(t[i].slot))
				continue;
			runs[i]++;
			// Spin "in the guest" until kicked.
			while (t[i].kicks == k && !stop)
				std::this_thread::yield();
			s.release(t[i].slot);
		}
	};
	std::thread a(spin, 0), b(spin, 1);
	for (int i = 0; i < 5000 && (runs[0] < 5 || runs[1] < 5); i++)
		std::this_thread::sleep_for(1ms);
	stop = true;
	a.join();
	b.join();
	CHECK(runs[0] >= 5);
	CHECK(runs[1] >= 5);
}

TEST_CASE("an exit that cannot block keeps the token, until another waits past the slice")
{
	using std::chrono::steady_clock;
	CpuScheduler s(1, 200ms);
	Thread holder, waiter;
	auto start = steady_clock::now();
	REQUIRE(s.acquire(holder.slot));
	// Nobody waits: kept, and taken again at once.
	s.exit(holder.slot, true);
	CHECK(s.running() == 1);
	REQUIRE(s.acquire(holder.slot));
	CHECK(s.stats().waits == 0);
	std::atomic<bool> got = false;
	std::thread th([&] {
		got = s.acquire(waiter.slot);
		if (got)
			s.release(waiter.slot);
	});
	until_queued(s, 1);
	// Another waits, but the slice lasts: still kept (unless this
	// host was too busy to get here within it).
	s.exit(holder.slot, true);
	const bool in_slice = steady_clock::now() - start < 150ms;
	if (in_slice) {
		CHECK(s.queued() == 1);
		CHECK_FALSE(got);
		REQUIRE(s.acquire(holder.slot));
		// The slice ends: the waiter kicks the holder, whose next
		// exit gives the token back however harmless.
		while (!holder.kicks)
			std::this_thread::sleep_for(1ms);
		s.exit(holder.slot, true);
	}
	s.release(holder.slot);	// if it still has it: the waiter's turn
	th.join();
	CHECK(got);
	CHECK(s.running() == 0);
	// An exit that may block gives it back at once; release() of a
	// thread that holds none does nothing.
	REQUIRE(s.acquire(holder.slot));
	s.exit(holder.slot, false);
	CHECK(s.running() == 0);
	s.release(holder.slot);
	CHECK(s.running() == 0);
	REQUIRE(s.acquire(waiter.slot));
	s.release(waiter.slot);
}

TEST_CASE("an interrupted waiter leaves the queue without a token")
{
	CpuScheduler s(1, 1h);
	Thread holder, first, second;
	REQUIRE(s.acquire(holder.slot));
	std::atomic<int> first_got = -1, second_got = -1;
	std::thread a([&] { first_got = s.acquire(first.slot); });
	until_queued(s, 1);
	std::thread b([&] { second_got = s.acquire(second.slot); });
	until_queued(s, 2);
	first.waiter.interrupt();
	a.join();
	CHECK(first_got == 0);
	CHECK(s.queued() == 1);
	s.release(holder.slot);
	b.join();
	CHECK(second_got == 1);
	s.release(second.slot);
	CHECK(s.running() == 0);
	CHECK(s.queued() == 0);
}

TEST_CASE("many threads, few tokens: never more than N hold one")
{
	constexpr unsigned cpus = 3;
	CpuScheduler s(cpus, 1ms);
	constexpr int n = 8, rounds = 300;
	std::vector<std::unique_ptr<Thread>> ts;
	for (int i = 0; i < n; i++)
		ts.push_back(std::make_unique<Thread>());
	std::atomic<int> inside = 0, most = 0;
	std::vector<std::thread> ths;
	for (int i = 0; i < n; i++)
		ths.emplace_back([&, i] {
			for (int r = 0; r < rounds; r++) {
				// Some rounds are interrupted on the way.
				if (r % 7 == 0)
					ts[i]->waiter.interrupt();
				if (!s.acquire(ts[i]->slot)) {
					ts[i]->waiter.clear_interrupt();
					continue;
				}
				ts[i]->waiter.clear_interrupt();
				int now = ++inside;
				int m = most;
				while (now > m && !most.compare_exchange_weak(m, now))
					;
				std::this_thread::yield();
				inside--;
				s.release(ts[i]->slot);
			}
		});
	for (auto& th : ths)
		th.join();
	CHECK(most <= static_cast<int>(cpus));
	CHECK(most >= 1);
	CHECK(s.running() == 0);
	CHECK(s.queued() == 0);
}

} // TEST_SUITE
