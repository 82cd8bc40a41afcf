// SPDX-License-Identifier: GPL-2.0
/*
 * What ls, ps, top, make and Python ask of the system: extended
 * attributes, CPU time (getrusage, times, wait4's rusage), priority,
 * CPU affinity, /proc of other processes, and the signal lines of
 * /proc/self/status.
 *
 *	info_test DIR
 *
 * DIR: a directory to make a file in, on the guest root's file system.
 * progs-check runs this natively too (DIR then the same directory seen
 * from the host) and the two outputs must be the same: whether user
 * extended attributes work there is the file system's to say, and each
 * description shows what it said.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

static const char *err_name(int e)
{
	return e ? strerrorname_np(e) : "0";
}

/* The errno of a call that returns -1 on failure; 0 when it did not fail. */
#define ERRNO_OF(call) ((call) < 0 ? errno : 0)

static void xattrs(const char *dir)
{
	char file[512], link[600], buf[256];
	int e;

	snprintf(file, sizeof(file), "%s/info-test-xattr.%d", dir, (int)getpid());
	snprintf(link, sizeof(link), "%s.link", file);
	int fd = open(file, O_CREAT | O_RDWR | O_TRUNC, 0644);
	CHECK(fd >= 0 && symlink(file, link) == 0, "a file and a symlink to it");

	e = ERRNO_OF(setxattr(file, "user.test", "value", 5, 0));
	CHECK(e == 0 || e == ENOTSUP || e == EPERM, "setxattr user.test: %s", err_name(e));
	if (e == 0) {
		CHECK(getxattr(file, "user.test", NULL, 0) == 5, "getxattr: the size");
		CHECK(getxattr(file, "user.test", buf, sizeof(buf)) == 5 && !memcmp(buf, "value", 5),
		      "getxattr: the value");
		CHECK_ERR(getxattr(file, "user.test", buf, 2), ERANGE, "getxattr, too small: ERANGE");
		ssize_t n = listxattr(file, buf, sizeof(buf));
		CHECK(n > 0 && memmem(buf, (size_t)n, "user.test", 10), "listxattr has it");
		CHECK(fgetxattr(fd, "user.test", buf, sizeof(buf)) == 5, "fgetxattr");
		CHECK(lgetxattr(link, "user.test", buf, sizeof(buf)) < 0,
		      "lgetxattr on the symlink: not the file's (%s)", err_name(errno));
		CHECK(getxattr(link, "user.test", buf, sizeof(buf)) == 5, "getxattr through the symlink");
		CHECK_ERR(setxattr(file, "user.test", "x", 1, XATTR_CREATE), EEXIST, "XATTR_CREATE: EEXIST");
		CHECK_ERR(setxattr(file, "user.none", "x", 1, XATTR_REPLACE), ENODATA,
			  "XATTR_REPLACE of none: ENODATA");
		CHECK(fsetxattr(fd, "user.test", "new", 3, XATTR_REPLACE) == 0 &&
		      getxattr(file, "user.test", buf, sizeof(buf)) == 3, "fsetxattr, XATTR_REPLACE");
		CHECK(removexattr(file, "user.test") == 0, "removexattr");
		CHECK_ERR(getxattr(file, "user.test", buf, sizeof(buf)), ENODATA, "then: ENODATA");
		CHECK_ERR(fremovexattr(fd, "user.test"), ENODATA, "fremovexattr of none: ENODATA");
		CHECK_ERR(lsetxattr(link, "user.test", "x", 1, 0), EPERM,
			  "lsetxattr user.* on a symlink: EPERM");
	}
	e = ERRNO_OF(getxattr(file, "user.none", buf, sizeof(buf)));
	CHECK(e == ENODATA || e == ENOTSUP, "getxattr of none: %s", err_name(e));
	e = ERRNO_OF(lgetxattr(file, "security.selinux", buf, sizeof(buf)));
	/* What ls -l asks: the answer is the file system's (compared). */
	printf("# lgetxattr security.selinux: %s\n", err_name(e));
	ssize_t n = listxattr(file, buf, sizeof(buf));
	CHECK(n >= 0, "listxattr: %zd bytes", n);
	CHECK_ERR(getxattr(file, "", buf, sizeof(buf)), ERANGE, "an empty name: ERANGE");
	CHECK_ERR(setxattr(file, "user.x", "v", 1, 4), EINVAL, "a bad flag: EINVAL");
	CHECK_ERR(getxattr("/no/such/file", "user.x", buf, sizeof(buf)), ENOENT, "a missing file: ENOENT");
	CHECK_ERR(fgetxattr(-1, "user.x", buf, sizeof(buf)), EBADF, "a bad descriptor: EBADF");

	/* The guest port's own files, as Linux's procfs and devtmpfs. */
	CHECK_ERR(getxattr("/proc/self/status", "user.x", buf, sizeof(buf)), ENOTSUP,
		  "/proc/self/status: ENOTSUP");
	CHECK(listxattr("/proc/self/status", buf, sizeof(buf)) == 0, "/proc/self/status: no list");
	CHECK_ERR(getxattr("/dev/null", "user.x", buf, sizeof(buf)), ENODATA, "/dev/null, user.*: ENODATA");
	CHECK_ERR(setxattr("/dev/null", "user.x", "v", 1, 0), EPERM, "/dev/null, setting user.*: EPERM");

	close(fd);
	unlink(link);
	unlink(file);
}

static int64_t ns_of(const struct timeval *tv)
{
	return (int64_t)tv->tv_sec * 1000000000 + (int64_t)tv->tv_usec * 1000;
}

static int64_t cpu_ns(int who)
{
	struct rusage ru;

	if (getrusage(who, &ru) < 0)
		return -1;
	return ns_of(&ru.ru_utime) + ns_of(&ru.ru_stime);
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Burn CPU until getrusage says ns more were used; false after 20 s. */
static int burn(int64_t ns)
{
	int64_t start = cpu_ns(RUSAGE_SELF), end = mono_ns() + 20000000000ll;
	volatile uint64_t x = 0;

	while (cpu_ns(RUSAGE_SELF) - start < ns) {
		if (mono_ns() > end)
			return 0;
		for (int i = 0; i < 1000000; i++)
			x += (uint64_t)i * i;
	}
	return 1;
}

static void cpu_time(void)
{
	CHECK(cpu_ns(RUSAGE_CHILDREN) == 0, "RUSAGE_CHILDREN: none reaped yet");
	CHECK(burn(100000000), "getrusage(RUSAGE_SELF) grows as the process computes");
	CHECK(cpu_ns(RUSAGE_THREAD) >= 100000000, "RUSAGE_THREAD: the one thread's");
	struct tms tms;
	clock_t t0 = times(&tms);
	CHECK(t0 != (clock_t)-1 && tms.tms_utime + tms.tms_stime >= 8 * sysconf(_SC_CLK_TCK) / 100,
	      "times(): the CPU time in clock ticks (at least 80 ms of the 100)");
	usleep(30000);
	CHECK(times(NULL) - t0 >= 2, "times(): its return value moves with time");
	CHECK_ERR(getrusage(7, &(struct rusage){0}), EINVAL, "getrusage of 7: EINVAL");

	pid_t c = fork();
	if (c == 0)
		_exit(burn(100000000) ? 0 : 1);
	int status;
	struct rusage ru;
	CHECK(wait4(c, &status, 0, &ru) == c && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "a child computes");
	CHECK(ns_of(&ru.ru_utime) + ns_of(&ru.ru_stime) >= 100000000, "wait4: the child's rusage");
	CHECK(cpu_ns(RUSAGE_CHILDREN) >= 100000000, "RUSAGE_CHILDREN: the reaped child's");
	CHECK(times(&tms) != (clock_t)-1 && tms.tms_cutime + tms.tms_cstime >= 8 * sysconf(_SC_CLK_TCK) / 100,
	      "times(): the children's");
}

static void priority_and_cpus(void)
{
	errno = 0;
	CHECK(getpriority(PRIO_PROCESS, 0) == 0 && errno == 0, "getpriority: 0");
	CHECK(setpriority(PRIO_PROCESS, 0, 5) == 0 && getpriority(PRIO_PROCESS, 0) == 5,
	      "setpriority: 5");
	FILE *f = fopen("/proc/self/stat", "r");
	char line[1024] = "";
	if (f) {
		fgets(line, sizeof(line), f);
		fclose(f);
	}
	char *p = strrchr(line, ')');
	int prio = 0, nice = 0;
	CHECK(p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %d %d",
			  &prio, &nice) == 2 && prio == 25 && nice == 5,
	      "/proc/self/stat: priority and nice");
	int e = ERRNO_OF(setpriority(PRIO_PROCESS, 0, 0));
	CHECK(e == 0 || e == EACCES, "setpriority back to 0: %s", err_name(e));
	/* A process group of its own: PRIO_PGRP names it alone. */
	pid_t c = fork();
	if (c == 0) {
		if (setpgid(0, 0) < 0 || setpriority(PRIO_PGRP, 0, 7) < 0)
			_exit(1);
		errno = 0;
		_exit(getpriority(PRIO_PGRP, 0) == 7 && errno == 0 ? 0 : 2);
	}
	int status = -1;
	waitpid(c, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "setpriority and getpriority(PRIO_PGRP)");
	CHECK_ERR(getpriority(PRIO_PROCESS, 999999), ESRCH, "getpriority of no process: ESRCH");
	CHECK_ERR(getpriority(7, 0), EINVAL, "getpriority of 7: EINVAL");

	cpu_set_t set;
	CPU_ZERO(&set);
	long n = syscall(SYS_sched_getaffinity, 0, sizeof(set), &set);
	/* The size is Linux's cpumask_size(): of the possible CPUs. */
	CHECK(n >= 8 && n % 8 == 0 && CPU_COUNT(&set) == sysconf(_SC_NPROCESSORS_ONLN),
	      "sched_getaffinity: every CPU");
	CHECK_ERR(syscall(SYS_sched_getaffinity, 0, 4, &set), EINVAL, "a length of 4: EINVAL");
	CHECK_ERR(sched_getaffinity(999999, sizeof(set), &set), ESRCH, "of no process: ESRCH");
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	CHECK(sched_setaffinity(0, sizeof(one), &one) == 0 && sched_getaffinity(0, sizeof(set), &set) == 0 &&
	      CPU_COUNT(&set) == 1 && CPU_ISSET(0, &set), "sched_setaffinity: CPU 0 alone");
	CPU_ZERO(&one);
	CHECK_ERR(sched_setaffinity(0, sizeof(one), &one), EINVAL, "no CPU: EINVAL");
}

static void other_processes(void)
{
	int p[2];
	pipe(p);
	pid_t c = fork();
	if (c == 0) {
		char x;
		close(p[1]);
		read(p[0], &x, 1);	/* sleeps until the parent closes */
		_exit(0);
	}
	close(p[0]);
	usleep(100000);

	char path[64], line[1024] = "", mine[1024] = "";
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)c);
	FILE *f = fopen(path, "r");
	CHECK(f && fgets(line, sizeof(line), f), "/proc/CHILD/stat");
	if (f)
		fclose(f);
	int pid = 0, ppid = 0;
	char comm[64] = "", state = 0;
	CHECK(sscanf(line, "%d (%63[^)]) %c %d", &pid, comm, &state, &ppid) == 4 && pid == c &&
	      ppid == getpid() && state == 'S', "pid, state S (asleep), ppid");
	f = fopen("/proc/self/stat", "r");
	if (f) {
		fgets(mine, sizeof(mine), f);
		fclose(f);
	}
	CHECK(strstr(mine, comm) != NULL, "comm: the parent's (no exec)");

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)c);
	char a[4096] = "", b[4096] = "";
	int fa = open(path, O_RDONLY), fb = open("/proc/self/cmdline", O_RDONLY);
	ssize_t na = read(fa, a, sizeof(a)), nb = read(fb, b, sizeof(b));
	CHECK(na > 0 && na == nb && !memcmp(a, b, (size_t)na), "/proc/CHILD/cmdline: the same arguments");
	close(fa);
	close(fb);

	snprintf(path, sizeof(path), "/proc/%d/status", (int)c);
	f = fopen(path, "r");
	int found = 0;
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "PPid:", 5))
			found = atoi(line + 5) == getpid();
	if (f)
		fclose(f);
	CHECK(found, "/proc/CHILD/status: PPid");

	DIR *d = opendir("/proc");
	int listed = 0;
	struct dirent *de;
	while (d && (de = readdir(d)))
		listed |= atoi(de->d_name) == c;
	if (d)
		closedir(d);
	CHECK(listed, "/proc lists the child");

	close(p[1]);
	int status;
	waitpid(c, &status, 0);
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)c);
	CHECK(access(path, F_OK) < 0 && errno == ENOENT, "reaped: /proc/CHILD is gone");

	f = fopen("/proc/stat", "r");
	int cpus = 0;
	while (f && fgets(line, sizeof(line), f))
		cpus += !strncmp(line, "cpu", 3) && line[3] >= '0' && line[3] <= '9';
	if (f)
		fclose(f);
	CHECK(cpus == sysconf(_SC_NPROCESSORS_ONLN), "/proc/stat: a line per CPU");
	f = fopen("/proc/loadavg", "r");
	double l1;
	int running = 0, total = 0;
	CHECK(f && fscanf(f, "%lf %*f %*f %d/%d", &l1, &running, &total) == 3 && running >= 1 &&
	      total >= running, "/proc/loadavg: running and total");
	if (f)
		fclose(f);
}

/* A hexadecimal field of /proc/self/status (SigPnd, ...); all ones
 * when it is not there. */
static uint64_t status_field(const char *name)
{
	char line[256];
	size_t len = strlen(name);
	uint64_t v = ~0ull;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, name, len) && line[len] == ':')
			v = strtoull(line + len + 1, NULL, 16);
	if (f)
		fclose(f);
	return v;
}

static void on_usr1(int sig)
{
	(void)sig;
}

/* What ash's tests (busybox's sigquit_exec) and ps ask: the signal
 * lines of /proc/self/status, as fs/proc/array.c's task_sig() makes
 * them. */
static void status_signals(void)
{
#define BIT(s) (1ull << ((s) - 1))
	struct sigaction handler = {.sa_handler = on_usr1}, ignore = {.sa_handler = SIG_IGN};
	struct sigaction old_usr1, old_quit;
	sigset_t set, old;
	const uint64_t both = BIT(SIGUSR2) | BIT(SIGTERM);

	sigaction(SIGUSR1, &handler, &old_usr1);
	sigaction(SIGQUIT, &ignore, &old_quit);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, &old);
	syscall(SYS_tgkill, getpid(), gettid(), SIGUSR2);
	kill(getpid(), SIGTERM);

	CHECK((status_field("SigPnd") & both) == BIT(SIGUSR2), "SigPnd: what is pending for the thread");
	CHECK((status_field("ShdPnd") & both) == BIT(SIGTERM), "ShdPnd: what is pending for the process");
	CHECK((status_field("SigBlk") & both) == both, "SigBlk: the thread's mask");
	uint64_t ign = status_field("SigIgn"), cgt = status_field("SigCgt");
	CHECK((ign & BIT(SIGQUIT)) && !(ign & BIT(SIGUSR1)), "SigIgn: the signals set to SIG_IGN");
	CHECK((cgt & BIT(SIGUSR1)) && !(cgt & BIT(SIGQUIT)), "SigCgt: the signals with a handler");
	CHECK(status_field("Threads") == 1, "Threads: 1");

	struct timespec zero = {0, 0};
	sigtimedwait(&set, NULL, &zero);
	sigtimedwait(&set, NULL, &zero);
	CHECK((status_field("SigPnd") & both) == 0 && (status_field("ShdPnd") & both) == 0,
	      "and none once taken");
	sigprocmask(SIG_SETMASK, &old, NULL);
	sigaction(SIGUSR1, &old_usr1, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
#undef BIT
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: info_test DIR\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	cpu_time();
	xattrs(argv[1]);
	priority_and_cpus();
	other_processes();
	status_signals();
	return tap_done();
}
