// SPDX-License-Identifier: GPL-2.0
/*
 * unpriv: stats files (UNPRIV_GET_STATS_FD, UNPRIV_GET_GLOBAL_STATS_FD),
 * in the layout of KVM's binary stats files: a header, an id string,
 * named descriptors, then the values (uapi/linux/unpriv.h).  What is
 * counted, and where, is in stats.h.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "stats.h"

DEFINE_PER_CPU(struct unpriv_stats_cpu, unpriv_stats_cpu);

/* A descriptor with its name, as it is in the file. */
struct unpriv_stats_named_desc {
	struct unpriv_stats_desc desc;
	char name[UNPRIV_STATS_NAME_SIZE];
};

/* A stats file's whole content. */
struct unpriv_stats_content {
	struct unpriv_stats_header header;
	char id[UNPRIV_STATS_NAME_SIZE];
	struct unpriv_stats_named_desc desc[UNPRIV_STAT_COUNT];
	u64 data[UNPRIV_STAT_COUNT];
};

/* A count: UNPRIV_STAT_<stat>, named str. */
#define UNPRIV_STATS_COUNTER(stat, str)					\
	[UNPRIV_STAT_##stat] = {					\
		.desc = {						\
			.flags = UNPRIV_STATS_TYPE_CUMULATIVE |		\
				 UNPRIV_STATS_UNIT_NONE |		\
				 UNPRIV_STATS_BASE_POW10,		\
			.size = 1,					\
			.offset = UNPRIV_STAT_##stat * sizeof(u64),	\
		},							\
		.name = str,						\
	}

/* All but the id and the data, the same for every file. */
static const struct unpriv_stats_content unpriv_stats_layout = {
	.header = {
		.name_size = UNPRIV_STATS_NAME_SIZE,
		.num_desc = UNPRIV_STAT_COUNT,
		.id_offset = offsetof(struct unpriv_stats_content, id),
		.desc_offset = offsetof(struct unpriv_stats_content, desc),
		.data_offset = offsetof(struct unpriv_stats_content, data),
	},
	.desc = {
		UNPRIV_STATS_COUNTER(EXITS_SYSCALL, "exits_syscall"),
		UNPRIV_STATS_COUNTER(EXITS_FAULT, "exits_fault"),
		UNPRIV_STATS_COUNTER(EXITS_TRAP, "exits_trap"),
		UNPRIV_STATS_COUNTER(EXITS_INTR, "exits_intr"),
		UNPRIV_STATS_COUNTER(KICKS, "kicks"),
	},
};

/* --- a vcpu's counts ----------------------------------------------------- */

static atomic64_t unpriv_stats_vcpu_ids = ATOMIC64_INIT(0);

struct unpriv_vcpu_stats *unpriv_stats_vcpu_new(void)
{
	struct unpriv_vcpu_stats *stats;

	stats = kzalloc(sizeof(*stats), GFP_KERNEL_ACCOUNT);
	if (!stats)
		return NULL;
	refcount_set(&stats->refs, 1);
	stats->id = atomic64_inc_return(&unpriv_stats_vcpu_ids);
	return stats;
}

void unpriv_stats_vcpu_put(struct unpriv_vcpu_stats *stats)
{
	if (stats && refcount_dec_and_test(&stats->refs))
		kfree(stats);
}

static void unpriv_stats_vcpu_fill(struct unpriv_stats_content *c,
				   const struct unpriv_vcpu_stats *stats)
{
	int i;

	snprintf(c->id, sizeof(c->id), "unpriv-vcpu-%llu", stats->id);
	for (i = 0; i < UNPRIV_STAT_EXITS; i++)
		c->data[i] = READ_ONCE(stats->exits[i]);
	c->data[UNPRIV_STAT_KICKS] = atomic64_read(&stats->kicks);
}

/* --- every vcpu's -------------------------------------------------------- */

static void unpriv_stats_global_fill(struct unpriv_stats_content *c)
{
	int cpu, i;

	strscpy(c->id, "unpriv", sizeof(c->id));
	for_each_possible_cpu(cpu) {
		const struct unpriv_stats_cpu *s = per_cpu_ptr(&unpriv_stats_cpu, cpu);

		for (i = 0; i < UNPRIV_STAT_COUNT; i++)
			c->data[i] += READ_ONCE(s->count[i]);
	}
}

/* --- the files ----------------------------------------------------------- */

/* private_data: the vcpu's counts, or NULL for every vcpu's. */
static ssize_t unpriv_stats_read(struct file *file, char __user *buf,
				 size_t size, loff_t *pos)
{
	struct unpriv_vcpu_stats *stats = file->private_data;
	struct unpriv_stats_content c = unpriv_stats_layout;

	if (stats)
		unpriv_stats_vcpu_fill(&c, stats);
	else
		unpriv_stats_global_fill(&c);
	return simple_read_from_buffer(buf, size, pos, &c, sizeof(c));
}

static loff_t unpriv_stats_llseek(struct file *file, loff_t offset, int whence)
{
	return fixed_size_llseek(file, offset, whence,
				 sizeof(struct unpriv_stats_content));
}

static int unpriv_stats_release(struct inode *inode, struct file *file)
{
	unpriv_stats_vcpu_put(file->private_data);
	return 0;
}

static const struct file_operations unpriv_stats_fops = {
	.owner		= THIS_MODULE,
	.read		= unpriv_stats_read,
	.llseek		= unpriv_stats_llseek,
	.release	= unpriv_stats_release,
};

/* A new stats file holding stats (NULL: every vcpu's), or -errno. */
static int unpriv_stats_getfd(struct unpriv_vcpu_stats *stats,
			      unsigned long flags)
{
	struct file *file;
	int fd;

	/* No implicit padding: the file is the struct's bytes. */
	BUILD_BUG_ON(sizeof(struct unpriv_stats_content) !=
		     sizeof(struct unpriv_stats_header) +
		     UNPRIV_STATS_NAME_SIZE +
		     UNPRIV_STAT_COUNT * (sizeof(struct unpriv_stats_desc) +
					  UNPRIV_STATS_NAME_SIZE) +
		     UNPRIV_STAT_COUNT * sizeof(u64));

	if (flags)
		return -EINVAL;
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		return fd;
	if (stats)
		refcount_inc(&stats->refs);
	file = anon_inode_getfile(stats ? "[unpriv-vcpu-stats]" : "[unpriv-stats]",
				  &unpriv_stats_fops, stats, O_RDONLY);
	if (IS_ERR(file)) {
		unpriv_stats_vcpu_put(stats);
		put_unused_fd(fd);
		return PTR_ERR(file);
	}
	file->f_mode |= FMODE_PREAD;
	fd_install(fd, file);
	return fd;
}

int unpriv_stats_vcpu_getfd(struct unpriv_vcpu *vcpu, unsigned long flags)
{
	return unpriv_stats_getfd(vcpu->stats, flags);
}

int unpriv_stats_global_getfd(unsigned long flags)
{
	return unpriv_stats_getfd(NULL, flags);
}
