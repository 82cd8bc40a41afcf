// SPDX-License-Identifier: GPL-2.0
/*
 * unpriv-stress --exec-failing PROG [ARG...]: run PROG with its
 * /proc/<pid>/make-it-fail set from its first instruction on, and not
 * before.  Fault injection into a whole program would otherwise fail
 * its exec too, and an exec that fails past its point of no return ends
 * in SIGSEGV, by design: nothing of the program would run.  The child
 * stops at its exec under ptrace, gets make-it-fail, and is let go.
 * Exits with PROG's status, 128 + the signal when a signal ended it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include "stress.h"

static int status_of(int st)
{
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}

int exec_failing(char **argv)
{
	char path[64];
	pid_t pid;
	int st, fd;

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
	return status_of(st);
}
