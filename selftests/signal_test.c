// SPDX-License-Identifier: GPL-2.0
/*
 * Host signals and kicks: a guest that never exits by itself is stopped
 * by a signal or UNPRIV_KICK; the signal reaches the host's handler, and
 * never a guest frame.
 */
#define _GNU_SOURCE
#include <linux/perf_event.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

#include "kselftest_harness.h"
#include "unpriv_util.h"

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	alarms++;
}

static void arm_timer_ms(long ms)
{
	struct itimerval it = {
		.it_value = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 },
	};

	setitimer(ITIMER_REAL, &it, NULL);
}

FIXTURE(sig) {
	struct guest g;
};

FIXTURE_SETUP(sig)
{
	GUEST_SETUP(&self->g);
	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_spin));
}

FIXTURE_TEARDOWN(sig)
{
	guest_destroy(&self->g);
}

TEST_F(sig, timer_signal_interrupts_a_spinning_guest_and_runs_the_handler)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct unpriv_run *run = self->g.run;
	int i;

	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	alarms = 0;
	for (i = 1; i <= 3; i++) {
		arm_timer_ms(50);
		EXPECT_EQ(-EINTR, guest_run(&self->g));
		EXPECT_EQ(UNPRIV_EXIT_INTR, run->exit_reason);
		EXPECT_EQ(i, alarms);
		/* the guest was stopped inside its loop */
		EXPECT_EQ(GUEST_CODE_ADDR, run->regs.rip);
	}
}

struct signaller {
	pthread_t target;
	int sig;
};

static void *signal_later(void *arg)
{
	struct signaller *s = arg;

	sleep_ms(100);
	return (void *)(long)pthread_kill(s->target, s->sig);
}

TEST_F(sig, thread_directed_signal_reaches_the_host_handler)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct signaller s = { .target = pthread_self(), .sig = SIGUSR1 };
	pthread_t t;

	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	alarms = 0;
	ASSERT_EQ(0, pthread_create(&t, NULL, signal_later, &s));
	EXPECT_EQ(-EINTR, guest_run(&self->g));
	EXPECT_EQ(UNPRIV_EXIT_INTR, self->g.run->exit_reason);
	EXPECT_EQ(1, alarms);
	ASSERT_EQ(0, pthread_join(t, NULL));
}

TEST_F(sig, immediate_exit_returns_at_once)
{
	struct unpriv_run *run = self->g.run;

	run->immediate_exit = 1;
	EXPECT_EQ(-EINTR, guest_run(&self->g));
	EXPECT_EQ(UNPRIV_EXIT_INTR, run->exit_reason);
	EXPECT_EQ(GUEST_CODE_ADDR, run->regs.rip);
	run->immediate_exit = 0;
}

struct kicker {
	int vcpu;
	long delay_ms;
};

static void *kick_later(void *arg)
{
	struct kicker *k = arg;

	sleep_ms(k->delay_ms);
	return (void *)(long)ioctl(k->vcpu, UNPRIV_KICK, 0);
}

TEST_F(sig, kick_from_another_thread_stops_a_spinning_guest)
{
	struct kicker k = { .vcpu = self->g.vcpu, .delay_ms = 100 };
	struct unpriv_run *run = self->g.run;
	pthread_t t;
	void *ret;

	ASSERT_EQ(0, pthread_create(&t, NULL, kick_later, &k));
	EXPECT_EQ(-EINTR, guest_run(&self->g));
	EXPECT_EQ(UNPRIV_EXIT_INTR, run->exit_reason);
	ASSERT_EQ(0, pthread_join(t, &ret));
	EXPECT_EQ(0, (long)ret);
}

TEST_F(sig, kick_of_an_idle_vcpu_stops_its_next_run_only)
{
	struct unpriv_run *run = self->g.run;

	ASSERT_EQ(0, ioctl(self->g.vcpu, UNPRIV_KICK, 0));
	EXPECT_EQ(-EINTR, guest_run(&self->g));
	EXPECT_EQ(UNPRIV_EXIT_INTR, run->exit_reason);

	/* The kick is spent: the next run needs a timer to stop. */
	struct sigaction sa = { .sa_handler = on_alarm };

	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	alarms = 0;
	arm_timer_ms(100);
	EXPECT_EQ(-EINTR, guest_run(&self->g));
	EXPECT_EQ(1, alarms);
}

TEST_F(sig, a_running_vcpu_is_busy_for_other_threads)
{
	struct guest_runner r = { .g = &self->g };
	pthread_t t;

	ASSERT_EQ(0, pthread_create(&t, NULL, guest_run_thread, &r));
	sleep_ms(100);
	EXPECT_EQ(-EBUSY, guest_run(&self->g));
	ASSERT_EQ(0, ioctl(self->g.vcpu, UNPRIV_KICK, 0));
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(-EINTR, r.ret);
	EXPECT_EQ(UNPRIV_EXIT_INTR, self->g.run->exit_reason);
}

static volatile sig_atomic_t host_traps;

static void on_trap_signal(int sig)
{
	host_traps++;
}

GUEST_CODE(guest_traps, "nop\nint3\nud2\n");

/*
 * The kernel sends a trap's signal even when it cannot allocate the
 * signal's details (out of memory): a pending bit alone.  It is still
 * the guest's, and must come out as a trap exit, never reach the host.
 * Fault injection (the debug kernel) fails each allocation of a run
 * that traps, in turn, with /proc/thread-self/fail-nth.
 */
TEST_F(sig, a_trap_whose_signal_could_not_be_queued_stays_the_guests)
{
	struct sigaction sa = { .sa_handler = on_trap_signal };
	struct unpriv_run *run = self->g.run;
	int nth, n, injected = 0;

	nth = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	if (nth < 0)
		SKIP(return, "no fault injection (fail-nth) in this kernel");
	ASSERT_EQ(0, sigaction(SIGTRAP, &sa, NULL));
	ASSERT_EQ(0, sigaction(SIGILL, &sa, NULL));
	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_traps));
	/* once without: each run then makes the same allocations */
	run->regs.rip = GUEST_CODE_ADDR + 1;
	ASSERT_EQ(0, guest_run(&self->g));

	for (n = 1; n < 100; n++) {
		char buf[16], left[16] = "";
		int ret;

		run->regs.rip = GUEST_CODE_ADDR + 1;	/* the int3 */
		snprintf(buf, sizeof(buf), "%d", n);
		ASSERT_EQ(strlen(buf), pwrite(nth, buf, strlen(buf), 0));
		ret = guest_run(&self->g);
		ASSERT_LT(0, pread(nth, left, sizeof(left) - 1, 0));
		ASSERT_EQ(1, pwrite(nth, "0", 1, 0));
		injected += !atoi(left);

		ASSERT_EQ(0, ret) TH_LOG("allocation %d failed", n);
		ASSERT_EQ(UNPRIV_EXIT_TRAP, run->exit_reason);
		EXPECT_EQ(3, run->trap.trap);
		EXPECT_EQ(SIGTRAP, run->trap.signo);
		EXPECT_EQ(0, host_traps) TH_LOG("allocation %d failed", n);
		if (atoi(left))
			break;
	}
	EXPECT_LT(0, injected);
	close(nth);
}

/*
 * A synchronous signal the kernel sends for a reason other than a trap
 * of the guest's is the host's: a perf event's SIGTRAP (sigtrap=1) while
 * the guest spins ends the run as a host signal, and reaches the host's
 * handler, not a TRAP exit with no vector.
 */
#ifndef TRAP_PERF
#define TRAP_PERF	6
#endif

static volatile sig_atomic_t perf_traps;

GUEST_CODE(guest_getpid_once, "mov $39, %eax\nsyscall\n");

static void on_perf_trap(int sig, siginfo_t *si, void *uc)
{
	if (si->si_code == TRAP_PERF)
		perf_traps++;
}

TEST_F(sig, a_perf_events_sigtrap_is_the_hosts)
{
	struct perf_event_attr a = {
		.type = PERF_TYPE_SOFTWARE, .size = sizeof(a),
		.config = PERF_COUNT_SW_TASK_CLOCK,
		.sample_period = 20 * 1000 * 1000,	/* 20 ms of the task's */
		.sigtrap = 1, .remove_on_exec = 1,
		.exclude_kernel = 1, .exclude_hv = 1,
	};
	struct sigaction sa = { .sa_sigaction = on_perf_trap,
				.sa_flags = SA_SIGINFO };
	struct unpriv_run *run = self->g.run;
	int fd, ret;

	ASSERT_EQ(0, sigaction(SIGTRAP, &sa, NULL));
	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_spin));
	fd = syscall(__NR_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		SKIP(return, "perf_event_open(sigtrap): %m");
	ret = guest_run(&self->g);
	close(fd);
	EXPECT_EQ(-EINTR, ret) TH_LOG("exit %u, trap %#x", run->exit_reason,
				      run->trap.trap);
	EXPECT_EQ(UNPRIV_EXIT_INTR, run->exit_reason);
	EXPECT_EQ(1, perf_traps);
}

/*
 * A synchronous signal queued for the thread while it blocks it, before
 * RUN (here, one it sends itself with kernel-style details), is the
 * host's: the guest runs to its system call, and the signal stays
 * pending for the host.
 */
TEST_F(sig, a_blocked_pending_synchronous_signal_stays_the_hosts)
{
	siginfo_t si = { .si_signo = SIGBUS, .si_code = BUS_ADRERR };
	struct unpriv_run *run = self->g.run;
	sigset_t set, pending;

	sigemptyset(&set);
	sigaddset(&set, SIGBUS);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &set, NULL));
	ASSERT_EQ(0, syscall(__NR_rt_tgsigqueueinfo, getpid(), gettid(),
			     SIGBUS, &si));
	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_getpid_once));
	ASSERT_EQ(0, guest_run(&self->g));
	EXPECT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason)
		TH_LOG("exit %u, trap %#x", run->exit_reason, run->trap.trap);
	ASSERT_EQ(0, sigpending(&pending));
	EXPECT_TRUE(sigismember(&pending, SIGBUS));
}

/*
 * Forcing a guest fault's signal on a host that ignores it resets the
 * handler to SIG_DFL, which the module undoes; a handler a sibling
 * installed while the guest ran must stay.
 */
GUEST_CODE(guest_fault_when_told,
	"1: cmpq $0, 0x200800\n"
	"je 1b\n"
	"movq $1, 0x400000\n");

static void on_segv(int sig)
{
}

static void *install_handler_then_go(void *arg)
{
	struct guest *g = arg;
	struct sigaction sa = { .sa_handler = on_segv };
	__u64 go = 1;

	sleep_ms(100);
	sigaction(SIGSEGV, &sa, NULL);
	pwrite(g->mem, &go, sizeof(go), GUEST_DATA_OFF + 0x800);
	return NULL;
}

TEST_F(sig, a_handler_a_sibling_installs_meanwhile_is_kept)
{
	struct sigaction sa = { .sa_handler = SIG_IGN }, now;
	struct unpriv_run *run = self->g.run;
	pthread_t t;

	ASSERT_EQ(0, sigaction(SIGSEGV, &sa, NULL));
	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_fault_when_told));
	ASSERT_EQ(0, pthread_create(&t, NULL, install_handler_then_go, &self->g));
	ASSERT_EQ(0, guest_run(&self->g));
	pthread_join(t, NULL);
	ASSERT_EQ(UNPRIV_EXIT_FAULT, run->exit_reason);
	ASSERT_EQ(0, sigaction(SIGSEGV, NULL, &now));
	EXPECT_TRUE(now.sa_handler == on_segv) {
		if (now.sa_handler == SIG_IGN)
			TH_LOG("the sibling's handler was overwritten by SIG_IGN");
	}
}

/*
 * An init process (of its PID namespace) is unkillable by the signals
 * it does not handle; a guest fault's forced SIGSEGV must not change
 * that.  Its child sends it SIGTERM afterwards: it must live on.
 */
static int init_with_a_faulting_guest(void)
{
	struct guest g;
	pid_t child;

	if (GUEST_MAKE(&g, guest_fault_when_told))
		return 2;
	g.run->regs.rip = GUEST_CODE_ADDR + 10;	/* at the store */
	if (guest_run(&g) || g.run->exit_reason != UNPRIV_EXIT_FAULT)
		return 3;
	child = fork();
	if (child == 0) {
		kill(1, SIGTERM);
		_exit(0);
	}
	waitpid(child, NULL, 0);
	sleep_ms(100);
	return 0;
}

TEST(an_init_process_stays_unkillable_after_a_guest_fault)
{
	int status;
	pid_t pid;

	REQUIRE_UNPRIV();
	if (geteuid() != 0)
		SKIP(return, "needs root for a PID namespace");
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (unshare(CLONE_NEWPID))
			_exit(4);
		pid = fork();
		if (pid == 0)
			_exit(init_with_a_faulting_guest());
		if (pid < 0 || waitpid(pid, &status, 0) != pid)
			_exit(5);
		if (WIFSIGNALED(status))
			_exit(100 + WTERMSIG(status));
		_exit(WEXITSTATUS(status));
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	if (WEXITSTATUS(status) == 4)
		SKIP(return, "no PID namespaces in this kernel");
	EXPECT_EQ(0, WEXITSTATUS(status)) {
		if (WEXITSTATUS(status) == 100 + SIGTERM)
			TH_LOG("init was killed by SIGTERM");
	}
}

/*
 * A signal that kills: SIGKILL of a process whose thread is in guest
 * mode ends it cleanly.
 */
TEST(sigkill_of_a_process_in_guest_mode)
{
	int status;
	pid_t pid;

	REQUIRE_UNPRIV();
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct guest g;

		if (guest_create(&g) || GUEST_LOAD(&g, guest_spin))
			_exit(2);
		guest_run(&g);
		_exit(3);
	}
	sleep_ms(200);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status)) TH_LOG("status %#x", status);
	EXPECT_EQ(SIGKILL, WTERMSIG(status));
}

/*
 * Kicks at random points of RUN: before the vcpu is claimed, in the
 * ioctl, on the way into the guest, in it.  Every kick must end the run
 * it lands in or, when it comes before, the next: the guest spins, so a
 * lost kick is a run that never ends.  Every other run takes RUN's full
 * way in (a system call in between unparks the thread), the others the
 * re-run's.
 */
#define KICK_RACE_RUNS		3000
#define KICK_RACE_SPINS		8192	/* at most, before a kick */
#define KICK_RACE_WAIT_MS	2000	/* for a run to end after its kick */

struct kick_race {
	struct guest *g;
	int round;		/* the run about to start */
	int done;		/* the last run that ended */
	int ret;		/* a run's unexpected result */
};

static void *kick_race_runner(void *arg)
{
	struct kick_race *k = arg;
	int i, ret;

	for (i = 1; i <= KICK_RACE_RUNS; i++) {
		if (i & 1)
			syscall(SYS_getppid);
		__atomic_store_n(&k->round, i, __ATOMIC_SEQ_CST);
		ret = guest_run(k->g);
		if (ret != -EINTR) {
			k->ret = ret ? ret : 1;
			break;
		}
		__atomic_store_n(&k->done, i, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for run i to end; false when it did not in time. */
static bool kick_race_wait(struct kick_race *k, int i)
{
	long deadline = now_ms() + KICK_RACE_WAIT_MS;

	while (__atomic_load_n(&k->done, __ATOMIC_SEQ_CST) < i) {
		if (__atomic_load_n(&k->ret, __ATOMIC_SEQ_CST) ||
		    now_ms() > deadline)
			return false;
		sched_yield();
	}
	return true;
}

TEST_F(sig, every_kick_ends_a_run_wherever_it_lands)
{
	struct kick_race k = { .g = &self->g };
	volatile unsigned long spin;
	unsigned long delay;
	int i, lost = 0;
	pthread_t t;

	srandom(now_ms());
	ASSERT_EQ(0, pthread_create(&t, NULL, kick_race_runner, &k));
	for (i = 1; i <= KICK_RACE_RUNS; i++) {
		while (__atomic_load_n(&k.round, __ATOMIC_SEQ_CST) < i)
			;
		delay = random() % KICK_RACE_SPINS;
		for (spin = 0; spin < delay; spin++)
			;
		ASSERT_EQ(0, ioctl(self->g.vcpu, UNPRIV_KICK, 0));
		if (!kick_race_wait(&k, i)) {
			lost = i;
			break;
		}
	}
	EXPECT_EQ(0, lost) TH_LOG("run %d did not end after its kick", lost);
	EXPECT_EQ(0, k.ret);
	/* Let a runner stuck in the guest go. */
	while (lost && !__atomic_load_n(&k.ret, __ATOMIC_SEQ_CST) &&
	       __atomic_load_n(&k.done, __ATOMIC_SEQ_CST) < lost) {
		ioctl(self->g.vcpu, UNPRIV_KICK, 0);
		sleep_ms(10);
	}
	if (lost)
		pthread_cancel(t);
	ASSERT_EQ(0, pthread_join(t, NULL));
}

TEST_HARNESS_MAIN
