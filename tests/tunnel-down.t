#!/bin/bash
# cyris-topo down R closes R's entry tunnels (before its guests: a tunnel
# into a removed guest is useless) and leaves other ranges' tunnels alone;
# cyris-tunnel open -j is a document with its schema.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel-lib.sh"

sshd_start || skip_all "sshd does not start here"
guest_start || skip_all "the guest service does not start"

out=$(tunnel_open 124 2222 7 -j)
is "$?" 0 "open 124 :2222"
is "$(echo "$out" | jq -r .schema)" 1 "open -j carries the schema version"
ok "a second tunnel of range 124" tunnel_open 124 2223 7
ok "a tunnel of range 125" tunnel_open 125 2224 7
p1=$(tunnel_json 124 2222 pid) p2=$(tunnel_json 124 2223 pid) p3=$(tunnel_json 125 2224 pid)
like "$p1 $p2 $p3" '^[0-9]+ [0-9]+ [0-9]+$' "the three are recorded with their pids"
is "$(echo hi | in_trainee socat -t 5 - TCP:$LADDR:2222)" hi "the 124 tunnel carries data"

like "$(cyris-topo down 124)" "^range 124 is down: .*, 2 tunnels closed$" "down 124 says it closed its 2 tunnels"
ok "the first tunnel's process is gone" wait_for 10 proc_gone "$p1"
ok "the second's too" wait_for 10 proc_gone "$p2"
is "$(ls /run/cyris/tunnels | grep -c '^124@')" 0 "no state file of range 124 is left"
is "$(ss -Hltn "( sport = :2222 or sport = :2223 )" | wc -l)" 0 "nothing listens on 124's ports"
is "$(cyris-tunnel list 124 | tail -n +2 | wc -l)" 0 "list 124 is empty"
ok "the 125 tunnel still runs" test -d "/proc/$p3"
is "$(tunnel_json 125 2224 state)" up "and is up"
is "$(echo hi | in_trainee socat -t 5 - TCP:$LADDR:2224)" hi "and carries data"
is "$(cyris-topo -j down 125 | jq -c '{schema, tunnels}')" '{"schema":1,"tunnels":1}' "down -j 125 counts its tunnel"
ok "its process is gone" wait_for 10 proc_gone "$p3"
is "$(cyris-topo down 125)" "range 125: nothing on this host" "a second down finds nothing"
is "$(tunnel_pids)" "" "no tunnel process is left"
ok "the daemons' own reports are clean" daemons_clean
done_testing
