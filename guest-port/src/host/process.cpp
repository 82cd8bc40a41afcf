// SPDX-License-Identifier: GPL-2.0
#include "host/process.hpp"

#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

namespace guest::host {

pid_t getpid() noexcept
{
	return ::getpid();
}

uid_t getuid() noexcept
{
	return ::getuid();
}

gid_t getgid() noexcept
{
	return ::getgid();
}

void getresuid(uid_t *r, uid_t *e, uid_t *s) noexcept
{
	::getresuid(r, e, s);
}

void getresgid(gid_t *r, gid_t *e, gid_t *s) noexcept
{
	::getresgid(r, e, s);
}

std::vector<gid_t> getgroups()
{
	std::vector<gid_t> groups;
	int n = ::getgroups(0, nullptr);
	if (n > 0) {
		groups.resize(static_cast<std::size_t>(n));
		n = ::getgroups(n, groups.data());
		groups.resize(static_cast<std::size_t>(std::max(n, 0)));
	}
	return groups;
}

struct rlimit getrlimit(int resource) noexcept
{
	struct rlimit r{RLIM_INFINITY, RLIM_INFINITY};
	(void)::getrlimit(static_cast<__rlimit_resource>(resource), &r);
	return r;
}

mode_t umask(mode_t mask) noexcept
{
	return ::umask(mask);
}

KResult<std::size_t> getrandom(std::span<std::byte> buf, unsigned flags)
{
	ssize_t n = ::getrandom(buf.data(), buf.size(), flags);
	if (n < 0)
		return kerr(errno);
	return static_cast<std::size_t>(n);
}

} // namespace guest::host
