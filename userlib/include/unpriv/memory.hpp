// SPDX-License-Identifier: MIT
//
// GuestMemory: a memfd to serve as a guest's physical memory, mapped
// into the host too, so the owner reads and writes it directly.  Map its
// pages into address spaces with AddressSpace::map({.fd = mem.fd()...}).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "unpriv/error.hpp"
#include "unpriv/fd.hpp"

namespace unpriv {

class GuestMemory {
public:
	// size bytes (rounded up to pages) of zeroed memory.  Errors: those
	// of memfd_create, ftruncate and mmap; EINVAL for size 0.
	[[nodiscard]] static Result<GuestMemory> create(
		std::size_t size, const char *name = "unpriv-guest");

	GuestMemory(GuestMemory&& other) noexcept;
	GuestMemory& operator=(GuestMemory&& other) noexcept;
	~GuestMemory();

	[[nodiscard]] int fd() const noexcept { return fd_.get(); }
	[[nodiscard]] std::size_t size() const noexcept { return size_; }

	// The host's view of all of it.
	[[nodiscard]] std::span<std::byte> bytes() const noexcept
	{
		return {data_, size_};
	}

	// The host's view of [offset, offset + len): empty when out of range.
	[[nodiscard]] std::span<std::byte> bytes(std::uint64_t offset,
						 std::size_t len) const noexcept;

private:
	GuestMemory(Fd fd, std::byte *data, std::size_t size) noexcept
		: fd_(std::move(fd)), data_(data), size_(size)
	{
	}

	Fd fd_;
	std::byte *data_ = nullptr;
	std::size_t size_ = 0;
};

} // namespace unpriv
