// SPDX-License-Identifier: MIT
//
// The seccomp backend: each address space is a stub process (stub.hpp)
// whose seccomp filter traps every system call made outside the stub's
// code, as modern User-Mode Linux and gVisor's systrap do.  No tracer.
//
// Every exit of the guest is a signal (SIGSYS for a system call, the
// usual ones for faults and traps, kick_signal for a kick) that runs the
// stub's handler on its alternate stack, in memory the owner shares.
// The handler hands control to the owner through the futex ctl->state
// and waits; the owner reads the guest's registers and FPU from the
// signal frame, and for the next run writes the vcpu's into it.  The
// handler then sets the FS and GS bases (a frame has no room for them)
// and returns: rt_sigreturn loads the rest.
#include <linux/audit.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <signal.h>
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

// What the stub's own code may call: anything else from there kills it.
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
std::vector<sock_filter> build_filter(bool fsgsbase)
{
	constexpr std::uint32_t code_lo = static_cast<std::uint32_t>(STUB_CODE);
	constexpr std::uint32_t code_hi = static_cast<std::uint32_t>(STUB_CODE >> 32);
	constexpr std::uint32_t code_end = code_lo + static_cast<std::uint32_t>(STUB_CODE_MAX);
	static_assert(code_end > code_lo, "the stub's code crosses 4 GiB");

	const auto allowed = stub_syscalls(fsgsbase);
	const auto n = static_cast<std::uint8_t>(allowed.size());
	std::vector<sock_filter> f;
	auto ld = [&](std::uint32_t off) {
		f.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, off));
	};
	// Jumps to the trap that ends the filter: counted from the
	// instruction after this one to the end.
	auto to_trap = [&](std::size_t rest) {
		return static_cast<std::uint8_t>(rest);
	};

	// Layout (rest = instructions after the jump, up to "trap"):
	//  0 ld arch;  1 jeq X86_64
	//  2 ld nr;    3 jge X32 bit
	//  4 ld ip_hi; 5 jeq code_hi
	//  6 ld ip_lo; 7 jge code_end; 8 jge code_lo
	//  9 ld nr; 10.. jeq allowed (n); kill; allow; trap
	const std::size_t trap_at = 10 + n + 2;
	auto rest = [&](std::size_t at) { return to_trap(trap_at - at - 1); };

	ld(offsetof(seccomp_data, arch));
	f.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, rest(1)));
	ld(offsetof(seccomp_data, nr));
	f.push_back(BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, rest(3), 0));
	ld(offsetof(seccomp_data, instruction_pointer) + 4);
	f.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, code_hi, 0, rest(5)));
	ld(offsetof(seccomp_data, instruction_pointer));
	f.push_back(BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, code_end, rest(7), 0));
	f.push_back(BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, code_lo, 0, rest(8)));
	ld(offsetof(seccomp_data, nr));
	for (std::uint8_t i = 0; i < n; i++)
		f.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
				     static_cast<std::uint32_t>(allowed[i]),
				     static_cast<std::uint8_t>(n - i), 0));
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

class SeccompAddressSpace final : public StubAddressSpace {
public:
	explicit SeccompAddressSpace(StubProcess proc) noexcept
		: StubAddressSpace(BackendKind::seccomp, std::move(proc))
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

	// Hand the stub cmd and wait until it hands back; interrupting as
	// for wait_owner().
	Result<void> hand_over(std::uint32_t cmd, bool *interrupting);
	// Wait for ctl->state STUB_TO_OWNER.  A host signal's handler that
	// interrupts the wait sets *interrupting (when given) and kicks
	// the stub.
	Result<void> wait_owner(bool *interrupting);

	// The frame the stub waits in, checked to be in its data area.
	stub_ucontext *frame() const noexcept;
	FrameFpu frame_fpu(const stub_ucontext& uc) const noexcept;
	Result<void> save(StubVcpu& v, const stub_ucontext& uc,
			  const stub_exit& e);
	Result<Exit> syscall_exit(StubVcpu& v, const stub_exit& e);

	std::atomic<bool> busy_{false};
	std::uint32_t ops_seq_ = 0;
};

Result<void> SeccompAddressSpace::wait_owner(bool *interrupting)
{
	using clock = std::chrono::steady_clock;
	// A guest that escaped into the stub could block the kick; after
	// this long without an answer the stub counts as broken.
	constexpr auto kick_grace = std::chrono::seconds(10);
	std::uint32_t *state = &proc_.ctl()->state;
	clock::time_point deadline{};

	for (;;) {
		std::uint32_t s = __atomic_load_n(state, __ATOMIC_ACQUIRE);
		if (s == STUB_TO_OWNER)
			return {};
		if (s != STUB_TO_STUB)
			return broken();
		// With a timeout, a futex wait ends with EINTR for any
		// signal a handler takes, SA_RESTART or not.
		timespec ts{.tv_sec = 1, .tv_nsec = 0};
		long r = syscall(SYS_futex, state, FUTEX_WAIT, STUB_TO_STUB,
				 &ts, nullptr, 0);
		int err = r < 0 ? errno : 0;
		if (__atomic_load_n(state, __ATOMIC_ACQUIRE) == STUB_TO_OWNER)
			return {};
		if (err == EINTR) {
			if (interrupting && !*interrupting) {
				*interrupting = true;
				deadline = clock::now() + kick_grace;
				signal_stub(proc_.pidfd(), kick_signal);
			}
			continue;
		}
		// Woken with nothing handed back: the stub died (its robust
		// list wakes the futex), or the wait timed out.
		if (!proc_.alive())
			return broken();
		if (interrupting && *interrupting && clock::now() > deadline)
			return broken();
	}
}

Result<void> SeccompAddressSpace::hand_over(std::uint32_t cmd,
					    bool *interrupting)
{
	stub_ctl *c = proc_.ctl();

	c->cmd = cmd;
	__atomic_store_n(&c->state, STUB_TO_STUB, __ATOMIC_RELEASE);
	long woken = syscall(SYS_futex, &c->state, FUTEX_WAKE, 1, nullptr,
			     nullptr, 0);
	// Nobody waiting: the stub is about to, or is dead.
	if (woken == 0 && !proc_.alive())
		return broken();
	return wait_owner(interrupting);
}

Result<void> SeccompAddressSpace::wait_ready()
{
	if (auto ok = wait_owner(nullptr); !ok)
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
		if (auto ok = hand_over(STUB_CMD_RUN, &interrupting); !ok)
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
	if (auto ok = hand_over(STUB_CMD_OPS, nullptr); !ok)
		return ok;
	if (__atomic_load_n(&c->ops_seq, __ATOMIC_ACQUIRE) != ops_seq_)
		return broken();
	return {};
}

} // namespace

Result<std::unique_ptr<AddressSpaceImpl>> create_seccomp_address_space()
{
	const bool fsgsbase = getauxval(AT_HWCAP2) & 2;	// HWCAP2_FSGSBASE
	const auto filter = build_filter(fsgsbase);

	auto p = StubProcess::start(STUB_MODE_SECCOMP, filter);
	if (!p)
		return tl::unexpected(p.error());
	if (auto ok = p->open_mem(); !ok)
		return tl::unexpected(ok.error());
	auto as = std::make_unique<SeccompAddressSpace>(std::move(*p));
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
