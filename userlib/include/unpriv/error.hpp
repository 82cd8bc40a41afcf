// SPDX-License-Identifier: MIT
//
// libunpriv's one error style: a fallible call returns Result<T>, a
// tl::expected holding either the value or a std::error_code.  Errors from
// the kernel keep their errno (std::system_category); conditions the
// library itself detects use unpriv::errc (unpriv::category()).
#pragma once

#include <cerrno>
#include <system_error>
#include <type_traits>

#include <tl/expected.hpp>

namespace unpriv {

template <class T>
using Result = tl::expected<T, std::error_code>;

// What the library itself can find wrong.
enum class errc {
	not_an_unpriv_device = 1,	// the file does not answer the unpriv ABI
	api_version_mismatch,		// the module speaks another API version
	unknown_backend,		// UNPRIV_BACKEND names no backend
	wrong_backend,			// objects of two different backends
	not_supported,			// the backend cannot do this
	backend_failed,			// a backend's stub process died or
					// broke its protocol
	wrong_thread,			// ptrace: the address space belongs to
					// (is traced by) another thread
	// Compartments (unpriv/compartment.hpp): Compartment::last_failure()
	// has the details of the last five.
	bad_image,			// not a compartment image
	no_such_entry,			// the image has no such function
	compartment_fault,		// the call ended in a page fault
	compartment_trap,		// ... in another exception
	syscall_denied,			// ... in a system call the policy denies
	deadline_exceeded,		// ... at its deadline
	budget_exceeded,		// ... asking for more than its budget
	compartment_exited,		// ... in exit(), which the policy allows
};

const std::error_category& category() noexcept;

inline std::error_code make_error_code(errc e) noexcept
{
	return {static_cast<int>(e), category()};
}

// An error Result from a library condition or an errno value.
inline tl::unexpected<std::error_code> fail(errc e) noexcept
{
	return tl::unexpected(make_error_code(e));
}

inline tl::unexpected<std::error_code> fail_errno(int e = errno) noexcept
{
	return tl::unexpected(std::error_code(e, std::system_category()));
}

} // namespace unpriv

template <>
struct std::is_error_code_enum<unpriv::errc> : std::true_type {};
