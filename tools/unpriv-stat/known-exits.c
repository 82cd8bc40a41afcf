// SPDX-License-Identifier: GPL-2.0
/*
 * known-exits: a guest process with a known number of exits of each
 * kind, for testing unpriv-stat (tools/unpriv-stat/unpriv-stat-test).
 *
 * Each of its vcpus makes the system call, fault and trap exits asked
 * for, then is kicked the number of times asked for while its guest
 * spins, each kick one INTR exit.  Then it prints "ready" and waits to
 * be killed, holding its vcpus; with --loop, its first vcpu makes system
 * call exits meanwhile, as fast as it can.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <signal.h>

#include "unpriv_util.h"

static const char usage[] =
"usage: known-exits [--vcpus N] [--syscalls N] [--faults N] [--traps N]\n"
"                   [--kicks N] [--loop]\n";

static void fail(const char *what, int err)
{
	fprintf(stderr, "known-exits: %s: %s\n", what, strerror(err));
	exit(1);
}

/* Each kind of exit, as many times as asked. */
static void make_exits(struct guest *g, const long *want)
{
	struct guest_runner r;
	pthread_t t;
	int kind, ret;
	long i;

	for (kind = GUEST_DO_SYSCALL; kind <= GUEST_DO_TRAP; kind++) {
		for (i = 0; i < want[kind]; i++) {
			ret = guest_exit_once(g, kind);
			if (ret)
				fail("a run", -ret);
		}
	}
	for (i = 0; i < want[GUEST_DO_SPIN]; i++) {
		ret = guest_exit_spinning(g, &r, &t);
		if (ret)
			fail("starting the guest", -ret);
		if (ioctl(g->vcpu, UNPRIV_KICK, 0))
			fail("UNPRIV_KICK", errno);
		pthread_join(t, NULL);
		if (r.ret != -EINTR)
			fail("a kicked run", r.ret ? -r.ret : EPROTO);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "vcpus", required_argument, NULL, 'v' },
		{ "syscalls", required_argument, NULL, GUEST_DO_SYSCALL },
		{ "faults", required_argument, NULL, GUEST_DO_FAULT },
		{ "traps", required_argument, NULL, GUEST_DO_TRAP },
		{ "kicks", required_argument, NULL, GUEST_DO_SPIN },
		{ "loop", no_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	long want[GUEST_DO_SPIN + 1] = { 0 }, vcpus = 1, i;
	struct guest *g;
	int opt, loop = 0, ret;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'v':
			vcpus = atol(optarg);
			break;
		case 'l':
			loop = 1;
			break;
		case GUEST_DO_SYSCALL:
		case GUEST_DO_FAULT:
		case GUEST_DO_TRAP:
		case GUEST_DO_SPIN:
			want[opt] = atol(optarg);
			break;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind < argc || vcpus < 1) {
		fputs(usage, stderr);
		return 2;
	}
	g = calloc(vcpus, sizeof(*g));
	if (!g)
		fail("calloc", ENOMEM);
	for (i = 0; i < vcpus; i++) {
		ret = GUEST_MAKE(&g[i], guest_exit_by_rdi);
		if (ret)
			fail("making a guest", -ret);
		make_exits(&g[i], want);
	}
	printf("ready\n");
	fflush(stdout);
	while (loop) {
		ret = guest_exit_once(&g[0], GUEST_DO_SYSCALL);
		if (ret)
			fail("a run", -ret);
	}
	for (;;)
		pause();
}
