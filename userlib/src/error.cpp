// SPDX-License-Identifier: MIT
#include "unpriv/error.hpp"

#include <string>

namespace unpriv {
namespace {

class Category final : public std::error_category {
public:
	const char *name() const noexcept override { return "unpriv"; }

	std::string message(int ev) const override
	{
		switch (static_cast<errc>(ev)) {
		case errc::not_an_unpriv_device:
			return "not an unpriv device";
		case errc::api_version_mismatch:
			return "unpriv module speaks another API version";
		case errc::unknown_backend:
			return "no such unpriv backend (module, ptrace, seccomp)";
		case errc::wrong_backend:
			return "address space and vcpu of different backends";
		case errc::not_supported:
			return "not supported by this unpriv backend";
		case errc::backend_failed:
			return "the backend's stub process failed";
		case errc::wrong_thread:
			return "the address space belongs to another thread";
		}
		return "unknown unpriv error " + std::to_string(ev);
	}
};

} // namespace

const std::error_category& category() noexcept
{
	static const Category instance;
	return instance;
}

} // namespace unpriv
