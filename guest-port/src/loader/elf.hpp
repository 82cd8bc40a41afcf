// SPDX-License-Identifier: GPL-2.0
//
// Loading an x86-64 ELF image into a guest's memory, as Linux's
// binfmt_elf does: its PT_LOAD segments mapped privately from the file
// (copy on write, the bss zeroed), an ET_DYN image (PIE, the dynamic
// linker) placed where Linux places it with randomization off.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common.hpp"
#include "mm/mm.hpp"

namespace guest {

struct ElfImage {
	std::uint64_t entry = 0;	// the entry point, relocated
	std::uint64_t bias = 0;		// what was added to each p_vaddr
	std::uint64_t phdr = 0;		// the program headers in memory
	std::uint16_t phnum = 0, phent = 0;
	std::uint64_t end = 0;		// the end of the highest segment
	std::string interp;		// PT_INTERP, or empty
	bool exec_stack = false;	// PT_GNU_STACK asks for it (or is absent)
};

enum class ElfRole {
	program,	// the executable: an ET_DYN one goes at Mm::dyn_base
	interpreter,	// its PT_INTERP: an ET_DYN one goes where mmap puts it
};

// Map file's image into mm.  Errors: ENOEXEC for anything but a
// well-formed little-endian x86-64 ET_EXEC or ET_DYN; EIO when the file
// cannot be read; those of Mm::mmap (ENOMEM, EPERM below the guest's
// mmap_min_addr).
KResult<ElfImage> load_elf(Mm& mm, std::shared_ptr<const MapFile> file, ElfRole role);

} // namespace guest
