// SPDX-License-Identifier: GPL-2.0
/*
 * UNPRIV_GET_FPU and UNPRIV_SET_FPU: the guest's FPU image, as a guest
 * kernel needs it for signal frames and debuggers.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "kselftest_harness.h"
#include "unpriv_util.h"

#define FXSAVE_MXCSR	24
#define FXSAVE_XMM(n)	(160 + 16 * (n))
#define XSAVE_XFEATURES	512
#define XFEATURE_FP_SSE	0x3ULL

/* An image holds the components its header names: name FP and SSE. */
static void image_has_sse(unsigned char *image)
{
	uint64_t xfeatures;

	memcpy(&xfeatures, image + XSAVE_XFEATURES, sizeof(xfeatures));
	xfeatures |= XFEATURE_FP_SSE;
	memcpy(image + XSAVE_XFEATURES, &xfeatures, sizeof(xfeatures));
}

FIXTURE(fpu) {
	struct guest g;
	int size;
	unsigned char *image;
};

FIXTURE_SETUP(fpu)
{
	GUEST_SETUP(&self->g);
	self->size = ioctl(self->g.dev, UNPRIV_CHECK_EXTENSION, UNPRIV_CAP_FPU);
	ASSERT_LE(576, self->size);	/* legacy region + XSAVE header */
	self->image = calloc(1, self->size);
	ASSERT_NE(NULL, self->image);
}

FIXTURE_TEARDOWN(fpu)
{
	free(self->image);
	guest_destroy(&self->g);
}

static int fpu_io(struct guest *g, unsigned long cmd, void *image, int size)
{
	struct unpriv_fpu f = { .buf = (uintptr_t)image, .size = size };

	return ioctl(g->vcpu, cmd, &f) ? -errno : 0;
}

static uint64_t image_u64(const unsigned char *image, size_t off)
{
	uint64_t v;

	memcpy(&v, image + off, sizeof(v));
	return v;
}

TEST_F(fpu, a_new_vcpu_has_the_initial_state)
{
	uint32_t mxcsr;

	ASSERT_EQ(0, fpu_io(&self->g, UNPRIV_GET_FPU, self->image, self->size));
	memcpy(&mxcsr, self->image + FXSAVE_MXCSR, sizeof(mxcsr));
	EXPECT_EQ(0x1f80, mxcsr);
	EXPECT_EQ(0x37f, *(uint16_t *)self->image);	/* x87 control word */
	EXPECT_EQ(0, image_u64(self->image, FXSAVE_XMM(0)));
}

GUEST_CODE(guest_set_xmm0,
	"mov $0x0123456789abcdef, %rax\n"
	"movq %rax, %xmm0\n"
	"mov $1, %eax\n"
	"syscall\n");

TEST_F(fpu, get_shows_what_the_guest_left)
{
	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_set_xmm0));
	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(0, fpu_io(&self->g, UNPRIV_GET_FPU, self->image, self->size));
	EXPECT_EQ(0x0123456789abcdefULL, image_u64(self->image, FXSAVE_XMM(0)));
}

GUEST_CODE(guest_report_xmm1,
	"movq %xmm1, %rdi\n"
	"mov $1, %eax\n"
	"syscall\n");

TEST_F(fpu, set_is_what_the_guest_runs_with)
{
	const uint64_t v = 0xfeedfacecafef00dULL;

	ASSERT_EQ(0, fpu_io(&self->g, UNPRIV_GET_FPU, self->image, self->size));
	memcpy(self->image + FXSAVE_XMM(1), &v, sizeof(v));
	image_has_sse(self->image);
	ASSERT_EQ(0, fpu_io(&self->g, UNPRIV_SET_FPU, self->image, self->size));
	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_report_xmm1));
	ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_SYSCALL, self->g.run->exit_reason);
	EXPECT_EQ(v, self->g.run->syscall.args[0]);
}

TEST_F(fpu, bad_images_and_arguments_are_refused)
{
	struct unpriv_fpu f = { .buf = (uintptr_t)self->image, .size = self->size };
	uint32_t bad_mxcsr = 0xffffffff;

	ASSERT_EQ(0, fpu_io(&self->g, UNPRIV_GET_FPU, self->image, self->size));
	EXPECT_EQ(-EINVAL, fpu_io(&self->g, UNPRIV_GET_FPU, self->image,
				  self->size - 1));
	f.flags = 1;
	EXPECT_EQ(-1, ioctl(self->g.vcpu, UNPRIV_GET_FPU, &f));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-EFAULT, fpu_io(&self->g, UNPRIV_GET_FPU, NULL, self->size));
	EXPECT_EQ(-EFAULT, fpu_io(&self->g, UNPRIV_SET_FPU, NULL, self->size));

	memcpy(self->image + FXSAVE_MXCSR, &bad_mxcsr, sizeof(bad_mxcsr));
	image_has_sse(self->image);
	EXPECT_EQ(-EINVAL, fpu_io(&self->g, UNPRIV_SET_FPU, self->image,
				  self->size));
	/* A refused image left the state as it was. */
	ASSERT_EQ(0, fpu_io(&self->g, UNPRIV_GET_FPU, self->image, self->size));
	EXPECT_EQ(0x1f80, *(uint32_t *)(self->image + FXSAVE_MXCSR));
}

GUEST_CODE(guest_spin, "1: jmp 1b\n");

TEST_F(fpu, a_running_vcpu_is_busy)
{
	struct guest_runner r = { .g = &self->g };
	pthread_t t;

	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_spin));
	ASSERT_EQ(0, pthread_create(&t, NULL, guest_run_thread, &r));
	sleep_ms(100);
	EXPECT_EQ(-EBUSY, fpu_io(&self->g, UNPRIV_GET_FPU, self->image,
				 self->size));
	ASSERT_EQ(0, ioctl(self->g.vcpu, UNPRIV_KICK, 0));
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(-EINTR, r.ret);
}

TEST_HARNESS_MAIN
