// SPDX-License-Identifier: MIT
//
// The seccomp backend is not written yet: opening it says so.
#include "backend_impl.hpp"

namespace unpriv::detail {

Result<std::shared_ptr<BackendImpl>> open_seccomp_backend()
{
	return fail(errc::not_supported);
}

} // namespace unpriv::detail
