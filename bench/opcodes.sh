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

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${1:-${N:-200}}
VDCFS=${VDCFS:-$REPO/build/vdcfs}
MKINSTANCES=${MKINSTANCES:-$REPO/build/mkinstances}

die() { echo "opcodes.sh: $*" >&2; exit 1; }

[[ $N =~ ^[0-9]+$ && $N -gt 0 ]] || die "N must be a positive whole number, not '$N'"
[[ -x $VDCFS ]] || die "no vdcfs at $VDCFS; run make first or set VDCFS"
[[ -x $MKINSTANCES ]] || die "no mkinstances at $MKINSTANCES; run make first or set MKINSTANCES"

WORK=$(mktemp -d /var/tmp/vdcfs-opcodes.XXXXXX)
STATE=$WORK/state
MNT=$WORK/mnt
mkdir -p "$MNT"
VDCFS_PID=

is_mounted() {
	awk -v m="$1" '$2 == m { found = 1 } END { exit !found }' /proc/mounts
}

vdcfs_stop() {
	local i

	[[ -n $VDCFS_PID ]] || return 0
	if is_mounted "$MNT"; then
		fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -uz "$MNT" 2>/dev/null || true
	fi
	for ((i = 0; i < 50; i++)); do
		kill -0 "$VDCFS_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$VDCFS_PID" 2>/dev/null; then
		kill "$VDCFS_PID" 2>/dev/null || true
	fi
	wait "$VDCFS_PID" 2>/dev/null || true
	VDCFS_PID=
}

cleanup() {
	local rc=$?

	set +e
	vdcfs_stop
	if [[ ${BENCH_KEEP:-} == 1 ]]; then
		echo "opcodes.sh: kept $WORK" >&2
	elif is_mounted "$MNT"; then
		echo "opcodes.sh: $MNT is still mounted; left $WORK in place" >&2
	else
		rm -rf "$WORK"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# vdcfs_start LOG: mount with the request log going to LOG.
vdcfs_start() {
	local i

	"$VDCFS" -f -d -o state="$STATE" "$MNT" 2>"$1" &
	VDCFS_PID=$!
	for ((i = 0; i < 100; i++)); do
		if is_mounted "$MNT" && [[ -d $MNT/instances ]]; then
			return 0
		fi
		kill -0 "$VDCFS_PID" 2>/dev/null || break
		sleep 0.1
	done
	die "vdcfs did not come up on $MNT (see $1)"
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

wl_create() { "$MKINSTANCES" "$MNT/instances" "$N"; }
wl_tar() { tar --exclude-caches -cf "$WORK/tree.tar" -C "$MNT" .; }
wl_ls() { ls -l "$MNT/instances"; }
wl_cat() { (cd "$MNT/instances" && cat -- */run/state); }

phase create wl_create
phase tar wl_tar
phase ls wl_ls
phase cat wl_cat

ENTRIES=$(tar -tf "$WORK/tree.tar" | wc -l)

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
