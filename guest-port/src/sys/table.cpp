// SPDX-License-Identifier: GPL-2.0
#include <sys/syscall.h>

#include <algorithm>
#include <utility>

#include "sys/handlers.hpp"

namespace guest {
namespace {

// The x86-64 system call names, generated from <asm/unistd_64.h>.
constexpr std::pair<unsigned, const char *> names[] = {
#include "syscall_names.inc"
};

constexpr unsigned table_size = 512;

constexpr auto make_table()
{
	std::array<SyscallEntry, table_size> t{};
	using enum Arg;

	auto set = [&](unsigned nr, const char *name,
		       SysResult (*fn)(Task&, const SysArgs&),
		       std::array<Arg, 6> args, Ret ret = Ret::dec) {
		t[nr] = {name, fn, args, ret};
	};
#define SYS(name, ...) set(__NR_##name, #name, sys_##name, {__VA_ARGS__})
#define SYS_RET(name, ret, ...) set(__NR_##name, #name, sys_##name, {__VA_ARGS__}, ret)

	// memory
	SYS_RET(brk, Ret::hex, ptr);
	SYS_RET(mmap, Ret::hex, ptr, udec, prot, mapflags, fd, hex);
	SYS(munmap, ptr, udec);
	SYS(mprotect, ptr, udec, prot);
	SYS_RET(mremap, Ret::hex, ptr, udec, udec, hex, ptr);
	SYS(msync, ptr, udec, hex);
	SYS(madvise, ptr, udec, dec);

	// I/O
	SYS(read, fd, outbuf, udec);
	SYS(write, fd, inbuf, udec);
	SYS(readv, fd, ptr, dec);
	SYS(writev, fd, ptr, dec);
	SYS(pread64, fd, outbuf, udec, dec);
	SYS(pwrite64, fd, inbuf, udec, dec);
	SYS(preadv, fd, ptr, dec, dec);
	SYS(pwritev, fd, ptr, dec, dec);
	SYS(lseek, fd, dec, dec);
	SYS(sendfile, fd, fd, ptr, udec);

	// descriptors
	SYS(close, fd);
	SYS(dup, fd);
	SYS(dup2, fd, fd);
	SYS(dup3, fd, fd, oflags);
	SYS(close_range, udec, udec, hex);
	SYS(fcntl, fd, dec, hex);
	SYS(ioctl, fd, hex, hex);
	SYS(fstat, fd, ptr);
	SYS(getdents64, fd, ptr, udec);
	SYS(fchmod, fd, oct);
	SYS(fchown, fd, dec, dec);
	SYS(ftruncate, fd, dec);
	SYS(fsync, fd);
	SYS(fdatasync, fd);
	SYS(fstatfs, fd, ptr);
	SYS(fadvise64, fd, dec, dec, dec);
	SYS(flock, fd, dec);
	SYS(fchdir, fd);
	SYS(pipe, ptr);
	SYS(pipe2, ptr, oflags);

	// names
	SYS(open, path, oflags, omode);
	SYS(openat, atfd, path, oflags, omode);
	SYS(creat, path, oct);
	SYS(stat, path, ptr);
	SYS(lstat, path, ptr);
	SYS(newfstatat, atfd, path, ptr, hex);
	SYS(statx, atfd, path, hex, hex, ptr);
	SYS(readlink, path, outbuf, udec);
	SYS(readlinkat, atfd, path, outbuf, udec);
	SYS(access, path, dec);
	SYS(faccessat, atfd, path, dec);
	SYS(faccessat2, atfd, path, dec, hex);
	SYS(mkdir, path, oct);
	SYS(mkdirat, atfd, path, oct);
	SYS(mknod, path, oct, hex);
	SYS(mknodat, atfd, path, oct, hex);
	SYS(unlink, path);
	SYS(rmdir, path);
	SYS(unlinkat, atfd, path, hex);
	SYS(rename, path, path);
	SYS(renameat, atfd, path, atfd, path);
	SYS(renameat2, atfd, path, atfd, path, hex);
	SYS(symlink, path, path);
	SYS(symlinkat, path, atfd, path);
	SYS(link, path, path);
	SYS(linkat, atfd, path, atfd, path, hex);
	SYS(chmod, path, oct);
	SYS(fchmodat, atfd, path, oct);
	SYS(chown, path, dec, dec);
	SYS(lchown, path, dec, dec);
	SYS(fchownat, atfd, path, dec, dec, hex);
	SYS(utimensat, atfd, path, ptr, hex);
	SYS(utimes, path, ptr);
	SYS(truncate, path, dec);
	SYS(statfs, path, ptr);
	SYS(chdir, path);
	SYS(getcwd, outbuf, udec);

	// waiting
	SYS(poll, ptr, udec, dec);
	SYS(ppoll, ptr, udec, ptr, ptr, udec);
	SYS(select, dec, ptr, ptr, ptr, ptr);
	SYS(pselect6, dec, ptr, ptr, ptr, ptr, ptr);
	SYS(epoll_create, dec);
	SYS(epoll_create1, hex);
	SYS(epoll_ctl, fd, dec, fd, ptr);
	SYS(epoll_wait, fd, ptr, dec, dec);
	SYS(epoll_pwait, fd, ptr, dec, dec, ptr, udec);
	SYS(epoll_pwait2, fd, ptr, dec, ptr, ptr, udec);
	SYS(eventfd, udec);
	SYS(eventfd2, udec, hex);
	SYS(timerfd_create, dec, hex);
	SYS(timerfd_settime, fd, hex, ptr, ptr);
	SYS(timerfd_gettime, fd, ptr);
	SYS(signalfd, dec, ptr, udec);
	SYS(signalfd4, dec, ptr, udec, hex);

	// sockets
	SYS(socket, dec, hex, dec);
	SYS(socketpair, dec, hex, dec, ptr);
	SYS(bind, fd, ptr, udec);
	SYS(listen, fd, dec);
	SYS(accept, fd, ptr, ptr);
	SYS(accept4, fd, ptr, ptr, hex);
	SYS(connect, fd, ptr, udec);
	SYS(getsockname, fd, ptr, ptr);
	SYS(getpeername, fd, ptr, ptr);
	SYS(sendto, fd, inbuf, udec, hex, ptr, udec);
	SYS(recvfrom, fd, outbuf, udec, hex, ptr, ptr);
	SYS(sendmsg, fd, ptr, hex);
	SYS(recvmsg, fd, ptr, hex);
	SYS(sendmmsg, fd, ptr, udec, hex);
	SYS(recvmmsg, fd, ptr, udec, hex, ptr);
	SYS(shutdown, fd, dec);
	SYS(getsockopt, fd, dec, dec, ptr, ptr);
	SYS(setsockopt, fd, dec, dec, ptr, udec);

	// processes
	SYS_RET(exit, Ret::none, dec);
	SYS_RET(exit_group, Ret::none, dec);
	SYS(getpid);
	SYS(getppid);
	SYS(gettid);
	SYS(getpgrp);
	SYS(getpgid, dec);
	SYS(getsid, dec);
	SYS(set_tid_address, ptr);
	SYS(futex, ptr, hex, udec, ptr, ptr, hex);
	SYS(set_robust_list, ptr, udec);
	SYS(get_robust_list, dec, ptr, ptr);
	SYS(rseq, ptr, udec, hex, hex);
	SYS(arch_prctl, hex, hex);
	SYS(prctl, dec, hex, hex, hex, hex);
	SYS(prlimit64, dec, dec, ptr, ptr);
	SYS(getrlimit, dec, ptr);
	SYS(setrlimit, dec, ptr);
	SYS(sched_yield);
	SYS(umask, oct);
	SYS(fork);
	SYS(vfork);
	SYS(clone, hex, ptr, ptr, ptr, ptr);
	SYS(clone3, ptr, udec);
	SYS(execve, path, ptr, ptr);
	SYS(wait4, dec, ptr, hex, ptr);
	SYS(waitid, dec, dec, ptr, hex, ptr);
	SYS(kill, dec, dec);
	SYS(tkill, dec, dec);
	SYS(tgkill, dec, dec, dec);
	SYS(setpgid, dec, dec);
	SYS(setsid);
	SYS(unshare, hex);

	// signals
	SYS(rt_sigaction, dec, ptr, ptr, udec);
	SYS(rt_sigprocmask, dec, ptr, ptr, udec);
	SYS(rt_sigpending, ptr, udec);
	SYS(rt_sigsuspend, ptr, udec);
	SYS(pause);
	SYS_RET(rt_sigreturn, Ret::none);
	SYS(rt_sigtimedwait, ptr, ptr, ptr, udec);
	SYS(rt_sigqueueinfo, dec, dec, ptr);
	SYS(rt_tgsigqueueinfo, dec, dec, dec, ptr);
	SYS(sigaltstack, ptr, ptr);

	// identity
	SYS(getuid);
	SYS(geteuid);
	SYS(getgid);
	SYS(getegid);
	SYS(getresuid, ptr, ptr, ptr);
	SYS(getresgid, ptr, ptr, ptr);
	SYS(getgroups, dec, ptr);
	SYS(setuid, dec);
	SYS(setgid, dec);
	SYS(setreuid, dec, dec);
	SYS(setregid, dec, dec);
	SYS(setresuid, dec, dec, dec);
	SYS(setresgid, dec, dec, dec);
	SYS(setfsuid, dec);
	SYS(setfsgid, dec);
	SYS(setgroups, dec, ptr);

	// the system
	SYS(uname, ptr);
	SYS(sysinfo, ptr);
	SYS(getrandom, outbuf, udec, hex);

	// resources
	SYS(getrusage, dec, ptr);
	SYS(times, ptr);
	SYS(getpriority, dec, dec);
	SYS(setpriority, dec, dec, dec);
	SYS(sched_getaffinity, dec, udec, ptr);
	SYS(sched_setaffinity, dec, udec, ptr);

	// extended attributes
	SYS(getxattr, path, path, ptr, udec);
	SYS(lgetxattr, path, path, ptr, udec);
	SYS(fgetxattr, fd, path, ptr, udec);
	SYS(listxattr, path, ptr, udec);
	SYS(llistxattr, path, ptr, udec);
	SYS(flistxattr, fd, ptr, udec);
	SYS(setxattr, path, path, ptr, udec, hex);
	SYS(lsetxattr, path, path, ptr, udec, hex);
	SYS(fsetxattr, fd, path, ptr, udec, hex);
	SYS(removexattr, path, path);
	SYS(lremovexattr, path, path);
	SYS(fremovexattr, fd, path);

	// time
	SYS(clock_gettime, dec, ptr);
	SYS(clock_getres, dec, ptr);
	SYS(gettimeofday, ptr, ptr);
	SYS(time, ptr);
	SYS(nanosleep, ptr, ptr);
	SYS(clock_nanosleep, dec, hex, ptr, ptr);
	SYS(restart_syscall);
	SYS(getitimer, dec, ptr);
	SYS(setitimer, dec, ptr, ptr);
	SYS(alarm, udec);
	SYS(timer_create, dec, ptr, ptr);
	SYS(timer_settime, dec, hex, ptr, ptr);
	SYS(timer_gettime, dec, ptr);
	SYS(timer_getoverrun, dec);
	SYS(timer_delete, dec);

#undef SYS
#undef SYS_RET
	return t;
}

constexpr auto table = make_table();

} // namespace

const SyscallEntry *syscall_entry(std::uint64_t nr)
{
	return nr < table.size() ? &table[nr] : nullptr;
}

const char *syscall_name(std::uint64_t nr)
{
	auto it = std::find_if(std::begin(names), std::end(names),
			       [nr](const auto& e) { return e.first == nr; });
	return it != std::end(names) ? it->second : nullptr;
}

} // namespace guest
