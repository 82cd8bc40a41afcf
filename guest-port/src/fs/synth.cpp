// SPDX-License-Identifier: GPL-2.0
#include "fs/synth.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstring>
#include <functional>

#include "fs/path.hpp"
#include "host/process.hpp"

namespace guest {
namespace {

// Each synthetic file system has a device number of its own; an inode
// is a hash of the path, the same at every lookup.
const dev_t synth_dev = makedev(0, 0x75);

std::uint64_t ino_of(const std::string& path)
{
	return std::hash<std::string>{}(path) | 1;
}

// A file whose contents were made when it was opened.
class ContentFile final : public File {
public:
	ContentFile(int flags, SynthNode node, std::string data)
		: File(flags), node_(std::move(node)), data_(std::move(data))
	{
	}

	std::string path() const override { return node_.path; }

	KResult<std::size_t> read(std::span<std::byte> buf) override
	{
		auto n = pread(buf, pos_);
		if (n)
			pos_ += *n;
		return n;
	}

	KResult<std::size_t> pread(std::span<std::byte> buf, std::uint64_t off) override
	{
		if (off >= data_.size())
			return 0;
		std::size_t n = std::min<std::uint64_t>(buf.size(), data_.size() - off);
		std::memcpy(buf.data(), data_.data() + off, n);
		return n;
	}

	KResult<std::int64_t> lseek(std::int64_t off, int whence) override
	{
		std::int64_t base = whence == SEEK_SET ? 0
				    : whence == SEEK_CUR ? static_cast<std::int64_t>(pos_)
				    : whence == SEEK_END ? static_cast<std::int64_t>(data_.size())
							 : -1;
		if (base < 0 || base + off < 0)
			return kerr(EINVAL);
		pos_ = static_cast<std::uint64_t>(base + off);
		return static_cast<std::int64_t>(pos_);
	}

	KResult<struct stat> stat() override { return node_.stat(); }
	bool pollable() const noexcept override { return node_.pollable; }

private:
	SynthNode node_;
	std::string data_;
	std::uint64_t pos_ = 0;
};

// A directory: its entries, read with getdents64.
class DirFile final : public File {
public:
	DirFile(int flags, SynthNode node) : File(flags), node_(std::move(node)) {}

	std::string path() const override { return node_.path; }
	bool is_directory() const noexcept override { return true; }
	KResult<struct stat> stat() override { return node_.stat(); }

	KResult<std::int64_t> lseek(std::int64_t off, int whence) override
	{
		if (whence != SEEK_SET || off < 0)
			return kerr(EINVAL);
		pos_ = static_cast<std::size_t>(off);
		return off;
	}

	KResult<std::size_t> getdents64(std::span<std::byte> buf) override
	{
		if (entries_.empty()) {
			entries_ = {{".", DT_DIR}, {"..", DT_DIR}};
			for (auto& e : node_.entries())
				entries_.push_back(std::move(e));
		}
		std::size_t used = 0;
		for (; pos_ < entries_.size(); pos_++) {
			const SynthEntry& e = entries_[pos_];
			std::size_t reclen = (offsetof(struct dirent64, d_name) + e.name.size() + 1 + 7) & ~std::size_t{7};
			if (used + reclen > buf.size())
				break;
			struct dirent64 d{};
			d.d_ino = ino_of(path::join(node_.path, e.name));
			d.d_off = static_cast<off_t>(pos_ + 1);
			d.d_reclen = static_cast<unsigned short>(reclen);
			d.d_type = e.type;
			std::byte *at = buf.data() + used;
			std::memset(at, 0, reclen);
			std::memcpy(at, &d, offsetof(struct dirent64, d_name));
			std::memcpy(at + offsetof(struct dirent64, d_name), e.name.c_str(), e.name.size() + 1);
			used += reclen;
		}
		if (used == 0 && pos_ < entries_.size())
			return kerr(EINVAL);	// buffer too small for one entry
		return used;
	}

private:
	SynthNode node_;
	std::vector<SynthEntry> entries_;
	std::size_t pos_ = 0;
};

// A symlink held open with O_PATH | O_NOFOLLOW.
class LinkFile final : public File {
public:
	LinkFile(int flags, SynthNode node) : File(flags), node_(std::move(node)) {}
	std::string path() const override { return node_.path; }
	KResult<struct stat> stat() override { return node_.stat(); }

private:
	SynthNode node_;
};

} // namespace

struct stat SynthNode::stat() const
{
	struct stat st{};
	st.st_dev = synth_dev;
	st.st_ino = ino_of(path);
	st.st_nlink = kind == Kind::dir ? 2 : 1;
	st.st_uid = host::getuid();
	st.st_gid = host::getgid();
	st.st_blksize = 4096;
	switch (kind) {
	case Kind::dir:
		st.st_mode = S_IFDIR | perm;
		break;
	case Kind::file:
		st.st_mode = S_IFREG | perm;
		break;
	case Kind::symlink:
		st.st_mode = S_IFLNK | 0777;
		st.st_size = static_cast<off_t>(target.size());
		break;
	case Kind::device:
		st.st_mode = S_IFCHR | perm;
		st.st_rdev = rdev;
		st.st_uid = 0;
		st.st_gid = 0;
		break;
	}
	return st;
}

struct statfs synth_statfs(const std::string& norm)
{
	constexpr long proc_magic = 0x9fa0, tmpfs_magic = 0x01021994;
	struct statfs st{};
	st.f_type = norm.starts_with("/proc") ? proc_magic : tmpfs_magic;
	st.f_bsize = st.f_frsize = 4096;
	st.f_namelen = 255;
	return st;
}

std::shared_ptr<File> open_synth(const SynthNode& node, int flags, KResult<std::string> content)
{
	switch (node.kind) {
	case SynthNode::Kind::dir:
		return std::make_shared<DirFile>(flags, node);
	case SynthNode::Kind::symlink:
		return std::make_shared<LinkFile>(flags, node);
	case SynthNode::Kind::device:
		return node.open_device(flags);
	case SynthNode::Kind::file:
		break;
	}
	return std::make_shared<ContentFile>(flags, node, content.value_or(""));
}

} // namespace guest
