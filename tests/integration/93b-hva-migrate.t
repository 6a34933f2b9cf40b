# Live migration, vdc-hva's side (docs/vdc-hva.md, "Live migration";
# docs/agent-protocol.md, "Live migration (hypervisors)"), without vdcfs:
# each agent talks to a stand-in of its agent server (fake-vdcfs.py, one
# per host: its desired state from a file, its reports saved). Three hosts
# of hosts.sh: a storage host s (tgtd and vdc-sta, which makes the guest's
# disk from the test image) and hypervisors a and b, which reach s and
# each other through the root namespace. A CA and the hosts' certificates
# are made here with openssl and handed to the agents as "pki"; the
# agents write STATE/pki, and hosts.sh's vdc_host_libvirt_tls restarts a
# host's libvirtd listening with TLS on them.
#
# The guest boots on a from its iSCSI disk and prints a tick every second.
# b gets the entry with "incoming": it reports incoming, fences qemu's
# migration ports to a's address, defines nothing. a gets "migrate":
# - while b's libvirtd does not listen: the guest runs on a still, reported
#   running with migrated = 1 and the reason in err;
# - once it listens: migrating with progress, then migrated on a; on b
#   incoming then running, the domain there and gone from a, the ticks
#   going on in b's console log, its disk logged in as b (the migrate's
#   initiator); the fence goes with "incoming";
# - back from b to a with b's agent killed -9 mid-way and restarted: the
#   migration goes on in libvirtd, and the restarted agent reports
#   migrating, then migrated; the guest runs on a.

VDC_WATCHDOG=$(( ${VDC_WATCHDOG:-0} > 600 ? VDC_WATCHDOG : 600 ))
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hosts.sh"
. "$(dirname "$0")/hva.sh"
. "$(dirname "$0")/sta.sh"
. "$(dirname "$0")/fake.sh"

T=$VDC_TMP/mig
mkdir -p "$T"
DC=8d7f0a1b2c3d4e5f
TABLE=vdc_$DC
IQN=iqn.2026-11.org.vdcfs:8d7f0a1b2c3d
SECRET=0123456789abcdef0123456789abcdef
ID=12
DOM=vdc-$ID
W=$(( ${VDC_TIMEOUT:-10} * 6 > 120 ? ${VDC_TIMEOUT:-10} * 6 : 120 ))

# ---- the stand-ins of vdcfs, one per host ----

vdc_fake_key "$T"
PIN=$VDC_FAKE_PIN
for h in s a b; do
	vdc_fake_start "$T/$h" "$T" 0 "$VDC_TMP/fake-$h.log" || {
		echo "Bail out! the stand-in of vdcfs for $h did not start"
		exit 1
	}
done

# set_desired HOST JSON: the host's next desired state (its rev is bumped)
set_desired() {
	local d=$T/$1 rev
	rev=$(($(cat "$d/rev" 2> /dev/null || echo 0) + 1))
	echo "$rev" > "$d/rev"
	printf '%s' "$2" | python3 -c 'import json, sys; d = json.load(sys.stdin); d["rev"] = int(sys.argv[1]); print(json.dumps(d))' "$rev" > "$d/.desired.json" &&
		mv "$d/.desired.json" "$d/desired.json"
}

# field HOST NAME: member NAME of instance ID in the host's last report ("" when none)
field() { vdc_fake_member "$T/$1/report.json" instances "$ID" "$2"; }
state_is() { [ "$(field "$1" state)" = "$2" ]; }
wait_state() {
	vdc_wait "$3" state_is "$1" "$2" && return 0
	diag "$1: instance $ID is $(field "$1" state) ($(field "$1" err))" "$(tail -n 5 "$VDC_TMP/hva-$1.log")"
	return 1
}
# since HOST: the line count of its reports.log, for states_since
since() { wc -l < "$T/$1/reports.log" 2> /dev/null || echo 0; }
states_since() { tail -n "+$(($2 + 1))" "$T/$1/reports.log" > "$T/$1/reports.tail" && states_of "$T/$1/reports.tail"; }
# states_of LOG: the states of instance ID in the reports of LOG, each change once
states_of() { vdc_fake_history "$1" instances "$ID" state | uniq; }

# ---- certificates: the data center's CA, a cert per hypervisor ----

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=vdcfs-test-ca \
	-keyout "$T/ca.key" -out "$T/ca.pem" -days 2 \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2> "$T/openssl.err" ||
	skip_all "openssl cannot make a CA: $(head -n 1 "$T/openssl.err")"
# host_cert NAME ADDR: $T/NAME.pem and $T/NAME.key (PKCS#8), SAN IP ADDR, server and client
host_cert() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/$1.key" 2> /dev/null &&
		openssl req -new -key "$T/$1.key" -subj "/CN=$1" -out "$T/$1.csr" 2> /dev/null &&
		printf 'subjectAltName = IP:%s\nbasicConstraints = critical, CA:FALSE\nkeyUsage = digitalSignature, keyEncipherment\nextendedKeyUsage = serverAuth, clientAuth\n' "$2" > "$T/$1.ext" &&
		openssl x509 -req -in "$T/$1.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial -days 2 \
			-extfile "$T/$1.ext" -out "$T/$1.pem" 2> /dev/null
}
# pki NAME: the "pki" member for host NAME
pki() {
	python3 -c 'import json, sys; print(json.dumps({"ca": open(sys.argv[1]).read(), "cert": open(sys.argv[2]).read(), "key": open(sys.argv[3]).read()}))' \
		"$T/ca.pem" "$T/$1.pem" "$T/$1.key"
}

# ---- hosts ----

if vdc_host_up s 2 && vdc_host_up a 1 && vdc_host_up b 3 && vdc_hosts_connect a s && vdc_hosts_connect b s &&
	vdc_hosts_connect a b; then
	pass "hosts s, a and b come up; a and b reach s and each other"
else
	fail "hosts s, a and b come up"
	echo "Bail out! no hosts"
	exit 1
fi
A=$(vdc_host_addr a)
B=$(vdc_host_addr b)
S=$(vdc_host_addr s)
host_cert a "$A" && host_cert b "$B" || {
	echo "Bail out! openssl cannot make the hosts' certificates"
	exit 1
}

# ---- the disk on s ----

IMG=$(vdc_tiny_image) || {
	echo "Bail out! no test image"
	exit 1
}
cp --sparse=always "$IMG" "$T/s/images/tiny"
ISIZE=$(stat -c %s "$IMG")
ISHA=$(sha256sum "$IMG" | cut -c1-64)
DSIZE=$((ISIZE + 16 * 1048576))
set_desired s "$(printf '{"dc": "%s", "heartbeat": 1, "volumes": [{"id": %s, "name": "m1", "iqn": "%s:disk-%s", "size": %s, "chap_user": "disk-%s", "chap_secret": "%s", "initiators": ["%s:host-a", "%s:host-b"], "snapshots": [], "restore": null, "image": {"name": "tiny", "sha256": "%s", "size": %s, "format": "raw"}}]}' \
	"$DC" "$ID" "$IQN" "$ID" "$DSIZE" "$ID" "$SECRET" "$IQN" "$IQN" "$ISHA" "$ISIZE")"
mkdir -p "$(vdc_sta_state s)"
vdc_tgtd_start s
vdc_host_spawn s "$VDC_TMP/sta-s.log" $VDC_STA_WRAP "$VDC_STA" --server "$VDC_SERVER_ADDR:$(cat "$T/s/port")" \
	--pin "$PIN" --token "$(printf '%064d' 1)" --name s --state "$(vdc_sta_state s)" \
	--portal "$S:$VDC_TGT_PORT" --heartbeat 1
STA_PID_s=$VDC_HOST_PID
disk_ready() {
	python3 - "$T/s/report.json" "$ID" << 'EOF' 2> /dev/null
import json, sys
for v in json.load(open(sys.argv[1]))["volumes"]:
    if v["id"] == int(sys.argv[2]) and v["state"] == "available":
        sys.exit(0)
sys.exit(1)
EOF
}
if vdc_wait "$W" disk_ready; then
	pass "s makes the guest's disk from the test image"
else
	fail "s makes the guest's disk"
	vdc_sta_diag s
	echo "Bail out! no disk"
	exit 1
fi

# ---- the hypervisors' desired states ----

UD='#!/bin/sh
(i=0; while :; do i=$((i + 1)); echo "vdc-test: tick $i"; sleep 1; done) &
'
DISK=$(printf '{"id": %s, "portal": "%s:%s", "iqn": "%s:disk-%s", "lun": 1, "chap_user": "disk-%s", "chap_secret": "%s", "size": %s, "serial": "vdc-disk-%s", "ready": true}' \
	"$ID" "$S" "$VDC_TGT_PORT" "$IQN" "$ID" "$ID" "$SECRET" "$DSIZE" "$ID")
# entry [EXTRA]: the instance's entry, with EXTRA members
entry() {
	printf '{"id": %s, "name": "m1", "domain": "%s", "power": "on", "cpus": 1, "memory_mib": 128, "hostname": "m1", "user_data": %s, "image": {"name": "tiny", "sha256": "%s", "size": %s, "format": "raw"}, "disk": %s%s}' \
		"$ID" "$DOM" "$(printf '%s' "$UD" | python3 -c 'import json, sys; print(json.dumps(sys.stdin.read()))')" \
		"$ISHA" "$ISIZE" "$DISK" "${1:+, $1}"
}
# hva_set HOST [ENTRY]: the hypervisor's desired state, with ENTRY or no instance
hva_set() {
	set_desired "$1" "$(printf '{"dc": "%s", "heartbeat": 1, "initiator": "%s:host-%s", "pki": %s, "instances": [%s]}' \
		"$DC" "$IQN" "$1" "$(pki "$1")" "${2:-}")"
}
migrate() {
	printf '"migrate": {"seq": %s, "to": "%s", "uri": "qemu+tls://%s/system", "address": "%s", "initiator": "%s:host-%s"}' \
		"$1" "$2" "$3" "$3" "$IQN" "$2"
}
# sessions: the initiators logged in to s's disk target
sessions() { vdc_tgtadm s --op show --mode target 2> /dev/null | grep -o "Initiator: $IQN:host-[a-z]*" | sort -u | sed 's/.*://'; }
incoming() { printf '"incoming": {"from": "%s"}' "$1"; }

hva_start() {
	echo "--- $(date +%T.%N) start" >> "$VDC_TMP/hva-$1.log"
	vdc_host_spawn "$1" "$VDC_TMP/hva-$1.log" $VDC_HVA_WRAP "$VDC_HVA" --server "$VDC_SERVER_ADDR:$(cat "$T/$1/port")" \
		--pin "$PIN" --token "$(printf '%064d' 1)" --name "$1" --state /var/lib/vdc-hva --virt tcg \
		--shutdown-timeout 5 --heartbeat 1
	eval "HVA_PID_$1=$VDC_HOST_PID"
}
console_of() { cat "$(vdc_host_dir "$1")/hva/instances/$DOM/console.log" 2> /dev/null; }
ticks() { console_of "$1" | grep -o 'vdc-test: tick [0-9]*' | tail -n 1 | grep -o '[0-9]*$'; }
nft_has() { vdc_host_exec "$1" nft list table inet "$TABLE" 2> /dev/null | grep -q "$2"; }
domstate() { vdc_host_virsh "$1" domstate "$DOM" 2> /dev/null | head -n 1; }

hva_set a "$(entry)"
hva_set b ""
hva_start a
hva_start b
ok "a writes its TLS files to STATE/pki" vdc_wait "$W" test -s "$(vdc_host_dir a)/hva/pki/serverkey.pem"
is "$(stat -c %a "$(vdc_host_dir a)/hva/pki/serverkey.pem")" 600 "... the keys 0600"
is "$(stat -c %a "$(vdc_host_dir a)/hva/pki/cacert.pem")" 644 "... the certificates 0644"
ok "... the CA, the host's cert and key as sent" eval 'cmp -s "$T/ca.pem" "$(vdc_host_dir a)/hva/pki/cacert.pem" &&
	cmp -s "$T/a.pem" "$(vdc_host_dir a)/hva/pki/clientcert.pem" && cmp -s "$T/a.key" "$(vdc_host_dir a)/hva/pki/clientkey.pem"'
ok "b writes its own" vdc_wait "$W" test -s "$(vdc_host_dir b)/hva/pki/serverkey.pem"
if wait_state a running "$W"; then
	pass "the guest boots on a from its disk on s"
else
	fail "the guest boots on a"
	echo "Bail out! no guest"
	exit 1
fi
ok "it ticks on a's console" vdc_wait 120 eval '[ "$(ticks a)" -ge 2 ] 2> /dev/null'

# ---- incoming on b ----

n_b=$(since b)
hva_set b "$(entry "$(incoming "$A")")"
ok "b reports the instance incoming" wait_state b incoming "$W"
nok "... with no domain defined there" vdc_host_virsh b dominfo "$DOM"
ok "... its seed made at the same path as on a" test -s "$(vdc_host_dir b)/hva/instances/$DOM/seed.img"
ok "... the disk's secret under its usage name" eval 'vdc_host_virsh b secret-list | grep -q "vdc-disk-$ID"'
ok "b's ruleset takes qemu's migration ports from a only" vdc_wait 10 nft_has b "$A"
ok "... in host_in" nft_has b "tcp dport 49152-49215 ip saddr @migrate_from accept"
nok "a has no such rule" nft_has a "49152-49215"

# ---- a failure: b's libvirtd does not listen yet ----

n_a=$(since a)
hva_set a "$(entry "$(migrate 1 b "$B")")"
ok "a reports the attempt carried out (migrated 1)" vdc_wait "$W" eval '[ "$(field a migrated)" = 1 ]'
is "$(field a state)" running "... and the instance running on a"
like "$(field a err)" '^live migration to b failed: .+' "... with libvirt's reason in err"
diag "a said: $(field a err)"
is "$(domstate a)" running "the domain runs on a"
ok "b still reports incoming" state_is b incoming

# ---- success ----

if vdc_host_libvirt_tls b; then
	pass "b's libvirtd listens with TLS on the agent's files"
else
	fail "b's libvirtd listens with TLS"
fi
ok "b's agent reconnects and still says incoming" vdc_wait "$W" state_is b incoming
# A speed limit, so the copy takes a few seconds and its progress is seen.
vdc_host_virsh a migrate-setspeed "$DOM" 16 > /dev/null
t0=$(ticks a)
n_a=$(since a)
n_b=$(since b)
hva_set a "$(entry "$(migrate 2 b "$B")")"
ok "a reports migrating" vdc_wait "$W" eval 'states_since a $n_a | grep -qx migrating'
ok "... with its progress" vdc_wait "$W" grep -q '"progress": *"memory [0-9]*% ([0-9]* of 128 MiB), [0-9]* MiB/s' "$T/a/reports.log"
if wait_state a migrated "$W"; then
	pass "a reports migrated"
else
	fail "a reports migrated" "$(tail -n 8 "$VDC_TMP/hva-a.log")" "$(tail -n 5 "$(vdc_host_dir a)/log/libvirtd.log")"
fi
is "$(field a migrated)" 2 "... migrated 2"
is "$(field a err)" "" "... no err"
# (A heartbeat may report running before the desired state with migrate is taken.)
is "$(states_since a "$n_a" | sed -n '/^migrating$/,$p' | tr '\n' ' ')" "migrating migrated " \
	"a's reports: migrating, then migrated"
nok "the domain is gone from a" vdc_host_virsh a dominfo "$DOM"
ok "b reports it running" wait_state b running "$W"
is "$(states_since b "$n_b" | tr '\n' ' ')" "incoming running " "b's reports: incoming, then running" ||
	diag "$(grep -o '"state": *"error", *"err": *"[^"]*"' "$T/b/reports.log" | sort -u)"
is "$(domstate b)" running "libvirt on b runs it"
ok "... defined there for good (PERSIST_DEST)" eval 'vdc_host_virsh b dominfo "$DOM" | grep -q "^Persistent: *yes"'
ok "the guest's ticks go on in b's console log" vdc_wait 60 eval '[ "$(ticks b)" -gt "${t0:-0}" ] 2> /dev/null'
ok "on b the guest's disk logs in as b (the migrate's initiator)" eval 'vdc_host_virsh b dumpxml "$DOM" | grep -q "<iqn name=.$IQN:host-b./>"'
ok "... its persistent definition too" eval 'vdc_host_virsh b dumpxml --inactive "$DOM" | grep -q "<iqn name=.$IQN:host-b./>"'
ok "s sees b's session only" vdc_wait 20 eval '[ "$(sessions | tr "\n" " ")" = "host-b " ]'
sleep 2
is "$(domstate a)" "" "a never defines it again while its entry has migrate"
is "$(field a state)" migrated "... and keeps reporting migrated"

# vdcfs's next step: the instance is b's; a forgets it.
hva_set b "$(entry)"
hva_set a ""
ok "without incoming, b's fence goes" vdc_wait "$W" eval '! nft_has b 49152-49215'
ok "... and the instance runs on b as usual" state_is b running
ok "a removes the instance's folder" vdc_wait "$W" eval '! test -e "$(vdc_host_dir a)/hva/instances/$DOM"'

# ---- back to a, b's agent killed -9 mid-way ----

if vdc_host_libvirt_tls a; then
	pass "a's libvirtd listens with TLS"
else
	fail "a's libvirtd listens with TLS"
fi
hva_set a "$(entry "$(incoming "$B")")"
ok "a reports incoming" wait_state a incoming "$W"
vdc_host_virsh b migrate-setspeed "$DOM" 8 > /dev/null
n_b=$(since b)
hva_set b "$(entry "$(migrate 3 a "$A")")"
ok "b reports migrating" vdc_wait "$W" eval 'states_since b $n_b | grep -qx migrating'
pid_b=$(vdc_hva_pid b)
vdc_hva_kill9 b
ok "b's agent is killed -9 while it migrates" eval '! kill -0 "$pid_b" 2> /dev/null && [ "$(domstate b)" = running ]'
n_b=$(since b)
hva_start b
if wait_state b migrated "$W"; then
	pass "the restarted agent reports migrated"
else
	fail "the restarted agent reports migrated" "$(tail -n 8 "$VDC_TMP/hva-b.log")"
fi
is "$(field b migrated)" 3 "... migrated 3"
diag "b after its restart: $(states_since b "$n_b" | tr '\n' ' ')"
nok "the domain is gone from b" vdc_host_virsh b dominfo "$DOM"
ok "a reports it running" wait_state a running "$W"
is "$(domstate a)" running "libvirt on a runs it"
t1=$(ticks b)
ok "the ticks go on in a's console log" vdc_wait 60 eval '[ "$(ticks a)" -gt "${t1:-0}" ] 2> /dev/null'
ok "s sees a's session only" vdc_wait 20 eval '[ "$(sessions | tr "\n" " ")" = "host-a " ]'

done_testing
