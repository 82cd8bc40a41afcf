// SPDX-License-Identifier: GPL-2.0
/*
 * What clone(2) shares and unshare(2) unshares: the descriptor table
 * (CLONE_FILES), the current directory and umask (CLONE_FS), the signal
 * dispositions (CLONE_SIGHAND with CLONE_VM), each shared with the flag
 * and copied without; the combinations Linux refuses; unshare of a
 * table shared with another process and with another thread; execve
 * with a shared table (the execing process gets its own: close-on-exec
 * closes only there) and with shared dispositions (the other keeps its
 * handlers).  Each check holds natively too.
 *
 *	share_test DIR		all of that, in a directory of its own
 *				made in DIR
 *	share_test namespaces	unshare's namespaces, refused as to an
 *				unprivileged process in a chroot (the
 *				guest port's; not run natively)
 *	share_test exec-files A B, share_test exec-sighand
 *				the programs the exec checks run
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

static char *self;	/* argv[0], for the exec checks */
static char stack[256 * 1024] __attribute__((aligned(16)));

static int is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* clone(fn) with flags and SIGCHLD; its exit status (-1 failed). */
static int run_clone(int (*fn)(void *), void *arg, int flags)
{
	int status;
	pid_t pid = clone(fn, stack + sizeof(stack), flags | SIGCHLD, arg);

	if (pid < 0)
		return -1;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* --- CLONE_FILES --------------------------------------------------------- */

struct files_arg {
	int to_close;
	int opened;	/* the child's new descriptor (CLONE_VM: seen by the parent) */
};

static int files_child(void *p)
{
	struct files_arg *a = p;

	a->opened = open("/dev/null", O_RDONLY);
	close(a->to_close);
	return a->opened >= 0 ? 0 : 1;
}

static void clone_files(void)
{
	struct files_arg a = {.to_close = open("/dev/null", O_RDONLY), .opened = -1};

	CHECK(run_clone(files_child, &a, CLONE_VM | CLONE_FILES) == 0,
	      "CLONE_FILES: the child opens and closes");
	CHECK(a.opened >= 0 && is_open(a.opened),
	      "CLONE_FILES: what the child opened is open in the parent");
	CHECK(!is_open(a.to_close), "CLONE_FILES: what the child closed is closed in the parent");
	close(a.opened);

	a.to_close = open("/dev/null", O_RDONLY);
	a.opened = -1;
	CHECK(run_clone(files_child, &a, CLONE_VM) == 0, "without CLONE_FILES: the child opens and closes");
	CHECK(a.opened >= 0 && !is_open(a.opened),
	      "without CLONE_FILES: what the child opened is not open in the parent");
	CHECK(is_open(a.to_close), "without CLONE_FILES: what the child closed stays open in the parent");
	close(a.to_close);
}

/* The child unshares the table it shares, then closes: not the parent's. */
static int unshare_child(void *p)
{
	int fd = *(int *)p;

	if (unshare(CLONE_FILES) < 0)
		return 1;
	if (close(fd) < 0)
		return 2;
	return open("/dev/null", O_RDONLY) == fd ? 0 : 3;
}

static void unshare_files(void)
{
	int fd = open("/dev/null", O_RDONLY);

	CHECK(run_clone(unshare_child, &fd, CLONE_FILES) == 0,
	      "unshare(CLONE_FILES) in a CLONE_FILES child, then close");
	CHECK(is_open(fd), "unshare(CLONE_FILES): the child's close leaves the parent's open");
	close(fd);
}

/* A thread's unshare(CLONE_FILES) is its own: its process's other threads keep theirs. */
static int thread_pipe[2], thread_fd;

static void *files_thread(void *p)
{
	char c;

	(void)p;
	if (read(thread_pipe[0], &c, 1) != 1)
		return (void *)1;
	return (void *)(intptr_t)(is_open(thread_fd) ? 0 : 2);
}

static void unshare_in_thread(void)
{
	pthread_t th;
	void *ret = (void *)1;

	thread_fd = open("/dev/null", O_RDONLY);
	if (pipe(thread_pipe) < 0 || pthread_create(&th, NULL, files_thread, NULL)) {
		CHECK(0, "a thread for unshare");
		return;
	}
	CHECK_ERR(unshare(CLONE_SIGHAND), EINVAL, "unshare(CLONE_SIGHAND) with two threads: EINVAL");
	CHECK_ERR(unshare(CLONE_VM), EINVAL, "unshare(CLONE_VM) with two threads: EINVAL");
	CHECK_ERR(unshare(CLONE_THREAD), EINVAL, "unshare(CLONE_THREAD) with two threads: EINVAL");
	CHECK(unshare(CLONE_FILES) == 0, "unshare(CLONE_FILES) with two threads");
	CHECK(close(thread_fd) == 0, "close in the thread that unshared");
	(void)!write(thread_pipe[1], "x", 1);
	pthread_join(th, &ret);
	CHECK(ret == NULL, "the other thread's descriptor stays open");
	close(thread_pipe[0]);
	close(thread_pipe[1]);
}

/* --- CLONE_FS ------------------------------------------------------------ */

static int fs_child(void *p)
{
	(void)p;
	umask(077);
	return chdir("sub") == 0 ? 0 : 1;
}

static int ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);

	return n >= m && !strcmp(s + n - m, tail);
}

static void clone_fs(void)
{
	char cwd[4096];
	mode_t old;

	umask(022);
	CHECK(run_clone(fs_child, NULL, CLONE_FS) == 0, "CLONE_FS: the child's chdir and umask");
	CHECK(getcwd(cwd, sizeof(cwd)) && ends_with(cwd, "/sub"),
	      "CLONE_FS: the parent is in the child's directory");
	old = umask(022);
	CHECK(old == 077, "CLONE_FS: the parent has the child's umask (%03o)", old);
	CHECK(chdir("..") == 0, "back up");

	CHECK(run_clone(fs_child, NULL, 0) == 0, "without CLONE_FS: the child's chdir and umask");
	CHECK(getcwd(cwd, sizeof(cwd)) && !ends_with(cwd, "/sub"),
	      "without CLONE_FS: the parent stays where it was");
	old = umask(022);
	CHECK(old == 022, "without CLONE_FS: the parent keeps its umask (%03o)", old);

	CHECK(unshare(CLONE_FS) == 0, "unshare(CLONE_FS), not shared");
}

/* --- CLONE_SIGHAND ------------------------------------------------------- */

static void handler(int signo)
{
	(void)signo;
}

static int sighand_child(void *p)
{
	struct sigaction sa = {.sa_handler = handler};

	(void)p;
	return sigaction(SIGUSR1, &sa, NULL) == 0 ? 0 : 1;
}

static void (*disposition(int signo))(int)
{
	struct sigaction sa;

	sigaction(signo, NULL, &sa);
	return sa.sa_handler;
}

static int sighand_wait_child(void *p)
{
	volatile int *go = p;

	while (!*go)
		usleep(1000);
	return disposition(SIGUSR2) == handler ? 0 : 1;
}

static void clone_sighand(void)
{
	struct sigaction sa = {.sa_handler = handler};
	volatile int go = 0;
	pid_t pid;
	int status;

	signal(SIGUSR1, SIG_DFL);
	CHECK(run_clone(sighand_child, NULL, CLONE_VM | CLONE_SIGHAND) == 0,
	      "CLONE_SIGHAND: the child sets a handler");
	CHECK(disposition(SIGUSR1) == handler, "CLONE_SIGHAND: the parent has the child's handler");

	signal(SIGUSR1, SIG_DFL);
	CHECK(run_clone(sighand_child, NULL, CLONE_VM) == 0,
	      "without CLONE_SIGHAND: the child sets a handler");
	CHECK(disposition(SIGUSR1) == SIG_DFL, "without CLONE_SIGHAND: the parent's stays SIG_DFL");

	/* The other way, and unshare while it is shared. */
	signal(SIGUSR2, SIG_DFL);
	pid = clone(sighand_wait_child, stack + sizeof(stack), CLONE_VM | CLONE_SIGHAND | SIGCHLD,
		    (void *)&go);
	CHECK(pid > 0, "CLONE_SIGHAND: a child that waits");
	CHECK_ERR(unshare(CLONE_SIGHAND), EINVAL, "unshare(CLONE_SIGHAND) while shared: EINVAL");
	CHECK_ERR(unshare(CLONE_VM), EINVAL, "unshare(CLONE_VM) while shared: EINVAL");
	sigaction(SIGUSR2, &sa, NULL);
	go = 1;
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	      WEXITSTATUS(status) == 0, "CLONE_SIGHAND: the child has the parent's new handler");
	signal(SIGUSR2, SIG_DFL);
	CHECK(unshare(CLONE_SIGHAND | CLONE_VM | CLONE_THREAD) == 0,
	      "unshare(CLONE_SIGHAND|CLONE_VM|CLONE_THREAD), one thread, not shared");
}

/* --- what Linux refuses -------------------------------------------------- */

static long raw_clone(unsigned long flags)
{
	long r = syscall(SYS_clone, flags, 0, 0, 0, 0);

	if (r == 0)
		syscall(SYS_exit, 99);	/* made when it should not be */
	return r;
}

static void refused(void)
{
	CHECK_ERR(raw_clone(CLONE_SIGHAND | SIGCHLD), EINVAL, "clone(CLONE_SIGHAND) without CLONE_VM: EINVAL");
	CHECK_ERR(raw_clone(CLONE_THREAD | CLONE_VM), EINVAL,
		  "clone(CLONE_THREAD) without CLONE_SIGHAND: EINVAL");
	CHECK_ERR(raw_clone(CLONE_THREAD | CLONE_SIGHAND | CLONE_FS), EINVAL,
		  "clone(CLONE_THREAD|CLONE_SIGHAND) without CLONE_VM: EINVAL");
	CHECK_ERR(raw_clone(CLONE_FS | CLONE_NEWNS | SIGCHLD), EINVAL,
		  "clone(CLONE_FS|CLONE_NEWNS): EINVAL");
	CHECK_ERR(raw_clone(CLONE_FS | CLONE_NEWUSER | SIGCHLD), EINVAL,
		  "clone(CLONE_FS|CLONE_NEWUSER): EINVAL");
	CHECK_ERR(syscall(SYS_unshare, 0x40000000000ul), EINVAL, "unshare of an unknown flag: EINVAL");
	CHECK_ERR(unshare(CLONE_VFORK), EINVAL, "unshare(CLONE_VFORK): EINVAL");
	CHECK_ERR(unshare(CLONE_SETTLS), EINVAL, "unshare(CLONE_SETTLS): EINVAL");
	CHECK(unshare(0) == 0, "unshare(0)");
}

/* --- execve -------------------------------------------------------------- */

static void exec_files(void)
{
	int a = open("/dev/null", O_RDONLY | O_CLOEXEC), b = open("/dev/null", O_RDONLY);
	char sa[16], sb[16];
	int status = -1;
	pid_t pid;

	snprintf(sa, sizeof(sa), "%d", a);
	snprintf(sb, sizeof(sb), "%d", b);
	pid = syscall(SYS_clone, CLONE_FILES | SIGCHLD, 0, 0, 0, 0);
	if (pid == 0) {
		execl(self, self, "exec-files", sa, sb, (char *)NULL);
		_exit(100);
	}
	if (pid > 0 && waitpid(pid, &status, 0) != pid)
		status = -1;
	CHECK(pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "exec with a shared table: O_CLOEXEC closed, the rest open, in the new program (%#x)",
	      status);
	CHECK(is_open(a), "exec with a shared table: the other's O_CLOEXEC descriptor stays open");
	CHECK(is_open(b), "exec with a shared table: the new program's close leaves the other's open");
	close(a);
	close(b);
}

static int exec_files_child(int a, int b)
{
	if (is_open(a))
		return 1;
	if (!is_open(b))
		return 2;
	return close(b) == 0 ? 0 : 3;
}

static int exec_sighand_child(void *p)
{
	(void)p;
	execl(self, self, "exec-sighand", (char *)NULL);
	return 100;
}

static void exec_sighand(void)
{
	struct sigaction sa = {.sa_handler = handler};

	sigaction(SIGUSR1, &sa, NULL);
	CHECK(run_clone(exec_sighand_child, NULL, CLONE_VM | CLONE_SIGHAND | CLONE_VFORK) == 0,
	      "exec with shared dispositions: the new program's handler is SIG_DFL");
	CHECK(disposition(SIGUSR1) == handler, "exec with shared dispositions: the other keeps its handler");
	signal(SIGUSR1, SIG_DFL);
}

/* --- namespaces ---------------------------------------------------------- */

static void *idle_thread(void *p)
{
	char c;

	return (void *)(intptr_t)read(*(int *)p, &c, 1);
}

static void namespaces(void)
{
	pthread_t th;
	int fds[2];

	CHECK_ERR(unshare(CLONE_NEWNS), EPERM, "unshare(CLONE_NEWNS): EPERM");
	CHECK_ERR(unshare(CLONE_NEWUTS), EPERM, "unshare(CLONE_NEWUTS): EPERM");
	CHECK_ERR(unshare(CLONE_NEWNET), EPERM, "unshare(CLONE_NEWNET): EPERM");
	CHECK_ERR(unshare(CLONE_NEWPID), EPERM, "unshare(CLONE_NEWPID): EPERM");
	CHECK_ERR(unshare(CLONE_NEWUSER), EPERM, "unshare(CLONE_NEWUSER) in a chroot: EPERM");
	CHECK_ERR(unshare(CLONE_NEWUSER | CLONE_FILES), EPERM,
		  "unshare(CLONE_NEWUSER|CLONE_FILES): EPERM");
	/* A user namespace implies CLONE_THREAD: two threads are EINVAL first. */
	if (pipe(fds) < 0 || pthread_create(&th, NULL, idle_thread, &fds[0])) {
		CHECK(0, "a second thread");
		return;
	}
	CHECK_ERR(unshare(CLONE_NEWUSER), EINVAL, "unshare(CLONE_NEWUSER) with two threads: EINVAL");
	(void)!write(fds[1], "x", 1);
	pthread_join(th, NULL);
}

int main(int argc, char **argv)
{
	static char exe[4096];
	char dir[4096];

	/* The exec checks run it again from their own directory. */
	self = argv[0];
	if (self[0] != '/' && getcwd(exe, sizeof(exe)) &&
	    strlen(exe) + strlen(self) + 2 <= sizeof(exe)) {
		strcat(exe, "/");
		strcat(exe, self);
		self = exe;
	}
	if (argc == 4 && !strcmp(argv[1], "exec-files"))
		return exec_files_child(atoi(argv[2]), atoi(argv[3]));
	if (argc == 2 && !strcmp(argv[1], "exec-sighand"))
		return disposition(SIGUSR1) == SIG_DFL ? 0 : 1;
	if (argc == 2 && !strcmp(argv[1], "namespaces")) {
		namespaces();
		return tap_done();
	}
	if (argc != 2) {
		fprintf(stderr, "usage: share_test DIR | namespaces\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s/share_test.%d", argv[1], (int)getpid());
	if (mkdir(dir, 0755) < 0 || chdir(dir) < 0 || mkdir("sub", 0755) < 0) {
		CHECK(0, "a directory of its own");
		return tap_done();
	}
	clone_files();
	unshare_files();
	unshare_in_thread();
	clone_fs();
	clone_sighand();
	refused();
	exec_files();
	exec_sighand();
	rmdir("sub");
	if (chdir("..") == 0)
		rmdir(dir);
	return tap_done();
}
