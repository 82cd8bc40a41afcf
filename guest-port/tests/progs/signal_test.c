// SPDX-License-Identifier: GPL-2.0
/*
 * Signals: the synchronous signals of faults and traps to a handler,
 * with Linux's si_code, si_addr and sigcontext (SIGSEGV fixed up by
 * mprotect, SIGILL, SIGFPE, SIGTRAP, SIGBUS), blocked or ignored ones
 * that kill, sigaltstack (a stack overflow handled on it), SA_RESTART
 * and EINTR on a blocking pipe read, rt_sigtimedwait, sigqueue and
 * rt_sigqueueinfo, itimers and POSIX timers, nanosleep's time left and
 * its restart after a stop, restart_syscall with nothing to restart
 * (EINTR), SIGCHLD's siginfo on stop, continue and
 * exit, SA_NOCLDSTOP and SA_NOCLDWAIT, a signal to a stopped process
 * group, a frame rt_sigreturn cannot read.  Each check holds natively too.
 *
 *	signal_test		all but the terminal's
 *	signal_test tty		job control on the terminal that is its
 *				standard input and output (run in a new
 *				session whose controlling terminal it is,
 *				as script(1) runs a program)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "tap.h"

/*
 * A check whose figures change from run to run (times, addresses):
 * they are printed when it fails only, so that a passing run prints
 * what a native one does (progs-check compares them).
 */
#define CHECK_SHOW(cond, what, ...)                                          \
	do {                                                                 \
		int show_ok_ = !!(cond);                                     \
		CHECK(show_ok_, what);                                       \
		if (!show_ok_)                                               \
			printf("#   " __VA_ARGS__), printf("\n");              \
	} while (0)

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1 << 31)
#endif

static const long ms = 1000000;

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void msleep(long n)
{
	struct timespec ts = {n / 1000, (n % 1000) * ms};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void on(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
	struct sigaction sa = {.sa_sigaction = fn, .sa_flags = SA_SIGINFO | flags};

	sigaction(sig, &sa, NULL);
}

static void dfl(int sig)
{
	signal(sig, SIG_DFL);
}

static void block(int sig, int how)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, sig);
	sigprocmask(how, &s, NULL);
}

/* The child's wait status, -1 if waitpid failed. */
static int reap(pid_t pid)
{
	int st;

	return waitpid(pid, &st, 0) == pid ? st : -1;
}

/* --- faults and traps ------------------------------------------------------ */

static siginfo_t got;
static long long got_trapno, got_err, got_rip;
static char *fix_page;
static sigjmp_buf escape;

static void record(siginfo_t *si, void *ucp)
{
	ucontext_t *uc = ucp;

	got = *si;
	got_trapno = uc->uc_mcontext.gregs[REG_TRAPNO];
	got_err = uc->uc_mcontext.gregs[REG_ERR];
	got_rip = uc->uc_mcontext.gregs[REG_RIP];
}

/* Makes the page writable and returns: the write is made again. */
static void on_segv_fix(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	record(si, uc);
	mprotect(fix_page, 4096, PROT_READ | PROT_WRITE);
}

static void on_fault_escape(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	record(si, uc);
	siglongjmp(escape, 1);
}

/* Steps over the two-byte instruction that trapped. */
static void on_trap_skip(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	record(si, uc);
	((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP] += 2;
}

static void on_trap_record(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	record(si, uc);
}

extern char ud2_insn[], div_insn[], int3_insn[];

static void faults(void)
{
	/* A write to a read-only page: the handler makes it writable. */
	fix_page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	on(SIGSEGV, on_segv_fix, 0);
	(void)*(volatile char *)fix_page;	/* present: a protection fault */
	*(volatile char *)(fix_page + 100) = 42;
	CHECK(fix_page[100] == 42, "SIGSEGV: the handler mprotects, the write goes on");
	CHECK(got.si_signo == SIGSEGV && got.si_code == SEGV_ACCERR &&
	      got.si_addr == fix_page + 100,
	      "SIGSEGV: SEGV_ACCERR at the address (code %d)", got.si_code);
	CHECK(got_trapno == 14 && got_err == 7, "SIGSEGV: sigcontext trapno 14, err 7 (%lld, %lld)",
	      got_trapno, got_err);

	/* An unmapped page. */
	char *gone = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(gone, 4096);
	on(SIGSEGV, on_fault_escape, 0);
	if (!sigsetjmp(escape, 1))
		*(volatile char *)(gone + 8) = 1;
	CHECK(got.si_signo == SIGSEGV && got.si_code == SEGV_MAPERR && got.si_addr == gone + 8,
	      "SIGSEGV: SEGV_MAPERR at the address (code %d)", got.si_code);
	CHECK(got_trapno == 14 && got_err == 6, "SIGSEGV: sigcontext trapno 14, err 6 (%lld, %lld)",
	      got_trapno, got_err);
	dfl(SIGSEGV);

	on(SIGILL, on_trap_skip, 0);
	__asm__ volatile("ud2_insn: ud2");
	CHECK(got.si_signo == SIGILL && got.si_code == ILL_ILLOPN && got.si_addr == ud2_insn &&
	      got_rip == (long long)ud2_insn && got_trapno == 6,
	      "ud2: SIGILL, ILL_ILLOPN at the instruction (code %d, trapno %lld)", got.si_code,
	      got_trapno);
	dfl(SIGILL);

	on(SIGFPE, on_trap_skip, 0);
	__asm__ volatile("xor %%edx, %%edx; mov $1, %%eax; xor %%ecx, %%ecx\n"
			 "div_insn: divl %%ecx" ::: "eax", "ecx", "edx");
	CHECK(got.si_signo == SIGFPE && got.si_code == FPE_INTDIV && got.si_addr == div_insn &&
	      got_trapno == 0,
	      "division by zero: SIGFPE, FPE_INTDIV at the instruction (code %d)", got.si_code);
	dfl(SIGFPE);

	on(SIGTRAP, on_trap_record, 0);
	__asm__ volatile("int3_insn: int3");
	CHECK(got.si_signo == SIGTRAP && got.si_code == SI_KERNEL &&
	      got_rip == (long long)int3_insn + 1 && got_trapno == 3,
	      "int3: SIGTRAP, SI_KERNEL, after the instruction (code %d, trapno %lld)",
	      got.si_code, got_trapno);
	dfl(SIGTRAP);

	/* Past the end of a mapped file. */
	char name[] = "/tmp/signal-test-XXXXXX";
	int fd = mkstemp(name);
	unlink(name);
	if (fd < 0 || ftruncate(fd, 4096) < 0) {
		SKIP("no file in /tmp", "SIGBUS past the end of a file");
	} else {
		char *m = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, 0);
		on(SIGBUS, on_fault_escape, 0);
		memset(&got, 0, sizeof(got));
		if (!sigsetjmp(escape, 1))
			(void)*(volatile char *)(m + 4096 + 16);
		CHECK(got.si_signo == SIGBUS && got.si_code == BUS_ADRERR &&
		      got.si_addr == m + 4096 + 16,
		      "past the end of a file: SIGBUS, BUS_ADRERR at the address (code %d)",
		      got.si_code);
		dfl(SIGBUS);
		munmap(m, 8192);
		close(fd);
	}

	/* Blocked or ignored, a fault's signal kills all the same. */
	for (int how = 0; how < 2; how++) {
		pid_t pid = fork();
		if (pid == 0) {
			if (how)
				signal(SIGSEGV, SIG_IGN);
			else
				block(SIGSEGV, SIG_BLOCK);
			*(volatile char *)(gone + 8) = 1;
			_exit(0);
		}
		int st = reap(pid);
		CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "a %s SIGSEGV kills (status %#x)",
		      how ? "ignored" : "blocked", st);
	}
}

/* --- sigaltstack ------------------------------------------------------------- */

static char *alt;
static const size_t alt_size = 64 * 1024;
static volatile int on_alt, alt_eperm, alt_flags_in, alt_try;
static stack_t uc_stack;

static void on_alt_signal(int sig, siginfo_t *si, void *ucp)
{
	char here;
	stack_t cur, try = {.ss_sp = alt, .ss_size = alt_size};

	(void)sig;
	(void)si;
	on_alt = &here > alt && &here < alt + alt_size;
	uc_stack = ((ucontext_t *)ucp)->uc_stack;
	sigaltstack(NULL, &cur);
	alt_flags_in = cur.ss_flags;
	if (alt_try)
		alt_eperm = sigaltstack(&try, NULL) < 0 && errno == EPERM;
}

static int depth(int n)
{
	volatile char pad[1024];

	pad[0] = (char)n;
	return n > 0 ? depth(n + 1) + pad[0] : 0;
}

static void on_overflow(int sig, siginfo_t *si, void *uc)
{
	char here;

	(void)si;
	(void)uc;
	_exit(&here > alt && &here < alt + alt_size && sig == SIGSEGV ? 7 : 1);
}

static void altstacks(void)
{
	stack_t ss, old = {0};

	CHECK(sigaltstack(NULL, &old) == 0 && old.ss_flags == SS_DISABLE,
	      "sigaltstack: none at first (flags %d)", old.ss_flags);
	alt = mmap(NULL, alt_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ss = (stack_t){.ss_sp = alt, .ss_size = 1024};
	CHECK_ERR(sigaltstack(&ss, NULL), ENOMEM, "sigaltstack below MINSIGSTKSZ: ENOMEM");
	ss = (stack_t){.ss_sp = alt, .ss_size = alt_size, .ss_flags = 8};
	CHECK_ERR(sigaltstack(&ss, NULL), EINVAL, "sigaltstack with bad flags: EINVAL");
	CHECK_ERR(syscall(SYS_sigaltstack, (void *)8, NULL), EFAULT, "sigaltstack: EFAULT");
	CHECK_ERR(syscall(SYS_sigaltstack, NULL, (void *)8), EFAULT,
		  "sigaltstack: EFAULT for the old stack");
	ss.ss_flags = 0;
	CHECK(sigaltstack(&ss, NULL) == 0, "sigaltstack set");
	CHECK(sigaltstack(NULL, &old) == 0 && old.ss_sp == alt && old.ss_size == alt_size &&
	      old.ss_flags == 0, "sigaltstack: the stack reads back");

	on(SIGUSR1, on_alt_signal, SA_ONSTACK);
	alt_try = 1;
	raise(SIGUSR1);
	alt_try = 0;
	CHECK(on_alt, "an SA_ONSTACK handler runs on the alternate stack");
	CHECK(alt_flags_in == SS_ONSTACK, "in it, sigaltstack says SS_ONSTACK (%d)", alt_flags_in);
	CHECK(alt_eperm, "changing it while on it: EPERM");
	CHECK(uc_stack.ss_sp == alt && uc_stack.ss_size == alt_size && uc_stack.ss_flags == 0,
	      "the frame's uc_stack is the alternate stack (flags %d)", uc_stack.ss_flags);

	/* SS_AUTODISARM: off while the handler runs, back at its return. */
	ss.ss_flags = SS_AUTODISARM;
	sigaltstack(&ss, NULL);
	raise(SIGUSR1);
	CHECK(on_alt && alt_flags_in == SS_DISABLE,
	      "SS_AUTODISARM: disarmed in the handler (flags %d)", alt_flags_in);
	CHECK(uc_stack.ss_flags == SS_AUTODISARM, "SS_AUTODISARM: in the frame's uc_stack");
	CHECK(sigaltstack(NULL, &old) == 0 && old.ss_sp == alt && old.ss_flags == SS_AUTODISARM,
	      "SS_AUTODISARM: back after the handler (flags %d)", old.ss_flags);

	on(SIGUSR1, on_alt_signal, 0);
	raise(SIGUSR1);
	CHECK(!on_alt, "a handler without SA_ONSTACK stays on the stack");
	dfl(SIGUSR1);

	ss.ss_flags = SS_DISABLE;
	CHECK(sigaltstack(&ss, NULL) == 0 && sigaltstack(NULL, &old) == 0 &&
	      old.ss_flags == SS_DISABLE && old.ss_size == 0, "SS_DISABLE");

	/* A stack overflow, handled on the alternate stack, which a child
	 * inherits. */
	ss = (stack_t){.ss_sp = alt, .ss_size = alt_size};
	sigaltstack(&ss, NULL);
	pid_t pid = fork();
	if (pid == 0) {
		if (sigaltstack(NULL, &old) < 0 || old.ss_sp != alt || old.ss_size != alt_size)
			_exit(4);
		on(SIGSEGV, on_overflow, SA_ONSTACK);
		_exit(depth(1) ? 2 : 3);
	}
	ss.ss_flags = SS_DISABLE;
	sigaltstack(&ss, NULL);
	int st = reap(pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7,
	      "a stack overflow's SIGSEGV is handled on the inherited alternate stack (status %#x)",
	      st);

	/* Without one, the overflow kills. */
	pid = fork();
	if (pid == 0) {
		on(SIGSEGV, on_overflow, 0);
		_exit(depth(1) ? 2 : 3);
	}
	st = reap(pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV,
	      "a stack overflow without an alternate stack kills (status %#x)", st);
}

/* --- interrupted calls --------------------------------------------------------- */

static int pipe_w;
static volatile int alarms;

static void on_alarm_write(int sig)
{
	(void)sig;
	alarms++;
	(void)write(pipe_w, "x", 1);
}

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static void arm(long usec)
{
	struct itimerval it = {{0, 0}, {usec / 1000000, usec % 1000000}};

	setitimer(ITIMER_REAL, &it, NULL);
}

static void interrupted(void)
{
	int p[2];
	char c;
	struct sigaction sa = {.sa_handler = on_alarm_write};

	if (pipe(p) < 0)
		return;
	pipe_w = p[1];
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	arm(30000);
	CHECK(read(p[0], &c, 1) == 1 && c == 'x' && alarms == 1,
	      "SA_RESTART: a blocking pipe read goes on after the handler");
	sa.sa_flags = 0;
	sigaction(SIGALRM, &sa, NULL);
	arm(30000);
	CHECK_ERR(read(p[0], &c, 1), EINTR, "without SA_RESTART: the read fails with EINTR");
	CHECK(read(p[0], &c, 1) == 1, "the handler's byte is there after");
	close(p[0]);
	close(p[1]);

	/* nanosleep: EINTR with the time left. */
	signal(SIGALRM, on_alarm);
	struct timespec req = {0, 300 * ms}, rem = {0, 0};
	arm(50000);
	long long t0 = now_ns();
	int r = nanosleep(&req, &rem);
	long long took = now_ns() - t0;
	long left = rem.tv_sec * 1000000000L + rem.tv_nsec;
	CHECK(r < 0 && errno == EINTR, "nanosleep broken by a handler: EINTR");
	/* Broken after 50 ms: not all of it left, and no more than what
	 * was left when the call returned (a slow machine takes a while
	 * from the signal to the return). */
	CHECK_SHOW(left > 0 && left <= 260 * ms && left >= 300 * ms - took - 5 * ms,
		   "nanosleep: the time left", "%ld ms of 300 left after %lld ms", left / ms,
		   took / ms);
	arm(50000);
	rem.tv_sec = rem.tv_nsec = 0;
	r = clock_nanosleep(CLOCK_MONOTONIC, 0, &req, &rem);
	CHECK(r == EINTR && rem.tv_nsec > 0,
	      "clock_nanosleep broken by a handler: EINTR, time left");
	dfl(SIGALRM);
	/* The handler's return forgot the sleep: restart_syscall made by
	 * the program itself has nothing to go on with (Linux's
	 * do_no_restart_syscall()). */
	CHECK_ERR(syscall(SYS_restart_syscall), EINTR,
		  "restart_syscall with nothing to restart: EINTR");

	/* Stopped and continued (no handler): the sleep goes on for what
	 * was left, not for its whole time again.  The parent writes when
	 * it continued the child in a shared page: all of it again would
	 * end 200 ms after that at least, whatever the machine's load did
	 * to the rest. */
	volatile long long *cont_ns = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
					   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (cont_ns == MAP_FAILED)
		cont_ns = NULL;
	pid_t pid = cont_ns ? fork() : -1;
	if (pid == 0) {
		struct timespec d = {0, 200 * ms};
		long long s = now_ns();
		nanosleep(&d, NULL);
		long long end = now_ns();
		/* Not short of its time, and not all of it after the stop. */
		_exit(end - s < 200 * ms ? 1 : end - *cont_ns >= 190 * ms ? 2 : 0);
	}
	int st = -1;
	if (pid > 0) {
		msleep(50);
		kill(pid, SIGSTOP);
		waitpid(pid, &st, WUNTRACED);
		msleep(120);
		*cont_ns = now_ns();
		kill(pid, SIGCONT);
		st = reap(pid);
	}
	CHECK(pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "a nanosleep stopped and continued ends at its time (status %#x)", st);
	if (cont_ns)
		munmap((void *)cont_ns, 4096);
}

/* --- waiting for signals, queueing them --------------------------------------- */

static void waiting(void)
{
	sigset_t set;
	siginfo_t si;
	struct timespec zero = {0, 0}, fifty = {0, 50 * ms};

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	kill(getpid(), SIGUSR1);
	kill(getpid(), SIGUSR1);
	CHECK(sigtimedwait(&set, &si, &zero) == SIGUSR1 && si.si_code == SI_USER &&
	      si.si_pid == getpid() && si.si_uid == getuid(),
	      "rt_sigtimedwait takes a pending signal, SI_USER from us");
	CHECK_ERR(sigtimedwait(&set, &si, &zero), EAGAIN,
		  "a standard signal sent twice is pending once: EAGAIN after");
	long long t0 = now_ns();
	CHECK_ERR(sigtimedwait(&set, &si, &fifty), EAGAIN, "rt_sigtimedwait's timeout: EAGAIN");
	long long waited = now_ns() - t0;
	CHECK_SHOW(waited >= 50 * ms, "after the timeout", "%lld ms", waited / ms);
	struct timespec bad = {0, 1000000000};
	CHECK_ERR(sigtimedwait(&set, &si, &bad), EINVAL, "rt_sigtimedwait: a bad timeout, EINVAL");
	CHECK_ERR(syscall(SYS_rt_sigtimedwait, &set, &si, &zero, 4), EINVAL,
		  "rt_sigtimedwait: a bad set size, EINVAL");
	CHECK_ERR(syscall(SYS_rt_sigtimedwait, (void *)8, &si, &zero, 8), EFAULT,
		  "rt_sigtimedwait: EFAULT");

	/* Without a timeout: a signal that comes later. */
	sigaddset(&set, SIGALRM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	arm(20000);
	CHECK(sigwaitinfo(&set, &si) == SIGALRM && si.si_code == SI_KERNEL,
	      "rt_sigtimedwait without a timeout: the itimer's SIGALRM, SI_KERNEL (code %d)",
	      si.si_code);

	/* A signal it does not wait for ends it: EINTR. */
	on(SIGUSR2, on_trap_record, 0);
	pid_t pid = fork();
	if (pid == 0) {
		msleep(30);
		kill(getppid(), SIGUSR2);
		_exit(0);
	}
	got.si_signo = 0;
	CHECK_ERR(sigtimedwait(&set, &si, NULL), EINTR,
		  "rt_sigtimedwait broken by another signal's handler: EINTR");
	CHECK(got.si_signo == SIGUSR2 && got.si_pid == pid, "that handler ran, with the sender");
	reap(pid);
	dfl(SIGUSR2);

	/* Real-time signals queue, with their values. */
	int rt = SIGRTMIN + 2;
	sigemptyset(&set);
	sigaddset(&set, rt);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigqueue(getpid(), rt, (union sigval){.sival_int = 11});
	sigqueue(getpid(), rt, (union sigval){.sival_int = 22});
	int a = sigtimedwait(&set, &si, &zero), va = si.si_value.sival_int, ca = si.si_code;
	int b = sigtimedwait(&set, &si, &zero), vb = si.si_value.sival_int;
	CHECK(a == rt && b == rt && va == 11 && vb == 22 && ca == SI_QUEUE,
	      "sigqueue: real-time signals queue in order with their values (%d %d)", va, vb);

	/* rt_sigqueueinfo: only to ourselves as the kernel or kill(). */
	pid = fork();
	if (pid == 0) {
		pause();
		_exit(0);
	}
	siginfo_t info = {.si_signo = SIGUSR1, .si_code = SI_USER, .si_pid = getpid()};
	CHECK_ERR(syscall(SYS_rt_sigqueueinfo, pid, SIGUSR1, &info), EPERM,
		  "rt_sigqueueinfo with si_code SI_USER to another process: EPERM");
	info.si_code = SI_KERNEL;
	CHECK_ERR(syscall(SYS_rt_tgsigqueueinfo, pid, pid, SIGUSR1, &info), EPERM,
		  "rt_tgsigqueueinfo with si_code SI_KERNEL to another process: EPERM");
	CHECK_ERR(syscall(SYS_rt_sigqueueinfo, 999999, SIGUSR1, &info), EPERM,
		  "rt_sigqueueinfo: EPERM before ESRCH");
	info.si_code = SI_QUEUE;
	CHECK_ERR(syscall(SYS_rt_sigqueueinfo, 999999, SIGUSR1, &info), ESRCH,
		  "rt_sigqueueinfo to nobody: ESRCH");
	CHECK_ERR(syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, (void *)8), EFAULT,
		  "rt_sigqueueinfo: EFAULT");
	CHECK_ERR(syscall(SYS_rt_sigqueueinfo, getpid(), 99, &info), EINVAL,
		  "rt_sigqueueinfo: a bad signal, EINVAL");
	info.si_code = SI_USER;
	info.si_value.sival_int = 5;
	CHECK(syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, &info) == 0,
	      "rt_sigqueueinfo with SI_USER to ourselves");
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	CHECK(sigtimedwait(&set, &si, &zero) == SIGUSR1 && si.si_code == SI_USER &&
	      si.si_pid == getpid(), "its siginfo is what we gave");
	kill(pid, SIGKILL);
	reap(pid);
}

/* --- timers ----------------------------------------------------------------------- */

static void timers(void)
{
	sigset_t set;
	siginfo_t si;
	struct itimerval it = {{0, 10000}, {0, 10000}}, old;

	/* alarm */
	CHECK(alarm(5) == 0, "alarm: none before");
	CHECK(alarm(0) == 5, "alarm: the seconds left, rounded");

	/* A periodic ITIMER_REAL, counted by sigwaitinfo. */
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	long long t0 = now_ns();
	setitimer(ITIMER_REAL, &it, NULL);
	int n = 0;
	while (n < 5 && sigwaitinfo(&set, &si) == SIGALRM)
		n++;
	long long took = now_ns() - t0;
	CHECK_SHOW(n == 5 && took >= 50 * ms, "ITIMER_REAL every 10 ms: 5 expiries in 50 ms or more",
		   "%d in %lld ms", n, took / ms);
	CHECK(getitimer(ITIMER_REAL, &old) == 0 && old.it_interval.tv_usec == 10000 &&
	      old.it_value.tv_usec <= 10000, "getitimer: the interval, the time left");
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	struct timespec zero = {0, 0};
	sigtimedwait(&set, &si, &zero);
	CHECK(getitimer(ITIMER_REAL, &old) == 0 && old.it_value.tv_usec == 0 &&
	      old.it_value.tv_sec == 0, "setitimer with zero disarms");
	it.it_value.tv_usec = 1000000;
	CHECK_ERR(setitimer(ITIMER_REAL, &it, NULL), EINVAL, "setitimer: a bad time, EINVAL");

	/* A POSIX timer: its signal, value and overruns. */
	int rt = SIGRTMIN + 1;
	sigemptyset(&set);
	sigaddset(&set, rt);
	sigprocmask(SIG_BLOCK, &set, NULL);
	struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = rt,
			      .sigev_value.sival_int = 77};
	timer_t id;
	CHECK(timer_create(CLOCK_MONOTONIC, &ev, &id) == 0, "timer_create");
	struct itimerspec its = {{0, 10 * ms}, {0, 10 * ms}}, cur;
	t0 = now_ns();
	CHECK(timer_settime(id, 0, &its, NULL) == 0, "timer_settime, every 10 ms");
	msleep(65);
	int sig = sigtimedwait(&set, &si, &zero);
	long long expiries = (now_ns() - t0) / (10 * ms);
	CHECK(sig == rt && si.si_code == SI_TIMER &&
	      si.si_value.sival_int == 77 && si.si_timerid == (int)(intptr_t)id,
	      "its signal: SI_TIMER, the value, the timer's id (code %d)", si.si_code);
	int overrun = si.si_overrun;
	/* One signal for many expiries: the others are its overruns. */
	CHECK_SHOW(overrun >= 3 && overrun < expiries, "the expiries while it was pending: overruns",
		   "%d overruns of %lld expiries", overrun, expiries);
	int last = timer_getoverrun(id);
	CHECK_SHOW(last == overrun, "timer_getoverrun: the same", "%d, not %d", last, overrun);
	CHECK(timer_gettime(id, &cur) == 0 && cur.it_interval.tv_nsec == 10 * ms &&
	      cur.it_value.tv_nsec <= 10 * ms, "timer_gettime");
	CHECK(timer_delete(id) == 0, "timer_delete");
	CHECK_ERR(timer_gettime(id, &cur), EINVAL, "a deleted timer: EINVAL");
	CHECK_ERR(timer_delete(id), EINVAL, "deleted again: EINVAL");
	ev.sigev_notify = 99;
	CHECK_ERR(timer_create(CLOCK_MONOTONIC, &ev, &id), EINVAL, "timer_create: bad notify");

	/* CLOCK_REALTIME, at an absolute time. */
	ev = (struct sigevent){.sigev_notify = SIGEV_SIGNAL, .sigev_signo = rt};
	timer_create(CLOCK_REALTIME, &ev, &id);
	struct timespec wall;
	clock_gettime(CLOCK_REALTIME, &wall);
	wall.tv_nsec += 30 * ms;
	if (wall.tv_nsec >= 1000000000) {
		wall.tv_sec++;
		wall.tv_nsec -= 1000000000;
	}
	its = (struct itimerspec){{0, 0}, wall};
	t0 = now_ns();
	timer_settime(id, TIMER_ABSTIME, &its, NULL);
	int got_rt = sigwaitinfo(&set, &si);
	long long after = now_ns() - t0;
	CHECK_SHOW(got_rt == rt && after >= 25 * ms, "a CLOCK_REALTIME timer at an absolute time",
		   "signal %d after %lld ms", got_rt, after / ms);
	timer_delete(id);

	/* SIGEV_NONE: no signal, the time runs. */
	ev.sigev_notify = SIGEV_NONE;
	timer_create(CLOCK_MONOTONIC, &ev, &id);
	its = (struct itimerspec){{0, 0}, {1, 0}};
	timer_settime(id, 0, &its, NULL);
	msleep(20);
	CHECK_SHOW(timer_gettime(id, &cur) == 0 && cur.it_value.tv_sec == 0 &&
		   cur.it_value.tv_nsec > 500 * ms && cur.it_value.tv_nsec < 985 * ms,
		   "SIGEV_NONE: timer_gettime counts down", "%ld ms left", cur.it_value.tv_nsec / ms);
	timer_delete(id);
	sigprocmask(SIG_UNBLOCK, &set, NULL);

	/* Bad input. */
	CHECK_ERR(timer_create(99, NULL, &id), EINVAL, "timer_create on no clock: EINVAL");
	CHECK_ERR(syscall(SYS_timer_create, CLOCK_MONOTONIC, NULL, (void *)8), EFAULT,
		  "timer_create to a bad address: EFAULT");
	timer_create(CLOCK_MONOTONIC, NULL, &id);
	its = (struct itimerspec){{0, 0}, {0, 1000000000}};
	CHECK_ERR(timer_settime(id, 0, &its, NULL), EINVAL, "timer_settime: a bad time, EINVAL");
	CHECK_ERR(timer_settime(id, 0, (void *)8, NULL), EFAULT, "timer_settime: EFAULT");
	CHECK_ERR(timer_settime(id, 2, &its, NULL), EINVAL, "timer_settime: bad flags, EINVAL");
	timer_delete(id);
	CHECK_ERR(setitimer(99, &it, NULL), EINVAL, "setitimer of no timer: EINVAL");
}

/* --- SIGCHLD ------------------------------------------------------------------------- */

static void children(void)
{
	sigset_t set;
	siginfo_t si;
	struct timespec zero = {0, 0}, second = {1, 0};
	int st;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	pid_t pid = fork();
	if (pid == 0) {
		for (;;)
			pause();
	}
	kill(pid, SIGSTOP);
	CHECK(sigtimedwait(&set, &si, &second) == SIGCHLD && si.si_code == CLD_STOPPED &&
	      si.si_pid == pid && si.si_status == SIGSTOP && si.si_uid == getuid(),
	      "SIGCHLD for a stop: CLD_STOPPED, the pid, SIGSTOP (code %d status %d)",
	      si.si_code, si.si_status);
	waitpid(pid, &st, WUNTRACED);
	kill(pid, SIGCONT);
	CHECK(sigtimedwait(&set, &si, &second) == SIGCHLD && si.si_code == CLD_CONTINUED &&
	      si.si_pid == pid && si.si_status == SIGCONT,
	      "SIGCHLD for a continue: CLD_CONTINUED, SIGCONT (code %d)", si.si_code);
	waitpid(pid, &st, WCONTINUED);
	kill(pid, SIGTERM);
	CHECK(sigtimedwait(&set, &si, &second) == SIGCHLD && si.si_code == CLD_KILLED &&
	      si.si_pid == pid && si.si_status == SIGTERM,
	      "SIGCHLD for a kill: CLD_KILLED, SIGTERM (code %d)", si.si_code);
	reap(pid);

	pid = fork();
	if (pid == 0) {
		/* Some CPU time to show. */
		long long end = now_ns() + 30 * ms;
		while (now_ns() < end)
			;
		_exit(3);
	}
	CHECK(sigtimedwait(&set, &si, &second) == SIGCHLD && si.si_code == CLD_EXITED &&
	      si.si_pid == pid && si.si_status == 3,
	      "SIGCHLD for an exit: CLD_EXITED, the status (code %d status %d)", si.si_code,
	      si.si_status);
	struct rusage ru;
	wait4(pid, &st, 0, &ru);
	long tick_us = 1000000 / sysconf(_SC_CLK_TCK);
	long ticks = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * (1000000 / tick_us) +
		     (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / tick_us;
	long si_ticks = si.si_utime + si.si_stime;
	/* Linux samples these at the tick, where wait4's rusage is scaled
	 * to the precise run time: on a tick-accounted kernel they are
	 * less, never more. */
	CHECK_SHOW(si_ticks >= 0 && si_ticks <= ticks + 2,
		   "SIGCHLD's si_utime and si_stime: at most the child's CPU time, as wait4 says",
		   "%ld ticks, wait4 says %ld", si_ticks, ticks);

	/* SA_NOCLDSTOP: none for a stop. */
	on(SIGCHLD, on_trap_record, SA_NOCLDSTOP);
	pid = fork();
	if (pid == 0) {
		for (;;)
			pause();
	}
	kill(pid, SIGSTOP);
	waitpid(pid, &st, WUNTRACED);
	CHECK_ERR(sigtimedwait(&set, &si, &zero), EAGAIN, "SA_NOCLDSTOP: no SIGCHLD for a stop");
	kill(pid, SIGKILL);
	reap(pid);
	sigtimedwait(&set, &si, &zero);

	/* SA_NOCLDWAIT and SIG_IGN: no zombie; the handler still runs
	 * for SA_NOCLDWAIT. */
	for (int ign = 0; ign < 2; ign++) {
		if (ign)
			signal(SIGCHLD, SIG_IGN);
		else
			on(SIGCHLD, on_trap_record, SA_NOCLDWAIT);
		pid = fork();
		if (pid == 0)
			_exit(0);
		if (!ign)
			CHECK(sigtimedwait(&set, &si, &second) == SIGCHLD && si.si_pid == pid,
			      "SA_NOCLDWAIT: SIGCHLD all the same");
		CHECK_ERR(waitpid(-1, &st, 0), ECHILD, "%s: no zombie to wait for",
			  ign ? "SIGCHLD ignored" : "SA_NOCLDWAIT");
	}
	dfl(SIGCHLD);
	sigprocmask(SIG_UNBLOCK, &set, NULL);

	/* A signal to a stopped process group. */
	pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		for (;;)
			pause();
	}
	setpgid(pid, pid);
	kill(-pid, SIGSTOP);
	CHECK(waitpid(pid, &st, WUNTRACED) == pid && WIFSTOPPED(st), "a process group stops");
	kill(-pid, SIGTERM);
	kill(-pid, SIGCONT);
	st = reap(pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM,
	      "a signal to the stopped group acts at its SIGCONT (status %#x)", st);
}

/* --- a frame rt_sigreturn cannot read -------------------------------------------- */

static void bad_frame(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		__asm__ volatile("mov $0x10000, %%rsp; mov %0, %%eax; syscall"
				 :: "i"(SYS_rt_sigreturn) : "memory");
		_exit(0);
	}
	int st = reap(pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV,
	      "rt_sigreturn of a frame it cannot read: SIGSEGV (status %#x)", st);
}

/* --- job control on the terminal ---------------------------------------------------- */

/* A child in a background group of its own doing fn; its wait status,
 * stopped or ended. */
static int background(int (*fn)(void))
{
	pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		_exit(fn());
	}
	setpgid(pid, pid);
	int st = -1;
	waitpid(pid, &st, WUNTRACED);
	if (WIFSTOPPED(st)) {
		kill(pid, SIGKILL);
		reap(pid);
	}
	return st;
}

static int read_tty(void)
{
	char c;

	return read(0, &c, 1) < 0 && errno == EIO ? 0 : 1;
}

static int read_tty_ignoring(void)
{
	signal(SIGTTIN, SIG_IGN);
	return read_tty();
}

static int write_tty(void)
{
	return write(1, "# a background write\n", 21) == 21 ? 0 : 1;
}

static int new_session(void)
{
	if (setsid() < 0)
		return 1;
	if (tcgetpgrp(0) >= 0 || errno != ENOTTY)
		return 2;
	/* The terminal is another session's. */
	if (ioctl(0, TIOCSCTTY, 0) == 0 || errno != EPERM)
		return 3;
	if (open("/dev/tty", O_RDWR) >= 0 || errno != ENXIO)
		return 4;
	return 0;
}

static void terminal(void)
{
	if (!isatty(0) || !isatty(1)) {
		SKIP("standard input and output are no terminal", "job control");
		return;
	}
	CHECK_SHOW(tcgetpgrp(0) == getpgrp(), "our group is the terminal's foreground",
		   "%d, ours %d", tcgetpgrp(0), getpgrp());
	CHECK(tcgetsid(0) == getsid(0), "the terminal's session is ours");
	int tty = open("/dev/tty", O_RDWR);
	CHECK(tty >= 0 && tcgetpgrp(tty) == getpgrp(), "/dev/tty is our terminal");
	close(tty);

	int st = background(read_tty);
	CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGTTIN,
	      "a background group reading the terminal: SIGTTIN stops it (status %#x)", st);
	st = background(read_tty_ignoring);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "with SIGTTIN ignored: EIO (status %#x)", st);
	st = background(write_tty);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "a background group writes to the terminal without TOSTOP (status %#x)", st);
	struct termios tio, was;
	tcgetattr(1, &was);
	tio = was;
	tio.c_lflag |= TOSTOP;
	tcsetattr(1, TCSANOW, &tio);
	st = background(write_tty);
	tcsetattr(1, TCSANOW, &was);
	CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGTTOU,
	      "with TOSTOP: SIGTTOU stops it (status %#x)", st);

	/* Another group to the foreground, and ours back. */
	pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		for (;;)
			pause();
	}
	setpgid(pid, pid);
	CHECK(tcsetpgrp(0, pid) == 0 && tcgetpgrp(0) == pid, "tcsetpgrp: another group");
	signal(SIGTTOU, SIG_IGN);
	CHECK(tcsetpgrp(0, getpgrp()) == 0 && tcgetpgrp(0) == getpgrp(),
	      "from the background, SIGTTOU ignored: ours back");
	dfl(SIGTTOU);
	kill(pid, SIGKILL);
	reap(pid);
	CHECK_ERR(tcsetpgrp(0, -1), EINVAL, "tcsetpgrp: a negative group, EINVAL");
	CHECK_ERR(tcsetpgrp(0, 999999), ESRCH, "tcsetpgrp: no such group, ESRCH");

	pid = fork();
	if (pid == 0)
		_exit(new_session());
	st = reap(pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "a new session has no controlling terminal (no /dev/tty), and cannot take ours "
	      "(status %#x)", st);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && !strcmp(argv[1], "tty")) {
		terminal();
		return tap_done();
	}
	faults();
	altstacks();
	interrupted();
	waiting();
	timers();
	children();
	bad_frame();
	return tap_done();
}
