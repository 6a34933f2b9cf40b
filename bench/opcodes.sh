#!/bin/bash
#
# bench/opcodes.sh: which FUSE requests the workflows of bench/tree.sh cost.
#
#   bench/opcodes.sh [N]       (or N=... bench/opcodes.sh; default 200)
#
# It runs a private vdcfs with -f -d (libfuse's request log) and counts the
# requests, by opcode, that each workflow sends: creating N instances with
# mkinstances, tar --exclude-caches of the tree, ls -l instances/ and cat
# instances/*/run/state. vdcfs is remounted before each workflow so the
# kernel's caches start empty, as in the first run of bench/tree.sh. The
# table gives requests per instance; the last lines give requests per file
# or folder of the tar archive and per write of an attribute.
#
# Environment: N, VDCFS, MKINSTANCES, BENCH_KEEP=1 (keep the logs).

set -euo pipefail

BENCH=opcodes.sh
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
N=${1:-${N:-200}}

need_count N "$N"
need_builds

WORK=$(mktemp -d /var/tmp/vdcfs-opcodes.XXXXXX)
STATE=$WORK/state
MNT=$WORK/mnt
mkdir -p "$MNT"
VDCFS_PID=

# vdcfs_stop: unmount and wait for our vdcfs to exit (killed by pid if it
# will not).
vdcfs_stop() {
	[[ -n $VDCFS_PID ]] || return 0
	fuse_stop "$VDCFS_PID" "$MNT"
	VDCFS_PID=
}

# cleanup: at exit (bench_traps), stop our vdcfs and remove the work folder.
cleanup() {
	vdcfs_stop
	work_remove "$WORK" "$MNT"
}
bench_traps

# vdcfs_start LOG: mount with the request log going to LOG.
vdcfs_start() {
	"$VDCFS" -f -d -o state="$STATE",listen=127.0.0.1:0 "$MNT" 2>"$1" &
	VDCFS_PID=$!
	fuse_wait "$VDCFS_PID" "$MNT" || die "vdcfs did not come up on $MNT (see $1)"
}

# phase NAME COMMAND...: count the requests COMMAND sends from a fresh mount.
declare -a PHASES=()
phase() {
	local name=$1 log=$WORK/$1.log from
	shift

	vdcfs_start "$log"
	sleep 0.2
	from=$(wc -l <"$log")
	"$@" >/dev/null || die "$name failed"
	# RELEASE and FORGET arrive after the system calls return.
	sleep 0.5
	tail -n +"$((from + 1))" "$log" |
		awk '/^unique: [0-9]+, opcode: / { sub(/,$/, "", $4); print $4 }' |
		sort | uniq -c >"$WORK/$name.count"
	vdcfs_stop
	PHASES+=("$name")
}

# Creation as in tree.sh; tar, ls -l and cat are tree.sh's own workflows
# (wl_tar, wl_ls and wl_cat of bench/lib.sh).
wl_create() { "$MKINSTANCES" "$MNT/instances" "$N"; }
TAR_OUT=$WORK/tree.tar

phase create wl_create
phase tar wl_tar "$MNT"
phase ls wl_ls "$MNT"
phase cat wl_cat "$MNT"

ENTRIES=$(tar -tf "$TAR_OUT" | wc -l)

# One row per opcode, one column per workflow: requests per instance.
echo "FUSE requests per instance (N=$N, each workflow from a fresh mount)"
for p in "${PHASES[@]}"; do
	awk -v p="$p" '{ print p, $2, $1 }' "$WORK/$p.count"
done | awk -v n="$N" -v e="$ENTRIES" -v phases="${PHASES[*]}" '
	{ c[$2, $1] = $3; tot[$1] += $3; if (!($2 in seen)) { seen[$2] = 1; ops[++nops] = $2 } }
	END {
		np = split(phases, ph, " ")
		printf "%-12s", "opcode"
		for (i = 1; i <= np; i++)
			printf " %8s", ph[i]
		printf "\n"
		for (j = 1; j <= nops; j++) {
			printf "%-12s", ops[j]
			for (i = 1; i <= np; i++)
				printf " %8.2f", c[ops[j], ph[i]] / n
			printf "\n"
		}
		printf "%-12s", "total"
		for (i = 1; i <= np; i++)
			printf " %8.2f", tot[ph[i]] / n
		printf "\n\n"
		printf "create: %d requests, %.2f per file made (mkdir + 3 attribute files)\n", tot["create"], tot["create"] / (4 * n)
		printf "tar:    %d requests, %.2f per archive entry (%d entries)\n", tot["tar"], tot["tar"] / e, e
		printf "ls -l:  %d requests for %d instances\n", tot["ls"], n
		printf "cat:    %d requests, %.2f per run/state file\n", tot["cat"], tot["cat"] / n
	}'
