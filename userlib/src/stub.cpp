// SPDX-License-Identifier: MIT
#include "stub.hpp"

#include <cpuid.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace unpriv::detail {

// --- the FPU image -----------------------------------------------------------

namespace {

constexpr std::uint64_t xfeature_x87 = 1 << 0;
constexpr std::uint64_t xfeature_sse = 1 << 1;
constexpr std::uint64_t xfeature_ymm = 1 << 2;
// AMX tile data: Linux enables it per process, on request
// (ARCH_REQ_XCOMP_PERM); no vcpu image holds it.
constexpr std::uint64_t xfeature_dynamic = 1ULL << 18;

constexpr std::size_t fx_fcw = 0, fx_mxcsr = 24, fx_mxcsr_mask = 28;
constexpr std::size_t fx_st = 32, fx_xmm = 160, fx_xmm_end = 416;
constexpr std::size_t xsave_header = 512, xsave_header_size = 64;
constexpr std::size_t xsave_min = xsave_header + xsave_header_size;

template <class T>
T load(const std::byte *p) noexcept
{
	T v;
	std::memcpy(&v, p, sizeof(v));
	return v;
}

template <class T>
void store(std::byte *p, T v) noexcept
{
	std::memcpy(p, &v, sizeof(v));
}

FpuLayout find_fpu_layout() noexcept
{
	FpuLayout l;
	unsigned a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_XSAVE) ||
	    !(c & bit_OSXSAVE) || __get_cpuid_max(0, nullptr) < 0xd)
		return l;

	std::uint32_t lo, hi;
	asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	std::uint64_t xcr0 = (std::uint64_t{hi} << 32) | lo;
	if ((xcr0 & (xfeature_x87 | xfeature_sse)) != (xfeature_x87 | xfeature_sse))
		return l;

	l.xfeatures = xcr0 & ~xfeature_dynamic;
	l.size = xsave_min;
	for (unsigned i = 2; i < 64; i++) {
		if (!(l.xfeatures & (1ULL << i)))
			continue;
		__cpuid_count(0xd, i, a, b, c, d);
		l.csize[i] = a;
		l.offset[i] = b;
		l.size = std::max<std::size_t>(l.size, std::size_t{a} + b);
	}

	alignas(16) std::byte fx[512] = {};
	asm volatile("fxsave %0" : "=m"(fx));
	l.mxcsr_mask = load<std::uint32_t>(fx + fx_mxcsr_mask);
	if (!l.mxcsr_mask)
		l.mxcsr_mask = 0xffbf;
	return l;
}

} // namespace

const FpuLayout *FpuLayout::get() noexcept
{
	static const FpuLayout layout = find_fpu_layout();
	return layout.size ? &layout : nullptr;
}

void FpuLayout::init_image(std::span<std::byte> image) const noexcept
{
	std::fill(image.begin(), image.end(), std::byte{0});
	store<std::uint16_t>(image.data() + fx_fcw, 0x37f);
	store<std::uint32_t>(image.data() + fx_mxcsr, 0x1f80);
	store<std::uint32_t>(image.data() + fx_mxcsr_mask, mxcsr_mask);
}

Result<void> FpuLayout::check_image(std::span<const std::byte> image) const noexcept
{
	if (image.size() < size)
		return fail_errno(EINVAL);
	const std::byte *hdr = image.data() + xsave_header;
	std::uint64_t bv = load<std::uint64_t>(hdr);
	if (bv & ~xfeatures)
		return fail_errno(EINVAL);
	// Standard format only, reserved bytes zero.
	for (std::size_t i = 8; i < xsave_header_size; i++)
		if (hdr[i] != std::byte{0})
			return fail_errno(EINVAL);
	if ((bv & (xfeature_sse | xfeature_ymm)) &&
	    (load<std::uint32_t>(image.data() + fx_mxcsr) & ~mxcsr_mask))
		return fail_errno(EINVAL);
	return {};
}

void FpuLayout::normalize(std::span<std::byte> image) const noexcept
{
	std::byte *p = image.data();
	std::uint64_t bv = load<std::uint64_t>(p + xsave_header) & xfeatures;

	store<std::uint64_t>(p + xsave_header, bv);
	if (!(bv & xfeature_x87)) {
		std::fill(p, p + fx_mxcsr, std::byte{0});
		store<std::uint16_t>(p + fx_fcw, 0x37f);
		std::fill(p + fx_st, p + fx_xmm, std::byte{0});
	}
	if (!(bv & xfeature_sse))
		std::fill(p + fx_xmm, p + fx_xmm_end, std::byte{0});
	if (!(bv & (xfeature_sse | xfeature_ymm)))
		store<std::uint32_t>(p + fx_mxcsr, 0x1f80);
	for (unsigned i = 2; i < 64; i++) {
		if (!(xfeatures & (1ULL << i)) || (bv & (1ULL << i)))
			continue;
		if (offset[i] + std::size_t{csize[i]} <= image.size())
			std::fill(p + offset[i], p + offset[i] + csize[i],
				  std::byte{0});
	}
}

// --- the module's checks ---------------------------------------------------

namespace {

constexpr std::uint64_t task_size_max = 0x7ffffffff000ULL;
constexpr std::uint64_t page_mask = 0xfff;

// What guest code may set in rflags (the module's UNPRIV_RFLAGS_USER).
constexpr std::uint64_t rflags_user = 0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x100 |
				      0x400 | 0x800 | 0x10000 | 0x40000 |
				      0x200000;

bool data_selector_ok(std::uint16_t sel)
{
	return sel == 0 || sel == ds_user;
}

} // namespace

bool range_ok(std::uint64_t addr, std::uint64_t len) noexcept
{
	return len && !(addr & page_mask) && !(len & page_mask) &&
	       addr < stub_reserved.start && len <= stub_reserved.start - addr;
}

bool prot_ok(Prot prot) noexcept
{
	return !(static_cast<std::uint32_t>(prot) &
		 ~static_cast<std::uint32_t>(Prot::rwx));
}

std::uint64_t guest_rflags(std::uint64_t rflags) noexcept
{
	return (rflags & rflags_user) | 0x202;
}

bool regs_ok(const Regs& r) noexcept
{
	std::uint16_t cs = r.cs ? r.cs : cs_64;
	std::uint16_t ss = r.ss ? r.ss : ds_user;

	if ((cs != cs_64 && cs != cs_32) || ss != ds_user)
		return false;
	if (r.rip >= stub_reserved.start || r.rsp >= stub_reserved.start)
		return false;
	if (cs == cs_32 && (r.rip > UINT32_MAX || r.rsp > UINT32_MAX))
		return false;
	if (!data_selector_ok(r.ds) || !data_selector_ok(r.es) ||
	    !data_selector_ok(r.fs) || !data_selector_ok(r.gs))
		return false;
	return r.fs_base < task_size_max && r.gs_base < task_size_max;
}

Exit fault_exit(int signo, int code, std::uint64_t addr, std::uint64_t trapno,
		std::uint64_t err, std::uint64_t cr2, std::uint64_t dr6) noexcept
{
	constexpr std::uint64_t trap_pf = 14, trap_db = 1;

	if (trapno == trap_pf && (signo == SIGSEGV || signo == SIGBUS))
		return FaultExit{.address = cr2, .error_code = err,
				 .trap = static_cast<std::uint32_t>(trapno),
				 .signo = signo, .si_code = code};
	return TrapExit{.trap = static_cast<std::uint32_t>(trapno),
			.signo = signo, .si_code = code, .address = addr,
			.error_code = err, .dr6 = trapno == trap_db ? dr6 : 0};
}

void signal_stub(int pidfd, int sig) noexcept
{
	syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0);
}

pid_t current_tid() noexcept
{
	return gettid();
}

// --- the stub process --------------------------------------------------------

namespace {

bool in_reserved(const void *p, std::size_t len = 1)
{
	return stub_reserved.overlaps(reinterpret_cast<std::uintptr_t>(p), len);
}

struct Spawn {
	stub_boot *boot;
	std::byte *stack;
	pid_t pid;
	int pidfd;
	int err;
};

// The middle process of StubProcess::start(), in the owner's memory.
int spawn_stub(void *arg)
{
	auto *s = static_cast<Spawn *>(arg);

	s->pid = clone(unpriv_stub_boot, s->stack,
		       CLONE_PARENT | CLONE_FILES | CLONE_PIDFD, s->boot,
		       &s->pidfd);
	if (s->pid < 0)
		s->err = errno;
	return 0;
}

} // namespace

Result<StubProcess> StubProcess::start(std::uint32_t mode,
				       std::span<const sock_filter> filter,
				       int efd)
{
	const std::size_t code_size = static_cast<std::size_t>(
		__stop_unpriv_stub - __start_unpriv_stub);

	// The start-up copies the stub from the owner's image and runs on
	// the owner's mapping of the data: neither may be where the stub
	// goes.  (Linux places neither there: mmap's area ends well below
	// the stack.)
	if (code_size > STUB_CODE_MAX || filter.size() > STUB_FILTER_MAX ||
	    in_reserved(__start_unpriv_stub, code_size) ||
	    in_reserved(reinterpret_cast<const void *>(&unpriv_stub_boot)))
		return fail(errc::not_supported);

	void *data;
	{
		Fd memfd(memfd_create("unpriv-stub", MFD_CLOEXEC));
		if (!memfd)
			return fail_errno();
		if (ftruncate(memfd.get(), STUB_DATA_SIZE) < 0)
			return fail_errno();
		data = mmap(nullptr, STUB_DATA_SIZE, PROT_READ | PROT_WRITE,
			    MAP_SHARED, memfd.get(), 0);
		if (data == MAP_FAILED)
			return fail_errno();
	}
	StubProcess p;
	p.data_ = static_cast<std::byte *>(data);
	if (in_reserved(data, STUB_DATA_SIZE))
		return fail(errc::not_supported);

	stub_ctl *c = p.ctl();
	c->state = STUB_TO_STUB;
	c->mode = mode;
	c->fsgsbase = (getauxval(AT_HWCAP2) & 2) ? 1 : 0;	// HWCAP2_FSGSBASE
	c->owner = getpid();
	c->efd = efd;
	std::memcpy(p.data_ + STUB_FILTER_OFF, filter.data(), filter.size_bytes());
	c->prog.len = static_cast<std::uint16_t>(filter.size());
	c->prog.filter = STUB_DATA + STUB_FILTER_OFF;

	stub_boot boot{
		.data = reinterpret_cast<std::uintptr_t>(data),
		.code = reinterpret_cast<std::uintptr_t>(__start_unpriv_stub),
		.code_size = code_size,
		.entry = STUB_CODE +
			 (reinterpret_cast<std::uintptr_t>(&unpriv_stub_start) -
			  reinterpret_cast<std::uintptr_t>(__start_unpriv_stub)),
	};

	// The stub is a grandchild that the calling thread adopts
	// (CLONE_PARENT): its parent, a vfork-like child sharing the
	// owner's memory, has no rseq registration to pass on, which a
	// direct child would inherit and the kernel would write to after
	// the stub has unmapped it.  Every signal stays blocked until the
	// stub has its own handlers, so none of the owner's runs in it.
	// No exit signal: the owner's SIGCHLD handler and wait(-1) never
	// see a stub.
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	alignas(16) std::byte stack[16384];
	Spawn spawn{.boot = &boot, .stack = p.data_ + STUB_STACK_TOP_OFF,
		    .pid = -1, .pidfd = -1, .err = 0};
	pid_t mid = clone(spawn_stub, stack + sizeof(stack),
			  CLONE_VM | CLONE_VFORK | CLONE_FILES, &spawn);
	int err = errno;
	if (mid > 0) {
		int st;
		while (waitpid(mid, &st, __WALL) < 0 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &old, nullptr);
	if (mid < 0)
		return fail_errno(err);
	if (spawn.pid < 0)
		return fail_errno(spawn.err);
	pid_t pid = spawn.pid;
	int pidfd = spawn.pidfd;
	p.pid_ = pid;
	p.owner_ = getpid();
	p.pidfd_.reset(pidfd);
	return p;
}

Result<void> StubProcess::open_mem()
{
	char path[64];
	std::snprintf(path, sizeof(path), "/proc/%d/mem", static_cast<int>(pid_));
	mem_.reset(::open(path, O_RDWR | O_CLOEXEC));
	if (!mem_)
		return fail_errno();
	return {};
}

StubProcess::StubProcess(StubProcess&& other) noexcept
	: pid_(std::exchange(other.pid_, 0)), owner_(other.owner_),
	  pidfd_(std::move(other.pidfd_)),
	  mem_(std::move(other.mem_)), data_(std::exchange(other.data_, nullptr))
{
}

StubProcess& StubProcess::operator=(StubProcess&& other) noexcept
{
	if (this != &other) {
		reset();
		pid_ = std::exchange(other.pid_, 0);
		owner_ = other.owner_;
		pidfd_ = std::move(other.pidfd_);
		mem_ = std::move(other.mem_);
		data_ = std::exchange(other.data_, nullptr);
	}
	return *this;
}

StubProcess::~StubProcess()
{
	reset();
}

// Kills and reaps the stub; but in a child the owner forked, which has a
// copy of the address space and no stub of its own, only lets go.
void StubProcess::reset() noexcept
{
	if (pid_ > 0 && getpid() == owner_) {
		kill();
		siginfo_t info;
		while (waitid(P_PIDFD, static_cast<id_t>(pidfd_.get()), &info,
			      WEXITED | __WALL) < 0 && errno == EINTR)
			;
	}
	pid_ = 0;
	pidfd_.reset();
	mem_.reset();
	if (data_)
		munmap(data_, STUB_DATA_SIZE);
	data_ = nullptr;
}

std::byte *StubProcess::data_at(std::uint64_t addr,
				std::uint64_t len) const noexcept
{
	if (addr < STUB_DATA || addr >= STUB_DATA + STUB_DATA_SIZE ||
	    len > STUB_DATA + STUB_DATA_SIZE - addr)
		return nullptr;
	return data_ + (addr - STUB_DATA);
}

bool StubProcess::alive() const noexcept
{
	struct pollfd pfd = {.fd = pidfd_.get(), .events = POLLIN, .revents = 0};
	return poll(&pfd, 1, 0) == 0;
}

void StubProcess::kill() const noexcept
{
	if (pidfd_)
		signal_stub(pidfd_.get(), SIGKILL);
}

Result<std::size_t> StubProcess::rw(std::uint64_t addr, void *buf,
				    std::size_t len, bool write) const
{
	constexpr std::size_t max = std::size_t{1} << 30;
	auto *p = static_cast<std::byte *>(buf);
	std::size_t total = 0;

	if (!len)
		return 0;
	// The stub's own memory is not the guest's.
	if (addr >= stub_reserved.start)
		return fail_errno(EIO);
	len = std::min<std::uint64_t>(len, stub_reserved.start - addr);
	while (total < len) {
		std::size_t n = std::min(len - total, max);
		auto off = static_cast<off_t>(addr + total);
		ssize_t r = write ? pwrite(mem_.get(), p + total, n, off)
				  : pread(mem_.get(), p + total, n, off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (total)
				break;
			if (!alive())
				return fail(errc::backend_failed);
			return fail_errno(r < 0 ? errno : EIO);
		}
		total += static_cast<std::size_t>(r);
		if (static_cast<std::size_t>(r) < n)
			break;
	}
	return total;
}

// --- the vcpu ------------------------------------------------------------------

std::uint64_t StubVcpu::new_generation() noexcept
{
	static std::atomic<std::uint64_t> next{1};
	return next.fetch_add(1);
}

StubVcpu::StubVcpu(BackendKind kind, const FpuLayout& fpu)
	: VcpuImpl(kind), regs_(initial_regs()), fpu_(fpu.size),
	  fpu_gen_(new_generation()), layout_(fpu)
{
	layout_.init_image(fpu_);
}

Result<void> StubVcpu::get_fpu(std::span<std::byte> buf) const
{
	if (buf.size() < fpu_.size())
		return fail_errno(EINVAL);
	if (busy_.load())
		return fail_errno(EBUSY);
	std::copy(fpu_.begin(), fpu_.end(), buf.begin());
	return {};
}

Result<void> StubVcpu::set_fpu(std::span<const std::byte> buf)
{
	if (auto ok = layout_.check_image(buf); !ok)
		return ok;
	if (busy_.load())
		return fail_errno(EBUSY);
	std::copy(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(fpu_.size()),
		  fpu_.begin());
	fpu_gen_ = new_generation();
	return {};
}

// A kick makes the run() in progress, or the next, return InterruptedExit:
// it sets kicked_, which run() takes, and signals the stub run() is in, if
// any, to get the guest out.  run() does not return (and its address space
// cannot go, and its pidfd be closed) while a kick() may still signal it.
Result<void> StubVcpu::kick() noexcept
{
	kicked_.store(true);
	kickers_.fetch_add(1);
	if (int pidfd = running_.load(); pidfd >= 0)
		signal_stub(pidfd, kick_signal);
	kickers_.fetch_sub(1);
	return {};
}

Result<Exit> StubVcpu::run(AddressSpaceImpl& as)
{
	auto& sas = static_cast<StubAddressSpace&>(as);

	if (!regs_ok(regs_))
		return fail_errno(EINVAL);
	if (busy_.exchange(true))
		return fail_errno(EBUSY);

	Result<Exit> ret;
	running_.store(sas.fd());
	if (take_kick())
		ret = InterruptedExit{};
	else
		ret = sas.run(*this);
	running_.store(-1);
	while (kickers_.load())
		sched_yield();
	busy_.store(false);
	return ret;
}

// --- the address space -------------------------------------------------------

namespace {

Result<stub_op> to_stub_op(const AsOp& op)
{
	const Mapping& m = op.m;
	stub_op s{};

	s.addr = m.addr;
	s.len = m.len;
	switch (op.kind) {
	case AsOp::Kind::map:
		if (!range_ok(m.addr, m.len) || (m.offset & page_mask) ||
		    m.offset + m.len < m.offset || !prot_ok(m.prot))
			return fail_errno(EINVAL);
		if (m.share == Share::shared)
			s.flags = MAP_SHARED;
		else if (m.share == Share::private_)
			s.flags = MAP_PRIVATE;
		else
			return fail_errno(EINVAL);
		s.kind = STUB_OP_MAP;
		s.prot = static_cast<std::uint32_t>(m.prot);
		s.fd = m.fd;
		s.offset = m.offset;
		return s;
	case AsOp::Kind::unmap:
		if (!range_ok(m.addr, m.len))
			return fail_errno(EINVAL);
		s.kind = STUB_OP_UNMAP;
		return s;
	case AsOp::Kind::protect:
		if (!range_ok(m.addr, m.len) || !prot_ok(m.prot))
			return fail_errno(EINVAL);
		s.kind = STUB_OP_PROTECT;
		s.prot = static_cast<std::uint32_t>(m.prot);
		return s;
	}
	return fail_errno(EINVAL);
}

} // namespace

tl::unexpected<std::error_code> StubAddressSpace::broken() noexcept
{
	dead_ = true;
	proc_.kill();
	return fail(errc::backend_failed);
}

Result<void> StubAddressSpace::map(const Mapping& m)
{
	const AsOp op = AsOp::map(m);
	return batch({&op, 1}, nullptr);
}

Result<void> StubAddressSpace::unmap(std::uint64_t addr, std::uint64_t len)
{
	const AsOp op = AsOp::unmap(addr, len);
	return batch({&op, 1}, nullptr);
}

Result<void> StubAddressSpace::protect(std::uint64_t addr, std::uint64_t len,
				       Prot prot)
{
	const AsOp op = AsOp::protect(addr, len, prot);
	return batch({&op, 1}, nullptr);
}

// Valid operations gather in the stub's buffer and run there in one go;
// an invalid one first runs those before it, as the module would have.
Result<void> StubAddressSpace::batch(std::span<const AsOp> ops,
				     std::size_t *done)
{
	stub_op *buf = proc_.ops();
	std::size_t ok = 0;	// operations that took effect
	std::uint32_t n = 0;	// in the buffer

	auto flush = [&]() -> Result<void> {
		if (!n)
			return {};
		std::uint32_t want = std::exchange(n, 0);
		auto r = exec_ops(want);
		if (!r)
			return r;
		const stub_ctl *c = proc_.ctl();
		std::uint32_t d = std::min(c->done, want);
		std::int64_t e = c->error;
		ok += d;
		if (d == want && !e)
			return {};
		if (e >= 0 || e < -4095)
			return broken();
		return fail_errno(static_cast<int>(-e));
	};
	auto finish = [&](Result<void> r) {
		if (done)
			*done = ok;
		return r;
	};

	if (dead_)
		return finish(fail(errc::backend_failed));
	for (const AsOp& op : ops) {
		auto s = to_stub_op(op);
		if (!s) {
			if (auto r = flush(); !r)
				return finish(r);
			return finish(tl::unexpected(s.error()));
		}
		buf[n++] = *s;
		if (n == STUB_OPS_MAX)
			if (auto r = flush(); !r)
				return finish(r);
	}
	return finish(flush());
}

Result<std::size_t> StubAddressSpace::read(std::uint64_t addr,
					   std::span<std::byte> buf)
{
	if (dead_)
		return fail(errc::backend_failed);
	return proc_.rw(addr, buf.data(), buf.size(), false);
}

Result<std::size_t> StubAddressSpace::write(std::uint64_t addr,
					    std::span<const std::byte> buf)
{
	if (dead_)
		return fail(errc::backend_failed);
	return proc_.rw(addr, const_cast<std::byte *>(buf.data()), buf.size(),
			true);
}

// --- the backends ----------------------------------------------------------------

Result<std::unique_ptr<AddressSpaceImpl>> StubBackend::create_address_space()
{
	if (kind_ == BackendKind::ptrace)
		return create_ptrace_address_space();
	return create_seccomp_address_space();
}

Result<std::unique_ptr<VcpuImpl>> StubBackend::create_vcpu()
{
	return std::make_unique<StubVcpu>(kind_, fpu_);
}

} // namespace unpriv::detail
