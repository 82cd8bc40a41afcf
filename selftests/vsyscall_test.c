// SPDX-License-Identifier: GPL-2.0
/*
 * The legacy vsyscall page at 0xffffffffff600000 is no way out of guest
 * mode.  Debian's kernel has none (LEGACY_VSYSCALL_NONE); booted with
 * vsyscall=xonly or vsyscall=emulate, the page fault handler would run
 * gettimeofday(), time() or getcpu() for a call into it, with no system
 * call entry.  In guest mode such a call is a fault exit in every mode,
 * with the return address pushed, so that a guest kernel can emulate it
 * if it wants to.  With vsyscall=emulate the page is readable, in an
 * empty address space as in any: it holds the same code for everyone.
 *
 * make check runs this program on kernels booted in each of the three
 * modes; the mode is found by trying the page from a plain process.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "unpriv_util.h"

#define VSYSCALL_PAGE	0xffffffffff600000ULL

enum vsyscall_mode { MODE_NONE, MODE_XONLY, MODE_EMULATE };
static const char *const mode_names[] = { "none", "xonly", "emulate" };

static void exit_1(int sig)
{
	_exit(1);
}

/* Does fn survive in a plain process? */
static bool survives(void (*fn)(void))
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		signal(SIGSEGV, exit_1);	/* and no log line */
		fn();
		_exit(0);
	}
	return pid > 0 && waitpid(pid, &status, 0) == pid && status == 0;
}

static void call_time(void)
{
	long (*vtime)(long *tloc) = (void *)(VSYSCALL_PAGE + 0x400);

	vtime(NULL);
}

static void read_page(void)
{
	*(volatile uint64_t *)VSYSCALL_PAGE;
}

static enum vsyscall_mode vsyscall_mode(void)
{
	if (!survives(call_time))
		return MODE_NONE;
	return survives(read_page) ? MODE_EMULATE : MODE_XONLY;
}

GUEST_CODE(guest_call_rax, "call *%rax\n");
GUEST_CODE(guest_read_rax, "mov (%rax), %rdi\nmov $1, %eax\nsyscall\n");

FIXTURE(vsys) {
	struct guest g;
	enum vsyscall_mode mode;
};

FIXTURE_VARIANT(vsys) {
	__u64 offset;		/* gettimeofday 0, time 0x400, getcpu 0x800 */
};

FIXTURE_VARIANT_ADD(vsys, gettimeofday) {
	.offset = 0x000,
};

FIXTURE_VARIANT_ADD(vsys, time) {
	.offset = 0x400,
};

FIXTURE_VARIANT_ADD(vsys, getcpu) {
	.offset = 0x800,
};

FIXTURE_SETUP(vsys)
{
	GUEST_SETUP(&self->g);
	self->mode = vsyscall_mode();
	TH_LOG("the kernel's vsyscall mode: %s", mode_names[self->mode]);
}

FIXTURE_TEARDOWN(vsys)
{
	guest_destroy(&self->g);
}

/* A call into the page: a fault exit there, nothing written. */
TEST_F(vsys, guest_call_is_a_fault_exit)
{
	struct unpriv_run *run = self->g.run;
	__u64 target = VSYSCALL_PAGE + variant->offset;
	unsigned char buf[64], seen[64];
	__u64 ret;

	memset(buf, 0xa5, sizeof(buf));
	ASSERT_EQ(sizeof(buf), pwrite(self->g.mem, buf, sizeof(buf), GUEST_DATA_OFF));
	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_call_rax));
	run->regs.rax = target;
	run->regs.rdi = GUEST_DATA_ADDR;		/* tv, tloc, cpu */
	run->regs.rsi = GUEST_DATA_ADDR + 32;		/* tz, node */

	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_FAULT, run->exit_reason)
		TH_LOG("exit %u at %#llx", run->exit_reason, run->regs.rip);
	EXPECT_EQ(target, run->fault.address);
	EXPECT_EQ(target, run->regs.rip);
	EXPECT_EQ(SIGSEGV, run->fault.signo);
	EXPECT_TRUE(run->fault.error_code & 0x10);	/* instruction fetch */

	/* The return address is pushed, as for any call. */
	EXPECT_EQ(GUEST_STACK_TOP - 8, run->regs.rsp);
	ret = guest_mem_read64(&self->g, GUEST_STACK_OFF + GUEST_PAGE - 8);
	EXPECT_EQ(GUEST_CODE_ADDR + GUEST_CODE_SIZE(guest_call_rax), ret);

	/* The kernel ran nothing for it: the buffers are as they were. */
	ASSERT_EQ(sizeof(seen), pread(self->g.mem, seen, sizeof(seen), GUEST_DATA_OFF));
	EXPECT_EQ(0, memcmp(buf, seen, sizeof(buf)));
}

/* Reading it: as for any process, only where the mode allows. */
TEST_F(vsys, guest_read_is_what_the_mode_allows)
{
	struct unpriv_run *run = self->g.run;
	__u64 addr = VSYSCALL_PAGE + variant->offset;

	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_read_rax));
	run->regs.rax = addr;
	ASSERT_EQ(0, guest_run(&self->g));
	if (self->mode != MODE_EMULATE) {
		ASSERT_EQ(UNPRIV_EXIT_FAULT, run->exit_reason);
		EXPECT_EQ(addr, run->fault.address);
		return;
	}
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
	EXPECT_EQ(*(volatile uint64_t *)addr, run->syscall.args[0]);
}

/*
 * The host's own call into the page right after an exit, when the
 * thread is parked on the vcpu but in host mode: the kernel emulates it
 * as for any process, where the mode has it.
 */
TEST_F(vsys, host_call_right_after_an_exit_is_the_hosts)
{
	long (*vtime)(long *tloc) = (void *)(VSYSCALL_PAGE + 0x400);
	long t;

	if (self->mode == MODE_NONE)
		SKIP(return, "no vsyscall page to call");
	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_read_rax));
	self->g.run->regs.rax = GUEST_DATA_ADDR;
	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, self->g.run->exit_reason);
	t = vtime(NULL);
	EXPECT_LE(labs(t - time(NULL)), 2);
}

TEST_HARNESS_MAIN
