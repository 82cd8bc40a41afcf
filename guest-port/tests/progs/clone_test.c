// SPDX-License-Identifier: GPL-2.0
/*
 * Children and threads that end at once, before their creator is back
 * from fork() or pthread_create(): a child nobody waits for (SIGCHLD
 * ignored), one another thread reaps, and a thread that returns at
 * once.  Each result holds on Linux: progs-check runs the program
 * natively too.  tests/clone-race-check runs it with the creator's host
 * thread held right after it starts its new one, where unpriv-run once
 * aborted (std::terminate: the child's host thread was left in a
 * process already released).
 *
 *	clone_test
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

#define ROUNDS 2

static atomic_int reaped;

static void *reap_one(void *arg)
{
	(void)arg;
	int st;
	pid_t pid;
	/* Until the child is there: waiting, then, when it ends. */
	while ((pid = waitpid(-1, &st, 0)) < 0 && errno == ECHILD)
		sched_yield();
	atomic_store(&reaped, pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 7 ? pid : -1);
	return NULL;
}

static void *nothing(void *arg)
{
	return arg;
}

int main(void)
{
	int st;

	/* Nobody waits: no zombie, and the fork returns the child's pid. */
	signal(SIGCHLD, SIG_IGN);
	int forked = 0;
	for (int i = 0; i < ROUNDS; i++) {
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		forked += pid > 0;
	}
	CHECK(forked == ROUNDS, "SIGCHLD ignored: %d children that exit at once forked", ROUNDS);
	CHECK_ERR(waitpid(-1, &st, 0), ECHILD, "SIGCHLD ignored: no zombie to wait for");
	signal(SIGCHLD, SIG_DFL);

	/* Another thread reaps the child, maybe before fork() returns. */
	int ok = 0;
	for (int i = 0; i < ROUNDS; i++) {
		pthread_t th;
		atomic_store(&reaped, 0);
		if (pthread_create(&th, NULL, reap_one, NULL))
			break;
		pid_t pid = fork();
		if (pid == 0)
			_exit(7);
		pthread_join(th, NULL);
		ok += pid > 0 && atomic_load(&reaped) == pid;
	}
	CHECK(ok == ROUNDS, "a child another thread reaps: its pid and status (%d of %d)", ok,
	      ROUNDS);

	/* Threads that end at once, joined. */
	ok = 0;
	for (int i = 0; i < ROUNDS; i++) {
		pthread_t th;
		void *ret = NULL;
		if (pthread_create(&th, NULL, nothing, &ok) == 0 && pthread_join(th, &ret) == 0 &&
		    ret == &ok)
			ok++;
	}
	CHECK(ok == ROUNDS, "threads that return at once: joined, their value (%d of %d)", ok,
	      ROUNDS);
	return tap_done();
}
