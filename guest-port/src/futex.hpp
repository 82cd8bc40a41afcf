// SPDX-License-Identifier: GPL-2.0
//
// FutexTable: the guest's futexes (Linux's futex hash), one for the
// whole guest, for a shared futex is one across processes.  Waiters
// queue by FutexKey (Mm::futex_key(): the Mm and address of a private
// word, the memory of a shared one), in arrival order, each with its
// bitset.  The guest's word is read, and for WAKE_OP and CMP_REQUEUE
// changed or compared, under the table's lock, by callbacks the caller
// gives: a waker that changes the word and then wakes under the same
// lock cannot slip between a waiter's check and its sleep.
//
// Locks: lock_ is taken before an Mm's lock (the callbacks read guest
// memory) and before a Waiter's; nothing is taken before it but the
// callers' own locks that no futex path takes again.
//
// PI futexes (LOCK_PI, UNLOCK_PI, TRYLOCK_PI, WAIT_REQUEUE_PI,
// CMP_REQUEUE_PI, LOCK_PI2) are not here: the system call says ENOSYS.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <mutex>

#include "common.hpp"
#include "mm/mm.hpp"
#include "wait.hpp"

namespace guest {

class FutexTable {
public:
	// Whether the word still holds what the waiter expects; an error
	// (EFAULT) ends the call with it.
	using Check = std::function<KResult<bool>()>;

	// FUTEX_WAIT, FUTEX_WAIT_BITSET: w sleeps on key while check()
	// says the word is unchanged, until a wake for a bit of bitset,
	// an interrupt of w, or deadline.  0 when woken; -EAGAIN (the word
	// changed), -ETIMEDOUT, -EINTR (interrupted: the caller restarts or
	// fails the call), or check()'s error.
	long wait(Waiter& w, const FutexKey& key, std::uint32_t bitset, Deadline deadline,
		  const Check& check);

	// FUTEX_WAKE, FUTEX_WAKE_BITSET: up to n waiters of key whose bitset
	// meets bitset.  The number woken.
	int wake(const FutexKey& key, int n, std::uint32_t bitset);

	// FUTEX_REQUEUE, FUTEX_CMP_REQUEUE: wake up to nwake waiters of
	// from, move up to nmove of the rest to to.  The number woken and
	// moved.  check (CMP_REQUEUE; null for REQUEUE) false: EAGAIN.
	KResult<int> requeue(const FutexKey& from, const FutexKey& to, int nwake, int nmove,
			     const Check& check);

	// FUTEX_WAKE_OP: op() changes the second word and says whether its
	// old value meets the comparison; then up to n1 waiters of key1 are
	// woken and, if it did, up to n2 of key2.  The number woken.
	KResult<int> wake_op(const FutexKey& key1, const FutexKey& key2, int n1, int n2,
			     const Check& op);

	// Waiters queued on key (for tests and --stats).
	[[nodiscard]] std::size_t waiters(const FutexKey& key);

private:
	struct Entry {
		Waiter *waiter;
		std::uint32_t bitset;
		FutexKey key;		// lock_; requeue changes it
		bool woken = false;	// lock_
	};
	int wake_locked(const FutexKey& key, int n, std::uint32_t bitset);

	std::mutex lock_;
	std::map<FutexKey, std::list<Entry *>> queues_;	// lock_
};

} // namespace guest
