// SPDX-License-Identifier: GPL-2.0
/*
 * unpriv-stress --exec-failing PROG [ARG...]: run PROG with its
 * /proc/<pid>/make-it-fail set from its first instruction on, and not
 * before.  Fault injection into a whole program would otherwise fail
 * its exec too, and an exec that fails past its point of no return ends
 * in SIGSEGV, by design: nothing of the program would run.  The child
 * stops at its exec under ptrace, gets make-it-fail, and is let go.
 *
 * PROG's processes are all waited for, not only PROG: a test that fails
 * an assertion under an injected failure (the kselftest harness then
 * abort()s the test's process) leaves behind what it forked, a child
 * spinning in guest mode or stopped under ptrace, holding the module's
 * files; and a harness that dies leaves its test's process.  Such
 * orphans come to us (a child subreaper), and whatever of PROG's is
 * still there LINGER_MS after PROG ended is named on stderr
 * ("unpriv-stress: lingered: ..."), killed and waited for.  A process
 * that SIGKILL does not end within KILL_MS is named too
 * ("unpriv-stress: unkillable: ...") and makes the exit status 125.
 *
 * Exits with PROG's status, 128 + the signal when a signal ended it.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include "stress.h"

#define LINGER_MS	5000	/* how long PROG's processes may outlive it */
#define KILL_MS		30000	/* how long SIGKILL may take */
#define MAX_PROCS	4096

struct proc {
	pid_t pid, ppid;
	char state;
	char comm[32];
};

static int status_of(int st)
{
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}

static long ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* pid's line of /proc/pid/stat: "pid (comm) state ppid ..." */
static int proc_read(pid_t pid, struct proc *p)
{
	char path[64], buf[512], *lp, *rp;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	lp = strchr(buf, '(');
	rp = strrchr(buf, ')');
	if (!lp || !rp || rp < lp ||
	    sscanf(rp + 1, " %c %d", &p->state, &p->ppid) != 2)
		return -1;
	*rp = 0;
	snprintf(p->comm, sizeof(p->comm), "%.31s", lp + 1);
	p->pid = pid;
	return 0;
}

/*
 * Our descendants that have not exited (zombies hold nothing and go
 * when their parent, or we, reap them), into out[]; returns how many.
 */
static int descendants(struct proc *out, int max)
{
	static struct proc all[MAX_PROCS];
	static char mine[MAX_PROCS];
	pid_t self = getpid();
	struct dirent *e;
	int n = 0, found = 0, i, j, more;
	DIR *d = opendir("/proc");

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < MAX_PROCS) {
		pid_t pid = (pid_t)strtol(e->d_name, NULL, 10);

		if (pid > 0 && !proc_read(pid, &all[n]))
			n++;
	}
	closedir(d);
	memset(mine, 0, sizeof(mine));
	do {
		more = 0;
		for (i = 0; i < n; i++) {
			if (mine[i])
				continue;
			if (all[i].ppid == self)
				mine[i] = more = 1;
			for (j = 0; j < n && !mine[i]; j++)
				if (mine[j] && all[j].pid == all[i].ppid)
					mine[i] = more = 1;
		}
	} while (more);
	for (i = 0; i < n; i++)
		if (mine[i] && all[i].state != 'Z' && all[i].state != 'X' && found < max)
			out[found++] = all[i];
	return found;
}

/* How many of pid's fds are the module's: /dev/unpriv and its objects. */
static int unpriv_fds(pid_t pid)
{
	char path[64], link[128];
	struct dirent *e;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		ssize_t len = readlinkat(dirfd(d), e->d_name, link, sizeof(link) - 1);

		if (len <= 0)
			continue;
		link[len] = 0;
		if (!strcmp(link, "/dev/unpriv") || !strncmp(link, "anon_inode:[unpriv-", 19))
			n++;
	}
	closedir(d);
	return n;
}

static void reap(void)
{
	int st;

	while (waitpid(-1, &st, WNOHANG | __WALL) > 0)
		;
}

/*
 * Wait until none of our descendants is left, up to ms; returns how
 * many are, listed in out[].
 */
static int wait_descendants(struct proc *out, int max, long ms)
{
	long end = ms_now() + ms;
	int n;

	for (;;) {
		reap();
		n = descendants(out, max);
		if (!n || ms_now() >= end)
			return n;
		usleep(50000);
	}
}

/*
 * After prog ended: what it left running is named and killed.  Returns
 * 0, or -1 when something would not die.
 */
static int end_leftovers(const char *prog)
{
	static struct proc left[256];
	const char *name = strrchr(prog, '/') ? strrchr(prog, '/') + 1 : prog;
	int n, i;

	n = wait_descendants(left, 256, LINGER_MS);
	for (i = 0; i < n; i++) {
		fprintf(stderr, "unpriv-stress: lingered: %s left pid %d (%s), state %c, "
			"%d unpriv files open, %d s after it ended: killed\n",
			name, left[i].pid, left[i].comm, left[i].state,
			unpriv_fds(left[i].pid), LINGER_MS / 1000);
		kill(left[i].pid, SIGKILL);
	}
	if (!n)
		return 0;
	n = wait_descendants(left, 256, KILL_MS);
	for (i = 0; i < n; i++)
		fprintf(stderr, "unpriv-stress: unkillable: %s left pid %d (%s), state %c, "
			"%d unpriv files open, alive %d s after SIGKILL\n",
			name, left[i].pid, left[i].comm, left[i].state,
			unpriv_fds(left[i].pid), KILL_MS / 1000);
	return n ? -1 : 0;
}

int exec_failing(char **argv)
{
	char path[64];
	pid_t pid;
	int st, fd, status;

	/* PROG's orphans, grandchildren of ours, are reparented to us. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) {
		perror("unpriv-stress: PR_SET_CHILD_SUBREAPER");
		return 126;
	}
	pid = fork();
	if (pid < 0) {
		perror("unpriv-stress: fork");
		return 126;
	}
	if (pid == 0) {
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL))
			_exit(126);
		execv(argv[0], argv);
		fprintf(stderr, "unpriv-stress: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	/* stopped with SIGTRAP after its exec, or ended before it */
	if (waitpid(pid, &st, 0) != pid)
		return 126;
	if (!WIFSTOPPED(st))
		return status_of(st);

	snprintf(path, sizeof(path), "/proc/%d/make-it-fail", pid);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "1", 1) != 1) {
		fprintf(stderr, "unpriv-stress: %s: %s\n", path, strerror(errno));
		kill(pid, SIGKILL);
	}
	if (fd >= 0)
		close(fd);
	if (ptrace(PTRACE_DETACH, pid, NULL, NULL))
		kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) != pid)
		if (errno != EINTR)
			return 126;
	status = status_of(st);
	if (end_leftovers(argv[0]))
		return 125;
	return status;
}
