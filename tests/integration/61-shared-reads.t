#!/bin/bash
# Reads of one descriptor from several threads at once, on every kind of
# file vdcfs makes up (live files of run/, attributes, ctl) and of a data
# file (images/NAME/data; a volume's data is 61-shared-volume-reads.t), as root and as
# another user, while other processes change what they show: every read is
# whole text, and vdcfs lives on. And the aggregate run/events shows each
# reader only the lines about what that reader may see (docs/tree.md).
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

# ---- run/events for each reader ----

ok "root makes instances/rootsecret" mkdir "$MNT/instances/rootsecret"
ok "root sets its host name" put root-private-name "$MNT/instances/rootsecret/hostname"
ok "nobody makes instances/nbsecret" as $NOBODY mkdir "$MNT/instances/nbsecret"
ok "nobody sets its host name" as $NOBODY bash -c "echo nobody-private-name > '$MNT/instances/nbsecret/hostname'"
ok "another user makes instances/othsecret" as $OTHER mkdir "$MNT/instances/othsecret"
ok "they set its host name" as $OTHER bash -c "echo other-private-name > '$MNT/instances/othsecret/hostname'"
fails_with EINVAL "another user's refused value is theirs too" \
	as $OTHER bash -c "echo 'other_refused_value' > '$MNT/instances/othsecret/hostname'"
fails_with EINVAL "another user's refused name at the top (a line about no object)" \
	as $OTHER mkdir "$MNT/instances/Other_Bad_Name"
ok "they remove a second object of theirs" as $OTHER bash -c "mkdir '$MNT/instances/othgone' && rmdir '$MNT/instances/othgone'"

# none_of TEXT ERE DESC: no line of TEXT matches (the first few that do are shown).
none_of() {
	is "$(printf '%s\n' "$1" | grep -E -- "$2" | head -n 3)" "" "$3"
}
nb=$(as $NOBODY cat "$MNT/run/events")
oth=$(as $OTHER cat "$MNT/run/events")
all=$(get "$MNT/run/events")
like "$nb" "instances/nbsecret hostname = nobody-private-name" "nobody sees the lines about their object"
none_of "$nb" "othsecret|other-private-name|other_refused_value|Other_Bad_Name|othgone" "nobody sees no line about another user's objects or requests"
none_of "$nb" "rootsecret|root-private-name|instances/r1 " "nobody sees no line about root's objects"
none_of "$nb" " vdc vdcfs started" "nobody sees none of the data center's own lines"
like "$oth" "instances/othsecret hostname = other-private-name" "the other user sees their value"
like "$oth" "other_refused_value" "and the sentence of their refused value"
like "$oth" "Other_Bad_Name" "and the sentence of their refused name at the top"
like "$oth" "instances/othgone removed" "and the removal of their object"
none_of "$oth" "nbsecret|nobody-private-name|rootsecret|instances/n1 " "the other user sees no line about nobody's or root's objects"
like "$all" "instances/nbsecret hostname = nobody-private-name" "root sees nobody's lines"
like "$all" "instances/othsecret hostname = other-private-name" "root sees the other user's lines"
like "$all" "Other_Bad_Name" "root sees the other user's refused name"
like "$all" "instances/othgone removed" "root sees the removal"
like "$all" "instances/rootsecret hostname = root-private-name" "root sees its own lines"
like "$all" " vdc vdcfs started" "root sees the data center's own lines"
is "$(as $NOBODY stat -c %s "$MNT/run/events")" "$(as $NOBODY cat "$MNT/run/events" | wc -c)" \
	"the size nobody stats is the size nobody reads"
is "$(stat -c %s "$MNT/run/events")" "$(get "$MNT/run/events" | wc -c)" "the size root stats is the size root reads"
is "$(as $OTHER tail -n 1 "$MNT/run/events")" "$(printf '%s\n' "$oth" | tail -n 1)" "tail shows the other user their own last line"

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

# A file with its bytes in the state folder (images/NAME/data) too.
ok "root makes images/img1 with text in data" bash -c "mkdir '$MNT/images/img1' && seq 1 20000 > '$MNT/images/img1/data'"
ok "nobody makes images/nimg with text in data" as $NOBODY bash -c "mkdir '$MNT/images/nimg' && seq 1 20000 > '$MNT/images/nimg/data'"
race 0 "$MNT/images/img1/data"
race $NOBODY "$MNT/images/nimg/data"
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

ok "nobody removes their objects" as $NOBODY rmdir "$N" "$MNT/instances/nbsecret"
ok "the other user removes theirs" as $OTHER rmdir "$MNT/instances/othsecret"
ok "root removes its objects" rmdir "$R" "$MNT/instances/rootsecret"
ok "root removes its image" rm -r "$MNT/images/img1"
ok "nobody removes their image" as $NOBODY rm -r "$MNT/images/nimg"
vdc_stop
done_testing
