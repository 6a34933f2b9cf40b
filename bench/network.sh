#!/bin/bash
#
# bench/network.sh: how fast a security group's rules reach the hosts, and
# what the VXLAN overlay adds to a guest's round trip, each against a
# reference measured in the same run (docs/networks.md).
#
#   bench/network.sh          (as root; REPEAT, PINGS... below)
#
# Hosts are tests/integration/hosts.sh's (network and mount namespaces on
# this machine, a libvirtd each), joined to a private vdcfs by vdc-hva, as
# in tests/integration/98-hva-networks.t: hosts a and b, a veth "cable"
# between them for the tunnels, network net1 (192.0.2.0/24), group web
# (icmp from the network) and three guests of the tiny test image under
# TCG, all on net1 and in web:
#
#   host a: g1, g3      host b: g2
#
# build/vdcfs and build/vdc-hva (VDCFS, VDC_HVA) are copied at the start,
# so that a rebuild during the run cannot mix two builds.
#
# 1. Overlay round trip. g1's user-data waits for its address and until
#    g2 and g3 answer a ping, sleeps WARM seconds (ARP and the bridges'
#    FDBs are warm then), then runs `ping -c PINGS -i 0.2` to g2 (over
#    VXLAN, the other host) and to g3 (the same host's bridge), PING_ROUNDS
#    times in turn, and prints busybox's summary lines on the console
#    behind "vdc-bench: ROUND overlay|bridge ", which run/console shows.
#    Figure: the mean of the rounds' avg RTT over VXLAN against the same on
#    one bridge. Both go through the same taps, bridges and nftables
#    chains; the overlay adds VXLAN encapsulation, the veth cable and a
#    second host's bridge. Under TCG the guests' own latency is most of
#    both.
# 2. Rule propagation, REPEAT times (default 20), once the pings are done
#    and the guests idle: one write(2) of web's rules (cat of a prepared
#    file: bash's builtins write line by line), alternating two texts so
#    that every write changes the ruleset. The clock starts just before
#    the write ($EPOCHREALTIME: CLOCK_REALTIME, the agents' clock too, read
#    without forking `date`) and stops at the later of the two agents' log
#    lines "loaded the ruleset ..." that follow it (stamped to the ms,
#    truncated, so a figure is up to 1 ms short). The cat's fork and exec
#    are inside the figure: "write returned" below shows how much.
#    Reference: after each write, host a's new ruleset (`nft -s list
#    table bridge T; nft -s list table inet T`) behind the lines "add
#    table ...; delete table ..." the agent puts in front of its own, is
#    loaded with `nft -f` into a network namespace of this script's own
#    (made empty at the start, loaded once unmeasured so that every
#    measured load replaces the tables, as the agent's do), timed inside
#    the namespace around the nft process alone; beside it, for scale,
#    `nft -f` of an empty file there (a process and a libnftables context
#    that load nothing), which the agent, holding its context, does not
#    pay. Nor does it pay the close(2) of nft's netlink socket after a
#    commit, which the kernel makes wait about 10 ms here (strace -T;
#    0.01 ms without a commit), when the ruleset is already live: the
#    reference is what a shell script's reload costs, not the kernel's
#    commit alone. From the agents' log (-v) each write is split: until
#    both agents hold the new desired state (the long-poll's answer),
#    then until both loaded the ruleset.
#
# Every figure is printed beside its reference and their ratio. This is a
# benchmark: it reports and exits 0 when everything ran.
#
# Environment: REPEAT (20), PINGS (40), PING_ROUNDS (3), WARM (3, seconds),
# MEMORY (128M), VDCFS, VDC_HVA, BENCH_KEEP=1 (copy the logs of vdcfs and
# the agents and the bench's files to /var/tmp/vdcfs-network.PID before
# the clean-up), BENCH_TIMEOUT (seconds for the whole run, default 900).
#
# Clean-up (also on failure, ^C or the timeout): the scratch namespace
# deleted, then tests/integration's own clean-up: every process in the
# hosts' namespaces (agents, libvirtd, qemu, dnsmasq) killed by pid, veths
# and namespaces deleted, vdcfs unmounted and stopped, the work folder
# (/tmp/vdcfs-test.*) removed.

set -u
export LC_ALL=C

BENCH=network.sh
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

REPEAT=${REPEAT:-20}
PINGS=${PINGS:-40}
PING_ROUNDS=${PING_ROUNDS:-3}
WARM=${WARM:-3}
MEMORY=${MEMORY:-128M}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-900}
VDC_HVA=${VDC_HVA:-$REPO/build/vdc-hva}

need_count REPEAT "$REPEAT"
need_count PINGS "$PINGS"
need_count PING_ROUNDS "$PING_ROUNDS"
need_count WARM "$WARM"
need_count BENCH_TIMEOUT "$BENCH_TIMEOUT"
[[ $(id -u) -eq 0 ]] || die "needs root (namespaces, libvirtd, nftables)"
[[ -x $VDCFS ]] || die "no vdcfs at $VDCFS; run make first or set VDCFS"
[[ -x $VDC_HVA ]] || die "no vdc-hva at $VDC_HVA; run make first or set VDC_HVA"
PATH=$PATH:/usr/sbin:/sbin
for c in ip nsenter unshare libvirtd virtlogd virsh qemu-system-x86_64 qemu-img nft dnsmasq curl; do
	command -v "$c" >/dev/null 2>&1 || die "needs $c"
done
[[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]] || die "the kernel has no br_netfilter (modprobe br_netfilter)"
qemu-system-x86_64 -accel help 2>/dev/null | grep -qx tcg || die "qemu has no TCG here"

# ---- the integration tests' harness: vdcfs, hosts, agents ----

# shellcheck source=bench/harness.sh
. "$BENCH_DIR/harness.sh"
mkdir -p "$W/rules"

# The reference's network namespace: named here, made before the first
# reference load, deleted by bench_cleanup (lib.sh's EXIT trap and
# watchdog run it) with anything left inside killed by pid.
SCRATCH_NS=vdcbench-nft-$$
bench_cleanup() {
	local p
	[[ -e /run/netns/$SCRATCH_NS ]] || return 0
	for p in $(ip netns pids "$SCRATCH_NS" 2>/dev/null); do
		kill -9 "$p" 2>/dev/null
	done
	ip netns del "$SCRATCH_NS" 2>/dev/null
}
VDC_CLEANUP_HOOKS="bench_cleanup ${VDC_CLEANUP_HOOKS:-}"

# With BENCH_KEEP=1 the work folder and the logs are copied out of
# VDC_TMP before lib.sh's cleanup removes it.
if [[ ${BENCH_KEEP:-} == 1 ]]; then
	bench_keep_copy() {
		local keep=/var/tmp/vdcfs-network.$$
		rm -rf "$keep"
		mkdir -p "$keep"
		cp -a "$W" "$VDC_TMP"/hva-*.log "$VDC_TMP"/vdcfs-*.log "$keep/" 2>/dev/null
		echo "$BENCH: kept logs and rulesets in $keep" >&2
	}
	VDC_CLEANUP_HOOKS="bench_keep_copy $VDC_CLEANUP_HOOKS"
fi

# ---- small helpers ----

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
RUN_START=$(date +%s)

# median: of the numbers on stdin. maximum: the largest.
median() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
maximum() { sort -g | tail -n 1; }
mean() { awk '{ s += $1 } END { if (NR) printf "%.3f\n", s / NR; else print "nan" }'; }
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }'
}
fmt1() { awk -v a="$1" 'BEGIN { printf "%.1f", a }'; }

# The ISO time of an agent log line (2026-11-25T00:34:37.188Z) as epoch seconds.
iso_s() { date -u -d "$1" +%s.%3N; }

# log_line LOG OFFSET FIXED-STRING: the first line of LOG after byte
# OFFSET holding FIXED-STRING; nothing if none.
log_line() { tail -c +"$(($2 + 1))" "$1" 2>/dev/null | grep -m 1 -F -- "$3"; }

# ms_between A B: milliseconds from epoch seconds A to B, one decimal.
ms_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) * 1000 }'; }

# bench_fail WHAT: say what went wrong with what the agents said.
bench_fail() {
	local h
	echo "$BENCH: $*" >&2
	for h in a b; do
		[[ -f $VDC_TMP/hva-$h.log ]] || continue
		echo "--- vdc-hva $h (last lines)" >&2
		tail -n 15 "$VDC_TMP/hva-$h.log" >&2
	done
	exit 1
}

hva_log() { echo "$VDC_TMP/hva-$1.log"; }

# loaded_both OFF-A OFF-B: both agents logged a ruleset load after the offsets.
loaded_both() {
	[[ -n $(log_line "$(hva_log a)" "$1" 'loaded the ruleset') ]] &&
		[[ -n $(log_line "$(hva_log b)" "$2" 'loaded the ruleset') ]]
}

# ruleset_dump HOST FILE: the host's ruleset, as the agent loads it: the
# lines that make the reload replace the tables, then both tables.
ruleset_dump() {
	{
		printf 'add table bridge %s\ndelete table bridge %s\n' "$TABLE" "$TABLE"
		printf 'add table inet %s\ndelete table inet %s\n' "$TABLE" "$TABLE"
		vdc_host_exec "$1" nft -s list table bridge "$TABLE" &&
			vdc_host_exec "$1" nft -s list table inet "$TABLE"
	} >"$2"
}

# nft_load FILE: load FILE into the scratch namespace; prints the µs the
# nft process took, timed inside the namespace.
nft_load() {
	# shellcheck disable=SC2016
	ip netns exec "$SCRATCH_NS" bash -c \
		't=${EPOCHREALTIME/./}; nft -f "$1" || exit 1; echo $((${EPOCHREALTIME/./} - t))' nft_load "$1"
}

# place HOST OTHER INSTANCE...: power the instances on while OTHER takes
# none, so that they land on HOST (as 98-hva-networks.t places them).
place() {
	local host=$1 other=$2 g
	shift 2
	put off "$MNT/hosts/$other/schedulable" || return 1
	for g; do
		put on "$MNT/instances/$g/power" || return 1
		vdc_wait 20 vdc_is "$MNT/instances/$g/run/host" "$host" || return 1
	done
	put on "$MNT/hosts/$other/schedulable"
}

# console GUEST: the guest's console so far, without carriage returns.
console() { get "$MNT/instances/$1/run/console" | tr -d '\r'; }

# ---- set up ----

echo "$BENCH: $(nproc) cpus, kernel $(uname -r), $(nft --version), libvirt $(virsh -v 2>/dev/null), load average $LOAD_START"
echo "$BENCH: vdcfs $VDCFS_SRC (built $(date -u -r "$VDCFS_SRC" '+%F %T')), vdc-hva $HVA_SRC (built $(date -u -r "$HVA_SRC" '+%F %T')), tree at $(git -C "$REPO" describe --always --dirty 2>/dev/null || echo '?')"
echo "$BENCH: guests: TCG, $MEMORY, 1 cpu, the tiny test image; g1 and g3 on host a, g2 on host b"
vdc_start
vdc_import_tiny || bench_fail "cannot import the tiny image"
vdc_hva_host a 1 || bench_fail "host a did not come up or join"
vdc_hva_host b 2 || bench_fail "host b did not come up or join"
vdc_hosts_link a b || bench_fail "cannot link hosts a and b"

N=$MNT/networks
G=$MNT/security-groups
mkdir "$N/net1" || bench_fail "mkdir networks/net1"
put 192.0.2.0/24 "$N/net1/cidr" || bench_fail "cidr of net1"
mkdir "$G/web" || bench_fail "mkdir security-groups/web"
put "in icmp - 192.0.2.0/24" "$G/web/rules" || bench_fail "the rules of web"
for g in g1 g2 g3; do
	vdc_instance "$g" || bench_fail "cannot make instance $g"
	mkdir "$MNT/instances/$g/nics/eth0" || bench_fail "nic of $g"
	ln -s ../../../../networks/net1 "$MNT/instances/$g/nics/eth0/network" || bench_fail "$g on net1"
	ln -s ../../../security-groups/web "$MNT/instances/$g/security-groups/web" || bench_fail "$g in web"
done
ip2=$(get "$MNT/instances/g2/nics/eth0/run/ip")
ip3=$(get "$MNT/instances/g3/nics/eth0/run/ip")
[[ $ip2 == 192.0.2.* && $ip3 == 192.0.2.* ]] || bench_fail "g2 and g3 have no addresses of net1 ('$ip2', '$ip3')"

# g1's user-data: wait for the address and the peers, then the pings.
cat >"$W/g1.sh" <<EOF
#!/bin/sh
(
	while ! ip addr show dev eth0 | grep -q 'inet '; do sleep 0.2; done
	for p in $ip2 $ip3; do
		n=0
		until ping -c 1 -W 1 \$p > /dev/null 2>&1; do
			n=\$((n + 1))
			[ \$n -lt 300 ] || { echo "vdc-bench: \$p never answered"; break; }
			sleep 0.2
		done
	done
	sleep $WARM
	r=0
	while [ \$r -lt $PING_ROUNDS ]; do
		r=\$((r + 1))
		for t in overlay:$ip2 bridge:$ip3; do
			ping -c $PINGS -i 0.2 \${t#*:} 2>&1 |
				sed -n "/packets transmitted/s/^/vdc-bench: \$r \${t%%:*} /p; /^round-trip/s/^/vdc-bench: \$r \${t%%:*} /p"
		done
	done
	echo "vdc-bench: done"
) > /dev/console 2>&1 &
EOF
cp "$W/g1.sh" "$MNT/instances/g1/user-data" || bench_fail "user-data of g1"

T=$(date +%s%N)
place a b g1 g3 || bench_fail "g1 and g3 did not go to host a"
place b a g2 || bench_fail "g2 did not go to host b"
for g in g1 g2 g3; do
	vdc_wait_state "$g" running 120 || bench_fail "$g did not run"
done
echo "$BENCH: three guests running after $((($(date +%s%N) - T) / 1000000)) ms"

# ---- 1. the overlay round trip ----

echo
echo "1. ping RTT from g1 (host a): to g2 over VXLAN (host b), to g3 on host a's bridge; $PING_ROUNDS rounds of $PINGS pings at 0.2 s, after $WARM s warm"
vdc_wait 600 vdc_console_has g1 "vdc-bench: done" ||
	bench_fail "g1 did not finish its pings; its console ends: $(console g1 | tail -n 5)"
echo "$BENCH: pings done $((($(date +%s%N) - T) / 1000000)) ms after the first power on"
console g1 | grep -q '^vdc-bench: .* never answered' &&
	bench_fail "a peer never answered g1: $(console g1 | grep '^vdc-bench: .* never answered')"
: >"$W/rtt.overlay"; : >"$W/rtt.bridge"; : >"$W/min.overlay"; : >"$W/min.bridge"
for ((r = 1; r <= PING_ROUNDS; r++)); do
	line="   round $r:"
	for k in overlay bridge; do
		rtt=$(console g1 | sed -n "s|^vdc-bench: $r $k round-trip min/avg/max = \([0-9.]*/[0-9.]*/[0-9.]*\) ms$|\1|p" | tail -n 1)
		sent=$(console g1 | sed -n "s|^vdc-bench: $r $k \([0-9]* packets transmitted, [0-9]* packets received, [0-9]*% packet loss\)$|\1|p" | tail -n 1)
		[[ -n $rtt ]] || bench_fail "no round trip of round $r ($k) on g1's console: $(console g1 | grep "^vdc-bench: $r $k" | tr '\n' ' ')"
		echo "$rtt" | cut -d/ -f2 >>"$W/rtt.$k"
		echo "$rtt" | cut -d/ -f1 >>"$W/min.$k"
		line+=" $k min/avg/max $rtt ms ($sent);"
	done
	echo "$line"
done
A=$(mean <"$W/rtt.overlay")
B=$(mean <"$W/rtt.bridge")
echo "   mean of the rounds' avg: overlay $A ms, bridge $B ms; of their min (the floor, steadier under TCG): overlay $(mean <"$W/min.overlay") ms, bridge $(mean <"$W/min.bridge") ms"

# ---- 2. rule propagation ----

echo
echo "2. rule write -> ruleset loaded on both hosts, $REPEAT writes; nft -f of the same ruleset in a scratch namespace after each"
TABLE=$(vdc_host_exec a nft list tables bridge | sed -n 's/^table bridge \(vdc_[0-9a-z_]*\)$/\1/p')
[[ -n $TABLE ]] || bench_fail "host a has no bridge table vdc_*"
printf 'in icmp - 192.0.2.0/24\nin tcp 22 sg:web\n' >"$W/rules/1"
printf 'in icmp - 192.0.2.0/24\nin tcp 23 sg:web\n' >"$W/rules/0"
ip netns add "$SCRATCH_NS" || bench_fail "cannot make the namespace $SCRATCH_NS"
: >"$W/empty.nft"
ruleset_dump a "$W/ruleset-0.nft" || bench_fail "cannot list host a's ruleset"
nft_load "$W/ruleset-0.nft" >/dev/null || bench_fail "nft -f of host a's ruleset failed in $SCRATCH_NS"
echo "   table $TABLE; host a's ruleset: $(grep -c . "$W/ruleset-0.nft") lines (host b's: $(vdc_host_exec b nft -s list ruleset | grep -c .))"
: >"$W/live"; : >"$W/nft"; : >"$W/nft0"; : >"$W/write"; : >"$W/desired"
prev_a='' prev_b=''
for ((k = 1; k <= REPEAT; k++)); do
	offa=$(stat -c %s "$(hva_log a)")
	offb=$(stat -c %s "$(hva_log b)")
	t0=$EPOCHREALTIME
	cat "$W/rules/$((k % 2))" >"$G/web/rules" || bench_fail "write $k of web's rules failed: $(get "$G/web/run/err")"
	t1=$EPOCHREALTIME
	vdc_wait 30 loaded_both "$offa" "$offb" || bench_fail "write $k: no ruleset load on both hosts within 30 s"
	la=$(log_line "$(hva_log a)" "$offa" 'loaded the ruleset')
	lb=$(log_line "$(hva_log b)" "$offb" 'loaded the ruleset')
	da=$(log_line "$(hva_log a)" "$offa" 'desired state revision')
	db=$(log_line "$(hva_log b)" "$offb" 'desired state revision')
	ta=$(iso_s "${la%% *}") tb=$(iso_s "${lb%% *}")
	ha=$(sed -n 's/.*(\([0-9a-f]*\))$/\1/p' <<<"$la") hb=$(sed -n 's/.*(\([0-9a-f]*\))$/\1/p' <<<"$lb")
	[[ $ha != "$prev_a" && $hb != "$prev_b" ]] || bench_fail "write $k did not change a ruleset (a $ha, b $hb)"
	prev_a=$ha prev_b=$hb
	t_last=$(awk -v a="$ta" -v b="$tb" 'BEGIN { print (a > b ? a : b) }')
	live=$(ms_between "$t0" "$t_last")
	wrote=$(ms_between "$t0" "$t1")
	if [[ -n $da && -n $db ]]; then
		td=$(awk -v a="$(iso_s "${da%% *}")" -v b="$(iso_s "${db%% *}")" 'BEGIN { print (a > b ? a : b) }')
		desired=$(ms_between "$t0" "$td")
	else
		desired='?'
	fi
	# Let the agents finish their pass (reports) before the reference.
	sleep 0.3
	ruleset_dump a "$W/ruleset-$k.nft" || bench_fail "cannot list host a's ruleset after write $k"
	grep -q "comment \"vdc-hva $ha" "$W/ruleset-$k.nft" ||
		bench_fail "host a's ruleset after write $k is not the one its agent logged ($ha)"
	us=$(nft_load "$W/ruleset-$k.nft") || bench_fail "nft -f of host a's ruleset $k failed in $SCRATCH_NS"
	ref=$(awk -v u="$us" 'BEGIN { printf "%.1f", u / 1000 }')
	us=$(nft_load "$W/empty.nft") || bench_fail "nft -f of an empty file failed in $SCRATCH_NS"
	ref0=$(awk -v u="$us" 'BEGIN { printf "%.1f", u / 1000 }')
	echo "$ref0" >>"$W/nft0"
	echo "$live" >>"$W/live"
	echo "$ref" >>"$W/nft"
	echo "$wrote" >>"$W/write"
	echo "$desired" >>"$W/desired"
	printf '   write %2d: live on a %6.1f ms, on b %6.1f ms (write returned %5.1f ms; both agents held the new desired state at %s ms); nft -f %5.1f ms (empty file %4.1f ms)\n' \
		"$k" "$(ms_between "$t0" "$ta")" "$(ms_between "$t0" "$tb")" "$wrote" "$desired" "$ref" "$ref0"
done
X=$(median <"$W/live")
Y=$(maximum <"$W/live")
Z=$(median <"$W/nft")
echo "   medians: write returned $(median <"$W/write") ms, desired state at both agents $(grep -v '?' "$W/desired" | median) ms; nft -f max $(maximum <"$W/nft") ms, of an empty file $(median <"$W/nft0") ms (median)"

echo
echo "summary"
echo "rule write -> live on 2 hosts: median $(fmt1 "$X") ms (max $(fmt1 "$Y") ms); nft -f of the same ruleset: $(fmt1 "$Z") ms; ratio $(ratio "$X" "$Z")"
echo "ping over VXLAN (2 hosts): avg $A ms; on one host's bridge: avg $B ms; ratio $(ratio "$A" "$B")"
echo "load average: $LOAD_START at start, $(cut -d' ' -f1-3 /proc/loadavg) at end; the run took $(($(date +%s) - RUN_START)) s (other work on the machine skews both sides)"
