// SPDX-License-Identifier: GPL-2.0
/*
 * Tracepoints: unpriv:unpriv_enter and unpriv:unpriv_exit fire once per
 * entry and exit, with the reason and what it was about.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>

#include "kselftest_harness.h"
#include "unpriv_util.h"

#define TRACEFS "/sys/kernel/tracing"

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -EIO;
}

/* How many lines of the trace buffer contain every one of the words. */
static int count_lines(const char *a, const char *b)
{
	FILE *f = fopen(TRACEFS "/trace", "re");
	char line[512];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (line[0] != '#' && strstr(line, a) && (!b || strstr(line, b)))
			n++;
	fclose(f);
	return n;
}

/* Three system calls (getpid), then a read fault at 0x400000. */
GUEST_CODE(guest_three_syscalls_and_a_fault,
	"mov $39, %eax\n"
	"syscall\n"
	"mov $39, %eax\n"
	"syscall\n"
	"mov $39, %eax\n"
	"syscall\n"
	"mov $0x400000, %rax\n"
	"mov (%rax), %rax\n");

FIXTURE(trace) {
	struct guest g;
};

FIXTURE_SETUP(trace)
{
	if (access(TRACEFS "/events/unpriv/enable", W_OK))
		SKIP(_exit(UNPRIV_SKIP_STATUS), "no unpriv events in " TRACEFS);
	GUEST_SETUP(&self->g);
	ASSERT_EQ(0, write_file(TRACEFS "/trace", ""));
	ASSERT_EQ(0, write_file(TRACEFS "/events/unpriv/enable", "1"));
}

FIXTURE_TEARDOWN(trace)
{
	write_file(TRACEFS "/events/unpriv/enable", "0");
	guest_destroy(&self->g);
}

TEST_F(trace, each_entry_and_exit_is_traced_with_its_reason)
{
	int i;

	ASSERT_EQ(0, GUEST_LOAD(&self->g, guest_three_syscalls_and_a_fault));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, guest_run(&self->g));
	ASSERT_EQ(UNPRIV_EXIT_FAULT, self->g.run->exit_reason);
	ASSERT_EQ(0, write_file(TRACEFS "/events/unpriv/enable", "0"));

	EXPECT_EQ(4, count_lines("unpriv_enter:", NULL));
	EXPECT_EQ(4, count_lines("unpriv_exit:", NULL));
	EXPECT_EQ(3, count_lines("unpriv_exit:", "reason SYSCALL"));
	EXPECT_EQ(3, count_lines("reason SYSCALL", "info 0x27"));
	EXPECT_EQ(1, count_lines("reason FAULT", "info 0x400000"));
	EXPECT_EQ(1, count_lines("unpriv_enter:", "rip 0x100000\n"));
}

TEST_HARNESS_MAIN
