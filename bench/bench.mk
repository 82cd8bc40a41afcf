# SPDX-License-Identifier: GPL-2.0
#
# Benchmarks, included from the top-level Makefile (see bench/README.md).
#
#   make bench-micro   the cost of one syscall round trip by each mechanism,
#                      in instructions, in one VM run under QEMU -icount per
#                      kernel of BENCH_KERNELS (default: generic generic-6.12);
#                      prints a table for each and writes
#                      bench/results/micro-KERNEL.json

BENCH_BUILD := $(BUILD)/bench

# unpriv-micro is built by CMake with the rest of userspace (it links
# libunpriv): build/cmake/bench/unpriv-micro.

# One CPU and -icount shift=0: the guest clock counts instructions.  The
# guest's output goes to a file first; on failure it is shown as it came.
BENCH_KERNELS ?= generic generic-6.12

bench-micro: modules userspace
	$(Q)mkdir -p bench/results $(BENCH_BUILD)
	$(Q)for k in $(BENCH_KERNELS); do \
		echo "== bench-micro on $$k ($$(tools/kernel-info kver $$k))"; \
		tools/vmrun --kernel $$k --cpus 1 --qemu -icount --qemu shift=0 \
			--timeout 300 --log $(BENCH_BUILD)/console-micro-$$k.log \
			--add $(CMAKE_BUILD)/bench/unpriv-micro:/usr/bin/unpriv-micro \
			-- sh -c 'insmod /lib/modules/$$(uname -r)/extra/unpriv.ko && unpriv-micro' \
			>$(BENCH_BUILD)/micro-$$k.out || { cat $(BENCH_BUILD)/micro-$$k.out; exit 1; }; \
		bench/micro-report $(BENCH_BUILD)/micro-$$k.out bench/results/micro-$$k.json || exit 1; \
		echo "  JSON    bench/results/micro-$$k.json"; \
	done

.PHONY: bench-micro
