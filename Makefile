# SPDX-License-Identifier: GPL-2.0
#
# unpriv: top-level build.
#
#   make            build everything (module for each test kernel, selftests,
#                   libunpriv and its tests, the test VM's root)
#   make checkpatch the kernel's checkpatch.pl --strict over module/,
#                   selftests/ and UML's patches (part of 'make check')
#   make check      all tests: host unit tests (the guest port's also under
#                   ThreadSanitizer: make tsan-unit), the VM runner's own
#                   tests, the module's selftests, libunpriv's and the guest port's tests
#                   inside the VM on 6.1, 6.12 and the debug kernel, the
#                   selftests alone on the rt and cloud flavours, the
#                   selftests built as a kselftest target of 6.1's and 6.12's
#                   kernel trees, User-Mode Linux on the module (uml-check),
#                   and a short stress round (tools/stress/) on 6.1 and
#                   6.12; under 20 minutes on two cores once the caches
#                   outside the clone are warm
#   make check-all  make check with everything on every kernel (6.1 rt and
#                   6.12 rt and cloud too), with DKMS (make dkms-check) and
#                   with stock UML on ptrace, uml-check's control
#   make check-debug  the long rounds, on the debug kernel (about 20 minutes):
#                   unpriv-stress in rounds, the module reloaded between them,
#                   then a fault-injection round (tools/vm/unpriv-fault-inject)
#   make dkms-check the DKMS part of 'make check-all' alone: the module built
#                   and installed with DKMS on this machine (as root) for each
#                   kernel, loaded in its VM, and removed again
#   make install-dkms  the module's sources to /usr/src/unpriv-VERSION, for
#                   'dkms install unpriv/VERSION' (DESTDIR=... for a package)
#   make run        boot the VM, load the module, show what /dev/unpriv says
#                   and run a busybox command and a shell script (a
#                   pipeline, a background job) in the guest port
#   make shell      boot the VM and give this terminal an interactive
#                   busybox shell in the guest port on the module, with
#                   job control (^Z, fg, ^C); 'exit' ends it
#   make check-shell  a scripted session through make shell's path
#                   (tools/tests/shell-session), a VM boot of its own (a
#                   part of 'make check')
#   make clean      remove build/
#
# Variables:
#   KVER=<release>  build the module for this kernel only (default: each
#                   test kernel's, tools/kernel-info list: Debian 12's 6.1
#                   generic and rt, 6.12 generic, rt and cloud)
#   KDIR=<dir>      its kbuild tree (default /usr/src/linux-headers-KVER)
#   CHECK_KERNELS   kernels on which 'make check' runs everything (default:
#                   generic generic-6.12 debug; tools/kernel-info list
#                   names Debian's; debug is built from Debian's
#                   linux-source-6.1 with KASAN, lockdep, kmemleak...: see
#                   tools/debug-kernel/)
#   CHECK_HOST_ROOT_KERNEL  the one of them whose VM runs python3, gcc and
#                   make of this machine's root, shared by virtio-9p, in
#                   the guest port (default: generic)
#   CHECK_SELFTEST_KERNELS  kernels on which it runs the module's selftests
#                   (default: rt-6.12 cloud-6.12; 6.1 rt is in check-all)
#   CHECK_DKMS      1: 'make check' installs the module with DKMS too
#   CHECK_NO_GUEST_PORT  kernels of CHECK_KERNELS on which the guest
#                   port's tests are left out (default: debug)
#   CHECK_ONE_CPU   kernels of CHECK_KERNELS whose boot runs the guest
#                   port's e2e and progs-check a second time, on one
#                   virtual CPU (unpriv-run --cpus=1; default: generic)
#   CHECK_ASH_SUITE  kernels of CHECK_KERNELS whose boot runs busybox's
#                   ash_test natively and in the guest port on the module
#                   (about 10 minutes under TCG; default: none, check-all:
#                   generic)
#   CHECK_UML_PTRACE  1: uml-check also runs its script in stock UML on
#                   ptrace, the control (minutes under TCG; check-all does)
#   VSYSCALL_MODES  vsyscall= boot options under which 'make check' runs
#                   vsyscall_test again on generic (default: xonly emulate)
#   CHECK_STRESS_SECONDS  the stress round of 'make check' (default 30)
#   CHECK_STRESS_KERNELS  the kernels it runs on (default generic generic-6.12)
#   KSFT_TREES      VERSION:KERNEL pairs: 'make check' builds the selftests
#                   in Debian's linux-source-VERSION as a kselftest target
#                   and runs them in KERNEL's VM (default: 6.1:generic
#                   6.12:generic-6.12)
#   DKMS_KERNELS    kernels 'make check' and 'make dkms-check' install the
#                   module for with DKMS, on this machine, then load it in
#                   their VM (default: generic generic-6.12)
#   CHECK_DEBUG_ROUNDS, CHECK_DEBUG_SECONDS  the stress rounds of
#                   'make check-debug' (default 2 rounds of 300 s)
#   STRESS_SEED     the stress rounds' first seed (default: random; each
#                   round prints its seed, to replay a failure)
#
# Every target installs the Debian packages it needs (tools/deps).

SHELL := /bin/bash
BUILD := $(CURDIR)/build
CMAKE_BUILD := $(BUILD)/cmake
VMROOT := $(BUILD)/vmroot
# Static programs that run in UML's userspace and natively in the VM
# (guest-port/uml/tests/): not PIE, for uml-escape's 32-bit code.
UML_TEST_PROGS := $(BUILD)/uml-tests/uml-escape $(BUILD)/uml-tests/uml-bench
# The guest port's root in the VM: Debian's busybox-static, the test
# programs, and for the dynamically linked ones this machine's C library
# (libgcc_s: the unwinder pthread_cancel loads).
GUEST_ROOT := /usr/lib/unpriv/guest-root
GUEST_LIBS := ld-linux-x86-64.so.2 libc.so.6 libm.so.6 libgcc_s.so.1
CHECK_KERNELS ?= generic generic-6.12 debug
# The kernel of CHECK_KERNELS whose VM gets the host's root (read-only,
# virtio-9p) for the guest port's python3, gcc and make
# (guest-port/tests/host-root-check).
CHECK_HOST_ROOT_KERNEL ?= generic
CHECK_SELFTEST_KERNELS ?= rt-6.12 cloud-6.12
# 1: make check also installs the module with DKMS (make check-all does).
CHECK_DKMS ?= 0
CHECK_UML_PTRACE ?= 0
# Kernels of CHECK_KERNELS whose boot leaves the guest port's tests out:
# under KASAN and TCG they take more than five minutes on the debug
# kernel, where libunpriv's tests on the module backend and the selftests
# still run (check-all runs them there too).
CHECK_NO_GUEST_PORT ?= debug
# Kernels of CHECK_KERNELS whose boot runs the guest port's tests on one
# virtual CPU too (the VM has two; check-all: every kernel).
CHECK_ONE_CPU ?= generic
# Kernels of CHECK_KERNELS whose boot runs busybox's ash_test on the
# module too (its ptrace and seccomp runs are on the host, step 1).
CHECK_ASH_SUITE ?=
# The selftest programs: one per selftests/*_test.c.
SELFTEST_PROGS = $(basename $(notdir $(wildcard selftests/*_test.c)))
# Debian's kernel has no vsyscall page; these boot options give it one,
# and vsyscall_test runs again under each.
VSYSCALL_MODES ?= xonly emulate
CHECK_STRESS_SECONDS ?= 30
CHECK_STRESS_KERNELS ?= generic generic-6.12
# The selftests as tools/testing/selftests/unpriv of Debian's
# linux-source-VERSION, run in the VM of KERNEL (VERSION:KERNEL).
KSFT_TREES ?= 6.1:generic 6.12:generic-6.12
# A boot under TCG costs half a minute: make check runs the kselftest
# install of a tree, and the stress round, in the boot of CHECK_KERNELS
# that runs the other tests of that kernel, and boots only for the rest.
ksft_kernel = $(word 2,$(subst :, ,$(1)))
KSFT_IN_CHECK = $(foreach p,$(KSFT_TREES),$(if $(filter $(call ksft_kernel,$(p)),$(CHECK_KERNELS)),$(p)))
KSFT_OWN_BOOT = $(filter-out $(KSFT_IN_CHECK),$(KSFT_TREES))
STRESS_IN_CHECK = $(filter $(CHECK_KERNELS),$(CHECK_STRESS_KERNELS))
STRESS_OWN_BOOT = $(filter-out $(STRESS_IN_CHECK),$(CHECK_STRESS_KERNELS))
# The kernels whose installed headers DKMS builds the module for.
DKMS_KERNELS ?= generic generic-6.12
CHECK_DEBUG_ROUNDS ?= 2
CHECK_DEBUG_SECONDS ?= 300
stress_seed = $(if $(STRESS_SEED),--seed $(STRESS_SEED))

# Kernel releases are looked up when first used, after tools/deps ran.
kver = $(shell tools/kernel-info kver $(1))
ifdef KVER
KVERS = $(KVER)
else
KVERS = $(eval KVERS := $(foreach f,$(shell tools/kernel-info list),$(call kver,$(f))))$(KVERS)
endif
KDIR ?= /usr/src/linux-headers-$(KVER)

# The kselftest harness comes from Debian's linux-source-6.1, unpacked
# into build/ once; nothing of the kernel is copied into the tree.  One
# patch: 6.1's harness uses its results page without checking that
# mmap() gave one, and died of SIGSEGV at 0xffffffffffffffff (MAP_FAILED)
# under fault injection; patched, it bails out saying why.
KSRC_TAR := /usr/src/linux-source-6.1.tar.xz
KSFT_DIR := $(BUILD)/ksft
KSFT_PATCH := selftests/kselftest_harness.patch

Q := $(if $(V),,@)

all: modules selftests stress unpriv-stat userspace vmroot

deps:
	$(Q)tools/deps all

# --- the module, once per test kernel -------------------------------------
#
# Each release gets its own tree of symlinks to the sources, so objects for
# one kernel never meet objects for another and the source stays clean.

modules: deps
	$(Q)for v in $(KVERS); do \
		dir=$(BUILD)/kmod/$$v; \
		kdir=$(if $(filter command line,$(origin KDIR)),$(KDIR),/usr/src/linux-headers-$$v); \
		mkdir -p $$dir && cp -asf $(CURDIR)/Kbuild $(CURDIR)/module $(CURDIR)/uapi $$dir/ && \
		$(MAKE) --no-print-directory -C $$kdir M=$$dir modules \
			$(if $(V),,>$$dir/build.log 2>&1 || { cat $$dir/build.log; exit 1; }) || exit 1; \
		echo "  MODULE  build/kmod/$$v/module/unpriv.ko"; \
	done

# --- selftests --------------------------------------------------------------

$(KSFT_DIR)/kselftest_harness.h: $(KSFT_PATCH) | deps
	$(Q)mkdir -p $(KSFT_DIR)
	$(Q)tar -xJf $(KSRC_TAR) -C $(KSFT_DIR) --strip-components=4 \
		linux-source-6.1/tools/testing/selftests/kselftest_harness.h \
		linux-source-6.1/tools/testing/selftests/kselftest.h
	$(Q)patch -s -p1 -d $(KSFT_DIR) <$(KSFT_PATCH)
	$(Q)touch $@

selftests: $(KSFT_DIR)/kselftest_harness.h
	$(Q)$(MAKE) --no-print-directory -C selftests KSFT_DIR=$(KSFT_DIR) \
		OUTPUT=$(BUILD)/selftests

# --- checkpatch ----------------------------------------------------------------
#
# The kernel's scripts/checkpatch.pl --strict, from the same linux-source-6.1
# tarball, unpacked into build/ once with the two files it reads from beside
# itself; run by tools/checkpatch over each file of module/ and selftests/,
# and over each patch of guest-port/uml/patches/ as a patch.
# Nothing is ignored but the types below, each for the reason given; a type
# that applies to one file is ignored for that file alone.

CHECKPATCH_DIR := $(BUILD)/checkpatch
CHECKPATCH_FILES := $(sort $(wildcard module/*.[ch])) $(sort $(wildcard selftests/*.[ch])) \
	$(sort $(wildcard guest-port/uml/patches/*.patch))

# module/trace.h: the TRACE_EVENT() layout of every include/trace/events/*.h,
# which checkpatch reports for each of them too.
CHECKPATCH_IGNORE_module/trace.h := COMPLEX_MACRO,PARENTHESIS_ALIGNMENT,OPEN_ENDED_LINE
# module/fpu.h: the asm operand '%[err]' in _ASM_EXTABLE_TYPE_REG(), read as
# a modulo (the kernel's arch/x86/kernel/fpu/xstate.h has the same line).
CHECKPATCH_IGNORE_module/fpu.h := SPACING
# compat.h exists to key on the kernel's version, which in-tree code never
# does; its comparisons read as the kernel's own (version >= x.y.z).
CHECKPATCH_IGNORE_module/compat.h := LINUX_VERSION_CODE,CONSTANT_COMPARISON
# module/symbols.c: SYM() pastes its argument into two names; nothing in it
# is an expression evaluated twice.
CHECKPATCH_IGNORE_module/symbols.c := MACRO_ARG_REUSE

# selftests/: userspace programs, on the kselftest harness.
#  PREFER_KERNEL_TYPES: the C library's types (uint64_t, ...), as the
#	kernel's own selftests use them.
#  VOLATILE: flags set by a signal handler or another thread and read in
#	a loop; C requires volatile (sig_atomic_t) for the first.
#  AVOID_EXTERNS: GUEST_CODE() declares the labels of the guest code it
#	emits with asm() in the same file.
#  MACRO_WITH_FLOW_CONTROL: REQUIRE_UNPRIV() and GUEST_SETUP() skip or end
#	the test, as the harness's own SKIP() and ASSERT_*() do.
#  PARENTHESIS_ALIGNMENT: GUEST_CODE() bodies and asm() blocks are
#	assembly listings, one instruction a line, indented one tab.
#  PREFER_DEFINED_ATTRIBUTE_MACRO: userspace has no __packed.
CHECKPATCH_IGNORE_SELFTESTS := PREFER_KERNEL_TYPES,VOLATILE,AVOID_EXTERNS,MACRO_WITH_FLOW_CONTROL,PARENTHESIS_ALIGNMENT,PREFER_DEFINED_ATTRIBUTE_MACRO
# struct user_desc's field is spelled 'useable' (asm/ldt.h); a kernel
# without modify_ldt() answers ENOSYS, which is what the test looks for.
CHECKPATCH_IGNORE_selftests/objections_test.c := TYPO_SPELLING,ENOSYS
# execv() takes char *const argv[], not a static const array.
CHECKPATCH_IGNORE_selftests/lifetime_test.c := STATIC_CONST_CHAR_ARRAY
# A cast to a function pointer, (void *), read as an unnamed parameter.
CHECKPATCH_IGNORE_selftests/vsyscall_test.c := FUNCTION_ARGUMENTS

# guest-port/uml/patches/: UML's unpriv mode, as patches for linux-um.
#  MISSING_SIGN_OFF: the Signed-off-by (the Developer's Certificate of
#	Origin) is added by whoever sends the series (git format-patch -s;
#	guest-port/uml/README).
#  FILE_PATH_CHANGES: the new files are under arch/um/, which MAINTAINERS
#	already gives to USER-MODE LINUX (UML).
CHECKPATCH_IGNORE_UML := MISSING_SIGN_OFF,FILE_PATH_CHANGES

checkpatch_ignore = $(if $(filter selftests/%,$(1)),$(CHECKPATCH_IGNORE_SELFTESTS)$(if $(CHECKPATCH_IGNORE_$(1)),$(comma)))$(if $(filter guest-port/uml/patches/%,$(1)),$(CHECKPATCH_IGNORE_UML))$(CHECKPATCH_IGNORE_$(1))
comma := ,

$(CHECKPATCH_DIR)/checkpatch.pl: | deps
	$(Q)mkdir -p $(CHECKPATCH_DIR)
	$(Q)tar -xJf $(KSRC_TAR) -C $(CHECKPATCH_DIR) --strip-components=2 \
		linux-source-6.1/scripts/checkpatch.pl \
		linux-source-6.1/scripts/spelling.txt \
		linux-source-6.1/scripts/const_structs.checkpatch
	$(Q)touch $@

checkpatch: $(CHECKPATCH_DIR)/checkpatch.pl
	$(Q)tools/checkpatch $(CHECKPATCH_DIR)/checkpatch.pl "" \
		$(foreach f,$(CHECKPATCH_FILES),$(f)$(if $(call checkpatch_ignore,$(f)),:$(call checkpatch_ignore,$(f))))

# --- the stress tool (tools/stress/) -----------------------------------------

stress: deps
	$(Q)$(MAKE) --no-print-directory -C tools/stress OUTPUT=$(BUILD)/stress

# --- unpriv-stat (tools/unpriv-stat/): exit rates, like kvm_stat ------------

unpriv-stat: deps
	$(Q)$(MAKE) --no-print-directory -C tools/unpriv-stat OUTPUT=$(BUILD)/unpriv-stat

# --- userspace (CMake): libunpriv and its tests ----------------------------

# Compilations are cached by ccache outside the clone, where the debug
# kernel is (tools/debug-kernel/build: $UNPRIV_CACHE_DIR, else
# $XDG_CACHE_HOME/unpriv, else ~/.cache/unpriv), so that a fresh clone
# builds the C++ in seconds once any clone on the machine has built it.
UNPRIV_CACHE_DIR ?= $(or $(if $(XDG_CACHE_HOME),$(XDG_CACHE_HOME)/unpriv),$(if $(HOME),$(HOME)/.cache/unpriv),$(BUILD))
export CCACHE_DIR ?= $(UNPRIV_CACHE_DIR)/ccache
export CCACHE_MAXSIZE ?= 2G
# Paths inside the clone hash relative to it, so another clone hits; its
# debug info may then name the directory of the clone that compiled.
export CCACHE_BASEDIR ?= $(CURDIR)
export CCACHE_NOHASHDIR ?= 1

$(CMAKE_BUILD)/CMakeCache.txt: CMakeLists.txt | deps
	$(Q)cmake -S . -B $(CMAKE_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache >/dev/null

userspace: $(CMAKE_BUILD)/CMakeCache.txt
	$(Q)cmake --build $(CMAKE_BUILD) -j$$(nproc) -- --no-print-directory \
		$(if $(V),,| grep -v '^\[.*\] Built target' || true)

# The guest port's unit tests again under ThreadSanitizer, for the races
# in its data structures (futexes, Waiter, the CPU scheduler, physical
# memory, pending signals, socket names): a build of their own in
# build/tsan (every object instrumented, nothing static), of that one
# target and what it links, incremental and cached by ccache as the main
# build is.  A report fails the step (exit status 66).  Not the Mm
# mirror tests: the ptrace and seccomp stubs start with a CLONE_VM clone
# that TSan's clone interceptor takes for a fork, after which it stops
# checking the calling thread (or, by default, dies): they would pass
# unchecked.
TSAN_BUILD := $(BUILD)/tsan

$(TSAN_BUILD)/CMakeCache.txt: CMakeLists.txt | deps
	$(Q)cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DUNPRIV_STATIC_PROGRAMS=OFF -DCMAKE_C_FLAGS=-fsanitize=thread \
		-DCMAKE_CXX_FLAGS=-fsanitize=thread -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread \
		-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache >/dev/null

tsan-unit: $(TSAN_BUILD)/CMakeCache.txt
	$(Q)cmake --build $(TSAN_BUILD) -j$$(nproc) --target guest-port-unit-test -- \
		--no-print-directory $(if $(V),,| grep -v '^\[.*\] Built target' || true)

# --- the VM's root: what tools/vmrun puts into the initramfs ----------------

vmroot: selftests stress unpriv-stat userspace $(UML_TEST_PROGS)
	$(Q)rm -rf $(VMROOT).new
	$(Q)install -d $(VMROOT).new/usr/bin $(VMROOT).new/usr/lib/unpriv/selftests \
		$(VMROOT).new/usr/lib/unpriv/tests $(VMROOT).new/usr/lib/unpriv/tool-tests
	$(Q)install -D -m 0644 tools/vm/passwd $(VMROOT).new/etc/passwd
	$(Q)install -D -m 0644 tools/vm/group $(VMROOT).new/etc/group
	$(Q)install -D -m 0644 module/60-unpriv.rules \
		$(VMROOT).new/usr/lib/udev/rules.d/60-unpriv.rules
	$(Q)install -m 0755 tools/vm/unpriv-udev $(VMROOT).new/usr/lib/unpriv/
	$(Q)install -m 0755 tools/vm/unpriv-check tools/vm/unpriv-load tools/vm/unpriv-kmemleak \
		tools/vm/unpriv-stress-rounds tools/vm/unpriv-fault-inject tools/vm/unpriv-shell \
		tools/vm/unpriv-kselftest tools/vm/toggle-sched-tracepoint \
		tools/vm/uml-run tools/vm/uml-check tools/vm/uml-bench-run tools/vm/macro-bench-run \
		$(VMROOT).new/usr/bin/
	$(Q)install -d $(VMROOT).new/usr/lib/unpriv/uml/tests
	$(Q)install -m 0644 guest-port/uml/tests/userspace.sh $(VMROOT).new/usr/lib/unpriv/uml/tests/
	$(Q)install -m 0755 $(UML_TEST_PROGS) $(VMROOT).new/usr/lib/unpriv/uml/tests/
	$(Q)install -m 0755 $(BUILD)/stress/unpriv-stress $(VMROOT).new/usr/bin/
	$(Q)install -m 0755 $(BUILD)/unpriv-stat/unpriv-stat $(VMROOT).new/usr/bin/
	$(Q)install -m 0755 $(BUILD)/unpriv-stat/known-exits $(VMROOT).new/usr/lib/unpriv/
	$(Q)install -m 0755 tools/unpriv-stat/unpriv-stat-test \
		$(VMROOT).new/usr/lib/unpriv/tool-tests/
	$(Q)install -m 0755 $(BUILD)/selftests/* $(VMROOT).new/usr/lib/unpriv/selftests/
	$(Q)install -m 0755 $(CMAKE_BUILD)/userlib/unpriv-lib-test \
		$(CMAKE_BUILD)/userlib/unpriv-backend-test \
		$(VMROOT).new/usr/lib/unpriv/tests/
	$(Q)install -d $(VMROOT).new/usr/lib/unpriv/sandboxed-inflate
	$(Q)install -m 0755 userlib/examples/sandboxed-inflate/inflate-test \
		$(CMAKE_BUILD)/userlib/sandboxed-inflate $(CMAKE_BUILD)/userlib/inflate-hostile-* \
		$(VMROOT).new/usr/lib/unpriv/sandboxed-inflate/
	$(Q)userlib/examples/sandboxed-inflate/inflate-test \
		--make-data $(VMROOT).new/usr/lib/unpriv/sandboxed-inflate/data
	$(Q)install -m 0755 $(CMAKE_BUILD)/userlib/unpriv-info \
		$(CMAKE_BUILD)/userlib/hello-guest $(VMROOT).new/usr/bin/
	$(Q)install -m 0755 $(CMAKE_BUILD)/guest-port/unpriv-run $(VMROOT).new/usr/bin/
	$(Q)install -d $(VMROOT).new/usr/lib/unpriv/guest-port
	$(Q)install -m 0755 guest-port/tests/e2e guest-port/tests/progs-check \
		guest-port/tests/host-root-check $(VMROOT).new/usr/lib/unpriv/guest-port/
	$(Q)install -m 0755 guest-port/tests/ash-suite $(VMROOT).new/usr/lib/unpriv/
	$(Q)install -d $(dir $(VMROOT).new$(GUEST_ROOT))
	$(Q)UNPRIV_BUSYBOX=/bin/busybox $(CMAKE_BUILD)/guest-port/unpriv-run \
		--make-root $(VMROOT).new$(GUEST_ROOT)
	$(Q)install -d $(VMROOT).new$(GUEST_ROOT)/tests
	$(Q)install -m 0755 $(CMAKE_BUILD)/guest-port/tests/guest-*-test guest-port/tests/run.sh \
		$(VMROOT).new$(GUEST_ROOT)/tests/
	$(Q)install -d $(VMROOT).new$(GUEST_ROOT)/lib/x86_64-linux-gnu $(VMROOT).new$(GUEST_ROOT)/lib64
	$(Q)install -m 0755 $(addprefix /lib/x86_64-linux-gnu/,$(GUEST_LIBS)) \
		$(VMROOT).new$(GUEST_ROOT)/lib/x86_64-linux-gnu/
	$(Q)ln -sf /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 $(VMROOT).new$(GUEST_ROOT)/lib64/
	$(Q)if diff -qr $(VMROOT).new $(VMROOT) >/dev/null 2>&1; then \
		rm -rf $(VMROOT).new; \
	else \
		rm -rf $(VMROOT) && mv $(VMROOT).new $(VMROOT); \
	fi

# --- test-only modules (never in the VM's default root) ---------------------

TEST_MODULES := warn ipmodify

test-modules: deps
	$(Q)v=$(call kver,generic); \
	for m in $(TEST_MODULES); do \
		dir=$(BUILD)/kmod-test/$$v/$$m; \
		mkdir -p $$dir && cp -asf $(CURDIR)/tools/tests/$$m/. $$dir/ && \
		$(MAKE) --no-print-directory -C /usr/src/linux-headers-$$v M=$$dir modules \
			$(if $(V),,>$$dir/build.log 2>&1 || { cat $$dir/build.log; exit 1; }) || exit 1; \
	done

# --- check ------------------------------------------------------------------
#
# Each part writes its output to build/check/<part>.log (and to the
# terminal); tools/check-summary counts the results from those logs and
# prints the one summary line.

check: all tsan-unit test-modules $(CHECKPATCH_DIR)/checkpatch.pl $(if $(filter debug,$(CHECK_KERNELS)),modules-debug)
	$(Q)rm -rf $(BUILD)/check && mkdir -p $(BUILD)/check
	$(Q)rc=0; \
	echo "== host: checkpatch --strict of module/ and selftests/"; \
	$(MAKE) --no-print-directory checkpatch 2>&1 | tee $(BUILD)/check/host-checkpatch.log; \
	[ $${PIPESTATUS[0]} -eq 0 ] || rc=1; \
	echo "== host: libunpriv unit tests"; \
	$(CMAKE_BUILD)/userlib/unpriv-lib-test 2>&1 | tee $(BUILD)/check/host-libunpriv.log; \
	[ $${PIPESTATUS[0]} -eq 0 ] || rc=1; \
	echo "== host: libunpriv on the ptrace and seccomp backends"; \
	$(CMAKE_BUILD)/userlib/unpriv-backend-test 2>&1 | tee $(BUILD)/check/host-libunpriv-backends.log; \
	[ $${PIPESTATUS[0]} -eq 0 ] || rc=1; \
	echo "== host: sandboxed-inflate against zcat, and hostile images in its place"; \
	userlib/examples/sandboxed-inflate/inflate-test --bin $(CMAKE_BUILD)/userlib \
		ptrace seccomp 2>&1 | tee $(BUILD)/check/host-sandboxed-inflate.log; \
	[ $${PIPESTATUS[0]} -eq 0 ] || rc=1; \
	echo "== host: make install, and a program built against it"; \
	tools/tests/install-test 2>&1 | tee $(BUILD)/check/host-install.log; \
	[ $${PIPESTATUS[0]} -eq 0 ] || rc=1; \
	echo "== host: the guest port's host system calls are all in its host layer"; \
	guest-port/tests/host-layer-check --build $(CMAKE_BUILD) 2>&1 | \
		tee $(BUILD)/check/host-guest-port-host-layer.log; \
	[ $${PIPESTATUS[0]} -eq 0 ] || rc=1; \
	echo "== host: the guest port's unit tests"; \
	$(CMAKE_BUILD)/guest-port/tests/guest-port-unit-test 2>&1 | \
		tee $(BUILD)/check/host-guest-port-unit.log; \
	[ $${PIPESTATUS[0]} -eq 0 ] || rc=1; \
	echo "== host: the guest port's unit tests under ThreadSanitizer"; \
	TSAN_OPTIONS="exitcode=66 $$TSAN_OPTIONS" $(TSAN_BUILD)/guest-port/tests/guest-port-unit-test \
		--test-suite-exclude="Mm mirrors" 2>&1 | tee $(BUILD)/check/host-guest-port-tsan.log; \
	s=$${PIPESTATUS[0]}; [ $$s -eq 0 ] || { rc=1; \
		printf 'not ok - ThreadSanitizer or doctest failed (status %s)\n%s\n' $$s \
			"# Totals: pass:0 fail:1 xfail:0 xpass:0 skip:0 error:0" | \
		tee -a $(BUILD)/check/host-guest-port-tsan.log; }; \
	echo "== host: the guest port on the ptrace and seccomp backends"; \
	rm -rf $(BUILD)/guest-root && $(CMAKE_BUILD)/guest-port/unpriv-run \
		--make-root $(BUILD)/guest-root && \
	guest-port/tests/e2e --root $(BUILD)/guest-root \
		--unpriv-run $(CMAKE_BUILD)/guest-port/unpriv-run ptrace seccomp 2>&1 | \
		tee $(BUILD)/check/host-guest-port.log; \
	[ $${PIPESTATUS[0]} -eq 0 ] || rc=1; \
	echo "== host: the guest port's test programs on the ptrace and seccomp backends"; \
	install -d $(BUILD)/guest-root/tests $(BUILD)/guest-root/lib/x86_64-linux-gnu \
		$(BUILD)/guest-root/lib64 && \
	install -m 0755 $(CMAKE_BUILD)/guest-port/tests/guest-*-test $(BUILD)/guest-root/tests/ && \
	install -m 0755 $(addprefix /lib/x86_64-linux-gnu/,$(GUEST_LIBS)) \
		$(BUILD)/guest-root/lib/x86_64-linux-gnu/ && \
	ln -sf /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 $(BUILD)/guest-root/lib64/ && \
	guest-port/tests/progs-check --root $(BUILD)/guest-root \
		--unpriv-run $(CMAKE_BUILD)/guest-port/unpriv-run ptrace seccomp 2>&1 | \
		tee $(BUILD)/check/host-guest-port-progs.log; \
	[ $${PIPESTATUS[0]} -eq 0 ] || rc=1; \
	echo "== host: the guest port's clone with its creator held (gdb)"; \
	guest-port/tests/clone-race-check --root $(BUILD)/guest-root \
		--unpriv-run $(CMAKE_BUILD)/guest-port/unpriv-run seccomp 2>&1 | \
		tee $(BUILD)/check/host-guest-port-clone-race.log; \
	[ $${PIPESTATUS[0]} -eq 0 ] || rc=1; \
	echo "== host: busybox's ash_test, natively and in the guest port on ptrace and seccomp"; \
	if suite=$$(guest-port/tests/ash-suite-fetch --busybox $(BUILD)/guest-root/bin/busybox); then \
		guest-port/tests/ash-suite --suite "$$suite" --root $(BUILD)/guest-root \
			--unpriv-run $(CMAKE_BUILD)/guest-port/unpriv-run ptrace seccomp 2>&1 | \
			tee $(BUILD)/check/host-guest-port-ash-suite.log; \
		[ $${PIPESTATUS[0]} -eq 0 ] || rc=1; \
	else \
		rc=1; printf '%s\n' "not ok 1 fetching busybox's ash_test (guest-port/tests/ash-suite-fetch)" \
			"# Totals: pass:0 fail:1 xfail:0 xpass:0 skip:0 error:0" | \
			tee $(BUILD)/check/host-guest-port-ash-suite.log; \
	fi; \
	echo "== host: python3, gcc and make of the host's root in the guest port"; \
	guest-port/tests/host-root-check --root / \
		--unpriv-run $(CMAKE_BUILD)/guest-port/unpriv-run ptrace seccomp 2>&1 | \
		tee $(BUILD)/check/host-guest-port-host-root.log; \
	[ $${PIPESTATUS[0]} -eq 0 ] || rc=1; \
	echo "== host: job control keys in an interactive guest shell (ptrace)"; \
	tools/tests/shell-session --timeout 60 -- $(CMAKE_BUILD)/guest-port/unpriv-run \
		--backend=ptrace --root $(BUILD)/guest-root -- /bin/sh 2>&1 | \
		tee $(BUILD)/check/host-guest-shell.log; \
	[ $${PIPESTATUS[0]} -eq 0 ] || rc=1; \
	echo "== host: unpriv-stress --self-test"; \
	$(BUILD)/stress/unpriv-stress --self-test 2>&1 | tee $(BUILD)/check/host-stress-self-test.log; \
	[ $${PIPESTATUS[0]} -eq 0 ] || rc=1; \
	echo "== host: no indirect call in the module, for IBT"; \
	tools/tests/ibt-call-test 2>&1 | tee $(BUILD)/check/host-ibt-calls.log; \
	[ $${PIPESTATUS[0]} -eq 0 ] || rc=1; \
	echo "== host: tools/check-summary"; \
	tools/tests/check-summary-test 2>&1 | tee $(BUILD)/check/host-check-summary.log; \
	[ $${PIPESTATUS[0]} -eq 0 ] || rc=1; \
	echo "== host: tools/kernel-log-scan"; \
	tools/tests/kernel-log-scan-test 2>&1 | tee $(BUILD)/check/host-kernel-log-scan.log; \
	[ $${PIPESTATUS[0]} -eq 0 ] || rc=1; \
	echo "== host: tools/vmrun"; \
	tools/tests/vmrun-test 2>&1 | tee $(BUILD)/check/host-vmrun.log; \
	[ $${PIPESTATUS[0]} -eq 0 ] || rc=1; \
	echo "== host: bench/macro-report --self-test"; \
	bench/macro-report --self-test 2>&1 | tee $(BUILD)/check/host-macro-report.log; \
	[ $${PIPESTATUS[0]} -eq 0 ] || rc=1; \
	echo "== host: selftests skip without the module"; \
	tools/tests/selftests-skip-test 2>&1 | tee $(BUILD)/check/host-selftests-skip.log; \
	[ $${PIPESTATUS[0]} -eq 0 ] || rc=1; \
	echo "== host: selftests fail cleanly when their harness cannot mmap"; \
	tools/tests/harness-mmap-test 2>&1 | tee $(BUILD)/check/host-harness-mmap.log; \
	[ $${PIPESTATUS[0]} -eq 0 ] || rc=1; \
	echo "== host$(if $(KSFT_OWN_BOOT), and vm): the selftests as a kselftest target of kernel trees ($(KSFT_TREES))"; \
	{ s=0; $(if $(KSFT_IN_CHECK),tools/tests/ksft-tree-test --no-vm $(KSFT_IN_CHECK) || s=1;) \
	  $(if $(KSFT_OWN_BOOT),tools/tests/ksft-tree-test $(KSFT_OWN_BOOT) || s=1;) exit $$s; } 2>&1 | \
		tee $(BUILD)/check/vm-ksft-tree.log; \
	[ $${PIPESTATUS[0]} -eq 0 ] || rc=1; \
	if [ "$(CHECK_DKMS)" = 1 ]; then \
		echo "== host and vm: DKMS ($(DKMS_KERNELS))"; \
		tools/tests/dkms-test $(addprefix -k ,$(DKMS_KERNELS)) 2>&1 | tee $(BUILD)/check/vm-dkms.log; \
		[ $${PIPESTATUS[0]} -eq 0 ] || rc=1; \
	fi; \
	echo "== vm[generic]: User-Mode Linux"; \
	if rm -rf $(UML_STAGE) && \
	   $(if $(filter 1,$(CHECK_UML_PTRACE)),guest-port/uml/stage $(UML_STAGE) linux --stock &&) \
	   guest-port/uml/stage $(UML_STAGE) linux-unpriv; then \
		tools/vmrun --kernel generic --cpus 2 --timeout 900 --add $(UML_STAGE)/.:/ -- \
			uml-check $(if $(filter 1,$(CHECK_UML_PTRACE)),,--no-ptrace) \
			--unpriv /usr/lib/unpriv/uml/linux-unpriv 2>&1 | \
			tee $(BUILD)/check/vm-uml.log; \
		s=$${PIPESTATUS[0]}; [ $$s -eq 0 ] || { rc=1; echo "vmrun-status: $$s" >>$(BUILD)/check/vm-uml.log; }; \
	else \
		rc=1; printf '%s\n' "not ok 1 building and staging UML (guest-port/uml/stage)" \
			"# Totals: pass:0 fail:1 xfail:0 xpass:0 skip:0 error:0" | tee $(BUILD)/check/vm-uml.log; \
	fi; \
	echo "== vm: loading the module"; \
	tools/tests/module-load-test 2>&1 | tee $(BUILD)/check/vm-module-load.log; \
	[ $${PIPESTATUS[0]} -eq 0 ] || rc=1; \
	echo "== vm[generic]: make shell's session: job control keys in the guest port on the module"; \
	tools/tests/shell-session --timeout 300 -- $(SHELL_VM) 2>&1 | \
		tee $(BUILD)/check/vm-guest-shell.log; \
	[ $${PIPESTATUS[0]} -eq 0 ] || rc=1; \
	for k in $(CHECK_KERNELS); do \
		v=$$(for p in $(KSFT_IN_CHECK); do [ "$${p#*:}" != "$$k" ] || echo "$${p%%:*}"; done | head -n 1); \
		add=(); cmd=unpriv-check; what="selftests"; \
		if [ -n "$$v" ] && [ -x $(BUILD)/ksft-tree/$$v/install/run_kselftest.sh ]; then \
			add=(--add $(BUILD)/ksft-tree/$$v/install:/usr/lib/unpriv/ksft-$$v \
			     --add $(BUILD)/ksft-tree/timeout/.:/); \
			cmd="unpriv-check --kselftest /usr/lib/unpriv/ksft-$$v"; \
			what="selftests as $$v's kselftest install runs them"; \
		fi; \
		gp=", the guest port"; \
		case " $(CHECK_NO_GUEST_PORT) " in *" $$k "*) cmd="$$cmd --no-guest-port"; gp=;; \
			*) case " $(CHECK_ONE_CPU) " in *" $$k "*) \
				cmd="$$cmd --one-cpu-too"; gp="$$gp (on 2 and 1 CPUs)";; esac; \
			case " $(CHECK_ASH_SUITE) " in *" $$k "*) \
				if suite=$$(guest-port/tests/ash-suite-fetch --busybox $(VMROOT)$(GUEST_ROOT)/bin/busybox); then \
					add+=(--add "$$suite:/usr/lib/unpriv/ash_test"); \
					cmd="$$cmd --ash-suite /usr/lib/unpriv/ash_test"; gp="$$gp, busybox's ash_test"; \
				else \
					rc=1; echo "check: no ash_test for vm[$$k] (guest-port/tests/ash-suite-fetch)"; \
				fi;; esac;; esac; \
		case " $(STRESS_IN_CHECK) " in *" $$k "*) \
			cmd="$$cmd; s=\$$?; unpriv-stress-rounds --duration $(CHECK_STRESS_SECONDS) $(stress_seed) || s=1; exit \$$s"; \
			what="$$what, a stress round of $(CHECK_STRESS_SECONDS) s";; \
		esac; \
		echo "== vm[$$k]: $$what, libunpriv$$gp"; \
		[ $$k != $(CHECK_HOST_ROOT_KERNEL) ] || add+=(--share /:hostroot); \
		tools/vmrun --kernel $$k --cpus 2 --timeout 1800 "$${add[@]}" -- sh -c "$$cmd" 2>&1 | \
			tee $(BUILD)/check/vm-$$k.log; \
		s=$${PIPESTATUS[0]}; [ $$s -eq 0 ] || { rc=1; echo "vmrun-status: $$s" >>$(BUILD)/check/vm-$$k.log; }; \
	done; \
	for k in $(CHECK_SELFTEST_KERNELS); do \
		echo "== vm[$$k]: selftests"; \
		tools/vmrun --kernel $$k --cpus 2 --timeout 600 -- unpriv-check $(SELFTEST_PROGS) 2>&1 | \
			tee $(BUILD)/check/vm-$$k.log; \
		s=$${PIPESTATUS[0]}; [ $$s -eq 0 ] || { rc=1; echo "vmrun-status: $$s" >>$(BUILD)/check/vm-$$k.log; }; \
	done; \
	for m in $(VSYSCALL_MODES); do \
		echo "== vm[generic, vsyscall=$$m]: vsyscall_test"; \
		tools/vmrun --kernel generic --cpus 2 --timeout 300 --append vsyscall=$$m \
			-- unpriv-check vsyscall_test 2>&1 | tee $(BUILD)/check/vm-vsyscall-$$m.log; \
		s=$${PIPESTATUS[0]}; [ $$s -eq 0 ] || { rc=1; echo "vmrun-status: $$s" >>$(BUILD)/check/vm-vsyscall-$$m.log; }; \
	done; \
	for k in $(STRESS_OWN_BOOT); do \
		echo "== vm[$$k]: a stress round of $(CHECK_STRESS_SECONDS) s"; \
		tools/vmrun --kernel $$k --cpus 2 --timeout 600 -- unpriv-stress-rounds \
			--duration $(CHECK_STRESS_SECONDS) $(stress_seed) 2>&1 | \
			tee $(BUILD)/check/vm-$$k-stress.log; \
		s=$${PIPESTATUS[0]}; [ $$s -eq 0 ] || { rc=1; echo "vmrun-status: $$s" >>$(BUILD)/check/vm-$$k-stress.log; }; \
	done; \
	tools/check-summary $(BUILD)/check/*.log || rc=1; \
	exit $$rc

# --- check-all: make check on every kernel, with DKMS ------------------------

check-all:
	$(Q)$(MAKE) --no-print-directory check \
		CHECK_KERNELS="generic rt generic-6.12 rt-6.12 cloud-6.12 debug" \
		CHECK_SELFTEST_KERNELS= CHECK_DKMS=1 CHECK_UML_PTRACE=1 \
		CHECK_NO_GUEST_PORT= \
		CHECK_ONE_CPU="generic rt generic-6.12 rt-6.12 cloud-6.12 debug" \
		CHECK_ASH_SUITE=generic

# --- check-debug: the long rounds, on the debug kernel ----------------------
#
# unpriv-stress in CHECK_DEBUG_ROUNDS rounds, the module loaded afresh for
# each (unloading it after a round must succeed), with the hung-task
# detector at 30 s and kmemleak after the last; then the fault-injection
# round (tools/vm/unpriv-fault-inject), under 'vmrun --allow-alloc-failures'.
# Logs in build/check-debug/, counted by tools/check-summary.

check-debug: all modules-debug
	$(Q)rm -rf $(BUILD)/check-debug && mkdir -p $(BUILD)/check-debug
	$(Q)rc=0; log=$(BUILD)/check-debug; \
	echo "== vm[debug]: $(CHECK_DEBUG_ROUNDS) stress rounds of $(CHECK_DEBUG_SECONDS) s"; \
	tools/vmrun --kernel debug --cpus 2 --timeout 2400 -- unpriv-stress-rounds \
		--rounds $(CHECK_DEBUG_ROUNDS) --duration $(CHECK_DEBUG_SECONDS) \
		--hung-task 30 $(stress_seed) 2>&1 | tee $$log/vm-debug-stress.log; \
	s=$${PIPESTATUS[0]}; [ $$s -eq 0 ] || { rc=1; echo "vmrun-status: $$s" >>$$log/vm-debug-stress.log; }; \
	echo "== vm[debug]: fault injection"; \
	tools/vmrun --kernel debug --cpus 2 --timeout 1800 --allow-alloc-failures -- \
		unpriv-fault-inject $(stress_seed) 2>&1 | tee $$log/vm-debug-fault-inject.log; \
	s=$${PIPESTATUS[0]}; [ $$s -eq 0 ] || { rc=1; echo "vmrun-status: $$s" >>$$log/vm-debug-fault-inject.log; }; \
	tools/check-summary $$log/*.log || rc=1; \
	exit $$rc

# --- run --------------------------------------------------------------------

run: all
	$(Q)tools/vmrun --kernel generic -- sh -c '\
		insmod /lib/modules/$$(uname -r)/extra/unpriv.ko && unpriv-info && \
		echo && hello-guest --backend=module && echo && \
		unpriv-run --backend=module --stats --root $(GUEST_ROOT) -- \
			/bin/busybox echo "hello from the guest port" && echo && \
		unpriv-run --backend=module --root $(GUEST_ROOT) -- /bin/sh /tests/run.sh'

# --- shell: an interactive shell in the guest port, in the VM ---------------
#
# tools/vmrun --interactive makes this terminal the VM's serial terminal
# (raw: ^C and ^Z go through as characters); tools/vm/unpriv-shell loads
# the module and runs busybox sh in the guest port on it.  'exit' ends
# the VM; SHELL_TIMEOUT (seconds, default 3600) bounds the session.

SHELL_TIMEOUT ?= 3600
SHELL_VM = tools/vmrun --kernel generic --interactive --timeout $(SHELL_TIMEOUT) -- unpriv-shell

shell: all
	$(Q)$(SHELL_VM)

# A scripted session through make shell's path (about two minutes: a VM
# boot of its own, so not part of make check, which runs the session
# against the guest port on the host).
check-shell: all
	$(Q)tools/tests/shell-session --timeout 300 -- $(SHELL_VM)

# --- User-Mode Linux (guest-port/uml/) --------------------------------------
#
# 'make uml' builds UML from Debian's linux-source-6.12 with the project's
# configuration, with and without the patch series (the stock build is the
# baseline), cached outside the clone (guest-port/uml/build).  'make
# run-uml' boots the test VM and runs UML_CMD in the userspace of UML with
# the series, on the module (UML_ARGS: unpriv=on; unpriv=off for ptrace).

UML_CMD ?= uname -a; echo "hello from UML's userspace"; ls /
UML_ARGS ?= unpriv=on
export UML_CMD UML_ARGS

uml: deps
	$(Q)guest-port/uml/build --stock
	$(Q)guest-port/uml/build

UML_STAGE := $(BUILD)/uml-stage

$(BUILD)/uml-tests/%: guest-port/uml/tests/%.c guest-port/tests/progs/tap.h
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) -O2 -Wall -Wextra -static -no-pie -I guest-port/tests/progs -o $@ $<

run-uml: vmroot
	$(Q)rm -rf $(UML_STAGE) && guest-port/uml/stage $(UML_STAGE) linux
	$(Q)tools/vmrun --kernel generic --add $(UML_STAGE)/.:/ -- sh -c \
		'unpriv-load && uml-run --append "$$1" -- "$$2"' - "$$UML_ARGS" "$$UML_CMD"

.PHONY: uml run-uml

# --- install: libunpriv, its CMake package and pkg-config file; unpriv-run -
#
#   make install [PREFIX=/usr/local] [DESTDIR=...]
#
# The module itself is installed as any out-of-tree module is:
#   make -C /lib/modules/$(uname -r)/build M=$PWD modules_install

PREFIX ?= /usr/local

install: userspace
	$(Q)DESTDIR=$(DESTDIR) cmake --install $(CMAKE_BUILD) --prefix $(PREFIX) | \
		sed 's/^-- //'

# --- install-dkms: the module's sources, for DKMS ---------------------------
#
#   make install-dkms [DESTDIR=...]
#
# Copies what DKMS builds the module from (dkms.conf, Kbuild, module/,
# uapi/linux/unpriv.h) to $(DESTDIR)/usr/src/unpriv-VERSION, VERSION
# being dkms.conf's PACKAGE_VERSION; then, as root,
# 'dkms install unpriv/VERSION' (README.md: "Installing with DKMS").
# A package would do the same with DESTDIR set.

DKMS_VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"$$/\1/p' dkms.conf)
DKMS_SRC = $(DESTDIR)/usr/src/unpriv-$(DKMS_VERSION)

install-dkms:
	$(if $(DKMS_VERSION),,$(error dkms.conf has no PACKAGE_VERSION))
	$(Q)install -d $(DKMS_SRC)/module $(DKMS_SRC)/uapi/linux
	$(Q)install -m 0644 dkms.conf Kbuild COPYING $(DKMS_SRC)/
	$(Q)install -m 0644 $(wildcard module/*.[chS]) module/Kbuild module/60-unpriv.rules \
		$(DKMS_SRC)/module/
	$(Q)install -m 0755 module/dkms-hook $(DKMS_SRC)/module/
	$(Q)install -m 0644 uapi/linux/unpriv.h $(DKMS_SRC)/uapi/linux/
	@echo "  DKMS    $(DKMS_SRC)"

# --- dkms-check: DKMS on this machine, and what it built in the VM ----------
#
# tools/tests/dkms-test alone (it is also a part of 'make check'), as
# root (through sudo otherwise): dkms add, build and install against the
# installed headers of each kernel in DKMS_KERNELS, each module so built
# loaded in that kernel's VM, the unsupported kernels refused, then
# dkms remove and the host as it was found.  Log in build/check-dkms/.

dkms-check: modules vmroot
	$(Q)rm -rf $(BUILD)/check-dkms && mkdir -p $(BUILD)/check-dkms
	$(Q)rc=0; \
	echo "== host and vm: DKMS ($(DKMS_KERNELS))"; \
	tools/tests/dkms-test $(addprefix -k ,$(DKMS_KERNELS)) 2>&1 | \
		tee $(BUILD)/check-dkms/dkms.log; \
	[ $${PIPESTATUS[0]} -eq 0 ] || rc=1; \
	tools/check-summary $(BUILD)/check-dkms/*.log || rc=1; \
	exit $$rc

clean:
	rm -rf $(BUILD)

.PHONY: all deps modules selftests checkpatch stress unpriv-stat userspace tsan-unit vmroot test-modules check check-all check-debug run shell check-shell install install-dkms dkms-check clean

# --- the debug kernel (tools/debug-kernel/) ---------------------------------
#
# 'make debug-kernel' builds it (once: an unchanged debug.config reuses the
# build); 'make modules-debug' builds the module against it into
# build/kmod/<its release>/, as 'modules' does for Debian's kernels, with
# debug info so that scripts/faddr2line can place a report's addresses;
# 'tools/vmrun --kernel debug' boots it.

debug-kernel:
	$(Q)tools/debug-kernel/build >/dev/null

modules-debug: deps
	$(Q)kdir=$$(tools/debug-kernel/build --kdir) && \
	v=$$(tools/debug-kernel/build --release) && \
	dir=$(BUILD)/kmod/$$v && \
	mkdir -p $$dir && cp -asf $(CURDIR)/Kbuild $(CURDIR)/module $(CURDIR)/uapi $$dir/ && \
	$(MAKE) --no-print-directory -C $$kdir M=$$dir KCFLAGS=-g modules \
		$(if $(V),,>$$dir/build.log 2>&1 || { cat $$dir/build.log; exit 1; }) && \
	echo "  MODULE  build/kmod/$$v/module/unpriv.ko"

.PHONY: debug-kernel modules-debug

# --- benchmarks (bench/bench.mk) -------------------------------------------
-include bench/bench.mk
