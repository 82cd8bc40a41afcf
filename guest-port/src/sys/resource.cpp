// SPDX-License-Identifier: GPL-2.0
//
// What a process uses: getrusage, times, getpriority, setpriority,
// sched_getaffinity, sched_setaffinity.  The figures are the kernel's
// (resource.cpp).
#include <sys/resource.h>
#include <sys/times.h>
#include <unistd.h>

#include "kernel.hpp"
#include "sys/handlers.hpp"
#include "task.hpp"

namespace guest {
namespace {

constexpr std::int64_t ns_per_us = 1000;

struct timeval to_timeval(std::int64_t ns)
{
	return {ns / 1000000000, (ns % 1000000000) / ns_per_us};
}

// Clock ticks (USER_HZ, as times(2) and /proc count).
long ticks(std::int64_t ns)
{
	return static_cast<long>(ns / (1000000000 / sysconf(_SC_CLK_TCK)));
}

// The guest's CPU mask's size: Linux's cpumask_size().
constexpr std::uint64_t mask_size = sizeof(std::uint64_t);

} // namespace

struct rusage to_rusage(const CpuTimes& cpu)
{
	struct rusage ru{};
	ru.ru_utime = to_timeval(cpu.user_ns);
	ru.ru_stime = to_timeval(cpu.sys_ns);
	return ru;
}

GUEST_SYSCALL(getrusage)
{
	// One thread per process: RUSAGE_THREAD is RUSAGE_SELF.
	auto who = static_cast<int>(a[0]);
	if (who != RUSAGE_SELF && who != RUSAGE_THREAD && who != RUSAGE_CHILDREN)
		return -EINVAL;
	struct rusage ru = to_rusage(t.kernel().cpu_times(t, who == RUSAGE_CHILDREN));
	return sys_ret(t.mm().write_obj(a[1], ru));
}

GUEST_SYSCALL(times)
{
	if (a[0]) {
		CpuTimes self = t.kernel().cpu_times(t, false);
		CpuTimes children = t.kernel().cpu_times(t, true);
		struct tms tms{ticks(self.user_ns), ticks(self.sys_ns), ticks(children.user_ns),
			       ticks(children.sys_ns)};
		if (!t.mm().write_obj(a[0], tms))
			return -EFAULT;
	}
	// Clock ticks since the guest's boot.
	return ticks(static_cast<std::int64_t>(Kernel::now_since_boot_ns()));
}

GUEST_SYSCALL(getpriority)
{
	return sys_ret(t.kernel().getpriority(t, static_cast<int>(a[0]), static_cast<int>(a[1])));
}

GUEST_SYSCALL(setpriority)
{
	return sys_ret(t.kernel().setpriority(t, static_cast<int>(a[0]), static_cast<int>(a[1]),
					      static_cast<int>(a[2])));
}

GUEST_SYSCALL(sched_getaffinity)
{
	std::uint64_t len = a[1];
	if (len * 8 < t.kernel().cpus() || (len & (sizeof(long) - 1)))
		return -EINVAL;
	auto mask = t.kernel().affinity(t, static_cast<int>(a[0]));
	if (!mask)
		return -mask.error();
	std::size_t n = std::min(len, mask_size);
	if (!t.mm().write(a[2], std::as_bytes(std::span(&*mask, 1)).first(n)))
		return -EFAULT;
	return static_cast<SysResult>(n);
}

GUEST_SYSCALL(sched_setaffinity)
{
	std::uint64_t mask = 0;
	std::size_t n = std::min(a[1], mask_size);
	if (!t.mm().read(a[2], std::as_writable_bytes(std::span(&mask, 1)).first(n)))
		return -EFAULT;
	return sys_ret(t.kernel().set_affinity(t, static_cast<int>(a[0]), mask));
}

} // namespace guest
