# Helpers for the tests of an agent against stand-ins of vdcfs's agent
# server (fake-vdcfs.py: the desired state from a file, the reports
# saved, images served slowly), for a protocol vdcfs does not speak yet or
# an agent's side alone (93b, 93c, 96b):
#
#     . "$(dirname "$0")/lib.sh"
#     . "$(dirname "$0")/hosts.sh"      # VDC_SERVER_ADDR
#     . "$(dirname "$0")/fake.sh"       # skips without python3 or openssl
#     vdc_fake_key "$DIR"               # DIR/key.pem, DIR/cert.pem, VDC_FAKE_PIN
#     vdc_fake_start "$DIR/a" "$DIR" 0.05 "$VDC_TMP/fake-a.log"
#     ... --server "$VDC_SERVER_ADDR:$(cat "$DIR/a/port")" --pin "$VDC_FAKE_PIN" \
#         --token "$(printf '%064d' 1)" ...
#
# Every stand-in started here is stopped at cleanup.

command -v python3 > /dev/null || skip_all "python3 is missing (the stand-in of vdcfs)"
command -v openssl > /dev/null || skip_all "openssl is missing (the stand-in's key)"

VDC_FAKE_PIDS=
_vdc_fakes_stop() {
	local p
	for p in $VDC_FAKE_PIDS; do
		kill "$p" 2> /dev/null
		wait "$p" 2> /dev/null
	done
	VDC_FAKE_PIDS=
}
VDC_CLEANUP_HOOKS="_vdc_fakes_stop ${VDC_CLEANUP_HOOKS:-}"

# vdc_fake_key DIR: a key and certificate for the stand-ins (DIR/key.pem,
# DIR/cert.pem) and VDC_FAKE_PIN, the --pin of the agents that dial them.
vdc_fake_key() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=vdcfs \
		-keyout "$1/key.pem" -out "$1/cert.pem" -days 2 2> /dev/null || skip_all "openssl cannot make a key"
	VDC_FAKE_PIN=sha256//$(openssl pkey -in "$1/key.pem" -pubout -outform der 2> /dev/null |
		openssl dgst -sha256 -binary | base64)
}

# vdc_fake_start DIR KEYDIR DELAY LOG: a stand-in serving DIR (desired.json,
# report.json, reports.log, images/) with the key of KEYDIR, images sent
# with DELAY seconds between pieces of 64 KiB, its log in LOG; its port in
# DIR/port once it listens. Fails when it does not start within 10 s.
vdc_fake_start() {
	mkdir -p "$1/images"
	python3 "$VDC_SRC_ROOT/tests/integration/fake-vdcfs.py" "$VDC_SERVER_ADDR" "$1/port" "$1" \
		"$2/key.pem" "$2/cert.pem" "$(printf '%064d' 7)" "$3" 2> "$4" &
	VDC_FAKE_PIDS="$VDC_FAKE_PIDS $!"
	vdc_wait 10 test -s "$1/port"
}

# vdc_fake_member REPORT LIST ID NAME: member NAME of the entry ID of list
# LIST ("instances", "volumes") in the report file REPORT ("" when none).
vdc_fake_member() {
	python3 - "$@" << 'EOF' 2> /dev/null
import json, sys
for e in json.load(open(sys.argv[1]))[sys.argv[2]]:
    if e["id"] == int(sys.argv[3]):
        print(e.get(sys.argv[4], ""))
EOF
}

# vdc_fake_history LOG LIST ID NAME: member NAME of the entry ID of list
# LIST in each report of LOG (a reports.log), one line a report that has
# the entry, in order ("-" when the member is absent).
vdc_fake_history() {
	python3 - "$@" << 'EOF' 2> /dev/null
import json, sys
for line in open(sys.argv[1]):
    try:
        doc = json.loads(line)
    except ValueError:
        continue
    for e in doc[sys.argv[2]]:
        if e["id"] == int(sys.argv[3]):
            print(e.get(sys.argv[4], "-"))
EOF
}
