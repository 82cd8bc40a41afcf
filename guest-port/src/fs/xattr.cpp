// SPDX-License-Identifier: GPL-2.0
//
// Extended attributes.  A host file's are the host's: the call is made
// on the file the lookup found (confined as every lookup is: an O_PATH
// descriptor, then the host's magic link to it, which names that file
// and no other, a symlink itself for the l* calls), and the host says
// ENODATA, ENOTSUP, EPERM.  The guest port's own files have none, and
// answer as Linux 6.1's would: /proc as procfs (no xattr handler:
// ENOTSUP), /dev as devtmpfs, a tmpfs (security.*, trusted.* and
// system.* there but unset: ENODATA; user.* refused on a device,
// ENODATA to read and EPERM to write, and ENOTSUP on a directory).
#include <sys/xattr.h>

#include <cstring>

#include "fs/vfs.hpp"
#include "host/file.hpp"
#include "task.hpp"

namespace guest {
namespace {

KResult<std::size_t> done(KResult<void> r)
{
	return r.map([] { return std::size_t{0}; });
}

// On a host path that names exactly one file (/proc/self/fd/N).
KResult<std::size_t> path_xattr(const std::string& p, const XattrOp& op)
{
	const char *path = p.c_str(), *name = op.name.c_str();
	switch (op.kind) {
	case XattrOp::Kind::get:
		return host::getxattr(path, name, op.out);
	case XattrOp::Kind::list:
		return host::listxattr(path, op.out);
	case XattrOp::Kind::set:
		return done(host::setxattr(path, name, op.in, op.flags));
	case XattrOp::Kind::remove:
		return done(host::removexattr(path, name));
	}
	return kerr(EINVAL);
}

KResult<std::size_t> fd_xattr(int fd, const XattrOp& op)
{
	const char *name = op.name.c_str();
	switch (op.kind) {
	case XattrOp::Kind::get:
		return host::fgetxattr(fd, name, op.out);
	case XattrOp::Kind::list:
		return host::flistxattr(fd, op.out);
	case XattrOp::Kind::set:
		return done(host::fsetxattr(fd, name, op.in, op.flags));
	case XattrOp::Kind::remove:
		return done(host::fremovexattr(fd, name));
	}
	return kerr(EINVAL);
}

// The guest port's own file at norm, a directory or not.
KResult<std::size_t> synth_xattr(const std::string& norm, bool dir, const XattrOp& op)
{
	if (op.kind == XattrOp::Kind::list)
		return 0;
	if (norm == "/proc" || norm.starts_with("/proc/"))
		return kerr(ENOTSUP);
	bool write = op.kind == XattrOp::Kind::set;
	const std::string& n = op.name;
	if (n.starts_with("user.")) {
		if (dir)
			return kerr(ENOTSUP);
		return kerr(write ? EPERM : ENODATA);
	}
	if (n.starts_with("security.") || n.starts_with("trusted.") || n.starts_with("system."))
		return kerr(write ? EPERM : ENODATA);
	return kerr(ENOTSUP);
}

bool is_handed(const File& f)
{
	auto *hf = dynamic_cast<const HostFile *>(&f);
	return hf && hf->handed();
}

bool changes(const XattrOp& op)
{
	return op.kind == XattrOp::Kind::set || op.kind == XattrOp::Kind::remove;
}

} // namespace

KResult<std::size_t> file_xattr(File& f, const XattrOp& op)
{
	if (f.host_fd() >= 0) {
		// What the guest port was handed does not change.
		if (changes(op) && is_handed(f))
			return kerr(EPERM);
		return fd_xattr(f.host_fd(), op);
	}
	return synth_xattr(f.path(), f.is_directory(), op);
}

KResult<std::size_t> Vfs::xattr(Task& t, const std::string& path, bool follow,
				const XattrOp& op) const
{
	auto tg = resolve(t, AT_FDCWD, path, follow);
	if (!tg)
		return kerr(tg.error());
	if (tg->host) {
		auto fd = host_open(*tg->host, O_PATH | (follow ? 0 : O_NOFOLLOW), 0);
		if (!fd)
			return kerr(fd.error());
		return path_xattr("/proc/self/fd/" + std::to_string(fd->get()), op);
	}
	if (tg->file) {
		if (tg->file->host_fd() >= 0 && changes(op) && is_handed(*tg->file))
			return kerr(EPERM);
		if (tg->file->host_fd() >= 0)
			return path_xattr("/proc/self/fd/" + std::to_string(tg->file->host_fd()), op);
		return synth_xattr(tg->file->path(), tg->file->is_directory(), op);
	}
	return synth_xattr(tg->node->path, tg->node->kind == SynthNode::Kind::dir, op);
}

} // namespace guest
