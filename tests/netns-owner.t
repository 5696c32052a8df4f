#!/bin/bash
# Who owns a namespace is decided on the host (the record cyris keeps under
# /run/cyris/netns), never by the tag on the namespace's own loopback, which
# anything root inside it can write: a foreign namespace tagged as a range's
# guest is left alone, and a guest that re-tags itself is still its range's.
. "$(dirname "$0")/lib.sh"

f=$EXAMPLES/basic.yml   # range 123, guest desktop
g=cyris-123-1-desktop-1
fake='cyris range=123 inst=1 guest=desktop.1 role=guest'
guests() { cyris-topo -j show 123 2>/dev/null | json '[.guests[] | "\(.netns):\(.guest_id).\(.index)"] | join(" ")'; }

# (a) a namespace cyris did not make, tagged on lo as range 123's guest
netns_add foreign
ip -n foreign link set lo alias "$fake"
ino=$(stat -L -c %i /run/netns/foreign)
is "$(cyris-bridge netns list | xargs)" "" "netns list does not count it"
is "$(cyris-bridge -j netns list range 123 | json '.netns | length')" 0 "nor netns list range 123"
is "$(cyris-topo ls | xargs)" "" "cyris-topo ls does not list range 123"
exits 1 "show 123 finds nothing" cyris-topo show 123
fails_with 1 "not made by cyris" "netns del foreign" cyris-bridge netns del foreign
fails_with 1 "exists and is not this owner's" "netns add foreign range 123" \
	cyris-bridge netns add foreign range 123 inst 1 guest desktop.1
exits 0 "down 123 with nothing of 123 up" cyris-topo down 123
ok "the foreign namespace is still there" test -e /run/netns/foreign
is "$(stat -L -c %i /run/netns/foreign)" "$ino" "  the same namespace"
is "$(ip -n foreign -j link show lo | json '.[0].ifalias')" "$fake" "  with its lo as it was"
ok "up 123 beside it (not 'already up')" cyris-topo up "$f"
is "$(guests)" "$g:desktop.1" "show 123 lists its own guest only"
ok "down 123" cyris-topo down 123
is "$(ls /run/netns | xargs)" "foreign" "down 123 removed its guest and left the foreign namespace"
is "$(ls /run/cyris/netns | xargs)" "" "  and no record is left"

# (b) a guest re-tags its loopback from inside
before=$(host_state)
ok "up 123" cyris-topo up "$f"
ok "the guest rewrites the tag on its lo" ip netns exec "$g" ip link set lo alias 'cyris range=999 inst=1 guest=x.1 role=guest'
is "$(guests)" "$g:desktop.1" "show 123 still lists it as desktop.1"
is "$(cyris-bridge -j netns list range 123 | json '[.netns[].name] | join(" ")')" "$g" "netns list range 123 still has it"
is "$(cyris-topo ls | xargs)" "123" "ls does not see a range 999"
exits 1 "cyris-topo show 999 finds nothing" cyris-topo show 999
ok "down 123" cyris-topo down 123
is "$(host_state)" "$before" "the re-tagged guest is gone with the rest"

# a guest that drops its tag altogether, and the record kept after a
# namespace that was replaced under the same name
ok "up 123 again" cyris-topo up "$f"
ip netns exec "$g" ip link set lo alias ''
is "$(guests)" "$g:desktop.1" "with no tag on lo it is still desktop.1"
ip netns del "$g"
netns_add "$g"
ip -n "$g" link set lo alias "$fake"
is "$(guests)" "" "a namespace made by ip under the guest's name is not the guest"
ok "down 123" cyris-topo down 123
ok "  leaves that namespace" test -e "/run/netns/$g"
is "$(ls /run/cyris/netns | xargs)" "" "  and prunes the guest's record"
ip netns del "$g"

# the records' directory must not be writable by others
ok "up 123" cyris-topo up "$f"
chmod 777 /run/cyris/netns
fails_with 1 "Operation not permitted" "netns list with a world-writable record directory" cyris-bridge netns list
exits 1 "down refuses too" cyris-topo down 123
exits 1 "netns del refuses too" cyris-bridge netns del "$g"
ok "  and the guest is still there" test -e "/run/netns/$g"
chmod 755 /run/cyris/netns
ok "down 123" cyris-topo down 123
is "$(ls /run/netns | xargs)" "foreign" "only the foreign namespace is left"

# a record proves ownership only when nobody else could have written it:
# one writable by its group, or owned by another user, proves nothing
ok "up 123" cyris-topo up "$f"
chmod g+w "/run/cyris/netns/$g"
is "$(guests)" "" "a group-writable record does not make the namespace the guest"
chmod g-w "/run/cyris/netns/$g"
chown 65534 "/run/cyris/netns/$g"
is "$(guests)" "" "nor does a record owned by another user"
chown 0 "/run/cyris/netns/$g"
is "$(guests)" "$g:desktop.1" "its own record again: desktop.1"
ok "down 123" cyris-topo down 123
is "$(ls /run/netns | xargs)" "foreign" "the guest is gone, the foreign namespace left"
done_testing
