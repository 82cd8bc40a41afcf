// SPDX-License-Identifier: GPL-2.0
/*
 * signalfd: reads that take pending signals of the mask as struct
 * signalfd_siginfo (the thread's own before the process's), their
 * fields, SFD_NONBLOCK and SFD_CLOEXEC, a new mask for an existing
 * file, poll, select and epoll on it, a blocking read woken by another
 * process's signal or broken by a handled one, fork and exec, and bad
 * input.  Every expectation is Linux's: progs-check runs this natively
 * too, and the two outputs must be the same.
 *
 *	signalfd_test			the tests
 *	signalfd_test exec FD		(itself, after exec) FD still reads
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

static const size_t ssi = sizeof(struct signalfd_siginfo);

static void on_signal(int signo)
{
	(void)signo;
}

static sigset_t set_of(int a, int b)
{
	sigset_t s;

	sigemptyset(&s);
	if (a)
		sigaddset(&s, a);
	if (b)
		sigaddset(&s, b);
	return s;
}

static int readable(int fd, int timeout)
{
	struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};

	return poll(&p, 1, timeout) == 1 ? p.revents : 0;
}

/* A timer that sends signo to the process after ms milliseconds: a wait
 * woken by a signal, without a process to make (cheaper than a child on
 * every backend). */
static timer_t signal_later(int signo, int ms)
{
	struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = signo};
	struct itimerspec when = {.it_value = {0, ms * 1000000L}};
	timer_t t;

	timer_create(CLOCK_MONOTONIC, &ev, &t);
	timer_settime(t, 0, &when, NULL);
	return t;
}

/* A child that sends signo to the parent after ms milliseconds. */
static pid_t signal_me(int signo, int ms)
{
	pid_t parent = getpid(), c = fork();

	if (c == 0) {
		usleep(ms * 1000);
		kill(parent, signo);
		_exit(0);
	}
	return c;
}

static void bad_input(int sfd)
{
	sigset_t s = set_of(SIGUSR1, 0);
	char small[ssi - 1];
	int p[2];

	CHECK(pipe(p) == 0, "pipe");
	CHECK_ERR(syscall(SYS_signalfd4, -1, &s, 4, 0), EINVAL, "a mask size of 4: EINVAL");
	CHECK_ERR(syscall(SYS_signalfd4, -1, &s, 16, 0), EINVAL, "a mask size of 16: EINVAL");
	CHECK_ERR(syscall(SYS_signalfd4, -1, (void *)8, 8, 0), EFAULT, "a bad mask: EFAULT");
	CHECK_ERR(syscall(SYS_signalfd4, -1, &s, 8, 1), EINVAL, "a bad flag: EINVAL");
	CHECK_ERR(syscall(SYS_signalfd4, 999, &s, 8, 0), EBADF, "a closed descriptor: EBADF");
	CHECK_ERR(syscall(SYS_signalfd4, -2, &s, 8, 0), EBADF, "descriptor -2: EBADF");
	CHECK_ERR(syscall(SYS_signalfd4, p[0], &s, 8, 0), EINVAL, "a pipe: EINVAL");
	CHECK_ERR(read(sfd, small, sizeof(small)), EINVAL, "a read of less than one: EINVAL");
	CHECK_ERR(syscall(SYS_read, sfd, NULL, 16), EINVAL, "a short read to NULL: EINVAL");
	CHECK_ERR(write(sfd, small, sizeof(small)), EINVAL, "write: EINVAL");
	CHECK(lseek(sfd, 10, SEEK_SET) == 0, "lseek: 0 (noop_llseek)");
	close(p[0]), close(p[1]);
}

static void reads(int sfd)
{
	struct signalfd_siginfo si[4];
	sigset_t pending;

	CHECK(sfd >= 0, "signalfd(SIGUSR1, SIGUSR2, SIGRTMIN), SFD_NONBLOCK | SFD_CLOEXEC");
	CHECK((fcntl(sfd, F_GETFL) & (O_ACCMODE | O_NONBLOCK)) == (O_RDWR | O_NONBLOCK) &&
	      (fcntl(sfd, F_GETFD) & FD_CLOEXEC), "O_RDWR, O_NONBLOCK, FD_CLOEXEC");
	char path[64], link[64] = "";
	snprintf(path, sizeof(path), "/proc/self/fd/%d", sfd);
	CHECK(readlink(path, link, sizeof(link) - 1) > 0 &&
	      strcmp(link, "anon_inode:[signalfd]") == 0, "/proc/self/fd: anon_inode:[signalfd]");
	struct stat st;
	CHECK(fstat(sfd, &st) == 0 && (st.st_mode & 07777) == 0600, "fstat: mode 0600");
	CHECK_ERR(read(sfd, si, sizeof(si)), EAGAIN, "nothing pending, nonblocking: EAGAIN");
	CHECK(readable(sfd, 0) == 0, "poll: not readable, never writable");

	kill(getpid(), SIGUSR1);
	CHECK(readable(sfd, 0) == POLLIN, "SIGUSR1 pending: POLLIN");
	CHECK(read(sfd, si, sizeof(si)) == (ssize_t)ssi, "read: one siginfo");
	CHECK(si[0].ssi_signo == SIGUSR1 && si[0].ssi_code == SI_USER &&
	      si[0].ssi_pid == (uint32_t)getpid() && si[0].ssi_uid == getuid() &&
	      si[0].ssi_errno == 0, "kill: ssi_signo, SI_USER, ssi_pid, ssi_uid");
	sigpending(&pending);
	CHECK(!sigismember(&pending, SIGUSR1) && readable(sfd, 0) == 0,
	      "taken: no longer pending, not readable");

	union sigval v = {.sival_int = 42};
	CHECK(sigqueue(getpid(), SIGRTMIN, v) == 0, "sigqueue(SIGRTMIN, 42)");
	v.sival_int = 43;
	sigqueue(getpid(), SIGRTMIN, v);
	CHECK(read(sfd, si, sizeof(si)) == (ssize_t)(2 * ssi), "one read takes both queued");
	CHECK(si[0].ssi_signo == (uint32_t)SIGRTMIN && si[0].ssi_code == SI_QUEUE &&
	      si[0].ssi_int == 42 && si[0].ssi_ptr == 42 && si[0].ssi_pid == (uint32_t)getpid() &&
	      si[1].ssi_int == 43, "sigqueue: SI_QUEUE, ssi_int, ssi_ptr, in order");

	/* The thread's own first (tgkill), then the process's. */
	kill(getpid(), SIGUSR1);
	syscall(SYS_tgkill, getpid(), gettid(), SIGUSR2);
	CHECK(read(sfd, si, ssi) == (ssize_t)ssi && si[0].ssi_signo == SIGUSR2 &&
	      si[0].ssi_code == SI_TKILL, "the thread's own first: SIGUSR2, SI_TKILL");
	CHECK(read(sfd, si, ssi) == (ssize_t)ssi && si[0].ssi_signo == SIGUSR1,
	      "then the process's: SIGUSR1");

	/* A new mask for the same file. */
	sigset_t m = set_of(SIGUSR2, 0);
	CHECK(signalfd(sfd, &m, 0) == sfd, "signalfd on the file: its descriptor");
	kill(getpid(), SIGUSR1);
	CHECK_ERR(read(sfd, si, ssi), EAGAIN, "SIGUSR1 out of the new mask: EAGAIN");
	CHECK(readable(sfd, 0) == 0, "and not readable");
	m = set_of(SIGUSR1, SIGUSR2);
	CHECK(signalfd(sfd, &m, SFD_CLOEXEC) == sfd && readable(sfd, 0) == POLLIN &&
	      read(sfd, si, ssi) == (ssize_t)ssi && si[0].ssi_signo == SIGUSR1,
	      "back in the mask: read");
	m = set_of(SIGUSR1, SIGRTMIN);
	signalfd(sfd, &m, 0);

	/* readv: a read for each vector. */
	kill(getpid(), SIGUSR1);
	sigqueue(getpid(), SIGRTMIN, v);
	struct iovec iov[2] = {{&si[0], ssi}, {&si[1], ssi}};
	CHECK(readv(sfd, iov, 2) == (ssize_t)(2 * ssi) && si[0].ssi_signo == SIGUSR1 &&
	      si[1].ssi_signo == (uint32_t)SIGRTMIN, "readv: one in each vector");
}

static void waits(int sfd)
{
	struct signalfd_siginfo si;
	sigset_t m = set_of(SIGUSR1, 0);
	int b = signalfd(-1, &m, 0);

	CHECK(b >= 0 && !(fcntl(b, F_GETFL) & O_NONBLOCK) && !(fcntl(b, F_GETFD) & FD_CLOEXEC),
	      "signalfd(SIGUSR1): blocking, no FD_CLOEXEC");
	pid_t c = signal_me(SIGUSR1, 50);
	CHECK(read(b, &si, ssi) == (ssize_t)ssi && si.ssi_signo == SIGUSR1 &&
	      si.ssi_pid == (uint32_t)c, "a blocking read: woken by a child's kill, its pid");
	waitpid(c, NULL, 0);

	timer_t tm = signal_later(SIGUSR1, 50);
	struct pollfd p = {.fd = sfd, .events = POLLIN};
	CHECK(poll(&p, 1, 5000) == 1 && p.revents == POLLIN, "poll: woken when it comes");
	CHECK(read(sfd, &si, ssi) == (ssize_t)ssi && si.ssi_code == SI_TIMER,
	      "and read: SI_TIMER");
	timer_delete(tm);
	CHECK(poll(&p, 1, 30) == 0, "poll: a timeout with nothing pending");

	tm = signal_later(SIGUSR1, 50);
	fd_set r;
	FD_ZERO(&r);
	FD_SET(sfd, &r);
	CHECK(select(sfd + 1, &r, NULL, NULL, NULL) == 1 && FD_ISSET(sfd, &r),
	      "select: woken when it comes");
	read(sfd, &si, ssi);
	timer_delete(tm);

	/* A signal that is not in the mask, with a handler, breaks it. */
	tm = signal_later(SIGUSR2, 50);
	sigset_t usr2 = set_of(SIGUSR2, 0);
	sigprocmask(SIG_UNBLOCK, &usr2, NULL);
	CHECK_ERR(read(b, &si, ssi), EINTR, "a handled signal breaks a blocking read: EINTR");
	sigprocmask(SIG_BLOCK, &usr2, NULL);
	timer_delete(tm);
	close(b);
}

static void epoll(int sfd)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 77}, out[2];
	struct signalfd_siginfo si;
	int ep = epoll_create1(0);

	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev) == 0, "epoll: EPOLL_CTL_ADD a signalfd");
	CHECK(epoll_wait(ep, out, 2, 0) == 0, "nothing pending: no event");
	kill(getpid(), SIGUSR1);
	CHECK(epoll_wait(ep, out, 2, 0) == 1 && out[0].events == EPOLLIN && out[0].data.u64 == 77,
	      "SIGUSR1 pending: EPOLLIN, the data");
	CHECK(epoll_wait(ep, out, 2, 0) == 1, "level triggered: again");
	read(sfd, &si, ssi);
	CHECK(epoll_wait(ep, out, 2, 0) == 0, "taken: no event");

	ev.events = EPOLLIN | EPOLLET;
	CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, sfd, &ev) == 0, "EPOLL_CTL_MOD to EPOLLET");
	kill(getpid(), SIGUSR1);
	CHECK(epoll_wait(ep, out, 2, 0) == 1, "edge triggered: the signal's event");
	CHECK(epoll_wait(ep, out, 2, 0) == 0, "edge triggered: not again");
	sigqueue(getpid(), SIGRTMIN, (union sigval){.sival_int = 1});
	CHECK(epoll_wait(ep, out, 2, 0) == 1, "edge triggered: again after another signal");
	while (read(sfd, &si, ssi) > 0)
		;

	ev.events = EPOLLIN;
	epoll_ctl(ep, EPOLL_CTL_MOD, sfd, &ev);
	timer_t tm = signal_later(SIGUSR1, 50);
	CHECK(epoll_wait(ep, out, 2, 5000) == 1 && out[0].data.u64 == 77,
	      "a blocking epoll_wait: woken when it comes");
	read(sfd, &si, ssi);
	timer_delete(tm);
	CHECK(epoll_wait(ep, out, 2, 30) == 0, "epoll_wait: a timeout with nothing pending");
	close(ep);
}

/* A forked child reads its own signals from the file, not the parent's. */
static void forked(int sfd)
{
	struct signalfd_siginfo si;
	int status;

	kill(getpid(), SIGUSR1);
	pid_t c = fork();
	if (c == 0) {
		int ok = read(sfd, &si, ssi) < 0 && errno == EAGAIN;
		sigqueue(getpid(), SIGRTMIN, (union sigval){.sival_int = 9});
		ok = ok && read(sfd, &si, ssi) == (ssize_t)ssi && si.ssi_int == 9 &&
		     si.ssi_pid == (uint32_t)getpid();
		_exit(ok ? 0 : 1);
	}
	CHECK(waitpid(c, &status, 0) == c && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "fork: the child reads its own signals, not the parent's");
	CHECK(read(sfd, &si, ssi) == (ssize_t)ssi && si.ssi_signo == SIGUSR1,
	      "the parent's is still there for it");

	/* Through exec: the file, the mask and what is pending stay. */
	sigset_t m = set_of(SIGUSR1, 0);
	int keep = signalfd(-1, &m, 0);
	c = fork();
	if (c == 0) {
		char arg[16];
		snprintf(arg, sizeof(arg), "%d", keep);
		kill(getpid(), SIGUSR1);
		execl("/proc/self/exe", "signalfd_test", "exec", arg, (char *)NULL);
		_exit(2);
	}
	CHECK(waitpid(c, &status, 0) == c && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "exec: the file reads the signal pending before it");
	close(keep);

	/* A child's end, blocked: SIGCHLD's own fields. */
	sigset_t chld = set_of(SIGCHLD, 0);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	int cf = signalfd(-1, &chld, 0);
	c = fork();
	if (c == 0)
		_exit(3);
	CHECK(read(cf, &si, ssi) == (ssize_t)ssi && si.ssi_signo == SIGCHLD &&
	      si.ssi_code == CLD_EXITED && si.ssi_pid == (uint32_t)c && si.ssi_status == 3 &&
	      si.ssi_uid == getuid(), "SIGCHLD: CLD_EXITED, ssi_pid, ssi_uid, ssi_status");
	waitpid(c, NULL, 0);
	close(cf);
}

int main(int argc, char **argv)
{
	sigset_t all = set_of(SIGUSR1, SIGUSR2);

	if (argc == 3 && strcmp(argv[1], "exec") == 0) {
		struct signalfd_siginfo si;
		return read(atoi(argv[2]), &si, ssi) == (ssize_t)ssi && si.ssi_signo == SIGUSR1 ? 0 : 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	sigaddset(&all, SIGRTMIN);
	sigprocmask(SIG_BLOCK, &all, NULL);
	/* SIGUSR2 has a handler, without SA_RESTART: unblocked, it breaks
	 * a wait. */
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGUSR2, &sa, NULL);

	int sfd = signalfd(-1, &all, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0 && errno == ENOSYS) {
		SKIP("no signalfd in this kernel", "signalfd");
		return tap_done();
	}
	reads(sfd);
	bad_input(sfd);
	waits(sfd);
	/* The guest port's epoll is the host kernel's, which may lack it
	 * (the debug kernel's tinyconfig) where the guest has signalfd. */
	int ep = epoll_create1(0);
	if (ep >= 0 || errno != ENOSYS)
		epoll(sfd);
	else
		SKIP("no epoll in this kernel", "epoll of a signalfd");
	if (ep >= 0)
		close(ep);
	forked(sfd);
	return tap_done();
}
