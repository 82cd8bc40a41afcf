// SPDX-License-Identifier: MIT
//
// sandboxed-inflate: zcat, with zlib in a compartment.  The gzip data
// is untrusted: Debian's zlib decompresses it in an address space that
// holds nothing of this program's but three windows (the input, read
// only; the output and a control block, read-write), with a strict
// policy (no system call but brk within a 1 MiB heap) and a deadline on
// every call.  What the compartment returns is checked before use.
//
//	sandboxed-inflate [--backend=NAME] [--image=PATH] [--deadline=MS] [FILE...]
//
// Decompresses each FILE (or standard input, or -) to standard output.
// A file that is not gzip data, damaged or truncated, or a compartment
// that faults, traps, makes a system call, runs past its deadline or
// returns nonsense, is reported on standard error; the compartment is
// then reset and the next file goes on.  Exit status 1 if any failed.
// --image loads another compartment image than the one built in (the
// test's hostile images); --deadline sets each call's time limit
// (default 10000 ms).
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <unpriv.hpp>

#include "inflate-abi.h"

extern "C" const std::byte unpriv_image_inflate_compartment_start[];
extern "C" const std::byte unpriv_image_inflate_compartment_end[];

namespace {

using namespace std::chrono_literals;

constexpr std::size_t in_size = 64 << 10;
constexpr std::size_t out_size = 256 << 10;
constexpr std::size_t heap_budget = 1 << 20;

const char *prog = "sandboxed-inflate";

struct Windows {
	unpriv::GuestMemory in, out, io;
};

// Write all of buf to standard output.
bool write_out(std::span<const std::byte> buf)
{
	while (!buf.empty()) {
		ssize_t n = ::write(STDOUT_FILENO, buf.data(), buf.size());
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return false;
		buf = buf.subspan(static_cast<std::size_t>(n));
	}
	return true;
}

// zlib's message, from compartment memory: printable characters only.
std::string message_of(const gz_io& io)
{
	std::string s;
	for (char c : io.msg) {
		if (!c)
			break;
		s += c >= 0x20 && c < 0x7f ? c : '?';
	}
	return s.empty() ? "invalid compressed data" : s;
}

class Inflater {
public:
	Inflater(unpriv::Compartment& comp, Windows& w, std::chrono::milliseconds limit)
		: comp_(comp), w_(w), limit_(limit) {}

	// Decompress fd to standard output; false (and *why) if it failed.
	bool run(int fd, std::string *why);

private:
	bool call(const char *entry, std::uint64_t *ret, std::string *why,
		  std::size_t in_off = 0, std::size_t in_len = 0);

	unpriv::Compartment& comp_;
	Windows& w_;
	std::chrono::milliseconds limit_;
};

bool Inflater::call(const char *entry, std::uint64_t *ret, std::string *why,
		    std::size_t in_off, std::size_t in_len)
{
	auto r = comp_.call(unpriv::Deadline::in(limit_), entry,
			    w_.in.bytes().data() + in_off, in_len,
			    w_.out.bytes().data(), w_.out.size(),
			    w_.io.bytes().data());
	if (!r) {
		*why = r.error().message();
		if (comp_.last_failure().kind != unpriv::CallFailure::Kind::none)
			*why += ": " + comp_.last_failure().describe();
		return false;
	}
	*ret = *r;
	return true;
}

bool Inflater::run(int fd, std::string *why)
{
	std::uint64_t ret;
	bool in_member = false;	// a member started and has not ended
	bool any = false;	// any input at all

	for (;;) {
		ssize_t n = ::read(fd, w_.in.bytes().data(), w_.in.size());
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*why = std::strerror(errno);
			return false;
		}
		if (n == 0)
			break;
		any = true;

		const auto len = static_cast<std::size_t>(n);
		std::size_t off = 0;
		while (off < len) {
			if (!in_member) {
				if (!call("gz_begin", &ret, why))
					return false;
				if (ret != 0) {
					*why = "out of memory";
					return false;
				}
				in_member = true;
			}
			if (!call("gz_step", &ret, why, off, len - off))
				return false;

			// The compartment's answer is untrusted input.
			gz_io io;
			std::memcpy(&io, w_.io.bytes().data(), sizeof(io));
			auto result = static_cast<std::int64_t>(ret);
			if (io.consumed > len - off || io.produced > w_.out.size() ||
			    result < GZ_NOMEM || result > GZ_END) {
				*why = "the compartment returned an impossible result";
				return false;
			}
			if (result == GZ_CORRUPT) {
				*why = message_of(io);
				return false;
			}
			if (result == GZ_NOMEM) {
				*why = "out of memory";
				return false;
			}
			if (!write_out(w_.out.bytes(0, io.produced))) {
				*why = std::string("standard output: ") + std::strerror(errno);
				return false;
			}
			off += io.consumed;
			if (result == GZ_END) {
				in_member = false;
			} else if (io.consumed == 0 && io.produced < w_.out.size()) {
				// Neither input taken nor the output filled.
				*why = "the compartment made no progress";
				return false;
			}
		}
	}
	if (!any || in_member) {
		*why = "unexpected end of file";
		return false;
	}
	return true;
}

// The caller's secret, at the address hostile.c looks for it.
bool plant_secret()
{
	void *p = mmap(reinterpret_cast<void *>(SANDBOXED_INFLATE_SECRET_ADDR), 4096,
		       PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
		       MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED)
		return false;
	std::strcpy(static_cast<char *>(p), "the caller's secret");
	return true;
}

int usage(int status)
{
	std::fprintf(status ? stderr : stdout,
		     "usage: %s [--backend=module|ptrace|seccomp] [--image=PATH] [--deadline=MS] [FILE...]\n",
		     prog);
	return status;
}

} // namespace

int main(int argc, char **argv)
{
	std::optional<unpriv::BackendKind> backend;
	std::string image_path;
	std::chrono::milliseconds limit = 10s;
	int first = 1;

	for (; first < argc; first++) {
		std::string_view a = argv[first];
		if (a == "-h" || a == "--help")
			return usage(0);
		if (a == "--") {
			first++;
			break;
		}
		if (a.starts_with("--backend=")) {
			auto k = unpriv::Backend::parse(a.substr(10));
			if (!k) {
				std::fprintf(stderr, "%s: %s\n", prog, k.error().message().c_str());
				return 2;
			}
			backend = *k;
		} else if (a.starts_with("--image=")) {
			image_path = a.substr(8);
		} else if (a.starts_with("--deadline=")) {
			char *end;
			long ms = std::strtol(argv[first] + 11, &end, 10);
			if (*end || end == argv[first] + 11 || ms <= 0) {
				std::fprintf(stderr, "%s: %s: not a number of milliseconds\n",
					     prog, argv[first]);
				return 2;
			}
			limit = std::chrono::milliseconds(ms);
		} else if (a.starts_with("-") && a != "-") {
			return usage(2);
		} else {
			break;
		}
	}

	if (!plant_secret()) {
		std::fprintf(stderr, "%s: cannot map the secret page: %s\n", prog,
			     std::strerror(errno));
		return 2;
	}

	std::string why;
	auto image = image_path.empty()
		? unpriv::Image::parse({unpriv_image_inflate_compartment_start,
					unpriv_image_inflate_compartment_end}, &why)
		: unpriv::Image::load(image_path, &why);
	if (!image) {
		std::fprintf(stderr, "%s: %s: %s%s%s\n", prog,
			     image_path.empty() ? "built-in image" : image_path.c_str(),
			     image.error().message().c_str(), why.empty() ? "" : ": ",
			     why.c_str());
		return 2;
	}

	auto comp = unpriv::Compartment::create(*image, {
		.budget = heap_budget,
		.policy = unpriv::Policy().allow_memory().strict(),
		.backend = backend,
	});
	auto in = unpriv::GuestMemory::create(in_size, "inflate-in");
	auto out = unpriv::GuestMemory::create(out_size, "inflate-out");
	auto io = unpriv::GuestMemory::create(sizeof(gz_io), "inflate-io");
	if (!comp || !in || !out || !io) {
		auto e = !comp ? comp.error() : !in ? in.error() : !out ? out.error() : io.error();
		std::fprintf(stderr, "%s: %s\n", prog, e.message().c_str());
		return 2;
	}
	Windows w{std::move(*in), std::move(*out), std::move(*io)};
	for (auto [mem, access] : {std::pair{&w.in, unpriv::Access::read},
				   std::pair{&w.out, unpriv::Access::read_write},
				   std::pair{&w.io, unpriv::Access::read_write}}) {
		if (auto r = comp->share(*mem, access); !r) {
			std::fprintf(stderr, "%s: sharing a window: %s\n", prog,
				     r.error().message().c_str());
			return 2;
		}
	}

	Inflater inflater(*comp, w, limit);
	int status = 0;
	std::vector<const char *> files(argv + first, argv + argc);
	if (files.empty())
		files.push_back("-");
	for (const char *file : files) {
		bool stdin_ = !std::strcmp(file, "-");
		int fd = stdin_ ? STDIN_FILENO : ::open(file, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			std::fprintf(stderr, "%s: %s: %s\n", prog, file, std::strerror(errno));
			status = 1;
			continue;
		}
		if (!inflater.run(fd, &why)) {
			std::fprintf(stderr, "%s: %s: %s\n", prog, file, why.c_str());
			status = 1;
			// Whatever the compartment did, the next file meets the
			// image as loaded.
			if (auto r = comp->reset(); !r) {
				std::fprintf(stderr, "%s: reset: %s\n", prog,
					     r.error().message().c_str());
				return 2;
			}
		}
		if (!stdin_)
			::close(fd);
	}
	return status;
}
