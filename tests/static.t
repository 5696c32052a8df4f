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
# Every subcommand in a tool's command table is in its --help, its man page
# and what its bash completion offers as the first word.
cmds_of() { # the names of the `static const struct cli_cmd cmds[]` table of FILE
	awk '/^static const struct cli_cmd cmds\[\] = \{/ { t = 1; next } t && /^\};/ { t = 0 }
		t && match($0, /^[[:space:]]*\{ "[^"]+"/) { s = substr($0, RSTART, RLENGTH); sub(/^[^"]*"/, "", s); sub(/"$/, "", s); print s }' "$1"
}
completes() { # the words TOOL's completion offers after "TOOL "
	bash -c '
		_init_completion() { cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]}
			words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; }
		_filedir() { :; }; compopt() { :; }
		. "$1" || exit 1
		f=$(complete -p "$2" | sed -n "s/.* -F \([^ ]*\) .*/\1/p")
		[ -n "$f" ] || exit 1
		COMP_WORDS=("$2" ""); COMP_CWORD=1; COMPREPLY=()
		"$f"; printf "%s\n" "${COMPREPLY[@]}"' _ "contrib/bash-completion/$1" "$1"
}
for t in tools/cyris-*.c; do
	n=$(basename "$t" .c)
	c=$(cmds_of "$t")
	ok "$n: its command table is found" test -n "$c"
	help=$("$CYRIS_BIN/$n" --help)
	words=$(completes "$n")
	man=$(sed 's/\\-/-/g' "tools/man/$n.8")
	miss_h= miss_m= miss_c=
	for w in $c; do
		grep -Eq "^  $w( |\$)" <<< "$help" || miss_h+=" $w"
		grep -Eq "^\.(B|BI|BR) +\"?$w( |\"|\\\\|\$)" <<< "$man" || miss_m+=" $w"
		grep -qx -- "$w" <<< "$words" || miss_c+=" $w"
	done
	is "$miss_h" "" "$n: every command is in --help"
	is "$miss_m" "" "$n: every command has an entry in $n(8)"
	is "$miss_c" "" "$n: bash completion offers every command"
done
# make bench writes each benchmark's tables into tests/bench/README.md
# between its markers, and leaves the rest of the file as it was.
tmp=$(mktemp -d)
cp tests/bench/README.md "$tmp/README.md"
mkdir "$tmp/out" && printf '### fake\n\n| a |\n|---|\n| 1 |\n' > "$tmp/out/fw.md"
ok "bench: update-readme.sh puts new tables in" tests/bench/update-readme.sh "$tmp/README.md" "$tmp/out" fw
is "$(sed -n '/^<!-- bench: fw -->$/,/^<!-- \/bench: fw -->$/p' "$tmp/README.md")" \
	"$(printf '<!-- bench: fw -->\n### fake\n\n| a |\n|---|\n| 1 |\n<!-- /bench: fw -->')" "bench: the fw tables are the new ones"
is "$(sed '/^<!-- bench: fw -->$/,/^<!-- \/bench: fw -->$/d' "$tmp/README.md")" \
	"$(sed '/^<!-- bench: fw -->$/,/^<!-- \/bench: fw -->$/d' tests/bench/README.md)" "bench: the rest of the file is unchanged"
cp "$tmp/README.md" "$tmp/before"
exits 1 "bench: a benchmark without tables" tests/bench/update-readme.sh "$tmp/README.md" "$tmp/out" topo
ok "bench: ... leaves the file alone" cmp -s "$tmp/README.md" "$tmp/before"
rm -rf "$tmp"
for b in tests/bench/bench-*.sh; do
	n=$(basename "$b" .sh); n=${n#bench-}
	ok "bench: $n has its markers in tests/bench/README.md" grep -qxF "<!-- bench: $n -->" tests/bench/README.md
done
for h in include/cyris/*.h; do
	ok "$h compiles on its own" bash -c "echo '#include \"$h\"' | ${CYRIS_CC:-cc} -fsyntax-only -Wall -Wextra -Werror -Iinclude \$(pkg-config --cflags libnl-3.0) -x c -"
done
done_testing
