/* SPDX-License-Identifier: GPL-2.0 */
/*
 * unpriv: a thread's segment selectors and bases, and PKRU, as the CPU
 * holds them: read and loaded by the mode switch (switch.c) and by an
 * address-space operation borrowing the space's mm (as.c).  With
 * interrupts off.
 */
#ifndef UNPRIV_SEGS_H
#define UNPRIV_SEGS_H

#include <asm/fsgsbase.h>
#include <asm/pkru.h>
#include <asm/segment.h>

#include "unpriv.h"

/*
 * Segment selectors and bases, and PKRU, live in the CPU while the
 * thread runs and in thread_struct when it is switched out; change both
 * with interrupts off.  Most threads have null selectors, and the host
 * and guest often share a GS base: what would not change is not written
 * (MSR writes are the expensive part of a switch).  The bases go as
 * x86_fsbase_read_cpu() and the like do, but with static CPU feature
 * checks and interrupts already off; with FSGSBASE the inactive GS base
 * is read and written with SWAPGS around RDGSBASE and WRGSBASE, as the
 * kernel's context switch does.
 */
static __always_inline unsigned long unpriv_fsbase_read(void)
{
	unsigned long fsbase;

	if (static_cpu_has(X86_FEATURE_FSGSBASE))
		fsbase = rdfsbase();
	else
		rdmsrl(MSR_FS_BASE, fsbase);
	return fsbase;
}

static __always_inline void unpriv_fsbase_write(unsigned long fsbase)
{
	if (static_cpu_has(X86_FEATURE_FSGSBASE))
		wrfsbase(fsbase);
	else
		wrmsrl(MSR_FS_BASE, fsbase);
}

static __always_inline unsigned long unpriv_gsbase_read(void)
{
	unsigned long gsbase;

	if (static_cpu_has(X86_FEATURE_FSGSBASE) &&
	    !static_cpu_has(X86_FEATURE_XENPV)) {
		native_swapgs();
		gsbase = rdgsbase();
		native_swapgs();
	} else {
		rdmsrl(MSR_KERNEL_GS_BASE, gsbase);
	}
	return gsbase;
}

static __always_inline void unpriv_gsbase_write(unsigned long gsbase)
{
	if (static_cpu_has(X86_FEATURE_FSGSBASE) &&
	    !static_cpu_has(X86_FEATURE_XENPV)) {
		native_swapgs();
		wrgsbase(gsbase);
		native_swapgs();
	} else {
		wrmsrl(MSR_KERNEL_GS_BASE, gsbase);
	}
}

static __always_inline void unpriv_segs_read(struct unpriv_cpu_segs *s)
{
	savesegment(ds, s->ds);
	savesegment(es, s->es);
	savesegment(fs, s->fs);
	savesegment(gs, s->gs);
	s->fsbase = unpriv_fsbase_read();
	s->gsbase = unpriv_gsbase_read();
	s->pkru = read_pkru();
}

/* Load next, the CPU holding cur; keep thread_struct in step. */
static __always_inline void unpriv_segs_load(const struct unpriv_cpu_segs *cur,
					     const struct unpriv_cpu_segs *next)
{
	struct thread_struct *t = &current->thread;

	if (next->ds != cur->ds)
		loadsegment(ds, next->ds);
	if (next->es != cur->es)
		loadsegment(es, next->es);
	if (next->fs != cur->fs || next->fs)
		loadsegment(fs, next->fs);
	if (next->fs != cur->fs || next->fs || next->fsbase != cur->fsbase)
		unpriv_fsbase_write(next->fsbase);
	if (next->gs != cur->gs || next->gs)
		load_gs_index(next->gs);
	if (next->gs != cur->gs || next->gs || next->gsbase != cur->gsbase)
		unpriv_gsbase_write(next->gsbase);
	/*
	 * With FSGSBASE the kernel reads a running thread's selectors and
	 * bases from the CPU, and save_fsgs() stores them on a switch;
	 * without, it relies on thread_struct's.
	 */
	if (!static_cpu_has(X86_FEATURE_FSGSBASE)) {
		t->fsindex = next->fs;
		t->gsindex = next->gs;
		t->fsbase = next->fsbase;
		t->gsbase = next->gsbase;
	}
	if (cpu_feature_enabled(X86_FEATURE_OSPKE) && next->pkru != cur->pkru)
		wrpkru(next->pkru);
}

#endif /* UNPRIV_SEGS_H */
