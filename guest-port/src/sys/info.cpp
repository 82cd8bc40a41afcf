// SPDX-License-Identifier: GPL-2.0
//
// The system the guest sees: uname, sysinfo, getrandom.
#include <sys/random.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <time.h>

#include <cstring>
#include <vector>

#include "host/process.hpp"
#include "host/time.hpp"
#include "kernel.hpp"
#include "sys/handlers.hpp"
#include "task.hpp"

namespace guest {
namespace {

void set(char (&field)[_UTSNAME_LENGTH], const std::string& value)
{
	std::memset(field, 0, sizeof(field));
	std::memcpy(field, value.data(), std::min(value.size(), sizeof(field) - 1));
}

} // namespace

GUEST_SYSCALL(uname)
{
	// The guest's identity: Linux, of the ABI the guest port gives;
	// the host's own name and release stay the host's.
	struct utsname u;
	set(u.sysname, "Linux");
	set(u.nodename, t.kernel().config().hostname);
	set(u.release, "6.1.0-unpriv");
	set(u.version, "#1 SMP unpriv-run");
	set(u.machine, "x86_64");
	set(u.domainname, "(none)");
	return sys_ret(t.mm().write_obj(a[0], u));
}

GUEST_SYSCALL(sysinfo)
{
	// The guest's own figures: its clock's uptime, its physical memory
	// (as /proc/meminfo), its one process and no load; nothing of the
	// host's.
	struct sysinfo si{};
	struct timespec boot = host::clock_gettime(CLOCK_BOOTTIME);
	PhysMemory& phys = t.kernel().phys();
	si.uptime = boot.tv_sec;
	si.mem_unit = 1;
	si.totalram = phys.size();
	si.freeram = si.totalram - std::min<std::uint64_t>(si.totalram, phys.allocated());
	si.procs = static_cast<unsigned short>(std::min<std::size_t>(t.kernel().nr_processes(), 0xffff));
	return sys_ret(t.mm().write_obj(a[0], si));
}

GUEST_SYSCALL(getrandom)
{
	if (a[2] & ~std::uint64_t{GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE})
		return -EINVAL;
	if ((a[2] & GRND_RANDOM) && (a[2] & GRND_INSECURE))
		return -EINVAL;
	std::vector<std::byte> buf(std::min<std::uint64_t>(a[1], 1 << 20));
	auto n = host::getrandom(buf, static_cast<unsigned>(a[2]));
	if (!n)
		return -n.error();
	if (!t.mm().write(a[0], std::span(buf).first(*n)))
		return -EFAULT;
	return static_cast<long>(*n);
}

} // namespace guest
