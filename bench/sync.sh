#!/bin/bash
#
# bench/sync.sh: what power-loss safety costs. Creates N instances (default
# 2000) with build/mkinstances on a vdcfs mounted with -o sync=normal (the
# default: safe against a crash of vdcfs) and on one with -o sync=full (an
# fsync per acknowledged change: safe against a power loss), state on disk,
# in the same run, and prints both rates and their ratio.
#
# Environment: N, VDCFS, MKINSTANCES.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-${N:-2000}}
VDCFS=${VDCFS:-build/vdcfs}
MKINSTANCES=${MKINSTANCES:-build/mkinstances}
work=$(mktemp -d /var/tmp/vdcfs-sync.XXXXXX)
pids=()

cleanup() {
	local m p
	for m in "$work"/mnt-*; do
		[ -d "$m" ] && mountpoint -q "$m" && fusermount3 -u "$m" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	rm -rf --one-file-system "$work"
}
trap cleanup EXIT

# rate MODE: instances per second for N creations with sync=MODE.
rate() {
	local mode=$1 mnt=$work/mnt-$1 st=$work/state-$1 out
	mkdir -p "$mnt"
	"$VDCFS" -f -o "state=$st,sync=$mode" "$mnt" &
	pids+=($!)
	for _ in $(seq 1 100); do
		mountpoint -q "$mnt" && break
		sleep 0.05
	done
	out=$("$MKINSTANCES" "$mnt/instances" "$N")
	fusermount3 -u "$mnt"
	echo "$out" | sed -n 's/.* \([0-9][0-9]*\) inst\/s$/\1/p'
}

normal=$(rate normal)
full=$(rate full)
echo "sync: N=$N; sync=normal $normal inst/s, sync=full $full inst/s, full/normal $(awk -v a="$full" -v b="$normal" 'BEGIN { printf "%.2f", a / b }')"
