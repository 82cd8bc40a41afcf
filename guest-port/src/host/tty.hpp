// SPDX-License-Identifier: GPL-2.0
//
// host::  the host terminals the guest port was handed: what they are
// and whose their foreground is.  The guest's own terminal ioctls go
// through host::ioctl() (host/io.hpp).  None of these wait.
#pragma once

#include <sys/types.h>
#include <termios.h>

#include "common.hpp"

namespace guest::host {

[[nodiscard]] bool isatty(int fd) noexcept;
KResult<struct termios> tcgetattr(int fd);
// The terminal's foreground process group.
KResult<pid_t> tcgetpgrp(int fd);
// unpriv-run's own process group.
[[nodiscard]] pid_t getpgrp() noexcept;

} // namespace guest::host
