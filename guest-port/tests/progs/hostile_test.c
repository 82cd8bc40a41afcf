// SPDX-License-Identifier: GPL-2.0
/*
 * hostile_test: a guest that makes system calls with random arguments
 * (bad pointers, kernel and non-canonical addresses, buffers that end at
 * an unmapped page, huge lengths, random flags and descriptors), in many
 * processes at once, while others are killed in the middle of what they
 * do.  The guest port must answer each with an errno or a signal for the
 * guest, and stay up: the checks are that the children all end and are
 * reaped, that the guest port still answers afterwards, and that the run
 * ends with this program's own status.
 *
 *	guest-hostile-test SEED SECONDS
 *
 * It runs only as the guest's init (pid 1): it ends by killing every
 * other process it can (kill(-1, SIGKILL)), which in the guest, or in a
 * pid namespace, is its own children; anywhere else it skips.  Each
 * child prints its seed on failure; the same SEED replays a run.
 *
 * A child calls setsid() first, so that a kill of its own group or
 * session reaches nothing of its parent's, and the signal calls that
 * name a process (kill, tkill, tgkill, rt_sigqueueinfo, pidfd_open...)
 * are aimed at the caller: the rest is left to chance.  Its standard
 * streams are /dev/null and it works in a directory of its own under
 * /tmp; the path names it passes are relative ones without "..".
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

#define PAGE		4096UL
#define BUF_SIZE	(16 * PAGE)
#define CALLS		200	/* system calls per child */
#define PARALLEL	4	/* children at once */
#define CHILD_MS	300	/* a child's time before SIGKILL */

static uint64_t rng;

static uint64_t next(void)
{
	/* xorshift64* */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

static char *buf;	/* BUF_SIZE, then a PROT_NONE page */
static int *setup_failures;	/* shared with the parent */
static const char *const names[] = {
	"a", "b", "c", "d", "d/e", "d/f", "fifo", "s", "link", ".", "", "a/",
};
#define NNAMES (sizeof(names) / sizeof(names[0]))
static char *name_at[NNAMES];	/* the names, copied into buf */

static uint64_t arg(void)
{
	switch (next() % 18) {
	case 0:	return 0;
	case 1:	return 1;
	case 2:	return (uint64_t)-1;
	case 3:	return next() % 64;
	case 4:	return next();
	case 5:	return (uint64_t)buf + next() % BUF_SIZE;
	case 6:	return (uint64_t)buf + (next() % 16) * PAGE;
	case 7:	return (uint64_t)name_at[next() % NNAMES];
	case 8:	return 0x1000;				/* never mapped */
	case 9:	return 0xffff888000000000ULL;		/* the kernel's */
	case 10: return 0x8000000000000000ULL;		/* not canonical */
	case 11: return (uint64_t)buf + BUF_SIZE - 1 - next() % 16; /* at the guard */
	case 12: return 1ULL << (next() % 64);
	case 13: return next() % 32;			/* a descriptor */
	case 14: return 0x7fffffff;
	case 15: return (uint64_t)buf + BUF_SIZE;	/* the guard page */
	case 16: return 0x7ffffffff000ULL;		/* the top of user space */
	default: return (uint64_t)-4096 + next() % 4096; /* an errno's value */
	}
}

/* The numbers of x86-64's system calls: 0..334 and 424..462. */
static long pick_nr(void)
{
	uint64_t n = next() % (335 + 39);

	return n < 335 ? (long)n : (long)(424 + n - 335);
}

static void setup_failed(void)
{
	__atomic_add_fetch(setup_failures, 1, __ATOMIC_SEQ_CST);
	_exit(1);
}

static void fuzz(uint64_t seed)
{
	pid_t self;
	int i;

	/* splitmix64 of the seed: xorshift's first numbers from seeds
	 * close together are close together too. */
	seed += 0x9e3779b97f4a7c15ULL;
	seed = (seed ^ (seed >> 30)) * 0xbf58476d1ce4e5b9ULL;
	seed = (seed ^ (seed >> 27)) * 0x94d049bb133111ebULL;
	rng = (seed ^ (seed >> 31)) | 1;
	setsid();
	self = getpid();
	int null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 2)
			close(null);
	}
	char dir[] = "/tmp/hostile.XXXXXX";
	if (!mkdtemp(dir) || chdir(dir))
		setup_failed();
	mkdir("d", 0700);
	close(open("a", O_CREAT | O_WRONLY, 0600));
	mkfifo("fifo", 0600);
	symlink("a", "link");

	buf = mmap(NULL, BUF_SIZE + PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		setup_failed();
	mprotect(buf + BUF_SIZE, PAGE, PROT_NONE);
	for (i = 0; i < (int)BUF_SIZE; i += 8)
		*(uint64_t *)(buf + i) = next();
	char *p = buf;
	for (i = 0; i < (int)NNAMES; i++) {
		name_at[i] = p;
		p = stpcpy(p, names[i]) + 1;
	}

	for (i = 0; i < CALLS; i++) {
		long nr = pick_nr();
		uint64_t a[6];

		for (int j = 0; j < 6; j++)
			a[j] = arg();
		switch (nr) {
		case SYS_kill:
		case SYS_rt_sigqueueinfo:
		case SYS_tkill:
		case SYS_pidfd_open:
		case SYS_process_vm_readv:
		case SYS_process_vm_writev:
		case SYS_ptrace:
		case SYS_kcmp:
		case SYS_process_madvise:
			a[0] = (uint64_t)self;
			break;
		case SYS_tgkill:
		case SYS_rt_tgsigqueueinfo:
			a[0] = (uint64_t)self;
			a[1] = (uint64_t)syscall(SYS_gettid);
			break;
		case SYS_pidfd_send_signal:
			/* Only a pidfd of its own making: its own or a child's. */
			break;
		}
		syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	}
	_exit(0);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: guest-hostile-test SEED SECONDS\n");
		return 2;
	}
	uint64_t seed = strtoull(argv[1], NULL, 0);
	long long seconds = atoll(argv[2]);

	if (getpid() != 1) {
		SKIP("not pid 1: its kill(-1) would reach others' processes",
		     "random system calls in many guest processes");
		return tap_done();
	}
	printf("# seed %llu, %lld s\n", (unsigned long long)seed, seconds);
	fflush(stdout);
	mkdir("/tmp", 01777);
	setup_failures = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (setup_failures == MAP_FAILED) {
		perror("mmap");
		return 1;
	}

	struct { pid_t pid; long long start; } run[PARALLEL] = {0};
	long long end = now_ms() + seconds * 1000;
	int started = 0, exited = 0, signalled = 0, killed = 0, lost = 0;

	while (now_ms() < end || started == 0) {
		for (int i = 0; i < PARALLEL; i++) {
			if (run[i].pid)
				continue;
			pid_t pid = fork();
			if (pid == 0)
				fuzz(seed + started);
			if (pid < 0)
				continue;	/* EAGAIN: at --max-procs */
			run[i].pid = pid;
			run[i].start = now_ms();
			started++;
		}
		struct timespec tick = {0, 10 * 1000000};
		nanosleep(&tick, NULL);
		for (int i = 0; i < PARALLEL; i++) {
			if (run[i].pid && now_ms() - run[i].start > CHILD_MS) {
				kill(-run[i].pid, SIGKILL);
				kill(run[i].pid, SIGKILL);
				killed++;
				run[i].start = end + 3600 * 1000LL;	/* once */
			}
		}
		/* Each child that ended, and the orphans its own children
		 * left, which init reaps. */
		int st;
		pid_t r;
		while ((r = waitpid(-1, &st, WNOHANG)) > 0) {
			for (int i = 0; i < PARALLEL; i++) {
				if (run[i].pid != r)
					continue;
				if (WIFEXITED(st))
					exited++;
				else
					signalled++;
				run[i].pid = 0;
			}
		}
		if (r < 0 && errno != ECHILD)
			lost++;
	}

	/* The rest: every process but init. */
	kill(-1, SIGKILL);
	long long deadline = now_ms() + 10000;
	int left = 0;
	for (;;) {
		pid_t r = waitpid(-1, NULL, WNOHANG);
		if (r < 0 && errno == ECHILD)
			break;
		if (now_ms() > deadline) {
			left = 1;
			break;
		}
		if (r == 0) {
			struct timespec tick = {0, 10 * 1000000};
			nanosleep(&tick, NULL);
		}
	}
	printf("# %d children: %d exited, %d ended by a signal (%d killed at their time)\n",
	       started, exited, signalled, killed);
	int running = 0;
	for (int i = 0; i < PARALLEL; i++)
		running += run[i].pid != 0;
	CHECK(*setup_failures == 0, "each child set itself up (%d could not)", *setup_failures);
	CHECK(started > 0 && lost == 0 && exited + signalled + running == started,
	      "random system calls in many guest processes: each child ended or is still running, no wait failed");
	CHECK(!left, "kill(-1, SIGKILL) ends every other process, and init reaps them all");

	/* The guest port still answers. */
	int fds[2];
	char c = 0;
	CHECK(pipe(fds) == 0 && write(fds[1], "x", 1) == 1 && read(fds[0], &c, 1) == 1 &&
	      c == 'x', "after it, the guest port still answers: a pipe round trip");
	pid_t pid = fork();
	if (pid == 0)
		_exit(7);
	int st = 0;
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 7,
	      "after it, fork and wait still work");
	return tap_done();
}
