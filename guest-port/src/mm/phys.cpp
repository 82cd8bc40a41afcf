// SPDX-License-Identifier: GPL-2.0
#include "mm/phys.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cstring>

#include "host/io.hpp"

namespace guest {

KResult<PhysMemory> PhysMemory::create(std::uint64_t size)
{
	auto mem = unpriv::GuestMemory::create(page_up(size), "unpriv-guest-ram");
	if (!mem)
		return kerr(mem.error().value());
	return PhysMemory(std::move(*mem));
}

PhysMemory::PhysMemory(unpriv::GuestMemory mem) : mem_(std::move(mem))
{
	free_.emplace(0, mem_.size());
}

KResult<std::uint64_t> PhysMemory::alloc(std::uint64_t len,
					 std::optional<std::uint64_t> at)
{
	assert(len && page_aligned(len));
	std::lock_guard lock(lock_);

	auto take = [&](std::map<std::uint64_t, std::uint64_t>::iterator it,
			std::uint64_t off) {
		std::uint64_t start = it->first, end = it->first + it->second;

		free_.erase(it);
		if (start < off)
			free_.emplace(start, off - start);
		if (off + len < end)
			free_.emplace(off + len, end - (off + len));
		allocated_ += len;
		return off;
	};

	if (at && page_aligned(*at)) {
		auto it = free_.upper_bound(*at);
		if (it != free_.begin()) {
			--it;
			if (it->first + it->second >= *at + len && *at + len > *at)
				return take(it, *at);
		}
	}
	for (auto it = free_.begin(); it != free_.end(); ++it)
		if (it->second >= len)
			return take(it, it->first);
	return kerr(ENOMEM);
}

void PhysMemory::free(std::uint64_t off, std::uint64_t len)
{
	assert(len && page_aligned(off) && page_aligned(len));
	std::lock_guard lock(lock_);

	// Pages another process still holds stay; the rest go, by runs.
	std::uint64_t end = off + len, run = off;
	for (auto it = shared_.lower_bound(off); it != shared_.end() && it->first < end;) {
		if (run < it->first)
			retire(run, it->first - run);
		run = it->first + page_size;
		it = --it->second ? std::next(it) : shared_.erase(it);
	}
	if (run < end)
		retire(run, end - run);
}

PhysPin PhysMemory::pin(std::uint64_t off, std::uint64_t len)
{
	assert(len && off + len <= size());
	std::lock_guard lock(lock_);
	pins_.push_back({off, len});
	return PhysPin(this, off, len);
}

void PhysMemory::unpin(std::uint64_t off, std::uint64_t len)
{
	std::lock_guard lock(lock_);
	auto it = std::find_if(pins_.begin(), pins_.end(), [&](const Range& p) {
		return p.off == off && p.len == len;
	});
	assert(it != pins_.end());
	*it = pins_.back();
	pins_.pop_back();
	if (retired_.empty())
		return;
	std::erase_if(retired_, [&](const Range& r) {
		if (pinned(r.off, r.len))
			return false;
		release(r.off, r.len);
		return true;
	});
}

bool PhysMemory::pinned(std::uint64_t off, std::uint64_t len) const
{
	return std::any_of(pins_.begin(), pins_.end(), [&](const Range& p) {
		return p.off < off + len && off < p.off + p.len;
	});
}

// A range no one holds any more: free now, or when its pins go.
void PhysMemory::retire(std::uint64_t off, std::uint64_t len)
{
	if (pinned(off, len))
		retired_.push_back({off, len});
	else
		release(off, len);
}

void PhysMemory::share(std::uint64_t off, std::uint64_t len)
{
	std::lock_guard lock(lock_);
	for (std::uint64_t p = off; p < off + len; p += page_size)
		shared_[p]++;
}

KResult<std::uint64_t> PhysMemory::copy(std::uint64_t from, std::uint64_t len,
				       std::uint64_t *copied)
{
	auto to = alloc(len);
	if (!to)
		return to;
	// The memfd is sparse: walk its data, not its length.  lseek's
	// offset is not ours to keep (SEEK_DATA moves it, no one reads it).
	const std::uint64_t end = from + len;
	for (std::uint64_t pos = from; pos < end;) {
		auto data = host::lseek(fd(), static_cast<std::int64_t>(pos), SEEK_DATA);
		if (!data || static_cast<std::uint64_t>(*data) >= end)
			break;
		auto hole = host::lseek(fd(), *data, SEEK_HOLE);
		std::uint64_t stop =
			!hole ? end : std::min<std::uint64_t>(end, static_cast<std::uint64_t>(*hole));
		std::uint64_t d = static_cast<std::uint64_t>(*data);
		// copy_file_range copies page cache to page cache, without
		// faulting both ranges into our view (twice as fast as a
		// memcpy through it for 16 MiB); memcpy where it cannot.
		std::uint64_t in = d, out = *to + (d - from);
		std::uint64_t left = stop - d;
		while (left) {
			auto n = host::copy_file_range(fd(), &in, fd(), &out, left);
			if (!n || *n == 0) {
				std::memcpy(host(out), host(in), left);
				break;
			}
			left -= *n;
		}
		*copied += stop - d;
		pos = stop;
	}
	return to;
}

void PhysMemory::release(std::uint64_t off, std::uint64_t len)
{
	zero(off, len);
	allocated_ -= len;

	auto next = free_.lower_bound(off);
	if (next != free_.begin()) {
		auto prev = std::prev(next);
		assert(prev->first + prev->second <= off);
		if (prev->first + prev->second == off) {
			off = prev->first;
			len += prev->second;
			free_.erase(prev);
		}
	}
	if (next != free_.end()) {
		assert(off + len <= next->first);
		if (off + len == next->first) {
			len += next->second;
			free_.erase(next);
		}
	}
	free_.emplace(off, len);
}

void PhysMemory::zero(std::uint64_t off, std::uint64_t len)
{
	// Every mapping of the memfd, the guest's and ours, sees the hole
	// at once.  Punching cannot fail on a memfd but for bad arguments.
	(void)host::fallocate(fd(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len);
}

} // namespace guest
