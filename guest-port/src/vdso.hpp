// SPDX-License-Identifier: GPL-2.0
//
// Vdso: the guest's vDSO (src/vdso/vdso.c, embedded at build time) and
// the page of clock data it reads (src/vdso/vvar.h), so that the guest
// reads its clocks without an exit.
//
// The data page describes each clock as a line in the TSC: a base and the
// TSC's rate.  The guest port calibrates the rate against the host's
// CLOCK_MONOTONIC_RAW, over a baseline that grows with every refresh, and
// refreshes the page at exits (at most once a millisecond): the wall
// clocks take the host's time plus --time-offset, the monotonic clocks
// the host's time but never less than what the guest could already have
// read.  Where the host does not keep time with the TSC (another
// clocksource), the page says so and the vDSO makes the system call.
//
// The image and the page are the guest port's physical memory, mapped
// into every process ([vvar] and [vdso] in /proc/self/maps).
#pragma once

#include <memory>
#include <mutex>

#include <time.h>

#include <cstdint>
#include <optional>

#include "common.hpp"
#include "mm/mm.hpp"
#include "mm/phys.hpp"

struct guest_vvar;

namespace guest {

class Vdso {
public:
	// Put the image and the data page into phys, and fill the page.
	static KResult<Vdso> create(PhysMemory& phys, std::int64_t time_offset_ns);

	// Map the data page and the image after it into mm; returns the
	// image's address, for AT_SYSINFO_EHDR.
	KResult<std::uint64_t> map(Mm& mm) const;

	// Bring the data page up to date, unless it was within a
	// millisecond or another thread is doing it.  Any thread.
	void refresh();

	// Whether the vDSO reads the TSC (or makes system calls).
	[[nodiscard]] bool uses_tsc() const noexcept { return use_tsc_; }

	// The guest's time on clock, in nanoseconds, as the vDSO would read
	// it now; nothing if the vDSO does not serve the clock.  The system
	// calls answer with this, so that a guest mixing the two never sees
	// its clock go back.
	[[nodiscard]] std::optional<std::int64_t> read_ns(clockid_t clock) const;

private:
	Vdso(PhysMemory& phys, std::uint64_t vvar, std::uint64_t image_len,
	     std::int64_t offset_ns, bool use_tsc);
	void update();

	PhysMemory *phys_;
	std::uint64_t vvar_;		// physical: the data page, then the image
	std::uint64_t image_len_;
	std::int64_t offset_ns_;
	bool use_tsc_;
	// The calibration's first point, and the last refresh.
	std::uint64_t tsc0_ = 0;
	std::int64_t raw0_ = 0;
	std::int64_t last_refresh_ = 0;	// lock_
	// Serializes the writers of the page, and read_ns() with them (the
	// guest's vDSO reads by the page's sequence count).  A leaf.
	std::unique_ptr<std::mutex> lock_ = std::make_unique<std::mutex>();
};

} // namespace guest
