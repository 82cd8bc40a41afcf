// SPDX-License-Identifier: MIT
//
// Compartment: an image loaded into an address space of its own, called
// through an exit gate, its system calls served by a policy.  The layout
// is in unpriv/compartment.hpp.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "compartment_impl.hpp"

namespace unpriv {
namespace {

namespace cl = compartment_layout;

constexpr std::size_t max_stack = 64 << 20;
constexpr std::size_t max_write = 64 << 10;	// per write() served
constexpr std::uint64_t tcb_canary_offset = 0x28;

// The exit gate's code.  Its system call is the cheapest exit on every
// backend (a fault exit costs about twice as much on the module), and
// its rip, just after the syscall, tells it from the compartment's own.
const unsigned char gate_code[] = {
	0x48, 0x89, 0xc7,			// mov %rax, %rdi
	0xb8, 0xff, 0x7f, 0x00, 0x00,		// mov $gate_nr, %eax
	0x0f, 0x05,				// syscall
	0x0f, 0x0b,				// ud2: never resumed
};
constexpr std::uint64_t gate_exit_rip = compartment_layout::gate_addr + 10;
static_assert(compartment_layout::gate_nr == 0x7fff);

// What a heap page is.
enum class HeapPage : std::uint8_t { free, brk, mmap };

// How one system call ends.
struct Outcome {
	enum class Kind { ret, deny, end } kind;
	std::int64_t value = 0;		// ret: the result
	errc error = errc::syscall_denied;	// end: why

	static Outcome ret(std::int64_t v) { return {Kind::ret, v}; }
	static Outcome deny() { return {Kind::deny}; }
	static Outcome end(errc e) { return {Kind::end, 0, e}; }
};

std::uint64_t page_up(std::uint64_t v)
{
	return (v + page_size - 1) & ~(page_size - 1);
}

bool aligned(std::uint64_t v)
{
	return !(v & (page_size - 1));
}

Result<void> punch(const GuestMemory& mem, std::uint64_t off, std::uint64_t len)
{
	if (fallocate(mem.fd(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      static_cast<off_t>(off), static_cast<off_t>(len)) < 0)
		return fail_errno();
	return {};
}

} // namespace

struct Compartment::State {
	Image image;
	std::size_t budget;
	std::size_t stack;
	Policy policy;

	Backend backend;
	AddressSpace as;
	Vcpu vcpu;
	GuestMemory image_mem;		// the image's segments
	GuestMemory stack_mem;		// the stack, the tcb page, the gate
	std::optional<GuestMemory> heap_mem;	// budget bytes (none for 0)

	Regs initial_regs;
	std::vector<std::byte> initial_fpu;
	std::uint64_t canary;

	std::vector<HeapPage> heap_pages;	// one per page of the budget
	std::uint64_t brk = cl::heap_start;
	std::size_t heap_used = 0;

	std::vector<Window> windows;
	std::vector<std::byte> write_buf;	// allow_write()'s bounce buffer
	CallFailure failure;
	bool running = false;

	std::uint64_t stack_bottom() const { return cl::stack_top - stack; }

	Result<void> load_image();
	void init_tcb();
	void init_gate();
	Result<void> map_stack();
	bool meets_own_memory(std::uint64_t addr, std::uint64_t len) const;

	Outcome serve(Compartment& c, const SyscallExit& sys);
	Outcome serve_listed(const SyscallExit& sys);
	Outcome serve_write(const SyscallExit& sys);
	Outcome serve_brk(std::uint64_t addr);
	Outcome serve_mmap(const SyscallExit& sys);
	Outcome serve_munmap(std::uint64_t addr, std::uint64_t len);
	Result<void> heap_map(std::uint64_t addr, std::uint64_t len, Prot prot,
			      HeapPage kind);
	Result<void> heap_unmap(std::uint64_t addr, std::uint64_t len);
	Outcome over_budget(std::uint64_t nr, std::uint64_t asked);

	Result<std::uint64_t> end(errc e, CallFailure f)
	{
		failure = f;
		return fail(e);
	}
};

// --- creation -------------------------------------------------------------

Result<void> Compartment::State::load_image()
{
	std::vector<AsOp> ops;
	auto mem = image_mem.bytes();

	std::memset(mem.data(), 0, mem.size());
	for (const auto& seg : image.data().segments) {
		std::memcpy(mem.data() + seg.mem_offset + seg.data_offset,
			    seg.bytes.data(), seg.bytes.size());
		ops.push_back(AsOp::map({.addr = seg.addr, .len = seg.len,
					 .fd = image_mem.fd(),
					 .offset = seg.mem_offset,
					 .prot = seg.prot}));
	}
	return as.batch(ops);
}

void Compartment::State::init_tcb()
{
	auto tcb = stack_mem.bytes(stack, page_size);
	const std::uint64_t self = cl::tcb_addr;

	std::memcpy(tcb.data(), &self, sizeof(self));
	std::memcpy(tcb.data() + tcb_canary_offset, &canary, sizeof(canary));
}

void Compartment::State::init_gate()
{
	std::memcpy(stack_mem.bytes(stack + page_size, page_size).data(),
		    gate_code, sizeof(gate_code));
}

Result<void> Compartment::State::map_stack()
{
	const AsOp ops[] = {
		AsOp::map({.addr = stack_bottom(), .len = stack,
			   .fd = stack_mem.fd(), .offset = 0, .prot = Prot::rw}),
		AsOp::map({.addr = cl::tcb_addr, .len = page_size,
			   .fd = stack_mem.fd(), .offset = stack,
			   .prot = Prot::rw}),
		AsOp::map({.addr = cl::gate_addr, .len = page_size,
			   .fd = stack_mem.fd(), .offset = stack + page_size,
			   .prot = Prot::rx}),
	};
	return as.batch(ops);
}

Result<Compartment> Compartment::create(const Image& image, Config config)
{
	if (!aligned(config.budget) || config.budget > cl::heap_max ||
	    !aligned(config.stack) || config.stack == 0 ||
	    config.stack > max_stack)
		return fail_errno(EINVAL);

	auto backend = config.backend ? Backend::open(*config.backend)
				      : Backend::open();
	if (!backend)
		return tl::unexpected(backend.error());
	auto as = backend->create_address_space();
	if (!as)
		return tl::unexpected(as.error());
	auto vcpu = backend->create_vcpu();
	if (!vcpu)
		return tl::unexpected(vcpu.error());
	auto image_mem = GuestMemory::create(image.size(), "unpriv-compartment-image");
	if (!image_mem)
		return tl::unexpected(image_mem.error());
	auto stack_mem = GuestMemory::create(config.stack + 2 * page_size,
					     "unpriv-compartment-stack");
	if (!stack_mem)
		return tl::unexpected(stack_mem.error());
	std::optional<GuestMemory> heap_mem;
	if (config.budget) {
		auto heap = GuestMemory::create(config.budget, "unpriv-compartment-heap");
		if (!heap)
			return tl::unexpected(heap.error());
		heap_mem = std::move(*heap);
	}

	auto s = std::unique_ptr<State>(new State{
		.image = image,
		.budget = config.budget,
		.stack = config.stack,
		.policy = std::move(config.policy),
		.backend = std::move(*backend),
		.as = std::move(*as),
		.vcpu = std::move(*vcpu),
		.image_mem = std::move(*image_mem),
		.stack_mem = std::move(*stack_mem),
		.heap_mem = std::move(heap_mem),
		.initial_regs = {},
		.initial_fpu = {},
		.canary = 0,
		.heap_pages = std::vector<HeapPage>(config.budget / page_size,
						    HeapPage::free),
		.windows = {},
		.write_buf = {},
		.failure = {},
	});
	s->initial_regs = s->vcpu.regs();
	s->initial_fpu.resize(s->vcpu.fpu_size());
	if (auto r = s->vcpu.get_fpu(s->initial_fpu); !r)
		return tl::unexpected(r.error());
	// The canary's low byte is zero, as the C library makes it, so that
	// a string overflow cannot reproduce it.
	if (getrandom(&s->canary, sizeof(s->canary), 0) != sizeof(s->canary))
		return fail_errno();
	s->canary &= ~std::uint64_t{0xff};
	s->init_tcb();
	s->init_gate();
	if (auto r = s->load_image(); !r)
		return tl::unexpected(r.error());
	if (auto r = s->map_stack(); !r)
		return tl::unexpected(r.error());
	return Compartment(std::move(s));
}

Compartment::Compartment(std::unique_ptr<State> s) noexcept : s_(std::move(s)) {}
Compartment::Compartment(Compartment&&) noexcept = default;
Compartment& Compartment::operator=(Compartment&&) noexcept = default;
Compartment::~Compartment() = default;

BackendKind Compartment::kind() const noexcept
{
	return s_->backend.kind();
}

// --- windows --------------------------------------------------------------

bool Compartment::State::meets_own_memory(std::uint64_t addr,
					  std::uint64_t len) const
{
	const AddressRange own[] = {
		{0, cl::image_end},	// the gate, the tcb, the image
		{stack_bottom(), cl::stack_top + page_size},
		{cl::heap_start, cl::heap_start + budget},
	};
	for (const auto& r : own)
		if (r.overlaps(addr, len))
			return true;
	for (const auto& w : windows)
		if (AddressRange{w.addr(), w.addr() + w.size()}.overlaps(addr, len))
			return true;
	return false;
}

Result<Window> Compartment::share(const GuestMemory& mem, Access access,
				  std::uint64_t offset, std::size_t len)
{
	if (offset > mem.size() || !aligned(offset))
		return fail_errno(EINVAL);
	if (len == 0)
		len = mem.size() - offset;
	if (len == 0 || len > mem.size() - offset)
		return fail_errno(EINVAL);
	len = page_up(len);
	if (len > mem.size() - offset)
		return fail_errno(EINVAL);

	auto addr = reinterpret_cast<std::uintptr_t>(mem.bytes().data()) + offset;
	if (s_->meets_own_memory(addr, len))
		return fail_errno(EEXIST);
	auto r = s_->as.map({.addr = addr, .len = len, .fd = mem.fd(),
			     .offset = offset,
			     .prot = access == Access::read ? Prot::read : Prot::rw});
	if (!r)
		return tl::unexpected(r.error());
	Window w(addr, len, access);
	s_->windows.push_back(w);
	return w;
}

Result<void> Compartment::unshare(const Window& w)
{
	auto it = std::find_if(s_->windows.begin(), s_->windows.end(),
			       [&](const Window& x) {
				       return x.addr() == w.addr() && x.size() == w.size();
			       });
	if (it == s_->windows.end())
		return fail_errno(ENOENT);
	if (auto r = s_->as.unmap(w.addr(), w.size()); !r)
		return r;
	s_->windows.erase(it);
	return {};
}

// --- calls ----------------------------------------------------------------

Result<Entry> Compartment::entry(std::string_view name) const
{
	auto addr = s_->image.symbol(name);
	if (!addr)
		return fail(errc::no_such_entry);
	return Entry{*addr};
}

namespace {

// Ends a deadline's watch when the call ends, however it does.
class Watch {
public:
	Watch(Vcpu& vcpu, const Deadline *d)
	{
		if (d)
			id_ = detail::Watchdog::watch(vcpu, d->at);
	}
	~Watch()
	{
		if (id_)
			detail::Watchdog::unwatch(id_);
	}
	Watch(const Watch&) = delete;
	Watch& operator=(const Watch&) = delete;

private:
	detail::Watchdog::Id id_ = 0;
};

struct Running {
	bool& flag;
	explicit Running(bool& f) : flag(f) { flag = true; }
	~Running() { flag = false; }
};

} // namespace

Result<std::uint64_t> Compartment::call_with(Entry e,
					     std::span<const std::uint64_t> args,
					     const Deadline *deadline)
{
	State& s = *s_;

	if (args.size() > 6)
		return fail_errno(EINVAL);
	if (s.running)
		return fail_errno(EBUSY);
	s.failure = {};

	Regs& r = s.vcpu.regs();
	r = s.initial_regs;
	__u64 *const arg_regs[] = {&r.rdi, &r.rsi, &r.rdx,
					   &r.rcx, &r.r8, &r.r9};
	for (std::size_t i = 0; i < args.size(); i++)
		*arg_regs[i] = args[i];
	r.rip = e.addr;
	r.rsp = cl::stack_top - sizeof(std::uint64_t);
	r.fs_base = cl::tcb_addr;
	const std::uint64_t gate = cl::gate_addr;
	std::memcpy(s.stack_mem.bytes(s.stack - sizeof(gate), sizeof(gate)).data(),
		    &gate, sizeof(gate));

	Running running(s.running);
	Watch watch(s.vcpu, deadline);
	for (;;) {
		auto exit = s.vcpu.run(s.as);
		if (!exit) {
			s.failure = {.kind = CallFailure::Kind::backend, .rip = r.rip};
			return tl::unexpected(exit.error());
		}

		if (auto *f = std::get_if<FaultExit>(&*exit)) {
			return s.end(errc::compartment_fault,
				     {.kind = CallFailure::Kind::fault, .rip = r.rip,
				      .address = f->address,
				      .error_code = f->error_code, .trap = f->trap,
				      .signo = f->signo});
		}
		if (auto *t = std::get_if<TrapExit>(&*exit))
			return s.end(errc::compartment_trap,
				     {.kind = CallFailure::Kind::trap, .rip = r.rip,
				      .address = t->address,
				      .error_code = t->error_code, .trap = t->trap,
				      .signo = t->signo});
		if (std::holds_alternative<InterruptedExit>(*exit)) {
			if (deadline && std::chrono::steady_clock::now() >= deadline->at)
				return s.end(errc::deadline_exceeded,
					     {.kind = CallFailure::Kind::deadline,
					      .rip = r.rip});
			continue;	// a host signal, or a late kick
		}

		const auto& sys = std::get<SyscallExit>(*exit);
		if (r.rip == gate_exit_rip && sys.nr == cl::gate_nr && !sys.compat)
			return r.rdi;
		Outcome o = s.serve(*this, sys);
		if (o.kind == Outcome::Kind::deny && !s.policy.is_strict())
			o = Outcome::ret(-EPERM);
		switch (o.kind) {
		case Outcome::Kind::ret:
			r.rax = static_cast<std::uint64_t>(o.value);
			break;
		case Outcome::Kind::deny:
			return s.end(errc::syscall_denied,
				     {.kind = CallFailure::Kind::syscall, .rip = r.rip,
				      .syscall_nr = sys.nr});
		case Outcome::Kind::end:
			if (s.failure.kind == CallFailure::Kind::none)
				s.failure = {.kind = CallFailure::Kind::syscall,
					     .rip = r.rip, .syscall_nr = sys.nr};
			return fail(o.error);
		}
	}
}

const CallFailure& Compartment::last_failure() const noexcept
{
	return s_->failure;
}

// --- the policy -------------------------------------------------------------

Outcome Compartment::State::serve(Compartment& c, const SyscallExit& sys)
{
	// sysenter leaves no return address: the call cannot go on.
	if (sys.insn == SyscallInsn::fast32)
		return Outcome::end(errc::syscall_denied);

	Verdict v = Verdict::serve();
	if (policy.get_handler())
		v = policy.get_handler()(c, sys);
	switch (v.kind()) {
	case Verdict::Kind::value:
		return Outcome::ret(v.value());
	case Verdict::Kind::deny:
		return Outcome::deny();
	case Verdict::Kind::end:
		return Outcome::end(errc::syscall_denied);
	case Verdict::Kind::serve:
		break;
	}
	// The allow list speaks the 64-bit ABI only.
	if (sys.compat)
		return Outcome::deny();
	return serve_listed(sys);
}

Outcome Compartment::State::serve_listed(const SyscallExit& sys)
{
	const auto& a = sys.args;

	switch (sys.nr) {
	case SYS_write:
		if (policy.write_fd() >= 0)
			return serve_write(sys);
		break;
	case SYS_brk:
		if (policy.memory())
			return serve_brk(a[0]);
		break;
	case SYS_mmap:
		if (policy.memory())
			return serve_mmap(sys);
		break;
	case SYS_munmap:
		if (policy.memory())
			return serve_munmap(a[0], a[1]);
		break;
	case SYS_exit:
	case SYS_exit_group:
		if (policy.exit()) {
			failure = {.kind = CallFailure::Kind::exited,
				   .rip = vcpu.regs().rip,
				   .syscall_nr = sys.nr,
				   .exit_status = static_cast<int>(a[0] & 0xff)};
			return Outcome::end(errc::compartment_exited);
		}
		break;
	}
	return Outcome::deny();
}

Outcome Compartment::State::serve_write(const SyscallExit& sys)
{
	if (sys.args[0] != 1)
		return Outcome::ret(-EBADF);
	std::size_t len = std::min<std::uint64_t>(sys.args[2], max_write);
	if (len == 0)
		return Outcome::ret(0);
	write_buf.resize(max_write);
	auto got = as.read(sys.args[1], std::span(write_buf.data(), len));
	if (!got || *got == 0)
		return Outcome::ret(-EFAULT);
	ssize_t n = ::write(policy.write_fd(), write_buf.data(), *got);
	return Outcome::ret(n < 0 ? -errno : n);
}

Outcome Compartment::State::over_budget(std::uint64_t nr, std::uint64_t asked)
{
	failure = {.kind = CallFailure::Kind::budget, .rip = vcpu.regs().rip,
		   .address = asked, .syscall_nr = nr};
	return Outcome::end(errc::budget_exceeded);
}

Result<void> Compartment::State::heap_map(std::uint64_t addr, std::uint64_t len,
					  Prot prot, HeapPage kind)
{
	std::uint64_t off = addr - cl::heap_start;

	if (auto r = as.map({.addr = addr, .len = len, .fd = heap_mem->fd(),
			     .offset = off, .prot = prot}); !r)
		return r;
	std::fill_n(heap_pages.begin() + off / page_size, len / page_size, kind);
	heap_used += len;
	return {};
}

Result<void> Compartment::State::heap_unmap(std::uint64_t addr, std::uint64_t len)
{
	std::uint64_t off = addr - cl::heap_start;

	if (auto r = as.unmap(addr, len); !r)
		return r;
	for (std::uint64_t i = off / page_size; i < (off + len) / page_size; i++) {
		if (heap_pages[i] != HeapPage::free)
			heap_used -= page_size;
		heap_pages[i] = HeapPage::free;
	}
	return punch(*heap_mem, off, len);
}

// brk(addr): the break moves within the heap, over pages mmap() did not
// hand out; it returns the break, unchanged when it cannot move.
Outcome Compartment::State::serve_brk(std::uint64_t addr)
{
	const std::uint64_t heap_end = cl::heap_start + budget;

	if (addr < cl::heap_start)
		return Outcome::ret(static_cast<std::int64_t>(brk));
	if (addr > heap_end)
		return over_budget(SYS_brk, addr - cl::heap_start);

	std::uint64_t old_end = page_up(brk), new_end = page_up(addr);
	if (new_end > old_end) {
		auto first = heap_pages.begin() + (old_end - cl::heap_start) / page_size;
		auto last = heap_pages.begin() + (new_end - cl::heap_start) / page_size;
		if (std::any_of(first, last, [](HeapPage p) { return p != HeapPage::free; }))
			return Outcome::ret(static_cast<std::int64_t>(brk));
		if (!heap_map(old_end, new_end - old_end, Prot::rw, HeapPage::brk))
			return Outcome::ret(static_cast<std::int64_t>(brk));
	} else if (new_end < old_end) {
		if (!heap_unmap(new_end, old_end - new_end))
			return Outcome::ret(static_cast<std::int64_t>(brk));
	}
	brk = addr;
	return Outcome::ret(static_cast<std::int64_t>(brk));
}

// mmap(0, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0): the highest free
// pages of the heap that fit.
Outcome Compartment::State::serve_mmap(const SyscallExit& sys)
{
	const auto& a = sys.args;
	const std::uint64_t prot = a[2], flags = a[3];

	if (!(flags & MAP_ANONYMOUS) || (prot & PROT_EXEC))
		return Outcome::deny();
	if ((flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) || a[1] == 0 ||
	    (prot & ~std::uint64_t{PROT_READ | PROT_WRITE}))
		return Outcome::ret(-EINVAL);
	if (a[1] > budget - heap_used || page_up(a[1]) > budget - heap_used)
		return over_budget(SYS_mmap, a[1]);
	const std::uint64_t len = page_up(a[1]);

	const std::size_t want = len / page_size;
	std::size_t run = 0;
	for (std::size_t i = heap_pages.size(); i-- > 0;) {
		run = heap_pages[i] == HeapPage::free ? run + 1 : 0;
		if (run < want)
			continue;
		std::uint64_t addr = cl::heap_start + i * page_size;
		Prot p = Prot::none;
		if (prot & PROT_READ)
			p = p | Prot::read;
		if (prot & PROT_WRITE)
			p = p | Prot::read | Prot::write;
		if (auto r = heap_map(addr, len, p, HeapPage::mmap); !r)
			return Outcome::ret(-r.error().value());
		return Outcome::ret(static_cast<std::int64_t>(addr));
	}
	return Outcome::ret(-ENOMEM);	// enough left, but not in one piece
}

// munmap() of pages mmap() handed out (or free ones); not the break's.
Outcome Compartment::State::serve_munmap(std::uint64_t addr, std::uint64_t len)
{
	len = page_up(len);
	if (!aligned(addr) || len == 0 || addr < cl::heap_start ||
	    addr > cl::heap_start + budget || len > cl::heap_start + budget - addr)
		return Outcome::ret(-EINVAL);

	auto first = heap_pages.begin() + (addr - cl::heap_start) / page_size;
	if (std::any_of(first, first + len / page_size,
			[](HeapPage p) { return p == HeapPage::brk; }))
		return Outcome::ret(-EINVAL);
	if (auto r = heap_unmap(addr, len); !r)
		return Outcome::ret(-r.error().value());
	return Outcome::ret(0);
}

// --- reset and the rest -----------------------------------------------------

Result<void> Compartment::reset()
{
	State& s = *s_;

	if (s.running)
		return fail_errno(EBUSY);
	if (auto r = s.load_image(); !r)
		return r;
	if (s.heap_used) {
		if (auto r = s.heap_unmap(cl::heap_start, s.budget); !r)
			return r;
	}
	s.brk = cl::heap_start;
	if (auto r = punch(s.stack_mem, 0, s.stack + page_size); !r)
		return r;
	s.init_tcb();
	s.vcpu.regs() = s.initial_regs;
	s.failure = {};
	return s.vcpu.set_fpu(s.initial_fpu);
}

std::size_t Compartment::heap_used() const noexcept
{
	return s_->heap_used;
}

std::size_t Compartment::budget() const noexcept
{
	return s_->budget;
}

Result<std::size_t> Compartment::read(std::uint64_t addr, std::span<std::byte> buf)
{
	return s_->as.read(addr, buf);
}

Result<std::size_t> Compartment::write(std::uint64_t addr,
				       std::span<const std::byte> buf)
{
	return s_->as.write(addr, buf);
}

// --- CallFailure ------------------------------------------------------------

std::string CallFailure::describe() const
{
	char buf[160];

	switch (kind) {
	case Kind::none:
		return "no failure";
	case Kind::fault:
		std::snprintf(buf, sizeof(buf),
			      "fault at 0x%" PRIx64 " (%s, %s), rip 0x%" PRIx64,
			      address,
			      error_code & 0x10 ? "exec" : error_code & 2 ? "write" : "read",
			      error_code & 1 ? "protection" : "not mapped", rip);
		break;
	case Kind::trap:
		std::snprintf(buf, sizeof(buf), "trap %u (signal %d), rip 0x%" PRIx64,
			      trap, signo, rip);
		break;
	case Kind::syscall:
		std::snprintf(buf, sizeof(buf),
			      "system call %" PRIu64 " denied, rip 0x%" PRIx64,
			      syscall_nr, rip);
		break;
	case Kind::deadline:
		std::snprintf(buf, sizeof(buf),
			      "deadline passed, stopped at rip 0x%" PRIx64, rip);
		break;
	case Kind::budget:
		std::snprintf(buf, sizeof(buf),
			      "system call %" PRIu64 " asked for %" PRIu64
			      " bytes beyond the budget, rip 0x%" PRIx64,
			      syscall_nr, address, rip);
		break;
	case Kind::exited:
		std::snprintf(buf, sizeof(buf), "exit(%d)", exit_status);
		break;
	case Kind::backend:
		return "the backend failed";
	}
	return buf;
}

} // namespace unpriv
