// SPDX-License-Identifier: GPL-2.0
//
// PhysMemory: the allocator every guest process shares, the holds on
// pages that fork shares (MAP_SHARED anonymous memory), the copy of
// private memory at fork, and the pins of I/O in progress.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <atomic>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

#include "mm/phys.hpp"

using guest::page_size;
using guest::PhysMemory;
using guest::PhysPin;

namespace {

PhysMemory make(std::uint64_t pages = 1024)
{
	auto p = PhysMemory::create(pages * page_size);
	REQUIRE(p);
	return std::move(*p);
}

void fill(PhysMemory& m, std::uint64_t off, std::uint64_t len, unsigned char v)
{
	std::memset(m.host(off), v, len);
}

bool all(PhysMemory& m, std::uint64_t off, std::uint64_t len, unsigned char v)
{
	for (std::uint64_t i = 0; i < len; i++)
		if (static_cast<unsigned char>(m.host(off)[i]) != v)
			return false;
	return true;
}

} // namespace

TEST_SUITE("PhysMemory") {

TEST_CASE("alloc and free: the counts, and freed memory reads as zeros")
{
	auto m = make();
	auto a = m.alloc(4 * page_size);
	REQUIRE(a);
	CHECK(m.allocated() == 4 * page_size);
	fill(m, *a, 4 * page_size, 0xaa);
	m.free(*a, 4 * page_size);
	CHECK(m.allocated() == 0);
	auto b = m.alloc(4 * page_size);
	REQUIRE(b);
	CHECK(*b == *a);
	CHECK(all(m, *b, 4 * page_size, 0));
	CHECK_FALSE(m.alloc(2048 * page_size));
}

TEST_CASE("share: a shared page stays until its last holder frees it")
{
	auto m = make();
	auto a = m.alloc(4 * page_size);
	REQUIRE(a);
	fill(m, *a, 4 * page_size, 0x11);
	// A second holder of the middle two pages (a fork's child).
	m.share(*a + page_size, 2 * page_size);
	m.free(*a, 4 * page_size);
	CHECK(m.allocated() == 2 * page_size);
	CHECK(all(m, *a + page_size, 2 * page_size, 0x11));
	CHECK(all(m, *a, page_size, 0));
	// The freed pages are handed out again; the held ones are not.
	auto b = m.alloc(page_size);
	REQUIRE(b);
	CHECK(*b == *a);
	auto c = m.alloc(2 * page_size);
	REQUIRE(c);
	CHECK((*c >= *a + 3 * page_size));
	m.free(*a + page_size, 2 * page_size);
	CHECK(m.allocated() == 3 * page_size);
	CHECK(all(m, *a + page_size, 2 * page_size, 0));
}

TEST_CASE("share twice: three holders, three frees")
{
	auto m = make();
	auto a = m.alloc(page_size);
	REQUIRE(a);
	m.share(*a, page_size);
	m.share(*a, page_size);
	m.free(*a, page_size);
	m.free(*a, page_size);
	CHECK(m.allocated() == page_size);
	m.free(*a, page_size);
	CHECK(m.allocated() == 0);
}

TEST_CASE("copy: the pages with data, holes stay holes")
{
	auto m = make();
	const std::uint64_t len = 64 * page_size;
	auto a = m.alloc(len);
	REQUIRE(a);
	fill(m, *a, page_size, 0x21);
	fill(m, *a + 10 * page_size, 3 * page_size, 0x22);
	fill(m, *a + 63 * page_size, page_size, 0x23);
	std::uint64_t copied = 0;
	auto b = m.copy(*a, len, &copied);
	REQUIRE(b);
	CHECK(copied == 5 * page_size);
	CHECK(std::memcmp(m.host(*a), m.host(*b), len) == 0);
	// Two copies, not one memory.
	fill(m, *b, page_size, 0x31);
	CHECK(all(m, *a, page_size, 0x21));
	CHECK(m.allocated() == 2 * len);
}

TEST_CASE("threads: allocations from several threads never overlap")
{
	auto m = make(4096);
	constexpr int threads = 4, rounds = 500;
	std::vector<std::vector<std::uint64_t>> got(threads);
	std::vector<std::thread> ts;
	for (int t = 0; t < threads; t++) {
		ts.emplace_back([&, t] {
			for (int i = 0; i < rounds; i++) {
				auto a = m.alloc(page_size);
				if (!a)
					continue;
				if (i % 2)
					m.free(*a, page_size);
				else
					got[static_cast<std::size_t>(t)].push_back(*a);
			}
		});
	}
	for (auto& t : ts)
		t.join();
	std::set<std::uint64_t> all_offsets;
	std::size_t n = 0;
	for (const auto& g : got) {
		n += g.size();
		all_offsets.insert(g.begin(), g.end());
	}
	CHECK(n == threads * rounds / 2);
	CHECK(all_offsets.size() == n);
	CHECK(m.allocated() == n * page_size);
}

TEST_CASE("pin: a range freed while pinned is given to no one until the pin goes")
{
	auto m = make(64);
	const std::uint64_t len = 8 * page_size;
	auto a = m.alloc(len);
	REQUIRE(a);
	// I/O into the middle of the range is in progress...
	auto pin = m.pin(*a + page_size + 100, 3 * page_size);
	REQUIRE(pin);
	CHECK(pin.bytes().data() == m.host(*a + page_size + 100));
	CHECK(pin.bytes().size() == 3 * page_size);
	// ...when its owner frees it (munmap by another thread, exit).
	m.free(*a, len);
	CHECK(m.allocated() == len);
	// Every other page is handed out; none of the freed range.
	std::vector<std::uint64_t> others;
	while (auto b = m.alloc(page_size))
		others.push_back(*b);
	CHECK(others.size() == 64 - 8);
	for (auto o : others)
		CHECK((o + page_size <= *a || o >= *a + len));
	// The I/O ends in memory that is still its own.
	std::memset(pin.bytes().data(), 0x5a, pin.bytes().size());
	pin.reset();
	CHECK_FALSE(pin);
	CHECK(m.allocated() == (64 - 8) * page_size);
	auto c = m.alloc(len);
	REQUIRE(c);
	CHECK(*c == *a);
	CHECK(all(m, *c, len, 0));
}

TEST_CASE("pin: overlapping pins, and a free of one range among several")
{
	auto m = make(64);
	auto a = m.alloc(4 * page_size);
	auto b = m.alloc(4 * page_size);
	REQUIRE(a);
	REQUIRE(b);
	auto p1 = m.pin(*a, 2 * page_size);
	auto p2 = m.pin(*a + page_size, page_size);
	auto p3 = m.pin(*b, 4 * page_size);	// not freed: holds nothing back
	m.free(*a, 4 * page_size);
	CHECK(m.allocated() == 8 * page_size);
	p1.reset();
	CHECK(m.allocated() == 8 * page_size);	// p2 still overlaps
	PhysPin moved = std::move(p2);
	CHECK_FALSE(p2);
	moved = PhysPin();
	CHECK(m.allocated() == 4 * page_size);
	p3.reset();
	CHECK(m.allocated() == 4 * page_size);
	m.free(*b, 4 * page_size);
	CHECK(m.allocated() == 0);
}

TEST_CASE("pin: a shared page's last holder frees it while pinned")
{
	auto m = make(64);
	auto a = m.alloc(2 * page_size);
	REQUIRE(a);
	m.share(*a, 2 * page_size);
	auto pin = m.pin(*a, 2 * page_size);
	m.free(*a, 2 * page_size);	// one holder left
	m.free(*a, 2 * page_size);	// none, but pinned
	CHECK(m.allocated() == 2 * page_size);
	pin.reset();
	CHECK(m.allocated() == 0);
}

TEST_CASE("pin: threads pinning and writing while others free and allocate")
{
	// Each writer pins a range it was given, frees it (as a munmap by
	// another thread would) and goes on writing its mark into it; the
	// allocators check that what they are given reads as zeros and
	// that no mark appears in it while they hold it.
	auto m = make(512);
	constexpr int rounds = 300;
	std::atomic<bool> bad = false;
	std::vector<std::thread> ts;
	for (int t = 0; t < 2; t++)
		ts.emplace_back([&, t] {
			for (int i = 0; i < rounds; i++) {
				auto a = m.alloc(2 * page_size);
				if (!a)
					continue;
				auto pin = m.pin(*a, 2 * page_size);
				m.free(*a, 2 * page_size);
				for (int k = 0; k < 4; k++)
					std::memset(pin.bytes().data(), 0x40 + t, pin.bytes().size());
			}
		});
	for (int t = 0; t < 2; t++)
		ts.emplace_back([&] {
			for (int i = 0; i < rounds; i++) {
				auto a = m.alloc(page_size);
				if (!a)
					continue;
				if (!all(m, *a, page_size, 0))
					bad = true;
				std::this_thread::yield();
				if (!all(m, *a, page_size, 0))
					bad = true;
				m.free(*a, page_size);
			}
		});
	for (auto& t : ts)
		t.join();
	CHECK_FALSE(bad);
	CHECK(m.allocated() == 0);
}

} // TEST_SUITE
