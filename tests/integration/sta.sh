# Helpers for the tests of vdc-sta against vdcfs (the 9x-sta-*.t files):
# a tgtd and a storage agent in hosts.sh's hosts, the agent joined with
# the second command hosts/join prints (`vdc-sta --server ...`).
#
#     VDC_WATCHDOG=300
#     . "$(dirname "$0")/lib.sh"
#     . "$(dirname "$0")/hosts.sh"
#     VDC_HVA_OPTIONAL=1                # no hypervisor needed
#     . "$(dirname "$0")/hva.sh"        # vdc_join_read, vdc_api, vdc_is ...
#     . "$(dirname "$0")/sta.sh"        # skips without tgtd, libiscsi tools, vdc-sta
#     vdc_start
#     vdc_sta_host s 2                  # host s, its tgtd, its joined agent
#     mkdir "$MNT/volumes/v1"
#
# A host of hosts.sh has a private mount namespace in which its folder's
# run/ is /run: tgtd's control socket (/run/tgtd/socket.0) is the host's
# own, so tgtadm run in the host talks to that host's tgtd and the default
# control port is used everywhere (vdc_tgtd_start checks it). tgtd runs in
# the foreground in the host's namespaces, so vdc_host_down kills it with
# the rest; the targets and LUNs it held go with it (tgtd keeps nothing on
# disk, the agent makes them again from its state).
#
# API
#   vdc_tgtd_start NAME tgtd in host NAME, its iSCSI portal on the host's
#                       address, port 3260; returns when `tgtadm --op show
#                       --mode target` answers. TGTD_PID_NAME is its pid;
#                       log in $VDC_TMP/tgtd-NAME.log
#   vdc_tgtadm NAME ARGS...
#                       tgtadm --lld iscsi ARGS in the host, with a timeout
#   vdc_tgt_targets NAME
#                       the IQNs of the targets the host's tgtd has, one a
#                       line, sorted (not unique: duplicates show)
#   vdc_sta_start NAME [OPTION...]
#                       vdc-sta in host NAME with the join command's
#                       options, --name NAME, --state HD/sta (HD: the
#                       host's folder; the same path inside and out),
#                       --portal ADDR:3260 and OPTIONs; STA_PID_NAME is its
#                       pid; log in $VDC_TMP/sta-NAME.log (appended)
#   vdc_sta_kill9 NAME, vdc_sta_stop NAME, vdc_sta_restart NAME
#                       crash it, SIGTERM it, start it again with the same
#                       options (call these directly, not inside ok)
#   vdc_sta_host NAME INDEX [OPTION...]
#                       host up, tgtd, agent started, joined (its
#                       host.token written) and hosts/NAME/run/state up
#   vdc_sta_diag NAME   the end of the agent's and tgtd's logs as TAP comments
#   vdc_sta_state NAME  the agent's state folder (HD/sta)
#   vdc_sta_desired NAME
#                       the desired state of storage host NAME as its agent
#                       gets it (GET /v1/hosts/NAME/desired with the host
#                       token from the agent's state folder), JSON, or
#                       nothing (status 1) when that fails
#   vdc_vol_id VOLUME   the volume's id, from the IQN suffix (vol-ID) of
#                       volumes/VOLUME/run/target
#   vdc_vol_iqn VOLUME, vdc_vol_portal VOLUME
#                       the IQN and the portal of run/target
#   vdc_vol_secret VOLUME
#                       its CHAP secret, from the desired state of its
#                       storage host (it is never in the tree)
#   vdc_vol_qemu_io VOLUME COMMAND...
#                       qemu-io commands (-c each) on the volume's LUN as
#                       vdcfs's initiator: a path to its bytes that is not
#                       volumes/V/data
#   vdc_vol_export VOLUME FILE
#                       the LUN's bytes into FILE (qemu-img convert, sparse)
#   vdc_wait_vol_state VOLUME STATE SECS
#                       wait for volumes/VOLUME/run/state; say what it was
#   vdc_hosts_connect A B
#                       hosts A and B reach each other (hosts.sh)
#
# Environment:
#   VDC_STA           the agent binary (default build/vdc-sta of this tree)
#   VDC_STA_WRAP      a command put in front of it (valgrind ...)
#   VDC_STA_OPTS      more options for every agent started here
#   VDC_STA_OPTIONAL  1: do not skip the file when vdc-sta is not built
#                     (VDC_STA_MISSING is 1 then)

VDC_STA=${VDC_STA:-$VDC_SRC_ROOT/build/vdc-sta}
VDC_STA_WRAP=${VDC_STA_WRAP:-}
VDC_STA_OPTS=${VDC_STA_OPTS:-}
VDC_TGT_PORT=3260
export VDC_STA

for _c in tgtd tgtadm iscsi-ls iscsi-inq iscsi-readcapacity16 qemu-io qemu-img; do
	command -v "$_c" > /dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin
	command -v "$_c" > /dev/null 2>&1 || skip_all "storage hosts need $_c (packages tgt, libiscsi-bin)"
done
unset _c
command -v jq > /dev/null 2>&1 || skip_all "jq is missing"
[ "$(type -t vdc_join_read)" = function ] || skip_all "source hva.sh before sta.sh"

VDC_STA_MISSING=0
if [ ! -x "$VDC_STA" ]; then
	[ "${VDC_STA_OPTIONAL:-0}" = 1 ] || skip_all "$VDC_STA is not built (make, or set VDC_STA)"
	VDC_STA_MISSING=1
fi

# ---- tgtd ----

vdc_tgtadm() {
	local name=$1
	shift
	vdc_host_exec "$name" timeout -k 2 "$VDC_TIMEOUT" tgtadm --lld iscsi "$@"
}

vdc_tgt_targets() {
	vdc_tgtadm "$1" --op show --mode target 2> /dev/null |
		sed -n 's/^Target [0-9]*: //p' | sort
}

vdc_tgtd_pid() {
	local v=TGTD_PID_${1//-/_}
	echo "${!v:-}"
}

vdc_tgtd_start() {
	local name=$1 hd addr
	hd=$(vdc_host_dir "$name")
	addr=$(vdc_host_addr "$name")
	if [ -z "$addr" ]; then
		diag "vdc_tgtd_start: no host $name"
		return 1
	fi
	mkdir -p "$hd/run/tgtd"
	echo "--- $(date +%T.%N) start" >> "$VDC_TMP/tgtd-$name.log"
	vdc_host_spawn "$name" "$VDC_TMP/tgtd-$name.log" tgtd -f --iscsi "portal=$addr:$VDC_TGT_PORT"
	eval "TGTD_PID_${name//-/_}=$VDC_HOST_PID"
	echo "$VDC_HOST_PID" > "$hd/tgtd.pid"
	if ! vdc_wait 20 vdc_tgtadm "$name" --op show --mode target; then
		diag "vdc_tgtd_start $name: tgtadm does not answer" \
			"$(tail -n 8 "$VDC_TMP/tgtd-$name.log" 2> /dev/null)"
		return 1
	fi
	# The control socket must be the host's own (its /run), never the
	# machine's: another tgtd, or another test's, would get our targets.
	if ! [ -S "$hd/run/tgtd/socket.0" ]; then
		diag "vdc_tgtd_start $name: tgtd's control socket is not in the host's /run ($hd/run/tgtd)"
		return 1
	fi
	return 0
}

# ---- the agent ----

vdc_sta_state() { echo "$(vdc_host_dir "$1")/sta"; }

vdc_sta_pid() {
	local v=STA_PID_${1//-/_}
	echo "${!v:-}"
}

# The agent's words of hosts/join: its second line, "vdc-sta --server ...".
_vdc_sta_join_args() {
	local line words
	line=$(get "$MNT/hosts/join" | sed -n '/^vdc-sta /p' | head -n 1)
	read -r -a words <<< "$line"
	[ "${#words[@]}" -gt 1 ] || return 1
	STA_JOIN_ARGS=("${words[@]:1}")
}

vdc_sta_start() {
	local name=$1 addr
	shift
	_vdc_sta_join_args || {
		diag "vdc_sta_start: $MNT/hosts/join has no vdc-sta line" "$(get "$MNT/hosts/join")"
		return 1
	}
	addr=$(vdc_host_addr "$name")
	mkdir -p "$(vdc_sta_state "$name")"
	echo "--- $(date +%T.%N) start $*" >> "$VDC_TMP/sta-$name.log"
	# shellcheck disable=SC2086
	vdc_host_spawn "$name" "$VDC_TMP/sta-$name.log" $VDC_STA_WRAP "$VDC_STA" "${STA_JOIN_ARGS[@]}" \
		--name "$name" --state "$(vdc_sta_state "$name")" --portal "$addr:$VDC_TGT_PORT" \
		$VDC_STA_OPTS "$@"
	eval "STA_PID_${name//-/_}=$VDC_HOST_PID"
	# Remembered for vdc_sta_restart.
	: > "$(vdc_host_dir "$name")/sta.args"
	[ $# -eq 0 ] || printf '%s\n' "$@" > "$(vdc_host_dir "$name")/sta.args"
}

vdc_sta_kill9() { _vdc_agent_kill9 STA_PID "$1"; }

vdc_sta_stop() { _vdc_agent_stop STA_PID "$1" vdc-sta; }

vdc_sta_restart() {
	local args=()
	mapfile -t args < "$(vdc_host_dir "$1")/sta.args"
	vdc_sta_start "$1" "${args[@]}"
}

vdc_sta_host() {
	local name=$1 index=$2
	shift 2
	vdc_host_up "$name" "$index" || return 1
	vdc_tgtd_start "$name" || return 1
	vdc_sta_start "$name" "$@" || return 1
	if ! vdc_wait 30 test -s "$(vdc_sta_state "$name")/host.token"; then
		diag "vdc_sta_host $name: the agent did not join (no host.token)" \
			"$(tail -n 8 "$VDC_TMP/sta-$name.log" 2> /dev/null)"
		return 1
	fi
	if ! vdc_wait 30 vdc_is "$MNT/hosts/$name/run/state" up; then
		diag "vdc_sta_host $name: the host is not up: state '$(get "$MNT/hosts/$name/run/state")'" \
			"$(tail -n 8 "$VDC_TMP/sta-$name.log" 2> /dev/null)"
		return 1
	fi
}

vdc_sta_diag() {
	diag "vdc-sta $1 said:" "$(tail -n 8 "$VDC_TMP/sta-$1.log" 2> /dev/null)" \
		"tgtd $1 said:" "$(tail -n 3 "$VDC_TMP/tgtd-$1.log" 2> /dev/null)"
}

vdc_sta_desired() {
	local name=$1 tok out
	tok=$(cat "$(vdc_sta_state "$name")/host.token" 2> /dev/null) || return 1
	out=$(vdc_api GET "/v1/hosts/$name/desired?rev=0" -H "Authorization: Bearer $tok") || return 1
	[ "$(tail -n 1 <<< "$out")" = 200 ] || return 1
	sed '$d' <<< "$out"
}

# ---- volumes in the tree ----

vdc_vol_target() { get "$MNT/volumes/$1/run/target"; }
vdc_vol_portal() { vdc_vol_target "$1" | awk '{print $1}'; }
vdc_vol_iqn() { vdc_vol_target "$1" | awk '{print $2}'; }
vdc_vol_id() { vdc_vol_iqn "$1" | sed -n 's/.*:vol-\([0-9][0-9]*\)$/\1/p'; }

vdc_vol_secret() {
	local id host
	id=$(vdc_vol_id "$1")
	host=$(get "$MNT/volumes/$1/run/host")
	[ -n "$id" ] && [ -n "$host" ] || return 1
	vdc_sta_desired "$host" | jq -re --argjson id "$id" '.volumes[] | select(.id == $id) | .chap_secret'
}

# The --image-opts of the volume's LUN for qemu, the secret as object sec0.
_vdc_vol_qemu_opts() {
	local dc12 iqn=$(vdc_vol_iqn "$1")
	dc12=$(sed 's/^iqn\.2026-11\.org\.vdcfs:\([0-9a-f]*\):.*/\1/' <<< "$iqn")
	echo "driver=iscsi,transport=tcp,portal=$(vdc_vol_portal "$1"),target=$iqn,lun=1,user=vol-$(vdc_vol_id "$1"),password-secret=sec0,initiator-name=iqn.2026-11.org.vdcfs:$dc12:control"
}

vdc_vol_qemu_io() {
	local vol=$1 secret c args=()
	shift
	secret=$(vdc_vol_secret "$vol") || return 1
	for c in "$@"; do
		args+=(-c "$c")
	done
	timeout -k 2 60 qemu-io --object "secret,id=sec0,data=$secret" --image-opts "$(_vdc_vol_qemu_opts "$vol")" "${args[@]}"
}

vdc_vol_export() {
	local secret
	secret=$(vdc_vol_secret "$1") || return 1
	rm -f "$2"
	timeout -k 2 120 qemu-img convert --object "secret,id=sec0,data=$secret" --image-opts \
		"$(_vdc_vol_qemu_opts "$1")" -O raw "$2"
}

vdc_wait_vol_state() {
	local v=$MNT/volumes/$1
	vdc_wait "$3" vdc_is "$v/run/state" "$2" && return 0
	diag "volume $1: state '$(get "$v/run/state")' after $3 s, wanted '$2'; run/err: $(get "$v/run/err")"
	return 1
}
