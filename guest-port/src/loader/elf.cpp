// SPDX-License-Identifier: GPL-2.0
#include "loader/elf.hpp"

#include <elf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <vector>

#include "host/io.hpp"

namespace guest {
namespace {

KResult<void> pread_exact(int fd, void *buf, std::size_t len, std::uint64_t off)
{
	auto n = host::pread_full(fd, std::span(static_cast<std::byte *>(buf), len), off);
	if (!n)
		return kerr(EIO);
	if (*n != len)
		return kerr(ENOEXEC);
	return {};
}

int elf_prot(Elf64_Word flags)
{
	return (flags & PF_R ? PROT_READ : 0) | (flags & PF_W ? PROT_WRITE : 0) |
	       (flags & PF_X ? PROT_EXEC : 0);
}

bool valid_header(const Elf64_Ehdr& eh)
{
	return std::memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
	       eh.e_ident[EI_CLASS] == ELFCLASS64 &&
	       eh.e_ident[EI_DATA] == ELFDATA2LSB &&
	       eh.e_ident[EI_VERSION] == EV_CURRENT &&
	       eh.e_machine == EM_X86_64 &&
	       (eh.e_type == ET_EXEC || eh.e_type == ET_DYN) &&
	       eh.e_phentsize == sizeof(Elf64_Phdr) && eh.e_phnum > 0 &&
	       // binfmt_elf's limit: the headers fit in 64 KiB
	       eh.e_phnum <= 65536 / sizeof(Elf64_Phdr);
}

} // namespace

KResult<ElfImage> load_elf(Mm& mm, std::shared_ptr<const MapFile> file, ElfRole role)
{
	const int fd = file->fd.get();
	Elf64_Ehdr eh;
	auto r = pread_exact(fd, &eh, sizeof(eh), 0);
	if (!r)
		return kerr(r.error());
	if (!valid_header(eh))
		return kerr(ENOEXEC);

	std::vector<Elf64_Phdr> ph(eh.e_phnum);
	r = pread_exact(fd, ph.data(), ph.size() * sizeof(Elf64_Phdr), eh.e_phoff);
	if (!r)
		return kerr(r.error());

	ElfImage img;
	img.phnum = eh.e_phnum;
	img.phent = sizeof(Elf64_Phdr);
	img.exec_stack = true;	// without PT_GNU_STACK, as Linux

	// The span of the loadable segments, and what else the headers say.
	std::uint64_t lo = UINT64_MAX, hi = 0, align = page_size;
	bool any_load = false;
	for (const auto& p : ph) {
		switch (p.p_type) {
		case PT_LOAD:
			if (p.p_memsz == 0)
				break;
			if (p.p_filesz > p.p_memsz ||
			    p.p_vaddr + p.p_memsz < p.p_vaddr ||
			    p.p_offset + p.p_filesz < p.p_offset ||
			    (p.p_vaddr & page_mask) != (p.p_offset & page_mask))
				return kerr(ENOEXEC);
			lo = std::min(lo, page_down(p.p_vaddr));
			hi = std::max(hi, p.p_vaddr + p.p_memsz);
			if (p.p_align > align && (p.p_align & (p.p_align - 1)) == 0)
				align = p.p_align;
			any_load = true;
			break;
		case PT_INTERP: {
			if (role == ElfRole::interpreter)
				break;	// an interpreter's own is ignored
			if (p.p_filesz < 2 || p.p_filesz > PATH_MAX)
				return kerr(ENOEXEC);
			std::string path(p.p_filesz, '\0');
			r = pread_exact(fd, path.data(), path.size(), p.p_offset);
			if (!r)
				return kerr(r.error());
			if (path.back() != '\0')
				return kerr(ENOEXEC);
			path.pop_back();
			img.interp = path.c_str();
			break;
		}
		case PT_GNU_STACK:
			img.exec_stack = p.p_flags & PF_X;
			break;
		}
	}
	if (!any_load)
		return kerr(ENOEXEC);
	hi = page_up(hi);
	if (hi <= lo)
		return kerr(ENOEXEC);

	// Reserve the whole span, so that the segments keep their
	// distances; then the segments replace parts of it, and what lies
	// between them is unmapped, as Linux leaves it.
	std::uint64_t span = hi - lo;
	if (eh.e_type == ET_EXEC) {
		auto a = mm.mmap(lo, span, PROT_NONE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, nullptr, 0);
		if (!a)
			return kerr(a.error() == EEXIST ? EINVAL : a.error());
		img.bias = 0;
	} else {
		std::uint64_t hint = role == ElfRole::program ? Mm::dyn_base : 0;
		auto a = mm.mmap(hint, span + align - page_size, PROT_NONE,
				 MAP_PRIVATE | MAP_ANONYMOUS, nullptr, 0);
		if (!a)
			return kerr(a.error());
		std::uint64_t base = (*a + align - 1) & ~(align - 1);
		if (base > *a)
			(void)mm.munmap(*a, base - *a);
		if (*a + span + align - page_size > base + span)
			(void)mm.munmap(base + span, *a + span + align - page_size - (base + span));
		img.bias = base - lo;
	}

	std::uint64_t mapped_to = lo + img.bias;	// the reservation still left below
	for (const auto& p : ph) {
		if (p.p_type != PT_LOAD || p.p_memsz == 0)
			continue;
		int prot = elf_prot(p.p_flags);
		std::uint64_t start = p.p_vaddr + img.bias;
		std::uint64_t page = page_down(start);
		std::uint64_t file_end = start + p.p_filesz;
		std::uint64_t mem_end = start + p.p_memsz;

		if (page > mapped_to)
			(void)mm.munmap(mapped_to, page - mapped_to);
		if (p.p_filesz) {
			auto a = mm.mmap(page, page_up(file_end) - page, prot,
					 MAP_PRIVATE | MAP_FIXED, file,
					 p.p_offset - (start - page));
			if (!a)
				return kerr(a.error());
			// The rest of the last file page belongs to the bss.
			if (mem_end > file_end && !page_aligned(file_end)) {
				std::vector<std::byte> zeros(page_up(file_end) - file_end);
				auto w = mm.write(file_end, zeros, true);
				if (!w)
					return kerr(w.error());
			}
		}
		std::uint64_t anon = p.p_filesz ? page_up(file_end) : page;
		if (page_up(mem_end) > anon) {
			auto a = mm.mmap(anon, page_up(mem_end) - anon, prot,
					 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, nullptr, 0);
			if (!a)
				return kerr(a.error());
		}
		mapped_to = std::max(mapped_to, page_up(mem_end));
		img.end = std::max(img.end, mem_end);

		if (eh.e_phoff >= p.p_offset &&
		    eh.e_phoff + eh.e_phnum * sizeof(Elf64_Phdr) <= p.p_offset + p.p_filesz)
			img.phdr = start + (eh.e_phoff - p.p_offset);
	}
	for (const auto& p : ph)
		if (p.p_type == PT_PHDR)
			img.phdr = p.p_vaddr + img.bias;
	img.entry = eh.e_entry + img.bias;
	return img;
}

} // namespace guest
