// SPDX-License-Identifier: GPL-2.0
/*
 * What the loader gives a program: its arguments and environment, the
 * auxiliary vector, an aligned stack, its segments where the headers
 * say.  Built twice: static (ET_EXEC) and static-pie (ET_DYN).
 *
 *	loader_test ARG...	with the environment LOADER_TEST=yes
 */
#define _GNU_SOURCE
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "tap.h"

extern char **environ;
static int bss_var;
static int data_var = 7;

static int phdr_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	*(const ElfW(Phdr) **)data = info->dlpi_phdr;
	return 1;
}

int main(int argc, char **argv)
{
	CHECK(argc == 3 && !strcmp(argv[1], "one") && !strcmp(argv[2], "two words"),
	      "arguments arrive");
	CHECK(argv[argc] == NULL, "argv ends with NULL");
	const char *e = getenv("LOADER_TEST");
	CHECK(e && !strcmp(e, "yes"), "the environment arrives");
	CHECK(environ == argv + argc + 1, "envp follows argv");
	CHECK(((uintptr_t)__builtin_frame_address(0) & 0xf) == 0 ||
	      ((uintptr_t)__builtin_frame_address(0) & 0x7) == 0, "the stack is aligned");

	CHECK(getauxval(AT_PAGESZ) == 4096, "AT_PAGESZ");
	const unsigned char *rnd = (const unsigned char *)getauxval(AT_RANDOM);
	int nonzero = 0;
	for (int i = 0; rnd && i < 16; i++)
		nonzero |= rnd[i];
	CHECK(rnd && nonzero, "AT_RANDOM: 16 random bytes");
	const char *execfn = (const char *)getauxval(AT_EXECFN);
	CHECK(execfn && !strcmp(execfn, argv[0]), "AT_EXECFN is the program's name");
	const char *platform = (const char *)getauxval(AT_PLATFORM);
	CHECK(platform && !strcmp(platform, "x86_64"), "AT_PLATFORM");
	const ElfW(Phdr) *ph = (const ElfW(Phdr) *)getauxval(AT_PHDR), *iter = NULL;
	dl_iterate_phdr(phdr_cb, &iter);
	CHECK(ph && ph == iter, "AT_PHDR points at the program headers");
	CHECK(getauxval(AT_PHNUM) > 0 && getauxval(AT_PHENT) == sizeof(ElfW(Phdr)), "AT_PHNUM, AT_PHENT");
	int has_load = 0;
	for (unsigned i = 0; ph && i < getauxval(AT_PHNUM); i++)
		has_load |= ph[i].p_type == PT_LOAD;
	CHECK(has_load, "and they are readable: a PT_LOAD among them");
	CHECK(getauxval(AT_ENTRY) != 0 && getauxval(AT_BASE) == 0, "AT_ENTRY; no interpreter, AT_BASE 0");
	CHECK(getauxval(AT_UID) == getuid() && getauxval(AT_EGID) == getegid(), "AT_UID, AT_EGID");
	CHECK(getauxval(AT_SECURE) == 0, "AT_SECURE 0");
	CHECK(getauxval(AT_HWCAP) != 0, "AT_HWCAP");
	CHECK(bss_var == 0 && data_var == 7, "bss zeroed, data initialized");
	bss_var = 1;
	data_var = 8;
	CHECK(bss_var == 1 && data_var == 8, "and both writable");
	ElfW(Ehdr) eh;
	int fd = open("/proc/self/exe", O_RDONLY);
	CHECK(fd >= 0 && read(fd, &eh, sizeof(eh)) == sizeof(eh) && !memcmp(eh.e_ident, ELFMAG, SELFMAG),
	      "/proc/self/exe is this program");
	if (eh.e_type == ET_DYN)
		CHECK((uintptr_t)&main > 0x100000000ul, "a PIE is loaded high, at the PIE base");
	else
		CHECK((uintptr_t)&main < 0x100000000ul && getauxval(AT_ENTRY) == eh.e_entry,
		      "a fixed executable is where it was linked");
	return tap_done();
}
