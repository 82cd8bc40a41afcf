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
		case errc::bad_image:
			return "not a compartment image";
		case errc::no_such_entry:
			return "no such entry point in the compartment image";
		case errc::compartment_fault:
			return "the compartment faulted";
		case errc::compartment_trap:
			return "the compartment trapped";
		case errc::syscall_denied:
			return "the compartment made a system call its policy denies";
		case errc::deadline_exceeded:
			return "the compartment ran past its deadline";
		case errc::budget_exceeded:
			return "the compartment asked for more memory than its budget";
		case errc::compartment_exited:
			return "the compartment called exit";
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
