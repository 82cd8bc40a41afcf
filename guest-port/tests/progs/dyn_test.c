// SPDX-License-Identifier: GPL-2.0
/*
 * A dynamically linked program: the guest port loads its PT_INTERP (the
 * dynamic linker, from the guest's root), which maps libc and the rest
 * with mmap and mprotect, finds the vDSO through AT_SYSINFO_EHDR, and
 * dlopen()s more at run time.
 *
 *	dyn_test ARG	with the environment DYN_TEST=yes
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

static __thread int tls_var = 5;

struct seen {
	int libc, ld, vdso, main;
};

static int each(struct dl_phdr_info *info, size_t size, void *data)
{
	struct seen *s = data;
	(void)size;
	if (strstr(info->dlpi_name, "libc.so.6"))
		s->libc = 1;
	else if (strstr(info->dlpi_name, "ld-linux-x86-64.so.2"))
		s->ld = 1;
	else if (strstr(info->dlpi_name, "linux-vdso.so.1"))
		s->vdso = 1;
	else if (!info->dlpi_name[0])
		s->main = 1;
	return 0;
}

int main(int argc, char **argv)
{
	CHECK(argc == 2 && !strcmp(argv[1], "arg"), "arguments arrive");
	const char *e = getenv("DYN_TEST");
	CHECK(e && !strcmp(e, "yes"), "the environment arrives");

	uintptr_t base = getauxval(AT_BASE);
	Dl_info info;
	CHECK(base != 0 && dladdr((void *)dlsym, &info) && (uintptr_t)info.dli_fbase != 0,
	      "AT_BASE: the dynamic linker's base");
	CHECK(getauxval(AT_ENTRY) != 0 && (uintptr_t)&main > getauxval(AT_PHDR) - 0x100000,
	      "AT_ENTRY, AT_PHDR: the program's");

	struct seen s = {0};
	dl_iterate_phdr(each, &s);
	CHECK(s.main && s.libc && s.ld, "the program, libc and the dynamic linker are loaded");
	CHECK(s.vdso, "the C library found the vDSO");

	CHECK(tls_var == 5, "thread-local storage");
	char buf[64];
	snprintf(buf, sizeof(buf), "%d-%s", 42, "x");
	CHECK(!strcmp(buf, "42-x"), "libc's printf family");

	void *libm = dlopen("libm.so.6", RTLD_NOW);
	CHECK(libm != NULL, "dlopen libm.so.6%s%s", libm ? "" : ": ", libm ? "" : dlerror());
	double (*cosine)(double) = libm ? (double (*)(double))dlsym(libm, "cos") : NULL;
	CHECK(cosine && cosine(0.0) == 1.0, "dlsym cos, and call it");
	CHECK(libm && dlclose(libm) == 0, "dlclose");

	struct timespec ts;
	CHECK(clock_gettime(CLOCK_MONOTONIC, &ts) == 0 && ts.tv_sec > 0, "clock_gettime");
	void *p = malloc(1 << 24);
	CHECK(p && memset(p, 1, 1 << 24), "malloc 16 MiB");
	free(p);
	return tap_done();
}
