// SPDX-License-Identifier: MIT
#include "unpriv/device.hpp"

#include <fcntl.h>

#include <linux/unpriv.h>

#include "unpriv/ioctl.hpp"

namespace unpriv {

Result<Device> Device::open(const char *path)
{
	Fd fd(::open(path, O_RDWR | O_CLOEXEC));
	if (!fd)
		return fail_errno();

	auto version = detail::ioctl<UNPRIV_GET_API_VERSION>(fd.get(), 0);
	if (!version) {
		// Any other file answers an unknown ioctl with ENOTTY (or, for
		// some devices, EINVAL): it is not ours.
		int e = version.error().value();
		if (e == ENOTTY || e == EINVAL)
			return fail(errc::not_an_unpriv_device);
		return tl::unexpected(version.error());
	}
	if (*version != UNPRIV_API_VERSION)
		return fail(errc::api_version_mismatch);
	return Device(std::move(fd), *version);
}

Result<int> Device::check_extension(unsigned long cap) const
{
	return detail::ioctl<UNPRIV_CHECK_EXTENSION>(fd_.get(), cap);
}

} // namespace unpriv
