// SPDX-License-Identifier: GPL-2.0
//
// futex(2), and what a thread's end does with its futexes: the robust
// list (set_robust_list, get_robust_list; walked as Linux's
// exit_robust_list()).  The queues are the kernel's FutexTable
// (futex.hpp); here the operations are decoded, the words read and
// changed, and a wait is made interruptible.
//
// PI futexes (FUTEX_LOCK_PI, UNLOCK_PI, TRYLOCK_PI, WAIT_REQUEUE_PI,
// CMP_REQUEUE_PI, LOCK_PI2) are ENOSYS, as on a kernel built without
// them: the C library's PI mutexes fail with it, its other locks do
// not use them.
#include <linux/futex.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <climits>

#include "host/time.hpp"
#include "kernel.hpp"
#include "sys/handlers.hpp"
#include "task.hpp"

namespace guest {
namespace {

// Compare and exchange the word at addr: the value found.  Atomic in
// anonymous memory (the guest port's view of it, pinned for the change:
// another thread may unmap it meanwhile); in a file mapping a read and
// a write (Mm::write copies a private page first), which a guest thread
// racing on the same word could interleave with.
KResult<std::uint32_t> cmpxchg(Mm& mm, std::uint64_t addr, std::uint32_t old, std::uint32_t val)
{
	if (auto r = mm.check(addr, sizeof(std::uint32_t), true); !r)
		return kerr(r.error());
	if (auto pin = mm.pin(addr, sizeof(std::uint32_t), true)) {
		auto *w = reinterpret_cast<std::uint32_t *>(pin.bytes().data());
		std::atomic_ref<std::uint32_t>(*w).compare_exchange_strong(old, val);
		return old;
	}
	auto cur = mm.read_obj<std::uint32_t>(addr);
	if (!cur)
		return kerr(cur.error());
	if (*cur == old && !mm.write_obj(addr, val))
		return kerr(EFAULT);
	return *cur;
}

// FUTEX_WAKE_OP's operation on the word at addr: the old value.
KResult<std::uint32_t> atomic_op(Mm& mm, std::uint64_t addr, int op, std::uint32_t arg)
{
	for (;;) {
		auto old = mm.read_obj<std::uint32_t>(addr);
		if (!old)
			return kerr(old.error());
		std::uint32_t val;
		switch (op) {
		case FUTEX_OP_SET: val = arg; break;
		case FUTEX_OP_ADD: val = *old + arg; break;
		case FUTEX_OP_OR: val = *old | arg; break;
		case FUTEX_OP_ANDN: val = *old & ~arg; break;
		case FUTEX_OP_XOR: val = *old ^ arg; break;
		default: return kerr(ENOSYS);
		}
		auto seen = cmpxchg(mm, addr, *old, val);
		if (!seen)
			return kerr(seen.error());
		if (*seen == *old)
			return *old;
	}
}

bool op_cmp(int cmp, std::uint32_t old, std::uint32_t arg)
{
	auto o = static_cast<std::int32_t>(old), a = static_cast<std::int32_t>(arg);
	switch (cmp) {
	case FUTEX_OP_CMP_EQ: return o == a;
	case FUTEX_OP_CMP_NE: return o != a;
	case FUTEX_OP_CMP_LT: return o < a;
	case FUTEX_OP_CMP_LE: return o <= a;
	case FUTEX_OP_CMP_GT: return o > a;
	default: return o >= a;	// FUTEX_OP_CMP_GE
	}
}

// The deadline of a wait: timeout relative (FUTEX_WAIT, on
// CLOCK_MONOTONIC) or absolute (the BITSET ops, on CLOCK_MONOTONIC or,
// with FUTEX_CLOCK_REALTIME, the guest's wall clock).
KResult<Deadline> deadline_of(Task& t, std::uint64_t addr, bool absolute, bool realtime)
{
	if (!addr)
		return Deadline{};
	auto ts = t.mm().read_obj<struct timespec>(addr);
	if (!ts)
		return kerr(EFAULT);
	if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000)
		return kerr(EINVAL);
	using namespace std::chrono;
	auto d = seconds(ts->tv_sec) + nanoseconds(ts->tv_nsec);
	auto now = steady_clock::now();
	// Far enough to be forever, and no overflow.
	if (d > hours(24 * 365 * 100))
		return Deadline{};
	if (!absolute)
		return Deadline{now + d};
	if (!realtime)
		return Deadline{steady_clock::time_point(duration_cast<steady_clock::duration>(d))};
	struct timespec real = host::clock_gettime(CLOCK_REALTIME);
	auto guest_now = seconds(real.tv_sec) + nanoseconds(real.tv_nsec) +
			 nanoseconds(t.kernel().config().time_offset_ns);
	return Deadline{now + duration_cast<steady_clock::duration>(d - guest_now)};
}

SysResult futex_wait(Task& t, std::uint64_t addr, bool priv, std::uint32_t val,
		     std::uint32_t bitset, Deadline deadline)
{
	auto key = t.mm().futex_key(addr, priv);
	if (!key)
		return -key.error();
	long r = t.kernel().futexes().wait(t.waiter(), *key, bitset, deadline,
					   [&]() -> KResult<bool> {
		auto cur = t.mm().read_obj<std::uint32_t>(addr);
		if (!cur)
			return kerr(cur.error());
		return *cur == val;
	});
	if (r != -EINTR)
		return r;
	// Interrupted: restarted when no handler runs; with a timeout, Linux
	// restarts with the time left, and a handler gets EINTR whatever
	// its SA_RESTART (-ERESTART_RESTARTBLOCK): here the timeout starts
	// again, absolute ones are the same.
	return deadline ? SysResult::restart_nohand() : SysResult::restart_sys();
}

} // namespace

GUEST_SYSCALL(futex)
{
	std::uint64_t addr = a[0];
	int op = static_cast<int>(a[1]);
	auto val = static_cast<std::uint32_t>(a[2]);
	bool priv = op & FUTEX_PRIVATE_FLAG;
	bool realtime = op & FUTEX_CLOCK_REALTIME;
	int cmd = op & FUTEX_CMD_MASK;
	// FUTEX_CLOCK_REALTIME is for the waits (FUTEX_WAIT's timeout is
	// relative all the same).
	if (realtime && cmd != FUTEX_WAIT && cmd != FUTEX_WAIT_BITSET &&
	    cmd != FUTEX_WAIT_REQUEUE_PI && cmd != FUTEX_LOCK_PI2)
		return -ENOSYS;
	FutexTable& table = t.kernel().futexes();
	// FUTEX_REQUEUE's and CMP_REQUEUE's counts, and WAKE_OP's second, in
	// the timeout argument.
	auto val2 = static_cast<int>(static_cast<std::uint32_t>(a[3]));

	switch (cmd) {
	case FUTEX_WAIT:
	case FUTEX_WAIT_BITSET: {
		std::uint32_t bitset = cmd == FUTEX_WAIT ? FUTEX_BITSET_MATCH_ANY
							 : static_cast<std::uint32_t>(a[5]);
		if (!bitset)
			return -EINVAL;
		auto deadline = deadline_of(t, a[3], cmd == FUTEX_WAIT_BITSET, realtime);
		if (!deadline)
			return -deadline.error();
		return futex_wait(t, addr, priv, val, bitset, *deadline);
	}
	case FUTEX_WAKE:
	case FUTEX_WAKE_BITSET: {
		std::uint32_t bitset = cmd == FUTEX_WAKE ? FUTEX_BITSET_MATCH_ANY
							 : static_cast<std::uint32_t>(a[5]);
		if (!bitset)
			return -EINVAL;
		auto key = t.mm().futex_key(addr, priv);
		if (!key)
			return -key.error();
		return table.wake(*key, static_cast<int>(std::min<std::uint32_t>(val, INT_MAX)),
				  bitset);
	}
	case FUTEX_REQUEUE:
	case FUTEX_CMP_REQUEUE: {
		if (static_cast<int>(val) < 0 || val2 < 0)
			return -EINVAL;
		auto from = t.mm().futex_key(addr, priv);
		if (!from)
			return -from.error();
		auto to = t.mm().futex_key(a[4], priv);
		if (!to)
			return -to.error();
		auto expect = static_cast<std::uint32_t>(a[5]);
		FutexTable::Check check;
		if (cmd == FUTEX_CMP_REQUEUE)
			check = [&]() -> KResult<bool> {
				auto cur = t.mm().read_obj<std::uint32_t>(addr);
				if (!cur)
					return kerr(cur.error());
				return *cur == expect;
			};
		return sys_ret(table.requeue(*from, *to, static_cast<int>(val), val2, check));
	}
	case FUTEX_WAKE_OP: {
		auto key1 = t.mm().futex_key(addr, priv);
		if (!key1)
			return -key1.error();
		auto key2 = t.mm().futex_key(a[4], priv);
		if (!key2)
			return -key2.error();
		auto encoded = static_cast<std::uint32_t>(a[5]);
		int opcode = (encoded >> 28) & 7, cmp = (encoded >> 24) & 15;
		std::uint32_t oparg = (encoded >> 12) & 0xfff, cmparg = encoded & 0xfff;
		// Sign-extended, as Linux's sign_extend32(.., 11).
		if (oparg & 0x800)
			oparg |= 0xfffff000;
		if (cmparg & 0x800)
			cmparg |= 0xfffff000;
		// A shift out of range is masked, as Linux does (it also logs).
		if (encoded & (FUTEX_OP_OPARG_SHIFT << 28))
			oparg = 1u << (oparg & 31);
		if (cmp > FUTEX_OP_CMP_GE || opcode > FUTEX_OP_XOR)
			return -ENOSYS;
		return sys_ret(table.wake_op(*key1, *key2, static_cast<int>(val), val2,
					     [&]() -> KResult<bool> {
			auto old = atomic_op(t.mm(), a[4], opcode, oparg);
			if (!old)
				return kerr(old.error());
			return op_cmp(cmp, *old, cmparg);
		}));
	}
	case FUTEX_LOCK_PI:
	case FUTEX_LOCK_PI2:
	case FUTEX_UNLOCK_PI:
	case FUTEX_TRYLOCK_PI:
	case FUTEX_WAIT_REQUEUE_PI:
	case FUTEX_CMP_REQUEUE_PI:
		return -ENOSYS;
	default:
		return -ENOSYS;
	}
}

// --- the robust list --------------------------------------------------------

GUEST_SYSCALL(set_robust_list)
{
	if (a[1] != sizeof(struct robust_list_head))
		return -EINVAL;
	t.robust_list = a[0];
	t.robust_list_len = a[1];
	return 0;
}

GUEST_SYSCALL(get_robust_list)
{
	if (a[0] != 0 && static_cast<int>(a[0]) != t.tid)
		return -ESRCH;
	if (!t.mm().write_obj<std::uint64_t>(a[1], t.robust_list) ||
	    !t.mm().write_obj<std::uint64_t>(a[2], sizeof(struct robust_list_head)))
		return -EFAULT;
	return 0;
}

namespace {

// Linux's handle_futex_death(): the word at addr, if the dying thread
// tid owns it, gets FUTEX_OWNER_DIED, and a waiter is woken.
void futex_death(Task& t, std::uint64_t addr, bool pi, bool pending_op)
{
	Mm& mm = t.mm();
	if (addr % sizeof(std::uint32_t))
		return;
	for (;;) {
		auto val = mm.read_obj<std::uint32_t>(addr);
		if (!val)
			return;
		auto wake = [&] {
			if (auto key = mm.futex_key(addr, false))
				t.kernel().futexes().wake(*key, 1, FUTEX_BITSET_MATCH_ANY);
		};
		// Died between taking the lock's list entry and the lock: a
		// waiter may be waiting for a wake that would have come.
		if (pending_op && !pi && !*val) {
			wake();
			return;
		}
		if ((*val & FUTEX_TID_MASK) != static_cast<std::uint32_t>(t.tid))
			return;
		std::uint32_t nval = (*val & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
		auto seen = cmpxchg(mm, addr, *val, nval);
		if (!seen)
			return;
		if (*seen != *val)
			continue;	// changed meanwhile: again
		if (!pi && (*val & FUTEX_WAITERS))
			wake();
		return;
	}
}

} // namespace

void Kernel::exit_robust_list(Task& t)
{
	if (!t.robust_list)
		return;
	Mm& mm = t.mm();
	struct robust_list_head head;
	if (!mm.read(t.robust_list, std::as_writable_bytes(std::span(&head, 1))))
		return;
	// Each entry's low bit says PI.
	auto entry = reinterpret_cast<std::uint64_t>(head.list.next);
	auto pending = reinterpret_cast<std::uint64_t>(head.list_op_pending);
	const std::uint64_t list = t.robust_list;	// &head->list
	for (int limit = ROBUST_LIST_LIMIT; entry != list && limit-- > 0;) {
		std::uint64_t e = entry & ~std::uint64_t{1};
		auto next = mm.read_obj<std::uint64_t>(e);
		if (!next)
			break;
		if (e != (pending & ~std::uint64_t{1}))
			futex_death(t, e + static_cast<std::uint64_t>(head.futex_offset), entry & 1,
				    false);
		entry = *next;
		if ((entry & ~std::uint64_t{1}) == list)
			break;
	}
	if (pending)
		futex_death(t, (pending & ~std::uint64_t{1}) +
				       static_cast<std::uint64_t>(head.futex_offset),
			    pending & 1, true);
}

} // namespace guest
