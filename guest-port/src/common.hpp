// SPDX-License-Identifier: GPL-2.0
//
// What every part of the guest port uses: pages, the guest's address
// range, and the one error style of the guest kernel.
//
// Guest-facing code returns KResult<T>: the value, or a positive errno
// that a system call hands back to the guest negated.  Failures of the
// host side that the guest cannot be told about (the backend refusing a
// mapping the guest port asked for) are errors of the guest port itself
// and end the run (see Kernel::fatal()).
#pragma once

#include <cerrno>
#include <cstdint>

#include <tl/expected.hpp>

namespace guest {

template <class T>
using KResult = tl::expected<T, int>;

// A failed KResult with errno e.
inline tl::unexpected<int> kerr(int e) noexcept
{
	return tl::unexpected(e);
}

inline constexpr std::uint64_t page_size = 4096;
inline constexpr std::uint64_t page_mask = page_size - 1;

constexpr std::uint64_t page_down(std::uint64_t a) noexcept
{
	return a & ~page_mask;
}

constexpr std::uint64_t page_up(std::uint64_t a) noexcept
{
	return (a + page_mask) & ~page_mask;
}

constexpr bool page_aligned(std::uint64_t a) noexcept
{
	return (a & page_mask) == 0;
}

// The guest's user address space, as x86-64 Linux with 4-level paging
// gives a process: [mmap_min_addr, TASK_SIZE).  mmap_min_addr is the
// guest's own (Debian's default), whatever the host's is.
inline constexpr std::uint64_t user_min = 0x10000;
inline constexpr std::uint64_t user_end = 0x7ffffffff000;

// open(2) flags with the kernel's values where the C library's differ:
// glibc's O_LARGEFILE is 0 on x86-64, and it has no name for O_SYNC's
// own bit (O_SYNC is that bit and O_DSYNC).
inline constexpr int kernel_o_largefile = 0100000;
inline constexpr int kernel_o_sync = 04000000;

} // namespace guest
