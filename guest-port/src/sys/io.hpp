// SPDX-License-Identifier: GPL-2.0
//
// Moving data between a file and guest memory, for the system calls
// that read and write (read, getdents64, pread, ...).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "sys/syscall.hpp"

namespace guest {

class Task;

// The guest's struct iovec (x86-64).
struct GuestIovec {
	std::uint64_t base, len;
};

// The count vectors at addr, as Linux's import_iovec(): too_many (EINVAL
// for readv and writev, EMSGSIZE for sendmsg and recvmsg) past IOV_MAX,
// EFAULT unreadable, EINVAL when the lengths add up past SSIZE_MAX.
KResult<std::vector<GuestIovec>> read_iovecs(Task& t, std::uint64_t addr, std::uint64_t count,
					     int too_many);

// op fills (some of) a buffer; its bytes go to the guest at buf.
// EFAULT, before op runs, unless all of buf's count bytes are writable.
SysResult read_to_guest(Task& t, std::uint64_t buf, std::uint64_t count,
			const std::function<KResult<std::size_t>(std::span<std::byte>)>& op);

// op consumes (some of) the guest's bytes at buf.
KResult<std::size_t> write_from_guest(
	Task& t, std::uint64_t buf, std::uint64_t count,
	const std::function<KResult<std::size_t>(std::span<const std::byte>)>& op);

} // namespace guest
