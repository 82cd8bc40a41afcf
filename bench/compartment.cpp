// SPDX-License-Identifier: GPL-2.0
//
// unpriv-bench-compartment: what a privilege-split call costs (issue 14).
//
//	unpriv-bench-compartment [--time] [GZIP-FILE]
//
// Round trips, each in a child process of its own, timed in batches as
// unpriv-micro (bench/micro.c) times them:
//
//	native_getpid        syscall(SYS_getpid): the unit
//	function_call        an empty function called through a pointer
//	compartment_BACKEND  Compartment::call() of an empty entry point
//	pipe_helper          a byte to a helper process over a pipe and one
//	                     back: fork-server privilege separation
//	futex_helper         a request to a helper process through a futex
//	                     in shared memory and the answer back the same
//	                     way: the fastest process-based alternative
//
// Then, given GZIP-FILE, the whole file inflated with Debian's zlib in
// 64 KiB chunks of input into a 256 KiB output buffer, by
// sandboxed-inflate's code (userlib/examples/sandboxed-inflate/
// inflate.c): in this process (inflate_local), in a compartment on each
// backend (inflate_compartment_BACKEND: the buffers are windows) and in
// a helper process over a pipe (inflate_helper: the buffers are shared
// memory, a byte each way per step).  Each is checked once against the
// file's length and Adler-32 before it is timed.
//
// Units: instructions by default, which needs QEMU -icount shift=0 with
// one CPU (the guest clock then counts instructions; checked first, as
// unpriv-micro does); with --time, nanoseconds of whatever clock there
// is.  Output, for bench/compartment-report:
//
//	result NAME MIN MEDIAN ROUND_TRIPS_PER_BATCH BATCHES
//	inflate NAME MIN MEDIAN BYTES RUNS
//
// A backend that cannot be opened here is left out with a "# NAME:
// skipped" line.  Never a test: nothing here passes or fails on a
// figure.
#include <err.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <unpriv.hpp>

#include "inflate-abi.h"

extern "C" const std::byte unpriv_image_bench_compartment_start[];
extern "C" const std::byte unpriv_image_bench_compartment_end[];

// sandboxed-inflate's entry points, linked into this program too.
extern "C" long gz_begin(void);
extern "C" long gz_step(const uint8_t *in, size_t in_len, uint8_t *out,
			size_t out_cap, struct gz_io *io);

namespace {

constexpr int batches_n = 31;		// odd: the median is one batch
constexpr double batch_units = 1e6;	// per batch: 1 ms of instructions
constexpr int warmup = 16;
constexpr int inflate_runs = 3;
constexpr std::size_t chunk = 64 << 10;
constexpr std::size_t out_size = 256 << 10;

bool instructions = true;

std::uint64_t now()
{
	timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts))
		err(1, "clock_gettime");
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

template <class T>
T checked(unpriv::Result<T> r, const char *what)
{
	if (!r)
		errx(1, "%s: %s", what, r.error().message().c_str());
	return std::move(*r);
}

// --- timing ---------------------------------------------------------------

using RoundTrip = void (*)();

__attribute__((noipa)) std::uint64_t batch(RoundTrip f, long n)
{
	std::uint64_t start = now();

	for (long i = 0; i < n; i++)
		f();
	return now() - start;
}

__attribute__((noipa)) void nothing() {}

double fixed_cost, loop_cost;

std::vector<std::uint64_t> batches(RoundTrip f, long n)
{
	std::vector<std::uint64_t> v(batches_n);

	for (auto& x : v)
		x = batch(f, n);
	std::sort(v.begin(), v.end());
	return v;
}

double per_round_trip(std::uint64_t units, long n)
{
	return (static_cast<double>(units) - fixed_cost) / n - loop_cost;
}

void measure_overhead()
{
	const long n = static_cast<long>(batch_units / 8);

	fixed_cost = static_cast<double>(batches(nothing, 0)[0]);
	loop_cost = (static_cast<double>(batches(nothing, n)[0]) - fixed_cost) / n;
	std::printf("# overhead: %.0f per batch, %.2f per round trip\n",
		    fixed_cost, loop_cost);
}

__attribute__((noipa)) void spin()
{
	long n = 1000000;

	asm volatile("1: dec %0; jnz 1b" : "+r"(n));
}

void check_icount()
{
	double measured = per_round_trip(batches(spin, 1)[0], 1);

	std::printf("# icount check: a loop of 2000000 instructions measured as %.0f\n",
		    measured);
	if (measured < 2000000 * 0.999 || measured > 2000000 * 1.001)
		errx(1, "the clock does not count instructions: run under QEMU "
			"-icount shift=0 with 1 CPU, or use --time");
}

void report(const char *name, RoundTrip f)
{
	batch(f, warmup);
	long n = static_cast<long>(batch_units * warmup /
				   static_cast<double>(batch(f, warmup))) + 1;
	auto v = batches(f, n);
	std::printf("result %s %.1f %.1f %ld %d\n", name, per_round_trip(v[0], n),
		    per_round_trip(v[batches_n / 2], n), n, batches_n);
}

// Run fn in a child process of its own; false if it failed.
bool in_child(const char *name, const std::function<void()>& fn)
{
	std::fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		err(1, "fork");
	if (pid == 0) {
		fn();
		std::fflush(stdout);
		_exit(0);
	}
	int status;
	if (waitpid(pid, &status, 0) != pid)
		err(1, "waitpid");
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return true;
	std::fprintf(stderr, "unpriv-bench-compartment: %s failed (status %#x)\n",
		     name, status);
	return false;
}

// --- the round trips ----------------------------------------------------------

void native_getpid()
{
	syscall(SYS_getpid);
}

__attribute__((noipa)) long empty_function()
{
	return 0;
}

void function_call()
{
	if (empty_function() != 0)
		std::abort();
}

unpriv::Image bench_image()
{
	std::string why;
	auto image = unpriv::Image::parse({unpriv_image_bench_compartment_start,
					   unpriv_image_bench_compartment_end}, &why);
	if (!image)
		errx(1, "bench image: %s", why.c_str());
	return std::move(*image);
}

std::optional<unpriv::Compartment> comp;
unpriv::Entry empty_entry;

// A compartment on kind, or nothing (with a "skipped" line).
bool open_compartment(unpriv::BackendKind kind, const char *name)
{
	auto c = unpriv::Compartment::create(bench_image(), {
		.budget = 1 << 20,
		.policy = unpriv::Policy().allow_memory().strict(),
		.backend = kind,
	});
	if (!c) {
		std::printf("# %s: skipped: %s\n", name, c.error().message().c_str());
		return false;
	}
	comp = std::move(*c);
	empty_entry = checked(comp->entry("empty"), "entry empty");
	return true;
}

void compartment_call()
{
	auto r = comp->call(empty_entry);
	if (!r || *r != 0)
		errx(1, "call: %s", r ? "wrong result" : r.error().message().c_str());
}

// A helper process over two pipes: for each request byte, serve() runs
// there and its result is the answer byte, until the request pipe closes.
struct PipeHelper {
	pid_t pid;
	int to, from;
};

PipeHelper start_pipe_helper(const std::function<char(char)>& serve)
{
	int req[2], resp[2];

	if (pipe(req) || pipe(resp))
		err(1, "pipe");
	pid_t pid = fork();
	if (pid < 0)
		err(1, "fork");
	if (pid == 0) {
		char c;
		close(req[1]);
		close(resp[0]);
		while (read(req[0], &c, 1) == 1) {
			char r = serve(c);
			if (write(resp[1], &r, 1) != 1)
				_exit(1);
		}
		_exit(0);
	}
	close(req[0]);
	close(resp[1]);
	return {pid, req[1], resp[0]};
}

int to_helper = -1, from_helper = -1;

void pipe_round_trip()
{
	char c = 1;

	if (write(to_helper, &c, 1) != 1 || read(from_helper, &c, 1) != 1)
		err(1, "pipe helper");
}

// The futex handoff: turn is 1 when a request waits, 2 when its answer
// does.
std::atomic<std::uint32_t> *turn;

void futex_wait(std::atomic<std::uint32_t> *f, std::uint32_t v)
{
	syscall(SYS_futex, reinterpret_cast<std::uint32_t *>(f), FUTEX_WAIT, v,
		nullptr, nullptr, 0);
}

void futex_wake(std::atomic<std::uint32_t> *f)
{
	syscall(SYS_futex, reinterpret_cast<std::uint32_t *>(f), FUTEX_WAKE, 1,
		nullptr, nullptr, 0);
}

void start_futex_helper()
{
	void *p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		err(1, "mmap");
	turn = new (p) std::atomic<std::uint32_t>(0);
	pid_t pid = fork();
	if (pid < 0)
		err(1, "fork");
	if (pid == 0) {
		for (;;) {
			std::uint32_t v;
			while ((v = turn->load()) != 1) {
				if (v == 3)
					_exit(0);
				futex_wait(turn, v);
			}
			turn->store(2);
			futex_wake(turn);
		}
	}
}

void futex_round_trip()
{
	std::uint32_t v;

	turn->store(1);
	futex_wake(turn);
	while ((v = turn->load()) != 2)
		futex_wait(turn, v);
}

// --- inflating ------------------------------------------------------------------

struct Buffers {
	std::byte *in, *out;
	gz_io *io;
};

// One way to run gz_begin() and gz_step() on the buffers.
struct Inflater {
	std::function<long()> begin;
	std::function<long(std::size_t in_off, std::size_t in_len)> step;
};

// Inflate all of file through inf; the bytes produced, and their
// Adler-32 when sum is given.
std::uint64_t inflate_all(const std::vector<std::byte>& file, const Buffers& b,
			  const Inflater& inf, std::uint32_t *sum)
{
	std::uint64_t total = 0;
	std::size_t pos = 0;
	bool in_member = false;

	if (sum)
		*sum = static_cast<std::uint32_t>(adler32(0, nullptr, 0));
	while (pos < file.size()) {
		std::size_t len = std::min(chunk, file.size() - pos), off = 0;
		std::memcpy(b.in, file.data() + pos, len);
		pos += len;
		while (off < len) {
			if (!in_member) {
				if (inf.begin() != 0)
					errx(1, "gz_begin failed");
				in_member = true;
			}
			long r = inf.step(off, len - off);
			if (r < 0 || b.io->consumed > len - off || b.io->produced > out_size)
				errx(1, "inflate failed (%ld): %s", r, b.io->msg);
			if (sum)
				*sum = static_cast<std::uint32_t>(adler32(
					*sum, reinterpret_cast<const Bytef *>(b.out),
					static_cast<uInt>(b.io->produced)));
			total += b.io->produced;
			off += b.io->consumed;
			if (r == GZ_END)
				in_member = false;
		}
	}
	if (in_member)
		errx(1, "the file ends in the middle of a member");
	return total;
}

std::vector<std::byte> gz_file;
std::uint64_t expected_len;
std::uint32_t expected_sum;

void expect(const char *name, std::uint64_t len, std::uint32_t sum)
{
	if (len != expected_len || sum != expected_sum)
		errx(1, "%s: %llu bytes, Adler-32 %08x; expected %llu, %08x", name,
		     static_cast<unsigned long long>(len), sum,
		     static_cast<unsigned long long>(expected_len), expected_sum);
}

void time_inflate(const char *name, const Buffers& b, const Inflater& inf)
{
	std::uint32_t sum;
	std::uint64_t len = inflate_all(gz_file, b, inf, &sum);
	expect(name, len, sum);

	std::vector<std::uint64_t> t;
	for (int i = 0; i < inflate_runs; i++) {
		std::uint64_t start = now();
		inflate_all(gz_file, b, inf, nullptr);
		t.push_back(now() - start);
	}
	std::sort(t.begin(), t.end());
	std::printf("inflate %s %llu %llu %llu %d\n", name,
		    static_cast<unsigned long long>(t[0]),
		    static_cast<unsigned long long>(t[inflate_runs / 2]),
		    static_cast<unsigned long long>(expected_len), inflate_runs);
}

// Shared memory buffers (for the local and helper runs).
Buffers shared_buffers()
{
	void *p = mmap(nullptr, chunk + out_size + 4096, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		err(1, "mmap");
	auto *base = static_cast<std::byte *>(p);
	return {base, base + chunk, reinterpret_cast<gz_io *>(base + chunk + out_size)};
}

void inflate_local()
{
	Buffers b = shared_buffers();
	Inflater inf{
		[] { return gz_begin(); },
		[b](std::size_t off, std::size_t len) {
			return gz_step(reinterpret_cast<uint8_t *>(b.in) + off, len,
				       reinterpret_cast<uint8_t *>(b.out), out_size, b.io);
		},
	};
	time_inflate("inflate_local", b, inf);
}

// The helper runs gz_begin() (request 'b') or gz_step() (request 's',
// the input's offset in io->consumed and its length in io->produced) on
// the shared buffers.
void inflate_helper()
{
	Buffers b = shared_buffers();
	PipeHelper h = start_pipe_helper([b](char c) {
		long r = c == 'b' ? gz_begin()
				  : gz_step(reinterpret_cast<uint8_t *>(b.in) +
						    b.io->consumed,
					    b.io->produced,
					    reinterpret_cast<uint8_t *>(b.out),
					    out_size, b.io);
		return static_cast<char>(r);
	});
	auto rpc = [to = h.to, from = h.from](char c) {
		char r;
		if (write(to, &c, 1) != 1 || read(from, &r, 1) != 1)
			err(1, "inflate helper");
		return static_cast<long>(r);
	};
	Inflater inf{
		[rpc] { return rpc('b'); },
		[rpc, b](std::size_t off, std::size_t len) {
			b.io->consumed = off;
			b.io->produced = len;
			return rpc('s');
		},
	};
	time_inflate("inflate_helper", b, inf);
	close(h.to);
	close(h.from);
	waitpid(h.pid, nullptr, 0);
}

void inflate_compartment(const char *name)
{
	auto in = checked(unpriv::GuestMemory::create(chunk), "memory");
	auto out = checked(unpriv::GuestMemory::create(out_size), "memory");
	auto io = checked(unpriv::GuestMemory::create(sizeof(gz_io)), "memory");
	checked(comp->share(in, unpriv::Access::read), "share");
	checked(comp->share(out, unpriv::Access::read_write), "share");
	checked(comp->share(io, unpriv::Access::read_write), "share");
	Buffers b{in.bytes().data(), out.bytes().data(),
		  reinterpret_cast<gz_io *>(io.bytes().data())};
	auto begin = checked(comp->entry("gz_begin"), "entry");
	auto step = checked(comp->entry("gz_step"), "entry");
	Inflater inf{
		[begin] {
			auto r = comp->call(begin);
			if (!r)
				errx(1, "gz_begin: %s", comp->last_failure().describe().c_str());
			return static_cast<long>(*r);
		},
		[step, b](std::size_t off, std::size_t len) {
			auto r = comp->call(step, b.in + off, len, b.out, out_size, b.io);
			if (!r)
				errx(1, "gz_step: %s: %s", r.error().message().c_str(),
				     comp->last_failure().describe().c_str());
			return static_cast<long>(*r);
		},
	};
	time_inflate(name, b, inf);
}

std::vector<std::byte> read_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		err(1, "%s", path);
	std::vector<std::byte> v;
	std::byte buf[1 << 16];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		v.insert(v.end(), buf, buf + n);
	if (n < 0)
		err(1, "%s", path);
	close(fd);
	return v;
}

const std::pair<unpriv::BackendKind, const char *> backends[] = {
	{unpriv::BackendKind::module, "module"},
	{unpriv::BackendKind::ptrace, "ptrace"},
	{unpriv::BackendKind::seccomp, "seccomp"},
};

} // namespace

int main(int argc, char **argv)
{
	int failed = 0;
	const char *gz = nullptr;

	for (int i = 1; i < argc; i++) {
		if (!std::strcmp(argv[i], "--time"))
			instructions = false;
		else if (argv[i][0] == '-' || gz)
			errx(2, "usage: unpriv-bench-compartment [--time] [GZIP-FILE]");
		else
			gz = argv[i];
	}
	std::setvbuf(stdout, nullptr, _IOLBF, 0);
	std::printf("# units: %s\n", instructions ? "instructions" : "nanoseconds");
	measure_overhead();
	if (instructions)
		check_icount();

	failed += !in_child("native_getpid", [] { report("native_getpid", native_getpid); });
	failed += !in_child("function_call", [] { report("function_call", function_call); });
	for (auto [kind, backend] : backends) {
		std::string name = std::string("compartment_") + backend;
		failed += !in_child(name.c_str(), [&] {
			if (open_compartment(kind, name.c_str()))
				report(name.c_str(), compartment_call);
		});
	}
	failed += !in_child("pipe_helper", [] {
		PipeHelper h = start_pipe_helper([](char c) { return c; });
		to_helper = h.to;
		from_helper = h.from;
		report("pipe_helper", pipe_round_trip);
	});
	failed += !in_child("futex_helper", [] {
		start_futex_helper();
		report("futex_helper", futex_round_trip);
		turn->store(3);
		futex_wake(turn);
	});

	if (gz) {
		gz_file = read_file(gz);
		// What every run must produce, from a run here first.
		Buffers b = shared_buffers();
		Inflater inf{[] { return gz_begin(); },
			     [b](std::size_t off, std::size_t len) {
				     return gz_step(reinterpret_cast<uint8_t *>(b.in) + off, len,
						    reinterpret_cast<uint8_t *>(b.out),
						    out_size, b.io);
			     }};
		expected_len = inflate_all(gz_file, b, inf, &expected_sum);
		std::printf("# %s: %zu bytes inflate to %llu, Adler-32 %08x\n", gz,
			    gz_file.size(), static_cast<unsigned long long>(expected_len),
			    expected_sum);
		failed += !in_child("inflate_local", inflate_local);
		for (auto [kind, backend] : backends) {
			std::string name = std::string("inflate_compartment_") + backend;
			failed += !in_child(name.c_str(), [&] {
				if (open_compartment(kind, name.c_str()))
					inflate_compartment(name.c_str());
			});
		}
		failed += !in_child("inflate_helper", inflate_helper);
	}
	return failed ? 1 : 0;
}
