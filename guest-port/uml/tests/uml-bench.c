// SPDX-License-Identifier: GPL-2.0
/*
 * uml-bench: the cost of the guest events UML's userspace mode changes,
 * timed inside the guest (UML's clock is the host's monotonic clock):
 *
 *   uml-bench getppid N    N getppid() calls
 *   uml-bench fault N      first touch of N anonymous pages, then munmap
 *   uml-bench forkexec N   N fork + exec of /bin/true + wait
 *
 * Prints "EVENT N per-event-microseconds".  Built static, to run the same
 * in the VM and in UML's root.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void run_getppid(long n)
{
	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
}

static void run_fault(long n)
{
	long page = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, n * page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	for (long i = 0; i < n; i++)
		p[i * page] = 1;
	munmap(p, n * page);
}

static void run_forkexec(long n)
{
	for (long i = 0; i < n; i++) {
		pid_t pid = fork();
		int status;

		if (pid == 0) {
			execl("/bin/true", "true", (char *)NULL);
			_exit(127);
		}
		if (pid < 0 || waitpid(pid, &status, 0) != pid ||
		    !WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "fork+exec failed at %ld\n", i);
			exit(1);
		}
	}
}

int main(int argc, char **argv)
{
	void (*fn)(long);
	double t0;
	long n;

	if (argc != 3)
		goto usage;
	n = atol(argv[2]);
	if (!strcmp(argv[1], "getppid"))
		fn = run_getppid;
	else if (!strcmp(argv[1], "fault"))
		fn = run_fault;
	else if (!strcmp(argv[1], "forkexec"))
		fn = run_forkexec;
	else
		goto usage;
	if (n <= 0)
		goto usage;

	t0 = now_us();
	fn(n);
	printf("%s %ld %.2f\n", argv[1], n, (now_us() - t0) / n);
	return 0;
usage:
	fprintf(stderr, "usage: uml-bench getppid|fault|forkexec N\n");
	return 2;
}
