// SPDX-License-Identifier: GPL-2.0
//
// FutexTable and Waiter: waits that end by a wake (for a matching
// bitset, in arrival order), a changed word, a deadline or an
// interrupt; requeue and wake-op; and no wake lost between a waiter's
// check and its sleep when many threads race.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "futex.hpp"

using guest::Deadline;
using guest::FutexKey;
using guest::FutexTable;
using guest::KResult;
using guest::Waiter;
using namespace std::chrono_literals;

namespace {

FutexKey key(std::uint64_t addr)
{
	return {FutexKey::Kind::mm, 1, 0, addr};
}

FutexTable::Check same(const std::atomic<std::uint32_t>& word, std::uint32_t val)
{
	return [&word, val]() -> KResult<bool> { return word.load() == val; };
}

// Until n waiters are queued on k.
void until_queued(FutexTable& t, const FutexKey& k, std::size_t n)
{
	for (int i = 0; i < 5000 && t.waiters(k) < n; i++)
		std::this_thread::sleep_for(1ms);
	REQUIRE(t.waiters(k) == n);
}

} // namespace

TEST_SUITE("FutexTable") {

TEST_CASE("a changed word: EAGAIN, nothing queued")
{
	FutexTable t;
	Waiter w;
	std::atomic<std::uint32_t> word = 1;
	CHECK(t.wait(w, key(0x1000), ~0u, {}, same(word, 0)) == -EAGAIN);
	CHECK(t.waiters(key(0x1000)) == 0);
}

TEST_CASE("the check's error ends the wait with it")
{
	FutexTable t;
	Waiter w;
	auto fault = []() -> KResult<bool> { return guest::kerr(EFAULT); };
	CHECK(t.wait(w, key(0x1000), ~0u, {}, fault) == -EFAULT);
	CHECK(t.waiters(key(0x1000)) == 0);
}

TEST_CASE("bitset 0: EINVAL")
{
	FutexTable t;
	Waiter w;
	std::atomic<std::uint32_t> word = 0;
	CHECK(t.wait(w, key(0x1000), 0, {}, same(word, 0)) == -EINVAL);
	CHECK(t.wake(key(0x1000), 1, 0) == -EINVAL);
}

TEST_CASE("a wake ends a wait; a wake of another key does not")
{
	FutexTable t;
	Waiter w;
	std::atomic<std::uint32_t> word = 0;
	long r = 1;
	std::thread th([&] { r = t.wait(w, key(0x1000), ~0u, {}, same(word, 0)); });
	until_queued(t, key(0x1000), 1);
	CHECK(t.wake(key(0x2000), 1, ~0u) == 0);
	CHECK(t.wake(key(0x1000), 5, ~0u) == 1);
	th.join();
	CHECK(r == 0);
	CHECK(t.waiters(key(0x1000)) == 0);
}

TEST_CASE("WAKE_BITSET wakes the waiters whose bitset it meets")
{
	FutexTable t;
	Waiter w1, w2;
	std::atomic<std::uint32_t> word = 0;
	long r1 = 1, r2 = 1;
	std::thread a([&] { r1 = t.wait(w1, key(0x1000), 0x1, {}, same(word, 0)); });
	until_queued(t, key(0x1000), 1);
	std::thread b([&] { r2 = t.wait(w2, key(0x1000), 0x2, {}, same(word, 0)); });
	until_queued(t, key(0x1000), 2);
	CHECK(t.wake(key(0x1000), 10, 0x2) == 1);
	b.join();
	CHECK(r2 == 0);
	CHECK(t.waiters(key(0x1000)) == 1);
	CHECK(t.wake(key(0x1000), 10, 0x3) == 1);
	a.join();
	CHECK(r1 == 0);
}

TEST_CASE("waiters are woken in arrival order")
{
	FutexTable t;
	std::atomic<std::uint32_t> word = 0;
	constexpr int n = 4;
	Waiter w[n];
	std::atomic<int> order[n];
	std::atomic<int> next = 0;
	std::vector<std::thread> th;
	for (int i = 0; i < n; i++) {
		th.emplace_back([&, i] {
			if (t.wait(w[i], key(0x1000), ~0u, {}, same(word, 0)) == 0)
				order[i] = next++;
		});
		until_queued(t, key(0x1000), static_cast<std::size_t>(i + 1));
	}
	for (int i = 0; i < n; i++) {
		CHECK(t.wake(key(0x1000), 1, ~0u) == 1);
		while (next.load() == i)
			std::this_thread::sleep_for(1ms);
	}
	for (auto& x : th)
		x.join();
	for (int i = 0; i < n; i++)
		CHECK(order[i] == i);
}

TEST_CASE("a deadline: ETIMEDOUT, and the waiter is gone from the queue")
{
	FutexTable t;
	Waiter w;
	std::atomic<std::uint32_t> word = 0;
	auto start = std::chrono::steady_clock::now();
	CHECK(t.wait(w, key(0x1000), ~0u, Deadline{start + 30ms}, same(word, 0)) == -ETIMEDOUT);
	CHECK(std::chrono::steady_clock::now() - start >= 30ms);
	CHECK(t.waiters(key(0x1000)) == 0);
	CHECK(t.wake(key(0x1000), 1, ~0u) == 0);
}

TEST_CASE("an interrupt ends a wait with EINTR; one before the wait too")
{
	FutexTable t;
	Waiter w;
	std::atomic<std::uint32_t> word = 0;
	long r = 1;
	std::thread th([&] { r = t.wait(w, key(0x1000), ~0u, {}, same(word, 0)); });
	until_queued(t, key(0x1000), 1);
	w.interrupt();
	th.join();
	CHECK(r == -EINTR);
	CHECK(t.waiters(key(0x1000)) == 0);

	// Still in force (a signal not yet taken): the next wait ends at once.
	CHECK(t.wait(w, key(0x1000), ~0u, {}, same(word, 0)) == -EINTR);
	w.clear_interrupt();
	CHECK(t.wait(w, key(0x1000), ~0u, Deadline{std::chrono::steady_clock::now() + 5ms},
		      same(word, 0)) == -ETIMEDOUT);
}

TEST_CASE("REQUEUE wakes some, moves some; CMP_REQUEUE checks the word")
{
	FutexTable t;
	std::atomic<std::uint32_t> word = 0;
	constexpr int n = 3;
	Waiter w[n];
	std::atomic<int> woken = 0;
	std::vector<std::thread> th;
	for (int i = 0; i < n; i++)
		th.emplace_back([&, i] {
			if (t.wait(w[i], key(0x1000), ~0u, {}, same(word, 0)) == 0)
				woken++;
		});
	until_queued(t, key(0x1000), n);
	auto no = t.requeue(key(0x1000), key(0x2000), 1, 1, same(word, 7));
	REQUIRE(!no);
	CHECK(no.error() == EAGAIN);
	auto r = t.requeue(key(0x1000), key(0x2000), 1, 1, same(word, 0));
	REQUIRE(r);
	CHECK(*r == 2);
	CHECK(t.waiters(key(0x1000)) == 1);
	CHECK(t.waiters(key(0x2000)) == 1);
	// The moved waiter is woken by the new key only.
	CHECK(t.wake(key(0x2000), 10, ~0u) == 1);
	CHECK(t.wake(key(0x1000), 10, ~0u) == 1);
	for (auto& x : th)
		x.join();
	CHECK(woken == n);
}

TEST_CASE("WAKE_OP wakes the second key only when the comparison holds")
{
	FutexTable t;
	std::atomic<std::uint32_t> word = 0;
	Waiter w1, w2;
	long r1 = 1, r2 = 1;
	std::thread a([&] { r1 = t.wait(w1, key(0x1000), ~0u, {}, same(word, 0)); });
	std::thread b([&] { r2 = t.wait(w2, key(0x2000), ~0u, {}, same(word, 0)); });
	until_queued(t, key(0x1000), 1);
	until_queued(t, key(0x2000), 1);
	int ops = 0;
	auto no = t.wake_op(key(0x3000), key(0x2000), 1, 1, [&]() -> KResult<bool> {
		ops++;
		return false;
	});
	REQUIRE(no);
	CHECK(*no == 0);
	CHECK(t.waiters(key(0x2000)) == 1);
	auto yes = t.wake_op(key(0x1000), key(0x2000), 1, 1, [&]() -> KResult<bool> {
		ops++;
		return true;
	});
	REQUIRE(yes);
	CHECK(*yes == 2);
	a.join();
	b.join();
	CHECK(ops == 2);
	CHECK(r1 == 0);
	CHECK(r2 == 0);
}

TEST_CASE("many threads, a futex lock: no wake is lost")
{
	// A lock as the C library builds one (0 free, 1 taken, 2 taken with
	// waiters), on the table: if a wake slipped between a waiter's check
	// and its sleep, a thread would sleep forever and the test hang.
	FutexTable t;
	std::atomic<std::uint32_t> word = 0;
	long counter = 0;
	constexpr int n = 8, rounds = 2000;
	std::vector<std::thread> th;
	for (int i = 0; i < n; i++)
		th.emplace_back([&] {
			Waiter w;
			for (int k = 0; k < rounds; k++) {
				std::uint32_t c = 0;
				if (!word.compare_exchange_strong(c, 1)) {
					if (c != 2)
						c = word.exchange(2);
					while (c != 0) {
						t.wait(w, key(0x1000), ~0u, {}, same(word, 2));
						c = word.exchange(2);
					}
				}
				counter++;
				if (word.fetch_sub(1) != 1) {
					word = 0;
					t.wake(key(0x1000), 1, ~0u);
				}
			}
		});
	for (auto& x : th)
		x.join();
	CHECK(counter == n * rounds);
	CHECK(t.waiters(key(0x1000)) == 0);
}

}
