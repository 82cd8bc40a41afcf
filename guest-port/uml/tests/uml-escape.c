// SPDX-License-Identifier: GPL-2.0
/*
 * uml-escape: a process of UML's userspace tries the ways out of UML to
 * the host: every instruction that makes a system call, 32-bit code,
 * the stub pages of ptrace mode, UML's own memory.  Built static and not
 * PIE (its code and data sit below 4 GiB, where 32-bit code reaches
 * them); x86-64 only.
 *
 *   uml-escape          in UML on unpriv: try them all; KTAP on stdout
 *   uml-escape --native natively, as the control: only the attempts
 *                       that make a system call, no checks
 *
 * Each attempt runs in a child of its own.  Those that make a system
 * call ask for a file to be created in MARKS (/tmp/uml-escape): with
 * the 64-bit syscall instruction, int $0x80, sysenter, and int $0x80
 * and syscall in a 32-bit code segment reached by a far jump.  A host
 * kernel that executed the call would create the file in the host's
 * MARKS; UML, which handles its processes' calls, creates it (if it
 * reads the call as creat at all) in its own /tmp, a tmpfs of UML's.
 * So the caller creates MARKS on the host before and checks afterwards
 * that UML left it empty (tools/vm/uml-check); the native run, where
 * the host does execute the calls, shows that the check sees a host
 * call when there is one: it leaves at least 'syscall' and 'int80' in
 * MARKS.
 *
 * In UML the checks are those of the guest's side: the syscall
 * instruction reached UML (the file is in UML's MARKS); the pages where
 * ptrace mode maps its stub (STUB_START; unpriv mode maps nothing
 * there) cannot be jumped to or read; UML's own memory cannot be read
 * or jumped to (its text at start_kernel, its read-only data in the page
 * after _etext: the addresses its /proc/kallsyms gives, which without
 * CONFIG_KALLSYMS_ALL names no data symbol; and one byte in every 64 KiB
 * from _text to 8 MiB past _etext, which covers its data and bss), nor
 * written to a pipe by a system call; the host's vsyscall page cannot
 * be called; there is no LDT (modify_ldt() is ENOSYS, and a far jump to
 * an LDT selector faults).  A read that succeeds prints what it read
 * and fails its check.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <asm/ldt.h>
#include "tap.h"

#define MARKS "/tmp/uml-escape"

/*
 * Where ptrace-mode UML maps its stub's code and data pages into every
 * process: STUB_START, the top of the host's user address space (47
 * bits) less two pages (setup_arch()).
 */
#define STUB_CODE	0x7fffffffd000UL
#define STUB_DATA	0x7fffffffe000UL

/* UML's link address on x86-64 (arch/x86/Makefile.um), if kallsyms hides. */
#define UML_START	0x60000000UL

/* The legacy vsyscall page's time(). */
#define VSYSCALL_TIME	0xffffffffff600400UL

/* The markers' names, where 32-bit code and pointers reach them. */
static char mark_syscall[] = MARKS "/syscall";
static char mark_int80[] = MARKS "/int80";
static char mark_sysenter[] = MARKS "/sysenter";
static char mark_far32_int80[] = MARKS "/far32-int80";
static char mark_far32_syscall[] = MARKS "/far32-syscall";

/*
 * A stack below 4 GiB, for 32-bit code and for the 32-bit fast system
 * calls, which read their sixth argument from the user stack (at EBP
 * for sysenter, ESP for syscall).
 */
static uint32_t stack32[1024] __attribute__((aligned(16), used));

/* What int $0x80 returned in 32-bit mode. */
static volatile int32_t far32_int80_ret __attribute__((used)) = 1;

/*
 * The 32-bit code, and far pointers to it (offset, then selector 0x23:
 * __USER32_CS).  far32_int80 calls creat(mark_far32_int80, 0644) (i386
 * number 8) with int $0x80, keeps the result and jumps back to 64-bit
 * code at far32_back.  far32_syscall calls it with syscall, whose second
 * argument is in EBP; it has no way back: a host returns from that into
 * the 32-bit vDSO, which a 64-bit process lacks.  far32_to_ldt's
 * selector, 0x7, is an LDT's: index 0, table indicator 1, RPL 3.
 */
extern const char far32_to_int80[], far32_to_syscall[], far32_to_ldt[];
asm(".pushsection .text.far32, \"ax\"\n"
    ".code32\n"
    "far32_int80:\n"
    "	movl $8, %eax\n"
    "	movl $mark_far32_int80, %ebx\n"
    "	movl $0644, %ecx\n"
    "	int $0x80\n"
    "	movl %eax, far32_int80_ret\n"
    "	ljmp $0x33, $far32_back\n"
    "far32_syscall:\n"
    "	movl $8, %eax\n"
    "	movl $mark_far32_syscall, %ebx\n"
    "	movl $0644, %ebp\n"
    "	syscall\n"
    "	ud2\n"
    ".code64\n"
    ".popsection\n"
    ".pushsection .rodata\n"
    "far32_to_int80:\n"
    "	.long far32_int80\n"
    "	.word 0x23\n"
    "far32_to_syscall:\n"
    "	.long far32_syscall\n"
    "	.word 0x23\n"
    "far32_to_ldt:\n"
    "	.long far32_int80\n"
    "	.word 0x7\n"
    ".popsection\n");

/* Addresses in UML's own memory, from its kallsyms. */
static unsigned long uml_text, uml_start_kernel, uml_etext;

/* How far past _etext the sweep of UML's image goes: data, bss, more. */
#define IMAGE_TAIL	(8UL << 20)
#define IMAGE_STEP	(64UL << 10)

/* The addresses of a few of UML's symbols, or UML_START. */
static void read_kallsyms(void)
{
	FILE *f = fopen("/proc/kallsyms", "r");
	char line[256], name[128], type;
	unsigned long addr;

	uml_text = uml_start_kernel = uml_etext = UML_START;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx %c %127s", &addr, &type, name) != 3 || !addr)
			continue;
		if (!strcmp(name, "_text"))
			uml_text = addr;
		else if (!strcmp(name, "start_kernel"))
			uml_start_kernel = addr;
		else if (!strcmp(name, "_etext"))
			uml_etext = addr;
	}
	fclose(f);
}

/* The attempts: each runs in a child, which exits 0 if it comes back. */

static void try_syscall(void)
{
	long ret;

	asm volatile("syscall"
		     : "=a"(ret)
		     : "a"((long)SYS_open), "D"(mark_syscall),
		       "S"((long)(O_CREAT | O_WRONLY)), "d"(0644L)
		     : "rcx", "r11", "memory");
	printf("# syscall: open returned %ld\n", ret);
}

/*
 * int $0x80 in 64-bit mode: i386 creat() for a host; the 64-bit
 * registers make it a harmless lseek(-1, 0, 0) for a kernel that reads
 * it as a 64-bit call (UML does).
 */
static void try_int80(void)
{
	long ret;

	asm volatile("int $0x80"
		     : "=a"(ret)
		     : "a"(8L), "b"(mark_int80), "c"(0644L), "D"(-1L),
		       "S"(0L), "d"(0L)
		     : "r8", "r9", "r10", "r11", "memory");
	printf("# int80: returned %ld\n", ret);
}

static void try_sysenter(void)
{
	asm volatile("movq %0, %%rbp\n\t"
		     "sysenter\n\t"
		     "ud2"
		     :
		     : "r"(&stack32[512]), "a"(8L), "b"(mark_sysenter),
		       "c"(0644L), "D"(-1L), "S"(0L), "d"(0L)
		     : "rbp", "memory");
}

/* A far jump into 32-bit code, with DS and ES that it can use. */
static void __attribute__((noinline)) try_far32_int80(void)
{
	asm volatile("movq %%rsp, %%r12\n\t"
		     "movq %0, %%rsp\n\t"
		     "movl $0x2b, %%eax\n\t"
		     "movl %%eax, %%ds\n\t"
		     "movl %%eax, %%es\n\t"
		     "ljmpl *far32_to_int80(%%rip)\n"
		     "far32_back:\n\t"
		     "movq %%r12, %%rsp"
		     :
		     : "r"(&stack32[1024])
		     : "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9",
		       "r10", "r11", "r12", "memory", "cc");
	printf("# far32-int80: returned %d\n", far32_int80_ret);
}

static void try_far32_syscall(void)
{
	asm volatile("movq %0, %%rsp\n\t"
		     "movl $0x2b, %%eax\n\t"
		     "movl %%eax, %%ds\n\t"
		     "movl %%eax, %%es\n\t"
		     "ljmpl *far32_to_syscall(%%rip)"
		     :
		     : "r"(&stack32[512])
		     : "rax", "memory");
}

static void try_far_ldt(void)
{
	asm volatile("ljmpl *far32_to_ldt(%%rip)" : : : "memory");
}

static void jump_to(unsigned long addr)
{
	((void (*)(void))addr)();
}

static void read_at(unsigned long addr)
{
	const volatile unsigned char *p = (const void *)addr;
	unsigned char buf[16];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = p[i];
	printf("# read 0x%lx:", addr);
	for (size_t i = 0; i < sizeof(buf); i++)
		printf(" %02x", buf[i]);
	printf("\n");
}

static void try_jump_stub(void)
{
	jump_to(STUB_CODE);
}

static void try_read_stub_code(void)
{
	read_at(STUB_CODE);
}

static void try_read_stub_data(void)
{
	read_at(STUB_DATA);
}

static void try_read_text(void)
{
	read_at(uml_start_kernel);
}

static void try_read_rodata(void)
{
	read_at((uml_etext + 0xfff) & ~0xfffUL);
}

static sigjmp_buf probe_env;

static void probe_fault(int sig __attribute__((unused)))
{
	siglongjmp(probe_env, 1);
}

/*
 * One byte in every IMAGE_STEP of UML's image and beyond, with a SIGSEGV
 * handler that goes on to the next: returns (the child exits 0) only if
 * every read faulted.
 */
static void try_sweep_image(void)
{
	struct sigaction sa = { .sa_handler = probe_fault };
	unsigned long end = uml_etext + IMAGE_TAIL;
	volatile unsigned long addr, probes = 0, faults = 0;

	sigaction(SIGSEGV, &sa, NULL);
	for (addr = uml_text & ~(IMAGE_STEP - 1); addr < end; addr += IMAGE_STEP) {
		probes++;
		if (sigsetjmp(probe_env, 1)) {
			faults++;
			continue;
		}
		read_at(addr);
	}
	printf("# %lu reads from 0x%lx to 0x%lx, %lu faulted\n",
	       probes, uml_text, end, faults);
	if (faults != probes)
		exit(1);
}

static void try_jump_start_kernel(void)
{
	jump_to(uml_start_kernel);
}

static void try_vsyscall(void)
{
	long ret = ((long (*)(long *))VSYSCALL_TIME)(NULL);

	printf("# vsyscall time(): %ld\n", ret);
}

/*
 * Run one attempt in a child; return its wait status (-1 if it cannot
 * be run) and describe it in how.
 */
static int attempt(const char *name, void (*fn)(void), char *how, size_t len)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		snprintf(how, len, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		fn();
		fflush(stdout);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid) {
		snprintf(how, len, "waitpid: %s", strerror(errno));
		return -1;
	}
	if (WIFSIGNALED(status))
		snprintf(how, len, "killed by %s", strsignal(WTERMSIG(status)));
	else
		snprintf(how, len, "exited %d", WEXITSTATUS(status));
	printf("# %s: %s\n", name, how);
	return status;
}

static int killed_by(int status, int sig)
{
	return status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == sig;
}

static int exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static const struct {
	const char *name;
	void (*fn)(void);
	const char *mark;
} calls[] = {
	{ "syscall", try_syscall, mark_syscall },
	{ "int80", try_int80, mark_int80 },
	{ "sysenter", try_sysenter, mark_sysenter },
	{ "far32-int80", try_far32_int80, mark_far32_int80 },
	{ "far32-syscall", try_far32_syscall, mark_far32_syscall },
};

static const struct {
	const char *what;
	void (*fn)(void);
} faults[] = {
	{ "a jump to the stub's code page of ptrace mode", try_jump_stub },
	{ "a read of the stub's code page", try_read_stub_code },
	{ "a read of the stub's data page", try_read_stub_data },
	{ "a read of UML's text (start_kernel)", try_read_text },
	{ "a read of UML's read-only data (after _etext)", try_read_rodata },
	{ "a jump to UML's start_kernel", try_jump_start_kernel },
	{ "a call into the host's vsyscall page", try_vsyscall },
	{ "a far jump to an LDT selector", try_far_ldt },
};

int main(int argc, char **argv)
{
	int native = argc == 2 && !strcmp(argv[1], "--native");
	char how[128];
	int pipefd[2];
	size_t i;

	if (argc > 1 && !native) {
		fprintf(stderr, "usage: uml-escape [--native]\n");
		return 2;
	}
	if (mkdir(MARKS, 0755) && errno != EEXIST) {
		perror("uml-escape: mkdir " MARKS);
		return 1;
	}
	if (native) {
		for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
			attempt(calls[i].name, calls[i].fn, how, sizeof(how));
		return 0;
	}

	read_kallsyms();
	printf("# UML's _text 0x%lx, start_kernel 0x%lx, _etext 0x%lx\n",
	       uml_text, uml_start_kernel, uml_etext);

	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		int status = attempt(calls[i].name, calls[i].fn, how, sizeof(how));

		printf("# %s: UML's %s %s\n", calls[i].name, calls[i].mark,
		       exists(calls[i].mark) ? "exists" : "does not exist");
		if (i == 0)
			CHECK(status == 0 && exists(mark_syscall),
			      "the syscall instruction is UML's system call (%s)", how);
	}

	for (i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
		int status = attempt(faults[i].what, faults[i].fn, how, sizeof(how));

		CHECK(killed_by(status, SIGSEGV), "%s is SIGSEGV (%s)",
		      faults[i].what, how);
	}

	{
		int status = attempt("a sweep of UML's image", try_sweep_image,
				     how, sizeof(how));

		CHECK(status == 0,
		      "reads of UML's image, one every 64 KiB from _text to 8 MiB past _etext, all fault (%s)",
		      how);
	}

	if (pipe(pipefd) == 0) {
		CHECK_ERR(write(pipefd[1], (void *)uml_etext, 16), EFAULT,
			  "write() of UML's read-only data to a pipe is EFAULT");
		close(pipefd[0]);
		close(pipefd[1]);
	} else {
		CHECK(0, "pipe");
	}
	{
		/* A flat 32-bit code segment of one's own */
		struct user_desc desc = {
			.limit = 0xfffff,
			.seg_32bit = 1,
			.contents = MODIFY_LDT_CONTENTS_CODE,
			.limit_in_pages = 1,
			.useable = 1,
		};

		CHECK_ERR(syscall(SYS_modify_ldt, 1, &desc, sizeof(desc)), ENOSYS,
			  "modify_ldt() is ENOSYS: no LDT segment of one's own");
	}
	return tap_done();
}
