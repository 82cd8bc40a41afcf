/* SPDX-License-Identifier: GPL-2.0 */
/*
 * unpriv-stress: definitions shared between its files.
 *
 * main.c	options, worker threads, the watchdog, the report
 * world.c	worlds: address spaces and vcpus that threads share
 * guest.c	guest programs, running them, checking their exits
 * ops.c	the operations the workers pick at random
 * failnth.c	--fail-nth: every allocation of each module call fails
 * launch.c	--exec-failing: a program with make-it-fail after its exec
 */
#ifndef STRESS_H
#define STRESS_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <sys/types.h>

#include <linux/unpriv.h>

#define MAX_THREADS	32
#define MAX_WORLDS	16
#define VCPUS		3	/* per world */
#define PAGE		4096UL

/*
 * A world's guest memory is one memfd, mapped into two address spaces.
 * The main one runs checked programs; the wild one runs random code,
 * intruders and children, whose writes must not reach what the checked
 * programs read back.
 *
 * memfd pages:	code: library, then per vcpu a chain page and RANDOM_SLOTS
 *		      pages of random code (the wild space maps one of them)
 *		data: per vcpu a slot page, then the page AS_RW tests use
 *		stack: per vcpu
 *		scratch: the wild space's data and stacks
 *		churn: what the churn region maps (some maps reach past it)
 */
#define RANDOM_SLOTS	2
#define VCPU_CODE_PAGES	(1 + RANDOM_SLOTS)
#define CODE_PAGES	(1 + VCPU_CODE_PAGES * VCPUS)
#define DATA_PAGES	(VCPUS + 1)
#define STACK_PAGES	VCPUS
#define SCRATCH_PAGES	(DATA_PAGES + STACK_PAGES)
#define CHURN_FILE_PAGES 16

#define OFF_CODE	0
#define OFF_DATA	(OFF_CODE + CODE_PAGES * PAGE)
#define OFF_STACK	(OFF_DATA + DATA_PAGES * PAGE)
#define OFF_SCRATCH	(OFF_STACK + STACK_PAGES * PAGE)
#define OFF_CHURN	(OFF_SCRATCH + SCRATCH_PAGES * PAGE)
#define MEM_SIZE	(OFF_CHURN + CHURN_FILE_PAGES * PAGE)

/* Guest addresses, the same in both spaces; all below 4 GiB. */
#define CODE_ADDR	0x100000UL	/* r-x */
#define DATA_ADDR	0x200000UL	/* rw- */
#define STACK_ADDR	0x300000UL	/* rw- */
#define RO_ADDR		0x380000UL	/* r--, the RW test page, private */
#define NONE_ADDR	0x390000UL	/* ---, one page */
#define HOLE_ADDR	0x400000UL	/* nothing, ever */
#define CHURN_ADDR	0x10000000UL
#define CHURN_PAGES	32

#define LIB_ADDR		CODE_ADDR
#define CHAIN_ADDR(v)		(CODE_ADDR + (1 + VCPU_CODE_PAGES * (v)) * PAGE)
#define RANDOM_ADDR(v)		(CHAIN_ADDR(v) + PAGE)
#define SLOT_ADDR(v)		(DATA_ADDR + (v) * PAGE)
#define RW_PAGE_ADDR		RO_ADDR
#define STACK_TOP(v)		(STACK_ADDR + ((v) + 1) * PAGE - 512)

/* memfd offsets of the same */
#define CHAIN_OFF(v)		(OFF_CODE + (1 + VCPU_CODE_PAGES * (v)) * PAGE)
#define RANDOM_OFF(v, slot)	(CHAIN_OFF(v) + (1 + (slot)) * PAGE)
#define SLOT_OFF(v)		(OFF_DATA + (v) * PAGE)
#define RW_PAGE_OFF		(OFF_DATA + VCPUS * PAGE)

/* The system call number a library program ends with. */
#define MARK		0x5afe
#define MARK2		0x5b01

/* --- operations ---------------------------------------------------------- */

enum op {
	OP_CHAIN,	/* syscalls by every entry path, traps, in one program */
	OP_RANDOM,	/* random bytes and registers, in the wild space */
	OP_MEMORY,	/* a load, store or jump to a chosen address */
	OP_TRAP,	/* int3, ud2, #DE, #GP, TF single steps */
	OP_COMPUTE,	/* a long loop, interrupted, must compute right */
	OP_STATE,	/* FPU image, FS/GS bases, selectors, PKRU in the guest */
	OP_TOUCH,	/* a loop over the churn region while it changes */
	OP_INTRUDE,	/* RUN of a vcpu another thread is running */
	OP_MAP,
	OP_UNMAP,
	OP_PROTECT,
	OP_BATCH,
	OP_RW,
	OP_FPU,		/* GET/SET_FPU with random images */
	OP_KICK,
	OP_STATS,	/* read a vcpu's or the global stats file */
	OP_SIGNAL,	/* a host signal to another worker */
	OP_CLOSE_VCPU,	/* close a vcpu fd, maybe mid-run */
	OP_CLOSE_AS,	/* close an address-space fd, maybe mid-run */
	OP_RECYCLE,	/* close a whole world and make a new one */
	OP_FORK,	/* a child that runs the inherited fds, then exits */
	OP_SIGKILL,	/* a child in guest mode, SIGKILLed */
	OP_NR
};

extern const char *const op_names[OP_NR];

/* --- per-thread random numbers: xoshiro256** ------------------------------ */

struct rng {
	uint64_t s[4];
};

void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);

static inline uint64_t rnd(struct rng *r, uint64_t n)	/* [0, n) */
{
	return n ? rng_next(r) % n : 0;
}

static inline bool chance(struct rng *r, unsigned int one_in)
{
	return rnd(r, one_in) == 0;
}

/* --- worlds --------------------------------------------------------------- */

struct vslot {
	int fd;				/* vcpu fd; a tombstone once closed */
	struct unpriv_run *run;		/* its page; anonymous once closed */
	atomic_int killed;		/* set before the fd is closed */
	pthread_mutex_t claim;		/* held by a thread running it checked */
	/*
	 * Runs by threads or children that do not hold the claim; the
	 * claim holder checks nothing that overlapped one.  intruders is
	 * the world's generation << 32 | how many run now: see
	 * intruder_enter().
	 */
	_Atomic uint64_t intruders;
	atomic_uint intrusions;
	/* something random ran on it: FPU state and PKRU may be anything */
	atomic_bool dirty;
	/* the random-code page the wild space maps; the claim holder's */
	unsigned int random_slot;
};

enum { AS_MAIN, AS_WILD, AS_NR };

struct world {
	pthread_rwlock_t lock;		/* write: recycle; read: all else */
	bool alive;			/* made completely */
	int dev;
	int as[AS_NR];			/* tombstones once closed */
	atomic_int as_killed[AS_NR];
	int mem;			/* the memfd */
	int mem_ro;			/* the same, opened read-only */
	struct vslot v[VCPUS];
	unsigned long generation;
};

struct stress;
struct worker;

int world_create(struct worker *w, struct world *wd);
int world_map_random(struct worker *w, struct world *wd, int v, unsigned int slot);
void intruder_enter(struct vslot *vs, unsigned long generation);
void intruder_leave(struct vslot *vs, unsigned long generation);
bool intruders_now(struct vslot *vs);
void world_destroy(struct world *w);
void world_kill_vcpu(struct stress *s, struct world *w, int v);
void world_kill_as(struct stress *s, struct world *w, int a);

/* --- per-thread state, counters -------------------------------------------- */

#define ERRNO_MAX	134

enum exit_class {
	EX_SYSCALL, EX_INT80, EX_FAST32,	/* UNPRIV_EXIT_SYSCALL by insn */
	EX_FAULT, EX_TRAP, EX_INTR,
	EX_NR
};

struct counters {
	unsigned long ops[OP_NR];
	unsigned long errors[OP_NR][ERRNO_MAX];
	unsigned long exits[EX_NR];
	unsigned long traps[32];	/* trap exits by vector */
	unsigned long checked;		/* exits checked in full */
	unsigned long unchecked;	/* exits a race made unknowable */
	unsigned long children;
	unsigned long signals_seen;	/* host signals handled */
};

struct worker {
	struct stress *s;
	int id;
	pthread_t thread;
	pid_t tid;
	struct rng rng;
	struct counters c;
	timer_t timer;			/* interrupts every run */
	atomic_int op;			/* current op, -1 between ops */
	atomic_long op_start_ms;
	unsigned long iteration;
	/* host state every run must leave as it found it */
	uint64_t fsbase, gsbase;
	uint32_t mxcsr, pkru;
	uint16_t fpucw;
	sigset_t mask;
	int fail_fd;			/* /proc/thread-self/make-it-fail, or
					 * fail-nth under --fail-percent */
	struct rng frng;		/* which calls fail, under --fail-percent */
	uint64_t fseed;			/* its seed; each operation's: see main.c */
	bool nth_armed;			/* fail-nth written for this call */
	int stats_fd;			/* a stats file kept open, or -1 */
	uint64_t stats_sum;		/* its counts' sum at the last read */
};

/*
 * Under --fault-inject: make-it-fail, or with --fail-percent fail-nth
 * (1 to FAIL_NTH_SPREAD), opened for the calling thread; and the seed of
 * its choices.  Returns the fd, or -1.
 */
#define FAIL_NTH_SPREAD	8
int fault_inject_open(struct worker *w, uint64_t seed);

struct options {
	uint64_t seed;
	double duration;		/* seconds */
	unsigned long max_ops;		/* per thread, 0: no limit */
	int threads;
	int worlds;
	int watchdog;			/* seconds an op may take */
	bool fault_inject;		/* make-it-fail around module calls */
	unsigned int fail_percent;	/* or fail-nth, in this share of them */
	bool fail_nth;			/* --fail-nth mode */
	unsigned int weights[OP_NR];
};

struct stress {
	struct options o;
	struct world *worlds;		/* shared with children */
	struct worker workers[MAX_THREADS];
	pid_t pid;			/* of the main process */
	int tomb;			/* what a closed fd number becomes */
	int pipe_fd;			/* a file that cannot be mapped */
	int fpu_size;			/* UNPRIV_CAP_FPU */
	bool have_fsgsbase, have_pku;
	atomic_bool stop;
	atomic_int failures;
	atomic_int running;		/* workers not yet done */
	pthread_barrier_t start;	/* every worker's thread is known */
	uint64_t start_ms;
};

uint64_t now_ms(void);

/*
 * A real failure: print it with the seed and context, count it, and
 * stop the run.  Everything else (errors races explain) is counted.
 */
void fail(struct worker *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void count_error(struct worker *w, enum op op, int err);

/* Under --fault-inject, is err what a failed allocation may cause? */
bool fault_mode_error(struct worker *w, int err);

/* module calls, with make-it-fail set around them under --fault-inject */
long mod_ioctl(struct worker *w, int fd, unsigned long cmd, unsigned long arg);

/* guest.c */
int guest_lib_init(void);
int guest_self_test(void);
int guest_lib_write(int mem);
uint64_t guest_lib_sys_addr(void);
uint64_t guest_lib_spin_addr(void);
void run_chain(struct worker *w, struct world *wd, int v);
void run_random(struct worker *w, struct world *wd, int v);
void run_memory(struct worker *w, struct world *wd, int v);
void run_trap(struct worker *w, struct world *wd, int v);
void run_compute(struct worker *w, struct world *wd, int v);
void run_state(struct worker *w, struct world *wd, int v);
void run_touch(struct worker *w, struct world *wd, int v);
void run_intrude(struct worker *w, struct world *wd, int v);
int guest_run_raw(struct worker *w, int vcpu, int as);
void timer_arm(struct worker *w, long us);
void timer_disarm(struct worker *w);
int fpu_io(struct worker *w, int vcpu, unsigned long cmd, void *buf, uint32_t size);
int host_state_init(struct worker *w);

/* ops.c */
void op_run(struct worker *w, enum op op);
void ops_default_weights(unsigned int *weights);

/* failnth.c */
int fail_nth_main(struct stress *s);

/* launch.c */
int exec_failing(char **argv);

#endif /* STRESS_H */
