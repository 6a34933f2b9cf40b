# The whole data center moves (issue 13, item 5): data center A (one
# mount, hypervisor a1, storage host sa) holds an image, a network, a
# security group, an ssh key, a volume v1 with known bytes and a snapshot,
# and an instance w1 running with its disk on sa and v1 attached, and an
# instance snapshot. The guest keeps a boot counter and a marker on its own
# disk and prints them at each boot (as 99b-disk-guest.t), and prints the
# first line of the volume it finds (serial vdc-vol-*, as 97-sta-attach.t),
# its MAC and its key.
#
# tar --exclude-caches --sparse of A while w1 runs exits 0, and holds w1's
# power after all else of w1. Data center B (a fresh state, hypervisor b1
# with other memory, storage host sb) gets tar x: every object, link and
# byte is there (the sha256 of every disk and data equals the tar's), and
# w1 comes up on b1 from its disk: boot counter incremented, A's marker,
# the volume's bytes, its key, the same address and the same MAC (a nic's
# mac and auto-ip go with the tree: docs/networks.md). A tar x into a
# third data center C (storage host sc) killed midway and run again exits
# 0 with the same tree and bytes.

VDC_WATCHDOG=$(( ${VDC_WATCHDOG:-0} > 600 ? VDC_WATCHDOG : 600 ))
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hosts.sh"
. "$(dirname "$0")/hva.sh"
. "$(dirname "$0")/sta.sh"
command -v nft > /dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin
# A network when the machine can run one (98-hva-networks.t); else the nic
# is qemu's user-mode network, which still has a MAC.
NET=1
command -v nft > /dev/null && command -v dnsmasq > /dev/null &&
	[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] || NET=0

vdc_start a
vdc_start b
vdc_start c
A=$MNT_a
B=$MNT_b
C=$MNT_c
names() { timeout -k 2 "$VDC_TIMEOUT" ls "$1" 2> /dev/null | tr '\n' ' ' | sed 's/ $//'; }

# ---- data center A ----

MNT=$A
ok "A: the test image is imported" vdc_import_tiny
if vdc_hva_host a1 1 --memory 512M && vdc_sta_host sa 2; then
	pass "A: hypervisor a1 and storage host sa join"
else
	fail "A: hypervisor a1 and storage host sa join"
	vdc_hva_diag a1
	vdc_sta_diag sa
	echo "Bail out! no hosts in A"
	exit 1
fi
ok "A: a1 reaches sa's portal" vdc_hosts_connect a1 sa

# A has a history: an instance and a volume made and removed, so its
# objects' ids are not those a fresh data center gives in the same order.
ok "A: an instance and a volume made and removed before" bash -c \
	"mkdir '$A/instances/old' '$A/volumes/old' && rmdir '$A/instances/old' '$A/volumes/old'"
if [ "$NET" = 1 ]; then
	ok "A: network net1 192.0.2.0/24" bash -c "mkdir '$A/networks/net1' && echo 192.0.2.0/24 > '$A/networks/net1/cidr'"
fi
ok "A: security group web, ssh key k" bash -c "mkdir '$A/security-groups/web' '$A/ssh-keys/k' &&
	printf 'in tcp 22 sg:web\nin icmp - 192.0.2.0/24\n' > '$A/security-groups/web/rules'"
key='ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl me@x'
ok "A: the key's public-key" put "$key" "$A/ssh-keys/k/public-key"

V=$A/volumes/v1
ok "A: volume v1 of 64M" bash -c "mkdir '$V' && echo 64M > '$V/size'"
ok "A: v1 is available" vdc_wait_vol_state v1 available 30 || vdc_sta_diag sa
pattern=vdc-pattern-$RANDOM$RANDOM
printf '%s\n' "$pattern" | dd of="$VDC_TMP/block" bs=512 conv=sync status=none
ok "A: v1's first block is the pattern" timeout -k 2 30 \
	dd if="$VDC_TMP/block" of="$V/data" bs=512 count=1 conv=notrunc,fsync status=none
ok "A: volume snapshot v1/snapshots/s1" mkdir "$V/snapshots/s1"
ok "A: s1 becomes available" vdc_wait 60 file_is "$V/snapshots/s1/run/state" available

I=$A/instances/w1
ok "A: mkdir w1, link the image" vdc_instance w1
img_m=$(get "$I/disk-size" | tr -d M)
like "$img_m" '^[0-9]+$' "A: disk-size is the image's size (${img_m}M)"
ok "A: grow the disk by 16M (room for the markers)" put "$((img_m + 16))M" "$I/disk-size"
ok "A: nic eth0" mkdir "$I/nics/eth0"
if [ "$NET" = 1 ]; then
	ok "A: ... on net1" ln -s ../../../../networks/net1 "$I/nics/eth0/network"
fi
ok "A: w1 links group web and key k" bash -c "ln -s ../../../security-groups/web '$I/security-groups/web' &&
	ln -s ../../../ssh-keys/k '$I/ssh-keys/k'"
ok "A: w1 links v1 (instances/w1/volumes/data)" ln -s ../../../volumes/v1 "$I/volumes/data"

# Blocks of 4 KiB past the image: the boot counter and the guest's marker.
b_count=$(((img_m + 1) * 256))
b_guest=$((b_count + 256))
gmark=vdc-guest-mark-$RANDOM$RANDOM
# The ids (serials vdc-disk-ID, vdc-vol-ID) differ in B: the guest finds
# its disks by the serials' prefixes. It waits for the volume, which a tar
# x may link after the server starts.
sed -e "s/@COUNT@/$b_count/g; s/@GUEST@/$b_guest/g; s/@GMARK@/$gmark/g" > "$VDC_TMP/user-data" << 'EOF'
#!/bin/sh
dev=
for s in /sys/block/vd*/serial; do
	case "$(cat "$s" 2> /dev/null)" in vdc-disk-*) dev=${s%/serial}; dev=/dev/${dev#/sys/block/} ;; esac
done
[ -n "$dev" ] || { echo "vdc-test: no disk vdc-disk-*"; exit 1; }
rd() { dd if=$dev bs=4096 skip=$1 count=1 2> /dev/null | tr -dc 'a-z0-9-'; }
n=$(rd @COUNT@)
n=$((${n:-0} + 1))
printf '%s' "$n" | dd of=$dev bs=4096 seek=@COUNT@ conv=sync,fsync 2> /dev/null
echo "vdc-test: boot $n guest [$(rd @GUEST@)] on $dev"
printf '%s' "@GMARK@" | dd of=$dev bs=4096 seek=@GUEST@ conv=sync,fsync 2> /dev/null
sync
echo "vdc-test: mac [$(cat /sys/class/net/eth0/address 2> /dev/null)]"
(
	i=0
	while [ $i -lt 120 ]; do
		for s in /sys/block/vd*/serial; do
			case "$(cat "$s" 2> /dev/null)" in vdc-vol-*)
				v=${s%/serial}
				echo "vdc-test: volume [$(dd if=/dev/${v#/sys/block/} bs=512 count=1 2> /dev/null | head -n 1)]"
				exit 0 ;;
			esac
		done
		i=$((i + 1))
		sleep 1
	done
	echo "vdc-test: no volume"
) > /dev/console 2>&1 &
EOF
ok "A: user-data" putb "$I/user-data" < "$VDC_TMP/user-data"

# console MOUNT LINE: w1's console in that data center has LINE.
# (A line of the guest's may follow busybox's prompt on the same line.)
console() {
	get "$1/instances/w1/run/console" | tr -d '\r' |
		awk -v w="$2" 'substr($0, length($0) - length(w) + 1) == w { f = 1 } END { exit !f }'
}
console_diag() { diag "console: $(get "$1/instances/w1/run/console" | tr -d '\r' | grep 'vdc-' | tail -n 10)"; }

ok "A: power on" put on "$I/power"
ok "A: w1 runs on a1" vdc_wait_state w1 running 120 || vdc_hva_diag a1
is "$(get "$I/run/disk-host")" sa "A: its disk is on sa"
ok "A: first boot, the disk holds no marker" vdc_wait 90 console "$A" "vdc-test: boot 1 guest [] on /dev/vda" ||
	console_diag "$A"
ok "A: the guest reads v1's pattern" vdc_wait 60 console "$A" "vdc-test: volume [$pattern]" || console_diag "$A"
ok "A: the guest has key k" vdc_wait 10 console "$A" "vdc-guest: ssh-key $key"
mac_a=$(get "$I/nics/eth0/run/mac")
like "$mac_a" '^52:54:00(:[0-9a-f]{2}){3}$' "A: eth0's MAC ($mac_a)"
ok "A: the guest's eth0 has it" vdc_wait 10 console "$A" "vdc-test: mac [$mac_a]"
if [ "$NET" = 1 ]; then
	ip_a=$(get "$I/run/ip")
	like "$ip_a" '^192\.0\.2\.[0-9]+$' "A: w1's address ($ip_a)"
	ok "A: the guest gets it by DHCP" vdc_wait 60 console "$A" "vdc-guest: ip $ip_a/24 on eth0" || console_diag "$A"
fi
ok "A: instance snapshot w1/snapshots/monday while w1 runs" mkdir "$I/snapshots/monday"
ok "A: monday becomes available" vdc_wait 60 file_is "$I/snapshots/monday/run/state" available

# ---- the export ----

out=$(timeout -k 2 300 tar --exclude-caches --sparse -C "$A" -cf "$VDC_TMP/dc.tar" . 2>&1)
is "$?" 0 "tar c of A while w1 runs exits 0${out:+ ($out)}"
is "$(get "$I/run/state")" running "A: w1 runs on"
mkdir "$VDC_TMP/x"
ok "the archive extracts into a local folder" tar -C "$VDC_TMP/x" -xf "$VDC_TMP/dc.tar"
ok "the archive holds w1's disk, v1's data and the image's" \
	test -s "$VDC_TMP/x/instances/w1/disk" -a -s "$VDC_TMP/x/volumes/v1/data" -a -s "$VDC_TMP/x/images/tiny/data"

# tree_of DIR: every file's sha256 and every link's target, run/ and hosts/
# left out (the hardware and the live state are each data center's own).
tree_of() {
	(cd "$1" && find . \( -path '*/run' -o -path ./hosts \) -prune -o -type f -print0 |
		sort -z | xargs -0 sha256sum 2> /dev/null
	find . \( -path '*/run' -o -path ./hosts \) -prune -o -type l -printf '%p -> %l\n' | sort)
}
# listing_of DIR: every path, run/ and hosts/ left out.
listing_of() {
	(cd "$1" && find . \( -path '*/run' -o -path ./hosts \) -prune -o -print | sort)
}
# tar x writes in the archive's order: w1's power must come after all else
# of w1 (disk, nics, links), so the server starts whole on B.
is "$(tar -tf "$VDC_TMP/dc.tar" | grep '^\./instances/w1/' | tail -n 1)" ./instances/w1/power \
	"the archive holds w1's power after everything else of w1"
is "$(cat "$VDC_TMP/x/instances/w1/power")" on "the archive has w1 on"
listing_of "$VDC_TMP/x" > "$VDC_TMP/x.list"
listing_of "$A" > "$VDC_TMP/a.list"
ok "the archive holds every object, file and link of A ($(wc -l < "$VDC_TMP/a.list") paths)" \
	diff "$VDC_TMP/a.list" "$VDC_TMP/x.list"

# ---- data center B ----

MNT=$B
if vdc_hva_host b1 3 --memory 1024M && vdc_sta_host sb 4; then
	pass "B: hypervisor b1 and storage host sb join"
else
	fail "B: hypervisor b1 and storage host sb join"
	vdc_hva_diag b1
	vdc_sta_diag sb
	echo "Bail out! no hosts in B"
	exit 1
fi
ok "B: b1 reaches sb's portal" vdc_hosts_connect b1 sb
is "$(get "$B/hosts/b1/run/memory")" 1024M "B: b1 offers 1024M (a1 512M)"

out=$(timeout -k 2 300 tar -C "$B" -xf "$VDC_TMP/dc.tar" 2>&1)
is "$?" 0 "tar x into B exits 0${out:+ ($out)}"
listing_of "$B" > "$VDC_TMP/b.list"
ok "B holds every object, file and link of the archive" diff "$VDC_TMP/x.list" "$VDC_TMP/b.list"
tree_of "$VDC_TMP/x" | grep -v ' \./instances/w1/disk$' > "$VDC_TMP/x.tree"
tree_of "$B" | grep -v ' \./instances/w1/disk$' > "$VDC_TMP/b.tree"
ok "B: every file but the disk has the archive's bytes, every link its target ($(wc -l < "$VDC_TMP/x.tree") lines)" \
	diff "$VDC_TMP/x.tree" "$VDC_TMP/b.tree"
for f in images/tiny/data volumes/v1/data; do
	is "$(sha256sum < "$B/$f")" "$(sha256sum < "$VDC_TMP/x/$f")" "B: sha256 of $f is the archive's"
done

MNT=$B
I=$B/instances/w1
ok "B: w1 runs" vdc_wait_state w1 running 180 || { vdc_hva_diag b1; vdc_sta_diag sb; }
is "$(get "$I/run/host")" b1 "B: on b1"
is "$(get "$I/run/disk-host")" sb "B: its disk is on sb"
ok "B: second boot, from the disk it had in A: counter 2, A's marker" \
	vdc_wait 90 console "$B" "vdc-test: boot 2 guest [$gmark] on /dev/vda" || console_diag "$B"
ok "B: the guest reads v1's pattern" vdc_wait 60 console "$B" "vdc-test: volume [$pattern]" || console_diag "$B"
ok "B: the guest has key k" vdc_wait 10 console "$B" "vdc-guest: ssh-key $key"
mac_b=$(get "$I/nics/eth0/run/mac")
is "$mac_b" "$mac_a" "B: eth0 keeps its MAC"
ok "B: the guest's eth0 has the MAC B shows ($mac_b)" vdc_wait 10 console "$B" "vdc-test: mac [$mac_b]" || console_diag "$B"
if [ "$NET" = 1 ]; then
	is "$(get "$I/run/ip")" "$ip_a" "B: w1 keeps its address"
	ok "B: the guest gets it by DHCP" vdc_wait 60 console "$B" "vdc-guest: ip $ip_a/24 on eth0" || console_diag "$B"
fi
is "$(get "$B/volumes/v1/run/state")" attached "B: v1 is attached"
ok "B: the volume snapshot becomes available" vdc_wait 60 file_is "$B/volumes/v1/snapshots/s1/run/state" available
ok "B: the instance snapshot becomes available" vdc_wait 60 file_is "$I/snapshots/monday/run/state" available

# The disk's bytes: the guest in B has written its counter (2) since;
# power off, then the disk is the archive's with that one block changed.
ok "B: power off" put off "$I/power"
ok "B: w1 stops" vdc_wait_state w1 stopped 90
cp --sparse=always "$VDC_TMP/x/instances/w1/disk" "$VDC_TMP/disk.want"
printf 2 | dd of="$VDC_TMP/disk.want" bs=4096 seek="$b_count" conv=sync,notrunc status=none
timeout -k 2 120 cp --sparse=always "$I/disk" "$VDC_TMP/disk.b"
is "$(sha256sum < "$VDC_TMP/disk.b")" "$(sha256sum < "$VDC_TMP/disk.want")" \
	"B: sha256 of instances/w1/disk is the archive's (with the counter the guest wrote in B)" ||
	diag "blocks of 4 KiB that differ (count, block):" \
		"$(cmp -l "$VDC_TMP/disk.want" "$VDC_TMP/disk.b" | awk '{print int(($1 - 1) / 4096)}' | uniq -c | head -n 10)" \
		"the counter block holds [$(dd if="$VDC_TMP/disk.b" bs=4096 skip="$b_count" count=1 status=none | tr -d '\0')]" \
		"read again: [$(timeout 30 dd if="$I/disk" bs=4096 skip="$b_count" count=1 status=none | tr -d '\0')]" \
		"$(get "$I/run/console" | tr -d '\r' | grep 'vdc-test: boot')"

# ---- data center C: a tar x killed midway and run again ----

MNT=$C
if vdc_sta_host sc 5; then
	pass "C: storage host sc joins"
else
	fail "C: storage host sc joins"
	vdc_sta_diag sc
	echo "Bail out! no host in C"
	exit 1
fi
tar -C "$C" -xf "$VDC_TMP/dc.tar" &
T=$!
# Killed once it has written w1's disk-size: at w1's disk, whose open
# waits for sc to make it from the image, or its bytes.
vdc_wait 120 file_is "$C/instances/w1/disk-size" "$((img_m + 16))M"
sleep 0.5
kill -9 "$T" 2> /dev/null
wait "$T" 2> /dev/null
is "$(get "$C/instances/w1/power")" off "C: the killed tar x did not get to w1's power"
out=$(timeout -k 2 300 tar -C "$C" -xf "$VDC_TMP/dc.tar" 2>&1)
is "$?" 0 "C: tar x run again exits 0${out:+ ($out)}"
listing_of "$C" > "$VDC_TMP/c.list"
ok "C holds every object, file and link of the archive" diff "$VDC_TMP/x.list" "$VDC_TMP/c.list"
tree_of "$C" > "$VDC_TMP/c.tree"
tree_of "$VDC_TMP/x" > "$VDC_TMP/x.tree"
ok "C: every file (the disk too) has the archive's bytes, every link its target" \
	diff "$VDC_TMP/x.tree" "$VDC_TMP/c.tree"
is "$(get "$C/instances/w1/run/disk-host")" sc "C: w1's disk is on sc"
is "$(get "$C/instances/w1/run/state")" unschedulable "C: w1, on, waits for a hypervisor"

MNT=$B
vdc_hva_stop b1
vdc_sta_stop sb
MNT=$A
ok "A: power off" put off "$A/instances/w1/power"
ok "A: w1 stops" vdc_wait_state w1 stopped 90
vdc_hva_stop a1
vdc_sta_stop sa
vdc_sta_stop sc
done_testing
