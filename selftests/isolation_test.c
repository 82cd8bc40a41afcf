// SPDX-License-Identifier: GPL-2.0
/*
 * Per-thread state that guest mode must keep apart: each survives both
 * directions, the guest's and the host's.
 */
#define _GNU_SOURCE
#include <asm/hwcap2.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <asm/prctl.h>
#include <cpuid.h>
#include <signal.h>
#include <pthread.h>
#include <sched.h>
#include <sys/sysinfo.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/auxv.h>
#include <sys/io.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <stddef.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>

#include "kselftest_harness.h"
#include "unpriv_util.h"

#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH	59
#define PR_SYS_DISPATCH_OFF		0
#define PR_SYS_DISPATCH_ON		1
#define SYSCALL_DISPATCH_FILTER_ALLOW	0
#define SYSCALL_DISPATCH_FILTER_BLOCK	1
#endif

FIXTURE(iso) {
	struct guest g;
};

FIXTURE_SETUP(iso)
{
	GUEST_SETUP(&self->g);
}

FIXTURE_TEARDOWN(iso)
{
	guest_destroy(&self->g);
}

static unsigned long host_fs_base(void)
{
	unsigned long base = 0;

	syscall(SYS_arch_prctl, ARCH_GET_FS, &base);
	return base;
}

static __thread volatile long tls_canary = 0x5eed;

/* Read %fs:0 and %gs:8, then report them in a system call. */
GUEST_CODE(guest_read_fs_gs,
	"mov %fs:0, %rdi\n"
	"mov %gs:8, %rsi\n"
	"mov $1, %eax\n"
	"syscall\n");

TEST_F(iso, fs_and_gs_base_are_the_guests_in_guest_mode_only)
{
	struct unpriv_run *run = self->g.run;
	unsigned long fs = host_fs_base();
	__u64 magic[2] = { 0xf5f5f5f5f5ULL, 0x6565656565ULL };

	ASSERT_EQ(sizeof(magic[0]), pwrite(self->g.mem, &magic[0], 8, GUEST_DATA_OFF));
	ASSERT_EQ(sizeof(magic[1]), pwrite(self->g.mem, &magic[1], 8,
					   GUEST_DATA_OFF + GUEST_PAGE + 8));
	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_read_fs_gs));
	run->regs.fs_base = GUEST_DATA_ADDR;
	run->regs.gs_base = GUEST_DATA_ADDR + GUEST_PAGE;

	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
	EXPECT_EQ(magic[0], run->syscall.args[0]);
	EXPECT_EQ(magic[1], run->syscall.args[1]);
	EXPECT_EQ(GUEST_DATA_ADDR, run->regs.fs_base);
	EXPECT_EQ(GUEST_DATA_ADDR + GUEST_PAGE, run->regs.gs_base);

	/* The host's TLS is intact. */
	EXPECT_EQ(fs, host_fs_base());
	EXPECT_EQ(0x5eed, tls_canary);
}

/* A host with a GS base of its own gets it back, and the guest its own. */
TEST_F(iso, a_host_gs_base_survives_guest_mode)
{
	struct unpriv_run *run = self->g.run;
	static unsigned long host_gs_area[2] = { 0, 0x4747474747UL };
	unsigned long gs = 0, seen;
	__u64 magic = 0x6565656565ULL;

	ASSERT_EQ(sizeof(magic), pwrite(self->g.mem, &magic, 8,
					GUEST_DATA_OFF + GUEST_PAGE + 8));
	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_read_fs_gs));
	run->regs.fs_base = GUEST_DATA_ADDR;
	run->regs.gs_base = GUEST_DATA_ADDR + GUEST_PAGE;
	ASSERT_EQ(0, syscall(SYS_arch_prctl, ARCH_SET_GS,
			     (unsigned long)host_gs_area));

	ASSERT_EQ(0, guest_run(&self->g));
	asm volatile("mov %%gs:8, %0" : "=r"(seen));
	ASSERT_EQ(0, syscall(SYS_arch_prctl, ARCH_GET_GS, &gs));
	syscall(SYS_arch_prctl, ARCH_SET_GS, 0UL);

	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
	EXPECT_EQ(magic, run->syscall.args[1]);
	EXPECT_EQ(GUEST_DATA_ADDR + GUEST_PAGE, run->regs.gs_base);
	EXPECT_EQ(0x4747474747UL, seen);
	EXPECT_EQ((unsigned long)host_gs_area, gs);
}

/* wrfsbase in the guest: the exit reports it, the host keeps its own. */
GUEST_CODE(guest_wrfsbase,
	"mov $0x123000, %rax\n"
	"wrfsbase %rax\n"
	"mov $1, %eax\n"
	"syscall\n");

TEST_F(iso, guest_wrfsbase_changes_only_the_guest)
{
	struct unpriv_run *run = self->g.run;
	unsigned long fs = host_fs_base();

	/* The kernel's word, not CPUID's: it may leave it off (nofsgsbase). */
	if (!(getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE))
		SKIP(return, "FSGSBASE not enabled");
	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_wrfsbase));
	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
	EXPECT_EQ(0x123000, run->regs.fs_base);
	EXPECT_EQ(fs, host_fs_base());
	EXPECT_EQ(0x5eed, tls_canary);
}

/*
 * wrfsbase and wrgsbase to a kernel-half canonical address, which the
 * CPU allows a user program: the exit reports them, and the next RUN
 * takes them back, so that the guest goes on where it was.
 */
GUEST_CODE(guest_wrfsgsbase_kernel_half,
	"mov $0xffff800000001000, %rax\n"
	"wrfsbase %rax\n"
	"mov $0xffff800000002000, %rax\n"
	"wrgsbase %rax\n"
	"mov $1, %eax\n"
	"syscall\n"
	"rdfsbase %rdi\n"
	"rdgsbase %rsi\n"
	"mov $2, %eax\n"
	"syscall\n");

TEST_F(iso, a_kernel_half_fs_or_gs_base_the_guest_set_survives_an_exit)
{
	struct unpriv_run *run = self->g.run;
	unsigned long fs = host_fs_base();

	if (!(getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE))
		SKIP(return, "FSGSBASE not enabled");
	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_wrfsgsbase_kernel_half));
	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
	EXPECT_EQ(0xffff800000001000UL, run->regs.fs_base);
	EXPECT_EQ(0xffff800000002000UL, run->regs.gs_base);
	EXPECT_EQ(fs, host_fs_base());

	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
	EXPECT_EQ(2, run->syscall.nr);
	EXPECT_EQ(0xffff800000001000UL, run->syscall.args[0]);
	EXPECT_EQ(0xffff800000002000UL, run->syscall.args[1]);
	EXPECT_EQ(fs, host_fs_base());
	EXPECT_EQ(0x5eed, tls_canary);
}

/* Set xmm0, exit; then, on the next run, report xmm0. */
GUEST_CODE(guest_xmm0,
	"mov $0x6060606060606060, %rax\n"
	"movq %rax, %xmm0\n"
	"mov $1, %eax\n"
	"syscall\n"
	"movq %xmm0, %rdi\n"
	"mov $1, %eax\n"
	"syscall\n");

/* UNPRIV_RUN with xmm0 = in; returns xmm0 as the host sees it after. */
static long run_with_xmm0(struct guest *g, uint64_t in, uint64_t *out)
{
	long ret;

	asm volatile("movq %[in], %%xmm0\n\t"
		     "syscall\n\t"
		     "movq %%xmm0, %[out]\n\t"
		     : "=a"(ret), [out] "=r"(*out)
		     : "0"((long)SYS_ioctl), "D"((long)g->vcpu),
		       "S"((long)UNPRIV_RUN), "d"((long)g->as), [in] "r"(in)
		     : "rcx", "r11", "memory", "xmm0");
	return ret;
}

TEST_F(iso, sse_registers_are_kept_apart)
{
	struct unpriv_run *run = self->g.run;
	uint64_t host_xmm0;

	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_xmm0));
	ASSERT_EQ(0, run_with_xmm0(&self->g, 0x4848484848484848ULL, &host_xmm0));
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
	EXPECT_EQ(0x4848484848484848ULL, host_xmm0);

	ASSERT_EQ(0, run_with_xmm0(&self->g, 0x1717171717171717ULL, &host_xmm0));
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
	EXPECT_EQ(0x6060606060606060ULL, run->syscall.args[0]);
	EXPECT_EQ(0x1717171717171717ULL, host_xmm0);
}

static bool have_ospke(void)
{
	unsigned int a, b, c, d;

	__cpuid_count(7, 0, a, b, c, d);
	return c & (1 << 4);
}

static unsigned int rdpkru(void)
{
	unsigned int eax, edx;

	asm volatile("rdpkru" : "=a"(eax), "=d"(edx) : "c"(0));
	return eax;
}

/* wrpkru, exit; then report pkru. */
GUEST_CODE(guest_pkru,
	"mov $0x0000000c, %eax\n"
	"xor %ecx, %ecx\n"
	"xor %edx, %edx\n"
	"wrpkru\n"
	"mov $1, %eax\n"
	"syscall\n"
	"xor %ecx, %ecx\n"
	"rdpkru\n"
	"mov %rax, %rdi\n"
	"mov $1, %eax\n"
	"syscall\n");

TEST_F(iso, pkru_is_kept_apart)
{
	struct unpriv_run *run = self->g.run;
	unsigned int host;

	if (!have_ospke())
		SKIP(return, "no OSPKE");
	host = rdpkru();
	ASSERT_NE(0x0000000c, host);
	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_pkru));
	ASSERT_EQ(0, guest_run(&self->g));
	EXPECT_EQ(host, rdpkru());
	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
	EXPECT_EQ(0x0000000c, run->syscall.args[0]);
	EXPECT_EQ(host, rdpkru());
}

static void wrpkru(unsigned int pkru)
{
	asm volatile("wrpkru" : : "a"(pkru), "c"(0), "d"(0) : "memory");
}

/*
 * An execute-only mapping gets the address space's execute-only pkey,
 * and the kernel denies that key in the PKRU of the thread that made
 * the mapping: the host thread's own PKRU, which must not change.
 */
TEST_F(iso, execute_only_maps_leave_the_callers_pkru_alone)
{
	struct unpriv_as_range r = {
		.addr = GUEST_DATA_ADDR, .len = GUEST_PAGE, .prot = UNPRIV_PROT_EXEC,
	};

	if (!have_ospke())
		SKIP(return, "no OSPKE");
	wrpkru(0);
	ASSERT_EQ(0, guest_map(&self->g, GUEST_UNMAPPED_ADDR, GUEST_PAGE, 0,
			       UNPRIV_PROT_EXEC));
	EXPECT_EQ(0, rdpkru());

	wrpkru(0);
	ASSERT_EQ(0, ioctl(self->g.as, UNPRIV_AS_PROTECT, &r));
	EXPECT_EQ(0, rdpkru());
}

GUEST_CODE(guest_fault_then_syscall,
	"mov $0x400000, %rax\n"
	"mov (%rax), %rbx\n");

/*
 * glibc registers rseq for every thread; the kernel updates it on the
 * way to user mode.  It must keep working for the host thread and never
 * be written through the guest's mm.
 */
TEST_F(iso, rseq_keeps_working_for_the_host_thread)
{
	struct rseq *rs;
	int i;

	if (!__rseq_size)
		SKIP(return, "rseq not registered by the C library");
	rs = (struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);
	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_fault_then_syscall));
	for (i = 0; i < 100; i++) {
		ASSERT_EQ(0, guest_run(&self->g));
		ASSERT_EQ(UNPRIV_EXIT_FAULT, self->g.run->exit_reason);
		self->g.run->regs.rip = GUEST_CODE_ADDR;
		sched_yield();
	}
	EXPECT_EQ(sched_getcpu(), (int)rs->cpu_id);
}

struct migrate {
	pid_t tid;
	int vcpu;
	int to_cpu;
};

/* Move the guest-mode thread to another CPU, then kick it out. */
static void *migrate_then_kick(void *arg)
{
	struct migrate *m = arg;
	cpu_set_t set;

	sleep_ms(100);
	CPU_ZERO(&set);
	CPU_SET(m->to_cpu, &set);
	if (sched_setaffinity(m->tid, sizeof(set), &set))
		return (void *)1L;
	sleep_ms(100);
	return (void *)(long)ioctl(m->vcpu, UNPRIV_KICK, 0);
}

/*
 * A thread that changes CPU while in guest mode finds its rseq cpu_id
 * right as soon as RUN returns.  (The first version asked for the rseq
 * update before it had put the host's rseq area back: no update.)
 */
TEST_F(iso, rseq_cpu_id_is_right_after_a_migration_in_guest_mode)
{
	struct migrate m = { .tid = gettid(), .vcpu = self->g.vcpu };
	struct rseq *rs;
	cpu_set_t set;
	pthread_t t;
	void *ret;

	if (!__rseq_size)
		SKIP(return, "rseq not registered by the C library");
	if (get_nprocs() < 2)
		SKIP(return, "needs two CPUs");
	rs = (struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(set), &set));
	ASSERT_EQ(0, (int)rs->cpu_id);
	m.to_cpu = 1;

	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_spin));
	ASSERT_EQ(0, pthread_create(&t, NULL, migrate_then_kick, &m));
	EXPECT_EQ(-EINTR, guest_run(&self->g));
	/* No system call between the return and the check. */
	EXPECT_EQ(1, (int)rs->cpu_id);
	ASSERT_EQ(0, pthread_join(t, &ret));
	EXPECT_EQ(NULL, ret);
	/* the kernel's own word, not the rseq area's (sched_getcpu reads it) */
	unsigned int cpu = ~0U;

	ASSERT_EQ(0, syscall(SYS_getcpu, &cpu, NULL, NULL));
	EXPECT_EQ(1, cpu);
}

struct flipper {
	pid_t tid;
	volatile bool stop;
};

/* Move the thread from CPU 0 to 1 and back, every millisecond. */
static void *flip_cpus(void *arg)
{
	struct flipper *f = arg;
	cpu_set_t set;
	int cpu = 0;

	while (!f->stop) {
		cpu ^= 1;
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(f->tid, sizeof(set), &set))
			return (void *)1L;
		sleep_ms(1);
	}
	return NULL;
}

GUEST_CODE(guest_syscall_at_once, "syscall\n");

/*
 * A migration while the thread is on its way into guest mode leaves an
 * rseq update due when RUN parks rseq; the update must still be made on
 * the way back, even on the CPU it entered on.  (The first version only
 * compared the CPUs at entry and exit, and read the entry CPU after
 * parking: the host's cpu_id stayed at the old CPU.)
 */
TEST_F(iso, rseq_cpu_id_is_right_after_a_migration_during_run)
{
	struct flipper f = { .tid = gettid() };
	int i, stale = 0, checked = 0;
	struct rseq *rs;
	pthread_t t;
	void *ret;

	if (!__rseq_size)
		SKIP(return, "rseq not registered by the C library");
	if (get_nprocs() < 2)
		SKIP(return, "needs two CPUs");
	rs = (struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);
	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_syscall_at_once));
	ASSERT_EQ(0, pthread_create(&t, NULL, flip_cpus, &f));
	for (i = 0; i < 3000; i++) {
		unsigned int a = ~0U, b = ~0U, cpu_id;
		int ret;

		/*
		 * A run may end early with -EINTR: task work (6.12's per-mm
		 * concurrency id scans) is the kernel's to run first.
		 */
		do {
			self->g.run->regs.rip = GUEST_CODE_ADDR;
			ret = guest_run(&self->g);
		} while (ret == -EINTR);
		ASSERT_EQ(0, ret);
		/* the kernel's word before and after the rseq area's */
		syscall(SYS_getcpu, &a, NULL, NULL);
		cpu_id = rs->cpu_id;
		syscall(SYS_getcpu, &b, NULL, NULL);
		if (a != b)
			continue;
		checked++;
		if (cpu_id != a && stale++ < 5)
			TH_LOG("run %d: rseq cpu_id %u on CPU %u", i, cpu_id, a);
	}
	f.stop = true;
	ASSERT_EQ(0, pthread_join(t, &ret));
	EXPECT_EQ(NULL, ret);
	EXPECT_LT(1000, checked);
	EXPECT_EQ(0, stale);
}

/*
 * Per-mm concurrency ids (6.3 on): the scheduler gives a running thread
 * the id its mm holds for the CPU, at each context switch, and rseq
 * shows it at offset 24.  A switch in guest mode gives the thread one of
 * the address space's; back in host mode it must have its own mm's for
 * the CPU, the one the next switch gives it.  (The first 6.12 port kept
 * the address space's: 0, where the host's on that CPU was 1.)
 */
#define RSEQ_MM_CID	24

static uint32_t rseq_mm_cid(void)
{
	char *rs = (char *)__builtin_thread_pointer() + __rseq_offset;

	return __atomic_load_n((uint32_t *)(rs + RSEQ_MM_CID), __ATOMIC_RELAXED);
}

static void pin_to(pid_t tid, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(tid, sizeof(set), &set);
}

struct cid_spinner {
	volatile bool stop;
	volatile bool running;
};

/*
 * Runs on CPU 0 for a moment every 20 ms: the host mm's id there stays
 * in use, and the kernel's scan (which frees ids unused for 100 ms and
 * would renumber the ones left) leaves the host's ids as they are.
 */
static void *touch_cpu0(void *arg)
{
	struct cid_spinner *s = arg;

	pin_to(0, 0);
	while (!s->stop)
		sleep_ms(20);
	return NULL;
}

/* Holds CPU 1 for the host mm: its id there is this thread's. */
static void *spin_on_cpu1(void *arg)
{
	struct cid_spinner *s = arg;

	pin_to(0, 1);
	s->running = true;
	while (!s->stop)
		;
	return NULL;
}

struct cid_mover {
	pid_t tid;
	int vcpu;
};

/* Moves the thread, in guest mode, to CPU 1, then ends its run. */
static void *move_then_kick(void *arg)
{
	struct cid_mover *m = arg;

	sleep_ms(5);
	pin_to(m->tid, 1);
	sleep_ms(10);
	ioctl(m->vcpu, UNPRIV_KICK, 0);
	return NULL;
}

TEST_F(iso, rseq_mm_cid_is_the_host_mms_after_a_switch_in_guest_mode)
{
	struct cid_spinner s = {};
	struct cid_mover m = { .tid = gettid(), .vcpu = self->g.vcpu };
	int i, checked = 0, wrong = 0;
	pthread_t spinner, toucher, mover;

	if (!__rseq_size)
		SKIP(return, "rseq not registered by the C library");
	if (get_nprocs() < 2)
		SKIP(return, "needs two CPUs");
	if (!kernel_at_least(6, 3))
		SKIP(return, "no mm concurrency ids before 6.3");
	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_spin));
	pin_to(0, 0);
	ASSERT_EQ(0, pthread_create(&spinner, NULL, spin_on_cpu1, &s));
	ASSERT_EQ(0, pthread_create(&toucher, NULL, touch_cpu0, &s));
	while (!s.running)
		sleep_ms(1);

	for (i = 0; i < 40; i++) {
		uint32_t after_run, after_switch;
		unsigned int cpu = ~0U;
		int ret;

		pin_to(0, 0);
		self->g.run->regs.rip = GUEST_CODE_ADDR;
		ASSERT_EQ(0, pthread_create(&mover, NULL, move_then_kick, &m));
		ret = guest_run(&self->g);
		ASSERT_EQ(0, pthread_join(mover, NULL));
		ASSERT_EQ(-EINTR, ret);
		after_run = rseq_mm_cid();
		syscall(SYS_getcpu, &cpu, NULL, NULL);
		if (cpu != 1)
			continue;
		/* The spinner is runnable on CPU 1: this switches. */
		sched_yield();
		after_switch = rseq_mm_cid();
		syscall(SYS_getcpu, &cpu, NULL, NULL);
		if (cpu != 1)
			continue;
		checked++;
		/*
		 * The kernel's scan may renumber the ids meanwhile, to fewer:
		 * a lower one after the switch is its doing, a higher one
		 * means the run left another mm's id.
		 */
		if (after_switch > after_run && wrong++ < 5)
			TH_LOG("run %d: mm_cid %u after the run, %u after a switch",
			       i, after_run, after_switch);
	}
	s.stop = true;
	ASSERT_EQ(0, pthread_join(spinner, NULL));
	ASSERT_EQ(0, pthread_join(toucher, NULL));
	EXPECT_LT(20, checked);
	EXPECT_EQ(0, wrong);
}

static volatile char sud_selector = SYSCALL_DISPATCH_FILTER_ALLOW;
static volatile sig_atomic_t sigsys_seen;

static void on_sigsys(int sig, siginfo_t *info, void *uc)
{
	sigsys_seen++;
	sud_selector = SYSCALL_DISPATCH_FILTER_ALLOW;
}

TEST_F(iso, host_syscall_user_dispatch_settings_survive)
{
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
	int i;

	ASSERT_EQ(0, sigaction(SIGSYS, &sa, NULL));
	ASSERT_EQ(0, prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON,
			   0, 0, &sud_selector));
	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_xmm0));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, guest_run(&self->g));
		ASSERT_EQ(UNPRIV_EXIT_SYSCALL, self->g.run->exit_reason);
	}
	EXPECT_EQ(0, sigsys_seen);

	/* The host's dispatch is still armed: a blocked syscall traps. */
	sud_selector = SYSCALL_DISPATCH_FILTER_BLOCK;
	syscall(SYS_getppid);
	EXPECT_EQ(1, sigsys_seen);
	ASSERT_EQ(0, prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_OFF,
			   0, 0, 0));
}

static void on_segv(int sig)
{
}

static void *handler_of(int sig)
{
	struct sigaction sa;

	sigaction(sig, NULL, &sa);
	return (void *)sa.sa_handler;
}

GUEST_CODE(guest_int3, "int3\n");

TEST_F(iso, host_signal_dispositions_survive_guest_faults)
{
	struct sigaction sa = { .sa_handler = on_segv };
	sigset_t set, now;

	ASSERT_EQ(0, sigaction(SIGSEGV, &sa, NULL));
	sa.sa_handler = SIG_IGN;
	ASSERT_EQ(0, sigaction(SIGTRAP, &sa, NULL));
	sigemptyset(&set);
	sigaddset(&set, SIGSEGV);
	sigaddset(&set, SIGTRAP);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &set, NULL));

	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_fault_then_syscall));
	ASSERT_EQ(0, guest_run(&self->g));
	EXPECT_EQ(UNPRIV_EXIT_FAULT, self->g.run->exit_reason);
	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_int3));
	ASSERT_EQ(0, guest_run(&self->g));
	EXPECT_EQ(UNPRIV_EXIT_TRAP, self->g.run->exit_reason);

	EXPECT_EQ((void *)on_segv, handler_of(SIGSEGV));
	EXPECT_EQ((void *)SIG_IGN, handler_of(SIGTRAP));
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, NULL, &now));
	EXPECT_TRUE(sigismember(&now, SIGSEGV));
	EXPECT_TRUE(sigismember(&now, SIGTRAP));
}

/* Many guest faults and traps with no host handler: the log stays quiet. */
TEST_F(iso, guest_faults_leave_no_kernel_log_lines)
{
	char rec[1024];
	int kmsg, i;
	ssize_t n;

	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg < 0)
		SKIP(return, "/dev/kmsg: %s", strerror(errno));
	ASSERT_EQ(0, lseek(kmsg, 0, SEEK_END));
	signal(SIGSEGV, SIG_DFL);
	signal(SIGTRAP, SIG_DFL);

	for (i = 0; i < 50; i++) {
		ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_fault_then_syscall));
		ASSERT_EQ(0, guest_run(&self->g));
		ASSERT_EQ(UNPRIV_EXIT_FAULT, self->g.run->exit_reason);
		ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_int3));
		ASSERT_EQ(0, guest_run(&self->g));
		ASSERT_EQ(UNPRIV_EXIT_TRAP, self->g.run->exit_reason);
	}
	while ((n = read(kmsg, rec, sizeof(rec) - 1)) > 0) {
		rec[n] = 0;
		EXPECT_EQ(NULL, strstr(rec, "segfault"))
			TH_LOG("kernel log: %s", rec);
		EXPECT_EQ(NULL, strstr(rec, "traps:")) TH_LOG("kernel log: %s", rec);
	}
	close(kmsg);
}

GUEST_CODE(guest_getpid, "mov $39, %eax\nsyscall\n");

/* An I/O permission bitmap would apply to guest code: RUN refuses. */
TEST_F(iso, a_thread_with_ioperm_is_refused)
{
	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_getpid));
	if (ioperm(0x80, 1, 1))
		SKIP(return, "ioperm: %s", strerror(errno));
	EXPECT_EQ(-EBUSY, guest_run(&self->g));
	ASSERT_EQ(0, ioperm(0x80, 1, 0));
}

/*
 * A child that makes a guest, stops for its tracer (the caller) and then
 * runs the guest once; it writes to *result_fd how RUN ended: 'y' EBUSY,
 * 'r' the guest ran, 'e' another error.  Returns the child, stopped.
 */
static pid_t fork_traced_runner(struct __test_metadata *_metadata,
				int *result_fd)
{
	int status, pipefd[2], ret;
	char result;
	pid_t pid;

	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct guest g;

		close(pipefd[0]);
		if (guest_create(&g) || GUEST_LOAD(&g, guest_getpid))
			_exit(2);
		ptrace(PTRACE_TRACEME, 0, 0, 0);
		raise(SIGSTOP);
		ret = guest_run(&g);
		result = ret == -EBUSY ? 'y' : ret == 0 ? 'r' : 'e';
		write(pipefd[1], &result, 1);
		_exit(0);
	}
	close(pipefd[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSTOPPED(status));
	*result_fd = pipefd[0];
	return pid;
}

/* DR0 at the guest's code, enabled in DR7, as a debugger sets them. */
static void poke_breakpoint(struct __test_metadata *_metadata, pid_t pid)
{
	ASSERT_EQ(0, ptrace(PTRACE_POKEUSER, pid,
			    offsetof(struct user, u_debugreg[0]),
			    (void *)GUEST_CODE_ADDR));
	ASSERT_EQ(0, ptrace(PTRACE_POKEUSER, pid,
			    offsetof(struct user, u_debugreg[7]), (void *)1));
}

/* The runner's verdict, and its end. */
static void expect_refused(struct __test_metadata *_metadata, pid_t pid,
			   int result_fd)
{
	char result = 0;
	int status;

	ASSERT_EQ(1, read(result_fd, &result, 1));
	EXPECT_EQ('y', result) TH_LOG("%s", result == 'r' ? "the guest ran" :
				       "RUN failed otherwise");
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	close(result_fd);
}

/* So would a debugger's hardware breakpoint. */
TEST(a_thread_with_hardware_breakpoints_is_refused)
{
	int result_fd;
	pid_t pid;

	REQUIRE_UNPRIV();
	pid = fork_traced_runner(_metadata, &result_fd);
	poke_breakpoint(_metadata, pid);
	ASSERT_EQ(0, ptrace(PTRACE_DETACH, pid, 0, 0));
	expect_refused(_metadata, pid, result_fd);
}

/* Resumes the traced runner until RUN's own syscall-exit stop. */
static void stop_at_runs_syscall_exit(struct __test_metadata *_metadata,
				      pid_t pid)
{
	struct __ptrace_syscall_info info;
	bool in_run = false;
	int status;

	ASSERT_EQ(0, ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACESYSGOOD));
	for (;;) {
		ASSERT_EQ(0, ptrace(PTRACE_SYSCALL, pid, 0, 0));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFSTOPPED(status));
		if (WSTOPSIG(status) != (SIGTRAP | 0x80))
			continue;
		ASSERT_LT(0, ptrace(PTRACE_GET_SYSCALL_INFO, pid, sizeof(info),
				    &info));
		if (info.op == PTRACE_SYSCALL_INFO_ENTRY)
			in_run = info.entry.nr == __NR_ioctl &&
				 (unsigned int)info.entry.args[1] == UNPRIV_RUN;
		else if (info.op == PTRACE_SYSCALL_INFO_EXIT && in_run)
			return;
	}
}

/*
 * ... and a tracer's breakpoint set at RUN's own syscall-exit stop, after
 * RUN looked: the entry into guest mode looks again.
 */
TEST(a_breakpoint_set_at_runs_syscall_exit_stop_is_refused)
{
	int result_fd;
	pid_t pid;

	REQUIRE_UNPRIV();
	pid = fork_traced_runner(_metadata, &result_fd);
	stop_at_runs_syscall_exit(_metadata, pid);
	/* RUN has claimed the vcpu and looked; the guest is not entered. */
	poke_breakpoint(_metadata, pid);
	/* Attached still: a detach would make the entry stop with EINTR. */
	ASSERT_EQ(0, ptrace(PTRACE_CONT, pid, 0, 0));
	expect_refused(_metadata, pid, result_fd);
}

/*
 * Since 6.4 a tracer reads and writes a stopped thread's Syscall User
 * Dispatch settings.  For a thread in a vcpu (entering guest mode, as at
 * RUN's syscall-exit stop, or parked) those are the module's: the
 * selector is the vcpu's kernel address, and writing them would drop the
 * vcpu.  The tracer gets EBUSY, and the guest runs as it would.
 */
#ifndef PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG
#define PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG	0x4210
#define PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG	0x4211
struct ptrace_sud_config {
	uint64_t mode;
	uint64_t selector;
	uint64_t offset;
	uint64_t len;
};
#endif

TEST(a_tracer_cannot_read_or_write_the_dispatch_settings_of_a_vcpu_thread)
{
	struct ptrace_sud_config cfg = { .mode = ~0ULL };
	int result_fd, status;
	char result = 0;
	pid_t pid;

	REQUIRE_UNPRIV();
	pid = fork_traced_runner(_metadata, &result_fd);
	if (ptrace(PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG, pid, sizeof(cfg),
		   &cfg) && errno == EIO) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		SKIP(return, "no PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG (before 6.4)");
	}
	EXPECT_EQ(0, cfg.mode);		/* stopped before RUN: its own, off */
	stop_at_runs_syscall_exit(_metadata, pid);

	cfg.selector = 0;
	errno = 0;
	EXPECT_EQ(-1, ptrace(PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG, pid,
			     sizeof(cfg), &cfg));
	EXPECT_EQ(EBUSY, errno) TH_LOG("the tracer read selector %#llx",
				       (unsigned long long)cfg.selector);
	memset(&cfg, 0, sizeof(cfg));		/* PR_SYS_DISPATCH_OFF */
	errno = 0;
	EXPECT_EQ(-1, ptrace(PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG, pid,
			     sizeof(cfg), &cfg));
	EXPECT_EQ(EBUSY, errno);

	ASSERT_EQ(0, ptrace(PTRACE_CONT, pid, 0, 0));
	ASSERT_EQ(1, read(result_fd, &result, 1));
	EXPECT_EQ('r', result) TH_LOG("the guest did not run: %c", result);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	close(result_fd);
}

/* ... and so would a perf breakpoint event on the thread. */
GUEST_CODE(guest_store_data, "movq $1, 0x200000\nmov $39, %eax\nsyscall\n");

TEST(a_thread_with_a_perf_breakpoint_is_refused)
{
	struct perf_event_attr a = {
		.type = PERF_TYPE_BREAKPOINT, .size = sizeof(a),
		.bp_type = HW_BREAKPOINT_W, .bp_addr = GUEST_DATA_ADDR,
		.bp_len = HW_BREAKPOINT_LEN_8, .sample_period = 1,
		.exclude_kernel = 1, .exclude_hv = 1,
	};
	struct guest g;
	uint64_t count = 0;
	int fd, ret;

	REQUIRE_UNPRIV();
	ASSERT_EQ(0, GUEST_MAKE(&g, guest_store_data));
	fd = syscall(__NR_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		SKIP(return, "perf_event_open(breakpoint): %m");
	ret = guest_run(&g);
	read(fd, &count, sizeof(count));
	EXPECT_EQ(-EBUSY, ret) TH_LOG("the breakpoint hit guest code %llu times",
				      (unsigned long long)count);
	close(fd);
	/* Without it, the guest runs. */
	EXPECT_EQ(0, guest_run(&g));
	guest_destroy(&g);
}

TEST_HARNESS_MAIN
