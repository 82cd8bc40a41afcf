// SPDX-License-Identifier: GPL-2.0
/*
 * Memory in the guest port: brk, mmap (anonymous, file-backed private and
 * shared, /dev/zero), munmap, mprotect, mremap, madvise.  Whether memory
 * is there and accessible is checked the way the kernel checks it for a
 * system call: write(2) from it fails with EFAULT when it is not readable,
 * read(2) into it when it is not writable.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

static int devnull, devzero;

static int readable(const void *p, size_t len)
{
	return write(devnull, p, len) == (ssize_t)len;
}

static int writable(void *p, size_t len)
{
	return read(devzero, p, len) == (ssize_t)len;
}

static int all(const unsigned char *p, size_t len, unsigned char v)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

int main(void)
{
	const long pg = sysconf(_SC_PAGESIZE);
	char tmpl[] = "/tmp/mm-test-XXXXXX";

	devnull = open("/dev/null", O_WRONLY);
	devzero = open("/dev/zero", O_RDONLY);
	CHECK(devnull >= 0 && devzero >= 0, "open /dev/null and /dev/zero");
	CHECK(pg == 4096, "the page size is 4096");

	/* brk */
	char *b0 = (char *)syscall(SYS_brk, 0);
	char *b1 = (char *)syscall(SYS_brk, b0 + 5 * pg + 17);
	CHECK(b1 == b0 + 5 * pg + 17, "brk grows");
	CHECK(writable(b0, 5 * pg) && all((unsigned char *)b0, 5 * pg, 0),
	      "grown heap is zeroed and writable");
	memset(b0, 0x5a, 5 * pg);
	CHECK((char *)syscall(SYS_brk, b0 + pg) == b0 + pg, "brk shrinks");
	CHECK(!readable(b0 + 2 * pg, 1), "shrunk heap is gone");
	CHECK((char *)syscall(SYS_brk, b0 + 3 * pg) == b0 + 3 * pg, "brk grows again");
	CHECK(all((unsigned char *)b0 + 2 * pg, pg, 0), "regrown heap is zeroed");
	CHECK((char *)syscall(SYS_brk, (char *)0x1000) == b0 + 3 * pg,
	      "brk below its start fails, returning the current break");

	/* anonymous mmap, munmap */
	size_t len = 64 * pg;
	unsigned char *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(m != MAP_FAILED, "mmap anonymous");
	CHECK(all(m, len, 0), "anonymous memory is zeroed");
	memset(m, 0xa5, len);
	CHECK(munmap(m + 10 * pg, 4 * pg) == 0, "munmap a hole");
	CHECK(!readable(m + 11 * pg, 1), "the hole is unmapped");
	CHECK(readable(m + 9 * pg, pg) && readable(m + 14 * pg, pg), "both sides stay");
	CHECK(all(m + 14 * pg, pg, 0xa5), "and keep their contents");
	unsigned char *fixed = mmap(m + 10 * pg, 4 * pg, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK(fixed == m + 10 * pg && all(fixed, 4 * pg, 0), "MAP_FIXED refills the hole with zeros");
	CHECK_ERR(mmap(m, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0),
		  EEXIST, "MAP_FIXED_NOREPLACE over a mapping: EEXIST");
	CHECK_ERR(mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), EINVAL,
		  "mmap of length 0: EINVAL");
	CHECK_ERR(mmap(NULL, pg, PROT_READ, MAP_ANONYMOUS, -1, 0), EINVAL,
		  "mmap neither shared nor private: EINVAL");
	CHECK_ERR(mmap((void *)0x1000, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
		  EPERM, "MAP_FIXED below mmap_min_addr: EPERM");
	CHECK_ERR(mmap(NULL, pg, PROT_READ, MAP_PRIVATE, 12345, 0), EBADF,
		  "mmap of a closed descriptor: EBADF");
	CHECK_ERR(munmap(m + 1, pg), EINVAL, "munmap of a misaligned address: EINVAL");
	void *low = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	CHECK(low != MAP_FAILED && (uintptr_t)low < 0x80000000u, "MAP_32BIT is below 2 GiB");

	/* mprotect */
	CHECK(mprotect(m, 4 * pg, PROT_READ) == 0, "mprotect read-only");
	CHECK(readable(m, 4 * pg) && !writable(m, 1), "read-only: readable, not writable");
	CHECK(mprotect(m, 4 * pg, PROT_NONE) == 0, "mprotect PROT_NONE");
	CHECK(!readable(m, 1), "PROT_NONE: not readable");
	CHECK(mprotect(m, 4 * pg, PROT_READ | PROT_WRITE) == 0, "mprotect back to read-write");
	CHECK(all(m, 4 * pg, 0xa5), "contents survive protection changes");
	CHECK_ERR(mprotect(m + 10 * pg, 1, PROT_READ | PROT_WRITE | 0x100), EINVAL,
		  "mprotect with an unknown bit: EINVAL");
	unsigned char *none = mmap(NULL, 8 * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(none != MAP_FAILED && mprotect(none + 2 * pg, 2 * pg, PROT_READ | PROT_WRITE) == 0 &&
	      writable(none + 2 * pg, 2 * pg) && all(none + 2 * pg, 2 * pg, 0) && !readable(none, 1),
	      "part of a PROT_NONE reservation made usable");
	munmap(none + 4 * pg, pg);
	CHECK_ERR(mprotect(none, 8 * pg, PROT_READ), ENOMEM, "mprotect over a hole: ENOMEM");
	unsigned char *sh = mmap(NULL, 2 * pg, PROT_NONE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(sh != MAP_FAILED && mprotect(sh, 2 * pg, PROT_READ | PROT_WRITE) == 0 &&
	      writable(sh, 2 * pg) && all(sh, 2 * pg, 0),
	      "a PROT_NONE shared anonymous mapping made read-write by mprotect");
	if (sh != MAP_FAILED) {
		memset(sh, 0x33, 2 * pg);
		CHECK(all(sh, 2 * pg, 0x33), "and written");
	}

	/* mremap */
	unsigned char *r = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(r, 0x11, 4 * pg);
	unsigned char *r2 = mremap(r, 4 * pg, 256 * pg, MREMAP_MAYMOVE);
	CHECK(r2 != MAP_FAILED && all(r2, 4 * pg, 0x11) && all(r2 + 4 * pg, 252 * pg, 0),
	      "mremap grows, keeping the contents, zeros after");
	unsigned char *r3 = mremap(r2, 256 * pg, 2 * pg, 0);
	CHECK(r3 == r2 && !readable(r2 + 2 * pg, 1) && all(r3, 2 * pg, 0x11), "mremap shrinks in place");
	unsigned char *dest = mmap(NULL, 8 * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned char *r4 = mremap(r3, 2 * pg, 2 * pg, MREMAP_MAYMOVE | MREMAP_FIXED, dest + 4 * pg);
	CHECK(r4 == dest + 4 * pg && all(r4, 2 * pg, 0x11) && !readable(r3, 1),
	      "mremap MREMAP_FIXED moves");
	unsigned char *two = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mprotect(two + 2 * pg, 2 * pg, PROT_READ);
	CHECK_ERR(mremap(two + pg, 2 * pg, 4 * pg, MREMAP_MAYMOVE), EFAULT,
		  "mremap of a range across two mappings: EFAULT");
	CHECK_ERR(mremap(m + 11 * pg, pg, 2 * pg, 0), ENOMEM,
		  "mremap that cannot grow in place nor move: ENOMEM");

	/* madvise */
	memset(r4, 0x22, 2 * pg);
	CHECK(madvise(r4, 2 * pg, MADV_DONTNEED) == 0 && all(r4, 2 * pg, 0),
	      "MADV_DONTNEED zeroes private anonymous memory");

	/* The vDSO is the same pages in every process: a child's
	 * MADV_DONTNEED of its own leaves it whole, for it and for us (it
	 * once zeroed everyone's, and the next clock_gettime faulted). */
	unsigned char *vdso = (unsigned char *)getauxval(AT_SYSINFO_EHDR);
	pid_t child = vdso ? fork() : -1;
	if (child == 0) {
		int r = madvise(vdso, pg, MADV_DONTNEED);
		_exit(r == 0 && vdso[0] == 0x7f && vdso[1] == 'E' ? 0 : 1);
	}
	int st = -1;
	if (child > 0)
		waitpid(child, &st, 0);
	CHECK(child > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "MADV_DONTNEED of the vDSO: 0, and the child's vDSO still there (status %#x)", st);
	struct timespec ts = {0, 0};
	CHECK(vdso && vdso[0] == 0x7f && vdso[1] == 'E' &&
	      clock_gettime(CLOCK_MONOTONIC, &ts) == 0 && (ts.tv_sec || ts.tv_nsec),
	      "after a child's MADV_DONTNEED of its vDSO, ours works");
	CHECK(madvise(r4, pg, MADV_WILLNEED) == 0, "MADV_WILLNEED is accepted");
	CHECK_ERR(madvise(r4, pg, 12345), EINVAL, "unknown advice: EINVAL");
	/* Lengths that round up past the top of the address space. */
	CHECK_ERR(mprotect(r4, SIZE_MAX, PROT_READ), ENOMEM,
		  "mprotect of a length that rounds up to 0: ENOMEM");
	CHECK_ERR(madvise(r4, SIZE_MAX, MADV_DONTNEED), EINVAL,
		  "madvise of a length that rounds up to 0: EINVAL");
	CHECK(mprotect(r4, 0, PROT_NONE) == 0 && madvise(r4, 0, MADV_DONTNEED) == 0,
	      "mprotect and madvise of length 0: 0");

	/* files: private and shared */
	int fd = mkstemp(tmpl);
	CHECK(fd >= 0, "a file to map");
	unsigned char page[8192];
	memset(page, 'f', sizeof(page));
	CHECK(write(fd, page, sizeof(page)) == (ssize_t)sizeof(page), "write it");
	unsigned char *priv = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(priv != MAP_FAILED && all(priv, 2 * pg, 'f'), "private file mapping reads the file");
	priv[10] = 'p';
	unsigned char c = 0;
	CHECK(pread(fd, &c, 1, 10) == 1 && c == 'f', "a write to a private mapping stays private");
	CHECK(read(devzero, priv + pg, 16) == 16 && all(priv + pg, 16, 0) && priv[pg + 16] == 'f',
	      "the kernel's writes into a private file mapping copy the page");
	unsigned char *ro = mmap(NULL, pg, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(ro != MAP_FAILED && !writable(ro, 1), "read-only private file mapping is not writable");
	CHECK(mprotect(ro, pg, PROT_READ | PROT_WRITE) == 0 && writable(ro, 8) && all(ro, 8, 0),
	      "made writable by mprotect, it copies on write");
	unsigned char *shared = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(shared != MAP_FAILED, "shared file mapping");
	shared[20] = 's';
	CHECK(pread(fd, &c, 1, 20) == 1 && c == 's', "a write to a shared mapping reaches the file");
	CHECK(pwrite(fd, "w", 1, 30) == 1 && shared[30] == 'w', "a write to the file shows in it");
	CHECK(msync(shared, 2 * pg, MS_SYNC) == 0, "msync");
	CHECK_ERR(msync(shared + 1, pg, MS_SYNC), EINVAL, "msync of a misaligned address: EINVAL");
	int rdonly = open(tmpl, O_RDONLY);
	CHECK_ERR(mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, rdonly, 0), EACCES,
		  "shared writable mapping of a read-only descriptor: EACCES");
	CHECK_ERR(mmap(NULL, pg, PROT_READ, MAP_PRIVATE, fd, 1), EINVAL,
		  "misaligned file offset: EINVAL");
	CHECK_ERR(mmap(NULL, pg, PROT_READ, MAP_PRIVATE, fd, (off_t)0x7ffffffffffff000), EOVERFLOW,
		  "private mapping at a file offset past the largest file: EOVERFLOW");
	CHECK_ERR(mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, (off_t)0x7ffffffffffff000), EOVERFLOW,
		  "shared mapping there: EOVERFLOW");
	CHECK_ERR(mmap(NULL, 2 * pg, PROT_READ, MAP_PRIVATE, fd, (off_t)0x7fffffffffffe000), EOVERFLOW,
		  "a mapping that would end past the largest file: EOVERFLOW");
	int dirfd = open("/", O_RDONLY | O_DIRECTORY);
	CHECK_ERR(mmap(NULL, pg, PROT_READ, MAP_PRIVATE, dirfd, 0), ENODEV,
		  "mapping a directory: ENODEV");
	unsigned char *z = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, devzero, 0);
	CHECK(z != MAP_FAILED && all(z, 4 * pg, 0) && writable(z, pg), "/dev/zero maps zeros");
	unlink(tmpl);

	/* /proc/self/maps knows them */
	char maps[16384];
	int mfd = open("/proc/self/maps", O_RDONLY);
	ssize_t n = read(mfd, maps, sizeof(maps) - 1);
	maps[n > 0 ? n : 0] = 0;
	CHECK(n > 0 && strstr(maps, "[heap]") && strstr(maps, "[stack]") && strstr(maps, " rw-s "),
	      "/proc/self/maps lists heap, stack and the shared mapping");

	/* big allocations through malloc: mmap and mremap */
	char *big = malloc(8 << 20);
	CHECK(big != NULL, "malloc 8 MiB");
	memset(big, 1, 8 << 20);
	big = realloc(big, 16 << 20);
	CHECK(big && big[(8 << 20) - 1] == 1, "realloc to 16 MiB keeps the contents");
	free(big);
	return tap_done();
}
