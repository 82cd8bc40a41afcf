// SPDX-License-Identifier: GPL-2.0
/*
 * The objections to swapping a user thread's mm (the 2021 process_vm_exec
 * review), answered by tests: core code that assumes all threads of a
 * process share ->mm must still work while one of them is in guest mode.
 */
#define _GNU_SOURCE
#include <linux/membarrier.h>
#include <dirent.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "unpriv_util.h"

GUEST_CODE(guest_spin, "1: jmp 1b\n");

/* Fork a child with one thread spinning in guest mode; it then runs fn. */
static pid_t fork_with_guest_thread(void (*fn)(void))
{
	pid_t pid = fork();

	if (pid == 0) {
		static struct guest g;
		static struct guest_runner r = { .g = &g };
		pthread_t t;

		if (GUEST_MAKE(&g, guest_spin) ||
		    pthread_create(&t, NULL, guest_run_thread, &r))
			_exit(100);
		sleep_ms(100);
		fn();
		_exit(0);
	}
	return pid;
}

static void dump_core(void)
{
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };

	setrlimit(RLIMIT_CORE, &unlimited);
	if (chdir("/tmp"))
		_exit(101);
	signal(SIGABRT, SIG_DFL);
	abort();
}

/*
 * A core dump zaps every thread and waits for them: the thread in guest
 * mode must leave it and be zapped like the others, and the dump must
 * be of the process's own memory.
 */
TEST(coredump_with_a_thread_in_guest_mode_completes)
{
	int status;
	pid_t pid;

	REQUIRE_UNPRIV();
	pid = fork_with_guest_thread(dump_core);
	ASSERT_LE(0, pid);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status)) TH_LOG("status %#x", status);
	EXPECT_EQ(SIGABRT, WTERMSIG(status));
	if (!WCOREDUMP(status))
		TH_LOG("no core written (core_pattern?): the dump still ended");
}

static void wait_forever(void)
{
	for (;;)
		pause();
}

/*
 * A debugger that attaches to a thread in guest mode stops it in host
 * mode: it sees the host's registers (rip in the ioctl's caller, not
 * guest code) and the host's memory; detached, the thread goes back.
 */
TEST(ptrace_attach_to_a_guest_mode_thread_sees_the_host)
{
	struct user_regs_struct regs;
	int status, found = 0;
	char task[64];
	pid_t pid, tid;
	DIR *dir;
	struct dirent *de;

	REQUIRE_UNPRIV();
	pid = fork_with_guest_thread(wait_forever);
	ASSERT_LE(0, pid);
	sleep_ms(200);

	/* The guest-mode thread is the child's other thread. */
	snprintf(task, sizeof(task), "/proc/%d/task", pid);
	dir = opendir(task);
	ASSERT_NE(NULL, dir);
	tid = 0;
	while ((de = readdir(dir)))
		if (atoi(de->d_name) > 0 && atoi(de->d_name) != pid)
			tid = atoi(de->d_name);
	closedir(dir);
	ASSERT_NE(0, tid);

	ASSERT_EQ(0, ptrace(PTRACE_ATTACH, tid, 0, 0));
	ASSERT_EQ(tid, waitpid(tid, &status, __WALL));
	ASSERT_TRUE(WIFSTOPPED(status));
	ASSERT_EQ(0, ptrace(PTRACE_GETREGS, tid, 0, &regs));
	/* Host mode: not at guest code, in the address space of the process. */
	EXPECT_NE(GUEST_CODE_ADDR, regs.rip & ~0xfffULL);
	EXPECT_EQ(SYS_ioctl, (long)regs.orig_rax);
	errno = 0;
	ptrace(PTRACE_PEEKDATA, tid, (void *)regs.rip, 0);
	EXPECT_EQ(0, errno) TH_LOG("PEEKDATA at host rip: %s", strerror(errno));
	found = 1;
	ASSERT_EQ(0, ptrace(PTRACE_DETACH, tid, 0, 0));

	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(1, found);
}

GUEST_CODE(guest_getpid, "mov $39, %eax\nsyscall\n");

/*
 * A tracer stopping at every system call sees each RUN enter once and
 * leave once, with 0: the guest's system calls, which end guest mode in
 * the middle of RUN's return, are not the host's and stop nothing.
 */
TEST(a_tracer_sees_each_run_enter_and_leave_once)
{
	struct __ptrace_syscall_info info;
	int status, entries = 0, exits = 0, runs = 0, run_exits = 0;
	bool in_run = false;
	pid_t pid;

	REQUIRE_UNPRIV();
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct guest g;
		int i;

		if (ptrace(PTRACE_TRACEME, 0, 0, 0) || raise(SIGSTOP) ||
		    GUEST_MAKE(&g, guest_getpid))
			_exit(1);
		for (i = 0; i < 3; i++) {
			g.run->regs.rip = GUEST_CODE_ADDR;
			if (guest_run(&g) ||
			    g.run->exit_reason != UNPRIV_EXIT_SYSCALL)
				_exit(2);
		}
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSTOPPED(status));
	ASSERT_EQ(0, ptrace(PTRACE_SETOPTIONS, pid, 0,
			    PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL));
	for (;;) {
		ASSERT_EQ(0, ptrace(PTRACE_SYSCALL, pid, 0, 0));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		if (!WIFSTOPPED(status))
			break;
		ASSERT_EQ(SIGTRAP | 0x80, WSTOPSIG(status));
		ASSERT_LT(0, ptrace(PTRACE_GET_SYSCALL_INFO, pid,
				    sizeof(info), &info));
		if (info.op == PTRACE_SYSCALL_INFO_ENTRY) {
			entries++;
			in_run = info.entry.nr == SYS_ioctl &&
				 (unsigned int)info.entry.args[1] == UNPRIV_RUN;
			runs += in_run;
		} else if (info.op == PTRACE_SYSCALL_INFO_EXIT) {
			exits++;
			if (in_run) {
				EXPECT_EQ(0, info.exit.rval);
				run_exits++;
			}
			in_run = false;
		}
	}
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("status %#x", status);
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(3, runs);
	EXPECT_EQ(3, run_exits);
	/* exit_group() enters and does not come back */
	EXPECT_EQ(entries - 1, exits);
}

static void membarrier_expedited(void)
{
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) ||
	    syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0))
		_exit(102);
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) < 0 &&
	    errno != EINVAL)
		_exit(103);
	_exit(0);
}

/* membarrier from the host while a sibling is in guest mode. */
TEST(membarrier_with_a_thread_in_guest_mode)
{
	int status;
	pid_t pid;

	REQUIRE_UNPRIV();
	pid = fork_with_guest_thread(membarrier_expedited);
	ASSERT_LE(0, pid);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("status %#x", status);
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_HARNESS_MAIN
