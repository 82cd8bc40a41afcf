// SPDX-License-Identifier: GPL-2.0
#include "futex.hpp"

#include <algorithm>

namespace guest {

long FutexTable::wait(Waiter& w, const FutexKey& key, std::uint32_t bitset, Deadline deadline,
		      const Check& check)
{
	if (!bitset)
		return -EINVAL;
	Entry e{&w, bitset, key};
	w.prepare();
	{
		std::lock_guard lock(lock_);
		auto same = check();
		if (!same)
			return -static_cast<long>(same.error());
		if (!*same)
			return -EAGAIN;
		queues_[key].push_back(&e);
	}
	for (;;) {
		Waiter::Wake why = w.block(deadline);
		std::lock_guard lock(lock_);
		// Woken under the lock: a wake that came first wins over a
		// signal or the deadline, as on Linux.
		if (e.woken)
			return 0;
		if (why == Waiter::Wake::notified)
			continue;	// a notification for an old wait
		auto it = queues_.find(e.key);
		it->second.remove(&e);
		if (it->second.empty())
			queues_.erase(it);
		return why == Waiter::Wake::timed_out ? -ETIMEDOUT : -EINTR;
	}
}

int FutexTable::wake_locked(const FutexKey& key, int n, std::uint32_t bitset)
{
	auto it = queues_.find(key);
	if (it == queues_.end())
		return 0;
	int woken = 0;
	auto& q = it->second;
	for (auto e = q.begin(); e != q.end() && woken < n;) {
		if (!((*e)->bitset & bitset)) {
			++e;
			continue;
		}
		(*e)->woken = true;
		(*e)->waiter->notify();
		e = q.erase(e);
		woken++;
	}
	if (q.empty())
		queues_.erase(it);
	return woken;
}

int FutexTable::wake(const FutexKey& key, int n, std::uint32_t bitset)
{
	if (!bitset)
		return -EINVAL;
	std::lock_guard lock(lock_);
	return wake_locked(key, n, bitset);
}

KResult<int> FutexTable::requeue(const FutexKey& from, const FutexKey& to, int nwake, int nmove,
				 const Check& check)
{
	std::lock_guard lock(lock_);
	if (check) {
		auto same = check();
		if (!same)
			return kerr(same.error());
		if (!*same)
			return kerr(EAGAIN);
	}
	int done = wake_locked(from, nwake, UINT32_MAX);
	auto it = queues_.find(from);
	if (it == queues_.end() || nmove <= 0 || from == to)
		return done;
	auto& src = it->second;
	auto& dst = queues_[to];
	while (!src.empty() && nmove-- > 0) {
		Entry *e = src.front();
		src.pop_front();
		e->key = to;
		dst.push_back(e);
		done++;
	}
	if (src.empty())
		queues_.erase(from);
	return done;
}

KResult<int> FutexTable::wake_op(const FutexKey& key1, const FutexKey& key2, int n1, int n2,
				 const Check& op)
{
	std::lock_guard lock(lock_);
	auto met = op();
	if (!met)
		return kerr(met.error());
	int woken = wake_locked(key1, n1, UINT32_MAX);
	if (*met)
		woken += wake_locked(key2, n2, UINT32_MAX);
	return woken;
}

std::size_t FutexTable::waiters(const FutexKey& key)
{
	std::lock_guard lock(lock_);
	auto it = queues_.find(key);
	return it == queues_.end() ? 0 : it->second.size();
}

} // namespace guest
