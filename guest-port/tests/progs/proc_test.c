// SPDX-License-Identifier: GPL-2.0
/*
 * Processes: fork, vfork and clone3 with their own memory, execve,
 * wait4 and waitid (WNOHANG, WNOWAIT, WUNTRACED, WCONTINUED), zombies,
 * reparenting to init, process groups and sessions, kill between
 * processes with default actions and handlers, EINTR and SA_RESTART,
 * pipes across processes (EOF at the last writer's close, EPIPE and
 * SIGPIPE), descriptions shared across fork, O_CLOEXEC at exec, and a
 * fork bomb that ends in EAGAIN at --max-procs.
 *
 *	proc_test MAX_PROCS
 *
 * Runs as the guest's init (pid 1), started with --max-procs=MAX_PROCS.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

static int global = 1;

static void msleep(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The child's wait status, -1 if wait4 failed. */
static int reap(pid_t pid)
{
	int st;

	return wait4(pid, &st, 0, NULL) == pid ? st : -1;
}

static volatile sig_atomic_t handled, handled_pid;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	handled = sig;
	handled_pid = si->si_pid;
}

static void handle(int sig, int flags)
{
	struct sigaction sa = {.sa_sigaction = on_signal, .sa_flags = SA_SIGINFO | flags};

	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static int vm_child(void *arg)
{
	(void)arg;
	global = 5;
	return 7;
}

static void memory(void)
{
	int stack = 1;
	int *heap = malloc(sizeof(*heap));
	*heap = 1;
	int *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	*shared = 1;

	pid_t pid = fork();
	if (pid == 0) {
		int ok = global == 1 && stack == 1 && *heap == 1;
		global = stack = *heap = 2;
		*shared = 2;
		msleep(50);
		/* The parent's writes after fork are not ours. */
		ok = ok && global == 2 && stack == 2 && *heap == 2;
		_exit(ok ? 10 : 11);
	}
	CHECK(pid > 0, "fork: the parent gets the child's pid");
	global = stack = *heap = 3;
	int st = reap(pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 10,
	      "fork: the child has a copy of the memory (global, stack, heap), its own");
	CHECK(global == 3 && stack == 3 && *heap == 3, "fork: the child's writes are not the parent's");
	CHECK(*shared == 2, "fork: MAP_SHARED anonymous memory is shared");

	/* The parent lets go of the shared page; the child still has it. */
	int fds[2];
	pipe(fds);
	pid = fork();
	if (pid == 0) {
		char c;
		read(fds[0], &c, 1);
		*shared = 4;
		_exit(*shared == 4 ? 0 : 1);
	}
	munmap(shared, 4096);
	void *other = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	memset(other, 0x55, 4096);
	write(fds[1], "x", 1);
	st = reap(pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0 && ((unsigned char *)other)[0] == 0x55,
	      "fork: a shared page outlives one holder's munmap, not mixed up with new memory");
	close(fds[0]);
	close(fds[1]);
	free(heap);
}

static void forks(void)
{
	pid_t me = getpid();
	pid_t pid = fork();
	if (pid == 0)
		_exit(getppid() == me ? 7 : 8);
	int st = reap(pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7, "fork: the child's getppid() is the parent");

	pid = vfork();
	if (pid == 0)
		_exit(3);
	st = reap(pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 3, "vfork: _exit status");

	pid = vfork();
	if (pid == 0) {
		execl("/bin/busybox", "true", NULL);
		_exit(99);
	}
	st = reap(pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "vfork then execve");

	struct clone_args ca = {.exit_signal = SIGCHLD};
	pid = syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid == 0)
		_exit(5);
	st = reap(pid);
	CHECK(pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 5, "clone3: a new process");

	/* A child that shares the memory (posix_spawn's CLONE_VM|CLONE_VFORK). */
	static char stack[64 * 1024];
	global = 1;
	pid = clone(vm_child, stack + sizeof(stack), CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);
	st = reap(pid);
	CHECK(pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 7 && global == 5,
	      "clone CLONE_VM|CLONE_VFORK: the child's writes are the parent's");
	char *spawn_argv[] = {"true", NULL};
	int e = posix_spawn(&pid, "/bin/busybox", NULL, NULL, spawn_argv, NULL);
	st = e ? -1 : reap(pid);
	CHECK(e == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "posix_spawn");

	/* CLONE_VFORK|CLONE_PARENT: the child is its grandparent's, but
	 * its exit still lets go of the process that made it.  The middle
	 * process reports to us through its status, or is killed by its
	 * alarm if the vfork never ends. */
	pid_t middle = fork();
	if (middle == 0) {
		alarm(10);
		pid_t c = syscall(SYS_clone, CLONE_VFORK | CLONE_PARENT | SIGCHLD, 0, NULL, NULL, 0);
		if (c == 0)
			_exit(4);
		_exit(c > 0 ? 0 : 1);
	}
	st = reap(middle);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "CLONE_VFORK|CLONE_PARENT: the caller goes on at the child's exit (status %#x)", st);
	/* Ours to reap: CLONE_PARENT made it our child. */
	pid = wait4(-1, &st, 0, NULL);
	CHECK(pid > 0 && pid != middle && WIFEXITED(st) && WEXITSTATUS(st) == 4,
	      "CLONE_VFORK|CLONE_PARENT: the child is its grandparent's to reap");

	CHECK_ERR(execl("/no/such/program", "x", NULL), ENOENT,
		  "execve of a missing program: ENOENT, and the caller goes on");
}

static void waits(void)
{
	CHECK_ERR(wait4(-1, NULL, 0, NULL), ECHILD, "wait4 with no children: ECHILD");
	CHECK_ERR(wait4(-1, NULL, 0x1000, NULL), EINVAL, "wait4 with an unknown option: EINVAL");

	int fds[2];
	pipe(fds);
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		close(fds[1]);
		read(fds[0], &c, 1);
		_exit(4);
	}
	close(fds[0]);
	int st;
	CHECK(wait4(pid, &st, WNOHANG, NULL) == 0, "wait4 WNOHANG on a running child: 0");
	siginfo_t si = {.si_pid = 123};
	CHECK(waitid(P_PID, pid, &si, WEXITED | WNOHANG) == 0 && si.si_pid == 0,
	      "waitid WNOHANG on a running child: si_pid 0");
	CHECK_ERR(waitid(P_PID, pid, &si, WNOHANG), EINVAL, "waitid without WEXITED etc.: EINVAL");
	CHECK_ERR(wait4(getpid(), NULL, 0, NULL), ECHILD, "wait4 for oneself: ECHILD");
	write(fds[1], "x", 1);
	close(fds[1]);

	/* A zombie: seen, kept (WNOWAIT), then reaped. */
	CHECK(waitid(P_PID, pid, &si, WEXITED | WNOWAIT) == 0 && si.si_pid == pid &&
		      si.si_code == CLD_EXITED && si.si_status == 4 && si.si_signo == SIGCHLD,
	      "waitid WNOWAIT: CLD_EXITED, status 4");
	CHECK(kill(pid, 0) == 0, "kill(zombie, 0): it is still there");
	CHECK(reap(pid) == 4 << 8, "wait4 reaps the zombie");
	CHECK_ERR(kill(pid, 0), ESRCH, "kill(reaped, 0): ESRCH");

	/* Process groups: waitid P_PGID. */
	pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		_exit(6);
	}
	setpgid(pid, pid);
	CHECK(waitid(P_PGID, pid, &si, WEXITED) == 0 && si.si_pid == pid && si.si_status == 6,
	      "waitid P_PGID");
}

static void signals(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		kill(getpid(), SIGTERM);
		_exit(0);
	}
	int st = reap(pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM, "SIGTERM's default action ends the child");

	int fds[2];
	pipe(fds);
	pid = fork();
	if (pid == 0) {
		char c;
		read(fds[0], &c, 1);	/* blocks: the parent keeps the write end */
		_exit(0);
	}
	msleep(50);
	kill(pid, SIGKILL);
	st = reap(pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "SIGKILL ends a child blocked in a pipe read");

	pid = fork();
	if (pid == 0) {
		signal(SIGINT, SIG_IGN);
		kill(getpid(), SIGINT);
		_exit(12);
	}
	st = reap(pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 12, "an ignored signal does nothing");

	/* Stop and continue. */
	pid = fork();
	if (pid == 0) {
		for (;;)
			pause();
	}
	kill(pid, SIGSTOP);
	CHECK(waitpid(pid, &st, WUNTRACED) == pid && WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP,
	      "SIGSTOP: WUNTRACED reports the stop");
	kill(pid, SIGCONT);
	CHECK(waitpid(pid, &st, WCONTINUED) == pid && WIFCONTINUED(st),
	      "SIGCONT: WCONTINUED reports it");
	kill(pid, SIGKILL);
	st = reap(pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "then SIGKILL");

	/* SIGCHLD to a handler, while sigsuspend waits. */
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &old);
	handle(SIGCHLD, SA_RESTART);
	handled = 0;
	pid = fork();
	if (pid == 0)
		_exit(0);
	int r = sigsuspend(&old);
	CHECK(r == -1 && errno == EINTR && handled == SIGCHLD && handled_pid == pid,
	      "SIGCHLD at the child's exit: the handler runs (si_pid the child's), sigsuspend EINTR");
	sigprocmask(SIG_SETMASK, &old, NULL);
	signal(SIGCHLD, SIG_DFL);
	reap(pid);

	/* A signal with a handler breaks wait4 (EINTR); SA_RESTART
	 * restarts a pipe read. */
	handle(SIGUSR1, 0);
	handled = 0;
	pid = fork();
	if (pid == 0) {
		/* Until the parent kills it: one signal comes while the
		 * parent is in wait4, however late it gets there, and the
		 * child never ends it. */
		for (;;) {
			kill(getppid(), SIGUSR1);
			msleep(50);
		}
	}
	CHECK_ERR(wait4(pid, &st, 0, NULL), EINTR, "a handler without SA_RESTART: wait4 fails with EINTR");
	CHECK(handled == SIGUSR1, "the handler ran");
	signal(SIGUSR1, SIG_IGN);	/* none breaks the reaping wait4 */
	kill(pid, SIGKILL);
	reap(pid);

	pipe(fds);
	handle(SIGUSR2, SA_RESTART);
	handled = 0;
	pid = fork();
	if (pid == 0) {
		msleep(30);
		kill(getppid(), SIGUSR2);
		msleep(30);
		write(fds[1], "y", 1);
		_exit(0);
	}
	char c = 0;
	CHECK(read(fds[0], &c, 1) == 1 && c == 'y' && handled == SIGUSR2,
	      "a handler with SA_RESTART: the pipe read goes on after it");
	reap(pid);
	close(fds[0]);
	close(fds[1]);

	CHECK_ERR(kill(4000000, SIGTERM), ESRCH, "kill of no process: ESRCH");
	CHECK_ERR(kill(getpid(), 65), EINVAL, "kill with signal 65: EINVAL");

	/* kill(-pgid) reaches the whole group. */
	pid_t a = fork();
	if (a == 0) {
		setpgid(0, 0);
		for (;;)
			pause();
	}
	setpgid(a, a);
	pid_t b = fork();
	if (b == 0) {
		setpgid(0, a);
		for (;;)
			pause();
	}
	setpgid(b, a);
	CHECK(getpgid(b) == a, "setpgid: into another process's group");
	CHECK(kill(-a, SIGTERM) == 0, "kill(-pgid)");
	int sa = reap(a), sb = reap(b);
	CHECK(WIFSIGNALED(sa) && WIFSIGNALED(sb), "kill(-pgid) ends both members");
}

static void groups(void)
{
	CHECK(getpgid(0) == getpgrp() && getsid(0) > 0, "getpgid(0), getpgrp, getsid(0)");
	CHECK_ERR(getpgid(4000000), ESRCH, "getpgid of no process: ESRCH");
	CHECK_ERR(setpgid(1234567, 0), ESRCH, "setpgid of a non-child: ESRCH");
	if (getpid() == getpgrp())
		CHECK_ERR(setsid(), EPERM, "setsid by a group leader: EPERM");
	pid_t pid = fork();
	if (pid == 0) {
		pid_t s = setsid();
		_exit(s == getpid() && getsid(0) == s && getpgid(0) == s ? 0 : 1);
	}
	CHECK(reap(pid) == 0, "setsid in a child: a new session and group");

	/* Reparenting: the child's child outlives it and goes to init. */
	int fds[2];
	pipe(fds);
	pid = fork();
	if (pid == 0) {
		pid_t parent = getpid();
		if (fork() == 0) {
			for (int i = 0; i < 200 && getppid() == parent; i++)
				msleep(5);
			pid_t now = getppid();
			write(fds[1], &now, sizeof(now));
			_exit(0);
		}
		_exit(0);
	}
	close(fds[1]);
	reap(pid);
	pid_t ppid = 0;
	CHECK(read(fds[0], &ppid, sizeof(ppid)) == sizeof(ppid) && ppid == 1,
	      "an orphan goes to init (getppid() 1)");
	close(fds[0]);
	if (getpid() == 1) {
		int st;
		pid_t g = wait4(-1, &st, 0, NULL);
		CHECK(g > 0 && WIFEXITED(st), "init reaps the orphan");

		/* Init takes no default action for another process's signal. */
		pid = fork();
		if (pid == 0) {
			kill(1, SIGSTOP);
			kill(1, SIGTERM);
			kill(1, SIGKILL);
			_exit(0);
		}
		CHECK(reap(pid) == 0, "init is not stopped or ended by a child's SIGSTOP, SIGTERM, SIGKILL");
	}
}

static void pipes(void)
{
	int fds[2];
	pipe(fds);
	pid_t w1 = fork();
	if (w1 == 0) {
		close(fds[0]);
		write(fds[1], "hello", 5);
		_exit(0);
	}
	pid_t w2 = fork();
	if (w2 == 0) {
		/* Holds the write end until killed. */
		close(fds[0]);
		for (;;)
			pause();
	}
	close(fds[1]);
	char buf[16];
	CHECK(read(fds[0], buf, sizeof(buf)) == 5 && !memcmp(buf, "hello", 5),
	      "a pipe between processes");
	struct pollfd p = {fds[0], POLLIN, 0};
	reap(w1);
	CHECK(poll(&p, 1, 50) == 0, "no EOF while another process holds the write end");
	kill(w2, SIGKILL);
	reap(w2);
	CHECK(read(fds[0], buf, sizeof(buf)) == 0, "EOF when the last writer is gone");
	close(fds[0]);

	pipe(fds);
	close(fds[0]);
	pid_t pid = fork();
	if (pid == 0) {
		write(fds[1], "x", 1);
		_exit(0);
	}
	int st = reap(pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE, "a write to a pipe with no reader: SIGPIPE");
	signal(SIGPIPE, SIG_IGN);
	CHECK_ERR(write(fds[1], "x", 1), EPIPE, "with SIGPIPE ignored: EPIPE");
	signal(SIGPIPE, SIG_DFL);
	close(fds[1]);

	/* One open file description, two processes: one offset. */
	int fd = open("/bin/busybox", O_RDONLY);
	pid = fork();
	if (pid == 0) {
		lseek(fd, 100, SEEK_SET);
		_exit(0);
	}
	reap(pid);
	CHECK(lseek(fd, 0, SEEK_CUR) == 100, "the file offset is shared across fork");

	/* O_CLOEXEC at exec. */
	dup2(fd, 20);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	dup3(fd, 21, O_CLOEXEC);
	pid = fork();
	if (pid == 0) {
		execl("/bin/busybox", "sh", "-c", "[ -e /proc/self/fd/20 ] && [ ! -e /proc/self/fd/21 ]",
		      NULL);
		_exit(99);
	}
	CHECK(reap(pid) == 0, "O_CLOEXEC descriptors close at exec, others stay");
	close(20);
	close(21);
	close(fd);
}

static void fork_bomb(int max_procs)
{
	pid_t kids[4096];
	int n = 0, err = 0;

	for (;;) {
		pid_t pid = fork();
		if (pid == 0) {
			for (;;)
				pause();
		}
		if (pid < 0) {
			err = errno;
			break;
		}
		if (n == (int)(sizeof(kids) / sizeof(kids[0])))
			break;
		kids[n++] = pid;
	}
	CHECK(err == EAGAIN, "a fork bomb ends in EAGAIN (errno %d)", err);
	CHECK(n == max_procs - 1, "at --max-procs=%d: %d children and us (%d forked)",
	      max_procs, max_procs - 1, n);
	for (int i = 0; i < n; i++)
		kill(kids[i], SIGKILL);
	int reaped = 0;
	for (int i = 0; i < n; i++)
		reaped += reap(kids[i]) == SIGKILL;
	CHECK(reaped == n, "all reaped");
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	CHECK(pid > 0 && reap(pid) == 0, "fork works again once they are gone");
}

int main(int argc, char **argv)
{
	int max_procs = argc > 1 ? atoi(argv[1]) : 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	memory();
	forks();
	waits();
	signals();
	groups();
	pipes();
	if (max_procs > 1)
		fork_bomb(max_procs);
	else
		SKIP("no MAX_PROCS given", "fork bomb");
	return tap_done();
}
