# The agent port against strangers and against hosts that misreport
# (docs/agent-protocol.md, "Limits"), spoken with curl against a real
# vdcfs: a flood of bad joins is counted, not logged line by line, so the
# history before it stays in run/events; bodies of strangers are refused
# from their headers, so 40 of them sending 4.1 MB each cost vdcfs no
# memory; a host's report reaches run/err and run/events only as one
# line of text, cut to a bound, and a number out of range refuses the
# report.
# (The summary of refusals comes a minute after the first: a longer watchdog.)
VDC_WATCHDOG=$(( ${VDC_WATCHDOG:-0} > 240 ? VDC_WATCHDOG : 240 ))
. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null && command -v jq >/dev/null || skip_all "curl or jq is missing (scripts/install-deps)"
VDCFS_OPTS="${VDCFS_OPTS:+$VDCFS_OPTS,}heartbeat=1,host-timeout=600"
vdc_start
PID=$(_vdc_pid)

read -r -a JOIN < "$MNT/hosts/join"
SRV=${JOIN[2]} PIN=${JOIN[4]} JTOKEN=${JOIN[6]}

# api METHOD PATH [TOKEN [curl args...]]: prints the body, then the status on its own line.
api() {
	local m=$1 p=$2 t=${3:-}
	shift 3 2>/dev/null || shift $#
	timeout 60 curl -sS -k --pinnedpubkey "$PIN" -X "$m" ${t:+-H "Authorization: Bearer $t"} \
		-w '\n%{http_code}' "$@" "https://$SRV$p"
}
status() { tail -n 1 <<<"$1"; }
body() { sed '$d' <<<"$1"; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$PID/status"; }

# ---- history, then 2500 bad joins ----
mkdir "$MNT/networks/before-the-flood"
ok "run/events holds a line before the flood" grep -q "networks/before-the-flood created" "$MNT/run/events"
for i in $(seq 2500); do
	printf 'url = "https://%s/v1/join"\noutput = "/dev/null"\n' "$SRV"
done > "$VDC_TMP/flood.cfg"
t0=$(date +%s)
timeout 300 curl -sS -k --pinnedpubkey "$PIN" -d '{"name":"flood","token":"0123"}' -w '%{http_code}\n' \
	-K "$VDC_TMP/flood.cfg" > "$VDC_TMP/flood.codes" 2> "$VDC_TMP/flood.err"
is "$(sort "$VDC_TMP/flood.codes" | uniq -c | awk '{ print $1, $2 }')" "2500 403" \
	"2500 joins with a wrong join token are refused (403) ($(($(date +%s) - t0)) s)"
ok "run/events still holds the line from before them" grep -q "networks/before-the-flood created" "$MNT/run/events"
is "$(grep -c "refused a join of host flood from 127.0.0.1: wrong join token" "$MNT/run/events")" 1 \
	"the first refusal is logged as it is, the rest are counted"
ok "no host is made" test ! -e "$MNT/hosts/flood"

# Many addresses (127.0.0.10 to .209, loopback all): at most 32 first
# lines a minute between them, the rest counted and summed up.
t0=$(date +%s)
seq 10 209 | xargs -P 10 -I{} timeout 60 curl -sS -k --pinnedpubkey "$PIN" --interface "127.0.0.{}" \
	-o /dev/null -w '%{http_code}\n' -d '{"name":"many","token":"0123"}' "https://$SRV/v1/join" \
	> "$VDC_TMP/many.codes" 2> "$VDC_TMP/many.err"
t1=$(date +%s)
is "$(sort "$VDC_TMP/many.codes" | uniq -c | awk '{ print $1, $2 }')" "200 403" \
	"200 addresses each send a bad join (403) ($((t1 - t0)) s)"
# (the minutes of the budget need not start with the flood: it may span two of them, or more when slow)
lines=$(grep -c "refused a join of host many from 127\.0\.0\." "$MNT/run/events")
ok "at most 32 of them a minute are logged as they are ($lines)" test "$lines" -le $((32 * ((t1 - t0) / 60 + 2) - 1))
ok "run/events still holds the line from before the floods" grep -q "networks/before-the-flood created" "$MNT/run/events"

# ---- 6: bodies of strangers are not read ----
head -c 4100000 /dev/zero > "$VDC_TMP/big"
before=$(rss_kb)
pids=()
for i in $(seq 40); do
	timeout 60 curl -sS -k --pinnedpubkey "$PIN" --data-binary @"$VDC_TMP/big" -o /dev/null \
		-w '%{http_code}\n' "https://$SRV/v1/join" >> "$VDC_TMP/big.codes" 2> /dev/null &
	pids+=($!)
done
peak=$before
running() { local p; for p in "$@"; do kill -0 "$p" 2> /dev/null && return 0; done; return 1; }
while running "${pids[@]}"; do
	now=$(rss_kb)
	[ "$now" -le "$peak" ] || peak=$now
	sleep 0.05
done
wait "${pids[@]}"
now=$(rss_kb)
[ "$now" -le "$peak" ] || peak=$now
ok "40 connections sending 4.1 MB each to POST /v1/join: vdcfs's RSS grows by less than 20 MB ($before kB, at most $peak kB)" \
	test $((peak - before)) -lt 20480
diag "their answers: $(sort "$VDC_TMP/big.codes" | uniq -c | tr -s ' \n' ' ')"
is "$(grep -cv '^\(413\|000\)$' "$VDC_TMP/big.codes")" 0 "each is refused at once (413) or not accepted at all (000)"
ok "and some were answered 413: the body is larger than the join's bound" grep -qx 413 "$VDC_TMP/big.codes"
# (curl asks with Expect: 100-continue before it sends a large body, so
# the answer comes before it; a client that sends it at once may see the connection reset
# under its feet, as the rest of the body is not read.)
r=$(api POST /v1/join "" --data-binary @"$VDC_TMP/big")
is "$(status "$r")" 413 "a join with a 4.1 MB body: 413 from its headers"
like "$(body "$r")" "larger than 4096 bytes" "saying the bound"

r=$(api POST /v1/join "" -d '{"name":"hv1","token":"'"$JTOKEN"'"}')
is "$(status "$r")" 200 "the right join token still joins"
T1=$(body "$r" | jq -r .token)
r=$(api POST /v1/hosts/hv1/report "0123" --data-binary @"$VDC_TMP/big")
is "$(status "$r")" 403 "a report with a wrong token is refused from its headers (403)"
r=$(api POST /v1/hosts/hv1/report "" --data-binary @"$VDC_TMP/big")
is "$(status "$r")" 403 "and one without a token"
head -c 20000000 /dev/zero > "$VDC_TMP/huge"
r=$(api POST /v1/hosts/hv1/report "$T1" --data-binary @"$VDC_TMP/huge")
is "$(status "$r")" 413 "a report of 20 MB, above the bound of the largest host's report, is refused (413)"
rm -f "$VDC_TMP/huge"

# ---- 8: what hosts report is checked ----
facts='"facts":{"cpus":2,"memory_mib":1024,"driver":"qemu","virt":"tcg","libvirt":"9.0.0","version":"t"}'
report() {   # report TOKEN HOST EPOCH SEQ INSTANCES-JSON [FACTS]
	api POST "/v1/hosts/$2/report" "$1" -d '{"epoch":'"$3"',"seq":'"$4"',"rev":0,'"${6:-$facts}"',"instances":'"$5"'}'
}
r=$(report "$T1" hv1 100 1 '[]')
is "$(status "$r")" 200 "a good report is accepted"
is "$(get "$MNT/hosts/hv1/run/cpus")" 2 "run/cpus shows it"

r=$(report "$T1" hv1 100 2 '[]' '"facts":{"cpus":4294967297,"memory_mib":1024}')
is "$(status "$r")" 400 "cpus 4294967297 is refused (400), not truncated"
like "$(body "$r")" "facts.cpus is 4294967297; it must be an integer from 0 to 8192" "with a sentence saying the range"
is "$(get "$MNT/hosts/hv1/run/cpus")" 2 "run/cpus is unchanged"
ok "the refusal is in run/events" \
	grep -q "refused a report of host hv1 from 127.0.0.1: facts.cpus is 4294967297" "$MNT/run/events"
r=$(report "$T1" hv1 100 3 '[{"id":1,"state":"running","reboot":-1}]')
is "$(status "$r")" 400 "a negative counter is refused"
r=$(report "$T1" hv1 100 4 '[{"id":1,"state":"run\nning"}]')
is "$(status "$r")" 400 "a state that is not a word is refused"
r=$(report "$T1" hv1 100 5 '[]' '"facts":{"cpus":2,"memory_mib":1024,"driver":"qemu\u001b[31m"}')
is "$(status "$r")" 400 "a driver with an escape sequence is refused"
like "$(get "$MNT/hosts/hv1/run/driver")" "^qemu tcg" "run/driver is unchanged"

mkdir "$MNT/images/tiny" "$MNT/instances/web1"
head -c 65536 /dev/urandom | putb "$MNT/images/tiny/data"
ln -s ../../images/tiny "$MNT/instances/web1/image"
put 256M "$MNT/instances/web1/memory"
put on "$MNT/instances/web1/power"
ok "the instance is placed on hv1" vdc_wait 10 grep -qx hv1 "$MNT/instances/web1/run/host"
ID=$(api GET "/v1/hosts/hv1/desired?rev=0" "$T1" | sed '$d' | jq -r '.instances[0].id')
forged='boom\n2026-01-01T00:00:00Z vdc forged line\u001b[31m red\t'
r=$(report "$T1" hv1 100 10 '[{"id":'"$ID"',"state":"error","err":"'"$forged"'"}]')
is "$(status "$r")" 200 "a report of an error with newline, ESC and tab in err is accepted"
ok "run/state is error" vdc_wait 10 grep -qx error "$MNT/instances/web1/run/state"
is "$(get "$MNT/instances/web1/run/err")" \
	'boom\x0a2026-01-01T00:00:00Z vdc forged line\x1b[31m red\x09' "run/err shows the control bytes escaped, on one line"
nok "no line of run/events is forged" grep -q "^2026-01-01T00:00:00Z vdc forged" "$MNT/run/events"
nok "no ESC reaches run/events" grep -q $'\e' "$MNT/run/events"

python3 -c 'import json; print(json.dumps({"epoch": 100, "seq": 11, "rev": 0,
	"facts": {"cpus": 2, "memory_mib": 1024},
	"instances": [{"id": '"$ID"', "state": "error", "err": "x" * 3000000}]}))' > "$VDC_TMP/long.json"
r=$(api POST /v1/hosts/hv1/report "$T1" --data-binary @"$VDC_TMP/long.json")
is "$(status "$r")" 200 "a report with a 3 MB err is accepted"
err=$(get "$MNT/instances/web1/run/err")
is "${#err}" 319 "run/err holds 319 bytes of it, not 3 MB"
like "$err" '^x+\.\.\.$' "ending in ... where it was cut"
ok "nor does run/events hold it" test "$(wc -c < "$MNT/run/events")" -lt 1000000

# A storage host's report is checked the same way (docs/storage.md).
r=$(api POST /v1/join "" -d '{"name":"st1","token":"'"$JTOKEN"'","kind":"sta"}')
TS=$(body "$r" | jq -r .token)
sta_report() {   # sta_report SEQ FACTS VOLUMES
	api POST /v1/hosts/st1/report "$TS" -d '{"epoch":1,"seq":'"$1"',"rev":0,"facts":'"$2"',"volumes":'"$3"'}'
}
r=$(sta_report 1 '{"disk_mib":1024,"driver":"tgt","portal":"127.0.0.1:3260","version":"t"}' '[]')
is "$(status "$r")" 200 "a storage host's good report is accepted"
is "$(get "$MNT/hosts/st1/run/disk")" 1024M "run/disk shows it"
r=$(sta_report 2 '{"disk_mib":1099511627777,"portal":"127.0.0.1:3260"}' '[]')
is "$(status "$r")" 400 "disk_mib past 1 EiB is refused"
r=$(sta_report 3 '{"disk_mib":2048,"portal":"127.0.0.1:3260\nx"}' '[]')
is "$(status "$r")" 400 "a portal with a newline is refused"
r=$(sta_report 4 '{"disk_mib":2048,"portal":"127.0.0.1:3260"}' '[{"id":1,"state":"available","size":-1}]')
is "$(status "$r")" 400 "a negative volume size is refused"
is "$(get "$MNT/hosts/st1/run/disk")" 1024M "run/disk is unchanged"

# ---- 10: the refusals are summed up once a minute ----
ok "a line sums up the refused requests of 127.0.0.1 when the minute is over" \
	vdc_wait 90 grep -qE "vdc agent server: refused [0-9]+ unauthenticated requests from 127.0.0.1 in the last 6[0-9] s" "$MNT/run/events"
# Every bad join of the 200 addresses is in a line: as it is, in its address's sum, or in the sum of
# those past the lines of a minute.
many() {
	local n
	n=$(grep -c "refused a join of host many from 127\.0\.0\." "$MNT/run/events")
	n=$((n + $(grep -oE "refused [0-9]+ (more )?unauthenticated requests? from (127\.0\.0\.([2-9][0-9]|1[0-9][0-9]|20[0-9])|[0-9]+ more address)" \
		"$MNT/run/events" | awk '{ s += $2 } END { print s + 0 }')))
	echo "$n"
	test "$n" -eq 200
}
vdc_wait 90 many > /dev/null
is "$(many)" 200 "every one of the 200 addresses' bad joins is counted in run/events, once"
n=$(grep -oE "refused [0-9]+ unauthenticated requests from 127.0.0.1 " "$MNT/run/events" | head -n 1 | awk '{ print $2 }')
ok "counting the 2499 bad joins after the first, and the rest ($n)" test "${n:-0}" -ge 2499
ok "run/events still holds the line from before the flood" grep -q "networks/before-the-flood created" "$MNT/run/events"
ok "and the strangers' refusals from 127.0.0.1 took a handful of lines ($(grep -cE "refused .* from 127\.0\.0\.1[: ]" "$MNT/run/events"))" \
	test "$(grep -cE "refused .* from 127\.0\.0\.1[: ]" "$MNT/run/events")" -le 10

done_testing
