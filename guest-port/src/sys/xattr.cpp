// SPDX-License-Identifier: GPL-2.0
//
// Extended attributes: getxattr, lgetxattr, fgetxattr, listxattr,
// llistxattr, flistxattr, setxattr, lsetxattr, fsetxattr, removexattr,
// lremovexattr, fremovexattr.  The files answer (fs/xattr.cpp); here
// the arguments are checked as Linux checks them.
#include <linux/limits.h>
#include <sys/xattr.h>

#include <vector>

#include "kernel.hpp"
#include "sys/handlers.hpp"
#include "task.hpp"

namespace guest {
namespace {

// A name: ERANGE when empty or longer than XATTR_NAME_MAX.
KResult<std::string> name_arg(Task& t, std::uint64_t addr)
{
	auto n = t.mm().read_string(addr, XATTR_NAME_MAX);
	if (!n)
		return kerr(n.error() == ENAMETOOLONG ? ERANGE : n.error());
	if (n->empty())
		return kerr(ERANGE);
	return n;
}

// On a path (follow: not the l* calls) or on a descriptor.
struct Target {
	std::string path;
	bool follow = true;
	bool by_fd = false;	// the f* calls, on fd
	int fd = -1;
};

KResult<Target> target_arg(Task& t, std::uint64_t arg, bool by_fd, bool follow)
{
	Target tg;
	tg.follow = follow;
	if (by_fd) {
		tg.by_fd = true;
		tg.fd = static_cast<int>(arg);
		return tg;
	}
	if (!arg)
		return kerr(EFAULT);
	auto p = t.mm().read_string(arg, PATH_MAX - 1);
	if (!p)
		return kerr(p.error());
	tg.path = std::move(*p);
	return tg;
}

KResult<std::size_t> run(Task& t, const Target& tg, const XattrOp& op)
{
	if (!tg.by_fd && tg.path.empty())
		return kerr(ENOENT);
	if (tg.by_fd) {
		auto f = t.files().get(tg.fd);
		if (!f)
			return kerr(EBADF);
		return file_xattr(*f, op);
	}
	return t.kernel().vfs().xattr(t, tg.path, tg.follow, op);
}

SysResult do_get(Task& t, const SysArgs& a, bool by_fd, bool follow)
{
	auto tg = target_arg(t, a[0], by_fd, follow);
	if (!tg)
		return -tg.error();
	auto name = name_arg(t, a[1]);
	if (!name)
		return -name.error();
	std::vector<std::byte> buf(std::min<std::uint64_t>(a[3], XATTR_SIZE_MAX));
	auto n = run(t, *tg, {XattrOp::Kind::get, *name, buf, {}, 0});
	if (!n)
		return -n.error();
	if (!buf.empty() && !t.mm().write(a[2], std::span(buf).first(*n)))
		return -EFAULT;
	return static_cast<SysResult>(*n);
}

SysResult do_list(Task& t, const SysArgs& a, bool by_fd, bool follow)
{
	auto tg = target_arg(t, a[0], by_fd, follow);
	if (!tg)
		return -tg.error();
	std::vector<std::byte> buf(std::min<std::uint64_t>(a[2], XATTR_LIST_MAX));
	auto n = run(t, *tg, {XattrOp::Kind::list, {}, buf, {}, 0});
	if (!n)
		return -n.error();
	if (!buf.empty() && !t.mm().write(a[1], std::span(buf).first(*n)))
		return -EFAULT;
	return static_cast<SysResult>(*n);
}

SysResult do_set(Task& t, const SysArgs& a, bool by_fd, bool follow)
{
	if (a[4] & ~std::uint64_t{XATTR_CREATE | XATTR_REPLACE})
		return -EINVAL;
	auto tg = target_arg(t, a[0], by_fd, follow);
	if (!tg)
		return -tg.error();
	auto name = name_arg(t, a[1]);
	if (!name)
		return -name.error();
	if (a[3] > XATTR_SIZE_MAX)
		return -E2BIG;
	std::vector<std::byte> value(a[3]);
	if (!value.empty() && !t.mm().read(a[2], value))
		return -EFAULT;
	return sys_ret(run(t, *tg, {XattrOp::Kind::set, *name, {}, value, static_cast<int>(a[4])})
			       .map([](std::size_t) { return 0; }));
}

SysResult do_remove(Task& t, const SysArgs& a, bool by_fd, bool follow)
{
	auto tg = target_arg(t, a[0], by_fd, follow);
	if (!tg)
		return -tg.error();
	auto name = name_arg(t, a[1]);
	if (!name)
		return -name.error();
	return sys_ret(run(t, *tg, {XattrOp::Kind::remove, *name, {}, {}, 0})
			       .map([](std::size_t) { return 0; }));
}

} // namespace

GUEST_SYSCALL(getxattr) { return do_get(t, a, false, true); }
GUEST_SYSCALL(lgetxattr) { return do_get(t, a, false, false); }
GUEST_SYSCALL(fgetxattr) { return do_get(t, a, true, true); }
GUEST_SYSCALL(listxattr) { return do_list(t, a, false, true); }
GUEST_SYSCALL(llistxattr) { return do_list(t, a, false, false); }
GUEST_SYSCALL(flistxattr) { return do_list(t, a, true, true); }
GUEST_SYSCALL(setxattr) { return do_set(t, a, false, true); }
GUEST_SYSCALL(lsetxattr) { return do_set(t, a, false, false); }
GUEST_SYSCALL(fsetxattr) { return do_set(t, a, true, true); }
GUEST_SYSCALL(removexattr) { return do_remove(t, a, false, true); }
GUEST_SYSCALL(lremovexattr) { return do_remove(t, a, false, false); }
GUEST_SYSCALL(fremovexattr) { return do_remove(t, a, true, true); }

} // namespace guest
