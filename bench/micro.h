/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What bench/micro.c shares with the rows written in C++ (bench/lib.cpp).
 */
#ifndef UNPRIV_BENCH_MICRO_H
#define UNPRIV_BENCH_MICRO_H

#ifdef __cplusplus
extern "C" {
#endif

/* What every interposed getpid() returns: proof that it did not run. */
#define EMULATED_PID	4242

/* A setup() exits with this when its mechanism is not available here. */
#define BENCH_SKIPPED	77

/* libunpriv on each backend (bench/lib.cpp). */
void libunpriv_module_setup(void);
void libunpriv_ptrace_setup(void);
void libunpriv_seccomp_setup(void);
void libunpriv_syscall(void);

#ifdef __cplusplus
}
#endif

#endif /* UNPRIV_BENCH_MICRO_H */
