// SPDX-License-Identifier: MIT
//
// The seccomp backend is not written yet: opening it says so.
#include "stub.hpp"

namespace unpriv::detail {

Result<std::unique_ptr<AddressSpaceImpl>> create_seccomp_address_space()
{
	return fail(errc::not_supported);
}

Result<std::shared_ptr<BackendImpl>> open_seccomp_backend()
{
	return fail(errc::not_supported);
}

} // namespace unpriv::detail
