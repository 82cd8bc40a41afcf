// SPDX-License-Identifier: GPL-2.0
//
// Tracer: --trace, each guest system call as strace prints it
//
//	openat(AT_FDCWD, "/etc/passwd", O_RDONLY) = 3
//	read(3, "root:x:0:0:root:/root:/bin/sh\n"..., 4096) = 30
//	rt_sigaction(...) = -1 ENOSYS (Function not implemented)
//
// and the signals and the end of the guest ("--- SIGSEGV {...} ---",
// "+++ exited with 0 +++").  A line is written once the call is done.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "sigqueue.hpp"
#include "sys/syscall.hpp"

namespace guest {

class Task;

// Guest text made safe to print: C escapes for quotes, backslashes and
// the usual control characters, \xNN for any other byte outside
// printable ASCII (as strace shows strings, without the quotes).
std::string escape(const std::string& s);

class Tracer {
public:
	// Lines go to host descriptor fd (the guest port's stderr).
	explicit Tracer(int fd) : fd_(fd) {}

	void syscall(Task& t, std::uint64_t nr, bool compat, const SysArgs& args,
		     const SyscallEntry *entry, SysResult ret);
	// A signal taken by process pid: its information, as strace shows
	// it.
	void signal(int pid, const SigInfo& info);
	void exited(int wait_status);

private:
	void emit(std::string line);

	int fd_;
	std::mutex lock_;	// a line at a time; a leaf
};

} // namespace guest
