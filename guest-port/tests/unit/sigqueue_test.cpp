// SPDX-License-Identifier: GPL-2.0
//
// SigPending: a standard signal pending once whatever how often sent,
// real-time signals queued in order with their information, a signal's
// bit gone with its last, discard.  SigInfo::to_signalfd(): the fields
// of each siginfo layout.
#include <doctest/doctest.h>

#include <signal.h>

#include <cstring>
#include <initializer_list>

#include "sigqueue.hpp"

using guest::sigbit;
using guest::SigInfo;
using guest::SigPending;

namespace {

SigInfo queued(int signo, std::uint64_t value)
{
	SigInfo i = SigInfo::from_process(signo, SI_QUEUE, 7, 1000);
	i.f.kill.value = value;
	return i;
}

} // namespace

TEST_SUITE("SigPending") {

TEST_CASE("a standard signal is pending once, with its first information")
{
	SigPending p;
	CHECK(p.add(queued(SIGUSR1, 1)));
	CHECK_FALSE(p.add(queued(SIGUSR1, 2)));
	CHECK(p.set == sigbit(SIGUSR1));
	SigInfo i = p.take(SIGUSR1);
	CHECK(i.signo == SIGUSR1);
	CHECK(i.f.kill.value == 1);
	CHECK(i.f.kill.pid == 7);
	CHECK(p.set == 0);
	CHECK(p.queue.empty());
	// Taken, it may be sent again.
	CHECK(p.add(queued(SIGUSR1, 3)));
}

TEST_CASE("real-time signals queue in order; the bit goes with the last")
{
	SigPending p;
	const int rt = 34;
	for (std::uint64_t v = 1; v <= 3; v++)
		CHECK(p.add(queued(rt, v)));
	CHECK(p.add(queued(SIGUSR2, 9)));
	CHECK(p.queued_rt() == 3);
	CHECK(p.take(rt).f.kill.value == 1);
	CHECK(p.take(rt).f.kill.value == 2);
	CHECK(p.set == (sigbit(rt) | sigbit(SIGUSR2)));
	CHECK(p.take(rt).f.kill.value == 3);
	CHECK(p.set == sigbit(SIGUSR2));
	CHECK(p.queued_rt() == 0);
	CHECK(p.take(SIGUSR2).f.kill.value == 9);
	CHECK(p.set == 0);
}

TEST_CASE("discard forgets the signals of a mask, and only those")
{
	SigPending p;
	p.add(queued(SIGUSR1, 1));
	p.add(queued(35, 2));
	p.add(queued(35, 3));
	p.add(queued(SIGTERM, 4));
	p.discard(sigbit(35) | sigbit(SIGUSR1));
	CHECK(p.set == sigbit(SIGTERM));
	REQUIRE(p.queue.size() == 1);
	CHECK(p.queue.front().signo == SIGTERM);
}

TEST_CASE("past the limit, a real-time signal is pending without its information")
{
	SigPending p;
	const int rt = 40;
	std::size_t added = 0;
	for (std::size_t i = 0; i < SigPending::max_queued_rt; i++)
		added += p.add(queued(rt, i));
	CHECK(added == SigPending::max_queued_rt);
	CHECK(p.add(queued(rt + 1, 99)));
	CHECK(p.queued_rt() == SigPending::max_queued_rt);
	CHECK(p.set == (sigbit(rt) | sigbit(rt + 1)));
	SigInfo i = p.take(rt + 1);
	CHECK(i.signo == rt + 1);
	CHECK(i.code == 0);
	CHECK(p.set == sigbit(rt));
	p.discard(sigbit(rt));
	CHECK(p.queued_rt() == 0);
	CHECK(p.set == 0);
}

TEST_CASE("a deleted timer's signal goes, another's stays")
{
	SigPending p;
	SigInfo a, b;
	a.signo = b.signo = 36;
	a.code = b.code = SI_TIMER;
	a.f.timer.tid = 1;
	b.f.timer.tid = 2;
	p.add(a);
	p.add(b);
	p.remove_timer(1);
	CHECK(p.set == sigbit(36));
	CHECK(p.take(36).f.timer.tid == 2);
	p.add(a);
	p.remove_timer(1);
	CHECK(p.set == 0);
	CHECK(p.queued_rt() == 0);
}

TEST_CASE("a signal taken without information has its number")
{
	SigPending p;
	p.set = sigbit(SIGHUP);
	SigInfo i = p.take(SIGHUP);
	CHECK(i.signo == SIGHUP);
	CHECK(i.code == 0);
	CHECK(p.set == 0);
}

}

TEST_SUITE("SigInfo::to_signalfd") {

// A signal's information as the kernel lays it out in siginfo_t.
SigInfo raw(int signo, int code, std::initializer_list<std::pair<std::size_t, std::uint64_t>> at)
{
	SigInfo i;
	i.signo = signo;
	i.code = code;
	for (auto [off, v] : at)
		std::memcpy(i.f.raw + off, &v, sizeof(v));
	return i;
}

TEST_CASE("kill and tkill: pid and uid; a kernel's: none")
{
	auto s = SigInfo::from_process(SIGTERM, SI_USER, 42, 1000).to_signalfd();
	CHECK(s.ssi_signo == SIGTERM);
	CHECK(s.ssi_code == SI_USER);
	CHECK(s.ssi_pid == 42);
	CHECK(s.ssi_uid == 1000);
	CHECK(s.ssi_int == 0);
	s = SigInfo::from_process(SIGINT, SI_KERNEL, 0, 0).to_signalfd();
	CHECK(s.ssi_code == SI_KERNEL);
	CHECK(s.ssi_pid == 0);
}

TEST_CASE("sigqueue: pid, uid, and the value as ssi_int and ssi_ptr")
{
	SigInfo i = queued(SIGRTMIN + 1, 0x1234567800000042ull);
	auto s = i.to_signalfd();
	CHECK(s.ssi_code == SI_QUEUE);
	CHECK(s.ssi_pid == 7);
	CHECK(s.ssi_uid == 1000);
	CHECK(s.ssi_int == 0x42);
	CHECK(s.ssi_ptr == 0x1234567800000042ull);
	// tkill's is of that layout too (SI_TKILL < 0).
	CHECK(SigInfo::from_process(SIGUSR1, SI_TKILL, 9, 1).to_signalfd().ssi_pid == 9);
}

TEST_CASE("a POSIX timer: its id, overruns and value")
{
	SigInfo i;
	i.signo = SIGALRM;
	i.code = SI_TIMER;
	i.f.timer = {3, 5, 77};
	auto s = i.to_signalfd();
	CHECK(s.ssi_tid == 3);
	CHECK(s.ssi_overrun == 5);
	CHECK(s.ssi_int == 77);
	CHECK(s.ssi_ptr == 77);
	CHECK(s.ssi_pid == 0);
}

TEST_CASE("SIGCHLD: pid, uid, status, times")
{
	SigInfo i;
	i.signo = SIGCHLD;
	i.code = CLD_EXITED;
	i.f.chld = {12, 1000, 3, 0, 40, 50};
	auto s = i.to_signalfd();
	CHECK(s.ssi_pid == 12);
	CHECK(s.ssi_uid == 1000);
	CHECK(s.ssi_status == 3);
	CHECK(s.ssi_utime == 40);
	CHECK(s.ssi_stime == 50);
}

TEST_CASE("faults: the address; SIGPOLL: band and fd; SIGSYS: the call")
{
	auto s = raw(SIGSEGV, SEGV_MAPERR, {{0, 0xdead000}}).to_signalfd();
	CHECK(s.ssi_addr == 0xdead000);
	CHECK(s.ssi_pid == 0);	// the same bytes, not a pid
	s = raw(SIGPOLL, POLL_IN, {{0, 1}, {8, 5}}).to_signalfd();
	CHECK(s.ssi_band == 1);
	CHECK(s.ssi_fd == 5);
	CHECK(s.ssi_pid == 0);
	s = raw(SIGSYS, 1, {{0, 0x401000}, {8, 0xc000003e0000003bull}}).to_signalfd();
	CHECK(s.ssi_call_addr == 0x401000);
	CHECK(s.ssi_syscall == 59);
	CHECK(s.ssi_arch == 0xc000003e);
	// A kernel code past a signal's own: SIGUSR1 with code 3 is
	// SIGPOLL's layout, as Linux's siginfo_layout() has it.
	s = raw(SIGUSR1, 3, {{0, 2}, {8, 4}}).to_signalfd();
	CHECK(s.ssi_band == 2);
	CHECK(s.ssi_fd == 4);
}

}
