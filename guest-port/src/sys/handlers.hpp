// SPDX-License-Identifier: GPL-2.0
//
// Every system call handler, one per system call, by family.  The
// table (table.cpp) names them; each family's file defines them.
#pragma once

#include <sys/resource.h>

#include "cputime.hpp"
#include "sys/syscall.hpp"

namespace guest {

// A struct rusage with CPU times (resource.cpp).
struct rusage to_rusage(const CpuTimes& cpu);

#define GUEST_SYSCALL(name) SysResult sys_##name(Task& t, const SysArgs& a)

// mm.cpp: memory
GUEST_SYSCALL(brk);
GUEST_SYSCALL(mmap);
GUEST_SYSCALL(munmap);
GUEST_SYSCALL(mprotect);
GUEST_SYSCALL(mremap);
GUEST_SYSCALL(msync);
GUEST_SYSCALL(madvise);

// io.cpp: reading and writing open files
GUEST_SYSCALL(read);
GUEST_SYSCALL(write);
GUEST_SYSCALL(readv);
GUEST_SYSCALL(writev);
GUEST_SYSCALL(pread64);
GUEST_SYSCALL(pwrite64);
GUEST_SYSCALL(preadv);
GUEST_SYSCALL(pwritev);
GUEST_SYSCALL(lseek);
GUEST_SYSCALL(sendfile);

// fd.cpp: descriptors, and the files they name
GUEST_SYSCALL(close);
GUEST_SYSCALL(dup);
GUEST_SYSCALL(dup2);
GUEST_SYSCALL(dup3);
GUEST_SYSCALL(close_range);
GUEST_SYSCALL(fcntl);
GUEST_SYSCALL(ioctl);
GUEST_SYSCALL(fstat);
GUEST_SYSCALL(getdents64);
GUEST_SYSCALL(fchmod);
GUEST_SYSCALL(fchown);
GUEST_SYSCALL(ftruncate);
GUEST_SYSCALL(fsync);
GUEST_SYSCALL(fdatasync);
GUEST_SYSCALL(fstatfs);
GUEST_SYSCALL(fadvise64);
GUEST_SYSCALL(flock);
GUEST_SYSCALL(fchdir);
GUEST_SYSCALL(pipe);
GUEST_SYSCALL(pipe2);

// fs.cpp: names in the file system
GUEST_SYSCALL(open);
GUEST_SYSCALL(openat);
GUEST_SYSCALL(creat);
GUEST_SYSCALL(stat);
GUEST_SYSCALL(lstat);
GUEST_SYSCALL(newfstatat);
GUEST_SYSCALL(statx);
GUEST_SYSCALL(readlink);
GUEST_SYSCALL(readlinkat);
GUEST_SYSCALL(access);
GUEST_SYSCALL(faccessat);
GUEST_SYSCALL(faccessat2);
GUEST_SYSCALL(mkdir);
GUEST_SYSCALL(mkdirat);
GUEST_SYSCALL(mknod);
GUEST_SYSCALL(mknodat);
GUEST_SYSCALL(unlink);
GUEST_SYSCALL(rmdir);
GUEST_SYSCALL(unlinkat);
GUEST_SYSCALL(rename);
GUEST_SYSCALL(renameat);
GUEST_SYSCALL(renameat2);
GUEST_SYSCALL(symlink);
GUEST_SYSCALL(symlinkat);
GUEST_SYSCALL(link);
GUEST_SYSCALL(linkat);
GUEST_SYSCALL(chmod);
GUEST_SYSCALL(fchmodat);
GUEST_SYSCALL(chown);
GUEST_SYSCALL(lchown);
GUEST_SYSCALL(fchownat);
GUEST_SYSCALL(utimensat);
GUEST_SYSCALL(utimes);
GUEST_SYSCALL(truncate);
GUEST_SYSCALL(statfs);
GUEST_SYSCALL(chdir);
GUEST_SYSCALL(getcwd);

// poll.cpp: waiting for descriptors
GUEST_SYSCALL(poll);
GUEST_SYSCALL(ppoll);
GUEST_SYSCALL(select);
GUEST_SYSCALL(pselect6);

// futex.cpp: futexes, and the robust list
GUEST_SYSCALL(futex);
GUEST_SYSCALL(set_robust_list);
GUEST_SYSCALL(get_robust_list);

// epoll.cpp: event files
GUEST_SYSCALL(epoll_create);
GUEST_SYSCALL(epoll_create1);
GUEST_SYSCALL(epoll_ctl);
GUEST_SYSCALL(epoll_wait);
GUEST_SYSCALL(epoll_pwait);
GUEST_SYSCALL(epoll_pwait2);
GUEST_SYSCALL(eventfd);
GUEST_SYSCALL(eventfd2);
GUEST_SYSCALL(timerfd_create);
GUEST_SYSCALL(timerfd_settime);
GUEST_SYSCALL(timerfd_gettime);
GUEST_SYSCALL(signalfd);
GUEST_SYSCALL(signalfd4);

// net.cpp: sockets (AF_UNIX)
GUEST_SYSCALL(socket);
GUEST_SYSCALL(socketpair);
GUEST_SYSCALL(bind);
GUEST_SYSCALL(listen);
GUEST_SYSCALL(accept);
GUEST_SYSCALL(accept4);
GUEST_SYSCALL(connect);
GUEST_SYSCALL(getsockname);
GUEST_SYSCALL(getpeername);
GUEST_SYSCALL(sendto);
GUEST_SYSCALL(recvfrom);
GUEST_SYSCALL(sendmsg);
GUEST_SYSCALL(recvmsg);
GUEST_SYSCALL(sendmmsg);
GUEST_SYSCALL(recvmmsg);
GUEST_SYSCALL(shutdown);
GUEST_SYSCALL(getsockopt);
GUEST_SYSCALL(setsockopt);

// proc.cpp: the process and its threads
GUEST_SYSCALL(exit);
GUEST_SYSCALL(exit_group);
GUEST_SYSCALL(getpid);
GUEST_SYSCALL(getppid);
GUEST_SYSCALL(gettid);
GUEST_SYSCALL(getpgrp);
GUEST_SYSCALL(getpgid);
GUEST_SYSCALL(getsid);
GUEST_SYSCALL(set_tid_address);
GUEST_SYSCALL(rseq);
GUEST_SYSCALL(arch_prctl);
GUEST_SYSCALL(prctl);
GUEST_SYSCALL(prlimit64);
GUEST_SYSCALL(getrlimit);
GUEST_SYSCALL(setrlimit);
GUEST_SYSCALL(sched_yield);
GUEST_SYSCALL(umask);
GUEST_SYSCALL(fork);
GUEST_SYSCALL(vfork);
GUEST_SYSCALL(clone);
GUEST_SYSCALL(clone3);
GUEST_SYSCALL(execve);
GUEST_SYSCALL(wait4);
GUEST_SYSCALL(waitid);
GUEST_SYSCALL(kill);
GUEST_SYSCALL(tkill);
GUEST_SYSCALL(tgkill);
GUEST_SYSCALL(setpgid);
GUEST_SYSCALL(setsid);
GUEST_SYSCALL(unshare);

// signal.cpp: signal dispositions, masks, and the handler's return
GUEST_SYSCALL(rt_sigaction);
GUEST_SYSCALL(rt_sigprocmask);
GUEST_SYSCALL(rt_sigpending);
GUEST_SYSCALL(rt_sigsuspend);
GUEST_SYSCALL(pause);
GUEST_SYSCALL(rt_sigreturn);
GUEST_SYSCALL(rt_sigtimedwait);
GUEST_SYSCALL(rt_sigqueueinfo);
GUEST_SYSCALL(rt_tgsigqueueinfo);
GUEST_SYSCALL(sigaltstack);

// cred.cpp: identity
GUEST_SYSCALL(getuid);
GUEST_SYSCALL(geteuid);
GUEST_SYSCALL(getgid);
GUEST_SYSCALL(getegid);
GUEST_SYSCALL(getresuid);
GUEST_SYSCALL(getresgid);
GUEST_SYSCALL(getgroups);
GUEST_SYSCALL(setuid);
GUEST_SYSCALL(setgid);
GUEST_SYSCALL(setreuid);
GUEST_SYSCALL(setregid);
GUEST_SYSCALL(setresuid);
GUEST_SYSCALL(setresgid);
GUEST_SYSCALL(setfsuid);
GUEST_SYSCALL(setfsgid);
GUEST_SYSCALL(setgroups);

// info.cpp: the system the guest sees
GUEST_SYSCALL(uname);
GUEST_SYSCALL(sysinfo);
GUEST_SYSCALL(getrandom);

// resource.cpp: CPU time, priority, CPUs
GUEST_SYSCALL(getrusage);
GUEST_SYSCALL(times);
GUEST_SYSCALL(getpriority);
GUEST_SYSCALL(setpriority);
GUEST_SYSCALL(sched_getaffinity);
GUEST_SYSCALL(sched_setaffinity);

// xattr.cpp: extended attributes
GUEST_SYSCALL(getxattr);
GUEST_SYSCALL(lgetxattr);
GUEST_SYSCALL(fgetxattr);
GUEST_SYSCALL(listxattr);
GUEST_SYSCALL(llistxattr);
GUEST_SYSCALL(flistxattr);
GUEST_SYSCALL(setxattr);
GUEST_SYSCALL(lsetxattr);
GUEST_SYSCALL(fsetxattr);
GUEST_SYSCALL(removexattr);
GUEST_SYSCALL(lremovexattr);
GUEST_SYSCALL(fremovexattr);

// time.cpp: the guest's clock
GUEST_SYSCALL(clock_gettime);
GUEST_SYSCALL(clock_getres);
GUEST_SYSCALL(gettimeofday);
GUEST_SYSCALL(time);
GUEST_SYSCALL(nanosleep);
GUEST_SYSCALL(clock_nanosleep);
GUEST_SYSCALL(restart_syscall);
GUEST_SYSCALL(getitimer);
GUEST_SYSCALL(setitimer);
GUEST_SYSCALL(alarm);
GUEST_SYSCALL(timer_create);
GUEST_SYSCALL(timer_settime);
GUEST_SYSCALL(timer_gettime);
GUEST_SYSCALL(timer_getoverrun);
GUEST_SYSCALL(timer_delete);

} // namespace guest
