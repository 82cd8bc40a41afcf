// SPDX-License-Identifier: GPL-2.0
//
// Process and Task: a guest process (a thread group, Linux's
// signal_struct, mm, files and fs together) and a guest thread (its
// registers: a vcpu).  The guest port runs one thread of one process
// today; the split is where threads and fork will go.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <string>
#include <vector>

#include <unpriv/backend.hpp>

#include "fs/fdtable.hpp"
#include "mm/mm.hpp"

namespace guest {

class Kernel;

struct Credentials {
	uid_t ruid, euid, suid, fsuid;
	gid_t rgid, egid, sgid, fsgid;
	std::vector<gid_t> groups;

	// The guest port's own: files the guest creates belong to the
	// user that runs it, so the guest is that user.
	static Credentials of_host();
};

class Process {
public:
	Process(int pid, std::unique_ptr<Mm> mm);

	int pid;
	int ppid = 0;
	int pgid, sid;
	Credentials cred;
	std::array<struct rlimit, RLIM_NLIMITS> rlimits;
	mode_t umask = 022;

	[[nodiscard]] Mm& mm() noexcept { return *mm_; }
	FdTable fds;
	// The current directory: a directory file, a host one or one of
	// the guest port's own.
	std::shared_ptr<File> cwd;

	std::string exe;	// the executable's guest path
	// The running executable's host identity (st_dev, st_ino): it may
	// not be written (ETXTBSY), as Linux's deny_write_access().
	std::optional<std::pair<dev_t, ino_t>> exe_id;
	std::string comm;	// the thread name, 15 bytes at most
	// Where execve put the arguments and environment in the guest's
	// stack, for /proc/self/cmdline and environ.
	std::uint64_t arg_start = 0, arg_end = 0, env_start = 0, env_end = 0;

	// The wait status once the process is gone: exit code << 8, or
	// the signal that ended it.
	bool exited = false;
	int wait_status = 0;

	void exit(int code);		// exit_group()
	void kill(int signo);		// ended by a signal

private:
	std::unique_ptr<Mm> mm_;
};

class Task {
public:
	Task(Kernel& kernel, Process& process, unpriv::Vcpu vcpu, int tid)
		: tid(tid), kernel_(kernel), process_(process), vcpu_(std::move(vcpu))
	{
	}

	[[nodiscard]] Kernel& kernel() noexcept { return kernel_; }
	[[nodiscard]] Process& process() noexcept { return process_; }
	[[nodiscard]] Mm& mm() noexcept { return process_.mm(); }
	[[nodiscard]] unpriv::Vcpu& vcpu() noexcept { return vcpu_; }
	[[nodiscard]] unpriv::Regs& regs() noexcept { return vcpu_.regs(); }

	int tid;
	std::uint64_t clear_child_tid = 0;	// set_tid_address
	std::uint64_t robust_list = 0;		// set_robust_list
	std::uint64_t robust_list_len = 0;

private:
	Kernel& kernel_;
	Process& process_;
	unpriv::Vcpu vcpu_;
};

} // namespace guest
