#!/bin/bash
# An archive of a data center whose run/ files change while tar reads it
# (agents report; here a quota's use, as its user makes and removes
# instances) exits 0: run/ folders keep their ctime (the object's), their
# mtime follows the change, and tar --exclude-caches reads each only for
# its CACHEDIR.TAG.
. "$(dirname "$0")/lib.sh"
vdc_start

for i in 1 2 3 4 5 6 7 8; do
	mkdir "$MNT/instances/web$i" "$MNT/volumes/vol$i"
done
ok "instances and volumes are made" test -d "$MNT/instances/web8"
command -v setpriv > /dev/null || skip_all "setpriv (util-linux) is not installed"
as_nobody() { timeout -k 2 "$VDC_TIMEOUT" setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
ok "root makes quotas/nobody" mkdir "$MNT/quotas/nobody"
R=$MNT/quotas/nobody/run
ok "nobody makes an instance" as_nobody mkdir "$MNT/instances/extra"
before_c=$(stat -c %Z "$R")
before_m=$(vdc_mtime "$R")
sleep 1.1
ok "and gives it 2 cpus (their quota's use changes)" as_nobody bash -c "echo 2 > '$MNT/instances/extra/cpus'"
ls -l "$MNT/quotas/nobody" > /dev/null   # a listing hands out fresh attributes
is "$(stat -c %Z "$R")" "$before_c" "the quota's run/ keeps its ctime"
isnt "$(vdc_mtime "$R")" "$before_m" "its mtime follows the change"

# nobody changes their instance's cpus all the time: their quota's run/
# and the data center's run/events change while tar reads (the instance
# itself, changed by its user, is left out of the archive).
setpriv --reuid=65534 --regid=65534 --clear-groups bash -c "
	while :; do
		echo 1 > '$MNT/instances/extra/cpus'
		echo 2 > '$MNT/instances/extra/cpus'
	done" 2> /dev/null &
WRITER=$!
stop_writer() { kill "$WRITER" 2> /dev/null; wait "$WRITER" 2> /dev/null; }
VDC_CLEANUP_HOOKS="${VDC_CLEANUP_HOOKS:-} stop_writer"
bad=0
for n in $(seq 1 20); do
	out=$(tar --exclude-caches --sparse --exclude=./instances/extra -C "$MNT" -cf "$VDC_TMP/dc.tar" . 2>&1) || { bad=$n; break; }
done
stop_writer
is "$bad" 0 "20 archives of the changing tree exit 0${out:+ ($out)}"
ok "the archive holds web8's cpus" bash -c "tar -tf '$VDC_TMP/dc.tar' | grep -qx './instances/web8/cpus'"
ok "and the quota's run/ tag" bash -c "tar -tf '$VDC_TMP/dc.tar' | grep -qx './quotas/nobody/run/CACHEDIR.TAG'"
unlike "$(tar -tf "$VDC_TMP/dc.tar")" "run/err" "and no run/ file but the tag"

VDC_DONE=1
done_testing
