// SPDX-License-Identifier: GPL-2.0
/*
 * The objections to swapping a user thread's mm (the 2021 process_vm_exec
 * review), answered by tests: core code that assumes all threads of a
 * process share ->mm must still work while one of them is in guest mode
 * (core dumps, ptrace, membarrier, perf callchains, uprobes, the OOM
 * killer, memory failure, current_is_single_threaded(), speculation
 * control), and per-mm x86 state (the LDT) and per-thread descriptors must
 * stay the host's.  Documentation/unpriv-api.rst, "Caveats", says what
 * each shows.
 */
#define _GNU_SOURCE
#include <linux/membarrier.h>
#include <linux/perf_event.h>
#include <asm/ldt.h>
#include <dirent.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "unpriv_util.h"

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

/* ===== perf: samples, and user callchains, of a thread in guest mode ===== */

static int perf_open(struct perf_event_attr *attr)
{
	return syscall(SYS_perf_event_open, attr, 0, -1, -1,
		       PERF_FLAG_FD_CLOEXEC);
}

#define PERF_PAGES	16

/* The guest makes two stack frames, points rbp at them, and spins. */
GUEST_CODE(guest_spin_in_frames,
	"mov $0x300f00, %rbp\n"
	"movq $0x300f10, (%rbp)\n"
	"movq $0x1234567, 8(%rbp)\n"
	"movq $0, 16(%rbp)\n"
	"movq $0x7654321, 24(%rbp)\n"
	"mov %rbp, %rsp\n"
	"guest_spin_in_frames_spin: jmp guest_spin_in_frames_spin\n");
extern const char guest_spin_in_frames_spin[];

static void *kick_after(void *arg)
{
	struct guest *g = arg;

	sleep_ms(300);
	return (void *)(long)ioctl(g->vcpu, UNPRIV_KICK, 0);
}

/* Each sample: ip, pid and tid, the callchain. */
struct sample {
	struct perf_event_header header;
	__u64 ip;
	__u32 pid, tid;
	__u64 nr;
	__u64 ips[];
};

/*
 * A sample taken while the thread runs guest code is a sample of guest
 * code: its ip is the guest's, and its user callchain is walked through
 * the guest's frame pointers in the guest's memory, because the
 * thread's mm is the guest's.  Nothing of the host's stack shows.
 */
TEST(perf_samples_guest_code_with_the_guests_own_callchain)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE, .size = sizeof(attr),
		.config = PERF_COUNT_SW_CPU_CLOCK, .sample_period = 200000,
		.sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID |
			       PERF_SAMPLE_CALLCHAIN,
		.exclude_kernel = 1, .exclude_hv = 1,
	};
	struct perf_event_mmap_page *meta;
	__u64 spin, head, off;
	int fd, in_guest = 0;
	struct guest g;
	pthread_t t;
	char *data;
	void *ret;

	REQUIRE_UNPRIV();
	ASSERT_EQ(0, GUEST_MAKE(&g, guest_spin_in_frames));
	spin = GUEST_CODE_ADDR + (guest_spin_in_frames_spin - guest_spin_in_frames_start);
	fd = perf_open(&attr);
	if (fd < 0)
		SKIP(return, "perf_event_open: %m");
	meta = mmap(NULL, (1 + PERF_PAGES) * GUEST_PAGE, PROT_READ | PROT_WRITE,
		    MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, meta);
	data = (char *)meta + meta->data_offset;

	ASSERT_EQ(0, pthread_create(&t, NULL, kick_after, &g));
	EXPECT_EQ(-EINTR, guest_run(&g));
	ASSERT_EQ(0, pthread_join(t, &ret));
	ASSERT_EQ(NULL, ret);
	ASSERT_EQ(0, ioctl(fd, PERF_EVENT_IOC_DISABLE, 0));

	head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
	ASSERT_GE(meta->data_size, head) TH_LOG("the buffer wrapped");
	for (off = 0; off < head; off += ((struct perf_event_header *)(data + off))->size) {
		struct sample *s = (struct sample *)(data + off);

		if (s->header.type != PERF_RECORD_SAMPLE || s->ip != spin)
			continue;
		in_guest++;
		EXPECT_EQ(gettid(), s->tid);
		ASSERT_EQ(4, s->nr) TH_LOG("callchain of %llu", s->nr);
		EXPECT_EQ(PERF_CONTEXT_USER, s->ips[0]);
		EXPECT_EQ(spin, s->ips[1]);
		EXPECT_EQ(0x1234567, s->ips[2]);
		EXPECT_EQ(0x7654321, s->ips[3]);
	}
	TH_LOG("%d samples in guest code", in_guest);
	EXPECT_LT(0, in_guest);
	munmap(meta, (1 + PERF_PAGES) * GUEST_PAGE);
	close(fd);
	guest_destroy(&g);
}

/*
 * Kernel and user callchains sampled while the thread goes in and out
 * of guest mode, some in the middle of the switch: nothing breaks.
 */
TEST(perf_callchains_across_mode_switches)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE, .size = sizeof(attr),
		.config = PERF_COUNT_SW_CPU_CLOCK, .sample_period = 100000,
		.sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID |
			       PERF_SAMPLE_CALLCHAIN,
	};
	struct perf_event_mmap_page *meta;
	struct timespec start, now;
	__u64 count = 0;
	struct guest g;
	long exits = 0;
	int fd;

	REQUIRE_UNPRIV();
	ASSERT_EQ(0, GUEST_MAKE(&g, guest_count));
	fd = perf_open(&attr);
	if (fd < 0)
		SKIP(return, "perf_event_open: %m");
	meta = mmap(NULL, (1 + PERF_PAGES) * GUEST_PAGE, PROT_READ | PROT_WRITE,
		    MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, meta);

	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		ASSERT_EQ(0, guest_run(&g));
		ASSERT_EQ(UNPRIV_EXIT_SYSCALL, g.run->exit_reason);
		ASSERT_EQ(++exits, g.run->syscall.args[0]);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while ((now.tv_sec - start.tv_sec) * 1000 +
		 (now.tv_nsec - start.tv_nsec) / 1000000 < 500);
	ASSERT_EQ(sizeof(count), read(fd, &count, sizeof(count)));
	TH_LOG("%ld exits, %llu ns sampled", exits, count);
	EXPECT_LT(0, count);
	EXPECT_LT(0, __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE));
	munmap(meta, (1 + PERF_PAGES) * GUEST_PAGE);
	close(fd);
	guest_destroy(&g);
}

/* ===== uprobes on a file mapped into a guest ===== */

#define TRACEFS		"/sys/kernel/tracing"
#define PROBED_ADDR	0x500000UL

static int tracefs_write(const char *file, const char *s, bool append)
{
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), TRACEFS "/%s", file);
	fd = open(path, O_WRONLY | O_CLOEXEC | (append ? O_APPEND : O_TRUNC));
	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : n < 0 ? -errno : -EIO;
}

/* 100 rounds of a loop whose add is probed, then the count. */
GUEST_CODE(guest_probed_loop,
	"xor %ebx, %ebx\n"
	"mov $100, %ecx\n"
	"1:\n"
	"guest_probed_loop_probe: add $1, %rbx\n"
	"dec %ecx\n"
	"jnz 1b\n"
	"mov %rbx, %rdi\n"
	"mov $1, %eax\n"
	"syscall\n");
extern const char guest_probed_loop_probe[];

/* The probed instruction itself faults. */
GUEST_CODE(guest_probed_fault,
	"mov $0x400000, %rax\n"
	"guest_probed_fault_probe: mov (%rax), %rbx\n"
	"mov %rbx, %rdi\n"
	"mov $1, %eax\n"
	"syscall\n");
extern const char guest_probed_fault_probe[];

/* Counts the probed instruction's runs in rbx, for ever. */
GUEST_CODE(guest_probed_spin,
	"xor %ebx, %ebx\n"
	"1:\n"
	"guest_probed_spin_probe: add $1, %rbx\n"
	"jmp 1b\n");
extern const char guest_probed_spin_probe[];

/*
 * Guest code in a file on /tmp, mapped into the guest privately (as a
 * program's text) at PROBED_ADDR, with a uprobe on one instruction, its
 * hits recorded in a tracing instance of its own.
 */
FIXTURE(uprobe) {
	struct guest g;
	char file[64], group[32], instance[64];
	bool probe, enabled;
	int fd;
};

enum probed { PROBED_LOOP, PROBED_FAULT, PROBED_KICKS };

FIXTURE_VARIANT(uprobe) {
	const char *start, *end, *probe;
	enum probed what;
};

FIXTURE_VARIANT_ADD(uprobe, in_a_loop) {
	.start = guest_probed_loop_start, .end = guest_probed_loop_end,
	.probe = guest_probed_loop_probe, .what = PROBED_LOOP,
};

FIXTURE_VARIANT_ADD(uprobe, on_an_instruction_that_faults) {
	.start = guest_probed_fault_start, .end = guest_probed_fault_end,
	.probe = guest_probed_fault_probe, .what = PROBED_FAULT,
};

FIXTURE_VARIANT_ADD(uprobe, hit_while_kicks_come) {
	.start = guest_probed_spin_start, .end = guest_probed_spin_end,
	.probe = guest_probed_spin_probe, .what = PROBED_KICKS,
};

FIXTURE_SETUP(uprobe)
{
	struct unpriv_as_map map = {
		.addr = PROBED_ADDR, .len = GUEST_PAGE,
		.prot = UNPRIV_PROT_READ | UNPRIV_PROT_EXEC,
		.flags = UNPRIV_MAP_PRIVATE,
	};
	size_t size = variant->end - variant->start;
	char cmd[256];

	self->fd = -1;
	self->file[0] = 0;
	self->probe = false;
	self->enabled = false;
	if (access(TRACEFS "/uprobe_events", W_OK))
		SKIP(_exit(UNPRIV_SKIP_STATUS), "no " TRACEFS "/uprobe_events");
	GUEST_SETUP(&self->g);

	snprintf(self->file, sizeof(self->file), "/tmp/unpriv-uprobe.%d", getpid());
	snprintf(self->group, sizeof(self->group), "unpriv_%d", getpid());
	snprintf(self->instance, sizeof(self->instance), "instances/unpriv-%d",
		 getpid());
	self->fd = open(self->file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ftruncate(self->fd, GUEST_PAGE));
	ASSERT_EQ(size, pwrite(self->fd, variant->start, size, 0));
	map.fd = self->fd;
	ASSERT_EQ(0, ioctl(self->g.as, UNPRIV_AS_MAP, &map));
	self->g.run->regs.rip = PROBED_ADDR;

	snprintf(cmd, sizeof(cmd), "p:%s/guest_probe %s:%#lx\n", self->group,
		 self->file, (long)(variant->probe - variant->start));
	ASSERT_EQ(0, tracefs_write("uprobe_events", cmd, true));
	self->probe = true;
	snprintf(cmd, sizeof(cmd), TRACEFS "/%s", self->instance);
	ASSERT_EQ(0, mkdir(cmd, 0755));
	snprintf(cmd, sizeof(cmd), "%s/events/%s/guest_probe/enable",
		 self->instance, self->group);
	ASSERT_EQ(0, tracefs_write(cmd, "1", false));
	self->enabled = true;
}

FIXTURE_TEARDOWN(uprobe)
{
	char cmd[256];

	guest_destroy(&self->g);
	if (self->enabled) {
		snprintf(cmd, sizeof(cmd), "%s/events/%s/guest_probe/enable",
			 self->instance, self->group);
		tracefs_write(cmd, "0", false);
		snprintf(cmd, sizeof(cmd), TRACEFS "/%s", self->instance);
		rmdir(cmd);
	}
	if (self->probe) {
		snprintf(cmd, sizeof(cmd), "-:%s/guest_probe\n", self->group);
		tracefs_write("uprobe_events", cmd, true);
	}
	if (self->fd >= 0)
		close(self->fd);
	if (self->file[0])
		unlink(self->file);
}

/* How many times the probe fired, as the tracing instance recorded. */
static int probe_hits(const char *instance)
{
	char path[256], line[512];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), TRACEFS "/%s/trace", instance);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (line[0] != '#' && strstr(line, " guest_probe: "))
			n++;
	fclose(f);
	return n;
}

static volatile sig_atomic_t usr1_seen;

static void on_usr1(int sig)
{
	usr1_seen = 1;
}

static volatile bool stop_kicking;

/* Kick every 2 ms until told to stop (kicks of an idle vcpu coalesce). */
static void *kick_often(void *arg)
{
	struct guest *g = arg;

	while (!stop_kicking) {
		sleep_ms(2);
		if (ioctl(g->vcpu, UNPRIV_KICK, 0))
			return (void *)-1L;
	}
	return NULL;
}

/*
 * The guest hits the probe: the kernel runs the handler, steps the
 * probed instruction out of line in an area it adds to the guest's mm,
 * and the guest goes on as if nothing happened.  An exit that comes in
 * the middle of such a step (the stepped instruction faults, a kick
 * comes) is at the probed instruction, never in that area with the trap
 * flag set, and leaves the thread's uprobe state in guest mode: host
 * signals are delivered as ever.
 */
/* Each probe hit is slow under the debug kernel's checkers. */
TEST_F_TIMEOUT(uprobe, guest_code_runs_on_correctly, 90)
{
	struct unpriv_run *run = self->g.run;
	__u64 probed = PROBED_ADDR + (variant->probe - variant->start);
	__u64 end = PROBED_ADDR + (variant->end - variant->start);
	pthread_t t;
	void *ret;
	int exits;

	switch (variant->what) {
	case PROBED_LOOP:
		ASSERT_EQ(0, guest_run(&self->g));
		ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason)
			TH_LOG("exit %u at %#llx", run->exit_reason, run->regs.rip);
		EXPECT_EQ(100, run->syscall.args[0]);
		EXPECT_EQ(end, run->regs.rip);
		EXPECT_EQ(100, probe_hits(self->instance));
		break;

	case PROBED_FAULT:
		ASSERT_EQ(0, guest_run(&self->g));
		ASSERT_EQ(UNPRIV_EXIT_FAULT, run->exit_reason)
			TH_LOG("exit %u at %#llx", run->exit_reason, run->regs.rip);
		EXPECT_EQ(GUEST_UNMAPPED_ADDR, run->fault.address);
		EXPECT_EQ(14, run->fault.trap);
		EXPECT_EQ(probed, run->regs.rip);
		EXPECT_EQ(0, run->regs.rflags & 0x100);	/* TF */
		EXPECT_EQ(1, probe_hits(self->instance));

		/* Host mode is the host's: its signals are delivered. */
		signal(SIGUSR1, on_usr1);
		raise(SIGUSR1);
		EXPECT_EQ(1, usr1_seen);

		/* Given the page, the guest goes on from the probed insn. */
		ASSERT_EQ(0, guest_map(&self->g, GUEST_UNMAPPED_ADDR, GUEST_PAGE,
				       GUEST_DATA_OFF, UNPRIV_PROT_READ));
		ASSERT_EQ(0, guest_run(&self->g));
		ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason)
			TH_LOG("exit %u at %#llx", run->exit_reason, run->regs.rip);
		EXPECT_EQ(2, probe_hits(self->instance));
		break;

	case PROBED_KICKS:
		ASSERT_EQ(0, pthread_create(&t, NULL, kick_often, &self->g));
		for (exits = 0; exits < 60; exits++) {
			ASSERT_EQ(-EINTR, guest_run(&self->g));
			EXPECT_LE(PROBED_ADDR, run->regs.rip)
				TH_LOG("exit %d at %#llx", exits, run->regs.rip);
			EXPECT_GT(end, run->regs.rip)
				TH_LOG("exit %d at %#llx", exits, run->regs.rip);
			EXPECT_EQ(0, run->regs.rflags & 0x100);
			/* The first bad exit is enough (no harness internals). */
			if (run->regs.rip < PROBED_ADDR || run->regs.rip >= end ||
			    run->regs.rflags & 0x100)
				break;
		}
		stop_kicking = true;
		ASSERT_EQ(0, pthread_join(t, &ret));
		EXPECT_EQ(NULL, ret);
		/* Each add ran once; an aborted step hits again. */
		TH_LOG("%llu adds, %d hits", run->regs.rbx, probe_hits(self->instance));
		EXPECT_LE((int)run->regs.rbx, probe_hits(self->instance));
		break;
	}
}

/* ===== the LDT, TLS descriptors and segment selectors ===== */

/* verr: is sel a readable segment here? */
static bool readable_segment(unsigned short sel)
{
	bool ok;

	asm volatile("verr %[sel]\n\tsetz %[ok]" : [ok] "=q"(ok) : [sel] "r"(sel) : "cc");
	return ok;
}

static int set_ldt_entry(unsigned int entry)
{
	struct user_desc d = {
		.entry_number = entry, .base_addr = 0, .limit = 0xfffff,
		.seg_32bit = 1, .limit_in_pages = 1, .useable = 1,
	};

	return syscall(SYS_modify_ldt, 1, &d, sizeof(d));
}

/*
 * Report whether the selector in rdi is readable (verr) in rsi, then
 * load it into ds and report again; then make the modify_ldt call.
 */
GUEST_CODE(guest_try_selector,
	"xor %esi, %esi\n"
	"verr %di\n"
	"setz %sil\n"
	"mov $1, %eax\n"
	"syscall\n"
	"mov %edi, %ds\n"
	"mov $2, %eax\n"
	"syscall\n"
	"mov $154, %eax\n"
	"syscall\n");

/*
 * The LDT belongs to the mm: a guest has none, whatever the host
 * installed, and cannot make one (modify_ldt is a system call, so an
 * exit).  A sibling's change of the host's LDT while a thread is in guest
 * mode reaches that thread when it is back.
 */
TEST(the_hosts_ldt_is_not_the_guests)
{
	struct unpriv_run *run;
	struct guest g;
	struct guest_runner r = { .g = &g };
	pthread_t t;
	int ret;

	REQUIRE_UNPRIV();
	ret = set_ldt_entry(0);
	if (ret && errno == ENOSYS)
		SKIP(return, "no modify_ldt (MODIFY_LDT_SYSCALL)");
	ASSERT_EQ(0, ret);
	ASSERT_TRUE(readable_segment(0x7));
	ASSERT_EQ(0, GUEST_MAKE(&g, guest_try_selector));
	run = g.run;

	run->regs.rdi = 0x7;
	ASSERT_EQ(0, guest_run(&g));
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
	EXPECT_EQ(0, run->regs.rsi) TH_LOG("the host's LDT entry is readable");
	ASSERT_EQ(0, guest_run(&g));
	ASSERT_EQ(UNPRIV_EXIT_TRAP, run->exit_reason);
	EXPECT_EQ(13, run->trap.trap);
	EXPECT_EQ(0x4, run->trap.error_code);
	EXPECT_TRUE(readable_segment(0x7));

	/* modify_ldt from the guest: an exit. */
	run->regs.rdi = 0;
	run->regs.rip = GUEST_CODE_ADDR;
	ASSERT_EQ(0, guest_run(&g));
	ASSERT_EQ(0, guest_run(&g));
	ASSERT_EQ(0, guest_run(&g));
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
	EXPECT_EQ(154, run->syscall.nr);

	/* A sibling adds an entry while this thread is in guest mode. */
	ASSERT_EQ(0, GUEST_LOAD(&g, guest_spin));
	ASSERT_EQ(0, pthread_create(&t, NULL, guest_run_thread, &r));
	sleep_ms(100);
	ASSERT_EQ(0, set_ldt_entry(1));
	ASSERT_EQ(0, ioctl(g.vcpu, UNPRIV_KICK, 0));
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(-EINTR, r.ret);
	EXPECT_TRUE(readable_segment(0xf));

	ASSERT_EQ(0, GUEST_LOAD(&g, guest_try_selector));
	run->regs.rdi = 0xf;
	ASSERT_EQ(0, guest_run(&g));
	EXPECT_EQ(0, run->regs.rsi);
	guest_destroy(&g);
}

/*
 * set_thread_area(), which x86-64 has only in the 32-bit system call
 * table: a 64-bit program (Wine, say) calls it with int $0x80, with its
 * argument below 4 GiB.
 */
static struct user_desc tls_desc;	/* in .data: below 4 GiB */

/*
 * The host thread's TLS descriptors (set_thread_area) are per-thread
 * entries of the GDT: in guest mode they are empty, as the LDT is.
 */
TEST(the_hosts_tls_descriptors_are_not_the_guests)
{
	struct user_desc *d = &tls_desc;
	struct unpriv_run *run;
	unsigned short sel;
	struct guest g;

	REQUIRE_UNPRIV();
	ASSERT_GT(1UL << 32, (unsigned long)d);
	*d = (struct user_desc){
		.entry_number = -1, .base_addr = 0x12345000, .limit = 0xfffff,
		.seg_32bit = 1, .limit_in_pages = 1, .useable = 1,
	};
	ASSERT_EQ(0, set_thread_area32(d));
	sel = d->entry_number << 3 | 3;
	ASSERT_TRUE(readable_segment(sel));
	ASSERT_EQ(0, GUEST_MAKE(&g, guest_try_selector));
	run = g.run;
	run->regs.rdi = sel;
	ASSERT_EQ(0, guest_run(&g));
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
	EXPECT_EQ(0, run->regs.rsi) TH_LOG("the host's TLS entry is readable");
	ASSERT_EQ(0, guest_run(&g));
	ASSERT_EQ(UNPRIV_EXIT_TRAP, run->exit_reason);
	EXPECT_EQ(13, run->trap.trap);
	EXPECT_EQ(sel & ~3, run->trap.error_code);

	/* Back in host mode, the thread has its descriptor again. */
	EXPECT_TRUE(readable_segment(sel));
	*d = (struct user_desc){ .entry_number = d->entry_number,
				 .read_exec_only = 1, .seg_not_present = 1 };
	ASSERT_EQ(0, set_thread_area32(d));
	guest_destroy(&g);
}

/* Load ax into the segment register, then exit with 0; dies on a fault. */
#define LOAD_AND_EXIT(reg)						\
	static void load_##reg##_and_exit(unsigned short sel)		\
	{								\
		asm volatile("mov %0, %%" #reg "\n\t"			\
			     "mov $60, %%eax\n\t"			\
			     "xor %%edi, %%edi\n\t"			\
			     "syscall" : : "r"(sel) : "memory");	\
	}
LOAD_AND_EXIT(ds)
LOAD_AND_EXIT(es)
LOAD_AND_EXIT(fs)
LOAD_AND_EXIT(gs)

GUEST_CODE(guest_load_ds, "mov %edi, %ds\nmov $1, %eax\nsyscall\nmov $2, %eax\nsyscall\n");
GUEST_CODE(guest_load_es, "mov %edi, %es\nmov $1, %eax\nsyscall\nmov $2, %eax\nsyscall\n");
GUEST_CODE(guest_load_fs, "mov %edi, %fs\nmov $1, %eax\nsyscall\nmov $2, %eax\nsyscall\n");
GUEST_CODE(guest_load_gs, "mov %edi, %gs\nmov $1, %eax\nsyscall\nmov $2, %eax\nsyscall\n");

FIXTURE(selector) {
	struct guest g;
};

FIXTURE_VARIANT(selector) {
	const char *start, *end;
	void (*native)(unsigned short sel);
	int reg;	/* 0 ds, 1 es, 2 fs, 3 gs */
};

FIXTURE_VARIANT_ADD(selector, ds) {
	.start = guest_load_ds_start, .end = guest_load_ds_end,
	.native = load_ds_and_exit, .reg = 0,
};

FIXTURE_VARIANT_ADD(selector, es) {
	.start = guest_load_es_start, .end = guest_load_es_end,
	.native = load_es_and_exit, .reg = 1,
};

FIXTURE_VARIANT_ADD(selector, fs) {
	.start = guest_load_fs_start, .end = guest_load_fs_end,
	.native = load_fs_and_exit, .reg = 2,
};

FIXTURE_VARIANT_ADD(selector, gs) {
	.start = guest_load_gs_start, .end = guest_load_gs_end,
	.native = load_gs_and_exit, .reg = 3,
};

FIXTURE_SETUP(selector)
{
	GUEST_SETUP(&self->g);
	ASSERT_EQ(0, guest_load(&self->g, variant->start,
				variant->end - variant->start));
}

FIXTURE_TEARDOWN(selector)
{
	guest_destroy(&self->g);
}

static void exit_1(int sig)
{
	_exit(1);
}

/* Does a plain process load sel into the register? */
static bool loads_natively(void (*native)(unsigned short), unsigned short sel)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		/* A handler: no "general protection fault" line in the log. */
		signal(SIGSEGV, exit_1);
		native(sel);
		_exit(1);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return false;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/*
 * A null selector's RPL does not always survive: an interrupt's IRET back
 * to user mode may load 0 in its place (QEMU's CPU does, as a CPU may for
 * a null selector whose cached DPL is below the CPL), in a plain process
 * as in a guest.  Any null selector is 0 here.
 */
static __u16 null_or(__u16 sel)
{
	return (sel & ~3) ? sel : 0;
}

static __u16 guest_selector(const struct unpriv_regs *r, int reg)
{
	const __u16 sel[] = { r->ds, r->es, r->fs, r->gs };

	return sel[reg];
}

/*
 * A guest loads what a plain process can load, and faults where it
 * faults (null selectors of any RPL, the user code and data segments
 * with any RPL, the CPU-number segment: yes; kernel segments, the TSS,
 * the LDT, empty TLS entries, beyond the GDT: #GP).  What it loaded, the
 * next RUN takes back.
 */
TEST_F(selector, guest_loads_what_a_process_loads_and_runs_on)
{
	static const unsigned short sels[] = {
		0x0, 0x1, 0x2, 0x3, 0x4, 0x7, 0x8, 0xb, 0x10, 0x13, 0x18, 0x1b,
		0x20, 0x23, 0x28, 0x29, 0x2b, 0x30, 0x33, 0x40, 0x43, 0x50,
		0x63, 0x6b, 0x73, 0x78, 0x7b, 0x80, 0x83, 0xfffb,
	};
	struct unpriv_run *run = self->g.run;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sels); i++) {
		bool native = loads_natively(variant->native, sels[i]);

		run->regs.rip = GUEST_CODE_ADDR;
		run->regs.rdi = sels[i];
		run->regs.ds = 0;
		run->regs.es = 0;
		run->regs.fs = 0;
		run->regs.gs = 0;
		ASSERT_EQ(0, guest_run(&self->g));
		if (!native) {
			EXPECT_EQ(UNPRIV_EXIT_TRAP, run->exit_reason)
				TH_LOG("selector %#x loaded in guest mode", sels[i]);
			EXPECT_EQ(13, run->trap.trap);
			continue;
		}
		ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason)
			TH_LOG("selector %#x: exit %u", sels[i], run->exit_reason);
		EXPECT_EQ(null_or(sels[i]),
			  null_or(guest_selector(&run->regs, variant->reg)));
		EXPECT_EQ(0, guest_run(&self->g))
			TH_LOG("selector %#x the guest loaded is refused", sels[i]);
		EXPECT_EQ(2, run->syscall.nr);
		EXPECT_EQ(null_or(sels[i]),
			  null_or(guest_selector(&run->regs, variant->reg)));
	}
}

/* ===== the OOM killer and guest memory ===== */

#define MIB		(1024UL * 1024)
#define OOM_LIMIT_MIB	32
#define OOM_FILL_MIB	64
#define BYSTANDER_MIB	4

/*
 * A memory cgroup of OOM_LIMIT_MIB without swap, for an OOM test's
 * processes; skips where the module or the controller is absent.
 */
static void oom_cgroup_setup(struct __test_metadata *_metadata, char *cg,
			     size_t size, const char *name)
{
	char max[32];
	int ret;

	cg[0] = 0;
	if (access(UNPRIV_DEV, F_OK))
		SKIP(_exit(UNPRIV_SKIP_STATUS), UNPRIV_ABSENT_MSG, UNPRIV_DEV);
	ret = cg_setup();
	if (ret)
		SKIP(_exit(UNPRIV_SKIP_STATUS), "no memory cgroup controller: %s", strerror(-ret));
	ASSERT_EQ(0, cg_create(cg, size, name));
	snprintf(max, sizeof(max), "%lu", OOM_LIMIT_MIB * MIB);
	ASSERT_EQ(0, cg_write(cg, "memory.max", max));
	cg_write(cg, "memory.swap.max", "0");
}

/*
 * A memory cgroup limited to 32 MiB holds a bystander process with
 * 4 MiB of its own and a process whose guest fills 64 MiB of guest
 * memory.  The OOM killer must pick the one whose guest memory it is,
 * and the memory must come back.  The OOM killer weighs a process by the
 * mm of its first thread that has one: the guest's while that thread
 * (the main thread) is in guest mode, its own otherwise; a process whose
 * guest runs on another thread is seen by its own memory only, and
 * raises its oom_score_adj to be seen (Documentation/unpriv-api.rst,
 * "Caveats").
 */
FIXTURE(oom) {
	char cg[128];
};

FIXTURE_VARIANT(oom) {
	bool second_thread;	/* and oom_score_adj 1000 */
};

FIXTURE_VARIANT_ADD(oom, guest_on_the_main_thread) {
};

FIXTURE_VARIANT_ADD(oom, guest_on_a_second_thread_with_oom_score_adj_raised) {
	.second_thread = true,
};

FIXTURE_SETUP(oom)
{
	oom_cgroup_setup(_metadata, self->cg, sizeof(self->cg), "unpriv-oom");
}

FIXTURE_TEARDOWN(oom)
{
	if (self->cg[0])
		cg_remove(self->cg);
}

static void bystander(int go, int ready)
{
	volatile char *mem = malloc(BYSTANDER_MIB * MIB);
	unsigned long i;
	char c;

	if (!mem || read(go, &c, 1) != 1)
		_exit(1);
	for (i = 0; i < BYSTANDER_MIB * MIB; i += GUEST_PAGE)
		mem[i] = 1;
	if (write(ready, "b", 1) != 1)
		_exit(2);
	for (;;)
		pause();
}

static void filler(int go, bool second_thread)
{
	static struct guest g;
	static struct guest_runner r = { .g = &g };
	struct unpriv_as_map map = {
		.addr = 0x10000000, .len = OOM_FILL_MIB * MIB,
		.prot = UNPRIV_PROT_READ | UNPRIV_PROT_WRITE,
		.flags = UNPRIV_MAP_PRIVATE,
	};
	pthread_t t;
	char c;
	int fd;

	if (GUEST_MAKE(&g, guest_touch))
		_exit(1);
	map.fd = memfd_create("fill", MFD_CLOEXEC);
	if (map.fd < 0 || ftruncate(map.fd, OOM_FILL_MIB * MIB) ||
	    ioctl(g.as, UNPRIV_AS_MAP, &map))
		_exit(2);
	g.run->regs.rdi = map.addr;
	g.run->regs.rsi = OOM_FILL_MIB * MIB / GUEST_PAGE;
	if (read(go, &c, 1) != 1)
		_exit(3);
	if (!second_thread) {
		guest_run(&g);
		_exit(4);	/* the guest filled it all: no limit? */
	}
	fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "1000", 4) != 4)
		_exit(5);
	if (pthread_create(&t, NULL, guest_run_thread, &r))
		_exit(6);
	pthread_join(t, NULL);
	_exit(4);
}

TEST_F(oom, the_killer_picks_the_process_whose_guest_fills_memory)
{
	int go[2], ready[2], status, i;
	long long current = -1;
	pid_t b, f;
	char c;

	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(ready, O_CLOEXEC));
	b = fork();
	ASSERT_LE(0, b);
	if (b == 0)
		bystander(go[0], ready[1]);
	ASSERT_EQ(0, cg_enter(self->cg, b));
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(1, read(ready[0], &c, 1));
	EXPECT_LE((long long)(BYSTANDER_MIB * MIB),
		  cg_read(self->cg, "memory.current", NULL));

	f = fork();
	ASSERT_LE(0, f);
	if (f == 0)
		filler(go[0], variant->second_thread);
	ASSERT_EQ(0, cg_enter(self->cg, f));
	ASSERT_EQ(1, write(go[1], "g", 1));

	ASSERT_EQ(f, waitpid(f, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status)) TH_LOG("filler: status %#x", status);
	EXPECT_EQ(SIGKILL, WTERMSIG(status));
	EXPECT_EQ(0, waitpid(b, &status, WNOHANG)) TH_LOG("the bystander died");
	EXPECT_EQ(1, cg_read(self->cg, "memory.events", "oom_kill"));

	/* The guest memory is freed with the process; the bystander's stays. */
	for (i = 0; i < 50; i++) {
		current = cg_read(self->cg, "memory.current", NULL);
		if (current < (long long)((BYSTANDER_MIB + 8) * MIB))
			break;
		sleep_ms(100);
	}
	TH_LOG("memory.current %lld KiB after the kill", current / 1024);
	EXPECT_GT((long long)((BYSTANDER_MIB + 8) * MIB), current);
	EXPECT_LE((long long)(BYSTANDER_MIB * MIB), current);

	kill(b, SIGKILL);
	ASSERT_EQ(b, waitpid(b, &status, 0));
}

/*
 * The OOM killer kills, with its victim, every other process whose first
 * thread with an mm has the victim's mm ("sharing the same mm"): while
 * a process's main thread runs a space, that is the space's mm.  So when
 * the victim's main thread is in guest mode in a space, another process
 * whose main thread runs the same space at that moment is killed too,
 * wherever its memory cgroup; one that runs it on another thread is
 * not.  The sharer here is outside the limited cgroup.
 */
FIXTURE(oom_sharer) {
	char cg[128];
};

FIXTURE_VARIANT(oom_sharer) {
	bool second_thread;	/* the sharer runs the space there */
};

FIXTURE_VARIANT_ADD(oom_sharer, sharer_runs_the_space_on_its_main_thread) {
};

FIXTURE_VARIANT_ADD(oom_sharer, sharer_runs_the_space_on_a_second_thread) {
	.second_thread = true,
};

FIXTURE_SETUP(oom_sharer)
{
	oom_cgroup_setup(_metadata, self->cg, sizeof(self->cg),
			 "unpriv-oom-sharer");
}

FIXTURE_TEARDOWN(oom_sharer)
{
	if (self->cg[0])
		cg_remove(self->cg);
}

#define SPIN_OFF	0x800	/* guest_spin's copy in the code page */

/*
 * The sharer: a child of the filler, holding its space by inheritance,
 * runs a vcpu of its own in it, spinning, on its main thread or on a
 * second one; it tells the test its pid first.
 */
static void oom_sharer(struct guest *g, int ready, bool second_thread)
{
	static struct guest s;
	static struct guest_runner r = { .g = &s };
	pid_t me = getpid();
	pthread_t t;

	s = *g;
	s.vcpu = ioctl(g->dev, UNPRIV_CREATE_VCPU, 0);
	if (s.vcpu < 0)
		_exit(10);
	s.run = mmap(NULL, UNPRIV_RUN_SIZE, PROT_READ | PROT_WRITE,
		     MAP_SHARED, s.vcpu, 0);
	if (s.run == MAP_FAILED)
		_exit(11);
	s.run->regs.rip = GUEST_CODE_ADDR + SPIN_OFF;
	s.run->regs.rsp = GUEST_STACK_TOP;
	s.run->regs.cs = UNPRIV_CS_64;
	s.run->regs.ss = UNPRIV_DS;
	if (write(ready, &me, sizeof(me)) != sizeof(me))
		_exit(12);
	if (!second_thread) {
		guest_run(&s);
		_exit(13);
	}
	if (pthread_create(&t, NULL, guest_run_thread, &r))
		_exit(14);
	pthread_join(t, NULL);
	_exit(13);
}

static void oom_filler_with_sharer(int go, int ready, bool second_thread)
{
	static struct guest g;
	struct unpriv_as_map map = {
		.addr = 0x10000000, .len = OOM_FILL_MIB * MIB,
		.prot = UNPRIV_PROT_READ | UNPRIV_PROT_WRITE,
		.flags = UNPRIV_MAP_PRIVATE,
	};
	pid_t pid;
	char c;

	if (GUEST_MAKE(&g, guest_touch) ||
	    pwrite(g.mem, guest_spin_start, GUEST_CODE_SIZE(guest_spin),
		   GUEST_CODE_OFF + SPIN_OFF) != (ssize_t)GUEST_CODE_SIZE(guest_spin))
		_exit(1);
	map.fd = memfd_create("fill", MFD_CLOEXEC);
	if (map.fd < 0 || ftruncate(map.fd, OOM_FILL_MIB * MIB) ||
	    ioctl(g.as, UNPRIV_AS_MAP, &map))
		_exit(2);
	g.run->regs.rdi = map.addr;
	g.run->regs.rsi = OOM_FILL_MIB * MIB / GUEST_PAGE;
	pid = fork();
	if (pid < 0)
		_exit(3);
	if (pid == 0)
		oom_sharer(&g, ready, second_thread);
	if (read(go, &c, 1) != 1)
		_exit(3);
	guest_run(&g);
	_exit(4);	/* the guest filled it all: no limit? */
}

TEST_F(oom_sharer, the_killer_kills_a_process_whose_main_thread_runs_the_space)
{
	int go[2], ready[2], status;
	pid_t f, s;

	/* The sharer, orphaned when the filler dies, becomes ours. */
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0));
	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(ready, O_CLOEXEC));
	f = fork();
	ASSERT_LE(0, f);
	if (f == 0)
		oom_filler_with_sharer(go[0], ready[1], variant->second_thread);
	ASSERT_EQ(sizeof(s), read(ready[0], &s, sizeof(s)));
	sleep_ms(300);	/* the sharer is in guest mode */

	/* Only the filler is in the limited group. */
	ASSERT_EQ(0, cg_enter(self->cg, f));
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(f, waitpid(f, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status)) TH_LOG("filler: status %#x", status);
	EXPECT_EQ(SIGKILL, WTERMSIG(status));
	EXPECT_EQ(1, cg_read(self->cg, "memory.events", "oom_kill"));

	if (!variant->second_thread) {
		ASSERT_EQ(s, waitpid(s, &status, 0));
		ASSERT_TRUE(WIFSIGNALED(status)) TH_LOG("sharer: status %#x", status);
		EXPECT_EQ(SIGKILL, WTERMSIG(status));
		return;
	}
	sleep_ms(500);
	EXPECT_EQ(0, waitpid(s, &status, WNOHANG))
		TH_LOG("the sharer died: status %#x", status);
	kill(s, SIGKILL);
	ASSERT_EQ(s, waitpid(s, &status, 0));
}

/* ===== memory failure: a poisoned page mapped into a guest ===== */

#ifndef MADV_HWPOISON
#define MADV_HWPOISON	100
#endif
#ifndef BUS_MCEERR_AR
#define BUS_MCEERR_AR	4
#define BUS_MCEERR_AO	5
#endif

/* Read the byte at rdi into rsi, exit 1; then again, exit 2. */
GUEST_CODE(guest_read_twice,
	"movzbl (%rdi), %esi\n"
	"mov $1, %eax\n"
	"syscall\n"
	"guest_read_twice_again: movzbl (%rdi), %esi\n"
	"mov $2, %eax\n"
	"syscall\n");
extern const char guest_read_twice_again[];

/* Read the byte at rdi, then spin. */
GUEST_CODE(guest_read_and_spin,
	"movzbl (%rdi), %esi\n"
	"1: jmp 1b\n");

static volatile sig_atomic_t sigbus_seen, sigbus_code;
static void *volatile sigbus_addr;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	sigbus_seen++;
	sigbus_code = si->si_code;
	sigbus_addr = si->si_addr;
}

/*
 * Whether MADV_HWPOISON injects as an access of the injecting thread's
 * own mapping (MF_ACTION_REQUIRED, 6.12's madvise_inject_error()), which
 * then gets SIGBUS with BUS_MCEERR_AR in any kill mode; 6.1's injects as
 * a background error, which signals it (BUS_MCEERR_AO) under early kill.
 */
static bool hwpoison_is_an_access(void)
{
	return kernel_at_least(6, 12);
}

/*
 * The guest's first data page, also mapped (shared) into the host: the
 * host poisons it through its own mapping with MADV_HWPOISON, which
 * needs CAP_SYS_ADMIN and CONFIG_MEMORY_FAILURE; 0 or why not.
 */
static const char *hwpoison(struct guest *g, char **host)
{
	char *h = mmap(NULL, GUEST_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
		       g->mem, GUEST_DATA_OFF);

	*host = h;
	if (h == MAP_FAILED)
		return "mmap";
	h[0] = 0x5a;
	if (madvise(h, GUEST_PAGE, MADV_HWPOISON) == 0)
		return NULL;
	if (errno == EINVAL)
		return "no CONFIG_MEMORY_FAILURE";
	if (errno == EPERM)
		return "MADV_HWPOISON needs CAP_SYS_ADMIN";
	return strerror(errno);
}

static void catch_sigbus(void)
{
	struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO };

	sigbus_seen = 0;
	sigbus_code = 0;
	sigbus_addr = NULL;
	sigaction(SIGBUS, &sa, NULL);
}

/*
 * Late kill (the default: vm.memory_failure_early_kill 0, no
 * PR_MCE_KILL): poisoning a page unmaps it from every mm that maps it,
 * the address space's included, and signals no one but, where the
 * injection counts as an access, the injector for its own mapping.  The
 * guest's next access is a FAULT exit with SIGBUS, BUS_MCEERR_AR, at the
 * guest address, as a program's would be a SIGBUS; the host is never
 * signalled for the guest's access, and goes on.
 */
TEST(a_guest_touching_a_poisoned_page_gets_a_sigbus_fault_exit)
{
	struct unpriv_run *run;
	const char *why;
	struct guest g;
	char *host;

	REQUIRE_UNPRIV();
	ASSERT_EQ(0, prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_LATE, 0, 0));
	ASSERT_EQ(0, GUEST_MAKE(&g, guest_read_twice));
	run = g.run;
	run->regs.rdi = GUEST_DATA_ADDR;
	catch_sigbus();
	ASSERT_EQ(1, pwrite(g.mem, "\x5a", 1, GUEST_DATA_OFF));
	ASSERT_EQ(0, guest_run(&g));
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
	EXPECT_EQ(0x5a, run->regs.rsi);

	why = hwpoison(&g, &host);
	if (why)
		SKIP(return, "MADV_HWPOISON: %s", why);
	ASSERT_EQ(0, guest_run(&g));
	ASSERT_EQ(UNPRIV_EXIT_FAULT, run->exit_reason)
		TH_LOG("exit %u", run->exit_reason);
	EXPECT_EQ(SIGBUS, run->fault.signo);
	EXPECT_EQ(BUS_MCEERR_AR, run->fault.si_code);
	EXPECT_EQ(GUEST_DATA_ADDR, run->fault.address);
	EXPECT_EQ(14, run->fault.trap);
	EXPECT_EQ(GUEST_CODE_ADDR + (guest_read_twice_again - guest_read_twice_start),
		  run->regs.rip);
	/* The injection's own signal, if any, is for the host's mapping. */
	EXPECT_EQ(hwpoison_is_an_access(), sigbus_seen)
		TH_LOG("the host got SIGBUS %d at %p", sigbus_code, sigbus_addr);
	if (sigbus_seen) {
		EXPECT_EQ(BUS_MCEERR_AR, sigbus_code);
		EXPECT_EQ(host, sigbus_addr);
	}
	/* The guest goes on elsewhere, the host lives. */
	munmap(host, GUEST_PAGE);
	guest_destroy(&g);
}

struct poisoner {
	struct guest *g;
	const char *why;
	char *host;
};

static void *poison_after(void *arg)
{
	struct poisoner *p = arg;

	sleep_ms(200);
	p->why = hwpoison(p->g, &p->host);
	if (p->why)
		ioctl(p->g->vcpu, UNPRIV_KICK, 0);
	return NULL;
}

/*
 * Early kill (PR_MCE_KILL_EARLY): the kernel looks, process by process,
 * at the mm of the process's first thread that asked for early kill
 * (here, all do: the main thread is first) and sends that thread
 * SIGBUS, BUS_MCEERR_AO, with the page's address in that mm.  With the
 * main thread in guest mode, that is the address space: the notice is
 * for the guest address, and it is the only one: the host's own mapping
 * of the same page is not reported.  The run ends with it, whether as
 * an exit that carries it or as EINTR with the notice delivered to the
 * host's handler.
 */
TEST(an_early_kill_notice_for_a_guest_page_ends_the_run)
{
	struct poisoner p = { 0 };
	struct unpriv_run *run;
	struct guest g;
	pthread_t t;
	int ret;

	REQUIRE_UNPRIV();
	ASSERT_EQ(0, prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_EARLY, 0, 0));
	ASSERT_EQ(0, GUEST_MAKE(&g, guest_read_and_spin));
	run = g.run;
	run->regs.rdi = GUEST_DATA_ADDR;
	catch_sigbus();
	p.g = &g;
	ASSERT_EQ(0, pthread_create(&t, NULL, poison_after, &p));
	ret = guest_run(&g);
	ASSERT_EQ(0, pthread_join(t, NULL));
	if (p.why)
		SKIP(return, "MADV_HWPOISON: %s", p.why);
	if (ret == -EINTR) {
		TH_LOG("EINTR, the host's handler got SIGBUS %d at %p",
		       sigbus_code, sigbus_addr);
		EXPECT_EQ(1, sigbus_seen);
		EXPECT_EQ(BUS_MCEERR_AO, sigbus_code);
		EXPECT_EQ((void *)GUEST_DATA_ADDR, sigbus_addr);
	} else {
		ASSERT_EQ(0, ret);
		ASSERT_EQ(UNPRIV_EXIT_TRAP, run->exit_reason)
			TH_LOG("exit %u", run->exit_reason);
		TH_LOG("a TRAP exit: vector %#x, signal %u, si_code %d, address %#llx",
		       run->trap.trap, run->trap.signo, run->trap.si_code,
		       (unsigned long long)run->trap.address);
		EXPECT_EQ(SIGBUS, run->trap.signo);
		EXPECT_EQ(BUS_MCEERR_AO, run->trap.si_code);
		EXPECT_EQ(GUEST_DATA_ADDR, run->trap.address);
		EXPECT_EQ(0, sigbus_seen);
	}
	munmap(p.host, GUEST_PAGE);
	guest_destroy(&g);
}

/*
 * With the guest on a second thread and the main thread in host mode,
 * the early notice is the host's, for its own mapping of the page: the
 * guest mapping is not reported to anyone, and the guest learns of the
 * poison when it touches the page (BUS_MCEERR_AR, as above).
 */
TEST(an_early_kill_notice_goes_to_the_host_when_the_guest_runs_on_a_second_thread)
{
	struct guest g;
	struct guest_runner r = { .g = &g };
	const char *why;
	pthread_t t;
	char *host;
	int i;

	REQUIRE_UNPRIV();
	ASSERT_EQ(0, prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_EARLY, 0, 0));
	ASSERT_EQ(0, GUEST_MAKE(&g, guest_read_and_spin));
	g.run->regs.rdi = GUEST_DATA_ADDR;
	catch_sigbus();
	ASSERT_EQ(0, pthread_create(&t, NULL, guest_run_thread, &r));
	sleep_ms(200);
	why = hwpoison(&g, &host);
	for (i = 0; !why && i < 50 && !sigbus_seen; i++)
		sleep_ms(20);
	ASSERT_EQ(0, ioctl(g.vcpu, UNPRIV_KICK, 0));
	ASSERT_EQ(0, pthread_join(t, NULL));
	if (why)
		SKIP(return, "MADV_HWPOISON: %s", why);
	EXPECT_EQ(-EINTR, r.ret) TH_LOG("exit %u", g.run->exit_reason);
	EXPECT_EQ(1, sigbus_seen);
	EXPECT_EQ(hwpoison_is_an_access() ? BUS_MCEERR_AR : BUS_MCEERR_AO,
		  sigbus_code);
	EXPECT_EQ(host, sigbus_addr);
	munmap(host, GUEST_PAGE);
	guest_destroy(&g);
}

/* ===== current_is_single_threaded() and a CLONE_VM sharer ===== */

/* Set the data page's first word to 1, then spin. */
GUEST_CODE(guest_flag_and_spin,
	"movq $1, (%rdi)\n"
	"1: jmp 1b\n");

struct clone_vm_sharer {
	struct guest *g;
	int go;
	int ret, done;	/* written by the child, read with __atomic */
};

static int clone_vm_sharer(void *arg)
{
	struct clone_vm_sharer *s = arg;
	char c;

	if (read(s->go, &c, 1) != 1)
		return 1;
	__atomic_store_n(&s->ret, guest_run(s->g), __ATOMIC_RELAXED);
	__atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
	return 0;
}

/*
 * current_is_single_threaded() (unshare(CLONE_VM), setns() into a time
 * namespace, SELinux's setcon) looks for another process sharing the
 * caller's mm at each process's first thread that has an mm.  A process
 * made with clone(CLONE_VM) without CLONE_THREAD shares its parent's mm;
 * while its main thread is in guest mode, that thread's mm is a space's,
 * and the parent would be told it is alone in an mm the child goes back
 * to.  unshare(CLONE_VM) must still fail with EINVAL then, as it does
 * while the child is in host mode; or RUN must refuse the child.
 */
TEST(a_clone_vm_sharer_in_guest_mode_still_shares_the_mm)
{
	struct clone_vm_sharer s = { 0 };
	int go[2], status, i;
	struct guest g;
	char *stack;
	pid_t pid;

	REQUIRE_UNPRIV();
	ASSERT_EQ(0, GUEST_MAKE(&g, guest_flag_and_spin));
	g.run->regs.rdi = GUEST_DATA_ADDR;
	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
	stack = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, stack);
	s.g = &g;
	s.go = go[0];
	pid = clone(clone_vm_sharer, stack + (1 << 16), CLONE_VM | SIGCHLD, &s);
	ASSERT_LE(0, pid);

	/* The child in host mode: the mm is shared. */
	EXPECT_EQ(-1, unshare(CLONE_VM));
	EXPECT_EQ(EINVAL, errno);

	ASSERT_EQ(1, write(go[1], "g", 1));
	for (i = 0; i < 250 && !__atomic_load_n(&s.done, __ATOMIC_ACQUIRE); i++) {
		if (guest_mem_read64(&g, GUEST_DATA_OFF) == 1)
			break;
		sleep_ms(20);
	}
	if (__atomic_load_n(&s.done, __ATOMIC_ACQUIRE)) {
		TH_LOG("RUN refused in a process sharing its mm: %d", s.ret);
		EXPECT_NE(0, s.ret);
	} else {
		ASSERT_EQ(1, guest_mem_read64(&g, GUEST_DATA_OFF));
		errno = 0;
		EXPECT_EQ(-1, unshare(CLONE_VM))
			TH_LOG("current_is_single_threaded() missed the child in guest mode");
		EXPECT_EQ(EINVAL, errno);
	}
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	munmap(stack, 1 << 16);
	guest_destroy(&g);
}

/* ===== indirect branch speculation control (Spectre v2, user) ===== */

/* prctl(PR_SET_SPECULATION_CTRL, PR_SPEC_INDIRECT_BRANCH, PR_SPEC_ENABLE) */
GUEST_CODE(guest_spec_enable,
	"mov $53, %edi\n"
	"mov $1, %esi\n"
	"mov $2, %edx\n"
	"mov $157, %eax\n"
	"syscall\n"
	"1: jmp 1b\n");

static int ib_state(void)
{
	return prctl(PR_GET_SPECULATION_CTRL, PR_SPEC_INDIRECT_BRANCH, 0, 0, 0);
}

/*
 * The kernel's user-to-user Spectre v2 barrier (IBPB) is chosen per mm
 * switch by the task's TIF_SPEC_IB (PR_SPEC_DISABLE, or seccomp where
 * spectre_v2_user=seccomp) or always (spectre_v2_user=on); the module
 * switches mm with switch_mm_irqs_off() after setting current->mm, so
 * the same policy applies to each switch between host and guest mode.
 * What a thread asked for stays asked for: RUN, every kind of exit and
 * the guest's own prctl (an exit) leave it as it was.
 */
TEST(the_threads_indirect_branch_speculation_control_survives_guest_mode)
{
	const int disabled = PR_SPEC_PRCTL | PR_SPEC_DISABLE;
	struct guest g;
	pthread_t t;
	int state, i;
	void *ret;

	REQUIRE_UNPRIV();
	state = ib_state();
	if (state < 0 || !(state & PR_SPEC_PRCTL))
		SKIP(return,
		     "no per-task indirect branch speculation control (%#x): no IBPB or STIBP, or spectre_v2_user=on/off",
		     state);
	ASSERT_EQ(0, prctl(PR_SET_SPECULATION_CTRL, PR_SPEC_INDIRECT_BRANCH,
			   PR_SPEC_DISABLE, 0, 0));
	ASSERT_EQ(disabled, ib_state());

	ASSERT_EQ(0, GUEST_MAKE(&g, guest_count));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, guest_run(&g));
		ASSERT_EQ(UNPRIV_EXIT_SYSCALL, g.run->exit_reason);
		EXPECT_EQ(disabled, ib_state());
	}
	/* The guest asks for it back: that is an exit, not the host's prctl. */
	ASSERT_EQ(0, GUEST_LOAD(&g, guest_spec_enable));
	ASSERT_EQ(0, guest_run(&g));
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, g.run->exit_reason);
	EXPECT_EQ(157, g.run->syscall.nr);
	EXPECT_EQ(disabled, ib_state());
	/* A kick while it spins. */
	ASSERT_EQ(0, pthread_create(&t, NULL, kick_after, &g));
	EXPECT_EQ(-EINTR, guest_run(&g));
	ASSERT_EQ(0, pthread_join(t, &ret));
	EXPECT_EQ(disabled, ib_state());
	guest_destroy(&g);
}

TEST_HARNESS_MAIN
