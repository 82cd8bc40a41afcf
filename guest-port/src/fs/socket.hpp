// SPDX-License-Identifier: GPL-2.0
//
// AF_UNIX sockets: Socket (an open socket, a File) and SocketSpace (the
// guest's own namespace of socket addresses).
//
// A guest socket is a host AF_UNIX socket of the same type, which the
// guest port reads, writes and waits on for the guest, as it does a
// pipe: the host kernel keeps the queues, the message boundaries, the
// backlog and the readiness poll() sees, and a blocking call blocks the
// process's own host thread, where the guest port's interrupt reaches
// it.  What the guest names and sees is the guest port's:
//
//   - Every socket the guest makes is bound on the host, at once, to a
//     hidden name of its own in the host's abstract namespace
//     ("\0unpriv-run.<random>.<n>"); connect() and sendto() reach a
//     guest socket by that name, and the name the host reports of a
//     peer or a sender (accept, getpeername, recvfrom) is looked up
//     here to give the guest its own: what the peer bound, as the
//     guest gave it.  A host name that is not one of this guest's is
//     a connection from outside, refused (accept) or a message dropped
//     (recv): the guest reaches and hears only its own sockets.
//   - A name in the file system: bind() makes the socket file in the
//     root by the guest's confined lookup (mknod of S_IFSOCK, the
//     umask applied, EADDRINUSE when the name exists), and remembers
//     the socket by that file's device and inode (the file is held
//     open with O_PATH, so its inode cannot be reused while the socket
//     lives).  connect() looks the path up the same confined way and
//     reaches the socket bound there; a socket file that no guest
//     socket is bound to (one a host process made, bound on the host)
//     refuses the connection (ECONNREFUSED).
//   - An abstract name is the guest's alone: a table here, neither the
//     host's abstract namespace nor another guest's.
//   - Credentials (SO_PEERCRED, SCM_CREDENTIALS) are the guest's: its
//     pid and ids.
//
// Locks (kernel.hpp): Socket::lock_ guards a socket's own fields; it
// may be held when SocketSpace::lock_, a leaf, is taken.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "fs/file.hpp"

namespace guest {

class Socket;

// A socket's address as the guest sees it: the bytes of sun_path that
// getsockname() returns after sun_family (a path with its NUL, an
// abstract name with its leading NUL), empty for an unnamed socket.
using UnixName = std::string;

// The credentials SO_PEERCRED and SCM_CREDENTIALS give: the guest's.
struct GuestCred {
	int pid = 0;
	uid_t uid = static_cast<uid_t>(-1);
	gid_t gid = static_cast<gid_t>(-1);
};

class SocketSpace {
public:
	// How many gone sockets' identities are kept.
	static constexpr std::size_t retired_max = 1024;

	SocketSpace();

	// A new hidden host name ("\0unpriv-run.<random>.<n>").
	std::string new_host_name();
	// Whether a host address (sun_path bytes) is one of ours.
	[[nodiscard]] bool ours(const std::string& host_name) const;

	// Who a host name is: the guest's name for that socket, the
	// credentials its peer gets (SO_PEERCRED: those of the process that
	// made, bound, connected or listened on it last), and those of the
	// process that sent on it last (SCM_CREDENTIALS).  Kept a while
	// after the socket is gone, for the connection it made that is
	// accepted later, the datagram it sent that is read later.
	struct Identity {
		UnixName name;
		GuestCred cred;
		GuestCred sender;
	};
	void set_identity(const std::string& host_name, Identity id);
	void set_sender(const std::string& host_name, const GuestCred& cred);
	void retire(const std::string& host_name);
	[[nodiscard]] std::optional<Identity> identity(const std::string& host_name);

	// The abstract namespace: EADDRINUSE when the name is taken.
	KResult<void> bind_abstract(const UnixName& name, const std::shared_ptr<Socket>& s);
	// A free name for an autobind ("\0" and five hex digits, as Linux).
	KResult<UnixName> autobind_name();
	// Socket files: the file's (st_dev, st_ino), held open by pin.
	void bind_path(dev_t dev, ino_t ino, std::shared_ptr<File> pin,
		       const std::shared_ptr<Socket>& s);
	// The sockets bound there (null: none, the address is free).
	std::shared_ptr<Socket> find_abstract(const UnixName& name);
	std::shared_ptr<Socket> find_path(dev_t dev, ino_t ino);
	// A bound socket is gone: the names of sockets that are gone are free.
	void forget_gone();

	// Sockets by their host socket's inode: a socket the guest passes
	// with SCM_RIGHTS is the same Socket where it arrives.
	void add(ino_t ino, const std::shared_ptr<Socket>& s);
	void remove(ino_t ino);
	std::shared_ptr<Socket> find(ino_t ino);

	// Files in flight in SCM_RIGHTS.  A host file travels as its host
	// descriptor (the same open file description), and comes out as
	// the File it was sent as (while that still exists); one of the
	// guest port's own files, which has no host descriptor, travels as
	// a ticket (a memfd) that stands for it.
	void sending(const std::shared_ptr<File>& f, int host_fd);
	// The send failed: host_fd is not in flight after all.
	void not_sent(int host_fd);
	// The File for host descriptor fd received (consumed unless peek);
	// null when the guest port has none: the caller wraps fd.
	std::shared_ptr<File> received(int fd, bool peek);

private:
	std::mutex lock_;
	std::string prefix_;	// "\0unpriv-run.<random>."
	std::uint64_t next_ = 0;	// [lock_]
	std::uint32_t autobind_next_;	// [lock_]
	std::map<std::string, Identity> ids_;	// [lock_] live and retired
	std::deque<std::string> retired_;	// [lock_] oldest first
	std::map<UnixName, std::weak_ptr<Socket>> abstract_;	// [lock_]
	struct PathEntry {
		std::weak_ptr<Socket> socket;
		std::shared_ptr<File> pin;
	};
	std::map<std::pair<dev_t, ino_t>, PathEntry> paths_;	// [lock_]
	std::map<ino_t, std::weak_ptr<Socket>> inodes_;	// [lock_]
	struct InFlight {
		dev_t dev;
		ino_t ino;
		std::weak_ptr<File> file;	// a host file
		std::shared_ptr<File> own;	// a ticket's file
	};
	std::deque<InFlight> in_flight_;	// [lock_] oldest first
};

class Socket : public HostFile {
public:
	// fd: the host socket, of type (SOCK_STREAM, SOCK_DGRAM,
	// SOCK_SEQPACKET); flags: O_RDWR and O_NONBLOCK as the guest asked.
	// host_name: its hidden host name, empty for an accepted socket
	// (which shares its listener's).
	// id_name: the host name its messages come from (its own, or for an
	// accepted socket its listener's).
	static std::shared_ptr<Socket> make(host::Fd fd, int type, int flags, const Vfs *vfs,
					    std::shared_ptr<SocketSpace> space,
					    std::string host_name, std::string id_name = {});
	~Socket() override;

	Socket(host::Fd fd, int type, int flags, const Vfs *vfs,
	       std::shared_ptr<SocketSpace> space, std::string host_name);

	[[nodiscard]] int type() const noexcept { return type_; }
	[[nodiscard]] SocketSpace& space() noexcept { return *space_; }
	[[nodiscard]] const std::string& host_name() const noexcept { return host_name_; }

	// The guest's name for it (bind), empty while unbound.
	[[nodiscard]] UnixName name();
	// Bound in the guest's namespace: EINVAL when it already is.
	KResult<void> set_name(const UnixName& name, const GuestCred& cred);
	// Who gets our credentials as their peer: the caller of listen()
	// and connect(), as Linux records them then.
	void set_cred(const GuestCred& cred);

	// SO_PEERCRED: set by socketpair, connect, accept.
	[[nodiscard]] GuestCred peer_cred();
	void set_peer_cred(const GuestCred& cred);

	// A process of the guest sends on it: SCM_CREDENTIALS give it.
	void sending(const GuestCred& cred);

	// SO_PASSCRED.
	[[nodiscard]] bool passcred();
	void set_passcred(bool on);

private:
	int type_;
	std::shared_ptr<SocketSpace> space_;
	std::string host_name_;
	std::string id_name_;
	ino_t ino_ = 0;

	std::mutex lock_;
	UnixName name_;			// [lock_]
	GuestCred cred_;		// [lock_]
	GuestCred peer_cred_;		// [lock_]
	GuestCred sender_;		// [lock_] who sent last
	bool passcred_ = false;		// [lock_]
};

} // namespace guest
