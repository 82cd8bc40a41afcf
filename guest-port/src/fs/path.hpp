// SPDX-License-Identifier: GPL-2.0
//
// Lexical path helpers.  They never decide where a host path leads (the
// host kernel does, with openat2); they tell which file system a path is
// in (the root, or the guest port's /dev and /proc) and split names.
#pragma once

#include <string>
#include <string_view>

namespace guest::path {

// Whether p has a ".." component.
bool has_dotdot(std::string_view p);

// The absolute path abs with ".", ".." and repeated slashes resolved as
// names: "/a/./b/../c//" is "/a/c".
std::string normalize(std::string_view abs);

// Whether the normalized path is in the guest port's own /dev or /proc.
bool synthetic(std::string_view norm);

// dir + "/" + rel, without doubling a slash.
std::string join(std::string_view dir, std::string_view rel);

// A path split into its directory part and last component, trailing
// slashes dropped but remembered: "a/b/" is {"a", "b", true}; "b" is
// {"", "b", false}; "/" is {"/", ".", true}.
struct Split {
	std::string dir;	// "" for the starting directory
	std::string name;
	bool trailing_slash;

	// The last component is "." or "..": no entry of its own there.
	[[nodiscard]] bool dot() const { return name == "." || name == ".."; }
};
Split split(std::string_view p);

} // namespace guest::path
