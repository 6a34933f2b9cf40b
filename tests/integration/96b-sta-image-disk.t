# A storage host makes an instance's disk from an image (issue 13,
# docs/storage.md "Desired state of a storage host", docs/vdc-sta.md
# "Disks made from images"). vdcfs does not send "image" yet, so the
# agent talks to a stand-in of its agent server (fake-vdcfs.py: join,
# desired state from a file, reports saved, images served slowly) over
# HTTPS with a pinned key, in a host of hosts.sh with its own tgtd:
# a raw image and a qcow2 one become disks (the bytes, the holes, the
# size, the target), creating with progress meanwhile; a disk smaller
# than its image and an image whose checksum is not the one named are
# errors with a sentence; a change of image never remakes a disk; a
# kill -9 during a fetch, and a disk left half made, are redone after the
# restart; a volume removed goes, its image stays in the cache.
#
# VDC_STA_FS=xfs (96c-sta-image-disk-xfs.t) puts the agent's state folder
# on an XFS file system with reflinks in a loop-mounted file, where every
# disk is a clone of the cached image (FICLONE); otherwise it is on the
# test's own folder (ext4 on these machines: sparse copies).

VDC_WATCHDOG=$(( ${VDC_WATCHDOG:-0} > 300 ? VDC_WATCHDOG : 300 ))
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hosts.sh"
VDC_HVA_OPTIONAL=1
. "$(dirname "$0")/hva.sh"
. "$(dirname "$0")/sta.sh"
. "$(dirname "$0")/fake.sh"
command -v qemu-img > /dev/null || skip_all "qemu-img is missing (a qcow2 image)"

F=$VDC_TMP/fake
mkdir -p "$F"
DC=8d7f0a1b2c3d4e5f
IQN=iqn.2026-11.org.vdcfs:8d7f0a1b2c3d
SECRET=0123456789abcdef0123456789abcdef
MIB=1048576

# ---- the stand-in of vdcfs ----

vdc_fake_key "$F"
PIN=$VDC_FAKE_PIN
vdc_fake_start "$F" "$F" 0.05 "$VDC_TMP/fake-vdcfs.log" || { echo "Bail out! the stand-in of vdcfs did not start"; exit 1; }
PORT=$(cat "$F/port")

# ---- images: 4M raw with data at 0 and at 1M, the same as qcow2, 16M raw ----

python3 - "$F/images" <<'EOF'
import sys
d = sys.argv[1]
with open(d + "/tiny", "wb") as f:
    f.truncate(4 << 20)
    f.write(b"TINY-START" * 400)
    f.seek(1 << 20)
    f.write(b"TINY-MIDDLE" * 400)
with open(d + "/big", "wb") as f:
    f.truncate(16 << 20)
    for i in range(16):
        f.seek(i << 20)
        f.write(b"BIG-%02d" % i * 1000)
EOF
qemu-img convert -f raw -O qcow2 "$F/images/tiny" "$F/images/tinyq"
sha() { sha256sum "$1" | cut -c1-64; }
TINY=$(sha "$F/images/tiny")
TINYQ=$(sha "$F/images/tinyq")
BIG=$(sha "$F/images/big")

# image NAME SHA FORMAT: the "image" member
image() { printf '{"name": "%s", "sha256": "%s", "size": %s, "format": "%s"}' "$1" "$2" \
	"$(stat -c %s "$F/images/$1")" "$3"; }

# vol ID SIZE IMAGE: a volume entry of a disk
vol() {
	printf '{"id": %s, "name": "d%s", "iqn": "%s:disk-%s", "size": %s, "chap_user": "disk-%s", "chap_secret": "%s", "initiators": ["%s:control"], "snapshots": [], "restore": null, "image": %s}' \
		"$1" "$1" "$IQN" "$1" "$2" "$1" "$SECRET" "$IQN" "$3"
}

REV=0
# desired VOLUME-ENTRY...: the next revision of the host's desired state
desired() {
	local IFS=,
	REV=$((REV + 1))
	printf '{"rev": %s, "dc": "%s", "heartbeat": 2, "volumes": [%s]}' "$REV" "$DC" "$*" > "$F/.desired.json"
	mv "$F/.desired.json" "$F/desired.json"
}

# field ID NAME: a member of volume ID in the last report
field() { vdc_fake_member "$F/report.json" volumes "$1" "$2"; }
state_is() { [ "$(field "$1" state)" = "$2" ]; }
wait_state() { vdc_wait "$3" state_is "$1" "$2" || diag "volume $1: $(field "$1" state) $(field "$1" err)"; }
# Waits stretch with VDC_TIMEOUT (make valgrind sets 60: the agent runs under valgrind there).
W=$(( ${VDC_TIMEOUT:-10} * 2 > 60 ? ${VDC_TIMEOUT:-10} * 2 : 60 ))

# ---- the storage host ----

S=$(vdc_sta_state s)
if [ "${VDC_STA_FS:-}" = xfs ]; then
	command -v mkfs.xfs > /dev/null || skip_all "mkfs.xfs is missing (Debian: xfsprogs)"
	LOOP=
	# After the hosts are down (nothing holds a file there): unmount, detach.
	_xfs_down() {
		mountpoint -q "$VDC_TMP/xfs" && umount "$VDC_TMP/xfs"
		[ -n "$LOOP" ] && losetup -d "$LOOP" 2> /dev/null
		LOOP=
	}
	VDC_CLEANUP_HOOKS="${VDC_CLEANUP_HOOKS:-} _xfs_down"
	truncate -s 1G "$VDC_TMP/xfs.img" && LOOP=$(losetup -f --show "$VDC_TMP/xfs.img") &&
		mkfs.xfs -q -m reflink=1 "$LOOP" && mkdir -p "$VDC_TMP/xfs" && mount "$LOOP" "$VDC_TMP/xfs" ||
		skip_all "cannot mount an XFS file system in a loop-mounted file"
	# Mounted before the host is made, so the host's mount namespace has it too.
	S=$VDC_TMP/xfs/sta
fi
sta_start() {
	vdc_host_spawn s "$VDC_TMP/sta-s.log" $VDC_STA_WRAP "$VDC_STA" --server "$VDC_SERVER_ADDR:$PORT" \
		--pin "$PIN" --token "$(printf '%064d' 1)" --name s --state "$S" \
		--portal "$(vdc_host_addr s):$VDC_TGT_PORT" --heartbeat 2 ${VDC_STA_OPTS:-}
	STA_PID_s=$VDC_HOST_PID
}
desired
if vdc_host_up s 2 && vdc_tgtd_start s && mkdir -p "$S" && sta_start &&
	vdc_wait "$W" test -s "$F/report.json"; then
	pass "storage host s joins the stand-in of vdcfs and reports"
else
	fail "storage host s joins the stand-in of vdcfs and reports"
	vdc_sta_diag s
	echo "Bail out! no storage host"
	exit 1
fi

# ---- a disk from a raw image ----

desired "$(vol 12 $((8 * MIB)) "$(image tiny "$TINY" raw)")"
ok "disk 12 is reported creating" vdc_wait "$W" state_is 12 creating
ok "... with the fetch's progress in percent" vdc_wait "$W" grep -q '"progress":"fetching image tiny: [0-9]*% ([0-9.]*[KM]* of 4M)"' "$F/reports.log"
ok "disk 12 becomes available" wait_state 12 available "$W"
is "$(stat -c %s "$S/volumes/12.img")" $((8 * MIB)) "its file is grown to the disk's size (8M)"
ok "its first 4M are the image's bytes" cmp -n $((4 * MIB)) "$S/volumes/12.img" "$F/images/tiny"
ok "... and the rest zeros" cmp -i $((4 * MIB)):0 -n $((4 * MIB)) "$S/volumes/12.img" /dev/zero
ok "holes stay holes (under 1M of 8M allocated)" test "$(( $(stat -c %b "$S/volumes/12.img") * 512 ))" -lt $MIB
is "$(field 12 size)" $((8 * MIB)) "the report's size is the disk's"
ok "its target serves it" eval 'vdc_tgt_targets s | grep -qx "$IQN:disk-12"'
ok "the cache holds the image as a raw disk under its checksum" test -f "$S/images/$TINY.raw"
if [ "${VDC_STA_FS:-}" = xfs ]; then
	ok "on XFS the disk is a clone of the cached image (FICLONE)" \
		grep -q 'volume 12: made from image tiny (.*) by sharing extents (FICLONE)' "$VDC_TMP/sta-s.log"
fi
is "$(grep -c 'fetching image tiny (' "$VDC_TMP/sta-s.log")" 1 "the image was fetched once"

# ---- a disk from a qcow2 image ----

desired "$(vol 12 $((8 * MIB)) "$(image tiny "$TINY" raw)")" "$(vol 13 $((6 * MIB)) "$(image tinyq "$TINYQ" qcow2)")"
ok "disk 13 (qcow2 image) becomes available" wait_state 13 available "$W"
ok "its first 4M are the image's bytes as a raw disk" cmp -n $((4 * MIB)) "$S/volumes/13.img" "$F/images/tiny"
is "$(stat -c %s "$S/volumes/13.img")" $((6 * MIB)) "... grown to 6M"
ok "the cache keeps the raw disk of the qcow2 image, converted once" test -f "$S/images/$TINYQ.raw"
nok "... and not the qcow2 file" test -e "$S/images/$TINYQ"
ok "the agent converted it (its log says)" grep -q 'converting image tinyq (.*) from qcow2 to a raw disk' "$VDC_TMP/sta-s.log"
ok "... and made the disk from it" grep -q 'volume 13: made from image tinyq' "$VDC_TMP/sta-s.log"

# ---- errors ----

D12=$(vol 12 $((8 * MIB)) "$(image tiny "$TINY" raw)")
D13=$(vol 13 $((6 * MIB)) "$(image tinyq "$TINYQ" qcow2)")
desired "$D12" "$D13" "$(vol 14 $((2 * MIB)) "$(image tiny "$TINY" raw)")"
ok "a disk smaller than its image is error" wait_state 14 error "$W"
is "$(field 14 err)" "disk of 2M is smaller than image tiny's 4M" "... with the protocol's sentence"
nok "... and has no file" test -e "$S/volumes/14.img"
nok "... nor target" eval 'vdc_tgt_targets s | grep -qx "$IQN:disk-14"'

desired "$D12" "$D13" "$(vol 15 $((8 * MIB)) "$(image tiny "$(printf '%064d' 0)" raw)")"
ok "an image whose checksum is not the one named is error" wait_state 15 error "$W"
like "$(field 15 err)" "checksum" "... saying so"
nok "... and makes no file" test -e "$S/volumes/15.img"
nok "... nor a cache entry" test -e "$S/images/$(printf '%064d' 0).raw"

# ---- once made, the image is ignored ----

ino=$(stat -c %i "$S/volumes/12.img")
desired "$(vol 12 $((8 * MIB)) "$(image tinyq "$TINYQ" qcow2)")" "$D13"
sleep 3
ok "after a change of its image disk 12 stays available" state_is 12 available
is "$(stat -c %i "$S/volumes/12.img")" "$ino" "... its file is not made again"

# ---- kill -9 during a fetch; a disk left half made ----

D16=$(vol 16 $((16 * MIB)) "$(image big "$BIG" raw)")
desired "$D12" "$D13" "$D16"
ok "disk 16's image is being fetched" vdc_wait "$W" grep -q '"progress":"fetching image big: ' "$F/reports.log"
vdc_sta_kill9 s
ok "a fetch killed leaves a temporary file in the cache" eval 'ls -A "$S/images" | grep -q "^\.$BIG\."'
printf 'junk' > "$S/volumes/.16.img.tmp"
sta_start
ok "after the restart disk 16 becomes available" wait_state 16 available "$W"
ok "its bytes are the image's" cmp "$S/volumes/16.img" "$F/images/big"
nok "no temporary file is left in the cache" eval 'ls -A "$S/images" | grep -q "^\."'
nok "nor a disk half made" test -e "$S/volumes/.16.img.tmp"
ok "disks 12 and 13 are still available" eval 'state_is 12 available && state_is 13 available'

# ---- removal ----

desired "$D12" "$D16"
ok "disk 13 removed: its file goes" vdc_wait "$W" eval '! test -e "$S/volumes/13.img"'
ok "... and its target" vdc_wait "$W" eval '! vdc_tgt_targets s | grep -qx "$IQN:disk-13"'
ok "the image stays in the cache (disk 12 names it now)" test -f "$S/images/$TINYQ.raw"

vdc_sta_stop s
done_testing
