// SPDX-License-Identifier: MIT
//
// The backend suite: what every backend must do alike.  backend_main.cpp
// runs it once per backend.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <csignal>
#include <cstring>
#include <thread>
#include <vector>

#include "guest.hpp"
#include "helpers.hpp"

using namespace unpriv;
using namespace unpriv::test;

namespace {

GUEST_CODE(getpid_then_exit,
	"	mov $39, %eax\n"		// getpid
	"	syscall\n"
	"getpid_then_exit_after:\n"
	"	mov %rax, %rbx\n"
	"	mov $60, %eax\n"		// exit(7)
	"	mov $7, %edi\n"
	"	syscall\n")
extern "C" const std::byte getpid_then_exit_after[];

GUEST_CODE(six_args,
	"	mov $0x1001, %rdi\n"
	"	mov $0x1002, %rsi\n"
	"	mov $0x1003, %rdx\n"
	"	mov $0x1004, %r10\n"
	"	mov $0x1005, %r8\n"
	"	mov $0x1006, %r9\n"
	"	mov $0x7fff, %eax\n"		// no such system call
	"	syscall\n")

GUEST_CODE(syscall_keeps_regs,
	"	syscall\n"
	"	syscall\n")

GUEST_CODE(int80,
	"	mov $20, %eax\n"		// getpid, 32-bit ABI
	"	mov $0x11, %ebx\n"
	"	mov $0x12, %ecx\n"
	"	mov $0x13, %edx\n"
	"	mov $0x14, %esi\n"
	"	mov $0x15, %edi\n"
	"	mov $0x16, %ebp\n"
	"	int $0x80\n"
	"int80_after:\n"
	"	ud2\n")
extern "C" const std::byte int80_after[];

GUEST_CODE(read_unmapped,
	"	mov $0x400000, %rax\n"
	"read_unmapped_insn:\n"
	"	mov (%rax), %rbx\n"
	"	ud2\n")
extern "C" const std::byte read_unmapped_insn[];

GUEST_CODE(write_code,
	"	lea write_code_insn(%rip), %rax\n"
	"write_code_insn:\n"
	"	movb $0, (%rax)\n"
	"	ud2\n")
extern "C" const std::byte write_code_insn[];

GUEST_CODE(write_data_then_syscall,
	"	mov $0x200000, %rax\n"
	"	movq $0x1234, (%rax)\n"
	"	syscall\n"
	"	movq $0x5678, (%rax)\n"
	"	syscall\n")

GUEST_CODE(breakpoint,
	"	int3\n"
	"breakpoint_after:\n"
	"	ud2\n")
extern "C" const std::byte breakpoint_after[];

GUEST_CODE(undefined,
	"	nop\n"
	"undefined_insn:\n"
	"	ud2\n")
extern "C" const std::byte undefined_insn[];

GUEST_CODE(divide,
	"	xor %ecx, %ecx\n"
	"	mov $1, %eax\n"
	"	xor %edx, %edx\n"
	"divide_insn:\n"
	"	div %ecx\n")
extern "C" const std::byte divide_insn[];

GUEST_CODE(single_step,
	"	nop\n"
	"single_step_second:\n"
	"	nop\n"
	"	ud2\n")
extern "C" const std::byte single_step_second[];

GUEST_CODE(spin,
	"1:	jmp 1b\n")

GUEST_CODE(read_fs,
	"	mov %fs:8, %rbx\n"
	"	mov %gs:16, %rdx\n"
	"	mov $39, %eax\n"
	"	syscall\n")

GUEST_CODE(xmm_roundtrip,
	"	movq %xmm0, %rbx\n"	// what the host put in xmm0
	"	mov $0x5a5a5a5a, %rcx\n"
	"	movq %rcx, %xmm1\n"	// for the host to find in xmm1
	"	syscall\n")

GUEST_CODE(count_syscalls,
	"	xor %ebx, %ebx\n"
	"1:	mov $39, %eax\n"
	"	syscall\n"
	"	inc %rbx\n"
	"	jmp 1b\n")

// Says it runs (second data word 1), then waits for the host to set the
// first data word, then makes a system call.
GUEST_CODE(announce_then_wait_for_host,
	"	movq $1, 0x200008\n"
	"	mov $0x200000, %rax\n"
	"1:	cmpq $0, (%rax)\n"
	"	je 1b\n"
	"	mov $39, %eax\n"
	"	syscall\n")

// Says it runs (first data word 1), and spins; at +2 a system call.
GUEST_CODE(announce_and_spin,
	"	jmp 2f\n"
	"	syscall\n"
	"2:	movq $1, 0x200000\n"
	"1:	jmp 1b\n")

// Counts in xmm0 (rbx shows it) and reads %fs:0 into rdx, a system call
// at a time.
GUEST_CODE(count_in_xmm0,
	"1:	movq %xmm0, %rbx\n"
	"	inc %rbx\n"
	"	movq %rbx, %xmm0\n"
	"	mov %fs:0, %rdx\n"
	"	syscall\n"
	"	jmp 1b\n")

// In a 32-bit code segment: int $0x80 with the 32-bit registers.
GUEST_CODE(compat_int80,
	".code32\n"
	"	mov $20, %eax\n"
	"	mov $0x21, %ebx\n"
	"	int $0x80\n"
	"	ud2\n"
	".code64\n")

} // namespace

TEST_SUITE("backend") {

TEST_CASE("a system call exits with its number and arguments and does not run")
{
	auto g = Guest::make(getpid_then_exit());

	auto e = g.run_to<SyscallExit>();
	CHECK(e.nr == 39);
	CHECK(e.insn == SyscallInsn::syscall);
	CHECK_FALSE(e.compat);
	CHECK(g.vcpu.regs().rax == 39);
	CHECK(g.vcpu.regs().rip == GUEST_ADDR(getpid_then_exit, getpid_then_exit_after));

	// The guest continues after the instruction with the result we set.
	g.vcpu.regs().rax = 0x1234;
	e = g.run_to<SyscallExit>();
	CHECK(e.nr == 60);
	CHECK(e.args[0] == 7);
	CHECK(g.vcpu.regs().rbx == 0x1234);
}

TEST_CASE("all six arguments arrive")
{
	auto g = Guest::make(six_args());

	auto e = g.run_to<SyscallExit>();
	CHECK(e.nr == 0x7fff);
	for (std::size_t i = 0; i < e.args.size(); i++) {
		CAPTURE(i);
		CHECK(e.args[i] == 0x1001 + i);
	}
}

TEST_CASE("registers pass through a system call as the hardware leaves them")
{
	auto g = Guest::make(syscall_keeps_regs());
	Regs& r = g.vcpu.regs();
	r.rax = 39;
	r.rbx = 0xb0b0b0b0b0b0b0b0;
	r.rdx = 0xd0d0d0d0d0d0d0d0;
	r.rsi = 0x5151515151515151;
	r.rdi = 0xd1d1d1d1d1d1d1d1;
	r.rbp = 0xb9b9b9b9b9b9b9b9;
	r.r8 = 8;
	r.r9 = 9;
	r.r10 = 10;
	r.r12 = 12;
	r.r13 = 13;
	r.r14 = 14;
	r.r15 = 0xf15f15f15f15f15f;
	const Regs before = r;

	g.run_to<SyscallExit>();
	CHECK(r.rbx == before.rbx);
	CHECK(r.rdx == before.rdx);
	CHECK(r.rsi == before.rsi);
	CHECK(r.rdi == before.rdi);
	CHECK(r.rbp == before.rbp);
	CHECK(r.rsp == before.rsp);
	CHECK(r.r8 == 8);
	CHECK(r.r9 == 9);
	CHECK(r.r10 == 10);
	CHECK(r.r12 == 12);
	CHECK(r.r13 == 13);
	CHECK(r.r14 == 14);
	CHECK(r.r15 == before.r15);
	// syscall puts the return address in rcx and rflags in r11.
	CHECK(r.rcx == code_addr + 2);
	CHECK(r.r11 == (r.rflags & ~0x10000ULL));
	CHECK(r.rip == code_addr + 2);
	CHECK(r.cs == cs_64);

	// What we change is what the guest sees.
	r.rax = 39;
	r.r12 = 0x1212;
	g.run_to<SyscallExit>();
	CHECK(r.r12 == 0x1212);
	CHECK(r.rip == code_addr + 4);
}

TEST_CASE("int $0x80 is a 32-bit system call" *
	  doctest::skip(!kernel_has_int80()))
{
	auto g = Guest::make(int80());

	auto e = g.run_to<SyscallExit>();
	CHECK(e.nr == 20);
	CHECK(e.insn == SyscallInsn::int80);
	CHECK(e.compat);
	for (std::size_t i = 0; i < e.args.size(); i++) {
		CAPTURE(i);
		CHECK(e.args[i] == 0x11 + i);
	}
	CHECK(g.vcpu.regs().rip == GUEST_ADDR(int80, int80_after));
}

TEST_CASE("int $0x80 from 32-bit code" *
	  doctest::skip(!kernel_has_int80()))
{
	auto g = Guest::make(compat_int80());
	g.vcpu.regs().cs = cs_32;
	g.vcpu.regs().ss = ds_user;

	auto e = g.run_to<SyscallExit>();
	CHECK(e.nr == 20);
	CHECK(e.args[0] == 0x21);
	CHECK(e.insn == SyscallInsn::int80);
	CHECK(e.compat);
	CHECK(g.vcpu.regs().cs == cs_32);

	auto t = g.run_to<TrapExit>();
	CHECK(t.trap == 6);
}

TEST_CASE("a read of unmapped memory is a fault at the instruction")
{
	auto g = Guest::make(read_unmapped());

	auto f = g.run_to<FaultExit>();
	CHECK(f.address == unmapped_addr);
	CHECK(f.trap == 14);
	CHECK(f.signo == SIGSEGV);
	CHECK(f.si_code == SEGV_MAPERR);
	CHECK((f.error_code & 0x4) != 0);	// user
	CHECK((f.error_code & 0x2) == 0);	// read
	CHECK(g.vcpu.regs().rip == GUEST_ADDR(read_unmapped, read_unmapped_insn));

	// Map it, and the instruction completes.
	auto ok = g.as.map({.addr = unmapped_addr, .len = page, .fd = g.mem.fd(),
			    .offset = data_off, .prot = Prot::read});
	REQUIRE(ok);
	std::uint64_t v = 0x77;
	std::memcpy(g.mem.bytes(data_off, 8).data(), &v, 8);
	auto t = g.run_to<TrapExit>();
	CHECK(t.trap == 6);
	CHECK(g.vcpu.regs().rbx == 0x77);
}

TEST_CASE("a write to read-only memory is an access fault")
{
	auto g = Guest::make(write_code());

	auto f = g.run_to<FaultExit>();
	CHECK(f.address == GUEST_ADDR(write_code, write_code_insn));
	CHECK(f.signo == SIGSEGV);
	CHECK(f.si_code == SEGV_ACCERR);
	CHECK((f.error_code & 0x2) != 0);	// write
	CHECK((f.error_code & 0x1) != 0);	// present
}

TEST_CASE("int3, ud2 and divide errors are traps as Linux reports them")
{
	SUBCASE("int3") {
		auto g = Guest::make(breakpoint());
		auto t = g.run_to<TrapExit>();
		CHECK(t.trap == 3);
		CHECK(t.signo == SIGTRAP);
		CHECK(t.si_code == SI_KERNEL);
		CHECK(g.vcpu.regs().rip == GUEST_ADDR(breakpoint, breakpoint_after));
	}
	SUBCASE("ud2") {
		auto g = Guest::make(undefined());
		auto t = g.run_to<TrapExit>();
		CHECK(t.trap == 6);
		CHECK(t.signo == SIGILL);
		CHECK(t.si_code == ILL_ILLOPN);
		CHECK(t.address == GUEST_ADDR(undefined, undefined_insn));
		CHECK(g.vcpu.regs().rip == GUEST_ADDR(undefined, undefined_insn));
	}
	SUBCASE("divide by zero") {
		auto g = Guest::make(divide());
		auto t = g.run_to<TrapExit>();
		CHECK(t.trap == 0);
		CHECK(t.signo == SIGFPE);
		CHECK(t.si_code == FPE_INTDIV);
		CHECK(g.vcpu.regs().rip == GUEST_ADDR(divide, divide_insn));
	}
}

TEST_CASE("the trap flag single-steps with DR6.BS")
{
	auto g = Guest::make(single_step());
	g.vcpu.regs().rflags |= 0x100;

	auto t = g.run_to<TrapExit>();
	CHECK(t.trap == 1);
	CHECK(t.signo == SIGTRAP);
	CHECK((t.dr6 & 0x4000) != 0);
	CHECK(g.vcpu.regs().rip == GUEST_ADDR(single_step, single_step_second));
}

TEST_CASE("guest memory is shared with the host's view of the memfd")
{
	auto g = Guest::make(write_data_then_syscall());

	g.run_to<SyscallExit>();
	CHECK(g.data<std::uint64_t>(0) == 0x1234);
	g.run_to<SyscallExit>();
	CHECK(g.data<std::uint64_t>(0) == 0x5678);
}

TEST_CASE("read and write of guest memory")
{
	auto g = Guest::make(read_unmapped());
	std::array<std::byte, 16> buf{};

	SUBCASE("of mapped memory") {
		std::array<std::byte, 16> src;
		for (std::size_t i = 0; i < src.size(); i++)
			src[i] = std::byte(i + 1);
		auto w = g.as.write(data_addr + 8, src);
		REQUIRE(w);
		CHECK(*w == src.size());
		CHECK(g.data<std::uint8_t>(8) == 1);
		auto r = g.as.read(data_addr + 8, buf);
		REQUIRE(r);
		CHECK(*r == buf.size());
		CHECK(buf == src);
	}
	SUBCASE("a debugger may write read-only private code") {
		REQUIRE(g.as.map({.addr = unmapped_addr, .len = page,
				  .fd = g.mem.fd(), .offset = code_off,
				  .prot = Prot::rx, .share = Share::private_}));
		std::array<std::byte, 1> int3{std::byte{0xcc}};
		auto w = g.as.write(unmapped_addr, int3);
		REQUIRE(w);
		CHECK(*w == 1);
		auto r = g.as.read(unmapped_addr, buf);
		REQUIRE(r);
		CHECK(buf[0] == std::byte{0xcc});
		// Private: the memfd is unchanged.
		CHECK(g.mem.bytes(code_off, 1)[0] != std::byte{0xcc});
	}
	SUBCASE("up to the end of what is mapped") {
		auto r = g.as.read(stack_top - 4, buf);
		REQUIRE(r);
		CHECK(*r == 4);
	}
	SUBCASE("nothing mapped is EIO") {
		auto r = g.as.read(unmapped_addr, buf);
		REQUIRE_FALSE(r);
		CHECK(r.error() == std::errc::io_error);
		auto w = g.as.write(unmapped_addr, buf);
		REQUIRE_FALSE(w);
		CHECK(w.error() == std::errc::io_error);
	}
}

TEST_CASE("unmap and protect take effect on the next access")
{
	auto g = Guest::make(write_data_then_syscall());

	SUBCASE("unmap") {
		REQUIRE(g.as.unmap(data_addr, page));
		auto f = g.run_to<FaultExit>();
		CHECK(f.address == data_addr);
		CHECK(f.si_code == SEGV_MAPERR);
	}
	SUBCASE("protect") {
		REQUIRE(g.as.protect(data_addr, page, Prot::read));
		auto f = g.run_to<FaultExit>();
		CHECK(f.address == data_addr);
		CHECK(f.si_code == SEGV_ACCERR);
		REQUIRE(g.as.protect(data_addr, page, Prot::rw));
		g.run_to<SyscallExit>();
		CHECK(g.data<std::uint64_t>(0) == 0x1234);
	}
}

TEST_CASE("bad mappings are refused with the ABI's errors")
{
	auto g = Guest::make(spin());

	SUBCASE("misaligned") {
		auto r = g.as.map({.addr = 0x10001, .len = page, .fd = g.mem.fd(),
				   .prot = Prot::read});
		REQUIRE_FALSE(r);
		CHECK(r.error() == std::errc::invalid_argument);
	}
	SUBCASE("zero length") {
		auto r = g.as.map({.addr = 0x10000, .len = 0, .fd = g.mem.fd(),
				   .prot = Prot::read});
		REQUIRE_FALSE(r);
		CHECK(r.error() == std::errc::invalid_argument);
	}
	SUBCASE("beyond user space") {
		auto r = g.as.map({.addr = 0xffff800000000000, .len = page,
				   .fd = g.mem.fd(), .prot = Prot::read});
		REQUIRE_FALSE(r);
		CHECK(r.error() == std::errc::invalid_argument);
	}
	SUBCASE("a closed fd") {
		auto r = g.as.map({.addr = 0x10000, .len = page, .fd = 999,
				   .prot = Prot::read});
		REQUIRE_FALSE(r);
		CHECK(r.error() == std::errc::bad_file_descriptor);
	}
	SUBCASE("a file opened read-only, mapped shared writable") {
		std::string path = "/proc/self/fd/" + std::to_string(g.mem.fd());
		Fd mem_ro(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
		REQUIRE(mem_ro);
		auto r = g.as.map({.addr = 0x10000, .len = page, .fd = mem_ro.get(),
				   .prot = Prot::rw});
		REQUIRE_FALSE(r);
		CHECK(r.error() == std::errc::permission_denied);
	}
	SUBCASE("unknown protection bits") {
		auto r = g.as.protect(data_addr, page, static_cast<Prot>(0x80));
		REQUIRE_FALSE(r);
		CHECK(r.error() == std::errc::invalid_argument);
	}
}

TEST_CASE("a batch stops at the first failure and says how far it got")
{
	auto g = Guest::make(write_data_then_syscall());
	const AsOp ops[] = {
		AsOp::protect(data_addr, page, Prot::read),
		AsOp::unmap(stack_addr, page),
		AsOp::map({.addr = 0x10001, .len = page, .fd = g.mem.fd(),
			   .prot = Prot::read}),
		AsOp::unmap(code_addr, page),
	};
	std::size_t done = 99;

	auto r = g.as.batch(ops, &done);
	REQUIRE_FALSE(r);
	CHECK(r.error() == std::errc::invalid_argument);
	CHECK(done == 2);

	// The first two took effect, the last did not: the code still runs
	// and its write faults on the now read-only page.
	auto f = g.run_to<FaultExit>();
	CHECK(f.address == data_addr);
	CHECK(f.si_code == SEGV_ACCERR);
}

TEST_CASE("FS and GS bases are the guest's")
{
	auto g = Guest::make(read_fs());
	std::uint64_t vals[3] = {0x1111, 0x2222, 0x3333};
	REQUIRE(g.as.write(data_addr, std::as_bytes(std::span(vals))));
	g.vcpu.regs().fs_base = data_addr;
	g.vcpu.regs().gs_base = data_addr;

	g.run_to<SyscallExit>();
	CHECK(g.vcpu.regs().rbx == 0x2222);
	CHECK(g.vcpu.regs().rdx == 0x3333);
	CHECK(g.vcpu.regs().fs_base == data_addr);
	CHECK(g.vcpu.regs().gs_base == data_addr);
}

TEST_CASE("the FPU image is the guest's, in XSAVE format")
{
	auto g = Guest::make(xmm_roundtrip());
	std::vector<std::byte> fpu(g.vcpu.fpu_size());
	REQUIRE(fpu.size() >= 576);	// legacy area and XSAVE header

	REQUIRE(g.vcpu.get_fpu(fpu));
	std::uint32_t mxcsr;
	std::memcpy(&mxcsr, fpu.data() + 24, 4);
	CHECK(mxcsr == 0x1f80);
	std::uint16_t fcw;
	std::memcpy(&fcw, fpu.data(), 2);
	CHECK(fcw == 0x37f);

	std::uint64_t xmm0 = 0x0123456789abcdef;
	std::memcpy(fpu.data() + 160, &xmm0, 8);
	std::uint64_t xstate_bv;
	std::memcpy(&xstate_bv, fpu.data() + 512, 8);
	xstate_bv |= 2;		// SSE
	std::memcpy(fpu.data() + 512, &xstate_bv, 8);
	REQUIRE(g.vcpu.set_fpu(fpu));

	g.run_to<SyscallExit>();
	CHECK(g.vcpu.regs().rbx == xmm0);
	REQUIRE(g.vcpu.get_fpu(fpu));
	std::uint64_t xmm1;
	std::memcpy(&xmm1, fpu.data() + 176, 8);
	CHECK(xmm1 == 0x5a5a5a5a);

	SUBCASE("a short buffer is EINVAL") {
		auto r = g.vcpu.get_fpu(std::span(fpu).first(100));
		REQUIRE_FALSE(r);
		CHECK(r.error() == std::errc::invalid_argument);
	}
	SUBCASE("reserved MXCSR bits are EINVAL") {
		std::uint32_t bad = 0xffffffff;
		std::memcpy(fpu.data() + 24, &bad, 4);
		auto r = g.vcpu.set_fpu(fpu);
		REQUIRE_FALSE(r);
		CHECK(r.error() == std::errc::invalid_argument);
	}
}

TEST_CASE("a kick from another thread interrupts a spinning guest")
{
	auto g = Guest::make(spin());
	std::atomic<bool> done{false};

	std::thread kicker([&] {
		while (!done.load()) {
			REQUIRE(g.vcpu.kick());
			usleep(10000);
		}
	});
	Exit e = g.run();
	done = true;
	kicker.join();
	CHECK(std::holds_alternative<InterruptedExit>(e));
	CHECK(g.vcpu.regs().rip == code_addr);
}

TEST_CASE("a kick before run makes the next run return at once, once")
{
	auto g = Guest::make(getpid_then_exit());

	REQUIRE(g.vcpu.kick());
	CHECK(std::holds_alternative<InterruptedExit>(g.run()));
	auto e = g.run_to<SyscallExit>();
	CHECK(e.nr == 39);
}

namespace {

std::atomic<int> sigusr1_seen;

void on_sigusr1(int)
{
	sigusr1_seen++;
}

} // namespace

TEST_CASE("a host signal for the running thread interrupts the run and is delivered")
{
	auto g = Guest::make(spin());
	struct sigaction sa = {}, old;
	sa.sa_handler = on_sigusr1;
	sigemptyset(&sa.sa_mask);
	REQUIRE(sigaction(SIGUSR1, &sa, &old) == 0);
	sigusr1_seen = 0;

	pthread_t self = pthread_self();
	std::atomic<bool> done{false};
	std::thread sender([&] {
		while (!done.load()) {
			pthread_kill(self, SIGUSR1);
			usleep(10000);
		}
	});
	Exit e = g.run();
	done = true;
	sender.join();
	sigaction(SIGUSR1, &old, nullptr);

	CHECK(std::holds_alternative<InterruptedExit>(e));
	CHECK(sigusr1_seen.load() >= 1);
	CHECK(g.vcpu.regs().rip == code_addr);
}

TEST_CASE("a kick racing with exits ends one run, and every run has one exit")
{
	auto g = Guest::make(count_syscalls());
	std::atomic<bool> done{false};
	std::thread kicker([&] {
		while (!done.load()) {
			REQUIRE(g.vcpu.kick());
			usleep(50);
		}
	});
	int syscalls = 0, interrupts = 0;
	for (int i = 0; i < 500; i++) {
		auto e = g.vcpu.run(g.as);
		REQUIRE_MESSAGE(e, e.error().message());
		if (std::holds_alternative<SyscallExit>(*e)) {
			REQUIRE(std::get<SyscallExit>(*e).nr == 39);
			syscalls++;
		} else {
			REQUIRE(std::holds_alternative<InterruptedExit>(*e));
			interrupts++;
		}
	}
	done = true;
	kicker.join();
	CHECK(interrupts > 0);
	REQUIRE(syscalls > 0);
	// The guest counted the system calls that returned: none was lost
	// or run twice.
	CHECK(g.vcpu.regs().rbx == static_cast<std::uint64_t>(syscalls - 1));

	// The last kick ends at most the next run.
	Exit e = g.run();
	if (std::holds_alternative<InterruptedExit>(e))
		e = g.run();
	CHECK(std::holds_alternative<SyscallExit>(e));
}

// Documented difference: on ptrace, run() waits for the stub in waitpid(),
// which a handler with SA_RESTART restarts.
TEST_CASE("a host signal whose handler has SA_RESTART")
{
	auto g = Guest::make(announce_then_wait_for_host());
	struct sigaction sa = {}, old;
	sa.sa_handler = on_sigusr1;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	REQUIRE(sigaction(SIGUSR1, &sa, &old) == 0);
	sigusr1_seen = 0;

	pthread_t self = pthread_self();
	std::atomic<bool> returned{false};
	std::thread sender([&] {
		// Only once the guest runs: a signal before would be handled
		// before the run, and leave it nothing to interrupt.
		while (g.data<std::uint64_t>(8) != 1)
			usleep(1000);
		while (sigusr1_seen.load() == 0) {
			pthread_kill(self, SIGUSR1);
			usleep(10000);
		}
		// A run the signal did not end goes on until the guest's
		// next exit: let the guest make one, after giving the run
		// time enough to return if the signal did end it.
		for (int i = 0; i < 100 && !returned.load(); i++)
			usleep(10000);
		std::uint64_t go = 1;
		std::memcpy(g.mem.bytes(data_off, 8).data(), &go, 8);
	});
	Exit e = g.run();
	returned = true;
	sender.join();
	sigaction(SIGUSR1, &old, nullptr);

	CHECK(sigusr1_seen.load() >= 1);
	if (current_backend() == BackendKind::ptrace) {
		CHECK(std::holds_alternative<SyscallExit>(e));
	} else {
		CHECK(std::holds_alternative<InterruptedExit>(e));
		CHECK(g.vcpu.regs().rip >= code_addr);
	}
}

// Documented difference: a ptrace address space is traced by the thread
// that created it, and only that thread can run it or change its
// mappings.
TEST_CASE("a vcpu runs on another thread than the address space's creator")
{
	auto g = Guest::make(getpid_then_exit());
	Result<Exit> exit = fail(errc::not_supported);
	Result<void> mapped = fail(errc::not_supported);
	Result<std::size_t> got = fail(errc::not_supported);
	std::array<std::byte, 8> buf{};

	std::thread other([&] {
		exit = g.vcpu.run(g.as);
		mapped = g.as.map({.addr = unmapped_addr, .len = page,
				   .fd = g.mem.fd(), .offset = data_off,
				   .prot = Prot::read});
		got = g.as.read(code_addr, buf);
	});
	other.join();

	REQUIRE(got);
	CHECK(*got == buf.size());
	if (current_backend() == BackendKind::ptrace) {
		REQUIRE_FALSE(exit);
		CHECK(exit.error() == errc::wrong_thread);
		REQUIRE_FALSE(mapped);
		CHECK(mapped.error() == errc::wrong_thread);
		// The creator still can.
		CHECK(g.run_to<SyscallExit>().nr == 39);
	} else {
		REQUIRE(exit);
		CHECK(std::holds_alternative<SyscallExit>(*exit));
		CHECK(mapped);
	}
}

TEST_CASE("the FPU image of a running vcpu is EBUSY")
{
	auto g = Guest::make(announce_and_spin());
	std::vector<std::byte> fpu(g.vcpu.fpu_size());
	Result<void> got = fail(errc::not_supported);
	Result<void> set = fail(errc::not_supported);
	REQUIRE(g.vcpu.get_fpu(fpu));

	std::thread other([&] {
		while (g.data<std::uint64_t>(0) != 1)
			usleep(1000);
		got = g.vcpu.get_fpu(fpu);
		set = g.vcpu.set_fpu(fpu);
		REQUIRE(g.vcpu.kick());
	});
	CHECK(std::holds_alternative<InterruptedExit>(g.run()));
	other.join();
	REQUIRE_FALSE(got);
	CHECK(got.error() == std::errc::device_or_resource_busy);
	REQUIRE_FALSE(set);
	CHECK(set.error() == std::errc::device_or_resource_busy);
	CHECK(g.vcpu.get_fpu(fpu));
}

// Documented difference: ptrace and seccomp run one vcpu at a time in an
// address space; the module any number.
TEST_CASE("a second vcpu in an address space another one runs in")
{
	auto g = Guest::make(announce_and_spin());
	auto second = g.backend.create_vcpu();
	REQUIRE(second);
	second->regs() = g.vcpu.regs();
	second->regs().rip = code_addr + 2;	// the syscall

	// Another thread tries the second vcpu, and a protect, once the
	// first vcpu is in guest code.
	Result<Exit> e = fail(errc::not_supported);
	Result<void> m = fail(errc::not_supported);
	std::thread other([&] {
		while (g.data<std::uint64_t>(0) != 1)
			usleep(1000);
		e = second->run(g.as);
		m = g.as.protect(data_addr, page, Prot::rw);
		REQUIRE(g.vcpu.kick());
	});
	Exit first = g.run();
	other.join();
	CHECK(std::holds_alternative<InterruptedExit>(first));

	switch (current_backend()) {
	case BackendKind::module:
		REQUIRE(e);
		CHECK(std::holds_alternative<SyscallExit>(*e));
		CHECK(m);
		break;
	case BackendKind::seccomp:
		REQUIRE_FALSE(e);
		CHECK(e.error() == std::errc::device_or_resource_busy);
		REQUIRE_FALSE(m);
		CHECK(m.error() == std::errc::device_or_resource_busy);
		break;
	case BackendKind::ptrace:
		REQUIRE_FALSE(e);
		CHECK(e.error() == errc::wrong_thread);
		REQUIRE_FALSE(m);
		CHECK(m.error() == errc::wrong_thread);
		break;
	}
	// Now that the first is out, the second runs (from the system call
	// again: on the module it ran already, and went on past it).
	second->regs().rip = code_addr + 2;
	auto again = second->run(g.as);
	REQUIRE(again);
	CHECK(std::holds_alternative<SyscallExit>(*again));
}

TEST_CASE("many address spaces and vcpus on several threads")
{
	constexpr int threads = 4, rounds = 200;
	std::atomic<int> good{0};
	std::vector<std::thread> ts;

	for (int t = 0; t < threads; t++)
		ts.emplace_back([&] {
			auto g = Guest::make(count_syscalls());
			for (int i = 0; i < rounds; i++) {
				auto exit = g.vcpu.run(g.as);
				if (!exit || !std::holds_alternative<SyscallExit>(*exit))
					return;
			}
			// rbx counts the system calls that returned.
			if (g.vcpu.regs().rbx == rounds - 1)
				good++;
		});
	for (auto& t : ts)
		t.join();
	CHECK(good.load() == threads);
}

TEST_CASE("one address space, several vcpus")
{
	auto g = Guest::make(count_syscalls());
	auto second = g.backend.create_vcpu();
	REQUIRE(second);
	second->regs() = g.vcpu.regs();
	second->regs().rsp = stack_top - 512;

	for (int i = 0; i < 10; i++) {
		REQUIRE(std::holds_alternative<SyscallExit>(g.run()));
		auto e = second->run(g.as);
		REQUIRE(e);
		REQUIRE(std::holds_alternative<SyscallExit>(*e));
	}
	CHECK(g.vcpu.regs().rbx == 9);
	CHECK(second->regs().rbx == 9);
}

TEST_CASE("vcpus taking turns in an address space keep their own FPU and FS base")
{
	auto g = Guest::make(count_in_xmm0());
	std::uint64_t words[2] = {0x1111, 0x2222};
	REQUIRE(g.as.write(data_addr, std::as_bytes(std::span(words))));
	auto second = g.backend.create_vcpu();
	REQUIRE(second);
	second->regs() = g.vcpu.regs();
	g.vcpu.regs().fs_base = data_addr;
	second->regs().fs_base = data_addr + 8;

	// xmm0 starts at 0xa000 in one, 0xb000 in the other.
	auto set_xmm0 = [](Vcpu& v, std::uint64_t x) {
		std::vector<std::byte> fpu(v.fpu_size());
		REQUIRE(v.get_fpu(fpu));
		std::memcpy(fpu.data() + 160, &x, 8);
		std::uint64_t bv;
		std::memcpy(&bv, fpu.data() + 512, 8);
		bv |= 2;
		std::memcpy(fpu.data() + 512, &bv, 8);
		REQUIRE(v.set_fpu(fpu));
	};
	set_xmm0(g.vcpu, 0xa000);
	set_xmm0(*second, 0xb000);

	for (std::uint64_t i = 1; i <= 5; i++) {
		CAPTURE(i);
		REQUIRE(std::holds_alternative<SyscallExit>(g.run()));
		CHECK(g.vcpu.regs().rbx == 0xa000 + i);
		CHECK(g.vcpu.regs().rdx == 0x1111);
		auto e = second->run(g.as);
		REQUIRE(e);
		REQUIRE(std::holds_alternative<SyscallExit>(*e));
		CHECK(second->regs().rbx == 0xb000 + i);
		CHECK(second->regs().rdx == 0x2222);
	}
	CHECK(g.vcpu.regs().fs_base == data_addr);
	CHECK(second->regs().fs_base == data_addr + 8);
}

TEST_CASE("nothing leaks a file descriptor")
{
	std::size_t before = open_fds();
	{
		auto g = Guest::make(getpid_then_exit());
		g.run_to<SyscallExit>();
		auto as2 = g.backend.create_address_space();
		REQUIRE(as2);
		auto v2 = g.backend.create_vcpu();
		REQUIRE(v2);
	}
	CHECK(open_fds() == before);

	// Error paths too.
	{
		auto g = Guest::make(spin());
		CHECK_FALSE(g.as.map({.addr = 1, .len = page, .fd = g.mem.fd(),
				      .prot = Prot::read}));
		CHECK_FALSE(g.as.map({.addr = page, .len = page, .fd = 12345,
				      .prot = Prot::read}));
	}
	CHECK(open_fds() == before);
}

TEST_CASE("every handle is close-on-exec")
{
	auto g = Guest::make(getpid_then_exit());
	for (int fd : {g.as.fd(), g.vcpu.fd(), g.mem.fd()}) {
		if (fd < 0)
			continue;
		CAPTURE(fd);
		CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
	}
}

}
