// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's vDSO: clock_gettime, gettimeofday and time without leaving
 * the guest.  It reads the TSC and the guest port's page (vvar.h), mapped
 * right before it; a clock it does not serve, or no usable TSC, makes the
 * system call instead.  Built -fPIC with everything hidden but the
 * exported functions, so that it needs no relocation: the C library uses
 * it where it is mapped, as it is.
 */
#include <stddef.h>
#include <stdint.h>

#include <asm/unistd.h>
#include <linux/time.h>

#include "vvar.h"

extern const volatile struct guest_vvar vvar_page __attribute__((visibility("hidden")));

#define barrier() __asm__ __volatile__("" ::: "memory")

static long sys2(long nr, long a, long b)
{
	long ret;

	__asm__ __volatile__("syscall"
			     : "=a"(ret)
			     : "a"(nr), "D"(a), "S"(b)
			     : "rcx", "r11", "memory");
	return ret;
}

static uint64_t rdtsc_ordered(void)
{
	uint32_t lo, hi;

	/* lfence: the TSC is read after what came before. */
	__asm__ __volatile__("lfence; rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
	return (uint64_t)hi << 32 | lo;
}

/* The guest's time on clock in nanoseconds; 0 if it is not served here. */
static int read_ns(int clock, int64_t *ns)
{
	const volatile struct guest_vvar *v = &vvar_page;
	uint32_t seq;
	int64_t t;

	if (clock < 0 || clock >= GUEST_VVAR_CLOCKS)
		return 0;
	do {
		seq = v->seq;
		barrier();
		if (seq & 1)
			continue;
		if (!v->use_tsc || !(v->clocks >> clock & 1))
			return 0;
		int64_t delta = (int64_t)(rdtsc_ordered() - v->tsc_base);
		if (delta < 0)
			delta = 0;
		t = v->base_ns[clock] + (int64_t)(((unsigned __int128)delta * v->mult) >> 32);
		barrier();
	} while ((seq & 1) || v->seq != seq);
	*ns = t;
	return 1;
}

int __vdso_clock_gettime(__kernel_clockid_t clock, struct __kernel_timespec *ts)
{
	int64_t ns;

	if (!read_ns(clock, &ns))
		return (int)sys2(__NR_clock_gettime, clock, (long)ts);
	ts->tv_sec = ns / 1000000000;
	ts->tv_nsec = ns % 1000000000;
	return 0;
}

int __vdso_gettimeofday(struct __kernel_old_timeval *tv, struct timezone *tz)
{
	int64_t ns;

	if (tz || !read_ns(CLOCK_REALTIME, &ns))
		return (int)sys2(__NR_gettimeofday, (long)tv, (long)tz);
	if (tv) {
		tv->tv_sec = ns / 1000000000;
		tv->tv_usec = ns % 1000000000 / 1000;
	}
	return 0;
}

long __vdso_time(long *t)
{
	int64_t ns;

	if (!read_ns(CLOCK_REALTIME, &ns))
		return sys2(__NR_time, (long)t, 0);
	if (t)
		*t = ns / 1000000000;
	return ns / 1000000000;
}

int clock_gettime(__kernel_clockid_t, struct __kernel_timespec *)
	__attribute__((weak, alias("__vdso_clock_gettime")));
int gettimeofday(struct __kernel_old_timeval *, struct timezone *)
	__attribute__((weak, alias("__vdso_gettimeofday")));
long time(long *) __attribute__((weak, alias("__vdso_time")));
