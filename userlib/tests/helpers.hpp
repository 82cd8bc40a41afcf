// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <filesystem>

namespace unpriv::test {

// How many file descriptors this process has open.
inline std::size_t open_fds()
{
	std::size_t n = 0;
	for ([[maybe_unused]] auto& entry :
	     std::filesystem::directory_iterator("/proc/self/fd"))
		n++;
	return n;
}

} // namespace unpriv::test
