// SPDX-License-Identifier: GPL-2.0
/*
 * Address spaces: UNPRIV_AS_MAP, _UNMAP, _PROTECT, _BATCH and _RW, end to
 * end: what the owner does to the address space is what the guest sees,
 * and every error is the errno uapi/linux/unpriv.h documents.
 *
 * Besides the standard guest layout (unpriv_util.h), each test has a
 * second memfd, "mem2", of MEM2_PAGES pages, which it maps where it likes,
 * mostly at X (nothing else is mapped near there).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <asm/ldt.h>
#include <linux/capability.h>
#include <linux/io_uring.h>
#include <linux/perf_event.h>

#include "kselftest_harness.h"
#include "unpriv_util.h"

#define PAGE		GUEST_PAGE
#define X		0x10000000UL	/* the tests' own mappings go here */
#define MEM2_PAGES	64

#define PROT_RW		(UNPRIV_PROT_READ | UNPRIV_PROT_WRITE)
#define PROT_RX		(UNPRIV_PROT_READ | UNPRIV_PROT_EXEC)

/* x86 page-fault error codes */
#define PF_PRESENT	0x1
#define PF_WRITE	0x2
#define PF_USER		0x4
#define PF_INSTR	0x10

/* --- helpers: each ioctl, returning 0 (or a count) or -errno ------------ */

static int as_map(int as, __u64 addr, __u64 len, __u64 offset, int fd,
		  __u32 prot, __u32 flags)
{
	struct unpriv_as_map m = {
		.addr = addr, .len = len, .offset = offset, .fd = fd,
		.prot = prot, .flags = flags,
	};

	return ioctl(as, UNPRIV_AS_MAP, &m) ? -errno : 0;
}

static int as_range(int as, unsigned long cmd, __u64 addr, __u64 len,
		    __u32 prot, __u32 flags)
{
	struct unpriv_as_range r = {
		.addr = addr, .len = len, .prot = prot, .flags = flags,
	};

	return ioctl(as, cmd, &r) ? -errno : 0;
}

static int as_unmap(int as, __u64 addr, __u64 len)
{
	return as_range(as, UNPRIV_AS_UNMAP, addr, len, 0, 0);
}

static int as_protect(int as, __u64 addr, __u64 len, __u32 prot)
{
	return as_range(as, UNPRIV_AS_PROTECT, addr, len, prot, 0);
}

static long as_rw(int as, __u64 addr, void *buf, __u64 len, __u32 flags)
{
	struct unpriv_as_rw rw = {
		.addr = addr, .buf = (unsigned long)buf, .len = len,
		.flags = flags,
	};
	long n = ioctl(as, UNPRIV_AS_RW, &rw);

	return n < 0 ? -errno : n;
}

static long as_read(int as, __u64 addr, void *buf, __u64 len)
{
	return as_rw(as, addr, buf, len, 0);
}

static long as_write(int as, __u64 addr, const void *buf, __u64 len)
{
	return as_rw(as, addr, (void *)buf, len, UNPRIV_RW_WRITE);
}

/* Read a 64-bit value of guest memory with UNPRIV_AS_RW. */
static __u64 as_read64(int as, __u64 addr)
{
	__u64 v = 0;

	if (as_read(as, addr, &v, sizeof(v)) != sizeof(v))
		return ~0ULL;
	return v;
}

static bool as_is_mapped(int as, __u64 addr)
{
	char c;

	return as_read(as, addr, &c, 1) == 1;
}

static struct unpriv_as_op map_op(__u64 addr, __u64 len, __u64 offset, int fd,
				  __u32 prot, __u32 flags)
{
	struct unpriv_as_op op = { .op = UNPRIV_AS_OP_MAP };

	op.map = (struct unpriv_as_map){
		.addr = addr, .len = len, .offset = offset, .fd = fd,
		.prot = prot, .flags = flags,
	};
	return op;
}

static struct unpriv_as_op range_op(__u32 kind, __u64 addr, __u64 len,
				    __u32 prot)
{
	struct unpriv_as_op op = { .op = kind };

	op.range = (struct unpriv_as_range){
		.addr = addr, .len = len, .prot = prot,
	};
	return op;
}

/* Run a batch; done and error start as garbage so that a test sees them set. */
static int as_batch(int as, const struct unpriv_as_op *ops, __u32 count,
		    struct unpriv_as_batch *b)
{
	*b = (struct unpriv_as_batch){
		.ops = (unsigned long)ops, .count = count,
		.done = 0xdead, .error = 0xdead,
	};
	return ioctl(as, UNPRIV_AS_BATCH, b) ? -errno : 0;
}

static int put64(int fd, off_t offset, __u64 v)
{
	return pwrite(fd, &v, sizeof(v), offset) == sizeof(v) ? 0 : -1;
}

static __u64 get64(int fd, off_t offset)
{
	__u64 v = 0;

	if (pread(fd, &v, sizeof(v), offset) != sizeof(v))
		return ~0ULL;
	return v;
}

/*
 * The end of user space, TASK_SIZE_MAX: 0x7ffffffff000 with 4-level
 * paging, 0xfffffffffff000 with 5-level (the test VM's "-cpu max" has
 * LA57; Debian's kernels use it, the debug kernel does not).  Only with
 * 5-level can a process map at 1 << 47.
 */
static __u64 user_space_end(void)
{
	void *p = mmap((void *)(1UL << 47), PAGE, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	if (p == MAP_FAILED)
		return (1UL << 47) - PAGE;
	munmap(p, PAGE);
	return p == (void *)(1UL << 47) ? (1UL << 56) - PAGE : (1UL << 47) - PAGE;
}

/* A page of our own memory the kernel may not touch. */
static void *inaccessible_page(void)
{
	return mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

/* --- guest code ------------------------------------------------------- */

/* Report the qword at rbx, store r12 there, report it again. */
GUEST_CODE(guest_read_store_read,
	"mov (%rbx), %rdi\n"
	"mov %r12, (%rbx)\n"
	"mov (%rbx), %rsi\n"
	"mov $39, %eax\n"
	"syscall\n");

/* Read the first qwords of three consecutive pages at rbx, report them. */
GUEST_CODE(guest_read3,
	"mov (%rbx), %rdi\n"
	"mov 4096(%rbx), %rsi\n"
	"mov 8192(%rbx), %rdx\n"
	"mov $39, %eax\n"
	"syscall\n");

/* Store r12 at rbx and report what is there; then the same with r13. */
GUEST_CODE(guest_store2,
	"mov %r12, (%rbx)\n"
	"mov (%rbx), %rdi\n"
	"mov $39, %eax\n"
	"syscall\n"
	"guest_store2_second:\n"
	"mov %r13, (%rbx)\n"
	"mov (%rbx), %rdi\n"
	"mov $39, %eax\n"
	"syscall\n");

extern const char guest_store2_second[];

/* Report the qword at rbx; then store r12 there. */
GUEST_CODE(guest_read_then_store,
	"mov (%rbx), %rdi\n"
	"mov $39, %eax\n"
	"syscall\n"
	"guest_read_then_store_store:\n"
	"mov %r12, (%rbx)\n"
	"mov $39, %eax\n"
	"syscall\n");

extern const char guest_read_then_store_store[];

/*
 * Code that runs wherever it is put: a system call with 0x77, then a
 * store into its own page.
 */
GUEST_CODE(guest_payload,
	"mov $0x77, %edi\n"
	"mov $39, %eax\n"
	"syscall\n"
	"lea guest_payload_store(%rip), %rax\n"
	"guest_payload_store:\n"
	"movb $0, (%rax)\n");

extern const char guest_payload_store[];

/*
 * Code for a file's first page, with the file's second page mapped after
 * it: report the second page's first qword, store r12 after it.
 */
GUEST_CODE(guest_file_payload,
	"lea 0(%rip), %rbx\n"
	"and $-4096, %rbx\n"
	"mov 4096(%rbx), %rdi\n"
	"mov %r12, 4096+8(%rbx)\n"
	"mov $39, %eax\n"
	"syscall\n");

/* Store r12 + i into the first qword of page i at rbx, for i < r9. */
GUEST_CODE(guest_touch_pages,
	"xor %r8d, %r8d\n"
	"1:\n"
	"mov %r8, %rax\n"
	"shl $12, %rax\n"
	"lea (%r12,%r8), %rdx\n"
	"mov %rdx, (%rbx,%rax)\n"
	"inc %r8\n"
	"cmp %r9, %r8\n"
	"jne 1b\n"
	"mov $39, %eax\n"
	"syscall\n");

#define GUEST_ADDR_OF(name, label) \
	(GUEST_CODE_ADDR + ((label) - name##_start))

/* --- the fixture: a standard guest and a second memfd ------------------- */

FIXTURE(as) {
	struct guest g;
	int mem2;
};

FIXTURE_SETUP(as)
{
	self->mem2 = -1;
	GUEST_SETUP(&self->g);
	self->mem2 = memfd_create("mem2", MFD_CLOEXEC);
	ASSERT_LE(0, self->mem2);
	ASSERT_EQ(0, ftruncate(self->mem2, MEM2_PAGES * PAGE));
}

FIXTURE_TEARDOWN(as)
{
	if (self->mem2 >= 0)
		close(self->mem2);
	guest_destroy(&self->g);
}

/* ===== UNPRIV_AS_MAP ===================================================== */

TEST_F(as, map_shared_guest_write_reaches_the_file)
{
	struct unpriv_run *run = self->g.run;

	ASSERT_EQ(0, put64(self->mem2, 0, 0xf11e));
	ASSERT_EQ(0, as_map(self->g.as, X, PAGE, 0, self->mem2, PROT_RW,
			    UNPRIV_MAP_SHARED));
	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_read_store_read));
	run->regs.rbx = X;
	run->regs.r12 = 0x5ba7ed;

	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
	EXPECT_EQ(0xf11e, run->syscall.args[0]);	/* the guest read the file */
	EXPECT_EQ(0x5ba7ed, run->syscall.args[1]);	/* and its own write */
	EXPECT_EQ(0x5ba7ed, get64(self->mem2, 0));	/* which is in the file */
}

TEST_F(as, map_private_guest_write_stays_out_of_the_file)
{
	struct unpriv_run *run = self->g.run;

	ASSERT_EQ(0, put64(self->mem2, 0, 0xf11e));
	ASSERT_EQ(0, as_map(self->g.as, X, PAGE, 0, self->mem2, PROT_RW,
			    UNPRIV_MAP_PRIVATE));
	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_read_store_read));
	run->regs.rbx = X;
	run->regs.r12 = 0x9e1f;

	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
	EXPECT_EQ(0xf11e, run->syscall.args[0]);	/* the guest read the file */
	EXPECT_EQ(0x9e1f, run->syscall.args[1]);	/* and its own copy */
	EXPECT_EQ(0xf11e, get64(self->mem2, 0));	/* the file is intact */
}

TEST_F(as, map_replaces_an_overlapping_mapping)
{
	struct unpriv_run *run = self->g.run;

	/* mem2 pages 0, 1, 2 mapped at X; then page 9 over the middle one */
	ASSERT_EQ(0, put64(self->mem2, 0 * PAGE, 0x10));
	ASSERT_EQ(0, put64(self->mem2, 1 * PAGE, 0x11));
	ASSERT_EQ(0, put64(self->mem2, 2 * PAGE, 0x12));
	ASSERT_EQ(0, put64(self->mem2, 9 * PAGE, 0x19));
	ASSERT_EQ(0, as_map(self->g.as, X, 3 * PAGE, 0, self->mem2, PROT_RW,
			    UNPRIV_MAP_SHARED));
	ASSERT_EQ(0, as_map(self->g.as, X + PAGE, PAGE, 9 * PAGE, self->mem2,
			    UNPRIV_PROT_READ, UNPRIV_MAP_SHARED));
	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_read3));
	run->regs.rbx = X;

	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
	EXPECT_EQ(0x10, run->syscall.args[0]);
	EXPECT_EQ(0x19, run->syscall.args[1]);
	EXPECT_EQ(0x12, run->syscall.args[2]);
}

TEST_F(as, map_replaces_a_mapping_the_guest_already_used)
{
	struct unpriv_run *run = self->g.run;

	ASSERT_EQ(0, put64(self->mem2, 0, 0x10));
	ASSERT_EQ(0, put64(self->mem2, PAGE, 0x11));
	ASSERT_EQ(0, as_map(self->g.as, X, PAGE, 0, self->mem2, PROT_RW,
			    UNPRIV_MAP_SHARED));
	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_read_then_store));
	run->regs.rbx = X;
	run->regs.r12 = 0xabc;
	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
	ASSERT_EQ(0x10, run->syscall.args[0]);

	/* The guest's page-table entry for X must go with the old mapping. */
	ASSERT_EQ(0, as_map(self->g.as, X, PAGE, PAGE, self->mem2, PROT_RW,
			    UNPRIV_MAP_SHARED));
	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
	EXPECT_EQ(0x10, get64(self->mem2, 0));
	EXPECT_EQ(0xabc, get64(self->mem2, PAGE));
}

TEST_F(as, map_reaches_up_to_the_end_of_user_space_and_not_beyond)
{
	const __u64 end = user_space_end();

	TH_LOG("user space ends at %#llx", (unsigned long long)end);
	ASSERT_EQ(0, as_map(self->g.as, end - PAGE, PAGE, 0, self->mem2,
			    PROT_RW, UNPRIV_MAP_SHARED));
	EXPECT_TRUE(as_is_mapped(self->g.as, end - PAGE));

	EXPECT_EQ(-EINVAL, as_map(self->g.as, end - PAGE, 2 * PAGE, 0,
				  self->mem2, PROT_RW, UNPRIV_MAP_SHARED));
	EXPECT_EQ(-EINVAL, as_map(self->g.as, end, PAGE, 0, self->mem2,
				  PROT_RW, UNPRIV_MAP_SHARED));
	EXPECT_EQ(-EINVAL, as_map(self->g.as, 1UL << 63, PAGE, 0, self->mem2,
				  PROT_RW, UNPRIV_MAP_SHARED));
	EXPECT_TRUE(as_is_mapped(self->g.as, end - PAGE));
}

TEST_F(as, map_rejects_bad_arguments_with_einval)
{
	const __u64 end = user_space_end();
	const struct {
		const char *what;
		__u64 addr, len, offset;
		__u32 prot, flags, reserved;
	} bad[] = {
		{ "misaligned addr", X + 8, PAGE, 0, PROT_RW, UNPRIV_MAP_SHARED, 0 },
		{ "misaligned len", X, PAGE + 8, 0, PROT_RW, UNPRIV_MAP_SHARED, 0 },
		{ "misaligned offset", X, PAGE, 8, PROT_RW, UNPRIV_MAP_SHARED, 0 },
		{ "len 0", X, 0, 0, PROT_RW, UNPRIV_MAP_SHARED, 0 },
		{ "beyond user space", end - PAGE, 2 * PAGE, 0, PROT_RW,
		  UNPRIV_MAP_SHARED, 0 },
		{ "addr at its end", end, PAGE, 0, PROT_RW, UNPRIV_MAP_SHARED, 0 },
		{ "addr 1 << 63", 1UL << 63, PAGE, 0, PROT_RW, UNPRIV_MAP_SHARED, 0 },
		{ "addr + len overflows", X, -PAGE, 0, PROT_RW, UNPRIV_MAP_SHARED, 0 },
		{ "offset + len overflows", X, PAGE, -PAGE, PROT_RW,
		  UNPRIV_MAP_SHARED, 0 },
		{ "prot 0x8", X, PAGE, 0, PROT_RW | 0x8, UNPRIV_MAP_SHARED, 0 },
		{ "prot 0x01000000", X, PAGE, 0, PROT_RW | 0x01000000,
		  UNPRIV_MAP_SHARED, 0 },
		{ "prot 0x80000000", X, PAGE, 0, PROT_RW | 0x80000000,
		  UNPRIV_MAP_SHARED, 0 },
		{ "flags 0", X, PAGE, 0, PROT_RW, 0, 0 },
		{ "flags SHARED|PRIVATE", X, PAGE, 0, PROT_RW,
		  UNPRIV_MAP_SHARED | UNPRIV_MAP_PRIVATE, 0 },
		{ "flags SHARED|0x4", X, PAGE, 0, PROT_RW, UNPRIV_MAP_SHARED | 0x4, 0 },
		{ "flags PRIVATE|0x80000000", X, PAGE, 0, PROT_RW,
		  UNPRIV_MAP_PRIVATE | 0x80000000, 0 },
		{ "flags 0x4", X, PAGE, 0, PROT_RW, 0x4, 0 },
		{ "reserved 1", X, PAGE, 0, PROT_RW, UNPRIV_MAP_SHARED, 1 },
		{ "reserved 0x80000000", X, PAGE, 0, PROT_RW, UNPRIV_MAP_SHARED,
		  0x80000000 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct unpriv_as_map m = {
			.addr = bad[i].addr, .len = bad[i].len,
			.offset = bad[i].offset, .fd = self->mem2,
			.prot = bad[i].prot, .flags = bad[i].flags,
			.reserved = bad[i].reserved,
		};

		EXPECT_EQ(-1, ioctl(self->g.as, UNPRIV_AS_MAP, &m))
			TH_LOG("%s", bad[i].what);
		EXPECT_EQ(EINVAL, errno) TH_LOG("%s", bad[i].what);
	}

	/* None of them mapped anything; the good one does. */
	EXPECT_FALSE(as_is_mapped(self->g.as, X));
	EXPECT_EQ(0, as_map(self->g.as, X, PAGE, 0, self->mem2, PROT_RW,
			    UNPRIV_MAP_SHARED));
	EXPECT_TRUE(as_is_mapped(self->g.as, X));
}

TEST_F(as, map_of_a_file_descriptor_that_is_not_open_is_ebadf)
{
	int closed = dup(self->mem2);

	ASSERT_LE(0, closed);
	ASSERT_EQ(0, close(closed));
	EXPECT_EQ(-EBADF, as_map(self->g.as, X, PAGE, 0, closed, PROT_RW,
				 UNPRIV_MAP_SHARED));
	EXPECT_EQ(-EBADF, as_map(self->g.as, X, PAGE, 0, -1, PROT_RW,
				 UNPRIV_MAP_SHARED));
	EXPECT_EQ(-EBADF, as_map(self->g.as, X, PAGE, 0, 0x7fffffff,
				 PROT_RW, UNPRIV_MAP_PRIVATE));
	EXPECT_FALSE(as_is_mapped(self->g.as, X));
}

TEST_F(as, map_of_a_pipe_is_enodev)
{
	int p[2];

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	EXPECT_EQ(-ENODEV, as_map(self->g.as, X, PAGE, 0, p[0],
				  UNPRIV_PROT_READ, UNPRIV_MAP_PRIVATE));
	EXPECT_FALSE(as_is_mapped(self->g.as, X));
	close(p[0]);
	close(p[1]);
}

/*
 * Files that have an mmap but are no guest memory: refused with ENODEV.
 * Each is mapped shared, one page, as it allows (offset 0 of an io_uring
 * is its SQ ring; one page of a perf event is its header page), so that
 * the file's own mmap would have succeeded.
 */
static int open_vcpu(struct guest *g)
{
	return dup(g->vcpu);
}

static int open_as(struct guest *g)
{
	return dup(g->as);
}

static int open_io_uring(struct guest *g)
{
	struct io_uring_params p = { 0 };

	return syscall(__NR_io_uring_setup, 4, &p);
}

static int open_perf_event(struct guest *g)
{
	struct perf_event_attr a = {
		.type = PERF_TYPE_SOFTWARE, .size = sizeof(a),
		.config = PERF_COUNT_SW_DUMMY, .disabled = 1,
		.exclude_kernel = 1, .exclude_hv = 1,
	};

	return syscall(__NR_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

static int open_dev_zero(struct guest *g)
{
	return open("/dev/zero", O_RDWR | O_CLOEXEC);
}

FIXTURE(unmappable) {
	struct guest g;
	int fd;
};

FIXTURE_VARIANT(unmappable) {
	int (*open)(struct guest *g);
};

FIXTURE_VARIANT_ADD(unmappable, its_own_vcpu) { .open = open_vcpu };
FIXTURE_VARIANT_ADD(unmappable, its_own_address_space) { .open = open_as };
FIXTURE_VARIANT_ADD(unmappable, an_io_uring_ring) { .open = open_io_uring };
FIXTURE_VARIANT_ADD(unmappable, a_perf_event_buffer) { .open = open_perf_event };
FIXTURE_VARIANT_ADD(unmappable, dev_zero) { .open = open_dev_zero };

FIXTURE_SETUP(unmappable)
{
	self->fd = -1;
	GUEST_SETUP(&self->g);
	self->fd = variant->open(&self->g);
	/* What is tested is the map, not the kernel's or user's lot. */
	if (self->fd < 0)
		SKIP(_exit(UNPRIV_SKIP_STATUS), "this kernel or user cannot open one: %m");
}

FIXTURE_TEARDOWN(unmappable)
{
	if (self->fd >= 0)
		close(self->fd);
	guest_destroy(&self->g);
}

TEST_F(unmappable, map_is_enodev)
{
	EXPECT_EQ(-ENODEV, as_map(self->g.as, X, PAGE, 0, self->fd, PROT_RW,
				  UNPRIV_MAP_SHARED));
	EXPECT_FALSE(as_is_mapped(self->g.as, X));
	EXPECT_EQ(-ENODEV, as_map(self->g.as, X, PAGE, 0, self->fd,
				  UNPRIV_PROT_READ, UNPRIV_MAP_PRIVATE));
	EXPECT_FALSE(as_is_mapped(self->g.as, X));
}

/*
 * The cycle a vcpu mapped into its own address space would make: a
 * process maps it, runs the guest once and exits; every reference it
 * held on the module must be gone.
 */
TEST(a_vcpu_mapped_into_its_own_space_leaves_nothing_behind)
{
	long before, after = -1;
	int status, i;
	pid_t pid;

	REQUIRE_UNPRIV();
	before = unpriv_module_refcnt();
	if (before < 0)
		SKIP(return, "no /sys/module/unpriv/refcnt");
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct guest g;

		if (GUEST_MAKE(&g, guest_count))
			_exit(1);
		as_map(g.as, X, PAGE, 0, g.vcpu, PROT_RW, UNPRIV_MAP_SHARED);
		/* One run, to its first system call. */
		guest_run(&g);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	for (i = 0; i < 50 && (after = unpriv_module_refcnt()) != before; i++)
		sleep_ms(100);
	EXPECT_EQ(before, after);
}

/*
 * The caller's selectors that name its LDT: mapping operations borrow
 * the address space's mm, which has no LDT.  Should the thread be
 * switched out meanwhile, switching it back in reloads its selectors
 * against that empty LDT, which turns them to null.  A sibling working
 * on the same space makes the caller wait for the mm's lock, often.
 */
struct ldt_sibling {
	int as;
	volatile bool stop;
};

static void *map_unmap_loop(void *arg)
{
	struct ldt_sibling *s = arg;
	int mem = memfd_create("sibling", MFD_CLOEXEC);

	if (mem < 0 || ftruncate(mem, PAGE))
		return NULL;
	while (!s->stop) {
		as_map(s->as, X + PAGE, PAGE, 0, mem, PROT_RW, UNPRIV_MAP_SHARED);
		as_unmap(s->as, X + PAGE, PAGE);
	}
	close(mem);
	return NULL;
}

static unsigned short read_es(void)
{
	unsigned short es;

	asm volatile("mov %%es, %0" : "=r" (es));
	return es;
}

TEST_F(as, map_and_unmap_keep_the_callers_ldt_selectors)
{
	struct ldt_sibling sib = { .as = self->g.as };
	struct user_desc desc = {
		.entry_number = 0, .limit = 0xfffff, .seg_32bit = 1,
		.limit_in_pages = 1,
	};
	const unsigned short ldt_sel = 0x7;	/* index 0, LDT, RPL 3 */
	struct timespec start, now;
	unsigned short es = ldt_sel;
	cpu_set_t one;
	pthread_t t;
	long i;

	if (syscall(SYS_modify_ldt, 1, &desc, sizeof(desc)))
		SKIP(return, "modify_ldt: %m");
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(one), &one));
	ASSERT_EQ(0, pthread_create(&t, NULL, map_unmap_loop, &sib));
	asm volatile("mov %0, %%es" : : "r" (ldt_sel));

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (i = 0; es == ldt_sel; i++) {
		as_map(self->g.as, X, PAGE, 0, self->mem2, PROT_RW,
		       UNPRIV_MAP_SHARED);
		as_unmap(self->g.as, X, PAGE);
		es = read_es();
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= 3)
			break;
	}
	asm volatile("mov %0, %%es" : : "r" ((unsigned short)0));
	sib.stop = true;
	pthread_join(t, NULL);
	EXPECT_EQ(ldt_sel, es) TH_LOG("es lost its LDT selector after %ld rounds", i);
}

static long read_mmap_min_addr(void)
{
	char buf[32] = "";
	int fd = open("/proc/sys/vm/mmap_min_addr", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? strtol(buf, NULL, 0) : -1;
}

static int effective_cap(int cap, bool *has, bool drop)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &h, d))
		return -errno;
	*has = d[CAP_TO_INDEX(cap)].effective & CAP_TO_MASK(cap);
	if (!drop)
		return 0;
	d[CAP_TO_INDEX(cap)].effective &= ~CAP_TO_MASK(cap);
	return syscall(SYS_capset, &h, d) ? -errno : 0;
}

/*
 * As for mmap(2): below vm.mmap_min_addr only with CAP_SYS_RAWIO (the
 * header does not list EPERM).  The harness runs each test in a child of
 * its own, so dropping the capability here stays here.
 */
TEST_F(as, map_below_mmap_min_addr_needs_cap_sys_rawio)
{
	long min = read_mmap_min_addr();
	bool has;

	if (min < (long)(2 * PAGE))
		SKIP(return, "vm.mmap_min_addr is %ld", min);
	ASSERT_EQ(0, effective_cap(CAP_SYS_RAWIO, &has, false));

	if (has) {
		EXPECT_EQ(0, as_map(self->g.as, PAGE, PAGE, 0, self->mem2,
				    PROT_RW, UNPRIV_MAP_SHARED));
		EXPECT_EQ(0, as_unmap(self->g.as, PAGE, PAGE));
		ASSERT_EQ(0, effective_cap(CAP_SYS_RAWIO, &has, true));
		ASSERT_EQ(0, effective_cap(CAP_SYS_RAWIO, &has, false));
		ASSERT_FALSE(has);
	}
	EXPECT_EQ(-EPERM, as_map(self->g.as, PAGE, PAGE, 0, self->mem2,
				 PROT_RW, UNPRIV_MAP_SHARED));
	EXPECT_EQ(-EPERM, as_map(self->g.as, min - PAGE, PAGE, 0, self->mem2,
				 PROT_RW, UNPRIV_MAP_SHARED));
	EXPECT_FALSE(as_is_mapped(self->g.as, PAGE));
	EXPECT_EQ(0, as_map(self->g.as, min, PAGE, 0, self->mem2, PROT_RW,
			    UNPRIV_MAP_SHARED));
}

/* ===== files other than a memfd: /dev/shm and a regular file on /tmp ===== */

FIXTURE(file) {
	struct guest g;
	char path[64];
	int fd;
};

FIXTURE_VARIANT(file) {
	const char *dir;
};

FIXTURE_VARIANT_ADD(file, dev_shm) {
	.dir = "/dev/shm",
};

FIXTURE_VARIANT_ADD(file, tmp) {
	.dir = "/tmp",
};

FIXTURE_SETUP(file)
{
	self->fd = -1;
	self->path[0] = 0;
	GUEST_SETUP(&self->g);
	snprintf(self->path, sizeof(self->path), "%s/unpriv-as-test.%d",
		 variant->dir, getpid());
	self->fd = open(self->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %m", self->path);
	ASSERT_EQ(0, ftruncate(self->fd, 2 * PAGE));
}

FIXTURE_TEARDOWN(file)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->path[0])
		unlink(self->path);
	guest_destroy(&self->g);
}

TEST_F(file, maps_and_runs)
{
	struct unpriv_run *run = self->g.run;
	size_t size = GUEST_CODE_SIZE(guest_file_payload);

	/* page 0: code, page 1: data */
	ASSERT_EQ(size, pwrite(self->fd, guest_file_payload_start, size, 0));
	ASSERT_EQ(0, put64(self->fd, PAGE, 0xda7a));
	ASSERT_EQ(0, as_map(self->g.as, X, PAGE, 0, self->fd, PROT_RX,
			    UNPRIV_MAP_SHARED));
	ASSERT_EQ(0, as_map(self->g.as, X + PAGE, PAGE, PAGE, self->fd,
			    PROT_RW, UNPRIV_MAP_SHARED));
	run->regs.rip = X;
	run->regs.r12 = 0x5707e;

	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
	EXPECT_EQ(X + size, run->regs.rip);
	EXPECT_EQ(0xda7a, run->syscall.args[0]);
	EXPECT_EQ(0x5707e, get64(self->fd, PAGE + 8));
}

TEST_F(file, read_only_open_cannot_map_shared_writable)
{
	int ro = open(self->path, O_RDONLY | O_CLOEXEC);
	int wo = open(self->path, O_WRONLY | O_CLOEXEC);

	ASSERT_LE(0, ro);
	ASSERT_LE(0, wo);
	EXPECT_EQ(-EACCES, as_map(self->g.as, X, PAGE, 0, ro, PROT_RW,
				  UNPRIV_MAP_SHARED));
	EXPECT_FALSE(as_is_mapped(self->g.as, X));
	/* Without write, or copy on write, the mode allows it. */
	EXPECT_EQ(0, as_map(self->g.as, X, PAGE, 0, ro, UNPRIV_PROT_READ,
			    UNPRIV_MAP_SHARED));
	EXPECT_EQ(0, as_map(self->g.as, X + PAGE, PAGE, 0, ro, PROT_RW,
			    UNPRIV_MAP_PRIVATE));
	/* Mapping needs read access to the file in any case. */
	EXPECT_EQ(-EACCES, as_map(self->g.as, X + 2 * PAGE, PAGE, 0, wo,
				  UNPRIV_PROT_READ, UNPRIV_MAP_SHARED));
	EXPECT_EQ(-EACCES, as_map(self->g.as, X + 2 * PAGE, PAGE, 0, wo,
				  UNPRIV_PROT_READ, UNPRIV_MAP_PRIVATE));
	close(ro);
	close(wo);
}

TEST_F(file, read_only_open_cannot_be_protected_writable)
{
	int ro = open(self->path, O_RDONLY | O_CLOEXEC);

	ASSERT_LE(0, ro);
	ASSERT_EQ(0, as_map(self->g.as, X, PAGE, 0, ro, UNPRIV_PROT_READ,
			    UNPRIV_MAP_SHARED));
	ASSERT_EQ(0, as_map(self->g.as, X + PAGE, PAGE, 0, ro,
			    UNPRIV_PROT_READ, UNPRIV_MAP_PRIVATE));
	close(ro);

	EXPECT_EQ(-EACCES, as_protect(self->g.as, X, PAGE, PROT_RW));
	EXPECT_EQ(0, as_protect(self->g.as, X + PAGE, PAGE, PROT_RW));
}

/* ===== UNPRIV_AS_UNMAP =================================================== */

TEST_F(as, unmap_makes_the_guests_next_access_fault)
{
	struct unpriv_run *run = self->g.run;

	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_store2));
	run->regs.rbx = GUEST_DATA_ADDR;
	run->regs.r12 = 1;
	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
	ASSERT_EQ(1, run->syscall.args[0]);

	ASSERT_EQ(0, as_unmap(self->g.as, GUEST_DATA_ADDR, PAGE));
	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_FAULT, run->exit_reason);
	EXPECT_EQ(GUEST_DATA_ADDR, run->fault.address);
	EXPECT_EQ(PF_USER | PF_WRITE, run->fault.error_code);
	EXPECT_EQ(SIGSEGV, run->fault.signo);
	EXPECT_EQ(SEGV_MAPERR, run->fault.si_code);
	EXPECT_EQ(GUEST_ADDR_OF(guest_store2, guest_store2_second),
		  run->regs.rip);
}

TEST_F(as, unmap_of_an_empty_range_succeeds)
{
	struct unpriv_run *run = self->g.run;

	EXPECT_EQ(0, as_unmap(self->g.as, GUEST_UNMAPPED_ADDR, 16 * PAGE));
	EXPECT_EQ(0, as_unmap(self->g.as, X, 1UL << 30));
	EXPECT_EQ(0, as_unmap(self->g.as, user_space_end() - PAGE, PAGE));

	/* Nothing else went: the guest still runs and uses its data. */
	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_store2));
	run->regs.rbx = GUEST_DATA_ADDR + (GUEST_DATA_PAGES - 1) * PAGE;
	run->regs.r12 = 0x1234;
	ASSERT_EQ(0, guest_run(&self->g));
	EXPECT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
	EXPECT_EQ(0x1234, run->syscall.args[0]);
}

TEST_F(as, unmap_rejects_bad_arguments_with_einval)
{
	const __u64 end = user_space_end();
	const struct {
		const char *what;
		__u64 addr, len;
		__u32 prot, flags;
	} bad[] = {
		{ "prot READ", GUEST_DATA_ADDR, PAGE, UNPRIV_PROT_READ, 0 },
		{ "prot 0x8", GUEST_DATA_ADDR, PAGE, 0x8, 0 },
		{ "flags 1", GUEST_DATA_ADDR, PAGE, 0, 1 },
		{ "flags 0x80000000", GUEST_DATA_ADDR, PAGE, 0, 0x80000000 },
		{ "misaligned addr", GUEST_DATA_ADDR + 8, PAGE, 0, 0 },
		{ "misaligned len", GUEST_DATA_ADDR, PAGE + 8, 0, 0 },
		{ "len 0", GUEST_DATA_ADDR, 0, 0, 0 },
		{ "beyond user space", end - PAGE, 2 * PAGE, 0, 0 },
		{ "addr at its end", end, PAGE, 0, 0 },
		{ "addr + len overflows", GUEST_DATA_ADDR, -PAGE, 0, 0 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(-EINVAL, as_range(self->g.as, UNPRIV_AS_UNMAP,
					    bad[i].addr, bad[i].len,
					    bad[i].prot, bad[i].flags))
			TH_LOG("%s", bad[i].what);
	}

	/* The data page survived all of them; a good unmap removes it. */
	EXPECT_TRUE(as_is_mapped(self->g.as, GUEST_DATA_ADDR));
	EXPECT_EQ(0, as_unmap(self->g.as, GUEST_DATA_ADDR, PAGE));
	EXPECT_FALSE(as_is_mapped(self->g.as, GUEST_DATA_ADDR));
}

/* ===== UNPRIV_AS_PROTECT ================================================= */

TEST_F(as, protect_removing_write_makes_the_guests_next_write_fault)
{
	struct unpriv_run *run = self->g.run;

	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_store2));
	run->regs.rbx = GUEST_DATA_ADDR;
	run->regs.r12 = 0x1111;
	run->regs.r13 = 0x2222;
	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
	ASSERT_EQ(0x1111, guest_mem_read64(&self->g, GUEST_DATA_OFF));

	ASSERT_EQ(0, as_protect(self->g.as, GUEST_DATA_ADDR, PAGE,
				UNPRIV_PROT_READ));
	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_FAULT, run->exit_reason);
	EXPECT_EQ(GUEST_DATA_ADDR, run->fault.address);
	EXPECT_EQ(PF_USER | PF_WRITE | PF_PRESENT, run->fault.error_code);
	EXPECT_EQ(SIGSEGV, run->fault.signo);
	EXPECT_EQ(SEGV_ACCERR, run->fault.si_code);
	EXPECT_EQ(GUEST_ADDR_OF(guest_store2, guest_store2_second),
		  run->regs.rip);
	EXPECT_EQ(0x1111, guest_mem_read64(&self->g, GUEST_DATA_OFF));
}

TEST_F(as, protect_adding_exec_lets_guest_code_run)
{
	struct unpriv_run *run = self->g.run;
	size_t size = GUEST_CODE_SIZE(guest_payload);

	ASSERT_EQ(size, pwrite(self->g.mem, guest_payload_start, size,
			       GUEST_DATA_OFF));
	run->regs.rip = GUEST_DATA_ADDR;
	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_FAULT, run->exit_reason);
	EXPECT_EQ(GUEST_DATA_ADDR, run->fault.address);
	EXPECT_EQ(PF_USER | PF_INSTR, run->fault.error_code & (PF_USER | PF_INSTR));
	EXPECT_EQ(SEGV_ACCERR, run->fault.si_code);
	ASSERT_EQ(GUEST_DATA_ADDR, run->regs.rip);

	ASSERT_EQ(0, as_protect(self->g.as, GUEST_DATA_ADDR, PAGE, PROT_RX));
	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
	EXPECT_EQ(0x77, run->syscall.args[0]);
}

TEST_F(as, protect_rejects_bad_arguments_with_einval)
{
	struct unpriv_run *run = self->g.run;
	const __u64 end = user_space_end();
	const struct {
		const char *what;
		__u64 addr, len;
		__u32 prot, flags;
	} bad[] = {
		{ "prot 0x8", GUEST_DATA_ADDR, PAGE, UNPRIV_PROT_READ | 0x8, 0 },
		{ "prot 0x01000000", GUEST_DATA_ADDR, PAGE, 0x01000000, 0 },
		{ "prot 0x80000000", GUEST_DATA_ADDR, PAGE, 0x80000000, 0 },
		{ "flags 1", GUEST_DATA_ADDR, PAGE, UNPRIV_PROT_READ, 1 },
		{ "misaligned addr", GUEST_DATA_ADDR + 8, PAGE, UNPRIV_PROT_READ, 0 },
		{ "misaligned len", GUEST_DATA_ADDR, PAGE + 8, UNPRIV_PROT_READ, 0 },
		{ "len 0", GUEST_DATA_ADDR, 0, UNPRIV_PROT_READ, 0 },
		{ "beyond user space", end - PAGE, 2 * PAGE, UNPRIV_PROT_READ, 0 },
		{ "addr at its end", end, PAGE, UNPRIV_PROT_READ, 0 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(-EINVAL, as_range(self->g.as, UNPRIV_AS_PROTECT,
					    bad[i].addr, bad[i].len,
					    bad[i].prot, bad[i].flags))
			TH_LOG("%s", bad[i].what);
	}

	/* The data page is still writable: the guest's store lands. */
	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_store2));
	run->regs.rbx = GUEST_DATA_ADDR;
	run->regs.r12 = 0x3333;
	ASSERT_EQ(0, guest_run(&self->g));
	EXPECT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
	EXPECT_EQ(0x3333, guest_mem_read64(&self->g, GUEST_DATA_OFF));
}

TEST_F(as, protect_of_an_unmapped_range_is_enomem)
{
	EXPECT_EQ(-ENOMEM, as_protect(self->g.as, GUEST_UNMAPPED_ADDR, PAGE,
				      UNPRIV_PROT_READ));
	EXPECT_EQ(-ENOMEM, as_protect(self->g.as, X, 16 * PAGE, PROT_RW));
	/* starting in the hole below the data pages */
	EXPECT_EQ(-ENOMEM, as_protect(self->g.as, GUEST_DATA_ADDR - PAGE,
				      2 * PAGE, UNPRIV_PROT_READ));
	/* and a good one, for contrast */
	EXPECT_EQ(0, as_protect(self->g.as, GUEST_DATA_ADDR, PAGE,
				UNPRIV_PROT_READ));
}

/* ===== UNPRIV_AS_BATCH =================================================== */

TEST_F(as, batch_ops_take_effect_in_order)
{
	struct unpriv_run *run = self->g.run;
	int m = self->mem2;
	struct unpriv_as_op ops[] = {
		/* pages 0 and 1 at X, then page 2 over X: X shows page 2 */
		map_op(X, 2 * PAGE, 0, m, PROT_RW, UNPRIV_MAP_SHARED),
		map_op(X, PAGE, 2 * PAGE, m, PROT_RW, UNPRIV_MAP_SHARED),
		/* X + PAGE goes; X becomes read-only */
		range_op(UNPRIV_AS_OP_UNMAP, X + PAGE, PAGE, 0),
		range_op(UNPRIV_AS_OP_PROTECT, X, PAGE, UNPRIV_PROT_READ),
	};
	struct unpriv_as_batch b;

	ASSERT_EQ(0, put64(m, 0, 0x20));
	ASSERT_EQ(0, put64(m, PAGE, 0x21));
	ASSERT_EQ(0, put64(m, 2 * PAGE, 0x22));
	ASSERT_EQ(0, as_batch(self->g.as, ops, ARRAY_SIZE(ops), &b));
	EXPECT_EQ(ARRAY_SIZE(ops), b.done);
	EXPECT_EQ(0, b.error);
	EXPECT_FALSE(as_is_mapped(self->g.as, X + PAGE));

	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_read_then_store));
	run->regs.rbx = X;
	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
	EXPECT_EQ(0x22, run->syscall.args[0]);
	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_FAULT, run->exit_reason);
	EXPECT_EQ(X, run->fault.address);
	EXPECT_EQ(PF_USER | PF_WRITE | PF_PRESENT, run->fault.error_code);
	EXPECT_EQ(SEGV_ACCERR, run->fault.si_code);
	EXPECT_EQ(GUEST_ADDR_OF(guest_read_then_store, guest_read_then_store_store),
		  run->regs.rip);
}

TEST_F(as, batch_stops_at_the_first_failing_op)
{
	int m = self->mem2;
	static const struct {
		const char *what;
		int error;
	} fails[] = {
		{ "protect of nothing", -ENOMEM },
		{ "map of a closed fd", -EBADF },
		{ "map with flags 0", -EINVAL },
		{ "unknown op", -EINVAL },
		{ "op reserved 1", -EINVAL },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(fails); i++) {
		struct unpriv_as_op ops[3] = {
			map_op(X, PAGE, 0, m, PROT_RW, UNPRIV_MAP_SHARED),
			{ 0 },
			map_op(X + PAGE, PAGE, 0, m, PROT_RW, UNPRIV_MAP_SHARED),
		};
		struct unpriv_as_batch b;

		switch (i) {
		case 0:
			ops[1] = range_op(UNPRIV_AS_OP_PROTECT,
					  GUEST_UNMAPPED_ADDR, PAGE, PROT_RW);
			break;
		case 1:
			ops[1] = map_op(X + PAGE, PAGE, 0, 0x7fffffff, PROT_RW,
					UNPRIV_MAP_SHARED);
			break;
		case 2:
			ops[1] = map_op(X + PAGE, PAGE, 0, m, PROT_RW, 0);
			break;
		case 3:
			ops[1] = ops[2];
			ops[1].op = 99;
			break;
		case 4:
			ops[1] = ops[2];
			ops[1].reserved = 1;
			break;
		}

		ASSERT_EQ(0, as_unmap(self->g.as, X, 2 * PAGE));
		ASSERT_EQ(0, as_batch(self->g.as, ops, 3, &b))
			TH_LOG("%s", fails[i].what);
		EXPECT_EQ(1, b.done) TH_LOG("%s", fails[i].what);
		EXPECT_EQ(fails[i].error, b.error) TH_LOG("%s", fails[i].what);
		EXPECT_TRUE(as_is_mapped(self->g.as, X))
			TH_LOG("%s: op 0 not in effect", fails[i].what);
		EXPECT_FALSE(as_is_mapped(self->g.as, X + PAGE))
			TH_LOG("%s: ran past the failing op", fails[i].what);
	}
}

TEST_F(as, batch_rejects_too_many_ops_and_flags)
{
	static struct unpriv_as_op ops[UNPRIV_AS_BATCH_MAX + 1];
	struct unpriv_as_batch b;
	unsigned int i;

	/* Op 0 maps X; the others unmap empty ranges. */
	ops[0] = map_op(X, PAGE, 0, self->mem2, PROT_RW, UNPRIV_MAP_SHARED);
	for (i = 1; i < ARRAY_SIZE(ops); i++)
		ops[i] = range_op(UNPRIV_AS_OP_UNMAP, X + i * PAGE, PAGE, 0);

	EXPECT_EQ(-EINVAL, as_batch(self->g.as, ops, UNPRIV_AS_BATCH_MAX + 1, &b));
	EXPECT_EQ(-EINVAL, as_batch(self->g.as, ops, ~0U, &b));
	b = (struct unpriv_as_batch){
		.ops = (unsigned long)ops, .count = 1, .flags = 1,
	};
	EXPECT_EQ(-1, ioctl(self->g.as, UNPRIV_AS_BATCH, &b));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_FALSE(as_is_mapped(self->g.as, X));

	/* Exactly UNPRIV_AS_BATCH_MAX is fine, and so is none. */
	ASSERT_EQ(0, as_batch(self->g.as, ops, UNPRIV_AS_BATCH_MAX, &b));
	EXPECT_EQ(UNPRIV_AS_BATCH_MAX, b.done);
	EXPECT_EQ(0, b.error);
	EXPECT_TRUE(as_is_mapped(self->g.as, X));
	ASSERT_EQ(0, as_batch(self->g.as, ops, 0, &b));
	EXPECT_EQ(0, b.done);
	EXPECT_EQ(0, b.error);
}

/*
 * A bad ops pointer is reported as the op that could not be read: the
 * call returns 0, done is its index and error -EFAULT.  Only a bad
 * pointer to the batch itself fails the call.
 */
TEST_F(as, batch_with_a_bad_ops_pointer_reports_efault)
{
	struct unpriv_as_op *ops;
	struct unpriv_as_batch b;
	void *none = inaccessible_page();
	char *two;

	ASSERT_NE(MAP_FAILED, none);
	ASSERT_EQ(0, as_batch(self->g.as, none, 1, &b));
	EXPECT_EQ(0, b.done);
	EXPECT_EQ(-EFAULT, b.error);
	ASSERT_EQ(0, as_batch(self->g.as, (void *)0xffff888000000000UL, 1, &b));
	EXPECT_EQ(0, b.done);
	EXPECT_EQ(-EFAULT, b.error);

	/* The array runs into an inaccessible page after its first op. */
	two = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, two);
	ASSERT_EQ(0, mprotect(two + PAGE, PAGE, PROT_NONE));
	ops = (struct unpriv_as_op *)(two + PAGE) - 1;
	*ops = map_op(X, PAGE, 0, self->mem2, PROT_RW, UNPRIV_MAP_SHARED);
	ASSERT_EQ(0, as_batch(self->g.as, ops, 2, &b));
	EXPECT_EQ(1, b.done);
	EXPECT_EQ(-EFAULT, b.error);
	EXPECT_TRUE(as_is_mapped(self->g.as, X));

	/* The batch struct itself unreadable: the call fails. */
	EXPECT_EQ(-1, ioctl(self->g.as, UNPRIV_AS_BATCH, none));
	EXPECT_EQ(EFAULT, errno);
	munmap(two, 2 * PAGE);
	munmap(none, PAGE);
}

/* ===== UNPRIV_AS_RW ====================================================== */

TEST_F(as, rw_writes_what_the_guest_reads_and_reads_what_it_wrote)
{
	struct unpriv_run *run = self->g.run;
	__u64 in[2] = { 0x1122334455667788ULL, 0x99aabbccddeeff00ULL };
	__u64 out[2] = { 0 };

	ASSERT_EQ(sizeof(in), as_write(self->g.as, GUEST_DATA_ADDR + PAGE,
				       in, sizeof(in)));
	EXPECT_EQ(in[0], guest_mem_read64(&self->g, GUEST_DATA_OFF + PAGE));

	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_read_then_store));
	run->regs.rbx = GUEST_DATA_ADDR + PAGE;
	run->regs.r12 = 0xfeed;
	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
	EXPECT_EQ(in[0], run->syscall.args[0]);
	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);

	ASSERT_EQ(sizeof(out), as_read(self->g.as, GUEST_DATA_ADDR + PAGE,
				       out, sizeof(out)));
	EXPECT_EQ(0xfeed, out[0]);
	EXPECT_EQ(in[1], out[1]);
}

TEST_F(as, rw_reads_the_guests_private_copy_not_the_file)
{
	struct unpriv_run *run = self->g.run;
	__u64 v = 0x0c0b;

	ASSERT_EQ(0, put64(self->mem2, 0, 0xf11e));
	ASSERT_EQ(0, as_map(self->g.as, X, PAGE, 0, self->mem2, PROT_RW,
			    UNPRIV_MAP_PRIVATE));
	EXPECT_EQ(0xf11e, as_read64(self->g.as, X));	/* not yet copied */

	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_store2));
	run->regs.rbx = X;
	run->regs.r12 = 0x9e1f;
	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
	EXPECT_EQ(0x9e1f, as_read64(self->g.as, X));
	EXPECT_EQ(0xf11e, get64(self->mem2, 0));

	/* A write goes to the guest's copy too, and the guest sees it. */
	ASSERT_EQ(sizeof(v), as_write(self->g.as, X + 8, &v, sizeof(v)));
	EXPECT_EQ(0, get64(self->mem2, 8));
	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_read_then_store));
	run->regs.rbx = X + 8;
	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
	EXPECT_EQ(0x0c0b, run->syscall.args[0]);
}

TEST_F(as, rw_writes_read_only_code_and_the_guest_runs_it)
{
	struct unpriv_run *run = self->g.run;
	size_t size = GUEST_CODE_SIZE(guest_payload);
	__u64 store = X + (guest_payload_store - guest_payload_start);

	/* Like a program's text: a private r-x mapping of a file. */
	ASSERT_EQ(0, as_map(self->g.as, X, PAGE, 0, self->mem2, PROT_RX,
			    UNPRIV_MAP_PRIVATE));
	ASSERT_EQ(size, as_write(self->g.as, X, guest_payload_start, size));
	EXPECT_EQ(0, get64(self->mem2, 0));	/* copy on write, as ptrace */

	run->regs.rip = X;
	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
	EXPECT_EQ(0x77, run->syscall.args[0]);

	/* The page is still read-only to the guest. */
	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_FAULT, run->exit_reason);
	EXPECT_EQ(store, run->fault.address);
	EXPECT_EQ(PF_USER | PF_WRITE | PF_PRESENT, run->fault.error_code);
	EXPECT_EQ(SEGV_ACCERR, run->fault.si_code);
}

TEST_F(as, rw_stops_at_the_end_of_a_mapping)
{
	const __u64 end = GUEST_DATA_ADDR + GUEST_DATA_PAGES * PAGE;
	const off_t end_off = GUEST_DATA_OFF + GUEST_DATA_PAGES * PAGE;
	char buf[64], expect[16];
	char *huge;

	memset(expect, 0x5a, sizeof(expect));
	ASSERT_EQ(sizeof(expect), pwrite(self->g.mem, expect, sizeof(expect),
					 end_off - 16));
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(16, as_read(self->g.as, end - 16, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, expect, 16));
	EXPECT_EQ(0, buf[16]);

	memset(buf, 0xa5, sizeof(buf));
	EXPECT_EQ(16, as_write(self->g.as, end - 16, buf, sizeof(buf)));
	EXPECT_EQ(0xa5a5a5a5a5a5a5a5ULL, guest_mem_read64(&self->g, end_off - 8));
	/* the stack page follows the data pages in the memfd: untouched */
	EXPECT_EQ(0, guest_mem_read64(&self->g, end_off));

	/* 1 GiB is allowed, and is cut at the end of the mapping. */
	huge = mmap(NULL, 1UL << 30, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, huge);
	EXPECT_EQ(GUEST_DATA_PAGES * PAGE,
		  as_read(self->g.as, GUEST_DATA_ADDR, huge, 1UL << 30));
	EXPECT_EQ(0xa5, (unsigned char)huge[GUEST_DATA_PAGES * PAGE - 1]);
	munmap(huge, 1UL << 30);
}

TEST_F(as, rw_of_an_unmapped_first_page_is_eio)
{
	char buf[2 * PAGE];

	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(-EIO, as_read(self->g.as, GUEST_UNMAPPED_ADDR, buf, 8));
	EXPECT_EQ(-EIO, as_write(self->g.as, GUEST_UNMAPPED_ADDR, buf, 8));
	/* starting in the hole below the data pages, ending in them */
	EXPECT_EQ(-EIO, as_read(self->g.as, GUEST_DATA_ADDR - 8, buf, 16));
	EXPECT_EQ(-EIO, as_write(self->g.as, GUEST_DATA_ADDR - PAGE, buf,
				 2 * PAGE));
	EXPECT_EQ(0, guest_mem_read64(&self->g, GUEST_DATA_OFF));
	/* a kernel address is not guest memory either */
	EXPECT_EQ(-EIO, as_read(self->g.as, 0xffffffff81000000UL, buf, 8));
}

/*
 * Fault injection (the debug kernel): each allocation AS_RW needs to
 * write a page the guest never touched (the copy-on-write page, page
 * tables) fails in turn, with /proc/thread-self/fail-nth.  The guest
 * page is mapped all along: the answer is ENOMEM, never EIO.
 */
static const char *const fail_knobs[][2] = {
	{ "/sys/kernel/debug/failslab/ignore-gfp-wait", "N" },
	{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N" },
	{ "/sys/kernel/debug/fail_page_alloc/min-order", "0" },
};

static int knob(const char *path, char *old, size_t oldlen, const char *new)
{
	int fd = open(path, O_RDWR | O_CLOEXEC), n, ret = -1;

	if (fd < 0)
		return -1;
	if (old) {
		n = read(fd, old, oldlen - 1);
		if (n <= 0)
			goto out;
		old[n] = 0;
	}
	ret = write(fd, new, strlen(new)) == (ssize_t)strlen(new) ? 0 : -1;
out:
	close(fd);
	return ret;
}

TEST_F(as, rw_that_cannot_allocate_is_enomem)
{
	char old[3][16];
	int nth, i, n, injected = 0;

	nth = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	if (nth < 0)
		SKIP(return, "no fault injection (fail-nth) in this kernel");
	for (i = 0; i < 3; i++)
		if (knob(fail_knobs[i][0], old[i], sizeof(old[i]), fail_knobs[i][1]))
			SKIP(return, "no %s", fail_knobs[i][0]);

	for (n = 1; n < 200; n++) {
		char buf[8], left[16] = "";
		long ret;
		int as;

		as = ioctl(self->g.dev, UNPRIV_CREATE_AS, 0);
		ASSERT_LE(0, as);
		ASSERT_EQ(0, as_map(as, X, PAGE, 0, self->mem2, UNPRIV_PROT_READ,
				    UNPRIV_MAP_PRIVATE));
		snprintf(buf, sizeof(buf), "%d", n);
		ASSERT_EQ(strlen(buf), pwrite(nth, buf, strlen(buf), 0));
		ret = as_write(as, X + 8, "injected", 8);
		ASSERT_LT(0, pread(nth, left, sizeof(left) - 1, 0));
		ASSERT_EQ(1, pwrite(nth, "0", 1, 0));
		close(as);
		if (atoi(left)) {
			/* fewer than n points: each one has failed once */
			EXPECT_EQ(8, ret);
			break;
		}
		injected++;
		EXPECT_TRUE(ret == 8 || ret == -ENOMEM)
			TH_LOG("allocation %d failed: AS_RW returned %ld", n, ret);
	}
	EXPECT_LT(0, injected);
	for (i = 0; i < 3; i++)
		knob(fail_knobs[i][0], NULL, 0, old[i]);
	close(nth);
}

TEST_F(as, rw_with_a_bad_buffer_is_efault)
{
	void *none = inaccessible_page();
	void *ro = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *kernel = (void *)0xffff888000000000UL;

	ASSERT_NE(MAP_FAILED, none);
	ASSERT_NE(MAP_FAILED, ro);

	EXPECT_EQ(-EFAULT, as_read(self->g.as, GUEST_DATA_ADDR, none, 8));
	EXPECT_EQ(-EFAULT, as_read(self->g.as, GUEST_DATA_ADDR, ro, 8));
	EXPECT_EQ(-EFAULT, as_read(self->g.as, GUEST_DATA_ADDR, kernel, 8));
	EXPECT_EQ(-EFAULT, as_write(self->g.as, GUEST_DATA_ADDR, none, 8));
	EXPECT_EQ(-EFAULT, as_write(self->g.as, GUEST_DATA_ADDR, kernel, 8));

	/* the struct itself unreadable */
	EXPECT_EQ(-1, ioctl(self->g.as, UNPRIV_AS_RW, none));
	EXPECT_EQ(EFAULT, errno);
	munmap(none, PAGE);
	munmap(ro, PAGE);
}

/*
 * A write from a bad buffer changes no guest byte; one from a buffer that
 * goes bad part way writes the good part and says how much.  (The first
 * version zero-filled the guest where the buffer could not be read.)
 */
TEST_F(as, rw_write_from_a_bad_buffer_leaves_the_guest_alone)
{
	const __u64 known = 0x1122334455667788ULL;
	char *two = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, two);
	ASSERT_EQ(sizeof(known), pwrite(self->g.mem, &known, sizeof(known),
					GUEST_DATA_OFF));
	EXPECT_EQ(-EFAULT, as_write(self->g.as, GUEST_DATA_ADDR, NULL, 8));
	EXPECT_EQ(known, guest_mem_read64(&self->g, GUEST_DATA_OFF));

	/* 8 good bytes, then an inaccessible page */
	ASSERT_EQ(0, munmap(two + PAGE, PAGE));
	memset(two + PAGE - 8, 0xab, 8);
	EXPECT_EQ(8, as_write(self->g.as, GUEST_DATA_ADDR, two + PAGE - 8, 16));
	EXPECT_EQ(0xababababababababULL,
		  guest_mem_read64(&self->g, GUEST_DATA_OFF));
	EXPECT_EQ(0, guest_mem_read64(&self->g, GUEST_DATA_OFF + 8));
	munmap(two, PAGE);
}

TEST_F(as, rw_rejects_unknown_flags_reserved_and_huge_len)
{
	__u64 v = 0;
	const struct unpriv_as_rw good = {
		.addr = GUEST_DATA_ADDR, .buf = (unsigned long)&v,
		.len = sizeof(v), .flags = 0,
	};
	static const struct {
		const char *what;
		__u32 flags, reserved;
		__u64 len;
	} bad[] = {
		{ "flags 0x2", .flags = 0x2 },
		{ "flags WRITE|0x80000000", .flags = UNPRIV_RW_WRITE | 0x80000000 },
		{ "reserved 1", .reserved = 1 },
		{ "len 1 GiB + 1", .len = (1UL << 30) + 1 },
		{ "len ~0", .len = ~0ULL },
	};
	unsigned int i;

	ASSERT_EQ(0, put64(self->g.mem, GUEST_DATA_OFF, 0x600d));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct unpriv_as_rw rw = good;

		rw.flags = bad[i].flags;
		rw.reserved = bad[i].reserved;
		if (bad[i].len)
			rw.len = bad[i].len;
		EXPECT_EQ(-1, ioctl(self->g.as, UNPRIV_AS_RW, &rw))
			TH_LOG("%s", bad[i].what);
		EXPECT_EQ(EINVAL, errno) TH_LOG("%s", bad[i].what);
	}
	EXPECT_EQ(0, v);
	EXPECT_EQ(sizeof(v), ioctl(self->g.as, UNPRIV_AS_RW, &good));
	EXPECT_EQ(0x600d, v);
}

/* ===== faults the address space satisfies are no exits ================== */

TEST_F(as, guest_fills_64_fresh_shared_pages_with_no_exit_but_its_syscall)
{
	struct unpriv_run *run = self->g.run;
	int i;

	ASSERT_EQ(0, as_map(self->g.as, X, MEM2_PAGES * PAGE, 0, self->mem2,
			    PROT_RW, UNPRIV_MAP_SHARED));
	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_touch_pages));
	run->regs.rbx = X;
	run->regs.r9 = MEM2_PAGES;
	run->regs.r12 = 0x5a5a000000000000ULL;

	/* One UNPRIV_RUN, one exit: the system call after the loop. */
	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
	EXPECT_EQ(MEM2_PAGES, run->regs.r8);
	EXPECT_EQ(GUEST_CODE_ADDR + GUEST_CODE_SIZE(guest_touch_pages),
		  run->regs.rip);
	for (i = 0; i < MEM2_PAGES; i++) {
		EXPECT_EQ(0x5a5a000000000000ULL + i, get64(self->mem2, i * PAGE))
			TH_LOG("page %d", i);
	}
}

TEST_F(as, guest_fills_64_fresh_private_pages_with_no_exit_but_its_syscall)
{
	struct unpriv_run *run = self->g.run;
	int i;

	ASSERT_EQ(0, as_map(self->g.as, X, MEM2_PAGES * PAGE, 0, self->mem2,
			    PROT_RW, UNPRIV_MAP_PRIVATE));
	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_touch_pages));
	run->regs.rbx = X;
	run->regs.r9 = MEM2_PAGES;
	run->regs.r12 = 0xa5a5000000000000ULL;

	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
	EXPECT_EQ(MEM2_PAGES, run->regs.r8);
	for (i = 0; i < MEM2_PAGES; i++) {
		EXPECT_EQ(0xa5a5000000000000ULL + i, as_read64(self->g.as, X + i * PAGE))
			TH_LOG("page %d", i);
		EXPECT_EQ(0, get64(self->mem2, i * PAGE)) TH_LOG("page %d", i);
	}
}

/* ===== the wrong kind of file descriptor ================================ */

TEST_F(as, as_ioctls_on_a_vcpu_or_device_fd_are_enotty)
{
	struct unpriv_as_map map = {
		.addr = X, .len = PAGE, .fd = self->mem2, .prot = PROT_RW,
		.flags = UNPRIV_MAP_SHARED,
	};
	struct unpriv_as_range unmap = { .addr = X + PAGE, .len = PAGE };
	struct unpriv_as_range protect = {
		.addr = GUEST_DATA_ADDR, .len = PAGE, .prot = PROT_RW,
	};
	struct unpriv_as_batch batch = { .ops = 0, .count = 0 };
	__u64 v;
	struct unpriv_as_rw rw = {
		.addr = GUEST_DATA_ADDR, .buf = (unsigned long)&v, .len = sizeof(v),
	};
	const struct {
		const char *what;
		unsigned long cmd;
		void *arg;
		long ok;	/* what the address space returns */
	} ioctls[] = {
		{ "UNPRIV_AS_MAP", UNPRIV_AS_MAP, &map, 0 },
		{ "UNPRIV_AS_UNMAP", UNPRIV_AS_UNMAP, &unmap, 0 },
		{ "UNPRIV_AS_PROTECT", UNPRIV_AS_PROTECT, &protect, 0 },
		{ "UNPRIV_AS_BATCH", UNPRIV_AS_BATCH, &batch, 0 },
		{ "UNPRIV_AS_RW", UNPRIV_AS_RW, &rw, sizeof(v) },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ioctls); i++) {
		EXPECT_EQ(-1, ioctl(self->g.vcpu, ioctls[i].cmd, ioctls[i].arg))
			TH_LOG("%s on a vcpu", ioctls[i].what);
		EXPECT_EQ(ENOTTY, errno) TH_LOG("%s on a vcpu", ioctls[i].what);
		EXPECT_EQ(-1, ioctl(self->g.dev, ioctls[i].cmd, ioctls[i].arg))
			TH_LOG("%s on the device", ioctls[i].what);
		EXPECT_EQ(ENOTTY, errno) TH_LOG("%s on the device", ioctls[i].what);
		EXPECT_FALSE(as_is_mapped(self->g.as, X));
	}
	/* The same calls on the address space work. */
	for (i = 0; i < ARRAY_SIZE(ioctls); i++) {
		EXPECT_EQ(ioctls[i].ok, ioctl(self->g.as, ioctls[i].cmd,
					      ioctls[i].arg))
			TH_LOG("%s on the address space: %m", ioctls[i].what);
	}
	EXPECT_TRUE(as_is_mapped(self->g.as, X));
}

GUEST_CODE(guest_just_syscall, "mov $39, %eax\nsyscall\n");

TEST_F(as, run_with_a_vcpu_device_or_other_file_as_address_space_is_einval)
{
	struct unpriv_run *run = self->g.run;

	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_just_syscall));
	EXPECT_EQ(-1, ioctl(self->g.vcpu, UNPRIV_RUN, self->g.vcpu));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->g.vcpu, UNPRIV_RUN, self->g.dev));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->g.vcpu, UNPRIV_RUN, self->g.mem));
	EXPECT_EQ(EINVAL, errno);

	/* The vcpu is none the worse. */
	ASSERT_EQ(0, guest_run(&self->g));
	EXPECT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
	EXPECT_EQ(39, run->syscall.nr);

	/* Nor when it was already bound to an address space. */
	EXPECT_EQ(-1, ioctl(self->g.vcpu, UNPRIV_RUN, self->g.vcpu));
	EXPECT_EQ(EINVAL, errno);
	run->regs.rip = GUEST_CODE_ADDR;
	ASSERT_EQ(0, guest_run(&self->g));
	EXPECT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
}

TEST_F(as, run_with_a_closed_fd_as_address_space_is_ebadf)
{
	struct unpriv_run *run = self->g.run;
	int closed = dup(self->g.as);

	ASSERT_LE(0, closed);
	ASSERT_EQ(0, close(closed));
	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_just_syscall));

	EXPECT_EQ(-1, ioctl(self->g.vcpu, UNPRIV_RUN, closed));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, ioctl(self->g.vcpu, UNPRIV_RUN, -1));
	EXPECT_EQ(EBADF, errno);

	/* Bound to the address space, the vcpu still checks the fd. */
	ASSERT_EQ(0, guest_run(&self->g));
	EXPECT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
	run->regs.rip = GUEST_CODE_ADDR;
	EXPECT_EQ(-1, ioctl(self->g.vcpu, UNPRIV_RUN, closed));
	EXPECT_EQ(EBADF, errno);
	ASSERT_EQ(0, guest_run(&self->g));
	EXPECT_EQ(UNPRIV_EXIT_SYSCALL, run->exit_reason);
}

TEST_HARNESS_MAIN
