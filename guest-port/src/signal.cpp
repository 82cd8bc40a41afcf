// SPDX-License-Identifier: GPL-2.0
//
// Signal state and delivery to a handler: rt_sigaction, rt_sigprocmask,
// rt_sigpending, rt_sigsuspend, rt_sigtimedwait, sigaltstack, pending
// signals and their information, and the x86-64 frame (struct
// rt_sigframe: the restorer, a ucontext with the registers, mask, FPU
// image and alternate stack, a siginfo) that a handler runs on and
// rt_sigreturn undoes.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <vector>

#include "kernel.hpp"

namespace guest {
namespace {

// The kernel's x86-64 layouts (arch/x86/include/uapi/asm/sigcontext.h,
// ucontext.h, include/uapi/asm-generic/siginfo.h).
struct GuestSigcontext {
	std::uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	std::uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	std::uint16_t cs, gs, fs, ss;
	std::uint64_t err, trapno, oldmask, cr2;
	std::uint64_t fpstate;
	std::uint64_t reserved[8];
};
static_assert(sizeof(GuestSigcontext) == 256);

struct GuestUcontext {
	std::uint64_t flags;
	std::uint64_t link;
	std::uint64_t ss_sp;
	std::int32_t ss_flags, pad;
	std::uint64_t ss_size;
	GuestSigcontext mcontext;
	std::uint64_t sigmask;
};
static_assert(sizeof(GuestUcontext) == 304);

struct GuestRtSigframe {
	std::uint64_t pretcode;
	GuestUcontext uc;
	SigInfo info;
};

constexpr std::uint64_t uc_fp_xstate = 0x1, uc_sigcontext_ss = 0x2, uc_strict_restore_ss = 0x4;
constexpr std::uint32_t fp_xstate_magic1 = 0x46505853, fp_xstate_magic2 = 0x46505845;
constexpr std::size_t fpx_sw_bytes_offset = 464;	// in the legacy FXSAVE area
// The flags a frame may change (the kernel's FIX_EFLAGS): AC, OF, DF,
// TF, SF, ZF, AF, PF, CF, RF.
constexpr std::uint64_t fix_eflags = 0x50dd5;
constexpr std::uint64_t unblockable = sigbit(SIGKILL) | sigbit(SIGSTOP);
constexpr std::uint64_t sa_restorer = 0x04000000;	// the kernel's SA_RESTORER
// The kernel's MINSIGSTKSZ on x86 (2048), not the C library's, which
// may follow the CPU's.
constexpr std::uint64_t min_sigstksz = 2048;

} // namespace

// --- the frame -----------------------------------------------------------------

bool Kernel::setup_frame(Task& t, const SigInfo& info, const SigAction& act,
			 std::uint64_t old_mask)
{
	unpriv::Regs& r = t.regs();
	Mm& mm = t.mm();
	const int signo = info.signo;

	std::vector<std::byte> fpu(t.vcpu().fpu_size() + sizeof(fp_xstate_magic2));
	std::size_t fpu_size = t.vcpu().fpu_size();
	bool have_fpu = fpu_size > fpx_sw_bytes_offset + 48 && t.vcpu().get_fpu(fpu);
	// The stack, as Linux's get_sigframe(): below the red zone, or
	// the alternate stack's top for an SA_ONSTACK handler when the
	// thread is not on it already.
	const bool nested_altstack = t.on_sig_stack(r.rsp);
	bool entering_altstack = false;
	std::uint64_t sp = r.rsp - 128;
	if ((act.flags & SA_ONSTACK) && t.sas_ss_flags(sp) == 0) {
		sp = t.sas_sp + t.sas_size;
		entering_altstack = true;
	}
	std::uint64_t fpstate = 0;
	if (have_fpu) {
		struct {
			std::uint32_t magic1, extended_size;
			std::uint64_t xfeatures;
			std::uint32_t xstate_size, padding[7];
		} sw{fp_xstate_magic1, static_cast<std::uint32_t>(fpu.size()), 0,
		     static_cast<std::uint32_t>(fpu_size), {}};
		if (fpu_size >= 520)
			std::memcpy(&sw.xfeatures, fpu.data() + 512, sizeof(sw.xfeatures));
		std::memcpy(fpu.data() + fpx_sw_bytes_offset, &sw, sizeof(sw));
		std::memcpy(fpu.data() + fpu_size, &fp_xstate_magic2, sizeof(fp_xstate_magic2));
		sp = (sp - fpu.size()) & ~std::uint64_t{63};
		fpstate = sp;
	}
	sp = ((sp - sizeof(GuestRtSigframe)) & ~std::uint64_t{15}) - 8;
	// A frame that would overflow the alternate stack: none, the
	// thread dies with SIGSEGV.
	bool overflow = (nested_altstack || entering_altstack) &&
			!(sp > t.sas_sp && sp - t.sas_sp <= t.sas_size);

	GuestRtSigframe f{};
	f.pretcode = act.restorer;
	f.uc.flags = uc_sigcontext_ss | uc_strict_restore_ss | (have_fpu ? uc_fp_xstate : 0);
	GuestSigcontext& c = f.uc.mcontext;
	c = {r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15,
	     r.rdi, r.rsi, r.rbp, r.rbx, r.rdx, r.rax, r.rcx, r.rsp, r.rip, r.rflags,
	     r.cs, r.gs, r.fs, r.ss, t.trap_err, t.trap_nr, old_mask, t.trap_cr2, fpstate, {}};
	f.uc.sigmask = old_mask;
	f.uc.ss_sp = t.sas_sp;
	f.uc.ss_flags = t.sas_flags;
	f.uc.ss_size = t.sas_size;
	f.info = info;

	bool ok = !overflow && mm.write(sp, std::as_bytes(std::span(&f, 1))).has_value();
	if (ok && have_fpu)
		ok = mm.write(fpstate, fpu).has_value();
	if (!ok || !(act.flags & sa_restorer)) {
		// No room for the frame (or no way back from it): as Linux's
		// force_sigsegv(), fatal when it was SIGSEGV's own.
		force_signal(t, SigInfo::from_process(SIGSEGV, SI_KERNEL, 0, 0), signo == SIGSEGV);
		return false;
	}
	if (t.sas_flags & ss_autodisarm) {
		t.sas_sp = t.sas_size = 0;
		t.sas_flags = SS_DISABLE;
	}
	r.rdi = static_cast<std::uint64_t>(signo);
	r.rsi = sp + offsetof(GuestRtSigframe, info);
	r.rdx = sp + offsetof(GuestRtSigframe, uc);
	r.rax = 0;
	r.rsp = sp;
	r.rip = act.handler;
	r.rflags &= ~std::uint64_t{0x10500};	// DF, RF, TF
	r.cs = unpriv::cs_64;
	return true;
}

SysResult Kernel::sigreturn(Task& t)
{
	unpriv::Regs& r = t.regs();
	auto f = t.mm().read_obj<GuestRtSigframe>(r.rsp - 8);
	const auto bad_frame = [&] {
		force_signal(t, SigInfo::from_process(SIGSEGV, SI_KERNEL, 0, 0));
		return SysResult::noreturn();
	};
	if (!f)
		return bad_frame();
	const GuestSigcontext& c = f->uc.mcontext;
	if (c.fpstate) {
		std::vector<std::byte> fpu(t.vcpu().fpu_size());
		if (!t.mm().read(c.fpstate, fpu) || !t.vcpu().set_fpu(fpu))
			return bad_frame();
	}
	r.r8 = c.r8; r.r9 = c.r9; r.r10 = c.r10; r.r11 = c.r11;
	r.r12 = c.r12; r.r13 = c.r13; r.r14 = c.r14; r.r15 = c.r15;
	r.rdi = c.rdi; r.rsi = c.rsi; r.rbp = c.rbp; r.rbx = c.rbx;
	r.rdx = c.rdx; r.rax = c.rax; r.rcx = c.rcx; r.rsp = c.rsp; r.rip = c.rip;
	r.rflags = (r.rflags & ~fix_eflags) | (c.eflags & fix_eflags);
	r.cs = unpriv::cs_64;
	// A sleep broken before the handler is not for restart_syscall.
	t.restart_block.fn = nullptr;
	{
		std::lock_guard lock(tasks_lock_);
		t.blocked = f->uc.sigmask & ~unblockable;
	}
	// The alternate stack the frame saved, as sigaltstack() would set
	// it from the restored stack pointer (Linux's restore_altstack():
	// an error there is ignored but for EFAULT).
	AltStack ss{f->uc.ss_sp, f->uc.ss_flags, f->uc.ss_size};
	(void)sigaltstack(t, &ss);
	return SysResult::noreturn();
}

KResult<Kernel::AltStack> Kernel::sigaltstack(Task& t, const AltStack *ss)
{
	const std::uint64_t sp = t.regs().rsp;
	AltStack old{t.sas_sp, t.sas_ss_flags(sp) | (t.sas_flags & ss_autodisarm), t.sas_size};
	if (!ss)
		return old;
	if (t.on_sig_stack(sp))
		return kerr(EPERM);
	int mode = ss->flags & ~ss_autodisarm;
	if (mode != SS_DISABLE && mode != SS_ONSTACK && mode != 0)
		return kerr(EINVAL);
	std::uint64_t ss_sp = ss->sp, ss_size = ss->size;
	if (mode == SS_DISABLE) {
		ss_sp = ss_size = 0;
	} else if (ss_size < min_sigstksz) {
		return kerr(ENOMEM);
	}
	t.sas_sp = ss_sp;
	t.sas_size = ss_size;
	t.sas_flags = ss->flags;
	return old;
}

KResult<SigAction> Kernel::sigaction(Task& t, int signo, const SigAction *act)
{
	if (signo < 1 || signo > nsig)
		return kerr(EINVAL);
	if (act && (signo == SIGKILL || signo == SIGSTOP))
		return kerr(EINVAL);
	Process& p = t.process();
	std::lock_guard lock(tasks_lock_);
	SigAction old = p.sighand->actions[signo - 1];
	if (act) {
		SigAction a = *act;
		a.mask &= ~unblockable;
		p.sighand->actions[signo - 1] = a;
		// Now ignored: a pending one goes (POSIX).
		if (a.handler == reinterpret_cast<std::uint64_t>(SIG_IGN) ||
		    (a.handler == 0 && sig_default(signo) == SigDefault::ignore))
			discard_locked(p, sigbit(signo));
	}
	return old;
}

// The calling thread's mask.  A signal it unblocks is taken before
// the guest runs again (the run loop looks).
std::uint64_t Kernel::sigprocmask(Task& t, int how, const std::uint64_t *set)
{
	std::lock_guard lock(tasks_lock_);
	std::uint64_t old = t.blocked;
	if (set) {
		switch (how) {
		case SIG_BLOCK: t.blocked |= *set; break;
		case SIG_UNBLOCK: t.blocked &= ~*set; break;
		default: t.blocked = *set; break;
		}
		t.blocked &= ~unblockable;
	}
	return old;
}

std::uint64_t Kernel::sigpending(Task& t)
{
	std::lock_guard lock(tasks_lock_);
	return (t.pending.set | t.process().pending.set) & t.blocked;
}

SysResult Kernel::sigsuspend(Task& t, std::optional<std::uint64_t> mask)
{
	Process& p = t.process();
	std::unique_lock lock(tasks_lock_);
	if (mask) {
		t.saved_mask = t.blocked;
		t.blocked = *mask & ~unblockable;
	}
	(void)block_locked(t, lock, p.wake, {}, BlockBy::signal, [] { return false; });
	return SysResult::restart_nohand();
}

SysKResult<SigInfo> Kernel::sigtimedwait(Task& t, std::uint64_t set,
					 std::optional<std::int64_t> deadline)
{
	Process& p = t.process();
	set &= ~unblockable;
	std::unique_lock lock(tasks_lock_);
	auto ready = [&] { return (t.pending.set | p.pending.set) & set; };
	if (!ready() && deadline != 0) {
		// Linux's do_sigtimedwait(): what is waited for is unblocked
		// for the wait, so that it wakes the thread; what else
		// comes ends the wait (EINTR) and is taken after it.
		t.real_blocked = t.blocked;
		t.blocked &= ~set;
		Deadline until;
		if (deadline)
			until = std::chrono::steady_clock::time_point{std::chrono::nanoseconds(*deadline)};
		(void)block_locked(t, lock, p.wake, until, BlockBy::signal, ready);
		t.blocked = t.real_blocked;
		t.real_blocked = 0;
	}
	// The thread's own first, then the process's (dequeue_signal()).
	if (std::uint64_t r = t.pending.set & set)
		return dequeue_locked(p, t.pending, __builtin_ctzll(r) + 1);
	if (std::uint64_t r = p.pending.set & set)
		return dequeue_locked(p, p.pending, __builtin_ctzll(r) + 1);
	if (interrupted_locked(t))
		return kerr(SysResult::eintr());
	return kerr(EAGAIN);
}

bool Kernel::set_wait_mask(Task& t, std::uint64_t mask)
{
	std::lock_guard lock(tasks_lock_);
	t.saved_mask = t.blocked;
	t.blocked = mask & ~unblockable;
	return !interrupted_locked(t);
}

void Kernel::restore_wait_mask(Task& t)
{
	std::lock_guard lock(tasks_lock_);
	if (t.saved_mask)
		t.blocked = *t.saved_mask;
	t.saved_mask.reset();
}

// --- signalfd ------------------------------------------------------------------

namespace {

// Watch t's process's signals (Process::signal_watchers); its
// signal_wake made first.  tasks_lock_ held.
KResult<void> watch_locked(Task& t)
{
	if (!t.signal_wake) {
		auto w = WakeFd::make();
		if (!w)
			return kerr(w.error());
		t.signal_wake = std::move(*w);
	}
	t.process().signal_watchers.push_back(&t);
	return {};
}

} // namespace

KResult<std::optional<SigInfo>> Kernel::signalfd_take(Task& t, std::uint64_t mask, bool watch)
{
	Process& p = t.process();
	mask &= ~unblockable;
	std::lock_guard lock(tasks_lock_);
	// The thread's own first, then the process's (dequeue_signal()).
	if (int n = next_signal(t.pending.set & mask))
		return dequeue_locked(p, t.pending, n);
	if (int n = next_signal(p.pending.set & mask))
		return dequeue_locked(p, p.pending, n);
	if (watch) {
		if (auto ok = watch_locked(t); !ok)
			return kerr(ok.error());
	}
	return std::optional<SigInfo>{};
}

KResult<bool> Kernel::signalfd_poll(Task& t, std::uint64_t mask, bool watch)
{
	mask &= ~unblockable;
	std::lock_guard lock(tasks_lock_);
	if ((t.pending.set | t.process().pending.set) & mask)
		return true;
	if (watch) {
		if (auto ok = watch_locked(t); !ok)
			return kerr(ok.error());
	}
	return false;
}

void Kernel::unwatch_signals(Task& t)
{
	std::lock_guard lock(tasks_lock_);
	auto& w = t.process().signal_watchers;
	if (auto it = std::find(w.begin(), w.end(), &t); it != w.end())
		w.erase(it);
}

std::uint64_t Kernel::signal_events(Task& t)
{
	std::lock_guard lock(tasks_lock_);
	return t.process().signal_events;
}

void Kernel::signalfd_changed(Task& t)
{
	std::lock_guard lock(tasks_lock_);
	wake_signal_watchers_locked(t.process());
}

bool Kernel::interrupted(Task& t)
{
	std::lock_guard lock(tasks_lock_);
	return interrupted_locked(t);
}

void Kernel::wake_signal_watchers_locked(Process& p)
{
	p.signal_events++;
	for (Task *w : p.signal_watchers)
		w->signal_wake.wake();
}

} // namespace guest
