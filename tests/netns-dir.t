#!/bin/bash
# /run/netns not yet a mount point (a fresh host, no `ip netns add` before)
# while the preflight's record lets up skip its own named-namespace probe:
# the guests' two threads make it one shared mount, not two bind mounts
# stacked (prepare_dir's mount under a lock: the race itself did not show
# in three runs without it, so this checks the end state). All of it under
# a /run of this test's own (a private tmpfs).
. "$(dirname "$0")/lib.sh"

mount -t tmpfs -o mode=0755 cyris-run /run || skip_all "cannot mount a private /run"
mkdir -p /run/netns /run/cyris && chmod 0755 /run/cyris
# (the mounts the new /run covers are still listed: count what is added)
mounts() { awk '$5 == "/run/netns"' /proc/self/mountinfo | wc -l; }
base=$(mounts)
is "$(stat -c %d /run/netns)" "$(stat -c %d /run)" "/run/netns is a plain directory here"
kernel_record > /run/cyris/kernel-checked && chmod 0644 /run/cyris/kernel-checked
r=$(mktemp)
bash "$CYRIS_SRC/tests/bench/gen-range.sh" 4 10 904 > "$r"
ok "up of 40 guests (two threads) with the record" cyris-topo up "$r"
is "$(ls /run/netns | wc -l)" 40 "  its 40 namespaces"
is "$(mounts)" $((base + 1)) "  /run/netns is one mount more"
like "$(awk '$5 == "/run/netns"' /proc/self/mountinfo | tail -1)" " shared:[0-9]+ " "  and a shared one"
ok "down" cyris-topo down 904
is "$(ls /run/netns | wc -l)" 0 "  no namespace left"
rm -f "$r"
done_testing
