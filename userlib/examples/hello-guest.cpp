// SPDX-License-Identifier: MIT
//
// hello-guest: the smallest complete libunpriv program.  It maps one page
// of guest code into a fresh address space, runs it, and serves the
// guest's system calls itself: write() to standard output, exit().
//
//	hello-guest [--backend=module|ptrace|seccomp]
//
// Without --backend, UNPRIV_BACKEND chooses (default: the module when
// /dev/unpriv exists, seccomp otherwise).
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <unpriv.hpp>

// The guest, in the binary's read-only data: write(1, msg, len); exit(0).
extern "C" const char guest_start[], guest_end[];
asm(".pushsection .rodata\n"
    "guest_start:\n"
    "	lea msg(%rip), %rsi\n"
    "	mov $1, %edi\n"
    "	mov $(msg_end - msg), %edx\n"
    "	mov $1, %eax\n"			// write
    "	syscall\n"
    "	xor %edi, %edi\n"
    "	mov $60, %eax\n"		// exit
    "	syscall\n"
    "msg:	.ascii \"Hello from a guest!\\n\"\n"
    "msg_end:\n"
    "guest_end:\n"
    ".popsection\n");

namespace {

constexpr std::uint64_t code_addr = 0x10000;

int fail(const char *what, std::error_code e)
{
	std::fprintf(stderr, "hello-guest: %s: %s\n", what, e.message().c_str());
	return 1;
}

} // namespace

int main(int argc, char **argv)
{
	std::string_view arg = argc > 1 ? argv[1] : "";
	if (argc > 2 || (argc == 2 && !arg.starts_with("--backend="))) {
		std::fprintf(stderr, "usage: hello-guest [--backend=module|ptrace|seccomp]\n");
		return arg == "--help" || arg == "-h" ? 0 : 2;
	}

	// 1. A backend, an address space, a vcpu, and memory for the guest.
	auto backend = unpriv::Backend::open();
	if (argc == 2) {
		auto kind = unpriv::Backend::parse(arg.substr(std::strlen("--backend=")));
		if (!kind)
			return fail(argv[1], kind.error());
		backend = unpriv::Backend::open(*kind);
	}
	if (!backend)
		return fail("backend", backend.error());
	auto as = backend->create_address_space();
	if (!as)
		return fail("address space", as.error());
	auto vcpu = backend->create_vcpu();
	if (!vcpu)
		return fail("vcpu", vcpu.error());
	auto mem = unpriv::GuestMemory::create(4096);
	if (!mem)
		return fail("guest memory", mem.error());

	// 2. Copy the code in and map it, read and execute, at code_addr.
	std::memcpy(mem->bytes().data(), guest_start, guest_end - guest_start);
	auto mapped = as->map({.addr = code_addr, .len = 4096, .fd = mem->fd(),
			       .prot = unpriv::Prot::rx});
	if (!mapped)
		return fail("map", mapped.error());

	// 3. Run it from its first byte, and serve each system call.
	std::printf("backend: %s\n", std::string(to_string(backend->kind())).c_str());
	unpriv::Regs& regs = vcpu->regs();
	regs.rip = code_addr;
	for (;;) {
		auto exit = vcpu->run(*as);
		if (!exit)
			return fail("run", exit.error());
		auto *sys = std::get_if<unpriv::SyscallExit>(&*exit);
		if (!sys) {
			std::fprintf(stderr, "hello-guest: the guest stopped at %#llx "
				     "without a system call\n", regs.rip);
			return 1;
		}
		const auto& a = sys->args;
		switch (sys->nr) {
		case 1: {	// write(fd, buf, count): only to stdout, from guest memory
			std::printf("guest: write(%llu, %#llx, %llu)\n",
				    (unsigned long long)a[0], (unsigned long long)a[1],
				    (unsigned long long)a[2]);
			std::vector<std::byte> buf(std::min<std::uint64_t>(a[2], 4096));
			auto n = as->read(a[1], buf);
			if (a[0] != 1)
				regs.rax = -EBADF;
			else if (!n)
				regs.rax = -EFAULT;
			else
				regs.rax = std::fwrite(buf.data(), 1, *n, stdout);
			break;
		}
		case 60:	// exit(status)
			std::printf("guest: exit(%d)\n", static_cast<int>(a[0]));
			return static_cast<int>(a[0]);
		default:
			std::printf("guest: syscall %llu: ENOSYS\n",
				    (unsigned long long)sys->nr);
			regs.rax = -ENOSYS;
		}
	}
}
