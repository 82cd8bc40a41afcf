// SPDX-License-Identifier: MIT
//
// Compartments on the backend under test (backend_main.cpp runs this
// suite once per backend).  The image is tests/compartments/
// test-compartment.c, linked into this program by
// unpriv_embed_compartment().
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "guest.hpp"
#include "helpers.hpp"
#include "unpriv/compartment.hpp"

using namespace unpriv;
using namespace unpriv::test;
using namespace std::chrono_literals;
namespace cl = unpriv::compartment_layout;

extern "C" const std::byte unpriv_image_unpriv_test_compartment_start[];
extern "C" const std::byte unpriv_image_unpriv_test_compartment_end[];

namespace {

const Image& test_image()
{
	static const Image image = [] {
		std::string why;
		auto img = Image::parse({unpriv_image_unpriv_test_compartment_start,
					 unpriv_image_unpriv_test_compartment_end},
					&why);
		REQUIRE_MESSAGE(img, why);
		return *img;
	}();
	return image;
}

Compartment make(Compartment::Config config = {})
{
	config.backend = current_backend();
	auto c = Compartment::create(test_image(), std::move(config));
	REQUIRE_MESSAGE(c, c.error().message());
	return std::move(*c);
}

// call() must have returned v.
#define CHECK_RETURNS(call, v)							\
	do {									\
		auto r_ = (call);						\
		REQUIRE_MESSAGE(r_, r_.error().message());			\
		CHECK(*r_ == static_cast<std::uint64_t>(v));			\
	} while (0)

// call() must have failed with e, the failure of kind k.
#define CHECK_FAILS(comp, call, e, k)						\
	do {									\
		auto r_ = (call);						\
		REQUIRE_FALSE_MESSAGE(r_, "returned " << (r_ ? *r_ : 0));	\
		CHECK_MESSAGE(r_.error() == make_error_code(e),		\
			      r_.error().message());				\
		CHECK_MESSAGE((comp).last_failure().kind == (k),		\
			      (comp).last_failure().describe());		\
	} while (0)

std::uint64_t addr_of(const GuestMemory& mem)
{
	return reinterpret_cast<std::uintptr_t>(mem.bytes().data());
}

// Strings the compartment can read: a page shared read-only.
class Strings {
public:
	explicit Strings(Compartment& c)
	{
		auto mem = GuestMemory::create(page);
		REQUIRE(mem);
		mem_ = std::move(*mem);
		auto w = c.share(*mem_, Access::read);
		REQUIRE_MESSAGE(w, w.error().message());
	}

	// s, copied into the page (over what was there before).
	const char *operator()(const char *s)
	{
		auto b = mem_->bytes();
		REQUIRE(std::strlen(s) < b.size());
		std::memcpy(b.data(), s, std::strlen(s) + 1);
		return reinterpret_cast<const char *>(b.data());
	}

private:
	std::optional<GuestMemory> mem_;
};

} // namespace

TEST_SUITE("backend: Compartment") {

TEST_CASE("an image is a static executable at a fixed address with symbols")
{
	std::string why;

	CHECK(test_image().symbol("weigh6"));
	CHECK_FALSE(test_image().symbol("nonesuch"));
	CHECK_FALSE(test_image().symbol("counter"));	// data, not a function

	const char junk[] = "not an ELF file at all, just some bytes....................";
	auto bad = Image::parse(std::as_bytes(std::span(junk)), &why);
	REQUIRE_FALSE(bad);
	CHECK(bad.error() == make_error_code(errc::bad_image));
	CHECK(why == "not an ELF file");

	std::span<const std::byte> img{unpriv_image_unpriv_test_compartment_start,
				       unpriv_image_unpriv_test_compartment_end};
	bad = Image::parse(img.first(200), &why);
	REQUIRE_FALSE(bad);
	CHECK(bad.error() == make_error_code(errc::bad_image));

	// This program: an executable, but not a compartment image (it has
	// thread-local storage, or is position-independent).
	why.clear();
	bad = Image::load("/proc/self/exe", &why);
	REQUIRE_FALSE(bad);
	CHECK(bad.error() == make_error_code(errc::bad_image));
	CHECK(!why.empty());

	auto missing = Image::load("/nonexistent/image");
	REQUIRE_FALSE(missing);
	CHECK(missing.error() == std::error_code(ENOENT, std::system_category()));
}

TEST_CASE("calls take up to six arguments and return the entry's result")
{
	auto c = make();

	CHECK_RETURNS(c.call("answer"), 42);
	CHECK_RETURNS(c.call("weigh6", 1, 2, 3, 4, 5, 6), 1 + 4 + 9 + 16 + 25 + 36);
	CHECK_RETURNS(c.call("weigh6", -1L, 0, 0, 0, 0, 0), -1);
	auto e = c.entry("weigh6");
	REQUIRE(e);
	for (long i = 0; i < 100; i++)
		CHECK_RETURNS(c.call(*e, i, 0, 0, 0, 0, 1), i + 6);

	// The exit gate's system call ends a call from the gate alone; the
	// gate itself is code the compartment cannot change.
	CHECK_RETURNS(c.call("do_syscall", cl::gate_nr, 0, 0, 0), -EPERM);
	REQUIRE(c.call("jump", cl::gate_addr));
	CHECK_FAILS(c, c.call("poke", cl::gate_addr, 0), errc::compartment_fault,
		    CallFailure::Kind::fault);
	CHECK_RETURNS(c.call("answer"), 42);

	auto none = c.call("nonesuch");
	REQUIRE_FALSE(none);
	CHECK(none.error() == make_error_code(errc::no_such_entry));

	const std::uint64_t seven[7] = {};
	auto many = c.call_with(*e, seven, nullptr);
	REQUIRE_FALSE(many);
	CHECK(many.error() == std::error_code(EINVAL, std::system_category()));
}

TEST_CASE("a budget or stack out of range is EINVAL")
{
	Compartment::Config odd{.budget = 4097, .backend = current_backend()};
	auto c = Compartment::create(test_image(), odd);
	REQUIRE_FALSE(c);
	CHECK(c.error() == std::error_code(EINVAL, std::system_category()));

	Compartment::Config no_stack{.stack = 0, .backend = current_backend()};
	c = Compartment::create(test_image(), no_stack);
	REQUIRE_FALSE(c);
	CHECK(c.error() == std::error_code(EINVAL, std::system_category()));
}

TEST_CASE("windows pass data both ways at the caller's addresses")
{
	auto c = make();
	auto in = GuestMemory::create(3 * page);
	auto out = GuestMemory::create(page);
	REQUIRE(in);
	REQUIRE(out);
	auto bytes = in->bytes();
	for (std::size_t i = 0; i < bytes.size(); i++)
		bytes[i] = std::byte(i % 251);
	std::uint64_t sum = 0;
	for (std::size_t i = 0; i < bytes.size(); i++)
		sum += i % 251;

	auto rin = c.share(*in, Access::read);
	REQUIRE_MESSAGE(rin, rin.error().message());
	CHECK(rin->addr() == addr_of(*in));
	CHECK(rin->size() == 3 * page);
	auto rout = c.share(*out, Access::read_write);
	REQUIRE_MESSAGE(rout, rout.error().message());

	CHECK_RETURNS(c.call("sum_bytes", in->bytes().data(), in->size()), sum);
	CHECK_RETURNS(c.call("fill", out->bytes().data() + 10, 100, 0x5a), 100);
	CHECK(out->bytes()[9] == std::byte{0});
	CHECK(out->bytes()[10] == std::byte{0x5a});
	CHECK(out->bytes()[109] == std::byte{0x5a});
	CHECK(out->bytes()[110] == std::byte{0});

	// The caller's changes show at once: no copy.
	bytes[0] = std::byte{200};
	CHECK_RETURNS(c.call("sum_bytes", in->bytes().data(), 1), 200);

	// A read-only window is read-only.
	CHECK_FAILS(c, c.call("poke", in->bytes().data(), 1), errc::compartment_fault,
		    CallFailure::Kind::fault);
	CHECK(c.last_failure().address == addr_of(*in));
	CHECK((c.last_failure().error_code & 2) != 0);	// a write

	// Sharing again, or a window over the compartment's own memory, fails.
	auto again = c.share(*in, Access::read);
	REQUIRE_FALSE(again);
	CHECK(again.error() == std::error_code(EEXIST, std::system_category()));
	auto unaligned = c.share(*in, Access::read, 100);
	REQUIRE_FALSE(unaligned);
	CHECK(unaligned.error() == std::error_code(EINVAL, std::system_category()));
	auto outside = c.share(*in, Access::read, 4 * page);
	REQUIRE_FALSE(outside);
	CHECK(outside.error() == std::error_code(EINVAL, std::system_category()));

	// Once unshared, the window is gone.
	REQUIRE(c.unshare(*rin));
	CHECK_FAILS(c, c.call("sum_bytes", in->bytes().data(), 1),
		    errc::compartment_fault, CallFailure::Kind::fault);
	CHECK(c.last_failure().address == addr_of(*in));
	auto twice = c.unshare(*rin);
	REQUIRE_FALSE(twice);
	CHECK(twice.error() == std::error_code(ENOENT, std::system_category()));

	// Part of a memory, from an offset.
	auto part = c.share(*in, Access::read, page, page);
	REQUIRE_MESSAGE(part, part.error().message());
	CHECK(part->addr() == addr_of(*in) + page);
	std::uint64_t word;
	std::memcpy(&word, in->bytes().data() + page, sizeof(word));
	CHECK_RETURNS(c.call("peek", in->bytes().data() + page), word);
	CHECK_FAILS(c, c.call("peek", in->bytes().data()), errc::compartment_fault,
		    CallFailure::Kind::fault);
}

TEST_CASE("the caller's memory is out of reach")
{
	auto c = make();
	// A secret in the caller's memory, at an address the compartment
	// is told.
	void *p = mmap(nullptr, page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE(p != MAP_FAILED);
	std::memcpy(p, "hunter2", 8);
	const auto secret = reinterpret_cast<std::uintptr_t>(p);

	CHECK_FAILS(c, c.call("peek", secret), errc::compartment_fault,
		    CallFailure::Kind::fault);
	CHECK(c.last_failure().address == secret);
	CHECK_FAILS(c, c.call("poke", secret, 0), errc::compartment_fault,
		    CallFailure::Kind::fault);
	CHECK(std::memcmp(p, "hunter2", 8) == 0);
	munmap(p, page);

	// Nor is the caller's code.
	const auto code = reinterpret_cast<std::uintptr_t>(&make);
	CHECK_FAILS(c, c.call("jump", code), errc::compartment_fault,
		    CallFailure::Kind::fault);

	// The caller carries on, and so does the compartment.
	CHECK_RETURNS(c.call("answer"), 42);
}

TEST_CASE("faults and traps end the call and name what happened")
{
	auto c = make();

	CHECK_FAILS(c, c.call("peek", 0x50000008), errc::compartment_fault,
		    CallFailure::Kind::fault);
	CHECK(c.last_failure().address == 0x50000008);
	CHECK(c.last_failure().trap == 14);
	CHECK((c.last_failure().error_code & 1) == 0);	// not present

	CHECK_FAILS(c, c.call("jump", 0x12345000), errc::compartment_fault,
		    CallFailure::Kind::fault);
	CHECK(c.last_failure().address == 0x12345000);
	CHECK(c.last_failure().rip == 0x12345000);
	CHECK((c.last_failure().error_code & 0x10) != 0);	// an instruction fetch

	CHECK_FAILS(c, c.call("trap"), errc::compartment_trap, CallFailure::Kind::trap);
	CHECK(c.last_failure().trap == 6);		// ud2
	CHECK(c.last_failure().signo == SIGILL);
	CHECK(c.last_failure().rip == *test_image().symbol("trap"));

	CHECK_FAILS(c, c.call("divide", 1, 0), errc::compartment_trap,
		    CallFailure::Kind::trap);
	CHECK(c.last_failure().trap == 0);
	CHECK(c.last_failure().signo == SIGFPE);
	CHECK_RETURNS(c.call("divide", 84, 2), 42);

	// Writing the image's code.
	CHECK_FAILS(c, c.call("poke", *test_image().symbol("answer"), 0),
		    errc::compartment_fault, CallFailure::Kind::fault);

	// Running off the stack: 256 KiB by default.
	CHECK_RETURNS(c.call("recurse", 100), 5050);
	CHECK_FAILS(c, c.call("recurse", 1000), errc::compartment_fault,
		    CallFailure::Kind::fault);
	CHECK(c.last_failure().address < cl::stack_top - (256 << 10));
	CHECK(c.last_failure().address >= cl::stack_top - (256 << 10) - page);

	CHECK_RETURNS(c.call("answer"), 42);
	CHECK(c.last_failure().kind == CallFailure::Kind::none);
}

TEST_CASE("system calls fail with EPERM by default, end the call when strict")
{
	auto c = make();
	Strings str(c);

	CHECK_RETURNS(c.call("do_syscall", SYS_getpid, 0, 0, 0), -EPERM);
	CHECK_RETURNS(c.call("do_syscall", SYS_openat, AT_FDCWD, str("/etc/passwd"),
			     O_RDONLY), -EPERM);
	CHECK_RETURNS(c.call("say", str("x")), -EPERM);	// no allow_write()
	CHECK_RETURNS(c.call("allocate", 100, 0), 0);	// no allow_memory()
	// Without allow_exit(), exit fails and the runtime traps.
	CHECK_FAILS(c, c.call("leave", 3), errc::compartment_trap, CallFailure::Kind::trap);
	// 32-bit system calls are denied too.
	if (current_backend() == BackendKind::module || kernel_has_int80())
		CHECK_RETURNS(c.call("int80_getpid"), -EPERM);

	auto s = make({.policy = Policy().strict()});
	Strings sstr(s);
	CHECK_FAILS(s, s.call("do_syscall", SYS_openat, AT_FDCWD, sstr("/etc/passwd"),
			      O_RDONLY),
		    errc::syscall_denied, CallFailure::Kind::syscall);
	CHECK(s.last_failure().syscall_nr == SYS_openat);
	CHECK_RETURNS(s.call("answer"), 42);
}

TEST_CASE("the allow list: write to one descriptor, exit")
{
	int fds[2];
	REQUIRE(pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0);
	auto c = make({.policy = Policy().allow_write(fds[1]).allow_exit().strict()});
	Strings str(c);

	CHECK_RETURNS(c.call("say", str("hello, caller")), 13);
	char buf[64] = {};
	CHECK(read(fds[0], buf, sizeof(buf)) == 13);
	CHECK(std::string(buf) == "hello, caller");

	// Descriptor 1 only; a bad buffer is EFAULT.
	CHECK_RETURNS(c.call("do_syscall", SYS_write, 2, 0, 0), -EBADF);
	CHECK_RETURNS(c.call("do_syscall", SYS_write, 1, 0x50000000, 10), -EFAULT);
	CHECK(read(fds[0], buf, sizeof(buf)) == -1);

	CHECK_FAILS(c, c.call("leave", 3), errc::compartment_exited,
		    CallFailure::Kind::exited);
	CHECK(c.last_failure().exit_status == 3);
	CHECK_RETURNS(c.call("answer"), 42);
	close(fds[0]);
	close(fds[1]);
}

TEST_CASE("a handler sees each system call and decides")
{
	std::vector<std::uint64_t> seen;
	int fds[2];
	REQUIRE(pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0);
	auto policy = Policy().allow_write(fds[1]).handler(
		[&](Compartment& comp, const SyscallExit& sys) {
			seen.push_back(sys.nr);
			if (sys.nr == SYS_getpid)
				return Verdict::ret(1234);
			if (sys.nr == SYS_getuid)
				return Verdict::end();
			if (sys.nr == SYS_write) {
				// Look at what it writes: refuse "secret".
				char buf[6];
				auto n = comp.read(sys.args[1], std::as_writable_bytes(std::span(buf)));
				if (n && *n == 6 && !std::memcmp(buf, "secret", 6))
					return Verdict::deny();
			}
			return Verdict::serve();
		});
	auto c = make({.policy = policy});
	Strings str(c);

	CHECK_RETURNS(c.call("do_syscall", SYS_getpid, 0, 0, 0), 1234);
	CHECK_RETURNS(c.call("say", str("public")), 6);
	CHECK_RETURNS(c.call("say", str("secret")), -EPERM);
	CHECK_RETURNS(c.call("do_syscall", SYS_gettid, 0, 0, 0), -EPERM);
	CHECK_FAILS(c, c.call("do_syscall", SYS_getuid, 0, 0, 0), errc::syscall_denied,
		    CallFailure::Kind::syscall);
	CHECK(c.last_failure().syscall_nr == SYS_getuid);
	CHECK(seen == std::vector<std::uint64_t>{SYS_getpid, SYS_write, SYS_write,
						 SYS_gettid, SYS_getuid});
	char buf[16] = {};
	CHECK(read(fds[0], buf, sizeof(buf)) == 6);
	CHECK(std::string(buf) == "public");
	close(fds[0]);
	close(fds[1]);
}

TEST_CASE("the heap: malloc, mmap and munmap within the budget")
{
	auto c = make({.budget = 1 << 20, .policy = Policy().allow_memory()});

	auto p = c.call("allocate", 100000, 0x11);
	REQUIRE_MESSAGE(p, p.error().message());
	CHECK(*p >= cl::heap_start);
	CHECK(*p + 100000 <= cl::heap_start + (1 << 20));
	CHECK(c.heap_used() >= 100000);
	CHECK_RETURNS(c.call("peek", *p + 8), 0x1111111111111111);
	CHECK_RETURNS(c.call("heap_churn", 2000), 1);

	auto m = c.call("map_anon", 3 * page, PROT_READ | PROT_WRITE);
	REQUIRE(m);
	CHECK(*m >= cl::heap_start);
	CHECK(*m % page == 0);
	REQUIRE(c.call("poke", *m + 2 * page, 7));
	CHECK_RETURNS(c.call("peek", *m + 2 * page), 7);
	std::size_t used = c.heap_used();
	CHECK_RETURNS(c.call("unmap", *m, 3 * page), 0);
	CHECK(c.heap_used() == used - 3 * page);
	CHECK_FAILS(c, c.call("peek", *m), errc::compartment_fault,
		    CallFailure::Kind::fault);

	// What the list does not serve: executable or file mappings, fixed
	// addresses, munmap outside the heap.
	CHECK_RETURNS(c.call("map_anon", page, PROT_READ | PROT_EXEC), -EPERM);
	CHECK_RETURNS(c.call("do_syscall", SYS_munmap, cl::image_start, page, 0), -EINVAL);

	// Beyond the budget: the call ends.
	CHECK_FAILS(c, c.call("allocate", 2 << 20, 0), errc::budget_exceeded,
		    CallFailure::Kind::budget);
	CHECK(c.last_failure().syscall_nr == SYS_brk);
	CHECK_FAILS(c, c.call("map_anon", 2 << 20, PROT_READ), errc::budget_exceeded,
		    CallFailure::Kind::budget);
	CHECK(c.last_failure().syscall_nr == SYS_mmap);
	CHECK(c.last_failure().address == 2 << 20);
}

TEST_CASE("a deadline stops a compartment that loops forever")
{
	auto c = make();

	auto start = std::chrono::steady_clock::now();
	CHECK_FAILS(c, c.call(Deadline::in(100ms), "spin"), errc::deadline_exceeded,
		    CallFailure::Kind::deadline);
	CHECK(std::chrono::steady_clock::now() - start >= 100ms);
	auto rip = c.last_failure().rip;
	CHECK(rip >= *test_image().symbol("spin"));
	CHECK(rip < *test_image().symbol("spin") + 64);

	// A deadline not reached changes nothing; neither does the kick of
	// one that passes after its call ended.
	CHECK_RETURNS(c.call(Deadline::in(10s), "answer"), 42);
	CHECK_RETURNS(c.call(Deadline::in(200ms), "answer"), 42);
	std::this_thread::sleep_for(300ms);
	CHECK_RETURNS(c.call("answer"), 42);
}

TEST_CASE("a deadline works in a child of fork() too")
{
	// The parent's watchdog thread is not in the child, which must
	// start its own.
	auto c = make();
	CHECK_FAILS(c, c.call(Deadline::in(10ms), "spin"), errc::deadline_exceeded,
		    CallFailure::Kind::deadline);

	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		alarm(10);	// without a watchdog, the call would never end
		Compartment::Config cfg{.backend = current_backend()};
		auto child = Compartment::create(test_image(), cfg);
		if (!child)
			_exit(2);
		auto r = child->call(Deadline::in(100ms), "spin");
		_exit(!r && r.error() == make_error_code(errc::deadline_exceeded) ? 0 : 1);
	}
	int status;
	REQUIRE(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status));
	CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("reset() brings back the initial image")
{
	auto c = make({.policy = Policy().allow_memory()});

	CHECK_RETURNS(c.call("count"), 1);
	CHECK_RETURNS(c.call("count"), 2);
	CHECK_RETURNS(c.call("get_initialized"), 7);
	REQUIRE(c.call("set_initialized", 99));
	CHECK_RETURNS(c.call("get_initialized"), 99);
	auto p = c.call("allocate", 5000, 1);
	REQUIRE(p);
	CHECK(*p != 0);
	CHECK(c.heap_used() > 0);
	auto canary = c.call("canary");
	REQUIRE(canary);
	CHECK(*canary != 0);
	CHECK((*canary & 0xff) == 0);

	REQUIRE(c.reset());
	CHECK(c.heap_used() == 0);
	CHECK_RETURNS(c.call("count"), 1);
	CHECK_RETURNS(c.call("get_initialized"), 7);
	CHECK_FAILS(c, c.call("peek", *p), errc::compartment_fault,
		    CallFailure::Kind::fault);
	CHECK_RETURNS(c.call("canary"), *canary);
	CHECK_RETURNS(c.call("allocate", 5000, 1), *p);
}

TEST_CASE("two compartments used alternately on one thread keep apart")
{
	auto a = make();
	auto b = make();

	for (long i = 1; i <= 20; i++) {
		CHECK_RETURNS(a.call("count"), i);
		CHECK_RETURNS(b.call("count"), 2 * i - 1);
		CHECK_RETURNS(b.call("count"), 2 * i);
	}
	REQUIRE(a.call("set_initialized", 1));
	CHECK_RETURNS(a.call("get_initialized"), 1);
	CHECK_RETURNS(b.call("get_initialized"), 7);
}

TEST_CASE("compartments run on several threads at once")
{
	constexpr int threads = 4, calls = 200;
	std::atomic<int> good{0};
	std::vector<std::thread> ts;

	for (int t = 0; t < threads; t++) {
		ts.emplace_back([t, &good] {
			Compartment::Config cfg{.backend = current_backend()};
			auto c = Compartment::create(test_image(), cfg);
			if (!c)
				return;
			int ok = 0;
			for (int i = 0; i < calls; i++) {
				auto r = c->call("weigh6", t, i, 0, 0, 0, 0);
				auto n = c->call("count");
				ok += r && *r == static_cast<std::uint64_t>(t + 2 * i) &&
				      n && *n == static_cast<std::uint64_t>(i + 1);
			}
			good += ok;
		});
	}
	for (auto& t : ts)
		t.join();
	CHECK(good == threads * calls);
}

}
