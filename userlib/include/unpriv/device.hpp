// SPDX-License-Identifier: MIT
//
// Device: an open /dev/unpriv, the root of every unpriv object.
#pragma once

#include "unpriv/error.hpp"
#include "unpriv/fd.hpp"

namespace unpriv {

class Device {
public:
	static constexpr const char *default_path = "/dev/unpriv";

	// Open the device at path and check that it speaks this library's API
	// version.  Errors: the errno of open(2); errc::not_an_unpriv_device
	// when the file is not an unpriv device; errc::api_version_mismatch.
	[[nodiscard]] static Result<Device> open(const char *path = default_path);

	Device(Device&&) noexcept = default;
	Device& operator=(Device&&) noexcept = default;

	// UNPRIV_API_VERSION, as the module reported it.
	[[nodiscard]] int api_version() const noexcept { return api_version_; }

	// 0 when extension cap (UNPRIV_CAP_*) is absent, positive when present.
	[[nodiscard]] Result<int> check_extension(unsigned long cap) const;

	[[nodiscard]] int fd() const noexcept { return fd_.get(); }

private:
	Device(Fd fd, int api_version) noexcept
		: fd_(std::move(fd)), api_version_(api_version)
	{
	}

	Fd fd_;
	int api_version_;
};

} // namespace unpriv
