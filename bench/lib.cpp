// SPDX-License-Identifier: GPL-2.0
//
// The libunpriv rows of unpriv-micro (bench/micro.c): the same guest
// getpid() loop as unpriv_syscall, run through the library on each
// backend.  A round trip is one Vcpu::run() returning a SyscallExit and
// the result set in regs().rax, as a guest kernel on the library does it.
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include <optional>
#include <string>

#include <unpriv.hpp>

#include "micro.h"

namespace {

constexpr std::uint64_t code_addr = 0x100000;

// loop: mov $39, %eax; syscall; jmp loop
const unsigned char getpid_loop[] = {
	0xb8, 0x27, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xeb, 0xf7,
};

std::optional<unpriv::Backend> backend;
std::optional<unpriv::AddressSpace> as;
std::optional<unpriv::Vcpu> vcpu;
std::optional<unpriv::GuestMemory> mem;

template <class T>
T checked(unpriv::Result<T> r, const char *what)
{
	if (!r)
		errx(1, "%s: %s", what, r.error().message().c_str());
	return std::move(*r);
}

void setup(unpriv::BackendKind kind, const char *name)
{
	auto b = unpriv::Backend::open(kind);
	if (!b) {
		printf("# %s: skipped: %s\n", name, b.error().message().c_str());
		exit(BENCH_SKIPPED);
	}
	backend = std::move(*b);
	as = checked(backend->create_address_space(), "address space");
	vcpu = checked(backend->create_vcpu(), "vcpu");
	mem = checked(unpriv::GuestMemory::create(4096), "guest memory");
	memcpy(mem->bytes().data(), getpid_loop, sizeof(getpid_loop));
	auto mapped = as->map({.addr = code_addr, .len = 4096, .fd = mem->fd(),
			       .prot = unpriv::Prot::rx});
	if (!mapped)
		errx(1, "map: %s", mapped.error().message().c_str());
	vcpu->regs().rip = code_addr;
}

} // namespace

extern "C" void libunpriv_module_setup(void)
{
	setup(unpriv::BackendKind::module, "libunpriv_module");
}

extern "C" void libunpriv_ptrace_setup(void)
{
	setup(unpriv::BackendKind::ptrace, "libunpriv_ptrace");
}

extern "C" void libunpriv_seccomp_setup(void)
{
	setup(unpriv::BackendKind::seccomp, "libunpriv_seccomp");
}

extern "C" void libunpriv_syscall(void)
{
	auto exit = vcpu->run(*as);
	if (!exit)
		errx(1, "run: %s", exit.error().message().c_str());
	auto *sys = std::get_if<unpriv::SyscallExit>(&*exit);
	if (!sys || sys->nr != SYS_getpid)
		errx(1, "guest exit %zu, not getpid", exit->index());
	vcpu->regs().rax = EMULATED_PID;
}
