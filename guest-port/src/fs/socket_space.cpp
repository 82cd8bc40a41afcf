// SPDX-License-Identifier: GPL-2.0
//
// SocketSpace: the guest's namespace of AF_UNIX names (fs/socket.hpp).
// It never looks inside a Socket or a File but through their pointers'
// public calls, so its unit test needs neither.
#include "fs/socket.hpp"
#include "host/file.hpp"
#include "host/io.hpp"
#include "host/process.hpp"
#include "host/time.hpp"

#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <cstdio>

namespace guest {
namespace {

// Identities of gone sockets kept for what they left queued, and files
// in flight remembered: each at most this many, the oldest forgotten.
constexpr std::size_t retired_max = SocketSpace::retired_max;
constexpr std::size_t in_flight_max = 1024;

// Whether host descriptors a and b are one open file description.
bool same_file(int a, int b)
{
	auto same = host::same_file(a, b);
	return same && *same;
}

} // namespace

// --- SocketSpace ------------------------------------------------------------

SocketSpace::SocketSpace()
{
	std::uint64_t r = 0;
	std::uint32_t a = 0;
	if (host::getrandom(std::as_writable_bytes(std::span(&r, 1)), 0) != sizeof(r))
		r = static_cast<std::uint64_t>(host::getpid()) << 32 ^
		    static_cast<std::uint64_t>(host::clock_gettime(CLOCK_REALTIME).tv_sec);
	if (host::getrandom(std::as_writable_bytes(std::span(&a, 1)), 0) != sizeof(a))
		a = static_cast<std::uint32_t>(r);
	char buf[64];
	std::snprintf(buf, sizeof(buf), "unpriv-run.%016llx.", static_cast<unsigned long long>(r));
	prefix_ = std::string(1, '\0') + buf;
	autobind_next_ = a;
}

std::string SocketSpace::new_host_name()
{
	std::lock_guard lock(lock_);
	return prefix_ + std::to_string(next_++);
}

bool SocketSpace::ours(const std::string& host_name) const
{
	return host_name.starts_with(prefix_);
}

void SocketSpace::set_identity(const std::string& host_name, Identity id)
{
	std::lock_guard lock(lock_);
	ids_[host_name] = std::move(id);
}

void SocketSpace::set_sender(const std::string& host_name, const GuestCred& cred)
{
	std::lock_guard lock(lock_);
	auto it = ids_.find(host_name);
	if (it != ids_.end())
		it->second.sender = cred;
}

void SocketSpace::retire(const std::string& host_name)
{
	std::lock_guard lock(lock_);
	if (!ids_.contains(host_name))
		return;
	retired_.push_back(host_name);
	if (retired_.size() > retired_max) {
		ids_.erase(retired_.front());
		retired_.pop_front();
	}
}

std::optional<SocketSpace::Identity> SocketSpace::identity(const std::string& host_name)
{
	std::lock_guard lock(lock_);
	auto it = ids_.find(host_name);
	if (it == ids_.end())
		return std::nullopt;
	return it->second;
}

KResult<void> SocketSpace::bind_abstract(const UnixName& name, const std::shared_ptr<Socket>& s)
{
	std::lock_guard lock(lock_);
	auto it = abstract_.find(name);
	if (it != abstract_.end() && !it->second.expired())
		return kerr(EADDRINUSE);
	abstract_[name] = s;
	return {};
}

KResult<UnixName> SocketSpace::autobind_name()
{
	std::lock_guard lock(lock_);
	// Five hex digits, as Linux's unix_autobind(): 2^20 names.
	for (unsigned tries = 0; tries < 0x100000; tries++) {
		char buf[8];
		std::snprintf(buf, sizeof(buf), "%05x", autobind_next_++ & 0xfffff);
		UnixName name = std::string(1, '\0') + buf;
		auto it = abstract_.find(name);
		if (it == abstract_.end() || it->second.expired())
			return name;
	}
	return kerr(ENOSPC);
}

void SocketSpace::bind_path(dev_t dev, ino_t ino, std::shared_ptr<File> pin,
			    const std::shared_ptr<Socket>& s)
{
	std::lock_guard lock(lock_);
	paths_[{dev, ino}] = PathEntry{s, std::move(pin)};
}

std::shared_ptr<Socket> SocketSpace::find_abstract(const UnixName& name)
{
	std::lock_guard lock(lock_);
	auto it = abstract_.find(name);
	return it == abstract_.end() ? nullptr : it->second.lock();
}

std::shared_ptr<Socket> SocketSpace::find_path(dev_t dev, ino_t ino)
{
	std::lock_guard lock(lock_);
	auto it = paths_.find({dev, ino});
	return it == paths_.end() ? nullptr : it->second.socket.lock();
}

void SocketSpace::forget_gone()
{
	// A socket going has its weak pointers expired (a new socket may
	// have taken its abstract name since: that one stays).
	std::lock_guard lock(lock_);
	std::erase_if(abstract_, [](const auto& e) { return e.second.expired(); });
	std::erase_if(paths_, [](const auto& e) { return e.second.socket.expired(); });
}

void SocketSpace::add(ino_t ino, const std::shared_ptr<Socket>& s)
{
	std::lock_guard lock(lock_);
	inodes_[ino] = s;
}

void SocketSpace::remove(ino_t ino)
{
	std::lock_guard lock(lock_);
	auto it = inodes_.find(ino);
	if (it != inodes_.end() && it->second.expired())
		inodes_.erase(it);
}

std::shared_ptr<Socket> SocketSpace::find(ino_t ino)
{
	std::lock_guard lock(lock_);
	auto it = inodes_.find(ino);
	return it == inodes_.end() ? nullptr : it->second.lock();
}

void SocketSpace::sending(const std::shared_ptr<File>& f, int host_fd)
{
	auto stat = host::fstat(host_fd);
	if (!stat)
		return;
	const struct stat& st = *stat;
	std::lock_guard lock(lock_);
	InFlight e{st.st_dev, st.st_ino, {}, {}};
	if (f->host_fd() >= 0)
		e.file = f;
	else
		e.own = f;	// host_fd is its ticket
	in_flight_.push_back(std::move(e));
	if (in_flight_.size() > in_flight_max)
		in_flight_.pop_front();
}

void SocketSpace::not_sent(int host_fd)
{
	auto stat = host::fstat(host_fd);
	if (!stat)
		return;
	const struct stat& st = *stat;
	std::lock_guard lock(lock_);
	for (auto it = in_flight_.rbegin(); it != in_flight_.rend(); ++it) {
		if (it->dev == st.st_dev && it->ino == st.st_ino) {
			in_flight_.erase(std::next(it).base());
			return;
		}
	}
}

std::shared_ptr<File> SocketSpace::received(int fd, bool peek)
{
	auto stat = host::fstat(fd);
	if (!stat)
		return nullptr;
	const struct stat& st = *stat;
	std::lock_guard lock(lock_);
	for (auto it = in_flight_.begin(); it != in_flight_.end(); ++it) {
		if (it->dev != st.st_dev || it->ino != st.st_ino)
			continue;
		if (it->own) {
			// A ticket's inode is its own: it is the one sent.
			auto f = it->own;
			if (!peek)
				in_flight_.erase(it);
			return f;
		}
		auto f = it->file.lock();
		if (f && same_file(f->host_fd(), fd))
			return f;
	}
	return nullptr;
}

} // namespace guest
