#!/bin/bash
# Bad input to cyris-tunnel: one clear line on stderr, exit 2, and nothing
# started or recorded; --help and --version.
. "$(dirname "$0")/lib.sh"

export CYRIS_RUNTIME_DIR=/run/cyris
base=(--via root@10.66.1.2 --listen 2222 --to 10.66.2.2:22)
check() { fails_with "$1" "$2" "$3" cyris-tunnel "${@:4}"; }
check 2 "no command given" "no command"
check 2 "unknown command 'opn'" "no prefix matching" opn 1 "${base[@]}"
check 2 "open: wrong number of arguments" "open without a range" open "${base[@]}"
check 2 "range 'a b' is not a valid id" "a bad range" open "a b" "${base[@]}"
check 2 "open: --via, --listen and --to are required" "open without --to" open 124 --via root@h --listen 2222
check 2 "--via 'h' is not USER@HOST\[:PORT\]" "--via without a user" open 124 --via h --listen 2222 --to 10.0.0.1:22
check 2 "--via 'root@h:99999' is not USER@HOST\[:PORT\]" "--via with a bad port" open 124 --via root@h:99999 --listen 2222 --to 10.0.0.1:22
check 2 "--via 'root@fd00::1' is not USER@HOST\[:PORT\]" "a bare IPv6 --via" open 124 --via root@fd00::1 --listen 2222 --to 10.0.0.1:22
check 2 "--listen '0' is not \[ADDR:\]PORT" "--listen 0" open 124 --via root@h --listen 0 --to 10.0.0.1:22
check 2 "--listen 'x:22' is not \[ADDR:\]PORT" "--listen with a name" open 124 --via root@h --listen x:22 --to 10.0.0.1:22
check 2 "--to '10.0.0.1' is not IP:PORT" "--to without a port" open 124 --via root@h --listen 2222 --to 10.0.0.1
check 2 "--to 'guest:22' is not IP:PORT" "--to with a name" open 124 --via root@h --listen 2222 --to guest:22
check 2 "option '--via' needs a value" "--via without value" open 124 --via
check 2 "unknown option '--password'" "there is no --password" open 124 "${base[@]}" --password x
check 2 "list: --via, --listen, --to, --identity, --known-hosts, --accept-new and --foreground belong to open" "open's options on list" list --via root@h
check 2 "range '/' is not a valid id" "list with a bad range" list '/'
check 2 "close: wrong number of arguments" "close without a range" close
check 2 "close: PORT 'x' is not a port" "close with a bad port" close 124 x
check 2 "close: PORT '70000' is not a port" "close with a port out of range" close 124 70000
check 2 "-n: a tunnel runs in the namespace it is started in" "-n" -n foo list
check 2 "--force: close never signals a process that is not the tunnel" "--force" --force close 124
check 2 "this tool has no batch mode" "-b" -b - list
check 1 "close: range 124 has no tunnel" "close of nothing" close 124
ok "nothing was recorded" bash -c "! ls /run/cyris/tunnels/* 2>/dev/null | grep -q ."
is "$(cyris-tunnel list)" "" "list of nothing prints nothing"
is "$(cyris-tunnel -j list)" '{"schema":1,"tunnels":[]}' "list -j of nothing"
CYRIS_RUNTIME_DIR=relative check 1 "configuration: CYRIS_RUNTIME_DIR: runtime_dir: 'relative' is not an absolute path" "a bad CYRIS_RUNTIME_DIR" list
# a NUL byte in the configuration file would cut its line short
t=$(mktemp -d)
printf 'runtime_dir = /run/cyris\0/elsewhere\n' > "$t/cyris.conf"
CYRIS_CONFIG=$t/cyris.conf check 1 "configuration: $t/cyris.conf:1: a NUL byte in the line" "a NUL byte in cyris.conf" list
rm -rf "$t"
out=$(cyris-tunnel --help)
is "$?" 0 "--help exits 0"
like "$out" "^Usage: cyris-tunnel" "--help prints usage on stdout"
like "$out" "CYRIS_RUNTIME_DIR" "--help lists the environment it reads"
like "$out" "SSH_AUTH_SOCK" "including SSH_AUTH_SOCK"
like "$(cyris-tunnel --version)" "^cyris-tunnel [0-9]" "--version"
done_testing
