// SPDX-License-Identifier: GPL-2.0
/*
 * Identity and the process's registrations: uname, the pid and uid
 * families (setuid and its kin without CAP_SETUID), resource limits, umask, prctl names, arch_prctl, the thread
 * registrations glibc makes (set_tid_address, robust lists, rseq), and
 * unknown system calls.
 *
 *	id_test HOSTNAME
 */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "tap.h"

static __thread int tls_var = 42;

int main(int argc, char **argv)
{
	struct utsname u;
	const char *host = argc > 1 ? argv[1] : "unpriv";

	CHECK(uname(&u) == 0 && !strcmp(u.sysname, "Linux") && !strcmp(u.machine, "x86_64"),
	      "uname: Linux on x86_64");
	CHECK(!strcmp(u.nodename, host), "uname: the guest's host name, %s", host);
	char hn[65];
	CHECK(gethostname(hn, sizeof(hn)) == 0 && !strcmp(hn, host), "gethostname");

	CHECK(getpid() == 1, "the first guest process is pid 1");
	CHECK(getppid() == 0, "its parent is 0");
	CHECK(syscall(SYS_gettid) == getpid(), "gettid of the only thread is the pid");
	CHECK(getpgrp() == getpid() && getsid(0) == getpid(), "it leads its group and session");
	CHECK_ERR(getpgid(12345), ESRCH, "getpgid of another process: ESRCH");

	uid_t r, e, s;
	gid_t gr, ge, gs;
	CHECK(getresuid(&r, &e, &s) == 0 && r == getuid() && e == geteuid() && s == e, "getresuid");
	CHECK(getresgid(&gr, &ge, &gs) == 0 && gr == getgid() && ge == getegid(), "getresgid");
	int ng = getgroups(0, NULL);
	gid_t groups[64];
	CHECK(ng >= 0 && getgroups(64, groups) == ng, "getgroups");

	/* The guest has no CAP_SETUID or CAP_SETGID, root or not: its ids
	 * change among its real, effective and saved ones only. */
	uid_t other = r + 1;
	CHECK(syscall(SYS_setuid, r) == 0 && syscall(SYS_setresuid, -1, -1, -1) == 0 &&
	      syscall(SYS_setresuid, r, e, s) == 0 && syscall(SYS_setreuid, -1, e) == 0 &&
	      syscall(SYS_setgid, gr) == 0 && syscall(SYS_setresgid, gr, ge, gs) == 0 &&
	      syscall(SYS_setregid, gr, -1) == 0, "setuid and its kin to the ids it has");
	CHECK_ERR(syscall(SYS_setuid, -1), EINVAL, "setuid(-1): EINVAL");
	CHECK_ERR(syscall(SYS_setuid, other), EPERM, "setuid to another id: EPERM");
	CHECK_ERR(syscall(SYS_setresuid, -1, other, -1), EPERM, "setresuid to another id: EPERM");
	CHECK_ERR(syscall(SYS_setreuid, other, -1), EPERM, "setreuid to another id: EPERM");
	CHECK_ERR(syscall(SYS_setgid, gr + 1), EPERM, "setgid to another id: EPERM");
	CHECK_ERR(syscall(SYS_setgroups, 0, NULL), EPERM, "setgroups: EPERM");
	CHECK(syscall(SYS_setfsuid, -1) == (long)e && syscall(SYS_setfsuid, other) == (long)e &&
	      syscall(SYS_setfsuid, -1) == (long)e, "setfsuid: the old id; another is not taken");
	uid_t r2, e2, s2;
	CHECK(getresuid(&r2, &e2, &s2) == 0 && r2 == r && e2 == e && s2 == s, "the ids are as they were");

	struct rlimit rl;
	CHECK(getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur == 8 << 20, "RLIMIT_STACK is 8 MiB");
	CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur == 1024, "RLIMIT_NOFILE is 1024");
	struct rlimit low = {8, rl.rlim_max};
	CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0, "lower RLIMIT_NOFILE to 8");
	int fd, last = -1;
	while ((fd = open("/dev/null", O_RDONLY)) >= 0)
		last = fd;
	CHECK(last == 7 && errno == EMFILE, "the eighth descriptor is the last: EMFILE");
	for (; last > 2; last--)
		close(last);
	struct rlimit bad = {10, 5};
	CHECK_ERR(setrlimit(RLIMIT_NOFILE, &bad), EINVAL, "soft above hard: EINVAL");
	CHECK_ERR(prlimit(12345, RLIMIT_NOFILE, NULL, &rl), ESRCH, "prlimit of another process: ESRCH");
	CHECK(prlimit(0, RLIMIT_NOFILE, &rl, &low) == 0 && low.rlim_cur == 8, "prlimit sets and gets");

	CHECK(umask(027) == 022 && umask(022) == 027, "umask");

	char name[16];
	CHECK(prctl(PR_SET_NAME, "a-long-thread-name") == 0 && prctl(PR_GET_NAME, name) == 0 &&
	      !strcmp(name, "a-long-thread-n"), "PR_SET_NAME keeps 15 bytes");
	char comm[32] = {0};
	int cfd = open("/proc/self/comm", O_RDONLY);
	CHECK(cfd >= 0 && read(cfd, comm, sizeof(comm)) > 0 && !strcmp(comm, "a-long-thread-n\n"),
	      "/proc/self/comm shows it");
	CHECK_ERR(prctl(0x7fff), EINVAL, "an unknown prctl: EINVAL");

	unsigned long fs = 0;
	CHECK(syscall(SYS_arch_prctl, ARCH_GET_FS, &fs) == 0 && fs != 0, "ARCH_GET_FS");
	CHECK(tls_var == 42, "thread-local storage works through it");
	CHECK_ERR(syscall(SYS_arch_prctl, ARCH_SET_FS, 0xffff800000000000ul), EPERM,
		  "ARCH_SET_FS to a kernel address: EPERM");
	CHECK_ERR(syscall(SYS_arch_prctl, 0x9999, 0), EINVAL, "an unknown arch_prctl: EINVAL");

	int tid_word;
	CHECK(syscall(SYS_set_tid_address, &tid_word) == getpid(), "set_tid_address returns the tid");
	struct robust_list_head head = {{&head.list}, 0, NULL};
	CHECK(syscall(SYS_set_robust_list, &head, sizeof(head)) == 0, "set_robust_list");
	CHECK_ERR(syscall(SYS_set_robust_list, &head, 7), EINVAL, "set_robust_list of a bad size: EINVAL");
	CHECK_ERR(syscall(SYS_rseq, NULL, 32, 0, 0), ENOSYS, "rseq is declined: ENOSYS");
	CHECK_ERR(syscall(511), ENOSYS, "a number with no system call: ENOSYS");
	CHECK_ERR(syscall(1000), ENOSYS, "a number past the table: ENOSYS");

	unsigned char a[16] = {0}, b[16] = {0};
	CHECK(getrandom(a, 16, 0) == 16 && getrandom(b, 16, GRND_NONBLOCK) == 16 && memcmp(a, b, 16),
	      "getrandom");
	CHECK_ERR(getrandom(a, 16, 0x100), EINVAL, "getrandom with an unknown flag: EINVAL");
	CHECK(sched_yield() == 0, "sched_yield");
	struct sysinfo si;
	CHECK(sysinfo(&si) == 0 && si.totalram > 0 && si.procs == 1, "sysinfo");
	return tap_done();
}
