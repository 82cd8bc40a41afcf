# SPDX-License-Identifier: GPL-2.0
#
# Benchmarks, included from the top-level Makefile (see bench/README.md).
#
#   make bench-micro   the cost of one syscall round trip by each mechanism,
#                      in instructions, in one VM run under QEMU -icount per
#                      kernel of BENCH_KERNELS (default: generic generic-6.12);
#                      prints a table for each and writes
#                      bench/results/micro-KERNEL.json
#   make bench-compartment  a compartment call and inflate in one, beside
#                      the alternatives (see below and bench/README.md)

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

# make bench-compartment: what a privilege-split call costs (issue 14;
# bench/compartment.cpp).  In one VM run per kernel of
# BENCH_COMPARTMENT_KERNELS (default generic), under -icount as
# bench-micro, in instructions: an empty Compartment::call() on each
# backend beside a function call, native getpid and two process-based
# alternatives, and 64 MiB inflated with zlib in a compartment, in the
# process and in a helper process; then the same on this machine in
# nanoseconds (--time; no module here).  Tables with the issue's targets;
# bench/results/compartment-KERNEL.json and compartment-host.json.
BENCH_COMPARTMENT_KERNELS ?= generic
BENCH_GZ := $(BENCH_BUILD)/inflate-64m.gz

# 64 MiB of decimal numbers, one a line, as gzip -6 makes them (gzip -n:
# the same bytes every time).
$(BENCH_GZ):
	$(Q)mkdir -p $(dir $@)
	$(Q)seq 1 20000000 | head -c 67108864 | gzip -n -6 >$@.tmp && mv $@.tmp $@

bench-compartment: modules userspace vmroot $(BENCH_GZ)
	$(Q)mkdir -p bench/results
	$(Q)for k in $(BENCH_COMPARTMENT_KERNELS); do \
		echo "== bench-compartment on $$k ($$(tools/kernel-info kver $$k)), in instructions"; \
		tools/vmrun --kernel $$k --cpus 1 --qemu -icount --qemu shift=0 \
			--timeout 1800 --log $(BENCH_BUILD)/console-compartment-$$k.log \
			--add $(CMAKE_BUILD)/bench/unpriv-bench-compartment:/usr/bin/unpriv-bench-compartment \
			--add $(BENCH_GZ):/usr/lib/unpriv/bench/inflate-64m.gz \
			-- sh -c 'insmod /lib/modules/$$(uname -r)/extra/unpriv.ko && \
				unpriv-bench-compartment /usr/lib/unpriv/bench/inflate-64m.gz' \
			>$(BENCH_BUILD)/compartment-$$k.out || { cat $(BENCH_BUILD)/compartment-$$k.out; exit 1; }; \
		bench/compartment-report $(BENCH_BUILD)/compartment-$$k.out \
			bench/results/compartment-$$k.json || exit 1; \
		echo "  JSON    bench/results/compartment-$$k.json"; \
	done
	$(Q)echo "== bench-compartment on this machine, in nanoseconds (no module)"
	$(Q)$(CMAKE_BUILD)/bench/unpriv-bench-compartment --time $(BENCH_GZ) \
		>$(BENCH_BUILD)/compartment-host.out || { cat $(BENCH_BUILD)/compartment-host.out; exit 1; }
	$(Q)bench/compartment-report $(BENCH_BUILD)/compartment-host.out \
		bench/results/compartment-host.json
	@echo "  JSON    bench/results/compartment-host.json"

.PHONY: bench-compartment

# make bench-uml: User-Mode Linux on unpriv beside UML on ptrace and the
# same workloads natively (issue 13; guest-port/uml/tests/uml-bench.c).
# One VM boot, one CPU, -icount shift=0 (one instruction, one
# nanosecond of the VM's clock): tools/vm/uml-bench-run runs the
# workloads natively, then boots UML with the series (unpriv=on) and
# stock UML (ptrace) once each, timing them and counting their host
# calls per guest event with tracefs.  A table, bench/results/uml.json
# and bench/results/uml.svg.
BENCH_UML_STAGE := $(BENCH_BUILD)/uml-stage

bench-uml: vmroot
	$(Q)mkdir -p bench/results $(BENCH_BUILD)
	$(Q)rm -rf $(BENCH_UML_STAGE) && guest-port/uml/stage $(BENCH_UML_STAGE) linux --stock && \
		guest-port/uml/stage $(BENCH_UML_STAGE) linux-unpriv
	$(Q)echo "== bench-uml on generic ($$(tools/kernel-info kver generic)): UML on unpriv, on ptrace, native"
	$(Q)tools/vmrun --kernel generic --cpus 1 --qemu -icount --qemu shift=0 \
		--timeout 3600 --log $(BENCH_BUILD)/console-uml.log --add $(BENCH_UML_STAGE)/.:/ \
		-- uml-bench-run >$(BENCH_BUILD)/uml.out || { cat $(BENCH_BUILD)/uml.out; exit 1; }
	$(Q)bench/uml-report $(BENCH_BUILD)/uml.out bench/results/uml.json bench/results/uml.svg
	@echo "  JSON    bench/results/uml.json"
	@echo "  SVG     bench/results/uml.svg"

.PHONY: bench-uml

# make bench-macro: the same workloads natively, in the guest port on
# each backend, under PRoot and in Debian's User-Mode Linux (issue 12;
# tools/vm/macro-bench-run).  One VM boot, one CPU, -icount shift=0 as
# bench-uml (the VM's clock counts instructions, whatever else this
# machine runs meanwhile).  Every runner's root is bench/macro-root's
# tar of this machine's gcc, proot and user-mode-linux, read through
# tools/vmrun --share /:host and unpacked on a tmpfs in the VM; every
# runner runs the same static uml-bench.  BENCH_MACRO_RUNS runs a
# workload; a table, bench/results/macro.json and bench/results/macro.png.
BENCH_MACRO_RUNS ?= 5
BENCH_MACRO_WORKLOADS ?= forkexec 20 files 200 pipeline 50 compute 20 writes 2000 gcc 1
BENCH_MACRO_RUNNERS ?= native module seccomp ptrace proot uml
BENCH_MACRO_STAGE := $(BENCH_BUILD)/macro-stage
# What the gcc workload compiles: a few of the project's C files.
BENCH_MACRO_SOURCES := guest-port/tests/progs/fault_test.c guest-port/tests/progs/loader_test.c \
	guest-port/tests/progs/policy_test.c guest-port/tests/progs/tap.h

bench-macro: vmroot
	$(Q)tools/deps bench
	$(Q)mkdir -p bench/results $(BENCH_BUILD)
	$(Q)rm -rf $(BENCH_MACRO_STAGE) && mkdir -p $(BENCH_MACRO_STAGE)/gcc-src && \
		cp $(BUILD)/uml-tests/uml-bench $(BENCH_MACRO_STAGE)/ && \
		cp $(BENCH_MACRO_SOURCES) $(BENCH_MACRO_STAGE)/gcc-src/
	$(Q)bench/macro-root $(BENCH_BUILD)/macro-root.tar
	$(Q)echo "== bench-macro on generic ($$(tools/kernel-info kver generic)): $(BENCH_MACRO_RUNNERS)"
	$(Q)tools/vmrun --kernel generic --cpus 1 --mem 2048 --qemu -icount --qemu shift=0 \
		--timeout 7200 --log $(BENCH_BUILD)/console-macro.log --share /:host \
		--add $(BENCH_MACRO_STAGE)/.:/usr/lib/unpriv/macro \
		-- macro-bench-run --root-tar /mnt/host$(BENCH_BUILD)/macro-root.tar \
			--runs $(BENCH_MACRO_RUNS) --runners '$(BENCH_MACRO_RUNNERS)' \
			$(BENCH_MACRO_WORKLOADS) \
		>$(BENCH_BUILD)/macro.out || { cat $(BENCH_BUILD)/macro.out; exit 1; }
	$(Q)bench/macro-report $(BENCH_BUILD)/macro.out bench/results/macro.json bench/results/macro.png
	@echo "  JSON    bench/results/macro.json"
	@echo "  PNG     bench/results/macro.png"

.PHONY: bench-macro
