#!/bin/bash
# One server moved by tar to another data center that lacks what it links:
# powering it on there says which network or security group (or image) is
# missing, in run/state (error) and run/err, one at a time until all are
# there; then it is scheduled like any other (docs/tree.md, "instances/").
. "$(dirname "$0")/lib.sh"
vdc_start a
vdc_start b
A=$MNT_a
B=$MNT_b

ok "A: an image, a network, a security group" bash -c "mkdir '$A/images/img' '$A/networks/net1' '$A/security-groups/web' &&
	echo 192.0.2.0/24 > '$A/networks/net1/cidr'"
ok "A: web1 links all three" bash -c "mkdir '$A/instances/web1' && mkdir '$A/instances/web1/nics/eth0' &&
	ln -s ../../images/img '$A/instances/web1/image' &&
	ln -s ../../../../networks/net1 '$A/instances/web1/nics/eth0/network' &&
	ln -s ../../../security-groups/web '$A/instances/web1/security-groups/web'"
ok "tar of web1 alone on A" tar --exclude-caches -C "$A" -cf "$VDC_TMP/web1.tar" instances/web1
ok "tar x on B" tar -C "$B" -xf "$VDC_TMP/web1.tar"
ok "B: web1 is there with its links" test -L "$B/instances/web1/nics/eth0/network"

I=$B/instances/web1
ok "B: web1 is powered on" put on "$I/power"
is "$(get "$I/run/state")" error "with no image on B it is in error"
is "$(get "$I/run/err")" "image img does not exist; make images/img or link another image" "run/err names the image"

ok "B: the image is made; web1 off and on again" bash -c "mkdir '$B/images/img' && echo off > '$I/power' && echo on > '$I/power'"
is "$(get "$I/run/state")" error "with no network on B it is in error"
is "$(get "$I/run/err")" "nic eth0: network net1 does not exist; make networks/net1 or link another network" \
	"run/err names the nic and its network"

ok "B: the network is made; web1 off and on again" bash -c "mkdir '$B/networks/net1' &&
	echo 192.0.2.0/24 > '$B/networks/net1/cidr' && echo off > '$I/power' && echo on > '$I/power'"
is "$(get "$I/run/state")" error "with no security group on B it is in error"
is "$(get "$I/run/err")" "security group web does not exist; make security-groups/web or link another security group" \
	"run/err names the security group"

ok "B: the group is made; web1 off and on again" bash -c "mkdir '$B/security-groups/web' &&
	echo off > '$I/power' && echo on > '$I/power'"
is "$(get "$I/run/state")" unschedulable "with all it links there, it waits for a host like any instance"
like "$(get "$I/run/err")" "no host has joined" "run/err says so"

VDC_DONE=1
done_testing
