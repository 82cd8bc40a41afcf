// SPDX-License-Identifier: MIT
//
// The compartment image of sandboxed-inflate: Debian's zlib (libz.a)
// inflating gzip data from one window into another.  It makes no system
// call but brk(), through malloc, for zlib's state and window.
#include <limits.h>
#include <string.h>
#include <zlib.h>

#include <unpriv/compartment/runtime.h>

#include "inflate-abi.h"

static z_stream strm;
static int started;

UNPRIV_ENTRY long gz_begin(void)
{
	if (started)
		inflateEnd(&strm);
	memset(&strm, 0, sizeof(strm));
	started = inflateInit2(&strm, 16 + MAX_WBITS) == Z_OK;	// gzip only
	return started ? 0 : GZ_NOMEM;
}

UNPRIV_ENTRY long gz_step(const uint8_t *in, size_t in_len, uint8_t *out,
			  size_t out_cap, struct gz_io *io)
{
	int ret;

	if (!started)
		return GZ_NOMEM;
	if (in_len > UINT_MAX)
		in_len = UINT_MAX;
	if (out_cap > UINT_MAX)
		out_cap = UINT_MAX;
	strm.next_in = (uint8_t *)in;
	strm.avail_in = (unsigned)in_len;
	strm.next_out = out;
	strm.avail_out = (unsigned)out_cap;
	ret = inflate(&strm, Z_NO_FLUSH);
	io->consumed = in_len - strm.avail_in;
	io->produced = out_cap - strm.avail_out;
	io->msg[0] = 0;

	switch (ret) {
	case Z_OK:
	case Z_BUF_ERROR:	// no progress possible: more input needed
		return GZ_MORE;
	case Z_STREAM_END:
		return GZ_END;
	case Z_MEM_ERROR:
		return GZ_NOMEM;
	default:
		for (size_t i = 0; strm.msg && i < sizeof(io->msg) - 1; i++) {
			io->msg[i] = strm.msg[i];
			io->msg[i + 1] = 0;
			if (!strm.msg[i])
				break;
		}
		return GZ_CORRUPT;
	}
}
