// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/unpriv: the device, its version and extension queries, its errors,
 * and unloading and reloading the module.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/unpriv.h>

#include "kselftest_harness.h"
#include "unpriv_util.h"

#define MISC_MAJOR	10U

FIXTURE(dev) {
	int fd;
};

FIXTURE_SETUP(dev)
{
	self->fd = open(UNPRIV_DEV, O_RDWR | O_CLOEXEC);
	if (self->fd < 0 && errno == ENOENT)
		SKIP(_exit(UNPRIV_SKIP_STATUS), UNPRIV_ABSENT_MSG,
		     UNPRIV_DEV);	/* see GUEST_SETUP() in unpriv_util.h */
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %m", UNPRIV_DEV);
}

FIXTURE_TEARDOWN(dev)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(dev, is_a_misc_character_device)
{
	struct stat st;

	ASSERT_EQ(0, fstat(self->fd, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(MISC_MAJOR, major(st.st_rdev));
}

TEST_F(dev, api_version)
{
	EXPECT_EQ(UNPRIV_API_VERSION,
		  ioctl(self->fd, UNPRIV_GET_API_VERSION, 0));
}

TEST_F(dev, api_version_rejects_an_argument)
{
	EXPECT_EQ(-1, ioctl(self->fd, UNPRIV_GET_API_VERSION, 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->fd, UNPRIV_GET_API_VERSION, ~0UL));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(dev, unknown_extensions_are_absent)
{
	static const unsigned long caps[] = {
		0, 0xfff, 0x7fffffffUL, 0x80000000UL, ~0UL,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(caps); i++)
		EXPECT_EQ(0, ioctl(self->fd, UNPRIV_CHECK_EXTENSION, caps[i]))
			TH_LOG("extension %#lx", caps[i]);
}

TEST_F(dev, unknown_ioctls_are_enotty)
{
	static const unsigned long cmds[] = {
		_IO(UNPRIV_IO, 0x3f),		/* unused device number */
		_IO(UNPRIV_IO, 0x40),		/* address-space range */
		_IO(UNPRIV_IO, 0x80),		/* vcpu range */
		_IOR(UNPRIV_IO, 0x00, int),	/* right number, wrong size */
		_IOW(UNPRIV_IO, 0x01, __u64),
		_IO(0xAE, 0x00),		/* KVM_GET_API_VERSION */
		0,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		EXPECT_EQ(-1, ioctl(self->fd, cmds[i], 0))
			TH_LOG("ioctl %#lx", cmds[i]);
		EXPECT_EQ(ENOTTY, errno) TH_LOG("ioctl %#lx", cmds[i]);
	}
}

TEST_F(dev, read_write_and_seek_are_refused)
{
	char c = 0;

	EXPECT_EQ(-1, read(self->fd, &c, 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, write(self->fd, &c, 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, lseek(self->fd, 1, SEEK_SET));
	EXPECT_EQ(ESPIPE, errno);
}

TEST_F(dev, create_rejects_flags)
{
	EXPECT_EQ(-1, ioctl(self->fd, UNPRIV_CREATE_AS, 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->fd, UNPRIV_CREATE_VCPU, 1UL << 63));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(dev, fpu_extension_gives_the_image_size)
{
	EXPECT_LE(576, ioctl(self->fd, UNPRIV_CHECK_EXTENSION, UNPRIV_CAP_FPU));
}

TEST_F(dev, run_page_mmap_must_be_one_shared_page_at_offset_0)
{
	int vcpu = ioctl(self->fd, UNPRIV_CREATE_VCPU, 0);
	void *p;

	ASSERT_LE(0, vcpu);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 2 * UNPRIV_RUN_SIZE, PROT_READ,
				   MAP_SHARED, vcpu, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, UNPRIV_RUN_SIZE, PROT_READ,
				   MAP_SHARED, vcpu, UNPRIV_RUN_SIZE));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, UNPRIV_RUN_SIZE, PROT_READ,
				   MAP_PRIVATE, vcpu, 0));
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, UNPRIV_RUN_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 vcpu, 0);
	ASSERT_NE(MAP_FAILED, p);
	/* It cannot grow. */
	EXPECT_EQ(MAP_FAILED, mremap(p, UNPRIV_RUN_SIZE, 2 * UNPRIV_RUN_SIZE,
				     MREMAP_MAYMOVE));
	munmap(p, UNPRIV_RUN_SIZE);
	close(vcpu);
}

/*
 * Unloading: refused while /dev/unpriv is open, clean once it is closed,
 * and the module loads again.  Needs the module's path in UNPRIV_KO.
 */
TEST(unload_and_reload)
{
	const char *ko = getenv("UNPRIV_KO");
	int fd, kofd;

	if (!ko || access(ko, R_OK))
		SKIP(return, "set UNPRIV_KO to the path of unpriv.ko");
	fd = open(UNPRIV_DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		SKIP(return, "%s not present", UNPRIV_DEV);

	/* An open file holds a module reference. */
	EXPECT_EQ(-1, syscall(SYS_delete_module, "unpriv", O_NONBLOCK));
	EXPECT_EQ(EWOULDBLOCK, errno);
	EXPECT_EQ(UNPRIV_API_VERSION, ioctl(fd, UNPRIV_GET_API_VERSION, 0));
	close(fd);

	ASSERT_EQ(0, syscall(SYS_delete_module, "unpriv", O_NONBLOCK))
		TH_LOG("delete_module: %m");
	EXPECT_EQ(-1, access(UNPRIV_DEV, F_OK));
	EXPECT_EQ(ENOENT, errno);

	kofd = open(ko, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, kofd);
	ASSERT_EQ(0, syscall(SYS_finit_module, kofd, "", 0))
		TH_LOG("finit_module %s: %m", ko);
	close(kofd);

	fd = open(UNPRIV_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("open %s after reload: %m", UNPRIV_DEV);
	EXPECT_EQ(UNPRIV_API_VERSION, ioctl(fd, UNPRIV_GET_API_VERSION, 0));
	close(fd);
}

TEST_HARNESS_MAIN
