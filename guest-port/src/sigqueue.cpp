// SPDX-License-Identifier: GPL-2.0
#include "sigqueue.hpp"

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
	if (info.signo < sigrtmin && (set & bit))
		return false;
	set |= bit;
	queue.push_back(info);
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
}

std::size_t SigPending::queued_rt() const noexcept
{
	return static_cast<std::size_t>(std::count_if(
		queue.begin(), queue.end(), [](const SigInfo& i) { return i.signo >= sigrtmin; }));
}

} // namespace guest
