// SPDX-License-Identifier: GPL-2.0
#include "stats.hpp"

#include <algorithm>
#include <vector>

#include "host/uring.hpp"
#include "sys/syscall.hpp"

namespace guest {
namespace {

std::string name_of(std::uint64_t nr)
{
	if (const char *n = syscall_name(nr))
		return n;
	return "syscall_" + std::to_string(nr);
}

// "name N, name N, ..." by count, then name; wrapped at 72 columns.
void print_counts(std::FILE *out, const char *label,
		  std::vector<std::pair<std::string, std::uint64_t>> counts)
{
	std::sort(counts.begin(), counts.end(), [](const auto& a, const auto& b) {
		return a.second != b.second ? a.second > b.second : a.first < b.first;
	});
	std::string line = std::string("  ") + label;
	line.resize(16, ' ');
	std::size_t width = line.size();
	for (std::size_t i = 0; i < counts.size(); i++) {
		std::string item = counts[i].first + " " + std::to_string(counts[i].second) +
				   (i + 1 < counts.size() ? "," : "");
		if (width + item.size() + 1 > 72 && width > 16) {
			std::fprintf(out, "%s\n", line.c_str());
			line = std::string(16, ' ');
			width = 16;
		} else if (width > 16) {
			line += ' ';
			width++;
		}
		line += item;
		width += item.size();
	}
	std::fprintf(out, "%s\n", line.c_str());
}

} // namespace

void Stats::merge(const Stats& o)
{
	syscall_exits += o.syscall_exits;
	fault_exits += o.fault_exits;
	trap_exits += o.trap_exits;
	interrupted_exits += o.interrupted_exits;
	faults_resolved += o.faults_resolved;
	for (std::size_t i = 0; i < syscalls.size(); i++)
		syscalls[i] += o.syscalls[i];
	for (const auto& [nr, n] : o.unknown)
		unknown[nr] += n;
	compat_syscalls += o.compat_syscalls;
}

void Stats::print(std::FILE *out, unpriv::BackendKind backend, const std::string& outcome,
		  const Mm::Stats& mm, unsigned cpus, const CpuScheduler::Stats& sched) const
{
	std::uint64_t unknown_total = 0;
	for (const auto& [nr, n] : unknown)
		unknown_total += n;

	std::fprintf(out, "unpriv-run: exit summary (%s backend)\n",
		     std::string(unpriv::to_string(backend)).c_str());
	std::fprintf(out, "  guest         %s\n", outcome.c_str());
	std::fprintf(out, "  exits         %llu\n", static_cast<unsigned long long>(exits()));
	std::fprintf(out, "    syscall     %llu (%llu unknown: -ENOSYS)\n",
		     static_cast<unsigned long long>(syscall_exits),
		     static_cast<unsigned long long>(unknown_total + compat_syscalls));
	std::fprintf(out, "    fault       %llu (%llu copy on write, %llu pages)\n",
		     static_cast<unsigned long long>(fault_exits),
		     static_cast<unsigned long long>(faults_resolved),
		     static_cast<unsigned long long>(mm.cow_pages));
	std::fprintf(out, "    trap        %llu\n", static_cast<unsigned long long>(trap_exits));
	std::fprintf(out, "    interrupted %llu\n",
		     static_cast<unsigned long long>(interrupted_exits));
	std::fprintf(out, "  cpus          %u (%llu waits for one, %llu preemptions)\n", cpus,
		     static_cast<unsigned long long>(sched.waits),
		     static_cast<unsigned long long>(sched.preemptions));
	std::fprintf(out, "  forks         %llu (%llu pages copied)\n",
		     static_cast<unsigned long long>(mm.forks),
		     static_cast<unsigned long long>(mm.fork_pages));
	std::fprintf(out, "  host I/O      %s\n", host::uring_summary().c_str());

	std::vector<std::pair<std::string, std::uint64_t>> handled, missing;
	for (std::size_t nr = 0; nr < syscalls.size(); nr++)
		if (syscalls[nr])
			handled.emplace_back(name_of(nr), syscalls[nr]);
	for (const auto& [nr, n] : unknown)
		missing.emplace_back(name_of(nr), n);
	if (compat_syscalls)
		missing.emplace_back("32-bit", compat_syscalls);
	if (!handled.empty())
		print_counts(out, "syscalls", std::move(handled));
	if (!missing.empty())
		print_counts(out, "unknown", std::move(missing));
}

} // namespace guest
