// SPDX-License-Identifier: GPL-2.0
//
// The guest's terminals and job control, as Linux's tty_jobctrl.c: each
// host terminal the guest port was handed is the controlling terminal of
// a guest session, with a foreground process group of the guest's own.
// The host terminal's own foreground group and session never change: a
// guest shell's job control moves the guest's.  Under tasks_lock_, with
// the process groups and sessions.  The host terminal's signals for its
// keys reach the guest's foreground group through unpriv-run
// (terminal_signals_main()).
#include <pthread.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include "kernel.hpp"
#include "host/thread.hpp"
#include "host/tty.hpp"

namespace guest {

KResult<int> Kernel::tty_getpgrp(Task& t, dev_t tty)
{
	std::lock_guard lock(tasks_lock_);
	if (t.process().ctty != tty)
		return kerr(ENOTTY);
	return ttys_[tty].pgrp;
}

KResult<int> Kernel::tty_getsid(Task& t, dev_t tty)
{
	std::lock_guard lock(tasks_lock_);
	int sid = ttys_[tty].sid;
	if (t.process().ctty != tty || !sid)
		return kerr(ENOTTY);
	return sid;
}

SysKResult<void> Kernel::tty_setpgrp(Task& t, dev_t tty, int pgrp)
{
	if (auto ok = tty_check(t, tty, SIGTTOU); !ok)
		return kerr(ok.error().err() == EIO ? SysError(ENOTTY) : ok.error());
	Process& self = t.process();
	std::lock_guard lock(tasks_lock_);
	Terminal& term = ttys_[tty];
	if (self.ctty != tty || term.sid != self.sid)
		return kerr(ENOTTY);
	if (pgrp < 0)
		return kerr(EINVAL);
	bool found = false, same_session = false;
	// A zombie still holds its group's id, as its pid.
	for (auto& [n, q] : procs_) {
		if (q->pgid != pgrp)
			continue;
		found = true;
		same_session |= q->sid == self.sid;
	}
	if (!found)
		return kerr(ESRCH);
	if (!same_session)
		return kerr(EPERM);
	term.pgrp = pgrp;
	return {};
}

KResult<void> Kernel::tty_setctty(Task& t, dev_t tty, bool readable, int steal)
{
	Process& self = t.process();
	std::lock_guard lock(tasks_lock_);
	Terminal& term = ttys_[tty];
	bool leader = self.sid == self.pid;
	if (leader && term.sid == self.sid)
		return {};
	if (!leader || self.ctty)
		return kerr(EPERM);
	// Another session's: taken from it only by the superuser, asking
	// to.
	bool admin = self.cred.euid == 0;
	if (term.sid) {
		if (steal != 1 || !admin)
			return kerr(EPERM);
		for (auto& [n, q] : procs_)
			if (q->sid == term.sid && q->ctty == tty)
				q->ctty = 0;
	}
	if (!readable && !admin)
		return kerr(EPERM);
	term.sid = self.sid;
	term.pgrp = self.pgid;
	self.ctty = tty;
	return {};
}

KResult<void> Kernel::tty_noctty(Task& t, dev_t tty)
{
	Process& self = t.process();
	std::lock_guard lock(tasks_lock_);
	if (self.ctty != tty)
		return kerr(ENOTTY);
	if (self.sid == self.pid)
		disassociate_locked(self);
	self.ctty = 0;
	return {};
}

void Kernel::disassociate_locked(Process& leader)
{
	auto it = ttys_.find(leader.ctty);
	if (it == ttys_.end() || it->second.sid != leader.sid)
		return;
	int pgrp = it->second.pgrp;
	it->second.sid = it->second.pgrp = 0;
	for (auto& [n, q] : procs_) {
		if (pgrp && q->pgid == pgrp && q.get() != &leader) {
			signal_locked(*q, SIGHUP);
			signal_locked(*q, SIGCONT);
		}
		if (q->sid == leader.sid)
			q->ctty = 0;
	}
}

std::shared_ptr<File> Kernel::controlling_terminal(Task& t)
{
	std::lock_guard lock(tasks_lock_);
	dev_t tty = t.process().ctty;
	if (!tty)
		return nullptr;
	auto it = ttys_.find(tty);
	return it != ttys_.end() ? it->second.file : nullptr;
}

bool Kernel::orphaned_pgrp_locked(int pgrp)
{
	for (auto& [n, q] : procs_) {
		if (q->pgid != pgrp || q->state == Process::State::zombie)
			continue;
		Process *parent = q->parent;
		if (parent && parent->pgid != pgrp && parent->sid == q->sid)
			return false;
	}
	return true;
}

SysKResult<void> Kernel::tty_check(Task& t, dev_t tty, int signo)
{
	Process& self = t.process();
	std::lock_guard lock(tasks_lock_);
	if (self.ctty != tty)
		return {};
	int fg = ttys_[tty].pgrp;
	if (!fg || fg == self.pgid)
		return {};
	const SigAction& a = self.sighand->actions[signo - 1];
	if ((t.blocked & sigbit(signo)) || a.handler == reinterpret_cast<std::uint64_t>(SIG_IGN))
		return signo == SIGTTIN ? SysKResult<void>(kerr(EIO)) : SysKResult<void>{};
	if (orphaned_pgrp_locked(self.pgid))
		return kerr(EIO);
	for (auto& [n, q] : procs_)
		if (q->pgid == self.pgid)
			signal_locked(*q, SigInfo::from_process(signo, SI_KERNEL, 0, 0), 0);
	return kerr(SysResult::restart_sys());
}


const sigset_t& Kernel::terminal_signals()
{
	static const sigset_t set = [] {
		sigset_t s;
		sigemptyset(&s);
		for (int signo : {SIGINT, SIGQUIT, SIGTSTP, SIGWINCH})
			sigaddset(&s, signo);
		return s;
	}();
	return set;
}

void Kernel::terminal_signals_main(const std::atomic<bool>& done)
{
	for (;;) {
		siginfo_t si;
		auto got = host::sigwait(terminal_signals(), &si);
		if (done)
			return;
		if (!got)
			continue;
		int signo = *got;
		// The terminal's own (n_tty's kill_pgrp(): SI_KERNEL), for
		// the guest's foreground group there.
		if (si.si_code == SI_KERNEL) {
			std::lock_guard lock(tasks_lock_);
			bool sent = false;
			for (auto& [dev, term] : ttys_) {
				if (!term.sid || !term.pgrp || !term.file)
					continue;
				auto fg = host::tcgetpgrp(term.file->host_fd());
				if (!fg || *fg != host::getpgrp())
					continue;
				if (signo != SIGWINCH && init_ && term.pgrp == init_->pgid &&
				    init_->sighand->actions[signo - 1].handler == 0)
					continue;
				for (auto& [n, q] : procs_)
					if (q->pgid == term.pgrp)
						signal_locked(*q, SigInfo::from_process(signo, SI_KERNEL, 0, 0), 0);
				sent = true;
			}
			if (sent)
				continue;
		}
		// unpriv-run's own: its default action, on this thread.
		if (signo == SIGWINCH)
			continue;
		host::raise_default(signo);
	}
}

} // namespace guest
