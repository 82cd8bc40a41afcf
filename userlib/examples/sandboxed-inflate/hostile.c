// SPDX-License-Identifier: MIT
//
// Hostile stand-ins for inflate.c, one per image (HOSTILE_* defined by
// CMake): what a compromised decompressor would try.  sandboxed-inflate's
// test runs each and checks that the call ends with the right error
// while the program carries on.
#include <fcntl.h>
#include <sys/syscall.h>

#include <unpriv/compartment/runtime.h>

#include "inflate-abi.h"

UNPRIV_ENTRY long gz_begin(void)
{
	return 0;
}

UNPRIV_ENTRY long gz_step(const uint8_t *in, size_t in_len, uint8_t *out,
			  size_t out_cap, struct gz_io *io)
{
	(void)in;
	(void)out;
	(void)out_cap;
#if defined(HOSTILE_READ_SECRET)
	// Copy the caller's secret into the output.
	const volatile char *secret = (const char *)SANDBOXED_INFLATE_SECRET_ADDR;

	for (size_t i = 0; i < 16 && i < out_cap; i++)
		out[i] = secret[i];
	io->produced = 16;
#elif defined(HOSTILE_OPEN)
	// Open a file of the caller's.
	long fd = unpriv_syscall(SYS_open, (long)"/etc/shadow", O_RDONLY, 0, 0, 0, 0);

	io->produced = fd >= 0 ? 1 : 0;
#elif defined(HOSTILE_JUMP)
	// Run code outside the image: where the caller's secret is.
	((void (*)(void))SANDBOXED_INFLATE_SECRET_ADDR)();
#elif defined(HOSTILE_LOOP)
	for (;;)
		__asm__ volatile("" ::: "memory");
#elif defined(HOSTILE_LIE)
	// Claim more output than the window holds.
	io->produced = out_cap + 4096;
#else
#error "define one HOSTILE_*"
#endif
	io->consumed = in_len;
	return GZ_MORE;
}
