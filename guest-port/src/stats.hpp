// SPDX-License-Identifier: GPL-2.0
//
// Stats: what the guest cost, by exit: how many system calls (of which
// kind), faults (and how many the guest port resolved itself), traps and
// interruptions.  --stats prints it when the guest is gone.
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>

#include <unpriv/types.hpp>

#include "mm/mm.hpp"
#include "sched.hpp"

namespace guest {

struct Stats {
	std::uint64_t syscall_exits = 0;
	std::uint64_t fault_exits = 0;
	std::uint64_t trap_exits = 0;
	std::uint64_t interrupted_exits = 0;
	std::uint64_t faults_resolved = 0;	// copy on write, by the guest port

	std::array<std::uint64_t, 512> syscalls{};	// handled, by number
	std::map<std::uint64_t, std::uint64_t> unknown;	// -ENOSYS, by number
	std::uint64_t compat_syscalls = 0;		// 32-bit ABI: -ENOSYS

	[[nodiscard]] std::uint64_t exits() const noexcept
	{
		return syscall_exits + fault_exits + trap_exits + interrupted_exits;
	}

	// Add another task's counts to these.
	void merge(const Stats& o);

	// The summary, to out.  outcome says how the guest ended.
	void print(std::FILE *out, unpriv::BackendKind backend, const std::string& outcome,
		   const Mm::Stats& mm, unsigned cpus, const CpuScheduler::Stats& sched) const;
};

} // namespace guest
