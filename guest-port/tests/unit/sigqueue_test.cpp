// SPDX-License-Identifier: GPL-2.0
//
// SigPending: a standard signal pending once whatever how often sent,
// real-time signals queued in order with their information, a signal's
// bit gone with its last, discard.
#include <doctest/doctest.h>

#include <signal.h>

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
