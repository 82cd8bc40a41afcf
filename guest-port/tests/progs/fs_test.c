// SPDX-License-Identifier: GPL-2.0
/*
 * Files in the guest port: open and the descriptor calls, reading and
 * writing, the stat family, directories, names, pipes and poll, and the
 * guest port's own /dev and /proc.  Works in /tmp of the guest's root.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <termios.h>
#include <unistd.h>

#include "tap.h"

static const char *dir = "/tmp/fs-test";

static int has_entry(const char *path, const char *name)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int found = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		found |= !strcmp(e->d_name, name);
	closedir(d);
	return found;
}

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

int main(int argc, char **argv)
{
	char buf[4096], path[PATH_MAX];
	struct stat st;
	(void)argc;

	mkdir(dir, 0755);
	CHECK(chdir(dir) == 0, "chdir to a fresh directory");
	CHECK(getcwd(buf, sizeof(buf)) && !strcmp(buf, dir), "getcwd names it");

	/* open, write, read, lseek, pread, pwrite */
	int fd = open("f", O_CREAT | O_RDWR | O_TRUNC, 0640);
	CHECK(fd >= 0, "open O_CREAT");
	CHECK(write(fd, "hello, world\n", 13) == 13, "write");
	CHECK(lseek(fd, 0, SEEK_CUR) == 13, "lseek SEEK_CUR after write");
	CHECK(lseek(fd, 7, SEEK_SET) == 7 && read(fd, buf, 5) == 5 && !memcmp(buf, "world", 5),
	      "lseek and read");
	CHECK(pwrite(fd, "W", 1, 7) == 1 && pread(fd, buf, 5, 7) == 5 && !memcmp(buf, "World", 5),
	      "pwrite and pread");
	CHECK(lseek(fd, 0, SEEK_CUR) == 12, "pread and pwrite leave the offset");
	CHECK(lseek(fd, 0, SEEK_END) == 13, "lseek SEEK_END");
	CHECK_ERR(lseek(fd, -100, SEEK_SET), EINVAL, "lseek before the start: EINVAL");
	CHECK(fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 13 &&
	      (st.st_mode & 07777) == 0640, "fstat: a 13-byte regular file, mode 0640");
	umask(077);
	int fd2 = open("g", O_CREAT | O_WRONLY | O_EXCL, 0666);
	CHECK(fd2 >= 0 && fstat(fd2, &st) == 0 && (st.st_mode & 0777) == 0600, "umask applies");
	umask(022);
	CHECK_ERR(open("g", O_CREAT | O_EXCL | O_WRONLY, 0666), EEXIST, "O_EXCL on an existing file: EEXIST");
	CHECK_ERR(open("missing", O_RDONLY), ENOENT, "open a missing file: ENOENT");
	CHECK_ERR(open("f/x", O_RDONLY), ENOTDIR, "a file as a directory: ENOTDIR");
	CHECK_ERR(open(".", O_WRONLY), EISDIR, "a directory for writing: EISDIR");

	/* open's answers where the guest port finds a file before opening
	 * it (issue 10, item 18): as Linux's */
	CHECK(mkdir("o", 0755) == 0 && mkdir("o/sub", 0755) == 0 &&
	      symlink("../f", "o/lf") == 0, "a directory o, o/sub and a symlink o/lf to f");
	CHECK_ERR(open("o/lf", O_RDONLY | O_NOFOLLOW), ELOOP, "O_NOFOLLOW on a symlink: ELOOP");
	CHECK_ERR(open("o/lf", O_WRONLY | O_CREAT | O_NOFOLLOW, 0644), ELOOP,
		  "O_CREAT | O_NOFOLLOW on a symlink: ELOOP");
	CHECK_ERR(open("o/lf", O_WRONLY | O_CREAT | O_EXCL, 0644), EEXIST,
		  "O_CREAT | O_EXCL on a symlink: EEXIST");
	CHECK_ERR(open("o/lf", O_RDONLY | O_DIRECTORY), ENOTDIR, "O_DIRECTORY on a file: ENOTDIR");
	CHECK(symlink("sub/made", "o/dangling") == 0, "a symlink o/dangling to sub/made, missing");
	int made = open("o/dangling", O_WRONLY | O_CREAT, 0600);
	CHECK(made >= 0 && stat("o/sub/made", &st) == 0 && S_ISREG(st.st_mode) &&
	      (st.st_mode & 0777) == 0600, "O_CREAT through it makes o/sub/made");
	close(made);
	CHECK(symlink("nodir/x", "o/nowhere") == 0, "a symlink to nodir/x");
	CHECK_ERR(open("o/nowhere", O_WRONLY | O_CREAT, 0644), ENOENT,
		  "O_CREAT through it: ENOENT");
	CHECK_ERR(open("o/new/", O_WRONLY | O_CREAT, 0644), EISDIR, "O_CREAT of o/new/: EISDIR");
	CHECK_ERR(open("o", O_RDONLY | O_CREAT, 0644), EISDIR, "O_CREAT of a directory: EISDIR");
	CHECK_ERR(open("f/", O_RDONLY | O_CREAT, 0644), EISDIR, "O_CREAT of f/, a file: EISDIR");
	CHECK_ERR(open("nodir/x/", O_RDONLY | O_CREAT, 0644), ENOENT,
		  "O_CREAT of nodir/x/: ENOENT");
	int ap = open("o/lf", O_WRONLY | O_APPEND);
	CHECK(ap >= 0 && write(ap, "!", 1) == 1 && fstat(ap, &st) == 0 && st.st_size == 14,
	      "O_APPEND through the symlink appends");
	close(ap);
	int tr = open("o/sub/made", O_WRONLY | O_TRUNC);
	CHECK(tr >= 0 && write(tr, "x", 1) == 1 && fstat(tr, &st) == 0 && st.st_size == 1 &&
	      (fcntl(tr, F_GETFL) & O_ACCMODE) == O_WRONLY, "O_TRUNC, O_WRONLY");
	close(tr);
	CHECK(mkfifo("o/fifo", 0600) == 0, "a FIFO");
	CHECK_ERR(open("o/fifo", O_WRONLY | O_NONBLOCK), ENXIO,
		  "a FIFO for writing, no reader, O_NONBLOCK: ENXIO");
	int rd = open("o/fifo", O_RDONLY | O_NONBLOCK);
	int wr = open("o/fifo", O_WRONLY | O_NONBLOCK);
	CHECK(rd >= 0 && wr >= 0 && (fcntl(rd, F_GETFL) & O_NONBLOCK), "and with a reader");
	close(rd);
	close(wr);
	CHECK(ftruncate(fd, 13) == 0, "f back to 13 bytes");
	static const char *const o[] = {"o/lf", "o/dangling", "o/nowhere", "o/fifo", "o/sub/made"};
	for (size_t i = 0; i < sizeof(o) / sizeof(o[0]); i++)
		unlink(o[i]);
	CHECK(rmdir("o/sub") == 0 && rmdir("o") == 0, "o goes, empty");
	CHECK_ERR(read(fd2, buf, 1), EBADF, "read on a write-only descriptor: EBADF");
	CHECK_ERR(write(999, "x", 1), EBADF, "write to a closed descriptor: EBADF");
	CHECK_ERR(syscall(SYS_read, fd, 16, 1), EFAULT, "read into a bad address: EFAULT");

	/* readv, writev */
	struct iovec iov[3] = {{"ab", 2}, {"", 0}, {"cde", 3}};
	CHECK(lseek(fd, 0, SEEK_SET) == 0 && writev(fd, iov, 3) == 5, "writev");
	char v1[2], v2[3];
	struct iovec in[2] = {{v1, 2}, {v2, 3}};
	CHECK(lseek(fd, 0, SEEK_SET) == 0 && readv(fd, in, 2) == 5 && !memcmp(v1, "ab", 2) &&
	      !memcmp(v2, "cde", 3), "readv");

	/* descriptors */
	int d = dup(fd);
	CHECK(d > fd && lseek(d, 0, SEEK_CUR) == 5, "dup shares the offset");
	CHECK(dup2(fd, 40) == 40 && fcntl(40, F_GETFD) == 0, "dup2 without close-on-exec");
	CHECK(dup3(fd, 41, O_CLOEXEC) == 41 && fcntl(41, F_GETFD) == FD_CLOEXEC, "dup3 O_CLOEXEC");
	CHECK_ERR(dup3(fd, fd, 0), EINVAL, "dup3 to itself: EINVAL");
	CHECK(fcntl(fd, F_DUPFD, 100) == 100, "F_DUPFD takes the lowest free at or above");
	CHECK((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR, "F_GETFL");
	CHECK(fcntl(fd, F_SETFL, O_APPEND) == 0 && (fcntl(fd, F_GETFL) & O_APPEND) &&
	      write(fd, "Z", 1) == 1 && lseek(fd, 0, SEEK_CUR) == 14, "F_SETFL O_APPEND appends");
	CHECK(close(d) == 0 && close(40) == 0 && close(41) == 0 && close(100) == 0, "close");
	CHECK_ERR(close(d), EBADF, "close twice: EBADF");
	CHECK_ERR(ioctl(fd, TCGETS, buf), ENOTTY, "TCGETS on a file: ENOTTY");
	CHECK(ftruncate(fd, 3) == 0 && fstat(fd, &st) == 0 && st.st_size == 3, "ftruncate");
	CHECK(truncate("f", 1) == 0 && stat("f", &st) == 0 && st.st_size == 1, "truncate");
	CHECK(fsync(fd) == 0 && fdatasync(fd) == 0, "fsync and fdatasync");
	CHECK(fchmod(fd, 0604) == 0 && stat("f", &st) == 0 && (st.st_mode & 0777) == 0604, "fchmod");

	/* names */
	CHECK(mkdir("sub", 0755) == 0 && stat("sub", &st) == 0 && S_ISDIR(st.st_mode), "mkdir");
	CHECK_ERR(mkdir("sub", 0755), EEXIST, "mkdir of an existing name: EEXIST");
	CHECK(symlink("../f", "sub/link") == 0, "symlink");
	CHECK(readlink("sub/link", buf, sizeof(buf)) == 4 && !memcmp(buf, "../f", 4), "readlink");
	CHECK_ERR(readlink("f", buf, sizeof(buf)), EINVAL, "readlink of a file: EINVAL");
	CHECK(lstat("sub/link", &st) == 0 && S_ISLNK(st.st_mode), "lstat sees the link");
	CHECK(stat("sub/link", &st) == 0 && S_ISREG(st.st_mode), "stat follows it");
	CHECK(fstatat(AT_FDCWD, "sub/link", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode),
	      "fstatat AT_SYMLINK_NOFOLLOW");
	struct statx stx;
	CHECK(statx(AT_FDCWD, "f", 0, STATX_BASIC_STATS, &stx) == 0 && stx.stx_size == 1 &&
	      S_ISREG(stx.stx_mode), "statx");
	CHECK(fstatat(fd, "", &st, AT_EMPTY_PATH) == 0 && st.st_size == 1, "fstatat AT_EMPTY_PATH");
	CHECK(link("f", "sub/hard") == 0 && stat("f", &st) == 0 && st.st_nlink == 2, "link");
	CHECK(rename("sub/hard", "moved") == 0 && access("moved", F_OK) == 0 &&
	      access("sub/hard", F_OK) == -1, "rename");
	CHECK(access("f", R_OK | W_OK) == 0, "access");
	CHECK(faccessat(AT_FDCWD, "sub/link", F_OK, AT_SYMLINK_NOFOLLOW) == 0, "faccessat");
	CHECK(chmod("sub/link", 0600) == 0 && stat("f", &st) == 0 && (st.st_mode & 0777) == 0600,
	      "chmod follows a symlink");
	struct timespec ts[2] = {{1000000000, 0}, {1234567890, 0}};
	CHECK(utimensat(AT_FDCWD, "f", ts, 0) == 0 && stat("f", &st) == 0 &&
	      st.st_mtime == 1234567890, "utimensat");
	CHECK(unlink("moved") == 0 && access("moved", F_OK) == -1, "unlink");
	CHECK_ERR(unlink("sub"), EISDIR, "unlink of a directory: EISDIR");
	CHECK_ERR(rmdir("sub"), ENOTEMPTY, "rmdir of a full directory: ENOTEMPTY");
	CHECK_ERR(rmdir("."), EINVAL, "rmdir of '.': EINVAL");
	CHECK(mknod("fifo", S_IFIFO | 0600, 0) == 0 && stat("fifo", &st) == 0 && S_ISFIFO(st.st_mode),
	      "mknod of a FIFO");

	/* directories */
	CHECK(has_entry(".", "f") && has_entry(".", "sub") && has_entry(".", "..") &&
	      !has_entry(".", "moved"), "getdents64 lists the directory");
	int dfd = open("sub", O_RDONLY | O_DIRECTORY);
	CHECK(dfd >= 0 && openat(dfd, "link", O_RDONLY) >= 0, "openat relative to a directory");
	CHECK(fchdir(dfd) == 0 && getcwd(buf, sizeof(buf)) && !strcmp(buf, "/tmp/fs-test/sub"), "fchdir");
	CHECK(chdir("..") == 0 && getcwd(buf, sizeof(buf)) && !strcmp(buf, dir), "chdir ..");
	CHECK(rename("sub", "sub2") == 0 && fstatat(dfd, "link", &st, 0) == 0,
	      "a renamed directory still starts lookups from its descriptor");
	CHECK(unlinkat(dfd, "link", 0) == 0 && rmdir("sub2") == 0, "unlinkat and rmdir");
	CHECK(getcwd(buf, 4) == NULL && errno == ERANGE, "getcwd into a short buffer: ERANGE");

	/* pipes and poll */
	int p[2];
	CHECK(pipe2(p, O_CLOEXEC) == 0 && fcntl(p[0], F_GETFD) == FD_CLOEXEC, "pipe2");
	struct pollfd pf[2] = {{p[0], POLLIN, 0}, {p[1], POLLOUT, 0}};
	CHECK(poll(pf, 2, 0) == 1 && pf[1].revents == POLLOUT && pf[0].revents == 0,
	      "poll: an empty pipe is writable, not readable");
	CHECK(write(p[1], "pipe", 4) == 4, "write to the pipe");
	CHECK(poll(pf, 1, 1000) == 1 && pf[0].revents == POLLIN, "poll: now readable");
	fd_set rs;
	FD_ZERO(&rs);
	FD_SET(p[0], &rs);
	struct timeval tv = {1, 0};
	CHECK(select(p[0] + 1, &rs, NULL, NULL, &tv) == 1 && FD_ISSET(p[0], &rs), "select");
	CHECK(read(p[0], buf, sizeof(buf)) == 4 && !memcmp(buf, "pipe", 4), "read from the pipe");
	CHECK(fcntl(p[0], F_SETFL, O_NONBLOCK) == 0, "O_NONBLOCK on the pipe");
	CHECK_ERR(read(p[0], buf, 1), EAGAIN, "an empty non-blocking pipe: EAGAIN");
	close(p[1]);
	CHECK(read(p[0], buf, 1) == 0, "end of file once the writer is gone");

	/* the guest port's /dev */
	int null = open("/dev/null", O_RDWR);
	CHECK(null >= 0 && write(null, "x", 1) == 1 && read(null, buf, 1) == 0, "/dev/null");
	CHECK(fstat(null, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3),
	      "/dev/null is character device 1:3");
	int zero = open("/dev/zero", O_RDONLY);
	memset(buf, 1, 64);
	CHECK(zero >= 0 && read(zero, buf, 64) == 64 && buf[0] == 0 && buf[63] == 0, "/dev/zero");
	unsigned char r1[32] = {0}, r2[32] = {0};
	int ur = open("/dev/urandom", O_RDONLY);
	CHECK(ur >= 0 && read(ur, r1, 32) == 32 && read(ur, r2, 32) == 32 && memcmp(r1, r2, 32),
	      "/dev/urandom");
	int full = open("/dev/full", O_WRONLY);
	CHECK_ERR(write(full, "x", 1), ENOSPC, "/dev/full: ENOSPC");
	CHECK_ERR(open("/dev/tty", O_RDWR), ENXIO, "/dev/tty without a controlling terminal: ENXIO");
	CHECK(has_entry("/dev", "null") && has_entry("/dev", "urandom"), "/dev lists its devices");
	CHECK(readlink("/dev/stdout", buf, sizeof(buf)) == 15 && !memcmp(buf, "/proc/self/fd/1", 15),
	      "/dev/stdout links to /proc/self/fd/1");
	CHECK_ERR(mkdir("/dev/new", 0755), EPERM, "mkdir in /dev: EPERM");
	CHECK_ERR(unlink("/dev/null"), EPERM, "unlink /dev/null: EPERM");

	/* the guest port's /proc */
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	CHECK(n > 0 && !strcmp(buf, argv[0]), "/proc/self/exe names the program");
	n = readlink("/proc/self/cwd", buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	CHECK(n > 0 && !strcmp(buf, dir), "/proc/self/cwd");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	CHECK(n > 0 && !strcmp(buf, "/tmp/fs-test/f"), "/proc/self/fd/N names the file");
	int again = open(path, O_RDONLY);
	CHECK(again >= 0 && again != fd && lseek(again, 0, SEEK_CUR) == 0,
	      "opening /proc/self/fd/N opens the file anew");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", p[0]);
	n = readlink(path, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	CHECK(n > 0 && !strncmp(buf, "pipe:[", 6), "a pipe is pipe:[...] there");
	CHECK(slurp("/proc/self/cmdline", buf, sizeof(buf)) > 0 && !strcmp(buf, argv[0]),
	      "/proc/self/cmdline");
	CHECK(slurp("/proc/self/status", buf, sizeof(buf)) > 0 && strstr(buf, "Pid:\t"),
	      "/proc/self/status");
	CHECK(slurp("/proc/self/stat", buf, sizeof(buf)) > 0 && strchr(buf, '('), "/proc/self/stat");
	CHECK(slurp("/proc/meminfo", buf, sizeof(buf)) > 0 && strstr(buf, "MemTotal:"), "/proc/meminfo");
	CHECK(has_entry("/proc/self/fd", "0") && has_entry("/proc/self", "maps"), "/proc lists");
	n = readlink("/proc/self", buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	CHECK(n > 0 && atoi(buf) == getpid(), "/proc/self links to the pid");
	CHECK_ERR(open("/proc/self/maps", O_WRONLY), EACCES, "/proc/self/maps for writing: EACCES");
	CHECK(chdir("/proc/self/fd") == 0 && getcwd(buf, sizeof(buf)) &&
	      !strcmp(buf, "/proc/1/fd") && access("0", F_OK) == 0,
	      "a /proc directory as the current directory");
	struct statfs sfs;
	CHECK(statfs("/proc", &sfs) == 0 && sfs.f_type == 0x9fa0, "statfs /proc");

	chdir("/");
	unlink("/tmp/fs-test/f");
	unlink("/tmp/fs-test/g");
	unlink("/tmp/fs-test/fifo");
	rmdir(dir);
	return tap_done();
}
