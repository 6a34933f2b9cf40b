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
ok "a 2 GiB sparse image is made through the mount" truncate -s 2G "$MNT/images/big/data"
is "$(vdc_size "$MNT/images/big/data")" 2147483648 "its size is 2 GiB"
ln -s ../../images/big "$MNT/instances/web1/image"
put 64M "$MNT/instances/web1/memory"
put on "$MNT/instances/web1/power"
is "$(get "$MNT/instances/web1/run/host")" hv1 "web1 is placed on hv1"
# The backing file, to check the sums against.
DATA=$(find "$STATE" -name '*.data' -size 2147483648c | head -n 1)
ok "the image's backing file is in the state folder" test -n "$DATA"

# The first fetch of the desired state asks for the sum; a write meanwhile does not wait.
(api GET '/v1/hosts/hv1/desired?rev=0' "$T" > "$VDC_TMP/d1") &
fetch=$!
sleep 0.3
t0=$(ms)
put 3 "$MNT/instances/web1/cpus"
t1=$(ms)
ok "echo 3 > instances/web1/cpus while the sum is computed takes under 0.5 s ($((t1 - t0)) ms)" test $((t1 - t0)) -lt 500
is "$(get "$MNT/instances/web1/cpus")" 3 "and is written"
wait "$fetch"
is "$(jq -r '.instances[0].image.name' < "$VDC_TMP/d1")" big "the desired state names the image"
is "$(jq -r '.instances[0].image | has("sha256")' < "$VDC_TMP/d1")" false "without a checksum while it is computed"
is "$(jq -r '.instances[0].image.size' < "$VDC_TMP/d1")" 2147483648 "with its size"
code=$(fetch_image)
sum_now() { api GET '/v1/hosts/hv1/desired?rev=0' "$T" | jq -r '.instances[0].image.sha256 // empty'; }
has_sum() { [ -n "$(sum_now)" ]; }
if [ -z "$(sum_now)" ]; then
	is "$code" 503 "the image is not served (503) before its checksum is known"
else
	pass "the image is not served before its checksum is known (it was known already)"
fi
# A long-poll at the present revision wakes when the sum is ready.
rev=$(api GET '/v1/hosts/hv1/desired?rev=0' "$T" | jq -r .rev)
t0=$(ms)
d2=$(api GET "/v1/hosts/hv1/desired?rev=$rev&wait=30" "$T")
t1=$(ms)
want=a7c744c13cc101ed66c29f672f92455547889cc586ce6d44fe76ae824958ea51   # SHA-256 of 2 GiB of zeros
if [ "$(jq -r '.instances[0].image.sha256 // empty' <<< "$d2")" = "" ]; then
	vdc_wait 60 has_sum   # the sum was ready before the poll began: wait for it
	d2=$(api GET '/v1/hosts/hv1/desired?rev=0' "$T")
fi
is "$(jq -r '.instances[0].image.sha256' <<< "$d2")" "$want" "the next revision carries the checksum ($((t1 - t0)) ms)"
ok "with a newer revision" test "$(jq -r .rev <<< "$d2")" -gt "$rev"

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
