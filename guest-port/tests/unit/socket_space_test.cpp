// SPDX-License-Identifier: GPL-2.0
//
// SocketSpace: the guest's namespace of AF_UNIX names.  Hidden host
// names are the guest's own and unique, identities outlive their
// sockets for a bounded while, an abstract name is taken while its
// socket lives and free once it is gone, autobind's names are Linux's
// form and not reused while taken.
#include <doctest/doctest.h>

#include <memory>
#include <set>
#include <string>

#include "fs/socket.hpp"

using guest::GuestCred;
using guest::Socket;
using guest::SocketSpace;

namespace {

// SocketSpace holds sockets by weak pointer and never looks inside one:
// a pointer that shares the lifetime of a plain object stands for a
// socket that lives as long as that object.
std::shared_ptr<Socket> stand_in(const std::shared_ptr<int>& life)
{
	return std::shared_ptr<Socket>(life, reinterpret_cast<Socket *>(life.get()));
}

} // namespace

TEST_SUITE("SocketSpace") {

TEST_CASE("hidden host names are unique, abstract, and known as ours")
{
	SocketSpace a, b;
	std::set<std::string> seen;
	for (int i = 0; i < 100; i++) {
		std::string n = a.new_host_name();
		CHECK(n[0] == '\0');
		CHECK(a.ours(n));
		CHECK_FALSE(b.ours(n));	// another guest's
		CHECK(seen.insert(n).second);
	}
	CHECK_FALSE(a.ours(std::string("\0unpriv-run.", 12)));
	CHECK_FALSE(a.ours(""));
}

TEST_CASE("an identity outlives its socket, the oldest forgotten first")
{
	SocketSpace s;
	std::string first = s.new_host_name();
	s.set_identity(first, {"/tmp/a\0", {7, 1000, 1000}, {8, 1000, 1000}});
	s.set_sender(first, {9, 1000, 1000});
	auto id = s.identity(first);
	REQUIRE(id);
	CHECK(id->name == std::string("/tmp/a\0"));
	CHECK(id->cred.pid == 7);
	CHECK(id->sender.pid == 9);

	s.retire(first);
	CHECK(s.identity(first));
	for (std::size_t i = 0; i < SocketSpace::retired_max - 1; i++) {
		std::string n = s.new_host_name();
		s.set_identity(n, {});
		s.retire(n);
	}
	CHECK(s.identity(first));	// the last one kept
	std::string one_more = s.new_host_name();
	s.set_identity(one_more, {});
	s.retire(one_more);
	CHECK_FALSE(s.identity(first));
	CHECK(s.identity(one_more));
	CHECK_FALSE(s.identity(s.new_host_name()));	// never known
}

TEST_CASE("an abstract name is taken while its socket lives")
{
	SocketSpace s;
	std::string name("\0guest", 6);
	auto life = std::make_shared<int>(1);
	auto sock = stand_in(life);
	REQUIRE(s.bind_abstract(name, sock));
	CHECK(s.find_abstract(name) == sock);
	auto again = s.bind_abstract(name, stand_in(std::make_shared<int>(2)));
	REQUIRE_FALSE(again);
	CHECK(again.error() == EADDRINUSE);
	CHECK_FALSE(s.find_abstract(std::string("\0guesT", 6)));

	sock.reset();
	life.reset();
	CHECK_FALSE(s.find_abstract(name));
	auto life2 = std::make_shared<int>(3);
	CHECK(s.bind_abstract(name, stand_in(life2)));
}

TEST_CASE("autobind: five hex digits, none taken twice")
{
	SocketSpace s;
	std::set<std::string> taken;
	std::vector<std::shared_ptr<int>> lives;
	for (int i = 0; i < 64; i++) {
		auto n = s.autobind_name();
		REQUIRE(n);
		REQUIRE(n->size() == 6);
		CHECK((*n)[0] == '\0');
		CHECK(n->find_first_not_of("0123456789abcdef", 1) == std::string::npos);
		CHECK(taken.insert(*n).second);
		lives.push_back(std::make_shared<int>(i));
		REQUIRE(s.bind_abstract(*n, stand_in(lives.back())));
	}
}

TEST_CASE("sockets by host inode and by socket file")
{
	SocketSpace s;
	auto life = std::make_shared<int>(1);
	auto sock = stand_in(life);
	s.add(42, sock);
	s.bind_path(5, 77, nullptr, sock);
	CHECK(s.find(42) == sock);
	CHECK(s.find_path(5, 77) == sock);
	CHECK_FALSE(s.find_path(5, 78));
	CHECK_FALSE(s.find(43));
	sock.reset();
	life.reset();
	CHECK_FALSE(s.find(42));
	CHECK_FALSE(s.find_path(5, 77));
	s.remove(42);
	s.forget_gone();
	CHECK_FALSE(s.find(42));
}

}
