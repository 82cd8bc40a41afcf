#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# What 'make run' runs in the guest port (busybox sh): a pipeline and a
# background job, each checked against what it must give, so that a
# failure shows.  Exits 1 when something differed.

fail=0
check() {
	if [ "$2" = "$3" ]; then
		echo "ok: $1: $2"
	else
		echo "FAILED: $1: got '$2', want '$3'"
		fail=1
	fi
}

# A pipeline of four processes.
got=$(printf '%s\n' cherry apple banana apple cherry apple | sort | uniq -c |
	awk '{ printf "%s=%s ", $2, $1 }')
check "a pipeline (printf | sort | uniq -c | awk)" "$got" "apple=3 banana=1 cherry=2 "

# A background job, while the shell goes on, then waited for.
tmp=/tmp/run.$$
(sleep 1; echo "from the background"; exit 7) >"$tmp" &
job=$!
check "the shell goes on while the job runs" "$(cat "$tmp")" ""
wait "$job"
check "wait: the job's status" "$?" 7
check "the job's output" "$(cat "$tmp")" "from the background"
rm -f "$tmp"

[ $fail = 0 ] && echo "the guest port ran the shell script: all as expected"
exit $fail
