#!/bin/bash
#
# bench/sync.sh: what power-loss safety costs. Creates N instances (default
# 2000) with build/mkinstances on a vdcfs mounted with -o sync=normal (the
# default: safe against a crash of vdcfs) and on one with -o sync=full (an
# fsync per acknowledged change: safe against a power loss), state on disk,
# in the same run, and prints both rates and their ratio.
#
# Environment: N, VDCFS, MKINSTANCES, BENCH_KEEP=1 (keep the work folder).
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH=sync.sh
# shellcheck source=bench/lib.sh
. bench/lib.sh

N=${1:-${N:-2000}}
need_count N "$N"
need_builds
work=$(mktemp -d /var/tmp/vdcfs-sync.XXXXXX)
pid=
mnt=

# cleanup: at exit (bench_traps), stop the vdcfs still up, if any, and
# remove the work folder.
cleanup() {
	if [[ -n $pid ]]; then
		fuse_stop "$pid" "$mnt"
	fi
	work_remove "$work" "$work/mnt-normal" "$work/mnt-full"
}
bench_traps

# rate MODE: set RATE to the instances per second of N creations with
# sync=MODE, on a vdcfs of its own, stopped before it returns. It runs in
# this shell, not in $(...), so that the vdcfs is this shell's child, which
# cleanup can stop and fuse_stop can wait for.
rate() {
	local mode=$1 st=$work/state-$1 out

	mnt=$work/mnt-$mode
	mkdir -p "$mnt"
	"$VDCFS" -f -o "state=$st,sync=$mode,listen=127.0.0.1:0" "$mnt" &
	pid=$!
	fuse_wait "$pid" "$mnt" || die "vdcfs did not come up on $mnt"
	out=$("$MKINSTANCES" "$mnt/instances" "$N")
	fuse_stop "$pid" "$mnt"
	pid=
	RATE=$(echo "$out" | sed -n 's/.* \([0-9][0-9]*\) inst\/s$/\1/p')
}

rate normal
normal=$RATE
rate full
full=$RATE
echo "sync: N=$N; sync=normal $normal inst/s, sync=full $full inst/s, full/normal $(awk -v a="$full" -v b="$normal" 'BEGIN { printf "%.2f", a / b }')"
