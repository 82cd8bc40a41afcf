// SPDX-License-Identifier: MIT
//
// The module backend: the unpriv ABI, one ioctl per operation.
#include <sys/mman.h>

#include <linux/unpriv.h>

#include <vector>

#include "backend_impl.hpp"
#include "unpriv/device.hpp"
#include "unpriv/ioctl.hpp"

namespace unpriv::detail {
namespace {

Result<void> check(Result<int> r)
{
	if (!r)
		return tl::unexpected(r.error());
	return {};
}

unpriv_as_map to_abi(const Mapping& m)
{
	return {
		.addr = m.addr,
		.len = m.len,
		.offset = m.offset,
		.fd = m.fd,
		.prot = static_cast<__u32>(m.prot),
		.flags = m.share == Share::shared ? __u32{UNPRIV_MAP_SHARED}
						  : __u32{UNPRIV_MAP_PRIVATE},
		.reserved = 0,
	};
}

class ModuleAddressSpace final : public AddressSpaceImpl {
public:
	explicit ModuleAddressSpace(Fd fd) noexcept
		: AddressSpaceImpl(BackendKind::module), fd_(std::move(fd))
	{
	}

	Result<void> map(const Mapping& m) override
	{
		auto arg = to_abi(m);
		return check(detail::ioctl<UNPRIV_AS_MAP>(fd_.get(), &arg));
	}

	Result<void> unmap(std::uint64_t addr, std::uint64_t len) override
	{
		unpriv_as_range arg{.addr = addr, .len = len, .prot = 0, .flags = 0};
		return check(detail::ioctl<UNPRIV_AS_UNMAP>(fd_.get(), &arg));
	}

	Result<void> protect(std::uint64_t addr, std::uint64_t len,
			     Prot prot) override
	{
		unpriv_as_range arg{.addr = addr, .len = len,
				    .prot = static_cast<__u32>(prot), .flags = 0};
		return check(detail::ioctl<UNPRIV_AS_PROTECT>(fd_.get(), &arg));
	}

	Result<void> batch(std::span<const AsOp> ops, std::size_t *done) override
	{
		std::size_t total = 0;
		std::vector<unpriv_as_op> abi;

		// The module takes UNPRIV_AS_BATCH_MAX at a time.
		while (!ops.empty()) {
			auto chunk = ops.first(std::min<std::size_t>(
				ops.size(), UNPRIV_AS_BATCH_MAX));
			abi.assign(chunk.size(), unpriv_as_op{});
			for (std::size_t i = 0; i < chunk.size(); i++) {
				const AsOp& op = chunk[i];
				switch (op.kind) {
				case AsOp::Kind::map:
					abi[i].op = UNPRIV_AS_OP_MAP;
					abi[i].map = to_abi(op.m);
					break;
				case AsOp::Kind::unmap:
				case AsOp::Kind::protect:
					abi[i].op = op.kind == AsOp::Kind::unmap
							    ? UNPRIV_AS_OP_UNMAP
							    : UNPRIV_AS_OP_PROTECT;
					abi[i].range = {
						.addr = op.m.addr,
						.len = op.m.len,
						.prot = op.kind == AsOp::Kind::unmap
								? 0
								: static_cast<__u32>(op.m.prot),
						.flags = 0,
					};
					break;
				default:
					abi[i].op = 0;	/* the module says EINVAL */
				}
			}
			unpriv_as_batch b{
				.ops = reinterpret_cast<std::uintptr_t>(abi.data()),
				.count = static_cast<__u32>(abi.size()),
				.flags = 0, .done = 0, .error = 0,
			};
			auto r = detail::ioctl<UNPRIV_AS_BATCH>(fd_.get(), &b);
			if (!r) {
				if (done)
					*done = total;
				return tl::unexpected(r.error());
			}
			total += b.done;
			if (b.error) {
				if (done)
					*done = total;
				return fail_errno(-b.error);
			}
			ops = ops.subspan(chunk.size());
		}
		if (done)
			*done = total;
		return {};
	}

	Result<std::size_t> read(std::uint64_t addr,
				 std::span<std::byte> buf) override
	{
		return rw(addr, buf.data(), buf.size(), 0);
	}

	Result<std::size_t> write(std::uint64_t addr,
				  std::span<const std::byte> buf) override
	{
		return rw(addr, buf.data(), buf.size(), UNPRIV_RW_WRITE);
	}

	int fd() const noexcept override { return fd_.get(); }

private:
	// The module copies at most 1 GiB per call.
	Result<std::size_t> rw(std::uint64_t addr, const void *buf,
			       std::size_t len, std::uint32_t flags)
	{
		constexpr std::size_t max = std::size_t{1} << 30;
		std::size_t total = 0;

		do {
			std::size_t n = std::min(len - total, max);
			unpriv_as_rw arg{
				.addr = addr + total,
				.buf = reinterpret_cast<std::uintptr_t>(buf) + total,
				.len = n, .flags = flags, .reserved = 0,
			};
			auto r = detail::ioctl<UNPRIV_AS_RW>(fd_.get(), &arg);
			if (!r) {
				if (total)
					return total;
				return tl::unexpected(r.error());
			}
			total += static_cast<std::size_t>(*r);
			if (static_cast<std::size_t>(*r) < n)
				break;
		} while (total < len);
		return total;
	}

	Fd fd_;
};

class ModuleVcpu final : public VcpuImpl {
public:
	ModuleVcpu(Fd fd, unpriv_run *run, std::size_t fpu_size) noexcept
		: VcpuImpl(BackendKind::module), fd_(std::move(fd)), run_(run),
		  fpu_size_(fpu_size)
	{
		run_->regs = initial_regs();
	}

	~ModuleVcpu() override { munmap(run_, UNPRIV_RUN_SIZE); }

	Regs *regs() noexcept override { return &run_->regs; }

	Result<Exit> run(AddressSpaceImpl& as) override
	{
		auto r = detail::ioctl<UNPRIV_RUN>(fd_.get(),
			static_cast<unsigned long>(as.fd()));
		if (!r) {
			if (r.error().value() == EINTR &&
			    run_->exit_reason == UNPRIV_EXIT_INTR)
				return InterruptedExit{};
			return tl::unexpected(r.error());
		}
		switch (run_->exit_reason) {
		case UNPRIV_EXIT_SYSCALL: {
			const auto& s = run_->syscall;
			SyscallExit e{.nr = s.nr, .args = {},
				      .insn = static_cast<SyscallInsn>(s.insn),
				      .compat = s.compat != 0};
			std::copy(std::begin(s.args), std::end(s.args),
				  e.args.begin());
			return e;
		}
		case UNPRIV_EXIT_FAULT: {
			const auto& f = run_->fault;
			return FaultExit{f.address, f.error_code, f.trap,
					 f.signo, f.si_code};
		}
		case UNPRIV_EXIT_TRAP: {
			const auto& t = run_->trap;
			return TrapExit{t.trap, t.signo, t.si_code, t.address,
					t.error_code, t.dr6};
		}
		default:
			return fail(errc::backend_failed);
		}
	}

	Result<void> kick() noexcept override
	{
		return check(detail::ioctl<UNPRIV_KICK>(fd_.get(), 0));
	}

	std::size_t fpu_size() const noexcept override { return fpu_size_; }

	Result<void> get_fpu(std::span<std::byte> buf) const override
	{
		unpriv_fpu arg{.buf = reinterpret_cast<std::uintptr_t>(buf.data()),
			       .size = clamp_size(buf.size()), .flags = 0};
		return check(detail::ioctl<UNPRIV_GET_FPU>(fd_.get(), &arg));
	}

	Result<void> set_fpu(std::span<const std::byte> buf) override
	{
		unpriv_fpu arg{.buf = reinterpret_cast<std::uintptr_t>(buf.data()),
			       .size = clamp_size(buf.size()), .flags = 0};
		return check(detail::ioctl<UNPRIV_SET_FPU>(fd_.get(), &arg));
	}

	int fd() const noexcept override { return fd_.get(); }

private:
	static __u32 clamp_size(std::size_t n) noexcept
	{
		return static_cast<__u32>(std::min<std::size_t>(n, UINT32_MAX));
	}

	Fd fd_;
	unpriv_run *run_;
	std::size_t fpu_size_;
};

class ModuleBackend final : public BackendImpl {
public:
	ModuleBackend(Device dev, std::size_t fpu_size) noexcept
		: dev_(std::move(dev)), fpu_size_(fpu_size)
	{
	}

	BackendKind kind() const noexcept override { return BackendKind::module; }

	Result<std::unique_ptr<AddressSpaceImpl>> create_address_space() override
	{
		auto fd = detail::ioctl<UNPRIV_CREATE_AS>(dev_.fd(), 0);
		if (!fd)
			return tl::unexpected(fd.error());
		return std::make_unique<ModuleAddressSpace>(Fd(*fd));
	}

	Result<std::unique_ptr<VcpuImpl>> create_vcpu() override
	{
		auto r = detail::ioctl<UNPRIV_CREATE_VCPU>(dev_.fd(), 0);
		if (!r)
			return tl::unexpected(r.error());
		Fd fd(*r);
		void *run = mmap(nullptr, UNPRIV_RUN_SIZE, PROT_READ | PROT_WRITE,
				 MAP_SHARED, fd.get(), 0);
		if (run == MAP_FAILED)
			return fail_errno();
		return std::make_unique<ModuleVcpu>(
			std::move(fd), static_cast<unpriv_run *>(run), fpu_size_);
	}

private:
	Device dev_;
	std::size_t fpu_size_;
};

} // namespace

Result<std::shared_ptr<BackendImpl>> open_module_backend()
{
	auto dev = Device::open();
	if (!dev)
		return tl::unexpected(dev.error());
	auto fpu = dev->check_extension(UNPRIV_CAP_FPU);
	if (!fpu)
		return tl::unexpected(fpu.error());
	if (*fpu <= 0)
		return fail(errc::api_version_mismatch);
	return std::make_shared<ModuleBackend>(std::move(*dev),
					       static_cast<std::size_t>(*fpu));
}

} // namespace unpriv::detail
