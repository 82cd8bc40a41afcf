#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# In the test VM: UML on ptrace and on unpriv, the same commands.
#
#   vmtest.sh [quick|check|compare|bench|kill]...
#
# Expects the UML binary (built with patches/series) at /opt/uml/linux
# and tests/uml-bench.c built static at /opt/uml/uml-bench, with UML's
# C library, e.g. from the top of the clone:
#
#   mkdir -p S/opt/uml && cp OBJ/linux S/opt/uml/ && \
#     gcc -O2 -static -o S/opt/uml/uml-bench guest-port/uml/tests/uml-bench.c && \
#     cp guest-port/uml/dev/vmtest.sh S/opt/uml/ && \
#     for l in $(ldd OBJ/linux | grep -o '/[^ ]*'); do \
#       mkdir -p S$(dirname $l); cp -L $l S$l; done
#   tools/vmrun --kernel generic --add S/.:/ -- sh /opt/uml/vmtest.sh compare kill
#
# unpriv mode is UML's own binary run with unpriv=on (/tmp/linux-unpriv).
unpriv-load || exit 1
printf '#!/bin/sh\nexec /opt/uml/linux "$@" unpriv=on\n' > /tmp/linux-unpriv
chmod +x /tmp/linux-unpriv
[ $# -gt 0 ] || set -- quick
for mode in "$@"; do
case "$mode" in
quick)
	echo "=== unpriv: quick"
	uml-run --uml /tmp/linux-unpriv --log /tmp/c-unpriv.log -- 'echo hello from unpriv UML; uname -r; echo a b c | wc -w; ls /bin | head -3'
	echo "rc=$?"
	grep -i "unpriv\|panic\|segv\|Killed\|error" /tmp/c-unpriv.log | head -20
	tail -n 15 /tmp/c-unpriv.log
	;;
check)
	echo "=== ptrace: uml-check"
	uml-check --uml /opt/uml/linux
	echo "=== unpriv: uml-check"
	uml-check --uml /tmp/linux-unpriv
	;;
bench)
	for u in /opt/uml/linux /tmp/linux-unpriv; do
		echo "=== $u"
		uml-run --uml $u --log /tmp/c-bench.log --add /opt/uml/uml-bench:/bin/uml-bench -- \
			'uml-bench getppid 20000; uml-bench fault 2048; uml-bench forkexec 100'
		echo "rc=$?"
	done
	echo "=== native"
	/opt/uml/uml-bench getppid 20000; /opt/uml/uml-bench fault 2048; /opt/uml/uml-bench forkexec 20
	;;
compare)
	echo "=== userspace.sh: ptrace UML vs unpriv UML"
	t=/usr/lib/unpriv/uml/tests
	uml-run --uml /opt/uml/linux --log /tmp/c-p.log --add $t:/tests -- 'sh /tests/userspace.sh 2>&1' >/tmp/out-ptrace 2>&1
	echo "ptrace rc=$?"
	uml-run --uml /tmp/linux-unpriv --log /tmp/c-u.log --add $t:/tests -- 'sh /tests/userspace.sh 2>&1' >/tmp/out-unpriv 2>&1
	echo "unpriv rc=$?"
	if cmp /tmp/out-ptrace /tmp/out-unpriv; then
		echo "SAME OUTPUT ($(wc -l </tmp/out-unpriv) lines)"
	else
		diff -u /tmp/out-ptrace /tmp/out-unpriv
	fi
	cat /tmp/out-unpriv
	;;
kill)
	echo "=== unpriv: kill -9 UML while a guest process sleeps"
	uml-run --uml /tmp/linux-unpriv --log /tmp/c-kill.log -- 'sleep 120' &
	sleep 25
	pid=$(pidof linux | head -n 1)
	echo "UML pids: $(pidof linux); vcpu/as fds of $pid: $(ls -l /proc/$pid/fd 2>/dev/null | grep -c unpriv)"
	kill -9 $(pidof linux)
	wait
	sleep 1
	echo "after kill: UML pids '$(pidof linux)', unpriv refcnt $(cat /sys/module/unpriv/refcnt)"
	rmmod unpriv && echo "rmmod right after the kill: ok" && unpriv-load
	;;
esac
done
lsmod | grep unpriv
rmmod unpriv && echo "rmmod unpriv: ok"
