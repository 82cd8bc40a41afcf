// SPDX-License-Identifier: GPL-2.0
#include "fs/fdtable.hpp"

namespace guest {

KResult<int> FdTable::install(std::shared_ptr<File> file, bool cloexec, int min)
{
	if (min < 0)
		return kerr(EINVAL);
	for (auto fd = static_cast<unsigned>(min); fd < limit_; fd++) {
		if (fd >= slots_.size())
			slots_.resize(fd + 1);
		if (!slots_[fd].file) {
			slots_[fd] = {std::move(file), cloexec};
			return static_cast<int>(fd);
		}
	}
	return kerr(min > 0 && static_cast<unsigned>(min) >= limit_ ? EINVAL : EMFILE);
}

KResult<int> FdTable::install_at(int fd, std::shared_ptr<File> file, bool cloexec)
{
	if (fd < 0 || static_cast<unsigned>(fd) >= limit_)
		return kerr(EBADF);
	if (static_cast<unsigned>(fd) >= slots_.size())
		slots_.resize(static_cast<unsigned>(fd) + 1);
	// The old file is released after the slot is reused, as dup2 does.
	auto old = std::exchange(slots_[static_cast<unsigned>(fd)],
				 Slot{std::move(file), cloexec});
	return fd;
}

std::shared_ptr<File> FdTable::get(int fd) const
{
	if (fd < 0 || static_cast<unsigned>(fd) >= slots_.size())
		return nullptr;
	return slots_[static_cast<unsigned>(fd)].file;
}

KResult<void> FdTable::close(int fd)
{
	if (!get(fd))
		return kerr(EBADF);
	slots_[static_cast<unsigned>(fd)] = {};
	while (!slots_.empty() && !slots_.back().file)
		slots_.pop_back();
	return {};
}

bool FdTable::cloexec(int fd) const
{
	return get(fd) && slots_[static_cast<unsigned>(fd)].cloexec;
}

void FdTable::set_cloexec(int fd, bool on)
{
	if (get(fd))
		slots_[static_cast<unsigned>(fd)].cloexec = on;
}

std::vector<int> FdTable::fds() const
{
	std::vector<int> out;
	for (unsigned fd = 0; fd < slots_.size(); fd++)
		if (slots_[fd].file)
			out.push_back(static_cast<int>(fd));
	return out;
}

} // namespace guest
