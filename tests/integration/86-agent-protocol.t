# The agent protocol at the wire (docs/agent-protocol.md), spoken with curl
# against a real vdcfs: TLS with the pinned key, joining, tokens bound to
# one host, long-poll by revision, full reports that a late or repeated one
# cannot undo, console offsets, image downloads with their checksum, and a
# host that falls silent. No libvirt here: the agent is played by hand.
. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null && command -v jq >/dev/null || skip_all "curl or jq is missing (scripts/install-deps)"
VDCFS_OPTS="${VDCFS_OPTS:+$VDCFS_OPTS,}heartbeat=1,host-timeout=2"
vdc_start

read -r -a JOIN < "$MNT/hosts/join"
is "${JOIN[0]} ${JOIN[1]} ${JOIN[3]} ${JOIN[5]}" "vdc-hva --server --pin --token" "hosts/join is one vdc-hva command"
SRV=${JOIN[2]} PIN=${JOIN[4]} JTOKEN=${JOIN[6]}
like "$PIN" '^sha256//[A-Za-z0-9+/]{43}=$' "the pin is curl's sha256// form"
like "$JTOKEN" '^[0-9a-f]{64}$' "the join token is 32 random bytes in hex"
is "$(stat -c %a "$MNT/hosts/join")" 400 "hosts/join is root's alone (mode 0400)"

# api METHOD PATH [TOKEN [curl args...]]: prints the body, then the status on its own line.
api() {
	local m=$1 p=$2 t=${3:-}
	shift 3 2>/dev/null || shift $#
	timeout 40 curl -sS -k --pinnedpubkey "$PIN" -X "$m" ${t:+-H "Authorization: Bearer $t"} \
		-w '\n%{http_code}' "$@" "https://$SRV$p"
}
status() { tail -n 1 <<<"$1"; }
body() { sed '$d' <<<"$1"; }
jget() { jq -c -r "$1"; }

# ---- TLS ----
nok "a client pinning another key is refused by its own check" \
	timeout 10 curl -sS -k --pinnedpubkey "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" "https://$SRV/v1/join"
nok "a client that checks the certificate against CAs does not trust it" \
	timeout 10 curl -sS "https://$SRV/v1/join"
ok "the key and certificate are in STATE/tls, mode 0600" \
	test "$(stat -c %a "$STATE/tls/key.pem") $(stat -c %a "$STATE/tls/cert.pem")" = "600 600"

# ---- joining ----
r=$(api POST /v1/join "" -d '{"name":"hv1","token":"'"$JTOKEN"'","kind":"hva"}')
is "$(status "$r")" 200 "join with the join token"
T1=$(body "$r" | jget '.token')
like "$T1" '^[0-9a-f]{64}$' "the host token is 32 random bytes in hex"
ok "hosts/hv1 exists" test -d "$MNT/hosts/hv1"
is "$(get "$MNT/hosts/hv1/run/state")" joined "a joined host that has not reported is joined"
r=$(api POST /v1/join "" -d '{"name":"hv2","token":"'"$JTOKEN"'"}')
T2=$(body "$r" | jget '.token')
r=$(api POST /v1/join "" -d '{"name":"hv3","token":"0123"}')
is "$(status "$r")" 403 "a wrong join token is refused (403)"
ok "and makes no host" test ! -e "$MNT/hosts/hv3"
ok "the refusal is in run/events" grep -q "refused a join of host hv3 from .*: wrong join token" "$MNT/run/events"
r=$(api POST /v1/join "" -d '{"name":"hv1","token":"'"$JTOKEN"'"}')
is "$(status "$r")" 409 "joining again under a taken name is refused (409)"
r=$(api POST /v1/join "" -d '{"name":"Bad_Name","token":"'"$JTOKEN"'"}')
is "$(status "$r")" 400 "a bad host name is refused (400)"
r=$(api POST /v1/join "" -d 'not json')
is "$(status "$r")" 400 "a body that is not JSON is refused (400)"
r=$(api POST /v1/join "" --data-binary @<(head -c 5000000 /dev/zero))
is "$(status "$r")" 413 "a join body over 4096 bytes is refused (413)"

# ---- tokens are bound to their host ----
r=$(api GET "/v1/hosts/hv1/desired?rev=0")
is "$(status "$r")" 403 "no token: refused"
r=$(api GET "/v1/hosts/hv1/desired?rev=0" "$T2")
is "$(status "$r")" 403 "hv2's token for hv1 (a forged host name): refused"
like "$(body "$r")" "token of host hv2 was used for host hv1" "the answer says whose token it was"
ok "the forgery is in run/events" grep -q "refused a desired-state request from .*: the token of host hv2 was used for host hv1" "$MNT/run/events"
r=$(api POST /v1/hosts/hv1/report "deadbeef" -d '{}')
is "$(status "$r")" 403 "a made-up token: refused"
r=$(api GET "/v1/hosts/hv1/desired?rev=0" "$T1")
is "$(status "$r")" 200 "hv1's own token: served"
DC=$(body "$r" | jget '.dc')
like "$DC" '^[0-9a-f]{32}$' "the desired state names the data center"
is "$(body "$r" | jget '.instances')" "[]" "no instances yet"
REV=$(body "$r" | jget '.rev')

# ---- reports, placement, long-poll ----
facts='"facts":{"cpus":2,"memory_mib":1024,"driver":"qemu","virt":"tcg","libvirt":"9.0.0","version":"t"}'
report() {   # report TOKEN HOST EPOCH SEQ INSTANCES-JSON
	api POST "/v1/hosts/$2/report" "$1" -d '{"epoch":'"$3"',"seq":'"$4"',"rev":0,'"$facts"',"instances":'"$5"'}'
}
r=$(report "$T1" hv1 100 1 '[]')
is "$(status "$r")" 200 "a report is accepted"
is "$(get "$MNT/hosts/hv1/run/state")" up "the host is up"
is "$(get "$MNT/hosts/hv1/run/cpus") $(get "$MNT/hosts/hv1/run/memory")" "2 1024M" "run/cpus and run/memory show what it offers"
is "$(get "$MNT/hosts/hv1/run/driver")" "qemu tcg, libvirt 9.0.0, vdc-hva t" "run/driver"
r=$(report "$T1" hv1 100 1 '[{"id":"x"}]')
is "$(status "$r")" 400 "a report with a malformed instance is refused (400)"

mkdir "$MNT/images/tiny" "$MNT/instances/web1"
head -c 300000 /dev/urandom > "$VDC_TMP/img"
cp "$VDC_TMP/img" "$MNT/images/tiny/data"
ln -s ../../images/tiny "$MNT/instances/web1/image"
put 256M "$MNT/instances/web1/memory"
# A long-poll at the current revision returns when the power goes on.
(api GET "/v1/hosts/hv1/desired?rev=$REV&wait=20" "$T1" > "$VDC_TMP/poll") &
poll=$!
sleep 0.5
t0=$(date +%s%N)
put on "$MNT/instances/web1/power"
wait "$poll"
t1=$(date +%s%N)
r=$(cat "$VDC_TMP/poll")
is "$(status "$r")" 200 "the long-poll answers"
ok "at once when the desired state changes ($(((t1 - t0) / 1000000)) ms)" test $(((t1 - t0) / 1000000)) -lt 5000
ok "with a newer revision" test "$(body "$r" | jget '.rev')" -gt "$REV"
is "$(body "$r" | jget '.instances[0].name')" web1 "listing the instance placed on the host"
ID=$(body "$r" | jget '.instances[0].id')
is "$(body "$r" | jget '.instances[0].domain')" "vdc-$ID" "its domain is vdc-ID"
is "$(body "$r" | jget '.instances[0].memory_mib') $(body "$r" | jget '.instances[0].power')" "256 on" "with its memory and power"
# The checksum is computed off the model's lock (64-image-checksum.t): the
# first answer may name the image without it; a later revision carries it.
has_sum() { [ "$(body "$(api GET "/v1/hosts/hv1/desired?rev=0" "$T1")" | jget '.instances[0].image.sha256')" != null ]; }
vdc_wait 10 has_sum
r=$(api GET "/v1/hosts/hv1/desired?rev=0" "$T1")
is "$(body "$r" | jget '.instances[0].image.sha256')" "$(sha256sum < "$VDC_TMP/img" | cut -d' ' -f1)" "and its image's checksum"
# (a report first: with host-timeout=2 a loaded machine may have found hv1
# silent since the last, before the image was copied and the poll waited)
report "$T1" hv1 100 2 '[]' > /dev/null
is "$(get "$MNT/instances/web1/run/host")" hv1 "run/host names the host"
is "$(get "$MNT/instances/web1/run/state")" starting "run/state is starting"
is "$(readlink "$MNT/hosts/hv1/instances/web1")" ../../../instances/web1 "hosts/hv1/instances/web1 links the instance"
REV=$(body "$r" | jget '.rev')
t0=$(date +%s%N)
r=$(api GET "/v1/hosts/hv1/desired?rev=$REV&wait=1" "$T1")
t1=$(date +%s%N)
ok "with nothing new, the long-poll waits out its wait" test $(((t1 - t0) / 1000000)) -ge 900
is "$(body "$r" | jget '.rev')" "$REV" "and answers the same revision"
r=$(api GET "/v1/hosts/hv2/desired?rev=0" "$T2")
is "$(body "$r" | jget '.instances')" "[]" "hv2 is not told of hv1's instance"

r=$(report "$T1" hv1 100 3 '[{"id":'"$ID"',"domain":"vdc-'"$ID"'","state":"running","ip":"192.0.2.7"}]')
is "$(get "$MNT/instances/web1/run/state")" running "a report of the domain running: running"
is "$(get "$MNT/instances/web1/run/ip")" 192.0.2.7 "run/ip"
r=$(report "$T1" hv1 100 1 '[{"id":'"$ID"',"state":"stopped"}]')
is "$(status "$r")" 200 "a late report (older seq) is answered"
is "$(get "$MNT/instances/web1/run/state")" running "but changes nothing"
r=$(report "$T1" hv1 100 3 '[{"id":'"$ID"',"state":"stopped"}]')
is "$(get "$MNT/instances/web1/run/state")" running "nor does a repeated one"
r=$(report "$T2" hv2 100 3 '[{"id":'"$ID"',"state":"stopped"}]')
is "$(get "$MNT/instances/web1/run/state")" running "nor another host's report of it"
fails_with EBUSY "rmdir of a running instance" rmdir "$MNT/instances/web1"

# ---- console ----
r=$(api POST "/v1/hosts/hv1/console/$ID?offset=0" "$T1" --data-binary 'vdc-guest: hostname web1
')
is "$(body "$r" | jget '.have')" 25 "console bytes are taken (have 25)"
r=$(api POST "/v1/hosts/hv1/console/$ID?offset=0" "$T1" --data-binary 'vdc-guest: hostname web1
')
is "$(body "$r" | jget '.have')" 25 "the same bytes again are skipped"
r=$(api POST "/v1/hosts/hv1/console/$ID?offset=25" "$T1" --data-binary 'vdc-guest: ready
')
is "$(get "$MNT/instances/web1/run/console")" "vdc-guest: hostname web1
vdc-guest: ready" "run/console shows the serial output in order"
r=$(api POST "/v1/hosts/hv2/console/$ID?offset=0" "$T2" --data-binary 'forged')
is "$(status "$r")" 404 "another host cannot write an instance's console"

# ---- images ----
api GET /v1/hosts/hv1/images/tiny "$T1" -o "$VDC_TMP/got" -D "$VDC_TMP/headers" > /dev/null
ok "an image downloads whole" cmp "$VDC_TMP/img" "$VDC_TMP/got"
ok "with its checksum in X-Vdc-Sha256" grep -qi "^x-vdc-sha256: $(sha256sum < "$VDC_TMP/img" | cut -d' ' -f1)" "$VDC_TMP/headers"
r=$(api GET /v1/hosts/hv1/images/nope "$T1")
is "$(status "$r")" 404 "a missing image is 404"
r=$(api GET /v1/hosts/hv1/images/tiny "nonsense")
is "$(status "$r")" 403 "a download without a valid token is refused"

# ---- verbs reach the host ----
# (a report first: with host-timeout=2 a slow machine may have found hv1 silent)
r=$(report "$T1" hv1 100 10 '[{"id":'"$ID"',"state":"running"}]')
put reboot "$MNT/instances/web1/ctl"
r=$(api GET "/v1/hosts/hv1/desired?rev=0" "$T1")
is "$(body "$r" | jget '.instances[0].reboot')" 1 "ctl reboot asks the host for one more reboot"

# ---- a silent host ----
sleep 3.5
is "$(get "$MNT/hosts/hv1/run/state")" unknown "a host silent past host-timeout is unknown"
is "$(get "$MNT/instances/web1/run/state")" unknown "and so are its instances"
like "$(get "$MNT/hosts/hv1/run/err")" "no report" "run/err says why"
fails_with EBUSY "evacuate of an unknown host" put evacuate "$MNT/hosts/hv1/ctl"
r=$(report "$T1" hv1 200 1 '[{"id":'"$ID"',"state":"running"}]')
is "$(get "$MNT/hosts/hv1/run/state") $(get "$MNT/instances/web1/run/state")" "up running" "its next report (a new epoch) brings both back"

# ---- the tree of hosts/ is the data center's own ----
fails_with EPERM "mkdir hosts/x" mkdir "$MNT/hosts/x"
fails_with EPERM "mv hosts/hv1 hosts/hv9" mv "$MNT/hosts/hv1" "$MNT/hosts/hv9"
fails_with EPERM "ln -s into hosts/hv1/instances" ln -s ../../../instances/web1 "$MNT/hosts/hv1/instances/x"
fails_with EPERM "rm of a link in hosts/hv1/instances" rm "$MNT/hosts/hv1/instances/web1"
fails_with EBUSY "rmdir of a host with instances" rmdir "$MNT/hosts/hv1"
fails_with EINVAL "schedulable takes on or off" put maybe "$MNT/hosts/hv1/schedulable"

# ---- a restart keeps hosts, tokens, placement and the port ----
before="$(get "$MNT/instances/web1/run/host") $(get "$MNT/instances/web1/run/state")"
vdc_restart
read -r -a JOIN2 < "$MNT/hosts/join"
is "${JOIN2[4]} ${JOIN2[6]}" "$PIN $JTOKEN" "after a restart: the same pin and join token"
SRV=${JOIN2[2]}
after="$(get "$MNT/instances/web1/run/host") $(get "$MNT/instances/web1/run/state")"
# With host-timeout=2 and no agent reporting, a restart slower than 2 s
# finds hv1 silent: then the state is unknown, as it would be without one.
if [ "$after" = "hv1 unknown" ] && [ "$(get "$MNT/hosts/hv1/run/state")" = unknown ]; then
	pass "the placement is kept (the state is unknown: hv1 fell silent during a slow restart)"
else
	is "$after" "$before" "the placement and state are kept"
fi
like "$before" "^hv1 (running|unknown)$" "(they were hv1 and running, or unknown after a slow stretch)"
r=$(api GET "/v1/hosts/hv1/desired?rev=0" "$T1")
is "$(status "$r")" 200 "hv1's token still works"
is "$(body "$r" | jget '.dc')" "$DC" "the data center id is kept"

# ---- removing a host ----
r=$(api POST /v1/join "" -d '{"name":"hv4","token":"'"$JTOKEN"'"}')
T4=$(body "$r" | jget '.token')
ok "rmdir of an empty host" rmdir "$MNT/hosts/hv4"
r=$(api GET "/v1/hosts/hv4/desired?rev=0" "$T4")
is "$(status "$r")" 403 "its token no longer works"

done_testing
