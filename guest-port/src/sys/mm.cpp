// SPDX-License-Identifier: GPL-2.0
//
// Memory: brk, mmap, munmap, mprotect, mremap, msync, madvise.  The work is
// Mm's; here are the arguments.
#include <sys/mman.h>

#include "sys/handlers.hpp"
#include "task.hpp"

namespace guest {
namespace {

// After a call that may change the mappings: their size, for others to
// see (/proc/PID/stat).
SysResult sized(Task& t, SysResult r)
{
	t.process().vsize = t.mm().size();
	return r;
}

} // namespace

GUEST_SYSCALL(brk)
{
	return sized(t, static_cast<SysResult>(t.mm().brk(a[0])));
}

GUEST_SYSCALL(mmap)
{
	auto flags = static_cast<int>(a[3]);
	auto prot = static_cast<int>(a[2]);

	// No huge pages here, as on a Linux with none reserved.
	if (flags & MAP_HUGETLB)
		return -ENOMEM;
	std::shared_ptr<const MapFile> file;
	if (!(flags & MAP_ANONYMOUS)) {
		auto f = t.files().get(static_cast<int>(a[4]));
		if (!f)
			return -EBADF;
		if ((flags & MAP_TYPE) == MAP_PRIVATE && f->maps_anonymous()) {
			// /dev/zero: private zero-filled memory.
			flags |= MAP_ANONYMOUS;
		} else {
			auto m = f->map_file();
			if (!m)
				return -m.error();
			file = std::move(*m);
		}
	}
	return sized(t, sys_ret(t.mm().mmap(a[0], a[1], prot, flags, std::move(file), a[5])));
}

GUEST_SYSCALL(munmap)
{
	return sized(t, sys_ret(t.mm().munmap(a[0], a[1])));
}

GUEST_SYSCALL(mprotect)
{
	return sys_ret(t.mm().mprotect(a[0], a[1], static_cast<int>(a[2])));
}

GUEST_SYSCALL(mremap)
{
	return sized(t, sys_ret(t.mm().mremap(a[0], a[1], a[2], static_cast<int>(a[3]), a[4])));
}

GUEST_SYSCALL(msync)
{
	return sys_ret(t.mm().msync(a[0], a[1], static_cast<int>(a[2])));
}

GUEST_SYSCALL(madvise)
{
	return sys_ret(t.mm().madvise(a[0], a[1], static_cast<int>(a[2])));
}

} // namespace guest
