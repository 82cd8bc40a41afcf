// SPDX-License-Identifier: GPL-2.0
#include "loader/exec.hpp"

#include <elf.h>
#include <fcntl.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "fs/vfs.hpp"
#include "host/file.hpp"
#include "host/io.hpp"
#include "host/process.hpp"
#include "kernel.hpp"
#include "loader/elf.hpp"
#include "task.hpp"

namespace guest {
namespace {

// binfmt_script: "#!" lines are read up to this many bytes, and
// scripts may name scripts this deep.
constexpr std::size_t script_line_max = 256;
constexpr int script_depth_max = 4;

// Linux: the strings may take a quarter of the stack limit.
constexpr std::size_t strings_max = Mm::stack_size / 4;

KResult<std::shared_ptr<const MapFile>> open_executable(Task& t, const std::string& path)
{
	auto f = t.kernel().vfs().open(t, AT_FDCWD, path, O_RDONLY, 0);
	if (!f)
		return kerr(f.error());
	auto st = (*f)->stat();
	if (!st)
		return kerr(st.error());
	if (!S_ISREG(st->st_mode) || !(st->st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)))
		return kerr(EACCES);
	auto m = (*f)->map_file();
	if (!m)
		return kerr(m.error() == ENODEV ? EACCES : m.error());
	return m;
}

// A "#!" script: its interpreter, and the argument after it if any.
struct Shebang {
	std::string interp, arg;
};

std::optional<Shebang> read_shebang(const MapFile& f)
{
	char buf[script_line_max + 1];
	auto n = host::pread_full(f.fd.get(), std::as_writable_bytes(std::span(buf, script_line_max)), 0);
	if (!n || *n < 2 || buf[0] != '#' || buf[1] != '!')
		return std::nullopt;
	std::string line(buf + 2, *n - 2);
	line = line.substr(0, line.find('\n'));
	auto blank = [](char c) { return c == ' ' || c == '\t'; };
	std::size_t i = 0;
	while (i < line.size() && blank(line[i]))
		i++;
	std::size_t j = i;
	while (j < line.size() && !blank(line[j]))
		j++;
	Shebang s{line.substr(i, j - i), {}};
	while (j < line.size() && blank(line[j]))
		j++;
	std::size_t k = line.size();
	while (k > j && blank(line[k - 1]))
		k--;
	s.arg = line.substr(j, k - j);
	return s;
}

// The initial stack, as Linux lays it out (top down): the executable's
// name, the environment strings, the argument strings, the platform
// string, 16 random bytes; then, 16-byte aligned, argc, argv[], NULL,
// envp[], NULL and the auxiliary vector.
KResult<std::uint64_t> build_stack(Task& t, const std::string& execfn,
				   const std::vector<std::string>& argv,
				   const std::vector<std::string>& envp,
				   const std::vector<std::pair<std::uint64_t, std::uint64_t>>& aux_in)
{
	Process& p = t.process();
	std::uint64_t top = t.mm().stack_top() - sizeof(std::uint64_t);
	std::vector<std::byte> area;	// [top - area.size(), top)
	auto push = [&](const void *data, std::size_t len) {
		area.insert(area.begin(), static_cast<const std::byte *>(data),
			    static_cast<const std::byte *>(data) + len);
		return top - area.size();
	};
	auto push_str = [&](const std::string& s) { return push(s.c_str(), s.size() + 1); };

	std::size_t total = execfn.size() + 1;
	for (const auto& s : argv)
		total += s.size() + 1;
	for (const auto& s : envp)
		total += s.size() + 1;
	if (total > strings_max)
		return kerr(E2BIG);

	std::uint64_t execfn_at = push_str(execfn);
	std::vector<std::uint64_t> env_at(envp.size()), arg_at(argv.size());
	p.env_end = top - area.size();
	for (std::size_t i = envp.size(); i-- > 0;)
		env_at[i] = push_str(envp[i]);
	p.env_start = p.arg_end = top - area.size();
	for (std::size_t i = argv.size(); i-- > 0;)
		arg_at[i] = push_str(argv[i]);
	p.arg_start = top - area.size();
	std::uint64_t platform_at = push_str("x86_64");
	// As the kernel's own: without waiting for the entropy pool.
	std::byte random[16];
	if (host::getrandom(random, GRND_INSECURE) != sizeof(random))
		return kerr(EIO);
	std::uint64_t random_at = push(random, sizeof(random));

	std::vector<std::uint64_t> table;
	table.push_back(argv.size());
	table.insert(table.end(), arg_at.begin(), arg_at.end());
	table.push_back(0);
	table.insert(table.end(), env_at.begin(), env_at.end());
	table.push_back(0);
	for (auto [type, val] : aux_in) {
		table.push_back(type);
		table.push_back(val);
	}
	table.push_back(AT_RANDOM);
	table.push_back(random_at);
	table.push_back(AT_EXECFN);
	table.push_back(execfn_at);
	table.push_back(AT_PLATFORM);
	table.push_back(platform_at);
	table.push_back(AT_NULL);
	table.push_back(0);

	std::uint64_t sp = (top - area.size() - table.size() * 8) & ~std::uint64_t{15};
	std::size_t pad = (top - area.size()) - (sp + table.size() * 8);
	area.insert(area.begin(), pad, std::byte{0});
	push(table.data(), table.size() * 8);
	auto w = t.mm().write(sp, area, true);
	if (!w)
		return kerr(w.error());
	return sp;
}

} // namespace

KResult<void> exec(Task& t, const std::string& path, std::vector<std::string> argv,
		   std::vector<std::string> envp)
{
	Mm& mm = t.mm();
	Process& p = t.process();

	auto file = open_executable(t, path);
	if (!file)
		return kerr(file.error());

	// Scripts: the interpreter runs with the script as its argument.
	// The program's name (AT_EXECFN, comm) stays the one execve() was
	// given, the script's, as Linux's bprm->filename does.
	// Each interpreter gets the name of the file it runs (Linux's
	// bprm->interp): the script, or the interpreter it named.
	const std::string& execfn = path;
	std::string running = path;
	for (int depth = 0;; depth++) {
		auto sb = read_shebang(**file);
		if (!sb)
			break;
		if (depth == script_depth_max)
			return kerr(ELOOP);
		if (sb->interp.empty())
			return kerr(ENOEXEC);
		std::vector<std::string> args{sb->interp};
		if (!sb->arg.empty())
			args.push_back(sb->arg);
		args.push_back(running);
		args.insert(args.end(), argv.begin() + (argv.empty() ? 0 : 1), argv.end());
		argv = std::move(args);
		running = sb->interp;
		file = open_executable(t, sb->interp);
		if (!file)
			return kerr(file.error());
	}

	auto img = load_elf(mm, *file, ElfRole::program);
	if (!img)
		return kerr(img.error());

	std::uint64_t entry = img->entry, interp_base = 0;
	if (!img->interp.empty()) {
		auto ifile = open_executable(t, img->interp);
		if (!ifile)
			return kerr(ifile.error() == EACCES ? EACCES : ifile.error());
		auto interp = load_elf(mm, *ifile, ElfRole::interpreter);
		if (!interp)
			return kerr(interp.error() == ENOEXEC ? ELIBBAD : interp.error());
		entry = interp->entry;
		interp_base = interp->bias;
	}

	mm.set_brk(page_up(img->end));

	int stack_prot = PROT_READ | PROT_WRITE | (img->exec_stack ? PROT_EXEC : 0);
	auto st = mm.mmap(mm.stack_top() - Mm::stack_size, Mm::stack_size, stack_prot,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN,
			  nullptr, 0, "[stack]");
	if (!st)
		return kerr(st.error());

	auto vdso = t.kernel().vdso().map(mm);
	if (!vdso)
		return kerr(vdso.error());

	const Credentials& c = p.cred;
	std::vector<std::pair<std::uint64_t, std::uint64_t>> aux;
	aux.push_back({AT_SYSINFO_EHDR, *vdso});
	// The guest runs on this CPU: it has what the host has.
	if (unsigned long v = getauxval(AT_MINSIGSTKSZ))
		aux.push_back({AT_MINSIGSTKSZ, v});
	aux.push_back({AT_HWCAP, getauxval(AT_HWCAP)});
	aux.push_back({AT_PAGESZ, page_size});
	aux.push_back({AT_CLKTCK, 100});
	aux.push_back({AT_PHDR, img->phdr});
	aux.push_back({AT_PHENT, img->phent});
	aux.push_back({AT_PHNUM, img->phnum});
	aux.push_back({AT_BASE, interp_base});
	aux.push_back({AT_FLAGS, 0});
	aux.push_back({AT_ENTRY, img->entry});
	aux.push_back({AT_UID, c.ruid});
	aux.push_back({AT_EUID, c.euid});
	aux.push_back({AT_GID, c.rgid});
	aux.push_back({AT_EGID, c.egid});
	aux.push_back({AT_SECURE, 0});
	aux.push_back({AT_HWCAP2, getauxval(AT_HWCAP2)});

	auto sp = build_stack(t, execfn, argv, envp, aux);
	if (!sp)
		return kerr(sp.error());

	p.exe = (*file)->name;
	if (auto est = host::fstat((*file)->fd.get()))
		p.exe_id = std::pair{est->st_dev, est->st_ino};
	else
		p.exe_id.reset();
	std::string base = execfn.substr(execfn.rfind('/') + 1);
	p.comm = base.substr(0, 15);

	unpriv::Regs& r = t.regs();
	unpriv::Regs fresh{};
	fresh.cs = r.cs ? r.cs : unpriv::cs_64;
	fresh.ss = r.ss;
	fresh.rip = entry;
	fresh.rsp = *sp;
	fresh.rflags = 0x202;
	r = fresh;
	return {};
}

} // namespace guest
