# Snapshots' bytes (docs/storage.md, "Snapshots' bytes"), with a real
# storage host and no guest: volumes/V/snapshots/S/data and
# instances/I/snapshots/S/disk hold the snapshot's bytes (true size,
# holes by SEEK_HOLE), served by the snapshot's own target on the storage
# host (vdcfs's initiator alone in its ACL); they keep the old bytes after
# the volume or disk is overwritten; a tar of volumes/V with its snapshot
# extracted under a fresh volume name gives the same snapshot bytes, as
# does a tar of instances/I with its snapshot under a fresh name; bad
# opens and writes give the errno and a sentence in run/err.

VDC_WATCHDOG=$(( ${VDC_WATCHDOG:-0} > 300 ? VDC_WATCHDOG : 300 ))
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hosts.sh"
VDC_HVA_OPTIONAL=1
. "$(dirname "$0")/hva.sh"
. "$(dirname "$0")/sta.sh"
command -v python3 > /dev/null || skip_all "python3 is missing (SEEK_HOLE checks)"

vdc_start
V=$MNT/volumes/v1
S=$V/snapshots/s1

names() { timeout 10 ls -A "$1" | tr '\n' ' ' | sed 's/ $//'; }
sum_of() { timeout -k 2 60 sha256sum < "$1" | awk '{print $1}'; }
# SEEK_DATA/SEEK_HOLE of a file: "FIRST-HOLE DATA-AFTER-2M".
holes() {
	python3 - "$1" << 'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
try:
    print(os.lseek(fd, 0, os.SEEK_HOLE), os.lseek(fd, 2 << 20, os.SEEK_DATA))
except OSError as e:
    print("error", e)
PY
}

# ---- no storage host: a snapshot holds no bytes ----

ok "mkdir volumes/v0 and snapshots/s0 with no storage host" \
	sh -c "mkdir '$MNT/volumes/v0' && mkdir '$MNT/volumes/v0/snapshots/s0'"
is "$(names "$MNT/volumes/v0/snapshots/s0")" "ctl data run" "a snapshot holds ctl, data and run"
is "$(vdc_size "$MNT/volumes/v0/snapshots/s0/data")" 0 "its data is empty"
fails_with EAGAIN "writing it is EAGAIN" bash -c "echo x > '$MNT/volumes/v0/snapshots/s0/data'"
like "$(get "$MNT/volumes/v0/snapshots/s0/run/err")" "snapshot s0 of volume v0 is on no storage host" "... run/err says why"
ok "rmdir snapshots/s0 and volumes/v0" rmdir "$MNT/volumes/v0/snapshots/s0" "$MNT/volumes/v0"

if vdc_sta_host s 2; then
	pass "storage host s joins"
else
	fail "storage host s joins"
	vdc_sta_diag s
	echo "Bail out! no storage host"
	exit 1
fi
addr=$(vdc_host_addr s)

# ---- a volume's snapshot ----

pat=$VDC_TMP/pattern
head -c 1M /dev/urandom > "$VDC_TMP/a"
head -c 1M /dev/urandom > "$VDC_TMP/b"
truncate -s 16M "$pat"
dd if="$VDC_TMP/a" of="$pat" conv=notrunc bs=1M seek=0 status=none
dd if="$VDC_TMP/b" of="$pat" conv=notrunc bs=1M seek=8 status=none
sum_pat=$(sum_of "$pat")

ok "mkdir volumes/v1 of 16M" sh -c "mkdir '$V' && echo 16M > '$V/size'"
ok "v1 becomes available" vdc_wait_vol_state v1 available 30 || vdc_sta_diag s
ok "cp --sparse=always of a 16M pattern onto data" timeout -k 2 120 cp --sparse=always "$pat" "$V/data"
is "$(sum_of "$V/data")" "$sum_pat" "data reads back the pattern"
ok "mkdir snapshots/s1" mkdir "$S"
ok "snapshot s1 becomes available" vdc_wait 60 file_is "$S/run/state" available ||
	diag "s1: '$(get "$S/run/state")': $(get "$S/run/err")"
is "$(vdc_size "$S/data")" $((16 << 20)) "snapshots/s1/data is 16M, the volume's size"
is "$(sum_of "$S/data")" "$sum_pat" "... and holds the pattern"
ok "overwrite the first 1M of the volume's data" timeout -k 2 60 \
	dd if=/dev/urandom of="$V/data" bs=1M count=1 conv=notrunc,fsync status=none
isnt "$(sum_of "$V/data")" "$sum_pat" "the volume's data changed"
is "$(sum_of "$S/data")" "$sum_pat" "snapshots/s1/data still holds the old bytes"
like "$(holes "$S/data")" '^[0-9]+ [0-9]+$' "lseek SEEK_HOLE/SEEK_DATA on the snapshot's data work"
read -r hole next <<< "$(holes "$S/data")"
ok "the first hole is before 8M (at ${hole:-?})" test "${hole:-999999999}" -lt $((8 << 20))
ok "the data after it is found at or before 8M (at ${next:-?})" test "${next:-999999999}" -le $((8 << 20))
ok "cp --sparse=always out of the snapshot's data" timeout -k 2 60 cp --sparse=always "$S/data" "$VDC_TMP/out"
alloc=$(($(stat -c '%b * %B' "$VDC_TMP/out")))
ok "... as a sparse file ($((alloc >> 10))K allocated of 16M)" test "$alloc" -le $((6 << 20))

# Its own target: vdcfs's initiator alone.
vol_iqn=$(vdc_vol_iqn v1)
dc12=$(sed 's/^iqn\.2026-11\.org\.vdcfs:\([0-9a-f]*\):.*/\1/' <<< "$vol_iqn")
sid=$(vdc_sta_desired s | jq -r '.volumes[] | select(.name == "v1") | .snapshots[] | select(.name == "s1") | .id')
snap_iqn=iqn.2026-11.org.vdcfs:$dc12:snap-$sid
is "$(vdc_tgt_targets s | grep -cxF "$snap_iqn")" 1 "the storage host's tgtd has the snapshot's target $snap_iqn"
secret=$(vdc_vol_secret v1)
url="iscsi://snap-$sid%$secret@$addr:3260/$snap_iqn/1"
ok "vdcfs's initiator logs in to it with the volume's secret" iscsi-inq -i "iqn.2026-11.org.vdcfs:$dc12:control" "$url"
out=$(timeout 20 iscsi-inq -i "iqn.2026-11.org.vdcfs:$dc12:host-intruder" "$url" 2>&1)
isnt "$?" 0 "another initiator is refused"

# ---- bad requests ----

fails_with EINVAL "truncate of the snapshot's data to 8M: EINVAL" truncate -s 8M "$S/data"
like "$(get "$S/run/err")" "keep the size its volume had" "... run/err says why"
is "$(sum_of "$S/data")" "$sum_pat" "... and nothing changed"
fails_with ENOSPC "a write past its end: ENOSPC" \
	dd if=/dev/zero of="$S/data" bs=4096 seek=4096 count=1 conv=notrunc status=none
ok "echo clear > snapshots/s1/ctl" put clear "$S/ctl"

# ---- tar of the volume with its snapshot, extracted under a fresh name ----

sum_v1=$(sum_of "$V/data")
ok "tar --sparse of volumes/v1" timeout -k 2 120 tar --exclude-caches --sparse -C "$MNT" -cf "$VDC_TMP/v1.tar" volumes/v1
ok "tar -xf it as volumes/v9" timeout -k 2 180 tar -C "$MNT" --transform 's,^volumes/v1,volumes/v9,' -xf "$VDC_TMP/v1.tar" ||
	diag "v9: $(get "$MNT/volumes/v9/run/state") $(get "$MNT/volumes/v9/run/err"); s1: $(get "$MNT/volumes/v9/snapshots/s1/run/err")"
is "$(get "$MNT/volumes/v9/size")" 16M "v9 is 16M"
is "$(sum_of "$MNT/volumes/v9/data")" "$sum_v1" "v9/data is v1's"
is "$(vdc_size "$MNT/volumes/v9/snapshots/s1/data")" $((16 << 20)) "v9's snapshot s1 is 16M"
is "$(sum_of "$MNT/volumes/v9/snapshots/s1/data")" "$sum_pat" "... and holds the bytes of v1's s1"
is "$(sum_of "$S/data")" "$sum_pat" "v1's s1 is unchanged"

# ---- an instance's snapshot ----

I=$MNT/instances/i1
head -c 4M /dev/urandom > "$VDC_TMP/img"
ok "mkdir images/blob and import it" bash -c "mkdir '$MNT/images/blob' && cp '$VDC_TMP/img' '$MNT/images/blob/data'"
ok "mkdir instances/i1, link the image" bash -c "mkdir '$I' && ln -s ../../images/blob '$I/image'"
ok "the disk is placed on s" vdc_wait 20 file_is "$I/run/disk-host" s
ok "disk shows 4M once the storage host made it" vdc_wait 30 eval '[ "$(vdc_size "$I/disk")" = 4194304 ]'
ok "write 1M at 2M of the disk" timeout -k 2 30 dd if="$VDC_TMP/a" of="$I/disk" bs=1M seek=2 conv=notrunc,fsync status=none
sum_disk=$(sum_of "$I/disk")
ok "mkdir snapshots/monday" mkdir "$I/snapshots/monday"
ok "snapshot monday becomes available" vdc_wait 60 file_is "$I/snapshots/monday/run/state" available ||
	diag "monday: '$(get "$I/snapshots/monday/run/state")': $(get "$I/snapshots/monday/run/err")"
is "$(names "$I/snapshots/monday")" "ctl disk run" "it holds ctl, disk and run"
is "$(vdc_size "$I/snapshots/monday/disk")" 4194304 "snapshots/monday/disk is 4M"
ok "overwrite the disk's first 1M" timeout -k 2 30 dd if="$VDC_TMP/b" of="$I/disk" bs=1M conv=notrunc,fsync status=none
isnt "$(sum_of "$I/disk")" "$sum_disk" "the disk changed"
is "$(sum_of "$I/snapshots/monday/disk")" "$sum_disk" "snapshots/monday/disk still holds the old bytes"
like "$(holes "$I/snapshots/monday/disk")" '^[0-9]+ [0-9]+$' "lseek SEEK_HOLE/SEEK_DATA on it work"
sum_now=$(sum_of "$I/disk")
ok "tar --sparse of instances/i1" timeout -k 2 120 tar --exclude-caches --sparse -C "$MNT" -cf "$VDC_TMP/i1.tar" instances/i1
ok "tar -xf it as instances/i2" timeout -k 2 180 tar -C "$MNT" --transform 's,^instances/i1,instances/i2,' -xf "$VDC_TMP/i1.tar" ||
	diag "i2: $(get "$MNT/instances/i2/run/err"); monday: $(get "$MNT/instances/i2/snapshots/monday/run/err")"
is "$(sum_of "$MNT/instances/i2/disk")" "$sum_now" "i2/disk is i1's"
is "$(sum_of "$MNT/instances/i2/snapshots/monday/disk")" "$sum_disk" "i2's snapshot monday holds the bytes of i1's"
ok "rmdir instances/i2 and its snapshot" rmdir "$MNT/instances/i2/snapshots/monday" "$MNT/instances/i2"
ok "rmdir snapshots/monday" rmdir "$I/snapshots/monday"
ok "rmdir instances/i1" rmdir "$I"

# ---- removal ----

ok "rmdir snapshots/s1" rmdir "$S"
ok "the snapshot's target goes with it" vdc_wait 30 eval '[ -z "$(vdc_tgt_targets s | grep -xF "$snap_iqn")" ]'
ok "rmdir the volumes" sh -c "rmdir '$MNT/volumes/v9/snapshots/s1' '$MNT/volumes/v9' '$V'"
ok "no snapshot target is left" vdc_wait 30 eval '[ -z "$(vdc_tgt_targets s | grep ":snap-")" ]'

vdc_sta_stop s
disown -a
ok "host s goes down" vdc_host_down s
is "$(vdc_hosts_leftovers)" "" "nothing of the host is left"
vdc_stop
done_testing
