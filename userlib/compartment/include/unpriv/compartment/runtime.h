/* SPDX-License-Identifier: MIT */
/*
 * The runtime of compartment images (unpriv_add_compartment() in CMake
 * links it into each): what a freestanding static executable needs to
 * run a C library such as zlib inside an unpriv::Compartment.
 *
 * From the C library's headers it implements memcpy, memmove, memset,
 * memcmp, strlen, malloc, free, calloc and realloc (over the heap that
 * brk() gets under the policy's allow_memory(): without it, malloc
 * returns NULL) and __stack_chk_fail (a trap).  Nothing else: a call to
 * any other C library function fails to link.  No constructors run, and
 * there is no thread-local storage.
 *
 * Every system call goes to the compartment's policy; by default each
 * fails with -EPERM (unpriv/compartment.hpp).
 */
#ifndef UNPRIV_COMPARTMENT_RUNTIME_H
#define UNPRIV_COMPARTMENT_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An entry point the caller calls with Compartment::call("name", ...). */
#define UNPRIV_ENTRY __attribute__((used, noinline))

/* A system call; returns the result or -errno, as the kernel would. */
long unpriv_syscall(long nr, long a1, long a2, long a3, long a4, long a5,
		    long a6);

/* write(1, buf, len): the descriptor Policy::allow_write() names. */
long unpriv_write(const void *buf, size_t len);

/* exit(status): ends the call under Policy::allow_exit(); traps if the
 * policy does not allow it. */
__attribute__((noreturn)) void unpriv_exit(int status);

/* Move the break by incr bytes; returns the old break, or (void *)-1. */
void *unpriv_sbrk(intptr_t incr);

#ifdef __cplusplus
}
#endif

#endif /* UNPRIV_COMPARTMENT_RUNTIME_H */
