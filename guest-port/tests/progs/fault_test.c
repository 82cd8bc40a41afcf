// SPDX-License-Identifier: GPL-2.0
/*
 * Ends in the way its argument says, for the runner to check unpriv-run's
 * exit status and report:
 *
 *	fault_test exit N	exit_group(N)
 *	fault_test segv		a write to address 0: SIGSEGV
 *	fault_test ud2		an invalid instruction: SIGILL
 *	fault_test int3		a breakpoint: SIGTRAP
 *	fault_test text		a write to its own code: SIGSEGV
 *	fault_test name		names itself with terminal escapes
 *				(PR_SET_NAME), then SIGSEGV
 *	fault_test stack	a system call with the stack pointer at the
 *				top of user space (where no backend runs a
 *				guest; on ptrace and seccomp in the stubs'
 *				range), then a push there: SIGSEGV
 */
#include <stdlib.h>
#include <sys/prctl.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "exit"))
		_exit(atoi(argv[2]));
	if (argc != 2)
		return 2;
	if (!strcmp(argv[1], "segv"))
		*(volatile int *)0 = 1;
	else if (!strcmp(argv[1], "ud2"))
		__asm__ volatile("ud2");
	else if (!strcmp(argv[1], "int3"))
		__asm__ volatile("int3");
	else if (!strcmp(argv[1], "name")) {
		prctl(PR_SET_NAME, "\033]0;owned\007\033[2J", 0, 0, 0);
		*(volatile int *)0 = 1;
	} else if (!strcmp(argv[1], "stack")) {
		__asm__ volatile("mov %%rsp, %%rbx\n\t"
				 "mov %0, %%rsp\n\t"
				 "mov $39, %%eax\n\t"	/* getpid */
				 "syscall\n\t"
				 "push %%rax\n\t"
				 "mov %%rbx, %%rsp"
				 : : "r"(0x7ffffffff000UL) : "rax", "rbx", "rcx", "r11", "memory");
	} else if (!strcmp(argv[1], "text"))
		*(volatile unsigned char *)(void *)main = 0xc3;
	return 2;
}
