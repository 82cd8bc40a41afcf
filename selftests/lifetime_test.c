// SPDX-License-Identifier: GPL-2.0
/*
 * Lifetimes: closing fds while a guest runs, a process ending while one
 * of its threads is in guest mode, fork of fd holders, unloading while
 * fds are open, and many vcpus on many threads at once.
 *
 * The kernel log is checked by the runner (tools/vmrun fails a run on
 * any WARN, BUG or KASAN report); these tests check that each case ends
 * the way the ABI documents.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "kselftest_harness.h"
#include "unpriv_util.h"

static void on_usr1(int sig)
{
}

TEST(closing_the_address_space_fd_while_running)
{
	struct guest g;
	struct guest_runner r = { .g = &g };
	pthread_t t;
	int as;

	REQUIRE_UNPRIV();
	ASSERT_EQ(0, GUEST_MAKE(&g, guest_spin));
	ASSERT_EQ(0, pthread_create(&t, NULL, guest_run_thread, &r));
	sleep_ms(100);
	as = g.as;
	ASSERT_EQ(0, close(as));
	g.as = -1;
	/* The guest keeps running in it until something stops it. */
	sleep_ms(50);
	ASSERT_EQ(0, ioctl(g.vcpu, UNPRIV_KICK, 0));
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(-EINTR, r.ret);
	EXPECT_EQ(UNPRIV_EXIT_INTR, g.run->exit_reason);

	/* The fd number is gone; the vcpu works with a new address space. */
	EXPECT_EQ(-1, ioctl(g.vcpu, UNPRIV_RUN, as));
	EXPECT_EQ(EBADF, errno);
	guest_destroy(&g);
}

GUEST_CODE(guest_getpid, "mov $39, %eax\nsyscall\n");

/*
 * A guest kernel ending a guest process: it closes that process's
 * address space, then runs the vcpu in another.  RUN lets go of the last
 * reference to the old one, and that must not look like a signal.
 */
TEST(running_in_a_new_address_space_after_closing_the_old_one)
{
	struct guest g, g2;

	REQUIRE_UNPRIV();
	ASSERT_EQ(0, GUEST_MAKE(&g, guest_getpid));
	ASSERT_EQ(0, GUEST_MAKE(&g2, guest_getpid));
	ASSERT_EQ(0, guest_run(&g));
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, g.run->exit_reason);
	/* The vcpu holds the only reference to its address space now. */
	ASSERT_EQ(0, close(g.as));
	g.as = g2.as;
	g2.as = -1;
	/* g2's address space has the same code at the same place. */
	g.run->regs.rip = GUEST_CODE_ADDR;
	EXPECT_EQ(0, guest_run(&g));
	EXPECT_EQ(UNPRIV_EXIT_SYSCALL, g.run->exit_reason);
	EXPECT_EQ(39, g.run->syscall.nr);
	guest_destroy(&g2);
	guest_destroy(&g);
}

TEST(closing_the_vcpu_fd_while_running)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct guest g;
	struct guest_runner r = { .g = &g };
	pthread_t t;

	REQUIRE_UNPRIV();
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	ASSERT_EQ(0, GUEST_MAKE(&g, guest_spin));
	ASSERT_EQ(0, pthread_create(&t, NULL, guest_run_thread, &r));
	sleep_ms(100);
	ASSERT_EQ(0, close(g.vcpu));
	g.vcpu = -1;
	sleep_ms(50);
	/* No fd left to kick it with: a signal brings it out. */
	ASSERT_EQ(0, pthread_kill(t, SIGUSR1));
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(-EINTR, r.ret);
	/* The run page stays mapped and readable. */
	EXPECT_EQ(UNPRIV_EXIT_INTR, g.run->exit_reason);
	guest_destroy(&g);
}

/* Fork a child that puts one thread in guest mode, then calls end(). */
static int child_with_guest_thread(void (*end)(void))
{
	struct guest g;
	struct guest_runner r = { .g = &g };
	pthread_t t;
	pid_t pid;
	int status;

	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (GUEST_MAKE(&g, guest_spin))
			_exit(100);
		if (pthread_create(&t, NULL, guest_run_thread, &r))
			_exit(101);
		sleep_ms(100);
		end();
		_exit(102);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

static void end_by_exit_group(void)
{
	syscall(SYS_exit_group, 7);
}

static void end_by_execve(void)
{
	char *argv[] = { "sh", "-c", "exit 9", NULL };

	execv("/bin/sh", argv);
	_exit(103);
}

static void end_by_sigkill_to_self(void)
{
	kill(getpid(), SIGKILL);
	sleep_ms(1000);
}

TEST(exit_group_from_a_sibling_of_a_guest_mode_thread)
{
	int status;

	REQUIRE_UNPRIV();
	status = child_with_guest_thread(end_by_exit_group);
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("status %#x", status);
	EXPECT_EQ(7, WEXITSTATUS(status));
}

TEST(execve_from_a_sibling_of_a_guest_mode_thread)
{
	int status;

	REQUIRE_UNPRIV();
	if (access("/bin/sh", X_OK))
		SKIP(return, "no /bin/sh");
	status = child_with_guest_thread(end_by_execve);
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("status %#x", status);
	EXPECT_EQ(9, WEXITSTATUS(status));
}

TEST(sigkill_from_a_sibling_of_a_guest_mode_thread)
{
	int status;

	REQUIRE_UNPRIV();
	status = child_with_guest_thread(end_by_sigkill_to_self);
	ASSERT_TRUE(WIFSIGNALED(status)) TH_LOG("status %#x", status);
	EXPECT_EQ(SIGKILL, WTERMSIG(status));
}

TEST(fork_of_a_process_holding_unpriv_fds)
{
	struct guest g;
	int status;
	pid_t pid;

	REQUIRE_UNPRIV();
	ASSERT_EQ(0, GUEST_MAKE(&g, guest_count));
	ASSERT_EQ(0, guest_run(&g));
	ASSERT_EQ(1, g.run->syscall.args[0]);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* The child shares the vcpu, its run page and the space. */
		if (guest_run(&g) || g.run->syscall.args[0] != 2)
			_exit(1);
		guest_destroy(&g);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));

	/* The parent goes on where the child left the shared vcpu. */
	ASSERT_EQ(0, guest_run(&g));
	EXPECT_EQ(3, g.run->syscall.args[0]);
	guest_destroy(&g);
}

/* Several guests in several address spaces on several threads at once. */
#define THREADS		4
#define EXITS		2000

static void *count_exits(void *arg)
{
	struct guest *g = arg;
	long i;

	for (i = 1; i <= EXITS; i++) {
		if (guest_run(g) || g->run->exit_reason != UNPRIV_EXIT_SYSCALL ||
		    g->run->syscall.args[0] != (__u64)i)
			return (void *)i;
	}
	return NULL;
}

TEST(many_vcpus_on_many_threads)
{
	struct guest g[THREADS];
	pthread_t t[THREADS];
	void *failed;
	int i;

	REQUIRE_UNPRIV();
	for (i = 0; i < THREADS; i++)
		ASSERT_EQ(0, GUEST_MAKE(&g[i], guest_count));
	for (i = 0; i < THREADS; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, count_exits, &g[i]));
	for (i = 0; i < THREADS; i++) {
		ASSERT_EQ(0, pthread_join(t[i], &failed));
		EXPECT_EQ(NULL, failed) TH_LOG("thread %d failed at exit %ld",
					       i, (long)failed);
		guest_destroy(&g[i]);
	}
}

/* One vcpu handed from thread to thread: any thread may run it. */
TEST(a_vcpu_runs_on_whichever_thread_calls_run)
{
	struct guest g;
	struct guest_runner r = { .g = &g };
	pthread_t t;
	int i;

	REQUIRE_UNPRIV();
	ASSERT_EQ(0, GUEST_MAKE(&g, guest_count));
	for (i = 1; i <= 10; i++) {
		ASSERT_EQ(0, pthread_create(&t, NULL, guest_run_thread, &r));
		ASSERT_EQ(0, pthread_join(t, NULL));
		ASSERT_EQ(0, r.ret);
		EXPECT_EQ(i, g.run->syscall.args[0]);
	}
	guest_destroy(&g);
}

/* An address-space fd alone holds the module. */
TEST(unload_is_refused_while_an_address_space_fd_is_open)
{
	const char *ko = getenv("UNPRIV_KO");
	int dev, as, kofd;

	if (!ko || access(ko, R_OK))
		SKIP(return, "set UNPRIV_KO to the path of unpriv.ko");
	dev = unpriv_open();
	ASSERT_LE(0, dev);
	as = ioctl(dev, UNPRIV_CREATE_AS, 0);
	ASSERT_LE(0, as);
	close(dev);

	EXPECT_EQ(-1, syscall(SYS_delete_module, "unpriv", O_NONBLOCK));
	EXPECT_EQ(EWOULDBLOCK, errno);
	close(as);

	ASSERT_EQ(0, syscall(SYS_delete_module, "unpriv", O_NONBLOCK));
	kofd = open(ko, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, kofd);
	ASSERT_EQ(0, syscall(SYS_finit_module, kofd, "", 0));
	close(kofd);
}

/*
 * A thread parked on its vcpu, every descriptor of which (and the run
 * page's mapping) a sibling closed: the thread alone holds the module.
 * A stop signal then makes it leave the vcpu, which drops that last
 * reference, and stop.  While it is stopped the module can go; it must
 * not be sleeping somewhere the module's code would return to.  After
 * rmmod and SIGCONT, the thread goes on spinning.
 */
struct parked_stop {
	struct guest g;
	volatile int parked, closed;
	volatile unsigned long spins;
};

static void *close_everything(void *arg)
{
	struct parked_stop *p = arg;

	while (!p->parked)
		sched_yield();
	munmap(p->g.run, UNPRIV_RUN_SIZE);
	close(p->g.vcpu);
	close(p->g.as);
	close(p->g.dev);
	close(p->g.mem);
	p->closed = 1;
	for (;;)
		pause();
	return NULL;
}

/* The parked thread: no system call from here on. */
static void __attribute__((noreturn)) spin_parked(struct parked_stop *p)
{
	p->parked = 1;
	for (;;)
		p->spins++;
}

static void parked_stop_child(struct parked_stop *p)
{
	pthread_t t;

	if (GUEST_MAKE(&p->g, guest_count) ||
	    pthread_create(&t, NULL, close_everything, p))
		_exit(1);
	if (guest_run(&p->g) || p->g.run->exit_reason != UNPRIV_EXIT_SYSCALL)
		_exit(2);
	spin_parked(p);
}

static bool spins_go_on(struct parked_stop *p)
{
	unsigned long before = p->spins;
	int i;

	for (i = 0; i < 100; i++) {
		sleep_ms(10);
		if (p->spins != before)
			return true;
	}
	return false;
}

TEST(unload_while_the_last_holder_is_stopped_leaving_its_vcpu)
{
	const char *ko = getenv("UNPRIV_KO");
	struct parked_stop *p;
	int status, unloaded, kofd, i;
	pid_t pid;

	if (!ko || access(ko, R_OK))
		SKIP(return, "set UNPRIV_KO to the path of unpriv.ko");
	REQUIRE_UNPRIV();
	p = mmap(NULL, sizeof(*p), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 0, sizeof(*p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		parked_stop_child(p);
	for (i = 0; i < 500 && !p->closed; i++)
		sleep_ms(10);
	ASSERT_TRUE(p->closed);
	ASSERT_TRUE(spins_go_on(p));

	ASSERT_EQ(0, kill(pid, SIGSTOP));
	ASSERT_EQ(pid, waitpid(pid, &status, WUNTRACED));
	ASSERT_TRUE(WIFSTOPPED(status));
	/* No descriptor is left: the module can go. */
	unloaded = !syscall(SYS_delete_module, "unpriv", O_NONBLOCK);
	EXPECT_TRUE(unloaded) TH_LOG("delete_module: %m");
	ASSERT_EQ(0, kill(pid, SIGCONT));
	EXPECT_TRUE(spins_go_on(p))
		TH_LOG("the stopped thread did not come back");

	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(SIGKILL, WTERMSIG(status));
	munmap(p, sizeof(*p));
	if (unloaded) {
		kofd = open(ko, O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, kofd);
		ASSERT_EQ(0, syscall(SYS_finit_module, kofd, "", 0));
		close(kofd);
	}
}

TEST_HARNESS_MAIN
