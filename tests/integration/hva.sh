# Helpers for the tests of vdc-hva against vdcfs (the 9x-hva-*.t files):
# agents in hosts.sh's hosts, joined with the command hosts/join prints.
#
#     VDC_WATCHDOG=400
#     . "$(dirname "$0")/lib.sh"
#     . "$(dirname "$0")/hosts.sh"
#     . "$(dirname "$0")/hva.sh"        # skips without vdc-hva or TCG
#     vdc_start                         # VDC_LISTEN from hosts.sh, VDCFS_OPTS here
#     vdc_import_tiny                   # images/tiny from the cached test image
#     vdc_hva_host a 1 --memory 512M    # host a and its joined agent
#     vdc_instance web1                 # mkdir, link the image, 128M
#     put on "$MNT/instances/web1/power"
#     vdc_wait_state web1 running 60
#
# Environment:
#   VDC_HVA           the agent binary (default build/vdc-hva of this tree)
#   VDC_HVA_WRAP      a command put in front of it (valgrind ...)
#   VDC_HVA_OPTS      more options for every agent started here
#   VDC_HVA_HEARTBEAT the -o heartbeat= of vdcfs here (default 1)
#   VDC_HOST_TIMEOUT  the -o host-timeout= of vdcfs here (default 4)
#   VDC_GUEST_MEMORY  memory of test instances (default 128M)
#   VDC_HVA_SHUTDOWN_TIMEOUT  the agents' --shutdown-timeout (default 15)
#   VDC_HVA_OPTIONAL  1: do not skip the file when vdc-hva is not built
#                     (VDC_HVA_MISSING is 1 then)
#   VDC_HVA_DRIVER    qemu (default) or lxc: the agents run libvirt's lxc
#                     driver (--driver lxc --connect lxc:///system), the
#                     hosts are made able to run containers (VDC_HOST_LXC)
#                     and vdc_host_virsh talks to lxc:///system

VDC_HVA=${VDC_HVA:-$VDC_SRC_ROOT/build/vdc-hva}
VDC_HVA_WRAP=${VDC_HVA_WRAP:-}
VDC_HVA_OPTS=${VDC_HVA_OPTS:-}
VDC_HVA_HEARTBEAT=${VDC_HVA_HEARTBEAT:-1}
VDC_HOST_TIMEOUT=${VDC_HOST_TIMEOUT:-4}
VDC_GUEST_MEMORY=${VDC_GUEST_MEMORY:-128M}
VDC_HVA_SHUTDOWN_TIMEOUT=${VDC_HVA_SHUTDOWN_TIMEOUT:-15}
VDC_HVA_DRIVER=${VDC_HVA_DRIVER:-qemu}
export VDC_HVA

case $VDC_HVA_DRIVER in
qemu) VDC_HVA_DRIVER_OPTS=(--virt tcg) ;;
lxc)
	VDC_HVA_DRIVER_OPTS=(--driver lxc --connect lxc:///system)
	VDC_HOST_LXC=1
	VDC_HOST_URI=lxc:///system
	;;
*) skip_all "VDC_HVA_DRIVER is qemu or lxc, not '$VDC_HVA_DRIVER'" ;;
esac

# A test that has parts without agents sets VDC_HVA_OPTIONAL=1 and checks
# VDC_HVA_MISSING before those that need one.
VDC_HVA_MISSING=0
if [ ! -x "$VDC_HVA" ]; then
	[ "${VDC_HVA_OPTIONAL:-0}" = 1 ] || skip_all "$VDC_HVA is not built (make, or set VDC_HVA)"
	VDC_HVA_MISSING=1
fi
if [ "$VDC_HVA_DRIVER" = qemu ]; then
	vdc_boot_ok || skip_all "qemu has no TCG here"
else
	[ -x /usr/lib/libvirt/libvirt_lxc ] || skip_all "libvirt's lxc driver is not installed (libvirt-daemon-driver-lxc)"
	grep -qw overlay /proc/filesystems || skip_all "the kernel has no overlayfs"
fi
command -v curl > /dev/null || skip_all "curl is missing"

VDCFS_OPTS="${VDCFS_OPTS:+$VDCFS_OPTS,}heartbeat=$VDC_HVA_HEARTBEAT,host-timeout=$VDC_HOST_TIMEOUT"
export VDCFS_OPTS

# ---- the join command ----

# vdc_join_read: JOIN_SERVER, JOIN_PIN, JOIN_TOKEN and JOIN_ARGS (an array:
# the join command's words after "vdc-hva") from $MNT/hosts/join.
vdc_join_read() {
	local words i
	read -r -a words < <(get "$MNT/hosts/join")
	JOIN_ARGS=("${words[@]:1}")
	JOIN_SERVER='' JOIN_PIN='' JOIN_TOKEN=''
	for ((i = 1; i < ${#words[@]}; i++)); do
		case ${words[i]} in
		--server) JOIN_SERVER=${words[i + 1]:-} ;;
		--pin) JOIN_PIN=${words[i + 1]:-} ;;
		--token) JOIN_TOKEN=${words[i + 1]:-} ;;
		esac
	done
	[ -n "$JOIN_SERVER" ] && [ -n "$JOIN_PIN" ] && [ -n "$JOIN_TOKEN" ]
}

# ---- agents ----

# vdc_hva_start NAME [OPTION...]: start vdc-hva in host NAME with the join
# command's options, --name NAME, its state in the host's /var/lib/vdc-hva,
# TCG (or the lxc driver, see VDC_HVA_DRIVER), --shutdown-timeout and OPTIONs; HVA_PID_NAME (dashes as _) is its pid. The log is
# $VDC_TMP/hva-NAME.log (appended across restarts).
vdc_hva_start() {
	local name=$1
	shift
	vdc_join_read || {
		diag "vdc_hva_start: cannot read $MNT/hosts/join"
		return 1
	}
	echo "--- $(date +%T.%N) start $*" >> "$VDC_TMP/hva-$name.log"
	# shellcheck disable=SC2086
	vdc_host_spawn "$name" "$VDC_TMP/hva-$name.log" $VDC_HVA_WRAP "$VDC_HVA" "${JOIN_ARGS[@]}" \
		--name "$name" --state /var/lib/vdc-hva "${VDC_HVA_DRIVER_OPTS[@]}" \
		--shutdown-timeout "$VDC_HVA_SHUTDOWN_TIMEOUT" $VDC_HVA_OPTS "$@"
	eval "HVA_PID_${name//-/_}=$VDC_HOST_PID"
	# Remembered for vdc_hva_restart.
	: > "$(vdc_host_dir "$name")/hva.args"
	[ $# -eq 0 ] || printf '%s\n' "$@" > "$(vdc_host_dir "$name")/hva.args"
}

vdc_hva_pid() {
	local v=HVA_PID_${1//-/_}
	echo "${!v:-}"
}

# vdc_hva_kill9 NAME, vdc_hva_stop NAME, vdc_hva_start, vdc_hva_host: call
# them directly, not inside ok (a subshell would lose HVA_PID_NAME).

# _vdc_agent_kill9 VAR NAME and _vdc_agent_stop VAR NAME LABEL: the agent
# whose pid is in VAR_NAME (HVA_PID_a, STA_PID_s), crashed or stopped; sta.sh
# uses them too.
_vdc_agent_kill9() {
	local v=$1_${2//-/_} pid
	pid=${!v:-}
	[ -n "$pid" ] || return 1
	# (Braces and 2>: bash's "Killed" notice goes to the shell's stderr.)
	{
		kill -9 "$pid"
		wait "$pid"
	} 2> /dev/null
	eval "$v="
	return 0
}

# SIGTERM, wait up to 10 s, then SIGKILL.
_vdc_agent_stop() {
	local v=$1_${2//-/_} pid
	pid=${!v:-}
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2> /dev/null
	if ! _vdc_wait_pid "$pid" 100; then
		diag "$3 $pid of $2 did not end on SIGTERM; killing it"
		kill -9 "$pid" 2> /dev/null
	fi
	wait "$pid" 2> /dev/null
	eval "$v="
	return 0
}

# vdc_hva_kill9 NAME: crash the agent.
vdc_hva_kill9() { _vdc_agent_kill9 HVA_PID "$1"; }

# vdc_hva_stop NAME: SIGTERM, wait up to 10 s, then SIGKILL.
vdc_hva_stop() { _vdc_agent_stop HVA_PID "$1" vdc-hva; }

# vdc_hva_restart NAME: start the agent again with the options it had.
vdc_hva_restart() {
	local args=()
	mapfile -t args < "$(vdc_host_dir "$1")/hva.args"
	vdc_hva_start "$1" "${args[@]}"
}

# vdc_hva_host NAME INDEX [OPTION...]: host up, agent started, host joined
# and up in hosts/NAME/run/state (within 30 s).
vdc_hva_host() {
	local name=$1 index=$2
	shift 2
	vdc_host_up "$name" "$index" || return 1
	vdc_hva_start "$name" "$@" || return 1
	# The agent has joined once it keeps its host token; only then look
	# at hosts/NAME (a lookup before it exists would be a negative entry
	# in the kernel's cache, which 90-hva-boot.t tests on purpose).
	if ! vdc_wait 30 test -s "$(vdc_host_dir "$name")/hva/host.token"; then
		diag "vdc_hva_host $name: the agent did not join (no host.token)" \
			"$(tail -n 8 "$VDC_TMP/hva-$name.log" 2> /dev/null)"
		return 1
	fi
	if ! vdc_wait 30 vdc_is "$MNT/hosts/$name/run/state" up; then
		diag "vdc_hva_host $name: the host is not up: state '$(get "$MNT/hosts/$name/run/state")'" \
			"$(tail -n 8 "$VDC_TMP/hva-$name.log" 2> /dev/null)"
		return 1
	fi
}

# _vdc_listed DIR NAME: readdir of DIR shows NAME.
_vdc_listed() {
	timeout -k 2 "$VDC_TIMEOUT" ls -a "$1" 2> /dev/null | grep -qxF "$2"
}

# Show an agent's log in the TAP output (after a failure).
vdc_hva_diag() {
	diag "vdc-hva $1 said:" "$(tail -n 10 "$VDC_TMP/hva-$1.log" 2> /dev/null)"
}

# ---- the tree ----

# vdc_is FILE WANT: FILE holds exactly WANT (one line).
vdc_is() {
	[ "$(get "$1")" = "$2" ]
}

# vdc_wait_state INSTANCE WANT SECS: run/state of the instance becomes WANT.
# On failure, says what it was and the instance's run/err.
vdc_wait_state() {
	local i=$MNT/instances/$1
	vdc_wait "$3" vdc_is "$i/run/state" "$2" && return 0
	diag "instance $1: state '$(get "$i/run/state")' after $3 s, wanted '$2'; run/err: $(get "$i/run/err")"
	return 1
}

vdc_wait_host_state() {
	local h=$MNT/hosts/$1
	vdc_wait "$3" vdc_is "$h/run/state" "$2" && return 0
	diag "host $1: state '$(get "$h/run/state")' after $3 s, wanted '$2'; run/err: $(get "$h/run/err")"
	return 1
}

# vdc_console_has INSTANCE LINE: run/console holds LINE as a whole line.
vdc_console_has() {
	get "$MNT/instances/$1/run/console" | tr -d '\r' | grep -qxF "$2"
}

# vdc_console_count INSTANCE LINE: how often it holds LINE.
vdc_console_count() {
	get "$MNT/instances/$1/run/console" | tr -d '\r' | grep -cxF "$2"
}

# vdc_import_tiny [NAME]: images/NAME (default tiny) holding the test image.
vdc_import_tiny() {
	local name=${1:-tiny} img
	img=$(vdc_tiny_image) || return 1
	mkdir "$MNT/images/$name" || return 1
	timeout -k 2 120 cp --sparse=always "$img" "$MNT/images/$name/data"
}

# vdc_import_rootfs [NAME]: images/NAME (default rootfs) holding the test
# container root, a tarball (vdc_tiny_rootfs).
vdc_import_rootfs() {
	local name=${1:-rootfs} tar
	tar=$(vdc_tiny_rootfs) || return 1
	mkdir "$MNT/images/$name" || return 1
	timeout -k 2 120 cp "$tar" "$MNT/images/$name/data"
}

# vdc_instance NAME [MEMORY [CPUS [IMAGE]]]: mkdir, image linked (default
# tiny), sizes set.
vdc_instance() {
	local name=$1 mem=${2:-$VDC_GUEST_MEMORY} cpus=${3:-1} img=${4:-tiny} d=$MNT/instances/$1
	mkdir "$d" &&
		ln -s "../../images/$img" "$d/image" &&
		put "$mem" "$d/memory" &&
		put "$cpus" "$d/cpus"
}

# ---- libvirt in a host ----

# vdc_domain_of HOST INSTANCE: the name of the libvirt domain vdc-hva made
# for INSTANCE in HOST (by its <vdc:name> metadata), or nothing.
vdc_domain_of() {
	local d
	for d in $(vdc_host_virsh "$1" list --all --name 2> /dev/null); do
		if vdc_host_virsh "$1" dumpxml "$d" 2> /dev/null | grep -q "<vdc:name>$2</vdc:name>"; then
			echo "$d"
			return 0
		fi
	done
	return 1
}

# vdc_qemu_pid HOST DOMAIN: the pid of the domain's qemu (root namespace).
vdc_qemu_pid() {
	cat "$(vdc_host_dir "$1")/run/libvirt/qemu/$2.pid" 2> /dev/null
}

# vdc_lxc_init_pid HOST DOMAIN: the pid (root namespace) of a running
# container's init: the child of its libvirt_lxc, whose pid is libvirt's
# domain id.
vdc_lxc_init_pid() {
	local ctl
	ctl=$(vdc_host_virsh "$1" domid "$2" 2> /dev/null | sed '/^$/d; /^-$/d')
	[ -n "$ctl" ] || return 1
	cat /proc/"$ctl"/task/*/children 2> /dev/null | tr ' ' '\n' | sed '/^$/d' | head -n 1
}

# vdc_domains HOST: the host's domains, all states, sorted, one a line.
vdc_domains() {
	vdc_host_virsh "$1" list --all --name 2> /dev/null | sed '/^$/d' | sort
}

# ---- the agent API, as an agent (or an attacker) sees it ----

# vdc_api METHOD PATH [CURL-ARG...]: an HTTPS request to vdcfs with the
# pinned key; prints the body, then a last line with the HTTP status.
vdc_api() {
	local method=$1 path=$2
	shift 2
	vdc_join_read || return 1
	timeout -k 2 "$VDC_TIMEOUT" curl -sS -k --pinnedpubkey "$JOIN_PIN" -X "$method" \
		-w '\n%{http_code}\n' "$@" "https://$JOIN_SERVER$path"
}

# The status line vdc_api printed last.
vdc_status() { tail -n 1; }

# vdc_events_has ERE: /vdc/run/events has a line matching ERE.
vdc_events_has() {
	get "$MNT/run/events" | grep -qE "$1"
}
