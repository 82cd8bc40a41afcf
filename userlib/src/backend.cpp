// SPDX-License-Identifier: MIT
#include "unpriv/backend.hpp"

#include <cstdlib>
#include <string_view>

#include <unistd.h>

#include "backend_impl.hpp"
#include "unpriv/device.hpp"

namespace unpriv {

std::string_view to_string(BackendKind kind) noexcept
{
	switch (kind) {
	case BackendKind::module:
		return "module";
	case BackendKind::ptrace:
		return "ptrace";
	case BackendKind::seccomp:
		return "seccomp";
	}
	return "unknown";
}

namespace detail {

Result<void> AddressSpaceImpl::batch(std::span<const AsOp> ops,
				     std::size_t *done)
{
	std::size_t n = 0;
	Result<void> ret;

	for (const AsOp& op : ops) {
		switch (op.kind) {
		case AsOp::Kind::map:
			ret = map(op.m);
			break;
		case AsOp::Kind::unmap:
			ret = unmap(op.m.addr, op.m.len);
			break;
		case AsOp::Kind::protect:
			ret = protect(op.m.addr, op.m.len, op.m.prot);
			break;
		default:
			ret = fail_errno(EINVAL);
		}
		if (!ret)
			break;
		n++;
	}
	if (done)
		*done = n;
	return ret;
}

} // namespace detail

// --- Backend -----------------------------------------------------------------

Backend::Backend(std::shared_ptr<detail::BackendImpl> impl) noexcept
	: impl_(std::move(impl))
{
}

Backend::Backend(Backend&&) noexcept = default;
Backend& Backend::operator=(Backend&&) noexcept = default;
Backend::~Backend() = default;

Result<BackendKind> Backend::parse(std::string_view name)
{
	for (auto kind : {BackendKind::module, BackendKind::ptrace,
			  BackendKind::seccomp})
		if (name == to_string(kind))
			return kind;
	return fail(errc::unknown_backend);
}

Result<Backend> Backend::open(BackendKind kind)
{
	Result<std::shared_ptr<detail::BackendImpl>> impl;

	switch (kind) {
	case BackendKind::module:
		impl = detail::open_module_backend();
		break;
	case BackendKind::ptrace:
		impl = detail::open_ptrace_backend();
		break;
	case BackendKind::seccomp:
		impl = detail::open_seccomp_backend();
		break;
	default:
		return fail(errc::unknown_backend);
	}
	if (!impl)
		return tl::unexpected(impl.error());
	return Backend(std::move(*impl));
}

Result<Backend> Backend::open()
{
	const char *name = std::getenv(env_var);

	if (name && *name) {
		auto kind = parse(name);
		if (!kind)
			return tl::unexpected(kind.error());
		return open(*kind);
	}
	if (access(Device::default_path, F_OK) == 0)
		return open(BackendKind::module);
	return open(BackendKind::seccomp);
}

BackendKind Backend::kind() const noexcept
{
	return impl_->kind();
}

AddressRange Backend::reserved() const noexcept
{
	return impl_->reserved();
}

Result<AddressSpace> Backend::create_address_space()
{
	auto impl = impl_->create_address_space();
	if (!impl)
		return tl::unexpected(impl.error());
	return AddressSpace(std::move(*impl));
}

Result<Vcpu> Backend::create_vcpu()
{
	auto impl = impl_->create_vcpu();
	if (!impl)
		return tl::unexpected(impl.error());
	return Vcpu(std::move(*impl));
}

// --- AddressSpace ----------------------------------------------------------

AddressSpace::AddressSpace(std::unique_ptr<detail::AddressSpaceImpl> impl) noexcept
	: impl_(std::move(impl))
{
}

AddressSpace::AddressSpace(AddressSpace&&) noexcept = default;
AddressSpace& AddressSpace::operator=(AddressSpace&&) noexcept = default;
AddressSpace::~AddressSpace() = default;

BackendKind AddressSpace::kind() const noexcept
{
	return impl_->kind();
}

Result<void> AddressSpace::map(const Mapping& m)
{
	return impl_->map(m);
}

Result<void> AddressSpace::unmap(std::uint64_t addr, std::uint64_t len)
{
	return impl_->unmap(addr, len);
}

Result<void> AddressSpace::protect(std::uint64_t addr, std::uint64_t len,
				   Prot prot)
{
	return impl_->protect(addr, len, prot);
}

Result<void> AddressSpace::batch(std::span<const AsOp> ops, std::size_t *done)
{
	return impl_->batch(ops, done);
}

Result<std::size_t> AddressSpace::read(std::uint64_t addr,
				       std::span<std::byte> buf)
{
	return impl_->read(addr, buf);
}

Result<std::size_t> AddressSpace::write(std::uint64_t addr,
					std::span<const std::byte> buf)
{
	return impl_->write(addr, buf);
}

int AddressSpace::fd() const noexcept
{
	return impl_->fd();
}

// --- Vcpu --------------------------------------------------------------------

Vcpu::Vcpu(std::unique_ptr<detail::VcpuImpl> impl) noexcept
	: impl_(std::move(impl)), regs_(impl_->regs())
{
}

Vcpu::Vcpu(Vcpu&&) noexcept = default;
Vcpu& Vcpu::operator=(Vcpu&&) noexcept = default;
Vcpu::~Vcpu() = default;

BackendKind Vcpu::kind() const noexcept
{
	return impl_->kind();
}

Result<Exit> Vcpu::run(AddressSpace& as)
{
	if (as.impl_->kind() != impl_->kind())
		return fail(errc::wrong_backend);
	return impl_->run(*as.impl_);
}

Result<void> Vcpu::kick() noexcept
{
	return impl_->kick();
}

std::size_t Vcpu::fpu_size() const noexcept
{
	return impl_->fpu_size();
}

Result<void> Vcpu::get_fpu(std::span<std::byte> buf) const
{
	return impl_->get_fpu(buf);
}

Result<void> Vcpu::set_fpu(std::span<const std::byte> buf)
{
	return impl_->set_fpu(buf);
}

int Vcpu::fd() const noexcept
{
	return impl_->fd();
}

} // namespace unpriv
