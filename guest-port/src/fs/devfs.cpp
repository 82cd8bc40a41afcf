// SPDX-License-Identifier: GPL-2.0
//
// The guest's /dev: the memory devices (null, zero, full, random,
// urandom), tty, and the links to the standard streams.
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/sysmacros.h>

#include <cstring>

#include "fs/synth.hpp"
#include "host/process.hpp"
#include "kernel.hpp"

namespace guest {
namespace {

enum class Mem { null, zero, full, random };

class MemDevice final : public File {
public:
	MemDevice(int flags, SynthNode node, Mem kind)
		: File(flags), node_(std::move(node)), kind_(kind)
	{
	}

	std::string path() const override { return node_.path; }
	KResult<struct stat> stat() override { return node_.stat(); }
	bool maps_anonymous() const noexcept override { return kind_ == Mem::zero; }
	// Linux's random has a poll operation; null, zero, full and
	// urandom have none.
	bool pollable() const noexcept override { return node_.path == "/dev/random"; }

	KResult<std::size_t> read(std::span<std::byte> buf) override
	{
		switch (kind_) {
		case Mem::null:
			return 0;
		case Mem::zero:
		case Mem::full:
			std::memset(buf.data(), 0, buf.size());
			return buf.size();
		case Mem::random: {
			return host::getrandom(buf, 0);
		}
		}
		return kerr(EINVAL);
	}

	KResult<std::size_t> write(std::span<const std::byte> buf) override
	{
		if (kind_ == Mem::full)
			return kerr(ENOSPC);
		return buf.size();
	}

	KResult<std::size_t> pread(std::span<std::byte> buf, std::uint64_t) override
	{
		return read(buf);
	}

	KResult<std::size_t> pwrite(std::span<const std::byte> buf, std::uint64_t) override
	{
		return write(buf);
	}

	KResult<std::int64_t> lseek(std::int64_t, int) override { return 0; }

private:
	SynthNode node_;
	Mem kind_;
};

struct DevEntry {
	const char *name;
	unsigned major, minor;
	Mem kind;
};

constexpr DevEntry mem_devices[] = {
	{"null", 1, 3, Mem::null},
	{"zero", 1, 5, Mem::zero},
	{"full", 1, 7, Mem::full},
	{"random", 1, 8, Mem::random},
	{"urandom", 1, 9, Mem::random},
};

constexpr const char *stream_links[][2] = {
	{"stdin", "/proc/self/fd/0"},
	{"stdout", "/proc/self/fd/1"},
	{"stderr", "/proc/self/fd/2"},
	{"fd", "/proc/self/fd"},
};

} // namespace

KResult<SynthLookup> devfs_lookup(Task& t, const std::string& norm)
{
	if (norm == "/dev") {
		SynthNode dir{SynthNode::Kind::dir, norm, 0755};
		dir.entries = [] {
			std::vector<SynthEntry> e;
			for (const auto& d : mem_devices)
				e.push_back({d.name, DT_CHR});
			e.push_back({"tty", DT_CHR});
			for (const auto& l : stream_links)
				e.push_back({l[0], DT_LNK});
			return e;
		};
		return dir;
	}

	std::string rest = norm.substr(5);	// after "/dev/"
	std::string name = rest.substr(0, rest.find('/'));
	std::string tail = rest.size() > name.size() ? rest.substr(name.size()) : "";

	for (const auto& l : stream_links) {
		if (name != l[0])
			continue;
		if (!tail.empty())
			return Redirect{nullptr, l[1] + tail};
		SynthNode link{SynthNode::Kind::symlink, norm, 0777};
		link.target = l[1];
		return link;
	}
	if (!tail.empty())
		return kerr(ENOTDIR);
	for (const auto& d : mem_devices) {
		if (name != d.name)
			continue;
		SynthNode dev{SynthNode::Kind::device, norm, 0666};
		dev.rdev = makedev(d.major, d.minor);
		Mem kind = d.kind;
		dev.open_device = [dev, kind](int flags) -> std::shared_ptr<File> {
			return std::make_shared<MemDevice>(flags, dev, kind);
		};
		return dev;
	}
	if (name == "tty") {
		// The process's controlling terminal: the file the guest port
		// was handed that is it, opened as such a file is by name.
		// Without one, opening it fails as on Linux (ENXIO).
		SynthNode dev{SynthNode::Kind::device, norm, 0666};
		dev.rdev = makedev(5, 0);
		dev.magic = t.kernel().controlling_terminal(t);
		dev.open_device = [](int) -> std::shared_ptr<File> { return nullptr; };
		return dev;
	}
	return kerr(ENOENT);
}

} // namespace guest
