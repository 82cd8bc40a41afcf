/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small library for the module's selftests: it hides the ABI plumbing
 * so that each test reads as a story.
 *
 * A test guest has one memfd as its physical memory, mapped into a fresh
 * address space as code (read+exec), data (read+write) and stack.  Guest
 * code is written in assembly with GUEST_CODE(), copied into the code
 * page, and entered at its first byte.
 */
#ifndef UNPRIV_UTIL_H
#define UNPRIV_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <linux/unpriv.h>

#define UNPRIV_DEV		"/dev/unpriv"

#define GUEST_PAGE		4096UL
#define GUEST_CODE_ADDR		0x100000UL	/* 1 page, r-x */
#define GUEST_DATA_ADDR		0x200000UL	/* 4 pages, rw- */
#define GUEST_DATA_PAGES	4
#define GUEST_STACK_ADDR	0x300000UL	/* 1 page, rw- */
#define GUEST_STACK_TOP		(GUEST_STACK_ADDR + GUEST_PAGE)
#define GUEST_UNMAPPED_ADDR	0x400000UL	/* nothing there */

/* Offsets of the guest's pages in its memfd. */
#define GUEST_CODE_OFF		0
#define GUEST_DATA_OFF		GUEST_PAGE
#define GUEST_STACK_OFF		((1 + GUEST_DATA_PAGES) * GUEST_PAGE)
#define GUEST_MEM_SIZE		((2 + GUEST_DATA_PAGES) * GUEST_PAGE)

/*
 * GUEST_CODE(name, "asm") defines guest code 'name' (position
 * independent, 64-bit unless it says otherwise) in the test binary's
 * read-only data; guest_load() copies it into a guest.
 */
#define GUEST_CODE(name, body)						\
	extern const char name##_start[], name##_end[];			\
	asm(".pushsection .rodata\n"					\
	    #name "_start:\n" body "\n" #name "_end:\n"			\
	    ".popsection\n")

#define GUEST_CODE_SIZE(name)	((size_t)(name##_end - name##_start))

/* Guest programs several tests share. */

/* Spins forever. */
GUEST_CODE(guest_spin, "1: jmp 1b\n");

/* Counts in rdi, one system call (1) per count, forever. */
GUEST_CODE(guest_count,
	"xor %edi, %edi\n"
	"1: inc %rdi\n"
	"mov $1, %eax\n"
	"syscall\n"
	"jmp 1b\n");

/* Touches one byte in each of rsi pages from rdi on, then system call 1. */
GUEST_CODE(guest_touch,
	"1: movb $1, (%rdi)\n"
	"add $4096, %rdi\n"
	"dec %rsi\n"
	"jnz 1b\n"
	"mov $1, %eax\n"
	"syscall\n");

struct guest {
	int dev;
	int as;
	int vcpu;
	int mem;			/* the memfd */
	struct unpriv_run *run;
};

static inline int unpriv_open(void)
{
	return open(UNPRIV_DEV, O_RDWR | O_CLOEXEC);
}

static inline int guest_map(struct guest *g, __u64 addr, __u64 len,
			    __u64 offset, __u32 prot)
{
	struct unpriv_as_map m = {
		.addr = addr, .len = len, .offset = offset, .fd = g->mem,
		.prot = prot, .flags = UNPRIV_MAP_SHARED,
	};

	return ioctl(g->as, UNPRIV_AS_MAP, &m);
}

/*
 * Make a guest with the standard layout, registers zeroed but for rsp
 * and cs.  Returns 0, or -errno of the step that failed.
 */
static inline int guest_create(struct guest *g)
{
	memset(g, 0, sizeof(*g));
	g->dev = -1;
	g->as = -1;
	g->vcpu = -1;
	g->mem = -1;
	g->run = MAP_FAILED;

	g->dev = unpriv_open();
	if (g->dev < 0)
		return -errno;
	g->as = ioctl(g->dev, UNPRIV_CREATE_AS, 0);
	if (g->as < 0)
		return -errno;
	g->vcpu = ioctl(g->dev, UNPRIV_CREATE_VCPU, 0);
	if (g->vcpu < 0)
		return -errno;
	g->run = mmap(NULL, UNPRIV_RUN_SIZE, PROT_READ | PROT_WRITE,
		      MAP_SHARED, g->vcpu, 0);
	if (g->run == MAP_FAILED)
		return -errno;
	g->mem = memfd_create("guest", MFD_CLOEXEC);
	if (g->mem < 0 || ftruncate(g->mem, GUEST_MEM_SIZE))
		return -errno;
	if (guest_map(g, GUEST_CODE_ADDR, GUEST_PAGE, GUEST_CODE_OFF,
		      UNPRIV_PROT_READ | UNPRIV_PROT_EXEC) ||
	    guest_map(g, GUEST_DATA_ADDR, GUEST_DATA_PAGES * GUEST_PAGE,
		      GUEST_DATA_OFF, UNPRIV_PROT_READ | UNPRIV_PROT_WRITE) ||
	    guest_map(g, GUEST_STACK_ADDR, GUEST_PAGE, GUEST_STACK_OFF,
		      UNPRIV_PROT_READ | UNPRIV_PROT_WRITE))
		return -errno;
	g->run->regs.rsp = GUEST_STACK_TOP;
	g->run->regs.cs = UNPRIV_CS_64;
	g->run->regs.ss = UNPRIV_DS;
	return 0;
}

static inline void guest_destroy(struct guest *g)
{
	if (g->run != MAP_FAILED)
		munmap(g->run, UNPRIV_RUN_SIZE);
	if (g->mem >= 0)
		close(g->mem);
	if (g->vcpu >= 0)
		close(g->vcpu);
	if (g->as >= 0)
		close(g->as);
	if (g->dev >= 0)
		close(g->dev);
}

/* Copy code into the guest's code page and point rip at it. */
static inline int guest_load(struct guest *g, const char *code, size_t size)
{
	if (size > GUEST_PAGE)
		return -E2BIG;
	if (pwrite(g->mem, code, size, GUEST_CODE_OFF) != (ssize_t)size)
		return -errno;
	g->run->regs.rip = GUEST_CODE_ADDR;
	return 0;
}

#define GUEST_LOAD(g, name) guest_load(g, name##_start, GUEST_CODE_SIZE(name))

/* unprivilege(): returns 0 or -errno. */
static inline int guest_run(struct guest *g)
{
	return ioctl(g->vcpu, UNPRIV_RUN, g->as) ? -errno : 0;
}

/*
 * Skipping where the module is absent (the kselftest harness must be
 * included first).  REQUIRE_UNPRIV() is for a test body.  GUEST_SETUP()
 * is for a FIXTURE_SETUP: it makes the standard guest; to skip, it ends
 * the test's child with the harness's skip status, because the 6.1
 * harness runs a test's body even after its setup called SKIP().
 *
 * That status is 255 for 6.1's harness; the harness of a kernel tree
 * from 6.9 on (the one with XFAIL_ADD(), which reads a test child's exit
 * status as a KSFT_* code) takes KSFT_SKIP, and counts 255 as a failure.
 */
#ifdef XFAIL_ADD
#define UNPRIV_SKIP_STATUS KSFT_SKIP
#else
#define UNPRIV_SKIP_STATUS 255
#endif

#define UNPRIV_ABSENT_MSG "%s not present: is the unpriv module loaded?"

#define REQUIRE_UNPRIV()						\
	do {								\
		if (access(UNPRIV_DEV, F_OK))				\
			SKIP(return, UNPRIV_ABSENT_MSG, UNPRIV_DEV);	\
	} while (0)

#define GUEST_SETUP(g)							\
	do {								\
		int __ret = guest_create(g);				\
									\
		if (__ret == -ENOENT)					\
			SKIP(_exit(UNPRIV_SKIP_STATUS), UNPRIV_ABSENT_MSG, UNPRIV_DEV); \
		ASSERT_EQ(0, __ret)					\
			TH_LOG("guest_create: %s", strerror(-__ret));	\
	} while (0)

/* guest_create() and guest_load() in one; returns 0 or -errno. */
static inline int guest_make(struct guest *g, const char *code, size_t size)
{
	int ret = guest_create(g);

	return ret ? ret : guest_load(g, code, size);
}

#define GUEST_MAKE(g, name) guest_make(g, name##_start, GUEST_CODE_SIZE(name))

/*
 * For running a guest on a thread of its own:
 *	struct guest_runner r = { .g = &g };
 *	pthread_create(&t, NULL, guest_run_thread, &r);
 */
struct guest_runner {
	struct guest *g;
	int ret;		/* guest_run()'s */
};

static inline void *guest_run_thread(void *arg)
{
	struct guest_runner *r = arg;

	r->ret = guest_run(r->g);
	return NULL;
}

/* Whether the running kernel is major.minor or later. */
static inline bool kernel_at_least(unsigned int major, unsigned int minor)
{
	unsigned int ma = 0, mi = 0;
	struct utsname u;

	if (uname(&u) || sscanf(u.release, "%u.%u", &ma, &mi) != 2)
		return false;
	return ma > major || (ma == major && mi >= minor);
}

static inline void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/*
 * The module's reference count (one per open /dev/unpriv, vcpu, space,
 * and per thread on or parked on a vcpu); -1 when it cannot be read.
 */
static inline long unpriv_module_refcnt(void)
{
	long n = -1;
	FILE *f = fopen("/sys/module/unpriv/refcnt", "re");

	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

/*
 * set_thread_area() by the 32-bit entry (int $0x80, number 243), as a
 * 64-bit program such as Wine does; d must lie below 4 GiB.  Callers
 * include <asm/ldt.h> for struct user_desc.
 */
struct user_desc;

static inline long set_thread_area32(struct user_desc *d)
{
	long ret;

	asm volatile("int $0x80" : "=a"(ret) : "0"(243L), "b"(d)
		     : "memory", "r8", "r9", "r10", "r11");
	return ret;
}

/* Read a 64-bit value from guest memory through the memfd. */
static inline __u64 guest_mem_read64(struct guest *g, off_t offset)
{
	__u64 v = 0;

	if (pread(g->mem, &v, sizeof(v), offset) != sizeof(v))
		return ~0ULL;
	return v;
}

/*
 * A guest that makes one exit of the kind rdi names, for counting them:
 * GUEST_DO_SYSCALL a system call, GUEST_DO_FAULT a read of rsi (left
 * unmapped), GUEST_DO_TRAP an int3, GUEST_DO_SPIN none: it writes 1 into
 * its first data word and spins, for a kick's or a signal's exit.
 */
GUEST_CODE(guest_exit_by_rdi,
	"cmp $1, %edi\n"
	"je 1f\n"
	"cmp $2, %edi\n"
	"je 2f\n"
	"cmp $3, %edi\n"
	"je 3f\n"
	"syscall\n"
	"1: mov (%rsi), %al\n"
	"2: int3\n"
	"3: movq $1, (%rdx)\n"
	"4: pause\n"
	"jmp 4b\n");

enum { GUEST_DO_SYSCALL, GUEST_DO_FAULT, GUEST_DO_TRAP, GUEST_DO_SPIN };

/* Set g's registers for one run of guest_exit_by_rdi making exit what. */
static inline void guest_exit_prepare(struct guest *g, int what)
{
	g->run->regs.rip = GUEST_CODE_ADDR;
	g->run->regs.rdi = what;
	g->run->regs.rsi = GUEST_UNMAPPED_ADDR;
	g->run->regs.rdx = GUEST_DATA_ADDR;
	g->run->regs.rax = 39;
}

/* One run making exit what (not GUEST_DO_SPIN): 0, or -errno. */
static inline int guest_exit_once(struct guest *g, int what)
{
	static const __u32 exit_of[] = {
		[GUEST_DO_SYSCALL] = UNPRIV_EXIT_SYSCALL,
		[GUEST_DO_FAULT] = UNPRIV_EXIT_FAULT,
		[GUEST_DO_TRAP] = UNPRIV_EXIT_TRAP,
	};
	int ret;

	guest_exit_prepare(g, what);
	ret = guest_run(g);
	if (!ret && g->run->exit_reason != exit_of[what])
		ret = -EPROTO;
	return ret;
}

/*
 * Start g spinning (GUEST_DO_SPIN) on a thread of its own: in guest mode
 * for certain once this returns 0 (a kick before the entry would end the
 * RUN with no exit).  -errno when it cannot.
 */
static inline int guest_exit_spinning(struct guest *g, struct guest_runner *r,
				      pthread_t *t)
{
	int i;

	guest_exit_prepare(g, GUEST_DO_SPIN);
	if (pwrite(g->mem, &(__u64){ 0 }, sizeof(__u64), GUEST_DATA_OFF) !=
	    sizeof(__u64))
		return -errno;
	r->g = g;
	if (pthread_create(t, NULL, guest_run_thread, r))
		return -EAGAIN;
	for (i = 0; i < 1000 && guest_mem_read64(g, GUEST_DATA_OFF) != 1; i++)
		sleep_ms(10);
	return guest_mem_read64(g, GUEST_DATA_OFF) == 1 ? 0 : -ETIMEDOUT;
}

/*
 * Memory cgroups (cgroup v2), for the tests of who is charged for guest
 * memory.  They need root; cg_setup() mounts cgroup2 where nothing did
 * (the test VM) and enables the memory controller for children of the
 * root group.
 */
#define CGROUP_ROOT		"/sys/fs/cgroup"

static inline int cg_write(const char *cg, const char *file, const char *val)
{
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : n < 0 ? -errno : -EIO;
}

/* The number after key (or the first number, for key NULL); -1 if none. */
static inline long long cg_read(const char *cg, const char *file,
				const char *key)
{
	char path[256], buf[4096], *p = buf;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	if (key) {
		size_t len = strlen(key);

		for (p = buf; strncmp(p, key, len) || p[len] != ' '; p++) {
			p = strchr(p, '\n');
			if (!p)
				return -1;
		}
		p += len + 1;
	}
	return strtoll(p, NULL, 10);
}

static inline int cg_setup(void)
{
	char buf[512] = "";
	ssize_t n;
	int fd;

	if (access(CGROUP_ROOT "/cgroup.controllers", F_OK) &&
	    mount("cgroup2", CGROUP_ROOT, "cgroup2", 0, NULL))
		return -errno;
	fd = open(CGROUP_ROOT "/cgroup.controllers", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0 || !strstr(buf, "memory"))
		return -ENODEV;
	return cg_write(CGROUP_ROOT, "cgroup.subtree_control", "+memory");
}

/* Make CGROUP_ROOT/<name>.<pid> into path; 0 or -errno. */
static inline int cg_create(char *path, size_t size, const char *name)
{
	snprintf(path, size, CGROUP_ROOT "/%s.%d", name, getpid());
	return mkdir(path, 0755) ? -errno : 0;
}

static inline int cg_enter(const char *cg, pid_t pid)
{
	char val[32];

	snprintf(val, sizeof(val), "%d", pid);
	return cg_write(cg, "cgroup.procs", val);
}

/* Remove a group whose processes are gone (they may still be exiting). */
static inline void cg_remove(const char *cg)
{
	int i;

	for (i = 0; i < 50 && rmdir(cg) && errno == EBUSY; i++)
		sleep_ms(100);
}

#endif /* UNPRIV_UTIL_H */
