// SPDX-License-Identifier: MIT
//
// Fd: sole owner of a file descriptor, closed when the Fd goes.
#pragma once

#include <utility>

#include <unistd.h>

namespace unpriv {

class Fd {
public:
	Fd() noexcept = default;
	explicit Fd(int fd) noexcept : fd_(fd) {}
	Fd(Fd&& other) noexcept : fd_(other.release()) {}
	Fd& operator=(Fd&& other) noexcept
	{
		if (this != &other)
			reset(other.release());
		return *this;
	}
	Fd(const Fd&) = delete;
	Fd& operator=(const Fd&) = delete;
	~Fd() { reset(); }

	[[nodiscard]] int get() const noexcept { return fd_; }
	explicit operator bool() const noexcept { return fd_ >= 0; }

	// Give up ownership without closing.
	[[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }

	// Close what is owned, then own fd (or nothing).
	void reset(int fd = -1) noexcept
	{
		if (fd_ >= 0)
			::close(fd_);
		fd_ = fd;
	}

private:
	int fd_ = -1;
};

} // namespace unpriv
