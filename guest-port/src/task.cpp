// SPDX-License-Identifier: GPL-2.0
#include "task.hpp"

#include <unistd.h>

namespace guest {

Credentials Credentials::of_host()
{
	Credentials c;
	getresuid(&c.ruid, &c.euid, &c.suid);
	getresgid(&c.rgid, &c.egid, &c.sgid);
	c.fsuid = c.euid;
	c.fsgid = c.egid;
	int n = getgroups(0, nullptr);
	if (n > 0) {
		c.groups.resize(static_cast<std::size_t>(n));
		n = getgroups(n, c.groups.data());
		c.groups.resize(static_cast<std::size_t>(std::max(n, 0)));
	}
	return c;
}

Process::Process(int pid, std::unique_ptr<Mm> mm)
	: pid(pid), pgid(pid), sid(pid), cred(Credentials::of_host()), mm_(std::move(mm))
{
	for (int r = 0; r < RLIM_NLIMITS; r++)
		getrlimit(static_cast<__rlimit_resource>(r), &rlimits[static_cast<std::size_t>(r)]);
	// What the guest port gives the guest, whatever the host's are.
	rlimits[RLIMIT_STACK].rlim_cur = Mm::stack_size;
	rlimits[RLIMIT_NOFILE] = {FdTable::default_limit, FdTable::default_limit * 4};
	fds.set_limit(FdTable::default_limit);
}

void Process::exit(int code)
{
	if (exited)
		return;
	exited = true;
	wait_status = (code & 0xff) << 8;
}

void Process::kill(int signo)
{
	if (exited)
		return;
	exited = true;
	wait_status = signo & 0x7f;
}

} // namespace guest
