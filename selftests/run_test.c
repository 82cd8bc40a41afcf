// SPDX-License-Identifier: GPL-2.0
/*
 * UNPRIV_RUN: each exit kind, with exact registers and details.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "unpriv_util.h"

FIXTURE(run) {
	struct guest g;
};

FIXTURE_SETUP(run)
{
	int ret = guest_create(&self->g);

	if (ret == -ENOENT)
		SKIP(return, "%s not present", UNPRIV_DEV);
	ASSERT_EQ(0, ret) TH_LOG("guest_create: %s", strerror(-ret));
}

FIXTURE_TEARDOWN(run)
{
	guest_destroy(&self->g);
}

/* A system call with six arguments, then another with the first's result. */
GUEST_CODE(guest_syscall6,
	"mov $0x1111, %rdi\n"
	"mov $0x2222, %rsi\n"
	"mov $0x3333, %rdx\n"
	"mov $0x4444, %r10\n"
	"mov $0x5555, %r8\n"
	"mov $0x6666, %r9\n"
	"mov $0xabcdef, %r12\n"
	"mov $39, %eax\n"
	"syscall\n"
	"guest_syscall6_after:\n"
	"mov %rax, %rdi\n"
	"mov $60, %eax\n"
	"syscall\n");

extern const char guest_syscall6_after[];

TEST_F(run, syscall_exit_has_number_arguments_and_registers)
{
	struct unpriv_run *run = self->g.run;

	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_syscall6));
	ASSERT_EQ(0, guest_run(&self->g));

	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
	EXPECT_EQ(39, run->syscall.nr);
	EXPECT_EQ(0x1111, run->syscall.args[0]);
	EXPECT_EQ(0x2222, run->syscall.args[1]);
	EXPECT_EQ(0x3333, run->syscall.args[2]);
	EXPECT_EQ(0x4444, run->syscall.args[3]);
	EXPECT_EQ(0x5555, run->syscall.args[4]);
	EXPECT_EQ(0x6666, run->syscall.args[5]);
	EXPECT_EQ(UNPRIV_SYSCALL_INSN_SYSCALL, run->syscall.insn);
	EXPECT_EQ(0, run->syscall.compat);
	EXPECT_EQ(39, run->regs.rax);
	EXPECT_EQ(0xabcdef, run->regs.r12);
	EXPECT_EQ(GUEST_STACK_TOP, run->regs.rsp);
	/* syscall: rip after the instruction, and rcx = rip, as hardware does */
	EXPECT_EQ(GUEST_CODE_ADDR + (guest_syscall6_after - guest_syscall6_start),
		  run->regs.rip);
	EXPECT_EQ(run->regs.rip, run->regs.rcx);
	EXPECT_EQ(UNPRIV_CS_64, run->regs.cs);

	/* The result set in rax is what the guest sees. */
	run->regs.rax = 0x123456789abcdefULL;
	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
	EXPECT_EQ(60, run->syscall.nr);
	EXPECT_EQ(0x123456789abcdefULL, run->syscall.args[0]);
}

GUEST_CODE(guest_int80,
	"mov $20, %eax\n"
	"mov $0x11, %ebx\n"
	"mov $0x22, %ecx\n"
	"mov $0x33, %edx\n"
	"mov $0x44, %esi\n"
	"mov $0x55, %edi\n"
	"mov $0x66, %ebp\n"
	"int $0x80\n");

TEST_F(run, int80_is_a_32bit_syscall_exit)
{
	struct unpriv_run *run = self->g.run;
	static const __u64 args[6] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66 };
	int i;

	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_int80));
	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
	EXPECT_EQ(20, run->syscall.nr);
	EXPECT_EQ(1, run->syscall.compat);
	EXPECT_EQ(UNPRIV_SYSCALL_INSN_INT80, run->syscall.insn);
	for (i = 0; i < 6; i++)
		EXPECT_EQ(args[i], run->syscall.args[i]) TH_LOG("arg %d", i);
	EXPECT_EQ(GUEST_CODE_ADDR + GUEST_CODE_SIZE(guest_int80), run->regs.rip);
}

GUEST_CODE(guest_read_unmapped,
	"mov $0x400010, %rax\n"
	"mov (%rax), %rbx\n");

TEST_F(run, read_of_unmapped_page_is_a_fault_exit)
{
	struct unpriv_run *run = self->g.run;

	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_read_unmapped));
	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_FAULT, run->exit_reason);
	EXPECT_EQ(GUEST_UNMAPPED_ADDR + 0x10, run->fault.address);
	EXPECT_EQ(14, run->fault.trap);
	EXPECT_EQ(0x4, run->fault.error_code);	/* user, read, not present */
	EXPECT_EQ(SIGSEGV, run->fault.signo);
	EXPECT_EQ(SEGV_MAPERR, run->fault.si_code);
	/* rip at the faulting instruction, which did not complete */
	EXPECT_EQ(GUEST_CODE_ADDR + 7, run->regs.rip);
}

GUEST_CODE(guest_write_code,
	"lea 0(%rip), %rax\n"
	"movb $1, (%rax)\n");

TEST_F(run, write_to_read_only_page_is_a_fault_exit)
{
	struct unpriv_run *run = self->g.run;

	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_write_code));
	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_FAULT, run->exit_reason);
	EXPECT_EQ(GUEST_CODE_ADDR + 7, run->fault.address);
	EXPECT_EQ(0x7, run->fault.error_code);	/* user, write, present */
	EXPECT_EQ(SIGSEGV, run->fault.signo);
	EXPECT_EQ(SEGV_ACCERR, run->fault.si_code);
}

GUEST_CODE(guest_jump_to_data,
	"mov $0x200000, %rax\n"
	"jmp *%rax\n");

TEST_F(run, exec_of_data_page_is_a_fault_exit)
{
	struct unpriv_run *run = self->g.run;

	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_jump_to_data));
	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_FAULT, run->exit_reason);
	EXPECT_EQ(GUEST_DATA_ADDR, run->fault.address);
	EXPECT_EQ(GUEST_DATA_ADDR, run->regs.rip);
	/* user, instruction fetch; present once the page was touched */
	EXPECT_EQ(0x14, run->fault.error_code & 0x14);
	EXPECT_EQ(SIGSEGV, run->fault.signo);
}

GUEST_CODE(guest_int3, "nop\nint3\n");

TEST_F(run, int3_is_a_trap_exit)
{
	struct unpriv_run *run = self->g.run;

	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_int3));
	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_TRAP, run->exit_reason);
	EXPECT_EQ(3, run->trap.trap);
	EXPECT_EQ(SIGTRAP, run->trap.signo);
	EXPECT_EQ(GUEST_CODE_ADDR + 2, run->regs.rip);
}

GUEST_CODE(guest_ud2, "nop\nud2\n");

TEST_F(run, ud2_is_a_trap_exit)
{
	struct unpriv_run *run = self->g.run;

	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_ud2));
	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_TRAP, run->exit_reason);
	EXPECT_EQ(6, run->trap.trap);
	EXPECT_EQ(SIGILL, run->trap.signo);
	EXPECT_EQ(ILL_ILLOPN, run->trap.si_code);
	EXPECT_EQ(GUEST_CODE_ADDR + 1, run->trap.address);
	EXPECT_EQ(GUEST_CODE_ADDR + 1, run->regs.rip);
}

GUEST_CODE(guest_divide_by_zero,
	"xor %ecx, %ecx\n"
	"mov $1, %eax\n"
	"xor %edx, %edx\n"
	"div %ecx\n");

TEST_F(run, divide_error_is_a_trap_exit)
{
	struct unpriv_run *run = self->g.run;

	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_divide_by_zero));
	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_TRAP, run->exit_reason);
	EXPECT_EQ(0, run->trap.trap);
	EXPECT_EQ(SIGFPE, run->trap.signo);
	EXPECT_EQ(FPE_INTDIV, run->trap.si_code);
}

TEST_HARNESS_MAIN
