# Issue 3, the scheduler and the agent protocol with two fake agents made
# of curl (no libvirtd, no guests: fast, and independent of vdc-hva):
# placement by reported capacity, the desired state each host gets, reports
# (late ones ignored), console, images, long-poll, a silent host,
# schedulable off and evacuate across two hosts. 86-agent-protocol.t covers
# the wire with one host in more detail.

# At least 200 s; more when the caller asks for more (make valgrind).
VDC_WATCHDOG=$(( ${VDC_WATCHDOG:-0} > 200 ? VDC_WATCHDOG : 200 ))
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hosts.sh"
VDC_HVA_OPTIONAL=1
. "$(dirname "$0")/hva.sh"
command -v jq > /dev/null || skip_all "jq is missing"

vdc_start
H=$MNT/hosts
if vdc_join_read; then
	pass "hosts/join reads"
else
	fail "hosts/join reads"
	echo "Bail out! no join command"
	exit 1
fi
FAKE=$VDC_TMP/fake
mkdir -p "$FAKE"

# join NAME: join by hand; the token goes to $FAKE/NAME.token.
join() {
	local out
	out=$(vdc_api POST /v1/join -d "{\"name\": \"$1\", \"token\": \"$JOIN_TOKEN\", \"kind\": \"hva\"}") || return 1
	[ "$(tail -n 1 <<< "$out")" = 200 ] || return 1
	head -n 1 <<< "$out" | jq -r .token > "$FAKE/$1.token"
}
tok() { cat "$FAKE/$1.token"; }
# api NAME METHOD PATH [CURL-ARG...]: as host NAME; prints the body only.
api() {
	local name=$1 out
	shift
	out=$(vdc_api "$@" -H "Authorization: Bearer $(tok "$name")") || return 1
	sed '$d' <<< "$out"
}
desired() { api "$1" GET "/v1/hosts/$1/desired?rev=0"; }

# A fake agent: a background loop reporting every 0.5 s what
# $FAKE/NAME.facts and $FAKE/NAME.instances say (JSON), until
# $FAKE/NAME.pause exists.
fake_agent() {
	local name=$1 seq=0 epoch
	epoch=$(($(date +%s%N) / 1000))
	echo "$epoch" > "$FAKE/$name.epoch"
	while :; do
		if [ ! -e "$FAKE/$name.pause" ]; then
			seq=$((seq + 1))
			echo "$seq" > "$FAKE/$name.seq"
			api "$name" POST "/v1/hosts/$name/report" -d "$(jq -n -c \
				--argjson epoch "$epoch" --argjson seq "$seq" \
				--slurpfile f "$FAKE/$name.facts" --slurpfile i "$FAKE/$name.instances" \
				'{epoch: $epoch, seq: $seq, rev: 0, facts: $f[0], instances: $i[0]}')" > /dev/null 2>&1
		fi
		sleep 0.5
	done
}
start_fake() {
	local name=$1 cpus=$2 mib=$3
	printf '{"cpus": %s, "memory_mib": %s, "driver": "qemu", "virt": "tcg", "libvirt": "9.0.0", "version": "fake"}\n' \
		"$cpus" "$mib" > "$FAKE/$name.facts"
	echo '[]' > "$FAKE/$name.instances"
	fake_agent "$name" < /dev/null > /dev/null 2>&1 &
	FAKE_PIDS+=("$!")
}
FAKE_PIDS=()
# observe NAME: the host reports every instance of its desired state as
# running with the counters asked for.
observe() {
	desired "$1" | jq -c '[.instances[] | {id, domain, state: (if .power == "on" then "running" else "stopped" end), err: "", ip: "", reboot, reset}]' \
		> "$FAKE/$1.instances.new" && mv "$FAKE/$1.instances.new" "$FAKE/$1.instances"
}
host_of() { get "$MNT/instances/$1/run/host"; }
placed() { [ -n "$(host_of "$1")" ]; }
new_instance() {
	mkdir "$MNT/instances/$1" && ln -s ../../images/tiny "$MNT/instances/$1/image" &&
		put "$2" "$MNT/instances/$1/memory" && put on "$MNT/instances/$1/power"
}

# ---- joining and facts ----

ok "host a joins by hand" join a
ok "host b joins by hand" join b
is "$(get "$H/a/run/state")" joined "a joined host is joined until it reports"
start_fake a 4 1024
start_fake b 4 4096
ok "host a is up once it reports" vdc_wait_host_state a up 10
ok "host b is up" vdc_wait_host_state b up 10
is "$(get "$H/a/run/cpus")" 4 "hosts/a/run/cpus is the reported cpus"
is "$(get "$H/a/run/memory")" 1024M "hosts/a/run/memory is the reported memory"
like "$(get "$H/a/run/driver")" '^qemu\b' "hosts/a/run/driver is the reported driver"
is "$(desired a | jq -c .instances)" "[]" "a's desired state is empty"
like "$(desired a | jq -r .dc)" '^[0-9a-f]{8,}' "the desired state names the data center"
is "$(desired a | jq -r .heartbeat)" "$VDC_HVA_HEARTBEAT" "... and the heartbeat vdcfs wants"

# ---- an instance placed ----

ok "images/tiny imported" vdc_import_tiny
ok "i1 (2G) powers on" new_instance i1 2G
ok "i1 is placed" vdc_wait 10 placed i1
is "$(host_of i1)" b "i1 goes to b: a has no room for 2G"
like "$(get "$MNT/instances/i1/run/state")" '^(scheduling|starting)$' "i1 is starting until b reports it"
# The image's checksum is computed off the model's lock: a later revision carries it.
has_sum() { desired "$1" | jq -e '.instances[0].image.sha256 != null' > /dev/null; }
ok "b's desired state names the image's checksum once it is computed" vdc_wait 10 has_sum b
d=$(desired b)
is "$(jq -r '.instances | length' <<< "$d")" 1 "b's desired state holds one instance"
is "$(jq -r '.instances[0].name' <<< "$d")" i1 "... i1"
like "$(jq -r '.instances[0].domain' <<< "$d")" '^vdc-[0-9]+$' "... with a domain name vdc-ID"
is "$(jq -r '.instances[0].power' <<< "$d")" on "... power on"
is "$(jq -r '.instances[0].memory_mib' <<< "$d")" 2048 "... memory_mib 2048"
is "$(jq -r '.instances[0].cpus' <<< "$d")" 1 "... cpus 1"
is "$(jq -r '.instances[0].hostname' <<< "$d")" i1 "... hostname i1 (the default)"
sum=$(sha256sum < "$(vdc_tiny_image)" | cut -d' ' -f1)
is "$(jq -r '.instances[0].image.sha256' <<< "$d")" "$sum" "... the image's sha256"
is "$(jq -r '.instances[0].image.size' <<< "$d")" "$(stat -c %s "$(vdc_tiny_image)")" "... and size"
is "$(desired a | jq -c .instances)" "[]" "a's desired state stays empty"
rev=$(jq -r .rev <<< "$d")
id=$(jq -r '.instances[0].id' <<< "$d")
dom=$(jq -r '.instances[0].domain' <<< "$d")

# The image, as a host fetches it.
api b GET /v1/hosts/b/images/tiny -D "$FAKE/img.headers" -o "$FAKE/img" > /dev/null
ok "b fetches the image: its bytes" cmp "$FAKE/img" "$(vdc_tiny_image)"
like "$(tr -d '\r' < "$FAKE/img.headers" | grep -i '^x-vdc-sha256:')" "$sum" "... with X-Vdc-Sha256"
is "$(vdc_api GET /v1/hosts/b/images/nosuch -H "Authorization: Bearer $(tok b)" | vdc_status)" 404 \
	"no such image: 404"

observe b
ok "b reports i1 running: run/state is running" vdc_wait_state i1 running 10
is "$(get "$H/b/run/cpus-used")" 1 "hosts/b/run/cpus-used is 1"
is "$(get "$H/b/run/memory-used")" 2048M "hosts/b/run/memory-used is 2048M"
ok "hosts/b/instances/i1 is there" test -L "$H/b/instances/i1"

# ---- stale reports change nothing ----

epoch=$(cat "$FAKE/b.epoch")
is "$(vdc_api POST /v1/hosts/b/report -H "Authorization: Bearer $(tok b)" -d "$(jq -n -c --argjson e "$epoch" \
	--argjson id "$id" --arg dom "$dom" --slurpfile f "$FAKE/b.facts" \
	'{epoch: $e, seq: 1, rev: 0, facts: $f[0], instances: [{id: $id, domain: $dom, state: "stopped", err: "", ip: "", reboot: 0, reset: 0}]}')" |
	vdc_status)" 200 "a late report (old seq) is answered 200"
sleep 1
is "$(get "$MNT/instances/i1/run/state")" running "... and ignored: i1 is still running"

# ---- console ----

c1=$'boot\nvdc-guest: hostname i1\n'
c2=$'vdc-guest: ready\n'
out=$(api b POST "/v1/hosts/b/console/$id?offset=0" --data-binary "$c1")
is "$(jq -r .have <<< "$out")" "${#c1}" "console bytes are taken: have ${#c1}"
ok "run/console shows them" vdc_console_has i1 "vdc-guest: hostname i1"
out=$(api b POST "/v1/hosts/b/console/$id?offset=0" --data-binary "$c1")
is "$(jq -r .have <<< "$out")" "${#c1}" "the same bytes again change nothing"
is "$(vdc_console_count i1 "vdc-guest: hostname i1")" 1 "... run/console holds them once"
out=$(api b POST "/v1/hosts/b/console/$id?offset=${#c1}" --data-binary "$c2")
is "$(jq -r .have <<< "$out")" "$((${#c1} + ${#c2}))" "the next bytes follow"
ok "run/console shows the new line" vdc_console_has i1 "vdc-guest: ready"
is "$(get "$MNT/instances/i1/run/console")" "$c1${c2%$'\n'}" "run/console is exactly what was sent"
is "$(jq -r .have <<< "$(api b POST "/v1/hosts/b/console/$id?offset=0")")" "$((${#c1} + ${#c2}))" \
	"an empty body asks for have"
like "$(vdc_api POST "/v1/hosts/a/console/$id?offset=$((${#c1} + ${#c2}))" -H "Authorization: Bearer $(tok a)" --data-binary x | vdc_status)" \
	'^(403|404)$' "host a cannot write the console of an instance on b"
is "$(vdc_console_count i1 "vdc-guest: ready")" 1 "... nor did it"

# ---- the long-poll ----

start=$(date +%s%N)
api b GET "/v1/hosts/b/desired?rev=$rev&wait=10" > "$FAKE/poll" &
poll=$!
sleep 1
ok "echo reboot > ctl" put reboot "$MNT/instances/i1/ctl"
wait "$poll"
ms=$((($(date +%s%N) - start) / 1000000))
ok "the long-poll answers at the change, not at its timeout (${ms} ms)" test "$ms" -lt 5000
ok "... with a newer revision" test "$(jq -r .rev "$FAKE/poll")" -gt "$rev"
is "$(jq -r '.instances[0].reboot' "$FAKE/poll")" 1 "... asking for reboot 1"
start=$(date +%s%N)
api b GET "/v1/hosts/b/desired?rev=$(jq -r .rev "$FAKE/poll")&wait=2" > /dev/null
ms=$((($(date +%s%N) - start) / 1000000))
ok "with nothing new it waits for wait= seconds (${ms} ms)" test "$ms" -ge 1900 -a "$ms" -lt 4000
observe b

# ---- a host that falls silent ----

touch "$FAKE/b.pause"
ok "b falls silent: unknown after host-timeout" vdc_wait_host_state b unknown "$((VDC_HOST_TIMEOUT + 5))"
ok "i1 turns unknown" vdc_wait_state i1 unknown 3
ok "run/events tells it" vdc_events_has 'unknown'
rm "$FAKE/b.pause"
ok "b reports again: up" vdc_wait_host_state b up 5
ok "i1 is running again" vdc_wait_state i1 running 5

# ---- schedulable and evacuate ----

ok "echo off > hosts/b/schedulable" put off "$H/b/schedulable"
ok "i2 (2G) powers on" new_instance i2 2G
ok "i2 is unschedulable: a is too small, b not schedulable" vdc_wait_state i2 unschedulable 10
like "$(get "$MNT/instances/i2/run/err")" "schedulable|room" "run/err says why"
ok "echo on > hosts/b/schedulable" put on "$H/b/schedulable"
ok "i2 is placed at once" vdc_wait 10 placed i2
is "$(host_of i2)" b "i2 goes to b"
observe b
ok "i2 runs" vdc_wait_state i2 running 10
ok "i3 (512M) powers on" new_instance i3 512M
ok "i3 is placed" vdc_wait 10 placed i3
is "$(host_of i3)" a "i3 goes to a: its share free is larger"
observe a

fails_with EBUSY "rmdir of a host with instances is refused" rmdir "$H/b"
ok "echo evacuate > hosts/b/ctl" put evacuate "$H/b/ctl"
is "$(get "$H/b/schedulable")" off "evacuate turns b's schedulable off"
ok "b's desired state no longer holds i1 and i2" \
	vdc_wait 10 eval '[ "$(desired b | jq -c "[.instances[].name]")" = "[]" ]'
observe b
# Nowhere else has room for 2G: they wait, unschedulable, not on b.
ok "i1 leaves b" vdc_wait 10 eval '[ "$(host_of i1)" != b ]'
ok "i1 is unschedulable (a has no room)" vdc_wait_state i1 unschedulable 10
is "$(host_of i3)" a "i3 stays on a"
ok "hosts/b/instances/ empties" vdc_wait 10 eval '[ -z "$(ls "$H/b/instances")" ]'

# The fake agents by their pids (vdcfs is a job of this shell too).
kill "${FAKE_PIDS[@]}" 2> /dev/null
vdc_stop
done_testing
