// SPDX-License-Identifier: GPL-2.0
//
// The guest port's own file systems, mounted over the root at /dev
// (devfs.cpp: null, zero, full, random, urandom, tty, the standard
// streams) and /proc (procfs.cpp: the process's own entries and a few
// system ones).  A lookup yields a SynthNode, or a Redirect when the path
// goes through a symlink on the way.
#pragma once

#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "common.hpp"
#include "fs/file.hpp"

namespace guest {

class Task;

// A directory entry: its name and d_type (DT_REG, DT_DIR, ...).
struct SynthEntry {
	std::string name;
	unsigned char type;
};

struct SynthNode {
	enum class Kind { dir, file, symlink, device };

	SynthNode(Kind kind, std::string path, mode_t perm)
		: kind(kind), path(std::move(path)), perm(perm)
	{
	}

	Kind kind;
	std::string path;	// its normalized guest path
	mode_t perm;		// permission bits

	// device: its number, and the open file it gives (magic, when set:
	// the file handed to the guest port that it is, /dev/tty's)
	dev_t rdev = 0;
	std::function<std::shared_ptr<File>(int flags)> open_device;
	// symlink: its target; a magic link (/proc/self/fd/N) also leads
	// to a file that no path may name any more (a pipe, a deleted file)
	std::string target;
	std::shared_ptr<File> magic;
	// file: its contents, made when it is opened; whether epoll takes it
	std::function<KResult<std::string>()> content;
	bool pollable = false;
	// dir: its entries (without "." and "..")
	std::function<std::vector<SynthEntry>()> entries;

	[[nodiscard]] struct stat stat() const;
};

// The path continues through a symlink: resolve path afresh, relative
// to start (a directory file) when set, else it is absolute.
struct Redirect {
	std::shared_ptr<File> start;
	std::string path;
};

using SynthLookup = std::variant<SynthNode, Redirect>;

// Look up a normalized path under /dev or /proc (path::synthetic()):
// ENOENT when there is nothing there.
KResult<SynthLookup> devfs_lookup(Task& t, const std::string& norm);
KResult<SynthLookup> procfs_lookup(Task& t, const std::string& norm);

// statfs(2) of a path in the guest port's file systems: a procfs for
// /proc, a tmpfs for /dev.
struct statfs synth_statfs(const std::string& norm);

// An open synthetic node: a directory to list, contents to read, a
// symlink held by O_PATH.
std::shared_ptr<File> open_synth(const SynthNode& node, int flags, KResult<std::string> content);

} // namespace guest
