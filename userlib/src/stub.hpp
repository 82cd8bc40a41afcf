// SPDX-License-Identifier: MIT
//
// What the ptrace and seccomp backends share: the stub process that
// holds an address space (stub/stub_abi.h, stub/stub.c), the checks the
// module makes in the kernel, the FPU image, and the vcpu with its kick.
#pragma once

#include <linux/filter.h>
#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "backend_impl.hpp"
#include "stub/stub_abi.h"
#include "unpriv/fd.hpp"

namespace unpriv::detail {

// The range every stub process keeps for itself: Backend::reserved().
inline constexpr AddressRange stub_reserved{STUB_START, STUB_END};

// The CPU's XSAVE layout, found once: the FPU image of a vcpu is the
// standard (non-compacted) format of the user components Linux enables.
struct FpuLayout {
	std::size_t size = 0;		// bytes of the image
	std::uint64_t xfeatures = 0;	// components an image may hold
	std::uint32_t mxcsr_mask = 0;
	std::uint32_t offset[64] = {};	// of component i >= 2
	std::uint32_t csize[64] = {};

	// nullptr when the CPU or the kernel has no XSAVE.
	static const FpuLayout *get() noexcept;

	// A new vcpu's image: MXCSR 0x1f80, FCW 0x37f, all else initial.
	void init_image(std::span<std::byte> image) const noexcept;
	// EINVAL for what XRSTOR would refuse: unknown components, a
	// compacted header, reserved header bytes or MXCSR bits.
	Result<void> check_image(std::span<const std::byte> image) const noexcept;
	// Set what an image's header says is in its initial state to that
	// state, as the kernel does in the images it hands out.
	void normalize(std::span<std::byte> image) const noexcept;
};

// The module's checks of a range, protection bits and registers (false:
// EINVAL), with the guest's user space ending at the stub; and rflags as
// the module loads them.
bool range_ok(std::uint64_t addr, std::uint64_t len) noexcept;
bool prot_ok(Prot prot) noexcept;
bool regs_ok(const Regs& r) noexcept;
std::uint64_t guest_rflags(std::uint64_t rflags) noexcept;

// The exit for a synchronous signal, from what the signal frame says.
Exit fault_exit(int signo, int code, std::uint64_t addr, std::uint64_t trapno,
		std::uint64_t err, std::uint64_t cr2, std::uint64_t dr6) noexcept;

// The calling thread's id, cached.
pid_t current_tid() noexcept;

// The signal that kicks a stub out of guest code.
inline constexpr int kick_signal = 10;	// SIGUSR1

// pidfd_send_signal(pidfd, sig): glibc 2.36 declares it without C
// linkage.
void signal_stub(int pidfd, int sig) noexcept;

// One stub process: its pid, a pidfd, /proc/PID/mem, and the owner's
// view of its data area.  Destroying it kills and reaps the process.
class StubProcess {
public:
	// Start a stub in mode STUB_MODE_*; for mode seccomp, filter is the
	// seccomp filter it installs and efd the eventfd it writes to hand
	// control back.  The caller then waits for it to be ready (ptrace:
	// stopped for its tracer, the calling thread; seccomp: in its signal
	// handler), and calls open_mem().
	static Result<StubProcess> start(std::uint32_t mode,
					 std::span<const sock_filter> filter = {},
					 int efd = -1);
	Result<void> open_mem();

	StubProcess() noexcept = default;
	StubProcess(StubProcess&& other) noexcept;
	StubProcess& operator=(StubProcess&& other) noexcept;
	StubProcess(const StubProcess&) = delete;
	StubProcess& operator=(const StubProcess&) = delete;
	~StubProcess();

	[[nodiscard]] pid_t pid() const noexcept { return pid_; }
	[[nodiscard]] int pidfd() const noexcept { return pidfd_.get(); }
	[[nodiscard]] stub_ctl *ctl() const noexcept
	{
		return reinterpret_cast<stub_ctl *>(data_ + STUB_CTL_OFF);
	}
	[[nodiscard]] stub_op *ops() const noexcept
	{
		return reinterpret_cast<stub_op *>(data_ + STUB_OPS_OFF);
	}
	// The owner's address of stub address addr in the data area, or
	// nullptr when [addr, addr + len) is not inside it.
	[[nodiscard]] std::byte *data_at(std::uint64_t addr,
					 std::uint64_t len) const noexcept;

	// False once the process has died.  Does not reap it.
	[[nodiscard]] bool alive() const noexcept;
	void kill() const noexcept;

	// Guest memory through /proc/PID/mem, up to the reserved range.
	Result<std::size_t> rw(std::uint64_t addr, void *buf, std::size_t len,
			       bool write) const;

private:
	void reset() noexcept;

	pid_t pid_ = 0;
	pid_t owner_ = 0;	// the process that started it
	Fd pidfd_;
	Fd mem_;
	std::byte *data_ = nullptr;
};

class StubAddressSpace;

// A vcpu of the ptrace or seccomp backend: its registers and FPU image
// live here; run() hands them to the address space's stub.
class StubVcpu final : public VcpuImpl {
public:
	StubVcpu(BackendKind kind, const FpuLayout& fpu);

	Regs *regs() noexcept override { return &regs_; }
	Result<Exit> run(AddressSpaceImpl& as) override;
	Result<void> kick() noexcept override;
	std::size_t fpu_size() const noexcept override { return fpu_.size(); }
	Result<void> get_fpu(std::span<std::byte> buf) const override;
	Result<void> set_fpu(std::span<const std::byte> buf) override;

	// For the address spaces' run().
	Regs regs_;
	std::vector<std::byte> fpu_;
	// Names the contents of fpu_: a new value, unique in the process,
	// whenever set_fpu() replaces it.  An address space that holds the
	// same generation in its stub need not load the image again.
	std::uint64_t fpu_gen_;
	const FpuLayout& layout_;

	// The kick a run() consumes: true once per kick().
	bool take_kick() noexcept { return kicked_.exchange(false); }

	static std::uint64_t new_generation() noexcept;

private:
	std::atomic<bool> busy_{false};
	std::atomic<bool> kicked_{false};
	std::atomic<int> running_{-1};	// the pidfd of the stub run() is in
	std::atomic<int> kickers_{0};	// kick()s that may signal it
};

// An address space of the ptrace or seccomp backend.
class StubAddressSpace : public AddressSpaceImpl {
public:
	StubAddressSpace(BackendKind kind, StubProcess proc) noexcept
		: AddressSpaceImpl(kind), proc_(std::move(proc))
	{
	}

	[[nodiscard]] pid_t pid() const noexcept { return proc_.pid(); }

	// Run v until its next exit (the vcpu has checked its registers and
	// the kick).
	virtual Result<Exit> run(StubVcpu& v) = 0;

	Result<void> map(const Mapping& m) override;
	Result<void> unmap(std::uint64_t addr, std::uint64_t len) override;
	Result<void> protect(std::uint64_t addr, std::uint64_t len,
			     Prot prot) override;
	Result<void> batch(std::span<const AsOp> ops, std::size_t *done) override;
	Result<std::size_t> read(std::uint64_t addr,
				 std::span<std::byte> buf) override;
	Result<std::size_t> write(std::uint64_t addr,
				  std::span<const std::byte> buf) override;
	int fd() const noexcept override { return proc_.pidfd(); }

protected:
	// Run the n operations at proc_.ops() in the stub: on return
	// ctl()->done and ->error say how it went.  Errors: the stub's
	// failure, or the caller's (errc::wrong_thread, EBUSY).
	virtual Result<void> exec_ops(std::uint32_t n) = 0;

	// The stub died or broke the protocol: kill it, and fail from now on.
	tl::unexpected<std::error_code> broken() noexcept;

	StubProcess proc_;
	bool dead_ = false;
	// The FPU generation the stub holds (0: none).
	std::uint64_t fpu_gen_ = 0;
};

// The backends: the same but for what the address spaces do.
class StubBackend final : public BackendImpl {
public:
	StubBackend(BackendKind kind, const FpuLayout& fpu) noexcept
		: kind_(kind), fpu_(fpu)
	{
	}

	BackendKind kind() const noexcept override { return kind_; }
	AddressRange reserved() const noexcept override { return stub_reserved; }
	Result<std::unique_ptr<AddressSpaceImpl>> create_address_space() override;
	Result<std::unique_ptr<VcpuImpl>> create_vcpu() override;

private:
	BackendKind kind_;
	const FpuLayout& fpu_;
};

Result<std::unique_ptr<AddressSpaceImpl>> create_ptrace_address_space();
Result<std::unique_ptr<AddressSpaceImpl>> create_seccomp_address_space();

} // namespace unpriv::detail
