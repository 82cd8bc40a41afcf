/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * unpriv: an unprivileged mode for ordinary Linux threads.
 *
 * The ABI between the unpriv module (/dev/unpriv) and userspace.  This
 * header is the only thing the two share; Documentation/unpriv-api.rst
 * describes every ioctl in prose.
 *
 * Conventions, as in KVM:
 *  - One ioctl type, UNPRIV_IO.  Numbers say which file an ioctl belongs
 *    to: 0x00-0x3f the device (/dev/unpriv), 0x40-0x7f an address space,
 *    0x80-0xbf a vcpu.  An ioctl on the wrong file fails with ENOTTY.
 *  - UNPRIV_API_VERSION is frozen; growth is announced by extensions that
 *    UNPRIV_CHECK_EXTENSION reports.  A shipped struct or number never
 *    changes: a new one is added instead.
 *  - Structs use fixed-width types only, explicit padding, sizes that are
 *    multiples of 8, pointers as __u64.  Reserved fields and unknown flag
 *    bits must be zero, or the ioctl fails with EINVAL.
 */
#ifndef _UAPI_LINUX_UNPRIV_H
#define _UAPI_LINUX_UNPRIV_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* The one version of this API.  It does not change; extensions do. */
#define UNPRIV_API_VERSION	1

/* Unassigned in Documentation/userspace-api/ioctl/ioctl-number.rst (6.1). */
#define UNPRIV_IO		0xBE

/*
 * ioctls on /dev/unpriv
 */

/*
 * UNPRIV_GET_API_VERSION - the API version the module implements.
 * arg:     must be 0.
 * Returns: UNPRIV_API_VERSION.
 * Errors:  EINVAL  arg is not 0.
 */
#define UNPRIV_GET_API_VERSION	_IO(UNPRIV_IO, 0x00)

/*
 * UNPRIV_CHECK_EXTENSION - is an extension (UNPRIV_CAP_*) available?
 * arg:     the extension number.
 * Returns: 0 when it is not (as for any number this module does not
 *          know), a positive value when it is; what the value means, if
 *          more than "yes", is documented with the extension.
 * Errors:  none.
 */
#define UNPRIV_CHECK_EXTENSION	_IO(UNPRIV_IO, 0x01)

/* Extensions (UNPRIV_CHECK_EXTENSION's argument). */

/*
 * UNPRIV_GET_FPU and UNPRIV_SET_FPU exist; the value is the size in
 * bytes of the FPU image they take.
 */
#define UNPRIV_CAP_FPU		1

/*
 * UNPRIV_GET_GLOBAL_STATS_FD (on /dev/unpriv) and UNPRIV_GET_STATS_FD (on
 * a vcpu) exist: exit counts in binary stats files (struct
 * unpriv_stats_header).  The value is 1.
 */
#define UNPRIV_CAP_STATS	2

/*
 * UNPRIV_CREATE_AS - create an address space.
 * arg:     flags, must be 0.
 * Returns: a new file descriptor (O_CLOEXEC) for the address space: an
 *          mm of its own, empty (no vDSO, no stack, no heap; see
 *          Documentation/unpriv-api.rst for what an empty x86-64 address
 *          space still shows).  Its memory is charged to the memory
 *          cgroup of the process that created it.
 * Errors:  EINVAL  flags not 0.
 *          ENOMEM, EMFILE, ENFILE.
 */
#define UNPRIV_CREATE_AS	_IO(UNPRIV_IO, 0x02)

/*
 * UNPRIV_CREATE_VCPU - create a vcpu: the registers and exit state one
 * thread runs guest code with.
 * arg:     flags, must be 0.
 * Returns: a new file descriptor (O_CLOEXEC); mmap() its first
 *          UNPRIV_RUN_SIZE bytes (offset 0, MAP_SHARED) to get its
 *          struct unpriv_run.
 * Errors:  EINVAL  flags not 0.
 *          ENOMEM, EMFILE, ENFILE.
 */
#define UNPRIV_CREATE_VCPU	_IO(UNPRIV_IO, 0x03)

/*
 * Binary statistics (UNPRIV_CAP_STATS), in the layout of KVM's binary
 * stats files (KVM_GET_STATS_FD), so that a reader of those reads these.
 * A stats file is read-only: read() and pread() at any offset, lseek();
 * no mmap, no ioctl, no write.  It holds, from offset 0:
 *
 *	struct unpriv_stats_header	at 0
 *	id string			at id_offset, name_size bytes,
 *					NUL-padded: "unpriv" for the global
 *					file, "unpriv-vcpu-N" for a vcpu's
 *	num_desc descriptors		at desc_offset, each a struct
 *					unpriv_stats_desc followed by its
 *					name in name_size bytes
 *	the data			at data_offset: __u64 values, a
 *					descriptor's at data_offset +
 *					its offset, size of them
 *
 * Everything but the data is the same for every read of a file: read it
 * once, then pread() the data as often as needed.  Readers find a stat by
 * its name, never by its place: a later module may add stats (appending
 * descriptors), and a reader must skip the ones it does not know.  Each
 * value is read whole, but the block is not one snapshot: a vcpu running
 * meanwhile may have counted an exit in one value and not yet in another.
 *
 * The stats today, all cumulative counts (UNPRIV_STATS_TYPE_CUMULATIVE,
 * UNPRIV_STATS_UNIT_NONE, UNPRIV_STATS_BASE_POW10, exponent 0, size 1):
 *
 *	exits_syscall	exits from guest mode, by reason: what UNPRIV_RUN
 *	exits_fault	returned in run->exit_reason, for the runs that
 *	exits_trap	entered the guest (a RUN that returns EINTR before
 *	exits_intr	entering it, or fails, counts in none)
 *	kicks		UNPRIV_KICK calls
 *
 * A vcpu's file counts that vcpu, from its creation; the global file
 * every vcpu, from the time the module was loaded, whether it still
 * exists or not.  Counts only grow.
 */
#define UNPRIV_STATS_NAME_SIZE		48

struct unpriv_stats_header {
	__u32 flags;		/* out: 0 */
	__u32 name_size;	/* out: bytes of the id and of each name */
	__u32 num_desc;		/* out: number of stats */
	__u32 id_offset;	/* out: where the file's id string is */
	__u32 desc_offset;	/* out: where the descriptors are */
	__u32 data_offset;	/* out: where the values are */
};

/* unpriv_stats_desc.flags: the numbers are KVM's (KVM_STATS_*). */
#define UNPRIV_STATS_TYPE_SHIFT		0
#define UNPRIV_STATS_TYPE_MASK		(0xF << UNPRIV_STATS_TYPE_SHIFT)
#define UNPRIV_STATS_TYPE_CUMULATIVE	(0x0 << UNPRIV_STATS_TYPE_SHIFT)
#define UNPRIV_STATS_TYPE_INSTANT	(0x1 << UNPRIV_STATS_TYPE_SHIFT)
#define UNPRIV_STATS_TYPE_PEAK		(0x2 << UNPRIV_STATS_TYPE_SHIFT)
#define UNPRIV_STATS_TYPE_LINEAR_HIST	(0x3 << UNPRIV_STATS_TYPE_SHIFT)
#define UNPRIV_STATS_TYPE_LOG_HIST	(0x4 << UNPRIV_STATS_TYPE_SHIFT)
#define UNPRIV_STATS_TYPE_MAX		UNPRIV_STATS_TYPE_LOG_HIST

#define UNPRIV_STATS_UNIT_SHIFT		4
#define UNPRIV_STATS_UNIT_MASK		(0xF << UNPRIV_STATS_UNIT_SHIFT)
#define UNPRIV_STATS_UNIT_NONE		(0x0 << UNPRIV_STATS_UNIT_SHIFT)
#define UNPRIV_STATS_UNIT_BYTES		(0x1 << UNPRIV_STATS_UNIT_SHIFT)
#define UNPRIV_STATS_UNIT_SECONDS	(0x2 << UNPRIV_STATS_UNIT_SHIFT)
#define UNPRIV_STATS_UNIT_CYCLES	(0x3 << UNPRIV_STATS_UNIT_SHIFT)
#define UNPRIV_STATS_UNIT_BOOLEAN	(0x4 << UNPRIV_STATS_UNIT_SHIFT)
#define UNPRIV_STATS_UNIT_MAX		UNPRIV_STATS_UNIT_BOOLEAN

#define UNPRIV_STATS_BASE_SHIFT		8
#define UNPRIV_STATS_BASE_MASK		(0xF << UNPRIV_STATS_BASE_SHIFT)
#define UNPRIV_STATS_BASE_POW10		(0x0 << UNPRIV_STATS_BASE_SHIFT)
#define UNPRIV_STATS_BASE_POW2		(0x1 << UNPRIV_STATS_BASE_SHIFT)
#define UNPRIV_STATS_BASE_MAX		UNPRIV_STATS_BASE_POW2

/*
 * One stat; its name (NUL-terminated, in name_size bytes) follows.  The
 * value is flags' unit times (BASE_POW10 ? 10 : 2) to the exponent.
 */
struct unpriv_stats_desc {
	__u32 flags;		/* out: UNPRIV_STATS_TYPE_, _UNIT_, _BASE_* */
	__s16 exponent;		/* out: see above */
	__u16 size;		/* out: how many __u64 values */
	__u32 offset;		/* out: of the first, from data_offset */
	__u32 bucket_size;	/* out: for LINEAR_HIST; else 0 */
	char name[];
};

/*
 * UNPRIV_GET_GLOBAL_STATS_FD - a stats file counting every vcpu (above).
 * arg:     flags, must be 0.
 * Returns: a new file descriptor (O_RDONLY, O_CLOEXEC).  It holds the
 *          module, as any unpriv file does, and nothing else.
 * Errors:  EINVAL  flags not 0.
 *          ENOMEM, EMFILE, ENFILE.
 */
#define UNPRIV_GET_GLOBAL_STATS_FD	_IO(UNPRIV_IO, 0x04)

/*
 * ioctls on an address-space fd
 */

#define UNPRIV_PROT_READ	0x1
#define UNPRIV_PROT_WRITE	0x2
#define UNPRIV_PROT_EXEC	0x4

/* Exactly one of these in unpriv_as_map.flags. */
#define UNPRIV_MAP_SHARED	0x1	/* writes reach the file */
#define UNPRIV_MAP_PRIVATE	0x2	/* copy on write */

/*
 * struct unpriv_as_map - map part of a file into an address space.
 * Like mmap(MAP_FIXED): what was mapped at [addr, addr + len) before is
 * replaced.  The file is a regular file: a memfd (the usual guest
 * "physical memory"), a shmem, tmpfs or hugetlbfs file, a file on disk.
 * No other file is accepted, even where it has an mmap (the vcpu's or an
 * address space's own file, an io_uring ring, a perf buffer, a device
 * such as /dev/zero): ENODEV.
 */
struct unpriv_as_map {
	__u64 addr;	/* in: guest address, page aligned */
	__u64 len;	/* in: length in bytes, page aligned, not 0 */
	__u64 offset;	/* in: offset in the file, page aligned */
	__s32 fd;	/* in: the file, opened for reading (and writing, for
			 * UNPRIV_MAP_SHARED with UNPRIV_PROT_WRITE) */
	__u32 prot;	/* in: UNPRIV_PROT_* */
	__u32 flags;	/* in: UNPRIV_MAP_SHARED or UNPRIV_MAP_PRIVATE */
	__u32 reserved;	/* must be 0 */
};

/*
 * struct unpriv_as_range - a range of an address space, for unmap and
 * protect.
 */
struct unpriv_as_range {
	__u64 addr;	/* in: guest address, page aligned */
	__u64 len;	/* in: length in bytes, page aligned, not 0 */
	__u32 prot;	/* in: UNPRIV_PROT_* for protect; 0 for unmap */
	__u32 flags;	/* in: must be 0 */
};

/*
 * UNPRIV_AS_MAP - map a file range; see struct unpriv_as_map.
 * Errors:  EINVAL  misaligned or zero addr/len/offset, a range reaching
 *                  beyond the user address space, unknown prot or flags
 *                  bits, not exactly one of SHARED and PRIVATE,
 *                  reserved not 0.
 *          EBADF   fd is not open.
 *          EACCES  the file's open mode does not allow prot.
 *          EPERM   addr below vm.mmap_min_addr without CAP_SYS_RAWIO; a
 *                  shared writable map of a memfd sealed F_SEAL_WRITE.
 *          ENODEV  the file is not a regular file (a pipe, a socket, a
 *                  device, a vcpu, an io_uring ring...), or its
 *                  filesystem cannot map it.
 *          ENOMEM  out of memory or map count.
 */
#define UNPRIV_AS_MAP		_IOW(UNPRIV_IO, 0x40, struct unpriv_as_map)

/*
 * UNPRIV_AS_UNMAP - unmap a range; unmapping nothing is not an error.
 * Errors:  EINVAL  misaligned or zero addr/len, range beyond user space,
 *                  prot or flags not 0.
 */
#define UNPRIV_AS_UNMAP		_IOW(UNPRIV_IO, 0x41, struct unpriv_as_range)

/*
 * UNPRIV_AS_PROTECT - change the protection of a mapped range.
 * As mprotect(2): when the range runs into a hole, the mapped part
 * before the hole has changed when ENOMEM is returned.
 * Errors:  EINVAL  as for UNPRIV_AS_UNMAP, unknown prot bits.
 *          ENOMEM  part of the range is not mapped.
 *          EACCES  the file's open mode does not allow prot.
 */
#define UNPRIV_AS_PROTECT	_IOW(UNPRIV_IO, 0x42, struct unpriv_as_range)

#define UNPRIV_AS_OP_MAP	1
#define UNPRIV_AS_OP_UNMAP	2
#define UNPRIV_AS_OP_PROTECT	3

/* One operation of a batch. */
struct unpriv_as_op {
	__u32 op;		/* in: UNPRIV_AS_OP_* */
	__u32 reserved;		/* must be 0 */
	union {
		struct unpriv_as_map map;	/* UNPRIV_AS_OP_MAP */
		struct unpriv_as_range range;	/* UNPRIV_AS_OP_UNMAP, _PROTECT */
	};
};

struct unpriv_as_batch {
	__u64 ops;	/* in: pointer to an array of struct unpriv_as_op */
	__u32 count;	/* in: its length, at most UNPRIV_AS_BATCH_MAX */
	__u32 flags;	/* in: must be 0 */
	__u32 done;	/* out: how many ops succeeded, in order */
	__s32 error;	/* out: 0, or the -errno of ops[done] */
};

#define UNPRIV_AS_BATCH_MAX	1024

/*
 * UNPRIV_AS_BATCH - several map, unmap and protect operations in one
 * call, in order, stopping at the first that fails.
 * Returns: 0, with done and error saying how far it got: done ==
 *          count and error 0 when all succeeded; otherwise ops[done]
 *          failed with error (-EFAULT when it could not be read) and
 *          the ops before it have taken effect.
 * Errors:  EFAULT  the struct unpriv_as_batch itself cannot be read or
 *                  written.
 *          EINVAL  flags not 0 or count beyond UNPRIV_AS_BATCH_MAX (done
 *                  and error are left as they were).
 */
#define UNPRIV_AS_BATCH		_IOWR(UNPRIV_IO, 0x43, struct unpriv_as_batch)

#define UNPRIV_RW_WRITE		0x1	/* write buf into the guest */

/*
 * struct unpriv_as_rw - copy between the caller's memory and the
 * address space's, with the rights of a debugger: a read-only private
 * mapping can be written (copied on write, as ptrace does); a read-only
 * shared mapping cannot (EIO).
 */
struct unpriv_as_rw {
	__u64 addr;	/* in: guest address */
	__u64 buf;	/* in: the caller's buffer */
	__u64 len;	/* in: bytes, at most 1 GiB per call */
	__u32 flags;	/* in: 0 to read the guest, UNPRIV_RW_WRITE to write */
	__u32 reserved;	/* must be 0 */
};

/*
 * UNPRIV_AS_RW - read or write guest memory.
 * Returns: the number of bytes copied: len, or fewer when the guest
 *          range stops being mapped or buf stops being readable
 *          (writable) part way; 0 for len 0.  Bytes not copied are left
 *          as they were, in the guest and in buf.
 * Errors:  EINVAL  unknown flags, reserved not 0, len above 1 GiB.
 *          EIO     the first guest page is not mapped (or not writable,
 *                  for a write to a shared read-only mapping).
 *          ENOMEM  it is, but could not be faulted in: out of memory.
 *          EFAULT  the first byte of buf is not the caller's memory.
 *          EINTR   a fatal signal arrived before any byte was copied.
 */
#define UNPRIV_AS_RW		_IOW(UNPRIV_IO, 0x44, struct unpriv_as_rw)

/*
 * The vcpu: struct unpriv_run, shared with the module through mmap().
 */

/* Guest registers.  rflags is sanitized on entry (IF set; IOPL, NT, VM,
 * VIF, VIP cleared).  cs is UNPRIV_CS_64 or UNPRIV_CS_32 (32-bit
 * compatibility mode); ss is UNPRIV_DS (0 means it); ds, es, fs, gs are
 * any selector the guest can load itself: 0-3 (null), or a user segment
 * of the GDT with any RPL: 0x20-0x23 (UNPRIV_CS_32), 0x28-0x2b
 * (UNPRIV_DS), 0x30-0x33 (UNPRIV_CS_64), 0x78-0x7b (the CPU number).
 * rip and rsp are user addresses; fs_base and gs_base any canonical
 * address, as the guest's wrfsbase and wrgsbase may set. */
struct unpriv_regs {
	__u64 rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
	__u64 r8, r9, r10, r11, r12, r13, r14, r15;
	__u64 rip, rflags;
	__u64 fs_base, gs_base;
	__u16 cs, ss, ds, es, fs, gs;
	__u16 padding[2];
};

#define UNPRIV_CS_64		0x33	/* __USER_CS */
#define UNPRIV_CS_32		0x23	/* __USER32_CS */
#define UNPRIV_DS		0x2b	/* __USER_DS */

/* run->exit_reason */
#define UNPRIV_EXIT_NONE	0
#define UNPRIV_EXIT_SYSCALL	1
#define UNPRIV_EXIT_FAULT	2
#define UNPRIV_EXIT_TRAP	3
#define UNPRIV_EXIT_INTR	4

/* run->syscall.insn: the instruction that made the system call. */
#define UNPRIV_SYSCALL_INSN_SYSCALL	1	/* syscall, 64-bit mode */
#define UNPRIV_SYSCALL_INSN_INT80	2	/* int $0x80 (any mode) */
#define UNPRIV_SYSCALL_INSN_FAST32	3	/* sysenter, or syscall in
						 * 32-bit mode: the hardware
						 * loses the return address;
						 * regs.rip is not meaningful */

struct unpriv_run {
	/* in: when set, UNPRIV_RUN returns -EINTR at once (exit INTR) */
	__u8 immediate_exit;
	__u8 padding1[7];

	/* out: why the last UNPRIV_RUN returned, UNPRIV_EXIT_* */
	__u32 exit_reason;
	__u32 padding2;

	/* in/out: the guest's registers; read on entry, written on exit */
	struct unpriv_regs regs;

	/* out: details of the exit */
	union {
		/*
		 * UNPRIV_EXIT_SYSCALL: the guest made a system call; it did
		 * not run.  regs.rax holds the number as the guest passed
		 * it (Linux's orig_rax), regs.rip points after the
		 * instruction.  Set regs.rax to the result before the next
		 * UNPRIV_RUN; the guest continues at regs.rip.
		 */
		struct {
			__u64 nr;	/* the system call number */
			__u64 args[6];	/* rdi rsi rdx r10 r8 r9, or for
					 * 32-bit calls ebx ecx edx esi
					 * edi ebp */
			__u32 insn;	/* UNPRIV_SYSCALL_INSN_* */
			__u32 compat;	/* 1 for the 32-bit ABI */
		} syscall;
		/*
		 * UNPRIV_EXIT_FAULT: a page fault the address space could
		 * not satisfy (nothing mapped, or protection).
		 */
		struct {
			__u64 address;	  /* faulting address (cr2) */
			__u64 error_code; /* x86 page-fault error code */
			__u32 trap;	  /* 14 (#PF) */
			__s32 signo;	  /* SIGSEGV or SIGBUS, as Linux */
			__s32 si_code;	  /* SEGV_MAPERR, SEGV_ACCERR,
					   * SEGV_PKUERR, BUS_ADRERR, ...;
					   * 0 (SI_USER) when the kernel
					   * had no memory to record it */
			__u32 padding;
		} fault;
		/*
		 * UNPRIV_EXIT_TRAP: any other exception: int3 (3), ud2
		 * and invalid opcodes (6), divide error (0), single step
		 * and debug (1), general protection (13: also SGDT, SIDT,
		 * SMSW, SLDT and STR on a CPU with UMIP, which the kernel
		 * would emulate for a program), x87/SIMD FP errors (16,
		 * 19), ...
		 */
		struct {
			__u32 trap;	  /* x86 exception vector */
			__s32 signo;	  /* the signal Linux would send */
			__s32 si_code;	  /* its si_code: ILL_ILLOPN,
					   * FPE_INTDIV, TRAP_BRKPT, ...;
					   * 0 (SI_USER) as for faults */
			__u32 padding;
			__u64 address;	  /* si_addr, where Linux sets one
					   * (0 with SI_USER) */
			__u64 error_code; /* exception error code */
			__u64 dr6;	  /* debug status, for trap 1 */
		} trap;
		__u8 padding3[256];
	};
};

/* The size to mmap() from a vcpu fd. */
#define UNPRIV_RUN_SIZE		4096

/*
 * ioctls on a vcpu fd
 */

/*
 * UNPRIV_RUN - unprivilege(): run the guest.
 * arg:     an address-space fd.
 * The calling thread enters the address space with the registers in
 * the run page and runs until the next exit, then returns with the exit
 * in the run page.  Any thread may call it, one at a time per vcpu.
 * Returns: 0 (exit_reason SYSCALL, FAULT or TRAP).
 * Errors:  EINTR   a host signal is pending for the thread, or
 *                  immediate_exit was set, or UNPRIV_KICK: exit_reason
 *                  is INTR and the signal reaches the caller's handler
 *                  as usual once the ioctl returns.
 *          EBUSY   the vcpu is running on another thread; or the
 *                  thread has state guest mode cannot isolate (an
 *                  ioperm bitmap, hardware breakpoints: ptrace's, a
 *                  perf breakpoint event's, a CPU-wide one's), or its
 *                  process shares its mm with another process
 *                  (clone(CLONE_VM) without CLONE_THREAD).
 *          EBADF   arg is not open.  EINVAL  arg is not an address
 *                  space; bad registers (rip or rsp outside user
 *                  space, bad selectors).
 *          EPERM   the address space was made by a process in a user
 *                  namespace that is not the caller's (its mm's) or an
 *                  ancestor of it.
 */
#define UNPRIV_RUN		_IO(UNPRIV_IO, 0x80)

/*
 * struct unpriv_fpu - the guest's FPU, SSE, AVX... and PKRU state, as an
 * image in the standard (non-compacted) XSAVE format: the 512-byte
 * legacy FXSAVE region (x87 at 0, MXCSR at 24, xmm0-15 at 160), the
 * XSAVE header at 512 (its xfeatures says which components the image
 * holds; a component it leaves out is in its initial state), then each
 * component at the offset CPUID leaf 0xd gives.  PKRU is its component 9
 * when the CPU has protection keys.  This is KVM's KVM_GET_XSAVE2 format.
 */
struct unpriv_fpu {
	__u64 buf;	/* in: the image, in the caller's memory */
	__u32 size;	/* in: its size: at least UNPRIV_CAP_FPU's value */
	__u32 flags;	/* in: must be 0 */
};

/*
 * UNPRIV_GET_FPU - copy the guest's FPU state out, as the last exit
 * left it (a new vcpu's is the initial state: MXCSR 0x1f80, the x87
 * control word 0x37f, all registers zero).
 * UNPRIV_SET_FPU - load it; the guest runs with it from the next RUN.
 * Errors:  EINVAL  flags not 0, size too small; for SET, a component
 *                  the CPU does not enable for user mode, or reserved
 *                  MXCSR bits set.
 *          EFAULT  buf is not the caller's memory.
 *          EBUSY   the vcpu is running.
 */
#define UNPRIV_GET_FPU		_IOW(UNPRIV_IO, 0x82, struct unpriv_fpu)
#define UNPRIV_SET_FPU		_IOW(UNPRIV_IO, 0x83, struct unpriv_fpu)

/*
 * UNPRIV_KICK - make the vcpu's UNPRIV_RUN return promptly with -EINTR
 * (exit INTR), from any thread; if it is not running, its next
 * UNPRIV_RUN does.  Returns 0.
 */
#define UNPRIV_KICK		_IO(UNPRIV_IO, 0x81)

/*
 * UNPRIV_GET_STATS_FD - a stats file counting this vcpu (see struct
 * unpriv_stats_header).
 * arg:     flags, must be 0.
 * Returns: a new file descriptor (O_RDONLY, O_CLOEXEC).  It holds the
 *          vcpu's counts, not the vcpu: closing the vcpu leaves them
 *          readable, as they were at its last exit, and frees the vcpu.
 * Errors:  EINVAL  flags not 0.
 *          ENOMEM, EMFILE, ENFILE.
 */
#define UNPRIV_GET_STATS_FD	_IO(UNPRIV_IO, 0x84)

#endif /* _UAPI_LINUX_UNPRIV_H */
