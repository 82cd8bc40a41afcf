// SPDX-License-Identifier: MIT
//
// Compartment: a function of a compartment image, called on the calling
// thread in an address space that maps only what the caller chose, every
// system call it makes handed to a policy.  For privilege splitting:
// parse untrusted input with a library that cannot reach the caller's
// memory, descriptors or system calls.
//
//	auto image = unpriv::Image::load("inflate.img");   // unpriv_add_compartment()
//	auto comp = unpriv::Compartment::create(*image, {.budget = 1 << 20});
//	auto in = unpriv::GuestMemory::create(len);
//	auto win = comp->share(*in, unpriv::Access::read);
//	auto n = comp->call("parse", win->addr(), len);     // Result<std::uint64_t>
//	if (!n)
//		puts(comp->last_failure().describe().c_str());
//
// What a compartment's address space holds, and nothing else:
//
//	gate_addr (1 page)     the exit gate, read-only code: the return address
//	                       of every call; it moves rax to rdi and makes
//	                       system call gate_nr, which ends the call
//	tcb_addr (1 page)      the thread control block %fs points to: a self
//	                       pointer at 0, the stack-protector canary at 0x28
//	[image_start, image_end)  the image's PT_LOAD segments, with their
//	                       protections, as linked (ET_EXEC, no interpreter)
//	[stack_top - stack, stack_top)  the stack, unmapped below
//	[heap_start, heap_start + budget)  the heap: pages handed out by brk()
//	                       and anonymous mmap() under Policy::allow_memory()
//	windows                GuestMemory the caller shares, at the address
//	                       where the caller has it mapped
//
// Each call starts with fresh registers (the arguments in rdi, rsi, rdx,
// rcx, r8, r9, %fs at the thread control block, rsp at stack_top with the
// gate as return address) and ends when the entry returns (its rax is the
// result), or with an error: see CallFailure.  The image's memory, the
// heap and the FPU state carry over from call to call until reset().
//
// Threads: a Compartment is used by one thread at a time; the ptrace
// backend also wants create() and every call() on the same thread (see
// unpriv/backend.hpp).  Several compartments may run on several threads
// at once.
#pragma once

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "unpriv/backend.hpp"
#include "unpriv/error.hpp"
#include "unpriv/memory.hpp"
#include "unpriv/types.hpp"

namespace unpriv {

// The fixed parts of every compartment's address space.
namespace compartment_layout {
inline constexpr std::uint64_t gate_addr = 0x10000;	// vm.mmap_min_addr
inline constexpr std::uint64_t gate_nr = 0x7fff;		// no such call
inline constexpr std::uint64_t tcb_addr = 0x100000;
inline constexpr std::uint64_t image_start = 0x200000;
inline constexpr std::uint64_t image_end = 0x40000000;
inline constexpr std::uint64_t stack_top = 0xfffff000;	// a guard page above
inline constexpr std::uint64_t heap_start = 0x100000000;
inline constexpr std::uint64_t heap_max = 0x1000000000;	// largest budget
} // namespace compartment_layout

// A compartment image: a static, fixed-address x86-64 ELF executable
// (what unpriv_add_compartment() in CMake links), parsed once and
// shared by every compartment made from it.
class Image {
public:
	// Errors: those of open() and read(); errc::bad_image, with a
	// reason in *why when given, for anything but such an executable
	// with its segments in [image_start, image_end) and a symbol table.
	[[nodiscard]] static Result<Image> load(const std::string& path,
						std::string *why = nullptr);
	[[nodiscard]] static Result<Image> parse(std::span<const std::byte> elf,
						 std::string *why = nullptr);

	// The address of the global function symbol name, if there is one.
	[[nodiscard]] std::optional<std::uint64_t> symbol(std::string_view name) const;

	// The bytes the image occupies once loaded (whole pages).
	[[nodiscard]] std::size_t size() const noexcept;

	struct Data;	// the parsed image (src/compartment_image.cpp)
	[[nodiscard]] const Data& data() const noexcept { return *data_; }

private:
	explicit Image(std::shared_ptr<const Data> data) noexcept
		: data_(std::move(data)) {}

	std::shared_ptr<const Data> data_;
};

// How a window is shared with the compartment.
enum class Access { read, read_write };

// A range of the caller's GuestMemory mapped into the compartment at the
// same address as in the caller: pointers into it mean the same on both
// sides.  The compartment's mapping lasts until unshare() or the
// compartment goes; it keeps the memfd, not the caller's view, alive.
class Window {
public:
	[[nodiscard]] std::uint64_t addr() const noexcept { return addr_; }
	[[nodiscard]] std::size_t size() const noexcept { return size_; }
	[[nodiscard]] Access access() const noexcept { return access_; }

private:
	friend class Compartment;
	Window(std::uint64_t addr, std::size_t size, Access access) noexcept
		: addr_(addr), size_(size), access_(access) {}

	std::uint64_t addr_;
	std::size_t size_;
	Access access_;
};

class Compartment;

// What a policy handler decides for one system call.
class Verdict {
public:
	enum class Kind {
		serve,		// as the allow list says
		value,		// return value() to the compartment
		deny,		// -EPERM, or end the call under strict()
		end,		// end the call: errc::syscall_denied
	};

	static Verdict serve() noexcept { return {Kind::serve, 0}; }
	static Verdict ret(std::int64_t v) noexcept { return {Kind::value, v}; }
	static Verdict deny() noexcept { return {Kind::deny, 0}; }
	static Verdict end() noexcept { return {Kind::end, 0}; }

	[[nodiscard]] Kind kind() const noexcept { return kind_; }
	[[nodiscard]] std::int64_t value() const noexcept { return value_; }

private:
	Verdict(Kind kind, std::int64_t value) noexcept
		: kind_(kind), value_(value) {}

	Kind kind_;
	std::int64_t value_;
};

// What the compartment's system calls do.  By default each fails with
// -EPERM inside the compartment, which carries on.  Allowed calls are
// served by the library on the compartment's behalf:
//
//	allow_write(fd)   write(1, buf, len): written to the caller's
//	                  descriptor fd, at most 64 KiB at a time; any other
//	                  descriptor gets -EBADF
//	allow_memory()    brk(), mmap(MAP_PRIVATE | MAP_ANONYMOUS) without
//	                  PROT_EXEC or MAP_FIXED, munmap() of what mmap gave:
//	                  inside the heap; a request beyond the budget ends
//	                  the call with errc::budget_exceeded
//	allow_exit()      exit() and exit_group() end the call with
//	                  errc::compartment_exited and the status
//
// A handler, when set, sees every call first and returns a Verdict.
// strict(): a denied call ends the call (errc::syscall_denied) instead
// of failing.  32-bit system calls (int $0x80, sysenter) are always
// denied; one through sysenter always ends the call.
class Policy {
public:
	using Handler = std::function<Verdict(Compartment&, const SyscallExit&)>;

	Policy& allow_write(int host_fd) { write_fd_ = host_fd; return *this; }
	Policy& allow_memory() { memory_ = true; return *this; }
	Policy& allow_exit() { exit_ = true; return *this; }
	Policy& strict(bool on = true) { strict_ = on; return *this; }
	Policy& handler(Handler h) { handler_ = std::move(h); return *this; }

	[[nodiscard]] int write_fd() const noexcept { return write_fd_; }
	[[nodiscard]] bool memory() const noexcept { return memory_; }
	[[nodiscard]] bool exit() const noexcept { return exit_; }
	[[nodiscard]] bool is_strict() const noexcept { return strict_; }
	[[nodiscard]] const Handler& get_handler() const noexcept { return handler_; }

private:
	int write_fd_ = -1;
	bool memory_ = false;
	bool exit_ = false;
	bool strict_ = false;
	Handler handler_;
};

// Why the last call() failed.  errc tells the kind; this says the rest.
struct CallFailure {
	enum class Kind {
		none,		// the last call returned
		fault,		// a page fault: address, error_code, rip
		trap,		// any other exception: trap, signo, rip
		syscall,	// a denied system call, strict: syscall_nr, rip
		deadline,	// the deadline passed: rip where it was stopped
		budget,		// brk/mmap beyond the budget: syscall_nr, address
				// (the size asked for)
		exited,		// exit() under allow_exit(): exit_status
		backend,	// the backend failed: see the error code
	};

	Kind kind = Kind::none;
	std::uint64_t rip = 0;
	std::uint64_t address = 0;
	std::uint64_t error_code = 0;
	std::uint32_t trap = 0;
	int signo = 0;
	std::uint64_t syscall_nr = 0;
	int exit_status = 0;

	// One line, e.g. "fault at 0x7f0000001000 (read, not present), rip
	// 0x201234".
	[[nodiscard]] std::string describe() const;
};

// A point in time after which call() stops the compartment.
struct Deadline {
	std::chrono::steady_clock::time_point at;

	template <class Rep, class Period>
	static Deadline in(std::chrono::duration<Rep, Period> d)
	{
		return {std::chrono::steady_clock::now() +
			std::chrono::duration_cast<std::chrono::steady_clock::duration>(d)};
	}
};

// An entry point, resolved once with Compartment::entry().
struct Entry {
	std::uint64_t addr;
};

namespace detail {
template <class T>
concept CallArg = std::integral<T> || std::is_enum_v<T> || std::is_pointer_v<T>;

template <CallArg T>
constexpr std::uint64_t call_arg(T v) noexcept
{
	if constexpr (std::is_pointer_v<T>)
		return reinterpret_cast<std::uintptr_t>(v);
	else if constexpr (std::is_enum_v<T>)
		return static_cast<std::uint64_t>(
			static_cast<std::underlying_type_t<T>>(v));
	else
		return static_cast<std::uint64_t>(v);
}
} // namespace detail

class Compartment {
public:
	struct Config {
		// Bytes of heap that brk() and mmap() may hand out (page
		// multiple, at most compartment_layout::heap_max).
		std::size_t budget = 1 << 20;
		// Bytes of stack (page multiple, at most 64 MiB).
		std::size_t stack = 256 << 10;
		Policy policy = {};
		// The backend: UNPRIV_BACKEND's (Backend::open()) by default.
		std::optional<BackendKind> backend = std::nullopt;
	};

	// A compartment running image.  Errors: those of Backend::open(),
	// of creating its address space, vcpu and memory; EINVAL for a
	// budget or stack out of range.
	[[nodiscard]] static Result<Compartment> create(const Image& image,
							Config config);
	[[nodiscard]] static Result<Compartment> create(const Image& image)
	{
		return create(image, Config{});
	}

	Compartment(Compartment&&) noexcept;
	Compartment& operator=(Compartment&&) noexcept;
	~Compartment();

	[[nodiscard]] BackendKind kind() const noexcept;

	// Share len bytes of mem from offset (page aligned; len 0: to the
	// end) at the address where the caller sees them.  EINVAL for a
	// range outside mem or unaligned; EEXIST when it meets the
	// compartment's own memory or another window; the backend's errors.
	[[nodiscard]] Result<Window> share(const GuestMemory& mem, Access access,
					   std::uint64_t offset = 0,
					   std::size_t len = 0);
	// Unmap a window.  ENOENT if it is not one of this compartment's.
	[[nodiscard]] Result<void> unshare(const Window& w);

	// The entry point called name: errc::no_such_entry if the image has
	// no such global function.
	[[nodiscard]] Result<Entry> entry(std::string_view name) const;

	// Call an entry point with up to six integer (or pointer, or enum)
	// arguments, on this thread; the result is the entry's rax, which
	// the caller should treat as untrusted.  Errors, each with details
	// in last_failure(): errc::compartment_fault, compartment_trap,
	// syscall_denied, deadline_exceeded, budget_exceeded,
	// compartment_exited; the backend's errors; errc::no_such_entry.
	template <class... Args>
		requires(sizeof...(Args) <= 6 && (detail::CallArg<Args> && ...))
	[[nodiscard]] Result<std::uint64_t> call(Entry e, Args... args)
	{
		const std::uint64_t a[] = {detail::call_arg(args)..., 0};
		return call_with(e, std::span(a, sizeof...(Args)), nullptr);
	}

	template <class... Args>
		requires(sizeof...(Args) <= 6 && (detail::CallArg<Args> && ...))
	[[nodiscard]] Result<std::uint64_t> call(std::string_view name, Args... args)
	{
		auto e = entry(name);
		if (!e)
			return tl::unexpected(e.error());
		return call(*e, args...);
	}

	// The same, stopped with errc::deadline_exceeded (by a kick from
	// another thread) if it runs past the deadline.
	template <class... Args>
		requires(sizeof...(Args) <= 6 && (detail::CallArg<Args> && ...))
	[[nodiscard]] Result<std::uint64_t> call(Deadline d, Entry e, Args... args)
	{
		const std::uint64_t a[] = {detail::call_arg(args)..., 0};
		return call_with(e, std::span(a, sizeof...(Args)), &d);
	}

	template <class... Args>
		requires(sizeof...(Args) <= 6 && (detail::CallArg<Args> && ...))
	[[nodiscard]] Result<std::uint64_t> call(Deadline d, std::string_view name,
						 Args... args)
	{
		auto e = entry(name);
		if (!e)
			return tl::unexpected(e.error());
		return call(d, *e, args...);
	}

	// The general form: args.size() <= 6 (EINVAL otherwise), deadline
	// optional.
	[[nodiscard]] Result<std::uint64_t> call_with(Entry e,
						      std::span<const std::uint64_t> args,
						      const Deadline *deadline);

	// Why the last call failed (kind none after one that returned).
	[[nodiscard]] const CallFailure& last_failure() const noexcept;

	// Back to the initial image: the image's memory as loaded, the heap
	// empty and unmapped, the stack zeroed, the FPU in its initial
	// state.  Windows stay.  Errors: the backend's.
	[[nodiscard]] Result<void> reset();

	// Heap bytes handed out now (brk and mmap), and the budget.
	[[nodiscard]] std::size_t heap_used() const noexcept;
	[[nodiscard]] std::size_t budget() const noexcept;

	// Copy compartment memory, as AddressSpace::read()/write() do: for
	// a policy handler reading what a system call points at.
	[[nodiscard]] Result<std::size_t> read(std::uint64_t addr,
					       std::span<std::byte> buf);
	[[nodiscard]] Result<std::size_t> write(std::uint64_t addr,
						std::span<const std::byte> buf);

	struct State;	// src/compartment.cpp

private:
	explicit Compartment(std::unique_ptr<State> s) noexcept;

	std::unique_ptr<State> s_;
};

} // namespace unpriv
