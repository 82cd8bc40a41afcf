#!/bin/sh
# In the test VM: UML on ptrace and on unpriv, the same commands.
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
kill)
	echo "=== unpriv: kill -9 UML while a guest process sleeps"
	uml-run --uml /tmp/linux-unpriv --log /tmp/c-kill.log -- 'sleep 120' &
	sleep 25
	pid=$(pidof linux | head -n 1)
	echo "UML pids: $(pidof linux); vcpu/as fds of $pid: $(ls -l /proc/$pid/fd 2>/dev/null | grep -c unpriv)"
	kill -9 $(pidof linux)
	wait
	sleep 1
	echo "after kill: $(pidof linux) (none expected)"
	;;
esac
done
lsmod | grep unpriv
rmmod unpriv && echo "rmmod unpriv: ok"
