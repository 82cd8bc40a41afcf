// SPDX-License-Identifier: GPL-2.0
/*
 * unpriv-stat: exit counts and rates of unpriv guests, by reason, like
 * kvm_stat: of every vcpu (the module's global stats file), or of the
 * vcpus one process holds.
 *
 * A process's vcpus are the vcpu files in its descriptor table
 * (/proc/PID/fd names them "anon_inode:[unpriv-vcpu]").  Each is taken
 * with pidfd_getfd(), which needs the right to ptrace the process (the
 * kernel's rule for reaching into another process's files), asked for
 * its stats file (UNPRIV_GET_STATS_FD), and let go at once: a stats file
 * holds the vcpu's counts, not the vcpu, so watching keeps nothing of the
 * process alive.  The table is looked at again before every sample: a
 * vcpu that is new starts counting in rates from the next sample; one
 * that is gone from it (closed, or passed on) is read one last time and
 * its counts stay in the totals.  Vcpus are told apart by their stats
 * files' ids, so one held under two descriptors counts once.
 *
 * Counts are read as a reader of KVM's binary stats files reads them
 * (selftests/unpriv_stats.h): by name, from whatever the files describe.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "unpriv_stats.h"

#define UNPRIV_DEV	"/dev/unpriv"
#define VCPU_LINK	"anon_inode:[unpriv-vcpu]"
#define MAX_COUNTS	64

static const char usage[] =
"usage: unpriv-stat [-p PID] [-i SECONDS] [-1 | -n COUNT]\n"
"\n"
"Show unpriv guests' exits by reason: for each count, its total and its\n"
"rate over the last interval, like kvm_stat.  Counts of every vcpu since\n"
"the module was loaded, or with -p, of the vcpus process PID holds.\n"
"\n"
"  -p, --pid PID         only the vcpus in PID's descriptor table (needs\n"
"                        the right to ptrace PID); ends when PID does\n"
"  -i, --interval SECS   seconds between samples (default 1; fractions\n"
"                        allowed)\n"
"  -1, --once            one sample, one interval from now, then exit\n"
"  -n, --count COUNT     COUNT samples, then exit (default: until killed)\n"
"  -h, --help            this help\n"
"\n"
"Each sample (on a terminal, in place of the last one) is a line naming\n"
"what is counted, then a line per count: name, total, %Total (its share\n"
"of all exits, for the exits_* counts) and CurAvg/s (per second over the\n"
"interval); then the exits' Total.  A process's vcpus count in rates\n"
"from the sample after they are found; a vcpu it no longer holds stays in\n"
"the totals.\n"
"Global counts need read access to /dev/unpriv.  Exit status: 0, 1 on\n"
"an error, 2 on a bad option.\n";

/* A count shown: one stat, by name, summed over every file read. */
struct count {
	char name[UNPRIV_STATS_NAME_SIZE];
	__u64 total;		/* at the last sample */
	__u64 delta;		/* since the sample before */
	__u64 retired;		/* of the files no longer read */
};

static struct count counts[MAX_COUNTS];
static int ncounts;

/* A stats file read: the global one, or one vcpu's. */
struct source {
	struct stats_file s;
	int count_of[MAX_COUNTS];	/* per descriptor: a count, or -1 */
	__u64 last[MAX_COUNTS];		/* per descriptor: its last value */
	int fresh;			/* no value read yet */
	int seen;			/* in the process's last scan */
	struct source *next;
};

static struct source *sources;
static int nsources;
static pid_t pid;			/* -p; 0 for every vcpu */
static int pidfd = -1;

static void die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("unpriv-stat: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

/* The count named name, added when new; -1 when there is no room. */
static int count_find(const char *name)
{
	int i;

	for (i = 0; i < ncounts; i++)
		if (!strcmp(counts[i].name, name))
			return i;
	if (ncounts == MAX_COUNTS)
		return -1;
	snprintf(counts[ncounts].name, sizeof(counts[ncounts].name), "%s", name);
	return ncounts++;
}

/* Start reading the stats file fd (taken over); NULL when malformed. */
static struct source *source_add(int fd)
{
	struct source *src = calloc(1, sizeof(*src));
	unsigned int i;

	if (!src)
		die("out of memory");
	if (stats_file_open(&src->s, fd))
		die("a malformed stats file: %s", src->s.error);
	for (i = 0; i < MAX_COUNTS; i++)
		src->count_of[i] = -1;
	/* Cumulative counts with one value are shown; nothing else is. */
	for (i = 0; i < src->s.header.num_desc && i < MAX_COUNTS; i++) {
		const struct unpriv_stats_desc *d = stats_file_desc(&src->s, i);

		if ((d->flags & UNPRIV_STATS_TYPE_MASK) ==
		    UNPRIV_STATS_TYPE_CUMULATIVE && d->size == 1)
			src->count_of[i] = count_find(d->name);
	}
	src->fresh = 1;
	src->seen = 1;
	src->next = sources;
	sources = src;
	nsources++;
	return src;
}

static struct source *source_by_id(const char *id)
{
	struct source *src;

	for (src = sources; src; src = src->next)
		if (!strcmp(src->s.id, id))
			return src;
	return NULL;
}

/* The global stats file. */
static void open_global(void)
{
	int dev, fd;

	dev = open(UNPRIV_DEV, O_RDONLY | O_CLOEXEC);
	if (dev < 0)
		die("%s: %m", UNPRIV_DEV);
	fd = ioctl(dev, UNPRIV_GET_GLOBAL_STATS_FD, 0);
	if (fd < 0)
		die("UNPRIV_GET_GLOBAL_STATS_FD: %m%s", errno == ENOTTY ?
		    " (a module without UNPRIV_CAP_STATS)" : "");
	close(dev);
	source_add(fd);
}

/* The stats file of the vcpu at descriptor num of the process; or -1. */
static int vcpu_stats_of(int num)
{
	int fd, stats;

	fd = syscall(SYS_pidfd_getfd, pidfd, num, 0);
	if (fd < 0) {
		/* Closed since the scan saw it, or the process reaped. */
		if (errno == EBADF || errno == ESRCH)
			return -1;
		die("cannot take descriptor %d of process %d: %m%s", num, pid,
		    errno == EPERM ? " (it needs the right to ptrace it)" : "");
	}
	stats = ioctl(fd, UNPRIV_GET_STATS_FD, 0);
	if (stats < 0)
		die("UNPRIV_GET_STATS_FD: %m%s", errno == ENOTTY ?
		    " (a module without UNPRIV_CAP_STATS)" : "");
	close(fd);
	return stats;
}

/*
 * Find the vcpus in the process's descriptor table: each one not known
 * yet is added, each known one marked seen.  False when the process's
 * table cannot be read (it is gone).
 */
static int scan_process(void)
{
	char path[64], link[64];
	struct source *src;
	struct dirent *de;
	DIR *dir;

	for (src = sources; src; src = src->next)
		src->seen = 0;
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	dir = opendir(path);
	if (!dir)
		return 0;
	while ((de = readdir(dir))) {
		ssize_t n = readlinkat(dirfd(dir), de->d_name, link,
				       sizeof(link) - 1);
		struct stats_file s;
		int stats;

		if (n < 0 || n != strlen(VCPU_LINK) ||
		    memcmp(link, VCPU_LINK, n))
			continue;
		stats = vcpu_stats_of(atoi(de->d_name));
		if (stats < 0)
			continue;
		if (stats_file_open(&s, stats))
			die("a malformed stats file: %s", s.error);
		src = source_by_id(s.id);
		stats_file_close(&s);
		if (src) {
			src->seen = 1;
			close(stats);
		} else {
			source_add(stats);
		}
	}
	closedir(dir);
	return 1;
}

/* Read every source into the counts; retire those not seen. */
static void sample(void)
{
	struct source *src, **link;
	int c;
	unsigned int i;

	for (c = 0; c < ncounts; c++) {
		counts[c].total = counts[c].retired;
		counts[c].delta = 0;
	}
	for (link = &sources; (src = *link);) {
		if (stats_file_read(&src->s))
			die("reading stats file %s: %m", src->s.id);
		for (i = 0; i < src->s.header.num_desc && i < MAX_COUNTS; i++) {
			__u64 v = stats_file_value(&src->s, i);

			c = src->count_of[i];
			if (c < 0)
				continue;
			if (!src->fresh)
				counts[c].delta += v - src->last[i];
			src->last[i] = v;
			counts[c].total += v;
			if (!src->seen)
				counts[c].retired += v;
		}
		src->fresh = 0;
		if (src->seen) {
			link = &src->next;
			continue;
		}
		*link = src->next;
		close(src->s.fd);
		stats_file_close(&src->s);
		free(src);
		nsources--;
	}
}

static int is_exit(const struct count *c)
{
	return !strncmp(c->name, "exits_", 6);
}

static void print_sample(double secs)
{
	__u64 exits = 0, exits_delta = 0;
	int c;

	for (c = 0; c < ncounts; c++) {
		if (is_exit(&counts[c])) {
			exits += counts[c].total;
			exits_delta += counts[c].delta;
		}
	}
	if (pid)
		printf("unpriv-stat: process %d, %d vcpu%s\n", pid, nsources,
		       nsources == 1 ? "" : "s");
	else
		printf("unpriv-stat: all vcpus\n");
	printf(" %-24s %14s %7s %10s\n", "Event", "Total", "%Total", "CurAvg/s");
	for (c = 0; c < ncounts; c++) {
		const struct count *k = &counts[c];
		char pct[16] = "";

		if (is_exit(k))
			snprintf(pct, sizeof(pct), "%.1f",
				 exits ? 100.0 * k->total / exits : 0.0);
		printf(" %-24s %14llu %7s %10.0f\n", k->name,
		       (unsigned long long)k->total, pct, k->delta / secs);
	}
	printf(" %-24s %14llu %7s %10.0f\n", "Total",
	       (unsigned long long)exits, "", exits_delta / secs);
	fflush(stdout);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_for(double secs)
{
	struct timespec ts = {
		.tv_sec = (time_t)secs,
		.tv_nsec = (long)((secs - (time_t)secs) * 1e9),
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}

/* Whether the process has ended (its pidfd is readable). */
static int process_ended(void)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

/* Whether samples replace each other on the screen, as kvm_stat's do. */
static int live_terminal(void)
{
	const char *term = getenv("TERM");

	return isatty(STDOUT_FILENO) && term && strcmp(term, "dumb");
}

static void bad_usage(const char *fmt, const char *arg)
{
	fputs("unpriv-stat: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\nTry 'unpriv-stat --help'.\n", stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "interval", required_argument, NULL, 'i' },
		{ "once", no_argument, NULL, '1' },
		{ "count", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	double interval = 1, last, t;
	long samples = -1, n;
	int opt, ended = 0;
	char *end;

	while ((opt = getopt_long(argc, argv, "p:i:1n:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			n = strtol(optarg, &end, 10);
			if (*end || n <= 0 || n > INT_MAX)
				bad_usage("bad pid '%s'", optarg);
			pid = n;
			break;
		case 'i':
			interval = strtod(optarg, &end);
			if (*end || !(interval >= 0.01 && interval <= 3600))
				bad_usage("bad interval '%s' (0.01 to 3600 s)",
					  optarg);
			break;
		case '1':
			samples = 1;
			break;
		case 'n':
			samples = strtol(optarg, &end, 10);
			if (*end || samples <= 0)
				bad_usage("bad count '%s'", optarg);
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			bad_usage("%s", "bad option");
		}
	}
	if (optind < argc)
		bad_usage("unexpected argument '%s'", argv[optind]);

	if (pid) {
		pidfd = syscall(SYS_pidfd_open, pid, 0);
		if (pidfd < 0)
			die("process %d: %m", pid);
		if (!scan_process())
			die("process %d: cannot read its descriptors: %m", pid);
	} else {
		open_global();
	}
	sample();
	last = now();
	for (n = 0; samples < 0 || n < samples; n++) {
		sleep_for(interval);
		if (pid) {
			/*
			 * A process reaped between the two looks has no
			 * table left to read: its pidfd, asked again, says
			 * whether that is why.
			 */
			ended = process_ended();
			if (!scan_process() && !ended) {
				int err = errno;

				ended = process_ended();
				if (!ended)
					die("process %d: cannot read its descriptors: %s",
					    pid, strerror(err));
			}
		}
		sample();
		t = now();
		if (samples != 1 && live_terminal())
			fputs("\033[H\033[2J", stdout);
		print_sample(t - last);
		last = t;
		if (ended) {
			printf("unpriv-stat: process %d ended\n", pid);
			break;
		}
	}
	return 0;
}
