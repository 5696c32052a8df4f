#!/bin/bash
# Static checks on the sources: no shelling out from the library or the
# tools, every tool has a man page and --help, headers compile alone.
. "$(dirname "$0")/lib.sh"
cd "$CYRIS_SRC" || exit 1

hits=$(grep -rnE '\b(system|popen|execl|execlp|execle|execv|execvp|execvpe|execve|posix_spawnp?)[[:space:]]*\(' \
	net vm tools include 2>/dev/null | grep -vE '^[^:]+:[0-9]+:[[:space:]]*(//|\*|/\*)')
is "$hits" "" "no system/popen/exec*/posix_spawn in net, vm, tools, include"
for t in tools/cyris-*.c; do
	n=$(basename "$t" .c)
	ok "$n has a man page" test -f "tools/man/$n.8"
	ok "$n --help exits 0 with a usage line" bash -c "$CYRIS_BIN/$n --help | grep -q '^Usage: $n'"
	if [ "$n" = cyris-check ]; then   # takes no command: its checks are the command
		ok "$n with a stray word exits 2" bash -c "$CYRIS_BIN/$n bogus >/dev/null 2>&1; test \$? = 2"
	else
		ok "$n without a command exits 2" bash -c "$CYRIS_BIN/$n >/dev/null 2>&1; test \$? = 2"
	fi
done
for h in include/cyris/*.h; do
	ok "$h compiles on its own" bash -c "echo '#include \"$h\"' | ${CYRIS_CC:-cc} -fsyntax-only -Wall -Wextra -Werror -Iinclude \$(pkg-config --cflags libnl-3.0) -x c -"
done
done_testing
