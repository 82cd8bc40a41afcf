// SPDX-License-Identifier: GPL-2.0
/*
 * unpriv-stress --fail-nth: every allocation of each module call fails,
 * one at a time.
 *
 * Writing N to /proc/thread-self/fail-nth makes the N-th fault-injection
 * point the thread meets fail (any kind the kernel has on: failslab,
 * fail_page_alloc); reading it back gives 0 once that happened.  Each
 * case below prepares a fresh object, then makes its call with N = 1,
 * 2, ... until the call meets fewer than N points: by then each
 * allocation on its path has failed once.  Each time, the call must
 * return success or an errno it may return (ENOMEM, and what the case
 * allows), leave no fd behind, and leave its objects usable.  Leaks are
 * for kmemleak to find, after the module is unloaded.
 *
 * Injection points only count when fault injection is set up to fail
 * sleeping allocations of any order: failslab/ignore-gfp-wait N,
 * fail_page_alloc/ignore-gfp-wait N and min-order 0 (the script
 * tools/vm/unpriv-fault-inject does that).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "stress.h"
#include "unpriv_stats.h"
#include "unpriv_util.h"

#define MAX_POINTS	2000

struct nth {
	struct worker *w;
	struct guest g;
	struct guest g2;	/* a second address space, for rebinding */
	int fd;			/* what the call made, or -1 */
	void *map;		/* what mmap made */
	unsigned char img[8192];
};

struct nth_case {
	const char *name;
	int (*prepare)(struct nth *t);	/* fault injection off */
	long (*call)(struct nth *t);	/* returns >= 0 or -errno */
	int (*after)(struct nth *t, long ret);	/* 0, or -1 after fail() */
	unsigned long allowed;		/* errno bits besides ENOMEM */
};

static int fail_nth_fd = -1;

static void nth_set(struct worker *w, unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	if (pwrite(fail_nth_fd, buf, len, 0) != len)
		fail(w, "cannot write fail-nth: %s", strerror(errno));
}

static unsigned int nth_get(void)
{
	char buf[16] = "";

	if (pread(fail_nth_fd, buf, sizeof(buf) - 1, 0) <= 0)
		return ~0U;
	return strtoul(buf, NULL, 10);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* The standard guest, with the library in its code page. */
static int nth_guest(struct nth *t, struct guest *g)
{
	int ret = guest_create(g);

	if (!ret)
		ret = guest_lib_write(g->mem);
	return ret;
}

/* The guest g runs lib_sys: the exit must be that system call. */
static int nth_run_ok(struct nth *t, struct guest *g, int as)
{
	struct unpriv_run *run = g->run;
	int ret;

	run->regs.rip = guest_lib_sys_addr();
	run->regs.rax = 0x5eed;
	run->regs.rsp = GUEST_STACK_TOP;
	do {
		ret = ioctl(g->vcpu, UNPRIV_RUN, as) ? -errno : 0;
	} while (ret == -EINTR);
	if (ret || run->exit_reason != UNPRIV_EXIT_SYSCALL || run->syscall.nr != 0x5eed) {
		fail(t->w, "the vcpu does not run after the call: %s, exit %u",
		     strerror(-ret), run->exit_reason);
		return -1;
	}
	return 0;
}

/* as maps guest memory at addr: a write and a read through AS_RW agree. */
static int nth_rw_ok(struct nth *t, int as, uint64_t addr)
{
	uint64_t v = rng_next(&t->w->rng), back = 0;
	struct unpriv_as_rw rw = {
		.addr = addr, .buf = (uintptr_t)&v, .len = 8, .flags = UNPRIV_RW_WRITE,
	};

	if (ioctl(as, UNPRIV_AS_RW, &rw) != 8)
		goto bad;
	rw.buf = (uintptr_t)&back;
	rw.flags = 0;
	if (ioctl(as, UNPRIV_AS_RW, &rw) != 8 || back != v)
		goto bad;
	return 0;
bad:
	fail(t->w, "the address space does not work after the call: %s", strerror(errno));
	return -1;
}

/* --- the cases ----------------------------------------------------------------------- */

static int prep_dev(struct nth *t)
{
	t->g.dev = unpriv_open();
	return t->g.dev < 0 ? -errno : 0;
}

static long call_create_as_once(struct nth *t)
{
	long ret = ioctl(t->g.dev, UNPRIV_CREATE_AS, 0);

	return ret < 0 ? -errno : (t->fd = ret);
}

static int after_create_as(struct nth *t, long ret)
{
	struct unpriv_as_map m = {
		.addr = GUEST_DATA_ADDR, .len = GUEST_PAGE, .fd = -1,
		.prot = UNPRIV_PROT_READ | UNPRIV_PROT_WRITE, .flags = UNPRIV_MAP_SHARED,
	};
	int mem, r;

	if (ret < 0)
		return 0;
	mem = memfd_create("nth", MFD_CLOEXEC);
	if (mem < 0 || ftruncate(mem, GUEST_PAGE))
		return -1;
	m.fd = mem;
	r = ioctl(t->fd, UNPRIV_AS_MAP, &m) ? -1 : nth_rw_ok(t, t->fd, GUEST_DATA_ADDR);
	if (r && !atomic_load(&t->w->s->failures))
		fail(t->w, "cannot map into the new address space: %s", strerror(errno));
	close(mem);
	return r;
}

static int prep_guest(struct nth *t)
{
	return nth_guest(t, &t->g);
}

static long call_create_vcpu(struct nth *t)
{
	long ret = ioctl(t->g.dev, UNPRIV_CREATE_VCPU, 0);

	return ret < 0 ? -errno : (t->fd = ret);
}

static int after_create_vcpu(struct nth *t, long ret)
{
	struct guest g = t->g;
	int r;

	if (ret < 0)
		return nth_run_ok(t, &t->g, t->g.as);
	g.vcpu = t->fd;
	g.run = mmap(NULL, UNPRIV_RUN_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, t->fd, 0);
	if (g.run == MAP_FAILED) {
		fail(t->w, "cannot mmap the new vcpu: %s", strerror(errno));
		return -1;
	}
	g.run->regs.cs = UNPRIV_CS_64;
	g.run->regs.ss = UNPRIV_DS;
	r = nth_run_ok(t, &g, g.as);
	munmap(g.run, UNPRIV_RUN_SIZE);
	return r;
}

static int prep_vcpu_fd(struct nth *t)
{
	int ret = nth_guest(t, &t->g);

	if (ret)
		return ret;
	t->fd = ioctl(t->g.dev, UNPRIV_CREATE_VCPU, 0);
	return t->fd < 0 ? -errno : 0;
}

static long call_mmap_run(struct nth *t)
{
	t->map = mmap(NULL, UNPRIV_RUN_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, t->fd, 0);
	return t->map == MAP_FAILED ? -errno : 0;
}

static int after_mmap_run(struct nth *t, long ret)
{
	struct guest g = t->g;
	int r;

	if (ret < 0) {
		t->map = NULL;
		return call_mmap_run(t) ? (fail(t->w, "mmap fails after a fault"), -1) :
		       after_mmap_run(t, 0);
	}
	g.vcpu = t->fd;
	g.run = t->map;
	g.run->regs.cs = UNPRIV_CS_64;
	g.run->regs.ss = UNPRIV_DS;
	r = nth_run_ok(t, &g, g.as);
	munmap(t->map, UNPRIV_RUN_SIZE);
	t->map = NULL;
	return r;
}

/* A fresh address space, nothing mapped, for the map calls. */
static int prep_as(struct nth *t)
{
	int ret = nth_guest(t, &t->g);

	if (ret)
		return ret;
	t->fd = ioctl(t->g.dev, UNPRIV_CREATE_AS, 0);
	return t->fd < 0 ? -errno : 0;
}

static long do_map(struct nth *t, uint64_t addr, uint64_t pages, uint32_t prot,
		   uint32_t flags)
{
	struct unpriv_as_map m = {
		.addr = addr, .len = pages * GUEST_PAGE, .offset = GUEST_DATA_OFF,
		.fd = t->g.mem, .prot = prot, .flags = flags,
	};

	return ioctl(t->fd, UNPRIV_AS_MAP, &m) ? -errno : 0;
}

#define RWP	(UNPRIV_PROT_READ | UNPRIV_PROT_WRITE)

static long call_map_shared(struct nth *t)
{
	return do_map(t, 0x7f0000000000ULL, 3, RWP, UNPRIV_MAP_SHARED);
}

static long call_map_private(struct nth *t)
{
	return do_map(t, 0x7f0000000000ULL, 3, RWP, UNPRIV_MAP_PRIVATE);
}

static int after_map(struct nth *t, long ret)
{
	if (ret < 0 && do_map(t, 0x7f0000000000ULL, 3, RWP, UNPRIV_MAP_SHARED)) {
		fail(t->w, "a map fails after a fault: %s", strerror(errno));
		return -1;
	}
	return nth_rw_ok(t, t->fd, 0x7f0000001000ULL);
}

/* Three pages mapped, one by one touched: the next calls split them. */
static int prep_as_mapped(struct nth *t)
{
	int ret = prep_as(t);

	if (ret)
		return ret;
	ret = (int)do_map(t, 0x7f0000000000ULL, 3, RWP, UNPRIV_MAP_SHARED);
	if (!ret)
		ret = nth_rw_ok(t, t->fd, 0x7f0000000000ULL) ? -EIO : 0;
	return ret;
}

static long call_unmap_middle(struct nth *t)
{
	struct unpriv_as_range r = { .addr = 0x7f0000001000ULL, .len = GUEST_PAGE };

	return ioctl(t->fd, UNPRIV_AS_UNMAP, &r) ? -errno : 0;
}

static long call_protect_middle(struct nth *t)
{
	struct unpriv_as_range r = {
		.addr = 0x7f0000001000ULL, .len = GUEST_PAGE, .prot = UNPRIV_PROT_READ,
	};

	return ioctl(t->fd, UNPRIV_AS_PROTECT, &r) ? -errno : 0;
}

/* The pages either side of the middle one still work. */
static int after_split(struct nth *t, long ret)
{
	if (nth_rw_ok(t, t->fd, 0x7f0000000000ULL) ||
	    nth_rw_ok(t, t->fd, 0x7f0000002000ULL))
		return -1;
	return 0;
}

static long call_batch(struct nth *t)
{
	struct unpriv_as_op ops[4] = {
		{ .op = UNPRIV_AS_OP_MAP, .map = {
			.addr = 0x7f0000000000ULL, .len = 4 * GUEST_PAGE,
			.fd = t->g.mem, .prot = RWP, .flags = UNPRIV_MAP_PRIVATE } },
		{ .op = UNPRIV_AS_OP_PROTECT, .range = {
			.addr = 0x7f0000001000ULL, .len = GUEST_PAGE,
			.prot = UNPRIV_PROT_READ } },
		{ .op = UNPRIV_AS_OP_UNMAP, .range = {
			.addr = 0x7f0000002000ULL, .len = GUEST_PAGE } },
		{ .op = UNPRIV_AS_OP_MAP, .map = {
			.addr = 0x7f0000002000ULL, .len = GUEST_PAGE,
			.fd = t->g.mem, .prot = RWP, .flags = UNPRIV_MAP_SHARED } },
	};
	struct unpriv_as_batch b = { .ops = (uintptr_t)ops, .count = 4 };

	if (ioctl(t->fd, UNPRIV_AS_BATCH, &b))
		return -errno;
	if (b.done > 4 || (b.done == 4) != !b.error) {
		fail(t->w, "UNPRIV_AS_BATCH: done %u error %d", b.done, b.error);
		return 0;
	}
	return b.error;
}

static int after_batch(struct nth *t, long ret)
{
	return ret ? 0 : nth_rw_ok(t, t->fd, 0x7f0000002000ULL);
}

/* A private read-only page, never touched: the write copies it. */
static int prep_as_cow(struct nth *t)
{
	int ret = prep_as(t);

	return ret ? ret : (int)do_map(t, 0x7f0000000000ULL, 1, UNPRIV_PROT_READ,
				       UNPRIV_MAP_PRIVATE);
}

static long call_rw_write(struct nth *t)
{
	uint64_t v = 0x1122334455667788ULL;
	struct unpriv_as_rw rw = {
		.addr = 0x7f0000000010ULL, .buf = (uintptr_t)&v, .len = 8,
		.flags = UNPRIV_RW_WRITE,
	};
	long ret = ioctl(t->fd, UNPRIV_AS_RW, &rw);

	return ret < 0 ? -errno : ret;
}

static long call_rw_read(struct nth *t)
{
	uint64_t v;
	struct unpriv_as_rw rw = {
		.addr = 0x7f0000000010ULL, .buf = (uintptr_t)&v, .len = 8,
	};
	long ret = ioctl(t->fd, UNPRIV_AS_RW, &rw);

	return ret < 0 ? -errno : ret;
}

static int after_rw(struct nth *t, long ret)
{
	if (ret >= 0 && ret != 8) {
		fail(t->w, "UNPRIV_AS_RW copied %ld bytes of 8", ret);
		return -1;
	}
	return nth_rw_ok(t, t->fd, 0x7f0000000000ULL);
}

static long call_get_fpu(struct nth *t)
{
	struct unpriv_fpu f = { .buf = (uintptr_t)t->img, .size = t->w->s->fpu_size };

	return ioctl(t->g.vcpu, UNPRIV_GET_FPU, &f) ? -errno : 0;
}

static long call_set_fpu(struct nth *t)
{
	struct unpriv_fpu f = { .buf = (uintptr_t)t->img, .size = t->w->s->fpu_size };

	return ioctl(t->g.vcpu, UNPRIV_SET_FPU, &f) ? -errno : 0;
}

static int prep_fpu(struct nth *t)
{
	int ret = nth_guest(t, &t->g);

	return ret ? ret : (int)call_get_fpu(t);
}

static int after_fpu(struct nth *t, long ret)
{
	return nth_run_ok(t, &t->g, t->g.as);
}

/* A guest whose memory was never touched: the run faults it in. */
GUEST_CODE(nth_touch,
	"mov $0x200000, %rdi\n"
	"movq $0x1234, (%rdi)\n"
	"push %rdi\n"
	"mov $0x5afe, %eax\n"
	"syscall\n");

static int prep_touch(struct nth *t)
{
	int ret = guest_create(&t->g);

	if (ret)
		return ret;
	return guest_load(&t->g, nth_touch_start, GUEST_CODE_SIZE(nth_touch));
}

static long call_run(struct nth *t)
{
	return ioctl(t->g.vcpu, UNPRIV_RUN, t->g.as) ? -errno : 0;
}

static int after_touch(struct nth *t, long ret)
{
	if (ret || t->g.run->exit_reason != UNPRIV_EXIT_SYSCALL ||
	    t->g.run->syscall.nr != 0x5afe ||
	    guest_mem_read64(&t->g, GUEST_DATA_OFF) != 0x1234) {
		fail(t->w, "a guest touching new memory: %s, exit %u",
		     strerror(-ret), t->g.run->exit_reason);
		return -1;
	}
	return 0;
}

/*
 * A run that ends in a trap (int3) or a fault (a load from nothing),
 * warmed up once: each run then makes the same allocations, the trap's
 * signal among them.  Its exit must be the trap or fault, whatever
 * failed, and nothing may reach the host (on_escape would end us).
 */
GUEST_CODE(nth_trap, "int3\n");
GUEST_CODE(nth_fault, "mov $0x400000, %rax\nmov (%rax), %rax\n");

static int prep_exit(struct nth *t, const char *code, size_t size)
{
	int ret = guest_create(&t->g);

	if (!ret)
		ret = guest_load(&t->g, code, size);
	if (!ret)
		ret = (int)call_run(t);
	t->g.run->regs.rip = GUEST_CODE_ADDR;
	return ret;
}

static int prep_trap(struct nth *t)
{
	return prep_exit(t, nth_trap_start, GUEST_CODE_SIZE(nth_trap));
}

static int prep_fault(struct nth *t)
{
	return prep_exit(t, nth_fault_start, GUEST_CODE_SIZE(nth_fault));
}

static int after_exit(struct nth *t, long ret, unsigned int reason, int signo)
{
	struct unpriv_run *run = t->g.run;
	int got = reason == UNPRIV_EXIT_TRAP ? run->trap.signo : run->fault.signo;

	if (ret || run->exit_reason != reason || got != signo) {
		fail(t->w, "a run that %s: %s, exit %u signal %d",
		     reason == UNPRIV_EXIT_TRAP ? "traps" : "faults",
		     strerror((int)-ret), run->exit_reason, got);
		return -1;
	}
	return 0;
}

static int after_trap(struct nth *t, long ret)
{
	return after_exit(t, ret, UNPRIV_EXIT_TRAP, SIGTRAP);
}

static int after_fault(struct nth *t, long ret)
{
	return after_exit(t, ret, UNPRIV_EXIT_FAULT, SIGSEGV);
}

/* A vcpu that ran in one address space, run in another. */
static int prep_rebind(struct nth *t)
{
	int ret = nth_guest(t, &t->g);

	if (!ret)
		ret = nth_guest(t, &t->g2);
	if (!ret)
		ret = nth_run_ok(t, &t->g, t->g.as) ? -EIO : 0;
	t->g.run->regs.rip = guest_lib_sys_addr();
	t->g.run->regs.rax = 0x5eed;
	return ret;
}

static long call_run_other_as(struct nth *t)
{
	return ioctl(t->g.vcpu, UNPRIV_RUN, t->g2.as) ? -errno : 0;
}

static int after_rebind(struct nth *t, long ret)
{
	return nth_run_ok(t, &t->g, t->g2.as);
}

/* guest_create() as a whole: device, spaces, vcpu, maps. */
static int prep_nothing(struct nth *t)
{
	return 0;
}

static long call_guest_create(struct nth *t)
{
	return guest_create(&t->g2);
}

static int after_guest_create(struct nth *t, long ret)
{
	if (ret < 0)
		return 0;
	if (guest_lib_write(t->g2.mem))
		return -1;
	return nth_run_ok(t, &t->g2, t->g2.as);
}

static long call_vcpu_stats_fd(struct nth *t)
{
	long ret = ioctl(t->g.vcpu, UNPRIV_GET_STATS_FD, 0);

	return ret < 0 ? -errno : (t->fd = ret);
}

static long call_global_stats_fd(struct nth *t)
{
	long ret = ioctl(t->g.dev, UNPRIV_GET_GLOBAL_STATS_FD, 0);

	return ret < 0 ? -errno : (t->fd = ret);
}

/* The exit count of fd, or -1 when it cannot be read. */
static long long nth_exits(int fd)
{
	struct stats_file sf;
	long long n = -1;
	int i;

	if (stats_file_open(&sf, fd))
		return -1;
	i = stats_file_find(&sf, "exits_syscall");
	if (i >= 0 && !stats_file_read(&sf))
		n = stats_file_value(&sf, i);
	stats_file_close(&sf);
	return n;
}

/*
 * After a stats file was asked for: a file is made (again, when the call
 * failed), reads right, and a vcpu's counts the vcpu's next exit.
 */
static int after_stats_fd(struct nth *t, long ret)
{
	bool vcpu = t->g.vcpu >= 0;
	long long before;

	if (ret < 0 &&
	    (vcpu ? call_vcpu_stats_fd(t) : call_global_stats_fd(t)) < 0) {
		fail(t->w, "no stats file after a fault: %s", strerror(errno));
		return -1;
	}
	before = nth_exits(t->fd);
	if (before < 0)
		goto bad;
	if (!vcpu)
		return 0;
	if (nth_run_ok(t, &t->g, t->g.as))
		return -1;
	if (nth_exits(t->fd) == before + 1)
		return 0;
bad:
	fail(t->w, "the stats file does not read right after the call");
	return -1;
}

#define EB(e)	(1UL << (e))

static const struct nth_case cases[] = {
	{ "create-as", prep_dev, call_create_as_once, after_create_as, 0 },
	{ "create-vcpu", prep_guest, call_create_vcpu, after_create_vcpu, 0 },
	{ "mmap-run", prep_vcpu_fd, call_mmap_run, after_mmap_run, 0 },
	{ "map-shared", prep_as, call_map_shared, after_map, 0 },
	{ "map-private", prep_as, call_map_private, after_map, 0 },
	{ "unmap-split", prep_as_mapped, call_unmap_middle, after_split, 0 },
	{ "protect-split", prep_as_mapped, call_protect_middle, after_split, 0 },
	{ "batch", prep_as, call_batch, after_batch, 0 },
	{ "rw-write-cow", prep_as_cow, call_rw_write, after_rw, 0 },
	{ "rw-read", prep_as_mapped, call_rw_read, after_rw, 0 },
	{ "get-fpu", prep_fpu, call_get_fpu, after_fpu, 0 },
	{ "set-fpu", prep_fpu, call_set_fpu, after_fpu, 0 },
	{ "run-fault-in", prep_touch, call_run, after_touch, 0 },
	{ "run-trap", prep_trap, call_run, after_trap, 0 },
	{ "run-fault", prep_fault, call_run, after_fault, 0 },
	{ "run-rebind", prep_rebind, call_run_other_as, after_rebind, 0 },
	{ "vcpu-stats-fd", prep_guest, call_vcpu_stats_fd, after_stats_fd, 0 },
	{ "global-stats-fd", prep_dev, call_global_stats_fd, after_stats_fd, 0 },
	/* memfd_create and ftruncate: shmem says ENOSPC for a failed inode */
	{ "guest-create", prep_nothing, call_guest_create, after_guest_create,
	  EB(ENOSPC) },
};

static void nth_cleanup(struct nth *t)
{
	if (t->map && t->map != MAP_FAILED)
		munmap(t->map, UNPRIV_RUN_SIZE);
	if (t->fd >= 0)
		close(t->fd);
	guest_destroy(&t->g);
	guest_destroy(&t->g2);
}

static void nth_init(struct nth *t, struct worker *w)
{
	memset(t, 0, sizeof(*t));
	t->w = w;
	t->fd = -1;
	t->g.dev = t->g.as = t->g.vcpu = t->g.mem = -1;
	t->g.run = MAP_FAILED;
	t->g2 = t->g;
}

/* Is fault injection set up so that fail-nth meets every allocation? */
static int check_setup(void)
{
	static const struct { const char *path, *want; } need[] = {
		{ "/sys/kernel/debug/failslab/ignore-gfp-wait", "N" },
		{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N" },
		{ "/sys/kernel/debug/fail_page_alloc/min-order", "0" },
	};
	unsigned int i;

	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		char buf[16] = "";
		int fd = open(need[i].path, O_RDONLY | O_CLOEXEC);

		if (fd < 0 || read(fd, buf, sizeof(buf) - 1) <= 0 ||
		    strncmp(buf, need[i].want, strlen(need[i].want))) {
			fprintf(stderr, "unpriv-stress: --fail-nth needs %s to be %s\n",
				need[i].path, need[i].want);
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
	}
	fail_nth_fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	if (fail_nth_fd < 0) {
		perror("unpriv-stress: /proc/thread-self/fail-nth");
		return -1;
	}
	return 0;
}

int fail_nth_main(struct stress *s)
{
	static struct nth t;
	struct worker *w = &s->workers[0];
	unsigned int i, n, total = 0;
	int ret;

	if (check_setup() || host_state_init(w))
		return 2;
	w->tid = gettid();

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct nth_case *c = &cases[i];
		unsigned long errs[ERRNO_MAX] = { 0 };
		char line[512];
		int len, e, shown = 0;

		w->iteration = i;
		for (n = 1; n <= MAX_POINTS && !atomic_load(&s->failures); n++) {
			int fds = count_fds();
			unsigned int left;
			long r;

			nth_init(&t, w);
			ret = c->prepare(&t);
			if (ret) {
				fail(w, "%s: cannot prepare: %s", c->name, strerror(-ret));
				break;
			}
			nth_set(w, n);
			r = c->call(&t);
			left = nth_get();
			nth_set(w, 0);

			if (r < 0) {
				e = (int)-r;
				errs[e < ERRNO_MAX ? e : ERRNO_MAX - 1]++;
				if (left != 0)
					fail(w, "%s failed with %s, no fault injected",
					     c->name, strerror(e));
				else if (e != ENOMEM && !(e < 64 && (c->allowed & EB(e))))
					fail(w, "%s: a failed allocation made it return %s",
					     c->name, strerror(e));
			}
			if (!atomic_load(&s->failures))
				c->after(&t, r);
			nth_cleanup(&t);
			if (count_fds() != fds)
				fail(w, "%s with fault %u: %d fds open before, %d after",
				     c->name, n, fds, count_fds());
			if (left != 0)
				break;
		}
		if (n > MAX_POINTS)
			fail(w, "%s: still failing at fault %u", c->name, n);
		total += n - 1;
		len = snprintf(line, sizeof(line), "fail-nth: %-14s %3u allocation points",
			       c->name, n - 1);
		for (e = 1; e < ERRNO_MAX; e++)
			if (errs[e])
				len += snprintf(line + len, sizeof(line) - len, "%s%s %lu",
						shown++ ? ", " : "; calls failed with ",
						strerrorname_np(e), errs[e]);
		printf("%s\n", line);
		if (atomic_load(&s->failures))
			break;
	}
	printf("fail-nth: %u allocation points in %zu calls failed one at a time\n",
	       total, sizeof(cases) / sizeof(cases[0]));
	if (atomic_load(&s->failures)) {
		printf("unpriv-stress: FAIL\n");
		return 1;
	}
	printf("unpriv-stress: PASS\n");
	return 0;
}
