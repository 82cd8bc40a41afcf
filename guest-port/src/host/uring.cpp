// SPDX-License-Identifier: GPL-2.0
#include "host/uring.hpp"

#include <liburing.h>

#include <atomic>
#include <cstring>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "wait.hpp"

#if defined(__SANITIZE_THREAD__)
// A request goes to the reaper through the kernel's rings, an ordering
// ThreadSanitizer cannot see: said to it (make tsan-unit) by hand.
extern "C" void __tsan_acquire(void *addr);
extern "C" void __tsan_release(void *addr);
#define TSAN_RELEASE(p) __tsan_release(p)
#define TSAN_ACQUIRE(p) __tsan_acquire(p)
#else
#define TSAN_RELEASE(p) ((void)(p))
#define TSAN_ACQUIRE(p) ((void)(p))
#endif

namespace guest::host {
namespace {

// What goes through the ring: a sync, or a read or write of a route.
enum class Op : std::uint8_t { rw, sync };

constexpr unsigned ring_entries = 256;

// For --stats.
std::atomic<std::uint64_t> requests = 0, cancels = 0;

// A request in flight: on the stack of the guest thread that waits.
struct Request {
	Waiter *waiter;
	int res = 0;
	bool done = false;	// Ring::done_lock_
};

class Ring {
public:
	static int start(Ring *r)
	{
		int e = io_uring_queue_init(ring_entries, &r->ring_, 0);
		if (e < 0)
			return -e;
		r->reaper_ = std::thread([r] { r->reap(); });
		r->reaper_.detach();
		return 0;
	}

	// Submit what prep makes of an SQE and wait for its completion on
	// the calling thread's Waiter: the result (a count, or -errno);
	// nullopt when the ring took nothing.
	std::optional<int> run(Waiter& w, const std::function<void(io_uring_sqe *)>& prep)
	{
		Request req{&w};
		TSAN_RELEASE(&req);
		w.prepare();
		if (!submit([&](io_uring_sqe *sqe) {
			    prep(sqe);
			    io_uring_sqe_set_data(sqe, &req);
		    }))
			return std::nullopt;
		requests.fetch_add(1, std::memory_order_relaxed);
		for (;;) {
			{
				std::lock_guard lock(done_lock_);
				if (req.done)
					return req.res;
			}
			if (w.block(std::nullopt) == Waiter::Wake::interrupted)
				break;
		}
		cancels.fetch_add(1, std::memory_order_relaxed);
		// A signal, a kill, an exec: cancel, and wait for the request
		// to end (it was given memory that is only ours to give
		// while we wait).  Cancelling a read that waits for a pipe or a
		// socket ends it at once; one the host already works on ends
		// when its I/O does.  The submission queue may be full a
		// moment (other threads' requests): the cancel must go in, or
		// the wait is endless for a read of a pipe no one writes.
		while (!submit([&](io_uring_sqe *sqe) {
			io_uring_prep_cancel(sqe, &req, 0);
			io_uring_sqe_set_data(sqe, nullptr);
		}))
			std::this_thread::yield();
		std::unique_lock lock(done_lock_);
		done_cv_.wait(lock, [&] { return req.done; });
		return req.res == -ECANCELED ? -EINTR : req.res;
	}

private:
	bool submit(const std::function<void(io_uring_sqe *)>& fill)
	{
		std::lock_guard lock(sq_lock_);
		io_uring_sqe *sqe = io_uring_get_sqe(&ring_);
		if (!sqe) {
			// Full of what the kernel has not taken yet: hand it over.
			(void)io_uring_submit(&ring_);
			sqe = io_uring_get_sqe(&ring_);
			if (!sqe)
				return false;
		}
		fill(sqe);
		for (;;) {
			int n = io_uring_submit(&ring_);
			if (n >= 0)
				return true;
			if (n != -EINTR && n != -EAGAIN && n != -EBUSY)
				break;
		}
		// Not taken, and still in the queue for the next submit: a
		// no-op that names no request, for the caller's goes away.
		io_uring_prep_nop(sqe);
		io_uring_sqe_set_data(sqe, nullptr);
		return false;
	}

	void reap()
	{
		for (;;) {
			io_uring_cqe *cqe;
			int e = io_uring_wait_cqe(&ring_, &cqe);
			if (e < 0)
				continue;	// EINTR
			unsigned head, n = 0;
			io_uring_for_each_cqe(&ring_, head, cqe) {
				n++;
				auto *req = static_cast<Request *>(io_uring_cqe_get_data(cqe));
				if (!req)
					continue;	// a cancel's own
				TSAN_ACQUIRE(req);
				std::lock_guard lock(done_lock_);
				req->res = cqe->res;
				req->done = true;
				req->waiter->notify();
				done_cv_.notify_all();
			}
			io_uring_cq_advance(&ring_, n);
		}
	}

	io_uring ring_{};
	std::mutex sq_lock_;		// the submission queue
	std::mutex done_lock_;		// Request::done
	std::condition_variable done_cv_;
	std::thread reaper_;
};

// Made once by uring_start(), before guest threads run, and kept for
// the life of the guest port (its reaper never ends).
Ring *ring;
std::atomic<bool> active = false;
int start_error = 0;		// io_uring_queue_init's, or 0
UringUse use = UringUse::measured;	// --host-io; set before threads run
thread_local Waiter *thread_waiter = nullptr;

// Measured on the build host (README.md, "Host I/O"): a read or a
// write of a file in the page cache, and a pipe round trip, are slower
// through the ring (the completion's way to the waiting thread costs two
// thread wake-ups more than the call itself); a sync, which waits for
// the disk, is not.
bool ring_takes(Op op, Route route)
{
	if (route == Route::nonblocking)
		return false;
	return use == UringUse::all || (use == UringUse::measured && op == Op::sync);
}

std::optional<int> through_ring(Op op, Route route,
				const std::function<void(io_uring_sqe *)>& prep)
{
	if (!thread_waiter || !active.load(std::memory_order_relaxed) || !ring_takes(op, route))
		return std::nullopt;
	return ring->run(*thread_waiter, prep);
}

} // namespace

bool uring_start(UringUse u, int *why)
{
	*why = 0;
	use = u;
	if (use == UringUse::none)
		return false;
	static Ring r;
	static int err = Ring::start(&r);
	if (err) {
		*why = start_error = err;
		return false;
	}
	ring = &r;
	active = true;
	return true;
}

bool uring_active() noexcept
{
	return active.load(std::memory_order_relaxed);
}

std::string uring_summary()
{
	if (use == UringUse::none)
		return "direct (--host-io=direct)";
	if (!uring_active())
		return std::string("direct (io_uring: ") + std::strerror(start_error) + ")";
	return std::string(use == UringUse::all ? "io_uring for all" : "io_uring for syncs") +
	       ": " + std::to_string(requests.load()) + " requests, " +
	       std::to_string(cancels.load()) + " cancelled";
}

void set_thread_waiter(Waiter *w) noexcept
{
	thread_waiter = w;
}

namespace {

// A read's or write's completion: nothing when it did not go through the
// ring, else its count or its error.
std::optional<KResult<std::size_t>> sized(std::optional<int> r)
{
	if (!r)
		return std::nullopt;
	if (*r < 0)
		return kerr(-*r);
	return static_cast<std::size_t>(*r);
}

} // namespace

std::optional<KResult<std::size_t>> uring_read(int fd, std::span<std::byte> buf,
					       std::int64_t off, Route route)
{
	return sized(through_ring(Op::rw, route, [&](io_uring_sqe *sqe) {
		io_uring_prep_read(sqe, fd, buf.data(), static_cast<unsigned>(buf.size()),
				   static_cast<std::uint64_t>(off));
	}));
}

std::optional<KResult<std::size_t>> uring_write(int fd, std::span<const std::byte> buf,
						std::int64_t off, Route route)
{
	return sized(through_ring(Op::rw, route, [&](io_uring_sqe *sqe) {
		io_uring_prep_write(sqe, fd, buf.data(), static_cast<unsigned>(buf.size()),
				    static_cast<std::uint64_t>(off));
	}));
}

std::optional<KResult<void>> uring_fsync(int fd, bool data_only)
{
	auto r = through_ring(Op::sync, Route::file, [&](io_uring_sqe *sqe) {
		io_uring_prep_fsync(sqe, fd, data_only ? IORING_FSYNC_DATASYNC : 0);
	});
	if (!r)
		return std::nullopt;
	if (*r < 0)
		return kerr(-*r);
	return KResult<void>{};
}

} // namespace guest::host
