#!/bin/bash
#
# bench/start.sh: how long vdcfs and vdc-hva take to start an instance,
# against starting the same domain XML straight through libvirt in the
# same run (issue 3, "Speed").
#
#   bench/start.sh            (as root; REPEAT, RUNS, BATCH... below)
#
# It builds nothing but its own clock, bench/startlat.c, compiled into the
# work folder: it runs build/vdcfs and build/vdc-hva (VDCFS, VDC_HVA),
# copied at the start so that a rebuild during the run cannot mix two
# builds. Hosts are tests/integration/hosts.sh's: network and mount
# namespaces on this machine, each with its own libvirtd, joined to a
# private vdcfs by a vdc-hva started with the command `cat hosts/join`
# prints. Guests run under TCG with MEMORY (128M) and the tiny test image
# (tests/image, built once into ~/.cache/vdcfs). Only libvirt's state
# `running` is waited for, never the guest's boot.
#
# 1. One start (REPEAT times, default 10), on one host whose image cache
#    already holds the image (a warm-up instance fetched it):
#      vdcfs:   a fresh instance (mkdir, image link, memory; not timed),
#               then the clock runs from the write of "on\n" to power
#               until run/state reads `running` (read every POLL_US, 1 ms).
#      libvirt: the XML vdc-hva defined for the first measured instance
#               (virsh dumpxml --inactive), with a name of its own and no
#               uuid or metadata, its own qcow2 overlay on the same cached
#               image and a copy of the seed, all made before the clock
#               starts; the clock runs over virDomainDefineXML +
#               virDomainCreate (the calls vdc-hva makes) on a connection
#               opened before, until the domain is running.
#    The two alternate, vdcfs first; each instance is powered off and
#    removed (each reference domain destroyed and undefined) before the
#    next start, so every start is the first of its instance (a new disk
#    and seed). Overhead = vdcfs start - libvirt start, per pair and of
#    the medians; target < 50 ms. From vdc-hva's log (-v) each vdcfs start
#    is split: until the agent holds the new desired state (long-poll
#    wake-up), until it calls virDomainCreate (boot disk, seed, XML,
#    define), until libvirt's `started` event, until run/state says
#    `running` (the report).
# 2. BATCH (20) instances at once, RUNS times (default 3): a host offers
#    its cpus (2 here) and an instance needs one, so the batch is spread
#    over HOSTS hosts (default: enough for BATCH, 10 here), each warmed up
#    first (one instance each, so that every cache holds the image).
#      vdcfs:   BATCH writes of "on\n" in a tight loop, then the clock runs
#               until every run/state reads `running` (read every
#               BATCH_POLL_US, 5 ms).
#      libvirt: BATCH prepared XMLs (as above), as many on each host as
#               vdcfs placed there, a connection per host, started
#               "all at once" (par: a thread per domain, like the writes,
#               which do not wait for each other: the headline reference)
#               and "per host in a loop" (host: the hosts at once, each
#               host's domains one after the other, the way vdc-hva's
#               worker starts them). REF_MODES picks them (default
#               "par host"; "seq", one loop over all, is the slowest by
#               far here: every started guest boots under TCG and slows
#               the starts after it).
#    Figures: starts per second, BATCH / time until the last is running.
#    The CPU time of vdcfs and the agents (with the programs they run)
#    during the starts is counted too.
#
# Every figure is printed beside its reference and their ratio. This is a
# benchmark: it reports and exits 0 when everything started, whether or
# not a target is met.
#
# Between the two, the programs vdc-hva runs to prepare a start
# (qemu-img, mkfs.vfat, mcopy) are timed alone in host h01, PARTS_N times.
#
# Environment: REPEAT (10), RUNS (3), BATCH (20), HOSTS (hosts for the
# batch; default ceil(BATCH / cpus of a host), at most 13), REF_MODES
# ("par host"), PARTS_N (10), MEMORY (128M), POLL_US (1000),
# BATCH_POLL_US (5000), VDCFS, VDC_HVA, BENCH_KEEP=1 (copy the logs of
# vdcfs, the agents and libvirtd and the bench's own files to
# /var/tmp/vdcfs-start.PID before the clean-up), BENCH_TIMEOUT (seconds
# for the whole run, default 1800).
#
# Clean-up (also on failure, ^C or the timeout): reference domains
# destroyed and undefined, then tests/integration's own clean-up: every
# process in the hosts' namespaces (agents, libvirtd, virtlogd, qemu)
# killed by pid, veths and namespaces deleted, vdcfs unmounted and
# stopped, the work folder (/tmp/vdcfs-test.*) removed.

set -u
export LC_ALL=C

BENCH=start.sh
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

REPEAT=${REPEAT:-10}
RUNS=${RUNS:-3}
BATCH=${BATCH:-20}
HOSTS=${HOSTS:-}
MEMORY=${MEMORY:-128M}
POLL_US=${POLL_US:-1000}
BATCH_POLL_US=${BATCH_POLL_US:-5000}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-1800}
REF_MODES=${REF_MODES:-par host}
VDC_HVA=${VDC_HVA:-$REPO/build/vdc-hva}
TARGET_MS=50

need_count REPEAT "$REPEAT"
need_count RUNS "$RUNS"
need_count BATCH "$BATCH"
need_count POLL_US "$POLL_US"
need_count BATCH_POLL_US "$BATCH_POLL_US"
[[ -z $HOSTS ]] || need_count HOSTS "$HOSTS"
for m in $REF_MODES; do
	[[ $m == par || $m == host || $m == seq ]] || die "REF_MODES holds par, host and seq, not '$m'"
done
[[ $(id -u) -eq 0 ]] || die "needs root (namespaces, libvirtd)"
[[ -x $VDCFS ]] || die "no vdcfs at $VDCFS; run make first or set VDCFS"
[[ -x $VDC_HVA ]] || die "no vdc-hva at $VDC_HVA; run make first or set VDC_HVA"
PATH=$PATH:/usr/sbin:/sbin
for c in cc pkg-config curl ip unshare nsenter libvirtd virtlogd virsh qemu-system-x86_64 qemu-img mkfs.vfat mcopy; do
	command -v "$c" >/dev/null 2>&1 || die "needs $c"
done
pkg-config --exists libvirt || die "needs libvirt's headers (libvirt-dev) for bench/startlat.c"
qemu-system-x86_64 -accel help 2>/dev/null | grep -qx tcg || die "qemu has no TCG here"

# ---- the integration tests' harness: vdcfs, hosts, agents ----

# shellcheck source=bench/harness.sh
. "$BENCH_DIR/harness.sh"
mkdir -p "$W/xml"
STARTLAT=$W/bin/startlat
# shellcheck disable=SC2046
cc -O2 -std=gnu11 -Wall -Wextra -pthread -o "$STARTLAT" "$BENCH_DIR/startlat.c" \
	$(pkg-config --cflags --libs libvirt) >"$W/startlat.build.log" 2>&1 ||
	die "bench/startlat.c did not build: $(head -n 3 "$W/startlat.build.log")"

# Reference domains made here, "HOST NAME" a line: destroyed and undefined
# by bench_cleanup and after each reference run.
REFS=$W/refs
: >"$REFS"

bench_cleanup() {
	local host name
	[[ -s $REFS ]] || return 0
	while read -r host name; do
		[[ -n $name ]] || continue
		vdc_host_virsh "$host" destroy "$name" >/dev/null 2>&1
		vdc_host_virsh "$host" undefine "$name" >/dev/null 2>&1
	done <"$REFS"
	: >"$REFS"
}
VDC_CLEANUP_HOOKS="bench_cleanup ${VDC_CLEANUP_HOOKS:-}"

# With BENCH_KEEP=1 the work folder is copied out of VDC_TMP before
# lib.sh's cleanup removes it.
if [[ ${BENCH_KEEP:-} == 1 ]]; then
	bench_keep_copy() {
		local keep=/var/tmp/vdcfs-start.$$ hd
		rm -rf "$keep"
		mkdir -p "$keep"
		cp -a "$W" "$VDC_TMP"/hva-*.log "$VDC_TMP"/vdcfs-*.log "$keep/" 2>/dev/null
		for hd in "$VDC_TMP"/hosts/*/; do
			[[ -d $hd ]] && cp "$hd/log/libvirtd.log" "$keep/libvirtd-$(basename "$hd").log" 2>/dev/null
		done
		echo "$BENCH: kept logs and XMLs in $keep" >&2
	}
	VDC_CLEANUP_HOOKS="bench_keep_copy $VDC_CLEANUP_HOOKS"
fi

# ---- small helpers ----

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# median, minmax (LOW-HIGH): of the numbers on stdin.
median() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
minmax() {
	sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s-%s", lo, hi }'
}
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }'
}
fmt1() { awk -v a="$1" 'BEGIN { printf "%.1f", a }'; }

# The ISO time of an agent log line (2026-11-25T00:34:37.188Z) as epoch seconds.
iso_s() { date -u -d "$1" +%s.%3N; }

# log_at LOG OFFSET FIXED-STRING: the epoch seconds of the first line of LOG
# after byte OFFSET holding FIXED-STRING; nothing if none.
log_at() {
	local line
	line=$(tail -c +"$(($2 + 1))" "$1" 2>/dev/null | grep -m 1 -F -- "$3")
	[[ -n $line ]] || return 0
	iso_s "${line%% *}"
}

# ms between two epoch-second values (empty when either is).
ms_between() {
	[[ -n $1 && -n $2 ]] || { echo "?"; return; }
	awk -v a="$1" -v b="$2" 'BEGIN { d = (b - a) * 1000; if (d < 0) d = 0; printf "%.0f", d }'
}

# bench_fail WHAT: say what went wrong with what the agents and libvirtd said.
bench_fail() {
	local h
	echo "$BENCH: $*" >&2
	for h in "$VDC_TMP"/hosts/*/; do
		[[ -d $h ]] || continue
		h=$(basename "$h")
		echo "--- vdc-hva $h (last lines)" >&2
		tail -n 15 "$VDC_TMP/hva-$h.log" >&2 2>/dev/null
		echo "--- libvirtd $h (last lines)" >&2
		tail -n 5 "$(vdc_host_dir "$h")/log/libvirtd.log" >&2 2>/dev/null
	done
	exit 1
}

# domains HOST: the host's libvirt domains (all states), one a line.
domains() { vdc_host_virsh "$1" list --all --name 2>/dev/null | sed '/^$/d'; }
no_domains() {
	local h
	for h in "$@"; do
		[[ -z $(domains "$h") ]] || return 1
	done
}

# retire HOSTS -- NAMES...: power the instances off, remove them, and wait
# until the hosts hold no domain (so the next start finds an idle host).
retire() {
	local hosts=() n
	while [[ $1 != -- ]]; do hosts+=("$1"); shift; done
	shift
	for n in "$@"; do put off "$MNT/instances/$n/power" || bench_fail "power off $n"; done
	for n in "$@"; do vdc_wait_state "$n" stopped 60 || bench_fail "$n did not stop"; done
	for n in "$@"; do rmdir "$MNT/instances/$n" || bench_fail "rmdir $n"; done
	vdc_wait 60 no_domains "${hosts[@]}" || bench_fail "domains are left on ${hosts[*]}: $(for h in "${hosts[@]}"; do domains "$h"; done | tr '\n' ' ')"
}

# instances NAMES...: mkdir, image linked, MEMORY, one cpu.
instances() {
	local n
	for n in "$@"; do vdc_instance "$n" || bench_fail "cannot make instance $n"; done
}

# batch_split RUN STARTLAT-OUTPUT: from the agents' logs (offsets in
# offs, placement in names/placed), when each host's agent held the new
# desired state, and for each instance when the agent called
# virDomainCreate, when libvirt's `started` event came and when run/state
# read `running`, all in ms from the first write; a line per host into
# $W/batch-RUN.split, and per instance "host call started running" into
# $W/batch.inst.
batch_split() {
	local run=$1 out=$2 t0 i j h log off des line n dom call started running
	t0=$(awk '$1 == "t0" { print $2 }' <<<"$out")
	: >"$W/batch-$run.split"
	for ((j = 0; j < ${#HOSTLIST[@]}; j++)); do
		h=${HOSTLIST[j]} log=$VDC_TMP/hva-${HOSTLIST[j]}.log off=${offs[j]}
		des=$(ms_between "$t0" "$(log_at "$log" "$off" "desired state revision")")
		line="$h: desired state +$des ms;"
		for ((i = 0; i < ${#names[@]}; i++)); do
			[[ ${placed[i]} == "$h" ]] || continue
			n=${names[i]}
			dom=$(tail -c +"$((off + 1))" "$log" | grep -m 1 -F ": starting instance $n (" | sed 's/.* info: \([^:]*\): starting instance.*/\1/')
			call=$(ms_between "$t0" "$(log_at "$log" "$off" ": starting instance $n (")")
			started=$(ms_between "$t0" "$(log_at "$log" "$off" "domain $dom: started")")
			running=$(awk -v n="$n" '$1 == "inst" && $2 == n { printf "%.0f", $6 }' <<<"$out")
			line+=" $n create called +$call, started +$started, running +$running;"
			echo "$h $call $started $running" >>"$W/batch.inst"
		done
		echo "$line" >>"$W/batch-$run.split"
	done
}

# cpu_ms PID...: the CPU time (user + system, with reaped children: the
# agent's qemu-img, mkfs.vfat and mcopy) the processes used so far, in ms;
# the kernel counts it in clock ticks (10 ms), so only sums over many
# starts are meaningful.
cpu_ms() {
	local p sum=0 f
	for p in "$@"; do
		f=$(cat "/proc/$p/stat" 2>/dev/null) || continue
		f=${f##*) }
		# shellcheck disable=SC2086
		set -- $f
		sum=$((sum + ${12} + ${13} + ${14} + ${15}))
	done
	echo $((sum * 1000 / TICK))
}
TICK=$(getconf CLK_TCK)

uri_of() { echo "qemu:///system?socket=$(vdc_host_dir "$1")/run/libvirt/libvirt-sock"; }

# ---- the reference: the same XML straight through libvirt ----

TEMPLATE=$W/xml/template.xml
SEED=$W/xml/seed.img
IMAGE_SHA=

# make_template HOST INSTANCE: the XML vdc-hva defined for INSTANCE, with
# its name, uuid, title and metadata taken out and the instance's folder
# turned into @DIR@; its seed is kept as the references' seed.
make_template() {
	local host=$1 inst=$2 dom hd dir
	dom=$(vdc_domain_of "$host" "$inst") || bench_fail "no domain for $inst on $host"
	hd=$(vdc_host_dir "$host")
	dir=/var/lib/vdc-hva/instances/$dom
	vdc_host_virsh "$host" dumpxml --inactive "$dom" >"$W/xml/vdc.xml" || bench_fail "dumpxml $dom"
	sed -e "s|<name>$dom</name>|<name>@NAME@</name>|" \
		-e '/<uuid>/d' -e '/<title>/d' -e '/<metadata>/,/<\/metadata>/d' \
		-e "s|$dir/|@DIR@/|g" "$W/xml/vdc.xml" >"$TEMPLATE"
	if ! grep -q '@DIR@/disk.qcow2' "$TEMPLATE" || ! grep -q '@DIR@/seed.img' "$TEMPLATE"; then
		bench_fail "the domain XML of $dom does not name $dir/disk.qcow2 and seed.img"
	fi
	cp "$hd/hva/instances/$dom/seed.img" "$SEED" || bench_fail "cannot copy the seed of $dom"
	IMAGE_SHA=$(head -c 64 "$hd/hva/instances/$dom/image")
	[[ $IMAGE_SHA =~ ^[0-9a-f]{64}$ ]] || bench_fail "no image reference in $hd/hva/instances/$dom"
}

# args_ok URI XML...: every XML was made (ref_prepare runs in a subshell).
args_ok() {
	while (($#)); do
		[[ $2 == */domain.xml && -f $2 ]] || return 1
		shift 2
	done
}

# ref_prepare HOST NAME: NAME's folder in the host's tmp/ (the same path
# inside and out) with a qcow2 overlay on the host's cached image, the
# seed and a console log, and NAME.xml; prints the XML's path.
ref_prepare() {
	local host=$1 name=$2 dir
	dir=$(vdc_host_dir "$host")/tmp/$name
	mkdir -p "$dir"
	vdc_host_exec "$host" qemu-img create -q -f qcow2 -F raw \
		-b "/var/lib/vdc-hva/images/$IMAGE_SHA" "$dir/disk.qcow2" >/dev/null ||
		bench_fail "cannot make the reference disk $dir/disk.qcow2"
	cp "$SEED" "$dir/seed.img"
	: >"$dir/console.log"
	sed -e "s|@NAME@|$name|" -e "s|@DIR@|$dir|g" "$TEMPLATE" >"$dir/domain.xml"
	echo "$host $name" >>"$REFS"
	echo "$dir/domain.xml"
}

# ref_clear: destroy and undefine every reference domain, remove their
# folders. In parallel: libvirt takes about 2 s to destroy a TCG guest.
ref_clear() {
	local host name pids=() p
	while read -r host name; do
		[[ -n $name ]] || continue
		(
			vdc_host_virsh "$host" destroy "$name" >/dev/null 2>&1
			vdc_host_virsh "$host" undefine "$name" >/dev/null 2>&1
			rm -rf "$(vdc_host_dir "$host")/tmp/$name"
		) &
		pids+=($!)
	done <"$REFS"
	for p in "${pids[@]}"; do wait "$p"; done
	: >"$REFS"
}

# ---- set up ----

echo "$BENCH: $(nproc) cpus, kernel $(uname -r), libvirt $(virsh -v 2>/dev/null), $(qemu-system-x86_64 --version | head -n 1), load average $LOAD_START"
echo "$BENCH: vdcfs $VDCFS_SRC (built $(date -u -r "$VDCFS_SRC" '+%F %T')), vdc-hva $HVA_SRC (built $(date -u -r "$HVA_SRC" '+%F %T')), tree at $(git -C "$REPO" describe --always --dirty 2>/dev/null || echo '?')"
echo "$BENCH: guests: TCG, $MEMORY, 1 cpu, the tiny test image"
vdc_start
vdc_import_tiny || bench_fail "cannot import the tiny image"
T=$(date +%s%N)
vdc_hva_host h01 1 || bench_fail "host h01 did not come up or join"
echo "$BENCH: host h01 up and joined in $((($(date +%s%N) - T) / 1000000)) ms"

# Warm-up: the first start on a host fetches the image into its cache.
instances warm-h01
T=$(date +%s%N)
put on "$MNT/instances/warm-h01/power"
vdc_wait_state warm-h01 running 300 || bench_fail "the warm-up instance did not run"
echo "$BENCH: warm-up on h01 (image fetched into the cache): running after $((($(date +%s%N) - T) / 1000000)) ms"
retire h01 -- warm-h01

# ---- 1. one start ----

echo
echo "1. one start, $REPEAT times; image cached on the host; vdcfs then libvirt in each round"
LOG=$VDC_TMP/hva-h01.log
URI1=$(uri_of h01)
: >"$W/one.vdcfs"; : >"$W/one.libvirt"; : >"$W/one.split"; : >"$W/one.refsplit"; : >"$W/one.mtime"; : >"$W/one.cpu"
for ((k = 1; k <= REPEAT; k++)); do
	inst=one-$k
	instances "$inst"
	off=$(stat -c %s "$LOG")
	c0=$(cpu_ms "$(_vdc_pid main)"); a0=$(cpu_ms "$(vdc_hva_pid h01)")
	out=$("$STARTLAT" fs "$POLL_US" 120 "$MNT/instances/$inst") ||
		bench_fail "instance $inst did not reach running: $out; run/err: $(get "$MNT/instances/$inst/run/err")"
	echo "$out" >"$W/one-$k.fs.out"
	echo "$(($(cpu_ms "$(_vdc_pid main)") - c0)) $(($(cpu_ms "$(vdc_hva_pid h01)") - a0))" >>"$W/one.cpu"
	v=$(awk '$1 == "inst" { print $6 }' <<<"$out")
	awk '$1 == "inst" { printf "%.2f\n", $6 - $10 }' <<<"$out" >>"$W/one.mtime"
	t0=$(awk '$1 == "t0" { print $2 }' <<<"$out")
	host=$(get "$MNT/instances/$inst/run/host")
	[[ $host == h01 ]] || bench_fail "$inst ran on '$host', not h01"
	dom=$(vdc_domain_of h01 "$inst")
	# The split, from the agent's log (ms stamps).
	t_des=$(log_at "$LOG" "$off" "desired state revision")
	t_call=$(log_at "$LOG" "$off" "$dom: starting instance $inst")
	t_started=$(log_at "$LOG" "$off" "domain $dom: started")
	t_run=$(awk -v a="$t0" -v b="$v" 'BEGIN { printf "%.3f", a + b / 1000 }')
	split="$(ms_between "$t0" "$t_des") $(ms_between "$t_des" "$t_call") $(ms_between "$t_call" "$t_started") $(ms_between "$t_started" "$t_run")"
	echo "$split" >>"$W/one.split"
	read -r -a sp <<<"$split"
	[[ $k -eq 1 ]] && make_template h01 "$inst"
	retire h01 -- "$inst"

	xml=$(ref_prepare h01 "ref-one-$k")
	[[ -f $xml ]] || bench_fail "cannot prepare reference ref-one-$k"
	rout=$("$STARTLAT" virt define seq 120 "$URI1" "$xml") || bench_fail "the reference start failed: $rout"
	echo "$rout" >"$W/one-$k.virt.out"
	r=$(awk '$1 == "dom" { print $6 }' <<<"$rout")
	awk '$1 == "dom" { printf "%.2f %.2f\n", $8, $6 - $8 }' <<<"$rout" >>"$W/one.refsplit"
	ref_clear
	echo "$v" >>"$W/one.vdcfs"
	echo "$r" >>"$W/one.libvirt"
	printf '   round %d: vdcfs %7.1f ms  libvirt %7.1f ms  overhead %6.1f ms   (split: poll wake %s, prepare+define %s, libvirt start %s, report %s ms)\n' \
		"$k" "$v" "$r" "$(awk -v a="$v" -v b="$r" 'BEGIN { print a - b }')" "${sp[@]}"
done
V1=$(median <"$W/one.vdcfs")
R1=$(median <"$W/one.libvirt")
paste -d' ' "$W/one.vdcfs" "$W/one.libvirt" | awk '{ printf "%.1f\n", $1 - $2 }' >"$W/one.overhead"
O1=$(median <"$W/one.overhead")
OM=$(awk -v a="$V1" -v b="$R1" 'BEGIN { printf "%.1f", a - b }')
declare -a SPLIT
for i in 1 2 3 4; do
	SPLIT[i]=$(awk -v c="$i" '{ print $c }' "$W/one.split" | median)
done
verdict=missed
awk -v o="$O1" -v t="$TARGET_MS" 'BEGIN { exit !(o < t) }' && verdict=met
echo "   vdcfs start:   median $(fmt1 "$V1") ms (range $(minmax <"$W/one.vdcfs") ms)"
echo "   libvirt start: median $(fmt1 "$R1") ms (range $(minmax <"$W/one.libvirt") ms)"
echo "   ratio vdcfs/libvirt $(ratio "$V1" "$R1"); overhead: median of the rounds' differences $O1 ms (range $(minmax <"$W/one.overhead") ms), difference of the medians $OM ms; target < $TARGET_MS ms: $verdict"
RDEF=$(awk '{ print $1 }' "$W/one.refsplit" | median)
RCRE=$(awk '{ print $2 }' "$W/one.refsplit" | median)
echo "   split of the vdcfs start (medians, ms; the agent logs to the ms): write to desired state at the agent ${SPLIT[1]}, boot disk + seed + XML + define ${SPLIT[2]}, libvirt start to its event ${SPLIT[3]}, event to run/state running ${SPLIT[4]}"
echo "   split of the libvirt start (medians, ms): define $RDEF, create until running $RCRE"
echo "   CPU during the starts, per start (mean of $REPEAT, clock ticks of 10 ms summed): vdcfs $(awk '{ v += $1 } END { printf "%.1f", v / NR }' "$W/one.cpu") ms, vdc-hva with its programs $(awk '{ a += $2 } END { printf "%.1f", a / NR }' "$W/one.cpu") ms"
echo "   run/state's mtime (when vdcfs changed it) was $(median <"$W/one.mtime") ms (median; max $(sort -g "$W/one.mtime" | tail -n 1)) before the poll read running"
echo "   control plane by the split: ${SPLIT[1]} + (${SPLIT[2]} - $RDEF define) + ${SPLIT[4]} = $(awk -v a="${SPLIT[1]}" -v b="${SPLIT[2]}" -v c="$RDEF" -v d="${SPLIT[4]}" 'BEGIN { printf "%.1f", a + b - c + d }') ms"

# ---- the agent's start work, one part at a time ----

# parts: in host h01, PARTS_N times each, the programs vdc-hva runs to
# prepare a start, as it runs them (its arguments, then fsync of the
# file and of its folder): the qcow2 overlay on the cached image, the
# NoCloud seed (mkfs.vfat, mcopy); and, for scale, a process that does
# nothing (/bin/true) and `virsh uri` (what a `virsh create` adds to the
# C API call before libvirtd does any work). Median ms of each.
PARTS_N=${PARTS_N:-10}
# shellcheck disable=SC2016
parts_script='
img=$1 dir=$2 n=$3
us() { echo "$((${EPOCHREALTIME/./} - $1))"; }
printf "meta-data\n" >"$dir/meta-data"; : >"$dir/user-data"
for ((i = 0; i < n; i++)); do
	t=${EPOCHREALTIME/./}
	qemu-img create -q -f qcow2 -F raw -b "$img" "$dir/d$i.qcow2" >/dev/null && sync "$dir/d$i.qcow2" "$dir"
	echo "qemu-img $(us "$t")"
	t=${EPOCHREALTIME/./}
	mkfs.vfat -C -n CIDATA "$dir/s$i.img" 1024 >/dev/null &&
		MTOOLS_SKIP_CHECK=1 mcopy -i "$dir/s$i.img" "$dir/meta-data" "$dir/user-data" ::/ && sync "$dir/s$i.img" "$dir"
	echo "seed $(us "$t")"
	t=${EPOCHREALTIME/./}
	/bin/true
	echo "true $(us "$t")"
	t=${EPOCHREALTIME/./}
	virsh -q -c qemu:///system uri >/dev/null
	echo "virsh $(us "$t")"
done
'
mkdir -p "$(vdc_host_dir h01)/tmp/parts"
vdc_host_exec h01 bash -c "$parts_script" parts "/var/lib/vdc-hva/images/$IMAGE_SHA" \
	"$(vdc_host_dir h01)/tmp/parts" "$PARTS_N" >"$W/parts.out" 2>&1 || bench_fail "the parts did not run: $(tail -n 3 "$W/parts.out")"
rm -rf "$(vdc_host_dir h01)/tmp/parts"
part() { awk -v k="$1" '$1 == k { print $2 / 1000 }' "$W/parts.out" | median | xargs printf '%.1f'; }
echo "   parts (in h01, median of $PARTS_N, ms): qemu-img create of the overlay + sync $(part qemu-img), seed (mkfs.vfat + mcopy + sync) $(part seed), an empty process $(part true), virsh uri $(part virsh)"

# ---- 2. BATCH at once ----

cpus=$(get "$MNT/hosts/h01/run/cpus")
[[ $cpus =~ ^[1-9][0-9]*$ ]] || bench_fail "hosts/h01/run/cpus says '$cpus'"
NH=${HOSTS:-$(((BATCH + cpus - 1) / cpus))}
((NH <= 13)) || die "$BATCH instances of one cpu need $NH hosts of $cpus cpus; hosts.sh makes at most 13 (set BATCH or HOSTS)"
((NH * cpus >= BATCH)) || die "$NH hosts of $cpus cpus cannot hold $BATCH instances of one cpu"
HOSTLIST=()
for ((i = 1; i <= NH; i++)); do HOSTLIST+=("$(printf 'h%02d' "$i")"); done
echo
echo "2. $BATCH instances at once, $RUNS times, on $NH hosts of $cpus cpus (an instance takes one cpu)"
T=$(date +%s%N)
for ((i = 2; i <= NH; i++)); do
	vdc_hva_host "${HOSTLIST[i - 1]}" "$i" || bench_fail "host ${HOSTLIST[i - 1]} did not come up or join"
done
echo "   hosts h02..${HOSTLIST[NH - 1]} up and joined in $((($(date +%s%N) - T) / 1000000)) ms"
# Warm-up: one instance per host (placement picks the host with the most
# free memory, so each lands on an empty one); checked below.
warm=()
for h in "${HOSTLIST[@]}"; do warm+=("warm-$h"); done
instances "${warm[@]}"
T=$(date +%s%N)
for n in "${warm[@]}"; do put on "$MNT/instances/$n/power"; done
for n in "${warm[@]}"; do vdc_wait_state "$n" running 300 || bench_fail "warm-up instance $n did not run"; done
echo "   warm-up: one instance per host, all running after $((($(date +%s%N) - T) / 1000000)) ms (placed on: $(for n in "${warm[@]}"; do get "$MNT/instances/$n/run/host"; done | sort | uniq -c | awk '{ printf "%s%s", sep, $2; sep = " " }'))"
for h in "${HOSTLIST[@]}"; do
	[[ -n $(ls "$(vdc_host_dir "$h")/hva/images/" 2>/dev/null) ]] || bench_fail "host $h has no cached image after the warm-up"
done
retire "${HOSTLIST[@]}" -- "${warm[@]}"

rate() { awk -v n="$BATCH" -v t="$1" 'BEGIN { printf "%.1f", n * 1000 / t }'; }
declare -A REF_RUN REF_MED
declare -A REF_WORDS=([par]="all at once" [host]="per host in a loop" [seq]="all in one loop")
: >"$W/batch.vdcfs"; : >"$W/batch.inst"; : >"$W/batch.cpu"
for mode in $REF_MODES; do : >"$W/batch.$mode"; done
for ((r = 1; r <= RUNS; r++)); do
	names=()
	for ((i = 1; i <= BATCH; i++)); do names+=("$(printf 'b%d-%02d' "$r" "$i")"); done
	instances "${names[@]}"
	dirs=()
	for n in "${names[@]}"; do dirs+=("$MNT/instances/$n"); done
	offs=()
	for h in "${HOSTLIST[@]}"; do offs+=("$(stat -c %s "$VDC_TMP/hva-$h.log")"); done
	apids=()
	for h in "${HOSTLIST[@]}"; do apids+=("$(vdc_hva_pid "$h")"); done
	c0=$(cpu_ms "$(_vdc_pid main)"); a0=$(cpu_ms "${apids[@]}")
	out=$("$STARTLAT" fs "$BATCH_POLL_US" 300 "${dirs[@]}") || bench_fail "the batch did not reach running: $out"
	echo "$(($(cpu_ms "$(_vdc_pid main)") - c0)) $(($(cpu_ms "${apids[@]}") - a0))" >>"$W/batch.cpu"
	echo "$out" >"$W/batch-$r.fs.out"
	v=$(awk '$1 == "total_ms" { print $2 }' <<<"$out")
	writes=$(awk '$1 == "inst" { w = $4 } END { print w }' <<<"$out")
	first=$(awk '$1 == "inst" { print $6 }' <<<"$out" | sort -g | head -n 1)
	# Where vdcfs placed them: the references start as many on each host.
	placed=()
	for n in "${names[@]}"; do placed+=("$(get "$MNT/instances/$n/run/host")"); done
	batch_split "$r" "$out"
	retire "${HOSTLIST[@]}" -- "${names[@]}"

	for mode in $REF_MODES; do
		args=()
		for ((i = 0; i < BATCH; i++)); do
			h=${placed[i]}
			args+=("$(uri_of "$h")" "$(ref_prepare "$h" "$(printf 'ref%d-%02d' "$r" $((i + 1)))")")
		done
		args_ok "${args[@]}" || bench_fail "cannot prepare the references"
		rout=$("$STARTLAT" virt define "$mode" 300 "${args[@]}") || bench_fail "the reference ($mode) failed: $rout"
		echo "$rout" >"$W/batch-$r.$mode.out"
		ref_clear
		t=$(awk '$1 == "total_ms" { print $2 }' <<<"$rout")
		echo "$t" >>"$W/batch.$mode"
		REF_RUN[$mode]=$t
	done

	echo "$v" >>"$W/batch.vdcfs"
	line=$(printf '   run %d: vdcfs %6.0f ms, %4.1f starts/s (writes done at %.1f ms, first running at %.0f ms);' \
		"$r" "$v" "$(rate "$v")" "$writes" "$first")
	for mode in $REF_MODES; do
		line+=$(printf ' libvirt %s %6.0f ms, %4.1f/s;' "${REF_WORDS[$mode]}" "${REF_RUN[$mode]}" "$(rate "${REF_RUN[$mode]}")")
	done
	echo "$line"
	echo "          placement: $(printf '%s\n' "${placed[@]}" | sort | uniq -c | awk '{ printf "%s%s:%s", sep, $2, $1; sep = " " }'); CPU of vdcfs $(awk -v r="$r" 'NR == r { print $1 }' "$W/batch.cpu") ms, of the agents with their programs $(awk -v r="$r" 'NR == r { print $2 }' "$W/batch.cpu") ms"
done
V2=$(median <"$W/batch.vdcfs")
echo "   vdcfs:                              median $(fmt1 "$V2") ms for $BATCH, $(rate "$V2") starts/s (runs $(minmax <"$W/batch.vdcfs") ms)"
for mode in $REF_MODES; do
	REF_MED[$mode]=$(median <"$W/batch.$mode")
	printf '   libvirt %-27s median %s ms, %s starts/s (runs %s ms); ratio of starts/s vdcfs/libvirt %s\n' "${REF_WORDS[$mode]}:" \
		"$(fmt1 "${REF_MED[$mode]}")" "$(rate "${REF_MED[$mode]}")" "$(minmax <"$W/batch.$mode")" "$(ratio "${REF_MED[$mode]}" "$V2")"
done
echo "   CPU per start (mean over the runs): vdcfs $(awk -v n="$BATCH" '{ v += $1 } END { printf "%.1f", v / NR / n }' "$W/batch.cpu") ms, the agents with their programs $(awk -v n="$BATCH" '{ a += $2 } END { printf "%.1f", a / NR / n }' "$W/batch.cpu") ms"
echo "   from the agents' logs, run 1 (ms from the first write):"
sed 's/^/     /' "$W/batch-1.split"
echo "   all runs, per instance (medians): libvirt's started event to run/state running $(awk '{ print $4 - $3 }' "$W/batch.inst" | median) ms (max $(awk '{ print $4 - $3 }' "$W/batch.inst" | sort -g | tail -n 1)); the agent's create call to the started event $(awk '{ print $3 - $2 }' "$W/batch.inst" | median) ms"

echo
echo "summary"
printf '%-34s %12s %12s %8s  %s\n' figure vdcfs libvirt ratio note
printf '%-34s %12s %12s %8s  %s\n' "one start (median of $REPEAT)" "$(fmt1 "$V1") ms" "$(fmt1 "$R1") ms" "$(ratio "$V1" "$R1")" "overhead $O1 ms (target < $TARGET_MS ms: $verdict)"
label="$BATCH at once, starts/s (median of $RUNS)"
for mode in $REF_MODES; do
	printf '%-34s %12s %12s %8s  %s\n' "$label" "$(rate "$V2")" "$(rate "${REF_MED[$mode]}")" "$(ratio "${REF_MED[$mode]}" "$V2")" "libvirt: ${REF_WORDS[$mode]}"
	label=""
done
echo "load average: $LOAD_START at start, $(cut -d' ' -f1-3 /proc/loadavg) at end (other work on the machine skews both sides)"
