// SPDX-License-Identifier: GPL-2.0
#include "host/time.hpp"

namespace guest::host {

struct timespec clock_gettime(clockid_t id) noexcept
{
	struct timespec ts{};
	(void)::clock_gettime(id, &ts);
	return ts;
}

struct timespec clock_getres(clockid_t id) noexcept
{
	struct timespec ts{};
	(void)::clock_getres(id, &ts);
	return ts;
}

KResult<void> clock_sleep_until(clockid_t id, const struct timespec& when)
{
	// clock_nanosleep returns the error rather than setting errno.
	if (int e = ::clock_nanosleep(id, TIMER_ABSTIME, &when, nullptr))
		return kerr(e);
	return {};
}

void sleep_own(std::int64_t ns) noexcept
{
	struct timespec now = clock_gettime(CLOCK_MONOTONIC);
	std::int64_t end = now.tv_sec * 1000000000 + now.tv_nsec + ns;
	struct timespec when{end / 1000000000, end % 1000000000};
	while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &when, nullptr) == EINTR) {
	}
}

} // namespace guest::host
