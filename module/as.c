// SPDX-License-Identifier: GPL-2.0
/*
 * unpriv: address spaces.
 *
 * An address space is an mm of its own, made with mm_alloc(): no vDSO,
 * no stack, no heap, nothing but what its owner maps into it.  Mapping
 * operations use the kernel's own mmap code, which acts on current->mm:
 * the calling thread borrows the address space's mm for the duration
 * of the call (unpriv_as_enter()/unpriv_as_leave()).
 *
 * Who pays: mm_alloc() makes the creating thread the mm's owner, which
 * decides the memory cgroup that guest memory is charged to.  The owner
 * must stay valid as long as the mm, so it is made the creating
 * process's group leader, held by a task reference: guest memory is
 * charged to the memory cgroup of the process that created the address
 * space, wherever its fd goes later.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/user_namespace.h>
#include <asm/pkru.h>

#include "unpriv.h"
#include "compat.h"
#include "segs.h"

static const struct file_operations unpriv_as_fops;

struct unpriv_as *unpriv_as_from_file(struct file *file)
{
	if (!file || file->f_op != &unpriv_as_fops)
		return NULL;
	return file->private_data;
}

void unpriv_switch_mm(struct mm_struct *mm)
{
	task_lock(current);
	local_irq_disable();
	unpriv_switch_mm_locked(mm);
	local_irq_enable();
	task_unlock(current);
}

/* What a thread borrowing an address space's mm sets aside. */
struct unpriv_as_borrow {
	struct mm_struct *mm;
	u32 pkru;
	bool ldt;			/* a selector named the caller's LDT */
	struct unpriv_cpu_segs segs;	/* then: the caller's, as they were */
};

/* Whether one of the thread's data selectors names its LDT. */
static bool unpriv_as_segs_name_ldt(void)
{
	u16 ds, es, fs, gs;

	savesegment(ds, ds);
	savesegment(es, es);
	savesegment(fs, fs);
	savesegment(gs, gs);
	return (ds | es | fs | gs) & SEGMENT_TI_MASK;
}

/*
 * Borrow as's mm for a mapping operation.  Besides the mm, the mm code
 * may change one piece of the calling thread's state: a PROT_EXEC-only
 * map or protect gives the mm an execute-only pkey and denies that key
 * in current's PKRU (execute_only_pkey()).  That PKRU is the host's, not
 * the guest's, and is put back.
 *
 * And the LDT belongs to the mm: the space's has none.  A selector of
 * the caller's that names its LDT (Wine's, for one) would be reloaded
 * against that empty LDT, and turned to null, by a context switch while
 * the mm is borrowed (the operation may sleep).  Such selectors are
 * null while it is, and loaded again, with their bases, after.
 */
static void unpriv_as_enter(struct unpriv_as *as, struct unpriv_as_borrow *b)
{
	struct unpriv_cpu_segs null;

	b->mm = current->mm;
	b->pkru = read_pkru();
	b->ldt = unpriv_as_segs_name_ldt();
	if (unlikely(b->ldt)) {
		local_irq_disable();
		unpriv_segs_read(&b->segs);
		null = b->segs;
		if (null.ds & SEGMENT_TI_MASK)
			null.ds = 0;
		if (null.es & SEGMENT_TI_MASK)
			null.es = 0;
		if (null.fs & SEGMENT_TI_MASK)
			null.fs = 0;
		if (null.gs & SEGMENT_TI_MASK)
			null.gs = 0;
		unpriv_segs_load(&b->segs, &null);
		local_irq_enable();
	}
	unpriv_switch_mm(as->mm);
}

static void unpriv_as_leave(struct unpriv_as_borrow *b)
{
	struct unpriv_cpu_segs cur;

	unpriv_switch_mm(b->mm);
	if (unlikely(b->ldt)) {
		local_irq_disable();
		unpriv_segs_read(&cur);
		unpriv_segs_load(&cur, &b->segs);
		local_irq_enable();
	}
	write_pkru(b->pkru);
}

static bool unpriv_range_ok(u64 addr, u64 len)
{
	return len && PAGE_ALIGNED(addr) && PAGE_ALIGNED(len) &&
	       addr < TASK_SIZE_MAX && len <= TASK_SIZE_MAX - addr;
}

#define UNPRIV_PROT_ALL	(UNPRIV_PROT_READ | UNPRIV_PROT_WRITE | UNPRIV_PROT_EXEC)

/*
 * Only a regular file can be guest memory: a memfd or another shmem
 * file, a hugetlbfs file, a file on disk.  Every other file that has an
 * mmap is refused, because a mapping holds its file for as long as the
 * mm lives: a vcpu's own file mapped into the space it runs in would make
 * vcpu -> space -> mm -> mapping -> vcpu, a cycle that outlives every
 * descriptor and the process (its memory, its memory cgroup, the module);
 * an io_uring ring (through its registered files) or any anonymous-inode
 * file that can hold descriptors could do the same; and /dev/zero, a
 * perf buffer or a device's memory are no guest memory.
 */
static bool unpriv_as_file_ok(struct file *file)
{
	return S_ISREG(file_inode(file)->i_mode);
}

static int unpriv_as_map(struct unpriv_as *as, const struct unpriv_as_map *m)
{
	unsigned long flags = MAP_FIXED;
	struct unpriv_as_borrow b;
	unsigned long addr;
	struct file *file;

	/* The ABI's protection bits are mmap's. */
	BUILD_BUG_ON(PROT_READ != UNPRIV_PROT_READ);
	BUILD_BUG_ON(PROT_WRITE != UNPRIV_PROT_WRITE);
	BUILD_BUG_ON(PROT_EXEC != UNPRIV_PROT_EXEC);

	if (!unpriv_range_ok(m->addr, m->len) || !PAGE_ALIGNED(m->offset) ||
	    m->offset + m->len < m->offset || (m->prot & ~UNPRIV_PROT_ALL) ||
	    m->reserved)
		return -EINVAL;
	if (m->flags == UNPRIV_MAP_SHARED)
		flags |= MAP_SHARED;
	else if (m->flags == UNPRIV_MAP_PRIVATE)
		flags |= MAP_PRIVATE;
	else
		return -EINVAL;

	file = fget(m->fd);
	if (!file)
		return -EBADF;
	if (!unpriv_as_file_ok(file)) {
		fput(file);
		return -ENODEV;
	}
	unpriv_as_enter(as, &b);
	addr = vm_mmap(file, m->addr, m->len, m->prot, flags, m->offset);
	unpriv_as_leave(&b);
	fput(file);

	if (IS_ERR_VALUE(addr))
		return (int)addr;
	return 0;
}

static int unpriv_as_unmap(struct unpriv_as *as, const struct unpriv_as_range *r)
{
	struct unpriv_as_borrow b;
	int ret;

	if (!unpriv_range_ok(r->addr, r->len) || r->prot || r->flags)
		return -EINVAL;
	unpriv_as_enter(as, &b);
	ret = vm_munmap(r->addr, r->len);
	unpriv_as_leave(&b);
	return ret;
}

static int unpriv_as_protect(struct unpriv_as *as,
			     const struct unpriv_as_range *r)
{
	struct unpriv_as_borrow b;
	int ret;

	if (!unpriv_range_ok(r->addr, r->len) ||
	    (r->prot & ~UNPRIV_PROT_ALL) || r->flags)
		return -EINVAL;
	unpriv_as_enter(as, &b);
	ret = static_call(unpriv_do_mprotect_pkey)(r->addr, r->len, r->prot, -1);
	unpriv_as_leave(&b);
	return ret;
}

static int unpriv_as_do_op(struct unpriv_as *as, const struct unpriv_as_op *op)
{
	if (op->reserved)
		return -EINVAL;
	switch (op->op) {
	case UNPRIV_AS_OP_MAP:
		return unpriv_as_map(as, &op->map);
	case UNPRIV_AS_OP_UNMAP:
		return unpriv_as_unmap(as, &op->range);
	case UNPRIV_AS_OP_PROTECT:
		return unpriv_as_protect(as, &op->range);
	default:
		return -EINVAL;
	}
}

static long unpriv_as_batch(struct unpriv_as *as,
			    struct unpriv_as_batch __user *ubatch)
{
	struct unpriv_as_op __user *uops;
	struct unpriv_as_batch batch;
	struct unpriv_as_op op;
	int err = 0;
	u32 i;

	if (copy_from_user(&batch, ubatch, sizeof(batch)))
		return -EFAULT;
	if (batch.flags || batch.count > UNPRIV_AS_BATCH_MAX)
		return -EINVAL;
	uops = u64_to_user_ptr(batch.ops);

	for (i = 0; i < batch.count; i++) {
		if (copy_from_user(&op, &uops[i], sizeof(op))) {
			err = -EFAULT;
			break;
		}
		err = unpriv_as_do_op(as, &op);
		if (err)
			break;
		if (fatal_signal_pending(current)) {
			err = -EINTR;
			i++;
			break;
		}
	}

	if (put_user(i, &ubatch->done) || put_user(err, &ubatch->error))
		return -EFAULT;
	return 0;
}

/*
 * One page of UNPRIV_AS_RW: copy between the caller's buf and the guest
 * page at addr, through bounce (a page-sized kernel buffer), so that a
 * bad buf changes no guest byte.  Returns bytes copied, or -EIO when the
 * guest page is not there, -ENOMEM when it is but could not be faulted
 * in for lack of memory, -EFAULT when no byte of buf could be used.
 */
static long unpriv_as_rw_page(struct unpriv_as *as, unsigned long addr,
			      void __user *buf, size_t len, bool write,
			      void *bounce)
{
	unsigned int gup = FOLL_FORCE | (write ? FOLL_WRITE : 0);
	size_t off = offset_in_page(addr);
	struct page *page;
	void *kaddr;
	long got;

	len = min_t(size_t, len, PAGE_SIZE - off);
	if (write) {
		len -= copy_from_user(bounce, buf, len);
		if (!len)
			return -EFAULT;
	}

	if (mmap_read_lock_killable(as->mm))
		return -EINTR;
	got = unpriv_get_remote_page(as->mm, addr, gup, &page);
	mmap_read_unlock(as->mm);
	if (got == -ENOMEM)
		return -ENOMEM;
	if (got <= 0)
		return -EIO;

	kaddr = kmap_local_page(page);
	if (write)
		memcpy(kaddr + off, bounce, len);
	else
		memcpy(bounce, kaddr + off, len);
	kunmap_local(kaddr);
	if (write)
		set_page_dirty_lock(page);
	put_page(page);

	/* The guest's mmap_lock is dropped: faults on buf are the host's. */
	if (!write) {
		len -= copy_to_user(buf, bounce, len);
		if (!len)
			return -EFAULT;
	}
	return len;
}

static long unpriv_as_rw(struct unpriv_as *as, struct unpriv_as_rw __user *urw)
{
	struct unpriv_as_rw rw;
	size_t done = 0;
	void *bounce;
	bool write;
	long n = 0;

	if (copy_from_user(&rw, urw, sizeof(rw)))
		return -EFAULT;
	if ((rw.flags & ~UNPRIV_RW_WRITE) || rw.reserved || rw.len > SZ_1G)
		return -EINVAL;
	write = rw.flags & UNPRIV_RW_WRITE;
	bounce = (void *)__get_free_page(GFP_KERNEL);
	if (!bounce)
		return -ENOMEM;

	while (done < rw.len) {
		size_t want = min_t(size_t, rw.len - done,
				    PAGE_SIZE - offset_in_page(rw.addr + done));

		n = unpriv_as_rw_page(as, rw.addr + done,
				      u64_to_user_ptr(rw.buf + done),
				      rw.len - done, write, bounce);
		if (n < 0)
			break;
		done += n;
		if (n < want) {
			/* buf ended part way: report what was copied */
			n = -EFAULT;
			break;
		}
		if (fatal_signal_pending(current)) {
			n = -EINTR;
			break;
		}
		cond_resched();
	}
	free_page((unsigned long)bounce);
	/* Bytes copied count even when the rest failed, as for write(2). */
	if (done)
		return done;
	return n < 0 ? n : 0;
}

static long unpriv_as_ioctl(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	struct unpriv_as *as = file->private_data;
	void __user *argp = (void __user *)arg;
	union {
		struct unpriv_as_map map;
		struct unpriv_as_range range;
	} u;

	switch (cmd) {
	case UNPRIV_AS_MAP:
		if (copy_from_user(&u.map, argp, sizeof(u.map)))
			return -EFAULT;
		return unpriv_as_map(as, &u.map);
	case UNPRIV_AS_UNMAP:
		if (copy_from_user(&u.range, argp, sizeof(u.range)))
			return -EFAULT;
		return unpriv_as_unmap(as, &u.range);
	case UNPRIV_AS_PROTECT:
		if (copy_from_user(&u.range, argp, sizeof(u.range)))
			return -EFAULT;
		return unpriv_as_protect(as, &u.range);
	case UNPRIV_AS_BATCH:
		return unpriv_as_batch(as, argp);
	case UNPRIV_AS_RW:
		return unpriv_as_rw(as, argp);
	default:
		return -ENOTTY;
	}
}

static void unpriv_as_free(struct unpriv_as *as)
{
	mmput(as->mm);
	put_task_struct(as->owner);
	kfree(as);
}

static int unpriv_as_release(struct inode *inode, struct file *file)
{
	unpriv_as_free(file->private_data);
	return 0;
}

static const struct file_operations unpriv_as_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= unpriv_as_ioctl,
	.release	= unpriv_as_release,
	.llseek		= noop_llseek,
};

/*
 * An mm from mm_alloc() has no mmap layout.  Give it the creator's, the
 * one exec would have given a program of the same personality: shmem's
 * mmap path consults the layout even for MAP_FIXED.
 */
static void unpriv_as_copy_layout(struct mm_struct *mm)
{
	struct mm_struct *host = current->mm;

	unpriv_mm_copy_topdown(mm, host);
	mm->mmap_base = host->mmap_base;
	mm->mmap_legacy_base = host->mmap_legacy_base;
#ifdef CONFIG_HAVE_ARCH_COMPAT_MMAP_BASES
	mm->mmap_compat_base = host->mmap_compat_base;
	mm->mmap_compat_legacy_base = host->mmap_compat_legacy_base;
#endif
	mm->task_size = host->task_size;
}

/*
 * While a thread runs in guest mode, its mm is the address space's: the
 * kernel asks that mm whether another process may ptrace the thread,
 * open its /proc/PID/{mem,maps,environ...} or process_vm_readv() it
 * (__ptrace_may_access(), task_dump_owner()).  mm_alloc() copied the
 * creator's dumpable flag of the moment, and took the creator's user
 * namespace: a program that becomes non-dumpable later (prctl, setuid)
 * would stay open to its own user through its threads in guest mode.
 * So the space's mm is never dumpable, and belongs to the user namespace
 * of the creator's mm: a thread in guest mode is looked at only with
 * CAP_SYS_PTRACE over the process, as a non-dumpable one is.
 * unpriv_as_may_run() keeps that so for every process that runs it.
 */
static void unpriv_as_set_dump_owner(struct mm_struct *mm)
{
	set_mask_bits(&mm->flags, MMF_DUMPABLE_MASK, SUID_DUMP_DISABLE);
	put_user_ns(mm->user_ns);
	mm->user_ns = get_user_ns(current->mm->user_ns);
}

/*
 * Whether the calling thread may run in as: the space's user namespace
 * must be its mm's or an ancestor, or capabilities in a namespace below
 * the process's would reach the thread while it is in guest mode.
 */
bool unpriv_as_may_run(const struct unpriv_as *as)
{
	const struct user_namespace *ns = current->mm->user_ns;

	for (; ns; ns = ns->parent)
		if (ns == as->mm->user_ns)
			return true;
	return false;
}

int unpriv_as_create(unsigned long flags)
{
	struct unpriv_as *as;
	int fd;

	if (flags)
		return -EINVAL;
	if (!current->mm)
		return -EINVAL;

	as = kzalloc(sizeof(*as), GFP_KERNEL_ACCOUNT);
	if (!as)
		return -ENOMEM;
	as->mm = static_call(unpriv_mm_alloc)();
	if (!as->mm) {
		kfree(as);
		return -ENOMEM;
	}
	unpriv_as_copy_layout(as->mm);
	unpriv_as_set_dump_owner(as->mm);
	as->owner = get_task_struct(current->group_leader);
#ifdef CONFIG_MEMCG
	WRITE_ONCE(as->mm->owner, as->owner);
#endif

	fd = anon_inode_getfd("[unpriv-as]", &unpriv_as_fops, as,
			      O_RDWR | O_CLOEXEC);
	if (fd < 0)
		unpriv_as_free(as);
	return fd;
}
