// SPDX-License-Identifier: GPL-2.0
/*
 * Running again right after an exit.  A thread that leaves guest mode
 * stays parked on its vcpu until its next system call, so that UNPRIV_RUN
 * of the same vcpu and address space can skip the ioctl's path.  Whatever
 * else the thread does next must behave as if it were not: another vcpu
 * or address space behind the same fd numbers, kicks, immediate_exit,
 * seccomp, signals, fork, and the vcpu's lifetime.
 */
#define _GNU_SOURCE
#include <asm/ldt.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "unpriv_util.h"

/* Its syscall exits with the number the guest was made with. */
GUEST_CODE(guest_nr_1, "1: mov $1001, %eax\nsyscall\njmp 1b\n");
GUEST_CODE(guest_nr_2, "1: mov $1002, %eax\nsyscall\njmp 1b\n");

FIXTURE(rerun) {
	struct guest g;
};

FIXTURE_SETUP(rerun)
{
	GUEST_SETUP(&self->g);
	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_nr_1));
}

FIXTURE_TEARDOWN(rerun)
{
	guest_destroy(&self->g);
}

/* Run g once: 0 and its syscall's number, or -errno. */
static long run_nr(struct guest *g)
{
	int ret = guest_run(g);

	if (ret)
		return ret;
	if (g->run->exit_reason != UNPRIV_EXIT_SYSCALL)
		return -1000 - g->run->exit_reason;
	return g->run->syscall.nr;
}

TEST_F(rerun, runs_again_and_again)
{
	int i;

	for (i = 0; i < 100; i++)
		ASSERT_EQ(1001, run_nr(&self->g));
}

TEST_F(rerun, another_address_space_behind_the_same_fd_number)
{
	struct guest g2;

	ASSERT_EQ(1001, run_nr(&self->g));
	ASSERT_EQ(0, GUEST_MAKE(&g2, guest_nr_2));
	/* Both guests' code is at the same address, in their own spaces. */
	ASSERT_EQ(self->g.as, dup2(g2.as, self->g.as));
	EXPECT_EQ(1002, run_nr(&self->g));
	EXPECT_EQ(1002, run_nr(&self->g));
	guest_destroy(&g2);
}

TEST_F(rerun, another_address_space_fd)
{
	struct guest g2;
	int as1 = self->g.as;

	ASSERT_EQ(0, GUEST_MAKE(&g2, guest_nr_2));
	ASSERT_EQ(1001, run_nr(&self->g));
	self->g.as = g2.as;
	EXPECT_EQ(1002, run_nr(&self->g));
	self->g.as = as1;
	EXPECT_EQ(1001, run_nr(&self->g));
	guest_destroy(&g2);
}

TEST_F(rerun, another_vcpu_behind_the_same_fd_number)
{
	struct guest g2;

	ASSERT_EQ(0, GUEST_MAKE(&g2, guest_nr_2));
	ASSERT_EQ(1001, run_nr(&self->g));
	ASSERT_EQ(self->g.vcpu, dup2(g2.vcpu, self->g.vcpu));
	/* g2's vcpu, in g's address space: its registers, g's code. */
	g2.run->regs.rip = GUEST_CODE_ADDR;
	g2.run->regs.rax = 0;
	EXPECT_EQ(0, guest_run(&self->g));
	EXPECT_EQ(UNPRIV_EXIT_SYSCALL, g2.run->exit_reason);
	EXPECT_EQ(1001, g2.run->syscall.nr);
	guest_destroy(&g2);
}

TEST_F(rerun, a_kick_between_runs_stops_the_next)
{
	ASSERT_EQ(1001, run_nr(&self->g));
	ASSERT_EQ(0, ioctl(self->g.vcpu, UNPRIV_KICK, 0));
	EXPECT_EQ(-EINTR, guest_run(&self->g));
	EXPECT_EQ(UNPRIV_EXIT_INTR, self->g.run->exit_reason);
	EXPECT_EQ(1001, run_nr(&self->g));
}

TEST_F(rerun, immediate_exit_between_runs)
{
	ASSERT_EQ(1001, run_nr(&self->g));
	self->g.run->immediate_exit = 1;
	EXPECT_EQ(-EINTR, guest_run(&self->g));
	EXPECT_EQ(UNPRIV_EXIT_INTR, self->g.run->exit_reason);
	self->g.run->immediate_exit = 0;
	EXPECT_EQ(1001, run_nr(&self->g));
}

TEST_F(rerun, bad_registers_between_runs)
{
	ASSERT_EQ(1001, run_nr(&self->g));
	self->g.run->regs.rip = 1UL << 63;
	EXPECT_EQ(-EINVAL, guest_run(&self->g));
	self->g.run->regs.rip = GUEST_CODE_ADDR;
	EXPECT_EQ(1001, run_nr(&self->g));
}

/* A seccomp filter installed between two runs sees the second. */
TEST_F(rerun, seccomp_sees_every_run)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ioctl, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, UNPRIV_RUN, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
		.len = ARRAY_SIZE(filter),
		.filter = filter,
	};

	ASSERT_EQ(1001, run_nr(&self->g));
	ASSERT_EQ(0, prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	ASSERT_EQ(0, syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog));
	EXPECT_EQ(-EPERM, guest_run(&self->g));
	EXPECT_EQ(-EPERM, guest_run(&self->g));
}

static volatile sig_atomic_t usr1_seen;
static int spin_state;

static void on_usr1(int sig)
{
	usr1_seen++;
}

struct spinner {
	struct guest *g;
	long nr;
};

/* Run once, then wait for a signal without making a system call. */
static void *run_then_spin(void *arg)
{
	struct spinner *s = arg;

	s->nr = run_nr(s->g);
	__atomic_store_n(&spin_state, 1, __ATOMIC_SEQ_CST);
	while (!usr1_seen)
		;
	s->nr = s->nr == 1001 ? run_nr(s->g) : s->nr;
	return NULL;
}

TEST_F(rerun, a_signal_between_runs_reaches_the_host_handler)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct spinner s = { .g = &self->g };
	pthread_t t;

	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	ASSERT_EQ(0, pthread_create(&t, NULL, run_then_spin, &s));
	while (!__atomic_load_n(&spin_state, __ATOMIC_SEQ_CST))
		sleep_ms(1);
	sleep_ms(10);
	ASSERT_EQ(0, pthread_kill(t, SIGUSR1));
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(1, usr1_seen);
	EXPECT_EQ(1001, s.nr);
}

TEST_F(rerun, fork_between_runs)
{
	int status;
	pid_t pid;

	ASSERT_EQ(1001, run_nr(&self->g));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(syscall(SYS_getppid) > 0 && getpid() > 0 ? 7 : 1);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 7)
		TH_LOG("status %#x", status);
	EXPECT_EQ(1001, run_nr(&self->g));
}

/* The module's reference count: one per open unpriv file. */
static long module_refs(void)
{
	FILE *f = fopen("/sys/module/unpriv/refcnt", "r");
	long n = -1;

	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

static void *run_then_wait(void *arg)
{
	struct spinner *s = arg;

	s->nr = run_nr(s->g);
	__atomic_store_n(&spin_state, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&spin_state, __ATOMIC_SEQ_CST) != 2)
		;
	/* The first system call after the run lets go of the vcpu. */
	syscall(SYS_getpid);
	__atomic_store_n(&spin_state, 3, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&spin_state, __ATOMIC_SEQ_CST) != 4)
		;
	return NULL;
}

static sigjmp_buf fault_jmp;

static void on_segv(int sig)
{
	siglongjmp(fault_jmp, 1);
}

/*
 * A fault of the host's own right after an exit, before any system call:
 * the thread is parked, but in host mode, and the kernel handles the
 * fault as the host's (with its own functions: the hooks step aside).
 */
TEST_F(rerun, a_host_fault_between_runs_is_the_hosts)
{
	struct sigaction sa = { .sa_handler = on_segv };
	volatile int *volatile nowhere = (volatile int *)8;
	volatile int faulted = 0;

	ASSERT_EQ(0, sigaction(SIGSEGV, &sa, NULL));
	ASSERT_EQ(1001, run_nr(&self->g));
	if (!sigsetjmp(fault_jmp, 1))
		*nowhere = 1;
	else
		faulted = 1;
	EXPECT_EQ(1, faulted);
	signal(SIGSEGV, SIG_DFL);
	EXPECT_EQ(1001, run_nr(&self->g));
}

TEST(a_closed_vcpu_is_released_after_its_threads_next_syscall)
{
	struct guest g;
	struct spinner s = { .g = &g };
	pthread_t t;
	long before;

	REQUIRE_UNPRIV();
	before = module_refs();
	if (before < 0)
		SKIP(return, "no /sys/module/unpriv/refcnt");
	ASSERT_EQ(0, GUEST_MAKE(&g, guest_nr_1));
	__atomic_store_n(&spin_state, 0, __ATOMIC_SEQ_CST);
	ASSERT_EQ(0, pthread_create(&t, NULL, run_then_wait, &s));
	while (__atomic_load_n(&spin_state, __ATOMIC_SEQ_CST) != 1)
		sleep_ms(1);
	EXPECT_EQ(1001, s.nr);
	guest_destroy(&g);
	__atomic_store_n(&spin_state, 2, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&spin_state, __ATOMIC_SEQ_CST) != 3)
		sleep_ms(1);
	/* __fput() runs as the thread returns to user mode: it has. */
	EXPECT_EQ(before, module_refs());
	__atomic_store_n(&spin_state, 4, __ATOMIC_SEQ_CST);
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(before, module_refs());
}

/* Report in rsi whether the selector in rdi is readable (verr), again and again. */
GUEST_CODE(guest_verr,
	"1: xor %esi, %esi\n"
	"verr %di\n"
	"setz %sil\n"
	"mov $1, %eax\n"
	"syscall\n"
	"jmp 1b\n");

/* set_thread_area(): 64-bit programs have it through int $0x80 only. */
static struct user_desc tls_desc;	/* in .data: below 4 GiB */
static int tls_step;

/* The second thread: no TLS descriptor; runs the vcpu once, in between. */
static void *run_in_between(void *arg)
{
	struct spinner *s = arg;

	while (__atomic_load_n(&tls_step, __ATOMIC_SEQ_CST) != 1)
		sched_yield();
	s->nr = run_nr(s->g);
	__atomic_store_n(&tls_step, 2, __ATOMIC_SEQ_CST);
	return NULL;
}

/*
 * A thread's re-run after another thread ran the same vcpu: the host
 * state the vcpu holds is the other thread's, and this thread's TLS
 * descriptors must still be hidden from the guest.
 */
TEST_F(rerun, a_rerun_after_another_thread_ran_the_vcpu)
{
	struct unpriv_run *run = self->g.run;
	struct spinner s = { .g = &self->g };
	unsigned short sel;
	pthread_t t;

	ASSERT_GT(1UL << 32, (unsigned long)&tls_desc);
	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_verr));
	/* Before the descriptor: the thread starts without it. */
	__atomic_store_n(&tls_step, 0, __ATOMIC_SEQ_CST);
	ASSERT_EQ(0, pthread_create(&t, NULL, run_in_between, &s));
	tls_desc = (struct user_desc){
		.entry_number = -1, .base_addr = 0x12345000, .limit = 0xfffff,
		.seg_32bit = 1, .limit_in_pages = 1,
	};
	ASSERT_EQ(0, set_thread_area32(&tls_desc));
	sel = tls_desc.entry_number << 3 | 3;
	run->regs.rdi = sel;

	ASSERT_EQ(0, guest_run(&self->g));
	EXPECT_EQ(0, run->regs.rsi) TH_LOG("the host's TLS entry is readable");
	/* Parked: no system call until the next run. */
	__atomic_store_n(&tls_step, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&tls_step, __ATOMIC_SEQ_CST) != 2)
		;
	ASSERT_EQ(0, guest_run(&self->g));
	EXPECT_EQ(0, run->regs.rsi)
		TH_LOG("the host's TLS entry is readable on the re-run");

	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(1, s.nr);
	tls_desc = (struct user_desc){ .entry_number = tls_desc.entry_number,
				       .read_exec_only = 1,
				       .seg_not_present = 1 };
	ASSERT_EQ(0, set_thread_area32(&tls_desc));
}

TEST_HARNESS_MAIN
