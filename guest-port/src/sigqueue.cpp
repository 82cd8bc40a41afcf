// SPDX-License-Identifier: GPL-2.0
#include "sigqueue.hpp"

#include <signal.h>

#include <algorithm>

namespace guest {

SigInfo SigInfo::from_process(int signo, int code, int pid, std::uint32_t uid) noexcept
{
	SigInfo info;
	info.signo = signo;
	info.code = code;
	info.f.kill.pid = pid;
	info.f.kill.uid = uid;
	return info;
}

bool SigPending::add(const SigInfo& info)
{
	std::uint64_t bit = sigbit(info.signo);
	bool rt = info.signo >= sigrtmin;
	if (!rt && (set & bit))
		return false;
	set |= bit;
	if (rt && queued_rt_ >= max_queued_rt)
		return true;
	queue.push_back(info);
	queued_rt_ += rt;
	return true;
}

SigInfo SigPending::take(int signo)
{
	auto it = std::find_if(queue.begin(), queue.end(),
			       [&](const SigInfo& i) { return i.signo == signo; });
	SigInfo info;
	if (it == queue.end()) {
		info.signo = signo;
	} else {
		info = *it;
		queue.erase(it);
		queued_rt_ -= signo >= sigrtmin;
	}
	if (std::none_of(queue.begin(), queue.end(),
			 [&](const SigInfo& i) { return i.signo == signo; }))
		set &= ~sigbit(signo);
	return info;
}

void SigPending::discard(std::uint64_t mask)
{
	set &= ~mask;
	std::erase_if(queue, [&](const SigInfo& i) { return mask & sigbit(i.signo); });
	queued_rt_ = static_cast<std::size_t>(std::count_if(
		queue.begin(), queue.end(), [](const SigInfo& i) { return i.signo >= sigrtmin; }));
}

void SigPending::remove_timer(int id)
{
	auto it = std::find_if(queue.begin(), queue.end(), [&](const SigInfo& i) {
		return i.code == SI_TIMER && i.f.timer.tid == id;
	});
	if (it == queue.end())
		return;
	int signo = it->signo;
	queue.erase(it);
	queued_rt_ -= signo >= sigrtmin;
	if (std::none_of(queue.begin(), queue.end(),
			 [&](const SigInfo& i) { return i.signo == signo; }))
		set &= ~sigbit(signo);
}

} // namespace guest
