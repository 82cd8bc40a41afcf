// SPDX-License-Identifier: GPL-2.0
//
// The system call table: for each x86-64 system call number the guest
// port implements, its handler, and how --trace shows its arguments.
// A number with no handler is answered -ENOSYS, and counted.
//
// A handler gets the task and the six arguments and returns the value
// for the guest's rax: a result, or a negative errno.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <string>

#include "common.hpp"

namespace guest {

class Task;

using SysArgs = std::array<std::uint64_t, 6>;
using SysResult = std::int64_t;

// A handler that has set the registers itself (or ended the task)
// returns this: rax is left alone.
inline constexpr SysResult sys_noreturn = std::numeric_limits<SysResult>::min();

// A blocking call a signal interrupted returns one of these, Linux's
// own: the run loop restarts the call when no handler runs, or when the
// handler has SA_RESTART (ERESTARTSYS); otherwise the guest gets EINTR.
// A host call that failed with EINTR (the guest port's own interrupt,
// see Kernel) is ERESTARTSYS.
inline constexpr SysResult erestartsys = 512;
// Restarted whatever the handler's flags (fork and clone a signal
// came in the middle of: the guest never sees EINTR from them).
inline constexpr SysResult erestartnointr = 513;
inline constexpr SysResult erestartnohand = 514;
// A sleep a signal broke: restarted, when no handler runs, by
// restart_syscall() with the time left (Task::restart_block); a
// handler gets EINTR whatever its SA_RESTART.
inline constexpr SysResult erestart_restartblock = 516;
// EINTR that no restart may change (rt_sigtimedwait), where a host
// call's EINTR is the guest port's interrupt (ERESTARTSYS).
inline constexpr SysResult eintr_final = 4096 + EINTR;

// Whether ret is one of the restarts above: the run loop (the one
// place that resolves them, Kernel::on_syscall() and finish_restart())
// makes the guest's rax EINTR until a signal's handling decides.
[[nodiscard]] constexpr bool is_restart(SysResult ret) noexcept
{
	return ret == -erestartsys || ret == -erestartnointr || ret == -erestartnohand ||
	       ret == -erestart_restartblock;
}

// A KResult as a system call's return value.
template <class T>
SysResult sys_ret(const KResult<T>& r)
{
	if (!r)
		return -static_cast<SysResult>(r.error());
	if constexpr (std::is_void_v<T>)
		return 0;
	else
		return static_cast<SysResult>(*r);
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
