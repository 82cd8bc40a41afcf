// SPDX-License-Identifier: GPL-2.0
//
// The system call table: for each x86-64 system call number the guest
// port implements, its handler, and how --trace shows its arguments.
// A number with no handler is answered -ENOSYS, and counted.
//
// A handler gets the task and the six arguments and returns a
// SysResult: the value for the guest's rax (a result, or a negative
// errno) and what the run loop does with it, its control.  The common
// case is a plain integer, `return n;` or `return -EBADF;`: the guest
// gets it.  The others are named, never in-band values:
//
//   SysResult::noreturn()        the handler set the registers itself
//                                (rt_sigreturn, execve) or ended the
//                                thread: rax is left alone
//   SysResult::restart_sys()     Linux's -ERESTARTSYS: the call is made
//                                again when no handler runs, or when the
//                                signal's handler has SA_RESTART; EINTR
//                                otherwise
//   SysResult::restart_nointr()  -ERESTARTNOINTR: made again whatever the
//                                handler (fork and clone a signal came in
//                                the middle of: the guest never sees EINTR)
//   SysResult::restart_nohand()  -ERESTARTNOHAND: made again only when no
//                                handler runs (rt_sigsuspend, pause, poll)
//   SysResult::restart_block()   -ERESTART_RESTARTBLOCK: when no handler
//                                runs, restart_syscall() goes on with what
//                                the call left in Task::restart_block (a
//                                sleep's end); a handler gets EINTR
//                                whatever its SA_RESTART
//   SysResult::eintr()           EINTR that no restart may change
//                                (rt_sigtimedwait, restart_syscall with
//                                nothing to go on with)
//
// One more rule makes the host's EINTR the guest port's interrupt (see
// Kernel): a plain -EINTR result is a host call a signal for the guest
// broke, and restarts as -ERESTARTSYS.  The run loop resolves all of
// it in one place, Kernel::finish_syscall() and, once the signal's
// handler is known, Kernel::finish_restart(): a restart leaves the
// guest's rax -EINTR until then.
//
// Guest-facing internals a signal may break (clone, execve, wait, a
// terminal's job control, rt_sigtimedwait) return SysKResult<T>: a
// KResult whose error is an errno or one of these controls
// (`return kerr(SysResult::restart_sys());`), never an errno past 511.
#pragma once

#include <array>
#include <cassert>
#include <concepts>
#include <cstdint>
#include <string>
#include <type_traits>

#include "common.hpp"

namespace guest {

class Task;

using SysArgs = std::array<std::uint64_t, 6>;

class SysResult {
public:
	enum class Control : std::uint8_t {
		ret,		// the guest's rax is value()
		noreturn,	// rax is left alone
		restart_sys,	// -ERESTARTSYS
		restart_nointr,	// -ERESTARTNOINTR
		restart_nohand,	// -ERESTARTNOHAND
		restart_block,	// -ERESTART_RESTARTBLOCK
		eintr,		// -EINTR, final
	};

	// Linux's own errnos, which never reach a program: 512 (ERESTARTSYS)
	// up to 4095, past which a negative value is no error.  A plain
	// result never takes one of them: a constant one does not compile,
	// any other fails an assertion (and at worst reaches the guest as
	// itself, never as a restart).
	static constexpr std::int64_t reserved_first = -4095, reserved_last = -512;

	// A result, or a negative errno, for the guest's rax.
	template <std::integral I>
		requires(!std::same_as<I, bool>)
	constexpr SysResult(I value) noexcept : value_(static_cast<std::int64_t>(value))
	{
		if (value_ >= reserved_first && value_ <= reserved_last)
			reserved_value();
	}

	[[nodiscard]] static constexpr SysResult noreturn() noexcept
	{
		return {Control::noreturn, 0};
	}
	[[nodiscard]] static constexpr SysResult restart_sys() noexcept
	{
		return {Control::restart_sys, -EINTR};
	}
	[[nodiscard]] static constexpr SysResult restart_nointr() noexcept
	{
		return {Control::restart_nointr, -EINTR};
	}
	[[nodiscard]] static constexpr SysResult restart_nohand() noexcept
	{
		return {Control::restart_nohand, -EINTR};
	}
	[[nodiscard]] static constexpr SysResult restart_block() noexcept
	{
		return {Control::restart_block, -EINTR};
	}
	[[nodiscard]] static constexpr SysResult eintr() noexcept
	{
		return {Control::eintr, -EINTR};
	}

	[[nodiscard]] constexpr Control control() const noexcept { return control_; }
	// The guest's rax: the result; -EINTR for eintr() and for a
	// restart (what the guest gets when the call is not made again);
	// 0 for noreturn(), whose rax is the handler's.
	[[nodiscard]] constexpr std::int64_t value() const noexcept { return value_; }
	// A negative errno, a restart or eintr(): the call did not succeed.
	[[nodiscard]] constexpr bool failed() const noexcept { return value_ < 0; }
	[[nodiscard]] constexpr bool is_restart() const noexcept
	{
		return control_ == Control::restart_sys || control_ == Control::restart_nointr ||
		       control_ == Control::restart_nohand || control_ == Control::restart_block;
	}

	constexpr bool operator==(const SysResult&) const noexcept = default;

private:
	constexpr SysResult(Control control, std::int64_t value) noexcept
		: value_(value), control_(control)
	{
	}

	// Not constexpr: a constant in the reserved range is an error at
	// compile time.
	static void reserved_value() noexcept
	{
		assert(!"a system call result in Linux's reserved errno range");
	}

	std::int64_t value_;
	Control control_ = Control::ret;
};

// Whether a call that returned restart how is made again once the
// signal that broke it is taken, as Linux's arch_do_signal_or_restart()
// decides (signal(7)): always when no handler runs; for a handler,
// ERESTARTNOINTR always, ERESTARTSYS when it has SA_RESTART, the others
// never (the guest gets EINTR).
[[nodiscard]] constexpr bool restarts(SysResult::Control how, bool handler,
				      bool sa_restart) noexcept
{
	using Control = SysResult::Control;
	switch (how) {
	case Control::restart_sys:
		return !handler || sa_restart;
	case Control::restart_nointr:
		return true;
	case Control::restart_nohand:
	case Control::restart_block:
		return !handler;
	case Control::ret:
	case Control::noreturn:
	case Control::eintr:
		break;
	}
	return false;
}

// The error of a guest-facing call that a signal may break: an errno,
// as KResult's, or a SysResult control.
class SysError {
public:
	// An errno e: `return kerr(e);` in a function returning SysKResult.
	constexpr SysError(int e) noexcept : result_(-static_cast<std::int64_t>(e)) {}
	// A control (a restart, eintr()), or a failed SysResult.
	constexpr SysError(SysResult r) noexcept : result_(r)
	{
		assert(r.control() != SysResult::Control::ret || r.failed());
	}

	// The errno; 0 for a control.
	[[nodiscard]] constexpr int err() const noexcept
	{
		return result_.control() == SysResult::Control::ret
			       ? static_cast<int>(-result_.value()) : 0;
	}
	// What the system call returns.
	[[nodiscard]] constexpr SysResult result() const noexcept { return result_; }

private:
	SysResult result_;
};

template <class T>
using SysKResult = tl::expected<T, SysError>;

// A failed SysKResult with a control: `return kerr(SysResult::restart_sys());`.
inline tl::unexpected<SysError> kerr(SysError e) noexcept
{
	return tl::unexpected(e);
}

// A KResult (or SysKResult) as a system call's return value.
template <class T>
SysResult sys_ret(const KResult<T>& r)
{
	if (!r)
		return -static_cast<std::int64_t>(r.error());
	if constexpr (std::is_void_v<T>)
		return 0;
	else
		return static_cast<std::int64_t>(*r);
}

template <class T>
SysResult sys_ret(const SysKResult<T>& r)
{
	if (!r)
		return r.error().result();
	if constexpr (std::is_void_v<T>)
		return 0;
	else
		return static_cast<std::int64_t>(*r);
}

// How --trace shows an argument.
enum class Arg : std::uint8_t {
	none,		// no such argument
	dec,		// signed decimal (an int)
	udec,		// unsigned decimal (a size)
	hex,
	ptr,		// an address, NULL for 0
	fd,
	atfd,		// an fd or AT_FDCWD
	path,		// a NUL-terminated string in guest memory
	inbuf,		// a buffer the guest passes; its length is the next argument
	outbuf,		// a buffer filled by the call; its length is the result
	oct,		// a mode
	omode,		// open's mode: shown only when the flags before it create
	oflags,		// open(2) flags
	prot,		// PROT_*
	mapflags,	// MAP_*
};

// How --trace shows the result.
enum class Ret : std::uint8_t {
	dec,
	hex,		// an address (mmap, brk)
	none,		// the call does not return (exit)
};

struct SyscallEntry {
	const char *name = nullptr;
	SysResult (*handler)(Task&, const SysArgs&) = nullptr;
	std::array<Arg, 6> args{};
	Ret ret = Ret::dec;
};

// The entry for nr: null past the table; an entry with no handler for
// a system call the guest port does not implement.
const SyscallEntry *syscall_entry(std::uint64_t nr);

// The name of system call nr (x86-64), or null for a number Linux does
// not have.
const char *syscall_name(std::uint64_t nr);

} // namespace guest
