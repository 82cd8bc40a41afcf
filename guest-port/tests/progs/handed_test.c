// SPDX-License-Identifier: GPL-2.0
/*
 * Descriptors the guest port was handed: its standard descriptors, host
 * files that may lie outside the guest's root.  The guest may use one as
 * it was handed; it may not open it again for more access, nor change
 * the file by name or by descriptor (mode, owner, times, links, new
 * files in a directory).
 *
 *	handed_test file	standard input is a host file outside the
 *				root, opened read-only
 *	handed_test dir		standard input is a host directory outside
 *				the root
 *	handed_test closed	unpriv-run was started with descriptors 0 to
 *				2 closed: the guest has them closed too, and
 *				no other.  No output; exit status 0, or 10 +
 *				the first descriptor that is open
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "tap.h"

static int unchanged(const struct stat *a, const struct stat *b)
{
	return a->st_mode == b->st_mode && a->st_uid == b->st_uid && a->st_gid == b->st_gid &&
	       a->st_nlink == b->st_nlink && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Changes of the file's mode, owner and times, by name and by descriptor. */
static void no_changes(void)
{
	struct timespec times[2] = {{1, 0}, {1, 0}};

	CHECK_ERR(chmod("/dev/stdin", 04777), EPERM, "chmod /dev/stdin: EPERM");
	CHECK_ERR(chmod("/proc/self/fd/0", 0777), EPERM, "chmod /proc/self/fd/0: EPERM");
	CHECK_ERR(chown("/dev/stdin", 4321, 4321), EPERM, "chown /dev/stdin: EPERM");
	CHECK_ERR(utimensat(AT_FDCWD, "/dev/stdin", times, 0), EPERM, "utimensat /dev/stdin: EPERM");
	CHECK_ERR(utimes("/proc/self/fd/0", NULL), EPERM, "utimes /proc/self/fd/0: EPERM");
	CHECK_ERR(fchmod(0, 0777), EPERM, "fchmod(0): EPERM");
	CHECK_ERR(fchown(0, 4321, 4321), EPERM, "fchown(0): EPERM");
	CHECK_ERR(fchownat(0, "", 4321, 4321, AT_EMPTY_PATH), EPERM,
		  "fchownat(0, \"\", AT_EMPTY_PATH): EPERM");
	CHECK_ERR(futimens(0, times), EPERM, "futimens(0): EPERM");
}

static int closed(void)
{
	for (int fd = 0; fd < 16; fd++)
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			return 10 + fd;
	return 0;
}

int main(int argc, char **argv)
{
	struct stat before, after;
	char buf[64], link[64];

	if (argc == 2 && !strcmp(argv[1], "closed"))
		return closed();
	if (argc != 2 || (strcmp(argv[1], "file") && strcmp(argv[1], "dir"))) {
		fprintf(stderr, "usage: handed_test file|dir|closed\n");
		return 2;
	}
	int dir = !strcmp(argv[1], "dir");
	CHECK(fstat(0, &before) == 0 && (dir ? S_ISDIR(before.st_mode) : S_ISREG(before.st_mode)),
	      "standard input is a %s", dir ? "directory" : "regular file");

	if (!dir) {
		CHECK((fcntl(0, F_GETFL) & O_ACCMODE) == O_RDONLY, "handed read-only");
		CHECK_ERR(open("/proc/self/fd/0", O_RDWR), EACCES,
			  "open /proc/self/fd/0 read-write: EACCES");
		CHECK_ERR(open("/dev/stdin", O_WRONLY), EACCES, "open /dev/stdin write-only: EACCES");
		CHECK_ERR(open("/dev/fd/0", O_WRONLY | O_APPEND), EACCES,
			  "open /dev/fd/0 for appending: EACCES");
		CHECK_ERR(open("/dev/stdin", O_RDONLY | O_TRUNC), EACCES,
			  "open /dev/stdin with O_TRUNC: EACCES");
		int fd = open("/dev/stdin", O_RDONLY);
		CHECK(fd >= 0 && pread(fd, buf, 4, 0) == 4, "open /dev/stdin read-only, and read it");
		CHECK_ERR(ftruncate(0, 0), EINVAL, "ftruncate of the read-only descriptor: EINVAL");
		close(fd);

		unsigned int r = 0;
		getrandom(&r, sizeof(r), 0);
		snprintf(link, sizeof(link), "/tmp/handed.%08x", r);
		CHECK_ERR(linkat(AT_FDCWD, "/proc/self/fd/0", AT_FDCWD, link, AT_SYMLINK_FOLLOW),
			  EXDEV, "link it into the root (AT_SYMLINK_FOLLOW): EXDEV");
		unlink(link);
	} else {
		CHECK_ERR(open("/proc/self/fd/0", O_TMPFILE | O_RDWR, 0600), EACCES,
			  "O_TMPFILE in it: EACCES");
		CHECK_ERR(open("/dev/stdin/.", O_TMPFILE | O_WRONLY, 0600), EACCES,
			  "O_TMPFILE in /dev/stdin/.: EACCES");
		int fd = open("/dev/stdin", O_RDONLY | O_DIRECTORY);
		CHECK(fd >= 0, "open /dev/stdin read-only");
		CHECK_ERR(openat(fd, "x", O_RDONLY), ENOTDIR, "which starts no lookup either");
		close(fd);
	}
	no_changes();
	CHECK(fstat(0, &after) == 0 && unchanged(&before, &after), "the file did not change");
	return tap_done();
}
