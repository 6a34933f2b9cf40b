# instances/NAME/console, the guest's serial input, at the mount and at
# the wire (docs/tree.md, docs/agent-protocol.md "Console input"): empty
# to read, so a copy of it is empty; EINVAL while the instance is not
# running; bytes written while it runs are what its host's long-poll
# GET console-input answers, at once, and to that host alone; a full queue
# is EAGAIN. The hypervisor is played by hand with curl (86-agent-protocol.t);
# 90-hva-boot.t's console part and 90b-vdc-tools.t take them to a guest.
. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null && command -v jq >/dev/null || skip_all "curl or jq is missing (scripts/install-deps)"
command -v setpriv > /dev/null || skip_all "setpriv (util-linux) is not installed"
VDCFS_OPTS="${VDCFS_OPTS:+$VDCFS_OPTS,}heartbeat=1,host-timeout=30"
vdc_start
NOBODY=65534

read -r -a JOIN < "$MNT/hosts/join"
SRV=${JOIN[2]} PIN=${JOIN[4]} JTOKEN=${JOIN[6]}
api() {
	local m=$1 p=$2 t=${3:-}
	shift 3 2>/dev/null || shift $#
	timeout 40 curl -sS -k --pinnedpubkey "$PIN" -X "$m" ${t:+-H "Authorization: Bearer $t"} \
		-w '\n%{http_code}' "$@" "https://$SRV$p"
}
status() { tail -n 1 <<<"$1"; }
body() { sed '$d' <<<"$1"; }
jget() { jq -c -r "$1"; }
facts='"facts":{"cpus":2,"memory_mib":1024,"driver":"qemu","virt":"tcg","libvirt":"9.0.0","version":"t"}'
report() {   # report TOKEN HOST EPOCH SEQ INSTANCES-JSON
	api POST "/v1/hosts/$2/report" "$1" -d '{"epoch":'"$3"',"seq":'"$4"',"rev":0,'"$facts"',"instances":'"$5"'}'
}

# ---- the file, while the instance is not running ----
I=$MNT/instances/web1
mkdir "$MNT/images/tiny" "$I"
head -c 4096 /dev/urandom > "$MNT/images/tiny/data"
ln -s ../../images/tiny "$I/image"
put 256M "$I/memory"
ok "instances/web1/console exists" test -f "$I/console"
is "$(stat -c '%s %a' "$I/console")" "0 600" "its size is 0, mode 0600 (its owner writes it)"
is "$(get "$I/console" | wc -c | tr -d ' ')" 0 "a read returns nothing"
fails_with EINVAL "a write while the instance is defined is EINVAL" put ls "$I/console"
like "$(get "$I/run/err")" "instance web1 is defined: its console takes input only while it is running" \
	"run/err says why"
ok "an empty write (: > console, as tar x of it does) succeeds" bash -c ": > '$I/console'"
ok "tar of the instance" tar -C "$MNT/instances" -cf "$VDC_TMP/web1.tar" --exclude=run web1
like "$(tar -tvf "$VDC_TMP/web1.tar" web1/console)" '^-rw------- .* 0 .* web1/console$' \
	"holds an empty console file"
ok "tar x of it back over the instance exits 0" tar -C "$MNT/instances" -xf "$VDC_TMP/web1.tar" web1/console
ok "rm console hides it (tar and rsync remove before they write)" rm "$I/console"
ok "... from the listing" bash -c "! ls '$I' | grep -qx console"
ok "writing the name again brings it back" bash -c ": > '$I/console' && test -f '$I/console'"
fails_with EACCES "another user cannot write it" \
	timeout 10 setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups sh -c "printf x > '$I/console'"

# ---- a host and the instance running on it ----
r=$(api POST /v1/join "" -d '{"name":"hv1","token":"'"$JTOKEN"'","kind":"hva"}')
T1=$(body "$r" | jget '.token')
r=$(api POST /v1/join "" -d '{"name":"hv2","token":"'"$JTOKEN"'","kind":"hva"}')
T2=$(body "$r" | jget '.token')
report "$T1" hv1 100 1 '[]' > /dev/null
put on "$I/power"
on_hv1() { test "$(get "$I/run/host")" = hv1; }
vdc_wait 10 on_hv1
is "$(get "$I/run/host")" hv1 "the instance is placed on hv1 (hv2 has not reported yet)"
report "$T2" hv2 100 1 '[]' > /dev/null
ID=$(body "$(api GET "/v1/hosts/hv1/desired?rev=0" "$T1")" | jget '.instances[0].id')
fails_with EINVAL "a write while it is starting is EINVAL" put ls "$I/console"
report "$T1" hv1 100 2 '[{"id":'"$ID"',"domain":"vdc-'"$ID"'","state":"running"}]' > /dev/null
is "$(get "$I/run/state")" running "reported running"

r=$(api GET "/v1/hosts/hv1/console-input?wait=1" "$T1")
is "$(status "$r") $(body "$r")" '200 {"input":[]}' "with nothing typed, the long-poll answers none after its wait"
ok "a write while it runs succeeds" put ls "$I/console"
ok "and another" bash -c "printf '\\001\\377' > '$I/console'"
is "$(get "$I/console" | wc -c | tr -d ' ')" 0 "a read still returns nothing"
r=$(api GET "/v1/hosts/hv2/console-input?wait=1" "$T2")
is "$(body "$r")" '{"input":[]}' "another host is given none of it"
r=$(api GET "/v1/hosts/hv1/console-input?wait=1" "$T1")
is "$(body "$r")" '{"input":[{"id":'"$ID"',"hex":"6c730a01ff"}]}' "hv1 is given the bytes in order, as hex"
r=$(api GET "/v1/hosts/hv1/console-input?wait=1" "$T1")
is "$(body "$r")" '{"input":[]}' "once: they are gone from vdcfs"
r=$(api GET "/v1/hosts/hv1/console-input?wait=1" "$T2")
is "$(status "$r")" 403 "hv2's token for hv1's input is refused"
r=$(api GET "/v1/hosts/hv1/console-input?wait=1")
is "$(status "$r")" 403 "no token is refused"

# A long-poll waiting is answered as soon as a key is written.
(api GET "/v1/hosts/hv1/console-input?wait=20" "$T1" > "$VDC_TMP/poll") &
poll=$!
sleep 0.5
t0=$(date +%s%N)
printf 'x' > "$I/console"
wait "$poll"
t1=$(date +%s%N)
is "$(body "$(cat "$VDC_TMP/poll")")" '{"input":[{"id":'"$ID"',"hex":"78"}]}' "a waiting long-poll gets a keystroke"
ok "at once ($(((t1 - t0) / 1000000)) ms)" test $(((t1 - t0) / 1000000)) -lt 1000

# ---- bounded ----
ok "4096 bytes wait at most" bash -c "head -c 4096 /dev/zero | tr '\\0' a > '$I/console'"
fails_with EAGAIN "one more byte is EAGAIN" bash -c "printf b > '$I/console'"
like "$(get "$I/run/err")" "the console input of instance web1 is full" "run/err says why"
r=$(api GET "/v1/hosts/hv1/console-input?wait=1" "$T1")
is "$(body "$r" | jget '.input[0].hex' | wc -c)" 8193 "the host is given the 4096 bytes"
ok "then it takes input again" bash -c "printf b > '$I/console'"

# ---- stopped: the queue is dropped, writes are refused ----
put off "$I/power"
report "$T1" hv1 100 3 '[{"id":'"$ID"',"domain":"vdc-'"$ID"'","state":"stopped"}]' > /dev/null
is_stopped() { test "$(get "$I/run/state")" = stopped; }
vdc_wait 10 is_stopped
is "$(get "$I/run/state")" stopped "the instance stopped"
fails_with EINVAL "a write while it is stopped is EINVAL" put ls "$I/console"
r=$(api GET "/v1/hosts/hv1/console-input?wait=1" "$T1")
is "$(body "$r")" '{"input":[]}' "what was typed before it stopped is not kept for its next boot"

done_testing
