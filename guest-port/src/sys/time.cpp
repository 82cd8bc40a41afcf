// SPDX-License-Identifier: GPL-2.0
//
// The guest's clock: the host's, with the wall clock (CLOCK_REALTIME
// and the clocks that follow it) shifted by --time-offset.  Monotonic
// clocks are the host's.
#include <signal.h>
#include <sys/time.h>
#include <time.h>

#include <algorithm>
#include <climits>

#include "host/time.hpp"
#include "kernel.hpp"
#include "sys/handlers.hpp"
#include "task.hpp"

namespace guest {
namespace {

constexpr std::int64_t ns_per_s = 1000000000;

// The clocks Linux has (posix-timers); negative ids (other processes'
// CPU clocks) are not the guest's to read.
bool valid_clock(std::uint64_t id)
{
	switch (static_cast<clockid_t>(id)) {
	case CLOCK_REALTIME:
	case CLOCK_MONOTONIC:
	case CLOCK_PROCESS_CPUTIME_ID:
	case CLOCK_THREAD_CPUTIME_ID:
	case CLOCK_MONOTONIC_RAW:
	case CLOCK_REALTIME_COARSE:
	case CLOCK_MONOTONIC_COARSE:
	case CLOCK_BOOTTIME:
	case CLOCK_REALTIME_ALARM:
	case CLOCK_BOOTTIME_ALARM:
	case CLOCK_TAI:
		return true;
	default:
		return false;
	}
}

bool is_wall_clock(clockid_t id)
{
	return id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE ||
	       id == CLOCK_REALTIME_ALARM || id == CLOCK_TAI;
}

struct timespec shift(struct timespec ts, std::int64_t ns)
{
	std::int64_t total = ts.tv_nsec + ns % ns_per_s;
	ts.tv_sec += ns / ns_per_s + total / ns_per_s;
	ts.tv_nsec = total % ns_per_s;
	if (ts.tv_nsec < 0) {
		ts.tv_nsec += ns_per_s;
		ts.tv_sec--;
	}
	return ts;
}

// The guest's time on clock id: the vDSO's, where it serves the clock.
struct timespec guest_now(Task& t, clockid_t id)
{
	struct timespec ts;
	if (auto ns = t.kernel().vdso().read_ns(id)) {
		ts.tv_sec = *ns / ns_per_s;
		ts.tv_nsec = *ns % ns_per_s;
		return ts;
	}
	ts = host::clock_gettime(id);
	if (is_wall_clock(id))
		ts = shift(ts, t.kernel().config().time_offset_ns);
	return ts;
}

KResult<struct timespec> read_timespec(Task& t, std::uint64_t addr)
{
	auto ts = t.mm().read_obj<struct timespec>(addr);
	if (!ts)
		return kerr(EFAULT);
	if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= ns_per_s)
		return kerr(EINVAL);
	return *ts;
}

} // namespace

GUEST_SYSCALL(clock_gettime)
{
	if (!valid_clock(a[0]))
		return -EINVAL;
	return sys_ret(t.mm().write_obj(a[1], guest_now(t, static_cast<clockid_t>(a[0]))));
}

GUEST_SYSCALL(clock_getres)
{
	if (!valid_clock(a[0]))
		return -EINVAL;
	struct timespec ts = host::clock_getres(static_cast<clockid_t>(a[0]));
	if (a[1] && !t.mm().write_obj(a[1], ts))
		return -EFAULT;
	return 0;
}

GUEST_SYSCALL(gettimeofday)
{
	if (a[0]) {
		struct timespec ts = guest_now(t, CLOCK_REALTIME);
		struct timeval tv{ts.tv_sec, ts.tv_nsec / 1000};
		if (!t.mm().write_obj(a[0], tv))
			return -EFAULT;
	}
	if (a[1]) {
		// The kernel's timezone is UTC, and nobody asks it anyway.
		struct timezone tz{0, 0};
		if (!t.mm().write_obj(a[1], tz))
			return -EFAULT;
	}
	return 0;
}

GUEST_SYSCALL(time)
{
	struct timespec ts = guest_now(t, CLOCK_REALTIME);
	if (a[0] && !t.mm().write_obj<std::int64_t>(a[0], ts.tv_sec))
		return -EFAULT;
	return ts.tv_sec;
}

namespace {

std::int64_t to_ns(const struct timespec& ts)
{
	// Past about 146 years: as good as for ever.
	if (ts.tv_sec > INT64_MAX / ns_per_s / 2)
		return INT64_MAX / 2;
	return ts.tv_sec * ns_per_s + ts.tv_nsec;
}

struct timespec to_timespec(std::int64_t ns)
{
	return {ns / ns_per_s, ns % ns_per_s};
}

std::int64_t host_now(clockid_t id)
{
	struct timespec ts = host::clock_gettime(id);
	return to_ns(ts);
}

SysResult sleep_restart(Task& t);

// Sleep until host time expires on clock id.  Broken by a signal: the
// time left goes to rmtp (if any) and the sleep goes on, when no handler
// runs, for what is left (SysResult::restart_block(), as Linux's
// hrtimer_nanosleep()).
SysResult sleep_until(Task& t, clockid_t id, std::int64_t expires, std::uint64_t rmtp)
{
	auto slept = host::clock_sleep_until(id, to_timespec(expires));
	int e = slept ? 0 : slept.error();
	if (e != EINTR)
		return -e;
	if (rmtp) {
		std::int64_t left = std::max<std::int64_t>(expires - host_now(id), 0);
		if (!t.mm().write_obj(rmtp, to_timespec(left)))
			return -EFAULT;
	}
	t.restart_block = {sleep_restart, id, expires, rmtp};
	return SysResult::restart_block();
}

SysResult sleep_restart(Task& t)
{
	const auto& b = t.restart_block;
	return sleep_until(t, b.clock, b.expires, b.rmtp);
}

} // namespace

GUEST_SYSCALL(nanosleep)
{
	auto req = read_timespec(t, a[0]);
	if (!req)
		return -req.error();
	return sleep_until(t, CLOCK_MONOTONIC, host_now(CLOCK_MONOTONIC) + to_ns(*req), a[1]);
}

GUEST_SYSCALL(clock_nanosleep)
{
	auto id = static_cast<clockid_t>(a[0]);
	if (!valid_clock(a[0]) || id == CLOCK_THREAD_CPUTIME_ID)
		return -EINVAL;
	if (a[1] & ~std::uint64_t{TIMER_ABSTIME})
		return -EINVAL;
	auto req = read_timespec(t, a[2]);
	if (!req)
		return -req.error();
	if (!(a[1] & TIMER_ABSTIME))
		return sleep_until(t, id, host_now(id) + to_ns(*req), a[3]);
	// An absolute guest time on a wall clock is another host time.
	struct timespec when = *req;
	if (is_wall_clock(id))
		when = shift(when, -t.kernel().config().time_offset_ns);
	// Broken by a signal: the same call again, when no handler runs.
	auto slept = host::clock_sleep_until(id, when);
	int e = slept ? 0 : slept.error();
	return e == EINTR ? SysResult::restart_nohand() : -e;
}

GUEST_SYSCALL(restart_syscall)
{
	(void)a;
	// Nothing to go on with (a handler ran since; the guest made the
	// call itself): EINTR, as Linux's do_no_restart_syscall().
	auto fn = t.restart_block.fn;
	t.restart_block.fn = nullptr;
	return fn ? fn(t) : SysResult::eintr();
}

// --- timers -----------------------------------------------------------------------

namespace {

struct GuestItimerval {
	struct timeval interval, value;
};

struct GuestItimerspec {
	struct timespec interval, value;
};

// The kernel's struct sigevent on x86-64.
struct GuestSigevent {
	std::uint64_t value;
	std::int32_t signo, notify;
	std::int32_t tid;
	std::int32_t pad[11];
};
static_assert(sizeof(GuestSigevent) == 64);

constexpr int sigev_thread_id = 4;	// the kernel's SIGEV_THREAD_ID

bool timeval_valid(const struct timeval& tv)
{
	return tv.tv_sec >= 0 && tv.tv_usec >= 0 && tv.tv_usec < 1000000;
}

std::int64_t tv_ns(const struct timeval& tv)
{
	return to_ns({tv.tv_sec, tv.tv_usec * 1000});
}

struct timeval ns_tv(std::int64_t ns)
{
	return {ns / ns_per_s, ns % ns_per_s / 1000};
}

// The clocks a POSIX timer may run on here.
bool timer_clock(std::uint64_t id)
{
	return id == CLOCK_REALTIME || id == CLOCK_MONOTONIC || id == CLOCK_BOOTTIME;
}

} // namespace

GUEST_SYSCALL(getitimer)
{
	if (a[0] != ITIMER_REAL)
		return -EINVAL;
	auto v = t.kernel().set_itimer(t, nullptr);
	return sys_ret(t.mm().write_obj(a[1], GuestItimerval{ns_tv(v.interval), ns_tv(v.value)}));
}

GUEST_SYSCALL(setitimer)
{
	// ITIMER_VIRTUAL and ITIMER_PROF count the guest's CPU time,
	// which the guest port does not: EINVAL.
	if (a[0] != ITIMER_REAL)
		return -EINVAL;
	// No new value disarms, as Linux lets old programs do.
	GuestItimerval nv{};
	if (a[1]) {
		auto v = t.mm().read_obj<GuestItimerval>(a[1]);
		if (!v)
			return -EFAULT;
		if (!timeval_valid(v->value) || !timeval_valid(v->interval))
			return -EINVAL;
		nv = *v;
	}
	Kernel::TimerValue set{tv_ns(nv.value), tv_ns(nv.interval)};
	auto old = t.kernel().set_itimer(t, &set);
	if (a[2] && !t.mm().write_obj(a[2], GuestItimerval{ns_tv(old.interval), ns_tv(old.value)}))
		return -EFAULT;
	return 0;
}

GUEST_SYSCALL(alarm)
{
	auto seconds = static_cast<std::int64_t>(static_cast<unsigned>(a[0]));
	Kernel::TimerValue set{seconds * ns_per_s, 0};
	auto old = t.kernel().set_itimer(t, &set);
	// Never 0 for an alarm still to come, and rounded to the nearest
	// second (Linux's alarm_setitimer()).
	std::int64_t sec = old.value / ns_per_s, ns = old.value % ns_per_s;
	if ((!sec && ns) || ns >= ns_per_s / 2)
		sec++;
	return sec;
}

GUEST_SYSCALL(timer_create)
{
	if (!timer_clock(a[0]))
		return -EINVAL;
	GuestTimer how;
	how.clock = static_cast<int>(a[0]);
	how.notify = SIGEV_SIGNAL;
	how.signo = SIGALRM;
	bool value_is_id = true;
	if (a[1]) {
		auto ev = t.mm().read_obj<GuestSigevent>(a[1]);
		if (!ev)
			return -EFAULT;
		switch (ev->notify) {
		case SIGEV_SIGNAL | sigev_thread_id:
			// A thread of the caller's process (timer_create()
			// checks it): EINVAL otherwise.
			how.tid = ev->tid;
			if (how.tid <= 0)
				return -EINVAL;
			[[fallthrough]];
		case SIGEV_SIGNAL:
		case SIGEV_THREAD:
			if (ev->signo <= 0 || ev->signo > nsig)
				return -EINVAL;
			break;
		case SIGEV_NONE:
			break;
		default:
			return -EINVAL;
		}
		how.notify = ev->notify == SIGEV_NONE ? SIGEV_NONE : SIGEV_SIGNAL;
		how.signo = ev->signo;
		how.value = ev->value;
		value_is_id = false;
	}
	auto id = t.kernel().timer_create(t, how, value_is_id);
	if (!id)
		return -id.error();
	if (!t.mm().write_obj<int>(a[2], *id)) {
		(void)t.kernel().timer_delete(t, *id);
		return -EFAULT;
	}
	return 0;
}

GUEST_SYSCALL(timer_settime)
{
	if (a[1] & ~std::uint64_t{TIMER_ABSTIME})
		return -EINVAL;
	auto v = t.mm().read_obj<GuestItimerspec>(a[2]);
	if (!v)
		return -EFAULT;
	auto valid = [](const struct timespec& ts) {
		return ts.tv_sec >= 0 && ts.tv_nsec >= 0 && ts.tv_nsec < ns_per_s;
	};
	if (!valid(v->value) || !valid(v->interval))
		return -EINVAL;
	Kernel::TimerValue set{to_ns(v->value), to_ns(v->interval)};
	auto old = t.kernel().timer_settime(t, static_cast<int>(a[0]), &set, a[1] & TIMER_ABSTIME);
	if (!old)
		return -old.error();
	if (a[3] && !t.mm().write_obj(a[3], GuestItimerspec{to_timespec(old->interval),
							     to_timespec(old->value)}))
		return -EFAULT;
	return 0;
}

GUEST_SYSCALL(timer_gettime)
{
	auto v = t.kernel().timer_settime(t, static_cast<int>(a[0]), nullptr, false);
	if (!v)
		return -v.error();
	return sys_ret(t.mm().write_obj(a[1], GuestItimerspec{to_timespec(v->interval),
							       to_timespec(v->value)}));
}

GUEST_SYSCALL(timer_getoverrun)
{
	return sys_ret(t.kernel().timer_getoverrun(t, static_cast<int>(a[0])));
}

GUEST_SYSCALL(timer_delete)
{
	return sys_ret(t.kernel().timer_delete(t, static_cast<int>(a[0])));
}

} // namespace guest
