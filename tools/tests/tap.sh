# SPDX-License-Identifier: GPL-2.0
#
# tools/tests/tap.sh: TAP for the bash tests beside it, which source it.
#
#   result ok|fail|skip DESCRIPTION [LOG]   one test line; a failure
#                                           quotes the end of LOG
#   finish                                  the plan and the kselftest
#                                           "# Totals:" line (what
#                                           tools/check-summary counts);
#                                           returns 1 if a test failed

n=0 pass=0 fail=0 skip=0

result() {
	n=$((n + 1))
	case "$1" in
	ok) pass=$((pass + 1)); echo "ok $n $2" ;;
	skip) skip=$((skip + 1)); echo "ok $n $2 # SKIP" ;;
	*)
		fail=$((fail + 1))
		echo "not ok $n $2"
		[[ -z ${3:-} || ! -s $3 ]] || tail -n 25 "$3" | sed 's/^/# | /'
		;;
	esac
}

finish() {
	echo "1..$n"
	echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0"
	[[ $fail -eq 0 ]]
}
