// SPDX-License-Identifier: GPL-2.0
#include "sched.hpp"

#include <algorithm>

namespace guest {

CpuScheduler::CpuScheduler(unsigned cpus, Clock::duration slice)
	: cpus_(std::clamp(cpus, 1u, max_cpus)), slice_(slice), free_(cpus_)
{
}

void CpuScheduler::grant_locked(Slot& s)
{
	s.state = Slot::State::running;
	s.since = Clock::now();
	s.kicked = false;
	holders_.push_back(&s);
}

bool CpuScheduler::acquire(Slot& s)
{
	{
		std::lock_guard lock(lock_);
		if (s.state == Slot::State::running)
			return true;
		if (free_ && queue_.empty()) {
			free_--;
			grant_locked(s);
			return true;
		}
		s.state = Slot::State::queued;
		queue_.push_back(&s);
		stats_.waits++;
	}
	for (;;) {
		// A grant, or a new first place, after this is not lost:
		// block() returns at once (wait.hpp's protocol).
		s.waiter.prepare();
		Deadline deadline;
		{
			std::lock_guard lock(lock_);
			if (s.state == Slot::State::running)
				return true;
			// The first waiter watches the holders' slices.
			if (queue_.front() == &s)
				deadline = preempt_locked(Clock::now());
		}
		if (s.waiter.block(deadline) != Waiter::Wake::interrupted)
			continue;
		std::lock_guard lock(lock_);
		// Granted before the interrupt was seen: it is ours.
		if (s.state == Slot::State::running)
			return true;
		remove_locked(s);
		return false;
	}
}

void CpuScheduler::remove_locked(Slot& s)
{
	bool first = queue_.front() == &s;
	queue_.erase(std::find(queue_.begin(), queue_.end(), &s));
	s.state = Slot::State::idle;
	// The next one watches the slices now.
	if (first && !queue_.empty())
		queue_.front()->waiter.notify();
}

void CpuScheduler::exit(Slot& s, bool keep)
{
	std::lock_guard lock(lock_);
	if (keep && !s.kicked && (queue_.empty() || Clock::now() < s.since + slice_))
		return;
	release_locked(s);
}

void CpuScheduler::release(Slot& s)
{
	std::lock_guard lock(lock_);
	if (s.state == Slot::State::running)
		release_locked(s);
}

void CpuScheduler::release_locked(Slot& s)
{
	std::erase(holders_, &s);
	s.state = Slot::State::idle;
	if (queue_.empty()) {
		free_++;
		return;
	}
	Slot& next = *queue_.front();
	queue_.pop_front();
	grant_locked(next);
	next.waiter.notify();
	if (!queue_.empty())
		queue_.front()->waiter.notify();
}

Deadline CpuScheduler::preempt_locked(Clock::time_point now)
{
	Deadline next;
	for (Slot *h : holders_) {
		if (h->kicked)
			continue;
		Clock::time_point end = h->since + slice_;
		if (end <= now) {
			h->kicked = true;
			stats_.preemptions++;
			h->kick();
		} else if (!next || end < *next) {
			next = end;
		}
	}
	return next;
}

CpuScheduler::Stats CpuScheduler::stats()
{
	std::lock_guard lock(lock_);
	return stats_;
}

unsigned CpuScheduler::running()
{
	std::lock_guard lock(lock_);
	return static_cast<unsigned>(holders_.size());
}

std::size_t CpuScheduler::queued()
{
	std::lock_guard lock(lock_);
	return queue_.size();
}

} // namespace guest
