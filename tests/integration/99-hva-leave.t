#!/bin/bash
# vdc-hva --leave: a hypervisor host leaves its data center and nothing of
# it is left: with a guest running on a virtual network with a security
# group (a domain, a bridge and a VXLAN device, a DHCP server, nftables
# tables, a disk and the image cache), the agent stopped and
# `vdc-hva --leave` run leaves no domain (`virsh list --all`), no link
# (`ip link`), no table (`nft list tables`), no dnsmasq, no disk or image,
# and no join (host.token, host.name, host.dc, dc.id): the host joins
# another data center as new.
VDC_WATCHDOG=$(( ${VDC_WATCHDOG:-0} > 300 ? VDC_WATCHDOG : 300 ))
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hosts.sh"
. "$(dirname "$0")/hva.sh"
command -v nft > /dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin
command -v nft > /dev/null || skip_all "nft is missing (package nftables)"
command -v dnsmasq > /dev/null || skip_all "dnsmasq is missing (package dnsmasq-base)"
[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] || skip_all "the kernel has no br_netfilter"

vdc_start
ok "the test image is imported" vdc_import_tiny
if ! vdc_hva_host a 1; then
	vdc_hva_diag a
	echo "Bail out! host a did not join"
	exit 1
fi
NS=$(vdc_host_netns a)
HD=$(vdc_host_dir a)

ok "a network" bash -c "mkdir '$MNT/networks/net1' && echo 192.0.2.0/24 > '$MNT/networks/net1/cidr'"
ok "a security group" bash -c "mkdir '$MNT/security-groups/web' && echo 'in tcp 22 0.0.0.0/0' > '$MNT/security-groups/web/rules'"
ok "an instance" vdc_instance g1
ok "with a nic on the network" bash -c "mkdir '$MNT/instances/g1/nics/eth0' &&
	ln -s ../../../../networks/net1 '$MNT/instances/g1/nics/eth0/network'"
ok "in the group" ln -s ../../../security-groups/web "$MNT/instances/g1/security-groups/web"
ok "it is powered on" put on "$MNT/instances/g1/power"
ok "it runs on host a" vdc_wait_state g1 running 120

# What the data center has on the host now.
vnets() { ip -n "$NS" -o link show | grep -cE ': (vdcb|vdcx)[0-9]+'; }
tables() { vdc_host_exec a nft list tables 2> /dev/null | grep -c vdc; }
dnsmasqs() {
	local p n=0
	for p in $(vdc_host_pids a); do
		[ "$(cat "/proc/$p/comm" 2> /dev/null)" = dnsmasq ] && n=$((n + 1))
	done
	echo "$n"
}
isnt "$(vdc_domains a)" "" "a domain runs"
isnt "$(vnets)" 0 "the network's links are there"
isnt "$(tables)" 0 "the security groups' tables are there"
dnsmasq_up() { [ "$(dnsmasqs)" -gt 0 ]; }
ok "a DHCP server serves the network" vdc_wait 30 dnsmasq_up
ok "dc.id names the data center" test -s "$HD/hva/dc.id"
ok "the image cache holds the image" bash -c "ls '$HD/hva/images' | grep -q ."

vdc_hva_stop a
out=$(vdc_host_exec a timeout -k 2 120 "$VDC_HVA" --leave --state /var/lib/vdc-hva 2>&1)
is "$?" 0 "vdc-hva --leave exits 0" || diag "$out"
like "$out" "left data center" "it says it left"

is "$(vdc_domains a)" "" "no domain is left (virsh list --all)"
is "$(vnets)" 0 "no bridge or VXLAN device is left (ip link)"
is "$(tables)" 0 "no nftables table is left (nft list tables)"
is "$(dnsmasqs)" 0 "no DHCP server is left"
for f in host.token host.name host.dc dc.id; do
	nok "no $f is left" test -e "$HD/hva/$f"
done
is "$(ls -A "$HD/hva/instances" 2> /dev/null)" "" "no instance folder (disk) is left"
nok "no image cache is left" bash -c "ls -A '$HD/hva/images' 2> /dev/null | grep -q ."

out=$(vdc_host_exec a timeout -k 2 60 "$VDC_HVA" --leave --state /var/lib/vdc-hva 2>&1)
is "$?" 0 "--leave again finds nothing to do, and exits 0" || diag "$out"
out=$(vdc_host_exec a timeout -k 2 60 "$VDC_HVA" --leave --state /var/lib/vdc-hva --server 127.0.0.1:1 2>&1)
is "$?" 2 "--leave with --server is a usage error (it asks vdcfs nothing)"

VDC_DONE=1
done_testing
