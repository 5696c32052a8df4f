#!/bin/bash
# Static checks on the sources: no shelling out from the library or the
# tools, every tool has a man page and --help, headers compile alone.
. "$(dirname "$0")/lib.sh"
cd "$CYRIS_SRC" || exit 1

hits=$(grep -rnE '\b(system|popen|execl|execlp|execle|execv|execvp|execvpe|execve|posix_spawnp?)[[:space:]]*\(' \
	net vm tools include 2>/dev/null | grep -vE '^[^:]+:[0-9]+:[[:space:]]*(//|\*|/\*)')
is "$hits" "" "no system/popen/exec*/posix_spawn in net, vm, tools, include"

# Process-wide state stays with the caller: the library (net/, vm/) reads the
# environment only for its configuration, and installs a signal or libvirt
# error handler, or forks, only in the calls whose header says so. Each
# pattern with the files allowed to use it (code, not comments).
process_wide() {   # DIR: prints every use outside its allow-list
	local re allow hit
	while IFS=';' read -r re allow; do
		grep -rnE "\b($re)[[:space:]]*\(" "$1/net" "$1/vm" 2>/dev/null |
			grep -vE '^[^:]+:[0-9]+:[[:space:]]*(//|\*|/\*)' |
			while IFS= read -r hit; do
				f=${hit#"$1/"}; f=${f%%:*}
				[[ " $allow " == *" $f "* ]] || echo "$f: $re: ${hit#*:*:}"
			done
	done <<-'EOF'
	getenv|secure_getenv;net/base/conf.c vm/aws/creds.c
	virSetErrorFunc|virConnSetErrorFunc;vm/libvirt/virt.c vm/libvirt/virt-dl.c
	signal|sigaction|sigprocmask|pthread_sigmask;net/tunnel/tunnel.c
	fork|vfork|daemon|setsid;net/tunnel/tunnel.c
	EOF
}
is "$(process_wide .)" "" "net/ and vm/ call getenv only in conf.c (and vm/aws/creds.c, the AWS conventions); handlers, signals and forks only where allowed"
grep -q 'cyris_vm_quiet_libvirt' vm/libvirt/virt-dl.c && grep -q 'virSetErrorFunc' include/cyris/vm.h
ok "the one virSetErrorFunc is cyris_vm_quiet_libvirt(), documented in cyris/vm.h" test $? = 0
ok "cyris/tunnel.h says which calls fork and change signal state" \
	bash -c "grep -q 'This call forks' include/cyris/tunnel.h && grep -q 'sigaction' include/cyris/tunnel.h"
# One error model (cyris/error.h): no call hands back its error detail as a
# caller's char buffer or as a string of its own.
is "$(grep -rnE 'char \*err(msg|buf)?, size_t|const char \*cyris_[a-z_]*(err|error|extack|errmsg)\(' \
	include/cyris net vm)" "" "error detail comes only as a struct cyris_error"
pw=$(mktemp -d); mkdir -p "$pw/net/nft" "$pw/vm/libvirt" "$pw/net/base"
printf 'int f(void) { return !!getenv("X"); }\n' > "$pw/net/nft/fw.c"
printf '/* getenv("comment") */\nint g(void) { return !!getenv("Y"); }\n' > "$pw/net/base/conf.c"
printf 'void h(void) { virSetErrorFunc(0, 0); signal(1, 0); }\n' > "$pw/vm/libvirt/vm.c"
is "$(process_wide "$pw" | cut -d: -f1,2 | sort | tr '\n' ' ')" \
	"net/nft/fw.c: getenv|secure_getenv vm/libvirt/vm.c: signal|sigaction|sigprocmask|pthread_sigmask vm/libvirt/vm.c: virSetErrorFunc|virConnSetErrorFunc " \
	"a getenv, a libvirt handler and a signal call outside the allow-list are each caught"
rm -rf "$pw"
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

# ---- layers: folder = module; an include never points up or into another
# module's private header (README "Layout"). The order, lower to upper, is
# the %layer table; include/cyris/NAME.h counts as the module implementing it.
read -r -d '' layering_pl <<'PL'
use strict; use warnings;
use File::Find; use File::Basename; use File::Spec;
my %layer = ('net/base' => 0, 'net/rtnl' => 1, 'net/nft' => 2, 'net/tunnel' => 2,
	     'vm/libvirt' => 2, 'net/topo' => 3, 'tools' => 4, 'tests' => 5);
$layer{'vm/aws'} = 2;
my %public = (conf => 'net/base', ip => 'net/base', error => 'net/base',
	      map({ $_ => 'net/rtnl' } qw(nl link addr neigh route netns tag entry)),
	      fw => 'net/nft', tunnel => 'net/tunnel', vm => 'vm/libvirt', aws => 'vm/aws',
	      map({ $_ => 'net/topo' } qw(range plan topo provider check lock)));
# a provider registers itself through topo's provider interface and checks;
# vm/aws also maps a whole plan onto EC2 (cyris_ec2_up: VPC, groups from the
# plan's resolved rules, routes), so it reads the plan's and the rules' types
my %up_ok = ('vm/libvirt' => { 'include/cyris/provider.h' => 1, 'include/cyris/check.h' => 1 });
$up_ok{'vm/aws'} = { 'include/cyris/provider.h' => 1, 'include/cyris/check.h' => 1,
	'include/cyris/plan.h' => 1, 'include/cyris/range.h' => 1, 'include/cyris/fw.h' => 1 };
# unit tests that test internals: each such include by name
my %exempt = map { $_ => 1 } ('tests/unit/vm.c vm/libvirt/vm-priv.h',
	'tests/unit/lock.c net/base/conf-priv.h',
	'tests/unit/cli.c tools/cli.h', 'tests/unit/cli.c tools/linkfmt.h',
	# the EC2 client's signer, settings and its one-call driver
	'tests/unit/aws-sigv4.c vm/aws/aws-priv.h', 'tests/unit/aws-conf.c vm/aws/aws-priv.h',
	'tests/helpers/aws-call.c vm/aws/aws-priv.h',
	# the rule compiler, reserved addresses, user-data of vm/aws/ec2.c
	'tests/unit/aws-ec2.c vm/aws/ec2-priv.h',
	# a second context in the very namespace of a first (the teardown's senders)
	'tests/unit/linkdel.c net/rtnl/nl-priv.h',
	# fuzz harnesses of internal parsers
	'tests/fuzz/expose.c net/nft/fw-priv.h', 'tests/fuzz/rule.c net/nft/fw-priv.h',
	'tests/fuzz/tunnel-state.c net/tunnel/tunnel-priv.h');
sub module {
	my $f = shift;
	if ($f =~ m{^include/cyris/(\w+)\.h$}) { return $public{$1} // "an unknown layer ($f)"; }
	return $1 if $f =~ m{^((?:net|vm)/[^/]+)/} || $f =~ m{^(tools|tests)/};
	return undef;
}
my @files;
find({ no_chdir => 1, wanted => sub { push @files, $File::Find::name if /\.[ch]$/ } },
     grep { -d } @ARGV);
for my $f (sort @files) {
	my $m = module($f);
	if (!defined $m) { print "$f: in no module (net/X/, vm/X/, tools/, tests/)\n"; next; }
	open(my $fh, '<', $f) or die "$f: $!";
	while (my $line = <$fh>) {
		next unless $line =~ /^\s*#\s*include\s*"([^"]+)"/;
		my $inc = $1;
		my ($t) = grep { -f } (dirname($f) . "/$inc", "include/$inc");
		if (!$t) { print "$f:$.: \"$inc\": neither next to it nor in include/\n"; next; }
		$t = File::Spec->canonpath($t);
		1 while $t =~ s{(^|/)(?!\.\./)[^/]+/\.\./}{$1};
		next if $exempt{"$f $t"};
		my $tm = module($t);
		if (!defined $tm) { print "$f:$.: \"$inc\" ($t): in no module\n"; next; }
		next if $tm eq $m;
		# net/base/*-priv.h: shared by the library's modules, not its callers
		if ($t =~ m{^net/base/.*-priv\.h$} && $m !~ m{^(net|vm)/}) {
			print "$f:$.: \"$inc\": private to the library\n";
			next;
		}
		if ($t !~ m{^include/} && $tm ne 'net/base') {
			print "$f:$.: \"$inc\": a private header of $tm\n";
			next;
		}
		next if (defined $layer{$tm} && defined $layer{$m} && $layer{$tm} < $layer{$m})
			|| $up_ok{$m}{$t};
		print "$f:$.: \"$inc\": $tm is not below $m\n";
	}
	close $fh;
}
PL
layering() { (cd "$1" && perl -e "$layering_pl" net vm tools tests include); }
is "$(layering .)" "" "every include points down or into its own module, never into another's private header"
# and it catches what it is there for, in a scratch tree
bad=$(mktemp -d)
mkdir -p "$bad/net/rtnl" "$bad/net/topo" "$bad/net/nft" "$bad/net/base" "$bad/include/cyris" "$bad/tools"
: > "$bad/include/cyris/topo.h"; : > "$bad/net/nft/fw-priv.h"; : > "$bad/net/rtnl/nl-priv.h"
: > "$bad/net/base/conf-priv.h"; : > "$bad/net/base/util.h"
printf '#include "cyris/topo.h"\n' > "$bad/net/rtnl/link.c"
printf '#include "../nft/fw-priv.h"\n' > "$bad/net/topo/topo.c"
printf '#include "../net/rtnl/nl-priv.h"\n#include "cyris/topo.h"\n#include "../net/base/util.h"\n' > "$bad/tools/t.c"
printf '#include "../net/base/conf-priv.h"\n' > "$bad/tools/u.c"
is "$(layering "$bad")" 'net/rtnl/link.c:1: "cyris/topo.h": net/topo is not below net/rtnl
net/topo/topo.c:1: "../nft/fw-priv.h": a private header of net/nft
tools/t.c:1: "../net/rtnl/nl-priv.h": a private header of net/rtnl
tools/u.c:1: "../net/base/conf-priv.h": private to the library' \
	"an include upward, and into another module's private header, are each caught"
rm -rf "$bad"

# ---- the ABI: libcyris.so exports exactly the functions include/cyris/*.h
# declares, both ways; every header hands its declarations default
# visibility (the library is built with -fvisibility=hidden).
so=$CYRIS_BUILD/lib/libcyris.so
declared=$(perl -0777 -ne 's{/\*.*?\*/}{}gs; s{//[^\n]*}{}g; s{^\s*#[^\n]*}{}gm;
	print "$1\n" while /\b(cyris_[a-z0-9_]+)\s*\(/g' include/cyris/*.h | sort -u)
exported=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TtWiDdBbRr]$/ { sub(/@.*/, "", $3); print $3 }' | sort -u)
ok "libcyris.so exports functions at all" test -n "$exported"
is "$(comm -23 <(echo "$exported") <(echo "$declared"))" "" "libcyris.so exports nothing that include/cyris/*.h does not declare"
is "$(comm -13 <(echo "$exported") <(echo "$declared"))" "" "everything include/cyris/*.h declares is exported"
is "$(nm -D --defined-only "$so" | awk '$2 == "A" { print $3 }')" CYRIS_0.1 "and versioned CYRIS_0.1 (include/libcyris.map)"
for h in include/cyris/*.h; do
	is "$(grep -c '^#pragma GCC visibility \(push(default)\|pop\)$' "$h")" 2 "$h gives its declarations default visibility"
done
# The tools use the public API only (plus net/base/ and tools/ helpers,
# which they link themselves): each links against libcyris.so as well.
san=
[ "${CYRIS_SAN:-0}" = 1 ] && san="-fsanitize=address,undefined"
tmp=$(mktemp -d)
aux=$(ls "$CYRIS_BUILD"/obj/tools/*.o | grep -v '/cyris-[^/]*\.o$')
for t in tools/cyris-*.c; do
	n=$(basename "$t" .c)
	ok "$n links against libcyris.so: it uses only the public API" \
		"${CYRIS_CC:-cc}" $san -o "$tmp/$n" "$CYRIS_BUILD/obj/tools/$n.o" $aux \
		"$CYRIS_BUILD/obj/net/base/json.o" "$CYRIS_BUILD/obj/net/base/util.o" \
		-L"$CYRIS_BUILD/lib" -lcyris -lm
done
rm -rf "$tmp"
done_testing
