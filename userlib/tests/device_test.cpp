// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <linux/unpriv.h>

#include "helpers.hpp"
#include "unpriv/device.hpp"

using unpriv::Device;
using unpriv::test::open_fds;

TEST_SUITE("Device") {

TEST_CASE("a missing device is the errno of open")
{
	auto before = open_fds();
	auto dev = Device::open("/nonexistent/unpriv");
	REQUIRE_FALSE(dev);
	CHECK(dev.error() == std::errc::no_such_file_or_directory);
	CHECK(open_fds() == before);
}

TEST_CASE("a file that is not an unpriv device is refused and closed")
{
	auto before = open_fds();
	for (const char *path : {"/dev/null", "/dev/zero", "/proc/self/status"}) {
		CAPTURE(path);
		auto dev = Device::open(path);
		REQUIRE_FALSE(dev);
		CHECK(dev.error() == unpriv::errc::not_an_unpriv_device);
		CHECK(dev.error().message() == "not an unpriv device");
	}
	CHECK(open_fds() == before);
}

TEST_CASE("library errors have their own category")
{
	auto e = make_error_code(unpriv::errc::api_version_mismatch);
	CHECK(std::string(e.category().name()) == "unpriv");
	CHECK(e.message() == "unpriv module speaks another API version");
	CHECK(e != std::errc::invalid_argument);
}

}

TEST_SUITE("module: Device") {

TEST_CASE("opens and reports the API version")
{
	auto dev = Device::open();
	REQUIRE_MESSAGE(dev, dev.error().message());
	CHECK(dev->api_version() == UNPRIV_API_VERSION);
	CHECK(dev->fd() >= 0);
}

TEST_CASE("unknown extensions are absent")
{
	auto dev = Device::open();
	REQUIRE(dev);
	for (unsigned long cap : {0UL, 0xfffUL, ~0UL}) {
		CAPTURE(cap);
		auto r = dev->check_extension(cap);
		REQUIRE(r);
		CHECK(*r == 0);
	}
}

TEST_CASE("devices are independent and close cleanly")
{
	auto before = open_fds();
	{
		auto a = Device::open();
		auto b = Device::open();
		REQUIRE(a);
		REQUIRE(b);
		CHECK(a->fd() != b->fd());
		Device moved = std::move(*a);
		CHECK(moved.api_version() == UNPRIV_API_VERSION);
		CHECK(open_fds() == before + 2);
	}
	CHECK(open_fds() == before);
}

}
