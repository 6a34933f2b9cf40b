#!/bin/bash
# The audit trail: run/events is kept in the state folder (events.log,
# rotated to events.log.1 at 1 MiB, both 0600) and survives a restart of
# vdcfs, a kill -9 in the middle of an append included, with each line
# still shown only to those who may see it (docs/durability.md).
. "$(dirname "$0")/lib.sh"
command -v setpriv > /dev/null || skip_all "setpriv (util-linux) is not installed"
PREADRACE=${PREADRACE:-$VDC_SRC_ROOT/build/preadrace}
[ -x "$PREADRACE" ] || { echo "Bail out! no $PREADRACE (make builds it)"; exit 1; }
vdc_start

as() {
	local uid=$1
	shift
	timeout -k 2 "$VDC_TIMEOUT" setpriv --reuid="$uid" --regid="$uid" --clear-groups "$@"
}
# none_of TEXT ERE DESC: no line of TEXT matches (the first few that do are shown).
none_of() {
	is "$(printf '%s\n' "$1" | grep -E -- "$2" | head -n 3)" "" "$3"
}
NOBODY=65534
W=$MNT/instances/web1
LOG_MAX=1048576

ok "root makes instances/web1" mkdir "$W"
ok "root sets its host name" put before-restart "$W/hostname"
ok "nobody makes instances/n1" as $NOBODY mkdir "$MNT/instances/n1"
ok "nobody sets its host name" as $NOBODY bash -c "echo nobody-before > '$MNT/instances/n1/hostname'"
ok "nobody removes instances/n2 they made" as $NOBODY bash -c "mkdir '$MNT/instances/n2' && rmdir '$MNT/instances/n2'"
ok "events.log is in the state folder" test -s "$STATE/events.log"
is "$(stat -c %a "$STATE/events.log")" 600 "events.log is 0600"

vdc_restart
all=$(get "$MNT/run/events")
like "$all" "instances/web1 hostname = before-restart" "after a restart run/events shows the lines from before"
like "$all" "vdc vdcfs started" "and the restart's own line"
like "$(get "$W/run/events")" "instances/web1 hostname = before-restart" "the object's run/events too"
like "$(get "$W/run/events")" "instances/web1 created by uid 0" "from its first line"
nb=$(as $NOBODY cat "$MNT/run/events")
like "$nb" "instances/n1 hostname = nobody-before" "nobody still sees their lines after the restart"
like "$nb" "instances/n2 removed" "and the removal of their object"
none_of "$nb" "web1|vdcfs started" "and still no line about root's objects or the data center"
like "$(as $NOBODY cat "$MNT/instances/n1/run/events")" "hostname = nobody-before" "their object's run/events too"

# kill -9, and a partial last line as a crash in the middle of a write leaves.
vdc_kill9
printf '0 0 2026-01-01T00:00:00Z vdc partial-line-from-a-crash' >> "$STATE/events.log"
vdc_restart
none_of "$(get "$MNT/run/events")" "partial-line-from-a-crash" "a partial last line is ignored at start-up"
like "$(get "$MNT/run/events")" "hostname = before-restart" "the whole lines before it are kept"
ok "root writes after the restart" put after-crash "$W/hostname"
like "$(tail -n 1 "$STATE/events.log")" "^0 [0-9]+ [0-9TZ:-]+ instances/web1 hostname = after-crash$" \
	"the next line is whole in events.log (the partial one was cut off)"
none_of "$(cat "$STATE/events.log")" "partial-line-from-a-crash" "events.log holds no partial line"

# A flood of lines: events.log rotates and stays within its bound.
out=$(timeout -k 2 300 "$PREADRACE" hostnames "$W/hostname" 20000 2>&1)
is "$?" 0 "20000 host names written ($out)"
ok "events.log was rotated to events.log.1" test -s "$STATE/events.log.1"
size=$(stat -c %s "$STATE/events.log")
size1=$(stat -c %s "$STATE/events.log.1")
ok "events.log stays within its bound ($size bytes)" test "$size" -le $LOG_MAX
ok "events.log.1 stays within its bound ($size1 bytes)" test "$size1" -le $LOG_MAX
ok "events.log.1 was full when it was rotated" test "$size1" -gt $((LOG_MAX - 512))
is "$(stat -c %a "$STATE/events.log.1")" 600 "events.log.1 is 0600"
last=$(get "$W/run/events" | tail -n 1)
like "$last" "instances/web1 hostname = h0000019999\." "the last line is the last host name"
lines=$(get "$MNT/run/events" | wc -l)
ok "run/events keeps 1000 to 2000 lines ($lines)" test "$lines" -ge 1000 -a "$lines" -le 2000
vdc_restart
is "$(get "$W/run/events" | tail -n 1)" "$last" "after a restart the object's last line is the same"
like "$(get "$MNT/run/events" | grep -v 'vdcfs started' | tail -n 1)" "instances/web1 hostname = h0000019999\." \
	"and the data center's"
lines=$(get "$MNT/run/events" | wc -l)
ok "run/events holds 1000 to 2000 lines after the restart ($lines)" test "$lines" -ge 1000 -a "$lines" -le 2000
none_of "$(as $NOBODY cat "$MNT/run/events")" "web1" "nobody sees no line of the flood about root's object"

ok "root removes web1" rmdir "$W"
ok "nobody removes n1" as $NOBODY rmdir "$MNT/instances/n1"
vdc_stop
done_testing
