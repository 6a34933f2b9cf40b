# Live migration for real (docs/storage.md, "Moving"): three hypervisors
# a, b and c joined by veth cables, a storage host s, two TCG guests on
# network net1:
#
#   w1 (disk on s) serves a stream of ticks on tcp 2000 and prints
#      "vdc-test: alive N" on its console every second;
#   w2 (on c) holds one connection to w1's ticks open and prints them.
#
# a's and b's libvirtd listen with TLS on the certificates vdcfs issued
# them; c's does not (no TLS listener at all). Checked: `migrate b` moves
# w1 from a to b while it runs: migrating, then running on b, the domain
# gone from a; the guest never rebooted (one "vdc-guest: ready"), its
# console keeps ticking in run/console, w2's connection to it carries on
# ("stream ended" never printed, the ticks go on), and only b may log in
# to its disk after. A move to c, whose libvirtd has no TLS listener,
# fails and leaves w1 running on b with the reason in run/err. Then
# `evacuate b` moves it live to a, the stream still unbroken.

VDC_WATCHDOG=$(( ${VDC_WATCHDOG:-0} > 900 ? VDC_WATCHDOG : 900 ))
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hosts.sh"
. "$(dirname "$0")/hva.sh"
. "$(dirname "$0")/sta.sh"
command -v nft > /dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin
command -v nft > /dev/null || skip_all "nft is missing (package nftables)"
command -v dnsmasq > /dev/null || skip_all "dnsmasq is missing (package dnsmasq-base)"
[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] || skip_all "the kernel has no br_netfilter"

vdc_start
N=$MNT/networks
G=$MNT/security-groups
I=$MNT/instances/w1

ok "the test image is imported" vdc_import_tiny
if vdc_hva_host a 1 && vdc_hva_host b 2 && vdc_hva_host c 3 && vdc_sta_host s 4; then
	pass "hypervisors a, b and c and storage host s join"
else
	fail "hypervisors a, b and c and storage host s join"
	for h in a b c; do vdc_hva_diag "$h"; done
	vdc_sta_diag s
	echo "Bail out! no hosts"
	exit 1
fi
ok "cables a-b, a-c, b-c" eval 'vdc_hosts_link a b && vdc_hosts_link a c && vdc_hosts_link b c'
ok "a, b and c reach s's portal" eval 'vdc_hosts_connect a s && vdc_hosts_connect b s && vdc_hosts_connect c s'

# ---- the hypervisors' certificates, and libvirtd with TLS on a and b ----

pki() { echo "$(vdc_host_dir "$1")/hva/pki"; }
for h in a b; do
	ok "vdcfs issued $h a certificate: the agent wrote it" vdc_wait 30 test -s "$(pki "$h")/servercert.pem"
done
like "$(openssl x509 -noout -text -in "$(pki a)/servercert.pem" 2>&1)" "IP Address:$(vdc_host_addr a)" \
	"a's certificate names a's address"
ok "a's certificate is the data center CA's" openssl verify -CAfile "$(pki a)/cacert.pem" "$(pki a)/servercert.pem"
is "$(stat -c %a "$(pki a)/serverkey.pem")" 600 "its key is 0600"
ok "a's libvirtd listens with TLS" vdc_host_libvirt_tls a
ok "b's libvirtd listens with TLS" vdc_host_libvirt_tls b

# ---- two guests on net1 ----

ok "mkdir net1 192.0.2.0/24" eval "mkdir '$N/net1' && put 192.0.2.0/24 '$N/net1/cidr'"
ok "mkdir group web" mkdir "$G/web"
ok "web: icmp and tcp 2000 from the network" putb "$G/web/rules" << 'EOF'
in icmp - 192.0.2.0/24
in tcp 2000 192.0.2.0/24
EOF
for g in w1 w2; do
	vdc_instance "$g" && mkdir "$MNT/instances/$g/nics/eth0" &&
		ln -s ../../../../networks/net1 "$MNT/instances/$g/nics/eth0/network" &&
		ln -s ../../../security-groups/web "$MNT/instances/$g/security-groups/web" ||
		fail "instance $g"
done
ip1=$(get "$MNT/instances/w1/nics/eth0/run/ip")
like "$ip1" '^192\.0\.2\.' "w1 has an address of net1 ($ip1)"
ok "w1's disk is placed on s" vdc_wait 20 file_is "$I/run/disk-host" s

ok "w1's user-data: ticks on tcp 2000, alive on the console" putb "$I/user-data" << 'EOF'
#!/bin/sh
printf '#!/bin/sh\nn=0\nwhile :; do n=$((n + 1)); echo "tick $n"; sleep 1; done\n' > /tmp/tick.sh
chmod +x /tmp/tick.sh
nc -ll -p 2000 -e /tmp/tick.sh &
(n=0; while :; do n=$((n + 1)); echo "vdc-test: alive $n"; sleep 1; done) > /dev/console 2>&1 &
EOF
ok "w2's user-data: one connection to w1's ticks" putb "$MNT/instances/w2/user-data" << EOF
#!/bin/sh
(
	while ! ip addr show dev eth0 | grep -q 'inet '; do sleep 0.2; done
	while :; do
		nc $ip1 2000 | while read -r line; do
			: > /tmp/streaming
			echo "vdc-test: stream \$line"
		done
		[ -e /tmp/streaming ] && break
		sleep 1
	done
	echo "vdc-test: stream ended"
) > /dev/console 2>&1 &
EOF

place() {
	local g=$1 host=$2 h
	for h in a b c; do [ "$h" = "$host" ] || put off "$MNT/hosts/$h/schedulable"; done
	put on "$MNT/instances/$g/power"
	vdc_wait 20 vdc_is "$MNT/instances/$g/run/host" "$host" || return 1
	for h in a b c; do put on "$MNT/hosts/$h/schedulable"; done
}
ok "w1 goes to a" place w1 a
ok "w2 goes to c" place w2 c
ok "w1 runs" vdc_wait_state w1 running 120 || vdc_hva_diag a
ok "w2 runs" vdc_wait_state w2 running 120 || vdc_hva_diag c

# ticks: the last tick w2 received; alive: the last alive w1 printed.
ticks() { get "$MNT/instances/w2/run/console" | tr -d '\r' | sed -n 's/^vdc-test: stream tick //p' | tail -n 1; }
alive() { get "$I/run/console" | tr -d '\r' | sed -n 's/^vdc-test: alive //p' | tail -n 1; }
above() {
	local min=$1 v
	shift
	v=$("$@" 2> /dev/null)
	[ -n "$v" ] && [ "$v" -gt "$min" ] 2> /dev/null
}
ended() { vdc_console_count w2 "vdc-test: stream ended"; }
ok "w2 streams w1's ticks" vdc_wait 90 above 3 ticks
ok "w1's console ticks" vdc_wait 30 above 3 alive

# ---- bad requests change nothing ----

fails_with EINVAL "migrate to the host it is on: EINVAL" put "migrate a" "$I/ctl"
fails_with ENOENT "migrate to no such host: ENOENT" put "migrate nosuch" "$I/ctl"
fails_with EINVAL "migrate to a storage host: EINVAL" put "migrate s" "$I/ctl"
is "$(get "$I/run/state")" running "... w1 runs on a, untouched"

# ---- a to b, live ----

t0=$(ticks)
a0=$(alive)
ok "migrate b" put "migrate b" "$I/ctl"
like "$(get "$I/run/state")" '^(migrating|running)$' "run/state is migrating at once"
like "$(get "$I/run/progress")" "live migration to host b|^$" "run/progress names the move"
fails_with EBUSY "power off while migrating: EBUSY" put off "$I/power"
ok "w1 is on b" vdc_wait 120 file_is "$I/run/host" b || { vdc_hva_diag a; vdc_hva_diag b; }
ok "... running" vdc_wait_state w1 running 60
ok "the event says it moved live" vdc_events_has "w1.*moved live from host a to host b"
is "$(vdc_domains a | wc -l)" 0 "a has no domain left"
is "$(vdc_domains b | wc -l)" 1 "b runs its domain"
is "$(vdc_console_count w1 'vdc-guest: ready')" 1 "the guest never rebooted"
ok "its console goes on ticking in run/console" vdc_wait 30 above "$((a0 + 3))" alive
ok "w2's connection to it carries ticks after the move" vdc_wait 30 above "$((t0 + 5))" ticks
is "$(ended)" 0 "... and never ended"
ok "only b (and vdcfs) may log in to its disk now" vdc_wait 20 eval \
	"vdc_sta_desired s | jq -e --arg n w1 '.volumes[] | select(.name == \$n) | .initiators | length == 2 and any(endswith(\":host-b\"))' > /dev/null"
like "$(get "$I/run/err")" "power it off once it is running there" \
	"run/err holds the refused power off's reason, nothing from the move"

# ---- b to c fails: c's libvirtd has no TLS listener ----

t1=$(ticks)
ok "clear run/err" put clear "$I/ctl"
ok "migrate c" put "migrate c" "$I/ctl"
ok "the move fails: the reason is in run/err" vdc_wait 120 eval "[ -n \"\$(get '$I/run/err')\" ]"
like "$(get "$I/run/err")" "c|16514|[Cc]onnection|TLS|refused" "run/err: $(get "$I/run/err")"
ok "w1 runs on b still" vdc_wait_state w1 running 60
is "$(get "$I/run/host")" b "run/host is b"
ok "the event says the move failed" vdc_events_has "w1.*live migration to host c failed"
is "$(vdc_domains c | grep -c .)" 1 "c runs w2 only"
ok "w2's stream goes on" vdc_wait 30 above "$((t1 + 3))" ticks

# ---- evacuate b: w1 moves live to a ----

t2=$(ticks)
ok "c takes nothing" put off "$MNT/hosts/c/schedulable"
ok "evacuate b" put evacuate "$MNT/hosts/b/ctl"
ok "w1 is on a" vdc_wait 120 file_is "$I/run/host" a || { vdc_hva_diag a; vdc_hva_diag b; }
ok "... running" vdc_wait_state w1 running 60
is "$(vdc_console_count w1 'vdc-guest: ready')" 1 "the guest never rebooted"
ok "w2's stream goes on after the evacuation" vdc_wait 30 above "$((t2 + 3))" ticks
is "$(ended)" 0 "... and never ended"
is "$(vdc_domains b | wc -l)" 0 "b has no domain left"

ok "power off both" eval "put off '$I/power' && put off '$MNT/instances/w2/power'"
ok "both stop" eval 'vdc_wait_state w1 stopped 90 && vdc_wait_state w2 stopped 90'
ok "rmdir both" rmdir "$I" "$MNT/instances/w2"
ok "s lets the disk go" vdc_wait 30 file_is "$MNT/hosts/s/run/disk-used" 0M

done_testing
