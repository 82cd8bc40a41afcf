// SPDX-License-Identifier: GPL-2.0
/*
 * unpriv-stress: the operations workers pick at random.
 *
 * Every operation takes its world's lock for reading (recycling a world
 * takes it for writing), so fd numbers stay what the world says for the
 * operation's length; closing an fd "mid-run" (OP_CLOSE_*) turns its
 * number into a tombstone, which no other open can take.  Each call's
 * result is compared with what the call must return, given what the
 * thread knows; what a race can change (a closed fd, an intruder) makes
 * the set of right answers larger, never "anything".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "stress.h"
#include "unpriv_stats.h"
#include "unpriv_util.h"

const char *const op_names[OP_NR] = {
	[OP_CHAIN] = "chain",
	[OP_RANDOM] = "random-code",
	[OP_MEMORY] = "memory",
	[OP_TRAP] = "trap",
	[OP_COMPUTE] = "compute",
	[OP_STATE] = "guest-state",
	[OP_TOUCH] = "touch-churn",
	[OP_INTRUDE] = "intrude",
	[OP_MAP] = "as-map",
	[OP_UNMAP] = "as-unmap",
	[OP_PROTECT] = "as-protect",
	[OP_BATCH] = "as-batch",
	[OP_RW] = "as-rw",
	[OP_FPU] = "fpu-image",
	[OP_KICK] = "kick",
	[OP_STATS] = "stats",
	[OP_SIGNAL] = "signal",
	[OP_CLOSE_VCPU] = "close-vcpu",
	[OP_CLOSE_AS] = "close-as",
	[OP_RECYCLE] = "recycle",
	[OP_FORK] = "fork",
	[OP_SIGKILL] = "sigkill",
};

void ops_default_weights(unsigned int *wt)
{
	static const unsigned int def[OP_NR] = {
		[OP_CHAIN] = 20, [OP_RANDOM] = 12, [OP_MEMORY] = 12,
		[OP_TRAP] = 8, [OP_COMPUTE] = 5, [OP_STATE] = 6,
		[OP_TOUCH] = 6, [OP_INTRUDE] = 4,
		[OP_MAP] = 10, [OP_UNMAP] = 6, [OP_PROTECT] = 6,
		[OP_BATCH] = 5, [OP_RW] = 5, [OP_FPU] = 5,
		[OP_KICK] = 6, [OP_STATS] = 3, [OP_SIGNAL] = 4,
		[OP_CLOSE_VCPU] = 1, [OP_CLOSE_AS] = 1, [OP_RECYCLE] = 2,
		[OP_FORK] = 1, [OP_SIGKILL] = 1,
	};

	memcpy(wt, def, sizeof(def));
}

/* --- worlds and vcpus ---------------------------------------------------------- */

/* A random world, its lock held for reading; NULL if it is not alive. */
static struct world *world_get(struct worker *w)
{
	struct stress *s = w->s;
	struct world *wd = &s->worlds[rnd(&w->rng, s->o.worlds)];

	pthread_rwlock_rdlock(&wd->lock);
	if (!wd->alive) {
		pthread_rwlock_unlock(&wd->lock);
		return NULL;
	}
	return wd;
}

static void world_put(struct world *wd)
{
	pthread_rwlock_unlock(&wd->lock);
}

/* Claim a free vcpu of wd for a checked program; -1 if all are taken. */
static int vcpu_claim(struct worker *w, struct world *wd)
{
	int first = rnd(&w->rng, VCPUS), i;

	for (i = 0; i < VCPUS; i++) {
		int v = (first + i) % VCPUS;

		if (!pthread_mutex_trylock(&wd->v[v].claim))
			return v;
	}
	return -1;
}

static void op_claimed(struct worker *w, enum op op)
{
	struct world *wd = world_get(w);
	int v;

	if (!wd)
		return;
	v = vcpu_claim(w, wd);
	if (v < 0) {
		world_put(wd);
		return;
	}
	switch (op) {
	case OP_CHAIN:
		run_chain(w, wd, v);
		break;
	case OP_RANDOM:
		run_random(w, wd, v);
		break;
	case OP_MEMORY:
		run_memory(w, wd, v);
		break;
	case OP_TRAP:
		run_trap(w, wd, v);
		break;
	case OP_COMPUTE:
		run_compute(w, wd, v);
		break;
	case OP_STATE:
		run_state(w, wd, v);
		break;
	case OP_TOUCH:
		run_touch(w, wd, v);
		break;
	default:
		break;
	}
	pthread_mutex_unlock(&wd->v[v].claim);
	world_put(wd);
}

/*
 * Is err a right answer for a call on this fd?  Once an fd is closed,
 * its number is a tombstone (see world.c): ioctls on it fail with
 * ENOTTY, and RUN naming it as the address space with EINVAL.
 */
static bool tombstone_error(atomic_int *killed, int err)
{
	return atomic_load(killed) && (err == ENOTTY || err == EINVAL);
}

/* err is what the call returned (0 or an errno), want the right one. */
static void expect_errno(struct worker *w, enum op op, atomic_int *killed,
			 int err, unsigned long allowed, const char *what)
{
	count_error(w, op, err);
	if (err == 0 ? (allowed & 1) : err < 64 && (allowed & (1UL << err)))
		return;
	if (err && (tombstone_error(killed, err) || fault_mode_error(w, err)))
		return;
	fail(w, "%s: %s", what, err ? strerror(err) : "succeeded");
}

#define OK		1UL
#define E(e)		(1UL << (e))

/* --- address-space operations ---------------------------------------------------- */

struct map_case {
	struct unpriv_as_map m;
	unsigned long allowed;	/* OK and E(errno) bits */
};

/*
 * Random code runs in the wild space and jumps anywhere: nothing it can
 * write may become executable there (see NO_FAR_RET in guest.c).
 */
static uint32_t churn_prot(struct rng *r, int a)
{
	return rnd(r, 8) & (a == AS_WILD ? ~UNPRIV_PROT_EXEC : ~0U);
}

/* A map of part of the churn region, right or wrong in one way. */
static void map_case(struct worker *w, struct world *wd, int a, struct map_case *mc)
{
	struct rng *r = &w->rng;
	struct unpriv_as_map *m = &mc->m;
	uint64_t first = rnd(r, CHURN_PAGES);

	memset(mc, 0, sizeof(*mc));
	m->addr = CHURN_ADDR + first * PAGE;
	m->len = (1 + rnd(r, CHURN_PAGES - first < 8 ? CHURN_PAGES - first : 8)) * PAGE;
	/* some reach past the end of the file: SIGBUS there */
	m->offset = OFF_CHURN + rnd(r, CHURN_FILE_PAGES + 4) * PAGE;
	m->fd = chance(r, 4) ? wd->mem_ro : wd->mem;
	m->prot = churn_prot(r, a);
	m->flags = chance(r, 2) ? UNPRIV_MAP_SHARED : UNPRIV_MAP_PRIVATE;
	mc->allowed = OK;
	if (m->fd == wd->mem_ro && m->flags == UNPRIV_MAP_SHARED &&
	    (m->prot & UNPRIV_PROT_WRITE))
		mc->allowed = E(EACCES);

	switch (rnd(r, 16)) {
	case 0:
		m->addr += 1 + rnd(r, PAGE - 1);
		break;
	case 1:
		m->len = chance(r, 2) ? 0 : m->len + 1 + rnd(r, PAGE - 1);
		break;
	case 2:
		m->offset += 1 + rnd(r, PAGE - 1);
		break;
	case 3:
		m->prot |= 8 << rnd(r, 28);
		break;
	case 4:
		m->flags = chance(r, 2) ? 0 : UNPRIV_MAP_SHARED | UNPRIV_MAP_PRIVATE;
		break;
	case 5:
		m->reserved = 1 + rnd(r, 100);
		break;
	case 6:
		/* beyond the user address space, or wrapping around */
		m->addr = chance(r, 2) ? 0xffff800000000000ULL : -PAGE;
		break;
	case 7:
		m->fd = chance(r, 2) ? -1 : 100000;
		mc->allowed = E(EBADF);
		return;
	case 8:
		/* no regular file: refused before its open mode is looked at */
		m->fd = w->s->pipe_fd;
		mc->allowed = E(ENODEV);
		return;
	default:
		return;
	}
	mc->allowed = E(EINVAL);
}

static void op_map(struct worker *w)
{
	struct world *wd = world_get(w);
	struct map_case mc;
	char what[160];
	int a;

	if (!wd)
		return;
	a = rnd(&w->rng, AS_NR);
	map_case(w, wd, a, &mc);
	snprintf(what, sizeof(what),
		 "UNPRIV_AS_MAP addr %#llx len %#llx offset %#llx fd %s prot %#x flags %#x reserved %u",
		 (unsigned long long)mc.m.addr, (unsigned long long)mc.m.len,
		 (unsigned long long)mc.m.offset,
		 mc.m.fd == wd->mem ? "memfd" : mc.m.fd == wd->mem_ro ? "memfd read-only" : "other",
		 mc.m.prot, mc.m.flags, mc.m.reserved);
	expect_errno(w, OP_MAP, &wd->as_killed[a],
		     -(int)mod_ioctl(w, wd->as[a], UNPRIV_AS_MAP, (unsigned long)&mc.m),
		     mc.allowed, what);
	world_put(wd);
}

/* A range of the churn region for unmap or protect, maybe wrong. */
static unsigned long range_case(struct worker *w, int a, struct unpriv_as_range *rg,
				bool protect)
{
	struct rng *r = &w->rng;
	uint64_t first = rnd(r, CHURN_PAGES);

	memset(rg, 0, sizeof(*rg));
	rg->addr = CHURN_ADDR + first * PAGE;
	rg->len = (1 + rnd(r, CHURN_PAGES - first)) * PAGE;
	if (protect)
		rg->prot = churn_prot(r, a);

	switch (rnd(r, 12)) {
	case 0:
		rg->addr += 1 + rnd(r, PAGE - 1);
		break;
	case 1:
		rg->len = chance(r, 2) ? 0 : rg->len - 1 - rnd(r, PAGE - 1);
		break;
	case 2:
		rg->flags = 1 << rnd(r, 32);
		break;
	case 3:
		/* unmap takes no protection; protect no unknown bits */
		rg->prot = protect ? 8 << rnd(r, 28) : 1 + rnd(r, 7);
		break;
	case 4:
		rg->addr = 0xffff800000000000ULL;
		break;
	default:
		/* a hole in the range, a read-only file's shared map */
		return protect ? OK | E(ENOMEM) | E(EACCES) : OK;
	}
	return E(EINVAL);
}

static void op_range(struct worker *w, enum op op)
{
	bool protect = op == OP_PROTECT;
	struct world *wd = world_get(w);
	struct unpriv_as_range rg;
	unsigned long allowed;
	int a;

	if (!wd)
		return;
	a = rnd(&w->rng, AS_NR);
	allowed = range_case(w, a, &rg, protect);
	expect_errno(w, op, &wd->as_killed[a],
		     -(int)mod_ioctl(w, wd->as[a],
				     protect ? UNPRIV_AS_PROTECT : UNPRIV_AS_UNMAP,
				     (unsigned long)&rg),
		     allowed, protect ? "UNPRIV_AS_PROTECT" : "UNPRIV_AS_UNMAP");
	world_put(wd);
}

#define BATCH_MAX_OPS	48

static void op_batch(struct worker *w)
{
	struct rng *r = &w->rng;
	struct world *wd = world_get(w);
	struct unpriv_as_op ops[BATCH_MAX_OPS];
	unsigned long allowed[BATCH_MAX_OPS];
	struct unpriv_as_batch b = { .ops = (uintptr_t)ops };
	unsigned int i, n;
	bool killed;
	long ret;
	int a;

	if (!wd)
		return;
	a = rnd(r, AS_NR);
	n = 1 + rnd(r, BATCH_MAX_OPS);
	memset(ops, 0, sizeof(ops));
	for (i = 0; i < n; i++) {
		switch (rnd(r, 3)) {
		case 0: {
			struct map_case mc;

			map_case(w, wd, a, &mc);
			ops[i].op = UNPRIV_AS_OP_MAP;
			ops[i].map = mc.m;
			allowed[i] = mc.allowed;
			break;
		}
		case 1:
			ops[i].op = UNPRIV_AS_OP_UNMAP;
			allowed[i] = range_case(w, a, &ops[i].range, false);
			break;
		default:
			ops[i].op = UNPRIV_AS_OP_PROTECT;
			allowed[i] = range_case(w, a, &ops[i].range, true);
			break;
		}
		if (chance(r, 40)) {
			ops[i].op = chance(r, 2) ? 0 : 4 + rnd(r, 100);
			allowed[i] = E(EINVAL);
		} else if (chance(r, 40)) {
			ops[i].reserved = 1;
			allowed[i] = E(EINVAL);
		}
	}
	b.count = n;
	b.done = 0xdead;
	b.error = 0x7ead;

	/* wrong as a whole: the ioctl fails, done and error stay */
	if (chance(r, 30)) {
		b.flags = chance(r, 2) ? 1 : 0;
		if (!b.flags)
			b.count = UNPRIV_AS_BATCH_MAX + 1 + rnd(r, 1000);
		ret = mod_ioctl(w, wd->as[a], UNPRIV_AS_BATCH, (unsigned long)&b);
		expect_errno(w, OP_BATCH, &wd->as_killed[a], -(int)ret, E(EINVAL),
			     "UNPRIV_AS_BATCH with bad flags or count");
		if (!ret || b.done != 0xdead || b.error != 0x7ead)
			if (!atomic_load(&wd->as_killed[a]))
				fail(w, "a refused batch changed done or error");
		world_put(wd);
		return;
	}
	/* the ops array ends at an inaccessible page: that op fails with EFAULT */
	if (chance(r, 30)) {
		static __thread struct unpriv_as_op *edge;
		unsigned int k = rnd(r, n);

		if (!edge) {
			char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			if (p == MAP_FAILED)
				goto out;
			/*
			 * Inaccessible, not unmapped: a later mmap() of
			 * this process could fill a hole, and the ops after
			 * the edge would then be read, not fail.
			 */
			if (mprotect(p + PAGE, PAGE, PROT_NONE)) {
				munmap(p, 2 * PAGE);
				goto out;
			}
			edge = (struct unpriv_as_op *)(p + PAGE) - BATCH_MAX_OPS;
		}
		memcpy(edge + BATCH_MAX_OPS - k, ops, k * sizeof(ops[0]));
		b.ops = (uintptr_t)(edge + BATCH_MAX_OPS - k);
		allowed[k] = E(EFAULT);
		b.count = k + 1 + rnd(r, 3);
		n = k + 1;
	}

	ret = mod_ioctl(w, wd->as[a], UNPRIV_AS_BATCH, (unsigned long)&b);
	killed = atomic_load(&wd->as_killed[a]);
	expect_errno(w, OP_BATCH, &wd->as_killed[a], -(int)ret, OK, "UNPRIV_AS_BATCH");
	if (ret || killed)
		goto out;
	if (b.done > n || (b.error == 0) != (b.done == b.count) || b.error > 0) {
		fail(w, "UNPRIV_AS_BATCH of %u ops: done %u error %d", b.count,
		     b.done, b.error);
		goto out;
	}
	for (i = 0; i < b.done; i++)
		if (!(allowed[i] & OK)) {
			fail(w, "UNPRIV_AS_BATCH: op %u (%u) succeeded; it had to fail", i,
			     ops[i].op);
			goto out;
		}
	if (b.error) {
		const struct unpriv_as_op *o = &ops[b.done];
		char what[200];

		if (o->op == UNPRIV_AS_OP_MAP)
			snprintf(what, sizeof(what),
				 "UNPRIV_AS_BATCH op %u of %u: map addr %#llx len %#llx offset %#llx fd %s prot %#x flags %#x reserved %u",
				 b.done, b.count, (unsigned long long)o->map.addr,
				 (unsigned long long)o->map.len,
				 (unsigned long long)o->map.offset,
				 o->map.fd == wd->mem ? "memfd" :
				 o->map.fd == wd->mem_ro ? "memfd read-only" : "other",
				 o->map.prot, o->map.flags, o->reserved);
		else
			snprintf(what, sizeof(what),
				 "UNPRIV_AS_BATCH op %u of %u: op %u addr %#llx len %#llx prot %#x flags %#x reserved %u",
				 b.done, b.count, o->op, (unsigned long long)o->range.addr,
				 (unsigned long long)o->range.len, o->range.prot,
				 o->range.flags, o->reserved);
		expect_errno(w, OP_BATCH, &wd->as_killed[a], -b.error, allowed[b.done],
			     what);
	}
out:
	world_put(wd);
}

/*
 * AS_RW: a write then a read of this thread's part of the read-only,
 * private RW page (copied on write, as ptrace would), which must give
 * back what was written; or somewhere in the churn region, where any
 * partial result is right; or a wrong call.
 */
static void op_rw(struct worker *w)
{
	struct rng *r = &w->rng;
	struct world *wd = world_get(w);
	unsigned char buf[256], back[256];
	struct unpriv_as_rw rw = { 0 };
	atomic_int *killed;
	long ret;
	size_t i, len = 1 + rnd(r, 128);
	int a;

	if (!wd)
		return;
	a = rnd(r, AS_NR);
	killed = &wd->as_killed[a];
	for (i = 0; i < len; i++)
		buf[i] = rng_next(r);

	switch (rnd(r, 6)) {
	case 0:
		/* the churn region: anything from EIO to all of it */
		rw.addr = CHURN_ADDR + rnd(r, CHURN_PAGES * PAGE);
		rw.buf = (uintptr_t)buf;
		rw.len = len;
		rw.flags = chance(r, 2) ? UNPRIV_RW_WRITE : 0;
		ret = mod_ioctl(w, wd->as[a], UNPRIV_AS_RW, (unsigned long)&rw);
		if (ret >= 0 && ret > (long)len)
			fail(w, "UNPRIV_AS_RW copied %ld of %zu bytes", ret, len);
		expect_errno(w, OP_RW, killed, ret < 0 ? -(int)ret : 0, OK | E(EIO),
			     "UNPRIV_AS_RW in the churn region");
		break;
	case 1:
		/* wrong: flags, reserved, more than 1 GiB, a bad buffer */
		rw.addr = RW_PAGE_ADDR;
		rw.buf = (uintptr_t)buf;
		rw.len = len;
		switch (rnd(r, 4)) {
		case 0:
			rw.flags = 2 << rnd(r, 30);
			break;
		case 1:
			rw.reserved = 1;
			break;
		case 2:
			rw.len = (1ULL << 30) + 1 + rnd(r, 1 << 20);
			break;
		default:
			rw.buf = chance(r, 2) ? 8 : 0xffff880000000000ULL;
			ret = mod_ioctl(w, wd->as[a], UNPRIV_AS_RW, (unsigned long)&rw);
			expect_errno(w, OP_RW, killed, ret < 0 ? -(int)ret : 0,
				     E(EFAULT), "UNPRIV_AS_RW with a bad buffer");
			goto out;
		}
		ret = mod_ioctl(w, wd->as[a], UNPRIV_AS_RW, (unsigned long)&rw);
		expect_errno(w, OP_RW, killed, ret < 0 ? -(int)ret : 0, E(EINVAL),
			     "UNPRIV_AS_RW with bad arguments");
		break;
	case 2:
		/* nothing there */
		rw.addr = HOLE_ADDR + rnd(r, PAGE);
		rw.buf = (uintptr_t)buf;
		rw.len = len;
		rw.flags = chance(r, 2) ? UNPRIV_RW_WRITE : 0;
		ret = mod_ioctl(w, wd->as[a], UNPRIV_AS_RW, (unsigned long)&rw);
		expect_errno(w, OP_RW, killed, ret < 0 ? -(int)ret : 0, E(EIO),
			     "UNPRIV_AS_RW of a hole");
		break;
	default:
		rw.addr = RW_PAGE_ADDR + w->id * 128;
		rw.buf = (uintptr_t)buf;
		rw.len = len;
		rw.flags = UNPRIV_RW_WRITE;
		ret = mod_ioctl(w, wd->as[a], UNPRIV_AS_RW, (unsigned long)&rw);
		if (ret != (long)len) {
			expect_errno(w, OP_RW, killed, ret < 0 ? -(int)ret : EIO, 0,
				     "UNPRIV_AS_RW write");
			break;
		}
		count_error(w, OP_RW, 0);
		memset(back, 0, sizeof(back));
		rw.buf = (uintptr_t)back;
		rw.flags = 0;
		ret = mod_ioctl(w, wd->as[a], UNPRIV_AS_RW, (unsigned long)&rw);
		if (ret != (long)len) {
			expect_errno(w, OP_RW, killed, ret < 0 ? -(int)ret : EIO, 0,
				     "UNPRIV_AS_RW read");
			break;
		}
		if (memcmp(buf, back, len) && !atomic_load(killed))
			fail(w, "UNPRIV_AS_RW read back other bytes than it wrote");
		break;
	}
out:
	world_put(wd);
}

/* --- vcpu operations from other threads ------------------------------------------- */

/*
 * GET_FPU and SET_FPU on a vcpu some other thread may be running:
 * right calls succeed or find it busy, wrong ones fail as documented;
 * SET counts as an intrusion (the owner's FPU state changes).
 */
static void op_fpu(struct worker *w)
{
	struct rng *r = &w->rng;
	struct world *wd = world_get(w);
	int size = w->s->fpu_size;
	unsigned char img[8192];
	struct unpriv_fpu f = { .buf = (uintptr_t)img, .size = size };
	unsigned long allowed = OK | E(EBUSY), cmd = UNPRIV_GET_FPU;
	struct vslot *vs;
	uint64_t xf;
	size_t i;
	long ret;

	if (!wd)
		return;
	vs = &wd->v[rnd(r, VCPUS)];
	if (size <= 0 || size > (int)sizeof(img))
		goto out;
	for (i = 0; i < (size_t)size; i += 8) {
		uint64_t x = rng_next(r);

		memcpy(img + i, &x, 8);
	}

	switch (rnd(r, 8)) {
	case 0:
		f.size = size - 1 - rnd(r, size);
		allowed = E(EINVAL);
		break;
	case 1:
		f.flags = 1 << rnd(r, 32);
		allowed = E(EINVAL);
		break;
	case 2:
		/* SET reads the image first; GET finds the vcpu busy first */
		f.buf = chance(r, 2) ? 16 : 0xffff880000000000ULL;
		cmd = chance(r, 2) ? UNPRIV_GET_FPU : UNPRIV_SET_FPU;
		allowed = E(EFAULT) | (cmd == UNPRIV_GET_FPU ? E(EBUSY) : 0);
		break;
	case 3:
		/* garbage: refused, or taken if it happens to be valid */
		cmd = UNPRIV_SET_FPU;
		allowed = OK | E(EBUSY) | E(EINVAL);
		break;
	case 4: case 5:
		/* a valid image: FP and SSE, MXCSR without reserved bits */
		cmd = UNPRIV_SET_FPU;
		memset(img + 512, 0, 64);
		xf = 3;
		memcpy(img + 512, &xf, 8);
		memcpy(img + 24, &(uint32_t){ (uint32_t)rng_next(r) & 0xffbf }, 4);
		memcpy(img + 28, &(uint32_t){ 0xffff }, 4);	/* ignored mask */
		break;
	default:
		break;
	}
	/*
	 * Both hold the vcpu for a moment (a RUN meanwhile is EBUSY), and
	 * SET changes its FPU state: the claim holder must know.
	 */
	intruder_enter(vs, wd->generation);
	if (cmd == UNPRIV_SET_FPU)
		atomic_store(&vs->dirty, true);
	ret = mod_ioctl(w, vs->fd, cmd, (unsigned long)&f);
	intruder_leave(vs, wd->generation);
	expect_errno(w, OP_FPU, &vs->killed, -(int)ret, allowed,
		     cmd == UNPRIV_GET_FPU ? "UNPRIV_GET_FPU" : "UNPRIV_SET_FPU");
out:
	world_put(wd);
}

static void op_kick(struct worker *w)
{
	struct world *wd = world_get(w);
	struct vslot *vs;

	if (!wd)
		return;
	vs = &wd->v[rnd(&w->rng, VCPUS)];
	expect_errno(w, OP_KICK, &vs->killed,
		     -(int)mod_ioctl(w, vs->fd, UNPRIV_KICK, 0), OK, "UNPRIV_KICK");
	world_put(wd);
}

/* A stats file of a random vcpu of a world (or the global one); or -1. */
static int stats_open(struct worker *w)
{
	struct world *wd = world_get(w);
	struct vslot *vs;
	long fd;

	if (!wd)
		return -1;
	vs = &wd->v[rnd(&w->rng, VCPUS)];
	if (chance(&w->rng, 4)) {
		fd = mod_ioctl(w, wd->dev, UNPRIV_GET_GLOBAL_STATS_FD, 0);
		expect_errno(w, OP_STATS, &(atomic_int){ 0 }, fd < 0 ? -(int)fd : 0,
			     OK, "UNPRIV_GET_GLOBAL_STATS_FD");
	} else {
		fd = mod_ioctl(w, vs->fd, UNPRIV_GET_STATS_FD, 0);
		expect_errno(w, OP_STATS, &vs->killed, fd < 0 ? -(int)fd : 0,
			     OK, "UNPRIV_GET_STATS_FD");
	}
	world_put(wd);
	return fd < 0 ? -1 : (int)fd;
}

/*
 * Read a stats file while other threads run, close and recycle the
 * vcpus: each worker keeps one open from one operation to another, so
 * that it outlives its vcpu and world.  Every read is well formed, and
 * its counts, cumulative all, never go down.
 */
static void op_stats(struct worker *w)
{
	struct stats_file sf;
	uint64_t sum = 0;
	unsigned int i;
	int ret;

	if (w->stats_fd < 0) {
		w->stats_fd = stats_open(w);
		w->stats_sum = 0;
		if (w->stats_fd < 0)
			return;
	}
	ret = stats_file_open(&sf, w->stats_fd);
	if (!ret)
		ret = stats_file_read(&sf);
	if (ret) {
		fail(w, "reading a stats file: %s (%s)", strerror(-ret),
		     ret == -EPROTO ? sf.error : "read");
		return;
	}
	for (i = 0; i < sf.header.num_desc; i++)
		sum += stats_file_value(&sf, i);
	if (sum < w->stats_sum)
		fail(w, "stats file %s: counts went down, %llu to %llu", sf.id,
		     (unsigned long long)w->stats_sum, (unsigned long long)sum);
	w->stats_sum = sum;
	stats_file_close(&sf);
	if (chance(&w->rng, 2)) {
		close(w->stats_fd);
		w->stats_fd = -1;
	}
}

static void op_intrude(struct worker *w)
{
	struct world *wd = world_get(w);

	if (!wd)
		return;
	run_intrude(w, wd, rnd(&w->rng, VCPUS));
	world_put(wd);
}

static void op_signal(struct worker *w)
{
	struct stress *s = w->s;
	struct worker *t = &s->workers[rnd(&w->rng, s->o.threads)];

	if (t != w)
		pthread_kill(t->thread, SIGUSR1);
}

static void op_close(struct worker *w, enum op op)
{
	struct world *wd = world_get(w);

	if (!wd)
		return;
	if (op == OP_CLOSE_VCPU)
		world_kill_vcpu(w->s, wd, rnd(&w->rng, VCPUS));
	else
		world_kill_as(w->s, wd, rnd(&w->rng, AS_NR));
	world_put(wd);
}

static void op_recycle(struct worker *w)
{
	struct stress *s = w->s;
	struct world *wd = &s->worlds[rnd(&w->rng, s->o.worlds)];
	int ret;

	pthread_rwlock_wrlock(&wd->lock);
	world_destroy(wd);
	ret = world_create(w, wd);
	pthread_rwlock_unlock(&wd->lock);
	if (ret)
		expect_errno(w, OP_RECYCLE, &(atomic_int){ 0 }, -ret, 0,
			     "making a world");
}

/* --- children ------------------------------------------------------------------- */

/* What a child may use of a world: the fds as they were at fork. */
struct inherited {
	bool valid;
	int vcpu[VCPUS];
	int as;
	struct vslot *vs[VCPUS];
	struct world *wd;
	unsigned long generation;	/* of the world, at fork */
};

static void inherit(struct world *wd, struct inherited *in)
{
	int v;

	memset(in, 0, sizeof(*in));
	if (!wd)
		return;
	in->valid = true;
	in->as = wd->as[AS_WILD];
	in->wd = wd;
	in->generation = wd->generation;
	for (v = 0; v < VCPUS; v++) {
		in->vcpu[v] = wd->v[v].fd;
		in->vs[v] = &wd->v[v];
	}
}

static int child_timer(struct worker *w)
{
	struct sigevent sev = {
		.sigev_notify = SIGEV_THREAD_ID,
		.sigev_signo = SIGRTMIN,
	};

	sev._sigev_un._tid = gettid();
	return timer_create(CLOCK_MONOTONIC, &sev, &w->timer);
}

/*
 * RUN an inherited vcpu, as an intruder: any exit, or busy, or EINVAL
 * (the owner is writing registers; the space was closed before fork).
 * The child's fds are its own: a close in the parent after fork does
 * not reach them.  ENOTTY means the vcpu was closed before fork: its
 * killed flag, set before the close, is still set, unless the world
 * was made anew since (which only happens after fork).
 */
static void child_intrude(struct worker *w, struct inherited *in)
{
	int v = rnd(&w->rng, VCPUS);
	struct vslot *vs = in->vs[v];
	int ret;

	intruder_enter(vs, in->generation);
	atomic_store(&vs->dirty, true);
	ret = guest_run_raw(w, in->vcpu[v], in->as);
	intruder_leave(vs, in->generation);
	if (ret && ret != -EINTR && ret != -EBUSY && ret != -EINVAL &&
	    !(ret == -ENOTTY && (atomic_load(&vs->killed) ||
				 __atomic_load_n(&in->wd->generation, __ATOMIC_SEQ_CST) !=
				 in->generation)) &&
	    !fault_mode_error(w, -ret))
		fail(w, "child: RUN of an inherited vcpu: %s", strerror(-ret));
}

/* A guest of the child's own: a system call must come out as one. */
static void child_own_guest(struct worker *w, bool forever)
{
	struct guest g;
	uint64_t nr;
	int ret;

	ret = guest_create(&g);
	if (ret) {
		if (!fault_mode_error(w, -ret))
			fail(w, "child: guest_create: %s", strerror(-ret));
		guest_destroy(&g);
		return;
	}
	if (guest_lib_write(g.mem)) {
		fail(w, "child: cannot write the library");
		guest_destroy(&g);
		return;
	}
	do {
		nr = rng_next(&w->rng);
		g.run->regs.rip = forever ? guest_lib_spin_addr() : guest_lib_sys_addr();
		g.run->regs.rax = nr;
		do {
			ret = guest_run_raw(w, g.vcpu, g.as);
		} while (ret == -EINTR && !forever);
		if (ret == -EINTR)
			continue;
		if (ret) {
			if (!fault_mode_error(w, -ret))
				fail(w, "child: RUN: %s", strerror(-ret));
		} else if (g.run->exit_reason != UNPRIV_EXIT_SYSCALL ||
			   g.run->syscall.nr != nr) {
			fail(w, "child: exit %u nr %#llx, expected a system call %#llx",
			     g.run->exit_reason, (unsigned long long)g.run->syscall.nr,
			     (unsigned long long)nr);
		}
	} while (forever);
	guest_destroy(&g);
}

static __attribute__((noreturn)) void child_main(struct worker *pw,
						  struct inherited *in,
						  uint64_t seed, bool forever)
{
	static struct worker cw;
	int i, n;

	cw = *pw;
	rng_seed(&cw.rng, seed);
	cw.tid = gettid();
	cw.fail_fd = -1;
	if (cw.s->o.fault_inject)
		fault_inject_open(&cw, seed);
	if (child_timer(&cw))
		_exit(2);
	atomic_store(&cw.s->failures, 0);

	n = 1 + rnd(&cw.rng, 4);
	for (i = 0; i < n || forever; i++) {
		if (in->valid && chance(&cw.rng, 2))
			child_intrude(&cw, in);
		else
			child_own_guest(&cw, forever && chance(&cw.rng, 2));
		if (atomic_load(&cw.s->failures))
			_exit(1);
	}
	_exit(0);
}

/* Wait for pid; fail if it does not end within ms. */
static int child_wait(struct worker *w, pid_t pid, long ms, int *status)
{
	uint64_t end = now_ms() + ms;
	pid_t got;

	for (;;) {
		got = waitpid(pid, status, WNOHANG);
		if (got == pid)
			return 0;
		if (got < 0 && errno != EINTR) {
			fail(w, "waitpid: %s", strerror(errno));
			return -1;
		}
		if (now_ms() > end) {
			fail(w, "child %d did not end within %ld s", pid, ms / 1000);
			kill(pid, SIGKILL);
			waitpid(pid, status, 0);
			return -1;
		}
		sleep_ms(2);
	}
}

/*
 * A child that inherited the fds: it runs a few guests (the parent's
 * vcpus, as an intruder, and one of its own), then exits; or, for
 * OP_SIGKILL, runs until the parent kills it at a random moment.
 */
static void op_child(struct worker *w, enum op op)
{
	struct world *wd = world_get(w);
	struct inherited in;
	uint64_t seed = rng_next(&w->rng);
	long delay = rnd(&w->rng, 50);
	int status;
	pid_t pid;

	inherit(wd, &in);
	pid = fork();
	if (pid == 0)
		child_main(w, &in, seed, op == OP_SIGKILL);
	if (wd)
		world_put(wd);
	if (pid < 0) {
		count_error(w, op, errno);
		if (errno != EAGAIN && errno != ENOMEM)
			fail(w, "fork: %s", strerror(errno));
		return;
	}
	w->c.children++;
	if (op == OP_SIGKILL) {
		sleep_ms(delay);
		kill(pid, SIGKILL);
	}
	/* half the watchdog's time: a stuck child is reported as one */
	if (child_wait(w, pid, w->s->o.watchdog * 500L, &status))
		return;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return;
	if (op == OP_SIGKILL && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		return;
	fail(w, "child %d ended with status %#x", pid, status);
}

void op_run(struct worker *w, enum op op)
{
	switch (op) {
	case OP_CHAIN: case OP_RANDOM: case OP_MEMORY: case OP_TRAP:
	case OP_COMPUTE: case OP_STATE: case OP_TOUCH:
		op_claimed(w, op);
		break;
	case OP_INTRUDE:
		op_intrude(w);
		break;
	case OP_MAP:
		op_map(w);
		break;
	case OP_UNMAP: case OP_PROTECT:
		op_range(w, op);
		break;
	case OP_BATCH:
		op_batch(w);
		break;
	case OP_RW:
		op_rw(w);
		break;
	case OP_FPU:
		op_fpu(w);
		break;
	case OP_KICK:
		op_kick(w);
		break;
	case OP_STATS:
		op_stats(w);
		break;
	case OP_SIGNAL:
		op_signal(w);
		break;
	case OP_CLOSE_VCPU: case OP_CLOSE_AS:
		op_close(w, op);
		break;
	case OP_RECYCLE:
		op_recycle(w);
		break;
	case OP_FORK: case OP_SIGKILL:
		op_child(w, op);
		break;
	default:
		break;
	}
}
