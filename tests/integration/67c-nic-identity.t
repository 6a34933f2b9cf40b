#!/bin/bash
# A nic's MAC and address go with the tree (docs/networks.md, "MACs and
# addresses"): a tar of data center A restored into a fresh B keeps every
# nic's MAC and address for the servers whose power is on (and for the
# others as soon as they are powered on), and `cp -r` of an instance in
# one data center exits 0 and gives the copy a MAC and an address of its
# own. No two nics of a data center ever share a MAC or an address.
. "$(dirname "$0")/lib.sh"
vdc_start a
vdc_start b
A=$MNT_a
B=$MNT_b

# nics(MNT): "instance/nic mac ip" of every nic, sorted.
nics() {
	local n
	for n in "$1"/instances/*/nics/*; do
		echo "${n#"$1"/instances/} $(get "$n/run/mac") $(get "$n/run/ip")"
	done | sed 's#/nics/#/#' | sort
}
# distinct(MNT): no MAC twice, no address twice.
distinct() {
	local l
	l=$(nics "$1")
	[ "$(awk '{print $2}' <<< "$l" | sort | uniq -d)" = "" ] &&
		[ "$(awk '$3 != "" {print $3}' <<< "$l" | sort | uniq -d)" = "" ]
}

ok "A: networks net1 and net2" bash -c "mkdir '$A/networks/net1' '$A/networks/net2' &&
	echo 192.0.2.0/24 > '$A/networks/net1/cidr' && echo 198.51.100.0/24 > '$A/networks/net2/cidr'"
# A nic made and removed first: A's ids and addresses are not what B's restore order gives.
ok "A: a server made and removed (a hole in ids and addresses)" bash -c "mkdir '$A/instances/x' && mkdir '$A/instances/x/nics/eth0' &&
	ln -s ../../../../networks/net1 '$A/instances/x/nics/eth0/network'"
for w in w1 w2 w3; do
	ok "A: $w with eth0 on net1" bash -c "mkdir '$A/instances/$w' && mkdir '$A/instances/$w/nics/eth0' &&
		ln -s ../../../../networks/net1 '$A/instances/$w/nics/eth0/network'"
done
ok "A: rmdir x" rmdir "$A/instances/x"
ok "A: w3 has eth1 on net2 too" bash -c "mkdir '$A/instances/w3/nics/eth1' &&
	ln -s ../../../../networks/net2 '$A/instances/w3/nics/eth1/network'"
ok "A: w3's eth0 pins 192.0.2.100" put 192.0.2.100 "$A/instances/w3/nics/eth0/ip"
ok "A: w2's eth0 is given MAC 02:00:00:00:00:02" put 02:00:00:00:00:02 "$A/instances/w2/nics/eth0/mac"
is "$(get "$A/instances/w2/nics/eth0/run/mac")" 02:00:00:00:00:02 "A: and has it"
is "$(get "$A/instances/w1/nics/eth0/auto-ip")" "$(get "$A/instances/w1/nics/eth0/run/ip")" \
	"A: w1's address is written down in its auto-ip"
is "$(get "$A/instances/w1/nics/eth0/mac")" "$(get "$A/instances/w1/nics/eth0/run/mac")" \
	"A: w1's MAC is written down in its mac"
is "$(get "$A/instances/w3/nics/eth0/run/ip")" 192.0.2.100 "A: w3 has its pinned address"
ok "A: w1 and w3 are powered on" bash -c "echo on > '$A/instances/w1/power' && echo on > '$A/instances/w3/power'"
# A has no hosts: w3 is powered on but runs nowhere, so a change applies
# at once (on a host, at its next power on: the guest keeps what it booted
# with; tests/unit/test_networks.c).
W3=$A/instances/w3/nics/eth1
ok "A: w3's eth1 is given MAC 02:00:00:00:00:03 and auto-ip 198.51.100.33" \
	bash -c "echo 02:00:00:00:00:03 > '$W3/mac' && echo 198.51.100.33 > '$W3/auto-ip'"
is "$(get "$W3/run/mac")|$(get "$W3/run/ip")" "02:00:00:00:00:03|198.51.100.33" "A: it has them"
is "$(get "$W3/run/err")" "" "... and run/err is empty"

# ---- copies in the same data center ----
W1=$A/instances/w1/nics/eth0
ok "A: cp -r of w1 (powered on) exits 0" cp -r "$A/instances/w1" "$A/instances/w1c"
isnt "$(get "$A/instances/w1c/nics/eth0/run/mac")" "$(get "$W1/run/mac")" "the copy has a MAC of its own"
isnt "$(get "$A/instances/w1c/nics/eth0/run/ip")" "$(get "$W1/run/ip")" "... and an address of its own"
is "$(get "$A/instances/w1c/nics/eth0/mac")" "$(get "$A/instances/w1c/nics/eth0/run/mac")" \
	"... written down as it was powered on (an archive carries it)"
is "$(get "$A/instances/w1c/nics/eth0/auto-ip")" "$(get "$A/instances/w1c/nics/eth0/run/ip")" "... the address too"
is "$(get "$W1/run/mac")|$(get "$W1/run/ip")" "$(get "$W1/mac")|$(get "$W1/auto-ip")" "w1 keeps its MAC and address"

W2=$A/instances/w2/nics/eth0
ok "A: cp -r of w2 (powered off) exits 0" cp -r "$A/instances/w2" "$A/instances/w2c"
ok "A: diff -r w2 w2c is empty (the copy reads as its original)" \
	diff -r --no-dereference --exclude=run "$A/instances/w2" "$A/instances/w2c"
isnt "$(get "$A/instances/w2c/nics/eth0/run/mac")" 02:00:00:00:00:02 "the copy has a MAC of its own"
isnt "$(get "$A/instances/w2c/nics/eth0/run/ip")" "$(get "$W2/run/ip")" "... and an address of its own"
like "$(get "$A/instances/w2c/nics/eth0/run/err")" "^mac 02:00:00:00:00:02 is in use by instances/w2/nics/eth0|^auto-ip .* is in use by instances/w2/nics/eth0" \
	"... and its run/err says why"

nok "A: cp -r of w3, whose eth0 pins an address, refuses the pin (EADDRINUSE)" cp -r "$A/instances/w3" "$A/instances/w3c"
is "$(get "$A/instances/w3c/nics/eth0/ip")" "" "the copy's eth0 pins nothing"
like "$(get "$A/instances/w3c/nics/eth0/run/ip")" '^192\.0\.2\.' "... and has an address of net1"
ok "A: no MAC nor address twice" distinct "$A"
ok "A: rmdir w3c" rmdir "$A/instances/w3c"
nics "$A" > "$VDC_TMP/a.nics"

# ---- the data center moves ----
ok "tar --exclude-caches of A" tar --exclude-caches -C "$A" -cf "$VDC_TMP/dc.tar" .
ok "tar x into B" tar -C "$B" -xf "$VDC_TMP/dc.tar"
ok "diff -r A B is empty" diff -r --no-dereference --exclude=run --exclude=hosts "$A" "$B"
for n in w1/eth0 w1c/eth0 w3/eth0 w3/eth1; do
	is "$(grep "^$n " <(nics "$B"))" "$(grep "^$n " "$VDC_TMP/a.nics")" "B: $n (powered on) has A's MAC and address"
done
ok "B: no MAC nor address twice" distinct "$B"
ok "B: w2 is powered on" put on "$B/instances/w2/power"
is "$(grep "^w2/eth0 " <(nics "$B"))" "$(grep "^w2/eth0 " "$VDC_TMP/a.nics")" "B: then w2 has A's MAC and address too"
ok "B: still no MAC nor address twice" distinct "$B"
ok "a second tar x over B exits 0 (it powers w2 off, as in the archive)" tar -C "$B" -xf "$VDC_TMP/dc.tar"
is "$(nics "$B" | grep -v '^w2')" "$(grep -v '^w2' "$VDC_TMP/a.nics")" \
	"the powered-on servers' nics keep A's MACs and addresses (tar makes links again: they get them back)"
ok "B: w2 is powered on again" put on "$B/instances/w2/power"
is "$(grep "^w2/eth0 " <(nics "$B"))" "$(grep "^w2/eth0 " "$VDC_TMP/a.nics")" "B: and has A's MAC and address"
ok "B: no MAC nor address twice at the end" distinct "$B"

# rsync makes instances/ before networks/ and each file by a rename.
vdc_start c
ok "rsync -a of A into a fresh C" rsync -a --exclude=run/ --exclude=/hosts/ "$A/" "$MNT_c/"
for n in w1/eth0 w1c/eth0 w3/eth0 w3/eth1; do
	is "$(grep "^$n " <(nics "$MNT_c"))" "$(grep "^$n " "$VDC_TMP/a.nics")" "C: $n (powered on) has A's MAC and address"
done
ok "C: no MAC nor address twice" distinct "$MNT_c"

done_testing
