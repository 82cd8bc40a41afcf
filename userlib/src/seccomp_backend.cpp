// SPDX-License-Identifier: MIT
//
// The seccomp backend: each address space is a stub process (stub.hpp)
// whose seccomp filter traps every system call made outside the stub's
// code, as modern User-Mode Linux and gVisor's systrap do.  No tracer.
//
// Every exit of the guest is a signal (SIGSYS for a system call, the
// usual ones for faults and traps, kick_signal for a kick) that runs the
// stub's handler on its alternate stack, in memory the owner shares.
// The handler hands control to the owner (ctl->state, and a write to an
// eventfd) and waits on the futex ctl->state; the owner reads the
// guest's registers and FPU from the signal frame, and for the next run
// writes the vcpu's into it.  The handler then sets the FS and GS bases
// (a frame has no room for them) and returns: rt_sigreturn loads the
// rest.
//
// The owner waits in ppoll() for the eventfd and the stub's pidfd, with
// the caller's signal mask; the rest of run() holds host signals back.
// So a host signal ends a run whenever it comes, whatever SA_RESTART
// says, as on the module, and the stub's death ends it at once.
#include <linux/audit.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstring>
#include <vector>

#include "stub.hpp"

namespace unpriv::detail {
namespace {

// --- the filter ----------------------------------------------------------------

// What the stub's own code may call, write() only to its eventfd: anything
// else from there kills it.
std::vector<int> stub_syscalls(bool fsgsbase)
{
	std::vector<int> nrs = {SYS_futex, SYS_mmap, SYS_munmap, SYS_mprotect,
				SYS_rt_sigreturn, SYS_exit_group};
	if (!fsgsbase)
		nrs.push_back(SYS_arch_prctl);
	return nrs;
}

// Traps every system call not made from the stub's code, or not made in
// 64-bit mode; allows the stub's few; kills the stub for any other.
std::vector<sock_filter> build_filter(bool fsgsbase, int efd)
{
	constexpr std::uint32_t code_lo = static_cast<std::uint32_t>(STUB_CODE);
	constexpr std::uint32_t code_hi = static_cast<std::uint32_t>(STUB_CODE >> 32);
	constexpr std::uint32_t code_end = code_lo + static_cast<std::uint32_t>(STUB_CODE_MAX);
	static_assert(code_end > code_lo, "the stub's code crosses 4 GiB");

	const auto allowed = stub_syscalls(fsgsbase);
	const std::size_t n = allowed.size();
	// Where each part starts: the checks (0-9), a jeq per allowed
	// call, the write check, and the three returns.
	const std::size_t write_at = 10 + n, write_fd = write_at + 1;
	const std::size_t kill = write_fd + 2, allow = kill + 1, trap = allow + 1;
	std::vector<sock_filter> f;
	auto to = [&](std::size_t target) {
		return static_cast<std::uint8_t>(target - f.size() - 1);
	};
	auto ld = [&](std::uint32_t off) {
		f.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, off));
	};
	auto jump = [&](std::uint16_t op, std::uint32_t k, std::uint8_t jt,
			std::uint8_t jf) {
		f.push_back(BPF_JUMP(BPF_JMP | op | BPF_K, k, jt, jf));
	};

	ld(offsetof(seccomp_data, arch));
	jump(BPF_JEQ, AUDIT_ARCH_X86_64, 0, to(trap));
	ld(offsetof(seccomp_data, nr));
	jump(BPF_JGE, 0x40000000, to(trap), 0);		// x32, and nr < 0
	ld(offsetof(seccomp_data, instruction_pointer) + 4);
	jump(BPF_JEQ, code_hi, 0, to(trap));
	ld(offsetof(seccomp_data, instruction_pointer));
	jump(BPF_JGE, code_end, to(trap), 0);
	jump(BPF_JGE, code_lo, 0, to(trap));
	ld(offsetof(seccomp_data, nr));
	for (int nr : allowed)
		jump(BPF_JEQ, static_cast<std::uint32_t>(nr), to(allow), 0);
	jump(BPF_JEQ, SYS_write, 0, to(kill));
	ld(offsetof(seccomp_data, args[0]));		// the fd, an int
	jump(BPF_JEQ, static_cast<std::uint32_t>(efd), to(allow), to(kill));
	f.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
	f.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
	f.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP));
	return f;
}

// --- the signal frame ----------------------------------------------------------

constexpr std::size_t fp_sw_off = STUB_FP_SW_OFF;
constexpr std::size_t fp_sw_size = sizeof(stub_fpx_sw_bytes);
constexpr std::size_t xsave_min = 576;
constexpr std::uint64_t xfeature_sse_ymm = 0x6;

struct FrameFpu {
	std::byte *image = nullptr;
	std::size_t size = 0;
	std::uint64_t xfeatures = 0;
};

void regs_to_frame(stub_sigcontext& mc, const Regs& r)
{
	mc.rax = r.rax;
	mc.rbx = r.rbx;
	mc.rcx = r.rcx;
	mc.rdx = r.rdx;
	mc.rsi = r.rsi;
	mc.rdi = r.rdi;
	mc.rbp = r.rbp;
	mc.rsp = r.rsp;
	mc.r8 = r.r8;
	mc.r9 = r.r9;
	mc.r10 = r.r10;
	mc.r11 = r.r11;
	mc.r12 = r.r12;
	mc.r13 = r.r13;
	mc.r14 = r.r14;
	mc.r15 = r.r15;
	mc.rip = r.rip;
	mc.eflags = guest_rflags(r.rflags);
	mc.cs = r.cs ? r.cs : cs_64;
	mc.ss = r.ss ? r.ss : ds_user;
}

void regs_from_frame(Regs& r, const stub_sigcontext& mc, const stub_segs& s)
{
	r.rax = mc.rax;
	r.rbx = mc.rbx;
	r.rcx = mc.rcx;
	r.rdx = mc.rdx;
	r.rsi = mc.rsi;
	r.rdi = mc.rdi;
	r.rbp = mc.rbp;
	r.rsp = mc.rsp;
	r.r8 = mc.r8;
	r.r9 = mc.r9;
	r.r10 = mc.r10;
	r.r11 = mc.r11;
	r.r12 = mc.r12;
	r.r13 = mc.r13;
	r.r14 = mc.r14;
	r.r15 = mc.r15;
	r.rip = mc.rip;
	r.rflags = mc.eflags;
	r.cs = mc.cs;
	r.ss = mc.ss;
	r.ds = s.ds;
	r.es = s.es;
	r.fs = s.fs;
	r.gs = s.gs;
	r.fs_base = s.fs_base;
	r.gs_base = s.gs_base;
}

stub_segs segs_of(const Regs& r)
{
	return {.fs_base = r.fs_base, .gs_base = r.gs_base, .ds = r.ds,
		.es = r.es, .fs = r.fs, .gs = r.gs, .padding = 0};
}

// si_code of SIGSYS from a seccomp filter.
constexpr int sys_seccomp = 1;

bool sync_signal(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL ||
	       sig == SIGFPE || sig == SIGTRAP;
}

// Holds the calling thread's asynchronous signals for its lifetime: they
// stay pending until the owner waits with the caller's mask, or this goes.
// Not the synchronous ones: a fault the host code itself takes must reach
// its handler.
class SignalsHeld {
public:
	SignalsHeld() noexcept
	{
		sigset_t all;
		sigfillset(&all);
		for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS})
			sigdelset(&all, sig);
		pthread_sigmask(SIG_BLOCK, &all, &caller_);
	}
	~SignalsHeld() { pthread_sigmask(SIG_SETMASK, &caller_, nullptr); }
	SignalsHeld(const SignalsHeld&) = delete;
	SignalsHeld& operator=(const SignalsHeld&) = delete;

	[[nodiscard]] const sigset_t& caller() const noexcept { return caller_; }

private:
	sigset_t caller_;
};

class SeccompAddressSpace final : public StubAddressSpace {
public:
	SeccompAddressSpace(StubProcess proc, Fd efd) noexcept
		: StubAddressSpace(BackendKind::seccomp, std::move(proc)),
		  efd_(std::move(efd))
	{
	}

	Result<Exit> run(StubVcpu& v) override;

	// At creation: the stub's first entry into its handler.
	Result<void> wait_ready();

protected:
	Result<void> exec_ops(std::uint32_t n) override;

private:
	// One caller at a time in the stub: EBUSY for the others.
	class Busy {
	public:
		explicit Busy(std::atomic<bool>& b) noexcept
			: b_(b), held_(!b.exchange(true))
		{
		}
		~Busy()
		{
			if (held_)
				b_.store(false);
		}
		explicit operator bool() const noexcept { return held_; }

	private:
		std::atomic<bool>& b_;
		bool held_;
	};

	// Hand the stub cmd and wait until it hands back; as for
	// wait_owner().
	Result<void> hand_over(std::uint32_t cmd, const sigset_t *mask = nullptr,
			       bool *interrupting = nullptr);
	// Wait for ctl->state STUB_TO_OWNER, with the signal mask mask
	// (when given) while waiting.  A host signal's handler that ends
	// the wait sets *interrupting (when given) and kicks the stub.
	Result<void> wait_owner(const sigset_t *mask = nullptr,
				bool *interrupting = nullptr);

	// The frame the stub waits in, checked to be in its data area.
	stub_ucontext *frame() const noexcept;
	FrameFpu frame_fpu(const stub_ucontext& uc) const noexcept;
	Result<void> save(StubVcpu& v, const stub_ucontext& uc,
			  const stub_exit& e);
	Result<Exit> syscall_exit(StubVcpu& v, const stub_exit& e);

	Fd efd_;		// the stub writes it to hand control back
	std::atomic<bool> busy_{false};
	std::uint32_t ops_seq_ = 0;
};

Result<void> SeccompAddressSpace::wait_owner(const sigset_t *mask,
					    bool *interrupting)
{
	using clock = std::chrono::steady_clock;
	// A guest that escaped into the stub could block the kick; after
	// this long without an answer the stub counts as broken.
	constexpr auto kick_grace = std::chrono::seconds(10);
	const std::uint32_t *state = &proc_.ctl()->state;
	clock::time_point deadline{};

	for (;;) {
		std::uint32_t s = __atomic_load_n(state, __ATOMIC_ACQUIRE);
		if (s == STUB_TO_OWNER)
			return {};
		if (s != STUB_TO_STUB)
			return broken();

		struct pollfd fds[2] = {
			{.fd = efd_.get(), .events = POLLIN, .revents = 0},
			{.fd = proc_.pidfd(), .events = POLLIN, .revents = 0},
		};
		timespec grace{}, *timeout = nullptr;
		if (interrupting && *interrupting) {
			auto left = std::max(deadline - clock::now(),
					     clock::duration::zero());
			auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left);
			grace.tv_sec = static_cast<time_t>(ns.count() / 1000000000);
			grace.tv_nsec = static_cast<long>(ns.count() % 1000000000);
			timeout = &grace;
		}
		// ppoll() sets the caller's mask only while it waits: a host
		// signal that comes in at any other time waits for it.
		int r = ppoll(fds, 2, timeout, mask);
		if (r < 0 && errno == EINTR) {
			if (interrupting && !*interrupting) {
				*interrupting = true;
				deadline = clock::now() + kick_grace;
				signal_stub(proc_.pidfd(), kick_signal);
			}
			continue;
		}
		if (r < 0)
			return broken();
		if (fds[0].revents) {
			std::uint64_t count;
			(void)!::read(efd_.get(), &count, sizeof(count));
			continue;
		}
		if (fds[1].revents || r == 0)	// dead, or no answer
			return broken();
	}
}

Result<void> SeccompAddressSpace::hand_over(std::uint32_t cmd,
					    const sigset_t *mask,
					    bool *interrupting)
{
	stub_ctl *c = proc_.ctl();

	c->cmd = cmd;
	__atomic_store_n(&c->state, STUB_TO_STUB, __ATOMIC_RELEASE);
	syscall(SYS_futex, &c->state, FUTEX_WAKE, 1, nullptr, nullptr, 0);
	return wait_owner(mask, interrupting);
}

Result<void> SeccompAddressSpace::wait_ready()
{
	if (auto ok = wait_owner(); !ok)
		return ok;
	const stub_exit& e = proc_.ctl()->exit;
	if (e.signo != SIGTRAP || !frame() || !frame_fpu(*frame()).image)
		return broken();
	return {};
}

stub_ucontext *SeccompAddressSpace::frame() const noexcept
{
	std::uint64_t uc = proc_.ctl()->exit.uc;

	if (uc % 8 || uc < STUB_DATA + STUB_ALTSTACK_OFF)
		return nullptr;
	return reinterpret_cast<stub_ucontext *>(
		proc_.data_at(uc, sizeof(stub_ucontext)));
}

// The frame's XSAVE image, if it is whole and where it belongs.
FrameFpu SeccompAddressSpace::frame_fpu(const stub_ucontext& uc) const noexcept
{
	FrameFpu f;
	std::uint64_t fp = uc.mc.fpstate;

	if (fp % 64)
		return {};
	std::byte *image = proc_.data_at(fp, xsave_min);
	if (!image)
		return {};
	stub_fpx_sw_bytes sw;
	std::memcpy(&sw, image + fp_sw_off, sizeof(sw));
	if (sw.magic1 != STUB_FP_XSTATE_MAGIC1 || sw.xstate_size < xsave_min ||
	    !proc_.data_at(fp, std::uint64_t{sw.xstate_size} + 4))
		return {};
	std::uint32_t magic2;
	std::memcpy(&magic2, image + sw.xstate_size, sizeof(magic2));
	if (magic2 != STUB_FP_XSTATE_MAGIC2)
		return {};
	f.image = image;
	f.size = sw.xstate_size;
	f.xfeatures = sw.xfeatures;
	return f;
}

Result<void> SeccompAddressSpace::save(StubVcpu& v, const stub_ucontext& uc,
				       const stub_exit& e)
{
	FrameFpu f = frame_fpu(uc);
	if (!f.image)
		return broken();
	regs_from_frame(v.regs_, uc.mc, e.segs);
	std::size_t n = std::min(f.size, v.fpu_.size());
	std::memcpy(v.fpu_.data(), f.image, n);
	v.layout_.normalize(v.fpu_);
	fpu_gen_ = v.fpu_gen_;
	return {};
}

Result<Exit> SeccompAddressSpace::syscall_exit(StubVcpu& v, const stub_exit& e)
{
	const Regs& r = v.regs_;
	SyscallExit s{.nr = r.rax, .args = {}, .insn = SyscallInsn::syscall,
		      .compat = false};

	if (e.arch == AUDIT_ARCH_X86_64) {
		s.args = {r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9};
	} else {
		auto u32 = [](std::uint64_t x) { return x & 0xffffffff; };
		s.nr = u32(r.rax);
		s.args = {u32(r.rbx), u32(r.rcx), u32(r.rdx), u32(r.rsi),
			  u32(r.rdi), u32(r.rbp)};
		s.compat = true;
		// int $0x80 leaves rip after itself; sysenter and 32-bit
		// syscall at the (absent) vDSO's landing pad.
		s.insn = SyscallInsn::fast32;
		std::uint8_t insn[2] = {};
		if (r.rip >= 2) {
			auto got = proc_.rw(r.rip - 2, insn, 2, false);
			if (got && *got == 2 && insn[0] == 0xcd && insn[1] == 0x80)
				s.insn = SyscallInsn::int80;
		}
	}
	v.regs_.rax = s.nr;
	return s;
}

Result<Exit> SeccompAddressSpace::run(StubVcpu& v)
{
	Busy busy(busy_);
	if (!busy)
		return fail_errno(EBUSY);
	if (dead_)
		return fail(errc::backend_failed);
	// Host signals wait while run() is not waiting (see wait_owner()).
	SignalsHeld held;
	const sigset_t& caller = held.caller();

	stub_ctl *c = proc_.ctl();
	stub_ucontext *uc = frame();
	if (!uc)
		return broken();
	regs_to_frame(uc->mc, v.regs_);
	c->run = segs_of(v.regs_);
	if (fpu_gen_ != v.fpu_gen_) {
		FrameFpu f = frame_fpu(*uc);
		if (!f.image)
			return broken();
		// The image, but for the frame's own bookkeeping (the
		// software-reserved bytes) and for what it does not hold.
		std::byte sw[fp_sw_size];
		std::memcpy(sw, f.image + fp_sw_off, fp_sw_size);
		std::memcpy(f.image, v.fpu_.data(), std::min(f.size, v.fpu_.size()));
		std::memcpy(f.image + fp_sw_off, sw, fp_sw_size);
		std::uint64_t bv;
		std::memcpy(&bv, f.image + 512, sizeof(bv));
		bv &= f.xfeatures;
		std::memcpy(f.image + 512, &bv, sizeof(bv));
		if (!(bv & xfeature_sse_ymm)) {
			std::uint32_t mxcsr = 0x1f80;
			std::memcpy(f.image + 24, &mxcsr, sizeof(mxcsr));
		}
		fpu_gen_ = v.fpu_gen_;
	}

	bool interrupting = false;
	for (;;) {
		if (auto ok = hand_over(STUB_CMD_RUN, &caller, &interrupting); !ok)
			return tl::unexpected(ok.error());
		const stub_exit e = c->exit;
		uc = frame();
		if (!uc)
			return broken();

		if (e.signo == kick_signal && (interrupting || v.take_kick())) {
			if (auto ok = save(v, *uc, e); !ok)
				return tl::unexpected(ok.error());
			return InterruptedExit{};
		}
		if (e.signo == SIGSYS && e.code == sys_seccomp) {
			if (auto ok = save(v, *uc, e); !ok)
				return tl::unexpected(ok.error());
			return syscall_exit(v, e);
		}
		// si_code > 0: raised by the guest, not sent by someone.
		if (sync_signal(e.signo) && e.code > 0) {
			if (auto ok = save(v, *uc, e); !ok)
				return tl::unexpected(ok.error());
			// The frame has no DR6; the kernel sets TRAP_TRACE
			// exactly when DR6.BS is set.
			std::uint64_t dr6 = e.code == TRAP_TRACE ? 0x4000 : 0;
			return fault_exit(e.signo, e.code, e.addr, e.trapno,
					  e.err, e.cr2, dr6);
		}
		// Not the guest's (a stale kick, a signal someone sent the
		// stub): the guest goes on as the frame has it.
		c->run = e.segs;
	}
}

Result<void> SeccompAddressSpace::exec_ops(std::uint32_t n)
{
	Busy busy(busy_);
	if (!busy)
		return fail_errno(EBUSY);
	if (dead_)
		return fail(errc::backend_failed);

	stub_ctl *c = proc_.ctl();
	c->nops = n;
	c->done = 0;
	c->error = 0;
	c->ops_req = ++ops_seq_;
	if (auto ok = hand_over(STUB_CMD_OPS); !ok)
		return ok;
	if (__atomic_load_n(&c->ops_seq, __ATOMIC_ACQUIRE) != ops_seq_)
		return broken();
	return {};
}

} // namespace

Result<std::unique_ptr<AddressSpaceImpl>> create_seccomp_address_space()
{
	Fd efd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
	if (!efd)
		return fail_errno();
	const bool fsgsbase = getauxval(AT_HWCAP2) & 2;	// HWCAP2_FSGSBASE
	const auto filter = build_filter(fsgsbase, efd.get());

	auto p = StubProcess::start(STUB_MODE_SECCOMP, filter, efd.get());
	if (!p)
		return tl::unexpected(p.error());
	if (auto ok = p->open_mem(); !ok)
		return tl::unexpected(ok.error());
	auto as = std::make_unique<SeccompAddressSpace>(std::move(*p),
							std::move(efd));
	if (auto ok = as->wait_ready(); !ok)
		return tl::unexpected(ok.error());
	return as;
}

Result<std::shared_ptr<BackendImpl>> open_seccomp_backend()
{
	const FpuLayout *fpu = FpuLayout::get();
	if (!fpu)
		return fail(errc::not_supported);
	return std::make_shared<StubBackend>(BackendKind::seccomp, *fpu);
}

} // namespace unpriv::detail
