#!/bin/bash
# Reads of one descriptor from several threads at once, on every kind of
# file vdcfs makes up (live files of run/, attributes, ctl), as root and as
# another user, while other processes change what they show: every read is
# whole text, and vdcfs lives on.
. "$(dirname "$0")/lib.sh"
command -v setpriv > /dev/null || skip_all "setpriv (util-linux) is not installed"
PREADRACE=${PREADRACE:-$VDC_SRC_ROOT/build/preadrace}
[ -x "$PREADRACE" ] || { echo "Bail out! no $PREADRACE (make builds it)"; exit 1; }
# Another user must reach the helper: a copy in the test's own folder.
cp "$PREADRACE" "$VDC_TMP/preadrace" && chmod 0755 "$VDC_TMP/preadrace"
PR=$VDC_TMP/preadrace
SECONDS_EACH=${VDC_RACE_SECONDS:-2}
vdc_start

# as UID CMD...: run CMD as another user, with no supplementary groups.
as() {
	local uid=$1
	shift
	timeout -k 2 "$VDC_TIMEOUT" setpriv --reuid="$uid" --regid="$uid" --clear-groups "$@"
}
NOBODY=65534
OTHER=65533
R=$MNT/instances/r1
N=$MNT/instances/n1

ok "root makes instances/r1" mkdir "$R"
ok "nobody makes instances/n1" as $NOBODY mkdir "$N"

# ---- one descriptor, several threads ----

# Writers in other processes: good and refused values of cpus, so run/events,
# run/err and the data center's run/events change all the time. Each runs
# until the test stops it (by its pid).
writers=()
timeout -k 2 120 "$PR" write "$R/cpus" 100000000 2 3 0 > /dev/null 2>&1 &
writers+=($!)
timeout -k 2 120 setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups \
	"$PR" write "$N/cpus" 100000000 4 0 5 > /dev/null 2>&1 &
writers+=($!)
stop_writers() {
	local p
	for p in "${writers[@]}"; do
		kill "$p" 2> /dev/null
		wait "$p" 2> /dev/null
	done
	writers=()
}
VDC_CLEANUP_HOOKS="${VDC_CLEANUP_HOOKS:-} stop_writers"

# race WHO FILE: four threads on one descriptor of FILE, as WHO (a uid).
race() {
	local who=$1 file=$2 out rc
	if [ "$who" = 0 ]; then
		out=$(timeout -k 2 60 "$PR" read "$file" 4 "$SECONDS_EACH" 2>&1)
	else
		out=$(timeout -k 2 60 setpriv --reuid="$who" --regid="$who" --clear-groups \
			"$PR" read "$file" 4 "$SECONDS_EACH" 2>&1)
	fi
	rc=$?
	_tap_result $((rc == 0)) "uid $who: four threads on one descriptor of ${file#"$MNT"/} read whole text" && return 0
	diag "exit status $rc" "$out"
	return 1
}

race 0 "$MNT/run/events"
race 0 "$R/run/events"
race 0 "$R/run/state"
race 0 "$R/run/err"
race 0 "$R/cpus"
race 0 "$R/ctl"
race $NOBODY "$MNT/run/events"
race $NOBODY "$N/run/events"
race $NOBODY "$N/run/state"
race $NOBODY "$N/run/err"
race $NOBODY "$N/cpus"
race $NOBODY "$N/ctl"
for p in "${writers[@]}"; do
	ok "writer $p is still running (it wrote the whole time)" kill -0 "$p"
done
stop_writers
ok "vdcfs is still mounted" mountpoint -q "$MNT"
like "$(get "$R/run/err")" "cpus" "run/err of r1 holds the refused write's sentence"
is "$(get "$R/run/state")" "defined" "run/state reads back whole"

ok "nobody removes their objects" as $NOBODY rmdir "$N"
ok "root removes its objects" rmdir "$R"
vdc_stop
done_testing
