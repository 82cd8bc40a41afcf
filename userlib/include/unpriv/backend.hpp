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
// ptrace   No module: each address space is a stub process holding the
//          guest's mappings and a small stub, traced by the thread that
//          created it and run under PTRACE_SYSEMU (User-Mode Linux's skas
//          approach).  Guest system calls are syscall-entry stops, faults
//          and traps are signal stops.
//
// seccomp  No module, no tracer: each address space is a stub process
//          whose seccomp filter traps every system call made outside the
//          stub's code; the stub's signal handler hands each exit to the
//          running thread through shared memory and a futex and waits to
//          be resumed (modern UML, gVisor's systrap).
//
// On every backend the same suite (userlib/tests/backend_test.cpp,
// stub_test.cpp) passes.  Where ptrace and seccomp differ from the
// module, it is by what a stub process is:
//
// - The stub.  Its code and data sit in every address space, in
//   Backend::reserved() (empty on module), the top 2 MiB of the 47-bit
//   user address space: the guest can read them, and run and write
//   parts of them.  The guest's user space ends at reserved().start:
//   map, unmap and protect meeting the range fail with EINVAL, as does
//   run() with rip or rsp in it; read() and write() see it unmapped
//   (EIO).  Where the host kernel has a vsyscall page, it is there too.
// - One vcpu at a time per address space: seccomp's run() while another
//   vcpu runs in the same address space, and map, unmap, protect and
//   batch meanwhile, fail with EBUSY (the module lets several vcpus run
//   in one address space, and its mappings change while they do).
// - Threads.  ptrace: an address space is traced by the thread that
//   created it; run(), map(), unmap(), protect() and batch() on it from
//   any other thread fail with errc::wrong_thread.  read(), write(),
//   kick() and destruction work from any thread; a vcpu runs on any
//   thread, on that thread's address spaces.  seccomp: any thread.
// - Lifetime.  A stub dies with the thread that created its address
//   space (PR_SET_PDEATHSIG; ptrace also PTRACE_O_EXITKILL), so it
//   never outlives its owner: create address spaces on threads that
//   outlive them.  (Not execve(): destroy address spaces before it, or
//   their stubs stay until the new program exits.)  A stub that died, or broke the protocol, makes every
//   later call on its address space fail with errc::backend_failed (a
//   run() in progress returns it at once).  Destroying an address space
//   kills its stub and reaps it.  A stub is a child of the creating
//   thread with no exit signal: a SIGCHLD handler or wait(-1) in the
//   owner never sees it.  It shares the owner's file table (to map the
//   owner's descriptors) and holds no descriptor of its own;
//   AddressSpace::fd() is a pidfd of it.  Creating one costs about what
//   fork() does: it starts as a copy of the owner.
// - Host signals.  seccomp, like the module, ends run() with
//   InterruptedExit for any signal a handler takes during the run
//   (run() holds them back while it does not wait).  ptrace waits for
//   the stub in waitpid(), which a handler installed with SA_RESTART
//   restarts: such a signal does not end run(), which returns at the
//   guest's next exit; nor does one that comes while run() is between
//   two waits, microseconds per exit.  And ptrace makes the kernel send
//   the owner SIGCHLD at every stop of a stub, each guest exit: a
//   SIGCHLD handler in the owner sees them, and without SA_RESTART ends
//   the run.
// - kick() sends the stub SIGUSR1 (the stubs block every other signal):
//   same results as on the module.
// - Registers, FPU image (the same XSAVE format: ptrace's NT_X86_XSTATE,
//   seccomp's signal frame) and exits are the module's.  DR6: ptrace
//   reads it (PTRACE_PEEKUSER); seccomp's signal frame has none, and it
//   reports DR6.BS (0x4000) where si_code is TRAP_TRACE.  seccomp loads
//   the FS and GS bases with wrfsbase/wrgsbase, or arch_prctl() where
//   the CPU or kernel lacks FSGSBASE.
// - Security.  ptrace: no system call of the stub process runs while the
//   guest does (PTRACE_SYSEMU stops them all, jumps into the stub's code
//   included); what the guest writes into the stub's data only garbles
//   the details of its own faults.  seccomp: a system call from outside
//   the stub's code only traps, and one from it that the stub does not
//   make (anything but futex, mmap, munmap, mprotect, rt_sigreturn,
//   exit_group, write to its own eventfd, and arch_prctl without
//   FSGSBASE) kills the stub.  But a guest that jumps into the stub's
//   code can make those with arguments of its choosing: map any file
//   descriptor of the owner (whose file table the stub shares) into its
//   address space with the access that descriptor allows, change its
//   own mappings, the stub's included, block the kick signal with a
//   forged rt_sigreturn (a kick or host signal the stub then leaves
//   unanswered for 10 s ends the run with errc::backend_failed), and
//   forge its own exits.  Run untrusted code on seccomp only with no
//   file descriptor open that it must not reach.  The module and ptrace
//   have no such hole.
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
	// there: EINVAL, EBADF, EACCES, ENOMEM, ...; ptrace and seccomp also
	// EINVAL for Backend::reserved(), and the errors above).
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
	// InterruptedExit.  Errors: EBUSY (the vcpu runs on another thread;
	// seccomp: another vcpu runs in as), EINVAL (bad registers),
	// errc::wrong_backend; ptrace and seccomp: errc::backend_failed,
	// ptrace: errc::wrong_thread (see above).
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
