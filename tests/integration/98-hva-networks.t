# Networks for real (docs/networks.md): two hypervisor hosts joined by a
# veth "cable", four guests under TCG.
#
#   host a: g1 (net1, group web)      g3 (net2, group open, pinned .100)
#   host b: g2 (net1, group web)      g4 (net1, group other)
#
# net1 and net2 have the same cidr, so only the overlay keeps them apart.
# Every guest answers its name on ports 22 and 23 and a stream of ticks on 2000,
# and probes the others every round, printing "vdc-test: ROUND KIND TARGET
# ok|fail" on its console: the test reads what got through.
#
# Checked: DHCP hands each guest its address, g1 and g2 ping over VXLAN,
# g3 reaches neither, tcp 22 from the own group connects while another port
# and another group are dropped, a rule change flips that live and keeps an
# established stream, a spoofed source is dropped, kill -9 of both agents
# changes no rule and breaks no flow, a stop and start keeps the address,
# and the last member's leaving takes the bridges, DHCP servers and rules
# with it.

VDC_WATCHDOG=$(( ${VDC_WATCHDOG:-0} > 600 ? VDC_WATCHDOG : 600 ))
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hosts.sh"
. "$(dirname "$0")/hva.sh"
command -v nft > /dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin
command -v nft > /dev/null || skip_all "nft is missing (package nftables)"
command -v dnsmasq > /dev/null || skip_all "dnsmasq is missing (package dnsmasq-base)"
[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] || skip_all "the kernel has no br_netfilter"

vdc_start
N=$MNT/networks
G=$MNT/security-groups

ok "the test image is imported" vdc_import_tiny
if vdc_hva_host a 1 && vdc_hva_host b 2; then
	pass "hosts a and b join"
else
	fail "hosts a and b join"
	vdc_hva_diag a
	vdc_hva_diag b
	echo "Bail out! no hosts"
	exit 1
fi
ok "a veth cable joins a and b" vdc_hosts_link a b
is "$(get "$MNT/hosts/a/run/underlay")" "$(vdc_host_addr a)" "host a's underlay address is the one it reaches vdcfs from"

# ---- the tree ----

ok "mkdir networks net1 and net2" mkdir "$N/net1" "$N/net2"
ok "both take 192.0.2.0/24" sh -c "echo 192.0.2.0/24 > '$N/net1/cidr' && echo 192.0.2.0/24 > '$N/net2/cidr'"
isnt "$(get "$N/net1/run/vni")" "$(get "$N/net2/run/vni")" "each network has an overlay id of its own"
is "$(get "$N/net1/run/state")" available "a network with a cidr is available"
# An agent killed after making a bridge and before naming it leaves one
# without an alias: one just like it on host a is taken back, not refused.
vni1=$(get "$N/net1/run/vni")
ok "a bridge of net1 without an alias is on host a" \
	ip -n "$(vdc_host_netns a)" link add "vdcb$vni1" address "$(printf '52:54:01:%02x:%02x:%02x' \
		$((vni1 >> 16 & 255)) $((vni1 >> 8 & 255)) $((vni1 & 255)))" type bridge
ok "mkdir groups web, open, other" mkdir "$G/web" "$G/open" "$G/other"
ok "web: icmp from the network, tcp 22 and 2000 from its own members" putb "$G/web/rules" << 'EOF'
in icmp - 192.0.2.0/24
in tcp 22 sg:web
in tcp 2000 sg:web
EOF
ok "open: anything from anywhere" put "in any - 0.0.0.0/0" "$G/open/rules"
ok "other: icmp from the network" put "in icmp - 192.0.2.0/24" "$G/other/rules"
fails_with EINVAL "a bad rule is refused at write(2)" put "in tcp 99999 0.0.0.0/0" "$G/web/rules"
like "$(get "$G/web/run/err")" "99999|port" "... with the reason in run/err"
like "$(get "$G/web/rules")" "in tcp 22 sg:web" "... and the rules stay as they were"

for g in g1 g2 g3 g4; do
	vdc_instance "$g" || fail "instance $g"
	mkdir "$MNT/instances/$g/nics/eth0" || fail "nic of $g"
done
ok "g3 pins 192.0.2.100" put 192.0.2.100 "$MNT/instances/g3/nics/eth0/ip"
for g in g1 g2 g4; do
	ln -s ../../../../networks/net1 "$MNT/instances/$g/nics/eth0/network" || fail "$g on net1"
done
ok "g3 on net2" ln -s ../../../../networks/net2 "$MNT/instances/g3/nics/eth0/network"
ln -s ../../../security-groups/web "$MNT/instances/g1/security-groups/web" &&
	ln -s ../../../security-groups/web "$MNT/instances/g2/security-groups/web" &&
	ln -s ../../../security-groups/open "$MNT/instances/g3/security-groups/open" &&
	ln -s ../../../security-groups/other "$MNT/instances/g4/security-groups/other"
is "$?" 0 "g1 and g2 join web, g3 open, g4 other"
ip1=$(get "$MNT/instances/g1/nics/eth0/run/ip")
ip2=$(get "$MNT/instances/g2/nics/eth0/run/ip")
ip3=$(get "$MNT/instances/g3/nics/eth0/run/ip")
ip4=$(get "$MNT/instances/g4/nics/eth0/run/ip")
is "$ip3" 192.0.2.100 "g3 has its pinned address"
is "$(printf '%s\n' "$ip1" "$ip2" "$ip4" | sort -u | grep -c '^192\.0\.2\.')" 3 "g1, g2 and g4 have three addresses of net1 ($ip1 $ip2 $ip4)"
is "$(get "$MNT/instances/g1/run/ip")" "$ip1" "the instance's run/ip is its first nic's"
fails_with EADDRINUSE "a second nic cannot pin an address in use" put "$ip1" "$MNT/instances/g4/nics/eth0/ip"
like "$(get "$MNT/instances/g4/nics/eth0/run/err")" "in use by instances/g1/nics/eth0" "... and run/err says who has it"

# guest NAME PROBE...: the user-data of a guest that serves and probes.
# A probe is KIND:TARGET, KIND one of ping, tcp22, tcp23, tcp2000 (a new
# connection to the tick stream), spoof (a ping from 192.0.2.200);
# STREAM=TARGET also keeps one connection to TARGET's ticks open (tried
# until it begins; "stream ended" says it broke after that).
guest() {
	local name=$1 stream=${STREAM:-}
	shift
	cat << EOF
#!/bin/sh
printf '#!/bin/sh\necho $name\n' > /tmp/name.sh
printf '#!/bin/sh\nn=0\nwhile :; do n=\$((n + 1)); echo "tick \$n"; sleep 1; done\n' > /tmp/tick.sh
chmod +x /tmp/name.sh /tmp/tick.sh
nc -ll -p 22 -e /tmp/name.sh &
nc -ll -p 23 -e /tmp/name.sh &
nc -ll -p 2000 -e /tmp/tick.sh &
(
	while ! ip addr show dev eth0 | grep -q 'inet '; do sleep 0.2; done
	ip addr add 192.0.2.200/32 dev eth0
	# The stream is tried until it has begun (its peer may still be
	# booting), and then never again: an end after that is a break.
	if [ -n "$stream" ]; then
		(while :; do
			nc $stream 2000 | while read -r line; do
				: > /tmp/streaming
				echo "vdc-test: stream \$line"
			done
			[ -e /tmp/streaming ] && break
			sleep 1
		done
		echo "vdc-test: stream ended") &
	fi
	r=0
	while :; do
		r=\$((r + 1))
		for p in $*; do
			k=\${p%%:*} t=\${p#*:} v=
			case \$k in
			ping) ping -c 1 -W 1 \$t > /dev/null 2>&1 && v=ok ;;
			spoof) ping -c 1 -W 1 -I 192.0.2.200 \$t > /dev/null 2>&1 && v=ok ;;
			tcp22 | tcp23) v=\$(timeout 3 nc \$t \${k#tcp} < /dev/null 2> /dev/null | head -n 1) && [ -n "\$v" ] && v="ok \$v" ;;
			tcp2000) v=\$(timeout 3 nc \$t 2000 < /dev/null 2> /dev/null | head -n 1) && [ -n "\$v" ] && v=ok ;;
			esac
			echo "vdc-test: \$r \$k \$t \${v:-fail}"
		done
		sleep 1
	done
) > /dev/console 2>&1 &
EOF
}

STREAM=$ip2 guest g1 "ping:$ip2" "tcp22:$ip2" "tcp23:$ip2" "tcp2000:$ip2" > "$VDC_TMP/g1.sh"
guest g2 "ping:$ip1" > "$VDC_TMP/g2.sh"
guest g3 "ping:$ip1" "ping:$ip2" "tcp22:$ip2" > "$VDC_TMP/g3.sh"
guest g4 "ping:$ip2" "tcp22:$ip2" "spoof:$ip2" > "$VDC_TMP/g4.sh"
for g in g1 g2 g3 g4; do
	cp "$VDC_TMP/$g.sh" "$MNT/instances/$g/user-data" || fail "user-data of $g"
done
# A MAC written by hand (locally administered): DHCP, the firewall and
# the other guests' probes of g2 go by it.
ok "g2's eth0 is given MAC 02:00:00:00:00:22" put 02:00:00:00:00:22 "$MNT/instances/g2/nics/eth0/mac"
is "$(get "$MNT/instances/g2/nics/eth0/run/mac")" 02:00:00:00:00:22 "... and has it"

# ---- placement: g1, g3 on a; g2, g4 on b ----

place() {
	local host=$1 other=$2 g
	shift 2
	put off "$MNT/hosts/$other/schedulable"
	for g; do
		put on "$MNT/instances/$g/power"
		vdc_wait 20 vdc_is "$MNT/instances/$g/run/host" "$host" || return 1
	done
	put on "$MNT/hosts/$other/schedulable"
}
ok "g1 and g3 go to host a" place a b g1 g3
ok "g2 and g4 go to host b" place b a g2 g4
for g in g1 g2 g3 g4; do
	vdc_wait_state "$g" running 120 || vdc_hva_diag "$(get "$MNT/instances/$g/run/host")"
done
pass "the four guests run"
like "$(for d in $(vdc_host_virsh b list --name); do vdc_host_virsh b dumpxml "$d"; done)" \
	"<mac address='02:00:00:00:00:22'/>" "g2's domain on host b has the MAC its nic's mac says"

# result GUEST KIND TARGET: the last result the guest printed for the probe.
result() {
	get "$MNT/instances/$1/run/console" | tr -d '\r' |
		sed -n "s/^vdc-test: [0-9]* $2 $3 //p" | tail -n 1
}
# rounds GUEST: the last round the guest printed.
rounds() {
	get "$MNT/instances/$1/run/console" | tr -d '\r' | sed -n 's/^vdc-test: \([0-9]*\) .*/\1/p' | tail -n 1
}
has_result() { [ "$(result "$1" "$2" "$3")" = "$4" ]; }
# settled GUEST KIND TARGET WANT SECS: the probe's result becomes WANT.
settled() {
	vdc_wait "$5" has_result "$1" "$2" "$3" "$4" && return 0
	diag "$1 $2 $3: '$(result "$1" "$2" "$3")' after $5 s, wanted '$4'"
	return 1
}
# ticks GUEST: the last tick of its stream.
ticks() {
	get "$MNT/instances/$1/run/console" | tr -d '\r' | sed -n 's/^vdc-test: stream tick //p' | tail -n 1
}
# above MIN CMD...: CMD prints a number greater than MIN (run anew at each
# try of vdc_wait, unlike a $(...) in its arguments).
above() {
	local min=$1 v
	shift
	v=$("$@" 2> /dev/null)
	[ -n "$v" ] && [ "$v" -gt "$min" ] 2> /dev/null
}
# kept NAME: how often host NAME's agent found its ruleset in place.
kept() { grep -c 'in place already; kept' "$VDC_TMP/hva-$1.log"; }
# leases GUEST IP: how often the guest said DHCP gave it IP.
leases() { vdc_console_count "$1" "vdc-guest: ip $2/24 on eth0"; }

# ---- DHCP ----

for g in 1 2 3 4; do
	eval "want=\$ip$g"
	ok "g$g got $want from DHCP" vdc_wait 60 vdc_console_has "g$g" "vdc-guest: ip $want/24 on eth0"
done

# ---- the overlay ----

ok "host a took the half-made bridge back and named it" \
	sh -c "ip -n $(vdc_host_netns a) -d link show vdcb$vni1 | grep -q 'alias vdc:.*:net:net1'"
ok "host a's VXLAN device of net1 floods to host b" \
	sh -c "ip -n $(vdc_host_netns a) -d link show vdcx$vni1 | grep -q 'vxlan id $vni1 local $(vdc_host_addr a)' &&
		bridge -n $(vdc_host_netns a) fdb show dev vdcx$vni1 | grep -q '00:00:00:00:00:00 dst $(vdc_host_addr b)'"
ok "g1 (host a) pings g2 (host b)" settled g1 ping "$ip2" ok 60
ok "g2 (host b) pings g1 (host a)" settled g2 ping "$ip1" ok 60
ok "g4 (net1, group other) pings g2: icmp is open to the network" settled g4 ping "$ip2" ok 60

# ---- another network ----

ok "g3 (net2, same cidr) has probed a few rounds" vdc_wait 60 above 2 rounds g3
is "$(get "$MNT/instances/g3/run/console" | grep -c "^vdc-test: [0-9]* ping $ip1 ok")" 0 "g3 never reached g1 on another network"
is "$(get "$MNT/instances/g3/run/console" | grep -c "^vdc-test: [0-9]* ping $ip2 ok")" 0 "... nor g2"
is "$(result g3 tcp22 "$ip2")" fail "... nor g2's port 22"

# ---- security groups ----

ok "g1 connects to g2's port 22 (its own group)" settled g1 tcp22 "$ip2" "ok g2" 60
ok "g1's connection to port 23 is dropped (no rule)" settled g1 tcp23 "$ip2" fail 30
ok "g4's connection to g2's port 22 is dropped (another group)" settled g4 tcp22 "$ip2" fail 30
ok "g1 holds a stream from g2's port 2000" vdc_wait 60 above 2 ticks g1

# ---- a spoofed source ----

tap4=vdcn$((16#$(get "$MNT/instances/g4/nics/eth0/run/mac" | tr -d : | cut -c7-)))
ok "g4's ping from a spoofed source gets nowhere" settled g4 spoof "$ip2" fail 30
table=$(vdc_host_exec b nft list tables bridge | sed -n 's/^table bridge \(vdc_[0-9a-z_]*\)$/\1/p')
spoofed() {
	vdc_host_exec b nft list chain bridge "$table" "from_$tap4" |
		sed -n 's/.*ip saddr != .* counter packets \([0-9]*\) .*/\1/p'
}
ok "host b dropped g4's spoofed packets at its tap ($tap4)" test "$(spoofed)" -gt 0

# ---- a rule change flips it live ----

t0=$(ticks g1)
ok "web: tcp 23 instead of 22 and 2000" putb "$G/web/rules" << 'EOF'
in icmp - 192.0.2.0/24
in tcp 23 sg:web
EOF
ok "g1 now connects to port 23" settled g1 tcp23 "$ip2" "ok g2" 30
ok "... and no longer to port 22" settled g1 tcp22 "$ip2" fail 30
ok "... nor anew to port 2000" settled g1 tcp2000 "$ip2" fail 30
ok "the established stream goes on" vdc_wait 30 above "$((t0 + 5))" ticks g1
ok "... unbroken" sh -c "! get '$MNT/instances/g1/run/console' | grep -q 'vdc-test: stream ended'"

# ---- kill -9 of both agents ----

rules() {
	vdc_host_exec "$1" nft -s list table bridge "$table" && vdc_host_exec "$1" nft -s list table inet "$table"
}
links() {
	ip -n "$(vdc_host_netns "$1")" -o link show | sed -n 's/^\([0-9]*\): \(vdc[bx][0-9]*\).*/\1 \2/p' | sort
}
dnsmasqs() {
	cat "$(vdc_host_dir "$1")"/hva/networks/*/dnsmasq.pid 2> /dev/null | sort
}
rules a > "$VDC_TMP/rules-a.before"
rules b > "$VDC_TMP/rules-b.before"
links a > "$VDC_TMP/links-a.before"
dns_a=$(dnsmasqs a)
is "$(echo "$dns_a" | wc -w)" 2 "host a runs a DHCP server for each of its two networks"
kept_a=$(kept a)
kept_b=$(kept b)
t0=$(ticks g1)
vdc_hva_kill9 a
vdc_hva_kill9 b
sleep 2
vdc_hva_restart a
vdc_hva_restart b
ok "host a's agent finds its ruleset in place" vdc_wait 30 above "$kept_a" kept a
ok "... and so does host b's" vdc_wait 30 above "$kept_b" kept b
vdc_wait 30 vdc_is "$MNT/hosts/a/run/state" up
vdc_wait 30 vdc_is "$MNT/hosts/b/run/state" up
ok "host a's rules are unchanged" cmp -s "$VDC_TMP/rules-a.before" <(rules a)
ok "host b's rules are unchanged" cmp -s "$VDC_TMP/rules-b.before" <(rules b)
ok "host a's bridges and tunnels are the same links" cmp -s "$VDC_TMP/links-a.before" <(links a)
is "$(dnsmasqs a)" "$dns_a" "host a's DHCP servers are the same processes"
ok "the stream went on through it" vdc_wait 30 above "$((t0 + 5))" ticks g1
ok "... unbroken" sh -c "! get '$MNT/instances/g1/run/console' | grep -q 'vdc-test: stream ended'"
ok "g2 still pings g1" settled g2 ping "$ip1" ok 30

# ---- stop and start keeps the address ----

n_leases=$(leases g4 "$ip4")
# A MAC written while g4 runs is its at the next power on: the guest keeps the one it booted with.
N4=$MNT/instances/g4/nics/eth0
mac4=$(get "$N4/run/mac")
ok "g4's eth0 is given MAC 02:00:00:00:00:44 while g4 runs" put 02:00:00:00:00:44 "$N4/mac"
is "$(get "$N4/run/mac")" "$mac4" "... and keeps the one its guest has"
like "$(get "$N4/run/err")" "next powered on" "... run/err says when it changes"
ok "g4 powers off" put off "$MNT/instances/g4/power"
vdc_wait_state g4 stopped 60
ok "g4 powers on again" put on "$MNT/instances/g4/power"
vdc_wait_state g4 running 120
is "$(get "$N4/run/mac")" 02:00:00:00:00:44 "g4 has its new MAC"
like "$(for d in $(vdc_host_virsh b list --name); do vdc_host_virsh b dumpxml "$d"; done)" \
	"<mac address='02:00:00:00:00:44'/>" "... and so has its domain on host b"
is "$(get "$MNT/instances/g4/nics/eth0/run/ip")" "$ip4" "g4 keeps its address"
ok "... and DHCP gives it the same one again" vdc_wait 60 above "$n_leases" leases g4 "$ip4"

# ---- the last member leaves ----

for g in g1 g2 g3 g4; do
	put off "$MNT/instances/$g/power"
done
for g in g1 g2 g3 g4; do
	vdc_wait_state "$g" stopped 60
	rmdir "$MNT/instances/$g"
done
no_vnet() {
	[ -z "$(links "$1")" ] && [ -z "$(dnsmasqs "$1")" ] &&
		! vdc_host_exec "$1" nft list tables 2> /dev/null | grep -q "$table"
}
ok "host a has no bridge, tunnel, DHCP server or rule of ours left" vdc_wait 30 no_vnet a
ok "host b has none left either" vdc_wait 30 no_vnet b
for p in $dns_a; do
	ok "dnsmasq $p has ended" sh -c "! kill -0 $p 2> /dev/null"
done
ok "the networks can go" rmdir "$N/net1" "$N/net2"

done_testing
