/* SPDX-License-Identifier: MIT */
/*
 * The stub of the ptrace and seccomp backends: its place in an address
 * space and its protocol with the library.  Shared by the stub itself
 * (stub.c, freestanding C that runs in the stub process) and the library
 * (C++, the owner of the stub).
 *
 * A stub process holds the guest's mappings and, at the top of the user
 * address space, the stub's own:
 *
 *	STUB_CODE	the stub's code, a private copy, r-x
 *	STUB_DATA	a memfd shared with the owner, rw-: the control block
 *			(struct stub_ctl), the operations of a batch, the
 *			seccomp filter, a stack, and the alternate signal
 *			stack every signal frame is written to
 *
 * STUB_START..STUB_END is what Backend::reserved() reports: the guest
 * may map nothing there.
 */
#ifndef UNPRIV_STUB_ABI_H
#define UNPRIV_STUB_ABI_H

#include <stdint.h>

#define STUB_START		0x7fffffe00000ULL
#define STUB_END		0x7ffffffff000ULL	/* 4-level TASK_SIZE */

#define STUB_CODE		STUB_START
#define STUB_CODE_MAX		0x8000ULL
#define STUB_DATA		(STUB_START + 0x10000ULL)
#define STUB_DATA_SIZE		0x40000ULL
#define STUB_MAPPED_END		(STUB_DATA + STUB_DATA_SIZE)

/* Offsets in the data area. */
#define STUB_CTL_OFF		0x0ULL
#define STUB_OPS_OFF		0x1000ULL
#define STUB_FILTER_OFF		0x4000ULL
#define STUB_FILTER_MAX		((0x5000ULL - STUB_FILTER_OFF) / 8)
#define STUB_STACK_TOP_OFF	0x10000ULL
#define STUB_ALTSTACK_OFF	0x10000ULL
#define STUB_ALTSTACK_SIZE	(STUB_DATA_SIZE - STUB_ALTSTACK_OFF)

/* ctl->mode */
#define STUB_MODE_PTRACE	1
#define STUB_MODE_SECCOMP	2

/*
 * ctl->state: who has control, the owner or a seccomp stub.  The owner
 * hands it over with a FUTEX_WAKE on ctl->state, where the stub waits;
 * the stub hands it back with a write to the eventfd ctl->efd, which the
 * owner polls together with the stub's pidfd and its own signals.
 */
#define STUB_TO_OWNER		1U
#define STUB_TO_STUB		2U

/* ctl->cmd, with ctl->state STUB_TO_STUB (seccomp) */
#define STUB_CMD_RUN		1	/* return to the guest */
#define STUB_CMD_OPS		2	/* run ctl->nops operations */
#define STUB_CMD_EXIT		3	/* exit_group(0) */

/* stub_op.kind */
#define STUB_OP_MAP		1
#define STUB_OP_UNMAP		2
#define STUB_OP_PROTECT		3

struct stub_op {
	uint32_t kind;
	uint32_t prot;		/* PROT_* */
	uint32_t flags;		/* MAP_SHARED or MAP_PRIVATE */
	int32_t fd;
	uint64_t addr;
	uint64_t len;
	uint64_t offset;
};

#define STUB_OPS_MAX		((STUB_FILTER_OFF - STUB_OPS_OFF) / sizeof(struct stub_op))

/* What a signal frame does not hold: selectors other than cs and ss,
 * and the FS and GS bases. */
struct stub_segs {
	uint64_t fs_base;
	uint64_t gs_base;
	uint16_t ds, es, fs, gs;
	uint32_t padding;
};

/* One exit of the guest, as the stub's signal handler saw it. */
struct stub_exit {
	uint32_t seq;		/* counts the handler's entries */
	int32_t signo;
	int32_t code;		/* si_code */
	int32_t pid;		/* si_pid, for SI_USER and SI_TKILL */
	uint64_t addr;		/* si_addr; si_call_addr for SIGSYS */
	int32_t syscall;	/* SIGSYS: si_syscall */
	uint32_t arch;		/* SIGSYS: si_arch */
	uint64_t trapno;	/* the frame's mcontext */
	uint64_t err;
	uint64_t cr2;
	uint64_t uc;		/* the frame's ucontext, a stub address */
	struct stub_segs segs;	/* the guest's, at the exit (seccomp) */
};

struct stub_ctl {
	uint32_t state;		/* STUB_TO_OWNER or STUB_TO_STUB */
	uint32_t cmd;		/* STUB_CMD_* */
	uint32_t mode;		/* STUB_MODE_* */
	uint32_t fsgsbase;	/* 1: rd/wr{fs,gs}base are usable */
	int32_t owner;		/* the owner's pid: getppid() at start */
	uint32_t step;		/* how far start-up got, for diagnostics */
	int32_t efd;		/* seccomp: the owner's eventfd */
	uint32_t padding;

	/* STUB_CMD_OPS, and ptrace's operations */
	uint32_t nops;		/* in: operations at STUB_OPS_OFF */
	uint32_t done;		/* out: how many succeeded */
	int64_t error;		/* out: -errno of ops[done], or 0 */
	uint32_t ops_seq;	/* out: copied from ops_req when done */
	uint32_t ops_req;	/* in */

	struct stub_segs run;	/* in: STUB_CMD_RUN loads these */
	struct stub_exit exit;	/* out */

	struct {
		uint16_t len;
		uint16_t padding[3];
		uint64_t filter;
	} prog;			/* struct sock_fprog at STUB_FILTER_OFF */
};

/* The kernel's x86-64 signal frame (asm/sigcontext.h, asm/ucontext.h):
 * glibc's ucontext_t differs after uc_mcontext. */
struct stub_sigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2;
	uint64_t fpstate;	/* XSAVE image, 64-byte aligned */
	uint64_t reserved1[8];
};

struct stub_ucontext {
	uint64_t uc_flags;
	uint64_t uc_link;
	uint64_t ss_sp;
	int32_t ss_flags;
	int32_t ss_padding;
	uint64_t ss_size;
	struct stub_sigcontext mc;
	uint64_t sigmask;
};

/* In the legacy area's software-reserved bytes of a signal frame's
 * XSAVE image (asm/sigcontext.h's struct _fpx_sw_bytes). */
#define STUB_FP_SW_OFF		464
#define STUB_FP_XSTATE_MAGIC1	0x46505853U
#define STUB_FP_XSTATE_MAGIC2	0x46505845U

struct stub_fpx_sw_bytes {
	uint32_t magic1;
	uint32_t extended_size;
	uint64_t xfeatures;
	uint32_t xstate_size;
	uint32_t padding[7];
};

#define STUB_CTL		((struct stub_ctl *)(STUB_DATA + STUB_CTL_OFF))
#define STUB_OPS		((struct stub_op *)(STUB_DATA + STUB_OPS_OFF))

/* Start-up, in the new process (see stub.c). */
struct stub_boot {
	uint64_t data;		/* the owner's mapping of the data memfd */
	uint64_t code;		/* the stub's code in the owner's image */
	uint64_t code_size;
	uint64_t entry;		/* stub_start, at its place in STUB_CODE */
};

#ifdef __cplusplus
extern "C" {
#endif

/* clone()'s function: moves the stub into place and starts it. */
int unpriv_stub_boot(void *boot);

/* The stub's code; only offsets from unpriv_stub_code_start mean anything. */
extern const unsigned char __start_unpriv_stub[];
extern const unsigned char __stop_unpriv_stub[];
void unpriv_stub_start(void);
void unpriv_stub_ops(void);

#ifdef __cplusplus
}
#endif

#endif /* UNPRIV_STUB_ABI_H */
