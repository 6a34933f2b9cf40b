# Clones by copy_file_range (docs/storage.md, "Clones"), with a real
# storage host whose state folder is on an XFS file system with reflinks
# (a loop-mounted file) and no guest: `cat volumes/v1/data >
# volumes/v2/data` (one copy_file_range for the whole file), a copy per
# data extent as cp from coreutils 9.2 on makes it (SEEK_DATA, then
# copy_file_range of each extent), and `cp -r instances/a instances/b`
# reach vdcfs as copy_file_range, and the storage host makes the
# destination's LUN a clone of the source's (FICLONE: its log says so,
# the file's extents are shared) instead of vdcfs copying every byte; the
# bytes are equal. (cp of coreutils 9.1, Debian 12's, reads and writes a
# file that looks sparse, as every disk and data does: there `cp -r`
# copies the bytes, and the test says so instead of looking for a clone.)
# What cannot be cloned falls back to a byte copy with the same result:
# another range than the same one, a destination written before, a volume
# of another size, a source on another storage host, the disk of an
# instance that is on. Skips without mkfs.xfs.

VDC_WATCHDOG=$(( ${VDC_WATCHDOG:-0} > 300 ? VDC_WATCHDOG : 300 ))
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hosts.sh"
VDC_HVA_OPTIONAL=1
. "$(dirname "$0")/hva.sh"
. "$(dirname "$0")/sta.sh"
command -v mkfs.xfs > /dev/null || skip_all "mkfs.xfs is missing (Debian: xfsprogs)"
command -v python3 > /dev/null || skip_all "python3 is missing (copy_file_range calls)"
command -v jq > /dev/null || skip_all "jq is missing"

# Host s keeps its state on XFS; any other host where sta.sh puts it.
LOOP=
_xfs_down() {
	mountpoint -q "$VDC_TMP/xfs" && umount "$VDC_TMP/xfs"
	[ -n "$LOOP" ] && losetup -d "$LOOP" 2> /dev/null
	LOOP=
}
VDC_CLEANUP_HOOKS="${VDC_CLEANUP_HOOKS:-} _xfs_down"
truncate -s 16G "$VDC_TMP/xfs.img" && LOOP=$(losetup -f --show "$VDC_TMP/xfs.img") &&
	mkfs.xfs -q -m reflink=1 "$LOOP" && mkdir -p "$VDC_TMP/xfs" && mount "$LOOP" "$VDC_TMP/xfs" ||
	skip_all "cannot mount an XFS file system in a loop-mounted file"
vdc_sta_state() {
	if [ "$1" = s ]; then echo "$VDC_TMP/xfs/sta"; else echo "$(vdc_host_dir "$1")/sta"; fi
}

vdc_start
W=$(( ${VDC_TIMEOUT:-10} * 3 > 30 ? ${VDC_TIMEOUT:-10} * 3 : 30 ))
sum_of() { timeout -k 2 60 sha256sum < "$1" | awk '{print $1}'; }
# sha256 of LEN bytes of FILE at OFF (whole MiB).
sum_range() { timeout -k 2 60 dd if="$1" bs=1M skip="$2" count="$3" status=none | sha256sum | awk '{print $1}'; }
LOG=$VDC_TMP/sta-s.log
clones_into() { grep -c "volume $1: cloned from volume " "$LOG"; }
# copy_file_range SRC DST LEN OFF_IN OFF_OUT [WRITE_FIRST]: as cp does it, in a loop, on a destination opened with O_TRUNC.
cfr() {
	timeout -k 2 120 python3 - "$@" << 'PY'
import os, sys
src, dst, n, oi, oo = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
s = os.open(src, os.O_RDONLY)
d = os.open(dst, os.O_WRONLY | os.O_TRUNC)
if len(sys.argv) > 6:
    os.pwrite(d, b"x" * 4096, 4 << 20)
done = 0
while done < n:
    r = os.copy_file_range(s, d, n - done, oi + done, oo + done)
    if r <= 0:
        sys.exit("copy_file_range returned %d" % r)
    done += r
os.close(d)
PY
}
# cp92 SRC DST: a copy as cp of coreutils 9.2 on makes it: the destination
# opened with O_TRUNC, then for each data extent of the source (SEEK_DATA,
# SEEK_HOLE) copy_file_range at the files' positions.
cp92() {
	timeout -k 2 120 python3 - "$@" << 'PY'
import os, sys
s = os.open(sys.argv[1], os.O_RDONLY)
d = os.open(sys.argv[2], os.O_WRONLY | os.O_TRUNC)
end = os.lseek(s, 0, os.SEEK_END)
at, calls = 0, 0
while at < end:
    try:
        at = os.lseek(s, at, os.SEEK_DATA)
    except OSError:
        break
    hole = os.lseek(s, at, os.SEEK_HOLE)
    os.lseek(s, at, os.SEEK_SET)
    os.lseek(d, at, os.SEEK_SET)
    while at < hole:
        r = os.copy_file_range(s, d, hole - at)
        if r <= 0:
            sys.exit("copy_file_range returned %d" % r)
        at += r
        calls += 1
os.close(d)
print(calls)
PY
}

if vdc_sta_host s 2; then
	pass "storage host s (state on XFS) joins"
else
	fail "storage host s (state on XFS) joins"
	vdc_sta_diag s
	echo "Bail out! no storage host"
	exit 1
fi
S=$(vdc_sta_state s)

# ---- a volume's data ----

pat=$VDC_TMP/pattern
truncate -s 16M "$pat"
head -c 1M /dev/urandom | dd of="$pat" conv=notrunc bs=1M seek=0 status=none
head -c 1M /dev/urandom | dd of="$pat" conv=notrunc bs=1M seek=8 status=none
sum_pat=$(sum_of "$pat")
V1=$MNT/volumes/v1
V2=$MNT/volumes/v2
ok "mkdir volumes/v1 and v2 of 16M" sh -c "mkdir '$V1' '$V2' && echo 16M > '$V1/size' && echo 16M > '$V2/size'"
ok "v1 becomes available" vdc_wait_vol_state v1 available "$W" || vdc_sta_diag s
ok "v2 becomes available" vdc_wait_vol_state v2 available "$W" || vdc_sta_diag s
ok "cp --sparse=always of a 16M pattern onto v1/data" timeout -k 2 120 cp --sparse=always "$pat" "$V1/data"
is "$(sum_of "$V1/data")" "$sum_pat" "v1/data holds the pattern"
id1=$(vdc_vol_id v1)
id2=$(vdc_vol_id v2)
ok "read v2/data once (the kernel caches its pages)" sh -c "timeout -k 2 60 cat '$V2/data' > /dev/null"

ok "cat volumes/v1/data > volumes/v2/data" sh -c "timeout -k 2 120 cat '$V1/data' > '$V2/data'"
is "$(sum_of "$V2/data")" "$sum_pat" "v2/data holds v1's bytes"
ok "the storage host cloned it by sharing extents (its log)" \
	grep -q "volume $id2: cloned from volume v1 ($id1), restore 1, by sharing extents (FICLONE)" "$LOG"
ok "v2's file shares its extents with v1's (filefrag)" \
	sh -c "filefrag -v '$S/volumes/$id2.img' | grep -q shared"
is "$(get "$V2/run/err")" "" "v2's run/err is empty"
is "$(get "$V2/run/state")" available "v2 is available"
like "$(get "$V2/run/events")" "restore 1: a clone of volume v1 asked for" "run/events of v2 tells of the clone"

ok "overwrite v2's first 1M" timeout -k 2 60 dd if=/dev/urandom of="$V2/data" bs=1M count=1 conv=notrunc,fsync status=none
isnt "$(sum_of "$V2/data")" "$sum_pat" "v2 changed"
is "$(sum_of "$V1/data")" "$sum_pat" "v1 did not"
ok "read v2/data (the kernel caches its pages)" sh -c "timeout -k 2 60 cat '$V2/data' > /dev/null"
calls=$(cp92 "$V1/data" "$V2/data")
is "$calls" 2 "a copy per extent (as cp 9.2) makes 2 copy_file_range calls"
is "$(sum_of "$V2/data")" "$sum_pat" "v2/data is v1's again (no stale page)"
is "$(clones_into "$id2")" 2 "... by one more clone (the second call finds the bytes equal)"

# ---- a clone over 4G: answered in parts (a reply counts at most 4G - 4K) ----

B1=$MNT/volumes/big1
B2=$MNT/volumes/big2
ok "mkdir volumes/big1 and big2 of 5G" sh -c "mkdir '$B1' '$B2' && echo 5G > '$B1/size' && echo 5G > '$B2/size'"
ok "big1 becomes available" vdc_wait_vol_state big1 available "$W" || vdc_sta_diag s
ok "big2 becomes available" vdc_wait_vol_state big2 available "$W" || vdc_sta_diag s
# 1M of the pattern at 0, across 4G (4G - 512K) and at the last 1M.
for at in 0 4095.5 5119; do
	ok "write 1M at ${at}M of big1" timeout -k 2 60 python3 -c "
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
os.pwrite(fd, open(sys.argv[2], 'rb').read(1 << 20), int(float(sys.argv[3]) * (1 << 20)))
os.fsync(fd)" "$B1/data" "$pat" "$at"
done
ok "cat volumes/big1/data > volumes/big2/data" sh -c "timeout -k 2 120 cat '$B1/data' > '$B2/data'"
for at in 0 4095.5 5119; do
	is "$(timeout -k 2 60 python3 -c "
import hashlib, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
print(hashlib.sha256(os.pread(fd, 1 << 20, int(float(sys.argv[2]) * (1 << 20)))).hexdigest())" "$B2/data" "$at")" \
		"$(sum_range "$pat" 0 1)" "big2 holds the 1M at ${at}M"
done
is "$(vdc_size "$B2/data")" $((5 << 30)) "big2/data is 5G"
is "$(clones_into "$(vdc_vol_id big2)")" 1 "... cloned once"
ok "rmdir volumes/big1 and big2" rmdir "$B1" "$B2"

# ---- what falls back to a byte copy ----

ok "copy_file_range of v1's first 1M to 1M of v2 (another range)" cfr "$V1/data" "$V2/data" $((1 << 20)) 0 $((1 << 20))
is "$(sum_range "$V2/data" 1 1)" "$(sum_range "$V1/data" 0 1)" "v2's second 1M is v1's first"
is "$(sum_range "$V2/data" 0 1)" "$(sum_range /dev/zero 0 1)" "v2's first 1M is zeros (O_TRUNC)"
is "$(clones_into "$id2")" 2 "... copied byte by byte, no clone"

ok "copy_file_range of all of v1 after a write on the same open" cfr "$V1/data" "$V2/data" $((16 << 20)) 0 0 write
is "$(sum_of "$V2/data")" "$sum_pat" "v2/data is v1's"
is "$(clones_into "$id2")" 2 "... copied byte by byte, no clone"

V3=$MNT/volumes/v3
ok "mkdir volumes/v3 of 32M" sh -c "mkdir '$V3' && echo 32M > '$V3/size'"
ok "v3 becomes available" vdc_wait_vol_state v3 available "$W"
id3=$(vdc_vol_id v3)
ok "copy_file_range of v1's 16M onto v3 (another size)" cfr "$V1/data" "$V3/data" $((16 << 20)) 0 0
is "$(sum_range "$V3/data" 0 16)" "$sum_pat" "v3's first 16M are v1's"
is "$(clones_into "$id3")" 0 "... copied byte by byte, no clone"

# ---- an instance: cp -r ----

head -c 4M /dev/urandom > "$VDC_TMP/img"
A=$MNT/instances/a
ok "mkdir images/blob and import it" bash -c "mkdir '$MNT/images/blob' && cp '$VDC_TMP/img' '$MNT/images/blob/data'"
ok "mkdir instances/a, link the image" bash -c "mkdir '$A' && ln -s ../../images/blob '$A/image'"
ok "a's disk is placed on s" vdc_wait 20 file_is "$A/run/disk-host" s
ok "a's disk shows 4M once the storage host made it" vdc_wait "$W" eval '[ "$(vdc_size "$A/disk")" = 4194304 ]'
ok "write 1M at 2M of a's disk" timeout -k 2 30 \
	dd if=/dev/urandom of="$A/disk" bs=1M seek=2 count=1 conv=notrunc,fsync status=none
sum_a=$(sum_of "$A/disk")
ok "cp -r instances/a instances/b" timeout -k 2 120 cp -r "$A" "$MNT/instances/b"
is "$(get "$MNT/instances/b/run/disk-host")" s "b's disk is on s"
is "$(sum_of "$MNT/instances/b/disk")" "$sum_a" "b's disk holds a's bytes"
ida=$(vdc_sta_desired s | jq -r '.volumes[] | select(.name == "a") | .id')
idb=$(vdc_sta_desired s | jq -r '.volumes[] | select(.name == "b") | .id')
# cp calls copy_file_range for a file that looks sparse from coreutils 9.2 on.
cpv=$(cp --version | sed -n '1s/.* \([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
read -r cpmaj cpmin <<< "$cpv"
if [ "${cpmaj:-0}" -gt 9 ] || { [ "${cpmaj:-0}" -eq 9 ] && [ "${cpmin:-0}" -ge 2 ]; }; then
	ok "the storage host cloned a's disk into b's (its log)" \
		grep -q "volume $idb: cloned from volume a ($ida), restore 1, by sharing extents (FICLONE)" "$LOG"
else
	skip "cp $cpmaj.$cpmin reads and writes a file that looks sparse (no copy_file_range)"
fi
ok "cat a's disk into b's" sh -c "timeout -k 2 120 cat '$A/disk' > '$MNT/instances/b/disk'"
is "$(sum_of "$MNT/instances/b/disk")" "$sum_a" "b's disk holds a's bytes"
ok "the storage host cloned a's disk into b's (its log)" \
	grep -q "volume $idb: cloned from volume a ($ida), restore [12], by sharing extents (FICLONE)" "$LOG"
is "$(get "$MNT/instances/b/run/err")" "" "b's run/err is empty"
is "$(get "$MNT/instances/b/power")" off "b is off, as a"

# The source is on: a guest may write it, so cp copies the bytes.
C=$MNT/instances/c
ok "mkdir instances/c with the image" bash -c "mkdir '$C' && ln -s ../../images/blob '$C/image'"
ok "c's disk shows 4M" vdc_wait "$W" eval '[ "$(vdc_size "$C/disk")" = 4194304 ]'
idc=$(vdc_sta_desired s | jq -r '.volumes[] | select(.name == "c") | .id')
ok "power on a (no hypervisor: it stays on)" put on "$A/power"
ok "cat a's disk into c's while a is on" sh -c "timeout -k 2 120 cat '$A/disk' > '$C/disk'"
is "$(sum_of "$C/disk")" "$sum_a" "c's disk holds a's bytes"
is "$(clones_into "$idc")" 0 "... copied byte by byte, no clone"
fails_with EBUSY "cp onto a's disk while a is on: EBUSY" cp "$C/disk" "$A/disk"
is "$(sum_of "$A/disk")" "$sum_a" "a's disk is unchanged"
ok "power off a" put off "$A/power"

# ---- a source on another storage host ----

if vdc_sta_host s2 3; then
	pass "storage host s2 joins"
	V4=$MNT/volumes/v4
	ok "mkdir volumes/v4 of 16M" sh -c "mkdir '$V4' && echo 16M > '$V4/size'"
	ok "v4 becomes available" vdc_wait_vol_state v4 available "$W"
	if [ "$(get "$V4/run/host")" = s2 ]; then
		ok "cat v1/data (on s) into v4/data (on s2)" sh -c "timeout -k 2 120 cat '$V1/data' > '$V4/data'"
		is "$(sum_of "$V4/data")" "$sum_pat" "v4/data holds v1's bytes"
		nok "... copied byte by byte, no clone on s2" grep -q "cloned from volume" "$VDC_TMP/sta-s2.log"
	else
		for i in 1 2 3; do skip "v4 was placed on $(get "$V4/run/host"), not s2"; done
	fi
	# s2 keeps its state where sta.sh puts it (ext4 here, no reflinks): a clone is a sparse copy.
	V5=$MNT/volumes/v5
	ok "mkdir volumes/v5 of 16M" sh -c "mkdir '$V5' && echo 16M > '$V5/size'"
	ok "v5 becomes available" vdc_wait_vol_state v5 available "$W"
	if [ "$(get "$V5/run/host")" = s2 ] && [ "$(get "$V4/run/host")" = s2 ]; then
		id4=$(vdc_vol_id v4)
		id5=$(vdc_vol_id v5)
		ok "cat v4/data > v5/data (both on s2)" sh -c "timeout -k 2 120 cat '$V4/data' > '$V5/data'"
		is "$(sum_of "$V5/data")" "$sum_pat" "v5/data holds v4's bytes"
		ok "s2 cloned it (its log), by sharing extents or by a copy" \
			grep -q "volume $id5: cloned from volume v4 ($id4), restore 1, by " "$VDC_TMP/sta-s2.log"
	else
		for i in 1 2 3; do skip "v4 or v5 was not placed on s2"; done
	fi
	ok "rmdir volumes/v4 and v5" rmdir "$V4" "$V5"
else
	fail "storage host s2 joins"
	vdc_sta_diag s2
fi

ok "rmdir the instances and volumes" sh -c "rmdir '$A' '$MNT/instances/b' '$C' '$V1' '$V2' '$V3'"
vdc_sta_stop s
vdc_sta_stop s2
disown -a
ok "host s goes down" vdc_host_down s
ok "host s2 goes down" vdc_host_down s2
is "$(vdc_hosts_leftovers)" "" "nothing of the hosts is left"
vdc_stop
done_testing
