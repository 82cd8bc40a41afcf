// SPDX-License-Identifier: MIT
//
// Choosing a backend, and what happens across backends.  The behaviour
// of each backend is backend_test.cpp's.
#include <doctest/doctest.h>

#include <stdlib.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <vector>

#include "helpers.hpp"
#include "unpriv/backend.hpp"
#include "unpriv/device.hpp"

using namespace unpriv;

namespace {

// Sets UNPRIV_BACKEND for a scope, and puts it back.
class EnvBackend {
public:
	explicit EnvBackend(const char *value)
	{
		if (const char *old = getenv(Backend::env_var))
			old_ = old;
		if (value)
			setenv(Backend::env_var, value, 1);
		else
			unsetenv(Backend::env_var);
	}
	~EnvBackend()
	{
		if (old_)
			setenv(Backend::env_var, old_->c_str(), 1);
		else
			unsetenv(Backend::env_var);
	}

private:
	std::optional<std::string> old_;
};

} // namespace

TEST_SUITE("Backend") {

TEST_CASE("backend names")
{
	for (auto kind : {BackendKind::module, BackendKind::ptrace,
			  BackendKind::seccomp}) {
		auto parsed = Backend::parse(to_string(kind));
		REQUIRE(parsed);
		CHECK(*parsed == kind);
	}
	for (const char *bad : {"", "Module", "kvm", "seccomp "}) {
		CAPTURE(bad);
		auto parsed = Backend::parse(bad);
		REQUIRE_FALSE(parsed);
		CHECK(parsed.error() == errc::unknown_backend);
	}
}

TEST_CASE("UNPRIV_BACKEND chooses the backend")
{
	SUBCASE("an unknown name is an error, not a fallback") {
		EnvBackend env("nonesuch");
		auto b = Backend::open();
		REQUIRE_FALSE(b);
		CHECK(b.error() == errc::unknown_backend);
		CHECK(b.error().message() ==
		      "no such unpriv backend (module, ptrace, seccomp)");
	}
	SUBCASE("module, where there is no device, is the device's error") {
		if (access(Device::default_path, F_OK) == 0)
			return;		// the "module" suites cover this case
		std::size_t before = test::open_fds();
		EnvBackend env("module");
		auto b = Backend::open();
		REQUIRE_FALSE(b);
		CHECK(b.error() == std::errc::no_such_file_or_directory);
		CHECK(test::open_fds() == before);
	}
	SUBCASE("unset: the module when there is a device, seccomp otherwise") {
		EnvBackend env(nullptr);
		bool have_module = access(Device::default_path, F_OK) == 0;
		auto expected = have_module ? BackendKind::module : BackendKind::seccomp;
		auto b = Backend::open();
		if (b)
			CHECK(b->kind() == expected);
		else	// that backend may not be usable here; but it was the one tried
			CHECK(Backend::open(expected).error() == b.error());
	}
}

TEST_CASE("an address space and a vcpu of different backends do not mix")
{
	std::vector<Backend> open;
	for (auto kind : {BackendKind::module, BackendKind::ptrace,
			  BackendKind::seccomp})
		if (auto b = Backend::open(kind))
			open.push_back(std::move(*b));
	if (open.size() < 2) {
		MESSAGE("fewer than two backends usable here");
		return;
	}
	auto as = open[0].create_address_space();
	auto vcpu = open[1].create_vcpu();
	REQUIRE(as);
	REQUIRE(vcpu);
	auto exit = vcpu->run(*as);
	REQUIRE_FALSE(exit);
	CHECK(exit.error() == errc::wrong_backend);
}

}
