// SPDX-License-Identifier: GPL-2.0
/*
 * AF_UNIX sockets: socketpair (stream, datagram, seqpacket), a server
 * bound to a path and one to an abstract name with clients across fork,
 * datagrams and their senders' names, SCM_RIGHTS of a pipe, a file, a
 * socket and the guest port's own files, SCM_CREDENTIALS and SO_PEERCRED
 * with the peers' pids, shutdown, poll, EINTR and SA_RESTART on a
 * blocking recv, and bad input with its errno.
 *
 *	socket_test native
 *	socket_test guest OUTDIR
 *	socket_test hold NAME
 *	socket_test reach NAME
 *
 * The same checks pass natively (progs-check runs it so first) and in
 * the guest.  In the guest, also: other families are EAFNOSUPPORT, and
 * a socket path that would lead out of the root (OUTDIR is a directory
 * next to the root on the host) through "..", an absolute symlink or a
 * relative one is a missing directory in the root (ENOENT); progs-check
 * then checks that nothing was bound in OUTDIR on the host.
 *
 * hold listens on the abstract name NAME, prints "ready" and waits for
 * the end of its standard input; reach checks that a connection to NAME
 * is refused (ECONNREFUSED).  progs-check holds a name natively and in
 * a guest, and reaches for each from another guest and natively: no
 * guest sees another's abstract names, nor the host's, nor the host a
 * guest's.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

static char scratch[64];

static void msleep(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int reap(pid_t pid)
{
	int st;

	return wait4(pid, &st, 0, NULL) == pid && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* An address: a path (len: up to its NUL, as SUN_LEN) or, with a
 * leading '@', an abstract name of exactly that many bytes. */
static socklen_t addr(struct sockaddr_un *sa, const char *name)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (name[0] == '@') {
		size_t n = strlen(name);
		memcpy(sa->sun_path + 1, name + 1, n - 1);
		return offsetof(struct sockaddr_un, sun_path) + n;
	}
	strcpy(sa->sun_path, name);
	return offsetof(struct sockaddr_un, sun_path) + strlen(name) + 1;
}

static int bound(int type, const char *name)
{
	struct sockaddr_un sa;
	socklen_t len = addr(&sa, name);
	int s = socket(AF_UNIX, type, 0);

	if (s < 0 || bind(s, (struct sockaddr *)&sa, len) < 0)
		return -1;
	return s;
}

static int connected(int type, const char *name)
{
	struct sockaddr_un sa;
	socklen_t len = addr(&sa, name);
	int s = socket(AF_UNIX, type, 0);

	if (s < 0 || connect(s, (struct sockaddr *)&sa, len) < 0)
		return -1;
	return s;
}

static int send_fds(int s, const int *fds, int n, const char *data)
{
	char cbuf[CMSG_SPACE(8 * sizeof(int))] = {0};
	struct iovec iov = {(void *)data, strlen(data)};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			   .msg_controllen = CMSG_SPACE(n * sizeof(int))};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(n * sizeof(int));
	memcpy(CMSG_DATA(c), fds, n * sizeof(int));
	return sendmsg(s, &m, 0);
}

/* Receive up to max descriptors with room for room of them: how many
 * came, in fds; *flags the message's flags. */
static int recv_fds(int s, int *fds, int room, char *data, size_t len, int *flags)
{
	char cbuf[CMSG_SPACE(8 * sizeof(int))];
	struct iovec iov = {data, len};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			   .msg_controllen = CMSG_SPACE(room * sizeof(int))};
	int n = 0;

	if (room == 1)	/* exactly one int's room: no padding to spare */
		m.msg_controllen = CMSG_LEN(sizeof(int));
	ssize_t r = recvmsg(s, &m, MSG_CMSG_CLOEXEC);
	if (r < 0)
		return -1;
	data[r] = 0;
	*flags = m.msg_flags;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			memcpy(fds, CMSG_DATA(c), n * sizeof(int));
		}
	return n;
}

static void pairs(void)
{
	int sv[2];
	char buf[64];
	struct ucred uc;
	socklen_t len = sizeof(uc);
	struct sockaddr_un sa;
	int v;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair(SOCK_STREAM)");
	CHECK(write(sv[0], "ping", 4) == 4 && read(sv[1], buf, sizeof(buf)) == 4 &&
	      !memcmp(buf, "ping", 4), "stream pair: one way");
	CHECK(send(sv[1], "pong", 4, 0) == 4 && recv(sv[0], buf, sizeof(buf), 0) == 4 &&
	      !memcmp(buf, "pong", 4), "stream pair: the other way");
	CHECK(write(sv[0], "ab", 2) == 2 && write(sv[0], "cd", 2) == 2 &&
	      recv(sv[1], buf, 4, MSG_WAITALL) == 4 && !memcmp(buf, "abcd", 4), "stream pair: bytes, no boundaries");
	CHECK(getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &uc, &len) == 0 && len == sizeof(uc) &&
	      uc.pid == getpid() && uc.uid == geteuid() && uc.gid == getegid(),
	      "SO_PEERCRED of a pair: our own pid %d and ids", (int)getpid());
	len = sizeof(v);
	CHECK(getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, &len) == 0 && v == SOCK_STREAM, "SO_TYPE");
	CHECK(getsockopt(sv[0], SOL_SOCKET, SO_ERROR, &v, &len) == 0 && v == 0, "SO_ERROR");
	v = 65536;
	CHECK(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)) == 0 &&
	      getsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, &len) == 0 && v == 131072,
	      "SO_SNDBUF: set, and doubled as Linux keeps it");
	CHECK(getsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &v, &len) == 0 && v > 0, "SO_RCVBUF");
	len = sizeof(sa);
	CHECK(getsockname(sv[0], (struct sockaddr *)&sa, &len) == 0 && len == sizeof(sa_family_t) &&
	      sa.sun_family == AF_UNIX, "getsockname of a pair: unnamed");
	len = sizeof(sa);
	CHECK(getpeername(sv[0], (struct sockaddr *)&sa, &len) == 0 && len == sizeof(sa_family_t),
	      "getpeername of a pair: unnamed");
	CHECK(fcntl(sv[0], F_GETFL) == O_RDWR, "F_GETFL of a socket: O_RDWR");
	struct stat st;
	CHECK(fstat(sv[0], &st) == 0 && S_ISSOCK(st.st_mode), "fstat: a socket");
	close(sv[0]);
	CHECK(read(sv[1], buf, sizeof(buf)) == 0, "stream pair: EOF after the peer's close");
	CHECK_ERR(write(sv[1], "x", 1), EPIPE, "stream pair: EPIPE to a closed peer (SIGPIPE ignored)");
	close(sv[1]);

	CHECK(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) == 0,
	      "socketpair(SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK)");
	CHECK(fcntl(sv[0], F_GETFD) == FD_CLOEXEC && (fcntl(sv[0], F_GETFL) & O_NONBLOCK),
	      "its flags");
	CHECK_ERR(recv(sv[0], buf, sizeof(buf), 0), EAGAIN, "dgram: EAGAIN when empty and non-blocking");
	CHECK(send(sv[0], "one", 3, 0) == 3 && send(sv[0], "three", 5, 0) == 5, "dgram: two messages");
	CHECK(recv(sv[1], buf, sizeof(buf), 0) == 3 && recv(sv[1], buf, sizeof(buf), 0) == 5,
	      "dgram: boundaries kept");
	CHECK(send(sv[0], "truncated", 9, 0) == 9, "dgram: a long message");
	struct iovec iov = {buf, 4};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	CHECK(recvmsg(sv[1], &m, MSG_TRUNC) == 9 && (m.msg_flags & MSG_TRUNC) && !memcmp(buf, "trun", 4),
	      "dgram: MSG_TRUNC gives the real length, the flag says so");
	close(sv[0]);
	close(sv[1]);

	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0, "socketpair(SOCK_SEQPACKET)");
	CHECK(send(sv[0], "ab", 2, 0) == 2 && send(sv[0], "cde", 3, 0) == 3 &&
	      recv(sv[1], buf, sizeof(buf), 0) == 2 && recv(sv[1], buf, sizeof(buf), 0) == 3,
	      "seqpacket: records kept");
	close(sv[0]);
	CHECK(recv(sv[1], buf, sizeof(buf), 0) == 0, "seqpacket: 0 after the peer's close");
	close(sv[1]);
}

static void path_server(void)
{
	char path[128], buf[128];
	struct sockaddr_un sa;
	socklen_t len;
	struct stat st;
	struct ucred uc;
	int sync[2];

	snprintf(path, sizeof(path), "%s/server.sock", scratch);
	umask(022);
	int srv = bound(SOCK_STREAM, path);
	CHECK(srv >= 0, "bind to a path");
	CHECK(stat(path, &st) == 0 && S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0755,
	      "the socket file is there, its mode 0777 less the umask");
	len = sizeof(sa);
	CHECK(getsockname(srv, (struct sockaddr *)&sa, &len) == 0 &&
	      len == offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1 &&
	      !strcmp(sa.sun_path, path), "getsockname: the path as bound");
	CHECK_ERR(bound(SOCK_STREAM, path), EADDRINUSE, "bind to it again: EADDRINUSE");
	CHECK_ERR(connected(SOCK_STREAM, path), ECONNREFUSED, "connect before listen: ECONNREFUSED");
	CHECK(listen(srv, 4) == 0, "listen");
	int v;
	len = sizeof(v);
	CHECK(getsockopt(srv, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == 0 && v == 1, "SO_ACCEPTCONN");

	pipe(sync);
	pid_t pid = fork();
	if (pid == 0) {
		close(sync[0]);
		/* A relative path, from the scratch directory. */
		chdir(scratch);
		int c = connected(SOCK_STREAM, "server.sock");
		char msg[64];
		struct ucred cc;
		socklen_t cl = sizeof(cc);
		struct sockaddr_un pa;
		socklen_t pl = sizeof(pa);
		if (c < 0)
			_exit(1);
		if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cc, &cl) < 0 || cc.pid != getppid())
			_exit(2);
		if (getpeername(c, (struct sockaddr *)&pa, &pl) < 0 || strcmp(pa.sun_path, path))
			_exit(3);
		snprintf(msg, sizeof(msg), "%d", (int)getpid());
		if (write(c, msg, strlen(msg)) < 0 || read(c, msg, sizeof(msg)) != 5)
			_exit(4);
		_exit(0);
	}
	close(sync[1]);
	len = sizeof(sa);
	int conn = accept(srv, (struct sockaddr *)&sa, &len);
	CHECK(conn >= 0 && len == sizeof(sa_family_t), "accept a client of another process: unnamed");
	ssize_t n = read(conn, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	len = sizeof(uc);
	CHECK(getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &uc, &len) == 0 && uc.pid == pid &&
	      atoi(buf) == pid, "SO_PEERCRED of the accepted: the client's pid, %d, as it says", (int)pid);
	len = sizeof(sa);
	CHECK(getsockname(conn, (struct sockaddr *)&sa, &len) == 0 && !strcmp(sa.sun_path, path),
	      "getsockname of the accepted: the listener's path");
	CHECK(write(conn, "hello", 5) == 5, "reply");
	CHECK(reap(pid) == 0, "the client: SO_PEERCRED the server's pid, getpeername the path");
	close(conn);

	/* A client bound to a path of its own: accept names it. */
	char cpath[128];
	snprintf(cpath, sizeof(cpath), "%s/client.sock", scratch);
	int c = bound(SOCK_STREAM, cpath);
	addr(&sa, path);
	CHECK(c >= 0 && connect(c, (struct sockaddr *)&sa, addr(&sa, path)) == 0, "a bound client connects");
	len = sizeof(sa);
	conn = accept4(srv, (struct sockaddr *)&sa, &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
	CHECK(conn >= 0 && !strcmp(sa.sun_path, cpath) && (fcntl(conn, F_GETFL) & O_NONBLOCK) &&
	      fcntl(conn, F_GETFD) == FD_CLOEXEC, "accept4: the client's path, the flags asked for");
	len = sizeof(sa);
	CHECK(getpeername(conn, (struct sockaddr *)&sa, &len) == 0 && !strcmp(sa.sun_path, cpath),
	      "getpeername of the accepted: the client's path");
	int fl = fcntl(srv, F_GETFL);
	fcntl(srv, F_SETFL, fl | O_NONBLOCK);
	CHECK_ERR(accept(srv, NULL, NULL), EAGAIN, "accept on a non-blocking listener: EAGAIN");
	CHECK_ERR(accept4(srv, NULL, NULL, 0x40), EINVAL, "accept4 with a bad flag: EINVAL");
	close(conn);
	close(c);
	close(srv);
	CHECK_ERR(connected(SOCK_STREAM, path), ECONNREFUSED, "connect once the server closed: ECONNREFUSED");
	CHECK(unlink(path) == 0 && unlink(cpath) == 0, "unlink the socket files");
	CHECK_ERR(connected(SOCK_STREAM, path), ENOENT, "connect to a missing path: ENOENT");
}

static void abstract(void)
{
	struct sockaddr_un sa;
	socklen_t len;
	char name[96], buf[64];

	snprintf(name, sizeof(name), "@socket-test.%s", scratch + 5);
	int srv = bound(SOCK_SEQPACKET, name);
	CHECK(srv >= 0 && listen(srv, 1) == 0, "bind and listen on an abstract name");
	len = sizeof(sa);
	CHECK(getsockname(srv, (struct sockaddr *)&sa, &len) == 0 &&
	      len == offsetof(struct sockaddr_un, sun_path) + strlen(name) && sa.sun_path[0] == 0 &&
	      !memcmp(sa.sun_path + 1, name + 1, strlen(name) - 1), "getsockname: the abstract name");
	CHECK_ERR(bound(SOCK_SEQPACKET, name), EADDRINUSE, "bind it again: EADDRINUSE");
	pid_t pid = fork();
	if (pid == 0) {
		int c = connected(SOCK_SEQPACKET, name);
		_exit(c >= 0 && send(c, "abs", 3, 0) == 3 ? 0 : 1);
	}
	int conn = accept(srv, NULL, NULL);
	CHECK(conn >= 0 && recv(conn, buf, sizeof(buf), 0) == 3, "a client across fork");
	CHECK(reap(pid) == 0, "the client connected and sent");
	close(conn);
	close(srv);
	srv = bound(SOCK_SEQPACKET, name);
	CHECK(srv >= 0, "the name is free once its socket is closed");
	close(srv);
	CHECK_ERR(connected(SOCK_STREAM, "@socket-test-nobody-binds-this"), ECONNREFUSED,
		  "connect to a free abstract name: ECONNREFUSED");

	int a = socket(AF_UNIX, SOCK_DGRAM, 0);
	len = sizeof(sa);
	CHECK(bind(a, (struct sockaddr *)&sa, sizeof(sa_family_t)) == 0 &&
	      getsockname(a, (struct sockaddr *)&sa, &len) == 0 &&
	      len == offsetof(struct sockaddr_un, sun_path) + 6 && sa.sun_path[0] == 0,
	      "autobind: an abstract name of five hex digits");
	close(a);
}

static void datagrams(void)
{
	char path[128], buf[64], name[96];
	struct sockaddr_un sa, from;
	socklen_t len;

	snprintf(path, sizeof(path), "%s/dgram.sock", scratch);
	snprintf(name, sizeof(name), "@socket-test-client.%s", scratch + 5);
	int srv = bound(SOCK_DGRAM, path);
	CHECK(srv >= 0, "a datagram socket bound to a path");
	pid_t pid = fork();
	if (pid == 0) {
		int c = bound(SOCK_DGRAM, name);
		char r[16];
		if (c < 0 || sendto(c, "req", 3, 0, (struct sockaddr *)&sa, addr(&sa, path)) != 3)
			_exit(1);
		if (recv(c, r, sizeof(r), 0) != 5)
			_exit(2);
		/* An unnamed sender. */
		int u = socket(AF_UNIX, SOCK_DGRAM, 0);
		_exit(sendto(u, "anon", 4, 0, (struct sockaddr *)&sa, addr(&sa, path)) == 4 ? 0 : 3);
	}
	len = sizeof(from);
	CHECK(recvfrom(srv, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len) == 3 &&
	      len == offsetof(struct sockaddr_un, sun_path) + strlen(name) &&
	      !memcmp(from.sun_path + 1, name + 1, strlen(name) - 1),
	      "recvfrom: the sender's abstract name");
	CHECK(sendto(srv, "reply", 5, 0, (struct sockaddr *)&from, len) == 5, "sendto that name");
	len = sizeof(from);
	CHECK(recvfrom(srv, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len) == 4 && len == 0,
	      "recvfrom an unnamed sender: no address");
	CHECK(reap(pid) == 0, "the client got the reply");
	int c = socket(AF_UNIX, SOCK_DGRAM, 0);
	CHECK(connect(c, (struct sockaddr *)&sa, addr(&sa, path)) == 0 && send(c, "x", 1, 0) == 1 &&
	      recv(srv, buf, sizeof(buf), 0) == 1, "a connected datagram socket");
	struct sockaddr us = {.sa_family = AF_UNSPEC};
	CHECK(connect(c, &us, sizeof(us)) == 0, "connect(AF_UNSPEC) disconnects");
	CHECK_ERR(send(c, "x", 1, 0), ENOTCONN, "send after that: ENOTCONN");

	/* sendmmsg and recvmmsg */
	struct iovec iov[2] = {{"m1", 2}, {"m22", 3}};
	struct mmsghdr mm[2] = {{.msg_hdr = {.msg_name = &sa, .msg_namelen = addr(&sa, path),
					      .msg_iov = &iov[0], .msg_iovlen = 1}},
				{.msg_hdr = {.msg_name = &sa, .msg_namelen = addr(&sa, path),
					      .msg_iov = &iov[1], .msg_iovlen = 1}}};
	CHECK(sendmmsg(c, mm, 2, 0) == 2 && mm[0].msg_len == 2 && mm[1].msg_len == 3, "sendmmsg");
	char b1[8], b2[8];
	struct iovec riov[2] = {{b1, sizeof(b1)}, {b2, sizeof(b2)}};
	struct mmsghdr rm[2] = {{.msg_hdr = {.msg_iov = &riov[0], .msg_iovlen = 1}},
				{.msg_hdr = {.msg_iov = &riov[1], .msg_iovlen = 1}}};
	CHECK(recvmmsg(srv, rm, 2, MSG_DONTWAIT, NULL) == 2 && rm[0].msg_len == 2 && rm[1].msg_len == 3,
	      "recvmmsg");
	close(c);
	close(srv);
	unlink(path);
}

static void rights(void)
{
	int sv[2], p[2], fds[4], flags;
	char buf[64], file[128];

	snprintf(file, sizeof(file), "%s/file", scratch);
	int f = open(file, O_RDWR | O_CREAT, 0644);
	write(f, "0123456789", 10);
	lseek(f, 3, SEEK_SET);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	pipe(p);
	pid_t pid = fork();
	if (pid == 0) {
		int got[4];
		char d[16];
		int fl;
		close(sv[0]);
		if (recv_fds(sv[1], got, 2, d, sizeof(d) - 1, &fl) != 2 || strcmp(d, "two"))
			_exit(1);
		/* The pipe's write end, and the file at its shared offset. */
		if (write(got[0], "via pipe", 8) != 8 || read(got[1], d, 2) != 2 || memcmp(d, "34", 2))
			_exit(2);
		if (fcntl(got[0], F_GETFD) != FD_CLOEXEC)
			_exit(3);
		_exit(0);
	}
	close(sv[1]);
	fds[0] = p[1];
	fds[1] = f;
	CHECK(send_fds(sv[0], fds, 2, "two") == 3, "send a pipe and a file with SCM_RIGHTS");
	close(p[1]);
	CHECK(read(p[0], buf, sizeof(buf)) == 8 && !memcmp(buf, "via pipe", 8),
	      "the other process wrote into the pipe it got");
	CHECK(reap(pid) == 0, "it read the file at the offset shared with ours");
	CHECK(read(f, buf, 2) == 2 && !memcmp(buf, "56", 2), "one open file: our offset moved on");
	CHECK(read(p[0], buf, sizeof(buf)) == 0, "the pipe's last writer is gone: EOF");
	close(p[0]);
	close(sv[0]);

	/* A socket, and the guest port's own files, within one process. */
	int inner[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	socketpair(AF_UNIX, SOCK_DGRAM, 0, inner);
	int nul = open("/dev/null", O_WRONLY);
	int self = open("/proc/self/stat", O_RDONLY);
	fds[0] = inner[0];
	fds[1] = nul;
	fds[2] = self;
	CHECK(send_fds(sv[0], fds, 3, "three") == 5, "send a socket, /dev/null and /proc/self/stat");
	int got[4];
	int n = recv_fds(sv[1], got, 3, buf, sizeof(buf) - 1, &flags);
	CHECK(n == 3 && !(flags & MSG_CTRUNC), "received three descriptors");
	int v;
	socklen_t vl = sizeof(v);
	CHECK(n == 3 && getsockopt(got[0], SOL_SOCKET, SO_TYPE, &v, &vl) == 0 && v == SOCK_DGRAM &&
	      send(got[0], "s", 1, 0) == 1 && recv(inner[1], buf, sizeof(buf), 0) == 1,
	      "the socket received is the one sent");
	CHECK(n == 3 && write(got[1], "x", 1) == 1, "/dev/null received: writes vanish");
	CHECK(n == 3 && read(got[2], buf, sizeof(buf)) > 0 && atoi(buf) == getpid(),
	      "/proc/self/stat received: ours");
	for (int i = 0; i < n; i++)
		close(got[i]);

	/* Too little room: one installed, the rest closed, MSG_CTRUNC. */
	fds[0] = nul;
	fds[1] = self;
	send_fds(sv[0], fds, 2, "trunc");
	n = recv_fds(sv[1], got, 1, buf, sizeof(buf) - 1, &flags);
	CHECK(n == 1 && (flags & MSG_CTRUNC), "room for one of two: one, and MSG_CTRUNC");
	if (n == 1)
		close(got[0]);
	fds[0] = 999;
	CHECK_ERR(send_fds(sv[0], fds, 1, "bad"), EBADF, "SCM_RIGHTS of a closed descriptor: EBADF");
	close(nul);
	close(self);
	close(inner[0]);
	close(inner[1]);
	close(sv[0]);
	close(sv[1]);
	close(f);
	unlink(file);
}

static void credentials(void)
{
	int sv[2], on = 1;
	char cbuf[CMSG_SPACE(sizeof(struct ucred))];
	char buf[16];

	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	CHECK(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) == 0, "SO_PASSCRED on");
	socklen_t len = sizeof(on);
	on = 0;
	CHECK(getsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, &len) == 0 && on == 1, "SO_PASSCRED reads back");
	pid_t pid = fork();
	if (pid == 0) {
		struct ucred uc = {getpid(), geteuid(), getegid()};
		struct iovec iov = {"c", 1};
		struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				   .msg_controllen = sizeof(cbuf)};
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_CREDENTIALS;
		c->cmsg_len = CMSG_LEN(sizeof(uc));
		memcpy(CMSG_DATA(c), &uc, sizeof(uc));
		_exit(sendmsg(sv[0], &m, 0) == 1 ? 0 : 1);
	}
	struct iovec iov = {buf, sizeof(buf)};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			   .msg_controllen = sizeof(cbuf)};
	struct ucred uc = {0};
	CHECK(recvmsg(sv[1], &m, 0) == 1, "a message with credentials");
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	if (c && c->cmsg_type == SCM_CREDENTIALS)
		memcpy(&uc, CMSG_DATA(c), sizeof(uc));
	CHECK(c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
	      uc.pid == pid && uc.uid == geteuid() && uc.gid == getegid(),
	      "SCM_CREDENTIALS: the sender's pid %d and ids", (int)pid);
	CHECK(reap(pid) == 0, "the sender sent its own credentials");
	if (geteuid() != 0) {
		struct ucred fake = {getpid() + 1, geteuid(), getegid()};
		struct iovec i2 = {"f", 1};
		struct msghdr m2 = {.msg_iov = &i2, .msg_iovlen = 1, .msg_control = cbuf,
				    .msg_controllen = sizeof(cbuf)};
		c = CMSG_FIRSTHDR(&m2);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_CREDENTIALS;
		c->cmsg_len = CMSG_LEN(sizeof(fake));
		memcpy(CMSG_DATA(c), &fake, sizeof(fake));
		CHECK_ERR(sendmsg(sv[0], &m2, 0), EPERM, "SCM_CREDENTIALS with another's pid: EPERM");
	} else {
		SKIP("root may claim any pid", "SCM_CREDENTIALS with another's pid: EPERM");
	}
	close(sv[0]);
	close(sv[1]);
}

static void shutdowns(void)
{
	int sv[2];
	char buf[8];

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	CHECK(shutdown(sv[0], SHUT_WR) == 0, "shutdown(SHUT_WR)");
	CHECK(read(sv[1], buf, sizeof(buf)) == 0, "the peer reads EOF");
	CHECK_ERR(send(sv[0], "x", 1, MSG_NOSIGNAL), EPIPE, "send after SHUT_WR: EPIPE");
	CHECK(send(sv[1], "y", 1, 0) == 1 && read(sv[0], buf, 1) == 1, "the other direction still works");
	CHECK(shutdown(sv[0], SHUT_RD) == 0 && read(sv[0], buf, 1) == 0, "SHUT_RD: reads give 0");
	CHECK_ERR(shutdown(sv[0], 7), EINVAL, "shutdown with a bad how: EINVAL");
	close(sv[0]);
	close(sv[1]);
}

static void polling(void)
{
	int sv[2];
	char buf[8];

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	struct pollfd p = {sv[1], POLLIN | POLLOUT, 0};
	CHECK(poll(&p, 1, 0) == 1 && p.revents == POLLOUT, "poll: writable, nothing to read");
	write(sv[0], "z", 1);
	CHECK(poll(&p, 1, 0) == 1 && p.revents == (POLLIN | POLLOUT), "poll: readable once written");
	read(sv[1], buf, 1);
	fd_set rd;
	FD_ZERO(&rd);
	FD_SET(sv[1], &rd);
	struct timeval tv = {0, 20000};
	CHECK(select(sv[1] + 1, &rd, NULL, NULL, &tv) == 0, "select: times out with nothing to read");
	close(sv[0]);
	p.events = POLLIN;
	CHECK(poll(&p, 1, 1000) == 1 && (p.revents & POLLHUP), "poll: POLLHUP once the peer closed");
	close(sv[1]);
}

static volatile sig_atomic_t signalled;

static void on_usr1(int sig)
{
	(void)sig;
	signalled = 1;
}

static void interrupted(void)
{
	int sv[2];
	char buf[8];
	struct sigaction sa = {.sa_handler = on_usr1};

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	sigaction(SIGUSR1, &sa, NULL);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		msleep(100);
		kill(parent, SIGUSR1);
		_exit(0);
	}
	CHECK_ERR(recv(sv[0], buf, sizeof(buf), 0), EINTR, "a blocking recv broken by a signal: EINTR");
	CHECK(signalled && reap(pid) == 0, "the handler ran");

	signalled = 0;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	pid = fork();
	if (pid == 0) {
		msleep(100);
		kill(parent, SIGUSR1);
		msleep(100);
		_exit(write(sv[1], "late", 4) == 4 ? 0 : 1);
	}
	CHECK(recv(sv[0], buf, sizeof(buf), 0) == 4 && signalled,
	      "with SA_RESTART the recv goes on, and gets what comes after");
	CHECK(reap(pid) == 0, "the writer");

	/* accept too */
	signalled = 0;
	sa.sa_flags = 0;
	sigaction(SIGUSR1, &sa, NULL);
	int srv = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	socklen_t len = sizeof(a);
	bind(srv, (struct sockaddr *)&a, sizeof(sa_family_t));
	listen(srv, 1);
	pid = fork();
	if (pid == 0) {
		msleep(100);
		kill(parent, SIGUSR1);
		_exit(0);
	}
	CHECK_ERR(accept(srv, (struct sockaddr *)&a, &len), EINTR, "a blocking accept broken by a signal: EINTR");
	reap(pid);
	close(srv);
	close(sv[0]);
	close(sv[1]);
	signal(SIGUSR1, SIG_DFL);
}

static void bad_input(int guest)
{
	int sv[2];
	struct sockaddr_un sa;
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	int p[2];
	char file[128];

	pipe(p);
	CHECK_ERR(socket(AF_UNIX, SOCK_STREAM | 0x10000, 0), EINVAL, "socket: a bad flag: EINVAL");
	CHECK_ERR(socket(AF_UNIX, 99, 0), EINVAL, "socket: a type past SOCK_MAX: EINVAL");
	CHECK_ERR(socket(AF_UNIX, SOCK_RDM, 0), ESOCKTNOSUPPORT, "socket(SOCK_RDM): ESOCKTNOSUPPORT");
	CHECK_ERR(socket(AF_UNIX, SOCK_STREAM, 7), EPROTONOSUPPORT, "socket: protocol 7: EPROTONOSUPPORT");
	CHECK_ERR(socket(12345, SOCK_STREAM, 0), EAFNOSUPPORT, "socket: no such family: EAFNOSUPPORT");
	if (guest) {
		CHECK_ERR(socket(AF_INET, SOCK_STREAM, 0), EAFNOSUPPORT, "socket(AF_INET): the guest has no network");
		CHECK_ERR(socket(AF_INET6, SOCK_DGRAM, 0), EAFNOSUPPORT, "socket(AF_INET6): EAFNOSUPPORT");
		CHECK_ERR(socket(AF_NETLINK, SOCK_RAW, 0), EAFNOSUPPORT, "socket(AF_NETLINK): EAFNOSUPPORT");
		CHECK_ERR(socketpair(AF_INET, SOCK_STREAM, 0, sv), EAFNOSUPPORT, "socketpair(AF_INET): EAFNOSUPPORT");
	}
	CHECK_ERR(bind(p[0], (struct sockaddr *)&sa, addr(&sa, "/tmp/x")), ENOTSOCK, "bind on a pipe: ENOTSOCK");
	CHECK_ERR(bind(999, (struct sockaddr *)&sa, addr(&sa, "/tmp/x")), EBADF, "bind on a closed fd: EBADF");
	CHECK_ERR(bind(s, (struct sockaddr *)&sa, sizeof(sa) + 1), EINVAL, "bind: addrlen past sockaddr_un: EINVAL");
	CHECK_ERR(bind(s, (struct sockaddr *)&sa, 1), EINVAL, "bind: addrlen 1: EINVAL");
	CHECK_ERR(bind(s, (struct sockaddr *)8, 20), EFAULT, "bind: a bad pointer: EFAULT");
	sa.sun_family = AF_INET;
	CHECK_ERR(bind(s, (struct sockaddr *)&sa, 20), EINVAL, "bind: another family: EINVAL");
	CHECK_ERR(connect(s, (struct sockaddr *)&sa, 20), EINVAL, "connect: another family: EINVAL");
	CHECK_ERR(listen(s, 1), EINVAL, "listen on an unbound socket: EINVAL");
	CHECK_ERR(accept(s, NULL, NULL), EINVAL, "accept on a socket not listening: EINVAL");
	CHECK_ERR(getpeername(s, (struct sockaddr *)&sa, &(socklen_t){sizeof(sa)}), ENOTCONN,
		  "getpeername unconnected: ENOTCONN");
	CHECK_ERR(send(s, "x", 1, MSG_NOSIGNAL), ENOTCONN, "send unconnected: ENOTCONN");
	CHECK_ERR(getsockopt(s, SOL_SOCKET, SO_TYPE, (void *)8, &(socklen_t){4}), EFAULT,
		  "getsockopt to a bad pointer: EFAULT");
	CHECK_ERR(getsockopt(s, SOL_SOCKET, SO_TYPE, &(int){0}, &(socklen_t){-1}), EINVAL,
		  "getsockopt with a negative length: EINVAL");
	CHECK_ERR(setsockopt(s, SOL_SOCKET, 9999, &(int){1}, 4), ENOPROTOOPT, "setsockopt of no such option: ENOPROTOOPT");
	int d = socket(AF_UNIX, SOCK_DGRAM, 0);
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	static struct iovec many[2000];
	for (int i = 0; i < 2000; i++)
		many[i] = (struct iovec){"x", 1};
	struct msghdr m = {.msg_iov = many, .msg_iovlen = 2000};
	CHECK_ERR(sendmsg(sv[0], &m, 0), EMSGSIZE, "sendmsg of 2000 vectors: EMSGSIZE");
	struct iovec huge = {"x", 64 << 20};
	m = (struct msghdr){.msg_iov = &huge, .msg_iovlen = 1};
	CHECK_ERR(sendmsg(sv[0], &m, 0), EMSGSIZE, "a datagram of 64 MiB: EMSGSIZE");
	struct iovec one = {"x", 1};
	m = (struct msghdr){.msg_iov = &one, .msg_iovlen = 1, .msg_control = many,
			    .msg_controllen = 1 << 30};
	CHECK_ERR(sendmsg(sv[0], &m, 0), ENOBUFS, "1 GiB of control data: ENOBUFS");
	close(sv[0]);
	close(sv[1]);
	CHECK_ERR(listen(d, 1), EOPNOTSUPP, "listen on a datagram socket: EOPNOTSUPP");
	snprintf(file, sizeof(file), "%s/plain", scratch);
	close(open(file, O_CREAT | O_WRONLY, 0644));
	CHECK_ERR(connect(s, (struct sockaddr *)&sa, addr(&sa, file)), ECONNREFUSED,
		  "connect to a file that is no socket: ECONNREFUSED");
	CHECK_ERR(bind(d, (struct sockaddr *)&sa, addr(&sa, file)), EADDRINUSE, "bind over a file: EADDRINUSE");
	snprintf(file, sizeof(file), "%s/no/such/dir/s", scratch);
	CHECK_ERR(bind(d, (struct sockaddr *)&sa, addr(&sa, file)), ENOENT, "bind in a missing directory: ENOENT");
	/* 108 bytes with no NUL: Linux takes them all. */
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	int n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/", scratch);
	memset(sa.sun_path + n, 'l', sizeof(sa.sun_path) - n);
	CHECK(bind(d, (struct sockaddr *)&sa, sizeof(sa)) == 0, "bind to a path of 108 bytes, no NUL");
	struct sockaddr_un got;
	socklen_t gl = sizeof(got) + 8;
	char big[sizeof(got) + 8];
	CHECK(getsockname(d, (struct sockaddr *)big, &gl) == 0 && gl == sizeof(sa) + 1 &&
	      !memcmp(big + 2, sa.sun_path, sizeof(sa.sun_path)), "getsockname gives it back, NUL and all");
	CHECK(unlink(big + 2) == 0, "unlink it");
	CHECK_ERR(bind(d, (struct sockaddr *)&sa, addr(&sa, "@again")), EINVAL, "bind a bound socket: EINVAL");
	/* A name longer than a file name may be, through a symlink. */
	char target[300];
	memset(target, 'n', sizeof(target) - 1);
	target[sizeof(target) - 1] = 0;
	snprintf(file, sizeof(file), "%s/long", scratch);
	symlink(target, file);
	CHECK_ERR(connect(s, (struct sockaddr *)&sa, addr(&sa, file)), ENAMETOOLONG,
		  "connect through a symlink to a name past NAME_MAX: ENAMETOOLONG");
	unlink(file);
	close(s);
	close(d);
	close(p[0]);
	close(p[1]);
}

static void confined(const char *outdir)
{
	char path[256], link[128];
	struct sockaddr_un sa;
	int s = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(path, sizeof(path), "/../../%s/escape.sock", outdir);
	CHECK_ERR(bind(s, (struct sockaddr *)&sa, addr(&sa, path)), ENOENT, "bind /../../OUTDIR/x: ENOENT in the root");
	snprintf(path, sizeof(path), "../../../../../../%s/escape.sock", outdir);
	chdir(scratch);
	CHECK_ERR(bind(s, (struct sockaddr *)&sa, addr(&sa, path)), ENOENT, "bind ../../../OUTDIR/x: ENOENT");
	snprintf(link, sizeof(link), "%s/abs", scratch);
	snprintf(path, sizeof(path), "/../../%s", outdir);
	symlink(path, link);
	snprintf(path, sizeof(path), "%s/abs/escape.sock", scratch);
	CHECK_ERR(bind(s, (struct sockaddr *)&sa, addr(&sa, path)), ENOENT, "bind through an absolute symlink: ENOENT");
	CHECK_ERR(connect(s, (struct sockaddr *)&sa, addr(&sa, path)), ENOENT, "connect through it: ENOENT");
	snprintf(link, sizeof(link), "%s/rel", scratch);
	snprintf(path, sizeof(path), "../../../../../../%s", outdir);
	symlink(path, link);
	CHECK_ERR(bind(s, (struct sockaddr *)&sa, addr(&sa, "rel/escape.sock")), ENOENT,
		  "bind through a relative symlink full of ..: ENOENT");
	unlink(link);
	snprintf(link, sizeof(link), "%s/abs", scratch);
	unlink(link);
	chdir("/");
	close(s);
}

static int hold(const char *name)
{
	char at[128], buf[16];

	snprintf(at, sizeof(at), "@%s", name);
	int s = bound(SOCK_STREAM, at);
	if (s < 0 || listen(s, 1) < 0) {
		perror("socket_test hold");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (read(0, buf, sizeof(buf)) > 0)
		;
	return 0;
}

static int reach(const char *name)
{
	char at[128];

	snprintf(at, sizeof(at), "@%s", name);
	CHECK_ERR(connected(SOCK_STREAM, at), ECONNREFUSED, "connect to %s, held elsewhere: ECONNREFUSED", name);
	return tap_done();
}

int main(int argc, char **argv)
{
	int guest = argc == 3 && !strcmp(argv[1], "guest");

	if (argc == 3 && !strcmp(argv[1], "hold"))
		return hold(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "reach"))
		return reach(argv[2]);

	if (!guest && !(argc == 2 && !strcmp(argv[1], "native"))) {
		fprintf(stderr, "usage: socket_test native | guest OUTDIR | hold NAME | reach NAME\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	unsigned int r = 0;
	getrandom(&r, sizeof(r), 0);
	snprintf(scratch, sizeof(scratch), "/tmp/sock.%08x", r);
	CHECK(mkdir(scratch, 0755) == 0, "a scratch directory");

	pairs();
	path_server();
	abstract();
	datagrams();
	rights();
	credentials();
	shutdowns();
	polling();
	interrupted();
	bad_input(guest);
	if (guest)
		confined(argv[2]);

	char cmd[128];
	snprintf(cmd, sizeof(cmd), "%s/plain", scratch);
	unlink(cmd);
	rmdir(scratch);
	return tap_done();
}
