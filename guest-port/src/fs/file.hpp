// SPDX-License-Identifier: GPL-2.0
//
// File: an open file description, what a guest file descriptor refers
// to (Linux's struct file).  Descriptors made by dup() share one; the
// offset and status flags live here.
//
// HostFile passes through to a host file descriptor: regular files and
// directories under the guest's root, and whatever the guest port was
// started with on its standard descriptors (a terminal, a pipe, a file).
// Other kinds (the guest's /dev and /proc) derive from File too.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "common.hpp"
#include "host/fd.hpp"
#include "host/file.hpp"
#include "host/uring.hpp"
#include "mm/mm.hpp"

namespace guest {

class Task;
class Vfs;

class File {
public:
	// flags: open(2)'s, of which the access mode and the status flags
	// (O_APPEND, O_NONBLOCK, ...) are kept.
	explicit File(int flags) : flags_(flags) {}
	virtual ~File() = default;
	File(const File&) = delete;
	File& operator=(const File&) = delete;

	[[nodiscard]] int flags() const noexcept { return flags_; }
	// F_SETFL: only the status flags that may change.
	virtual KResult<void> set_status_flags(int flags);
	// The guest's name for it, as /proc/self/fd shows it.
	[[nodiscard]] virtual std::string path() const = 0;
	[[nodiscard]] bool readable() const noexcept;
	[[nodiscard]] bool writable() const noexcept;

	// The operations; each defaults to what Linux answers for a file
	// that does not have it.
	virtual KResult<std::size_t> read(std::span<std::byte> buf);
	virtual KResult<std::size_t> write(std::span<const std::byte> buf);
	virtual KResult<std::size_t> pread(std::span<std::byte> buf, std::uint64_t off);
	virtual KResult<std::size_t> pwrite(std::span<const std::byte> buf, std::uint64_t off);
	virtual KResult<std::int64_t> lseek(std::int64_t off, int whence);
	virtual KResult<struct stat> stat() = 0;
	virtual KResult<struct statx> statx(unsigned mask, int sync_flags);
	virtual KResult<struct statfs> statfs();
	virtual KResult<std::size_t> getdents64(std::span<std::byte> buf);
	virtual KResult<long> ioctl(Task& task, unsigned long cmd, std::uint64_t arg);
	// The host terminal this file is (its device number), 0: none; and
	// whether that terminal stops background writers (TOSTOP).
	[[nodiscard]] virtual dev_t terminal() const noexcept { return 0; }
	[[nodiscard]] virtual bool terminal_tostop() const { return false; }
	// poll(2) readiness: the subset of events (POLLIN, POLLOUT...) that
	// would not block now, plus POLLERR/POLLHUP/POLLNVAL.
	virtual short poll(short events);
	// Whether Linux's counterpart has a poll operation, which epoll
	// wants (EPERM without): a host file's host says; of the guest
	// port's own, /proc's system files and /dev/random.
	[[nodiscard]] virtual bool pollable() const noexcept { return false; }

	// What depends on the thread that asks (Linux's current), for a
	// signalfd, whose data and readiness are that thread's signals.
	// read(2) into the guest's memory at addr: nullopt for the files
	// read() serves.  poll(2) readiness for task; when wake_fd is
	// given and the file is not ready but may become so with nothing
	// the host can wait on, task is woken from then on by a write to
	// the host descriptor it sets *wake_fd to, until unwatch(task).
	// changes(task) counts what may have changed its readiness (epoll's
	// edge triggering).  The others: poll(events), and no changes.
	virtual std::optional<KResult<std::size_t>> read_guest(Task& task, std::uint64_t addr,
								std::uint64_t count);
	virtual short poll_for(Task& task, short events, int *wake_fd);
	virtual void unwatch(Task& task);
	virtual std::uint64_t changes(Task& task);
	// fchmod, fchown (empty_path: fchownat with AT_EMPTY_PATH, which
	// also takes an O_PATH file), ftruncate, fsync and fdatasync,
	// utimensat on the file itself, fadvise64, flock; fcntl's record
	// locks, and its calls about the file itself (F_GETPIPE_SZ,
	// F_SETPIPE_SZ, F_GET_SEALS, F_ADD_SEALS).
	virtual KResult<void> chmod(mode_t mode);
	virtual KResult<void> chown(uid_t uid, gid_t gid, bool empty_path);
	virtual KResult<void> truncate(std::uint64_t len);
	virtual KResult<void> sync(bool data_only);
	virtual KResult<void> utimens(const struct timespec *times);
	virtual KResult<void> advise(std::uint64_t off, std::uint64_t len, int advice);
	virtual KResult<void> flock(int op);
	virtual KResult<void> record_lock(int cmd, struct flock& fl);
	virtual KResult<int> fcntl_file(int cmd, int arg);

	// A host file mappings can hold (ENODEV when it cannot be mapped).
	virtual KResult<std::shared_ptr<const MapFile>> map_file();

	// A private mapping of it is anonymous memory (/dev/zero).
	[[nodiscard]] virtual bool maps_anonymous() const noexcept { return false; }

	// The host descriptor behind this file, or -1.
	[[nodiscard]] virtual int host_fd() const noexcept { return -1; }
	// A directory that path lookups can start from (*at calls, the
	// current directory).
	[[nodiscard]] virtual bool is_directory() const noexcept { return false; }

protected:
	int flags_;
};

class HostFile : public File {
public:
	// Where the host file comes from:
	//   root    opened through vfs, in the guest's root: a directory
	//           may start path lookups;
	//   own     made by the guest port for the guest (a pipe);
	//   handed  handed to the guest port (its standard descriptors),
	//           and possibly outside the root.  The guest uses it as
	//           handed: no lookup starts from it, opening it again by
	//           name (/proc/self/fd/N, /dev/stdin) gives this same open
	//           file and never more access, and its mode, owner and
	//           times do not change (EPERM).
	enum class Origin { root, own, handed };

	// vfs names it (see Vfs::describe()); where the host names it
	// outside the root, the guest sees it as outside_name ("/dev/stdin"
	// for the standard input the guest port was handed).
	HostFile(host::Fd fd, int flags, const Vfs *vfs, Origin origin,
		 std::string outside_name = "(unreachable)")
		: File(flags), fd_(std::move(fd)), vfs_(vfs), origin_(origin),
		  outside_name_(std::move(outside_name))
	{
		if (handed())
			tty_ = host_terminal(fd_.get());
		auto st = host::fstat(fd_.get());
		type_ = st ? st->st_mode & S_IFMT : 0;
		route_ = host_route(type_);
	}
	// A file the Vfs opened in the root, whose type (st_mode & S_IFMT)
	// its lookup found: no stat of its own.
	HostFile(host::Fd fd, int flags, const Vfs *vfs, mode_t type)
		: File(flags), fd_(std::move(fd)), vfs_(vfs), type_(type & S_IFMT),
		  route_(host_route(type_)), origin_(Origin::root)
	{
	}
	// The device number of the terminal fd is, 0 if it is none.
	static dev_t host_terminal(int fd) noexcept;
	// How the host I/O on a file of type (S_IFMT bits) goes (host/uring.hpp).
	static host::Route host_route(mode_t type) noexcept;
	[[nodiscard]] host::Route route() const noexcept
	{
		return flags_ & O_NONBLOCK ? host::Route::nonblocking : route_;
	}

	[[nodiscard]] bool handed() const noexcept { return origin_ == Origin::handed; }
	[[nodiscard]] dev_t terminal() const noexcept override { return tty_; }
	[[nodiscard]] bool terminal_tostop() const override;

	[[nodiscard]] std::string path() const override;
	KResult<void> set_status_flags(int flags) override;
	// The same file opened again with flags (/proc/self/fd/N), not for
	// a handed one; null with errno set when that fails.
	[[nodiscard]] std::shared_ptr<HostFile> reopen(int flags) const;
	KResult<std::size_t> read(std::span<std::byte> buf) override;
	KResult<std::size_t> write(std::span<const std::byte> buf) override;
	KResult<std::size_t> pread(std::span<std::byte> buf, std::uint64_t off) override;
	KResult<std::size_t> pwrite(std::span<const std::byte> buf, std::uint64_t off) override;
	KResult<std::int64_t> lseek(std::int64_t off, int whence) override;
	KResult<struct stat> stat() override;
	KResult<struct statx> statx(unsigned mask, int sync_flags) override;
	KResult<struct statfs> statfs() override;
	KResult<std::size_t> getdents64(std::span<std::byte> buf) override;
	KResult<long> ioctl(Task& task, unsigned long cmd, std::uint64_t arg) override;
	short poll(short events) override;
	KResult<void> chmod(mode_t mode) override;
	KResult<void> chown(uid_t uid, gid_t gid, bool empty_path) override;
	KResult<void> truncate(std::uint64_t len) override;
	KResult<void> sync(bool data_only) override;
	KResult<void> utimens(const struct timespec *times) override;
	KResult<void> advise(std::uint64_t off, std::uint64_t len, int advice) override;
	KResult<void> flock(int op) override;
	KResult<void> record_lock(int cmd, struct flock& fl) override;
	KResult<int> fcntl_file(int cmd, int arg) override;
	KResult<std::shared_ptr<const MapFile>> map_file() override;
	[[nodiscard]] int host_fd() const noexcept override { return fd_.get(); }
	[[nodiscard]] bool is_directory() const noexcept override;

private:
	host::Fd fd_;
	const Vfs *vfs_;
	// A host terminal's device number (only what the guest port was
	// handed may be one: the guest opens no device), 0 for any other
	// file.
	dev_t tty_ = 0;
	// Its type, which never changes (0: fstat failed).
	mode_t type_ = 0;
	host::Route route_ = host::Route::stream;
	Origin origin_;
	std::string outside_name_;
};

// sendfile(2): up to count bytes from in (at *off, advancing it, or at
// its file offset when off is null) to out.
KResult<std::size_t> send_file(File& out, File& in, std::int64_t *off, std::size_t count);

// pipe2(2): a pipe's two ends, status flags (O_NONBLOCK, O_DIRECT) set.
KResult<std::pair<std::shared_ptr<File>, std::shared_ptr<File>>> make_pipe(const Vfs& vfs,
									    int flags);

// poll(2) over files: each entry's revents from its events, waiting up
// to timeout_ms (< 0: for ever) while none is ready.  A null file is
// POLLNVAL.  Returns how many entries have revents.
// The poll is task's (File::poll_for()).
struct PollEntry {
	std::shared_ptr<File> file;
	short events;
	short revents;
};
KResult<int> poll_files(Task& task, std::span<PollEntry> entries, int timeout_ms);

// A thread's wake-up for waits the host cannot see (File::poll_for()):
// a host pipe (what every kernel has, eventfd not), written by whoever
// wakes the thread, waited on by the thread in its host calls.
class WakeFd {
public:
	static KResult<WakeFd> make();
	[[nodiscard]] explicit operator bool() const noexcept { return bool(read_); }
	// What to poll for POLLIN.
	[[nodiscard]] int fd() const noexcept { return read_.get(); }
	void wake() const noexcept;
	// Forget the wake-ups so far.
	void drain() const noexcept;
	// Until woken, or the guest port interrupts the thread: false then
	// (EINTR).
	[[nodiscard]] bool wait() const noexcept;

private:
	host::Fd read_, write_;
};

} // namespace guest
