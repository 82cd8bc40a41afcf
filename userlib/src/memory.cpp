// SPDX-License-Identifier: MIT
#include "unpriv/memory.hpp"

#include <sys/mman.h>
#include <unistd.h>

namespace unpriv {

Result<GuestMemory> GuestMemory::create(std::size_t size, const char *name)
{
	const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));

	if (size == 0 || size > SIZE_MAX - page)
		return fail_errno(EINVAL);
	size = (size + page - 1) & ~(page - 1);

	Fd fd(memfd_create(name, MFD_CLOEXEC));
	if (!fd)
		return fail_errno();
	if (ftruncate(fd.get(), static_cast<off_t>(size)) < 0)
		return fail_errno();
	void *data = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED,
			  fd.get(), 0);
	if (data == MAP_FAILED)
		return fail_errno();
	return GuestMemory(std::move(fd), static_cast<std::byte *>(data), size);
}

GuestMemory::GuestMemory(GuestMemory&& other) noexcept
	: fd_(std::move(other.fd_)),
	  data_(std::exchange(other.data_, nullptr)),
	  size_(std::exchange(other.size_, 0))
{
}

GuestMemory& GuestMemory::operator=(GuestMemory&& other) noexcept
{
	if (this != &other) {
		if (data_)
			munmap(data_, size_);
		fd_ = std::move(other.fd_);
		data_ = std::exchange(other.data_, nullptr);
		size_ = std::exchange(other.size_, 0);
	}
	return *this;
}

GuestMemory::~GuestMemory()
{
	if (data_)
		munmap(data_, size_);
}

std::span<std::byte> GuestMemory::bytes(std::uint64_t offset,
					std::size_t len) const noexcept
{
	if (offset > size_ || len > size_ - offset)
		return {};
	return {data_ + offset, len};
}

} // namespace unpriv
