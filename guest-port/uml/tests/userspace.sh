# SPDX-License-Identifier: GPL-2.0
#
# A busybox sh script whose output is the same wherever it runs: natively,
# in UML on ptrace, in UML on unpriv.  tools/vm/uml-check compares them.
# Each part prints what it did, never a pid, a time or a host path.  The
# counts are small: under the VM's emulated CPU, a fork and exec in UML
# takes a second or more.

echo "== pipelines"
seq 1 200 | grep 7 | sort -r | head -n 5
printf 'b\na\nc\nb\na\nb\n' | sort | uniq -c
echo "words: $(echo one two three | wc -w)"

echo "== fork and exec"
i=0
while [ $i -lt 5 ]; do
	/bin/true || echo "true failed at $i"
	i=$((i + 1))
done
echo "ran /bin/true $i times"
echo "subshell: $( (cd /tmp && pwd) )"
out=$(sh -c 'exit 7'); echo "sh -c 'exit 7': $?"

echo "== files"
# In UML, $HOME is on the hostfs root.
d=$HOME/files.$$
mkdir "$d"
i=0
while [ $i -lt 20 ]; do
	echo "file $i" >"$d/f$i"
	i=$((i + 1))
done
cat "$d"/f1 "$d"/f19
echo "files: $(ls "$d" | wc -l), bytes: $(cat "$d"/* | wc -c)"
dd if=/dev/zero of="$d/big" bs=4096 count=256 2>/dev/null
echo "big: $(wc -c <"$d/big") bytes, $(tr -d '\000' <"$d/big" | wc -c) of them not zero"
mv "$d/big" "$d/moved" && ln -s moved "$d/link" && echo "link -> $(readlink "$d/link")"
rm -r "$d" && [ ! -e "$d" ] && echo "removed"

echo "== signals and jobs"
# The shell's own "Terminated" for the job comes when it notices, before
# or after the next line: not compared.
{
	sleep 100 &
	job=$!
	kill "$job"
	wait "$job"
	echo "killed job: status $?"
} 2>/dev/null
trap 'echo "trapped USR1"' USR1
kill -USR1 $$
sh -c 'kill -SEGV $$'; echo "SIGSEGV child: status $?"
(sleep 0.2; echo "background done") &
wait
echo "== end"
