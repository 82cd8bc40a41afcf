// SPDX-License-Identifier: MIT
//
// The ptrace backend is not written yet: opening it says so.
#include "backend_impl.hpp"

namespace unpriv::detail {

Result<std::shared_ptr<BackendImpl>> open_ptrace_backend()
{
	return fail(errc::not_supported);
}

} // namespace unpriv::detail
