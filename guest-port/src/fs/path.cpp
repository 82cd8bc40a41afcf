// SPDX-License-Identifier: GPL-2.0
#include "fs/path.hpp"

#include <vector>

namespace guest::path {

bool has_dotdot(std::string_view p)
{
	for (std::size_t i = 0; i < p.size();) {
		std::size_t j = p.find('/', i);
		if (j == std::string_view::npos)
			j = p.size();
		if (p.substr(i, j - i) == "..")
			return true;
		i = j + 1;
	}
	return false;
}

std::string normalize(std::string_view abs)
{
	std::vector<std::string_view> parts;
	for (std::size_t i = 0; i < abs.size();) {
		std::size_t j = abs.find('/', i);
		if (j == std::string_view::npos)
			j = abs.size();
		std::string_view c = abs.substr(i, j - i);
		if (c == "..") {
			if (!parts.empty())
				parts.pop_back();
		} else if (!c.empty() && c != ".") {
			parts.push_back(c);
		}
		i = j + 1;
	}
	std::string out;
	for (auto c : parts) {
		out += '/';
		out += c;
	}
	return out.empty() ? "/" : out;
}

bool synthetic(std::string_view norm)
{
	for (std::string_view mount : {"/dev", "/proc"})
		if (norm == mount || (norm.starts_with(mount) && norm[mount.size()] == '/'))
			return true;
	return false;
}

std::string join(std::string_view dir, std::string_view rel)
{
	std::string out(dir);
	if (out.empty() || out.back() != '/')
		out += '/';
	out += rel;
	return out;
}

Split split(std::string_view p)
{
	Split s{{}, {}, false};
	std::size_t end = p.size();
	while (end > 0 && p[end - 1] == '/')
		end--;
	s.trailing_slash = end < p.size();
	if (end == 0)
		return {p.empty() ? "" : "/", p.empty() ? "" : ".", true};
	std::size_t slash = p.rfind('/', end - 1);
	if (slash == std::string_view::npos) {
		s.name = p.substr(0, end);
		return s;
	}
	s.name = p.substr(slash + 1, end - slash - 1);
	std::size_t dir_end = slash;
	while (dir_end > 0 && p[dir_end - 1] == '/')
		dir_end--;
	s.dir = dir_end == 0 ? "/" : std::string(p.substr(0, dir_end));
	return s;
}

} // namespace guest::path
