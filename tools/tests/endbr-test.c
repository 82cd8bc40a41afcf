// SPDX-License-Identifier: GPL-2.0
/*
 * tools/tests/endbr-test: module/endbr.h, the address arithmetic with
 * which the module finds kallsyms_lookup_name() through a kprobe and
 * decides whether a function found by name may be called, on kernels
 * built with IBT.  The kernels the test VM boots have none, so it is
 * checked here, on the bytes of real functions: this file is built
 * with -fcf-protection=branch, so its functions begin with ENDBR64, as
 * an IBT kernel's do.  TAP, with a kselftest "# Totals:" line.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "../../module/endbr.h"

static int n, failed;

static void check(bool ok, const char *what)
{
	n++;
	failed += !ok;
	printf("%sok %d %s\n", ok ? "" : "not ", n, what);
}

static __u32 bytes_at(unsigned long addr)
{
	__u32 v;

	memcpy(&v, (const void *)addr, sizeof(v));
	return v;
}

__attribute__((noinline)) int probed(int x)
{
	return x * 3 + 1;
}

/* An image of a function whose ENDBR the kernel sealed at boot. */
static const unsigned char sealed[] = {
	0xcc, 0xcc, 0xcc, 0xcc,		/* padding before it */
	0x66, 0x0f, 0x1f, 0x00,		/* the poison over its ENDBR */
	0x55, 0x48, 0x89, 0xe5,		/* push %rbp; mov %rsp,%rbp */
};

/* An image of a kernel without IBT: no ENDBR, padding before. */
static const unsigned char plain[] = {
	0xcc, 0xcc, 0xcc, 0xcc,
	0x55, 0x48, 0x89, 0xe5,
};

int main(void)
{
	unsigned long f = (unsigned long)probed;
	unsigned long s = (unsigned long)sealed + 4;
	unsigned long p = (unsigned long)plain + 4;
	unsigned long at;

	printf("TAP version 13\n1..8\n");

	check(bytes_at(f) == UNPRIV_ENDBR64,
	      "a function built with -fcf-protection=branch starts with ENDBR64");

	/* register_kprobe() on an IBT kernel records f + 4. */
	at = unpriv_endbr_func_start(f + UNPRIV_ENDBR_SIZE, bytes_at(f), true);
	check(at == f, "IBT: a probe past the ENDBR gives the function's start");
	check(unpriv_endbr_callable(bytes_at(at), true),
	      "IBT: the function's start may be called");
	check(!unpriv_endbr_callable(bytes_at(f + UNPRIV_ENDBR_SIZE), true),
	      "IBT: the probe's own address may not be called");

	/* A sealed function: the probe is past the poison too. */
	at = unpriv_endbr_func_start(s + UNPRIV_ENDBR_SIZE, bytes_at(s), true);
	check(at == s && !unpriv_endbr_callable(bytes_at(at), true),
	      "IBT: a sealed function is found, and refused");

	/* No IBT: the probe is at the function, nothing is adjusted. */
	at = unpriv_endbr_func_start(p, bytes_at(p - UNPRIV_ENDBR_SIZE), false);
	check(at == p && unpriv_endbr_callable(bytes_at(p), false),
	      "no IBT: the probe's address is the function's, callable");
	at = unpriv_endbr_func_start(f, bytes_at(f - UNPRIV_ENDBR_SIZE), true);
	check(at == f, "IBT: a probe at a function with no ENDBR before it stays");
	check(probed(2) == 7, "the probed function runs");

	printf("# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:0 error:0\n",
	       n - failed, failed);
	return failed != 0;
}
