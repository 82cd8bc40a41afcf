// SPDX-License-Identifier: GPL-2.0
/*
 * What the loader gives a program: its arguments and environment, the
 * auxiliary vector, an aligned stack, its segments where the headers
 * say.  Built twice: static (ET_EXEC) and static-pie (ET_DYN).
 *
 *	loader_test ARG...	with the environment LOADER_TEST=yes
 *
 * Then runs a script whose interpreter it is ("#!loader_test
 * as-interpreter"), which checks what Linux gives a script's
 * interpreter: the program's name is the script's.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

/* The script's checks, made by its interpreter: one bit of the exit
 * status a check that failed.  argv: INTERPRETER as-interpreter SCRIPT x */
enum {
	SCRIPT_ARGV = 1,	/* the script's name after the #! line's argument */
	SCRIPT_EXECFN = 2,	/* AT_EXECFN: the script's name */
	SCRIPT_COMM = 4,	/* comm: its last component, at most 15 bytes */
	SCRIPT_EXE = 8,		/* /proc/self/exe: the interpreter */
};

static int as_interpreter(int argc, char **argv)
{
	int bad = 0;
	char comm[64] = "", want[16] = "", exe[4096] = "";

	if (argc != 4 || strcmp(argv[3], "x"))
		return SCRIPT_ARGV;
	const char *execfn = (const char *)getauxval(AT_EXECFN);
	if (!execfn || strcmp(execfn, argv[2]))
		bad |= SCRIPT_EXECFN;
	snprintf(want, sizeof(want), "%s", strrchr(argv[2], '/') + 1);
	int fd = open("/proc/self/comm", O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, comm, sizeof(comm) - 1) : -1;
	if (n < 1 || comm[n - 1] != '\n' || (comm[n - 1] = 0, strcmp(comm, want)))
		bad |= SCRIPT_COMM;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0 || (exe[n] = 0, strcmp(exe, argv[0])))
		bad |= SCRIPT_EXE;
	return bad;
}

static void script_checks(void)
{
	char self[4096], script[64];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	snprintf(script, sizeof(script), "/tmp/loader-test-script.%d", (int)getpid());
	FILE *f = n > 0 ? fopen(script, "w") : NULL;
	if (!f) {
		CHECK(0, "a script in /tmp");
		return;
	}
	self[n] = 0;
	fprintf(f, "#!%s as-interpreter\n", self);
	fclose(f);
	chmod(script, 0755);
	pid_t pid = fork();
	if (pid == 0) {
		char *args[] = {"script", "x", NULL};
		execve(script, args, environ);
		_exit(127);
	}
	int status = 0;
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	      WEXITSTATUS(status) != 127, "a script runs with its #! line's interpreter");
	int bad = WIFEXITED(status) ? WEXITSTATUS(status) : 0xff;
	CHECK(!(bad & SCRIPT_ARGV), "its interpreter gets: the #! line's argument, the script, its arguments");
	CHECK(!(bad & SCRIPT_EXECFN), "AT_EXECFN is the script's name");
	CHECK(!(bad & SCRIPT_COMM), "comm is the script's name, cut to 15 bytes");
	CHECK(!(bad & SCRIPT_EXE), "/proc/self/exe is the interpreter");
	unlink(script);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "as-interpreter"))
		return as_interpreter(argc, argv);

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
	script_checks();
	return tap_done();
}
