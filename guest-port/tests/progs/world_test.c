// SPDX-License-Identifier: GPL-2.0
/*
 * The guest sees its own world, never the host's: no host path in the
 * names of its descriptors, current directory and mappings (deleted and
 * O_TMPFILE files included, and the standard streams it was handed), and
 * figures of its own in sysinfo, /proc/uptime and /proc/loadavg.
 *
 *	world_test HOSTROOT
 *
 * HOSTROOT is the guest's root as the host names it: no name the guest
 * reads may contain it.  The runner starts the test with its standard
 * descriptors on host files outside the root.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

static const char *hostroot;

static ssize_t slurp(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n, total = 0;

	if (fd < 0)
		return -1;
	while (total < (ssize_t)len - 1 && (n = read(fd, buf + total, len - 1 - total)) > 0)
		total += n;
	buf[total] = 0;
	close(fd);
	return total;
}

/* readlink of path, NUL-terminated; "" when it fails. */
static const char *link_of(const char *path)
{
	static char buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);

	buf[n > 0 ? n : 0] = 0;
	return buf;
}

static const char *fd_link(int fd)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return link_of(path);
}

static int guest_name(const char *s)
{
	return s[0] == '/' && !strstr(s, hostroot);
}

int main(int argc, char **argv)
{
	char name[64], want[PATH_MAX], buf[16384];
	unsigned int r = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: world_test HOSTROOT\n");
		return 2;
	}
	hostroot = argv[1];
	getrandom(&r, sizeof(r), 0);

	/* descriptors */
	int tmp = open("/tmp", O_TMPFILE | O_RDWR, 0600);
	const char *l = fd_link(tmp);
	CHECK(tmp >= 0 && guest_name(l) && !strncmp(l, "/tmp/", 5) && strstr(l, " (deleted)"),
	      "an O_TMPFILE file is /tmp/... (deleted) (%s)", l);
	snprintf(name, sizeof(name), "/tmp/world.%08x", r);
	int fd = open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	CHECK(fd >= 0 && unlink(name) == 0, "a file, unlinked");
	snprintf(want, sizeof(want), "%s (deleted)", name);
	l = fd_link(fd);
	CHECK(!strcmp(l, want), "its descriptor reads %s (%s)", want, l);
	CHECK(!strcmp(fd_link(0), "/dev/stdin") && !strcmp(fd_link(1), "/dev/stdout") &&
	      !strcmp(fd_link(2), "/dev/stderr"),
	      "the standard streams from outside the root are /dev/stdin, stdout, stderr (%s)",
	      fd_link(0));

	/* mappings */
	memset(buf, 'w', 4096);
	CHECK(write(fd, buf, 4096) == 4096, "write a page to it");
	void *m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	void *mt = ftruncate(tmp, 4096) == 0 ? mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, tmp, 0)
					    : MAP_FAILED;
	CHECK(m != MAP_FAILED && mt != MAP_FAILED, "map both");
	CHECK(slurp("/proc/self/maps", buf, sizeof(buf)) > 0 && strstr(buf, want) &&
	      !strstr(buf, hostroot), "/proc/self/maps shows %s and no host path", want);

	/* the current directory */
	snprintf(name, sizeof(name), "/tmp/world-dir.%08x", r);
	snprintf(want, sizeof(want), "%s (deleted)", name);
	CHECK(mkdir(name, 0700) == 0 && chdir(name) == 0 && rmdir(name) == 0,
	      "a current directory, removed");
	l = link_of("/proc/self/cwd");
	CHECK(!strcmp(l, want), "/proc/self/cwd reads %s (%s)", want, l);
	chdir("/");

	/* figures */
	struct sysinfo si;
	struct timespec boot;
	unsigned long long memtotal = 0;
	CHECK(slurp("/proc/meminfo", buf, sizeof(buf)) > 0 &&
	      sscanf(buf, "MemTotal: %llu kB", &memtotal) == 1, "read MemTotal");
	CHECK(sysinfo(&si) == 0 && clock_gettime(CLOCK_BOOTTIME, &boot) == 0, "sysinfo");
	CHECK((unsigned long long)si.totalram * si.mem_unit == memtotal * 1024,
	      "sysinfo's totalram is /proc/meminfo's MemTotal (%llu, %llu kB)",
	      (unsigned long long)si.totalram * si.mem_unit, memtotal);
	CHECK(si.loads[0] == 0 && si.loads[1] == 0 && si.loads[2] == 0 && si.procs == 1,
	      "sysinfo: no load, one process (%lu, %u)", si.loads[0], si.procs);
	CHECK(si.uptime >= boot.tv_sec - 1 && si.uptime <= boot.tv_sec + 1,
	      "sysinfo's uptime is CLOCK_BOOTTIME");
	double up = -1, idle = -1;
	CHECK(slurp("/proc/uptime", buf, sizeof(buf)) > 0 && sscanf(buf, "%lf %lf", &up, &idle) == 2 &&
	      up >= boot.tv_sec - 1 && up <= boot.tv_sec + 2 && idle == 0,
	      "/proc/uptime: CLOCK_BOOTTIME, no idle time (%s)", strtok(buf, "\n"));
	snprintf(want, sizeof(want), "0.00 0.00 0.00 1/1 %d\n", getpid());
	CHECK(slurp("/proc/loadavg", buf, sizeof(buf)) > 0 && !strcmp(buf, want),
	      "/proc/loadavg: no load, one process (%s)", strtok(buf, "\n"));
	return tap_done();
}
