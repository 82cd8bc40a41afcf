// SPDX-License-Identifier: MIT
//
// Compartment images: a static, fixed-address x86-64 ELF executable is
// checked and parsed once into what loading it takes (its PT_LOAD
// segments) and what calling it takes (its global functions).
#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "compartment_impl.hpp"
#include "unpriv/fd.hpp"

namespace unpriv {
namespace {

namespace cl = compartment_layout;

constexpr std::size_t max_image_file = 256 << 20;

std::uint64_t page_down(std::uint64_t v) { return v & ~(page_size - 1); }
std::uint64_t page_up(std::uint64_t v) { return page_down(v + page_size - 1); }

// A bounds-checked view of the file.
class ElfFile {
public:
	explicit ElfFile(std::span<const std::byte> f) : f_(f) {}

	template <class T>
	bool get(std::uint64_t off, T *out) const
	{
		if (off > f_.size() || sizeof(T) > f_.size() - off)
			return false;
		std::memcpy(out, f_.data() + off, sizeof(T));
		return true;
	}

	bool has(std::uint64_t off, std::uint64_t len) const
	{
		return off <= f_.size() && len <= f_.size() - off;
	}

	std::span<const std::byte> bytes(std::uint64_t off, std::uint64_t len) const
	{
		return f_.subspan(off, len);
	}

private:
	std::span<const std::byte> f_;
};

tl::unexpected<std::error_code> bad(std::string *why, std::string reason)
{
	if (why)
		*why = std::move(reason);
	return fail(errc::bad_image);
}

Prot segment_prot(std::uint32_t flags)
{
	Prot p = Prot::none;
	if (flags & PF_R)
		p = p | Prot::read;
	if (flags & PF_W)
		p = p | Prot::write;
	if (flags & PF_X)
		p = p | Prot::exec;
	return p;
}

Result<void> parse_header(const ElfFile& elf, Elf64_Ehdr *eh, std::string *why)
{
	if (!elf.get(0, eh) || std::memcmp(eh->e_ident, ELFMAG, SELFMAG))
		return bad(why, "not an ELF file");
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_machine != EM_X86_64)
		return bad(why, "not an x86-64 ELF file");
	if (eh->e_type == ET_DYN)
		return bad(why, "position-independent: link the image at a fixed "
				"address (unpriv_add_compartment() does)");
	if (eh->e_type != ET_EXEC)
		return bad(why, "not an executable");
	if (eh->e_phentsize != sizeof(Elf64_Phdr) ||
	    !elf.has(eh->e_phoff, std::uint64_t{eh->e_phnum} * sizeof(Elf64_Phdr)))
		return bad(why, "bad program header table");
	return {};
}

Result<void> parse_segments(const ElfFile& elf, const Elf64_Ehdr& eh,
			    Image::Data *d, std::string *why)
{
	std::uint64_t offset = 0;

	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		elf.get(eh.e_phoff + i * sizeof(ph), &ph);
		if (ph.p_type == PT_INTERP || ph.p_type == PT_DYNAMIC)
			return bad(why, "dynamically linked: link it statically");
		if (ph.p_type == PT_TLS)
			return bad(why, "has thread-local storage, which compartments "
					"do not provide");
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (ph.p_filesz > ph.p_memsz || !elf.has(ph.p_offset, ph.p_filesz))
			return bad(why, "segment " + std::to_string(i) +
					" lies outside the file");
		if (ph.p_vaddr < cl::image_start || ph.p_vaddr > cl::image_end ||
		    ph.p_memsz > cl::image_end - ph.p_vaddr)
			return bad(why, "segment " + std::to_string(i) +
					" lies outside [image_start, image_end)");

		Image::Data::Segment s;
		s.addr = page_down(ph.p_vaddr);
		s.len = page_up(ph.p_vaddr + ph.p_memsz) - s.addr;
		s.prot = segment_prot(ph.p_flags);
		s.mem_offset = offset;
		s.data_offset = ph.p_vaddr - s.addr;
		auto bytes = elf.bytes(ph.p_offset, ph.p_filesz);
		s.bytes.assign(bytes.begin(), bytes.end());
		if (!d->segments.empty() &&
		    d->segments.back().addr + d->segments.back().len > s.addr)
			return bad(why, "segments share a page or are out of order "
					"(link with -z max-page-size=4096 -z norelro)");
		offset += s.len;
		d->segments.push_back(std::move(s));
	}
	if (d->segments.empty())
		return bad(why, "nothing to load");
	d->size = offset;
	return {};
}

Result<void> parse_symbols(const ElfFile& elf, const Elf64_Ehdr& eh,
			   Image::Data *d, std::string *why)
{
	if (eh.e_shentsize != sizeof(Elf64_Shdr) ||
	    !elf.has(eh.e_shoff, std::uint64_t{eh.e_shnum} * sizeof(Elf64_Shdr)))
		return bad(why, "bad section header table");

	for (unsigned i = 0; i < eh.e_shnum; i++) {
		Elf64_Shdr sh, strtab;
		elf.get(eh.e_shoff + i * sizeof(sh), &sh);
		if (sh.sh_type != SHT_SYMTAB)
			continue;
		if (sh.sh_entsize != sizeof(Elf64_Sym) || sh.sh_link >= eh.e_shnum ||
		    !elf.get(eh.e_shoff + sh.sh_link * sizeof(strtab), &strtab) ||
		    !elf.has(sh.sh_offset, sh.sh_size) ||
		    !elf.has(strtab.sh_offset, strtab.sh_size))
			return bad(why, "bad symbol table");
		auto names = elf.bytes(strtab.sh_offset, strtab.sh_size);
		for (std::uint64_t off = 0; off + sizeof(Elf64_Sym) <= sh.sh_size;
		     off += sizeof(Elf64_Sym)) {
			Elf64_Sym sym;
			elf.get(sh.sh_offset + off, &sym);
			int bind = ELF64_ST_BIND(sym.st_info);
			if (ELF64_ST_TYPE(sym.st_info) != STT_FUNC ||
			    (bind != STB_GLOBAL && bind != STB_WEAK) ||
			    sym.st_shndx == SHN_UNDEF || sym.st_name >= names.size())
				continue;
			auto *p = reinterpret_cast<const char *>(names.data()) + sym.st_name;
			auto name = std::string(p, strnlen(p, names.size() - sym.st_name));
			d->symbols.emplace(std::move(name), sym.st_value);
		}
		return {};
	}
	return bad(why, "no symbol table (stripped?): entry points are found by name");
}

} // namespace

Result<Image> Image::parse(std::span<const std::byte> file, std::string *why)
{
	ElfFile elf(file);
	Elf64_Ehdr eh;
	auto d = std::make_shared<Data>();

	if (auto r = parse_header(elf, &eh, why); !r)
		return tl::unexpected(r.error());
	if (auto r = parse_segments(elf, eh, d.get(), why); !r)
		return tl::unexpected(r.error());
	if (auto r = parse_symbols(elf, eh, d.get(), why); !r)
		return tl::unexpected(r.error());
	return Image(std::move(d));
}

Result<Image> Image::load(const std::string& path, std::string *why)
{
	Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
	struct stat st;

	if (!fd || fstat(fd.get(), &st) < 0)
		return fail_errno();
	if (!S_ISREG(st.st_mode))
		return bad(why, "not a regular file");
	if (static_cast<std::uint64_t>(st.st_size) > max_image_file)
		return bad(why, "larger than 256 MiB");

	std::vector<std::byte> file(static_cast<std::size_t>(st.st_size));
	std::size_t done = 0;
	while (done < file.size()) {
		ssize_t n = pread(fd.get(), file.data() + done, file.size() - done,
				  static_cast<off_t>(done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail_errno();
		if (n == 0)
			return bad(why, "the file shrank while it was read");
		done += static_cast<std::size_t>(n);
	}
	return parse(file, why);
}

std::optional<std::uint64_t> Image::symbol(std::string_view name) const
{
	auto it = data_->symbols.find(std::string(name));
	if (it == data_->symbols.end())
		return std::nullopt;
	return it->second;
}

std::size_t Image::size() const noexcept
{
	return data_->size;
}

} // namespace unpriv
