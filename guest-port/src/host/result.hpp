// SPDX-License-Identifier: GPL-2.0
//
// How the host layer's wrappers turn a C library call's return into a
// KResult, and retry the guest port's own calls that the guest port's
// interrupt breaks.  For guest-port/src/host/*.cpp only: callers outside
// the host layer get KResults, never a raw return.
#pragma once

#include <cerrno>
#include <cstddef>
#include <sys/types.h>

#include "common.hpp"

namespace guest::host::detail {

inline KResult<void> void_result(long ret)
{
	if (ret < 0)
		return kerr(errno);
	return {};
}

inline KResult<std::size_t> size_result(ssize_t ret)
{
	if (ret < 0)
		return kerr(errno);
	return static_cast<std::size_t>(ret);
}

inline KResult<int> fd_result(int ret)
{
	if (ret < 0)
		return kerr(errno);
	return ret;
}

// A call the guest port makes for itself: made again while EINTR (the
// interrupt is for calls made for the guest, which return it).
template <class Fn>
auto again(Fn&& fn)
{
	for (;;) {
		auto r = fn();
		if (r >= 0 || errno != EINTR)
			return r;
	}
}

} // namespace guest::host::detail
