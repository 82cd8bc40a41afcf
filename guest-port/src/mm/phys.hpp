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
//
// I/O in progress pins what it reads into or writes from (Linux's
// get_user_pages() and FOLL_PIN): a host read() straight into the
// guest's buffer may block for as long as the other end likes, and a
// thread of the guest may meanwhile unmap the buffer, or the process
// exit.  free() of a pinned range leaves it allocated, and it is given
// back (and punched) when the last pin on it goes: the I/O ends in
// memory that no one else has been given.  Pins are few (one per guest
// thread in a host call at most), so they are a list.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include <unpriv/memory.hpp>

#include "common.hpp"

namespace guest {

class PhysMemory;

// A pin on a range of physical memory (PhysMemory::pin()): the guest
// port's view of it, which stays the memory of whoever had it when the
// pin was taken for as long as the pin lives.  Empty: no pin.
class PhysPin {
public:
	PhysPin() noexcept = default;
	~PhysPin() { reset(); }
	PhysPin(PhysPin&& o) noexcept
		: phys_(std::exchange(o.phys_, nullptr)), off_(o.off_), len_(o.len_)
	{
	}
	PhysPin& operator=(PhysPin&& o) noexcept
	{
		if (this != &o) {
			reset();
			phys_ = std::exchange(o.phys_, nullptr);
			off_ = o.off_;
			len_ = o.len_;
		}
		return *this;
	}
	PhysPin(const PhysPin&) = delete;
	PhysPin& operator=(const PhysPin&) = delete;

	explicit operator bool() const noexcept { return phys_ != nullptr; }
	[[nodiscard]] std::span<std::byte> bytes() const noexcept;
	void reset() noexcept;

private:
	friend class PhysMemory;
	PhysPin(PhysMemory *phys, std::uint64_t off, std::uint64_t len) noexcept
		: phys_(phys), off_(off), len_(len)
	{
	}

	PhysMemory *phys_ = nullptr;
	std::uint64_t off_ = 0, len_ = 0;	// bytes, not pages
};

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
	// contents are gone: the next alloc() of it reads zeros.  A range
	// that a pin overlaps goes when the last such pin does.
	void free(std::uint64_t off, std::uint64_t len);

	// Pin len bytes (not 0) at off, which the caller holds allocated
	// now (under the lock that keeps its owner from freeing it).
	[[nodiscard]] PhysPin pin(std::uint64_t off, std::uint64_t len);

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

	// Not while pinned.
	PhysMemory(PhysMemory&& o) noexcept
		: mem_(std::move(o.mem_)), free_(std::move(o.free_)),
		  shared_(std::move(o.shared_)), allocated_(o.allocated_)
	{
	}

private:
	friend class PhysPin;
	struct Range {
		std::uint64_t off, len;
	};

	explicit PhysMemory(unpriv::GuestMemory mem);
	void release(std::uint64_t off, std::uint64_t len);	// lock_ held
	void retire(std::uint64_t off, std::uint64_t len);	// lock_ held
	[[nodiscard]] bool pinned(std::uint64_t off, std::uint64_t len) const;	// lock_ held
	void unpin(std::uint64_t off, std::uint64_t len);

	unpriv::GuestMemory mem_;
	mutable std::mutex lock_;
	std::map<std::uint64_t, std::uint64_t> free_;	// offset -> length; lock_
	std::map<std::uint64_t, unsigned> shared_;	// page -> extra holders; lock_
	std::uint64_t allocated_ = 0;			// lock_
	std::vector<Range> pins_;	// lock_; one entry per pin
	std::vector<Range> retired_;	// lock_; freed while pinned
};

inline std::span<std::byte> PhysPin::bytes() const noexcept
{
	return phys_ ? std::span(phys_->host(off_), len_) : std::span<std::byte>();
}

inline void PhysPin::reset() noexcept
{
	if (phys_)
		std::exchange(phys_, nullptr)->unpin(off_, len_);
}

} // namespace guest
