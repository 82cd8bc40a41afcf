// SPDX-License-Identifier: MIT
//
// The ptrace backend: each address space is a stub process (stub.hpp)
// traced by the thread that created it, User-Mode Linux's skas way.
//
// run() loads the vcpu's registers and FPU image into the stub with
// PTRACE_SETREGS and PTRACE_SETREGSET, and resumes it with PTRACE_SYSEMU:
// every system call the guest makes stops at its entry and does not run.
// Faults and traps stop as signals; the tracer passes each into the
// stub's handler, which records the error code, trap number and cr2 that
// only a signal frame holds, and traps again.  Mapping operations run in
// the stub: the tracer points it at unpriv_stub_ops().
#include <elf.h>
#include <linux/audit.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>

#include <cstddef>
#include <cstring>

#include "stub.hpp"

namespace unpriv::detail {
namespace {

// ptrace reports DR6 as the CPU has it, the bits that read as 1 set; the
// module reports only what the debug exception set (Linux's virtual_dr6).
constexpr std::uint64_t dr6_reserved = 0xffff0ff0;

constexpr int syscall_stop = SIGTRAP | 0x80;	// PTRACE_O_TRACESYSGOOD

bool sync_signal(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL ||
	       sig == SIGFPE || sig == SIGTRAP;
}

user_regs_struct to_user(const Regs& r)
{
	user_regs_struct u{};

	u.rax = r.rax;
	u.rbx = r.rbx;
	u.rcx = r.rcx;
	u.rdx = r.rdx;
	u.rsi = r.rsi;
	u.rdi = r.rdi;
	u.rbp = r.rbp;
	u.rsp = r.rsp;
	u.r8 = r.r8;
	u.r9 = r.r9;
	u.r10 = r.r10;
	u.r11 = r.r11;
	u.r12 = r.r12;
	u.r13 = r.r13;
	u.r14 = r.r14;
	u.r15 = r.r15;
	u.rip = r.rip;
	u.eflags = guest_rflags(r.rflags);
	u.cs = r.cs ? r.cs : cs_64;
	u.ss = r.ss ? r.ss : ds_user;
	u.ds = r.ds;
	u.es = r.es;
	u.fs = r.fs;
	u.gs = r.gs;
	u.fs_base = r.fs_base;
	u.gs_base = r.gs_base;
	// No system call to restart: a signal on the way back to the guest
	// must not rewind rip, whatever rax holds.
	u.orig_rax = ~0ULL;
	return u;
}

void from_user(Regs& r, const user_regs_struct& u)
{
	r.rax = u.rax;
	r.rbx = u.rbx;
	r.rcx = u.rcx;
	r.rdx = u.rdx;
	r.rsi = u.rsi;
	r.rdi = u.rdi;
	r.rbp = u.rbp;
	r.rsp = u.rsp;
	r.r8 = u.r8;
	r.r9 = u.r9;
	r.r10 = u.r10;
	r.r11 = u.r11;
	r.r12 = u.r12;
	r.r13 = u.r13;
	r.r14 = u.r14;
	r.r15 = u.r15;
	r.rip = u.rip;
	r.rflags = u.eflags;
	r.cs = static_cast<std::uint16_t>(u.cs);
	r.ss = static_cast<std::uint16_t>(u.ss);
	r.ds = static_cast<std::uint16_t>(u.ds);
	r.es = static_cast<std::uint16_t>(u.es);
	r.fs = static_cast<std::uint16_t>(u.fs);
	r.gs = static_cast<std::uint16_t>(u.gs);
	r.fs_base = u.fs_base;
	r.gs_base = u.gs_base;
}

class PtraceAddressSpace final : public StubAddressSpace {
public:
	PtraceAddressSpace(StubProcess proc, pid_t tracer) noexcept
		: StubAddressSpace(BackendKind::ptrace, std::move(proc)),
		  tracer_(tracer)
	{
	}

	Result<Exit> run(StubVcpu& v) override;

protected:
	Result<void> exec_ops(std::uint32_t n) override;

private:
	long pt(int req, std::uintptr_t addr, const void *data) const noexcept
	{
		return ptrace(static_cast<__ptrace_request>(req), pid(), addr,
			      const_cast<void *>(data));
	}

	// The next stop of the stub: its signal.  interrupting (when given)
	// is set, and the stub kicked, when a host signal's handler
	// interrupts the wait.
	Result<int> wait_stop(bool *interrupting = nullptr);
	// Resume the stub, with sig; resume with PTRACE_CONT and wait for
	// the int3 that ends stub code, seq (when given) showing it was
	// the stub's.
	Result<void> resume(int req, int sig);
	Result<void> wait_stub_trap(const std::uint32_t *seq, std::uint32_t want);

	Result<void> check_tracer() noexcept;
	Result<void> put_state(StubVcpu& v);
	Result<void> get_state(StubVcpu& v);
	Result<Exit> syscall_exit(StubVcpu& v);
	Result<Exit> signal_exit(StubVcpu& v, const siginfo_t& si);

	pid_t tracer_;
	std::uint32_t ops_seq_ = 0;
};

Result<int> PtraceAddressSpace::wait_stop(bool *interrupting)
{
	for (;;) {
		int st;
		pid_t r = waitpid(pid(), &st, __WALL);
		if (r == pid()) {
			if (WIFSTOPPED(st))
				return WSTOPSIG(st);
			if (WIFEXITED(st) || WIFSIGNALED(st))
				return broken();
			continue;
		}
		if (r < 0 && errno == EINTR) {
			if (interrupting && !*interrupting) {
				*interrupting = true;
				signal_stub(proc_.pidfd(), kick_signal);
			}
			continue;
		}
		return broken();
	}
}

Result<void> PtraceAddressSpace::resume(int req, int sig)
{
	if (pt(req, 0, reinterpret_cast<void *>(static_cast<std::uintptr_t>(sig))) < 0)
		return broken();
	return {};
}

// Stub code ends in int3; on the way, signals that are not its own are
// dropped (a kick stays in the vcpu for its next run), a fault is the
// stub's end.
Result<void> PtraceAddressSpace::wait_stub_trap(const std::uint32_t *seq,
						std::uint32_t want)
{
	if (auto ok = resume(PTRACE_CONT, 0); !ok)
		return ok;
	for (;;) {
		auto sig = wait_stop();
		if (!sig)
			return tl::unexpected(sig.error());
		if (*sig == SIGTRAP &&
		    __atomic_load_n(seq, __ATOMIC_ACQUIRE) == want)
			return {};
		if (sync_signal(*sig))
			return broken();
		if (auto ok = resume(PTRACE_CONT, 0); !ok)
			return ok;
	}
}

Result<void> PtraceAddressSpace::put_state(StubVcpu& v)
{
	user_regs_struct u = to_user(v.regs_);
	if (pt(PTRACE_SETREGS, 0, &u) < 0)
		return errno == ESRCH ? broken() : fail_errno(EINVAL);
	if (fpu_gen_ != v.fpu_gen_) {
		iovec iov{v.fpu_.data(), v.fpu_.size()};
		if (pt(PTRACE_SETREGSET, NT_X86_XSTATE, &iov) < 0)
			return errno == ESRCH ? broken() : fail_errno(EINVAL);
		fpu_gen_ = v.fpu_gen_;
	}
	return {};
}

Result<void> PtraceAddressSpace::get_state(StubVcpu& v)
{
	user_regs_struct u;
	if (pt(PTRACE_GETREGS, 0, &u) < 0)
		return broken();
	from_user(v.regs_, u);
	iovec iov{v.fpu_.data(), v.fpu_.size()};
	if (pt(PTRACE_GETREGSET, NT_X86_XSTATE, &iov) < 0)
		return broken();
	fpu_gen_ = v.fpu_gen_;
	return {};
}

Result<Exit> PtraceAddressSpace::syscall_exit(StubVcpu& v)
{
	__ptrace_syscall_info info{};

	if (auto ok = get_state(v); !ok)
		return tl::unexpected(ok.error());
	if (pt(PTRACE_GET_SYSCALL_INFO, sizeof(info), &info) <= 0 ||
	    info.op != PTRACE_SYSCALL_INFO_ENTRY)
		return broken();

	SyscallExit e{.nr = info.entry.nr, .args = {},
		      .insn = SyscallInsn::syscall, .compat = false};
	for (std::size_t i = 0; i < e.args.size(); i++)
		e.args[i] = info.entry.args[i];
	if (info.arch != AUDIT_ARCH_X86_64) {
		// int $0x80 leaves rip after itself; sysenter and 32-bit
		// syscall at the (absent) vDSO's landing pad.
		std::uint8_t insn[2] = {};
		e.nr = static_cast<std::uint32_t>(e.nr);
		e.compat = true;
		e.insn = SyscallInsn::fast32;
		if (v.regs_.rip >= 2) {
			auto n = proc_.rw(v.regs_.rip - 2, insn, 2, false);
			if (n && *n == 2 && insn[0] == 0xcd && insn[1] == 0x80)
				e.insn = SyscallInsn::int80;
		}
	}
	// orig_rax, as the guest passed it.
	v.regs_.rax = e.nr;
	return e;
}

// A fault or trap: its details come from the stub's handler, which the
// signal is passed to.  The handler's frame changes the stub's registers
// and FPU: the guest's are saved first.
Result<Exit> PtraceAddressSpace::signal_exit(StubVcpu& v, const siginfo_t& si)
{
	std::uint64_t dr6 = 0;

	if (auto ok = get_state(v); !ok)
		return tl::unexpected(ok.error());
	if (si.si_signo == SIGTRAP) {
		errno = 0;
		long d = pt(PTRACE_PEEKUSER,
			    offsetof(struct user, u_debugreg) + 6 * sizeof(long),
			    nullptr);
		if (errno)
			return broken();
		dr6 = (static_cast<std::uint64_t>(d) ^ dr6_reserved) & 0xffffffff;
	}

	stub_exit *e = &proc_.ctl()->exit;
	std::uint32_t want = e->seq + 1;
	fpu_gen_ = 0;
	if (auto ok = resume(PTRACE_CONT, si.si_signo); !ok)
		return tl::unexpected(ok.error());
	for (;;) {
		auto sig = wait_stop();
		if (!sig)
			return tl::unexpected(sig.error());
		if (*sig == SIGTRAP &&
		    __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE) == want)
			break;
		if (sync_signal(*sig))
			return broken();
		if (auto ok = resume(PTRACE_CONT, 0); !ok)
			return tl::unexpected(ok.error());
	}
	return fault_exit(si.si_signo, si.si_code,
			  reinterpret_cast<std::uintptr_t>(si.si_addr),
			  e->trapno, e->err, e->cr2, dr6);
}

// Only the tracer can act on the stub; to any other thread the stub's
// death is the more useful news.
Result<void> PtraceAddressSpace::check_tracer() noexcept
{
	if (dead_)
		return fail(errc::backend_failed);
	if (current_tid() != tracer_)
		return proc_.alive() ? fail(errc::wrong_thread) : broken();
	return {};
}

Result<Exit> PtraceAddressSpace::run(StubVcpu& v)
{
	if (auto ok = check_tracer(); !ok)
		return tl::unexpected(ok.error());
	if (auto ok = put_state(v); !ok)
		return tl::unexpected(ok.error());

	bool interrupting = false;
	for (;;) {
		if (auto ok = resume(PTRACE_SYSEMU, 0); !ok)
			return tl::unexpected(ok.error());
		auto sig = wait_stop(&interrupting);
		if (!sig)
			return tl::unexpected(sig.error());
		if (*sig == syscall_stop)
			return syscall_exit(v);
		if (*sig == kick_signal && (interrupting || v.take_kick())) {
			if (auto ok = get_state(v); !ok)
				return tl::unexpected(ok.error());
			return InterruptedExit{};
		}
		if (sync_signal(*sig)) {
			siginfo_t si;
			if (pt(PTRACE_GETSIGINFO, 0, &si) < 0)
				return broken();
			// Raised by the guest, not sent by someone.
			if (si.si_code > 0)
				return signal_exit(v, si);
		}
		// Not the guest's: a stale kick, a signal someone sent the
		// stub.  Dropped; the guest goes on.
	}
}

Result<void> PtraceAddressSpace::exec_ops(std::uint32_t n)
{
	if (auto ok = check_tracer(); !ok)
		return ok;

	stub_ctl *c = proc_.ctl();
	c->nops = n;
	c->done = 0;
	c->error = 0;
	c->ops_req = ++ops_seq_;

	user_regs_struct u{};
	u.rip = STUB_CODE + (reinterpret_cast<std::uintptr_t>(&unpriv_stub_ops) -
			     reinterpret_cast<std::uintptr_t>(__start_unpriv_stub));
	u.rsp = STUB_DATA + STUB_STACK_TOP_OFF - 8;
	u.cs = cs_64;
	u.ss = ds_user;
	u.eflags = 0x202;
	u.orig_rax = ~0ULL;
	if (pt(PTRACE_SETREGS, 0, &u) < 0)
		return broken();
	return wait_stub_trap(&c->ops_seq, ops_seq_);
}

} // namespace

Result<std::unique_ptr<AddressSpaceImpl>> create_ptrace_address_space()
{
	auto p = StubProcess::start(STUB_MODE_PTRACE);
	if (!p)
		return tl::unexpected(p.error());

	// The stub stops itself (SIGSTOP) once it is ready to be traced.
	int st;
	pid_t r;
	while ((r = waitpid(p->pid(), &st, __WALL)) < 0 && errno == EINTR)
		;
	if (r != p->pid() || !WIFSTOPPED(st) || WSTOPSIG(st) != SIGSTOP)
		return fail(errc::backend_failed);
	if (ptrace(PTRACE_SETOPTIONS, p->pid(), 0,
		   PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL) < 0)
		return fail(errc::backend_failed);
	if (auto ok = p->open_mem(); !ok)
		return tl::unexpected(ok.error());
	return std::make_unique<PtraceAddressSpace>(std::move(*p), current_tid());
}

Result<std::shared_ptr<BackendImpl>> open_ptrace_backend()
{
	const FpuLayout *fpu = FpuLayout::get();
	if (!fpu)
		return fail(errc::not_supported);
	return std::make_shared<StubBackend>(BackendKind::ptrace, *fpu);
}

} // namespace unpriv::detail
