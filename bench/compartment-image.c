// SPDX-License-Identifier: GPL-2.0
//
// The empty entry point of unpriv-bench-compartment's image; the image
// also holds sandboxed-inflate's (inflate.c).
#include <unpriv/compartment/runtime.h>

UNPRIV_ENTRY long empty(void)
{
	return 0;
}
