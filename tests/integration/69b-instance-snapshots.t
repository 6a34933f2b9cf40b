# Snapshots of an instance's root disk (docs/storage.md, "Instance disks",
# "Snapshots and rollback"), with a real storage host and no guest:
# without a disk on a storage host mkdir snapshots/SNAP is EAGAIN with a
# sentence; with one, a marker written into `disk` while the instance is
# off is kept by a snapshot, overwritten, and read back through `disk`
# after `rollback SNAP`. Bad rollbacks (no name, no such snapshot, the
# instance on) are refused with the errno and a sentence, and change
# nothing.

VDC_WATCHDOG=$(( ${VDC_WATCHDOG:-0} > 300 ? VDC_WATCHDOG : 300 ))
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hosts.sh"
VDC_HVA_OPTIONAL=1
. "$(dirname "$0")/hva.sh"
. "$(dirname "$0")/sta.sh"

vdc_start
I=$MNT/instances/i1

# names DIR: the names in DIR, on one line.
names() { timeout 10 ls -A "$1" | tr '\n' ' ' | sed 's/ $//'; }

head -c 4M /dev/urandom > "$VDC_TMP/img"
ok "mkdir images/blob and import it" bash -c "mkdir '$MNT/images/blob' && cp '$VDC_TMP/img' '$MNT/images/blob/data'"

# ---- no disk on a storage host ----

ok "mkdir instances/i0, link the image" bash -c "mkdir '$MNT/instances/i0' && ln -s ../../images/blob '$MNT/instances/i0/image'"
ok "instances/i0/snapshots is a folder" test -d "$MNT/instances/i0/snapshots"
fails_with EAGAIN "mkdir snapshots/s without a storage host: EAGAIN" mkdir "$MNT/instances/i0/snapshots/s"
like "$(get "$MNT/instances/i0/run/err")" "snapshot s cannot be taken: instance i0 has no disk on a storage host yet" \
	"... run/err says why"
is "$(names "$MNT/instances/i0/snapshots")" "" "... and no snapshot is made"
fails_with ENOENT "rollback of a snapshot it does not have: ENOENT" put "rollback s" "$MNT/instances/i0/ctl"
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

ok "mkdir instances/i1, link the image" bash -c "mkdir '$I' && ln -s ../../images/blob '$I/image'"
ok "the disk is placed on s" vdc_wait 20 file_is "$I/run/disk-host" s
wait_disk() {
	local i
	for i in $(seq 1 100); do
		[ "$(vdc_size "$I/disk")" = "$1" ] && return 0
		sleep 0.2
	done
	return 1
}
ok "disk shows 4M once the storage host made it" wait_disk 4194304

# marker_at FILE: the text of the 4K block at 1M of FILE, without its zeros.
marker_at() { timeout 30 dd if="$1" bs=4096 skip=256 count=1 status=none | tr -d '\0'; }
write_marker() {
	printf '%s' "$1" | dd of="$VDC_TMP/marker" bs=4096 conv=sync status=none
	timeout -k 2 30 dd if="$VDC_TMP/marker" of="$I/disk" bs=4096 seek=256 conv=notrunc,fsync status=none
}
first=vdc-first-marker-$RANDOM$RANDOM
second=vdc-second-marker-$RANDOM$RANDOM
ok "write the first marker at 1M while the instance is off" write_marker "$first"
is "$(marker_at "$I/disk")" "$first" "the first marker reads back"

# ---- snapshot ----

ok "mkdir snapshots/monday" mkdir "$I/snapshots/monday"
is "$(names "$I/snapshots/monday")" "ctl disk run" "a snapshot holds ctl, disk and run/"
ok "snapshot monday becomes available" vdc_wait 60 file_is "$I/snapshots/monday/run/state" available ||
	diag "monday: '$(get "$I/snapshots/monday/run/state")': $(get "$I/snapshots/monday/run/err")"
is "$(vdc_sta_desired s | jq -r '.volumes[] | select(.name == "i1") | .snapshots[].name')" monday \
	"the storage host is told the disk's snapshot"
fails_with EEXIST "mkdir snapshots/monday again: EEXIST" mkdir "$I/snapshots/monday"
fails_with EINVAL "mkdir snapshots/Bad: EINVAL" mkdir "$I/snapshots/Bad"

ok "overwrite the marker with the second one" write_marker "$second"
is "$(marker_at "$I/disk")" "$second" "the second marker reads back"

# ---- bad rollbacks change nothing ----

fails_with EINVAL "rollback without a name: EINVAL" put "rollback" "$I/ctl"
like "$(get "$I/run/err")" "rollback needs the name of a snapshot" "... run/err says why"
fails_with ENOENT "rollback of no such snapshot: ENOENT" put "rollback tuesday" "$I/ctl"
like "$(get "$I/run/err")" "instance i1 has no snapshot tuesday" "... run/err names it"
ok "power on without a hypervisor" put on "$I/power"
fails_with EBUSY "rollback while the instance is on: EBUSY" put "rollback monday" "$I/ctl"
like "$(get "$I/run/err")" "rolled back only while it is off and stopped" "... run/err says why"
ok "power off" put off "$I/power"
is "$(vdc_sta_desired s | jq -c '.volumes[] | select(.name == "i1") | .restore')" null \
	"no restore was asked of the storage host"
sleep 1
is "$(marker_at "$I/disk")" "$second" "the disk still holds the second marker"

# ---- rollback ----

ok "echo 'rollback monday' > ctl" put "rollback monday" "$I/ctl"
is "$(vdc_sta_desired s | jq -r '.volumes[] | select(.name == "i1") | .restore.n')" 1 \
	"the storage host is asked for restore 1"
marker_is() { [ "$(marker_at "$I/disk")" = "$1" ]; }
ok "disk reads the first marker back" vdc_wait 60 marker_is "$first" ||
	diag "read: '$(marker_at "$I/disk")'" "$(get "$I/run/events" | tail -n 5)"
like "$(get "$I/run/events")" "rollback of its disk to snapshot monday" "run/events tells of the rollback"
is "$(vdc_size "$I/disk")" 4194304 "disk keeps its size"

# ---- rmdir ----

ok "rmdir snapshots/monday" vdc_wait 30 rmdir "$I/snapshots/monday"
is "$(names "$I/snapshots")" "" "snapshots/ is empty"
is "$(vdc_sta_desired s | jq -c '[.volumes[] | select(.name == "i1") | .snapshots[]]')" "[]" \
	"the storage host is told it is gone"
is "$(marker_at "$I/disk")" "$first" "the disk keeps the restored bytes"
ok "rmdir instances/i1" rmdir "$I"
ok "disk-used back to 0M" vdc_wait 30 file_is "$MNT/hosts/s/run/disk-used" 0M

done_testing
