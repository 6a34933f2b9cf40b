# Issue 14, run/progress of an image fetch on a hypervisor (docs/vdc-hva.md,
# "Reports"): an instance without a disk on a storage host starts from an
# image vdc-hva fetches into its own cache; while the fetch runs the
# agent reports the instance starting with "progress" ("fetching image
# big: 41% (5M of 12M)"), again every second, and once the fetch ended no
# report carries it. The agent talks to a stand-in of vdcfs
# (fake-vdcfs.py: the desired state from a file, the reports saved, the
# image served slowly), in one host of hosts.sh.

VDC_WATCHDOG=$(( ${VDC_WATCHDOG:-0} > 300 ? VDC_WATCHDOG : 300 ))
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hosts.sh"
. "$(dirname "$0")/hva.sh"
. "$(dirname "$0")/fake.sh"

F=$VDC_TMP/fake
DC=8d7f0a1b2c3d4e5f
ID=21
DOM=vdc-$ID
W=$(( ${VDC_TIMEOUT:-10} * 2 > 60 ? ${VDC_TIMEOUT:-10} * 2 : 60 ))

# ---- the stand-in of vdcfs: 64 KiB every 0.05 s, so 12M take about 10 s ----

mkdir -p "$F"
vdc_fake_key "$F"
vdc_fake_start "$F" "$F" 0.05 "$VDC_TMP/fake-vdcfs.log" || {
	echo "Bail out! the stand-in of vdcfs did not start"
	exit 1
}

# A raw image of 12M with data in every MiB (the guest finds nothing to boot: it need not).
python3 - "$F/images/big" << 'EOF'
import sys
with open(sys.argv[1], "wb") as f:
    f.truncate(12 << 20)
    for i in range(12):
        f.seek(i << 20)
        f.write(b"BIG-%02d" % i * 1000)
EOF
BIG=$(sha256sum "$F/images/big" | cut -c1-64)

REV=0
# desired [ENTRY]: the next revision of the host's desired state, with ENTRY or no instance
desired() {
	REV=$((REV + 1))
	printf '{"rev": %s, "dc": "%s", "heartbeat": 1, "instances": [%s]}' "$REV" "$DC" "${1:-}" > "$F/.desired.json"
	mv "$F/.desired.json" "$F/desired.json"
}
ENTRY=$(printf '{"id": %s, "name": "f1", "domain": "%s", "power": "on", "cpus": 1, "memory_mib": 128, "hostname": "f1", "image": {"name": "big", "sha256": "%s", "size": %s, "format": "raw"}}' \
	"$ID" "$DOM" "$BIG" "$(stat -c %s "$F/images/big")")

# field NAME: member NAME of instance ID in the last report ("" when none)
field() { vdc_fake_member "$F/report.json" instances "$ID" "$1"; }
# progresses: the instance's "progress" in each report of reports.log, in order ("-" when absent)
progresses() { vdc_fake_history "$F/reports.log" instances "$ID" progress; }

# ---- the hypervisor ----

desired
if vdc_host_up a 1 && vdc_host_spawn a "$VDC_TMP/hva-a.log" $VDC_HVA_WRAP "$VDC_HVA" \
	--server "$VDC_SERVER_ADDR:$(cat "$F/port")" --pin "$VDC_FAKE_PIN" --token "$(printf '%064d' 1)" --name a \
	--state /var/lib/vdc-hva --virt tcg --shutdown-timeout 5 --heartbeat 1 &&
	vdc_wait "$W" test -s "$F/report.json"; then
	pass "host a's agent joins the stand-in of vdcfs and reports"
else
	fail "host a's agent joins the stand-in of vdcfs and reports"
	diag "$(tail -n 5 "$VDC_TMP/hva-a.log")"
	echo "Bail out! no hypervisor"
	exit 1
fi

# ---- the fetch ----

desired "$ENTRY"
ok "the instance is reported starting" vdc_wait "$W" eval '[ "$(field state)" = starting ]'
ok "... with the fetch's progress in percent" \
	vdc_wait "$W" grep -q '"progress":"fetching image big: [0-9]*% ([0-9.]*[KM]* of 12M)"' "$F/reports.log"
ok "the image arrives in the cache" vdc_wait "$W" test -f "$(vdc_host_dir a)/hva/images/$BIG"
ok "then a report carries no progress" vdc_wait "$W" eval '[ "$(progresses | tail -n 1)" = - ]'
n=$(progresses | grep -c '^fetching image big: ')
ok "the progress was told again while the fetch ran ($n reports of it)" test "$n" -ge 3
ok "... and it moved (reports of at least 3 different figures)" \
	test "$(progresses | grep '^fetching image big: ' | sort -u | wc -l)" -ge 3
# after_fetch: the progresses told after the first report without one that followed the fetch's
after_fetch() { progresses | awk 'over && $0 != "-" { print } $0 != "-" { told = 1 } $0 == "-" && told { over = 1 }'; }
sleep 2
is "$(after_fetch | grep -vx -- - | head -n 3)" "" "no report after the fetch carries progress"
ok "the instance goes on to run" vdc_wait "$W" eval '[ "$(field state)" = running ]'
nok "... its report without progress" eval '[ -n "$(field progress)" ]'

# ---- cleanup: the instance goes ----

desired
ok "the instance removed, its domain goes" vdc_wait "$W" eval '! vdc_host_virsh a dominfo "$DOM" > /dev/null 2>&1'

done_testing
