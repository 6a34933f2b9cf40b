# The bytes a storage host really holds (docs/tree.md, "Usage figures"):
# volumes/NAME/run/allocated and instances/NAME/run/disk-allocated, each
# checked against the blocks of its file on the storage host (stat in the
# host's folder), before and after bytes are written through the tree;
# empty while the volume or disk is on no storage host. No guest.

VDC_WATCHDOG=$(( ${VDC_WATCHDOG:-0} > 300 ? VDC_WATCHDOG : 300 ))
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hosts.sh"
VDC_HVA_OPTIONAL=1
. "$(dirname "$0")/hva.sh"
. "$(dirname "$0")/sta.sh"
command -v jq > /dev/null || skip_all "jq is missing"

vdc_start
V=$MNT/volumes/v1
I=$MNT/instances/i1

# blocks FILE: the bytes its blocks take (what `du -B1 --apparent-size` does not say).
blocks() { echo $(($(stat -c '%b * %B' "$1" 2> /dev/null || echo 0))); }
# allocated_is TREEFILE FILE: the tree says the file's blocks (wait: one report at most).
allocated_is() { [ "$(get "$1")" = "$(blocks "$2")" ]; }

# ---- no storage host ----

ok "mkdir volumes/v1, 64M" sh -c "mkdir '$V' && echo 64M > '$V/size'"
is "$(get "$V/run/allocated")" "" "run/allocated is empty while v1 is on no storage host"
head -c 2M /dev/urandom > "$VDC_TMP/img"
ok "images/blob (2M) and instance i1 with it" bash -c "mkdir '$MNT/images/blob' && cp '$VDC_TMP/img' '$MNT/images/blob/data' &&
	mkdir '$I' && ln -s ../../images/blob '$I/image'"
is "$(get "$I/run/disk-allocated")" "" "run/disk-allocated is empty while i1's disk is on no storage host"

# ---- a storage host ----

if vdc_sta_host s 2; then
	pass "storage host s joins"
else
	fail "storage host s joins"
	vdc_sta_diag s
	echo "Bail out! no storage host"
	exit 1
fi
S=$(vdc_sta_state s)
ok "v1 becomes available on s" vdc_wait_vol_state v1 available 60 || vdc_sta_diag s
f=$S/volumes/$(vdc_vol_id v1).img
ok "its file is on s ($f)" test -f "$f"
ok "run/allocated is the blocks of that file ($(blocks "$f"))" vdc_wait 10 allocated_is "$V/run/allocated" "$f"
a0=$(get "$V/run/allocated")
like "$a0" '^[0-9]+$' "... a number of bytes ($a0)"
ok "... less than its size: a new volume is sparse" test "${a0:-0}" -lt $((64 << 20))
head -c 8M /dev/urandom > "$VDC_TMP/8m"
ok "8M written at 16M through data" timeout -k 2 120 \
	dd if="$VDC_TMP/8m" of="$V/data" bs=1M seek=16 conv=notrunc,fsync status=none
ok "run/allocated follows the file's blocks" vdc_wait 15 allocated_is "$V/run/allocated" "$f"
a1=$(get "$V/run/allocated")
ok "... grown by at least 8M ($a0 -> $a1)" test $((${a1:-0} - ${a0:-0})) -ge $((8 << 20))

ok "i1's disk is placed on s" vdc_wait 30 file_is "$I/run/disk-host" s
id=$(vdc_sta_desired s | jq -r '.volumes[] | select(.name == "i1") | .id')
d=$S/volumes/$id.img
ok "i1's disk file is on s ($d)" vdc_wait 30 test -f "$d"
ok "run/disk-allocated is the blocks of that file" vdc_wait 30 allocated_is "$I/run/disk-allocated" "$d"
ok "... at least the image's 2M of random bytes ($(get "$I/run/disk-allocated"))" \
	test "$(get "$I/run/disk-allocated")" -ge $((2 << 20))
is "$(get "$I/run/cpu")" "" "i1 does not run: run/cpu is empty"

ok "i1, blob and v1 go" sh -c "rmdir '$I' && rmdir '$MNT/images/blob' && rmdir '$V'"

done_testing
