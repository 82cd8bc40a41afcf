// SPDX-License-Identifier: GPL-2.0
//
// Reading and writing open files: read, write, readv, writev, pread64,
// pwrite64, preadv, pwritev, lseek, sendfile.
//
// Data goes straight between the file and guest memory when the guest's
// buffer is one piece of its physical memory (the usual case: a heap or
// stack buffer), pinned for the call (Mm::pin: another thread may unmap
// it while the call blocks); otherwise through a bounce buffer of at most 1 MiB,
// which makes a larger call return short, as Linux may.
#include <signal.h>

#include <algorithm>
#include <vector>

#include "kernel.hpp"
#include "sys/handlers.hpp"
#include "sys/io.hpp"
#include "task.hpp"

namespace guest {
namespace {

constexpr std::uint64_t rw_max = 0x7ffff000;	// Linux's MAX_RW_COUNT
constexpr std::size_t bounce_max = 1 << 20;
constexpr std::size_t iov_max = 1024;		// IOV_MAX, UIO_MAXIOV

std::shared_ptr<File> readable_file(Task& t, std::uint64_t fd)
{
	auto f = t.files().get(static_cast<int>(fd));
	return f && f->readable() ? f : nullptr;
}

std::shared_ptr<File> writable_file(Task& t, std::uint64_t fd)
{
	auto f = t.files().get(static_cast<int>(fd));
	return f && f->writable() ? f : nullptr;
}

// Job control: a process of a background group reading its terminal
// gets SIGTTIN, and writing to it SIGTTOU when the terminal has TOSTOP
// (Linux's n_tty_read() and n_tty_write()).  Success: go on.
SysKResult<void> terminal_access(Task& t, const File& f, bool write)
{
	dev_t tty = f.terminal();
	if (!tty || (write && !f.terminal_tostop()))
		return {};
	return t.kernel().tty_check(t, tty, write ? SIGTTOU : SIGTTIN);
}

// A write that met a broken pipe also sends SIGPIPE.
SysResult after_write(Task& t, const KResult<std::size_t>& r)
{
	if (!r && r.error() == EPIPE)
		t.kernel().send_signal(t, SIGPIPE);
	return sys_ret(r);
}

// Gather up to bounce_max bytes of the vectors.
KResult<std::vector<std::byte>> gather(Task& t, const std::vector<GuestIovec>& iov)
{
	std::vector<std::byte> buf;
	for (const auto& v : iov) {
		std::size_t n = std::min<std::uint64_t>(v.len, bounce_max - buf.size());
		std::size_t at = buf.size();
		buf.resize(at + n);
		auto r = t.mm().read(v.base, std::span(buf).subspan(at, n));
		if (!r)
			return kerr(r.error());
		if (buf.size() == bounce_max)
			break;
	}
	return buf;
}

KResult<void> scatter(Task& t, const std::vector<GuestIovec>& iov,
		      std::span<const std::byte> data)
{
	for (const auto& v : iov) {
		if (data.empty())
			break;
		std::size_t n = std::min<std::uint64_t>(v.len, data.size());
		auto r = t.mm().write(v.base, data.first(n));
		if (!r)
			return r;
		data = data.subspan(n);
	}
	return {};
}

std::uint64_t iov_total(const std::vector<GuestIovec>& iov)
{
	std::uint64_t total = 0;
	for (const auto& v : iov)
		total += v.len;
	return std::min<std::uint64_t>(total, bounce_max);
}

} // namespace

KResult<std::vector<GuestIovec>> read_iovecs(Task& t, std::uint64_t addr, std::uint64_t count,
					     int too_many)
{
	if (count > iov_max)
		return kerr(too_many);
	std::vector<GuestIovec> iov(count);
	if (count && !t.mm().read(addr, std::as_writable_bytes(std::span(iov))))
		return kerr(EFAULT);
	std::uint64_t total = 0;
	for (const auto& v : iov) {
		if (v.len > static_cast<std::uint64_t>(INT64_MAX) - total)
			return kerr(EINVAL);
		total += v.len;
	}
	return iov;
}

SysResult read_to_guest(Task& t, std::uint64_t buf, std::uint64_t count,
			const std::function<KResult<std::size_t>(std::span<std::byte>)>& op)
{
	count = std::min(count, rw_max);
	if (auto ok = t.mm().check(buf, count, true); !ok)
		return -EFAULT;
	if (auto pin = t.mm().pin(buf, count, true))
		return sys_ret(op(pin.bytes()));
	std::vector<std::byte> b(std::min<std::uint64_t>(count, bounce_max));
	auto r = op(b);
	if (!r)
		return -r.error();
	if (!t.mm().write(buf, std::span(b).first(*r)))
		return -EFAULT;
	return static_cast<SysResult>(*r);
}

KResult<std::size_t> write_from_guest(Task& t, std::uint64_t buf, std::uint64_t count,
				      const std::function<KResult<std::size_t>(std::span<const std::byte>)>& op)
{
	count = std::min(count, rw_max);
	if (auto ok = t.mm().check(buf, count, false); !ok)
		return kerr(EFAULT);
	if (auto pin = t.mm().pin(buf, count, false))
		return op(pin.bytes());
	std::vector<std::byte> b(std::min<std::uint64_t>(count, bounce_max));
	if (!t.mm().read(buf, b))
		return kerr(EFAULT);
	return op(b);
}

GUEST_SYSCALL(read)
{
	auto f = readable_file(t, a[0]);
	if (!f)
		return -EBADF;
	if (auto ok = terminal_access(t, *f, false); !ok)
		return ok.error().result();
	if (auto r = f->read_guest(t, a[1], a[2]))
		return sys_ret(*r);
	return read_to_guest(t, a[1], a[2], [&](std::span<std::byte> b) { return f->read(b); });
}

GUEST_SYSCALL(write)
{
	auto f = writable_file(t, a[0]);
	if (!f)
		return -EBADF;
	if (auto ok = terminal_access(t, *f, true); !ok)
		return ok.error().result();
	return after_write(t, write_from_guest(t, a[1], a[2], [&](std::span<const std::byte> b) {
		return f->write(b);
	}));
}

GUEST_SYSCALL(pread64)
{
	auto f = readable_file(t, a[0]);
	if (!f)
		return -EBADF;
	if (static_cast<std::int64_t>(a[3]) < 0)
		return -EINVAL;
	return read_to_guest(t, a[1], a[2], [&](std::span<std::byte> b) { return f->pread(b, a[3]); });
}

GUEST_SYSCALL(pwrite64)
{
	auto f = writable_file(t, a[0]);
	if (!f)
		return -EBADF;
	if (static_cast<std::int64_t>(a[3]) < 0)
		return -EINVAL;
	return after_write(t, write_from_guest(t, a[1], a[2], [&](std::span<const std::byte> b) {
		return f->pwrite(b, a[3]);
	}));
}

// The vector calls make one call on the file, as Linux's do for pipes
// and terminals: the data goes in one piece, gathered or scattered here.
static SysResult readv_at(Task& t, const SysArgs& a, std::optional<std::uint64_t> off)
{
	auto f = readable_file(t, a[0]);
	if (!f)
		return -EBADF;
	if (auto ok = off ? SysKResult<void>{} : terminal_access(t, *f, false); !ok)
		return ok.error().result();
	auto iov = read_iovecs(t, a[1], a[2], EINVAL);
	if (!iov)
		return -iov.error();
	// A file that reads into guest memory itself (a signalfd): a read
	// for each vector until one is short, as Linux's
	// do_loop_readv_writev() for a file without read_iter.
	if (!off) {
		std::int64_t total = 0;
		for (const auto& v : *iov) {
			if (!v.len)
				continue;
			auto r = f->read_guest(t, v.base, v.len);
			if (!r)
				break;	// not such a file
			if (!*r)
				return total ? total : sys_ret(*r);
			total += static_cast<std::int64_t>(**r);
			if (**r != v.len)
				return total;
		}
		if (total)
			return total;
	}
	if (iov->size() == 1)
		return read_to_guest(t, (*iov)[0].base, (*iov)[0].len, [&](std::span<std::byte> b) {
			return off ? f->pread(b, *off) : f->read(b);
		});
	for (const auto& v : *iov)
		if (!t.mm().check(v.base, v.len, true))
			return -EFAULT;
	std::vector<std::byte> buf(iov_total(*iov));
	auto r = off ? f->pread(buf, *off) : f->read(buf);
	if (!r)
		return -r.error();
	if (!scatter(t, *iov, std::span(buf).first(*r)))
		return -EFAULT;
	return static_cast<SysResult>(*r);
}

static SysResult writev_at(Task& t, const SysArgs& a, std::optional<std::uint64_t> off)
{
	auto f = writable_file(t, a[0]);
	if (!f)
		return -EBADF;
	if (auto ok = off ? SysKResult<void>{} : terminal_access(t, *f, true); !ok)
		return ok.error().result();
	auto iov = read_iovecs(t, a[1], a[2], EINVAL);
	if (!iov)
		return -iov.error();
	auto buf = gather(t, *iov);
	if (!buf)
		return -buf.error();
	return after_write(t, off ? f->pwrite(*buf, *off) : f->write(*buf));
}

GUEST_SYSCALL(readv)
{
	return readv_at(t, a, std::nullopt);
}

GUEST_SYSCALL(writev)
{
	return writev_at(t, a, std::nullopt);
}

GUEST_SYSCALL(preadv)
{
	if (static_cast<std::int64_t>(a[3]) < 0)
		return -EINVAL;
	return readv_at(t, a, a[3]);
}

GUEST_SYSCALL(pwritev)
{
	if (static_cast<std::int64_t>(a[3]) < 0)
		return -EINVAL;
	return writev_at(t, a, a[3]);
}

GUEST_SYSCALL(lseek)
{
	auto f = t.files().get(static_cast<int>(a[0]));
	if (!f)
		return -EBADF;
	if (a[2] > SEEK_HOLE)
		return -EINVAL;
	return sys_ret(f->lseek(static_cast<std::int64_t>(a[1]), static_cast<int>(a[2])));
}

GUEST_SYSCALL(sendfile)
{
	auto out = writable_file(t, a[0]);
	auto in = readable_file(t, a[1]);
	if (!out || !in)
		return -EBADF;
	std::uint64_t count = std::min(a[3], rw_max);
	std::optional<std::int64_t> off;
	if (a[2]) {
		auto o = t.mm().read_obj<std::int64_t>(a[2]);
		if (!o)
			return -EFAULT;
		if (*o < 0)
			return -EINVAL;
		off = *o;
	}

	auto r = send_file(*out, *in, off ? &*off : nullptr, count);
	if (r && off && !t.mm().write_obj(a[2], *off))
		return -EFAULT;
	return after_write(t, r);
}

} // namespace guest
