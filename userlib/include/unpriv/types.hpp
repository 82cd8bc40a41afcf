// SPDX-License-Identifier: MIT
//
// The vocabulary every backend shares: protections, mappings, registers
// and exits.  The registers are the ABI's own struct unpriv_regs, so the
// module backend runs the guest straight from its run page.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <variant>

#include <linux/unpriv.h>

namespace unpriv {

// Where guest code runs.  See unpriv/backend.hpp for what each one is.
enum class BackendKind {
	module,		// the unpriv module, /dev/unpriv
	ptrace,		// a stub process per address space, PTRACE_SYSEMU
	seccomp,	// a stub process per address space, SECCOMP_RET_TRAP
};

// "module", "ptrace", "seccomp".
std::string_view to_string(BackendKind kind) noexcept;

// Guest page protection, a bit set as UNPRIV_PROT_*.
enum class Prot : std::uint32_t {
	none = 0,
	read = UNPRIV_PROT_READ,
	write = UNPRIV_PROT_WRITE,
	exec = UNPRIV_PROT_EXEC,
	rw = read | write,
	rx = read | exec,
	rwx = read | write | exec,
};

constexpr Prot operator|(Prot a, Prot b) noexcept
{
	return static_cast<Prot>(static_cast<std::uint32_t>(a) |
				 static_cast<std::uint32_t>(b));
}

constexpr bool has(Prot set, Prot bits) noexcept
{
	return (static_cast<std::uint32_t>(set) &
		static_cast<std::uint32_t>(bits)) ==
	       static_cast<std::uint32_t>(bits);
}

// A range of guest addresses, [start, end).
struct AddressRange {
	std::uint64_t start = 0;
	std::uint64_t end = 0;

	[[nodiscard]] constexpr bool empty() const noexcept { return start >= end; }
	// Whether [addr, addr + len) meets the range.
	[[nodiscard]] constexpr bool overlaps(std::uint64_t addr,
					      std::uint64_t len) const noexcept
	{
		return !empty() && len && addr < end && addr + len > start;
	}
};

// Whether guest writes reach the file (shared) or are copied (private).
enum class Share { shared, private_ };

// len bytes of file fd from offset, mapped at guest address addr; all
// three page aligned.  Like mmap(MAP_FIXED): it replaces what was there.
struct Mapping {
	std::uint64_t addr = 0;
	std::uint64_t len = 0;
	int fd = -1;
	std::uint64_t offset = 0;
	Prot prot = Prot::none;
	Share share = Share::shared;
};

// One operation of AddressSpace::batch().
struct AsOp {
	enum class Kind { map, unmap, protect } kind;
	Mapping m;	// map: all of it; unmap: addr, len; protect: also prot

	static AsOp map(const Mapping& m) noexcept { return {Kind::map, m}; }
	static AsOp unmap(std::uint64_t addr, std::uint64_t len) noexcept
	{
		return {Kind::unmap, {.addr = addr, .len = len}};
	}
	static AsOp protect(std::uint64_t addr, std::uint64_t len,
			    Prot prot) noexcept
	{
		return {Kind::protect, {.addr = addr, .len = len, .prot = prot}};
	}
};

// The guest's general registers, flags, segment selectors and FS/GS
// bases: see struct unpriv_regs in <linux/unpriv.h>.
using Regs = unpriv_regs;

inline constexpr std::uint16_t cs_64 = UNPRIV_CS_64;
inline constexpr std::uint16_t cs_32 = UNPRIV_CS_32;
inline constexpr std::uint16_t ds_user = UNPRIV_DS;

// Which instruction made a guest system call.
enum class SyscallInsn : std::uint32_t {
	syscall = UNPRIV_SYSCALL_INSN_SYSCALL,	// syscall, 64-bit mode
	int80 = UNPRIV_SYSCALL_INSN_INT80,	// int $0x80
	fast32 = UNPRIV_SYSCALL_INSN_FAST32,	// sysenter, or syscall in
						// 32-bit mode: rip is lost
};

// The guest made a system call; it did not run.  regs().rax holds the
// number (Linux's orig_rax) and rip points after the instruction: set
// rax to the result and run again to continue after it.
struct SyscallExit {
	std::uint64_t nr;
	std::array<std::uint64_t, 6> args;	// rdi rsi rdx r10 r8 r9, or
						// ebx ecx edx esi edi ebp
	SyscallInsn insn;
	bool compat;				// the 32-bit ABI
};

// A page fault the address space cannot satisfy; rip is the faulting
// instruction.
struct FaultExit {
	std::uint64_t address;		// cr2
	std::uint64_t error_code;	// x86 page-fault error code
	std::uint32_t trap;		// 14
	int signo;			// what Linux would send: SIGSEGV, SIGBUS
	int si_code;			// SEGV_MAPERR, SEGV_ACCERR, ...
};

// Any other exception: int3 (3), invalid opcode (6), divide error (0),
// debug/single step (1), general protection (13), FP errors (16, 19)...
struct TrapExit {
	std::uint32_t trap;		// x86 exception vector
	int signo;			// the signal Linux would send
	int si_code;			// ILL_ILLOPN, FPE_INTDIV, TRAP_BRKPT, ...
	std::uint64_t address;		// si_addr, where Linux sets one
	std::uint64_t error_code;	// the exception's error code
	std::uint64_t dr6;		// debug status, for trap 1
};

// The run stopped without a guest event: a host signal is pending for
// the calling thread (it is delivered as usual), or a kick.  Running
// again continues the guest where it was.
struct InterruptedExit {};

using Exit = std::variant<SyscallExit, FaultExit, TrapExit, InterruptedExit>;

} // namespace unpriv
