// SPDX-License-Identifier: MIT
//
// What the compartment sources share: the parsed image, and the watchdog
// that kicks calls past their deadline.  Nothing here is installed.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "unpriv/compartment.hpp"

namespace unpriv {

inline constexpr std::uint64_t page_size = 4096;

struct Image::Data {
	// One PT_LOAD segment, in whole pages.
	struct Segment {
		std::uint64_t addr;		// page aligned
		std::uint64_t len;		// page multiple
		Prot prot;
		std::uint64_t mem_offset;	// where it lies in the image's memory
		std::uint64_t data_offset;	// where its file bytes start in it
		std::vector<std::byte> bytes;	// the file bytes; the rest is zero
	};

	std::vector<Segment> segments;	// by address, not overlapping
	std::size_t size = 0;		// sum of the segments' lengths
	std::unordered_map<std::string, std::uint64_t> symbols;	// global functions
};

namespace detail {

// One thread per process, started by the first call with a deadline: it
// kicks each registered vcpu whose deadline has passed.  A registration
// ends before its vcpu may go (unwatch() waits for a kick in progress).
class Watchdog {
public:
	using Id = std::uint64_t;

	static Id watch(Vcpu& vcpu, std::chrono::steady_clock::time_point deadline);
	static void unwatch(Id id);
};

} // namespace detail
} // namespace unpriv
