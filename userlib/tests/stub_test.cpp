// SPDX-License-Identifier: MIT
//
// The backend suite, continued: what backends with a stub process (ptrace
// and seccomp; see unpriv/backend.hpp) have and the module has not: the
// reserved range, the stub's death, its lifetime.  On the module backend
// each test checks that there is no reserved range and ends.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <thread>

#include "guest.hpp"

using namespace unpriv;
using namespace unpriv::test;

namespace {

GUEST_CODE(stub_test_spin,
	"1:	jmp 1b\n")

GUEST_CODE(stub_test_getpid,
	"1:	mov $39, %eax\n"
	"	syscall\n"
	"	jmp 1b\n")

// From rsi on, find a syscall instruction (the stub's code: rsi is the
// reserved range) and jump to it with getpid's number.
GUEST_CODE(stub_test_into_stub,
	"1:	cmpw $0x050f, (%rsi)\n"
	"	je 2f\n"
	"	inc %rsi\n"
	"	jmp 1b\n"
	"2:	mov $39, %eax\n"
	"	jmp *%rsi\n")

// Whether the backend under test has stubs; on the module it has not.
bool has_stub()
{
	auto b = Backend::open(current_backend());
	REQUIRE(b);
	if (!b->reserved().empty())
		return true;
	CHECK(current_backend() == BackendKind::module);
	return false;
}

// The pid a pidfd refers to.
pid_t pid_of(int pidfd)
{
	std::string path = "/proc/self/fdinfo/" + std::to_string(pidfd);
	FILE *f = std::fopen(path.c_str(), "re");
	REQUIRE(f);
	char line[256];
	pid_t pid = 0;
	while (std::fgets(line, sizeof(line), f))
		if (std::sscanf(line, "Pid: %d", &pid) == 1)
			break;
	std::fclose(f);
	return pid;
}

// Whether the process of pidfd has ended, within ms milliseconds.
bool ended(int pidfd, int ms)
{
	struct pollfd p = {.fd = pidfd, .events = POLLIN, .revents = 0};
	return poll(&p, 1, ms) == 1;
}

// Whether the process of pidfd has been reaped: it is no zombie.
bool reaped(int pidfd)
{
	siginfo_t info = {};
	return waitid(P_PIDFD, static_cast<id_t>(pidfd), &info,
		      WEXITED | WNOHANG | __WALL) < 0 && errno == ECHILD;
}

// The state letter of /proc/PID/stat: R, S, T (stopped), t (traced)...
char state_of(pid_t pid)
{
	std::string path = "/proc/" + std::to_string(pid) + "/stat";
	FILE *f = std::fopen(path.c_str(), "re");
	if (!f)
		return '?';
	char buf[512] = {};
	std::size_t n = std::fread(buf, 1, sizeof(buf) - 1, f);
	std::fclose(f);
	const char *p = std::strrchr(buf, ')');
	return n && p && p[1] && p[2] ? p[2] : '?';
}

} // namespace

TEST_SUITE("backend") {

TEST_CASE("the reserved range is not the guest's")
{
	if (!has_stub())
		return;
	auto g = Guest::make(stub_test_spin());
	const AddressRange res = g.backend.reserved();
	CHECK(res.start % page == 0);
	CHECK(res.end % page == 0);
	auto map_at = [&](std::uint64_t addr, std::uint64_t len) {
		return g.as.map({.addr = addr, .len = len, .fd = g.mem.fd(),
				 .offset = data_off, .prot = Prot::rw});
	};

	// Up to it, all is the guest's.
	REQUIRE(map_at(res.start - page, page));
	SUBCASE("no mapping meets it") {
		const std::pair<std::uint64_t, std::uint64_t> ranges[] = {
			{res.start, page},
			{res.start - page, 2 * page},
			{res.end - page, page},
		};
		for (auto [addr, len] : ranges) {
			CAPTURE(addr);
			auto r = map_at(addr, len);
			REQUIRE_FALSE(r);
			CHECK(r.error() == std::errc::invalid_argument);
		}
		auto u = g.as.unmap(res.start, page);
		REQUIRE_FALSE(u);
		CHECK(u.error() == std::errc::invalid_argument);
		auto p = g.as.protect(res.start, page, Prot::rwx);
		REQUIRE_FALSE(p);
		CHECK(p.error() == std::errc::invalid_argument);
	}
	SUBCASE("its memory reads and writes as unmapped") {
		std::array<std::byte, 16> buf{};
		auto r = g.as.read(res.start, buf);
		REQUIRE_FALSE(r);
		CHECK(r.error() == std::errc::io_error);
		auto w = g.as.write(res.start, buf);
		REQUIRE_FALSE(w);
		CHECK(w.error() == std::errc::io_error);
		r = g.as.read(res.start - 8, buf);
		REQUIRE(r);
		CHECK(*r == 8);
	}
	SUBCASE("no guest code or stack in it") {
		g.vcpu.regs().rip = res.start;
		auto e = g.vcpu.run(g.as);
		REQUIRE_FALSE(e);
		CHECK(e.error() == std::errc::invalid_argument);
		g.vcpu.regs().rip = code_addr;
		g.vcpu.regs().rsp = res.start + 64;
		e = g.vcpu.run(g.as);
		REQUIRE_FALSE(e);
		CHECK(e.error() == std::errc::invalid_argument);
	}
}

// The security note in unpriv/backend.hpp: under ptrace no system call
// of the stub process runs while the guest does; under seccomp the stub's
// code may make a few, and any other kills it.
TEST_CASE("a guest that jumps into the stub makes no system call of its own")
{
	if (!has_stub())
		return;
	auto g = Guest::make(stub_test_into_stub());
	const AddressRange res = g.backend.reserved();
	g.vcpu.regs().rsi = res.start;

	auto e = g.vcpu.run(g.as);
	if (current_backend() == BackendKind::ptrace) {
		REQUIRE(e);
		REQUIRE(std::holds_alternative<SyscallExit>(*e));
		CHECK(std::get<SyscallExit>(*e).nr == 39);
		CHECK(g.vcpu.regs().rip > res.start);
		CHECK(g.vcpu.regs().rip < res.end);
	} else {
		REQUIRE_FALSE(e);
		CHECK(e.error() == errc::backend_failed);
		CHECK(ended(g.as.fd(), 5000));
	}
}

TEST_CASE("a stub that dies fails its address space, at once")
{
	if (!has_stub())
		return;
	std::optional<Guest> g;
	Fd pidfd;

	SUBCASE("between runs") {
		g.emplace(Guest::make(stub_test_getpid()));
		pidfd.reset(fcntl(g->as.fd(), F_DUPFD_CLOEXEC, 0));
		REQUIRE(pidfd);
		CHECK(g->run_to<SyscallExit>().nr == 39);
		REQUIRE(syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL,
				nullptr, 0) == 0);
		REQUIRE(ended(pidfd.get(), 5000));

		auto e = g->vcpu.run(g->as);
		REQUIRE_FALSE(e);
		CHECK(e.error() == errc::backend_failed);
		auto m = g->as.protect(code_addr, page, Prot::rx);
		REQUIRE_FALSE(m);
		CHECK(m.error() == errc::backend_failed);
		std::array<std::byte, 8> buf{};
		auto r = g->as.read(code_addr, buf);
		REQUIRE_FALSE(r);
		CHECK(r.error() == errc::backend_failed);
		CHECK(g->vcpu.kick());
	}
	SUBCASE("while the guest runs") {
		g.emplace(Guest::make(stub_test_spin()));
		pidfd.reset(fcntl(g->as.fd(), F_DUPFD_CLOEXEC, 0));
		REQUIRE(pidfd);
		std::thread killer([&] {
			usleep(50000);
			syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL,
				nullptr, 0);
		});
		auto e = g->vcpu.run(g->as);
		killer.join();
		REQUIRE_FALSE(e);
		CHECK(e.error() == errc::backend_failed);
	}

	// Gone with its address space, reaped: no zombie.
	g.reset();
	CHECK(reaped(pidfd.get()));
}

TEST_CASE("an address space whose stub is stopped goes without a hang")
{
	if (!has_stub())
		return;
	std::optional<Guest> g;
	g.emplace(Guest::make(stub_test_getpid()));
	CHECK(g->run_to<SyscallExit>().nr == 39);
	Fd pidfd(fcntl(g->as.fd(), F_DUPFD_CLOEXEC, 0));
	REQUIRE(pidfd);
	pid_t pid = pid_of(pidfd.get());
	REQUIRE(pid > 0);

	// ptrace: stopped for its tracer already, and SIGSTOP pending;
	// seccomp: stopped.
	REQUIRE(syscall(SYS_pidfd_send_signal, pidfd.get(), SIGSTOP, nullptr,
			0) == 0);
	for (int i = 0; i < 500 && state_of(pid) != 'T' && state_of(pid) != 't'; i++)
		usleep(10000);
	char state = state_of(pid);
	CHECK((state == 'T' || state == 't'));

	g.reset();
	CHECK(reaped(pidfd.get()));
}

TEST_CASE("an address space's stub lives no longer than its creator thread")
{
	std::optional<Guest> g;
	std::thread creator([&] {
		g.emplace(Guest::make(stub_test_getpid()));
		CHECK(g->run_to<SyscallExit>().nr == 39);
	});
	creator.join();
	REQUIRE(g);
	if (!has_stub()) {
		// The module: any thread runs any address space.
		CHECK(g->run_to<SyscallExit>().nr == 39);
		return;
	}
	Fd pidfd(fcntl(g->as.fd(), F_DUPFD_CLOEXEC, 0));
	REQUIRE(pidfd);
	CHECK(ended(pidfd.get(), 5000));
	auto e = g->vcpu.run(g->as);
	REQUIRE_FALSE(e);
	CHECK(e.error() == errc::backend_failed);
	g.reset();
	CHECK(reaped(pidfd.get()));
}

TEST_CASE("a forked child that drops its copy of an address space leaves the stub be")
{
	std::optional<Guest> g;
	g.emplace(Guest::make(stub_test_getpid()));
	CHECK(g->run_to<SyscallExit>().nr == 39);

	pid_t child = fork();
	if (child == 0) {
		g.reset();
		_exit(0);
	}
	REQUIRE(child > 0);
	int st;
	REQUIRE(waitpid(child, &st, 0) == child);
	CHECK(WIFEXITED(st));
	CHECK(g->run_to<SyscallExit>().nr == 39);
}

TEST_CASE("a stub dies with its owner process, its guest running or not")
{
	if (!has_stub())
		return;
	bool running = true;
	SUBCASE("running") {}
	SUBCASE("idle") { running = false; }

	int pipefd[2];
	REQUIRE(pipe2(pipefd, O_CLOEXEC) == 0);
	Fd rd(pipefd[0]), wr(pipefd[1]);
	// Orphans come to this process, which can then see how they end.
	REQUIRE(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);

	pid_t owner = fork();
	if (owner == 0) {
		try {
			auto g = Guest::make(stub_test_spin());
			pid_t stub = pid_of(g.as.fd());
			if (write(wr.get(), &stub, sizeof(stub)) != sizeof(stub))
				_exit(1);
			if (running)
				(void)g.vcpu.run(g.as);
			pause();
		} catch (...) {
		}
		_exit(1);
	}
	REQUIRE(owner > 0);
	wr.reset();
	pid_t stub = 0;
	struct pollfd p = {.fd = rd.get(), .events = POLLIN, .revents = 0};
	bool told = poll(&p, 1, 10000) == 1 &&
		    read(rd.get(), &stub, sizeof(stub)) == sizeof(stub);
	if (told && running)
		usleep(20000);	// into guest code
	kill(owner, SIGKILL);
	int st;
	REQUIRE(waitpid(owner, &st, 0) == owner);

	int stub_st = 0;
	bool gone = false;
	for (int i = 0; told && i < 1000 && !gone; i++) {
		gone = waitpid(stub, &stub_st, WNOHANG | __WALL) == stub;
		if (!gone)
			usleep(10000);
	}
	prctl(PR_SET_CHILD_SUBREAPER, 0);
	REQUIRE(told);
	CHECK(gone);
	CHECK(WIFSIGNALED(stub_st));
	CHECK(WTERMSIG(stub_st) == SIGKILL);
}

}
