// SPDX-License-Identifier: MIT
/*
 * The stub: the only code of the ptrace and seccomp backends that runs
 * in a stub process (see stub_abi.h for its memory and protocol).
 *
 * Everything but unpriv_stub_boot() lives in the section unpriv_stub,
 * which each new stub process copies to STUB_CODE: so it is freestanding
 * C (no C library, no stack protector, no SSE, no jump tables), calls
 * nothing outside the section, and addresses its data at the fixed
 * STUB_DATA.  CMakeLists.txt builds it with the flags that ensure this
 * and checks the object for undefined symbols and stray sections.
 *
 * A stub process starts as a copy of the owner (clone() without
 * CLONE_VM, but with CLONE_FILES: it maps the owner's file descriptors),
 * moves the stub into place, unmaps everything else and then:
 *
 * ptrace   stops itself for its tracer, the owner thread.  From then on
 *          it runs the guest under PTRACE_SYSEMU; the tracer points it
 *          at unpriv_stub_ops() to change mappings, and passes each
 *          fault and trap into stub_handler(), which records what only
 *          the signal frame holds (error code, trap number, cr2) and
 *          traps again.
 * seccomp  installs a filter that traps every system call made outside
 *          STUB_CODE and enters stub_handler() once.  The handler is
 *          where the stub waits: it hands each exit to the owner (ctl->
 *          state, an eventfd write), waits on the futex ctl->state, runs
 *          what the owner asks, and returns into the guest through
 *          rt_sigreturn with the registers the owner wrote into its
 *          signal frame.
 */
#include <stddef.h>
#include <stdint.h>

#include <asm/prctl.h>
#include <asm/unistd.h>
#include <linux/errno.h>
#include <linux/futex.h>
#include <linux/mman.h>
#include <linux/prctl.h>
#include <linux/ptrace.h>
#include <linux/resource.h>
#include <linux/seccomp.h>
#include <asm/signal.h>

#include "stub_abi.h"

#define STUB_FN		__attribute__((section("unpriv_stub"), used, noinline))
#define STUB_INLINE	static inline __attribute__((always_inline))

STUB_INLINE long sys6(long nr, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8),
			   "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

#define sys(...)	sys_(__VA_ARGS__, 0, 0, 0, 0, 0, 0, 0)
#define sys_(nr, a, b, c, d, e, f, ...) \
	sys6(nr, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

STUB_INLINE __attribute__((noreturn)) void stub_exit(int code)
{
	for (;;)
		sys(__NR_exit_group, code);
}

/* --- segments ------------------------------------------------------- */

STUB_INLINE uint16_t seg_ds(void)
{
	uint32_t v;
	__asm__ volatile("mov %%ds, %0" : "=r"(v));
	return (uint16_t)v;
}

STUB_INLINE uint16_t seg_es(void)
{
	uint32_t v;
	__asm__ volatile("mov %%es, %0" : "=r"(v));
	return (uint16_t)v;
}

STUB_INLINE uint16_t seg_fs(void)
{
	uint32_t v;
	__asm__ volatile("mov %%fs, %0" : "=r"(v));
	return (uint16_t)v;
}

STUB_INLINE uint16_t seg_gs(void)
{
	uint32_t v;
	__asm__ volatile("mov %%gs, %0" : "=r"(v));
	return (uint16_t)v;
}

/* The guest's selectors and bases: a signal leaves them as they were. */
STUB_INLINE void segs_read(struct stub_segs *s, uint32_t fsgsbase)
{
	s->ds = seg_ds();
	s->es = seg_es();
	s->fs = seg_fs();
	s->gs = seg_gs();
	if (fsgsbase) {
		__asm__ volatile("rdfsbase %0" : "=r"(s->fs_base));
		__asm__ volatile("rdgsbase %0" : "=r"(s->gs_base));
	} else {
		sys(__NR_arch_prctl, ARCH_GET_FS, &s->fs_base);
		sys(__NR_arch_prctl, ARCH_GET_GS, &s->gs_base);
	}
}

/* Load s; cur is what the CPU holds.  Selectors first: loading one may
 * reset its base. */
STUB_INLINE void segs_write(const struct stub_segs *s,
			    const struct stub_segs *cur, uint32_t fsgsbase)
{
	uint32_t v;
	int reload = 0;

	if (s->ds != cur->ds) {
		v = s->ds;
		__asm__ volatile("mov %0, %%ds" : : "r"(v));
	}
	if (s->es != cur->es) {
		v = s->es;
		__asm__ volatile("mov %0, %%es" : : "r"(v));
	}
	if (s->fs != cur->fs) {
		v = s->fs;
		__asm__ volatile("mov %0, %%fs" : : "r"(v));
		reload = 1;
	}
	if (s->gs != cur->gs) {
		v = s->gs;
		__asm__ volatile("mov %0, %%gs" : : "r"(v));
		reload = 1;
	}
	if (fsgsbase) {
		__asm__ volatile("wrfsbase %0" : : "r"(s->fs_base) : "memory");
		__asm__ volatile("wrgsbase %0" : : "r"(s->gs_base) : "memory");
		return;
	}
	if (reload || s->fs_base != cur->fs_base)
		sys(__NR_arch_prctl, ARCH_SET_FS, s->fs_base);
	if (reload || s->gs_base != cur->gs_base)
		sys(__NR_arch_prctl, ARCH_SET_GS, s->gs_base);
}

/* --- mapping operations -------------------------------------------- */

STUB_INLINE void do_ops(struct stub_ctl *c)
{
	uint32_t n = c->nops, i;
	long r = 0;

	if (n > STUB_OPS_MAX)
		n = STUB_OPS_MAX;
	for (i = 0; i < n; i++) {
		const struct stub_op *op = &STUB_OPS[i];

		switch (op->kind) {
		case STUB_OP_MAP:
			r = sys(__NR_mmap, op->addr, op->len, op->prot,
				op->flags | MAP_FIXED, op->fd, op->offset);
			if (r >= -4095 && r < 0)
				break;
			r = (uint64_t)r == op->addr ? 0 : -EINVAL;
			break;
		case STUB_OP_UNMAP:
			r = sys(__NR_munmap, op->addr, op->len);
			break;
		case STUB_OP_PROTECT:
			r = sys(__NR_mprotect, op->addr, op->len, op->prot);
			break;
		default:
			r = -EINVAL;
		}
		if (r)
			break;
	}
	c->done = i;
	c->error = r;
	__atomic_store_n(&c->ops_seq, c->ops_req, __ATOMIC_RELEASE);
}

/* ptrace: the tracer points the stub here, with rsp at the stub's stack,
 * and waits for the int3. */
STUB_FN void unpriv_stub_ops(void)
{
	do_ops(STUB_CTL);
	for (;;)
		__asm__ volatile("int3");
}

/* --- the signal handler ---------------------------------------------- */

/* The kernel's siginfo, x86-64. */
#define SI_CODE		8
#define SI_PID		16
#define SI_ADDR		16
#define SI_SYSCALL	24
#define SI_ARCH		28

STUB_FN static void stub_handler(int sig, void *info, void *ucv)
{
	struct stub_ctl *c = STUB_CTL;
	struct stub_exit *e = &c->exit;
	const unsigned char *si = info;
	const struct stub_ucontext *uc = ucv;

	e->signo = sig;
	e->code = *(const int32_t *)(si + SI_CODE);
	e->pid = *(const int32_t *)(si + SI_PID);
	e->addr = *(const uint64_t *)(si + SI_ADDR);
	e->syscall = *(const int32_t *)(si + SI_SYSCALL);
	e->arch = *(const uint32_t *)(si + SI_ARCH);
	e->trapno = uc->mc.trapno;
	e->err = uc->mc.err;
	e->cr2 = uc->mc.cr2;
	e->uc = (uint64_t)uc;
	__atomic_store_n(&e->seq, e->seq + 1, __ATOMIC_RELEASE);

	if (c->mode != STUB_MODE_SECCOMP) {
		/* ptrace: the tracer takes it from here, and never lets
		 * the handler return. */
		for (;;)
			__asm__ volatile("int3");
	}

	segs_read(&e->segs, c->fsgsbase);
	for (;;) {
		uint64_t one = 1;

		__atomic_store_n(&c->state, STUB_TO_OWNER, __ATOMIC_RELEASE);
		sys(__NR_write, c->efd, &one, sizeof(one));
		while (__atomic_load_n(&c->state, __ATOMIC_ACQUIRE) != STUB_TO_STUB)
			sys(__NR_futex, &c->state, FUTEX_WAIT, STUB_TO_OWNER, 0);

		switch (c->cmd) {
		case STUB_CMD_RUN:
			segs_write(&c->run, &e->segs, c->fsgsbase);
			return;		/* to unpriv_stub_restorer */
		case STUB_CMD_OPS:
			do_ops(c);
			break;
		default:
			stub_exit(0);
		}
	}
}

#define STUB_STR_(x)	#x
#define STUB_STR(x)	STUB_STR_(x)

/* sa_restorer: where a handler returns to. */
__asm__(".pushsection unpriv_stub,\"ax\",@progbits\n"
	".p2align 4\n"
	".globl unpriv_stub_restorer\n"
	".hidden unpriv_stub_restorer\n"
	".type unpriv_stub_restorer,@function\n"
	"unpriv_stub_restorer:\n"
	"	mov $" STUB_STR(__NR_rt_sigreturn) ", %eax\n"
	"	syscall\n"
	"	ud2\n"
	".size unpriv_stub_restorer, .-unpriv_stub_restorer\n"
	".popsection\n");
__attribute__((visibility("hidden"))) void unpriv_stub_restorer(void);

/* --- start-up ------------------------------------------------------- */

/* The signals faults and traps raise, and the kick. */
#define STUB_SIGNALS							\
	((1UL << (SIGSEGV - 1)) | (1UL << (SIGBUS - 1)) |		\
	 (1UL << (SIGILL - 1)) | (1UL << (SIGFPE - 1)) |		\
	 (1UL << (SIGTRAP - 1)) | (1UL << (SIGSYS - 1)) |		\
	 (1UL << (SIGUSR1 - 1)))

struct stub_sigaction {
	uint64_t handler;
	uint64_t flags;
	uint64_t restorer;
	uint64_t mask;
};

struct stub_stack {
	uint64_t sp;
	int32_t flags;
	int32_t padding;
	uint64_t size;
};

STUB_INLINE void stub_step(struct stub_ctl *c, uint32_t step)
{
	__atomic_store_n(&c->step, step, __ATOMIC_RELEASE);
}

STUB_INLINE void stub_check(long r, uint32_t step)
{
	if (r < 0)
		stub_exit((int)step);
}

/* Entered from unpriv_stub_boot() by a jump, on the stub's stack. */
STUB_FN void unpriv_stub_start(void)
{
	struct stub_ctl *c = STUB_CTL;
	struct stub_sigaction sa;
	struct stub_stack ss;
	uint64_t mask;
	int sig;

	/* Nothing of the owner's copy stays. */
	stub_step(c, 2);
	stub_check(sys(__NR_munmap, 0, STUB_START), 2);
	stub_check(sys(__NR_munmap, STUB_CODE + STUB_CODE_MAX,
		       STUB_DATA - (STUB_CODE + STUB_CODE_MAX)), 2);
	stub_check(sys(__NR_munmap, STUB_MAPPED_END,
		       STUB_END - STUB_MAPPED_END), 2);

	/* Die with the owner; it may already be gone. */
	stub_step(c, 3);
	stub_check(sys(__NR_prctl, PR_SET_PDEATHSIG, SIGKILL), 3);
	if (sys(__NR_getppid) != c->owner)
		stub_exit(3);

	/* Only faults, traps and the kick get through; everything else
	 * (a terminal's SIGINT to the process group...) stays pending. */
	stub_step(c, 4);
	mask = ~STUB_SIGNALS;
	stub_check(sys(__NR_rt_sigprocmask, SIG_SETMASK, &mask, 0, 8), 4);

	stub_step(c, 5);
	ss.sp = STUB_DATA + STUB_ALTSTACK_OFF;
	ss.flags = 0;
	ss.padding = 0;
	ss.size = STUB_ALTSTACK_SIZE;
	stub_check(sys(__NR_sigaltstack, &ss, 0), 5);

	/* seccomp: the handler runs with every signal blocked and returns;
	 * ptrace: it never returns, so it must leave the mask alone. */
	stub_step(c, 6);
	sa.handler = (uint64_t)stub_handler;
	sa.flags = SA_SIGINFO | SA_ONSTACK | SA_RESTORER;
	sa.restorer = (uint64_t)unpriv_stub_restorer;
	if (c->mode == STUB_MODE_SECCOMP) {
		sa.mask = ~0UL;
	} else {
		sa.flags |= SA_NODEFER;
		sa.mask = 0;
	}
	for (sig = 1; sig <= 64; sig++) {
		if (!(STUB_SIGNALS & (1UL << (sig - 1))))
			continue;
		stub_check(sys(__NR_rt_sigaction, sig, &sa, 0, 8), 6);
	}

	if (c->mode == STUB_MODE_SECCOMP) {
		stub_step(c, 8);
		stub_check(sys(__NR_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 8);
		stub_step(c, 9);
		stub_check(sys(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0,
			       &c->prog), 9);
		stub_step(c, 10);
	} else {
		stub_step(c, 7);
		stub_check(sys(__NR_ptrace, PTRACE_TRACEME, 0, 0, 0), 7);
		stub_step(c, 10);
		sys(__NR_kill, sys(__NR_getpid), SIGSTOP);
	}
	/* seccomp: into the handler, to wait for the owner there. */
	for (;;)
		__asm__ volatile("int3");
}

/*
 * clone()'s function, in the new process: still a copy of the owner,
 * running on the owner's mapping of the data memfd.  Copy the stub's
 * code to STUB_CODE, move the data to STUB_DATA, and jump to
 * unpriv_stub_start() on the stub's stack.  This one function is in
 * the ordinary text: it runs before the owner's copy is unmapped.
 */
int unpriv_stub_boot(void *arg)
{
	const struct stub_boot *b = arg;
	struct stub_ctl *c = (struct stub_ctl *)b->data;
	struct rlimit no_core = {0, 0};
	volatile unsigned char *to = (volatile unsigned char *)STUB_CODE;
	const unsigned char *from = (const unsigned char *)b->code;
	uint64_t i;

	/* A stub that crashes leaves no core file behind. */
	stub_step(c, 1);
	stub_check(sys(__NR_prlimit64, 0, RLIMIT_CORE, &no_core, 0), 1);
	if (b->code_size > STUB_CODE_MAX)
		stub_exit(1);
	stub_check(sys(__NR_mmap, STUB_CODE, STUB_CODE_MAX,
		       PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), 1);
	for (i = 0; i < b->code_size; i++)
		to[i] = from[i];
	stub_check(sys(__NR_mprotect, STUB_CODE, STUB_CODE_MAX,
		       PROT_READ | PROT_EXEC), 1);

	/* After the mremap, nothing on this stack exists any more. */
	{
		register long r10 __asm__("r10") = MREMAP_MAYMOVE | MREMAP_FIXED;
		register long r8 __asm__("r8") = (long)STUB_DATA;

		__asm__ volatile("syscall\n\t"
				 "mov %[sp], %%rsp\n\t"
				 "jmp *%[entry]"
				 :
				 : "a"(__NR_mremap), "D"(b->data),
				   "S"(STUB_DATA_SIZE), "d"(STUB_DATA_SIZE),
				   "r"(r10), "r"(r8),
				   [sp] "r"(STUB_DATA + STUB_STACK_TOP_OFF - 8),
				   [entry] "r"(b->entry)
				 : "rcx", "r11", "memory");
	}
	__builtin_unreachable();
}
