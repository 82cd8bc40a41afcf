// SPDX-License-Identifier: GPL-2.0
/*
 * Escape tests, as the ordinary user the module is meant for: guest code
 * cannot make a host system call by any entry path, reach the caller's
 * memory, change the caller's registers or outlive its process; a user
 * handed another user's address space or vcpu gets that and nothing
 * more; and what the module lets a user hold counts against the user's
 * limits and memory cgroup.
 *
 * Started as root, every test drops to uid and gid TEST_UID (65534,
 * nobody) with the device's group as its only supplementary group, as a
 * member of the group module/60-unpriv.rules gives the device; the tests
 * that need two users use OTHER_UID (65533) as well, and the memory
 * cgroup tests set up their groups as root first.  Started as another
 * user, the tests run as that user, and those needing root skip.
 */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <cpuid.h>
#include <dirent.h>
#include <grp.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "unpriv_util.h"

#define TEST_UID	65534
#define OTHER_UID	65533

/*
 * Become uid (and gid) with the device's group as the only group.  Does
 * nothing when not root.  Returns 0 or -errno.
 */
static int become_user(uid_t uid)
{
	struct stat st;
	gid_t gid;

	if (geteuid() != 0)
		return 0;
	if (stat(UNPRIV_DEV, &st))
		return -errno;
	gid = st.st_gid;
	if (setgroups(1, &gid) || setresgid(uid, uid, uid) ||
	    setresuid(uid, uid, uid))
		return -errno;
	/* As any process a user starts (setuid made this one undumpable). */
	return prctl(PR_SET_DUMPABLE, 1) ? -errno : 0;
}

/*
 * Why the tests cannot run as an ordinary user, or NULL when they can:
 * as root, the device must be open to a group other than root's.
 */
static const char *no_user_setup(void)
{
	struct stat st;

	if (stat(UNPRIV_DEV, &st))
		return UNPRIV_DEV " is not there: is the unpriv module loaded?";
	if (geteuid() != 0)
		return access(UNPRIV_DEV, R_OK | W_OK) ?
		       "this user may not use " UNPRIV_DEV : NULL;
	if (st.st_gid == 0 || (st.st_mode & 0060) != 0060)
		return UNPRIV_DEV " is open to no group: install module/60-unpriv.rules";
	return NULL;
}

/*
 * In a FIXTURE_SETUP: skip unless the test can run as an ordinary user
 * (see GUEST_SETUP() for why _exit), then become it.
 */
#define BECOME_USER_IN_SETUP(uid)					\
	do {								\
		const char *__why = no_user_setup();			\
									\
		if (__why)						\
			SKIP(_exit(UNPRIV_SKIP_STATUS), "%s", __why);			\
		ASSERT_EQ(0, become_user(uid));				\
		ASSERT_NE(0, geteuid());				\
	} while (0)

#define REQUIRE_ROOT()							\
	do {								\
		if (geteuid() != 0)					\
			SKIP(return, "needs root to act as two users");	\
	} while (0)

/* ===== the device ===== */

/* 0660, its group's: members may open it, other users may not. */
TEST(only_members_of_the_devices_group_may_open_it)
{
	const char *why = no_user_setup();
	struct stat st;
	int status, fd;
	pid_t pid;

	if (why)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, stat(UNPRIV_DEV, &st));
	EXPECT_EQ(S_IFCHR | 0660, st.st_mode);
	EXPECT_EQ(0, st.st_uid);
	EXPECT_NE(0, st.st_gid);
	if (geteuid() != 0)
		SKIP(return, "needs root to try as a user outside the group");

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Not in the group: refused. */
		if (setgroups(0, NULL) || setresgid(TEST_UID, TEST_UID, TEST_UID) ||
		    setresuid(TEST_UID, TEST_UID, TEST_UID))
			_exit(1);
		fd = unpriv_open();
		_exit(fd < 0 && errno == EACCES ? 0 : 2);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, status);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (become_user(TEST_UID))
			_exit(1);
		fd = unpriv_open();
		_exit(fd >= 0 && ioctl(fd, UNPRIV_GET_API_VERSION, 0) ==
		      UNPRIV_API_VERSION ? 0 : 2);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, status);
}

/* ===== no host system call, by any entry path ===== */

/*
 * Each guest tries to create the file whose name is at GUEST_DATA_ADDR,
 * by one entry path, and when its system call returns, tries again.
 */
#define O_WRONLY_CREAT	"0x41"
#define MODE_0666	"0x1b6"

GUEST_CODE(try_openat,
	"1: mov $257, %eax\n"			/* openat */
	"mov $-100, %rdi\n"			/* AT_FDCWD */
	"mov $0x200000, %rsi\n"
	"mov $" O_WRONLY_CREAT ", %edx\n"
	"mov $" MODE_0666 ", %r10d\n"
	"syscall\n"
	"jmp 1b\n");

GUEST_CODE(try_creat,
	"1: mov $85, %eax\n"			/* creat */
	"mov $0x200000, %edi\n"
	"mov $" MODE_0666 ", %esi\n"
	"syscall\n"
	"jmp 1b\n");

GUEST_CODE(try_x32_creat,
	"1: mov $0x40000055, %eax\n"		/* __X32_SYSCALL_BIT | creat */
	"mov $0x200000, %edi\n"
	"mov $" MODE_0666 ", %esi\n"
	"syscall\n"
	"jmp 1b\n");

GUEST_CODE(try_int80,
	"1: mov $8, %eax\n"			/* i386 creat */
	"mov $0x200000, %ebx\n"
	"mov $" MODE_0666 ", %ecx\n"
	"int $0x80\n"
	"jmp 1b\n");

GUEST_CODE(try_compat_int80,
	".code32\n"
	"1: mov $8, %eax\n"
	"mov $0x200000, %ebx\n"
	"mov $" MODE_0666 ", %ecx\n"
	"int $0x80\n"
	"jmp 1b\n"
	".code64\n");

/* The fast 32-bit entries keep no return address: one try each. */
GUEST_CODE(try_compat_sysenter,
	".code32\n"
	"mov $8, %eax\n"
	"mov $0x200000, %ebx\n"
	"mov $" MODE_0666 ", %ecx\n"
	"mov %esp, %ebp\n"
	"sysenter\n"
	".code64\n");

GUEST_CODE(try_compat_syscall,
	".code32\n"
	"mov $8, %eax\n"
	"mov $0x200000, %ebx\n"
	"mov $" MODE_0666 ", %ebp\n"		/* 32-bit syscall: arg 2 in ebp */
	"syscall\n"
	".code64\n");

GUEST_CODE(try_sysenter_in_64bit_mode,
	"mov $8, %eax\n"
	"mov $0x200000, %ebx\n"
	"mov $" MODE_0666 ", %ecx\n"
	"mov %rsp, %rbp\n"
	"sysenter\n");

/* A far jump from 64-bit code to 32-bit code, which then int $0x80s. */
GUEST_CODE(try_far_jump_then_int80,
	"lea 1f(%rip), %rax\n"
	"mov $0x200800, %rbx\n"
	"mov %eax, (%rbx)\n"
	"movw $0x23, 4(%rbx)\n"
	"ljmpl *(%rbx)\n"
	"1:\n"
	".code32\n"
	"mov $8, %eax\n"
	"mov $0x200000, %ebx\n"
	"mov $" MODE_0666 ", %ecx\n"
	"int $0x80\n"
	"jmp 1b\n"
	".code64\n");

FIXTURE(entry) {
	struct guest g;
	char path[64];
};

FIXTURE_VARIANT(entry) {
	const char *start, *end;
	__u16 cs;
	__u64 nr;
	__u32 compat, insn;
	bool fast32;		/* no return: one try, or an invalid opcode */
};

FIXTURE_VARIANT_ADD(entry, openat) {
	.start = try_openat_start, .end = try_openat_end, .cs = UNPRIV_CS_64,
	.nr = 257, .compat = 0, .insn = UNPRIV_SYSCALL_INSN_SYSCALL,
};

FIXTURE_VARIANT_ADD(entry, creat) {
	.start = try_creat_start, .end = try_creat_end, .cs = UNPRIV_CS_64,
	.nr = 85, .compat = 0, .insn = UNPRIV_SYSCALL_INSN_SYSCALL,
};

FIXTURE_VARIANT_ADD(entry, x32_creat) {
	.start = try_x32_creat_start, .end = try_x32_creat_end, .cs = UNPRIV_CS_64,
	.nr = 0x40000055, .compat = 0, .insn = UNPRIV_SYSCALL_INSN_SYSCALL,
};

FIXTURE_VARIANT_ADD(entry, int80) {
	.start = try_int80_start, .end = try_int80_end, .cs = UNPRIV_CS_64,
	.nr = 8, .compat = 1, .insn = UNPRIV_SYSCALL_INSN_INT80,
};

FIXTURE_VARIANT_ADD(entry, compat_int80) {
	.start = try_compat_int80_start, .end = try_compat_int80_end, .cs = UNPRIV_CS_32,
	.nr = 8, .compat = 1, .insn = UNPRIV_SYSCALL_INSN_INT80,
};

FIXTURE_VARIANT_ADD(entry, far_jump_then_int80) {
	.start = try_far_jump_then_int80_start,
	.end = try_far_jump_then_int80_end, .cs = UNPRIV_CS_64,
	.nr = 8, .compat = 1, .insn = UNPRIV_SYSCALL_INSN_INT80,
};

FIXTURE_VARIANT_ADD(entry, compat_sysenter) {
	.start = try_compat_sysenter_start, .end = try_compat_sysenter_end, .cs = UNPRIV_CS_32,
	.nr = 8, .compat = 1, .insn = UNPRIV_SYSCALL_INSN_FAST32,
	.fast32 = true,
};

FIXTURE_VARIANT_ADD(entry, compat_syscall) {
	.start = try_compat_syscall_start, .end = try_compat_syscall_end, .cs = UNPRIV_CS_32,
	.nr = 8, .compat = 1, .insn = UNPRIV_SYSCALL_INSN_FAST32,
	.fast32 = true,
};

FIXTURE_VARIANT_ADD(entry, sysenter_in_64bit_mode) {
	.start = try_sysenter_in_64bit_mode_start,
	.end = try_sysenter_in_64bit_mode_end, .cs = UNPRIV_CS_64,
	.nr = 8, .compat = 1, .insn = UNPRIV_SYSCALL_INSN_FAST32,
	.fast32 = true,
};

FIXTURE_SETUP(entry)
{
	int fd;

	self->path[0] = 0;
	BECOME_USER_IN_SETUP(TEST_UID);
	GUEST_SETUP(&self->g);
	snprintf(self->path, sizeof(self->path), "/tmp/unpriv-escape.%d",
		 getpid());
	/* The user can create it: only the guest cannot. */
	fd = open(self->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	ASSERT_LE(0, fd) TH_LOG("%s: %m", self->path);
	close(fd);
	ASSERT_EQ(0, unlink(self->path));
	ASSERT_EQ(strlen(self->path) + 1,
		  pwrite(self->g.mem, self->path, strlen(self->path) + 1,
			 GUEST_DATA_OFF));
	ASSERT_EQ(0, guest_load(&self->g, variant->start,
				variant->end - variant->start));
	self->g.run->regs.cs = variant->cs;
	self->g.run->regs.rsp = GUEST_STACK_TOP - 64;
}

FIXTURE_TEARDOWN(entry)
{
	if (self->path[0])
		unlink(self->path);
	guest_destroy(&self->g);
}

TEST_F(entry, guest_cannot_create_a_file)
{
	struct unpriv_run *run = self->g.run;
	struct stat st;
	int i;

	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, guest_run(&self->g));
		if (variant->fast32 && run->exit_reason == UNPRIV_EXIT_TRAP) {
			/* A CPU without this entry: an invalid opcode. */
			EXPECT_EQ(6, run->trap.trap);
		} else {
			ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason)
				TH_LOG("exit %u at %#llx", run->exit_reason,
				       run->regs.rip);
			EXPECT_EQ(variant->nr, run->syscall.nr);
			EXPECT_EQ(GUEST_DATA_ADDR,
				  run->syscall.args[variant->nr == 257 ? 1 : 0]);
			EXPECT_EQ(variant->compat, run->syscall.compat);
			EXPECT_EQ(variant->insn, run->syscall.insn);
		}
		EXPECT_EQ(-1, stat(self->path, &st));
		EXPECT_EQ(ENOENT, errno);
		if (variant->fast32)
			break;
		/* The guest's call fails; it tries again. */
		run->regs.rax = -EPERM;
	}
}

/* ===== the administrator's knobs ===== */

/*
 * Spins until the data page's word at +0x800 is set, then tries
 * openat(AT_FDCWD, <path at the data page>, O_WRONLY|O_CREAT, 0666), and
 * again, forever.
 */
GUEST_CODE(try_openat_when_told,
	"1: cmpq $0, 0x200800\n"
	"je 1b\n"
	"mov $257, %eax\n"
	"mov $-100, %rdi\n"
	"mov $0x200000, %esi\n"
	"mov $0x41, %edx\n"
	"mov $" MODE_0666 ", %r10d\n"
	"syscall\n"
	"jmp 1b\n");

static int write_sysctl(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n < 0 ? -errno : 0;
}

#define FTRACE_ENABLED "/proc/sys/kernel/ftrace_enabled"

/*
 * With kernel.ftrace_enabled=0 every ftrace_ops is skipped, the module's
 * redirects included: a guest's system call would run on the host.  The
 * sysctl must be refused while the module is loaded.  Should it be
 * accepted, ftrace goes back on after a moment, so that the guest's next
 * call ends the run and the test can tell what happened.
 */
TEST(turning_ftrace_off_is_refused_while_a_guest_runs)
{
	struct guest g;
	struct guest_runner r = { .g = &g };
	char path[64];
	__u64 go = 1;
	struct stat st;
	pthread_t t;
	int ret;

	REQUIRE_UNPRIV();
	if (geteuid() != 0)
		SKIP(return, "needs root to write " FTRACE_ENABLED);
	if (access(FTRACE_ENABLED, W_OK))
		SKIP(return, FTRACE_ENABLED ": %m");
	snprintf(path, sizeof(path), "/tmp/unpriv-escape-ftrace.%d", getpid());
	unlink(path);
	ASSERT_EQ(0, GUEST_MAKE(&g, try_openat_when_told));
	ASSERT_EQ(strlen(path) + 1,
		  pwrite(g.mem, path, strlen(path) + 1, GUEST_DATA_OFF));
	g.run->regs.rsp = GUEST_STACK_TOP - 64;

	ASSERT_EQ(0, pthread_create(&t, NULL, guest_run_thread, &r));
	sleep_ms(100);		/* the guest spins */
	ret = write_sysctl(FTRACE_ENABLED, "0\n");
	ASSERT_EQ(sizeof(go), pwrite(g.mem, &go, sizeof(go),
				     GUEST_DATA_OFF + 0x800));
	if (!ret) {
		sleep_ms(100);	/* what would the guest do now? */
		write_sysctl(FTRACE_ENABLED, "1\n");
	}
	pthread_join(t, NULL);

	EXPECT_EQ(-EBUSY, ret);
	ASSERT_EQ(0, r.ret);
	EXPECT_EQ(UNPRIV_EXIT_SYSCALL, g.run->exit_reason);
	EXPECT_EQ(257, g.run->syscall.nr);
	EXPECT_EQ(-1, stat(path, &st)) {
		unlink(path);
		TH_LOG("the guest created %s", path);
	}
	guest_destroy(&g);
}

/* ===== the caller's memory ===== */

static volatile uint64_t host_data = 0x0da7a0da7a0da7aULL;

GUEST_CODE(guest_load_rdi, "mov (%rdi), %rax\nmov $1, %eax\nsyscall\n");
GUEST_CODE(guest_read_rdi_and_report,
	"mov (%rdi), %rdi\n"
	"mov $39, %eax\n"
	"syscall\n");
GUEST_CODE(guest_store_rdi, "movq $0x666, (%rdi)\nmov $1, %eax\nsyscall\n");
GUEST_CODE(guest_jump_rdi, "jmp *%rdi\n");

static void host_function(void)
{
}

FIXTURE(user) {
	struct guest g;
};

FIXTURE_SETUP(user)
{
	BECOME_USER_IN_SETUP(TEST_UID);
	GUEST_SETUP(&self->g);
}

FIXTURE_TEARDOWN(user)
{
	guest_destroy(&self->g);
}

/* A guest access to addr: a fault exit there, of the given kind. */
static void expect_fault_at(struct __test_metadata *_metadata,
			    struct guest *g, const char *code, size_t size,
			    uint64_t addr, bool fetch)
{
	struct unpriv_run *run = g->run;

	ASSERT_EQ(0, guest_load(g, code, size));
	run->regs.rdi = addr;
	ASSERT_EQ(0, guest_run(g));
	ASSERT_EQ(UNPRIV_EXIT_FAULT, run->exit_reason)
		TH_LOG("exit %u at %#llx for %#lx", run->exit_reason,
		       run->regs.rip, (unsigned long)addr);
	EXPECT_EQ(addr, run->fault.address);
	EXPECT_EQ(SIGSEGV, run->fault.signo);
	EXPECT_EQ(SEGV_MAPERR, run->fault.si_code);
	EXPECT_EQ(fetch, !!(run->fault.error_code & 0x10));
	if (fetch)
		EXPECT_EQ(addr, run->regs.rip);
}

TEST_F(user, guest_cannot_read_write_or_run_the_callers_memory)
{
	volatile uint64_t stack_data = 0x57ac57ac57ac57acULL;
	volatile uint64_t *heap = malloc(64);
	volatile uint64_t *page = mmap(NULL, GUEST_PAGE, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct {
		const char *what;
		volatile uint64_t *addr;
	} host[] = {
		{ "data", &host_data },
		{ "stack", &stack_data },
		{ "heap", heap },
		{ "mmap", page },
		{ "code", (volatile uint64_t *)host_function },
	};
	uint64_t buf;
	unsigned int i;

	ASSERT_NE(NULL, heap);
	ASSERT_NE(MAP_FAILED, page);
	*heap = 0x4ea94ea94ea94ea9ULL;
	*page = 0x9a9e9a9e9a9e9a9eULL;

	for (i = 0; i < ARRAY_SIZE(host); i++) {
		uint64_t addr = (uintptr_t)host[i].addr;
		uint64_t before = *host[i].addr;
		struct unpriv_as_rw rw = {
			.addr = addr, .buf = (uintptr_t)&buf, .len = 8,
		};

		TH_LOG("host %s at %#lx", host[i].what, (unsigned long)addr);
		expect_fault_at(_metadata, &self->g, guest_load_rdi_start,
				GUEST_CODE_SIZE(guest_load_rdi), addr, false);
		expect_fault_at(_metadata, &self->g, guest_store_rdi_start,
				GUEST_CODE_SIZE(guest_store_rdi), addr, false);
		expect_fault_at(_metadata, &self->g, guest_jump_rdi_start,
				GUEST_CODE_SIZE(guest_jump_rdi), addr, true);
		EXPECT_EQ(before, *host[i].addr);
		/* Nor through the address-space fd. */
		EXPECT_EQ(-1, ioctl(self->g.as, UNPRIV_AS_RW, &rw));
		EXPECT_EQ(EIO, errno);
	}
	munmap((void *)page, GUEST_PAGE);
	free((void *)heap);
}

/* The same address in the guest is the guest's own memory. */
TEST_F(user, a_guest_page_at_a_callers_address_is_the_guests_own)
{
	uint64_t addr = (uintptr_t)&host_data;
	uint64_t page = addr & ~(GUEST_PAGE - 1);
	uint64_t guest_value = 0x6a6a6a6a6a6a6a6aULL, seen;
	struct unpriv_run *run = self->g.run;

	ASSERT_EQ(sizeof(guest_value),
		  pwrite(self->g.mem, &guest_value, sizeof(guest_value),
			 GUEST_DATA_OFF + (addr - page)));
	ASSERT_EQ(0, guest_map(&self->g, page, GUEST_PAGE, GUEST_DATA_OFF,
			       UNPRIV_PROT_READ | UNPRIV_PROT_WRITE));

	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_read_rdi_and_report));
	run->regs.rdi = addr;
	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
	EXPECT_EQ(guest_value, run->syscall.args[0]);

	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_store_rdi));
	run->regs.rdi = addr;
	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);

	EXPECT_EQ(0x0da7a0da7a0da7aULL, host_data);
	ASSERT_EQ(sizeof(seen), pread(self->g.mem, &seen, sizeof(seen),
				      GUEST_DATA_OFF + (addr - page)));
	EXPECT_EQ(0x666, seen);
}

/* ===== the caller's registers ===== */

/* What the caller holds across UNPRIV_RUN, as the SysV ABI lets it. */
struct host_fp {
	uint64_t xmm[16][2];
	uint32_t mxcsr;
	uint16_t fcw;
	uint16_t pad;
	double st0;
};

/*
 * UNPRIV_RUN with the caller's xmm0-15, MXCSR, x87 control word and an
 * x87 stack entry from in; out gets what the caller has after it.
 */
static long run_keeping_fp(struct guest *g, const struct host_fp *in,
			   struct host_fp *out)
{
	long ret;

	asm volatile("movdqu 0x00(%[in]), %%xmm0\n\t"
		"movdqu 0x10(%[in]), %%xmm1\n\t"
		"movdqu 0x20(%[in]), %%xmm2\n\t"
		"movdqu 0x30(%[in]), %%xmm3\n\t"
		"movdqu 0x40(%[in]), %%xmm4\n\t"
		"movdqu 0x50(%[in]), %%xmm5\n\t"
		"movdqu 0x60(%[in]), %%xmm6\n\t"
		"movdqu 0x70(%[in]), %%xmm7\n\t"
		"movdqu 0x80(%[in]), %%xmm8\n\t"
		"movdqu 0x90(%[in]), %%xmm9\n\t"
		"movdqu 0xa0(%[in]), %%xmm10\n\t"
		"movdqu 0xb0(%[in]), %%xmm11\n\t"
		"movdqu 0xc0(%[in]), %%xmm12\n\t"
		"movdqu 0xd0(%[in]), %%xmm13\n\t"
		"movdqu 0xe0(%[in]), %%xmm14\n\t"
		"movdqu 0xf0(%[in]), %%xmm15\n\t"
		"ldmxcsr 0x100(%[in])\n\t"
		"fldcw 0x104(%[in])\n\t"
		"fldl 0x108(%[in])\n\t"
		"syscall\n\t"
		"fstpl 0x108(%[out])\n\t"
		"fnstcw 0x104(%[out])\n\t"
		"stmxcsr 0x100(%[out])\n\t"
		"movdqu %%xmm0, 0x00(%[out])\n\t"
		"movdqu %%xmm1, 0x10(%[out])\n\t"
		"movdqu %%xmm2, 0x20(%[out])\n\t"
		"movdqu %%xmm3, 0x30(%[out])\n\t"
		"movdqu %%xmm4, 0x40(%[out])\n\t"
		"movdqu %%xmm5, 0x50(%[out])\n\t"
		"movdqu %%xmm6, 0x60(%[out])\n\t"
		"movdqu %%xmm7, 0x70(%[out])\n\t"
		"movdqu %%xmm8, 0x80(%[out])\n\t"
		"movdqu %%xmm9, 0x90(%[out])\n\t"
		"movdqu %%xmm10, 0xa0(%[out])\n\t"
		"movdqu %%xmm11, 0xb0(%[out])\n\t"
		"movdqu %%xmm12, 0xc0(%[out])\n\t"
		"movdqu %%xmm13, 0xd0(%[out])\n\t"
		"movdqu %%xmm14, 0xe0(%[out])\n\t"
		"movdqu %%xmm15, 0xf0(%[out])\n\t"
		"ldmxcsr %[mxcsr]\n\t"
		"fldcw %[fcw]\n\t"
		: "=a"(ret)
		: "0"((long)SYS_ioctl), "D"((long)g->vcpu),
		  "S"((long)UNPRIV_RUN), "d"((long)g->as), [in] "r"(in),
		  [out] "r"(out), [mxcsr] "m"((uint32_t){ 0x1f80 }),
		  [fcw] "m"((uint16_t){ 0x37f })
		: "rcx", "r11", "memory", "xmm0", "xmm1", "xmm2", "xmm3",
		  "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
		  "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "st");
	return ret;
}

/*
 * The guest sets every xmm register, MXCSR (round toward zero, flush to
 * zero), the x87 control word and stack; with bit 0 of rdi, FS and GS
 * base (wrfsbase needs FSGSBASE); with bit 1, PKRU (needs OSPKE).
 */
GUEST_CODE(guest_set_all_it_can,
	"mov $0x7f807f807f807f80, %rax\n"
	"movq %rax, %xmm0\n"
	"pshufd $0, %xmm0, %xmm0\n"
	"movdqa %xmm0, %xmm1\n movdqa %xmm0, %xmm2\n movdqa %xmm0, %xmm3\n"
	"movdqa %xmm0, %xmm4\n movdqa %xmm0, %xmm5\n movdqa %xmm0, %xmm6\n"
	"movdqa %xmm0, %xmm7\n movdqa %xmm0, %xmm8\n movdqa %xmm0, %xmm9\n"
	"movdqa %xmm0, %xmm10\n movdqa %xmm0, %xmm11\n movdqa %xmm0, %xmm12\n"
	"movdqa %xmm0, %xmm13\n movdqa %xmm0, %xmm14\n movdqa %xmm0, %xmm15\n"
	"movl $0xff80, -4(%rsp)\n"
	"ldmxcsr -4(%rsp)\n"
	"fninit\n"
	"movw $0x07f, -6(%rsp)\n"
	"fldcw -6(%rsp)\n"
	"fldz\n fldz\n fldz\n fldz\n fldz\n fldz\n fldz\n fldz\n"
	"test $1, %dil\n"
	"jz 1f\n"
	"mov $0x123000, %rax\n"
	"wrfsbase %rax\n"
	"mov $0x456000, %rax\n"
	"wrgsbase %rax\n"
	"1: test $2, %dil\n"
	"jz 2f\n"
	"mov $0xfffffffc, %eax\n"
	"xor %ecx, %ecx\n"
	"xor %edx, %edx\n"
	"wrpkru\n"
	"2: mov $1, %eax\n"
	"syscall\n");

static bool cpu_has(unsigned int leaf7_reg, unsigned int bit)
{
	unsigned int a, b, c, d;

	__cpuid_count(7, 0, a, b, c, d);
	return (leaf7_reg == 'b' ? b : c) & (1U << bit);
}

static unsigned int rdpkru(void)
{
	unsigned int eax, edx;

	asm volatile("rdpkru" : "=a"(eax), "=d"(edx) : "c"(0));
	return eax;
}

static __thread volatile long tls_canary = 0x7157;

TEST_F(user, guest_cannot_change_the_callers_registers)
{
	bool fsgsbase = cpu_has('b', 0), pku = cpu_has('c', 4);
	unsigned long fs = 0, gs = 0, fs_after = 1, gs_after = 1;
	struct unpriv_run *run = self->g.run;
	unsigned int pkru = pku ? rdpkru() : 0;
	struct host_fp in, out;
	int i;

	for (i = 0; i < 16; i++) {
		in.xmm[i][0] = 0x1111111111111111ULL * (i + 1);
		in.xmm[i][1] = ~in.xmm[i][0];
	}
	in.mxcsr = 0x1f80 | 0x2000;	/* round down */
	in.fcw = 0x27f;			/* double precision */
	in.st0 = M_PI;
	memset(&out, 0, sizeof(out));
	ASSERT_EQ(0, syscall(SYS_arch_prctl, ARCH_GET_FS, &fs));
	ASSERT_EQ(0, syscall(SYS_arch_prctl, ARCH_GET_GS, &gs));

	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_set_all_it_can));
	run->regs.rdi = fsgsbase | pku << 1;
	ASSERT_EQ(0, run_keeping_fp(&self->g, &in, &out));
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason)
		TH_LOG("exit %u at %#llx", run->exit_reason, run->regs.rip);

	for (i = 0; i < 16; i++) {
		EXPECT_EQ(in.xmm[i][0], out.xmm[i][0]) TH_LOG("xmm%d", i);
		EXPECT_EQ(in.xmm[i][1], out.xmm[i][1]) TH_LOG("xmm%d", i);
	}
	EXPECT_EQ(in.mxcsr, out.mxcsr);
	EXPECT_EQ(in.fcw, out.fcw);
	EXPECT_EQ(M_PI, out.st0);

	ASSERT_EQ(0, syscall(SYS_arch_prctl, ARCH_GET_FS, &fs_after));
	ASSERT_EQ(0, syscall(SYS_arch_prctl, ARCH_GET_GS, &gs_after));
	EXPECT_EQ(fs, fs_after);
	EXPECT_EQ(gs, gs_after);
	EXPECT_EQ(0x7157, tls_canary);
	if (fsgsbase) {
		EXPECT_EQ(0x123000, run->regs.fs_base);
		EXPECT_EQ(0x456000, run->regs.gs_base);
	}
	if (pku)
		EXPECT_EQ(pkru, rdpkru());
}

/* ===== no guest outlives its process ===== */

/* How many open files, in all processes, are the module's. */
static int unpriv_files_open(void)
{
	char path[300], link[64];
	struct dirent *p, *f;
	DIR *procs, *fds;
	int n = 0;
	ssize_t len;

	procs = opendir("/proc");
	if (!procs)
		return -1;
	while ((p = readdir(procs))) {
		if (p->d_name[0] < '1' || p->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd", p->d_name);
		fds = opendir(path);
		if (!fds)
			continue;
		while ((f = readdir(fds))) {
			len = readlinkat(dirfd(fds), f->d_name, link,
					 sizeof(link) - 1);
			if (len <= 0)
				continue;
			link[len] = 0;
			if (strstr(link, "[unpriv-") || strstr(link, "/dev/unpriv"))
				n++;
		}
		closedir(fds);
	}
	closedir(procs);
	return n;
}

FIXTURE(end) {
};

FIXTURE_VARIANT(end) {
	bool on_a_second_thread;	/* the main thread waits meanwhile */
	bool exits;			/* the guest makes system calls */
};

FIXTURE_VARIANT_ADD(end, spinning_on_the_main_thread) {
};

FIXTURE_VARIANT_ADD(end, spinning_on_a_second_thread) {
	.on_a_second_thread = true,
};

FIXTURE_VARIANT_ADD(end, exiting_and_reentering) {
	.exits = true,
};

FIXTURE_SETUP(end)
{
	const char *why = no_user_setup();

	if (why)
		SKIP(_exit(UNPRIV_SKIP_STATUS), "%s", why);
	if (unpriv_module_refcnt() < 0)
		SKIP(_exit(UNPRIV_SKIP_STATUS), "no /sys/module/unpriv/refcnt");
}

FIXTURE_TEARDOWN(end)
{
}

static void *run_forever(void *arg)
{
	struct guest *g = arg;

	while (!guest_run(g))
		;
	return NULL;
}

static void guest_process(const struct _fixture_variant_end *variant,
			  int ready)
{
	static struct guest g;
	pthread_t t;

	if (become_user(TEST_UID) ||
	    (variant->exits ? GUEST_MAKE(&g, guest_count) :
			      GUEST_MAKE(&g, guest_spin)))
		_exit(1);
	if (write(ready, "r", 1) != 1)
		_exit(2);
	if (variant->on_a_second_thread) {
		if (pthread_create(&t, NULL, run_forever, &g))
			_exit(3);
		for (;;)
			pause();
	}
	run_forever(&g);
	_exit(4);
}

TEST_F(end, killing_the_process_ends_its_guest_and_frees_all)
{
	long before = unpriv_module_refcnt(), during, after = -1;
	int files = unpriv_files_open(), pipefd[2], status, i;
	char path[64], c;
	struct stat st;
	pid_t pid;

	ASSERT_EQ(0, pipe2(pipefd, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		guest_process(variant, pipefd[1]);
	close(pipefd[1]);
	ASSERT_EQ(1, read(pipefd[0], &c, 1));
	sleep_ms(200);

	/* /dev/unpriv, the space and the vcpu, and the thread in guest mode. */
	during = unpriv_module_refcnt();
	EXPECT_EQ(before + 3, during);
	EXPECT_EQ(files + 3, unpriv_files_open());
	ASSERT_EQ(0, waitpid(pid, &status, WNOHANG));

	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status)) TH_LOG("status %#x", status);
	EXPECT_EQ(SIGKILL, WTERMSIG(status));

	/* Nothing of it is left running or open. */
	snprintf(path, sizeof(path), "/proc/%d", pid);
	EXPECT_EQ(-1, stat(path, &st));
	for (i = 0; i < 50 && (after = unpriv_module_refcnt()) != before; i++)
		sleep_ms(100);
	EXPECT_EQ(before, after);
	EXPECT_EQ(files, unpriv_files_open());
	close(pipefd[0]);
}

/* ===== file descriptors handed to another user ===== */

static int send_fds(int sock, const int *fds, int n, const void *data,
		    size_t len)
{
	char control[CMSG_SPACE(4 * sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control, .msg_controllen = CMSG_SPACE(n * sizeof(int)),
	};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);

	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(n * sizeof(int));
	memcpy(CMSG_DATA(cmsg), fds, n * sizeof(int));
	return sendmsg(sock, &msg, 0) == (ssize_t)len ? 0 : -1;
}

static int recv_fds(int sock, int *fds, int n, void *data, size_t len)
{
	char control[CMSG_SPACE(4 * sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = data, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control, .msg_controllen = CMSG_SPACE(n * sizeof(int)),
	};
	struct cmsghdr *cmsg;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != (ssize_t)len)
		return -1;
	cmsg = CMSG_FIRSTHDR(&msg);
	if (!cmsg || cmsg->cmsg_type != SCM_RIGHTS ||
	    cmsg->cmsg_len != CMSG_LEN(n * sizeof(int)))
		return -1;
	memcpy(fds, CMSG_DATA(cmsg), n * sizeof(int));
	return 0;
}

/* What the sender tells the receiver, with its space and vcpu. */
struct handover {
	pid_t pid;
	uint64_t secret_addr;	/* of host_secret, in the sender's memory */
};

static volatile uint64_t host_secret = 0x5ec2e75ec2e75ec2ULL;

#define SHARED_MARK	0x5a5a5a5a00c0ffeeULL

/* The sender: makes a guest, hands its space and vcpu over, waits. */
static int sender(int sock)
{
	struct handover h = { .pid = getpid(),
			      .secret_addr = (uintptr_t)&host_secret };
	uint64_t mark = SHARED_MARK;
	struct guest g;
	char verdict;
	int fds[2];

	if (become_user(OTHER_UID) || GUEST_MAKE(&g, guest_spin))
		return 1;
	if (pwrite(g.mem, &mark, sizeof(mark), GUEST_DATA_OFF) != sizeof(mark))
		return 2;
	fds[0] = g.as;
	fds[1] = g.vcpu;
	if (send_fds(sock, fds, 2, &h, sizeof(h)))
		return 3;
	if (read(sock, &verdict, 1) != 1)
		return 4;
	/* The receiver ran the vcpu: its exit is in the shared run page. */
	if (g.run->exit_reason != UNPRIV_EXIT_SYSCALL || g.run->syscall.nr != 39)
		return 5;
	return host_secret == 0x5ec2e75ec2e75ec2ULL ? 0 : 6;
}

/*
 * The receiver, another user: it may run guest code in the space (its
 * own code, in memory it maps there itself) and sees what the sender
 * put into it; the sender's own memory stays out of reach.  Returns
 * the number of the first check that failed.
 */
static int receiver(int sock)
{
	struct unpriv_run *run;
	struct handover h;
	char path[64];
	int fds[2], mem, as, vcpu;
	uint64_t buf;
	struct unpriv_as_map map = {
		.addr = 0x500000, .len = GUEST_PAGE,
		.prot = UNPRIV_PROT_READ | UNPRIV_PROT_EXEC,
		.flags = UNPRIV_MAP_SHARED,
	};
	struct unpriv_as_rw rw = { .buf = (uintptr_t)&buf, .len = 8 };
	size_t size = GUEST_CODE_SIZE(guest_read_rdi_and_report);

	if (become_user(TEST_UID) || recv_fds(sock, fds, 2, &h, sizeof(h)))
		return 1;
	as = fds[0];
	vcpu = fds[1];
	run = mmap(NULL, UNPRIV_RUN_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		   vcpu, 0);
	if (run == MAP_FAILED)
		return 2;

	/* Its own code, in its own memory, mapped into the sender's space. */
	mem = memfd_create("receiver", MFD_CLOEXEC);
	if (mem < 0 || ftruncate(mem, GUEST_PAGE) ||
	    pwrite(mem, guest_read_rdi_and_report_start, size, 0) != (ssize_t)size)
		return 3;
	map.fd = mem;
	if (ioctl(as, UNPRIV_AS_MAP, &map))
		return 4;

	/* The sender's memory: a fault, and EIO through the space. */
	run->regs.rip = 0x500000;
	run->regs.rdi = h.secret_addr;
	if (ioctl(vcpu, UNPRIV_RUN, as) || run->exit_reason != UNPRIV_EXIT_FAULT ||
	    run->fault.address != h.secret_addr)
		return 5;
	rw.addr = h.secret_addr;
	if (ioctl(as, UNPRIV_AS_RW, &rw) != -1 || errno != EIO)
		return 6;

	/* What the sender put into the space: by design, readable. */
	run->regs.rip = 0x500000;
	run->regs.rdi = GUEST_DATA_ADDR;
	if (ioctl(vcpu, UNPRIV_RUN, as) || run->exit_reason != UNPRIV_EXIT_SYSCALL ||
	    run->syscall.nr != 39 || run->syscall.args[0] != SHARED_MARK)
		return 7;

	/* The users are apart as ever: no reading the sender's memory. */
	snprintf(path, sizeof(path), "/proc/%d/mem", h.pid);
	if (open(path, O_RDONLY) >= 0 || (errno != EACCES && errno != EPERM))
		return 8;
	return write(sock, "d", 1) == 1 ? 0 : 9;
}

TEST(fds_handed_to_another_user_give_that_space_and_vcpu_only)
{
	const char *why = no_user_setup();
	int sv[2], status;
	pid_t s, r;

	if (why)
		SKIP(return, "%s", why);
	REQUIRE_ROOT();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		SKIP(return, "no unix sockets: %m");

	s = fork();
	ASSERT_LE(0, s);
	if (s == 0)
		_exit(sender(sv[0]));
	r = fork();
	ASSERT_LE(0, r);
	if (r == 0)
		_exit(receiver(sv[1]));

	ASSERT_EQ(r, waitpid(r, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("receiver failed check %d",
						  WEXITSTATUS(status));
	if (status)
		kill(s, SIGKILL);
	ASSERT_EQ(s, waitpid(s, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("sender failed check %d",
						  WEXITSTATUS(status));
}

/* ===== ptrace and /proc: the host's answers, in guest mode too ===== */

/*
 * The victim: a process of TEST_UID that made its address space, then
 * made itself non-dumpable (as a program handling secrets does, or as
 * setuid makes it), and runs a guest that spins on its main thread.
 * Writes one byte to ready when the guest is about to run.
 */
static void nondumpable_victim(int ready)
{
	struct guest g;

	if (become_user(TEST_UID) || GUEST_MAKE(&g, guest_spin))
		_exit(1);
	if (prctl(PR_SET_DUMPABLE, 0))
		_exit(2);
	if (write(ready, "r", 1) != 1)
		_exit(3);
	guest_run(&g);
	_exit(4);
}

/*
 * The attacker: another process of the same user, dumpable, with no
 * capabilities.  Each way in to the victim's memory is a bit of its
 * exit status when it worked.
 */
static void same_user_attacker(pid_t victim)
{
	char path[64], buf[8];
	struct iovec local = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct iovec remote = { .iov_base = (void *)GUEST_CODE_ADDR,
				.iov_len = sizeof(buf) };
	int got = 0, fd;

	if (become_user(TEST_UID))
		_exit(0x80);
	if (!ptrace(PTRACE_ATTACH, victim, 0, 0)) {
		got |= 1;
		waitpid(victim, NULL, __WALL);
		ptrace(PTRACE_DETACH, victim, 0, 0);
	}
	snprintf(path, sizeof(path), "/proc/%d/mem", victim);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		got |= 2;
		close(fd);
	}
	if (process_vm_readv(victim, &local, 1, &remote, 1, 0) >= 0)
		got |= 4;
	snprintf(path, sizeof(path), "/proc/%d/environ", victim);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		got |= 8;
		close(fd);
	}
	_exit(got);
}

/* The kernel's own ptrace policy must not be the one saying no. */
static int yama_scope_zero(char *old, size_t size)
{
	int fd = open("/proc/sys/kernel/yama/ptrace_scope", O_RDWR | O_CLOEXEC);
	ssize_t n;

	old[0] = 0;
	if (fd < 0)
		return 0;
	n = read(fd, old, size - 1);
	old[n > 0 ? n : 0] = 0;
	n = pwrite(fd, "0\n", 2, 0);
	close(fd);
	return n == 2 ? 0 : -EPERM;
}

TEST(a_same_user_process_cannot_attach_to_a_nondumpable_guest_thread)
{
	int ready[2], status;
	pid_t victim, attacker;
	char scope[16], c;
	const char *why = no_user_setup();

	if (why)
		SKIP(return, "%s", why);
	REQUIRE_ROOT();
	ASSERT_EQ(0, yama_scope_zero(scope, sizeof(scope)));
	ASSERT_EQ(0, pipe2(ready, O_CLOEXEC));
	victim = fork();
	ASSERT_LE(0, victim);
	if (victim == 0)
		nondumpable_victim(ready[1]);
	close(ready[1]);
	ASSERT_EQ(1, read(ready[0], &c, 1));
	sleep_ms(200);		/* in guest mode, spinning */

	attacker = fork();
	ASSERT_LE(0, attacker);
	if (attacker == 0)
		same_user_attacker(victim);
	ASSERT_EQ(attacker, waitpid(attacker, &status, 0));
	kill(victim, SIGKILL);
	waitpid(victim, NULL, 0);
	if (scope[0]) {
		int fd = open("/proc/sys/kernel/yama/ptrace_scope", O_WRONLY);

		if (fd >= 0) {
			ASSERT_LT(0, write(fd, scope, strlen(scope)));
			close(fd);
		}
	}

	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status) & 1) TH_LOG("PTRACE_ATTACH worked");
	EXPECT_EQ(0, WEXITSTATUS(status) & 2) TH_LOG("/proc/PID/mem opened");
	EXPECT_EQ(0, WEXITSTATUS(status) & 4) TH_LOG("process_vm_readv worked");
	EXPECT_EQ(0, WEXITSTATUS(status) & 8) TH_LOG("/proc/PID/environ opened");
	EXPECT_EQ(0, WEXITSTATUS(status) & 0x80);
}

/*
 * A space made by a process whose mm belongs to a user namespace below
 * the runner's: its owner, holding every capability there, would hold
 * CAP_SYS_PTRACE over a thread running in it.  RUN refuses.
 *
 * The maker is this program executed again in a new user namespace (an
 * exec gives its mm that namespace), which the constructor below turns
 * into: make a space and send it back over the socket named by
 * MAKE_AS_SOCK.
 */
__attribute__((constructor)) static void make_as_and_send(void)
{
	const char *sock = getenv("MAKE_AS_SOCK");
	int dev, as;
	char c = 'a';

	if (!sock)
		return;
	dev = unpriv_open();
	as = dev < 0 ? -1 : ioctl(dev, UNPRIV_CREATE_AS, 0);
	if (as < 0 || send_fds(atoi(sock), &as, 1, &c, 1))
		_exit(1);
	_exit(0);
}

TEST(a_space_made_in_a_user_namespace_below_the_runners_is_refused)
{
	struct guest g;
	int sv[2], as, status, ret;
	char c, num[16];
	pid_t pid;

	REQUIRE_UNPRIV();
	if (geteuid() != 0)
		SKIP(return, "needs root to open " UNPRIV_DEV " from a new user namespace");
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(sv[0]);
		snprintf(num, sizeof(num), "%d", sv[1]);
		setenv("MAKE_AS_SOCK", num, 1);
		if (unshare(CLONE_NEWUSER))
			_exit(2);
		execl("/proc/self/exe", "make-as", (char *)NULL);
		_exit(3);
	}
	close(sv[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	if (WEXITSTATUS(status) == 2)
		SKIP(return, "no user namespaces here");
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(0, recv_fds(sv[0], &as, 1, &c, 1));

	ASSERT_EQ(0, GUEST_MAKE(&g, guest_spin));
	ret = ioctl(g.vcpu, UNPRIV_RUN, as) ? -errno : 0;
	EXPECT_EQ(-EPERM, ret);
	/* Its own space runs. */
	g.run->immediate_exit = 1;
	EXPECT_EQ(-EINTR, guest_run(&g));
	close(as);
	close(sv[0]);
	guest_destroy(&g);
}

/* ===== limits ===== */

static long read_mmap_min_addr(void)
{
	long min = -1;
	FILE *f = fopen("/proc/sys/vm/mmap_min_addr", "re");

	if (f) {
		if (fscanf(f, "%ld", &min) != 1)
			min = -1;
		fclose(f);
	}
	return min;
}

TEST_F(user, no_mapping_below_mmap_min_addr)
{
	long min = read_mmap_min_addr();

	if (min < (long)(2 * GUEST_PAGE))
		SKIP(return, "vm.mmap_min_addr is %ld", min);
	EXPECT_EQ(-1, guest_map(&self->g, 0, GUEST_PAGE, GUEST_DATA_OFF,
				UNPRIV_PROT_READ));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-1, guest_map(&self->g, min - GUEST_PAGE, GUEST_PAGE,
				GUEST_DATA_OFF, UNPRIV_PROT_READ));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(0, guest_map(&self->g, min, GUEST_PAGE, GUEST_DATA_OFF,
			       UNPRIV_PROT_READ));
}

/* Map len bytes of a sparse memfd into a new space; 0 or -errno. */
static int map_in_new_space(int dev, int mem, size_t len, int *as)
{
	struct unpriv_as_map map = {
		.addr = 0x10000000, .len = len, .fd = mem,
		.prot = UNPRIV_PROT_READ | UNPRIV_PROT_WRITE,
		.flags = UNPRIV_MAP_PRIVATE,
	};

	*as = ioctl(dev, UNPRIV_CREATE_AS, 0);
	if (*as < 0)
		return -errno;
	return ioctl(*as, UNPRIV_AS_MAP, &map) ? -errno : 0;
}

#define MIB	(1024UL * 1024)

/*
 * RLIMIT_AS bounds each address space's size as it bounds a process's
 * (the module maps with the caller's limits), not their sum.
 */
TEST_F(user, rlimit_as_bounds_each_address_space)
{
	struct rlimit rl = { 256 * MIB, 256 * MIB };
	int mem, as1, as2;

	mem = memfd_create("big", MFD_CLOEXEC);
	ASSERT_LE(0, mem);
	ASSERT_EQ(0, ftruncate(mem, 512 * MIB));
	ASSERT_EQ(0, setrlimit(RLIMIT_AS, &rl));

	EXPECT_EQ(-ENOMEM, map_in_new_space(self->g.dev, mem, 512 * MIB, &as1));
	close(as1);
	EXPECT_EQ(0, map_in_new_space(self->g.dev, mem, 192 * MIB, &as1));
	EXPECT_EQ(0, map_in_new_space(self->g.dev, mem, 192 * MIB, &as2));
	close(as1);
	close(as2);
	close(mem);
}

/*
 * Guest memory is never locked: even a process that asked for all its
 * future mappings to be (mlockall(MCL_FUTURE)), with no RLIMIT_MEMLOCK
 * left, maps and fills an address space.
 */
TEST_F(user, guest_memory_needs_no_rlimit_memlock)
{
	struct rlimit rl = { 64 * 1024, 64 * 1024 };
	struct unpriv_run *run = self->g.run;
	struct unpriv_as_map code = {
		.addr = GUEST_CODE_ADDR, .len = GUEST_PAGE, .fd = self->g.mem,
		.offset = GUEST_CODE_OFF,
		.prot = UNPRIV_PROT_READ | UNPRIV_PROT_EXEC,
		.flags = UNPRIV_MAP_SHARED,
	};
	void *p;
	int mem, as;

	mem = memfd_create("unlocked", MFD_CLOEXEC);
	ASSERT_LE(0, mem);
	ASSERT_EQ(0, ftruncate(mem, MIB));
	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_touch));
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &rl));
	ASSERT_EQ(0, mlockall(MCL_FUTURE));

	/* The limit bites on the process's own new memory. */
	p = mmap(NULL, MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EAGAIN, errno);

	ASSERT_EQ(0, map_in_new_space(self->g.dev, mem, MIB, &as));
	ASSERT_EQ(0, ioctl(as, UNPRIV_AS_MAP, &code));
	run->regs.rip = GUEST_CODE_ADDR;
	run->regs.rdi = 0x10000000;
	run->regs.rsi = MIB / GUEST_PAGE;
	ASSERT_EQ(0, ioctl(self->g.vcpu, UNPRIV_RUN, as));
	EXPECT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason)
		TH_LOG("exit %u at %#llx", run->exit_reason, run->regs.rip);
	munlockall();
	close(as);
	close(mem);
}

/* ===== memory cgroups ===== */

#define CHARGED_MIB	16

/*
 * Guest memory is charged to the memory cgroup of the process that
 * created the address space, wherever it is used from: a child in
 * another group that inherited the fds fills 16 MiB of it, and the
 * creator's group pays.  Vcpus are charged to whoever creates them.
 */
TEST(guest_memory_is_charged_to_the_creators_memory_cgroup)
{
	const char *why = no_user_setup();
	char cg1[128], cg2[128], c;
	int go[2], done[2], status, ret;
	long long base1, base2, after1, after2;
	pid_t creator, user;

	if (why)
		SKIP(return, "%s", why);
	if (geteuid() != 0)
		SKIP(return, "needs root to make memory cgroups");
	ret = cg_setup();
	if (ret)
		SKIP(return, "no memory cgroup controller: %s", strerror(-ret));
	ASSERT_EQ(0, cg_create(cg1, sizeof(cg1), "unpriv-creator"));
	ASSERT_EQ(0, cg_create(cg2, sizeof(cg2), "unpriv-user"));
	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(done, O_CLOEXEC));

	creator = fork();
	ASSERT_LE(0, creator);
	if (creator == 0) {
		static struct guest g;
		struct unpriv_as_map map = {
			.addr = 0x10000000, .len = CHARGED_MIB * MIB,
			.prot = UNPRIV_PROT_READ | UNPRIV_PROT_WRITE,
			.flags = UNPRIV_MAP_PRIVATE,
		};
		int vcpus[256], i;

		/* Wait to be put in cg1, make the space, fork the user. */
		if (read(go[0], &c, 1) != 1 || become_user(TEST_UID) ||
		    GUEST_MAKE(&g, guest_touch))
			_exit(1);
		map.fd = memfd_create("charged", MFD_CLOEXEC);
		if (map.fd < 0 || ftruncate(map.fd, CHARGED_MIB * MIB) ||
		    ioctl(g.as, UNPRIV_AS_MAP, &map))
			_exit(2);
		if (fork() == 0) {
			pid_t me = getpid();

			/* The user: reports, is moved to cg2, then runs. */
			if (write(done[1], &me, sizeof(me)) != sizeof(me) ||
			    read(go[0], &c, 1) != 1)
				_exit(3);
			g.run->regs.rdi = 0x10000000;
			g.run->regs.rsi = CHARGED_MIB * MIB / GUEST_PAGE;
			if (guest_run(&g) || g.run->exit_reason != UNPRIV_EXIT_SYSCALL)
				_exit(4);
			for (i = 0; i < 256; i++)
				vcpus[i] = ioctl(g.dev, UNPRIV_CREATE_VCPU, 0);
			if (write(done[1], &me, sizeof(me)) != sizeof(me))
				_exit(5);
			pause();
			_exit(vcpus[0]);
		}
		pause();
		_exit(0);
	}
	ASSERT_EQ(0, cg_enter(cg1, creator));
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(sizeof(user), read(done[0], &user, sizeof(user)));
	ASSERT_EQ(0, cg_enter(cg2, user));

	base1 = cg_read(cg1, "memory.current", NULL);
	base2 = cg_read(cg2, "memory.current", NULL);
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(sizeof(user), read(done[0], &user, sizeof(user)));
	after1 = cg_read(cg1, "memory.current", NULL);
	after2 = cg_read(cg2, "memory.current", NULL);
	TH_LOG("creator's group %lld -> %lld, user's %lld -> %lld",
	       base1, after1, base2, after2);

	/* The 16 MiB the guest touched, in the creator's group... */
	EXPECT_LE(base1 + CHARGED_MIB * (long long)MIB, after1);
	/* ...and the user's group: 256 vcpus (a run page each), page tables. */
	EXPECT_LE(base2 + 256 * 4096LL, after2);
	EXPECT_GT(base2 + 8 * (long long)MIB, after2);

	kill(user, SIGKILL);
	kill(creator, SIGKILL);
	ASSERT_EQ(creator, waitpid(creator, &status, 0));
	cg_remove(cg2);
	cg_remove(cg1);
}

/*
 * Wait a moment for the device's group: the module may just have been
 * loaded again (by another test program) and udev not yet be done.
 */
int main(int argc, char **argv)
{
	int i;

	for (i = 0; i < 20 && geteuid() == 0 && no_user_setup() &&
	     !access(UNPRIV_DEV, F_OK); i++)
		sleep_ms(100);
	return test_harness_run(argc, argv);
}
