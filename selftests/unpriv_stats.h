/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A reader of binary stats files (UNPRIV_CAP_STATS), written as a reader
 * of KVM's would be: it takes the layout from the header, finds stats by
 * name, and checks everything it is told before trusting it.  Shared by
 * stats_test and tools/unpriv-stat.
 */
#ifndef UNPRIV_STATS_H
#define UNPRIV_STATS_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/unpriv.h>

struct stats_file {
	int fd;
	struct unpriv_stats_header header;
	char *id;			/* NUL-terminated */
	char *descs;			/* num_desc descriptors with names */
	size_t desc_size;		/* one of them */
	__u64 *data;			/* the last stats_file_read() */
	size_t data_size;		/* in bytes */
	const char *error;		/* what stats_file_open() found wrong */
};

static inline const struct unpriv_stats_desc *
stats_file_desc(const struct stats_file *s, unsigned int i)
{
	return (const struct unpriv_stats_desc *)(s->descs + i * s->desc_size);
}

/* Read exactly len bytes at off; 0 or -errno (-EIO for a short read). */
static inline int stats_pread(int fd, void *buf, size_t len, off_t off)
{
	ssize_t n = pread(fd, buf, len, off);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/* Whether [a, a + alen) and [b, b + blen) overlap. */
static inline int stats_overlap(__u64 a, __u64 alen, __u64 b, __u64 blen)
{
	return a < b + blen && b < a + alen;
}

/* Check one descriptor; NULL, or what is wrong with it. */
static inline const char *stats_desc_check(const struct stats_file *s,
					   const struct unpriv_stats_desc *d)
{
	__u32 type = d->flags & UNPRIV_STATS_TYPE_MASK;
	__u32 unit = d->flags & UNPRIV_STATS_UNIT_MASK;
	__u32 base = d->flags & UNPRIV_STATS_BASE_MASK;

	if (!memchr(d->name, 0, s->header.name_size) || !d->name[0])
		return "a name is empty or not NUL-terminated";
	if (type > UNPRIV_STATS_TYPE_MAX || unit > UNPRIV_STATS_UNIT_MAX ||
	    base > UNPRIV_STATS_BASE_MAX)
		return "a type, unit or base is unknown";
	if (!d->size)
		return "a stat has no values";
	if (type == UNPRIV_STATS_TYPE_LINEAR_HIST ? !d->bucket_size :
	    d->bucket_size)
		return "a bucket size is wrong for the type";
	if (d->offset % sizeof(__u64))
		return "a stat's offset is not a multiple of 8";
	return NULL;
}

/* Check the layout the header gives and size the data block. */
static inline const char *stats_layout_check(struct stats_file *s)
{
	const struct unpriv_stats_header *h = &s->header;
	unsigned int i;

	if (h->flags || !h->name_size || !h->num_desc)
		return "the header's flags, name size or count are wrong";
	if (h->id_offset < sizeof(*h) || h->desc_offset < sizeof(*h) ||
	    h->data_offset < sizeof(*h) || h->data_offset % sizeof(__u64))
		return "an offset in the header is wrong";
	if (stats_overlap(h->id_offset, h->name_size,
			  h->desc_offset, (__u64)h->num_desc * s->desc_size))
		return "the id overlaps the descriptors";
	s->data_size = 0;
	for (i = 0; i < h->num_desc; i++) {
		const struct unpriv_stats_desc *d = stats_file_desc(s, i);
		const char *err = stats_desc_check(s, d);
		__u64 end = d->offset + (__u64)d->size * sizeof(__u64);

		if (err)
			return err;
		if (end > s->data_size)
			s->data_size = end;
	}
	if (stats_overlap(h->data_offset, s->data_size,
			  h->desc_offset, (__u64)h->num_desc * s->desc_size) ||
	    stats_overlap(h->data_offset, s->data_size,
			  h->id_offset, h->name_size))
		return "the data overlaps the id or the descriptors";
	return NULL;
}

static inline void stats_file_close(struct stats_file *s)
{
	free(s->id);
	free(s->descs);
	free(s->data);
	s->id = NULL;
	s->descs = NULL;
	s->data = NULL;
}

/*
 * Read the header, id and descriptors of the stats file fd (which the
 * caller keeps and closes).  0, or -errno: -EPROTO when the file is
 * malformed (s->error says how), or the read's.
 */
static inline int stats_file_open(struct stats_file *s, int fd)
{
	const struct unpriv_stats_header *h = &s->header;
	int ret;

	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->error = "the file is too short";
	ret = stats_pread(fd, &s->header, sizeof(s->header), 0);
	if (ret)
		return ret;
	if (h->name_size > 4096 || h->num_desc > 4096) {
		s->error = "the header's name size or count are too large";
		return -EPROTO;
	}
	s->desc_size = sizeof(struct unpriv_stats_desc) + h->name_size;
	s->id = calloc(1, h->name_size + 1);
	s->descs = calloc(h->num_desc, s->desc_size);
	if (!s->id || !s->descs) {
		ret = -ENOMEM;
		goto err;
	}
	ret = stats_pread(fd, s->id, h->name_size, h->id_offset);
	if (!ret)
		ret = stats_pread(fd, s->descs, h->num_desc * s->desc_size,
				  h->desc_offset);
	if (ret)
		goto err;
	s->error = stats_layout_check(s);
	if (!s->error && !memchr(s->id, 0, h->name_size))
		s->error = "the id is not NUL-terminated";
	ret = -EPROTO;
	if (s->error)
		goto err;
	s->data = calloc(1, s->data_size);
	if (!s->data) {
		ret = -ENOMEM;
		goto err;
	}
	return 0;
err:
	stats_file_close(s);
	return ret;
}

/* Read the data block: 0 or -errno. */
static inline int stats_file_read(struct stats_file *s)
{
	return stats_pread(s->fd, s->data, s->data_size, s->header.data_offset);
}

/* The index of the stat named name, or -1. */
static inline int stats_file_find(const struct stats_file *s, const char *name)
{
	unsigned int i;

	for (i = 0; i < s->header.num_desc; i++)
		if (!strcmp(stats_file_desc(s, i)->name, name))
			return i;
	return -1;
}

/* The first value of stat i, as stats_file_read() last found it. */
static inline __u64 stats_file_value(const struct stats_file *s, int i)
{
	return s->data[stats_file_desc(s, i)->offset / sizeof(__u64)];
}

#endif /* UNPRIV_STATS_H */
