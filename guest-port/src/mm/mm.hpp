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
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include <unpriv/backend.hpp>
#include <unpriv/fd.hpp>

#include "common.hpp"
#include "mm/phys.hpp"

namespace guest {

// A host file that mappings hold open, as a vm_area_struct holds its
// struct file: the guest may close its descriptor meanwhile.
struct MapFile {
	unpriv::Fd fd;		// O_RDONLY, or O_RDWR
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

	[[nodiscard]] unpriv::AddressSpace& address_space() noexcept { return as_; }

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
	// of physical memory the guest may access so; empty otherwise.
	// For I/O straight into and out of guest memory.
	std::span<std::byte> direct(std::uint64_t addr, std::size_t len, bool write);
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

	template <class Fn>
	KResult<void> for_each_piece(std::uint64_t addr, std::size_t len,
				     bool write, bool force, Fn&& fn);

	PhysMemory& phys_;
	unpriv::AddressSpace as_;
	std::vector<AddrRange> reserved_;
	std::uint64_t top_ = user_end;
	VmaMap vmas_;
	std::uint64_t brk_start_ = 0, brk_ = 0;
	std::error_code failure_;
	Stats stats_;
};

} // namespace guest
