// SPDX-License-Identifier: GPL-2.0
//
// host::  the guest port's host threads and their signals: ids, the
// interrupt (a signal to a thread), masks and handlers, priorities.
//
// EINTR: sigwait() is the terminal signal thread's own wait, the guest
// port's and not the guest's: it waits again.  The others do not wait.
#pragma once

#include <pthread.h>
#include <signal.h>
#include <sys/types.h>

#include "common.hpp"

namespace guest::host {

// The calling thread's host tid.
[[nodiscard]] pid_t gettid() noexcept;
// A signal for thread (pthread_kill(3)): ESRCH when it is gone.
KResult<void> kill_thread(pthread_t thread, int signo);
// pthread_sigmask(3) of the calling thread: how is SIG_BLOCK,
// SIG_UNBLOCK or SIG_SETMASK.
void thread_sigmask(int how, const sigset_t& set) noexcept;
// The process's handler of signo: a function that does nothing, without
// SA_RESTART (so that a blocking host call fails with EINTR).
KResult<void> catch_signal(int signo);
// Ignore signo, process-wide (SIGPIPE: a broken pipe is an EPIPE).
KResult<void> ignore_signal(int signo);
// signo's default action for unpriv-run itself, on the calling thread,
// where signo is blocked: the default handler put back, signo unblocked
// and raised (which ends the process, or stops it until SIGCONT), then
// the old handler and the mask again.
void raise_default(int signo);
// The next of set's signals (blocked on the calling thread), its info
// in *si.
KResult<int> sigwait(const sigset_t& set, siginfo_t *si);
// sched_yield(2).
void yield() noexcept;
// setpriority(2) of a host thread or process.
KResult<void> set_nice(pid_t tid, int nice);

} // namespace guest::host
