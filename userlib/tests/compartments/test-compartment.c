// SPDX-License-Identifier: MIT
//
// The compartment image of compartment_test.cpp: one entry point per
// thing a test makes a compartment do.
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <unpriv/compartment/runtime.h>

UNPRIV_ENTRY long answer(void)
{
	return 42;
}

// Weighs each argument, so that one in the wrong register shows.
UNPRIV_ENTRY long weigh6(long a, long b, long c, long d, long e, long f)
{
	return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f;
}

UNPRIV_ENTRY unsigned long sum_bytes(const unsigned char *p, size_t n)
{
	unsigned long sum = 0;

	while (n--)
		sum += *p++;
	return sum;
}

UNPRIV_ENTRY size_t fill(unsigned char *p, size_t n, int c)
{
	memset(p, c, n);
	return n;
}

UNPRIV_ENTRY unsigned long peek(const volatile unsigned long *p)
{
	return *p;
}

UNPRIV_ENTRY void poke(volatile unsigned long *p, unsigned long v)
{
	*p = v;
}

UNPRIV_ENTRY long jump(unsigned long addr)
{
	return ((long (*)(void))addr)();
}

UNPRIV_ENTRY long do_syscall(long nr, long a1, long a2, long a3)
{
	return unpriv_syscall(nr, a1, a2, a3, 0, 0, 0);
}

UNPRIV_ENTRY long say(const char *s)
{
	return unpriv_write(s, strlen(s));
}

UNPRIV_ENTRY void spin(void)
{
	for (;;)
		__asm__ volatile("" ::: "memory");
}

UNPRIV_ENTRY void trap(void)
{
	__builtin_trap();
}

UNPRIV_ENTRY long divide(long a, long b)
{
	return a / b;
}

static long counter;
static long initialized = 7;

UNPRIV_ENTRY long count(void)
{
	return ++counter;
}

UNPRIV_ENTRY long get_initialized(void)
{
	return initialized;
}

UNPRIV_ENTRY void set_initialized(long v)
{
	initialized = v;
}

// Returns the block (filled with c), or 0 when malloc fails.
UNPRIV_ENTRY void *allocate(size_t n, int c)
{
	void *p = malloc(n);

	if (p)
		memset(p, c, n);
	return p;
}

// Allocates, fills, frees and reallocates blocks of many sizes, checking
// every byte; returns 1 if the allocator kept them all apart.
UNPRIV_ENTRY long heap_churn(unsigned rounds)
{
	unsigned char *blocks[32] = {0};
	size_t sizes[32] = {0};

	for (unsigned r = 0; r < rounds; r++) {
		unsigned i = (r * 7) % 32;

		if (blocks[i]) {
			for (size_t j = 0; j < sizes[i]; j++)
				if (blocks[i][j] != (unsigned char)i)
					return 0;
			if (r % 3 == 0) {
				size_t n = sizes[i] * 2 + 1;
				unsigned char *q = realloc(blocks[i], n);

				if (!q)
					return 0;
				memset(q, i, n);
				blocks[i] = q;
				sizes[i] = n;
				continue;
			}
			free(blocks[i]);
		}
		sizes[i] = 1 + (r * 131) % 5000;
		blocks[i] = malloc(sizes[i]);
		if (!blocks[i])
			return 0;
		memset(blocks[i], i, sizes[i]);
	}
	for (unsigned i = 0; i < 32; i++)
		free(blocks[i]);
	return 1;
}

UNPRIV_ENTRY long map_anon(size_t len, long prot)
{
	return unpriv_syscall(SYS_mmap, 0, (long)len, prot,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

UNPRIV_ENTRY long unmap(unsigned long addr, size_t len)
{
	return unpriv_syscall(SYS_munmap, (long)addr, (long)len, 0, 0, 0, 0);
}

// Uses 1 KiB of stack in each of depth nested calls.
UNPRIV_ENTRY long recurse(long depth)
{
	volatile char buf[1024];

	buf[0] = (char)depth;
	if (depth <= 0)
		return buf[0];
	return recurse(depth - 1) + buf[0];
}

UNPRIV_ENTRY void leave(int status)
{
	unpriv_exit(status);
}

UNPRIV_ENTRY long int80_getpid(void)
{
	long ret = 20;	// getpid, 32-bit ABI

	__asm__ volatile("int $0x80" : "+a"(ret) : : "memory");
	return ret;
}

// The stack protector's canary, where -fstack-protector code reads it.
UNPRIV_ENTRY unsigned long canary(void)
{
	unsigned long v;

	__asm__ volatile("mov %%fs:0x28, %0" : "=r"(v));
	return v;
}
