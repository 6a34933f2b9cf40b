#!/bin/bash
# What makes a data file safe against a power loss (docs/durability.md):
# only an fsync of the file itself reaches vdcfs (FUSE's FSYNC, passed to
# the backing file). `sync -f FILE` (syncfs) sends a FUSE file system
# nothing. The count comes from libfuse's debug log of every
# request (-o debug).
. "$(dirname "$0")/lib.sh"
VDCFS_OPTS=${VDCFS_OPTS:+$VDCFS_OPTS,}debug
vdc_start
LOG=$VDC_TMP/vdcfs-main.log
D=$MNT/images/img/data

# FSYNC requests vdcfs answered so far (each logged as "opcode: FSYNC").
fsyncs() {
	grep -c 'opcode: FSYNC ' "$LOG"
}
# Requests are logged as they arrive; give the log a moment to catch up.
fsyncs_are() {
	vdc_wait 5 test "$(fsyncs)" = "$1"
	fsyncs
}

ok "mkdir images/img" mkdir "$MNT/images/img"
head -c 1048576 /dev/urandom > "$VDC_TMP/src"
ok "cp imports 1 MiB into data" cp "$VDC_TMP/src" "$D"
is "$(fsyncs_are 0)" 0 "cp sends no FSYNC"
ok "sync -f data succeeds" sync -f "$D"
sleep 0.5
is "$(fsyncs)" 0 "sync -f data sends no FSYNC (syncfs does not reach FUSE)"
ok "sync data (the file's fsync) succeeds" sync "$D"
is "$(fsyncs_are 1)" 1 "sync data sends one FSYNC"
ok "dd conv=fsync succeeds" dd if="$VDC_TMP/src" of="$D" bs=1M conv=notrunc,fsync status=none
is "$(fsyncs_are 2)" 2 "dd conv=fsync sends one FSYNC"
ok "dd conv=fdatasync succeeds" dd if="$VDC_TMP/src" of="$D" bs=1M conv=notrunc,fdatasync status=none
is "$(fsyncs_are 3)" 3 "dd conv=fdatasync sends one FSYNC"
ok "data holds what was copied" cmp "$VDC_TMP/src" "$D"
id=$(ls "$STATE/data" | grep -E '^[0-9]+\.data$')
ok "and so does its backing file in the state folder" cmp "$VDC_TMP/src" "$STATE/data/$id"

done_testing
