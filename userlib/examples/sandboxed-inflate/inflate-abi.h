/* SPDX-License-Identifier: MIT */
/*
 * What sandboxed-inflate and its compartment image agree on: the entry
 * points' results and the control block they share through a window.
 *
 *	long gz_begin(void)
 *		start a gzip member; 0, or GZ_NOMEM
 *	long gz_step(const uint8_t *in, size_t in_len, uint8_t *out,
 *		     size_t out_cap, struct gz_io *io)
 *		inflate from in into out; io->consumed and io->produced say
 *		how much; returns GZ_MORE, GZ_END (the member ended) or an
 *		error, with zlib's message in io->msg
 */
#ifndef SANDBOXED_INFLATE_ABI_H
#define SANDBOXED_INFLATE_ABI_H

#include <stdint.h>

#define GZ_MORE		0	/* give more input, or take the output */
#define GZ_END		1	/* the member ended */
#define GZ_CORRUPT	(-1)	/* not gzip data, or damaged */
#define GZ_NOMEM	(-2)	/* malloc failed */

struct gz_io {
	uint64_t consumed;	/* out: input bytes used */
	uint64_t produced;	/* out: output bytes written */
	char msg[48];		/* out: what was wrong, for GZ_CORRUPT */
};

/*
 * A page of the caller's that no compartment must see: in a real program
 * a key; here at an address fixed in advance, so that the hostile test
 * images (hostile.c) know where to look for it.
 */
#define SANDBOXED_INFLATE_SECRET_ADDR	0x5ec000000000ull

#endif
