// SPDX-License-Identifier: GPL-2.0
/*
 * Virtual CPUs (unpriv-run --cpus): progs-check runs this with --cpus=1,
 * and natively, where it must print the same.
 *
 * - Two threads that spin without a system call both make progress:
 *   each spins until it has seen the other's counter move several times,
 *   which on one CPU happens only if the one running is preempted at the
 *   end of its time slice.  Two processes the same, on shared memory.
 * - A thread blocked in read() holds no CPU: a spinner runs meanwhile,
 *   and then wakes it with a write.  Likewise a thread asleep in
 *   nanosleep() and one waiting in wait4().
 *
 * Without preemption, or with a CPU held while blocked, a spinner would
 * spin for ever: an alarm ends the test as a failure instead.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

/* How often each spinner must see the other's counter move. */
#define CHANGES 5

struct pair {
	atomic_ulong counter[2];
	atomic_int done[2];
};

static void timed_out(int sig)
{
	static const char msg[] = "not ok - timed out: a spinner never gave up its CPU\n"
				  "# Totals: pass:0 fail:1 xfail:0 xpass:0 skip:0 error:0\n";
	(void)sig;
	(void)!write(STDOUT_FILENO, msg, sizeof(msg) - 1);
	_exit(1);
}

/* Spin, counting, until this side and the other have each seen the other
 * move CHANGES times: no system call on the way. */
static void spin(struct pair *p, int me)
{
	int other = !me, changes = 0;
	unsigned long last = atomic_load_explicit(&p->counter[other], memory_order_relaxed);

	while (!atomic_load(&p->done[0]) || !atomic_load(&p->done[1])) {
		atomic_fetch_add_explicit(&p->counter[me], 1, memory_order_relaxed);
		unsigned long now = atomic_load_explicit(&p->counter[other], memory_order_relaxed);
		if (now != last) {
			last = now;
			if (++changes == CHANGES)
				atomic_store(&p->done[me], 1);
		}
	}
}

static struct pair threads_pair;

static void *spin_thread(void *arg)
{
	spin(&threads_pair, (int)(intptr_t)arg);
	return NULL;
}

static void two_threads(void)
{
	pthread_t th;

	CHECK(pthread_create(&th, NULL, spin_thread, (void *)1) == 0, "a second thread starts");
	spin(&threads_pair, 0);
	CHECK(pthread_join(th, NULL) == 0, "two spinning threads both ran");
}

static void two_processes(void)
{
	struct pair *p = mmap(NULL, sizeof(*p), PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t pid[2];
	int ok = 1;

	if (p == MAP_FAILED) {
		CHECK(0, "shared memory for two processes");
		return;
	}
	for (int i = 0; i < 2; i++) {
		pid[i] = fork();
		if (pid[i] == 0) {
			spin(p, i);
			_exit(0);
		}
		if (pid[i] < 0)
			ok = 0;
	}
	/* The parent waits in wait4(), on no CPU of the guest's. */
	for (int i = 0; i < 2; i++) {
		int status;
		if (pid[i] > 0 && (waitpid(pid[i], &status, 0) != pid[i] || status != 0))
			ok = 0;
	}
	CHECK(ok, "two spinning processes both ran, their parent waiting");
	munmap(p, sizeof(*p));
}

static int pipefd[2];
static atomic_int reader_started;

static void *reader(void *arg)
{
	char c = 0;

	(void)arg;
	atomic_store(&reader_started, 1);
	if (read(pipefd[0], &c, 1) != 1)
		c = 0;
	return (void *)(intptr_t)c;
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Spin for ms milliseconds (clock_gettime is the vDSO's: no exit). */
static void spin_for(int ms)
{
	long long end = now_ns() + ms * 1000000LL;

	while (now_ns() < end)
		;
}

static void blocked_reader(void)
{
	pthread_t th;
	void *r = NULL;

	if (pipe(pipefd) != 0) {
		CHECK(0, "a pipe");
		return;
	}
	CHECK(pthread_create(&th, NULL, reader, NULL) == 0, "a reader starts");
	while (!atomic_load(&reader_started))
		;
	/* The reader is in read(), or about to be: spin a while, which on
	 * one CPU only this thread can do if the reader holds none. */
	spin_for(50);
	CHECK(write(pipefd[1], "x", 1) == 1, "a spinner ran while a thread was blocked in read()");
	CHECK(pthread_join(th, &r) == 0 && (intptr_t)r == 'x', "the reader got what was written");
	close(pipefd[0]);
	close(pipefd[1]);
}

static atomic_int sleeper_done;

static void *sleeper(void *arg)
{
	struct timespec ts = {0, 100 * 1000000};

	(void)arg;
	nanosleep(&ts, NULL);
	atomic_store(&sleeper_done, 1);
	return NULL;
}

static void sleeping_thread(void)
{
	pthread_t th;
	long long start = now_ns();

	CHECK(pthread_create(&th, NULL, sleeper, NULL) == 0, "a sleeper starts");
	/* Spin until the sleeper has woken and run: it needs the CPU then,
	 * which a time slice's end gives it. */
	while (!atomic_load(&sleeper_done))
		;
	CHECK(now_ns() - start >= 100 * 1000000LL, "a spinner ran while a thread slept");
	CHECK(pthread_join(th, NULL) == 0, "the sleeper woke, and ran beside a spinner");
}

int main(void)
{
	signal(SIGALRM, timed_out);
	alarm(60);
	two_threads();
	two_processes();
	blocked_reader();
	sleeping_thread();
	alarm(0);
	return tap_done();
}
