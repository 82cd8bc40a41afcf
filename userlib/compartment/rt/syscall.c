// SPDX-License-Identifier: MIT
//
// System calls, and the symbols a static executable is expected to have.
#include <sys/syscall.h>

#include <unpriv/compartment/runtime.h>

long unpriv_syscall(long nr, long a1, long a2, long a3, long a4, long a5,
		    long a6)
{
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10),
			   "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

long unpriv_write(const void *buf, size_t len)
{
	return unpriv_syscall(SYS_write, 1, (long)buf, (long)len, 0, 0, 0);
}

void unpriv_exit(int status)
{
	unpriv_syscall(SYS_exit, status, 0, 0, 0, 0, 0);
	__builtin_trap();
}

void *unpriv_sbrk(intptr_t incr)
{
	static uintptr_t cur;
	uintptr_t want;

	if (!cur) {
		long b = unpriv_syscall(SYS_brk, 0, 0, 0, 0, 0, 0);

		if (b < 0)
			return (void *)-1;
		cur = (uintptr_t)b;
	}
	if (incr < 0 && (uintptr_t)-incr > cur)
		return (void *)-1;
	want = cur + (uintptr_t)incr;
	if (incr > 0 && want < cur)
		return (void *)-1;
	if ((uintptr_t)unpriv_syscall(SYS_brk, (long)want, 0, 0, 0, 0, 0) != want)
		return (void *)-1;
	cur = want;
	return (void *)(want - (uintptr_t)incr);
}

// What code compiled with -fstack-protector calls when the canary at
// %fs:0x28 was overwritten: end the call with a trap.
__attribute__((noreturn)) void __stack_chk_fail(void)
{
	__builtin_trap();
}

// An image is called at its entry points, never started: the ELF entry
// point traps.
__asm__(".pushsection .text\n"
	".globl _start\n"
	".type _start, @function\n"
	"_start:\n"
	"	ud2\n"
	".popsection\n");
