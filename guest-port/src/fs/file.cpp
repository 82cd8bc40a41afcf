// SPDX-License-Identifier: GPL-2.0
#include "fs/file.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <vector>

#include "fs/synth.hpp"
#include "fs/vfs.hpp"
#include "host/file.hpp"
#include "host/io.hpp"
#include "host/tty.hpp"
#include "task.hpp"

namespace guest {
namespace {

// The terminal ioctls a shell and the usual tools make, with the size
// of what each reads from (in) or writes to (out) the guest at arg.
// The structs are the kernel's, the same on host and guest.
struct IoctlArg {
	unsigned long cmd;
	unsigned in, out;
	bool by_value;	// arg is an integer, not a pointer
};

constexpr unsigned kernel_termios_size = 36;	// struct termios in <asm/termbits.h>

// (TIOCGPGRP, TIOCSPGRP, TIOCGSID and the controlling terminal are the
// guest's own: sys/fd.cpp.)
constexpr std::array<IoctlArg, 11> tty_ioctls{{
	{TCGETS, 0, kernel_termios_size, false},
	{TCSETS, kernel_termios_size, 0, false},
	{TCSETSW, kernel_termios_size, 0, false},
	{TCSETSF, kernel_termios_size, 0, false},
	{TIOCGWINSZ, 0, sizeof(struct winsize), false},
	{TIOCSWINSZ, sizeof(struct winsize), 0, false},
	{FIONREAD, 0, sizeof(int), false},
	{TIOCOUTQ, 0, sizeof(int), false},
	{TCFLSH, 0, 0, true},
	{TCXONC, 0, 0, true},
	{TCSBRK, 0, 0, true},
}};

} // namespace

// --- File: what a file without an operation answers -------------------------

namespace {
constexpr int changeable_flags = O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME;
}

KResult<void> File::set_status_flags(int flags)
{
	flags_ = (flags_ & ~changeable_flags) | (flags & changeable_flags);
	return {};
}

bool File::readable() const noexcept
{
	int mode = flags_ & O_ACCMODE;
	return !(flags_ & O_PATH) && (mode == O_RDONLY || mode == O_RDWR);
}

bool File::writable() const noexcept
{
	int mode = flags_ & O_ACCMODE;
	return !(flags_ & O_PATH) && (mode == O_WRONLY || mode == O_RDWR);
}

KResult<std::size_t> File::read(std::span<std::byte>)
{
	return kerr(EINVAL);
}

KResult<std::size_t> File::write(std::span<const std::byte>)
{
	return kerr(EINVAL);
}

KResult<std::size_t> File::pread(std::span<std::byte>, std::uint64_t)
{
	return kerr(ESPIPE);
}

KResult<std::size_t> File::pwrite(std::span<const std::byte>, std::uint64_t)
{
	return kerr(ESPIPE);
}

KResult<std::int64_t> File::lseek(std::int64_t, int)
{
	return kerr(ESPIPE);
}

KResult<struct statx> File::statx(unsigned, int)
{
	auto st = stat();
	if (!st)
		return kerr(st.error());
	return stat_to_statx(*st);
}

KResult<struct statfs> File::statfs()
{
	return synth_statfs(path());
}

KResult<std::size_t> File::getdents64(std::span<std::byte>)
{
	return kerr(ENOTDIR);
}

// The guest port's own files do not change; nothing but the guest can
// hold them, so locks and advice have nobody to tell.
KResult<void> File::chmod(mode_t)
{
	return kerr(EPERM);
}

KResult<void> File::chown(uid_t, gid_t, bool)
{
	return kerr(EPERM);
}

KResult<void> File::truncate(std::uint64_t)
{
	return kerr(EINVAL);
}

KResult<void> File::sync(bool)
{
	return kerr(EINVAL);
}

KResult<void> File::utimens(const struct timespec *)
{
	return kerr(EPERM);
}

KResult<void> File::advise(std::uint64_t, std::uint64_t, int)
{
	return {};
}

KResult<void> File::flock(int)
{
	return {};
}

KResult<void> File::record_lock(int, struct flock&)
{
	return kerr(EINVAL);
}

KResult<int> File::fcntl_file(int, int)
{
	return kerr(EINVAL);
}

KResult<long> File::ioctl(Task&, unsigned long, std::uint64_t)
{
	return kerr(ENOTTY);
}

short File::poll(short events)
{
	return events & (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM);
}

std::optional<KResult<std::size_t>> File::read_guest(Task&, std::uint64_t, std::uint64_t)
{
	return std::nullopt;
}

short File::poll_for(Task&, short events, int *)
{
	return poll(events);
}

void File::unwatch(Task&)
{
}

std::uint64_t File::changes(Task&)
{
	return 0;
}

KResult<std::shared_ptr<const MapFile>> File::map_file()
{
	return kerr(ENODEV);
}

// --- HostFile -----------------------------------------------------------------

std::string HostFile::path() const
{
	return vfs_->describe(fd_.get(), outside_name_);
}

std::shared_ptr<HostFile> HostFile::reopen(int flags) const
{
	if (handed()) {
		errno = EACCES;
		return nullptr;
	}
	if (!vfs_) {	// an anon_inode file: nothing to open by name
		errno = ENXIO;
		return nullptr;
	}
	// Through the host's magic link to our own descriptor: a new open
	// file description, with the host's permission checks.
	auto fd = host::reopen(fd_.get(), flags & ~O_CREAT);
	if (!fd) {
		errno = fd.error();
		return nullptr;
	}
	return std::make_shared<HostFile>(host::Fd(*fd), flags & ~O_CLOEXEC, vfs_, origin_,
					  outside_name_);
}

KResult<void> HostFile::set_status_flags(int flags)
{
	int fl = (flags_ & ~changeable_flags) | (flags & changeable_flags);
	if (auto r = host::fcntl(fd_.get(), F_SETFL, fl & ~O_ACCMODE); !r)
		return kerr(r.error());
	flags_ = fl;
	return {};
}

KResult<std::size_t> HostFile::read(std::span<std::byte> buf)
{
	return host::read(fd_.get(), buf, route());
}

KResult<std::size_t> HostFile::write(std::span<const std::byte> buf)
{
	return host::write(fd_.get(), buf, route());
}

KResult<std::size_t> HostFile::pread(std::span<std::byte> buf, std::uint64_t off)
{
	return host::pread(fd_.get(), buf, off, route());
}

KResult<std::size_t> HostFile::pwrite(std::span<const std::byte> buf,
				      std::uint64_t off)
{
	return host::pwrite(fd_.get(), buf, off, route());
}

KResult<std::int64_t> HostFile::lseek(std::int64_t off, int whence)
{
	return host::lseek(fd_.get(), off, whence);
}

KResult<struct stat> HostFile::stat()
{
	return host::fstat(fd_.get());
}

KResult<struct statx> HostFile::statx(unsigned mask, int sync_flags)
{
	return host::fstatx(fd_.get(), sync_flags & AT_STATX_SYNC_TYPE, mask);
}

KResult<struct statfs> HostFile::statfs()
{
	return host::fstatfs(fd_.get());
}

KResult<void> HostFile::chmod(mode_t mode)
{
	if (handed())
		return kerr(EPERM);
	auto st = host::fstat(fd_.get());
	if (!st)
		return kerr(st.error());
	return host::fchmod(fd_.get(), allowed_mode(mode, S_ISDIR(st->st_mode)));
}

KResult<void> HostFile::chown(uid_t uid, gid_t gid, bool empty_path)
{
	if (handed())
		return kerr(EPERM);
	if (empty_path)
		return host::fchownat(fd_.get(), "", uid, gid, AT_EMPTY_PATH);
	return host::fchown(fd_.get(), uid, gid);
}

KResult<void> HostFile::truncate(std::uint64_t len)
{
	return host::ftruncate(fd_.get(), len);
}

KResult<void> HostFile::sync(bool data_only)
{
	return host::fsync(fd_.get(), data_only);
}

KResult<void> HostFile::utimens(const struct timespec *times)
{
	if (handed())
		return kerr(EPERM);
	return host::futimens(fd_.get(), times);
}

KResult<void> HostFile::advise(std::uint64_t off, std::uint64_t len, int advice)
{
	return host::fadvise(fd_.get(), off, len, advice);
}

KResult<void> HostFile::flock(int op)
{
	return host::flock(fd_.get(), op);
}

KResult<void> HostFile::record_lock(int cmd, struct flock& fl)
{
	return host::fcntl_lock(fd_.get(), cmd, &fl);
}

KResult<int> HostFile::fcntl_file(int cmd, int arg)
{
	return host::fcntl(fd_.get(), cmd, arg);
}

KResult<std::size_t> HostFile::getdents64(std::span<std::byte> buf)
{
	return host::getdents64(fd_.get(), buf);
}

host::Route HostFile::host_route(mode_t type) noexcept
{
	if (S_ISREG(type) || S_ISBLK(type))
		return host::Route::file;
	return host::Route::stream;
}

dev_t HostFile::host_terminal(int fd) noexcept
{
	auto st = host::fstat(fd);
	if (!st || !S_ISCHR(st->st_mode) || !host::isatty(fd))
		return 0;
	return st->st_rdev;
}

bool HostFile::terminal_tostop() const
{
	if (!tty_)
		return false;
	auto tio = host::tcgetattr(fd_.get());
	return tio && (tio->c_lflag & TOSTOP);
}

KResult<long> HostFile::ioctl(Task& task, unsigned long cmd, std::uint64_t arg)
{
	if (cmd == FIONBIO) {
		auto on = task.mm().read_obj<int>(arg);
		if (!on)
			return kerr(on.error());
		auto r = set_status_flags(*on ? flags_ | O_NONBLOCK : flags_ & ~O_NONBLOCK);
		if (!r)
			return kerr(r.error());
		return 0;
	}
	for (const IoctlArg& a : tty_ioctls) {
		if (a.cmd != cmd)
			continue;
		if (a.by_value)
			return host::ioctl(fd_.get(), cmd, static_cast<unsigned long>(arg))
				.map([](int r) { return long{r}; });
		std::array<std::byte, 64> buf{};
		if (a.in) {
			auto r = task.mm().read(arg, std::span(buf).first(a.in));
			if (!r)
				return kerr(r.error());
		}
		auto ret = host::ioctl(fd_.get(), cmd, static_cast<void *>(buf.data()));
		if (!ret)
			return kerr(ret.error());
		if (a.out) {
			auto r = task.mm().write(arg, std::span(buf).first(a.out));
			if (!r)
				return kerr(r.error());
		}
		return *ret;
	}
	return kerr(ENOTTY);
}

short HostFile::poll(short events)
{
	struct pollfd p{.fd = fd_.get(), .events = events, .revents = 0};
	if (!host::poll(std::span(&p, 1), 0))
		return POLLERR;
	return p.revents;
}

KResult<std::shared_ptr<const MapFile>> HostFile::map_file()
{
	auto st = host::fstat(fd_.get());
	if (!st)
		return kerr(st.error());
	if (!S_ISREG(st->st_mode))
		return kerr(ENODEV);
	if (!readable())
		return kerr(EACCES);
	// The mapping keeps a descriptor of its own, as a vma its file.
	auto fd = host::fcntl(fd_.get(), F_DUPFD_CLOEXEC, 0);
	if (!fd)
		return kerr(fd.error());
	return std::make_shared<const MapFile>(MapFile{host::Fd(*fd), path(), writable()});
}

bool HostFile::is_directory() const noexcept
{
	return origin_ == Origin::root && S_ISDIR(type_);
}

// --- calls on several files ---------------------------------------------------

KResult<std::size_t> send_file(File& out, File& in, std::int64_t *off, std::size_t count)
{
	if (in.host_fd() >= 0 && out.host_fd() >= 0) {
		off_t o = off ? *off : 0;
		auto n = host::sendfile(out.host_fd(), in.host_fd(), off ? &o : nullptr, count);
		if (n && off)
			*off = o;
		return n;
	}

	// One side is the guest port's own: copy one chunk through here.
	std::vector<std::byte> buf(std::min<std::size_t>(count, 1 << 20));
	auto got = off ? in.pread(buf, static_cast<std::uint64_t>(*off)) : in.read(buf);
	if (!got)
		return kerr(got.error());
	std::size_t done = 0;
	while (done < *got) {
		auto w = out.write(std::span(buf).subspan(done, *got - done));
		if (!w) {
			if (!done)
				return kerr(w.error());
			break;
		}
		done += *w;
	}
	if (off)
		*off += static_cast<std::int64_t>(done);
	return done;
}

KResult<std::pair<std::shared_ptr<File>, std::shared_ptr<File>>> make_pipe(const Vfs& vfs,
									    int flags)
{
	int p[2];
	int status = flags & (O_NONBLOCK | O_DIRECT);
	if (auto r = host::pipe2(p, O_CLOEXEC | status); !r)
		return kerr(r.error());
	// A host pipe: the guest port reads and writes it for the guest.
	return std::pair<std::shared_ptr<File>, std::shared_ptr<File>>{
		std::make_shared<HostFile>(host::Fd(p[0]), O_RDONLY | status, &vfs,
					   HostFile::Origin::own),
		std::make_shared<HostFile>(host::Fd(p[1]), O_WRONLY | status, &vfs,
					   HostFile::Origin::own)};
}

KResult<int> poll_files(Task& task, std::span<PollEntry> entries, int timeout_ms)
{
	using clock = std::chrono::steady_clock;
	const auto start = clock::now();
	std::vector<struct pollfd> host;
	std::vector<std::size_t> host_of;
	std::vector<File *> watched;

	for (;;) {
		host.clear();
		host_of.clear();
		watched.clear();
		bool ready = false;
		int wake_fd = -1;
		// Writes before the files are asked again are seen by them.
		// (The thread's own wake-up: made by it, read without a lock.)
		if (task.signal_wake)
			task.signal_wake.drain();
		// The guest port's own files are ready at once, or wake the
		// thread when they become so; host files are asked of the
		// host, which then must not wait when one is.
		for (std::size_t i = 0; i < entries.size(); i++) {
			PollEntry& e = entries[i];
			e.revents = 0;
			if (!e.file) {
				e.revents = POLLNVAL;
				ready = true;
			} else if (e.file->host_fd() >= 0) {
				host.push_back({e.file->host_fd(), e.events, 0});
				host_of.push_back(i);
			} else {
				int w = -1;
				e.revents = e.file->poll_for(
					task, static_cast<short>(e.events | POLLERR | POLLHUP),
					ready ? nullptr : &w);
				ready |= e.revents != 0;
				if (w >= 0) {
					wake_fd = w;
					watched.push_back(e.file.get());
				}
			}
		}
		int timeout = timeout_ms;
		if (ready) {
			timeout = 0;
		} else if (timeout_ms > 0) {
			auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(
				clock::now() - start).count();
			timeout = static_cast<int>(std::max<std::int64_t>(timeout_ms - spent, 0));
		}
		if (wake_fd >= 0 && !ready)
			host.push_back({wake_fd, POLLIN, 0});
		auto r = host::poll(host, timeout);
		for (File *f : watched)
			f->unwatch(task);
		if (!r)
			return kerr(r.error());
		bool woken = wake_fd >= 0 && !ready && host.back().revents;
		for (std::size_t k = 0; k < host_of.size(); k++)
			entries[host_of[k]].revents = host[k].revents;
		int count = 0;
		for (const auto& e : entries)
			count += e.revents != 0;
		// Woken for a file of the guest port's own: ask it again.
		if (!count && woken)
			continue;
		return count;
	}
}

// --- wake-ups -------------------------------------------------------------------

KResult<WakeFd> WakeFd::make()
{
	int p[2];
	if (auto r = host::pipe2(p, O_NONBLOCK | O_CLOEXEC); !r)
		return kerr(r.error());
	WakeFd w;
	w.read_ = host::Fd(p[0]);
	w.write_ = host::Fd(p[1]);
	return w;
}

void WakeFd::wake() const noexcept
{
	// A full pipe is one woken already.
	const std::byte one{0};
	(void)host::write(write_.get(), std::span(&one, 1), host::Route::nonblocking);
}

void WakeFd::drain() const noexcept
{
	std::byte buf[64];
	for (;;) {
		auto n = host::read(read_.get(), buf, host::Route::nonblocking);
		if (!n || *n != sizeof(buf))
			break;
	}
}

bool WakeFd::wait() const noexcept
{
	struct pollfd p = {read_.get(), POLLIN, 0};
	auto r = host::poll(std::span(&p, 1), -1);
	return r || r.error() != EINTR;
}

} // namespace guest
