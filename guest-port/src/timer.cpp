// SPDX-License-Identifier: GPL-2.0
//
// Timers: the interval timer ITIMER_REAL (setitimer, alarm) and the
// POSIX timers (timer_create) of each process, Linux's itimer.c and
// posix-timers.c.  One host thread expires them all: it sleeps until the
// next expiry (or until a timer changes) and sends each expired timer's
// signal through the pending-signal path, which interrupts the process
// wherever it is.  Under tasks_lock_, as the signals are.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <climits>

#include "host/time.hpp"
#include "kernel.hpp"

namespace guest {
namespace {

constexpr std::int64_t ns_per_s = 1000000000;
constexpr std::int64_t tick_ns = ns_per_s / 250;	// Debian's HZ

} // namespace

std::int64_t Kernel::monotonic_now() noexcept
{
	struct timespec ts = host::clock_gettime(CLOCK_MONOTONIC);
	return ts.tv_sec * ns_per_s + ts.tv_nsec;
}

// A CLOCK_REALTIME time is the guest's wall clock (the host's, moved by
// --time-offset); the others run with the host's CLOCK_MONOTONIC.
std::int64_t Kernel::to_monotonic(int clock, std::int64_t guest_ns) const noexcept
{
	if (clock != CLOCK_REALTIME)
		return guest_ns;
	struct timespec ts = host::clock_gettime(CLOCK_REALTIME);
	std::int64_t real = ts.tv_sec * ns_per_s + ts.tv_nsec + config_.time_offset_ns;
	return monotonic_now() + (guest_ns - real);
}

void Kernel::timer_main()
{
	std::unique_lock lock(tasks_lock_);
	while (!timers_done_) {
		std::int64_t now = monotonic_now();
		std::int64_t next = LLONG_MAX;
		for (auto& [pid, p] : procs_) {
			auto expire = [&](GuestTimer& tm, int id) {
				if (tm.expires && tm.expires <= now)
					fire_locked(*p, tm, id, now);
				if (tm.expires)
					next = std::min(next, tm.expires);
			};
			expire(p->real_timer, -1);
			for (auto& [id, tm] : p->timers)
				expire(tm, id);
		}
		if (next == LLONG_MAX) {
			timers_changed_.wait(lock);
		} else {
			std::chrono::steady_clock::time_point until{std::chrono::nanoseconds(next)};
			timers_changed_.wait_until(lock, until);
		}
	}
}

// Timer tm of p (id: a POSIX timer's, -1 for ITIMER_REAL) has expired:
// its next expiry, and its signal, or an overrun more when the last one
// is still pending (Linux counts the periods missed too).
void Kernel::fire_locked(Process& p, GuestTimer& tm, int id, std::int64_t now)
{
	int missed = 0;
	if (tm.interval) {
		// An interval shorter than a tick goes on a tick ahead, its
		// expiries in between overruns, as Linux's posix_timer_fn():
		// a guest cannot make this thread spin.
		std::int64_t from = tm.interval < tick_ns ? now + tick_ns : now;
		std::int64_t n = (from - tm.expires) / tm.interval;
		missed = static_cast<int>(std::min<std::int64_t>(n, INT_MAX));
		tm.expires += (n + 1) * tm.interval;
	} else {
		tm.expires = 0;
	}
	if (id < 0) {
		// it_real_fn(): SIGALRM from the kernel.
		signal_locked(p, SIGALRM);
		return;
	}
	if (tm.notify == SIGEV_NONE)
		return;
	if (tm.queued) {
		tm.overrun = static_cast<int>(
			std::min<std::int64_t>(std::int64_t{tm.overrun} + 1 + missed, INT_MAX));
		return;
	}
	SigInfo info;
	info.signo = tm.signo;
	info.code = SI_TIMER;
	info.f.timer.tid = id;
	info.f.timer.value = tm.value;
	tm.overrun = missed;
	if (tm.tid) {
		// SIGEV_THREAD_ID: for that thread alone; none once it is
		// gone (its tid may be another's by then: not of p).
		Task *to = find_task_locked(p.pid, tm.tid);
		tm.queued = to && signal_locked(*to, info, 0);
	} else {
		tm.queued = signal_locked(p, info, 0);
	}
}

namespace {

// What timer_gettime and getitimer say of tm at now.
Kernel::TimerValue timer_value(const GuestTimer& tm, std::int64_t now)
{
	if (!tm.expires)
		return {0, tm.interval};
	// Due and not yet expired by the timer thread: a nanosecond.
	return {std::max<std::int64_t>(tm.expires - now, 1), tm.interval};
}

} // namespace

Kernel::TimerValue Kernel::set_itimer(Task& t, const TimerValue *v)
{
	Process& p = t.process();
	std::lock_guard lock(tasks_lock_);
	std::int64_t now = monotonic_now();
	TimerValue old = timer_value(p.real_timer, now);
	if (v) {
		p.real_timer.expires = v->value ? now + v->value : 0;
		p.real_timer.interval = v->value ? v->interval : 0;
		timers_changed_.notify_all();
	}
	return old;
}

KResult<int> Kernel::timer_create(Task& t, const GuestTimer& how, bool value_is_id)
{
	Process& p = t.process();
	std::lock_guard lock(tasks_lock_);
	// Each timer holds a queued signal's room (Linux preallocates
	// its sigqueue): RLIMIT_SIGPENDING bounds them.
	if (p.timers.size() >= p.rlimits[RLIMIT_SIGPENDING].rlim_cur)
		return kerr(EAGAIN);
	// SIGEV_THREAD_ID: a thread of the caller's process (Linux's
	// good_sigevent()).
	if (how.tid && !find_task_locked(p.pid, how.tid))
		return kerr(EINVAL);
	int id = p.next_timer_id;
	while (p.timers.count(id))
		id = (id + 1) & INT_MAX;
	p.next_timer_id = (id + 1) & INT_MAX;
	GuestTimer tm = how;
	tm.expires = tm.interval = 0;
	if (value_is_id)
		tm.value = static_cast<std::uint64_t>(id);
	p.timers.emplace(id, tm);
	return id;
}

KResult<Kernel::TimerValue> Kernel::timer_settime(Task& t, int id, const TimerValue *v, bool abs)
{
	Process& p = t.process();
	std::lock_guard lock(tasks_lock_);
	auto it = p.timers.find(id);
	if (it == p.timers.end())
		return kerr(EINVAL);
	GuestTimer& tm = it->second;
	std::int64_t now = monotonic_now();
	TimerValue old = timer_value(tm, now);
	if (v) {
		// Set again: the overruns of the old setting are forgotten.
		tm.last_overrun = tm.overrun = 0;
		tm.interval = v->value ? v->interval : 0;
		if (!v->value)
			tm.expires = 0;
		else if (abs)
			tm.expires = std::max<std::int64_t>(to_monotonic(tm.clock, v->value), 1);
		else
			tm.expires = now + v->value;
		timers_changed_.notify_all();
	}
	return old;
}

KResult<int> Kernel::timer_getoverrun(Task& t, int id)
{
	Process& p = t.process();
	std::lock_guard lock(tasks_lock_);
	auto it = p.timers.find(id);
	if (it == p.timers.end())
		return kerr(EINVAL);
	return it->second.last_overrun;
}

KResult<void> Kernel::timer_delete(Task& t, int id)
{
	Process& p = t.process();
	std::lock_guard lock(tasks_lock_);
	auto it = p.timers.find(id);
	if (it == p.timers.end())
		return kerr(EINVAL);
	// Its pending signal goes with it (Linux's sigqueue_free()).
	if (it->second.queued) {
		p.pending.remove_timer(id);
		for (Task *o : p.tasks)
			o->pending.remove_timer(id);
	}
	p.timers.erase(it);
	return {};
}

} // namespace guest
