// SPDX-License-Identifier: GPL-2.0
#include "task.hpp"

#include <time.h>
#include <unistd.h>

#include "host/process.hpp"
#include "host/time.hpp"

namespace guest {
namespace {

std::uint64_t boottime_ns()
{
	struct timespec ts = host::clock_gettime(CLOCK_BOOTTIME);
	return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000 + static_cast<std::uint64_t>(ts.tv_nsec);
}

} // namespace

Credentials Credentials::of_host()
{
	Credentials c;
	host::getresuid(&c.ruid, &c.euid, &c.suid);
	host::getresgid(&c.rgid, &c.egid, &c.sgid);
	c.fsuid = c.euid;
	c.fsgid = c.egid;
	c.groups = host::getgroups();
	return c;
}

Process::Process(int pid, std::unique_ptr<Mm> mm)
	: pid(pid), cred(Credentials::of_host()), pgid(pid), sid(pid),
	  sighand(std::make_shared<SigHand>()), mm_(std::move(mm))
{
	for (int r = 0; r < RLIM_NLIMITS; r++)
		rlimits[static_cast<std::size_t>(r)] = host::getrlimit(r);
	// What the guest port gives the guest, whatever the host's are.
	rlimits[RLIMIT_STACK].rlim_cur = Mm::stack_size;
	rlimits[RLIMIT_NOFILE] = {FdTable::default_limit, FdTable::default_limit * 4};
	start_ns = boottime_ns();
}

Process::Process(int pid, const Process& parent)
	: pid(pid), cred(parent.cred), rlimits(parent.rlimits),
	  pgid(parent.pgid), sid(parent.sid), ctty(parent.ctty),
	  sighand(std::make_shared<SigHand>(*parent.sighand)), exe(parent.exe), exe_id(parent.exe_id),
	  comm(parent.comm), arg_start(parent.arg_start), arg_end(parent.arg_end),
	  env_start(parent.env_start), env_end(parent.env_end), shown(parent.shown),
	  nice(parent.nice), cpu_mask(parent.cpu_mask)
{
	start_ns = boottime_ns();
}

SigDefault sig_default(int signo) noexcept
{
	switch (signo) {
	case SIGCHLD: case SIGURG: case SIGWINCH: case SIGCONT:
		return SigDefault::ignore;
	case SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU:
		return SigDefault::stop;
	case SIGQUIT: case SIGILL: case SIGTRAP: case SIGABRT: case SIGBUS:
	case SIGFPE: case SIGSEGV: case SIGXCPU: case SIGXFSZ: case SIGSYS:
		return SigDefault::core;
	default:
		// The real-time signals too: terminate.
		return SigDefault::terminate;
	}
}

} // namespace guest
