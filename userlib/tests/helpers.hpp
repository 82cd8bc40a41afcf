// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <filesystem>

#include <sys/wait.h>
#include <unistd.h>

namespace unpriv::test {

// How many file descriptors this process has open.
inline std::size_t open_fds()
{
	std::size_t n = 0;
	for ([[maybe_unused]] auto& entry :
	     std::filesystem::directory_iterator("/proc/self/fd"))
		n++;
	return n;
}

// Whether this kernel takes int $0x80 system calls from 64-bit code: not
// where it was built without IA32 emulation or booted with
// ia32_emulation=off, which make it a #GP (SIGSEGV).  The ptrace and
// seccomp backends run guest code as an ordinary process of this kernel.
inline bool kernel_has_int80()
{
	static const bool has = [] {
		pid_t pid = fork();
		int status;

		if (pid == 0) {
			long ret = 20;	// getpid

			asm volatile("int $0x80" : "+a"(ret) : : "memory");
			_exit(ret > 0 ? 0 : 1);
		}
		return pid > 0 && waitpid(pid, &status, 0) == pid &&
		       WIFEXITED(status) && WEXITSTATUS(status) == 0;
	}();
	return has;
}

} // namespace unpriv::test
