// SPDX-License-Identifier: MIT
//
// A test guest on the backend under test: one GuestMemory mapped as code
// (r-x), data (rw-) and stack (rw-), registers ready to enter the code.
// Guest code is written in assembly with GUEST_CODE() and copied into
// the code page.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <span>

#include "unpriv/backend.hpp"
#include "unpriv/memory.hpp"

namespace unpriv::test {

inline constexpr std::uint64_t page = 4096;
inline constexpr std::uint64_t code_addr = 0x100000;	// 1 page, r-x
inline constexpr std::uint64_t data_addr = 0x200000;	// 4 pages, rw-
inline constexpr std::uint64_t data_pages = 4;
inline constexpr std::uint64_t stack_addr = 0x300000;	// 1 page, rw-
inline constexpr std::uint64_t stack_top = stack_addr + page;
inline constexpr std::uint64_t unmapped_addr = 0x400000;

// Offsets of the pages in the guest's memory.
inline constexpr std::uint64_t code_off = 0;
inline constexpr std::uint64_t data_off = page;
inline constexpr std::uint64_t stack_off = (1 + data_pages) * page;
inline constexpr std::uint64_t mem_size = (2 + data_pages) * page;

// The backend every test of the "backend" suites runs on; set by main().
BackendKind current_backend();

// GUEST_CODE(name, "asm") defines guest code 'name' in the test binary's
// read-only data; name() returns its bytes.
#define GUEST_CODE(name, body)						\
	extern "C" const std::byte name##_start[], name##_end[];	\
	asm(".pushsection .rodata\n"					\
	    #name "_start:\n" body "\n" #name "_end:\n"			\
	    ".popsection\n");						\
	static std::span<const std::byte> name()			\
	{								\
		return {name##_start, name##_end};			\
	}

struct Guest {
	Backend backend;
	AddressSpace as;
	Vcpu vcpu;
	GuestMemory mem;

	// A guest running code on the backend under test.
	static Guest make(std::span<const std::byte> code)
	{
		auto backend = Backend::open(current_backend());
		REQUIRE_MESSAGE(backend, backend.error().message());
		auto as = backend->create_address_space();
		REQUIRE_MESSAGE(as, as.error().message());
		auto vcpu = backend->create_vcpu();
		REQUIRE_MESSAGE(vcpu, vcpu.error().message());
		auto mem = GuestMemory::create(mem_size);
		REQUIRE_MESSAGE(mem, mem.error().message());

		REQUIRE(code.size() <= page);
		std::memcpy(mem->bytes(code_off, page).data(), code.data(),
			    code.size());
		const AsOp ops[] = {
			AsOp::map({.addr = code_addr, .len = page, .fd = mem->fd(),
				   .offset = code_off, .prot = Prot::rx}),
			AsOp::map({.addr = data_addr, .len = data_pages * page,
				   .fd = mem->fd(), .offset = data_off,
				   .prot = Prot::rw}),
			AsOp::map({.addr = stack_addr, .len = page, .fd = mem->fd(),
				   .offset = stack_off, .prot = Prot::rw}),
		};
		auto mapped = as->batch(ops);
		REQUIRE_MESSAGE(mapped, mapped.error().message());

		vcpu->regs().rip = code_addr;
		vcpu->regs().rsp = stack_top;
		return {std::move(*backend), std::move(*as), std::move(*vcpu),
			std::move(*mem)};
	}

	Exit run()
	{
		auto exit = vcpu.run(as);
		REQUIRE_MESSAGE(exit, exit.error().message());
		return *exit;
	}

	// Run until the next exit, which must be of type E.
	template <class E>
	E run_to()
	{
		Exit exit = run();
		REQUIRE_MESSAGE(std::holds_alternative<E>(exit),
				"exit kind " << exit.index());
		return std::get<E>(exit);
	}

	// The guest's data page as the host sees it.
	template <class T>
	T data(std::uint64_t offset) const
	{
		T v;
		std::memcpy(&v, mem.bytes(data_off + offset, sizeof(T)).data(),
			    sizeof(T));
		return v;
	}
};

// The address of 'label' in guest code 'name', once in the code page.
#define GUEST_ADDR(name, label)						\
	(unpriv::test::code_addr +					\
	 static_cast<std::uint64_t>(label - name##_start))

} // namespace unpriv::test
