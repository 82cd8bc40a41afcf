// SPDX-License-Identifier: GPL-2.0
//
// SysResult and SysError (sys/syscall.hpp): an integer is always a plain
// result, whatever its value; a control comes only from its factory; a
// result in Linux's reserved errno range is refused; SysKResult carries
// an errno or a control to sys_ret().
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "sys/syscall.hpp"

using guest::kerr;
using guest::KResult;
using guest::sys_ret;
using guest::SysError;
using guest::SysKResult;
using guest::SysResult;
using Control = SysResult::Control;

namespace {

// Whether SysResult(V) is a constant expression: not for V in the
// reserved range, whose check is no constexpr function.
template <std::int64_t V>
constexpr bool constant_result =
	requires { typename std::integral_constant<std::int64_t, SysResult(V).value()>; };

static_assert(constant_result<0>);
static_assert(constant_result<-EINTR>);
static_assert(constant_result<-133>);		// EHWPOISON, Linux's last errno
static_assert(constant_result<-511>);
static_assert(!constant_result<-512>);		// ERESTARTSYS
static_assert(!constant_result<-513>);		// ERESTARTNOINTR
static_assert(!constant_result<-514>);		// ERESTARTNOHAND
static_assert(!constant_result<-516>);		// ERESTART_RESTARTBLOCK
static_assert(!constant_result<-4095>);
static_assert(constant_result<-4096>);		// an address, not an errno
static_assert(constant_result<std::numeric_limits<std::int64_t>::min()>);

// An integer converts, implicitly; nothing else does, and nothing
// converts back to an integer but value().
static_assert(std::is_convertible_v<int, SysResult>);
static_assert(std::is_convertible_v<long, SysResult>);
static_assert(std::is_convertible_v<unsigned long, SysResult>);
static_assert(!std::is_constructible_v<SysResult, bool>);
static_assert(!std::is_constructible_v<SysResult, double>);
static_assert(!std::is_constructible_v<SysResult, Control>);
static_assert(!std::is_convertible_v<SysResult, std::int64_t>);
static_assert(!std::is_convertible_v<SysResult, bool>);
static_assert(!std::is_default_constructible_v<SysResult>);

SysKResult<int> fails_with(int e)
{
	return kerr(e);
}

SysKResult<int> restarts()
{
	return kerr(SysResult::restart_nointr());
}

SysKResult<int> succeeds()
{
	return 42;
}

} // namespace

TEST_SUITE("SysResult") {

TEST_CASE("an integer is a plain result for the guest's rax")
{
	SysResult n = 42;
	CHECK(n.control() == Control::ret);
	CHECK(n.value() == 42);
	CHECK_FALSE(n.failed());
	CHECK_FALSE(n.is_restart());

	SysResult e = -EBADF;
	CHECK(e.control() == Control::ret);
	CHECK(e.value() == -EBADF);
	CHECK(e.failed());

	// A size, an address past INT64_MAX as the guest's rax reads it.
	SysResult big = std::uint64_t{0xffffffffff600000};
	CHECK(big.control() == Control::ret);
	CHECK(static_cast<std::uint64_t>(big.value()) == 0xffffffffff600000);
}

TEST_CASE("the old in-band values are plain results, never controls")
{
	// INT64_MIN was "registers set"; 4096+EINTR the final EINTR; -EINTR
	// is the host's interrupt, which only the run loop makes a restart.
	for (std::int64_t v : {std::numeric_limits<std::int64_t>::min(), std::int64_t{-4100},
			       std::int64_t{-4096}, std::int64_t{-EINTR}, std::int64_t{-511}}) {
		SysResult r = v;
		CHECK(r.control() == Control::ret);
		CHECK(r.value() == v);
		CHECK_FALSE(r.is_restart());
	}
}

TEST_CASE("a result in the reserved range is refused, or stays a plain one")
{
	volatile std::int64_t erestartsys = -512;	// not a constant
#ifdef NDEBUG
	// No assertions in this build: the value reaches the guest as
	// itself, as a plain result, and restarts nothing.
	SysResult r = erestartsys;
	CHECK(r.control() == Control::ret);
	CHECK(r.value() == -512);
	CHECK_FALSE(r.is_restart());
#else
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		SysResult r = erestartsys;
		_exit(r.control() == Control::ret ? 0 : 1);
	}
	int status = 0;
	REQUIRE(waitpid(pid, &status, 0) == pid);
	CHECK(WIFSIGNALED(status));
	CHECK(WTERMSIG(status) == SIGABRT);
#endif
}

TEST_CASE("each control comes from its factory")
{
	struct {
		SysResult r;
		Control control;
		bool restart;
	} const cases[] = {
		{SysResult::noreturn(), Control::noreturn, false},
		{SysResult::restart_sys(), Control::restart_sys, true},
		{SysResult::restart_nointr(), Control::restart_nointr, true},
		{SysResult::restart_nohand(), Control::restart_nohand, true},
		{SysResult::restart_block(), Control::restart_block, true},
		{SysResult::eintr(), Control::eintr, false},
	};
	for (const auto& c : cases) {
		CHECK(c.r.control() == c.control);
		CHECK(c.r.is_restart() == c.restart);
		// What the guest gets unless the call is made again; a
		// noreturn() leaves rax alone.
		if (c.control == Control::noreturn) {
			CHECK_FALSE(c.r.failed());
		} else {
			CHECK(c.r.value() == -EINTR);
			CHECK(c.r.failed());
		}
		// None equals the integer the guest would see.
		CHECK(c.r != SysResult(c.r.value()));
	}
	CHECK(SysResult::restart_sys() == SysResult::restart_sys());
	CHECK(SysResult::restart_sys() != SysResult::restart_nohand());
}

TEST_CASE("which restart is made again, as signal(7) says")
{
	using guest::restarts;
	const struct {
		Control how;
		bool no_handler, sa_restart, no_sa_restart;
	} table[] = {
		{Control::restart_sys, true, true, false},
		{Control::restart_nointr, true, true, true},
		{Control::restart_nohand, true, false, false},
		{Control::restart_block, true, false, false},
		// Not restarts: never made again.
		{Control::ret, false, false, false},
		{Control::noreturn, false, false, false},
		{Control::eintr, false, false, false},
	};
	for (const auto& row : table) {
		CAPTURE(static_cast<int>(row.how));
		CHECK(restarts(row.how, false, false) == row.no_handler);
		CHECK(restarts(row.how, true, true) == row.sa_restart);
		CHECK(restarts(row.how, true, false) == row.no_sa_restart);
	}
}

} // TEST_SUITE

TEST_SUITE("SysError") {

TEST_CASE("an errno, as kerr() makes it")
{
	SysError e = EINVAL;
	CHECK(e.err() == EINVAL);
	CHECK(e.result() == SysResult(-EINVAL));
	CHECK(e.result().control() == Control::ret);
}

TEST_CASE("a control carries no errno")
{
	SysError e = SysResult::restart_sys();
	CHECK(e.err() == 0);
	CHECK(e.result() == SysResult::restart_sys());
}

TEST_CASE("sys_ret() of a SysKResult: the value, the errno negated, or the control")
{
	CHECK(sys_ret(succeeds()) == SysResult(42));
	CHECK(sys_ret(fails_with(ECHILD)) == SysResult(-ECHILD));
	CHECK(sys_ret(restarts()) == SysResult::restart_nointr());
	CHECK(sys_ret(SysKResult<void>{}) == SysResult(0));
	SysKResult<void> broken = kerr(SysResult::eintr());
	CHECK(sys_ret(broken) == SysResult::eintr());
}

TEST_CASE("a KResult converts to a SysKResult with its errno")
{
	KResult<int> plain = kerr(EAGAIN);
	SysKResult<int> r = plain;
	REQUIRE_FALSE(r);
	CHECK(r.error().err() == EAGAIN);
	CHECK(sys_ret(plain) == sys_ret(r));
}

} // TEST_SUITE
