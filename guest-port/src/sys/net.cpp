// SPDX-License-Identifier: GPL-2.0
//
// Sockets: socket, socketpair, bind, listen, accept, accept4, connect,
// getsockname, getpeername, sendto, recvfrom, sendmsg, recvmsg,
// sendmmsg, recvmmsg, shutdown, getsockopt, setsockopt.
//
// AF_UNIX only (fs/socket.hpp says how its names, credentials and
// passed descriptors are the guest's): the guest has no network, and
// any other family is EAFNOSUPPORT, as a kernel built without it says.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>
#include <vector>

#include "fs/socket.hpp"
#include "host/file.hpp"
#include "host/io.hpp"
#include "host/net.hpp"
#include "host/time.hpp"
#include "kernel.hpp"
#include "sys/handlers.hpp"
#include "sys/io.hpp"
#include "task.hpp"

namespace guest {
namespace {

constexpr std::uint64_t rw_max = 0x7ffff000;	// Linux's MAX_RW_COUNT
constexpr std::size_t bounce_max = 1 << 20;
constexpr std::size_t mmsg_max = 1024;		// UIO_MAXIOV: messages a call
constexpr unsigned scm_max_fd = 253;		// SCM_MAX_FD
constexpr int sock_type_mask = 0xf;
constexpr socklen_t sun_path_offset = offsetof(struct sockaddr_un, sun_path);
constexpr uid_t overflow_id = 65534;
// The most control data a send may carry: Linux's optmem_max limits the
// buffer it copies it into (20 KiB by default in 6.1, 128 KiB in 6.9).
constexpr std::uint64_t control_max = 128 << 10;

// The guest's struct msghdr and struct mmsghdr (x86-64).
struct GuestMsghdr {
	std::uint64_t name;
	std::uint32_t namelen;
	std::uint32_t pad0;
	std::uint64_t iov;
	std::uint64_t iovlen;
	std::uint64_t control;
	std::uint64_t controllen;
	std::int32_t flags;
	std::uint32_t pad1;
};
static_assert(sizeof(GuestMsghdr) == 56);

struct GuestMmsghdr {
	GuestMsghdr hdr;
	std::uint32_t len;
	std::uint32_t pad;
};
static_assert(sizeof(GuestMmsghdr) == 64);

struct GuestCmsghdr {
	std::uint64_t len;
	std::int32_t level;
	std::int32_t type;
};
constexpr std::size_t cmsg_align(std::size_t n)
{
	return (n + 7) & ~std::size_t{7};
}
constexpr std::size_t cmsg_len(std::size_t n)
{
	return sizeof(GuestCmsghdr) + n;
}
constexpr std::size_t cmsg_space(std::size_t n)
{
	return sizeof(GuestCmsghdr) + cmsg_align(n);
}

GuestCred cred_of(Task& t)
{
	const Credentials& c = t.process().cred;
	return {t.process().pid, c.euid, c.egid};
}

// The socket descriptor fd names: EBADF, ENOTSOCK.
KResult<std::shared_ptr<Socket>> socket_arg(Task& t, std::uint64_t fd)
{
	auto f = t.files().get(static_cast<int>(fd));
	if (!f)
		return kerr(EBADF);
	auto s = std::dynamic_pointer_cast<Socket>(f);
	if (!s)
		return kerr(ENOTSOCK);
	return s;
}

// An address the guest passes: its family and its name (the bytes of
// sun_path as Linux keeps them: a path up to its first NUL, with one
// NUL after it; an abstract name, all addrlen of it).  len == 2 (the
// family alone) is autobind's address: an empty name.
struct GuestAddr {
	int family = AF_UNSPEC;
	UnixName name;
};

KResult<GuestAddr> read_addr(Task& t, std::uint64_t addr, std::uint64_t len)
{
	if (len > sizeof(struct sockaddr_storage))
		return kerr(EINVAL);
	if (len < sizeof(sa_family_t))
		return kerr(EINVAL);
	std::array<char, sizeof(struct sockaddr_storage)> buf{};
	if (!t.mm().read(addr, std::as_writable_bytes(std::span(buf).first(len))))
		return kerr(EFAULT);
	GuestAddr a;
	std::uint16_t family;
	std::memcpy(&family, buf.data(), sizeof(family));
	a.family = family;
	if (family != AF_UNIX)
		return a;
	if (len > sizeof(struct sockaddr_un))
		return kerr(EINVAL);
	const char *path = buf.data() + sun_path_offset;
	std::size_t n = len - sun_path_offset;
	if (n == 0)
		return a;
	if (path[0] == '\0') {
		a.name.assign(path, n);
		return a;
	}
	a.name.assign(path, strnlen(path, n));
	a.name.push_back('\0');
	return a;
}

// getsockname's answer for name: the struct sockaddr_un Linux would
// return (a path of all 108 bytes of sun_path has its NUL past it).
std::vector<std::byte> guest_sockaddr(const UnixName& name)
{
	std::vector<std::byte> sa(sun_path_offset + name.size());
	std::uint16_t family = AF_UNIX;
	std::memcpy(sa.data(), &family, sizeof(family));
	std::ranges::transform(name, sa.begin() + sun_path_offset,
			       [](char c) { return static_cast<std::byte>(c); });
	return sa;
}

// Write an address to the guest as the kernel's move_addr_to_user():
// at most *lenp bytes of it, and its whole length into *lenp.
SysResult write_addr(Task& t, std::uint64_t addr, std::uint64_t lenp, const UnixName& name)
{
	if (!addr)
		return 0;
	auto len = t.mm().read_obj<std::int32_t>(lenp);
	if (!len)
		return -EFAULT;
	if (*len < 0)
		return -EINVAL;
	auto sa = guest_sockaddr(name);
	std::size_t salen = sa.size();
	std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(*len), salen);
	if (n && !t.mm().write(addr, std::span(sa).first(n)))
		return -EFAULT;
	if (!t.mm().write_obj<std::int32_t>(lenp, static_cast<std::int32_t>(salen)))
		return -EFAULT;
	return 0;
}

// The host's address of a host socket: its sun_path bytes.
std::string host_name_of(const struct sockaddr_un& sa, socklen_t len)
{
	if (len <= sun_path_offset)
		return {};
	return std::string(sa.sun_path, len - sun_path_offset);
}

std::pair<struct sockaddr_un, socklen_t> host_sockaddr(const std::string& host_name)
{
	struct sockaddr_un sa {};
	sa.sun_family = AF_UNIX;
	std::memcpy(sa.sun_path, host_name.data(), host_name.size());
	return {sa, static_cast<socklen_t>(sun_path_offset + host_name.size())};
}

// The guest's name for the socket the host calls host_name.
UnixName guest_name_of(SocketSpace& space, const std::string& host_name)
{
	auto id = space.identity(host_name);
	return id ? id->name : UnixName();
}

KResult<void> host_bind(int fd, const std::string& host_name)
{
	auto [sa, len] = host_sockaddr(host_name);
	return host::bind(fd, reinterpret_cast<const struct sockaddr *>(&sa), len);
}

// A new guest socket on host socket fd, bound on the host to a hidden
// name of its own.
KResult<std::shared_ptr<Socket>> new_socket(Task& t, host::Fd fd, int type, bool nonblock)
{
	auto& space = t.kernel().sockets();
	std::string host_name = space->new_host_name();
	if (auto r = host_bind(fd.get(), host_name); !r)
		return kerr(r.error());
	auto s = Socket::make(std::move(fd), type, O_RDWR | (nonblock ? O_NONBLOCK : 0),
			      &t.kernel().vfs(), space, std::move(host_name));
	s->set_cred(cred_of(t));
	return s;
}

KResult<int> check_socket_args(std::uint64_t domain, std::uint64_t type)
{
	int flags = static_cast<int>(type) & ~sock_type_mask;
	if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK))
		return kerr(EINVAL);
	if (domain != AF_UNIX)
		return kerr(EAFNOSUPPORT);
	return flags;
}

int host_type(int fd)
{
	int type = 0;
	socklen_t len = sizeof(type);
	(void)host::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
	return type;
}

// The guest socket a name leads to: ECONNREFUSED where none is bound
// (a socket file no guest socket is bound to, a free abstract name).
KResult<std::shared_ptr<Socket>> find_target(Task& t, const UnixName& name)
{
	auto& space = *t.kernel().sockets();
	if (name.empty())
		return kerr(EINVAL);
	if (name[0] == '\0') {
		auto s = space.find_abstract(name);
		if (!s)
			return kerr(ECONNREFUSED);
		return s;
	}
	std::string path = name.substr(0, name.size() - 1);
	auto f = t.kernel().vfs().open(t, AT_FDCWD, path, O_PATH, 0);
	if (!f)
		return kerr(f.error());
	int fd = (*f)->host_fd();
	auto st = fd < 0 ? kerr(EBADF) : host::fstat(fd);
	if (!st || !S_ISSOCK(st->st_mode))
		return kerr(ECONNREFUSED);
	// Connecting takes write permission on the socket file.
	if (auto r = host::faccessat2(fd, "", W_OK, AT_EMPTY_PATH | AT_EACCESS); !r)
		return kerr(r.error());
	auto s = space.find_path(st->st_dev, st->st_ino);
	if (!s)
		return kerr(ECONNREFUSED);
	return s;
}

KResult<void> bind_name(Task& t, const std::shared_ptr<Socket>& s, const UnixName& name_in)
{
	auto& space = *t.kernel().sockets();
	// An accepted socket has its listener's address already.
	if (s->host_name().empty() || !s->name().empty())
		return kerr(EINVAL);
	UnixName name = name_in;
	if (name.empty()) {
		auto n = space.autobind_name();
		if (!n)
			return kerr(n.error());
		name = *n;
	}
	if (name[0] == '\0') {
		if (auto r = space.bind_abstract(name, s); !r)
			return r;
		return s->set_name(name, cred_of(t));
	}
	std::string path = name.substr(0, name.size() - 1);
	Vfs& vfs = t.kernel().vfs();
	auto made = vfs.mknod(t, AT_FDCWD, path, S_IFSOCK | 0777, 0);
	if (!made)
		return kerr(made.error() == EEXIST ? EADDRINUSE : made.error());
	auto pin = vfs.open(t, AT_FDCWD, path, O_PATH | O_NOFOLLOW, 0);
	if (!pin)
		return kerr(pin.error());
	auto st = (*pin)->host_fd() < 0 ? kerr(EBADF) : host::fstat((*pin)->host_fd());
	if (!st)
		return kerr(EADDRINUSE);
	if (auto r = s->set_name(name, cred_of(t)); !r)
		return r;
	space.bind_path(st->st_dev, st->st_ino, std::move(*pin), s);
	return {};
}

// --- messages -----------------------------------------------------------------

std::uint64_t iov_total(const std::vector<GuestIovec>& iov)
{
	std::uint64_t total = 0;
	for (const auto& v : iov)
		total += v.len;
	return std::min(total, rw_max);
}

// What a send is made of, read from the guest.
struct Outgoing {
	std::vector<std::byte> data;
	std::optional<GuestAddr> to;
	std::vector<std::shared_ptr<File>> files;	// SCM_RIGHTS
};

KResult<void> read_control(Task& t, std::uint64_t addr, std::uint64_t len, Outgoing& out)
{
	if (len > control_max)
		return kerr(ENOBUFS);
	if (!addr || len < sizeof(GuestCmsghdr))
		return {};
	std::vector<std::byte> buf(len);
	if (!t.mm().read(addr, buf))
		return kerr(EFAULT);
	for (std::size_t off = 0; off + sizeof(GuestCmsghdr) <= len;) {
		GuestCmsghdr h;
		std::memcpy(&h, buf.data() + off, sizeof(h));
		if (h.len < sizeof(h) || h.len > len - off)
			return kerr(EINVAL);
		std::size_t n = h.len - sizeof(h);
		const std::byte *data = buf.data() + off + sizeof(h);
		if (h.level == SOL_SOCKET && h.type == SCM_RIGHTS) {
			std::size_t count = n / sizeof(int);
			if (count == 0 || out.files.size() + count > scm_max_fd)
				return kerr(EINVAL);
			for (std::size_t i = 0; i < count; i++) {
				int fd;
				std::memcpy(&fd, data + i * sizeof(int), sizeof(fd));
				auto f = t.files().get(fd);
				if (!f)
					return kerr(EBADF);
				out.files.push_back(std::move(f));
			}
		} else if (h.level == SOL_SOCKET && h.type == SCM_CREDENTIALS) {
			// Only one's own: the receiver gets the sender's.
			if (n != sizeof(struct ucred))
				return kerr(EINVAL);
			struct ucred uc;
			std::memcpy(&uc, data, sizeof(uc));
			const Credentials& c = t.process().cred;
			bool uid_ok = uc.uid == c.ruid || uc.uid == c.euid || uc.uid == c.suid;
			bool gid_ok = uc.gid == c.rgid || uc.gid == c.egid || uc.gid == c.sgid;
			if (c.euid != 0 && (uc.pid != t.process().pid || !uid_ok || !gid_ok))
				return kerr(EPERM);
		} else if (h.level == SOL_SOCKET) {
			return kerr(EINVAL);
		}
		off += cmsg_align(h.len);
	}
	return {};
}

// A message the guest sends or receives: where its data is, its
// address and its control messages in guest memory.
struct GuestMsg {
	std::vector<GuestIovec> iov;
	std::uint64_t name = 0;
	std::uint64_t namelen = 0;
	std::uint64_t control = 0;
	std::uint64_t controllen = 0;
};

KResult<GuestMsg> read_msghdr(Task& t, const GuestMsghdr& m)
{
	auto iov = read_iovecs(t, m.iov, m.iovlen, EMSGSIZE);
	if (!iov)
		return kerr(iov.error());
	return GuestMsg{std::move(*iov), m.name, m.namelen, m.control, m.controllen};
}

KResult<Outgoing> read_outgoing(Task& t, int fd, const GuestMsg& m, bool is_dgram)
{
	Outgoing out;
	if (auto r = read_control(t, m.control, m.controllen, out); !r)
		return kerr(r.error());
	if (m.name && m.namelen) {
		auto a = read_addr(t, m.name, m.namelen);
		if (!a)
			return kerr(a.error());
		out.to = std::move(*a);
	}
	// A datagram goes whole or not at all; a stream takes a piece.
	std::uint64_t total = iov_total(m.iov);
	if (!is_dgram) {
		total = std::min<std::uint64_t>(total, bounce_max);
	} else if (total > bounce_max) {
		// Linux refuses a datagram larger than the send buffer.
		int sndbuf = 0;
		socklen_t len = sizeof(sndbuf);
		if (auto r = host::getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &len); !r)
			return kerr(r.error());
		if (total > static_cast<std::uint64_t>(sndbuf))
			return kerr(EMSGSIZE);
	}
	out.data.resize(total);
	std::size_t at = 0;
	for (const auto& v : m.iov) {
		std::size_t n = std::min<std::uint64_t>(v.len, total - at);
		if (n && !t.mm().read(v.base, std::span(out.data).subspan(at, n)))
			return kerr(EFAULT);
		at += n;
		if (at == total)
			break;
	}
	return out;
}

SysResult do_send(Task& t, Socket& s, const GuestMsg& m, int flags)
{
	if (m.namelen > sizeof(struct sockaddr_storage))
		return -EINVAL;
	auto out = read_outgoing(t, s.host_fd(), m, s.type() == SOCK_DGRAM);
	if (!out)
		return -out.error();

	struct sockaddr_un to {};
	socklen_t tolen = 0;
	if (out->to) {
		if (s.type() == SOCK_STREAM) {
			struct sockaddr_un sa;
			socklen_t len = sizeof(sa);
			auto peer = host::getpeername(s.host_fd(), reinterpret_cast<struct sockaddr *>(&sa),
						      &len);
			bool connected = peer.has_value();
			return connected ? -EISCONN : -EOPNOTSUPP;
		}
		if (s.type() == SOCK_DGRAM) {
			if (out->to->family != AF_UNIX || out->to->name.empty())
				return -EINVAL;
			auto target = find_target(t, out->to->name);
			if (!target)
				return -target.error();
			std::tie(to, tolen) = host_sockaddr((*target)->host_name());
		}
	}

	// The files go as host descriptors; the guest port's own, as tickets.
	std::vector<host::Fd> tickets;
	std::vector<int> fds, in_flight;
	auto& space = s.space();
	auto not_sent = [&] {
		for (int fd : in_flight)
			space.not_sent(fd);
	};
	for (const auto& f : out->files) {
		int fd = f->host_fd();
		if (fd < 0) {
			auto ticket = host::memfd_create("unpriv-run-scm-ticket", MFD_CLOEXEC);
			if (!ticket) {
				not_sent();
				return -ticket.error();
			}
			tickets.emplace_back(*ticket);
			fd = *ticket;
		}
		// Known before the send: the receiver may take it at once.
		if (!std::dynamic_pointer_cast<Socket>(f)) {
			space.sending(f, fd);
			in_flight.push_back(fd);
		}
		fds.push_back(fd);
	}
	std::vector<std::byte> control;
	if (!fds.empty()) {
		control.resize(CMSG_SPACE(fds.size() * sizeof(int)));
		auto *c = reinterpret_cast<struct cmsghdr *>(control.data());
		c->cmsg_len = CMSG_LEN(fds.size() * sizeof(int));
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		std::memcpy(CMSG_DATA(c), fds.data(), fds.size() * sizeof(int));
	}

	struct iovec iov = {out->data.data(), out->data.size()};
	struct msghdr hm {};
	hm.msg_name = tolen ? &to : nullptr;
	hm.msg_namelen = tolen;
	hm.msg_iov = &iov;
	hm.msg_iovlen = 1;
	hm.msg_control = control.empty() ? nullptr : control.data();
	hm.msg_controllen = control.size();
	int hflags = (flags & (MSG_DONTWAIT | MSG_EOR | MSG_OOB | MSG_MORE)) | MSG_NOSIGNAL;
	s.sending(cred_of(t));
	auto n = host::sendmsg(s.host_fd(), &hm, hflags);
	if (!n) {
		int e = n.error();
		not_sent();
		if (e == EPIPE && !(flags & MSG_NOSIGNAL))
			t.kernel().send_signal(t.process(), SIGPIPE);
		return -e;
	}
	return static_cast<SysResult>(*n);
}

// Turn a descriptor received from the host into the guest's file.
std::shared_ptr<File> received_file(Task& t, SocketSpace& space, int fd, bool peek)
{
	host::Fd owned(fd);
	auto st = host::fstat(fd);
	if (st && S_ISSOCK(st->st_mode)) {
		if (auto s = space.find(st->st_ino))
			return s;
		return Socket::make(std::move(owned), host_type(fd),
				    host::fcntl(fd, F_GETFL, 0).value_or(-1) & ~O_CLOEXEC,
				    &t.kernel().vfs(), t.kernel().sockets(), std::string());
	}
	if (auto f = space.received(fd, peek))
		return f;
	int fl = host::fcntl(fd, F_GETFL, 0).value_or(O_RDWR);
	return std::make_shared<HostFile>(std::move(owned), fl, &t.kernel().vfs(),
					  HostFile::Origin::own);
}

struct Incoming {
	std::size_t len = 0;		// the call's result
	UnixName from;
	bool from_named = false;
	std::optional<GuestCred> cred;
	std::vector<std::shared_ptr<File>> files;
	int flags = 0;			// MSG_TRUNC, MSG_CTRUNC, MSG_EOR...
};

// One host recvmsg into buf: a message from a sender of this guest's
// (a datagram from elsewhere is dropped).
KResult<Incoming> host_recv(Task& t, Socket& s, std::span<std::byte> buf, int flags)
{
	auto& space = s.space();
	bool peek = flags & MSG_PEEK;
	int hflags = (flags & (MSG_PEEK | MSG_DONTWAIT | MSG_WAITALL | MSG_TRUNC | MSG_OOB)) |
		     MSG_CMSG_CLOEXEC;
	for (;;) {
		alignas(struct cmsghdr) std::array<std::byte, CMSG_SPACE(scm_max_fd * sizeof(int)) +
							   CMSG_SPACE(sizeof(struct ucred))> control;
		struct sockaddr_un from {};
		struct iovec iov = {buf.data(), buf.size()};
		struct msghdr hm {};
		hm.msg_name = &from;
		hm.msg_namelen = sizeof(from);
		hm.msg_iov = &iov;
		hm.msg_iovlen = 1;
		hm.msg_control = control.data();
		hm.msg_controllen = control.size();
		auto n = host::recvmsg(s.host_fd(), &hm, hflags);
		if (!n)
			return kerr(n.error());

		std::vector<int> fds;
		for (auto *c = CMSG_FIRSTHDR(&hm); c; c = CMSG_NXTHDR(&hm, c)) {
			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
				continue;
			std::size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			const auto *p = reinterpret_cast<const int *>(CMSG_DATA(c));
			fds.insert(fds.end(), p, p + k);
		}
		std::string host_from = host_name_of(from, hm.msg_namelen);
		if (s.type() == SOCK_DGRAM && !space.ours(host_from)) {
			// Not from this guest: gone, as if never sent.
			for (int fd : fds)
				host::close(fd);
			if (peek) {
				std::byte b;
				struct iovec one = {&b, 1};
				struct msghdr drop {};
				drop.msg_iov = &one;
				drop.msg_iovlen = 1;
				if (!host::recvmsg(s.host_fd(), &drop, MSG_DONTWAIT | MSG_CMSG_CLOEXEC))
					return kerr(EAGAIN);
			}
			continue;
		}

		Incoming in;
		in.len = *n;
		in.flags = hm.msg_flags & (MSG_TRUNC | MSG_CTRUNC | MSG_EOR | MSG_OOB);
		auto id = space.identity(host_from);
		if (id) {
			in.from = id->name;
			in.from_named = !id->name.empty();
		}
		if (s.passcred())
			in.cred = id ? id->sender : GuestCred{0, overflow_id, overflow_id};
		for (int fd : fds)
			in.files.push_back(received_file(t, space, fd, peek));
		return in;
	}
}

// The control messages Linux's scm_recv() writes: SCM_CREDENTIALS, then
// SCM_RIGHTS, as many descriptors as fit (the rest are closed, and
// MSG_CTRUNC says so).  The bytes, and the descriptors installed.
KResult<std::vector<std::byte>> build_control(Task& t, Incoming& in, std::uint64_t room,
					      bool cloexec, std::vector<int>& installed)
{
	std::vector<std::byte> out;
	auto put = [&](int type, const void *data, std::size_t n) {
		GuestCmsghdr h{cmsg_len(n), SOL_SOCKET, type};
		std::size_t at = out.size();
		out.resize(at + cmsg_space(n));
		std::memcpy(out.data() + at, &h, sizeof(h));
		std::memcpy(out.data() + at + sizeof(h), data, n);
	};
	if (in.cred) {
		if (room - out.size() >= cmsg_len(sizeof(struct ucred))) {
			struct ucred uc = {in.cred->pid, in.cred->uid, in.cred->gid};
			put(SCM_CREDENTIALS, &uc, sizeof(uc));
		} else {
			in.flags |= MSG_CTRUNC;
		}
	}
	if (!in.files.empty()) {
		std::size_t left = room > out.size() ? room - out.size() : 0;
		std::size_t fit = left > sizeof(GuestCmsghdr) ? (left - sizeof(GuestCmsghdr)) / sizeof(int) : 0;
		std::vector<int> fds;
		for (auto& f : in.files) {
			if (fds.size() == fit)
				break;
			auto fd = t.files().install(f, cloexec);
			if (!fd)
				break;
			fds.push_back(*fd);
		}
		if (fds.size() < in.files.size())
			in.flags |= MSG_CTRUNC;
		if (!fds.empty())
			put(SCM_RIGHTS, fds.data(), fds.size() * sizeof(int));
		installed = fds;
	}
	if (out.size() > room)	// the last one's padding
		out.resize(room);
	return out;
}

void uninstall(Task& t, const std::vector<int>& fds)
{
	for (int fd : fds)
		(void)t.files().close(fd);
}

// What a receive gives back besides its result: the lengths and flags
// recvmsg() writes into the guest's msghdr.
struct Received {
	SysResult ret;
	std::uint64_t namelen = 0;
	std::uint64_t controllen = 0;
	int flags = 0;
};

Received do_recv(Task& t, Socket& s, const GuestMsg& m, int flags)
{
	for (const auto& v : m.iov)
		if (!t.mm().check(v.base, v.len, true))
			return {-EFAULT};
	std::vector<std::byte> buf(std::min<std::uint64_t>(iov_total(m.iov), bounce_max));
	auto in = host_recv(t, s, buf, flags);
	if (!in)
		return {-in.error()};

	std::size_t got = std::min(in->len, buf.size());
	std::span<const std::byte> data = std::span(buf).first(got);
	for (const auto& v : m.iov) {
		if (data.empty())
			break;
		std::size_t n = std::min<std::uint64_t>(v.len, data.size());
		if (!t.mm().write(v.base, data.first(n)))
			return {-EFAULT};
		data = data.subspan(n);
	}

	std::vector<int> installed;
	std::uint64_t room = m.control ? std::min<std::uint64_t>(m.controllen, INT32_MAX) : 0;
	auto control = build_control(t, *in, room, flags & MSG_CMSG_CLOEXEC, installed);
	if (!control)
		return {-control.error()};
	if (!control->empty() && !t.mm().write(m.control, *control)) {
		uninstall(t, installed);
		return {-EFAULT};
	}
	Received r{static_cast<SysResult>(in->len), 0, control->size(), in->flags};
	if (m.name) {
		auto sa = guest_sockaddr(in->from);
		std::size_t salen = in->from_named ? sa.size() : 0;
		std::size_t n = std::min<std::size_t>(m.namelen, salen);
		if (n && !t.mm().write(m.name, std::span(sa).first(n))) {
			uninstall(t, installed);
			return {-EFAULT};
		}
		r.namelen = salen;
	}
	return r;
}

SysResult do_sendmsg(Task& t, Socket& s, std::uint64_t maddr, int flags, std::uint32_t *sent)
{
	auto hdr = t.mm().read_obj<GuestMsghdr>(maddr);
	if (!hdr)
		return -EFAULT;
	auto m = read_msghdr(t, *hdr);
	if (!m)
		return -m.error();
	SysResult r = do_send(t, s, *m, flags);
	if (sent && !r.failed())
		*sent = static_cast<std::uint32_t>(r.value());
	return r;
}

SysResult do_recvmsg(Task& t, Socket& s, std::uint64_t maddr, int flags)
{
	auto hdr = t.mm().read_obj<GuestMsghdr>(maddr);
	if (!hdr)
		return -EFAULT;
	auto m = read_msghdr(t, *hdr);
	if (!m)
		return -m.error();
	Received r = do_recv(t, s, *m, flags);
	if (r.ret.failed())
		return r.ret;
	GuestMsghdr back = *hdr;
	back.namelen = static_cast<std::uint32_t>(r.namelen);
	back.controllen = r.controllen;
	back.flags = r.flags;
	if (!t.mm().write_obj(maddr, back))
		return -EFAULT;
	return r.ret;
}

SysResult make_pair(Task& t, const SysArgs& a)
{
	auto flags = check_socket_args(a[0], a[1]);
	if (!flags)
		return -flags.error();
	int sv[2];
	int type = static_cast<int>(a[1]) & sock_type_mask;
	if (auto r = host::socketpair(AF_UNIX, type | SOCK_CLOEXEC | (*flags & SOCK_NONBLOCK),
				      static_cast<int>(a[2]), sv); !r)
		return -r.error();
	host::Fd f0(sv[0]), f1(sv[1]);
	type = host_type(sv[0]);
	bool nonblock = *flags & SOCK_NONBLOCK;
	auto s0 = new_socket(t, std::move(f0), type, nonblock);
	if (!s0)
		return -s0.error();
	auto s1 = new_socket(t, std::move(f1), type, nonblock);
	if (!s1)
		return -s1.error();
	(*s0)->set_peer_cred(cred_of(t));
	(*s1)->set_peer_cred(cred_of(t));

	FdTable& fds = t.files();
	bool cloexec = *flags & SOCK_CLOEXEC;
	auto fd0 = fds.install(*s0, cloexec);
	if (!fd0)
		return -fd0.error();
	auto fd1 = fds.install(*s1, cloexec);
	if (!fd1) {
		(void)fds.close(*fd0);
		return -fd1.error();
	}
	int out[2] = {*fd0, *fd1};
	if (!t.mm().write(a[3], std::as_bytes(std::span(out)))) {
		(void)fds.close(*fd0);
		(void)fds.close(*fd1);
		return -EFAULT;
	}
	return 0;
}

SysResult do_accept(Task& t, std::uint64_t fd, std::uint64_t addr, std::uint64_t lenp,
		    std::uint64_t flags)
{
	if (flags & ~std::uint64_t{SOCK_CLOEXEC | SOCK_NONBLOCK})
		return -EINVAL;
	auto s = socket_arg(t, fd);
	if (!s)
		return -s.error();
	auto& space = (*s)->space();
	for (;;) {
		struct sockaddr_un from {};
		socklen_t len = sizeof(from);
		auto nfd = host::accept4((*s)->host_fd(), reinterpret_cast<struct sockaddr *>(&from),
					 &len, SOCK_CLOEXEC | (flags & SOCK_NONBLOCK ? SOCK_NONBLOCK : 0));
		if (!nfd)
			return -nfd.error();
		host::Fd conn(*nfd);
		std::string peer = host_name_of(from, len);
		if (!space.ours(peer))
			continue;	// from outside the guest: refused
		auto id = space.identity(peer);
		// It shares its listener's host name: what it sends comes
		// from there.
		struct sockaddr_un self {};
		socklen_t slen = sizeof(self);
		(void)host::getsockname(conn.get(), reinterpret_cast<struct sockaddr *>(&self), &slen);
		auto ns = Socket::make(std::move(conn), (*s)->type(),
				       O_RDWR | (flags & SOCK_NONBLOCK ? O_NONBLOCK : 0),
				       &t.kernel().vfs(), t.kernel().sockets(), std::string(),
				       host_name_of(self, slen));
		ns->set_peer_cred(id ? id->cred : GuestCred{0, overflow_id, overflow_id});
		auto gfd = t.files().install(ns, flags & SOCK_CLOEXEC);
		if (!gfd)
			return -gfd.error();
		if (SysResult r = write_addr(t, addr, lenp, id ? id->name : UnixName()); r.failed()) {
			(void)t.files().close(*gfd);
			return r;
		}
		return *gfd;
	}
}

SysResult do_getname(Task& t, const SysArgs& a, bool peer)
{
	auto s = socket_arg(t, a[0]);
	if (!s)
		return -s.error();
	struct sockaddr_un sa {};
	socklen_t len = sizeof(sa);
	auto r = peer ? host::getpeername((*s)->host_fd(), reinterpret_cast<struct sockaddr *>(&sa), &len)
		      : host::getsockname((*s)->host_fd(), reinterpret_cast<struct sockaddr *>(&sa), &len);
	if (!r)
		return -r.error();
	return write_addr(t, a[1], a[2], guest_name_of((*s)->space(), host_name_of(sa, len)));
}

// SOL_SOCKET options the host answers for the guest's socket as they
// are: none names a host object or a host identity.
bool host_option(int name)
{
	switch (name) {
	case SO_TYPE: case SO_ERROR: case SO_RCVBUF: case SO_SNDBUF: case SO_RCVBUFFORCE:
	case SO_SNDBUFFORCE: case SO_ACCEPTCONN: case SO_DOMAIN: case SO_PROTOCOL:
	case SO_RCVTIMEO_OLD: case SO_SNDTIMEO_OLD: case SO_RCVTIMEO_NEW: case SO_SNDTIMEO_NEW:
	case SO_LINGER: case SO_REUSEADDR: case SO_REUSEPORT: case SO_KEEPALIVE:
	case SO_BROADCAST: case SO_RCVLOWAT: case SO_SNDLOWAT: case SO_PEEK_OFF:
	case SO_PRIORITY: case SO_DEBUG: case SO_DONTROUTE: case SO_OOBINLINE:
	case SO_NO_CHECK: case SO_TIMESTAMP_OLD: case SO_TIMESTAMPNS_OLD:
	case SO_TIMESTAMP_NEW: case SO_TIMESTAMPNS_NEW: case SO_RXQ_OVFL: case SO_PASSSEC:
		return true;
	default:
		return false;
	}
}

} // namespace

GUEST_SYSCALL(socket)
{
	auto flags = check_socket_args(a[0], a[1]);
	if (!flags)
		return -flags.error();
	int type = static_cast<int>(a[1]) & sock_type_mask;
	auto fd = host::socket(AF_UNIX, type | SOCK_CLOEXEC | (*flags & SOCK_NONBLOCK),
			       static_cast<int>(a[2]));
	if (!fd)
		return -fd.error();
	host::Fd host(*fd);
	auto s = new_socket(t, std::move(host), host_type(*fd), *flags & SOCK_NONBLOCK);
	if (!s)
		return -s.error();
	return sys_ret(t.files().install(*s, *flags & SOCK_CLOEXEC));
}

GUEST_SYSCALL(socketpair)
{
	return make_pair(t, a);
}

GUEST_SYSCALL(bind)
{
	auto s = socket_arg(t, a[0]);
	if (!s)
		return -s.error();
	auto addr = read_addr(t, a[1], a[2]);
	if (!addr)
		return -addr.error();
	if (addr->family != AF_UNIX)
		return -EINVAL;
	return sys_ret(bind_name(t, *s, addr->name));
}

GUEST_SYSCALL(listen)
{
	auto s = socket_arg(t, a[0]);
	if (!s)
		return -s.error();
	int type = (*s)->type();
	if (type != SOCK_STREAM && type != SOCK_SEQPACKET)
		return -EOPNOTSUPP;
	// Linux listens on a bound socket only; the host's is always bound
	// (an accepted one to its listener's name, which it answers).
	if ((*s)->name().empty() && !(*s)->host_name().empty())
		return -EINVAL;
	if (auto r = host::listen((*s)->host_fd(), static_cast<int>(a[1])); !r)
		return -r.error();
	(*s)->set_cred(cred_of(t));
	return 0;
}

GUEST_SYSCALL(accept)
{
	return do_accept(t, a[0], a[1], a[2], 0);
}

GUEST_SYSCALL(accept4)
{
	return do_accept(t, a[0], a[1], a[2], a[3]);
}

GUEST_SYSCALL(connect)
{
	auto s = socket_arg(t, a[0]);
	if (!s)
		return -s.error();
	auto addr = read_addr(t, a[1], a[2]);
	if (!addr)
		return -addr.error();
	int fd = (*s)->host_fd();
	if ((*s)->type() == SOCK_DGRAM && addr->family == AF_UNSPEC) {
		struct sockaddr sa {};
		sa.sa_family = AF_UNSPEC;
		if (auto r = host::connect(fd, &sa, sizeof(sa)); !r)
			return -r.error();
		(*s)->set_peer_cred({});
		return 0;
	}
	if (addr->family != AF_UNIX || addr->name.empty())
		return -EINVAL;
	auto target = find_target(t, addr->name);
	if (!target)
		return -target.error();
	(*s)->set_cred(cred_of(t));
	auto [sa, len] = host_sockaddr((*target)->host_name());
	if (auto r = host::connect(fd, reinterpret_cast<const struct sockaddr *>(&sa), len); !r)
		return -r.error();
	if ((*s)->type() != SOCK_DGRAM) {
		auto id = (*s)->space().identity((*target)->host_name());
		(*s)->set_peer_cred(id ? id->cred : GuestCred{});
	}
	return 0;
}

GUEST_SYSCALL(getsockname)
{
	return do_getname(t, a, false);
}

GUEST_SYSCALL(getpeername)
{
	return do_getname(t, a, true);
}

GUEST_SYSCALL(sendto)
{
	auto s = socket_arg(t, a[0]);
	if (!s)
		return -s.error();
	GuestMsg m{{GuestIovec{a[1], a[2]}}, a[4], a[4] ? a[5] : 0, 0, 0};
	return do_send(t, **s, m, static_cast<int>(a[3]));
}

GUEST_SYSCALL(recvfrom)
{
	auto s = socket_arg(t, a[0]);
	if (!s)
		return -s.error();
	std::int32_t len = 0;
	if (a[4]) {
		auto l = t.mm().read_obj<std::int32_t>(a[5]);
		if (!l)
			return -EFAULT;
		if (*l < 0)
			return -EINVAL;
		len = *l;
	}
	GuestMsg m{{GuestIovec{a[1], a[2]}}, a[4], static_cast<std::uint64_t>(len), 0, 0};
	Received r = do_recv(t, **s, m, static_cast<int>(a[3]));
	if (r.ret.failed())
		return r.ret;
	if (a[4] && !t.mm().write_obj<std::int32_t>(a[5], static_cast<std::int32_t>(r.namelen)))
		return -EFAULT;
	return r.ret;
}

GUEST_SYSCALL(sendmsg)
{
	auto s = socket_arg(t, a[0]);
	if (!s)
		return -s.error();
	return do_sendmsg(t, **s, a[1], static_cast<int>(a[2]), nullptr);
}

GUEST_SYSCALL(recvmsg)
{
	auto s = socket_arg(t, a[0]);
	if (!s)
		return -s.error();
	return do_recvmsg(t, **s, a[1], static_cast<int>(a[2]));
}

// The vector calls: one message after another, until one fails (the
// count so far, or that failure when it is the first).
GUEST_SYSCALL(sendmmsg)
{
	auto s = socket_arg(t, a[0]);
	if (!s)
		return -s.error();
	std::uint64_t vlen = std::min<std::uint64_t>(a[2], mmsg_max);
	std::int64_t done = 0;
	for (std::uint64_t i = 0; i < vlen; i++) {
		std::uint64_t at = a[1] + i * sizeof(GuestMmsghdr);
		std::uint32_t sent = 0;
		SysResult r = do_sendmsg(t, **s, at, static_cast<int>(a[3]), &sent);
		if (r.failed())
			return done ? done : r;
		if (!t.mm().write_obj(at + offsetof(GuestMmsghdr, len), sent))
			return done ? done : -EFAULT;
		done++;
	}
	return done;
}

GUEST_SYSCALL(recvmmsg)
{
	auto s = socket_arg(t, a[0]);
	if (!s)
		return -s.error();
	int flags = static_cast<int>(a[3]);
	std::optional<struct timespec> deadline;
	if (a[4]) {
		auto ts = t.mm().read_obj<struct timespec>(a[4]);
		if (!ts)
			return -EFAULT;
		if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000)
			return -EINVAL;
		struct timespec now = host::clock_gettime(CLOCK_MONOTONIC);
		now.tv_sec += ts->tv_sec;
		now.tv_nsec += ts->tv_nsec;
		if (now.tv_nsec >= 1000000000) {
			now.tv_sec++;
			now.tv_nsec -= 1000000000;
		}
		deadline = now;
	}
	std::uint64_t vlen = std::min<std::uint64_t>(a[2], mmsg_max);
	std::int64_t done = 0;
	for (std::uint64_t i = 0; i < vlen; i++) {
		std::uint64_t at = a[1] + i * sizeof(GuestMmsghdr);
		SysResult r = do_recvmsg(t, **s, at, flags & ~MSG_WAITFORONE);
		if (r.failed())
			return done ? done : r;
		if (!t.mm().write_obj(at + offsetof(GuestMmsghdr, len), static_cast<std::uint32_t>(r.value())))
			return done ? done : -EFAULT;
		done++;
		if (flags & MSG_WAITFORONE)
			flags |= MSG_DONTWAIT;
		// As Linux: the timeout is looked at after each message.
		if (deadline) {
			struct timespec now = host::clock_gettime(CLOCK_MONOTONIC);
			if (now.tv_sec > deadline->tv_sec ||
			    (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec))
				break;
		}
	}
	return done;
}

GUEST_SYSCALL(shutdown)
{
	auto s = socket_arg(t, a[0]);
	if (!s)
		return -s.error();
	if (auto r = host::shutdown((*s)->host_fd(), static_cast<int>(a[1])); !r)
		return -r.error();
	return 0;
}

GUEST_SYSCALL(getsockopt)
{
	auto s = socket_arg(t, a[0]);
	if (!s)
		return -s.error();
	auto len = t.mm().read_obj<std::int32_t>(a[4]);
	if (!len)
		return -EFAULT;
	if (*len < 0)
		return -EINVAL;
	if (a[1] != SOL_SOCKET)
		return -EOPNOTSUPP;
	int name = static_cast<int>(a[2]);
	std::array<std::byte, 64> val{};
	std::size_t vlen;
	if (name == SO_PEERCRED) {
		GuestCred c = (*s)->peer_cred();
		struct ucred uc = {c.pid, c.uid, c.gid};
		std::memcpy(val.data(), &uc, sizeof(uc));
		vlen = sizeof(uc);
	} else if (name == SO_PASSCRED) {
		int on = (*s)->passcred();
		std::memcpy(val.data(), &on, sizeof(on));
		vlen = sizeof(on);
	} else if (host_option(name)) {
		socklen_t hl = static_cast<socklen_t>(std::min<std::size_t>(static_cast<std::size_t>(*len), val.size()));
		if (auto r = host::getsockopt((*s)->host_fd(), SOL_SOCKET, name, val.data(), &hl); !r)
			return -r.error();
		vlen = hl;
	} else {
		return -ENOPROTOOPT;
	}
	vlen = std::min<std::size_t>(vlen, static_cast<std::size_t>(*len));
	if (vlen && !t.mm().write(a[3], std::span(val).first(vlen)))
		return -EFAULT;
	if (!t.mm().write_obj<std::int32_t>(a[4], static_cast<std::int32_t>(vlen)))
		return -EFAULT;
	return 0;
}

GUEST_SYSCALL(setsockopt)
{
	auto s = socket_arg(t, a[0]);
	if (!s)
		return -s.error();
	if (a[1] != SOL_SOCKET)
		return -EOPNOTSUPP;
	int name = static_cast<int>(a[2]);
	auto len = static_cast<std::int32_t>(a[4]);
	if (len < 0)
		return -EINVAL;
	std::array<std::byte, 64> val{};
	std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(len), val.size());
	if (n && !t.mm().read(a[3], std::span(val).first(n)))
		return -EFAULT;
	if (name == SO_PASSCRED) {
		if (n < sizeof(int))
			return -EINVAL;
		int on;
		std::memcpy(&on, val.data(), sizeof(on));
		(*s)->set_passcred(on != 0);
		return 0;
	}
	// SO_ACCEPTCONN, SO_TYPE and the like are read only: the host says
	// ENOPROTOOPT for them.
	if (!host_option(name))
		return -ENOPROTOOPT;
	if (auto r = host::setsockopt((*s)->host_fd(), SOL_SOCKET, name, val.data(),
				      static_cast<socklen_t>(n)); !r)
		return -r.error();
	return 0;
}

} // namespace guest
