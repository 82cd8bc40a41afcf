// SPDX-License-Identifier: GPL-2.0
/*
 * What the guest port allows on the files of the guest's root (see
 * "Files the guest makes" in guest-port/README.md):
 *
 * - its running executable cannot be written or truncated (ETXTBSY), as
 *   on Linux;
 * - no file in the root gets the set-user-ID bit, and no file but a
 *   directory the set-group-ID bit, whatever the guest asks (mknod, open
 *   with O_CREAT, chmod, fchmod): the root is a host directory, and a
 *   set-ID file there would be one on the host.  The call succeeds with
 *   the bits left out, as chmod(2) leaves out S_ISGID for a caller not in
 *   the file's group.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"

static mode_t mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_mode : 0;
}

int main(void)
{
	char exe[PATH_MAX], dir[64], path[128];
	unsigned int r = 0;
	struct stat st;

	/* the running executable */
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	CHECK(n > 0 && stat(exe, &st) == 0 && S_ISREG(st.st_mode), "the executable is %s", exe);
	CHECK_ERR(truncate(exe, 0), ETXTBSY, "truncate it: ETXTBSY");
	CHECK_ERR(open(exe, O_WRONLY), ETXTBSY, "open it for writing: ETXTBSY");
	CHECK_ERR(open(exe, O_RDWR), ETXTBSY, "open it read-write: ETXTBSY");
	CHECK_ERR(open(exe, O_RDONLY | O_TRUNC), ETXTBSY, "open it with O_TRUNC: ETXTBSY");
	CHECK_ERR(open("/proc/self/exe", O_WRONLY), ETXTBSY, "open /proc/self/exe for writing: ETXTBSY");
	int fd = open(exe, O_RDONLY);
	struct stat after;
	CHECK(fd >= 0 && fstat(fd, &after) == 0 && after.st_size == st.st_size,
	      "it can be read, and is whole");
	close(fd);

	/* set-ID bits */
	getrandom(&r, sizeof(r), 0);
	snprintf(dir, sizeof(dir), "/tmp/policy.%08x", r);
	umask(0);
	CHECK(mkdir(dir, 0755) == 0, "a scratch directory");
	snprintf(path, sizeof(path), "%s/mknod", dir);
	CHECK(mknod(path, S_IFREG | 06777, 0) == 0 && (mode_of(path) & 07777) == 0777,
	      "mknod(S_IFREG | 06777) makes a file of mode 0777 (%o)", mode_of(path) & 07777);
	CHECK(chmod(path, 04755) == 0 && (mode_of(path) & 07777) == 0755,
	      "chmod 04755 gives 0755 (%o)", mode_of(path) & 07777);
	CHECK(chmod(path, 02755) == 0 && (mode_of(path) & 07777) == 0755,
	      "chmod 02755 gives 0755 (%o)", mode_of(path) & 07777);
	CHECK(chmod(path, 01755) == 0 && (mode_of(path) & 07777) == 01755,
	      "chmod 01755 keeps the sticky bit (%o)", mode_of(path) & 07777);
	unlink(path);
	snprintf(path, sizeof(path), "%s/creat", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 06755);
	CHECK(fd >= 0 && (mode_of(path) & 07777) == 0755,
	      "open(O_CREAT, 06755) makes a file of mode 0755 (%o)", mode_of(path) & 07777);
	CHECK(fchmod(fd, 06711) == 0 && (mode_of(path) & 07777) == 0711,
	      "fchmod 06711 gives 0711 (%o)", mode_of(path) & 07777);
	close(fd);
	unlink(path);
	snprintf(path, sizeof(path), "%s/dir", dir);
	CHECK(mkdir(path, 0755) == 0 && chmod(path, 02755) == 0 &&
	      (mode_of(path) & 07777) == 02755,
	      "a directory keeps the set-group-ID bit (%o)", mode_of(path) & 07777);
	CHECK(chmod(path, 04755) == 0 && (mode_of(path) & 07777) == 0755,
	      "but not the set-user-ID bit (%o)", mode_of(path) & 07777);
	rmdir(path);
	CHECK(rmdir(dir) == 0, "the scratch directory goes, empty");
	return tap_done();
}
