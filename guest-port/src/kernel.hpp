// SPDX-License-Identifier: GPL-2.0
//
// Kernel: the guest port itself.  It opens a backend, makes the guest's
// physical memory and file system, starts the first process, and runs
// it: every exit of the guest (a system call, a fault, a trap, a host
// signal) comes here and is handled, until the guest is gone.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <unpriv/backend.hpp>

#include "fs/vfs.hpp"
#include "mm/phys.hpp"
#include "stats.hpp"
#include "task.hpp"
#include "trace.hpp"
#include "vdso.hpp"

namespace guest {

struct Config {
	std::optional<unpriv::BackendKind> backend;	// none: Backend::open()'s choice
	std::string root;				// the guest's /, a host directory
	std::vector<std::string> env;			// the guest's environment
	std::int64_t time_offset_ns = 0;		// guest time - host time
	bool trace = false;				// --trace
	bool stats = false;				// --stats
	std::uint64_t memory = 64ull << 30;		// guest physical memory
	std::string hostname = "unpriv";		// the guest's uname nodename
	// unpriv-run's descriptors 0 to 2 that were closed when it started
	// (/dev/null now): the guest gets them closed.
	std::array<bool, 3> std_closed{};
};

// unpriv-run's exit status when it fails itself, as env(1) and
// chroot(1) have them.
inline constexpr int status_failed = 125;
inline constexpr int status_cannot_run = 126;
inline constexpr int status_not_found = 127;

class Kernel {
public:
	explicit Kernel(Config config);
	~Kernel();
	Kernel(const Kernel&) = delete;
	Kernel& operator=(const Kernel&) = delete;

	// Run program (looked up in the guest's PATH when it has no '/')
	// with argv until the guest is gone.  Returns unpriv-run's exit
	// status: the guest's, 128 + the signal that ended it, or one of
	// the status_* above.
	int run(const std::string& program, const std::vector<std::string>& argv);

	[[nodiscard]] const Config& config() const noexcept { return config_; }
	[[nodiscard]] Vfs& vfs() noexcept { return *vfs_; }
	[[nodiscard]] PhysMemory& phys() noexcept { return *phys_; }
	[[nodiscard]] Stats& stats() noexcept { return stats_; }
	[[nodiscard]] const Vdso& vdso() const noexcept { return *vdso_; }

	// A signal for process p, from the guest port (SIGPIPE for a write
	// to a broken pipe) or from a fault.  The guest cannot catch
	// signals yet: each takes its default action.
	void send_signal(Process& p, int signo);

private:
	int start(const std::string& program, const std::vector<std::string>& argv);
	void run_task(Task& t);
	void on_syscall(Task& t, const unpriv::SyscallExit& e);
	void on_fault(Task& t, const unpriv::FaultExit& e);
	void on_trap(Task& t, const unpriv::TrapExit& e);
	// A synchronous signal from the guest's own instruction.
	void force_signal(Task& t, int signo, int code, std::uint64_t addr);
	int exit_status() const;

	Config config_;
	std::optional<unpriv::Backend> backend_;
	std::optional<PhysMemory> phys_;
	std::optional<Vdso> vdso_;
	std::unique_ptr<Vfs> vfs_;
	std::unique_ptr<Process> process_;
	std::unique_ptr<Task> task_;
	std::unique_ptr<Tracer> tracer_;
	Stats stats_;
	bool failed_ = false;	// the guest port gave up on the guest
};

} // namespace guest
