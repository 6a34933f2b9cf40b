#!/bin/bash
# /vdc/run/metrics.prom and /vdc/run/dashboard.html, read through the
# mount: each reader sees their own objects (root all); metrics.prom is
# one valid Prometheus document however it is read (promtool check
# metrics, small reads), served unchanged by node_exporter's textfile
# collector; dashboard.html parses, refers to nothing outside itself,
# escapes what users write, and headless Chromium renders it to a PNG
# whose size and a few pixels are checked (docs/tree.md, "run/").
#
# The PNG and the page are kept in VDC_ARTIFACTS/62b-run-metrics/
# (default build/artifacts/), outside VDC_TMP, which the test removes.
. "$(dirname "$0")/lib.sh"
command -v setpriv > /dev/null || skip_all "setpriv (util-linux) is not installed"
command -v python3 > /dev/null || skip_all "python3 is not installed"
vdc_start

ARTIFACTS=${VDC_ARTIFACTS:-$VDC_SRC_ROOT/build/artifacts}/62b-run-metrics
mkdir -p "$ARTIFACTS"
NOBODY=65534
as() {
	local uid=$1
	shift
	timeout -k 2 "$VDC_TIMEOUT" setpriv --reuid="$uid" --regid="$uid" --clear-groups "$@"
}

ok "root makes instances/web1" mkdir "$MNT/instances/web1"
ok "root makes volumes/v1" mkdir "$MNT/volumes/v1"
ok "nobody makes instances/n1" as $NOBODY mkdir "$MNT/instances/n1"
fails_with EINVAL "nobody's bad memory for n1 logs an event with markup in it" \
	as $NOBODY bash -c "echo '<b>&x</b>' > '$MNT/instances/n1/memory'"

list=$(ls "$MNT/run")
like "$list" "metrics.prom" "run/ lists metrics.prom"
like "$list" "dashboard.html" "run/ lists dashboard.html"
is "$(stat -c %a "$MNT/run/metrics.prom")" 444 "metrics.prom is 0444"
fails_with EACCES "metrics.prom cannot be written" bash -c "echo x >> '$MNT/run/metrics.prom'"

# ---- metrics.prom ----
m=$(get "$MNT/run/metrics.prom")
like "$m" 'vdc_instance_info\{instance="web1",host="",state="defined"\} 1' "root sees web1"
like "$m" 'vdc_instance_info\{instance="n1",host="",state="defined"\} 1' "and nobody's n1"
like "$m" 'vdc_volume_size_bytes\{volume="v1",host=""\} 1073741824' "and v1's size"
like "$m" '# TYPE vdcfs_store_commit_seconds histogram' "vdcfs's own figures: the commit histogram"
mk=$(printf '%s\n' "$m" | sed -n 's/^vdcfs_fuse_requests_total{op="mkdir"} //p')
ok "FUSE mkdirs are counted ($mk)" test "${mk:-0}" -ge 3
c=$(printf '%s\n' "$m" | sed -n 's/^vdcfs_store_commit_seconds_count //p')
ok "store commits are counted ($c)" test "${c:-0}" -ge 3
e=$(printf '%s\n' "$m" | sed -n 's/^vdcfs_events_total //p')
ok "events are counted ($e)" test "${e:-0}" -ge 3
l1=$(printf '%s\n' "$m" | sed -n 's/^vdcfs_fuse_requests_total{op="lookup"} //p')
l2=$(get "$MNT/run/metrics.prom" | sed -n 's/^vdcfs_fuse_requests_total{op="lookup"} //p')
ok "a counter only goes up ($l1 then $l2)" test "$l2" -ge "$l1"
nb=$(as $NOBODY cat "$MNT/run/metrics.prom")
like "$nb" 'vdc_instance_info\{instance="n1"' "nobody sees n1"
unlike "$nb" 'web1|volume="v1"' "but not root's web1 nor v1"
like "$nb" 'vdcfs_fuse_requests_total' "and vdcfs's own figures"
size=$(stat -c %s "$MNT/run/metrics.prom")
ok "st_size is about what a read returns ($size, ${#m})" test $((size - ${#m} - 1)) -le 64 -a $((${#m} + 1 - size)) -le 64

if command -v promtool > /dev/null; then
	out=$(promtool check metrics < "$MNT/run/metrics.prom" 2>&1)
	is "$?" 0 "promtool check metrics accepts root's metrics.prom ($out)"
	out=$(as $NOBODY cat "$MNT/run/metrics.prom" | promtool check metrics 2>&1)
	is "$?" 0 "and nobody's ($out)"
	# Read in requests of 100 bytes: one rendering at open, so still one document.
	out=$(dd if="$MNT/run/metrics.prom" bs=100 iflag=direct 2>/dev/null | promtool check metrics 2>&1)
	is "$?" 0 "and the file read 100 bytes at a time ($out)"
else
	for _ in $(seq 1 3); do skip "promtool is not installed (scripts/install-deps: monitoring)"; done
fi

NE=$(command -v prometheus-node-exporter || command -v node_exporter || true)
if [ -n "$NE" ] && command -v curl > /dev/null; then
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	"$NE" --web.listen-address="127.0.0.1:$port" --collector.disable-defaults --collector.textfile \
		--collector.textfile.directory="$MNT/run" > "$VDC_TMP/node-exporter.log" 2>&1 &
	ne_pid=$!
	scraped=
	for _ in $(seq 1 100); do
		scraped=$(curl -sf "http://127.0.0.1:$port/metrics" 2>/dev/null) && break
		sleep 0.1
	done
	kill "$ne_pid" 2>/dev/null
	wait "$ne_pid" 2>/dev/null
	like "$scraped" 'node_textfile_scrape_error 0' "node_exporter reads run/ without an error"
	like "$scraped" 'vdc_instance_info\{host="",instance="web1",state="defined"\} 1' \
		"and serves web1's sample (labels sorted, as it does)"
	like "$scraped" 'vdcfs_store_commit_seconds_bucket\{le="\+Inf"\}' "and the histogram"
	like "$scraped" 'node_textfile_mtime_seconds\{file=".*metrics.prom"\}' "from metrics.prom alone"
else
	for _ in $(seq 1 4); do skip "prometheus-node-exporter or curl is not installed (scripts/install-deps: monitoring)"; done
fi

# ---- the agent server's figures, with an agent played by curl (as 86-agent-protocol.t) ----
if command -v curl > /dev/null && command -v jq > /dev/null; then
	read -r -a JOIN < "$MNT/hosts/join"
	SRV=${JOIN[2]} PIN=${JOIN[4]} JTOKEN=${JOIN[6]}
	api() {
		local m=$1 p=$2 t=${3:-}
		shift 3 2>/dev/null || shift $#
		timeout 40 curl -sS -k --pinnedpubkey "$PIN" -X "$m" ${t:+-H "Authorization: Bearer $t"} "$@" "https://$SRV$p"
	}
	T1=$(api POST /v1/join "" -d '{"name":"hv1","token":"'"$JTOKEN"'","kind":"hva"}' | jq -r .token)
	facts='"facts":{"cpus":4,"memory_mib":2048,"driver":"qemu","virt":"tcg","libvirt":"9.0.0","version":"t"}'
	api POST /v1/hosts/hv1/report "$T1" -d '{"epoch":1,"seq":1,"rev":0,'"$facts"',"instances":[]}' > /dev/null
	api GET "/v1/hosts/hv1/desired?rev=0" "$T1" > /dev/null
	api GET "/v1/hosts/hv1/desired?rev=0" "0000" > /dev/null
	ok "root makes images/tiny" mkdir "$MNT/images/tiny"
	ok "web1 gets the image" ln -s ../../images/tiny "$MNT/instances/web1/image"
	ok "web1 is powered on" put on "$MNT/instances/web1/power"
	ok "web1 is placed on hv1" vdc_wait 10 grep -qx hv1 "$MNT/instances/web1/run/host"
	m=$(get "$MNT/run/metrics.prom")
	like "$m" 'vdc_host_info\{host="hv1",role="hypervisor",state="up"\} 1' "root sees hv1, up"
	like "$m" 'vdc_host_cpus\{host="hv1"\} 4' "with the cpus it offers"
	like "$m" 'vdc_host_memory_bytes\{host="hv1"\} 2147483648' "and its memory"
	like "$m" 'vdc_host_cpus_reserved\{host="hv1"\} 1' "and what web1 takes of it"
	like "$m" 'vdc_instance_info\{instance="web1",host="hv1",state="[a-z]+"\} 1' "web1 is labelled with its host"
	like "$m" 'vdcfs_agent_reports_total [1-9]' "the report is counted"
	like "$m" 'vdcfs_agent_desired_total [1-9]' "the desired state served is counted"
	like "$m" 'vdcfs_agent_refused_total\{what="request"\} [1-9]' "the request with a wrong token is counted refused"
	like "$m" 'vdcfs_agent_connections_total [1-9]' "connections are counted"
	like "$m" 'vdcfs_agent_connections_open [0-9]' "and those open now"
	unlike "$(as $NOBODY cat "$MNT/run/metrics.prom")" 'hv1' "nobody sees no host"
	if command -v promtool > /dev/null; then
		out=$(promtool check metrics < "$MNT/run/metrics.prom" 2>&1)
		is "$?" 0 "promtool check metrics accepts it with a host ($out)"
	else
		skip "promtool is not installed (scripts/install-deps: monitoring)"
	fi
else
	for _ in $(seq 1 16); do skip "curl or jq is not installed"; done
fi
unlike "$(get "$MNT/run/events")" 'Signature: 8a477f597d28d172789f06886806bc55' "run/events is the events alone"

# ---- dashboard.html ----
check_html() {
	python3 - "$1" <<'PY'
import html.parser, re, sys

text = open(sys.argv[1], encoding="utf-8").read()


class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.bad = [], []

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.bad.append("a script")
        for k, v in attrs:
            if k in ("src", "href", "action", "srcset") or (v and re.search(r"https?:|//|url\(", v)):
                self.bad.append(f"{tag} {k}={v}")
        if tag not in ("meta", "br", "rect", "polyline", "img", "input", "link"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in ("rect", "polyline"):
            return
        if not self.stack or self.stack[-1] != tag:
            self.bad.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


p = P()
p.feed(text)
p.close()
if re.search(r"@import|url\(", text):
    p.bad.append("a CSS reference")
if p.stack:
    p.bad.append(f"unclosed {p.stack}")
print("; ".join(p.bad) or "ok")
PY
}
get "$MNT/run/dashboard.html" > "$VDC_TMP/dashboard.html"
as $NOBODY cat "$MNT/run/dashboard.html" > "$VDC_TMP/dashboard-nobody.html"
is "$(check_html "$VDC_TMP/dashboard.html")" ok "root's dashboard.html parses and refers to nothing outside"
is "$(check_html "$VDC_TMP/dashboard-nobody.html")" ok "so does nobody's"
d=$(cat "$VDC_TMP/dashboard.html")
like "$d" '<meta http-equiv="refresh" content="[0-9]+">' "it refreshes itself"
like "$d" '<td>web1</td>' "root's page lists web1"
like "$d" '<td>hv1</td>' "and hv1"
like "$d" '&lt;b&gt;&amp;x&lt;/b&gt;' "an event's text is escaped"
unlike "$d" '<b>&x</b>' "and never markup"
dn=$(cat "$VDC_TMP/dashboard-nobody.html")
like "$dn" '<td>n1</td>' "nobody's page lists n1"
unlike "$dn" 'web1|<td>v1</td>' "and not root's objects"
cp "$VDC_TMP/dashboard.html" "$ARTIFACTS/dashboard.html"

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -n "$CHROMIUM" ]; then
	png=$ARTIFACTS/dashboard.png
	rm -f "$png"
	HOME=$VDC_TMP timeout -k 5 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
		--user-data-dir="$VDC_TMP/chromium" --screenshot="$png" --window-size=1200,900 \
		"file://$VDC_TMP/dashboard.html" > "$VDC_TMP/chromium.log" 2>&1
	ok "headless Chromium renders dashboard.html to $png" test -s "$png"
	out=$(python3 - "$png" <<'PY'
import struct, sys, zlib

data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, ihdr = 8, b"", None
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        ihdr = struct.unpack(">IIBBBBB", body)
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
w, h, depth, ctype = ihdr[:4]
assert depth == 8 and ctype in (2, 6), f"depth {depth} colour type {ctype}"
bpp = 3 if ctype == 2 else 4
raw, stride, rows, prev = zlib.decompress(idat), w * bpp, [], bytearray(w * bpp)
for y in range(h):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], prev[i - bpp] if i >= bpp else 0
        if f == 1:
            line[i] = (line[i] + a) & 255
        elif f == 2:
            line[i] = (line[i] + b) & 255
        elif f == 3:
            line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(line)
    prev = line


def px(x, y):
    return tuple(rows[y][x * bpp:x * bpp + 3])


green = sum(1 for r in rows for x in range(0, len(r), bpp) if tuple(r[x:x + 3]) == (46, 139, 87))
print(f"{w}x{h} header={px(5, 5)} body={px(1100, 850)} bars={green}")
PY
)
	like "$out" '^1200x900 ' "the PNG is 1200x900 ($out)"
	like "$out" 'header=\((2[6-9]|3[0-6]), (7[4-9]|8[0-4]), (11[6-9]|12[0-9]|13[0-6])\)' \
		"its header band is the page's blue (#1f4e79)"
	like "$out" 'body=\(255, 255, 255\)' "and the body white"
	if [ -n "${T1:-}" ]; then
		like "$out" 'bars=([1-9][0-9]{2,})' "hv1's bars of what web1 reserves are drawn (#2e8b57)"
	else
		skip "no host: curl or jq is not installed"
	fi
else
	for _ in $(seq 1 5); do skip "chromium is not installed (scripts/install-deps: monitoring)"; done
fi

vdc_stop
done_testing
