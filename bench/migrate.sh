#!/bin/bash
#
# bench/migrate.sh: live migration of a running guest through the tree
# (`echo 'migrate HOST' > instances/NAME/ctl`, docs/storage.md "Moving")
# against libvirt's own live migration of the same domain between the
# same two hosts from a small program (build/bench-migrate-ref,
# bench/migrate_ref.c: virDomainMigrate with VIR_MIGRATE_LIVE |
# VIR_MIGRATE_PERSIST_DEST | VIR_MIGRATE_UNDEFINE_SOURCE), in one run
# (issue 13, "Speed": ratio <= 1.2).
#
#   bench/migrate.sh          (as root)
#
# Hosts are tests/integration/hosts.sh's: hypervisors a and b joined by a
# veth cable (the migration stream goes over it), their libvirtd listening
# with TLS on the certificates vdcfs issued them (vdc_host_libvirt_tls),
# and a storage host s holding the guest's disk. One guest of the tiny
# test image with MEMORY (default 256M) under TCG, idle once booted.
#
# Each move through the tree is split by the agents' logs (-v, stamped to
# the ms): when the destination was ready, when the source started the
# migration and when libvirt said it was done, in ms after the write.
#
# Figures, each the mean and the median of ROUNDS moves of each kind
# (default 10, rounded up to even), taking turns: two moves through the
# tree (a->b, b->a), then two of the reference, and again, so that what
# else the machine does weighs on both alike:
#   total     through the tree: from the write of `migrate HOST` to
#             run/host naming HOST with run/state running (so vdcfs's
#             steps, both agents' long-polls and reports are inside);
#             reference: the wall time of the program's virDomainMigrate()
#             call;
#   downtime  libvirt's own figure of the completed migration job on the
#             destination (`virsh domjobinfo --completed`, "Total
#             downtime") for both.
# The reference moves run with both agents stopped (SIGSTOP, so they do
# not take the domain for theirs meanwhile; resumed after), within the
# hosts' timeout, and to qemu port 49300, which the destination's
# firewall (only the ports of a migration vdcfs asked for) leaves alone.
#
# Environment: ROUNDS (10), MEMORY (256M), VDCFS, VDC_HVA, VDC_STA,
# MIGRATE_REF (build/bench-migrate-ref), BENCH_TIMEOUT (900). Clean-up
# (also on failure, ^C or the timeout): tests/integration's own: every
# process in the hosts' namespaces killed by pid, veths and namespaces
# deleted, vdcfs unmounted and stopped, the work folder removed.

set -u
export LC_ALL=C

BENCH=migrate.sh
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

ROUNDS=${ROUNDS:-10}
MEMORY=${MEMORY:-256M}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-900}
VDC_HVA=${VDC_HVA:-$REPO/build/vdc-hva}
VDC_STA=${VDC_STA:-$REPO/build/vdc-sta}
MIGRATE_REF=${MIGRATE_REF:-$REPO/build/bench-migrate-ref}
need_count ROUNDS "$ROUNDS"
need_count BENCH_TIMEOUT "$BENCH_TIMEOUT"
[[ $(id -u) -eq 0 ]] || die "needs root (namespaces, libvirtd, tgtd)"
for b in "$VDCFS" "$VDC_HVA" "$VDC_STA" "$MIGRATE_REF"; do
	[[ -x $b ]] || die "no $b; run make first"
done
PATH=$PATH:/usr/sbin:/sbin
for c in ip nsenter unshare libvirtd virtlogd virsh qemu-system-x86_64 qemu-img tgtd tgtadm; do
	command -v "$c" >/dev/null 2>&1 || die "needs $c"
done

# shellcheck source=bench/harness.sh
. "$BENCH_DIR/harness.sh"
cp "$VDC_STA" "$W/bin/vdc-sta" || die "cannot copy $VDC_STA"
VDC_STA=$W/bin/vdc-sta
# shellcheck source=tests/integration/sta.sh
. "$REPO/tests/integration/sta.sh"

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
mean() { awk '{ s += $1 } END { if (NR) printf "%.0f\n", s / NR; else print "nan" }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }'; }
now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }
# at_ms LOG OFFSET TEXT T0: when (ms after T0, epoch ms) the first line of
# the agent's log after byte OFFSET holding TEXT was written; "?" if none.
at_ms() {
	local line t
	line=$(tail -c +"$(($2 + 1))" "$1" 2>/dev/null | grep -m 1 -F -- "$3")
	t=${line%% *}
	[[ -n $line ]] || { echo "?"; return; }
	echo $(($(date -u -d "$t" +%s%3N) - $4))
}
logsize() { stat -c %s "$VDC_TMP/hva-$1.log" 2>/dev/null || echo 0; }
on_host() { [[ $(get "$I/run/host") == "$1" && $(get "$I/run/state") == running ]]; }
# downtime HOST: libvirt's downtime (ms) of the last migration into HOST,
# as its completed job on HOST says (kept there for a second reading).
downtime() {
	vdc_host_virsh "$1" domjobinfo --completed --keep-completed "$(vdc_domain_of "$1" w1)" 2>/dev/null |
		awk -F: '/^Total downtime/ { gsub(/[^0-9]/, "", $2); print $2 }'
}
# secret_on HOST: the libvirt secret of w1's disk (its CHAP secret, by the
# usage name vdc-hva gives it) defined on HOST, as its agent would before a
# migration arrives: the reference runs with the agents stopped.
secret_on() {
	local id chap uuid out
	id=$(vdc_sta_desired s | jq -r '.volumes[] | select(.name == "w1") | .id')
	chap=$(vdc_sta_desired s | jq -r '.volumes[] | select(.name == "w1") | .chap_secret')
	[[ $id =~ ^[0-9]+$ && -n $chap ]] || return 1
	printf "<secret ephemeral='no' private='yes'><usage type='iscsi'><target>vdc-disk-%s</target></usage></secret>\n" "$id" \
		>"$(vdc_host_dir "$1")/tmp/secret.xml"
	# vdc_host_virsh is quiet (-q): it would not print the new UUID.
	out=$(vdc_host_exec "$1" timeout 30 virsh -c "$VDC_HOST_URI" secret-define "$(vdc_host_dir "$1")/tmp/secret.xml" 2>&1)
	uuid=$(sed -n 's/^Secret \([0-9a-f-]*\) created.*/\1/p' <<<"$out")
	if [[ -z $uuid ]]; then
		# Its agent made it already (it ran there): the value is the same.
		grep -q "already defined" <<<"$out" && return 0
		echo "$BENCH: secret-define on $1: $out" >&2
		return 1
	fi
	vdc_host_virsh "$1" secret-set-value "$uuid" --base64 "$(printf %s "$chap" | base64 -w0)" >/dev/null 2>&1
}

echo "$BENCH: $(nproc) cpus, kernel $(uname -r), libvirt $(virsh -v 2>/dev/null), guest memory $MEMORY, load average $LOAD_START"
vdc_start || die "vdcfs did not start"
I=$MNT/instances/w1
vdc_import_tiny || die "cannot import the test image"
vdc_hva_host a 1 && vdc_hva_host b 2 && vdc_sta_host s 3 || die "the hosts did not join"
vdc_hosts_link a b && vdc_hosts_connect a s && vdc_hosts_connect b s || die "cannot wire the hosts"
for h in a b; do
	vdc_wait 30 test -s "$(vdc_host_dir "$h")/hva/pki/servercert.pem" || die "$h has no certificate"
	vdc_host_libvirt_tls "$h" || die "$h's libvirtd does not listen with TLS"
done
vdc_instance w1 "$MEMORY" || die "cannot make w1"
put off "$MNT/hosts/b/schedulable"
put on "$I/power"
vdc_wait 120 on_host a || die "w1 does not run on a: $(get "$I/run/err")"
put on "$MNT/hosts/b/schedulable"
vdc_wait 120 vdc_console_has w1 "vdc-guest: ready" || die "w1 did not boot"
sleep 3

# ---- through the tree ----

# One move there and back first, not counted: the first migration between
# two libvirtds pays for their first TLS session and qemu's first start as
# a destination (7 s against 3 s here), which the reference, run after,
# would not.
for to in b a; do
	put "migrate $to" "$I/ctl" || die "migrate $to: $(get "$I/run/err")"
	vdc_wait 300 on_host "$to" || die "w1 did not reach $to: $(get "$I/run/err")"
	sleep 2
done
# tree_move FROM TO: one move through the tree, its figures into $W/tree.
tree_move() {
	local from=$1 to=$2 ofrom oto t0 t1
	ofrom=$(logsize "$from") oto=$(logsize "$to")
	t0=$(now_ms)
	put "migrate $to" "$I/ctl" || die "migrate $to: $(get "$I/run/err")"
	vdc_wait 300 on_host "$to" || die "w1 did not reach $to: $(get "$I/run/err")"
	t1=$(now_ms)
	echo "$((t1 - t0)) $(downtime "$to")" >>"$W/tree"
	echo "$BENCH: tree $from->$to: $((t1 - t0)) ms, downtime $(downtime "$to") ms" \
		"(ms after the write: $to ready $(at_ms "$VDC_TMP/hva-$to.log" "$oto" "to arrive live" "$t0")," \
		"$from started $(at_ms "$VDC_TMP/hva-$from.log" "$ofrom" ") started" "$t0")," \
		"$from done $(at_ms "$VDC_TMP/hva-$from.log" "$ofrom" "done: the instance runs there" "$t0"))"
	sleep 2
}

# ref_pair: libvirt alone moves w1 a->b and back, the agents stopped
# meanwhile (SIGSTOP, resumed after, within the hosts' timeout); figures
# into $W/ref.
ref_pair() {
	local dom from=a to=b out r
	[[ $(get "$I/run/host") == a ]] || die "w1 should be on a now"
	dom=$(vdc_domain_of a w1)
	secret_on a && secret_on b || die "cannot define w1's disk secret on the hosts"
	# ... and its folder (seed, console log), which vdc-hva makes on a
	# destination before a migration it is told of arrives.
	cp -a "$(vdc_host_dir a)/hva/instances/$dom" "$(vdc_host_dir b)/hva/instances/" ||
		die "cannot copy w1's folder to b"
	kill -STOP "$(vdc_hva_pid a)" "$(vdc_hva_pid b)"
	for r in 1 2; do
		out=$(vdc_host_exec "$from" "$MIGRATE_REF" qemu:///system \
			"qemu+tls://$(vdc_host_addr "$to")/system?pkipath=/var/lib/vdc-hva/pki" "$dom" \
			"tcp://$(vdc_host_addr "$to"):49300" 2>&1)
		[[ $out =~ ^[0-9]+\ -?[0-9]+$ ]] || { kill -CONT "$(vdc_hva_pid a)" "$(vdc_hva_pid b)"; die "reference $from->$to: $out"; }
		echo "$out" >>"$W/ref"
		echo "$BENCH: reference $from->$to: ${out% *} ms, downtime ${out#* } ms"
		from=b to=a
		sleep 2
	done
	kill -CONT "$(vdc_hva_pid a)" "$(vdc_hva_pid b)"
	vdc_wait 60 on_host a || die "w1 is not back on a after the reference: $(get "$I/run/state")"
	sleep 2
}

# The two kinds of move take turns, a pair of each at a time, so that
# what else the machine does meanwhile weighs on both alike.
: >"$W/tree"
: >"$W/ref"
for ((r = 1; r <= ROUNDS; r += 2)); do
	tree_move a b
	tree_move b a
	ref_pair
done

echo
printf '%-40s %10s %10s %8s\n' "live migration, $MEMORY guest" "tree" "libvirt" "ratio"
for f in mean median; do
	tt=$(awk '{ print $1 }' "$W/tree" | $f) td=$(awk '{ print $2 }' "$W/tree" | $f)
	rt=$(awk '{ print $1 }' "$W/ref" | $f) rd=$(awk '{ print $2 }' "$W/ref" | $f)
	printf '%-40s %8s ms %8s ms %8s\n' "total ($f of $ROUNDS)" "$tt" "$rt" "$(ratio "$tt" "$rt")"
	printf '%-40s %8s ms %8s ms %8s\n' "downtime ($f of $ROUNDS)" "$td" "$rd" "$(ratio "$td" "$rd")"
done
echo "$BENCH: target: total and downtime ratios <= 1.2; load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
