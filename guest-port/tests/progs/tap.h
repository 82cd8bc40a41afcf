/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small TAP harness for programs that run inside the guest port: no
 * fork (each check runs in the one process), the kselftest "# Totals:"
 * line at the end.
 *
 *	CHECK(cond, "what")		ok when cond holds
 *	CHECK_ERR(call, errno, "what")	ok when call returns -1 with errno
 *	SKIP("why", "what")		ok, skipped: what cannot be tried here
 *	return tap_done();
 */
#ifndef GUEST_PORT_TAP_H
#define GUEST_PORT_TAP_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_pass, tap_fail, tap_skip;

static void tap_result(int ok, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void tap_result(int ok, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	if (tap_n == 0)
		printf("TAP version 13\n");
	tap_n++;
	printf("%s %d ", ok ? "ok" : "not ok", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!ok)
		printf("#   at %s:%d (errno %d: %s)\n", file, line, errno, strerror(errno));
	fflush(stdout);
	if (ok)
		tap_pass++;
	else
		tap_fail++;
}

#define CHECK(cond, ...) tap_result(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define CHECK_ERR(call, err, ...)                                            \
	do {                                                                 \
		errno = 0;                                                   \
		long tap_r_ = (long)(call);                                  \
		int tap_e_ = errno;                                          \
		tap_result(tap_r_ == -1 && tap_e_ == (err), __FILE__,        \
			   __LINE__, __VA_ARGS__);                           \
		if (!(tap_r_ == -1 && tap_e_ == (err)))                      \
			printf("#   got %ld, errno %d (%s); want errno %d (%s)\n", \
			       tap_r_, tap_e_, strerror(tap_e_), (err),      \
			       strerror(err));                               \
	} while (0)

static __attribute__((unused)) void tap_skipped(const char *why, const char *what)
{
	if (tap_n == 0)
		printf("TAP version 13\n");
	tap_n++;
	tap_skip++;
	printf("ok %d %s # SKIP %s\n", tap_n, what, why);
	fflush(stdout);
}

#define SKIP(why, what) tap_skipped(why, what)

static int tap_done(void)
{
	printf("1..%d\n", tap_n);
	printf("# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:%d error:0\n",
	       tap_pass, tap_fail, tap_skip);
	return tap_fail ? 1 : 0;
}

#endif
