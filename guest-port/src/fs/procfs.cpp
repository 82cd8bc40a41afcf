// SPDX-License-Identifier: GPL-2.0
//
// The guest's /proc: the process's own directory (as /proc/self and
// /proc/PID) with exe, cwd, root, fd/, cmdline, environ, comm, maps,
// stat, status and mounts; and meminfo, cpuinfo, uptime, loadavg,
// version and mounts for the system: the guest's figures, not the
// host's (only cpuinfo is the host's: the guest runs on its CPUs).
#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "fs/path.hpp"
#include "fs/synth.hpp"
#include "kernel.hpp"
#include "task.hpp"

namespace guest {
namespace {

constexpr const char *mounts_text =
	"/ / unpriv rw 0 0\n"
	"proc /proc proc rw,nosuid,nodev,noexec 0 0\n"
	"devtmpfs /dev devtmpfs rw,nosuid 0 0\n";

SynthNode file_node(const std::string& path, std::function<KResult<std::string>()> content)
{
	SynthNode n{SynthNode::Kind::file, path, 0444};
	n.content = std::move(content);
	return n;
}

SynthNode link_node(const std::string& path, std::string target,
		    std::shared_ptr<File> magic = nullptr)
{
	SynthNode n{SynthNode::Kind::symlink, path, 0777};
	n.target = std::move(target);
	n.magic = std::move(magic);
	return n;
}

KResult<std::string> host_file(const char *path)
{
	std::ifstream in(path);
	if (!in)
		return kerr(ENOENT);
	std::ostringstream s;
	s << in.rdbuf();
	return s.str();
}

// Bytes [start, end) of the guest's memory (its argument strings).
KResult<std::string> guest_bytes(Task& t, std::uint64_t start, std::uint64_t end)
{
	std::string s(end > start ? end - start : 0, '\0');
	if (!t.mm().read(start, std::as_writable_bytes(std::span(s))))
		return std::string();
	return s;
}

std::string stat_line(Task& t)
{
	Process& p = t.process();
	struct rusage ru{};
	getrusage(RUSAGE_THREAD, &ru);
	long hz = sysconf(_SC_CLK_TCK);
	auto ticks = [hz](const struct timeval& tv) {
		return tv.tv_sec * hz + tv.tv_usec * hz / 1000000;
	};
	char b[512];
	std::snprintf(b, sizeof(b),
		      "%d (%s) R %d %d %d 0 -1 4194304 %ld 0 %ld 0 %ld %ld 0 0 20 0 1 0 0 "
		      "0 0 %lu 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
		      p.pid, p.comm.c_str(), t.kernel().ppid(t), *t.kernel().pgid_of(t, 0),
		      *t.kernel().sid_of(t, 0), ru.ru_minflt, ru.ru_majflt,
		      ticks(ru.ru_utime), ticks(ru.ru_stime),
		      static_cast<unsigned long>(p.rlimits[RLIMIT_STACK].rlim_cur));
	return b;
}

std::string status_text(Task& t)
{
	Process& p = t.process();
	const Credentials& c = p.cred;
	std::string groups;
	for (gid_t g : c.groups)
		groups += std::to_string(g) + " ";
	char b[1024];
	std::snprintf(b, sizeof(b),
		      "Name:\t%s\nUmask:\t%04o\nState:\tR (running)\nTgid:\t%d\nNgid:\t0\n"
		      "Pid:\t%d\nPPid:\t%d\nTracerPid:\t0\nUid:\t%u\t%u\t%u\t%u\n"
		      "Gid:\t%u\t%u\t%u\t%u\nFDSize:\t%u\nGroups:\t%s\nThreads:\t1\n",
		      p.comm.c_str(), p.umask, p.pid, t.tid, t.kernel().ppid(t), c.ruid, c.euid, c.suid,
		      c.fsuid, c.rgid, c.egid, c.sgid, c.fsgid, p.fds.limit(), groups.c_str());
	return b;
}

std::string meminfo(Task& t)
{
	PhysMemory& phys = t.kernel().phys();
	std::uint64_t total = phys.size() >> 10, used = phys.allocated() >> 10;
	char b[256];
	std::snprintf(b, sizeof(b),
		      "MemTotal:       %8llu kB\nMemFree:        %8llu kB\n"
		      "MemAvailable:   %8llu kB\nSwapTotal:             0 kB\n"
		      "SwapFree:              0 kB\n",
		      static_cast<unsigned long long>(total),
		      static_cast<unsigned long long>(total - std::min(total, used)),
		      static_cast<unsigned long long>(total - std::min(total, used)));
	return b;
}

// The guest's uptime: its CLOCK_BOOTTIME (the host's, as the guest's
// clock_gettime gives it), and no idle time of the host's CPUs.
std::string uptime()
{
	struct timespec boot;
	clock_gettime(CLOCK_BOOTTIME, &boot);
	char b[64];
	std::snprintf(b, sizeof(b), "%lld.%02ld 0.00\n", static_cast<long long>(boot.tv_sec),
		      boot.tv_nsec / 10000000);
	return b;
}

// /proc/PID/...: rest is what follows "/proc/PID".
KResult<SynthLookup> pid_lookup(Task& t, const std::string& dir, const std::string& rest)
{
	Process& p = t.process();
	if (rest.empty()) {
		SynthNode d{SynthNode::Kind::dir, dir, 0555};
		d.entries = [] {
			return std::vector<SynthEntry>{
				{"exe", DT_LNK}, {"cwd", DT_LNK}, {"root", DT_LNK},
				{"fd", DT_DIR}, {"cmdline", DT_REG}, {"environ", DT_REG},
				{"comm", DT_REG}, {"maps", DT_REG}, {"stat", DT_REG},
				{"status", DT_REG}, {"mounts", DT_REG}};
		};
		return d;
	}
	std::string name = rest.substr(1, rest.find('/', 1) - 1);
	std::string tail = rest.substr(1 + name.size());
	std::string path = dir + "/" + name;

	// The links: through them when the path goes on.
	if (name == "exe" || name == "cwd" || name == "root") {
		std::shared_ptr<File> magic = name == "cwd" ? p.cwd : nullptr;
		std::string target = name == "exe"   ? p.exe
				     : name == "root" ? std::string("/")
						      : (magic ? magic->path() : "/");
		if (!tail.empty())
			return magic ? Redirect{magic, tail.substr(1)} : Redirect{nullptr, target + tail};
		return link_node(path, target, magic);
	}
	if (name == "fd") {
		if (tail.empty()) {
			SynthNode d{SynthNode::Kind::dir, path, 0500};
			d.entries = [&p] {
				std::vector<SynthEntry> e;
				for (int fd : p.fds.fds())
					e.push_back({std::to_string(fd), DT_LNK});
				return e;
			};
			return d;
		}
		std::string num = tail.substr(1, tail.find('/', 1) - 1);
		std::string after = tail.substr(1 + num.size());
		int fd = -1;
		auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), fd);
		auto f = ec == std::errc() && end == num.data() + num.size() ? p.fds.get(fd) : nullptr;
		if (!f)
			return kerr(ENOENT);
		if (!after.empty())
			return Redirect{f, after.substr(1)};
		return link_node(path + "/" + num, f->path(), f);
	}
	if (!tail.empty())
		return kerr(ENOTDIR);

	Task *tp = &t;
	if (name == "cmdline")
		return file_node(path, [tp, &p] { return guest_bytes(*tp, p.arg_start, p.arg_end); });
	if (name == "environ") {
		SynthNode n = file_node(path, [tp, &p] { return guest_bytes(*tp, p.env_start, p.env_end); });
		n.perm = 0400;
		return n;
	}
	if (name == "comm")
		return file_node(path, [&p]() -> KResult<std::string> { return p.comm + "\n"; });
	if (name == "maps")
		return file_node(path, [tp]() -> KResult<std::string> { return tp->mm().maps(); });
	if (name == "stat")
		return file_node(path, [tp]() -> KResult<std::string> { return stat_line(*tp); });
	if (name == "status")
		return file_node(path, [tp]() -> KResult<std::string> { return status_text(*tp); });
	if (name == "mounts")
		return file_node(path, []() -> KResult<std::string> { return std::string(mounts_text); });
	return kerr(ENOENT);
}

} // namespace

KResult<SynthLookup> procfs_lookup(Task& t, const std::string& norm)
{
	Process& p = t.process();
	const std::string pid = std::to_string(p.pid);

	if (norm == "/proc") {
		SynthNode d{SynthNode::Kind::dir, norm, 0555};
		d.entries = [pid] {
			return std::vector<SynthEntry>{
				{"self", DT_LNK}, {pid, DT_DIR}, {"meminfo", DT_REG},
				{"cpuinfo", DT_REG}, {"uptime", DT_REG}, {"loadavg", DT_REG},
				{"version", DT_REG}, {"mounts", DT_LNK}};
		};
		return d;
	}

	std::string rest = norm.substr(6);	// after "/proc/"
	std::string name = rest.substr(0, rest.find('/'));
	std::string tail = rest.substr(name.size());

	if (name == "self") {
		if (tail.empty())
			return link_node(norm, pid);
		return pid_lookup(t, "/proc/" + pid, tail);
	}
	if (name == pid)
		return pid_lookup(t, "/proc/" + pid, tail);
	if (name == "mounts") {
		if (!tail.empty())
			return kerr(ENOTDIR);
		return link_node(norm, "self/mounts");
	}
	if (!tail.empty())
		return kerr(ENOENT);

	Task *tp = &t;
	if (name == "meminfo")
		return file_node(norm, [tp]() -> KResult<std::string> { return meminfo(*tp); });
	if (name == "cpuinfo")
		return file_node(norm, [] { return host_file("/proc/cpuinfo"); });
	if (name == "uptime")
		return file_node(norm, []() -> KResult<std::string> { return uptime(); });
	if (name == "loadavg")
		return file_node(norm, [pid]() -> KResult<std::string> {
			return "0.00 0.00 0.00 1/1 " + pid + "\n";
		});
	if (name == "version")
		return file_node(norm, []() -> KResult<std::string> {
			return std::string("Linux version 6.1.0-unpriv (unpriv-run) #1 SMP unpriv-run\n");
		});
	return kerr(ENOENT);
}

} // namespace guest
