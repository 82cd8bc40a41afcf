// SPDX-License-Identifier: GPL-2.0
//
// host/uring: a guest thread's host I/O through io_uring, waiting on its
// Waiter: the completion wakes it, an interrupt (a signal for the
// thread) cancels the request and gives EINTR without taking the data,
// and what the ring does not take (no Waiter, O_NONBLOCK) is left to the
// direct call.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "host/io.hpp"
#include "host/uring.hpp"
#include "wait.hpp"

using guest::Waiter;
namespace host = guest::host;

namespace {

struct Pipe {
	int r = -1, w = -1;
	Pipe()
	{
		int p[2];
		REQUIRE(pipe2(p, O_CLOEXEC) == 0);
		r = p[0];
		w = p[1];
	}
	~Pipe()
	{
		close(r);
		close(w);
	}
};

// The ring, for every route (as --host-io=all); false where the host
// has no io_uring.
bool ring_up()
{
	int why;
	return host::uring_start(host::UringUse::all, &why);
}

} // namespace

TEST_SUITE("io_uring") {

TEST_CASE("a read waits on the Waiter; the completion wakes it")
{
	if (!ring_up()) {
		MESSAGE("skipped: io_uring cannot be set up here");
		return;
	}
	Waiter w;
	host::set_thread_waiter(&w);
	Pipe p;
	std::thread writer([&] {
		std::this_thread::sleep_for(std::chrono::milliseconds(50));
		REQUIRE(::write(p.w, "ring", 4) == 4);
	});
	std::byte buf[16];
	auto r = host::uring_read(p.r, buf, -1, host::Route::stream);
	writer.join();
	REQUIRE(r);
	REQUIRE(*r);
	CHECK(**r == 4);
	CHECK(std::memcmp(buf, "ring", 4) == 0);
	// Through host::read too, and a write.
	REQUIRE(host::write(p.w, std::as_bytes(std::span("abc", 3)), host::Route::stream));
	auto n = host::read(p.r, buf, host::Route::stream);
	CHECK((n && *n == 3));
	host::set_thread_waiter(nullptr);
}

TEST_CASE("an interrupt cancels the request: EINTR, and the data stays for the next read")
{
	if (!ring_up()) {
		MESSAGE("skipped: io_uring cannot be set up here");
		return;
	}
	Waiter w;
	host::set_thread_waiter(&w);
	Pipe p;
	std::thread signaller([&] {
		std::this_thread::sleep_for(std::chrono::milliseconds(50));
		w.interrupt();
	});
	std::byte buf[16];
	auto t0 = std::chrono::steady_clock::now();
	auto r = host::uring_read(p.r, buf, -1, host::Route::stream);
	signaller.join();
	REQUIRE(r);
	REQUIRE_FALSE(*r);
	CHECK(r->error() == EINTR);
	CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
	// Still interrupted (until the run loop clears it): a new request
	// ends at once, the same way.
	auto again = host::uring_read(p.r, buf, -1, host::Route::stream);
	REQUIRE(again);
	CHECK((!*again && again->error() == EINTR));
	w.clear_interrupt();
	REQUIRE(::write(p.w, "xy", 2) == 2);
	auto n = host::uring_read(p.r, buf, -1, host::Route::stream);
	REQUIRE(n);
	CHECK((*n && **n == 2));
	host::set_thread_waiter(nullptr);
}

TEST_CASE("what the ring does not take: no Waiter, O_NONBLOCK")
{
	if (!ring_up()) {
		MESSAGE("skipped: io_uring cannot be set up here");
		return;
	}
	Pipe p;
	std::byte buf[4];
	host::set_thread_waiter(nullptr);
	CHECK_FALSE(host::uring_read(p.r, buf, -1, host::Route::stream));
	Waiter w;
	host::set_thread_waiter(&w);
	CHECK_FALSE(host::uring_read(p.r, buf, -1, host::Route::nonblocking));
	REQUIRE(fcntl(p.r, F_SETFL, O_NONBLOCK) == 0);
	auto n = host::read(p.r, buf, host::Route::nonblocking);
	CHECK((!n && n.error() == EAGAIN));
	host::set_thread_waiter(nullptr);
}

}
