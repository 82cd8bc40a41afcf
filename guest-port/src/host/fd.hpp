// SPDX-License-Identifier: GPL-2.0
//
// host::Fd: sole owner of a host descriptor, closed (host::close) when
// it goes.  libunpriv's unpriv::Fd closes inline, in the code of its
// owner; this one closes here, in the host layer, so the guest port's
// code outside it makes no host call (tests/host-layer-check).
#pragma once

#include <utility>

namespace guest::host {

// close(2) of a descriptor of the guest port's (its error, EINTR
// included, is nothing to act on: the descriptor is gone on Linux).
void close(int fd) noexcept;

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
			close(fd_);
		fd_ = fd;
	}

private:
	int fd_ = -1;
};

} // namespace guest::host
