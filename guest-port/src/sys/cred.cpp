// SPDX-License-Identifier: GPL-2.0
//
// Identity: the guest runs as the user that runs the guest port.
#include <sys/types.h>

#include "sys/handlers.hpp"
#include "task.hpp"

namespace guest {

GUEST_SYSCALL(getuid)
{
	(void)a;
	return t.process().cred.ruid;
}

GUEST_SYSCALL(geteuid)
{
	(void)a;
	return t.process().cred.euid;
}

GUEST_SYSCALL(getgid)
{
	(void)a;
	return t.process().cred.rgid;
}

GUEST_SYSCALL(getegid)
{
	(void)a;
	return t.process().cred.egid;
}

GUEST_SYSCALL(getresuid)
{
	const Credentials& c = t.process().cred;
	if (!t.mm().write_obj<uid_t>(a[0], c.ruid) || !t.mm().write_obj<uid_t>(a[1], c.euid) ||
	    !t.mm().write_obj<uid_t>(a[2], c.suid))
		return -EFAULT;
	return 0;
}

GUEST_SYSCALL(getresgid)
{
	const Credentials& c = t.process().cred;
	if (!t.mm().write_obj<gid_t>(a[0], c.rgid) || !t.mm().write_obj<gid_t>(a[1], c.egid) ||
	    !t.mm().write_obj<gid_t>(a[2], c.sgid))
		return -EFAULT;
	return 0;
}

GUEST_SYSCALL(getgroups)
{
	const auto& g = t.process().cred.groups;
	auto size = static_cast<int>(a[0]);
	if (size < 0)
		return -EINVAL;
	if (size == 0)
		return static_cast<SysResult>(g.size());
	if (static_cast<std::size_t>(size) < g.size())
		return -EINVAL;
	if (!t.mm().write(a[1], std::as_bytes(std::span(g))))
		return -EFAULT;
	return static_cast<SysResult>(g.size());
}

} // namespace guest
