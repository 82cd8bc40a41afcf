// SPDX-License-Identifier: GPL-2.0
/*
 * unpriv-stress: many threads doing random things with /dev/unpriv at
 * once, each checked; see usage() and tools/stress/README.md.
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/auxv.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/ucontext.h>
#include <asm/prctl.h>

#include "stress.h"
#include "unpriv_util.h"

static struct stress stress;

static void usage(FILE *f)
{
	fprintf(f,
"usage: unpriv-stress [OPTIONS]\n"
"\n"
"Stress /dev/unpriv: threads share a few worlds (address spaces, vcpus)\n"
"and do random operations on them at once: guest code of every kind (system\n"
"calls by every entry path, traps, faults, single steps, random bytes),\n"
"maps, unmaps and protects racing with runs, kicks, host signals, fds\n"
"closed mid-run, forks, SIGKILLed children, FPU images, stats files.\n"
"Every result is checked against what it must be; what a race makes\n"
"unknowable is counted as unchecked.  At the end: operations, exits and\n"
"errors, counted.\n"
"\n"
"  -s, --seed N        seed (default: from the clock); printed at the start.\n"
"                      The same seed and --threads replay each thread's\n"
"                      sequence of operations; the races between them vary.\n"
"  -d, --duration S    stop after S seconds (default 30)\n"
"  -n, --ops N         stop each thread after N operations (default: none)\n"
"  -t, --threads N     worker threads (default 4, at most %d)\n"
"  -w, --worlds N      worlds the threads share (default: threads / 2, at least 2)\n"
"      --watchdog S    fail when one operation takes longer than S seconds\n"
"                      (default 60)\n"
"      --only OPS      only these operations (comma-separated names)\n"
"      --without OPS   all but these\n"
"      --fault-inject  set /proc/thread-self/make-it-fail around each call into\n"
"                      the module, for fault injection (failslab, fail_page_alloc\n"
"                      with task-filter); ENOMEM is then a right answer\n"
"      --fail-percent P  --fault-inject, but what fails is drawn from the seed:\n"
"                      in P%% of the module calls, the call's n-th allocation\n"
"                      (n from 1 to %d), with /proc/thread-self/fail-nth;\n"
"                      which ones follows the seed and each operation's number\n"
"      --fail-nth      instead of the stress: make each allocation of each\n"
"                      module call fail in turn, with /proc/thread-self/fail-nth\n"
"                      (see tools/vm/unpriv-fault-inject)\n"
"      --exec-failing PROG [ARG...]\n"
"                      instead of the stress: run PROG with make-it-fail set\n"
"                      from its first instruction on (not during its exec);\n"
"                      exit with its status\n"
"      --self-test     instead of the stress: check the tool's own code (its\n"
"                      scrubbing of random guest code), with no module; KTAP\n"
"  -h, --help          this help\n"
"\n"
"Operations:",
		MAX_THREADS, FAIL_NTH_SPREAD);
	for (int i = 0; i < OP_NR; i++)
		fprintf(f, "%s%s", i % 8 ? " " : "\n  ", op_names[i]);
	fprintf(f,
"\n\n"
"Exit status: 0 when every check held; 1 on a failure (an unexpected errno,\n"
"a mismatch, guest code reaching the host, a hang the watchdog saw); 2 on a\n"
"usage error or when /dev/unpriv cannot be used.\n");
}

/* --- xoshiro256**, seeded with splitmix64 --------------------------------------- */

void rng_seed(struct rng *r, uint64_t seed)
{
	int i;

	for (i = 0; i < 4; i++) {
		uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		r->s[i] = z ^ (z >> 31);
	}
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s, res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

/* --- failures and errors ------------------------------------------------------------- */

/*
 * One write per message, no stdio: children of a multi-threaded process
 * may not take stdio's locks, and lines of threads must not interleave.
 */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	if (write(STDOUT_FILENO, buf, n) < 0)
		return;
}

void fail(struct worker *w, const char *fmt, ...)
{
	struct stress *s = w->s;
	char msg[3072];
	va_list ap;
	int op = atomic_load(&w->op);

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* the first few in full; a flood after one bug says nothing more */
	if (atomic_fetch_add(&s->failures, 1) < 10)
		say("unpriv-stress: FAIL: %s\n  (thread %d%s, operation %s, its #%lu; seed %#llx)\n",
		    msg, w->id, getpid() == s->pid ? "" : ", in a child",
		    op >= 0 ? op_names[op] : "-", w->iteration,
		    (unsigned long long)s->o.seed);
	atomic_store(&s->stop, true);
}

void count_error(struct worker *w, enum op op, int err)
{
	if (err <= 0)
		return;
	if (err >= ERRNO_MAX)
		err = ERRNO_MAX - 1;
	w->c.errors[op][err]++;
}

/*
 * Under --fault-inject, an allocation in the module may fail at any
 * call: ENOMEM is then a right answer everywhere.
 */
bool fault_mode_error(struct worker *w, int err)
{
	return w->s->o.fault_inject && err == ENOMEM;
}

/* --- signals ----------------------------------------------------------------------- */

static __thread volatile unsigned long host_signals;

static void on_host_signal(int sig)
{
	host_signals++;
}

/*
 * The report of a synchronous signal in the host is made with nothing of
 * the thread's own state: no TLS (the C library's errno, the stack
 * protector's canary are reached through FS, which may be what broke),
 * only raw system calls.
 */
static __attribute__((no_stack_protector)) long raw_syscall3(long nr, long a, long b, long c)
{
	long ret;

	asm volatile("syscall" : "=a"(ret) : "0"(nr), "D"(a), "S"(b), "d"(c)
		     : "rcx", "r11", "memory");
	return ret;
}

static __attribute__((no_stack_protector)) char *put_str(char *p, const char *s)
{
	while (*s)
		*p++ = *s++;
	return p;
}

static __attribute__((no_stack_protector)) char *put_hex(char *p, unsigned long v)
{
	int i;

	*p++ = '0';
	*p++ = 'x';
	for (i = 60; i > 0 && !(v >> i); i -= 4)
		;
	for (; i >= 0; i -= 4)
		*p++ = "0123456789abcdef"[(v >> i) & 15];
	return p;
}

/*
 * A synchronous signal in the host: guest code got out, or the stress
 * itself crashed.  Either way, a failure; say what and where.
 */
static __attribute__((no_stack_protector)) void on_escape(int sig, siginfo_t *si, void *uc)
{
	const ucontext_t *u = uc;
	unsigned long fsbase = 0;
	char buf[320], *p = buf;

	raw_syscall3(SYS_arch_prctl, ARCH_GET_FS, (long)&fsbase, 0);
	p = put_str(p, "unpriv-stress: FAIL: signal ");
	p = put_hex(p, sig);
	p = put_str(p, " (si_code ");
	p = put_hex(p, (unsigned int)si->si_code);
	p = put_str(p, ", address ");
	p = put_hex(p, (unsigned long)si->si_addr);
	p = put_str(p, ") in the host at rip ");
	p = put_hex(p, u->uc_mcontext.gregs[REG_RIP]);
	p = put_str(p, ", fs base ");
	p = put_hex(p, fsbase);
	p = put_str(p, ", thread ");
	p = put_hex(p, raw_syscall3(SYS_gettid, 0, 0, 0));
	p = put_str(p, "; seed ");
	p = put_hex(p, stress.o.seed);
	*p++ = '\n';
	raw_syscall3(SYS_write, STDOUT_FILENO, (long)buf, p - buf);
	raw_syscall3(SYS_exit_group, 1, 0, 0);
}

static int signals_init(void)
{
	static const int escapes[] = { SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE, SIGSYS };
	struct sigaction sa = { .sa_handler = on_host_signal, .sa_flags = SA_RESTART };
	unsigned int i;

	if (sigaction(SIGUSR1, &sa, NULL) || sigaction(SIGRTMIN, &sa, NULL))
		return -1;
	sa.sa_handler = NULL;
	sa.sa_sigaction = on_escape;
	sa.sa_flags = SA_SIGINFO;
	for (i = 0; i < sizeof(escapes) / sizeof(escapes[0]); i++)
		if (sigaction(escapes[i], &sa, NULL))
			return -1;
	return 0;
}

/* --- workers ----------------------------------------------------------------------- */

static enum op pick_op(struct worker *w)
{
	unsigned int total = 0, x;
	int i;

	for (i = 0; i < OP_NR; i++)
		total += w->s->o.weights[i];
	x = rnd(&w->rng, total);
	for (i = 0; i < OP_NR; i++) {
		if (x < w->s->o.weights[i])
			return i;
		x -= w->s->o.weights[i];
	}
	return OP_CHAIN;
}

static int worker_init(struct worker *w)
{
	struct sigevent sev = {
		.sigev_notify = SIGEV_THREAD_ID,
		.sigev_signo = SIGRTMIN,
	};

	w->tid = gettid();
	sev._sigev_un._tid = w->tid;
	if (timer_create(CLOCK_MONOTONIC, &sev, &w->timer))
		return -errno;
	if (w->s->o.fault_inject &&
	    fault_inject_open(w, w->s->o.seed + 0x1000 * (w->id + 1)) < 0)
		return -errno;
	return host_state_init(w);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct stress *s = w->s;
	uint64_t end = s->start_ms + (uint64_t)(s->o.duration * 1000);
	int ret;

	pthread_barrier_wait(&s->start);
	ret = worker_init(w);
	if (ret) {
		fail(w, "cannot set the thread up: %s", strerror(-ret));
		atomic_fetch_sub(&s->running, 1);
		return NULL;
	}
	while (!atomic_load(&s->stop) && now_ms() < end &&
	       (!s->o.max_ops || w->iteration < s->o.max_ops)) {
		enum op op = pick_op(w);

		atomic_store(&w->op_start_ms, now_ms());
		atomic_store(&w->op, op);
		/*
		 * Which of the operation's module calls fail depends on the
		 * seed and the operation's number, not on how many calls the
		 * operations before it made (a run a timer ends early is
		 * resumed once more): timing changes that much less.
		 */
		if (s->o.fail_percent)
			rng_seed(&w->frng, w->fseed + w->iteration * 0x9e3779b97f4a7c15ULL);
		op_run(w, op);
		atomic_store(&w->op, -1);
		w->c.ops[op]++;
		w->iteration++;
	}
	w->c.signals_seen = host_signals;
	atomic_fetch_sub(&s->running, 1);
	return NULL;
}

/* --- the report -------------------------------------------------------------------- */

static void report(struct stress *s, double secs)
{
	static struct counters t;
	static const char *const trap_names[32] = {
		[0] = "#DE", [1] = "#DB", [3] = "#BP", [4] = "#OF", [5] = "#BR",
		[6] = "#UD", [10] = "#TS", [11] = "#NP", [12] = "#SS",
		[13] = "#GP", [16] = "#MF", [17] = "#AC", [19] = "#XM",
	};
	unsigned long ops = 0;
	int i, j, k;

	memset(&t, 0, sizeof(t));
	for (i = 0; i < s->o.threads; i++) {
		struct counters *c = &s->workers[i].c;

		for (j = 0; j < OP_NR; j++) {
			t.ops[j] += c->ops[j];
			for (k = 0; k < ERRNO_MAX; k++)
				t.errors[j][k] += c->errors[j][k];
		}
		for (j = 0; j < EX_NR; j++)
			t.exits[j] += c->exits[j];
		for (j = 0; j < 32; j++)
			t.traps[j] += c->traps[j];
		t.checked += c->checked;
		t.unchecked += c->unchecked;
		t.children += c->children;
		t.signals_seen += c->signals_seen;
	}
	for (j = 0; j < OP_NR; j++)
		ops += t.ops[j];

	printf("unpriv-stress: %lu operations in %.1f s by %d threads, seed %#llx\n",
	       ops, secs, s->o.threads, (unsigned long long)s->o.seed);
	printf("  %-12s %9s  %s\n", "operation", "count", "errors (right answers, by errno)");
	for (j = 0; j < OP_NR; j++) {
		int n = 0;

		if (!t.ops[j] && !s->o.weights[j])
			continue;
		printf("  %-12s %9lu ", op_names[j], t.ops[j]);
		for (k = 1; k < ERRNO_MAX; k++) {
			if (!t.errors[j][k])
				continue;
			printf("%s%s %lu", n++ ? ", " : " ", strerrorname_np(k) ?: "?",
			       t.errors[j][k]);
		}
		printf("\n");
	}
	printf("  exits: SYSCALL %lu (syscall %lu, int $0x80 %lu, sysenter/syscall32 %lu), FAULT %lu, TRAP %lu",
	       t.exits[EX_SYSCALL] + t.exits[EX_INT80] + t.exits[EX_FAST32],
	       t.exits[EX_SYSCALL], t.exits[EX_INT80], t.exits[EX_FAST32],
	       t.exits[EX_FAULT], t.exits[EX_TRAP]);
	for (j = 0, k = 0; j < 32; j++)
		if (t.traps[j])
			printf("%s%s %lu", k++ ? ", " : " (",
			       trap_names[j] ?: "vector", t.traps[j]);
	printf("%s, INTR %lu\n", k ? ")" : "", t.exits[EX_INTR]);
	printf("  exits checked %lu, unknowable after a race %lu; children %lu; host signals handled %lu\n",
	       t.checked, t.unchecked, t.children, t.signals_seen);
	fflush(stdout);
}

/* --- options ----------------------------------------------------------------------- */

static int parse_ops(const char *list, bool only, unsigned int *wt)
{
	char *copy = strdup(list), *save = NULL, *tok;
	bool seen[OP_NR] = { false };
	int i;

	if (!copy)
		return -1;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < OP_NR; i++)
			if (!strcmp(tok, op_names[i]))
				break;
		if (i == OP_NR) {
			fprintf(stderr, "unpriv-stress: no operation '%s'\n", tok);
			free(copy);
			return -1;
		}
		seen[i] = true;
	}
	free(copy);
	for (i = 0; i < OP_NR; i++)
		if (seen[i] != only)
			wt[i] = 0;
	return 0;
}

static int parse_args(struct options *o, int argc, char **argv)
{
	enum { O_WATCHDOG = 256, O_ONLY, O_WITHOUT, O_FAULT, O_FAILPCT, O_FAILNTH };
	static const struct option longopts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "duration", required_argument, NULL, 'd' },
		{ "ops", required_argument, NULL, 'n' },
		{ "threads", required_argument, NULL, 't' },
		{ "worlds", required_argument, NULL, 'w' },
		{ "watchdog", required_argument, NULL, O_WATCHDOG },
		{ "only", required_argument, NULL, O_ONLY },
		{ "without", required_argument, NULL, O_WITHOUT },
		{ "fault-inject", no_argument, NULL, O_FAULT },
		{ "fail-percent", required_argument, NULL, O_FAILPCT },
		{ "fail-nth", no_argument, NULL, O_FAILNTH },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	bool seeded = false;
	char *end;
	int c;

	o->duration = 30;
	o->threads = 4;
	o->watchdog = 60;
	ops_default_weights(o->weights);
	while ((c = getopt_long(argc, argv, "s:d:n:t:w:h", longopts, NULL)) != -1) {
		errno = 0;
		switch (c) {
		case 's':
			o->seed = strtoull(optarg, &end, 0);
			seeded = true;
			break;
		case 'd':
			o->duration = strtod(optarg, &end);
			break;
		case 'n':
			o->max_ops = strtoul(optarg, &end, 0);
			break;
		case 't':
			o->threads = strtol(optarg, &end, 0);
			break;
		case 'w':
			o->worlds = strtol(optarg, &end, 0);
			break;
		case O_WATCHDOG:
			o->watchdog = strtol(optarg, &end, 0);
			break;
		case O_ONLY:
		case O_WITHOUT:
			if (parse_ops(optarg, c == O_ONLY, o->weights))
				return -1;
			end = "";
			break;
		case O_FAULT:
			o->fault_inject = true;
			end = "";
			break;
		case O_FAILPCT:
			o->fail_percent = strtoul(optarg, &end, 0);
			o->fault_inject = true;
			break;
		case O_FAILNTH:
			o->fail_nth = true;
			end = "";
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
		if (errno || *end) {
			fprintf(stderr, "unpriv-stress: bad value '%s'\n", optarg);
			return -1;
		}
	}
	if (optind != argc || o->threads < 1 || o->threads > MAX_THREADS ||
	    o->duration <= 0 || o->watchdog < 1 || o->worlds < 0 ||
	    o->fail_percent > 100 ||
	    o->worlds > MAX_WORLDS) {
		usage(stderr);
		return -1;
	}
	if (!o->worlds)
		o->worlds = o->threads / 2 < 2 ? 2 : o->threads / 2;
	if (!seeded) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		o->seed = (uint64_t)ts.tv_sec * 1000000007ULL ^ ts.tv_nsec ^
			  ((uint64_t)getpid() << 32);
	}
	for (c = 0; c < OP_NR; c++)
		if (o->weights[c])
			return 0;
	fprintf(stderr, "unpriv-stress: no operations left\n");
	return -1;
}

/* --- setup --------------------------------------------------------------------------- */

static bool cpu_has_ospke(void)
{
	unsigned int a, b, c, d;

	return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (c & (1U << 4));
}

static int setup(struct stress *s)
{
	int dev, fds[2], i, v, ret;

	dev = unpriv_open();
	if (dev < 0) {
		fprintf(stderr, "unpriv-stress: %s: %s\n", UNPRIV_DEV, strerror(errno));
		return -1;
	}
	s->fpu_size = ioctl(dev, UNPRIV_CHECK_EXTENSION, UNPRIV_CAP_FPU);
	close(dev);
	s->have_fsgsbase = getauxval(AT_HWCAP2) & 2;	/* HWCAP2_FSGSBASE */
	s->have_pku = cpu_has_ospke();

	/* what closed fd numbers become: ioctls on it fail with ENOTTY */
	s->tomb = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (s->tomb < 0 || pipe2(fds, O_CLOEXEC)) {
		perror("unpriv-stress: /dev/null or pipe");
		return -1;
	}
	s->pipe_fd = fds[0];
	if (guest_lib_init() || signals_init()) {
		fprintf(stderr, "unpriv-stress: cannot set up\n");
		return -1;
	}

	/* shared with children, who count their intrusions there */
	s->worlds = mmap(NULL, MAX_WORLDS * sizeof(struct world),
			 PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s->worlds == MAP_FAILED) {
		perror("unpriv-stress: mmap");
		return -1;
	}
	for (i = 0; i < s->o.threads; i++) {
		struct worker *w = &s->workers[i];

		w->s = s;
		w->id = i;
		w->fail_fd = -1;
		w->stats_fd = -1;
		atomic_store(&w->op, -1);
		rng_seed(&w->rng, s->o.seed + 0x1000 * (i + 1));
	}
	for (i = 0; i < s->o.worlds; i++) {
		struct world *wd = &s->worlds[i];
		pthread_rwlockattr_t ra;

		pthread_rwlockattr_init(&ra);
		/* recycling must not starve behind a stream of readers */
		pthread_rwlockattr_setkind_np(&ra,
			PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
		pthread_rwlock_init(&wd->lock, &ra);
		for (v = 0; v < VCPUS; v++)
			pthread_mutex_init(&wd->v[v].claim, NULL);
		ret = world_create(&s->workers[i % s->o.threads], wd);
		if (ret) {
			fprintf(stderr, "unpriv-stress: cannot make a world: %s\n",
				strerror(-ret));
			return -1;
		}
	}
	return 0;
}

/* --- main ---------------------------------------------------------------------------- */

/* Every 100 ms: is a thread stuck in one operation? */
static bool watchdog(struct stress *s)
{
	uint64_t now = now_ms();
	int i;

	for (i = 0; i < s->o.threads; i++) {
		struct worker *w = &s->workers[i];
		int op = atomic_load(&w->op);
		long t = now - atomic_load(&w->op_start_ms);

		if (op >= 0 && t > s->o.watchdog * 1000L) {
			fail(w, "watchdog: operation %s has taken %ld s (a hang)",
			     op_names[op], t / 1000);
			return false;
		}
	}
	return true;
}

int main(int argc, char **argv)
{
	struct stress *s = &stress;
	int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 3 && !strcmp(argv[1], "--exec-failing"))
		return exec_failing(argv + 2);
	if (argc == 2 && !strcmp(argv[1], "--self-test"))
		return guest_self_test();
	if (parse_args(&s->o, argc, argv))
		return 2;
	s->pid = getpid();
	printf("unpriv-stress: seed %#llx, %d threads, %d worlds, %.0f s%s%s (replay: unpriv-stress --seed %#llx --threads %d --worlds %d)\n",
	       (unsigned long long)s->o.seed, s->o.threads, s->o.worlds,
	       s->o.duration, s->o.fault_inject ? ", fault injection" : "",
	       s->o.fail_nth ? ", fail-nth" : "",
	       (unsigned long long)s->o.seed, s->o.threads, s->o.worlds);
	if (setup(s))
		return 2;
	if (s->o.fail_nth)
		return fail_nth_main(s);

	s->start_ms = now_ms();
	atomic_store(&s->running, s->o.threads);
	/* No worker starts before all are: a signal op picks any as target. */
	if (pthread_barrier_init(&s->start, NULL, s->o.threads + 1)) {
		fprintf(stderr, "unpriv-stress: cannot start threads\n");
		return 2;
	}
	for (i = 0; i < s->o.threads; i++)
		if (pthread_create(&s->workers[i].thread, NULL, worker_main,
				   &s->workers[i])) {
			fprintf(stderr, "unpriv-stress: cannot start threads\n");
			_exit(2);	/* with workers waiting at the barrier */
		}
	pthread_barrier_wait(&s->start);

	/* Wait for the workers; a stuck one is a failure, and we go. */
	while (atomic_load(&s->running) > 0) {
		sleep_ms(100);
		if (!watchdog(s)) {
			report(s, (now_ms() - s->start_ms) / 1000.0);
			printf("unpriv-stress: FAIL\n");
			fflush(stdout);
			_exit(1);
		}
	}
	for (i = 0; i < s->o.threads; i++)
		pthread_join(s->workers[i].thread, NULL);
	for (i = 0; i < s->o.worlds; i++)
		world_destroy(&s->worlds[i]);

	report(s, (now_ms() - s->start_ms) / 1000.0);
	if (atomic_load(&s->failures)) {
		printf("unpriv-stress: FAIL (%d failures)\n", atomic_load(&s->failures));
		return 1;
	}
	printf("unpriv-stress: PASS\n");
	return 0;
}
