// SPDX-License-Identifier: GPL-2.0
//
// exec: turn a task into a program, as execve(2): load the executable
// (an ELF file, or a "#!" script's interpreter) and its dynamic linker
// into the process's memory, build the initial stack (argc, argv, envp,
// the auxiliary vector), and set the registers to enter it.
#pragma once

#include <string>
#include <vector>

#include "common.hpp"

namespace guest {

class Task;

// The process's memory must be empty.  Errors as execve's: ENOENT,
// EACCES (not a regular file, not executable), ENOEXEC, ELOOP (scripts
// nested too deep), E2BIG, ENOMEM.
KResult<void> exec(Task& task, const std::string& path,
		   std::vector<std::string> argv, std::vector<std::string> envp);

} // namespace guest
