// SPDX-License-Identifier: GPL-2.0
/*
 * unpriv-stress: worlds, the objects worker threads share.
 *
 * A world is a device fd, two address spaces over one memfd (see
 * stress.h for the layout) and VCPUS vcpus with their run pages.
 * Closing one of its fds while other threads use it is an operation of
 * its own: the fd's number is first marked killed, then made a
 * tombstone by dup2() of an fd of no interest over it, so that the
 * number never names another open file while the world lives.  The run
 * page's mapping, which holds the vcpu's file too, is replaced by
 * anonymous memory at the same address.  Only recycling (under the
 * world's write lock) frees the numbers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "stress.h"
#include "unpriv_util.h"

static int world_map(struct worker *w, int as, uint64_t addr, uint64_t pages,
		     uint64_t off, int fd, uint32_t prot, uint32_t flags)
{
	struct unpriv_as_map m = {
		.addr = addr, .len = pages * PAGE, .offset = off, .fd = fd,
		.prot = prot, .flags = flags,
	};

	return (int)mod_ioctl(w, as, UNPRIV_AS_MAP, (unsigned long)&m);
}

#define RX	(UNPRIV_PROT_READ | UNPRIV_PROT_EXEC)
#define RW	(UNPRIV_PROT_READ | UNPRIV_PROT_WRITE)
#define SH	UNPRIV_MAP_SHARED
#define PR	UNPRIV_MAP_PRIVATE

/*
 * Map random-code page slot of vcpu v at RANDOM_ADDR(v) in the wild space,
 * in place of the one there.  Returns 0 or -errno.
 */
int world_map_random(struct worker *w, struct world *wd, int v, unsigned int slot)
{
	return world_map(w, wd->as[AS_WILD], RANDOM_ADDR(v), 1, RANDOM_OFF(v, slot),
			 wd->mem, RX, SH);
}

/* The layout of stress.h; the wild space's data and stacks are scratch. */
static int world_layout(struct worker *w, struct world *wd, int a)
{
	uint64_t data = a == AS_MAIN ? OFF_DATA : OFF_SCRATCH;
	uint64_t stack = a == AS_MAIN ? OFF_STACK : OFF_SCRATCH + DATA_PAGES * PAGE;
	int as = wd->as[a], ret;

	int v;

	if (a == AS_MAIN) {
		ret = world_map(w, as, CODE_ADDR, CODE_PAGES, OFF_CODE, wd->mem, RX, SH);
	} else {
		/*
		 * Random code may jump anywhere: only code without far
		 * returns may be executable here (see NO_FAR_RET in guest.c),
		 * the library and the random pages; chains are read-only.
		 */
		ret = world_map(w, as, CODE_ADDR, 1, OFF_CODE, wd->mem, RX, SH);
		for (v = 0; v < VCPUS && !ret; v++) {
			ret = world_map(w, as, CHAIN_ADDR(v), 1, CHAIN_OFF(v), wd->mem,
					UNPRIV_PROT_READ, SH);
			if (!ret)
				ret = world_map_random(w, wd, v, 0);
		}
	}
	if (!ret)
		ret = world_map(w, as, DATA_ADDR, VCPUS, data, wd->mem, RW, SH);
	if (!ret)
		ret = world_map(w, as, STACK_ADDR, STACK_PAGES, stack, wd->mem, RW, SH);
	if (!ret)
		ret = world_map(w, as, RO_ADDR, 1, RW_PAGE_OFF, wd->mem_ro,
				UNPRIV_PROT_READ, PR);
	if (!ret)
		ret = world_map(w, as, NONE_ADDR, 1, RW_PAGE_OFF, wd->mem, 0, SH);
	if (!ret)
		ret = world_map(w, as, CHURN_ADDR, CHURN_FILE_PAGES, OFF_CHURN,
				wd->mem, RW, SH);
	return ret;
}

static int world_fill(struct worker *w, struct world *wd)
{
	size_t i, len = (SCRATCH_PAGES + CHURN_FILE_PAGES) * PAGE;
	unsigned char *buf;
	int ret;

	if (ftruncate(wd->mem, MEM_SIZE))
		return -errno;
	ret = guest_lib_write(wd->mem);
	if (ret)
		return ret;
	/* scratch and churn pages hold random bytes: random code, to the wild */
	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	for (i = 0; i < len; i += 8) {
		uint64_t x = rng_next(&w->rng);

		memcpy(buf + i, &x, 8);
	}
	ret = pwrite(wd->mem, buf, len, OFF_SCRATCH) == (ssize_t)len ? 0 : -errno;
	free(buf);
	return ret;
}

static int world_make(struct worker *w, struct world *wd)
{
	char path[64];
	int a, v, ret;

	/* before anything is reset: children compare it (ops.c) */
	__atomic_add_fetch(&wd->generation, 1, __ATOMIC_SEQ_CST);
	wd->alive = false;
	wd->dev = -1;
	wd->mem = wd->mem_ro = -1;
	for (a = 0; a < AS_NR; a++) {
		wd->as[a] = -1;
		atomic_store(&wd->as_killed[a], 0);
	}
	for (v = 0; v < VCPUS; v++) {
		struct vslot *vs = &wd->v[v];

		vs->fd = -1;
		vs->run = MAP_FAILED;
		atomic_store(&vs->killed, 0);
		atomic_store(&vs->intruders, (uint64_t)(uint32_t)wd->generation << 32);
		atomic_store(&vs->intrusions, 0);
		atomic_store(&vs->dirty, true);
		vs->random_slot = 0;
	}

	wd->dev = unpriv_open();
	if (wd->dev < 0)
		return -errno;
	wd->mem = memfd_create("unpriv-stress", MFD_CLOEXEC);
	if (wd->mem < 0) {
		ret = -errno;
		goto err;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", wd->mem);
	wd->mem_ro = open(path, O_RDONLY | O_CLOEXEC);
	if (wd->mem_ro < 0) {
		ret = -errno;
		goto err;
	}
	ret = world_fill(w, wd);
	if (ret)
		goto err;

	for (a = 0; a < AS_NR; a++) {
		ret = (int)mod_ioctl(w, wd->dev, UNPRIV_CREATE_AS, 0);
		if (ret < 0)
			goto err;
		wd->as[a] = ret;
		ret = world_layout(w, wd, a);
		if (ret)
			goto err;
	}
	for (v = 0; v < VCPUS; v++) {
		struct vslot *vs = &wd->v[v];
		void *run;

		ret = (int)mod_ioctl(w, wd->dev, UNPRIV_CREATE_VCPU, 0);
		if (ret < 0)
			goto err;
		vs->fd = ret;
		run = mmap(NULL, UNPRIV_RUN_SIZE, PROT_READ | PROT_WRITE,
			   MAP_SHARED, vs->fd, 0);
		if (run == MAP_FAILED) {
			ret = -errno;
			goto err;
		}
		vs->run = run;
		vs->run->regs.rsp = STACK_TOP(v);
		vs->run->regs.rip = guest_lib_sys_addr();
		vs->run->regs.cs = UNPRIV_CS_64;
		vs->run->regs.ss = UNPRIV_DS;
	}
	wd->alive = true;
	return 0;
err:
	world_destroy(wd);
	return ret;
}

/*
 * Make a world in wd (its locks are initialised once, by the caller).
 * Returns 0, or -errno of the step that failed; the world is then not
 * alive, and nothing of it is left open.
 */
int world_create(struct worker *w, struct world *wd)
{
	int fail_fd = w->fail_fd, ret;

	/*
	 * Not under --fault-inject: a world takes a hundred allocations,
	 * and with a few percent of them failing, none would be made (each
	 * of them fails in turn under --fail-nth instead).
	 */
	w->fail_fd = -1;
	ret = world_make(w, wd);
	w->fail_fd = fail_fd;
	return ret;
}

void world_destroy(struct world *wd)
{
	int a, v;

	for (v = 0; v < VCPUS; v++) {
		struct vslot *vs = &wd->v[v];

		if (vs->run != MAP_FAILED)
			munmap(vs->run, UNPRIV_RUN_SIZE);
		vs->run = MAP_FAILED;
		if (vs->fd >= 0)
			close(vs->fd);
		vs->fd = -1;
	}
	for (a = 0; a < AS_NR; a++) {
		if (wd->as[a] >= 0)
			close(wd->as[a]);
		wd->as[a] = -1;
	}
	if (wd->mem_ro >= 0)
		close(wd->mem_ro);
	if (wd->mem >= 0)
		close(wd->mem);
	if (wd->dev >= 0)
		close(wd->dev);
	wd->mem = wd->mem_ro = wd->dev = -1;
	wd->alive = false;
}

/*
 * An intruder on vs, a vcpu of the world's generation: it is counted
 * only while that is the world's, in one word with it.  A child may run
 * a vcpu of a world recycled since its fork; were its count to reach
 * the new world's, which starts at 0, its decrement would hide the next
 * intruder there from the claim holder, who would take that one's EBUSY
 * for the module's.
 */
void intruder_enter(struct vslot *vs, unsigned long generation)
{
	uint64_t old = atomic_load(&vs->intruders);

	do {
		if (old >> 32 != (uint32_t)generation)
			break;
	} while (!atomic_compare_exchange_weak(&vs->intruders, &old, old + 1));
	atomic_fetch_add(&vs->intrusions, 1);
}

void intruder_leave(struct vslot *vs, unsigned long generation)
{
	uint64_t old = atomic_load(&vs->intruders);

	do {
		if (old >> 32 != (uint32_t)generation || !(uint32_t)old)
			return;
	} while (!atomic_compare_exchange_weak(&vs->intruders, &old, old - 1));
}

bool intruders_now(struct vslot *vs)
{
	return (uint32_t)atomic_load(&vs->intruders) != 0;
}

/*
 * Close vcpu v's fd, maybe while another thread runs it: its file goes
 * when the fd and the run page's mapping both let it go.
 */
void world_kill_vcpu(struct stress *s, struct world *wd, int v)
{
	struct vslot *vs = &wd->v[v];

	if (atomic_exchange(&vs->killed, 1))
		return;
	if (mmap(vs->run, UNPRIV_RUN_SIZE, PROT_READ | PROT_WRITE,
		 MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)
		abort();
	if (dup2(s->tomb, vs->fd) < 0)
		abort();
}

void world_kill_as(struct stress *s, struct world *wd, int a)
{
	if (atomic_exchange(&wd->as_killed[a], 1))
		return;
	if (dup2(s->tomb, wd->as[a]) < 0)
		abort();
}
