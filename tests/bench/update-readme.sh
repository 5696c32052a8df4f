#!/bin/bash
# update-readme.sh README DIR NAME...: replace what stands between
# "<!-- bench: NAME -->" and "<!-- /bench: NAME -->" in README with the
# tables DIR/NAME.md of the last run, for each NAME given. README is
# rewritten only when every NAME has its file and its pair of markers.
set -u
[ $# -ge 3 ] || { echo "usage: update-readme.sh README DIR NAME..." >&2; exit 2; }
readme=$1 dir=$2
shift 2
for n in "$@"; do
	[ -f "$dir/$n.md" ] || { echo "update-readme: no $dir/$n.md" >&2; exit 1; }
	[ "$(grep -cxF "<!-- bench: $n -->" "$readme")" = 1 ] &&
		[ "$(grep -cxF "<!-- /bench: $n -->" "$readme")" = 1 ] ||
		{ echo "update-readme: $readme: no single pair of markers for $n" >&2; exit 1; }
done
tmp=$(mktemp "$readme.XXXXXX") || exit 1
awk -v dir="$dir" -v names="$*" '
	BEGIN { n = split(names, v, " "); for (i = 1; i <= n; i++) want[v[i]] = 1 }
	skip && $0 == "<!-- /bench: " skip " -->" { skip = ""; print; next }
	skip { next }
	{ print }
	/^<!-- bench: [^ ]+ -->$/ {
		name = $3
		if (!(name in want)) next
		f = dir "/" name ".md"
		while ((getline line < f) > 0) print line
		close(f)
		skip = name
	}
	END { if (skip != "") exit 1 }' "$readme" > "$tmp" &&
	chmod --reference="$readme" "$tmp" && mv "$tmp" "$readme" || { rm -f "$tmp"; exit 1; }
