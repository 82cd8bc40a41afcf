// SPDX-License-Identifier: GPL-2.0
/*
 * uml-bench: the workloads of 'make bench-uml' and 'make bench-macro'
 * (tools/vm/macro-bench-run), timed inside the guest
 * (UML's clock is the host's monotonic clock).  Built static, to run the
 * same in the VM and in UML's root.
 *
 *   uml-bench [--sync DIR] WORKLOAD N [WORKLOAD N]...
 *
 *   getppid N    N getppid() calls: the system call round trip
 *   fault N      first touch of N anonymous pages, then munmap
 *   forkexec N   N fork + exec of this (static) program + wait
 *   shloop N     a busybox sh loop running /bin/true N times
 *   files N      N times: create a 4 KiB file in the current
 *                directory, read it back, delete it
 *   pipeline N   N MiB through a pipeline of three processes (writer,
 *                relay, reader), 64 KiB at a time
 *   compute N    N million rounds of a xorshift64* generator
 *   writes N     N writes of 64 bytes to a file in the current
 *                directory (then deleted)
 *   gcc N        N times: gcc -O2 -c of the C files of the directory
 *                gcc-src in the current directory, the objects left in
 *                the current directory (gcc looked up in PATH)
 *
 * For each, prints "result WORKLOAD N PER-EVENT-US TOTAL-US".
 *
 * With --sync DIR, a workload starts only once the caller is ready to
 * count what it costs the host: uml-bench creates DIR/WORKLOAD.N.start
 * and waits for DIR/WORKLOAD.N.go, runs, creates DIR/WORKLOAD.N.done and
 * waits for DIR/WORKLOAD.N.ack (tools/vm/uml-bench-run, on the other
 * side of UML's hostfs; it polls the directory, as a hostfs lookup of a
 * missing name may be cached).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define CHUNK	(64 * 1024)

static char self[4096];

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void wait_ok(pid_t pid, const char *what)
{
	int status;

	if (pid < 0 || waitpid(pid, &status, 0) != pid ||
	    !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "uml-bench: %s failed\n", what);
		exit(1);
	}
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

	if (p == MAP_FAILED)
		die("mmap");
	for (long i = 0; i < n; i++)
		p[i * page] = 1;
	munmap(p, n * page);
}

static void run_forkexec(long n)
{
	for (long i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			execl(self, "uml-bench", (char *)NULL);
			_exit(127);
		}
		wait_ok(pid, "fork+exec");
	}
}

static void run_shloop(long n)
{
	char script[128];
	pid_t pid;

	snprintf(script, sizeof(script),
		 "i=0; while [ $i -lt %ld ]; do /bin/true; i=$((i + 1)); done", n);
	pid = fork();
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", script, (char *)NULL);
		_exit(127);
	}
	wait_ok(pid, "sh loop");
}

static void run_files(long n)
{
	static char buf[4096], back[4096];
	char name[64];

	memset(buf, 'x', sizeof(buf));
	for (long i = 0; i < n; i++) {
		int fd;

		snprintf(name, sizeof(name), "uml-bench.%ld", i);
		fd = open(name, O_CREAT | O_EXCL | O_WRONLY, 0644);
		if (fd < 0 || write(fd, buf, sizeof(buf)) != sizeof(buf) || close(fd))
			die("create");
		fd = open(name, O_RDONLY);
		if (fd < 0 || read(fd, back, sizeof(back)) != sizeof(back) || close(fd))
			die("read");
		if (memcmp(buf, back, sizeof(buf)) || unlink(name))
			die("unlink");
	}
}

/* Copy from one fd to another until end of file; return the bytes. */
static long long relay(int in, int out)
{
	static char buf[CHUNK];
	long long total = 0;
	ssize_t r;

	while ((r = read(in, buf, sizeof(buf))) > 0) {
		total += r;
		for (ssize_t off = 0; out >= 0 && off < r;) {
			ssize_t w = write(out, buf + off, r - off);

			if (w <= 0)
				die("relay write");
			off += w;
		}
	}
	if (r < 0)
		die("relay read");
	return total;
}

static void run_pipeline(long mib)
{
	static char buf[CHUNK];
	int a[2], b[2];
	pid_t relay_pid, reader;

	if (pipe(a) || pipe(b))
		die("pipe");
	relay_pid = fork();
	if (relay_pid == 0) {
		close(a[1]);
		close(b[0]);
		relay(a[0], b[1]);
		_exit(0);
	}
	reader = fork();
	if (reader == 0) {
		close(a[0]);
		close(a[1]);
		close(b[1]);
		_exit(relay(b[0], -1) == (long long)mib << 20 ? 0 : 1);
	}
	close(a[0]);
	close(b[0]);
	close(b[1]);
	memset(buf, 'p', sizeof(buf));
	for (long i = 0; i < mib * (1024 * 1024 / CHUNK); i++)
		if (write(a[1], buf, sizeof(buf)) != sizeof(buf))
			die("pipeline write");
	close(a[1]);
	wait_ok(relay_pid, "pipeline relay");
	wait_ok(reader, "pipeline reader");
}

static volatile uint64_t compute_sink;

static void run_compute(long n)
{
	uint64_t x = 88172645463325252ULL, sum = 0;

	for (long i = 0; i < n * 1000000; i++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		sum += x * 0x2545F4914F6CDD1DULL;
	}
	compute_sink = sum;
}

static void run_writes(long n)
{
	static const char line[64] = "a small write, as a log or a shell's redirection makes it\n";
	int fd = open("uml-bench.writes", O_CREAT | O_TRUNC | O_WRONLY, 0644);

	if (fd < 0)
		die("create");
	for (long i = 0; i < n; i++)
		if (write(fd, line, sizeof(line)) != sizeof(line))
			die("write");
	if (close(fd) || unlink("uml-bench.writes"))
		die("unlink");
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_gcc(long n)
{
	static char names[32][256];
	char *argv[32 + 4] = { "gcc", "-O2", "-c" };
	int argc = 3, files;
	DIR *d = opendir("gcc-src");
	struct dirent *e;

	if (!d)
		die("gcc-src");
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);

		if (len < 3 || strcmp(e->d_name + len - 2, ".c"))
			continue;
		if (argc - 3 == 32 || len + 9 > sizeof(names[0])) {
			fprintf(stderr, "uml-bench: too many or too long names in gcc-src\n");
			exit(1);
		}
		snprintf(names[argc - 3], sizeof(names[0]), "gcc-src/%s", e->d_name);
		argv[argc] = names[argc - 3];
		argc++;
	}
	closedir(d);
	files = argc - 3;
	if (!files) {
		fprintf(stderr, "uml-bench: no C files in gcc-src\n");
		exit(1);
	}
	qsort(argv + 3, files, sizeof(argv[0]), compare_names);
	argv[argc] = NULL;
	for (long i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			execvp("gcc", argv);
			_exit(127);
		}
		wait_ok(pid, "gcc");
	}
}

static const struct {
	const char *name;
	void (*fn)(long);
} workloads[] = {
	{ "getppid", run_getppid },
	{ "fault", run_fault },
	{ "forkexec", run_forkexec },
	{ "shloop", run_shloop },
	{ "files", run_files },
	{ "pipeline", run_pipeline },
	{ "compute", run_compute },
	{ "writes", run_writes },
	{ "gcc", run_gcc },
};

static int dir_has(const char *dir, const char *name)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int found = 0;

	if (!d)
		die(dir);
	while (!found && (e = readdir(d)))
		found = !strcmp(e->d_name, name);
	closedir(d);
	return found;
}

/* Create DIR/NAME.MINE, then wait for DIR/NAME.THEIRS. */
static void handshake(const char *dir, const char *name, const char *mine,
		      const char *theirs)
{
	const struct timespec tick = { 0, 20 * 1000 * 1000 };
	char path[4096], want[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s.%s", dir, name, mine);
	fd = open(path, O_CREAT | O_WRONLY, 0644);
	if (fd < 0 || close(fd))
		die(path);
	snprintf(want, sizeof(want), "%s.%s", name, theirs);
	while (!dir_has(dir, want))
		nanosleep(&tick, NULL);
}

static int usage(void)
{
	fprintf(stderr, "usage: uml-bench [--sync DIR] WORKLOAD N [WORKLOAD N]...\n"
		"WORKLOAD: getppid fault forkexec shloop files pipeline compute writes gcc\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *sync = NULL;
	int i;

	/* What forkexec runs: this program, with no arguments. */
	if (argc == 1)
		return 0;
	if (readlink("/proc/self/exe", self, sizeof(self) - 1) < 0)
		die("/proc/self/exe");

	i = 1;
	if (!strcmp(argv[i], "--sync")) {
		if (argc < 3)
			return usage();
		sync = argv[2];
		i = 3;
	}
	if (i == argc || (argc - i) % 2)
		return usage();
	for (; i < argc; i += 2) {
		const char *name = argv[i];
		long n = atol(argv[i + 1]);
		void (*fn)(long) = NULL;
		char tag[64];
		double t0, t;

		for (size_t w = 0; w < sizeof(workloads) / sizeof(workloads[0]); w++)
			if (!strcmp(name, workloads[w].name))
				fn = workloads[w].fn;
		if (!fn || n <= 0)
			return usage();

		snprintf(tag, sizeof(tag), "%s.%ld", name, n);
		if (sync)
			handshake(sync, tag, "start", "go");
		t0 = now_us();
		fn(n);
		t = now_us() - t0;
		if (sync)
			handshake(sync, tag, "done", "ack");
		printf("result %s %ld %.3f %.0f\n", name, n, t / n, t);
		fflush(stdout);
	}
	return 0;
}
