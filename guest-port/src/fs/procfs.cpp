// SPDX-License-Identifier: GPL-2.0
//
// The guest's /proc: a directory for every guest process (/proc/PID,
// and /proc/self for the reader's) with exe, cwd, root, fd/, cmdline,
// environ, comm, maps, stat, status and mounts; and meminfo, cpuinfo,
// uptime, loadavg, stat, version and mounts for the system: the guest's
// figures, not the host's (only cpuinfo is the host's: the guest runs
// on its CPUs).
#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <optional>
#include <sstream>

#include "fs/path.hpp"
#include "fs/synth.hpp"
#include "host/file.hpp"
#include "host/time.hpp"
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
	auto text = host::read_file(path);
	if (!text)
		return kerr(ENOENT);
	return text;
}

// Bytes [start, end) of the guest's memory (its argument strings).
KResult<std::string> guest_bytes(Task& t, std::uint64_t start, std::uint64_t end)
{
	std::string s(end > start ? end - start : 0, '\0');
	if (!t.mm().read(start, std::as_writable_bytes(std::span(s))))
		return std::string();
	return s;
}

long clock_ticks(std::int64_t ns)
{
	return static_cast<long>(ns / (1000000000 / sysconf(_SC_CLK_TCK)));
}

// /proc/PID/stat (fs/proc/array.c's do_task_stat()).
std::string stat_line(const Kernel::ProcInfo& i, std::uint64_t vsize, std::uint64_t stack_limit)
{
	char b[640];
	std::snprintf(b, sizeof(b),
		      "%d (%s) %c %d %d %d 0 -1 4194304 0 0 0 0 %ld %ld %ld %ld %d %d 1 0 %ld "
		      "%llu 0 %llu 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
		      i.pid, i.shown.comm.c_str(), i.state, i.ppid, i.pgid, i.sid,
		      clock_ticks(i.cpu.user_ns), clock_ticks(i.cpu.sys_ns),
		      clock_ticks(i.children.user_ns), clock_ticks(i.children.sys_ns),
		      20 + i.nice, i.nice, clock_ticks(static_cast<std::int64_t>(i.start_ns)),
		      static_cast<unsigned long long>(vsize),
		      static_cast<unsigned long long>(stack_limit));
	return b;
}

// The process's own figures of what its thread alone keeps (its umask,
// its descriptor table's size); another's are not shown.
struct OwnFigures {
	mode_t umask;
	unsigned fd_size;
};

std::string status_text(const Kernel::ProcInfo& i, const std::optional<OwnFigures>& own)
{
	const Credentials& c = i.cred;
	// Space-separated, and a space after them, even after none (Linux's
	// task_state()).
	std::string groups;
	for (gid_t g : c.groups)
		groups += (groups.empty() ? "" : " ") + std::to_string(g);
	groups += ' ';
	char um[32] = "", fds[32] = "";
	if (own) {
		std::snprintf(um, sizeof(um), "Umask:\t%04o\n", own->umask);
		std::snprintf(fds, sizeof(fds), "FDSize:\t%u\n", own->fd_size);
	}
	const char *state = i.state == 'Z'   ? "Z (zombie)"
			    : i.state == 'T' ? "T (stopped)"
			    : i.state == 'R' ? "R (running)"
					     : "S (sleeping)";
	// In three parts: the groups between them have no bound but the
	// host's NGROUPS_MAX.
	char head[512], tail[512];
	std::snprintf(head, sizeof(head),
		      "Name:\t%s\n%sState:\t%s\nTgid:\t%d\nNgid:\t0\n"
		      "Pid:\t%d\nPPid:\t%d\nTracerPid:\t0\nUid:\t%u\t%u\t%u\t%u\n"
		      "Gid:\t%u\t%u\t%u\t%u\n%sGroups:\t",
		      i.shown.comm.c_str(), um, state, i.pid, i.pid, i.ppid, c.ruid, c.euid, c.suid,
		      c.fsuid, c.rgid, c.egid, c.sgid, c.fsgid, fds);
	std::snprintf(tail, sizeof(tail),
		      "\nThreads:\t%d\n"
		      "SigQ:\t%zu/%zu\nSigPnd:\t%016llx\nShdPnd:\t%016llx\nSigBlk:\t%016llx\n"
		      "SigIgn:\t%016llx\nSigCgt:\t%016llx\n"
		      "Cpus_allowed:\t%llx\n",
		      i.threads, i.sig_queued, SigPending::max_queued_rt,
		      static_cast<unsigned long long>(i.sig_pending),
		      static_cast<unsigned long long>(i.sig_shared),
		      static_cast<unsigned long long>(i.sig_blocked),
		      static_cast<unsigned long long>(i.sig_ignored),
		      static_cast<unsigned long long>(i.sig_caught),
		      static_cast<unsigned long long>(i.cpu_mask));
	return head + groups + tail;
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
	struct timespec boot = host::clock_gettime(CLOCK_BOOTTIME);
	char b[64];
	std::snprintf(b, sizeof(b), "%lld.%02ld 0.00\n", static_cast<long long>(boot.tv_sec),
		      boot.tv_nsec / 10000000);
	return b;
}

// /proc/PID/...: rest is what follows "/proc/PID".  The reader's own
// process shows everything; another, what its thread does not alone
// keep: its descriptors, current directory and mappings are EACCES, as
// Linux's are to a reader that may not ptrace it.  The own process's
// descriptors and directory are the reading thread's (Linux shows its
// leader's: they differ after a thread's unshare(CLONE_FILES, CLONE_FS)).
KResult<SynthLookup> pid_lookup(Task& t, int pid, const std::string& dir, const std::string& rest)
{
	Process& self = t.process();
	bool own = pid == self.pid;
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
	Kernel& k = t.kernel();

	if (!own && (name == "cwd" || name == "fd" || name == "maps"))
		return kerr(EACCES);
	// The links: through them when the path goes on.
	if (name == "exe" || name == "cwd" || name == "root") {
		std::shared_ptr<File> magic = name == "cwd" ? t.fs().cwd() : nullptr;
		std::string exe = own ? self.exe : std::string();
		if (!own) {
			auto info = k.proc_info(pid);
			if (!info)
				return kerr(ENOENT);
			exe = info->shown.exe;
		}
		std::string target = name == "exe"   ? exe
				     : name == "root" ? std::string("/")
						      : (magic ? magic->path() : "/");
		if (!tail.empty())
			return magic ? Redirect{magic, tail.substr(1)} : Redirect{nullptr, target + tail};
		return link_node(path, target, magic);
	}
	if (name == "fd") {
		if (tail.empty()) {
			SynthNode d{SynthNode::Kind::dir, path, 0500};
			// Not held by the directory: a descriptor of it in
			// the table would hold the table.
			d.entries = [weak = std::weak_ptr<FdTable>(t.shared_files())] {
				std::vector<SynthEntry> e;
				if (auto files = weak.lock())
					for (int fd : files->fds())
						e.push_back({std::to_string(fd), DT_LNK});
				return e;
			};
			return d;
		}
		std::string num = tail.substr(1, tail.find('/', 1) - 1);
		std::string after = tail.substr(1 + num.size());
		int fd = -1;
		auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), fd);
		auto f = ec == std::errc() && end == num.data() + num.size() ? t.files().get(fd) : nullptr;
		if (!f)
			return kerr(ENOENT);
		if (!after.empty())
			return Redirect{f, after.substr(1)};
		return link_node(path + "/" + num, f->path(), f);
	}
	if (!tail.empty())
		return kerr(ENOTDIR);

	Task *tp = &t;
	Kernel *kp = &k;
	// The figures, when the file is opened: the process may be gone.
	auto info = [kp, pid]() -> KResult<Kernel::ProcInfo> {
		auto i = kp->proc_info(pid);
		if (!i)
			return kerr(ESRCH);
		return std::move(*i);
	};
	if (name == "cmdline" || name == "environ") {
		bool env = name == "environ";
		SynthNode n = file_node(path, [tp, own, env, info]() -> KResult<std::string> {
			// The own process's memory, as it is now; another's
			// arguments as its execve gave them.
			if (own) {
				Process& p = tp->process();
				return env ? guest_bytes(*tp, p.env_start, p.env_end)
					   : guest_bytes(*tp, p.arg_start, p.arg_end);
			}
			auto i = info();
			if (!i)
				return std::string();
			return env ? i->shown.environ : i->shown.cmdline;
		});
		if (env)
			n.perm = 0400;
		return n;
	}
	if (name == "comm")
		return file_node(path, [info]() -> KResult<std::string> {
			return info().map([](const Kernel::ProcInfo& i) { return i.shown.comm + "\n"; });
		});
	if (name == "maps")
		return file_node(path, [tp]() -> KResult<std::string> { return tp->mm().maps(); });
	if (name == "stat")
		return file_node(path, [tp, own, info]() -> KResult<std::string> {
			auto i = info();
			if (!i)
				return kerr(i.error());
			Process& p = tp->process();
			return stat_line(*i, own ? tp->mm().size() : i->vsize,
					 p.rlimits[RLIMIT_STACK].rlim_cur);
		});
	if (name == "status")
		return file_node(path, [tp, own, info]() -> KResult<std::string> {
			auto i = info();
			if (!i)
				return kerr(i.error());
			std::optional<OwnFigures> figures;
			if (own)
				figures = OwnFigures{tp->fs().umask.load(), tp->files().limit()};
			return status_text(*i, figures);
		});
	if (name == "mounts") {
		SynthNode n = file_node(path, []() -> KResult<std::string> { return std::string(mounts_text); });
		n.pollable = true;
		return n;
	}
	return kerr(ENOENT);
}

// /proc/stat: the guest's CPUs, with its processes' time shared evenly
// among them and the rest idle since its boot; its processes.
std::string proc_stat(Kernel& k)
{
	Kernel::Load l = k.load();
	unsigned n = k.cpus();
	auto up = static_cast<std::int64_t>(Kernel::now_since_boot_ns());
	long user = clock_ticks(l.cpu.user_ns), sys = clock_ticks(l.cpu.sys_ns);
	long idle = std::max(0L, clock_ticks(up) * static_cast<long>(n) - user - sys);
	auto line = [](const std::string& name, long u, long s, long i) {
		return name + " " + std::to_string(u) + " 0 " + std::to_string(s) + " " +
		       std::to_string(i) + " 0 0 0 0 0 0\n";
	};
	std::string out = line("cpu ", user, sys, idle);
	for (unsigned c = 0; c < n; c++)
		out += line("cpu" + std::to_string(c), user / n, sys / n, idle / n);
	struct timespec now = host::clock_gettime(CLOCK_REALTIME);
	long long btime = now.tv_sec + k.config().time_offset_ns / 1000000000 - up / 1000000000;
	out += "intr 0\nctxt 0\nbtime " + std::to_string(btime) + "\nprocesses " +
	       std::to_string(l.forks + 1) + "\nprocs_running " + std::to_string(l.running) +
	       "\nprocs_blocked 0\n";
	return out;
}

int pid_of(const std::string& name)
{
	int pid = 0;
	auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
	return ec == std::errc() && end == name.data() + name.size() && pid > 0 ? pid : 0;
}

} // namespace

KResult<SynthLookup> procfs_lookup(Task& t, const std::string& norm)
{
	Process& p = t.process();
	Kernel& k = t.kernel();
	const std::string self = std::to_string(p.pid);

	if (norm == "/proc") {
		SynthNode d{SynthNode::Kind::dir, norm, 0555};
		Kernel *kp = &k;
		d.entries = [kp] {
			std::vector<SynthEntry> e{{"self", DT_LNK}, {"meminfo", DT_REG},
						  {"cpuinfo", DT_REG}, {"uptime", DT_REG},
						  {"loadavg", DT_REG}, {"stat", DT_REG},
						  {"version", DT_REG}, {"mounts", DT_LNK}};
			for (int pid : kp->pids())
				e.push_back({std::to_string(pid), DT_DIR});
			return e;
		};
		return d;
	}

	std::string rest = norm.substr(6);	// after "/proc/"
	std::string name = rest.substr(0, rest.find('/'));
	std::string tail = rest.substr(name.size());

	if (name == "self") {
		if (tail.empty())
			return link_node(norm, self);
		return pid_lookup(t, p.pid, "/proc/" + self, tail);
	}
	if (int pid = pid_of(name)) {
		if (pid != p.pid && !k.proc_info(pid))
			return kerr(ENOENT);
		return pid_lookup(t, pid, "/proc/" + name, tail);
	}
	if (name == "mounts") {
		if (!tail.empty())
			return kerr(ENOTDIR);
		return link_node(norm, "self/mounts");
	}
	if (!tail.empty())
		return kerr(ENOENT);

	// The system's files: Linux's have a poll operation (epoll takes them).
	auto sys = [&norm](std::function<KResult<std::string>()> content) {
		SynthNode n = file_node(norm, std::move(content));
		n.pollable = true;
		return n;
	};
	Task *tp = &t;
	Kernel *kp = &k;
	if (name == "meminfo")
		return sys([tp]() -> KResult<std::string> { return meminfo(*tp); });
	if (name == "cpuinfo")
		return sys([] { return host_file("/proc/cpuinfo"); });
	if (name == "uptime")
		return sys([]() -> KResult<std::string> { return uptime(); });
	if (name == "stat")
		return sys([kp]() -> KResult<std::string> { return proc_stat(*kp); });
	if (name == "loadavg")
		return sys([kp]() -> KResult<std::string> {
			// No load: the guest's run queue is not counted over time.
			Kernel::Load l = kp->load();
			return "0.00 0.00 0.00 " + std::to_string(l.running) + "/" +
			       std::to_string(l.total) + " " + std::to_string(l.last_pid) + "\n";
		});
	if (name == "version")
		return sys([]() -> KResult<std::string> {
			return std::string("Linux version 6.1.0-unpriv (unpriv-run) #1 SMP unpriv-run\n");
		});
	return kerr(ENOENT);
}

} // namespace guest
