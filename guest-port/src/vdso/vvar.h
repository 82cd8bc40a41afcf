/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The page the guest port shares with its vDSO: the guest's clocks as a
 * linear function of the TSC.  The guest port writes it while the guest
 * is stopped (at an exit), between an odd and an even seq; the vDSO
 * reads it, retrying while seq is odd or changed under it.
 *
 *	ns(clock) = base_ns[clock] + ((tsc - tsc_base) * mult) >> 32
 *
 * C, for the vDSO; the guest port includes it too.
 */
#ifndef GUEST_PORT_VVAR_H
#define GUEST_PORT_VVAR_H

#include <stdint.h>

#define GUEST_VVAR_CLOCKS	12	/* clock ids 0..11 */

struct guest_vvar {
	uint32_t seq;
	uint32_t use_tsc;	/* 0: every call is a system call */
	uint64_t clocks;	/* bit N: clock id N is served here */
	uint64_t tsc_base;
	uint64_t mult;		/* nanoseconds per tick, << 32 */
	int64_t base_ns[GUEST_VVAR_CLOCKS];
};

#endif
