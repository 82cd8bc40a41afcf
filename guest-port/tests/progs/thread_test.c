// SPDX-License-Identifier: GPL-2.0
/*
 * Threads: pthreads (mutexes, condition variables, barriers, thread-local
 * storage, pthread_join, pthread_cancel), thread ids, memory one thread
 * maps used by another, a read into memory another thread unmaps, signals to a thread (tgkill, a SIGEV_THREAD_ID
 * timer, rt_tgsigqueueinfo, its own fault) and to the process (taken by a
 * thread that does not block them), futex timeouts, EAGAIN,
 * requeue and wake-op, a futex wait a signal restarts or breaks, a robust mutex whose owner died (EOWNERDEAD),
 * exit_group from a thread, the last thread's exit, a thread that
 * execs, and the clone flags Linux refuses.  Each result holds on
 * Linux: progs-check runs the program natively too and compares.
 *
 *	thread_test
 *	thread_test exec-check PID	(what the exec test runs)
 *	thread_test first-exits		(its first thread ends alone; the
 *					other ends the process with 3)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

#define NTHREADS 4

static long futex(atomic_uint *w, int op, unsigned val, const struct timespec *ts,
		  atomic_uint *w2, unsigned val3)
{
	return syscall(SYS_futex, w, op, val, ts, w2, val3);
}

static pid_t gettid_(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static void msleep(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* --- mutexes, TLS, ids ----------------------------------------------- */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static __thread int tls_value;
static pid_t tids[NTHREADS];

static void *adder(void *arg)
{
	int i = (int)(intptr_t)arg;

	tls_value = i + 100;
	tids[i] = gettid_();
	for (int n = 0; n < 5000; n++) {
		pthread_mutex_lock(&lock);
		counter++;
		pthread_mutex_unlock(&lock);
	}
	sched_yield();
	return (void *)(intptr_t)(tls_value == i + 100 && getpid() != tids[i] ? i : -1);
}

static void mutexes(void)
{
	pthread_t th[NTHREADS];
	int ok = 1;

	tls_value = 7;
	for (int i = 0; i < NTHREADS; i++)
		pthread_create(&th[i], NULL, adder, (void *)(intptr_t)i);
	for (int i = 0; i < NTHREADS; i++) {
		void *r;
		pthread_join(th[i], &r);
		ok &= (intptr_t)r == i;
	}
	CHECK(counter == NTHREADS * 5000L, "a mutex: %d threads count to %ld", NTHREADS, counter);
	CHECK(ok && tls_value == 7, "each thread has its own TLS, and a tid that is not the pid");
	int distinct = 1;
	for (int i = 0; i < NTHREADS; i++)
		for (int j = 0; j < i; j++)
			distinct &= tids[i] != tids[j];
	CHECK(distinct && gettid_() == getpid(), "thread ids differ; the first thread's is the pid");
}

/* --- condition variables, barriers ------------------------------------ */

static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int queue[16], head, tail;

static void *producer(void *arg)
{
	(void)arg;
	for (int i = 1; i <= 300; i++) {
		pthread_mutex_lock(&lock);
		while (tail - head == 16)
			pthread_cond_wait(&cond, &lock);
		queue[tail++ % 16] = i;
		pthread_cond_broadcast(&cond);
		pthread_mutex_unlock(&lock);
	}
	return NULL;
}

static void condvars(void)
{
	pthread_t th;
	long sum = 0;

	pthread_create(&th, NULL, producer, NULL);
	for (int n = 0; n < 300; n++) {
		pthread_mutex_lock(&lock);
		while (head == tail)
			pthread_cond_wait(&cond, &lock);
		sum += queue[head++ % 16];
		pthread_cond_broadcast(&cond);
		pthread_mutex_unlock(&lock);
	}
	pthread_join(th, NULL);
	CHECK(sum == 45150, "a condition variable: 300 items through a queue of 16 (sum %ld)", sum);
}

static pthread_barrier_t barrier;
static atomic_int phase_count[3];
static atomic_int barrier_bad;

static void *barrier_thread(void *arg)
{
	(void)arg;
	for (int phase = 0; phase < 3; phase++) {
		atomic_fetch_add(&phase_count[phase], 1);
		pthread_barrier_wait(&barrier);
		/* Past the barrier: everyone has counted this phase. */
		if (atomic_load(&phase_count[phase]) != NTHREADS)
			atomic_store(&barrier_bad, 1);
		pthread_barrier_wait(&barrier);
	}
	return NULL;
}

static void barriers(void)
{
	pthread_t th[NTHREADS];

	pthread_barrier_init(&barrier, NULL, NTHREADS);
	for (int i = 0; i < NTHREADS; i++)
		pthread_create(&th[i], NULL, barrier_thread, NULL);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	CHECK(!barrier_bad, "a barrier holds %d threads for 3 phases", NTHREADS);
}

/* --- memory one thread maps, another uses ----------------------------- */

static int *mapped;
static atomic_int map_step;

static void *mapper(void *arg)
{
	(void)arg;
	mapped = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mapped[1000] = 42;
	atomic_store(&map_step, 1);
	while (atomic_load(&map_step) != 2)
		sched_yield();
	mapped[2000] = mapped[1000] + 1;
	return NULL;
}

static void memory(void)
{
	pthread_t th;

	pthread_create(&th, NULL, mapper, NULL);
	while (atomic_load(&map_step) != 1)
		sched_yield();
	int seen = mapped[1000];
	mapped[1000] = 43;
	atomic_store(&map_step, 2);
	pthread_join(th, NULL);
	CHECK(seen == 42 && mapped[2000] == 44,
	      "memory one thread maps, the other reads and writes (%d, %d)", seen, mapped[2000]);
	munmap(mapped, 1 << 20);
}

/*
 * A read blocked in one thread, its buffer unmapped by another and new
 * memory mapped by a third before the data comes: the data goes to no
 * new mapping.  Linux copies at the buffer's address when the data
 * comes, and finds nothing there (EFAULT); a kernel that pinned the
 * buffer's pages (a host read straight into guest memory) may finish
 * into the old pages, which no one else is given meanwhile.  The old
 * address is kept out of reach (PROT_NONE) so that no new mapping takes
 * it.
 */
#define IO_BUF (64 << 10)
#define IO_NEW 128

static int io_pipe[2];
static char *io_buf;
static atomic_int io_reading;
static long io_result;
static int io_errno;

static void *io_reader(void *arg)
{
	(void)arg;
	atomic_store(&io_reading, 1);
	io_result = read(io_pipe[0], io_buf, IO_BUF);
	io_errno = errno;
	return NULL;
}

static void *io_unmapper(void *arg)
{
	(void)arg;
	munmap(io_buf, IO_BUF);
	mmap(io_buf, IO_BUF, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	return NULL;
}

static void io_into_unmapped(void)
{
	pthread_t reader, unmapper;
	char *fresh[IO_NEW];
	char data[4096];
	int clean = 1;

	pipe(io_pipe);
	io_buf = mmap(NULL, IO_BUF, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	io_buf[0] = 1;
	pthread_create(&reader, NULL, io_reader, NULL);
	while (!atomic_load(&io_reading))
		sched_yield();
	msleep(200);	/* blocked in read() by now */
	pthread_create(&unmapper, NULL, io_unmapper, NULL);
	pthread_join(unmapper, NULL);
	for (int i = 0; i < IO_NEW; i++) {
		fresh[i] = mmap(NULL, IO_BUF, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		fresh[i][0] = 0;
	}
	memset(data, 'Z', sizeof(data));
	write(io_pipe[1], data, sizeof(data));
	pthread_join(reader, NULL);
	for (int i = 0; i < IO_NEW; i++) {
		for (int j = 0; j < IO_BUF; j++)
			if (fresh[i][j]) {
				clean = 0;
				break;
			}
		munmap(fresh[i], IO_BUF);
	}
	CHECK(clean, "a read into memory another thread unmapped: no new mapping gets its data");
	CHECK(io_result == (long)sizeof(data) || (io_result == -1 && io_errno == EFAULT),
	      "the read ends, with its count or EFAULT");
	munmap(io_buf, IO_BUF);
	close(io_pipe[0]);
	close(io_pipe[1]);
}

/* --- signals ------------------------------------------------------------ */

static atomic_int handled_tid, handled_sig;

static void on_signal(int sig)
{
	atomic_store(&handled_tid, gettid_());
	atomic_store(&handled_sig, sig);
}

static atomic_int worker_tid;
static atomic_int stop_worker;

static void *sleeper(void *arg)
{
	(void)arg;
	atomic_store(&worker_tid, gettid_());
	while (!atomic_load(&stop_worker))
		msleep(5);
	return NULL;
}

static void signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};
	pthread_t th;
	sigset_t set, old;

	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	pthread_create(&th, NULL, sleeper, NULL);
	while (!atomic_load(&worker_tid))
		sched_yield();

	/* tgkill: that thread runs the handler. */
	syscall(SYS_tgkill, getpid(), atomic_load(&worker_tid), SIGUSR1);
	for (int i = 0; i < 400 && !atomic_load(&handled_sig); i++)
		msleep(5);
	CHECK(atomic_load(&handled_sig) == SIGUSR1 &&
	      atomic_load(&handled_tid) == atomic_load(&worker_tid),
	      "tgkill: the handler runs in the thread named");
	CHECK_ERR(syscall(SYS_tgkill, getpid() + 100000, atomic_load(&worker_tid), SIGUSR1), ESRCH,
		  "tgkill with the wrong thread group: ESRCH");

	/* kill(): a thread that does not block it takes it. */
	atomic_store(&handled_sig, 0);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	kill(getpid(), SIGUSR2);
	for (int i = 0; i < 400 && !atomic_load(&handled_sig); i++)
		msleep(5);
	CHECK(atomic_load(&handled_sig) == SIGUSR2 &&
	      atomic_load(&handled_tid) == atomic_load(&worker_tid),
	      "kill: the thread that does not block the signal takes it");
	sigset_t pending;
	sigpending(&pending);
	CHECK(!sigismember(&pending, SIGUSR2), "and it is no longer pending");

	/* The worker gone, the blocked signal waits for the mask. */
	atomic_store(&stop_worker, 1);
	pthread_join(th, NULL);
	atomic_store(&handled_sig, 0);
	kill(getpid(), SIGUSR2);
	sigpending(&pending);
	CHECK(sigismember(&pending, SIGUSR2) && !atomic_load(&handled_sig),
	      "blocked by the only thread: pending");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	CHECK(atomic_load(&handled_sig) == SIGUSR2 && atomic_load(&handled_tid) == getpid(),
	      "unblocked: taken");
}

/* --- signals for one thread: a timer's, sigqueue's, a fault's ----------- */

static atomic_int info_tid, info_sig, info_code, info_value;
static atomic_uintptr_t info_addr;
static char *ro_page;

static void on_info(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	atomic_store(&info_tid, gettid_());
	atomic_store(&info_code, si->si_code);
	if (sig == SIGSEGV) {
		atomic_store(&info_addr, (uintptr_t)si->si_addr);
		/* Fixed: the write is made again, and succeeds. */
		mprotect(ro_page, 4096, PROT_READ | PROT_WRITE);
	} else {
		atomic_store(&info_value, si->si_value.sival_int);
	}
	atomic_store(&info_sig, sig);
}

static atomic_int fault_now;

static void *info_worker(void *arg)
{
	(void)arg;
	atomic_store(&worker_tid, gettid_());
	while (!atomic_load(&stop_worker)) {
		if (atomic_load(&fault_now) == 1) {
			ro_page[8] = 42;
			atomic_store(&fault_now, 2);
		}
		msleep(2);
	}
	return NULL;
}

static int wait_info(int sig)
{
	for (int i = 0; i < 1000 && atomic_load(&info_sig) != sig; i++)
		msleep(2);
	int tid = atomic_load(&info_tid);
	atomic_store(&info_sig, 0);
	return tid;
}

static void thread_signals(void)
{
	struct sigaction sa = {.sa_sigaction = on_info, .sa_flags = SA_SIGINFO};
	pthread_t th;
	sigset_t set, old;

	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	/* This thread blocks SIGUSR1: only the one named may take it. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	ro_page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	atomic_store(&worker_tid, 0);
	atomic_store(&stop_worker, 0);
	pthread_create(&th, NULL, info_worker, NULL);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	while (!atomic_load(&worker_tid))
		sched_yield();
	int worker = atomic_load(&worker_tid);

	/* A SIGEV_THREAD_ID timer: its signal is that thread's. */
	struct sigevent ev = {.sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGUSR1};
	ev.sigev_value.sival_int = 7;
	ev._sigev_un._tid = worker;
	timer_t timer;
	CHECK(timer_create(CLOCK_MONOTONIC, &ev, &timer) == 0,
	      "timer_create SIGEV_THREAD_ID for another thread");
	struct itimerspec its = {.it_value = {0, 10 * 1000 * 1000}};
	timer_settime(timer, 0, &its, NULL);
	CHECK(wait_info(SIGUSR1) == worker && atomic_load(&info_code) == SI_TIMER &&
	      atomic_load(&info_value) == 7,
	      "its expiry: SI_TIMER, its value, in the thread named");
	timer_delete(timer);
	ev._sigev_un._tid = getpid() + 100000;
	errno = 0;
	CHECK(timer_create(CLOCK_MONOTONIC, &ev, &timer) == -1 && errno == EINVAL,
	      "SIGEV_THREAD_ID for no thread of ours: EINVAL");

	/* rt_tgsigqueueinfo: SI_QUEUE and its value, to that thread. */
	siginfo_t si = {.si_signo = SIGUSR1, .si_code = SI_QUEUE};
	si.si_pid = getpid();
	si.si_uid = getuid();
	si.si_value.sival_int = 9;
	CHECK(syscall(SYS_rt_tgsigqueueinfo, getpid(), worker, SIGUSR1, &si) == 0 &&
	      wait_info(SIGUSR1) == worker && atomic_load(&info_code) == SI_QUEUE &&
	      atomic_load(&info_value) == 9,
	      "rt_tgsigqueueinfo: the thread named takes it, with its value");
	si.si_code = SI_USER;
	CHECK_ERR(syscall(SYS_rt_tgsigqueueinfo, getpid(), worker, SIGUSR1, &si), EPERM,
		  "rt_tgsigqueueinfo of SI_USER to another thread: EPERM");

	/* A fault: the thread that faulted runs the handler. */
	atomic_store(&fault_now, 1);
	CHECK(wait_info(SIGSEGV) == worker && atomic_load(&info_code) == SEGV_ACCERR &&
	      atomic_load(&info_addr) == (uintptr_t)(ro_page + 8),
	      "a thread's fault: SIGSEGV, SEGV_ACCERR, its address, in that thread");
	for (int i = 0; i < 1000 && atomic_load(&fault_now) != 2; i++)
		msleep(2);
	CHECK(atomic_load(&fault_now) == 2 && ro_page[8] == 42,
	      "the handler fixed it: the write was made again");

	atomic_store(&stop_worker, 1);
	pthread_join(th, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	signal(SIGSEGV, SIG_DFL);
	signal(SIGUSR1, SIG_DFL);
	munmap(ro_page, 4096);
}

/* --- pthread_cancel ------------------------------------------------------ */

static void *cancelled(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static void cancel(void)
{
	pthread_t th;
	void *r;

	pthread_create(&th, NULL, cancelled, NULL);
	msleep(20);
	pthread_cancel(th);
	int e = pthread_join(th, &r);
	CHECK(e == 0 && r == PTHREAD_CANCELED, "pthread_cancel of a thread in pause()");
}

/* --- futexes --------------------------------------------------------------- */

static atomic_uint word1, word2;
static atomic_int woken;

static void *futex_waiter(void *arg)
{
	(void)arg;
	while (atomic_load(&word1) == 0)
		futex(&word1, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	atomic_fetch_add(&woken, 1);
	return NULL;
}

static void futexes(void)
{
	struct timespec ts = {0, 100 * 1000000L};
	atomic_uint w = 5;

	double t0 = now();
	CHECK_ERR(futex(&w, FUTEX_WAIT_PRIVATE, 5, &ts, NULL, 0), ETIMEDOUT,
		  "FUTEX_WAIT with a timeout: ETIMEDOUT");
	double dt = now() - t0;
	CHECK(dt >= 0.099 && dt < 2, "after the timeout");
	if (dt < 0.099 || dt >= 2)
		printf("#   after %.3f s\n", dt);
	CHECK_ERR(futex(&w, FUTEX_WAIT_PRIVATE, 6, NULL, NULL, 0), EAGAIN,
		  "FUTEX_WAIT on a changed value: EAGAIN");
	struct timespec past;
	clock_gettime(CLOCK_REALTIME, &past);
	past.tv_sec -= 1;
	CHECK_ERR(futex(&w, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 5, &past, NULL,
			FUTEX_BITSET_MATCH_ANY),
		  ETIMEDOUT, "FUTEX_WAIT_BITSET, CLOCK_REALTIME, a deadline past: ETIMEDOUT");
	struct timespec mono;
	clock_gettime(CLOCK_MONOTONIC, &mono);
	mono.tv_nsec += 50 * 1000000L;
	if (mono.tv_nsec >= 1000000000L) {
		mono.tv_sec++;
		mono.tv_nsec -= 1000000000L;
	}
	t0 = now();
	CHECK_ERR(futex(&w, FUTEX_WAIT_BITSET_PRIVATE, 5, &mono, NULL, FUTEX_BITSET_MATCH_ANY),
		  ETIMEDOUT, "FUTEX_WAIT_BITSET, an absolute CLOCK_MONOTONIC deadline: ETIMEDOUT");
	dt = now() - t0;
	CHECK(dt >= 0.049 && dt < 2, "at the deadline");
	if (dt < 0.049 || dt >= 2)
		printf("#   after %.3f s\n", dt);
	CHECK_ERR(futex(&w, FUTEX_WAIT_BITSET_PRIVATE, 5, NULL, NULL, 0), EINVAL,
		  "FUTEX_WAIT_BITSET with bitset 0: EINVAL");
	CHECK_ERR(futex((atomic_uint *)((char *)&w + 1), FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0),
		  EINVAL, "an unaligned futex: EINVAL");
	CHECK(futex(&w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) == 0, "FUTEX_WAKE with no waiter: 0");

	/* CMP_REQUEUE: two waiters on word1 move to word2, then a wake there. */
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, futex_waiter, NULL);
	long moved = 0;
	for (int i = 0; i < 400 && moved < 2; i++) {
		long r = futex(&word1, FUTEX_CMP_REQUEUE_PRIVATE, 0, (void *)(long)INT32_MAX,
			       &word2, 0);
		if (r > 0)
			moved += r;
		if (moved < 2)
			msleep(5);
	}
	CHECK(moved == 2 && atomic_load(&woken) == 0, "FUTEX_CMP_REQUEUE moves 2 waiters");
	CHECK_ERR(futex(&word1, FUTEX_CMP_REQUEUE_PRIVATE, 0, (void *)(long)1, &word2, 9), EAGAIN,
		  "FUTEX_CMP_REQUEUE with another value: EAGAIN");
	atomic_store(&word1, 1);
	long n = futex(&word1, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
	CHECK(n == 0, "a wake of word1 finds none there (%ld)", n);
	n = futex(&word2, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
	CHECK(n == 2, "a wake of word2 wakes both (%ld)", n);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);

	/* WAKE_OP: word2 = 1, and a waiter of word1 woken. */
	atomic_store(&word1, 0);
	atomic_store(&word2, 0);
	atomic_store(&woken, 0);
	pthread_create(&th[0], NULL, futex_waiter, NULL);
	n = 0;
	for (int i = 0; i < 400 && n == 0; i++) {
		atomic_store(&word2, 0);
		n = futex(&word1, FUTEX_WAKE_OP_PRIVATE, 1, (void *)(long)1, &word2,
			  FUTEX_OP(FUTEX_OP_SET, 1, FUTEX_OP_CMP_EQ, 0));
		if (n == 0)
			msleep(5);
	}
	CHECK(n == 1 && atomic_load(&word2) == 1, "FUTEX_WAKE_OP sets the word, wakes a waiter");
	atomic_store(&word1, 1);
	futex(&word1, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	pthread_join(th[0], NULL);
}

/* A futex wait and a signal: restarted under SA_RESTART when it has no
 * timeout; EINTR for a handler when it has one. */
static atomic_uint word3;
static atomic_int wait_done, wait_errno, wait_handled, waiter;
static long wait_result;

static void on_wait_signal(int sig)
{
	(void)sig;
	atomic_fetch_add(&wait_handled, 1);
}

static void *restart_waiter(void *arg)
{
	struct timespec ts = {5, 0};

	atomic_store(&waiter, gettid_());
	errno = 0;
	wait_result = futex(&word3, FUTEX_WAIT_PRIVATE, 0, arg ? &ts : NULL, NULL, 0);
	atomic_store(&wait_errno, errno);
	atomic_store(&wait_done, 1);
	return NULL;
}

static void futex_signals(void)
{
	struct sigaction sa = {.sa_handler = on_wait_signal, .sa_flags = SA_RESTART};
	pthread_t th;
	pid_t tid;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	pthread_create(&th, NULL, restart_waiter, NULL);
	while (!(tid = atomic_load(&waiter)))
		sched_yield();
	msleep(30);
	syscall(SYS_tgkill, getpid(), tid, SIGUSR1);
	msleep(30);
	int still = !atomic_load(&wait_done);
	atomic_store(&word3, 1);
	futex(&word3, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	pthread_join(th, NULL);
	/* Restarted: woken (0), or, if the wake came before the restart,
	 * EAGAIN; not EINTR. */
	CHECK(still && (wait_result == 0 || atomic_load(&wait_errno) == EAGAIN) &&
	      atomic_load(&wait_handled) == 1,
	      "a futex wait, a signal with SA_RESTART: handled, the wait goes on");

	sa.sa_flags = 0;
	sigaction(SIGUSR1, &sa, NULL);
	atomic_store(&word3, 0);
	atomic_store(&wait_done, 0);
	atomic_store(&waiter, 0);
	pthread_create(&th, NULL, restart_waiter, (void *)1);
	while (!(tid = atomic_load(&waiter)))
		sched_yield();
	/* Again until it ends: one that came before the wait started is
	 * taken before it. */
	for (int i = 0; i < 250 && !atomic_load(&wait_done); i++) {
		syscall(SYS_tgkill, getpid(), tid, SIGUSR1);
		msleep(20);
	}
	pthread_join(th, NULL);
	CHECK(wait_result == -1 && atomic_load(&wait_errno) == EINTR,
	      "a futex wait with a timeout, a signal: EINTR");
}

/* --- robust mutexes --------------------------------------------------------- */

static pthread_mutex_t robust;

static void *robust_owner(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&robust);
	return NULL;	/* ends holding it */
}

static void robust_mutex(void)
{
	pthread_mutexattr_t a;
	pthread_t th;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&robust, &a);
	pthread_create(&th, NULL, robust_owner, NULL);
	pthread_join(th, NULL);
	int e = pthread_mutex_lock(&robust);
	CHECK(e == EOWNERDEAD, "a robust mutex whose owner ended: EOWNERDEAD (%d)", e);
	CHECK(pthread_mutex_consistent(&robust) == 0 && pthread_mutex_unlock(&robust) == 0 &&
	      pthread_mutex_lock(&robust) == 0,
	      "made consistent, it locks again");
	pthread_mutex_unlock(&robust);
}

/* --- exit, exit_group, execve from a thread ---------------------------------- */

static int status_of(pid_t pid)
{
	int st;

	return waitpid(pid, &st, 0) == pid ? st : -1;
}

static void *group_exiter(void *arg)
{
	(void)arg;
	msleep(20);
	exit(7);	/* exit_group */
}

static int alive_pipe[2];

static void *last_thread(void *arg)
{
	(void)arg;
	msleep(50);
	/* The first thread is gone by now: this one still runs. */
	(void)write(alive_pipe[1], "alive", 5);
	syscall(SYS_exit, 5);
	return NULL;
}

static const char *self;

static void *execer(void *arg)
{
	char pid[16];

	(void)arg;
	snprintf(pid, sizeof(pid), "%d", getpid());
	execl(self, self, "exec-check", pid, (char *)NULL);
	_exit(99);
}

static void *blocked_forever(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static void exits(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		pthread_t th;
		pthread_create(&th, NULL, group_exiter, NULL);
		for (;;)
			pause();
	}
	int st = status_of(pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7, "exit_group from a thread ends the process (status %#x)",
	      st);

	pipe(alive_pipe);
	pid = fork();
	if (pid == 0) {
		pthread_t th;
		close(alive_pipe[0]);
		pthread_create(&th, NULL, last_thread, NULL);
		syscall(SYS_exit, 3);	/* the first thread alone */
		_exit(1);	/* not reached */
	}
	close(alive_pipe[1]);
	char buf[8] = {0};
	ssize_t n = read(alive_pipe[0], buf, sizeof(buf));
	close(alive_pipe[0]);
	st = status_of(pid);
	CHECK(n == 5, "the first thread's exit leaves the others running");
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 5,
	      "the last thread's exit ends the process, with its status (%#x)", st);

	pid = fork();
	if (pid == 0) {
		pthread_t th[2];
		pthread_create(&th[0], NULL, blocked_forever, NULL);
		pthread_create(&th[1], NULL, execer, NULL);
		for (;;)
			pause();
	}
	st = status_of(pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "execve from a thread: the others end, it takes the pid (status %#x)", st);
}

/* --- clone flags ------------------------------------------------------------- */

static void clone_flags(void)
{
	CHECK_ERR(syscall(SYS_clone, CLONE_THREAD, NULL, NULL, NULL, 0), EINVAL,
		  "clone: CLONE_THREAD without CLONE_SIGHAND: EINVAL");
	CHECK_ERR(syscall(SYS_clone, CLONE_SIGHAND, NULL, NULL, NULL, 0), EINVAL,
		  "clone: CLONE_SIGHAND without CLONE_VM: EINVAL");
	struct clone_args ca = {.flags = CLONE_VM | CLONE_SIGHAND | CLONE_THREAD,
				.exit_signal = SIGCHLD};
	CHECK_ERR(syscall(SYS_clone3, &ca, sizeof(ca)), EINVAL,
		  "clone3: CLONE_THREAD with an exit signal: EINVAL");
}

static void *second_exits(void *arg)
{
	(void)arg;
	msleep(100);
	syscall(SYS_exit, 3);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "exec-check")) {
		/* After an exec from a thread: the process's pid, one thread. */
		return getpid() == atoi(argv[2]) && gettid_() == getpid() ? 0 : 1;
	}
	if (argc == 2 && !strcmp(argv[1], "first-exits")) {
		pthread_t th;
		pthread_create(&th, NULL, second_exits, NULL);
		syscall(SYS_exit, 0);
	}
	self = argv[0];
	mutexes();
	condvars();
	barriers();
	memory();
	io_into_unmapped();
	signals();
	thread_signals();
	cancel();
	futexes();
	futex_signals();
	robust_mutex();
	exits();
	clone_flags();
	return tap_done();
}
