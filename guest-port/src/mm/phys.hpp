// SPDX-License-Identifier: GPL-2.0
//
// PhysMemory: the guest's physical memory, one memfd, and the allocator
// of its page ranges.
//
// The memfd is sparse: reserving a range costs nothing, a page takes
// host memory when the guest (or the guest port) first touches it, and
// freeing a range punches a hole, which gives the memory back to the host
// and makes the range read as zeros when it is handed out again.  So the
// memfd can be large (it is the most the guest can have at once, not what
// it has), and anonymous memory is zero-filled without anyone writing
// zeros.
//
// Ranges are handed out first fit from the lowest offset, so that
// memory stays packed; a caller that wants to grow a range it holds (a
// heap, a stack, an anonymous mapping next to another) asks for the range
// right after it, and gets it when it is free.
//
// Every guest process allocates from the one PhysMemory, each on its own
// host thread: alloc(), free(), share() and the counters are serialized
// by lock_, a leaf lock (no other lock is taken under it).  A page
// shared by several processes (MAP_SHARED | MAP_ANONYMOUS across fork)
// carries a count of its extra holders; free() of such a page drops one
// and leaves the page to the last holder.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>

#include <unpriv/memory.hpp>

#include "common.hpp"

namespace guest {

class PhysMemory {
public:
	// size bytes of guest physical memory (rounded up to pages).
	// Errors: those of memfd_create, ftruncate and mmap.
	static KResult<PhysMemory> create(std::uint64_t size);

	// len bytes (a page multiple, not 0); at exactly `at` when that range
	// is free, otherwise anywhere.  ENOMEM when no free range is large
	// enough.
	KResult<std::uint64_t> alloc(std::uint64_t len,
				     std::optional<std::uint64_t> at = {});

	// Give back [off, off + len), which alloc() handed out.  Its
	// contents are gone: the next alloc() of it reads zeros.
	void free(std::uint64_t off, std::uint64_t len);

	// Make [off, off + len) read as zeros (MADV_DONTNEED on anonymous
	// memory), keeping it allocated.
	void zero(std::uint64_t off, std::uint64_t len);

	// One more holder of [off, off + len) (a forked MAP_SHARED
	// anonymous mapping): the next free() of a page of it only drops
	// the hold.
	void share(std::uint64_t off, std::uint64_t len);

	// A copy of [from, from + len) in a new range (fork of private
	// memory): only the pages that hold data are copied, the holes stay
	// holes; *copied counts the bytes.  ENOMEM as alloc().
	KResult<std::uint64_t> copy(std::uint64_t from, std::uint64_t len,
				    std::uint64_t *copied);

	// The guest port's own view of physical memory at off.
	[[nodiscard]] std::byte *host(std::uint64_t off) const noexcept
	{
		return mem_.bytes().data() + off;
	}

	[[nodiscard]] int fd() const noexcept { return mem_.fd(); }
	[[nodiscard]] std::uint64_t size() const noexcept { return mem_.size(); }
	[[nodiscard]] std::uint64_t allocated() const
	{
		std::lock_guard lock(lock_);
		return allocated_;
	}

	PhysMemory(PhysMemory&& o) noexcept
		: mem_(std::move(o.mem_)), free_(std::move(o.free_)),
		  shared_(std::move(o.shared_)), allocated_(o.allocated_)
	{
	}

private:
	explicit PhysMemory(unpriv::GuestMemory mem);
	void release(std::uint64_t off, std::uint64_t len);	// lock_ held

	unpriv::GuestMemory mem_;
	mutable std::mutex lock_;
	std::map<std::uint64_t, std::uint64_t> free_;	// offset -> length; lock_
	std::map<std::uint64_t, unsigned> shared_;	// page -> extra holders; lock_
	std::uint64_t allocated_ = 0;			// lock_
};

} // namespace guest
