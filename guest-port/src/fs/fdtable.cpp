// SPDX-License-Identifier: GPL-2.0
#include "fs/fdtable.hpp"

namespace guest {

FdTable::FdTable(const FdTable& o) : limit_(o.limit_.load())
{
	std::lock_guard lock(o.lock_);
	slots_ = o.slots_;
}

FdTable& FdTable::operator=(FdTable&& o) noexcept
{
	std::vector<Slot> old;
	{
		std::scoped_lock lock(lock_, o.lock_);
		old.swap(slots_);
		slots_ = std::move(o.slots_);
		limit_ = o.limit_.load();
	}
	return *this;
}

KResult<int> FdTable::install(std::shared_ptr<File> file, bool cloexec, int min)
{
	if (min < 0)
		return kerr(EINVAL);
	std::lock_guard lock(lock_);
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
	// The old file is released after the slot is reused, as dup2 does.
	Slot old;
	std::lock_guard lock(lock_);
	if (static_cast<unsigned>(fd) >= slots_.size())
		slots_.resize(static_cast<unsigned>(fd) + 1);
	old = std::exchange(slots_[static_cast<unsigned>(fd)], Slot{std::move(file), cloexec});
	return fd;
}

std::shared_ptr<File> FdTable::get(int fd) const
{
	std::lock_guard lock(lock_);
	return get_locked(fd);
}

std::shared_ptr<File> FdTable::get_locked(int fd) const
{
	if (fd < 0 || static_cast<unsigned>(fd) >= slots_.size())
		return nullptr;
	return slots_[static_cast<unsigned>(fd)].file;
}

KResult<void> FdTable::close(int fd)
{
	Slot old;
	std::lock_guard lock(lock_);
	if (!get_locked(fd))
		return kerr(EBADF);
	old = std::exchange(slots_[static_cast<unsigned>(fd)], Slot{});
	while (!slots_.empty() && !slots_.back().file)
		slots_.pop_back();
	return {};
}

void FdTable::close_range(unsigned first, unsigned last, bool cloexec)
{
	std::vector<Slot> old;
	std::lock_guard lock(lock_);
	for (std::size_t fd = first; fd <= last && fd < slots_.size(); fd++) {
		if (!slots_[fd].file)
			continue;
		if (cloexec)
			slots_[fd].cloexec = true;
		else
			old.push_back(std::exchange(slots_[fd], Slot{}));
	}
	while (!slots_.empty() && !slots_.back().file)
		slots_.pop_back();
}

void FdTable::close_on_exec()
{
	std::vector<Slot> old;
	std::lock_guard lock(lock_);
	for (auto& slot : slots_)
		if (slot.file && slot.cloexec)
			old.push_back(std::exchange(slot, Slot{}));
	while (!slots_.empty() && !slots_.back().file)
		slots_.pop_back();
}

bool FdTable::cloexec(int fd) const
{
	std::lock_guard lock(lock_);
	return get_locked(fd) && slots_[static_cast<unsigned>(fd)].cloexec;
}

void FdTable::set_cloexec(int fd, bool on)
{
	std::lock_guard lock(lock_);
	if (get_locked(fd))
		slots_[static_cast<unsigned>(fd)].cloexec = on;
}

std::vector<int> FdTable::fds() const
{
	std::lock_guard lock(lock_);
	std::vector<int> out;
	for (unsigned fd = 0; fd < slots_.size(); fd++)
		if (slots_[fd].file)
			out.push_back(static_cast<int>(fd));
	return out;
}

} // namespace guest
