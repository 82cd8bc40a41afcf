// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's clock.
 *
 *	time_test OFFSET HOST_NOW
 *
 * The runner starts the guest port with --time-offset OFFSET and passes
 * the host's time (seconds since the epoch) just before: the guest's wall
 * clock must read HOST_NOW + OFFSET, give or take a minute of a slow
 * machine, on every path (clock_gettime, gettimeofday, time), and its
 * monotonic clocks must not be shifted.  Sleeps sleep.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <elf.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

/* The clock_gettime system calls made on purpose (the runner checks
 * that they are the only ones: the vDSO makes none). */
static int direct_calls;

static long sys_clock_gettime(clockid_t c, struct timespec *ts)
{
	direct_calls++;
	return syscall(SYS_clock_gettime, c, ts);
}

static int64_t ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

static int64_t now_ns(clockid_t c)
{
	struct timespec t;
	clock_gettime(c, &t);
	return ns(&t);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: time_test OFFSET HOST_NOW\n");
		return 2;
	}
	long long offset = atoll(argv[1]), host = atoll(argv[2]);
	long long want = host + offset;
	struct timespec ts;
	struct timeval tv;

	const unsigned char *vdso = (const unsigned char *)getauxval(AT_SYSINFO_EHDR);
	CHECK(vdso && !memcmp(vdso, ELFMAG, SELFMAG), "AT_SYSINFO_EHDR: the vDSO, an ELF image");
	CHECK_ERR(mprotect((void *)(vdso - 4096), 4096, PROT_READ | PROT_WRITE), EACCES,
		  "its data page cannot be made writable: EACCES");
	CHECK(clock_gettime(CLOCK_REALTIME, &ts) == 0 && llabs(ts.tv_sec - want) < 60,
	      "CLOCK_REALTIME is the host's plus %lld s", offset);
	CHECK(sys_clock_gettime(CLOCK_REALTIME, &ts) == 0 && llabs(ts.tv_sec - want) < 60,
	      "the clock_gettime system call too");
	struct timespec sys_ts, vdso_ts;
	sys_clock_gettime(CLOCK_MONOTONIC, &sys_ts);
	clock_gettime(CLOCK_MONOTONIC, &vdso_ts);
	CHECK(ns(&vdso_ts) >= ns(&sys_ts) && ns(&vdso_ts) - ns(&sys_ts) < 1000000000,
	      "the vDSO's CLOCK_MONOTONIC follows the system call's");
	CHECK(gettimeofday(&tv, NULL) == 0 && llabs(tv.tv_sec - want) < 60, "gettimeofday too");
	CHECK(llabs(time(NULL) - want) < 60, "time too");
	CHECK(llabs((long long)syscall(SYS_time, NULL) - want) < 60, "the time system call too");
	CHECK(clock_gettime(CLOCK_REALTIME_COARSE, &ts) == 0 && llabs(ts.tv_sec - want) < 60,
	      "CLOCK_REALTIME_COARSE too");
	CHECK(clock_gettime(CLOCK_TAI, &ts) == 0 && llabs(ts.tv_sec - want) < 100, "CLOCK_TAI too");
	CHECK(llabs(now_ns(CLOCK_MONOTONIC) / 1000000000 - now_ns(CLOCK_BOOTTIME) / 1000000000) < 1000000 &&
	      (offset == 0 || llabs(now_ns(CLOCK_MONOTONIC) / 1000000000 - want) > 1000),
	      "CLOCK_MONOTONIC is not shifted");
	direct_calls++;	/* the vDSO passes a clock it does not serve on */
	CHECK_ERR(clock_gettime(12345, &ts), EINVAL, "an unknown clock: EINVAL");
	CHECK(clock_getres(CLOCK_MONOTONIC, &ts) == 0 && ts.tv_sec == 0 && ts.tv_nsec > 0, "clock_getres");

	int64_t t0 = now_ns(CLOCK_MONOTONIC), last = t0;
	int monotonic = 1;
	for (int i = 0; i < 1000; i++) {
		int64_t t = now_ns(CLOCK_MONOTONIC);
		monotonic &= t >= last;
		last = t;
	}
	CHECK(monotonic, "CLOCK_MONOTONIC never goes back over 1000 reads");

	/* Half a second of reading the clock and nothing else: no exit, the
	 * vDSO extrapolates all the way.  A system call then, between two
	 * vDSO reads, must not see the clock go back on either side: the
	 * guest's one clock, however it is read.  (How near it stays to the
	 * host's is the calibration's business, and load's: not tested.) */
	struct timespec before, after;
	t0 = now_ns(CLOCK_MONOTONIC);
	while (now_ns(CLOCK_MONOTONIC) - t0 < 500000000)
		;
	clock_gettime(CLOCK_MONOTONIC, &before);
	sys_clock_gettime(CLOCK_MONOTONIC, &sys_ts);
	clock_gettime(CLOCK_MONOTONIC, &after);
	CHECK(ns(&before) <= ns(&sys_ts) && ns(&sys_ts) <= ns(&after),
	      "after 0.5 s without exits, vDSO, system call and vDSO read in order "
	      "(%+lld ns, %+lld ns)", (long long)(ns(&sys_ts) - ns(&before)),
	      (long long)(ns(&after) - ns(&sys_ts)));
	struct timeval tv2;
	CHECK(gettimeofday(&tv2, NULL) == 0 && llabs(tv2.tv_sec - want) < 60 && time(NULL) >= tv.tv_sec,
	      "gettimeofday and time after them");

	struct timespec d = {0, 50 * 1000000};
	t0 = now_ns(CLOCK_MONOTONIC);
	CHECK(nanosleep(&d, NULL) == 0 && now_ns(CLOCK_MONOTONIC) - t0 >= 50 * 1000000, "nanosleep 50 ms");
	struct timespec bad = {0, 1000000000};
	CHECK_ERR(nanosleep(&bad, NULL), EINVAL, "nanosleep of 10^9 ns: EINVAL");

	/* An absolute sleep on the guest's wall clock ends at guest time. */
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 50 * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	t0 = now_ns(CLOCK_MONOTONIC);
	int r = clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL);
	int64_t slept = now_ns(CLOCK_MONOTONIC) - t0;
	CHECK(r == 0 && slept >= 40 * 1000000 && slept < 30000000000ll,
	      "clock_nanosleep TIMER_ABSTIME on the guest's clock sleeps 50 ms");
	printf("# clock_gettime system calls made: %d\n", direct_calls);
	return tap_done();
}
