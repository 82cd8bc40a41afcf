// SPDX-License-Identifier: MIT
//
// Backend, AddressSpace, Vcpu: running guest code, whatever runs it.
//
//	auto backend = unpriv::Backend::open();		// or open(kind)
//	auto as = backend->create_address_space();
//	auto vcpu = backend->create_vcpu();
//	as->map({.addr = 0x10000, .len = 4096, .fd = mem.fd(),
//		 .prot = unpriv::Prot::rx});
//	vcpu->regs().rip = 0x10000;
//	auto exit = vcpu->run(*as);	// Result<Exit>
//
// Three backends implement the same interface:
//
// module   The unpriv module: UNPRIV_RUN switches the calling thread into
//          the address space.  Nothing but the guest's own mappings is in
//          an address space; any thread may run a vcpu, one at a time.
//
// ptrace   No module: each address space is a stub child process holding
//          the guest's mappings and a small stub, run under PTRACE_SYSEMU
//          (User-Mode Linux's skas approach).  Guest system calls are
//          syscall-entry stops, faults and traps are signal stops.
//
// seccomp  No module, no tracer: each address space is a stub child
//          process whose seccomp filter traps every system call made
//          outside the stub's code; the stub's signal handler hands each
//          exit to the running thread through shared memory and a futex
//          and waits to be resumed (modern UML, gVisor's systrap).
//
// What differs between them is documented where it differs; on every
// backend the same test suite (userlib/tests/backend_test.cpp) passes.
//
// Errors: every fallible call returns Result<T>.  Kernel errors keep
// their errno; errc::wrong_backend for an address space and vcpu from
// different backends; errc::not_supported for what a backend cannot do.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "unpriv/error.hpp"
#include "unpriv/types.hpp"

namespace unpriv {

namespace detail {
class BackendImpl;
class AddressSpaceImpl;
class VcpuImpl;
} // namespace detail

class AddressSpace;
class Vcpu;

class Backend {
public:
	// The environment variable that names the backend open() picks.
	static constexpr const char *env_var = "UNPRIV_BACKEND";

	// Open a backend of the given kind.  Errors: for module, those of
	// Device::open(); ptrace and seccomp need nothing but the kernel's
	// ptrace and seccomp.
	[[nodiscard]] static Result<Backend> open(BackendKind kind);

	// Open the backend UNPRIV_BACKEND names (module, ptrace, seccomp);
	// when it is unset or empty, module if /dev/unpriv exists, seccomp
	// otherwise.  errc::unknown_backend for any other name.
	[[nodiscard]] static Result<Backend> open();

	// The backend UNPRIV_BACKEND names, or an error if it names none.
	[[nodiscard]] static Result<BackendKind> parse(std::string_view name);

	Backend(Backend&&) noexcept;
	Backend& operator=(Backend&&) noexcept;
	~Backend();

	[[nodiscard]] BackendKind kind() const noexcept;

	// The guest addresses this backend keeps for itself, in every
	// address space: empty on module; ptrace and seccomp keep their stub
	// there, at the top of the user address space.  The guest's user
	// space ends at reserved().start: a map, unmap or protect that meets
	// the range fails with EINVAL, and so does run() with rip or rsp in
	// it.
	[[nodiscard]] AddressRange reserved() const noexcept;

	// A new, empty address space.
	[[nodiscard]] Result<AddressSpace> create_address_space();

	// A new vcpu: registers zero but for cs (64-bit code) and rflags
	// (0x202), the FPU in its initial state.
	[[nodiscard]] Result<Vcpu> create_vcpu();

private:
	explicit Backend(std::shared_ptr<detail::BackendImpl> impl) noexcept;

	std::shared_ptr<detail::BackendImpl> impl_;
};

class AddressSpace {
public:
	AddressSpace(AddressSpace&&) noexcept;
	AddressSpace& operator=(AddressSpace&&) noexcept;
	~AddressSpace();

	[[nodiscard]] BackendKind kind() const noexcept;

	// Map, unmap or change the protection of guest memory, as the
	// UNPRIV_AS_MAP, _UNMAP and _PROTECT ioctls describe (errors as
	// there: EINVAL, EBADF, EACCES, ENOMEM, ...).
	[[nodiscard]] Result<void> map(const Mapping& m);
	[[nodiscard]] Result<void> unmap(std::uint64_t addr, std::uint64_t len);
	[[nodiscard]] Result<void> protect(std::uint64_t addr,
					   std::uint64_t len, Prot prot);

	// Several operations in order, stopping at the first that fails.
	// *done (when given) says how many took effect, also on error.
	[[nodiscard]] Result<void> batch(std::span<const AsOp> ops,
					 std::size_t *done = nullptr);

	// Copy between guest memory at addr and buf, with a debugger's
	// rights (a private read-only page can be written).  Returns the
	// bytes copied: all, or fewer where the guest range stops being
	// mapped.  EIO when the first page is not mapped.
	[[nodiscard]] Result<std::size_t> read(std::uint64_t addr,
					       std::span<std::byte> buf);
	[[nodiscard]] Result<std::size_t> write(std::uint64_t addr,
						std::span<const std::byte> buf);

	// The file descriptor of the address space (module: the AS fd;
	// ptrace and seccomp: a pidfd of the stub process).
	[[nodiscard]] int fd() const noexcept;

private:
	friend class Backend;
	friend class Vcpu;
	explicit AddressSpace(std::unique_ptr<detail::AddressSpaceImpl> impl) noexcept;

	std::unique_ptr<detail::AddressSpaceImpl> impl_;
};

class Vcpu {
public:
	Vcpu(Vcpu&&) noexcept;
	Vcpu& operator=(Vcpu&&) noexcept;
	~Vcpu();

	[[nodiscard]] BackendKind kind() const noexcept;

	// The guest's registers: read by run(), written back at its exit.
	[[nodiscard]] Regs& regs() noexcept { return *regs_; }
	[[nodiscard]] const Regs& regs() const noexcept { return *regs_; }

	// unprivilege(): run the guest in as until its next exit.  A host
	// signal for the calling thread, or kick(), ends the run with
	// InterruptedExit.  Errors: EBUSY (the vcpu runs on another thread),
	// EINVAL (bad registers), errc::wrong_backend.
	[[nodiscard]] Result<Exit> run(AddressSpace& as);

	// Make a running run() return InterruptedExit promptly, or the next
	// run() if none is running.  Any thread may call it while the Vcpu
	// exists.
	[[nodiscard]] Result<void> kick() noexcept;

	// The size of the FPU image get_fpu() and set_fpu() take: the
	// standard (non-compacted) XSAVE format, as UNPRIV_GET_FPU's.
	[[nodiscard]] std::size_t fpu_size() const noexcept;
	// EINVAL when buf is smaller than fpu_size(); for set_fpu also a
	// component the CPU does not have, reserved MXCSR bits.
	[[nodiscard]] Result<void> get_fpu(std::span<std::byte> buf) const;
	[[nodiscard]] Result<void> set_fpu(std::span<const std::byte> buf);

	// The vcpu's file descriptor (module only; -1 on other backends).
	[[nodiscard]] int fd() const noexcept;

private:
	friend class Backend;
	explicit Vcpu(std::unique_ptr<detail::VcpuImpl> impl) noexcept;

	std::unique_ptr<detail::VcpuImpl> impl_;
	Regs *regs_;
};

} // namespace unpriv
