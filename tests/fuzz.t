#!/bin/bash
# The fuzz harnesses (tests/fuzz/*.c) without libFuzzer: each one, linked
# with the replay driver in this build (normal, SAN=1, or under valgrind),
# is fed every seed of its corpus and every crash ever found
# (tests/fuzz/regress/TARGET).
# A crash, a sanitizer report or a failed invariant fails the test and the
# output names the input.
. "$(dirname "$0")/lib.sh"
cd "$CYRIS_SRC" || exit 1

# replay TARGET DIR...: exits 0 when every input went through (under
# valgrind's memcheck too with CYRIS_VALGRIND=1, as make check-valgrind does)
replay() {
	local t=$1 out rc vg=(); shift
	[ "${CYRIS_VALGRIND:-0}" = 1 ] &&
		vg=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect)
	out=$(timeout 300 "${vg[@]}" "$CYRIS_BUILD/fuzz/replay-$t" "$@" 2>&1)
	rc=$?
	[ $rc = 0 ] && return 0
	printf '%s\n' "$out" | grep -v '^replay: ' | head -40
	printf '%s\n' "$out" | grep '^replay: ' | tail -1   # the input that failed
	echo "exit $rc"
	return 1
}

targets=
for src in tests/fuzz/*.c; do
	t=$(basename "$src" .c)
	[ "$t" = replay ] || targets="$targets $t"
done
[ -n "$targets" ] || skip_all "no harness in tests/fuzz"

for t in $targets; do
	ok "$t: the harness is built" test -x "$CYRIS_BUILD/fuzz/replay-$t"
	seeds=(tests/fuzz/corpus/$t)
	[ "$t" = range ] && seeds+=(contrib/cyris-examples tests/ranges)
	n=$(find "${seeds[@]}" -type f ! -name '.*' | wc -l)
	ok "$t: every seed ($n) goes through" replay "$t" "${seeds[@]}"
	if [ -d "tests/fuzz/regress/$t" ]; then
		for f in tests/fuzz/regress/$t/*; do
			ok "$t: regression input $(basename "$f")" replay "$t" "$f"
		done
	fi
done
# the replay itself must be able to fail
if [ -x "$CYRIS_BUILD/fuzz/replay-tag" ]; then
	ok "a missing input is an error of the replay" \
		bash -c "! '$CYRIS_BUILD/fuzz/replay-tag' /nonexistent/input 2>/dev/null"
fi
done_testing
