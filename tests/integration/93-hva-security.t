# Issue 3, security of the agent protocol: the API is TLS with a pinned key;
# a wrong join token, a missing or wrong host token and a forged host name
# (host a's token used for host b) are refused with 403 and logged in
# run/events; nothing changes. Also through vdc-hva itself. A stranger's
# refusals are logged one a minute per source address (87 checks the
# sums), so each of them below comes from an address of its own.

# At least 300 s; more when the caller asks for more (make valgrind).
VDC_WATCHDOG=$(( ${VDC_WATCHDOG:-0} > 300 ? VDC_WATCHDOG : 300 ))
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hosts.sh"
VDC_HVA_OPTIONAL=1     # the protocol part runs without an agent
. "$(dirname "$0")/hva.sh"

vdc_start
H=$MNT/hosts
if vdc_join_read; then
	pass "hosts/join reads"
else
	fail "hosts/join reads" "$(get "$H/join")"
	echo "Bail out! no join command"
	exit 1
fi

# The status of a request (the last line vdc_api prints).
status() { vdc_api "$@" 2> /dev/null | vdc_status; }
# events_since N: run/events lines after the first N.
nevents() { get "$MNT/run/events" | wc -l; }
events_since() { get "$MNT/run/events" | tail -n "+$(($1 + 1))"; }
# from N: curl's arguments to send from 127.0.0.N (the server is on loopback).
from() { printf -- '--interface\n127.0.0.%s\n' "$1"; }
join_body() { printf '{"name": "%s", "token": "%s", "kind": "hva"}' "$1" "$2"; }
report_body() {
	printf '{"epoch": %s, "seq": 1, "rev": 0, "facts": {"cpus": 64, "memory_mib": 999999, "driver": "qemu", "virt": "tcg", "libvirt": "9.0.0", "version": "evil"}, "instances": []}' \
		"$(($(date +%s) * 1000000))"
}

# ---- the transport ----

is "$(stat -c %a "$STATE/tls/key.pem" 2> /dev/null)" 600 "the server key is 0600"
ok "the pinned key is the server's" eval 'vdc_api GET /v1/hosts/nobody/desired?rev=0 > /dev/null'
nok "a wrong pin is refused by the client" timeout 10 curl -sS -k -o /dev/null \
	--pinnedpubkey "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" "https://$JOIN_SERVER/v1/join"
nok "plain HTTP gets no answer" timeout 10 curl -sS -f -o /dev/null "http://$JOIN_SERVER/v1/join"
fails_with EACCES "only root reads hosts/join" runuser -u nobody -- cat "$H/join"
ok "hosts/ is left out of exports (CACHEDIR.TAG)" test -f "$H/CACHEDIR.TAG"

# ---- joining ----

n=$(nevents)
is "$(status POST /v1/join $(from 31) -H 'Content-Type: application/json' -d "$(join_body evil 0000000000000000000000000000000000000000000000000000000000000000)")" \
	403 "a join with a wrong token gets 403"
ok "... logged in run/events" eval 'events_since "$n" | grep -E "refused.*evil.*(join|token)"'
ok "... and no host evil appears" test ! -e "$H/evil"
is "$(status POST /v1/join -d "$(join_body evil '')")" 403 "a join with an empty token gets 403"
is "$(status POST /v1/join -d '{"name": "evil"')" 400 "bad JSON gets 400"
is "$(status POST /v1/join -d "$(join_body Evil/../x "$JOIN_TOKEN")")" 400 "a bad host name gets 400"
is "$(cd "$H" && echo *)" "CACHEDIR.TAG join" "... and no host appears"

out=$(vdc_api POST /v1/join -d "$(join_body b "$JOIN_TOKEN")")
is "$(tail -n 1 <<< "$out")" 200 "host b joins by hand with the join token"
tok_b=$(head -n 1 <<< "$out" | sed -n 's/.*"token": *"\([0-9a-f]*\)".*/\1/p')
like "$tok_b" '^[0-9a-f]{64}$' "... and gets a host token"
ok "hosts/b appears" test -d "$H/b"
is "$(get "$H/b/run/state")" joined "hosts/b is joined, not up"
n=$(nevents)
is "$(status POST /v1/join -d "$(join_body b "$JOIN_TOKEN")")" 409 "a second join of b gets 409"
ok "... logged" eval 'events_since "$n" | grep -E "refused.* b|b.*joined before|refused"'

# ---- requests of a joined host ----

# Host m joins by hand too: its token is the one a forger holds.
out=$(vdc_api POST /v1/join -d "$(join_body m "$JOIN_TOKEN")")
tok_m=$(head -n 1 <<< "$out" | sed -n 's/.*"token": *"\([0-9a-f]*\)".*/\1/p')
like "$tok_m" '^[0-9a-f]{64}$' "host m joins by hand"
isnt "$tok_m" "$tok_b" "every host gets a token of its own"

like "$(vdc_api GET '/v1/hosts/m/desired?rev=0' -H "Authorization: Bearer $tok_m")" '"rev"' \
	"host m's token reads host m's desired state"
n=$(nevents)
is "$(status GET '/v1/hosts/m/desired?rev=0' $(from 32))" 403 "no token: 403"
is "$(status GET '/v1/hosts/m/desired?rev=0' $(from 33) -H "Authorization: Bearer $JOIN_TOKEN")" 403 \
	"the join token is no host token: 403"
# The last hex digit changed.
last=${tok_m: -1}
[ "$last" = 0 ] && last=1 || last=0
is "$(status GET '/v1/hosts/m/desired?rev=0' $(from 34) -H "Authorization: Bearer ${tok_m%?}$last")" 403 \
	"a wrong host token: 403"
is "$(status GET '/v1/hosts/m/desired?rev=0' $(from 35) -H "Authorization: Bearer $tok_m$tok_m")" 403 \
	"a host token twice over: 403"
ok "... each logged in run/events" eval '[ "$(events_since "$n" | grep -c refused)" -ge 4 ]'

# Host m's token used for host b.
n=$(nevents)
is "$(status GET '/v1/hosts/b/desired?rev=0' -H "Authorization: Bearer $tok_m")" 403 \
	"host m's token on host b's desired state: 403"
is "$(status POST /v1/hosts/b/report -H "Authorization: Bearer $tok_m" -d "$(report_body)")" 403 \
	"host m's token on host b's report: 403"
is "$(status POST '/v1/hosts/b/console/1?offset=0' -H "Authorization: Bearer $tok_m" --data-binary x)" 403 \
	"host m's token on host b's console: 403"
is "$(status GET /v1/hosts/b/images/tiny -H "Authorization: Bearer $tok_m")" 403 \
	"host m's token on host b's images: 403"
ok "... each logged in run/events, naming b" eval '[ "$(events_since "$n" | grep refused | grep -c "\bb\b")" -ge 4 ]'
is "$(get "$H/b/run/state")" joined "host b did not turn up from a forged report"
is "$(get "$H/b/run/cpus")" 0 "... nor take its facts"
is "$(get "$H/m/run/state")" joined "nor did host m"
is "$(status POST /v1/hosts/b/report -H "Authorization: Bearer $tok_b" -d "$(report_body)")" 200 \
	"host b's own token reports for b"
ok "... and b is up" vdc_wait_host_state b up 5
is "$(get "$H/b/run/cpus")" 64 "... with its facts"

# ---- the same through vdc-hva ----

if [ "$VDC_HVA_MISSING" = 1 ]; then
	skip "vdc-hva is not built: its part is left out"
	vdc_stop
	done_testing
	exit 0
fi
if vdc_hva_host a 1; then
	pass "host a joins through vdc-hva"
else
	fail "host a joins through vdc-hva"
	vdc_hva_diag a
fi
tok_a=$(cat "$(vdc_host_dir a)/hva/host.token" 2> /dev/null)
like "$tok_a" '^[0-9a-f]{64}$' "host a's token is in its state"

# A host that has a's token in its state and says it is b.
ok "host x comes up" vdc_host_up x 3
cp -p "$(vdc_host_dir a)/hva/host.token" "$(vdc_host_dir x)/hva/host.token"
n=$(nevents)
vdc_hva_start x --name b
ok "vdc-hva with a's token claiming to be b is refused, and it is logged" \
	vdc_wait 15 eval 'events_since "$n" | grep -q "refused.*\bb\b"'
vdc_hva_kill9 x

# A wrong join token.
n=$(nevents)
vdc_join_read
bad=("${JOIN_ARGS[@]}")
for i in "${!bad[@]}"; do
	[ "${bad[i]}" != "$JOIN_TOKEN" ] || bad[i]=1111111111111111111111111111111111111111111111111111111111111111
done
ok "host y comes up" vdc_host_up y 4
vdc_host_spawn y "$VDC_TMP/hva-y.log" "$VDC_HVA" "${bad[@]}" --name y --state /var/lib/vdc-hva --virt tcg
ypid=$VDC_HOST_PID
ok "vdc-hva with a wrong join token is refused, and it is logged" \
	vdc_wait 15 eval 'events_since "$n" | grep -q "refused.*\by\b"'
ok "... and no host y appears" test ! -e "$H/y"
kill -9 "$ypid" 2> /dev/null

# A wrong pin: the agent must not talk to a server it cannot verify.
bad=("${JOIN_ARGS[@]}")
for i in "${!bad[@]}"; do
	[ "${bad[i]}" != "$JOIN_PIN" ] || bad[i]=sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
done
vdc_host_exec y rm -f /var/lib/vdc-hva/host.token
vdc_host_spawn y "$VDC_TMP/hva-y.log" "$VDC_HVA" "${bad[@]}" --name z --state /var/lib/vdc-hva --virt tcg
zpid=$VDC_HOST_PID
sleep 3
ok "vdc-hva with a wrong pin does not join" test ! -e "$H/z"
kill -9 "$zpid" 2> /dev/null

ok "host a is still up and unharmed" vdc_is "$H/a/run/state" up

vdc_hva_stop a
vdc_stop
done_testing
