// SPDX-License-Identifier: GPL-2.0
//
// Mm: a guest process's memory.  The guest port keeps its own list of
// the process's mappings (Vma, as Linux's vm_area_struct), decides what
// backs each page, and keeps the backend's address space in step with
// that list.  Nothing about the guest's memory is learned from the
// backend: the list is the truth, the address space its image.
//
// What backs a mapping:
//
//   anonymous       a range of physical memory (PhysMemory), allocated
//                   when the mapping first becomes accessible; zero-fill
//                   comes from the memfd being sparse.
//   shared file     the host file itself, mapped shared: guest writes
//                   reach the file, reads see everyone's writes.
//   private file    the host file, mapped private and read-only, so that
//                   reads cost no exit and no copy; a write faults (an
//                   exit), and the guest port copies the page, with its
//                   neighbours (fault-around), into physical memory
//                   and maps the copy writable: copy on write done by the
//                   guest port, so that no page of the guest's is ever a
//                   private copy inside the backend's address space,
//                   where the guest port could not see it.
//
// The guest port reads and writes guest memory (system call arguments
// and results) through the same list: physical memory directly, files
// with pread/pwrite.  No backend round trip per access.
//
// Threads.  An Mm is shared by the threads of a process (and by a
// CLONE_VM child), each on a host thread of its own.  lock_ guards the
// list and everything below; it is taken by every public call, and
// may be taken again inside one (a recursive mutex: mmap calls munmap).
// The backend's address spaces are mirrors of the list:
//
//   module          one address space, shared by every thread: several
//                   vcpus run in it at once, and the host kernel makes a
//                   change seen by all (its own TLB shootdown).
//   ptrace,         one address space per thread (ptrace's may be used
//   seccomp         by its maker thread only; seccomp's runs one vcpu at
//                   a time), all mapping the same memfd and files, so
//                   memory is shared.  A change is made in the changing
//                   thread's mirror at once, and logged with a
//                   generation number; the others are kicked out of the
//                   guest and bring theirs in step, from the list, before
//                   they run again (enter()), or at a fault on a page
//                   the change added (lazily): a TLB shootdown that does
//                   not wait for the others to answer.  Physical memory
//                   a change freed is reused only once no thread still
//                   running can reach it (a deferred free).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include <unpriv/backend.hpp>

#include "common.hpp"
#include "host/fd.hpp"
#include "mm/phys.hpp"

namespace guest {

// A host file that mappings hold open, as a vm_area_struct holds its
// struct file: the guest may close its descriptor meanwhile.
struct MapFile {
	host::Fd fd;		// O_RDONLY, or O_RDWR
	std::string name;	// the guest's path, for /proc/self/maps
	bool writable;		// opened for writing
};

struct Vma {
	std::uint64_t start = 0, end = 0;
	int prot = 0;			// PROT_READ | PROT_WRITE | PROT_EXEC
	bool shared = false;		// MAP_SHARED
	bool growsdown = false;		// the stack
	std::shared_ptr<const MapFile> file;	// null: anonymous
	std::uint64_t file_off = 0;	// the file offset of start
	std::optional<std::uint64_t> phys;	// physical memory of start
	std::vector<bool> copied;	// private file: page copied to phys
	std::string name;		// "[heap]", "[stack]", ...
	// Physical memory the guest port keeps (the vDSO and its data):
	// not freed with the mapping, never writable by the guest.
	bool kernel_pages = false;

	[[nodiscard]] std::uint64_t len() const noexcept { return end - start; }
	[[nodiscard]] bool anonymous() const noexcept { return !file; }
	[[nodiscard]] bool private_file() const noexcept
	{
		return file && !shared;
	}
	[[nodiscard]] bool is_copied(std::uint64_t addr) const noexcept
	{
		return copied[(addr - start) / page_size];
	}
};

// A guest address range the guest may not use (a backend's own).
struct AddrRange {
	std::uint64_t start, end;
};

// What a futex word is, as Linux's union futex_key: private, the
// address in one Mm; shared, the memory itself (a page of physical
// memory, or a file's page), whoever maps it where.
struct FutexKey {
	enum class Kind : std::uint8_t { mm, phys, file } kind;
	std::uint64_t object;	// the Mm (as a number), 0, or the file's st_dev
	std::uint64_t ino;	// the file's st_ino, else 0
	std::uint64_t offset;	// the address, the physical or file offset

	auto operator<=>(const FutexKey&) const = default;
};

class Mm {
public:
	// Where things go, as Linux places them with randomization off.
	static constexpr std::uint64_t stack_size = 8ull << 20;
	static constexpr std::uint64_t dyn_base = 0x555555554000;	// ELF_ET_DYN_BASE

	// How many pages a copy-on-write fault copies at most.
	static constexpr std::uint64_t fault_around_pages = 16;

	// reserved: the ranges a backend keeps for itself.  One at the top
	// of the address space (the stubs') lowers the top.
	Mm(PhysMemory& phys, unpriv::AddressSpace as,
	   std::vector<AddrRange> reserved = {});
	~Mm();
	Mm(const Mm&) = delete;
	Mm& operator=(const Mm&) = delete;

	// The mirrors (see above).  attach(): as, a new address space made
	// by the calling host thread, becomes its mirror of the list (a
	// thread of the process, or a CLONE_VM child, on ptrace and
	// seccomp; on module the first address space serves every thread
	// and as is not needed: attach() then drops it).  detach(): the
	// calling thread's mirror goes, before its thread ends.
	KResult<void> attach(unpriv::AddressSpace as);
	void detach();
	// Whether each thread needs a mirror of its own (not module).
	[[nodiscard]] bool per_thread() const noexcept { return !shared_; }
	// The calling thread's mirror (the shared one on module): a thread
	// that attached one, or made the Mm.
	[[nodiscard]] unpriv::AddressSpace& address_space();
	// Around a run of vcpu on the calling thread: enter() brings its
	// mirror in step and returns it (null: the thread has none);
	// leave() after the run.  A change meanwhile kicks vcpu.
	unpriv::AddressSpace *enter(unpriv::Vcpu& vcpu);
	void leave();

	// futex(2)'s key for the word at addr: private (FUTEX_PRIVATE_FLAG,
	// or a private mapping) or shared.  EINVAL unaligned, EFAULT
	// unmapped.
	KResult<FutexKey> futex_key(std::uint64_t addr, bool private_flag);

	// fork(): a copy of this memory in as, a new, empty address space.
	// Private memory (anonymous, and the copied pages of private file
	// mappings) is copied now, the pages that hold data only; shared
	// anonymous memory is shared; file pages are the files'.  Called
	// while the owner of this Mm waits, from the thread that made as.
	// Errors: ENOMEM, and the backend's (a failure of as).
	KResult<std::unique_ptr<Mm>> fork(unpriv::AddressSpace as) const;

	// The top of the guest's address space: where Linux would put the
	// stack.  mmap() goes top down from 128 MiB below it.
	[[nodiscard]] std::uint64_t stack_top() const noexcept { return top_; }
	[[nodiscard]] std::uint64_t mmap_base() const noexcept
	{
		return top_ - (128ull << 20);
	}

	// The memory system calls, with Linux's arguments and errors.
	// file is null for MAP_ANONYMOUS.  name labels the mapping in
	// /proc/self/maps (a file mapping's label is the file's).
	KResult<std::uint64_t> mmap(std::uint64_t addr, std::uint64_t len,
				    int prot, int flags,
				    std::shared_ptr<const MapFile> file,
				    std::uint64_t off, std::string name = {});
	KResult<void> munmap(std::uint64_t addr, std::uint64_t len);
	KResult<void> mprotect(std::uint64_t addr, std::uint64_t len, int prot);
	KResult<std::uint64_t> mremap(std::uint64_t old_addr,
				      std::uint64_t old_len,
				      std::uint64_t new_len, int flags,
				      std::uint64_t new_addr);
	KResult<void> madvise(std::uint64_t addr, std::uint64_t len, int advice);
	KResult<void> msync(std::uint64_t addr, std::uint64_t len, int flags);

	// Map len bytes of physical memory the guest port keeps, from phys,
	// at addr (0: where mmap would put them), as Mm::mmap.
	KResult<std::uint64_t> map_kernel_pages(std::uint64_t addr, std::uint64_t len,
						int prot, std::uint64_t phys,
						std::string name);

	// brk(2): the heap starts at set_brk()'s address.
	void set_brk(std::uint64_t start);
	std::uint64_t brk(std::uint64_t addr);

	// The guest port's access to guest memory, as copy_from_user and
	// copy_to_user: EFAULT unless the whole range is mapped with the
	// access allowed.  force ignores the protection (the loader and
	// ptrace-like writes into read-only mappings).
	KResult<void> read(std::uint64_t addr, std::span<std::byte> buf);
	KResult<void> write(std::uint64_t addr, std::span<const std::byte> buf,
			    bool force = false);
	template <class T>
	KResult<T> read_obj(std::uint64_t addr)
	{
		T v;
		auto r = read(addr, std::as_writable_bytes(std::span(&v, 1)));
		if (!r)
			return kerr(r.error());
		return v;
	}
	template <class T>
	KResult<void> write_obj(std::uint64_t addr, const T& v)
	{
		return write(addr, std::as_bytes(std::span(&v, 1)));
	}
	// Whether the guest port may read (write) all of [addr, addr + len),
	// as read() and write() check: EFAULT when not.
	KResult<void> check(std::uint64_t addr, std::size_t len, bool write);
	// The guest port's view of [addr, addr + len) when that is one piece
	// of physical memory the guest may access so, pinned (empty
	// otherwise): for I/O straight into and out of guest memory, which
	// may block.  While the pin lives, the memory is not given to anyone
	// else, whatever the guest unmaps meanwhile (the I/O then ends in
	// memory the guest no longer sees, as a pinned page's does on Linux).
	[[nodiscard]] PhysPin pin(std::uint64_t addr, std::size_t len, bool write);
	// A NUL-terminated string of at most max bytes before the NUL:
	// ENAMETOOLONG when longer, EFAULT when unreadable.
	KResult<std::string> read_string(std::uint64_t addr, std::size_t max);

	// A fault exit at addr with the x86 page-fault error code, for
	// which the host would have sent `host`.  Nothing when the guest
	// port resolved it (a copy on write) and the guest may retry the
	// access; otherwise the signal the guest gets.
	struct FaultSignal {
		int signo;
		int code;	// si_code
	};
	std::optional<FaultSignal> handle_fault(std::uint64_t addr,
						std::uint64_t error_code,
						FaultSignal host);

	// /proc/self/maps.
	[[nodiscard]] std::string maps() const;
	// The bytes mapped (/proc/PID/stat's vsize).
	[[nodiscard]] std::uint64_t size() const;

	// The mapping at addr, if any.
	[[nodiscard]] const Vma *find(std::uint64_t addr) const;

	// Whether the guest may run with its rip or rsp at addr: below the
	// top of user space and outside the backend's reserved ranges (the
	// backends refuse to run it anywhere else).
	[[nodiscard]] bool runnable(std::uint64_t addr) const noexcept;

	// A backend call failed: guest memory no longer matches the list.
	// The first such error; the kernel ends the guest on it.
	[[nodiscard]] const std::error_code& failure() const noexcept
	{
		return failure_;
	}

	struct Stats {
		std::uint64_t cow_faults = 0;	// copy-on-write faults resolved
		std::uint64_t cow_pages = 0;	// pages they copied
		std::uint64_t backend_calls = 0;
		std::uint64_t forks = 0;	// copies made by fork()
		std::uint64_t fork_pages = 0;	// pages they copied

		Stats& operator+=(const Stats& o) noexcept
		{
			cow_faults += o.cow_faults;
			cow_pages += o.cow_pages;
			backend_calls += o.backend_calls;
			forks += o.forks;
			fork_pages += o.fork_pages;
			return *this;
		}
	};
	[[nodiscard]] const Stats& stats() const noexcept { return stats_; }

private:
	using VmaMap = std::map<std::uint64_t, Vma>;

	VmaMap::iterator first_ending_after(std::uint64_t addr);
	VmaMap::const_iterator first_ending_after(std::uint64_t addr) const;
	void split_at(std::uint64_t addr);
	void remove(std::uint64_t start, std::uint64_t end);
	void merge_around(std::uint64_t start, std::uint64_t end);
	[[nodiscard]] bool is_free(std::uint64_t start, std::uint64_t end) const;
	[[nodiscard]] bool is_mapped(std::uint64_t start, std::uint64_t end) const;
	std::optional<std::uint64_t> find_free(std::uint64_t len,
					       std::uint64_t hint,
					       bool below_2g) const;
	KResult<void> ensure_phys(Vma& v);
	KResult<void> copy_pages(Vma& v, std::uint64_t start, std::uint64_t end);
	KResult<void> insert(Vma v);

	// Bring the address space in step with the list over [start, end).
	KResult<void> sync(std::uint64_t start, std::uint64_t end);
	void host_ops(const Vma& v, std::uint64_t start, std::uint64_t end,
		      std::vector<unpriv::AsOp>& ops) const;
	KResult<void> commit(const std::vector<unpriv::AsOp>& ops);

	// The mirrors.  A thread's, or the shared one; gen is the last
	// change of the log it has.
	struct Mirror {
		unpriv::AddressSpace as;
		std::thread::id owner;
		std::uint64_t gen = 0;
		unpriv::Vcpu *running = nullptr;	// in the guest, to kick
	};
	struct Change {
		std::uint64_t gen;
		std::uint64_t start, end;
	};
	Mirror *own();
	void ops_for(std::uint64_t start, std::uint64_t end,
		     std::vector<unpriv::AsOp>& ops) const;
	KResult<void> apply(Mirror& m, const std::vector<unpriv::AsOp>& ops);
	void catch_up(Mirror& m);
	void trim_log();
	// Physical memory a change frees: freed once no running mirror can
	// reach it.
	void release_phys(std::uint64_t off, std::uint64_t len);
	void reclaim();

	template <class Fn>
	KResult<void> for_each_piece(std::uint64_t addr, std::size_t len,
				     bool write, bool force, Fn&& fn);

	PhysMemory& phys_;
	std::vector<AddrRange> reserved_;	// fixed at construction
	std::uint64_t top_ = user_end;		// fixed at construction
	bool shared_ = false;	// one address space for all (module); fixed
	mutable std::recursive_mutex lock_;
	std::vector<std::unique_ptr<Mirror>> mirrors_;	// lock_
	std::deque<Change> log_;	// lock_; changes some mirror lacks
	std::uint64_t gen_ = 0;		// lock_; the last change's
	struct Deferred {
		std::uint64_t gen, off, len;
	};
	std::vector<Deferred> deferred_;	// lock_
	VmaMap vmas_;			// lock_
	std::uint64_t brk_start_ = 0, brk_ = 0;	// lock_
	std::error_code failure_;	// lock_
	Stats stats_;			// lock_
};

} // namespace guest
