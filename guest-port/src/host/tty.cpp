// SPDX-License-Identifier: GPL-2.0
#include "host/tty.hpp"

#include <unistd.h>

namespace guest::host {

bool isatty(int fd) noexcept
{
	return ::isatty(fd);
}

KResult<struct termios> tcgetattr(int fd)
{
	struct termios tio;
	if (::tcgetattr(fd, &tio) < 0)
		return kerr(errno);
	return tio;
}

KResult<pid_t> tcgetpgrp(int fd)
{
	pid_t pg = ::tcgetpgrp(fd);
	if (pg < 0)
		return kerr(errno);
	return pg;
}

pid_t getpgrp() noexcept
{
	return ::getpgrp();
}

} // namespace guest::host
