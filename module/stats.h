/* SPDX-License-Identifier: GPL-2.0 */
/*
 * unpriv: exit counts (UNPRIV_CAP_STATS), per vcpu and for all.
 *
 * Counting is on the round trip's path, so it is two increments and no
 * more: the vcpu's own count, a plain u64 that only the vcpu's owner
 * writes (the thread in guest mode, see vcpu.h: one at a time, and
 * each claim an ACQUIRE of the last owner's writes), and this CPU's
 * count for all vcpus, which one instruction adds to whatever CPU the
 * thread is on.  A kick comes from any thread, so the vcpu's kick count
 * is atomic.  Readers (stats.c) read each u64 whole, as KVM's stats
 * files do; the global file sums the CPUs' counts when it is read.
 *
 * A vcpu's counts live apart from the vcpu, shared with its stats
 * files: a stats file holds them, not the vcpu, so that a monitor does
 * not keep a closed vcpu (and the address space it is bound to) alive.
 */
#ifndef UNPRIV_STATS_H
#define UNPRIV_STATS_H

#include <linux/atomic.h>
#include <linux/percpu.h>
#include <linux/refcount.h>

#include "unpriv.h"

/* What is counted; the stats files name each (stats.c). */
enum unpriv_stat {
	UNPRIV_STAT_EXITS_SYSCALL,
	UNPRIV_STAT_EXITS_FAULT,
	UNPRIV_STAT_EXITS_TRAP,
	UNPRIV_STAT_EXITS_INTR,
	UNPRIV_STAT_KICKS,
	UNPRIV_STAT_COUNT,
	UNPRIV_STAT_EXITS = UNPRIV_STAT_KICKS,	/* how many exit counts */
};

struct unpriv_vcpu_stats {
	u64 exits[UNPRIV_STAT_EXITS];	/* written by the vcpu's owner only */
	atomic64_t kicks;
	refcount_t refs;		/* the vcpu's, and its stats files' */
	u64 id;				/* unique while the module is loaded */
};

/* Every vcpu's counts, this CPU's share. */
struct unpriv_stats_cpu {
	u64 count[UNPRIV_STAT_COUNT];
};

DECLARE_PER_CPU(struct unpriv_stats_cpu, unpriv_stats_cpu);

/* An exit from guest mode, counted by the vcpu's owner. */
static __always_inline void unpriv_stats_exit(struct unpriv_vcpu *vcpu,
					      enum unpriv_stat stat)
{
	vcpu->stats->exits[stat]++;
	this_cpu_inc(unpriv_stats_cpu.count[stat]);
}

/* A kick, from any thread. */
static inline void unpriv_stats_kick(struct unpriv_vcpu *vcpu)
{
	atomic64_inc(&vcpu->stats->kicks);
	this_cpu_inc(unpriv_stats_cpu.count[UNPRIV_STAT_KICKS]);
}

struct unpriv_vcpu_stats *unpriv_stats_vcpu_new(void);
void unpriv_stats_vcpu_put(struct unpriv_vcpu_stats *stats);
int unpriv_stats_vcpu_getfd(struct unpriv_vcpu *vcpu, unsigned long flags);
int unpriv_stats_global_getfd(unsigned long flags);

#endif /* UNPRIV_STATS_H */
