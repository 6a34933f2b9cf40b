#!/bin/bash
# The state folder holds every secret of the data center (the join token,
# the hosts' tokens, the TLS key, CHAP secrets in state.db and its WAL), so
# whatever mode the operator made it with, vdcfs keeps it 0700 and every
# file in it 0600: another local user reads nothing there.
. "$(dirname "$0")/lib.sh"
command -v setpriv > /dev/null || skip_all "setpriv (util-linux) is not installed"
NOBODY=65534

as() {
	local uid=$1
	shift
	timeout -k 2 "$VDC_TIMEOUT" setpriv --reuid="$uid" --regid="$uid" --clear-groups "$@"
}

# What under the state folder a group or other user may read, write or enter.
open_to_others() {
	find "$1" -perm /077 ! -type l -printf '%m %p\n'
}

# The operator makes the state folder, with a umask that lets others read.
mkdir -m 0755 "$VDC_TMP/state-main"
vdc_start
ok "root makes an instance" mkdir "$MNT/instances/web1"
ok "and writes to it" put 2 "$MNT/instances/web1/cpus"
read -r -a JOIN < "$MNT/hosts/join"
TOKEN=${JOIN[6]}
like "$TOKEN" '^[0-9a-f]{64}$' "hosts/join names the join token"
ok "state.db-wal exists while mounted" test -s "$STATE/state.db-wal"
ok "the TLS key exists" test -s "$STATE/tls/key.pem"
is "$(stat -c %a "$STATE")" 700 "the state folder is made 0700"
is "$(open_to_others "$STATE")" "" "nothing under the state folder is open to group or others"
is "$(find "$STATE" -type f ! -perm 0600 -printf '%m %p\n')" "" "every file is 0600"
is "$(find "$STATE" -type d ! -perm 0700 -printf '%m %p\n')" "" "every folder is 0700"
fails_with EACCES "user $NOBODY cannot read state.db-wal" as $NOBODY cat "$STATE/state.db-wal"
fails_with EACCES "user $NOBODY cannot read state.db" as $NOBODY cat "$STATE/state.db"
fails_with EACCES "user $NOBODY cannot list the state folder" as $NOBODY ls "$STATE"
ok "the join token is in the state (the test looks in the right place)" \
	grep -qs -- "$TOKEN" "$STATE/state.db" "$STATE/state.db-wal"

# A state folder from before, opened up by hand, is closed again at start.
vdc_stop
chmod 0755 "$STATE" "$STATE/data" "$STATE/tls"
chmod 0644 "$STATE"/state.db* "$STATE/tls/key.pem"
isnt "$(open_to_others "$STATE")" "" "the stopped state folder was opened up"
vdc_restart
ok "the object is back" test -d "$MNT/instances/web1"
is "$(open_to_others "$STATE")" "" "after a restart nothing under it is open to group or others"
fails_with EACCES "user $NOBODY cannot read state.db-wal after the restart" as $NOBODY cat "$STATE/state.db-wal"

# A shared folder like /tmp is refused, not made private.
mkdir -m 1777 "$VDC_TMP/shared"
mkdir "$VDC_TMP/mnt-shared"
echo "$VDC_TMP/mnt-shared" >> "$VDC_TMP/.mounts"
nok "vdcfs refuses a sticky state folder" timeout 20 "$VDCFS" -f -o "state=$VDC_TMP/shared" "$VDC_TMP/mnt-shared"
is "$(stat -c %a "$VDC_TMP/shared")" 1777 "and leaves its mode alone"

done_testing
