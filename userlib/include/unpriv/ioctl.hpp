// SPDX-License-Identifier: MIT
//
// The one door to ioctl(2).  The argument is checked against the command
// at compile time: a command with no size (_IO) takes an integer, any
// other a pointer to a struct of exactly the size the command encodes.
#pragma once

#include <sys/ioctl.h>

#include <concepts>
#include <type_traits>

#include "unpriv/error.hpp"

namespace unpriv::detail {

template <unsigned long Cmd>
[[nodiscard]] inline Result<int> ioctl(int fd, unsigned long arg)
	requires(_IOC_SIZE(Cmd) == 0)
{
	int ret = ::ioctl(fd, Cmd, arg);
	if (ret < 0)
		return fail_errno();
	return ret;
}

template <unsigned long Cmd, class T>
[[nodiscard]] inline Result<int> ioctl(int fd, T *arg)
	requires(_IOC_SIZE(Cmd) == sizeof(T) && std::is_trivially_copyable_v<T>)
{
	int ret = ::ioctl(fd, Cmd, arg);
	if (ret < 0)
		return fail_errno();
	return ret;
}

} // namespace unpriv::detail
