// SPDX-License-Identifier: GPL-2.0
#include "host/rootfs.hpp"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "host/io.hpp"

namespace guest::host {
namespace {

std::string errno_text(const std::string& what)
{
	return what + ": " + std::strerror(errno);
}

bool mkdirs(const std::string& path, mode_t mode)
{
	std::size_t i = 0;
	while ((i = path.find('/', i + 1)) != std::string::npos) {
		if (mkdir(path.substr(0, i).c_str(), 0755) < 0 && errno != EEXIST)
			return false;
	}
	return (mkdir(path.c_str(), mode) == 0 || errno == EEXIST) && ::chmod(path.c_str(), mode) == 0;
}

// A static x86-64 ELF executable: what the guest can run with nothing
// else in its root.
std::string check_static(const std::string& path)
{
	std::ifstream in(path, std::ios::binary);
	Elf64_Ehdr eh{};
	if (!in.read(reinterpret_cast<char *>(&eh), sizeof(eh)) ||
	    std::memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_machine != EM_X86_64)
		return path + ": not an x86-64 ELF executable";
	in.seekg(static_cast<std::streamoff>(eh.e_phoff));
	for (int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph{};
		if (!in.read(reinterpret_cast<char *>(&ph), sizeof(ph)))
			return path + ": truncated";
		if (ph.p_type == PT_INTERP)
			return path + ": dynamically linked (install busybox-static)";
	}
	return {};
}

std::string copy_file(const std::string& from, const std::string& to, mode_t mode)
{
	std::ifstream in(from, std::ios::binary);
	std::ofstream out(to, std::ios::binary);
	if (!in || !out || !(out << in.rdbuf()) || !out.flush())
		return "cannot copy " + from + " to " + to;
	out.close();
	if (::chmod(to.c_str(), mode) < 0)
		return errno_text(to);
	return {};
}

// busybox --list-full: "bin/sh", "usr/bin/awk", ...
std::string applets(const std::string& busybox, std::vector<std::string> *out)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return errno_text("pipe");
	pid_t pid = fork();
	if (pid < 0)
		return errno_text("fork");
	if (pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		execl(busybox.c_str(), "busybox", "--list-full", static_cast<char *>(nullptr));
		_exit(127);
	}
	close(p[1]);
	std::string text;
	std::byte buf[4096];
	for (;;) {
		auto n = host::read_own(p[0], buf);
		if (!n || *n == 0)
			break;
		text.append(reinterpret_cast<const char *>(buf), *n);
	}
	close(p[0]);
	int status;
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return busybox + " --list-full failed";
	std::istringstream lines(text);
	for (std::string l; std::getline(lines, l);)
		if (!l.empty() && l.find("..") == std::string::npos && l[0] != '/')
			out->push_back(l);
	return {};
}

// The name and home (or "") of id in an /etc/passwd or /etc/group style
// file, read directly: a static program has no NSS to ask.
std::pair<std::string, std::string> lookup(const char *file, unsigned id)
{
	std::ifstream in(file);
	for (std::string line; std::getline(in, line);) {
		std::vector<std::string> f;
		std::istringstream fields(line);
		for (std::string x; std::getline(fields, x, ':');)
			f.push_back(x);
		if (f.size() >= 3 && f[2] == std::to_string(id))
			return {f[0], f.size() >= 6 ? f[5] : ""};
	}
	return {};
}

bool write_file(const std::string& path, const std::string& text)
{
	std::ofstream out(path);
	return out << text && out.flush();
}

} // namespace

std::string make_parents(const std::string& dir)
{
	return mkdirs(dir, 0755) ? std::string() : errno_text(dir);
}

std::string default_root()
{
	const char *data = std::getenv("XDG_DATA_HOME");
	std::string base;
	if (data && *data) {
		base = data;
	} else {
		const char *env = std::getenv("HOME");
		std::string home = env && *env ? env : lookup("/etc/passwd", getuid()).second;
		base = (home.empty() ? std::string("/") : home) + "/.local/share";
	}
	return base + "/unpriv/root";
}

std::string make_root(const std::string& dir, const std::string& busybox)
{
	if (auto err = check_static(busybox); !err.empty())
		return err;
	struct stat st;
	if (lstat(dir.c_str(), &st) == 0)
		return dir + " exists already";

	// Built aside, then renamed into place: a root is whole or absent.
	std::string tmp = dir + ".new." + std::to_string(getpid());
	for (const char *d : {"bin", "sbin", "usr/bin", "usr/sbin", "etc", "root", "home", "var",
			      "dev", "proc", "run"})
		if (!mkdirs(tmp + "/" + d, 0755))
			return errno_text(tmp + "/" + d);
	if (!mkdirs(tmp + "/tmp", 01777))
		return errno_text(tmp + "/tmp");
	if (auto err = copy_file(busybox, tmp + "/bin/busybox", 0755); !err.empty())
		return err;

	std::vector<std::string> links;
	if (auto err = applets(busybox, &links); !err.empty())
		return err;
	for (const auto& l : links) {
		if (l == "bin/busybox")
			continue;
		if (symlink("/bin/busybox", (tmp + "/" + l).c_str()) < 0 && errno != EEXIST)
			return errno_text(tmp + "/" + l);
	}

	// The guest runs as the user who runs unpriv-run: name that user.
	std::string passwd = "root:x:0:0:root:/root:/bin/sh\n";
	std::string group = "root:x:0:\n";
	uid_t uid = getuid();
	gid_t gid = getgid();
	if (uid != 0) {
		std::string name = lookup("/etc/passwd", uid).first;
		if (name.empty())
			name = "user";
		passwd += name + ":x:" + std::to_string(uid) + ":" + std::to_string(gid) +
			  ":" + name + ":/home/" + name + ":/bin/sh\n";
	}
	if (gid != 0) {
		std::string name = lookup("/etc/group", gid).first;
		group += (name.empty() ? std::string("users") : name) + ":x:" + std::to_string(gid) + ":\n";
	}
	passwd += "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
	group += "nogroup:x:65534:\n";
	if (!write_file(tmp + "/etc/passwd", passwd) || !write_file(tmp + "/etc/group", group) ||
	    !write_file(tmp + "/etc/hostname", "unpriv\n"))
		return "cannot write " + tmp + "/etc";

	if (rename(tmp.c_str(), dir.c_str()) < 0)
		return errno_text("rename " + tmp + " to " + dir);
	return {};
}

} // namespace guest::host
