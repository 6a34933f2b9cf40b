#!/bin/bash
# Where agents dial: with no -o listen, the first mount of a data center
# listens on 0.0.0.0:7443, or on a free port when another program (a
# second vdcfs) holds 7443, and keeps the address in STATE/listen; later
# mounts use the kept address, and hosts/join shows it. So two data
# centers mount side by side with only -o state=. A kept address that is
# taken, or a listen file that is not an address, stops the mount with a
# sentence naming it. Everything runs in a network namespace of its own,
# so 7443 is this test's alone.
. "$(dirname "$0")/lib.sh"
command -v nsenter > /dev/null || skip_all "nsenter (util-linux) is not installed"

NS=vdcaddr-$$
ip netns add "$NS" || { echo "Bail out! cannot make network namespace $NS"; exit 1; }
drop_ns() { ip netns del "$NS" 2> /dev/null; }
VDC_CLEANUP_HOOKS="${VDC_CLEANUP_HOOKS:-} drop_ns"
ip -n "$NS" link set lo up
VDCFS_WRAP="nsenter --net=/run/netns/$NS ${VDCFS_WRAP:-}"
VDC_LISTEN=none

# join_port MNT: the port of the server address hosts/join gives.
join_port() {
	local words
	read -r -a words < "$1/hosts/join"
	echo "${words[2]##*:}"
}

# mount_fails STATE TEXT DESC: vdcfs with only -o state=STATE does not mount, and says TEXT.
mount_fails() {
	local st=$1 text=$2 desc=$3 mnt=$VDC_TMP/mnt-fail out rc
	mkdir -p "$mnt"
	grep -qxF "$mnt" "$VDC_TMP/.mounts" || echo "$mnt" >> "$VDC_TMP/.mounts"
	out=$(timeout -k 2 20 $VDCFS_WRAP "$VDCFS" -f -o "state=$st" "$mnt" 2>&1 < /dev/null)
	rc=$?
	if mountpoint -q "$mnt"; then
		fusermount3 -u "$mnt"
		fail "$desc" "it mounted"
		return 1
	fi
	_tap_result $((rc != 0 && rc != 124)) "$desc: vdcfs exits (status $rc)"
	like "$out" "$text" "$desc: it says why"
}

vdc_start a
is "$(join_port "$MNT_a")" 7443 "the first data center's first mount listens on 7443"
is "$(cat "$STATE_a/listen")" "0.0.0.0:7443" "and keeps the address in STATE/listen"
is "$(stat -c %a "$STATE_a/listen")" 600 "a state file like the others (0600)"

vdc_start b
PB=$(join_port "$MNT_b")
ok "a second data center mounts beside it with only -o state=" mountpoint -q "$MNT_b"
like "$PB" '^[0-9]+$' "its hosts/join names a port"
isnt "$PB" 7443 "another port than the first's, which holds 7443"
is "$(cat "$STATE_b/listen")" "0.0.0.0:$PB" "it keeps the port it took"
ok "both mounts serve" bash -c "mkdir '$MNT_a/instances/x' && mkdir '$MNT_b/instances/y'"
ok "agents reach the second one's port" nsenter --net="/run/netns/$NS" \
	bash -c "exec 3<>/dev/tcp/127.0.0.1/$PB"

vdc_stop a
vdc_stop b
vdc_start b
is "$(join_port "$MNT_b")" "$PB" "mounted first the next time, the second keeps its port (its agents dial it)"
vdc_start a
is "$(join_port "$MNT_a")" 7443 "and the first keeps 7443"
ok "their objects are there" bash -c "test -d '$MNT_a/instances/x' && test -d '$MNT_b/instances/y'"

# A third data center takes 7443 while the first is unmounted.
vdc_stop a
vdc_start c
is "$(join_port "$MNT_c")" 7443 "a new data center takes 7443 when it is free"
mount_fails "$STATE_a" "cannot listen on 0.0.0.0:7443 for agents: Address already in use \(the address kept in $STATE_a/listen" \
	"the first, whose kept 7443 is taken now"
is "$(cat "$STATE_a/listen")" "0.0.0.0:7443" "its kept address is unchanged"
vdc_stop c

printf 'garbage\n' > "$STATE_a/listen"
mount_fails "$STATE_a" "$STATE_a/listen holds 'garbage', which is not ADDRESS:PORT" "a listen file that is not an address"
VDC_LISTEN=127.0.0.1:0 vdc_start a
PA=$(join_port "$MNT_a")
is "$(cat "$STATE_a/listen")" "127.0.0.1:$PA" "-o listen mounts it anyway, and its address is kept"
vdc_stop a
vdc_start a
is "$(join_port "$MNT_a")" "$PA" "the next mount without -o listen uses it"
vdc_stop a
vdc_stop b

VDC_DONE=1
done_testing
