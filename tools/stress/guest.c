// SPDX-License-Identifier: GPL-2.0
/*
 * unpriv-stress: guest programs, running them, and checking every exit.
 *
 * Checked programs run in a world's main address space on a vcpu the
 * thread has claimed; their exits are checked against what the program
 * must do (system call number and arguments, fault address, trap vector,
 * registers, memory).  A run another thread or child intruded on, or
 * whose fds were closed meanwhile, cannot be known: it is counted as
 * unchecked.  Random code runs in the wild address space, where any
 * exit is fine but the checks every run gets (host state untouched,
 * exit state consistent) still apply.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <asm/prctl.h>

#include "stress.h"
#include "unpriv_util.h"

/* --- the library: fixed programs in every world's first code page ------- */

GUEST_CODE(lib_sys, "syscall\nud2\n");
GUEST_CODE(lib_load, "mov (%rdi), %rbx\nmov $0x5afe, %eax\nsyscall\nud2\n");
GUEST_CODE(lib_store, "mov %rsi, (%rdi)\nmov $0x5afe, %eax\nsyscall\nud2\n");
GUEST_CODE(lib_exec, "jmp *%rdi\n");
GUEST_CODE(lib_int3, "int3\nmov $0x5afe, %eax\nsyscall\nud2\n");
GUEST_CODE(lib_ud2, "ud2\n");
GUEST_CODE(lib_div0, "xor %ecx, %ecx\nxor %edx, %edx\nmov $1, %eax\ndiv %ecx\n");
GUEST_CODE(lib_hlt, "hlt\n");
GUEST_CODE(lib_step, "nop\nnop\nnop\nnop\nmov $0x5afe, %eax\nsyscall\nud2\n");
GUEST_CODE(lib_spin, "1: jmp 1b\n");

/* xorshift64 in rax, rcx times, and xmm0 += xmm1 each time */
GUEST_CODE(lib_compute,
	"movq %rdx, %xmm0\n"
	"movq %rsi, %xmm1\n"
	"mov %rdi, %rax\n"
	"1: mov %rax, %r8\n"
	"shl $13, %r8\n"
	"xor %r8, %rax\n"
	"mov %rax, %r8\n"
	"shr $7, %r8\n"
	"xor %r8, %rax\n"
	"mov %rax, %r8\n"
	"shl $17, %r8\n"
	"xor %r8, %rax\n"
	"paddq %xmm1, %xmm0\n"
	"dec %rcx\n"
	"jnz 1b\n"
	"mov %rax, %rdi\n"
	"movq %xmm0, %rsi\n"
	"mov $0x5afe, %eax\n"
	"syscall\n"
	"ud2\n");

/* The FPU state the guest sees: xmm0, xmm1, xmm15 and MXCSR. */
GUEST_CODE(lib_fpu,
	"movq %xmm0, %rdi\n"
	"movq %xmm1, %rsi\n"
	"movq %xmm15, %rdx\n"
	"sub $8, %rsp\n"
	"stmxcsr (%rsp)\n"
	"mov (%rsp), %r10d\n"
	"add $8, %rsp\n"
	"mov $0x5afe, %eax\n"
	"syscall\n"
	"ud2\n");

/* FS/GS base and DS set by the guest, then read back after an exit. */
GUEST_CODE(lib_segs,
	"wrfsbase %rdi\n"
	"wrgsbase %rsi\n"
	"mov %dx, %ds\n"
	"mov $0x5afe, %eax\n"
	"syscall\n"
	"rdfsbase %rdi\n"
	"rdgsbase %rsi\n"
	"mov %ds, %edx\n"
	"mov $0x5b01, %eax\n"
	"syscall\n"
	"ud2\n");

/* PKRU set by the guest, read back after an exit, then cleared. */
GUEST_CODE(lib_pkru,
	"mov %edi, %eax\n"
	"xor %ecx, %ecx\n"
	"xor %edx, %edx\n"
	"wrpkru\n"
	"mov $0x5afe, %eax\n"
	"syscall\n"
	"xor %ecx, %ecx\n"
	"rdpkru\n"
	"mov %eax, %edi\n"
	"xor %eax, %eax\n"
	"xor %edx, %edx\n"
	"wrpkru\n"
	"mov $0x5b01, %eax\n"
	"syscall\n"
	"ud2\n");

/* Back to a known FPU state and PKRU after something random ran. */
GUEST_CODE(lib_reset,
	"xor %eax, %eax\n"
	"xor %ecx, %ecx\n"
	"xor %edx, %edx\n"
	"wrpkru\n"
	"lib_reset_nopku:\n"
	"fninit\n"
	"push $0x1f80\n"
	"ldmxcsr (%rsp)\n"
	"pop %rax\n"
	"mov $0x5afe, %eax\n"
	"syscall\n"
	"ud2\n");

/* Load (rdx 0) or store each page of [rdi, rsi). */
GUEST_CODE(lib_touch,
	"1: test %rdx, %rdx\n"
	"jz 2f\n"
	"mov %rax, (%rdi)\n"
	"jmp lib_touch_next\n"
	"2: mov (%rdi), %rax\n"
	"lib_touch_next:\n"
	"add $4096, %rdi\n"
	"cmp %rsi, %rdi\n"
	"jb 1b\n"
	"mov $0x5afe, %eax\n"
	"syscall\n"
	"ud2\n");

extern const char lib_reset_nopku[], lib_touch_next[];

enum lib {
	L_SYS, L_LOAD, L_STORE, L_EXEC, L_INT3, L_UD2, L_DIV0, L_HLT, L_STEP,
	L_SPIN, L_COMPUTE, L_FPU, L_SEGS, L_PKRU, L_RESET, L_TOUCH, L_NR
};

#define LIB(name) { name##_start, name##_end }
static const struct {
	const char *start, *end;
} lib_code[L_NR] = {
	LIB(lib_sys), LIB(lib_load), LIB(lib_store), LIB(lib_exec),
	LIB(lib_int3), LIB(lib_ud2), LIB(lib_div0), LIB(lib_hlt),
	LIB(lib_step), LIB(lib_spin), LIB(lib_compute), LIB(lib_fpu),
	LIB(lib_segs), LIB(lib_pkru), LIB(lib_reset), LIB(lib_touch),
};

static unsigned char lib_page[PAGE], scrubbed[PAGE];
static uint64_t lib_addr[L_NR];

static uint64_t lib_at(enum lib l, const char *label)
{
	return lib_addr[l] + (label - lib_code[l].start);
}

static void scrub(uint8_t *b, size_t len);

int guest_lib_init(void)
{
	size_t off = 0;
	int i;

	memset(lib_page, 0xcc, sizeof(lib_page));	/* int3 between */
	for (i = 0; i < L_NR; i++) {
		size_t n = lib_code[i].end - lib_code[i].start;

		off = (off + 63) & ~63UL;
		if (off + n > PAGE)
			return -E2BIG;
		memcpy(lib_page + off, lib_code[i].start, n);
		lib_addr[i] = LIB_ADDR + off;
		off += n;
	}
	/* random code jumps into it: it must need no scrubbing anywhere */
	memcpy(scrubbed, lib_page, PAGE);
	scrub(scrubbed, PAGE);
	return memcmp(scrubbed, lib_page, PAGE) ? -EINVAL : 0;
}

int guest_lib_write(int mem)
{
	return pwrite(mem, lib_page, PAGE, OFF_CODE) == PAGE ? 0 : -errno;
}

uint64_t guest_lib_spin_addr(void)
{
	return lib_addr[L_SPIN];
}

uint64_t guest_lib_sys_addr(void)
{
	return lib_addr[L_SYS];
}

/* --- running ---------------------------------------------------------------- */

/*
 * Periodic, not one-shot: the first expiry may come before the RUN
 * ioctl is entered (on a slow machine 200 us is nothing), and a
 * spinning guest would then have nothing to end it.
 */
void timer_arm(struct worker *w, long us)
{
	struct itimerspec it = {
		.it_value = { .tv_sec = us / 1000000, .tv_nsec = us % 1000000 * 1000 },
		.it_interval = { .tv_sec = us / 1000000, .tv_nsec = us % 1000000 * 1000 },
	};

	timer_settime(w->timer, 0, &it, NULL);
}

void timer_disarm(struct worker *w)
{
	struct itimerspec it = { 0 };

	timer_settime(w->timer, 0, &it, NULL);
}

int fault_inject_open(struct worker *w, uint64_t seed)
{
	bool nth = w->s->o.fail_percent;

	w->nth_armed = false;
	w->fseed = seed ^ 0xfa11fa11fa11fa11ULL;
	rng_seed(&w->frng, w->fseed);
	w->fail_fd = open(nth ? "/proc/thread-self/fail-nth" :
			  "/proc/thread-self/make-it-fail", O_WRONLY | O_CLOEXEC);
	return w->fail_fd;
}

/*
 * Around a module call: make-it-fail on and off, the kernel choosing
 * what fails; or under --fail-percent, in that share of the calls, the
 * call's n-th allocation (n from 1 to FAIL_NTH_SPREAD) fails, the call
 * and n drawn from the thread's own seeded sequence, so that a seed
 * replays them.  A call that met fewer than n has fail-nth cleared after
 * it.
 */
static inline void fault_inject(struct worker *w, bool on)
{
	char buf[16] = "0";
	int len = 1;

	if (w->fail_fd < 0)
		return;
	if (!w->s->o.fail_percent) {
		if (write(w->fail_fd, on ? "1" : "0", 1) != 1)
			fail(w, "cannot write make-it-fail: %s", strerror(errno));
		return;
	}
	if (on) {
		if (rnd(&w->frng, 100) >= w->s->o.fail_percent)
			return;
		len = snprintf(buf, sizeof(buf), "%u",
			       1 + (unsigned int)rnd(&w->frng, FAIL_NTH_SPREAD));
	} else if (!w->nth_armed) {
		return;
	}
	w->nth_armed = on;
	if (write(w->fail_fd, buf, len) != len)
		fail(w, "cannot write fail-nth: %s", strerror(errno));
}

long mod_ioctl(struct worker *w, int fd, unsigned long cmd, unsigned long arg)
{
	long ret;

	fault_inject(w, true);
	ret = ioctl(fd, cmd, arg);
	fault_inject(w, false);
	return ret < 0 ? -errno : ret;
}

/*
 * UNPRIV_RUN, with xmm8-xmm15 and r12-r15 loaded with a pattern around
 * the system call: guest mode must give the host back every register.
 */
struct host_regs {
	uint8_t xmm[8][16];
	uint64_t gpr[4];
};

static long run_syscall(int vcpu, int as, const struct host_regs *in,
			struct host_regs *out)
{
	long ret;

	asm volatile(
		"movdqu 0x00(%[in]), %%xmm8\n\t"
		"movdqu 0x10(%[in]), %%xmm9\n\t"
		"movdqu 0x20(%[in]), %%xmm10\n\t"
		"movdqu 0x30(%[in]), %%xmm11\n\t"
		"movdqu 0x40(%[in]), %%xmm12\n\t"
		"movdqu 0x50(%[in]), %%xmm13\n\t"
		"movdqu 0x60(%[in]), %%xmm14\n\t"
		"movdqu 0x70(%[in]), %%xmm15\n\t"
		"mov 0x80(%[in]), %%r12\n\t"
		"mov 0x88(%[in]), %%r13\n\t"
		"mov 0x90(%[in]), %%r14\n\t"
		"mov 0x98(%[in]), %%r15\n\t"
		"syscall\n\t"
		"movdqu %%xmm8, 0x00(%[out])\n\t"
		"movdqu %%xmm9, 0x10(%[out])\n\t"
		"movdqu %%xmm10, 0x20(%[out])\n\t"
		"movdqu %%xmm11, 0x30(%[out])\n\t"
		"movdqu %%xmm12, 0x40(%[out])\n\t"
		"movdqu %%xmm13, 0x50(%[out])\n\t"
		"movdqu %%xmm14, 0x60(%[out])\n\t"
		"movdqu %%xmm15, 0x70(%[out])\n\t"
		"mov %%r12, 0x80(%[out])\n\t"
		"mov %%r13, 0x88(%[out])\n\t"
		"mov %%r14, 0x90(%[out])\n\t"
		"mov %%r15, 0x98(%[out])\n\t"
		: "=a" (ret)
		: "0" ((long)SYS_ioctl), "D" ((long)vcpu),
		  "S" ((long)UNPRIV_RUN), "d" ((long)as),
		  [in] "r" (in), [out] "r" (out)
		: "rcx", "r11", "r12", "r13", "r14", "r15", "memory",
		  "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13",
		  "xmm14", "xmm15");
	return ret;
}

static uint32_t rdpkru(void)
{
	uint32_t eax, edx;

	asm volatile("rdpkru" : "=a" (eax), "=d" (edx) : "c" (0));
	return eax;
}

static void wrpkru(uint32_t v)
{
	asm volatile("wrpkru" : : "a" (v), "c" (0), "d" (0) : "memory");
}

static uint32_t stmxcsr(void)
{
	uint32_t v;

	asm volatile("stmxcsr %0" : "=m" (v));
	return v;
}

static uint16_t fnstcw(void)
{
	uint16_t v;

	asm volatile("fnstcw %0" : "=m" (v));
	return v;
}

static uint64_t arch_get(int code)
{
	unsigned long v = 0;

	syscall(SYS_arch_prctl, code, &v);
	return v;
}

/*
 * The host state every worker sets once, to values of its own, and that
 * every run must leave alone: MXCSR and the x87 control word (rounding
 * modes no libc routine minds), PKRU with keys 1-15 restricted (nothing
 * uses them), and the FS and GS bases.
 */
int host_state_init(struct worker *w)
{
	static const uint32_t mxcsrs[] = { 0x1f80, 0x3f80, 0x5f80, 0x7f80, 0x9fc0 };
	static const uint16_t cws[] = { 0x37f, 0x27f, 0x77f, 0xb7f, 0x33f };
	struct stress *s = w->s;
	uint32_t mxcsr = mxcsrs[rnd(&w->rng, 5)];
	uint16_t cw = cws[rnd(&w->rng, 5)];

	asm volatile("ldmxcsr %0" : : "m" (mxcsr));
	asm volatile("fldcw %0" : : "m" (cw));
	w->mxcsr = stmxcsr();
	w->fpucw = fnstcw();
	if (s->have_pku) {
		wrpkru((uint32_t)rng_next(&w->rng) & ~3U);
		w->pkru = rdpkru();
	}
	w->fsbase = arch_get(ARCH_GET_FS);
	w->gsbase = arch_get(ARCH_GET_GS);
	return pthread_sigmask(SIG_SETMASK, NULL, &w->mask);
}

/* rseq's cpu_id must be the CPU: the module parks it in guest mode. */
static void check_rseq(struct worker *w)
{
	struct rseq *rs;
	unsigned int a, b;
	int i;

	if (!__rseq_size)
		return;
	rs = (struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);
	for (i = 0; i < 3; i++) {
		uint32_t cpu;

		if (syscall(SYS_getcpu, &a, NULL, NULL))
			return;
		cpu = __atomic_load_n(&rs->cpu_id, __ATOMIC_RELAXED);
		if (syscall(SYS_getcpu, &b, NULL, NULL))
			return;
		if (a != b || cpu == a)
			return;
	}
	fail(w, "rseq cpu_id %u, but the thread runs on CPU %u", rs->cpu_id, a);
}

/* The kernel's part of a sigset_t (glibc's is larger). */
static uint64_t sigmask64(const sigset_t *set)
{
	uint64_t m;

	memcpy(&m, set, sizeof(m));
	return m;
}

static void check_host_state(struct worker *w, const struct host_regs *in,
			     const struct host_regs *out, const sigset_t *mask)
{
	sigset_t now;

	if (memcmp(in, out, sizeof(*in)))
		fail(w, "host xmm8-15 or r12-r15 changed across UNPRIV_RUN");
	if (stmxcsr() != w->mxcsr)
		fail(w, "host MXCSR %#x, was %#x", stmxcsr(), w->mxcsr);
	if (fnstcw() != w->fpucw)
		fail(w, "host x87 control word %#x, was %#x", fnstcw(), w->fpucw);
	if (w->s->have_pku && rdpkru() != w->pkru)
		fail(w, "host PKRU %#x, was %#x", rdpkru(), w->pkru);
	if (arch_get(ARCH_GET_FS) != w->fsbase)
		fail(w, "host FS base %#llx, was %#llx",
		     (unsigned long long)arch_get(ARCH_GET_FS),
		     (unsigned long long)w->fsbase);
	if (arch_get(ARCH_GET_GS) != w->gsbase)
		fail(w, "host GS base %#llx, was %#llx",
		     (unsigned long long)arch_get(ARCH_GET_GS),
		     (unsigned long long)w->gsbase);
	pthread_sigmask(SIG_SETMASK, NULL, &now);
	if (sigmask64(&now) != sigmask64(mask))
		fail(w, "host signal mask %#llx after UNPRIV_RUN, was %#llx",
		     (unsigned long long)sigmask64(&now),
		     (unsigned long long)sigmask64(mask));
	check_rseq(w);
}

/*
 * One UNPRIV_RUN with what every run gets: a timer that ends it, some
 * times the synchronous signals blocked, and the host state checked
 * after.  Returns 0 or -errno.
 */
int guest_run_raw(struct worker *w, int vcpu, int as)
{
	struct host_regs in, out;
	sigset_t block, mask;
	bool blocked;
	long ret;

	for (size_t i = 0; i < sizeof(in) / 8; i++)
		((uint64_t *)&in)[i] = rng_next(&w->rng);
	memset(&out, 0, sizeof(out));

	blocked = chance(&w->rng, 8);
	if (blocked) {
		sigemptyset(&block);
		sigaddset(&block, SIGSEGV);
		sigaddset(&block, SIGBUS);
		sigaddset(&block, SIGILL);
		sigaddset(&block, SIGTRAP);
		sigaddset(&block, SIGFPE);
		sigaddset(&block, SIGUSR1);
		pthread_sigmask(SIG_BLOCK, &block, NULL);
	}
	pthread_sigmask(SIG_SETMASK, NULL, &mask);

	/* Random code may spin: every run ends within 30 ms. */
	timer_arm(w, 200 + rnd(&w->rng, 30000));
	fault_inject(w, true);
	ret = run_syscall(vcpu, as, &in, &out);
	fault_inject(w, false);
	timer_disarm(w);

	check_host_state(w, &in, &out, &mask);
	if (blocked)
		pthread_sigmask(SIG_SETMASK, &w->mask, NULL);
	return ret;
}

/* --- one checked program on a claimed vcpu --------------------------------- */

struct ctx {
	struct worker *w;
	struct world *wd;
	struct vslot *vs;
	int v, as;
	enum op op;
	const char *what;
	unsigned int intrusions;	/* when the program started */
	uint64_t gpr[4];		/* r12-r15 as the program started */
	struct unpriv_run e;		/* the page, as the last run left it */
	int ret;
	bool lost;			/* a race made the outcome unknowable */
	bool tf;			/* single-stepping: TRAP 1 anywhere */
	bool any_regs;			/* random code: r12-r15 are its own */
	uint64_t code_lo, code_hi;	/* where an INTR may stop it */
	uint64_t alt_rip;		/* or here (a jump's target) */
	unsigned long runs;
};

enum { RUN_EXIT, RUN_INTR, RUN_LOST };

static void dump_exit(struct ctx *c, char *buf, size_t len)
{
	const struct unpriv_run *e = &c->e;
	const struct unpriv_regs *r = &e->regs;
	bool trap = e->exit_reason == UNPRIV_EXIT_TRAP;

	snprintf(buf, len,
		 "%s, world vcpu %d, run %lu: ret %d exit %u\n"
		 "  rip %#llx rsp %#llx rflags %#llx cs %#x ss %#x ds %#x es %#x fs %#x gs %#x\n"
		 "  rax %#llx rbx %#llx rcx %#llx rdx %#llx rsi %#llx rdi %#llx\n"
		 "  r10 %#llx r12 %#llx fs_base %#llx gs_base %#llx\n"
		 "  syscall nr %#llx args %#llx %#llx %#llx %#llx %#llx %#llx insn %u compat %u\n"
		 "  fault/trap: address %#llx error code %#llx trap %u signo %d si_code %d",
		 c->what, c->v, c->runs, c->ret, e->exit_reason,
		 (unsigned long long)r->rip, (unsigned long long)r->rsp,
		 (unsigned long long)r->rflags, r->cs, r->ss, r->ds, r->es,
		 r->fs, r->gs,
		 (unsigned long long)r->rax, (unsigned long long)r->rbx,
		 (unsigned long long)r->rcx, (unsigned long long)r->rdx,
		 (unsigned long long)r->rsi, (unsigned long long)r->rdi,
		 (unsigned long long)r->r10, (unsigned long long)r->r12,
		 (unsigned long long)r->fs_base, (unsigned long long)r->gs_base,
		 (unsigned long long)e->syscall.nr,
		 (unsigned long long)e->syscall.args[0],
		 (unsigned long long)e->syscall.args[1],
		 (unsigned long long)e->syscall.args[2],
		 (unsigned long long)e->syscall.args[3],
		 (unsigned long long)e->syscall.args[4],
		 (unsigned long long)e->syscall.args[5],
		 e->syscall.insn, e->syscall.compat,
		 (unsigned long long)(trap ? e->trap.address : e->fault.address),
		 (unsigned long long)(trap ? e->trap.error_code : e->fault.error_code),
		 trap ? e->trap.trap : e->fault.trap,
		 trap ? e->trap.signo : e->fault.signo,
		 trap ? e->trap.si_code : e->fault.si_code);
}

/* Check cond; if false, fail with the last exit dumped.  Returns cond. */
#define CHECK(c, cond, fmt, ...)					\
	({								\
		bool __ok = (cond);					\
		if (!__ok) {						\
			char __d[1024];					\
			dump_exit(c, __d, sizeof(__d));			\
			fail((c)->w, fmt "\n  %s", ##__VA_ARGS__, __d);	\
			(c)->lost = true;				\
		}							\
		__ok;							\
	})

/* The signal each trap vector raises (arch/x86/kernel/traps.c). */
static bool trap_signal_ok(unsigned int trap, int signo)
{
	switch (trap) {
	case 0: case 16: case 19:
		return signo == SIGFPE;
	case 1: case 3:
		return signo == SIGTRAP;
	case 6:
		return signo == SIGILL;
	case 4: case 5: case 10: case 13:
		return signo == SIGSEGV || signo == SIGBUS;
	case 11: case 12: case 17:
		return signo == SIGBUS;
	default:
		return false;
	}
}

/*
 * IOPL, VM, VIF, VIP: no guest can have them (RUN clears them, and popf
 * at CPL 3 cannot set them).  NT it can set itself, with popf.
 */
#define RFLAGS_FORBIDDEN	(0x3000 | 0x20000 | 0x80000 | 0x100000)

/*
 * What every exit must be, whatever the program: consistent with what
 * RUN returned, registers a user-mode program can have, details that
 * agree with the kind.  Counts the exit.
 */
static void check_exit_any(struct ctx *c)
{
	const struct unpriv_run *e = &c->e;
	const struct unpriv_regs *r = &e->regs;
	struct counters *k = &c->w->c;

	if (c->ret == -EINTR) {
		k->exits[EX_INTR]++;
		CHECK(c, e->exit_reason == UNPRIV_EXIT_INTR,
		      "RUN returned EINTR with exit reason %u", e->exit_reason);
		return;
	}
	if (c->ret)
		return;
	CHECK(c, r->cs == UNPRIV_CS_64 || r->cs == UNPRIV_CS_32, "exit with cs %#x", r->cs);
	CHECK(c, r->ss == UNPRIV_DS, "exit with ss %#x", r->ss);
	CHECK(c, (r->rflags & 0x202) == 0x202 && !(r->rflags & RFLAGS_FORBIDDEN),
	      "exit with rflags %#llx", (unsigned long long)r->rflags);

	switch (e->exit_reason) {
	case UNPRIV_EXIT_SYSCALL:
		switch (e->syscall.insn) {
		case UNPRIV_SYSCALL_INSN_SYSCALL:
			k->exits[EX_SYSCALL]++;
			CHECK(c, !e->syscall.compat && r->cs == UNPRIV_CS_64 &&
			      r->rcx == r->rip, "64-bit syscall exit inconsistent");
			break;
		case UNPRIV_SYSCALL_INSN_INT80:
			k->exits[EX_INT80]++;
			CHECK(c, e->syscall.compat == 1, "int $0x80 exit not compat");
			break;
		case UNPRIV_SYSCALL_INSN_FAST32:
			k->exits[EX_FAST32]++;
			CHECK(c, e->syscall.compat == 1 && r->cs == UNPRIV_CS_32,
			      "fast 32-bit syscall exit inconsistent");
			break;
		default:
			CHECK(c, false, "syscall exit with insn %u", e->syscall.insn);
		}
		break;
	case UNPRIV_EXIT_FAULT:
		k->exits[EX_FAULT]++;
		/* SI_USER: the kernel had no memory for the signal's details */
		CHECK(c, e->fault.trap == 14 && (e->fault.error_code & 4) &&
		      ((e->fault.signo == SIGSEGV &&
			(e->fault.si_code == SEGV_MAPERR ||
			 e->fault.si_code == SEGV_ACCERR ||
			 e->fault.si_code == SEGV_PKUERR)) ||
		       (e->fault.signo == SIGBUS && e->fault.si_code == BUS_ADRERR) ||
		       (c->w->s->o.fault_inject && e->fault.si_code == SI_USER &&
			(e->fault.signo == SIGSEGV || e->fault.signo == SIGBUS))),
		      "fault exit inconsistent");
		break;
	case UNPRIV_EXIT_TRAP:
		k->exits[EX_TRAP]++;
		if (e->trap.trap < 32)
			k->traps[e->trap.trap]++;
		CHECK(c, trap_signal_ok(e->trap.trap, e->trap.signo),
		      "trap %u with signal %d", e->trap.trap, e->trap.signo);
		break;
	default:
		CHECK(c, false, "RUN returned 0 with exit reason %u", e->exit_reason);
	}
}

static bool ctx_raced(struct ctx *c)
{
	return atomic_load(&c->vs->killed) ||
	       atomic_load(&c->wd->as_killed[c->as]) ||
	       intruders_now(c->vs) ||
	       atomic_load(&c->vs->intrusions) != c->intrusions;
}

/* Fresh registers for a program at rip: random but for what must not be. */
static void ctx_regs(struct ctx *c, uint64_t rip)
{
	struct rng *r = &c->w->rng;
	struct unpriv_regs *g = &c->vs->run->regs;
	__u64 *gpr = &g->rax;
	int i;

	for (i = 0; i < 16; i++)
		gpr[i] = chance(r, 4) ? rnd(r, 256) : rng_next(r);
	g->rsp = STACK_TOP(c->v);
	g->rip = rip;
	/* arithmetic flags, DF, AC; TF only where the program wants it */
	g->rflags = rng_next(r) & 0x40cd5;
	g->fs_base = rnd(r, 1ULL << 47);
	g->gs_base = chance(r, 2) ? 0 : rnd(r, 1ULL << 47);
	g->cs = UNPRIV_CS_64;
	g->ss = UNPRIV_DS;
	g->ds = chance(r, 2) ? 0 : UNPRIV_DS;
	g->es = chance(r, 2) ? 0 : UNPRIV_DS;
	g->fs = chance(r, 4) ? UNPRIV_DS : 0;
	g->gs = chance(r, 4) ? UNPRIV_DS : 0;
	c->gpr[0] = g->r12;
	c->gpr[1] = g->r13;
	c->gpr[2] = g->r14;
	c->gpr[3] = g->r15;
	c->code_lo = LIB_ADDR;
	c->code_hi = LIB_ADDR + PAGE;
	c->alt_rip = rip;
	c->tf = false;
}

/*
 * Run once.  RUN_EXIT: c->e holds a checked, well-formed exit.
 * RUN_INTR: it stopped for a signal or kick (or a single step): run
 * again.  RUN_LOST: a race made it unknowable, or a check failed: give
 * up the program.
 */
static int ctx_run(struct ctx *c)
{
	struct worker *w = c->w;
	struct unpriv_run *run = c->vs->run;
	bool immediate = chance(&w->rng, 64);
	uint64_t rip = run->regs.rip;

	if (c->lost || atomic_load(&w->s->stop))
		return RUN_LOST;
	if (immediate)
		run->immediate_exit = 1;
	c->ret = guest_run_raw(w, c->vs->fd, c->wd->as[c->as]);
	memcpy(&c->e, run, sizeof(c->e));
	run->immediate_exit = 0;
	c->runs++;
	if (ctx_raced(c)) {
		c->lost = true;
		w->c.unchecked++;
		if (c->ret && c->ret != -EINTR)
			count_error(w, c->op, -c->ret);
		return RUN_LOST;
	}

	check_exit_any(c);
	if (c->ret == -EINTR) {
		if (immediate)
			CHECK(c, c->e.regs.rip == rip,
			      "immediate_exit, but the guest ran from %#llx",
			      (unsigned long long)rip);
		else
			CHECK(c, (c->e.regs.rip >= c->code_lo &&
				  c->e.regs.rip < c->code_hi) ||
			      c->e.regs.rip == c->alt_rip,
			      "interrupted outside the program's code [%#llx, %#llx)",
			      (unsigned long long)c->code_lo,
			      (unsigned long long)c->code_hi);
		return c->lost ? RUN_LOST : RUN_INTR;
	}
	if (immediate)
		CHECK(c, false, "immediate_exit set, but RUN returned %d", c->ret);
	if (c->ret) {
		count_error(w, c->op, -c->ret);
		if (!fault_mode_error(w, -c->ret))
			CHECK(c, false, "RUN failed: %s", strerror(-c->ret));
		c->lost = true;
		return RUN_LOST;
	}
	w->c.checked++;
	if (c->tf && c->e.exit_reason == UNPRIV_EXIT_TRAP && c->e.trap.trap == 1)
		return RUN_INTR;
	CHECK(c, c->any_regs ||
	      (c->e.regs.r12 == c->gpr[0] && c->e.regs.r13 == c->gpr[1] &&
	       c->e.regs.r14 == c->gpr[2] && c->e.regs.r15 == c->gpr[3]),
	      "guest r12-r15 changed");
	return c->lost ? RUN_LOST : RUN_EXIT;
}

/* Run to the next exit that is not an interruption. */
static int ctx_step(struct ctx *c)
{
	uint64_t end = now_ms() + 10000;
	int r;

	do {
		r = ctx_run(c);
		if (r != RUN_INTR)
			return r;
	} while (now_ms() < end);
	/* Signals and kicks came faster than the guest could progress. */
	c->lost = true;
	c->w->c.unchecked++;
	return RUN_LOST;
}

static bool exit_is(struct ctx *c, unsigned int reason)
{
	return c->e.exit_reason == reason;
}

/*
 * A trap's si_code: want, or under --fault-inject SI_USER (0), which is
 * what the kernel gives when it had no memory for the signal's details.
 */
static bool si_code_is(struct ctx *c, int si_code, int want)
{
	return si_code == want || (c->w->s->o.fault_inject && si_code == SI_USER);
}

static bool expect_mark(struct ctx *c, uint64_t mark)
{
	return CHECK(c, exit_is(c, UNPRIV_EXIT_SYSCALL) &&
		     c->e.syscall.nr == mark &&
		     c->e.syscall.insn == UNPRIV_SYSCALL_INSN_SYSCALL,
		     "expected the system call %#llx", (unsigned long long)mark);
}

static bool expect_trap(struct ctx *c, unsigned int trap, uint64_t rip)
{
	return CHECK(c, exit_is(c, UNPRIV_EXIT_TRAP) && c->e.trap.trap == trap &&
		     c->e.regs.rip == rip,
		     "expected trap %u at %#llx", trap, (unsigned long long)rip);
}

/* A fault at an address in [addr, addr + len), with these error code bits. */
static bool expect_fault(struct ctx *c, uint64_t addr, unsigned int len,
			 unsigned int ec_bits)
{
	return CHECK(c, exit_is(c, UNPRIV_EXIT_FAULT) &&
		     c->e.fault.address >= addr && c->e.fault.address - addr < len &&
		     (c->e.fault.error_code & ec_bits) == ec_bits,
		     "expected a fault at %#llx (error code bits %#x)",
		     (unsigned long long)addr, ec_bits);
}

/*
 * Claim-holder prologue.  When something random ran on the vcpu (random
 * code, an intruder, a random FPU image), its FPU state and PKRU may be
 * anything: PKRU may deny the guest its own memory.  lib_reset puts
 * them back first.
 */
static bool ctx_begin(struct ctx *c, struct worker *w, struct world *wd, int v,
		      enum op op, const char *what)
{
	memset(c, 0, sizeof(*c));
	c->w = w;
	c->wd = wd;
	c->vs = &wd->v[v];
	c->v = v;
	c->as = AS_MAIN;
	c->op = op;
	c->intrusions = atomic_load(&c->vs->intrusions);
	if (ctx_raced(c))
		return false;
	c->vs->run->immediate_exit = 0;
	if (atomic_load(&c->vs->dirty)) {
		c->what = "lib_reset";
		ctx_regs(c, w->s->have_pku ? lib_addr[L_RESET] :
			    lib_at(L_RESET, lib_reset_nopku));
		if (ctx_step(c) != RUN_EXIT || !expect_mark(c, MARK))
			return false;
		atomic_store(&c->vs->dirty, false);
	}
	c->what = what;
	return true;
}

/* --- a tiny x86 assembler for chains ------------------------------------------ */

struct code {
	uint8_t b[PAGE];
	size_t len;
	uint64_t base;
};

static void emit(struct code *c, const void *p, size_t n)
{
	memcpy(c->b + c->len, p, n);
	c->len += n;
}

static void e8(struct code *c, uint8_t v) { emit(c, &v, 1); }
static void e16(struct code *c, uint16_t v) { emit(c, &v, 2); }
static void e32(struct code *c, uint32_t v) { emit(c, &v, 4); }
static void e64(struct code *c, uint64_t v) { emit(c, &v, 8); }
static uint64_t here(struct code *c) { return c->base + c->len; }

static void patch32(struct code *c, size_t at, uint64_t v)
{
	uint32_t v32 = (uint32_t)v;

	memcpy(c->b + at, &v32, 4);
}

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11 };

/* movabs $v, %reg (64-bit mode) */
static void mov64(struct code *c, int reg, uint64_t v)
{
	e8(c, reg >= R8 ? 0x49 : 0x48);
	e8(c, 0xb8 + (reg & 7));
	e64(c, v);
}

/* mov $v, %reg32 (32-bit mode) */
static void mov32(struct code *c, int reg, uint32_t v)
{
	e8(c, 0xb8 + reg);
	e32(c, v);
}

/* movabs %rax, addr */
static void store_rax(struct code *c, uint64_t addr)
{
	e8(c, 0x48);
	e8(c, 0xa3);
	e64(c, addr);
}

enum ev_kind { EV_SYSCALL, EV_TRAP, EV_MAYBE_FAULT };

/* One exit a chain expects, and how to go on after it. */
struct event {
	enum ev_kind kind;
	uint64_t nr, args[6];
	unsigned int argmask;	/* which args to compare */
	unsigned int insn;	/* UNPRIV_SYSCALL_INSN_*; FAST32 may be #UD */
	uint64_t rip;		/* rip the exit must have (FAST32: the insn) */
	uint64_t cont;		/* rip to go on at; 0: where it stopped */
	uint64_t value;		/* rax to give back */
	uint64_t slot;		/* where the guest stores rax; 0: nowhere */
	bool slot32;		/* ... zero-extended from 32 bits */
	unsigned int trap;	/* EV_TRAP */
	uint64_t addr;		/* EV_MAYBE_FAULT: what it touches */
	bool write;
};

#define MAX_EVENTS	32

struct chain {
	struct code code;
	struct event ev[MAX_EVENTS];
	int nev;
	int nslots;
	uint64_t slot_base;
};

static uint64_t rval(struct rng *r)
{
	switch (rnd(r, 4)) {
	case 0:
		return rnd(r, 512);
	case 1:
		return -(uint64_t)rnd(r, 4096);
	default:
		return rng_next(r);
	}
}

static struct event *chain_event(struct chain *ch, enum ev_kind kind)
{
	struct event *e = &ch->ev[ch->nev++];

	memset(e, 0, sizeof(*e));
	e->kind = kind;
	return e;
}

static uint64_t chain_slot(struct chain *ch)
{
	return ch->slot_base + 8 * ch->nslots++;
}

static void gadget_syscall64(struct chain *ch, struct rng *r)
{
	static const int regs[6] = { RDI, RSI, RDX, R10, R8, R9 };
	struct code *c = &ch->code;
	struct event *e = chain_event(ch, EV_SYSCALL);
	int i;

	e->nr = chance(r, 2) ? rnd(r, 460) : rng_next(r);
	mov64(c, RAX, e->nr);
	for (i = 0; i < 6; i++) {
		e->args[i] = rval(r);
		mov64(c, regs[i], e->args[i]);
	}
	e->argmask = 0x3f;
	e8(c, 0x0f);
	e8(c, 0x05);
	e->insn = UNPRIV_SYSCALL_INSN_SYSCALL;
	e->rip = here(c);
	e->value = rval(r);
	e->slot = chain_slot(ch);
	store_rax(c, e->slot);
}

/* int $0x80 from 64-bit code: the 32-bit ABI, registers truncated. */
static void gadget_int80_64(struct chain *ch, struct rng *r)
{
	static const int regs[6] = { RBX, RCX, RDX, RSI, RDI, RBP };
	struct code *c = &ch->code;
	struct event *e = chain_event(ch, EV_SYSCALL);
	uint64_t nr = rval(r);
	int i;

	mov64(c, RAX, nr);
	e->nr = (uint32_t)nr;
	for (i = 0; i < 6; i++) {
		uint64_t v = rval(r);

		mov64(c, regs[i], v);
		e->args[i] = (uint32_t)v;
	}
	e->argmask = 0x3f;
	e8(c, 0xcd);
	e8(c, 0x80);
	e->insn = UNPRIV_SYSCALL_INSN_INT80;
	e->rip = here(c);
	e->value = rval(r);
	e->slot = chain_slot(ch);
	store_rax(c, e->slot);
}

/*
 * A far jump into 32-bit compatibility mode (cs 0x23), a system call
 * there by int $0x80, syscall or sysenter, and a far jump back.
 */
static void gadget_compat(struct chain *ch, struct rng *r)
{
	static const int regs[6] = { RBX, RCX, RDX, RSI, RDI, RBP };
	struct code *c = &ch->code;
	struct event *e = chain_event(ch, EV_SYSCALL);
	size_t fix;
	int i;

	/* ljmpl *0(%rip), the far pointer right after (no lret: see NO_FAR_RET) */
	e8(c, 0xff);
	e8(c, 0x2d);
	e32(c, 0);
	fix = c->len;
	e32(c, 0);
	e16(c, UNPRIV_CS_32);
	patch32(c, fix, here(c));

	e->nr = (uint32_t)rval(r);
	mov32(c, RAX, e->nr);
	for (i = 0; i < 6; i++) {
		e->args[i] = (uint32_t)rval(r);
		mov32(c, regs[i], e->args[i]);
	}
	switch (rnd(r, 3)) {
	case 0:
		e8(c, 0xcd);
		e8(c, 0x80);
		e->insn = UNPRIV_SYSCALL_INSN_INT80;
		e->argmask = 0x3f;
		e->rip = here(c);
		break;
	case 1:
		/*
		 * syscall: the hardware takes ecx, so the kernel takes
		 * argument 2 from ebp and argument 6 from the stack.
		 */
		e->rip = here(c);
		e8(c, 0x0f);
		e8(c, 0x05);
		e->insn = UNPRIV_SYSCALL_INSN_FAST32;
		e->args[1] = e->args[5];
		e->argmask = 0x1f;
		e->cont = here(c);
		break;
	default:
		/* sysenter: the stack pointer in ebp, argument 6 on it */
		e8(c, 0x89);
		e8(c, 0xe5);
		e->rip = here(c);
		e8(c, 0x0f);
		e8(c, 0x34);
		e->insn = UNPRIV_SYSCALL_INSN_FAST32;
		e->argmask = 0x1f;
		e->cont = here(c);
		break;
	}

	if (chance(r, 2)) {
		/* ljmp $0x33, $target */
		e8(c, 0xea);
		fix = c->len;
		e32(c, 0);
		e16(c, UNPRIV_CS_64);
	} else {
		/* ljmp *(%esp): the far pointer pushed on the stack */
		e8(c, 0x6a);
		e8(c, UNPRIV_CS_64);
		e8(c, 0x68);
		fix = c->len;
		e32(c, 0);
		e8(c, 0xff);
		e8(c, 0x2c);
		e8(c, 0x24);
	}
	patch32(c, fix, here(c));

	/* mov %eax, %eax: the 32-bit result, zero-extended */
	e8(c, 0x89);
	e8(c, 0xc0);
	e->value = rval(r);
	e->slot = chain_slot(ch);
	e->slot32 = true;
	store_rax(c, e->slot);
}

static void gadget_trap(struct chain *ch, struct rng *r)
{
	struct code *c = &ch->code;
	struct event *e = chain_event(ch, EV_TRAP);

	if (chance(r, 2)) {
		e8(c, 0xcc);
		e->trap = 3;
		e->rip = here(c);
	} else {
		e->rip = here(c);
		e8(c, 0x0f);
		e8(c, 0x0b);
		e->trap = 6;
		e->cont = here(c);
	}
}

/* A load or store in the churn region: it faults or it does not. */
static void gadget_churn(struct chain *ch, struct rng *r)
{
	struct code *c = &ch->code;
	struct event *e = chain_event(ch, EV_MAYBE_FAULT);

	e->addr = CHURN_ADDR + rnd(r, CHURN_PAGES) * PAGE + rnd(r, 512) * 8;
	e->write = chance(r, 2);
	mov64(c, RDI, e->addr);
	e->rip = here(c);
	e8(c, 0x48);
	e8(c, e->write ? 0x89 : 0x8b);	/* mov %rax,(%rdi) / mov (%rdi),%rax */
	e8(c, 0x07);
	e->cont = here(c);
}

static void chain_build(struct chain *ch, struct rng *r, int v, bool start32)
{
	struct code *c = &ch->code;
	struct event *e;
	int i, n = 1 + rnd(r, 12);

	c->len = 0;
	ch->nev = 0;
	ch->nslots = 0;
	c->base = CHAIN_ADDR(v);
	ch->slot_base = SLOT_ADDR(v) + 8 * rnd(r, 64);

	/* Entered in 32-bit mode: ljmp $0x33 to what follows. */
	if (start32) {
		e8(c, 0xea);
		e32(c, (uint32_t)(here(c) + 6));
		e16(c, UNPRIV_CS_64);
	}
	for (i = 0; i < n && ch->nev < MAX_EVENTS - 2 && c->len < PAGE - 256; i++) {
		switch (rnd(r, 10)) {
		case 0: case 1: case 2:
			gadget_syscall64(ch, r);
			break;
		case 3: case 4:
			gadget_int80_64(ch, r);
			break;
		case 5: case 6: case 7:
			gadget_compat(ch, r);
			break;
		case 8:
			gadget_trap(ch, r);
			break;
		default:
			gadget_churn(ch, r);
			break;
		}
		for (int k = chance(r, 4) ? rnd(r, 4) : 0; k; k--)
			e8(c, 0x90);
	}
	e = chain_event(ch, EV_SYSCALL);
	e->nr = MARK;
	mov64(c, RAX, MARK);
	e8(c, 0x0f);
	e8(c, 0x05);
	e->insn = UNPRIV_SYSCALL_INSN_SYSCALL;
	e->rip = here(c);
	e8(c, 0x0f);
	e8(c, 0x0b);
}

/* Is the exit the system call ev expects?  Then set up what follows. */
static bool chain_match_syscall(struct ctx *c, const struct event *ev)
{
	struct unpriv_run *run = c->vs->run;
	const struct unpriv_run *e = &c->e;
	int i;

	if (ev->insn == UNPRIV_SYSCALL_INSN_FAST32 && exit_is(c, UNPRIV_EXIT_TRAP)) {
		/* sysenter on AMD, syscall on Intel: #UD in compat mode */
		if (!expect_trap(c, 6, ev->rip))
			return false;
	} else {
		if (!CHECK(c, exit_is(c, UNPRIV_EXIT_SYSCALL) &&
			   e->syscall.nr == ev->nr && e->syscall.insn == ev->insn &&
			   e->syscall.compat == (ev->insn != UNPRIV_SYSCALL_INSN_SYSCALL),
			   "expected system call %#llx by insn %u",
			   (unsigned long long)ev->nr, ev->insn))
			return false;
		for (i = 0; i < 6; i++)
			if ((ev->argmask & (1 << i)) &&
			    !CHECK(c, e->syscall.args[i] == ev->args[i],
				   "system call argument %d: %#llx expected", i,
				   (unsigned long long)ev->args[i]))
				return false;
		if (ev->insn != UNPRIV_SYSCALL_INSN_FAST32 &&
		    !CHECK(c, e->regs.rip == ev->rip, "expected rip %#llx",
			   (unsigned long long)ev->rip))
			return false;
	}
	run->regs.rax = ev->value;
	if (ev->cont)
		run->regs.rip = ev->cont;
	return true;
}

void run_chain(struct worker *w, struct world *wd, int v)
{
	static __thread struct chain ch;
	struct vslot *vs = &wd->v[v];
	struct rng *r = &w->rng;
	bool start32 = chance(r, 8);
	uint64_t zero[64] = { 0 };
	bool need_run = true;
	struct ctx c;
	int i;

	if (!ctx_begin(&c, w, wd, v, OP_CHAIN, "chain"))
		return;
	chain_build(&ch, r, v, start32);
	if (pwrite(wd->mem, ch.code.b, ch.code.len, CHAIN_OFF(v)) != (ssize_t)ch.code.len ||
	    pwrite(wd->mem, zero, sizeof(zero),
		   SLOT_OFF(v) + (ch.slot_base - SLOT_ADDR(v))) != sizeof(zero)) {
		fail(w, "cannot write the chain: %s", strerror(errno));
		return;
	}

	ctx_regs(&c, ch.code.base);
	c.code_lo = ch.code.base;
	c.code_hi = ch.code.base + ch.code.len;
	if (start32)
		vs->run->regs.cs = UNPRIV_CS_32;
	if (chance(r, 8)) {
		vs->run->regs.rflags |= 0x100;
		c.tf = true;
	}

	for (i = 0; i < ch.nev; i++) {
		const struct event *ev = &ch.ev[i];

		if (need_run && ctx_step(&c) != RUN_EXIT)
			return;
		need_run = true;
		switch (ev->kind) {
		case EV_MAYBE_FAULT:
			if (!exit_is(&c, UNPRIV_EXIT_FAULT) || c.e.regs.rip != ev->rip) {
				/* it did not fault: the exit is a later event's */
				need_run = false;
				break;
			}
			if (!expect_fault(&c, ev->addr, 8, ev->write ? 6 : 4))
				return;
			vs->run->regs.rip = ev->cont;
			break;
		case EV_TRAP:
			if (!expect_trap(&c, ev->trap, ev->rip))
				return;
			if (ev->cont)
				vs->run->regs.rip = ev->cont;
			break;
		case EV_SYSCALL:
			if (!chain_match_syscall(&c, ev))
				return;
			break;
		}
	}

	/* Every result given back reached the guest, whole. */
	for (i = 0; i < ch.nev; i++) {
		const struct event *ev = &ch.ev[i];
		uint64_t got = 0, want;

		if (!ev->slot)
			continue;
		want = ev->slot32 ? (uint32_t)ev->value : ev->value;
		if (pread(wd->mem, &got, 8, SLOT_OFF(v) + (ev->slot - SLOT_ADDR(v))) != 8)
			got = ~want;
		if (ctx_raced(&c))
			return;
		if (!CHECK(&c, got == want,
			   "the guest stored %#llx for system call %d of the chain, not %#llx",
			   (unsigned long long)got, i, (unsigned long long)want))
			return;
	}
}

/* --- single programs ------------------------------------------------------- */

static uint64_t user_addr_max(void)
{
	return 1ULL << 47;
}

enum target {
	T_SLOT, T_CODE, T_RO, T_NONE, T_HOLE, T_NULL, T_CHURN, T_KERNEL,
	T_NONCANON, T_VSYSCALL, T_TOP, T_CROSS, T_NR
};

/*
 * A load, store or jump at an address of one kind; what must happen is
 * known for each, but for the churn region, which another thread may be
 * changing.
 */
void run_memory(struct worker *w, struct world *wd, int v)
{
	struct rng *r = &w->rng;
	struct vslot *vs = &wd->v[v];
	struct unpriv_regs *g;
	enum target t = rnd(r, T_NR);
	int how = rnd(r, 3);		/* load, store, exec */
	uint64_t addr = 0, value = rng_next(r);
	bool ok = false;		/* the access succeeds */
	bool gp = false;		/* it is a #GP, not a #PF */
	unsigned int ec;
	struct ctx c;

	if (!ctx_begin(&c, w, wd, v, OP_MEMORY, "memory"))
		return;

	switch (t) {
	case T_SLOT:
		addr = SLOT_ADDR(v) + 2048 + rnd(r, 256) * 8;
		ok = how != 2;
		if (pwrite(wd->mem, &value, 8, SLOT_OFF(v) + (addr - SLOT_ADDR(v))) != 8)
			return;
		break;
	case T_CODE:
		addr = how == 2 ? lib_addr[L_SYS] : LIB_ADDR + rnd(r, PAGE / 8) * 8;
		ok = how != 1;
		break;
	case T_RO:
		addr = RO_ADDR + rnd(r, PAGE / 8) * 8;
		ok = how == 0;
		break;
	case T_NONE:
		addr = NONE_ADDR + rnd(r, PAGE / 8) * 8;
		break;
	case T_HOLE:
		addr = HOLE_ADDR + rnd(r, 0x100000) * 8;
		break;
	case T_NULL:
		addr = rnd(r, PAGE / 8) * 8;
		break;
	case T_CHURN:
		if (how == 2)	/* runs what is there: wild space only */
			how = 0;
		addr = CHURN_ADDR + rnd(r, CHURN_PAGES * PAGE / 8) * 8;
		break;
	case T_KERNEL:
		addr = 0xffffffff81000000ULL + rnd(r, 1 << 20) * 8;
		break;
	case T_NONCANON:
		addr = 0x8000000000000000ULL + rnd(r, 1ULL << 40) * 8;
		gp = true;
		break;
	case T_VSYSCALL:
		addr = 0xffffffffff600000ULL + rnd(r, 3) * 0x400;
		break;
	case T_TOP:
		addr = user_addr_max() - PAGE + rnd(r, PAGE / 8) * 8;
		break;
	case T_CROSS:
		/* 4 bytes in the last data page, 4 in the hole after it */
		addr = SLOT_ADDR(VCPUS - 1) + PAGE - 4;
		break;
	default:
		return;
	}

	ctx_regs(&c, lib_addr[how == 0 ? L_LOAD : how == 1 ? L_STORE : L_EXEC]);
	g = &vs->run->regs;
	g->rdi = addr;
	g->rsi = value;
	if (how == 2) {
		c.alt_rip = addr;
		g->rax = 0x1234;	/* what lib_sys makes */
	}
	if (ctx_step(&c) != RUN_EXIT)
		return;

	if (t == T_CHURN)
		ok = exit_is(&c, UNPRIV_EXIT_SYSCALL);
	if (ok) {
		if (how == 2) {
			CHECK(&c, exit_is(&c, UNPRIV_EXIT_SYSCALL) &&
			      c.e.syscall.nr == 0x1234 &&
			      c.e.regs.rip == lib_addr[L_SYS] + 2,
			      "a jump to lib_sys did not make its system call");
			return;
		}
		if (!expect_mark(&c, MARK))
			return;
		if (t == T_SLOT && how == 0)
			CHECK(&c, c.e.regs.rbx == value, "loaded %#llx, not %#llx",
			      (unsigned long long)c.e.regs.rbx,
			      (unsigned long long)value);
		if (t == T_SLOT && how == 1) {
			uint64_t got = 0;

			if (pread(wd->mem, &got, 8, SLOT_OFF(v) + (addr - SLOT_ADDR(v))) == 8 &&
			    !ctx_raced(&c))
				CHECK(&c, got == value, "stored %#llx, memory has %#llx",
				      (unsigned long long)value,
				      (unsigned long long)got);
		}
		return;
	}
	if (gp) {
		CHECK(&c, exit_is(&c, UNPRIV_EXIT_TRAP) && c.e.trap.trap == 13,
		      "a non-canonical address: expected #GP");
		return;
	}
	ec = 4 | (how == 1 ? 2 : 0) | (how == 2 ? 0x10 : 0);
	if (t == T_CROSS)
		expect_fault(&c, addr, 8, ec);
	else
		expect_fault(&c, addr, 1, ec);
}

/* int3, ud2, #DE, #GP from hlt, and single steps with TF. */
void run_trap(struct worker *w, struct world *wd, int v)
{
	struct rng *r = &w->rng;
	struct vslot *vs = &wd->v[v];
	bool compat = chance(r, 4);
	struct ctx c;
	int i;

	if (!ctx_begin(&c, w, wd, v, OP_TRAP, "trap"))
		return;

	switch (rnd(r, 5)) {
	case 0:
		c.what = "int3";
		ctx_regs(&c, lib_addr[L_INT3]);
		if (ctx_step(&c) != RUN_EXIT ||
		    !expect_trap(&c, 3, lib_addr[L_INT3] + 1) ||
		    !CHECK(&c, c.e.trap.signo == SIGTRAP, "int3 without SIGTRAP"))
			return;
		/* it goes on after the int3 */
		if (ctx_step(&c) == RUN_EXIT)
			expect_mark(&c, MARK);
		return;
	case 1:
		c.what = "ud2";
		ctx_regs(&c, lib_addr[L_UD2]);
		if (compat)
			vs->run->regs.cs = UNPRIV_CS_32;
		if (ctx_step(&c) == RUN_EXIT)
			expect_trap(&c, 6, lib_addr[L_UD2]);
		return;
	case 2:
		c.what = "div0";
		ctx_regs(&c, lib_addr[L_DIV0]);
		if (compat)
			vs->run->regs.cs = UNPRIV_CS_32;
		if (ctx_step(&c) == RUN_EXIT)
			CHECK(&c, exit_is(&c, UNPRIV_EXIT_TRAP) && c.e.trap.trap == 0 &&
			      c.e.trap.signo == SIGFPE &&
			      si_code_is(&c, c.e.trap.si_code, FPE_INTDIV),
			      "expected a divide error");
		return;
	case 3:
		c.what = "hlt";
		ctx_regs(&c, lib_addr[L_HLT]);
		if (compat)
			vs->run->regs.cs = UNPRIV_CS_32;
		if (ctx_step(&c) == RUN_EXIT)
			expect_trap(&c, 13, lib_addr[L_HLT]);
		return;
	default:
		break;
	}

	/* TF: a debug trap after each instruction, with DR6.BS */
	static const unsigned int steps[] = { 1, 2, 3, 4, 9 };

	c.what = "step";
	ctx_regs(&c, lib_addr[L_STEP]);
	vs->run->regs.rflags |= 0x100;
	for (i = 0; i < 5; i++) {
		if (ctx_step(&c) != RUN_EXIT ||
		    !expect_trap(&c, 1, lib_addr[L_STEP] + steps[i]) ||
		    !CHECK(&c, (c.e.trap.dr6 & 0x4000) &&
			   si_code_is(&c, c.e.trap.si_code, TRAP_TRACE),
			   "single step without DR6.BS or TRAP_TRACE"))
			return;
	}
	if (ctx_step(&c) == RUN_EXIT)
		expect_mark(&c, MARK);
}

/* A loop long enough to be interrupted: the result must be exact. */
void run_compute(struct worker *w, struct world *wd, int v)
{
	struct rng *r = &w->rng;
	struct unpriv_regs *g;
	uint64_t x, n, sum, add, i;
	struct ctx c;

	if (!ctx_begin(&c, w, wd, v, OP_COMPUTE, "compute"))
		return;
	ctx_regs(&c, lib_addr[L_COMPUTE]);
	g = &wd->v[v].run->regs;
	n = 1 + rnd(r, 200000);
	x = rng_next(r) | 1;
	sum = rng_next(r);
	add = rng_next(r);
	g->rcx = n;
	g->rdi = x;
	g->rdx = sum;
	g->rsi = add;
	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		sum += add;
	}
	if (ctx_step(&c) != RUN_EXIT || !expect_mark(&c, MARK))
		return;
	CHECK(&c, c.e.regs.rdi == x && c.e.regs.rsi == sum,
	      "computed %#llx and %#llx over %llu runs, not %#llx and %#llx",
	      (unsigned long long)c.e.regs.rdi, (unsigned long long)c.e.regs.rsi,
	      (unsigned long long)c.runs, (unsigned long long)x,
	      (unsigned long long)sum);
}

/* --- FPU images --------------------------------------------------------------- */

#define FX_MXCSR	24
#define FX_XMM(n)	(160 + 16 * (n))
#define XS_XFEATURES	512

int fpu_io(struct worker *w, int vcpu, unsigned long cmd, void *buf, uint32_t size)
{
	struct unpriv_fpu f = { .buf = (uintptr_t)buf, .size = size };

	return (int)mod_ioctl(w, vcpu, cmd, (unsigned long)&f);
}

/* MXCSR values SET_FPU takes: masks, rounding, FZ, DAZ; flags too. */
static uint32_t random_mxcsr(struct rng *r)
{
	return (uint32_t)rng_next(r) & 0xffbf;
}

/*
 * The FPU image SET_FPU loads is the one the guest sees: xmm0, xmm1,
 * xmm15 and MXCSR, read in the guest; then GET_FPU gives them back.
 */
static void state_fpu(struct ctx *c)
{
	struct worker *w = c->w;
	struct rng *r = &w->rng;
	int size = w->s->fpu_size;
	unsigned char img[8192], back[8192];
	uint64_t xmm0, xmm1, xmm15, xf;
	uint32_t mxcsr = random_mxcsr(r);
	int ret;

	if (size <= 0 || size > (int)sizeof(img))
		return;
	ret = fpu_io(w, c->vs->fd, UNPRIV_GET_FPU, img, size);
	if (ret) {
		if (!ctx_raced(c) && !fault_mode_error(w, -ret))
			fail(w, "GET_FPU: %s", strerror(-ret));
		count_error(w, OP_STATE, -ret);
		return;
	}
	xmm0 = rng_next(r);
	xmm1 = rng_next(r);
	xmm15 = rng_next(r);
	memcpy(img + FX_XMM(0), &xmm0, 8);
	memcpy(img + FX_XMM(1), &xmm1, 8);
	memcpy(img + FX_XMM(15), &xmm15, 8);
	memcpy(img + FX_MXCSR, &mxcsr, 4);
	memcpy(&xf, img + XS_XFEATURES, 8);
	xf |= 3;	/* FP and SSE are in the image */
	memcpy(img + XS_XFEATURES, &xf, 8);
	ret = fpu_io(w, c->vs->fd, UNPRIV_SET_FPU, img, size);
	if (ret) {
		if (!ctx_raced(c) && !fault_mode_error(w, -ret))
			fail(w, "SET_FPU of a valid image: %s", strerror(-ret));
		count_error(w, OP_STATE, -ret);
		return;
	}
	/* an unmasked exception would fire in a later program: reset after */
	atomic_store(&c->vs->dirty, true);

	ret = fpu_io(w, c->vs->fd, UNPRIV_GET_FPU, back, size);
	if (ret) {
		if (!ctx_raced(c) && !fault_mode_error(w, -ret))
			fail(w, "GET_FPU: %s", strerror(-ret));
		count_error(w, OP_STATE, -ret);
		return;
	}
	if (ctx_raced(c))
		return;
	CHECK(c, !memcmp(back + FX_XMM(0), img + FX_XMM(0), 16 * 16) &&
	      !memcmp(back + FX_MXCSR, img + FX_MXCSR, 4),
	      "GET_FPU after SET_FPU: xmm or MXCSR differ");

	ctx_regs(c, lib_addr[L_FPU]);
	if (ctx_step(c) != RUN_EXIT || !expect_mark(c, MARK))
		return;
	CHECK(c, c->e.regs.rdi == xmm0 && c->e.regs.rsi == xmm1 &&
	      c->e.regs.rdx == xmm15 && (uint32_t)c->e.regs.r10 == mxcsr,
	      "the guest sees xmm0 %#llx xmm1 %#llx xmm15 %#llx mxcsr %#x, SET_FPU gave %#llx %#llx %#llx %#x",
	      (unsigned long long)c->e.regs.rdi, (unsigned long long)c->e.regs.rsi,
	      (unsigned long long)c->e.regs.rdx, (uint32_t)c->e.regs.r10,
	      (unsigned long long)xmm0, (unsigned long long)xmm1,
	      (unsigned long long)xmm15, mxcsr);
}

/* FS and GS base and DS the guest set itself survive an exit. */
static void state_segs(struct ctx *c)
{
	struct rng *r = &c->w->rng;
	struct unpriv_regs *g = &c->vs->run->regs;
	uint64_t fsb = rnd(r, user_addr_max()), gsb = rnd(r, user_addr_max());
	uint16_t ds = chance(r, 2) ? 0 : UNPRIV_DS;

	ctx_regs(c, lib_addr[L_SEGS]);
	g->rdi = fsb;
	g->rsi = gsb;
	g->rdx = ds;
	if (ctx_step(c) != RUN_EXIT || !expect_mark(c, MARK))
		return;
	if (!CHECK(c, c->e.regs.fs_base == fsb && c->e.regs.gs_base == gsb &&
		   c->e.regs.ds == ds,
		   "the exit has FS base %#llx GS base %#llx DS %#x, the guest set %#llx %#llx %#x",
		   (unsigned long long)c->e.regs.fs_base,
		   (unsigned long long)c->e.regs.gs_base, c->e.regs.ds,
		   (unsigned long long)fsb, (unsigned long long)gsb, ds))
		return;
	if (ctx_step(c) != RUN_EXIT || !expect_mark(c, MARK2))
		return;
	CHECK(c, c->e.regs.rdi == fsb && c->e.regs.rsi == gsb && c->e.regs.rdx == ds,
	      "after an exit the guest reads FS base %#llx GS base %#llx DS %#llx",
	      (unsigned long long)c->e.regs.rdi, (unsigned long long)c->e.regs.rsi,
	      (unsigned long long)c->e.regs.rdx);
}

/* PKRU the guest set itself survives an exit; the host's is its own. */
static void state_pkru(struct ctx *c)
{
	uint32_t pkru = (uint32_t)rng_next(&c->w->rng);

	ctx_regs(c, lib_addr[L_PKRU]);
	c->vs->run->regs.rdi = pkru;
	atomic_store(&c->vs->dirty, true);
	if (ctx_step(c) != RUN_EXIT || !expect_mark(c, MARK))
		return;
	if (ctx_step(c) != RUN_EXIT || !expect_mark(c, MARK2))
		return;
	atomic_store(&c->vs->dirty, false);
	CHECK(c, (uint32_t)c->e.regs.rdi == pkru,
	      "the guest set PKRU %#x, and after an exit has %#x", pkru,
	      (uint32_t)c->e.regs.rdi);
}

void run_state(struct worker *w, struct world *wd, int v)
{
	struct ctx c;

	if (!ctx_begin(&c, w, wd, v, OP_STATE, "state"))
		return;
	switch (rnd(&w->rng, 3)) {
	case 0:
		c.what = "fpu image";
		state_fpu(&c);
		break;
	case 1:
		c.what = "segments";
		if (w->s->have_fsgsbase)
			state_segs(&c);
		break;
	default:
		c.what = "pkru";
		if (w->s->have_pku)
			state_pkru(&c);
		break;
	}
}

/*
 * Loads or stores over part of the churn region while other threads map,
 * unmap and protect it: each fault must be at the address the guest
 * touched; the program is moved past it.
 */
void run_touch(struct worker *w, struct world *wd, int v)
{
	struct rng *r = &w->rng;
	struct unpriv_regs *g = &wd->v[v].run->regs;
	uint64_t first = rnd(r, CHURN_PAGES);
	uint64_t end = CHURN_ADDR + (first + 1 + rnd(r, CHURN_PAGES - first)) * PAGE;
	bool write = chance(r, 2);
	struct ctx c;
	int i;

	if (!ctx_begin(&c, w, wd, v, OP_TOUCH, "touch"))
		return;
	ctx_regs(&c, lib_addr[L_TOUCH]);
	g->rdi = CHURN_ADDR + first * PAGE + rnd(r, 512) * 8;
	g->rsi = end;
	g->rdx = write;
	for (i = 0; i <= CHURN_PAGES; i++) {
		if (ctx_step(&c) != RUN_EXIT)
			return;
		if (exit_is(&c, UNPRIV_EXIT_SYSCALL)) {
			expect_mark(&c, MARK);
			CHECK(&c, c.e.regs.rdi >= end, "the loop ended early");
			return;
		}
		if (!expect_fault(&c, c.e.regs.rdi, 1, write ? 6 : 4) ||
		    !CHECK(&c, c.e.regs.rdi >= CHURN_ADDR && c.e.regs.rdi < end,
			   "a fault outside the loop's range"))
			return;
		g->rip = lib_at(L_TOUCH, lib_touch_next);
	}
	CHECK(&c, false, "more faults than pages");
}

/* --- random code, in the wild space --------------------------------------------- */

/* Byte sequences random code should meet more often than by chance. */
static const struct {
	uint8_t len, b[8];
} spice[] = {
	{ 2, { 0x0f, 0x05 } },			/* syscall */
	{ 2, { 0xcd, 0x80 } },			/* int $0x80 */
	{ 2, { 0x0f, 0x34 } },			/* sysenter */
	{ 1, { 0xcc } },			/* int3 */
	{ 2, { 0x0f, 0x0b } },			/* ud2 */
	{ 1, { 0xf1 } },			/* int1 */
	{ 2, { 0xcd, 0x03 } },			/* int $3 */
	{ 2, { 0xcd, 0x04 } },			/* int $4 */
	{ 1, { 0xce } },			/* into */
	{ 1, { 0xf4 } },			/* hlt */
	{ 1, { 0xfa } },			/* cli */
	{ 1, { 0x9d } },			/* popf */
	{ 3, { 0x0f, 0x01, 0xef } },		/* wrpkru */
	{ 3, { 0x0f, 0x01, 0xf9 } },		/* rdtscp */
	{ 3, { 0x0f, 0x01, 0xd0 } },		/* xgetbv */
	{ 5, { 0xf3, 0x48, 0x0f, 0xae, 0xd7 } },	/* wrfsbase %rdi */
	{ 5, { 0xf3, 0x48, 0x0f, 0xae, 0xde } },	/* wrgsbase %rsi */
	{ 2, { 0x8e, 0xd8 } },			/* mov %eax, %ds */
	{ 2, { 0x8e, 0xe0 } },			/* mov %eax, %fs */
	{ 2, { 0x8e, 0xe8 } },			/* mov %eax, %gs */
	{ 2, { 0x8e, 0xd0 } },			/* mov %eax, %ss */
	{ 4, { 0x66, 0xb8, 0x2b, 0x00 } },	/* mov $0x2b, %ax */
	{ 4, { 0x66, 0xb8, 0x23, 0x00 } },	/* mov $0x23, %ax */
	{ 4, { 0x66, 0xb8, 0x33, 0x00 } },	/* mov $0x33, %ax */
	{ 4, { 0x66, 0xb8, 0x63, 0x00 } },	/* mov $0x63, %ax: TLS */
	{ 2, { 0xff, 0x2f } },			/* ljmp *(%rdi) */
	{ 2, { 0xec, 0xe4 } },			/* in %dx, %al; in $.. */
	{ 2, { 0x0f, 0x00 } },			/* sldt/str/lldt... */
	{ 2, { 0x0f, 0xa2 } },			/* cpuid */
	{ 2, { 0x0f, 0x31 } },			/* rdtsc */
	{ 3, { 0x0f, 0xae, 0x10 } },		/* ldmxcsr (%rax) */
	{ 2, { 0xd9, 0x28 } },			/* fldcw (%rax) */
	{ 2, { 0xdf, 0xf9 } },			/* fdivrp-ish x87 */
	{ 2, { 0xeb, 0xfe } },			/* jmp . */
	{ 3, { 0x0f, 0x01, 0xc8 } },		/* monitor */
	{ 3, { 0x0f, 0x0d, 0x00 } },		/* prefetch */
};

/*
 * NO_FAR_RET: QEMU 7.2's software emulation makes the stack accesses of
 * a far return, far call or iret supervisor accesses; with SMAP on, the
 * kernel takes one from user mode for a kernel bug and oopses the task,
 * guest mode or not (a plain lretq in a normal program does it).  Guest
 * code here has none: lret, lret $n, iret, lcall ptr (32-bit) and
 * lcall *mem are rewritten wherever their opcode could start.
 */
static bool no_far_ret(uint8_t *b, size_t len)
{
	bool changed = false;
	size_t i;

	for (i = 0; i < len; i++) {
		switch (b[i]) {
		case 0xca: case 0xcb: case 0xcf: case 0x9a:
			b[i] = 0x90;
			changed = true;
			break;
		case 0xff:
			/* lcall *mem is ff /3: make it call *mem, ff /2 */
			if (i + 1 < len && ((b[i + 1] >> 3) & 7) == 3) {
				b[i + 1] &= ~0x08;
				changed = true;
			}
			break;
		}
	}
	return changed;
}

/*
 * NO_QEMU_VEX_CRASH: QEMU 7.2's software emulation aborts or crashes on
 * a few VEX encodings the CPU refuses with #UD.  Found by running every
 * opcode of every VEX map, pp and L in the test VM (register operands):
 *   map 0f, c4 (VPINSRW) with pp 00, the MMX form: an assertion in
 *   gen_pinsr, whatever VEX.L;
 *   map 0f38, 0c (VPERMILPS) with pp 00: a segfault;
 *   map 0f3a, 0a and 0b (VROUNDSS/SD) with VEX.L set: an assertion.
 * Random code gets pp 01 (66) in those and VEX.L cleared in the last.
 * That can make another VEX prefix of a byte (c4 becomes c5): see
 * scrub().
 */
static bool vex_fix(uint8_t *p, unsigned int map, uint8_t op)
{
	uint8_t was = *p;

	if ((*p & 3) == 0 && ((map == 1 && op == 0xc4) || (map == 2 && op == 0x0c)))
		*p |= 1;
	if (map == 3 && (op == 0x0a || op == 0x0b))
		*p &= ~0x04;
	return *p != was;
}

static bool no_qemu_vex_crash(uint8_t *b, size_t len)
{
	bool changed = false;
	size_t i;

	for (i = 0; i + 2 < len; i++) {
		/* c5 RvvvvLpp op; c4 RXBmmmmm WvvvvLpp op */
		if (b[i] == 0xc5)
			changed |= vex_fix(&b[i + 1], 1, b[i + 2]);
		else if (b[i] == 0xc4 && i + 3 < len)
			changed |= vex_fix(&b[i + 2], b[i + 1] & 0x1f, b[i + 3]);
	}
	return changed;
}

/*
 * Both, until neither changes anything: a fix of one kind can make one
 * of the other (clearing VEX.L makes cb of cf, and a far return's nop
 * can be a VEX pp byte of 00), or of its own.  Each byte changes a few
 * times at most: pp 00 becomes 01, L is cleared, a far return becomes
 * 90, a modrm loses bit 3; none of it is undone but 90's bit 0.
 */
static void scrub(uint8_t *b, size_t len)
{
	bool changed;

	do {
		changed = no_qemu_vex_crash(b, len);
		changed |= no_far_ret(b, len);
	} while (changed);
}

static void random_code(struct rng *r, uint8_t *b)
{
	size_t i;

	for (i = 0; i < PAGE; i += 8) {
		uint64_t x = rng_next(r);

		memcpy(b + i, &x, 8);
	}
	for (i = rnd(r, 64); i; i--) {
		unsigned int k = rnd(r, sizeof(spice) / sizeof(spice[0]));
		size_t at = rnd(r, PAGE - 8);

		memcpy(b + at, spice[k].b, spice[k].len);
	}
	scrub(b, PAGE);
}

/*
 * What scrub() must leave none of, said again from the rules, not from
 * its code: the offset of the first, or -1.
 */
static long unscrubbed(const uint8_t *b, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned int map, pp, l, op;

		if (b[i] == 0xca || b[i] == 0xcb || b[i] == 0xcf || b[i] == 0x9a ||
		    (b[i] == 0xff && i + 1 < len && ((b[i + 1] >> 3) & 7) == 3))
			return i;
		if (b[i] == 0xc5 && i + 2 < len) {
			map = 1, pp = b[i + 1] & 3, l = b[i + 1] & 4, op = b[i + 2];
		} else if (b[i] == 0xc4 && i + 3 < len) {
			map = b[i + 1] & 0x1f, pp = b[i + 2] & 3, l = b[i + 2] & 4;
			op = b[i + 3];
		} else {
			continue;
		}
		if ((map == 1 && op == 0xc4 && !pp) || (map == 2 && op == 0x0c && !pp) ||
		    (map == 3 && (op == 0x0a || op == 0x0b) && l))
			return i;
	}
	return -1;
}

/*
 * unpriv-stress --self-test: what the tool's own code must hold, checked
 * on any machine, with no module (make check runs it on the host).
 * KTAP, with a kselftest "# Totals:" line.
 */
int guest_self_test(void)
{
	static const uint8_t hot[] = {
		0xc4, 0xc5, 0xc6, 0xc8, 0xcc, 0xce, 0xcf, 0xcb, 0x90, 0x9a, 0xff,
		0x18, 0x0a, 0x0b, 0x0c, 0xe1, 0xe2, 0xe3, 0x70, 0x74, 0x78,
	};
	static uint8_t b[PAGE];
	struct rng r;
	long at = -1;
	int i, pass = 0, fail = 0;

	printf("TAP version 13\n1..3\n");
#define RESULT(ok, what) do {						\
		if (ok)							\
			pass++;						\
		else							\
			fail++;						\
		printf("%s %d %s\n", (ok) ? "ok" : "not ok", pass + fail, what); \
	} while (0)

	RESULT(guest_lib_init() == 0, "the guest library needs no scrubbing");

	/* random code as the stress makes it */
	rng_seed(&r, 1);
	for (i = 0; i < 2000 && at < 0; i++) {
		random_code(&r, b);
		at = unscrubbed(b, PAGE);
	}
	if (at >= 0)
		printf("# page %d, offset %ld: %02x %02x %02x\n", i - 1, at,
		       b[at], b[(at + 1) % PAGE], b[(at + 2) % PAGE]);
	RESULT(at < 0, "random code has no encoding QEMU dies on, no far return");

	/* short runs of the bytes the rules turn on, where fixes meet */
	at = -1;
	for (i = 0; i < 200000 && at < 0; i++) {
		size_t j, len = 4 + rnd(&r, 60);

		for (j = 0; j < len; j++)
			b[j] = chance(&r, 4) ? (uint8_t)rng_next(&r) :
					       hot[rnd(&r, sizeof(hot))];
		scrub(b, len);
		at = unscrubbed(b, len);
	}
	if (at >= 0)
		printf("# run %d, offset %ld\n", i - 1, at);
	RESULT(at < 0, "scrubbing ends with nothing left to scrub");
#undef RESULT
	printf("# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:0 error:0\n", pass, fail);
	return fail ? 1 : 0;
}

/*
 * Must the next RUN take the registers an exit left?  Not when the guest
 * jumped to a kernel address (the fault leaves rip there), nor with an
 * FS or GS base outside user space (ptrace refuses those too; guest
 * code sets them with wrfsbase, and QEMU's does not even check that
 * they are canonical), nor with a selector from the host thread's TLS
 * entries.  The selectors of the GDT's user segments it must take.
 */
static bool regs_enterable(const struct unpriv_regs *g)
{
	static const uint16_t sel[] = {
		0, UNPRIV_DS, UNPRIV_CS_32, UNPRIV_CS_64,
	};
	const uint16_t *s[4] = { &g->ds, &g->es, &g->fs, &g->gs };
	int i, j;

	if (g->rip >= user_addr_max() || g->rsp >= user_addr_max() ||
	    g->fs_base >= user_addr_max() || g->gs_base >= user_addr_max())
		return false;
	for (i = 0; i < 4; i++) {
		for (j = 0; j < 4; j++)
			if (*s[i] == sel[j])
				break;
		if (j == 4)
			return false;
	}
	return true;
}

void run_random(struct worker *w, struct world *wd, int v)
{
	static __thread uint8_t code[PAGE];
	struct rng *r = &w->rng;
	struct vslot *vs = &wd->v[v];
	struct unpriv_regs *g = &vs->run->regs;
	__u64 *gpr = &g->rax;
	bool compat = chance(r, 4);
	unsigned int slot = (vs->random_slot + 1) % RANDOM_SLOTS;
	int i, n = 1 + rnd(r, 20);
	struct ctx c;

	if (!ctx_begin(&c, w, wd, v, OP_RANDOM, "random"))
		return;
	c.as = AS_WILD;
	c.any_regs = true;
	atomic_store(&vs->dirty, true);
	/*
	 * Into a page no space maps, then mapped in place of the last one:
	 * intruders, children and other vcpus' random code may be running
	 * that one, and must never see half of each (a torn page is not
	 * scrubbed; see no_qemu_vex_crash()).
	 */
	random_code(r, code);
	if (pwrite(wd->mem, code, PAGE, RANDOM_OFF(v, slot)) != PAGE)
		return;
	c.ret = world_map_random(w, wd, v, slot);
	if (c.ret) {
		count_error(w, OP_RANDOM, -c.ret);
		if (!(atomic_load(&wd->as_killed[AS_WILD]) && c.ret == -ENOTTY) &&
		    !fault_mode_error(w, -c.ret))
			fail(w, "UNPRIV_AS_MAP of a random-code page: %s", strerror(-c.ret));
		return;
	}
	vs->random_slot = slot;

	for (i = 0; i < 16; i++)
		gpr[i] = chance(r, 2) ? RANDOM_ADDR(v) + rnd(r, PAGE) :
			 chance(r, 2) ? rnd(r, 1 << 24) : rng_next(r);
	g->rsp = chance(r, 4) ? rnd(r, 1ULL << 32) : STACK_TOP(v) - rnd(r, 256) * 8;
	g->rip = RANDOM_ADDR(v) + rnd(r, PAGE);
	g->rflags = rng_next(r) & 0x40dd5;
	g->cs = compat ? UNPRIV_CS_32 : UNPRIV_CS_64;
	g->ss = UNPRIV_DS;
	g->ds = g->es = g->fs = g->gs = 0;
	if (chance(r, 2))
		g->ds = g->es = UNPRIV_DS;
	g->fs_base = rnd(r, user_addr_max());
	g->gs_base = rnd(r, user_addr_max());
	if (compat)
		g->rsp &= 0xffffffff;

	for (i = 0; i < n; i++) {
		bool enterable = regs_enterable(g);

		c.code_lo = 0;
		c.code_hi = ~0ULL;
		if (!enterable) {
			/* RUN refuses it, or takes it; either is right */
			c.ret = guest_run_raw(w, vs->fd, wd->as[AS_WILD]);
			if (c.ret && c.ret != -EINVAL && c.ret != -EINTR &&
			    !ctx_raced(&c))
				CHECK(&c, false, "RUN of a refusable state: %s",
				      strerror(-c.ret));
			if (c.ret)
				count_error(w, OP_RANDOM, -c.ret);
			memcpy(&c.e, vs->run, sizeof(c.e));
			if (c.ret)
				c.e.exit_reason = UNPRIV_EXIT_NONE;
			else
				check_exit_any(&c);
		} else if (ctx_run(&c) == RUN_LOST) {
			return;	/* a spinning guest's INTR is an exit here */
		}
		if (exit_is(&c, UNPRIV_EXIT_SYSCALL))
			g->rax = rng_next(r);
		/* the same place would fault again: somewhere else */
		if (!exit_is(&c, UNPRIV_EXIT_SYSCALL) ||
		    c.e.syscall.insn == UNPRIV_SYSCALL_INSN_FAST32 || !enterable) {
			g->rip = RANDOM_ADDR(v) + rnd(r, PAGE);
			if (!regs_enterable(g)) {
				g->ds = g->es = g->fs = g->gs = 0;
				g->rsp = STACK_TOP(v);
				g->fs_base &= user_addr_max() - 1;
				g->gs_base &= user_addr_max() - 1;
			}
		}
	}
}

/*
 * RUN of a vcpu this thread has not claimed, in the wild space: it may
 * be running on another thread (EBUSY), or idle between its owner's
 * runs, whose checks then know to skip.
 */
void run_intrude(struct worker *w, struct world *wd, int v)
{
	struct vslot *vs = &wd->v[v];
	int ret;

	intruder_enter(vs, wd->generation);
	atomic_store(&vs->dirty, true);
	ret = guest_run_raw(w, vs->fd, wd->as[AS_WILD]);
	intruder_leave(vs, wd->generation);
	if (ret == -EINTR || !ret) {
		w->c.unchecked++;
		return;
	}
	count_error(w, OP_INTRUDE, -ret);
	switch (-ret) {
	case EBUSY:
		return;
	case EINVAL:	/* the owner was writing registers */
		return;
	case ENOTTY:	/* a tombstone: the vcpu was closed */
		if (atomic_load(&vs->killed))
			return;
		break;
	default:
		if (fault_mode_error(w, -ret))
			return;
		break;
	}
	fail(w, "RUN of another thread's vcpu: %s", strerror(-ret));
}
