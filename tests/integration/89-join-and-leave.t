#!/bin/bash
# Hosts change data centers. Both lines of hosts/join work as pasted, on
# one machine: vdc-hva and vdc-sta with no option but the line's own join
# under two names (the short host name, and it with -sta), in their
# default state folders, and vdc-sta's portal is the host's address
# toward vdcfs with tgtd's port. The same lines of a second data center
# join it (the first one's tokens are not shown to it). And
# `vdc-sta --leave` takes away every target and volume file of its data
# center (vdc-hva's is 99-hva-leave.t).
VDC_WATCHDOG=300
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hosts.sh"
. "$(dirname "$0")/hva.sh"
. "$(dirname "$0")/sta.sh"
vdc_start

vdc_host_up m 1 || { echo "Bail out! host m did not come up"; exit 1; }
vdc_tgtd_start m || { echo "Bail out! tgtd did not start in host m"; exit 1; }
ADDR=$(vdc_host_addr m)

mapfile -t LINES < <(get "$MNT/hosts/join")
is "${#LINES[@]}" 2 "hosts/join has two lines"
read -r -a HVA_LINE <<< "${LINES[0]}"
read -r -a STA_LINE <<< "${LINES[1]}"
is "${HVA_LINE[0]}" vdc-hva "the first is vdc-hva's"
is "${STA_LINE[0]}" vdc-sta "the second is vdc-sta's"

# Each line as pasted: the program is the built one, the words are the line's.
vdc_host_spawn m "$VDC_TMP/hva-m.log" "$VDC_HVA" "${HVA_LINE[@]:1}"
HVA=$VDC_HOST_PID
vdc_host_spawn m "$VDC_TMP/sta-m.log" "$VDC_STA" "${STA_LINE[@]:1}"
STA=$VDC_HOST_PID

ok "vdc-hva joins as the short host name" vdc_wait_host_state vdct-m up 60
ok "vdc-sta joins beside it as the short host name with -sta" vdc_wait_host_state vdct-m-sta up 60
ok "vdc-hva keeps its token in its default state folder" test -s "$(vdc_host_dir m)/hva/host.token"
ok "vdc-sta keeps its token in its default state folder" test -s "$(vdc_host_dir m)/stalib/host.token"
like "$(get "$MNT/hosts/vdct-m-sta/run/driver")" tgt "the second is the storage host (run/driver names tgt)"

ok "a volume is made" mkdir "$MNT/volumes/v1"
ok "run/state becomes available" vdc_wait_vol_state v1 available 60
is "$(get "$MNT/volumes/v1/run/host")" vdct-m-sta "on the storage host"
like "$(vdc_vol_target v1)" "^$ADDR:3260 " \
	"its portal is the host's address toward vdcfs, port 3260"
is "$(cat "$MNT/hosts/vdct-m-sta/run/err")" "" "the storage host reports no error"
ok "the volume is removed" rmdir "$MNT/volumes/v1"

# ---- the host moves to another data center ----
# The agents stop; the join lines of a second data center, pasted on the
# same host (same state folders), join it: the first one's saved tokens
# are not shown to it (each agent keeps the pin of its data center in
# host.dc), and each host is named as before.
stop_agent() {
	kill "$1" 2> /dev/null
	vdc_wait 30 bash -c "! kill -0 $1 2> /dev/null" || kill -9 "$1" 2> /dev/null
	wait "$1" 2> /dev/null
}
stop_agent "$HVA"
stop_agent "$STA"
is "$(cat "$(vdc_host_dir m)/hva/host.dc")" "${HVA_LINE[4]}" "vdc-hva kept the pin of its data center in host.dc"
vdc_start b
mapfile -t LINES < <(get "$MNT_b/hosts/join")
read -r -a HVA_LINE <<< "${LINES[0]}"
read -r -a STA_LINE <<< "${LINES[1]}"
isnt "${HVA_LINE[4]}" "$(cat "$(vdc_host_dir m)/hva/host.dc")" "the second data center has another key"
vdc_host_spawn m "$VDC_TMP/hva-m.log" "$VDC_HVA" "${HVA_LINE[@]:1}"
vdc_host_spawn m "$VDC_TMP/sta-m.log" "$VDC_STA" "${STA_LINE[@]:1}"
MNT_SAVE=$MNT
MNT=$MNT_b
ok "vdc-hva joins the second data center with its join line" vdc_wait_host_state vdct-m up 60
ok "so does vdc-sta" vdc_wait_host_state vdct-m-sta up 60
MNT=$MNT_SAVE
is "$(cat "$(vdc_host_dir m)/hva/host.dc")" "${HVA_LINE[4]}" "host.dc names the second data center now"
is "$(cat "$(vdc_host_dir m)/stalib/host.dc")" "${STA_LINE[4]}" "for vdc-sta too"
unlike "$(cat "$VDC_TMP/hva-m.log")" "403" "no agent showed the first data center's token to the second (no 403)"

# ---- the storage host leaves the second data center ----
MNT=$MNT_b
ok "a volume of the second data center" mkdir "$MNT/volumes/w1"
ok "is made on the storage host" vdc_wait_vol_state w1 available 60
IQN=$(vdc_vol_iqn w1)
is "$(vdc_tgt_targets m | grep -cxF "$IQN")" 1 "tgtd serves its target"
ok "its file is in the state folder" bash -c "ls '$(vdc_host_dir m)/stalib/volumes' | grep -q '\.img\$'"
MNT=$MNT_SAVE
pids=$(for p in $(vdc_host_pids m); do [ "$(cat /proc/$p/comm 2> /dev/null)" = vdc-sta ] && echo "$p"; done)
for p in $pids; do stop_agent "$p"; done
out=$(vdc_host_exec m timeout -k 2 60 "$VDC_STA" --leave 2>&1)
is "$?" 0 "vdc-sta --leave exits 0" || diag "$out"
like "$out" "left data center" "it says it left"
is "$(vdc_tgt_targets m | grep -cF "$IQN")" 0 "tgtd serves no target of the data center any more"
is "$(ls -A "$(vdc_host_dir m)/stalib/volumes")" "" "no volume file is left"
for f in host.token host.name host.dc dc.id; do
	nok "no $f is left" test -e "$(vdc_host_dir m)/stalib/$f"
done
out=$(vdc_host_exec m timeout -k 2 60 "$VDC_STA" --leave --portal 192.0.2.1:3260 2>&1)
is "$?" 2 "--leave with --portal is a usage error (it asks vdcfs nothing)"

VDC_DONE=1
done_testing
