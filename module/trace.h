/* SPDX-License-Identifier: GPL-2.0 */
/*
 * unpriv tracepoints: every entry into guest mode and every exit, like
 * kvm:kvm_entry and kvm:kvm_exit, so that
 *
 *	perf stat -e 'unpriv:*' ...
 *
 * counts them.  Disabled, each costs a patched-out jump.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM unpriv

#if !defined(_UNPRIV_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _UNPRIV_TRACE_H

#include <linux/tracepoint.h>
#include <linux/unpriv.h>

#define UNPRIV_EXIT_REASONS				\
	{ UNPRIV_EXIT_SYSCALL,	"SYSCALL" },		\
	{ UNPRIV_EXIT_FAULT,	"FAULT" },		\
	{ UNPRIV_EXIT_TRAP,	"TRAP" },		\
	{ UNPRIV_EXIT_INTR,	"INTR" }

TRACE_EVENT(unpriv_enter,
	TP_PROTO(unsigned long rip),
	TP_ARGS(rip),
	TP_STRUCT__entry(
		__field(unsigned long, rip)
	),
	TP_fast_assign(
		__entry->rip = rip;
	),
	TP_printk("rip 0x%lx", __entry->rip)
);

/* info: the syscall number, the fault address or the trap vector. */
TRACE_EVENT(unpriv_exit,
	TP_PROTO(u32 reason, unsigned long rip, u64 info),
	TP_ARGS(reason, rip, info),
	TP_STRUCT__entry(
		__field(u32, reason)
		__field(unsigned long, rip)
		__field(u64, info)
	),
	TP_fast_assign(
		__entry->reason = reason;
		__entry->rip = rip;
		__entry->info = info;
	),
	TP_printk("reason %s rip 0x%lx info 0x%llx",
		  __print_symbolic(__entry->reason, UNPRIV_EXIT_REASONS),
		  __entry->rip, __entry->info)
);

#endif /* _UNPRIV_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
