// SPDX-License-Identifier: GPL-2.0
//
// host::  unpriv-run's own process as the host sees it: its ids, limits
// and umask, which the first guest process starts from, and the host's
// randomness.
//
// EINTR: getrandom() may wait (for the entropy pool, without
// GRND_NONBLOCK) on the guest's behalf, and returns EINTR for the run
// loop to resolve.  The others do not wait.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <cstddef>
#include <span>
#include <vector>

#include "common.hpp"

namespace guest::host {

[[nodiscard]] pid_t getpid() noexcept;
[[nodiscard]] uid_t getuid() noexcept;
[[nodiscard]] gid_t getgid() noexcept;
void getresuid(uid_t *r, uid_t *e, uid_t *s) noexcept;
void getresgid(gid_t *r, gid_t *e, gid_t *s) noexcept;
// The supplementary groups.
[[nodiscard]] std::vector<gid_t> getgroups();
// The limit of resource (RLIMIT_*); unlimited if the host has none.
[[nodiscard]] struct rlimit getrlimit(int resource) noexcept;
// Set the umask; the old one.
mode_t umask(mode_t mask) noexcept;
// getrandom(2) into buf: the bytes got.
KResult<std::size_t> getrandom(std::span<std::byte> buf, unsigned flags);

} // namespace guest::host
