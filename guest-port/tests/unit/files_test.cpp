// SPDX-License-Identifier: GPL-2.0
//
// What clone's CLONE_FILES and CLONE_FS share.
//
// FdTable: a descriptor table, Linux's files_struct.  The lowest free
// descriptor is the one given, dup2 over an open descriptor releases the
// file it held, close-on-exec flags are each descriptor's own and close
// only at exec, close_range closes or marks what is open in its range, a
// copy (fork, unshare) is independent of the table it was made from,
// RLIMIT_NOFILE bounds new descriptors, and threads installing and
// closing at once each get a descriptor of their own.
//
// FsStruct: the current directory and umask, Linux's fs_struct.  A
// copy (fork, unshare) is independent; threads changing and reading
// the directory at once see one whole directory, an old one released.
#include <doctest/doctest.h>

#include <algorithm>
#include <climits>
#include <memory>
#include <thread>
#include <vector>

#include "fs/fdtable.hpp"
#include "fs/fs_struct.hpp"

using guest::FdTable;
using guest::File;
using guest::FsStruct;

namespace {

// FdTable holds files and never looks inside one: a pointer that shares
// the lifetime of a plain object stands for a file that lives as long.
struct Life {
	std::shared_ptr<int> obj = std::make_shared<int>(0);
	std::shared_ptr<File> file() const
	{
		return std::shared_ptr<File>(obj, reinterpret_cast<File *>(obj.get()));
	}
	std::weak_ptr<int> watch() const { return obj; }
};

// A file only the table holds, and a way to see it go.
std::shared_ptr<File> file(std::weak_ptr<int> *gone = nullptr)
{
	Life l;
	if (gone)
		*gone = l.watch();
	return l.file();
}

} // namespace

TEST_SUITE("FdTable") {

TEST_CASE("the lowest free descriptor, from min")
{
	FdTable t;
	CHECK(*t.install(file(), false) == 0);
	CHECK(*t.install(file(), false) == 1);
	CHECK(*t.install(file(), false) == 2);
	REQUIRE(t.close(1));
	CHECK(*t.install(file(), false) == 1);
	CHECK(*t.install(file(), false) == 3);
	// F_DUPFD's minimum: past a hole, the lowest free above it.
	CHECK(*t.install(file(), false, 10) == 10);
	CHECK(*t.install(file(), false, 10) == 11);
	CHECK(*t.install(file(), false, 4) == 4);
	CHECK(t.fds() == std::vector<int>{0, 1, 2, 3, 4, 10, 11});
	CHECK(t.install(file(), false, -1).error() == EINVAL);
	CHECK(t.close(5).error() == EBADF);
	CHECK(t.close(-1).error() == EBADF);
	CHECK(t.close(100000).error() == EBADF);
	CHECK(t.get(5) == nullptr);
	CHECK(t.get(-1) == nullptr);
}

TEST_CASE("dup2 and dup3 over an open descriptor release what it held")
{
	FdTable t;
	std::weak_ptr<int> old_gone, new_gone;
	auto f = file(&new_gone);
	REQUIRE(*t.install(file(&old_gone), true) == 0);
	REQUIRE(*t.install(f, false) == 1);
	CHECK(t.cloexec(0));

	// dup2(1, 0): slot 0 now holds fd 1's file, without close-on-exec
	// (dup2's); the file 0 held is gone, the one it got is shared.
	CHECK(*t.install_at(0, t.get(1), false) == 0);
	CHECK(old_gone.expired());
	CHECK(t.get(0) == t.get(1));
	CHECK_FALSE(t.cloexec(0));
	// dup3(0, 1, O_CLOEXEC): its own flag, the other descriptor's kept.
	CHECK(*t.install_at(1, t.get(0), true) == 1);
	CHECK(t.cloexec(1));
	CHECK_FALSE(t.cloexec(0));
	// Onto a descriptor past the end: the table grows to it.
	CHECK(*t.install_at(40, t.get(0), false) == 40);
	CHECK(t.fds() == std::vector<int>{0, 1, 40});
	CHECK(t.install_at(-1, f, false).error() == EBADF);

	f.reset();
	REQUIRE(t.close(0));
	REQUIRE(t.close(1));
	CHECK_FALSE(new_gone.expired());	// 40 holds it yet
	REQUIRE(t.close(40));
	CHECK(new_gone.expired());
	CHECK(t.fds().empty());
}

TEST_CASE("close-on-exec: each descriptor's own; exec closes those only")
{
	FdTable t;
	std::weak_ptr<int> a_gone, b_gone;
	REQUIRE(*t.install(file(&a_gone), true) == 0);
	REQUIRE(*t.install(file(&b_gone), false) == 1);
	REQUIRE(*t.install(t.get(0), false) == 2);	// dup(0): the flag not copied
	CHECK(t.cloexec(0));
	CHECK_FALSE(t.cloexec(1));
	CHECK_FALSE(t.cloexec(2));
	t.set_cloexec(1, true);
	t.set_cloexec(1, false);
	t.set_cloexec(7, true);	// not open: nothing
	CHECK_FALSE(t.cloexec(1));
	CHECK_FALSE(t.cloexec(7));
	CHECK(t.fds() == std::vector<int>{0, 1, 2});

	t.close_on_exec();
	CHECK(t.fds() == std::vector<int>{1, 2});
	CHECK_FALSE(a_gone.expired());	// 2 holds the same file
	CHECK_FALSE(b_gone.expired());
	REQUIRE(t.close(2));
	CHECK(a_gone.expired());
}

TEST_CASE("close_range closes, or marks close-on-exec, what is open in its range")
{
	FdTable t;
	for (int i = 0; i < 8; i++)
		REQUIRE(*t.install(file(), false) == i);
	REQUIRE(t.close(3));
	t.close_range(2, 5, false);
	CHECK(t.fds() == std::vector<int>{0, 1, 6, 7});
	t.close_range(1, 6, true);
	CHECK(t.fds() == std::vector<int>{0, 1, 6, 7});
	CHECK_FALSE(t.cloexec(0));
	CHECK(t.cloexec(1));
	CHECK(t.cloexec(6));
	CHECK_FALSE(t.cloexec(7));
	// To the end of the table and beyond it.
	t.close_range(6, UINT_MAX, false);
	CHECK(t.fds() == std::vector<int>{0, 1});
	t.close_range(100, 200, false);	// nothing there
	CHECK(t.fds() == std::vector<int>{0, 1});
	// The lowest free is found again after the end was cut.
	CHECK(*t.install(file(), false) == 2);
	t.close_range(0, UINT_MAX, false);
	CHECK(t.fds().empty());
}

TEST_CASE("a copy (fork, unshare) is independent of the table it was made from")
{
	FdTable parent;
	std::weak_ptr<int> gone;
	REQUIRE(*parent.install(file(&gone), true) == 0);
	REQUIRE(*parent.install(file(), false) == 1);
	parent.set_limit(64);

	FdTable child(parent);
	CHECK(child.fds() == std::vector<int>{0, 1});
	CHECK(child.get(0) == parent.get(0));	// the same open file
	CHECK(child.cloexec(0));
	CHECK(child.limit() == 64);

	REQUIRE(child.close(0));
	CHECK(parent.get(0) != nullptr);
	CHECK_FALSE(gone.expired());
	child.set_cloexec(1, true);
	CHECK_FALSE(parent.cloexec(1));
	CHECK(*parent.install(file(), false) == 2);
	CHECK(child.get(2) == nullptr);
	CHECK(*child.install(file(), false) == 0);
	CHECK(child.get(0) != parent.get(0));
	parent.close_on_exec();
	CHECK(parent.fds() == std::vector<int>{1, 2});
	CHECK(child.fds() == std::vector<int>{0, 1});
	CHECK(gone.expired());	// closed in both now
	child.set_limit(8);
	CHECK(parent.limit() == 64);
}

TEST_CASE("RLIMIT_NOFILE bounds new descriptors, not open ones")
{
	FdTable t;
	CHECK(t.limit() == FdTable::default_limit);
	t.set_limit(4);
	for (int i = 0; i < 4; i++)
		REQUIRE(*t.install(file(), false) == i);
	CHECK(t.install(file(), false).error() == EMFILE);
	// F_DUPFD at or past the limit is EINVAL, dup2 to it EBADF.
	CHECK(t.install(file(), false, 4).error() == EINVAL);
	CHECK(t.install_at(4, file(), false).error() == EBADF);
	CHECK(*t.install_at(3, file(), false) == 3);

	// Lowered below what is open: those stay, and no new one.
	t.set_limit(2);
	CHECK(t.get(3) != nullptr);
	REQUIRE(t.close(2));
	CHECK(t.install(file(), false).error() == EMFILE);
	REQUIRE(t.close(1));
	CHECK(*t.install(file(), false) == 1);
	t.set_limit(8);
	CHECK(*t.install(file(), false) == 2);
	CHECK(*t.install(file(), false) == 4);
}

// Threads sharing one table (CLONE_FILES, or a process's threads)
// install and close at once: each gets a descriptor nobody else holds
// meanwhile, and sees its own file there until it closes it.  Under
// ThreadSanitizer (make tsan-unit) this is where a race would show.
TEST_CASE("threads installing and closing at once")
{
	FdTable t;
	constexpr int threads = 4, rounds = 2000;
	std::vector<int> wrong(threads, 0);
	std::vector<std::weak_ptr<int>> last(threads);
	std::vector<std::thread> ths;
	for (int i = 0; i < threads; i++)
		ths.emplace_back([&, i] {
			for (int r = 0; r < rounds; r++) {
				auto f = file(&last[static_cast<std::size_t>(i)]);
				auto fd = t.install(f, r % 2 == 0);
				if (!fd || t.get(*fd) != f || t.cloexec(*fd) != (r % 2 == 0)) {
					wrong[static_cast<std::size_t>(i)]++;
					continue;
				}
				if (r % 3 == 0)
					t.set_cloexec(*fd, true);
				if (r % 5 == 0)
					(void)t.fds();
				if (r % 7 == 0) {
					t.close_range(static_cast<unsigned>(*fd),
						      static_cast<unsigned>(*fd), false);
					if (t.get(*fd) == f)
						wrong[static_cast<std::size_t>(i)]++;
				} else if (!t.close(*fd)) {
					wrong[static_cast<std::size_t>(i)]++;
				}
			}
		});
	// A copy taken meanwhile, as a fork of one of them would.
	for (int r = 0; r < 200; r++) {
		FdTable copy(t);
		for (int fd : copy.fds())
			CHECK(copy.get(fd) != nullptr);
	}
	for (auto& th : ths)
		th.join();
	for (int i = 0; i < threads; i++) {
		CHECK(wrong[static_cast<std::size_t>(i)] == 0);
		CHECK(last[static_cast<std::size_t>(i)].expired());
	}
	CHECK(t.fds().empty());
}

} // TEST_SUITE

TEST_SUITE("FsStruct") {

TEST_CASE("a copy (fork, unshare) is independent")
{
	FsStruct fs;
	std::weak_ptr<int> first_gone;
	auto first = file(&first_gone);
	CHECK(fs.umask == 022);
	CHECK(fs.cwd() == nullptr);
	CHECK(fs.set_cwd(first) == nullptr);
	CHECK(fs.umask.exchange(077) == 022);

	FsStruct copy(fs);
	CHECK(copy.cwd() == first);
	CHECK(copy.umask == 077);
	auto second = file();
	CHECK(copy.set_cwd(second) == first);
	copy.umask = 0;
	CHECK(fs.cwd() == first);
	CHECK(fs.umask == 077);
	first.reset();
	CHECK_FALSE(first_gone.expired());	// fs's directory yet
	(void)fs.set_cwd(second);
	CHECK(first_gone.expired());
}

// Threads of a process, or processes made with CLONE_FS, chdir and
// look up relative paths at once (make tsan-unit).
TEST_CASE("threads changing and reading the directory at once")
{
	FsStruct fs;
	std::vector<std::shared_ptr<File>> dirs;
	for (int i = 0; i < 4; i++)
		dirs.push_back(file());
	(void)fs.set_cwd(dirs[0]);
	std::vector<int> wrong(4, 0);
	std::vector<std::thread> ths;
	for (int i = 0; i < 4; i++)
		ths.emplace_back([&, i] {
			auto& bad = wrong[static_cast<std::size_t>(i)];
			for (int r = 0; r < 2000; r++) {
				if (i % 2 == 0) {
					(void)fs.set_cwd(dirs[static_cast<std::size_t>(r % 4)]);
					fs.umask.exchange(static_cast<mode_t>(r % 2 ? 022 : 077));
				}
				auto d = fs.cwd();
				if (std::find(dirs.begin(), dirs.end(), d) == dirs.end())
					bad++;
				mode_t m = fs.umask;
				if (m != 022 && m != 077)
					bad++;
			}
		});
	for (auto& th : ths)
		th.join();
	for (int i = 0; i < 4; i++)
		CHECK(wrong[static_cast<std::size_t>(i)] == 0);
}

} // TEST_SUITE
