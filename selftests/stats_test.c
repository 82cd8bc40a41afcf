// SPDX-License-Identifier: GPL-2.0
/*
 * Exit counts (UNPRIV_CAP_STATS): the binary stats files of a vcpu and of
 * the device, read as a reader of KVM's stats files would (unpriv_stats.h),
 * against guests that make a known number of exits of each kind; what the
 * files hold on to, and the calls they refuse.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <linux/kvm.h>

#include "kselftest_harness.h"
#include "unpriv_util.h"
#include "unpriv_stats.h"

/* The counts, as a reader asks for them: by name. */
enum { SYSCALL, FAULT, TRAP, INTR, KICKS, NCOUNTS };

static const char * const count_names[NCOUNTS] = {
	"exits_syscall", "exits_fault", "exits_trap", "exits_intr", "kicks",
};

/*
 * Read the counts from the stats file fd: 0, or -errno (-EPROTO: the
 * file is malformed; -ENOENT: a count is missing).
 */
static int counts_read(int fd, __u64 counts[NCOUNTS])
{
	struct stats_file s;
	int i, j, ret;

	ret = stats_file_open(&s, fd);
	if (ret)
		return ret;
	ret = stats_file_read(&s);
	for (i = 0; !ret && i < NCOUNTS; i++) {
		j = stats_file_find(&s, count_names[i]);
		if (j < 0)
			ret = -ENOENT;
		else
			counts[i] = stats_file_value(&s, j);
	}
	stats_file_close(&s);
	return ret;
}

/* The counts of fd must be base plus want (base NULL: zero). */
static void counts_expect(struct __test_metadata *_metadata, int fd,
			  const __u64 *base, const __u64 want[NCOUNTS])
{
	__u64 now[NCOUNTS];
	int i;

	ASSERT_EQ(0, counts_read(fd, now));
	for (i = 0; i < NCOUNTS; i++) {
		/* Not in TH_LOG(): gcc 12 would see a NULL there. */
		const char *name = count_names[i];

		EXPECT_EQ(want[i], now[i] - (base ? base[i] : 0))
			TH_LOG("%s of stats file %d", name, fd);
	}
}

static void on_usr1(int sig)
{
}

FIXTURE(stats) {
	struct guest g;
	int vcpu_stats;		/* the vcpu's stats file */
	int all_stats;		/* every vcpu's */
	__u64 all_base[NCOUNTS];	/* every vcpu's counts at the start */
};

FIXTURE_SETUP(stats)
{
	struct sigaction sa = { .sa_handler = on_usr1 };

	self->vcpu_stats = -1;
	self->all_stats = -1;
	GUEST_SETUP(&self->g);
	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_exit_by_rdi));
	ASSERT_LT(0, ioctl(self->g.dev, UNPRIV_CHECK_EXTENSION,
			   UNPRIV_CAP_STATS));
	self->vcpu_stats = ioctl(self->g.vcpu, UNPRIV_GET_STATS_FD, 0);
	ASSERT_LE(0, self->vcpu_stats) TH_LOG("UNPRIV_GET_STATS_FD: %m");
	self->all_stats = ioctl(self->g.dev, UNPRIV_GET_GLOBAL_STATS_FD, 0);
	ASSERT_LE(0, self->all_stats)
		TH_LOG("UNPRIV_GET_GLOBAL_STATS_FD: %m");
	ASSERT_EQ(0, counts_read(self->all_stats, self->all_base));
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
}

FIXTURE_TEARDOWN(stats)
{
	if (self->vcpu_stats >= 0)
		close(self->vcpu_stats);
	if (self->all_stats >= 0)
		close(self->all_stats);
	guest_destroy(&self->g);
}

TEST(the_extension_is_announced)
{
	int dev;

	REQUIRE_UNPRIV();
	dev = unpriv_open();
	ASSERT_LE(0, dev);
	EXPECT_EQ(1, ioctl(dev, UNPRIV_CHECK_EXTENSION, UNPRIV_CAP_STATS));
	close(dev);
}

/* The layout and flags are KVM's, so that its readers read these files. */
TEST(the_layout_is_kvms)
{
	struct kvm_stats_header kh = {
		.flags = 1, .name_size = 2, .num_desc = 3, .id_offset = 4,
		.desc_offset = 5, .data_offset = 6,
	};
	struct kvm_stats_desc kd = {
		.flags = 1, .exponent = -2, .size = 3, .offset = 4,
		.bucket_size = 5,
	};
	struct unpriv_stats_header uh;
	struct unpriv_stats_desc ud;
#define SAME_FLAG(x) { #x, UNPRIV_STATS_##x, KVM_STATS_##x }
	static const struct {
		const char *name;
		__u32 ours, kvms;
	} flags[] = {
		SAME_FLAG(TYPE_MASK), SAME_FLAG(TYPE_CUMULATIVE),
		SAME_FLAG(TYPE_INSTANT), SAME_FLAG(TYPE_PEAK),
		SAME_FLAG(TYPE_LINEAR_HIST), SAME_FLAG(TYPE_LOG_HIST),
		SAME_FLAG(TYPE_MAX), SAME_FLAG(UNIT_MASK), SAME_FLAG(UNIT_NONE),
		SAME_FLAG(UNIT_BYTES), SAME_FLAG(UNIT_SECONDS),
		SAME_FLAG(UNIT_CYCLES), SAME_FLAG(UNIT_BOOLEAN),
		SAME_FLAG(UNIT_MAX), SAME_FLAG(BASE_MASK), SAME_FLAG(BASE_POW10),
		SAME_FLAG(BASE_POW2), SAME_FLAG(BASE_MAX),
	};
#undef SAME_FLAG
	int i;

	/* Without the module every test skips, as kselftest expects. */
	REQUIRE_UNPRIV();

	ASSERT_EQ(sizeof(kh), sizeof(uh));
	memcpy(&uh, &kh, sizeof(uh));
	EXPECT_EQ(1, uh.flags);
	EXPECT_EQ(2, uh.name_size);
	EXPECT_EQ(3, uh.num_desc);
	EXPECT_EQ(4, uh.id_offset);
	EXPECT_EQ(5, uh.desc_offset);
	EXPECT_EQ(6, uh.data_offset);

	ASSERT_EQ(sizeof(kd), sizeof(ud));
	memcpy(&ud, &kd, sizeof(ud));
	EXPECT_EQ(1, ud.flags);
	EXPECT_EQ(-2, ud.exponent);
	EXPECT_EQ(3, ud.size);
	EXPECT_EQ(4, ud.offset);
	EXPECT_EQ(5, ud.bucket_size);
	EXPECT_EQ(offsetof(struct kvm_stats_desc, name),
		  offsetof(struct unpriv_stats_desc, name));

	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		const char *name = flags[i].name;

		EXPECT_EQ(flags[i].kvms, flags[i].ours) TH_LOG("%s", name);
	}
}

/* What a reader relies on, beyond what stats_file_open() checks. */
static void expect_well_formed(struct __test_metadata *_metadata, int fd,
			       const char *id)
{
	struct stats_file s;
	int i, j;

	ASSERT_EQ(0, stats_file_open(&s, fd)) TH_LOG("%s", s.error);
	EXPECT_EQ(UNPRIV_STATS_NAME_SIZE, s.header.name_size);
	EXPECT_EQ(0, strncmp(s.id, id, strlen(id))) TH_LOG("id '%s'", s.id);
	for (i = 0; i < NCOUNTS; i++) {
		const struct unpriv_stats_desc *d;

		j = stats_file_find(&s, count_names[i]);
		ASSERT_LE(0, j) TH_LOG("no %s", count_names[i]);
		d = stats_file_desc(&s, j);
		EXPECT_EQ(UNPRIV_STATS_TYPE_CUMULATIVE | UNPRIV_STATS_UNIT_NONE |
			  UNPRIV_STATS_BASE_POW10, d->flags);
		EXPECT_EQ(0, d->exponent);
		EXPECT_EQ(1, d->size);
	}
	EXPECT_EQ(NCOUNTS, s.header.num_desc);
	/* Descriptors do not overlap: names are unique, offsets too. */
	for (i = 0; i < s.header.num_desc; i++)
		for (j = 0; j < i; j++)
			EXPECT_NE(stats_file_desc(&s, i)->offset,
				  stats_file_desc(&s, j)->offset);
	/* Its end is the end of the data. */
	EXPECT_EQ(s.header.data_offset + s.data_size, lseek(fd, 0, SEEK_END));
	EXPECT_EQ(O_RDONLY, fcntl(fd, F_GETFL) & O_ACCMODE);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD));
	stats_file_close(&s);
}

TEST_F(stats, the_vcpu_file_is_well_formed_and_starts_at_zero)
{
	static const __u64 zero[NCOUNTS];

	expect_well_formed(_metadata, self->vcpu_stats, "unpriv-vcpu-");
	counts_expect(_metadata, self->vcpu_stats, NULL, zero);
}

TEST_F(stats, the_global_file_is_well_formed)
{
	char id[UNPRIV_STATS_NAME_SIZE] = "";
	struct unpriv_stats_header h;

	expect_well_formed(_metadata, self->all_stats, "unpriv");
	ASSERT_EQ(0, stats_pread(self->all_stats, &h, sizeof(h), 0));
	ASSERT_EQ(0, stats_pread(self->all_stats, id, sizeof(id), h.id_offset));
	EXPECT_STREQ("unpriv", id);
}

TEST_F(stats, exits_are_counted_by_reason)
{
	static const int order[] = {
		GUEST_DO_SYSCALL, GUEST_DO_FAULT, GUEST_DO_SYSCALL,
		GUEST_DO_TRAP, GUEST_DO_SYSCALL, GUEST_DO_FAULT,
		GUEST_DO_SYSCALL, GUEST_DO_FAULT, GUEST_DO_TRAP,
		GUEST_DO_SYSCALL,
	};
	const __u64 want[NCOUNTS] = {
		[SYSCALL] = 5, [FAULT] = 3, [TRAP] = 2, [INTR] = 1, [KICKS] = 1,
	};
	struct guest_runner r;
	pthread_t t;
	int i;

	for (i = 0; i < ARRAY_SIZE(order); i++)
		ASSERT_EQ(0, guest_exit_once(&self->g, order[i]))
			TH_LOG("run %d: exit %u", i, self->g.run->exit_reason);
	/* A kick of a guest in guest mode: one INTR exit, one kick. */
	ASSERT_EQ(0, guest_exit_spinning(&self->g, &r, &t));
	ASSERT_EQ(0, ioctl(self->g.vcpu, UNPRIV_KICK, 0));
	ASSERT_EQ(0, pthread_join(t, NULL));
	ASSERT_EQ(-EINTR, r.ret);

	counts_expect(_metadata, self->vcpu_stats, NULL, want);
	counts_expect(_metadata, self->all_stats, self->all_base, want);
}

TEST_F(stats, a_host_signal_is_an_intr_exit_and_no_kick)
{
	const __u64 want[NCOUNTS] = { [INTR] = 1 };
	struct guest_runner r;
	pthread_t t;

	ASSERT_EQ(0, guest_exit_spinning(&self->g, &r, &t));
	ASSERT_EQ(0, pthread_kill(t, SIGUSR1));
	ASSERT_EQ(0, pthread_join(t, NULL));
	ASSERT_EQ(-EINTR, r.ret);
	counts_expect(_metadata, self->vcpu_stats, NULL, want);
	counts_expect(_metadata, self->all_stats, self->all_base, want);
}

/*
 * Kicks count when they are made; a RUN that a kick (or immediate_exit)
 * ends before it enters the guest is no exit.
 */
TEST_F(stats, kicks_count_and_a_run_that_never_entered_is_no_exit)
{
	const __u64 want[NCOUNTS] = { [SYSCALL] = 1, [KICKS] = 3 };
	int i;

	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, ioctl(self->g.vcpu, UNPRIV_KICK, 0));
	guest_exit_prepare(&self->g, GUEST_DO_SYSCALL);
	EXPECT_EQ(-EINTR, guest_run(&self->g));
	self->g.run->immediate_exit = 1;
	EXPECT_EQ(-EINTR, guest_run(&self->g));
	self->g.run->immediate_exit = 0;
	EXPECT_EQ(UNPRIV_EXIT_INTR, self->g.run->exit_reason);
	ASSERT_EQ(0, guest_exit_once(&self->g, GUEST_DO_SYSCALL));
	counts_expect(_metadata, self->vcpu_stats, NULL, want);
	counts_expect(_metadata, self->all_stats, self->all_base, want);
}

TEST_F(stats, each_vcpu_counts_its_own)
{
	const __u64 want1[NCOUNTS] = { [SYSCALL] = 2 };
	const __u64 want2[NCOUNTS] = { [SYSCALL] = 1, [TRAP] = 1 };
	const __u64 want_all[NCOUNTS] = { [SYSCALL] = 3, [TRAP] = 1 };
	char id1[UNPRIV_STATS_NAME_SIZE], id2[UNPRIV_STATS_NAME_SIZE];
	struct unpriv_stats_header h;
	struct guest g2;
	int stats2;

	ASSERT_EQ(0, GUEST_MAKE(&g2, guest_exit_by_rdi));
	stats2 = ioctl(g2.vcpu, UNPRIV_GET_STATS_FD, 0);
	ASSERT_LE(0, stats2);
	ASSERT_EQ(0, guest_exit_once(&self->g, GUEST_DO_SYSCALL));
	ASSERT_EQ(0, guest_exit_once(&g2, GUEST_DO_TRAP));
	ASSERT_EQ(0, guest_exit_once(&self->g, GUEST_DO_SYSCALL));
	ASSERT_EQ(0, guest_exit_once(&g2, GUEST_DO_SYSCALL));
	counts_expect(_metadata, self->vcpu_stats, NULL, want1);
	counts_expect(_metadata, stats2, NULL, want2);
	counts_expect(_metadata, self->all_stats, self->all_base, want_all);

	/* Their ids differ. */
	ASSERT_EQ(0, stats_pread(stats2, &h, sizeof(h), 0));
	ASSERT_EQ(0, stats_pread(stats2, id2, sizeof(id2), h.id_offset));
	ASSERT_EQ(0, stats_pread(self->vcpu_stats, id1, sizeof(id1),
				 h.id_offset));
	EXPECT_STRNE(id1, id2);
	close(stats2);
	guest_destroy(&g2);
}

TEST_F(stats, two_files_of_one_vcpu_read_the_same)
{
	const __u64 want[NCOUNTS] = { [FAULT] = 1 };
	int again = ioctl(self->g.vcpu, UNPRIV_GET_STATS_FD, 0);

	ASSERT_LE(0, again);
	ASSERT_EQ(0, guest_exit_once(&self->g, GUEST_DO_FAULT));
	counts_expect(_metadata, self->vcpu_stats, NULL, want);
	counts_expect(_metadata, again, NULL, want);
	close(again);
}

/*
 * The vcpu closed first: its file is released (and the address space
 * with it), and the stats file reads the counts it left.
 */
TEST_F(stats, counts_outlive_the_vcpu)
{
	const __u64 want[NCOUNTS] = { [SYSCALL] = 2, [TRAP] = 1 };
	long before;

	ASSERT_EQ(0, guest_exit_once(&self->g, GUEST_DO_SYSCALL));
	ASSERT_EQ(0, guest_exit_once(&self->g, GUEST_DO_TRAP));
	ASSERT_EQ(0, guest_exit_once(&self->g, GUEST_DO_SYSCALL));
	before = unpriv_module_refcnt();
	ASSERT_LT(0, before);
	ASSERT_EQ(0, munmap(self->g.run, UNPRIV_RUN_SIZE));
	self->g.run = MAP_FAILED;
	ASSERT_EQ(0, close(self->g.vcpu));
	self->g.vcpu = -1;
	ASSERT_EQ(0, close(self->g.as));
	self->g.as = -1;
	/* The vcpu's file and the space's each held the module. */
	EXPECT_EQ(before - 2, unpriv_module_refcnt());

	counts_expect(_metadata, self->vcpu_stats, NULL, want);
	counts_expect(_metadata, self->all_stats, self->all_base, want);
	ASSERT_EQ(0, close(self->vcpu_stats));
	self->vcpu_stats = -1;
	EXPECT_EQ(before - 3, unpriv_module_refcnt());
}

/* The stats file closed first: the vcpu counts on, from its creation. */
TEST_F(stats, the_vcpu_counts_on_after_its_stats_file_is_closed)
{
	const __u64 want[NCOUNTS] = { [SYSCALL] = 2 };
	long before = unpriv_module_refcnt();

	ASSERT_EQ(0, guest_exit_once(&self->g, GUEST_DO_SYSCALL));
	ASSERT_EQ(0, close(self->vcpu_stats));
	EXPECT_EQ(before - 1, unpriv_module_refcnt());
	ASSERT_EQ(0, guest_exit_once(&self->g, GUEST_DO_SYSCALL));
	self->vcpu_stats = ioctl(self->g.vcpu, UNPRIV_GET_STATS_FD, 0);
	ASSERT_LE(0, self->vcpu_stats);
	EXPECT_EQ(before, unpriv_module_refcnt());
	counts_expect(_metadata, self->vcpu_stats, NULL, want);
}

/* Both files, and the vcpu, closed while its guest runs. */
TEST_F(stats, files_closed_while_the_vcpu_runs)
{
	const __u64 want[NCOUNTS] = { [INTR] = 1 };
	struct guest_runner r;
	int stats;
	pthread_t t;

	ASSERT_EQ(0, guest_exit_spinning(&self->g, &r, &t));
	stats = ioctl(self->g.vcpu, UNPRIV_GET_STATS_FD, 0);
	ASSERT_LE(0, stats);
	ASSERT_EQ(0, close(self->vcpu_stats));
	self->vcpu_stats = stats;
	ASSERT_EQ(0, close(self->g.vcpu));
	self->g.vcpu = -1;
	ASSERT_EQ(0, pthread_kill(t, SIGUSR1));
	ASSERT_EQ(0, pthread_join(t, NULL));
	ASSERT_EQ(-EINTR, r.ret);
	counts_expect(_metadata, self->vcpu_stats, NULL, want);
	counts_expect(_metadata, self->all_stats, self->all_base, want);
}

struct busy_runner {
	struct guest *g;
	volatile int stop;
	int runs, failed;
};

static void *busy_run(void *arg)
{
	struct busy_runner *b = arg;

	while (!b->stop && !b->failed) {
		if (guest_exit_once(b->g, GUEST_DO_SYSCALL))
			b->failed = 1;
		else
			b->runs++;
	}
	return NULL;
}

/*
 * Read while the vcpu runs, until the reads have seen it make 200 exits
 * (however late its thread starts): counts only grow, and end exact.
 */
TEST_F(stats, reading_while_the_vcpu_runs)
{
	struct busy_runner b = { .g = &self->g };
	__u64 last[NCOUNTS] = { 0 }, all_last = 0, now[NCOUNTS];
	time_t deadline = time(NULL) + 20;
	pthread_t t;

	ASSERT_EQ(0, pthread_create(&t, NULL, busy_run, &b));
	while (last[SYSCALL] < 200 && !b.failed && time(NULL) < deadline) {
		ASSERT_EQ(0, counts_read(self->vcpu_stats, now));
		ASSERT_LE(last[SYSCALL], now[SYSCALL]);
		last[SYSCALL] = now[SYSCALL];
		ASSERT_EQ(0, counts_read(self->all_stats, now));
		ASSERT_LE(all_last, now[SYSCALL]);
		all_last = now[SYSCALL];
	}
	b.stop = 1;
	ASSERT_EQ(0, pthread_join(t, NULL));
	ASSERT_EQ(0, b.failed);
	EXPECT_LE(200, last[SYSCALL]) TH_LOG("the reads saw no 200 exits in 20 s");
	last[SYSCALL] = b.runs;
	counts_expect(_metadata, self->vcpu_stats, NULL, last);
	counts_expect(_metadata, self->all_stats, self->all_base, last);
}

/* Reads of any size from any offset give the same bytes as one read. */
TEST_F(stats, reads_in_pieces_match_one_read)
{
	char whole[1024], piece[1024];
	ssize_t size, n;
	int i;

	size = pread(self->vcpu_stats, whole, sizeof(whole), 0);
	ASSERT_LT(sizeof(struct unpriv_stats_header), size);
	ASSERT_GT(sizeof(whole), size);
	ASSERT_EQ(0, lseek(self->vcpu_stats, 0, SEEK_SET));
	for (i = 0; i < size; i += n) {
		n = read(self->vcpu_stats, piece + i, i % 7 + 1);
		ASSERT_LT(0, n) TH_LOG("read at %d: %zd", i, n);
	}
	EXPECT_EQ(size, i);
	EXPECT_EQ(0, read(self->vcpu_stats, piece, 1));
	EXPECT_EQ(0, memcmp(whole, piece, size));
	EXPECT_EQ(3, pread(self->vcpu_stats, piece, 3, size - 3));
	EXPECT_EQ(0, memcmp(whole + size - 3, piece, 3));
	EXPECT_EQ(3, pread(self->vcpu_stats, piece, 100, size - 3));
	EXPECT_EQ(size - 5, lseek(self->vcpu_stats, -5, SEEK_END));
	EXPECT_EQ(5, read(self->vcpu_stats, piece, sizeof(piece)));
	EXPECT_EQ(0, memcmp(whole + size - 5, piece, 5));
}

TEST_F(stats, bad_offsets_sizes_and_buffers)
{
	char buf[64];
	off_t end = lseek(self->vcpu_stats, 0, SEEK_END);
	int fds[] = { self->vcpu_stats, self->all_stats };
	int i;

	ASSERT_LT(0, end);
	for (i = 0; i < ARRAY_SIZE(fds); i++) {
		EXPECT_EQ(-1, pread(fds[i], buf, sizeof(buf), -1));
		EXPECT_EQ(EINVAL, errno);
		EXPECT_EQ(0, pread(fds[i], buf, sizeof(buf), end));
		EXPECT_EQ(0, pread(fds[i], buf, sizeof(buf), 1LL << 40));
		EXPECT_EQ(0, pread(fds[i], buf, 0, 0));
		EXPECT_EQ(-1, syscall(SYS_pread64, fds[i], NULL, 8, 0));
		EXPECT_EQ(EFAULT, errno);
		EXPECT_EQ(-1, syscall(SYS_pread64, fds[i], -4096L, 8, 0));
		EXPECT_EQ(EFAULT, errno);
		EXPECT_EQ(-1, lseek(fds[i], -1, SEEK_SET));
		EXPECT_EQ(EINVAL, errno);
		EXPECT_EQ(-1, lseek(fds[i], end + 1, SEEK_SET));
		EXPECT_EQ(EINVAL, errno);
		EXPECT_EQ(-1, lseek(fds[i], 0, SEEK_DATA));
		EXPECT_EQ(EINVAL, errno);
		EXPECT_EQ(-1, write(fds[i], buf, 1));
		EXPECT_EQ(EBADF, errno);
		/* The VFS's answer for a file with no positional write. */
		EXPECT_EQ(-1, pwrite(fds[i], buf, 1, 0));
		EXPECT_EQ(ESPIPE, errno);
	}
}

TEST_F(stats, bad_ioctls)
{
	int fds[] = { self->vcpu_stats, self->all_stats };
	int i;

	EXPECT_EQ(-1, ioctl(self->g.vcpu, UNPRIV_GET_STATS_FD, 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->g.vcpu, UNPRIV_GET_STATS_FD, ~0UL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->g.dev, UNPRIV_GET_GLOBAL_STATS_FD, 1));
	EXPECT_EQ(EINVAL, errno);
	/* Each on the wrong file. */
	EXPECT_EQ(-1, ioctl(self->g.dev, UNPRIV_GET_STATS_FD, 0));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->g.vcpu, UNPRIV_GET_GLOBAL_STATS_FD, 0));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->g.as, UNPRIV_GET_STATS_FD, 0));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->g.as, UNPRIV_GET_GLOBAL_STATS_FD, 0));
	EXPECT_EQ(ENOTTY, errno);
	/* A stats file has none. */
	for (i = 0; i < ARRAY_SIZE(fds); i++) {
		EXPECT_EQ(-1, ioctl(fds[i], UNPRIV_GET_STATS_FD, 0));
		EXPECT_EQ(ENOTTY, errno);
		EXPECT_EQ(-1, ioctl(fds[i], UNPRIV_RUN, self->g.as));
		EXPECT_EQ(ENOTTY, errno);
		EXPECT_EQ(-1, ioctl(fds[i], UNPRIV_GET_GLOBAL_STATS_FD, 0));
		EXPECT_EQ(ENOTTY, errno);
	}
	/* Nor is it an address space to run in. */
	guest_exit_prepare(&self->g, GUEST_DO_SYSCALL);
	EXPECT_EQ(-1, ioctl(self->g.vcpu, UNPRIV_RUN, self->vcpu_stats));
	EXPECT_EQ(EINVAL, errno);
}

/* Neither mmap() nor an address space maps a stats file. */
TEST_F(stats, stats_files_cannot_be_mapped)
{
	int fds[] = { self->vcpu_stats, self->all_stats };
	struct unpriv_as_map m = {
		.addr = GUEST_UNMAPPED_ADDR, .len = GUEST_PAGE,
		.prot = UNPRIV_PROT_READ, .flags = UNPRIV_MAP_PRIVATE,
	};
	int i;

	for (i = 0; i < ARRAY_SIZE(fds); i++) {
		EXPECT_EQ(MAP_FAILED, mmap(NULL, GUEST_PAGE, PROT_READ,
					   MAP_SHARED, fds[i], 0));
		EXPECT_EQ(ENODEV, errno);
		EXPECT_EQ(MAP_FAILED, mmap(NULL, GUEST_PAGE, PROT_READ,
					   MAP_PRIVATE, fds[i], 0));
		EXPECT_EQ(ENODEV, errno);
		m.fd = fds[i];
		m.flags = UNPRIV_MAP_PRIVATE;
		EXPECT_EQ(-1, ioctl(self->g.as, UNPRIV_AS_MAP, &m));
		EXPECT_EQ(ENODEV, errno);
		m.flags = UNPRIV_MAP_SHARED;
		EXPECT_EQ(-1, ioctl(self->g.as, UNPRIV_AS_MAP, &m));
		EXPECT_EQ(ENODEV, errno);
	}
}

/* A stats file holds the module, as every unpriv file does. */
TEST_F(stats, a_stats_file_holds_the_module)
{
	long before = unpriv_module_refcnt();
	int fd;

	ASSERT_LT(0, before);
	fd = ioctl(self->g.dev, UNPRIV_GET_GLOBAL_STATS_FD, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(before + 1, unpriv_module_refcnt());
	close(fd);
	fd = ioctl(self->g.vcpu, UNPRIV_GET_STATS_FD, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(before + 1, unpriv_module_refcnt());
	close(fd);
	EXPECT_EQ(before, unpriv_module_refcnt());
}

TEST_HARNESS_MAIN
