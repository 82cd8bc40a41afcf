// SPDX-License-Identifier: GPL-2.0
//
// Identity: the guest runs as the user that runs the guest port.
//
// It has none of that user's capabilities to change its ids (files it
// makes are the host user's, whatever ids it claimed): setuid(2) and
// its kin change them as Linux's kernel/sys.c does for a process
// without CAP_SETUID and CAP_SETGID, among its real, effective and
// saved ids (all the host user's, unless that user ran the guest port
// set-user-ID), and anything else is EPERM, for root too; setgroups(2)
// is EPERM.
#include <sys/types.h>

#include "kernel.hpp"
#include "sys/handlers.hpp"
#include "task.hpp"

namespace guest {
namespace {

// The ids as the system call passed them: 32 bits; -1 leaves one as it
// is where the call allows.
constexpr std::uint32_t keep = static_cast<std::uint32_t>(-1);

std::uint32_t id_arg(std::uint64_t a)
{
	return static_cast<std::uint32_t>(a);
}

// One of the real, effective or saved ids: what an id may become
// without the capability.
bool one_of(std::uint32_t id, std::uint32_t r, std::uint32_t e, std::uint32_t s)
{
	return id == r || id == e || id == s;
}

// __sys_setresuid() and __sys_setresgid(): each id is kept (-1) or one
// of the three; the file system id follows the effective one.
template <typename Id>
bool set_res(Id& r, Id& e, Id& s, Id& fs, std::uint32_t nr, std::uint32_t ne, std::uint32_t ns)
{
	for (std::uint32_t id : {nr, ne, ns})
		if (id != keep && !one_of(id, r, e, s))
			return false;
	if (nr != keep)
		r = nr;
	if (ne != keep)
		e = ne;
	if (ns != keep)
		s = ns;
	fs = e;
	return true;
}

// __sys_setreuid(): the real id may become the effective one, the
// effective any of the three; the saved id becomes the new effective
// one when the real id is set or the effective one set to other than
// the real.
template <typename Id>
bool set_re(Id& r, Id& e, Id& s, Id& fs, std::uint32_t nr, std::uint32_t ne)
{
	if ((nr != keep && nr != r && nr != e) || (ne != keep && !one_of(ne, r, e, s)))
		return false;
	Id old_r = r;
	if (nr != keep)
		r = nr;
	if (ne != keep)
		e = ne;
	if (nr != keep || (ne != keep && ne != old_r))
		s = e;
	fs = e;
	return true;
}

// __sys_setuid() without CAP_SETUID: the effective (and file system)
// id becomes the real or the saved one.
template <typename Id>
bool set_one(Id& r, Id& e, Id& s, Id& fs, std::uint32_t id)
{
	if (id != r && id != s)
		return false;
	e = fs = id;
	return true;
}

// __sys_setfsuid(): the old file system id, always; the new one is
// taken when it is one of the others.
template <typename Id>
std::uint32_t set_fs(Id& r, Id& e, Id& s, Id& fs, std::uint32_t id)
{
	std::uint32_t old = fs;
	if (one_of(id, r, e, s) || id == fs)
		fs = id;
	return old;
}

SysResult result(const KResult<void>& r)
{
	return r ? 0 : -r.error();
}

} // namespace

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

GUEST_SYSCALL(setuid)
{
	std::uint32_t id = id_arg(a[0]);
	if (id == keep)
		return -EINVAL;
	return result(t.kernel().change_ids(t, [&](Credentials& c) {
		return set_one(c.ruid, c.euid, c.suid, c.fsuid, id);
	}));
}

GUEST_SYSCALL(setgid)
{
	std::uint32_t id = id_arg(a[0]);
	if (id == keep)
		return -EINVAL;
	return result(t.kernel().change_ids(t, [&](Credentials& c) {
		return set_one(c.rgid, c.egid, c.sgid, c.fsgid, id);
	}));
}

GUEST_SYSCALL(setreuid)
{
	return result(t.kernel().change_ids(t, [&](Credentials& c) {
		return set_re(c.ruid, c.euid, c.suid, c.fsuid, id_arg(a[0]), id_arg(a[1]));
	}));
}

GUEST_SYSCALL(setregid)
{
	return result(t.kernel().change_ids(t, [&](Credentials& c) {
		return set_re(c.rgid, c.egid, c.sgid, c.fsgid, id_arg(a[0]), id_arg(a[1]));
	}));
}

GUEST_SYSCALL(setresuid)
{
	return result(t.kernel().change_ids(t, [&](Credentials& c) {
		return set_res(c.ruid, c.euid, c.suid, c.fsuid, id_arg(a[0]), id_arg(a[1]),
			       id_arg(a[2]));
	}));
}

GUEST_SYSCALL(setresgid)
{
	return result(t.kernel().change_ids(t, [&](Credentials& c) {
		return set_res(c.rgid, c.egid, c.sgid, c.fsgid, id_arg(a[0]), id_arg(a[1]),
			       id_arg(a[2]));
	}));
}

GUEST_SYSCALL(setfsuid)
{
	std::uint32_t old = 0;
	(void)t.kernel().change_ids(t, [&](Credentials& c) {
		old = set_fs(c.ruid, c.euid, c.suid, c.fsuid, id_arg(a[0]));
		return true;
	});
	return old;
}

GUEST_SYSCALL(setfsgid)
{
	std::uint32_t old = 0;
	(void)t.kernel().change_ids(t, [&](Credentials& c) {
		old = set_fs(c.rgid, c.egid, c.sgid, c.fsgid, id_arg(a[0]));
		return true;
	});
	return old;
}

// Without CAP_SETGID: EPERM before anything is looked at, as Linux's.
GUEST_SYSCALL(setgroups)
{
	(void)t, (void)a;
	return -EPERM;
}

} // namespace guest
