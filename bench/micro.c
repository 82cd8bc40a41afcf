// SPDX-License-Identifier: GPL-2.0
/*
 * unpriv-micro: the cost of one system call round trip by each mechanism a
 * user-level kernel can use, in instructions.
 *
 * Run it in the test VM under QEMU with one CPU and -icount shift=0: the
 * guest's clock then advances exactly 1 ns per guest instruction executed,
 * user and kernel alike, so CLOCK_MONOTONIC deltas are instruction counts.
 * check_icount() refuses to go on when that does not hold.
 *
 * A mechanism is a struct bench: an optional setup() and a round_trip()
 * that does one round trip.  Each runs in a child process of its own, so
 * that seccomp filters, dispatch settings and tracees end with it.  Its
 * round trips are timed in batches; a batch costs fixed_cost (reading the
 * clock) plus, per round trip, loop_cost (the call through the pointer and
 * the loop) and the round trip itself, which is what is reported.
 *
 * Output: lines starting with '#' are for people; then, per mechanism,
 *	result NAME MIN MEDIAN ROUND_TRIPS_PER_BATCH BATCHES
 * with MIN and MEDIAN the instructions per round trip of the cheapest and
 * the median batch.  bench/micro-report turns them into a table and JSON.
 */
#define _GNU_SOURCE
#include <err.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <ucontext.h>

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/unpriv.h>

#include "micro.h"

#define BATCHES		31		/* odd: the median is one batch */
#define BATCH_INSNS	1000000		/* 1 ms: a quarter of a 250 Hz tick */
#define WARMUP		16		/* round trips, also the cost probe */
#define SPIN_LOOPS	1000000		/* check_icount(): 2 instructions each */

struct bench {
	const char *name;
	void (*setup)(void);		/* NULL when there is nothing to do; may
					 * exit(BENCH_SKIPPED) */
	void (*round_trip)(void);
};

static uint64_t fixed_cost;		/* instructions per batch */
static double loop_cost;		/* instructions per round trip */

static uint64_t now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts))
		err(1, "clock_gettime");
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * Instructions for n round trips.  noipa: the compiler must not specialise
 * the loop for one round_trip; every mechanism runs the same loop.
 */
static __attribute__((noipa)) uint64_t batch(void (*round_trip)(void), long n)
{
	uint64_t start = now();

	for (long i = 0; i < n; i++)
		round_trip();
	return now() - start;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* BATCHES batches of n round trips each, sorted by cost. */
static void batches(void (*round_trip)(void), long n, uint64_t *insns)
{
	for (int i = 0; i < BATCHES; i++)
		insns[i] = batch(round_trip, n);
	qsort(insns, BATCHES, sizeof(*insns), cmp_u64);
}

static double per_round_trip(uint64_t insns, long n)
{
	return (double)(insns - fixed_cost) / n - loop_cost;
}

static void nothing(void)
{
}

static void measure_overhead(void)
{
	const long n = BATCH_INSNS / 8;
	uint64_t insns[BATCHES];

	batches(nothing, 0, insns);
	fixed_cost = insns[0];
	batches(nothing, n, insns);
	loop_cost = (double)(insns[0] - fixed_cost) / n;
	printf("# overhead: %llu instructions per batch, %.2f per round trip\n",
	       (unsigned long long)fixed_cost, loop_cost);
}

static void spin(void)
{
	long n = SPIN_LOOPS;

	asm volatile("1: dec %0; jnz 1b" : "+r"(n));
}

/* A loop of a known number of instructions must measure as that many. */
static void check_icount(void)
{
	const double expected = 2.0 * SPIN_LOOPS;
	uint64_t insns[BATCHES];
	double measured;

	batches(spin, 1, insns);
	measured = per_round_trip(insns[0], 1);
	printf("# icount check: a loop of %.0f instructions measured as %.0f\n",
	       expected, measured);
	if (measured < expected * 0.999 || measured > expected * 1.001)
		errx(1, "the clock does not count instructions: run under QEMU -icount shift=0 with 1 CPU");
}

/* --- the mechanisms -------------------------------------------------------- */

static void getpid_native(void)
{
	syscall(SYS_getpid);
}

static void getpid_emulated(void)
{
	long pid = syscall(SYS_getpid);

	if (pid != EMULATED_PID)
		errx(1, "getpid() ran: it returned %ld, not %d", pid, EMULATED_PID);
}

/* null_ioctl: the cheapest ioctl of /dev/unpriv. */

static int unpriv_fd;

static void null_ioctl_setup(void)
{
	unpriv_fd = open("/dev/unpriv", O_RDWR | O_CLOEXEC);
	if (unpriv_fd < 0)
		err(1, "/dev/unpriv");
}

static void null_ioctl(void)
{
	if (ioctl(unpriv_fd, UNPRIV_CHECK_EXTENSION, 0) < 0)
		err(1, "UNPRIV_CHECK_EXTENSION");
}

/* SIGSYS handlers emulate getpid() by setting the interrupted rax. */

static void emulate_getpid(void *ucontext)
{
	ucontext_t *uc = ucontext;

	uc->uc_mcontext.gregs[REG_RAX] = EMULATED_PID;
}

static void on_sigsys(void (*handler)(int, siginfo_t *, void *))
{
	struct sigaction sa = {
		.sa_sigaction = handler,
		.sa_flags = SA_SIGINFO,
	};

	if (sigaction(SIGSYS, &sa, NULL))
		err(1, "sigaction");
}

/*
 * sud_sigsys: Syscall User Dispatch with no always-allowed range.  The
 * selector blocks syscalls only around the round trip's own; the handler
 * allows them again so that its rt_sigreturn (and printf later) goes through.
 */

static volatile char sud_selector = SYSCALL_DISPATCH_FILTER_ALLOW;

static void sud_handler(int sig, siginfo_t *info, void *ucontext)
{
	sud_selector = SYSCALL_DISPATCH_FILTER_ALLOW;
	emulate_getpid(ucontext);
}

static void sud_setup(void)
{
	on_sigsys(sud_handler);
	if (prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, 0, 0,
		  &sud_selector))
		err(1, "PR_SET_SYSCALL_USER_DISPATCH");
}

static void sud_sigsys(void)
{
	sud_selector = SYSCALL_DISPATCH_FILTER_BLOCK;
	getpid_emulated();
}

/* seccomp_trap: the smallest filter that traps one syscall, getpid. */

static void seccomp_handler(int sig, siginfo_t *info, void *ucontext)
{
	emulate_getpid(ucontext);
}

static void seccomp_setup(void)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
		.len = sizeof(filter) / sizeof(filter[0]),
		.filter = filter,
	};

	on_sigsys(seccomp_handler);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		err(1, "PR_SET_NO_NEW_PRIVS");
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog))
		err(1, "SECCOMP_SET_MODE_FILTER");
}

/*
 * ptrace_sysemu: a child calls getpid() in a loop under PTRACE_SYSEMU; a
 * round trip is the tracer's side of one stop.  With one CPU the clock
 * counts the child's instructions as well as the tracer's.
 */

static pid_t tracee;

static void ptrace_setup(void)
{
	int status;

	tracee = fork();
	if (tracee < 0)
		err(1, "fork");
	if (tracee == 0) {
		if (ptrace(PTRACE_TRACEME, 0, 0, 0))
			err(1, "PTRACE_TRACEME");
		raise(SIGSTOP);
		for (;;)
			getpid_emulated();
	}
	if (waitpid(tracee, &status, 0) != tracee)
		err(1, "waitpid");
	if (!WIFSTOPPED(status))
		errx(1, "tracee did not stop: status %#x", status);
	if (ptrace(PTRACE_SETOPTIONS, tracee, 0,
		   PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD))
		err(1, "PTRACE_SETOPTIONS");
	if (ptrace(PTRACE_SYSEMU, tracee, 0, 0))
		err(1, "PTRACE_SYSEMU");
}

static void ptrace_sysemu(void)
{
	struct user_regs_struct regs;
	int status;

	if (waitpid(tracee, &status, 0) != tracee)
		err(1, "waitpid");
	if (!WIFSTOPPED(status) || WSTOPSIG(status) != (SIGTRAP | 0x80))
		errx(1, "tracee: status %#x, not a syscall stop", status);
	if (ptrace(PTRACE_GETREGS, tracee, 0, &regs))
		err(1, "PTRACE_GETREGS");
	if (regs.orig_rax != SYS_getpid)
		errx(1, "tracee made syscall %llu, not getpid", regs.orig_rax);
	regs.rax = EMULATED_PID;
	if (ptrace(PTRACE_SETREGS, tracee, 0, &regs))
		err(1, "PTRACE_SETREGS");
	if (ptrace(PTRACE_SYSEMU, tracee, 0, 0))
		err(1, "PTRACE_SYSEMU");
}

/*
 * unpriv_syscall: a guest calls getpid() in a loop in an address space of
 * its own; a round trip is one UNPRIV_RUN: into the guest, its syscall,
 * and back, with the result set as a user-level kernel would.
 */

#define GUEST_CODE_ADDR	0x100000UL

/* loop: mov $39, %eax; syscall; jmp loop */
static const unsigned char guest_getpid_loop[] = {
	0xb8, 0x27, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xeb, 0xf7,
};

static int unpriv_as, unpriv_vcpu;
static struct unpriv_run *unpriv_run;

static void unpriv_syscall_setup(void)
{
	struct unpriv_as_map map = {
		.addr = GUEST_CODE_ADDR, .len = 4096,
		.prot = UNPRIV_PROT_READ | UNPRIV_PROT_EXEC,
		.flags = UNPRIV_MAP_SHARED,
	};
	int mem;

	null_ioctl_setup();
	unpriv_as = ioctl(unpriv_fd, UNPRIV_CREATE_AS, 0);
	unpriv_vcpu = ioctl(unpriv_fd, UNPRIV_CREATE_VCPU, 0);
	if (unpriv_as < 0 || unpriv_vcpu < 0)
		err(1, "UNPRIV_CREATE_AS/VCPU");
	unpriv_run = mmap(NULL, UNPRIV_RUN_SIZE, PROT_READ | PROT_WRITE,
			  MAP_SHARED, unpriv_vcpu, 0);
	if (unpriv_run == MAP_FAILED)
		err(1, "mmap vcpu");
	mem = memfd_create("guest", MFD_CLOEXEC);
	if (mem < 0 || ftruncate(mem, 4096) ||
	    pwrite(mem, guest_getpid_loop, sizeof(guest_getpid_loop), 0) !=
	    sizeof(guest_getpid_loop))
		err(1, "guest memory");
	map.fd = mem;
	if (ioctl(unpriv_as, UNPRIV_AS_MAP, &map))
		err(1, "UNPRIV_AS_MAP");
	unpriv_run->regs.rip = GUEST_CODE_ADDR;
	unpriv_run->regs.cs = UNPRIV_CS_64;
	unpriv_run->regs.ss = UNPRIV_DS;
}

static void unpriv_syscall(void)
{
	if (ioctl(unpriv_vcpu, UNPRIV_RUN, unpriv_as))
		err(1, "UNPRIV_RUN");
	if (unpriv_run->exit_reason != UNPRIV_EXIT_SYSCALL ||
	    unpriv_run->syscall.nr != SYS_getpid)
		errx(1, "guest exit %u (syscall %llu), not getpid",
		     unpriv_run->exit_reason,
		     (unsigned long long)unpriv_run->syscall.nr);
	unpriv_run->regs.rax = EMULATED_PID;
}

static const struct bench benches[] = {
	{ "native_getpid",	NULL,			getpid_native },
	{ "null_ioctl",		null_ioctl_setup,	null_ioctl },
	{ "sud_sigsys",		sud_setup,		sud_sigsys },
	{ "seccomp_trap",	seccomp_setup,		getpid_emulated },
	{ "ptrace_sysemu",	ptrace_setup,		ptrace_sysemu },
	{ "unpriv_syscall",	unpriv_syscall_setup,	unpriv_syscall },
	{ "libunpriv_module",	libunpriv_module_setup,	libunpriv_syscall },
	{ "libunpriv_ptrace",	libunpriv_ptrace_setup,	libunpriv_syscall },
	{ "libunpriv_seccomp",	libunpriv_seccomp_setup, libunpriv_syscall },
};

/* --- running them ---------------------------------------------------------- */

static void report(const struct bench *b)
{
	uint64_t insns[BATCHES];
	long n;

	if (b->setup)
		b->setup();
	batch(b->round_trip, WARMUP);		/* first faults, first signals */
	n = BATCH_INSNS * WARMUP / batch(b->round_trip, WARMUP) + 1;
	batches(b->round_trip, n, insns);
	printf("result %s %.1f %.1f %ld %d\n", b->name,
	       per_round_trip(insns[0], n),
	       per_round_trip(insns[BATCHES / 2], n), n, BATCHES);
}

/*
 * Each mechanism in a child of its own; true when it reported or was
 * skipped (its setup() said why).
 */
static int run(const struct bench *b)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		err(1, "fork");
	if (pid == 0) {
		report(b);
		exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		err(1, "waitpid");
	if (WIFEXITED(status) &&
	    (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == BENCH_SKIPPED))
		return 1;
	fprintf(stderr, "unpriv-micro: %s failed (status %#x)\n", b->name, status);
	return 0;
}

static bool wanted(const char *name, int argc, char **argv)
{
	if (argc < 2)
		return true;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], name))
			return true;
	return false;
}

/*
 * unpriv-micro [--profile] [NAME...]: all mechanisms, or the ones named.
 * --profile skips the -icount check, for runs under a sampling profiler
 * (whose interrupts the clock counts too): its figures are not results.
 */
int main(int argc, char **argv)
{
	bool profile = argc > 1 && !strcmp(argv[1], "--profile");
	int failed = 0;

	if (profile) {
		argv[1] = argv[0];
		argc--;
		argv++;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	measure_overhead();
	if (!profile)
		check_icount();
	for (size_t i = 0; i < sizeof(benches) / sizeof(benches[0]); i++)
		if (wanted(benches[i].name, argc, argv))
			failed += !run(&benches[i]);
	return failed ? 1 : 0;
}
