// SPDX-License-Identifier: GPL-2.0
#include "host/thread.hpp"

#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include "host/result.hpp"

namespace guest::host {

using namespace detail;

pid_t gettid() noexcept
{
	return ::gettid();
}

KResult<void> kill_thread(pthread_t thread, int signo)
{
	// pthread_kill returns the error rather than setting errno.
	if (int e = ::pthread_kill(thread, signo))
		return kerr(e);
	return {};
}

void thread_sigmask(int how, const sigset_t& set) noexcept
{
	::pthread_sigmask(how, &set, nullptr);
}

KResult<void> catch_signal(int signo)
{
	struct sigaction sa {};
	sa.sa_handler = [](int) {};
	sigemptyset(&sa.sa_mask);
	return void_result(::sigaction(signo, &sa, nullptr));
}

KResult<void> ignore_signal(int signo)
{
	if (::signal(signo, SIG_IGN) == SIG_ERR)
		return kerr(errno);
	return {};
}

void raise_default(int signo)
{
	struct sigaction dfl {}, old;
	dfl.sa_handler = SIG_DFL;
	::sigaction(signo, &dfl, &old);
	sigset_t one;
	sigemptyset(&one);
	sigaddset(&one, signo);
	::pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
	::raise(signo);	// ends unpriv-run, or stops it until SIGCONT
	::pthread_sigmask(SIG_BLOCK, &one, nullptr);
	::sigaction(signo, &old, nullptr);
}

KResult<int> sigwait(const sigset_t& set, siginfo_t *si)
{
	for (;;) {
		int signo = ::sigwaitinfo(&set, si);
		if (signo >= 0)
			return signo;
		if (errno != EINTR)
			return kerr(errno);
	}
}

void yield() noexcept
{
	::sched_yield();
}

KResult<void> set_nice(pid_t tid, int nice)
{
	return void_result(::setpriority(PRIO_PROCESS, static_cast<id_t>(tid), nice));
}

} // namespace guest::host
