# An instance's root disk in the tree (docs/storage.md, "Instance disks"),
# no guest: without a storage host `disk` is empty and refuses bytes with
# a sentence; once a storage host has joined, linking an image places the
# disk there, made from the image (`disk` holds the image's bytes, then
# zeros up to disk-size); disk-size refuses bad values and shrinking and
# grows the disk; bytes written to `disk` while the instance is off are
# read back; the folder lists disk before power, so a tar of the
# instance restored elsewhere has its disk written before it starts;
# rmdir gives the storage host its room back.

VDC_WATCHDOG=$(( ${VDC_WATCHDOG:-0} > 300 ? VDC_WATCHDOG : 300 ))
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hosts.sh"
VDC_HVA_OPTIONAL=1
. "$(dirname "$0")/hva.sh"
. "$(dirname "$0")/sta.sh"

vdc_start
I=$MNT/instances/i1


# A raw image of 4M whose bytes are known (not a tarball, not qcow2).
head -c 4M /dev/urandom > "$VDC_TMP/img"
img_sum=$(sha256sum < "$VDC_TMP/img" | cut -d' ' -f1)
ok "mkdir images/blob and import it" bash -c "mkdir '$MNT/images/blob' && cp '$VDC_TMP/img' '$MNT/images/blob/data'"

# ---- no storage host ----

ok "mkdir instances/i0, link the image" bash -c "mkdir '$MNT/instances/i0' && ln -s ../../images/blob '$MNT/instances/i0/image'"
is "$(vdc_size "$MNT/instances/i0/disk")" 0 "without a storage host, disk is empty (size 0)"
is "$(get "$MNT/instances/i0/disk-size")" "" "disk-size is empty: the image's size"
fails_with EAGAIN "writing disk without a storage host: EAGAIN" \
	dd if="$VDC_TMP/img" of="$MNT/instances/i0/disk" bs=64k count=1 conv=notrunc status=none
like "$(get "$MNT/instances/i0/run/err")" "no disk on a storage host yet" "... run/err says why"
ok "rmdir instances/i0" rmdir "$MNT/instances/i0"

# ---- a storage host ----

if vdc_sta_host s 2; then
	pass "storage host s joins"
else
	fail "storage host s joins"
	vdc_sta_diag s
	echo "Bail out! no storage host"
	exit 1
fi

ok "mkdir instances/i1" mkdir "$I"
is "$(get "$I/run/disk-host")" "" "no image, no size: the disk is not placed"
ok "link the image" ln -s ../../images/blob "$I/image"
ok "the disk is placed on s" vdc_wait 20 file_is "$I/run/disk-host" s
is "$(get "$I/disk-size")" 4M "disk-size is written down as the image's size"
is "$(get "$MNT/hosts/s/run/disk-used")" 4M "hosts/s/run/disk-used counts the disk"
iqn=$(vdc_sta_desired s | jq -r '.volumes[] | select(.name == "i1") | .iqn')
like "$iqn" '^iqn\.2026-11\.org\.vdcfs:[0-9a-f]{12}:disk-[0-9]+$' "the storage host is told the disk's target ($iqn)"
is "$(vdc_sta_desired s | jq -r '.volumes[] | select(.name == "i1") | .image.name')" blob \
	"... and the image it is made from"
# vdcfs computes the checksum in a worker thread (seconds under valgrind); the next revision names it.
image_sum_is() { [ "$(vdc_sta_desired s | jq -r '.volumes[] | select(.name == "i1") | .image.sha256')" = "$img_sum" ]; }
ok "... with its checksum, once vdcfs has computed it" vdc_wait "$(( ${VDC_TIMEOUT:-10} > 30 ? VDC_TIMEOUT : 30 ))" image_sum_is

wait_disk() {
	local i
	for i in $(seq 1 100); do
		[ "$(vdc_size "$I/disk")" = "$1" ] && return 0
		sleep 0.2
	done
	return 1
}
ok "disk shows 4M once the storage host made it" wait_disk 4194304

# The storage host makes the disk from the image (vdc-sta, docs/vdc-sta.md).
disk_sum() { timeout -k 2 60 head -c "$1" "$I/disk" | sha256sum | cut -d' ' -f1; }
is "$(disk_sum 4194304)" "$img_sum" "disk holds the image's bytes"
is "$(vdc_tgt_targets s | grep -cxF "$iqn")" 1 "the host's tgtd has the disk's target"

# ---- disk-size ----

for bad in abc 0 -1 1.5G 17T 2M; do
	fails_with EINVAL "echo $bad > disk-size: EINVAL" put "$bad" "$I/disk-size"
	is "$(get "$I/disk-size")" 4M "... disk-size stays 4M"
done
like "$(get "$I/run/err")" "smaller than image blob" "run/err names the image a disk-size below it would cut"
fails_with EINVAL "emptying disk-size of a made disk: EINVAL" put "" "$I/disk-size"
ok "echo 8M > disk-size grows it" put 8M "$I/disk-size"
ok "disk shows 8M" wait_disk 8388608
is "$(get "$MNT/hosts/s/run/disk-used")" 8M "disk-used follows"
is "$(disk_sum 4194304)" "$img_sum" "the image's bytes are still there after the grow"
fails_with EINVAL "echo 6M > disk-size (shrink): EINVAL" put 6M "$I/disk-size"
like "$(get "$I/run/err")" "disks only grow" "... run/err says disks only grow"
is "$(timeout 30 dd if="$I/disk" bs=1M skip=4 count=4 status=none | tr -d '\0' | wc -c)" 0 \
	"the grown part reads as zeros"

# ---- migrate without a hypervisor ----

fails_with EINVAL "migrate of an instance on no host: EINVAL" put migrate "$I/ctl"
like "$(get "$I/run/err")" "on no host" "... run/err says why"
fails_with EINVAL "migrate with a name too long: EINVAL" put "migrate $(printf 'h%.0s' $(seq 1 80))" "$I/ctl"

# ---- bytes through disk ----

marker=vdc-disk-marker-$RANDOM$RANDOM
printf '%s' "$marker" | dd of="$VDC_TMP/marker" bs=4096 conv=sync status=none
ok "write a marker at 6M while the instance is off" timeout -k 2 30 \
	dd if="$VDC_TMP/marker" of="$I/disk" bs=4096 seek=1536 conv=notrunc,fsync status=none
is "$(timeout 30 dd if="$I/disk" bs=4096 skip=1536 count=1 status=none | tr -d '\0')" "$marker" "the marker reads back"
ok "power on without a hypervisor" put on "$I/power"
fails_with EBUSY "writing disk of an instance that is on: EBUSY" \
	dd if="$VDC_TMP/marker" of="$I/disk" bs=4096 seek=1 conv=notrunc status=none
like "$(get "$I/run/err")" "written only while it is off" "... run/err says why"
ok "reading disk of an instance that is on works" timeout 30 dd if="$I/disk" of=/dev/null bs=1M count=1 status=none
ok "power off" put off "$I/power"

# ---- a clone: cp -r ----

ok "cp -r instances/i1 instances/i2" timeout -k 2 120 cp -r "$I" "$MNT/instances/i2"
is "$(get "$MNT/instances/i2/run/disk-host")" s "i2's disk is on s"
is "$(get "$MNT/instances/i2/disk-size")" 8M "i2's disk-size is i1's"
is "$(timeout -k 2 60 sha256sum < "$MNT/instances/i2/disk" | cut -d' ' -f1)" \
	"$(timeout -k 2 60 sha256sum < "$I/disk" | cut -d' ' -f1)" "i2's disk holds i1's bytes (marker included)"
ok "rmdir instances/i2" rmdir "$MNT/instances/i2"

# ---- kill -9 of vdcfs: the disk is where it was ----

sum_before=$(disk_sum 8388608)
vdc_join_read
{ vdc_kill9; } 2> /dev/null
nok "kill -9 vdcfs: it is gone" mountpoint -q "$MNT"
# The same address and port, so the agent finds it again (as 92-hva-faults.t).
VDC_LISTEN=$JOIN_SERVER
ok "mount the same state again" vdc_restart
ok "s reports again" vdc_wait 30 file_is "$MNT/hosts/s/run/state" up
is "$(get "$I/run/disk-host")" s "run/disk-host is still s"
is "$(get "$I/disk-size")" 8M "disk-size is still 8M"
ok "disk shows 8M" wait_disk 8388608
is "$(disk_sum 8388608)" "$sum_before" "the disk's bytes are the same"
is "$(vdc_tgt_targets s | grep -cxF "$iqn")" 1 "one target for the disk, as before"
is "$(get "$MNT/hosts/s/run/disk-used")" 8M "disk-used counts it once"

# ---- the order tar meets the files in ----

order=$(cd "$I" && ls -f | grep -nxE 'image|disk-size|disk|power' | cut -d: -f2 | tr '\n' ' ')
is "$order" "image disk-size disk power " "the folder lists image, disk-size, disk, then power"

# ---- a tar of the instance, restored under another name ----

sum8=$(disk_sum 8388608)
ok "tar of instances/i1" timeout -k 2 120 tar --sparse -C "$MNT" -cf "$VDC_TMP/i1.tar" instances/i1
ok "rmdir instances/i1" rmdir "$I"
ok "the storage host lets the disk go" vdc_wait 30 file_is "$MNT/hosts/s/run/disk-used" 0M
is "$(vdc_tgt_targets s | grep -cxF "$iqn")" 0 "... and removes its target"
ok "tar x puts it back" timeout -k 2 180 tar -C "$MNT" -xf "$VDC_TMP/i1.tar"
ok "the restored disk is placed on s" vdc_wait 20 file_is "$I/run/disk-host" s
is "$(get "$I/disk-size")" 8M "disk-size 8M is restored"
ok "disk shows 8M" wait_disk 8388608
is "$(disk_sum 8388608)" "$sum8" "the restored disk's bytes are the saved ones (marker included)"
is "$(timeout 30 dd if="$I/disk" bs=4096 skip=1536 count=1 status=none | tr -d '\0')" "$marker" "the marker is there"
ok "rmdir instances/i1" rmdir "$I"
ok "disk-used back to 0M" vdc_wait 30 file_is "$MNT/hosts/s/run/disk-used" 0M

done_testing
