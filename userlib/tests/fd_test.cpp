// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include "helpers.hpp"
#include "unpriv/fd.hpp"

using unpriv::Fd;
using unpriv::test::open_fds;

namespace {

bool is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

int open_null()
{
	int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
	REQUIRE(fd >= 0);
	return fd;
}

} // namespace

TEST_SUITE("Fd") {

TEST_CASE("an empty Fd owns nothing")
{
	Fd fd;
	CHECK_FALSE(fd);
	CHECK(fd.get() == -1);
}

TEST_CASE("destruction closes")
{
	auto before = open_fds();
	int raw;
	{
		Fd fd(open_null());
		raw = fd.get();
		CHECK(fd);
		CHECK(open_fds() == before + 1);
	}
	CHECK_FALSE(is_open(raw));
	CHECK(open_fds() == before);
}

TEST_CASE("a move transfers ownership")
{
	Fd a(open_null());
	int raw = a.get();
	Fd b(std::move(a));
	CHECK(b.get() == raw);
	CHECK_FALSE(a); // NOLINT(bugprone-use-after-move): checking it is empty

	Fd c;
	c = std::move(b);
	CHECK(c.get() == raw);
	CHECK_FALSE(b); // NOLINT(bugprone-use-after-move)
	CHECK(is_open(raw));
}

TEST_CASE("move assignment closes what the target owned")
{
	Fd a(open_null());
	Fd b(open_null());
	int old = b.get();
	b = std::move(a);
	CHECK_FALSE(is_open(old));
	CHECK(is_open(b.get()));
}

TEST_CASE("self move assignment keeps the fd")
{
	Fd a(open_null());
	int raw = a.get();
	Fd& alias = a;
	a = std::move(alias);
	CHECK(a.get() == raw);
	CHECK(is_open(raw));
}

TEST_CASE("release gives up ownership without closing")
{
	Fd a(open_null());
	int raw = a.release();
	CHECK_FALSE(a);
	CHECK(is_open(raw));
	::close(raw);
}

TEST_CASE("reset closes and takes the new fd")
{
	Fd a(open_null());
	int old = a.get();
	int fresh = open_null();
	a.reset(fresh);
	CHECK_FALSE(is_open(old));
	CHECK(a.get() == fresh);
	a.reset();
	CHECK_FALSE(is_open(fresh));
}

}
