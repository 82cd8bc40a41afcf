// SPDX-License-Identifier: GPL-2.0
//
// Mm's mirrors on a backend whose address spaces are each one thread's
// (ptrace; seccomp where ptrace is not allowed): a change made by one
// thread reaches another thread's mirror when that thread enters the
// guest, an unmapping too, and memory a change frees is not reused
// while a thread that has not caught up still runs, nor while I/O has it
// pinned.
#include <doctest/doctest.h>

#include <sys/mman.h>

#include <array>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <mutex>
#include <thread>

#include "mm/mm.hpp"

using guest::Mm;
using guest::page_size;
using guest::PhysMemory;

namespace {

std::optional<unpriv::Backend> per_thread_backend()
{
	for (auto kind : {unpriv::BackendKind::ptrace, unpriv::BackendKind::seccomp})
		if (auto b = unpriv::Backend::open(kind))
			return std::move(*b);
	return std::nullopt;
}

// A thread with a mirror of its own, running what it is handed, one
// step at a time, as a guest thread's host thread would.
class MirrorThread {
public:
	MirrorThread(unpriv::Backend& b, Mm& mm) : th_([this, &b, &mm] { main(b, mm); })
	{
		run([] {});	// attached
	}
	~MirrorThread()
	{
		run(nullptr);
		th_.join();
	}
	// Run fn on the thread, and wait for it.
	void run(std::function<void()> fn)
	{
		std::unique_lock lock(m_);
		step_ = std::move(fn);
		stop_ = !step_;
		has_ = true;
		cv_.notify_all();
		cv_.wait(lock, [&] { return !has_; });
	}
	unpriv::AddressSpace *as = nullptr;	// its mirror, once entered
	std::optional<unpriv::Vcpu> vcpu;

private:
	void main(unpriv::Backend& b, Mm& mm)
	{
		auto a = b.create_address_space();
		REQUIRE(a);
		REQUIRE(mm.attach(std::move(*a)));
		auto v = b.create_vcpu();
		REQUIRE(v);
		vcpu.emplace(std::move(*v));
		for (;;) {
			std::unique_lock lock(m_);
			cv_.wait(lock, [&] { return has_; });
			if (stop_) {
				mm.detach();
				has_ = false;
				cv_.notify_all();
				return;
			}
			step_();
			has_ = false;
			cv_.notify_all();
		}
	}

	std::mutex m_;
	std::condition_variable cv_;
	std::function<void()> step_;
	bool has_ = false, stop_ = false;
	std::thread th_;
};

// What the backend keeps for itself in every address space, for Mm.
std::vector<guest::AddrRange> reserved_of(unpriv::Backend& b)
{
	std::vector<guest::AddrRange> reserved;
	if (auto r = b.reserved(); !r.empty())
		reserved.push_back({r.start, r.end});
	return reserved;
}

bool reads(unpriv::AddressSpace& as, std::uint64_t addr, const char *want)
{
	char buf[16] = {};
	auto n = as.read(addr, std::as_writable_bytes(std::span(buf, std::strlen(want))));
	return n && *n == std::strlen(want) && !std::memcmp(buf, want, std::strlen(want));
}

} // namespace

TEST_SUITE("Mm mirrors") {

TEST_CASE("a mapping one thread makes reaches another's mirror as it enters")
{
	auto b = per_thread_backend();
	if (!b) {
		MESSAGE("skipped: neither ptrace nor seccomp can be opened here");
		return;
	}
	auto phys = PhysMemory::create(256 * page_size);
	REQUIRE(phys);
	auto as = b->create_address_space();
	REQUIRE(as);
	auto reserved = reserved_of(*b);
	Mm mm(*phys, std::move(*as), reserved);
	REQUIRE(mm.per_thread());
	MirrorThread other(*b, mm);

	auto addr = mm.mmap(0, 4 * page_size, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, nullptr, 0);
	REQUIRE(addr);
	const char msg[] = "mirrored";
	REQUIRE(mm.write(*addr, std::as_bytes(std::span(msg))));

	other.run([&] {
		// The change was logged, not made here: enter() makes it.
		other.as = mm.enter(*other.vcpu);
		REQUIRE(other.as);
		CHECK(reads(*other.as, *addr, "mirrored"));
		mm.leave();
	});

	// An unmapping, while the other thread runs (entered, not left):
	// the memory is not freed until it has caught up.
	std::uint64_t before = phys->allocated();
	other.run([&] { (void)mm.enter(*other.vcpu); });
	REQUIRE(mm.munmap(*addr, 4 * page_size));
	CHECK(phys->allocated() == before);
	other.run([&] {
		mm.leave();
		CHECK(mm.enter(*other.vcpu) == other.as);
		CHECK(!reads(*other.as, *addr, "m"));
		mm.leave();
	});
	CHECK(phys->allocated() < before);
}

TEST_CASE("many changes while a thread sleeps: it catches up, the log does not grow")
{
	auto b = per_thread_backend();
	if (!b) {
		MESSAGE("skipped: neither ptrace nor seccomp can be opened here");
		return;
	}
	auto phys = PhysMemory::create(256 * page_size);
	REQUIRE(phys);
	auto as = b->create_address_space();
	REQUIRE(as);
	auto reserved = reserved_of(*b);
	Mm mm(*phys, std::move(*as), reserved);
	MirrorThread other(*b, mm);

	// More changes than the log keeps: the other mirror syncs the whole
	// list; the last mapping's contents are what it sees.
	std::uint64_t last = 0;
	for (int i = 0; i < 1500; i++) {
		auto a = mm.mmap(0, page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				 nullptr, 0);
		REQUIRE(a);
		if (last)
			REQUIRE(mm.munmap(last, page_size));
		last = *a;
	}
	const char msg[] = "latest";
	REQUIRE(mm.write(last, std::as_bytes(std::span(msg))));
	other.run([&] {
		auto *mirror = mm.enter(*other.vcpu);
		REQUIRE(mirror);
		CHECK(reads(*mirror, last, "latest"));
		mm.leave();
	});
}

TEST_CASE("memory pinned for I/O: munmap, a new mapping and exit do not take it")
{
	auto b = per_thread_backend();
	if (!b) {
		MESSAGE("skipped: neither ptrace nor seccomp can be opened here");
		return;
	}
	auto phys = PhysMemory::create(256 * page_size);
	REQUIRE(phys);
	auto as = b->create_address_space();
	REQUIRE(as);
	auto reserved = reserved_of(*b);
	auto mm = std::make_unique<Mm>(*phys, std::move(*as), reserved);
	const int rw = PROT_READ | PROT_WRITE, anon = MAP_PRIVATE | MAP_ANONYMOUS;

	auto buf = mm->mmap(0, 16 * page_size, rw, anon, nullptr, 0);
	REQUIRE(buf);
	// Not one piece of physical memory the guest may write: no pin.
	CHECK_FALSE(mm->pin(*buf + 15 * page_size, 2 * page_size, true));
	CHECK_FALSE(mm->pin(*buf, 0, true));
	REQUIRE(mm->mprotect(*buf + 8 * page_size, 8 * page_size, PROT_READ));
	CHECK_FALSE(mm->pin(*buf + 8 * page_size, page_size, true));
	CHECK(mm->pin(*buf + 8 * page_size, page_size, false));

	// A host read into the buffer is under way when the guest unmaps it.
	auto pin = mm->pin(*buf + 100, 4 * page_size, true);
	REQUIRE(pin);
	REQUIRE(mm->munmap(*buf, 16 * page_size));
	// New mappings, filling physical memory: none gets the pinned pages.
	std::vector<std::uint64_t> fresh;
	while (auto a = mm->mmap(0, page_size, rw, anon, nullptr, 0))
		fresh.push_back(*a);
	REQUIRE(fresh.size() > 100);
	std::memset(pin.bytes().data(), 'Z', pin.bytes().size());
	bool clean = true;
	for (auto a : fresh) {
		auto v = mm->read_obj<char>(a);
		REQUIRE(v);
		clean = clean && *v == 0;
		std::array<char, page_size> page;
		REQUIRE(mm->read(a, std::as_writable_bytes(std::span(page))));
		for (char c : page)
			clean = clean && c == 0;
	}
	CHECK(clean);
	std::uint64_t held = phys->allocated();
	pin.reset();
	CHECK(phys->allocated() < held);

	// The process ends (exit, exec) while a pin is held: its memory
	// waits for the pin.
	auto last = mm->pin(fresh.back(), page_size, true);
	REQUIRE(last);
	mm.reset();
	CHECK(phys->allocated() == page_size);
	last.reset();
	CHECK(phys->allocated() == 0);
}

}
