// SPDX-License-Identifier: GPL-2.0
#include "cputime.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>

#include "host/file.hpp"

namespace guest {

CpuTimes host_cpu_times(pid_t tid, bool *running)
{
	if (running)
		*running = false;
	if (tid <= 0)
		return {};
	std::istringstream in(
		host::read_file(("/proc/" + std::to_string(tid) + "/stat").c_str()).value_or(""));
	std::string line;
	if (!std::getline(in, line))
		return {};
	// After "pid (comm) ", whose comm may hold spaces and parentheses:
	// state is field 3, utime 14 and stime 15.
	std::size_t close = line.rfind(')');
	if (close == std::string::npos)
		return {};
	std::istringstream rest(line.substr(close + 1));
	std::string field;
	long long utime = 0, stime = 0;
	for (int i = 3; i <= 15 && rest >> field; i++) {
		if (i == 3 && running)
			*running = field == "R";
		else if (i == 14)
			utime = std::stoll(field);
		else if (i == 15)
			stime = std::stoll(field);
	}
	std::int64_t ns_per_tick = 1000000000 / sysconf(_SC_CLK_TCK);
	return {utime * ns_per_tick, stime * ns_per_tick};
}

pid_t stub_pid(const unpriv::AddressSpace& as)
{
	if (as.kind() == unpriv::BackendKind::module)
		return 0;
	std::istringstream in(
		host::read_file(("/proc/self/fdinfo/" + std::to_string(as.fd())).c_str()).value_or(""));
	std::string line;
	while (std::getline(in, line))
		if (line.starts_with("Pid:"))
			return static_cast<pid_t>(std::stol(line.substr(4)));
	return 0;
}

} // namespace guest
