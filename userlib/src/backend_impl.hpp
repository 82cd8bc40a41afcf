// SPDX-License-Identifier: MIT
//
// What a backend implements.  The public handles (Backend, AddressSpace,
// Vcpu) own one of these each and forward to it; nothing here is
// installed.
#pragma once

#include <cstddef>
#include <memory>
#include <span>

#include "unpriv/backend.hpp"

namespace unpriv::detail {

class AddressSpaceImpl {
public:
	explicit AddressSpaceImpl(BackendKind kind) noexcept : kind_(kind) {}
	virtual ~AddressSpaceImpl() = default;
	AddressSpaceImpl(const AddressSpaceImpl&) = delete;
	AddressSpaceImpl& operator=(const AddressSpaceImpl&) = delete;

	[[nodiscard]] BackendKind kind() const noexcept { return kind_; }

	virtual Result<void> map(const Mapping& m) = 0;
	virtual Result<void> unmap(std::uint64_t addr, std::uint64_t len) = 0;
	virtual Result<void> protect(std::uint64_t addr, std::uint64_t len,
				     Prot prot) = 0;
	// The default does one operation after the other.
	virtual Result<void> batch(std::span<const AsOp> ops, std::size_t *done);
	virtual Result<std::size_t> read(std::uint64_t addr,
					 std::span<std::byte> buf) = 0;
	virtual Result<std::size_t> write(std::uint64_t addr,
					  std::span<const std::byte> buf) = 0;
	[[nodiscard]] virtual int fd() const noexcept = 0;

private:
	BackendKind kind_;
};

class VcpuImpl {
public:
	explicit VcpuImpl(BackendKind kind) noexcept : kind_(kind) {}
	virtual ~VcpuImpl() = default;
	VcpuImpl(const VcpuImpl&) = delete;
	VcpuImpl& operator=(const VcpuImpl&) = delete;

	[[nodiscard]] BackendKind kind() const noexcept { return kind_; }

	// Where the registers live for the Vcpu's lifetime.
	[[nodiscard]] virtual Regs *regs() noexcept = 0;

	// as is of this backend's kind (Vcpu::run() checked).
	virtual Result<Exit> run(AddressSpaceImpl& as) = 0;
	virtual Result<void> kick() noexcept = 0;
	[[nodiscard]] virtual std::size_t fpu_size() const noexcept = 0;
	virtual Result<void> get_fpu(std::span<std::byte> buf) const = 0;
	virtual Result<void> set_fpu(std::span<const std::byte> buf) = 0;
	[[nodiscard]] virtual int fd() const noexcept { return -1; }

private:
	BackendKind kind_;
};

class BackendImpl {
public:
	virtual ~BackendImpl() = default;

	[[nodiscard]] virtual BackendKind kind() const noexcept = 0;
	[[nodiscard]] virtual AddressRange reserved() const noexcept { return {}; }
	virtual Result<std::unique_ptr<AddressSpaceImpl>> create_address_space() = 0;
	virtual Result<std::unique_ptr<VcpuImpl>> create_vcpu() = 0;
};

// The backends' constructors, one per kind.
Result<std::shared_ptr<BackendImpl>> open_module_backend();
Result<std::shared_ptr<BackendImpl>> open_ptrace_backend();
Result<std::shared_ptr<BackendImpl>> open_seccomp_backend();

// The registers of a new vcpu, on every backend.
inline Regs initial_regs() noexcept
{
	Regs r{};
	r.cs = cs_64;
	r.rflags = 0x202;
	return r;
}

} // namespace unpriv::detail
