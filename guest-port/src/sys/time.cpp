// SPDX-License-Identifier: GPL-2.0
//
// The guest's clock: the host's, with the wall clock (CLOCK_REALTIME
// and the clocks that follow it) shifted by --time-offset.  Monotonic
// clocks are the host's.
#include <sys/time.h>
#include <time.h>

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
	clock_gettime(id, &ts);
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
	struct timespec ts;
	clock_getres(static_cast<clockid_t>(a[0]), &ts);
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

GUEST_SYSCALL(nanosleep)
{
	auto req = read_timespec(t, a[0]);
	if (!req)
		return -req.error();
	struct timespec rem{};
	if (::nanosleep(&*req, &rem) == 0)
		return 0;
	int e = errno;
	if (e == EINTR && a[1] && !t.mm().write_obj(a[1], rem))
		return -EFAULT;
	return -e;
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
	struct timespec when = *req;
	// An absolute guest time on a wall clock is another host time.
	if ((a[1] & TIMER_ABSTIME) && is_wall_clock(id))
		when = shift(when, -t.kernel().config().time_offset_ns);
	struct timespec rem{};
	int e = ::clock_nanosleep(id, static_cast<int>(a[1]), &when, &rem);
	if (e == EINTR && !(a[1] & TIMER_ABSTIME) && a[3] && !t.mm().write_obj(a[3], rem))
		return -EFAULT;
	return -e;
}

} // namespace guest
