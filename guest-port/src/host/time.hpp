// SPDX-License-Identifier: GPL-2.0
//
// host::  the host's clocks, and sleeping on them.
//
// EINTR: clock_sleep_until() sleeps for the guest, and returns EINTR
// for the run loop to resolve; sleep_own() is the guest port's own
// wait, and goes on sleeping.
#pragma once

#include <time.h>

#include <cstdint>

#include "common.hpp"

namespace guest::host {

// clock_gettime(2), clock_getres(2): zero for a clock the host has not
// (the guest's calls check their clock ids first).
[[nodiscard]] struct timespec clock_gettime(clockid_t id) noexcept;
[[nodiscard]] struct timespec clock_getres(clockid_t id) noexcept;
// Sleep until when on clock id, a host time (TIMER_ABSTIME).
KResult<void> clock_sleep_until(clockid_t id, const struct timespec& when);
// Sleep for ns on CLOCK_MONOTONIC, whatever breaks it.
void sleep_own(std::int64_t ns) noexcept;

} // namespace guest::host
