# SPDX-License-Identifier: GPL-2.0
#
# Benchmarks, included from the top-level Makefile (see bench/README.md).
#
#   make bench-micro   the cost of one syscall round trip by each mechanism,
#                      in instructions, in one VM run under QEMU -icount;
#                      prints a table and writes bench/results/micro.json

BENCH_BUILD := $(BUILD)/bench

# unpriv-micro is built by CMake with the rest of userspace (it links
# libunpriv): build/cmake/bench/unpriv-micro.

# One CPU and -icount shift=0: the guest clock counts instructions.  The
# guest's output goes to a file first; on failure it is shown as it came.
bench-micro: modules userspace
	$(Q)mkdir -p bench/results $(BENCH_BUILD)
	$(Q)tools/vmrun --kernel generic --cpus 1 --qemu -icount --qemu shift=0 \
		--timeout 300 --log $(BENCH_BUILD)/console-micro.log \
		--add $(CMAKE_BUILD)/bench/unpriv-micro:/usr/bin/unpriv-micro \
		-- sh -c 'insmod /lib/modules/$$(uname -r)/extra/unpriv.ko && unpriv-micro' \
		>$(BENCH_BUILD)/micro.out || { cat $(BENCH_BUILD)/micro.out; exit 1; }
	$(Q)bench/micro-report $(BENCH_BUILD)/micro.out bench/results/micro.json
	@echo "  JSON    bench/results/micro.json"

.PHONY: bench-micro
