// SPDX-License-Identifier: GPL-2.0
/*
 * unpriv: vcpus, and the switch between host mode and guest mode.
 *
 * UNPRIV_RUN does not itself enter the guest: the ioctl returns an int,
 * which the system call entry code stores into the thread's rax, and a
 * guest's rax is 64 bits.  RUN claims the vcpu, records it in the thread
 * and raises TIF_NOTIFY_SIGNAL; on its way back to user mode the thread
 * calls arch_do_signal_or_restart(), which hooks.c redirects to
 * unpriv_vcpu_signal(), and there, after the return value is stored, the
 * thread's user registers, mm and per-thread state are swapped for the
 * guest's.  Every way back to the kernel from guest mode ends in the
 * reverse swap before anything else runs: a system call in
 * unpriv_vcpu_syscall(), any signal (a fault's, a trap's, a host
 * signal, a kick) in unpriv_vcpu_signal().  The ioctl then "returns" at
 * the host registers saved on entry, with 0 or -EINTR in rax.
 *
 * Which vcpu a thread is entering or running is kept in the thread's
 * Syscall User Dispatch selector, which guest mode owns (the host's own
 * dispatch settings are set aside and restored): userspace can only put
 * a user address there, the module only a vcpu, a kernel address.  That
 * makes the check in every hook two loads.
 *
 * Leaving guest mode, a thread whose host program does not use Syscall
 * User Dispatch itself stays parked on the vcpu: its dispatch stays
 * armed, with the vcpu and UNPRIV_SEL_PARKED in the selector.  Its next
 * system call then comes to unpriv_vcpu_syscall() first.  When that is
 * UNPRIV_RUN of the same vcpu with the same address space, and nothing
 * else watches the thread's system calls (ptrace, seccomp, audit and
 * syscall tracepoints would all miss it), the guest is entered right
 * there and the ioctl does not run: no fd lookup, no LSM hook, no extra
 * pass through the exit-to-user loop, a third of a round trip.  Anything
 * else unparks the thread and runs as usual; so does a signal.
 *
 * Lifetimes: a thread holds a reference to the vcpu's file from RUN to
 * its return, and on while it is parked, so a vcpu is only freed when
 * its file is released, with no thread on it.  Its state says which
 * thread may touch the rest: IDLE, ENTERING or GUEST (one thread's), or
 * BUSY (an ioctl's).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/task_work.h>
#include <linux/uaccess.h>
#include <linux/uprobes.h>
#include <asm/desc.h>
#include <asm/fsgsbase.h>
#include <asm/pkru.h>
#include <asm/segment.h>
#include <asm/syscall.h>
#include <asm/traps.h>

#include "unpriv.h"
#include "fpu.h"

#define CREATE_TRACE_POINTS
#include "trace.h"


/* vcpu->flags */
#define UNPRIV_VCPU_KICKED	0
#define UNPRIV_VCPU_EXIT_TAKEN	1	/* exit_ret and exit_info hold it */

/* The signals a fault or trap raises (kernel/signal.c's SYNCHRONOUS_MASK). */
#define UNPRIV_SYNC_SIGNALS \
	(sigmask(SIGSEGV) | sigmask(SIGBUS) | sigmask(SIGILL) | \
	 sigmask(SIGTRAP) | sigmask(SIGFPE) | sigmask(SIGSYS))

/* thread.trap_nr in guest mode until the guest traps: no vector */
#define UNPRIV_NO_TRAP		(~0UL)

/* The flags guest code may set, as sigreturn allows. */
#define UNPRIV_RFLAGS_USER \
	(X86_EFLAGS_CF | X86_EFLAGS_PF | X86_EFLAGS_AF | X86_EFLAGS_ZF | \
	 X86_EFLAGS_SF | X86_EFLAGS_TF | X86_EFLAGS_DF | X86_EFLAGS_OF | \
	 X86_EFLAGS_RF | X86_EFLAGS_AC | X86_EFLAGS_ID)

static int unpriv_vcpu_phase(struct unpriv_vcpu *vcpu)
{
	return atomic_read(&vcpu->state);
}

/*
 * Let go of the address space the vcpu ran in before this RUN, in host
 * mode: when it was the last reference, the final fput() queues task
 * work, which would otherwise stop the entry with -EINTR (or run in
 * guest mode).
 */
static void unpriv_vcpu_put_old_as(struct unpriv_vcpu *vcpu)
{
	if (vcpu->old_as_file) {
		fput(vcpu->old_as_file);
		vcpu->old_as_file = NULL;
	}
}

static void unpriv_vcpu_free(struct unpriv_vcpu *vcpu)
{
	unpriv_vcpu_put_old_as(vcpu);
	if (vcpu->as_file)
		fput(vcpu->as_file);
	fpu_free_guest_fpstate(&vcpu->fpu);
	free_page((unsigned long)vcpu->run);
	kfree(vcpu);
}

/* Move the vcpu from phase 'from' to 'to'; fails when it is not in 'from'. */
static bool unpriv_vcpu_move(struct unpriv_vcpu *vcpu, int from, int to)
{
	return atomic_cmpxchg(&vcpu->state, from, to) == from;
}

/* --- guest registers -------------------------------------------------- */

/*
 * A data selector (ds, es, fs, gs) is fine if the guest could have
 * loaded it itself, since an exit reports what it loaded and the next
 * RUN must take that back: at CPL 3, with no LDT and no TLS descriptors,
 * that is a null selector (index 0, any RPL) or one of the GDT's user
 * segments, with any RPL: the 32- and 64-bit code segments (readable),
 * the data segment and the CPU-number segment.
 */
static bool unpriv_data_selector_ok(u16 sel)
{
	if (sel & SEGMENT_TI_MASK)
		return false;
	switch (sel >> 3) {
	case 0:
	case GDT_ENTRY_DEFAULT_USER32_CS:
	case GDT_ENTRY_DEFAULT_USER_DS:
	case GDT_ENTRY_DEFAULT_USER_CS:
	case GDT_ENTRY_CPUNODE:
		return true;
	default:
		return false;
	}
}

/*
 * Copy the guest's registers from the shared run page into pt_regs and
 * segs (all but PKRU, which is not in the run page), then check the
 * copies: userspace may change the page at any time, the copies it
 * cannot.
 */
static int unpriv_load_guest(const struct unpriv_regs *g, struct pt_regs *regs,
			     struct unpriv_cpu_segs *segs)
{
	regs->ax = g->rax;
	regs->bx = g->rbx;
	regs->cx = g->rcx;
	regs->dx = g->rdx;
	regs->si = g->rsi;
	regs->di = g->rdi;
	regs->bp = g->rbp;
	regs->sp = g->rsp;
	regs->r8 = g->r8;
	regs->r9 = g->r9;
	regs->r10 = g->r10;
	regs->r11 = g->r11;
	regs->r12 = g->r12;
	regs->r13 = g->r13;
	regs->r14 = g->r14;
	regs->r15 = g->r15;
	regs->ip = g->rip;
	regs->flags = (g->rflags & UNPRIV_RFLAGS_USER) | X86_EFLAGS_IF |
		      X86_EFLAGS_FIXED;
	regs->cs = READ_ONCE(g->cs) ?: __USER_CS;
	regs->ss = READ_ONCE(g->ss) ?: __USER_DS;
	regs->orig_ax = -1;
	segs->ds = READ_ONCE(g->ds);
	segs->es = READ_ONCE(g->es);
	segs->fs = READ_ONCE(g->fs);
	segs->gs = READ_ONCE(g->gs);
	segs->fsbase = READ_ONCE(g->fs_base);
	segs->gsbase = READ_ONCE(g->gs_base);

	if (regs->cs != __USER_CS && regs->cs != __USER32_CS)
		return -EINVAL;
	if (regs->ss != __USER_DS)
		return -EINVAL;
	if (regs->ip >= TASK_SIZE_MAX || regs->sp >= TASK_SIZE_MAX)
		return -EINVAL;
	if (regs->cs == __USER32_CS && (regs->ip > U32_MAX || regs->sp > U32_MAX))
		return -EINVAL;
	/* All null, as a 64-bit guest's mostly are: one test. */
	if ((segs->ds | segs->es | segs->fs | segs->gs) > 3 &&
	    (!unpriv_data_selector_ok(segs->ds) ||
	     !unpriv_data_selector_ok(segs->es) ||
	     !unpriv_data_selector_ok(segs->fs) ||
	     !unpriv_data_selector_ok(segs->gs)))
		return -EINVAL;
	if (segs->fsbase >= TASK_SIZE_MAX || segs->gsbase >= TASK_SIZE_MAX)
		return -EINVAL;
	return 0;
}

static void unpriv_store_guest(struct unpriv_regs *g, const struct pt_regs *regs)
{
	g->rax = regs->ax;
	g->rbx = regs->bx;
	g->rcx = regs->cx;
	g->rdx = regs->dx;
	g->rsi = regs->si;
	g->rdi = regs->di;
	g->rbp = regs->bp;
	g->rsp = regs->sp;
	g->r8 = regs->r8;
	g->r9 = regs->r9;
	g->r10 = regs->r10;
	g->r11 = regs->r11;
	g->r12 = regs->r12;
	g->r13 = regs->r13;
	g->r14 = regs->r14;
	g->r15 = regs->r15;
	g->rip = regs->ip;
	g->rflags = regs->flags;
	g->cs = regs->cs;
	g->ss = regs->ss;
}

/*
 * Segment selectors and bases, and PKRU, live in the CPU while the
 * thread runs and in thread_struct when it is switched out; change both
 * with interrupts off.  Most threads have null selectors, and the host
 * and guest often share a GS base: what would not change is not written
 * (MSR writes are the expensive part of a switch).  The bases go as
 * x86_fsbase_read_cpu() and the like do, but with static CPU feature
 * checks and interrupts already off; with FSGSBASE the inactive GS base
 * is read and written with SWAPGS around RDGSBASE and WRGSBASE, as the
 * kernel's context switch does.
 */
static __always_inline unsigned long unpriv_fsbase_read(void)
{
	unsigned long fsbase;

	if (static_cpu_has(X86_FEATURE_FSGSBASE))
		fsbase = rdfsbase();
	else
		rdmsrl(MSR_FS_BASE, fsbase);
	return fsbase;
}

static __always_inline void unpriv_fsbase_write(unsigned long fsbase)
{
	if (static_cpu_has(X86_FEATURE_FSGSBASE))
		wrfsbase(fsbase);
	else
		wrmsrl(MSR_FS_BASE, fsbase);
}

static __always_inline unsigned long unpriv_gsbase_read(void)
{
	unsigned long gsbase;

	if (static_cpu_has(X86_FEATURE_FSGSBASE) &&
	    !static_cpu_has(X86_FEATURE_XENPV)) {
		native_swapgs();
		gsbase = rdgsbase();
		native_swapgs();
	} else {
		rdmsrl(MSR_KERNEL_GS_BASE, gsbase);
	}
	return gsbase;
}

static __always_inline void unpriv_gsbase_write(unsigned long gsbase)
{
	if (static_cpu_has(X86_FEATURE_FSGSBASE) &&
	    !static_cpu_has(X86_FEATURE_XENPV)) {
		native_swapgs();
		wrgsbase(gsbase);
		native_swapgs();
	} else {
		wrmsrl(MSR_KERNEL_GS_BASE, gsbase);
	}
}

static __always_inline void unpriv_segs_read(struct unpriv_cpu_segs *s)
{
	savesegment(ds, s->ds);
	savesegment(es, s->es);
	savesegment(fs, s->fs);
	savesegment(gs, s->gs);
	s->fsbase = unpriv_fsbase_read();
	s->gsbase = unpriv_gsbase_read();
	s->pkru = read_pkru();
}

/* Load next, the CPU holding cur; keep thread_struct in step. */
static __always_inline void unpriv_segs_load(const struct unpriv_cpu_segs *cur,
					     const struct unpriv_cpu_segs *next)
{
	struct thread_struct *t = &current->thread;

	if (next->ds != cur->ds)
		loadsegment(ds, next->ds);
	if (next->es != cur->es)
		loadsegment(es, next->es);
	if (next->fs != cur->fs || next->fs)
		loadsegment(fs, next->fs);
	if (next->fs != cur->fs || next->fs || next->fsbase != cur->fsbase)
		unpriv_fsbase_write(next->fsbase);
	if (next->gs != cur->gs || next->gs)
		load_gs_index(next->gs);
	if (next->gs != cur->gs || next->gs || next->gsbase != cur->gsbase)
		unpriv_gsbase_write(next->gsbase);
	/*
	 * With FSGSBASE the kernel reads a running thread's selectors and
	 * bases from the CPU, and save_fsgs() stores them on a switch;
	 * without, it relies on thread_struct's.
	 */
	if (!static_cpu_has(X86_FEATURE_FSGSBASE)) {
		t->fsindex = next->fs;
		t->gsindex = next->gs;
		t->fsbase = next->fsbase;
		t->gsbase = next->gsbase;
	}
	if (cpu_feature_enabled(X86_FEATURE_OSPKE) && next->pkru != cur->pkru)
		wrpkru(next->pkru);
}

/*
 * The thread's TLS descriptors (set_thread_area(), which a 64-bit
 * program such as Wine reaches with int $0x80) are GDT entries loaded
 * per thread: in guest mode the guest could load them and read their
 * base.  It has no LDT, and no TLS descriptors either: they are emptied
 * while it runs, in thread_struct too, which a context switch loads
 * from.  Most threads have none, and then nothing is done.
 *
 * Whether it has any is looked at on RUN's way in, not on a re-run from
 * the parked state: only a system call of the thread or a ptrace stop
 * change them, both of which unpark it, and leaving put back the ones
 * seen here.
 */
static void unpriv_tls_check(struct unpriv_host *h)
{
	struct thread_struct *t = &current->thread;
	u64 any = 0;
	int i;

	/* Three loads, not a memchr_inv() call. */
	BUILD_BUG_ON(sizeof(t->tls_array[0]) != sizeof(u64));
	for (i = 0; i < GDT_ENTRY_TLS_ENTRIES; i++)
		any |= *(u64 *)&t->tls_array[i];
	h->tls_set = any;
}

static void unpriv_tls_to_guest(struct unpriv_host *h)
{
	struct thread_struct *t = &current->thread;

	if (likely(!h->tls_set))
		return;
	memcpy(h->tls, t->tls_array, sizeof(h->tls));
	memset(t->tls_array, 0, sizeof(t->tls_array));
	load_TLS(t, smp_processor_id());
}

static void unpriv_tls_to_host(struct unpriv_host *h)
{
	struct thread_struct *t = &current->thread;

	if (likely(!h->tls_set))
		return;
	memcpy(t->tls_array, h->tls, sizeof(h->tls));
	load_TLS(t, smp_processor_id());
}

/* Both with interrupts off. */
static __always_inline void
unpriv_swap_segments_to_guest(struct unpriv_vcpu *vcpu,
			      const struct unpriv_cpu_segs *guest)
{
	struct unpriv_host *h = &vcpu->host;

	unpriv_segs_read(&h->segs);
	unpriv_tls_to_guest(h);
	unpriv_segs_load(&h->segs, guest);
}

static __always_inline void unpriv_swap_segments_to_host(struct unpriv_vcpu *vcpu)
{
	struct unpriv_cpu_segs *guest = &vcpu->segs;
	struct unpriv_regs *g = &vcpu->run->regs;
	struct unpriv_host *h = &vcpu->host;

	unpriv_segs_read(guest);
	/* The host's selectors may name its TLS descriptors: first those. */
	unpriv_tls_to_host(h);
	unpriv_segs_load(guest, &h->segs);

	g->ds = guest->ds;
	g->es = guest->es;
	g->fs = guest->fs;
	g->gs = guest->gs;
	g->fs_base = guest->fsbase;
	g->gs_base = guest->gsbase;
	vcpu->pkru = guest->pkru;
}

/* --- signals ---------------------------------------------------------- */

/*
 * A fault or trap raises its signal by force: if the host blocks it,
 * the kernel unblocks it, and if the host ignores or blocks it, resets
 * the process-wide handler to SIG_DFL.  Unblock them for guest mode,
 * and note which are ignored so a reset can be undone.
 */
static void unpriv_signals_to_guest(struct unpriv_host *h)
{
	struct k_sigaction *action = current->sighand->action;

#define UNPRIV_IGNORED(sig) (action[(sig) - 1].sa.sa_handler == SIG_IGN)
	h->ignored = 0;
	if (unlikely(UNPRIV_IGNORED(SIGSEGV) || UNPRIV_IGNORED(SIGBUS) ||
		     UNPRIV_IGNORED(SIGILL) || UNPRIV_IGNORED(SIGTRAP) ||
		     UNPRIV_IGNORED(SIGFPE) || UNPRIV_IGNORED(SIGSYS))) {
		int sig;

		for (sig = 1; sig <= _NSIG_BPW; sig++)
			if ((sigmask(sig) & UNPRIV_SYNC_SIGNALS) &&
			    UNPRIV_IGNORED(sig))
				h->ignored |= sigmask(sig);
	}
#undef UNPRIV_IGNORED

	h->blocked_changed = current->blocked.sig[0] & UNPRIV_SYNC_SIGNALS;
	if (h->blocked_changed) {
		spin_lock_irq(&current->sighand->siglock);
		h->blocked = current->blocked;
		sigdelsetmask(&current->blocked, UNPRIV_SYNC_SIGNALS);
		recalc_sigpending();
		spin_unlock_irq(&current->sighand->siglock);
	}
}

static void unpriv_signals_to_host(struct unpriv_host *h)
{
	if (h->blocked_changed) {
		spin_lock_irq(&current->sighand->siglock);
		current->blocked = h->blocked;
		recalc_sigpending();
		spin_unlock_irq(&current->sighand->siglock);
	}
}

/*
 * The kernel sends a trap's signal even when it cannot allocate the
 * signal's queue entry (GFP_ATOMIC, under memory pressure): the signal
 * is then a pending bit alone, and dequeue_signal() makes up SI_USER
 * details for it.  A synchronous signal pending for the thread with no
 * queue entry is the guest's when the guest trapped since it entered
 * (a host thread's tkill() of one, unqueued too, while the guest did
 * not trap, stays the host's).  Called with the siglock held.
 */
static int unpriv_unqueued_sync_signal(void)
{
	unsigned long bare = current->pending.signal.sig[0] & UNPRIV_SYNC_SIGNALS;
	struct sigqueue *q;

	if (current->thread.trap_nr == UNPRIV_NO_TRAP)
		return 0;
	list_for_each_entry(q, &current->pending.list, list)
		bare &= ~sigmask(q->info.si_signo);
	return bare ? __ffs(bare) + 1 : 0;
}

/*
 * Take the signal a guest fault or trap raised off the thread's queue:
 * a synchronous signal the kernel itself sent.  Host signals stay.
 */
static int unpriv_take_guest_signal(struct unpriv_host *h,
				    kernel_siginfo_t *info)
{
	struct sighand_struct *sighand = current->sighand;
	struct sigqueue *q;
	enum pid_type type;
	sigset_t mask;
	int sig = 0;

	spin_lock_irq(&sighand->siglock);
	list_for_each_entry(q, &current->pending.list, list) {
		if ((sigmask(q->info.si_signo) & UNPRIV_SYNC_SIGNALS) &&
		    SI_FROMKERNEL(&q->info)) {
			sig = q->info.si_signo;
			break;
		}
	}
	if (!sig)
		sig = unpriv_unqueued_sync_signal();
	if (sig) {
		siginitsetinv(&mask, sigmask(sig));
		sig = dequeue_signal(current, &mask, info, &type);
		if (sig && (h->ignored & sigmask(sig)))
			sighand->action[sig - 1].sa.sa_handler = SIG_IGN;
	}
	spin_unlock_irq(&sighand->siglock);
	return sig;
}

/* --- entering and leaving guest mode ---------------------------------- */

/*
 * Guest mode cannot isolate an I/O permission bitmap or hardware
 * breakpoints: they would apply to guest code.
 */
static inline int unpriv_vcpu_check_thread(void)
{
	struct perf_event * const *bps = current->thread.ptrace_bps;

	if (!current->mm || (current->flags & PF_KTHREAD))
		return -EINVAL;
	if (test_thread_flag(TIF_IO_BITMAP))
		return -EBUSY;
	BUILD_BUG_ON(HBP_NUM != 4);
	if (bps[0] || bps[1] || bps[2] || bps[3])
		return -EBUSY;
	return 0;
}

/* The thread is done with the vcpu: drop the reference RUN took. */
static void unpriv_vcpu_put(struct unpriv_vcpu *vcpu)
{
	fput(vcpu->file);
}

static void unpriv_sud_to_host(struct unpriv_host *h)
{
	current->syscall_dispatch = h->sud;
	if (!h->sud_on)
		clear_task_syscall_work(current, SYSCALL_USER_DISPATCH);
}

/*
 * The thread leaves the vcpu it is parked on: its dispatch settings go
 * back to what a thread that never set any has.  Only a thread whose
 * host program had dispatch off parks, and with it off, the kernel
 * looks at none of them.
 */
static void unpriv_vcpu_unpark(struct unpriv_vcpu *vcpu)
{
	clear_task_syscall_work(current, SYSCALL_USER_DISPATCH);
	memset(&current->syscall_dispatch, 0, sizeof(current->syscall_dispatch));
	unpriv_vcpu_put(vcpu);
}

/*
 * Swap the thread's user registers, mm and per-thread state for the
 * guest's.  Fails, with nothing changed, on bad guest registers.
 */
static int unpriv_vcpu_switch_in(struct unpriv_vcpu *vcpu, struct pt_regs *regs)
{
	struct unpriv_cpu_segs *segs = &vcpu->segs;
	struct unpriv_host *h = &vcpu->host;
	int ret;

	h->regs = *regs;
	ret = unpriv_load_guest(&vcpu->run->regs, regs, segs);
	segs->pkru = vcpu->pkru;
	if (ret) {
		*regs = h->regs;
		return ret;
	}

	unpriv_signals_to_guest(h);
	/*
	 * A trap in guest mode sets it: unpriv_unqueued_sync_signal().  The
	 * host's was saved on RUN's way in (a re-run finds it as it was).
	 */
	current->thread.trap_nr = UNPRIV_NO_TRAP;
	h->mm = current->mm;

	/* Per-CPU state: FPU, segments, mm; the mm under task_lock. */
	if (!unpriv_fpu_is_own())
		fpu_swap_kvm_fpstate(&vcpu->fpu, true);
	task_lock(current);
	local_irq_disable();
	if (unpriv_fpu_is_own())
		unpriv_fpu_swap(&vcpu->fpu, true);
	unpriv_swap_segments_to_guest(vcpu, segs);
	unpriv_switch_mm_locked(vcpu->as->mm);
	/*
	 * The kernel would update rseq through the guest's mm: park it.
	 * Migrations while it is parked go unseen; leaving checks the CPU,
	 * read here, with no migration possible in between.  An update
	 * already due (a migration since the last return to user mode,
	 * which this exit to user mode would make, with rseq parked) is
	 * made on the way back.
	 */
	h->rseq = current->rseq;
	current->rseq = NULL;
	h->cpu = test_thread_flag(TIF_NOTIFY_RESUME) ? -1 : smp_processor_id();
	local_irq_enable();
	task_unlock(current);
	trace_unpriv_enter(regs->ip);
	return 0;
}

/* RUN did not get to the guest: return err from it. */
static void unpriv_vcpu_abort(struct unpriv_vcpu *vcpu, struct pt_regs *regs,
			      int err)
{
	unpriv_sud_to_host(&vcpu->host);
	unpriv_vcpu_put_old_as(vcpu);
	vcpu->run->exit_reason = UNPRIV_EXIT_INTR;
	regs->ax = err;
	vcpu->task = NULL;
	atomic_set_release(&vcpu->state, UNPRIV_VCPU_IDLE);
	unpriv_vcpu_put(vcpu);
}

/* RUN's way in, on the thread's way back to user mode after the ioctl. */
static void unpriv_vcpu_enter(struct unpriv_vcpu *vcpu, struct pt_regs *regs)
{
	struct unpriv_host *h = &vcpu->host;
	int ret;

	if (task_sigpending(current) || task_work_pending(current) ||
	    test_and_clear_bit(UNPRIV_VCPU_KICKED, &vcpu->flags)) {
		unpriv_vcpu_abort(vcpu, regs, -EINTR);
		unpriv_call_arch_do_signal_or_restart(regs);
		return;
	}
	clear_notify_signal();

	h->sud_on = test_task_syscall_work(current, SYSCALL_USER_DISPATCH);
	/* What a re-run from the parked state finds as it was left. */
	h->trap_nr = current->thread.trap_nr;
	unpriv_tls_check(h);
	ret = unpriv_vcpu_switch_in(vcpu, regs);
	if (ret) {
		unpriv_vcpu_abort(vcpu, regs, ret);
		return;
	}
	set_task_syscall_work(current, SYSCALL_USER_DISPATCH);
	atomic_set(&vcpu->state, UNPRIV_VCPU_GUEST);
}

/*
 * Back to host mode, with ret as what UNPRIV_RUN returns.  The thread
 * parks on the vcpu when its host program does not use dispatch itself;
 * otherwise it gets its own settings back and drops the vcpu, which may
 * free it.
 */
static void unpriv_vcpu_leave(struct unpriv_vcpu *vcpu, struct pt_regs *regs,
			      int ret, u64 info)
{
	struct unpriv_host *h = &vcpu->host;
	bool park = !h->sud_on;

	trace_unpriv_exit(vcpu->run->exit_reason, regs->ip, info);

	unpriv_store_guest(&vcpu->run->regs, regs);
	task_lock(current);
	local_irq_disable();
	unpriv_switch_mm_locked(h->mm);
	unpriv_swap_segments_to_host(vcpu);
	if (unpriv_fpu_is_own())
		unpriv_fpu_swap(&vcpu->fpu, false);
	/* A migration from here on refreshes rseq by itself. */
	current->rseq = h->rseq;
	if (h->cpu != smp_processor_id())
		rseq_set_notify_resume(current);
	local_irq_enable();
	task_unlock(current);
	if (!unpriv_fpu_is_own())
		fpu_swap_kvm_fpstate(&vcpu->fpu, false);
	unpriv_signals_to_host(h);
	current->thread.trap_nr = h->trap_nr;
	unpriv_vcpu_put_old_as(vcpu);
	if (park)
		current->syscall_dispatch.selector =
			(char __user *)((unsigned long)vcpu | UNPRIV_SEL_PARKED);
	else
		unpriv_sud_to_host(h);

	*regs = h->regs;
	regs->ax = ret;
	vcpu->task = NULL;
	/* From here on another thread may run the vcpu. */
	atomic_set_release(&vcpu->state, UNPRIV_VCPU_IDLE);
	if (!park)
		unpriv_vcpu_put(vcpu);
}

/*
 * Whether a parked thread's system call can run the guest again at
 * once: a 64-bit ioctl(fd, UNPRIV_RUN, as_fd) on the vcpu it is parked
 * on, and nothing but guest mode's dispatch watches the thread's system
 * calls (ptrace, seccomp, audit and tracepoints must see every RUN).
 */
static bool unpriv_vcpu_is_rerun(const struct pt_regs *regs)
{
	return regs->orig_ax == __NR_ioctl && (u32)regs->si == UNPRIV_RUN &&
	       regs->dx <= INT_MAX && !in_ia32_syscall() &&
	       READ_ONCE(current_thread_info()->syscall_work) ==
	       SYSCALL_WORK_SYSCALL_USER_DISPATCH;
}

/*
 * Whether the claimed vcpu can be entered here, in the address space it
 * ran in last, or RUN must take its usual way (which binds the address
 * space and reports immediate_exit and pending signals; a kick is
 * caught later).  The fd table as unpriv_vcpu_rerun() says.
 *
 * unpriv_vcpu_check_thread() need not be repeated: only the thread
 * itself, by a system call, gets an I/O bitmap, and a tracer sets
 * breakpoints only in a ptrace stop, which a parked thread reaches only
 * through a signal or a system call, both of which unpark it.
 */
static bool unpriv_vcpu_rerun_ok(struct unpriv_vcpu *vcpu,
				 const struct pt_regs *regs,
				 struct files_struct *files)
{
	return !READ_ONCE(vcpu->run->immediate_exit) &&
	       !task_sigpending(current) && !task_work_pending(current) &&
	       !test_thread_flag(TIF_NOTIFY_SIGNAL) && vcpu->as_file &&
	       files_lookup_fd_raw(files, regs->dx) == vcpu->as_file;
}

/*
 * A system call of a thread parked on vcpu: UNPRIV_RUN enters the guest
 * right here, skipping the system call; anything else unparks the
 * thread and runs as usual.
 */
static bool unpriv_vcpu_rerun(struct unpriv_vcpu *vcpu, struct pt_regs *regs)
{
	struct files_struct *files = current->files;
	bool claimed, shared;
	int ret;

	if (!unpriv_vcpu_is_rerun(regs))
		goto unpark;
	/*
	 * The fds are only compared with the vcpu's files.  A table no
	 * other task shares changes only by this thread's system calls, as
	 * __fget_light() knows; a shared one is read under RCU.
	 */
	shared = atomic_read_acquire(&files->count) != 1;
	if (shared)
		rcu_read_lock();
	claimed = files_lookup_fd_raw(files, (u32)regs->di) == vcpu->file &&
		  unpriv_vcpu_move(vcpu, UNPRIV_VCPU_IDLE, UNPRIV_VCPU_GUEST);
	if (claimed && !unpriv_vcpu_rerun_ok(vcpu, regs, files)) {
		atomic_set_release(&vcpu->state, UNPRIV_VCPU_IDLE);
		claimed = false;
	}
	if (shared)
		rcu_read_unlock();
	if (!claimed)
		goto unpark;

	/* As RUN and UNPRIV_KICK do: see unpriv_vcpu_kick(). */
	WRITE_ONCE(vcpu->task, current);
	if (test_and_clear_bit(UNPRIV_VCPU_KICKED, &vcpu->flags)) {
		ret = -EINTR;
		goto out;
	}
	current->syscall_dispatch.selector = (char __user *)vcpu;
	vcpu->host.sud_on = false;
	ret = unpriv_vcpu_switch_in(vcpu, regs);
	if (!ret)
		return true;
	current->syscall_dispatch.selector =
		(char __user *)((unsigned long)vcpu | UNPRIV_SEL_PARKED);
out:
	vcpu->run->exit_reason = UNPRIV_EXIT_INTR;
	regs->ax = ret;
	vcpu->task = NULL;
	atomic_set_release(&vcpu->state, UNPRIV_VCPU_IDLE);
	return true;

unpark:
	unpriv_vcpu_unpark(vcpu);
	return false;
}

static void unpriv_exit_fault(struct unpriv_run *run,
			      const kernel_siginfo_t *info)
{
	struct thread_struct *t = &current->thread;

	if (t->trap_nr == X86_TRAP_PF &&
	    (info->si_signo == SIGSEGV || info->si_signo == SIGBUS)) {
		run->exit_reason = UNPRIV_EXIT_FAULT;
		run->fault.address = t->cr2;
		run->fault.error_code = t->error_code;
		run->fault.trap = X86_TRAP_PF;
		run->fault.signo = info->si_signo;
		run->fault.si_code = info->si_code;
		run->fault.padding = 0;
		return;
	}
	run->exit_reason = UNPRIV_EXIT_TRAP;
	run->trap.trap = t->trap_nr;
	run->trap.signo = info->si_signo;
	run->trap.si_code = info->si_code;
	run->trap.padding = 0;
	run->trap.address = (unsigned long)info->si_addr;
	run->trap.error_code = t->error_code;
	run->trap.dr6 = t->trap_nr == X86_TRAP_DB ? t->virtual_dr6 : 0;
	t->virtual_dr6 = 0;
}

/* A guest system call: the exit. */
static void unpriv_vcpu_exit_syscall(struct unpriv_vcpu *vcpu,
				     struct pt_regs *regs)
{
	struct unpriv_run *run = vcpu->run;
	u16 insn;

	run->exit_reason = UNPRIV_EXIT_SYSCALL;
	if (in_ia32_syscall()) {
		run->syscall.nr = (u32)regs->orig_ax;
		run->syscall.args[0] = (u32)regs->bx;
		run->syscall.args[1] = (u32)regs->cx;
		run->syscall.args[2] = (u32)regs->dx;
		run->syscall.args[3] = (u32)regs->si;
		run->syscall.args[4] = (u32)regs->di;
		run->syscall.args[5] = (u32)regs->bp;
		run->syscall.compat = 1;
		/*
		 * int $0x80 leaves rip after itself; sysenter and 32-bit
		 * syscall leave it at the (absent) vDSO's landing pad.
		 */
		if (regs->ip >= 2 && !get_user(insn, (u16 __user *)(regs->ip - 2)) &&
		    insn == 0x80cd)
			run->syscall.insn = UNPRIV_SYSCALL_INSN_INT80;
		else
			run->syscall.insn = UNPRIV_SYSCALL_INSN_FAST32;
	} else {
		run->syscall.nr = regs->orig_ax;
		run->syscall.args[0] = regs->di;
		run->syscall.args[1] = regs->si;
		run->syscall.args[2] = regs->dx;
		run->syscall.args[3] = regs->r10;
		run->syscall.args[4] = regs->r8;
		run->syscall.args[5] = regs->r9;
		run->syscall.compat = 0;
		run->syscall.insn = UNPRIV_SYSCALL_INSN_SYSCALL;
	}
	regs->ax = run->syscall.nr;
	unpriv_vcpu_leave(vcpu, regs, 0, run->syscall.nr);
}

/*
 * syscall_user_dispatch(), redirected: a system call of a thread in
 * guest mode, or parked.
 */
bool unpriv_vcpu_syscall(unsigned long sel, struct pt_regs *regs)
{
	struct unpriv_vcpu *vcpu = unpriv_sel_vcpu(sel);

	if (sel & UNPRIV_SEL_PARKED) {
		if (!unpriv_vcpu_rerun(vcpu, regs))
			return false;
	} else if (unpriv_vcpu_phase(vcpu) == UNPRIV_VCPU_GUEST) {
		unpriv_vcpu_exit_syscall(vcpu, regs);
	} else {
		return false;
	}
	/*
	 * Dispatch stays armed, the host's or guest mode's: as for a call
	 * syscall_user_dispatch() takes, its exit work reports nothing to
	 * tracers, which did not see it enter either.
	 */
	current->syscall_dispatch.on_dispatch = true;
	return true;
}

/*
 * A uprobe on guest code steps the probed instruction out of line, in a
 * slot of an area the kernel adds to the guest's mm, with TF set; the
 * thread's uprobe_task holds the step.  An exit in the middle of it (the
 * stepped instruction faults, or a signal or kick comes first) would
 * leave the guest at that slot and take the step to host mode, where
 * uprobe_deny_signal() would hold back the host's signals and a host
 * fault would abort the step onto the host's registers.  So the step is
 * aborted first, in guest mode, as get_signal() does for a fatal signal:
 * the guest is put back at the probed instruction, which hits the probe
 * again when it next runs.  The kernel aborts it on the way out once
 * TIF_UPROBE is set, then calls arch_do_signal_or_restart() again, for
 * TIF_NOTIFY_SIGNAL.  Returns true when the exit has to wait for that.
 */
static bool unpriv_uprobe_abort_step(void)
{
#ifdef CONFIG_UPROBES
	struct uprobe_task *utask = current->utask;

	if (likely(!utask || !utask->active_uprobe))
		return false;
	utask->state = UTASK_SSTEP_TRAPPED;
	set_thread_flag(TIF_UPROBE);
	set_thread_flag(TIF_NOTIFY_SIGNAL);
	return true;
#else
	return false;
#endif
}

/*
 * arch_do_signal_or_restart(), redirected: the thread is on its way to
 * user mode, entering guest mode, in it or parked, with a signal or
 * notification pending.
 */
void unpriv_vcpu_signal(unsigned long sel, struct pt_regs *regs)
{
	struct unpriv_vcpu *vcpu = unpriv_sel_vcpu(sel);
	struct unpriv_run *run = vcpu->run;
	kernel_siginfo_t info;
	int ret = 0;
	u64 what = 0;

	if (sel & UNPRIV_SEL_PARKED) {
		unpriv_vcpu_unpark(vcpu);
		unpriv_call_arch_do_signal_or_restart(regs);
		return;
	}
	if (unpriv_vcpu_phase(vcpu) == UNPRIV_VCPU_ENTERING) {
		unpriv_vcpu_enter(vcpu, regs);
		return;
	}

	if (test_and_clear_bit(UNPRIV_VCPU_EXIT_TAKEN, &vcpu->flags)) {
		/* Taken before a uprobe step was aborted (just below). */
		ret = vcpu->exit_ret;
		what = vcpu->exit_info;
	} else if (unpriv_take_guest_signal(&vcpu->host, &info)) {
		unpriv_exit_fault(run, &info);
		what = run->exit_reason == UNPRIV_EXIT_FAULT ?
		       run->fault.address : run->trap.trap;
	} else {
		run->exit_reason = UNPRIV_EXIT_INTR;
		clear_bit(UNPRIV_VCPU_KICKED, &vcpu->flags);
		ret = -EINTR;
	}
	/* The fault's details are taken: aborting the step changes them. */
	if (unlikely(unpriv_uprobe_abort_step())) {
		vcpu->exit_ret = ret;
		vcpu->exit_info = what;
		set_bit(UNPRIV_VCPU_EXIT_TAKEN, &vcpu->flags);
		return;
	}
	unpriv_vcpu_leave(vcpu, regs, ret, what);

	/* Host signals and task work, now in host mode. */
	if (task_sigpending(current) || test_thread_flag(TIF_NOTIFY_SIGNAL))
		unpriv_call_arch_do_signal_or_restart(regs);
}

/* --- the vcpu fd -------------------------------------------------------- */

/*
 * Bind the vcpu to the address space behind fd.  A warm vcpu run with
 * the same fd again takes no reference: it holds one while bound.
 */
static int unpriv_vcpu_bind(struct unpriv_vcpu *vcpu, unsigned long fd)
{
	struct unpriv_as *as;
	struct file *file;
	bool same;

	if (fd > INT_MAX)
		return -EBADF;
	rcu_read_lock();
	same = vcpu->as_file &&
	       files_lookup_fd_rcu(current->files, fd) == vcpu->as_file;
	rcu_read_unlock();
	if (likely(same))
		return 0;

	file = fget(fd);
	if (!file)
		return -EBADF;
	as = unpriv_as_from_file(file);
	if (!as) {
		fput(file);
		return -EINVAL;
	}
	vcpu->old_as_file = vcpu->as_file;
	vcpu->as_file = file;
	vcpu->as = as;
	return 0;
}

static long unpriv_vcpu_run(struct file *file, unsigned long as_fd)
{
	struct unpriv_vcpu *vcpu = file->private_data;
	int ret;

	if (!unpriv_vcpu_move(vcpu, UNPRIV_VCPU_IDLE, UNPRIV_VCPU_ENTERING))
		return -EBUSY;

	ret = unpriv_vcpu_check_thread();
	if (!ret)
		ret = unpriv_vcpu_bind(vcpu, as_fd);
	if (!ret && !unpriv_as_may_run(vcpu->as))
		ret = -EPERM;
	if (!ret && (READ_ONCE(vcpu->run->immediate_exit) ||
		     test_and_clear_bit(UNPRIV_VCPU_KICKED, &vcpu->flags))) {
		vcpu->run->exit_reason = UNPRIV_EXIT_INTR;
		ret = -EINTR;
	}
	if (ret) {
		unpriv_vcpu_put_old_as(vcpu);
		atomic_set(&vcpu->state, UNPRIV_VCPU_IDLE);
		return ret;
	}

	/* Claim the thread; the guest is entered on the way out. */
	get_file(file);
	vcpu->task = current;
	vcpu->host.sud = current->syscall_dispatch;
	current->syscall_dispatch.selector = (char __user *)vcpu;
	set_thread_flag(TIF_NOTIFY_SIGNAL);
	return 0;
}

static long unpriv_vcpu_kick(struct unpriv_vcpu *vcpu)
{
	struct task_struct *task;

	set_bit(UNPRIV_VCPU_KICKED, &vcpu->flags);
	/*
	 * Order the bit before reading the runner.  The runner sets ->task
	 * and then tests the bit (test_and_clear_bit() is fully ordered) on
	 * entry: either it sees the bit, or we see it and notify it.
	 */
	smp_mb__after_atomic();
	rcu_read_lock();
	task = READ_ONCE(vcpu->task);
	if (task && unpriv_vcpu_phase(vcpu) != UNPRIV_VCPU_IDLE) {
		set_tsk_thread_flag(task, TIF_NOTIFY_SIGNAL);
		kick_process(task);
	}
	rcu_read_unlock();
	return 0;
}

/* The size of an FPU image (UNPRIV_CAP_FPU), the same for every vcpu. */
static unsigned int unpriv_fpu_size;

int unpriv_vcpu_fpu_size(void)
{
	return unpriv_fpu_size;
}

int unpriv_vcpu_init(void)
{
	struct fpu_guest fpu;

	if (!fpu_alloc_guest_fpstate(&fpu))
		return -ENOMEM;
	unpriv_fpu_size = fpu.uabi_size;
	fpu_free_guest_fpstate(&fpu);
	return 0;
}

static long unpriv_vcpu_fpu(struct unpriv_vcpu *vcpu,
			    struct unpriv_fpu __user *ufpu, bool set)
{
	struct fpu_guest *gfpu = &vcpu->fpu;
	struct unpriv_fpu f;
	void *image;
	long ret = 0;

	if (copy_from_user(&f, ufpu, sizeof(f)))
		return -EFAULT;
	if (f.flags || f.size < gfpu->uabi_size)
		return -EINVAL;
	image = kvzalloc(gfpu->uabi_size, GFP_KERNEL);
	if (!image)
		return -ENOMEM;
	if (set && copy_from_user(image, u64_to_user_ptr(f.buf),
				  gfpu->uabi_size)) {
		ret = -EFAULT;
		goto out;
	}

	if (!unpriv_vcpu_move(vcpu, UNPRIV_VCPU_IDLE, UNPRIV_VCPU_BUSY)) {
		ret = -EBUSY;
		goto out;
	}
	if (set)
		ret = fpu_copy_uabi_to_guest_fpstate(gfpu, image,
						     gfpu->fpstate->user_xfeatures,
						     &vcpu->pkru);
	else
		fpu_copy_guest_fpstate_to_uabi(gfpu, image, gfpu->uabi_size,
					       gfpu->fpstate->user_xfeatures,
					       vcpu->pkru);
	atomic_set(&vcpu->state, UNPRIV_VCPU_IDLE);

	if (!set && copy_to_user(u64_to_user_ptr(f.buf), image,
				 gfpu->uabi_size))
		ret = -EFAULT;
out:
	kvfree(image);
	return ret;
}

static long unpriv_vcpu_ioctl(struct file *file, unsigned int cmd,
			      unsigned long arg)
{
	struct unpriv_vcpu *vcpu = file->private_data;

	switch (cmd) {
	case UNPRIV_RUN:
		return unpriv_vcpu_run(file, arg);
	case UNPRIV_KICK:
		return unpriv_vcpu_kick(vcpu);
	case UNPRIV_GET_FPU:
		return unpriv_vcpu_fpu(vcpu, (void __user *)arg, false);
	case UNPRIV_SET_FPU:
		return unpriv_vcpu_fpu(vcpu, (void __user *)arg, true);
	default:
		return -ENOTTY;
	}
}

static int unpriv_vcpu_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct unpriv_vcpu *vcpu = file->private_data;

	if (vma->vm_pgoff || vma->vm_end - vma->vm_start != UNPRIV_RUN_SIZE ||
	    !(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	vma->vm_flags |= VM_DONTEXPAND | VM_DONTDUMP;
	return vm_insert_page(vma, vma->vm_start, virt_to_page(vcpu->run));
}

/* No thread runs the vcpu or is parked on it: each holds its file. */
static int unpriv_vcpu_release(struct inode *inode, struct file *file)
{
	unpriv_vcpu_free(file->private_data);
	return 0;
}

static const struct file_operations unpriv_vcpu_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= unpriv_vcpu_ioctl,
	.mmap		= unpriv_vcpu_mmap,
	.release	= unpriv_vcpu_release,
	.llseek		= noop_llseek,
};

int unpriv_vcpu_create(unsigned long flags)
{
	struct unpriv_vcpu *vcpu;
	struct file *file;
	int fd;

	BUILD_BUG_ON(sizeof(struct unpriv_run) > UNPRIV_RUN_SIZE);
	BUILD_BUG_ON(UNPRIV_RUN_SIZE != PAGE_SIZE);

	if (flags)
		return -EINVAL;

	vcpu = kzalloc(sizeof(*vcpu), GFP_KERNEL_ACCOUNT);
	if (!vcpu)
		return -ENOMEM;
	vcpu->run = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!vcpu->run)
		goto err_free;
	if (!fpu_alloc_guest_fpstate(&vcpu->fpu))
		goto err_free;
	vcpu->pkru = read_pkru();
	atomic_set(&vcpu->state, UNPRIV_VCPU_IDLE);

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		goto err_free_fd;
	/* A parked thread knows its vcpu's fd by this file. */
	file = anon_inode_getfile("[unpriv-vcpu]", &unpriv_vcpu_fops, vcpu,
				  O_RDWR);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		fd = PTR_ERR(file);
		goto err_free_fd;
	}
	vcpu->file = file;
	fd_install(fd, file);
	return fd;

err_free:
	fd = -ENOMEM;
err_free_fd:
	unpriv_vcpu_free(vcpu);
	return fd;
}
