// SPDX-License-Identifier: GPL-2.0
/*
 * Confinement: no path, symlink, ".." or descriptor trick reaches outside
 * the guest's root.
 *
 *	confine_test MARKER DIR [HOST MOUNTS]
 *
 * The runner puts a file MARKER and a directory DIR next to the guest's
 * root on the host (so "/../MARKER" would name it, were ".." to leave the
 * root), and starts the test with its standard input open on a directory
 * outside the root.  Inside the root there is no MARKER and no DIR: every
 * escape must fail as a lookup of a missing name does, with ENOENT; a
 * descriptor from outside must not start a lookup (ENOTDIR); device
 * nodes cannot be made (EPERM).
 *
 * Host objects the root holds (issue 10, item 18): the runner, as root,
 * makes a directory /HOST in the root with a character device HOST/zero
 * (1:5) and a block device HOST/disk (7:0), and a character device
 * HOST in the root's own /dev (1:5, which the guest port's /dev hides
 * by name).  With MOUNTS "mounted", HOST/proc and the root's own /proc
 * (which the guest port's /proc hides by name) are procfs mounts, and
 * HOST/bind a bind mount of a host directory holding "file" ("bound\n");
 * otherwise MOUNTS says why not, and those checks are skipped, as all
 * of these are when HOST is "-".  No device node and nothing on a file
 * system that shows the host (procfs) is reached by any name, relative,
 * absolute or through a symlink: every call fails with ENOENT, as for a
 * missing name.  The bind mount of an ordinary directory works.  (The
 * guest port has no execve: progs-check starts /HOST/zlink, a symlink to
 * HOST/zero, as the program.)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/random.h>
#include <sys/time.h>
#include <unistd.h>

#include "tap.h"

static char p[PATH_MAX];

static const char *fmt(const char *f, const char *a)
{
	snprintf(p, sizeof(p), f, a);
	return p;
}

static ssize_t slurp_at(int dirfd, const char *path, char *buf, size_t len)
{
	int fd = openat(dirfd, path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return n;
}

static int is_null(int fd)
{
	struct stat st;
	int ok = fd >= 0 && fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) &&
		 st.st_rdev == makedev(1, 3);

	if (fd >= 0)
		close(fd);
	return ok;
}

/* Each call a guest may make on a name, on dirfd/name: all fail with
 * ENOENT, as for a missing name. */
static void refused(int dirfd, const char *name, const char *what)
{
	struct stat st;

	CHECK_ERR(openat(dirfd, name, O_RDONLY), ENOENT, "%s: open", what);
	CHECK_ERR(openat(dirfd, name, O_PATH), ENOENT, "%s: open O_PATH", what);
	CHECK_ERR(openat(dirfd, name, O_WRONLY | O_CREAT, 0644), ENOENT, "%s: open O_CREAT", what);
	CHECK_ERR(openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL, 0644), ENOENT,
		  "%s: open O_CREAT | O_EXCL", what);
	CHECK_ERR(fstatat(dirfd, name, &st, 0), ENOENT, "%s: stat", what);
	CHECK_ERR(faccessat(dirfd, name, F_OK, 0), ENOENT, "%s: access", what);
}

/* The calls that change a file, through a name in the current directory
 * (a symlink, or a path). */
static void unchanged(const char *name, const char *what)
{
	CHECK_ERR(chmod(name, 0600), ENOENT, "%s: chmod", what);
	CHECK_ERR(chown(name, 4321, 4321), ENOENT, "%s: chown", what);
	CHECK_ERR(utimes(name, NULL), ENOENT, "%s: utimes", what);
	CHECK_ERR(truncate(name, 0), ENOENT, "%s: truncate", what);
	CHECK_ERR(linkat(AT_FDCWD, name, AT_FDCWD, "hard", AT_SYMLINK_FOLLOW), ENOENT,
		  "%s: link with AT_SYMLINK_FOLLOW", what);
}

/* Device nodes in the root, and a procfs mounted in it: never reached. */
static void host_objects(const char *host, const char *mounts, int rootfd)
{
	char abs[PATH_MAX], rel[PATH_MAX], tgt[PATH_MAX], buf[64];
	struct stat st;
	struct statfs sfs;
	int mounted = !strcmp(mounts, "mounted");

	if (!strcmp(host, "-")) {
		SKIP("the runner could not make device nodes", "device nodes in the root");
		return;
	}
	int hostfd = open(fmt("/%s", host), O_PATH | O_DIRECTORY);
	CHECK(hostfd >= 0, "/HOST, an ordinary directory, opens");

	/* a character device */
	snprintf(abs, sizeof(abs), "/%s/zero", host);
	snprintf(rel, sizeof(rel), "%s/zero", host);
	refused(AT_FDCWD, abs, "/HOST/zero");
	refused(rootfd, rel, "openat(/, HOST/zero)");
	refused(hostfd, "zero", "openat(/HOST, zero)");
	CHECK_ERR(fstatat(AT_FDCWD, abs, &st, AT_SYMLINK_NOFOLLOW), ENOENT, "/HOST/zero: lstat");
	CHECK_ERR(readlink(abs, buf, sizeof(buf)), ENOENT, "/HOST/zero: readlink");
	CHECK(symlink(abs, "zabs") == 0, "a symlink to /HOST/zero");
	refused(AT_FDCWD, "zabs", "through it");
	unchanged("zabs", "through it");
	CHECK(lstat("zabs", &st) == 0 && S_ISLNK(st.st_mode) &&
	      readlink("zabs", tgt, sizeof(tgt)) == (ssize_t)strlen(abs),
	      "the symlink itself is there: lstat, readlink");
	snprintf(tgt, sizeof(tgt), "../../%s/zero", host);
	CHECK(symlink(tgt, "zrel") == 0, "a symlink to ../../HOST/zero");
	refused(AT_FDCWD, "zrel", "through it");
	refused(AT_FDCWD, tgt, "../../HOST/zero from the scratch directory");
	CHECK(symlink(fmt("/%s", host), "hostlink") == 0, "a symlink to /HOST");
	refused(AT_FDCWD, "hostlink/zero", "hostlink/zero");
	CHECK_ERR(readlink("hostlink/zero", buf, sizeof(buf)), ENOENT, "hostlink/zero: readlink");
	CHECK(symlink("zabs", "zchain") == 0, "a symlink to that symlink");
	refused(AT_FDCWD, "zchain", "through both");

	/* the root's own /dev, hidden by name, reached by a symlink */
	snprintf(abs, sizeof(abs), "/dev/%s", host);
	CHECK_ERR(open(abs, O_RDONLY), ENOENT, "/dev/HOST: the guest port's /dev has none");
	CHECK(symlink(abs, "zdev") == 0, "a symlink to /dev/HOST");
	refused(AT_FDCWD, "zdev", "through it, to the root's /dev/HOST");
	unchanged("zdev", "through it");

	/* a block device */
	snprintf(abs, sizeof(abs), "/%s/disk", host);
	refused(AT_FDCWD, abs, "/HOST/disk");
	CHECK(symlink(abs, "dabs") == 0, "a symlink to /HOST/disk");
	refused(AT_FDCWD, "dabs", "through it");
	unchanged("dabs", "through it");

	/* the guest port's /dev works as before */
	int z = open("/dev/zero", O_RDONLY);
	CHECK(z >= 0 && read(z, buf, sizeof(buf)) == sizeof(buf) && !buf[0] && !buf[63],
	      "/dev/zero, the guest port's, reads zeros");
	close(z);

	if (!mounted) {
		SKIP(mounts, "a procfs and a bind mount in the root");
		close(hostfd);
		return;
	}

	/* a procfs */
	snprintf(abs, sizeof(abs), "/%s/proc", host);
	refused(AT_FDCWD, abs, "/HOST/proc");
	refused(AT_FDCWD, fmt("/%s/proc/1/cmdline", host), "/HOST/proc/1/cmdline");
	refused(rootfd, fmt("%s/proc/self/environ", host), "openat(/, HOST/proc/self/environ)");
	refused(hostfd, "proc/uptime", "openat(/HOST, proc/uptime)");
	CHECK_ERR(fstatat(AT_FDCWD, abs, &st, AT_SYMLINK_NOFOLLOW), ENOENT, "/HOST/proc: lstat");
	CHECK_ERR(readlink(fmt("/%s/proc/self", host), buf, sizeof(buf)), ENOENT,
		  "/HOST/proc/self: readlink");
	CHECK(symlink(abs, "pabs") == 0, "a symlink to /HOST/proc");
	refused(AT_FDCWD, "pabs", "through it");
	refused(AT_FDCWD, "pabs/self", "pabs/self");
	CHECK_ERR(readlink("pabs/self", buf, sizeof(buf)), ENOENT, "pabs/self: readlink");
	refused(AT_FDCWD, "pabs/1/cmdline", "pabs/1/cmdline");
	CHECK_ERR(open("pabs/sys/kernel/hostname", O_WRONLY), ENOENT,
		  "pabs/sys/kernel/hostname: open for writing");
	CHECK_ERR(open("pabs", O_RDONLY | O_DIRECTORY), ENOENT, "pabs: opendir");
	int here = open(".", O_PATH | O_DIRECTORY);
	CHECK_ERR(chdir("pabs"), ENOENT, "pabs: chdir");
	fchdir(here);	/* were it to succeed */
	close(here);
	CHECK_ERR(statfs("pabs", &sfs), ENOENT, "pabs: statfs");
	CHECK_ERR(mkdir("pabs/unpriv-confine", 0755), ENOENT, "pabs/x: mkdir");
	CHECK_ERR(utimensat(AT_FDCWD, abs, NULL, AT_SYMLINK_NOFOLLOW), ENOENT,
		  "/HOST/proc: utimensat with AT_SYMLINK_NOFOLLOW");
	snprintf(tgt, sizeof(tgt), "../../%s/proc", host);
	CHECK(symlink(tgt, "prel") == 0, "a symlink to ../../HOST/proc");
	refused(AT_FDCWD, "prel/uptime", "prel/uptime");

	/* a procfs on the root's own /proc, reached by a symlink */
	CHECK(symlink("/proc/1/cmdline", "rproc") == 0 &&
	      symlink("/proc/self/mounts", "mtab") == 0,
	      "symlinks to /proc/1/cmdline and /proc/self/mounts");
	refused(AT_FDCWD, "rproc", "through the first, to the root's /proc");
	refused(AT_FDCWD, "mtab", "through the second");
	CHECK(slurp_at(AT_FDCWD, "/proc/1/cmdline", buf, sizeof(buf)) > 0,
	      "/proc/1/cmdline by name is the guest port's");

	/* an ordinary bind mount works */
	snprintf(abs, sizeof(abs), "/%s/bind/file", host);
	CHECK(slurp_at(AT_FDCWD, abs, buf, sizeof(buf)) == 6 && !strcmp(buf, "bound\n"),
	      "/HOST/bind/file, in a bind mount, reads");
	CHECK(symlink(fmt("/%s/bind", host), "babs") == 0 &&
	      slurp_at(AT_FDCWD, "babs/file", buf, sizeof(buf)) == 6 &&
	      stat("babs", &st) == 0 && S_ISDIR(st.st_mode) && statfs("babs", &sfs) == 0,
	      "and through a symlink: open, stat, statfs");
	CHECK(slurp_at(hostfd, "bind/file", buf, sizeof(buf)) == 6, "and openat(/HOST, bind/file)");
	close(hostfd);
}

int main(int argc, char **argv)
{
	char buf[PATH_MAX];
	struct stat st;

	if (argc != 3 && argc != 5) {
		fprintf(stderr, "usage: confine_test MARKER DIR [HOST MOUNTS]\n");
		return 2;
	}
	const char *marker = argv[1], *outdir = argv[2];

	/* A scratch directory of this run's own, so that runs on several
	 * backends in one root do not meet each other's links. */
	char scratch[64];
	unsigned int r = 0;
	getrandom(&r, sizeof(r), 0);
	snprintf(scratch, sizeof(scratch), "/tmp/confine.%08x", r);
	CHECK(mkdir(scratch, 0755) == 0 && chdir(scratch) == 0, "a scratch directory");

	/* ".." at the root stays at the root */
	CHECK_ERR(open(fmt("/../%s", marker), O_RDONLY), ENOENT, "/../MARKER");
	CHECK_ERR(open(fmt("/../../../../../../%s", marker), O_RDONLY), ENOENT, "/../../../../../../MARKER");
	CHECK_ERR(open(fmt("////..//..//.//%s", marker), O_RDONLY), ENOENT, "////..//..//.//MARKER");
	CHECK_ERR(open(fmt("../../../../%s", marker), O_RDONLY), ENOENT, "../../../../MARKER from the scratch directory");
	CHECK_ERR(stat(fmt("/../%s", marker), &st), ENOENT, "stat /../MARKER");
	CHECK_ERR(lstat(fmt("/../%s", marker), &st), ENOENT, "lstat /../MARKER");
	CHECK_ERR(access(fmt("/../%s", marker), F_OK), ENOENT, "access /../MARKER");
	CHECK(chdir("/") == 0 && chdir("..") == 0 && chdir("..") == 0 &&
	      getcwd(buf, sizeof(buf)) && !strcmp(buf, "/"), "chdir .. from / stays at /");
	CHECK_ERR(open(marker, O_RDONLY), ENOENT, "MARKER relative to that");
	chdir(scratch);

	/* symlinks */
	CHECK(symlink(fmt("/../%s", marker), "abs") == 0, "a symlink to /../MARKER");
	CHECK_ERR(open("abs", O_RDONLY), ENOENT, "open through it");
	CHECK(symlink(fmt("../../../../../../../../%s", marker), "rel") == 0, "a symlink to ../../../../MARKER");
	CHECK_ERR(open("rel", O_RDONLY), ENOENT, "open through it");
	CHECK_ERR(stat("rel", &st), ENOENT, "stat through it");
	CHECK(symlink("/..", "rootparent") == 0, "a symlink to /..");
	CHECK_ERR(open(fmt("rootparent/%s", marker), O_RDONLY), ENOENT, "open MARKER under it");
	CHECK(readlink("abs", buf, sizeof(buf)) > 0, "readlink reads the link itself");
	CHECK_ERR(chmod("abs", 0777), ENOENT, "chmod through a symlink out");
	CHECK_ERR(chown("abs", 0, 0), ENOENT, "chown through a symlink out");
	CHECK_ERR(truncate("abs", 0), ENOENT, "truncate through a symlink out");
	CHECK_ERR(utimes("abs", NULL), ENOENT, "utimes through a symlink out");
	CHECK_ERR(linkat(AT_FDCWD, "abs", AT_FDCWD, "hard", AT_SYMLINK_FOLLOW), ENOENT,
		  "link through a symlink out");
	int made = open("abs", O_WRONLY | O_CREAT | O_EXCL, 0644);
	CHECK(made < 0 && errno == EEXIST, "O_CREAT | O_EXCL on the symlink: EEXIST");
	made = open("abs", O_WRONLY | O_CREAT, 0644);
	CHECK(made >= 0 && access(fmt("/%s", marker), F_OK) == 0,
	      "O_CREAT through it makes the file inside the root");
	CHECK(unlink(fmt("/%s", marker)) == 0, "which goes again");
	CHECK(symlink(fmt("/%s", outdir), "dirlink") == 0, "a symlink to /DIR");
	CHECK_ERR(mkdir("dirlink/sub", 0755), ENOENT, "mkdir through it");
	CHECK_ERR(open("dirlink/new", O_WRONLY | O_CREAT, 0644), ENOENT, "create a file through it");
	CHECK_ERR(rename("abs", fmt("/../%s/moved", outdir)), ENOENT, "rename into /../DIR");
	CHECK_ERR(mkdir(fmt("/../%s/sub", outdir), 0755), ENOENT, "mkdir /../DIR/sub");
	CHECK_ERR(symlink("x", fmt("/../%s/link", outdir)), ENOENT, "symlink in /../DIR");
	CHECK(symlink("loop1", "loop2") == 0 && symlink("loop2", "loop1") == 0, "a symlink loop");
	CHECK_ERR(open("loop1", O_RDONLY), ELOOP, "open through it: ELOOP");
	CHECK(symlink("/tmp", "inside") == 0 && open("inside/../etc/passwd", O_RDONLY) >= 0,
	      "'..' after a symlink inside the root works as on Linux");

	/* descriptors as starting points */
	int rootfd = open("/", O_PATH | O_DIRECTORY);
	CHECK(rootfd >= 0, "open / with O_PATH");
	CHECK_ERR(openat(rootfd, fmt("../%s", marker), O_RDONLY), ENOENT, "openat(/, ../MARKER)");
	int tmpfd = open("/tmp", O_RDONLY | O_DIRECTORY);
	CHECK_ERR(openat(tmpfd, fmt("../../../%s", marker), O_RDONLY), ENOENT,
		  "openat(/tmp, ../../../MARKER)");
	CHECK_ERR(openat(tmpfd, fmt("%s/abs", scratch + strlen("/tmp/")), O_RDONLY), ENOENT,
		  "openat through the symlink out");
	CHECK_ERR(fstatat(rootfd, fmt("../%s", marker), &st, 0), ENOENT, "fstatat(/, ../MARKER)");
	CHECK(fstat(0, &st) == 0 && S_ISDIR(st.st_mode), "standard input is a directory outside");
	CHECK_ERR(openat(0, marker, O_RDONLY), ENOTDIR, "it does not start a lookup");
	CHECK_ERR(fstatat(0, marker, &st, 0), ENOTDIR, "nor a stat");
	CHECK_ERR(mkdirat(0, "new", 0755), ENOTDIR, "nor a mkdir");
	CHECK_ERR(fchdir(0), ENOTDIR, "nor becomes the current directory");
	CHECK_ERR(open(fmt("/proc/self/fd/0/%s", marker), O_RDONLY), ENOTDIR,
		  "nor through /proc/self/fd/0");

	/* the guest port's own links */
	CHECK_ERR(open(fmt("/proc/self/root/../%s", marker), O_RDONLY), ENOENT, "/proc/self/root/../MARKER");
	CHECK_ERR(open(fmt("/proc/self/cwd/../../../../%s", marker), O_RDONLY), ENOENT,
		  "/proc/self/cwd/../../../../MARKER");
	snprintf(buf, sizeof(buf), "/dev/fd/%d/../%s", rootfd, marker);
	CHECK_ERR(open(buf, O_RDONLY), ENOENT, "/dev/fd/ROOTFD/../MARKER");
	CHECK_ERR(open(fmt("/dev/../../%s", marker), O_RDONLY), ENOENT, "/dev/../../MARKER");

	/* The guest port's own /dev and /proc, by relative names too: never
	 * the root's directories of those names. */
	char comm[64], rel[64];
	CHECK(chdir("/") == 0 && slurp_at(AT_FDCWD, "/proc/self/comm", comm, sizeof(comm)) > 0,
	      "read /proc/self/comm");
	CHECK(slurp_at(AT_FDCWD, "proc/self/comm", rel, sizeof(rel)) > 0 && !strcmp(comm, rel),
	      "proc/self/comm from / is the guest port's");
	CHECK(slurp_at(AT_FDCWD, "./proc/self/comm", rel, sizeof(rel)) > 0 && !strcmp(comm, rel),
	      "./proc/self/comm from / is the guest port's");
	CHECK(slurp_at(rootfd, "proc/self/comm", rel, sizeof(rel)) > 0 && !strcmp(comm, rel),
	      "openat(/, proc/self/comm) is the guest port's");
	CHECK(slurp_at(rootfd, ".//proc/./self/comm", rel, sizeof(rel)) > 0 && !strcmp(comm, rel),
	      "openat(/, .//proc/./self/comm) is the guest port's");
	CHECK(is_null(open("dev/null", O_WRONLY)), "dev/null from / is the guest port's");
	CHECK(is_null(open("./dev/null", O_WRONLY)), "./dev/null from / is the guest port's");
	CHECK(is_null(openat(rootfd, "dev/null", O_WRONLY)), "openat(/, dev/null) is the guest port's");
	CHECK(fstatat(AT_FDCWD, "proc", &st, 0) == 0 && st.st_dev == makedev(0, 0x75) &&
	      fstatat(rootfd, "dev", &st, 0) == 0 && st.st_dev == makedev(0, 0x75),
	      "stat proc and dev from /: the guest port's");
	errno = 0;
	int abs_err = open("/dev/unpriv-confine", O_WRONLY | O_CREAT, 0644) < 0 ? errno : 0;
	CHECK(abs_err != 0, "creating /dev/unpriv-confine fails");
	CHECK_ERR(open("dev/unpriv-confine", O_WRONLY | O_CREAT, 0644), abs_err,
		  "so does creating dev/unpriv-confine from /");
	CHECK_ERR(openat(rootfd, "dev/unpriv-confine", O_WRONLY | O_CREAT, 0644), abs_err,
		  "and from a descriptor of /");
	CHECK_ERR(mkdir("proc/unpriv-confine", 0755), EPERM, "mkdir proc/x from /: EPERM");
	CHECK_ERR(mkdirat(rootfd, "./proc/unpriv-confine", 0755), EPERM,
		  "mkdirat(/, ./proc/x): EPERM");
	CHECK_ERR(symlink("x", "dev/unpriv-confine"), EPERM, "symlink dev/x from /: EPERM");
	CHECK_ERR(unlink("dev/null"), EPERM, "unlink dev/null from /: EPERM");
	chdir(scratch);

	/* no devices */
	CHECK_ERR(mknod("null", S_IFCHR | 0666, makedev(1, 3)), EPERM, "mknod of a character device: EPERM");
	CHECK_ERR(mknod("disk", S_IFBLK | 0666, makedev(8, 0)), EPERM, "mknod of a block device: EPERM");
	CHECK_ERR(syscall(SYS_renameat2, AT_FDCWD, "inside", AT_FDCWD, "wh", 4 /* RENAME_WHITEOUT */),
		  EPERM, "RENAME_WHITEOUT, which makes a device: EPERM");

	/* host objects in the root */
	if (argc == 5)
		host_objects(argv[3], argv[4], rootfd);
	else
		SKIP("no HOST given", "device nodes and mounts in the root");

	static const char *const links[] = {
		"abs", "rel", "rootparent", "dirlink", "loop1", "loop2", "inside", "hard",
		"zabs", "zrel", "hostlink", "zchain", "zdev", "dabs", "pabs", "prel", "babs",
		"rproc", "mtab",
	};
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		unlink(links[i]);
	chdir("/");
	CHECK(rmdir(scratch) == 0, "the scratch directory goes, empty");
	return tap_done();
}
