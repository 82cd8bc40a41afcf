// SPDX-License-Identifier: GPL-2.0
#include "fs/socket.hpp"

#include <sys/stat.h>

#include "host/file.hpp"

namespace guest {

// --- Socket -----------------------------------------------------------------

Socket::Socket(host::Fd fd, int type, int flags, const Vfs *vfs,
	       std::shared_ptr<SocketSpace> space, std::string host_name)
	: HostFile(std::move(fd), flags, vfs, HostFile::Origin::own), type_(type),
	  space_(std::move(space)), host_name_(std::move(host_name))
{
}

std::shared_ptr<Socket> Socket::make(host::Fd fd, int type, int flags, const Vfs *vfs,
				     std::shared_ptr<SocketSpace> space, std::string host_name,
				     std::string id_name)
{
	auto st = host::fstat(fd.get());
	ino_t ino = st ? st->st_ino : 0;
	auto s = std::make_shared<Socket>(std::move(fd), type, flags, vfs, std::move(space),
					  std::move(host_name));
	s->ino_ = ino;
	s->id_name_ = id_name.empty() ? s->host_name_ : std::move(id_name);
	if (ino)
		s->space_->add(ino, s);
	return s;
}

Socket::~Socket()
{
	if (ino_)
		space_->remove(ino_);
	bool bound;
	{
		std::lock_guard lock(lock_);
		bound = !name_.empty();
	}
	if (bound)
		space_->forget_gone();
	if (!host_name_.empty())
		space_->retire(host_name_);
}

UnixName Socket::name()
{
	std::lock_guard lock(lock_);
	return name_;
}

KResult<void> Socket::set_name(const UnixName& name, const GuestCred& cred)
{
	std::lock_guard lock(lock_);
	if (!name_.empty())
		return kerr(EINVAL);
	name_ = name;
	cred_ = cred;
	if (!host_name_.empty())
		space_->set_identity(host_name_, {name_, cred_, sender_});
	return {};
}

void Socket::set_cred(const GuestCred& cred)
{
	std::lock_guard lock(lock_);
	cred_ = cred;
	if (sender_.pid == 0)
		sender_ = cred;
	if (!host_name_.empty())
		space_->set_identity(host_name_, {name_, cred_, sender_});
}

void Socket::sending(const GuestCred& cred)
{
	std::lock_guard lock(lock_);
	if (sender_.pid == cred.pid && sender_.uid == cred.uid && sender_.gid == cred.gid)
		return;
	sender_ = cred;
	if (!id_name_.empty())
		space_->set_sender(id_name_, cred);
}

GuestCred Socket::peer_cred()
{
	std::lock_guard lock(lock_);
	return peer_cred_;
}

void Socket::set_peer_cred(const GuestCred& cred)
{
	std::lock_guard lock(lock_);
	peer_cred_ = cred;
}

bool Socket::passcred()
{
	std::lock_guard lock(lock_);
	return passcred_;
}

void Socket::set_passcred(bool on)
{
	std::lock_guard lock(lock_);
	passcred_ = on;
}

} // namespace guest
