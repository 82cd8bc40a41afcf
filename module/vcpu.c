// SPDX-License-Identifier: GPL-2.0
/*
 * unpriv: vcpus: the vcpu file and its ioctls.
 *
 * UNPRIV_RUN does not itself enter the guest: the ioctl returns an int,
 * which the system call entry code stores into the thread's rax, and a
 * guest's rax is 64 bits.  RUN claims the vcpu, records it in the thread
 * and raises TIF_NOTIFY_SIGNAL; on its way back to user mode the thread
 * calls arch_do_signal_or_restart(), which hooks.c redirects to
 * unpriv_vcpu_signal(), and there, after the return value is stored, the
 * thread's user registers, mm and per-thread state are swapped for the
 * guest's.  Every way back to the kernel from guest mode ends in the
 * reverse swap before anything else runs: a system call in
 * unpriv_vcpu_syscall(), any signal (a fault's, a trap's, a host
 * signal, a kick) in unpriv_vcpu_signal().  The ioctl then "returns" at
 * the host registers saved on entry, with 0 or -EINTR in rax.
 *
 * Which vcpu a thread is entering or running is kept in the thread's
 * Syscall User Dispatch selector, which guest mode owns (the host's own
 * dispatch settings are set aside and restored): userspace can only put
 * a user address there, the module only a vcpu, a kernel address.  That
 * makes the check in every hook two loads.
 *
 * A thread that leaves guest mode may stay parked on the vcpu, so that
 * its next RUN can skip most of this: see park.c.
 *
 * Lifetimes: a thread holds a reference to the vcpu's file from RUN to
 * its return, and on while it is parked, so a vcpu is only freed when
 * its file is released, with no thread on it.  Its state says which
 * thread may touch the rest: see the table in vcpu.h.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/pkru.h>

#include "stats.h"
#include "vcpu.h"
#include "compat.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

static void unpriv_vcpu_free(struct unpriv_vcpu *vcpu)
{
	unpriv_vcpu_put_old_as(vcpu);
	if (vcpu->as_file)
		fput(vcpu->as_file);
	fpu_free_guest_fpstate(&vcpu->fpu);
	free_page((unsigned long)vcpu->run);
	unpriv_stats_vcpu_put(vcpu->stats);
	kfree(vcpu);
}

/*
 * Guest mode cannot isolate an I/O permission bitmap or hardware
 * breakpoints: they would apply to guest code.
 */
static inline int unpriv_vcpu_check_thread(void)
{
	struct perf_event * const *bps = current->thread.ptrace_bps;

	if (!current->mm || (current->flags & PF_KTHREAD))
		return -EINVAL;
	if (test_thread_flag(TIF_IO_BITMAP))
		return -EBUSY;
	/*
	 * A process sharing its mm with another (clone(CLONE_VM) without
	 * CLONE_THREAD) would stop being seen as sharing it while this
	 * thread is in guest mode: current_is_single_threaded() and the
	 * like look at each process's first thread's mm.
	 */
	if (test_bit(MMF_MULTIPROCESS, &current->mm->flags))
		return -EBUSY;
	BUILD_BUG_ON(HBP_NUM != 4);
	if (bps[0] || bps[1] || bps[2] || bps[3])
		return -EBUSY;
	return 0;
}

/* --- the vcpu fd -------------------------------------------------------- */

/*
 * Bind the vcpu to the address space behind fd.  A warm vcpu run with
 * the same fd again takes no reference: it holds one while bound.
 */
static int unpriv_vcpu_bind(struct unpriv_vcpu *vcpu, unsigned long fd)
{
	struct unpriv_as *as;
	struct file *file;
	bool same;

	if (fd > INT_MAX)
		return -EBADF;
	rcu_read_lock();
	same = vcpu->as_file &&
	       files_lookup_fd_raw(current->files, fd) == vcpu->as_file;
	rcu_read_unlock();
	if (likely(same))
		return 0;

	file = fget(fd);
	if (!file)
		return -EBADF;
	as = unpriv_as_from_file(file);
	if (!as) {
		fput(file);
		return -EINVAL;
	}
	vcpu->old_as_file = vcpu->as_file;
	vcpu->as_file = file;
	vcpu->as = as;
	return 0;
}

static long unpriv_vcpu_run(struct file *file, unsigned long as_fd)
{
	struct unpriv_vcpu *vcpu = file->private_data;
	int ret;

	if (!unpriv_vcpu_claim(vcpu, UNPRIV_VCPU_ENTERING))
		return -EBUSY;

	ret = unpriv_vcpu_check_thread();
	if (!ret)
		ret = unpriv_vcpu_bind(vcpu, as_fd);
	if (!ret && !unpriv_as_may_run(vcpu->as))
		ret = -EPERM;
	if (!ret && (READ_ONCE(vcpu->run->immediate_exit) ||
		     test_and_clear_bit(UNPRIV_VCPU_KICKED, &vcpu->flags))) {
		vcpu->run->exit_reason = UNPRIV_EXIT_INTR;
		ret = -EINTR;
	}
	if (ret) {
		unpriv_vcpu_put_old_as(vcpu);
		unpriv_vcpu_release_idle(vcpu);
		return ret;
	}

	/* Claim the thread; the guest is entered on the way out. */
	get_file(file);
	WRITE_ONCE(vcpu->task, current);
	vcpu->host.sud = current->syscall_dispatch;
	unpriv_sel_set_vcpu(vcpu);
	set_thread_flag(TIF_NOTIFY_SIGNAL);
	return 0;
}

static long unpriv_vcpu_kick(struct unpriv_vcpu *vcpu)
{
	struct task_struct *task;

	unpriv_stats_kick(vcpu);
	set_bit(UNPRIV_VCPU_KICKED, &vcpu->flags);
	/*
	 * Order the bit before reading the runner.  The runner sets ->task
	 * and then tests the bit (test_and_clear_bit() is fully ordered) on
	 * entry: either it sees the bit, or we see it and notify it.
	 */
	smp_mb__after_atomic();
	rcu_read_lock();
	task = READ_ONCE(vcpu->task);
	if (task && unpriv_vcpu_phase(vcpu) != UNPRIV_VCPU_IDLE) {
		set_tsk_thread_flag(task, TIF_NOTIFY_SIGNAL);
		kick_process(task);
	}
	rcu_read_unlock();
	return 0;
}

/* The size of an FPU image (UNPRIV_CAP_FPU), the same for every vcpu. */
static unsigned int unpriv_fpu_size;

int unpriv_vcpu_fpu_size(void)
{
	return unpriv_fpu_size;
}

int unpriv_vcpu_init(void)
{
	struct fpu_guest fpu;

	if (!fpu_alloc_guest_fpstate(&fpu))
		return -ENOMEM;
	unpriv_fpu_size = fpu.uabi_size;
	fpu_free_guest_fpstate(&fpu);
	return 0;
}

static long unpriv_vcpu_fpu(struct unpriv_vcpu *vcpu,
			    struct unpriv_fpu __user *ufpu, bool set)
{
	struct fpu_guest *gfpu = &vcpu->fpu;
	struct unpriv_fpu f;
	void *image;
	long ret = 0;

	if (copy_from_user(&f, ufpu, sizeof(f)))
		return -EFAULT;
	if (f.flags || f.size < gfpu->uabi_size)
		return -EINVAL;
	image = kvzalloc(gfpu->uabi_size, GFP_KERNEL);
	if (!image)
		return -ENOMEM;
	if (set && copy_from_user(image, u64_to_user_ptr(f.buf),
				  gfpu->uabi_size)) {
		ret = -EFAULT;
		goto out;
	}

	if (!unpriv_vcpu_claim(vcpu, UNPRIV_VCPU_BUSY)) {
		ret = -EBUSY;
		goto out;
	}
	if (set)
		ret = fpu_copy_uabi_to_guest_fpstate(gfpu, image,
						     gfpu->fpstate->user_xfeatures,
						     &vcpu->pkru);
	else
		fpu_copy_guest_fpstate_to_uabi(gfpu, image, gfpu->uabi_size,
					       gfpu->fpstate->user_xfeatures,
					       vcpu->pkru);
	unpriv_vcpu_release_idle(vcpu);

	if (!set && copy_to_user(u64_to_user_ptr(f.buf), image,
				 gfpu->uabi_size))
		ret = -EFAULT;
out:
	kvfree(image);
	return ret;
}

static long unpriv_vcpu_ioctl(struct file *file, unsigned int cmd,
			      unsigned long arg)
{
	struct unpriv_vcpu *vcpu = file->private_data;

	switch (cmd) {
	case UNPRIV_RUN:
		return unpriv_vcpu_run(file, arg);
	case UNPRIV_KICK:
		return unpriv_vcpu_kick(vcpu);
	case UNPRIV_GET_FPU:
		return unpriv_vcpu_fpu(vcpu, (void __user *)arg, false);
	case UNPRIV_SET_FPU:
		return unpriv_vcpu_fpu(vcpu, (void __user *)arg, true);
	case UNPRIV_GET_STATS_FD:
		return unpriv_stats_vcpu_getfd(vcpu, arg);
	default:
		return -ENOTTY;
	}
}

static int unpriv_vcpu_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct unpriv_vcpu *vcpu = file->private_data;

	if (vma->vm_pgoff || vma->vm_end - vma->vm_start != UNPRIV_RUN_SIZE ||
	    !(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	unpriv_vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	return vm_insert_page(vma, vma->vm_start, virt_to_page(vcpu->run));
}

/* No thread runs the vcpu or is parked on it: each holds its file. */
static int unpriv_vcpu_release(struct inode *inode, struct file *file)
{
	unpriv_vcpu_free(file->private_data);
	return 0;
}

static const struct file_operations unpriv_vcpu_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= unpriv_vcpu_ioctl,
	.mmap		= unpriv_vcpu_mmap,
	.release	= unpriv_vcpu_release,
	.llseek		= noop_llseek,
};

int unpriv_vcpu_create(unsigned long flags)
{
	struct unpriv_vcpu *vcpu;
	struct file *file;
	int fd;

	BUILD_BUG_ON(sizeof(struct unpriv_run) > UNPRIV_RUN_SIZE);
	BUILD_BUG_ON(UNPRIV_RUN_SIZE != PAGE_SIZE);

	if (flags)
		return -EINVAL;

	vcpu = kzalloc(sizeof(*vcpu), GFP_KERNEL_ACCOUNT);
	if (!vcpu)
		return -ENOMEM;
	vcpu->run = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!vcpu->run)
		goto err_free;
	vcpu->stats = unpriv_stats_vcpu_new();
	if (!vcpu->stats)
		goto err_free;
	if (!fpu_alloc_guest_fpstate(&vcpu->fpu))
		goto err_free;
	unpriv_fpu_guest_init(&vcpu->fpu);
	vcpu->pkru = read_pkru();
	atomic_set(&vcpu->state, UNPRIV_VCPU_IDLE);

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		goto err_free_fd;
	/* A parked thread knows its vcpu's fd by this file. */
	file = anon_inode_getfile("[unpriv-vcpu]", &unpriv_vcpu_fops, vcpu,
				  O_RDWR);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		fd = PTR_ERR(file);
		goto err_free_fd;
	}
	vcpu->file = file;
	fd_install(fd, file);
	return fd;

err_free:
	fd = -ENOMEM;
err_free_fd:
	unpriv_vcpu_free(vcpu);
	return fd;
}
