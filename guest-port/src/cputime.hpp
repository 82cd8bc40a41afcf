// SPDX-License-Identifier: GPL-2.0
//
// CPU time: what a guest process has used, for getrusage, times, wait4
// and /proc.  A guest process runs on a host thread of its own and, on
// ptrace and seccomp, its code runs in its address space's stub
// process: its time is the two together, as the host counts them.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include <unpriv/backend.hpp>

namespace guest {

struct CpuTimes {
	std::int64_t user_ns = 0;
	std::int64_t sys_ns = 0;

	CpuTimes& operator+=(const CpuTimes& o) noexcept
	{
		user_ns += o.user_ns;
		sys_ns += o.sys_ns;
		return *this;
	}
	friend CpuTimes operator+(CpuTimes a, const CpuTimes& b) noexcept { return a += b; }
};

// The CPU time host thread or process tid has used so far, from the
// host's /proc/TID/stat (clock ticks); zero when tid is 0 or gone.
// running: whether it is running now (state R), when asked.
CpuTimes host_cpu_times(pid_t tid, bool *running = nullptr);

// The stub process that runs an address space's guest code (ptrace,
// seccomp: AddressSpace::fd() is its pidfd); 0 on the module, where the
// guest runs on the host thread itself.
pid_t stub_pid(const unpriv::AddressSpace& as);

} // namespace guest
