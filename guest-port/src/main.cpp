// SPDX-License-Identifier: GPL-2.0
//
// unpriv-run: run a Linux program in the guest port.
#include <fcntl.h>
#include <getopt.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "host/file.hpp"
#include "host/io.hpp"
#include "kernel.hpp"
#include "host/rootfs.hpp"

namespace {

void usage(std::FILE *out)
{
	std::fprintf(out,
"usage: unpriv-run [OPTION...] [--] PROGRAM [ARG...]\n"
"\n"
"Run PROGRAM, an x86-64 Linux executable, in the guest port: a kernel in\n"
"user space that runs it in an unpriv address space and answers its system\n"
"calls itself.  PROGRAM is looked up in the guest's file system (in its\n"
"PATH when it has no '/').\n"
"\n"
"Options:\n"
"  -b, --backend=NAME      what runs the guest: module (/dev/unpriv),\n"
"                          ptrace or seccomp; default: $UNPRIV_BACKEND, or\n"
"                          module when /dev/unpriv exists, seccomp otherwise\n"
"  -r, --root=DIR          the guest's /; the guest sees nothing outside it.\n"
"                          Default: $XDG_DATA_HOME/unpriv/root (or\n"
"                          ~/.local/share/unpriv/root), a minimal root made\n"
"                          on first use as --make-root makes it\n"
"  -e, --env=NAME=VALUE    set NAME in the guest's environment; --env=NAME\n"
"                          passes the host's NAME (repeatable).  The guest\n"
"                          starts with PATH and HOME only\n"
"  -t, --time-offset=SECS  the guest's wall clock runs SECS seconds (may be\n"
"                          negative or fractional) ahead of the host's\n"
"  -m, --memory=SIZE       guest physical memory, in bytes or with K, M, G\n"
"                          (default 64G: a sparse file; only what the guest\n"
"                          touches takes host memory)\n"
"      --hostname=NAME     the guest's host name (default unpriv)\n"
"      --max-procs=N       at most N guest processes and threads at once,\n"
"                          zombies included (default 4096): fork() and\n"
"                          clone() beyond them fail with EAGAIN, as\n"
"                          RLIMIT_NPROC makes them.  Each guest thread is\n"
"                          a host thread (and on ptrace and seccomp a stub\n"
"                          process)\n"
"      --cpus=N            the guest's CPUs, 1 to 64 (default: the host's,\n"
"                          at most 64): at most N guest threads run guest\n"
"                          code at once, each a time slice at most while\n"
"                          others wait; a thread blocked in a system call\n"
"                          holds none\n"
"      --time-slice=MS     the time slice, 1 to 1000 ms (default 10)\n"
"      --host-io=HOW       how guest threads make host I/O that may block:\n"
"                          uring (default): fsync through io_uring, where\n"
"                          the host has it, the rest direct, as measured\n"
"                          (README.md); all: every read, write and sync\n"
"                          through io_uring; direct: no io_uring\n"
"      --trace             print each guest system call to stderr, as strace\n"
"      --stats             print a summary to stderr at the end: exits by\n"
"                          reason, system calls by name, host I/O\n"
"      --make-root=DIR     make a minimal root in DIR and exit: a static\n"
"                          busybox ($UNPRIV_BUSYBOX, or /bin/busybox from\n"
"                          Debian's busybox-static), its applets, /etc\n"
"  -h, --help              this help\n"
"\n"
"Exit status: the guest's; 128+N when signal N ended it; 125 when\n"
"unpriv-run itself failed, 126 when PROGRAM cannot be run, 127 when it is\n"
"not found.\n");
}

std::string busybox()
{
	const char *bb = std::getenv("UNPRIV_BUSYBOX");
	return bb && *bb ? bb : "/bin/busybox";
}

bool parse_size(const char *s, std::uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = std::strtoull(s, &end, 10);
	if (errno || end == s)
		return false;
	int shift = 0;
	switch (*end) {
	case 'K': case 'k': shift = 10; end++; break;
	case 'M': case 'm': shift = 20; end++; break;
	case 'G': case 'g': shift = 30; end++; break;
	case 'T': case 't': shift = 40; end++; break;
	}
	if (*end || v == 0 || v > (~0ull >> shift))
		return false;
	*out = static_cast<std::uint64_t>(v) << shift;
	return true;
}

bool parse_seconds(const char *s, std::int64_t *ns)
{
	char *end;
	errno = 0;
	double v = std::strtod(s, &end);
	if (errno || end == s || *end || !std::isfinite(v) || std::fabs(v) > 1e10)
		return false;
	*ns = static_cast<std::int64_t>(std::llround(v * 1e9));
	return true;
}

} // namespace

int main(int argc, char **argv)
{
	// Descriptors 0 to 2 closed at start: /dev/null in their place
	// before anything is opened, so that nothing of unpriv-run's own
	// (the guest's memory, the root, a backend's descriptors) becomes
	// a standard descriptor, the guest's among them.  The guest gets
	// them closed, as it would have them on Linux.
	std::array<bool, 3> std_closed{};
	for (int fd = 0; fd < 3; fd++) {
		if (auto r = guest::host::fcntl(fd, F_GETFD, 0); r || r.error() != EBADF)
			continue;
		std_closed[static_cast<std::size_t>(fd)] = true;
		if (guest::host::open("/dev/null", O_RDWR) != fd)
			return guest::status_failed;
	}

	enum { opt_hostname = 256, opt_trace, opt_stats, opt_make_root, opt_max_procs,
	       opt_cpus, opt_time_slice, opt_host_io };
	static const struct option options[] = {
		{"backend", required_argument, nullptr, 'b'},
		{"root", required_argument, nullptr, 'r'},
		{"env", required_argument, nullptr, 'e'},
		{"time-offset", required_argument, nullptr, 't'},
		{"memory", required_argument, nullptr, 'm'},
		{"hostname", required_argument, nullptr, opt_hostname},
		{"max-procs", required_argument, nullptr, opt_max_procs},
		{"cpus", required_argument, nullptr, opt_cpus},
		{"time-slice", required_argument, nullptr, opt_time_slice},
		{"host-io", required_argument, nullptr, opt_host_io},
		{"trace", no_argument, nullptr, opt_trace},
		{"stats", no_argument, nullptr, opt_stats},
		{"make-root", required_argument, nullptr, opt_make_root},
		{"help", no_argument, nullptr, 'h'},
		{nullptr, 0, nullptr, 0},
	};
	auto bad = [](const char *what, const char *arg) {
		std::fprintf(stderr, "unpriv-run: %s: '%s'\n", what, arg);
		return guest::status_failed;
	};

	guest::Config config;
	config.std_closed = std_closed;
	std::vector<std::string> env_sets;
	int c;
	// '+': options stop at PROGRAM, whose own options are its own.
	while ((c = getopt_long(argc, argv, "+b:r:e:t:m:h", options, nullptr)) != -1) {
		switch (c) {
		case 'b': {
			auto kind = unpriv::Backend::parse(optarg);
			if (!kind)
				return bad("unknown backend (module, ptrace, seccomp)", optarg);
			config.backend = *kind;
			break;
		}
		case 'r':
			config.root = optarg;
			break;
		case 'e':
			env_sets.emplace_back(optarg);
			break;
		case 't':
			if (!parse_seconds(optarg, &config.time_offset_ns))
				return bad("--time-offset takes seconds", optarg);
			break;
		case 'm':
			if (!parse_size(optarg, &config.memory))
				return bad("--memory takes a size", optarg);
			break;
		case opt_hostname:
			if (!*optarg || std::strlen(optarg) > 64)
				return bad("--hostname takes 1 to 64 characters", optarg);
			config.hostname = optarg;
			break;
		case opt_max_procs: {
			char *end;
			errno = 0;
			unsigned long long n = std::strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end || n == 0 || n > 4194303 || *optarg == '-')
				return bad("--max-procs takes a number from 1 to 4194303", optarg);
			config.max_procs = n;
			break;
		}
		case opt_cpus:
		case opt_time_slice: {
			// --cpus 1 to 64; --time-slice 1 to 1000 ms.
			const bool cpus = c == opt_cpus;
			char *end;
			errno = 0;
			unsigned long n = std::strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || *optarg == '-' || n == 0 ||
			    n > (cpus ? guest::CpuScheduler::max_cpus : 1000))
				return bad(cpus ? "--cpus takes a number from 1 to 64"
						: "--time-slice takes milliseconds, 1 to 1000", optarg);
			if (cpus)
				config.cpus = static_cast<unsigned>(n);
			else
				config.time_slice = std::chrono::milliseconds(n);
			break;
		}
		case opt_host_io:
			if (!std::strcmp(optarg, "uring"))
				config.io_uring = guest::host::UringUse::measured;
			else if (!std::strcmp(optarg, "all"))
				config.io_uring = guest::host::UringUse::all;
			else if (!std::strcmp(optarg, "direct"))
				config.io_uring = guest::host::UringUse::none;
			else
				return bad("--host-io takes uring, all or direct", optarg);
			break;
		case opt_trace:
			config.trace = true;
			break;
		case opt_stats:
			config.stats = true;
			break;
		case opt_make_root: {
			std::string err = guest::host::make_root(optarg, busybox());
			if (!err.empty()) {
				std::fprintf(stderr, "unpriv-run: %s\n", err.c_str());
				return guest::status_failed;
			}
			return 0;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return guest::status_failed;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return guest::status_failed;
	}
	if (config.root.empty()) {
		config.root = guest::host::default_root();
		if (!guest::host::access(config.root.c_str(), F_OK)) {
			std::string bb = busybox();
			std::fprintf(stderr, "unpriv-run: making a minimal guest root in %s from %s\n",
				     config.root.c_str(), bb.c_str());
			std::string parent = config.root.substr(0, config.root.rfind('/'));
			std::string err = guest::host::make_parents(parent);
			if (err.empty())
				err = guest::host::make_root(config.root, bb);
			if (!err.empty()) {
				std::fprintf(stderr, "unpriv-run: %s\n", err.c_str());
				return guest::status_failed;
			}
		}
	}

	// The guest's environment: a PATH and a HOME, then --env, in order,
	// each replacing an earlier setting of its name.
	std::vector<std::string> env = {
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=/",
	};
	for (const auto& e : env_sets) {
		std::string name = e.substr(0, e.find('='));
		std::string entry = e;
		if (name.empty())
			return bad("--env takes NAME=VALUE or NAME", e.c_str());
		if (e.find('=') == std::string::npos) {
			const char *v = std::getenv(name.c_str());
			if (!v)
				continue;
			entry = name + "=" + v;
		}
		std::erase_if(env, [&](const std::string& s) { return s.starts_with(name + "="); });
		env.push_back(entry);
	}
	config.env = std::move(env);

	std::vector<std::string> args(argv + optind, argv + argc);
	guest::Kernel kernel(std::move(config));
	return kernel.run(args[0], args);
}
