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
	GUEST_SETUP(&self->g);
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

/*
 * Whether this kernel enforces UMIP (a CPU that has it, a kernel built
 * with X86_UMIP): then the host's own SGDT is emulated, and shows the
 * kernel's dummy GDT base, not the real one.
 */
static bool umip_enforced(void)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} gdt = { 0, 0 };

	asm volatile("sgdt %0" : "=m"(gdt));
	return gdt.base == 0xfffffffffffe0000ULL;	/* UMIP_DUMMY_GDT_BASE */
}

GUEST_CODE(guest_smsw, "smsw %eax\nmov $1, %eax\nsyscall\n");

/*
 * With UMIP, a program's SMSW, SGDT, SIDT, SLDT and STR trap, and the
 * kernel emulates them.  A guest's are a #GP exit instead, for its own
 * kernel to deal with; the host's own, right after an exit, are still
 * emulated.
 */
TEST_F(run, umip_instructions_are_a_gp_exit)
{
	struct unpriv_run *run = self->g.run;
	unsigned long msw = 0;

	if (!umip_enforced())
		SKIP(return, "no UMIP: the CPU has none, or the kernel leaves it off");
	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_smsw));
	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_TRAP, run->exit_reason)
		TH_LOG("exit %u at %#llx", run->exit_reason, run->regs.rip);
	EXPECT_EQ(13, run->trap.trap);
	EXPECT_EQ(SIGSEGV, run->trap.signo);
	EXPECT_EQ(0, run->trap.error_code);
	EXPECT_EQ(GUEST_CODE_ADDR, run->regs.rip);

	/* No system call since the exit: the thread is parked, in host mode. */
	asm volatile("smsw %0" : "=r"(msw));
	EXPECT_NE(0, msw & 1) TH_LOG("the host's SMSW, emulated: %#lx", msw);
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

GUEST_CODE(guest_hlt, "hlt\n");

TEST_F(run, privileged_instruction_is_a_general_protection_trap)
{
	struct unpriv_run *run = self->g.run;

	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_hlt));
	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_TRAP, run->exit_reason);
	EXPECT_EQ(13, run->trap.trap);
	EXPECT_EQ(SIGSEGV, run->trap.signo);
	EXPECT_EQ(GUEST_CODE_ADDR, run->regs.rip);
}

GUEST_CODE(guest_nops, "nop\nnop\nnop\n");

TEST_F(run, trap_flag_single_steps_with_dr6)
{
	struct unpriv_run *run = self->g.run;

	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_nops));
	run->regs.rflags = 0x100;	/* TF */
	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_TRAP, run->exit_reason);
	EXPECT_EQ(1, run->trap.trap);
	EXPECT_EQ(SIGTRAP, run->trap.signo);
	EXPECT_EQ(TRAP_TRACE, run->trap.si_code);
	EXPECT_NE(0, run->trap.dr6 & 0x4000);	/* DR6.BS */
	EXPECT_EQ(GUEST_CODE_ADDR + 1, run->regs.rip);

	/* One more step, then clear TF and run to the end of the page. */
	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_TRAP, run->exit_reason);
	EXPECT_EQ(GUEST_CODE_ADDR + 2, run->regs.rip);
}

/* Starts in 32-bit compatibility mode: int $0x80 with 32-bit registers. */
GUEST_CODE(guest_compat_int80,
	".code32\n"
	"mov $4, %eax\n"
	"mov $1, %ebx\n"
	"int $0x80\n"
	".code64\n");

TEST_F(run, compat_mode_int80_is_a_32bit_syscall_exit)
{
	struct unpriv_run *run = self->g.run;

	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_compat_int80));
	run->regs.cs = UNPRIV_CS_32;
	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
	EXPECT_EQ(4, run->syscall.nr);
	EXPECT_EQ(1, run->syscall.args[0]);
	EXPECT_EQ(1, run->syscall.compat);
	EXPECT_EQ(UNPRIV_SYSCALL_INSN_INT80, run->syscall.insn);
	EXPECT_EQ(UNPRIV_CS_32, run->regs.cs);
}

/*
 * sysenter (Intel) and syscall in compatibility mode (AMD) are the fast
 * 32-bit entries; on a CPU without one it is an invalid opcode.  Either
 * way no host system call runs.  The kernel reads the caller's ebp from
 * the stack first (for sysenter, the stack pointer is passed in ebp), so
 * it must point at readable memory.
 */
GUEST_CODE(guest_compat_sysenter, ".code32\nmov $4, %eax\nsysenter\n.code64\n");
GUEST_CODE(guest_compat_syscall, ".code32\nmov $4, %eax\nsyscall\n.code64\n");

static void expect_fast32_exit_or_ud(struct __test_metadata *_metadata,
				     struct unpriv_run *run)
{
	if (run->exit_reason == UNPRIV_EXIT_TRAP) {
		EXPECT_EQ(6, run->trap.trap);
		return;
	}
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
	EXPECT_EQ(4, run->syscall.nr);
	EXPECT_EQ(1, run->syscall.compat);
	EXPECT_EQ(UNPRIV_SYSCALL_INSN_FAST32, run->syscall.insn);
}

TEST_F(run, compat_mode_sysenter_is_caught)
{
	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_compat_sysenter));
	self->g.run->regs.cs = UNPRIV_CS_32;
	self->g.run->regs.rsp = GUEST_STACK_TOP - 64;
	self->g.run->regs.rbp = GUEST_STACK_TOP - 64;	/* sysenter: esp in ebp */
	ASSERT_EQ(0, guest_run(&self->g));
	expect_fast32_exit_or_ud(_metadata, self->g.run);
}

TEST_F(run, compat_mode_syscall_is_caught)
{
	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_compat_syscall));
	self->g.run->regs.cs = UNPRIV_CS_32;
	self->g.run->regs.rsp = GUEST_STACK_TOP - 64;
	ASSERT_EQ(0, guest_run(&self->g));
	expect_fast32_exit_or_ud(_metadata, self->g.run);
}

/* A far jump from 64-bit code into 32-bit code, which then int $0x80s. */
GUEST_CODE(guest_far_jump_to_compat,
	"lea 1f(%rip), %rax\n"
	"mov $0x200000, %rbx\n"
	"mov %eax, (%rbx)\n"
	"movw $0x23, 4(%rbx)\n"
	"ljmpl *(%rbx)\n"
	"1:\n"
	".code32\n"
	"mov $7, %eax\n"
	"int $0x80\n"
	".code64\n");

TEST_F(run, far_jump_into_compat_mode_is_caught)
{
	struct unpriv_run *run = self->g.run;

	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_far_jump_to_compat));
	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
	EXPECT_EQ(7, run->syscall.nr);
	EXPECT_EQ(1, run->syscall.compat);
	EXPECT_EQ(UNPRIV_CS_32, run->regs.cs);
}

/*
 * Guest code may load the GDT's user code selectors into ds, es, fs and
 * gs (they are readable segments); the exit shows them, and the next
 * RUN must take them back.
 */
GUEST_CODE(guest_load_code_selectors,
	"mov $0x23, %eax\n"
	"mov %eax, %ds\n"
	"mov %eax, %fs\n"
	"mov $0x33, %eax\n"
	"mov %eax, %es\n"
	"mov %eax, %gs\n"
	"mov $1, %eax\n"
	"syscall\n"
	"mov %ds, %edi\n"
	"mov %es, %esi\n"
	"mov %fs, %edx\n"
	"mov %gs, %r10d\n"
	"mov $2, %eax\n"
	"syscall\n");

TEST_F(run, code_selectors_the_guest_loads_survive_an_exit)
{
	struct unpriv_run *run = self->g.run;

	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_load_code_selectors));
	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
	EXPECT_EQ(UNPRIV_CS_32, run->regs.ds);
	EXPECT_EQ(UNPRIV_CS_64, run->regs.es);
	EXPECT_EQ(UNPRIV_CS_32, run->regs.fs);
	EXPECT_EQ(UNPRIV_CS_64, run->regs.gs);

	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
	EXPECT_EQ(2, run->syscall.nr);
	EXPECT_EQ(UNPRIV_CS_32, run->syscall.args[0]);
	EXPECT_EQ(UNPRIV_CS_64, run->syscall.args[1]);
	EXPECT_EQ(UNPRIV_CS_32, run->syscall.args[2]);
	EXPECT_EQ(UNPRIV_CS_64, run->syscall.args[3]);
}

/* Registers the module must refuse: each RUN fails with EINVAL. */
FIXTURE(bad_regs) {
	struct guest g;
};

FIXTURE_VARIANT(bad_regs) {
	__u64 rip, rsp, rflags, fs_base, gs_base;
	__u16 cs, ss, ds, fs;
};

FIXTURE_VARIANT_ADD(bad_regs, kernel_rip) {
	.rip = 0xffffffff81000000ULL, .rsp = GUEST_STACK_TOP,
};

FIXTURE_VARIANT_ADD(bad_regs, noncanonical_rip) {
	/* beyond 57 bits: not canonical with 4- or 5-level paging */
	.rip = 0x0100000000000000ULL, .rsp = GUEST_STACK_TOP,
};

FIXTURE_VARIANT_ADD(bad_regs, kernel_rsp) {
	.rip = GUEST_CODE_ADDR, .rsp = 0xffff888000000000ULL,
};

FIXTURE_VARIANT_ADD(bad_regs, kernel_cs) {
	.rip = GUEST_CODE_ADDR, .rsp = GUEST_STACK_TOP, .cs = 0x10,
};

FIXTURE_VARIANT_ADD(bad_regs, ldt_cs) {
	.rip = GUEST_CODE_ADDR, .rsp = GUEST_STACK_TOP, .cs = 0x0f,
};

FIXTURE_VARIANT_ADD(bad_regs, kernel_ss) {
	.rip = GUEST_CODE_ADDR, .rsp = GUEST_STACK_TOP, .ss = 0x18,
};

FIXTURE_VARIANT_ADD(bad_regs, tls_ds) {
	.rip = GUEST_CODE_ADDR, .rsp = GUEST_STACK_TOP, .ds = 0x63,
};

FIXTURE_VARIANT_ADD(bad_regs, kernel_fs) {
	.rip = GUEST_CODE_ADDR, .rsp = GUEST_STACK_TOP, .fs = 0x18,
};

/*
 * A kernel-half fs or gs base is fine, as the guest can set one itself
 * (isolation_test); a non-canonical one is not.
 */
FIXTURE_VARIANT_ADD(bad_regs, noncanonical_fs_base) {
	.rip = GUEST_CODE_ADDR, .rsp = GUEST_STACK_TOP,
	.fs_base = 0x0100000000000000ULL,
};

FIXTURE_VARIANT_ADD(bad_regs, noncanonical_gs_base) {
	.rip = GUEST_CODE_ADDR, .rsp = GUEST_STACK_TOP,
	.gs_base = 0xfe00000000000000ULL,
};

FIXTURE_VARIANT_ADD(bad_regs, compat_rip_above_4g) {
	.rip = 0x100000000ULL, .rsp = GUEST_STACK_TOP, .cs = UNPRIV_CS_32,
};

FIXTURE_SETUP(bad_regs)
{
	GUEST_SETUP(&self->g);
	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_syscall6));
}

FIXTURE_TEARDOWN(bad_regs)
{
	guest_destroy(&self->g);
}

TEST_F(bad_regs, are_refused_and_the_vcpu_stays_usable)
{
	struct unpriv_regs *r = &self->g.run->regs;

	r->rip = variant->rip;
	r->rsp = variant->rsp;
	r->fs_base = variant->fs_base;
	r->gs_base = variant->gs_base;
	if (variant->cs)
		r->cs = variant->cs;
	if (variant->ss)
		r->ss = variant->ss;
	r->ds = variant->ds;
	r->fs = variant->fs;
	EXPECT_EQ(-EINVAL, guest_run(&self->g));

	/* Nothing was half done: good registers run. */
	r->rip = GUEST_CODE_ADDR;
	r->rsp = GUEST_STACK_TOP;
	r->fs_base = 0;
	r->gs_base = 0;
	r->cs = UNPRIV_CS_64;
	r->ss = UNPRIV_DS;
	r->ds = 0;
	r->fs = 0;
	ASSERT_EQ(0, guest_run(&self->g));
	EXPECT_EQ(UNPRIV_EXIT_SYSCALL, self->g.run->exit_reason);
}

TEST_F(run, rflags_are_sanitized)
{
	struct unpriv_run *run = self->g.run;

	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_syscall6));
	/* IOPL 3, NT, VM, VIF, VIP, and IF clear: none may reach the guest. */
	run->regs.rflags = 0x3000 | 0x4000 | 0x20000 | 0x80000 | 0x100000 | 0x1;
	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
	/* syscall saved the guest's rflags in r11: CF and IF, the fixed bit */
	EXPECT_EQ(0x203, run->regs.r11 & ~0x8d4ULL);
}

/*
 * Unmask x87 divide-by-zero and divide: #MF, with the cause in si_code.
 * (An unmasked SSE exception, #XM, would do as well on hardware; QEMU's
 * software emulation never raises it.)
 */
GUEST_CODE(guest_x87_divide_by_zero,
	"fninit\n"
	"sub $8, %rsp\n"
	"movw $0x37b, (%rsp)\n"	/* 0x37f without ZM */
	"fldcw (%rsp)\n"
	"fld1\n"
	"fldz\n"
	"fdivrp\n"
	"fwait\n");

TEST_F(run, x87_fp_exception_is_a_trap_exit_with_its_cause)
{
	struct unpriv_run *run = self->g.run;

	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_x87_divide_by_zero));
	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_TRAP, run->exit_reason)
		TH_LOG("exit %u at rip %#llx", run->exit_reason, run->regs.rip);
	EXPECT_EQ(16, run->trap.trap);		/* #MF */
	EXPECT_EQ(SIGFPE, run->trap.signo);
	EXPECT_EQ(FPE_FLTDIV, run->trap.si_code);
}

TEST_HARNESS_MAIN
