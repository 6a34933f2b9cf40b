# Issue 11, item 5: an image's checksum is computed by a worker thread,
# never under the model's lock, so a write does not wait for it. With a
# 2 GiB sparse image, `echo 3 > instances/web1/cpus` took 4 s while a
# host's desired state was being rendered. The desired state names the
# image without "sha256" until the sum is known, then a new revision wakes
# the long-poll; a write to the image starts a new sum and discards the
# one in flight (docs/agent-protocol.md). The host is played by curl, as
# in 86-agent-protocol.t.
. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null && command -v jq >/dev/null || skip_all "curl or jq is missing (scripts/install-deps)"
VDCFS_OPTS="${VDCFS_OPTS:+$VDCFS_OPTS,}heartbeat=60,host-timeout=3600"
VDC_WATCHDOG=$(( ${VDC_WATCHDOG:-0} > 300 ? VDC_WATCHDOG : 300 ))
# Under valgrind (make valgrind sets VDCFS_WRAP) a checksum takes some 50
# times as long: a 256 MiB image keeps it long enough to race a write
# against (about 10 s) and short enough to wait for; a write may take
# 2 s there. Elsewhere, 2 GiB and 0.5 s.
if [ -n "${VDCFS_WRAP:-}" ]; then
	SIZE=256M BYTES=268435456 WRITE_MS=2000
	ZEROS_SUM=$(head -c "$BYTES" /dev/zero | sha256sum | cut -d' ' -f1)
else
	SIZE=2G BYTES=2147483648 WRITE_MS=500
	ZEROS_SUM=a7c744c13cc101ed66c29f672f92455547889cc586ce6d44fe76ae824958ea51   # SHA-256 of 2 GiB of zeros
fi
vdc_start

read -r -a JOIN < "$MNT/hosts/join"
SRV=${JOIN[2]} PIN=${JOIN[4]} JTOKEN=${JOIN[6]}
api() {   # api METHOD PATH TOKEN [curl args...]: prints the body only
	local m=$1 p=$2 t=$3
	shift 3
	timeout 60 curl -sS -k --pinnedpubkey "$PIN" -X "$m" -H "Authorization: Bearer $t" "$@" "https://$SRV$p"
}
ms() { echo $(($(date +%s%N) / 1000000)); }
# fetch_image: the status of GET images/big, its headers in $VDC_TMP/h (the body is cut short).
fetch_image() {
	timeout 60 curl -sS -k --pinnedpubkey "$PIN" -H "Authorization: Bearer $T" -D "$VDC_TMP/h" \
		"https://$SRV/v1/hosts/hv1/images/big" 2> /dev/null | head -c 100 > /dev/null
	head -n 1 "$VDC_TMP/h" | cut -d' ' -f2
}
T=$(api POST /v1/join "" -d '{"name":"hv1","token":"'"$JTOKEN"'","kind":"hva"}' | jq -r .token)
api POST /v1/hosts/hv1/report "$T" -d '{"epoch":1,"seq":1,"rev":0,"facts":{"cpus":8,"memory_mib":8192,"driver":"qemu","virt":"tcg","libvirt":"9.0.0","version":"t"},"instances":[]}' > /dev/null
is "$(get "$MNT/hosts/hv1/run/state")" up "a host played by curl is up"

mkdir "$MNT/images/big" "$MNT/instances/web1"
ok "a $SIZE sparse image is made through the mount" truncate -s "$SIZE" "$MNT/images/big/data"
is "$(vdc_size "$MNT/images/big/data")" "$BYTES" "its size is $SIZE"
ln -s ../../images/big "$MNT/instances/web1/image"
put 64M "$MNT/instances/web1/memory"
put on "$MNT/instances/web1/power"
is "$(get "$MNT/instances/web1/run/host")" hv1 "web1 is placed on hv1"
# The backing file, to check the sums against.
DATA=$(find "$STATE" -name '*.data' -size "${BYTES}c" | head -n 1)
ok "the image's backing file is in the state folder" test -n "$DATA"

# The first fetch of the desired state asks for the sum; a write meanwhile does not wait.
(api GET '/v1/hosts/hv1/desired?rev=0' "$T" > "$VDC_TMP/d1") &
fetch=$!
sleep 0.3
t0=$(ms)
put 3 "$MNT/instances/web1/cpus"
t1=$(ms)
if [ -n "${VDCFS_WRAP:-}" ]; then
	# valgrind runs one thread at a time, the hashing one too: no bound on the time, only on the order below.
	pass "echo 3 > instances/web1/cpus while the sum is computed returns ($((t1 - t0)) ms under valgrind)"
else
	ok "echo 3 > instances/web1/cpus while the sum is computed takes under $WRITE_MS ms ($((t1 - t0)) ms)" \
		test $((t1 - t0)) -lt "$WRITE_MS"
fi
is "$(get "$MNT/instances/web1/cpus")" 3 "and is written"
wait "$fetch"
is "$(jq -r '.instances[0].image.name' < "$VDC_TMP/d1")" big "the desired state names the image"
is "$(jq -r '.instances[0].image | has("sha256")' < "$VDC_TMP/d1")" false "without a checksum while it is computed"
is "$(jq -r '.instances[0].image.size' < "$VDC_TMP/d1")" "$BYTES" "with its size"
sum_now() { api GET '/v1/hosts/hv1/desired?rev=0' "$T" | jq -r '.instances[0].image.sha256 // empty'; }
has_sum() { [ -n "$(sum_now)" ]; }
# The image's answer first, then the desired state: when the latter has no
# sum yet, neither had the server when it answered the former (a sum, once
# known, stays until the image is written).
code=$(fetch_image)
d=$(api GET '/v1/hosts/hv1/desired?rev=0' "$T")
want=$ZEROS_SUM
if [ -z "$(jq -r '.instances[0].image.sha256 // empty' <<< "$d")" ]; then
	is "$code" 503 "the image is not served (503) before its checksum is known"
	# A long-poll at that revision wakes when the sum is ready (polls of 30 s, as an agent's).
	rev=$(jq -r .rev <<< "$d")
	t0=$(ms)
	for _ in 1 2 3 4 5 6; do
		d2=$(api GET "/v1/hosts/hv1/desired?rev=$rev&wait=30" "$T")
		[ -n "$(jq -r '.instances[0].image.sha256 // empty' <<< "$d2")" ] && break
	done
	t1=$(ms)
	is "$(jq -r '.instances[0].image.sha256' <<< "$d2")" "$want" "the next revision carries the checksum ($((t1 - t0)) ms)"
	ok "with a newer revision than the one without it" test "$(jq -r .rev <<< "$d2")" -gt "$rev"
else
	# The sum was done already: what the long-poll would have shown cannot be seen.
	pass "the image is not served before its checksum is known (it was known already)"
	is "$(jq -r '.instances[0].image.sha256' <<< "$d")" "$want" "the desired state carries the checksum"
	pass "(the revision that brought it came before this test could look)"
fi

# A one-byte write: the old sum no longer holds; one in flight is discarded.
printf x | dd of="$MNT/images/big/data" bs=1 seek=1000 conv=notrunc status=none
is "$(api GET '/v1/hosts/hv1/desired?rev=0' "$T" | jq -r '.instances[0].image | has("sha256")')" false \
	"after a one-byte write the desired state names no checksum"
sleep 0.2
printf y | dd of="$MNT/images/big/data" bs=1 seek=2000 conv=notrunc status=none
api GET '/v1/hosts/hv1/desired?rev=0' "$T" > /dev/null
ok "a sum comes again" vdc_wait 60 has_sum
want2=$(sha256sum < "$DATA" | cut -d' ' -f1)
isnt "$want2" "$want" "the image's bytes changed"
is "$(sum_now)" "$want2" "the checksum is of the last write, not of the one in flight before it"
is "$(fetch_image)" 200 "the image is served once its checksum is known"
like "$(tr -d '\r' < "$VDC_TMP/h" | grep -i '^x-vdc-sha256:')" "$want2" "with it in X-Vdc-Sha256"

done_testing
