# "Hosts" on one machine for the integration tests: each host is a network
# namespace, a UTS namespace and a private mount namespace with its own
# libvirtd, virtlogd and libvirt state, joined to the root namespace by a
# veth pair. vdcfs runs in the root namespace; agents (vdc-hva) run in the
# hosts and dial vdcfs over the veth. Needs root. See docs/testing-hosts.md.
#
# Source it after lib.sh (and after setting VDC_WATCHDOG, if the test needs
# more than lib.sh's default):
#
#     VDC_WATCHDOG=300
#     . "$(dirname "$0")/lib.sh"
#     . "$(dirname "$0")/hosts.sh"      # skips the file without root/tools
#     vdc_start                         # vdcfs listens on $VDC_SERVER_ADDR
#     vdc_host_up a 1                   # host "a", address index 1
#     vdc_host_virsh a list --all       # virsh inside host a
#     vdc_host_spawn a "$VDC_TMP/hva-a.log" "$VDC_HVA" --name a ...
#     vdc_host_down a                   # or leave it to the EXIT trap
#
# API
#   VDC_SERVER_ADDR     198.51.100.x of this test run, on the root
#                       namespace's lo; sourcing sets VDC_LISTEN to
#                       "$VDC_SERVER_ADDR:0", so vdc_start's vdcfs listens
#                       where the hosts reach it
#   VDC_HOSTS_SLOT      1..15: this run's block of 16 addresses
#                       198.51.100.(16*SLOT) .. +15, held with flock while
#                       the test runs, so parallel test files never collide
#   vdc_host_up NAME INDEX
#                       make host NAME (1-20 of [a-z0-9-]) with address
#                       index INDEX (1..13): host address
#                       198.51.100.(16*SLOT+1+INDEX) on its eth0, a route to
#                       VDC_SERVER_ADDR and nothing else (the root
#                       namespace's route to it has the source address
#                       VDC_SERVER_ADDR, so connections from vdcfs to a
#                       host, such as iSCSI, are answered); hostname vdct-NAME;
#                       private /run, /var/lib/libvirt, /var/log/libvirt,
#                       /var/cache/libvirt, /etc/libvirt (a copy, see
#                       _vdc_host_libvirt_conf), /var/lib/vdc-hva and
#                       /var/lib/vdc-sta (the agents' default states);
#                       virtlogd and libvirtd started and answering.
#                       Returns non-zero (with diag) on failure; the host's
#                       leftovers are removed by vdc_host_down/cleanup.
#   vdc_host_exec NAME CMD...
#                       run CMD inside the host's network, UTS and mount
#                       namespaces (in the foreground; no timeout of its own)
#   vdc_host_virsh NAME ARGS...
#                       virsh -q -c $VDC_HOST_URI ARGS inside the host,
#                       with a timeout of VDC_TIMEOUT
#   vdc_host_spawn NAME LOG CMD...
#                       start CMD inside the host in the background, its
#                       output appended to LOG; $! and VDC_HOST_PID are its
#                       pid (nsenter execs CMD, so it is CMD's own pid: kill
#                       -9 it to crash an agent). Ended by vdc_host_down.
#   vdc_host_dir NAME   the host's folder in the root namespace: HD/run is
#                       the host's /run, HD/lib /var/lib/libvirt, HD/log
#                       /var/log/libvirt, HD/hva /var/lib/vdc-hva, HD/stalib
#                       /var/lib/vdc-sta, HD/etc
#                       /etc/libvirt; HD/tmp is free for the test. Paths
#                       under VDC_TMP are the same inside and outside.
#   vdc_host_addr NAME  the host's address
#   vdc_host_netns NAME the name of its network namespace
#   vdc_host_libvirtd_pid NAME
#                       libvirtd's pid (root namespace pid)
#   vdc_host_pids NAME  every process in the host's namespaces, one a line
#   vdc_hosts_connect A B
#                       hosts A and B reach each other's address (routes
#                       through the root namespace, which forwards between
#                       their veths only); by default hosts reach only the
#                       server address
#   vdc_hosts_link A B  a veth "cable" straight between hosts A and B: each
#                       reaches the other's address over it, not through the
#                       root namespace (the VXLAN tunnels of 98-hva-networks.t)
#   vdc_host_libvirt_tls NAME
#                       once the host's vdc-hva has written its TLS files
#                       (HD/hva/pki, the host's /var/lib/vdc-hva/pki, from
#                       the desired state's "pki"), restart the host's
#                       libvirtd with --listen, listen_tls = 1, listen_tcp
#                       = 0 and ca_file/cert_file/key_file there (as
#                       docs/vdc-hva.md, "Live migration", says for real
#                       hosts), and wait until it answers over TLS at the
#                       host's address (virsh in the host with its own
#                       client cert). Running guests keep running (qemu
#                       outlives libvirtd); agents reconnect. For live
#                       migration between hosts joined by vdc_hosts_connect
#   vdc_host_down NAME  kill -9 every process in the host's namespaces (by
#                       pid: agents, libvirtd, virtlogd, qemu), delete the
#                       veth and the netns, remove the folder. Idempotent.
#   vdc_hosts_cleanup   every host of this run down, the server address off
#                       lo, the slot released; run by lib.sh's cleanup (EXIT
#                       trap and watchdog), safe after any failure, idempotent
#   vdc_hosts_leftovers print what this run left behind (netns, links,
#                       processes, folders); empty when clean
#   vdc_tiny_image      print the path of the test guest image, built once
#                       (under a lock) into VDC_IMAGE_CACHE (default
#                       ~/.cache/vdcfs) and rebuilt when tests/image changes
#   vdc_wait SECS CMD...
#                       run CMD every 0.1 s until it succeeds (0) or SECS
#                       pass (1); CMD's stderr is dropped
#   vdc_tiny_rootfs     the same for the test container root, a tarball
#                       (tests/image/build-tiny-rootfs.sh)
#   vdc_boot_ok         true when qemu under TCG is usable here
#
# Environment:
#   VDC_HOST_QEMU_USER  the user (and group) qemu runs as (default root:
#                       test files under /tmp need no relabelling)
#   VDC_IMAGE_CACHE     where vdc_tiny_image keeps tiny.img
#                       (and vdc_tiny_rootfs tiny-rootfs.tar)
#   VDC_HOST_LXC        1: hosts made from now on can run libvirt's lxc
#                       containers: the cgroup2 mount of a hybrid layout
#                       (/sys/fs/cgroup/unified) is hidden in the host's
#                       mount namespace, since libvirt 9.0's libvirt_lxc
#                       cannot start a container next to it (it mounts
#                       cgroup2 before the tmpfs that holds the v1
#                       controllers: "Unable to create directory
#                       /sys/fs/cgroup/unified"); vdc_host_down kills the
#                       containers' processes through their cgroups
#   VDC_HOST_URI        the URI vdc_host_virsh uses (default qemu:///system)

# ---- requirements ----

if [ "$(id -u)" != 0 ]; then
	skip_all "hosts need root (network and mount namespaces, libvirtd)"
fi
for _c in ip unshare nsenter flock libvirtd virtlogd virsh qemu-system-x86_64 qemu-img; do
	command -v "$_c" > /dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin
	command -v "$_c" > /dev/null 2>&1 || skip_all "hosts need $_c"
done
unset _c

VDC_HOSTS_LOCKDIR=/run/vdcfs-test
VDC_HOSTS_DIR=$VDC_TMP/hosts
VDC_HOST_QEMU_USER=${VDC_HOST_QEMU_USER:-root}
VDC_HOST_LXC=${VDC_HOST_LXC:-0}
VDC_HOST_URI=${VDC_HOST_URI:-qemu:///system}
VDC_HOSTS_PREFIX=198.51.100
VDC_HOSTS_SLOT=
mkdir -p "$VDC_HOSTS_DIR"

# ---- small helpers ----

# The namespace inode of a process: _vdc_ns PID net|mnt -> "net:[4026...]".
_vdc_ns() {
	readlink "/proc/$1/ns/$2" 2> /dev/null
}

# Pids of every process in network namespace NETNS_ID or mount namespace
# MNT_ID (as readlink prints them), except this shell and its subshell.
_vdc_ns_pids() {
	local netid=$1 mntid=$2 p pid
	for p in /proc/[0-9]*; do
		pid=${p#/proc/}
		[ "$pid" != $$ ] && [ "$pid" != "$BASHPID" ] || continue
		if { [ -n "$netid" ] && [ "$(_vdc_ns "$pid" net)" = "$netid" ]; } ||
			{ [ -n "$mntid" ] && [ "$(_vdc_ns "$pid" mnt)" = "$mntid" ]; }; then
			echo "$pid"
		fi
	done
}

# Kill -9 every process in those namespaces until none is left (10 s).
_vdc_ns_kill() {
	local netid=$1 mntid=$2 pids i
	[ -n "$netid$mntid" ] || return 0
	for i in $(seq 1 100); do
		pids=$(_vdc_ns_pids "$netid" "$mntid")
		[ -n "$pids" ] || return 0
		# shellcheck disable=SC2086
		kill -9 $pids 2> /dev/null
		# Reap the ones that are our children (holder, spawned agents).
		for p in $pids; do
			wait "$p" 2> /dev/null
		done &> /dev/null
		sleep 0.1
	done
	diag "hosts: processes left in $netid $mntid: $(_vdc_ns_pids "$netid" "$mntid" | tr '\n' ' ')"
	return 1
}

# ---- the slot: this run's addresses ----

# Remove what a run that died without cleaning up left in slot $1.
_vdc_hosts_reap_slot() {
	local k=$1 ns link id
	for ns in $(ip netns list 2> /dev/null | awk '{print $1}' | grep "^vdct-$k-"); do
		id="net:[$(stat -L -c %i "/run/netns/$ns" 2> /dev/null)]"
		_vdc_ns_kill "$id" ""
		ip netns del "$ns" 2> /dev/null
	done
	for link in $(ip -o link show 2> /dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep "^vdct${k}h[0-9]*$"); do
		ip link del "$link" 2> /dev/null
	done
	ip addr del "$VDC_HOSTS_PREFIX.$((16 * k + 1))/32" dev lo 2> /dev/null
	return 0
}

# Take the first free slot; on the way, clear every free slot of what a
# killed run left there.
_vdc_hosts_take_slot() {
	local k fd
	mkdir -p "$VDC_HOSTS_LOCKDIR"
	for k in $(seq 1 15); do
		exec {fd}>> "$VDC_HOSTS_LOCKDIR/slot-$k.lock"
		if flock -n "$fd"; then
			_vdc_hosts_reap_slot "$k"
			if [ -z "${VDC_HOSTS_SLOT:-}" ]; then
				VDC_HOSTS_SLOT=$k
				VDC_HOSTS_LOCKFD=$fd
				continue
			fi
		fi
		exec {fd}>&-
	done
	[ -n "${VDC_HOSTS_SLOT:-}" ]
}

if ! _vdc_hosts_take_slot; then
	echo "Bail out! hosts: all 15 address slots are taken ($VDC_HOSTS_LOCKDIR)"
	exit 1
fi
VDC_SERVER_ADDR=$VDC_HOSTS_PREFIX.$((16 * VDC_HOSTS_SLOT + 1))
export VDC_SERVER_ADDR VDC_HOSTS_SLOT
if ! ip addr add "$VDC_SERVER_ADDR/32" dev lo 2> /dev/null; then
	echo "Bail out! hosts: cannot add $VDC_SERVER_ADDR to lo"
	exit 1
fi
VDC_LISTEN=$VDC_SERVER_ADDR:0
export VDC_LISTEN

# ---- hosts ----

vdc_host_dir() { echo "$VDC_HOSTS_DIR/$1"; }
vdc_host_addr() { cat "$VDC_HOSTS_DIR/$1/addr" 2> /dev/null; }
vdc_host_netns() { echo "vdct-$VDC_HOSTS_SLOT-$1"; }
_vdc_host_holder() { cat "$VDC_HOSTS_DIR/$1/holder" 2> /dev/null; }

vdc_host_libvirtd_pid() {
	cat "$VDC_HOSTS_DIR/$1/run/libvirtd.pid" 2> /dev/null
}

vdc_host_pids() {
	local hd=$VDC_HOSTS_DIR/$1
	_vdc_ns_pids "$(cat "$hd/netid" 2> /dev/null)" "$(cat "$hd/mntid" 2> /dev/null)"
}

vdc_host_exec() {
	local name=$1 holder
	shift
	holder=$(_vdc_host_holder "$name")
	if [ -z "$holder" ]; then
		echo "vdc_host_exec: no host $name" >&2
		return 125
	fi
	nsenter -t "$holder" -n -u -m -- "$@" {VDC_HOSTS_LOCKFD}>&-
}

vdc_host_virsh() {
	local name=$1
	shift
	vdc_host_exec "$name" timeout -k 2 "$VDC_TIMEOUT" virsh -q -c "$VDC_HOST_URI" "$@"
}

vdc_host_spawn() {
	local name=$1 log=$2 holder
	shift 2
	holder=$(_vdc_host_holder "$name")
	if [ -z "$holder" ]; then
		echo "vdc_host_spawn: no host $name" >&2
		return 125
	fi
	nsenter -t "$holder" -n -u -m -- "$@" >> "$log" 2>&1 < /dev/null {VDC_HOSTS_LOCKFD}>&- &
	VDC_HOST_PID=$!
	echo "$VDC_HOST_PID" >> "$VDC_HOSTS_DIR/$name/spawned"
}

# The host's /etc/libvirt: the real one's configuration files and nwfilter
# rules, but none of its domains, networks, pools, secrets or hooks (a
# libvirtd of the root namespace may be defining domains there); qemu
# without cgroups, mount namespaces or a security driver (two libvirtds
# share the machine's cgroup tree and would both make machine/qemu-1-NAME);
# logs to files in the host's /var/log/libvirt; a host UUID of its own.
_vdc_host_libvirt_conf() {
	local etc=$1
	find /etc/libvirt -maxdepth 1 -type f -name '*.conf' -exec cp -p {} "$etc/" \;
	[ ! -d /etc/libvirt/nwfilter ] || cp -a /etc/libvirt/nwfilter "$etc/"
	mkdir -p "$etc/qemu/networks/autostart" "$etc/qemu/autostart"
	cat >> "$etc/qemu.conf" << EOF

# vdcfs test host (tests/integration/hosts.sh)
user = "$VDC_HOST_QEMU_USER"
group = "$VDC_HOST_QEMU_USER"
remember_owner = 0
cgroup_controllers = [ ]
namespaces = [ ]
security_driver = "none"
EOF
	cat >> "$etc/libvirtd.conf" << EOF

# vdcfs test host (tests/integration/hosts.sh)
host_uuid = "$(cat /proc/sys/kernel/random/uuid)"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
EOF
	cat >> "$etc/virtlogd.conf" << EOF

# vdcfs test host (tests/integration/hosts.sh)
log_outputs = "3:file:/var/log/libvirt/virtlogd.log"
EOF
}

# What runs inside the new mount namespace first: drop the copies of other
# tests' FUSE mounts and netns files (they would keep those alive), then
# put the host's folders in place.
_vdc_host_mounts='
set -e
name=$1 hd=$2 lxc=$3
hostname "vdct-$name"
awk '"'"'$3 ~ /^fuse/ || $3 == "nsfs" {print $2}'"'"' /proc/self/mounts | sort -r |
	while read -r m; do umount -l "$(printf "$m")" 2> /dev/null || true; done
if mountpoint -q /run/netns; then umount -l /run/netns; fi
mount --bind "$hd/run" /run
mount --bind "$hd/lib" /var/lib/libvirt
mount --bind "$hd/log" /var/log/libvirt
mount --bind "$hd/cache" /var/cache/libvirt
mount --bind "$hd/etc" /etc/libvirt
mount --bind "$hd/hva" /var/lib/vdc-hva
mount --bind "$hd/stalib" /var/lib/vdc-sta
if [ "$lxc" = 1 ] && mountpoint -q /sys/fs/cgroup/unified; then
	umount -l /sys/fs/cgroup/unified
	if grep -q " /sys/fs/cgroup/unified " /proc/self/mounts; then
		echo "cannot hide /sys/fs/cgroup/unified" >&2
		exit 1
	fi
fi
'

vdc_host_up() {
	local name=$1 index=$2 hd ns veth addr holder i
	if ! [[ $name =~ ^[a-z0-9-]{1,20}$ ]] || ! [[ $index =~ ^[0-9]+$ ]] ||
		[ "$index" -lt 1 ] || [ "$index" -gt 13 ]; then
		diag "vdc_host_up: usage: vdc_host_up NAME(1-20 of [a-z0-9-]) INDEX(1..13)"
		return 2
	fi
	hd=$VDC_HOSTS_DIR/$name
	if [ -e "$hd" ]; then
		diag "vdc_host_up: host $name is up already"
		return 1
	fi
	ns=$(vdc_host_netns "$name")
	veth=vdct${VDC_HOSTS_SLOT}h$index
	addr=$VDC_HOSTS_PREFIX.$((16 * VDC_HOSTS_SLOT + 1 + index))
	if ip link show "$veth" > /dev/null 2>&1; then
		diag "vdc_host_up: index $index is taken by another host"
		return 1
	fi
	mkdir -p "$hd"/{run,lib,log,cache,etc,hva,stalib,tmp}
	echo "$ns" > "$hd/netns"
	echo "$veth" > "$hd/veth"
	echo "$addr" > "$hd/addr"
	: > "$hd/spawned"
	_vdc_host_libvirt_conf "$hd/etc"
	# The mount points of the agents' states (the package would make them).
	mkdir -p /var/lib/vdc-hva /var/lib/vdc-sta

	# Network: eth0 in the host, $veth in the root namespace, /32 routes.
	if ! { ip netns add "$ns" &&
		ip link add "$veth" type veth peer name eth0 netns "$ns" &&
		ip link set "$veth" up &&
		ip route add "$addr/32" dev "$veth" src "$VDC_SERVER_ADDR" &&
		ip -n "$ns" link set lo up &&
		ip -n "$ns" addr add "$addr/32" dev eth0 &&
		ip -n "$ns" link set eth0 up &&
		ip -n "$ns" route add "$VDC_SERVER_ADDR/32" dev eth0; } 2> "$hd/up.err"; then
		diag "vdc_host_up $name: network setup failed:" "$(cat "$hd/up.err")"
		return 1
	fi
	echo "net:[$(stat -L -c %i "/run/netns/$ns")]" > "$hd/netid"

	# The holder: keeps the UTS and mount namespaces alive.
	nsenter --net="/run/netns/$ns" unshare --mount --uts --propagation private \
		sleep infinity < /dev/null > /dev/null 2>&1 {VDC_HOSTS_LOCKFD}>&- &
	holder=$!
	echo "$holder" > "$hd/holder"
	for i in $(seq 1 100); do
		[ "$(_vdc_ns "$holder" mnt)" != "$(_vdc_ns $$ mnt)" ] &&
			[ "$(_vdc_ns "$holder" uts)" != "$(_vdc_ns $$ uts)" ] && break
		sleep 0.02
	done
	_vdc_ns "$holder" mnt > "$hd/mntid"
	if [ "$(cat "$hd/mntid")" = "$(_vdc_ns $$ mnt)" ]; then
		diag "vdc_host_up $name: the holder did not make its namespaces"
		return 1
	fi
	echo "$VDC_HOST_LXC" > "$hd/lxc"
	if ! vdc_host_exec "$name" sh -c "$_vdc_host_mounts" sh "$name" "$hd" "$VDC_HOST_LXC" 2> "$hd/up.err"; then
		diag "vdc_host_up $name: mounts failed:" "$(cat "$hd/up.err")"
		return 1
	fi

	# virtlogd, then libvirtd, both daemonizing; their pid files are in
	# the host's /run ($hd/run).
	if ! vdc_host_exec "$name" virtlogd -d -p /run/virtlogd.pid > "$hd/up.err" 2>&1 ||
		! vdc_wait 10 test -S "$hd/run/libvirt/virtlogd-sock"; then
		diag "vdc_host_up $name: virtlogd did not start:" "$(cat "$hd/up.err")"
		return 1
	fi
	if ! vdc_host_exec "$name" libvirtd -d -p /run/libvirtd.pid > "$hd/up.err" 2>&1 ||
		! vdc_wait 30 vdc_host_exec "$name" timeout 5 virsh -q -c qemu:///system uri > /dev/null 2>&1; then
		diag "vdc_host_up $name: libvirtd did not start:" "$(cat "$hd/up.err")" \
			"$(tail -n 5 "$hd/log/libvirtd.log" 2> /dev/null)"
		return 1
	fi
	return 0
}

vdc_host_libvirt_tls() {
	local name=$1 hd=$VDC_HOSTS_DIR/$1 pki=/var/lib/vdc-hva/pki f pid addr
	addr=$(vdc_host_addr "$name")
	for f in cacert.pem servercert.pem serverkey.pem clientcert.pem clientkey.pem; do
		if [ ! -s "$hd/hva/pki/$f" ]; then
			diag "vdc_host_libvirt_tls $name: no $pki/$f (has the agent had a desired state with pki?)"
			return 1
		fi
	done
	if ! grep -q '^# vdc_host_libvirt_tls' "$hd/etc/libvirtd.conf"; then
		cat >> "$hd/etc/libvirtd.conf" << EOF
# vdc_host_libvirt_tls (tests/integration/hosts.sh)
listen_tls = 1
listen_tcp = 0
ca_file = "$pki/cacert.pem"
cert_file = "$pki/servercert.pem"
key_file = "$pki/serverkey.pem"
EOF
	fi
	pid=$(vdc_host_libvirtd_pid "$name")
	if [ -n "$pid" ] && kill -TERM "$pid" 2> /dev/null; then
		vdc_wait 20 sh -c "! kill -0 $pid" || kill -9 "$pid" 2> /dev/null
		vdc_wait 5 sh -c "! kill -0 $pid"
	fi
	rm -f "$hd/run/libvirtd.pid"
	if ! vdc_host_exec "$name" libvirtd -d --listen -p /run/libvirtd.pid > "$hd/up.err" 2>&1 ||
		! vdc_wait 30 vdc_host_exec "$name" timeout 5 virsh -q -c "qemu+tls://$addr/system?pkipath=$pki" uri > /dev/null 2>&1; then
		diag "vdc_host_libvirt_tls $name: libvirtd does not answer over TLS:" "$(cat "$hd/up.err")" \
			"$(vdc_host_exec "$name" timeout 5 virsh -q -c "qemu+tls://$addr/system?pkipath=$pki" uri 2>&1)" \
			"$(tail -n 5 "$hd/log/libvirtd.log" 2> /dev/null)"
		return 1
	fi
	return 0
}

# Kill every process of the host's lxc containers. A container has mount,
# pid (and network) namespaces of its own, so killing the host's namespaces
# misses it; its libvirt_lxc controller (pid in the host's
# /run/libvirt/lxc/NAME.pid) shares the container's cgroup
# (machine/lxc-PID-NAME.libvirt-lxc), which lists them all. The cgroup
# folders are removed once empty.
_vdc_host_lxc_kill() {
	local hd=$1 f pid cg dirs="" tasks i rc=0
	for f in "$hd"/run/libvirt/lxc/*.pid; do
		[ -f "$f" ] || continue
		pid=$(cat "$f" 2> /dev/null)
		[[ $pid =~ ^[0-9]+$ ]] || continue
		cg=$(awk -F: '$2 == "memory" {print $3}' "/proc/$pid/cgroup" 2> /dev/null)
		case $cg in
		*/lxc-*.libvirt-lxc) dirs="$dirs /sys/fs/cgroup/memory$cg" ;;
		esac
	done
	for cg in $dirs; do
		for i in $(seq 1 100); do
			tasks=$(cat "$cg/tasks" 2> /dev/null)
			[ -n "$tasks" ] || break
			# shellcheck disable=SC2086
			kill -9 $tasks 2> /dev/null
			sleep 0.1
		done
		if [ -n "$(cat "$cg/tasks" 2> /dev/null)" ]; then
			diag "hosts: processes left in $cg"
			rc=1
		fi
		for f in /sys/fs/cgroup/*/"${cg#/sys/fs/cgroup/memory/}"; do
			[ -d "$f" ] && rmdir "$f" 2> /dev/null
		done
	done
	return $rc
}

# _vdc_ns_pin VAR FILE ID: open FILE (a namespace: /run/netns/NS or
# /proc/PID/ns/mnt) on a new fd of this shell, kept in VAR, if it is the
# namespace ID; VAR is left empty otherwise. A namespace's inode number is
# handed out again as soon as the namespace is freed, so a scan by a number
# is only sure while something holds the namespace: without the pin, the
# last rounds of _vdc_ns_kill could find (and kill) another test's
# processes in a namespace made since. Undone with _vdc_ns_unpin VAR.
_vdc_ns_pin() {
	local -n _pin=$1
	_pin=
	[ -n "$3" ] && [ -e "$2" ] || return 1
	exec {_pin}< "$2" || { _pin=; return 1; }
	# The fd reads back as a path when FILE is a bind mount (/run/netns):
	# its inode says which namespace it is.
	[ "[$(stat -L -c %i "/proc/$BASHPID/fd/$_pin" 2> /dev/null)]" = "${3#*:}" ] && return 0
	exec {_pin}<&-
	_pin=
	return 1
}

_vdc_ns_unpin() {
	local -n _pin=$1
	[ -z "$_pin" ] || exec {_pin}<&-
	_pin=
}

# _vdc_host_pin NAME NETVAR MNTVAR: hold host NAME's network namespace
# (its /run/netns file) and its mount namespace (through the holder, while
# it lives) with _vdc_ns_pin, on fds kept in NETVAR and MNTVAR; each is
# empty when that namespace could not be held.
_vdc_host_pin() {
	local hd=$VDC_HOSTS_DIR/$1
	_vdc_ns_pin "$2" "/run/netns/$(cat "$hd/netns" 2> /dev/null)" "$(cat "$hd/netid" 2> /dev/null)"
	_vdc_ns_pin "$3" "/proc/$(cat "$hd/holder" 2> /dev/null)/ns/mnt" "$(cat "$hd/mntid" 2> /dev/null)"
	return 0
}

vdc_host_down() {
	local name=$1 hd=$VDC_HOSTS_DIR/$1 ns veth rc=0 pid netid= mntid= netpin mntpin
	[ -d "$hd" ] || return 0
	ns=$(cat "$hd/netns" 2> /dev/null)
	veth=$(cat "$hd/veth" 2> /dev/null)
	[ "$(cat "$hd/lxc" 2> /dev/null)" != 1 ] || _vdc_host_lxc_kill "$hd" || rc=1
	# Everything in the host's namespaces: agents, libvirtd, virtlogd,
	# qemu, the holder. The mounts go with the mount namespace. Only a
	# namespace held here is scanned: the network one through its
	# /run/netns file, the mount one through the holder while it lives
	# (every process of the host entered both, so the network one alone
	# still finds them all).
	_vdc_host_pin "$name" netpin mntpin
	[ -z "$netpin" ] || netid=$(cat "$hd/netid")
	[ -z "$mntpin" ] || mntid=$(cat "$hd/mntid")
	_vdc_ns_kill "$netid" "$mntid" || rc=1
	_vdc_ns_unpin netpin
	_vdc_ns_unpin mntpin
	# Spawned commands that had not entered the namespaces yet.
	for pid in $(cat "$hd/spawned" "$hd/holder" 2> /dev/null); do
		if [ "$(_vdc_ns "$pid" mnt)" = "$(_vdc_ns $$ mnt)" ] &&
			tr '\0' ' ' < "/proc/$pid/cmdline" 2> /dev/null | grep -q '^nsenter '; then
			kill -9 "$pid" 2> /dev/null
		fi
		wait "$pid" 2> /dev/null
	done
	[ -z "$veth" ] || ! ip link show "$veth" > /dev/null 2>&1 || ip link del "$veth" || rc=1
	[ -z "$ns" ] || [ ! -e "/run/netns/$ns" ] || ip netns del "$ns" || rc=1
	rm -rf --one-file-system "$hd" || rc=1
	return $rc
}

# Let hosts A and B reach each other (a hypervisor and its storage host):
# each gets a route to the other through the root namespace (via the
# server address, which it already reaches), and the root namespace
# forwards between their two veths only (the forwarding flag of those
# interfaces; the machine's ip_forward is left alone). Undone with the
# hosts' veths and netns.
vdc_hosts_connect() {
	local a=$1 b=$2 ha=$VDC_HOSTS_DIR/$1 hb=$VDC_HOSTS_DIR/$2
	if ! { ip -n "$(cat "$ha/netns")" route add "$(cat "$hb/addr")/32" via "$VDC_SERVER_ADDR" dev eth0 &&
		ip -n "$(cat "$hb/netns")" route add "$(cat "$ha/addr")/32" via "$VDC_SERVER_ADDR" dev eth0 &&
		sysctl -qw "net.ipv4.conf.$(cat "$ha/veth").forwarding=1" &&
		sysctl -qw "net.ipv4.conf.$(cat "$hb/veth").forwarding=1"; } 2> "$ha/connect.err"; then
		diag "vdc_hosts_connect $a $b failed:" "$(cat "$ha/connect.err")"
		return 1
	fi
}

# vdc_hosts_link A B: a veth pair straight between hosts A and B, as a
# cable between two machines: each keeps its own address (a /32 on eth0)
# and reaches the other's through the link (a /32 route with that source),
# without the root namespace in the path. Their VXLAN tunnels use it. The
# link goes with the hosts' network namespaces.
vdc_hosts_link() {
	local a=$1 b=$2 ha=$VDC_HOSTS_DIR/$1 hb=$VDC_HOSTS_DIR/$2 na nb aa ab
	na=$(cat "$ha/netns") nb=$(cat "$hb/netns") aa=$(cat "$ha/addr") ab=$(cat "$hb/addr")
	if ! { ip -n "$na" link add "to-$b" type veth peer name "to-$a" netns "$nb" &&
		ip -n "$na" link set "to-$b" up && ip -n "$nb" link set "to-$a" up &&
		ip -n "$na" route add "$ab/32" dev "to-$b" src "$aa" &&
		ip -n "$nb" route add "$aa/32" dev "to-$a" src "$ab"; } 2> "$ha/link.err"; then
		diag "vdc_hosts_link $a $b failed:" "$(cat "$ha/link.err")"
		return 1
	fi
}

vdc_hosts_cleanup() {
	local hd
	[ -n "${VDC_HOSTS_SLOT:-}" ] || return 0
	for hd in "$VDC_HOSTS_DIR"/*/; do
		[ -d "$hd" ] || continue
		hd=${hd%/}
		vdc_host_down "${hd##*/}"
	done
	ip addr del "$VDC_SERVER_ADDR/32" dev lo 2> /dev/null
	# The number stays set: closing a closed fd again is harmless.
	exec {VDC_HOSTS_LOCKFD}>&-
	return 0
}

vdc_hosts_leftovers() {
	local k=$VDC_HOSTS_SLOT
	ip netns list 2> /dev/null | awk '{print $1}' | grep "^vdct-$k-" | sed 's/^/netns /'
	ip -o link show 2> /dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' |
		grep "^vdct${k}h[0-9]*$" | sed 's/^/link /'
	ip route show 2> /dev/null | grep -E "dev vdct${k}h[0-9]+ " | sed 's/^/route /'
	ls -d "$VDC_HOSTS_DIR"/*/ 2> /dev/null | sed 's/^/folder /'
	grep -F "$VDC_HOSTS_DIR/" /proc/self/mounts | sed 's/^/mount /'
	return 0
}

# lib.sh runs the hooks in vdc_cleanup; the watchdog is restarted so that
# its own copy of the shell knows these functions too.
VDC_CLEANUP_HOOKS="${VDC_CLEANUP_HOOKS:-} vdc_hosts_cleanup"
if [ -n "${VDC_WATCHDOG_PID:-}" ]; then
	kill "$VDC_WATCHDOG_PID" 2> /dev/null
	wait "$VDC_WATCHDOG_PID" 2> /dev/null
	vdc_watchdog "$VDC_WATCHDOG"
fi

# ---- the test guest image ----

# _vdc_cached_build FILE SCRIPT INPUT LOCK LOG WHO: print FILE (in the
# cache), made by SCRIPT under the LOCK file, again when SCRIPT or INPUT
# (of tests/image/) is newer; SCRIPT's output goes to LOG.
_vdc_cached_build() {
	local cache=${VDC_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vdcfs}
	local src=$VDC_SRC_ROOT/tests/image
	local out=$cache/$1 script=$src/$2 input=$src/$3 log=$cache/$5
	mkdir -p "$cache" || return 1
	(
		flock -w 600 9 || exit 1
		if [ ! -s "$out" ] || [ "$script" -nt "$out" ] || [ "$input" -nt "$out" ]; then
			rm -f "$out.new"
			"$script" "$out.new" > "$log" 2>&1 && mv "$out.new" "$out"
		fi
	) 9>> "$cache/$4" {VDC_HOSTS_LOCKFD}>&-
	if [ ! -s "$out" ]; then
		diag "$6: the build failed:" "$(tail -n 5 "$log" 2> /dev/null)"
		return 1
	fi
	echo "$out"
}

vdc_tiny_image() {
	_vdc_cached_build tiny.img build-tiny-image.sh init tiny.img.lock tiny.build.log vdc_tiny_image
}

# vdc_tiny_rootfs: print the path of the test container root (a tarball),
# built once (under a lock) into VDC_IMAGE_CACHE and rebuilt when its
# sources change (tests/image/build-tiny-rootfs.sh).
vdc_tiny_rootfs() {
	_vdc_cached_build tiny-rootfs.tar build-tiny-rootfs.sh rootfs-init tiny-rootfs.lock tiny-rootfs.build.log \
		vdc_tiny_rootfs
}

# qemu has TCG here.
vdc_boot_ok() {
	qemu-system-x86_64 -accel help 2> /dev/null | grep -qx tcg
}
