#!/bin/bash
# make install: tools, static and shared library with a soname, headers,
# libcyris.pc, man pages, completion — and a harness built against it
# through pkg-config really works.
. "$(dirname "$0")/lib.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; _cleanup' EXIT
mk() { make -s -C "$CYRIS_SRC" SAN="${CYRIS_SAN:-0}" CC="${CYRIS_CC:-cc}" "$@"; }
ok "make install DESTDIR=... PREFIX=/usr" mk install DESTDIR="$tmp/dest" PREFIX=/usr
d=$tmp/dest/usr
ok "tools in sbin" test -x "$d/sbin/cyris-bridge"
ok "static library" test -f "$d/lib/libcyris.a"
is "$(readlink "$d/lib/libcyris.so.0")" libcyris.so.0.1.0 "libcyris.so.0 -> the versioned library"
is "$(objdump -p "$d/lib/libcyris.so.0.1.0" 2>/dev/null | awk '/SONAME/ { print $2 }')" libcyris.so.0 "the soname is libcyris.so.0"
ok "headers" test -f "$d/include/cyris/link.h"
ok "libcyris.pc" grep -q '^Libs: -L${libdir} -lcyris' "$d/lib/pkgconfig/libcyris.pc"
ok "man page cyris-bridge(8)" test -f "$d/share/man/man8/cyris-bridge.8"
for m in "$CYRIS_SRC"/tools/man/*.[1-8]; do
	b=$(basename "$m")
	ok "man page $b in man${b##*.}" cmp -s "$m" "$d/share/man/man${b##*.}/$b"
done
ok "the overview cyris(7)" test -f "$d/share/man/man7/cyris.7"
ok "completion" test -f "$d/share/bash-completion/completions/cyris-bridge"
for m in "$d"/share/man/man*/*; do
	ok "$(basename "$m") renders without warnings" bash -c "! MANWIDTH=80 man -l --warnings $m 2>&1 >/dev/null | grep ."
done

ok "make install PREFIX=\$tmp/p" mk install PREFIX="$tmp/p"
cat > "$tmp/harness.c" <<'C'
#include <stdio.h>
#include <cyris/link.h>
int main(void)
{
	struct cyris_nl *nl;
	struct cyris_link_cfg cfg = { .name = "hbr0", .up = true };
	struct cyris_link l;
	char name[CYRIS_IFNAMSIZ];

	if (cyris_name_bridge("124", "office", 0, name) < 0 || cyris_nl_open(&nl, NULL) < 0)
		return 1;
	if (cyris_bridge_create(nl, &cfg, NULL, NULL) < 0 || cyris_link_get(nl, "hbr0", &l) < 0)
		return 2;
	printf("%s %s\n", name, l.kind);
	cyris_link_clear(&l);
	cyris_nl_close(nl);
	return 0;
}
C
san=
[ "${CYRIS_SAN:-0}" = 1 ] && san="-fsanitize=address,undefined"
export PKG_CONFIG_PATH=$tmp/p/lib/pkgconfig
ok "a harness compiles and links through pkg-config" \
	cc $san -o "$tmp/harness" "$tmp/harness.c" $(pkg-config --cflags --libs libcyris)
is "$(LD_LIBRARY_PATH=$tmp/p/lib "$tmp/harness")" "c124-of-5tx1pd bridge" "and runs against the shared library"
ok "it uses the shared library" bash -c "LD_LIBRARY_PATH=$tmp/p/lib ldd $tmp/harness | grep -q 'libcyris.so.0 => $tmp/p/lib'"
ok "make uninstall" mk uninstall PREFIX="$tmp/p"
is "$(find "$tmp/p" -type f | wc -l)" 0 "uninstall leaves no file"
done_testing
