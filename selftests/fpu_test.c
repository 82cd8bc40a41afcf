// SPDX-License-Identifier: GPL-2.0
/*
 * UNPRIV_GET_FPU and UNPRIV_SET_FPU: the guest's FPU image, as a guest
 * kernel needs it for signal frames and debuggers.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <cpuid.h>

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

/*
 * FPU state under stress: a guest holds values in xmm0-15 and MXCSR and
 * checks them over and over, while its thread is preempted by threads
 * that use the same registers, migrated between CPUs, and interrupted
 * by signals whose handler uses them too; the host thread checks its
 * own values around every UNPRIV_RUN.  Nothing may leak either way.
 */
#define STR_(x)		#x
#define STR(x)		STR_(x)
#define GUEST_MXCSR	"0x7f80"	/* round toward zero */
#define HOST_MXCSR	0x3f80		/* round down */

GUEST_CODE(guest_fpu_keeper,
	"movl $" GUEST_MXCSR ", 0x200000\n"
	"ldmxcsr 0x200000\n"
	"mov $0x4700000000000000, %rax\n"
	"movq %rax, %xmm0\n"
	"mov $0x4700000000000001, %rax\n"
	"movq %rax, %xmm1\n"
	"mov $0x4700000000000002, %rax\n"
	"movq %rax, %xmm2\n"
	"mov $0x4700000000000003, %rax\n"
	"movq %rax, %xmm3\n"
	"mov $0x4700000000000004, %rax\n"
	"movq %rax, %xmm4\n"
	"mov $0x4700000000000005, %rax\n"
	"movq %rax, %xmm5\n"
	"mov $0x4700000000000006, %rax\n"
	"movq %rax, %xmm6\n"
	"mov $0x4700000000000007, %rax\n"
	"movq %rax, %xmm7\n"
	"mov $0x4700000000000008, %rax\n"
	"movq %rax, %xmm8\n"
	"mov $0x4700000000000009, %rax\n"
	"movq %rax, %xmm9\n"
	"mov $0x470000000000000a, %rax\n"
	"movq %rax, %xmm10\n"
	"mov $0x470000000000000b, %rax\n"
	"movq %rax, %xmm11\n"
	"mov $0x470000000000000c, %rax\n"
	"movq %rax, %xmm12\n"
	"mov $0x470000000000000d, %rax\n"
	"movq %rax, %xmm13\n"
	"mov $0x470000000000000e, %rax\n"
	"movq %rax, %xmm14\n"
	"mov $0x470000000000000f, %rax\n"
	"movq %rax, %xmm15\n"
	"3: mov $2000, %ecx\n"
	"1:\n"
	"movq %xmm0, %rax\n"
	"mov $0x4700000000000000, %rdx\n"
	"cmp %rdx, %rax\n"
	"jne 2f\n"
	"movq %xmm1, %rax\n"
	"mov $0x4700000000000001, %rdx\n"
	"cmp %rdx, %rax\n"
	"jne 2f\n"
	"movq %xmm2, %rax\n"
	"mov $0x4700000000000002, %rdx\n"
	"cmp %rdx, %rax\n"
	"jne 2f\n"
	"movq %xmm3, %rax\n"
	"mov $0x4700000000000003, %rdx\n"
	"cmp %rdx, %rax\n"
	"jne 2f\n"
	"movq %xmm4, %rax\n"
	"mov $0x4700000000000004, %rdx\n"
	"cmp %rdx, %rax\n"
	"jne 2f\n"
	"movq %xmm5, %rax\n"
	"mov $0x4700000000000005, %rdx\n"
	"cmp %rdx, %rax\n"
	"jne 2f\n"
	"movq %xmm6, %rax\n"
	"mov $0x4700000000000006, %rdx\n"
	"cmp %rdx, %rax\n"
	"jne 2f\n"
	"movq %xmm7, %rax\n"
	"mov $0x4700000000000007, %rdx\n"
	"cmp %rdx, %rax\n"
	"jne 2f\n"
	"movq %xmm8, %rax\n"
	"mov $0x4700000000000008, %rdx\n"
	"cmp %rdx, %rax\n"
	"jne 2f\n"
	"movq %xmm9, %rax\n"
	"mov $0x4700000000000009, %rdx\n"
	"cmp %rdx, %rax\n"
	"jne 2f\n"
	"movq %xmm10, %rax\n"
	"mov $0x470000000000000a, %rdx\n"
	"cmp %rdx, %rax\n"
	"jne 2f\n"
	"movq %xmm11, %rax\n"
	"mov $0x470000000000000b, %rdx\n"
	"cmp %rdx, %rax\n"
	"jne 2f\n"
	"movq %xmm12, %rax\n"
	"mov $0x470000000000000c, %rdx\n"
	"cmp %rdx, %rax\n"
	"jne 2f\n"
	"movq %xmm13, %rax\n"
	"mov $0x470000000000000d, %rdx\n"
	"cmp %rdx, %rax\n"
	"jne 2f\n"
	"movq %xmm14, %rax\n"
	"mov $0x470000000000000e, %rdx\n"
	"cmp %rdx, %rax\n"
	"jne 2f\n"
	"movq %xmm15, %rax\n"
	"mov $0x470000000000000f, %rdx\n"
	"cmp %rdx, %rax\n"
	"jne 2f\n"
	"stmxcsr 0x200008\n"
	"cmpl $" GUEST_MXCSR ", 0x200008\n"
	"jne 2f\n"
	"dec %ecx\n"
	"jnz 1b\n"
	"mov $39, %eax\n"
	"syscall\n"
	"jmp 3b\n"
	"2: ud2\n");

/*
 * ioctl(vcpu, cmd, as) with the host's values in xmm0-15 and MXCSR; adds
 * to *bad the number of them that differ afterwards.
 */
long run_checked(long vcpu, long cmd, long as, unsigned long *bad);
asm(".pushsection .text\n"
	".globl run_checked\n"
	"run_checked:\n"
	"push %rbx\n"
	"mov %rcx, %r8\n"
	"push $" STR(HOST_MXCSR) "\n"
	"ldmxcsr (%rsp)\n"
	"mov $0x4800000000000000, %rax\n"
	"movq %rax, %xmm0\n"
	"mov $0x4800000000000001, %rax\n"
	"movq %rax, %xmm1\n"
	"mov $0x4800000000000002, %rax\n"
	"movq %rax, %xmm2\n"
	"mov $0x4800000000000003, %rax\n"
	"movq %rax, %xmm3\n"
	"mov $0x4800000000000004, %rax\n"
	"movq %rax, %xmm4\n"
	"mov $0x4800000000000005, %rax\n"
	"movq %rax, %xmm5\n"
	"mov $0x4800000000000006, %rax\n"
	"movq %rax, %xmm6\n"
	"mov $0x4800000000000007, %rax\n"
	"movq %rax, %xmm7\n"
	"mov $0x4800000000000008, %rax\n"
	"movq %rax, %xmm8\n"
	"mov $0x4800000000000009, %rax\n"
	"movq %rax, %xmm9\n"
	"mov $0x480000000000000a, %rax\n"
	"movq %rax, %xmm10\n"
	"mov $0x480000000000000b, %rax\n"
	"movq %rax, %xmm11\n"
	"mov $0x480000000000000c, %rax\n"
	"movq %rax, %xmm12\n"
	"mov $0x480000000000000d, %rax\n"
	"movq %rax, %xmm13\n"
	"mov $0x480000000000000e, %rax\n"
	"movq %rax, %xmm14\n"
	"mov $0x480000000000000f, %rax\n"
	"movq %rax, %xmm15\n"
	"mov $" STR(SYS_ioctl) ", %eax\n"
	"syscall\n"
	"mov %rax, %rbx\n"
	"xor %r9, %r9\n"
	"movq %xmm0, %rax\n"
	"mov $0x4800000000000000, %rdx\n"
	"cmp %rdx, %rax\n"
	"je 1f\n"
	"inc %r9\n"
	"1:\n"
	"movq %xmm1, %rax\n"
	"mov $0x4800000000000001, %rdx\n"
	"cmp %rdx, %rax\n"
	"je 1f\n"
	"inc %r9\n"
	"1:\n"
	"movq %xmm2, %rax\n"
	"mov $0x4800000000000002, %rdx\n"
	"cmp %rdx, %rax\n"
	"je 1f\n"
	"inc %r9\n"
	"1:\n"
	"movq %xmm3, %rax\n"
	"mov $0x4800000000000003, %rdx\n"
	"cmp %rdx, %rax\n"
	"je 1f\n"
	"inc %r9\n"
	"1:\n"
	"movq %xmm4, %rax\n"
	"mov $0x4800000000000004, %rdx\n"
	"cmp %rdx, %rax\n"
	"je 1f\n"
	"inc %r9\n"
	"1:\n"
	"movq %xmm5, %rax\n"
	"mov $0x4800000000000005, %rdx\n"
	"cmp %rdx, %rax\n"
	"je 1f\n"
	"inc %r9\n"
	"1:\n"
	"movq %xmm6, %rax\n"
	"mov $0x4800000000000006, %rdx\n"
	"cmp %rdx, %rax\n"
	"je 1f\n"
	"inc %r9\n"
	"1:\n"
	"movq %xmm7, %rax\n"
	"mov $0x4800000000000007, %rdx\n"
	"cmp %rdx, %rax\n"
	"je 1f\n"
	"inc %r9\n"
	"1:\n"
	"movq %xmm8, %rax\n"
	"mov $0x4800000000000008, %rdx\n"
	"cmp %rdx, %rax\n"
	"je 1f\n"
	"inc %r9\n"
	"1:\n"
	"movq %xmm9, %rax\n"
	"mov $0x4800000000000009, %rdx\n"
	"cmp %rdx, %rax\n"
	"je 1f\n"
	"inc %r9\n"
	"1:\n"
	"movq %xmm10, %rax\n"
	"mov $0x480000000000000a, %rdx\n"
	"cmp %rdx, %rax\n"
	"je 1f\n"
	"inc %r9\n"
	"1:\n"
	"movq %xmm11, %rax\n"
	"mov $0x480000000000000b, %rdx\n"
	"cmp %rdx, %rax\n"
	"je 1f\n"
	"inc %r9\n"
	"1:\n"
	"movq %xmm12, %rax\n"
	"mov $0x480000000000000c, %rdx\n"
	"cmp %rdx, %rax\n"
	"je 1f\n"
	"inc %r9\n"
	"1:\n"
	"movq %xmm13, %rax\n"
	"mov $0x480000000000000d, %rdx\n"
	"cmp %rdx, %rax\n"
	"je 1f\n"
	"inc %r9\n"
	"1:\n"
	"movq %xmm14, %rax\n"
	"mov $0x480000000000000e, %rdx\n"
	"cmp %rdx, %rax\n"
	"je 1f\n"
	"inc %r9\n"
	"1:\n"
	"movq %xmm15, %rax\n"
	"mov $0x480000000000000f, %rdx\n"
	"cmp %rdx, %rax\n"
	"je 1f\n"
	"inc %r9\n"
	"1:\n"
	"stmxcsr (%rsp)\n"
	"cmpl $" STR(HOST_MXCSR) ", (%rsp)\n"
	"je 1f\n"
	"inc %r9\n"
	"1: movl $0x1f80, (%rsp)\n"
	"ldmxcsr (%rsp)\n"
	"pop %rax\n"
	"add %r9, (%r8)\n"
	"mov %rbx, %rax\n"
	"pop %rbx\n"
	"ret\n"
	".popsection\n");

/*
 * Put pattern + n in xmmn, spin, and count the registers that changed
 * meanwhile: what a thread sharing the CPU with the guest sees.
 */
unsigned long clobber_and_check(unsigned long pattern, long spins);
asm(".pushsection .text\n"
	".globl clobber_and_check\n"
	"clobber_and_check:\n"
	"lea 0(%rdi), %rax\n"
	"movq %rax, %xmm0\n"
	"lea 1(%rdi), %rax\n"
	"movq %rax, %xmm1\n"
	"lea 2(%rdi), %rax\n"
	"movq %rax, %xmm2\n"
	"lea 3(%rdi), %rax\n"
	"movq %rax, %xmm3\n"
	"lea 4(%rdi), %rax\n"
	"movq %rax, %xmm4\n"
	"lea 5(%rdi), %rax\n"
	"movq %rax, %xmm5\n"
	"lea 6(%rdi), %rax\n"
	"movq %rax, %xmm6\n"
	"lea 7(%rdi), %rax\n"
	"movq %rax, %xmm7\n"
	"lea 8(%rdi), %rax\n"
	"movq %rax, %xmm8\n"
	"lea 9(%rdi), %rax\n"
	"movq %rax, %xmm9\n"
	"lea 10(%rdi), %rax\n"
	"movq %rax, %xmm10\n"
	"lea 11(%rdi), %rax\n"
	"movq %rax, %xmm11\n"
	"lea 12(%rdi), %rax\n"
	"movq %rax, %xmm12\n"
	"lea 13(%rdi), %rax\n"
	"movq %rax, %xmm13\n"
	"lea 14(%rdi), %rax\n"
	"movq %rax, %xmm14\n"
	"lea 15(%rdi), %rax\n"
	"movq %rax, %xmm15\n"
	"1: pause\n"
	"dec %rsi\n"
	"jnz 1b\n"
	"xor %r9, %r9\n"
	"movq %xmm0, %rax\n"
	"lea 0(%rdi), %rdx\n"
	"cmp %rdx, %rax\n"
	"je 1f\n"
	"inc %r9\n"
	"1:\n"
	"movq %xmm1, %rax\n"
	"lea 1(%rdi), %rdx\n"
	"cmp %rdx, %rax\n"
	"je 1f\n"
	"inc %r9\n"
	"1:\n"
	"movq %xmm2, %rax\n"
	"lea 2(%rdi), %rdx\n"
	"cmp %rdx, %rax\n"
	"je 1f\n"
	"inc %r9\n"
	"1:\n"
	"movq %xmm3, %rax\n"
	"lea 3(%rdi), %rdx\n"
	"cmp %rdx, %rax\n"
	"je 1f\n"
	"inc %r9\n"
	"1:\n"
	"movq %xmm4, %rax\n"
	"lea 4(%rdi), %rdx\n"
	"cmp %rdx, %rax\n"
	"je 1f\n"
	"inc %r9\n"
	"1:\n"
	"movq %xmm5, %rax\n"
	"lea 5(%rdi), %rdx\n"
	"cmp %rdx, %rax\n"
	"je 1f\n"
	"inc %r9\n"
	"1:\n"
	"movq %xmm6, %rax\n"
	"lea 6(%rdi), %rdx\n"
	"cmp %rdx, %rax\n"
	"je 1f\n"
	"inc %r9\n"
	"1:\n"
	"movq %xmm7, %rax\n"
	"lea 7(%rdi), %rdx\n"
	"cmp %rdx, %rax\n"
	"je 1f\n"
	"inc %r9\n"
	"1:\n"
	"movq %xmm8, %rax\n"
	"lea 8(%rdi), %rdx\n"
	"cmp %rdx, %rax\n"
	"je 1f\n"
	"inc %r9\n"
	"1:\n"
	"movq %xmm9, %rax\n"
	"lea 9(%rdi), %rdx\n"
	"cmp %rdx, %rax\n"
	"je 1f\n"
	"inc %r9\n"
	"1:\n"
	"movq %xmm10, %rax\n"
	"lea 10(%rdi), %rdx\n"
	"cmp %rdx, %rax\n"
	"je 1f\n"
	"inc %r9\n"
	"1:\n"
	"movq %xmm11, %rax\n"
	"lea 11(%rdi), %rdx\n"
	"cmp %rdx, %rax\n"
	"je 1f\n"
	"inc %r9\n"
	"1:\n"
	"movq %xmm12, %rax\n"
	"lea 12(%rdi), %rdx\n"
	"cmp %rdx, %rax\n"
	"je 1f\n"
	"inc %r9\n"
	"1:\n"
	"movq %xmm13, %rax\n"
	"lea 13(%rdi), %rdx\n"
	"cmp %rdx, %rax\n"
	"je 1f\n"
	"inc %r9\n"
	"1:\n"
	"movq %xmm14, %rax\n"
	"lea 14(%rdi), %rdx\n"
	"cmp %rdx, %rax\n"
	"je 1f\n"
	"inc %r9\n"
	"1:\n"
	"movq %xmm15, %rax\n"
	"lea 15(%rdi), %rdx\n"
	"cmp %rdx, %rax\n"
	"je 1f\n"
	"inc %r9\n"
	"1:\n"
	"mov %r9, %rax\n"
	"ret\n"
	".popsection\n");

static volatile int fpu_stress_stop;
static unsigned long fpu_disturber_bad[2];

static void *fpu_disturber(void *arg)
{
	long cpu = (long)arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
	while (!fpu_stress_stop)
		fpu_disturber_bad[cpu] +=
			clobber_and_check(0x4900000000000000UL + (cpu << 8), 20000);
	return NULL;
}

struct fpu_migrator {
	pid_t tid;
	int cpus;
};

static void *fpu_migrator(void *arg)
{
	struct fpu_migrator *m = arg;
	cpu_set_t set;
	int i;

	for (i = 0; !fpu_stress_stop; i++) {
		CPU_ZERO(&set);
		CPU_SET(i % m->cpus, &set);
		sched_setaffinity(m->tid, sizeof(set), &set);
		sleep_ms(3);
	}
	return NULL;
}

static volatile unsigned long fpu_handler_bad;

static void fpu_clobbering_handler(int sig)
{
	fpu_handler_bad += clobber_and_check(0x4a00000000000000UL, 100);
}

/*
 * AMX: tile data is a dynamic feature, which the kernel enables per
 * process with XFD.  Guest mode runs with it disarmed: the guest's use
 * is a #NM trap with SIGILL (as for a process without permission), even
 * when the host process has permission and tiles of its own, which
 * survive guest mode.  Without XFD armed the guest would use tiles the
 * vcpu's fpstate has no room for; with it armed and the #NM left to the
 * kernel, the kernel would reallocate the fpstate it finds on the
 * thread, the vcpu's, and free it under the vcpu.
 */
#define ARCH_REQ_XCOMP_PERM	0x1023
#define XFEATURE_XTILEDATA	18
#define AMX_ROWS		16
#define AMX_COLSB		64

struct amx_tilecfg {
	uint8_t palette_id;
	uint8_t start_row;
	uint8_t reserved[14];
	uint16_t colsb[16];
	uint8_t rows[16];
} __attribute__((packed));

/* ldtilecfg, then tilezero tmm0; a syscall if neither traps. */
GUEST_CODE(guest_use_amx,
	"sub $64, %rsp\n"
	"mov %rsp, %rdi\n"
	"xor %eax, %eax\n"
	"mov $8, %ecx\n"
	"rep stosq\n"
	"movb $1, (%rsp)\n"
	"movw $" STR(AMX_COLSB) ", 16(%rsp)\n"
	"movb $" STR(AMX_ROWS) ", 48(%rsp)\n"
	"ldtilecfg (%rsp)\n"
	"tilezero %tmm0\n"
	"mov $1, %eax\n"
	"syscall\n");

static bool cpu_has_amx_and_xfd(void)
{
	unsigned int a, b, c, d;

	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(d & (1u << 24)))
		return false;
	return __get_cpuid_count(0xd, 1, &a, &b, &c, &d) && (a & (1u << 4));
}

TEST_F(fpu, amx_tile_data_is_a_trap_in_guest_mode)
{
	struct amx_tilecfg cfg = { .palette_id = 1 };
	uint8_t tile[AMX_ROWS * AMX_COLSB], back[sizeof(tile)];
	unsigned int i;

	if (!cpu_has_amx_and_xfd())
		SKIP(return, "the CPU has no AMX with XFD");
	if (syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA))
		SKIP(return, "no AMX permission: %s", strerror(errno));

	/* The host's own tiles, enabled by its first use. */
	cfg.colsb[0] = AMX_COLSB;
	cfg.rows[0] = AMX_ROWS;
	for (i = 0; i < sizeof(tile); i++)
		tile[i] = i * 7 + 1;
	asm volatile("ldtilecfg %0" : : "m" (cfg));
	asm volatile("tileloadd (%0,%1,1), %%tmm0"
		     : : "r" (tile), "r" ((long)AMX_COLSB) : "memory");

	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_use_amx));
	ASSERT_EQ(0, guest_run(&self->g));
	EXPECT_EQ(UNPRIV_EXIT_TRAP, self->g.run->exit_reason);
	EXPECT_EQ(7, self->g.run->trap.trap);		/* #NM */
	EXPECT_EQ(SIGILL, self->g.run->trap.signo);
	/* Again: the trap changed nothing that a second one would find. */
	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_use_amx));
	self->g.run->regs.rsp = GUEST_STACK_TOP;
	ASSERT_EQ(0, guest_run(&self->g));
	EXPECT_EQ(7, self->g.run->trap.trap);

	asm volatile("tilestored %%tmm0, (%0,%1,1)"
		     : : "r" (back), "r" ((long)AMX_COLSB) : "memory");
	asm volatile("tilerelease");
	EXPECT_EQ(0, memcmp(tile, back, sizeof(tile)));
}

TEST_F(fpu, state_survives_preemption_migration_and_signals)
{
	struct sigaction sa = { .sa_handler = fpu_clobbering_handler };
	struct sigevent sev = {
		.sigev_notify = SIGEV_THREAD_ID,
		.sigev_signo = SIGALRM,
	};
	struct itimerspec its = { .it_interval.tv_nsec = 2000000,
				  .it_value.tv_nsec = 2000000 };
	struct fpu_migrator m = { .tid = gettid() };
	unsigned long host_bad = 0, syscalls = 0, intrs = 0;
	pthread_t disturbers[2], migrator;
	struct timespec start, now;
	cpu_set_t set;
	timer_t timer;
	long i, ret;

	ASSERT_EQ(0, sched_getaffinity(0, sizeof(set), &set));
	m.cpus = CPU_COUNT(&set) >= 2 ? 2 : 1;
	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_fpu_keeper));
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	sev._sigev_un._tid = gettid();
	ASSERT_EQ(0, timer_create(CLOCK_MONOTONIC, &sev, &timer));
	for (i = 0; i < m.cpus; i++)
		ASSERT_EQ(0, pthread_create(&disturbers[i], NULL,
					    fpu_disturber, (void *)i));
	if (m.cpus > 1)
		ASSERT_EQ(0, pthread_create(&migrator, NULL, fpu_migrator, &m));
	ASSERT_EQ(0, timer_settime(timer, 0, &its, NULL));

	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		ret = run_checked(self->g.vcpu, UNPRIV_RUN, self->g.as,
				  &host_bad);
		if (ret == 0 && self->g.run->exit_reason == UNPRIV_EXIT_SYSCALL)
			syscalls++;
		else if (ret == -EINTR)
			intrs++;
		else
			break;
		ret = 0;
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec - start.tv_sec < 2);

	timer_delete(timer);
	fpu_stress_stop = 1;
	for (i = 0; i < m.cpus; i++)
		pthread_join(disturbers[i], NULL);
	if (m.cpus > 1)
		pthread_join(migrator, NULL);

	/* A guest that saw its registers change stops at its ud2. */
	EXPECT_EQ(0, ret) TH_LOG("RUN: %ld, exit %u, trap %u, after %lu syscalls, %lu interrupts",
				 ret, self->g.run->exit_reason,
				 self->g.run->trap.trap, syscalls, intrs);
	EXPECT_EQ(0, host_bad);
	EXPECT_EQ(0, fpu_disturber_bad[0]);
	EXPECT_EQ(0, fpu_disturber_bad[1]);
	EXPECT_EQ(0, fpu_handler_bad);
	EXPECT_LT(10, syscalls);
	EXPECT_LT(10, intrs);
	TH_LOG("%lu syscall exits, %lu interruptions", syscalls, intrs);
}

TEST_HARNESS_MAIN
