// SPDX-License-Identifier: GPL-2.0
/*
 * Waiting for files: epoll (level and edge triggered, EPOLLONESHOT, its
 * registrations and their errors), eventfd, timerfd, poll, select, and
 * signals that end a wait.  Every expectation is Linux's: progs-check
 * runs this natively too, and the two outputs must be the same.
 * progs-check runs it in the guest with --time-offset: a timerfd's
 * absolute CLOCK_REALTIME time must be on the guest's wall clock.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

static int64_t now_ms(clockid_t c)
{
	struct timespec t;

	clock_gettime(c, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int wait_one(int ep, int timeout, struct epoll_event *ev)
{
	return epoll_wait(ep, ev, 1, timeout);
}

static void epoll_pipes(void)
{
	int p[2], ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0x1122334455667788ull}, out[4];

	CHECK(ep >= 0 && (fcntl(ep, F_GETFD) & FD_CLOEXEC), "epoll_create1(EPOLL_CLOEXEC)");
	CHECK(pipe(p) == 0, "pipe");
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == 0, "EPOLL_CTL_ADD a pipe");
	CHECK(epoll_wait(ep, out, 4, 0) == 0, "nothing to read: no event");
	CHECK(write(p[1], "ab", 2) == 2, "write");
	CHECK(epoll_wait(ep, out, 4, 0) == 1 && out[0].events == EPOLLIN &&
	      out[0].data.u64 == 0x1122334455667788ull, "level triggered: EPOLLIN, the data");
	CHECK(epoll_wait(ep, out, 4, 0) == 1, "level triggered: again while readable");

	ev.events = EPOLLIN | EPOLLET;
	CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev) == 0, "EPOLL_CTL_MOD to EPOLLET");
	CHECK(epoll_wait(ep, out, 4, 0) == 1, "edge triggered: the event MOD found");
	CHECK(epoll_wait(ep, out, 4, 0) == 0, "edge triggered: not again");
	CHECK(write(p[1], "c", 1) == 1 && epoll_wait(ep, out, 4, 0) == 1,
	      "edge triggered: again after a new write");

	ev.events = EPOLLIN | EPOLLONESHOT;
	CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev) == 0, "EPOLL_CTL_MOD to EPOLLONESHOT");
	CHECK(epoll_wait(ep, out, 4, 0) == 1, "oneshot: one event");
	CHECK(write(p[1], "d", 1) == 1 && epoll_wait(ep, out, 4, 0) == 0, "oneshot: then none");
	CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev) == 0 && epoll_wait(ep, out, 4, 0) == 1,
	      "oneshot: EPOLL_CTL_MOD arms it again");

	ev.events = EPOLLOUT;
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[1], &ev) == 0, "EPOLL_CTL_ADD the write end");
	CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL) == 0, "EPOLL_CTL_DEL");
	CHECK(epoll_wait(ep, out, 4, 0) == 1 && out[0].events == EPOLLOUT, "the write end: EPOLLOUT");

	/* Errors, Linux's. */
	int f = open("/proc/self/exe", O_RDONLY);
	ev.events = EPOLLIN;
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, p[1], &ev), EEXIST, "ADD twice: EEXIST");
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), ENOENT, "MOD of no item: ENOENT");
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL), ENOENT, "DEL of no item: ENOENT");
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, f, &ev), EPERM, "a regular file: EPERM");
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev), EINVAL, "the epoll itself: EINVAL");
	CHECK_ERR(epoll_ctl(p[0], EPOLL_CTL_ADD, p[1], &ev), EINVAL, "not an epoll: EINVAL");
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, 999, &ev), EBADF, "a bad descriptor: EBADF");
	CHECK_ERR(epoll_ctl(ep, 42, p[0], &ev), EINVAL, "a bad op: EINVAL");
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], (void *)8), EFAULT, "a bad event: EFAULT");
	CHECK_ERR(epoll_wait(ep, out, 0, 0), EINVAL, "maxevents 0: EINVAL");
	CHECK_ERR(epoll_wait(p[0], out, 1, 0), EINVAL, "epoll_wait on a pipe: EINVAL");
	CHECK_ERR(epoll_create(0), EINVAL, "epoll_create(0): EINVAL");
	CHECK_ERR(epoll_create1(1), EINVAL, "epoll_create1 with a bad flag: EINVAL");
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == 0, "EPOLLEXCLUSIVE");
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), EINVAL, "MOD with EPOLLEXCLUSIVE: EINVAL");
	ev.events = EPOLLIN;

	int ep2 = epoll_create1(0);
	CHECK(epoll_ctl(ep2, EPOLL_CTL_ADD, ep, &ev) == 0, "an epoll in an epoll");
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, ep2, &ev), ELOOP, "and back: ELOOP");
	CHECK(epoll_wait(ep2, out, 4, 0) == 1 && out[0].events == EPOLLIN,
	      "the outer epoll: EPOLLIN when the inner has events");

	/* The guest port's own files, as Linux's procfs and devtmpfs. */
	int m = open("/proc/meminfo", O_RDONLY), n = open("/dev/null", O_RDONLY);
	int e3 = epoll_create1(0);
	ev.events = EPOLLIN;
	ev.data.u64 = 7;
	CHECK(epoll_ctl(e3, EPOLL_CTL_ADD, m, &ev) == 0, "/proc/meminfo: EPOLL_CTL_ADD");
	CHECK(epoll_wait(e3, out, 4, 0) == 1 && out[0].events == EPOLLIN && out[0].data.u64 == 7,
	      "/proc/meminfo: always readable");
	CHECK_ERR(epoll_ctl(e3, EPOLL_CTL_ADD, n, &ev), EPERM, "/dev/null: EPERM");
	close(m);
	CHECK(epoll_wait(e3, out, 4, 0) == 0, "/proc/meminfo closed: its item is gone");

	/* An item lasts as long as the open file, not the descriptor. */
	int q[2], d = -1;
	CHECK(pipe(q) == 0 && (d = dup(q[0])) >= 0, "a pipe and a dup of its read end");
	ev.data.u64 = 41;
	CHECK(epoll_ctl(e3, EPOLL_CTL_ADD, q[0], &ev) == 0, "ADD the read end");
	ev.data.u64 = 42;
	CHECK(epoll_ctl(e3, EPOLL_CTL_ADD, d, &ev) == 0, "ADD its dup: another item");
	CHECK(write(q[1], "x", 1) == 1 && epoll_wait(e3, out, 4, 0) == 2, "both report");
	close(q[0]);
	CHECK(epoll_wait(e3, out, 4, 0) == 2, "one descriptor closed: both still report");
	close(d);
	CHECK(epoll_wait(e3, out, 4, 0) == 0, "the file closed: no item left");

	close(f), close(n), close(ep), close(ep2), close(e3);
	close(p[0]), close(p[1]), close(q[1]);
}

static void eventfds(void)
{
	uint64_t v;
	int e = eventfd(3, EFD_NONBLOCK | EFD_CLOEXEC);

	CHECK(e >= 0 && (fcntl(e, F_GETFL) & (O_ACCMODE | O_NONBLOCK)) == (O_RDWR | O_NONBLOCK) &&
	      (fcntl(e, F_GETFD) & FD_CLOEXEC), "eventfd: O_RDWR, EFD_NONBLOCK, EFD_CLOEXEC");
	CHECK(read(e, &v, 8) == 8 && v == 3, "read: the counter");
	CHECK_ERR(read(e, &v, 8), EAGAIN, "read of zero, nonblocking: EAGAIN");
	CHECK_ERR(read(e, &v, 4), EINVAL, "a short read: EINVAL");
	v = 5;
	CHECK(write(e, &v, 8) == 8 && write(e, &v, 8) == 8 && read(e, &v, 8) == 8 && v == 10,
	      "writes add up");
	v = ~0ull;
	CHECK_ERR(write(e, &v, 8), EINVAL, "writing 2^64-1: EINVAL");
	close(e);

	e = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK);
	CHECK(read(e, &v, 8) == 8 && v == 1 && read(e, &v, 8) == 8 && v == 1,
	      "EFD_SEMAPHORE: each read takes 1");
	CHECK_ERR(read(e, &v, 8), EAGAIN, "EFD_SEMAPHORE: then EAGAIN");
	struct pollfd pf = {.fd = e, .events = POLLIN | POLLOUT};
	CHECK(poll(&pf, 1, 0) == 1 && pf.revents == POLLOUT, "poll: writable, not readable");
	v = 1;
	CHECK(write(e, &v, 8) == 8 && poll(&pf, 1, 0) == 1 && pf.revents == (POLLIN | POLLOUT),
	      "poll: readable after a write");
	close(e);
	CHECK_ERR(eventfd(0, 0x4000000), EINVAL, "a bad flag: EINVAL");
}

static void timerfds(void)
{
	struct itimerspec its = {{0, 10000000}, {0, 10000000}}, cur;
	uint64_t n;
	int t = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);

	CHECK(t >= 0, "timerfd_create(CLOCK_MONOTONIC)");
	CHECK(timerfd_settime(t, 0, &its, NULL) == 0, "a 10 ms interval timer");
	CHECK(timerfd_gettime(t, &cur) == 0 && cur.it_interval.tv_nsec == 10000000 &&
	      cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec <= 10000000,
	      "timerfd_gettime: the interval, the time left");
	usleep(55000);
	CHECK(read(t, &n, 8) == 8 && n >= 4 && n <= 20, "read: the expirations (at least 4 in 55 ms)");
	struct itimerspec zero = {{0, 0}, {0, 0}};
	CHECK(timerfd_settime(t, 0, &zero, &cur) == 0 && cur.it_interval.tv_nsec == 10000000,
	      "disarmed: the old value");
	fcntl(t, F_SETFL, O_NONBLOCK);
	CHECK_ERR(read(t, &n, 8), EAGAIN, "disarmed, nonblocking: EAGAIN");

	/* An absolute time on the guest's wall clock. */
	int r = timerfd_create(CLOCK_REALTIME, 0);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	struct itimerspec abs = {{0, 0}, {now.tv_sec, now.tv_nsec}};
	abs.it_value.tv_nsec += 80000000;
	if (abs.it_value.tv_nsec >= 1000000000) {
		abs.it_value.tv_nsec -= 1000000000;
		abs.it_value.tv_sec++;
	}
	int64_t t0 = now_ms(CLOCK_MONOTONIC);
	CHECK(timerfd_settime(r, TFD_TIMER_ABSTIME, &abs, NULL) == 0, "CLOCK_REALTIME, TFD_TIMER_ABSTIME");
	CHECK(timerfd_gettime(r, &cur) == 0 && cur.it_value.tv_sec == 0 &&
	      cur.it_value.tv_nsec > 20000000 && cur.it_value.tv_nsec <= 80000000,
	      "timerfd_gettime: about 80 ms left");
	CHECK(read(r, &n, 8) == 8 && n == 1, "a blocking read: one expiration");
	int64_t took = now_ms(CLOCK_MONOTONIC) - t0;
	CHECK(took >= 60 && took < 2000, "after about 80 ms, on the guest's wall clock");
	close(r);

	CHECK_ERR(timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0), EINVAL, "a bad clock: EINVAL");
	CHECK_ERR(timerfd_create(CLOCK_MONOTONIC, 1), EINVAL, "a bad flag: EINVAL");
	its.it_value.tv_nsec = 1000000000;
	CHECK_ERR(timerfd_settime(t, 0, &its, NULL), EINVAL, "tv_nsec of 1e9: EINVAL");
	CHECK_ERR(timerfd_settime(0, 0, &zero, NULL), EINVAL, "not a timerfd: EINVAL");
	CHECK_ERR(timerfd_settime(t, 8, &zero, NULL), EINVAL, "a bad settime flag: EINVAL");
	close(t);
}

static void epoll_events(void)
{
	int ep = epoll_create1(0), t = timerfd_create(CLOCK_MONOTONIC, 0), e = eventfd(0, 0);
	struct epoll_event ev = {.events = EPOLLIN}, out[4];
	struct itimerspec its = {{0, 0}, {0, 50000000}};

	ev.data.fd = t;
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, t, &ev) == 0, "epoll: a timerfd");
	ev.data.fd = e;
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, e, &ev) == 0, "epoll: an eventfd");
	timerfd_settime(t, 0, &its, NULL);
	int64_t t0 = now_ms(CLOCK_MONOTONIC);
	int r = epoll_wait(ep, out, 4, 5000);
	int64_t took = now_ms(CLOCK_MONOTONIC) - t0;
	CHECK(r == 1 && out[0].data.fd == t && took >= 40 && took < 2000,
	      "epoll_wait blocks until the timer expires");
	uint64_t v = 1;
	write(e, &v, 8);
	CHECK(epoll_wait(ep, out, 4, 0) == 2, "the eventfd too, after a write");
	close(ep), close(t), close(e);
}

static void timeouts(void)
{
	int p[2];
	struct pollfd pf;
	fd_set rd;
	struct timeval tv = {0, 50000};
	int64_t t0;

	pipe(p);
	pf = (struct pollfd){.fd = p[0], .events = POLLIN};
	t0 = now_ms(CLOCK_MONOTONIC);
	CHECK(poll(&pf, 1, 50) == 0 && now_ms(CLOCK_MONOTONIC) - t0 >= 45, "poll: a 50 ms timeout");
	FD_ZERO(&rd);
	FD_SET(p[0], &rd);
	t0 = now_ms(CLOCK_MONOTONIC);
	CHECK(select(p[0] + 1, &rd, NULL, NULL, &tv) == 0 && !FD_ISSET(p[0], &rd) &&
	      now_ms(CLOCK_MONOTONIC) - t0 >= 45, "select: a 50 ms timeout, the set cleared");
	struct timespec ts = {0, 50000000};
	FD_SET(p[0], &rd);
	t0 = now_ms(CLOCK_MONOTONIC);
	CHECK(pselect(p[0] + 1, &rd, NULL, NULL, &ts, NULL) == 0 &&
	      now_ms(CLOCK_MONOTONIC) - t0 >= 45, "pselect: a 50 ms timeout");
	write(p[1], "x", 1);
	FD_SET(p[0], &rd);
	fd_set wr;
	FD_ZERO(&wr);
	FD_SET(p[1], &wr);
	CHECK(select(p[1] + 1, &rd, &wr, NULL, NULL) == 2 && FD_ISSET(p[0], &rd) &&
	      FD_ISSET(p[1], &wr), "select: readable and writable");
	close(p[1]);
	char c;
	read(p[0], &c, 1);
	pf.revents = 0;
	CHECK(poll(&pf, 1, 0) == 1 && pf.revents == POLLHUP, "poll: POLLHUP when the writer is gone");
	close(p[0]);
	pf.fd = p[0];
	CHECK(poll(&pf, 1, 0) == 1 && pf.revents == POLLNVAL, "poll: POLLNVAL for a closed descriptor");
}

static volatile sig_atomic_t caught;

static void on_usr1(int sig)
{
	(void)sig;
	caught++;
}

/* A child that sends SIGUSR1 to its parent after ms milliseconds. */
static pid_t signal_me(int ms)
{
	pid_t parent = getpid(), pid = fork();

	if (pid == 0) {
		usleep(ms * 1000);
		kill(parent, SIGUSR1);
		_exit(0);
	}
	return pid;
}

static void interrupted(void)
{
	struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = SA_RESTART};
	struct epoll_event out[1];
	int p[2], ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN};

	pipe(p);
	epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);

	/* SA_RESTART or not, epoll_wait and poll end with EINTR. */
	caught = 0;
	pid_t c = signal_me(50);
	CHECK_ERR(wait_one(ep, 10000, out), EINTR, "epoll_wait: EINTR, SA_RESTART or not");
	CHECK(caught == 1, "the handler ran");
	waitpid(c, NULL, 0);

	caught = 0;
	c = signal_me(50);
	struct pollfd pf = {.fd = p[0], .events = POLLIN};
	CHECK_ERR(poll(&pf, 1, 10000), EINTR, "poll: EINTR, SA_RESTART or not");
	CHECK(caught == 1, "the handler ran");
	waitpid(c, NULL, 0);

	/* epoll_pwait with SIGUSR1 blocked: the signal waits for the end. */
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	caught = 0;
	c = signal_me(30);
	int64_t t0 = now_ms(CLOCK_MONOTONIC);
	CHECK(epoll_pwait(ep, out, 1, 300, &block) == 0 && now_ms(CLOCK_MONOTONIC) - t0 >= 250,
	      "epoll_pwait, SIGUSR1 blocked: times out");
	CHECK(caught == 1, "the handler ran once the mask was back");
	waitpid(c, NULL, 0);

	/* ppoll with it unblocked while SIGUSR1 is blocked outside. */
	sigprocmask(SIG_BLOCK, &block, NULL);
	caught = 0;
	c = signal_me(30);
	sigset_t none;
	sigemptyset(&none);
	struct timespec ts = {10, 0};
	CHECK_ERR(ppoll(&pf, 1, &ts, &none), EINTR, "ppoll, SIGUSR1 let through: EINTR");
	CHECK(caught == 1, "the handler ran during ppoll");
	sigset_t now;
	sigprocmask(SIG_BLOCK, NULL, &now);
	CHECK(sigismember(&now, SIGUSR1), "the caller's mask again after ppoll");
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	waitpid(c, NULL, 0);
	close(ep), close(p[0]), close(p[1]);
}

/*
 * Whether the kernel has the object fd_or_error made: 0 only for ENOSYS.
 * The guest port's epoll, eventfd and timerfd are the host kernel's, so a
 * kernel built without them (tinyconfig's, as the debug kernel is) gives
 * ENOSYS natively and in the guest alike, and those parts skip.
 */
static int have(int fd_or_error)
{
	if (fd_or_error >= 0) {
		close(fd_or_error);
		return 1;
	}
	return errno != ENOSYS;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	int ep = have(epoll_create1(0)), ev = have(eventfd(0, 0)),
	    tf = have(timerfd_create(CLOCK_MONOTONIC, 0));

	if (ep)
		epoll_pipes();
	else
		SKIP("no epoll in this kernel", "epoll on pipes");
	if (ev)
		eventfds();
	else
		SKIP("no eventfd in this kernel", "eventfd");
	if (tf)
		timerfds();
	else
		SKIP("no timerfd in this kernel", "timerfd");
	if (ep && ev && tf)
		epoll_events();
	else
		SKIP("no epoll, eventfd or timerfd in this kernel", "epoll of a timerfd and an eventfd");
	timeouts();
	if (ep)
		interrupted();
	else
		SKIP("no epoll in this kernel", "signals that end a wait");
	return tap_done();
}
