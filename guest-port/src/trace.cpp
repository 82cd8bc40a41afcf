// SPDX-License-Identifier: GPL-2.0
#include "trace.hpp"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <initializer_list>
#include <iterator>
#include <vector>

#include "host/io.hpp"
#include "task.hpp"

namespace guest {
namespace {

// strace shows this many bytes of a string or buffer.
constexpr std::size_t shown_max = 32;

std::string hex(std::uint64_t v)
{
	char b[24];
	std::snprintf(b, sizeof(b), "%#" PRIx64, v);
	return b;
}

std::string quote(const std::string& s, bool more)
{
	return "\"" + escape(s) + (more ? "\"..." : "\"");
}

// Flag names, the rest in hex.
struct FlagName {
	std::uint64_t bit;
	const char *name;
};

std::string flags(std::uint64_t v, std::initializer_list<FlagName> names, std::string first)
{
	std::string out = std::move(first);
	for (const auto& [bit, name] : names) {
		if ((v & bit) == bit && bit) {
			out += (out.empty() ? "" : "|");
			out += name;
			v &= ~bit;
		}
	}
	if (v || out.empty())
		out += (out.empty() ? "" : "|") + hex(v);
	return out;
}

std::string open_flags(std::uint64_t v)
{
	static const char *const modes[] = {"O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"};
	return flags(v & ~std::uint64_t{O_ACCMODE},
		     {{O_CREAT, "O_CREAT"}, {O_EXCL, "O_EXCL"}, {O_NOCTTY, "O_NOCTTY"},
		      {O_TRUNC, "O_TRUNC"}, {O_APPEND, "O_APPEND"}, {O_NONBLOCK, "O_NONBLOCK"},
		      {__O_TMPFILE, "O_TMPFILE"}, {O_DIRECTORY, "O_DIRECTORY"},
		      {O_NOFOLLOW, "O_NOFOLLOW"}, {O_CLOEXEC, "O_CLOEXEC"}, {O_PATH, "O_PATH"},
		      {O_NOATIME, "O_NOATIME"}, {O_DIRECT, "O_DIRECT"}, {kernel_o_largefile, "O_LARGEFILE"},
		      {kernel_o_sync, "O_SYNC"}, {O_DSYNC, "O_DSYNC"}, {O_ASYNC, "O_ASYNC"}},
		     modes[v & O_ACCMODE]);
}

std::string prot_flags(std::uint64_t v)
{
	if (v == 0)
		return "PROT_NONE";
	return flags(v, {{PROT_READ, "PROT_READ"}, {PROT_WRITE, "PROT_WRITE"},
			 {PROT_EXEC, "PROT_EXEC"}, {PROT_GROWSDOWN, "PROT_GROWSDOWN"}}, "");
}

std::string map_flags(std::uint64_t v)
{
	static const char *const types[] = {"0", "MAP_SHARED", "MAP_PRIVATE",
					    "MAP_SHARED_VALIDATE"};
	std::uint64_t type = v & MAP_TYPE;
	return flags(v & ~std::uint64_t{MAP_TYPE},
		     {{MAP_FIXED, "MAP_FIXED"}, {MAP_ANONYMOUS, "MAP_ANONYMOUS"},
		      {MAP_32BIT, "MAP_32BIT"}, {MAP_GROWSDOWN, "MAP_GROWSDOWN"},
		      {MAP_DENYWRITE, "MAP_DENYWRITE"}, {MAP_EXECUTABLE, "MAP_EXECUTABLE"},
		      {MAP_LOCKED, "MAP_LOCKED"}, {MAP_NORESERVE, "MAP_NORESERVE"},
		      {MAP_POPULATE, "MAP_POPULATE"}, {MAP_NONBLOCK, "MAP_NONBLOCK"},
		      {MAP_STACK, "MAP_STACK"}, {MAP_HUGETLB, "MAP_HUGETLB"},
		      {MAP_FIXED_NOREPLACE, "MAP_FIXED_NOREPLACE"}},
		     type < 4 ? types[type] : hex(type));
}

std::string fd_name(std::uint64_t v, bool at)
{
	int fd = static_cast<int>(v);
	if (at && fd == AT_FDCWD)
		return "AT_FDCWD";
	return std::to_string(fd);
}

// Up to shown_max bytes at addr; the address itself when unreadable.
std::string buffer(Task& t, std::uint64_t addr, std::uint64_t len)
{
	std::string s(std::min<std::uint64_t>(len, shown_max), '\0');
	if (!t.mm().read(addr, std::as_writable_bytes(std::span(s))))
		return hex(addr);
	return quote(s, len > shown_max);
}

std::string string_at(Task& t, std::uint64_t addr)
{
	if (!addr)
		return "NULL";
	auto s = t.mm().read_string(addr, 4096);
	if (!s)
		return hex(addr);
	return quote(*s, false);
}

std::string arg(Task& t, Arg kind, const SysArgs& a, std::size_t i, SysResult ret)
{
	std::uint64_t v = a[i];
	switch (kind) {
	case Arg::dec:
		return std::to_string(static_cast<std::int64_t>(v));
	case Arg::udec:
		return std::to_string(v);
	case Arg::ptr:
		return v ? hex(v) : "NULL";
	case Arg::fd:
		return fd_name(v, false);
	case Arg::atfd:
		return fd_name(v, true);
	case Arg::path:
		return string_at(t, v);
	case Arg::inbuf:
		return i + 1 < a.size() ? buffer(t, v, a[i + 1]) : hex(v);
	case Arg::outbuf:
		if (ret.failed())
			return v ? hex(v) : "NULL";
		return buffer(t, v, static_cast<std::uint64_t>(ret.value()));
	case Arg::oct:
	case Arg::omode: {
		char b[24];
		std::snprintf(b, sizeof(b), "%#" PRIo64, v);
		return b;
	}
	case Arg::oflags:
		return open_flags(v);
	case Arg::prot:
		return prot_flags(v);
	case Arg::mapflags:
		return map_flags(v);
	case Arg::hex:
	case Arg::none:
		break;
	}
	return hex(v);
}

const char *errno_name(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "E?";
}

} // namespace

std::string escape(const std::string& s)
{
	std::string out;
	for (unsigned char c : s) {
		switch (c) {
		case '"': out += "\\\""; break;
		case '\\': out += "\\\\"; break;
		case '\n': out += "\\n"; break;
		case '\t': out += "\\t"; break;
		case '\r': out += "\\r"; break;
		default:
			if (c >= 0x20 && c < 0x7f) {
				out += static_cast<char>(c);
			} else {
				char b[8];
				std::snprintf(b, sizeof(b), "\\x%02x", c);
				out += b;
			}
		}
	}
	return out;
}

void Tracer::emit(std::string line)
{
	std::lock_guard lock(lock_);
	line += '\n';
	(void)host::write_all(fd_, std::as_bytes(std::span(line)));
}

void Tracer::syscall(Task& t, std::uint64_t nr, bool compat, const SysArgs& a,
		     const SyscallEntry *entry, SysResult ret)
{
	// As strace -f: a line of any thread but the first process's first
	// says whose (its tid).
	std::string line;
	if (t.tid != 1)
		line = "[pid " + std::to_string(t.tid) + "] ";
	const char *name = compat ? nullptr : syscall_name(nr);
	if (entry && entry->name) {
		line += entry->name;
		line += '(';
		for (std::size_t i = 0; i < a.size() && entry->args[i] != Arg::none; i++) {
			if (entry->args[i] == Arg::omode && i > 0 &&
			    !(a[i - 1] & (O_CREAT | __O_TMPFILE)))
				break;
			if (i)
				line += ", ";
			line += arg(t, entry->args[i], a, i, ret);
		}
		line += ')';
	} else {
		// Not implemented: the raw arguments.
		line += name ? name : (compat ? "syscall32_" : "syscall_") + std::to_string(nr);
		line += '(';
		for (std::size_t i = 0; i < a.size(); i++)
			line += (i ? ", " : "") + hex(a[i]);
		line += ')';
	}

	line += " = ";
	const std::int64_t v = ret.value();
	if (ret.control() == SysResult::Control::noreturn || (entry && entry->ret == Ret::none)) {
		line += '?';
	} else if (v < 0 && v >= -4095) {
		int e = static_cast<int>(-v);
		line += "-1 ";
		line += errno_name(e);
		line += " (";
		line += strerror(e);
		line += ')';
	} else if (entry && entry->ret == Ret::hex) {
		line += hex(static_cast<std::uint64_t>(v));
	} else {
		line += std::to_string(v);
	}
	emit(std::move(line));
}

namespace {

std::string sig_name(int signo)
{
	// The kernel's real-time signals, from 32 (the C library keeps
	// the first few for itself and numbers its SIGRTMIN after them).
	if (signo >= sigrtmin && signo <= nsig)
		return signo == sigrtmin ? "SIGRTMIN" : "SIGRT_" + std::to_string(signo - sigrtmin);
	const char *n = sigabbrev_np(signo);
	return n ? std::string("SIG") + n : std::to_string(signo);
}

// si_code by name, as strace names it.
std::string si_code_name(int signo, int code)
{
	switch (code) {
	case SI_USER: return "SI_USER";
	case SI_KERNEL: return "SI_KERNEL";
	case SI_QUEUE: return "SI_QUEUE";
	case SI_TIMER: return "SI_TIMER";
	case SI_TKILL: return "SI_TKILL";
	default: break;
	}
	static const char *const segv[] = {"SEGV_MAPERR", "SEGV_ACCERR"};
	static const char *const bus[] = {"BUS_ADRALN", "BUS_ADRERR", "BUS_OBJERR"};
	static const char *const ill[] = {"ILL_ILLOPC", "ILL_ILLOPN", "ILL_ILLADR", "ILL_ILLTRP",
					  "ILL_PRVOPC", "ILL_PRVREG", "ILL_COPROC", "ILL_BADSTK"};
	static const char *const fpe[] = {"FPE_INTDIV", "FPE_INTOVF", "FPE_FLTDIV", "FPE_FLTOVF",
					  "FPE_FLTUND", "FPE_FLTRES", "FPE_FLTINV", "FPE_FLTSUB"};
	static const char *const trap[] = {"TRAP_BRKPT", "TRAP_TRACE"};
	static const char *const chld[] = {"CLD_EXITED", "CLD_KILLED", "CLD_DUMPED",
					   "CLD_TRAPPED", "CLD_STOPPED", "CLD_CONTINUED"};
	auto pick = [&](const auto& names) -> std::string {
		std::size_t n = std::size(names);
		return code >= 1 && static_cast<std::size_t>(code) <= n ? names[code - 1]
									 : std::to_string(code);
	};
	switch (signo) {
	case SIGSEGV: return pick(segv);
	case SIGBUS: return pick(bus);
	case SIGILL: return pick(ill);
	case SIGFPE: return pick(fpe);
	case SIGTRAP: return pick(trap);
	case SIGCHLD: return pick(chld);
	default: return std::to_string(code);
	}
}

} // namespace

void Tracer::signal(int pid, const SigInfo& info)
{
	std::string name = sig_name(info.signo);
	std::string line = pid != 1 ? "[pid " + std::to_string(pid) + "] " : "";
	line += "--- " + name + " {si_signo=" + name +
		", si_code=" + si_code_name(info.signo, info.code);
	auto addr = [](std::uint64_t a) { return a ? hex(a) : std::string("NULL"); };
	const bool fault = info.code > 0 && info.code != SI_KERNEL &&
			   (info.signo == SIGSEGV || info.signo == SIGBUS || info.signo == SIGILL ||
			    info.signo == SIGFPE || info.signo == SIGTRAP);
	if (fault) {
		line += ", si_addr=" + addr(info.f.fault.addr);
	} else if (info.code == SI_TIMER) {
		line += ", si_timerid=" + std::to_string(info.f.timer.tid) +
			", si_overrun=" + std::to_string(info.f.timer.overrun) +
			", si_int=" + std::to_string(static_cast<int>(info.f.timer.value)) +
			", si_ptr=" + addr(info.f.timer.value);
	} else if (info.signo == SIGCHLD && info.code > 0) {
		line += ", si_pid=" + std::to_string(info.f.chld.pid) +
			", si_uid=" + std::to_string(info.f.chld.uid) +
			", si_status=" + std::to_string(info.f.chld.status) +
			", si_utime=" + std::to_string(info.f.chld.utime) +
			", si_stime=" + std::to_string(info.f.chld.stime);
	} else if (info.code <= 0) {
		line += ", si_pid=" + std::to_string(info.f.kill.pid) +
			", si_uid=" + std::to_string(info.f.kill.uid);
		if (info.code == SI_QUEUE)
			line += ", si_int=" + std::to_string(static_cast<int>(info.f.kill.value)) +
				", si_ptr=" + addr(info.f.kill.value);
	}
	line += "} ---";
	emit(std::move(line));
}

void Tracer::exited(int wait_status)
{
	char b[80];
	if (WIFEXITED(wait_status)) {
		std::snprintf(b, sizeof(b), "+++ exited with %d +++", WEXITSTATUS(wait_status));
	} else {
		const char *name = sigabbrev_np(WTERMSIG(wait_status));
		std::snprintf(b, sizeof(b), "+++ killed by SIG%s +++", name ? name : "?");
	}
	emit(b);
}

} // namespace guest
